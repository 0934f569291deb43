"""Pages of the intake channels: thin views — parse input → selector/service → render.

Residents' page (``resident:*``, no login): a small, self-contained page (inline CSS, a few lines
of optional JavaScript, no external assets) that works without JavaScript on a slow connection.
Staff pages (``intake:*``): login required; 403 without the permission anywhere, 404 outside scope.
"""
from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.gzip import gzip_page
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from gongzhi.cases.choices import Channel
from gongzhi.cases.models import Case
from gongzhi.core.pagination import paginate
from gongzhi.core.scoping import access_object, has_perm_anywhere, require_perm
from gongzhi.registry.models import Region, RegionLevel

from . import conf, duplicates, ratelimit, selectors, services
from .channel import intake_actor, requester_for
from .forms import ResidentForm, StaffIntakeForm
from .idempotency import KeyReused
from .models import CaseMerge
from .parsing import field_errors
from .text import group_code
from .web import BAD_BODY, content_length, csrf_failed

DISPATCH = "cases.dispatch_case"


# ---------------------------------------------------------------------------------------------
# residents


def _public(response, *, private: bool = False):
    response["Referrer-Policy"] = "same-origin"  # "no-referrer" makes browsers send Origin: null (CSRF fails)
    response["X-Robots-Tag"] = "noindex"
    if private:
        response["Cache-Control"] = "no-store"
    return response


def _page(request, template: str, context: dict, status: int = 200, *, private: bool = True):
    return _public(render(request, f"intake/resident/{template}", context, status=status), private=private)


def _problem(request, title: str, message: str, status: int, *, back: str = ""):
    return _page(request, "problem.html", {"title": title, "message": message, "back": back}, status=status)


def _county(request) -> Region | None:
    code = (request.GET.get("county") or "").strip()
    if code:
        return Region.objects.filter(level=RegionLevel.COUNTY, code=code[:15]).first()
    return selectors.single_county()


def _limited(request, scope: str):
    if ratelimit.allow(scope, ratelimit.client_ip(request)):
        return None
    response = _problem(request, "提交太频繁", "您提交得太快了，请过几分钟再试。如有急事，请直接拨打当地热线电话。", 429)
    response["Retry-After"] = str(ratelimit.retry_after(scope))
    return response


@gzip_page  # slow connections: the page shrinks to a third (Django's gzip pads against BREACH)
@csrf_exempt  # checked below, so that a failure keeps the resident's text (web.csrf_failed)
@require_http_methods(["GET", "POST"])
def resident_form(request):
    county = _county(request)
    if county is None:
        counties = selectors.counties()
        if not counties or request.GET.get("county"):
            return _problem(request, "暂未开通", "这里还没有开通群众反映问题的页面。", 404)
        return _page(request, "choose_county.html", {"counties": counties}, private=False)
    if request.method == "GET":
        return _page(request, "form.html", _form_context(ResidentForm(county=county), county))

    if content_length(request) > conf.max_request_bytes():
        return _problem(request, "内容太大", "提交的内容太大了（照片最多3张，每张不超过5MB），请少传几张照片再试。", 413,
                        back=request.get_full_path())
    limited = _limited(request, "resident_submit")
    if limited:
        return limited
    try:
        post, files = request.POST, request.FILES.getlist("photos")
    except BAD_BODY:
        return _problem(request, "没有提交成功", "提交的内容格式不对或太大，请返回重新填写。", 400, back=request.get_full_path())
    form = ResidentForm(post, county=county, files_list=files)
    if csrf_failed(request):  # the resident's text stays in the form; one more tap sends it
        form.is_valid()
        form.add_error(None, "页面已过期，请再点一次“提交”。您填写的内容还在。")
        return _page(request, "form.html", _form_context(form, county), status=403)
    if not form.is_valid():
        return _page(request, "form.html", _form_context(form, county), status=400)
    cd = form.cleaned_data
    data = services.IntakeInput(
        description=cd["description"], region=cd["grid"].region if cd["grid"] else cd["village"],
        category=cd["category"], grid=cd["grid"], address=cd["address"], latitude=cd["latitude"],
        longitude=cd["longitude"], requester_name=cd["name"], requester_phone=cd["phone"], photos=cd["photos"])
    try:
        result = services.intake_submit(actor=intake_actor(territory=data.region), channel=Channel.WEB, data=data, scope="web",
                                        key=cd["key"],
                                        answer=lambda case, sub: {"tracking_code": case.tracking_code})
    except KeyReused as exc:
        code = exc.row.response.get("tracking_code", "")
        return _page(request, "already.html", {"code": code, "grouped": group_code(code)}, status=409)
    except ValidationError as exc:
        form.add_error(None, exc.messages[0] if exc.messages else "提交没有成功，请检查后再试")
        return _page(request, "form.html", _form_context(form, county), status=400)
    code = result.response["tracking_code"]
    return redirect(f"{reverse('resident:track', args=[code])}?new=1", permanent=False)


def _form_context(form, county) -> dict:
    return {"form": form, "county": county, "max_photos": conf.max_photos(),
            "max_photo_mb": conf.max_photo_bytes() // (1024 * 1024),
            "errors": [m for messages_ in form.errors.values() for m in messages_] if form.is_bound else [],
            "extra_errors": getattr(form, "extra_errors", {})}


@require_GET
def resident_lookup(request):
    code = (request.GET.get("code") or "").replace(" ", "").strip().upper()
    if not code:
        return _page(request, "lookup.html", {})
    if len(code) > 16 or not code.isalnum():
        return _page(request, "lookup.html", {"error": "查询码不对，请核对后再输入", "code": code[:20]}, status=400)
    return redirect("resident:track", code=code)


@gzip_page
@require_GET
def resident_track(request, code: str):
    limited = _limited(request, "resident_track")
    if limited:
        return limited
    view = selectors.resident_case(tracking_code=code)
    if view is None:
        return _page(request, "lookup.html", {"error": "没有找到这个查询码，请核对后再输入", "code": code[:20]}, status=404)
    return _page(request, "track.html", {"case": view, "grouped": group_code(view.code),
                                         "new": request.GET.get("new") == "1",
                                         "answered": request.GET.get("answered") == "1",
                                         "choices": [(c.value, c.label) for c in services.RESIDENT_CHOICES]})


@csrf_exempt
@require_POST
def resident_feedback(request, code: str):
    limited = _limited(request, "resident_feedback")
    if limited:
        return limited
    try:
        satisfaction = request.POST.get("satisfaction", "")
        note = request.POST.get("note", "")
    except BAD_BODY:
        return _problem(request, "没有提交成功", "提交的内容格式不对，请返回重试。", 400)
    view = selectors.resident_case(tracking_code=code)
    if view is None:
        raise Http404
    error = ""
    if csrf_failed(request):
        error = "页面已过期，请重新选择后再提交。"
    else:
        from .text import clean

        # The requester's actor may act on this case's territory only, for this answer only.
        case = Case.objects.select_related("region").filter(tracking_code=view.code).first()
        try:
            with requester_for(case):
                services.resident_feedback_record(tracking_code=view.code, satisfaction=satisfaction,
                                                  note=clean(note, multiline=True)[:500])
        except ValidationError as exc:
            error = exc.messages[0]
        else:
            return redirect(f"{reverse('resident:track', args=[view.code])}?answered=1")
    return _page(request, "track.html", {"case": selectors.resident_case(tracking_code=view.code),
                                         "grouped": group_code(view.code), "feedback_error": error,
                                         "choices": [(c.value, c.label) for c in services.RESIDENT_CHOICES]},
                 status=400)


@require_GET
def resident_grids(request, village: int):
    """The grids of a village, for the optional grid picker (JavaScript only; public names)."""
    region = Region.objects.filter(pk=village, level=RegionLevel.VILLAGE).first()
    if region is None:
        return JsonResponse({"grids": []}, status=404)
    response = JsonResponse({"grids": [{"id": g.pk, "name": g.name} for g in selectors.grids_of_village(region)]},
                            json_dumps_params={"ensure_ascii": False})
    response["Cache-Control"] = "public, max-age=300"
    return response


def ping(request):
    """The trivial view: the framework's ceiling for the benchmark (and a health check)."""
    return HttpResponse("ok", content_type="text/plain")


# ---------------------------------------------------------------------------------------------
# staff


@login_required
@require_http_methods(["GET", "POST"])
def staff_new(request):
    user = request.user
    require_perm(user, "cases.add_case")
    people = None
    if request.method == "POST":
        try:
            files = request.FILES.getlist("photos")
        except BAD_BODY:
            files = []
            messages.error(request, "照片太大或格式不对，没有保存")
        form = StaffIntakeForm(request.POST, user=user, files_list=files)
        if "lookup" in request.POST:
            people = selectors.person_lookup(user=user, q=request.POST.get("q", "")) if has_perm_anywhere(
                user, "registry.view_person") else []
            form = StaffIntakeForm(request.POST, user=user)  # not validated yet: only looking someone up
            return render(request, "intake/new.html", _staff_context(form, people, looked_up=True))
        if form.is_valid():
            cd = form.cleaned_data
            person = cd["person"]
            data = services.IntakeInput(
                description=cd["description"], title=cd["title"], category=cd["category"],
                region=cd["grid"].region if cd["grid"] else cd["village"], grid=cd["grid"], address=cd["address"],
                latitude=cd["latitude"], longitude=cd["longitude"], requester=person,
                requester_name="" if person else cd["requester_name"], requester_phone=cd["requester_phone"],
                anonymous=cd["anonymous"], complained_text=cd["complained_text"], photos=cd["photos"])
            try:
                result = services.intake_submit(actor=user, channel=cd["channel"], data=data,
                                                scope=f"staff:{user.pk}", key=cd["key"],
                                                answer=lambda case, sub: {"case": case.pk})
            except KeyReused as exc:
                messages.warning(request, "这张表已经提交过了，下面是当时登记的事项。")
                return redirect("intake:case", pk=exc.row.response.get("case"))
            except PermissionDenied:
                form.add_error("village", "所选地点不在您的登记范围内")
            except ValidationError as exc:
                for field, errors in field_errors(exc).items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                if result.replayed:
                    messages.info(request, "这张表已经提交过了，没有重复登记。")
                else:
                    messages.success(request, "已登记。")
                return redirect("intake:case", pk=result.response["case"])
        status = 400
    else:
        form = StaffIntakeForm(user=user)
        status = 200
    return render(request, "intake/new.html", _staff_context(form, people), status=status)


def _staff_context(form, people, looked_up: bool = False) -> dict:
    return {"form": form, "people": people, "looked_up": looked_up, "max_photos": conf.max_photos(),
            "extra_errors": getattr(form, "extra_errors", {})}


@login_required
@require_GET
def person_lookup(request):
    """htmx fragment: matching residents as radio choices (phones and IDs masked)."""
    require_perm(request.user, "cases.add_case")
    require_perm(request.user, "registry.view_person")
    people = selectors.person_lookup(user=request.user, q=request.GET.get("q", ""))
    return render(request, "intake/_people.html", {"people": people, "looked_up": True})


@login_required
@require_GET
def case_receipt(request, pk: int):
    """After intake: the number, the tracking code to read to the caller, likely duplicates."""
    case = access_object(Case.objects.select_related("category", "region", "grid"), request.user,
                         "cases.view_case", pk=pk)
    can_merge = has_perm_anywhere(request.user, DISPATCH)
    suggestions = duplicates.duplicate_candidates(user=request.user, case=case,
                                                  perm=DISPATCH if can_merge else "cases.view_case")
    from gongzhi.cases.selectors import case_requester_view

    return render(request, "intake/case.html", {
        "case": case, "grouped": group_code(case.tracking_code), "suggestions": suggestions,
        "can_merge": can_merge and case.status in services.MERGEABLE,
        "requester": case_requester_view(user=request.user, case=case),
        "merge": CaseMerge.objects.filter(duplicate=case).select_related("primary").first(),
        "merged_here": CaseMerge.objects.filter(primary=case).select_related("duplicate"),
    })


@login_required
@require_GET
def merge_queue(request):
    require_perm(request.user, DISPATCH)
    page = paginate(request, duplicates.merge_queue_waiting(user=request.user))
    page.object_list = duplicates.merge_queue(user=request.user, cases=page.object_list)
    return render(request, "intake/queue.html", {"rows": page})


@login_required
@require_POST
def merge(request, pk: int):
    """Merge case ``pk`` (the duplicate) into the case named by POST ``primary``."""
    require_perm(request.user, DISPATCH)
    duplicate = access_object(Case.objects.all(), request.user, DISPATCH, pk=pk)
    primary_pk = request.POST.get("primary", "")
    if not primary_pk.isdigit():
        raise Http404
    primary = access_object(Case.objects.all(), request.user, DISPATCH, pk=int(primary_pk))
    try:
        services.case_merge(actor=request.user, duplicate=duplicate, primary=primary,
                            note=request.POST.get("note", "")[:500])
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
    else:
        messages.success(request, f"{duplicate.number}已并入{primary.number}。")
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = reverse("intake:queue")
    return redirect(target)


PERIODS = {"7": 7, "30": 30, "90": 90, "365": 365}


@login_required
@require_GET
def cluster_list(request):
    require_perm(request.user, "cases.view_case")
    days = PERIODS.get(request.GET.get("days", "90"), 90)
    try:
        minimum = max(2, min(50, int(request.GET.get("min", conf.cluster_min_cases()))))
    except ValueError:
        minimum = conf.cluster_min_cases()
    end = timezone.now()
    rows = paginate(request, duplicates.ClusterPages(user=request.user, start=end - dt.timedelta(days=days), end=end,
                                                     min_cases=minimum))
    return render(request, "intake/clusters.html", {"clusters": rows, "days": days, "minimum": minimum,
                                                    "periods": PERIODS})


@login_required
@require_http_methods(["GET", "POST"])
def contact_records(request):
    """A three-line person's recent contact records; one action turns one into a case (care's
    ``needs_action_case_open``)."""
    require_perm(request.user, "care.add_contactrecord")
    if request.method == "POST":
        pk = request.POST.get("record", "")
        if not pk.isdigit():
            raise Http404
        try:
            number = services.contact_record_open_case(actor=request.user, record_pk=int(pk))
        except ValidationError as exc:
            messages.error(request, exc.messages[0])
        else:
            messages.success(request, f"已转为事项 {number}。")
        return redirect("intake:contact_records")
    return render(request, "intake/contact_records.html",
                  {"records": selectors.recent_contact_records(user=request.user)})

