"""Writing a roster table to .xlsx or .csv: a title row, the header row, then one row per record.

.xlsx: text columns (ID numbers, phones, codes) are stored as text cells formatted "@", so Excel
neither rounds them nor shows them in scientific notation; dates are real date cells.
.csv: UTF-8 with a BOM, which Excel on Chinese Windows opens without garbling.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

from .layout import Column

CONTENT_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
}


def _cell(value):
    if value is None:
        return ""
    return value


def write_table(fmt: str, *, title: str, columns: tuple[Column, ...], rows: list[dict]) -> bytes:
    if fmt == "xlsx":
        return _write_xlsx(title, columns, rows)
    if fmt == "csv":
        return _write_csv(title, columns, rows)
    raise ValueError(f"unknown format {fmt!r}")


def _write_csv(title, columns, rows) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow([title])
    writer.writerow([c.header for c in columns])
    for row in rows:
        out = []
        for column in columns:
            value = _cell(row.get(column.key))
            if isinstance(value, dt.date):
                value = value.isoformat()
            out.append(str(value))
        writer.writerow(out)
    return buffer.getvalue().encode("utf-8-sig")


def _write_xlsx(title, columns, rows) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "花名册"
    sheet.append([title])
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(columns))
    sheet.cell(1, 1).font = Font(bold=True, size=13)
    sheet.cell(1, 1).alignment = Alignment(horizontal="center")
    sheet.append([c.header for c in columns])
    for cell in sheet[2]:
        cell.font = Font(bold=True)
    for row in rows:
        values = []
        for column in columns:
            value = _cell(row.get(column.key))
            if column.text:
                value = str(value)
            elif isinstance(value, Decimal):
                value = int(value) if value == value.to_integral_value() else float(value)
            values.append(value)
        sheet.append(values)
    for index, column in enumerate(columns, start=1):
        letter = get_column_letter(index)
        sheet.column_dimensions[letter].width = 20 if column.text or column.key in ("address", "peaceful_years") else 12
        for cell in sheet[letter][2:]:
            if column.text:
                cell.number_format = "@"
            elif isinstance(cell.value, (dt.date, dt.datetime)):
                cell.number_format = "yyyy-mm-dd"
    sheet.freeze_panes = "A3"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
