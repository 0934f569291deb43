from django import forms
from django.apps import apps
from django.utils.translation import gettext_lazy as _

from .models import AuditAction


def object_type_suggestions() -> list[tuple[str, str]]:
    """Every model of Gongzhi's own apps as ("app_label.model", verbose name), for the type box.

    Only suggestions: audit rows may name other object types (a whole import run, say).
    """
    return sorted((model._meta.label_lower, str(model._meta.verbose_name)) for model in apps.get_models()
                  if model._meta.app_config.name.startswith("gongzhi."))


class AuditFilterForm(forms.Form):
    type = forms.CharField(label=_("Object type"), required=False, max_length=100,
                           widget=forms.TextInput(attrs={"list": "audit-object-types", "autocomplete": "off",
                                                         "placeholder": "registry.household"}))
    id = forms.CharField(label=_("Object id"), required=False, max_length=64,
                         widget=forms.TextInput(attrs={"inputmode": "numeric"}))
    actor = forms.CharField(label=_("User name"), required=False, max_length=150)
    action = forms.ChoiceField(label=_("Action"), required=False,
                               choices=[("", _("All"))] + list(AuditAction.choices))
    since = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
