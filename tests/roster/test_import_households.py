"""Household roster import: the dry-run report, all-or-nothing, valid-only, re-import, moves."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from gongzhi.core.idcard import check_char
from gongzhi.core.models import AuditLog
from gongzhi.registry.models import Household, HouseholdMembership, LeftBehind, Person, PovertyStatus, Relation
from gongzhi.roster import services
from gongzhi.roster.models import ImportBatch, ImportStatus

from .conftest import csv_bytes, pid, xlsx_bytes
from .messy import MessyRoster


def dry_run(world, user, content, filename="roster.xlsx", kind="households", village="A1"):
    return services.roster_dry_run(actor=user, village=world.regions[village], kind=kind, filename=filename,
                                   content=content)


def batch(world, user, content, filename="roster.xlsx", kind="households", village="A1"):
    return services.roster_batch_create(actor=user, village=world.regions[village], kind=kind, filename=filename,
                                        content=content)


def database_state():
    """Everything an import could touch, as comparable values."""
    households = sorted(Household.objects.values_list(
        "code", "address", "grid_id", "region_id", "annual_income", "poverty_status", "peaceful_family_years",
        "county_id", "town_id", "village_id"))
    persons = sorted(Person.objects.values_list(
        "id_number", "name", "phone", "relation", "household_id", "region_id", "status", "left_behind",
        "disability_grade", "released_on", "village_id"))
    memberships = sorted(HouseholdMembership.objects.values_list("person_id", "household_id", "relation", "ended_on"))
    return households, persons, memberships


def test_the_dry_run_reports_exactly_the_bad_rows_with_their_reasons(world, secretary):
    roster = MessyRoster(world)
    before, audit_rows = database_state(), AuditLog.objects.count()

    report = dry_run(world, secretary, xlsx_bytes(roster.rows(), merges=("A1:N1",)))

    assert report.header_row == 3
    assert report.ignored_headers == ["民族"]
    assert {e.row: e.messages for e in report.errors} == {
        8: [f"身份证号校验位错误（应为{check_char(roster.head_102[:17])}）"],
        10: ["找不到所属网格“九组网格”（五一村没有这个编码或名称的网格）"],
        11: ["身份证号在文件中重复出现（第11、12行）"],
        12: ["身份证号在文件中重复出现（第11、12行）"],
        14: ["此人已登记在户号H-A1-1中，与本行户号H-105不同；如确需迁移，请先办理迁出，或在同一文件中同时列出原户"],
        15: ["所属网格“A1”：住户只能编入最小一级的基础网格"],
        16: ["家庭年收入“abc”不正确：收入必须是数字"],
        17: ["与户主关系“表哥”无法识别"],
        19: ["户号H-109有两个户主（第18行已是户主）"],
        20: ["联系电话“12345”格式不正确（应为11位手机号或带区号的座机号）"],
        21: ["户号H-111没有户主（须有一人的与户主关系为“户主”）"],
        22: ["身份证号中的出生日期不存在"],
        23: ["身份证号应为18位，实际为17位"],
    }
    assert {e.row: (e.household, e.name) for e in report.errors}[14] == ("H-105", "张建国")
    # 21 data rows: the title, subtitle, blank rows and the 填表人 footer are not rows of the roster.
    assert (report.rows_read, report.rows_valid, report.rows_invalid) == (21, 8, 13)
    assert report.has_errors
    # Only H-101 (new, 3 persons) and H-A1-2 (income and a phone changed) are free of errors.
    valid = report.valid_only
    assert (valid.households.create, valid.households.update, valid.households.unchanged) == (1, 1, 0)
    assert (valid.persons.create, valid.persons.update, valid.persons.unchanged, valid.persons.move) == (3, 1, 1, 0)
    assert valid.skipped_households == [f"H-1{n:02d}" for n in range(2, 14)]
    assert valid.skipped_rows == 16
    assert {(c["row"], c["what"]): c["fields"] for c in report.changes} == {
        (24, "户号H-A1-2"): ["家庭年收入"], (24, "李秀英"): ["联系电话"]}
    # A dry run writes nothing at all.
    assert database_state() == before and AuditLog.objects.count() == audit_rows


def test_a_file_with_any_bad_row_writes_nothing_by_default(world, secretary):
    roster = MessyRoster(world)
    pending = batch(world, secretary, xlsx_bytes(roster.rows()))
    before, audit_rows = database_state(), AuditLog.objects.count()

    with pytest.raises(services.RosterRejected) as rejected:
        services.roster_import(actor=secretary, batch=pending, valid_only=False)

    assert rejected.value.report.rows_invalid == 13
    assert database_state() == before and AuditLog.objects.count() == audit_rows
    pending.refresh_from_db()
    assert pending.status == ImportStatus.CHECKED and pending.applied_at is None


def test_valid_only_imports_the_good_households_whole_and_normalises_the_mess(world, secretary):
    roster = MessyRoster(world)
    pending = batch(world, secretary, xlsx_bytes(roster.rows()))
    persons_before = Person.objects.count()

    report = services.roster_import(actor=secretary, batch=pending, valid_only=True)

    assert report.applied["mode"] == "valid_only"
    assert not Household.objects.filter(code__in=[f"H-1{n:02d}" for n in range(2, 14)]).exists()
    # 陈大娘 (row 9) and 冯一 (row 18) have no error themselves, but their households are skipped whole.
    assert not Person.objects.filter(id_number__in=[roster.wife_102, roster.head_109a]).exists()
    assert Person.objects.count() == persons_before + 3

    village = world.regions["A1"]
    h101 = Household.objects.get(code="H-101")
    assert h101.address == "五一村3组12号"  # full-width digit
    assert h101.grid == world.grids["A1-2"] and h101.region == village
    assert (h101.county_id, h101.town_id, h101.village_id) == (village.county_id, village.town_id, village.pk)
    assert h101.annual_income == Decimal("35000.00")
    assert h101.poverty_status == PovertyStatus.LIFTED and h101.peaceful_family_years == [2022, 2023, 2024]
    members = {p.name: p for p in h101.members.all()}
    assert set(members) == {"王大山", "刘小芳", "王小明"}
    head, wife, son = members["王大山"], members["刘小芳"], members["王小明"]
    assert head.id_number == roster.head_101 and head.relation == Relation.HEAD
    assert head.phone == "13812345678"  # a float in the sheet
    assert head.birth_date == dt.date(1968, 4, 9) and head.sex == "M" and head.name_initials == "wds"
    assert wife.id_number == roster.wife_101 and wife.id_number.endswith("X")  # typed as lowercase x
    assert wife.relation == Relation.SPOUSE and wife.phone == "13912345678" and wife.left_behind == LeftBehind.WOMAN
    assert son.relation == Relation.CHILD and son.disability_grade == 2 and son.left_behind == LeftBehind.CHILD
    assert all(p.village_id == village.pk and p.region_id == village.pk for p in members.values())
    assert set(HouseholdMembership.objects.filter(household=h101, ended_on__isnull=True)
               .values_list("person__name", flat=True)) == set(members)

    h_a1_2 = world.households["A1-2"]
    h_a1_2.refresh_from_db()
    assert h_a1_2.annual_income == Decimal("12500.00")
    assert Person.objects.get(pk=roster.li_xiuying.pk).phone == "13700001111"

    rows = AuditLog.objects.filter(note__contains=f"批次#{pending.pk}")
    assert sorted(rows.values_list("object_type", "action")) == sorted([
        ("registry.household", "create"), ("registry.person", "create"), ("registry.person", "create"),
        ("registry.person", "create"), ("registry.household", "update"), ("registry.person", "update")])
    update = rows.get(object_type="registry.person", action="update")
    assert update.changed_fields == ["phone", "updated_at"] and update.after["phone"] == "137****1111"
    assert update.actor_username == "village_secretary_a1" and update.village_id == village.pk
    batch_row = AuditLog.objects.get(action="import", object_type="roster.importbatch", object_id=str(pending.pk))
    assert "仅导入无误的行" in batch_row.note and batch_row.village_id == village.pk
    pending.refresh_from_db()
    assert pending.status == ImportStatus.APPLIED and pending.mode == "valid_only"


def clean_rows(world, income=20000, phone="13800000001"):
    return [
        ["五一村新户花名册"],
        ["户号", "家庭住址", "所属网格", "家庭年收入", "姓名", "身份证号", "与户主关系", "联系电话"],
        ["H-201", "五一村8组1号", "A1-2", income, "褚大", pid(dt.date(1950, 5, 5), 41), "户主", phone],
        ["H-201", "", "", "", "褚二", pid(dt.date(1980, 6, 6), 42), "儿子", ""],
    ]


def test_reimport_updates_by_id_number_and_household_number_instead_of_duplicating(world, secretary):
    content = xlsx_bytes(clean_rows(world))
    services.roster_import(actor=secretary, batch=batch(world, secretary, content))
    state = database_state()

    again = dry_run(world, secretary, content)
    assert not again.has_errors
    assert (again.plan.households.create, again.plan.households.update, again.plan.households.unchanged) == (0, 0, 1)
    assert (again.plan.persons.create, again.plan.persons.update, again.plan.persons.unchanged) == (0, 0, 2)
    services.roster_import(actor=secretary, batch=batch(world, secretary, content))
    assert database_state() == state

    changed = xlsx_bytes(clean_rows(world, income=26000, phone="13800000002"))
    report = services.roster_import(actor=secretary, batch=batch(world, secretary, changed))
    assert (report.plan.households.update, report.plan.persons.update, report.plan.persons.unchanged) == (1, 1, 1)
    assert Household.objects.filter(code="H-201").count() == 1
    assert Person.objects.filter(household__code="H-201").count() == 2
    assert Household.objects.get(code="H-201").annual_income == Decimal("26000.00")
    assert Person.objects.get(relation="head", household__code="H-201").phone == "13800000002"


def test_a_person_moves_between_two_households_of_the_file_and_keeps_the_history(world, secretary):
    zhang, liu = world.persons["A1-1"], world.persons["A1-1-spouse"]
    li, li_qiang = world.persons["A1-2"], world.persons["party_member"]
    rows = [
        ["户号", "家庭住址", "姓名", "身份证号", "与户主关系"],
        ["H-A1-1", "五一村A1-1号", "张建国", zhang.id_number, "户主"],
        ["H-A1-2", "五一村A1-2号", "李秀英", li.id_number, "户主"],
        ["H-A1-2", "", "李强", li_qiang.id_number, "儿子"],
        ["H-A1-2", "", "刘桂兰", liu.id_number, "儿媳"],
    ]
    report = dry_run(world, secretary, csv_bytes(rows), filename="move.csv")
    assert not report.has_errors
    assert report.plan.persons.move == 1
    assert {"row": 5, "what": "刘桂兰", "fields": ["从户号H-A1-1迁入户号H-A1-2", "与户主关系"]} in report.changes

    services.roster_import(actor=secretary, batch=batch(world, secretary, csv_bytes(rows), filename="move.csv"))
    liu.refresh_from_db()
    target = world.households["A1-2"]
    assert liu.household == target and liu.relation == Relation.CHILD_IN_LAW
    # H-A1-1 is in villager group 一组, H-A1-2 in the village itself: the person's territory follows.
    assert liu.region_id == target.region_id == world.regions["A1"].pk
    history = list(HouseholdMembership.objects.filter(person=liu).order_by("id").values_list(
        "household__code", "ended_on", "reason"))
    assert history[0][0] == "H-A1-1" and history[0][1] is not None
    assert history[1][0] == "H-A1-2" and history[1][1] is None and "从户号H-A1-1迁入" in history[1][2]
    audit = AuditLog.objects.get(object_type="registry.person", object_id=str(liu.pk), action="update")
    assert "迁移" in audit.note and "household_id" in audit.changed_fields


def test_a_head_left_out_of_the_file_blocks_a_new_head(world, secretary):
    liu = world.persons["A1-1-spouse"]
    rows = [["户号", "家庭住址", "姓名", "身份证号", "与户主关系"],
            ["H-A1-1", "五一村A1-1号", "刘桂兰", liu.id_number, "户主"]]
    report = dry_run(world, secretary, csv_bytes(rows), filename="x.csv")
    assert [e.messages for e in report.errors] == [
        ["该户已有户主张建国（本文件未列出）；如要更换户主，请把原户主也列入本户并修改其与户主关系"]]


def test_skipping_a_household_skips_the_households_that_depend_on_it(world, secretary):
    """刘桂兰 can only move to H-A1-2 if H-A1-1 is imported too; H-A1-1 has a bad row."""
    zhang, liu, li = world.persons["A1-1"], world.persons["A1-1-spouse"], world.persons["A1-2"]
    rows = [
        ["户号", "家庭住址", "姓名", "身份证号", "与户主关系", "联系电话"],
        ["H-A1-1", "五一村A1-1号", "张建国", zhang.id_number, "户主", "1381234"],
        ["H-A1-2", "五一村A1-2号", "李秀英", li.id_number, "户主", ""],
        ["H-A1-2", "", "刘桂兰", liu.id_number, "儿媳", ""],
        ["H-301", "五一村9组1号", "秦九", pid(dt.date(1958, 8, 8), 51), "户主", ""],
    ]
    report = dry_run(world, secretary, csv_bytes(rows), filename="x.csv")
    assert [e.row for e in report.errors] == [2]
    assert report.valid_only.skipped_households == ["H-A1-1", "H-A1-2"]
    assert report.valid_only.households.create == 1 and report.valid_only.rows == 1

    services.roster_import(actor=secretary, batch=batch(world, secretary, csv_bytes(rows), filename="x.csv"),
                           valid_only=True)
    liu.refresh_from_db()
    assert liu.household == world.households["A1-1"]
    assert Household.objects.filter(code="H-301").exists()


def test_numbers_and_people_registered_in_another_village_are_refused(world, secretary):
    wang = world.persons["A2"]
    rows = [
        ["户号", "家庭住址", "姓名", "身份证号", "与户主关系"],
        ["H-A2", "五一村1号", "某人", pid(dt.date(1959, 9, 9), 61), "户主"],
        ["H-401", "五一村2号", "王德明", wang.id_number, "户主"],
        ["H-402", "五一村3号", "某乙", pid(dt.date(1961, 1, 9), 62), "户主", "", "610921100202"],
    ]
    rows[0].append("")
    rows[0].append("村（社区）代码")
    report = dry_run(world, secretary, csv_bytes(rows), filename="x.csv")
    assert {e.row: e.messages for e in report.errors} == {
        2: ["户号H-A2已被其他村（社区）的住户使用"],
        3: ["此人已登记在其他村（社区）的住户中，与本行户号H-401不同；如确需迁移，请先办理迁出，或在同一文件中同时列出原户"],
        4: ["本行属于其他村（社区）（代码610921100202），不能导入到五一村"],
    }


def test_household_columns_may_be_merged_cells_and_csv_may_be_gbk(world, secretary):
    head, child = pid(dt.date(1949, 10, 1), 71), pid(dt.date(1975, 10, 2), 72, male=False)
    rows = [
        ["户号", "住址", "所属网格", "所属村组", "家庭年收入", "脱贫户属性", "平安家庭", "姓名", "公民身份号码", "与户主关系",
         "电话", "刑满释放日期", "残疾等级"],
        ["H-501", "五一村一组5号", "五一村一组网格", "五一村一组", "1.2万", "监测户", 2024, "赵一", head, "本人",
         "0915-5212345", dt.date(2023, 5, 6), "1"],
        [None, None, None, None, None, None, None, "赵二", child, "之女", "+86 137-0000-2222", "2024/1/2", "四级"],
    ]
    merged = xlsx_bytes(rows, merges=tuple(f"{c}2:{c}3" for c in "ABCDEFG"))
    report = dry_run(world, secretary, merged)
    assert not report.has_errors, report.errors
    services.roster_import(actor=secretary, batch=batch(world, secretary, merged))
    household = Household.objects.get(code="H-501")
    assert household.region == world.regions["A1g1"] and household.grid == world.grids["A1-1"]
    assert household.annual_income == Decimal("12000.00") and household.poverty_status == PovertyStatus.MONITORED
    assert household.peaceful_family_years == [2024]
    first, second = Person.objects.get(id_number=head), Person.objects.get(id_number=child)
    assert first.phone == "0915-5212345" and first.released_on == dt.date(2023, 5, 6) and first.disability_grade == 1
    assert second.relation == Relation.CHILD and second.phone == "13700002222"
    assert second.released_on == dt.date(2024, 1, 2) and second.disability_grade == 4
    assert first.region == second.region == world.regions["A1g1"]

    text_rows = [["户号", "家庭住址", "姓名", "身份证号", "与户主关系", "刑满释放日期"],
                 ["H-502", "五一村6号", "钱 三", pid(dt.date(1951, 3, 3), 73).lower(), "户主", "2024年1月2日"]]
    for encoding in ("gb18030", "utf-8", "utf-8-sig"):
        report = dry_run(world, secretary, csv_bytes(text_rows, encoding=encoding), filename="村.csv")
        assert not report.has_errors, (encoding, report.errors)
        assert report.plan.persons.create == 1


def test_checking_a_large_file_costs_a_fixed_number_of_queries(world, secretary):
    def roster(n):
        rows = [["户号", "家庭住址", "所属网格", "姓名", "身份证号", "与户主关系"]]
        for i in range(n):
            rows.append([f"H-9{i:03d}", f"五一村{i}号", "A1-2", f"人{i}", pid(dt.date(1940, 1, 1) + dt.timedelta(days=i), i),
                         "户主"])
        return xlsx_bytes(rows)

    dry_run(world, secretary, roster(1))  # loads the user's grants once (cached on the user)
    counts = []
    for n in (5, 300):
        content = roster(n)
        with CaptureQueriesContext(connection) as queries:
            report = dry_run(world, secretary, content)
        assert not report.has_errors and report.plan.households.create == n
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_importing_thousands_of_rows(world, secretary):
    rows = [["户号", "家庭住址", "姓名", "身份证号", "与户主关系"]]
    for i in range(1500):
        rows.append([f"H-8{i // 3:04d}", f"五一村{i // 3}号", f"人{i}", pid(dt.date(1930, 1, 1) + dt.timedelta(days=i), i,
                                                                         male=i % 2 == 0),
                     "户主" if i % 3 == 0 else "子"])
    content = csv_bytes(rows)
    report = services.roster_import(actor=secretary, batch=batch(world, secretary, content, filename="big.csv"))
    assert report.plan.households.create == 500 and report.plan.persons.create == 1500
    assert Person.objects.filter(household__code__startswith="H-8").count() == 1500
    assert ImportBatch.objects.get(status=ImportStatus.APPLIED).report["applied"]["plan"]["persons"]["create"] == 1500


def test_a_person_in_no_household_joins_and_the_deceased_are_refused(world, secretary):
    from gongzhi.registry import services as registry

    wang = registry.person_move(actor=world.system, person=world.persons["A2"], to_household=None, reason="外出务工")
    li_qiang = registry.person_update(actor=world.system, person=world.persons["party_member"], status="deceased")
    rows = [["户号", "家庭住址", "姓名", "身份证号", "与户主关系"],
            ["H-801", "五一村8号", "王德明", wang.id_number, "户主"],
            ["H-802", "五一村9号", "李强", li_qiang.id_number, "户主"]]
    report = dry_run(world, secretary, csv_bytes(rows), filename="x.csv")
    assert {e.row: e.messages for e in report.errors} == {3: ["该身份证号登记的人员（李强）已故，不能导入"]}
    assert report.valid_only.persons.move == 1

    services.roster_import(actor=secretary, batch=batch(world, secretary, csv_bytes(rows), filename="x.csv"),
                           valid_only=True)
    wang.refresh_from_db()
    village = world.regions["A1"]
    assert wang.household.code == "H-801" and wang.status == "active" and wang.relation == Relation.HEAD
    assert (wang.region_id, wang.county_id, wang.town_id, wang.village_id) == (
        village.pk, village.county_id, village.town_id, village.pk)
    assert list(HouseholdMembership.objects.filter(person=wang, ended_on__isnull=True)
                .values_list("household__code", flat=True)) == ["H-801"]
