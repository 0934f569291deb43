"""REST API of the village governance layer, under /api/village/ (``api_urls.py``).

The care app's shape: one APIView per operation, each with its own input and output serializers
and documented by drf-spectacular.

* Reads start from ``Model.objects.visible_to(user, perm)`` (lists) or ``access_object`` (one
  row): **403** when the caller holds the permission nowhere, **404** when the row lies outside
  their scope (the same answer as a missing row). What a meeting, poll or decision holds (roll,
  ballots, tasks, timeline …) is read with that model's own view permission, so a grid worker who
  may see a meeting does not see its roll.
* Writes are one call of ``gongzhi.village.services`` each; the view only checks types and
  resolves ids. References are looked up inside the object's own village (a person, grid, body or
  household of another village is "does not exist", a 400 naming the field, never a name from
  beyond the caller's scope); the business rules and their Chinese reasons are the services'
  (a Django ``ValidationError`` becomes the structured 400 of ``core.api.exception_handler``).
* People appear as id and name only: no phone, no ID number.
* Every input is bounded (ids, list sizes, text lengths, dates, the publicity table's cells), so
  that a fuzzed request is a 400, never a database error.

Enum naming: an input serializer that creates or changes an entity is published as that entity's
request component (``extend_schema_serializer(component_name=…)``: ``VillageMeetingRequest``
beside ``VillageMeeting``), so drf-spectacular sees one component per choice set and names its
enum without a collision (settings.py has no ENUM_NAME_OVERRIDES for this app); statuses shown a
second time under another name (a step's ``from_status``) are plain strings.
"""
from __future__ import annotations

import math

from django.db.models import Count, Prefetch, Q
from django.http import Http404
from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_serializer, inline_serializer
from rest_framework import exceptions, serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from gongzhi.cases.models import Case
from gongzhi.core.api import (
    MAX_ID, MAX_YEAR, MIN_YEAR, FilteredListMixin, ListFilter, ListFilterBackend, api_errors, date_field,
    datetime_field, field_error, filter_eq, id_field, ids_field, in_years, no_duplicates, optional_text_field,
    text_field, validated_input,
)
from gongzhi.core.scoping import access_object, require_perm
from gongzhi.registry.models import Grid, Household, Person, Region, RegionLevel

from . import quorum as q
from . import selectors, services, workflow
from .models import (
    BODY_ROLES, AgendaItem, Attendance, AttendanceStatus, Ballot, BallotKind, Body, BodyMember, Choice, Decision,
    DecisionEntry, DecisionStatus, DecisionTask, Duty, DutyList, DutyListKind, DutyOwner, EntryKind, ItemMode,
    ItemSource, Matter, MatterStatus, MatterStep, MatterTopic, Meeting, MeetingKind, MeetingStatus, Poll, Post,
    PublicityCategory, PublicityFlag, PublicityItem, PublicityStatus, Speech, Supervisor, TaskStatus,
)

TAGS = ["village"]
READ_ERRORS = api_errors(401, 403, 404)
WRITE_ERRORS = api_errors(400, 401, 403, 404)
LIST_ERRORS = api_errors(400, 401, 403)
MAX_BATCH = 10000  # a villagers' meeting of a large village, with room to spare


# ---------------------------------------------------------------------------------------------
# input building blocks

# Input building blocks shared by the apps' APIs (gongzhi.core.api), under this module's short names.
_id, _ids, _text, _optional_text, _date, _datetime = id_field, ids_field, text_field, optional_text_field, date_field, datetime_field
_in_years, _no_duplicates, _input, _missing, _eq, _Filtered = in_years, no_duplicates, validated_input, field_error, filter_eq, FilteredListMixin


def _village(request, pk, perm) -> Region:
    """The village of a path, or the village a request body writes to: 403 / 404 like any object."""
    village = access_object(Region.objects.all(), request.user, perm, pk=pk)
    if village.level != RegionLevel.VILLAGE:
        raise Http404
    return village


def _person(pk, region_id, field="person") -> Person | None:
    """A resident of the village ``region_id`` (the caller works in it already), or 400."""
    if pk is None:
        return None
    person = Person.objects.filter(pk=pk, village_id=region_id).first()
    if person is None:
        raise _missing(field, "本村（社区）没有这个居民")
    return person


def _persons(pks, region_id, field="person") -> dict[int, Person]:
    found = {p.pk: p for p in Person.objects.filter(pk__in=list(pks), village_id=region_id)}
    if set(pks) - set(found):
        raise _missing(field, f"本村（社区）没有其中{len(set(pks) - set(found))}位居民")
    return found


def _body(pk, region_id, field="body") -> Body | None:
    if pk is None:
        return None
    body = Body.objects.filter(pk=pk, region_id=region_id).first()
    if body is None:
        raise _missing(field, "本村没有这个组织")
    return body


def _cases(request, pks, field="cases") -> list[Case]:
    rows = {c.pk: c for c in Case.objects.visible_to(request.user, "cases.view_case").filter(pk__in=list(pks))}
    if set(pks) - set(rows):
        raise _missing(field, "所选事项不存在")
    return [rows[pk] for pk in pks]


def _in_village(request, model, perm, pk, region_id, field, message):
    if pk is None:
        return None
    row = model.objects.visible_to(request.user, perm).filter(pk=pk, region_id=region_id).first()
    if row is None:
        raise _missing(field, message)
    return row


def _component(name: str):
    """Publish a serializer as ``Village<name>`` (an input one becomes ``Village<name>Request``)."""
    return extend_schema_serializer(component_name=f"Village{name}")


def _context(request) -> dict:
    return {"request": request}


# A table of a publicity notice: rows of {column: cell}, cells plain values.
MAX_LINES, MAX_COLUMNS, MAX_CELL = 2000, 50, 2000


def _clean_text(value: str, what: str) -> str:
    if "\x00" in value:
        raise serializers.ValidationError(f"{what}不能包含空字符")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise serializers.ValidationError(f"{what}含有无法识别的字符") from None
    return value


def _clean_lines(lines):
    for row in lines:
        if len(row) > MAX_COLUMNS:
            raise serializers.ValidationError(f"表格每行不能超过 {MAX_COLUMNS} 列")
        for key, cell in row.items():
            _clean_text(key, "列名")
            if len(key) > 100:
                raise serializers.ValidationError("列名不能超过 100 个字")
            if isinstance(cell, str):
                _clean_text(cell, "表格内容")
                if len(cell) > MAX_CELL:
                    raise serializers.ValidationError(f"表格每格不能超过 {MAX_CELL} 个字")
            elif isinstance(cell, bool) or cell is None:
                continue
            elif isinstance(cell, int):
                if abs(cell) > 10**15:
                    raise serializers.ValidationError("表格中的数字过大")
            elif isinstance(cell, float):
                if not math.isfinite(cell) or abs(cell) > 1e15:
                    raise serializers.ValidationError("表格中的数字过大")
            else:
                raise serializers.ValidationError("表格每格只能是文字或数字")
    return lines


def _lines(**kwargs) -> serializers.ListField:
    return serializers.ListField(
        child=serializers.DictField(child=serializers.JSONField()), max_length=MAX_LINES, validators=[_clean_lines],
        help_text='Table rows, e.g. finance [{"item": "道路维修", "income": "0", "expense": "3200"}]; cells are text, '
                  'numbers, true/false or null.', **kwargs)


# ---------------------------------------------------------------------------------------------
# output building blocks


def _name(field: str):
    return serializers.CharField(source=f"{field}.name", default="", read_only=True)


def _visible_cases(serializer, obj) -> list[int]:
    """The ids of ``obj.cases`` the caller may see (a case complaining about them stays hidden),
    asked once for a whole page."""
    request = serializer.context.get("request")
    if request is None:
        return []
    ids = [c.pk for c in obj.cases.all()]
    known = serializer.context.setdefault("_visible_cases", {})
    if any(i not in known for i in ids):
        parent = serializer.parent
        in_list = isinstance(parent, serializers.ListSerializer) and parent.instance is not None
        rows = parent.instance if in_list else [obj]
        wanted = {c.pk for row in rows for c in row.cases.all()} | set(ids)
        visible = set(Case.objects.visible_to(request.user, "cases.view_case").filter(pk__in=wanted)
                      .values_list("pk", flat=True))
        known.update({i: i in visible for i in wanted})
    return [i for i in ids if known[i]]


# ---------------------------------------------------------------------------------------------
# 六位一体: bodies and members


@_component("BodyMember")
class BodyMemberSerializer(serializers.ModelSerializer):
    person_name = _name("person")

    class Meta:
        model = BodyMember
        fields = ["id", "body", "person", "person_name", "post", "household", "started_on", "ended_on", "end_reason"]


@_component("Body")
class BodySerializer(serializers.ModelSerializer):
    role = serializers.SerializerMethodField(
        help_text="Its part in 六位一体: 领导核心, 决策, 执行, 监督, 支撑 or 补充.")
    members = BodyMemberSerializer(source="current_members", many=True, read_only=True,
                                   help_text="The current members (a post ended is history).")

    class Meta:
        model = Body
        fields = ["id", "region", "kind", "role", "name", "party_organization", "term_start", "term_end", "members"]

    def get_role(self, obj) -> str:
        return BODY_ROLES.get(obj.kind, "")


@extend_schema(tags=TAGS, responses={200: BodySerializer(many=True), **READ_ERRORS})
class BodyListAPI(ListAPIView):
    """The current bodies of a village (六位一体) with their current members: person id, name and post."""

    serializer_class = BodySerializer

    def get_queryset(self):
        village = _village(self.request, self.kwargs["pk"], "village.view_body")
        return selectors.bodies_of(user=self.request.user, region=village).order_by("kind", "name", "id")


@_component("BodyMember")
class MemberAddIn(serializers.Serializer):
    person = _id(help_text="A resident of the body's village (registry person id).")
    post = serializers.ChoiceField(choices=Post.choices)
    started_on = _date(required=False, allow_null=True, help_text="Default: today.")
    represented_households = _ids(50, default=list, validators=[_no_duplicates],
                                  help_text="A representative's households (联户代表), household ids of the village.")


@extend_schema(tags=TAGS, request=MemberAddIn, responses={201: BodyMemberSerializer, **WRITE_ERRORS})
class MemberAddAPI(APIView):
    """A registry person takes a post in the body (任职)."""

    def post(self, request, pk):
        body = access_object(Body.objects.all(), request.user, "village.change_body", pk=pk)
        d = _input(MemberAddIn, request)
        person = _person(d["person"], body.region_id)
        households = list(Household.objects.filter(pk__in=d["represented_households"], village_id=body.region_id))
        if len(households) != len(d["represented_households"]):
            raise _missing("represented_households", "联系户应是本村的户")
        member = services.body_member_add(actor=request.user, body=body, person=person, post=d["post"],
                                          started_on=d.get("started_on"), represented_households=households)
        return Response(BodyMemberSerializer(member).data, status=status.HTTP_201_CREATED)


@_component("MemberEnd")
class MemberEndIn(serializers.Serializer):
    reason = _text(200)
    ended_on = _date(required=False, allow_null=True, help_text="Default: today.")


@extend_schema(tags=TAGS, request=MemberEndIn, responses={200: BodyMemberSerializer, **WRITE_ERRORS})
class MemberEndAPI(APIView):
    """A post ends (离任), with the reason; the row stays as history."""

    def post(self, request, pk):
        member = access_object(BodyMember.objects.select_related("person"), request.user, "village.change_body", pk=pk)
        d = _input(MemberEndIn, request)
        member = services.body_member_end(actor=request.user, member=member, reason=d["reason"],
                                          ended_on=d.get("ended_on"))
        return Response(BodyMemberSerializer(member).data)


# ---------------------------------------------------------------------------------------------
# meetings


@_component("Meeting")
class MeetingSerializer(serializers.ModelSerializer):
    region_name = _name("region")

    class Meta:
        model = Meeting
        fields = ["id", "region", "region_name", "kind", "title", "scheduled_at", "place", "grid", "status",
                  "notice_sent_at", "opened_at", "closed_at", "minutes", "entitled_count", "present_count",
                  "quorum_met", "quorum_text", "convened_by", "created_at"]
        extra_kwargs = {"entitled_count": {"help_text": "Kept when the meeting closes (and set when it opens)."},
                        "present_count": {"help_text": "Kept when the meeting closes."},
                        "quorum_met": {"help_text": "Kept when the meeting closes; null: no quorum for this kind."}}


@_component("AgendaItem")
class AgendaItemSerializer(serializers.ModelSerializer):
    cases = serializers.SerializerMethodField(help_text="Ids of the residents' cases behind the item (those the "
                                                        "caller may see).")
    proposer_name = _name("proposer")

    class Meta:
        model = AgendaItem
        fields = ["id", "region", "meeting", "order", "title", "description", "mode", "source", "cases",
                  "contact_record", "matter", "proposer", "proposer_name", "outcome", "created_at"]

    def get_cases(self, obj) -> list[int]:
        return _visible_cases(self, obj)


@_component("Attendance")
class AttendanceSerializer(serializers.ModelSerializer):
    person_name = _name("person")
    proxy_name = _name("proxy")

    class Meta:
        model = Attendance
        fields = ["id", "person", "person_name", "entitled", "status", "proxy", "proxy_name", "marked_at"]
        extra_kwargs = {"entitled": {"help_text": "On the registry's roll (counted for the quorum); false: came to an "
                                                  "open meeting or attended without a vote."}}


@_component("Speech")
class SpeechSerializer(serializers.ModelSerializer):
    class Meta:
        model = Speech
        fields = ["id", "item", "speaker", "speaker_name", "points", "created_at"]


@_component("Poll")
class PollSerializer(serializers.ModelSerializer):
    threshold_label = serializers.SerializerMethodField(help_text="过半数, 三分之二以上（含本数）…")
    needed = serializers.SerializerMethodField(help_text="Votes for needed to pass, of those present.")
    ballots_cast = serializers.SerializerMethodField()
    explanation = serializers.SerializerMethodField(help_text="The count and the rule, in Chinese "
                                                              "(``services.poll_explain``).")

    class Meta:
        model = Poll
        fields = ["id", "meeting", "item", "question", "ballot", "status", "present_count", "threshold",
                  "threshold_label", "needed", "votes_for", "votes_against", "votes_abstain", "ballots_cast", "result",
                  "explanation", "opened_at", "closed_at"]
        extra_kwargs = {"present_count": {"help_text": "The electorate, fixed when the vote opened."},
                        "threshold": {"help_text": '">1/2": more than half; ">=2/3": two thirds or more.'},
                        "votes_for": {"help_text": "Counted when the vote closes."}}

    def get_threshold_label(self, obj) -> str:
        return q.Threshold.parse(obj.threshold).label()

    def get_needed(self, obj) -> int:
        return q.Threshold.parse(obj.threshold).needed(obj.present_count)

    def get_ballots_cast(self, obj) -> int:
        cast = getattr(obj, "cast_count", None)
        return cast if cast is not None else obj.ballots.filter(cast_at__isnull=False).count()

    def get_explanation(self, obj) -> str:
        return services.poll_explain(obj)


def _polls():
    return Poll.objects.annotate(cast_count=Count("ballots", filter=Q(ballots__cast_at__isnull=False)))


@_component("QuorumPart")
class QuorumPartSerializer(serializers.Serializer):
    what = serializers.CharField(help_text="adults (adult villagers), households (households represented) or "
                                           "members (those entitled).")
    threshold = serializers.CharField(help_text='">=2/3" …')
    threshold_label = serializers.CharField()
    present = serializers.IntegerField()
    total = serializers.IntegerField()
    needed = serializers.IntegerField()
    met = serializers.BooleanField()
    explanation = serializers.CharField()


@_component("Quorum")
class QuorumSerializer(serializers.Serializer):
    required = serializers.BooleanField(help_text="False: this kind of meeting has no quorum (courtyard …).")
    met = serializers.BooleanField(help_text="Any one part met is enough (a villagers' meeting has two).")
    explanation = serializers.CharField()
    parts = QuorumPartSerializer(many=True)


@_component("Participation")
class ParticipationSerializer(serializers.Serializer):
    came = serializers.IntegerField()
    elderly = serializers.IntegerField()
    women = serializers.IntegerField()
    disabled = serializers.IntegerField()
    left_behind = serializers.IntegerField()
    proxies = serializers.IntegerField()
    left_early = serializers.IntegerField()


@_component("MeetingState")
class MeetingStateSerializer(serializers.Serializer):
    meeting = MeetingSerializer()
    agenda = AgendaItemSerializer(many=True)
    quorum = QuorumSerializer(help_text="Read off the roll now (``quorum.quorum_of``).")
    participation = ParticipationSerializer()
    roll = AttendanceSerializer(many=True, help_text="Empty for a caller who may not read the roll.")
    polls = PollSerializer(many=True)
    speeches = SpeechSerializer(many=True)


def _quorum(meeting: Meeting) -> dict:
    state = q.quorum_of(meeting)
    return {"required": state.required, "met": state.met, "explanation": state.explain(),
            "parts": [{"what": p.what, "threshold": str(p.threshold), "threshold_label": p.threshold.label(),
                       "present": p.present, "total": p.total, "needed": p.needed, "met": p.met,
                       "explanation": p.describe()} for p in state.parts]}


def _meeting_state(request, meeting: Meeting) -> dict:
    """The meeting page's facts (``selectors.meeting_state``: each part read with its own view permission)."""
    meeting = Meeting.objects.select_related("region").get(pk=meeting.pk)
    state = selectors.meeting_state(user=request.user, meeting=meeting)
    data = {"meeting": meeting, "agenda": state.agenda, "quorum": _quorum(meeting),
            "participation": state.participation, "roll": state.roll, "polls": state.polls,
            "speeches": state.speeches}
    return MeetingStateSerializer(data, context=_context(request)).data


def _state_response(request, meeting, code=status.HTTP_200_OK) -> Response:
    return Response(_meeting_state(request, meeting), status=code)


@_component("Meeting")
class MeetingIn(serializers.Serializer):
    region = _id(help_text="The village (region id).")
    kind = serializers.ChoiceField(choices=MeetingKind.choices)
    title = _text(200)
    scheduled_at = _datetime()
    place = _optional_text(200)
    grid = _id(required=False, allow_null=True, help_text="A grid of the village (a courtyard meeting's group).")
    items = _ids(100, default=list, validators=[_no_duplicates],
                 help_text="Waiting agenda items of the village to take up.")


class MeetingListCreateAPI(_Filtered, ListAPIView):
    """Meetings in the caller's scope, latest first (filter by village, kind, status); POST schedules one."""

    serializer_class = MeetingSerializer
    list_filters = (
        ListFilter("village", _eq("region_id"), description="village id"),
        ListFilter("kind", _eq("kind"), kind=str, enum=tuple(MeetingKind.values)),
        ListFilter("status", _eq("status"), kind=str, enum=tuple(MeetingStatus.values)),
    )

    def get_queryset(self):
        require_perm(self.request.user, "village.view_meeting")
        return selectors.meetings_of(user=self.request.user).order_by("-scheduled_at", "-id")

    @extend_schema(tags=TAGS, responses={200: MeetingSerializer(many=True), **LIST_ERRORS})
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(tags=TAGS, request=MeetingIn, responses={201: MeetingStateSerializer, **WRITE_ERRORS})
    def post(self, request):
        require_perm(request.user, "village.add_meeting")
        d = _input(MeetingIn, request)
        region = _village(request, d["region"], "village.add_meeting")
        grid = None
        if d.get("grid"):
            grid = Grid.objects.filter(pk=d["grid"], village_id=region.pk).first()
            if grid is None:
                raise _missing("grid", "本村没有这个网格")
        items = [_in_village(request, AgendaItem, "village.add_agendaitem", pk, region.pk, "items", "议题不存在")
                 for pk in d["items"]]
        meeting = services.meeting_schedule(actor=request.user, region=region, kind=d["kind"], title=d["title"],
                                            scheduled_at=d["scheduled_at"], place=d["place"], grid=grid, items=items)
        return _state_response(request, meeting, status.HTTP_201_CREATED)


@extend_schema(tags=TAGS, responses={200: MeetingStateSerializer, **READ_ERRORS})
class MeetingDetailAPI(APIView):
    """One meeting: agenda, roll, the quorum now (present / total / needed / met, explained in Chinese),
    participation counts, votes and minutes."""

    def get(self, request, pk):
        meeting = access_object(Meeting.objects.all(), request.user, "village.view_meeting", pk=pk)
        return _state_response(request, meeting)


NotifyOut = inline_serializer("VillageMeetingNotified", {
    "notified": serializers.IntegerField(help_text="Persons told (inbox and SMS)."), "meeting": MeetingSerializer()})


@extend_schema(tags=TAGS, request=None, responses={200: NotifyOut, **WRITE_ERRORS})
class MeetingNotifyAPI(APIView):
    """会议通知: the inbox and an SMS of everyone entitled to attend."""

    def post(self, request, pk):
        meeting = access_object(Meeting.objects.all(), request.user, "village.run_meeting", pk=pk)
        count = services.meeting_notify(actor=request.user, meeting=meeting)
        meeting.refresh_from_db()
        return Response({"notified": count, "meeting": MeetingSerializer(meeting).data})


@extend_schema(tags=TAGS, request=None, responses={200: MeetingStateSerializer, **WRITE_ERRORS})
class MeetingOpenAPI(APIView):
    """开会: the roll is made from the registry as it stands today."""

    def post(self, request, pk):
        meeting = access_object(Meeting.objects.all(), request.user, "village.run_meeting", pk=pk)
        services.meeting_open(actor=request.user, meeting=meeting)
        return _state_response(request, meeting)


@_component("Attendance")
class MarkIn(serializers.Serializer):
    person = _id(help_text="A person of the village (on the roll, or, at an open meeting, anyone who came).")
    status = serializers.ChoiceField(choices=AttendanceStatus.choices)
    proxy = _id(required=False, allow_null=True, help_text="Who came in their place (status proxy, villagers' "
                                                           "meetings only).")


@_component("AttendanceMarks")
class MarksIn(serializers.Serializer):
    marks = MarkIn(many=True, max_length=MAX_BATCH, min_length=1)

    def validate_marks(self, marks):
        _no_duplicates([m["person"] for m in marks], "签到名单中的人员")
        return marks


@extend_schema(tags=TAGS, request=MarksIn, responses={200: MeetingStateSerializer, **WRITE_ERRORS})
class MeetingAttendanceAPI(APIView):
    """签到, in bulk: each person's status (present, proxy, left, absent). The whole batch or nothing."""

    def post(self, request, pk):
        meeting = access_object(Meeting.objects.all(), request.user, "village.run_meeting", pk=pk)
        marks = _input(MarksIn, request)["marks"]
        wanted = {m["person"] for m in marks} | {m["proxy"] for m in marks if m.get("proxy")}
        persons = _persons(wanted, meeting.region_id)
        services.attendance_mark(actor=request.user, meeting=meeting,
                                 marks={m["person"]: m["status"] for m in marks},
                                 proxies={m["person"]: persons[m["proxy"]] for m in marks if m.get("proxy")})
        return _state_response(request, meeting)


@_component("Speech")
class SpeechIn(serializers.Serializer):
    points = _text()
    speaker = _id(required=False, allow_null=True, help_text="A resident of the village; or give speaker_name.")
    speaker_name = _optional_text(50)
    item = _id(required=False, allow_null=True, help_text="An agenda item of this meeting.")


@extend_schema(tags=TAGS, request=SpeechIn, responses={201: SpeechSerializer, **WRITE_ERRORS})
class MeetingSpeechAPI(APIView):
    """A speaker's points in the minutes."""

    def post(self, request, pk):
        meeting = access_object(Meeting.objects.all(), request.user, "village.run_meeting", pk=pk)
        d = _input(SpeechIn, request)
        item = None
        if d.get("item"):
            item = AgendaItem.objects.filter(pk=d["item"], meeting=meeting).first()
            if item is None:
                raise _missing("item", "议题不属于本次会议")
        speech = services.speech_record(actor=request.user, meeting=meeting, points=d["points"], item=item,
                                        speaker=_person(d.get("speaker"), meeting.region_id, "speaker"),
                                        speaker_name=d["speaker_name"])
        return Response(SpeechSerializer(speech).data, status=status.HTTP_201_CREATED)


@_component("MeetingClose")
class CloseIn(serializers.Serializer):
    minutes = _optional_text(100000)


@extend_schema(tags=TAGS, request=CloseIn, responses={200: MeetingStateSerializer, **WRITE_ERRORS})
class MeetingCloseAPI(APIView):
    """散会: the quorum and the participation are kept with the meeting; every vote must be closed first."""

    def post(self, request, pk):
        meeting = access_object(Meeting.objects.all(), request.user, "village.run_meeting", pk=pk)
        d = _input(CloseIn, request)
        services.meeting_close(actor=request.user, meeting=meeting, minutes=d["minutes"])
        return _state_response(request, meeting)


# ---------------------------------------------------------------------------------------------
# agenda


@_component("AgendaItem")
class AgendaItemIn(serializers.Serializer):
    region = _id(help_text="The village.")
    title = _text(200)
    mode = serializers.ChoiceField(choices=ItemMode.choices)
    source = serializers.ChoiceField(choices=ItemSource.choices)
    description = _optional_text()
    cases = _ids(100, default=list, validators=[_no_duplicates], help_text="Residents' cases of the village "
                                                                          "(source cases; see also from-cases).")
    contact_record = _id(required=False, allow_null=True, help_text="A contact record of the village (source "
                                                                    "contact).")
    proposer = _id(required=False, allow_null=True, help_text="The resident who proposed it (source resident).")
    matter = _id(required=False, allow_null=True, help_text="A major matter of the village (source matter).")
    meeting = _id(required=False, allow_null=True, help_text="A meeting of the village to put it on at once.")


def _waiting(qs, value, request):
    return qs.filter(meeting__isnull=value)


class AgendaItemListCreateAPI(_Filtered, ListAPIView):
    """Agenda items in the caller's scope (filter by village, meeting, or waiting for a meeting); POST
    proposes one (from a contact record, the two committees, a resident, a major matter …)."""

    serializer_class = AgendaItemSerializer
    list_filters = (
        ListFilter("village", _eq("region_id"), description="village id"),
        ListFilter("meeting", _eq("meeting_id"), description="meeting id"),
        ListFilter("waiting", _waiting, kind=bool, description="true: on no meeting yet."),
    )

    def get_queryset(self):
        require_perm(self.request.user, "village.view_agendaitem")
        return (AgendaItem.objects.visible_to(self.request.user, "village.view_agendaitem")
                .select_related("proposer").prefetch_related("cases").order_by("-created_at", "-id"))

    @extend_schema(tags=TAGS, responses={200: AgendaItemSerializer(many=True), **LIST_ERRORS})
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(tags=TAGS, request=AgendaItemIn, responses={201: AgendaItemSerializer, **WRITE_ERRORS})
    def post(self, request):
        from gongzhi.care.models import ContactRecord

        require_perm(request.user, "village.add_agendaitem")
        d = _input(AgendaItemIn, request)
        region = _village(request, d["region"], "village.add_agendaitem")
        user = request.user
        contact = None
        if d.get("contact_record"):
            contact = (ContactRecord.objects.visible_to(user, "care.view_contactrecord")
                       .filter(pk=d["contact_record"], village_id=region.pk).first())
            if contact is None:
                raise _missing("contact_record", "本村没有这条走访记录")
        matter = _in_village(request, Matter, "village.view_matter", d.get("matter"), region.pk, "matter",
                             "本村没有这个事项")
        meeting = _in_village(request, Meeting, "village.view_meeting", d.get("meeting"), region.pk, "meeting",
                              "本村没有这次会议")
        item = services.agenda_item_create(
            actor=user, region=region, title=d["title"], mode=d["mode"], source=d["source"],
            description=d["description"], cases=_cases(request, d["cases"]), contact_record=contact,
            proposer=_person(d.get("proposer"), region.pk, "proposer"), matter=matter, meeting=meeting)
        return Response(AgendaItemSerializer(_agenda_item(item), context=_context(request)).data,
                        status=status.HTTP_201_CREATED)


def _agenda_item(item):
    return AgendaItem.objects.select_related("proposer").prefetch_related("cases").get(pk=item.pk)


@_component("AgendaFromCases")
class FromCasesIn(serializers.Serializer):
    cases = _ids(100, min_length=1, validators=[_no_duplicates], help_text="One case or a cluster of similar cases "
                                                                           "of one village.")
    title = _optional_text(200)
    mode = serializers.ChoiceField(choices=ItemMode.choices, default=ItemMode.DECIDE)
    description = _optional_text()


@extend_schema(tags=TAGS, request=FromCasesIn, responses={201: AgendaItemSerializer, **WRITE_ERRORS})
class AgendaFromCasesAPI(APIView):
    """一键上会: one case, or several similar ones, become one agenda item of their village; each case's
    timeline says so."""

    def post(self, request):
        require_perm(request.user, "village.add_agendaitem")
        d = _input(FromCasesIn, request)
        cases = [access_object(Case.objects.all(), request.user, "cases.view_case", pk=pk) for pk in d["cases"]]
        item = services.agenda_item_from_cases(actor=request.user, cases=cases, title=d["title"], mode=d["mode"],
                                               description=d["description"])
        return Response(AgendaItemSerializer(_agenda_item(item), context=_context(request)).data,
                        status=status.HTTP_201_CREATED)


@_component("AgendaSchedule")
class ScheduleIn(serializers.Serializer):
    meeting = _id(help_text="A planned, notified or open meeting of the item's village.")


@extend_schema(tags=TAGS, request=ScheduleIn, responses={200: AgendaItemSerializer, **WRITE_ERRORS})
class AgendaScheduleAPI(APIView):
    """Put a waiting item on a meeting's agenda."""

    def post(self, request, pk):
        item = access_object(AgendaItem.objects.all(), request.user, "village.add_agendaitem", pk=pk)
        d = _input(ScheduleIn, request)
        meeting = _in_village(request, Meeting, "village.view_meeting", d["meeting"], item.region_id, "meeting",
                              "本村没有这次会议")
        item = services.agenda_item_schedule(actor=request.user, item=item, meeting=meeting)
        return Response(AgendaItemSerializer(_agenda_item(item), context=_context(request)).data)


# ---------------------------------------------------------------------------------------------
# votes


@_component("Ballot")
class BallotSerializer(serializers.ModelSerializer):
    person = serializers.IntegerField(source="voter.person_id", read_only=True)
    person_name = serializers.CharField(source="voter.person.name", read_only=True)
    cast = serializers.SerializerMethodField()

    class Meta:
        model = Ballot
        fields = ["voter", "person", "person_name", "cast", "choice", "cast_at"]
        extra_kwargs = {"voter": {"help_text": "The voter's attendance id (what ballots are cast with)."},
                        "choice": {"help_text": "Blank until cast, and always blank in a secret ballot."}}

    def get_cast(self, obj) -> bool:
        return obj.cast_at is not None


@_component("PollDetail")
class PollDetailSerializer(serializers.Serializer):
    poll = PollSerializer()
    ballots = BallotSerializer(many=True, help_text="The electorate, fixed when the vote opened, and who has voted.")


def _poll_response(request, poll, code=status.HTTP_200_OK) -> Response:
    poll = _polls().get(pk=poll.pk)
    ballots = Ballot.objects.filter(poll=poll).select_related("voter__person").order_by("voter__person__name", "id")
    return Response(PollDetailSerializer({"poll": poll, "ballots": list(ballots)}).data, status=code)


@_component("Poll")
class PollIn(serializers.Serializer):
    meeting = _id(help_text="An open meeting.")
    question = _text(300)
    ballot = serializers.ChoiceField(choices=BallotKind.choices, default=BallotKind.OPEN)
    item = _id(required=False, allow_null=True, help_text="The agenda item voted on (needed for a major matter).")


@extend_schema(tags=TAGS, request=PollIn, responses={201: PollDetailSerializer, **WRITE_ERRORS})
class PollOpenAPI(APIView):
    """付诸表决. The electorate is who is present now; a formal meeting without its quorum cannot vote
    (400, saying by how much)."""

    def post(self, request):
        require_perm(request.user, "village.run_meeting")
        d = _input(PollIn, request)
        meeting = access_object(Meeting.objects.all(), request.user, "village.run_meeting", pk=d["meeting"])
        item = None
        if d.get("item"):
            item = AgendaItem.objects.filter(pk=d["item"], meeting=meeting).first()
            if item is None:
                raise _missing("item", "议题不属于本次会议")
        poll = services.poll_open(actor=request.user, meeting=meeting, question=d["question"], ballot=d["ballot"],
                                  item=item)
        return _poll_response(request, poll, status.HTTP_201_CREATED)


@extend_schema(tags=TAGS, responses={200: PollDetailSerializer, **READ_ERRORS})
class PollDetailAPI(APIView):
    """One vote: the count, the result and why (at least n votes of those present)."""

    def get(self, request, pk):
        poll = access_object(Poll.objects.all(), request.user, "village.view_poll", pk=pk)
        return _poll_response(request, poll)


@_component("BallotCast")
class CastOneIn(serializers.Serializer):
    voter = _id(help_text="The voter's attendance id (see the vote's ballots).")
    choice = serializers.ChoiceField(choices=Choice.choices)


@_component("Ballots")
class CastIn(serializers.Serializer):
    ballots = CastOneIn(many=True, max_length=MAX_BATCH, min_length=1)

    def validate_ballots(self, ballots):
        _no_duplicates([b["voter"] for b in ballots], "选票中的投票人")
        return ballots


@extend_schema(tags=TAGS, request=CastIn, responses={200: PollDetailSerializer, **WRITE_ERRORS})
class PollCastAPI(APIView):
    """Record ballots in bulk. Refused whole (nothing saved) if the vote is closed, a voter is not on the
    electorate or has voted already."""

    def post(self, request, pk):
        poll = access_object(Poll.objects.all(), request.user, "village.run_meeting", pk=pk)
        ballots = _input(CastIn, request)["ballots"]
        services.ballots_cast(actor=request.user, poll=poll, choices={b["voter"]: b["choice"] for b in ballots})
        return _poll_response(request, poll)


@extend_schema(tags=TAGS, request=None, responses={200: PollDetailSerializer, **WRITE_ERRORS})
class PollCloseAPI(APIView):
    """End the vote: the count and the result against the threshold of those present."""

    def post(self, request, pk):
        poll = access_object(Poll.objects.all(), request.user, "village.run_meeting", pk=pk)
        services.poll_close(actor=request.user, poll=poll)
        return _poll_response(request, poll)


# ---------------------------------------------------------------------------------------------
# 四议两公开


@_component("Matter")
class MatterSerializer(serializers.ModelSerializer):
    region_name = _name("region")
    cases = serializers.SerializerMethodField(help_text="Ids of the residents' cases behind it (those the caller "
                                                        "may see).")

    class Meta:
        model = Matter
        fields = ["id", "region", "region_name", "title", "description", "topic", "status", "cases", "exempt_reason",
                  "exempted_at", "explain_due_on", "explanation", "explained_at", "created_at", "updated_at"]

    def get_cases(self, obj) -> list[int]:
        return _visible_cases(self, obj)


@_component("MatterStep")
class MatterStepSerializer(serializers.ModelSerializer):
    step = serializers.CharField(help_text="propose, discuss, review, resolve, publish_resolution, publish_result; "
                                           "or exempt, reject.")
    from_status = serializers.CharField()
    to_status = serializers.CharField()

    class Meta:
        model = MatterStep
        fields = ["id", "step", "from_status", "to_status", "meeting", "poll", "publicity", "note", "at"]


@_component("MatterPathStep")
class PathStepSerializer(serializers.Serializer):
    name = serializers.CharField()
    label = serializers.CharField(help_text="党组织提议 …")
    is_next = serializers.BooleanField()
    done = MatterStepSerializer(allow_null=True, help_text="Null until taken.")


@_component("MatterNextStep")
class NextStepSerializer(serializers.Serializer):
    name = serializers.CharField()
    label = serializers.CharField()
    meeting_kinds = serializers.ListField(child=serializers.CharField(),
                                          help_text="Kinds of meeting it may be taken at; empty: no meeting.")
    needs_vote = serializers.BooleanField()
    publishes = serializers.CharField(help_text="The publicity category it posts; empty: none.")
    blocked_by = serializers.CharField(allow_null=True, help_text="Why it cannot be taken yet (Chinese); null: it "
                                                                  "can, given the right meeting and vote.")


@_component("MatterDetail")
class MatterDetailSerializer(serializers.Serializer):
    matter = MatterSerializer()
    path = PathStepSerializer(many=True, help_text="The six steps in order (``selectors.matter_path``).")
    next_step = NextStepSerializer(allow_null=True)
    history = MatterStepSerializer(many=True, help_text="Every step taken, an exemption or rejection included.")
    decision = serializers.IntegerField(allow_null=True)
    exemptible = serializers.BooleanField(help_text="An emergency exemption may still be recorded.")


def _matters():
    return Matter.objects.select_related("region").prefetch_related("cases")


def _matter_detail(request, matter: Matter, code=status.HTTP_200_OK) -> Response:
    matter = _matters().get(pk=matter.pk)
    following = workflow.next_step(matter.status)
    next_step = None
    if following is not None:
        next_step = {"name": following.name, "label": following.label,
                     "meeting_kinds": sorted(following.meeting_kinds), "needs_vote": following.needs_vote,
                     "publishes": following.publishes,
                     "blocked_by": workflow.step_error(following.name, matter.status, services.matter_facts(matter))}
    decision = Decision.objects.filter(matter=matter).values_list("pk", flat=True).first()
    data = {"matter": matter, "path": selectors.matter_path(matter), "next_step": next_step,
            "history": list(MatterStep.objects.filter(matter=matter).order_by("at", "id")), "decision": decision,
            "exemptible": matter.status in workflow.EXEMPTIBLE}
    return Response(MatterDetailSerializer(data, context=_context(request)).data, status=code)


@_component("Matter")
class MatterIn(serializers.Serializer):
    region = _id(help_text="The village.")
    title = _text(200)
    description = _text()
    topic = serializers.ChoiceField(choices=MatterTopic.choices)
    cases = _ids(100, default=list, validators=[_no_duplicates], help_text="Residents' cases of the village behind it.")


class MatterListCreateAPI(_Filtered, ListAPIView):
    """Major matters (四议两公开) in the caller's scope, newest first; POST records one (not yet proposed)."""

    serializer_class = MatterSerializer
    list_filters = (
        ListFilter("village", _eq("region_id"), description="village id"),
        ListFilter("status", _eq("status"), kind=str, enum=tuple(MatterStatus.values)),
        ListFilter("topic", _eq("topic"), kind=str, enum=tuple(MatterTopic.values)),
    )

    def get_queryset(self):
        require_perm(self.request.user, "village.view_matter")
        return _matters().visible_to(self.request.user, "village.view_matter").order_by("-created_at", "-id")

    @extend_schema(tags=TAGS, responses={200: MatterSerializer(many=True), **LIST_ERRORS})
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(tags=TAGS, request=MatterIn, responses={201: MatterDetailSerializer, **WRITE_ERRORS})
    def post(self, request):
        require_perm(request.user, "village.add_matter")
        d = _input(MatterIn, request)
        region = _village(request, d["region"], "village.add_matter")
        matter = services.matter_create(actor=request.user, region=region, title=d["title"],
                                        description=d["description"], topic=d["topic"],
                                        cases=_cases(request, d["cases"]))
        return _matter_detail(request, matter, status.HTTP_201_CREATED)


@extend_schema(tags=TAGS, responses={200: MatterDetailSerializer, **READ_ERRORS})
class MatterDetailAPI(APIView):
    """One matter with its six-step path, what was done at each step (meeting, vote, notice) and the next step."""

    def get(self, request, pk):
        matter = access_object(Matter.objects.all(), request.user, "village.view_matter", pk=pk)
        return _matter_detail(request, matter)


def _meeting_of(request, pk, region_id):
    return _in_village(request, Meeting, "village.view_meeting", pk, region_id, "meeting", "本村没有这次会议")


def _poll_of(request, pk, region_id, field="poll"):
    if pk is None:
        return None
    poll = (Poll.objects.visible_to(request.user, "village.view_poll")
            .filter(pk=pk, meeting__region_id=region_id).first())
    if poll is None:
        raise _missing(field, "本村没有这项表决")
    return poll


@_component("MatterAdvance")
class AdvanceIn(serializers.Serializer):
    step = serializers.ChoiceField(choices=[(t.name, t.label) for t in workflow.STEPS])
    meeting = _id(required=False, allow_null=True, help_text="The meeting it was taken at (deliberation steps).")
    poll = _id(required=False, allow_null=True, help_text="The passed vote (review and resolve).")
    note = _optional_text()
    content = _optional_text(help_text="resolve: what was decided (default: the motion).")


@extend_schema(tags=TAGS, request=AdvanceIn, responses={200: MatterDetailSerializer, **WRITE_ERRORS})
class MatterAdvanceAPI(APIView):
    """One step of 四议两公开, in order (400 otherwise, naming the step that comes next), at the right kind of
    meeting with its quorum and, for review and resolve, a passed vote."""

    def post(self, request, pk):
        matter = access_object(Matter.objects.all(), request.user, "village.steer_matter", pk=pk)
        d = _input(AdvanceIn, request)
        meeting = _meeting_of(request, d.get("meeting"), matter.region_id)
        services.matter_advance(actor=request.user, matter=matter, step=d["step"], meeting=meeting,
                                poll=_poll_of(request, d.get("poll"), matter.region_id), note=d["note"],
                                content=d["content"])
        return _matter_detail(request, matter)


@_component("MatterReject")
class RejectIn(serializers.Serializer):
    poll = _id(help_text="The closed vote of this stage that did not pass.")
    note = _optional_text()


@extend_schema(tags=TAGS, request=RejectIn, responses={200: MatterDetailSerializer, **WRITE_ERRORS})
class MatterRejectAPI(APIView):
    """A review or resolution vote that did not pass ends the matter."""

    def post(self, request, pk):
        matter = access_object(Matter.objects.all(), request.user, "village.steer_matter", pk=pk)
        d = _input(RejectIn, request)
        services.matter_reject(actor=request.user, matter=matter, poll=_poll_of(request, d["poll"], matter.region_id),
                               note=d["note"])
        return _matter_detail(request, matter)


@_component("MatterExempt")
class ExemptIn(serializers.Serializer):
    reason = _text(help_text="The emergency (disaster, danger to life, basic livelihood).")
    content = _text(help_text="What was decided.")


@extend_schema(tags=TAGS, request=ExemptIn, responses={200: MatterDetailSerializer, **WRITE_ERRORS})
class MatterExemptAPI(APIView):
    """紧急事项: decided without the deliberation steps, to be explained within the county's time; the two
    publication steps remain."""

    def post(self, request, pk):
        matter = access_object(Matter.objects.all(), request.user, "village.steer_matter", pk=pk)
        d = _input(ExemptIn, request)
        services.matter_exempt(actor=request.user, matter=matter, reason=d["reason"], content=d["content"])
        return _matter_detail(request, matter)


@_component("MatterExplain")
class ExplainIn(serializers.Serializer):
    explanation = _text()


@extend_schema(tags=TAGS, request=ExplainIn, responses={200: MatterDetailSerializer, **WRITE_ERRORS})
class MatterExplainAPI(APIView):
    """事后备案说明 of an emergency exemption."""

    def post(self, request, pk):
        matter = access_object(Matter.objects.all(), request.user, "village.steer_matter", pk=pk)
        d = _input(ExplainIn, request)
        services.matter_explain(actor=request.user, matter=matter, explanation=d["explanation"])
        return _matter_detail(request, matter)


# ---------------------------------------------------------------------------------------------
# decisions followed to the end


@_component("Decision")
class DecisionSerializer(serializers.ModelSerializer):
    region_name = _name("region")
    responsible_person_name = _name("responsible_person")
    open_tasks = serializers.SerializerMethodField()
    all_tasks = serializers.SerializerMethodField()
    cases = serializers.SerializerMethodField(help_text="Ids of the residents' cases it answers (those the caller "
                                                        "may see).")

    class Meta:
        model = Decision
        fields = ["id", "region", "region_name", "matter", "meeting", "poll", "title", "content", "decided_on",
                  "responsible_body", "responsible_person", "responsible_person_name", "status", "done_at",
                  "open_tasks", "all_tasks", "cases", "created_at"]

    def get_open_tasks(self, obj) -> int:
        return obj.open_tasks

    def get_all_tasks(self, obj) -> int:
        return obj.all_tasks

    def get_cases(self, obj) -> list[int]:
        return _visible_cases(self, obj)


@_component("DecisionTask")
class TaskSerializer(serializers.ModelSerializer):
    assignee_name = _name("assignee")
    overdue = serializers.SerializerMethodField()

    class Meta:
        model = DecisionTask
        fields = ["id", "decision", "title", "assignee", "assignee_name", "assignee_body", "due_on", "progress",
                  "status", "done_at", "overdue"]

    def get_overdue(self, obj) -> bool:
        return obj.status == TaskStatus.OPEN and obj.due_on < timezone.localdate()


@_component("DecisionEntry")
class EntrySerializer(serializers.ModelSerializer):
    class Meta:
        model = DecisionEntry
        fields = ["id", "task", "kind", "supervisor", "text", "public", "at", "actor_name"]


@_component("DecisionDetail")
class DecisionDetailSerializer(serializers.Serializer):
    decision = DecisionSerializer()
    tasks = TaskSerializer(many=True)
    timeline = EntrySerializer(many=True, help_text="decision → execution → feedback → supervision → adjustment, "
                                                    "oldest first.")


def _decisions():
    return (Decision.objects.select_related("region", "responsible_person").prefetch_related("cases")
            .annotate(open_tasks=Count("tasks", filter=Q(tasks__status=TaskStatus.OPEN), distinct=True),
                      all_tasks=Count("tasks", distinct=True)))


def _decision_detail(request, decision: Decision, code=status.HTTP_200_OK) -> Response:
    user = request.user
    decision = _decisions().get(pk=decision.pk)
    tasks = (DecisionTask.objects.visible_to(user, "village.view_decisiontask").filter(decision=decision)
             .select_related("assignee").order_by("due_on", "id"))
    timeline = (DecisionEntry.objects.visible_to(user, "village.view_decisionentry").filter(decision=decision)
                .order_by("at", "id"))
    data = {"decision": decision, "tasks": list(tasks), "timeline": list(timeline)}
    return Response(DecisionDetailSerializer(data, context=_context(request)).data, status=code)


@extend_schema(tags=TAGS, responses={200: DecisionSerializer(many=True), **LIST_ERRORS})
class DecisionListAPI(_Filtered, ListAPIView):
    """Decisions in the caller's scope, latest first, with their open and total tasks."""

    serializer_class = DecisionSerializer
    list_filters = (
        ListFilter("village", _eq("region_id"), description="village id"),
        ListFilter("status", _eq("status"), kind=str, enum=tuple(DecisionStatus.values)),
    )

    def get_queryset(self):
        require_perm(self.request.user, "village.view_decision")
        return _decisions().visible_to(self.request.user, "village.view_decision").order_by("-decided_on", "-id")


@extend_schema(tags=TAGS, responses={200: DecisionDetailSerializer, **READ_ERRORS})
class DecisionDetailAPI(APIView):
    """One decision with its tasks and timeline."""

    def get(self, request, pk):
        decision = access_object(Decision.objects.all(), request.user, "village.view_decision", pk=pk)
        return _decision_detail(request, decision)


@_component("DecisionTask")
class TaskIn(serializers.Serializer):
    title = _text(200)
    due_on = _date()
    assignee = _id(required=False, allow_null=True, help_text="A resident of the village; or give assignee_body.")
    assignee_body = _id(required=False, allow_null=True, help_text="A body of the village.")


@extend_schema(tags=TAGS, request=TaskIn, responses={201: TaskSerializer, **WRITE_ERRORS})
class DecisionTaskAddAPI(APIView):
    """Break the decision into a task with who does it and by when (the assignee is told)."""

    def post(self, request, pk):
        decision = access_object(Decision.objects.all(), request.user, "village.change_decision", pk=pk)
        d = _input(TaskIn, request)
        task = services.task_add(actor=request.user, decision=decision, title=d["title"], due_on=d["due_on"],
                                 assignee=_person(d.get("assignee"), decision.region_id, "assignee"),
                                 assignee_body=_body(d.get("assignee_body"), decision.region_id, "assignee_body"))
        return Response(TaskSerializer(task).data, status=status.HTTP_201_CREATED)


@_component("TaskProgress")
class ProgressIn(serializers.Serializer):
    progress = serializers.IntegerField(min_value=0, max_value=100, help_text="Percent; 100 completes the task.")
    note = _optional_text()


@extend_schema(tags=TAGS, request=ProgressIn, responses={200: TaskSerializer, **WRITE_ERRORS})
class TaskProgressAPI(APIView):
    """Progress of a task (never less than before: a change of plan is an adjustment)."""

    def post(self, request, pk):
        task = access_object(DecisionTask.objects.all(), request.user, "village.change_decision", pk=pk)
        d = _input(ProgressIn, request)
        task = services.task_progress(actor=request.user, task=task, progress=d["progress"], note=d["note"])
        return Response(TaskSerializer(task).data)


@_component("TaskAdjust")
class AdjustIn(serializers.Serializer):
    reason = _text()
    due_on = _date(required=False, allow_null=True, help_text="A later due date.")
    cancel = serializers.BooleanField(default=False, help_text="Drop the task instead.")


@extend_schema(tags=TAGS, request=AdjustIn, responses={200: TaskSerializer, **WRITE_ERRORS})
class TaskAdjustAPI(APIView):
    """调整: a later due date, or the task dropped, with the reason on the timeline."""

    def post(self, request, pk):
        task = access_object(DecisionTask.objects.all(), request.user, "village.change_decision", pk=pk)
        d = _input(AdjustIn, request)
        task = services.task_adjust(actor=request.user, task=task, reason=d["reason"], due_on=d.get("due_on"),
                                    cancel=d["cancel"])
        return Response(TaskSerializer(task).data)


NOTE_KINDS = [(k, EntryKind(k).label) for k in (EntryKind.FEEDBACK, EntryKind.SUPERVISION, EntryKind.ADJUSTMENT)]


@_component("DecisionNote")
class NoteIn(serializers.Serializer):
    kind = serializers.ChoiceField(choices=NOTE_KINDS, help_text="supervision needs village.supervise_decision.")
    text = _text()
    supervisor = serializers.ChoiceField(choices=Supervisor.choices, required=False, allow_blank=True, default="",
                                         help_text="Who supervises (kind supervision).")


@extend_schema(tags=TAGS, request=NoteIn, responses={201: EntrySerializer, **WRITE_ERRORS})
class DecisionNoteAPI(APIView):
    """Residents' feedback (recorded by staff), a supervision note or an adjustment on the timeline."""

    def post(self, request, pk):
        decision = access_object(Decision.objects.all(), request.user, "village.view_decision", pk=pk)
        d = _input(NoteIn, request)
        entry = services.decision_note(actor=request.user, decision=decision, kind=d["kind"], text=d["text"],
                                       supervisor=d["supervisor"])
        return Response(EntrySerializer(entry).data, status=status.HTTP_201_CREATED)


@_component("DecisionComplete")
class CompleteIn(serializers.Serializer):
    note = _optional_text()


@extend_schema(tags=TAGS, request=CompleteIn, responses={200: DecisionDetailSerializer, **WRITE_ERRORS})
class DecisionCompleteAPI(APIView):
    """The decision is carried out (every task done); the cases behind it are told."""

    def post(self, request, pk):
        decision = access_object(Decision.objects.all(), request.user, "village.change_decision", pk=pk)
        d = _input(CompleteIn, request)
        services.decision_complete(actor=request.user, decision=decision, note=d["note"])
        return _decision_detail(request, decision)


# ---------------------------------------------------------------------------------------------
# 村务公开


@_component("PublicityItem")
class PublicitySerializer(serializers.ModelSerializer):
    region_name = _name("region")
    superseded_by = serializers.SerializerMethodField(help_text="The correction that replaced it, if any.")

    class Meta:
        model = PublicityItem
        fields = ["id", "region", "region_name", "category", "title", "body", "lines", "period_start", "period_end",
                  "status", "published_at", "supersedes", "superseded_by", "decision", "matter", "created_at"]

    def get_superseded_by(self, obj) -> int | None:
        try:
            return obj.superseded_by.pk
        except PublicityItem.DoesNotExist:
            return None


def _publicity(user):
    """Published and corrected notices the caller may read, and the drafts they may edit."""
    drafts = PublicityItem.objects.visible_to(user, "village.add_publicityitem").filter(status=PublicityStatus.DRAFT)
    return (PublicityItem.objects.visible_to(user, "village.view_publicityitem")
            .filter(~Q(status=PublicityStatus.DRAFT) | Q(pk__in=drafts.values("pk")))
            .select_related("region", "superseded_by"))


@_component("PublicityItem")
class PublicityIn(serializers.Serializer):
    region = _id(help_text="The village.")
    category = serializers.ChoiceField(choices=PublicityCategory.choices)
    title = _text(200)
    body = _optional_text()
    lines = _lines(default=list)
    period_start = _date(required=False, allow_null=True)
    period_end = _date(required=False, allow_null=True)
    decision = _id(required=False, allow_null=True, help_text="A decision of the village it makes public.")


class PublicityListCreateAPI(_Filtered, ListAPIView):
    """Village notices in the caller's scope, drafts included where the caller may edit them, newest first;
    POST writes a draft."""

    serializer_class = PublicitySerializer
    list_filters = (
        ListFilter("village", _eq("region_id"), description="village id"),
        ListFilter("category", _eq("category"), kind=str, enum=tuple(PublicityCategory.values)),
        ListFilter("status", _eq("status"), kind=str, enum=tuple(PublicityStatus.values)),
    )

    def get_queryset(self):
        require_perm(self.request.user, "village.view_publicityitem")
        return _publicity(self.request.user).order_by("-published_at", "-id")

    @extend_schema(tags=TAGS, responses={200: PublicitySerializer(many=True), **LIST_ERRORS})
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(tags=TAGS, request=PublicityIn, responses={201: PublicitySerializer, **WRITE_ERRORS})
    def post(self, request):
        require_perm(request.user, "village.add_publicityitem")
        d = _input(PublicityIn, request)
        region = _village(request, d["region"], "village.add_publicityitem")
        decision = _in_village(request, Decision, "village.view_decision", d.get("decision"), region.pk, "decision",
                               "本村没有这项决议")
        item = services.publicity_draft(actor=request.user, region=region, category=d["category"], title=d["title"],
                                        body=d["body"], lines=d["lines"], period_start=d.get("period_start"),
                                        period_end=d.get("period_end"), decision=decision)
        return Response(PublicitySerializer(item).data, status=status.HTTP_201_CREATED)


@_component("PublicityChange")
class PublicityChangeIn(serializers.Serializer):
    category = serializers.ChoiceField(choices=PublicityCategory.choices, required=False)
    title = _text(200, required=False)
    body = _text(required=False, allow_blank=True)
    lines = _lines(required=False)
    period_start = _date(required=False, allow_null=True)
    period_end = _date(required=False, allow_null=True)


class PublicityDetailAPI(APIView):
    @extend_schema(tags=TAGS, responses={200: PublicitySerializer, **READ_ERRORS})
    def get(self, request, pk):
        """One notice (a draft only for a caller who may edit it)."""
        require_perm(request.user, "village.view_publicityitem")
        item = _publicity(request.user).filter(pk=pk).first()
        if item is None:
            raise Http404
        return Response(PublicitySerializer(item).data)

    @extend_schema(tags=TAGS, request=PublicityChangeIn, responses={200: PublicitySerializer, **WRITE_ERRORS})
    def patch(self, request, pk):
        """Change a draft (the fields sent); a published notice is never changed, only corrected."""
        item = access_object(PublicityItem.objects.all(), request.user, "village.add_publicityitem", pk=pk)
        changes = _input(PublicityChangeIn, request)
        item = services.publicity_update(actor=request.user, item=item, **changes)
        return Response(PublicitySerializer(item).data)


@extend_schema(tags=TAGS, request=None, responses={200: PublicitySerializer, **WRITE_ERRORS})
class PublicityPublishAPI(APIView):
    """公开: the draft goes on the village board; from now on it cannot change."""

    def post(self, request, pk):
        item = access_object(PublicityItem.objects.all(), request.user, "village.publish_publicityitem", pk=pk)
        item = services.publicity_publish(actor=request.user, item=item)
        return Response(PublicitySerializer(item).data)


@_component("PublicityCorrection")
class CorrectIn(PublicityChangeIn):
    reason = _text()


@extend_schema(tags=TAGS, request=CorrectIn, responses={201: PublicitySerializer, **WRITE_ERRORS})
class PublicityCorrectAPI(APIView):
    """更正: a new notice supersedes a published one (both stay on the record); answers the new notice."""

    def post(self, request, pk):
        item = access_object(PublicityItem.objects.all(), request.user, "village.publish_publicityitem", pk=pk)
        changes = _input(CorrectIn, request)
        reason = changes.pop("reason")
        new = services.publicity_correct(actor=request.user, item=item, reason=reason, **changes)
        return Response(PublicitySerializer(new).data, status=status.HTTP_201_CREATED)


@_component("PublicityFlag")
class FlagSerializer(serializers.ModelSerializer):
    region_name = _name("region")

    class Meta:
        model = PublicityFlag
        fields = ["id", "region", "region_name", "category", "period_start", "period_end", "flagged_at"]


@extend_schema(tags=TAGS, responses={200: FlagSerializer(many=True), **LIST_ERRORS})
class PublicityFlagListAPI(ListAPIView):
    """Required publications not made in time (flagged to the town), still open."""

    serializer_class = FlagSerializer

    def get_queryset(self):
        require_perm(self.request.user, "village.view_publicityflag")
        return selectors.publicity_flags(user=self.request.user).order_by("-period_start", "id")


# ---------------------------------------------------------------------------------------------
# 权力清单、责任清单


@_component("DutyOwner")
class DutyOwnerSerializer(serializers.ModelSerializer):
    body_name = _name("body")

    class Meta:
        model = DutyOwner
        fields = ["id", "body", "body_name", "post"]


@_component("Duty")
class DutySerializer(serializers.ModelSerializer):
    owners = DutyOwnerSerializer(many=True, read_only=True)

    class Meta:
        model = Duty
        fields = ["id", "duty_list", "title", "basis", "removed_on", "owners"]


@_component("DutyList")
class DutyListSerializer(serializers.ModelSerializer):
    review_overdue = serializers.SerializerMethodField()

    class Meta:
        model = DutyList
        fields = ["id", "region", "kind", "reviewed_on", "review_due_on", "review_overdue"]

    def get_review_overdue(self, obj) -> bool:
        return obj.review_due_on < timezone.localdate()


@_component("DutyListDetail")
class DutyListDetailSerializer(serializers.Serializer):
    duty_list = DutyListSerializer()
    duties = DutySerializer(many=True)
    unowned = serializers.ListField(child=serializers.IntegerField(), help_text="Duties nobody owns.")
    shared = serializers.ListField(child=serializers.IntegerField(),
                                   help_text="Duties with more than one owner (to be settled).")


def _duty_list_detail(request, duty_list: DutyList, code=status.HTTP_200_OK) -> Response:
    duty_list = DutyList.objects.get(pk=duty_list.pk)
    owners = DutyOwner.objects.select_related("body").order_by("id")
    duties = (Duty.objects.visible_to(request.user, "village.view_duty")
              .filter(duty_list=duty_list, removed_on__isnull=True)
              .prefetch_related(Prefetch("owners", queryset=owners)).order_by("id"))
    problems = selectors.duty_problems(duty_list)
    data = {"duty_list": duty_list, "duties": list(duties), "unowned": [d.pk for d in problems["unowned"]],
            "shared": [d.pk for d in problems["shared"]]}
    return Response(DutyListDetailSerializer(data).data, status=code)


@_component("DutyList")
class DutyListIn(serializers.Serializer):
    region = _id(help_text="The village.")
    kind = serializers.ChoiceField(choices=DutyListKind.choices)


class DutyListListEnsureAPI(_Filtered, ListAPIView):
    """Power and responsibility lists in the caller's scope; POST makes sure a village has one of a kind
    (201 when made now, 200 when it existed)."""

    serializer_class = DutyListSerializer
    list_filters = (
        ListFilter("village", _eq("region_id"), description="village id"),
        ListFilter("kind", _eq("kind"), kind=str, enum=tuple(DutyListKind.values)),
    )

    def get_queryset(self):
        require_perm(self.request.user, "village.view_dutylist")
        return DutyList.objects.visible_to(self.request.user, "village.view_dutylist").order_by("region_id", "kind")

    @extend_schema(tags=TAGS, responses={200: DutyListSerializer(many=True), **LIST_ERRORS})
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(tags=TAGS, request=DutyListIn, responses={
        200: OpenApiResponse(DutyListDetailSerializer, description="The list existed."),
        201: OpenApiResponse(DutyListDetailSerializer, description="The list was made now."), **WRITE_ERRORS})
    def post(self, request):
        require_perm(request.user, "village.change_dutylist")
        d = _input(DutyListIn, request)
        region = _village(request, d["region"], "village.change_dutylist")
        existed = DutyList.objects.filter(region=region, kind=d["kind"]).exists()
        duty_list = services.duty_list_ensure(actor=request.user, region=region, kind=d["kind"])
        return _duty_list_detail(request, duty_list, status.HTTP_200_OK if existed else status.HTTP_201_CREATED)


@extend_schema(tags=TAGS, responses={200: DutyListDetailSerializer, **READ_ERRORS})
class DutyListDetailAPI(APIView):
    """A list's duties with their owners, and the problems: duties nobody owns, duties owned twice."""

    def get(self, request, pk):
        duty_list = access_object(DutyList.objects.all(), request.user, "village.view_dutylist", pk=pk)
        return _duty_list_detail(request, duty_list)


@_component("DutyOwner")
class DutyOwnerIn(serializers.Serializer):
    body = _id(help_text="A body of the list's village.")
    post = serializers.ChoiceField(choices=Post.choices, required=False, allow_blank=True, default="",
                                   help_text="One post in the body; blank: the body as a whole.")


@_component("Duty")
class DutyIn(serializers.Serializer):
    title = _text(200)
    basis = _text(300, help_text="The law, regulation or village rule it rests on.")
    owners = DutyOwnerIn(many=True, max_length=20, required=False)


def _duty(duty):
    owners = DutyOwner.objects.select_related("body").order_by("id")
    return Duty.objects.prefetch_related(Prefetch("owners", queryset=owners)).get(pk=duty.pk)


@extend_schema(tags=TAGS, request=DutyIn, responses={201: DutySerializer, **WRITE_ERRORS})
class DutyAddAPI(APIView):
    """A duty on the list, with its owners."""

    def post(self, request, pk):
        duty_list = access_object(DutyList.objects.all(), request.user, "village.change_dutylist", pk=pk)
        d = _input(DutyIn, request)
        owners = [(_body(o["body"], duty_list.region_id), o["post"]) for o in d.get("owners", [])]
        duty = services.duty_add(actor=request.user, duty_list=duty_list, title=d["title"], basis=d["basis"],
                                 owners=owners)
        return Response(DutySerializer(_duty(duty)).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=TAGS, request=DutyOwnerIn, responses={201: DutySerializer, **WRITE_ERRORS})
class DutyOwnerAddAPI(APIView):
    """One more owner of a duty (a duty should have exactly one: two are shown as a problem)."""

    def post(self, request, pk):
        duty = access_object(Duty.objects.select_related("duty_list"), request.user, "village.change_dutylist", pk=pk)
        d = _input(DutyOwnerIn, request)
        services.duty_owner_add(actor=request.user, duty=duty, body=_body(d["body"], duty.duty_list.region_id),
                                post=d["post"])
        return Response(DutySerializer(_duty(duty)).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=TAGS, request=None, responses={200: DutyListDetailSerializer, **WRITE_ERRORS})
class DutyListReviewAPI(APIView):
    """清单审核: the list is confirmed as current; the next review is due after the county's cycle."""

    def post(self, request, pk):
        duty_list = access_object(DutyList.objects.all(), request.user, "village.change_dutylist", pk=pk)
        duty_list = services.duty_list_review(actor=request.user, duty_list=duty_list)
        return _duty_list_detail(request, duty_list)
