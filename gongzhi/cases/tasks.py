"""Background work: the deadline sweep and message delivery (Celery tasks).

The sweep (``run_sweep``) costs what is due, not what is open. For each kind of warning it
claims a batch of up to ``BATCH`` cases with one statement —
``WITH picked AS MATERIALIZED (SELECT id … WHERE <condition> AND <marker> IS NULL ORDER BY
<deadline> LIMIT 500 FOR UPDATE SKIP LOCKED) UPDATE cases_case SET <marker> = now WHERE id IN
(SELECT pk FROM picked) AND <marker> IS NULL RETURNING id``
— read through a partial index per kind (``Case.Meta.indexes``, ``case_sweep_*``: the deadline
column ``WHERE <marker> IS NULL AND status IN <the statuses the clock runs in>``), so a case
leaves the index the moment it is warned and a pass in the steady state reads empty index ranges.
Only the worker whose UPDATE returned an id sends that warning: with any number of workers running
at once each warning is sent exactly once (``SKIP LOCKED`` makes them take disjoint batches; a row
claimed and committed meanwhile is re-checked under its lock and drops out). The timeline entries
and the in-app notifications of a batch are written set-based (``notification_batch.Batch``: a
fixed number of queries per batch, not per case); claim, timeline and notifications commit
together; email/SMS leave after commit.

Warnings, in order (each has its own marker column):
* acceptance overdue → the tier's dispatchers (``acceptance_warned_at``);
* first response overdue (not signed for) → the assigned unit (``response_warned_at``);
* resolution due soon → the unit (``due_soon_warned_at``);
* resolution overdue → the unit and the tier's dispatchers (``overdue_warned_at``);
* resolution overdue by ``GONGZHI_CASE_ESCALATE_AFTER_WORKING_HOURS`` → escalated to the next
  tier's supervisors (督办升级; ``escalated_at``). The handling unit does not change: moving a
  case to another tier is a decision (``services.case_escalate``), not something a timer does;
* an unanswered summons (吹哨 without 报到) → escalated to the summoner and the county's
  supervisors (``Summons.escalated_at``).
Suspended cases are skipped: their clock is stopped.

Run it: ``sweep_deadlines`` under celery beat (settings.CELERY_BEAT_SCHEDULE) in production, or
``gongzhi sweep_deadlines [--loop SECONDS]`` with no extra service (the demo).
"""
from __future__ import annotations

import datetime as dt
import logging

from celery import shared_task
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from gongzhi.core.audit import AuditAction, audit_record_many
from gongzhi.core.bulk_insert import insert_many
from gongzhi.core.workdays import add_working_time, warn_missing_calendar_years

from . import notifications as notify
from .choices import LEVEL_ORDER, LEVEL_RANK, CaseStatus, Level
from .models import RESOLUTION_RUNNING, Case, CaseEvent, Summons
from .notification_batch import Batch

logger = logging.getLogger(__name__)
S = CaseStatus

ACCEPTANCE_RUNNING = [S.REGISTERED, S.PENDING_INSTRUCTION]
BATCH = 500


# The delivery task lives with the messages it sends (notifications.py), so that notifications
# no longer imports this module back; its registered name is unchanged for queued messages.
deliver_message = notify.deliver_message


@shared_task(name="gongzhi.cases.tasks.sweep_deadlines")
def sweep_deadlines() -> dict:
    return run_sweep()


@shared_task(name="gongzhi.cases.tasks.fold_statistics")
def fold_statistics() -> int:
    """Fold the statistics deltas the case triggers appended into the rollups (statistics.py)."""
    from .statistics import statistics_fold

    return statistics_fold()


def _tier_region(case: Case, level: str) -> int | None:
    return notify.tier_region_id(case, Level.VILLAGE if level == Level.GRID else level)


def _up_level(case: Case) -> str:
    rank = LEVEL_RANK[case.current_level]
    return LEVEL_ORDER[min(rank + 1, len(LEVEL_ORDER) - 1)]


def _claim(marker: str, now: dt.datetime, candidates) -> list[int]:
    """The conditional UPDATE, for a batch, in one statement:

    ``WITH picked AS MATERIALIZED (<candidates> LIMIT n FOR UPDATE SKIP LOCKED) UPDATE cases_case
    SET <marker> = now WHERE id IN (SELECT pk FROM picked) AND <marker> IS NULL RETURNING id``.

    ``candidates`` is a queryset of ids that already carries the kind's condition and
    ``<marker> IS NULL``: it is read through the kind's partial index, so finding the work costs
    what is due, not what is open. ``SKIP LOCKED`` lets concurrent workers take disjoint batches
    instead of queueing behind each other; a row another worker has just claimed and committed is
    re-checked under its lock (READ COMMITTED) and drops out. Only the ids returned were claimed
    by this worker, so each warning is sent once.
    """
    inner = candidates.select_for_update(skip_locked=True).values("pk")
    sql, params = inner.query.sql_with_params()
    table, column = connection.ops.quote_name(Case._meta.db_table), connection.ops.quote_name(marker)
    with connection.cursor() as cursor:
        # The candidates are picked once, in a materialised CTE: as a plain ``IN (subquery)`` the
        # planner may rescan the subquery, and a rescan skips the rows this very statement has
        # just updated and picks the next ones, so LIMIT would not bound the batch.
        materialized = "MATERIALIZED " if connection.vendor == "postgresql" else ""
        cursor.execute(f"WITH picked AS {materialized}({sql}) UPDATE {table} SET {column} = %s "
                       f"WHERE id IN (SELECT pk FROM picked) AND {column} IS NULL RETURNING id", [*params, now])
        return [row[0] for row in cursor.fetchall()]


# What the warnings read of a claimed case (texts, recipients, audit): loading only these keeps a
# batch of 500 cheap.
CLAIMED_FIELDS = ["number", "title", "tracking_code", "ledger", "status", "current_level", "acceptance_due_at",
                  "response_due_at", "resolution_due_at", "natural_days", "handler_id", "assignee_grid_id",
                  "assignee_region_id", "assignee_department_id", "complained_person_id", "complained_department_id",
                  "county_id", "town_id", "village_id", "region_id"]


def _claimed(pks: list[int]) -> list[Case]:
    return list(Case.objects.filter(pk__in=pks).only(*CLAIMED_FIELDS).order_by("pk"))


def _record(case: Case, kind: str, note: str) -> None:
    CaseEvent.objects.create(case=case, kind=kind, at=timezone.now(), actor=None, actor_name="系统",
                             from_status=case.status, to_status=case.status, note=note, public=False)


def _record_all(cases: list[Case], kind: str, note) -> None:
    at = timezone.now()
    insert_many(CaseEvent, [
        {"case_id": case.pk, "kind": kind, "at": at, "actor_id": None, "actor_name": "系统",
         "from_status": case.status, "to_status": case.status, "note": note(case) if callable(note) else note,
         "public": False} for case in cases])


def _has_assignee(case: Case) -> bool:
    return bool(case.assignee_department_id or case.assignee_region_id or case.assignee_grid_id)


def _unit_or_dispatchers(batch: Batch, case: Case) -> set[int]:
    unit = batch.unit_users(case) if _has_assignee(case) else set()
    if unit:
        return unit
    return batch.territory_users(case, "cases.dispatch_case", _tier_region(case, case.current_level))


def _dispatchers(batch: Batch, case: Case) -> set[int]:
    return batch.territory_users(case, "cases.dispatch_case", _tier_region(case, case.current_level))


def _sweep_kind(kind: str, marker: str, due_column: str, condition: dict, now: dt.datetime, limit: int,
                recipients, note: str, *, filter_pks=None) -> int:
    """Claim up to ``limit`` cases due for this warning and warn them, in one transaction:
    the claim, the timeline entries and the in-app notifications commit together."""
    with transaction.atomic():
        candidates = Case.objects.filter(**{f"{marker}__isnull": True}, **condition).order_by(due_column, "pk")
        if filter_pks is not None:
            rows = list(candidates.values_list("pk", due_column, "natural_days")[:limit])
            pks = filter_pks(rows)
            if not pks:
                return 0
            candidates = Case.objects.filter(pk__in=pks, **{f"{marker}__isnull": True}, **condition)
        else:
            candidates = candidates[:limit]
        pks = _claim(marker, now, candidates)
        if not pks:
            return 0
        cases = _claimed(pks)
        _record_all(cases, kind, note)
        batch = Batch(cases)
        batch.prefetch("cases.dispatch_case", regions={_tier_region(c, c.current_level) for c in cases})
        batch.prefetch("cases.handle_case", units=True)
        if kind == "overdue_escalated":
            batch.prefetch("cases.supervise_case", regions={_tier_region(c, _up_level(c)) for c in cases})
        for case in cases:
            batch.add(case, kind, recipients(batch, case))
        if kind == "overdue_escalated":
            _escalation_audit(cases)
        batch.send()
        return len(cases)


def run_sweep(now: dt.datetime | None = None, *, limit: int = BATCH) -> dict:
    """One pass over every deadline: up to ``limit`` warnings of each kind. Returns how many warnings
    of each kind this worker sent."""
    now = now or timezone.now()
    warn_missing_calendar_years(now)  # deadlines past 31 Dec need next year's holiday table
    soon = add_working_time(now, dt.timedelta(hours=getattr(settings, "GONGZHI_CASE_DUE_SOON_WORKING_HOURS", 24)))
    grace = dt.timedelta(hours=getattr(settings, "GONGZHI_CASE_ESCALATE_AFTER_WORKING_HOURS", 24))

    # Overdue long enough → escalate to the next tier's supervisors. Working time is never shorter
    # than the same span of natural time, so ``due <= now - grace`` narrows the index range to the
    # only cases that can qualify; the exact working-time test is done on those.
    def past_grace(rows):
        return [pk for pk, due, natural in rows if (due + grace if natural else add_working_time(due, grace)) <= now]

    kinds = [
        ("acceptance_overdue", "acceptance_warned_at", "acceptance_due_at",
         {"status__in": ACCEPTANCE_RUNNING, "acceptance_due_at__lt": now}, _dispatchers, "超过受理时限", None),
        ("response_overdue", "response_warned_at", "response_due_at",
         {"status": S.ASSIGNED, "first_response_at__isnull": True, "response_due_at__lt": now},
         lambda batch, case: batch.unit_users(case), "超过签收时限", None),
        ("due_soon", "due_soon_warned_at", "resolution_due_at",
         {"status__in": RESOLUTION_RUNNING, "resolution_due_at__gt": now, "resolution_due_at__lte": soon},
         _unit_or_dispatchers, "即将到期", None),
        ("overdue", "overdue_warned_at", "resolution_due_at",
         {"status__in": RESOLUTION_RUNNING, "resolution_due_at__lte": now},
         lambda batch, case: _unit_or_dispatchers(batch, case) | _dispatchers(batch, case), "超过办结时限", None),
        ("overdue_escalated", "escalated_at", "resolution_due_at",
         {"status__in": RESOLUTION_RUNNING, "resolution_due_at__lte": now - grace},
         lambda batch, case: batch.territory_users(case, "cases.supervise_case", _tier_region(case, _up_level(case))),
         lambda case: f"超期未办结，提请{Level(_up_level(case)).label}级督办", past_grace),
    ]
    summons = _due_summons(now)
    # In the steady state nothing is due: one statement asks every partial index at once whether
    # it holds anything, and only the kinds that do are swept.
    probes = [Case.objects.filter(**{f"{marker}__isnull": True}, **condition).order_by().values("pk")[:1]
              for _kind, marker, _due, condition, *_rest in kinds] + [summons.order_by().values("pk")[:1]]
    compiled = [q.query.sql_with_params() for q in probes]
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(f"EXISTS ({sql})" for sql, _ in compiled),
                       [p for _, params in compiled for p in params])
        due = cursor.fetchone()
    counts = {}
    for (kind, marker, due_column, condition, recipients, note, filter_pks), any_due in zip(kinds, due):
        counts[kind] = _sweep_kind(kind, marker, due_column, condition, now, limit, recipients, note,
                                   filter_pks=filter_pks) if any_due else 0
    counts["summons_overdue"] = _sweep_summons(now, summons) if due[-1] else 0
    if any(counts.values()):
        logger.info("deadline sweep: %s", counts)
    return counts


def _escalation_audit(cases: list[Case]) -> None:
    audit_record_many(actor=None, action=AuditAction.TRANSITION, objects=cases,
                      note=lambda case: f"超期提级督办（overdue_escalated）→{_up_level(case)}")


def _due_summons(now: dt.datetime):
    return (Summons.objects.filter(acknowledged_at__isnull=True, escalated_at__isnull=True, due_at__lt=now)
            .exclude(case__status=S.CLOSED).order_by("due_at", "pk"))


def _sweep_summons(now: dt.datetime, due) -> int:
    done = 0
    pks = list(due.values_list("pk", flat=True)[:BATCH])
    for pk in pks:
        with transaction.atomic():
            changed = Summons.objects.filter(pk=pk, acknowledged_at__isnull=True, escalated_at__isnull=True,
                                             due_at__lt=now).update(escalated_at=now)
            if not changed:
                continue
            summons = Summons.objects.select_related("case", "department").get(pk=pk)
            case = summons.case
            _record_all([case], "summons_overdue", f"{summons.department}未按时报到，提请县级督办")
            recipients = notify.territory_user_ids(case, "cases.supervise_case", regions=[case.county_id])
            if summons.summoned_by_id:
                recipients.add(summons.summoned_by_id)
            notify.notify_users(recipients, case=case, kind="summons_overdue", department=str(summons.department),
                                summons_due=notify._due(summons.due_at))
            done += 1
    return done
