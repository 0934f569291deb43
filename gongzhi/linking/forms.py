"""Forms of the staff pages. They parse and check types only; every rule lives in ``services``
(and comes back as a ``ValidationError`` in Chinese, shown on the form)."""
from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import (
    ActivityKind, Aim, AllianceMode, ApprovalKind, AttendeeSide, Feasibility, FeedbackChannel, JointAction, LinkKind,
    LinkingSettings, MessageKind, NeedGrade, PairingKind, Principle, Rating, ResourceKind, ShareKind, ShareMode, Side,
    UseForm,
    VillageGradeKind,
)

DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"]


def _dt(label, **kwargs):
    return forms.DateTimeField(label=label, widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
                               input_formats=DATETIME_FORMATS, **kwargs)


def _date(label, **kwargs):
    return forms.DateField(label=label, widget=forms.DateInput(attrs={"type": "date"}), **kwargs)


def _text(label, rows=3, **kwargs):
    return forms.CharField(label=label, widget=forms.Textarea(attrs={"rows": rows}), **kwargs)


class PairingForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind of pairing"), choices=PairingKind.choices)
    title = forms.CharField(label=_("Title"), max_length=200)
    lead_org = forms.TypedChoiceField(label=_("Lead party organisation"), coerce=int)
    partner_org = forms.TypedChoiceField(label=_("Community or village party organisation"), coerce=int)
    agency_department = forms.TypedChoiceField(label=_("The agency's department (for a county agency)"), coerce=int,
                                               required=False, empty_value=None)
    principles = forms.MultipleChoiceField(label=_("Principles"), choices=Principle.choices, required=False,
                                           widget=forms.CheckboxSelectMultiple)
    joint_actions = forms.MultipleChoiceField(label=_("Joint actions"), choices=JointAction.choices, required=False,
                                              widget=forms.CheckboxSelectMultiple)
    term_start = _date(_("Term starts"))
    term_end = _date(_("Term ends"))
    lead_post = forms.CharField(label=_("Lead side's liaison post"), max_length=100, initial="机关联络员")
    lead_holder = forms.CharField(label=_("Lead side's liaison (login name)"), max_length=150)
    partner_post = forms.CharField(label=_("Village side's liaison post"), max_length=100, initial="村（社区）联络员")
    partner_holder = forms.CharField(label=_("Village side's liaison (login name)"), max_length=150)

    def __init__(self, *args, leads=(), partners=(), departments=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["lead_org"].choices = [(o.pk, o.name) for o in leads]
        self.fields["partner_org"].choices = [(o.pk, o.name) for o in partners]
        self.fields["agency_department"].choices = [("", "—")] + [(d.pk, d.name) for d in departments]


class MessageForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=MessageKind.choices, initial=MessageKind.MESSAGE)
    text = _text(_("Text"))


class EndForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=200)


class ResourceForm(forms.Form):
    side = forms.ChoiceField(label=_("Offered by"), choices=Side.choices, initial=Side.LEAD)
    kind = forms.ChoiceField(label=_("Type"), choices=ResourceKind.choices)
    name = forms.CharField(label=_("Resource"), max_length=150)
    capacity = forms.IntegerField(label=_("Quantity or capacity"), min_value=1, max_value=10**9)
    unit = forms.CharField(label=_("Unit of measure"), max_length=20)
    use_form = forms.ChoiceField(label=_("Form of use"), choices=UseForm.choices)
    place = forms.TypedChoiceField(label=_("Where"), coerce=int, required=False, empty_value=None)
    conditions = forms.CharField(label=_("Conditions"), max_length=300, required=False)

    def __init__(self, *args, places=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["place"].choices = [("", _("Whole county"))] + [(r.pk, r.name) for r in places]


class NeedForm(forms.Form):
    title = forms.CharField(label=_("Need"), max_length=200)
    kind = forms.ChoiceField(label=_("Type of resource wanted"), choices=ResourceKind.choices)
    grade = forms.ChoiceField(label=_("Grade"), choices=NeedGrade.choices, widget=forms.RadioSelect,
                              initial=NeedGrade.GENERAL)
    quantity = forms.IntegerField(label=_("Quantity wanted"), min_value=1, max_value=10**9, initial=1)
    unit = forms.CharField(label=_("Unit of measure"), max_length=20, required=False)
    asked_by = forms.CharField(label=_("Asked by"), max_length=100, required=False)
    description = _text(_("Description"), required=False)
    place = forms.TypedChoiceField(label=_("Where"), coerce=int, required=False, empty_value=None)

    def __init__(self, *args, places=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["place"].choices = [("", "—")] + [(r.pk, r.name) for r in places]


class SourcedNeedForm(forms.Form):
    """One click from a case, a contact record or a meeting: only what the source cannot say."""

    pairing = forms.TypedChoiceField(label=_("Pairing"), coerce=int)
    title = forms.CharField(label=_("Need"), max_length=200)
    kind = forms.ChoiceField(label=_("Type of resource wanted"), choices=ResourceKind.choices)
    grade = forms.ChoiceField(label=_("Grade"), choices=NeedGrade.choices, initial=NeedGrade.IMPORTANT)
    quantity = forms.IntegerField(label=_("Quantity wanted"), min_value=1, max_value=10**9, initial=1)
    source = forms.CharField(widget=forms.HiddenInput)
    source_id = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args, pairings=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["pairing"].choices = [(p.pk, p.title) for p in pairings]


class ReviewForm(forms.Form):
    kind = forms.ChoiceField(choices=[("resource", "resource"), ("need", "need"), ("project", "project")])
    pk = forms.IntegerField()
    still_valid = forms.TypedChoiceField(label=_("Still valid"), coerce=lambda v: v == "1",
                                         choices=[("1", _("Still valid")), ("0", _("No longer valid"))], initial="1")
    note = forms.CharField(label=_("Note"), max_length=300, required=False)


class CheckForm(forms.Form):
    feasibility = forms.ChoiceField(label=_("Feasibility"), widget=forms.RadioSelect,
                                    choices=[c for c in Feasibility.choices if c[0] != Feasibility.PENDING])
    note = forms.CharField(label=_("Feasibility check"), max_length=300)


class ConfirmForm(forms.Form):
    resource = forms.IntegerField(widget=forms.HiddenInput)
    quantity = forms.IntegerField(label=_("Quantity to commit"), min_value=1, max_value=10**9, required=False)
    title = forms.CharField(label=_("Project title"), max_length=200, required=False)
    task_title = forms.CharField(label=_("First task"), max_length=200, required=False)
    task_assignee = forms.CharField(label=_("Responsible person"), max_length=50, required=False)
    task_due = _date(_("Due by"), required=False)
    task_department = forms.TypedChoiceField(label=_("Department"), coerce=int, required=False, empty_value=None)

    def __init__(self, *args, departments=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["task_department"].choices = [("", "—")] + [(d.pk, d.name) for d in departments]


class TaskForm(forms.Form):
    title = forms.CharField(label=_("Task"), max_length=200)
    assignee_name = forms.CharField(label=_("Responsible person"), max_length=50)
    due_on = _date(_("Due by"))
    department = forms.TypedChoiceField(label=_("Department"), coerce=int, required=False, empty_value=None)

    def __init__(self, *args, departments=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["department"].choices = [("", "—")] + [(d.pk, d.name) for d in departments]


class ProgressForm(forms.Form):
    task = forms.IntegerField(widget=forms.HiddenInput)
    progress = forms.IntegerField(label=_("Progress (%)"), min_value=0, max_value=100)
    note = forms.CharField(label=_("Latest progress"), max_length=300)


class OutcomeForm(forms.Form):
    outcome = _text(_("Outcome for residents"))


class ActivityForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind of activity"), choices=ActivityKind.choices)
    title = forms.CharField(label=_("Title"), max_length=200)
    place = forms.CharField(label=_("Where"), max_length=150)
    starts_at = _dt(_("Starts"))
    ends_at = _dt(_("Ends"))
    project = forms.TypedChoiceField(label=_("Project"), coerce=int, required=False, empty_value=None)
    follow_up_of = forms.TypedChoiceField(label=_("Follow-up of"), coerce=int, required=False, empty_value=None)

    def __init__(self, *args, projects=(), held=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["project"].choices = [("", "—")] + [(p.pk, p.title) for p in projects]
        self.fields["follow_up_of"].choices = [("", "—")] + [(a.pk, f"{a.title}（{a.starts_at:%m-%d}）") for a in held]
        if not self.is_bound:
            start = timezone.localtime().replace(minute=0, second=0, microsecond=0)
            self.initial.setdefault("starts_at", start.strftime("%Y-%m-%dT%H:%M"))
            self.initial.setdefault("ends_at", (start + timezone.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"))


class AttendanceForm(forms.Form):
    side = forms.ChoiceField(label=_("Side"), choices=AttendeeSide.choices, initial=AttendeeSide.RESIDENT)
    name = forms.CharField(label=_("Name"), max_length=50)
    arrived_at = _dt(_("Arrived"), required=False)
    left_at = _dt(_("Left"), required=False)


class LeftForm(forms.Form):
    attendance = forms.IntegerField(widget=forms.HiddenInput)
    left_at = _dt(_("Left at"))


class HoldForm(forms.Form):
    summary = _text(_("What was done"), rows=4)
    decisions = _text(_("Decisions (joint meetings)"), required=False)
    residents_served = forms.IntegerField(label=_("Residents served"), min_value=0, max_value=10**6, initial=0)


RATING_WIDGET = forms.RadioSelect


class EvaluationForm(forms.Form):
    by_side = forms.ChoiceField(label=_("Evaluating side"), choices=Side.choices)
    outcome = _text(_("What changed for residents"))
    problems_solved = forms.IntegerField(label=_("Problems solved"), min_value=0, max_value=10**6, initial=0)
    residents_benefited = forms.IntegerField(label=_("Residents who benefited"), min_value=0, max_value=10**7,
                                             initial=0)
    effect = forms.TypedChoiceField(label=_("Effect"), choices=Rating.choices, coerce=int, widget=RATING_WIDGET)
    cooperation = forms.TypedChoiceField(label=_("The other side's cooperation"), choices=Rating.choices, coerce=int,
                                         widget=RATING_WIDGET)
    improve = _text(_("What the other side should do better"), required=False)


class FeedbackForm(forms.Form):
    channel = forms.ChoiceField(label=_("Channel"), choices=[
        (c, FeedbackChannel(c).label) for c in (FeedbackChannel.WINDOW, FeedbackChannel.SUGGESTION_BOX,
                                                FeedbackChannel.ACCOUNT)])
    text = _text(_("Feedback"))


class CaseFeedbackForm(forms.Form):
    case = forms.CharField(label=_("Case number or tracking code"), max_length=40)


class PlanForm(forms.Form):
    period = forms.CharField(label=_("Period"), max_length=40)
    starts_on = _date(_("Starts"))
    ends_on = _date(_("Ends"))
    content = _text(_("Plan"), rows=6)


class ApprovalForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=ApprovalKind.choices)
    title = forms.CharField(label=_("Request"), max_length=200)
    detail = _text(_("Detail"))
    amount = forms.DecimalField(label=_("Amount (yuan)"), required=False, min_value=0, max_digits=12,
                                decimal_places=2)


class DecideForm(forms.Form):
    approve = forms.TypedChoiceField(label=_("Your decision"), coerce=lambda v: v == "1", widget=forms.RadioSelect,
                                     choices=[("1", _("Approve")), ("0", _("Refuse"))])
    note = forms.CharField(label=_("Reason"), max_length=300, required=False)


class PostForm(forms.Form):
    side = forms.ChoiceField(label=_("Side"), choices=Side.choices)
    title = forms.CharField(label=_("Post"), max_length=100)
    holder = forms.CharField(label=_("Holder (login name)"), max_length=150, required=False)


class HandoverForm(forms.Form):
    incoming = forms.CharField(label=_("Incoming liaison (login name)"), max_length=150)
    summary = _text(_("Written handover"), rows=5)

    def __init__(self, *args, items=(), **kwargs):
        super().__init__(*args, **kwargs)
        for item in items:
            self.fields[f"note_{item['key']}"] = forms.CharField(
                label=f"{item['kind']}：{item['title']}", max_length=300, required=False)


class LinkForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind of link"), choices=LinkKind.choices)
    to_region = forms.TypedChoiceField(label=_("Linked town or village"), coerce=int)
    from_person = forms.IntegerField(label=_("Person (registry number)"), required=False)
    from_post = forms.CharField(label=_("Post"), max_length=100, required=False)
    from_department = forms.TypedChoiceField(label=_("Department"), coerce=int, required=False, empty_value=None)
    from_region = forms.TypedChoiceField(label=_("Partner village"), coerce=int, required=False, empty_value=None)
    started_on = _date(_("Since"))
    note = forms.CharField(label=_("Note"), max_length=200, required=False)

    def __init__(self, *args, regions=(), departments=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_region"].choices = [(r.pk, r.name) for r in regions]
        self.fields["from_region"].choices = [("", "—")] + [(r.pk, r.name) for r in regions if r.level == 3]
        self.fields["from_department"].choices = [("", "—")] + [(d.pk, d.name) for d in departments]
        if not self.is_bound:
            self.initial.setdefault("started_on", timezone.localdate())


class LinkActivityForm(forms.Form):
    held_on = _date(_("On"))
    summary = forms.CharField(label=_("What was done"), max_length=300)
    problems_solved = forms.IntegerField(label=_("Problems solved"), min_value=0, max_value=10**6, initial=0)


class GradeForm(forms.Form):
    region = forms.TypedChoiceField(label=_("Village"), coerce=int)
    grade = forms.ChoiceField(label=_("Grade"), choices=VillageGradeKind.choices)
    reason = forms.CharField(label=_("Reason"), max_length=200)

    def __init__(self, *args, villages=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["region"].choices = [(r.pk, r.name) for r in villages]


class AllianceForm(forms.Form):
    region = forms.TypedChoiceField(label=_("Based in"), coerce=int)
    name = forms.CharField(label=_("Name"), max_length=150)
    trade = forms.CharField(label=_("Trade"), max_length=100)
    mode = forms.ChoiceField(label=_("Mode"), choices=AllianceMode.choices)
    founded_on = _date(_("Founded"))

    def __init__(self, *args, regions=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["region"].choices = [(r.pk, r.name) for r in regions]


class MemberForm(forms.Form):
    name = forms.CharField(label=_("Member"), max_length=150, required=False)
    member_region = forms.TypedChoiceField(label=_("Member village"), coerce=int, required=False, empty_value=None)
    is_lead = forms.BooleanField(label=_("Leading member"), required=False)

    def __init__(self, *args, villages=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["member_region"].choices = [("", "—")] + [(r.pk, r.name) for r in villages]


class OperationForm(forms.Form):
    title = forms.CharField(label=_("Joint operation"), max_length=200)
    started_on = _date(_("Started"))
    area_mu = forms.DecimalField(label=_("Area (mu)"), required=False, min_value=0, max_digits=10, decimal_places=1)
    jobs = forms.IntegerField(label=_("Jobs"), min_value=0, max_value=10**6, initial=0)
    income = forms.DecimalField(label=_("Income (yuan)"), required=False, min_value=0, max_digits=14,
                                decimal_places=2)


class KeyTaskForm(forms.Form):
    aim = forms.ChoiceField(label=_("Aim"), choices=Aim.choices)
    title = forms.CharField(label=_("Task"), max_length=200)
    target = forms.DecimalField(label=_("Target"), min_value=0, max_digits=14, decimal_places=2)
    unit = forms.CharField(label=_("Unit of measure"), max_length=20)
    due_on = _date(_("Due by"))


class KeyTaskReportForm(forms.Form):
    task = forms.IntegerField(widget=forms.HiddenInput)
    amount = forms.DecimalField(label=_("Achieved this time"), max_digits=14, decimal_places=2)
    note = forms.CharField(label=_("What was done"), max_length=300)


class TeamForm(forms.Form):
    town_leader = forms.IntegerField(label=_("Town leader following the village (registry number)"))
    town_leader_post = forms.CharField(label=_("The town leader's post"), max_length=100)
    leader = forms.IntegerField(label=_("Team leader (registry number)"))
    leader_post = forms.CharField(label=_("Team leader's town post"), max_length=100, required=False)
    members = forms.CharField(label=_("Members (registry numbers, comma-separated)"), max_length=400, required=False)


class StationDayForm(forms.Form):
    member = forms.IntegerField(widget=forms.HiddenInput)
    on = _date(_("On"))
    days = forms.ChoiceField(label=_("Days"), choices=[("1", _("Whole day")), ("0.5", _("Half day"))], initial="1")
    work = forms.CharField(label=_("What was done"), max_length=200)


class SettingsForm(forms.ModelForm):
    class Meta:
        model = LinkingSettings
        fields = ["resources_review", "needs_review", "projects_review", "approval_working_days",
                  "escalate_working_days", "early_leave_minutes"]


class SurveyForm(forms.Form):
    content = forms.TypedChoiceField(label=_("Was the content useful?"), choices=Rating.choices, coerce=int,
                                     widget=forms.RadioSelect)
    format = forms.TypedChoiceField(label=_("Did the format suit you?"), choices=Rating.choices, coerce=int,
                                    widget=forms.RadioSelect)
    timing = forms.TypedChoiceField(label=_("Was the time convenient?"), choices=Rating.choices, coerce=int,
                                    widget=forms.RadioSelect)
    comment = forms.CharField(label=_("Anything else? (optional)"), max_length=300, required=False,
                              widget=forms.Textarea(attrs={"rows": 2}))


class PublicFeedbackForm(forms.Form):
    text = forms.CharField(label=_("Your opinion or suggestion"), max_length=1000,
                           widget=forms.Textarea(attrs={"rows": 4}))
    name = forms.CharField(label=_("How to address you (optional)"), max_length=20, required=False)
    phone = forms.CharField(label=_("Phone, if you want an answer (optional)"), max_length=20, required=False)
    key = forms.CharField(widget=forms.HiddenInput, required=False)


class MemberReportForm(forms.Form):
    membership = forms.IntegerField(widget=forms.HiddenInput)
    pledge = forms.CharField(label=_("What they offer to do"), max_length=200, required=False)


class MemberServiceForm(forms.Form):
    report = forms.IntegerField(widget=forms.HiddenInput)
    on = _date(_("On"))
    hours = forms.DecimalField(label=_("Hours"), min_value=0, max_digits=4, decimal_places=1)
    work = forms.CharField(label=_("What they did"), max_length=200)


class ShareForm(forms.Form):
    kind = forms.ChoiceField(label=_("What is shared"), choices=ShareKind.choices)
    mode = forms.ChoiceField(label=_("Way of sharing"), choices=ShareMode.choices)
    title = forms.CharField(label=_("Description"), max_length=200)
    from_region = forms.TypedChoiceField(label=_("Shared by"), coerce=int)
    to_region = forms.TypedChoiceField(label=_("Shared with"), coerce=int)
    amount = forms.DecimalField(label=_("Amount"), required=False, min_value=0, max_digits=14, decimal_places=2)
    unit = forms.CharField(label=_("Unit of measure"), max_length=20, required=False)
    started_on = _date(_("Since"))

    def __init__(self, *args, villages=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["from_region"].choices = [(r.pk, r.name) for r in villages]
        self.fields["to_region"].choices = [(r.pk, r.name) for r in villages]
