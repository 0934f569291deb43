"""Time limits: which applies to a case, and the deadlines they give.

A limit comes from the case's category when it sets one, otherwise from ``TimeLimitDefault``
(the most specific row for the case's ledger and kind of matter wins: ledger+kind, then kind,
then ledger, then the catch-all). Petitions (信访) count natural days; everything else counts
working days on the Chinese calendar (``gongzhi.core.workdays``).

When each clock starts
* acceptance: from receipt (``received_at``);
* first response: from assignment (``assigned_at``), until the unit signs for the case;
* resolution: from acceptance (``accepted_at``), until the case is closed;
* extensions add to the resolution deadline; suspension stops all running clocks (on resumption
  each running deadline moves forward by the time spent suspended, counted the same way).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from gongzhi.core.workdays import add_days, add_working_time, time_between

from .choices import Limit, MatterKind
from .models import Case, CaseCategory, TimeLimitDefault


@dataclass(frozen=True)
class TimeLimit:
    days: int
    natural: bool
    max_times: int | None = None

    def due(self, start: dt.datetime) -> dt.datetime:
        return add_days(start, self.days, natural=self.natural)

    def describe(self) -> str:
        return f"{self.days}个{'自然日' if self.natural else '工作日'}"


_CATEGORY_FIELD = {Limit.ACCEPTANCE: "acceptance_days", Limit.RESPONSE: "response_days",
                   Limit.RESOLUTION: "resolution_days"}


def default_limit(*, ledger: str, kind: str, limit: str) -> TimeLimit:
    rows = {(r.ledger, r.kind): r for r in TimeLimitDefault.objects.filter(
        limit=limit, ledger__in=[ledger, ""], kind__in=[kind, ""])}
    for key in ((ledger, kind), ("", kind), (ledger, ""), ("", "")):
        row = rows.get(key)
        if row is not None:
            return TimeLimit(row.days, row.natural_days, row.max_times)
    raise LookupError(f"no time limit configured for {limit}")


def limit_for(category: CaseCategory, limit: str) -> TimeLimit:
    kind = category.matter_kind
    default = default_limit(ledger=category.ledger, kind=kind, limit=limit)
    field = _CATEGORY_FIELD.get(limit)
    override = getattr(category, field) if field else None
    if override is None:
        return default
    natural = category.is_petition and limit != Limit.RESPONSE
    return TimeLimit(override, natural, default.max_times)


def is_natural(category: CaseCategory) -> bool:
    return category.matter_kind == MatterKind.PETITION or category.is_petition


RUNNING_DEADLINES = ("acceptance_due_at", "response_due_at", "resolution_due_at")


def shift_running_deadlines(case: Case, *, since: dt.datetime, until: dt.datetime) -> dt.timedelta:
    """Move every deadline that had not passed at ``since`` forward by the time in between.

    Returns the amount of (working or natural) time added. Deadlines already passed when the
    clock stopped stay where they are: an overdue case does not become on time by suspension.
    """
    elapsed = time_between(since, until, natural=case.natural_days)
    if not elapsed:
        return elapsed
    for column in RUNNING_DEADLINES:
        due = getattr(case, column)
        if due is None or due <= since:
            continue
        if (column == "acceptance_due_at" and case.accepted_at) or (
                column == "response_due_at" and case.first_response_at):
            continue  # that clock had already stopped
        setattr(case, column, (due + elapsed) if case.natural_days else add_working_time(due, elapsed))
    return elapsed
