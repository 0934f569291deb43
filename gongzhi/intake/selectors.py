"""Reads for the intake channels.

Public reads (the residents' page, Open311) never touch the requester fields and never show
internal notes: they are built from the case's status, category, place, dates, the *public*
timeline steps (``CaseEvent.public``) and the answer given to the requester.
Staff reads start from ``visible_to`` like everywhere else.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from django.db.models import Q
from django.utils import timezone

from gongzhi.cases.choices import CaseStatus, ClosedAs, Ledger, MatterKind
from gongzhi.cases.models import Case, CaseCategory
from gongzhi.cases.services.linked import LINKED_KINDS
from gongzhi.core.scoping import GRID, ScopeRule, in_grid_village, in_territory, only_kind, under_grid
from gongzhi.registry.models import Grid, Person, Region, RegionLevel

from . import conf
from .models import CaseMerge, ReceivedSubmission

S = CaseStatus

#: Status in plain words, for residents (never the internal step names).
RESIDENT_STATUS = {
    S.PENDING_INSTRUCTION: "已收到，等待受理",
    S.REGISTERED: "已收到，等待受理",
    S.ACCEPTED: "已受理，正在安排办理",
    S.ASSIGNED: "已交给承办单位",
    S.IN_PROGRESS: "正在办理",
    S.RETURNED: "正在重新安排办理单位",
    S.SUSPENDED: "暂缓办理",
    S.RESULT_REPORTED: "已办完，正在审核结果",
    S.APPROVED: "已办完，即将答复您",
    S.AWAITING_FEEDBACK: "已答复，请您评价",
    S.EVALUATED: "已收到您的评价",
    S.SETTLING: "已现场处理，请您确认",
    S.CLOSED: "已办结",
}

#: Timeline steps in plain words. Steps not listed are shown with the workflow's own label.
RESIDENT_STEP = {
    "register": "收到您反映的问题",
    "accept": "已受理",
    "decline": "不予受理",
    "assign": "已交给承办单位办理",
    "transfer": "已转给其他单位办理",
    "escalate": "提级办理",
    "report_result": "承办单位已办完，正在审核",
    "reply": "已答复您",
    "record_satisfaction": "已记录您的评价",
    "reopen": "您不满意，已重新办理",
    "close": "已办结",
    "settle_on_spot": "已现场处理",
    "confirm_settlement": "已确认现场处理结果",
    "merge_into": "与相同问题合并办理",
    # written by the village governance layer (cases.services.case_record_linked)
    "village_agenda": "已列入村级议事议程", "village_decision": "村级决议", "village_progress": "村级决议进展",
    "pairing_need": "已列入结对共建需求清单", "pairing_project": "结对共建项目承接",
    "dispatch_need": "已列入资源调度", "dispatch_delivered": "资源已送达",
}


def place_name(case: Case) -> str:
    """"城关镇五一村一组": town, village and villager group (no house numbers). Needs the case's
    ``town``, ``village`` and ``region`` (select_related them)."""
    region = case.region
    if case.village_id is None:
        return region.name
    parts = [case.town.name if case.town_id else "", case.village.name]
    if region.level == RegionLevel.GROUP:
        group = region.name
        parts.append(group[len(case.village.name):] if group.startswith(case.village.name) else group)
    return "".join(parts)


def resident_status(case: Case) -> str:
    if case.status == S.CLOSED:
        if hasattr(case, "merged_into_cache") and case.merged_into_cache is not None:
            return "已与相同问题合并办理"
        if case.closed_as == ClosedAs.NOT_ACCEPTED:
            return "不予受理"
        if case.closed_as == ClosedAs.UNRESOLVED:
            return "已办结（未能解决）"
        return "已办结"
    return RESIDENT_STATUS.get(case.status, CaseStatus(case.status).label)


def step_label(kind: str) -> str:
    if kind in RESIDENT_STEP:
        return RESIDENT_STEP[kind]
    from gongzhi.cases.workflow import TRANSITIONS

    return TRANSITIONS[kind].label if kind in TRANSITIONS else kind


@dataclass
class ResidentView:
    code: str
    number: str
    title: str
    category: str
    place: str
    status: str
    status_text: str
    received_at: dt.datetime
    due_at: dt.datetime | None
    unit: str
    reply: str
    decline_reason: str
    steps: list[tuple[dt.datetime, str]]
    can_answer: bool
    settling: bool
    satisfaction: str
    merged_into: "ResidentView | None" = None
    notes: list[str] = field(default_factory=list)


def _find_merge(case: Case) -> Case | None:
    merge = CaseMerge.objects.filter(duplicate=case).select_related(
        "primary__category", "primary__region", "primary__town", "primary__village", "primary__assignee_region",
        "primary__assignee_grid", "primary__assignee_department").first()
    return merge.primary if merge else None


def resident_case(*, tracking_code: str, _depth: int = 0) -> ResidentView | None:
    """What the requester sees with their tracking code: status in plain words, the public steps,
    the answer. No names, no internal notes, nothing about other people."""
    code = (tracking_code or "").replace(" ", "").strip().upper()
    if not code or len(code) > 16:
        return None
    case = (Case.objects.filter(tracking_code=code)
            .select_related("category", "region", "town", "village", "assignee_region", "assignee_grid",
                            "assignee_department").first())
    if case is None:
        return _received_view(code)
    return _resident_view(case, code=code, depth=_depth)


def _received_view(code: str) -> ResidentView | None:
    """An Open311 submission acknowledged and not registered yet (``receipts``): "received"."""
    row = (ReceivedSubmission.objects.filter(tracking_code=code)
           .exclude(state=ReceivedSubmission.State.REGISTERED).only("payload", "received_at", "state").first())
    if row is None:
        return None
    waiting = row.state == ReceivedSubmission.State.RECEIVED
    category = CaseCategory.objects.filter(pk=row.payload.get("category")).values_list("name", flat=True).first()
    place = Region.objects.filter(pk=row.payload.get("region")).values_list("name", flat=True).first()
    return ResidentView(
        code=code, number="登记后生成", title=row.payload.get("title", ""), category=category or "",
        place=place or "", status="received",
        status_text="已收到，正在登记，请稍后刷新" if waiting else "已收到，正由工作人员登记",
        received_at=row.received_at, due_at=None, unit="", reply="", decline_reason="",
        steps=[(row.received_at, "已收到")], can_answer=False, settling=False, satisfaction="")


def _resident_view(case: Case, *, code: str, depth: int) -> ResidentView:
    primary = _find_merge(case) if case.status == S.CLOSED else None
    case.merged_into_cache = primary
    # Entries other parts of the platform wrote for the requester (a village decision that answers
    # the case, its progress) carry their text; the case loop's own steps show their name only.
    steps = [(e.at, f"{step_label(e.kind)}：{e.note}" if e.kind in LINKED_KINDS and e.note else step_label(e.kind))
             for e in case.events.filter(public=True).order_by("at", "id").only("at", "kind", "note")]
    place = place_name(case)
    view = ResidentView(
        code=code, number=case.number, title=case.title, category=case.category.name, place=place,
        status=case.status, status_text=resident_status(case), received_at=case.received_at,
        due_at=case.resolution_due_at if case.status != S.CLOSED else None, unit=case.assignee_label(),
        reply=case.reply if case.replied_at else "",
        decline_reason=case.close_reason if case.closed_as == ClosedAs.NOT_ACCEPTED and primary is None else "",
        steps=steps, can_answer=case.status in (S.AWAITING_FEEDBACK, S.SETTLING), settling=case.status == S.SETTLING,
        satisfaction=case.get_satisfaction_display() if case.satisfaction else "",
    )
    if primary is not None and depth < 5:
        # Follow the case it was merged into — its status and steps, never its answer text (that
        # was written to another requester) nor its tracking code.
        inner = _resident_view(primary, code="", depth=depth + 1)
        inner.reply, inner.can_answer, inner.code = "", False, ""
        view.merged_into = inner
    return view


# ---------------------------------------------------------------------------------------------
# the residents' page: where and what


def single_county() -> Region | None:
    counties = list(Region.objects.filter(level=RegionLevel.COUNTY).order_by("code")[:2])
    return counties[0] if len(counties) == 1 else None


def counties() -> list[Region]:
    return list(Region.objects.filter(level=RegionLevel.COUNTY).order_by("code"))


def villages_by_town(county: Region) -> list[tuple[Region, list[Region]]]:
    """Towns and their villages/communities (two queries)."""
    towns = list(Region.objects.filter(county_id=county.pk, level=RegionLevel.TOWN).order_by("code"))
    villages: dict[int, list[Region]] = {}
    for village in Region.objects.filter(county_id=county.pk, level=RegionLevel.VILLAGE).order_by("code").only(
            "id", "name", "town_id", "code"):
        villages.setdefault(village.town_id, []).append(village)
    return [(town, villages.get(town.pk, [])) for town in towns if villages.get(town.pk)]


def village_in_county(county: Region, pk) -> Region | None:
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        return None
    return Region.objects.filter(pk=pk, county_id=county.pk, level=RegionLevel.VILLAGE).first()


def grids_of_village(village: Region) -> list[Grid]:
    """Basic grids first (where households are), by code; names only (public)."""
    return list(Grid.objects.filter(village_id=village.pk).order_by("code").only("id", "name", "code", "level"))


LEDGER_GROUP = {Ledger.OPINION: "提意见、建议、咨询", Ledger.DEMAND: "办事、求助", Ledger.COMPLAINT: "投诉、举报"}


def resident_categories(county: Region) -> list[tuple[str, list[CaseCategory]]]:
    """The catalogue as residents see it: active, plain names, grouped by what they want to do;
    formal procedures (petitions, deputies' suggestions) and the "to be classified" row left out."""
    excluded = conf.resident_excluded_categories() | {conf.unclassified_code()}
    groups: dict[str, list[CaseCategory]] = {}
    for category in CaseCategory.objects.for_county(county.pk).filter(active=True).order_by("sort_order", "code"):
        if category.code in excluded:
            continue
        label = "邻里、家庭等纠纷" if category.kind == MatterKind.DISPUTE else LEDGER_GROUP[Ledger(category.ledger)]
        groups.setdefault(label, []).append(category)
    order = [LEDGER_GROUP[Ledger.DEMAND], "邻里、家庭等纠纷", LEDGER_GROUP[Ledger.OPINION],
             LEDGER_GROUP[Ledger.COMPLAINT]]
    return [(label, groups[label]) for label in order if label in groups]


CATEGORY_CODE = re.compile(r"[a-z0-9][a-z0-9_-]{1,62}")  # as cases.models.service_code_validator


def category_in_county(county: Region, code: str, *, resident: bool = False) -> CaseCategory | None:
    if not code or not CATEGORY_CODE.fullmatch(code):  # no such code can exist (and NUL never reaches SQL)
        return None
    if resident and code in conf.resident_excluded_categories():
        return None
    return CaseCategory.objects.for_county(county.pk).filter(code=code, active=True).first()


# ---------------------------------------------------------------------------------------------
# staff intake


def person_lookup(*, user, q: str, limit: int = 10) -> list[Person]:
    """Find a resident by phone, ID number or name, among the persons ``user`` may see."""
    from gongzhi.core.idcard import normalize_id_number

    from .text import normalize_phone

    q = (q or "").strip()
    if len(q) < 2:
        return []
    qs = Person.objects.visible_to(user, "registry.view_person").select_related("household", "region")
    phone = normalize_phone(q)
    if len(q) in (15, 18) and q[:-1].isdigit():
        try:
            qs = qs.filter(id_number=normalize_id_number(q))
        except ValueError:
            return []
    elif phone.replace("-", "").isdigit() and len(phone) >= 7:
        qs = qs.filter(phone=phone)
    else:
        qs = qs.filter(Q(name=q) | Q(name_initials=q.lower()))
    from gongzhi.core.masking import mask_id_number, mask_phone

    people = list(qs.order_by("name", "pk")[:limit])
    for person in people:
        person.masked_phone, person.masked_id = mask_phone(person.phone), mask_id_number(person.id_number)
    return people


def _contact_villages(grant) -> Q:
    from gongzhi.registry.models import ContactAssignment

    return (Q(pk__in=Person.objects.filter(pk=grant.person_id).values("village_id"))
            | Q(pk__in=ContactAssignment.objects.filter(person_id=grant.person_id, ended_on__isnull=True)
                .values("village_id")))


# Villages a member of staff may register in: their territory's villages (a villager group's
# village for a group's cadre), their grid's village, the villages of a three-line person's
# households.
STAFF_VILLAGES = ScopeRule(
    region=in_territory(county="county_id", town="town_id", village="pk", region="children__pk"),
    grid=in_grid_village("pk"),
    contacts=_contact_villages,
)


def staff_villages(user) -> list[Region]:
    """Villages/communities where ``user`` may register cases (their grids' villages included)."""
    return list(Region.objects.visible_by(user, "cases.add_case", STAFF_VILLAGES)
                .filter(level=RegionLevel.VILLAGE).select_related("parent").order_by("code").distinct()[:2000])


def staff_grids(user, villages: list[Region]) -> list[Grid]:
    qs = Grid.objects.filter(village_id__in=[v.pk for v in villages])
    if only_kind(user, "cases.add_case") == GRID:
        # A grid worker registers on their own grids only, not on the whole village.
        qs = qs.visible_by(user, "cases.add_case", ScopeRule(grid=under_grid("path")))
    return list(qs.order_by("code")[:3000])


def recent_contact_records(*, user, limit: int = 30):
    """The user's recent three-line contact records (care), for turning one into a case."""
    from gongzhi.care.models import ContactRecord

    since = timezone.now() - dt.timedelta(days=90)
    return list(ContactRecord.objects.visible_to(user, "care.add_contactrecord").filter(contacted_at__gte=since)
                .select_related("household").order_by("-contacted_at", "-id")[:limit])
