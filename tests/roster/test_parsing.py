"""Reading messy cells and files (no database)."""
from __future__ import annotations

import datetime as dt
import io

import pytest
from openpyxl import Workbook

from gongzhi.roster import parsing
from gongzhi.roster.parsing import CellError, RosterFileError

from .conftest import csv_bytes, xlsx_bytes


@pytest.mark.parametrize("raw, expected", [
    (13812345678.0, "13812345678"),
    (13812345678, "13812345678"),
    ("1.3812345678E+10", "13812345678"),
    ("１３８ １２３４ ５６７８", "13812345678"),
    ("138-1234-5678", "13812345678"),
    ("+86 13812345678", "13812345678"),
    ("0915-5212345", "0915-5212345"),
    ("(0915)5212345", "0915-5212345"),
    ("'13812345678", "13812345678"),
    (None, ""),
    ("  ", ""),
])
def test_phones(raw, expected):
    assert parsing.parse_phone(raw) == expected


@pytest.mark.parametrize("raw, message", [
    ("1.38123E+10", "科学计数法"),
    ("12345", "格式不正确"),
    ("138123456789", "格式不正确"),
])
def test_bad_phones(raw, message):
    with pytest.raises(CellError, match=message):
        parsing.parse_phone(raw)


def test_id_numbers_stored_as_numbers_lost_their_digits():
    with pytest.raises(CellError, match="后几位已丢失"):
        parsing.parse_id_cell(6.10921198005171e17)
    with pytest.raises(CellError, match="后几位已丢失"):
        parsing.parse_id_cell("6.10921E+17")
    assert parsing.parse_id_cell(" ６１０９２１ 19800517001x ") == "61092119800517001X"


@pytest.mark.parametrize("raw, expected", [
    ("2024-01-02", dt.date(2024, 1, 2)),
    ("2024/1/2", dt.date(2024, 1, 2)),
    ("2024.1.2", dt.date(2024, 1, 2)),
    ("2024年1月2日", dt.date(2024, 1, 2)),
    ("２０２４年１月２日", dt.date(2024, 1, 2)),
    ("20240102", dt.date(2024, 1, 2)),
    (20240102, dt.date(2024, 1, 2)),
    (45293, dt.date(2024, 1, 2)),  # an Excel serial number
    (dt.datetime(2024, 1, 2, 0, 0), dt.date(2024, 1, 2)),
    ("2024-01-02 00:00:00", dt.date(2024, 1, 2)),
    ("", None),
])
def test_dates(raw, expected):
    assert parsing.parse_date(raw, "日期") == expected


def test_impossible_dates():
    with pytest.raises(CellError, match="不是一个存在的日期"):
        parsing.parse_date("2023年2月30日", "刑满释放日期")
    with pytest.raises(CellError, match="无法识别"):
        parsing.parse_date("去年", "刑满释放日期")


def test_vocabularies():
    assert [parsing.parse_relation(w) for w in ("户主", "之妻", "长女", "孙女", "外婆", "儿媳", "其他")] == [
        "head", "spouse", "child", "grandchild", "grandparent", "child_in_law", "other"]
    assert [parsing.parse_disability(v) for v in ("一级", "2", 3.0, "残疾四级", "", "无")] == [1, 2, 3, 4, None, None]
    assert parsing.parse_years("2022，2023、2024年") == [2022, 2023, 2024]
    assert parsing.parse_years(2024.0) == [2024]
    assert parsing.parse_grid_level("二级网格") == 2
    assert parsing.parse_poverty("低保") == "low_income" and parsing.parse_poverty("") == "none"
    assert parsing.parse_left_behind("留守老人") == "elderly"
    with pytest.raises(CellError, match="残疾等级"):
        parsing.parse_disability("五级")


def test_free_text_keeps_chinese_punctuation_but_not_fullwidth_digits():
    assert parsing.clean_text("  五一村（一组）１２号　 ") == "五一村（一组）12号"
    assert parsing.clean_name("王  大山") == "王大山"


def test_the_header_row_is_found_under_title_rows_and_synonyms_are_understood():
    content = xlsx_bytes([["某村花名册"], [], ["说明：请勿改动表头"],
                          ["户编号*", "住址", "姓名", "公民身份号码（必填）", "与户主的关系", "手机号码", "性别"],
                          ["H-1", "村1号", "张三", "x", "户主", "", "男"]])
    table = parsing.read_table(content, "a.xlsx", "households")
    assert table.header_row == 4 and table.ignored_headers == ["性别"]
    assert table.columns == ["household_code", "address", "name", "id_number", "relation", "phone"]
    assert [row.number for row in table.rows] == [5]


def test_a_sheet_with_an_inflated_size_is_read_quickly():
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["户号", "家庭住址", "姓名", "身份证号", "与户主关系"])
    sheet.append(["H-1", "村1号", "张三", "x", "户主"])
    sheet.cell(row=900_000, column=3).number_format = "@"  # a style far down, no value
    buffer = io.BytesIO()
    workbook.save(buffer)
    table = parsing.read_table(buffer.getvalue(), "a.xlsx", "households")
    assert len(table.rows) == 1


def test_the_first_sheet_with_a_header_is_used():
    workbook = Workbook()
    workbook.active.append(["填表说明"])
    data = workbook.create_sheet("花名册")
    data.append(["户号", "家庭住址", "姓名", "身份证号", "与户主关系"])
    data.append(["H-1", "村1号", "张三", "x", "户主"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    assert parsing.read_table(buffer.getvalue(), "a.xlsx", "households").sheet == "花名册"


def test_too_many_rows_are_refused(monkeypatch):
    monkeypatch.setattr(parsing, "MAX_DATA_ROWS", 3)
    rows = [["户号", "家庭住址", "姓名", "身份证号", "与户主关系"]] + [["H", "a", "b", "c", "户主"]] * 20
    with pytest.raises(RosterFileError, match="文件行数过多"):
        parsing.read_table(csv_bytes(rows), "a.csv", "households")
    with pytest.raises(RosterFileError, match="文件行数过多"):
        parsing.read_table(xlsx_bytes(rows), "a.xlsx", "households")
