"""The holiday table as data: seeded from chinese_calendar, loaded each year, warned about when missing.

2027 is loaded from a test fixture (tests/core/fixtures/holidays_2027.csv), a made-up arrangement:
these tests check that deadlines follow whatever table the county loaded, not the State Council's
notice itself.
"""
from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from gongzhi.core import workdays
from gongzhi.core.holidays import CalendarFileError, library_years, parse_file, parse_text
from gongzhi.core.models import AuditLog, CalendarDay, WorkdayCalendarYear
from gongzhi.core.services import workday_calendar_load_many
from gongzhi.core.workdays import (
    add_working_days, is_calendar_known, is_working_day, missing_calendar_years, warn_missing_calendar_years,
)

pytestmark = pytest.mark.django_db
TZ = ZoneInfo("Asia/Shanghai")
FIXTURE = Path(__file__).parent / "fixtures" / "holidays_2027.csv"
SHIPPED = Path(__file__).parents[2] / "gongzhi" / "core" / "holiday_tables" / "2027.csv"
D = dt.date


def at(y, m, d, h=10) -> dt.datetime:
    return dt.datetime(y, m, d, h, tzinfo=TZ)


def load_fixture(actor=None):
    return workday_calendar_load_many(actor=actor, years=parse_file(FIXTURE.read_bytes(), FIXTURE.name).years,
                                      source="fixture")


@pytest.fixture
def admin_user(db):
    return get_user_model().objects.create_superuser(username="calendar_admin", password="x")


def test_the_migration_seeds_every_year_the_library_knows():
    library = library_years()
    assert set(WorkdayCalendarYear.objects.values_list("year", flat=True)) == set(library)
    assert CalendarDay.objects.get(date=D(2026, 2, 14)).kind == "adjusted_workday"  # 春节 make-up Saturday
    assert CalendarDay.objects.get(date=D(2026, 2, 17)).name == "春节"
    assert CalendarDay.objects.filter(calendar__year=2026).count() == len(library[2026])


def test_a_deadline_set_on_28_december_2026_lands_on_the_right_2027_day_once_loaded():
    from gongzhi.cases.deadlines import TimeLimit

    start = at(2026, 12, 28)  # Monday
    assert not is_calendar_known(D(2027, 1, 4))
    assert missing_calendar_years(D(2026, 12, 28)) == [2027]  # what the home page and the sweep warn about
    # Working time runs from 10:00 on the 28th: 28 (rest), 29, 30, 31 Dec, then 10 hours of the
    # next working day. Without 2027 that is Friday 1 January — 元旦 itself.
    assert add_working_days(start, 4) == at(2027, 1, 1)
    load_fixture()
    assert is_calendar_known(D(2027, 1, 4))
    assert missing_calendar_years(D(2026, 12, 28)) == []
    # With it: 1–3 Jan are off, so the deadline is Monday 4 January 10:00 — also as a case's limit.
    assert add_working_days(start, 4) == at(2027, 1, 4)
    assert TimeLimit(days=4, natural=False).due(start) == at(2027, 1, 4)
    assert add_working_days(start, 5) == at(2027, 1, 5)
    assert not is_working_day(D(2027, 1, 1))


def test_a_deadline_across_the_spring_festival_with_its_make_up_saturdays_2026():
    # Seeded from chinese_calendar: 15–23 Feb 2026 off, Saturdays 14 and 28 Feb worked.
    assert is_working_day(D(2026, 2, 14)) and is_working_day(D(2026, 2, 28))
    assert not is_working_day(D(2026, 2, 16))
    # Friday 13 Feb 10:00 + 2: the make-up Saturday 14 Feb counts, 15–23 Feb do not → Tue 24 Feb 10:00.
    assert add_working_days(at(2026, 2, 13), 2) == at(2026, 2, 24)
    # Friday 27 Feb + 1 → the make-up Saturday 28 Feb.
    assert add_working_days(at(2026, 2, 27), 1) == at(2026, 2, 28)


def test_a_deadline_across_the_spring_festival_2027_as_loaded():
    load_fixture()
    # Friday 29 Jan + 1: Saturday 30 is a rest day, Sunday 31 Jan a make-up working day.
    assert add_working_days(at(2027, 1, 29), 1) == at(2027, 1, 31)
    # Thursday 4 Feb 10:00 + 2: rest of the 4th, 5–14 Feb off, Monday 15 full → Tuesday 16 Feb 10:00.
    assert add_working_days(at(2027, 2, 4), 2) == at(2027, 2, 16)
    # Friday 19 Feb + 1 → the make-up Saturday 20 Feb.
    assert add_working_days(at(2027, 2, 19), 1) == at(2027, 2, 20)


def test_loading_again_replaces_the_year_and_is_audited(admin_user):
    load_fixture(admin_user)
    workday_calendar_load_many(actor=admin_user, years=parse_text("2027-01-01,holiday,元旦").years, source="粘贴")
    assert list(CalendarDay.objects.filter(calendar__year=2027).values_list("date", flat=True)) == [D(2027, 1, 1)]
    assert is_working_day(D(2027, 2, 8))  # the Spring Festival of the first load is gone
    rows = AuditLog.objects.filter(object_type="core.workdaycalendaryear").order_by("id")
    assert [r.actor_username for r in rows] == ["calendar_admin", "calendar_admin"]
    assert "2027-02-20" in rows[1].before["adjusted_workdays"]
    assert rows[1].after == {"holidays": ["2027-01-01"], "adjusted_workdays": []}


def test_other_processes_see_a_new_year_through_the_shared_version(monkeypatch):
    assert not is_calendar_known(D(2027, 3, 1))  # this process has cached "2027 missing"
    version_before = workdays._state["version"]
    load_fixture()
    assert workdays._state["version"] != version_before  # what other processes compare with
    # Simulate another process: it still holds the old cache and version until it checks.
    workdays._years[2027] = None
    workdays._state["version"] = version_before
    workdays._state["checked"] = 0.0
    assert is_calendar_known(D(2027, 3, 1))


@pytest.mark.parametrize("text, message", [
    ("2027-13-01,holiday,x", "无法识别"),
    ("2027-01-04,adjusted_workday,x", "不能是调休上班日"),  # a Monday
    ("2027-01-01,holiday,元旦\n2027-01-01,holiday,元旦", "重复"),
    ("2027-01-01,rest,元旦", "类型"),
    ("# only a comment", "没有可导入的日期"),
])
def test_bad_lines_are_refused_with_a_chinese_reason(text, message):
    with pytest.raises(CalendarFileError) as caught:
        parse_text(text)
    assert message in str(caught.value)


def test_the_shipped_2027_file_parses_and_says_it_is_provisional():
    text = SHIPPED.read_text(encoding="utf-8")
    assert "PROVISIONAL" in text and "未经核实" in text
    parsed = parse_text(text)
    assert set(parsed.years) == {2027}


def test_xlsx_upload_on_the_page(admin_user, client):
    from io import BytesIO

    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["日期", "类型", "名称"])
    sheet.append([dt.datetime(2027, 1, 1), "放假", "元旦"])
    sheet.append(["2027-02-20", "上班", "春节"])
    buffer = BytesIO()
    book.save(buffer)
    buffer.seek(0)
    buffer.name = "2027.xlsx"
    client.force_login(admin_user)
    response = client.post("/calendar/", {"file": buffer})
    assert response.status_code == 302
    assert not is_working_day(D(2027, 1, 1)) and is_working_day(D(2027, 2, 20))
    page = client.get("/calendar/").content.decode()
    assert "2027" in page and "文件 2027.xlsx" in page


def test_the_page_shows_errors_and_is_for_the_administrator_only(admin_user, world, client):
    client.force_login(world.users["village_secretary_a1"])
    assert client.get("/calendar/").status_code == 403
    client.force_login(admin_user)
    response = client.post("/calendar/", {"text": "2027-01-04,adjusted_workday,x"})
    assert response.status_code == 200
    assert "不能是调休上班日" in response.content.decode()
    assert not WorkdayCalendarYear.objects.filter(year=2027).exists()


def test_the_home_page_warns_from_1_november_when_next_year_is_missing(world, client, monkeypatch):
    client.force_login(world.users["village_secretary_a1"])
    monkeypatch.setattr(workdays, "_today", lambda: D(2026, 10, 31))
    assert "calendar-missing" not in client.get("/").content.decode()
    monkeypatch.setattr(workdays, "_today", lambda: D(2026, 11, 1))
    page = client.get("/").content.decode()
    assert "calendar-missing" in page and "2027" in page and "请县级管理员" in page
    load_fixture()
    assert "calendar-missing" not in client.get("/").content.decode()


def test_the_sweep_logs_a_missing_next_year_from_1_november(caplog):
    from gongzhi.cases.tasks import run_sweep

    assert missing_calendar_years(D(2026, 10, 31)) == []
    assert missing_calendar_years(D(2026, 11, 1)) == [2027]
    assert missing_calendar_years(D(2027, 3, 1)) == [2027]
    with caplog.at_level(logging.WARNING, logger="gongzhi.core.workdays"):
        run_sweep(now=at(2026, 11, 2))
    assert any("2027" in r.getMessage() and "load_holidays" in r.getMessage() for r in caplog.records)
    caplog.clear()
    load_fixture()
    assert warn_missing_calendar_years(at(2026, 11, 3)) == []


def test_the_command_loads_a_file_and_the_library_years(admin_user, tmp_path, capsys):
    call_command("load_holidays", str(FIXTURE), "--user", "calendar_admin")
    assert WorkdayCalendarYear.objects.get(year=2027).loaded_by == admin_user
    assert "2027: 12 holidays, 2 make-up working days" in capsys.readouterr().out
    bad = tmp_path / "bad.csv"
    bad.write_text("2027-01-04,上班,x\n", encoding="utf-8")
    with pytest.raises(CommandError, match="不能是调休上班日"):
        call_command("load_holidays", str(bad))
    WorkdayCalendarYear.objects.filter(year=2026).delete()
    call_command("load_holidays", "--from-library")
    assert "2026: " in capsys.readouterr().out
    assert not is_working_day(D(2026, 10, 1))
