"""Reads of cases. Every selector starts from ``Case.objects.visible_to(user, perm)``.

Confidentiality: what pages, the API, exports and notifications may show about *who raised* a
case is decided in one place, ``requester_views(user=…, cases=…)`` (``case_requester_view`` for
one case). For a 投诉举报
(complaint/report) case the identity is shown only to users holding ``cases.view_complainant``
over that case (the dispatcher role by default) — and never to the person or the department it
complains about, who cannot even see the case (``CaseQuerySet.visible_to`` removes it).
``case_as_dict`` is the serialisation helper built on it; later layers must use it (or
``requester_views``) rather than reading ``requester_*`` fields, and search goes through
``case_search_q``, which matches a requester's name or phone only where they may be shown.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass

from django.conf import settings
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from gongzhi.core.masking import mask_phone
from gongzhi.core.scoping import (
    TIER_COUNTY, TIER_GRID, TIER_TOWN, TIER_VILLAGE, ScopeRule, access_object, can, either, highest_tier, in_territory,
    of_department, scope_q, under_grid,
)
from gongzhi.core.workdays import add_working_time

from .choices import LEVEL_RANK, OPEN_STATUSES, CaseStatus, Ledger, Level, RequestStatus
from .models import SUMMONED_DEPARTMENT, Case, CaseEvent, CaseRequest, Summons, conflict_q

S = CaseStatus
VIEW = "cases.view_case"
COMPLAINANT = "cases.view_complainant"
HIDDEN_NAME = "（保密）"


# ---------------------------------------------------------------------------------------------
# confidentiality: the one function


@dataclass(frozen=True)
class RequesterView:
    visible: bool  # False: the identity is confidential for this user
    name: str
    phone: str  # masked unless the caller reveals it through services.case_reveal_requester_phone
    person_id: int | None
    anonymous: bool

    def as_dict(self) -> dict:
        return asdict(self)


def requester_views(*, user, cases) -> dict[int, RequesterView]:
    """THE rule, for many cases at once (two queries): what ``user`` may see of who raised each.

    * the user must be able to view the case at all (``cases.view_case`` in scope — which already
      excludes cases complaining about the user's person or department);
    * an anonymous requester is never shown;
    * for a 投诉举报 (complaint) case the user must also hold ``cases.view_complainant`` over it;
    * phones are masked (``services.case_reveal_requester_phone`` shows one, audited).
    """
    cases = list(cases)
    ids = [c.pk for c in cases]
    viewable = set(Case.objects.visible_to(user, VIEW).filter(pk__in=ids).values_list("pk", flat=True))
    complaint_ids = [c.pk for c in cases if c.ledger == Ledger.COMPLAINT and c.pk in viewable]
    complainant_ok = set(Case.objects.visible_to(user, COMPLAINANT).filter(pk__in=complaint_ids)
                         .values_list("pk", flat=True)) if complaint_ids else set()
    views = {}
    for case in cases:
        allowed = case.pk in viewable and not case.anonymous and (
            case.ledger != Ledger.COMPLAINT or case.pk in complainant_ok)
        if allowed:
            views[case.pk] = RequesterView(True, case.requester_name, mask_phone(case.requester_phone),
                                           case.requester_id, False)
        else:
            views[case.pk] = RequesterView(False, HIDDEN_NAME, "", None, case.anonymous)
    return views


def case_requester_view(*, user, case: Case) -> RequesterView:
    """What ``user`` may see of who raised ``case`` (see ``requester_views``)."""
    return requester_views(user=user, cases=[case])[case.pk]


def may_see_requester(*, user, case: Case) -> bool:
    return case_requester_view(user=user, case=case).visible


def complainant_visible_q(user) -> Q:
    """Cases whose requester ``user`` may see, as a filter (for search and bulk exports)."""
    allowed = scope_q(user, Case, COMPLAINANT)
    q = ~Q(ledger=Ledger.COMPLAINT) & Q(anonymous=False)
    if allowed is not None:
        q |= allowed & Q(anonymous=False)
    return q


def case_as_dict(*, user, case: Case, requester_view: RequesterView | None = None) -> dict:
    """A case as pages, the API and exports may show it to ``user``."""
    requester = requester_view or case_requester_view(user=user, case=case)
    return {
        "id": case.pk, "number": case.number, "ledger": case.ledger, "ledger_label": Ledger(case.ledger).label,
        "category": case.category.name if case.category_id else "", "category_code": case.category.code,
        "title": case.title, "description": case.description, "channel": case.channel,
        "status": case.status, "status_label": CaseStatus(case.status).label,
        "region": str(case.region), "grid": str(case.grid) if case.grid_id else "", "address": case.address,
        "current_level": case.current_level, "assignee": case.assignee_label(),
        "handler": str(case.handler) if case.handler_id else "",
        "is_dispute": case.is_dispute, "mediation_outcome": case.mediation_outcome,
        "complained_department": str(case.complained_department) if case.complained_department_id else "",
        "received_at": case.received_at, "accepted_at": case.accepted_at, "closed_at": case.closed_at,
        "acceptance_due_at": case.acceptance_due_at, "response_due_at": case.response_due_at,
        "resolution_due_at": case.resolution_due_at, "satisfaction": case.satisfaction,
        "closed_as": case.closed_as, "settled_level": case.settled_level,
        "rework_count": case.rework_count, "extension_count": case.extension_count,
        "suspension_count": case.suspension_count, "transfer_count": case.transfer_count,
        "return_count": case.return_count, "escalation_count": case.escalation_count,
        "requester": requester.as_dict(),
    }


# ---------------------------------------------------------------------------------------------
# who acts on a case at which tier, who handles it

_TIER_RANK = {TIER_COUNTY: LEVEL_RANK[Level.COUNTY], TIER_TOWN: LEVEL_RANK[Level.TOWN],
              TIER_VILLAGE: LEVEL_RANK[Level.VILLAGE], TIER_GRID: LEVEL_RANK[Level.GRID]}


def actor_rank(actor, perm: str, case: Case) -> int:
    """The highest tier at which ``actor`` holds ``perm`` over ``case`` (-1: nowhere).

    County-wide region grants and 'all' grants rank county; town grants town; village and
    villager-group grants village; grids and three-line contacts grid; departments county.
    """
    tier = highest_tier(actor, perm, case)
    return -1 if tier is None else _TIER_RANK[tier]


# The unit a case is assigned to, and who handles for it: the department itself, the grid or
# a grid above it, the region (or grid's region) or a region above it.
ASSIGNED_UNIT = ScopeRule(
    region=either(
        in_territory(county="assignee_region__county_id", town="assignee_region__town_id",
                     village="assignee_region__village_id", region="assignee_region_id"),
        in_territory(county="assignee_grid__region__county_id", town="assignee_grid__region__town_id",
                     village="assignee_grid__region__village_id", region="assignee_grid__region_id"),
    ),
    grid=under_grid("assignee_grid__path"),
    department=of_department("assignee_department_id"),
)


def holds_unit(actor, case: Case) -> bool:
    """Does ``actor`` handle for the unit the case is assigned to (or above it, for territories)?

    Seeing a case (by territory) is not handling it: a grid worker whose grid holds a case the
    county gave to a department cannot sign for, report on or return it.
    """
    if case.handler_id is not None and case.handler_id == actor.pk:
        return True
    return can(actor, "cases.handle_case", case, ASSIGNED_UNIT)


REVEAL_PHONE = "registry.reveal_person"


def may_reveal_requester_phone(*, user, case: Case) -> bool:
    """THE rule for calling a requester back: the requester is visible to the user (so never to
    those complained about, nor for an anonymous one), the user holds ``registry.reveal_person``
    over the case, and they handle it (where it lies before assignment, for the assigned unit
    after),
    dispatch it (``cases.dispatch_case`` over it) or sign it off as a secretary
    (``cases.instruct_case`` over it). Seeing a case is not enough."""
    if not case.requester_phone or not can(user, REVEAL_PHONE, case):
        return False
    if not case_requester_view(user=user, case=case).visible:
        return False
    # Handling as the case page counts it: before assignment, whoever may handle the case where it
    # lies (the grid worker settling it on the spot); after, only the assigned unit.
    handles = can(user, "cases.handle_case", case) and (case.assignee is None or holds_unit(user, case))
    return handles or can(user, "cases.dispatch_case", case) or can(user, "cases.instruct_case", case)


# ---------------------------------------------------------------------------------------------
# lists and queues


def _base(user, perm: str = VIEW) -> QuerySet:
    return Case.objects.visible_to(user, perm).select_related(
        "category", "region", "grid", "assignee_grid", "assignee_region", "assignee_department", "handler",
        "complained_department")


def case_list(*, user, perm: str = VIEW, status: str | list | None = None, ledger: str | None = None,
              category=None, level: str | None = None, region=None, text: str = "",
              overdue: bool | None = None, due_soon: bool | None = None, now: dt.datetime | None = None) -> QuerySet:
    qs = _base(user, perm)
    if status:
        qs = qs.filter(status__in=[status] if isinstance(status, str) else list(status))
    if ledger:
        qs = qs.filter(ledger=ledger)
    if category is not None:
        qs = qs.filter(category=category)
    if level:
        qs = qs.filter(current_level=level)
    if region is not None:
        qs = qs.filter(_region_q(region))
    if text:
        qs = qs.filter(case_search_q(user, text))
    now = now or timezone.now()
    if overdue:
        qs = qs.filter(overdue_q(now))
    if due_soon:
        qs = qs.filter(due_soon_q(now))
    return qs


def _region_q(region) -> Q:
    column = {1: "county_id", 2: "town_id", 3: "village_id"}.get(region.level, "region_id")
    return Q(**{column: region.pk})


def case_search_q(user, text: str) -> Q:
    """Full-text-ish search. Matching on a requester's name or phone only where the user may see
    them, so a search can never reveal who filed a complaint."""
    text = text.strip()
    q = Q(number__icontains=text) | Q(title__icontains=text) | Q(description__icontains=text) | Q(
        address__icontains=text)
    q |= (Q(requester_name__icontains=text) | Q(requester_phone__contains=text)) & complainant_visible_q(user)
    return q


def overdue_q(now: dt.datetime) -> Q:
    return (Q(status__in=[S.REGISTERED, S.PENDING_INSTRUCTION], acceptance_due_at__lt=now)
            | (Q(resolution_due_at__lt=now) & ~Q(status__in=[S.CLOSED, S.SUSPENDED])))


def due_soon_q(now: dt.datetime) -> Q:
    soon = add_working_time(now, dt.timedelta(hours=getattr(settings, "GONGZHI_CASE_DUE_SOON_WORKING_HOURS", 24)))
    return Q(resolution_due_at__gte=now, resolution_due_at__lte=soon) & ~Q(status__in=[S.CLOSED, S.SUSPENDED])


def dispatcher_workbench(*, user, now: dt.datetime | None = None) -> dict:
    """The dispatcher's workbench: counts per state, and the due-soon and overdue queues."""
    now = now or timezone.now()
    qs = _base(user, "cases.dispatch_case")
    counts = dict(qs.filter(status__in=OPEN_STATUSES).order_by().values_list("status").annotate(n=Count("pk")))
    return {
        "counts": {s: counts.get(s, 0) for s in OPEN_STATUSES},
        "to_accept": qs.filter(status=S.REGISTERED).order_by("acceptance_due_at", "pk"),
        "to_instruct": qs.filter(status=S.PENDING_INSTRUCTION).order_by("received_at", "pk"),
        "to_assign": qs.filter(status__in=[S.ACCEPTED, S.RETURNED]).order_by("resolution_due_at", "pk"),
        "to_reply": qs.filter(status=S.APPROVED).order_by("approved_at", "pk"),
        "to_evaluate": qs.filter(status=S.AWAITING_FEEDBACK).order_by("replied_at", "pk"),
        "to_close": qs.filter(status=S.EVALUATED).order_by("evaluated_at", "pk"),
        "due_soon": qs.filter(due_soon_q(now)).order_by("resolution_due_at", "pk"),
        "overdue": qs.filter(overdue_q(now)).order_by("resolution_due_at", "pk"),
        "pending_requests": CaseRequest.objects.visible_to(user, "cases.approve_extension")
        .filter(status=RequestStatus.PENDING).select_related("case"),
    }


# The unit a case waits for: assigned to the grant's own region, grid or department (a town's
# handlers do not see a village's queue as theirs), or — for a three-line person — the cases
# they raised that are in progress.
HANDLER_UNIT = ScopeRule(
    region=lambda g: Q(assignee_region_id=g.region_id),
    grid=lambda g: Q(assignee_grid_id=g.grid_id),
    department=lambda g: Q(assignee_department_id=g.department_id),
    contacts=lambda g: Q(raised_by_person_id=g.person_id, status=S.IN_PROGRESS),
)


def handler_queue(*, user) -> QuerySet:
    """Cases waiting for the user's unit: assigned to a unit they handle for, or to them."""
    qs = _base(user, "cases.handle_case").filter(status__in=[S.ASSIGNED, S.IN_PROGRESS, S.SUSPENDED])
    unit = scope_q(user, Case, "cases.handle_case", HANDLER_UNIT)
    unit = Q(handler=user) if unit is None else unit | Q(handler=user)
    return qs.filter(unit).order_by("resolution_due_at", "pk")


def secretary_queue(*, user) -> QuerySet:
    """Waiting for the secretary: instructions (阅批) and results to check (把关)."""
    return _base(user, "cases.instruct_case").filter(
        status__in=[S.PENDING_INSTRUCTION, S.RESULT_REPORTED]).order_by("received_at", "pk")


def secretary_ledgers(*, user, region=None) -> dict:
    """The secretary's three ledgers: per ledger, received / open / closed, with instructions."""
    qs = _base(user, VIEW)
    if region is not None:
        qs = qs.filter(_region_q(region))
    rows = qs.order_by().values("ledger").annotate(
        received=Count("pk"), open=Count("pk", filter=~Q(status=S.CLOSED)),
        closed=Count("pk", filter=Q(status=S.CLOSED)))
    by_ledger = {row["ledger"]: row for row in rows}
    ledgers = {}
    for ledger in Ledger:
        row = by_ledger.get(ledger.value, {"received": 0, "open": 0, "closed": 0})
        ledgers[ledger.value] = {"label": ledger.label, "received": row["received"], "open": row["open"],
                                 "closed": row["closed"]}
    instructions = (CaseEvent.objects.visible_to(user, VIEW).filter(kind="instruct")
                    .select_related("case").order_by("-at", "-id"))
    return {"ledgers": ledgers, "instructions": instructions}


def summons_queue(*, user, pending_only: bool = True) -> QuerySet:
    """A department's summons (吹哨报到) queue: open summonses first, by due time."""
    qs = (Summons.objects.visible_by(user, "cases.handle_case", SUMMONED_DEPARTMENT)
          .select_related("case", "department"))
    if pending_only:
        qs = qs.filter(acknowledged_at__isnull=True)
    return qs.order_by("acknowledged_at", "due_at", "pk")


# ---------------------------------------------------------------------------------------------
# one case


def case_get(*, user, pk: int | None = None, number: str | None = None, perm: str = VIEW) -> Case:
    """403 without the permission anywhere, 404 outside scope (or complained about)."""
    lookup = {"pk": pk} if pk is not None else {"number": number}
    return access_object(Case.objects.select_related("category", "region"), user, perm, **lookup)


def case_timeline(*, user, case: Case, public_only: bool = False) -> QuerySet:
    qs = CaseEvent.objects.visible_to(user, VIEW).filter(case_id=case.pk)
    return qs.filter(public=True) if public_only else qs


def case_track(*, tracking_code: str) -> dict | None:
    """What the requester sees with their tracking code: status and public steps; no names."""
    case = Case.objects.filter(tracking_code=(tracking_code or "").strip().upper()).select_related("category").first()
    if case is None:
        return None
    events = case.events.filter(public=True).order_by("at", "id")
    return {
        "number": case.number, "title": case.title, "category": case.category.name,
        "status": case.status, "status_label": CaseStatus(case.status).label, "received_at": case.received_at,
        "resolution_due_at": case.resolution_due_at, "reply": case.reply if case.replied_at else "",
        "steps": [{"at": e.at, "kind": e.kind, "status": e.to_status,
                   "status_label": CaseStatus(e.to_status).label if e.to_status else ""} for e in events],
    }


def case_conflicts_for(user) -> Q | None:
    """The filter removing cases that complain about ``user`` (exposed for other apps' queries)."""
    return conflict_q(user)
