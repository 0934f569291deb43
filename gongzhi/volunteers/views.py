"""Staff and volunteers' pages: parse input → call a selector or service → render.

Tiered technology (DOMAIN.md §3.6): the village screens are a phone's — the start page lists the
tasks at hand, a task page shows each sign-up with the one button for its next step (assign, check
in, check out, confirm the hours), and a volunteer signs up or redeems with one tap. The analytics
live in the county's overview only.

Out of scope is 404 and no permission at all is 403 (``gongzhi.core.scoping``). A refused write
(``ValidationError`` from a service, in Chinese) is shown on the page it came from and nothing is
saved. Actions on one object post to ``<object>/<action>/``, so every write has one URL and one
permission-matrix case.
"""
from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django.views.decorators.http import require_POST

from gongzhi.cases.models import Case
from gongzhi.core.forms import add_validation_errors, flash_validation_errors
from gongzhi.core.pagination import paginate
from gongzhi.core.scoping import access_object, can, has_perm_anywhere, holds_county, require_perm
from gongzhi.registry.models import Person, PersonStatus, Region, RegionLevel

from . import forms, selectors, services
from .models import (
    TAKING_A_SLOT, CatalogueItem, Certification, Redemption, ServiceKind, ServiceTask, SignUp, SignUpStatus,
    TaskStatus, Volunteer, VolunteerCategory, VolunteerStatus,
)


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _run(request, work, success: str) -> bool:
    try:
        work()
    except ValidationError as exc:
        flash_validation_errors(request, exc)
        return False
    messages.success(request, success)
    return True


def _back(request, fallback: str, **kwargs):
    nxt = request.POST.get("next", "")
    if nxt.startswith("/volunteers/") and "//" not in nxt:
        return redirect(nxt)
    return redirect(fallback, **kwargs)


def _counties(user, perm):
    return Region.objects.visible_to(user, perm).filter(level=RegionLevel.COUNTY).order_by("code") \
        if has_perm_anywhere(user, perm) else Region.objects.none()


def _county_of(user, perm) -> Region | None:
    return next((c for c in _counties(user, perm) if holds_county(user, perm, c.pk)), None)


# ---------------------------------------------------------------------------------------------
# start page: the phone's


@login_required
def home(request):
    user = request.user
    require_perm(user, "volunteers.view_servicetask")
    me = selectors.own_volunteer(user)
    tasks = list(selectors.tasks_for(user=user, upcoming=True)[:30])
    context = {"me": me, "tasks": tasks, "now": timezone.now()}
    if me is not None:
        mine = {s.task_id: s for s in SignUp.objects.visible_to(user, "volunteers.view_signup")
                .filter(volunteer=me, task__in=[t.pk for t in tasks]).exclude(status=SignUpStatus.CANCELLED)}
        for t in tasks:
            t.my_signup = mine.get(t.pk)
        context.update(facts=selectors.facts_of(me),
                       my_signups=SignUp.objects.visible_to(user, "volunteers.view_signup").filter(volunteer=me)
                       .select_related("task").order_by("-signed_up_at")[:10])
    context.update(
        can_corps=has_perm_anywhere(user, "volunteers.view_volunteer") and me is None,
        can_task=has_perm_anywhere(user, "volunteers.add_servicetask"),
        can_overview=has_perm_anywhere(user, "volunteers.view_volunteer_analytics"),
        can_kinds=has_perm_anywhere(user, "volunteers.view_servicekind") and me is None,
        can_catalogue=has_perm_anywhere(user, "volunteers.view_catalogueitem"),
    )
    return render(request, "volunteers/home.html", context)


@login_required
def overview(request):
    require_perm(request.user, "volunteers.view_volunteer_analytics")
    return render(request, "volunteers/overview.html", {"o": selectors.overview(user=request.user)})


# ---------------------------------------------------------------------------------------------
# the corps


@login_required
def volunteers(request):
    require_perm(request.user, "volunteers.view_volunteer")
    q = (request.GET.get("q") or "").strip()[:50]
    category = request.GET.get("category") if request.GET.get("category") in VolunteerCategory.values else ""
    rows = selectors.volunteers_for(user=request.user, q=q, category=category)
    return render(request, "volunteers/volunteers.html", {
        "page": paginate(request, rows), "q": q, "category": category, "categories": VolunteerCategory.choices,
        "can_add": has_perm_anywhere(request.user, "volunteers.add_volunteer")})


@login_required
def volunteer_new(request):
    user = request.user
    require_perm(user, "volunteers.add_volunteer")
    villages = Region.objects.visible_to(user, "volunteers.add_volunteer").filter(level=RegionLevel.VILLAGE)
    q = (request.GET.get("q") or request.POST.get("q") or "").strip()[:50]
    persons = (Person.objects.visible_to(user, "registry.view_person")
               .filter(status=PersonStatus.ACTIVE, village_id__in=villages.values("pk"), volunteer__isnull=True)
               .select_related("region").order_by("name"))
    if q:
        persons = persons.filter(name__contains=q)
    form = forms.VolunteerForm(request.POST or None, persons=persons[:300])
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            volunteer = services.volunteer_register(actor=user, person=Person(pk=d["person"]), category=d["category"],
                                                    skills=d["skills"], joined_on=d["joined_on"])
        except ValidationError as exc:
            add_validation_errors(form, exc)
        else:
            messages.success(request, _("Volunteer registered."))
            return redirect("volunteers:volunteer", pk=volunteer.pk)
    return render(request, "volunteers/volunteer_new.html", {"form": form, "q": q})


@login_required
def volunteer(request, pk):
    user = request.user
    v = access_object(Volunteer.objects.select_related("person", "region", "grid"), user, "volunteers.view_volunteer",
                      pk=pk)
    context = {
        "v": v, "facts": selectors.facts_of(v), "today": timezone.localdate(),
        "certifications": selectors.certifications_of(v) if has_perm_anywhere(user, "volunteers.view_certification") else [],
        "ledger": selectors.ledger_of(user=user, volunteer=v, limit=50)
        if has_perm_anywhere(user, "volunteers.view_pointstransaction") else [],
        "signups": SignUp.objects.visible_to(user, "volunteers.view_signup").filter(volunteer=v)
        .select_related("task__kind").order_by("-signed_up_at")[:30],
        "redemptions": selectors.redemptions_for(user=user, volunteer=v)[:30]
        if has_perm_anywhere(user, "volunteers.view_redemption") else [],
        "can_certify": can(user, "volunteers.add_certification", v),
        "can_revoke": can(user, "volunteers.change_certification", v),
        "can_status": can(user, "volunteers.change_volunteer", v),
        "can_correct": holds_county(user, "volunteers.correct_pointstransaction", v.county_id),
        "cert_form": forms.CertificationForm(), "status_form": forms.StatusForm(initial={"status": v.status}),
        "correct_form": forms.CorrectionForm(),
    }
    return render(request, "volunteers/volunteer.html", context)


VOLUNTEER_ACTIONS = {"certify": "volunteers.add_certification", "status": "volunteers.change_volunteer",
                     "correct": "volunteers.correct_pointstransaction"}


@login_required
@require_POST
def volunteer_do(request, pk, action):
    if action not in VOLUNTEER_ACTIONS:
        raise Http404
    user = request.user
    v = access_object(Volunteer.objects.all(), user, VOLUNTEER_ACTIONS[action], pk=pk)
    post = request.POST
    if action == "certify":
        form = forms.CertificationForm(post)
        if not form.is_valid():
            for errors in form.errors.values():
                for e in errors:
                    messages.error(request, e)
        else:
            d = form.cleaned_data
            _run(request, lambda: services.certification_grant(
                actor=user, volunteer=v, field=d["field"], level=d["level"], certifying_body=d["certifying_body"],
                certificate_no=d["certificate_no"], certified_on=d["certified_on"], expires_on=d["expires_on"]),
                _("Certification recorded."))
    elif action == "status":
        _run(request, lambda: services.volunteer_set_status(actor=user, volunteer=v, status=post.get("status", ""),
                                                            reason=post.get("reason", "")), _("Status changed."))
    else:
        _run(request, lambda: services.points_correct(actor=user, volunteer=v, amount=post.get("amount", ""),
                                                      reason=post.get("reason", "")), _("Points corrected."))
    return redirect("volunteers:volunteer", pk=v.pk)


@login_required
@require_POST
def certification_revoke(request, pk):
    cert = access_object(Certification.objects.all(), request.user, "volunteers.change_certification", pk=pk)
    _run(request, lambda: services.certification_revoke(actor=request.user, certification=cert,
                                                        reason=request.POST.get("reason", "")),
         _("Certification revoked."))
    return redirect("volunteers:volunteer", pk=cert.volunteer_id)


# ---------------------------------------------------------------------------------------------
# the county's rules


@login_required
def kinds(request):
    user = request.user
    require_perm(user, "volunteers.view_servicekind")
    county = _county_of(user, "volunteers.add_servicekind")
    form = forms.ServiceKindForm(request.POST or None)
    if request.method == "POST":
        if county is None:
            raise PermissionDenied
        if form.is_valid():
            d = form.cleaned_data
            try:
                services.service_kind_save(actor=user, county=county, **d)
            except ValidationError as exc:
                add_validation_errors(form, exc)
            else:
                messages.success(request, _("Service kind saved."))
                return redirect("volunteers:kinds")
    settings_county = _county_of(user, "volunteers.change_pointssettings")
    rules = services.settings_for(settings_county.pk) if settings_county else None
    return render(request, "volunteers/kinds.html", {
        "kinds": selectors.kinds_for(user=user), "form": form, "county": county, "settings_county": settings_county,
        "settings_form": forms.PointsSettingsForm(initial={"expiry_months": rules.expiry_months,
                                                           "yearly_cap": rules.yearly_cap}) if rules else None})


@login_required
def kind(request, pk):
    user = request.user
    row = access_object(ServiceKind.objects.all(), user, "volunteers.change_servicekind", pk=pk)
    initial = {"name": row.name, "description": row.description, "required_field": row.required_field,
               "min_level": row.min_level, "points_per_hour": row.points_per_hour, "max_hours": row.max_hours,
               "active": row.active}
    form = forms.ServiceKindForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.service_kind_save(actor=user, county=Region(pk=row.county_id), kind=row, **form.cleaned_data)
        except (ValidationError, PermissionDenied) as exc:
            if isinstance(exc, PermissionDenied):
                raise
            add_validation_errors(form, exc)
        else:
            messages.success(request, _("Service kind saved."))
            return redirect("volunteers:kinds")
    return render(request, "volunteers/form.html", {"form": form, "title": row.name})


@login_required
@require_POST
def settings_page(request, pk):
    county = access_object(Region.objects.all(), request.user, "volunteers.change_pointssettings", pk=pk)
    _run(request, lambda: services.points_settings_save(actor=request.user, county=county,
                                                        expiry_months=request.POST.get("expiry_months", ""),
                                                        yearly_cap=request.POST.get("yearly_cap", "")),
         _("Points rules saved."))
    return redirect("volunteers:kinds")


# ---------------------------------------------------------------------------------------------
# tasks


@login_required
def tasks(request):
    require_perm(request.user, "volunteers.view_servicetask")
    rows = selectors.tasks_for(user=request.user, upcoming=False).order_by("-starts_at", "-id")
    return render(request, "volunteers/tasks.html", {
        "page": paginate(request, rows), "can_task": has_perm_anywhere(request.user, "volunteers.add_servicetask")})


def _task_form(request, data=None):
    user = request.user
    regions = (Region.objects.visible_to(user, "volunteers.add_servicetask")
               .filter(level__in=[RegionLevel.TOWN, RegionLevel.VILLAGE]).order_by("code")[:500])
    county_ids = {r.county_id for r in regions}
    kinds_ = ServiceKind.objects.filter(county_id__in=county_ids, active=True).order_by("name")
    start = timezone.localtime().replace(minute=0, second=0, microsecond=0) + dt.timedelta(days=1)
    return forms.TaskForm(data, kinds=kinds_, regions=regions, initial={
        "starts_at": start.strftime("%Y-%m-%dT%H:%M"), "ends_at": (start + dt.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
        "case": request.GET.get("case", "")[:32]})


@login_required
def task_new(request):
    user = request.user
    require_perm(user, "volunteers.add_servicetask")
    form = _task_form(request, request.POST or None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            case = None
            if d["case"]:
                case = Case.objects.visible_to(user, "cases.view_case").filter(number=d["case"].strip()).first()
                if case is None:
                    raise ValidationError({"case": "找不到这个事项编号"})
            task = services.task_create(actor=user, kind=ServiceKind(pk=d["kind"]), title=d["title"],
                                        region=Region(pk=d["region"]), place=d["place"], starts_at=d["starts_at"],
                                        ends_at=d["ends_at"], slots=d["slots"], description=d["description"],
                                        case=case)
        except ValidationError as exc:
            add_validation_errors(form, exc)
        else:
            messages.success(request, _("Task published."))
            return redirect("volunteers:task", pk=task.pk)
    return render(request, "volunteers/form.html", {"form": form, "title": _("New service task")})


# The one next step a sign-up offers on the phone, and who may take it.
NEXT_STEP = {
    SignUpStatus.SIGNED_UP: ("assign", "volunteers.assign_signup"),
    SignUpStatus.REFUSED: ("assign", "volunteers.assign_signup"),
    SignUpStatus.ASSIGNED: ("check_in", "volunteers.change_signup"),
    SignUpStatus.CHECKED_IN: ("check_out", "volunteers.change_signup"),
    SignUpStatus.CHECKED_OUT: ("confirm", "volunteers.confirm_signup"),
}


@login_required
def task(request, pk):
    user = request.user
    t = access_object(ServiceTask.objects.select_related("kind", "region", "organiser", "case"), user,
                      "volunteers.view_servicetask", pk=pk)
    rows = list(selectors.signups_of(user=user, task=t))
    problems = selectors.eligible(t, [s.volunteer for s in rows])
    for s in rows:
        step = NEXT_STEP.get(s.status)
        s.next_step = step[0] if step and can(user, step[1], s) and not (
            step[0] == "confirm" and user.person_id and user.person_id == s.volunteer.person_id) else None
        s.problem = problems.get(s.volunteer_id)
        s.can_cancel = s.status in (SignUpStatus.SIGNED_UP, SignUpStatus.ASSIGNED) and can(user, "volunteers.change_signup", s)
        s.can_refuse = s.status == SignUpStatus.SIGNED_UP and can(user, "volunteers.assign_signup", s)
    me = selectors.own_volunteer(user)
    candidates = []
    if can(user, "volunteers.add_signup", t) and me is None and t.status == TaskStatus.OPEN:
        taken = {s.volunteer_id for s in rows if s.status not in (SignUpStatus.CANCELLED,)}
        pool = (Volunteer.objects.visible_to(user, "volunteers.add_signup").filter(status=VolunteerStatus.ACTIVE)
                .filter(county_id=t.county_id).exclude(pk__in=taken).select_related("person")
                .order_by("-village_id", "person__name"))
        if t.village_id:
            pool = pool.filter(village_id=t.village_id) | pool.filter(town_id=t.town_id).exclude(village_id=t.village_id)
        pool = list(pool[:200])
        hints = selectors.eligible(t, pool)
        candidates = [(v, hints[v.pk]) for v in pool]
    context = {
        "t": t, "signups": rows, "me": me, "candidates": candidates,
        "taken": sum(1 for s in rows if s.status in TAKING_A_SLOT),
        "mine": next((s for s in rows if me and s.volunteer_id == me.pk and s.status != SignUpStatus.CANCELLED), None),
        "can_signup": can(user, "volunteers.add_signup", t) and t.status == TaskStatus.OPEN and t.ends_at > timezone.now(),
        "can_assign": can(user, "volunteers.assign_signup", t),
        "can_cancel_task": can(user, "volunteers.change_servicetask", t) and t.status == TaskStatus.OPEN,
        "case_number": (t.case.number or "编号待定") if t.case_id else None,
    }
    return render(request, "volunteers/task.html", context)


@login_required
@require_POST
def task_do(request, pk, action):
    perm = {"signup": "volunteers.add_signup", "cancel": "volunteers.change_servicetask"}.get(action)
    if perm is None:
        raise Http404
    user = request.user
    t = access_object(ServiceTask.objects.all(), user, perm, pk=pk)
    if action == "cancel":
        _run(request, lambda: services.task_cancel(actor=user, task=t, reason=request.POST.get("reason", "")),
             _("Task cancelled."))
        return redirect("volunteers:task", pk=t.pk)
    vid = _int(request.POST.get("volunteer"))
    volunteer = (Volunteer.objects.visible_to(user, "volunteers.add_signup").filter(pk=vid).first() if vid
                 else selectors.own_volunteer(user))
    if volunteer is None:
        messages.error(request, "请选择志愿者")
    else:
        assign = request.POST.get("assign") == "1" and can(user, "volunteers.assign_signup", t)
        _run(request, lambda: services.signup_create(actor=user, task=t, volunteer=volunteer, assign=assign),
             _("Signed up and assigned.") if assign else _("Signed up."))
    return _back(request, "volunteers:task", pk=t.pk)


SIGNUP_ACTIONS = {
    "assign": ("volunteers.assign_signup", lambda u, s, p: services.signup_assign(actor=u, signup=s),
               gettext_noop("Assigned.")),
    "refuse": ("volunteers.assign_signup", lambda u, s, p: services.signup_refuse(actor=u, signup=s,
                                                                                  reason=p.get("reason", "")),
               gettext_noop("Not assigned; the reason is recorded.")),
    "cancel": ("volunteers.change_signup", lambda u, s, p: services.signup_cancel(actor=u, signup=s,
                                                                                  reason=p.get("reason", "")),
               gettext_noop("Sign-up cancelled.")),
    "check_in": ("volunteers.change_signup", lambda u, s, p: services.signup_check_in(actor=u, signup=s), gettext_noop("Checked in.")),
    "check_out": ("volunteers.change_signup", lambda u, s, p: services.signup_check_out(actor=u, signup=s),
                  gettext_noop("Checked out.")),
    "confirm": ("volunteers.confirm_signup", lambda u, s, p: services.signup_confirm_hours(
        actor=u, signup=s, hours=(p.get("hours") or "").strip() or None), gettext_noop("Hours confirmed; points earned.")),
}


@login_required
@require_POST
def signup_do(request, pk, action):
    if action not in SIGNUP_ACTIONS:
        raise Http404
    perm, work, done = SIGNUP_ACTIONS[action]
    signup = access_object(SignUp.objects.all(), request.user, perm, pk=pk)
    _run(request, lambda: work(request.user, signup, request.POST), _(done))
    return _back(request, "volunteers:task", pk=signup.task_id)


# ---------------------------------------------------------------------------------------------
# the catalogue


@login_required
def catalogue(request):
    user = request.user
    require_perm(user, "volunteers.view_catalogueitem")
    me = selectors.own_volunteer(user)
    county = _county_of(user, "volunteers.add_catalogueitem")
    can_redeem_for = has_perm_anywhere(user, "volunteers.add_redemption") and me is None
    return render(request, "volunteers/catalogue.html", {
        "items": selectors.catalogue_for(user=user, active_only=county is None),
        "me": me, "balance": selectors.facts_of(me).balance if me else None,
        "can_redeem": has_perm_anywhere(user, "volunteers.add_redemption"),
        "redeem_for": list(Volunteer.objects.visible_to(user, "volunteers.add_redemption").select_related("person")
                           .order_by("person__name")[:300]) if can_redeem_for else [],
        "county": county, "item_form": forms.CatalogueItemForm() if county else None,
        "can_restock": county is not None,
        "redemptions": selectors.redemptions_for(user=user).order_by("-created_at")[:30]
        if has_perm_anywhere(user, "volunteers.view_redemption") else [],
        "can_deliver": has_perm_anywhere(user, "volunteers.deliver_redemption"),
    })


@login_required
@require_POST
def catalogue_new(request):
    user = request.user
    county = _county_of(user, "volunteers.add_catalogueitem")
    if county is None:
        require_perm(user, "volunteers.add_catalogueitem")
        raise PermissionDenied
    p = request.POST
    _run(request, lambda: services.catalogue_item_save(
        actor=user, county=county, name=p.get("name", ""), kind=p.get("kind", ""), provider=p.get("provider", ""),
        description=p.get("description", ""), points_cost=p.get("points_cost", ""), stock=p.get("stock", "0") or "0"),
        _("Catalogue item added."))
    return redirect("volunteers:catalogue")


@login_required
@require_POST
def item_do(request, pk, action):
    perm = {"redeem": "volunteers.add_redemption", "restock": "volunteers.change_catalogueitem"}.get(action)
    if perm is None:
        raise Http404
    user = request.user
    require_perm(user, perm)
    item = access_object(CatalogueItem.objects.all(), user, "volunteers.view_catalogueitem", pk=pk)
    if action == "restock":
        item = access_object(CatalogueItem.objects.all(), user, perm, pk=pk)
        try:
            services.catalogue_restock(actor=user, item=item, quantity=request.POST.get("quantity", ""))
        except ValidationError as exc:
            flash_validation_errors(request, exc)
        else:
            messages.success(request, _("Stock added."))
        return redirect("volunteers:catalogue")
    vid = _int(request.POST.get("volunteer"))
    volunteer = (Volunteer.objects.visible_to(user, perm).filter(pk=vid).first() if vid else selectors.own_volunteer(user))
    if volunteer is None:
        messages.error(request, "请选择志愿者")
    else:
        _run(request, lambda: services.redemption_create(actor=user, volunteer=volunteer, item=item,
                                                         quantity=request.POST.get("quantity", "1")),
             _("Redeemed; the points are taken."))
    return _back(request, "volunteers:catalogue")


@login_required
@require_POST
def redemption_do(request, pk, action):
    perm = {"cancel": "volunteers.change_redemption", "deliver": "volunteers.deliver_redemption"}.get(action)
    if perm is None:
        raise Http404
    row = access_object(Redemption.objects.all(), request.user, perm, pk=pk)
    if action == "cancel":
        _run(request, lambda: services.redemption_cancel(actor=request.user, redemption=row,
                                                         reason=request.POST.get("reason", "")),
             _("Redemption cancelled; points and stock returned."))
    else:
        _run(request, lambda: services.redemption_deliver(actor=request.user, redemption=row), _("Handed over."))
    return _back(request, "volunteers:catalogue")
