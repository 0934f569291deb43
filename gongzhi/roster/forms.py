"""Forms of the roster pages. They validate input only; the services do the work."""
from __future__ import annotations

from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _

from .models import RosterKind

FORMAT_CHOICES = [("xlsx", _("Excel (.xlsx)")), ("csv", _("CSV (.csv)"))]


def _region_choices(regions):
    return [(r.pk, f"{r.name}（{r.code}）") for r in regions]


class RegionIdField(forms.TypedChoiceField):
    """A region id offered from the user's regions, but not limited to them here: the service
    fetches it through the scope, so one outside it is a 404 like everywhere else."""

    def valid_value(self, value):
        return True


class UploadForm(forms.Form):
    """The village is a plain id here: the service fetches it through the scope (404 outside it)."""

    village = RegionIdField(label=_("Village / community"), coerce=int, choices=())
    kind = forms.ChoiceField(label=_("What the file holds"), choices=RosterKind.choices, initial=RosterKind.HOUSEHOLDS)
    file = forms.FileField(label=_("Roster file (.xlsx or .csv)"), allow_empty_file=True,
                           widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.csv"}))

    def __init__(self, *args, villages=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["village"].choices = _region_choices(villages)

    def clean_file(self):
        upload = self.cleaned_data["file"]
        limit = settings.ROSTER_MAX_UPLOAD_BYTES
        if upload.size > limit:
            raise forms.ValidationError(
                _("The file is too large (%(size)s); the limit is %(limit)s. Split it by village.")
                % {"size": filesizeformat(upload.size), "limit": filesizeformat(limit)})
        # The file's type and content are judged by the reader (parsing.py), in one place.
        return upload


class ExportForm(forms.Form):
    region = RegionIdField(label=_("Region"), coerce=int, choices=())
    kind = forms.ChoiceField(label=_("What to export"), choices=RosterKind.choices, initial=RosterKind.HOUSEHOLDS)
    format = forms.ChoiceField(label=_("Format"), choices=FORMAT_CHOICES, initial="xlsx")

    def __init__(self, *args, regions=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["region"].choices = _region_choices(regions)
