"""REST API of linking up (DOMAIN.md §3.4), under /api/linking/ (``api_urls.py``).

The village API's shape: one APIView per operation, each with its own input and output serializers
and documented by drf-spectacular.

* Reads start from ``selectors`` or ``Model.objects.visible_to(user, perm)`` (lists) and
  ``access_object`` (one row): **403** when the caller holds the permission nowhere, **404** when
  the row lies outside their scope. What hangs off a pairing (posts, lists, activities, feedback …)
  is read with that model's own view permission, checked on the pairing (every row of a pairing
  carries the pairing's territory and agency department, so the pairing answers for them): a grid
  worker who may see a pairing and its needs gets 403 on its resources, and a county agency's
  liaison (a department grant) reaches only the pairings of their own department.
* Writes are one call of ``gongzhi.linking.services`` each; the view only checks types and resolves
  ids. A reference in the body is looked up inside the object's own village, town or county (one
  from elsewhere is "does not exist", a 400 naming the field); the business rules and their Chinese
  reasons are the services' (a Django ``ValidationError`` becomes the structured 400 of
  ``core.api.exception_handler``). A service's ``PermissionDenied`` is a 403 that keeps the
  service's Chinese reason ("报到单由本方联络员签署"), so a liaison learns why, not only that.
* People appear as id and name only: no phone, no ID number; a login as its display name. A need
  or a piece of feedback raised from a resident's case shows the case number, never the requester,
  and phone or ID numbers residents typed into free text are masked on the way out.
* Every input is bounded (ids, list sizes, text lengths, dates, amounts), so that a fuzzed request
  is a 400, never a database error.

Enum naming: every choice set is published under one component only (an input serializer that
creates or changes an entity takes that entity's component name, ``LinkingNeedRequest`` beside
``LinkingNeed``), so drf-spectacular names its enum without a collision and settings.py needs no
ENUM_NAME_OVERRIDES for this app. A choice set used a second time (the side of a post as a
resource's side or an evaluation's ``by_side``; the resource types a need asks for; the three
ratings; the review cycles) is a plain string or integer there, validated all the same; so are
the fields whose names another app's enum already owns (``source``, ``mode``: a second choice set
under that name would rename the village API's ``SourceEnum`` and ``ModeEnum``).
"""
from __future__ import annotations

import re
from decimal import Decimal

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db import models as db
from django.db.models import Count, Q, Sum
from django.http import Http404
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field, extend_schema_serializer
from rest_framework import exceptions, serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from gongzhi.accounts.models import User, UserKind
from gongzhi.cases.models import Case
from gongzhi.core.api import (
    MAX_ID, MAX_YEAR, MIN_YEAR, FilteredListMixin, ListFilter, ListFilterBackend, api_errors, date_field,
    datetime_field, field_error, filter_eq, id_field, ids_field, in_years, no_duplicates, optional_text_field,
    text_field, validated_input,
)
from gongzhi.core.masking import mask_id_number, mask_phone
from gongzhi.core.scoping import access_object, require_perm
from gongzhi.registry.models import Department, HostUnit, Household, PartyOrganization, Person, Region, RegionLevel

from . import selectors, services
from .models import (
    GRADE_RANK, Activity, ActivityAttendance, ActivityKind, ActivityStatus, Aim, Alliance, AllianceMember,
    AllianceMode, AllianceOperation, ApprovalKind, ApprovalRequest, ApprovalStatus, AttendeeSide, Evaluation,
    Feasibility, FeedbackChannel, FeedbackItem, Handover, JointAction, KeyTask, KeyTaskProgress, KeyTaskStatus,
    LiaisonPost, Link, LinkActivity, LinkKind, MessageKind, NeedGrade, NeedItem, NeedSource, NeedStatus, Pairing,
    PairingKind, PairingMessage, PairingStatus, Plan, PlanFeedback, PlanStatus, Principle, Project, ProjectStatus,
    ProjectTask, Rating, ResourceItem, ResourceKind, ResourceShare, ResourceState, ReviewCycle, ShareKind, ShareMode,
    Side, StationDay, UseForm, VillageGrade, VillageGradeKind, WorkTeam, WorkTeamMember,
)

TAGS = ["linking"]
READ_ERRORS = api_errors(401, 403, 404)
WRITE_ERRORS = api_errors(400, 401, 403, 404)
LIST_ERRORS = api_errors(400, 401, 403)
MAX_COUNT = 10**9  # quantities, capacities, people: PositiveIntegerField holds 2**31 - 1
MIN_PLAN_YEAR, MAX_PLAN_YEAR = 2000, 2100  # key tasks and work teams are yearly plans


# ---------------------------------------------------------------------------------------------
# input building blocks

# Input building blocks shared by the apps' APIs (gongzhi.core.api), under this module's short names.
_id, _ids, _text, _optional_text, _date, _datetime = id_field, ids_field, text_field, optional_text_field, date_field, datetime_field
_in_years, _no_duplicates, _input, _missing, _eq, _Filtered = in_years, no_duplicates, validated_input, field_error, filter_eq, FilteredListMixin


def _optional_id(help_text: str = "") -> serializers.IntegerField:
    return _id(required=False, allow_null=True, help_text=help_text)


def _count(**kwargs) -> serializers.IntegerField:
    return serializers.IntegerField(min_value=0, max_value=MAX_COUNT, **kwargs)


def _year(**kwargs) -> serializers.IntegerField:
    return serializers.IntegerField(min_value=MIN_PLAN_YEAR, max_value=MAX_PLAN_YEAR, **kwargs)


def _money(max_digits: int = 14, **kwargs) -> serializers.DecimalField:
    # DRF's DecimalField refuses NaN and infinities and counts the digits, so the column always fits.
    return serializers.DecimalField(max_digits=max_digits, decimal_places=2, **kwargs)


def _one_of(choices, **kwargs) -> serializers.CharField:
    """A choice set that has its enum in another component: a plain string here, checked the same."""
    values = [value for value, _label in choices]

    def check(value):
        if value not in values:
            raise serializers.ValidationError(f"可选值：{', '.join(values)}")

    kwargs.setdefault("help_text", "One of: " + ", ".join(values) + ".")
    return serializers.CharField(max_length=40, validators=[check], **kwargs)


def _rating(**kwargs) -> serializers.IntegerField:
    # Rating (3 good, 2 fair, 1 poor) is used by several fields: a bounded integer, not an enum.
    return serializers.IntegerField(min_value=int(Rating.POOR), max_value=int(Rating.GOOD),
                                    help_text="3 good, 2 fair, 1 poor.", **kwargs)


def _region(request, pk, perm, *levels) -> Region:
    """The region a path or body writes to: 403 / 404 like any object; a region of the wrong level is
    absent as well (a town where a village is wanted)."""
    region = access_object(Region.objects.all(), request.user, perm, pk=pk)
    if levels and region.level not in levels:
        raise Http404
    return region


def _in(queryset, pk, field, message, **where):
    """A row the body refers to, looked up inside ``where`` only, or a 400 naming the field."""
    if pk is None:
        return None
    row = queryset.filter(pk=pk, **where).first()
    if row is None:
        raise _missing(field, message)
    return row


def _person(request, pk, field="person") -> Person | None:
    return _in(Person.objects.visible_to(request.user, "registry.view_person"), pk, field, "没有这位在册人员")


def _login(pk, field) -> User | None:
    """A liaison's login. The services check that it can open the pairing it is to serve."""
    return _in(User.objects.filter(is_active=True, kind=UserKind.PERSON), pk, field, "没有这个在用的账号")


def _department(pk, county_id, field="department") -> Department | None:
    return _in(Department.objects.all(), pk, field, "本县没有这个部门", county_id=county_id)


def _case_of(request, pk, field="case") -> Case | None:
    return _in(Case.objects.visible_to(request.user, "cases.view_case"), pk, field, "所选事项不存在")


def _component(name: str):
    """Publish a serializer as ``Linking<name>`` (an input one becomes ``Linking<name>Request``)."""
    return extend_schema_serializer(component_name=f"Linking{name}")


_CJK = re.compile(r"[\u4e00-\u9fff]")


class _Reasons:
    """Keeps a service's Chinese reason on a 403. ``core.api.exception_handler`` answers every Django
    ``PermissionDenied`` with the generic message; the linking services say who may act instead
    ("评价由本方联络员填写"). A bare ``PermissionDenied`` (``access_object``) or an internal one in
    English (``recheck_in_scope``) keeps the generic answer."""

    def handle_exception(self, exc):
        if isinstance(exc, DjangoPermissionDenied) and exc.args and _CJK.search(str(exc.args[0])):
            exc = exceptions.PermissionDenied(str(exc.args[0]))
        return super().handle_exception(exc)


class _View(_Reasons, APIView):
    pass


class _List(_Reasons, _Filtered, ListAPIView):
    pass


def _pairing(request, pk, perm) -> Pairing:
    """The pairing of a path, checked with ``perm`` (the permission of what is read or written on it)."""
    return access_object(Pairing.objects.all(), request.user, perm, pk=pk)


# ---------------------------------------------------------------------------------------------
# output building blocks


_ID_NUMBER = re.compile(r"(?<![0-9])[0-9]{17}[0-9Xx](?![0-9A-Za-z])")
_MOBILE = re.compile(r"(?<![0-9])1[3-9][0-9]{9}(?![0-9])")


def _redact(text: str) -> str:
    """Free text residents wrote (a case's description, a survey comment) may hold their phone or ID
    number: masked as the registry masks them."""
    if not text:
        return text or ""
    text = _ID_NUMBER.sub(lambda m: mask_id_number(m.group()), text)
    return _MOBILE.sub(lambda m: mask_phone(m.group()), text)


def _name(field: str):
    return serializers.CharField(source=f"{field}.name", default="", read_only=True)


@extend_schema_field(OpenApiTypes.STR)
class _UserName(serializers.Field):
    """A login as its display name (a username that is a phone number is masked)."""

    def __init__(self, source: str, **kwargs):
        super().__init__(source=source, read_only=True, allow_null=True, **kwargs)

    def to_representation(self, user):
        return _redact(user.display_name or user.username)


class _Redacted(serializers.CharField):
    def to_representation(self, value):
        return _redact(super().to_representation(value))


def _stale(obj) -> bool:
    return obj.stale_flagged_at is not None


def _case_number(obj) -> str | None:
    """Only the case's number: the tracking code is the requester's key to the public page."""
    return obj.case.number if obj.case_id else None


def _case_text(obj, text: str) -> str:
    """Text a service wrote from a case (a need's ``asked_by``, a feedback's text). A case without its
    number yet is named there by its tracking code, which opens the case's public page: it never
    leaves here. Phones and ID numbers typed into the text are masked."""
    if obj.case_id and obj.case.tracking_code and obj.case.tracking_code in text:
        text = text.replace(obj.case.tracking_code, obj.case.number or "（编号待定）")
    return _redact(text)


def _context(request) -> dict:
    return {"request": request}


# ---------------------------------------------------------------------------------------------
# the pairing


@_component("Post")
class PostSerializer(serializers.ModelSerializer):
    holder_name = _UserName("holder")

    class Meta:
        model = LiaisonPost
        fields = ["id", "pairing", "side", "title", "holder", "holder_name", "holder_since"]
        extra_kwargs = {"holder": {"help_text": "The login holding the post; null: vacant."}}


@_component("Pairing")
class PairingSerializer(serializers.ModelSerializer):
    lead_org_name = _name("lead_org")
    partner_org_name = _name("partner_org")
    region_name = _name("region")
    agency_department_name = _name("agency_department")
    principles = serializers.ListField(child=serializers.CharField(), read_only=True,
                                       help_text="big_small, strong_weak, plain_mountain, near_far.")
    joint_actions = serializers.ListField(child=serializers.CharField(), read_only=True,
                                          help_text="organisation, members, activities, resources, services.")
    lead_signed_by_name = _UserName("lead_signed_by")
    partner_signed_by_name = _UserName("partner_signed_by")

    class Meta:
        model = Pairing
        fields = ["id", "kind", "title", "lead_org", "lead_org_name", "partner_org", "partner_org_name", "region",
                  "region_name", "agency_department", "agency_department_name", "principles", "joint_actions",
                  "term_start", "term_end", "status", "lead_signed_at", "lead_signed_by_name", "partner_signed_at",
                  "partner_signed_by_name", "ended_on", "end_reason", "created_at"]
        extra_kwargs = {"region": {"help_text": "The village or community paired with."},
                        "agency_department": {"help_text": "A county agency's department: its liaisons reach "
                                                           "this pairing."}}


@_component("PairingCounts")
class PairingCountsSerializer(serializers.Serializer):
    resources = serializers.IntegerField(help_text="On the resource list (those the caller may read).")
    open_needs = serializers.IntegerField()
    projects_underway = serializers.IntegerField()
    activities_planned = serializers.IntegerField()
    approvals_pending = serializers.IntegerField()
    stale = serializers.IntegerField(help_text="List items past their review date.")


@_component("PairingDetail")
class PairingDetailSerializer(serializers.Serializer):
    pairing = PairingSerializer()
    posts = PostSerializer(many=True, help_text="Both sides' liaison posts; empty for a caller who may not read them.")
    counts = PairingCountsSerializer()


def _pairings():
    return Pairing.objects.select_related("lead_org", "partner_org", "region", "agency_department",
                                          "lead_signed_by", "partner_signed_by")


def _visible(request, model, perm, **where):
    return model.objects.visible_to(request.user, perm).filter(**where)


def _pairing_detail(request, pairing: Pairing, code=status.HTTP_200_OK) -> Response:
    pairing = _pairings().get(pk=pairing.pk)
    posts = _visible(request, LiaisonPost, "linking.view_liaisonpost", pairing=pairing).select_related("holder")
    stale = Q(stale_flagged_at__isnull=False)
    counts = {
        "resources": _visible(request, ResourceItem, "linking.view_resourceitem", pairing=pairing).count(),
        "open_needs": _visible(request, NeedItem, "linking.view_needitem", pairing=pairing,
                               status=NeedStatus.OPEN).count(),
        "projects_underway": _visible(request, Project, "linking.view_project", pairing=pairing,
                                      status=ProjectStatus.UNDERWAY).count(),
        "activities_planned": _visible(request, Activity, "linking.view_activity", pairing=pairing,
                                       status=ActivityStatus.PLANNED).count(),
        "approvals_pending": _visible(request, ApprovalRequest, "linking.view_approvalrequest", pairing=pairing,
                                      status=ApprovalStatus.PENDING).count(),
        "stale": sum(_visible(request, model, f"linking.view_{model._meta.model_name}", pairing=pairing)
                     .filter(stale).count() for model in (ResourceItem, NeedItem, Project)),
    }
    data = {"pairing": pairing, "posts": list(posts.order_by("side", "id")), "counts": counts}
    return Response(PairingDetailSerializer(data, context=_context(request)).data, status=code)


@_component("Pairing")
class PairingIn(serializers.Serializer):
    kind = serializers.ChoiceField(choices=PairingKind.choices)
    title = _text(200)
    lead_org = _id(help_text="The lead side's party organisation (an agency's, firm's or school's branch, or the "
                             "lead village's), in the partner's county.")
    partner_org = _id(help_text="The village or community party organisation paired with.")
    term_start = _date()
    term_end = _date()
    lead_post = _text(100, help_text="The lead side's liaison post, e.g. 机关联络员.")
    lead_holder = _optional_id("The login holding the lead post; null: vacant for now.")
    partner_post = _text(100)
    partner_holder = _optional_id("The login holding the partner post.")
    principles = serializers.ListField(child=serializers.ChoiceField(choices=Principle.choices), max_length=4,
                                       default=list, validators=[_no_duplicates])
    joint_actions = serializers.ListField(child=serializers.ChoiceField(choices=JointAction.choices), max_length=5,
                                          default=list, validators=[_no_duplicates])
    agency_department = _optional_id("A county department (for a county agency): its liaisons reach the pairing.")


class PairingListCreateAPI(_List):
    """Pairings in the caller's scope (filter by village, kind, status); POST draws one up (in draft,
    with one liaison post on each side) to be signed by both sides."""

    serializer_class = PairingSerializer
    list_filters = (
        ListFilter("village", _eq("region_id"), description="village id"),
        ListFilter("kind", _eq("kind"), kind=str, enum=tuple(PairingKind.values)),
        ListFilter("status", _eq("status"), kind=str, enum=tuple(PairingStatus.values)),
    )

    def get_queryset(self):
        require_perm(self.request.user, "linking.view_pairing")
        return (selectors.pairings_for(user=self.request.user)
                .select_related("lead_signed_by", "partner_signed_by").order_by("region__code", "-term_start", "id"))

    @extend_schema(tags=TAGS, responses={200: PairingSerializer(many=True), **LIST_ERRORS})
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(tags=TAGS, request=PairingIn, responses={201: PairingDetailSerializer, **WRITE_ERRORS})
    def post(self, request):
        require_perm(request.user, "linking.add_pairing")
        d = _input(PairingIn, request)
        partner = _in(PartyOrganization.objects.all(), d["partner_org"], "partner_org", "没有这个党组织")
        if partner.village_id is None:
            raise _missing("partner_org", "被结对的一方应是村（社区）党组织")
        # The caller must be able to add pairings in the partner's village: 404 beyond it.
        _region(request, partner.village_id, "linking.add_pairing")
        lead = _in(PartyOrganization.objects.all(), d["lead_org"], "lead_org", "本县没有这个党组织",
                   county_id=partner.county_id)
        pairing = services.pairing_create(
            actor=request.user, kind=d["kind"], lead_org=lead, partner_org=partner, title=d["title"],
            term_start=d["term_start"], term_end=d["term_end"], lead_post=d["lead_post"],
            lead_holder=_login(d.get("lead_holder"), "lead_holder"), partner_post=d["partner_post"],
            partner_holder=_login(d.get("partner_holder"), "partner_holder"), principles=d["principles"],
            joint_actions=d["joint_actions"],
            agency_department=_department(d.get("agency_department"), partner.county_id, "agency_department"))
        return _pairing_detail(request, pairing, status.HTTP_201_CREATED)


@extend_schema(tags=TAGS, responses={200: PairingDetailSerializer, **READ_ERRORS})
class PairingDetailAPI(_View):
    """One pairing: the report form's signatures, both sides' liaison posts and what its lists hold."""

    def get(self, request, pk):
        return _pairing_detail(request, _pairing(request, pk, "linking.view_pairing"))


@_component("PairingSign")
class SignIn(serializers.Serializer):
    side = _one_of(Side.choices, help_text="lead or partner: the side whose post the caller holds.")


@extend_schema(tags=TAGS, request=SignIn, responses={200: PairingDetailSerializer, **WRITE_ERRORS})
class PairingSignAPI(_View):
    """签署报到单: the holder of a side's post signs for that side, once; signed by both, the pairing is in
    force."""

    def post(self, request, pk):
        pairing = _pairing(request, pk, "linking.sign_pairing")
        d = _input(SignIn, request)
        pairing = services.pairing_sign(actor=request.user, pairing=pairing, side=d["side"])
        return _pairing_detail(request, pairing)


@_component("PairingEnd")
class EndIn(serializers.Serializer):
    reason = _text(200)
    ended_on = _date(required=False, allow_null=True, help_text="Default: today.")


@extend_schema(tags=TAGS, request=EndIn, responses={200: PairingDetailSerializer, **WRITE_ERRORS})
class PairingEndAPI(_View):
    """End a pairing, with the reason; its lists and archive stay."""

    def post(self, request, pk):
        pairing = _pairing(request, pk, "linking.change_pairing")
        d = _input(EndIn, request)
        pairing = services.pairing_end(actor=request.user, pairing=pairing, reason=d["reason"],
                                       ended_on=d.get("ended_on"))
        return _pairing_detail(request, pairing)


@_component("Post")
class PostIn(serializers.Serializer):
    side = serializers.ChoiceField(choices=Side.choices)
    title = _text(100)
    holder = _optional_id("The login to hold it; null: vacant (fill it with assign).")


@extend_schema(tags=TAGS, request=PostIn, responses={201: PostSerializer, **WRITE_ERRORS})
class PostAddAPI(_View):
    """One more liaison post on a side (a post, not a person: the archive stays with it)."""

    def post(self, request, pk):
        pairing = _pairing(request, pk, "linking.change_pairing")
        d = _input(PostIn, request)
        post = services.post_add(actor=request.user, pairing=pairing, side=d["side"], title=d["title"],
                                 holder=_login(d.get("holder"), "holder"))
        return Response(PostSerializer(post).data, status=status.HTTP_201_CREATED)


@_component("OpenItem")
class OpenItemSerializer(serializers.Serializer):
    key = serializers.CharField(help_text='What the handover\'s notes are keyed by, e.g. "need:12".')
    kind = serializers.CharField(help_text="需求, 项目, 审批, 活动 or 计划.")
    title = serializers.CharField()


@_component("HandoverItem")
class HandoverItemSerializer(OpenItemSerializer):
    note = serializers.CharField(help_text="The outgoing liaison's note on it.")


@_component("HandoverArchive")
class ArchiveSummarySerializer(serializers.Serializer):
    messages = serializers.IntegerField()
    decisions = serializers.IntegerField()
    joint_meetings = serializers.IntegerField()
    activities_held = serializers.IntegerField()
    evaluations = serializers.IntegerField()
    feedback = serializers.IntegerField()
    last_message_id = serializers.IntegerField(allow_null=True)
    last_activity_id = serializers.IntegerField(allow_null=True)


@_component("Handover")
class HandoverSerializer(serializers.ModelSerializer):
    outgoing_name = _UserName("outgoing")
    incoming_name = _UserName("incoming")
    written_by_name = _UserName("written_by")
    open_items = HandoverItemSerializer(many=True, read_only=True)
    archive = ArchiveSummarySerializer(read_only=True, help_text="What the archive held at the handover.")

    class Meta:
        model = Handover
        fields = ["id", "post", "outgoing", "outgoing_name", "incoming", "incoming_name", "written_by_name", "summary",
                  "open_items", "archive", "created_at"]


@_component("HandoverState")
class HandoverStateSerializer(serializers.Serializer):
    post = PostSerializer()
    open_items = OpenItemSerializer(many=True, help_text="What a handover now must say something about, each "
                                                         "by its key.")
    handovers = HandoverSerializer(many=True, help_text="The post's earlier handovers, latest first.")


def _handover_state(request, post: LiaisonPost) -> Response:
    post = LiaisonPost.objects.select_related("pairing", "holder").get(pk=post.pk)
    handovers = (_visible(request, Handover, "linking.view_handover", post=post)
                 .select_related("outgoing", "incoming", "written_by"))
    data = {"post": post, "open_items": services.open_items(post.pairing), "handovers": list(handovers)}
    return Response(HandoverStateSerializer(data).data)


@_component("Handover")
class HandoverIn(serializers.Serializer):
    incoming = _id(help_text="The login taking the post over.")
    summary = _text(4000, help_text="The written handover: the pairing as it stands, its contacts, what is underway "
                                    "(at least 10 characters).")
    # A blank note is the service's to refuse: it names the open item the note is missing for.
    notes = serializers.DictField(child=_text(300, allow_blank=True), default=dict,
                                  help_text='A note on every open item, keyed as the open items are: '
                                            '{"need:12": "已联系县医院，下月上门"}.')

    def validate_notes(self, notes):
        if len(notes) > 500 or any(len(key) > 50 for key in notes):
            raise serializers.ValidationError("交接事项过多或键名过长")
        return notes


class PostHandoverAPI(_View):
    @extend_schema(tags=TAGS, responses={200: HandoverStateSerializer, **READ_ERRORS})
    def get(self, request, pk):
        """What a handover of this post must cover now (the pairing's open items) and its past handovers."""
        post = access_object(LiaisonPost.objects.all(), request.user, "linking.view_liaisonpost", pk=pk)
        return _handover_state(request, post)

    @extend_schema(tags=TAGS, request=HandoverIn, responses={201: HandoverSerializer, **WRITE_ERRORS})
    def post(self, request, pk):
        """交接: the outgoing liaison (or, when they have left, the town or county) writes a summary and a note on
        every open item; the archive is snapshotted and stays with the post. A missing note is a 400 naming it."""
        post = access_object(LiaisonPost.objects.all(), request.user, "linking.change_liaisonpost", pk=pk)
        d = _input(HandoverIn, request)
        handover = services.post_handover(actor=request.user, post=post,
                                          incoming=_login(d["incoming"], "incoming"), summary=d["summary"],
                                          notes=d["notes"])
        handover = Handover.objects.select_related("outgoing", "incoming", "written_by").get(pk=handover.pk)
        return Response(HandoverSerializer(handover).data, status=status.HTTP_201_CREATED)


@_component("PostAssign")
class AssignIn(serializers.Serializer):
    holder = _id(help_text="The login to hold the vacant post.")


@extend_schema(tags=TAGS, request=AssignIn, responses={200: PostSerializer, **WRITE_ERRORS})
class PostAssignAPI(_View):
    """Fill a post that has never been held; a post that has been passes on only by a written handover."""

    def post(self, request, pk):
        post = access_object(LiaisonPost.objects.all(), request.user, "linking.change_pairing", pk=pk)
        d = _input(AssignIn, request)
        post = services.post_assign(actor=request.user, post=post, holder=_login(d["holder"], "holder"))
        return Response(PostSerializer(LiaisonPost.objects.select_related("holder").get(pk=post.pk)).data)


@_component("Message")
class MessageSerializer(serializers.ModelSerializer):
    post_title = serializers.CharField(source="post.title", default="", read_only=True)
    author_name = _UserName("author")

    class Meta:
        model = PairingMessage
        fields = ["id", "pairing", "post", "post_title", "kind", "text", "author_name", "created_at"]


@_component("Message")
class MessageIn(serializers.Serializer):
    text = _text(2000)
    kind = serializers.ChoiceField(choices=MessageKind.choices, default=MessageKind.MESSAGE.value)


@extend_schema(tags=TAGS, request=MessageIn, responses={201: MessageSerializer, **WRITE_ERRORS})
class MessagePostAPI(_View):
    """A message, decision or note in the pairing's archive, from the post the caller holds (the other
    side's liaisons are told)."""

    def post(self, request, pk):
        pairing = _pairing(request, pk, "linking.add_pairingmessage")
        d = _input(MessageIn, request)
        message = services.message_post(actor=request.user, pairing=pairing, text=d["text"], kind=d["kind"])
        message = PairingMessage.objects.select_related("post", "author").get(pk=message.pk)
        return Response(MessageSerializer(message).data, status=status.HTTP_201_CREATED)


@_component("Meeting")
class MeetingBriefSerializer(serializers.ModelSerializer):
    kind = serializers.CharField(read_only=True, help_text="The activity's kind (see LinkingActivity).")

    class Meta:
        model = Activity
        fields = ["id", "kind", "title", "starts_at", "summary", "decisions"]


@_component("Archive")
class ArchiveSerializer(serializers.Serializer):
    messages = MessageSerializer(many=True, help_text="The latest 200, newest first.")
    meetings = MeetingBriefSerializer(many=True, help_text="Activities held (joint meetings and others), latest 100.")
    handovers = HandoverSerializer(many=True)


@extend_schema(tags=TAGS, responses={200: ArchiveSerializer, **READ_ERRORS})
class PairingArchiveAPI(_View):
    """The communication archive (沟通档案): messages and decisions, what was held, the handovers. It belongs to
    the pairing and its posts, not to whoever holds them."""

    def get(self, request, pk):
        pairing = _pairing(request, pk, "linking.view_pairingmessage")
        archive = selectors.archive_of(user=request.user, pairing=pairing)
        data = {"messages": list(archive["messages"]), "meetings": list(archive["meetings"]),
                "handovers": list(archive["handovers"])}
        return Response(ArchiveSerializer(data).data)


# ---------------------------------------------------------------------------------------------
# the three lists


@_component("Resource")
class ResourceSerializer(serializers.ModelSerializer):
    side = serializers.CharField(read_only=True, help_text="Who offers it: lead or partner.")
    place_name = _name("place")
    stale = serializers.SerializerMethodField(help_text="Flagged for a review past its date.")

    class Meta:
        model = ResourceItem
        fields = ["id", "pairing", "side", "kind", "name", "capacity", "unit", "committed", "remaining", "use_form",
                  "state", "place", "place_name", "conditions", "reviewed_on", "review_due_on", "stale", "created_at"]
        extra_kwargs = {"place": {"help_text": "Where it is; null: it serves the whole county."}}

    def get_stale(self, obj) -> bool:
        return _stale(obj)


@_component("Resource")
class ResourceIn(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ResourceKind.choices)
    name = _text(150)
    capacity = serializers.IntegerField(min_value=1, max_value=MAX_COUNT)
    unit = _text(20, help_text="次/月, 人, 元, 间 …")
    use_form = serializers.ChoiceField(choices=UseForm.choices)
    side = _one_of(Side.choices, required=False, allow_null=True,
                   help_text="lead or partner; default: the side of the post the caller holds.")
    place = _optional_id("A region of the county where it is; null: it serves the whole county.")
    conditions = _optional_text(300)


def _place(pk, pairing: Pairing, field="place") -> Region | None:
    return _in(Region.objects.all(), pk, field, "本县没有这个地方", county_id=pairing.county_id)


def _resources():
    return ResourceItem.objects.select_related("place")


class ResourceListCreateAPI(_List):
    """The pairing's resource list (资源清单): type, stock, form of use, state, and what is committed to
    projects; POST lists one more for the caller's side."""

    serializer_class = ResourceSerializer
    list_filters = (
        ListFilter("kind", _eq("kind"), kind=str, enum=tuple(ResourceKind.values)),
        ListFilter("state", _eq("state"), kind=str, enum=tuple(ResourceState.values)),
        ListFilter("stale", lambda qs, value, request: qs.filter(stale_flagged_at__isnull=not value), kind=bool,
                   description="true: flagged for a review past its date."),
    )

    def get_queryset(self):
        pairing = _pairing(self.request, self.kwargs["pk"], "linking.view_resourceitem")
        return selectors.resources_of(user=self.request.user, pairing=pairing).order_by("kind", "name", "id")

    @extend_schema(tags=TAGS, responses={200: ResourceSerializer(many=True), **READ_ERRORS, **LIST_ERRORS})
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(tags=TAGS, request=ResourceIn, responses={201: ResourceSerializer, **WRITE_ERRORS})
    def post(self, request, pk):
        pairing = _pairing(request, pk, "linking.add_resourceitem")
        d = _input(ResourceIn, request)
        resource = services.resource_add(actor=request.user, pairing=pairing, kind=d["kind"], name=d["name"],
                                         capacity=d["capacity"], unit=d["unit"], use_form=d["use_form"],
                                         side=d.get("side"), place=_place(d.get("place"), pairing),
                                         conditions=d["conditions"])
        return Response(ResourceSerializer(_resources().get(pk=resource.pk)).data, status=status.HTTP_201_CREATED)


@_component("Resource")
class ResourceChangeIn(serializers.Serializer):
    name = _text(150, required=False)
    capacity = serializers.IntegerField(min_value=1, max_value=MAX_COUNT, required=False)
    unit = _text(20, required=False)
    use_form = serializers.ChoiceField(choices=UseForm.choices, required=False)
    state = serializers.ChoiceField(choices=ResourceState.choices, required=False)
    place = _id(required=False, allow_null=True, help_text="null: it serves the whole county.")
    conditions = _text(300, required=False, allow_blank=True)


class ResourceDetailAPI(_View):
    @extend_schema(tags=TAGS, responses={200: ResourceSerializer, **READ_ERRORS})
    def get(self, request, pk):
        """One resource."""
        return Response(ResourceSerializer(access_object(_resources(), request.user, "linking.view_resourceitem",
                                                         pk=pk)).data)

    @extend_schema(tags=TAGS, request=ResourceChangeIn, responses={200: ResourceSerializer, **WRITE_ERRORS})
    def patch(self, request, pk):
        """Correct a resource (the fields sent) — by the side that offers it; this also counts as its review."""
        resource = access_object(ResourceItem.objects.select_related("pairing"), request.user,
                                 "linking.change_resourceitem", pk=pk)
        changes = dict(_input(ResourceChangeIn, request))
        if "place" in changes:
            changes["place"] = _place(changes["place"], resource.pairing)
        resource = services.resource_update(actor=request.user, resource=resource, **changes)
        return Response(ResourceSerializer(_resources().get(pk=resource.pk)).data)


@_component("ListReview")
class ReviewIn(serializers.Serializer):
    still_valid = serializers.BooleanField(default=True, help_text="false: withdraw the resource, withdraw the need "
                                                                   "or suspend the project.")
    note = _optional_text(300, help_text="Why it no longer holds (needed when still_valid is false).")


def _review(request, kind: str, pk: int):
    d = _input(ReviewIn, request)
    return services.list_item_review(actor=request.user, kind=kind, pk=pk, still_valid=d["still_valid"],
                                     note=d["note"])


@extend_schema(tags=TAGS, request=ReviewIn, responses={200: ResourceSerializer, **WRITE_ERRORS})
class ResourceReviewAPI(_View):
    """清单复核: the offering side confirms the resource still holds (the next review is one cycle away, the stale
    flag goes) or withdraws it."""

    def post(self, request, pk):
        access_object(ResourceItem.objects.all(), request.user, "linking.change_resourceitem", pk=pk)
        item = _review(request, "resource", pk)
        return Response(ResourceSerializer(_resources().get(pk=item.pk)).data)


@_component("Need")
class NeedSerializer(serializers.ModelSerializer):
    kind = serializers.CharField(read_only=True, help_text="The type of resource wanted (see LinkingResource.kind).")
    description = _Redacted(read_only=True)
    asked_by = serializers.SerializerMethodField(help_text="Who asked, described (never a person's identity).")
    source = serializers.CharField(read_only=True, help_text="case, contact, meeting, activity or liaison.")
    place_name = _name("place")
    case_number = serializers.SerializerMethodField(help_text="Raised from a resident's case: its number only.")
    checked_by_name = _UserName("checked_by")
    raised_by_name = _UserName("raised_by")
    stale = serializers.SerializerMethodField()

    class Meta:
        model = NeedItem
        fields = ["id", "pairing", "title", "description", "kind", "quantity", "unit", "grade", "place", "place_name",
                  "source", "case_number", "contact_record", "meeting", "activity", "asked_by", "feasibility",
                  "feasibility_note", "checked_by_name", "status", "raised_by_name", "reviewed_on", "review_due_on",
                  "stale", "created_at"]

    def get_case_number(self, obj) -> str | None:
        return _case_number(obj)

    def get_asked_by(self, obj) -> str:
        return _case_text(obj, obj.asked_by)

    def get_stale(self, obj) -> bool:
        return _stale(obj)


def _needs():
    return NeedItem.objects.select_related("place", "case", "checked_by", "raised_by")


# Needs in the order they are served (``matching.need_order_key``): core first, then the oldest.
_GRADE_ORDER = db.Case(*[db.When(grade=grade, then=db.Value(rank)) for grade, rank in GRADE_RANK.items()],
                       default=db.Value(9), output_field=db.IntegerField())


@_component("Need")
class NeedIn(serializers.Serializer):
    title = _text(200)
    kind = _one_of(ResourceKind.choices, help_text="The type of resource wanted: " + ", ".join(ResourceKind.values)
                                                   + ".")
    grade = serializers.ChoiceField(choices=NeedGrade.choices)
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_COUNT, default=1)
    unit = _optional_text(20)
    description = _optional_text(4000)
    place = _optional_id("Where it is needed: the village or one of its groups.")
    asked_by = _optional_text(100, help_text="Who asked, described (二组老人); filled in from a case, contact "
                                             "record, meeting or activity.")
    source = _one_of(NeedSource.choices, default=NeedSource.LIAISON.value,
                     help_text="case, contact, meeting, activity or liaison (the default).")
    case = _optional_id("source case: a resident's case of the village.")
    contact_record = _optional_id("source contact: a contact record of the village.")
    meeting = _optional_id("source meeting: a meeting of the village.")
    activity = _optional_id("source activity: an activity of this pairing.")


class NeedListCreateAPI(_List):
    """The pairing's need list (需求清单), core needs first; POST puts a need on it (from a case, a contact record,
    a village meeting or an activity in one step: the source is linked, a case is told)."""

    serializer_class = NeedSerializer
    list_filters = (
        ListFilter("status", _eq("status"), kind=str, enum=tuple(NeedStatus.values)),
        ListFilter("grade", _eq("grade"), kind=str, enum=tuple(NeedGrade.values)),
        ListFilter("feasibility", _eq("feasibility"), kind=str, enum=tuple(Feasibility.values)),
    )

    def get_queryset(self):
        pairing = _pairing(self.request, self.kwargs["pk"], "linking.view_needitem")
        return (selectors.needs_of(user=self.request.user, pairing=pairing).select_related("checked_by", "raised_by")
                .annotate(grade_rank=_GRADE_ORDER).order_by("grade_rank", "created_at", "id"))

    @extend_schema(tags=TAGS, responses={200: NeedSerializer(many=True), **READ_ERRORS, **LIST_ERRORS})
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(tags=TAGS, request=NeedIn, responses={201: NeedSerializer, **WRITE_ERRORS})
    def post(self, request, pk):
        from gongzhi.care.models import ContactRecord
        from gongzhi.village.models import Meeting

        pairing = _pairing(request, pk, "linking.add_needitem")
        d = _input(NeedIn, request)
        user, village = request.user, pairing.village_id
        need = services.need_raise(
            actor=user, pairing=pairing, title=d["title"], kind=d["kind"], grade=d["grade"], quantity=d["quantity"],
            unit=d["unit"], description=d["description"], asked_by=d["asked_by"], source=d["source"],
            place=_in(Region.objects.all(), d.get("place"), "place", "需求地点应在结对的村（社区）内", village_id=village),
            case=_case_of(request, d.get("case")),
            contact_record=_in(ContactRecord.objects.visible_to(user, "care.view_contactrecord"),
                               d.get("contact_record"), "contact_record", "本村没有这条走访记录", village_id=village),
            meeting=_in(Meeting.objects.visible_to(user, "village.view_meeting"), d.get("meeting"), "meeting",
                        "本村没有这次会议", region_id=village),
            activity=_in(Activity.objects.visible_to(user, "linking.view_activity"), d.get("activity"), "activity",
                         "本结对没有这次活动", pairing=pairing))
        return Response(NeedSerializer(_needs().get(pk=need.pk)).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=TAGS, responses={200: NeedSerializer, **READ_ERRORS})
class NeedDetailAPI(_View):
    """One need, with its feasibility check."""

    def get(self, request, pk):
        return Response(NeedSerializer(access_object(_needs(), request.user, "linking.view_needitem", pk=pk)).data)


@_component("NeedCheck")
class CheckIn(serializers.Serializer):
    feasibility = serializers.ChoiceField(choices=[c for c in Feasibility.choices if c[0] != Feasibility.PENDING])
    note = _text(300, help_text="The conditions, the difficulties, what it takes.")


@extend_schema(tags=TAGS, request=CheckIn, responses={200: NeedSerializer, **WRITE_ERRORS})
class NeedCheckAPI(_View):
    """可行性评估: every need is checked before it may be matched."""

    def post(self, request, pk):
        need = access_object(NeedItem.objects.all(), request.user, "linking.change_needitem", pk=pk)
        d = _input(CheckIn, request)
        need = services.need_check(actor=request.user, need=need, feasibility=d["feasibility"], note=d["note"])
        return Response(NeedSerializer(_needs().get(pk=need.pk)).data)


@extend_schema(tags=TAGS, request=ReviewIn, responses={200: NeedSerializer, **WRITE_ERRORS})
class NeedReviewAPI(_View):
    """清单复核 of a need: it still holds, or it is withdrawn (an open need only)."""

    def post(self, request, pk):
        access_object(NeedItem.objects.all(), request.user, "linking.change_needitem", pk=pk)
        item = _review(request, "need", pk)
        return Response(NeedSerializer(_needs().get(pk=item.pk)).data)


@_component("MatchReason")
class ReasonSerializer(serializers.Serializer):
    points = serializers.IntegerField()
    reason = serializers.CharField()


@_component("Match")
class MatchSerializer(serializers.Serializer):
    resource = serializers.IntegerField()
    name = serializers.CharField()
    score = serializers.IntegerField(help_text="The sum of the reasons' points.")
    available = serializers.BooleanField()
    refusal = serializers.CharField(help_text="Why it cannot serve (used up, withdrawn, kept for core needs).")
    reasons = ReasonSerializer(many=True)


@_component("Candidate")
class CandidateSerializer(MatchSerializer):
    pairing = serializers.IntegerField(help_text="The pairing offering it (a village may have several partners).")
    pairing_title = serializers.CharField()
    kind = serializers.CharField()
    remaining = serializers.IntegerField()
    unit = serializers.CharField()


@_component("Candidates")
class CandidatesSerializer(serializers.Serializer):
    need = NeedSerializer()
    candidates = CandidateSerializer(many=True, help_text="Available ones first, best first; then those that cannot "
                                                          "serve, with the reason.")


@extend_schema(tags=TAGS, responses={200: CandidatesSerializer, **READ_ERRORS})
class NeedCandidatesAPI(_View):
    """The resources that could meet the need, ranked, each with its points and why (type, place, what remains,
    the need's grade, freshness of the list): the village's current pairings' resources the caller may read."""

    def get(self, request, pk):
        need = access_object(_needs(), request.user, "linking.view_needitem", pk=pk)
        require_perm(request.user, "linking.view_resourceitem")
        rows = []
        for candidate in services.candidates_for(actor=request.user, need=need):
            resource = candidate.resource
            rows.append({**candidate.as_dict(), "pairing": resource.pairing_id, "pairing_title": resource.pairing.title,
                         "kind": resource.kind, "remaining": resource.remaining, "unit": resource.unit})
        return Response(CandidatesSerializer({"need": need, "candidates": rows}).data)


@_component("Project")
class ProjectSerializer(serializers.ModelSerializer):
    need_title = serializers.CharField(source="need.title", read_only=True)
    resource_name = serializers.CharField(source="resource.name", read_only=True)
    ranking = MatchSerializer(read_only=True, help_text="The match as explained when it was confirmed.")
    confirmed_by_name = _UserName("confirmed_by")
    stale = serializers.SerializerMethodField()

    class Meta:
        model = Project
        fields = ["id", "pairing", "need", "need_title", "resource", "resource_name", "title", "quantity", "status",
                  "progress", "ranking", "confirmed_by_name", "done_on", "outcome", "reviewed_on", "review_due_on",
                  "stale", "created_at"]

    def get_stale(self, obj) -> bool:
        return _stale(obj)


@_component("ProjectTask")
class TaskSerializer(serializers.ModelSerializer):
    department_name = _name("department")
    overdue = serializers.SerializerMethodField()

    class Meta:
        model = ProjectTask
        fields = ["id", "project", "title", "department", "department_name", "assignee_name", "due_on", "progress",
                  "note", "done_on", "overdue"]

    def get_overdue(self, obj) -> bool:
        return obj.progress < 100 and obj.due_on < timezone.localdate()


@_component("ProjectDetail")
class ProjectDetailSerializer(serializers.Serializer):
    project = ProjectSerializer()
    tasks = TaskSerializer(many=True, help_text="Broken down to departments and people, with progress.")


def _projects():
    return Project.objects.select_related("need", "resource", "confirmed_by")


def _project_detail(request, project: Project, code=status.HTTP_200_OK) -> Response:
    project = _projects().get(pk=project.pk)
    tasks = (_visible(request, ProjectTask, "linking.view_projecttask", project=project)
             .select_related("department").order_by("due_on", "id"))
    return Response(ProjectDetailSerializer({"project": project, "tasks": list(tasks)}).data, status=code)


@_component("ProjectTask")
class TaskIn(serializers.Serializer):
    title = _text(200)
    assignee_name = _text(50, help_text="The responsible person.")
    due_on = _date()
    department = _optional_id("A department of the county responsible for it.")


def _tasks(rows, county_id) -> list[dict]:
    return [{"title": t["title"], "assignee_name": t["assignee_name"], "due_on": t["due_on"],
             "department": _department(t.get("department"), county_id)} for t in rows]


@_component("MatchConfirm")
class ConfirmIn(serializers.Serializer):
    resource = _id(help_text="A candidate resource of the need's village.")
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_COUNT, required=False, allow_null=True,
                                        help_text="Committed from the resource; default: what the need asks, as far "
                                                  "as the resource goes.")
    title = _optional_text(200, help_text="The project; default: the need's title.")
    tasks = TaskIn(many=True, max_length=50, required=False)


@extend_schema(tags=TAGS, request=ConfirmIn, responses={201: ProjectDetailSerializer, **WRITE_ERRORS})
class NeedConfirmAPI(_View):
    """确认匹配: a feasible need and a resource with enough left become a project (the resource's capacity is
    committed under its row lock), with its tasks; the match's explanation is kept on the project."""

    def post(self, request, pk):
        need = access_object(NeedItem.objects.all(), request.user, "linking.add_project", pk=pk)
        d = _input(ConfirmIn, request)
        resource = _in(ResourceItem.objects.visible_to(request.user, "linking.view_resourceitem"), d["resource"],
                       "resource", "本村（社区）没有这项资源", village_id=need.village_id)
        project = services.project_confirm(actor=request.user, need=need, resource=resource,
                                           quantity=d.get("quantity"), title=d["title"],
                                           tasks=_tasks(d.get("tasks", []), need.county_id))
        return _project_detail(request, project, status.HTTP_201_CREATED)


class ProjectListAPI(_List):
    """The pairing's project list (项目清单): needs met by resources, with progress."""

    serializer_class = ProjectSerializer
    list_filters = (ListFilter("status", _eq("status"), kind=str, enum=tuple(ProjectStatus.values)),)

    def get_queryset(self):
        pairing = _pairing(self.request, self.kwargs["pk"], "linking.view_project")
        return (selectors.projects_of(user=self.request.user, pairing=pairing).select_related("confirmed_by")
                .order_by("status", "-created_at", "-id"))

    @extend_schema(tags=TAGS, responses={200: ProjectSerializer(many=True), **READ_ERRORS, **LIST_ERRORS})
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


@extend_schema(tags=TAGS, responses={200: ProjectDetailSerializer, **READ_ERRORS})
class ProjectDetailAPI(_View):
    """One project with its tasks."""

    def get(self, request, pk):
        return _project_detail(request, access_object(Project.objects.all(), request.user, "linking.view_project",
                                                      pk=pk))


@extend_schema(tags=TAGS, request=TaskIn, responses={201: TaskSerializer, **WRITE_ERRORS})
class ProjectTaskAddAPI(_View):
    """Break a project down: a task, who is responsible and by when."""

    def post(self, request, pk):
        project = access_object(Project.objects.all(), request.user, "linking.change_project", pk=pk)
        d = _input(TaskIn, request)
        task = services.task_add(actor=request.user, project=project, **_tasks([d], project.county_id)[0])
        return Response(TaskSerializer(ProjectTask.objects.select_related("department").get(pk=task.pk)).data,
                        status=status.HTTP_201_CREATED)


@_component("TaskProgress")
class ProgressIn(serializers.Serializer):
    progress = serializers.IntegerField(min_value=0, max_value=100, help_text="Percent; never lower than reported.")
    note = _text(300)


@extend_schema(tags=TAGS, request=ProgressIn, responses={200: TaskSerializer, **WRITE_ERRORS})
class TaskProgressAPI(_View):
    """A task's progress; the project's is the mean of its tasks'."""

    def post(self, request, pk):
        task = access_object(ProjectTask.objects.all(), request.user, "linking.change_project", pk=pk)
        d = _input(ProgressIn, request)
        task = services.task_progress(actor=request.user, task=task, progress=d["progress"], note=d["note"])
        return Response(TaskSerializer(ProjectTask.objects.select_related("department").get(pk=task.pk)).data)


@_component("ProjectComplete")
class CompleteIn(serializers.Serializer):
    outcome = _text(2000, help_text="What it changed for residents (not \"done\").")


@extend_schema(tags=TAGS, request=CompleteIn, responses={200: ProjectDetailSerializer, **WRITE_ERRORS})
class ProjectCompleteAPI(_View):
    """办结: every task done, the outcome written; the need is met and a case behind it is told."""

    def post(self, request, pk):
        project = access_object(Project.objects.all(), request.user, "linking.change_project", pk=pk)
        d = _input(CompleteIn, request)
        project = services.project_complete(actor=request.user, project=project, outcome=d["outcome"])
        return _project_detail(request, project)


@extend_schema(tags=TAGS, request=ReviewIn, responses={200: ProjectDetailSerializer, **WRITE_ERRORS})
class ProjectReviewAPI(_View):
    """清单复核 of a project: it still holds, or it is suspended."""

    def post(self, request, pk):
        access_object(Project.objects.all(), request.user, "linking.change_project", pk=pk)
        return _project_detail(request, _review(request, "project", pk))


# ---------------------------------------------------------------------------------------------
# activities, attendance, evaluations


@_component("Activity")
class ActivitySerializer(serializers.ModelSerializer):
    created_by_name = _UserName("created_by")
    survey_open = serializers.SerializerMethodField(help_text="Residents may answer the three-tap survey now.")

    class Meta:
        model = Activity
        fields = ["id", "pairing", "kind", "title", "place", "starts_at", "ends_at", "status", "project",
                  "follow_up_of", "summary", "decisions", "residents_served", "held_at", "created_by_name",
                  "survey_open"]

    def get_survey_open(self, obj) -> bool:
        return services.survey_open(obj)


@_component("Attendance")
class AttendanceSerializer(serializers.ModelSerializer):
    class Meta:
        model = ActivityAttendance
        fields = ["id", "activity", "side", "name", "arrived_at", "left_at", "left_early"]
        extra_kwargs = {"left_early": {"help_text": "Left more than the county's margin before the end."}}


@_component("Evaluation")
class EvaluationSerializer(serializers.ModelSerializer):
    by_side = serializers.CharField(read_only=True, help_text="lead or partner.")
    effect = serializers.IntegerField(read_only=True, help_text="3 good, 2 fair, 1 poor.")
    cooperation = serializers.IntegerField(read_only=True, help_text="3 good, 2 fair, 1 poor.")
    evaluator_name = _UserName("evaluator")

    class Meta:
        model = Evaluation
        fields = ["id", "activity", "by_side", "outcome", "problems_solved", "residents_benefited", "effect",
                  "cooperation", "improve", "evaluator_name", "created_at"]


@_component("SurveyCounts")
class SurveyCountsSerializer(serializers.Serializer):
    good = serializers.IntegerField()
    fair = serializers.IntegerField()
    poor = serializers.IntegerField()


@_component("Survey")
class SurveySerializer(serializers.Serializer):
    responses = serializers.IntegerField()
    content = SurveyCountsSerializer()
    format = SurveyCountsSerializer()
    timing = SurveyCountsSerializer()


@_component("ActivityDetail")
class ActivityDetailSerializer(serializers.Serializer):
    activity = ActivitySerializer()
    attendance = AttendanceSerializer(many=True)
    left_early = serializers.IntegerField(help_text="Attendees who left early.")
    survey = SurveySerializer(allow_null=True, help_text="The residents' answers counted; null for a caller who may "
                                                         "not read them.")
    evaluations = EvaluationSerializer(many=True, help_text="Both sides' evaluations, judged by outcomes.")


def _survey(activity: Activity) -> dict:
    counted = selectors.activity_survey_summary(activity)
    names = {Rating.GOOD: "good", Rating.FAIR: "fair", Rating.POOR: "poor"}
    return {"responses": counted["responses"],
            **{part: {names[r]: counted[part][r] for r in names} for part in ("content", "format", "timing")}}


def _activities():
    return Activity.objects.select_related("pairing", "created_by")


def _activity_detail(request, activity: Activity, code=status.HTTP_200_OK) -> Response:
    activity = _activities().get(pk=activity.pk)
    attendance = list(_visible(request, ActivityAttendance, "linking.view_activityattendance", activity=activity)
                      .order_by("side", "arrived_at", "id"))
    readable = Activity.objects.visible_to(request.user, "linking.view_surveyresponse").filter(pk=activity.pk)
    evaluations = (_visible(request, Evaluation, "linking.view_evaluation", activity=activity)
                   .select_related("evaluator").order_by("by_side"))
    data = {"activity": activity, "attendance": attendance, "left_early": sum(a.left_early for a in attendance),
            "survey": _survey(activity) if readable.exists() else None, "evaluations": list(evaluations)}
    return Response(ActivityDetailSerializer(data).data, status=code)


@_component("Activity")
class ActivityIn(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ActivityKind.choices)
    title = _text(200)
    place = _text(150)
    starts_at = _datetime()
    ends_at = _datetime()
    project = _optional_id("A project of this pairing it serves.")
    follow_up_of = _optional_id("follow_up: the activity of this pairing it follows up.")


class ActivityListCreateAPI(_List):
    """The pairing's joint activities (meetings, services, surveys, reviews, follow-up visits), latest first;
    POST plans one."""

    serializer_class = ActivitySerializer
    list_filters = (
        ListFilter("kind", _eq("kind"), kind=str, enum=tuple(ActivityKind.values)),
        ListFilter("status", _eq("status"), kind=str, enum=tuple(ActivityStatus.values)),
    )

    def get_queryset(self):
        pairing = _pairing(self.request, self.kwargs["pk"], "linking.view_activity")
        return (_activities().visible_to(self.request.user, "linking.view_activity").filter(pairing=pairing)
                .order_by("-starts_at", "-id"))

    @extend_schema(tags=TAGS, responses={200: ActivitySerializer(many=True), **READ_ERRORS, **LIST_ERRORS})
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(tags=TAGS, request=ActivityIn, responses={201: ActivityDetailSerializer, **WRITE_ERRORS})
    def post(self, request, pk):
        pairing = _pairing(request, pk, "linking.add_activity")
        d = _input(ActivityIn, request)
        activity = services.activity_plan(
            actor=request.user, pairing=pairing, kind=d["kind"], title=d["title"], place=d["place"],
            starts_at=d["starts_at"], ends_at=d["ends_at"],
            project=_in(Project.objects.all(), d.get("project"), "project", "本结对没有这个项目", pairing=pairing),
            follow_up_of=_in(Activity.objects.all(), d.get("follow_up_of"), "follow_up_of", "本结对没有这次活动",
                             pairing=pairing))
        return _activity_detail(request, activity, status.HTTP_201_CREATED)


@extend_schema(tags=TAGS, responses={200: ActivityDetailSerializer, **READ_ERRORS})
class ActivityDetailAPI(_View):
    """One activity: who came (and who left early), the residents' survey counted, both sides' evaluations."""

    def get(self, request, pk):
        return _activity_detail(request, access_object(Activity.objects.all(), request.user, "linking.view_activity",
                                                       pk=pk))


@_component("Attendance")
class AttendanceIn(serializers.Serializer):
    side = serializers.ChoiceField(choices=AttendeeSide.choices)
    name = _text(50)
    arrived_at = _datetime(required=False, allow_null=True, help_text="Default: the start.")
    left_at = _datetime(required=False, allow_null=True, help_text="Leaving before the end, less the county's "
                                                                   "margin, is leaving early.")


@extend_schema(tags=TAGS, request=AttendanceIn, responses={201: AttendanceSerializer, **WRITE_ERRORS})
class AttendanceRecordAPI(_View):
    """签到: one attendee, by name and side."""

    def post(self, request, pk):
        activity = access_object(Activity.objects.all(), request.user, "linking.change_activity", pk=pk)
        d = _input(AttendanceIn, request)
        row = services.attendance_record(actor=request.user, activity=activity, side=d["side"], name=d["name"],
                                         arrived_at=d.get("arrived_at"), left_at=d.get("left_at"))
        return Response(AttendanceSerializer(row).data, status=status.HTTP_201_CREATED)


@_component("AttendanceLeft")
class LeftIn(serializers.Serializer):
    left_at = _datetime()


@extend_schema(tags=TAGS, request=LeftIn, responses={200: AttendanceSerializer, **WRITE_ERRORS})
class AttendanceLeftAPI(_View):
    """An attendee left (early, if before the end less the county's margin)."""

    def post(self, request, pk):
        row = access_object(ActivityAttendance.objects.all(), request.user, "linking.change_activity", pk=pk)
        d = _input(LeftIn, request)
        row = services.attendance_left(actor=request.user, attendance=row, left_at=d["left_at"])
        return Response(AttendanceSerializer(row).data)


@_component("ActivityHold")
class HoldIn(serializers.Serializer):
    summary = _text(4000, help_text="What was done and what was settled.")
    decisions = _optional_text(4000, help_text="A joint meeting's decisions (required for one): they go into the "
                                               "archive.")
    residents_served = _count(default=0)


@extend_schema(tags=TAGS, request=HoldIn, responses={200: ActivityDetailSerializer, **WRITE_ERRORS})
class ActivityHoldAPI(_View):
    """The activity took place: what was done, and for a joint meeting what it decided."""

    def post(self, request, pk):
        activity = access_object(Activity.objects.all(), request.user, "linking.change_activity", pk=pk)
        d = _input(HoldIn, request)
        activity = services.activity_hold(actor=request.user, activity=activity, summary=d["summary"],
                                          decisions=d["decisions"], residents_served=d["residents_served"])
        return _activity_detail(request, activity)


@_component("ActivityCancel")
class CancelIn(serializers.Serializer):
    reason = _text(300)


@extend_schema(tags=TAGS, request=CancelIn, responses={200: ActivityDetailSerializer, **WRITE_ERRORS})
class ActivityCancelAPI(_View):
    """Cancel a planned activity, with the reason."""

    def post(self, request, pk):
        activity = access_object(Activity.objects.all(), request.user, "linking.change_activity", pk=pk)
        d = _input(CancelIn, request)
        activity = services.activity_cancel(actor=request.user, activity=activity, reason=d["reason"])
        return _activity_detail(request, activity)


@_component("Evaluation")
class EvaluationIn(serializers.Serializer):
    by_side = _one_of(Side.choices, help_text="lead or partner: the side evaluating (the caller's post's).")
    outcome = _text(4000, help_text="What changed for residents: problems solved, who benefited (not \"done\").")
    effect = _rating()
    cooperation = _rating()
    problems_solved = _count(default=0)
    residents_benefited = _count(default=0)
    improve = _optional_text(2000, help_text="What the other side should do better (it becomes feedback the next "
                                             "plan answers).")


@extend_schema(tags=TAGS, request=EvaluationIn, responses={201: EvaluationSerializer, **WRITE_ERRORS})
class EvaluationRecordAPI(_View):
    """双向评价: one side evaluates the other after a held activity, once, by what it changed."""

    def post(self, request, pk):
        activity = access_object(Activity.objects.all(), request.user, "linking.add_evaluation", pk=pk)
        d = _input(EvaluationIn, request)
        evaluation = services.evaluation_record(actor=request.user, activity=activity, **d)
        return Response(EvaluationSerializer(Evaluation.objects.select_related("evaluator").get(pk=evaluation.pk)).data,
                        status=status.HTTP_201_CREATED)


# ---------------------------------------------------------------------------------------------
# feedback and plans


@_component("PlanAnswer")
class PlanAnswerSerializer(serializers.ModelSerializer):
    period = serializers.CharField(source="plan.period", read_only=True)
    plan_status = serializers.CharField(source="plan.status", read_only=True, help_text="draft or adopted.")

    class Meta:
        model = PlanFeedback
        fields = ["plan", "period", "plan_status", "taken_in", "response"]


@_component("Feedback")
class FeedbackSerializer(serializers.ModelSerializer):
    text = serializers.SerializerMethodField(help_text="Phone and ID numbers in it are masked.")
    case_number = serializers.SerializerMethodField(help_text="From a resident's case: its number only.")
    recorded_by_name = _UserName("recorded_by")
    answers = PlanAnswerSerializer(source="plan_responses", many=True, read_only=True,
                                   help_text="What plans did with it.")

    class Meta:
        model = FeedbackItem
        fields = ["id", "pairing", "channel", "text", "activity", "case_number", "received_at", "recorded_by_name",
                  "answers"]

    def get_case_number(self, obj) -> str | None:
        return _case_number(obj)

    def get_text(self, obj) -> str:
        return _case_text(obj, obj.text)


def _awaiting(qs, value: bool):
    """``services.feedback_awaiting`` as a filter: feedback no adopted plan has answered (a plan only ever
    answers its own pairing's feedback, so the pairing need not be named)."""
    answered = PlanFeedback.objects.filter(plan__status=PlanStatus.ADOPTED).values("feedback_id")
    return qs.exclude(pk__in=answered) if value else qs.filter(pk__in=answered)


def _feedback():
    return FeedbackItem.objects.select_related("case", "recorded_by").prefetch_related("plan_responses__plan")


@_component("FeedbackRecord")
class FeedbackIn(serializers.Serializer):
    channel = serializers.ChoiceField(choices=[(c.value, c.label) for c in sorted(services.STAFF_CHANNELS)],
                                      help_text="Taken by staff: the fixed window, the suggestion box, the "
                                                "party-building account.")
    text = _text(2000)
    activity = _optional_id("An activity of this pairing it is about.")
    received_at = _datetime(required=False, allow_null=True, help_text="Default: now.")


class FeedbackListCreateAPI(_List):
    """Feedback on the pairing from every channel, newest first, with what plans did with each; POST records
    feedback taken at the window, from the box or the party-building account."""

    serializer_class = FeedbackSerializer
    list_filters = (
        ListFilter("channel", _eq("channel"), kind=str, enum=tuple(FeedbackChannel.values)),
        ListFilter("awaiting", lambda qs, value, request: _awaiting(qs, value), kind=bool,
                   description="true: not yet answered by an adopted plan."),
    )

    def get_queryset(self):
        pairing = _pairing(self.request, self.kwargs["pk"], "linking.view_feedbackitem")
        return (_feedback().visible_to(self.request.user, "linking.view_feedbackitem").filter(pairing=pairing)
                .order_by("-received_at", "-id"))

    @extend_schema(tags=TAGS, responses={200: FeedbackSerializer(many=True), **READ_ERRORS, **LIST_ERRORS})
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(tags=TAGS, request=FeedbackIn, responses={201: FeedbackSerializer, **WRITE_ERRORS})
    def post(self, request, pk):
        pairing = _pairing(request, pk, "linking.add_feedbackitem")
        d = _input(FeedbackIn, request)
        item = services.feedback_record(
            actor=request.user, pairing=pairing, channel=d["channel"], text=d["text"],
            activity=_in(Activity.objects.all(), d.get("activity"), "activity", "本结对没有这次活动", pairing=pairing),
            received_at=d.get("received_at"))
        return Response(FeedbackSerializer(_feedback().get(pk=item.pk)).data, status=status.HTTP_201_CREATED)


@_component("FeedbackFromCase")
class FromCaseIn(serializers.Serializer):
    case = _id(help_text="A resident's case of the county about the pairing (a 12345 call …).")


@extend_schema(tags=TAGS, request=FromCaseIn, responses={201: FeedbackSerializer, **WRITE_ERRORS})
class FeedbackFromCaseAPI(_View):
    """A case that came in on the 12345 line (or any channel) about the pairing lands in its feedback: the
    matter's description with the case number; who filed it stays with the case."""

    def post(self, request, pk):
        pairing = _pairing(request, pk, "linking.add_feedbackitem")
        # Feedback from a case is for whoever may read cases; the case itself is a body reference (400).
        require_perm(request.user, "cases.view_case")
        d = _input(FromCaseIn, request)
        item = services.feedback_from_case(actor=request.user, pairing=pairing, case=_case_of(request, d["case"]))
        return Response(FeedbackSerializer(_feedback().get(pk=item.pk)).data, status=status.HTTP_201_CREATED)


@_component("Plan")
class PlanSerializer(serializers.ModelSerializer):
    created_by_name = _UserName("created_by")

    class Meta:
        model = Plan
        fields = ["id", "pairing", "period", "starts_on", "ends_on", "content", "status", "adopted_at",
                  "created_by_name", "created_at"]


@_component("PlanResponse")
class PlanResponseSerializer(serializers.ModelSerializer):
    feedback_text = serializers.SerializerMethodField()

    class Meta:
        model = PlanFeedback
        fields = ["id", "feedback", "feedback_text", "taken_in", "response"]

    def get_feedback_text(self, obj) -> str:
        return _case_text(obj.feedback, obj.feedback.text)


@_component("PlanDetail")
class PlanDetailSerializer(serializers.Serializer):
    plan = PlanSerializer()
    responses = PlanResponseSerializer(many=True, help_text="What the plan did with earlier feedback.")
    awaiting = FeedbackSerializer(many=True, help_text="Feedback no adopted plan has answered and this one not yet "
                                                       "either: each needs a response before the plan is adopted.")


def _plan_detail(request, plan: Plan, code=status.HTTP_200_OK) -> Response:
    plan = Plan.objects.select_related("pairing", "created_by").get(pk=plan.pk)
    responses = (_visible(request, PlanFeedback, "linking.view_planfeedback", plan=plan)
                 .select_related("feedback__case").order_by("feedback_id"))
    awaiting = []
    if plan.status == PlanStatus.DRAFT:
        answered = set(plan.responses.values_list("feedback_id", flat=True))
        awaiting = [f for f in _feedback().filter(pk__in=services.feedback_awaiting(plan.pairing).values("pk"))
                    .visible_to(request.user, "linking.view_feedbackitem").order_by("received_at", "id")
                    if f.pk not in answered]
    data = {"plan": plan, "responses": list(responses), "awaiting": awaiting}
    return Response(PlanDetailSerializer(data).data, status=code)


@_component("Plan")
class PlanIn(serializers.Serializer):
    period = _text(40, help_text="2027年度, 2027年第一季度 …")
    starts_on = _date()
    ends_on = _date()
    content = _text(8000)


class PlanListCreateAPI(_List):
    """The pairing's plans, latest first; POST drafts the next one."""

    serializer_class = PlanSerializer
    list_filters = (ListFilter("status", _eq("status"), kind=str, enum=tuple(PlanStatus.values)),)

    def get_queryset(self):
        pairing = _pairing(self.request, self.kwargs["pk"], "linking.view_plan")
        return (Plan.objects.visible_to(self.request.user, "linking.view_plan").filter(pairing=pairing)
                .select_related("created_by").order_by("-starts_on", "-id"))

    @extend_schema(tags=TAGS, responses={200: PlanSerializer(many=True), **READ_ERRORS, **LIST_ERRORS})
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(tags=TAGS, request=PlanIn, responses={201: PlanDetailSerializer, **WRITE_ERRORS})
    def post(self, request, pk):
        pairing = _pairing(request, pk, "linking.add_plan")
        d = _input(PlanIn, request)
        plan = services.plan_draft(actor=request.user, pairing=pairing, **d)
        return _plan_detail(request, plan, status.HTTP_201_CREATED)


@extend_schema(tags=TAGS, responses={200: PlanDetailSerializer, **READ_ERRORS})
class PlanDetailAPI(_View):
    """One plan, what it did with earlier feedback, and (a draft) the feedback it still has to answer."""

    def get(self, request, pk):
        return _plan_detail(request, access_object(Plan.objects.all(), request.user, "linking.view_plan", pk=pk))


@_component("PlanAnswerIn")
class AnswerIn(serializers.Serializer):
    feedback = _id(help_text="Earlier feedback of the pairing no adopted plan has answered.")
    taken_in = serializers.BooleanField()
    response = _text(300, help_text="How it was taken in, or why not.")


@_component("PlanResponses")
class ResponsesIn(serializers.Serializer):
    responses = AnswerIn(many=True, min_length=1, max_length=500)

    def validate_responses(self, rows):
        _no_duplicates([r["feedback"] for r in rows], "意见")
        return rows


@extend_schema(tags=TAGS, request=ResponsesIn, responses={200: PlanDetailSerializer, **WRITE_ERRORS})
class PlanRespondAPI(_View):
    """For pieces of earlier feedback: whether the draft plan takes them in, and how (or why not)."""

    def post(self, request, pk):
        plan = access_object(Plan.objects.all(), request.user, "linking.change_plan", pk=pk)
        rows = _input(ResponsesIn, request)["responses"]
        plan = services.plan_respond(actor=request.user, plan=plan,
                                     responses={r["feedback"]: (r["taken_in"], r["response"]) for r in rows})
        return _plan_detail(request, plan)


@extend_schema(tags=TAGS, request=None, responses={200: PlanDetailSerializer, **WRITE_ERRORS})
class PlanAdoptAPI(_View):
    """Adopt a plan: refused (400, saying how many) while earlier feedback has no response in it."""

    def post(self, request, pk):
        plan = access_object(Plan.objects.all(), request.user, "linking.change_plan", pk=pk)
        return _plan_detail(request, services.plan_adopt(actor=request.user, plan=plan))


# ---------------------------------------------------------------------------------------------
# the fast track


@_component("Approval")
class ApprovalSerializer(serializers.ModelSerializer):
    pairing_title = serializers.CharField(source="pairing.title", read_only=True)
    requested_by_name = _UserName("requested_by")
    decided_by_name = _UserName("decided_by")
    overdue = serializers.SerializerMethodField(help_text="Still waiting past its working-day limit.")

    class Meta:
        model = ApprovalRequest
        fields = ["id", "pairing", "pairing_title", "kind", "title", "detail", "amount", "project",
                  "requested_by_name", "requested_at", "due_at", "county_due_at", "status", "decided_by_name",
                  "decided_at", "decision_note", "overdue", "escalated_at"]
        extra_kwargs = {"due_at": {"help_text": "To be decided by (the county's working days, holidays counted)."},
                        "county_due_at": {"help_text": "Undecided by then, it goes to the county."}}

    def get_overdue(self, obj) -> bool:
        return obj.status == ApprovalStatus.PENDING and obj.due_at < timezone.now()


def _approvals():
    return ApprovalRequest.objects.select_related("pairing", "requested_by", "decided_by")


@extend_schema(tags=TAGS, responses={200: ApprovalSerializer(many=True), **LIST_ERRORS})
class ApprovalListAPI(_List):
    """Fast-track requests in the caller's scope: pending first, the most urgent first (filter by status or
    pairing)."""

    serializer_class = ApprovalSerializer
    list_filters = (
        ListFilter("status", _eq("status"), kind=str, enum=tuple(ApprovalStatus.values)),
        ListFilter("pairing", _eq("pairing_id"), description="pairing id"),
        ListFilter("overdue", lambda qs, value, request: qs.filter(status=ApprovalStatus.PENDING,
                                                                   due_at__lt=timezone.now()) if value else qs,
                   kind=bool, description="true: pending past the limit."),
    )

    def get_queryset(self):
        require_perm(self.request.user, "linking.view_approvalrequest")
        pending_first = db.Case(db.When(status=ApprovalStatus.PENDING, then=db.Value(0)), default=db.Value(1),
                                output_field=db.IntegerField())
        return (_approvals().visible_to(self.request.user, "linking.view_approvalrequest")
                .annotate(pending_first=pending_first).order_by("pending_first", "due_at", "id"))


@_component("Approval")
class ApprovalIn(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ApprovalKind.choices)
    title = _text(200)
    detail = _text(2000, help_text="What for, when, how much.")
    amount = _money(12, required=False, allow_null=True, min_value=Decimal("0.01"),
                    help_text="Yuan (required for funds).")
    project = _optional_id("A project of this pairing it serves.")


@extend_schema(tags=TAGS, request=ApprovalIn, responses={201: ApprovalSerializer, **WRITE_ERRORS})
class ApprovalRequestAPI(_View):
    """快速通道: ask for a venue, funds or people; the town decides within the county's working days, or the
    request is escalated."""

    def post(self, request, pk):
        pairing = _pairing(request, pk, "linking.add_approvalrequest")
        d = _input(ApprovalIn, request)
        approval = services.approval_request(
            actor=request.user, pairing=pairing, kind=d["kind"], title=d["title"], detail=d["detail"],
            amount=d.get("amount"),
            project=_in(Project.objects.all(), d.get("project"), "project", "本结对没有这个项目", pairing=pairing))
        return Response(ApprovalSerializer(_approvals().get(pk=approval.pk)).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=TAGS, responses={200: ApprovalSerializer, **READ_ERRORS})
class ApprovalDetailAPI(_View):
    """One fast-track request."""

    def get(self, request, pk):
        return Response(ApprovalSerializer(access_object(_approvals(), request.user, "linking.view_approvalrequest",
                                                         pk=pk)).data)


@_component("ApprovalDecision")
class DecideIn(serializers.Serializer):
    approve = serializers.BooleanField()
    note = _optional_text(300, help_text="The reason (required for a refusal).")


@extend_schema(tags=TAGS, request=DecideIn, responses={200: ApprovalSerializer, **WRITE_ERRORS})
class ApprovalDecideAPI(_View):
    """Decide a request, once: a second decision is a 400 saying who decided and when; nobody decides their own."""

    def post(self, request, pk):
        approval = access_object(ApprovalRequest.objects.all(), request.user, "linking.decide_approvalrequest", pk=pk)
        d = _input(DecideIn, request)
        approval = services.approval_decide(actor=request.user, approval=approval, approve=d["approve"],
                                            note=d["note"])
        return Response(ApprovalSerializer(_approvals().get(pk=approval.pk)).data)


# ---------------------------------------------------------------------------------------------
# 三联 and the 535 links


@_component("Link")
class LinkSerializer(serializers.ModelSerializer):
    from_person_name = _name("from_person")
    from_department_name = _name("from_department")
    from_region_name = _name("from_region")
    to_region_name = _name("to_region")
    activity_count = serializers.SerializerMethodField()

    class Meta:
        model = Link
        fields = ["id", "kind", "from_person", "from_person_name", "from_post", "from_department",
                  "from_department_name", "from_region", "from_region_name", "to_region", "to_region_name",
                  "to_household", "started_on", "ended_on", "note", "activity_count"]
        extra_kwargs = {"to_household": {"help_text": "A cadre's household (干部联户): its id only."}}

    def get_activity_count(self, obj) -> int:
        count = getattr(obj, "activity_count", None)
        return count if count is not None else obj.activities.count()


def _links():
    return Link.objects.select_related("from_person", "from_department", "from_region", "to_region")


@_component("Link")
class LinkIn(serializers.Serializer):
    kind = serializers.ChoiceField(choices=LinkKind.choices)
    to_region = _optional_id("The town or village linked to (from the household for cadre_household).")
    to_household = _optional_id("cadre_household: the household.")
    from_person = _optional_id("leader_town, cadre_household, three_officials, town_leader_village: the person.")
    from_post = _optional_text(100, help_text="The person's post: 县委常委、副县长; 法官 …")
    from_department = _optional_id("department_village: a department of the county.")
    from_region = _optional_id("strong_weak, host_community: the other village.")
    started_on = _date()
    note = _optional_text(200)


class LinkListCreateAPI(_List):
    """The 535 links (and 三官一律, town leaders following villages) in the caller's scope, with how many
    activities each has; POST makes one (its shape follows its kind)."""

    serializer_class = LinkSerializer
    list_filters = (
        ListFilter("kind", _eq("kind"), kind=str, enum=tuple(LinkKind.values)),
        ListFilter("to_region", _eq("to_region_id"), description="the town or village linked to"),
        ListFilter("current", lambda qs, value, request: qs.filter(ended_on__isnull=value), kind=bool,
                   description="true: not ended."),
    )

    def get_queryset(self):
        require_perm(self.request.user, "linking.view_link")
        return selectors.links_for(user=self.request.user).order_by("kind", "to_region__code", "id")

    @extend_schema(tags=TAGS, responses={200: LinkSerializer(many=True), **LIST_ERRORS})
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(tags=TAGS, request=LinkIn, responses={201: LinkSerializer, **WRITE_ERRORS})
    def post(self, request):
        require_perm(request.user, "linking.add_link")
        d = _input(LinkIn, request)
        household = _in(Household.objects.visible_to(request.user, "registry.view_household"), d.get("to_household"),
                        "to_household", "没有这一户")
        if household is not None:
            to_region = household.region  # the service reads the household's region itself
        elif d["kind"] == LinkKind.CADRE_HOUSEHOLD:
            raise _missing("to_household", "干部联户请选择联系的农户")
        elif d.get("to_region"):
            to_region = _region(request, d["to_region"], "linking.add_link")
        else:
            raise _missing("to_region", "请选择联系的镇（街道）或村（社区）")
        county = to_region.county_id
        link = services.link_create(
            actor=request.user, kind=d["kind"], to_region=to_region, to_household=household,
            started_on=d["started_on"], from_person=_person(request, d.get("from_person"), "from_person"),
            from_post=d["from_post"], from_department=_department(d.get("from_department"), county, "from_department"),
            from_region=_in(Region.objects.all(), d.get("from_region"), "from_region", "本县没有这个村（社区）",
                            county_id=county),
            note=d["note"])
        return Response(LinkSerializer(_links().get(pk=link.pk)).data, status=status.HTTP_201_CREATED)


@_component("LinkEnd")
class LinkEndIn(serializers.Serializer):
    ended_on = _date(required=False, allow_null=True, help_text="Default: today.")
    reason = _optional_text(150)


@extend_schema(tags=TAGS, request=LinkEndIn, responses={200: LinkSerializer, **WRITE_ERRORS})
class LinkEndAPI(_View):
    """End a link (the row stays as history)."""

    def post(self, request, pk):
        link = access_object(Link.objects.all(), request.user, "linking.change_link", pk=pk)
        d = _input(LinkEndIn, request)
        link = services.link_end(actor=request.user, link=link, ended_on=d.get("ended_on"), reason=d["reason"])
        return Response(LinkSerializer(_links().get(pk=link.pk)).data)


@_component("LinkActivity")
class LinkActivitySerializer(serializers.ModelSerializer):
    recorded_by_name = _UserName("recorded_by")

    class Meta:
        model = LinkActivity
        fields = ["id", "link", "held_on", "summary", "problems_solved", "recorded_by_name"]


@_component("LinkActivity")
class LinkActivityIn(serializers.Serializer):
    held_on = _date()
    summary = _text(300)
    problems_solved = _count(default=0)


class LinkActivityListCreateAPI(_List):
    """What a link has done (visits, problems solved), latest first; POST records one more."""

    serializer_class = LinkActivitySerializer

    def get_queryset(self):
        link = access_object(Link.objects.all(), self.request.user, "linking.view_linkactivity", pk=self.kwargs["pk"])
        return (LinkActivity.objects.visible_to(self.request.user, "linking.view_linkactivity").filter(link=link)
                .select_related("recorded_by").order_by("-held_on", "-id"))

    @extend_schema(tags=TAGS, responses={200: LinkActivitySerializer(many=True), **READ_ERRORS, **LIST_ERRORS})
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(tags=TAGS, request=LinkActivityIn, responses={201: LinkActivitySerializer, **WRITE_ERRORS})
    def post(self, request, pk):
        link = access_object(Link.objects.all(), request.user, "linking.add_linkactivity", pk=pk)
        d = _input(LinkActivityIn, request)
        row = services.link_activity_record(actor=request.user, link=link, **d)
        return Response(LinkActivitySerializer(row).data, status=status.HTTP_201_CREATED)


@_component("RegionBrief")
class RegionBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Region
        fields = ["id", "code", "name"]


@_component("CoverageGap")
class GapSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    regions = RegionBriefSerializer(many=True)


COVERAGE_GAPS = {
    "weak_without_strong": "Weak villages with no strong partner (no strong–weak link, no village–village pairing "
                           "in force).",
    "villages_without_department": "Villages no department is linked to.",
    "towns_without_leader": "Towns no county leader is linked to.",
    "villages_without_town_leader": "Villages no town leader follows (no link, no stationed team).",
    "communities_without_host": "New communities with no host village.",
    "villages_without_pairing": "Villages with no pairing in force.",
}


@_component("Coverage")
class CoverageSerializer(serializers.Serializer):
    weak_without_strong = GapSerializer(help_text=COVERAGE_GAPS["weak_without_strong"])
    villages_without_department = GapSerializer(help_text=COVERAGE_GAPS["villages_without_department"])
    towns_without_leader = GapSerializer(help_text=COVERAGE_GAPS["towns_without_leader"])
    villages_without_town_leader = GapSerializer(help_text=COVERAGE_GAPS["villages_without_town_leader"])
    communities_without_host = GapSerializer(help_text=COVERAGE_GAPS["communities_without_host"])
    villages_without_pairing = GapSerializer(help_text=COVERAGE_GAPS["villages_without_pairing"])


@extend_schema(tags=TAGS, responses={200: CoverageSerializer, **api_errors(401, 403)})
class CoverageAPI(_View):
    """Who has no partner, in the caller's scope (the 535 and 三联 as queries): each gap counted, with its regions."""

    def get(self, request):
        require_perm(request.user, "linking.view_link")
        gaps = selectors.coverage(user=request.user)
        data = {name: {"count": len(rows), "regions": rows}
                for name, rows in ((name, list(qs.order_by("code"))) for name, qs in gaps.items())}
        return Response(CoverageSerializer(data).data)


@_component("VillageGrade")
class VillageGradeSerializer(serializers.ModelSerializer):
    region_name = _name("region")

    class Meta:
        model = VillageGrade
        fields = ["id", "region", "region_name", "grade", "reason", "assessed_on"]


@_component("VillageGrade")
class VillageGradeIn(serializers.Serializer):
    region = _id(help_text="The village.")
    grade = serializers.ChoiceField(choices=VillageGradeKind.choices)
    reason = _text(200)
    assessed_on = _date(required=False, allow_null=True, help_text="Default: today.")


class VillageGradeListSetAPI(_List):
    """The county's grading of villages (strong, ordinary, weak), what link coverage is measured against; POST
    grades a village (201 when first graded, 200 when the grade changed)."""

    serializer_class = VillageGradeSerializer
    list_filters = (
        ListFilter("grade", _eq("grade"), kind=str, enum=tuple(VillageGradeKind.values)),
        ListFilter("town", _eq("town_id"), description="town id"),
    )

    def get_queryset(self):
        require_perm(self.request.user, "linking.view_villagegrade")
        return (VillageGrade.objects.visible_to(self.request.user, "linking.view_villagegrade")
                .select_related("region").order_by("region__code"))

    @extend_schema(tags=TAGS, responses={200: VillageGradeSerializer(many=True), **LIST_ERRORS})
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(tags=TAGS, request=VillageGradeIn, responses={
        200: OpenApiResponse(VillageGradeSerializer, description="The village's grade was changed."),
        201: OpenApiResponse(VillageGradeSerializer, description="The village is graded for the first time."),
        **WRITE_ERRORS})
    def post(self, request):
        require_perm(request.user, "linking.add_villagegrade")
        d = _input(VillageGradeIn, request)
        region = _region(request, d["region"], "linking.add_villagegrade", RegionLevel.VILLAGE)
        existed = VillageGrade.objects.filter(region=region).exists()
        row = services.village_grade_set(actor=request.user, region=region, grade=d["grade"], reason=d["reason"],
                                         assessed_on=d.get("assessed_on"))
        return Response(VillageGradeSerializer(row).data, status=status.HTTP_200_OK if existed else
                        status.HTTP_201_CREATED)


@_component("Alliance")
class AllianceSerializer(serializers.ModelSerializer):
    region_name = _name("region")
    mode = serializers.CharField(read_only=True, help_text="same_trade, cross_trade or leading_firm.")

    class Meta:
        model = Alliance
        fields = ["id", "region", "region_name", "name", "trade", "mode", "founded_on"]


@_component("AllianceMember")
class AllianceMemberSerializer(serializers.ModelSerializer):
    class Meta:
        model = AllianceMember
        fields = ["id", "alliance", "host_unit", "member_region", "name", "is_lead", "joined_on", "left_on"]


@_component("AllianceOperation")
class AllianceOperationSerializer(serializers.ModelSerializer):
    class Meta:
        model = AllianceOperation
        fields = ["id", "alliance", "title", "started_on", "area_mu", "jobs", "income", "note"]


@_component("AllianceDetail")
class AllianceDetailSerializer(serializers.Serializer):
    alliance = AllianceSerializer()
    members = AllianceMemberSerializer(many=True)
    operations = AllianceOperationSerializer(many=True, help_text="Joint operations, latest first.")


def _alliance_detail(request, alliance: Alliance, code=status.HTTP_200_OK) -> Response:
    alliance = Alliance.objects.select_related("region").get(pk=alliance.pk)
    members = _visible(request, AllianceMember, "linking.view_alliancemember", alliance=alliance)
    operations = _visible(request, AllianceOperation, "linking.view_allianceoperation", alliance=alliance)
    data = {"alliance": alliance, "members": list(members.order_by("-is_lead", "name", "id")),
            "operations": list(operations.order_by("-started_on", "-id"))}
    return Response(AllianceDetailSerializer(data).data, status=code)


@_component("Alliance")
class AllianceIn(serializers.Serializer):
    region = _id(help_text="The county or town it is based in.")
    name = _text(150)
    trade = _text(100)
    mode = _one_of(AllianceMode.choices)
    founded_on = _date()


class AllianceListCreateAPI(_List):
    """Industry alliances (产业联盟) in the caller's scope; POST founds one."""

    serializer_class = AllianceSerializer
    list_filters = (ListFilter("mode", _eq("mode"), kind=str, enum=tuple(AllianceMode.values)),)

    def get_queryset(self):
        require_perm(self.request.user, "linking.view_alliance")
        return (Alliance.objects.visible_to(self.request.user, "linking.view_alliance").select_related("region")
                .order_by("region__code", "name", "id"))

    @extend_schema(tags=TAGS, responses={200: AllianceSerializer(many=True), **LIST_ERRORS})
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(tags=TAGS, request=AllianceIn, responses={201: AllianceDetailSerializer, **WRITE_ERRORS})
    def post(self, request):
        require_perm(request.user, "linking.add_alliance")
        d = _input(AllianceIn, request)
        region = _region(request, d.pop("region"), "linking.add_alliance")
        alliance = services.alliance_create(actor=request.user, region=region, **d)
        return _alliance_detail(request, alliance, status.HTTP_201_CREATED)


@extend_schema(tags=TAGS, responses={200: AllianceDetailSerializer, **READ_ERRORS})
class AllianceDetailAPI(_View):
    """One alliance with its members and joint operations."""

    def get(self, request, pk):
        return _alliance_detail(request, access_object(Alliance.objects.all(), request.user,
                                                       "linking.view_alliance", pk=pk))


@_component("AllianceMember")
class AllianceMemberIn(serializers.Serializer):
    name = _optional_text(150, help_text="Default: the firm's or village's name.")
    host_unit = _optional_id("A firm (host unit) of the county.")
    member_region = _optional_id("A village of the county (its collective).")
    is_lead = serializers.BooleanField(default=False, help_text="The leading member (one at a time).")
    joined_on = _date(required=False, allow_null=True, help_text="Default: today.")


@extend_schema(tags=TAGS, request=AllianceMemberIn, responses={201: AllianceDetailSerializer, **WRITE_ERRORS})
class AllianceMemberAddAPI(_View):
    """A firm or a village joins the alliance."""

    def post(self, request, pk):
        alliance = access_object(Alliance.objects.all(), request.user, "linking.change_alliance", pk=pk)
        d = _input(AllianceMemberIn, request)
        county = alliance.county_id
        services.alliance_member_add(
            actor=request.user, alliance=alliance, name=d["name"], is_lead=d["is_lead"], joined_on=d.get("joined_on"),
            host_unit=_in(HostUnit.objects.all(), d.get("host_unit"), "host_unit", "本县没有这家单位", county_id=county),
            member_region=_in(Region.objects.all(), d.get("member_region"), "member_region", "本县没有这个村（社区）",
                              county_id=county))
        return _alliance_detail(request, alliance, status.HTTP_201_CREATED)


@_component("AllianceOperation")
class AllianceOperationIn(serializers.Serializer):
    title = _text(200)
    started_on = _date()
    area_mu = serializers.DecimalField(max_digits=10, decimal_places=1, min_value=0, required=False, allow_null=True)
    jobs = _count(default=0)
    income = _money(required=False, allow_null=True, help_text="Yuan.")
    note = _optional_text(300)


@extend_schema(tags=TAGS, request=AllianceOperationIn, responses={201: AllianceDetailSerializer, **WRITE_ERRORS})
class AllianceOperationAddAPI(_View):
    """A joint operation of the alliance (area, jobs, income)."""

    def post(self, request, pk):
        alliance = access_object(Alliance.objects.all(), request.user, "linking.change_alliance", pk=pk)
        d = _input(AllianceOperationIn, request)
        services.alliance_operation_record(actor=request.user, alliance=alliance, **d)
        return _alliance_detail(request, alliance, status.HTTP_201_CREATED)


@_component("ResourceShare")
class ResourceShareSerializer(serializers.ModelSerializer):
    from_region_name = _name("from_region")
    to_region_name = _name("to_region")
    mode = serializers.CharField(read_only=True, help_text="joint, lease, shares or secondment.")

    class Meta:
        model = ResourceShare
        fields = ["id", "kind", "mode", "title", "from_region", "from_region_name", "to_region", "to_region_name",
                  "pairing", "alliance", "amount", "unit", "started_on"]


@_component("ResourceShare")
class ResourceShareIn(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ShareKind.choices)
    mode = _one_of(ShareMode.choices)
    title = _text(200)
    from_region = _id(help_text="Who shares (a region of the same county).")
    to_region = _id(help_text="Who receives.")
    started_on = _date()
    amount = _money(required=False, allow_null=True)
    unit = _optional_text(20)
    pairing = _optional_id("The pairing it belongs to.")
    alliance = _optional_id("The alliance it belongs to.")


class ResourceShareListCreateAPI(_List):
    """Resource sharing (资源联享: information, capital, people) in the caller's scope, latest first; POST records
    one."""

    serializer_class = ResourceShareSerializer
    list_filters = (
        ListFilter("kind", _eq("kind"), kind=str, enum=tuple(ShareKind.values)),
        ListFilter("to_region", _eq("to_region_id"), description="region id"),
        ListFilter("pairing", _eq("pairing_id"), description="pairing id"),
    )

    def get_queryset(self):
        require_perm(self.request.user, "linking.view_resourceshare")
        return (ResourceShare.objects.visible_to(self.request.user, "linking.view_resourceshare")
                .select_related("from_region", "to_region").order_by("-started_on", "id"))

    @extend_schema(tags=TAGS, responses={200: ResourceShareSerializer(many=True), **LIST_ERRORS})
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(tags=TAGS, request=ResourceShareIn, responses={201: ResourceShareSerializer, **WRITE_ERRORS})
    def post(self, request):
        require_perm(request.user, "linking.add_resourceshare")
        d = _input(ResourceShareIn, request)
        user = request.user
        to_region = _region(request, d["to_region"], "linking.add_resourceshare")
        row = services.resource_share_record(
            actor=user, kind=d["kind"], mode=d["mode"], title=d["title"], to_region=to_region,
            from_region=_in(Region.objects.all(), d["from_region"], "from_region", "本县没有这个地方",
                            county_id=to_region.county_id),
            started_on=d["started_on"], amount=d.get("amount"), unit=d["unit"],
            pairing=_in(Pairing.objects.visible_to(user, "linking.view_pairing"), d.get("pairing"), "pairing",
                        "没有这个结对"),
            alliance=_in(Alliance.objects.visible_to(user, "linking.view_alliance"), d.get("alliance"), "alliance",
                         "没有这个产业联盟"))
        row = ResourceShare.objects.select_related("from_region", "to_region").get(pk=row.pk)
        return Response(ResourceShareSerializer(row).data, status=status.HTTP_201_CREATED)


# ---------------------------------------------------------------------------------------------
# 镇村工作一体化


@_component("KeyTask")
class KeyTaskSerializer(serializers.ModelSerializer):
    region_name = _name("region")
    set_by_name = _UserName("set_by")
    overdue = serializers.SerializerMethodField()

    class Meta:
        model = KeyTask
        fields = ["id", "region", "region_name", "year", "aim", "title", "target", "unit", "achieved", "percent",
                  "due_on", "status", "overdue", "set_by_name", "created_at"]

    def get_overdue(self, obj) -> bool:
        return obj.status == KeyTaskStatus.OPEN and obj.due_on < timezone.localdate()


@_component("KeyTaskProgress")
class KeyTaskProgressSerializer(serializers.ModelSerializer):
    reported_by_name = _UserName("reported_by")

    class Meta:
        model = KeyTaskProgress
        fields = ["id", "task", "on", "amount", "note", "reported_by_name", "created_at"]


@_component("KeyTaskDetail")
class KeyTaskDetailSerializer(serializers.Serializer):
    task = KeyTaskSerializer()
    progress = KeyTaskProgressSerializer(many=True, help_text="The ledger, latest first (a correction is a negative "
                                                              "amount with its reason).")


def _key_tasks():
    return KeyTask.objects.select_related("region", "set_by")


def _key_task_detail(request, task: KeyTask, code=status.HTTP_200_OK) -> Response:
    task = _key_tasks().get(pk=task.pk)
    progress = (_visible(request, KeyTaskProgress, "linking.view_keytaskprogress", task=task)
                .select_related("reported_by").order_by("-on", "-id"))
    return Response(KeyTaskDetailSerializer({"task": task, "progress": list(progress)}).data, status=code)


@_component("KeyTask")
class KeyTaskIn(serializers.Serializer):
    region = _id(help_text="The village the task is quantified to.")
    year = _year()
    aim = serializers.ChoiceField(choices=Aim.choices)
    title = _text(200)
    target = _money(min_value=Decimal("0.01"))
    unit = _text(20)
    due_on = _date(help_text="Within the year.")


class KeyTaskListCreateAPI(_List):
    """Key tasks quantified to villages (重点任务量化到村) in the caller's scope (filter by village, year, aim,
    status); POST sets one."""

    serializer_class = KeyTaskSerializer
    list_filters = (
        ListFilter("village", _eq("region_id"), description="village id"),
        ListFilter("town", _eq("town_id"), description="town id"),
        ListFilter("year", _eq("year"), description="year"),
        ListFilter("aim", _eq("aim"), kind=str, enum=tuple(Aim.values)),
        ListFilter("status", _eq("status"), kind=str, enum=tuple(KeyTaskStatus.values)),
    )

    def get_queryset(self):
        require_perm(self.request.user, "linking.view_keytask")
        return (_key_tasks().visible_to(self.request.user, "linking.view_keytask")
                .order_by("region__code", "aim", "due_on", "id"))

    @extend_schema(tags=TAGS, responses={200: KeyTaskSerializer(many=True), **LIST_ERRORS})
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(tags=TAGS, request=KeyTaskIn, responses={201: KeyTaskDetailSerializer, **WRITE_ERRORS})
    def post(self, request):
        require_perm(request.user, "linking.add_keytask")
        d = _input(KeyTaskIn, request)
        region = _region(request, d.pop("region"), "linking.add_keytask", RegionLevel.VILLAGE)
        task = services.key_task_set(actor=request.user, region=region, **d)
        return _key_task_detail(request, task, status.HTTP_201_CREATED)


@extend_schema(tags=TAGS, responses={200: KeyTaskDetailSerializer, **READ_ERRORS})
class KeyTaskDetailAPI(_View):
    """One key task with its progress ledger."""

    def get(self, request, pk):
        return _key_task_detail(request, access_object(KeyTask.objects.all(), request.user, "linking.view_keytask",
                                                       pk=pk))


@_component("KeyTaskProgress")
class KeyTaskReportIn(serializers.Serializer):
    amount = _money(help_text="Achieved this time; a correction is negative, with its reason.")
    note = _text(300)
    on = _date(required=False, allow_null=True, help_text="Default: today.")


@extend_schema(tags=TAGS, request=KeyTaskReportIn, responses={201: KeyTaskDetailSerializer, **WRITE_ERRORS})
class KeyTaskReportAPI(_View):
    """Report progress: a ledger row added to what is achieved (never an edit); the target reached, it is done."""

    def post(self, request, pk):
        task = access_object(KeyTask.objects.all(), request.user, "linking.change_keytask", pk=pk)
        d = _input(KeyTaskReportIn, request)
        services.key_task_report(actor=request.user, task=task, amount=d["amount"], note=d["note"], on=d.get("on"))
        return _key_task_detail(request, task, status.HTTP_201_CREATED)


@_component("TeamMember")
class TeamMemberSerializer(serializers.ModelSerializer):
    person_name = _name("person")
    days = serializers.SerializerMethodField(help_text="Days spent in the village (station days recorded).")

    class Meta:
        model = WorkTeamMember
        fields = ["id", "team", "person", "person_name", "role", "post", "started_on", "ended_on", "days"]

    def get_days(self, obj) -> str:
        # Annotated for a team's members; one member alone (just added or ended) is summed here.
        days = obj.days_total if hasattr(obj, "days_total") else obj.days.aggregate(d=Sum("days"))["d"]
        return str(days or Decimal(0))


@_component("WorkTeam")
class WorkTeamSerializer(serializers.ModelSerializer):
    region_name = _name("region")
    town_leader_name = _name("town_leader")
    members = serializers.SerializerMethodField(help_text="Current members.")

    class Meta:
        model = WorkTeam
        fields = ["id", "region", "region_name", "year", "town_leader", "town_leader_name", "town_leader_post",
                  "started_on", "ended_on", "members"]
        extra_kwargs = {"town_leader": {"help_text": "The town leader following the village (包村领导)."}}

    def get_members(self, obj) -> int:
        count = getattr(obj, "current_members", None)
        return count if count is not None else obj.members.filter(ended_on__isnull=True).count()


@_component("WorkTeamDetail")
class WorkTeamDetailSerializer(serializers.Serializer):
    team = WorkTeamSerializer()
    members = TeamMemberSerializer(many=True, help_text="Everyone who served, the leader first.")


def _teams():
    return (WorkTeam.objects.select_related("region", "town_leader")
            .annotate(current_members=Count("members", filter=Q(members__ended_on__isnull=True))))


def _team_detail(request, team: WorkTeam, code=status.HTTP_200_OK) -> Response:
    team = _teams().get(pk=team.pk)
    members = (_visible(request, WorkTeamMember, "linking.view_workteammember", team=team).select_related("person")
               .annotate(days_total=Sum("days__days")).order_by("role", "id"))
    return Response(WorkTeamDetailSerializer({"team": team, "members": list(members)}).data, status=code)


@_component("TeamMemberIn")
class TeamMemberIn(serializers.Serializer):
    person = _id(help_text="A person in the registry (a town cadre).")
    post = _optional_text(100, help_text="Their town post.")


@_component("WorkTeam")
class WorkTeamIn(serializers.Serializer):
    region = _id(help_text="The village it is stationed in.")
    year = _year()
    town_leader = _id(help_text="The town leader following the village (a person in the registry).")
    town_leader_post = _text(100)
    leader = _id(help_text="The team leader.")
    leader_post = _optional_text(100)
    members = TeamMemberIn(many=True, max_length=30, required=False)
    started_on = _date(required=False, allow_null=True, help_text="Default: today.")


class WorkTeamListCreateAPI(_List):
    """Town work teams stationed in villages (驻村工作队) in the caller's scope; POST stations one, with its leader,
    members and the town leader following the village."""

    serializer_class = WorkTeamSerializer
    list_filters = (
        ListFilter("village", _eq("region_id"), description="village id"),
        ListFilter("town", _eq("town_id"), description="town id"),
        ListFilter("year", _eq("year"), description="year"),
    )

    def get_queryset(self):
        require_perm(self.request.user, "linking.view_workteam")
        return _teams().visible_to(self.request.user, "linking.view_workteam").order_by("region__code", "-year", "id")

    @extend_schema(tags=TAGS, responses={200: WorkTeamSerializer(many=True), **LIST_ERRORS})
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(tags=TAGS, request=WorkTeamIn, responses={201: WorkTeamDetailSerializer, **WRITE_ERRORS})
    def post(self, request):
        require_perm(request.user, "linking.add_workteam")
        d = _input(WorkTeamIn, request)
        region = _region(request, d["region"], "linking.add_workteam", RegionLevel.VILLAGE)
        members = [(_person(request, m["person"], "members"), m["post"]) for m in d.get("members", [])]
        team = services.work_team_station(
            actor=request.user, region=region, year=d["year"],
            town_leader=_person(request, d["town_leader"], "town_leader"), town_leader_post=d["town_leader_post"],
            leader=_person(request, d["leader"], "leader"), leader_post=d["leader_post"], members=members,
            started_on=d.get("started_on"))
        return _team_detail(request, team, status.HTTP_201_CREATED)


@extend_schema(tags=TAGS, responses={200: WorkTeamDetailSerializer, **READ_ERRORS})
class WorkTeamDetailAPI(_View):
    """One stationed team: its members and the days each spent in the village."""

    def get(self, request, pk):
        return _team_detail(request, access_object(WorkTeam.objects.all(), request.user, "linking.view_workteam",
                                                   pk=pk))


@extend_schema(tags=TAGS, request=TeamMemberIn, responses={201: TeamMemberSerializer, **WRITE_ERRORS})
class WorkTeamMemberAddAPI(_View):
    """One more member joins the team."""

    def post(self, request, pk):
        team = access_object(WorkTeam.objects.all(), request.user, "linking.add_workteam", pk=pk)
        d = _input(TeamMemberIn, request)
        member = services.work_team_member_add(actor=request.user, team=team, person=_person(request, d["person"]),
                                               post=d["post"])
        return Response(TeamMemberSerializer(WorkTeamMember.objects.select_related("person").get(pk=member.pk)).data,
                        status=status.HTTP_201_CREATED)


@_component("TeamMemberEnd")
class MemberEndIn(serializers.Serializer):
    ended_on = _date(required=False, allow_null=True, help_text="Default: today.")


@extend_schema(tags=TAGS, request=MemberEndIn, responses={200: TeamMemberSerializer, **WRITE_ERRORS})
class TeamMemberEndAPI(_View):
    """A member leaves the team (the row stays as history)."""

    def post(self, request, pk):
        member = access_object(WorkTeamMember.objects.all(), request.user, "linking.add_workteam", pk=pk)
        d = _input(MemberEndIn, request)
        member = services.work_team_member_end(actor=request.user, member=member, ended_on=d.get("ended_on"))
        return Response(TeamMemberSerializer(WorkTeamMember.objects.select_related("person").get(pk=member.pk)).data)


@_component("StationDay")
class StationDaySerializer(serializers.ModelSerializer):
    recorded_by_name = _UserName("recorded_by")

    class Meta:
        model = StationDay
        fields = ["id", "member", "on", "days", "work", "recorded_by_name"]


@_component("StationDay")
class StationDayIn(serializers.Serializer):
    on = _date()
    work = _text(200, help_text="What was done in the village that day.")
    days = serializers.DecimalField(max_digits=2, decimal_places=1, min_value=Decimal("0.5"), max_value=Decimal(1),
                                    required=False, help_text="1 (the default) or 0.5 (half a day).")


class StationDayListCreateAPI(_List):
    """A team member's days in the village, latest first; POST records one (by the village or the town, not by
    the cadre alone)."""

    serializer_class = StationDaySerializer

    def get_queryset(self):
        member = access_object(WorkTeamMember.objects.all(), self.request.user, "linking.view_stationday",
                               pk=self.kwargs["pk"])
        return (StationDay.objects.visible_to(self.request.user, "linking.view_stationday").filter(member=member)
                .select_related("recorded_by").order_by("-on", "-id"))

    @extend_schema(tags=TAGS, responses={200: StationDaySerializer(many=True), **READ_ERRORS, **LIST_ERRORS})
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(tags=TAGS, request=StationDayIn, responses={201: StationDaySerializer, **WRITE_ERRORS})
    def post(self, request, pk):
        member = access_object(WorkTeamMember.objects.all(), request.user, "linking.change_workteam", pk=pk)
        d = _input(StationDayIn, request)
        row = services.station_day_record(actor=request.user, member=member, on=d["on"], work=d["work"],
                                          days=d.get("days", "1"))
        return Response(StationDaySerializer(row).data, status=status.HTTP_201_CREATED)


@_component("PersonBrief")
class PersonBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Person
        fields = ["id", "name"]


@_component("AimCount")
class AimCountSerializer(serializers.Serializer):
    tasks = serializers.IntegerField()
    done = serializers.IntegerField()


@_component("AimCounts")
class AimCountsSerializer(serializers.Serializer):
    income = AimCountSerializer(help_text="Residents' income (促农增收).")
    collective = AimCountSerializer(help_text="The new collective economy (壮大村集体经济).")
    governance = AimCountSerializer(help_text="Grassroots governance (提升基层治理).")


@_component("IntegrationVillage")
class IntegrationRowSerializer(serializers.Serializer):
    village = RegionBriefSerializer()
    tasks = serializers.IntegerField(help_text="Key tasks of the year (dropped ones left out).")
    done = serializers.IntegerField()
    progress = serializers.IntegerField(help_text="Mean percent achieved.")
    by_aim = AimCountsSerializer(help_text="Tasks and done per aim (三促进).")
    team = serializers.IntegerField(allow_null=True, help_text="The stationed team's id; null: none.")
    members = serializers.IntegerField(help_text="Current team members.")
    days = serializers.DecimalField(max_digits=10, decimal_places=1, help_text="Days the team spent in the village.")
    town_leader = PersonBriefSerializer(allow_null=True, help_text="The town leader following it.")


@_component("IntegrationTotals")
class IntegrationTotalsSerializer(serializers.Serializer):
    villages = serializers.IntegerField()
    tasks = serializers.IntegerField()
    done = serializers.IntegerField()
    cadres = serializers.IntegerField(help_text="Stationed cadres (current members).")
    town_leaders = serializers.IntegerField()
    days = serializers.DecimalField(max_digits=12, decimal_places=1)
    tasks_per_village = serializers.FloatField()
    cadres_per_village = serializers.FloatField()


@_component("Integration")
class IntegrationSerializer(serializers.Serializer):
    town = RegionBriefSerializer()
    year = serializers.IntegerField()
    totals = IntegrationTotalsSerializer()
    villages = IntegrationRowSerializer(many=True)


class IntegrationQuery(serializers.Serializer):
    town = _id(help_text="The town (or subdistrict).")
    year = _year()


@extend_schema(tags=TAGS, parameters=[IntegrationQuery], responses={200: IntegrationSerializer,
                                                                   **api_errors(400, 401, 403, 404)})
class IntegrationAPI(_View):
    """镇村工作一体化 for a town and year: each village the caller may read with its quantified tasks by aim and
    progress, the stationed team, its days in the village and the town leader following it; and the totals
    (tasks and cadres per village)."""

    def get(self, request):
        perm = "linking.view_keytask"
        require_perm(request.user, perm)
        query = IntegrationQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        town = Region.objects.filter(pk=query.validated_data["town"], level=RegionLevel.TOWN).first()
        # The town, or one of its villages, must be the caller's: a village secretary reads their own row.
        if town is None or not (Region.objects.visible_to(request.user, perm)
                                .filter(Q(pk=town.pk) | Q(town_id=town.pk)).exists()):
            raise Http404
        year = query.validated_data["year"]
        rows = selectors.integration_overview(user=request.user, town=town, year=year)
        villages = [{**row, "team": row["team"].pk if row["team"] else None,
                     "by_aim": {aim: {"tasks": row["by_aim"].get(aim, (0, 0))[0],
                                      "done": row["by_aim"].get(aim, (0, 0))[1]} for aim in Aim.values}}
                    for row in rows]
        data = {"town": town, "year": year, "totals": selectors.integration_totals(rows), "villages": villages}
        return Response(IntegrationSerializer(data).data)


# ---------------------------------------------------------------------------------------------
# settings and the caller's own view


def _review_cycle(**kwargs):
    return _one_of(ReviewCycle.choices, **kwargs)


@_component("Settings")
class SettingsSerializer(serializers.Serializer):
    county = serializers.IntegerField()
    saved = serializers.BooleanField(help_text="False: the county has no settings of its own; these are the defaults.")
    resources_review = serializers.CharField(help_text="quarterly or yearly.")
    needs_review = serializers.CharField(help_text="quarterly or yearly.")
    projects_review = serializers.CharField(help_text="quarterly or yearly.")
    approval_working_days = serializers.IntegerField(help_text="Fast-track requests are decided within (working days).")
    escalate_working_days = serializers.IntegerField(help_text="An overdue request goes to the county after a further "
                                                               "(working days).")
    early_leave_minutes = serializers.IntegerField(help_text="Leaving this many minutes before the end is leaving "
                                                             "early.")


@_component("Settings")
class SettingsIn(serializers.Serializer):
    resources_review = _review_cycle(required=False)
    needs_review = _review_cycle(required=False)
    projects_review = _review_cycle(required=False)
    approval_working_days = serializers.IntegerField(min_value=1, max_value=30, required=False)
    escalate_working_days = serializers.IntegerField(min_value=1, max_value=30, required=False)
    early_leave_minutes = serializers.IntegerField(min_value=0, max_value=240, required=False)


def _settings(county: Region) -> dict:
    row = services.settings_for(county.pk)
    return {"county": county.pk, "saved": row.pk is not None,
            **{name: getattr(row, name) for name in services.SETTINGS_FIELDS}}


class SettingsAPI(_View):
    @extend_schema(tags=TAGS, responses={200: SettingsSerializer, **READ_ERRORS})
    def get(self, request, pk):
        """The county's linking-up settings (review cycles of the three lists, the fast track's limits, the
        early-leaving margin), or the defaults."""
        county = _region(request, pk, "linking.view_linkingsettings", RegionLevel.COUNTY)
        return Response(SettingsSerializer(_settings(county)).data)

    @extend_schema(tags=TAGS, request=SettingsIn, responses={200: SettingsSerializer, **WRITE_ERRORS})
    def patch(self, request, pk):
        """Change the settings sent; the rest stay (or stay the defaults)."""
        county = _region(request, pk, "linking.change_linkingsettings", RegionLevel.COUNTY)
        services.linking_settings_save(actor=request.user, county=county, **_input(SettingsIn, request))
        return Response(SettingsSerializer(_settings(county)).data)


@_component("HeldPost")
class HeldPostSerializer(PostSerializer):
    pairing_title = serializers.CharField(source="pairing.title", read_only=True)
    pairing_status = serializers.CharField(source="pairing.status", read_only=True)

    class Meta(PostSerializer.Meta):
        fields = PostSerializer.Meta.fields + ["pairing_title", "pairing_status"]

    side = serializers.CharField(read_only=True, help_text="lead or partner.")


@_component("StaleCounts")
class StaleCountsSerializer(serializers.Serializer):
    resources = serializers.IntegerField()
    needs = serializers.IntegerField()
    projects = serializers.IntegerField()


@_component("Overview")
class OverviewSerializer(serializers.Serializer):
    posts = HeldPostSerializer(many=True, help_text="The liaison posts the caller holds.")
    stale = StaleCountsSerializer(help_text="List items past their review date, in the caller's scope.")
    open_needs = serializers.IntegerField()
    projects_underway = serializers.IntegerField()
    approvals_pending = serializers.IntegerField()
    approvals_overdue = serializers.IntegerField()


@extend_schema(tags=TAGS, responses={200: OverviewSerializer, **api_errors(401, 403)})
class OverviewAPI(_View):
    """The caller's linking-up at a glance: the posts they hold, stale list items, open needs, projects underway,
    fast-track requests waiting (each counted in their scope, with its own view permission)."""

    def get(self, request):
        user = request.user
        require_perm(user, "linking.view_pairing")
        pending = selectors.approvals_pending(user=user)
        data = {"posts": list(selectors.posts_held(user=user).select_related("holder").order_by("pairing_id", "id")),
                "stale": selectors.stale_counts(user=user), "open_needs": selectors.open_needs(user=user).count(),
                "projects_underway": selectors.projects_underway(user=user).count(),
                "approvals_pending": pending.count(),
                "approvals_overdue": pending.filter(due_at__lt=timezone.now()).count()}
        return Response(OverviewSerializer(data).data)
