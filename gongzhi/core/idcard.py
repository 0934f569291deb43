"""China's 18-digit resident identity number (GB 11643-1999).

Layout: 6-digit division code, 8-digit birth date, 3-digit sequence (odd = male, even = female),
1 check character computed with ISO 7064 MOD 11-2 (``X`` stands for 10).
"""
from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
_SHAPE = re.compile(r"^\d{17}[\dX]$")


class InvalidIdNumber(ValueError):
    """Raised with a message in Chinese that can be shown to the user as is."""


@dataclass(frozen=True)
class IdFacts:
    number: str
    birth_date: dt.date
    sex: str  # "M" or "F"


def normalize_id_number(raw: str) -> str:
    """Full-width digits to ASCII, spaces dropped, lowercase x to X."""
    text = unicodedata.normalize("NFKC", str(raw or ""))
    text = re.sub(r"[\s\u3000'\"]", "", text)
    return text.upper()


def check_char(first17: str) -> str:
    total = sum(int(d) * w for d, w in zip(first17, _WEIGHTS))
    return _CHECK[total % 11]


def parse_id_number(raw: str) -> IdFacts:
    number = normalize_id_number(raw)
    if not number:
        raise InvalidIdNumber("身份证号为空")
    if len(number) != 18:
        raise InvalidIdNumber(f"身份证号应为18位，实际为{len(number)}位")
    if not _SHAPE.match(number):
        raise InvalidIdNumber("身份证号前17位须为数字，末位为数字或X")
    try:
        birth = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise InvalidIdNumber("身份证号中的出生日期不存在") from None
    if birth.year < 1880 or birth > dt.date.today():
        raise InvalidIdNumber("身份证号中的出生日期不合理")
    expected = check_char(number[:17])
    if number[17] != expected:
        raise InvalidIdNumber(f"身份证号校验位错误（应为{expected}）")
    return IdFacts(number=number, birth_date=birth, sex="M" if int(number[16]) % 2 else "F")


def make_id_number(division6: str, birth: dt.date, sequence: int, male: bool) -> str:
    """Build a valid number; used by the demo generator and tests."""
    seq = sequence % 500 * 2 + (1 if male else 0)
    first17 = f"{division6}{birth:%Y%m%d}{seq:03d}"
    return first17 + check_char(first17)
