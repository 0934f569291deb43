"""Viewsets of the registry API, mounted under /api/ (``gongzhi/registry/api_urls.py``).

Every endpoint follows the same rules, carried by ``gongzhi.core.api.ScopedViewSet``:

* its queryset starts from ``Model.objects.visible_to(user, perm)`` for the permission the action
  needs (view for reads, add/change/delete for writes, ``reveal_person`` for the reveal);
* a caller holding that permission nowhere gets **403**; a row outside their scope **404**;
* writes go through ``gongzhi.registry.services`` (never ``Model.save`` here), which re-check
  scope inside their transaction and write the audit row with the request id;
* ID numbers and phones leave masked; ``POST /persons/{id}/reveal/`` is the one audited way to
  read a clear value;
* lists are paginated (limit/offset) and have a fixed number of queries whatever the page size.
"""
from __future__ import annotations

import re

from django.db.models import Prefetch, Q
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from gongzhi.core.api import ListFilter, ScopedPermission, ScopedViewSet, api_errors, field_error
from gongzhi.core.idcard import normalize_id_number
from gongzhi.core.scoping import access_object
from gongzhi.registry import geometry, services
from gongzhi.registry.models import (
    CentralHouseholdHead, ContactAssignment, ContactLine, Department, Deputy, DeputyLevel, Grid, Household,
    HouseholdMembership, PartyMembership, PartyOrganization, PartyOrgKind, Person, PersonStatus, PovertyStatus,
    Region,
)

from . import serializers as s

REVEAL_PERM = "registry.reveal_person"
READ_ERRORS = api_errors(401, 403, 404)
WRITE_ERRORS = api_errors(400, 401, 403, 404)
LIST_ERRORS = api_errors(400, 401, 403)


class ReadOnlyScopedViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    pass


# ---------------------------------------------------------------------------------------------
# filter helpers


def _eq(column: str):
    return lambda qs, value, request: qs.filter(**{column: value})


def _under_region(qs, region_id, request):
    """Rows in a region or anywhere below it. A region's id only ever appears in the cached
    column of its own level (or in ``region`` for a villager group), so the OR of the columns is
    exactly its subtree: no tree walk, no extra query."""
    return qs.filter(Q(county_id=region_id) | Q(town_id=region_id) | Q(village_id=region_id)
                     | Q(region_id=region_id))


def _in_grid(prefix: str):
    """A grid and its sub-grids: its id appears as "/<id>/" in their materialised paths."""
    return lambda qs, grid_id, request: qs.filter(**{f"{prefix}path__contains": f"/{grid_id}/"})


_PHONE_SHAPE = re.compile(r"^(1\d{10}|0\d{2,3}-?\d{7,8})$")
_ID_SHAPE = re.compile(r"^\d{17}[\dX]$")


def _revealable(request):
    """Persons whose masked fields the caller could reveal. Searching by a full phone or ID number
    only matches these: for anyone else an exact-match search would be a way to test guesses
    against the masked digits."""
    return Person.objects.visible_to(request.user, REVEAL_PERM).values("pk")


def _phone_q(text: str, request) -> Q | None:
    compact = text.replace(" ", "")
    return Q(phone=compact, pk__in=_revealable(request)) if _PHONE_SHAPE.match(compact) else None


def _id_number_q(text: str, request) -> Q | None:
    number = normalize_id_number(text)
    return Q(id_number=number, pk__in=_revealable(request)) if _ID_SHAPE.match(number) else None


def _person_search_q(text: str, request) -> Q:
    q = Q(name__contains=text)
    if text.isascii() and text.isalpha():
        q |= Q(name_initials__startswith=text.lower())
    for exact in (_phone_q(text, request), _id_number_q(text, request)):
        if exact is not None:
            q |= exact
    return q


def _person_q(qs, text, request):
    return qs.filter(_person_search_q(text, request))


def _person_phone(qs, text, request):
    q = _phone_q(text, request)
    return qs.filter(q) if q is not None else qs.none()


def _household_q(qs, text, request):
    members = Person.objects.visible_to(request.user, "registry.view_person").filter(
        _person_search_q(text, request)).values("household_id")
    return qs.filter(Q(code__icontains=text) | Q(address__icontains=text) | Q(pk__in=members))


def _active(qs, value, request):
    return qs.filter(ended_on__isnull=value)


# ---------------------------------------------------------------------------------------------
# territory


@extend_schema_view(
    list=extend_schema(summary="Regions in the caller's scope", tags=["territory"],
                       responses={200: s.RegionSerializer(many=True), **LIST_ERRORS}),
    retrieve=extend_schema(summary="One region", tags=["territory"],
                           responses={200: s.RegionSerializer, **READ_ERRORS}),
)
class RegionViewSet(ReadOnlyScopedViewSet):
    model = Region
    serializer_class = s.RegionSerializer
    list_filters = (
        ListFilter("parent", _eq("parent_id"), description="Direct children of this region."),
        ListFilter("level", _eq("level"), description="1 county, 2 town, 3 village/community, 4 group/compound."),
        ListFilter("code", _eq("code"), kind=str, description="12- or 15-digit division code (exact)."),
    )

    @extend_schema(summary="Direct children of a region", tags=["territory"],
                   responses={200: s.RegionSerializer(many=True), **READ_ERRORS})
    @action(detail=True, methods=["get"])
    def children(self, request, pk=None):
        region = self.get_object()
        return self.paginated(self.get_queryset().filter(parent=region), s.RegionSerializer)


@extend_schema_view(
    list=extend_schema(summary="Grids in the caller's scope", tags=["territory"],
                       responses={200: s.GridSerializer(many=True), **LIST_ERRORS}),
    retrieve=extend_schema(summary="One grid", tags=["territory"],
                           responses={200: s.GridSerializer, **READ_ERRORS}),
)
class GridViewSet(ReadOnlyScopedViewSet):
    model = Grid
    serializer_class = s.GridSerializer
    list_filters = (
        ListFilter("village", _eq("village_id"), description="Grids of this village/community."),
        ListFilter("region", _eq("region_id"), description="Grids covering exactly this region."),
        ListFilter("parent", _eq("parent_id"), description="Direct sub-grids of this grid."),
        ListFilter("level", _eq("level"), description="1, 2 or 3."),
    )

    def optimize(self, queryset):
        return queryset.select_related("head", "worker")


# ---------------------------------------------------------------------------------------------
# households and persons


@extend_schema_view(
    list=extend_schema(summary="Households (一户一档) in the caller's scope", tags=["households"],
                       responses={200: s.HouseholdSerializer(many=True), **LIST_ERRORS}),
    retrieve=extend_schema(summary="One household with its members", tags=["households"],
                           responses={200: s.HouseholdDetailSerializer, **READ_ERRORS}),
)
class HouseholdViewSet(ReadOnlyScopedViewSet):
    model = Household
    list_filters = (
        ListFilter("region", _under_region, description="In this region or anywhere below it."),
        ListFilter("town", _eq("town_id"), description="In this town/subdistrict."),
        ListFilter("village", _eq("village_id"), description="In this village/community."),
        ListFilter("grid", _in_grid("grid__"), description="In this grid or its sub-grids."),
        ListFilter("code", _eq("code"), kind=str, description="Household number (exact)."),
        ListFilter("poverty_status", _eq("poverty_status"), kind=str, enum=tuple(PovertyStatus.values),
                   description="Poverty registration status."),
        ListFilter("q", _household_q, kind=str,
                   description="Household number or address contains; or a member's name, pinyin initials, "
                               "or (for callers who may reveal them) full phone or ID number."),
    )

    def get_serializer_class(self):
        return s.HouseholdSerializer if self.action == "list" else s.HouseholdDetailSerializer

    def optimize(self, queryset):
        members = Person.objects.visible_to(self.request.user, "registry.view_person")
        return queryset.prefetch_related(Prefetch("members", queryset=members))

    def _detail(self, household):
        fresh = Household.objects.visible_to(self.request.user, "registry.view_household")
        household = self.optimize(fresh).filter(pk=household.pk).first() or household
        return s.HouseholdDetailSerializer(household, context=self.get_serializer_context()).data

    @extend_schema(summary="Register a household", tags=["households"], request=s.HouseholdCreateInput,
                   responses={201: s.HouseholdDetailSerializer, **WRITE_ERRORS})
    def create(self, request):
        data = self.validated(s.HouseholdCreateInput, request.data)
        household = services.household_create(actor=request.user, **data)
        return Response(self._detail(household), status=status.HTTP_201_CREATED)

    @extend_schema(summary="Change a household (only the fields sent)", tags=["households"],
                   request=s.HouseholdUpdateInput, responses={200: s.HouseholdDetailSerializer, **WRITE_ERRORS})
    def partial_update(self, request, pk=None):
        household = self.get_object()
        data = self.validated(s.HouseholdUpdateInput, request.data)
        household = services.household_update(actor=request.user, household=household, **data)
        return Response(self._detail(household))

    @extend_schema(summary="Delete a household without members", tags=["households"], request=None,
                   responses={204: None, **WRITE_ERRORS})
    def destroy(self, request, pk=None):
        services.household_delete(actor=request.user, household=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema_view(
    list=extend_schema(summary="Persons in the caller's scope", tags=["persons"],
                       responses={200: s.PersonSerializer(many=True), **LIST_ERRORS}),
    retrieve=extend_schema(summary="One person", tags=["persons"],
                           responses={200: s.PersonSerializer, **READ_ERRORS}),
)
class PersonViewSet(ReadOnlyScopedViewSet):
    model = Person
    serializer_class = s.PersonSerializer
    action_perms = {"reveal": REVEAL_PERM, "memberships": "registry.view_householdmembership"}
    list_filters = (
        ListFilter("household", _eq("household_id"), description="Members of this household."),
        ListFilter("village", _eq("village_id"), description="Registered in this village/community."),
        ListFilter("status", _eq("status"), kind=str, enum=tuple(PersonStatus.values)),
        ListFilter("initials", lambda qs, v, r: qs.filter(name_initials__startswith=v.lower()), kind=str,
                   description="Pinyin initials prefix: zjg finds 张建国."),
        ListFilter("phone", _person_phone, kind=str,
                   description="Full phone number (exact). Matches only persons whose phone the caller may reveal."),
        ListFilter("q", _person_q, kind=str,
                   description="Name contains, or pinyin initials prefix, or (for callers who may reveal them) "
                               "a full phone or ID number."),
    )

    @extend_schema(summary="Register a person", tags=["persons"], request=s.PersonCreateInput,
                   responses={201: s.PersonSerializer, **WRITE_ERRORS})
    def create(self, request):
        data = self.validated(s.PersonCreateInput, request.data)
        person = services.person_create(actor=request.user, **data)
        return Response(s.PersonSerializer(person).data, status=status.HTTP_201_CREATED)

    @extend_schema(summary="Change a person (only the fields sent)", tags=["persons"], request=s.PersonUpdateInput,
                   responses={200: s.PersonSerializer, **WRITE_ERRORS})
    def partial_update(self, request, pk=None):
        person = self.get_object()
        data = self.validated(s.PersonUpdateInput, request.data)
        person = services.person_update(actor=request.user, person=person, **data)
        return Response(s.PersonSerializer(person).data)

    @extend_schema(summary="Reveal a masked field (audited)", tags=["persons"], request=s.RevealInput,
                   responses={200: s.RevealOutput, **WRITE_ERRORS})
    @action(detail=True, methods=["post"])
    def reveal(self, request, pk=None):
        person = self.get_object()  # scoped by registry.reveal_person: 403 nowhere, 404 out of scope
        field = self.validated(s.RevealInput, request.data)["field"]
        value = services.person_reveal_field(actor=request.user, person=person, field=field)
        response = Response(s.RevealOutput({"field": field, "value": value}).data)
        response["Cache-Control"] = "no-store"
        return response

    @extend_schema(summary="A person's household membership history", tags=["persons"],
                   responses={200: s.HouseholdMembershipSerializer(many=True), **READ_ERRORS})
    @action(detail=True, methods=["get"])
    def memberships(self, request, pk=None):
        person = access_object(Person.objects.all(), request.user, "registry.view_person", pk=pk)
        history = (HouseholdMembership.objects.visible_to(request.user, "registry.view_householdmembership")
                   .filter(person=person).select_related("household"))
        return self.paginated(history, s.HouseholdMembershipSerializer)


# ---------------------------------------------------------------------------------------------
# party, deputies, central household heads, departments, three-line contacts (read-only)


@extend_schema_view(
    list=extend_schema(summary="Party organisations", tags=["party"],
                       responses={200: s.PartyOrganizationSerializer(many=True), **LIST_ERRORS}),
    retrieve=extend_schema(summary="One party organisation", tags=["party"],
                           responses={200: s.PartyOrganizationSerializer, **READ_ERRORS}),
)
class PartyOrganizationViewSet(ReadOnlyScopedViewSet):
    model = PartyOrganization
    serializer_class = s.PartyOrganizationSerializer
    list_filters = (
        ListFilter("region", _under_region, description="In this region or anywhere below it."),
        ListFilter("parent", _eq("parent_id"), description="Direct sub-organisations."),
        ListFilter("kind", _eq("kind"), kind=str, enum=tuple(PartyOrgKind.values)),
    )

    def optimize(self, queryset):
        return queryset.select_related("secretary")


@extend_schema_view(
    list=extend_schema(summary="Party memberships", tags=["party"],
                       responses={200: s.PartyMembershipSerializer(many=True), **LIST_ERRORS}),
    retrieve=extend_schema(summary="One party membership", tags=["party"],
                           responses={200: s.PartyMembershipSerializer, **READ_ERRORS}),
)
class PartyMembershipViewSet(ReadOnlyScopedViewSet):
    model = PartyMembership
    serializer_class = s.PartyMembershipSerializer
    list_filters = (
        ListFilter("organization", _eq("organization_id")),
        ListFilter("person", _eq("person_id")),
        ListFilter("active", _active, kind=bool, description="true: current members only."),
    )

    def optimize(self, queryset):
        return queryset.select_related("person", "organization")


@extend_schema_view(
    list=extend_schema(summary="People's-congress deputies (人大代表)", tags=["party"],
                       responses={200: s.DeputySerializer(many=True), **LIST_ERRORS}),
    retrieve=extend_schema(summary="One deputy", tags=["party"],
                           responses={200: s.DeputySerializer, **READ_ERRORS}),
)
class DeputyViewSet(ReadOnlyScopedViewSet):
    model = Deputy
    serializer_class = s.DeputySerializer
    list_filters = (
        ListFilter("level", _eq("level"), kind=str, enum=tuple(DeputyLevel.values)),
        ListFilter("constituency", _eq("constituency_id")),
        ListFilter("person", _eq("person_id")),
    )

    def optimize(self, queryset):
        return queryset.select_related("person").order_by("id")


@extend_schema_view(
    list=extend_schema(summary="Central household heads (中心户长)", tags=["party"],
                       responses={200: s.CentralHouseholdHeadSerializer(many=True), **LIST_ERRORS}),
    retrieve=extend_schema(summary="One central household head", tags=["party"],
                           responses={200: s.CentralHouseholdHeadSerializer, **READ_ERRORS}),
)
class CentralHouseholdHeadViewSet(ReadOnlyScopedViewSet):
    model = CentralHouseholdHead
    serializer_class = s.CentralHouseholdHeadSerializer
    list_filters = (
        ListFilter("grid", _in_grid("grid__"), description="In this grid or its sub-grids."),
        ListFilter("village", _eq("village_id")),
        ListFilter("person", _eq("person_id")),
    )

    def optimize(self, queryset):
        return queryset.select_related("person").order_by("id")


@extend_schema_view(
    list=extend_schema(summary="Functional departments (条)", tags=["departments"],
                       responses={200: s.DepartmentSerializer(many=True), **LIST_ERRORS}),
    retrieve=extend_schema(summary="One department", tags=["departments"],
                           responses={200: s.DepartmentSerializer, **READ_ERRORS}),
)
class DepartmentViewSet(ReadOnlyScopedViewSet):
    model = Department
    serializer_class = s.DepartmentSerializer
    list_filters = (ListFilter("county", _eq("county_id")),)


@extend_schema_view(
    list=extend_schema(summary="Three-line contact assignments (三线联系)", tags=["contacts"],
                       responses={200: s.ContactAssignmentSerializer(many=True), **LIST_ERRORS}),
    retrieve=extend_schema(summary="One contact assignment", tags=["contacts"],
                           responses={200: s.ContactAssignmentSerializer, **READ_ERRORS}),
)
class ContactAssignmentViewSet(ReadOnlyScopedViewSet):
    model = ContactAssignment
    serializer_class = s.ContactAssignmentSerializer
    list_filters = (
        ListFilter("person", _eq("person_id"), description="The three-line person."),
        ListFilter("household", _eq("household_id")),
        ListFilter("line", _eq("line"), kind=str, enum=tuple(ContactLine.values)),
        ListFilter("active", _active, kind=bool, description="true: current assignments only."),
    )

    def optimize(self, queryset):
        return queryset.select_related("person", "household").order_by("id")


# ---------------------------------------------------------------------------------------------
# the map (一图总览): geometry of the territory as GeoJSON


class GeoJSONRenderer(JSONRenderer):
    media_type = "application/geo+json"
    format = "geojson"


class _GeometryPropertiesSerializer(serializers.Serializer):
    kind = serializers.CharField(help_text='"region" or "grid".')
    code = serializers.CharField(help_text="Division code (region) or grid code.")
    name = serializers.CharField()
    level = serializers.IntegerField(help_text="Region level (2 town, 3 village/community) or grid level (1-3).")
    region_kind = serializers.CharField(required=False, help_text="Regions only: town, township, subdistrict, "
                                                                  "village, community …")
    parent_id = serializers.IntegerField(allow_null=True)
    county_id = serializers.IntegerField(allow_null=True)
    town_id = serializers.IntegerField(allow_null=True)
    village_id = serializers.IntegerField(allow_null=True)
    region_id = serializers.IntegerField(required=False, help_text="Grids only: the region the grid covers.")
    lat = serializers.FloatField(allow_null=True, help_text="The centre (WGS84), null when not known.")
    lng = serializers.FloatField(allow_null=True)


class _GeometryFeatureSerializer(serializers.Serializer):
    type = serializers.CharField(help_text='Always "Feature".')
    id = serializers.IntegerField(help_text="The region's or grid's id.")
    properties = _GeometryPropertiesSerializer()
    geometry = serializers.JSONField(
        allow_null=True, help_text="A GeoJSON Polygon or MultiPolygon (the outline) when known, else a Point (the "
                                   "centre), else null. WGS84, [longitude, latitude].")


class GeometryCollectionSerializer(serializers.Serializer):
    type = serializers.CharField(help_text='Always "FeatureCollection".')
    features = _GeometryFeatureSerializer(many=True)
    bbox = serializers.ListField(child=serializers.FloatField(), allow_null=True, min_length=4, max_length=4,
                                 help_text="[west, south, east, north] of the features with geometry; null if none.")


class TerritoryGeometryView(APIView):
    """``GET /api/registry/geometry/?level=village``: what the county map draws, from the
    registry's own geometry (no tile server needed). Scoped like every read: towns and villages
    by ``registry.view_region``, grids by ``registry.view_grid``."""

    permission_classes = [ScopedPermission]
    renderer_classes = [GeoJSONRenderer, JSONRenderer]

    def required_perm(self) -> str:
        level = self.request.query_params.get("level", "village")
        return "registry.view_grid" if level == "grid" else "registry.view_region"

    @extend_schema(
        summary="Map geometry of the territory in the caller's scope (GeoJSON)", tags=["territory"],
        parameters=[
            OpenApiParameter("level", str, enum=list(geometry.LEVELS), default="village",
                             description="town, village (villages and communities) or grid."),
            OpenApiParameter("within", int, description="Only what lies in this region (a town's or a village's map)."),
        ],
        responses={200: GeometryCollectionSerializer, **LIST_ERRORS},
    )
    def get(self, request):
        level = request.query_params.get("level", "village").strip() or "village"
        if level not in geometry.LEVELS:
            raise field_error("level", f"可选值：{', '.join(geometry.LEVELS)}")
        within = request.query_params.get("within", "").strip() or None
        if within is not None:
            if not re.fullmatch(r"\d{1,18}", within):
                raise field_error("within", "必须是正整数")
            within = int(within)
        return Response(geometry.territory_features(request.user, level=level, within=within))
