"""Reads of the care app. Every read of people's data starts from ``visible_to(user, perm)``."""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Case, Count, Exists, F, OuterRef, Q, Value, When
from django.utils import timezone

from gongzhi.registry.models import ContactAssignment, Deputy, Grid, Household, Person, Region

from . import classify
from .models import (
    COLOUR_ZH, ArchiveChange, CareAlert, ContactRecord, HouseholdClass, HouseholdClassChange, Patrol,
    ReceptionSession, ReceptionSuggestion, Visit, WatchEvent,
)
from .services import line_limits

COLOURS = ["red", "yellow", "green", "undecided"]


def effective_colour(today: dt.date | None = None):
    today = today or timezone.localdate()
    return Case(When(Q(override_colour__gt="") & Q(override_expires_on__gte=today), then=F("override_colour")),
                default=F("colour"))


# ---------------------------------------------------------------------------------------------
# the three-line person's and grid worker's own work


def my_households(user, *, q: str = "", limit: int = 50):
    """The households the user keeps in touch with first; then the rest of their scope."""
    visible = Household.objects.visible_to(user, "care.add_contactrecord")
    person_id = getattr(user, "person_id", None)
    in_touch = ContactAssignment.objects.filter(household=OuterRef("pk"), person_id=person_id, ended_on__isnull=True)
    rows = visible.annotate(is_mine=Exists(in_touch) if person_id else Value(False))
    if q:
        named = Person.objects.filter(Q(name__contains=q) | Q(name_initials=q.lower())).values("household_id")
        rows = rows.filter(Q(code__icontains=q) | Q(pk__in=named) | Q(address__contains=q))
    rows = rows.order_by("-is_mine", "code").prefetch_related("members").select_related("care_class")
    return list(rows[:limit])


def visits_due(user, *, within_days: int = 14, limit: int = 50):
    """The first ``limit`` of ``visits_due_queryset`` (the care home page's preview)."""
    return list(visits_due_queryset(user, within_days=within_days)[:limit])


def visits_due_queryset(user, *, within_days: int = 14):
    """Open visits in the user's scope, overdue first. A three-line person sees the visits of the
    plans they help with; a grid worker those of their grid."""
    today = timezone.localdate()
    rows = (Visit.objects.visible_to(user, "care.change_visit")
            .filter(done_at__isnull=True, cancelled=False, due_on__lte=today + dt.timedelta(days=within_days))
            .select_related("household", "plan__helper").order_by("due_on", "id"))
    person_id = getattr(user, "person_id", None)
    if person_id and not user.is_superuser:
        mine = rows.filter(plan__helper_id=person_id)
        if mine.exists():
            rows = mine
    return rows


def my_alerts(user, *, unread_only: bool = True):
    rows = CareAlert.objects.visible_to(user, "care.view_carealert").filter(recipient_id=getattr(user, "person_id", None))
    if unread_only:
        rows = rows.filter(read_at__isnull=True)
    return rows.select_related("visit", "household").order_by("-created_at")


def my_open_patrol(user):
    return (Patrol.objects.visible_to(user, "care.add_patrol").filter(recorded_by=user, ended_at__isnull=True)
            .select_related("grid").first())


def my_grids(user):
    return list(Grid.objects.visible_to(user, "care.add_patrol").filter(children__isnull=True).order_by("code")[:20])


def my_villages(user):
    """Villages the user may oversee (for the village pages)."""
    return list(Region.objects.visible_to(user, "care.view_householdclass").filter(level=3).order_by("code")[:50])


# ---------------------------------------------------------------------------------------------
# classification lists and counts


def class_counts(user, *, village: Region) -> dict:
    """Counts by effective colour per grid of the village, and the village total, in one query."""
    rows = (HouseholdClass.objects.visible_to(user, "care.view_householdclass").filter(village_id=village.pk)
            .annotate(eff=effective_colour()).values("grid_id", "eff").annotate(n=Count("pk")))
    per_grid: dict = defaultdict(lambda: dict.fromkeys(COLOURS, 0))
    total = dict.fromkeys(COLOURS, 0)
    for row in rows:
        per_grid[row["grid_id"]][row["eff"]] += row["n"]
        total[row["eff"]] += row["n"]
    grids = {g.pk: g for g in Grid.objects.filter(pk__in=[k for k in per_grid if k])}
    unclassified = (Household.objects.visible_to(user, "care.view_householdclass").filter(village_id=village.pk)
                    .filter(care_class__isnull=True).count())
    return {"grids": [(grids.get(gid), counts) for gid, counts in sorted(per_grid.items(), key=lambda kv: kv[0] or 0)],
            "total": total, "unclassified": unclassified}


def class_list(user, *, village: Region, colour: str = "", grid_id: int | None = None):
    rows = (HouseholdClass.objects.visible_to(user, "care.view_householdclass").filter(village_id=village.pk)
            .annotate(eff=effective_colour()).select_related("household", "grid").order_by("household__code"))
    if colour:
        rows = rows.filter(eff=colour)
    if grid_id:
        rows = rows.filter(grid_id=grid_id)
    return rows


# ---------------------------------------------------------------------------------------------
# coverage of the three lines


@dataclass
class Coverage:
    village: Region
    households: int = 0
    uncovered: list = field(default_factory=list)
    persons: list = field(default_factory=list)  # [(person, line, count, (min, max))]
    over: list = field(default_factory=list)
    under: list = field(default_factory=list)
    red_without_helper: list = field(default_factory=list)


def coverage(user, *, village: Region) -> Coverage:
    households = Household.objects.visible_to(user, "registry.view_household").filter(village_id=village.pk)
    active = ContactAssignment.objects.visible_to(user, "registry.view_contactassignment").filter(
        village_id=village.pk, ended_on__isnull=True)
    report = Coverage(village=village, households=households.count())
    # A queryset: the page and the API paginate it (gongzhi.core.pagination).
    report.uncovered = (households.exclude(pk__in=active.values("household_id")).prefetch_related("members")
                        .order_by("code"))
    limits = line_limits(village.county_id)
    counts = active.values("person_id", "person__name", "line").annotate(n=Count("pk")).order_by("person__name")
    for row in counts:
        low, high = limits.get(row["line"], (3, 5))
        entry = (row["person__name"], row["line"], row["n"], (low, high), row["person_id"])
        report.persons.append(entry)
        if row["n"] > high:
            report.over.append(entry)
        elif row["n"] < low:
            report.under.append(entry)
    report.red_without_helper = list(
        HouseholdClass.objects.visible_to(user, "care.view_householdclass").filter(village_id=village.pk)
        .annotate(eff=effective_colour()).filter(eff="red")
        .exclude(household_id__in=active.values("household_id")).select_related("household")[:200])
    return report


def active_assignments(user, *, village: Region):
    return (ContactAssignment.objects.visible_to(user, "registry.view_contactassignment")
            .filter(village_id=village.pk, ended_on__isnull=True).select_related("person", "household")
            .order_by("person__name", "household__code"))


# ---------------------------------------------------------------------------------------------
# return-to-poverty watch


def watch_list(user, *, village: Region) -> list[tuple[Household, list[str]]]:
    """Households of the village on the watch list, with the reasons, computed from the facts."""
    ids = list(Household.objects.visible_to(user, "care.view_watchevent").filter(village_id=village.pk)
               .values_list("pk", flat=True))
    if not ids:
        return []
    today = timezone.localdate()
    settings = classify.load_settings(village.county_id)
    facts = classify.fetch_facts(Household.objects.filter(pk__in=ids),
                                 events_since=today - dt.timedelta(days=31 * settings.watch_event_months))
    listed = {f.id: reasons for f in facts if (reasons := classify.watch_reasons(f, settings, today))}
    households = Household.objects.filter(pk__in=listed).prefetch_related("members").order_by("code")
    return [(h, listed[h.pk]) for h in households]


# ---------------------------------------------------------------------------------------------
# visits


def visit_completion(user, *, village: Region, days: int = 30) -> dict:
    """Per grid of the village: visits due in the last ``days`` days, done, done on time, overdue."""
    today = timezone.localdate()
    since = today - dt.timedelta(days=days)
    rows = (Visit.objects.visible_to(user, "care.view_visit").filter(village_id=village.pk, cancelled=False,
                                                                     due_on__gte=since, due_on__lte=today)
            .values("household__grid_id")
            .annotate(due=Count("pk"), done=Count("pk", filter=Q(done_at__isnull=False)),
                      on_time=Count("pk", filter=Q(done_at__isnull=False, done_at__date__lte=F("due_on"))),
                      overdue=Count("pk", filter=Q(done_at__isnull=True, due_on__lt=today))))
    grids = {g.pk: g for g in Grid.objects.filter(village_id=village.pk)}
    out, total = [], {"due": 0, "done": 0, "on_time": 0, "overdue": 0}
    for row in rows:
        for key in total:
            total[key] += row[key]
        out.append((grids.get(row["household__grid_id"]), row, _rate(row)))
    out.sort(key=lambda t: t[0].code if t[0] else "")
    return {"grids": out, "total": total, "rate": _rate(total), "since": since, "today": today}


def _rate(row) -> float | None:
    return round(100 * row["done"] / row["due"], 1) if row["due"] else None


# ---------------------------------------------------------------------------------------------
# archive


def pending_changes(user, *, village: Region):
    return (ArchiveChange.objects.visible_to(user, "care.view_archivechange")
            .filter(village_id=village.pk, status=ArchiveChange.Status.PENDING)
            .select_related("household", "person", "recorded_by").order_by("recorded_at", "id"))


@dataclass
class TimelineEntry:
    at: dt.datetime
    kind: str
    title: str
    detail: str = ""
    obj: object = None


def household_timeline(user, *, household: Household, limit: int = 200) -> list[TimelineEntry]:
    """一户一档: archive changes, contacts, visits, class changes and watch events, newest first."""
    hid = household.pk
    entries: list[TimelineEntry] = []
    for c in ArchiveChange.objects.visible_to(user, "care.view_archivechange").filter(household_id=hid).select_related(
            "person", "recorded_by")[:limit]:
        who = c.person.name if c.person else c.payload.get("name", "")
        entries.append(TimelineEntry(c.recorded_at, "change", f"{c.get_kind_display()} {who}",
                                     f"{c.get_status_display()} {c.decision_note}".strip(), c))
    for r in ContactRecord.objects.visible_to(user, "care.view_contactrecord").filter(household_id=hid).select_related(
            "person")[:limit]:
        entries.append(TimelineEntry(r.contacted_at, "contact", f"{r.get_method_display()}（{r.person.name if r.person else r.recorded_by}）",
                                     r.heard + (f" → 事项 {r.case_ref}" if r.case_ref else ""), r))
    for v in Visit.objects.visible_to(user, "care.view_visit").filter(household_id=hid, done_at__isnull=False
                                                                     ).select_related("visitor")[:limit]:
        entries.append(TimelineEntry(v.done_at, "visit", f"走访（{v.visitor.name if v.visitor else v.recorded_by}）",
                                     v.note, v))
    for h in HouseholdClassChange.objects.visible_to(user, "care.view_householdclasschange").filter(
            household_id=hid)[:limit]:
        entries.append(TimelineEntry(h.at, "class", f"{COLOUR_ZH.get(h.colour_from, '—')} → {COLOUR_ZH[h.colour_to]}",
                                     "；".join(h.reasons), h))
    for e in WatchEvent.objects.visible_to(user, "care.view_watchevent").filter(household_id=hid)[:limit]:
        at = timezone.make_aware(dt.datetime.combine(e.occurred_on, dt.time(12)))
        entries.append(TimelineEntry(at, "watch", e.get_kind_display(), e.note, e))
    entries.sort(key=lambda e: e.at, reverse=True)
    return entries[:limit]


# ---------------------------------------------------------------------------------------------
# reception days


def reception_sessions(user):
    return (ReceptionSession.objects.visible_to(user, "care.view_receptionsession").select_related("region")
            .annotate(n=Count("suggestions")).order_by("-held_on", "-id"))


def reception_tally(user, *, year: int) -> dict:
    """Suggestions per deputy in a year (the seed: 852 deputies, 4,100+ suggestions in 2022)."""
    rows = (ReceptionSuggestion.objects.visible_to(user, "care.view_receptionsuggestion")
            .filter(session__held_on__year=year).values("deputy_id")
            .annotate(n=Count("pk"), actions=Count("pk", filter=Q(needs_action=True))).order_by("-n"))
    deputies = Deputy.objects.in_bulk([r["deputy_id"] for r in rows])
    per_deputy = [(deputies[r["deputy_id"]], r["n"], r["actions"]) for r in rows]
    return {"year": year, "rows": per_deputy, "suggestions": sum(r[1] for r in per_deputy),
            "deputies": len(per_deputy)}


def deputies_for(user, region: Region):
    """Deputies the user can see in the region's county (those who receive at this station)."""
    return (Deputy.objects.visible_to(user, "registry.view_deputy").filter(county_id=region.county_id)
            .select_related("person").order_by("person__name"))
