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
Breakdowns: by ledger, category, current level and handling unit; and the table of the level at
which resolved cases were settled (the seed's village 557 / town 331 / county 6).
"""
from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
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
                       breakdowns: bool = True) -> Statistics:
    weight = _weight(basic_weight)
    qs = cohort(user=user, region=region, start=start, end=end)
    stats = Statistics(total=figures(qs, basic_weight=weight), start=_bound(start), end=_bound(end, end=True))
    stats.settled_levels = settled_level_table(qs)
    if breakdowns:
        stats.by_ledger = _grouped(qs, F("ledger"), weight, lambda v: Ledger(v).label)
        stats.by_category = _grouped(qs, F("category__name"), weight)
        stats.by_level = _grouped(qs, F("current_level"), weight, lambda v: Level(v).label if v else "—")
        stats.by_unit = _grouped(qs, Coalesce(F("assignee_department__name"), F("assignee_region__name"),
                                              F("assignee_grid__name"), Value("（未交办）")), weight)
    return stats


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
