"""Writes owned by core. Today: loading a year of the holiday table (节假日安排)."""
from __future__ import annotations

from django.db import transaction

from . import workdays
from .audit import audit_record
from .holidays import Day
from .models import AuditAction, CalendarDay, WorkdayCalendarYear

LOAD_WORKDAY_CALENDAR = "core.load_workdaycalendar"


def _summary(days) -> dict:
    return {
        "holidays": sorted(str(d.date) for d in days if d.kind == "holiday"),
        "adjusted_workdays": sorted(str(d.date) for d in days if d.kind == "adjusted_workday"),
    }


@transaction.atomic
def workday_calendar_load(*, actor, year: int, days: list[Day], source: str = "") -> WorkdayCalendarYear:
    """Replace one year of the holiday table with ``days`` (all of them in ``year``), audited.

    A year is replaced whole, never merged: the State Council's notice gives the complete
    arrangement, and a merge would keep a day a corrected notice has moved. The audit row keeps
    the dates before and after, so a wrong load can be seen and undone by loading again.
    """
    if not days:
        raise ValueError("a year of the holiday table needs at least one day")
    if any(d.date.year != year for d in days):
        raise ValueError("every day must fall in the year being loaded")
    calendar, created = WorkdayCalendarYear.objects.select_for_update().get_or_create(year=year)
    before = None if created else _summary(calendar.days.all())
    calendar.days.all().delete()
    CalendarDay.objects.bulk_create(CalendarDay(calendar=calendar, date=d.date, kind=d.kind, name=d.name)
                                    for d in days)
    calendar.source = source[:200]
    user_ok = actor is not None and getattr(actor, "is_authenticated", False)
    calendar.loaded_by = actor if user_ok else None
    calendar.save()
    after = _summary(days)
    audit_record(actor=actor, action=AuditAction.IMPORT, obj=calendar, object_repr=f"{year}年节假日安排",
                 before=before, after=after,
                 note=f"{source}：放假{len(after['holidays'])}天，调休上班{len(after['adjusted_workdays'])}天")
    # This process forgets at once; the others on their next check (see workdays.invalidate).
    workdays.invalidate()
    transaction.on_commit(workdays.invalidate)
    return calendar


def workday_calendar_load_many(*, actor, years: dict[int, list[Day]], source: str = "") -> list[WorkdayCalendarYear]:
    with transaction.atomic():
        return [workday_calendar_load(actor=actor, year=year, days=days, source=source)
                for year, days in sorted(years.items())]
