"""Staff pages of the linking-up module: parse input → call a selector or service → render.

Out of scope is 404 and no permission at all is 403 (``gongzhi.core.scoping``). A refused write
(``ValidationError`` from a service, in Chinese) is shown on the page it came from and nothing is
saved: every service is one transaction. Actions on one object post to ``<object>/<action>/``,
as the village pages do, so every write has one URL and one permission-matrix case.
"""
from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q, Sum
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from gongzhi.cases.models import Case
from gongzhi.core.forms import add_validation_errors, flash_validation_errors
from gongzhi.core.scoping import access_object, can, has_perm_anywhere, require_perm
from gongzhi.registry.models import Department, PartyOrganization, Person, Region, RegionLevel

from . import forms, reporting, selectors, services
from .models import (
    Activity, ActivityStatus, Alliance, ApprovalRequest, KeyTask, LiaisonPost, Link, LinkingSettings, LinkKind,
    NeedItem, NeedSource, Pairing, PairingStatus, Principle, Plan, PlanStatus, Project, ProjectStatus, ProjectTask,
    ResourceItem, ResourceShare, Side, VillageGrade, WorkTeamMember,
)

_flash = flash_validation_errors


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _user(username: str, field: str):
    user = get_user_model().objects.filter(username=(username or "").strip(), is_active=True).first()
    if user is None:
        raise ValidationError({field: f"找不到账号“{username}”"})
    return user


def _departments(county_id):
    return Department.objects.filter(county_id=county_id).order_by("name")


def _pairing(request, pk, perm="linking.view_pairing") -> Pairing:
    return access_object(Pairing.objects.select_related("lead_org", "partner_org", "region", "agency_department"),
                         request.user, perm, pk=pk)


def _region(request, pk, perm, level=None) -> Region:
    region = access_object(Region.objects.all(), request.user, perm, pk=pk)
    if level is not None and region.level != level:
        raise Http404
    return region


def _person(user, pk) -> Person | None:
    pk = _int(pk)
    return Person.objects.visible_to(user, "registry.view_person").filter(pk=pk).first() if pk else None


# ---------------------------------------------------------------------------------------------
# start page


@login_required
def home(request):
    user = request.user
    if not (has_perm_anywhere(user, "linking.view_pairing") or has_perm_anywhere(user, "linking.view_keytask")):
        raise PermissionDenied
    pairings = selectors.pairings_for(user=user) if has_perm_anywhere(user, "linking.view_pairing") else Pairing.objects.none()
    towns = list(Region.objects.visible_to(user, "linking.view_keytask").filter(level=RegionLevel.TOWN)
                 .order_by("code")[:50]) if has_perm_anywhere(user, "linking.view_keytask") else []
    villages = list(Region.objects.visible_to(user, "linking.view_keytask").filter(level=RegionLevel.VILLAGE)
                    .order_by("code")[:2]) if has_perm_anywhere(user, "linking.view_keytask") and not towns else []
    context = {
        "posts": selectors.posts_held(user=user),
        "pairings": pairings.exclude(status=PairingStatus.ENDED)[:100],
        "stale": selectors.stale_counts(user=user) if has_perm_anywhere(user, "linking.view_resourceitem") else None,
        "approvals": selectors.approvals_pending(user=user)[:20]
        if has_perm_anywhere(user, "linking.view_approvalrequest") else [],
        "towns": towns, "villages": villages,
        "can_create": has_perm_anywhere(user, "linking.add_pairing"),
        "can_links": has_perm_anywhere(user, "linking.view_link"),
        "can_alliances": has_perm_anywhere(user, "linking.view_alliance"),
        "counties": Region.objects.visible_to(user, "linking.change_linkingsettings").filter(level=RegionLevel.COUNTY)
        if has_perm_anywhere(user, "linking.change_linkingsettings") else [],
    }
    return render(request, "linking/home.html", context)


# ---------------------------------------------------------------------------------------------
# pairings


def _pairing_form(request, data=None):
    user = request.user
    villages = Region.objects.visible_to(user, "linking.add_pairing").filter(level=RegionLevel.VILLAGE)
    county_ids = set(villages.values_list("county_id", flat=True)[:1000])
    partners = PartyOrganization.objects.filter(village_id__in=villages.values("pk")).order_by("region__code", "name")
    # The lead side: host units' branches of the county and village branches (村村联建). Party
    # organisations are organisations, not people's data: their names are public.
    leads = (PartyOrganization.objects.filter(county_id__in=county_ids)
             .filter(Q(host_unit__isnull=False) | Q(village_id__isnull=False)).order_by("host_unit_id", "name"))
    return forms.PairingForm(data, leads=leads[:2000], partners=partners[:2000],
                             departments=Department.objects.filter(county_id__in=county_ids))


@login_required
def pairing_new(request):
    require_perm(request.user, "linking.add_pairing")
    form = _pairing_form(request, request.POST or None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            pairing = services.pairing_create(
                actor=request.user, kind=d["kind"], title=d["title"],
                lead_org=PartyOrganization.objects.get(pk=d["lead_org"]),
                partner_org=PartyOrganization.objects.get(pk=d["partner_org"]),
                agency_department=Department.objects.filter(pk=d["agency_department"]).first(),
                principles=d["principles"], joint_actions=d["joint_actions"], term_start=d["term_start"],
                term_end=d["term_end"], lead_post=d["lead_post"], lead_holder=_user(d["lead_holder"], "lead_holder"),
                partner_post=d["partner_post"], partner_holder=_user(d["partner_holder"], "partner_holder"))
        except ValidationError as exc:
            add_validation_errors(form, exc)
        else:
            messages.success(request, _("Pairing created: both sides now sign the report form."))
            return redirect("linking:pairing", pk=pairing.pk)
    return render(request, "linking/form.html", {"form": form, "title": _("New pairing")})


@login_required
def pairing(request, pk):
    p = _pairing(request, pk)
    user = request.user
    needs = list(selectors.needs_of(user=user, pairing=p)) if has_perm_anywhere(user, "linking.view_needitem") else []
    context = {
        "pairing": p,
        "principles": [Principle(value).label for value in p.principles if value in Principle.values],
        "posts": p.posts.select_related("holder"),
        "side": services.acting_side(user, p),
        "is_liaison": services.acting_side(user, p) is not None,
        "resources": selectors.resources_of(user=user, pairing=p) if has_perm_anywhere(user, "linking.view_resourceitem") else [],
        "needs": selectors.ranked_needs(needs),
        "projects": selectors.projects_of(user=user, pairing=p) if has_perm_anywhere(user, "linking.view_project") else [],
        "activities": p.activities.all()[:30] if has_perm_anywhere(user, "linking.view_activity") else [],
        "approvals": p.approvals.select_related("requested_by")[:30] if has_perm_anywhere(user, "linking.view_approvalrequest") else [],
        "feedback": selectors.feedback_of(user=user, pairing=p)[:30] if has_perm_anywhere(user, "linking.view_feedbackitem") else [],
        "plans": p.plans.all() if has_perm_anywhere(user, "linking.view_plan") else [],
        "today": timezone.localdate(),
        "forms": {
            "message": forms.MessageForm(), "resource": forms.ResourceForm(places=_places(p)),
            "need": forms.NeedForm(places=_places(p, village_only=True)), "feedback": forms.FeedbackForm(),
            "case_feedback": forms.CaseFeedbackForm(), "approval": forms.ApprovalForm(),
            "activity": forms.ActivityForm(projects=p.projects.filter(status=ProjectStatus.UNDERWAY),
                                           held=p.activities.filter(status=ActivityStatus.HELD)[:30]),
            "plan": forms.PlanForm(), "post": forms.PostForm(), "end": forms.EndForm(),
        },
        "can_change": can(user, "linking.change_pairing", p),
        "can_need": can(user, "linking.add_needitem", p),
        "can_feedback": can(user, "linking.add_feedbackitem", p),
        "can_members": has_perm_anywhere(user, "linking.view_memberreport") and p.village_id
        and Region.objects.visible_to(user, "linking.view_memberreport").filter(pk=p.village_id).exists(),
    }
    return render(request, "linking/pairing.html", context)


def _places(p: Pairing, village_only: bool = False):
    village = Region.objects.filter(pk=p.village_id)
    groups = Region.objects.filter(parent_id=p.village_id).order_by("code")
    if village_only:
        return list(village) + list(groups)
    return list(village) + list(groups) + list(Region.objects.filter(pk=p.town_id))


PAIRING_ACTIONS = {
    "sign": "linking.sign_pairing", "message": "linking.add_pairingmessage", "end": "linking.change_pairing",
    "resource": "linking.add_resourceitem", "need": "linking.add_needitem", "review": "linking.view_pairing",
    "feedback": "linking.add_feedbackitem", "case_feedback": "linking.add_feedbackitem",
    "approval": "linking.add_approvalrequest", "activity": "linking.add_activity", "plan": "linking.add_plan",
    "post": "linking.change_pairing",
}


@login_required
@require_POST
def pairing_do(request, pk, action):
    if action not in PAIRING_ACTIONS:
        raise Http404
    p = _pairing(request, pk, PAIRING_ACTIONS[action])
    user, post = request.user, request.POST
    target = redirect("linking:pairing", pk=p.pk)
    try:
        if action == "sign":
            services.pairing_sign(actor=user, pairing=p, side=post.get("side", ""))
            messages.success(request, _("Report form signed."))
        elif action == "message":
            form = forms.MessageForm(post)
            if form.is_valid():
                services.message_post(actor=user, pairing=p, **form.cleaned_data)
                messages.success(request, _("Added to the pairing's archive."))
        elif action == "end":
            form = forms.EndForm(post)
            if form.is_valid():
                services.pairing_end(actor=user, pairing=p, reason=form.cleaned_data["reason"])
        elif action == "resource":
            form = forms.ResourceForm(post, places=_places(p))
            if form.is_valid():
                d = form.cleaned_data
                d["place"] = Region.objects.filter(pk=d["place"]).first() if d["place"] else None
                services.resource_add(actor=user, pairing=p, **d)
                messages.success(request, _("Resource listed."))
        elif action == "need":
            return _need_post(request, p)
        elif action == "review":
            form = forms.ReviewForm(post)
            if form.is_valid():
                d = form.cleaned_data
                services.list_item_review(actor=user, kind=d["kind"], pk=d["pk"], still_valid=d["still_valid"],
                                          note=d["note"])
                messages.success(request, _("Reviewed."))
        elif action == "feedback":
            form = forms.FeedbackForm(post)
            if form.is_valid():
                services.feedback_record(actor=user, pairing=p, **form.cleaned_data)
                messages.success(request, _("Feedback recorded."))
        elif action == "case_feedback":
            form = forms.CaseFeedbackForm(post)
            if form.is_valid():
                ref = form.cleaned_data["case"].strip()
                case = (Case.objects.visible_to(user, "cases.view_case")
                        .filter(Q(number=ref) | Q(tracking_code=ref.upper())).first())
                if case is None:
                    raise ValidationError({"case": f"找不到事项“{ref}”（或您无权查看）"})
                services.feedback_from_case(actor=user, pairing=p, case=case)
                messages.success(request, _("The case was added to the pairing's feedback."))
        elif action == "approval":
            form = forms.ApprovalForm(post)
            if form.is_valid():
                a = services.approval_request(actor=user, pairing=p, **form.cleaned_data)
                messages.success(request, _("Request sent on the fast track."))
                return redirect("linking:approval", pk=a.pk)
        elif action == "activity":
            form = forms.ActivityForm(post, projects=p.projects.all(), held=p.activities.filter(status=ActivityStatus.HELD))
            if form.is_valid():
                d = form.cleaned_data
                d["project"] = p.projects.filter(pk=d["project"]).first() if d["project"] else None
                d["follow_up_of"] = p.activities.filter(pk=d["follow_up_of"]).first() if d["follow_up_of"] else None
                a = services.activity_plan(actor=user, pairing=p, **d)
                return redirect("linking:activity", pk=a.pk)
        elif action == "plan":
            form = forms.PlanForm(post)
            if form.is_valid():
                plan = services.plan_draft(actor=user, pairing=p, **form.cleaned_data)
                return redirect("linking:plan", pk=plan.pk)
        elif action == "post":
            form = forms.PostForm(post)
            if form.is_valid():
                d = form.cleaned_data
                holder = _user(d["holder"], "holder") if d["holder"] else None
                services.post_add(actor=user, pairing=p, side=d["side"], title=d["title"], holder=holder)
        if "form" in locals() and not form.is_valid():
            for errors in form.errors.values():
                for message in errors:
                    messages.error(request, message)
    except ValidationError as exc:
        _flash(request, exc)
    return target


def _need_post(request, p: Pairing):
    """A need typed by a liaison, or one click from a case, a contact record or a meeting."""
    user, post = request.user, request.POST
    source = post.get("source") or NeedSource.LIAISON
    if source == NeedSource.LIAISON:
        form = forms.NeedForm(post, places=_places(p, village_only=True))
    else:
        form = forms.SourcedNeedForm(post, pairings=[p])
    back = redirect("linking:pairing", pk=p.pk) if source == NeedSource.LIAISON else redirect("linking:sources", pk=p.village_id)
    if not form.is_valid():
        for errors in form.errors.values():
            for message in errors:
                messages.error(request, message)
        return back
    d = dict(form.cleaned_data)
    extra = {}
    if source == NeedSource.LIAISON:
        d["place"] = Region.objects.filter(pk=d["place"]).first() if d["place"] else None
    else:
        d.pop("pairing")
        source_id = d.pop("source_id")
        d.pop("source")
        if source == NeedSource.CASE:
            extra["case"] = Case.objects.filter(pk=source_id).first()
        elif source == NeedSource.CONTACT:
            from gongzhi.care.models import ContactRecord

            extra["contact_record"] = ContactRecord.objects.filter(pk=source_id).first()
        elif source == NeedSource.MEETING:
            from gongzhi.village.models import Meeting

            extra["meeting"] = Meeting.objects.filter(pk=source_id).first()
        else:
            raise Http404
    try:
        need = services.need_raise(actor=user, pairing=p, source=source, **d, **extra)
    except ValidationError as exc:
        _flash(request, exc)
        return back
    messages.success(request, _("Need listed."))
    return redirect("linking:need", pk=need.pk)


@login_required
def sources(request, pk):
    """A village's cases, contact records and meetings, each one click from the pairing's needs."""
    village = _region(request, pk, "linking.add_needitem", RegionLevel.VILLAGE)
    user = request.user
    pairings = list(Pairing.objects.visible_to(user, "linking.add_needitem")
                    .filter(village_id=village.pk, status=PairingStatus.ACTIVE))
    cases = (Case.objects.visible_to(user, "cases.view_case").filter(village_id=village.pk)
             .order_by("-received_at")[:30]) if has_perm_anywhere(user, "cases.view_case") else []
    records, meetings = [], []
    if has_perm_anywhere(user, "care.view_contactrecord"):
        from gongzhi.care.models import ContactRecord

        records = (ContactRecord.objects.visible_to(user, "care.view_contactrecord")
                   .filter(village_id=village.pk, needs_action=True).select_related("household")[:30])
    if has_perm_anywhere(user, "village.view_meeting"):
        from gongzhi.village.models import Meeting

        meetings = Meeting.objects.visible_to(user, "village.view_meeting").filter(village_id=village.pk)[:20]
    listed = set(NeedItem.objects.filter(village_id=village.pk, case__isnull=False).values_list("case_id", flat=True))
    return render(request, "linking/sources.html", {
        "region": village, "pairings": pairings, "cases": cases, "records": records, "meetings": meetings,
        "listed": listed, "grades": forms.NeedForm.base_fields["grade"].choices,
        "kinds": forms.NeedForm.base_fields["kind"].choices})


@login_required
def archive(request, pk):
    p = _pairing(request, pk, "linking.view_pairingmessage")
    return render(request, "linking/archive.html", {"pairing": p, **selectors.archive_of(user=request.user, pairing=p),
                                                    "summary": services.archive_summary(p),
                                                    "open_items": services.open_items(p)})


@login_required
def handover(request, pk):
    post = access_object(LiaisonPost.objects.select_related("pairing", "holder"), request.user,
                         "linking.change_liaisonpost", pk=pk)
    items = services.open_items(post.pairing)
    form = forms.HandoverForm(request.POST or None, items=items)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        notes = {item["key"]: d.get(f"note_{item['key']}", "") for item in items}
        try:
            services.post_handover(actor=request.user, post=post, incoming=_user(d["incoming"], "incoming"),
                                   summary=d["summary"], notes=notes)
        except ValidationError as exc:
            add_validation_errors(form, exc)
        except PermissionDenied as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Handed over. The archive stays with the post."))
            return redirect("linking:archive", pk=post.pairing_id)
    return render(request, "linking/handover.html", {"post": post, "form": form, "items": items,
                                                     "summary": services.archive_summary(post.pairing)})


# ---------------------------------------------------------------------------------------------
# needs and projects


@login_required
def need(request, pk):
    n = access_object(NeedItem.objects.select_related("pairing", "place", "case"), request.user,
                      "linking.view_needitem", pk=pk)
    user = request.user
    candidates = services.candidates_for(actor=user, need=n) if has_perm_anywhere(user, "linking.view_resourceitem") else []
    return render(request, "linking/need.html", {
        "need": n, "candidates": candidates, "check_form": forms.CheckForm(),
        "confirm_form": forms.ConfirmForm(departments=_departments(n.county_id)),
        "can_act": services.acting_side(user, n.pairing) is not None and can(user, "linking.change_needitem", n),
        "projects": n.projects.all()})


@login_required
@require_POST
def need_do(request, pk, action):
    perm = {"check": "linking.change_needitem", "confirm": "linking.add_project"}.get(action)
    if perm is None:
        raise Http404
    n = access_object(NeedItem.objects.select_related("pairing"), request.user, perm, pk=pk)
    try:
        if action == "check":
            form = forms.CheckForm(request.POST)
            if form.is_valid():
                services.need_check(actor=request.user, need=n, **form.cleaned_data)
                messages.success(request, _("Feasibility recorded."))
        else:
            form = forms.ConfirmForm(request.POST, departments=_departments(n.county_id))
            if form.is_valid():
                d = form.cleaned_data
                resource = ResourceItem.objects.visible_to(request.user, "linking.view_resourceitem").filter(
                    pk=d["resource"]).first()
                if resource is None:
                    raise ValidationError({"resource": "请选择一项资源"})
                tasks = []
                if d["task_title"]:
                    if not d["task_due"] or not d["task_assignee"]:
                        raise ValidationError({"task_due": "任务请写明责任人和完成时限"})
                    tasks.append({"title": d["task_title"], "assignee_name": d["task_assignee"], "due_on": d["task_due"],
                                  "department": Department.objects.filter(pk=d["task_department"]).first()})
                project = services.project_confirm(actor=request.user, need=n, resource=resource,
                                                   quantity=d["quantity"], title=d["title"], tasks=tasks)
                messages.success(request, _("Match confirmed: the project is set up."))
                return redirect("linking:project", pk=project.pk)
        if not form.is_valid():
            for errors in form.errors.values():
                for message in errors:
                    messages.error(request, message)
    except ValidationError as exc:
        _flash(request, exc)
    return redirect("linking:need", pk=n.pk)


@login_required
def project(request, pk):
    p = access_object(Project.objects.select_related("pairing", "need", "resource"), request.user,
                      "linking.view_project", pk=pk)
    departments = _departments(p.county_id)
    return render(request, "linking/project.html", {
        "project": p, "tasks": p.tasks.select_related("department"), "task_form": forms.TaskForm(departments=departments),
        "outcome_form": forms.OutcomeForm(),
        "can_act": services.acting_side(request.user, p.pairing) is not None and can(request.user, "linking.change_project", p)})


@login_required
@require_POST
def project_do(request, pk, action):
    if action not in ("task", "progress", "complete"):
        raise Http404
    p = access_object(Project.objects.select_related("pairing"), request.user, "linking.change_project", pk=pk)
    try:
        if action == "task":
            form = forms.TaskForm(request.POST, departments=_departments(p.county_id))
            if form.is_valid():
                d = form.cleaned_data
                d["department"] = Department.objects.filter(pk=d["department"]).first() if d["department"] else None
                services.task_add(actor=request.user, project=p, **d)
        elif action == "progress":
            form = forms.ProgressForm(request.POST)
            if form.is_valid():
                task = access_object(ProjectTask.objects.filter(project=p), request.user, "linking.change_project",
                                     pk=form.cleaned_data["task"])
                services.task_progress(actor=request.user, task=task, progress=form.cleaned_data["progress"],
                                       note=form.cleaned_data["note"])
        else:
            form = forms.OutcomeForm(request.POST)
            if form.is_valid():
                services.project_complete(actor=request.user, project=p, outcome=form.cleaned_data["outcome"])
                messages.success(request, _("Project completed: the need is met."))
        if not form.is_valid():
            for errors in form.errors.values():
                for message in errors:
                    messages.error(request, message)
    except ValidationError as exc:
        _flash(request, exc)
    return redirect("linking:project", pk=p.pk)


# ---------------------------------------------------------------------------------------------
# activities


@login_required
def activity(request, pk):
    a = access_object(Activity.objects.select_related("pairing", "project", "follow_up_of"), request.user,
                      "linking.view_activity", pk=pk)
    user = request.user
    return render(request, "linking/activity.html", {
        "activity": a, "attendance": a.attendance.all(), "evaluations": a.evaluations.select_related("evaluator"),
        "survey": selectors.activity_survey_summary(a), "survey_open": services.survey_open(a),
        "comments": a.survey_responses.exclude(comment="")[:50],
        "attend_form": forms.AttendanceForm(), "hold_form": forms.HoldForm(),
        "evaluation_form": forms.EvaluationForm(initial={"by_side": services.acting_side(user, a.pairing) or Side.PARTNER}),
        "can_act": services.acting_side(user, a.pairing) is not None and can(user, "linking.change_activity", a),
        "follow_ups": a.follow_ups.all()})


@login_required
@require_POST
def activity_do(request, pk, action):
    perms = {"attend": "linking.change_activity", "left": "linking.change_activity", "hold": "linking.change_activity",
             "cancel": "linking.change_activity", "evaluate": "linking.add_evaluation"}
    if action not in perms:
        raise Http404
    a = access_object(Activity.objects.select_related("pairing"), request.user, perms[action], pk=pk)
    user, post = request.user, request.POST
    form = None
    try:
        if action == "attend":
            form = forms.AttendanceForm(post)
            if form.is_valid():
                services.attendance_record(actor=user, activity=a, **form.cleaned_data)
        elif action == "left":
            form = forms.LeftForm(post)
            if form.is_valid():
                row = a.attendance.filter(pk=form.cleaned_data["attendance"]).first()
                if row is None:
                    raise ValidationError({"attendance": "请选择参加者"})
                row = services.attendance_left(actor=user, attendance=row, left_at=form.cleaned_data["left_at"])
                if row.left_early:
                    messages.warning(request, _("Noted as leaving early."))
        elif action == "hold":
            form = forms.HoldForm(post)
            if form.is_valid():
                services.activity_hold(actor=user, activity=a, **form.cleaned_data)
                messages.success(request, _("Activity recorded. Residents can answer the survey now."))
        elif action == "cancel":
            services.activity_cancel(actor=user, activity=a, reason=post.get("reason", ""))
        else:
            form = forms.EvaluationForm(post)
            if form.is_valid():
                services.evaluation_record(actor=user, activity=a, **form.cleaned_data)
                messages.success(request, _("Evaluation recorded."))
        if form is not None and not form.is_valid():
            for errors in form.errors.values():
                for message in errors:
                    messages.error(request, message)
    except ValidationError as exc:
        _flash(request, exc)
    except PermissionDenied as exc:
        messages.error(request, str(exc))
    return redirect("linking:activity", pk=a.pk)


# ---------------------------------------------------------------------------------------------
# plans and approvals


@login_required
def plan(request, pk):
    p = access_object(Plan.objects.select_related("pairing"), request.user, "linking.view_plan", pk=pk)
    responses = {r.feedback_id: r for r in p.responses.all()}
    awaiting = list(services.feedback_awaiting(p.pairing).select_related("activity")) if p.status == PlanStatus.DRAFT else []
    return render(request, "linking/plan.html", {
        "plan": p, "awaiting": awaiting, "responses": responses,
        "answered": p.responses.select_related("feedback"),
        "earlier": p.pairing.plans.filter(status=PlanStatus.ADOPTED).exclude(pk=p.pk)[:5],
        "can_act": p.status == PlanStatus.DRAFT and services.acting_side(request.user, p.pairing) is not None
        and can(request.user, "linking.change_plan", p)})


@login_required
@require_POST
def plan_do(request, pk, action):
    if action not in ("respond", "adopt"):
        raise Http404
    p = access_object(Plan.objects.select_related("pairing"), request.user, "linking.change_plan", pk=pk)
    try:
        if action == "respond":
            responses = {}
            for key, value in request.POST.items():
                if key.startswith("response_") and value.strip():
                    feedback_id = _int(key.removeprefix("response_"))
                    if feedback_id:
                        responses[feedback_id] = (request.POST.get(f"taken_{feedback_id}") == "1", value)
            if not responses:
                raise ValidationError({"responses": "请至少对一条意见写明如何吸纳"})
            services.plan_respond(actor=request.user, plan=p, responses=responses)
            messages.success(request, _("Responses saved."))
        else:
            services.plan_adopt(actor=request.user, plan=p)
            messages.success(request, _("Plan adopted."))
    except ValidationError as exc:
        _flash(request, exc)
    return redirect("linking:plan", pk=p.pk)


@login_required
def approval(request, pk):
    a = access_object(ApprovalRequest.objects.select_related("pairing", "requested_by", "decided_by", "project"),
                      request.user, "linking.view_approvalrequest", pk=pk)
    return render(request, "linking/approval.html", {
        "approval": a, "form": forms.DecideForm(), "now": timezone.now(),
        "can_decide": a.status == "pending" and can(request.user, "linking.decide_approvalrequest", a)
        and a.requested_by_id != request.user.pk})


@login_required
@require_POST
def approval_decide(request, pk):
    a = access_object(ApprovalRequest.objects.all(), request.user, "linking.decide_approvalrequest", pk=pk)
    form = forms.DecideForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError({"approve": "请选择同意或不同意"})
        services.approval_decide(actor=request.user, approval=a, **form.cleaned_data)
        messages.success(request, _("Decided."))
    except ValidationError as exc:
        _flash(request, exc)
    except PermissionDenied as exc:
        messages.error(request, str(exc))
    return redirect("linking:approval", pk=a.pk)


# ---------------------------------------------------------------------------------------------
# 535 links, grades, coverage


def _link_regions(user):
    return Region.objects.visible_to(user, "linking.add_link").filter(level__in=[RegionLevel.TOWN, RegionLevel.VILLAGE]).order_by("code")[:2000]


@login_required
def links(request):
    user = request.user
    require_perm(user, "linking.view_link")
    kind = request.GET.get("kind") or None
    if kind and kind not in LinkKind.values:
        kind = None
    coverage = selectors.coverage(user=user)
    can_add = has_perm_anywhere(user, "linking.add_link")
    county_ids = Region.objects.visible_to(user, "linking.view_link").values("county_id")
    return render(request, "linking/links.html", {
        "links": selectors.links_for(user=user, kind=kind)[:300], "kind": kind, "kinds": LinkKind.choices,
        "coverage": {name: list(qs.order_by("code")[:50]) for name, qs in coverage.items()},
        "coverage_counts": {name: qs.count() for name, qs in coverage.items()},
        "form": forms.LinkForm(regions=_link_regions(user), departments=Department.objects.filter(county_id__in=county_ids))
        if can_add else None,
        "grade_form": forms.GradeForm(villages=Region.objects.visible_to(user, "linking.add_villagegrade")
                                      .filter(level=RegionLevel.VILLAGE).order_by("code")[:2000])
        if has_perm_anywhere(user, "linking.add_villagegrade") else None,
        "grades": VillageGrade.objects.visible_to(user, "linking.view_villagegrade").select_related("region")
        .exclude(grade="ordinary")[:200]})


@login_required
@require_POST
def link_new(request):
    require_perm(request.user, "linking.add_link")
    user = request.user
    form = forms.LinkForm(request.POST, regions=_link_regions(user),
                          departments=Department.objects.filter(county_id__in=Region.objects.visible_to(
                              user, "linking.add_link").values("county_id")))
    try:
        if not form.is_valid():
            raise ValidationError({k: v for k, v in form.errors.items()})
        d = form.cleaned_data
        person = _person(user, d["from_person"]) if d["from_person"] else None
        if d["from_person"] and person is None:
            raise ValidationError({"from_person": "找不到该人员（或您无权查看）"})
        link = services.link_create(
            actor=user, kind=d["kind"], to_region=Region.objects.get(pk=d["to_region"]), started_on=d["started_on"],
            from_person=person, from_post=d["from_post"],
            from_department=Department.objects.filter(pk=d["from_department"]).first() if d["from_department"] else None,
            from_region=Region.objects.filter(pk=d["from_region"]).first() if d["from_region"] else None,
            note=d["note"])
    except ValidationError as exc:
        _flash(request, exc)
        return redirect("linking:links")
    messages.success(request, _("Link recorded."))
    return redirect("linking:link", pk=link.pk)


@login_required
def link(request, pk):
    row = access_object(Link.objects.select_related("from_person", "from_department", "from_region", "to_region"),
                        request.user, "linking.view_link", pk=pk)
    return render(request, "linking/link.html", {
        "link": row, "activities": row.activities.select_related("recorded_by")[:100],
        "form": forms.LinkActivityForm(initial={"held_on": timezone.localdate()}),
        "can_record": can(request.user, "linking.add_linkactivity", row),
        "can_end": can(request.user, "linking.change_link", row) and not row.ended_on})


@login_required
@require_POST
def link_do(request, pk, action):
    perm = {"activity": "linking.add_linkactivity", "end": "linking.change_link"}.get(action)
    if perm is None:
        raise Http404
    row = access_object(Link.objects.all(), request.user, perm, pk=pk)
    try:
        if action == "activity":
            form = forms.LinkActivityForm(request.POST)
            if not form.is_valid():
                raise ValidationError({k: v for k, v in form.errors.items()})
            services.link_activity_record(actor=request.user, link=row, **form.cleaned_data)
        else:
            services.link_end(actor=request.user, link=row, reason=request.POST.get("reason", ""))
    except ValidationError as exc:
        _flash(request, exc)
    return redirect("linking:link", pk=row.pk)


@login_required
@require_POST
def grade(request):
    require_perm(request.user, "linking.add_villagegrade")
    form = forms.GradeForm(request.POST, villages=Region.objects.visible_to(request.user, "linking.add_villagegrade")
                           .filter(level=RegionLevel.VILLAGE))
    try:
        if not form.is_valid():
            raise ValidationError({k: v for k, v in form.errors.items()})
        d = form.cleaned_data
        services.village_grade_set(actor=request.user, region=Region.objects.get(pk=d["region"]), grade=d["grade"],
                                   reason=d["reason"])
        messages.success(request, _("Grade saved."))
    except ValidationError as exc:
        _flash(request, exc)
    return redirect("linking:links")


# ---------------------------------------------------------------------------------------------
# industry alliances


@login_required
def alliances(request):
    user = request.user
    require_perm(user, "linking.view_alliance")
    form = None
    if has_perm_anywhere(user, "linking.add_alliance"):
        regions = Region.objects.visible_to(user, "linking.add_alliance").filter(
            level__in=[RegionLevel.COUNTY, RegionLevel.TOWN]).order_by("code")
        form = forms.AllianceForm(request.POST or None, regions=regions)
        if request.method == "POST":
            try:
                if not form.is_valid():
                    raise ValidationError({k: v for k, v in form.errors.items()})
                d = form.cleaned_data
                d["region"] = Region.objects.get(pk=d["region"])
                alliance = services.alliance_create(actor=user, **d)
                return redirect("linking:alliance", pk=alliance.pk)
            except ValidationError as exc:
                add_validation_errors(form, exc)
    elif request.method == "POST":
        raise PermissionDenied
    rows = Alliance.objects.visible_to(user, "linking.view_alliance").prefetch_related("members", "operations")
    shares = (ResourceShare.objects.visible_to(user, "linking.view_resourceshare")
              .select_related("from_region", "to_region")[:100])
    share_form = forms.ShareForm(villages=_share_villages(user)) if has_perm_anywhere(user, "linking.add_resourceshare") else None
    return render(request, "linking/alliances.html", {"alliances": rows[:100], "form": form, "shares": shares,
                                                      "share_form": share_form})


def _share_villages(user):
    """The villages a share may join: any of the user's county (a share crosses village lines)."""
    counties = Region.objects.visible_to(user, "linking.add_resourceshare").values("county_id")
    return Region.objects.filter(county_id__in=counties, level=RegionLevel.VILLAGE).order_by("code")[:2000]


@login_required
@require_POST
def share_new(request):
    """资源联享: information, capital or people shared between villages."""
    user = request.user
    require_perm(user, "linking.add_resourceshare")
    form = forms.ShareForm(request.POST, villages=_share_villages(user))
    try:
        if not form.is_valid():
            raise ValidationError({k: v for k, v in form.errors.items()})
        d = form.cleaned_data
        d["from_region"], d["to_region"] = Region.objects.get(pk=d["from_region"]), Region.objects.get(pk=d["to_region"])
        services.resource_share_record(actor=user, **d)
        messages.success(request, _("Saved."))
    except ValidationError as exc:
        _flash(request, exc)
    return redirect("linking:alliances")


@login_required
def alliance(request, pk):
    a = access_object(Alliance.objects.all(), request.user, "linking.view_alliance", pk=pk)
    villages = Region.objects.filter(county_id=a.county_id, level=RegionLevel.VILLAGE).order_by("code")
    return render(request, "linking/alliance.html", {
        "alliance": a, "members": a.members.all(), "operations": a.operations.all(),
        "member_form": forms.MemberForm(villages=villages), "operation_form": forms.OperationForm(),
        "can_change": can(request.user, "linking.change_alliance", a)})


@login_required
@require_POST
def alliance_do(request, pk, action):
    if action not in ("member", "operation"):
        raise Http404
    a = access_object(Alliance.objects.all(), request.user, "linking.change_alliance", pk=pk)
    try:
        if action == "member":
            form = forms.MemberForm(request.POST, villages=Region.objects.filter(county_id=a.county_id,
                                                                              level=RegionLevel.VILLAGE))
            if not form.is_valid():
                raise ValidationError({k: v for k, v in form.errors.items()})
            d = form.cleaned_data
            d["member_region"] = Region.objects.filter(pk=d["member_region"]).first() if d["member_region"] else None
            services.alliance_member_add(actor=request.user, alliance=a, **d)
        else:
            form = forms.OperationForm(request.POST)
            if not form.is_valid():
                raise ValidationError({k: v for k, v in form.errors.items()})
            services.alliance_operation_record(actor=request.user, alliance=a, **form.cleaned_data)
    except ValidationError as exc:
        _flash(request, exc)
    return redirect("linking:alliance", pk=a.pk)


# ---------------------------------------------------------------------------------------------
# 镇村工作一体化


def _year(request) -> int:
    year = _int(request.GET.get("year"))
    return year if year and 2000 <= year <= 2100 else timezone.localdate().year


@login_required
def integration(request, pk):
    town = _region(request, pk, "linking.view_keytask", RegionLevel.TOWN)
    year = _year(request)
    rows = selectors.integration_overview(user=request.user, town=town, year=year)
    return render(request, "linking/integration.html", {"town": town, "year": year, "rows": rows,
                                                        "totals": selectors.integration_totals(rows)})


@login_required
def integration_village(request, pk):
    village = _region(request, pk, "linking.view_keytask", RegionLevel.VILLAGE)
    user, year = request.user, _year(request)
    team = selectors.team_of(user=user, region=village, year=year)
    members = []
    if team is not None:
        members = list(team.members.select_related("person").order_by("role", "id"))
        days = dict(team.members.values_list("pk").annotate(d=Sum("days__days")).values_list("pk", "d"))
        for m in members:
            m.days_total = days.get(m.pk) or 0
    return render(request, "linking/integration_village.html", {
        "village": village, "year": year, "tasks": selectors.key_tasks_of(user=user, region=village, year=year),
        "team": team, "members": members, "task_form": forms.KeyTaskForm(), "team_form": forms.TeamForm(),
        "can_set": can(user, "linking.add_keytask", village), "can_report": can(user, "linking.change_keytask", village),
        "can_station": can(user, "linking.add_workteam", village), "can_days": can(user, "linking.change_workteam", village),
        "today": timezone.localdate()})


@login_required
@require_POST
def integration_do(request, pk, action):
    perms = {"task": "linking.add_keytask", "report": "linking.change_keytask", "team": "linking.add_workteam",
             "day": "linking.change_workteam"}
    if action not in perms:
        raise Http404
    village = _region(request, pk, perms[action], RegionLevel.VILLAGE)
    user, year = request.user, _year(request)
    try:
        if action == "task":
            form = forms.KeyTaskForm(request.POST)
            if not form.is_valid():
                raise ValidationError({k: v for k, v in form.errors.items()})
            d = form.cleaned_data
            services.key_task_set(actor=user, region=village, year=d["due_on"].year, **d)
        elif action == "report":
            form = forms.KeyTaskReportForm(request.POST)
            if not form.is_valid():
                raise ValidationError({k: v for k, v in form.errors.items()})
            task = access_object(KeyTask.objects.filter(region=village), user, "linking.change_keytask",
                                 pk=form.cleaned_data["task"])
            services.key_task_report(actor=user, task=task, amount=form.cleaned_data["amount"],
                                     note=form.cleaned_data["note"])
        elif action == "team":
            form = forms.TeamForm(request.POST)
            if not form.is_valid():
                raise ValidationError({k: v for k, v in form.errors.items()})
            d = form.cleaned_data
            ids = [_int(x) for x in d["members"].replace("，", ",").split(",") if x.strip()]
            if None in ids:
                raise ValidationError({"members": "成员请填写登记编号，用逗号分隔"})
            people = {p.pk: p for p in Person.objects.visible_to(user, "registry.view_person").filter(
                pk__in=[d["town_leader"], d["leader"], *ids])}
            missing = [i for i in [d["town_leader"], d["leader"], *ids] if i not in people]
            if missing:
                raise ValidationError({"members": f"找不到登记编号为{missing[0]}的人员（或您无权查看）"})
            services.work_team_station(actor=user, region=village, year=year, town_leader=people[d["town_leader"]],
                                       town_leader_post=d["town_leader_post"], leader=people[d["leader"]],
                                       leader_post=d["leader_post"], members=[(people[i], "") for i in ids])
        else:
            form = forms.StationDayForm(request.POST)
            if not form.is_valid():
                raise ValidationError({k: v for k, v in form.errors.items()})
            member = access_object(WorkTeamMember.objects.filter(team__region=village), user,
                                   "linking.change_workteam", pk=form.cleaned_data["member"])
            services.station_day_record(actor=user, member=member, on=form.cleaned_data["on"],
                                        days=form.cleaned_data["days"], work=form.cleaned_data["work"])
        messages.success(request, _("Saved."))
    except ValidationError as exc:
        _flash(request, exc)
    return redirect(f"{reverse('linking:integration_village', kwargs={'pk': village.pk})}?year={year}")


# ---------------------------------------------------------------------------------------------
# settings


@login_required
def settings_page(request, pk):
    county = _region(request, pk, "linking.change_linkingsettings", RegionLevel.COUNTY)
    row = LinkingSettings.objects.filter(county=county).first() or LinkingSettings(county_id=county.pk)
    form = forms.SettingsForm(request.POST or None, instance=row)
    if request.method == "POST" and form.is_valid():
        try:
            services.linking_settings_save(actor=request.user, county=county,
                                           **{f: form.cleaned_data[f] for f in services.SETTINGS_FIELDS})
        except ValidationError as exc:
            add_validation_errors(form, exc)
        else:
            messages.success(request, _("Settings saved."))
            return redirect("linking:settings", pk=county.pk)
    return render(request, "linking/form.html", {"form": form, "title": _("Linking-up settings")})


# ---------------------------------------------------------------------------------------------
# 在职党员进社区报到


@login_required
def members(request, pk):
    """The in-service party members living in a community: who has reported, their service."""
    village = _region(request, pk, "linking.view_memberreport", RegionLevel.VILLAGE)
    user = request.user
    if request.method == "POST":
        if not can(user, "linking.add_memberreport", village):
            raise PermissionDenied
        action = request.POST.get("action")
        try:
            if action == "report":
                form = forms.MemberReportForm(request.POST)
                if not form.is_valid():
                    raise ValidationError({k: v for k, v in form.errors.items()})
                membership = reporting.should_report(user=user, region=village).filter(
                    pk=form.cleaned_data["membership"]).first()
                if membership is None:
                    raise ValidationError({"membership": "请选择本社区的在职党员"})
                reporting.member_report(actor=user, membership=membership, pledge=form.cleaned_data["pledge"])
            elif action == "service":
                form = forms.MemberServiceForm(request.POST)
                if not form.is_valid():
                    raise ValidationError({k: v for k, v in form.errors.items()})
                report = reporting.reports_of(user=user, region=village).filter(pk=form.cleaned_data["report"]).first()
                if report is None:
                    raise ValidationError({"report": "请选择已报到的党员"})
                reporting.member_service_record(actor=user, report=report, on=form.cleaned_data["on"],
                                                hours=form.cleaned_data["hours"], work=form.cleaned_data["work"])
            else:
                raise ValidationError({"action": "未知的操作"})
            messages.success(request, _("Saved."))
        except ValidationError as exc:
            _flash(request, exc)
        return redirect("linking:members", pk=village.pk)
    return render(request, "linking/members.html", {
        "village": village,
        "should": reporting.should_report(user=user, region=village) if has_perm_anywhere(user, "registry.view_partymembership") else [],
        "reports": reporting.reports_of(user=user, region=village),
        "can_record": can(user, "linking.add_memberreport", village), "today": timezone.localdate()})
