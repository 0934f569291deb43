"""Reads the cases pages and API need beyond ``selectors`` (which stays the domain's own).

Everything about *cases* starts from ``Case.objects.visible_to`` (through ``selectors.case_list``
or the child querysets' ``visible_to``); the requester's identity is never read here.

Organisational units (regions, grids, departments) offered as *targets* — where a case may be
assigned, transferred or summoned — are read directly, limited to the case's own county: they
are not people's data, and a unit must be able to hand a case to a unit outside its own scope
(a village to its town, a town to a department). The services check every target again.

What the current user may do *now* on a case (``case_actions``) is derived from the workflow
table (``workflow.transitions_from``) and the user's permissions over this very case, with the
same unit and tier rules the services apply, so a page offers only the steps that can succeed
for that user; the service still decides.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Count, Q
from django.http import Http404

from gongzhi.core.scoping import (
    NOTHING, ScopeRule, counties_of, has_perm_anywhere, require_perm, scope_q, widest_region_id,
)
from gongzhi.registry.models import Department, Grid, Region, RegionLevel

from . import selectors
from .choices import LEVEL_RANK, Level, RequestKind, RequestStatus
from .models import Case, CaseAttachment, CaseCategory, CaseRequest, Summons
from .selectors import actor_rank, holds_unit
from .workflow import facts_of, precondition_error, transitions_from

VIEW = selectors.VIEW
HANDLE = "cases.handle_case"


# ---------------------------------------------------------------------------------------------
# one case


def case_for_page(*, user, pk) -> Case:
    """One case with everything its page shows joined in: 403 without ``cases.view_case``
    anywhere, 404 outside scope (or complaining about the user) — one query."""
    require_perm(user, VIEW)
    case = selectors.case_list(user=user).select_related("assignee_grid__region").filter(pk=pk).first()
    if case is None:
        raise Http404
    return case


def case_attachments(*, user, case: Case):
    return CaseAttachment.objects.visible_to(user, VIEW).filter(case_id=case.pk).order_by("uploaded_at", "id")


def attachment_for_download(*, user, pk) -> CaseAttachment:
    require_perm(user, VIEW)
    attachment = CaseAttachment.objects.visible_to(user, VIEW).select_related("case").filter(pk=pk).first()
    if attachment is None:
        raise Http404
    return attachment


def case_requests(*, user, case: Case):
    return (CaseRequest.objects.visible_to(user, VIEW).filter(case_id=case.pk)
            .select_related("requested_by", "decided_by").order_by("-requested_at", "-id"))


def pending_request(*, user, case: Case, kind: str) -> CaseRequest | None:
    return CaseRequest.objects.visible_to(user, VIEW).filter(
        case_id=case.pk, kind=kind, status=RequestStatus.PENDING).first()


def case_summonses(*, user, case: Case):
    return (Summons.objects.visible_to(user, VIEW).filter(case_id=case.pk)
            .select_related("department").order_by("due_at", "id"))


def summonses_to_acknowledge(*, user, case: Case):
    """Open summonses on ``case`` addressed to a department the user reports for."""
    return selectors.summons_queue(user=user).filter(case_id=case.pk)


def perms_over_case(*, user, case: Case, perms) -> set[str]:
    """Which of ``perms`` the user holds over this case, in one query."""
    wanted = {}
    for i, perm in enumerate(sorted(set(perms))):
        q = scope_q(user, Case, perm)
        if q is not None:
            wanted[f"p{i}"] = (perm, q)
    if not wanted:
        return set()
    qs = Case.objects.filter(pk=case.pk)
    conflict = selectors.case_conflicts_for(user)
    if conflict is not None:
        qs = qs.exclude(conflict)
    row = qs.aggregate(**{alias: Count("pk", filter=q) for alias, (_perm, q) in wanted.items()})
    return {perm for alias, (perm, _q) in wanted.items() if row[alias]}


@dataclass
class CaseContext:
    """What the case page and the API's detail need to decide which steps to offer."""

    held: set[str]
    unit: bool
    pending: dict[str, CaseRequest | None]
    to_acknowledge: list = field(default_factory=list)


def case_actions(*, user, case: Case, requests=None, to_acknowledge=None) -> tuple[list[str], CaseContext]:
    """The steps (transition names) the user may take on ``case`` right now.

    From the workflow table: steps that may start from the case's status, whose permission the
    user holds *over this case*; ``cases.handle_case`` counts only for the unit the case is
    assigned to (as in the services); steps that check the tier need the user's tier; approving
    needs a pending request; reopening a dissatisfied requester; mediation a dispute.
    """
    candidates = [t for t in transitions_from(case.status) if t.name != "register"]
    all_perms = {p for t in candidates for p in t.perms}
    held = perms_over_case(user=user, case=case, perms=all_perms) if candidates else set()
    unit = case.assignee is None or (HANDLE in held and holds_unit(user, case))
    effective = {p for p in held if p != HANDLE or unit}
    if requests is None:
        requests = list(case_requests(user=user, case=case))
    pending = {kind: next((r for r in requests if r.kind == kind and r.status == RequestStatus.PENDING), None)
               for kind in RequestKind.values}
    if to_acknowledge is None:
        to_acknowledge = list(summonses_to_acknowledge(user=user, case=case)) if HANDLE in held else []
    ctx = CaseContext(held=held, unit=unit, pending=pending, to_acknowledge=list(to_acknowledge))
    level_rank = LEVEL_RANK[case.current_level]
    facts = facts_of(case, {kind for kind, request in pending.items() if request is not None})
    names = []
    for t in candidates:
        if t.name == "acknowledge_summons":
            if ctx.to_acknowledge:
                names.append(t.name)
            continue
        if not effective.intersection(t.perms):
            continue
        ranked = t.rank_perm(case.status)
        if ranked and actor_rank(user, ranked, case) < level_rank:
            continue
        if precondition_error(t.name, facts):
            continue
        names.append(t.name)
    return names, ctx


# ---------------------------------------------------------------------------------------------
# targets: where a case may go (limited to its county; the services check again)


@dataclass(frozen=True)
class Target:
    key: str  # "region:12", "grid:5", "department:3"
    label: str
    group: str
    level: str
    obj: object = None

    def as_kwargs(self) -> dict:
        """The service's keyword for this unit: {"region": <Region>} …"""
        return {self.key.split(":", 1)[0]: self.obj}


def _region_level(region: Region) -> str:
    return {RegionLevel.COUNTY: Level.COUNTY, RegionLevel.TOWN: Level.TOWN}.get(region.level, Level.VILLAGE)


def assignment_targets(*, user, case: Case, perms=("cases.dispatch_case",)) -> list[Target]:
    """The units a case is usually handed to: the grids of its village, its village, the other
    villages of its town, its town, the county, and the county's departments — only those at a
    tier the user may reach (a town cannot hand a case to a county department)."""
    rank = max([actor_rank(user, perm, case) for perm in perms] or [-1])
    targets: list[Target] = []
    if case.village_id and rank >= LEVEL_RANK[Level.GRID]:
        for grid in Grid.objects.filter(village_id=case.village_id).order_by("path", "code"):
            targets.append(Target(f"grid:{grid.pk}", grid.name, "网格", Level.GRID, grid))
    regions = Region.objects.filter(Q(pk__in=[case.county_id, case.town_id])
                                    | Q(parent_id=case.town_id, level=RegionLevel.VILLAGE)).order_by("level", "code")
    for region in regions:
        level = _region_level(region)
        if LEVEL_RANK[level] <= rank:
            group = {Level.VILLAGE: "村（社区）", Level.TOWN: "镇（街道）", Level.COUNTY: "县"}[level]
            targets.append(Target(f"region:{region.pk}", region.name, group, level, region))
    if rank >= LEVEL_RANK[Level.COUNTY]:
        for department in Department.objects.filter(county_id=case.county_id).order_by("name"):
            targets.append(Target(f"department:{department.pk}", department.name, "部门", Level.COUNTY, department))
    return targets


def resolve_target(*, case: Case, grid=None, region=None, department=None) -> dict:
    """Ids → units of the case's county, for the API (the page offers ``assignment_targets``)."""
    from django.core.exceptions import ValidationError

    found = {}
    for name, model, pk in (("grid", Grid, grid), ("region", Region, region), ("department", Department, department)):
        if pk is None:
            continue
        obj = model.objects.filter(pk=pk, county_id=case.county_id).first()
        if obj is None:
            raise ValidationError({name: "本县没有这个承办对象"})
        found[name] = obj
    if len(found) != 1:
        raise ValidationError("请选择一个承办对象：网格、村/镇（县）或部门")
    return found


def county_departments(*, county_id: int | None):
    return Department.objects.filter(county_id=county_id).order_by("name") if county_id else Department.objects.none()


def case_categories(*, county_id: int | None, active_only: bool = True):
    """The county's catalogue (its own rows and the defaults it has not overridden)."""
    qs = CaseCategory.objects.for_county(county_id).select_related("responsible_department")
    return qs.filter(active=True) if active_only else qs


# ---------------------------------------------------------------------------------------------
# registering: where the user may register a case


def user_county_ids(user) -> list[int]:
    """The counties the user works in (from their role assignments)."""
    ids = counties_of(user, VIEW, "cases.add_case")
    if ids is None:  # everywhere
        return list(Region.objects.filter(level=RegionLevel.COUNTY).order_by("code").values_list("pk", flat=True))
    return sorted(ids)


def _register_region_levels(grant) -> Q:
    # A town's or county's cadres register in towns and villages; a village's down to its groups.
    deepest = RegionLevel.GROUP if grant.region_level >= RegionLevel.VILLAGE else RegionLevel.VILLAGE
    return Q(level__gte=max(grant.region_level, RegionLevel.TOWN), level__lte=deepest)


# Regions a case may be registered in without naming a grid: grid workers and three-line
# persons register on a grid instead, departments do not register by territory.
REGISTER_REGIONS = ScopeRule(
    everything=lambda g: Q(level__in=[RegionLevel.TOWN, RegionLevel.VILLAGE]),
    region=lambda g: Region.scope_rule.q(g) & _register_region_levels(g),
)


def register_regions(*, user):
    """Regions (towns, villages, villager groups) in which the user may register a case without
    naming a grid. Grid workers and three-line persons register on a grid instead."""
    return Region.objects.visible_by(user, "cases.add_case", REGISTER_REGIONS).order_by("code")


def register_grids(*, user, region: Region | None = None, everywhere: bool = False):
    """Grids the user may register a case on. For users over a whole town or county the list is
    the grids of the chosen ``region`` (the page loads them when a village is picked), or with
    ``everywhere`` all of them (to check one posted grid, never to list)."""
    in_village = Q(village_id=region.village_id) if region is not None and region.village_id else NOTHING
    own = Grid.scope_rule

    def by_region(grant) -> Q:
        if everywhere or grant.region_level >= RegionLevel.VILLAGE:
            return own.q(grant)
        return own.q(grant) & in_village

    rule = ScopeRule(everything=True if everywhere else (lambda g: in_village),
                     region=by_region, grid=own.grid, contacts=own.contacts)
    return (Grid.objects.visible_by(user, "cases.add_case", rule)
            .select_related("region").order_by("path", "code"))


# ---------------------------------------------------------------------------------------------
# statistics: the regions a user may narrow a statistic to


def statistics_regions(*, user):
    """Counties, towns and villages the user may see (``registry.view_region``), in tree order."""
    if not has_perm_anywhere(user, "registry.view_region"):
        return Region.objects.none()
    return (Region.objects.visible_to(user, "registry.view_region")
            .filter(level__lte=RegionLevel.VILLAGE).order_by("code"))


def default_region(*, user, perm: str) -> Region | None:
    """The widest region the user holds ``perm`` over (their own county, town or village)."""
    region_id = widest_region_id(user, perm)
    return Region.objects.filter(pk=region_id).first() if region_id else None


def quarter_bounds(year: int, quarter: int) -> tuple[dt.date, dt.date]:
    start = dt.date(year, 3 * (quarter - 1) + 1, 1)
    end = (dt.date(year + 1, 1, 1) if quarter == 4 else dt.date(year, 3 * quarter + 1, 1)) - dt.timedelta(days=1)
    return start, end


__all__ = [
    "CaseContext", "Target", "assignment_targets", "attachment_for_download", "case_actions", "case_attachments",
    "case_categories", "case_for_page", "case_requests", "case_summonses", "county_departments", "default_region",
    "pending_request", "perms_over_case", "quarter_bounds", "register_grids", "register_regions",
    "resolve_target", "statistics_regions", "summonses_to_acknowledge", "user_county_ids",
]
