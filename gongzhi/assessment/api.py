"""REST API of the assessment (DOMAIN.md §3.2, §3.5, §3.6), under /api/assessment/ (``api_urls.py``).

The shape of the resources API: one APIView per operation, each with its own input and output
serializers, documented by drf-spectacular.

* Figures are computed, never stored: ``figures`` runs ``Indicator.compute`` for the caller (the
  same grouped query as the pages), and every figure names the records behind it — ``url`` the
  page, ``records`` this API's list (``records``: ``selectors.provenance``).
* Reads start from ``Model.objects.visible_to(user, perm)`` (lists) and ``access_object`` (one
  row): **403** when the caller holds the permission nowhere, **404** when the row lies outside
  their scope. The provenance list of a subject the caller may not read is a 404
  (``selectors.subject_name``).
* The county's own settings and meters (scores, the burden meter, the indices, the county's
  weights, formulas, negative list and demands, the proposals it generates) are read and set for
  the caller's county (``selectors.home_region`` / ``county_of``; a caller whose grants lie in one
  county by grid or department takes that one); whoever holds the permission everywhere (the
  auditor) names ``county``. A county outside the caller's grants is a 404.
* Writes are one call of ``gongzhi.assessment.services`` each; the view checks types, loads the
  row of the path with the action's permission (403 / 404) and resolves the ids of the body. A
  body reference that does not exist, or that the caller may not read, is a 400 naming the field;
  the place an application or a bulletin is made for is checked like a row (404 beyond the
  caller's territory). The business rules and their Chinese reasons are the services' (a Django
  ``ValidationError`` is the structured 400 of ``core.api.exception_handler``; nothing is saved).
* A case is shown by id and number only (never the tracking code, the requester's key to the
  public page); phone and ID numbers typed into free text are masked on the way out.
* Every input is bounded (ids, text lengths, weights, periods), so that a fuzzed request is a 400,
  never a database error.

Enum naming: every choice set here is a plain string in the schema (``_one_of``; the values are in
its description), since ``kind``, ``status`` and ``ground`` are component names other apps own.
"""
from __future__ import annotations

import datetime as dt
import re
from urllib.parse import urlencode

from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from gongzhi.cases.models import Case
from gongzhi.core.api import (
    FilteredListMixin, ListFilter, api_errors, field_error, filter_eq, id_field, optional_text_field, text_field,
    validated_input,
)
from gongzhi.core.masking import mask_id_number, mask_phone
from gongzhi.core.pagination import Pagination, paginated_schema, pagination_parameters
from gongzhi.core.scoping import access_object, counties_of, has_perm_anywhere, holds_county, require_perm
from gongzhi.registry.models import Department, Person, Region, RegionLevel

from . import burden, indicators, indices, selectors, services
from .indicators import SUBJECT_KINDS, Period
from .models import (
    Bulletin, BurdenFlag, DecisionStatus, Demand, DemandKind, Exemption, ExemptionGround, FaultToleranceApplication,
    FlagKind, IndexFormula, NegativeItem, NegativeKind, Proposal, ScoringWeights,
)

TAGS = ["assessment"]
READ_ERRORS = api_errors(401, 403, 404)
WRITE_ERRORS = api_errors(400, 401, 403, 404)
LIST_ERRORS = api_errors(400, 401, 403)
COUNTY_ERRORS = api_errors(400, 401, 403, 404)  # a read for the caller's (or the named) county
VIEW = selectors.VIEW

_id, _text, _optional_text, _input, _missing, _eq = (
    id_field, text_field, optional_text_field, validated_input, field_error, filter_eq)


# ---------------------------------------------------------------------------------------------
# input building blocks


def _optional_id(help_text: str = "") -> serializers.IntegerField:
    return _id(required=False, allow_null=True, help_text=help_text)


def _one_of(values, **kwargs) -> serializers.CharField:
    """A choice set published as a plain string (its values in the description), checked the same."""
    values = [str(v[0] if isinstance(v, tuple) else v) for v in values]

    def check(value):
        if value not in values:
            raise serializers.ValidationError(f"可选值：{', '.join(v for v in values if v)}")

    kwargs.setdefault("help_text", "One of: " + ", ".join(v for v in values if v) + ".")
    kwargs.setdefault("max_length", 40)
    return serializers.CharField(validators=[check], **kwargs)


def _period_field(**kwargs) -> serializers.RegexField:
    kwargs.setdefault("help_text", "A quarter, e.g. 2026Q3.")
    return serializers.RegexField(r"^[0-9]{4}[Qq][1-4]$", max_length=6,
                                  error_messages={"invalid": "季度的写法应为“2026Q3”"}, **kwargs)


def _indicator_field() -> serializers.ChoiceField:
    return serializers.ChoiceField(choices=[(i.code, i.code) for i in indicators.CATALOGUE],
                                   help_text="An indicator's code (see the catalogue).")


def _period(value: str | None) -> Period:
    """A quarter as typed (``Period.parse``: a Chinese 400 naming ``period``); default the last complete one."""
    return Period.parse(value) if value else Period.last_complete()


def _in(queryset, pk, field, message, **where):
    """A row the body refers to, looked up inside ``queryset`` (and ``where``) only, or a 400 naming the field."""
    if pk is None:
        return None
    row = queryset.filter(pk=pk, **where).first()
    if row is None:
        raise _missing(field, message)
    return row


def _query(serializer_class, request) -> dict:
    query = serializer_class(data=request.query_params)
    query.is_valid(raise_exception=True)
    return query.validated_data


def _county(request, perm: str, pk: int | None = None) -> tuple[Region | None, Region]:
    """(the caller's widest region, or None; the county) for ``perm``: the caller's own county, or the one
    they name (a 404 outside their grants; a 400 when they hold ``perm`` in several counties or everywhere
    and name none)."""
    user = request.user
    require_perm(user, perm)
    counties = counties_of(user, perm)  # None: everywhere
    region = selectors.home_region(user, perm)
    if pk is None:
        county = selectors.county_of(region)
        if county is None and counties and len(counties) == 1:
            county = Region.objects.filter(pk=next(iter(counties))).first()
        if county is None:
            raise _missing("county", "请选择县")
        return region, county
    county = _in(Region.objects.all(), pk, "county", "没有这个县", level=RegionLevel.COUNTY)
    if counties is not None and county.pk not in counties:
        raise Http404
    if region is not None and region.county_id != county.pk and region.pk != county.pk:
        region = None
    return region, county


def _subject_kind(region: Region | None) -> str:
    return {1: "county", 2: "town"}.get(region.level, "village") if region is not None else "county"


class _List(FilteredListMixin, ListAPIView):
    pass


class CountyQuery(serializers.Serializer):
    county = _optional_id("The county; default: the caller's own (required of whoever holds the permission "
                          "everywhere).")


class PeriodQuery(CountyQuery):
    period = _period_field(required=False, help_text="A quarter, e.g. 2026Q3; default: the last complete one.")


def _period_filter(qs, value, request):
    period = Period.parse(value)
    return qs.filter(year=period.year, quarter=period.quarter)


PERIOD_FILTER = ListFilter("period", _period_filter, kind=str, description="A quarter, e.g. 2026Q3.")
STATUS_FILTER = ListFilter("status", _eq("status"), kind=str, enum=tuple(DecisionStatus.values))


# ---------------------------------------------------------------------------------------------
# output building blocks

_ID_NUMBER = re.compile(r"(?<![0-9])[0-9]{17}[0-9Xx](?![0-9A-Za-z])")
_MOBILE = re.compile(r"(?<![0-9])1[3-9][0-9]{9}(?![0-9])")


def _redact(text) -> str:
    """Phone and ID numbers typed into free text are masked as the registry masks them."""
    if not text:
        return text or ""
    text = _ID_NUMBER.sub(lambda m: mask_id_number(m.group()), str(text))
    return _MOBILE.sub(lambda m: mask_phone(m.group()), text)


class _Redacted(serializers.CharField):
    def __init__(self, **kwargs):
        kwargs.setdefault("read_only", True)
        super().__init__(**kwargs)

    def to_representation(self, value):
        return _redact(super().to_representation(value))


def _user_name(user) -> str:
    return _redact(user.display_name or user.get_full_name() or user.username) if user is not None else ""


@extend_schema_field(OpenApiTypes.STR)
class _UserName(serializers.Field):
    """A login as its display name (a username that is a phone number is masked)."""

    def __init__(self, source: str, **kwargs):
        super().__init__(source=source, read_only=True, allow_null=True, **kwargs)

    def to_representation(self, user):
        return _user_name(user)


def _name(field: str):
    return serializers.CharField(source=f"{field}.name", default="", read_only=True)


def _plain(help_text: str = "", **kwargs):
    """A choice field on the way out, as a plain string (see the module's note on enums)."""
    return serializers.CharField(read_only=True, help_text=help_text, **kwargs)


def _choices_help(choices) -> str:
    return "One of: " + ", ".join(str(value) for value, _label in choices) + "."


def _component(name: str):
    """Publish a serializer as ``Assessment<name>`` (an input one becomes ``Assessment<name>Request``)."""
    return extend_schema_serializer(component_name=f"Assessment{name}")


@_component("RegionBrief")
class RegionBriefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


def _case_number(obj) -> str | None:
    return (obj.case.number or None) if obj.case_id else None


# ---------------------------------------------------------------------------------------------
# the indicator catalogue and its figures


@_component("Indicator")
class IndicatorSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    definition = serializers.CharField(help_text="What is counted, in Chinese (the pages' wording).")
    source = serializers.CharField(help_text="The records it is computed from (app_label.Model).")
    subjects = serializers.ListField(child=serializers.CharField(),
                                     help_text="The kinds of subject it is computed for: " + ", ".join(SUBJECT_KINDS))
    shape = serializers.CharField(help_text="count, sum, rate (a percentage) or mean.")
    higher_is_better = serializers.BooleanField()
    aim = serializers.CharField(help_text="The part of the work it judges (cases, care, village …).")


def _indicator_row(ind) -> dict:
    return {"code": ind.code, "name": ind.name, "definition": ind.definition, "source": ind.source,
            "subjects": list(ind.subjects), "shape": ind.shape, "higher_is_better": ind.higher_is_better,
            "aim": ind.aim}


@extend_schema(tags=TAGS, responses={200: IndicatorSerializer(many=True), **api_errors(401, 403)})
class IndicatorListAPI(APIView):
    """The indicator catalogue: every figure the assessment computes, with its definition and its source.
    Nothing in it is typed in by anyone."""

    def get(self, request):
        if not has_perm_anywhere(request.user, "assessment.view_demand"):
            require_perm(request.user, VIEW)
        return Response(IndicatorSerializer([_indicator_row(i) for i in indicators.CATALOGUE], many=True).data)


class FiguresQuery(serializers.Serializer):
    indicator = _indicator_field()
    kind = serializers.ChoiceField(choices=[(k, k) for k in SUBJECT_KINDS], help_text="The kind of subject.")
    period = _period_field(required=False, help_text="A quarter, e.g. 2026Q3; default: the last complete one.")


@_component("Figure")
class FigureSerializer(serializers.Serializer):
    subject = serializers.IntegerField(help_text="The subject's id (a region, department, login or person).")
    name = serializers.CharField()
    numerator = serializers.CharField(help_text="A decimal, as a string.")
    denominator = serializers.IntegerField(allow_null=True, help_text="Rates and means only.")
    value = serializers.CharField(allow_null=True, help_text="A decimal as a string (a rate in per cent); null "
                                                             "when the denominator is 0.")
    display = serializers.CharField(help_text="As the pages show it (38.5%, 12, —).")
    url = serializers.CharField(help_text="The page listing the records behind the number.")
    records = serializers.CharField(help_text="This API's list of the records behind the numerator.")


@_component("Figures")
class FiguresSerializer(serializers.Serializer):
    indicator = IndicatorSerializer()
    kind = serializers.CharField()
    period = serializers.CharField()
    figures = FigureSerializer(many=True)


def _subject_names(user, kind: str, ids) -> dict[int, str]:
    ids = [i for i in ids if i is not None]
    if kind in ("town", "village"):
        return dict(Region.objects.filter(pk__in=ids).values_list("pk", "name"))
    if kind == "department":
        return dict(Department.objects.filter(pk__in=ids).values_list("pk", "name"))
    if kind == "user":
        from django.contrib.auth import get_user_model
        return {u.pk: _user_name(u) for u in get_user_model().objects.filter(pk__in=ids)}
    if kind == "person":  # a registry person: named to those who may read them, else by id
        return dict(Person.objects.visible_to(user, "registry.view_person").filter(pk__in=ids)
                    .values_list("pk", "name"))
    return {}


def _records_url(code: str, kind: str, subject, period: Period, part: str = "num") -> str:
    query = {"indicator": code, "kind": kind, "period": period.code, "part": part}
    if subject:
        query["subject"] = subject
    return reverse("assessment_api:records") + "?" + urlencode(query)


@extend_schema(tags=TAGS, parameters=[FiguresQuery], responses={200: FiguresSerializer, **LIST_ERRORS})
class FiguresAPI(APIView):
    """One indicator for every subject of a kind in a quarter, over the records the caller may read: the same
    grouped query as the pages (``Indicator.compute``). Each figure links to the records behind it."""

    def get(self, request):
        user = request.user
        require_perm(user, VIEW)
        q = _query(FiguresQuery, request)
        indicator, period = indicators.get(q["indicator"]), _period(q.get("period"))
        kind = q["kind"]
        if kind not in indicator.subjects:
            raise _missing("kind", "这个指标不按这类对象计算")
        require_perm(user, indicator.perm)
        found = indicator.compute(user=user, period=period, kind=kind)
        names = _subject_names(user, kind, found)
        rows = [{"subject": sid, "name": names.get(sid, str(sid)), **fig.as_dict(),
                 "url": indicator.provenance_url(kind, sid, period),
                 "records": _records_url(indicator.code, kind, sid, period)}
                for sid, fig in sorted(found.items(), key=lambda item: (names.get(item[0], ""), item[0]))]
        data = {"indicator": _indicator_row(indicator), "kind": kind, "period": period.code, "figures": rows}
        return Response(FiguresSerializer(data).data)


class RecordsQuery(serializers.Serializer):
    indicator = _indicator_field()
    kind = serializers.ChoiceField(choices=[(k, k) for k in ("county", *SUBJECT_KINDS)],
                                   help_text="The kind of subject; county: the caller's whole territory (or one "
                                             "county, with subject).")
    subject = _optional_id("The subject's id (a region, department, login or person); optional for county.")
    period = _period_field(required=False, help_text="A quarter, e.g. 2026Q3; default: the last complete one.")
    part = serializers.ChoiceField(choices=[("num", "num"), ("den", "den")], default="num",
                                   help_text="num: the records counted in the numerator; den: in the denominator.")


@_component("Record")
class RecordSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="The record's id in its own table (the indicator's source).")
    label = _Redacted(help_text="A case's number, a household's code, a decision's or a need's title …")
    detail = _Redacted()
    when = serializers.CharField(allow_null=True, help_text="Its date or time (ISO 8601).")
    url = serializers.CharField(help_text="Its page.")


def _record(obj, render) -> dict:
    row = render(obj)
    case = obj if isinstance(obj, Case) else getattr(obj, "case", None) if hasattr(obj, "case_id") else None
    label = row.label
    if isinstance(case, Case) and label == case.tracking_code:  # not numbered yet: never the tracking code
        label = f"#{case.pk}"
    when = row.when
    if isinstance(when, dt.datetime):
        when = timezone.localtime(when)
    when = when.isoformat() if hasattr(when, "isoformat") else when
    return {"id": obj.pk, "label": label, "detail": row.detail, "when": when, "url": row.url}


@extend_schema(tags=TAGS, parameters=[RecordsQuery, *pagination_parameters()],
               responses={200: paginated_schema(RecordSerializer, "AssessmentPaginatedRecordList"),
                          **api_errors(400, 401, 403, 404)})
class RecordsAPI(APIView):
    """The records behind a number (provenance), newest first: a subject's records of the quarter in the
    indicator's numerator or denominator. A subject the caller may not read is a 404."""

    def get(self, request):
        user = request.user
        q = _query(RecordsQuery, request)
        indicator, period = indicators.get(q["indicator"]), _period(q.get("period"))
        require_perm(user, indicator.perm)
        kind, subject = q["kind"], q.get("subject")
        if kind != "county" and kind not in indicator.subjects:
            raise _missing("kind", "这个指标不按这类对象计算")
        if kind != "county" and subject is None:
            raise _missing("subject", "请指明对象")
        if subject is not None:
            selectors.subject_name(user, kind, subject)  # Http404 when the caller may not read it
        rows, render = selectors.provenance(user=user, indicator=indicator, kind=kind, subject_id=subject or 0,
                                            period=period, part=q["part"])
        paginator = Pagination()
        page = paginator.paginate_queryset(rows, request, view=self)
        return paginator.get_paginated_response(RecordSerializer([_record(o, render) for o in page], many=True).data)


# ---------------------------------------------------------------------------------------------
# 一件一考评: case scores and the county's weights


@_component("ScoringWeights")
class ScoringWeightsSerializer(serializers.ModelSerializer):
    county_name = _name("county")
    set_by_name = _UserName("set_by")

    class Meta:
        model = ScoringWeights
        fields = ["id", "county", "county_name", "version", *ScoringWeights.PARTS, "note", "set_by_name", "set_at"]


@_component("LedgerScore")
class LedgerScoreSerializer(serializers.Serializer):
    ledger = serializers.CharField(help_text="The case's ledger (the secretaries' three ledgers).")
    n = serializers.IntegerField(help_text="Cases scored.")
    avg = serializers.DecimalField(max_digits=5, decimal_places=2, allow_null=True)


@_component("HandlerScore")
class HandlerScoreSerializer(serializers.Serializer):
    handler = serializers.IntegerField(help_text="The handler's login id.")
    name = serializers.CharField()
    n = serializers.IntegerField()
    avg = serializers.DecimalField(max_digits=5, decimal_places=2, allow_null=True)


@_component("ScoreTotal")
class ScoreTotalSerializer(serializers.Serializer):
    n = serializers.IntegerField()
    avg = serializers.DecimalField(max_digits=5, decimal_places=2, allow_null=True)


@_component("Scores")
class ScoresSerializer(serializers.Serializer):
    period = serializers.CharField()
    region = RegionBriefSerializer(allow_null=True, help_text="The caller's widest region (null: their scope).")
    weights = ScoringWeightsSerializer(allow_null=True, help_text="The county's weights in force (null: not set; "
                                                                  "no case is scored until they are).")
    total = ScoreTotalSerializer()
    by_ledger = LedgerScoreSerializer(many=True)
    by_handler = HandlerScoreSerializer(many=True, help_text="The 50 best average scores.")
    url = serializers.CharField(help_text="The page listing the scored cases.")


def _brief(region: Region | None):
    return {"id": region.pk, "name": region.name} if region is not None else None


@extend_schema(tags=TAGS, parameters=[PeriodQuery], responses={200: ScoresSerializer, **COUNTY_ERRORS})
class ScoresAPI(APIView):
    """一件一考评 for a quarter: the cases closed in it and scored, by ledger and by handler, within the caller's
    territory, and the county's weights in force."""

    def get(self, request):
        user = request.user
        q = _query(PeriodQuery, request)
        region, county = _county(request, VIEW, q.get("county"))
        period = _period(q.get("period"))
        within = region or county
        summary = selectors.scores_summary(user, period=period, within=within)
        weights = (ScoringWeights.objects.visible_to(user, "assessment.view_scoringweights").filter(county=county)
                   .select_related("county", "set_by").first())
        data = {
            "period": period.code, "region": _brief(region), "weights": weights, "total": summary["total"],
            "by_ledger": summary["by_ledger"],
            "by_handler": [{"handler": r["handler_id"], "n": r["n"], "avg": r["avg"],
                            "name": _redact(f"{r['handler__first_name']} {r['handler__last_name']}".strip()
                                           or r["handler__username"])} for r in summary["by_handler"]],
            "url": indicators.BY_CODE["case_score"].provenance_url(_subject_kind(within), within.pk, period)}
        return Response(ScoresSerializer(data).data)


def _weight():
    return serializers.IntegerField(min_value=0, max_value=100)


@_component("ScoringWeights")
class ScoringWeightsIn(serializers.Serializer):
    county = _optional_id("The county; default: the caller's own.")
    on_time = _weight()
    satisfaction = _weight()
    no_rework = _weight()
    no_escalation = _weight()
    instruction = _weight()
    note = _text(500, help_text="Why (reviewable).")


@extend_schema(tags=TAGS, request=ScoringWeightsIn, responses={201: ScoringWeightsSerializer, **WRITE_ERRORS})
class ScoringWeightsAPI(APIView):
    """A new version of the county's weights for scoring a closed case (they sum to 100), by the county. Cases
    closed afterwards are scored by it; past scores keep the weights they were made with."""

    def post(self, request):
        perm = "assessment.add_scoringweights"
        require_perm(request.user, perm)
        d = _input(ScoringWeightsIn, request)
        _region, county = _county(request, perm, d.get("county"))
        row = services.scoring_weights_set(actor=request.user, county=county, note=d["note"],
                                           weights={k: d[k] for k in ScoringWeights.PARTS})
        return Response(ScoringWeightsSerializer(ScoringWeights.objects.select_related("county", "set_by")
                                                 .get(pk=row.pk)).data, status=status.HTTP_201_CREATED)


# ---------------------------------------------------------------------------------------------
# decisions (shared)


@_component("Decide")
class DecideIn(serializers.Serializer):
    decision = _one_of(["accept", "refuse"], help_text="accept (accept, uphold, grant) or refuse.")
    note = _text(2000, help_text="The grounds of the decision.")


# ---------------------------------------------------------------------------------------------
# 事后备案说明


@_component("Exemption")
class ExemptionSerializer(serializers.ModelSerializer):
    ground = _plain(_choices_help(ExemptionGround.choices))
    status = _plain(_choices_help(DecisionStatus.choices))
    case_number = serializers.SerializerMethodField(help_text="The case's number only.")
    explanation = _Redacted()
    decision_note = _Redacted()
    filed_by_name = _UserName("filed_by")
    decided_by_name = _UserName("decided_by")

    class Meta:
        model = Exemption
        fields = ["id", "case", "case_number", "ground", "explanation", "status", "filed_by_name", "filed_at",
                  "decided_by_name", "decided_at", "decision_note", "county", "town", "village"]

    def get_case_number(self, obj) -> str | None:
        return _case_number(obj)


def _exemptions():
    return Exemption.objects.select_related("case", "filed_by", "decided_by")


@_component("Exemption")
class ExemptionIn(serializers.Serializer):
    case = _id(help_text="A case the caller may read: an emergency or basic-livelihood matter handled outside the "
                         "normal process.")
    ground = _one_of(ExemptionGround.choices)
    explanation = _text(2000, help_text="What was done outside the normal process, and why (at least 10 "
                                        "characters).")


class ExemptionListCreateAPI(_List):
    """事后备案说明 in the caller's scope, newest first. POST files one for a case: once accepted the case carries no
    timeliness penalty (and is listed beside the timeliness figures)."""

    serializer_class = ExemptionSerializer
    list_filters = (STATUS_FILTER, ListFilter("case", _eq("case_id"), description="case id"))

    def get_queryset(self):
        require_perm(self.request.user, "assessment.view_exemption")
        return _exemptions().visible_to(self.request.user, "assessment.view_exemption").order_by("-filed_at", "-pk")

    @extend_schema(tags=TAGS, responses={200: ExemptionSerializer(many=True), **LIST_ERRORS})
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(tags=TAGS, request=ExemptionIn, responses={201: ExemptionSerializer, **WRITE_ERRORS})
    def post(self, request):
        user = request.user
        require_perm(user, "assessment.add_exemption")
        d = _input(ExemptionIn, request)
        case = _in(Case.objects.visible_to(user, "cases.view_case"), d["case"], "case", "没有找到这件事项（或不在您的辖区）")
        row = services.exemption_file(actor=user, case=case, ground=d["ground"], explanation=d["explanation"])
        return Response(ExemptionSerializer(_exemptions().get(pk=row.pk)).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=TAGS, request=DecideIn, responses={200: ExemptionSerializer, **WRITE_ERRORS})
class ExemptionDecideAPI(APIView):
    """Accept or refuse an after-the-fact explanation (not one's own); an accepted one rescores the case."""

    def post(self, request, pk):
        row = access_object(Exemption.objects.all(), request.user, "assessment.decide_exemption", pk=pk)
        d = _input(DecideIn, request)
        row = services.exemption_decide(actor=request.user, exemption=row, accept=d["decision"] == "accept",
                                        note=d["note"])
        return Response(ExemptionSerializer(_exemptions().get(pk=row.pk)).data)


# ---------------------------------------------------------------------------------------------
# the burden meter and the negative list


@_component("DemandLoad")
class DemandLoadSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()
    role = serializers.CharField(help_text="The role asked (grid_worker, three_line, village_secretary …).")
    role_name = serializers.CharField()
    kind = _plain(_choices_help(DemandKind.choices))
    fields = serializers.IntegerField(help_text="Fields to fill each time.")
    photos = serializers.IntegerField()
    origin = _plain("flow (the platform's own flows), county or town.")
    active = serializers.BooleanField()
    legacy = serializers.BooleanField()
    feeds = serializers.CharField(help_text="The indicator it feeds (its code; empty: none).")
    indicator_name = serializers.CharField()
    no_indicator = serializers.BooleanField(help_text="It feeds no indicator (or one the negative list forbids "
                                                      "counting): work done only to leave a trace.")
    holders = serializers.IntegerField(help_text="Logins holding the role in the county.")
    weekly = serializers.ListField(child=serializers.DecimalField(max_digits=12, decimal_places=2),
                                   help_text="Times a week per person, one per week of ``weeks``.")
    weekly_average = serializers.DecimalField(max_digits=12, decimal_places=2)
    fields_per_week = serializers.DecimalField(max_digits=12, decimal_places=1,
                                               help_text="Fields and photos a week per person.")


@_component("Burden")
class BurdenSerializer(serializers.Serializer):
    county = RegionBriefSerializer()
    weeks = serializers.ListField(child=serializers.DateField(), help_text="The Mondays of the last 12 whole weeks.")
    demands = DemandLoadSerializer(many=True, help_text="Every demand of the county, by role.")


@extend_schema(tags=TAGS, parameters=[CountyQuery], responses={200: BurdenSerializer, **COUNTY_ERRORS})
class BurdenAPI(APIView):
    """The burden meter of the caller's county: every demand the platform makes of the grassroots, its weekly
    load per person (counted from the records the flows leave, or as declared), and the indicator it feeds — a
    demand that feeds none is flagged."""

    def get(self, request):
        q = _query(CountyQuery, request)
        _region, county = _county(request, "assessment.view_demand", q.get("county"))
        burden.sync_flow_demands(county)
        meter = burden.meter(county)
        weeks = meter["weeks"]
        rows = [{"id": load.demand.pk, "code": load.demand.code, "name": load.demand.name, "role": load.demand.role,
                 "role_name": meter["role_names"].get(load.demand.role, load.demand.role), "kind": load.demand.kind,
                 "fields": load.demand.fields, "photos": load.demand.photos, "origin": load.demand.origin,
                 "active": load.demand.active, "legacy": load.demand.legacy, "feeds": load.demand.feeds,
                 "indicator_name": load.indicator_name, "no_indicator": load.no_indicator, "holders": load.holders,
                 "weekly": [load.weekly.get(w, 0) for w in weeks], "weekly_average": load.average(),
                 "fields_per_week": load.fields_per_week()} for load in meter["loads"]]
        return Response(BurdenSerializer({"county": _brief(county), "weeks": weeks, "demands": rows}).data)


@_component("Demand")
class DemandSerializer(serializers.ModelSerializer):
    kind = _plain(_choices_help(DemandKind.choices))
    origin = _plain("flow, county or town.")
    added_by_name = _UserName("added_by")

    class Meta:
        model = Demand
        fields = ["id", "code", "name", "role", "kind", "fields", "photos", "per_week", "trace", "feeds", "origin",
                  "active", "retired_at", "added_by_name", "added_at", "county"]


DEMAND_ROLES = ("grid_worker", "three_line", "village_secretary", "town_secretary", "department_handler")


@_component("Demand")
class DemandIn(serializers.Serializer):
    county = _optional_id("The county; default: the caller's own.")
    code = serializers.SlugField(max_length=60)
    name = _text(200)
    role = _one_of(DEMAND_ROLES, help_text="The role asked: " + ", ".join(DEMAND_ROLES) + ".")
    kind = _one_of(DemandKind.choices)
    feeds = _one_of([""] + [i.code for i in indicators.CATALOGUE], required=False, allow_blank=True, default="",
                    help_text="The indicator it feeds (its code): required — a demand that feeds no indicator only "
                              "leaves a trace.")
    fields = serializers.IntegerField(min_value=0, max_value=200, default=0)
    photos = serializers.IntegerField(min_value=0, max_value=50, default=0)
    per_week = serializers.DecimalField(max_digits=6, decimal_places=2, min_value=0, max_value=1000, default=1,
                                        help_text="Times a week per person.")
    trace = _optional_text(100, help_text="The records it leaves (app_label.Model): counted from them rather than "
                                          "as declared.")


@extend_schema(tags=TAGS, request=DemandIn, responses={201: DemandSerializer, **WRITE_ERRORS})
class DemandCreateAPI(APIView):
    """A new demand on the grassroots, by the county: it must name the indicator it feeds, and the negative list
    may forbid its kind."""

    def post(self, request):
        perm = "assessment.add_demand"
        require_perm(request.user, perm)
        d = dict(_input(DemandIn, request))
        _region, county = _county(request, perm, d.pop("county", None))
        row = services.demand_add(actor=request.user, county=county, **d)
        return Response(DemandSerializer(Demand.objects.select_related("added_by").get(pk=row.pk)).data,
                        status=status.HTTP_201_CREATED)


@_component("Retire")
class RetireIn(serializers.Serializer):
    note = _text(500, help_text="Why it is cut.")


@extend_schema(tags=TAGS, request=RetireIn, responses={200: DemandSerializer, **WRITE_ERRORS})
class DemandRetireAPI(APIView):
    """Retire a demand the county or a town added (the flows' own demands change with the flows)."""

    def post(self, request, pk):
        row = access_object(Demand.objects.all(), request.user, "assessment.retire_demand", pk=pk)
        d = _input(RetireIn, request)
        row = services.demand_retire(actor=request.user, demand=row, note=d["note"])
        return Response(DemandSerializer(Demand.objects.select_related("added_by").get(pk=row.pk)).data)


@_component("NegativeItem")
class NegativeItemSerializer(serializers.ModelSerializer):
    kind = _plain(_choices_help(NegativeKind.choices))
    demand_kind = _plain("A kind of demand that may not be added (no_demand).")
    added_by_name = _UserName("added_by")

    class Meta:
        model = NegativeItem
        fields = ["id", "kind", "text", "demand_kind", "indicator", "added_by_name", "added_at", "county"]


@_component("NegativeItem")
class NegativeItemIn(serializers.Serializer):
    county = _optional_id("The county; default: the caller's own.")
    kind = _one_of(NegativeKind.choices)
    text = _text(300)
    demand_kind = _one_of([""] + list(DemandKind.values), required=False, allow_blank=True, default="",
                          help_text="no_demand: the kind of demand that may not be made.")
    indicator = _one_of([""] + [i.code for i in indicators.CATALOGUE], required=False, allow_blank=True, default="",
                        help_text="no_count: the indicator left out of scores and rankings (required).")


class NegativeListAPI(_List):
    """The county's negative list (in force): what must not be demanded of the grassroots, and which indicators
    must not be counted. POST adds an item, by the county."""

    serializer_class = NegativeItemSerializer
    list_filters = (ListFilter("kind", _eq("kind"), kind=str, enum=tuple(NegativeKind.values)),)

    def get_queryset(self):
        require_perm(self.request.user, "assessment.view_negativeitem")
        return (NegativeItem.objects.visible_to(self.request.user, "assessment.view_negativeitem")
                .filter(active=True).select_related("added_by").order_by("kind", "pk"))

    @extend_schema(tags=TAGS, responses={200: NegativeItemSerializer(many=True), **LIST_ERRORS})
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(tags=TAGS, request=NegativeItemIn, responses={201: NegativeItemSerializer, **WRITE_ERRORS})
    def post(self, request):
        perm = "assessment.add_negativeitem"
        require_perm(request.user, perm)
        d = dict(_input(NegativeItemIn, request))
        _region, county = _county(request, perm, d.pop("county", None))
        row = services.negative_item_add(actor=request.user, county=county, **d)
        return Response(NegativeItemSerializer(NegativeItem.objects.select_related("added_by").get(pk=row.pk)).data,
                        status=status.HTTP_201_CREATED)


@_component("BurdenFlag")
class BurdenFlagSerializer(serializers.ModelSerializer):
    kind = _plain(_choices_help(FlagKind.choices))
    status = _plain(_choices_help(DecisionStatus.choices) + " (accepted: upheld)")
    description = _Redacted()
    decision_note = _Redacted()
    town_name = _name("town")
    raised_by_name = _UserName("raised_by")
    decided_by_name = _UserName("decided_by")

    class Meta:
        model = BurdenFlag
        fields = ["id", "kind", "description", "demand", "town", "town_name", "raised_by_name", "raised_at",
                  "status", "decided_by_name", "decided_at", "decision_note", "county"]


def _flags():
    return BurdenFlag.objects.select_related("town", "raised_by", "decided_by")


@_component("BurdenFlag")
class BurdenFlagIn(serializers.Serializer):
    kind = _one_of(FlagKind.choices)
    description = _text(2000, help_text="What is asked, by whom, how often (at least 10 characters).")
    town = _optional_id("The town raising it; default: the caller's own.")
    demand = _optional_id("The demand it is a hidden variant of.")


class BurdenFlagListCreateAPI(_List):
    """Towns' flags of hidden burdens (disguised responsibility pledges, excessive record-keeping), newest first.
    POST raises one for the caller's town."""

    serializer_class = BurdenFlagSerializer
    list_filters = (STATUS_FILTER,)

    def get_queryset(self):
        require_perm(self.request.user, "assessment.view_burdenflag")
        return _flags().visible_to(self.request.user, "assessment.view_burdenflag").order_by("-raised_at", "-pk")

    @extend_schema(tags=TAGS, responses={200: BurdenFlagSerializer(many=True), **LIST_ERRORS})
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(tags=TAGS, request=BurdenFlagIn, responses={201: BurdenFlagSerializer, **WRITE_ERRORS})
    def post(self, request):
        user, perm = request.user, "assessment.add_burdenflag"
        require_perm(user, perm)
        d = _input(BurdenFlagIn, request)
        towns = Region.objects.visible_to(user, perm).filter(level=RegionLevel.TOWN).order_by("code")
        if d.get("town") is None:
            town = towns.first()
            if town is None:
                raise _missing("town", "请指明镇（街道）")
        else:
            town = _in(Region.objects.all(), d["town"], "town", "没有这个镇（街道）", level=RegionLevel.TOWN)
            if not towns.filter(pk=town.pk).exists():
                raise Http404
        demand = _in(Demand.objects.visible_to(user, "assessment.view_demand"), d.get("demand"), "demand",
                     "没有这项要求", county_id=town.county_id)
        row = services.burden_flag_raise(actor=user, town=town, kind=d["kind"], description=d["description"],
                                         demand=demand)
        return Response(BurdenFlagSerializer(_flags().get(pk=row.pk)).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=TAGS, request=DecideIn, responses={200: BurdenFlagSerializer, **WRITE_ERRORS})
class BurdenFlagDecideAPI(APIView):
    """Uphold (accept) or dismiss (refuse) a town's flag, by the county; upholding a flag about a demand the
    county or a town added retires that demand."""

    def post(self, request, pk):
        row = access_object(BurdenFlag.objects.all(), request.user, "assessment.decide_burdenflag", pk=pk)
        d = _input(DecideIn, request)
        row = services.burden_flag_decide(actor=request.user, flag=row, uphold=d["decision"] == "accept",
                                          note=d["note"])
        return Response(BurdenFlagSerializer(_flags().get(pk=row.pk)).data)


# ---------------------------------------------------------------------------------------------
# differentiated indices


@_component("Term")
class TermSerializer(serializers.Serializer):
    factor = serializers.CharField(help_text="One of: " + ", ".join(indices.FACTORS) + ".")
    weight = serializers.FloatField()
    direction = serializers.IntegerField(help_text="1: more is more; -1: less is more.")


@_component("Formula")
class FormulaInForceSerializer(serializers.Serializer):
    kind = serializers.CharField(help_text="urban or rural.")
    name = serializers.CharField()
    version = serializers.IntegerField(allow_null=True, help_text="null: the built-in default.")
    terms = TermSerializer(many=True)


@_component("UnitIndex")
class UnitIndexSerializer(serializers.Serializer):
    region = serializers.IntegerField()
    name = serializers.CharField()
    unit_class = serializers.CharField(help_text="urban (a community) or rural (a village).")
    factors = serializers.DictField(child=serializers.FloatField(allow_null=True),
                                    help_text="Each factor's value (null: unknown): " + ", ".join(indices.FACTORS))
    index = serializers.FloatField(allow_null=True, help_text="0–100 among the county's units of its class.")
    band = serializers.CharField(help_text="Its peer band: 低, 中 or 高 (a class of fewer than nine is one band, 中).")


@_component("Indices")
class IndicesSerializer(serializers.Serializer):
    period = serializers.CharField()
    county = RegionBriefSerializer()
    formulas = FormulaInForceSerializer(many=True)
    units = UnitIndexSerializer(many=True, help_text="The villages and communities in the caller's territory.")


@extend_schema(tags=TAGS, parameters=[PeriodQuery], responses={200: IndicesSerializer, **COUNTY_ERRORS})
class IndicesAPI(APIView):
    """The differentiated indices of the county's villages and communities for a quarter (urban governance
    complexity, rural public-service accessibility), with their factors and peer band, as the formulas in force
    compute them; a town or a village sees its own units."""

    def get(self, request):
        user = request.user
        q = _query(PeriodQuery, request)
        region, county = _county(request, VIEW, q.get("county"))
        period = _period(q.get("period"))
        cases = indicators.BY_CODE["case_accepted"].compute(user=user, period=period, kind="village", within=county)
        units = indices.county_indices(county, period_end=period.end,
                                       cases_in_period={k: int(v.numerator) for k, v in cases.items()})
        rows = sorted(units.values(), key=lambda u: (u.unit_class, -(u.index or 0), u.region.code))
        if region is not None and region.level == RegionLevel.TOWN:
            rows = [u for u in rows if u.region.town_id == region.pk]
        elif region is not None and region.level >= RegionLevel.VILLAGE:
            rows = [u for u in rows if u.region.pk == region.village_id]
        formulas = []
        for kind in ("urban", "rural"):
            terms, version = indices.formula_terms(county, kind)
            formulas.append({"kind": kind, "name": indices.INDEX_NAME[kind], "version": version, "terms": terms})
        data = {"period": period.code, "county": _brief(county), "formulas": formulas,
                "units": [{"region": u.region.pk, "name": u.region.name, "unit_class": u.unit_class,
                           "factors": u.factors, "index": u.index, "band": u.band} for u in rows]}
        return Response(IndicesSerializer(data).data)


@_component("IndexFormula")
class IndexFormulaSerializer(serializers.ModelSerializer):
    kind = _plain("urban or rural.")
    terms = TermSerializer(many=True)
    set_by_name = _UserName("set_by")
    reviewed_by_name = _UserName("reviewed_by")

    class Meta:
        model = IndexFormula
        fields = ["id", "county", "kind", "version", "terms", "note", "set_by_name", "set_at", "reviewed_by_name",
                  "reviewed_at"]


def _formulas():
    return IndexFormula.objects.select_related("set_by", "reviewed_by")


@_component("Term")
class TermIn(serializers.Serializer):
    factor = _one_of(list(indices.FACTORS))
    weight = serializers.DecimalField(max_digits=5, decimal_places=4, min_value=0, max_value=1,
                                      help_text="Above 0; the terms' weights sum to 1.")
    direction = serializers.IntegerField(min_value=-1, max_value=1, default=1, help_text="1 or -1.")


@_component("IndexFormula")
class IndexFormulaIn(serializers.Serializer):
    county = _optional_id("The county; default: the caller's own.")
    kind = _one_of(["urban", "rural"])
    terms = serializers.ListField(child=TermIn(), min_length=1, max_length=len(indices.FACTORS))
    note = _text(500, help_text="Why (reviewable).")


@extend_schema(tags=TAGS, request=IndexFormulaIn, responses={201: IndexFormulaSerializer, **WRITE_ERRORS})
class IndexFormulaCreateAPI(APIView):
    """A new version of an index's formula, by the county: known factors, weights summing to 1, with a reason;
    someone else reviews it."""

    def post(self, request):
        perm = "assessment.add_indexformula"
        require_perm(request.user, perm)
        d = _input(IndexFormulaIn, request)
        _region, county = _county(request, perm, d.get("county"))
        row = services.index_formula_set(actor=request.user, county=county, kind=d["kind"], note=d["note"],
                                         terms=[dict(term) for term in d["terms"]])
        return Response(IndexFormulaSerializer(_formulas().get(pk=row.pk)).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=TAGS, request=None, responses={200: IndexFormulaSerializer, **WRITE_ERRORS})
class IndexFormulaReviewAPI(APIView):
    """Review a formula version (by someone other than whoever set it), once."""

    def post(self, request, pk):
        row = access_object(IndexFormula.objects.all(), request.user, "assessment.review_indexformula", pk=pk)
        row = services.index_formula_review(actor=request.user, formula=row)
        return Response(IndexFormulaSerializer(_formulas().get(pk=row.pk)).data)


# ---------------------------------------------------------------------------------------------
# the separating equilibrium: proposals and fault tolerance


@_component("Proposal")
class ProposalSerializer(serializers.ModelSerializer):
    standing = _plain("active, ordinary, passive or formal (merely formal).")
    measure = _plain("commend, reward, promote, spread, warning_talk, reassign, non_leading or resign.")
    status = _plain(_choices_help(DecisionStatus.choices))
    decision_note = _Redacted()
    decided_by_name = _UserName("decided_by")

    class Meta:
        model = Proposal
        fields = ["id", "year", "quarter", "subject_kind", "subject_name", "region", "department", "user",
                  "standing", "measure", "status", "decided_by_name", "decided_at", "decision_note", "proposed_at",
                  "county", "town", "village"]
        extra_kwargs = {"subject_kind": {"help_text": "village, town, department or user."},
                        "user": {"help_text": "A cadre's login (subject_kind user)."}}


@_component("ProposalDetail")
class ProposalDetailSerializer(ProposalSerializer):
    grounds = serializers.JSONField(help_text="The figures that told the subject apart: each with its peers' median "
                                              "and the link to the records behind it.")

    class Meta(ProposalSerializer.Meta):
        fields = ProposalSerializer.Meta.fields + ["grounds"]


def _proposals():
    return Proposal.objects.select_related("decided_by")


class ProposalListAPI(_List):
    """What the platform proposes for units and persons (commendation or prodding), and who decided; the village
    proposals are their town's to decide, the others the county's."""

    serializer_class = ProposalSerializer
    list_filters = (PERIOD_FILTER, STATUS_FILTER)

    def get_queryset(self):
        require_perm(self.request.user, "assessment.view_proposal")
        return selectors.proposals_for(self.request.user).order_by("-year", "-quarter", "standing", "subject_name",
                                                                   "pk")

    @extend_schema(tags=TAGS, responses={200: ProposalSerializer(many=True), **LIST_ERRORS})
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


@_component("ProposalsGenerate")
class GenerateIn(serializers.Serializer):
    county = _optional_id("The county; default: the caller's own.")
    period = _period_field(required=False, help_text="A finished quarter, e.g. 2026Q3; default: the last complete "
                                                     "one.")


@_component("ProposalsGenerated")
class GeneratedSerializer(serializers.Serializer):
    count = serializers.IntegerField(help_text="New proposals.")
    proposals = ProposalSerializer(many=True)


@extend_schema(tags=TAGS, request=GenerateIn, responses={200: GeneratedSerializer, **WRITE_ERRORS})
class ProposalsGenerateAPI(APIView):
    """Tell the county's units and persons apart for a finished quarter and propose — never decide. Running it
    again adds only what is new (and refreshes the grounds of undecided proposals)."""

    def post(self, request):
        perm = "assessment.add_proposal"
        require_perm(request.user, perm)
        d = _input(GenerateIn, request)
        period = _period(d.get("period"))
        _region, county = _county(request, perm, d.get("county"))
        made = services.proposals_generate(actor=request.user, county=county, period=period)
        rows = list(_proposals().filter(pk__in=[p.pk for p in made]).order_by("standing", "subject_name", "pk"))
        return Response(GeneratedSerializer({"count": len(rows), "proposals": rows}).data)


@extend_schema(tags=TAGS, responses={200: ProposalDetailSerializer, **READ_ERRORS})
class ProposalDetailAPI(APIView):
    """One proposal with its grounds."""

    def get(self, request, pk):
        return Response(ProposalDetailSerializer(access_object(_proposals(), request.user, "assessment.view_proposal",
                                                               pk=pk)).data)


@extend_schema(tags=TAGS, request=DecideIn, responses={200: ProposalDetailSerializer, **WRITE_ERRORS})
class ProposalDecideAPI(APIView):
    """Accept or refuse a proposal, with the grounds (never about oneself)."""

    def post(self, request, pk):
        row = access_object(Proposal.objects.all(), request.user, "assessment.decide_proposal", pk=pk)
        d = _input(DecideIn, request)
        row = services.proposal_decide(actor=request.user, proposal=row, accept=d["decision"] == "accept",
                                       note=d["note"])
        return Response(ProposalDetailSerializer(_proposals().get(pk=row.pk)).data)


@_component("Condition")
class ConditionSerializer(serializers.Serializer):
    condition = serializers.CharField(help_text=", ".join(FaultToleranceApplication.CONDITIONS))
    label = serializers.CharField()
    held = serializers.BooleanField()
    evidence = _Redacted(help_text="What shows it.")


@_component("FaultTolerance")
class FaultToleranceSerializer(serializers.ModelSerializer):
    status = _plain(_choices_help(DecisionStatus.choices) + " (accepted: granted)")
    region_name = _name("region")
    case_number = serializers.SerializerMethodField(help_text="The case's number only.")
    matter = _Redacted()
    decision_note = _Redacted()
    decided_by_name = _UserName("decided_by")

    class Meta:
        model = FaultToleranceApplication
        fields = ["id", "applicant_name", "region", "region_name", "case", "case_number", "matter", "filed_at",
                  "status", "decided_by_name", "decided_at", "decision_note", "county", "town", "village"]

    def get_case_number(self, obj) -> str | None:
        return _case_number(obj)


@_component("FaultToleranceDetail")
class FaultToleranceDetailSerializer(FaultToleranceSerializer):
    conditions = serializers.SerializerMethodField()

    class Meta(FaultToleranceSerializer.Meta):
        fields = FaultToleranceSerializer.Meta.fields + ["conditions"]

    @extend_schema_field(ConditionSerializer(many=True))
    def get_conditions(self, obj):
        rows = [{"condition": c, "label": str(FaultToleranceApplication._meta.get_field(c).verbose_name),
                 "held": getattr(obj, c), "evidence": getattr(obj, f"{c}_evidence")}
                for c in FaultToleranceApplication.CONDITIONS]
        return ConditionSerializer(rows, many=True).data


def _applications():
    return FaultToleranceApplication.objects.select_related("region", "case", "decided_by")


@_component("ConditionIn")
class ConditionIn(serializers.Serializer):
    held = serializers.BooleanField(default=False)
    evidence = _optional_text(2000, help_text="What shows it (required when held).")


@_component("Conditions")
class ConditionsIn(serializers.Serializer):
    public_good = ConditionIn(required=False, help_text="出于公心")
    no_private_gain = ConditionIn(required=False, help_text="没有谋取私利")
    while_working = ConditionIn(required=False, help_text="在积极干事中发生")
    unintended = ConditionIn(required=False, help_text="不是故意")


@_component("FaultTolerance")
class FaultToleranceIn(serializers.Serializer):
    region = _id(help_text="Where: a town or a village of the caller's territory.")
    matter = _text(2000, help_text="What happened (at least 10 characters).")
    conditions = ConditionsIn(required=False, help_text="The four conditions, each with what shows it; all four "
                                                        "must hold for it to be granted.")
    case = _optional_id("The case it concerns (one the caller may read).")


class FaultToleranceListCreateAPI(_List):
    """容错免责 applications in the caller's scope, newest first. POST applies for one's own honest mistake made
    while working, stating the four conditions one by one."""

    serializer_class = FaultToleranceSerializer
    list_filters = (STATUS_FILTER,)

    def get_queryset(self):
        perm = "assessment.view_faulttoleranceapplication"
        require_perm(self.request.user, perm)
        return _applications().visible_to(self.request.user, perm).order_by("-filed_at", "-pk")

    @extend_schema(tags=TAGS, responses={200: FaultToleranceSerializer(many=True), **LIST_ERRORS})
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(tags=TAGS, request=FaultToleranceIn, responses={201: FaultToleranceDetailSerializer,
                                                                   **WRITE_ERRORS})
    def post(self, request):
        user, perm = request.user, "assessment.add_faulttoleranceapplication"
        require_perm(user, perm)
        d = _input(FaultToleranceIn, request)
        region = _in(Region.objects.all(), d["region"], "region", "没有这个地方",
                     level__in=[RegionLevel.TOWN, RegionLevel.VILLAGE])
        if not Region.objects.visible_to(user, perm).filter(pk=region.pk).exists():
            raise Http404
        case = _in(Case.objects.visible_to(user, "cases.view_case"), d.get("case"), "case",
                   "没有找到这件事项（或不在您的辖区）")
        conditions = {k: dict(v) for k, v in (d.get("conditions") or {}).items()}
        row = services.fault_tolerance_apply(actor=user, region=region, matter=d["matter"], conditions=conditions,
                                             case=case)
        return Response(FaultToleranceDetailSerializer(_applications().get(pk=row.pk)).data,
                        status=status.HTTP_201_CREATED)


@extend_schema(tags=TAGS, responses={200: FaultToleranceDetailSerializer, **READ_ERRORS})
class FaultToleranceDetailAPI(APIView):
    """One application with its four conditions and what shows each."""

    def get(self, request, pk):
        return Response(FaultToleranceDetailSerializer(access_object(
            _applications(), request.user, "assessment.view_faulttoleranceapplication", pk=pk)).data)


@extend_schema(tags=TAGS, request=DecideIn, responses={200: FaultToleranceDetailSerializer, **WRITE_ERRORS})
class FaultToleranceDecideAPI(APIView):
    """Grant (accept) or refuse an application, with the grounds (never one's own); granting needs all four
    conditions."""

    def post(self, request, pk):
        row = access_object(FaultToleranceApplication.objects.all(), request.user, "assessment.decide_faulttolerance",
                            pk=pk)
        d = _input(DecideIn, request)
        row = services.fault_tolerance_decide(actor=request.user, application=row, grant=d["decision"] == "accept",
                                              note=d["note"])
        return Response(FaultToleranceDetailSerializer(_applications().get(pk=row.pk)).data)


# ---------------------------------------------------------------------------------------------
# 一季度一通报


@_component("Bulletin")
class BulletinSerializer(serializers.ModelSerializer):
    scope_kind = _plain("county, town or department.")
    status = _plain("draft or issued (frozen; a correction is a new version).")
    period = serializers.SerializerMethodField()
    region_name = _name("region")
    department_name = _name("department")
    generated_by_name = _UserName("generated_by")
    issued_by_name = _UserName("issued_by")

    class Meta:
        model = Bulletin
        fields = ["id", "scope_kind", "region", "region_name", "department", "department_name", "year", "quarter",
                  "period", "version", "title", "status", "correction_note", "generated_by_name", "generated_at",
                  "issued_by_name", "issued_at"]

    def get_period(self, obj) -> str:
        return Period(obj.year, obj.quarter).code


@_component("BulletinDetail")
class BulletinDetailSerializer(BulletinSerializer):
    content = serializers.JSONField(help_text="Everything the bulletin shows, as generated (frozen once issued): "
                                              "title, note and sections of columns and rows of cells {text, url}; "
                                              "each url opens the records behind the number.")

    class Meta(BulletinSerializer.Meta):
        fields = BulletinSerializer.Meta.fields + ["content"]


def _bulletins():
    return Bulletin.objects.select_related("region", "department", "generated_by", "issued_by")


@_component("BulletinGenerate")
class BulletinIn(serializers.Serializer):
    scope_kind = _one_of(["county", "town", "department"])
    region = _optional_id("county, town: the county or town.")
    department = _optional_id("department: a county department.")
    period = _period_field(help_text="A finished quarter, e.g. 2026Q3.")


def _bulletin_scope(request, d) -> tuple[Region | None, Department | None]:
    """The county, town or department a bulletin is generated for, checked like a row: 404 beyond the caller's
    reach (a county or a department needs the permission over the whole county)."""
    user, perm = request.user, "assessment.add_bulletin"
    if d["scope_kind"] == "department":
        department = _in(Department.objects.all(), d.get("department"), "department", "没有这个部门")
        if department is None:
            raise _missing("department", "请指明部门")
        if not holds_county(user, perm, department.county_id):
            raise Http404
        return None, department
    region = _in(Region.objects.all(), d.get("region"), "region", "没有这个地方")
    if region is None:
        raise _missing("region", "请指明县或镇（街道）")
    if region.level == RegionLevel.COUNTY:
        if not holds_county(user, perm, region.pk):
            raise Http404
    elif not Region.objects.visible_to(user, perm).filter(pk=region.pk).exists():
        raise Http404
    return region, None


class BulletinListCreateAPI(_List):
    """The quarterly bulletins the caller may read, newest first. POST generates (or regenerates) a quarter's
    draft for a county, a town or a department, from the records alone; refused once that quarter's bulletin
    is issued (correct it instead)."""

    serializer_class = BulletinSerializer
    list_filters = (PERIOD_FILTER, ListFilter("status", _eq("status"), kind=str, enum=("draft", "issued")),
                    ListFilter("scope_kind", _eq("scope_kind"), kind=str, enum=("county", "town", "department")))

    def get_queryset(self):
        require_perm(self.request.user, "assessment.view_bulletin")
        return _bulletins().visible_to(self.request.user, "assessment.view_bulletin")

    @extend_schema(tags=TAGS, responses={200: BulletinSerializer(many=True), **LIST_ERRORS})
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(tags=TAGS, request=BulletinIn, responses={201: BulletinDetailSerializer, **WRITE_ERRORS})
    def post(self, request):
        require_perm(request.user, "assessment.add_bulletin")
        d = _input(BulletinIn, request)
        period = Period.parse(d["period"])
        region, department = _bulletin_scope(request, d)
        row = services.bulletin_generate(actor=request.user, scope_kind=d["scope_kind"], period=period, region=region,
                                         department=department)
        return Response(BulletinDetailSerializer(_bulletins().get(pk=row.pk)).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=TAGS, responses={200: BulletinDetailSerializer, **READ_ERRORS})
class BulletinDetailAPI(APIView):
    """One bulletin with its content."""

    def get(self, request, pk):
        return Response(BulletinDetailSerializer(access_object(_bulletins(), request.user, "assessment.view_bulletin",
                                                               pk=pk)).data)


@extend_schema(tags=TAGS, request=None, responses={200: BulletinDetailSerializer, **WRITE_ERRORS})
class BulletinIssueAPI(APIView):
    """Issue a draft: from then on it is frozen."""

    def post(self, request, pk):
        row = access_object(Bulletin.objects.all(), request.user, "assessment.issue_bulletin", pk=pk)
        row = services.bulletin_issue(actor=request.user, bulletin=row)
        return Response(BulletinDetailSerializer(_bulletins().get(pk=row.pk)).data)


@_component("BulletinCorrect")
class CorrectIn(serializers.Serializer):
    note = _text(2000, help_text="What is corrected, and why.")


@extend_schema(tags=TAGS, request=CorrectIn, responses={201: BulletinDetailSerializer, **WRITE_ERRORS})
class BulletinCorrectAPI(APIView):
    """A correction of the latest issued version: a new draft version generated afresh; the issued one stays."""

    def post(self, request, pk):
        row = access_object(Bulletin.objects.all(), request.user, "assessment.add_bulletin", pk=pk)
        d = _input(CorrectIn, request)
        row = services.bulletin_correct(actor=request.user, bulletin=row, note=d["note"])
        return Response(BulletinDetailSerializer(_bulletins().get(pk=row.pk)).data, status=status.HTTP_201_CREATED)

