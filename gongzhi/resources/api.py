"""REST API of resources and dispatch (DOMAIN.md §3.6), under /api/resources/ (``api_urls.py``).

The shape of the linking API: one APIView per operation, each with its own input and output
serializers, documented by drf-spectacular.

* Reads start from ``Model.objects.visible_to(user, perm)`` (lists) and ``access_object`` (one
  row): **403** when the caller holds the permission nowhere, **404** when the row lies outside
  their scope. The ledger of a resource is read with ``view_stockmovement``: a grid worker who may
  see a resource gets 403 on its ledger.
* Writes are one call of ``gongzhi.resources.services`` each; the view checks types, loads the row
  of the path with the action's permission (403 / 404) and resolves the ids of the body. A body
  reference that does not exist, or lies outside what the caller may read, is a 400 naming the
  field; the place a new resource or need is put at is checked like a row (404 beyond the
  caller's territory). The business rules and their Chinese reasons are the services' (a Django
  ``ValidationError`` is the structured 400 of ``core.api.exception_handler``); among them the
  keeper rule: a village reads the county's pool but drawing on it, or moving its stock, is a 400
  naming the keeper.
* A need shows its recipient's name to those who may read the need (they are in its scope), its
  household by id only, a case by id and number only (never the tracking code, the requester's
  key to the public page). Phone and ID numbers typed into free text are masked on the way out.
  A delivery never shows its receipt code's hash; the code itself is in the dispatch's answer,
  once.
* Every input is bounded (ids, quantities, text lengths, dates), so that a fuzzed request is a
  400, never a database error.

Enum naming (see the linking API): each choice set is published under one component only. The
resource types are ``ResourcesResource.kind``; elsewhere (a need's kind, the overview) they are a
plain string, validated all the same. ``source`` and ``method`` are plain strings throughout: the
village and care APIs already own enums of those names.
"""
from __future__ import annotations

import re

from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from gongzhi.cases.models import Case
from gongzhi.core.api import (
    FilteredListMixin, ListFilter, api_errors, date_field, field_error, filter_eq, id_field, optional_text_field,
    text_field, validated_input,
)
from gongzhi.core.masking import mask_id_number, mask_phone
from gongzhi.core.scoping import (
    ScopeRule, access_object, counties_of, departments_of, in_grid_village, in_territory, require_perm,
)
from gongzhi.registry.models import Department, Grid, Household, Region, RegionLevel

from . import selectors, services
from .models import (
    KEEPER_RULE, OPEN_NEED_STATUSES, Allocation, AllocationMode, Availability, ConfirmationMethod, Delivery, Kind,
    MovementKind, Need, NeedSource, NeedStatus, Priority, Resource, Source, StockMovement,
)

TAGS = ["resources"]
READ_ERRORS = api_errors(401, 403, 404)
WRITE_ERRORS = api_errors(400, 401, 403, 404)
LIST_ERRORS = api_errors(400, 401, 403)
MAX_QUANTITY = services.MAX_QUANTITY

_id, _text, _optional_text, _date, _input, _missing, _eq = (
    id_field, text_field, optional_text_field, date_field, validated_input, field_error, filter_eq)


# ---------------------------------------------------------------------------------------------
# input building blocks


def _optional_id(help_text: str = "") -> serializers.IntegerField:
    return _id(required=False, allow_null=True, help_text=help_text)


def _quantity(minimum: int = 1, **kwargs) -> serializers.IntegerField:
    """A whole number of units (funds in whole yuan), bounded like the services' ``MAX_QUANTITY``."""
    return serializers.IntegerField(min_value=minimum, max_value=MAX_QUANTITY, **kwargs)


def _one_of(choices, **kwargs) -> serializers.CharField:
    """A choice set whose enum is published in another component: a plain string here, checked the same."""
    values = [str(value) for value, _label in choices]

    def check(value):
        if value not in values:
            raise serializers.ValidationError(f"可选值：{', '.join(values)}")

    kwargs.setdefault("help_text", "One of: " + ", ".join(values) + ".")
    return serializers.CharField(max_length=40, validators=[check], **kwargs)


def _in(queryset, pk, field, message, **where):
    """A row the body refers to, looked up inside ``queryset`` (and ``where``) only, or a 400 naming the field."""
    if pk is None:
        return None
    row = queryset.filter(pk=pk, **where).first()
    if row is None:
        raise _missing(field, message)
    return row


# A place is in the caller's territory when a region grant covers it or a grid grant lies in its
# village (the keeper rule's territorial part, asked of the region itself).
_TERRITORY = ScopeRule(region=in_territory(), grid=in_grid_village())


def _region(pk, field: str = "place") -> Region | None:
    return _in(Region.objects.all(), pk, field, "没有这个地方")


def _in_territory(request, place: Region, perm: str, *, department: Department | None = None) -> Region:
    """The place a new resource or need is put at, checked like a row: 404 beyond the caller's
    territory (a department keeps its own stock anywhere in its county)."""
    if Region.objects.visible_by(request.user, perm, _TERRITORY).filter(pk=place.pk).exists():
        return place
    if (department is not None and department.pk in departments_of(request.user, perm)
            and department.county_id == place.county_id):
        return place
    raise Http404


def _department(pk, county_id, field="owner_department") -> Department | None:
    return _in(Department.objects.all(), pk, field, "本县没有这个部门", county_id=county_id)


def _grid(pk, field="grid") -> Grid | None:
    """A grid the body names; the services check that it lies in the row's village."""
    return _in(Grid.objects.all(), pk, field, "没有这个网格")


class _List(FilteredListMixin, ListAPIView):
    pass


# ---------------------------------------------------------------------------------------------
# output building blocks

_ID_NUMBER = re.compile(r"(?<![0-9])[0-9]{17}[0-9Xx](?![0-9A-Za-z])")
_MOBILE = re.compile(r"(?<![0-9])1[3-9][0-9]{9}(?![0-9])")


def _redact(text: str) -> str:
    """Phone and ID numbers typed into free text are masked as the registry masks them."""
    if not text:
        return text or ""
    text = _ID_NUMBER.sub(lambda m: mask_id_number(m.group()), text)
    return _MOBILE.sub(lambda m: mask_phone(m.group()), text)


class _Redacted(serializers.CharField):
    def __init__(self, **kwargs):
        kwargs.setdefault("read_only", True)
        super().__init__(**kwargs)

    def to_representation(self, value):
        return _redact(super().to_representation(value))


@extend_schema_field(OpenApiTypes.STR)
class _UserName(serializers.Field):
    """A login as its display name (a username that is a phone number is masked)."""

    def __init__(self, source: str, **kwargs):
        super().__init__(source=source, read_only=True, allow_null=True, **kwargs)

    def to_representation(self, user):
        return _redact(user.display_name or user.username)


def _name(field: str):
    return serializers.CharField(source=f"{field}.name", default="", read_only=True)


def _component(name: str):
    """Publish a serializer as ``Resources<name>`` (an input one becomes ``Resources<name>Request``)."""
    return extend_schema_serializer(component_name=f"Resources{name}")


def _choices_help(choices) -> str:
    return "One of: " + ", ".join(str(value) for value, _label in choices) + "."


# ---------------------------------------------------------------------------------------------
# the inventory


@_component("Resource")
class ResourceSerializer(serializers.ModelSerializer):
    source = serializers.CharField(read_only=True, help_text="Where it was pooled from. " + _choices_help(Source.choices))
    owner_department_name = _name("owner_department")
    place_name = _name("place")
    grid_name = _name("grid")
    available = serializers.IntegerField(read_only=True, help_text="On hand less what is reserved.")
    registered_by_name = _UserName("registered_by")

    class Meta:
        model = Resource
        fields = ["id", "kind", "name", "unit", "owner_name", "owner_department", "owner_department_name", "place",
                  "place_name", "grid", "grid_name", "address", "source", "allocation", "emergency_reserve",
                  "availability", "available_from", "available_until", "conditions", "on_hand", "reserved",
                  "available", "county", "town", "village", "registered_by_name", "created_at"]
        extra_kwargs = {"place": {"help_text": "Where it is kept: the county itself (the county's shared pool), a "
                                               "town or a village."},
                        "on_hand": {"help_text": "The sum of its ledger (changes only through stock movements)."}}


def _resources():
    return Resource.objects.select_related("place", "grid", "owner_department", "registered_by")


@_component("Resource")
class ResourceIn(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Kind.choices)
    name = _text(150)
    unit = _text(20, help_text="元, 袋, 顶, 床, 次/月, 人 …")
    owner_name = _text(150, help_text="Who owns or provides it.")
    place = _id(help_text="Where it is kept: the county (its shared pool), a town or a village of the caller's "
                          "territory; a department keeps its own stock anywhere in its county.")
    source = _one_of(Source.choices)
    allocation = serializers.ChoiceField(choices=AllocationMode.choices)
    quantity = _quantity(help_text="What it brings in: its first ledger line.")
    reason = _optional_text(300, help_text="Where it came from; default: registered, with its source.")
    owner_department = _optional_id("The county department owning it: that department keeps it.")
    grid = _optional_id("A grid of the village it is kept in.")
    address = _optional_text(200)
    emergency_reserve = serializers.BooleanField(default=False, help_text="Only emergencies may draw on it.")
    available_from = _date(required=False, allow_null=True)
    available_until = _date(required=False, allow_null=True)
    conditions = _optional_text(300)


@_component("Resource")
class ResourceChangeIn(serializers.Serializer):
    name = _text(150, required=False)
    unit = _text(20, required=False)
    owner_name = _text(150, required=False)
    owner_department = _id(required=False, allow_null=True)
    grid = _id(required=False, allow_null=True)
    address = _text(200, required=False, allow_blank=True)
    source = _one_of(Source.choices, required=False)
    allocation = serializers.ChoiceField(choices=AllocationMode.choices, required=False)
    emergency_reserve = serializers.BooleanField(required=False)
    availability = serializers.ChoiceField(choices=Availability.choices, required=False)
    available_from = _date(required=False, allow_null=True)
    available_until = _date(required=False, allow_null=True)
    conditions = _text(300, required=False, allow_blank=True)


# What a PATCH may not touch: quantities move through the ledger, the type and the place are the
# resource's identity.
_NOT_DESCRIPTIVE = {"kind", "place", "quantity", "on_hand", "reserved", "county", "town", "village", "registered_by"}


class InventoryListCreateAPI(_List):
    """The inventory (资源台账) in the caller's scope: their territory's resources and the county's shared pool;
    a department's own stock. POST lists a resource with what it brings in (its first ledger line)."""

    serializer_class = ResourceSerializer
    list_filters = (
        ListFilter("kind", _eq("kind"), kind=str, enum=tuple(Kind.values)),
        ListFilter("availability", _eq("availability"), kind=str, enum=tuple(Availability.values)),
        ListFilter("town", _eq("town_id"), description="town id"),
        ListFilter("village", _eq("village_id"), description="village id"),
        ListFilter("pool", lambda qs, value, request: qs.filter(town__isnull=value), kind=bool,
                   description="true: the county's shared pool only (kept at the county itself)."),
        ListFilter("emergency_reserve", _eq("emergency_reserve"), kind=bool),
        ListFilter("department", _eq("owner_department_id"), description="owning department id"),
    )

    def get_queryset(self):
        require_perm(self.request.user, "resources.view_resource")
        return (_resources().visible_to(self.request.user, "resources.view_resource")
                .order_by("kind", "name", "pk"))

    @extend_schema(tags=TAGS, responses={200: ResourceSerializer(many=True), **LIST_ERRORS})
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(tags=TAGS, request=ResourceIn, responses={201: ResourceSerializer, **WRITE_ERRORS})
    def post(self, request):
        require_perm(request.user, "resources.add_resource")
        d = _input(ResourceIn, request)
        place = _region(d["place"])
        department = _department(d.get("owner_department"), place.county_id)
        _in_territory(request, place, "resources.add_resource", department=department)
        resource = services.resource_register(
            actor=request.user, kind=d["kind"], name=d["name"], unit=d["unit"], owner_name=d["owner_name"],
            place=place, source=d["source"], allocation=d["allocation"], quantity=d["quantity"], reason=d["reason"],
            owner_department=department, grid=_grid(d.get("grid")), address=d["address"],
            emergency_reserve=d["emergency_reserve"], available_from=d.get("available_from"),
            available_until=d.get("available_until"), conditions=d["conditions"])
        return Response(ResourceSerializer(_resources().get(pk=resource.pk)).data, status=status.HTTP_201_CREATED)


class InventoryDetailAPI(APIView):
    @extend_schema(tags=TAGS, responses={200: ResourceSerializer, **READ_ERRORS})
    def get(self, request, pk):
        """One resource, with its balances."""
        return Response(ResourceSerializer(access_object(_resources(), request.user, "resources.view_resource",
                                                         pk=pk)).data)

    @extend_schema(tags=TAGS, request=ResourceChangeIn, responses={200: ResourceSerializer, **WRITE_ERRORS})
    def patch(self, request, pk):
        """Correct what describes a resource (the fields sent), by whoever keeps it. Quantities change only
        through stock movements; the type and the place are not changed here."""
        resource = access_object(Resource.objects.all(), request.user, "resources.change_resource", pk=pk)
        if isinstance(request.data, dict):
            refused = sorted(_NOT_DESCRIPTIVE & set(request.data))
            if refused:
                raise _missing(refused[0], "不能在此修改（数量只能通过出入库记录变动，类型和所在地不能改）")
        changes = dict(_input(ResourceChangeIn, request))
        if "owner_department" in changes:
            changes["owner_department"] = _department(changes["owner_department"], resource.county_id)
        if "grid" in changes:
            changes["grid"] = _grid(changes["grid"])
        resource = services.resource_update(actor=request.user, resource=resource, **changes)
        return Response(ResourceSerializer(_resources().get(pk=resource.pk)).data)


@_component("Movement")
class MovementSerializer(serializers.ModelSerializer):
    reason = _Redacted()
    actor_name = _UserName("actor")

    class Meta:
        model = StockMovement
        fields = ["id", "resource", "kind", "on_hand_delta", "reserved_delta", "reason", "allocation", "delivery",
                  "actor_name", "at"]
        extra_kwargs = {"allocation": {"help_text": "The reservation it belongs to (reserve, release, dispatch, "
                                                    "return)."}}


class LedgerAPI(_List):
    """The resource's stock ledger (库存台账), newest first: every change with its kind, its two deltas and its
    reason. The resource's on hand and reserved are the sums of its lines."""

    serializer_class = MovementSerializer
    list_filters = (ListFilter("kind", _eq("kind"), kind=str, enum=tuple(MovementKind.values)),)

    def get_queryset(self):
        user = self.request.user
        resource = access_object(Resource.objects.all(), user, "resources.view_stockmovement", pk=self.kwargs["pk"])
        return (StockMovement.objects.visible_to(user, "resources.view_stockmovement").filter(resource=resource)
                .select_related("actor").order_by("-at", "-pk"))

    @extend_schema(tags=TAGS, responses={200: MovementSerializer(many=True), **READ_ERRORS, **LIST_ERRORS})
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


STOCK_CHANGES = (("receive", "入库 (more comes in)"), ("write_off", "核销 (spoiled, expired, lost)"),
                 ("correct", "盘点更正 (a stocktake's count replaces the book figure)"))


@_component("StockChange")
class StockChangeIn(serializers.Serializer):
    kind = serializers.ChoiceField(choices=STOCK_CHANGES)
    quantity = _quantity(required=False, help_text="receive and write_off: how much.")
    counted = _quantity(0, required=False, help_text="correct: the count found.")
    reason = _text(300, help_text="Where it came from, why it is written off, who counted and when.")

    def validate(self, data):
        if data["kind"] == "correct":
            if data.get("counted") is None:
                raise serializers.ValidationError({"counted": ["请填写清点数"]})
        elif data.get("quantity") is None:
            raise serializers.ValidationError({"quantity": ["请填写数量"]})
        return data


@_component("StockChanged")
class StockChangedSerializer(serializers.Serializer):
    movement = MovementSerializer()
    resource = ResourceSerializer(help_text="The resource with its new balances.")


@extend_schema(tags=TAGS, request=StockChangeIn, responses={201: StockChangedSerializer, **WRITE_ERRORS})
class MovementAPI(APIView):
    """A stock movement by whoever keeps the resource: receive (入库), write off (核销) or a stocktake
    correction (盘点更正), each a ledger line with its reason."""

    def post(self, request, pk):
        resource = access_object(Resource.objects.all(), request.user, "resources.move_stock", pk=pk)
        d = _input(StockChangeIn, request)
        if d["kind"] == "receive":
            movement = services.stock_receive(actor=request.user, resource=resource, quantity=d["quantity"],
                                              reason=d["reason"])
        elif d["kind"] == "write_off":
            movement = services.stock_write_off(actor=request.user, resource=resource, quantity=d["quantity"],
                                                reason=d["reason"])
        else:
            movement = services.stock_correct(actor=request.user, resource=resource, counted=d["counted"],
                                              reason=d["reason"])
        data = {"movement": StockMovement.objects.select_related("actor").get(pk=movement.pk),
                "resource": _resources().get(pk=resource.pk)}
        return Response(StockChangedSerializer(data).data, status=status.HTTP_201_CREATED)


# ---------------------------------------------------------------------------------------------
# needs


@_component("Need")
class NeedSerializer(serializers.ModelSerializer):
    title = _Redacted()
    description = _Redacted()
    emergency_note = _Redacted()
    kind = serializers.CharField(read_only=True, help_text="The type of resource wanted (see ResourcesResource.kind).")
    source = serializers.CharField(read_only=True, help_text="Raised from: " + _choices_help(NeedSource.choices))
    place_name = _name("place")
    household = serializers.IntegerField(source="household_id", read_only=True, allow_null=True,
                                         help_text="The household served, by id only.")
    recipient_name = serializers.CharField(read_only=True, help_text="Who receives it (for those in the need's "
                                                                     "scope).")
    case = serializers.IntegerField(source="case_id", read_only=True, allow_null=True)
    case_number = serializers.SerializerMethodField(help_text="Raised from a resident's case: its number only.")
    care_plan = serializers.IntegerField(source="care_plan_id", read_only=True, allow_null=True)
    meeting = serializers.IntegerField(source="meeting_id", read_only=True, allow_null=True)
    outstanding = serializers.IntegerField(read_only=True, help_text="Neither delivered nor reserved yet.")
    closed_note = _Redacted()
    raised_by_name = _UserName("raised_by")

    class Meta:
        model = Need
        fields = ["id", "title", "description", "kind", "quantity", "unit", "priority", "emergency_note", "place",
                  "place_name", "grid", "household", "recipient_name", "needed_by", "source", "case", "case_number",
                  "care_plan", "meeting", "status", "reserved_quantity", "delivered_quantity", "outstanding",
                  "closed_note", "raised_by_name", "raised_at", "closed_at", "county", "town", "village"]
        extra_kwargs = {"priority": {"help_text": "1 emergency, 2 basic livelihood, 3 other: the dispatch order."}}

    def get_case_number(self, obj) -> str | None:
        return (obj.case.number or None) if obj.case_id else None


def _needs():
    return Need.objects.select_related("place", "case", "raised_by")


@_component("Need")
class NeedIn(serializers.Serializer):
    title = _text(200)
    kind = _one_of(Kind.choices, help_text="The type of resource wanted: " + ", ".join(Kind.values) + ".")
    quantity = _quantity()
    unit = _text(20)
    priority = serializers.ChoiceField(choices=Priority.choices, default=Priority.GENERAL.value,
                                       help_text="1 emergency (say why in emergency_note), 2 basic livelihood, 3 other.")
    emergency_note = _optional_text(300, help_text="What makes it urgent (required for an emergency).")
    description = _optional_text(4000)
    place = _optional_id("Where: a town or a village of the caller's territory; default: the source's or the "
                         "household's.")
    grid = _optional_id("A grid of that village.")
    household = _optional_id("The household served (its head becomes the recipient unless one is named).")
    recipient_name = _optional_text(100)
    needed_by = _date(required=False, allow_null=True)
    case = _optional_id("Raised from a resident's case (the case is told).")
    care_plan = _optional_id("Raised from a household's care plan.")
    meeting = _optional_id("Raised from a village meeting.")

    def validate(self, data):
        sources = [name for name in ("case", "care_plan", "meeting") if data.get(name) is not None]
        if len(sources) > 1:
            raise serializers.ValidationError({sources[1]: ["一项需求只能有一个来源"]})
        return data


class NeedListCreateAPI(_List):
    """Needs in the caller's scope in dispatch order: emergencies first, then basic livelihood, then the rest;
    within a grade the earliest needed, then the earliest raised (``open=true``: the dispatch queue). POST puts a
    need in the queue, raised directly or from a case, a care plan or a village meeting."""

    serializer_class = NeedSerializer
    list_filters = (
        ListFilter("kind", _eq("kind"), kind=str, enum=tuple(Kind.values)),
        ListFilter("priority", _eq("priority"), description="1 emergency, 2 basic livelihood, 3 other"),
        ListFilter("status", _eq("status"), kind=str, enum=tuple(NeedStatus.values)),
        ListFilter("open", lambda qs, value, request: (qs.filter(status__in=OPEN_NEED_STATUSES) if value
                                                       else qs.exclude(status__in=OPEN_NEED_STATUSES)),
                   kind=bool, description="true: waiting, reserved or being delivered (the queue)."),
        ListFilter("town", _eq("town_id"), description="town id"),
        ListFilter("village", _eq("village_id"), description="village id"),
        ListFilter("household", _eq("household_id"), description="household id"),
    )

    def get_queryset(self):
        require_perm(self.request.user, "resources.view_need")
        return (_needs().visible_to(self.request.user, "resources.view_need")
                .order_by("priority", "needed_by", "raised_at", "pk"))

    @extend_schema(tags=TAGS, responses={200: NeedSerializer(many=True), **LIST_ERRORS})
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(tags=TAGS, request=NeedIn, responses={201: NeedSerializer, **WRITE_ERRORS})
    def post(self, request):
        from gongzhi.care.models import CarePlan
        from gongzhi.village.models import Meeting

        user = request.user
        require_perm(user, "resources.add_need")
        d = _input(NeedIn, request)
        case = _in(Case.objects.visible_to(user, "cases.view_case"), d.get("case"), "case", "所选事项不存在")
        care_plan = _in(CarePlan.objects.visible_to(user, "care.view_careplan"), d.get("care_plan"), "care_plan",
                        "所选帮扶计划不存在")
        meeting = _in(Meeting.objects.visible_to(user, "village.view_meeting"), d.get("meeting"), "meeting",
                      "所选会议不存在")
        household = _in(Household.objects.visible_to(user, "registry.view_household"), d.get("household"),
                        "household", "所选户不存在")
        place = _region(d.get("place"))
        if place is not None:
            _in_territory(request, place, "resources.add_need")
        source = (NeedSource.CASE if case else NeedSource.CARE_PLAN if care_plan else
                  NeedSource.MEETING if meeting else NeedSource.DIRECT)
        need = services.need_raise(
            actor=user, title=d["title"], kind=d["kind"], quantity=d["quantity"], unit=d["unit"],
            priority=d["priority"], place=place, household=household,
            grid=_grid(d.get("grid")),
            description=d["description"], emergency_note=d["emergency_note"], recipient_name=d["recipient_name"],
            needed_by=d.get("needed_by"), source=source, case=case, care_plan=care_plan, meeting=meeting)
        return Response(NeedSerializer(_needs().get(pk=need.pk)).data, status=status.HTTP_201_CREATED)


# ---------------------------------------------------------------------------------------------
# allocations and deliveries


@_component("MatchReason")
class ReasonSerializer(serializers.Serializer):
    points = serializers.IntegerField()
    why = serializers.CharField()


@_component("Allocation")
class AllocationSerializer(serializers.ModelSerializer):
    resource_name = serializers.CharField(source="resource.name", read_only=True)
    unit = serializers.CharField(source="resource.unit", read_only=True)
    reasons = ReasonSerializer(source="explanation", many=True, read_only=True,
                               help_text="Why this resource, as ranked when it was reserved.")
    reserved_by_name = _UserName("reserved_by")

    class Meta:
        model = Allocation
        fields = ["id", "need", "resource", "resource_name", "unit", "quantity", "dispatched", "status", "score",
                  "reasons", "reserved_by_name", "reserved_at"]
        extra_kwargs = {"quantity": {"help_text": "Reserved and not yet dispatched."}}


def _allocations():
    return Allocation.objects.select_related("resource", "reserved_by")


@_component("Delivery")
class DeliverySerializer(serializers.ModelSerializer):
    need = serializers.IntegerField(source="allocation.need_id", read_only=True)
    resource_name = serializers.CharField(source="allocation.resource.name", read_only=True)
    method = serializers.CharField(read_only=True, help_text="How the recipient confirmed (blank until then): "
                                                             + _choices_help(ConfirmationMethod.choices))
    note = _Redacted()
    sent_by_name = _UserName("sent_by")
    confirmed_by_name = _UserName("confirmed_by")

    class Meta:
        model = Delivery
        fields = ["id", "allocation", "need", "resource_name", "quantity", "carrier", "sent_by_name", "sent_at",
                  "status", "received_quantity", "returned_quantity", "recipient_name", "method", "confirmed_by_name",
                  "confirmed_at", "note"]


def _deliveries():
    return Delivery.objects.select_related("allocation__resource", "sent_by", "confirmed_by")


@_component("NeedDetail")
class NeedDetailSerializer(serializers.Serializer):
    need = NeedSerializer()
    allocations = AllocationSerializer(many=True, help_text="Its reservations the caller may read.")
    deliveries = DeliverySerializer(many=True, help_text="Its deliveries the caller may read, latest first.")


@extend_schema(tags=TAGS, responses={200: NeedDetailSerializer, **READ_ERRORS})
class NeedDetailAPI(APIView):
    """One need, with its reservations and deliveries."""

    def get(self, request, pk):
        user = request.user
        need = access_object(_needs(), user, "resources.view_need", pk=pk)
        data = {"need": need,
                "allocations": list(_allocations().visible_to(user, "resources.view_allocation").filter(need=need)),
                "deliveries": list(_deliveries().visible_to(user, "resources.view_delivery")
                                   .filter(allocation__need=need))}
        return Response(NeedDetailSerializer(data).data)


@_component("Candidate")
class CandidateSerializer(serializers.Serializer):
    resource = serializers.IntegerField()
    name = serializers.CharField()
    owner_name = serializers.CharField()
    place = serializers.IntegerField()
    place_name = serializers.CharField()
    unit = serializers.CharField()
    on_hand = serializers.IntegerField()
    reserved = serializers.IntegerField()
    emergency_reserve = serializers.BooleanField()
    score = serializers.IntegerField(help_text="The sum of the reasons' points.")
    available = serializers.BooleanField(help_text="Whether it can serve this need at all.")
    claimable = serializers.IntegerField(help_text="What this need may take: what is left once needs of a higher "
                                                   "priority in its reach have what they lack.")
    refusal = serializers.CharField(help_text="Why it cannot serve (suspended, used up, an emergency reserve, "
                                              "claimed by more urgent needs).")
    reasons = ReasonSerializer(many=True)
    can_reserve = serializers.BooleanField(help_text="Whether the caller keeps it and may reserve from it (a village "
                                                     "reads the county's pool, its keeper draws on it).")


@_component("Candidates")
class CandidatesSerializer(serializers.Serializer):
    need = NeedSerializer()
    candidates = CandidateSerializer(many=True, help_text="Those that can serve first, best first; then those that "
                                                          "cannot, with the reason.")


@extend_schema(tags=TAGS, responses={200: CandidatesSerializer, **READ_ERRORS})
class NeedCandidatesAPI(APIView):
    """The inventory ranked for the need (read only), each resource with its points and why: place, coverage,
    readiness, and what more urgent needs claim of it."""

    def get(self, request, pk):
        user = request.user
        need = access_object(_needs(), user, "resources.view_need", pk=pk)
        require_perm(user, "resources.view_resource")
        candidates = services.candidates_for(user, need)
        ids = [c.resource.pk for c in candidates]
        kept = set(Resource.objects.visible_by(user, "resources.add_allocation", KEEPER_RULE)
                   .filter(pk__in=ids).values_list("pk", flat=True))
        rows = []
        for candidate in candidates:
            resource = candidate.resource
            rows.append({**candidate.as_dict(), "name": resource.name, "owner_name": resource.owner_name,
                         "place": resource.place_id, "place_name": resource.place.name, "unit": resource.unit,
                         "on_hand": resource.on_hand, "reserved": resource.reserved,
                         "emergency_reserve": resource.emergency_reserve, "can_reserve": resource.pk in kept})
        return Response(CandidatesSerializer({"need": need, "candidates": rows}).data)


@_component("Reserve")
class ReserveIn(serializers.Serializer):
    resource = _id(help_text="A resource the caller keeps (see the need's candidates).")
    quantity = _quantity(required=False, allow_null=True,
                         help_text="Default: what the need still lacks, as far as the resource may give.")


@extend_schema(tags=TAGS, request=ReserveIn, responses={201: AllocationSerializer, **WRITE_ERRORS})
class NeedReserveAPI(APIView):
    """预留: reserve part of a resource for the need, re-ranked under both row locks. A lower grade may take only
    what more urgent needs in the resource's reach do not still lack; an emergency reserve serves emergencies only;
    only whoever keeps the resource draws on it."""

    def post(self, request, pk):
        user = request.user
        need = access_object(Need.objects.all(), user, "resources.add_allocation", pk=pk)
        d = _input(ReserveIn, request)
        resource = _in(Resource.objects.visible_to(user, "resources.view_resource"), d["resource"], "resource",
                       "没有这项资源")
        allocation = services.reserve(actor=user, need=need, resource=resource, quantity=d.get("quantity"))
        return Response(AllocationSerializer(_allocations().get(pk=allocation.pk)).data,
                        status=status.HTTP_201_CREATED)


@_component("NeedClose")
class CloseIn(serializers.Serializer):
    note = _text(300, help_text="Why: met another way, no longer needed …")
    cancel = serializers.BooleanField(default=False, help_text="true: cancelled (raised in error) rather than closed "
                                                               "short.")


@extend_schema(tags=TAGS, request=CloseIn, responses={200: NeedSerializer, **WRITE_ERRORS})
class NeedCloseAPI(APIView):
    """Close a need short or cancel it; what it has reserved and not dispatched goes back to stock. Not while a
    delivery is under way."""

    def post(self, request, pk):
        need = access_object(Need.objects.all(), request.user, "resources.change_need", pk=pk)
        d = _input(CloseIn, request)
        need = services.need_close(actor=request.user, need=need, note=d["note"], cancel=d["cancel"])
        return Response(NeedSerializer(_needs().get(pk=need.pk)).data)


@_component("Release")
class ReleaseIn(serializers.Serializer):
    reason = _text(300)
    quantity = _quantity(required=False, allow_null=True, help_text="Default: all that is reserved and not "
                                                                    "dispatched.")


@extend_schema(tags=TAGS, request=ReleaseIn, responses={200: AllocationSerializer, **WRITE_ERRORS})
class AllocationReleaseAPI(APIView):
    """释放预留: give back what is reserved and not dispatched, by whoever keeps the resource."""

    def post(self, request, pk):
        allocation = access_object(Allocation.objects.all(), request.user, "resources.add_allocation", pk=pk)
        d = _input(ReleaseIn, request)
        allocation = services.release(actor=request.user, allocation=allocation, reason=d["reason"],
                                      quantity=d.get("quantity"))
        return Response(AllocationSerializer(_allocations().get(pk=allocation.pk)).data)


@_component("DispatchOrder")
class DispatchIn(serializers.Serializer):
    quantity = _quantity(required=False, allow_null=True, help_text="Default: all that is reserved and not "
                                                                    "dispatched.")
    carrier = _optional_text(100, help_text="Who carries it.")


@_component("Dispatched")
class DispatchedSerializer(serializers.Serializer):
    delivery = DeliverySerializer()
    receipt_code = serializers.CharField(help_text="The six-digit receipt code, shown this once (it is sent to the "
                                                   "recipient by SMS when their phone is known; only its hash is "
                                                   "kept). The recipient gives it to whoever hands the goods over.")


@extend_schema(tags=TAGS, request=DispatchIn, responses={201: DispatchedSerializer, **WRITE_ERRORS})
class AllocationDispatchAPI(APIView):
    """出库发放: send part of a reservation. The answer holds the delivery and its receipt code, once."""

    def post(self, request, pk):
        allocation = access_object(Allocation.objects.all(), request.user, "resources.add_delivery", pk=pk)
        d = _input(DispatchIn, request)
        delivery, code = services.dispatch(actor=request.user, allocation=allocation, quantity=d.get("quantity"),
                                           carrier=d["carrier"])
        data = {"delivery": _deliveries().get(pk=delivery.pk), "receipt_code": code}
        return Response(DispatchedSerializer(data).data, status=status.HTTP_201_CREATED)


@_component("DeliveryConfirm")
class ConfirmIn(serializers.Serializer):
    received = _quantity(0, help_text="What arrived (0: nothing did).")
    recipient_name = _text(100, help_text="Who received it.")
    method = _one_of(ConfirmationMethod.choices, help_text="How they confirmed: signed (on the handset), code (the "
                                                           "receipt code they were sent), phone, proxy (a named "
                                                           "proxy: say who in the note).")
    code = serializers.CharField(max_length=20, required=False, allow_blank=True, default="",
                                 help_text="method code: the six-digit receipt code.")
    shortfall = serializers.ChoiceField(choices=[("returned", "back to stock"), ("lost", "lost (say how in the note)")],
                                        default="returned", help_text="What became of what was sent and did not "
                                                                      "arrive.")
    note = _optional_text(300)


@extend_schema(tags=TAGS, request=ConfirmIn, responses={200: DeliverySerializer, **WRITE_ERRORS})
class DeliveryConfirmAPI(APIView):
    """签收: the recipient's confirmation of what arrived, who received it and how. What did not arrive goes back
    to stock or is recorded as lost; a case behind the need is told."""

    def post(self, request, pk):
        delivery = access_object(Delivery.objects.all(), request.user, "resources.confirm_delivery", pk=pk)
        d = _input(ConfirmIn, request)
        delivery = services.confirm_delivery(actor=request.user, delivery=delivery, received=d["received"],
                                             recipient_name=d["recipient_name"], method=d["method"], code=d["code"],
                                             shortfall=d["shortfall"], note=d["note"])
        return Response(DeliverySerializer(_deliveries().get(pk=delivery.pk)).data)


@_component("DeliveryReturn")
class ReturnIn(serializers.Serializer):
    quantity = _quantity()
    reason = _text(300)


@extend_schema(tags=TAGS, request=ReturnIn, responses={200: DeliverySerializer, **WRITE_ERRORS})
class DeliveryReturnAPI(APIView):
    """退回: after receipt, part comes back (surplus, the wrong item); it returns to stock and the need counts it as
    not delivered."""

    def post(self, request, pk):
        delivery = access_object(Delivery.objects.all(), request.user, "resources.confirm_delivery", pk=pk)
        d = _input(ReturnIn, request)
        delivery = services.delivery_return(actor=request.user, delivery=delivery, quantity=d["quantity"],
                                            reason=d["reason"])
        return Response(DeliverySerializer(_deliveries().get(pk=delivery.pk)).data)


# ---------------------------------------------------------------------------------------------
# the queue and the overview


@_component("QueueReserve")
class QueueReserveIn(serializers.Serializer):
    county = _optional_id("The county; default: the caller's own (when they work in one).")
    kind = _one_of(Kind.choices, required=False, allow_null=True,
                   help_text="Only needs and resources of this type: " + ", ".join(Kind.values) + ".")
    limit = serializers.IntegerField(min_value=1, max_value=200, default=200, help_text="At most this many "
                                                                                       "reservations.")


@_component("QueueReserved")
class QueueReservedSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    allocations = AllocationSerializer(many=True, help_text="The reservations made, in queue order.")


@extend_schema(tags=TAGS, request=QueueReserveIn, responses={200: QueueReservedSerializer, **WRITE_ERRORS})
class QueueReserveAPI(APIView):
    """按优先级调度: apply the dispatch queue's proposal within the caller's scope — needs in priority order, each
    given the best resource the caller keeps that is still free — one reservation at a time, each re-checked under
    its locks (what changed meanwhile is skipped; the next run sees it)."""

    def post(self, request):
        user = request.user
        require_perm(user, "resources.add_allocation")
        d = _input(QueueReserveIn, request)
        counties = counties_of(user, "resources.add_allocation")
        if d.get("county") is None:
            if not counties or len(counties) != 1:
                raise _missing("county", "请选择县")
            county = Region.objects.get(pk=next(iter(counties)))
        else:
            county = _in(Region.objects.all(), d["county"], "county", "没有这个县", level=RegionLevel.COUNTY)
            if counties is not None and county.pk not in counties:
                raise Http404
        made = services.reserve_by_priority(actor=user, county=county, kind=d.get("kind") or None, limit=d["limit"])
        allocations = list(_allocations().filter(pk__in=[a.pk for a in made]).order_by("pk"))
        return Response(QueueReservedSerializer({"count": len(allocations), "allocations": allocations}).data)


@_component("KindTotal")
class KindTotalSerializer(serializers.Serializer):
    kind = serializers.CharField(help_text="A resource type (see ResourcesResource.kind).")
    resources = serializers.IntegerField()
    on_hand = serializers.IntegerField()
    reserved = serializers.IntegerField()


@_component("PriorityTotal")
class PriorityTotalSerializer(serializers.Serializer):
    priority = serializers.IntegerField(help_text="1 emergency, 2 basic livelihood, 3 other.")
    label = serializers.CharField()
    open_needs = serializers.IntegerField()


@_component("Overview")
class OverviewSerializer(serializers.Serializer):
    resources = serializers.IntegerField(help_text="Resources in the inventory the caller may read.")
    by_kind = KindTotalSerializer(many=True)
    open_needs = serializers.IntegerField()
    open_by_priority = PriorityTotalSerializer(many=True)
    delivered_needs = serializers.IntegerField()
    under_way = serializers.IntegerField(help_text="Deliveries sent and not yet confirmed.")
    confirmed = serializers.IntegerField(help_text="Deliveries confirmed by their recipients.")
    emergency_waiting = serializers.IntegerField(help_text="Open emergencies with nothing reserved or delivered yet.")


@extend_schema(tags=TAGS, responses={200: OverviewSerializer, **api_errors(401, 403)})
class OverviewAPI(APIView):
    """The inventory and the queue in figures, within the caller's scope."""

    def get(self, request):
        require_perm(request.user, "resources.view_resource")
        figures = selectors.overview(request.user)
        data = {**figures,
                "by_kind": [{"kind": row["kind"], "resources": row["n"], "on_hand": row["on_hand"] or 0,
                             "reserved": row["reserved"] or 0} for row in figures["by_kind"]],
                "open_by_priority": [{"priority": int(p), "label": str(label), "open_needs": n}
                                     for p, label, n in figures["open_by_priority"]]}
        return Response(OverviewSerializer(data).data)
