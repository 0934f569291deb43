"""Care plans and visits, set-based (the same code for one household and for a whole county).

* red (连心户)   → one three-line helper, one-to-one (the household's party member first, then any
  three-line person in touch with it), a visit every ``red_visit_days`` (7);
* yellow (关心户) → the grid worker, a visit every ``yellow_visit_days`` (30);
* green (放心户) and undecided → no plan: served when they ask (a contact record).

``sync_plans`` ends plans whose household's effective class changed, opens the missing ones and
gives every active plan its next open visit. ``sweep_visits`` warns helpers and grid heads about
visits due soon or overdue: it claims rows with ``SELECT … FOR UPDATE SKIP LOCKED`` and marks them
with a conditional ``UPDATE … WHERE <warned_at> IS NULL``, so several workers can run it at once
and each visit is warned once (the unique constraint on alerts is the last guard).
"""
from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import Case, Exists, F, OuterRef, Q, When
from django.utils import timezone

from gongzhi.registry.models import ContactAssignment, Household

from .models import CareAlert, CarePlan, CareSettings, HouseholdClass, Visit

RED_DAYS = CareSettings._meta.get_field("red_visit_days").default
YELLOW_DAYS = CareSettings._meta.get_field("yellow_visit_days").default
DUE_SOON_DAYS = CareSettings._meta.get_field("due_soon_days").default


def _effective(prefix: str, today: dt.date):
    return Case(When(Q(**{f"{prefix}override_colour__gt": ""}) & Q(**{f"{prefix}override_expires_on__gte": today}),
                     then=F(f"{prefix}override_colour")), default=F(f"{prefix}colour"))


def _helpers(household_ids) -> dict[int, int]:
    """The red household's helper: its party member first, then any three-line person in touch."""
    out: dict[int, int] = {}
    rows = (ContactAssignment.objects.filter(household_id__in=household_ids, ended_on__isnull=True)
            .annotate(pm=Case(When(line="party_member", then=0), default=1))
            .order_by("household_id", "pm", "started_on", "id").values_list("household_id", "person_id"))
    for hid, pid in rows:
        out.setdefault(hid, pid)
    return out


def _intervals() -> dict:
    return {c: (r, y) for c, r, y in CareSettings.objects.values_list("county_id", "red_visit_days", "yellow_visit_days")}


def sync_plans(households, *, today: dt.date | None = None) -> dict:
    """Bring the care plans of a ``Household`` queryset in line with their effective class."""
    today = today or timezone.localdate()
    ids = households.values("pk")
    stale = list(CarePlan.objects.filter(household_id__in=ids, ended_on__isnull=True)
                 .annotate(eff=_effective("household__care_class__", today))
                 .filter(Q(eff__isnull=True) | ~Q(colour=F("eff"))).values_list("pk", flat=True))
    if stale:
        CarePlan.objects.filter(pk__in=stale).update(ended_on=today, ended_reason="分类变化")
        Visit.objects.filter(plan_id__in=stale, done_at__isnull=True).update(cancelled=True)

    needing = list(HouseholdClass.objects.filter(household_id__in=ids).annotate(eff=_effective("", today))
                   .filter(eff__in=["red", "yellow"])
                   .exclude(Exists(CarePlan.objects.filter(household_id=OuterRef("household_id"),
                                                           ended_on__isnull=True)))
                   .values_list("household_id", "eff", "county_id", "town_id", "village_id"))
    opened = 0
    if needing:
        new_ids = [row[0] for row in needing]
        helpers = _helpers(new_ids)
        workers = dict(Household.objects.filter(pk__in=new_ids).values_list("pk", "grid__worker_id"))
        intervals = _intervals()
        plans = []
        for hid, eff, county, town, village in needing:
            red_days, yellow_days = intervals.get(county, (RED_DAYS, YELLOW_DAYS))
            plans.append(CarePlan(household_id=hid, colour=eff, started_on=today,
                                  helper_id=helpers.get(hid) if eff == "red" else workers.get(hid),
                                  interval_days=red_days if eff == "red" else yellow_days,
                                  county_id=county, town_id=town, village_id=village))
        CarePlan.objects.bulk_create(plans, batch_size=5000)
        opened = len(plans)

    # A helper may appear after the plan was opened (a new assignment, a new grid worker).
    missing = list(CarePlan.objects.filter(household_id__in=ids, ended_on__isnull=True, helper__isnull=True)
                   .values_list("pk", "household_id", "colour"))
    if missing:
        helpers = _helpers([m[1] for m in missing])
        workers = dict(Household.objects.filter(pk__in=[m[1] for m in missing]).values_list("pk", "grid__worker_id"))
        for pk, hid, colour in missing:
            helper = helpers.get(hid) if colour == "red" else workers.get(hid)
            if helper:
                CarePlan.objects.filter(pk=pk, helper__isnull=True).update(helper_id=helper)

    without_visit = list(CarePlan.objects.filter(household_id__in=ids, ended_on__isnull=True)
                         .exclude(Exists(Visit.objects.filter(plan_id=OuterRef("pk"), done_at__isnull=True,
                                                              cancelled=False)))
                         .values_list("pk", "household_id", "started_on", "interval_days",
                                      "county_id", "town_id", "village_id"))
    Visit.objects.bulk_create([
        Visit(plan_id=pk, household_id=hid, due_on=started + dt.timedelta(days=days), note="",
              county_id=c, town_id=t, village_id=v)
        for pk, hid, started, days, c, t, v in without_visit], batch_size=5000)
    return {"ended": len(stale), "opened": opened, "visits_scheduled": len(without_visit)}


def _grid_heads(household_ids) -> dict[int, int]:
    """The grid head of each household's grid (or of the grid above it)."""
    rows = Household.objects.filter(pk__in=household_ids).values_list("pk", "grid__head_id", "grid__parent__head_id")
    return {hid: head or parent_head for hid, head, parent_head in rows if head or parent_head}


def _claim(column: str, condition: Q, now: dt.datetime, limit: int) -> list[int]:
    candidates = list(Visit.objects.select_for_update(skip_locked=True)
                      .filter(condition, done_at__isnull=True, cancelled=False, **{f"{column}__isnull": True})
                      .order_by("due_on", "pk").values_list("pk", flat=True)[:limit])
    if not candidates:
        return []
    Visit.objects.filter(pk__in=candidates, **{f"{column}__isnull": True}).update(**{column: now})
    return list(Visit.objects.filter(pk__in=candidates, **{column: now}).values_list("pk", flat=True))


def sweep_visits(*, now: dt.datetime | None = None, limit: int = 1000) -> dict:
    """Warn helpers and grid heads about overdue and due-soon visits; safe with several workers."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    soon_by_county = dict(CareSettings.objects.values_list("county_id", "due_soon_days"))
    horizon = today + dt.timedelta(days=max([DUE_SOON_DAYS, *soon_by_county.values()]))
    counts = {"overdue": 0, "due_soon": 0, "alerts": 0}
    for kind, column, condition in [
        (CareAlert.Kind.OVERDUE, "overdue_warned_at", Q(due_on__lt=today)),
        (CareAlert.Kind.DUE_SOON, "due_soon_warned_at", Q(due_on__gte=today, due_on__lte=horizon)),
    ]:
        skipped: set[int] = set()
        while True:
            with transaction.atomic():
                ids = _claim(column, condition & ~Q(pk__in=skipped), now, limit)
                if not ids:
                    break
                visits = list(Visit.objects.filter(pk__in=ids).values_list(
                    "pk", "household_id", "plan__helper_id", "due_on", "county_id", "town_id", "village_id"))
                if kind == CareAlert.Kind.DUE_SOON:
                    # A county may warn fewer days ahead than the horizon: give those rows back.
                    early = [v[0] for v in visits
                             if v[3] > today + dt.timedelta(days=soon_by_county.get(v[4], DUE_SOON_DAYS))]
                    if early:
                        Visit.objects.filter(pk__in=early).update(due_soon_warned_at=None)
                        skipped.update(early)
                        visits = [v for v in visits if v[0] not in set(early)]
                heads = _grid_heads([v[1] for v in visits])
                alerts = []
                for pk, hid, helper, _due, c, t, vil in visits:
                    for recipient, role in ((helper, "helper"), (heads.get(hid), "grid_head")):
                        if recipient:
                            alerts.append(CareAlert(visit_id=pk, household_id=hid, kind=kind, recipient_id=recipient,
                                                    recipient_role=role, county_id=c, town_id=t, village_id=vil))
                made = CareAlert.objects.bulk_create(alerts, ignore_conflicts=True)
                counts["alerts"] += len(made)
                counts[kind] += len(visits)
    return counts
