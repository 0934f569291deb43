"""The audit trail, shared by every app.

``AuditLog`` is append-only *in the database*: triggers created by migration 0002 reject every
UPDATE and every DELETE of a row younger than 183 days (the retention floor, "kept at least six
months"). Application code writes it only through ``gongzhi.core.audit.audit_record``.
"""
from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .scoping import ScopedManager, ScopeRule, in_territory


class AuditAction(models.TextChoices):
    CREATE = "create", _("Create")
    UPDATE = "update", _("Update")
    DELETE = "delete", _("Delete")
    REVEAL = "reveal", _("Reveal masked field")
    IMPORT = "import", _("Import")
    EXPORT = "export", _("Export")
    GENERATE = "generate", _("Generate demo data")
    TRANSITION = "transition", _("Workflow step")


class AuditLog(models.Model):
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    # No database constraint: deleting a user must never touch (i.e. UPDATE) audit rows.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.DO_NOTHING,
        db_constraint=False, related_name="+",
    )
    actor_username = models.CharField(max_length=150, blank=True)
    request_id = models.CharField(max_length=64, blank=True, db_index=True)
    action = models.CharField(max_length=16, choices=AuditAction.choices)
    object_type = models.CharField(max_length=100)  # "app_label.model"
    object_id = models.CharField(max_length=64, blank=True)
    object_repr = models.CharField(max_length=200, blank=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    changed_fields = models.JSONField(default=list, blank=True)
    note = models.TextField(blank=True)
    # Territory of the object, copied so an auditor of one town sees that town's rows only.
    county_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    town_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    village_id = models.BigIntegerField(null=True, blank=True, db_index=True)

    objects = models.Manager()
    objects_scoped = ScopedManager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id"])]
        verbose_name = _("audit record")
        verbose_name_plural = _("audit records")

    def __str__(self):
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_username} {self.action} {self.object_type}#{self.object_id}"

    scope_rule = ScopeRule(region=in_territory())


class DayKind(models.TextChoices):
    HOLIDAY = "holiday", _("Public holiday")
    ADJUSTED_WORKDAY = "adjusted_workday", _("Make-up working day")


class WorkdayCalendarYear(models.Model):
    """One year of the State Council's holiday arrangement, as loaded (see ``core/workdays.py``).

    A year is either here, with every holiday and make-up working day of that year, or missing —
    then working days fall back to Monday–Friday and the home page and the sweep say so. The
    arrangement is published each autumn; the county administrator loads it
    (``core.load_workdaycalendar``) from a file or pasted lines, or ``gongzhi load_holidays FILE``.
    """

    year = models.PositiveSmallIntegerField(unique=True)
    source = models.CharField(max_length=200, blank=True)
    loaded_at = models.DateTimeField(auto_now=True)
    loaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="+")

    class Meta:
        ordering = ["year"]
        permissions = [("load_workdaycalendar", "Can load the yearly holiday table")]
        verbose_name = _("holiday table year")
        verbose_name_plural = _("holiday table years")

    def __str__(self):
        return str(self.year)


class CalendarDay(models.Model):
    """A day that is not what its weekday says: a public holiday, or a make-up working day (调休上班)."""

    calendar = models.ForeignKey(WorkdayCalendarYear, on_delete=models.CASCADE, related_name="days")
    date = models.DateField(unique=True)
    kind = models.CharField(max_length=16, choices=DayKind.choices)
    name = models.CharField(max_length=60, blank=True)

    class Meta:
        ordering = ["date"]
        verbose_name = _("holiday table day")
        verbose_name_plural = _("holiday table days")

    def __str__(self):
        return f"{self.date} {self.get_kind_display()} {self.name}"
