"""The holiday table's data: reading it from a file or pasted lines, and from ``chinese_calendar``.

Nothing here touches the database (the service that stores a year is
``gongzhi.core.services.workday_calendar_load``). One line per day that is not what its weekday
says::

    2027-01-01,holiday,元旦
    2027-02-20,adjusted_workday,春节

* the kind may also be written in Chinese: 假/休/假日/放假/节假日 for a holiday, 班/上班/调休上班/补班/
  工作日 for a make-up working day;
* blank lines and lines starting with ``#`` are comments; a first line ``date,kind,name`` (or
  ``日期,类型,名称``) is a header; commas, tabs or Chinese commas separate the fields;
* an .xlsx file holds the same three columns on its first sheet.

A make-up working day is always a Saturday or a Sunday (that is what "make-up" means); a line that
puts one on a weekday is refused, since it is almost certainly a typo in the date.
"""
from __future__ import annotations

import datetime as dt
import io
import re
import warnings
from dataclasses import dataclass, field

HOLIDAY = "holiday"
ADJUSTED_WORKDAY = "adjusted_workday"

KIND_WORDS = {
    "holiday": HOLIDAY, "假": HOLIDAY, "休": HOLIDAY, "假日": HOLIDAY, "放假": HOLIDAY, "节假日": HOLIDAY,
    "休息": HOLIDAY, "h": HOLIDAY,
    "adjusted_workday": ADJUSTED_WORKDAY, "workday": ADJUSTED_WORKDAY, "班": ADJUSTED_WORKDAY,
    "上班": ADJUSTED_WORKDAY, "调休上班": ADJUSTED_WORKDAY, "补班": ADJUSTED_WORKDAY, "工作日": ADJUSTED_WORKDAY,
    "w": ADJUSTED_WORKDAY,
}
HEADER_WORDS = {"date", "日期"}
MIN_YEAR, MAX_YEAR = 2000, 2100

# chinese_calendar names its holidays in English; the table keeps the Chinese name.
LIBRARY_NAMES = {
    "New Year's Day": "元旦", "Spring Festival": "春节", "Tomb-sweeping Day": "清明节", "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节", "National Day": "国庆节", "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "中国人民抗日战争暨世界反法西斯战争胜利70周年纪念日",
}


class CalendarFileError(ValueError):
    """The input cannot be loaded. ``errors`` holds one Chinese message per bad line."""

    def __init__(self, errors: list[str]):
        super().__init__("；".join(errors))
        self.errors = errors


@dataclass(frozen=True)
class Day:
    date: dt.date
    kind: str
    name: str = ""


@dataclass
class ParsedCalendar:
    years: dict[int, list[Day]] = field(default_factory=dict)

    def add(self, day: Day) -> None:
        self.years.setdefault(day.date.year, []).append(day)


_DATE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")


def _parse_date(value) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    match = _DATE.match(str(value or "").strip())
    if not match:
        return None
    try:
        return dt.date(*(int(g) for g in match.groups()))
    except ValueError:
        return None


def parse_rows(rows: list[tuple[int, list]]) -> ParsedCalendar:
    """[(line number, [date, kind, name])] → the days by year, or ``CalendarFileError``."""
    parsed, errors, seen = ParsedCalendar(), [], {}
    for number, cells in rows:
        cells = [("" if c is None else c) for c in cells]
        while cells and isinstance(cells[-1], str) and not cells[-1].strip():
            cells.pop()
        if not cells or (isinstance(cells[0], str) and (not cells[0].strip() or cells[0].lstrip().startswith("#"))):
            continue
        if isinstance(cells[0], str) and cells[0].strip().lower() in HEADER_WORDS:
            continue
        if len(cells) < 2:
            errors.append(f"第{number}行：应为“日期,类型,名称”三项")
            continue
        day = _parse_date(cells[0])
        if day is None:
            errors.append(f"第{number}行：日期“{cells[0]}”无法识别（应写成2027-01-01）")
            continue
        if not MIN_YEAR <= day.year <= MAX_YEAR:
            errors.append(f"第{number}行：年份{day.year}超出范围")
            continue
        kind = KIND_WORDS.get(str(cells[1]).strip().lower())
        if kind is None:
            errors.append(f"第{number}行：类型“{cells[1]}”无法识别（应为 holiday（放假）或 adjusted_workday（调休上班））")
            continue
        if kind == ADJUSTED_WORKDAY and day.weekday() < 5:
            errors.append(f"第{number}行：{day} 是工作日（星期{'一二三四五'[day.weekday()]}），不能是调休上班日")
            continue
        if day in seen:
            errors.append(f"第{number}行：{day} 与第{seen[day]}行重复")
            continue
        seen[day] = number
        name = str(cells[2]).strip()[:60] if len(cells) > 2 else ""
        parsed.add(Day(day, kind, name))
    if errors:
        raise CalendarFileError(errors)
    if not parsed.years:
        raise CalendarFileError(["没有可导入的日期"])
    return parsed


def parse_text(text: str) -> ParsedCalendar:
    rows = []
    for number, line in enumerate(text.lstrip("\ufeff").splitlines(), start=1):
        rows.append((number, [part.strip() for part in re.split(r"[,\t，;；]", line)]))
    return parse_rows(rows)


def parse_file(content: bytes, filename: str) -> ParsedCalendar:
    if content[:4] == b"PK\x03\x04" or filename.lower().endswith((".xlsx", ".xlsm")):
        from openpyxl import load_workbook

        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                sheet = load_workbook(io.BytesIO(content), read_only=True, data_only=True).worksheets[0]
            rows = [(n, list(values)[:3]) for n, values in enumerate(sheet.iter_rows(values_only=True), start=1)]
        except Exception:  # openpyxl raises many kinds of errors on a damaged file
            raise CalendarFileError(["无法读取该文件：它不是有效的 .xlsx 文件"]) from None
        return parse_rows(rows)
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return parse_text(content.decode(encoding))
        except UnicodeDecodeError:
            continue
    raise CalendarFileError(["无法识别文件编码：请另存为 UTF-8 编码的 .csv 或 .xlsx"])


def library_years() -> dict[int, list[Day]]:
    """Every year ``chinese_calendar`` knows, as days of the table."""
    from chinese_calendar.constants import holidays, workdays

    parsed = ParsedCalendar()
    for source, kind in ((holidays, HOLIDAY), (workdays, ADJUSTED_WORKDAY)):
        for day, name in source.items():
            parsed.add(Day(day, kind, LIBRARY_NAMES.get(name, name)))
    return {year: sorted(days, key=lambda d: d.date) for year, days in sorted(parsed.years.items())}


def library_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"chinesecalendar {version('chinesecalendar')}"
    except PackageNotFoundError:  # pragma: no cover
        return "chinesecalendar"
