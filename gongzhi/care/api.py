"""REST API of the care app: one APIView per operation, its own input and output serializers,
every read from ``visible_to``, every write through ``services``; documented by drf-spectacular."""
from __future__ import annotations

from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from gongzhi.core.scoping import access_object, require_perm
from gongzhi.registry.models import Grid, Household, Region, RegionLevel

from . import selectors, services
from .load import TASKS
from .models import ArchiveChange, ChangeKind, ContactMethod, ContactRecord, HouseholdClass, Patrol, Visit


def _village(request, pk, perm):
    village = access_object(Region.objects.all(), request.user, perm, pk=pk)
    if village.level != RegionLevel.VILLAGE:
        from django.http import Http404

        raise Http404
    return village


# ---------------------------------------------------------------------------------------------
# classes


class HouseholdClassOut(serializers.ModelSerializer):
    household_code = serializers.CharField(source="household.code")
    effective_colour = serializers.CharField()
    summary = serializers.CharField()
    override_active = serializers.SerializerMethodField()

    class Meta:
        model = HouseholdClass
        fields = ["household", "household_code", "grid", "colour", "effective_colour", "reasons", "summary", "inputs",
                  "computed_at", "override_active", "override_colour", "override_reason", "override_expires_on"]

    def get_override_active(self, obj) -> bool:
        return obj.override_active()


@extend_schema(tags=["care"], parameters=[
    OpenApiParameter("village", int, description="village id"), OpenApiParameter("grid", int),
    OpenApiParameter("colour", str, enum=["red", "yellow", "green", "undecided"], description="effective class")])
class ClassListAPI(ListAPIView):
    """Households' classes (放心/关心/连心) with their reasons, in the caller's scope."""

    serializer_class = HouseholdClassOut

    def get_queryset(self):
        require_perm(self.request.user, "care.view_householdclass")
        rows = (HouseholdClass.objects.visible_to(self.request.user, "care.view_householdclass")
                .annotate(eff=selectors.effective_colour()).select_related("household").order_by("household__code"))
        params = self.request.query_params
        for key, column in (("village", "village_id"), ("grid", "grid_id")):
            if params.get(key, "").isdigit():
                rows = rows.filter(**{column: int(params[key])})
        if params.get("colour") in selectors.COLOURS:
            rows = rows.filter(eff=params["colour"])
        return rows


@extend_schema(tags=["care"], responses=HouseholdClassOut)
class ClassDetailAPI(APIView):
    def get(self, request, pk):
        row = access_object(HouseholdClass.objects.select_related("household"), request.user,
                            "care.view_householdclass", pk=pk)
        return Response(HouseholdClassOut(row).data)


CountsOut = inline_serializer("ClassCounts", {
    "village": serializers.IntegerField(),
    "total": serializers.DictField(child=serializers.IntegerField()),
    "grids": serializers.ListField(child=serializers.DictField()),
    "unclassified": serializers.IntegerField(),
})


@extend_schema(tags=["care"], responses=CountsOut)
class ClassCountsAPI(APIView):
    """Counts by effective class per grid and for the village."""

    def get(self, request, pk):
        village = _village(request, pk, "care.view_householdclass")
        counts = selectors.class_counts(request.user, village=village)
        return Response({"village": village.pk, "total": counts["total"], "unclassified": counts["unclassified"],
                         "grids": [{"grid": g.pk if g else None, "name": g.name if g else "", **c}
                                   for g, c in counts["grids"]]})


# ---------------------------------------------------------------------------------------------
# contacts


class ContactIn(serializers.Serializer):
    household = serializers.IntegerField()
    method = serializers.ChoiceField(choices=ContactMethod.choices)
    heard = serializers.CharField()
    contacted_at = serializers.DateTimeField(required=False, allow_null=True)
    needs_action = serializers.BooleanField(default=False)


class ContactOut(serializers.ModelSerializer):
    class Meta:
        model = ContactRecord
        fields = ["id", "household", "person", "line", "contacted_at", "method", "heard", "needs_action", "case_ref",
                  "created_at"]


class ContactListCreateAPI(ListAPIView):
    """Contact records in the caller's scope, newest first, paginated like every list."""

    serializer_class = ContactOut

    def get_queryset(self):
        require_perm(self.request.user, "care.view_contactrecord")
        rows = ContactRecord.objects.visible_to(self.request.user, "care.view_contactrecord").order_by(
            "-contacted_at", "-id")
        if self.request.query_params.get("household", "").isdigit():
            rows = rows.filter(household_id=int(self.request.query_params["household"]))
        return rows

    @extend_schema(tags=["care"], parameters=[OpenApiParameter("household", int)])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(tags=["care"], request=ContactIn, responses={201: ContactOut})
    def post(self, request):
        require_perm(request.user, "care.add_contactrecord")
        data = ContactIn(data=request.data)
        data.is_valid(raise_exception=True)
        d = data.validated_data
        household = access_object(Household.objects.all(), request.user, "care.add_contactrecord", pk=d["household"])
        record = services.contact_record(actor=request.user, household=household, method=d["method"], heard=d["heard"],
                                         contacted_at=d.get("contacted_at"), needs_action=d["needs_action"])
        return Response(ContactOut(record).data, status=status.HTTP_201_CREATED)


# ---------------------------------------------------------------------------------------------
# visits


class VisitOut(serializers.ModelSerializer):
    household_code = serializers.CharField(source="household.code")
    helper = serializers.IntegerField(source="plan.helper_id", allow_null=True)

    class Meta:
        model = Visit
        fields = ["id", "household", "household_code", "helper", "due_on", "done_at", "note"]


class VisitIn(serializers.Serializer):
    note = serializers.CharField()


@extend_schema(tags=["care"])
class VisitsDueAPI(ListAPIView):
    """Open visits due within two weeks (overdue first) for the caller."""

    serializer_class = VisitOut

    def get_queryset(self):
        require_perm(self.request.user, "care.change_visit")
        return selectors.visits_due_queryset(self.request.user)


@extend_schema(tags=["care"], request=VisitIn, responses=VisitOut)
class VisitRecordAPI(APIView):
    def post(self, request, pk):
        visit = access_object(Visit.objects.all(), request.user, "care.change_visit", pk=pk)
        data = VisitIn(data=request.data)
        data.is_valid(raise_exception=True)
        visit = services.visit_record(actor=request.user, visit=visit, note=data.validated_data["note"])
        return Response(VisitOut(visit).data)


# ---------------------------------------------------------------------------------------------
# archive changes


class ChangeIn(serializers.Serializer):
    household = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=ChangeKind.choices)
    person = serializers.IntegerField(required=False, allow_null=True)
    payload = serializers.DictField(required=False, help_text="name, id_number, relation, annual_income, grade, on, reason")


class ChangeOut(serializers.ModelSerializer):
    class Meta:
        model = ArchiveChange
        fields = ["id", "household", "kind", "person", "payload", "status", "recorded_at", "decided_at",
                  "decision_note"]


class DecideIn(serializers.Serializer):
    approve = serializers.BooleanField()
    note = serializers.CharField(required=False, allow_blank=True, default="")


class ChangeListCreateAPI(ListAPIView):
    """Archive changes in the caller's scope, newest first, paginated like every list."""

    serializer_class = ChangeOut

    def get_queryset(self):
        require_perm(self.request.user, "care.view_archivechange")
        rows = ArchiveChange.objects.visible_to(self.request.user, "care.view_archivechange").order_by(
            "-recorded_at", "-id")
        if self.request.query_params.get("status") in ArchiveChange.Status.values:
            rows = rows.filter(status=self.request.query_params["status"])
        return rows

    @extend_schema(tags=["care"], parameters=[OpenApiParameter("status", str, enum=["pending", "confirmed", "rejected"])])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(tags=["care"], request=ChangeIn, responses={201: ChangeOut})
    def post(self, request):
        require_perm(request.user, "care.add_archivechange")
        data = ChangeIn(data=request.data)
        data.is_valid(raise_exception=True)
        d = data.validated_data
        household = access_object(Household.objects.all(), request.user, "care.add_archivechange", pk=d["household"])
        person = household.members.filter(pk=d.get("person")).first() if d.get("person") else None
        change = services.archive_change_record(actor=request.user, household=household, kind=d["kind"],
                                                person=person, payload=d.get("payload") or {})
        return Response(ChangeOut(change).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["care"], request=DecideIn, responses=ChangeOut)
class ChangeDecideAPI(APIView):
    """The village confirms (the change takes effect) or rejects (with a note) a pending change."""

    def post(self, request, pk):
        change = access_object(ArchiveChange.objects.all(), request.user, "care.confirm_archivechange", pk=pk)
        data = DecideIn(data=request.data)
        data.is_valid(raise_exception=True)
        change = services.archive_change_decide(actor=request.user, change=change, **data.validated_data)
        return Response(ChangeOut(change).data)


# ---------------------------------------------------------------------------------------------
# patrols


class PatrolIn(serializers.Serializer):
    grid = serializers.IntegerField()
    route_note = serializers.CharField(required=False, allow_blank=True, default="")


class PatrolOut(serializers.ModelSerializer):
    class Meta:
        model = Patrol
        fields = ["id", "grid", "worker", "started_at", "ended_at", "route_note"]


class ProblemIn(serializers.Serializer):
    description = serializers.CharField()
    location = serializers.CharField(required=False, allow_blank=True, default="")
    household = serializers.IntegerField(required=False, allow_null=True)
    make_case = serializers.BooleanField(default=True)


ProblemOut = inline_serializer("PatrolProblemOut", {
    "id": serializers.IntegerField(), "description": serializers.CharField(), "location": serializers.CharField(),
    "household": serializers.IntegerField(allow_null=True), "case_ref": serializers.CharField(),
})


@extend_schema(tags=["care"], request=PatrolIn, responses={201: PatrolOut})
class PatrolCreateAPI(APIView):
    def post(self, request):
        require_perm(request.user, "care.add_patrol")
        data = PatrolIn(data=request.data)
        data.is_valid(raise_exception=True)
        grid = access_object(Grid.objects.all(), request.user, "care.add_patrol", pk=data.validated_data["grid"])
        patrol = services.patrol_start(actor=request.user, grid=grid, route_note=data.validated_data["route_note"])
        return Response(PatrolOut(patrol).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["care"], request=ProblemIn, responses={201: ProblemOut})
class PatrolProblemAPI(APIView):
    """Report a problem found on a patrol; by default it becomes a case in the same step."""

    def post(self, request, pk):
        patrol = access_object(Patrol.objects.all(), request.user, "care.add_patrol", pk=pk)
        data = ProblemIn(data=request.data)
        data.is_valid(raise_exception=True)
        d = data.validated_data
        household = (access_object(Household.objects.all(), request.user, "registry.view_household", pk=d["household"])
                     if d.get("household") else None)
        problem = services.patrol_problem_report(actor=request.user, patrol=patrol, description=d["description"],
                                                 location=d["location"], household=household, make_case=d["make_case"])
        return Response({"id": problem.pk, "description": problem.description, "location": problem.location,
                         "household": problem.household_id, "case_ref": problem.case_ref},
                        status=status.HTTP_201_CREATED)


# ---------------------------------------------------------------------------------------------
# village reports


class WatchOut(serializers.Serializer):
    household = serializers.IntegerField()
    code = serializers.CharField()
    reasons = serializers.ListField(child=serializers.CharField())


@extend_schema(tags=["care"])
class WatchListAPI(ListAPIView):
    """防返贫监测: the village's households on the return-to-poverty watch list, with reasons."""

    serializer_class = WatchOut

    def get_queryset(self):  # computed from the facts, then paginated as a list
        village = _village(self.request, self.kwargs["pk"], "care.view_watchevent")
        return [{"household": h.pk, "code": h.code, "reasons": reasons}
                for h, reasons in selectors.watch_list(self.request.user, village=village)]


CoverageOut = inline_serializer("Coverage", {
    "village": serializers.IntegerField(), "households": serializers.IntegerField(),
    "uncovered": serializers.ListField(child=serializers.IntegerField()),
    "persons": serializers.ListField(child=serializers.DictField()),
    "over_limit": serializers.ListField(child=serializers.IntegerField()),
})


@extend_schema(tags=["care"], responses=CoverageOut)
class CoverageAPI(APIView):
    """Three-line coverage: households nobody is in touch with, persons over their limit."""

    def get(self, request, pk):
        village = _village(request, pk, "registry.view_contactassignment")
        report = selectors.coverage(request.user, village=village)
        return Response({
            "village": village.pk, "households": report.households, "uncovered": list(report.uncovered.values_list("pk", flat=True)),  # ids only
            "persons": [{"person": pid, "name": name, "line": line, "households": n, "min": lim[0], "max": lim[1]}
                        for name, line, n, lim, pid in report.persons],
            "over_limit": [pid for *_rest, pid in report.over],
        })


TallyOut = inline_serializer("ReceptionTally", {
    "year": serializers.IntegerField(), "deputies": serializers.IntegerField(),
    "suggestions": serializers.IntegerField(), "rows": serializers.ListField(child=serializers.DictField()),
})


@extend_schema(tags=["care"], parameters=[OpenApiParameter("year", int)], responses=TallyOut)
class ReceptionTallyAPI(APIView):
    """Voter reception days: suggestions per deputy in a year."""

    def get(self, request):
        require_perm(request.user, "care.view_receptionsuggestion")
        # A year the calendar cannot hold (year=32636033) is the caller's mistake: 400, not a 500.
        year = serializers.IntegerField(min_value=1949, max_value=9999).run_validation(
            request.query_params.get("year") or timezone.localdate().year)
        tally = selectors.reception_tally(request.user, year=year)
        return Response({"year": tally["year"], "deputies": tally["deputies"], "suggestions": tally["suggestions"],
                         "rows": [{"deputy": d.pk, "name": d.person.name, "suggestions": n, "needing_action": a}
                                  for d, n, a in tally["rows"]]})


LoadOut = inline_serializer("TaskLoad", many=True, fields={
    "code": serializers.CharField(), "name": serializers.CharField(), "fields": serializers.IntegerField(),
    "steps": serializers.IntegerField(), "how": serializers.CharField(),
})


@extend_schema(tags=["care"], responses=LoadOut)
class LoadAPI(APIView):
    """The stated load of each common grassroots task (fields to fill, steps to take)."""

    def get(self, request):
        require_perm(request.user, "care.view_householdclass")
        return Response([{"code": t.code, "name": str(t.name), "fields": t.fields, "steps": t.steps, "how": str(t.how)}
                         for t in TASKS])
