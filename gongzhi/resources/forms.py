"""Page forms of resources and dispatch. They parse and label; the rules live in the services."""
from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import AllocationMode, ConfirmationMethod, Kind, Priority, Source

DATE = forms.DateInput(attrs={"type": "date"})
NUMBER = forms.NumberInput(attrs={"inputmode": "numeric", "min": 0})


class ResourceForm(forms.Form):
    kind = forms.ChoiceField(label=_("Type"), choices=Kind.choices)
    name = forms.CharField(label=_("Name"), max_length=150)
    quantity = forms.IntegerField(label=_("Quantity or capacity brought in"), min_value=1, widget=NUMBER)
    unit = forms.CharField(label=_("Unit"), max_length=20, help_text=_("e.g. 元, 袋, 床, 次/月, 人"))
    owner_name = forms.CharField(label=_("Owner or provider"), max_length=150)
    place = forms.ModelChoiceField(label=_("Kept at"), queryset=None)
    address = forms.CharField(label=_("Address"), max_length=200, required=False)
    source = forms.ChoiceField(label=_("Pooled from"), choices=Source.choices)
    allocation = forms.ChoiceField(label=_("Allocated by"), choices=AllocationMode.choices)
    emergency_reserve = forms.BooleanField(label=_("Emergency reserve (only emergency needs may draw on it)"),
                                           required=False)
    available_from = forms.DateField(label=_("Available from"), required=False, widget=DATE)
    available_until = forms.DateField(label=_("Available until"), required=False, widget=DATE)
    conditions = forms.CharField(label=_("Conditions of use"), max_length=300, required=False)
    reason = forms.CharField(label=_("Where it came from (the ledger's first line)"), max_length=300, required=False)

    def __init__(self, *args, places, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["place"].queryset = places


class MovementForm(forms.Form):
    """One form for the three stock movements a keeper records by hand."""
    ACTIONS = [("receive", _("Stock in")), ("write_off", _("Write off")), ("correct", _("Stocktake"))]

    action = forms.ChoiceField(label=_("Movement"), choices=ACTIONS, widget=forms.RadioSelect)
    quantity = forms.IntegerField(label=_("Quantity (for a stocktake: the count found)"), min_value=0, widget=NUMBER)
    reason = forms.CharField(label=_("Reason"), max_length=300)


class NeedForm(forms.Form):
    title = forms.CharField(label=_("Need"), max_length=200)
    kind = forms.ChoiceField(label=_("Type of resource wanted"), choices=Kind.choices)
    quantity = forms.IntegerField(label=_("Quantity wanted"), min_value=1, widget=NUMBER)
    unit = forms.CharField(label=_("Unit"), max_length=20)
    priority = forms.TypedChoiceField(label=_("Priority"), choices=Priority.choices, coerce=int,
                                      initial=Priority.GENERAL, widget=forms.RadioSelect)
    emergency_note = forms.CharField(label=_("What makes it urgent (for an emergency)"), max_length=300,
                                     required=False)
    place = forms.ModelChoiceField(label=_("Where"), queryset=None, required=False)
    recipient_name = forms.CharField(label=_("Recipient"), max_length=100, required=False)
    needed_by = forms.DateField(label=_("Needed by"), required=False, widget=DATE)
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, places, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["place"].queryset = places


class ReserveForm(forms.Form):
    resource = forms.IntegerField(widget=forms.HiddenInput)
    quantity = forms.IntegerField(label=_("Quantity to reserve (empty: what the need lacks)"), min_value=1,
                                  required=False, widget=NUMBER)


class DispatchForm(forms.Form):
    quantity = forms.IntegerField(label=_("Quantity to send (empty: all reserved)"), min_value=1, required=False,
                                  widget=NUMBER)
    carrier = forms.CharField(label=_("Carried by"), max_length=100, required=False)


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=300)


class CloseForm(forms.Form):
    note = forms.CharField(label=_("Why close it"), max_length=300)
    cancel = forms.BooleanField(label=_("Cancel (raised by mistake) rather than close short"), required=False)


class ConfirmForm(forms.Form):
    received = forms.IntegerField(label=_("Quantity received"), min_value=0, widget=NUMBER)
    recipient_name = forms.CharField(label=_("Received by"), max_length=100)
    method = forms.ChoiceField(label=_("How the recipient confirmed"), choices=ConfirmationMethod.choices,
                               initial=ConfirmationMethod.CODE, widget=forms.RadioSelect)
    code = forms.CharField(label=_("Receipt code (six digits the recipient got by SMS)"), max_length=6,
                           required=False, widget=forms.TextInput(attrs={"inputmode": "numeric",
                                                                         "autocomplete": "one-time-code"}))
    shortfall = forms.ChoiceField(label=_("What was not received"), initial="returned", widget=forms.RadioSelect,
                                  choices=[("returned", _("Goes back to stock")), ("lost", _("Was lost (say how)"))])
    note = forms.CharField(label=_("Note (a proxy's relation to the recipient; a loss)"), max_length=300,
                           required=False)


class ReturnForm(forms.Form):
    quantity = forms.IntegerField(label=_("Quantity returned"), min_value=1, widget=NUMBER)
    reason = forms.CharField(label=_("Reason"), max_length=300)


class InventoryFilter(forms.Form):
    kind = forms.ChoiceField(label=_("Type"), choices=[("", _("All"))] + Kind.choices, required=False)
    q = forms.CharField(label=_("Search"), max_length=50, required=False)


class QueueFilter(forms.Form):
    kind = forms.ChoiceField(label=_("Type"), choices=[("", _("All"))] + Kind.choices, required=False)
    priority = forms.ChoiceField(label=_("Priority"), choices=[("", _("All"))] + [(str(v), l) for v, l in
                                                                                  Priority.choices], required=False)
    status = forms.ChoiceField(label=_("Status"), required=False, choices=[
        ("open", _("Open")), ("done", _("Delivered or closed")), ("all", _("All"))])
