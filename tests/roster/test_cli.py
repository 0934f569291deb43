"""gongzhi import_roster / export_roster, run through Django's call_command."""
from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from gongzhi.registry.models import Household, Person
from gongzhi.roster.models import ImportBatch, ImportStatus

from .conftest import csv_bytes, pid, read_xlsx, xlsx_bytes
from .messy import MessyRoster


def run(*args, **options):
    out = StringIO()
    call_command(*args, stdout=out, **options)
    return out.getvalue()


@pytest.fixture
def messy_file(world, tmp_path):
    path = tmp_path / "五一村花名册.xlsx"
    path.write_bytes(xlsx_bytes(MessyRoster(world).rows()))
    return path


def test_a_dry_run_prints_the_chinese_report_and_fails_on_errors(world, messy_file):
    out = StringIO()
    with pytest.raises(CommandError) as failed:
        call_command("import_roster", str(messy_file), village="610921100201", kind="households",
                     user="village_secretary_a1", dry_run=True, stdout=out)
    assert failed.value.returncode == 1
    assert "未导入任何数据" in str(failed.value)
    text = out.getvalue()
    assert "表头在第3行；共读取 21 行，无误 8 行，有错误 13 行。" in text
    assert "第8行（H-102 陈老汉）：身份证号校验位错误" in text
    assert "第23行（H-113 沈六）：身份证号应为18位，实际为17位" in text
    assert "如仅导入无误的行，将写入： 住户：新建 1 户，更新 1 户，无变化 0 户" in text
    assert not Household.objects.filter(code="H-101").exists() and not ImportBatch.objects.exists()


def test_without_valid_only_a_file_with_errors_imports_nothing(world, messy_file):
    with pytest.raises(CommandError) as failed:
        run("import_roster", str(messy_file), "--village", "610921100201", "--kind", "households",
            "--user", "village_secretary_a1")
    assert failed.value.returncode == 1
    assert not Household.objects.filter(code="H-101").exists()
    assert ImportBatch.objects.get().status == ImportStatus.CHECKED


def test_valid_only_imports_the_good_households(world, messy_file):
    text = run("import_roster", str(messy_file), "--village", "610921100201", "--kind", "households",
               "--user", "village_secretary_a1", "--valid-only")
    assert "已导入（批次" in text
    assert Household.objects.get(code="H-101").members.count() == 3
    assert ImportBatch.objects.get().status == ImportStatus.APPLIED


def test_a_clean_csv_imports_and_a_second_run_changes_nothing(world, tmp_path):
    path = tmp_path / "a2.csv"
    path.write_bytes(csv_bytes([["户号", "家庭住址", "姓名", "身份证号", "与户主关系"],
                                ["H-701", "月河村7号", "孔七", pid(dt.date(1967, 7, 7), 91), "户主"]],
                               encoding="gb18030"))
    args = ("import_roster", str(path), "--village", "610921100202", "--kind", "households", "--user",
            "town_secretary_a")
    assert "住户：新建 1 户" in run(*args)
    assert "住户：新建 0 户，更新 0 户，无变化 1 户" in run(*args)
    assert Person.objects.filter(household__code="H-701").count() == 1


def test_export_then_import_from_the_command_line(world, tmp_path):
    output = tmp_path / "a1.xlsx"
    text = run("export_roster", "--region", "610921100201", "--kind", "households", "--format", "xlsx",
               "--output", str(output), "--user", "village_secretary_a1")
    assert "已导出 4 行" in text
    rows = read_xlsx(output.read_bytes())
    assert rows[1][0] == "户号" and len(rows) == 6
    report = run("import_roster", str(output), "--village", "610921100201", "--kind", "households",
                 "--user", "village_secretary_a1", "--dry-run")
    assert "有错误 0 行" in report and "住户：新建 0 户，更新 0 户，无变化 2 户" in report


def test_users_villages_and_scope_are_checked(world, messy_file, tmp_path):
    base = ("import_roster", str(messy_file), "--kind", "households", "--dry-run")
    with pytest.raises(CommandError, match="没有可用的用户"):
        run(*base, "--village", "610921100201", "--user", "nobody")
    with pytest.raises(CommandError, match="没有区划代码为"):
        run(*base, "--village", "999999999999", "--user", "village_secretary_a1")
    with pytest.raises(CommandError, match="无权向 610921100201 导入"):
        run(*base, "--village", "610921100201", "--user", "outsider_b")
    with pytest.raises(CommandError, match="没有导入花名册的权限"):
        run(*base, "--village", "610921100201", "--user", "department_handler")
    with pytest.raises(CommandError, match="无法读取"):
        run("import_roster", str(tmp_path / "missing.xlsx"), "--village", "610921100201", "--kind", "households",
            "--user", "village_secretary_a1")
    with pytest.raises(CommandError, match="无权导出"):
        run("export_roster", "--region", "610921100201", "--kind", "grids", "--format", "csv",
            "--output", str(tmp_path / "x.csv"), "--user", "outsider_b")
