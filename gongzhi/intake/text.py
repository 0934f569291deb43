"""Pure helpers for untrusted text: cleaning, phone numbers, summaries and similarity.

Hostile input is *stored as text and escaped on output* (templates autoescape, JSON and XML
writers escape), so ``<script>`` is harmless; what would break the database or XML — NUL and
other control characters, lone surrogates — is removed here, before anything is validated.
"""
from __future__ import annotations

import math
import re
import unicodedata

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_SPACES = re.compile(r"[ \t\u3000]+")
_PHONE_JUNK = re.compile(r"[\s\-()（）]")

PHONE_IN_TEXT = re.compile(r"(?<!\d)(1[3-9]\d)(\d{4})(\d{4})(?!\d)")
ID_IN_TEXT = re.compile(r"(?<![0-9A-Za-z])(\d{6})(\d{8})(\d{3}[\dXx])(?![0-9A-Za-z])")


def clean(value, *, multiline: bool = False) -> str:
    """Untrusted text → a safe str: NFC, no control characters or lone surrogates, trimmed."""
    if value is None:
        return ""
    text = unicodedata.normalize("NFC", str(value))
    text = _SURROGATE.sub("", _CONTROL.sub("", text))
    if multiline:
        lines = [_SPACES.sub(" ", line).strip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
        text = "\n".join(lines)
        text = re.sub(r"\n{3,}", "\n\n", text)
    else:
        text = _SPACES.sub(" ", text.replace("\r", " ").replace("\n", " "))
    return text.strip()


def normalize_phone(raw: str) -> str:
    """'+86 138-1234-5678' → '13812345678'; landlines keep their dash ('0915-1234567')."""
    text = clean(raw)
    if not text:
        return ""
    compact = _PHONE_JUNK.sub("", text)
    if compact.startswith("+86"):
        compact = compact[3:]
    elif compact.startswith("0086"):
        compact = compact[4:]
    if re.fullmatch(r"0\d{9,11}", compact) and not compact.startswith("01"):
        area = 3 if compact[1] in "12" else 4
        return f"{compact[:area]}-{compact[area:]}"
    return compact


def summary(description: str, limit: int = 30) -> str:
    """A title from the first line of a description."""
    first = next((line.strip() for line in description.splitlines() if line.strip()), "")
    return first if len(first) <= limit else first[: limit - 1] + "…"


def mask_personal(text: str) -> str:
    """Mask mobile numbers and ID numbers inside free text (for public output)."""
    text = PHONE_IN_TEXT.sub(lambda m: f"{m.group(1)}****{m.group(3)}", text)
    return ID_IN_TEXT.sub(lambda m: f"{m.group(1)}********{m.group(3)[-4:]}", text)


# ---------------------------------------------------------------------------------------------
# similarity: character bigrams work for Chinese (no word segmentation needed) and for Latin text


_NOT_WORDY = re.compile(r"[\W_]+", re.UNICODE)


def bigrams(text: str) -> set[str]:
    compact = _NOT_WORDY.sub("", (text or "").lower())
    if len(compact) < 2:
        return {compact} if compact else set()
    return {compact[i:i + 2] for i in range(len(compact) - 1)}


def similarity(a: str | set, b: str | set) -> float:
    """Dice coefficient of the two texts' character bigrams, 0 … 1."""
    x = a if isinstance(a, set) else bigrams(a)
    y = b if isinstance(b, set) else bigrams(b)
    if not x or not y:
        return 0.0
    return 2 * len(x & y) / (len(x) + len(y))


def distance_m(lat1, lon1, lat2, lon2) -> float:
    """Great-circle distance in metres (haversine)."""
    p1, p2 = math.radians(float(lat1)), math.radians(float(lat2))
    dp, dl = p2 - p1, math.radians(float(lon2) - float(lon1))
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6_371_000 * math.asin(min(1.0, math.sqrt(h)))


def group_code(code: str) -> str:
    """'ABCDEFGHJKLM' → 'ABCD EFGH JKLM' (easier to read aloud and to copy)."""
    return " ".join(code[i:i + 4] for i in range(0, len(code), 4))
