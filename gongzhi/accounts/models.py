"""Users, and roles held over a scope.

Roles are data: a county can add a role (a set of permissions plus a scope kind) without code.
A ``RoleAssignment`` gives one user one role over one scope: a region (county, town, village or
villager group), a grid (with its sub-grids), a department, the households the user's person is
in touch with (three-line persons), or everything.
"""
from django.contrib.auth.models import AbstractUser, Permission
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_otp.models import SideChannelDevice, ThrottlingMixin

from gongzhi.core.scoping import SUBMISSION, Grant


class UserKind(models.TextChoices):
    PERSON = "person", _("A person's login")
    # The residents' page, Open311, SMS: acts for residents, cannot log in (accounts.channel_actors).
    CHANNEL = "channel", _("A public channel")


class User(AbstractUser):
    kind = models.CharField(_("kind"), max_length=16, choices=UserKind.choices, default=UserKind.PERSON)
    display_name = models.CharField(_("display name"), max_length=100, blank=True)
    person = models.ForeignKey(
        "registry.Person", null=True, blank=True, on_delete=models.SET_NULL, related_name="logins",
        help_text=_("The registry person this login belongs to (grid workers, three-line persons)."),
    )

    def __str__(self):
        return self.display_name or self.username


class ScopeKind(models.TextChoices):
    ALL = "all", _("Everything")
    REGION = "region", _("A region and everything under it")
    GRID = "grid", _("A grid and its sub-grids")
    DEPARTMENT = "department", _("A department")
    CONTACTS = "contacts", _("The households the person is in touch with")
    # Public channels only: bound, per submission, to the territory that submission names.
    SUBMISSION = "submission", _("The territory each submission names (public channels)")


class Role(models.Model):
    code = models.SlugField(_("code"), max_length=50, unique=True)
    name = models.CharField(_("name"), max_length=100)
    description = models.TextField(_("description"), blank=True)
    scope_kind = models.CharField(_("scope kind"), max_length=16, choices=ScopeKind.choices)
    permissions = models.ManyToManyField(Permission, blank=True, related_name="gongzhi_roles")
    is_builtin = models.BooleanField(default=False)
    follows_defaults = models.BooleanField(
        _("follows the platform's defaults"), default=False,
        help_text=_("Built-in roles get the platform's default permissions again after every upgrade "
                    "while this is ticked. Untick it before customising the role."),
    )

    class Meta:
        ordering = ["code"]
        verbose_name = _("role")
        verbose_name_plural = _("roles")

    def __str__(self):
        return self.name


class RoleAssignment(models.Model):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="role_assignments")
    role = models.ForeignKey(Role, on_delete=models.PROTECT, related_name="assignments")
    region = models.ForeignKey("registry.Region", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    grid = models.ForeignKey("registry.Grid", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    department = models.ForeignKey("registry.Department", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("role assignment")
        verbose_name_plural = _("role assignments")

    def __str__(self):
        target = self.region or self.grid or self.department or ""
        return f"{self.user} · {self.role} · {target}"

    def clean(self):
        kind = self.role.scope_kind
        needs = {ScopeKind.REGION: "region", ScopeKind.GRID: "grid", ScopeKind.DEPARTMENT: "department"}
        needed = needs.get(kind)
        for field in ("region", "grid", "department"):
            present = getattr(self, f"{field}_id") is not None
            if field == needed and not present:
                raise ValidationError({field: _("This role needs a %(f)s.") % {"f": field}})
            if field != needed and present:
                raise ValidationError({field: _("This role's scope does not use a %(f)s.") % {"f": field}})
        if kind == ScopeKind.CONTACTS and self.user.person_id is None:
            raise ValidationError(_("A three-line role needs a login linked to a registry person."))
        # A channel actor holds its channel role and nothing else; a person never holds one.
        if (kind == ScopeKind.SUBMISSION) != (self.user.kind == UserKind.CHANNEL):
            raise ValidationError(_("Public-channel roles belong to public-channel accounts only."))

    def as_grant(self) -> Grant:
        kind = self.role.scope_kind
        if kind == ScopeKind.REGION:
            return Grant(kind="region", region_id=self.region_id, region_level=self.region.level,
                         county_id=self.region.county_id)
        if kind == ScopeKind.GRID:
            return Grant(kind="grid", grid_id=self.grid_id, grid_path=self.grid.path,
                         grid_village_id=self.grid.village_id, county_id=self.grid.county_id)
        if kind == ScopeKind.DEPARTMENT:
            return Grant(kind="department", department_id=self.department_id,
                         county_id=self.department.county_id)
        if kind == ScopeKind.CONTACTS:
            person = self.user.person if self.user.person_id else None
            return Grant(kind="contacts", person_id=self.user.person_id,
                         county_id=person.county_id if person else None)
        if kind == ScopeKind.SUBMISSION:
            return Grant(kind=SUBMISSION)  # unbound: grants nothing until bound to a submission
        return Grant(kind="all")

    def scope_label(self) -> str:
        target = self.region or self.grid or self.department
        return str(target) if target else str(ScopeKind(self.role.scope_kind).label)


class SMSDevice(ThrottlingMixin, SideChannelDevice):
    """A second factor delivered by SMS through the platform's SMS channel
    (``settings.GONGZHI_SMS_BACKEND``, the same gateway that texts requesters).

    ``generate_challenge`` sends a fresh six-digit code valid ``GONGZHI_SMS_OTP_VALIDITY_SECONDS``;
    wrong codes slow further tries down (``ThrottlingMixin``), as for TOTP.
    """

    phone = models.CharField(_("phone"), max_length=20)

    class Meta(SideChannelDevice.Meta):
        verbose_name = _("SMS device")
        verbose_name_plural = _("SMS devices")

    def get_throttle_factor(self):
        return 1

    def generate_challenge(self, extra_context=None):
        from django.conf import settings
        from django.utils.module_loading import import_string

        self.generate_token(valid_secs=settings.GONGZHI_SMS_OTP_VALIDITY_SECONDS)
        text = f"【共治】您的登录验证码为 {self.token}，{settings.GONGZHI_SMS_OTP_VALIDITY_SECONDS // 60} 分钟内有效。如非本人操作，请忽略。"
        # A dotted path, not an import of gongzhi.cases: accounts sits below cases in the layers.
        import_string(settings.GONGZHI_SMS_BACKEND)().send(self.phone, text)
        return "验证码已发送"

    def verify_token(self, token):
        allowed, _info = self.verify_is_allowed()
        if not allowed:
            return False
        verified = super().verify_token(str(token).strip())
        if verified:
            self.throttle_reset()
        else:
            self.throttle_increment()
        return verified
