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


class HolidayTableForm(forms.Form):
    """A year (or several) of the holiday table: a file, or lines pasted from the notice."""

    file = forms.FileField(label=_("File (.csv or .xlsx)"), required=False)
    text = forms.CharField(label=_("Or paste lines"), required=False, widget=forms.Textarea(attrs={
        "rows": 10, "placeholder": "2027-01-01,holiday,元旦\n2027-02-20,adjusted_workday,春节"}))

    MAX_BYTES = 1024 * 1024

    def clean(self):
        from .holidays import CalendarFileError, parse_file, parse_text

        data = super().clean()
        upload, text = data.get("file"), (data.get("text") or "").strip()
        if not upload and not text:
            raise forms.ValidationError(_("Choose a file or paste the lines of the arrangement."))
        try:
            if upload:
                if upload.size > self.MAX_BYTES:
                    raise forms.ValidationError(_("The file is too large."))
                data["parsed"] = parse_file(upload.read(), upload.name or "")
                data["source"] = f"文件 {upload.name}"[:200]
            else:
                data["parsed"] = parse_text(text)
                data["source"] = "粘贴"
        except CalendarFileError as exc:
            raise forms.ValidationError(exc.errors) from None
        return data


# ---- a service's ValidationError on a page -------------------------------------------------
# Services raise ValidationError({field: message}) in Chinese; every page shows it the same way.


def validation_messages(exc) -> list[str]:
    """Every message of a service's ``ValidationError``, flat."""
    if hasattr(exc, "error_dict"):
        return [str(m) for errors in exc.error_dict.values() for e in errors for m in e.messages]
    return [str(m) for m in exc.messages]


def add_validation_errors(form, exc) -> None:
    """Put a service's errors on ``form``: by field where the form has it, else on the form."""
    if hasattr(exc, "error_dict"):
        for name, errors in exc.error_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, exc)


def flash_validation_errors(request, exc) -> None:
    from django.contrib import messages

    for message in validation_messages(exc):
        messages.error(request, message)
