"""Grid roster import: a grid tree with heads and workers; the checks; valid-only; re-import."""
from __future__ import annotations

import datetime as dt

from gongzhi.core.models import AuditLog
from gongzhi.registry.models import Grid
from gongzhi.roster import services

from .conftest import pid, xlsx_bytes

HEADER = ["网格编码", "网格名称", "网格层级", "上级网格编码", "所属村组", "网格长身份证号", "网格长姓名", "网格员身份证号"]


def check(world, user, rows, village="A1"):
    return services.roster_dry_run(actor=user, village=world.regions[village], kind="grids",
                                   filename="grids.xlsx", content=xlsx_bytes(rows))


def run(world, user, rows, valid_only=False):
    pending = services.roster_batch_create(actor=user, village=world.regions["A1"], kind="grids",
                                           filename="grids.xlsx", content=xlsx_bytes(rows))
    return services.roster_import(actor=user, batch=pending, valid_only=valid_only)


def test_a_grid_tree_is_created_under_an_existing_grid_with_its_people(world, secretary):
    zhang, li_qiang = world.persons["A1-1"], world.persons["party_member"]
    rows = [
        ["五一村网格花名册"],
        HEADER,
        ["A1-3", "五一村三组网格", "二级", "A1", "610921100201001", zhang.id_number, "张建国", li_qiang.id_number],
        ["A1-3-1", "三组东片", 3, "A1-3", "五一村一组", "", "", ""],
        ["A1-1", "五一村一组网格（新名）", "2", "A1", "五一村一组", "", "", ""],
    ]
    report = check(world, secretary, rows)
    assert not report.has_errors, report.errors
    assert (report.plan.grids.create, report.plan.grids.update) == (2, 1)
    assert report.changes == [{"row": 5, "what": "网格A1-1", "fields": ["网格名称"]}]

    run(world, secretary, rows)
    parent = Grid.objects.get(code="A1-3")
    child = Grid.objects.get(code="A1-3-1")
    assert parent.parent == world.grids["A1"] and parent.level == 2 and parent.region == world.regions["A1g1"]
    assert parent.head == zhang and parent.worker == li_qiang
    assert parent.path == f"{world.grids['A1'].path}{parent.pk}/"
    assert child.parent == parent and child.path == f"{parent.path}{child.pk}/" and child.level == 3
    assert (child.county_id, child.town_id, child.village_id) == (
        world.regions["C"].pk, world.regions["A"].pk, world.regions["A1"].pk)
    assert Grid.objects.get(code="A1-1").name == "五一村一组网格（新名）"
    assert AuditLog.objects.filter(object_type="registry.grid", action="create", note__contains="花名册导入").count() == 2

    # Re-import: nothing new, nothing changed, nothing duplicated.
    again = check(world, secretary, rows)
    assert (again.plan.grids.create, again.plan.grids.update, again.plan.grids.unchanged) == (0, 0, 3)
    assert Grid.objects.filter(code__startswith="A1-3").count() == 2


def test_grid_rows_are_checked_against_the_tree_and_the_scope(world, secretary):
    zhang, zhao = world.persons["A1-1"], world.persons["B1"]
    rows = [
        HEADER,
        ["A1-4", "四组网格", "二级", "A9", "", "", "", ""],                       # 2 unknown parent
        ["A1-5", "五组网格", "三级", "A1", "", "", "", ""],                       # 3 level does not fit the parent
        ["A1-2", "五一村二组网格", "一级", "", "", "", "", ""],                    # 4 existing grid, level changed
        ["A2", "月河村网格", "一级", "", "", "", "", ""],                          # 5 another village's code
        ["A1-2-1", "二组东片", "三级", "A1-2", "", "", "", ""],                   # 6 parent already has households
        ["A1-6", "六组网格", "二级", "A1", "九组", "", "", ""],                   # 7 unknown villager group
        ["A1-7", "七组网格", "二级", "A1", "", zhao.id_number, "赵春花", ""],      # 8 head outside the scope
        ["A1-8", "八组网格", "二级", "A1", "", zhang.id_number, "张三", ""],       # 9 head's name does not match
        ["A1-9", "九组网格", "五级", "A1", "", "", "", ""],                       # 10 bad level
        ["A1-4", "重复", "二级", "A1", "", "", "", ""],                            # 11 duplicate code (with row 2)
    ]
    report = check(world, secretary, rows)
    assert {e.row: e.messages for e in report.errors} == {
        2: ["网格编码在文件中重复出现（第2、11行）"],
        3: ["上级网格的层级应比本网格高一级"],
        4: ["已有网格的层级不能通过导入修改（现为2级）", "已有网格的上级网格不能通过导入修改（现为“A1”）"],
        5: ["网格编码A2已被其他村（社区）的网格使用"],
        6: ["上级网格“A1-2”已编入住户，不能再下设子网格（住户只能编入最小一级的基础网格）"],
        7: ["所属村组“九组”不是五一村或其下的村民小组"],
        8: [f"网格长身份证号{zhao.id_number[:6]}********{zhao.id_number[-4:]}未在您管辖的范围内登记"],
        9: ["网格长姓名“张三”与身份证号登记的姓名不符"],
        10: ["网格层级“五级”无法识别（应为1、2、3或一级、二级、三级）"],
        11: ["网格编码在文件中重复出现（第2、11行）"],
    }


def test_valid_only_skips_a_bad_grid_and_the_grids_below_it(world, secretary):
    rows = [
        HEADER,
        ["A1-3", "三组网格", "二级", "A1", "", "", "", "61092119800101123"],  # bad worker ID
        ["A1-3-1", "三组东片", "三级", "A1-3", "", "", "", ""],
        ["A1-4", "四组网格", "二级", "A1", "", "", "", ""],
    ]
    report = check(world, secretary, rows)
    assert [(e.row, e.messages) for e in report.errors] == [(2, ["网格员身份证号应为18位，实际为17位"])]
    assert report.valid_only.skipped_households == ["A1-3", "A1-3-1"]
    run(world, secretary, rows, valid_only=True)
    assert set(Grid.objects.filter(code__in=["A1-3", "A1-3-1", "A1-4"]).values_list("code", flat=True)) == {"A1-4"}


def test_a_new_head_must_be_a_registered_person(world, secretary):
    unknown = pid(dt.date(1966, 6, 6), 99)
    rows = [HEADER, ["A1-3", "三组网格", "二级", "A1", "", unknown, "", ""]]
    report = check(world, secretary, rows)
    assert report.errors[0].messages == [f"网格长身份证号{unknown[:6]}********{unknown[-4:]}未在您管辖的范围内登记"]
