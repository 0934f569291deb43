"""The indicator catalogue: every figure the assessment shows, each defined once as a query over
the platform's own records (DOMAIN.md §3.6: indicators are a by-product of the work, each with its
provenance). Nothing here can be typed in.

An ``Indicator`` names its source model, the permission that reads it (so every figure is computed
through the one scoping mechanism: ``Model.objects.visible_to(user, perm)``), the date column that
puts a record in a period, the column that gives each kind of subject, and its numerator and
denominator as filters. ``compute`` is one grouped query per indicator and kind of subject;
``records`` is the same query narrowed to one subject and one part — the list behind the number.

Case indicators reuse the statistics page's own definitions (``cases.statistics.COUNTS``), so the
ledger figures (accepted, closed, closure rate, satisfaction) are the same numbers on both pages.
The one difference is written down: a case with an accepted after-the-fact explanation
(``Exemption``, 事后备案说明) is left out of the timeliness indicators — no timeliness penalty — and
the number left out is shown beside them.

Kinds of subject: ``town``, ``village``, ``department`` (units); ``user`` (a staff account: the
handler of a case, the grid worker or cadre who recorded a contact) and ``person`` (a registry
person: the three-line person who made a contact, the helper of a care plan, the assignee of a
decision task).
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Callable

from django.apps import apps as django_apps
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Count, F, Q, QuerySet, Sum
from django.urls import reverse
from django.utils import timezone

from gongzhi.cases.statistics import COUNTS

SUBJECT_KINDS = ("town", "village", "department", "user", "person")
UNIT_KINDS = ("town", "village", "department")
PERSON_KINDS = ("user", "person")
SUBJECT_ZH = {"county": "县", "town": "镇（街道）", "village": "村（社区）", "department": "部门",
              "user": "干部（账号）", "person": "三线人员"}


# ---- periods ------------------------------------------------------------------------------------

QUARTER_ZH = {1: "第一季度", 2: "第二季度", 3: "第三季度", 4: "第四季度"}


@dataclass(frozen=True)
class Period:
    year: int
    quarter: int

    @classmethod
    def parse(cls, text: str) -> "Period":
        match = re.fullmatch(r"(\d{4})[Qq]([1-4])", (text or "").strip())
        if not match:
            raise ValidationError({"period": "季度的写法应为“2026Q3”"})
        year = int(match.group(1))
        if not 2000 <= year <= 2100:
            raise ValidationError({"period": "年份不在2000至2100之间"})
        return cls(year, int(match.group(2)))

    @classmethod
    def of(cls, day: dt.date) -> "Period":
        return cls(day.year, (day.month - 1) // 3 + 1)

    @classmethod
    def last_complete(cls, today: dt.date | None = None) -> "Period":
        current = cls.of(today or timezone.localdate())
        return current.previous()

    def previous(self) -> "Period":
        return Period(self.year - 1, 4) if self.quarter == 1 else Period(self.year, self.quarter - 1)

    @property
    def code(self) -> str:
        return f"{self.year}Q{self.quarter}"

    @property
    def label(self) -> str:
        return f"{self.year}年{QUARTER_ZH[self.quarter]}"

    @property
    def start(self) -> dt.date:
        return dt.date(self.year, 3 * self.quarter - 2, 1)

    @property
    def end(self) -> dt.date:
        """The last day, inclusive."""
        nxt = dt.date(self.year + 1, 1, 1) if self.quarter == 4 else dt.date(self.year, 3 * self.quarter + 1, 1)
        return nxt - dt.timedelta(days=1)

    def bounds(self) -> tuple[dt.datetime, dt.datetime]:
        tz = timezone.get_default_timezone()
        return (dt.datetime.combine(self.start, dt.time.min, tzinfo=tz),
                dt.datetime.combine(self.end + dt.timedelta(days=1), dt.time.min, tzinfo=tz))

    def __str__(self):
        return self.code


# ---- figures ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Figure:
    """One subject's figure: the numerator and, for rates and means, the denominator."""
    numerator: Decimal
    denominator: int | None
    shape: str  # "count" | "sum" | "rate" | "mean"

    @property
    def value(self) -> Decimal | None:
        if self.shape in ("count", "sum"):
            return self.numerator
        if not self.denominator:
            return None
        scale = 100 if self.shape == "rate" else 1
        return (Decimal(self.numerator) * scale / Decimal(self.denominator)).quantize(
            Decimal("0.01"), rounding=ROUND_HALF_UP)

    def display(self) -> str:
        value = self.value
        if value is None:
            return "—"
        if self.shape == "rate":
            return f"{value}%"
        if self.shape == "count":
            return str(int(value))
        return f"{value.normalize():f}" if self.shape == "sum" else str(value)

    def as_dict(self) -> dict:
        return {"numerator": str(self.numerator), "denominator": self.denominator, "shape": self.shape,
                "value": None if self.value is None else str(self.value), "display": self.display()}


def _basic_weight() -> Decimal:
    return Decimal(str(getattr(settings, "GONGZHI_SATISFACTION_BASIC_WEIGHT", 1.0)))


def _exempted_cases() -> QuerySet:
    from .models import DecisionStatus, Exemption
    return Exemption.objects.filter(status=DecisionStatus.ACCEPTED).values("case_id")


def _case(name: str) -> Q:
    """The filter of one of the statistics page's counts (Django keeps it as the aggregate's
    ``AggregateFilter``; its condition is the Q written in ``cases.statistics.COUNTS``)."""
    found = COUNTS[name].filter
    if found is None:
        return Q()
    return getattr(found, "condition", found)


@dataclass(frozen=True)
class Indicator:
    code: str
    name: str
    source: str  # app_label.Model
    perm: str
    date_field: str
    subjects: dict[str, str]  # kind → column
    numerator: Q | tuple[tuple[Q, Callable[[], Decimal] | int], ...]
    shape: str = "rate"  # count | sum | rate | mean
    denominator: Q | None = None
    total: str | None = None  # the summed column (sum, mean)
    base: Callable[[], Q] | Q = field(default_factory=Q)
    higher_is_better: bool = True
    definition: str = ""
    aim: str = ""  # which part of the work it judges

    @property
    def model(self):
        return django_apps.get_model(self.source)

    def _base_q(self) -> Q:
        return self.base() if callable(self.base) else self.base

    def rows(self, *, user, period: Period, within=None) -> QuerySet:
        """The records of the period the user may read (and within a region, when given)."""
        qs = self.model.objects.visible_to(user, self.perm)
        start, end = period.bounds()
        field_obj = self.model._meta.get_field(self.date_field.split("__")[0])
        if field_obj.get_internal_type() == "DateField":
            qs = qs.filter(**{f"{self.date_field}__gte": period.start, f"{self.date_field}__lte": period.end})
        else:
            qs = qs.filter(**{f"{self.date_field}__gte": start, f"{self.date_field}__lt": end})
        if within is not None:
            qs = qs.filter(_within_q(within))
        return qs.filter(self._base_q())

    def _terms(self) -> tuple[tuple[Q, Decimal], ...]:
        if isinstance(self.numerator, Q):
            return ((self.numerator, Decimal(1)),)
        return tuple((q, Decimal(w() if callable(w) else w)) for q, w in self.numerator)

    def aggregates(self) -> dict:
        out = {}
        for i, (q, _weight) in enumerate(self._terms()):
            out[f"n{i}"] = Sum(self.total, filter=q) if self.shape in ("sum", "mean") else Count("pk", filter=q)
        if self.shape in ("rate", "mean"):
            out["d"] = Count("pk", filter=self.denominator or Q())
        return out

    def figure_of(self, row: dict) -> Figure:
        num = sum((Decimal(row.get(f"n{i}") or 0) * w for i, (_q, w) in enumerate(self._terms())), Decimal(0))
        return Figure(num, row.get("d") if self.shape in ("rate", "mean") else None, self.shape)

    def compute(self, *, user, period: Period, kind: str, within=None) -> dict[int, Figure]:
        """Every subject of ``kind``: one grouped query."""
        column = self.subjects.get(kind)
        if column is None:
            return {}
        rows = (self.rows(user=user, period=period, within=within).order_by().values(subject=F(column))
                .annotate(**self.aggregates()))
        return {row["subject"]: self.figure_of(row) for row in rows if row["subject"] is not None}

    def total_of(self, *, user, period: Period, within=None) -> Figure:
        row = self.rows(user=user, period=period, within=within).order_by().aggregate(**self.aggregates())
        return self.figure_of(row)

    def records(self, *, user, period: Period, kind: str, subject_id: int | None, part: str) -> QuerySet:
        """The list behind a number: the subject's records in the numerator or the denominator."""
        qs = self.rows(user=user, period=period)
        if kind != "county":
            column = self.subjects.get(kind)
            if column is None:
                raise ValidationError({"kind": "这个指标不按这类对象计算"})
            qs = qs.filter(**{column: subject_id})
        elif subject_id is not None:
            qs = qs.filter(county_id=subject_id)
        if part == "num":
            q = Q()
            for i, (term, _w) in enumerate(self._terms()):
                q = term if i == 0 else q | term
            qs = qs.filter(q)
        elif part == "den":
            qs = qs.filter(self.denominator or Q())
        else:
            raise ValidationError({"part": "只能查看分子（num）或分母（den）"})
        return qs.order_by(f"-{self.date_field}", "-pk")

    def provenance_url(self, kind: str, subject_id: int | None, period: Period, part: str = "num") -> str:
        return reverse("assessment:records", args=[self.code, kind, subject_id or 0, period.code]) + f"?part={part}"


def compute_all(*, user, period: Period, kinds=SUBJECT_KINDS, within=None,
                codes=None) -> dict[str, dict[str, dict[int, Figure]]]:
    """Every indicator (or ``codes``) for every subject of ``kinds``: ``{kind: {code: {id: Figure}}}``.

    The same figures as ``Indicator.compute`` one by one, in one query per source table instead of
    one per indicator and kind: the indicators reading one table in one period share its scoped,
    period-filtered rows; each indicator's own base, numerator and denominator become filtered
    aggregates, grouped by every subject column at once, and the few thousand groups are summed
    per kind here. (At a million households this is what keeps the quarter's assessment to a few
    table scans; ``bench/assessment_quarter.py``.)"""
    chosen = [i for i in CATALOGUE if codes is None or i.code in codes]
    groups: dict[tuple, list[Indicator]] = {}
    for indicator in chosen:
        if any(k in indicator.subjects for k in kinds):
            groups.setdefault((indicator.source, indicator.perm, indicator.date_field), []).append(indicator)
    out: dict[str, dict[str, dict[int, Figure]]] = {kind: {} for kind in kinds}
    for members in groups.values():
        first = members[0]
        qs = first.model.objects.visible_to(user, first.perm)
        start, end = period.bounds()
        field_obj = first.model._meta.get_field(first.date_field.split("__")[0])
        if field_obj.get_internal_type() == "DateField":
            qs = qs.filter(**{f"{first.date_field}__gte": period.start, f"{first.date_field}__lte": period.end})
        else:
            qs = qs.filter(**{f"{first.date_field}__gte": start, f"{first.date_field}__lt": end})
        if within is not None:
            qs = qs.filter(_within_q(within))
        columns = sorted({i.subjects[k] for i in members for k in kinds if k in i.subjects})
        aggregates = {}
        for n, indicator in enumerate(members):
            base = indicator._base_q()
            # How many of the group's rows the indicator reads at all: a subject with none has no figure
            # (as with ``compute``, whose grouped rows are the base's).
            aggregates[f"i{n}b"] = Count("pk", filter=base) if base else Count("pk")
            for t, (term, _w) in enumerate(indicator._terms()):
                condition = base & term
                aggregates[f"i{n}n{t}"] = (Sum(indicator.total, filter=condition)
                                           if indicator.shape in ("sum", "mean") else Count("pk", filter=condition))
            if indicator.shape in ("rate", "mean"):
                aggregates[f"i{n}d"] = Count("pk", filter=base & (indicator.denominator or Q()))
        rows = list(qs.order_by().values(*columns).annotate(**aggregates))
        for n, indicator in enumerate(members):
            terms = indicator._terms()
            for kind in kinds:
                column = indicator.subjects.get(kind)
                if column is None:
                    continue
                sums: dict[int, list] = {}
                for row in rows:
                    subject = row[column]
                    if subject is None or not row[f"i{n}b"]:
                        continue
                    acc = sums.setdefault(subject, [Decimal(0), 0, True])
                    for t, (_term, weight) in enumerate(terms):
                        value = row[f"i{n}n{t}"]
                        if value:
                            acc[0] += Decimal(value) * weight
                    if indicator.shape in ("rate", "mean"):
                        acc[1] += row[f"i{n}d"] or 0
                out[kind][indicator.code] = {
                    sid: Figure(num, den if indicator.shape in ("rate", "mean") else None, indicator.shape)
                    for sid, (num, den, seen) in sums.items() if seen}
    return out


def _within_q(region) -> Q:
    column = {1: "county_id", 2: "town_id", 3: "village_id"}.get(region.level)
    return Q(**{column: region.pk}) if column else Q(pk__in=[])


CASE_UNITS = {"town": "town_id", "village": "village_id", "department": "assignee_department_id", "user": "handler_id"}
TERRITORY = {"town": "town_id", "village": "village_id"}
ACCEPTED_CASE = Q(accepted_at__isnull=False)
NOT_EXEMPT = lambda: ~Q(pk__in=_exempted_cases())  # noqa: E731 — a base computed at query time

CATALOGUE: list[Indicator] = [
    Indicator("case_accepted", "受理件数", "cases.Case", "cases.view_case", "received_at", CASE_UNITS,
              _case("accepted"), shape="count", aim="cases",
              definition="本期登记并受理（有受理时间）的事项数，与统计页“受理”同一口径。"),
    Indicator("case_closed", "办结件数", "cases.Case", "cases.view_case", "received_at", CASE_UNITS,
              _case("closed"), shape="count", aim="cases",
              definition="本期受理、现已办结（已解决或未解决办结）的事项数，与统计页“办结”同一口径。"),
    Indicator("case_closure_rate", "办结率", "cases.Case", "cases.view_case", "received_at", CASE_UNITS,
              _case("closed"), denominator=ACCEPTED_CASE, aim="cases",
              definition="办结件数 ÷ 受理件数，与统计页同一口径。"),
    Indicator("case_response_rate", "响应率", "cases.Case", "cases.view_case", "received_at", CASE_UNITS,
              _case("responded_on_time"), denominator=_case("assigned"), base=NOT_EXEMPT, aim="cases",
              definition="按时签收的交办件 ÷ 交办件；经认可的事后备案说明事项不计入（不扣时效分）。"),
    Indicator("case_on_time_rate", "按期办结率", "cases.Case", "cases.view_case", "received_at", CASE_UNITS,
              _case("closed_on_time"), denominator=_case("closed"), base=NOT_EXEMPT, aim="cases",
              definition="在办理时限内办结的 ÷ 办结件数；经认可的事后备案说明事项不计入（不扣时效分）。"),
    Indicator("case_satisfaction_rate", "满意率", "cases.Case", "cases.view_case", "received_at", CASE_UNITS,
              ((_case("satisfied"), 1), (_case("basic"), _basic_weight)),
              denominator=Q(satisfaction__in=["satisfied", "basic", "dissatisfied"]), aim="cases",
              definition="（满意 + 权重 × 基本满意）÷ 作出评价的；联系不上的不计，与统计页同一口径。"),
    Indicator("case_rework_rate", "返工率", "cases.Case", "cases.view_case", "received_at", CASE_UNITS,
              _case("reworked"), denominator=_case("reported"), higher_is_better=False, aim="cases",
              definition="被退回重办或重新打开过的 ÷ 反馈过结果的。"),
    Indicator("case_score", "一件一考评平均分", "assessment.CaseScore", "assessment.view_casescore", "closed_at",
              {"town": "town_id", "village": "village_id", "department": "department_id", "user": "handler_id"},
              Q(), shape="mean", total="score", aim="cases",
              definition="本期办结事项逐件评分的平均分（按县定权重：按期、满意、无返工、无升级、落实批示）。"),
    Indicator("contacts_made", "联系走访户次", "care.ContactRecord", "care.view_contactrecord", "contacted_at",
              {**TERRITORY, "person": "person_id", "user": "recorded_by_id"}, Q(), shape="count", aim="care",
              definition="本期记录的联系（走访、电话、接待）次数。"),
    Indicator("red_visits_kept", "连心户按期走访率", "care.Visit", "care.view_visit", "due_on",
              {**TERRITORY, "person": "plan__helper_id"},
              Q(done_at__isnull=False, done_at__date__lte=F("due_on")),
              base=Q(cancelled=False, plan__colour="red"), aim="care",
              definition="本期应走访的连心户走访中，在应走访日当天或之前走访的比例。"),
    Indicator("decisions_carried_out", "村级决策落实率", "village.Decision", "village.view_decision", "decided_on",
              TERRITORY, Q(status="done"), base=~Q(status="withdrawn"), aim="village",
              definition="本期作出的村级决策（不含撤回的）中已落实的比例。"),
    Indicator("decision_tasks_on_time", "决策任务按期完成率", "village.DecisionTask", "village.view_decisiontask",
              "due_on", {**TERRITORY, "person": "assignee_id"},
              Q(status="done", done_at__date__lte=F("due_on")), base=~Q(status="cancelled"), aim="village",
              definition="本期到期的决策任务（不含取消的）中按期完成的比例。"),
    Indicator("key_tasks_done", "镇村重点任务完成率", "linking.KeyTask", "linking.view_keytask", "due_on", TERRITORY,
              Q(status="done"), base=~Q(status="dropped"), aim="linking",
              definition="本期到期的量化重点任务（不含取消的）中已完成的比例。"),
    Indicator("needs_delivered", "需求送达率", "resources.Need", "resources.view_need", "raised_at", TERRITORY,
              Q(status="delivered"), base=~Q(status="cancelled"), aim="resources",
              definition="本期提出的需求（不含撤销的）中已送达并经接收人确认的比例。"),
    Indicator("volunteer_hours", "志愿服务时长（小时）", "volunteers.SignUp", "volunteers.view_signup",
              "confirmed_at", TERRITORY, Q(hours_confirmed__isnull=False), shape="sum", total="hours_confirmed",
              aim="volunteers", definition="本期经组织者确认的志愿服务小时数。"),
]

BY_CODE = {indicator.code: indicator for indicator in CATALOGUE}


def get(code: str) -> Indicator:
    try:
        return BY_CODE[code]
    except KeyError:
        raise ValidationError({"indicator": f"没有编码为“{code}”的指标"}) from None


def for_kind(kind: str) -> list[Indicator]:
    return [i for i in CATALOGUE if kind in i.subjects]


def exempted_in(*, user, period: Period, within=None) -> int:
    """How many of the period's cases the timeliness indicators leave out (shown beside them)."""
    from gongzhi.cases.models import Case
    qs = BY_CODE["case_accepted"].rows(user=user, period=period, within=within)
    return qs.filter(pk__in=_exempted_cases()).count() if qs.model is Case else 0
