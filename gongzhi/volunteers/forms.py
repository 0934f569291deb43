"""Forms of the volunteer pages. They parse and check types only; every rule lives in ``services``
and comes back as a ``ValidationError`` in Chinese, shown on the page."""
from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Field, ItemKind, Level, VolunteerCategory, VolunteerStatus

DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"]


def _dt(label, **kwargs):
    return forms.DateTimeField(label=label, widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
                               input_formats=DATETIME_FORMATS, **kwargs)


def _date(label, **kwargs):
    return forms.DateField(label=label, widget=forms.DateInput(attrs={"type": "date"}), **kwargs)


class VolunteerForm(forms.Form):
    person = forms.TypedChoiceField(label=_("Resident (from the registry)"), coerce=int)
    category = forms.ChoiceField(label=_("Volunteer category"), choices=VolunteerCategory.choices)
    skills = forms.CharField(label=_("Skills and experience"), max_length=300, required=False)
    joined_on = _date(_("Joined the corps on"), required=False)

    def __init__(self, *args, persons=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["person"].choices = [(p.pk, f"{p.name}（{p.region.name if p.region_id else ''}）") for p in persons]


class CertificationForm(forms.Form):
    field = forms.ChoiceField(label=_("Certified field"), choices=Field.choices)
    level = forms.TypedChoiceField(label=_("Certified level"), choices=Level.choices, coerce=int)
    certifying_body = forms.CharField(label=_("Certifying body"), max_length=100)
    certificate_no = forms.CharField(label=_("Certificate number"), max_length=50, required=False)
    certified_on = _date(_("Certified on"))
    expires_on = _date(_("Certificate expires on"))


class StatusForm(forms.Form):
    status = forms.ChoiceField(label=_("Volunteer status"), choices=VolunteerStatus.choices)
    reason = forms.CharField(label=_("Reason for the change"), max_length=200, required=False)


class CorrectionForm(forms.Form):
    amount = forms.IntegerField(label=_("Points to add (negative to take back)"), min_value=-10**6, max_value=10**6)
    reason = forms.CharField(label=_("Reason for the correction"), max_length=300)


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=300, required=False)


class ServiceKindForm(forms.Form):
    name = forms.CharField(label=_("Service kind"), max_length=50)
    description = forms.CharField(label=_("What the service is"), max_length=300, required=False)
    required_field = forms.ChoiceField(label=_("Required certified field"), required=False,
                                       choices=[("", _("No certification needed"))] + list(Field.choices))
    min_level = forms.TypedChoiceField(label=_("Minimum certified level"), required=False, coerce=int,
                                       empty_value=None, choices=[("", "—")] + list(Level.choices))
    points_per_hour = forms.IntegerField(label=_("Points per confirmed hour"), min_value=1, max_value=1000, initial=10)
    max_hours = forms.DecimalField(label=_("Longest session (hours)"), min_value=0.5, max_value=12, decimal_places=1,
                                   initial=4)
    active = forms.BooleanField(label=_("Offered"), required=False, initial=True)


class PointsSettingsForm(forms.Form):
    expiry_months = forms.IntegerField(label=_("Points expire after (months, 0 = never)"), min_value=0, max_value=120)
    yearly_cap = forms.IntegerField(label=_("Most points one volunteer earns in a year (0 = no cap)"), min_value=0,
                                    max_value=10**6)


class TaskForm(forms.Form):
    kind = forms.TypedChoiceField(label=_("Service kind"), coerce=int)
    title = forms.CharField(label=_("Task title"), max_length=100)
    region = forms.TypedChoiceField(label=_("Village or town served"), coerce=int)
    place = forms.CharField(label=_("Place"), max_length=100)
    starts_at = _dt(_("Starts at"))
    ends_at = _dt(_("Ends at"))
    slots = forms.IntegerField(label=_("Volunteers needed"), min_value=1, max_value=500, initial=1)
    description = forms.CharField(label=_("Task description"), max_length=500, required=False,
                                  widget=forms.Textarea(attrs={"rows": 2}))
    case = forms.CharField(label=_("Resident's case number (optional)"), max_length=32, required=False)

    def __init__(self, *args, kinds=(), regions=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [(k.pk, f"{k.name}（{k.requirement}）") for k in kinds]
        self.fields["region"].choices = [(r.pk, r.name) for r in regions]


class HoursForm(forms.Form):
    hours = forms.DecimalField(label=_("Hours served"), min_value=0, max_value=24, decimal_places=1, required=False)


class CatalogueItemForm(forms.Form):
    name = forms.CharField(label=_("Catalogue item"), max_length=100)
    kind = forms.ChoiceField(label=_("Catalogue item kind"), choices=ItemKind.choices)
    provider = forms.CharField(label=_("Provided by"), max_length=100)
    description = forms.CharField(label=_("Item description"), max_length=300, required=False)
    points_cost = forms.IntegerField(label=_("Points each"), min_value=1, max_value=10**6)
    stock = forms.IntegerField(label=_("In stock"), min_value=0, max_value=100000, initial=0)


class RestockForm(forms.Form):
    quantity = forms.IntegerField(label=_("Add to stock"), min_value=1, max_value=100000)
