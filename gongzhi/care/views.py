"""Thin page views: parse input → call a selector or service → render. Out of scope is 404,
no permission at all is 403 (``gongzhi.core.scoping``)."""
from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from gongzhi.core.forms import add_validation_errors
from gongzhi.core.pagination import paginate
from gongzhi.core.scoping import access_object, has_perm_anywhere, require_perm
from gongzhi.registry.models import ContactAssignment, Grid, Household, PersonStatus, Region, RegionLevel

from . import selectors, services
from .forms import (
    ArchiveChangeForm, ContactForm, OverrideForm, PatrolProblemForm, PatrolStartForm, ReceptionSessionForm,
    RuleForm, SuggestionForm, VisitForm, WatchEventForm,
)
from .load import TASKS
from .models import (
    COLOUR_ZH, ArchiveChange, AssignmentProposal, ClassRule, HouseholdClass, Patrol, ReceptionSession, Visit,
)


_add_errors = add_validation_errors  # gongzhi.core.forms: how every page shows a service's errors


def _village(request, pk: int, perm: str = "care.view_householdclass") -> Region:
    village = access_object(Region.objects.all(), request.user, perm, pk=pk)
    if village.level != RegionLevel.VILLAGE:
        raise Http404
    return village


# ---------------------------------------------------------------------------------------------
# my work (the phone's start page)


@login_required
def home(request):
    user = request.user
    if not any(has_perm_anywhere(user, p) for p in ("care.add_contactrecord", "care.view_householdclass")):
        raise PermissionDenied
    q = request.GET.get("q", "").strip()
    can_contact = has_perm_anywhere(user, "care.add_contactrecord")
    context = {
        "households": selectors.my_households(user, q=q, limit=30) if can_contact else [],
        "q": q,
        "visits": selectors.visits_due(user) if has_perm_anywhere(user, "care.change_visit") else [],
        "alerts": list(selectors.my_alerts(user)[:20]),
        "patrol": selectors.my_open_patrol(user),
        "grids": selectors.my_grids(user) if has_perm_anywhere(user, "care.add_patrol") else [],
        "villages": selectors.my_villages(user),
        "can_contact": can_contact,
        "can_change": has_perm_anywhere(user, "care.add_archivechange"),
        "today": timezone.localdate(),
    }
    return render(request, "care/home.html", context)


@login_required
def load(request):
    require_perm(request.user, "care.view_householdclass")
    return render(request, "care/load.html", {"tasks": TASKS})


# ---------------------------------------------------------------------------------------------
# contacts


@login_required
def contact_new(request):
    user = request.user
    require_perm(user, "care.add_contactrecord")
    households = selectors.my_households(user, q=request.GET.get("q", "").strip(), limit=30)
    chosen = request.GET.get("household")
    if chosen and chosen.isdigit() and int(chosen) not in {h.pk for h in households}:
        households = [access_object(Household.objects.all(), user, "care.add_contactrecord", pk=int(chosen))] + households
    initial = {"household": int(chosen) if chosen and chosen.isdigit() else (households[0].pk if len(households) == 1 else None)}
    form = ContactForm(request.POST or None, households=households, initial=initial)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        household = access_object(Household.objects.all(), user, "care.add_contactrecord", pk=d["household"])
        try:
            record = services.contact_record(actor=user, household=household, method=d["method"], heard=d["heard"],
                                             contacted_at=d["contacted_at"], needs_action=d["needs_action"])
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            if record.needs_action and not record.case_ref:
                messages.warning(request, _("Contact saved. The case loop is not available yet: it is kept as "
                                            "needing action."))
            elif record.case_ref:
                messages.success(request, _("Contact saved and case %(ref)s opened.") % {"ref": record.case_ref})
            else:
                messages.success(request, _("Contact saved."))
            return redirect("care:home")
    return render(request, "care/contact_form.html", {"form": form})


# ---------------------------------------------------------------------------------------------
# visits and alerts


@login_required
def visit(request, pk):
    v = access_object(Visit.objects.select_related("household", "plan__helper"), request.user, "care.change_visit", pk=pk)
    form = VisitForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.visit_record(actor=request.user, visit=v, note=form.cleaned_data["note"])
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("Visit recorded."))
            return redirect("care:home")
    return render(request, "care/visit_form.html", {"visit": v, "form": form,
                                                    "klass": HouseholdClass.objects.filter(pk=v.household_id).first()})


@login_required
def alerts(request):
    require_perm(request.user, "care.view_carealert")
    return render(request, "care/alerts.html",
                  {"alerts": paginate(request, selectors.my_alerts(request.user, unread_only=False))})


# ---------------------------------------------------------------------------------------------
# patrols


@login_required
def patrol_new(request):
    user = request.user
    require_perm(user, "care.add_patrol")
    grids = selectors.my_grids(user)
    form = PatrolStartForm(request.POST or None, initial={"grid": grids[0].pk if grids else None})
    form.fields["grid"].choices = [(g.pk, g.name) for g in grids]
    if request.method == "POST" and form.is_valid():
        grid = access_object(Grid.objects.all(), user, "care.add_patrol", pk=form.cleaned_data["grid"])
        patrol = services.patrol_start(actor=user, grid=grid, route_note=form.cleaned_data["route_note"])
        return redirect("care:patrol", pk=patrol.pk)
    return render(request, "care/patrol_new.html", {"form": form})


@login_required
def patrol(request, pk):
    user = request.user
    p = access_object(Patrol.objects.select_related("grid"), user, "care.view_patrol", pk=pk)
    households = list(Household.objects.visible_to(user, "registry.view_household")
                      .filter(grid__path__startswith=p.grid.path).prefetch_related("members").order_by("code")[:200])
    form = PatrolProblemForm(request.POST or None, households=households)
    if request.method == "POST":
        if request.POST.get("action") == "end":
            services.patrol_end(actor=user, patrol=p)
            messages.success(request, _("Patrol ended."))
            return redirect("care:home")
        if form.is_valid():
            d = form.cleaned_data
            household = next((h for h in households if h.pk == d["household"]), None)
            try:
                problem = services.patrol_problem_report(actor=user, patrol=p, description=d["description"],
                                                         location=d["location"], household=household,
                                                         make_case=d["make_case"] or "make_case" not in request.POST)
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                if problem.case_ref:
                    messages.success(request, _("Problem reported, case %(ref)s opened.") % {"ref": problem.case_ref})
                else:
                    messages.success(request, _("Problem reported."))
                return redirect("care:patrol", pk=p.pk)
    return render(request, "care/patrol.html", {"patrol": p, "form": form, "problems": p.problems.all()})


# ---------------------------------------------------------------------------------------------
# the household: 一户一档


@login_required
def household(request, pk):
    user = request.user
    h = access_object(Household.objects.select_related("grid", "region"), user, "care.view_householdclass", pk=pk)
    return render(request, "care/household.html", {
        "household": h,
        "klass": HouseholdClass.objects.filter(pk=h.pk).first(),
        "members": h.members.filter(status=PersonStatus.ACTIVE),
        "timeline": selectors.household_timeline(user, household=h),
        "contacts": ContactAssignment.objects.visible_to(user, "registry.view_contactassignment")
        .filter(household=h, ended_on__isnull=True).select_related("person"),
        "plan": h.care_plans.filter(ended_on__isnull=True).select_related("helper").first(),
        "can_override": has_perm_anywhere(user, "care.override_householdclass"),
        "override_form": OverrideForm(),
        "watch_form": WatchEventForm(initial={"occurred_on": timezone.localdate()}),
        "can_watch": has_perm_anywhere(user, "care.add_watchevent"),
        "can_change": has_perm_anywhere(user, "care.add_archivechange"),
    })


@login_required
@require_POST
def override(request, pk):
    user = request.user
    h = access_object(Household.objects.all(), user, "care.override_householdclass", pk=pk)
    if request.POST.get("action") == "clear":
        services.class_override_clear(actor=user, household=h)
        messages.success(request, _("Override removed."))
        return redirect("care:household", pk=h.pk)
    form = OverrideForm(request.POST)
    if form.is_valid():
        try:
            services.class_override_set(actor=user, household=h, **form.cleaned_data)
        except ValidationError as exc:
            _add_errors(form, exc)
    if form.errors:
        messages.error(request, "；".join(e for errs in form.errors.values() for e in errs))
    else:
        messages.success(request, _("Class overridden."))
    return redirect("care:household", pk=h.pk)


@login_required
@require_POST
def watch_event_new(request, pk):
    user = request.user
    h = access_object(Household.objects.all(), user, "care.add_watchevent", pk=pk)
    form = WatchEventForm(request.POST)
    if form.is_valid():
        try:
            services.watch_event_record(actor=user, household=h, **form.cleaned_data)
        except ValidationError as exc:
            _add_errors(form, exc)
    if form.errors:
        messages.error(request, "；".join(e for errs in form.errors.values() for e in errs))
    else:
        messages.success(request, _("Event recorded; the household is on the watch list."))
    return redirect("care:household", pk=h.pk)


@login_required
def change_new(request, pk):
    user = request.user
    h = access_object(Household.objects.all(), user, "care.add_archivechange", pk=pk)
    members = list(h.members.filter(status=PersonStatus.ACTIVE))
    form = ArchiveChangeForm(request.POST or None, members=members)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        person = next((m for m in members if m.pk == d["person"]), None)
        try:
            change = services.archive_change_record(actor=user, household=h, kind=d["kind"], person=person,
                                                    payload=form.payload())
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            if change.status == ArchiveChange.Status.PENDING:
                messages.success(request, _("Change recorded; it takes effect when the village confirms it."))
            else:
                messages.success(request, _("Change recorded and applied."))
            return redirect("care:home")
    return render(request, "care/change_form.html", {"household": h, "form": form})


# ---------------------------------------------------------------------------------------------
# the village's pages


@login_required
def village(request, pk):
    user = request.user
    v = _village(request, pk)
    return render(request, "care/village.html", {
        "village": v, "counts": selectors.class_counts(user, village=v),
        "pending": selectors.pending_changes(user, village=v).count(),
        "completion": selectors.visit_completion(user, village=v),
        "colour_names": COLOUR_ZH,
    })


@login_required
def classes(request, pk):
    user = request.user
    v = _village(request, pk)
    colour = request.GET.get("colour", "")
    grid = request.GET.get("grid", "")
    rows = selectors.class_list(user, village=v, colour=colour if colour in selectors.COLOURS else "",
                                grid_id=int(grid) if grid.isdigit() else None)
    return render(request, "care/classes.html", {"village": v, "rows": paginate(request, rows), "colour": colour,
                                                 "colour_names": COLOUR_ZH})


@login_required
def coverage(request, pk):
    user = request.user
    v = _village(request, pk, "registry.view_contactassignment")
    report = selectors.coverage(user, village=v)
    report.uncovered = paginate(request, report.uncovered, param="uncovered_page")
    return render(request, "care/coverage.html", {
        "village": v, "report": report,
        "assignments": paginate(request, selectors.active_assignments(user, village=v)),
        "proposals": AssignmentProposal.objects.visible_to(user, "care.view_assignmentproposal")
        .filter(region=v)[:5],
        "can_propose": has_perm_anywhere(user, "care.add_assignmentproposal"),
    })


@login_required
@require_POST
def proposal_create(request, pk):
    v = _village(request, pk, "care.add_assignmentproposal")
    proposal = services.assignment_proposal_create(actor=request.user, village=v)
    return redirect("care:proposal", pk=proposal.pk)


@login_required
def proposal(request, pk):
    user = request.user
    p = access_object(AssignmentProposal.objects.select_related("region"), user, "care.view_assignmentproposal", pk=pk)
    candidates = services.village_candidates(p.region)
    items = list(p.items.select_related("household", "person").prefetch_related("household__members"))
    if request.method == "POST":
        require_perm(user, "care.add_assignmentproposal")
        choices = {}
        for item in items:
            raw = request.POST.get(f"item-{item.pk}")
            if raw is not None:
                choices[item.pk] = int(raw) if raw.isdigit() else None
        try:
            created = services.assignment_proposal_confirm(actor=user, proposal=p, choices=choices)
        except ValidationError as exc:
            messages.error(request, "；".join(exc.messages))
        else:
            messages.success(request, _("%(n)d assignments confirmed.") % {"n": len(created)})
            return redirect("care:coverage", pk=p.region_id)
    return render(request, "care/proposal.html", {"proposal": p, "items": items, "candidates": candidates})


@login_required
@require_POST
def assignment_end(request, pk):
    user = request.user
    a = access_object(ContactAssignment.objects.all(), user, "registry.change_contactassignment", pk=pk)
    try:
        services.assignment_end(actor=user, assignment=a, reason=request.POST.get("reason", ""))
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    else:
        messages.success(request, _("Assignment ended; it stays in the history."))
    return redirect("care:coverage", pk=a.village_id)


@login_required
def watch(request, pk):
    v = _village(request, pk, "care.view_watchevent")
    return render(request, "care/watch.html",
                  {"village": v, "rows": paginate(request, selectors.watch_list(request.user, village=v))})


@login_required
def changes(request, pk):
    v = _village(request, pk, "care.view_archivechange")
    return render(request, "care/changes.html", {
        "village": v, "changes": paginate(request, selectors.pending_changes(request.user, village=v)),
        "can_decide": has_perm_anywhere(request.user, "care.confirm_archivechange"),
    })


@login_required
@require_POST
def change_decide(request, pk):
    user = request.user
    c = access_object(ArchiveChange.objects.all(), user, "care.confirm_archivechange", pk=pk)
    try:
        services.archive_change_decide(actor=user, change=c, approve=request.POST.get("decision") == "confirm",
                                       note=request.POST.get("note", ""))
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    else:
        messages.success(request, _("Decision recorded."))
    return redirect("care:changes", pk=c.village_id)


@login_required
def completion(request, pk):
    v = _village(request, pk, "care.view_visit")
    days = request.GET.get("days", "30")
    report = selectors.visit_completion(request.user, village=v, days=int(days) if days.isdigit() else 30)
    return render(request, "care/completion.html", {"village": v, "report": report})


# ---------------------------------------------------------------------------------------------
# voter reception days


@login_required
def reception_list(request):
    user = request.user
    require_perm(user, "care.view_receptionsession")
    regions = list(Region.objects.visible_to(user, "care.add_receptionsession")
                   .filter(level__in=[RegionLevel.TOWN, RegionLevel.VILLAGE]).order_by("code")[:100])
    form = ReceptionSessionForm(request.POST or None)
    form.fields["region"].choices = [(r.pk, r.name) for r in regions]
    if request.method == "POST":
        require_perm(user, "care.add_receptionsession")
        if form.is_valid():
            region = access_object(Region.objects.all(), user, "care.add_receptionsession", pk=form.cleaned_data["region"])
            try:
                session = services.reception_session_create(actor=user, region=region, held_on=form.cleaned_data["held_on"],
                                                            station=form.cleaned_data["station"])
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                return redirect("care:reception", pk=session.pk)
    year = request.GET.get("year", "")
    year = int(year) if year.isdigit() else timezone.localdate().year
    return render(request, "care/reception_list.html", {
        "sessions": paginate(request, selectors.reception_sessions(user)), "tally": selectors.reception_tally(user, year=year),
        "form": form if regions else None,
        "next_day": services.next_reception_day(regions[0].county_id) if regions else None,
    })


@login_required
def reception(request, pk):
    user = request.user
    session = access_object(ReceptionSession.objects.select_related("region"), user, "care.view_receptionsession",
                            pk=pk)
    deputies = list(selectors.deputies_for(user, session.region))
    form = SuggestionForm(request.POST or None)
    form.fields["deputy"].choices = [(d.pk, d.person.name) for d in deputies]
    if request.method == "POST":
        require_perm(user, "care.add_receptionsuggestion")
        if form.is_valid():
            d = form.cleaned_data
            deputy = next(x for x in deputies if x.pk == d["deputy"])
            try:
                services.reception_suggestion_record(actor=user, session=session, deputy=deputy, content=d["content"],
                                                     voter_name=d["voter_name"], needs_action=d["needs_action"])
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                messages.success(request, _("Suggestion recorded."))
                return redirect("care:reception", pk=session.pk)
    return render(request, "care/reception.html", {
        "session": session, "form": form, "suggestions": session.suggestions.select_related("deputy__person")})


# ---------------------------------------------------------------------------------------------
# the county's rules


@login_required
def rules(request):
    user = request.user
    require_perm(user, "care.view_classrule")
    counties = list(Region.objects.visible_to(user, "care.change_classrule").filter(level=RegionLevel.COUNTY))
    county = counties[0] if counties else None
    own = ClassRule.objects.filter(county=county).exists() if county else False
    rows = ClassRule.objects.visible_to(user, "care.view_classrule").filter(
        county=county if own else None).order_by("colour", "group", "id")
    form = RuleForm(request.POST or None)
    if request.method == "POST":
        require_perm(user, "care.change_classrule")
        if county is None:
            raise PermissionDenied
        if form.is_valid():
            d = form.cleaned_data
            rule = ClassRule.objects.filter(pk=d["rule"]).first() if d["rule"] else None
            try:
                services.class_rule_save(actor=user, county=county, rule=rule, colour=d["colour"], kind=d["kind"],
                                         params=d["params"] or {}, group=d["group"], enabled=d["enabled"])
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                messages.success(request, _("Rule saved. It applies from the next classification run."))
                return redirect("care:rules")
    return render(request, "care/rules.html", {"rules": rows, "county": county, "own": own, "form": form,
                                               "colour_names": COLOUR_ZH})
