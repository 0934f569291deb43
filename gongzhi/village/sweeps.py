"""The village layer's warnings, each sent once however many workers run at once.

* overdue decision tasks → the responsible person and the village affairs supervision committee
  (its members' logins and whoever holds ``village.supervise_decision`` on the village);
* a body's term ending within ``term_warning_days`` → the village's secretaries;
* emergency exemptions not explained in time → the town;
* required publicity not made in time (``PublicityRequirement``) → the town (``PublicityFlag``);
* duty lists past their review date → the village and the town.

Claiming follows ``cases/tasks.py``: rows are picked through a partial index on the due column
``FOR UPDATE SKIP LOCKED`` and marked in the same transaction, so a second worker skips them and
a row leaves the index once warned; a pass costs what is due, not what exists.
"""
from __future__ import annotations

import datetime as dt

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from gongzhi.cases import notifications as case_notifications
from gongzhi.registry.models import Region, RegionLevel

from . import quorum as q
from .models import (
    Body, BodyKind, BodyMember, DecisionEntry, DecisionTask, DutyList, EntryKind, Matter, PublicityFlag,
    PublicityItem, PublicityPeriod, PublicityRequirement, PublicityStatus, TaskStatus,
)

BATCH = 200
SITE = case_notifications.SITE_NAME


def _notify(user_ids, kind: str, text: str) -> None:
    case_notifications.notify_users(set(user_ids), case=None, kind=kind, text=text)


def _supervisors(village_id: int) -> set[int]:
    person_ids = BodyMember.objects.filter(body__region_id=village_id, body__kind=BodyKind.SUPERVISION,
                                           body__dissolved_on__isnull=True, ended_on__isnull=True
                                           ).values("person_id")
    users = set(get_user_model().objects.filter(person_id__in=person_ids, is_active=True).values_list("pk", flat=True))
    return users | case_notifications.holder_ids("village.supervise_decision", region_ids=[village_id])


def sweep_tasks(today: dt.date | None = None) -> int:
    today = today or timezone.localdate()
    warned = 0
    while True:
        with transaction.atomic():
            tasks = list(DecisionTask.objects.select_for_update(skip_locked=True, of=("self",))
                         .filter(status=TaskStatus.OPEN, overdue_warned_at__isnull=True, due_on__lt=today)
                         .select_related("decision", "assignee").order_by("due_on", "id")[:BATCH])
            if not tasks:
                return warned
            now = timezone.now()
            DecisionTask.objects.filter(pk__in=[t.pk for t in tasks]).update(overdue_warned_at=now)
            for task in tasks:
                decision = task.decision
                text = (f"【{SITE}】决议“{decision.title}”的任务“{task.title}”已超过完成时限"
                        f"（{task.due_on:%Y-%m-%d}），当前进度{task.progress}%。")
                owners = set()
                if task.assignee_id:
                    owners = set(get_user_model().objects.filter(person_id=task.assignee_id, is_active=True)
                                 .values_list("pk", flat=True))
                _notify(owners | _supervisors(task.village_id), "village_task_overdue", text)
                DecisionEntry.objects.create(decision=decision, task=task, kind=EntryKind.OVERDUE, text=text,
                                             at=now, actor_name="系统", county_id=task.county_id,
                                             town_id=task.town_id, village_id=task.village_id)
            warned += len(tasks)


def sweep_terms(today: dt.date | None = None) -> int:
    today = today or timezone.localdate()
    warned = 0
    with transaction.atomic():
        bodies = list(Body.objects.select_for_update(skip_locked=True)
                      .filter(term_warned_at__isnull=True, dissolved_on__isnull=True, term_end__isnull=False,
                              term_end__lte=today + dt.timedelta(days=365)).order_by("term_end")[:BATCH * 5])
        warning_days: dict[int, int] = {}  # per county: one settings read per county, not per body
        for body in bodies:
            if body.county_id not in warning_days:
                warning_days[body.county_id] = q.settings_for(body.county_id).term_warning_days
            days = warning_days[body.county_id]
            if body.term_end > today + dt.timedelta(days=days):
                continue
            Body.objects.filter(pk=body.pk).update(term_warned_at=timezone.now())
            text = f"【{SITE}】{body.name}本届任期将于{body.term_end:%Y年%m月%d日}届满，请做好换届准备。"
            _notify(case_notifications.holder_ids("village.change_body", region_ids=[body.village_id, body.town_id]),
                    "village_term", text)
            warned += 1
    return warned


def sweep_exemptions(today: dt.date | None = None) -> int:
    today = today or timezone.localdate()
    due = Matter.objects.filter(exempted_at__isnull=False, explained_at__isnull=True, explain_due_on__lt=today)
    count = 0
    with transaction.atomic():
        for matter in due.select_for_update(skip_locked=True)[:BATCH]:
            # Warned once: the due date moves on by the county's period, so the town hears again
            # if the explanation is still missing then.
            days = q.settings_for(matter.county_id).exemption_explain_days
            Matter.objects.filter(pk=matter.pk).update(explain_due_on=today + dt.timedelta(days=days))
            _notify(case_notifications.holder_ids("village.view_matter", region_ids=[matter.town_id]),
                    "village_exemption", f"【{SITE}】{matter.title}按紧急情况先行决定，至今未作事后备案说明。")
            count += 1
    return count


def last_period(period: str, today: dt.date) -> tuple[dt.date, dt.date]:
    """The last complete period before ``today``."""
    if period == PublicityPeriod.MONTHLY:
        end = today.replace(day=1) - dt.timedelta(days=1)
        return end.replace(day=1), end
    if period == PublicityPeriod.QUARTERLY:
        quarter_start_month = (today.month - 1) // 3 * 3 + 1
        end = today.replace(month=quarter_start_month, day=1) - dt.timedelta(days=1)
        start_month = (end.month - 1) // 3 * 3 + 1
        return end.replace(month=start_month, day=1), end
    end = dt.date(today.year - 1, 12, 31)
    return dt.date(today.year - 1, 1, 1), end


def sweep_publicity(today: dt.date | None = None) -> int:
    """Flag each village that has not published a required category for the last period."""
    today = today or timezone.localdate()
    flagged = 0
    for requirement in PublicityRequirement.objects.all():
        start, end = last_period(requirement.period, today)
        if today <= end + dt.timedelta(days=requirement.grace_days):
            continue
        villages = Region.objects.filter(county_id=requirement.county_id, level=RegionLevel.VILLAGE)
        published = set(PublicityItem.objects.filter(
            county_id=requirement.county_id, category=requirement.category,
            status__in=[PublicityStatus.PUBLISHED, PublicityStatus.SUPERSEDED],
            period_start__lte=end, period_end__gte=start).values_list("region_id", flat=True))
        already = set(PublicityFlag.objects.filter(county_id=requirement.county_id, category=requirement.category,
                                                   period_start=start).values_list("region_id", flat=True))
        missing = [v for v in villages if v.pk not in published and v.pk not in already]
        now = timezone.now()
        with transaction.atomic():
            rows = PublicityFlag.objects.bulk_create(
                [PublicityFlag(region=v, category=requirement.category, period_start=start, period_end=end,
                               flagged_at=now, county_id=v.county_id, town_id=v.town_id, village_id=v.pk)
                 for v in missing], ignore_conflicts=True)
            by_town: dict[int, list[str]] = {}
            for v in missing:
                by_town.setdefault(v.town_id, []).append(v.name)
            label = requirement.get_category_display()
            for town_id, names in by_town.items():
                _notify(case_notifications.holder_ids("village.view_publicityitem", region_ids=[town_id]),
                        "village_publicity_overdue",
                        f"【{SITE}】{start:%Y-%m-%d}至{end:%Y-%m-%d}的{label}未按时公开：{'、'.join(names[:20])}"
                        + (f"等{len(names)}个村" if len(names) > 20 else ""))
        flagged += len(rows)
    return flagged


def resolve_publicity_flags() -> int:
    """A flag is resolved when the village publishes for that period after all."""
    resolved = 0
    for flag in PublicityFlag.objects.filter(resolved_at__isnull=True):
        if PublicityItem.objects.filter(region_id=flag.region_id, category=flag.category,
                                        status__in=[PublicityStatus.PUBLISHED, PublicityStatus.SUPERSEDED],
                                        period_start__lte=flag.period_end, period_end__gte=flag.period_start).exists():
            PublicityFlag.objects.filter(pk=flag.pk, resolved_at__isnull=True).update(resolved_at=timezone.now())
            resolved += 1
    return resolved


def sweep_duty_lists(today: dt.date | None = None) -> int:
    today = today or timezone.localdate()
    count = 0
    with transaction.atomic():
        for row in (DutyList.objects.select_for_update(skip_locked=True)
                    .filter(stale_flagged_at__isnull=True, review_due_on__lt=today)[:BATCH]):
            DutyList.objects.filter(pk=row.pk).update(stale_flagged_at=timezone.now())
            _notify(case_notifications.holder_ids("village.change_dutylist", region_ids=[row.village_id, row.town_id]),
                    "village_duty_stale",
                    f"【{SITE}】{row.get_kind_display()}已超过复核日期（{row.review_due_on:%Y-%m-%d}），请组织复核。")
            count += 1
    return count


def sweep_all(today: dt.date | None = None) -> dict:
    return {"tasks": sweep_tasks(today), "terms": sweep_terms(today), "exemptions": sweep_exemptions(today),
            "publicity": sweep_publicity(today), "publicity_resolved": resolve_publicity_flags(),
            "duty_lists": sweep_duty_lists(today)}

