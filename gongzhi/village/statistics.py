"""Figures of the village governance layer, per village, town and county — computed from the
records, never typed in.

Scope: every figure starts from ``Model.objects.visible_to(user, perm)`` with the model's own view
permission, so a user sees the figures of what they may read (a town secretary their town's
villages, a grid worker their village — and nothing of the models their role cannot read).
Units are the villages the user may see with ``village.view_meeting``; towns and the county are
the sums of their villages. Each figure is one grouped query over all units (``values("village_id")
.annotate(…)``), never a query per village.

Period: ``start``–``end`` inclusive dates (default: this calendar year).

Definitions
* meetings held — meetings closed (held and finished) with ``scheduled_at`` in the period, by kind;
* consultations (两说一商) — held meetings of the kinds the seeds call consultation: villagers'
  meetings, courtyard meetings (院坝会), councils (议事会), coordination meetings (协调会),
  heart-to-heart meetings (恳谈会) and online consultations (``CONSULTATION_KINDS``);
* quorum failures — held formal meetings whose quorum was not met (no vote could pass there);
* agenda items — items of the meetings held, by mode (说法说政策 / 说事说心声 / 商), those raised from
  residents' cases (source "cases") and the distinct cases they carried;
* problems solved — for the decisions carried out (``done_at`` in the period): every distinct
  residents' case linked to one, plus one for each such decision linked to no case (a matter the
  committees or residents raised at a meeting). A cluster of three similar cases decided together
  is three residents' problems; the seed's Hanyin counted 2,100 a year;
* matters — decided (resolved by vote, or by emergency exemption: ``resolve``/``exempt`` step in
  the period; exemptions also on their own), rejected (``reject`` step), completed (the result
  made public), and in progress now (a stage before the resolution, created before the period
  ended);
* decisions decided in the period — carried out on time (done, and every task done by its due
  date), carried out late (done, some task done after its due date), open (being carried out),
  withdrawn; overdue tasks — open tasks past their due date today (a figure of now);
* participation — attendance rows of the meetings held: who came (present, proxy, left early),
  of them elderly, women, disabled and left-behind residents; the entitled roll of formal meetings
  and how many of it came (the share of entitled);
* publicity — required: for each of the county's ``PublicityRequirement`` rows, every village ×
  period whose publication fell due (period end + grace days) in the period and before today;
  made: those periods with a notice published (or corrected) for them; on time: published by the
  due date; flags: ``PublicityFlag`` rows flagged in the period (and of them still open); notices
  published in the period.
"""
from __future__ import annotations

import datetime as dt
import io
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, Exists, F, OuterRef, Q
from django.db.models.functions import TruncMonth, TruncQuarter, TruncYear
from django.utils import timezone

from gongzhi.cases.statistics import Rate
from gongzhi.core.audit import AuditAction, audit_record
from gongzhi.core.scoping import require_perm, scope_q
from gongzhi.registry.models import Region, RegionLevel

from .models import (
    AgendaItem, Attendance, AttendanceStatus, Decision, DecisionStatus, DecisionTask, ItemMode, ItemSource, Matter,
    MatterStatus, MatterStep, Meeting, MeetingKind, MeetingStatus, PublicityFlag, PublicityItem, PublicityPeriod,
    PublicityRequirement, PublicityStatus, TaskStatus,
)

PERM = "village.view_meeting"
K = MeetingKind
CONSULTATION_KINDS = (K.VILLAGERS, K.COURTYARD, K.COUNCIL, K.COORDINATION, K.HEART_TO_HEART, K.ONLINE)
FORMAL_KINDS = (K.VILLAGERS, K.REPRESENTATIVES, K.BRANCH, K.TWO_COMMITTEES, K.PARTY_MEMBERS)
KIND_LABELS = {
    K.VILLAGERS: "村民会议", K.REPRESENTATIVES: "村民代表会议", K.BRANCH: "支委会", K.TWO_COMMITTEES: "两委会",
    K.PARTY_MEMBERS: "党员大会", K.COURTYARD: "院坝会", K.COUNCIL: "议事会", K.COORDINATION: "协调会",
    K.HEART_TO_HEART: "恳谈会", K.ONLINE: "线上议事",
}
IN_PROGRESS = (MatterStatus.DRAFT, MatterStatus.PROPOSED, MatterStatus.DISCUSSED, MatterStatus.REVIEWED)
CAME = (AttendanceStatus.PRESENT, AttendanceStatus.PROXY, AttendanceStatus.LEFT)
PUBLISHED = (PublicityStatus.PUBLISHED, PublicityStatus.SUPERSEDED)

# Every figure of a unit, in the order of the page and the spreadsheet, with its Chinese label.
FIGURES: dict[str, str] = {
    "meetings": "召开会议",
    **{f"held_{kind}": KIND_LABELS[kind] for kind in (K.TWO_COMMITTEES, K.BRANCH, K.PARTY_MEMBERS, K.REPRESENTATIVES,
                                                      K.VILLAGERS, K.COURTYARD, K.COUNCIL, K.COORDINATION,
                                                      K.HEART_TO_HEART, K.ONLINE)},
    "consultations": "两说一商议事",
    "quorum_failures": "未达法定人数",
    "items_explain": "说法说政策议题",
    "items_speak": "说事说心声议题",
    "items_decide": "商议决定议题",
    "items_from_cases": "来自群众诉求的议题",
    "cases_on_agenda": "上会的群众诉求",
    "problems_solved": "解决问题",
    "cases_solved": "其中群众诉求",
    "matters_decided": "重大事项已决议",
    "matters_exempted": "其中紧急豁免",
    "matters_rejected": "重大事项未通过",
    "matters_completed": "重大事项两公开完成",
    "matters_in_progress": "重大事项进行中",
    "decisions": "决议",
    "decisions_on_time": "按期落实",
    "decisions_late": "逾期落实",
    "decisions_open": "落实中",
    "decisions_withdrawn": "撤销",
    "tasks_overdue": "逾期未完成任务",
    "came": "参会人次",
    "came_elderly": "老年人",
    "came_women": "妇女",
    "came_disabled": "残疾人",
    "came_left_behind": "留守人员",
    "came_proxy": "委托参会",
    "came_left_early": "中途离会",
    "entitled": "应到人次",
    "entitled_came": "应到者实到",
    "publicity_required": "应公开（期次）",
    "publicity_made": "已公开",
    "publicity_on_time": "按时公开",
    "publicity_flags": "未按时公开提醒",
    "publicity_flags_open": "提醒未整改",
    "notices": "公开公告",
}
RATES: dict[str, tuple[str, str, str]] = {
    "attendance_rate": ("应到者到会率", "entitled_came", "entitled"),
    "on_time_rate": ("决议按期落实率", "decisions_on_time", "decisions_done"),
    "publicity_rate": ("按要求公开率", "publicity_made", "publicity_required"),
}
# The page shows these columns (a phone holds a dozen); the spreadsheet has every figure.
PAGE_COLUMNS = ["meetings", "consultations", "quorum_failures", "items_from_cases", "problems_solved",
                "matters_decided", "matters_rejected", "decisions_on_time", "decisions_late", "decisions_open",
                "tasks_overdue", "came", "publicity_made", "publicity_required", "publicity_flags"]


@dataclass
class Unit:
    """One village, town or county with its figures."""

    region_id: int
    code: str
    name: str
    level: int
    counts: dict[str, int] = field(default_factory=dict)
    parent_id: int | None = None

    def rate(self, key: str) -> Rate:
        _label, numerator, denominator = RATES[key]
        return Rate(Decimal(self.counts.get(numerator, 0)), self.counts.get(denominator, 0))

    @property
    def rates(self) -> dict[str, Rate]:
        return {key: self.rate(key) for key in RATES}

    def add(self, other: Unit) -> None:
        for key, value in other.counts.items():
            self.counts[key] = self.counts.get(key, 0) + value


@dataclass
class VillageStatistics:
    start: dt.date
    end: dt.date
    today: dt.date
    villages: list[Unit]
    towns: list[Unit]
    counties: list[Unit]
    total: Unit

    def rows(self, by: str) -> list[Unit]:
        return {"village": self.villages, "town": self.towns, "county": self.counties}[by]


def this_year(today: dt.date | None = None) -> tuple[dt.date, dt.date]:
    today = today or timezone.localdate()
    return dt.date(today.year, 1, 1), dt.date(today.year, 12, 31)


def _bounds(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    tz = timezone.get_default_timezone()
    return (dt.datetime.combine(start, dt.time.min, tzinfo=tz),
            dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=tz))


def units_for(*, user, region: Region | None = None) -> list[dict]:
    """The villages the user may see with ``village.view_meeting`` (under ``region``, if given)."""
    rule = scope_q(user, Region, PERM)
    if rule is None:
        return []
    qs = Region.objects.filter(rule, level=RegionLevel.VILLAGE)
    if region is not None:
        column = {RegionLevel.COUNTY: "county_id", RegionLevel.TOWN: "town_id"}.get(region.level, "pk")
        qs = qs.filter(**{column: region.pk})
    return list(qs.order_by("code").values("id", "code", "name", "town_id", "county_id"))


def _in(qs, region: Region | None):
    """Narrow a visible queryset to ``region`` by its cached territory column (one indexed filter)."""
    if region is None:
        return qs
    column = {RegionLevel.COUNTY: "county_id", RegionLevel.TOWN: "town_id"}.get(region.level, "village_id")
    return qs.filter(**{column: region.pk})


def _per_village(rows, out: dict[int, dict], names: dict[str, str] | None = None) -> None:
    for row in rows:
        village = row.pop("village_id")
        if village in out:
            for key, value in row.items():
                key = (names or {}).get(key, key)
                out[village][key] = out[village].get(key, 0) + (value or 0)


def compute(*, user, region: Region | None = None, start: dt.date | None = None, end: dt.date | None = None,
            today: dt.date | None = None) -> VillageStatistics:
    today = today or timezone.localdate()
    if start is None or end is None:
        default_start, default_end = this_year(today)
        start, end = start or default_start, end or default_end
    lo, hi = _bounds(start, end)
    villages = units_for(user=user, region=region)
    counts: dict[int, dict] = {v["id"]: dict.fromkeys(FIGURES, 0) | {"decisions_done": 0} for v in villages}

    def visible(model, perm):
        return _in(model.objects.visible_to(user, perm), region).order_by()

    # meetings held, by kind; quorum failures
    held = visible(Meeting, "village.view_meeting").filter(status=MeetingStatus.CLOSED, scheduled_at__gte=lo,
                                                           scheduled_at__lt=hi)
    for row in held.values("village_id", "kind").annotate(n=Count("pk"), failed=Count("pk", filter=Q(
            quorum_met=False, kind__in=FORMAL_KINDS))):
        c = counts.get(row["village_id"])
        if c is None:
            continue
        c["meetings"] += row["n"]
        c[f"held_{row['kind']}"] += row["n"]
        c["quorum_failures"] += row["failed"]
        if row["kind"] in CONSULTATION_KINDS:
            c["consultations"] += row["n"]

    # agenda items of the meetings held
    items = visible(AgendaItem, "village.view_agendaitem").filter(
        meeting__status=MeetingStatus.CLOSED, meeting__scheduled_at__gte=lo, meeting__scheduled_at__lt=hi)
    _per_village(items.values("village_id").annotate(
        items_explain=Count("pk", filter=Q(mode=ItemMode.EXPLAIN), distinct=True),
        items_speak=Count("pk", filter=Q(mode=ItemMode.SPEAK), distinct=True),
        items_decide=Count("pk", filter=Q(mode=ItemMode.DECIDE), distinct=True),
        items_from_cases=Count("pk", filter=Q(source=ItemSource.CASES), distinct=True),
        cases_on_agenda=Count("cases", distinct=True)), counts)

    # participation
    attendance = visible(Attendance, "village.view_attendance").filter(
        meeting__status=MeetingStatus.CLOSED, meeting__scheduled_at__gte=lo, meeting__scheduled_at__lt=hi)
    came = Q(status__in=CAME)
    _per_village(attendance.values("village_id").annotate(
        came=Count("pk", filter=came), came_elderly=Count("pk", filter=came & Q(is_elderly=True)),
        came_women=Count("pk", filter=came & Q(is_woman=True)),
        came_disabled=Count("pk", filter=came & Q(is_disabled=True)),
        came_left_behind=Count("pk", filter=came & Q(is_left_behind=True)),
        came_proxy=Count("pk", filter=Q(status=AttendanceStatus.PROXY)),
        came_left_early=Count("pk", filter=Q(status=AttendanceStatus.LEFT)),
        entitled_rows=Count("pk", filter=Q(entitled=True)), entitled_came=Count("pk", filter=came & Q(entitled=True))),
        counts, names={"entitled_rows": "entitled"})  # an annotation may not take a field's name

    # major matters
    steps = visible(MatterStep, "village.view_matterstep").filter(at__gte=lo, at__lt=hi)
    _per_village(steps.values("village_id").annotate(
        matters_decided=Count("matter", filter=Q(step__in=["resolve", "exempt"]), distinct=True),
        matters_exempted=Count("matter", filter=Q(step="exempt"), distinct=True),
        matters_rejected=Count("matter", filter=Q(step="reject"), distinct=True),
        matters_completed=Count("matter", filter=Q(step="publish_result"), distinct=True)), counts)
    _per_village(visible(Matter, "village.view_matter").filter(status__in=IN_PROGRESS, created_at__lt=hi)
                 .values("village_id").annotate(matters_in_progress=Count("pk")), counts)

    # decisions and their tasks
    late_task = DecisionTask.objects.filter(decision=OuterRef("pk"), status=TaskStatus.DONE,
                                            done_at__date__gt=F("due_on"))
    decisions = visible(Decision, "village.view_decision")
    done = Q(status=DecisionStatus.DONE)
    _per_village(decisions.filter(decided_on__gte=start, decided_on__lte=end).values("village_id").annotate(
        decisions=Count("pk"), decisions_on_time=Count("pk", filter=done & ~Q(Exists(late_task))),
        decisions_late=Count("pk", filter=done & Q(Exists(late_task))),
        decisions_open=Count("pk", filter=Q(status=DecisionStatus.IN_PROGRESS)),
        decisions_withdrawn=Count("pk", filter=Q(status=DecisionStatus.WITHDRAWN))), counts)
    _per_village(visible(DecisionTask, "village.view_decisiontask").filter(status=TaskStatus.OPEN, due_on__lt=today)
                 .values("village_id").annotate(tasks_overdue=Count("pk")), counts)

    # problems solved: the cases of the decisions carried out, and decisions of no case
    carried_out = decisions.filter(done, done_at__gte=lo, done_at__lt=hi)
    through = Decision.cases.through.objects.filter(decision__in=carried_out.values("pk"))
    _per_village(through.order_by().values(village_id=F("decision__village_id"))
                 .annotate(cases_solved=Count("case_id", distinct=True)), counts)
    _per_village(carried_out.filter(cases__isnull=True).values("village_id")
                 .annotate(decisions_without_cases=Count("pk")), counts)

    # publicity
    _publicity(visible, counts, villages, start, end, today, lo, hi)

    for c in counts.values():
        c["problems_solved"] = c["cases_solved"] + c.pop("decisions_without_cases", 0)
        c["decisions_done"] = c["decisions_on_time"] + c["decisions_late"]

    return _assemble(villages, counts, start, end, today)


def _publicity(visible, counts, villages, start, end, today, lo, hi) -> None:
    by_county: dict[int, list[int]] = defaultdict(list)
    for v in villages:
        by_county[v["county_id"]].append(v["id"])
    trunc = {PublicityPeriod.MONTHLY: TruncMonth, PublicityPeriod.QUARTERLY: TruncQuarter,
             PublicityPeriod.YEARLY: TruncYear}
    items = visible(PublicityItem, "village.view_publicityitem")
    for county_id, village_ids in by_county.items():
        # A county's rules (configuration, not people's data), for the counties of the units.
        for category, period, grace in (PublicityRequirement.objects.filter(county_id=county_id)
                                        .values_list("category", "period", "grace_days")):
            slots = []
            for slot_start, slot_end in period_slots(period, start - dt.timedelta(days=grace), end):
                due = slot_end + dt.timedelta(days=grace)
                if start <= due <= end and due < today:
                    slots.append((slot_start, due))
            if not slots:
                continue
            for village_id in village_ids:
                counts[village_id]["publicity_required"] += len(slots)
            on_time = Q()
            for slot_start, due in slots:
                on_time |= Q(slot=slot_start, published_at__lt=_bounds(due, due)[1])
            rows = (items.filter(county_id=county_id, category=category, status__in=PUBLISHED)
                    .annotate(slot=trunc[period]("period_start"))
                    .filter(slot__in=[s for s, _due in slots])
                    .values("village_id")
                    .annotate(publicity_made=Count("slot", distinct=True),
                              publicity_on_time=Count("slot", filter=on_time, distinct=True)))
            _per_village(rows, counts)
    flags = visible(PublicityFlag, "village.view_publicityflag").filter(flagged_at__gte=lo, flagged_at__lt=hi)
    _per_village(flags.values("village_id").annotate(
        publicity_flags=Count("pk"), publicity_flags_open=Count("pk", filter=Q(resolved_at__isnull=True))), counts)
    _per_village(items.filter(status__in=PUBLISHED, published_at__gte=lo, published_at__lt=hi)
                 .values("village_id").annotate(notices=Count("pk")), counts)


def period_slots(period: str, first: dt.date, last: dt.date) -> list[tuple[dt.date, dt.date]]:
    """The whole periods (month, quarter, year) that end between ``first`` and ``last``."""
    slots = []
    if period == PublicityPeriod.YEARLY:
        for year in range(first.year - 1, last.year + 1):
            start, end = dt.date(year, 1, 1), dt.date(year, 12, 31)
            if first <= end <= last:
                slots.append((start, end))
        return slots
    months = 1 if period == PublicityPeriod.MONTHLY else 3
    day = first.replace(day=1) - dt.timedelta(days=95)
    day = day.replace(month=(day.month - 1) // months * months + 1, day=1)
    while day <= last:
        month = day.month - 1 + months
        end = dt.date(day.year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)
        if first <= end <= last:
            slots.append((day, end))
        day = end + dt.timedelta(days=1)
    return slots


def _assemble(villages, counts, start, end, today) -> VillageStatistics:
    region_ids = {v["town_id"] for v in villages} | {v["county_id"] for v in villages}
    names = {r["id"]: r for r in Region.objects.filter(pk__in=region_ids).values("id", "code", "name", "level")}
    village_units, towns, counties = [], {}, {}
    total = Unit(region_id=0, code="", name="合计", level=0, counts=dict.fromkeys([*FIGURES, "decisions_done"], 0))
    for v in villages:
        unit = Unit(region_id=v["id"], code=v["code"], name=v["name"], level=RegionLevel.VILLAGE,
                    counts=counts[v["id"]], parent_id=v["town_id"])
        village_units.append(unit)
        for bucket, key, parent in ((towns, v["town_id"], v["county_id"]), (counties, v["county_id"], None)):
            if key not in bucket:
                info = names.get(key, {"code": "", "name": "—", "level": 0})
                bucket[key] = Unit(region_id=key, code=info["code"], name=info["name"], level=info["level"],
                                   counts=dict.fromkeys(unit.counts, 0), parent_id=parent)
            bucket[key].add(unit)
        total.add(unit)
    return VillageStatistics(start=start, end=end, today=today, villages=village_units,
                             towns=sorted(towns.values(), key=lambda u: u.code),
                             counties=sorted(counties.values(), key=lambda u: u.code), total=total)


# ---------------------------------------------------------------------------------------------
# Excel


def _sheet(ws, title: str, units: list[Unit], total: Unit | None, with_parent: dict[int, str] | None = None) -> None:
    ws.title = title
    header = ["区划代码", "名称"] + (["所属镇（街道）"] if with_parent is not None else [])
    header += list(FIGURES.values()) + [label for label, _n, _d in RATES.values()]
    ws.append(header)
    for unit in [*units, *([total] if total is not None else [])]:
        row = [unit.code, unit.name] + ([with_parent.get(unit.parent_id, "")] if with_parent is not None else [])
        row += [unit.counts.get(key, 0) for key in FIGURES]
        row += [float(r.percent) if r.percent is not None else None for r in unit.rates.values()]
        ws.append(row)
    ws.freeze_panes = "C2"


def statistics_workbook(stats: VillageStatistics) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    _sheet(ws, "按村（社区）", stats.villages, stats.total, with_parent={u.region_id: u.name for u in stats.towns})
    _sheet(wb.create_sheet(), "按镇（街道）", stats.towns, stats.total)
    _sheet(wb.create_sheet(), "按县", stats.counties, None)
    notes = wb.create_sheet("说明")
    notes.append(["统计期间", f"{stats.start:%Y-%m-%d} 至 {stats.end:%Y-%m-%d}"])
    notes.append(["计算日期", f"{stats.today:%Y-%m-%d}"])
    notes.append(["两说一商议事", "村民会议、院坝会、议事会、协调会、恳谈会、线上议事（已召开）"])
    notes.append(["解决问题", "期间落实完成的决议所关联的群众诉求（每件计一），加上不关联诉求的已落实决议（每项计一）"])
    notes.append(["按期落实", "决议已落实且每项任务都在完成时限内完成"])
    notes.append(["应公开（期次）", "县定公开要求中，公开期限（期末加宽限天数）在统计期间内且已届满的村·期次"])
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def statistics_export(*, actor, region: Region | None = None, start: dt.date | None = None,
                      end: dt.date | None = None) -> bytes:
    """The figures as an Excel file, one row per village, town and county (audited)."""
    require_perm(actor, PERM)
    stats = compute(user=actor, region=region, start=start, end=end)
    data = statistics_workbook(stats)
    audit_record(actor=actor, action=AuditAction.EXPORT, object_type="village.meeting", object_repr="村级治理统计导出",
                 note=(f"{stats.start:%Y-%m-%d}至{stats.end:%Y-%m-%d}，{len(stats.villages)}个村（社区）；"
                       f"议事{stats.total.counts['consultations']}次，解决问题{stats.total.counts['problems_solved']}件"),
                 territory=region)
    return data
