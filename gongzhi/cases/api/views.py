"""Viewsets of the cases API, mounted under /api/ (``gongzhi/cases/api_urls.py``).

The same rules as the registry API (``gongzhi.core.api.ScopedViewSet``):

* reads come from the cases selectors (``selectors.case_list`` … which start from
  ``Case.objects.visible_to``): **403** for a caller holding the permission nowhere, **404** for
  a case outside their scope or complaining about them;
* a case is serialised from ``selectors.case_as_dict``, so who raised it is shown only as
  ``case_requester_view`` allows;
* every write is one service call. Each step of the workflow has its own endpoint,
  ``POST /api/cases/{id}/<step>/`` (``accept``, ``assign``, ``report-result`` …), generated from
  the step table (``actions.ACTIONS``) with its own documented input; it answers the case as the
  caller now sees it, or **204** when the step moved the case out of the caller's scope (a
  return, a transfer away). Errors use the structured format of ``core.api.exception_handler``:
  a wrong state or bad input is 400 with the reason in Chinese.
"""
from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import FileResponse, Http404, HttpResponse
from django.utils import timezone
from django.utils.http import content_disposition_header
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, status
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from gongzhi.core.api import ListFilter, ScopedViewSet, api_errors
from gongzhi.core.scoping import access_object, has_perm_anywhere
from gongzhi.registry.models import Region, RegionLevel

from .. import actions, notifications, page_selectors, selectors, services, statistics
from ..choices import CaseStatus, Ledger, Level
from ..models import Case, CaseAttachment, CaseCategory, Notification, Summons, TimeLimitDefault
from . import serializers as s

VIEW = "cases.view_case"
EXPORT = "cases.export_case"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
READ_ERRORS = api_errors(401, 403, 404)
WRITE_ERRORS = api_errors(400, 401, 403, 404)
LIST_ERRORS = api_errors(400, 401, 403)
XLSX_RESPONSE = {(200, XLSX): OpenApiResponse(OpenApiTypes.BINARY, description="An Excel workbook.")}
TAGS = ["cases"]


def _xlsx(data: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(data, content_type=XLSX)
    response["Content-Disposition"] = content_disposition_header(True, filename)
    response["Cache-Control"] = "no-store"
    return response


# ---------------------------------------------------------------------------------------------
# list filters (each applies a selector's rule)


def _no_nul(name: str, value: str) -> str:
    """PostgreSQL text cannot hold NUL: such a value is bad input (400), not a server error."""
    if "\x00" in value:
        raise exceptions.ValidationError({name: ["不能包含空字符"]})
    return value


def _eq(column: str):
    return lambda qs, value, request: qs.filter(**{column: value})


def _category(qs, value, request):
    return qs.filter(category__code=_no_nul("category", value))


def _text(qs, value, request):
    return qs.filter(selectors.case_search_q(request.user, _no_nul("q", value)))


def _overdue(qs, value, request):
    q = selectors.overdue_q(timezone.now())
    return qs.filter(q) if value else qs.exclude(q)


def _due_soon(qs, value, request):
    q = selectors.due_soon_q(timezone.now())
    return qs.filter(q) if value else qs.exclude(q)


def _under_region(qs, region_id, request):
    return qs.filter(Q(county_id=region_id) | Q(town_id=region_id) | Q(village_id=region_id) | Q(region_id=region_id))


def _queue(qs, value, request):
    queue = {"handling": selectors.handler_queue, "secretary": selectors.secretary_queue}[value](user=request.user)
    return qs.filter(pk__in=queue.values("pk"))


def _pending(value: str | None) -> bool:
    return (value or "true").strip().lower() not in ("0", "false", "no")


# ---------------------------------------------------------------------------------------------
# cases


@extend_schema_view(
    list=extend_schema(summary="Cases in the caller's scope", tags=TAGS,
                       responses={200: s.CaseSerializer(many=True), **LIST_ERRORS}),
    retrieve=extend_schema(summary="One case, with the steps the caller may take now", tags=TAGS,
                           responses={200: s.CaseDetailSerializer, **READ_ERRORS}),
)
class CaseViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    model = Case
    lookup_value_regex = r"\d+"
    action_perms = {"timeline": VIEW, "attachments": VIEW, "reveal_phone": "registry.reveal_person",
                    "export": EXPORT}
    list_filters = (
        ListFilter("status", _eq("status"), kind=str, enum=tuple(CaseStatus.values)),
        ListFilter("ledger", _eq("ledger"), kind=str, enum=tuple(Ledger.values),
                   description="意见建议 (opinion), 利益诉求 (demand) or 投诉举报 (complaint)."),
        ListFilter("category", _category, kind=str, description="Category code (service_code)."),
        ListFilter("level", _eq("current_level"), kind=str, enum=tuple(Level.values),
                   description="The level handling the case now."),
        ListFilter("region", _under_region, description="In this region or anywhere below it."),
        ListFilter("overdue", _overdue, kind=bool, description="true: past a time limit (acceptance or resolution)."),
        ListFilter("due_soon", _due_soon, kind=bool, description="true: the resolution limit is near."),
        ListFilter("queue", _queue, kind=str, enum=("handling", "secretary"),
                   description="handling: assigned to the caller's unit; secretary: waiting for the caller's "
                               "instruction (阅批) or check (把关)."),
        ListFilter("q", _text, kind=str,
                   description="Number, title, description or address contains; a requester's name or phone only "
                               "where the caller may see who raised the case."),
    )

    def required_perm(self):
        name = getattr(self, "action", None) or "list"
        if name.startswith("step_"):
            return None  # each step checks its own permissions (any of the table's)
        return super().required_perm()

    def get_queryset(self):
        return selectors.case_list(user=self.request.user)

    def _as_dicts(self, cases) -> list[dict]:
        views = selectors.requester_views(user=self.request.user, cases=cases)
        return [selectors.case_as_dict(user=self.request.user, case=c, requester_view=views[c.pk]) for c in cases]

    def list(self, request):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(s.CaseSerializer(self._as_dicts(page), many=True).data)

    def _detail(self, case: Case) -> dict:
        user = self.request.user
        requests = list(page_selectors.case_requests(user=user, case=case))
        names, _ctx = page_selectors.case_actions(user=user, case=case, requests=requests)
        data = self._as_dicts([case])[0]
        data |= {"actions": names, "requests": requests,
                 "summonses": list(page_selectors.case_summonses(user=user, case=case)),
                 "attachments": list(page_selectors.case_attachments(user=user, case=case))}
        return s.CaseDetailSerializer(data).data

    def retrieve(self, request, pk=None):
        return Response(self._detail(page_selectors.case_for_page(user=request.user, pk=pk)))

    @extend_schema(summary="Register a case (分类建账)", tags=TAGS, request={
        "application/json": s.CaseRegisterInput, "multipart/form-data": s.CaseRegisterInput},
        responses={201: s.CaseDetailSerializer, **WRITE_ERRORS})
    def create(self, request):
        data = self.validated(s.CaseRegisterInput, request.data)
        case = services.case_register(actor=request.user, **data)
        return Response(self._detail(page_selectors.case_for_page(user=request.user, pk=case.pk)),
                        status=status.HTTP_201_CREATED)

    @extend_schema(summary="A case's timeline (every step, oldest first)", tags=TAGS,
                   responses={200: s.CaseEventSerializer(many=True), **READ_ERRORS})
    @action(detail=True, methods=["get"])
    def timeline(self, request, pk=None):
        case = page_selectors.case_for_page(user=request.user, pk=pk)
        return self.paginated(selectors.case_timeline(user=request.user, case=case), s.CaseEventSerializer)

    @extend_schema(summary="A case's attachments", tags=TAGS,
                   responses={200: s.AttachmentSerializer(many=True), **READ_ERRORS})
    @action(detail=True, methods=["get"])
    def attachments(self, request, pk=None):
        case = page_selectors.case_for_page(user=request.user, pk=pk)
        return self.paginated(page_selectors.case_attachments(user=request.user, case=case), s.AttachmentSerializer)

    @extend_schema(summary="The requester's full phone number (audited)", tags=TAGS, request=None,
                   responses={200: s.RevealPhoneOutput, **WRITE_ERRORS})
    @action(detail=True, methods=["post"], url_path="reveal-phone", url_name="reveal-phone")
    def reveal_phone(self, request, pk=None):
        case = page_selectors.case_for_page(user=request.user, pk=pk)
        phone = services.case_reveal_requester_phone(actor=request.user, case=case)
        response = Response(s.RevealPhoneOutput({"phone": phone}).data)
        response["Cache-Control"] = "no-store"
        return response

    @extend_schema(summary="The ledger as an Excel file (audited)", tags=TAGS, parameters=[s.StatisticsQuery],
                   responses={**XLSX_RESPONSE, **LIST_ERRORS})
    @action(detail=False, methods=["get"])
    def export(self, request):
        query = self.validated(s.StatisticsQuery, request.query_params)
        data = statistics.case_export(actor=request.user, region=query.get("region"), start=query.get("start"),
                                      end=query.get("end"))
        return _xlsx(data, f"民情台账-{timezone.localdate():%Y%m%d}.xlsx")

    def run_step(self, spec: actions.Action, request, pk):
        user = request.user
        if not any(has_perm_anywhere(user, perm) for perm in spec.transition.perms):
            raise PermissionDenied
        case = page_selectors.case_for_page(user=user, pk=pk)
        serializer = s.action_input(spec)(data=request.data, context={"request": request, "case": case})
        serializer.is_valid(raise_exception=True)
        actions.perform(spec.name, actor=user, case=case, data=actions.clean_data(spec, serializer.validated_data))
        try:
            fresh = page_selectors.case_for_page(user=user, pk=pk)
        except Http404:
            return Response(status=status.HTTP_204_NO_CONTENT)
        return Response(self._detail(fresh))


def _step_endpoint(spec: actions.Action):
    t = spec.transition
    sources = "、".join(sorted(CaseStatus(x).label for x in t.sources if x)) or "—"
    description = (f"**{t.step}** · {t.label}. Who: {t.who}. From: {sources}. Needs one of: "
                   f"{', '.join(t.perms)} (over the case). One service call: "
                   f"`services.case_{spec.name}`. Answers the case as the caller now sees it, or 204 when the step "
                   f"moved it out of the caller's scope.")
    input_cls = s.action_input(spec)
    if spec.has_files:
        request = {"multipart/form-data": input_cls} if any(f.kind == "file" for f in spec.fields) else {
            "application/json": input_cls, "multipart/form-data": input_cls}
        parsers = [MultiPartParser, FormParser, JSONParser]
    else:
        request = input_cls
        parsers = [JSONParser, FormParser, MultiPartParser]

    def step(self, request, pk=None):
        return self.run_step(spec, request, pk)

    step.__name__ = f"step_{spec.name}"
    step.__doc__ = description
    step = action(detail=True, methods=["post"], url_path=spec.slug, url_name=spec.slug, parser_classes=parsers)(step)
    summary = t.label if t.label == t.step else f"{t.label}（{t.step}）"
    return extend_schema(summary=summary, description=description, tags=TAGS, request=request,
                         responses={200: s.CaseDetailSerializer, 204: OpenApiResponse(
                             description="Done; the case has left the caller's scope."), **WRITE_ERRORS})(step)


for _spec in actions.ACTIONS.values():
    if _spec.name != "acknowledge_summons":  # reported through POST /api/summonses/{id}/acknowledge/
        setattr(CaseViewSet, f"step_{_spec.name}", _step_endpoint(_spec))


@extend_schema(summary="Download an attachment", tags=TAGS, responses={
    (200, "application/octet-stream"): OpenApiResponse(OpenApiTypes.BINARY), **READ_ERRORS})
class AttachmentDownloadViewSet(ScopedViewSet):
    model = CaseAttachment
    lookup_value_regex = r"\d+"
    action_perms = {"download": VIEW}

    @action(detail=True, methods=["get"])
    def download(self, request, pk=None):
        item = page_selectors.attachment_for_download(user=request.user, pk=pk)
        try:
            handle = item.file.open("rb")
        except OSError:
            raise Http404 from None
        response = FileResponse(handle, as_attachment=True, filename=item.original_name,
                                content_type=item.content_type)
        response["X-Content-Type-Options"] = "nosniff"
        return response


# ---------------------------------------------------------------------------------------------
# summons (吹哨报到)


@extend_schema_view(list=extend_schema(
    summary="Summons to the caller's department (吹哨报到)", tags=TAGS,
    parameters=[OpenApiParameter("pending", bool, description="true (default): only those not yet reported to.")],
    responses={200: s.SummonsSerializer(many=True), **LIST_ERRORS}))
class SummonsViewSet(mixins.ListModelMixin, ScopedViewSet):
    model = Summons
    lookup_value_regex = r"\d+"
    action_perms = {"list": "cases.handle_case", "acknowledge": "cases.handle_case"}
    serializer_class = s.SummonsSerializer

    def get_queryset(self):
        return selectors.summons_queue(user=self.request.user,
                                       pending_only=_pending(self.request.query_params.get("pending")))

    @extend_schema(summary="Report (报到): acknowledge a summons and commit to an action", tags=TAGS,
                   request=s.AcknowledgeInput, responses={200: s.SummonsSerializer, **WRITE_ERRORS})
    @action(detail=True, methods=["post"])
    def acknowledge(self, request, pk=None):
        summons = selectors.summons_queue(user=request.user, pending_only=False).filter(pk=pk).first()
        if summons is None:
            raise Http404
        data = self.validated(s.AcknowledgeInput, request.data)
        summons = services.summons_acknowledge(actor=request.user, summons=summons, commitment=data["commitment"])
        summons = selectors.summons_queue(user=request.user, pending_only=False).get(pk=summons.pk)
        return Response(s.SummonsSerializer(summons).data)


# ---------------------------------------------------------------------------------------------
# catalogue and time limits


def _catalogue_county(request, pk) -> Region:
    return access_object(Region.objects.filter(level=RegionLevel.COUNTY), request.user,
                         "cases.change_casecategory", pk=pk)


@extend_schema_view(list=extend_schema(
    summary="The category catalogue of a county (its own categories and the defaults it keeps)", tags=TAGS,
    parameters=[OpenApiParameter("county", int, description="Default: the caller's county.")],
    responses={200: s.CaseCategorySerializer(many=True), **LIST_ERRORS}))
class CaseCategoryViewSet(mixins.ListModelMixin, ScopedViewSet):
    model = CaseCategory
    action_perms = {"list": "cases.view_casecategory", "create": "cases.change_casecategory"}
    serializer_class = s.CaseCategorySerializer

    def get_queryset(self):
        counties = page_selectors.user_county_ids(self.request.user)
        raw = self.request.query_params.get("county", "")
        county = int(raw) if raw.isdigit() and int(raw) in counties else (counties[0] if counties else None)
        if raw and not (raw.isdigit() and int(raw) in counties):
            raise Http404
        return page_selectors.case_categories(county_id=county, active_only=False)

    @extend_schema(summary="Create or change a county's category", tags=TAGS, request=s.CategoryInput,
                   responses={200: s.CaseCategorySerializer, **WRITE_ERRORS})
    def create(self, request):
        data = self.validated(s.CategoryInput, request.data)
        county = _catalogue_county(request, data.pop("county"))
        code = data.pop("code")
        if "responsible_department" in data and data["responsible_department"] is not None:
            department = page_selectors.county_departments(county_id=county.pk).filter(
                pk=data["responsible_department"]).first()
            if department is None:
                from rest_framework.exceptions import ValidationError

                raise ValidationError({"responsible_department": ["本县没有这个部门"]})
            data["responsible_department"] = department
        category = services.category_save(actor=request.user, county=county, code=code, **data)
        return Response(s.CaseCategorySerializer(category).data)


@extend_schema_view(list=extend_schema(summary="Default time limits", tags=TAGS,
                                       responses={200: s.TimeLimitSerializer(many=True), **LIST_ERRORS}))
class TimeLimitViewSet(mixins.ListModelMixin, ScopedViewSet):
    model = TimeLimitDefault
    action_perms = {"list": "cases.view_casecategory", "create": "cases.change_timelimitdefault"}
    serializer_class = s.TimeLimitSerializer

    def get_queryset(self):
        return TimeLimitDefault.objects.all()

    @extend_schema(summary="Create or change a default time limit", tags=TAGS, request=s.TimeLimitInput,
                   responses={200: s.TimeLimitSerializer, **WRITE_ERRORS})
    def create(self, request):
        data = self.validated(s.TimeLimitInput, request.data)
        row = services.time_limit_save(actor=request.user, **data)
        return Response(s.TimeLimitSerializer(row).data)


# ---------------------------------------------------------------------------------------------
# statistics


class CaseStatisticsViewSet(ScopedViewSet):
    model = Case
    action_perms = {"list": VIEW, "export": EXPORT}
    pagination_class = None

    def _query(self, request) -> dict:
        return self.validated(s.StatisticsQuery, request.query_params)

    @extend_schema(summary="Statistics for a scope and period, computed from the case records", tags=TAGS,
                   parameters=[s.StatisticsQuery], responses={200: s.StatisticsSerializer, **LIST_ERRORS})
    def list(self, request):
        q = self._query(request)
        stats = statistics.compute_statistics(user=request.user, region=q.get("region"), start=q.get("start"),
                                              end=q.get("end"), basic_weight=q.get("basic_weight"))
        return Response(s.StatisticsSerializer(s.statistics_dict(stats)).data)

    @extend_schema(summary="The same statistics as an Excel file (audited)", tags=TAGS,
                   parameters=[s.StatisticsQuery], responses={**XLSX_RESPONSE, **LIST_ERRORS})
    @action(detail=False, methods=["get"])
    def export(self, request):
        q = self._query(request)
        data = statistics.statistics_export(actor=request.user, region=q.get("region"), start=q.get("start"),
                                            end=q.get("end"), basic_weight=q.get("basic_weight"))
        return _xlsx(data, f"民情统计-{timezone.localdate():%Y%m%d}.xlsx")


# ---------------------------------------------------------------------------------------------
# inbox


@extend_schema_view(list=extend_schema(
    summary="The caller's inbox", tags=TAGS,
    parameters=[OpenApiParameter("unread", bool, description="true: unread messages only.")],
    responses={200: s.NotificationSerializer(many=True), **LIST_ERRORS}))
class InboxViewSet(mixins.ListModelMixin, ScopedViewSet):
    model = Notification
    serializer_class = s.NotificationSerializer

    def required_perm(self):
        return None  # everyone has their own inbox

    def get_queryset(self):
        unread = (self.request.query_params.get("unread") or "").lower() in ("1", "true", "yes")
        return notifications.notification_list(user=self.request.user, unread_only=unread)

    @extend_schema(summary="Mark messages read", tags=TAGS, request=s.MarkReadInput,
                   responses={200: s.MarkReadOutput, **api_errors(400, 401)})
    @action(detail=False, methods=["post"])
    def read(self, request):
        data = self.validated(s.MarkReadInput, request.data)
        marked = notifications.notification_mark_read(user=request.user, ids=data.get("ids"))
        return Response({"marked": marked})
