"""Working days on the Chinese calendar.

Time limits on residents' matters are counted in working days (工作日): public holidays do not
count, and the make-up working days the State Council declares around them (调休上班, often a
Saturday or Sunday) do. The table of holidays and make-up days comes from the maintained
``chinesecalendar`` package (``import chinese_calendar``), updated every year when the State
Council publishes the next year's arrangement.

The model of time used here
---------------------------
*Working time* is all the time that falls on a working day (the whole calendar day, in the
project's time zone, ``settings.TIME_ZONE``). So:

* ``add_working_days(start, n)`` is ``start`` plus ``n`` days of working time. A matter received
  on a Tuesday at 10:00 with one working day is due on the next working day at 10:00; one received
  on a holiday starts its clock at 00:00 of the next working day, so it is due at the end of the
  ``n``-th working day (expressed as 00:00 of the following day, the same instant).
* ``working_time_between(a, b)`` is how much working time passed between two instants. While a
  case is suspended (缓办) its clock stops: on resumption its deadlines move forward by exactly
  that much working time (``add_working_time(due, working_time_between(suspended, resumed))``).

Years outside the library's table
---------------------------------
``chinese_calendar`` knows only the years whose arrangement has been published (it raises
``NotImplementedError`` for the others). For those years this module falls back to Monday–Friday
working days with no public holidays, logs a warning once per year, and ``is_calendar_known``
tells callers whether the answer is authoritative. Upgrading the package (``pip install -U
chinesecalendar``) brings in the new year.

Natural days (自然日) — used by the petition (信访) rules — are plain ``timedelta(days=n)`` and
need nothing from this module beyond ``add_days(start, n, natural=True)``.
"""
from __future__ import annotations

import datetime as dt
import logging
from functools import lru_cache

import chinese_calendar

logger = logging.getLogger(__name__)

DAY = dt.timedelta(days=1)
ZERO = dt.timedelta(0)
# Adding working time walks day by day; no time limit in the platform comes near this.
_MAX_DAYS_WALKED = 3660


def _tz():
    from django.utils import timezone

    return timezone.get_default_timezone()


@lru_cache(maxsize=None)
def _warn_unknown_year(year: int) -> None:
    logger.warning("chinese_calendar has no holiday table for %s; counting Monday–Friday as working days", year)


@lru_cache(maxsize=8192)
def is_calendar_known(day: dt.date) -> bool:
    try:
        chinese_calendar.is_workday(day)
    except NotImplementedError:
        return False
    return True


@lru_cache(maxsize=8192)
def is_working_day(day: dt.date) -> bool:
    """True on ordinary weekdays and make-up working days; False on weekends and public holidays."""
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        _warn_unknown_year(day.year)
        return day.weekday() < 5


def _local(value: dt.datetime) -> dt.datetime:
    if value.tzinfo is None:
        raise ValueError("working-day arithmetic needs an aware datetime")
    return value.astimezone(_tz())


def _day_start(day: dt.date) -> dt.datetime:
    # Midnight in local time. Arithmetic here is wall-clock arithmetic in one zone, exact for
    # zones without daylight saving time such as Asia/Shanghai (the platform's zone).
    return dt.datetime.combine(day, dt.time.min, tzinfo=_tz())


def next_working_day(day: dt.date, *, include_today: bool = False) -> dt.date:
    day = day if include_today else day + DAY
    for _ in range(_MAX_DAYS_WALKED):
        if is_working_day(day):
            return day
        day += DAY
    raise ValueError("no working day found")  # pragma: no cover


def add_working_time(start: dt.datetime, amount: dt.timedelta) -> dt.datetime:
    """``start`` plus ``amount`` of working time (time on working days only)."""
    if amount < ZERO:
        raise ValueError("amount must not be negative")
    local = _local(start)
    day = local.date()
    if is_working_day(day):
        position = local
    else:
        day = next_working_day(day)
        position = _day_start(day)
    remaining = amount
    for _ in range(_MAX_DAYS_WALKED):
        end_of_day = _day_start(day + DAY)
        available = end_of_day - position
        if remaining <= available:
            return position + remaining
        remaining -= available
        day = next_working_day(day)
        position = _day_start(day)
    raise ValueError("time limit too long")  # pragma: no cover


def add_working_days(start: dt.datetime, n: int) -> dt.datetime:
    """``start`` plus ``n`` working days (see the module docstring for the exact rule)."""
    if n < 0:
        raise ValueError("n must not be negative")
    return add_working_time(start, dt.timedelta(days=n))


def add_days(start: dt.datetime, n: int, *, natural: bool = False) -> dt.datetime:
    """``n`` natural days (自然日) or ``n`` working days (工作日) after ``start``."""
    return start + dt.timedelta(days=n) if natural else add_working_days(start, n)


def working_time_between(start: dt.datetime, end: dt.datetime) -> dt.timedelta:
    """How much working time lies between two instants (zero when ``end`` is not after ``start``)."""
    if end <= start:
        return ZERO
    a, b = _local(start), _local(end)
    total = ZERO
    day = a.date()
    for _ in range((b.date() - a.date()).days + 1):
        if is_working_day(day):
            lo = max(a, _day_start(day))
            hi = min(b, _day_start(day + DAY))
            if hi > lo:
                total += hi - lo
        day += DAY
    return total


def time_between(start: dt.datetime, end: dt.datetime, *, natural: bool = False) -> dt.timedelta:
    if natural:
        return max(ZERO, end - start)
    return working_time_between(start, end)


def working_days_between(start: dt.date, end: dt.date) -> int:
    """Number of working days d with start <= d < end."""
    count, day = 0, start
    while day < end:
        count += is_working_day(day)
        day += DAY
    return count


__all__ = [
    "add_days", "add_working_days", "add_working_time", "is_calendar_known", "is_working_day",
    "next_working_day", "time_between", "working_days_between", "working_time_between",
]
