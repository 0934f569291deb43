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

from gongzhi.core.scoping import Grant


class User(AbstractUser):
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
        return Grant(kind="all")

    def scope_label(self) -> str:
        target = self.region or self.grid or self.department
        return str(target) if target else str(ScopeKind(self.role.scope_kind).label)
