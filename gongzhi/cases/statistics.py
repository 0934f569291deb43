"""Statistics of residents' matters, computed from the case records — never typed in.

Scope: the cases ``user`` may view (``Case.objects.visible_to(user, "cases.view_case")``),
optionally narrowed to a region. Period: the cohort of cases *received* in the period
(``received_at``; ``start`` inclusive, ``end`` inclusive when dates are given), followed to their
present state. Every rate keeps its numerator and denominator (``Rate``), so any figure can be
reproduced.

Definitions
* received — cases registered;            accepted — cases with ``accepted_at`` (受理);
* closed — accepted cases closed, resolved or unresolved (办结; declined cases are not closed);
* closure rate (办结率) = closed / accepted;
* on-time closure rate (按期办结率) = closed by ``resolution_due_at`` (after extensions and
  suspensions) / closed;
* response rate (响应率) = signed for (or answered) by ``response_due_at`` / cases assigned;
* resolution rate (解决率) = closed as resolved / closed;
* satisfaction rate (满意率) = (satisfied + w × basically satisfied) / (satisfied + basically
  satisfied + dissatisfied); unreachable requesters are not counted; w is
  ``settings.GONGZHI_SATISFACTION_BASIC_WEIGHT`` (default 1.0) or the ``basic_weight`` argument;
* rework rate (返工率) = cases sent back or reopened at least once / cases whose result was reported;
* extension rate (延期率) = cases extended at least once / accepted.
Breakdowns: by ledger, category, current level, status and handling unit; and the table of the
level at which resolved cases were settled (the seed's village 557 / town 331 / county 6).

How the county's figures stay fast at a million cases (PostgreSQL): triggers on the cases table
keep exact rollups (migration 0005: signed per-group deltas appended by every INSERT, UPDATE and
DELETE, folded into ``StatisticsRollup``/``StatisticsUnitRollup`` by ``statistics_fold``, which
celery beat runs every minute). When the question is a whole county over whole months (a year,
a quarter) asked by someone who sees the whole county, ``compute_statistics`` reads the rollup
rows plus the pending deltas — a few thousand rows instead of the county's cases — and
subtracts, counted directly, the few cases the asker must recuse from (``conflict_q``). Any other
question (a town, a village, a period cut mid-month, a narrower scope) and SQLite (the demo) are
counted directly from the cases, as before; both paths give identical figures (tested).
"""
from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db import connection
from django.db.models import Count, F, Q, QuerySet, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from gongzhi.core.audit import AuditAction, audit_record
from gongzhi.core.scoping import require_perm

from .choices import LEVEL_ORDER, CaseStatus, ClosedAs, Ledger, Level, Satisfaction
from .models import Case

S = CaseStatus


@dataclass(frozen=True)
class Rate:
    numerator: Decimal
    denominator: int

    @property
    def value(self) -> Decimal | None:
        if not self.denominator:
            return None
        return Decimal(self.numerator) / Decimal(self.denominator)

    @property
    def percent(self) -> Decimal | None:
        """Rounded to two decimals, half up (97.56)."""
        value = self.value
        return None if value is None else (value * 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)

    def __str__(self):
        return "—" if self.percent is None else f"{self.percent}%"


COUNTS = {
    "received": Count("pk"),
    "accepted": Count("pk", filter=Q(accepted_at__isnull=False)),
    "closed": Count("pk", filter=Q(status=S.CLOSED, closed_as__in=[ClosedAs.RESOLVED, ClosedAs.UNRESOLVED])),
    "closed_on_time": Count("pk", filter=Q(status=S.CLOSED, closed_as__in=[ClosedAs.RESOLVED, ClosedAs.UNRESOLVED],
                                           resolution_due_at__isnull=False, closed_at__lte=F("resolution_due_at"))),
    "resolved": Count("pk", filter=Q(status=S.CLOSED, closed_as=ClosedAs.RESOLVED)),
    "assigned": Count("pk", filter=Q(response_due_at__isnull=False)),
    "responded_on_time": Count("pk", filter=Q(response_due_at__isnull=False, first_response_at__isnull=False,
                                              first_response_at__lte=F("response_due_at"))),
    "satisfied": Count("pk", filter=Q(satisfaction=Satisfaction.SATISFIED)),
    "basic": Count("pk", filter=Q(satisfaction=Satisfaction.BASIC)),
    "dissatisfied": Count("pk", filter=Q(satisfaction=Satisfaction.DISSATISFIED)),
    "unreachable": Count("pk", filter=Q(satisfaction=Satisfaction.UNREACHABLE)),
    "reported": Count("pk", filter=Q(result_reported_at__isnull=False)),
    "reworked": Count("pk", filter=Q(result_reported_at__isnull=False, rework_count__gt=0)),
    "extended": Count("pk", filter=Q(accepted_at__isnull=False, extension_count__gt=0)),
    "disputes": Count("pk", filter=Q(is_dispute=True, accepted_at__isnull=False)),
    "disputes_resolved": Count("pk", filter=Q(is_dispute=True, status=S.CLOSED, closed_as=ClosedAs.RESOLVED)),
}

RATE_LABELS = {
    "closure_rate": "办结率", "on_time_closure_rate": "按期办结率", "response_rate": "响应率",
    "resolution_rate": "解决率", "satisfaction_rate": "满意率", "rework_rate": "返工率", "extension_rate": "延期率",
}
COUNT_LABELS = {
    "received": "受理登记", "accepted": "受理", "closed": "办结", "closed_on_time": "按期办结", "resolved": "已解决",
    "assigned": "交办", "responded_on_time": "按时响应", "satisfied": "满意", "basic": "基本满意",
    "dissatisfied": "不满意", "unreachable": "联系不上", "reported": "反馈结果", "reworked": "返工",
    "extended": "延期", "disputes": "矛盾纠纷受理", "disputes_resolved": "矛盾纠纷化解",
}


@dataclass
class Figures:
    counts: dict[str, int]
    basic_weight: Decimal

    def rate(self, numerator: str, denominator: str) -> Rate:
        return Rate(Decimal(self.counts[numerator]), self.counts[denominator])

    @property
    def rates(self) -> dict[str, Rate]:
        c = self.counts
        answered = c["satisfied"] + c["basic"] + c["dissatisfied"]
        return {
            "closure_rate": self.rate("closed", "accepted"),
            "on_time_closure_rate": self.rate("closed_on_time", "closed"),
            "response_rate": self.rate("responded_on_time", "assigned"),
            "resolution_rate": self.rate("resolved", "closed"),
            "satisfaction_rate": Rate(Decimal(c["satisfied"]) + self.basic_weight * c["basic"], answered),
            "rework_rate": self.rate("reworked", "reported"),
            "extension_rate": self.rate("extended", "accepted"),
        }

    def __getattr__(self, name):
        if name in RATE_LABELS:
            return self.rates[name]
        if name in COUNTS:
            return self.counts[name]
        raise AttributeError(name)


@dataclass
class Statistics:
    total: Figures
    by_ledger: dict[str, Figures] = field(default_factory=dict)
    by_category: dict[str, Figures] = field(default_factory=dict)
    by_level: dict[str, Figures] = field(default_factory=dict)
    by_unit: dict[str, Figures] = field(default_factory=dict)
    by_status: dict[str, Figures] = field(default_factory=dict)
    settled_levels: dict[str, int] = field(default_factory=dict)
    start: dt.datetime | None = None
    end: dt.datetime | None = None


def _bound(value, *, end: bool = False) -> dt.datetime | None:
    if value is None or isinstance(value, dt.datetime):
        return value
    day = value + dt.timedelta(days=1) if end else value
    return dt.datetime.combine(day, dt.time.min, tzinfo=timezone.get_default_timezone())


def cohort(*, user, region=None, start=None, end=None) -> QuerySet:
    """The cases a statistic is computed over (scope + received in the period)."""
    qs = Case.objects.visible_to(user, "cases.view_case")
    if region is not None:
        column = {1: "county_id", 2: "town_id", 3: "village_id"}.get(region.level, "region_id")
        qs = qs.filter(**{column: region.pk})
    start, end = _bound(start), _bound(end, end=True)
    if start is not None:
        qs = qs.filter(received_at__gte=start)
    if end is not None:
        qs = qs.filter(received_at__lt=end)
    return qs


def _weight(basic_weight) -> Decimal:
    if basic_weight is None:
        basic_weight = getattr(settings, "GONGZHI_SATISFACTION_BASIC_WEIGHT", 1.0)
    weight = Decimal(str(basic_weight))
    if not Decimal(0) <= weight <= Decimal(1):
        raise ValueError("the weight of 基本满意 must lie between 0 and 1")
    return weight


def _grouped(qs: QuerySet, key, weight: Decimal, label=lambda v: v) -> dict[str, Figures]:
    rows = qs.order_by().values(group=key).annotate(**COUNTS)
    out = {}
    for row in rows:
        group = row.pop("group")
        out[label(group)] = Figures({k: row[k] for k in COUNTS}, weight)
    return out


def figures(qs: QuerySet, *, basic_weight=None) -> Figures:
    return Figures(qs.aggregate(**COUNTS), _weight(basic_weight))


def settled_level_table(qs: QuerySet) -> dict[str, int]:
    """Resolved cases by the level at which they were settled, every level listed."""
    rows = dict(qs.filter(status=S.CLOSED, closed_as=ClosedAs.RESOLVED).order_by()
                .values_list("settled_level").annotate(n=Count("pk")))
    return {level.value: rows.get(level.value, 0) for level in LEVEL_ORDER}


def compute_statistics(*, user, region=None, start=None, end=None, basic_weight=None,
                       breakdowns: bool = True, use_rollup: bool = True) -> Statistics:
    weight = _weight(basic_weight)
    months = _rollup_months(user=user, region=region, start=start, end=end) if use_rollup else None
    if months is not None:
        return _from_rollup(user=user, county=region, months=months, start=start, end=end, weight=weight,
                            breakdowns=breakdowns)
    qs = cohort(user=user, region=region, start=start, end=end)
    stats = Statistics(total=figures(qs, basic_weight=weight), start=_bound(start), end=_bound(end, end=True))
    stats.settled_levels = settled_level_table(qs)
    if breakdowns:
        stats.by_ledger = _grouped(qs, F("ledger"), weight, lambda v: Ledger(v).label)
        stats.by_category = _grouped(qs, F("category__name"), weight)
        stats.by_level = _grouped(qs, F("current_level"), weight, lambda v: Level(v).label if v else "—")
        stats.by_unit = _grouped(qs, Coalesce(F("assignee_department__name"), F("assignee_region__name"),
                                              F("assignee_grid__name"), Value("（未交办）")), weight)
        stats.by_status = _grouped(qs, F("status"), weight, lambda v: CaseStatus(v).label)
    return stats


# ---------------------------------------------------------------------------------------------
# the rollup path (PostgreSQL)

COUNT_COLUMNS = list(COUNTS)
MAIN_KEY = ["ledger", "category_id", "current_level", "status", "settled_level"]
UNIT_KEY = ["unit_department_id", "unit_region_id", "unit_grid_id"]
NO_UNIT = "（未交办）"


def statistics_fold() -> int:
    """Move the pending deltas into the rollups (one statement; safe with several workers: each
    delta row is deleted, hence folded, by exactly one of them). Returns how many were folded."""
    if connection.vendor != "postgresql":
        return 0
    from .models import StatisticsDelta, StatisticsRollup, StatisticsUnitRollup

    delta, main, unit = (m._meta.db_table for m in (StatisticsDelta, StatisticsRollup, StatisticsUnitRollup))
    sums = ", ".join(f"SUM({c})" for c in COUNT_COLUMNS)
    cols = ", ".join(COUNT_COLUMNS)
    add = ", ".join(f"{c} = t.{c} + EXCLUDED.{c}" for c in COUNT_COLUMNS)
    main_key = ", ".join(["county_id", "month", *MAIN_KEY])
    unit_key = ", ".join(["county_id", "month", *UNIT_KEY])
    with connection.cursor() as cursor:
        cursor.execute(f"""
            WITH moved AS (DELETE FROM {delta} RETURNING *),
            into_main AS (
                INSERT INTO {main} AS t ({main_key}, {cols})
                SELECT {main_key}, {sums} FROM moved GROUP BY {main_key}
                ON CONFLICT ({main_key}) DO UPDATE SET {add}),
            into_unit AS (
                INSERT INTO {unit} AS t ({unit_key}, {cols})
                SELECT {unit_key}, {sums} FROM moved GROUP BY {unit_key}
                ON CONFLICT ({unit_key}) DO UPDATE SET {add})
            SELECT count(*) FROM moved""")
        folded = cursor.fetchone()[0]
        if folded:  # groups whose cases have all gone (deleted, or moved to another group)
            cursor.execute(f"DELETE FROM {main} WHERE received = 0")
            cursor.execute(f"DELETE FROM {unit} WHERE received = 0")
    return folded


def _month(day: dt.date) -> int:
    return day.year * 100 + day.month


def _rollup_months(*, user, region, start, end) -> tuple[int | None, int | None] | None:
    """``(first, last)`` months (``yyyymm``, None = open) when the rollup can answer, else None.

    The rollup answers for a county (level 1) over whole months, asked by a user who sees the
    whole county. "Sees the whole county" is asked of the scoping mechanism itself: the county's
    own region row is visible to a user for ``cases.view_case`` exactly when one of their grants
    for it covers the county (all, or the county region); a town, grid, department or contacts
    grant does not make the county row visible.
    """
    if connection.vendor != "postgresql" or region is None or getattr(region, "level", None) != 1:
        return None
    for value in (start, end):
        if isinstance(value, dt.datetime):
            return None
    if start is not None and start.day != 1:
        return None
    if end is not None and (end + dt.timedelta(days=1)).day != 1:
        return None
    from gongzhi.registry.models import Region

    if not Region.objects.visible_to(user, "cases.view_case").filter(pk=region.pk).exists():
        return None
    return (_month(start) if start else None, _month(end) if end else None)


def _rollup_rows(table: str, key: list[str], county_id: int, months) -> dict[tuple, list[int]]:
    """The rollup's rows plus the pending deltas, summed per ``key``, in one statement."""
    from .models import StatisticsDelta

    where, params = ["county_id = %s"], [county_id]
    first, last = months
    if first is not None:
        where.append("month >= %s")
        params.append(first)
    if last is not None:
        where.append("month <= %s")
        params.append(last)
    where_sql = " AND ".join(where)
    cols = ", ".join(key)
    inner = ", ".join([*key, *COUNT_COLUMNS])
    sums = ", ".join(f"SUM({c})" for c in COUNT_COLUMNS)
    sql = (f"SELECT {cols + ', ' if key else ''}{sums} FROM ("
           f"SELECT {inner} FROM {table} WHERE {where_sql} UNION ALL "
           f"SELECT {inner} FROM {StatisticsDelta._meta.db_table} WHERE {where_sql}) t"
           + (f" GROUP BY {cols}" if key else ""))
    with connection.cursor() as cursor:
        cursor.execute(sql, params + params)
        return {tuple(row[:len(key)]): [int(v or 0) for v in row[len(key):]] for row in cursor.fetchall()}


def _subtract(rows: dict[tuple, list[int]], key: tuple, counts: dict) -> None:
    current = rows.setdefault(key, [0] * len(COUNT_COLUMNS))
    for i, name in enumerate(COUNT_COLUMNS):
        current[i] -= counts[name]


def _from_rollup(*, user, county, months, start, end, weight: Decimal, breakdowns: bool) -> Statistics:
    from .models import Case, CaseCategory, StatisticsRollup, StatisticsUnitRollup, conflict_q

    main_key = MAIN_KEY if breakdowns else ["status", "settled_level"]
    main = _rollup_rows(StatisticsRollup._meta.db_table, main_key, county.pk, months)
    units = _rollup_rows(StatisticsUnitRollup._meta.db_table, UNIT_KEY, county.pk, months) if breakdowns else {}
    conflict = conflict_q(user)
    if conflict is not None:
        # The cases this user must recuse from are in the rollup but not in their statistics.
        hidden = Case.objects.filter(county_id=county.pk).filter(conflict)
        lo, hi = _bound(start), _bound(end, end=True)
        if lo is not None:
            hidden = hidden.filter(received_at__gte=lo)
        if hi is not None:
            hidden = hidden.filter(received_at__lt=hi)
        columns = {"unit_department_id": Coalesce("assignee_department_id", 0),
                   "unit_region_id": Coalesce("assignee_region_id", 0),
                   "unit_grid_id": Coalesce("assignee_grid_id", 0)}
        for row in hidden.order_by().values(*MAIN_KEY, **columns).annotate(**COUNTS):
            _subtract(main, tuple(row[k] for k in main_key), row)
            if breakdowns:
                _subtract(units, tuple(row[k] for k in UNIT_KEY), row)

    def figures_of(groups: dict) -> dict[str, Figures]:
        return {label: Figures(dict(zip(COUNT_COLUMNS, counts)), weight)
                for label, counts in groups.items() if counts[0] > 0}

    def add(groups: dict, label, counts: list[int]) -> None:
        current = groups.setdefault(label, [0] * len(COUNT_COLUMNS))
        for i, value in enumerate(counts):
            current[i] += value

    total: dict = {}
    settled: dict[str, int] = {}
    by = {"ledger": {}, "category": {}, "level": {}, "status": {}}
    names = dict(CaseCategory.objects.filter(pk__in={k[1] for k in main}).values_list("pk", "name")) \
        if breakdowns else {}
    resolved = COUNT_COLUMNS.index("resolved")
    for key, counts in main.items():
        row = dict(zip(main_key, key))
        add(total, "total", counts)
        if counts[resolved]:
            settled[row["settled_level"]] = settled.get(row["settled_level"], 0) + counts[resolved]
        if breakdowns and counts[0] > 0:
            add(by["ledger"], Ledger(row["ledger"]).label, counts)
            add(by["category"], names.get(row["category_id"], ""), counts)
            add(by["level"], Level(row["current_level"]).label if row["current_level"] else "—", counts)
            add(by["status"], CaseStatus(row["status"]).label, counts)
    stats = Statistics(total=Figures(dict(zip(COUNT_COLUMNS, total.get("total", [0] * len(COUNT_COLUMNS)))),
                                     weight),
                       start=_bound(start), end=_bound(end, end=True))
    stats.settled_levels = {level.value: settled.get(level.value, 0) for level in LEVEL_ORDER}
    if breakdowns:
        stats.by_ledger, stats.by_category = figures_of(by["ledger"]), figures_of(by["category"])
        stats.by_level, stats.by_status = figures_of(by["level"]), figures_of(by["status"])
        stats.by_unit = figures_of(_unit_groups(units))
    return stats


def _unit_groups(units: dict[tuple, list[int]]) -> dict[str, list[int]]:
    """Per handling unit's name, as ``Coalesce(department, region, grid, "（未交办）")`` names it."""
    from gongzhi.registry.models import Department, Grid, Region

    live = {k: v for k, v in units.items() if v[0] > 0}
    departments = dict(Department.objects.filter(pk__in={k[0] for k in live if k[0]}).values_list("pk", "name"))
    regions = dict(Region.objects.filter(pk__in={k[1] for k in live if k[1] and not k[0]}).values_list("pk", "name"))
    grids = dict(Grid.objects.filter(pk__in={k[2] for k in live if k[2] and not k[0] and not k[1]})
                 .values_list("pk", "name"))
    out: dict[str, list[int]] = {}
    for (department, region, grid), counts in live.items():
        label = (departments.get(department) if department else None) or (
            regions.get(region) if region else None) or (grids.get(grid) if grid else None) or NO_UNIT
        current = out.setdefault(label, [0] * len(COUNT_COLUMNS))
        for i, value in enumerate(counts):
            current[i] += value
    return out


# ---------------------------------------------------------------------------------------------
# Excel


def _sheet_of_figures(ws, title: str, groups: dict[str, Figures]) -> None:
    ws.title = title
    ws.append([title.split("按")[-1] or "分组"] + list(COUNT_LABELS.values()) + list(RATE_LABELS.values()))
    for name, fig in groups.items():
        ws.append([name] + [fig.counts[k] for k in COUNT_LABELS] + [
            float(r.percent) if r.percent is not None else None for r in fig.rates.values()])


def statistics_workbook(stats: Statistics) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "总体"
    ws.append(["指标", "数值", "分子", "分母"])
    for key, label in COUNT_LABELS.items():
        ws.append([label, stats.total.counts[key], None, None])
    for key, rate in stats.total.rates.items():
        ws.append([RATE_LABELS[key], float(rate.percent) if rate.percent is not None else None,
                   float(rate.numerator), rate.denominator])
    ws.append(["基本满意权重", float(stats.total.basic_weight), None, None])
    for title, groups in (("按台账", stats.by_ledger), ("按类别", stats.by_category), ("按层级", stats.by_level),
                          ("按承办单位", stats.by_unit)):
        _sheet_of_figures(wb.create_sheet(), title, groups)
    ws = wb.create_sheet("办结层级")
    ws.append(["化解层级", "件数"])
    for level, n in stats.settled_levels.items():
        ws.append([Level(level).label, n])
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


CASE_COLUMNS = [
    ("number", "编号"), ("ledger_label", "台账"), ("category", "类别"), ("title", "标题"), ("status_label", "状态"),
    ("region", "事发地"), ("current_level", "办理层级"), ("assignee", "承办单位"), ("received_at", "登记时间"),
    ("resolution_due_at", "办结时限"), ("closed_at", "办结时间"), ("satisfaction", "满意度"),
    ("closed_as", "办结方式"), ("requester_name", "诉求人"), ("requester_phone", "联系电话"),
]


def case_export_rows(*, user, queryset: QuerySet) -> list[list]:
    """Rows for a case export; the requester columns come from ``case_requester_view``."""
    from .selectors import case_as_dict, requester_views

    rows = []
    cases = list(queryset.select_related("category", "region", "grid", "assignee_grid", "assignee_region",
                                         "assignee_department", "handler", "complained_department"))
    views = requester_views(user=user, cases=cases)
    for case in cases:
        data = case_as_dict(user=user, case=case, requester_view=views[case.pk])
        data["requester_name"] = data["requester"]["name"]
        data["requester_phone"] = data["requester"]["phone"]
        row = []
        for key, _label in CASE_COLUMNS:
            value = data[key]
            if isinstance(value, dt.datetime):
                value = timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
            row.append(value)
        rows.append(row)
    return rows


def case_export(*, actor, region=None, start=None, end=None) -> bytes:
    """The ledger as an Excel file (audited; needs ``cases.export_case``)."""
    require_perm(actor, "cases.export_case")
    from openpyxl import Workbook

    qs = cohort(user=actor, region=region, start=start, end=end).filter(
        pk__in=Case.objects.visible_to(actor, "cases.export_case").values("pk"))
    rows = case_export_rows(user=actor, queryset=qs)
    wb = Workbook()
    ws = wb.active
    ws.title = "民情台账"
    ws.append([label for _key, label in CASE_COLUMNS])
    for row in rows:
        ws.append(row)
    buffer = io.BytesIO()
    wb.save(buffer)
    audit_record(actor=actor, action=AuditAction.EXPORT, object_type="cases.case", object_repr="民情台账导出",
                 note=f"{len(rows)}件", territory=region)
    return buffer.getvalue()


def statistics_export(*, actor, region=None, start=None, end=None, basic_weight=None) -> bytes:
    require_perm(actor, "cases.export_case")
    stats = compute_statistics(user=actor, region=region, start=start, end=end, basic_weight=basic_weight)
    data = statistics_workbook(stats)
    audit_record(actor=actor, action=AuditAction.EXPORT, object_type="cases.case", object_repr="民情统计导出",
                 note=f"受理{stats.total.accepted}件，办结{stats.total.closed}件", territory=region)
    return data
