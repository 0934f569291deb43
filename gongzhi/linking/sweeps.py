"""The linking module's warnings, each sent once however many workers run at once.

* list items (resources, needs, projects) past their review date → flagged stale, told to both
  sides' liaisons and to the town (``linking.supervise_pairing`` over the town);
* fast-track requests not decided in time → the town's deciders and the requester
  (``overdue_warned_at``); still undecided ``escalate_working_days`` later → escalated to the
  county's deciders (``escalated_at``).

The deadlines are computed with the case loop's working-day calendar (``core.workdays``, the
holiday table as data) when the request is made, and the claim follows ``cases/tasks.py``: rows
are picked through a partial index on the due column ``FOR UPDATE SKIP LOCKED`` and marked in
the same transaction, so a second worker skips them and a row leaves the index once warned; a
pass costs what is due, not what exists.
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.db import transaction
from django.utils import timezone

from gongzhi.cases import notifications as case_notifications
from gongzhi.core.audit import AuditAction, audit_record_many

from .models import (
    ApprovalRequest, ApprovalStatus, LiaisonPost, NeedItem, NeedStatus, PairingStatus, Project, ProjectStatus,
    ResourceItem, ResourceState,
)

BATCH = 200
SITE = case_notifications.SITE_NAME

STALE_LISTS = (
    (ResourceItem, "资源", {"state__in": [ResourceState.AVAILABLE, ResourceState.IN_USE]}, "name"),
    (NeedItem, "需求", {"status": NeedStatus.OPEN}, "title"),
    (Project, "项目", {"status": ProjectStatus.UNDERWAY}, "title"),
)


def _notify(user_ids, kind: str, text: str) -> None:
    case_notifications.notify_users({u for u in user_ids if u}, case=None, kind=kind, text=text)


def _liaisons(pairing_ids) -> dict[int, set[int]]:
    holders = defaultdict(set)
    for pairing_id, holder_id in (LiaisonPost.objects.filter(pairing_id__in=pairing_ids, holder__isnull=False,
                                                             holder__is_active=True)
                                  .values_list("pairing_id", "holder_id")):
        holders[pairing_id].add(holder_id)
    return holders


def sweep_stale(today: dt.date | None = None) -> int:
    """Flag every list item whose review is overdue, once, and tell who keeps the list."""
    today = today or timezone.localdate()
    flagged = 0
    for model, label, live, name_field in STALE_LISTS:
        while True:
            with transaction.atomic():
                rows = list(model.objects.select_for_update(skip_locked=True, of=("self",))
                            .filter(stale_flagged_at__isnull=True, review_due_on__lt=today, **live)
                            # an ended pairing's lists are no longer kept: nobody to remind
                            .exclude(pairing__status=PairingStatus.ENDED)
                            .select_related("pairing").order_by("review_due_on", "id")[:BATCH])
                if not rows:
                    break
                now = timezone.now()
                model.objects.filter(pk__in=[r.pk for r in rows]).update(stale_flagged_at=now)
                liaisons = _liaisons({r.pairing_id for r in rows})
                by_pairing = defaultdict(list)
                for row in rows:
                    by_pairing[row.pairing_id].append(row)
                for pairing_id, items in by_pairing.items():
                    pairing = items[0].pairing
                    names = "、".join(getattr(i, name_field) for i in items[:5])
                    more = f"等{len(items)}项" if len(items) > 5 else ""
                    town = case_notifications.holder_ids("linking.supervise_pairing",
                                                         region_ids=[pairing.town_id or pairing.county_id])
                    _notify(liaisons.get(pairing_id, set()) | town, "linking_stale",
                            f"【{SITE}】“{pairing.title}”的{label}清单未按期复核：{names}{more}，请尽快核实更新。")
                audit_record_many(actor=None, action=AuditAction.UPDATE, objects=rows,
                                  note=lambda r: f"{label}清单逾期未复核（应于{r.review_due_on:%Y-%m-%d}前）")
                flagged += len(rows)
    return flagged


def _deciders(region_id: int) -> set[int]:
    return case_notifications.holder_ids("linking.decide_approvalrequest", region_ids=[region_id])


def sweep_approvals(now: dt.datetime | None = None) -> dict:
    now = now or timezone.now()
    warned = escalated = 0
    while True:
        with transaction.atomic():
            rows = list(ApprovalRequest.objects.select_for_update(skip_locked=True, of=("self",))
                        .filter(status=ApprovalStatus.PENDING, overdue_warned_at__isnull=True, due_at__lt=now)
                        .exclude(pairing__status=PairingStatus.ENDED)
                        .select_related("pairing").order_by("due_at", "id")[:BATCH])
            if not rows:
                break
            ApprovalRequest.objects.filter(pk__in=[r.pk for r in rows]).update(overdue_warned_at=now)
            for row in rows:
                _notify(_deciders(row.town_id or row.county_id) | {row.requested_by_id}, "linking_approval_overdue",
                        f"【{SITE}】快速通道申请“{row.title}”（{row.pairing.title}）已超过审批时限，请立即办理。")
            audit_record_many(actor=None, action=AuditAction.UPDATE, objects=rows, note=lambda r: "快速通道审批超时")
            warned += len(rows)
    while True:
        with transaction.atomic():
            rows = list(ApprovalRequest.objects.select_for_update(skip_locked=True, of=("self",))
                        .filter(status=ApprovalStatus.PENDING, escalated_at__isnull=True, county_due_at__lt=now)
                        .exclude(pairing__status=PairingStatus.ENDED)
                        .select_related("pairing").order_by("county_due_at", "id")[:BATCH])
            if not rows:
                break
            ApprovalRequest.objects.filter(pk__in=[r.pk for r in rows]).update(escalated_at=now)
            for row in rows:
                _notify(_deciders(row.county_id) | {row.requested_by_id}, "linking_approval_escalated",
                        f"【{SITE}】快速通道申请“{row.title}”（{row.pairing.title}）逾期仍未审批，已升级至县级督办。")
            audit_record_many(actor=None, action=AuditAction.UPDATE, objects=rows, note=lambda r: "快速通道审批逾期，升级县级督办")
            escalated += len(rows)
    return {"approvals_warned": warned, "approvals_escalated": escalated}


def sweep_all(today: dt.date | None = None, now: dt.datetime | None = None) -> dict:
    result = {"stale": sweep_stale(today)}
    result.update(sweep_approvals(now))
    return result
