"""Background work: the deadline sweep and message delivery (Celery tasks).

The sweep (``run_sweep``) finds cases through the indexed deadline columns and, for each one,
claims the warning with a *conditional UPDATE* —
``Case.objects.filter(pk=…, overdue_warned_at__isnull=True, …).update(overdue_warned_at=now)`` —
and only the worker whose UPDATE changed a row sends the warning. PostgreSQL serialises the
competing UPDATEs on the row lock and re-checks the condition (READ COMMITTED), so with any number
of workers running at once each warning is sent exactly once. The claim, the timeline event and
the in-app notifications commit together; email/SMS leave after commit.

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
from django.db import transaction
from django.utils import timezone

from gongzhi.core.audit import AuditAction, audit_record
from gongzhi.core.workdays import add_working_time

from . import notifications as notify
from .choices import LEVEL_ORDER, LEVEL_RANK, CaseStatus, Level
from .models import Case, CaseEvent, Summons

logger = logging.getLogger(__name__)
S = CaseStatus

RESOLUTION_RUNNING = [S.ACCEPTED, S.ASSIGNED, S.IN_PROGRESS, S.RETURNED, S.RESULT_REPORTED, S.APPROVED,
                      S.AWAITING_FEEDBACK, S.EVALUATED, S.PENDING_INSTRUCTION]
BATCH = 500


# The delivery task lives with the messages it sends (notifications.py), so that notifications
# no longer imports this module back; its registered name is unchanged for queued messages.
deliver_message = notify.deliver_message


@shared_task(name="gongzhi.cases.tasks.sweep_deadlines")
def sweep_deadlines() -> dict:
    return run_sweep()


def _tier_region(case: Case, level: str) -> int | None:
    return notify.tier_region_id(case, Level.VILLAGE if level == Level.GRID else level)


def _record(case: Case, kind: str, note: str) -> None:
    CaseEvent.objects.create(case=case, kind=kind, at=timezone.now(), actor=None, actor_name="系统",
                             from_status=case.status, to_status=case.status, note=note, public=False)


def _claim(pk: int, marker: str, now: dt.datetime, **condition) -> Case | None:
    """The conditional UPDATE. Returns the case when this worker won the claim, else None."""
    changed = Case.objects.filter(pk=pk, **{f"{marker}__isnull": True}, **condition).update(**{marker: now})
    if not changed:
        return None
    return Case.objects.select_related("assignee_grid", "assignee_region", "assignee_department").get(pk=pk)


def _each(queryset, marker: str, now: dt.datetime, condition: dict, act) -> int:
    done = 0
    for pk in list(queryset.values_list("pk", flat=True)[:BATCH]):
        with transaction.atomic():
            case = _claim(pk, marker, now, **condition)
            if case is not None:
                act(case)
                done += 1
    return done


def run_sweep(now: dt.datetime | None = None) -> dict:
    """One pass over every deadline. Returns how many warnings of each kind this worker sent."""
    now = now or timezone.now()
    soon = add_working_time(now, dt.timedelta(hours=getattr(settings, "GONGZHI_CASE_DUE_SOON_WORKING_HOURS", 24)))
    grace = dt.timedelta(hours=getattr(settings, "GONGZHI_CASE_ESCALATE_AFTER_WORKING_HOURS", 24))
    counts = {}

    # acceptance overdue
    cond = {"status__in": [S.REGISTERED, S.PENDING_INSTRUCTION], "acceptance_due_at__lt": now}

    def warn_acceptance(case):
        _record(case, "acceptance_overdue", "超过受理时限")
        notify.notify_users(notify.territory_user_ids(case, "cases.dispatch_case",
                                                      regions=[_tier_region(case, case.current_level)]),
                            case=case, kind="acceptance_overdue")

    counts["acceptance_overdue"] = _each(
        Case.objects.filter(acceptance_warned_at__isnull=True, **cond), "acceptance_warned_at", now, cond,
        warn_acceptance)

    # first response overdue
    cond = {"status": S.ASSIGNED, "first_response_at__isnull": True, "response_due_at__lt": now}

    def warn_response(case):
        _record(case, "response_overdue", "超过签收时限")
        notify.notify_users(notify.unit_user_ids(case), case=case, kind="response_overdue")

    counts["response_overdue"] = _each(
        Case.objects.filter(response_warned_at__isnull=True, **cond), "response_warned_at", now, cond,
        warn_response)

    # resolution due soon
    cond = {"status__in": RESOLUTION_RUNNING, "resolution_due_at__gt": now, "resolution_due_at__lte": soon}

    def warn_due_soon(case):
        _record(case, "due_soon", "即将到期")
        notify.notify_users(_unit_or_dispatchers(case), case=case, kind="due_soon")

    counts["due_soon"] = _each(
        Case.objects.filter(due_soon_warned_at__isnull=True, **cond), "due_soon_warned_at", now, cond,
        warn_due_soon)

    # resolution overdue
    cond = {"status__in": RESOLUTION_RUNNING, "resolution_due_at__lte": now}

    def warn_overdue(case):
        _record(case, "overdue", "超过办结时限")
        recipients = _unit_or_dispatchers(case) | notify.territory_user_ids(
            case, "cases.dispatch_case", regions=[_tier_region(case, case.current_level)])
        notify.notify_users(recipients, case=case, kind="overdue")

    counts["overdue"] = _each(
        Case.objects.filter(overdue_warned_at__isnull=True, **cond), "overdue_warned_at", now, cond, warn_overdue)

    # overdue long enough → escalate to the next tier's supervisors
    candidates = list(Case.objects.filter(escalated_at__isnull=True, **cond)
                      .values_list("pk", "resolution_due_at", "natural_days")[:BATCH])
    escalate_pks = [pk for pk, due, natural in candidates
                    if (due + grace if natural else add_working_time(due, grace)) <= now]
    counts["overdue_escalated"] = _each(Case.objects.filter(pk__in=escalate_pks), "escalated_at", now, cond,
                                        _escalate_supervision)

    # unanswered summons
    counts["summons_overdue"] = _sweep_summons(now)
    if any(counts.values()):
        logger.info("deadline sweep: %s", counts)
    return counts


def _unit_or_dispatchers(case: Case) -> set[int]:
    unit = notify.unit_user_ids(case) if case.assignee else set()
    if unit:
        return unit
    return notify.territory_user_ids(case, "cases.dispatch_case", regions=[_tier_region(case, case.current_level)])


def _escalate_supervision(case: Case) -> None:
    rank = LEVEL_RANK[case.current_level]
    up = LEVEL_ORDER[min(rank + 1, len(LEVEL_ORDER) - 1)]
    region_id = _tier_region(case, up)
    _record(case, "overdue_escalated", f"超期未办结，提请{Level(up).label}级督办")
    audit_record(actor=None, action=AuditAction.TRANSITION, obj=case, note=f"超期提级督办（overdue_escalated）→{up}")
    notify.notify_users(notify.territory_user_ids(case, "cases.supervise_case", regions=[region_id]),
                        case=case, kind="overdue_escalated")


def _sweep_summons(now: dt.datetime) -> int:
    done = 0
    pks = list(Summons.objects.filter(acknowledged_at__isnull=True, escalated_at__isnull=True, due_at__lt=now)
               .exclude(case__status=S.CLOSED).values_list("pk", flat=True)[:BATCH])
    for pk in pks:
        with transaction.atomic():
            changed = Summons.objects.filter(pk=pk, acknowledged_at__isnull=True, escalated_at__isnull=True,
                                             due_at__lt=now).update(escalated_at=now)
            if not changed:
                continue
            summons = Summons.objects.select_related("case", "department").get(pk=pk)
            case = summons.case
            _record(case, "summons_overdue", f"{summons.department}未按时报到，提请县级督办")
            recipients = notify.territory_user_ids(case, "cases.supervise_case", regions=[case.county_id])
            if summons.summoned_by_id:
                recipients.add(summons.summoned_by_id)
            notify.notify_users(recipients, case=case, kind="summons_overdue", department=str(summons.department),
                                summons_due=notify._due(summons.due_at))
            done += 1
    return done
