"""Working days on the Chinese calendar (gongzhi.core.workdays).

The holiday arrangements used here are the State Council's published ones; each test first checks
that chinese_calendar says the same about the days it relies on, so a wrong table fails loudly
instead of silently shifting the expectations.
"""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import chinese_calendar
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gongzhi.core.workdays import (
    add_days, add_working_days, add_working_time, is_calendar_known, is_working_day, next_working_day,
    working_days_between, working_time_between,
)

pytestmark = pytest.mark.django_db  # the holiday table is data (core.CalendarDay)

TZ = ZoneInfo("Asia/Shanghai")
D = dt.date


def at(y, m, d, h=10, minute=0) -> dt.datetime:
    return dt.datetime(y, m, d, h, minute, tzinfo=TZ)


def _library_says(day: dt.date, working: bool, name: str | None = None):
    assert chinese_calendar.is_workday(day) is working, f"chinese_calendar disagrees about {day}"
    if name:
        assert chinese_calendar.get_holiday_detail(day)[1] == name
    assert is_working_day(day) is working


def test_national_day_2025_as_the_library_has_it():
    # 国庆节、中秋节 2025: 1–8 October off; Sunday 28 September and Saturday 11 October worked.
    for day in range(1, 9):  # (6 October is the Mid-autumn Festival, inside the same break)
        _library_says(D(2025, 10, day), False)
    _library_says(D(2025, 10, 1), False, "National Day")
    _library_says(D(2025, 9, 28), True, "National Day")  # a make-up working Sunday
    _library_says(D(2025, 10, 11), True, "National Day")  # a make-up working Saturday
    _library_says(D(2025, 10, 9), True)


def test_adding_working_days_across_national_day_2025():
    # Tuesday 30 Sep 10:00 + 1 working day: 1–8 Oct are holidays → Thursday 9 Oct 10:00.
    assert add_working_days(at(2025, 9, 30), 1) == at(2025, 10, 9)
    # Friday 10 Oct + 1: the make-up Saturday counts → Saturday 11 Oct.
    assert add_working_days(at(2025, 10, 10), 1) == at(2025, 10, 11)
    # Received on Saturday 27 Sep (a rest day): the clock starts on the make-up Sunday 28 Sep, so
    # one working day ends at the end of that Sunday.
    assert add_working_days(at(2025, 9, 27), 1) == at(2025, 9, 29, 0)
    # 13 working days from Friday 26 Sep 09:00: 28, 29, 30 Sep, 9, 10, 11, 13, 14, 15, 16, 17, 20,
    # 21 Oct → Tuesday 21 Oct 09:00.
    assert add_working_days(at(2025, 9, 26, 9), 13) == at(2025, 10, 21, 9)
    # Received during the holiday: the clock starts on 9 Oct; 3 working days end with 11 Oct.
    assert add_working_days(at(2025, 10, 3, 15), 3) == at(2025, 10, 12, 0)


def test_spring_festival_2026_as_the_library_has_it():
    # 春节 2026: 15–23 February off; Saturday 14 Feb and Saturday 28 Feb worked.
    for day in range(15, 24):
        _library_says(D(2026, 2, day), False, "Spring Festival")
    _library_says(D(2026, 2, 14), True, "Spring Festival")
    _library_says(D(2026, 2, 28), True, "Spring Festival")
    _library_says(D(2026, 2, 24), True)


def test_adding_working_days_across_spring_festival_2026():
    assert add_working_days(at(2026, 2, 13), 1) == at(2026, 2, 14)  # Fri → make-up Sat
    assert add_working_days(at(2026, 2, 14), 1) == at(2026, 2, 24)  # make-up Sat → after the festival
    assert add_working_days(at(2026, 2, 27), 1) == at(2026, 2, 28)  # Fri → make-up Sat
    # 3 working days (help / consultation) from Thursday 12 Feb 16:00: 13, 14, 24 Feb → 24 Feb 16:00.
    assert add_working_days(at(2026, 2, 12, 16), 3) == at(2026, 2, 24, 16)
    # [13 Feb, 2 Mar) holds 13, 14, 24, 25, 26, 27 and 28 Feb: 7 working days.
    assert working_days_between(D(2026, 2, 13), D(2026, 3, 2)) == 7


def test_working_time_between_skips_holidays():
    # 30 Sep 12:00 → 9 Oct 12:00: 12 hours on 30 Sep and 12 on 9 Oct.
    assert working_time_between(at(2025, 9, 30, 12), at(2025, 10, 9, 12)) == dt.timedelta(hours=24)
    # 13 Feb 18:00 → 24 Feb 06:00 (2026): 6 h + the make-up Saturday (24 h) + 6 h.
    assert working_time_between(at(2026, 2, 13, 18), at(2026, 2, 24, 6)) == dt.timedelta(hours=36)
    assert working_time_between(at(2026, 2, 16), at(2026, 2, 20)) == dt.timedelta(0)
    assert working_time_between(at(2026, 2, 20), at(2026, 2, 16)) == dt.timedelta(0)


def test_a_suspension_shifts_a_deadline_by_the_working_time_lost():
    # Suspended 30 Sep 10:00, resumed 9 Oct 10:00: 24 working hours lost (14 on 30 Sep, 10 on
    # 9 Oct). A deadline of Friday 10 Oct 12:00 moves by 24 working hours → Saturday 11 Oct 12:00
    # (a make-up working day).
    from gongzhi.cases.deadlines import shift_running_deadlines
    from gongzhi.cases.models import Case

    case = Case(resolution_due_at=at(2025, 10, 10, 12), accepted_at=at(2025, 9, 25), natural_days=False)
    lost = shift_running_deadlines(case, since=at(2025, 9, 30), until=at(2025, 10, 9))
    assert lost == dt.timedelta(hours=24)
    assert case.resolution_due_at == at(2025, 10, 11, 12)
    # a petition's clock counts natural days
    petition = Case(resolution_due_at=at(2025, 11, 20), accepted_at=at(2025, 9, 25), natural_days=True)
    assert shift_running_deadlines(petition, since=at(2025, 9, 30), until=at(2025, 10, 9)) == dt.timedelta(days=9)
    assert petition.resolution_due_at == at(2025, 11, 29)


def test_years_outside_the_table_fall_back_to_monday_to_friday():
    with pytest.raises(NotImplementedError):
        chinese_calendar.is_workday(D(2031, 10, 1))
    assert not is_calendar_known(D(2031, 10, 1))
    assert is_calendar_known(D(2026, 10, 1))
    assert is_working_day(D(2031, 10, 1))  # a Wednesday: no holiday table, so a working day
    assert not is_working_day(D(2031, 10, 4))  # Saturday
    friday = at(2031, 10, 3)
    assert friday.weekday() == 4
    assert add_working_days(friday, 1) == at(2031, 10, 6)
    assert next_working_day(D(2031, 10, 3)) == D(2031, 10, 6)


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError):
        add_working_days(dt.datetime(2026, 3, 2, 10), 1)
    with pytest.raises(ValueError):
        add_working_days(at(2026, 3, 2), -1)


def test_natural_days():
    assert add_days(at(2025, 9, 30), 15, natural=True) == at(2025, 10, 15)
    assert add_days(at(2025, 9, 30), 1) == at(2025, 10, 9)


@settings(max_examples=200, deadline=None)
@given(start=st.datetimes(min_value=dt.datetime(2024, 12, 1), max_value=dt.datetime(2026, 11, 30),
                          timezones=st.just(TZ)),
       days=st.integers(min_value=0, max_value=30),
       hours=st.integers(min_value=0, max_value=23))
def test_adding_then_measuring_working_time_round_trips(start, days, hours):
    amount = dt.timedelta(days=days, hours=hours)
    due = add_working_time(start, amount)
    assert due >= start
    assert working_time_between(start, due) == amount
