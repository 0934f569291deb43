"""REST API of the volunteer module, under /api/volunteers/ (``api_urls.py``).

The linking API's shape: one APIView per operation with its own input and output serializers,
documented by drf-spectacular.

* Reads start from ``selectors`` or ``Model.objects.visible_to(user, perm)`` (lists) and
  ``access_object`` (one row): **403** when the caller holds the permission nowhere, **404** when
  the row lies outside their scope. A volunteer's own login reaches their own record, sign-ups,
  ledger and redemptions only.
* Writes are one call of ``gongzhi.volunteers.services`` each; the view checks types and resolves
  ids. The rules and their Chinese reasons are the services' — a refused assignment names the
  missing certification, a redemption beyond the points held or the stock says what there is —
  and come back as the structured 400 of ``core.api.exception_handler``
  (``{"error": {"code": "invalid", "fields": {...}}}``); a service's ``PermissionDenied`` with a
  Chinese reason is a 403 that keeps it.
* People appear as id and name only; a task for a resident's case shows the case's number, never
  its tracking code or who filed it.
* Choice sets are plain strings here (validated against their values, listed in the help text) so
  that no enum component collides with another app's ``status`` or ``kind``; every input is
  bounded, so a fuzzed request is a 400, never a database error.
"""
from __future__ import annotations

import re
from decimal import Decimal

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import exceptions, serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from gongzhi.cases.models import Case
from gongzhi.core.api import (
    FilteredListMixin, ListFilter, api_errors, date_field, datetime_field, field_error, filter_eq, id_field,
    optional_text_field, text_field, validated_input,
)
from gongzhi.core.scoping import access_object, counties_of, require_perm
from gongzhi.registry.models import Grid, Person, Region, RegionLevel

from . import selectors, services
from .models import (
    TAKING_A_SLOT, CatalogueItem, Certification, Field, ItemKind, PointsPosting, PointsTransaction, Redemption,
    RedemptionStatus, ServiceKind, ServiceTask, SignUp, TaskStatus, TransactionKind, Volunteer,
    VolunteerCategory, VolunteerStatus,
)

TAGS = ["volunteers"]
READ_ERRORS = api_errors(401, 403, 404)
WRITE_ERRORS = api_errors(400, 401, 403, 404)
LIST_ERRORS = api_errors(400, 401, 403)
_CJK = re.compile(r"[\u4e00-\u9fff]")


def _component(name: str):
    return extend_schema_serializer(component_name=f"Volunteers{name}")


def _one_of(choices, **kwargs) -> serializers.CharField:
    values = [str(value) for value, _label in choices]

    def check(value):
        if value not in values:
            raise serializers.ValidationError(f"可选值：{', '.join(values)}")

    kwargs.setdefault("help_text", "One of: " + ", ".join(values) + ".")
    return serializers.CharField(max_length=40, validators=[check], **kwargs)


def _label(field_name: str):
    return serializers.CharField(source=f"get_{field_name}_display", read_only=True)


def _in(queryset, pk, field, message, **where):
    if pk is None:
        return None
    row = queryset.filter(pk=pk, **where).first()
    if row is None:
        raise field_error(field, message)
    return row


class _Reasons:
    """A service's ``PermissionDenied`` with a Chinese reason ("不能确认自己的服务时长") stays a 403
    that says why."""

    def handle_exception(self, exc):
        if isinstance(exc, DjangoPermissionDenied) and exc.args and _CJK.search(str(exc.args[0])):
            exc = exceptions.PermissionDenied(str(exc.args[0]))
        return super().handle_exception(exc)


class _View(_Reasons, APIView):
    pass


class _List(_Reasons, FilteredListMixin, ListAPIView):
    pass


# ---------------------------------------------------------------------------------------------
# output serializers


@_component("Certification")
class CertificationSerializer(serializers.ModelSerializer):
    field = serializers.CharField(read_only=True)
    field_label = _label("field")
    level = serializers.IntegerField(read_only=True)
    level_label = _label("level")
    certified_by = serializers.CharField(source="certified_by.display_name", read_only=True)
    valid_today = serializers.SerializerMethodField()

    class Meta:
        model = Certification
        fields = ["id", "volunteer", "field", "field_label", "level", "level_label", "certifying_body",
                  "certificate_no", "certified_on", "expires_on", "certified_by", "revoked_at", "revoke_reason",
                  "valid_today"]

    def get_valid_today(self, obj) -> bool:
        from django.utils import timezone

        return obj.valid_on(timezone.localdate())


@_component("Volunteer")
class VolunteerSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="person.name", read_only=True)
    region_name = serializers.CharField(source="region.name", read_only=True)
    category = serializers.CharField(read_only=True)
    category_label = _label("category")
    status = serializers.CharField(read_only=True)
    status_label = _label("status")
    balance = serializers.SerializerMethodField()

    class Meta:
        model = Volunteer
        fields = ["id", "person", "name", "region", "region_name", "grid", "category", "category_label", "skills",
                  "joined_on", "status", "status_label", "status_reason", "balance"]

    def get_balance(self, obj) -> int:
        account = getattr(obj, "points_account", None)
        return account.balance if account else 0


@_component("VolunteerDetail")
class VolunteerDetailSerializer(VolunteerSerializer):
    certifications = CertificationSerializer(many=True, read_only=True)
    hours_confirmed = serializers.DecimalField(max_digits=10, decimal_places=1, read_only=True)
    sessions = serializers.IntegerField(read_only=True)
    points_earned = serializers.IntegerField(read_only=True)

    class Meta(VolunteerSerializer.Meta):
        fields = VolunteerSerializer.Meta.fields + ["certifications", "hours_confirmed", "sessions", "points_earned"]


def _volunteer_detail(volunteer, http_status=status.HTTP_200_OK):
    facts = selectors.facts_of(volunteer)
    volunteer = Volunteer.objects.select_related("person", "region", "points_account").get(pk=volunteer.pk)
    volunteer.hours_confirmed, volunteer.sessions, volunteer.points_earned = facts.hours, facts.sessions, facts.earned
    return Response(VolunteerDetailSerializer(volunteer).data, status=http_status)


@_component("ServiceKind")
class ServiceKindSerializer(serializers.ModelSerializer):
    required_field = serializers.CharField(read_only=True)
    requirement = serializers.CharField(read_only=True)

    class Meta:
        model = ServiceKind
        fields = ["id", "county", "name", "description", "required_field", "min_level", "requirement",
                  "points_per_hour", "max_hours", "active"]


@_component("SignUp")
class SignUpSerializer(serializers.ModelSerializer):
    volunteer_name = serializers.CharField(source="volunteer.person.name", read_only=True)
    status = serializers.CharField(read_only=True)
    status_label = _label("status")

    class Meta:
        model = SignUp
        fields = ["id", "task", "volunteer", "volunteer_name", "status", "status_label", "signed_up_at",
                  "assigned_at", "checked_in_at", "checked_out_at", "hours_claimed", "hours_confirmed",
                  "points_earned", "confirmed_at", "closed_reason"]


@_component("Task")
class TaskSerializer(serializers.ModelSerializer):
    kind_name = serializers.CharField(source="kind.name", read_only=True)
    requirement = serializers.CharField(source="kind.requirement", read_only=True)
    region_name = serializers.CharField(source="region.name", read_only=True)
    status = serializers.CharField(read_only=True)
    organiser = serializers.CharField(source="organiser.display_name", read_only=True)
    case_number = serializers.SerializerMethodField(help_text="The resident's case, by its number only.")
    taken = serializers.SerializerMethodField()

    class Meta:
        model = ServiceTask
        fields = ["id", "kind", "kind_name", "requirement", "title", "description", "region", "region_name",
                  "place", "starts_at", "ends_at", "slots", "taken", "organiser", "case_number", "status",
                  "cancel_reason"]

    def get_case_number(self, obj) -> str | None:
        return (obj.case.number or "编号待定") if obj.case_id else None

    def get_taken(self, obj) -> int:
        taken = getattr(obj, "taken", None)
        return taken if taken is not None else obj.signups.filter(status__in=TAKING_A_SLOT).count()


@_component("TaskDetail")
class TaskDetailSerializer(TaskSerializer):
    signups = serializers.SerializerMethodField()

    class Meta(TaskSerializer.Meta):
        fields = TaskSerializer.Meta.fields + ["signups"]

    def get_signups(self, obj) -> list[dict]:
        rows = selectors.signups_of(user=self.context["request"].user, task=obj)
        return SignUpSerializer(rows, many=True).data


@_component("Posting")
class PostingSerializer(serializers.ModelSerializer):
    kind = serializers.CharField(source="transaction.kind", read_only=True)
    kind_label = serializers.CharField(source="transaction.get_kind_display", read_only=True)
    reason = serializers.CharField(source="transaction.reason", read_only=True)
    by = serializers.CharField(source="transaction.created_by.display_name", default="系统", read_only=True)

    class Meta:
        model = PointsPosting
        fields = ["id", "transaction", "kind", "kind_label", "amount", "reason", "by", "created_at"]


@_component("Transaction")
class TransactionSerializer(serializers.ModelSerializer):
    kind = serializers.CharField(read_only=True)
    kind_label = _label("kind")
    volunteer_name = serializers.CharField(source="volunteer.person.name", read_only=True)
    by = serializers.CharField(source="created_by.display_name", default="系统", read_only=True)
    postings = serializers.SerializerMethodField()

    class Meta:
        model = PointsTransaction
        fields = ["id", "kind", "kind_label", "volunteer", "volunteer_name", "amount", "reason", "signup",
                  "redemption", "by", "created_at", "postings"]

    def get_postings(self, obj) -> list[dict]:
        return [{"account": p.account_id, "amount": p.amount} for p in obj.postings.all()]


@_component("CatalogueItem")
class CatalogueItemSerializer(serializers.ModelSerializer):
    kind = serializers.CharField(read_only=True)

    class Meta:
        model = CatalogueItem
        fields = ["id", "county", "name", "kind", "provider", "description", "points_cost", "stock", "active"]


@_component("Redemption")
class RedemptionSerializer(serializers.ModelSerializer):
    item_name = serializers.CharField(source="item.name", read_only=True)
    volunteer_name = serializers.CharField(source="volunteer.person.name", read_only=True)
    status = serializers.CharField(read_only=True)
    status_label = _label("status")

    class Meta:
        model = Redemption
        fields = ["id", "volunteer", "volunteer_name", "item", "item_name", "quantity", "points", "status",
                  "status_label", "created_at", "delivered_at", "cancelled_at", "cancel_reason"]


@_component("LedgerTotals")
class LedgerTotalsSerializer(serializers.Serializer):
    issued = serializers.IntegerField()
    redeemed = serializers.IntegerField()
    expired = serializers.IntegerField()
    corrected = serializers.IntegerField()
    held = serializers.IntegerField()
    balanced = serializers.BooleanField()


@_component("Overview")
class OverviewSerializer(serializers.Serializer):
    volunteers = serializers.IntegerField()
    corps = serializers.DictField(child=serializers.IntegerField(), help_text="Active volunteers by category.")
    hours = serializers.DecimalField(max_digits=12, decimal_places=1)
    sessions = serializers.IntegerField()
    by_town = serializers.ListField(child=serializers.DictField())
    by_village = serializers.ListField(child=serializers.DictField())
    by_kind = serializers.ListField(child=serializers.DictField())
    expiring = CertificationSerializer(many=True)
    refused = serializers.IntegerField(help_text="Sign-ups not assigned (e.g. without the certification).")
    ledger = LedgerTotalsSerializer(allow_null=True)


# ---------------------------------------------------------------------------------------------
# the county's view


@extend_schema(tags=TAGS, responses={200: OverviewSerializer, **READ_ERRORS})
class OverviewAPI(_View):
    """Analytics: the corps by category, hours and points by town, village and kind, certifications
    expiring in 30 days, refused assignments, and the ledger's totals (county-wide readers)."""

    def get(self, request):
        require_perm(request.user, "volunteers.view_volunteer_analytics")
        data = selectors.overview(user=request.user)
        for rows in (data.by_town, data.by_village, data.by_kind):
            for row in rows:
                for key in ("hours",):
                    row[key] = str(row[key] or 0)
        return Response(OverviewSerializer(data).data)


# ---------------------------------------------------------------------------------------------
# the corps


@_component("VolunteerNew")
class VolunteerIn(serializers.Serializer):
    person = id_field(help_text="A registry person the caller can see.")
    category = _one_of(VolunteerCategory.choices)
    region = id_field(required=False, allow_null=True, help_text="The village served; default: the person's.")
    grid = id_field(required=False, allow_null=True)
    joined_on = date_field(required=False, allow_null=True)
    skills = optional_text_field(300)


class VolunteerListCreateAPI(_List):
    """The corps in the caller's scope; POST registers a registry person as a volunteer."""

    serializer_class = VolunteerSerializer
    list_filters = (
        ListFilter("category", filter_eq("category"), kind=str, enum=tuple(VolunteerCategory.values)),
        ListFilter("status", filter_eq("status"), kind=str, enum=tuple(VolunteerStatus.values)),
        ListFilter("village", filter_eq("village_id")),
    )

    def get_queryset(self):
        require_perm(self.request.user, "volunteers.view_volunteer")
        return selectors.volunteers_for(user=self.request.user)

    @extend_schema(tags=TAGS, responses={200: VolunteerSerializer(many=True), **LIST_ERRORS})
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(tags=TAGS, request=VolunteerIn, responses={201: VolunteerDetailSerializer, **WRITE_ERRORS})
    def post(self, request):
        require_perm(request.user, "volunteers.add_volunteer")
        d = validated_input(VolunteerIn, request)
        person = _in(Person.objects.visible_to(request.user, "registry.view_person"), d["person"], "person",
                     "没有这位在册人员")
        region = _in(Region.objects.filter(level=RegionLevel.VILLAGE), d.get("region"), "region", "没有这个村（社区）")
        grid = _in(Grid.objects.all(), d.get("grid"), "grid", "没有这个网格")
        volunteer = services.volunteer_register(actor=request.user, person=person, category=d["category"],
                                                region=region, grid=grid, joined_on=d.get("joined_on"),
                                                skills=d["skills"])
        return _volunteer_detail(volunteer, status.HTTP_201_CREATED)


@extend_schema(tags=TAGS, responses={200: VolunteerDetailSerializer, **READ_ERRORS})
class VolunteerDetailAPI(_View):
    """One volunteer: certifications, confirmed hours, points balance."""

    def get(self, request, pk):
        return _volunteer_detail(access_object(Volunteer.objects.select_related("person", "region", "points_account"),
                                               request.user, "volunteers.view_volunteer", pk=pk))


@_component("VolunteerStatusChange")
class StatusIn(serializers.Serializer):
    status = _one_of(VolunteerStatus.choices)
    reason = optional_text_field(200)


@extend_schema(tags=TAGS, request=StatusIn, responses={200: VolunteerDetailSerializer, **WRITE_ERRORS})
class VolunteerStatusAPI(_View):
    """Pause, resume or end a volunteer's service (a reason unless resuming)."""

    def post(self, request, pk):
        volunteer = access_object(Volunteer.objects.all(), request.user, "volunteers.change_volunteer", pk=pk)
        d = validated_input(StatusIn, request)
        return _volunteer_detail(services.volunteer_set_status(actor=request.user, volunteer=volunteer,
                                                               status=d["status"], reason=d["reason"]))


@_component("CertificationNew")
class CertificationIn(serializers.Serializer):
    field = _one_of(Field.choices)
    level = serializers.IntegerField(min_value=1, max_value=3, help_text="1 初级, 2 中级, 3 高级.")
    certifying_body = text_field(100)
    certificate_no = optional_text_field(50)
    certified_on = date_field()
    expires_on = date_field()


class CertificationListCreateAPI(_List):
    """A volunteer's certifications (revoked ones included); POST records one, certified by the caller.
    An already-expired certificate is refused."""

    serializer_class = CertificationSerializer

    def get_queryset(self):
        volunteer = access_object(Volunteer.objects.all(), self.request.user, "volunteers.view_certification",
                                  pk=self.kwargs["pk"])
        return selectors.certifications_of(volunteer)

    @extend_schema(tags=TAGS, responses={200: CertificationSerializer(many=True), **READ_ERRORS})
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(tags=TAGS, request=CertificationIn, responses={201: CertificationSerializer, **WRITE_ERRORS})
    def post(self, request, pk):
        volunteer = access_object(Volunteer.objects.all(), request.user, "volunteers.add_certification", pk=pk)
        d = validated_input(CertificationIn, request)
        cert = services.certification_grant(actor=request.user, volunteer=volunteer, field=d["field"], level=d["level"],
                                            certifying_body=d["certifying_body"], certificate_no=d["certificate_no"],
                                            certified_on=d["certified_on"], expires_on=d["expires_on"])
        return Response(CertificationSerializer(cert).data, status=status.HTTP_201_CREATED)


@_component("Reason")
class ReasonIn(serializers.Serializer):
    reason = text_field(300)


@extend_schema(tags=TAGS, request=ReasonIn, responses={200: CertificationSerializer, **WRITE_ERRORS})
class CertificationRevokeAPI(_View):
    """Revoke a certification, with the reason (it is kept, never deleted)."""

    def post(self, request, pk):
        cert = access_object(Certification.objects.all(), request.user, "volunteers.change_certification", pk=pk)
        d = validated_input(ReasonIn, request)
        return Response(CertificationSerializer(services.certification_revoke(
            actor=request.user, certification=cert, reason=d["reason"])).data)


class LedgerAPI(_List):
    """The volunteer's points statement: every posting on their account, latest first."""

    serializer_class = PostingSerializer

    def get_queryset(self):
        volunteer = access_object(Volunteer.objects.all(), self.request.user, "volunteers.view_pointstransaction",
                                  pk=self.kwargs["pk"])
        return (PointsPosting.objects.visible_to(self.request.user, "volunteers.view_pointstransaction")
                .filter(account__volunteer=volunteer).select_related("transaction__created_by")
                .order_by("-created_at", "-id"))

    @extend_schema(tags=TAGS, responses={200: PostingSerializer(many=True), **READ_ERRORS})
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


@_component("Correction")
class CorrectionIn(serializers.Serializer):
    amount = serializers.IntegerField(min_value=-services.MAX_POINTS, max_value=services.MAX_POINTS,
                                      help_text="Points added (positive) or taken back (negative); not 0.")
    reason = text_field(300)


@extend_schema(tags=TAGS, request=CorrectionIn, responses={201: TransactionSerializer, **WRITE_ERRORS})
class CorrectionAPI(_View):
    """Correct a volunteer's points, county only, with the reason (a new transaction; nothing is edited)."""

    def post(self, request, pk):
        volunteer = access_object(Volunteer.objects.all(), request.user, "volunteers.correct_pointstransaction", pk=pk)
        d = validated_input(CorrectionIn, request)
        txn = services.points_correct(actor=request.user, volunteer=volunteer, amount=d["amount"], reason=d["reason"])
        return Response(TransactionSerializer(txn).data, status=status.HTTP_201_CREATED)


class TransactionListAPI(_List):
    """The points ledger's transactions in the caller's scope, latest first (each with its postings)."""

    serializer_class = TransactionSerializer
    list_filters = (
        ListFilter("kind", filter_eq("kind"), kind=str, enum=tuple(TransactionKind.values)),
        ListFilter("volunteer", filter_eq("volunteer_id")),
    )

    def get_queryset(self):
        require_perm(self.request.user, "volunteers.view_pointstransaction")
        return selectors.transactions_for(user=self.request.user).prefetch_related("postings")

    @extend_schema(tags=TAGS, responses={200: TransactionSerializer(many=True), **LIST_ERRORS})
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


# ---------------------------------------------------------------------------------------------
# the county's rules


@_component("ServiceKindChange")
class ServiceKindIn(serializers.Serializer):
    county = id_field()
    name = text_field(50)
    description = optional_text_field(300)
    required_field = serializers.CharField(max_length=20, required=False, allow_blank=True, default="",
                                           help_text="Empty: no certification needed. Else one of: "
                                                     + ", ".join(Field.values) + ".")
    min_level = serializers.IntegerField(min_value=1, max_value=3, required=False, allow_null=True)
    points_per_hour = serializers.IntegerField(min_value=1, max_value=1000)
    max_hours = serializers.DecimalField(max_digits=3, decimal_places=1, min_value=Decimal("0.5"), max_value=Decimal("12"))
    active = serializers.BooleanField(default=True)

    def validate_required_field(self, value):
        if value and value not in Field.values:
            raise serializers.ValidationError(f"可选值：{', '.join(Field.values)}")
        return value


def _kind_save(request, d, kind=None):
    county = _in(Region.objects.filter(level=RegionLevel.COUNTY), d["county"], "county", "没有这个县")
    return services.service_kind_save(actor=request.user, county=county, kind=kind, name=d["name"],
                                      description=d["description"], required_field=d["required_field"],
                                      min_level=d.get("min_level"), points_per_hour=d["points_per_hour"],
                                      max_hours=d["max_hours"], active=d["active"])


class ServiceKindListCreateAPI(_List):
    """The county's service kinds and what each requires; POST adds one (county only)."""

    serializer_class = ServiceKindSerializer

    def get_queryset(self):
        require_perm(self.request.user, "volunteers.view_servicekind")
        return selectors.kinds_for(user=self.request.user)

    @extend_schema(tags=TAGS, responses={200: ServiceKindSerializer(many=True), **LIST_ERRORS})
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(tags=TAGS, request=ServiceKindIn, responses={201: ServiceKindSerializer, **WRITE_ERRORS})
    def post(self, request):
        require_perm(request.user, "volunteers.add_servicekind")
        kind = _kind_save(request, validated_input(ServiceKindIn, request))
        return Response(ServiceKindSerializer(kind).data, status=status.HTTP_201_CREATED)


class ServiceKindDetailAPI(_View):
    """One service kind; PUT changes it (county only)."""

    @extend_schema(tags=TAGS, responses={200: ServiceKindSerializer, **READ_ERRORS})
    def get(self, request, pk):
        return Response(ServiceKindSerializer(access_object(ServiceKind.objects.all(), request.user,
                                                            "volunteers.view_servicekind", pk=pk)).data)

    @extend_schema(tags=TAGS, request=ServiceKindIn, responses={200: ServiceKindSerializer, **WRITE_ERRORS})
    def put(self, request, pk):
        kind = access_object(ServiceKind.objects.all(), request.user, "volunteers.change_servicekind", pk=pk)
        d = validated_input(ServiceKindIn, request)
        if d["county"] != kind.county_id:
            raise field_error("county", "服务类型不能移到另一个县")
        return Response(ServiceKindSerializer(_kind_save(request, d, kind)).data)


@_component("PointsSettings")
class PointsSettingsSerializer(serializers.Serializer):
    expiry_months = serializers.IntegerField(min_value=0, max_value=120, help_text="0: points never expire.")
    yearly_cap = serializers.IntegerField(min_value=0, max_value=services.MAX_POINTS, help_text="0: no cap.")


class PointsSettingsAPI(_View):
    """The county's points rules: expiry (months) and the yearly cap per volunteer."""

    def _county(self, request, pk, perm):
        """The county of the path, for anyone holding ``perm`` in it (the rules are the whole county's:
        a village secretary reads them too, without reaching the county's registry)."""
        require_perm(request.user, perm)
        counties = counties_of(request.user, perm)
        county = Region.objects.filter(pk=pk, level=RegionLevel.COUNTY).first()
        if county is None or (counties is not None and county.pk not in counties):
            raise Http404
        return county

    @extend_schema(tags=TAGS, responses={200: PointsSettingsSerializer, **READ_ERRORS})
    def get(self, request, pk):
        county = self._county(request, pk, "volunteers.view_pointssettings")
        return Response(PointsSettingsSerializer(services.settings_for(county.pk)).data)

    @extend_schema(tags=TAGS, request=PointsSettingsSerializer, responses={200: PointsSettingsSerializer, **WRITE_ERRORS})
    def put(self, request, pk):
        county = self._county(request, pk, "volunteers.change_pointssettings")
        d = validated_input(PointsSettingsSerializer, request)
        row = services.points_settings_save(actor=request.user, county=county, expiry_months=d["expiry_months"],
                                            yearly_cap=d["yearly_cap"])
        return Response(PointsSettingsSerializer(row).data)


# ---------------------------------------------------------------------------------------------
# tasks and sign-ups


@_component("TaskNew")
class TaskIn(serializers.Serializer):
    kind = id_field()
    title = text_field(100)
    description = optional_text_field(500)
    region = id_field(help_text="A village, or a town, in the caller's scope.")
    place = text_field(100)
    starts_at = datetime_field()
    ends_at = datetime_field()
    slots = serializers.IntegerField(min_value=1, max_value=500, default=1)
    case = id_field(required=False, allow_null=True, help_text="A resident's case this consultation serves.")


class TaskListCreateAPI(_List):
    """Service tasks in the caller's scope (upcoming first with ``upcoming=true``); POST publishes one."""

    serializer_class = TaskSerializer
    list_filters = (
        ListFilter("status", filter_eq("status"), kind=str, enum=tuple(TaskStatus.values)),
        ListFilter("kind", filter_eq("kind_id")),
        ListFilter("village", filter_eq("village_id")),
    )

    def get_queryset(self):
        require_perm(self.request.user, "volunteers.view_servicetask")
        upcoming = self.request.query_params.get("upcoming") in ("1", "true")
        rows = selectors.tasks_for(user=self.request.user, upcoming=upcoming).select_related("organiser", "case")
        return rows if upcoming else rows.order_by("-starts_at", "-id")

    @extend_schema(tags=TAGS, responses={200: TaskSerializer(many=True), **LIST_ERRORS})
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(tags=TAGS, request=TaskIn, responses={201: TaskDetailSerializer, **WRITE_ERRORS})
    def post(self, request):
        require_perm(request.user, "volunteers.add_servicetask")
        d = validated_input(TaskIn, request)
        region = _in(Region.objects.all(), d["region"], "region", "没有这个村（社区）或镇（街道）")
        kind = _in(ServiceKind.objects.visible_to(request.user, "volunteers.view_servicekind"), d["kind"], "kind",
                   "没有这个服务类型")
        case = _in(Case.objects.visible_to(request.user, "cases.view_case"), d.get("case"), "case", "所选事项不存在")
        task = services.task_create(actor=request.user, kind=kind, title=d["title"], description=d["description"],
                                    region=region, place=d["place"], starts_at=d["starts_at"], ends_at=d["ends_at"],
                                    slots=d["slots"], case=case)
        return Response(TaskDetailSerializer(task, context={"request": request}).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=TAGS, responses={200: TaskDetailSerializer, **READ_ERRORS})
class TaskDetailAPI(_View):
    """One task with the sign-ups the caller may see (a volunteer sees their own)."""

    def get(self, request, pk):
        task = access_object(ServiceTask.objects.select_related("kind", "region", "organiser", "case"), request.user,
                             "volunteers.view_servicetask", pk=pk)
        return Response(TaskDetailSerializer(task, context={"request": request}).data)


@extend_schema(tags=TAGS, request=ReasonIn, responses={200: TaskDetailSerializer, **WRITE_ERRORS})
class TaskCancelAPI(_View):
    """Cancel a task nobody has served yet; its sign-ups are cancelled with it."""

    def post(self, request, pk):
        task = access_object(ServiceTask.objects.all(), request.user, "volunteers.change_servicetask", pk=pk)
        d = validated_input(ReasonIn, request)
        task = services.task_cancel(actor=request.user, task=task, reason=d["reason"])
        return Response(TaskDetailSerializer(task, context={"request": request}).data)


@_component("SignUpNew")
class SignUpIn(serializers.Serializer):
    volunteer = id_field(required=False, help_text="Default: the caller's own volunteer record.")
    assign = serializers.BooleanField(default=False, help_text="Staff: assign at once (the same checks).")


@extend_schema(tags=TAGS, request=SignUpIn, responses={201: SignUpSerializer, **WRITE_ERRORS})
class SignUpAPI(_View):
    """Sign up for a task: a volunteer for themself, or staff for a volunteer of their scope."""

    def post(self, request, pk):
        task = access_object(ServiceTask.objects.all(), request.user, "volunteers.add_signup", pk=pk)
        d = validated_input(SignUpIn, request)
        if d.get("volunteer"):
            volunteer = _in(Volunteer.objects.visible_to(request.user, "volunteers.add_signup"), d["volunteer"],
                            "volunteer", "没有这位志愿者")
        else:
            volunteer = selectors.own_volunteer(request.user)
            if volunteer is None:
                raise field_error("volunteer", "请选择志愿者")
        signup = services.signup_create(actor=request.user, task=task, volunteer=volunteer, assign=d["assign"])
        return Response(SignUpSerializer(signup).data, status=status.HTTP_201_CREATED)


@_component("SignUpStep")
class StepIn(serializers.Serializer):
    at = datetime_field(required=False, allow_null=True, help_text="Check-in / check-out time; default now.")
    hours = serializers.DecimalField(max_digits=4, decimal_places=1, min_value=0, max_value=24, required=False,
                                     allow_null=True, help_text="Hours confirmed; default the hours checked.")
    reason = optional_text_field(300)


def _step(view_perm: str, run):
    class StepAPI(_View):
        def post(self, request, pk):
            signup = access_object(SignUp.objects.all(), request.user, view_perm, pk=pk)
            d = validated_input(StepIn, request)
            row = run(request.user, signup, d)
            return Response(SignUpSerializer(SignUp.objects.select_related("volunteer__person").get(pk=row.pk)).data)
    return StepAPI


def _documented(cls, doc: str):
    cls.__doc__ = doc
    return extend_schema(tags=TAGS, request=StepIn, responses={200: SignUpSerializer, **WRITE_ERRORS})(cls)


SignUpAssignAPI = _documented(type("SignUpAssignAPI", (_step("volunteers.assign_signup", lambda u, s, d: services.signup_assign(
    actor=u, signup=s)),), {}), "Assign: refused with the missing certification named when the volunteer is not "
                                "certified for the task's kind on its date (or the task is full).")
SignUpRefuseAPI = _documented(type("SignUpRefuseAPI", (_step("volunteers.assign_signup", lambda u, s, d: services.signup_refuse(
    actor=u, signup=s, reason=d["reason"])),), {}), "Do not assign, with the reason (kept on the sign-up and audited).")
SignUpCancelAPI = _documented(type("SignUpCancelAPI", (_step("volunteers.change_signup", lambda u, s, d: services.signup_cancel(
    actor=u, signup=s, reason=d["reason"])),), {}), "Cancel a sign-up before the volunteer checks in.")
SignUpCheckInAPI = _documented(type("SignUpCheckInAPI", (_step("volunteers.change_signup", lambda u, s, d: services.signup_check_in(
    actor=u, signup=s, at=d.get("at"))),), {}), "Check in (the certification is checked again).")
SignUpCheckOutAPI = _documented(type("SignUpCheckOutAPI", (_step("volunteers.change_signup", lambda u, s, d: services.signup_check_out(
    actor=u, signup=s, at=d.get("at"))),), {}), "Check out: the hours served are claimed (at most the kind's longest session).")
SignUpConfirmAPI = _documented(type("SignUpConfirmAPI", (_step("volunteers.confirm_signup", lambda u, s, d: services.signup_confirm_hours(
    actor=u, signup=s, hours=d.get("hours"))),), {}),
    "Confirm the hours (staff, never the volunteer themself): the points are earned at once.")


# ---------------------------------------------------------------------------------------------
# the catalogue


@_component("CatalogueItemChange")
class CatalogueItemIn(serializers.Serializer):
    county = id_field()
    name = text_field(100)
    kind = _one_of(ItemKind.choices, required=False, default=ItemKind.BENEFIT)
    provider = text_field(100)
    description = optional_text_field(300)
    points_cost = serializers.IntegerField(min_value=1, max_value=services.MAX_POINTS)
    stock = serializers.IntegerField(min_value=0, max_value=100000, default=0)
    active = serializers.BooleanField(default=True)


class CatalogueListCreateAPI(_List):
    """The county's catalogue of community services and benefits; POST adds an item (county only)."""

    serializer_class = CatalogueItemSerializer
    list_filters = (ListFilter("active", lambda qs, v, r: qs.filter(active=v), kind=bool),)

    def get_queryset(self):
        require_perm(self.request.user, "volunteers.view_catalogueitem")
        return selectors.catalogue_for(user=self.request.user, active_only=False)

    @extend_schema(tags=TAGS, responses={200: CatalogueItemSerializer(many=True), **LIST_ERRORS})
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(tags=TAGS, request=CatalogueItemIn, responses={201: CatalogueItemSerializer, **WRITE_ERRORS})
    def post(self, request):
        require_perm(request.user, "volunteers.add_catalogueitem")
        d = validated_input(CatalogueItemIn, request)
        county = _in(Region.objects.filter(level=RegionLevel.COUNTY), d["county"], "county", "没有这个县")
        item = services.catalogue_item_save(actor=request.user, county=county, name=d["name"], kind=d["kind"],
                                            provider=d["provider"], description=d["description"],
                                            points_cost=d["points_cost"], stock=d["stock"], active=d["active"])
        return Response(CatalogueItemSerializer(item).data, status=status.HTTP_201_CREATED)


@_component("Restock")
class RestockIn(serializers.Serializer):
    quantity = serializers.IntegerField(min_value=1, max_value=100000)
    note = optional_text_field(200)


@extend_schema(tags=TAGS, request=RestockIn, responses={200: CatalogueItemSerializer, **WRITE_ERRORS})
class RestockAPI(_View):
    """Add stock to a catalogue item (county only; a positive quantity)."""

    def post(self, request, pk):
        item = access_object(CatalogueItem.objects.all(), request.user, "volunteers.change_catalogueitem", pk=pk)
        d = validated_input(RestockIn, request)
        return Response(CatalogueItemSerializer(services.catalogue_restock(actor=request.user, item=item,
                                                                           quantity=d["quantity"], note=d["note"])).data)


@_component("RedemptionNew")
class RedemptionIn(serializers.Serializer):
    item = id_field()
    quantity = serializers.IntegerField(min_value=1, max_value=services.MAX_QUANTITY, default=1)
    volunteer = id_field(required=False, help_text="Default: the caller's own volunteer record.")


class RedemptionListCreateAPI(_List):
    """Redemptions in the caller's scope (a volunteer's own); POST spends points on a catalogue item."""

    serializer_class = RedemptionSerializer
    list_filters = (ListFilter("status", filter_eq("status"), kind=str, enum=tuple(RedemptionStatus.values)),
                    ListFilter("volunteer", filter_eq("volunteer_id")))

    def get_queryset(self):
        require_perm(self.request.user, "volunteers.view_redemption")
        return selectors.redemptions_for(user=self.request.user)

    @extend_schema(tags=TAGS, responses={200: RedemptionSerializer(many=True), **LIST_ERRORS})
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(tags=TAGS, request=RedemptionIn, responses={201: RedemptionSerializer, **WRITE_ERRORS})
    def post(self, request):
        require_perm(request.user, "volunteers.add_redemption")
        d = validated_input(RedemptionIn, request)
        if d.get("volunteer"):
            volunteer = _in(Volunteer.objects.visible_to(request.user, "volunteers.add_redemption"), d["volunteer"],
                            "volunteer", "没有这位志愿者")
        else:
            volunteer = selectors.own_volunteer(request.user)
            if volunteer is None:
                raise field_error("volunteer", "请选择志愿者")
        item = _in(CatalogueItem.objects.visible_to(request.user, "volunteers.view_catalogueitem"), d["item"], "item",
                   "兑换目录中没有这一项")
        row = services.redemption_create(actor=request.user, volunteer=volunteer, item=item, quantity=d["quantity"])
        return Response(RedemptionSerializer(row).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=TAGS, request=ReasonIn, responses={200: RedemptionSerializer, **WRITE_ERRORS})
class RedemptionCancelAPI(_View):
    """Cancel a redemption not yet handed over: points and stock come back by a compensating refund."""

    def post(self, request, pk):
        row = access_object(Redemption.objects.all(), request.user, "volunteers.change_redemption", pk=pk)
        d = validated_input(ReasonIn, request)
        return Response(RedemptionSerializer(services.redemption_cancel(actor=request.user, redemption=row,
                                                                        reason=d["reason"])).data)


@extend_schema(tags=TAGS, request=None, responses={200: RedemptionSerializer, **WRITE_ERRORS})
class RedemptionDeliverAPI(_View):
    """Record that the redeemed item or service was handed over."""

    def post(self, request, pk):
        row = access_object(Redemption.objects.all(), request.user, "volunteers.deliver_redemption", pk=pk)
        return Response(RedemptionSerializer(services.redemption_deliver(actor=request.user, redemption=row)).data)

