"""Forms parse and validate input; they never save (services do)."""
from __future__ import annotations

import datetime as dt

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gongzhi.registry.models import Relation

from .models import ChangeKind, Colour, ContactMethod, WatchEvent


class ContactForm(forms.Form):
    household = forms.TypedChoiceField(label=_("Who"), coerce=int, widget=forms.RadioSelect)
    method = forms.ChoiceField(label=_("How"), choices=ContactMethod.choices, widget=forms.RadioSelect)
    heard = forms.CharField(label=_("What was heard"), widget=forms.Textarea(attrs={"rows": 3}))
    contacted_at = forms.DateTimeField(label=_("When"), required=False,
                                       widget=forms.DateTimeInput(attrs={"type": "datetime-local"},
                                                                  format="%Y-%m-%dT%H:%M"))
    needs_action = forms.BooleanField(label=_("Needs action: open a case"), required=False)

    def __init__(self, *args, households=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["household"].choices = [(h.pk, f"{h.head.name if h.head else ''} · {h.code}") for h in households]
        self.fields["contacted_at"].initial = timezone.localtime().replace(second=0, microsecond=0)


class VisitForm(forms.Form):
    note = forms.CharField(label=_("What was found"), widget=forms.Textarea(attrs={"rows": 3}))


class PatrolStartForm(forms.Form):
    grid = forms.TypedChoiceField(label=_("Grid"), coerce=int)
    route_note = forms.CharField(label=_("Route"), required=False)


class PatrolProblemForm(forms.Form):
    description = forms.CharField(label=_("Problem found"), widget=forms.Textarea(attrs={"rows": 3}))
    location = forms.CharField(label=_("Where"), required=False)
    household = forms.TypedChoiceField(label=_("Household (if any)"), coerce=int, required=False, empty_value=None)
    make_case = forms.BooleanField(label=_("Open a case"), required=False, initial=True)

    def __init__(self, *args, households=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["household"].choices = [("", "—")] + [(h.pk, f"{h.code} {h.head.name if h.head else ''}")
                                                         for h in households]


class ArchiveChangeForm(forms.Form):
    kind = forms.ChoiceField(label=_("What changed"), choices=ChangeKind.choices)
    person = forms.TypedChoiceField(label=_("Member"), coerce=int, required=False, empty_value=None)
    name = forms.CharField(label=_("Name (birth, moving in)"), required=False)
    id_number = forms.CharField(label=_("Resident ID number (birth, moving in)"), required=False)
    relation = forms.ChoiceField(label=_("Relation to the head"), required=False,
                                 choices=[("", "—")] + [c for c in Relation.choices if c[0] != "head"])
    annual_income = forms.CharField(label=_("New annual household income (CNY)"), required=False)
    grade = forms.TypedChoiceField(label=_("Disability grade"), required=False, coerce=int, empty_value=None,
                                   choices=[("", "—"), (1, "一级"), (2, "二级"), (3, "三级"), (4, "四级")])
    on = forms.DateField(label=_("Date"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    reason = forms.CharField(label=_("Note"), required=False)

    def __init__(self, *args, members=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["person"].choices = [("", "—")] + [(p.pk, p.name) for p in members]

    def payload(self) -> dict:
        d = self.cleaned_data
        keys = ["name", "id_number", "relation", "annual_income", "grade", "reason"]
        out = {k: d[k] for k in keys if d.get(k) not in (None, "")}
        if d.get("on"):
            out["on"] = d["on"].isoformat()
        return out


class OverrideForm(forms.Form):
    colour = forms.ChoiceField(label=_("Class"), choices=[c for c in Colour.choices if c[0] != "undecided"])
    reason = forms.CharField(label=_("Reason"), max_length=300)
    expires_on = forms.DateField(label=_("Until"), widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["expires_on"].initial = timezone.localdate() + dt.timedelta(days=90)


class WatchEventForm(forms.Form):
    kind = forms.ChoiceField(label=_("What happened"), choices=WatchEvent.Kind.choices)
    occurred_on = forms.DateField(label=_("When"), widget=forms.DateInput(attrs={"type": "date"}))
    amount = forms.DecimalField(label=_("Expense (CNY)"), required=False, min_value=0)
    note = forms.CharField(label=_("Note"), required=False)


class ReceptionSessionForm(forms.Form):
    region = forms.TypedChoiceField(label=_("Liaison station in"), coerce=int)
    held_on = forms.DateField(label=_("Held on"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    station = forms.CharField(label=_("Station"), required=False)


class SuggestionForm(forms.Form):
    deputy = forms.TypedChoiceField(label=_("Deputy"), coerce=int)
    voter_name = forms.CharField(label=_("Voter"), required=False)
    content = forms.CharField(label=_("Suggestion"), widget=forms.Textarea(attrs={"rows": 3}))
    needs_action = forms.BooleanField(label=_("Needs action: open a case"), required=False)


class RuleForm(forms.Form):
    rule = forms.IntegerField(required=False, widget=forms.HiddenInput)
    colour = forms.ChoiceField(label=_("Colour"), choices=[("red", "红"), ("yellow", "黄"), ("green", "绿")])
    group = forms.IntegerField(label=_("Group"), min_value=1, max_value=99, initial=1)
    kind = forms.ChoiceField(label=_("Condition"), choices=[])
    params = forms.JSONField(label=_("Parameters (JSON)"), required=False)
    enabled = forms.BooleanField(label=_("Enabled"), required=False, initial=True)

    def __init__(self, *args, **kwargs):
        from .models import RuleKind

        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = RuleKind.choices
