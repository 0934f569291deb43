"""Helpers for roster tests: real .xlsx/.csv files built with openpyxl / csv, valid ID numbers."""
from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from openpyxl import Workbook, load_workbook

from gongzhi.core.idcard import check_char, make_id_number


def pid(birth: dt.date, seq: int, male: bool = True) -> str:
    """A valid ID number in 汉阴县 (610921). Tests use birth dates the world does not use."""
    return make_id_number("610921", birth, seq, male)


def pid_ending_in_x(birth: dt.date) -> str:
    for seq in range(1, 500):
        number = make_id_number("610921", birth, seq, male=False)
        if number.endswith("X"):
            return number
    raise AssertionError("no X check digit found")


def with_bad_check(number: str) -> str:
    wrong = "0" if number[-1] != "0" else "1"
    return number[:17] + wrong


def impossible_birth(seq: int = 123) -> str:
    first17 = f"61092119800230{seq:03d}"
    return first17 + check_char(first17)


def fullwidth(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def xlsx_bytes(rows: list[list], merges: tuple[str, ...] = ()) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    for cell_range in merges:
        sheet.merge_cells(cell_range)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def csv_bytes(rows: list[list], encoding: str = "utf-8-sig") -> bytes:
    buffer = io.StringIO(newline="")
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue().encode(encoding)


def read_xlsx(content: bytes) -> list[list]:
    sheet = load_workbook(io.BytesIO(content)).active
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def read_csv(content: bytes) -> list[list[str]]:
    assert content.startswith(b"\xef\xbb\xbf"), "exported CSV carries a BOM for Excel"
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"), newline="")))


@pytest.fixture
def secretary(world):
    return world.user("village_secretary_a1")
