"""Reading a roster file into rows, and turning messy cell values into clean ones.

Nothing here touches the database. Every problem with the *file* raises ``RosterFileError``;
every problem with one *cell* raises ``CellError``. Both carry a message in Chinese that is shown
to the user as is.

What the reader tolerates (a village's real spreadsheet):

* .xlsx (the first worksheet that has a recognisable header row) and .csv in UTF-8 with or
  without BOM, or GB18030/GBK as Chinese Excel saves it; comma, tab or semicolon separated;
* title rows above the header: the header row is the row among the first ``HEADER_SEARCH_ROWS``
  that matches the most known headers;
* merged cells in .xlsx (a household's address merged over its members' rows): every cell of a
  merged range reads the range's value;
* blank rows anywhere, rows with nothing in the known columns (a template's pre-numbered empty
  rows), and footer lines under the table (填表人：… 审核：…, 合计, 制表日期：…) — footers are not
  data: they are left out and listed in the report with the reason (``Table.skipped``);
* full-width digits and letters, stray and full-width spaces, lowercase x in ID numbers, phones
  and ID numbers that Excel stored as numbers or in scientific notation, dates as Excel dates,
  Excel serial numbers or text (2024-01-02, 2024/1/2, 2024.1.2, 2024年1月2日, 20240102).

Row numbers are the spreadsheet's own (1-based, counting title rows and blank rows), so a
report's "第12行" is the row the user sees in Excel.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import re
import unicodedata
import warnings
import zipfile
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from gongzhi.core.idcard import normalize_id_number

from .layout import (
    CHINESE_NUMERALS, LABELS, LAYOUTS, LEFT_BEHIND_BY_WORD, POVERTY_BY_WORD, RELATION_BY_WORD, synonym_index,
    header_key,
)

HEADER_SEARCH_ROWS = 10
MAX_DATA_ROWS = 20_000
# A zip bomb guard: an .xlsx whose parts unpack to more than this is refused before parsing.
MAX_XLSX_UNPACKED_BYTES = 80 * 1024 * 1024
SUPPORTED_EXTENSIONS = (".xlsx", ".xlsm", ".csv", ".txt")


class RosterFileError(ValueError):
    """The file as a whole cannot be used. The message is Chinese, for the user."""


class CellError(ValueError):
    """One cell's value is wrong. The message is Chinese, for the user."""


@dataclass
class Row:
    number: int  # the spreadsheet's row number
    values: dict[str, object]  # canonical column key → raw cell value (absent columns missing)


@dataclass
class Table:
    kind: str
    sheet: str
    header_row: int
    columns: list[str]  # canonical keys present, in file order
    ignored_headers: list[str]
    rows: list[Row] = field(default_factory=list)
    skipped: list[dict] = field(default_factory=list)  # [{"row", "text", "reason"}] footers left out


# ---------------------------------------------------------------------------------------------
# files → raw rows


def _raw_rows_xlsx(content: bytes) -> list[tuple[str, list[list[object]]]]:
    from openpyxl import load_workbook

    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError):
        raise RosterFileError("无法读取该文件：它不是有效的 .xlsx 文件（可能已损坏，或扩展名与内容不符）") from None
    if unpacked > MAX_XLSX_UNPACKED_BYTES:
        raise RosterFileError("文件内容过大，请按村（社区）拆分后再导入")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl warns about styles and extensions it ignores
            workbook = load_workbook(io.BytesIO(content), data_only=True)
    except Exception:  # openpyxl raises many kinds of errors on a damaged or foreign file
        raise RosterFileError("无法读取该文件：它不是有效的 .xlsx 文件（可能已损坏，或扩展名与内容不符）") from None
    return [(sheet.title, _sheet_rows(sheet)) for sheet in workbook.worksheets if hasattr(sheet, "merged_cells")]


def _sheet_rows(sheet) -> list[list[object]]:
    """The sheet's cell values as rows, from row 1 to the last row that holds a value.

    Built from the cells the file actually contains: a sheet whose recorded size is inflated
    (styles applied down to row 1,048,576) costs nothing, and ``iter_rows`` would create every
    empty cell of that range.
    """
    values = {key: cell.value for key, cell in sheet._cells.items() if cell.value is not None}
    for merged in sheet.merged_cells.ranges:
        value = values.get((merged.min_row, merged.min_col))
        if value is None:
            continue
        for r in range(merged.min_row, min(merged.max_row, merged.min_row + MAX_DATA_ROWS) + 1):
            for c in range(merged.min_col, min(merged.max_col, merged.min_col + 200) + 1):
                values[(r, c)] = value
    if not values:
        return []
    if len({r for r, _c in values}) > MAX_DATA_ROWS + HEADER_SEARCH_ROWS:
        raise RosterFileError(f"文件行数过多（超过{MAX_DATA_ROWS}行），请按村（社区）拆分后再导入")
    last_row = max(r for r, _c in values)
    last_col = min(max(c for _r, c in values), 200)
    rows = [[None] * last_col for _ in range(last_row)]
    for (r, c), value in values.items():
        if c <= last_col:
            rows[r - 1][c - 1] = value
    return rows


def _decode_csv(content: bytes) -> str:
    if content.startswith(b"\xef\xbb\xbf"):
        content = content[3:]
    for encoding in ("utf-8", "gb18030"):
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise RosterFileError("无法识别文件编码：请用 Excel 另存为 .xlsx，或另存为 UTF-8 / GBK 编码的 .csv")


def _raw_rows_csv(content: bytes) -> list[tuple[str, list[list[object]]]]:
    text = _decode_csv(content)
    if "\x00" in text:
        raise RosterFileError("无法读取该文件：它不是文本格式的 .csv 文件")
    sample = "\n".join(text.splitlines()[:HEADER_SEARCH_ROWS + 5])
    delimiter = max(",\t;", key=sample.count) if sample else ","
    if sample.count(delimiter) == 0:
        delimiter = ","
    try:
        rows = []
        for record in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter):
            rows.append(record)
            if len(rows) > MAX_DATA_ROWS + HEADER_SEARCH_ROWS:
                raise RosterFileError(f"文件行数过多（超过{MAX_DATA_ROWS}行），请按村（社区）拆分后再导入")
    except csv.Error:
        raise RosterFileError("无法读取该文件：.csv 格式有误（引号不配对等）") from None
    return [("csv", rows)]


def read_raw_sheets(content: bytes, filename: str) -> list[tuple[str, list[list[object]]]]:
    """[(sheet name, rows of cell values)] of an .xlsx or .csv file."""
    name = (filename or "").lower()
    if not content:
        raise RosterFileError("文件是空的")
    ole = content[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # old .xls, or an .xlsx with a password
    if ole and name.endswith((".xlsx", ".xlsm")):
        raise RosterFileError("该文件设置了打开密码，或其实是旧版 .xls 文件：请取消密码，在 Excel 中“另存为” .xlsx 后再导入")
    if name.endswith(".xls") or ole:
        raise RosterFileError("不支持旧版 Excel（.xls）文件，请在 Excel 中“另存为” .xlsx 或 .csv 后再导入")
    if not name.endswith(SUPPORTED_EXTENSIONS):
        raise RosterFileError("只支持 .xlsx 和 .csv 文件")
    if content[:4] == b"PK\x03\x04":
        return _raw_rows_xlsx(content)
    if name.endswith((".xlsx", ".xlsm")):
        raise RosterFileError("无法读取该文件：它不是有效的 .xlsx 文件（可能已损坏，或扩展名与内容不符）")
    return _raw_rows_csv(content)


# ---------------------------------------------------------------------------------------------
# raw rows → table


def _is_blank(value) -> bool:
    return value is None or (isinstance(value, str) and not clean_text(value))


def _find_header(rows: list[list[object]], index: dict[str, str]) -> tuple[int, int]:
    """(row index, number of known headers) of the best header row among the first rows."""
    best = (-1, 0)
    for i, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        found = {index[key] for key in (header_key(cell) for cell in row) if key in index}
        if len(found) > best[1]:
            best = (i, len(found))
    return best


def read_table(content: bytes, filename: str, kind: str) -> Table:
    sheets = read_raw_sheets(content, filename)
    index = synonym_index(kind)
    for sheet_name, rows in sheets:
        header_at, score = _find_header(rows, index)
        if score >= 2:
            break
    else:
        if not any(any(not _is_blank(c) for c in row) for _name, rows in sheets for row in rows):
            raise RosterFileError("文件是空的")
        other = "grids" if kind == "households" else "households"
        other_index = synonym_index(other)
        if any(_find_header(rows, other_index)[1] >= 3 for _name, rows in sheets):
            what = "网格花名册" if other == "grids" else "户籍花名册"
            raise RosterFileError(f"这似乎是一份{what}，请确认导入类型是否选对")
        expected = "、".join(c.header for c in LAYOUTS[kind] if c.required)
        raise RosterFileError(f"找不到表头：前{HEADER_SEARCH_ROWS}行中没有识别出列名（应包含：{expected}）")

    header = rows[header_at]
    positions: dict[str, int] = {}
    ignored: list[str] = []
    for col, cell in enumerate(header):
        if _is_blank(cell):
            continue
        key = index.get(header_key(cell))
        if key is None or key in positions:
            ignored.append(clean_text(cell))
        else:
            positions[key] = col
    missing = [c.header for c in LAYOUTS[kind] if c.required and c.key not in positions]
    if missing:
        raise RosterFileError(f"缺少必需的列：{'、'.join(missing)}（表头在第{header_at + 1}行）")

    table = Table(kind=kind, sheet=sheet_name, header_row=header_at + 1,
                  columns=sorted(positions, key=positions.get), ignored_headers=ignored)
    for offset, raw in enumerate(rows[header_at + 1:], start=header_at + 2):
        filled = [c for c in raw if not _is_blank(c)]
        if not filled:
            continue
        values = {key: (raw[col] if col < len(raw) else None) for key, col in positions.items()}
        reason = footer_reason(filled)
        if reason:
            table.skipped.append({"row": offset, "text": "　".join(clean_text(c) for c in filled)[:120],
                                  "reason": reason})
            continue
        if all(_is_blank(v) for v in values.values()):
            continue  # nothing in the known columns: a pre-numbered empty row (序号 only)
        table.rows.append(Row(number=offset, values=values))
    if not table.rows:
        raise RosterFileError(f"文件中没有数据行（表头在第{table.header_row}行）")
    return table


# Footers under a village's table: who filled it in and who checked it (填表人：张三　审核：李四),
# when, stamps, and the totals row. A data row never starts with one of these words.
_SIGNATURE = re.compile(r"^(填表人?|制表人?|填报人?|统计人?|审核人?|审批人?|复核人?|负责人|主管|经办人|村支书|村主任|"
                        r"签字|签名|盖章|（?公章）?|填表日期|制表日期|填报日期|统计日期|日期)\s*[:：]")
_TOTAL = re.compile(r"^(合\s*计|总\s*计|小\s*计|共\s*计)")
_NOTE = re.compile(r"^(备注|说明|注)\s*[:：]")


def footer_reason(filled: list) -> str:
    """Why a row under the header is a footer, not data ("" when it is data)."""
    texts = [clean_text(c) for c in filled if isinstance(c, str)]
    if not texts:
        return ""
    first = texts[0]  # the first words of the row (a 序号 number before 合计 does not hide it)
    if first and _TOTAL.match(first):
        return "合计行，不是住户数据"
    signatures = [t for t in texts if _SIGNATURE.match(t)]
    if signatures and (len(signatures) == len(texts) or _SIGNATURE.match(first)):
        return "表尾签字栏（填表人、审核人、日期等），不是住户数据"
    if len(filled) == 1 and first and _NOTE.match(first):
        return "表尾备注，不是住户数据"
    return ""


# ---------------------------------------------------------------------------------------------
# villager groups: 1组, 一组, 01组, 十一组, 新坪村一组, 第一村民小组 are one group

_DIGITS = {"〇": 0, "零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8,
           "九": 9, "壹": 1, "贰": 2, "叁": 3, "肆": 4, "伍": 5, "陆": 6, "柒": 7, "捌": 8, "玖": 9}
_GROUP = re.compile(r"^第?([0-9]+|[〇零一二两三四五六七八九十壹贰叁肆伍陆柒捌玖拾]+)"
                    r"(?:村民小组|村民组|小组|组|队|社)?$")


def chinese_number(text: str) -> int | None:
    """一 → 1, 十一 → 11, 二十 → 20, 二十三 → 23, 一〇 → 10 (up to 99); None if not a number."""
    text = text.replace("拾", "十")
    if not text or any(c not in _DIGITS and c != "十" for c in text):
        return None
    if "十" not in text:
        value = 0
        for c in text:
            value = value * 10 + _DIGITS[c]
        return value or None
    tens, _ten, ones = text.partition("十")
    if "十" in ones or len(tens) > 1 or len(ones) > 1:
        return None
    return (_DIGITS[tens] if tens else 1) * 10 + (_DIGITS[ones] if ones else 0)


def _village_prefixes(village_name: str) -> list[str]:
    name = clean_code(village_name)
    short = re.sub(r"(村民委员会|居民委员会|村委会|居委会|社区|村)$", "", name)
    return sorted({p for p in (name, short, short + "村") if p}, key=len, reverse=True)


def villager_group_number(value, village_name: str = "") -> int | None:
    """The number of a villager group as villages write it; None if the text is not one."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return int(value) if float(value).is_integer() and value > 0 else None
    text = clean_code(value)
    for prefix in _village_prefixes(village_name) if village_name else ():
        if text.startswith(prefix) and len(text) > len(prefix):
            text = text[len(prefix):]
            break
    match = _GROUP.match(text)
    if not match:
        return None
    number = match.group(1)
    result = int(number) if number.isdigit() else chinese_number(number)
    return result if result and result > 0 else None


# ---------------------------------------------------------------------------------------------
# cell values


# Full-width digits, letters and spaces; not full-width punctuation (（） in an address stay).
_FULLWIDTH = {0x3000: 0x20, **{c: c - 0xFEE0 for r in ((0xFF10, 0xFF1A), (0xFF21, 0xFF3B), (0xFF41, 0xFF5B))
                                 for c in range(*r)}}


def clean_text(value) -> str:
    """Free text (names, addresses): full-width ASCII to half-width, spaces trimmed and collapsed.

    Chinese punctuation such as （） and 、 is left alone: it is part of an address.
    """
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, dt.datetime):
        value = value.date()
    text = str(value).translate(_FULLWIDTH)
    return re.sub(r"\s+", " ", text).strip()


def clean_code(value) -> str:
    """Codes and short words: NFKC, no spaces at all, integral floats without ".0"."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(value)))


def clean_name(value) -> str:
    return re.sub(r"\s+", "", clean_text(value))


_SCIENTIFIC = re.compile(r"^[+-]?\d+(\.\d+)?[eE][+]?\d+$")


def _digits_from_number(value, what: str) -> str:
    """A number Excel stored (a numeric cell, or scientific text such as 1.38123E+10) → its digits.

    A numeric cell is exact up to 15 digits (a phone survives, an 18-digit ID number does not);
    scientific text keeps only the digits written in its mantissa.
    """
    lost = CellError(f"{what}被 Excel 存成了数字或科学计数法，后几位已丢失；请把该列设为“文本”格式后重新填写")
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise CellError(f"{what}格式不正确") from None
    if not number.is_finite() or number != number.to_integral_value() or number < 0:
        raise CellError(f"{what}格式不正确")
    digits = str(int(number))
    if isinstance(value, str):
        mantissa = re.split(r"[eE]", value)[0]
        if len(re.sub(r"\D", "", mantissa).lstrip("0")) < len(digits):
            raise lost
    elif len(digits) > 15:
        raise lost
    return digits


def parse_id_cell(value) -> str:
    """The ID number as text, ready for ``registry.services.person_facts_from_id``."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return _digits_from_number(value, "身份证号")
    text = normalize_id_number(value)
    if _SCIENTIFIC.match(text):
        return _digits_from_number(text, "身份证号")
    if "*" in text:
        raise CellError("身份证号已打码，不能用于导入（导出时没有查看完整身份证号的权限）")
    return text


def parse_phone(value) -> str:
    if value is None or (isinstance(value, str) and not value.strip()):
        return ""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        text = _digits_from_number(value, "联系电话")
    else:
        text = clean_code(value).replace("'", "")
        if _SCIENTIFIC.match(text):
            text = _digits_from_number(text, "联系电话")
        elif re.fullmatch(r"\d+\.0+", text):
            text = text.split(".")[0]
    text = text.replace("（", "(").replace("）", ")")
    text = re.sub(r"^(\+?86|\(\+?86\))-?(?=1[\d-]{10,12}$)", "", text)
    if re.fullmatch(r"1\d{2}-?\d{4}-?\d{4}", text):
        text = text.replace("-", "")
    landline = re.fullmatch(r"\(?(0\d{2,3})\)?-?(\d{7,8})", text)
    if landline:
        text = f"{landline.group(1)}-{landline.group(2)}"
    if not re.fullmatch(r"1\d{10}|0\d{2,3}-\d{7,8}", text):
        raise CellError(f"联系电话“{clean_text(value)}”格式不正确（应为11位手机号或带区号的座机号）")
    return text


_DATE_TEXT = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:\s+[\d:.]+)?$")


def parse_date(value, what: str) -> dt.date | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if 20000101 <= value <= 21001231 and float(value).is_integer():
            value = str(int(value))  # 20240102 typed as a number
        elif 1 <= value < 2958466:
            from openpyxl.utils.datetime import from_excel

            return from_excel(value).date()
        else:
            raise CellError(f"{what}“{value}”无法识别")
    text = re.sub(r"\s+", " ", unicodedata.normalize("NFKC", str(value))).strip()
    match = _DATE_TEXT.match(text) or re.fullmatch(r"(\d{4})(\d{2})(\d{2})", text)
    if not match:
        raise CellError(f"{what}“{clean_text(value)}”无法识别（应写成2024-01-02、2024/1/2或2024年1月2日）")
    try:
        return dt.date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError:
        raise CellError(f"{what}“{clean_text(value)}”不是一个存在的日期") from None


def parse_income_cell(value):
    """Income as text for ``registry.services.parse_income`` (which validates it)."""
    if value is None:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    text = clean_code(value).replace("元", "").replace("￥", "").replace("¥", "")
    if text.endswith("万"):
        try:
            return str(Decimal(text[:-1].replace(",", "")) * 10000)
        except InvalidOperation:
            return text
    return text


def parse_choice(value, vocabulary: dict[str, str], what: str, strip_prefixes: tuple[str, ...] = ()) -> str:
    text = clean_code(value)
    for prefix in strip_prefixes:
        if text.startswith(prefix) and text[len(prefix):] in vocabulary:
            text = text[len(prefix):]
    if text in vocabulary:
        return vocabulary[text]
    raise CellError(f"{what}“{clean_text(value)}”无法识别")


def parse_relation(value) -> str:
    if not clean_code(value):
        raise CellError("与户主关系不能为空")
    return parse_choice(value, RELATION_BY_WORD, "与户主关系", strip_prefixes=("之", "户主之", "户主的"))


def parse_poverty(value) -> str:
    return parse_choice(value, POVERTY_BY_WORD, "脱贫户属性")


def parse_left_behind(value) -> str:
    return parse_choice(value, LEFT_BEHIND_BY_WORD, "留守情况")


def _small_number(value) -> int | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return int(value) if float(value).is_integer() else None
    text = clean_code(value)
    for suffix in ("级网格", "级", "等"):
        if text.endswith(suffix):
            text = text[: -len(suffix)]
            break
    if re.fullmatch(r"\d+(\.0+)?", text):
        return int(float(text))
    return CHINESE_NUMERALS.get(text)


def parse_disability(value) -> int | None:
    text = clean_code(value)
    if text in ("", "无", "否", "非残疾"):
        return None
    if text.startswith("残疾"):
        text = text[2:]
    grade = _small_number(text) if not isinstance(value, (int, float)) else _small_number(value)
    if grade not in (1, 2, 3, 4):
        raise CellError(f"残疾等级“{clean_text(value)}”无法识别（应为一级至四级，或1至4）")
    return grade


def parse_grid_level(value) -> int:
    level = _small_number(value)
    if level not in (1, 2, 3):
        raise CellError(f"网格层级“{clean_text(value)}”无法识别（应为1、2、3或一级、二级、三级）")
    return level


def parse_years(value) -> list[int]:
    if value is None:
        return []
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        parts = [str(int(value))] if float(value).is_integer() else [str(value)]
    else:
        text = clean_code(value).replace("年", ",")
        if text in ("", "无", "否"):
            return []
        parts = [p for p in re.split(r"[,，、;；/|]+", text) if p]
    this_year = dt.date.today().year
    years = []
    for part in parts:
        if not re.fullmatch(r"\d{4}", part) or not 1980 <= int(part) <= this_year:
            raise CellError(f"平安家庭年份“{clean_text(value)}”格式不正确（应写成2022,2023,2024）")
        years.append(int(part))
    return sorted(set(years))


def format_years(years) -> str:
    return ",".join(str(y) for y in sorted(years or []))


def label(key: str) -> str:
    return LABELS.get(key, key)
