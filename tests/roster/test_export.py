"""Export in the import layout, masking, audit, and the export → import round trip."""
from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404

from gongzhi.accounts.models import Role, RoleAssignment, User
from gongzhi.core.models import AuditLog
from gongzhi.registry import services as registry
from gongzhi.registry.models import Grid, Household
from gongzhi.roster import services
from gongzhi.roster.layout import HOUSEHOLD_COLUMNS

from .conftest import read_csv, read_xlsx
from .test_import_households import batch, database_state, dry_run


@pytest.fixture
def rich_world(world):
    """The world with every roster field in use somewhere."""
    system = world.system
    registry.household_update(actor=system, household=world.households["A1-1"], poverty_status="lifted",
                              peaceful_family_years=[2022, 2023], annual_income="30000.50")
    registry.person_update(actor=system, person=world.persons["A1-1-spouse"], left_behind="woman",
                           disability_grade=3, released_on=dt.date(2021, 7, 8))
    registry.grid_update(actor=system, grid=world.grids["A1-1"], head=world.persons["A1-1"],
                         worker=world.persons["party_member"])
    return world


def export(world, user, kind, fmt, region="A1"):
    return services.roster_export(actor=world.user(user), region=world.regions[region], kind=kind, fmt=fmt)


def test_the_household_export_is_the_import_layout_with_a_title_row(rich_world):
    world = rich_world
    exported = export(world, "village_secretary_a1", "households", "xlsx")
    rows = read_xlsx(exported.content)
    assert rows[0][0].startswith("五一村户籍花名册（导出时间：") and "已打码" not in rows[0][0]
    assert rows[1] == [c.header for c in HOUSEHOLD_COLUMNS]
    records = {row[7]: dict(zip([c.key for c in HOUSEHOLD_COLUMNS], row)) for row in rows[2:]}
    assert set(records) == {"张建国", "刘桂兰", "李秀英", "李强"}
    liu = records["刘桂兰"]
    assert liu["household_code"] == "H-A1-1" and liu["relation"] == "配偶"
    assert liu["id_number"] == world.persons["A1-1-spouse"].id_number and liu["phone"] == "13987654321"
    assert liu["left_behind"] == "留守妇女" and liu["disability_grade"] == "三级"
    assert liu["released_on"].date() == dt.date(2021, 7, 8)
    assert liu["group"] == "610921100201001" and liu["grid"] == "A1-1" and liu["village_code"] == "610921100201"
    assert liu["poverty_status"] == "脱贫户" and liu["peaceful_years"] == "2022,2023" and liu["annual_income"] == 30000.5
    assert records["李强"]["relation"] == "儿子"
    assert exported.rows == 4 and not exported.masked
    note = AuditLog.objects.get(action="export", actor_username="village_secretary_a1").note
    assert "xlsx" in note and "2户4人" in note and "未打码" in note


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_an_export_imports_back_to_the_same_data(rich_world, fmt):
    world = rich_world
    secretary = world.user("village_secretary_a1")
    for kind in ("households", "grids"):
        exported = export(world, "village_secretary_a1", kind, fmt)
        rows = read_xlsx(exported.content) if fmt == "xlsx" else read_csv(exported.content)
        assert len(rows) > 2 and "花名册" in rows[0][0]
        before, grids_before = database_state(), sorted(Grid.objects.values_list(
            "code", "name", "level", "parent_id", "region_id", "head_id", "worker_id", "path"))

        report = dry_run(world, secretary, exported.content, filename=exported.filename, kind=kind)
        assert not report.has_errors, report.errors
        assert report.changes == []
        plan = report.plan
        if kind == "households":
            assert (plan.households.create, plan.households.update, plan.households.unchanged) == (0, 0, 2)
            assert (plan.persons.create, plan.persons.update, plan.persons.move, plan.persons.unchanged) == (0, 0, 0, 4)
        else:
            assert (plan.grids.create, plan.grids.update, plan.grids.unchanged) == (0, 0, 3)

        services.roster_import(actor=secretary, batch=batch(world, secretary, exported.content,
                                                            filename=exported.filename, kind=kind))
        assert database_state() == before
        assert sorted(Grid.objects.values_list("code", "name", "level", "parent_id", "region_id", "head_id",
                                               "worker_id", "path")) == grids_before


def test_a_town_export_holds_all_its_villages(world):
    exported = export(world, "town_secretary_a", "households", "csv", region="A")
    rows = read_csv(exported.content)
    assert {row[0] for row in rows[2:]} == {"H-A1-1", "H-A1-2", "H-A2"}
    assert {row[-1] for row in rows[2:]} == {"610921100201", "610921100202"}


def test_without_reveal_permission_ids_are_masked_and_the_file_cannot_be_imported(world):
    role = Role.objects.create(code="roster_test_export_only", name="统计员（测试）", scope_kind="region")
    role.permissions.set(Role.objects.get(code="auditor").permissions.filter(codename__startswith="view_"))
    role.permissions.add(*Role.objects.get(code="town_secretary").permissions.filter(codename="export_roster"))
    clerk = User.objects.create_user(username="clerk", password="x-12345678")
    RoleAssignment.objects.create(user=clerk, role=role, region=world.regions["A"])
    world.users["clerk"] = clerk

    exported = export(world, "clerk", "households", "xlsx")
    rows = read_xlsx(exported.content)
    assert exported.masked and "本文件不能用于导入" in rows[0][0]
    zhang = world.persons["A1-1"]
    assert [r[8] for r in rows[2:] if r[7] == "张建国"] == [f"{zhang.id_number[:6]}********{zhang.id_number[-4:]}"]
    assert [r[10] for r in rows[2:] if r[7] == "张建国"] == ["138****5678"]
    assert "已打码" in AuditLog.objects.get(action="export", actor_username="clerk").note

    report = dry_run(world, world.user("village_secretary_a1"), exported.content, filename="masked.xlsx")
    assert report.rows_invalid == report.rows_read == 4
    assert all("身份证号已打码，不能用于导入" in e.messages[0] for e in report.errors)


def test_export_is_scoped(world):
    with pytest.raises(Http404):
        export(world, "outsider_b", "households", "xlsx", region="A1")
    with pytest.raises(PermissionDenied):
        export(world, "department_handler", "households", "xlsx", region="A1")
    # The county secretary may export but not import.
    assert export(world, "county_secretary", "grids", "csv", region="C").rows == 5
    with pytest.raises(PermissionDenied):
        batch(world, world.user("county_secretary"), b"x", filename="x.csv")


def test_households_the_user_cannot_see_are_not_exported(world):
    exported = export(world, "outsider_b", "households", "csv", region="B")
    assert {row[0] for row in read_csv(exported.content)[2:]} == {"H-B1"}
    assert Household.objects.count() == 4
