"""The cases pages: thin views over ``selectors``/``page_selectors`` (reads), ``statistics`` and
the services (writes: one service call per POST).

Rules every view follows
* a login is needed; a user holding the page's permission nowhere gets **403**, a case outside
  their scope (or complaining about them) **404** — the same answer as a missing case;
* a step is posted to ``cases:act`` (one URL, the step's name in it): it is checked against the
  step's permissions, parsed by its form and carried out by ``actions.perform`` (one service).
  A ``ValidationError`` from the form or the service re-renders the case page with that form
  open, the user's input kept and the reason shown; a ``PermissionDenied`` from the service
  (wrong unit, wrong tier) answers 403 with the service's reason;
* who raised a case is shown only through ``selectors.case_requester_view``;
* lists are paginated and their query count does not grow with their length.
"""
from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from gongzhi.core.pagination import page_size, paginate
from gongzhi.core.scoping import access_object, has_perm_anywhere, holds_county, require_perm
from gongzhi.core.services import LOAD_WORKDAY_CALENDAR
from gongzhi.core.workdays import missing_calendar_years
from gongzhi.registry.models import Region, RegionLevel

from . import actions, notifications, page_selectors, selectors, services, statistics
from .choices import Ledger, RequestStatus
from .forms import (
    ActionForm, CaseFilterForm, CategoryForm, MarkReadForm, PeriodForm, RegisterForm, TimeLimitForm,
    add_service_errors,
)
from .models import Case, CaseCategory, TimeLimitDefault

QUEUE_PREVIEW = 5
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

VIEW = "cases.view_case"
DISPATCH = "cases.dispatch_case"
HANDLE = "cases.handle_case"
INSTRUCT = "cases.instruct_case"
EXPORT = "cases.export_case"


def _xlsx(data: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(data, content_type=XLSX)
    response["Content-Disposition"] = content_disposition_header(True, filename)
    response["Cache-Control"] = "no-store"
    return response


# ---------------------------------------------------------------------------------------------
# overview, lists and queues


@login_required
def home(request):
    """The cases start page: what is waiting for me, and where to go."""
    user = request.user
    require_perm(user, VIEW)
    waiting = {
        "unread": notifications.notification_list(user=user, unread_only=True).count(),
        "queue": selectors.handler_queue(user=user).count() if has_perm_anywhere(user, HANDLE) else None,
        "summons": selectors.summons_queue(user=user).count() if has_perm_anywhere(user, HANDLE) else None,
        "secretary": selectors.secretary_queue(user=user).count() if has_perm_anywhere(user, INSTRUCT) else None,
    }
    can = {"workbench": has_perm_anywhere(user, DISPATCH), "register": has_perm_anywhere(user, "cases.add_case"),
           "catalogue": has_perm_anywhere(user, "cases.view_casecategory")}
    open_count = (selectors.case_list(user=user, perm=DISPATCH).exclude(status="closed").count()
                  if can["workbench"] else None)
    return render(request, "cases/home.html", {"waiting": waiting, "ledgers": Ledger.choices, "can": can,
                                               "open_count": open_count, "missing": missing_calendar_years(),
                                               "can_load_calendar": has_perm_anywhere(user, LOAD_WORKDAY_CALENDAR)})


@login_required
def case_list(request):
    """All cases the user may see, filtered and searched (the search never matches a confidential
    requester's name or phone: ``selectors.case_search_q``)."""
    user = request.user
    require_perm(user, VIEW)
    form = CaseFilterForm(request.GET or None, user=user)
    cases = selectors.case_list(user=user, **form.filters())
    page = paginate(request, cases)
    return render(request, "cases/list.html", {"form": form, "page": page})


WORKBENCH_QUEUES = [  # (key in selectors.dispatcher_workbench, title)
    ("overdue", gettext_lazy("Overdue cases")), ("due_soon", gettext_lazy("Due soon")),
    ("to_instruct", gettext_lazy("Waiting for the secretary's instruction")),
    ("to_accept", gettext_lazy("To accept")), ("to_assign", gettext_lazy("To assign (accepted or returned)")),
    ("to_reply", gettext_lazy("To answer")), ("to_evaluate", gettext_lazy("Waiting for the requester's answer")),
    ("to_close", gettext_lazy("To close")),
]


@login_required
def workbench(request):
    """The dispatcher's workbench: open cases by state, due soon, overdue, requests to approve.
    ``?queue=<name>`` shows one queue in full, paginated."""
    user = request.user
    require_perm(user, DISPATCH)
    board = selectors.dispatcher_workbench(user=user)
    titles = {key: str(title) for key, title in WORKBENCH_QUEUES}
    chosen = request.GET.get("queue")
    if chosen in titles:
        page = paginate(request, board[chosen])
        return render(request, "cases/workbench_queue.html", {"page": page, "queue": chosen,
                                                               "title": titles[chosen]})
    queues = []
    for key, _title in WORKBENCH_QUEUES:
        rows = list(board[key][:QUEUE_PREVIEW + 1])
        queues.append({"key": key, "title": titles[key], "rows": rows[:QUEUE_PREVIEW],
                       "more": len(rows) > QUEUE_PREVIEW})
    pending = list(board["pending_requests"].order_by("requested_at", "id")[:page_size()])
    return render(request, "cases/workbench.html", {"counts": board["counts"], "queues": queues,
                                                     "pending_requests": pending})


@login_required
def queue(request):
    """A handler's queue: cases assigned to their unit; for a department, summons (吹哨) to
    acknowledge (报到) too."""
    user = request.user
    require_perm(user, HANDLE)
    page = paginate(request, selectors.handler_queue(user=user))
    summonses = list(selectors.summons_queue(user=user)[:50])
    return render(request, "cases/queue.html", {"page": page, "summonses": summonses})


@login_required
def secretary(request):
    """A secretary's three ledgers (三本账): what each holds, what waits for their instruction or
    their check (书记阅批、书记把关), the instructions they gave, and the quarterly bulletin."""
    user = request.user
    require_perm(user, INSTRUCT)
    own = page_selectors.default_region(user=user, perm=INSTRUCT)
    form = PeriodForm(request.GET or None, user=user, default_quarter=True,
                      initial={"region": str(own.pk) if own else ""})
    values = form.values()
    if not values["valid"]:
        values.update(dict(zip(("start", "end"), page_selectors.quarter_bounds(
            timezone.localdate().year, (timezone.localdate().month - 1) // 3 + 1))))
    region = values["region"] if values["valid"] and "region" in request.GET else own
    ledgers = selectors.secretary_ledgers(user=user, region=region)
    waiting = paginate(request, selectors.secretary_queue(user=user))
    bulletin = statistics.compute_statistics(user=user, region=region, start=values["start"], end=values["end"],
                                             basic_weight=values["basic_weight"])
    export_query = urlencode({k: v for k, v in (
        ("region", region.pk if region else ""), ("start", values["start"] or ""), ("end", values["end"] or ""),
        ("basic_weight", values["basic_weight"] if values["basic_weight"] is not None else "")) if v != ""})
    return render(request, "cases/secretary.html", {
        "form": form, "region": region, "ledgers": ledgers["ledgers"],
        "instructions": list(ledgers["instructions"][:10]), "waiting": waiting,
        "can_export": has_perm_anywhere(user, EXPORT), "export_query": export_query, **_stats_context(bulletin),
    })


@login_required
def statistics_page(request):
    """Statistics for any scope and period, computed from the case records."""
    user = request.user
    require_perm(user, VIEW)
    form = PeriodForm(request.GET or None, user=user)
    values = form.values()
    stats = statistics.compute_statistics(user=user, region=values["region"], start=values["start"],
                                          end=values["end"], basic_weight=values["basic_weight"])
    return render(request, "cases/statistics.html", {
        "form": form, "can_export": has_perm_anywhere(user, EXPORT), "query": request.GET.urlencode(),
        **_stats_context(stats),
    })


def _stats_context(stats) -> dict:
    """The figures of a ``statistics.Statistics`` as the templates list them (Chinese labels from
    the statistics module, each rate with its numerator and denominator)."""
    return {
        "stats": stats,
        "total_counts": [(statistics.COUNT_LABELS[k], stats.total.counts[k])
                         for k in ("received", "accepted", "closed", "resolved", "disputes", "disputes_resolved")],
        "total_rates": [(statistics.RATE_LABELS[k], rate) for k, rate in stats.total.rates.items()],
        "period_end": stats.end - dt.timedelta(days=1) if stats.end else None,
    }


def _period_for_export(request):
    form = PeriodForm(request.GET or None, user=request.user)
    if request.GET and not form.is_valid():
        raise Http404  # an export is a link built by our pages: a broken one is "not found"
    return form.values()


@login_required
@never_cache
def statistics_export(request):
    require_perm(request.user, EXPORT)
    v = _period_for_export(request)
    data = statistics.statistics_export(actor=request.user, region=v["region"], start=v["start"], end=v["end"],
                                        basic_weight=v["basic_weight"])
    return _xlsx(data, f"民情统计-{timezone.localdate():%Y%m%d}.xlsx")


@login_required
@never_cache
def ledger_export(request):
    require_perm(request.user, EXPORT)
    v = _period_for_export(request)
    data = statistics.case_export(actor=request.user, region=v["region"], start=v["start"], end=v["end"])
    return _xlsx(data, f"民情台账-{timezone.localdate():%Y%m%d}.xlsx")


# ---------------------------------------------------------------------------------------------
# registering


@login_required
def register(request):
    user = request.user
    require_perm(user, "cases.add_case")
    form = RegisterForm(request.POST or None, request.FILES or None, user=user)
    if request.method == "POST" and form.is_valid():
        try:
            case = services.case_register(actor=user, **form.service_kwargs())
        except ValidationError as exc:
            add_service_errors(form, exc, aliases={"file": "attachments"})
        else:
            messages.success(request, _("Case %(number)s registered. Tracking code for the requester: %(code)s")
                             % {"number": case.number, "code": case.tracking_code})
            return redirect("cases:detail", pk=case.pk)
    return render(request, "cases/register.html", {"form": form})


@login_required
def register_grids(request):
    """The grid choices of one region (htmx: the register form loads them when a village is picked)."""
    user = request.user
    require_perm(user, "cases.add_case")
    raw = request.GET.get("region", "")
    region = (page_selectors.register_regions(user=user).filter(pk=int(raw)).first()
              if raw.isdigit() and len(raw) < 19 else None)
    grids = list(page_selectors.register_grids(user=user, region=region)) if region else []
    return render(request, "cases/_grid_options.html", {"grids": grids})


# ---------------------------------------------------------------------------------------------
# one case


def _case_page(request, case: Case, *, failed: ActionForm | None = None, revealed_phone: str = "", status=200):
    user = request.user
    requester = selectors.case_requester_view(user=user, case=case)
    events = list(selectors.case_timeline(user=user, case=case))
    attachments = list(page_selectors.case_attachments(user=user, case=case))
    requests = list(page_selectors.case_requests(user=user, case=case))
    summonses = list(page_selectors.case_summonses(user=user, case=case))
    names, ctx = page_selectors.case_actions(user=user, case=case, requests=requests)
    forms = []
    for name in names:
        if failed is not None and failed.action.name == name:
            forms.append(failed)
        else:
            forms.append(ActionForm(action=actions.ACTIONS[name], case=case, user=user,
                                    summonses=ctx.to_acknowledge))
    if failed is not None and failed.action.name not in names:
        forms.insert(0, failed)
    by_event: dict[int | None, list] = {}
    for attachment in attachments:
        by_event.setdefault(attachment.event_id, []).append(attachment)
    for event in events:
        event.files = by_event.get(event.pk, [])
    return render(request, "cases/detail.html", {
        "case": case, "requester": requester, "events": events, "attachments": attachments,
        "requests": requests, "summonses": summonses, "forms": forms, "failed": failed,
        "revealed_phone": revealed_phone, "now": timezone.now(),
        "can_reveal": selectors.may_reveal_requester_phone(user=user, case=case),
        "pending": RequestStatus.PENDING,
    }, status=status)


@login_required
def detail(request, pk):
    case = page_selectors.case_for_page(user=request.user, pk=pk)
    return _case_page(request, case)


@login_required
@require_http_methods(["GET", "POST"])
def act(request, pk, action):
    """One step on one case. GET shows the step's form alone; POST carries it out."""
    spec = actions.BY_SLUG.get(action)
    if spec is None:
        raise Http404
    user = request.user
    if not any(has_perm_anywhere(user, perm) for perm in spec.transition.perms):
        raise PermissionDenied
    case = page_selectors.case_for_page(user=user, pk=pk)
    posted = request.method == "POST"
    form = ActionForm(request.POST if posted else None, request.FILES if posted else None, action=spec, case=case,
                      user=user)
    if posted:
        if form.is_valid():
            try:
                actions.perform(spec.name, actor=user, case=case, data=form.service_data())
            except ValidationError as exc:
                form.add_service_errors(exc)
            except PermissionDenied as exc:
                return render(request, "cases/refused.html", {"case": case, "action": spec,
                                                              "reason": str(exc)}, status=403)
            else:
                messages.success(request, _("%(step)s: done.") % {"step": spec.label})
                if Case.objects.visible_to(user, VIEW).filter(pk=case.pk).exists():
                    return redirect("cases:detail", pk=case.pk)
                messages.info(request, _("The case is no longer in your area."))
                return redirect("cases:home")
        return _case_page(request, case, failed=form)
    available, _ctx = page_selectors.case_actions(user=user, case=case)
    return render(request, "cases/act.html", {"case": case, "form": form, "action": spec,
                                              "available": spec.name in available})


@login_required
@require_POST
@never_cache
def reveal_phone(request, pk):
    """The requester's full phone number, to call them back (audited by the selector)."""
    user = request.user
    require_perm(user, "registry.reveal_person")
    case = page_selectors.case_for_page(user=user, pk=pk)
    phone = services.case_reveal_requester_phone(actor=user, case=case)
    if request.htmx:
        return render(request, "cases/_phone.html", {"phone": phone})
    return _case_page(request, case, revealed_phone=phone)


@login_required
def attachment(request, pk):
    item = page_selectors.attachment_for_download(user=request.user, pk=pk)
    try:
        handle = item.file.open("rb")
    except (FileNotFoundError, OSError):
        raise Http404 from None
    response = FileResponse(handle, as_attachment=not item.content_type.startswith("image/"),
                            filename=item.original_name, content_type=item.content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


# ---------------------------------------------------------------------------------------------
# inbox


@login_required
def inbox(request):
    unread_only = request.GET.get("unread") == "1"
    rows = notifications.notification_list(user=request.user, unread_only=unread_only)
    page = paginate(request, rows)
    return render(request, "cases/inbox.html", {"page": page, "unread_only": unread_only})


@login_required
@require_POST
def inbox_read(request):
    """Mark messages read: the ones in ``ids`` (comma-separated), or all."""
    form = MarkReadForm(request.POST)
    if not form.is_valid():
        return HttpResponse(form.errors["ids"][0], status=400)
    ids = form.cleaned_data["ids"]
    notifications.notification_mark_read(user=request.user, ids=ids)
    if request.htmx and ids and len(ids) == 1:
        row = notifications.notification_list(user=request.user).filter(pk=ids[0]).first()
        if row is None:
            raise Http404
        return render(request, "cases/_notification.html", {"n": row})
    return redirect(reverse("cases:inbox") + ("?unread=1" if request.POST.get("unread") == "1" else ""))


# ---------------------------------------------------------------------------------------------
# catalogue and time limits


def _counties_for(user):
    return list(Region.objects.filter(pk__in=page_selectors.user_county_ids(user)).order_by("code"))


def _can_edit_catalogue(user, county: Region | None) -> bool:
    if county is None:
        return False
    return holds_county(user, "cases.change_casecategory", county.pk)


@login_required
def categories(request):
    user = request.user
    require_perm(user, "cases.view_casecategory")
    counties = _counties_for(user)
    county = next((c for c in counties if str(c.pk) == request.GET.get("county")), counties[0] if counties else None)
    rows = list(page_selectors.case_categories(county_id=county.pk if county else None, active_only=False))
    return render(request, "cases/categories.html", {
        "counties": counties, "county": county, "rows": rows, "can_edit": _can_edit_catalogue(user, county),
    })


def _catalogue_county(request, county_pk) -> Region:
    require_perm(request.user, "cases.change_casecategory")
    return access_object(Region.objects.filter(level=RegionLevel.COUNTY), request.user,
                         "cases.change_casecategory", pk=county_pk)


def _category_form_page(request, county: Region, editing: CaseCategory | None):
    form = CategoryForm(request.POST or None, county=county, editing=editing)
    if request.method == "POST" and form.is_valid():
        code = editing.code if editing else form.cleaned_data["code"]
        try:
            services.category_save(actor=request.user, county=county, code=code, **form.service_fields())
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Category saved."))
            return redirect(reverse("cases:categories") + f"?county={county.pk}")
    return render(request, "cases/category_form.html", {"form": form, "county": county, "editing": editing})


@login_required
def category_new(request, county):
    return _category_form_page(request, _catalogue_county(request, county), None)


@login_required
def category_edit(request, county, code):
    county = _catalogue_county(request, county)
    editing = page_selectors.case_categories(county_id=county.pk, active_only=False).filter(code=code).first()
    if editing is None:
        raise Http404
    return _category_form_page(request, county, editing)


@login_required
def time_limits(request):
    require_perm(request.user, "cases.view_casecategory")
    return render(request, "cases/time_limits.html", {
        "rows": list(TimeLimitDefault.objects.all()),
        "can_edit": has_perm_anywhere(request.user, "cases.change_timelimitdefault"),
    })


def _time_limit_form_page(request, editing: TimeLimitDefault | None):
    require_perm(request.user, "cases.change_timelimitdefault")
    form = TimeLimitForm(request.POST or None, editing=editing)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            services.time_limit_save(actor=request.user, limit=d["limit"], days=d["days"], ledger=d["ledger"] or "",
                                     kind=d["kind"] or "", natural_days=d["natural_days"],
                                     max_times=d["max_times"], note=d["note"])
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Time limit saved."))
            return redirect("cases:time-limits")
    return render(request, "cases/time_limit_form.html", {"form": form, "editing": editing})


@login_required
def time_limit_new(request):
    return _time_limit_form_page(request, None)


@login_required
def time_limit_edit(request, pk):
    require_perm(request.user, "cases.change_timelimitdefault")
    editing = TimeLimitDefault.objects.filter(pk=pk).first()
    if editing is None:
        raise Http404
    return _time_limit_form_page(request, editing)
