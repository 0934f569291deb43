"""Demo and benchmark data: ``generate_cases(county, n, seed)`` fills a county with realistic cases.

Cases are spread over the county's villages, the three ledgers and the catalogue, the channels,
the workflow states and the tiers, with timelines that respect the time limits most of the time
(and miss them some of the time), satisfaction answers, rework, extensions, transfers, returns
and suspensions. Everything is written with ``bulk_create`` (thousands of cases a second), and
the run is written to the audit trail once.

Deterministic for a given ``seed`` and ``now`` (numbers depend on what the year's sequence has
already used); tracking codes alone are drawn from ``secrets``, since they are what a requester
uses to follow a case.

Exact figures can be asked for: ``closed`` (how many closed), ``not_accepted`` (how many still
waiting for acceptance) and ``settled_levels`` (how many resolved at each level) — the seed's
Shiquan (8,812 accepted, 8,597 closed) and Hanyin (945 disputes; 557 / 331 / 6 settled at
village / town / county) figures are built this way by the tests.
"""
from __future__ import annotations

import datetime as dt
import random
from collections import Counter

from django.db import transaction
from django.utils import timezone

from gongzhi.core.audit import AuditAction, audit_record
from gongzhi.core.workdays import add_days
from gongzhi.registry.models import Department, Grid, Person, Region

from .choices import (
    LEVEL_ORDER, LEVEL_RANK, CaseStatus, Channel, ClosedAs, Ledger, Level, Limit, MediationOutcome, Satisfaction,
)
from .deadlines import limit_for
from .models import Case, CaseCategory, CaseEvent, CaseNumberSequence, format_case_number, new_tracking_code

S = CaseStatus

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈姚卢"
GIVEN = "建国秀英德明春花桂兰志强丽娟海燕玉梅文华红霞金凤永福宝山淑珍小军国庆秋菊长生兰芳家兴荣华"

SNIPPETS = {
    Ledger.OPINION: ["建议增设路灯", "建议硬化通组道路", "建议在村口增设垃圾收集点", "希望增加文化活动场地",
                     "建议公开村集体收支明细", "咨询医保缴费政策", "建议发展茶叶合作社"],
    Ledger.DEMAND: ["老人无人照料，申请帮扶", "房屋墙体开裂，申请危房改造", "自来水停水三天", "申请临时救助",
                    "土地流转租金未按时支付", "孩子入学手续咨询", "务工工资被拖欠", "家中因病致贫，申请低保"],
    Ledger.COMPLAINT: ["反映养殖场污水直排", "举报河道旁违法建房", "投诉办事窗口推诿", "举报村务账目不清",
                       "投诉商店销售过期食品", "反映采砂场夜间施工扰民"],
}
DISPUTE_SNIPPETS = ["宅基地界址纠纷", "邻里排水纠纷", "赡养老人纠纷", "借款纠纷", "山林权属纠纷", "婚姻家庭矛盾"]

OPEN_MIX = [(S.ACCEPTED, 8), (S.ASSIGNED, 10), (S.IN_PROGRESS, 40), (S.RESULT_REPORTED, 10), (S.APPROVED, 6),
            (S.AWAITING_FEEDBACK, 8), (S.EVALUATED, 4), (S.SUSPENDED, 3), (S.RETURNED, 2)]
CHANNEL_MIX = [(Channel.HOTLINE, 25), (Channel.MINI_PROGRAM, 15), (Channel.WECHAT, 12), (Channel.APP, 5),
               (Channel.GRID_PATROL, 20), (Channel.WINDOW, 8), (Channel.WEB, 3), (Channel.THREE_LINE, 12)]
STEP_ORDER = ["register", "accept", "assign", "sign", "report_result", "approve", "reply", "record_satisfaction",
              "close"]
REACHED = {S.REGISTERED: 1, S.PENDING_INSTRUCTION: 1, S.ACCEPTED: 2, S.RETURNED: 3, S.ASSIGNED: 3,
           S.IN_PROGRESS: 4, S.SUSPENDED: 4, S.RESULT_REPORTED: 5, S.APPROVED: 6, S.AWAITING_FEEDBACK: 7,
           S.EVALUATED: 8, S.CLOSED: 9}


def _weighted(rng: random.Random, pairs):
    values, weights = zip(*pairs)
    return rng.choices(values, weights=weights)[0]


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.sample(GIVEN, rng.choice([1, 2])))


def _phone(rng: random.Random) -> str:
    return "1" + rng.choice("3456789") + "".join(rng.choice("0123456789") for _ in range(9))


def _hours(rng: random.Random, lo: float, hi: float) -> dt.timedelta:
    return dt.timedelta(hours=rng.uniform(lo, hi))


@transaction.atomic
def generate_cases(county: Region, n: int, seed: int = 0, *, closed: int | None = None, not_accepted: int = 0,
                   settled_levels: dict[str, int] | None = None, disputes: bool = False,
                   start: dt.datetime | None = None, end: dt.datetime | None = None, now: dt.datetime | None = None,
                   with_events: bool = True, actor=None, batch_size: int = 2000) -> dict:
    """Create ``n`` cases in ``county``; returns a summary of what was made (by status, ledger, level)."""
    if closed is None:
        closed = round((n - not_accepted) * 0.9)
    cases, steps = [], []
    for case, times in iter_cases(county, n, seed, closed=closed, not_accepted=not_accepted,
                                  settled_levels=settled_levels, disputes=disputes, start=start, end=end, now=now):
        cases.append(case)
        if with_events:
            steps.append(times)

    Case.objects.bulk_create(cases, batch_size=batch_size)
    if with_events:
        events = []
        for case, times in zip(cases, steps):
            previous = ""
            for kind in STEP_ORDER:
                if kind not in times:
                    continue
                to_status = _status_after(kind, case)
                events.append(CaseEvent(case=case, kind=kind, at=times[kind], actor_name="演示数据",
                                        from_status=previous, to_status=to_status,
                                        public=kind in ("register", "accept", "assign", "report_result", "reply",
                                                        "record_satisfaction", "close")))
                previous = to_status
        CaseEvent.objects.bulk_create(events, batch_size=batch_size * 4)
    summary = {
        "cases": len(cases),
        "by_status": dict(Counter(c.status for c in cases)),
        "by_ledger": dict(Counter(c.ledger for c in cases)),
        "settled_levels": dict(Counter(c.settled_level for c in cases if c.settled_level)),
    }
    audit_record(actor=actor, action=AuditAction.GENERATE, object_type="cases.case", object_repr="演示民情数据",
                 note=f"seed={seed} n={n} closed={closed}", territory=county)
    return summary


def iter_cases(county: Region, n: int, seed: int, *, closed: int, not_accepted: int = 0,
               settled_levels: dict[str, int] | None = None, disputes: bool = False,
               start: dt.datetime | None = None, end: dt.datetime | None = None, now: dt.datetime | None = None):
    """Yield ``(case, step times)`` for ``n`` unsaved cases, received in order; the year's numbers
    are reserved up front (call inside the transaction that writes the cases, so they stay gapless)."""
    rng = random.Random(seed)
    now = now or timezone.now()
    end = min(end or now, now)
    start = start or end - dt.timedelta(days=365)
    if closed + not_accepted > n:
        raise ValueError("closed + not_accepted cannot exceed n")
    if settled_levels is not None and sum(settled_levels.values()) > closed:
        raise ValueError("more settled cases than closed ones")

    villages = list(Region.objects.filter(county_id=county.pk, level=3))
    if not villages:
        raise ValueError("the county has no villages: generate the registry first")
    grids_by_village: dict[int, list[Grid]] = {}
    for grid in Grid.objects.filter(county_id=county.pk, children__isnull=True):
        grids_by_village.setdefault(grid.village_id, []).append(grid)
    regions = {r.pk: r for r in Region.objects.filter(county_id=county.pk, level__lte=2)}
    departments = list(Department.objects.filter(county_id=county.pk))
    categories = list(CaseCategory.objects.for_county(county.pk).filter(active=True))
    if disputes:
        categories = [c for c in categories if c.is_dispute]
    if not categories:
        raise ValueError("no case categories")
    people: dict[int, list[tuple[int, str, str]]] = {}
    for pk, village_id, name, phone in (Person.objects.filter(county_id=county.pk).order_by("pk")
                                        .values_list("pk", "village_id", "name", "phone")[:20000]):
        people.setdefault(village_id, []).append((pk, name, phone))
    limits = {(c.pk, lim): limit_for(c, lim) for c in categories for lim in (Limit.ACCEPTANCE, Limit.RESPONSE,
                                                                            Limit.RESOLUTION)}

    # who ends where: exact closed / waiting counts, the rest spread over the open states
    plan = [S.CLOSED] * closed + [S.REGISTERED] * not_accepted
    plan += [_weighted(rng, OPEN_MIX) for _ in range(n - len(plan))]
    rng.shuffle(plan)
    closed_levels: list[str | None] = []
    if settled_levels is not None:
        for level, count in settled_levels.items():
            closed_levels += [level] * count
        closed_levels += [None] * (closed - len(closed_levels))  # closed unresolved
        rng.shuffle(closed_levels)
    closed_iter = iter(closed_levels)

    received = sorted(start + (end - start) * rng.random() for _ in range(n))
    years = Counter(timezone.localtime(r).year for r in received)
    next_number = {year: CaseNumberSequence.reserve(year, count) for year, count in sorted(years.items())}

    for i in range(n):
        received_at = received[i]
        status = plan[i]
        category = rng.choice(categories)
        village = rng.choice(villages)
        grid = rng.choice(grids_by_village[village.pk]) if grids_by_village.get(village.pk) else None
        year = timezone.localtime(received_at).year
        number = format_case_number(year, next_number[year])
        next_number[year] += 1
        ledger = category.ledger
        snippet = rng.choice(DISPUTE_SNIPPETS if category.is_dispute else SNIPPETS[Ledger(ledger)])
        channel = _weighted(rng, CHANNEL_MIX)
        local_people = people.get(village.pk)
        requester_id, requester_name, requester_phone = (None, "", "")
        if local_people and rng.random() < 0.6:
            requester_id, requester_name, requester_phone = rng.choice(local_people)
        elif channel != Channel.GRID_PATROL:
            requester_name, requester_phone = _name(rng), _phone(rng)
        complained_department = None
        if ledger == Ledger.COMPLAINT and departments and rng.random() < 0.3:
            complained_department = rng.choice(departments)

        case = Case(
            number=number, tracking_code=new_tracking_code(), ledger=ledger, kind=category.matter_kind,
            category=category, title=f"{village.name}{snippet}", description=f"{village.name}群众反映：{snippet}。",
            channel=channel, region=grid.region if grid else village, grid=grid, grid_path=grid.path if grid else "",
            requester_id=requester_id, requester_name=requester_name, requester_phone=requester_phone,
            is_dispute=category.is_dispute or disputes, complained_department=complained_department,
            status=status, current_level=category.default_level, received_at=received_at,
            natural_days=category.is_petition,
            county_id=village.county_id, town_id=village.town_id, village_id=village.pk,
        )
        case.acceptance_due_at = limits[(category.pk, Limit.ACCEPTANCE)].due(received_at)
        if status == S.REGISTERED and category.requires_instruction:
            case.status = status = S.PENDING_INSTRUCTION
        reached = REACHED[status]
        times = {"register": received_at}
        on_time = rng.random() < 0.93
        t = received_at
        if reached >= 2:
            t = case.accepted_at = min(t + _hours(rng, 0.2, 20), now)
            case.resolution_due_at = limits[(category.pk, Limit.RESOLUTION)].due(t)
            times["accept"] = t
            # the level where it is handled (and, once closed, settled)
            level = category.default_level
            if status == S.CLOSED:
                level = next(closed_iter, None) if settled_levels is not None else level
                if level is None:
                    case.closed_as = ClosedAs.UNRESOLVED
                    level = category.default_level
                elif settled_levels is None and rng.random() < 0.15 and LEVEL_RANK[level] < LEVEL_RANK[Level.COUNTY]:
                    level = LEVEL_ORDER[LEVEL_RANK[level] + 1]
            case.current_level = level
            if case.current_level != category.default_level and LEVEL_RANK[level] > LEVEL_RANK[category.default_level]:
                case.escalation_count = LEVEL_RANK[level] - LEVEL_RANK[category.default_level]
        if reached >= 3:
            t = case.assigned_at = min(t + _hours(rng, 0.1, 6), now)
            case.response_due_at = limits[(category.pk, Limit.RESPONSE)].due(t)
            times["assign"] = t
            if status != S.RETURNED:
                _assign_unit(case, rng, grid, village, regions, departments)
            else:
                case.return_count = 1
        if reached >= 4:
            response = _hours(rng, 0.5, 20) if rng.random() < 0.95 else _hours(rng, 30, 60)
            t = case.first_response_at = min(t + response, now)
            times["sign"] = t
        if reached >= 5:
            if rng.random() < 0.04:
                case.extension_count = 1
                case.resolution_due_at = add_days(case.resolution_due_at, 5, natural=case.natural_days)
            due = case.resolution_due_at
            if on_time:
                target = t + (due - t) * rng.uniform(0.2, 0.85)
            else:
                target = due + _hours(rng, 2, 120)
            t = case.result_reported_at = min(max(target, t + dt.timedelta(minutes=30)), now)
            times["report_result"] = t
            if rng.random() < 0.05:
                case.rework_count = 1
        if reached >= 6:
            t = case.approved_at = min(t + _hours(rng, 0.1, 3), now)
            times["approve"] = t
        if reached >= 7:
            t = case.replied_at = min(t + _hours(rng, 0.1, 3), now)
            case.reply = "已按政策办理，详情已电话告知。"
            times["reply"] = t
        if reached >= 8:
            t = case.evaluated_at = min(t + _hours(rng, 0.1, 2), now)
            times["record_satisfaction"] = t
            if case.closed_as == ClosedAs.UNRESOLVED:
                case.satisfaction = Satisfaction.DISSATISFIED
                case.close_reason = "诉求超出政策规定，已解释说明"
            else:
                case.satisfaction = _weighted(rng, [(Satisfaction.SATISFIED, 86), (Satisfaction.BASIC, 11),
                                                    (Satisfaction.UNREACHABLE, 3)])
        if reached >= 9:
            t = case.closed_at = min(t + _hours(rng, 0.05, 1), now)
            times["close"] = t
            if case.closed_as != ClosedAs.UNRESOLVED:
                case.closed_as = ClosedAs.RESOLVED
                case.settled_level = case.current_level
            if case.is_dispute:
                case.mediation_outcome = (MediationOutcome.MEDIATED if case.closed_as == ClosedAs.RESOLVED
                                          else MediationOutcome.FAILED)
        if status == S.SUSPENDED:
            case.suspended_at = min(t + _hours(rng, 1, 24), now)
            case.status_before_suspension = S.IN_PROGRESS
            case.suspension_count = 1
        if rng.random() < 0.06 and reached >= 4:
            case.transfer_count = 1
        case.result = "已现场核实并按政策处理。" if reached >= 5 else ""
        yield case, times


def _status_after(kind: str, case: Case) -> str:
    return {
        "register": S.REGISTERED, "accept": S.ACCEPTED, "assign": S.ASSIGNED, "sign": S.IN_PROGRESS,
        "report_result": S.RESULT_REPORTED, "approve": S.APPROVED, "reply": S.AWAITING_FEEDBACK,
        "record_satisfaction": S.EVALUATED, "close": S.CLOSED,
    }[kind] if not (kind == "register" and case.status == S.PENDING_INSTRUCTION) else S.PENDING_INSTRUCTION


def _assign_unit(case: Case, rng: random.Random, grid, village, regions, departments) -> None:
    level = case.current_level
    if level == Level.GRID and grid is not None:
        case.assignee_grid = grid
    elif level == Level.COUNTY and departments:
        choices = [d for d in departments if d.pk != case.complained_department_id] or departments
        case.assignee_department = rng.choice(choices)
    elif level == Level.COUNTY:
        case.assignee_region = regions.get(case.county_id)
    elif level == Level.TOWN:
        case.assignee_region = regions.get(case.town_id)
    else:
        case.assignee_region = village
