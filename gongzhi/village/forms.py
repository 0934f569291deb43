"""Forms of the staff pages. They parse and check types only; every rule of village law lives in
``services`` (and comes back as a ``ValidationError`` in Chinese, shown on the form)."""
from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import BallotKind, BodyKind, ItemMode, ItemSource, MatterTopic, MeetingKind, Post, PublicityCategory, Supervisor


class MeetingForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind of meeting"), choices=MeetingKind.choices)
    title = forms.CharField(label=_("Title"), max_length=200)
    scheduled_at = forms.DateTimeField(label=_("When"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
                                       input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"])
    place = forms.CharField(label=_("Where"), max_length=200, required=False)
    items = forms.MultipleChoiceField(label=_("Agenda items waiting"), required=False,
                                      widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args, waiting=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["items"].choices = [(str(i.pk), i.title) for i in waiting]
        if not self.is_bound:
            self.initial.setdefault("scheduled_at", timezone.localtime().replace(minute=0, second=0, microsecond=0)
                                    .strftime("%Y-%m-%dT%H:%M"))


class ItemForm(forms.Form):
    title = forms.CharField(label=_("Agenda item"), max_length=200)
    mode = forms.ChoiceField(label=_("Kind of item"), choices=ItemMode.choices, widget=forms.RadioSelect,
                             initial=ItemMode.DECIDE)
    source = forms.ChoiceField(label=_("From"), widget=forms.RadioSelect, initial=ItemSource.COMMITTEES,
                               choices=[(ItemSource.COMMITTEES, ItemSource.COMMITTEES.label),
                                        (ItemSource.RESIDENT, ItemSource.RESIDENT.label),
                                        (ItemSource.CONTACT, ItemSource.CONTACT.label)])
    proposer = forms.TypedChoiceField(label=_("Resident who proposed it"), coerce=int, required=False,
                                      empty_value=None)
    contact_record = forms.TypedChoiceField(label=_("Contact record"), coerce=int, required=False, empty_value=None)
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, residents=(), records=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["proposer"].choices = [("", "—")] + [(p.pk, p.name) for p in residents]
        self.fields["contact_record"].choices = [("", "—")] + [
            (r.pk, f"{r.contacted_at:%m-%d} {r.household.address}：{r.heard[:30]}") for r in records]

    def clean(self):
        data = super().clean()
        if data.get("source") == ItemSource.RESIDENT and not data.get("proposer"):
            self.add_error("proposer", _("Choose the resident who proposed it."))
        if data.get("source") == ItemSource.CONTACT and not data.get("contact_record"):
            self.add_error("contact_record", _("Choose the contact record."))
        return data


class PollForm(forms.Form):
    question = forms.CharField(label=_("Motion"), max_length=300)
    ballot = forms.ChoiceField(label=_("Ballot"), choices=BallotKind.choices, widget=forms.RadioSelect,
                               initial=BallotKind.OPEN)
    item = forms.TypedChoiceField(label=_("Agenda item"), coerce=int, required=False, empty_value=None)

    def __init__(self, *args, items=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["item"].choices = [("", "—")] + [(i.pk, i.title) for i in items]


class SpeechForm(forms.Form):
    speaker_name = forms.CharField(label=_("Speaker"), max_length=50)
    points = forms.CharField(label=_("Points"), widget=forms.Textarea(attrs={"rows": 3}))


class CloseForm(forms.Form):
    minutes = forms.CharField(label=_("Minutes"), required=False, widget=forms.Textarea(attrs={"rows": 5}))


class MatterForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    topic = forms.ChoiceField(label=_("Topic"), choices=MatterTopic.choices)
    description = forms.CharField(label=_("Description"), widget=forms.Textarea(attrs={"rows": 4}))


class StepForm(forms.Form):
    step = forms.CharField(widget=forms.HiddenInput)
    meeting = forms.TypedChoiceField(label=_("Meeting"), coerce=int, required=False, empty_value=None)
    poll = forms.TypedChoiceField(label=_("Vote"), coerce=int, required=False, empty_value=None)
    content = forms.CharField(label=_("What was decided"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, meetings=(), polls=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["meeting"].choices = [("", "—")] + [(m.pk, f"{m.title}（{m.get_status_display()}）")
                                                         for m in meetings]
        self.fields["poll"].choices = [("", "—")] + [(p.pk, f"{p.question}：{p.get_result_display() or '—'}")
                                                      for p in polls]


class ExemptForm(forms.Form):
    reason = forms.CharField(label=_("Emergency"), widget=forms.Textarea(attrs={"rows": 2}))
    content = forms.CharField(label=_("What was decided"), widget=forms.Textarea(attrs={"rows": 2}))


class TaskForm(forms.Form):
    title = forms.CharField(label=_("Task"), max_length=200)
    assignee = forms.TypedChoiceField(label=_("Responsible person"), coerce=int)
    due_on = forms.DateField(label=_("Due on"), widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, people=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].choices = [(p.pk, p.name) for p in people]


class ProgressForm(forms.Form):
    progress = forms.IntegerField(label=_("Progress (%)"), min_value=0, max_value=100)
    note = forms.CharField(label=_("Note"), required=False, max_length=500)


class NoteForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=[("feedback", _("Residents' feedback")),
                                                       ("supervision", _("Supervision")),
                                                       ("adjustment", _("Adjustment"))])
    supervisor = forms.ChoiceField(label=_("Supervised by"), choices=[("", "—")] + list(Supervisor.choices),
                                   required=False)
    text = forms.CharField(label=_("Text"), widget=forms.Textarea(attrs={"rows": 2}))


class MemberForm(forms.Form):
    person = forms.TypedChoiceField(label=_("Person (from the registry)"), coerce=int)
    post = forms.ChoiceField(label=_("Post"), choices=Post.choices)

    def __init__(self, *args, people=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["person"].choices = [(p.pk, p.name) for p in people]


class BodyForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=BodyKind.choices)
    name = forms.CharField(label=_("Name"), max_length=150)
    term_start = forms.DateField(label=_("Term starts"), widget=forms.DateInput(attrs={"type": "date"}))
    term_end = forms.DateField(label=_("Term ends"), required=False, widget=forms.DateInput(attrs={"type": "date"}))


class PublicityForm(forms.Form):
    category = forms.ChoiceField(label=_("Category"), choices=PublicityCategory.choices)
    title = forms.CharField(label=_("Title"), max_length=200)
    body = forms.CharField(label=_("Text"), widget=forms.Textarea(attrs={"rows": 5}))
    period_start = forms.DateField(label=_("Period from"), required=False,
                                   widget=forms.DateInput(attrs={"type": "date"}))
    period_end = forms.DateField(label=_("Period until"), required=False,
                                 widget=forms.DateInput(attrs={"type": "date"}))


class DutyForm(forms.Form):
    title = forms.CharField(label=_("Duty"), max_length=200)
    basis = forms.CharField(label=_("Basis"), max_length=300)
    owner = forms.TypedChoiceField(label=_("Owner"), coerce=int, required=False, empty_value=None)

    def __init__(self, *args, bodies=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].choices = [("", "—")] + [(b.pk, b.name) for b in bodies]


class SettingsForm(forms.Form):
    """The county's village rules. Thresholds read ``>1/2`` (过半数) or ``>=2/3`` (三分之二以上)."""

    THRESHOLDS = [
        ("villagers_adults", _("villagers' meeting: adult villagers present")),
        ("villagers_households", _("villagers' meeting: households represented")),
        ("representatives", _("representatives' meeting: representatives present")),
        ("party_members", _("party members' meeting: members with a vote present")),
        ("committees", _("committee meetings: members present")),
        ("resolution", _("a resolution: votes for among those present")),
    ]
    villagers_adults = forms.CharField(label=THRESHOLDS[0][1], max_length=8)
    villagers_households = forms.CharField(label=THRESHOLDS[1][1], max_length=8)
    representatives = forms.CharField(label=THRESHOLDS[2][1], max_length=8)
    party_members = forms.CharField(label=THRESHOLDS[3][1], max_length=8)
    committees = forms.CharField(label=THRESHOLDS[4][1], max_length=8)
    resolution = forms.CharField(label=THRESHOLDS[5][1], max_length=8)
    adult_age = forms.IntegerField(label=_("adult from age"), min_value=16, max_value=21)
    elderly_age = forms.IntegerField(label=_("counted as elderly from age"), min_value=50, max_value=80)
    term_warning_days = forms.IntegerField(label=_("warn this many days before a term ends"), min_value=1,
                                           max_value=365)
    task_due_soon_days = forms.IntegerField(label=_("warn this many days before a task is due"), min_value=0,
                                            max_value=60)
    exemption_explain_days = forms.IntegerField(label=_("an emergency exemption must be explained within (days)"),
                                                min_value=1, max_value=90)
    duty_review_months = forms.IntegerField(label=_("duty lists are reviewed every (months)"), min_value=1,
                                            max_value=36)
