from django import forms
from django.utils.translation import gettext_lazy as _


class SearchForm(forms.Form):
    q = forms.CharField(
        label=_("Search"), max_length=100, required=False,
        widget=forms.TextInput(attrs={
            "type": "search", "autocomplete": "off", "inputmode": "search", "enterkeyhint": "search",
            "placeholder": _("Name, initials, ID number or phone"),
        }),
    )


class RevealForm(forms.Form):
    field = forms.ChoiceField(choices=[("id_number", "id_number"), ("phone", "phone")])
    back = forms.ChoiceField(choices=[("household", "household"), ("person", "person")], required=False)
