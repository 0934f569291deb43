"""The intake JSON API (DRF, one APIView per operation), routed under /api/intake/.

* ``POST /api/intake/cases/`` — staff intake for systems (a hotline's CTI, a grid app): the same
  form as the page, with an ``Idempotency-Key`` header; the answer (case, tracking code, likely
  duplicates) is stored with the key and returned unchanged on a retry (``Idempotent-Replayed``).
* ``GET /api/intake/cases/{id}/duplicates/`` and ``POST …/merge/`` — the dispatcher's duplicates.
* ``GET /api/intake/clusters/`` — repeated matters from one place.
Anonymous filing goes through Open311 (``/open311/v2/requests.json``), not here.
"""
from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from gongzhi.cases.models import Case
from gongzhi.core.api import ScopedPermission, api_errors, error_response
from gongzhi.core.pagination import paginated_response, paginated_schema, pagination_parameters
from gongzhi.core.scoping import access_object
from gongzhi.registry.models import Grid, Person, Region, RegionLevel

from . import conf, duplicates, services
from .forms import STAFF_CHANNELS
from .idempotency import KeyInvalid, KeyReused, validate_key
from .parsing import Errors, staff_fields

DISPATCH = "cases.dispatch_case"
IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key", OpenApiTypes.STR, OpenApiParameter.HEADER, required=False,
    description="8–128 characters of letters, digits, '-', '_', ':', '.'. The same key again returns the first "
                "answer (header Idempotent-Replayed: true) and creates nothing; with a different body: 422.")


class _PermAPI(APIView):
    permission_classes = [ScopedPermission]
    perm = "cases.view_case"

    def required_perm(self) -> str:
        return self.perm


# ---------------------------------------------------------------------------------------------
# serializers


class IntakeInputSerializer(serializers.Serializer):
    channel = serializers.CharField(help_text="hotline, window, grid_patrol, three_line, wechat, mini_program")
    description = serializers.CharField(max_length=8000, help_text="诉求内容（最多4000字）")
    title = serializers.CharField(required=False, allow_blank=True, max_length=400)
    category = serializers.CharField(required=False, allow_blank=True, help_text="category code (Open311 service_code); "
                                     "blank: 待分类")
    village = serializers.IntegerField(help_text="region id of the village/community")
    grid = serializers.IntegerField(required=False, allow_null=True)
    address = serializers.CharField(required=False, allow_blank=True, max_length=400)
    latitude = serializers.CharField(required=False, allow_blank=True, max_length=20)
    longitude = serializers.CharField(required=False, allow_blank=True, max_length=20)
    person = serializers.IntegerField(required=False, allow_null=True, help_text="registry person id of the requester")
    requester_name = serializers.CharField(required=False, allow_blank=True, max_length=100)
    requester_phone = serializers.CharField(required=False, allow_blank=True, max_length=40)
    anonymous = serializers.BooleanField(required=False, default=False)
    complained_text = serializers.CharField(required=False, allow_blank=True, max_length=400)


class SuggestionSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="case.pk")
    number = serializers.CharField(source="case.number")
    title = serializers.CharField(source="case.title")
    status = serializers.CharField(source="case.status")
    received_at = serializers.DateTimeField(source="case.received_at")
    similarity = serializers.FloatField(source="text_similarity")
    distance_m = serializers.FloatField(allow_null=True)
    reasons = serializers.ListField(child=serializers.CharField())


class IntakeOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    tracking_code = serializers.CharField()
    status = serializers.CharField()
    channel = serializers.CharField()
    duplicates = SuggestionSerializer(many=True)


class MergeInputSerializer(serializers.Serializer):
    primary = serializers.IntegerField(help_text="id of the case to merge into")
    note = serializers.CharField(required=False, allow_blank=True, max_length=500)


class MergeOutputSerializer(serializers.Serializer):
    duplicate = serializers.CharField(source="duplicate.number")
    primary = serializers.CharField(source="primary.number")
    merged_at = serializers.DateTimeField()


class ClusterCaseSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    number = serializers.CharField()
    title = serializers.CharField()
    status = serializers.CharField()


class ClusterSerializer(serializers.Serializer):
    place = serializers.CharField()
    village = serializers.IntegerField(source="village.pk", allow_null=True, default=None)
    grid = serializers.IntegerField(source="grid.pk", allow_null=True, default=None)
    category = serializers.CharField(source="category.code")
    category_name = serializers.CharField(source="category.name")
    count = serializers.IntegerField()
    open = serializers.IntegerField()
    first = serializers.DateTimeField()
    latest = serializers.DateTimeField()
    cases = ClusterCaseSerializer(many=True)


# ---------------------------------------------------------------------------------------------
# views


def _parse(user, data: dict) -> tuple[str, services.IntakeInput]:
    from . import selectors

    errors = Errors()
    channel = data["channel"]
    if channel not in {c.value for c in STAFF_CHANNELS}:
        errors["channel"] = [f"可选：{', '.join(c.value for c in STAFF_CHANNELS)}"]
    fields = staff_fields(data, errors)
    village = Region.objects.filter(pk=data["village"], level=RegionLevel.VILLAGE).first()
    if village is None:
        errors["village"] = ["没有这个村（社区）"]
    grid = None
    if data.get("grid"):
        grid = Grid.objects.filter(pk=data["grid"]).select_related("region").first()
        if grid is None or (village is not None and grid.village_id != village.pk):
            errors["grid"] = ["网格不在所选的村（社区）"]
    person = None
    if data.get("person"):
        person = Person.objects.visible_to(user, "registry.view_person").filter(pk=data["person"]).first()
        if person is None:
            errors["person"] = ["没有找到这位群众"]
    category = None
    if data.get("category") and village is not None:
        category = selectors.category_in_county(Region.objects.get(pk=village.county_id), data["category"])
        if category is None:
            errors["category"] = ["没有这个类别"]
    if errors:
        raise ValidationError(errors)
    return channel, services.IntakeInput(
        description=fields["description"], title=fields["title"], category=category,
        region=grid.region if grid else village, grid=grid, address=fields["address"], latitude=fields["latitude"],
        longitude=fields["longitude"], requester=person, requester_name="" if person else fields["requester_name"],
        requester_phone=fields["requester_phone"], anonymous=data.get("anonymous", False),
        complained_text=fields["complained_text"])


class IntakeCaseCreateAPI(_PermAPI):
    perm = "cases.add_case"

    @extend_schema(operation_id="intake_case_create", request=IntakeInputSerializer,
                   parameters=[IDEMPOTENCY_HEADER],
                   responses={201: IntakeOutputSerializer, **api_errors(400, 401, 403)},
                   description="Register a matter on a resident's behalf (idempotent with Idempotency-Key).")
    def post(self, request):
        try:
            key = validate_key(request.headers.get("Idempotency-Key"))
        except KeyInvalid:
            return error_response("invalid", "Idempotency-Key 应为8到128个字母、数字或 -_:.")
        serializer = IntakeInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        channel, data = _parse(request.user, serializer.validated_data)
        user = request.user

        def answer(case, submission):
            found = duplicates.duplicate_candidates(user=user, case=case)
            return IntakeOutputSerializer({"id": case.pk, "number": case.number, "tracking_code": case.tracking_code,
                                           "status": case.status, "channel": case.channel,
                                           "duplicates": found}).data

        try:
            result = services.intake_submit(actor=user, channel=channel, data=data, scope=f"api:{user.pk}", key=key,
                                            answer=lambda case, sub: dict(answer(case, sub)))
        except KeyReused:
            return error_response("idempotency_key_reused", "Idempotency-Key 已用于另一个不同的请求",
                                  http_status=status.HTTP_422_UNPROCESSABLE_ENTITY)
        except PermissionDenied:
            return error_response("permission_denied", "所选地点不在您的登记范围内", http_status=status.HTTP_403_FORBIDDEN)
        response = Response(result.response, status=status.HTTP_201_CREATED)
        if result.replayed:
            response["Idempotent-Replayed"] = "true"
        return response


class CaseDuplicatesAPI(_PermAPI):
    perm = DISPATCH

    @extend_schema(operation_id="intake_case_duplicates", responses={200: SuggestionSerializer(many=True),
                                                                     **api_errors(401, 403, 404)})
    def get(self, request, pk: int):
        case = access_object(Case.objects.all(), request.user, DISPATCH, pk=pk)
        found = duplicates.duplicate_candidates(user=request.user, case=case, perm=DISPATCH)
        return Response(SuggestionSerializer(found, many=True).data)


class CaseMergeAPI(_PermAPI):
    perm = DISPATCH

    @extend_schema(operation_id="intake_case_merge", request=MergeInputSerializer,
                   responses={200: MergeOutputSerializer, **api_errors(400, 401, 403, 404)},
                   description="Merge this case (a duplicate waiting for acceptance) into `primary`.")
    def post(self, request, pk: int):
        duplicate = access_object(Case.objects.all(), request.user, DISPATCH, pk=pk)
        serializer = MergeInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        primary = access_object(Case.objects.all(), request.user, DISPATCH, pk=serializer.validated_data["primary"])
        merge = services.case_merge(actor=request.user, duplicate=duplicate, primary=primary,
                                    note=serializer.validated_data.get("note", ""))
        return Response(MergeOutputSerializer(merge).data)


class ClusterListAPI(_PermAPI):
    perm = "cases.view_case"

    @extend_schema(operation_id="intake_clusters", parameters=[
        OpenApiParameter("days", OpenApiTypes.INT, description="period ending now (default 90, at most 366)"),
        OpenApiParameter("min", OpenApiTypes.INT, description="at least this many cases (default 3)"),
        *pagination_parameters()],
        responses={200: paginated_schema(ClusterSerializer, "PaginatedClusterList"), **api_errors(400, 401, 403)})
    def get(self, request):
        try:
            days = int(request.query_params.get("days", "90"))
            minimum = int(request.query_params.get("min", conf.cluster_min_cases()))
        except ValueError:
            return error_response("invalid", "days 和 min 必须是整数")
        if not (1 <= days <= 366) or not (2 <= minimum <= 1000):
            return error_response("invalid", "days 应在1到366之间，min 应在2到1000之间")
        end = timezone.now()
        rows = duplicates.ClusterPages(user=request.user, start=end - dt.timedelta(days=days), end=end,
                                       min_cases=minimum)
        return paginated_response(request, rows, ClusterSerializer, view=self)
