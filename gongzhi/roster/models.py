"""An uploaded roster waiting for confirmation: the file, its dry-run report, what was applied;
and the county's roster settings (how long an unconfirmed upload is kept)."""
from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from gongzhi.core.scoping import ScopedManager, ScopeRule, county_wide, in_territory


class RosterKind(models.TextChoices):
    HOUSEHOLDS = "households", _("Households and persons")
    GRIDS = "grids", _("Grids")


class ImportStatus(models.TextChoices):
    CHECKED = "checked", _("Checked, waiting for confirmation")
    APPLIED = "applied", _("Imported")
    CANCELLED = "cancelled", _("Cancelled")
    EXPIRED = "expired", _("Expired unconfirmed, file deleted")


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
    # Set when the retention sweep deleted the file and the report's row details (names, ID
    # numbers) of an upload nobody confirmed; also the sweep's claim marker.
    purged_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedManager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            # The retention sweep reads only what it may still purge: proportional to what is due.
            models.Index(fields=["created_at"], name="roster_batch_unpurged",
                         condition=Q(purged_at__isnull=True, status__in=["checked", "cancelled"])),
        ]
        permissions = [
            ("import_roster", "Can import household, person and grid rosters"),
            ("export_roster", "Can export rosters"),
        ]

    def __str__(self):
        return f"{self.filename} ({self.get_status_display()})"

    scope_rule = ScopeRule(region=in_territory(county="county_id_cache", town="town_id_cache", village="village_id"))


DEFAULT_UNCONFIRMED_RETENTION_DAYS = 7


class RosterSettings(models.Model):
    """One row per county; a county without a row keeps unconfirmed uploads for the default."""

    county = models.OneToOneField("registry.Region", on_delete=models.PROTECT, related_name="+")
    unconfirmed_retention_days = models.PositiveSmallIntegerField(
        _("keep unconfirmed roster uploads for (days)"), default=DEFAULT_UNCONFIRMED_RETENTION_DAYS,
        validators=[MinValueValidator(1), MaxValueValidator(90)],
        help_text=_("An uploaded roster holds ID numbers: after this many days without confirmation the file "
                    "and the rows of its report are deleted."))
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedManager()

    class Meta:
        verbose_name = _("roster settings")
        verbose_name_plural = _("roster settings")

    def __str__(self):
        return f"{self.county_id}: {self.unconfirmed_retention_days}"

    # A county's setting: only a county-wide (or "all") grant reaches it, never a town's.
    scope_rule = ScopeRule(region=county_wide("county_id"))
