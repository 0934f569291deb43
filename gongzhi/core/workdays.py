"""Working days on the Chinese calendar.

Time limits on residents' matters are counted in working days (工作日): public holidays do not
count, and the make-up working days the State Council declares around them (调休上班, always a
Saturday or Sunday) do. The table of holidays and make-up days is data
(``core.WorkdayCalendarYear`` and ``core.CalendarDay``): migration 0003 seeds it with every year
the ``chinesecalendar`` package knows, and the county administrator loads each new year when the
State Council publishes it in the autumn (the page ``/calendar/``, or ``gongzhi load_holidays
FILE``; see ``gongzhi/core/holidays.py`` for the format).

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

Years missing from the table
----------------------------
For a year that has not been loaded this module falls back to Monday–Friday working days with
no public holidays, logs a warning once per year, and ``is_calendar_known`` tells callers whether
the answer is authoritative. From 1 November the next year counts as missing too
(``missing_calendar_years``): the home page shows a warning and the deadline sweep logs one, so
that deadlines set in December that run into January are counted on the right calendar.

Caching: each year is read once per process into two sets (holidays, make-up days). Loading a
year clears this process's cache at once; other processes notice within
``CHECK_EVERY_SECONDS`` through a version number kept in Django's cache (Redis in production).

Natural days (自然日) — used by the petition (信访) rules — are plain ``timedelta(days=n)`` and
need nothing from this module beyond ``add_days(start, n, natural=True)``.
"""
from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from functools import lru_cache

logger = logging.getLogger(__name__)

DAY = dt.timedelta(days=1)
ZERO = dt.timedelta(0)
# Adding working time walks day by day; no time limit in the platform comes near this.
_MAX_DAYS_WALKED = 3660
# How often a process asks the shared cache whether another process has loaded a year.
CHECK_EVERY_SECONDS = 30
_VERSION_KEY = "gongzhi:workdays:version"
# Warn from this day (month, day) of a year when the next year's table is missing.
WARN_NEXT_YEAR_FROM = (11, 1)


class _Year:
    __slots__ = ("holidays", "workdays")

    def __init__(self, holidays: frozenset, workdays: frozenset):
        self.holidays, self.workdays = holidays, workdays


_lock = threading.Lock()
_years: dict[int, _Year | None] = {}
_state = {"checked": 0.0, "version": None}


def _tz():
    from django.utils import timezone

    return timezone.get_default_timezone()


def _shared_version():
    from django.core.cache import cache

    try:
        return cache.get(_VERSION_KEY)
    except Exception:  # a cache outage must not stop deadlines being counted
        logger.warning("cache unavailable: the holiday table may be up to date only in this process")
        return _state["version"]


def invalidate() -> None:
    """Forget every cached year here, and tell the other processes to (the load service calls this)."""
    from django.core.cache import cache

    with _lock:
        _years.clear()
        _warn_unknown_year.cache_clear()
    try:
        cache.set(_VERSION_KEY, time.time_ns(), timeout=None)
        _state["version"] = cache.get(_VERSION_KEY)
    except Exception:
        logger.warning("cache unavailable: other processes will see the new holiday table after a restart")
    _state["checked"] = time.monotonic()


def forget_cache() -> None:
    """Forget this process's cached years only (tests call it between tests)."""
    with _lock:
        _years.clear()
        _warn_unknown_year.cache_clear()
    _state["checked"], _state["version"] = 0.0, None


def _year(year: int) -> _Year | None:
    now = time.monotonic()
    if now - _state["checked"] > CHECK_EVERY_SECONDS:
        version = _shared_version()
        if version != _state["version"]:
            with _lock:
                _years.clear()
            _state["version"] = version
        _state["checked"] = now
    try:
        return _years[year]
    except KeyError:
        pass
    from .models import CalendarDay, WorkdayCalendarYear

    loaded = None
    if WorkdayCalendarYear.objects.filter(year=year).exists():
        holidays, workdays = set(), set()
        for day, kind in CalendarDay.objects.filter(calendar__year=year).values_list("date", "kind"):
            (holidays if kind == "holiday" else workdays).add(day)
        loaded = _Year(frozenset(holidays), frozenset(workdays))
    with _lock:
        _years[year] = loaded
    return loaded


@lru_cache(maxsize=None)
def _warn_unknown_year(year: int) -> None:
    logger.warning("the holiday table has no year %s; counting Monday–Friday as working days", year)


def is_calendar_known(day: dt.date) -> bool:
    return _year(day.year) is not None


def is_working_day(day: dt.date) -> bool:
    """True on ordinary weekdays and make-up working days; False on weekends and public holidays."""
    year = _year(day.year)
    if year is None:
        _warn_unknown_year(day.year)
        return day.weekday() < 5
    if day in year.workdays:
        return True
    return day.weekday() < 5 and day not in year.holidays


def _today() -> dt.date:
    from django.utils import timezone

    return timezone.localdate()


def missing_calendar_years(today: dt.date | None = None) -> list[int]:
    """This year, and from 1 November next year, when their holiday table has not been loaded."""
    today = today or _today()
    wanted = [today.year]
    if (today.month, today.day) >= WARN_NEXT_YEAR_FROM:
        wanted.append(today.year + 1)
    return [y for y in wanted if _year(y) is None]


_warned_on: dict[tuple[dt.date, int], bool] = {}


def warn_missing_calendar_years(now: dt.datetime | None = None) -> list[int]:
    """Log (once a day per process) each year the sweep will count without its holiday table."""
    from django.utils import timezone

    today = timezone.localdate(now) if now is not None else _today()
    missing = missing_calendar_years(today)
    for year in missing:
        if (today, year) not in _warned_on:
            _warned_on[(today, year)] = True
            logger.warning("the holiday table for %s has not been loaded: deadlines in %s count Monday–Friday; "
                           "load the State Council's arrangement at /calendar/ or with `gongzhi load_holidays FILE`",
                           year, year)
    return missing


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
    "add_days", "add_working_days", "add_working_time", "forget_cache", "invalidate", "is_calendar_known",
    "is_working_day", "missing_calendar_years", "next_working_day", "time_between", "warn_missing_calendar_years",
    "working_days_between", "working_time_between",
]
