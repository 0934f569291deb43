"""Serializers of the cases API.

Output serializers read what the domain hands out: a case is serialised from
``selectors.case_as_dict`` — so who raised it comes only from ``case_requester_view`` (the one
confidentiality rule), never from the ``requester_*`` columns. Input serializers check types and
resolve references; the view passes the result to one service call (``actions.perform`` for the
steps), which validates the business rules and answers in Chinese.

The input serializer of every step is built from ``actions.ACTIONS`` (``action_input``), the
same table the page forms are built from.
"""
from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from gongzhi.core.api import ScopedPrimaryKeyField
from gongzhi.registry.models import Department, Grid, Person, Region

from .. import page_selectors, statistics
from ..actions import ACTIONS, Action
from ..choices import (
    LEVEL_ORDER, AttachmentKind, CaseStatus, Channel, ClosedAs, Ledger, Level, Limit, MatterKind, MediationOutcome,
    RequestKind, RequestStatus, Satisfaction,
)
from ..models import CaseAttachment, CaseCategory, CaseEvent, CaseRequest, Notification, Summons, TimeLimitDefault

STEP_NAMES = tuple(sorted(ACTIONS))


# ---------------------------------------------------------------------------------------------
# output: cases


class RequesterSerializer(serializers.Serializer):
    """Who raised the case, as the caller may see it (``selectors.case_requester_view``)."""

    visible = serializers.BooleanField(help_text="False: the identity is confidential for the caller (a complaint's "
                                                 "requester, or an anonymous one).")
    name = serializers.CharField(help_text="“（保密）” when not visible.")
    phone = serializers.CharField(help_text="Masked (138****5678); empty when not visible.")
    person_id = serializers.IntegerField(allow_null=True)
    anonymous = serializers.BooleanField()


def _choice(choices, **kwargs):
    return serializers.ChoiceField(choices=choices, read_only=True, **kwargs)


class CaseSerializer(serializers.Serializer):
    """A case as ``selectors.case_as_dict`` gives it to the caller."""

    id = serializers.IntegerField(read_only=True)
    number = serializers.CharField(read_only=True, help_text="GZ-2026-000123")
    ledger = _choice(Ledger.choices, help_text="The secretary's ledger (三本账).")
    ledger_label = serializers.CharField(read_only=True)
    category = serializers.CharField(read_only=True)
    category_code = serializers.CharField(read_only=True)
    title = serializers.CharField(read_only=True)
    description = serializers.CharField(read_only=True)
    channel = _choice(Channel.choices)
    status = _choice(CaseStatus.choices)
    status_label = serializers.CharField(read_only=True)
    region = serializers.CharField(read_only=True)
    grid = serializers.CharField(read_only=True)
    address = serializers.CharField(read_only=True)
    current_level = _choice(Level.choices)
    assignee = serializers.CharField(read_only=True, help_text="The unit handling the case (grid, region or "
                                                               "department).")
    handler = serializers.CharField(read_only=True)
    is_dispute = serializers.BooleanField(read_only=True)
    mediation_outcome = _choice(MediationOutcome.choices, allow_blank=True)
    complained_department = serializers.CharField(read_only=True)
    received_at = serializers.DateTimeField(read_only=True)
    accepted_at = serializers.DateTimeField(read_only=True, allow_null=True)
    closed_at = serializers.DateTimeField(read_only=True, allow_null=True)
    acceptance_due_at = serializers.DateTimeField(read_only=True, allow_null=True)
    response_due_at = serializers.DateTimeField(read_only=True, allow_null=True)
    resolution_due_at = serializers.DateTimeField(read_only=True, allow_null=True)
    satisfaction = _choice(Satisfaction.choices, allow_blank=True)
    closed_as = _choice(ClosedAs.choices, allow_blank=True)
    settled_level = _choice(Level.choices, allow_blank=True)
    rework_count = serializers.IntegerField(read_only=True)
    extension_count = serializers.IntegerField(read_only=True)
    suspension_count = serializers.IntegerField(read_only=True)
    transfer_count = serializers.IntegerField(read_only=True)
    return_count = serializers.IntegerField(read_only=True)
    escalation_count = serializers.IntegerField(read_only=True)
    requester = RequesterSerializer(read_only=True)


class DepartmentBriefSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)


class CaseBriefSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    number = serializers.CharField(read_only=True)
    title = serializers.CharField(read_only=True)
    status = _choice(CaseStatus.choices)


class CaseRequestSerializer(serializers.ModelSerializer):
    kind = _choice(RequestKind.choices)
    status = _choice(RequestStatus.choices)

    class Meta:
        model = CaseRequest
        fields = ["id", "kind", "status", "days", "reason", "requested_at", "decided_at", "decision_note"]
        read_only_fields = fields


class SummonsSerializer(serializers.ModelSerializer):
    case = CaseBriefSerializer(read_only=True)
    department = DepartmentBriefSerializer(read_only=True)

    class Meta:
        model = Summons
        fields = ["id", "case", "department", "reason", "summoned_at", "due_at", "acknowledged_at", "commitment",
                  "escalated_at"]
        read_only_fields = fields


class AttachmentSerializer(serializers.ModelSerializer):
    kind = _choice(AttachmentKind.choices)
    download = serializers.SerializerMethodField(help_text="The file, for the same caller (GET).")

    class Meta:
        model = CaseAttachment
        fields = ["id", "kind", "original_name", "content_type", "size", "uploaded_at", "event", "download"]
        read_only_fields = fields

    def get_download(self, obj) -> str:
        return reverse("case-attachment-download", kwargs={"pk": obj.pk})


class CaseDetailSerializer(CaseSerializer):
    actions = serializers.ListField(
        child=serializers.ChoiceField(choices=STEP_NAMES), read_only=True,
        help_text="The steps the caller may take on this case right now (POST /api/cases/{id}/<step>/, with "
                  "underscores written as hyphens); acknowledge_summons is POST /api/summonses/{id}/acknowledge/.")
    requests = CaseRequestSerializer(many=True, read_only=True)
    summonses = SummonsSerializer(many=True, read_only=True)
    attachments = AttachmentSerializer(many=True, read_only=True)


class CaseEventSerializer(serializers.ModelSerializer):
    label = serializers.SerializerMethodField()
    from_status = _choice(CaseStatus.choices, allow_blank=True)
    to_status = _choice(CaseStatus.choices, allow_blank=True)

    class Meta:
        model = CaseEvent
        fields = ["id", "kind", "label", "at", "actor_name", "from_status", "to_status", "note", "public"]
        read_only_fields = fields

    def get_label(self, obj) -> str:
        from ..templatetags.cases_tags import step_label

        return str(step_label(obj.kind))


# ---------------------------------------------------------------------------------------------
# output: catalogue, inbox, statistics


class CaseCategorySerializer(serializers.ModelSerializer):
    ledger = _choice(Ledger.choices)
    kind = _choice(MatterKind.choices)
    default_level = _choice(Level.choices)
    instruction_level = _choice(Level.choices, allow_blank=True)

    class Meta:
        model = CaseCategory
        fields = ["id", "county", "code", "name", "description", "ledger", "kind", "default_level",
                  "responsible_department", "suggested_department", "acceptance_days", "response_days",
                  "resolution_days", "is_petition", "is_dispute", "requires_instruction", "instruction_level",
                  "active", "sort_order"]
        read_only_fields = fields


class TimeLimitSerializer(serializers.ModelSerializer):
    limit = _choice(Limit.choices)
    ledger = _choice(Ledger.choices, allow_blank=True, help_text="Empty: any ledger.")
    kind = _choice(MatterKind.choices, allow_blank=True, help_text="Empty: any kind of matter.")

    class Meta:
        model = TimeLimitDefault
        fields = ["id", "limit", "ledger", "kind", "days", "natural_days", "max_times", "note"]
        read_only_fields = fields


class NotificationSerializer(serializers.ModelSerializer):
    case_number = serializers.SerializerMethodField()

    class Meta:
        model = Notification
        fields = ["id", "kind", "text", "case", "case_number", "created_at", "read_at"]
        read_only_fields = fields

    def get_case_number(self, obj) -> str:
        return obj.case.number if obj.case_id else ""


class RateSerializer(serializers.Serializer):
    numerator = serializers.DecimalField(max_digits=14, decimal_places=2, coerce_to_string=False, read_only=True)
    denominator = serializers.IntegerField(read_only=True)
    percent = serializers.DecimalField(max_digits=6, decimal_places=2, coerce_to_string=False, read_only=True,
                                       allow_null=True, help_text="Rounded half up; null when the denominator is 0.")


StatisticsCounts = type("CaseStatisticsCounts", (serializers.Serializer,), {
    key: serializers.IntegerField(read_only=True, help_text=label) for key, label in statistics.COUNT_LABELS.items()})
StatisticsRates = type("CaseStatisticsRates", (serializers.Serializer,), {
    key: RateSerializer(read_only=True, help_text=label) for key, label in statistics.RATE_LABELS.items()})
SettledLevels = type("CaseSettledLevels", (serializers.Serializer,), {
    level.value: serializers.IntegerField(read_only=True, help_text=level.label) for level in LEVEL_ORDER})


class FiguresSerializer(serializers.Serializer):
    counts = StatisticsCounts(read_only=True)
    rates = StatisticsRates(read_only=True)


class GroupFiguresSerializer(FiguresSerializer):
    name = serializers.CharField(read_only=True)


class StatisticsSerializer(serializers.Serializer):
    start = serializers.DateTimeField(read_only=True, allow_null=True, help_text="Received at or after.")
    end = serializers.DateTimeField(read_only=True, allow_null=True, help_text="Received before.")
    basic_weight = serializers.DecimalField(max_digits=4, decimal_places=2, coerce_to_string=False, read_only=True)
    total = FiguresSerializer(read_only=True)
    by_ledger = GroupFiguresSerializer(many=True, read_only=True)
    by_category = GroupFiguresSerializer(many=True, read_only=True)
    by_level = GroupFiguresSerializer(many=True, read_only=True)
    by_unit = GroupFiguresSerializer(many=True, read_only=True)
    settled_levels = SettledLevels(read_only=True, help_text="Resolved cases by the level they were settled at.")


def figures_dict(figures) -> dict:
    return {"counts": figures.counts, "rates": {
        key: {"numerator": rate.numerator, "denominator": rate.denominator, "percent": rate.percent}
        for key, rate in figures.rates.items()}}


def statistics_dict(stats) -> dict:
    groups = lambda d: [{"name": name, **figures_dict(f)} for name, f in d.items()]  # noqa: E731
    return {"start": stats.start, "end": stats.end, "basic_weight": stats.total.basic_weight,
            "total": figures_dict(stats.total), "by_ledger": groups(stats.by_ledger),
            "by_category": groups(stats.by_category), "by_level": groups(stats.by_level),
            "by_unit": groups(stats.by_unit), "settled_levels": stats.settled_levels}


# ---------------------------------------------------------------------------------------------
# input


class StatisticsQuery(serializers.Serializer):
    region = serializers.IntegerField(required=False, min_value=1,
                                      help_text="A county, town or village the caller may see (default: everything "
                                                "in their scope).")
    quarter = serializers.RegexField(r"^\d{4}Q[1-4]$", required=False, help_text="e.g. 2026Q1 (sets start and end).")
    start = serializers.DateField(required=False, help_text="Cases received on or after this day.")
    end = serializers.DateField(required=False, help_text="Cases received on or before this day.")
    basic_weight = serializers.DecimalField(max_digits=3, decimal_places=2, min_value=0, max_value=1, required=False,
                                            help_text="Weight of 基本满意 in the satisfaction rate (default from "
                                                      "settings).")

    def validate_region(self, value):
        region = page_selectors.statistics_regions(user=self.context["request"].user).filter(pk=value).first()
        if region is None:
            raise serializers.ValidationError("没有这个区划，或不在你的范围内")
        return region

    def validate(self, attrs):
        if attrs.get("quarter"):
            attrs["start"], attrs["end"] = page_selectors.quarter_bounds(int(attrs["quarter"][:4]),
                                                                         int(attrs["quarter"][5]))
        if attrs.get("start") and attrs.get("end") and attrs["start"] > attrs["end"]:
            raise serializers.ValidationError({"end": "结束日期不能早于开始日期"})
        return attrs


class MarkReadInput(serializers.Serializer):
    ids = serializers.ListField(child=serializers.IntegerField(min_value=1), required=False, allow_empty=True,
                                help_text="Messages to mark read; omitted: all.")


class MarkReadOutput(serializers.Serializer):
    marked = serializers.IntegerField()


class RevealPhoneOutput(serializers.Serializer):
    phone = serializers.CharField(help_text="The clear number. This read is in the audit trail.")


class AcknowledgeInput(serializers.Serializer):
    commitment = serializers.CharField(help_text="What the department commits to do.")


class CategoryInput(serializers.Serializer):
    """Create or change the county's own category ``code`` (it overrides the default of that code)."""

    county = serializers.IntegerField(min_value=1)
    code = serializers.CharField(max_length=63)
    name = serializers.CharField(max_length=100, required=False)
    description = serializers.CharField(required=False, allow_blank=True)
    ledger = serializers.ChoiceField(choices=Ledger.choices, required=False)
    kind = serializers.ChoiceField(choices=MatterKind.choices, required=False)
    default_level = serializers.ChoiceField(choices=Level.choices, required=False)
    responsible_department = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    suggested_department = serializers.CharField(max_length=30, required=False, allow_blank=True)
    acceptance_days = serializers.IntegerField(required=False, allow_null=True, min_value=0, max_value=365)
    response_days = serializers.IntegerField(required=False, allow_null=True, min_value=0, max_value=365)
    resolution_days = serializers.IntegerField(required=False, allow_null=True, min_value=0, max_value=365)
    is_petition = serializers.BooleanField(required=False)
    is_dispute = serializers.BooleanField(required=False)
    requires_instruction = serializers.BooleanField(required=False)
    instruction_level = serializers.ChoiceField(choices=Level.choices, required=False, allow_blank=True)
    active = serializers.BooleanField(required=False)
    sort_order = serializers.IntegerField(required=False, min_value=0)


class TimeLimitInput(serializers.Serializer):
    limit = serializers.ChoiceField(choices=Limit.choices)
    ledger = serializers.ChoiceField(choices=Ledger.choices, required=False, allow_blank=True, default="")
    kind = serializers.ChoiceField(choices=MatterKind.choices, required=False, allow_blank=True, default="")
    days = serializers.IntegerField(min_value=0, max_value=365)
    natural_days = serializers.BooleanField(required=False, default=False)
    max_times = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=10)
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)


class CaseRegisterInput(serializers.Serializer):
    """Register a case (分类建账). The ledger follows the category. Give a ``grid``, or a ``region``
    (village, villager group or town), within the places where the caller may register."""

    category = serializers.IntegerField(min_value=1, help_text="A category id (GET /api/case-categories/).")
    title = serializers.CharField(max_length=200)
    description = serializers.CharField()
    channel = serializers.ChoiceField(choices=Channel.choices)
    region = ScopedPrimaryKeyField(model=Region, perm="cases.add_case", required=False, allow_null=True)
    grid = ScopedPrimaryKeyField(model=Grid, perm="cases.add_case", required=False, allow_null=True)
    address = serializers.CharField(max_length=200, required=False, allow_blank=True)
    latitude = serializers.DecimalField(max_digits=9, decimal_places=6, required=False, allow_null=True)
    longitude = serializers.DecimalField(max_digits=9, decimal_places=6, required=False, allow_null=True)
    requester = ScopedPrimaryKeyField(model=Person, perm="registry.view_person", required=False, allow_null=True,
                                      help_text="A person in the registry the caller may see.")
    requester_name = serializers.CharField(max_length=50, required=False, allow_blank=True)
    requester_phone = serializers.CharField(max_length=20, required=False, allow_blank=True)
    anonymous = serializers.BooleanField(required=False)
    is_dispute = serializers.BooleanField(required=False, allow_null=True, default=None,
                                          help_text="Default: as the category says.")
    complained_department = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    complained_person = ScopedPrimaryKeyField(model=Person, perm="registry.view_person", required=False,
                                              allow_null=True)
    complained_text = serializers.CharField(max_length=200, required=False, allow_blank=True)
    received_at = serializers.DateTimeField(required=False, allow_null=True)
    attachments = serializers.ListField(child=serializers.FileField(), required=False,
                                        help_text="Intake materials (multipart/form-data).")

    def validate_category(self, value):
        category = CaseCategory.objects.filter(pk=value).first()
        if category is None:
            raise serializers.ValidationError("没有这个类别")
        return category

    def validate_complained_department(self, value):
        if value is None:
            return None
        department = Department.objects.filter(pk=value).first()
        if department is None:
            raise serializers.ValidationError("没有这个部门")
        return department

    def validate(self, attrs):
        if not attrs.get("region") and not attrs.get("grid"):
            raise serializers.ValidationError({"region": "请指定事发地（村、镇或网格）"})
        return {k: v for k, v in attrs.items() if v is not None or k in ("is_dispute",)}


def _camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))


@extend_schema_field({"type": "array", "items": {"type": "string", "format": "binary"}})
class FilesField(serializers.ListField):
    child = serializers.FileField()


def _input_field(spec):
    help_text = str(spec.label)
    if spec.kind in ("text", "line"):
        return {spec.name: serializers.CharField(required=spec.required, allow_blank=not spec.required,
                                                 help_text=help_text)}
    if spec.kind == "int":
        return {spec.name: serializers.IntegerField(min_value=spec.min_value, max_value=spec.max_value,
                                                    required=spec.required, help_text=help_text)}
    if spec.kind == "choice":
        return {spec.name: serializers.ChoiceField(choices=list(spec.choices), required=spec.required,
                                                   allow_blank=not spec.required, help_text=help_text)}
    if spec.kind == "decision":
        return {spec.name: serializers.BooleanField(help_text=f"{help_text}: true or false")}
    if spec.kind == "datetime":
        return {spec.name: serializers.DateTimeField(required=spec.required, allow_null=True, help_text=help_text)}
    if spec.kind == "files":
        return {spec.name: FilesField(required=False, help_text=f"{help_text} (multipart/form-data)")}
    if spec.kind == "file":
        return {spec.name: serializers.FileField(help_text=help_text)}
    if spec.kind == "category":
        return {spec.name: serializers.IntegerField(min_value=1, help_text="A category id of the case's county.")}
    if spec.kind == "target":
        return {
            "grid": serializers.IntegerField(required=False, allow_null=True, min_value=1,
                                             help_text="A grid of the case's county."),
            "region": serializers.IntegerField(required=False, allow_null=True, min_value=1,
                                               help_text="A village, town or the county itself."),
            "department": serializers.IntegerField(required=False, allow_null=True, min_value=1,
                                                   help_text="A department of the case's county."),
        }
    if spec.kind == "departments":
        return {spec.name: serializers.ListField(child=serializers.IntegerField(min_value=1), allow_empty=False,
                                                 help_text="Departments of the case's county.")}
    if spec.kind == "summons":
        return {spec.name: serializers.IntegerField(min_value=1)}
    raise ValueError(spec.kind)


def _resolve(self, attrs):
    """Turn ids into the case county's units (and check the caller's summons)."""
    case, user = self.context["case"], self.context["request"].user
    action: Action = self.action_spec
    out = dict(attrs)
    try:
        for spec in action.fields:
            if spec.kind == "category":
                category = page_selectors.case_categories(county_id=case.county_id).filter(pk=attrs[spec.name]).first()
                if category is None:
                    raise serializers.ValidationError({spec.name: "本县没有这个类别"})
                out[spec.name] = category
            elif spec.kind == "target":
                ids = {k: out.pop(k, None) for k in ("grid", "region", "department")}
                out[spec.name] = page_selectors.resolve_target(case=case, **ids)
            elif spec.kind == "departments":
                wanted = list(dict.fromkeys(attrs[spec.name]))
                found = {d.pk: d for d in page_selectors.county_departments(county_id=case.county_id)
                         .filter(pk__in=wanted)}
                missing = [pk for pk in wanted if pk not in found]
                if missing:
                    raise serializers.ValidationError({spec.name: f"本县没有这些部门：{missing}"})
                out[spec.name] = [found[pk] for pk in wanted]
            elif spec.kind == "summons":
                summons = page_selectors.summonses_to_acknowledge(user=user, case=case).filter(
                    pk=attrs[spec.name]).first()
                if summons is None:
                    raise serializers.ValidationError({spec.name: "没有待你单位报到的这项召集"})
                out[spec.name] = summons
    except DjangoValidationError as exc:
        raise serializers.ValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages) from exc
    return out


_INPUTS: dict[str, type] = {}


def action_input(action: Action) -> type[serializers.Serializer]:
    """The input serializer of one step (``CaseAcceptInput`` …), built from ``actions.ACTIONS``."""
    if action.name not in _INPUTS:
        attrs = {"action_spec": action, "validate": _resolve,
                 "__doc__": f"{action.label}（{action.transition.step}）. Who: {action.transition.who}."}
        for spec in action.fields:
            attrs.update(_input_field(spec))
        _INPUTS[action.name] = type(f"Case{_camel(action.name)}Input", (serializers.Serializer,), attrs)
    return _INPUTS[action.name]
