"""The burden meter (DOMAIN.md §3.6): what the platform demands of the grassroots, counted.

A ``Demand`` is one thing a role is asked to do again and again: a form, a photo, a check-in, a
report, meeting minutes. The platform's own flows' demands come from their definitions
(``FLOW_DEMANDS`` below: the fields of ``care.load.TASKS``, the other flows' forms) and are counted
from the records they leave — how many times a week the role actually did them in the county
(each row carries its date and who recorded it). Demands the county or a town adds outside the flows
(a weekly work log, photos of every visit) are counted from the audit trail when they leave rows in
the platform (``trace``: the rows created on that model in the county), else as declared: so many
times a week per person from the day they were added until the day they were retired.

For every demand the meter shows which indicator it feeds. A demand that feeds none — or feeds one
the negative list forbids counting — is work done only to leave a trace (痕迹管理): the page lists it
first so the county can cut it, and a new demand cannot be added without naming an indicator of the
catalogue (``services.demand_add``). Towns flag hidden variants (disguised responsibility pledges,
excessive record-keeping) with ``BurdenFlag``.
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.apps import apps as django_apps
from django.db.models import Count
from django.db.models.functions import TruncWeek
from django.utils import timezone

from gongzhi.care.load import TASKS_BY_CODE

from . import indicators
from .models import Demand, DemandKind, DemandOrigin, NegativeItem, NegativeKind


@dataclass(frozen=True)
class FlowDemand:
    code: str
    name: str
    role: str
    kind: str
    fields: int
    photos: int
    trace: str  # app_label.Model
    date_field: str
    feeds: str


def _fields(task_code: str) -> int:
    return TASKS_BY_CODE[task_code].fields


FLOW_DEMANDS = [
    FlowDemand("record_contact", "记录一次联系", "three_line", DemandKind.FORM, _fields("record_contact"), 0,
               "care.ContactRecord", "contacted_at", "contacts_made"),
    FlowDemand("record_visit", "记录一次走访", "grid_worker", DemandKind.FORM, _fields("record_visit"), 0,
               "care.Visit", "done_at", "red_visits_kept"),
    FlowDemand("patrol_checkin", "网格巡查签到", "grid_worker", DemandKind.CHECKIN, 1, 0,
               "care.Patrol", "started_at", ""),
    FlowDemand("report_patrol_problem", "上报巡查发现的问题", "grid_worker", DemandKind.FORM,
               _fields("report_patrol_problem"), 0, "care.PatrolProblem", "created_at", "case_accepted"),
    FlowDemand("meeting_minutes", "村级会议记录", "village_secretary", DemandKind.MEETING, 4, 0,
               "village.Meeting", "scheduled_at", "decisions_carried_out"),
    FlowDemand("key_task_progress", "镇村重点任务进度填报", "village_secretary", DemandKind.REPORT, 2, 0,
               "linking.KeyTaskProgress", "on", "key_tasks_done"),
    FlowDemand("delivery_confirmation", "物资送达确认", "grid_worker", DemandKind.FORM, 2, 0,
               "resources.Delivery", "confirmed_at", "needs_delivered"),
    FlowDemand("volunteer_hours", "确认志愿服务时长", "village_secretary", DemandKind.FORM, 1, 0,
               "volunteers.SignUp", "confirmed_at", "volunteer_hours"),
]
FLOW_BY_CODE = {d.code: d for d in FLOW_DEMANDS}
ROLE_ZH = {"three_line": "三线人员", "grid_worker": "网格员", "village_secretary": "村（社区）书记",
           "town_secretary": "镇（街道）书记", "department_handler": "部门经办人"}


def sync_flow_demands(county) -> int:
    """Make the county's flow demands match the flows' definitions (idempotent); returns changes."""
    changed = 0
    for flow in FLOW_DEMANDS:
        values = {"name": flow.name, "role": flow.role, "kind": flow.kind, "fields": flow.fields,
                  "photos": flow.photos, "trace": flow.trace, "feeds": flow.feeds, "origin": DemandOrigin.FLOW,
                  "county_id": county.pk}
        demand, created = Demand.objects.get_or_create(county=county, code=flow.code, defaults=values)
        if not created and any(getattr(demand, k) != v for k, v in values.items()):
            Demand.objects.filter(pk=demand.pk).update(**values)
            changed += 1
        changed += created
    return changed


def forbidden_indicators(county_id: int) -> set[str]:
    return set(NegativeItem.objects.filter(county_id=county_id, kind=NegativeKind.NO_COUNT, active=True)
               .exclude(indicator="").values_list("indicator", flat=True))


def feeds_nothing(demand: Demand, forbidden: set[str]) -> bool:
    return not demand.feeds or demand.feeds not in indicators.BY_CODE or demand.feeds in forbidden


def _holders(county_id: int) -> dict[str, int]:
    from gongzhi.accounts.models import RoleAssignment
    from django.db.models import Q
    rows = (RoleAssignment.objects.filter(is_active=True).filter(
        Q(region__county_id=county_id) | Q(region_id=county_id) | Q(grid__county_id=county_id)
        | Q(department__county_id=county_id)
        # three-line persons hold a contacts grant over their own households: counted where they live
        | Q(region__isnull=True, grid__isnull=True, department__isnull=True, user__person__county_id=county_id)).order_by().values("role__code").annotate(n=Count("user", distinct=True)))
    return {row["role__code"]: row["n"] for row in rows}


def _monday(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


@dataclass
class DemandLoad:
    demand: Demand
    holders: int
    weekly: dict[dt.date, Decimal] = field(default_factory=dict)  # week → times per person
    no_indicator: bool = False

    @property
    def indicator_name(self) -> str:
        found = indicators.BY_CODE.get(self.demand.feeds)
        return found.name if found else ""

    def average(self) -> Decimal:
        if not self.weekly:
            return Decimal(0)
        return (sum(self.weekly.values(), Decimal(0)) / len(self.weekly)).quantize(Decimal("0.01"))

    def fields_per_week(self) -> Decimal:
        return (self.average() * (self.demand.fields + self.demand.photos)).quantize(Decimal("0.1"))


def meter(county, *, weeks: int = 12, today: dt.date | None = None) -> dict:
    """Each demand's weekly load per person over the last ``weeks`` whole weeks, by role."""
    today = today or timezone.localdate()
    last_monday = _monday(today) - dt.timedelta(days=7)
    week_starts = [last_monday - dt.timedelta(days=7 * k) for k in range(weeks - 1, -1, -1)]
    since = week_starts[0]
    tz = timezone.get_default_timezone()
    holders = _holders(county.pk)
    forbidden = forbidden_indicators(county.pk)
    demands = list(Demand.objects.filter(county=county).order_by("role", "code"))
    loads = []
    for demand in demands:
        load = DemandLoad(demand, holders.get(demand.role, 0), no_indicator=feeds_nothing(demand, forbidden))
        flow = FLOW_BY_CODE.get(demand.code) if demand.origin == DemandOrigin.FLOW else None
        if flow:
            model = django_apps.get_model(flow.trace)
            is_date = model._meta.get_field(flow.date_field).get_internal_type() == "DateField"
            lower = since if is_date else dt.datetime.combine(since, dt.time.min, tzinfo=tz)
            upper = last_monday + dt.timedelta(days=7)
            upper = upper if is_date else dt.datetime.combine(upper, dt.time.min, tzinfo=tz)
            counts = {(row["week"].date() if isinstance(row["week"], dt.datetime) else row["week"]): row["n"]
                      for row in model._default_manager.filter(**{
                          "county_id": county.pk, f"{flow.date_field}__gte": lower, f"{flow.date_field}__lt": upper})
                      .annotate(week=TruncWeek(flow.date_field)).order_by().values("week").annotate(n=Count("pk"))}
            per = max(load.holders, 1)
            load.weekly = {w: (Decimal(counts.get(w, 0)) / per).quantize(Decimal("0.01")) for w in week_starts}
        elif demand.trace:
            # A demand the county added that leaves rows in the platform: counted from the audit
            # trail (every write is audited), rows created on that model in the county per week.
            from gongzhi.core.models import AuditAction, AuditLog
            lower = dt.datetime.combine(since, dt.time.min, tzinfo=tz)
            upper = dt.datetime.combine(last_monday + dt.timedelta(days=7), dt.time.min, tzinfo=tz)
            counts = {row["week"].date(): row["n"] for row in AuditLog.objects.filter(
                county_id=county.pk, object_type=demand.trace.lower(), action=AuditAction.CREATE,
                created_at__gte=lower, created_at__lt=upper).annotate(week=TruncWeek("created_at"))
                .order_by().values("week").annotate(n=Count("pk"))}
            per = max(load.holders, 1)
            load.weekly = {w: (Decimal(counts.get(w, 0)) / per).quantize(Decimal("0.01")) for w in week_starts}
        else:
            start = timezone.localtime(demand.added_at).date()
            end = timezone.localtime(demand.retired_at).date() if demand.retired_at else None
            load.weekly = {w: (demand.per_week if (start <= w + dt.timedelta(days=6) and (end is None or w < end))
                               else Decimal(0)) for w in week_starts}
        loads.append(load)
    by_role: dict[str, list[DemandLoad]] = defaultdict(list)
    for load in loads:
        by_role[load.demand.role].append(load)
    trend = {role: [sum((l.weekly[w] * (l.demand.fields + l.demand.photos + 1) for l in role_loads), Decimal(0))
                    for w in week_starts] for role, role_loads in by_role.items()}
    return {"weeks": week_starts, "loads": loads, "by_role": dict(by_role), "trend": trend,
            "no_indicator": [l for l in loads if l.no_indicator and l.demand.active],
            "role_names": ROLE_ZH}
