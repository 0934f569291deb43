"""Rosters as villages keep them: groups written every way, footers under the table, no address column.

Each test writes a real .xlsx with openpyxl and reads it back through the importer.
"""
from __future__ import annotations

import datetime as dt

import pytest

from gongzhi.registry import services as registry_services
from gongzhi.registry.models import Household
from gongzhi.roster import parsing, services

from .conftest import pid, xlsx_bytes

HEADER = ["户号", "所属村组", "姓名", "身份证号", "与户主关系"]


@pytest.fixture
def groups(world):
    """五一村 already has 五一村一组; add 第二村民小组 and 十一组 the way other villages name them."""
    village = world.regions["A1"]
    second = registry_services.region_create(actor=world.system, code="610921100201002", name="第二村民小组",
                                             kind="villager_group", parent=village)
    eleventh = registry_services.region_create(actor=world.system, code="610921100201011", name="十一组",
                                               kind="villager_group", parent=village)
    return {1: world.regions["A1g1"], 2: second, 11: eleventh}


def run(world, user, rows, **kwargs):
    content = xlsx_bytes(rows, **kwargs)
    batch = services.roster_batch_create(actor=user, village=world.regions["A1"], kind="households",
                                         filename="五一村花名册.xlsx", content=content)
    return batch


def heads(n, start=40):
    return [pid(dt.date(1950 + i, 3, 4), start + 2 * i) for i in range(n)]


@pytest.mark.parametrize("text, number", [
    ("1组", 1), ("一组", 1), ("01组", 1), ("第一村民小组", 1), ("新坪村一组", 1), ("新坪一组", 1),
    ("第1组", 1), ("十一组", 11), ("11组", 11), ("二十三组", 23), ("一队", 1), (3.0, 3),
])
def test_group_numbers_as_villages_write_them(text, number):
    assert parsing.villager_group_number(text, "新坪村") == number


@pytest.mark.parametrize("text", ["新坪村", "五一村3组12号", "组", "某某", "第一网格"])
def test_what_is_not_a_group_number(text):
    assert parsing.villager_group_number(text, "新坪村") is None


def test_every_spelling_of_a_group_imports_into_the_same_group(world, secretary, groups):
    ids = heads(9)
    spellings = ["1组", "一组", "五一村一组", "第一村民小组", "01组", "二组", "2组", "十一组", "五一村11组"]
    expected = [1, 1, 1, 1, 1, 2, 2, 11, 11]
    rows = [["五一村户籍花名册"] + [None] * 4, HEADER]
    rows += [[f"G-{i}", spelling, f"户主{i}", ids[i], "户主"] for i, spelling in enumerate(spellings)]
    batch = run(world, secretary, rows, merges=("A1:E1",))
    assert batch.report["errors"] == []
    services.roster_import(actor=secretary, batch=batch)
    for i, number in enumerate(expected):
        household = Household.objects.get(code=f"G-{i}")
        assert household.region_id == groups[number].pk, spellings[i]


def test_footers_under_the_table_are_skipped_and_reported(world, secretary, groups):
    ids = heads(2)
    rows = [
        ["户号", "家庭住址", "所属村组", "姓名", "身份证号", "与户主关系"],
        ["F-1", "五一村一组3号", "1组", "甲", ids[0], "户主"],
        ["F-2", "五一村二组5号", "2组", "乙", ids[1], "户主"],
        [None] * 6,
        [3, "合计", None, "2户2人", None, None],
        ["填表人：王会计", None, None, "审核：李书记", None, "2024年3月1日"],
        ["制表日期：2024年3月1日", None, None, None, None, None],
        ["填表人：王会计　　审核：李书记　　（村委会盖章）", None, None, None, None, None],  # merged over the row
    ]
    batch = run(world, secretary, rows, merges=("A8:F8",))
    report = batch.report
    assert report["errors"] == [] and report["rows_read"] == 2
    assert [(s["row"], s["reason"]) for s in report["skipped_lines"]] == [
        (5, "合计行，不是住户数据"),
        (6, "表尾签字栏（填表人、审核人、日期等），不是住户数据"),
        (7, "表尾签字栏（填表人、审核人、日期等），不是住户数据"),
        (8, "表尾签字栏（填表人、审核人、日期等），不是住户数据"),
    ]
    assert "审核：李书记" in report["skipped_lines"][1]["text"]
    services.roster_import(actor=secretary, batch=batch)
    assert set(Household.objects.filter(code__startswith="F-").values_list("code", flat=True)) == {"F-1", "F-2"}


def test_the_report_page_lists_the_footers(world, secretary, groups, login):
    ids = heads(1)
    rows = [HEADER, ["P-1", "1组", "甲", ids[0], "户主"], ["填表人：王会计", None, "审核：李书记", None, None]]
    batch = run(world, secretary, rows)
    page = login(secretary).get(f"/roster/batches/{batch.pk}/").content.decode()
    assert "表尾签字栏" in page and "住址暂用所属村民小组名称" in page


def test_a_roster_without_an_address_column_imports_with_the_group_as_address(world, secretary, groups):
    ids = heads(3)
    existing = world.households["A1-1"]
    address_before = existing.address
    rows = [
        HEADER,
        ["N-1", "一组", "甲", ids[0], "户主"],
        ["N-1", None, "甲妻", ids[1], "妻子"],
        ["N-2", "第二村民小组", "乙", ids[2], "户主"],
    ]
    batch = run(world, secretary, rows, merges=("B2:B3",))
    report = batch.report
    assert report["errors"] == []
    assert report["notes"] == ["文件没有“家庭住址”列：2户新建住户的住址暂用所属村民小组名称（如“五一村一组”），"
                               "已登记住户的住址保持不变；导入后请补充门牌号。"]
    services.roster_import(actor=secretary, batch=batch)
    assert Household.objects.get(code="N-1").address == "五一村一组"
    assert Household.objects.get(code="N-2").address == "五一村第二村民小组"
    existing.refresh_from_db()
    assert existing.address == address_before


def test_without_address_or_group_a_new_household_is_refused_with_the_reason(world, secretary, groups):
    ids = heads(2)
    rows = [HEADER, ["M-1", "", "甲", ids[0], "户主"], ["M-2", "1组", "乙", ids[1], "户主"]]
    report = run(world, secretary, rows).report
    assert [(e["row"], e["messages"]) for e in report["errors"]] == [
        (2, ["文件没有“家庭住址”列：新建住户须填写所属村组（住址暂用村民小组名称）"])]


def test_two_groups_with_the_same_number_are_ambiguous_but_codes_still_work(world, secretary, groups):
    twin = registry_services.region_create(actor=world.system, code="610921100201022", name="二组",
                                           kind="villager_group", parent=world.regions["A1"])
    ids = heads(2)
    rows = [HEADER, ["T-1", "2组", "甲", ids[0], "户主"], ["T-2", twin.code, "乙", ids[1], "户主"]]
    report = run(world, secretary, rows).report
    assert [(e["row"], e["messages"]) for e in report["errors"]] == [
        (2, ["所属村组“2组”有重名，请填写村民小组的区划代码"])]
