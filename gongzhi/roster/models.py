"""An uploaded roster waiting for confirmation: the file, its dry-run report, what was applied."""
from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from gongzhi.core.scoping import ScopedManager, ScopeRule, in_territory


class RosterKind(models.TextChoices):
    HOUSEHOLDS = "households", _("Households and persons")
    GRIDS = "grids", _("Grids")


class ImportStatus(models.TextChoices):
    CHECKED = "checked", _("Checked, waiting for confirmation")
    APPLIED = "applied", _("Imported")
    CANCELLED = "cancelled", _("Cancelled")


class ImportMode(models.TextChoices):
    ALL = "all", _("All rows (all or nothing)")
    VALID_ONLY = "valid_only", _("Only the valid rows' households")


class ImportBatch(models.Model):
    """The file is kept between the check and the confirmation (and cleared on cancel); the
    report is the latest check's, re-done at confirmation; ``mode`` is how it was imported."""

    kind = models.CharField(max_length=16, choices=RosterKind.choices)
    village = models.ForeignKey("registry.Region", on_delete=models.PROTECT, related_name="+")
    county_id_cache = models.BigIntegerField(null=True)
    town_id_cache = models.BigIntegerField(null=True)
    filename = models.CharField(max_length=200)
    content = models.BinaryField()
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    status = models.CharField(max_length=16, choices=ImportStatus.choices, default=ImportStatus.CHECKED)
    report = models.JSONField(default=dict)
    applied_at = models.DateTimeField(null=True, blank=True)
    mode = models.CharField(max_length=16, choices=ImportMode.choices, blank=True)

    objects = ScopedManager()

    class Meta:
        ordering = ["-created_at"]
        permissions = [
            ("import_roster", "Can import household, person and grid rosters"),
            ("export_roster", "Can export rosters"),
        ]

    def __str__(self):
        return f"{self.filename} ({self.get_status_display()})"

    scope_rule = ScopeRule(region=in_territory(county="county_id_cache", town="town_id_cache", village="village_id"))
