from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from .models import Role, RoleAssignment


class LoginForm(AuthenticationForm):
    error_messages = {
        "invalid_login": _("The username or password is wrong."),
        "inactive": _("This account is disabled."),
    }


class RoleGrantForm(forms.Form):
    """Grant a role: the login by username, the scope by division code, grid code or department.

    Scope objects are looked up through ``RoleAssignment``'s own foreign keys, so accounts does not
    import the registry (it sits below it); a county's regions are typed, not listed.
    """

    username = forms.CharField(label=_("Username"), max_length=150)
    role = forms.ModelChoiceField(label=_("Role"), queryset=Role.objects.all())
    region_code = forms.CharField(label=_("Division code (region roles)"), max_length=15, required=False)
    grid_code = forms.CharField(label=_("Grid code (grid roles)"), max_length=32, required=False)
    department = forms.ModelChoiceField(label=_("Department (department roles)"), required=False,
                                        queryset=RoleAssignment._meta.get_field("department").related_model.objects.all())

    def clean(self):
        data = super().clean()
        User = get_user_model()
        user = User.objects.filter(username=(data.get("username") or "").strip(), is_active=True).first()
        if user is None:
            self.add_error("username", _("No active login with this username."))
        data["user"] = user
        for field, model_field, lookup in (("region_code", "region", "code"), ("grid_code", "grid", "code")):
            value = (data.get(field) or "").strip()
            data[model_field] = None
            if value:
                model = RoleAssignment._meta.get_field(model_field).related_model
                data[model_field] = model.objects.filter(**{lookup: value}).first()
                if data[model_field] is None:
                    self.add_error(field, _("Not found."))
        return data
