"""Staff pages of the village layer: parse input → call a selector or service → render.

Out of scope is 404 and no permission at all is 403 (``gongzhi.core.scoping``). A refused write
(``ValidationError`` from a service, in Chinese) is shown on the page it came from and nothing is
saved: every service is one transaction.
"""
from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from gongzhi.cases.models import Case, CaseStatus
from gongzhi.core.forms import add_validation_errors, flash_validation_errors, validation_messages
from gongzhi.core.pagination import paginate
from gongzhi.intake.duplicates import clusters
from gongzhi.core.scoping import access_object, can, has_perm_anywhere, require_perm
from gongzhi.registry.models import Person, PersonStatus, Region, RegionLevel

from . import forms, selectors, services
from . import quorum as q
from . import workflow
from .models import (
    AgendaItem, Attendance, AttendanceStatus, Ballot, BallotKind, Body, BodyMember, Choice, Decision, DecisionEntry,
    DecisionTask, Duty, DutyList, MeetingAttachment,
    DutyListKind, ItemMode, Matter, Meeting, MeetingKind, MeetingStatus, Poll, PollStatus, PublicityItem,
)


# Shown the same way on every page (gongzhi.core.forms).
_errors, _add_errors, _flash = validation_messages, add_validation_errors, flash_validation_errors


def _village(request, pk: int, perm: str = "village.view_meeting") -> Region:
    village = access_object(Region.objects.all(), request.user, perm, pk=pk)
    if village.level != RegionLevel.VILLAGE:
        raise Http404
    return village


def _residents(user, village: Region):
    """The village's residents the user may read (the registry's own scope): the people a form
    may name, and the only ones a posted id or name is looked up among."""
    return (Person.objects.visible_to(user, "registry.view_person")
            .filter(village_id=village.pk, status=PersonStatus.ACTIVE).order_by("name"))


def _resident(user, village: Region, pk) -> Person | None:
    pk = _int(pk)
    return _residents(user, village).filter(pk=pk).first() if pk else None


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


# ---------------------------------------------------------------------------------------------
# start page and village overview


@login_required
def home(request):
    user = request.user
    require_perm(user, "village.view_meeting")
    villages = list(selectors.villages_for(user=user)[:200])
    if len(villages) == 1:
        return redirect("village:village", pk=villages[0].pk)
    context = {
        "villages": villages,
        "terms": selectors.terms_ending(user=user)[:20] if has_perm_anywhere(user, "village.view_body") else [],
        "overdue": selectors.overdue_tasks(user=user)[:20] if has_perm_anywhere(user, "village.view_decisiontask") else [],
        "flags": selectors.publicity_flags(user=user)[:20] if has_perm_anywhere(user, "village.view_publicityflag") else [],
    }
    return render(request, "village/home.html", context)


@login_required
def village(request, pk):
    region = _village(request, pk)
    user = request.user
    context = {
        "region": region,
        "bodies": selectors.bodies_of(user=user, region=region) if has_perm_anywhere(user, "village.view_body") else [],
        "meetings": selectors.meetings_of(user=user, region=region)[:10],
        "waiting": selectors.waiting_items(user=user, region=region)[:30]
        if has_perm_anywhere(user, "village.view_agendaitem") else [],
        "matters": selectors.matters_of(user=user, region=region).exclude(status="result_published")[:20]
        if has_perm_anywhere(user, "village.view_matter") else [],
        "decisions": selectors.decisions_of(user=user, region=region, status="in_progress")[:20],
        "can_run": can(user, "village.add_meeting", region),
        "can_steer": can(user, "village.add_matter", region),
        "can_bodies": can(user, "village.change_body", region),
        "body_form": forms.BodyForm(),
        "kinds": MeetingKind.choices,
    }
    return render(request, "village/village.html", context)


@login_required
@require_POST
def body_new(request, pk):
    region = _village(request, pk, "village.add_body")
    form = forms.BodyForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Please fill in the body's kind, name and term."))
    else:
        try:
            body = services.body_create(actor=request.user, region=region, **form.cleaned_data)
        except ValidationError as exc:
            _flash(request, exc)
        else:
            messages.success(request, _("%(name)s added.") % {"name": body.name})
    return redirect("village:village", pk=region.pk)


@login_required
def body(request, pk):
    found = access_object(Body.objects.select_related("region"), request.user, "village.view_body", pk=pk)
    form = forms.MemberForm(request.POST or None, people=_residents(request.user, found.region)[:2000])
    if request.method == "POST":
        if form.is_valid():
            person = _resident(request.user, found.region, form.cleaned_data["person"])
            try:
                services.body_member_add(actor=request.user, body=found, person=person, post=form.cleaned_data["post"])
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                messages.success(request, _("Member added."))
                return redirect("village:body", pk=found.pk)
    members = (BodyMember.objects.visible_to(request.user, "village.view_bodymember").filter(body=found)
               .select_related("person").order_by("ended_on", "post", "id"))
    return render(request, "village/body.html", {"body": found, "members": members, "form": form,
                                                 "can_change": can(request.user, "village.change_body", found)})


@login_required
@require_POST
def member_end(request, pk):
    member = access_object(BodyMember.objects.all(), request.user, "village.change_body", pk=pk)
    try:
        services.body_member_end(actor=request.user, member=member, reason=request.POST.get("reason", ""))
    except ValidationError as exc:
        _flash(request, exc)
    return redirect("village:body", pk=member.body_id)


# ---------------------------------------------------------------------------------------------
# agenda: cases of the village, one click (or a cluster) to an agenda item


@login_required
def cases(request, pk):
    """The village's open cases, grouped by category: tick one or a cluster of similar ones and
    put them on the agenda as one item."""
    region = _village(request, pk, "village.add_agendaitem")
    user = request.user
    open_cases = (Case.objects.visible_to(user, "cases.view_case").filter(village_id=region.pk)
                  .exclude(status=CaseStatus.CLOSED).select_related("category").order_by("category__name", "-received_at"))
    if request.method == "POST":
        ids = [i for i in (_int(v) for v in request.POST.getlist("cases")) if i]
        chosen = list(open_cases.filter(pk__in=ids))
        if not chosen or len(chosen) != len(set(ids)):
            messages.error(request, _("Choose one or more of the village's open cases."))
        else:
            try:
                item = services.agenda_item_from_cases(actor=user, cases=chosen, title=request.POST.get("title", ""),
                                                       mode=request.POST.get("mode", ItemMode.DECIDE))
            except ValidationError as exc:
                _flash(request, exc)
            else:
                messages.success(request, _("“%(title)s” is on the list of agenda items.") % {"title": item.title})
                return redirect("village:village", pk=region.pk)
    groups: dict[str, list] = {}
    for case in open_cases[:300]:
        groups.setdefault(case.category.name if case.category_id else "—", []).append(case)
    # Repeated matters (the same category raised three times or more from one place in 90 days):
    # each is offered as one agenda item in one tap.
    # Cases already on an agenda item are not offered again.
    on_agenda = set(AgendaItem.objects.filter(region=region, cases__isnull=False).values_list("cases", flat=True))
    similar = []
    for cluster in clusters(user=user, region=region, limit=10, with_cases=20):
        cluster.open_cases = [x for x in cluster.cases if x.status != CaseStatus.CLOSED and x.pk not in on_agenda]
        if len(cluster.open_cases) >= 2:
            similar.append(cluster)
    chosen = _int(request.GET.get("case"))
    return render(request, "village/cases.html", {"region": region, "groups": groups, "modes": ItemMode.choices,
                                                  "similar": similar, "chosen": chosen})


@login_required
def item_new(request, pk):
    region = _village(request, pk, "village.add_agendaitem")
    records = _contact_records(request.user, region)
    form = forms.ItemForm(request.POST or None, residents=_residents(request.user, region)[:2000], records=records,
                          initial={"contact_record": _int(request.GET.get("contact"))})
    if request.method == "POST" and form.is_valid():
        d = dict(form.cleaned_data)
        d["proposer"] = _resident(request.user, region, d["proposer"])
        d["contact_record"] = next((r for r in records if r.pk == d["contact_record"]), None)
        try:
            services.agenda_item_create(actor=request.user, region=region, **d)
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("Agenda item added."))
            return redirect("village:village", pk=region.pk)
    return render(request, "village/form.html", {"region": region, "form": form, "title": _("New agenda item")})


def _contact_records(user, region: Region) -> list:
    """The village's recent contact records the user may read (three-line and grid work), newest first."""
    from gongzhi.care.models import ContactRecord

    if not has_perm_anywhere(user, "care.view_contactrecord"):
        return []
    return list(ContactRecord.objects.visible_to(user, "care.view_contactrecord").filter(village_id=region.pk)
                .select_related("household").order_by("-contacted_at")[:50])


# ---------------------------------------------------------------------------------------------
# meetings


@login_required
def meeting_new(request, pk):
    region = _village(request, pk, "village.add_meeting")
    waiting = list(selectors.waiting_items(user=request.user, region=region)[:50])
    form = forms.MeetingForm(request.POST or None, waiting=waiting, initial={"kind": request.GET.get("kind", "")})
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        items = [i for i in waiting if str(i.pk) in d["items"]]
        try:
            meeting = services.meeting_schedule(actor=request.user, region=region, kind=d["kind"], title=d["title"],
                                                scheduled_at=d["scheduled_at"], place=d["place"], items=items)
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            return redirect("village:meeting", pk=meeting.pk)
    return render(request, "village/form.html", {"region": region, "form": form, "title": _("Call a meeting")})


def _meeting_context(request, meeting: Meeting, **extra) -> dict:
    state = selectors.meeting_state(user=request.user, meeting=meeting)
    can_run = can(request.user, "village.run_meeting", meeting)
    residents = []
    if can_run and meeting.status == MeetingStatus.OPEN and meeting.kind not in q.FORMAL_KINDS:
        on_roll = {a.person_id for a in state.roll}
        residents = list(_residents(request.user, meeting.region).exclude(pk__in=on_roll)[:500])
    return {
        "meeting": meeting, "state": state, "items": state.agenda, "can_run": can_run,
        "formal": meeting.kind in q.FORMAL_KINDS, "statuses": AttendanceStatus.choices,
        "poll_form": forms.PollForm(items=state.agenda), "speech_form": forms.SpeechForm(),
        "close_form": forms.CloseForm(), "speeches": state.speeches, "residents": residents,
        "attachments": MeetingAttachment.objects.visible_to(request.user, "village.view_meetingattachment")
        .filter(meeting=meeting), **extra,
    }


@login_required
def meeting(request, pk):
    found = access_object(Meeting.objects.select_related("region", "grid"), request.user, "village.view_meeting", pk=pk)
    return render(request, "village/meeting.html", _meeting_context(request, found))


MEETING_ACTIONS = ("notify", "open", "attendance", "add", "speech", "poll", "close", "attach", "cancel")


@login_required
@require_POST
def meeting_do(request, pk, action):
    """One form on the meeting page (notice, opening, roll, a speech, a vote, closing)."""
    if action not in MEETING_ACTIONS:
        raise Http404
    user = request.user
    found = access_object(Meeting.objects.select_related("region"), user, "village.run_meeting", pk=pk)
    post = request.POST
    try:
        if action == "notify":
            told = services.meeting_notify(actor=user, meeting=found)
            messages.success(request, _("Notice sent to %(n)d people.") % {"n": told})
        elif action == "open":
            services.meeting_open(actor=user, meeting=found)
        elif action == "attendance":
            marks, proxies = {}, {}
            if post.get("everyone"):  # 全部到会: the clerk then marks the exceptions
                marks = {a.person_id: AttendanceStatus.PRESENT for a in found.attendance.filter(
                    entitled=True, status=AttendanceStatus.ABSENT)}
            for key, value in ([] if post.get("everyone") else post.items()):
                if key.startswith("a-") and _int(key[2:]):
                    marks[int(key[2:])] = value
            for key, value in post.items():
                if key.startswith("proxy-") and _int(key[6:]) and value.strip():
                    proxy = _residents(user, found.region).filter(name=value.strip()).first()
                    if proxy is None:
                        raise ValidationError({"proxy": _("No resident called %(name)s in this village.")
                                                        % {"name": value.strip()}})
                    proxies[int(key[6:])] = proxy
            services.attendance_mark(actor=user, meeting=found, marks=marks, proxies=proxies)
            messages.success(request, _("Attendance saved."))
        elif action == "add":
            person = _resident(user, found.region, post.get("person"))
            if person is None:
                raise ValidationError({"person": _("Choose who came.")})
            services.attendance_add(actor=user, meeting=found, person=person)
        elif action == "speech":
            form = forms.SpeechForm(post)
            if not form.is_valid():
                raise ValidationError({"points": _("Fill in the speaker and their points.")})
            services.speech_record(actor=user, meeting=found, **form.cleaned_data)
        elif action == "poll":
            form = forms.PollForm(post, items=list(found.items.all()))
            if not form.is_valid():
                raise ValidationError({"question": _("Fill in the motion to vote on.")})
            d = form.cleaned_data
            item = AgendaItem.objects.filter(pk=d["item"]).first() if d["item"] else None
            poll = services.poll_open(actor=user, meeting=found, question=d["question"], ballot=d["ballot"], item=item)
            return redirect("village:poll", pk=poll.pk)
        elif action == "close":
            services.meeting_close(actor=user, meeting=found, minutes=post.get("minutes", ""))
            messages.success(request, _("The meeting is closed."))
        elif action == "attach":
            upload = request.FILES.get("file")
            if upload is None:
                raise ValidationError({"file": _("Choose a file.")})
            services.meeting_attach(actor=user, meeting=found, file=upload, name=post.get("name", ""))
        elif action == "cancel":
            services.meeting_cancel(actor=user, meeting=found, reason=post.get("reason", ""))
    except ValidationError as exc:
        _flash(request, exc)
    return redirect("village:meeting", pk=found.pk)


# ---------------------------------------------------------------------------------------------
# votes


@login_required
def poll(request, pk):
    """The ballot sheet: everyone present when the vote opened, with for / against / abstain.
    Ballots are cast in one submission (a show of hands entered at once) or several."""
    found = access_object(Poll.objects.select_related("meeting", "item"), request.user, "village.view_poll", pk=pk)
    user = request.user
    if request.method == "POST":
        require_perm(user, "village.run_meeting")
        if request.POST.get("close"):
            try:
                services.poll_close(actor=user, poll=found)
            except ValidationError as exc:
                _flash(request, exc)
            return redirect("village:poll", pk=found.pk)
        choices = {}
        for key, value in request.POST.items():
            if key.startswith("v-") and _int(key[2:]) and value in Choice.values:
                choices[int(key[2:])] = value
        try:
            cast = services.ballots_cast(actor=user, poll=found, choices=choices)
        except ValidationError as exc:
            _flash(request, exc)
        else:
            messages.success(request, _("%(n)d ballots recorded.") % {"n": cast})
        return redirect("village:poll", pk=found.pk)
    readable = Attendance.objects.visible_to(user, "village.view_attendance").filter(meeting_id=found.meeting_id)
    ballots = list(Ballot.objects.filter(poll=found, voter__in=readable).select_related("voter__person")
                   .order_by("voter__person__name"))
    found.refresh_from_db()
    return render(request, "village/poll.html", {
        "poll": found, "ballots": ballots, "choices": Choice.choices, "explain": services.poll_explain(found),
        "open": found.status == PollStatus.OPEN, "secret": found.ballot == BallotKind.SECRET,
        "cast": sum(1 for b in ballots if b.cast_at), "can_run": can(user, "village.run_meeting", found),
    })


# ---------------------------------------------------------------------------------------------
# 四议两公开


@login_required
def matter_new(request, pk):
    region = _village(request, pk, "village.add_matter")
    form = forms.MatterForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            matter = services.matter_create(actor=request.user, region=region, **form.cleaned_data)
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            return redirect("village:matter", pk=matter.pk)
    return render(request, "village/form.html", {"region": region, "form": form, "title": _("New major matter")})


@login_required
def matter(request, pk):
    found = access_object(Matter.objects.select_related("region"), request.user, "village.view_matter", pk=pk)
    user = request.user
    following = workflow.next_step(found.status)
    meetings, polls = [], []
    if following is not None and following.meeting_kinds:
        meetings = list(Meeting.objects.visible_to(user, "village.view_meeting")
                        .filter(region=found.region, kind__in=following.meeting_kinds,
                                status__in=[MeetingStatus.OPEN, MeetingStatus.CLOSED, MeetingStatus.PLANNED,
                                            MeetingStatus.NOTIFIED]).order_by("-scheduled_at")[:20])
        polls = list(Poll.objects.filter(item__matter=found, meeting__kind__in=following.meeting_kinds)
                     .order_by("-opened_at")[:20])
    step_form = forms.StepForm(initial={"step": following.name if following else ""}, meetings=meetings, polls=polls)
    decision = Decision.objects.filter(matter=found).first()
    error = workflow.step_error(following.name, found.status, services.matter_facts(found)) if following else None
    return render(request, "village/matter.html", {
        "matter": found, "path": selectors.matter_path(found), "following": following, "step_form": step_form,
        "decision": decision, "can_steer": can(user, "village.steer_matter", found), "blocked": error,
        "exemptible": found.status in workflow.EXEMPTIBLE, "exempt_form": forms.ExemptForm(),
        "cases": Case.objects.visible_to(user, "cases.view_case").filter(village_matters=found),
        "items": found.agenda_items.select_related("meeting"),
        "rejected_polls": [p for p in polls if p.result == "rejected"],
    })


@login_required
@require_POST
def matter_do(request, pk, action):
    found = access_object(Matter.objects.all(), request.user, "village.steer_matter", pk=pk)
    user, post = request.user, request.POST
    try:
        if action == "step":
            meeting = Meeting.objects.filter(pk=_int(post.get("meeting"))).first()
            poll = Poll.objects.filter(pk=_int(post.get("poll"))).first()
            services.matter_advance(actor=user, matter=found, step=post.get("step", ""), meeting=meeting, poll=poll,
                                    note=post.get("note", ""), content=post.get("content", ""))
            messages.success(request, _("Step recorded."))
        elif action == "agenda":
            meeting = access_object(Meeting.objects.all(), user, "village.add_meeting", pk=_int(post.get("meeting")) or 0)
            services.agenda_item_create(actor=user, region=found.region, title=found.title, mode=ItemMode.DECIDE,
                                        source="matter", matter=found, meeting=meeting,
                                        description=found.description)
            messages.success(request, _("The matter is on the meeting's agenda."))
        elif action == "exempt":
            services.matter_exempt(actor=user, matter=found, reason=post.get("reason", ""),
                                   content=post.get("content", ""))
        elif action == "explain":
            services.matter_explain(actor=user, matter=found, explanation=post.get("explanation", ""))
        elif action == "reject":
            poll = access_object(Poll.objects.all(), user, "village.view_poll", pk=_int(post.get("poll")) or 0)
            services.matter_reject(actor=user, matter=found, poll=poll)
        else:
            raise Http404
    except ValidationError as exc:
        _flash(request, exc)
    return redirect("village:matter", pk=found.pk)


# ---------------------------------------------------------------------------------------------
# decisions followed to the end


@login_required
def decision(request, pk):
    found = access_object(Decision.objects.select_related("region", "matter", "meeting", "responsible_body",
                                                          "responsible_person"),
                          request.user, "village.view_decision", pk=pk)
    user = request.user
    return render(request, "village/decision.html", {
        "decision": found,
        "tasks": DecisionTask.objects.visible_to(user, "village.view_decisiontask").filter(decision=found)
        .select_related("assignee"),
        "entries": DecisionEntry.objects.visible_to(user, "village.view_decisionentry").filter(decision=found),
        "task_form": forms.TaskForm(people=_residents(user, found.region)[:2000]), "note_form": forms.NoteForm(),
        "can_change": can(user, "village.change_decision", found),
        "can_supervise": can(user, "village.supervise_decision", found),
        "cases": Case.objects.visible_to(user, "cases.view_case").filter(village_decisions=found),
        "today": timezone.localdate(),
    })


@login_required
@require_POST
def decision_do(request, pk, action):
    user, post = request.user, request.POST
    perm = "village.supervise_decision" if post.get("kind") == "supervision" else "village.change_decision"
    found = access_object(Decision.objects.all(), user, perm if action == "note" else "village.change_decision", pk=pk)
    try:
        if action == "task":
            form = forms.TaskForm(post, people=_residents(user, found.region)[:2000])
            if not form.is_valid():
                raise ValidationError({"task": _("Fill in the task, who is responsible and the due date.")})
            d = form.cleaned_data
            services.task_add(actor=user, decision=found, title=d["title"], due_on=d["due_on"],
                              assignee=_resident(user, found.region, d["assignee"]))
        elif action == "progress":
            task = access_object(DecisionTask.objects.all(), user, "village.change_decision",
                                 pk=_int(post.get("task")) or 0)
            if task.decision_id != found.pk:
                raise Http404
            services.task_progress(actor=user, task=task, progress=post.get("progress"), note=post.get("note", ""))
        elif action == "note":
            services.decision_note(actor=user, decision=found, kind=post.get("kind", ""), text=post.get("text", ""),
                                   supervisor=post.get("supervisor", ""))
        elif action == "complete":
            services.decision_complete(actor=user, decision=found, note=post.get("note", ""))
        else:
            raise Http404
    except ValidationError as exc:
        _flash(request, exc)
    return redirect("village:decision", pk=found.pk)


# ---------------------------------------------------------------------------------------------
# publicity (staff side) and duty lists


@login_required
def publicity(request, pk):
    region = _village(request, pk, "village.view_publicityitem")
    user = request.user
    form = forms.PublicityForm(request.POST or None)
    if request.method == "POST":
        require_perm(user, "village.add_publicityitem")
        if form.is_valid():
            try:
                services.publicity_draft(actor=user, region=region, **form.cleaned_data)
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                messages.success(request, _("Draft saved. It is not public until published."))
                return redirect("village:publicity", pk=region.pk)
    items = PublicityItem.objects.visible_to(user, "village.view_publicityitem").filter(region=region)
    page = paginate(request, items.order_by("status", "-published_at", "-id"))
    return render(request, "village/publicity.html", {
        "region": region, "page": page, "form": form, "can_add": can(user, "village.add_publicityitem", region),
        "can_publish": can(user, "village.publish_publicityitem", region),
    })


@login_required
@require_POST
def publicity_publish(request, pk):
    item = access_object(PublicityItem.objects.all(), request.user, "village.publish_publicityitem", pk=pk)
    try:
        services.publicity_publish(actor=request.user, item=item)
    except ValidationError as exc:
        _flash(request, exc)
    else:
        messages.success(request, _("Published."))
    return redirect("village:publicity", pk=item.region_id)


@login_required
def duties(request, pk):
    region = _village(request, pk, "village.view_dutylist")
    user = request.user
    lists = list(DutyList.objects.visible_to(user, "village.view_dutylist").filter(region=region))
    bodies = list(Body.objects.filter(region=region, dissolved_on__isnull=True))
    if request.method == "POST":
        require_perm(user, "village.change_dutylist")
        kind = request.POST.get("kind", DutyListKind.RESPONSIBILITY)
        try:
            if kind not in DutyListKind.values:
                raise ValidationError({"kind": _("Choose the power list or the responsibility list.")})
            duty_list = services.duty_list_ensure(actor=user, region=region, kind=kind)
            if request.POST.get("review"):
                services.duty_list_review(actor=user, duty_list=duty_list)
                messages.success(request, _("The list is confirmed as current."))
            else:
                form = forms.DutyForm(request.POST, bodies=bodies)
                if not form.is_valid():
                    raise ValidationError({"title": _("Fill in the duty and its basis.")})
                d = form.cleaned_data
                owner = next((b for b in bodies if b.pk == d["owner"]), None)
                services.duty_add(actor=user, duty_list=duty_list, title=d["title"], basis=d["basis"],
                                  owners=[(owner, "")] if owner else [])
        except ValidationError as exc:
            _flash(request, exc)
        return redirect("village:duties", pk=region.pk)
    sections = []
    for row in lists:
        duties_ = (Duty.objects.filter(duty_list=row, removed_on__isnull=True)
                   .prefetch_related("owners__body").annotate(owner_count=Count("owners")))
        sections.append({"list": row, "duties": duties_, "problems": selectors.duty_problems(row),
                         "stale": row.review_due_on < timezone.localdate()})
    return render(request, "village/duties.html", {
        "region": region, "sections": sections, "form": forms.DutyForm(bodies=bodies),
        "kinds": DutyListKind.choices, "can_change": can(user, "village.change_dutylist", region),
    })



# ---------------------------------------------------------------------------------------------
# county settings: the quorums (the law by default) and the publicity a village must make


@login_required
def settings_page(request, pk):
    county = access_object(Region.objects.all(), request.user, "village.view_villagesettings", pk=pk)
    if county.level != RegionLevel.COUNTY:
        raise Http404
    row = q.settings_for(county.pk)
    form = forms.SettingsForm(request.POST or None, initial={name: getattr(row, name)
                                                             for name in services.SETTINGS_FIELDS})
    if request.method == "POST":
        require_perm(request.user, "village.change_villagesettings")
        if form.is_valid():
            try:
                services.village_settings_save(actor=request.user, county=county, **form.cleaned_data)
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                messages.success(request, _("Settings saved."))
                return redirect("village:settings", pk=county.pk)
    thresholds = [(label, q.Threshold.parse(getattr(row, name)).label()) for name, label in forms.SettingsForm.THRESHOLDS]
    return render(request, "village/settings.html", {
        "county": county, "form": form, "thresholds": thresholds,
        "can_change": can(request.user, "village.change_villagesettings", county),
    })
