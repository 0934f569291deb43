"""Three lines of contact and household care (三线联系 and 两化, DOMAIN.md §3.1).

What lives here
* County settings and rules as *data*: ``CareSettings`` (visit intervals, the reception weekday,
  the return-to-poverty watch line), ``LineLimit`` (how many households each line keeps in touch
  with), ``ClassRule`` (the green/yellow/red rules, condition kinds with parameters).
* Derived state, always reproducible from the registry's facts: ``HouseholdClass`` (one row per
  household: the computed class, its reasons in Chinese and the inputs they came from) and its
  history ``HouseholdClassChange``.
* Work records of the grassroots: ``ContactRecord``, ``ReceptionSession``/``ReceptionSuggestion``,
  ``CarePlan``/``Visit``/``CareAlert``, ``ArchiveChange`` (一户一档 kept current), ``Patrol``/
  ``PatrolProblem``, ``WatchEvent`` and ``IncomeObservation`` (防返贫监测).

The three-line assignment table itself is ``registry.ContactAssignment``: rows are ended, never
deleted, so the table is its own history. ``AssignmentProposal`` holds a proposed assignment for
a village until the village secretary confirms it.

Every model holding people's data carries the cached territory columns (``county``, ``town``,
``village``) and uses ``ScopedManager`` with a ``scope_rule``, as the registry does.
"""
from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from gongzhi.core.scoping import ScopedManager, ScopeRule, either, in_grant_county, in_grid_village, in_territory, under_grid
from gongzhi.registry.models import ContactAssignment, ContactLine, TerritoryMixin


def _contacted_households(grant):
    return ContactAssignment.objects.filter(person_id=grant.person_id, ended_on__isnull=True).values("household_id")


class HouseholdScoped(TerritoryMixin):
    """Rows about one household: scoped like the household itself."""

    class Meta:
        abstract = True

    scope_rule = ScopeRule(region=in_territory(region="household__region_id"),
                           grid=under_grid("household__grid__path"),
                           contacts=lambda g: Q(household_id__in=_contacted_households(g)))


class TerritoryScoped(TerritoryMixin):
    """Rows that belong to a territory but to no single household (sessions, settings, rules)."""

    class Meta:
        abstract = True

    scope_rule = ScopeRule(region=in_territory(), grid=in_grid_village())


# ---------------------------------------------------------------------------------------------
# settings and rules (data the county edits)


class CareSettings(TerritoryScoped):
    """One row per county; a county without a row uses the defaults below."""

    reception_weekday = models.PositiveSmallIntegerField(
        _("voter reception weekday"), default=2, validators=[MaxValueValidator(6)],
        help_text=_("0 = Monday … 6 = Sunday. The seed's counties receive voters every Wednesday."))
    red_visit_days = models.PositiveSmallIntegerField(_("red household visit interval (days)"), default=7)
    yellow_visit_days = models.PositiveSmallIntegerField(_("yellow household visit interval (days)"), default=30)
    due_soon_days = models.PositiveSmallIntegerField(_("warn this many days before a visit is due"), default=2)
    watch_income_line = models.DecimalField(
        _("watch line: per-capita annual income (CNY)"), max_digits=10, decimal_places=2, default=Decimal("7100"),
        help_text=_("Set each year by the province for return-to-poverty monitoring."))
    watch_drop_share = models.DecimalField(
        _("watch: income drop share"), max_digits=4, decimal_places=2, default=Decimal("0.30"),
        validators=[MinValueValidator(Decimal("0.01")), MaxValueValidator(Decimal("1"))])
    watch_event_months = models.PositiveSmallIntegerField(_("watch: major expenses count for (months)"), default=12)

    objects = ScopedManager()

    class Meta:
        verbose_name = _("care settings")
        verbose_name_plural = _("care settings")
        constraints = [models.UniqueConstraint(fields=["county"], name="care_settings_one_per_county")]


class LineLimit(TerritoryScoped):
    """How many households one person of a line keeps in touch with (3–5 in the seed)."""

    line = models.CharField(_("line"), max_length=16, choices=ContactLine.choices)
    min_households = models.PositiveSmallIntegerField(_("at least"), default=3)
    max_households = models.PositiveSmallIntegerField(_("at most"), default=5)

    objects = ScopedManager()

    class Meta:
        ordering = ["line"]
        constraints = [
            models.UniqueConstraint(fields=["county", "line"], name="care_line_limit_unique"),
            models.UniqueConstraint(fields=["line"], condition=Q(county__isnull=True), name="care_line_limit_default"),
        ]

    def __str__(self):
        return f"{self.get_line_display()} {self.min_households}–{self.max_households}"


class Colour(models.TextChoices):
    RED = "red", _("Heart-linked household (red)")
    YELLOW = "yellow", _("Concern household (yellow)")
    GREEN = "green", _("Reassured household (green)")
    UNDECIDED = "undecided", _("Undecided by the rules")


COLOUR_ZH = {"red": "连心户", "yellow": "关心户", "green": "放心户", "undecided": "未判定"}
#: Red outranks yellow outranks green: a household matching a red rule is red whatever else holds.
COLOUR_PRECEDENCE = ["red", "yellow", "green"]


class RuleKind(models.TextChoices):
    LEFT_BEHIND = "left_behind", _("Has left-behind members")
    POVERTY_STATUS = "poverty_status", _("Poverty status is one of")
    DISABLED_MEMBER = "disabled_member", _("Has a member with a registered disability")
    RELEASED_MEMBER = "released_member", _("Has a member released from prison within N years")
    ON_WATCH_LIST = "on_watch_list", _("On the return-to-poverty watch list")
    INCOME_VS_AVERAGE = "income_vs_average", _("Income compared with the village average")
    PEACEFUL_RUNNING = "peaceful_running", _("Peaceful family N years running")
    NOT_PEACEFUL_RECENT = "not_peaceful_recent", _("Not a peaceful family in the last N years")


# County rules, and the platform defaults every county starts from.
_county_or_default = either(in_grant_county(), lambda g: Q(county__isnull=True))


class ClassRule(models.Model):
    """One condition of the colour rules. Conditions with the same colour and group are AND-ed;
    groups of a colour are OR-ed; red outranks yellow outranks green. Rows with no county are the
    defaults (the seed's rules); a county that edits its rules gets its own copy first.
    """

    county = models.ForeignKey("registry.Region", null=True, blank=True, on_delete=models.CASCADE,
                               related_name="+")
    colour = models.CharField(_("colour"), max_length=10, choices=[c for c in Colour.choices if c[0] != "undecided"])
    group = models.PositiveSmallIntegerField(_("group"), default=1,
                                             help_text=_("Conditions in one group must all hold."))
    kind = models.CharField(_("condition"), max_length=24, choices=RuleKind.choices)
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    enabled = models.BooleanField(_("enabled"), default=True)
    note = models.CharField(_("note"), max_length=200, blank=True)

    objects = ScopedManager()

    class Meta:
        ordering = ["county_id", "colour", "group", "id"]

    def __str__(self):
        return f"{COLOUR_ZH[self.colour]} #{self.group} {self.get_kind_display()}"

    scope_rule = ScopeRule(region=_county_or_default, grid=_county_or_default)


# ---------------------------------------------------------------------------------------------
# classification (derived, reproducible)


class HouseholdClass(HouseholdScoped):
    """The household's current class: computed by the rules, or overridden with a reason until a
    date. ``inputs`` keeps the facts the rules saw, so every class can be reproduced."""

    household = models.OneToOneField("registry.Household", primary_key=True, on_delete=models.CASCADE,
                                     related_name="care_class")
    grid = models.ForeignKey("registry.Grid", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                             db_index=False)  # the (grid, colour) index serves
    colour = models.CharField(_("computed class"), max_length=10, choices=Colour.choices)
    reasons = models.JSONField(_("reasons"), default=list)
    inputs = models.JSONField(_("inputs"), default=dict)
    computed_at = models.DateTimeField()
    override_colour = models.CharField(_("override"), max_length=10, choices=Colour.choices, blank=True)
    override_reason = models.CharField(_("override reason"), max_length=300, blank=True)
    override_expires_on = models.DateField(_("override expires on"), null=True, blank=True)
    override_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+", db_index=False)

    objects = ScopedManager()

    class Meta:
        # Counting by colour per village or grid is one index range each. On PostgreSQL the table is
        # kept at fillfactor 70 (migration 0003) so the nightly recompute updates rows in place (HOT).
        indexes = [models.Index(fields=["village", "colour"]), models.Index(fields=["grid", "colour"])]
        verbose_name = _("household class")
        permissions = [("override_householdclass", "Can override a household's class, with a reason and an expiry")]

    def __str__(self):
        return f"{self.household_id} {COLOUR_ZH[self.effective_colour]}"

    def override_active(self, today=None) -> bool:
        import datetime as dt

        today = today or dt.date.today()
        return bool(self.override_colour) and self.override_expires_on is not None and self.override_expires_on >= today

    @property
    def effective_colour(self) -> str:
        return self.override_colour if self.override_active() else self.colour

    @property
    def summary(self) -> str:
        """连心户：留守老人 张某（78岁）；残疾人 李某（二级）"""
        if self.override_active():
            return f"{COLOUR_ZH[self.override_colour]}（人工调整，至{self.override_expires_on:%Y-%m-%d}）：{self.override_reason}"
        return f"{COLOUR_ZH[self.colour]}：{'；'.join(self.reasons)}"


class HouseholdClassChange(HouseholdScoped):
    """History: one row each time a household's class or its reasons change."""

    household = models.ForeignKey("registry.Household", on_delete=models.CASCADE, related_name="care_class_changes")
    colour_from = models.CharField(max_length=10, choices=Colour.choices, blank=True)
    colour_to = models.CharField(max_length=10, choices=Colour.choices)
    reasons = models.JSONField(default=list)
    source = models.CharField(max_length=16, choices=[("rules", _("Rules")), ("override", _("Manual override")),
                                                      ("override_end", _("Override ended"))])
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    at = models.DateTimeField()

    objects = ScopedManager()

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["household", "at"])]


# ---------------------------------------------------------------------------------------------
# three-line contact


class AssignmentProposal(TerritoryScoped):
    """A proposed three-line assignment for a village, confirmed (or edited) by its secretary."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        CONFIRMED = "confirmed", _("Confirmed")
        DISCARDED = "discarded", _("Discarded")

    region = models.ForeignKey("registry.Region", on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedManager()

    class Meta:
        ordering = ["-created_at"]


class ProposalItem(models.Model):
    proposal = models.ForeignKey(AssignmentProposal, on_delete=models.CASCADE, related_name="items")
    household = models.ForeignKey("registry.Household", on_delete=models.CASCADE, related_name="+")
    person = models.ForeignKey("registry.Person", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    line = models.CharField(max_length=16, choices=ContactLine.choices, blank=True)
    reason = models.CharField(max_length=200, blank=True)
    assignment = models.ForeignKey(ContactAssignment, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")

    class Meta:
        ordering = ["household__code"]


class ContactMethod(models.TextChoices):
    VISIT = "visit", _("Home visit")
    PHONE = "phone", _("Phone")
    WECHAT = "wechat", _("WeChat")
    MEETING = "meeting", _("Meeting")


class ContactRecord(HouseholdScoped):
    household = models.ForeignKey("registry.Household", on_delete=models.PROTECT, related_name="care_contacts")
    person = models.ForeignKey("registry.Person", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                               help_text=_("The three-line person or grid worker who made the contact."))
    line = models.CharField(max_length=16, choices=ContactLine.choices, blank=True)
    contacted_at = models.DateTimeField(_("when"))
    method = models.CharField(_("how"), max_length=10, choices=ContactMethod.choices)
    heard = models.TextField(_("what was heard"))
    needs_action = models.BooleanField(_("needs action"), default=False)
    case_ref = models.CharField(_("case"), max_length=40, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager()

    class Meta:
        ordering = ["-contacted_at", "-id"]
        indexes = [models.Index(fields=["household", "contacted_at"])]


class ReceptionSession(TerritoryScoped):
    """A voter reception day (选民接待日) at a deputy liaison station."""

    region = models.ForeignKey("registry.Region", on_delete=models.PROTECT, related_name="+")
    held_on = models.DateField(_("held on"))
    station = models.CharField(_("liaison station"), max_length=100, blank=True)
    deputies = models.ManyToManyField("registry.Deputy", blank=True, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager()

    class Meta:
        ordering = ["-held_on", "-id"]


class ReceptionSuggestion(TerritoryScoped):
    session = models.ForeignKey(ReceptionSession, on_delete=models.CASCADE, related_name="suggestions")
    deputy = models.ForeignKey("registry.Deputy", on_delete=models.PROTECT, related_name="+")
    voter_name = models.CharField(_("voter"), max_length=50, blank=True)
    household = models.ForeignKey("registry.Household", null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="+")
    content = models.TextField(_("suggestion"))
    needs_action = models.BooleanField(_("needs action"), default=False)
    case_ref = models.CharField(max_length=40, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager()

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["deputy", "created_at"])]


# ---------------------------------------------------------------------------------------------
# care plans and visits


class CarePlan(HouseholdScoped):
    household = models.ForeignKey("registry.Household", on_delete=models.CASCADE, related_name="care_plans")
    colour = models.CharField(max_length=10, choices=Colour.choices)
    helper = models.ForeignKey("registry.Person", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                               help_text=_("Red: the one three-line helper; yellow: the grid worker."))
    interval_days = models.PositiveSmallIntegerField()
    started_on = models.DateField()
    ended_on = models.DateField(null=True, blank=True)
    ended_reason = models.CharField(max_length=200, blank=True)

    objects = ScopedManager()

    class Meta:
        ordering = ["-started_on", "-id"]
        constraints = [models.UniqueConstraint(fields=["household"], condition=Q(ended_on__isnull=True),
                                               name="care_one_active_plan_per_household")]


class Visit(HouseholdScoped):
    plan = models.ForeignKey(CarePlan, on_delete=models.CASCADE, related_name="visits")
    household = models.ForeignKey("registry.Household", on_delete=models.CASCADE, related_name="care_visits")
    due_on = models.DateField(_("due on"), db_index=True)
    done_at = models.DateTimeField(_("visited at"), null=True, blank=True)
    visitor = models.ForeignKey("registry.Person", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    note = models.TextField(_("what was found"), blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    cancelled = models.BooleanField(default=False)
    due_soon_warned_at = models.DateTimeField(null=True, blank=True)
    overdue_warned_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedManager()

    class Meta:
        ordering = ["due_on", "id"]
        indexes = [
            models.Index(fields=["due_on"], condition=Q(done_at__isnull=True, cancelled=False),
                         name="care_visit_open_due"),
            # The visit sweep's (plans.sweep_visits): open visits not yet warned, per warning, so a
            # pass reads what is due and not every overdue visit already warned.
            models.Index(fields=["due_on", "id"], name="care_visit_sweep_overdue",
                         condition=Q(done_at__isnull=True, cancelled=False, overdue_warned_at__isnull=True)),
            models.Index(fields=["due_on", "id"], name="care_visit_sweep_due_soon",
                         condition=Q(done_at__isnull=True, cancelled=False, due_soon_warned_at__isnull=True)),
        ]

    @property
    def is_open(self):
        return self.done_at is None and not self.cancelled


class CareAlert(HouseholdScoped):
    """A warning for one person: a visit is due soon or overdue."""

    class Kind(models.TextChoices):
        DUE_SOON = "due_soon", _("Visit due soon")
        OVERDUE = "overdue", _("Visit overdue")

    visit = models.ForeignKey(Visit, on_delete=models.CASCADE, related_name="alerts")
    household = models.ForeignKey("registry.Household", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    recipient = models.ForeignKey("registry.Person", on_delete=models.CASCADE, related_name="care_alerts")
    recipient_role = models.CharField(max_length=10, choices=[("helper", _("Helper")), ("grid_head", _("Grid head"))])
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedManager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["visit", "kind", "recipient"], name="care_alert_once")]


# ---------------------------------------------------------------------------------------------
# the household archive kept current (一户一档)


class ChangeKind(models.TextChoices):
    BIRTH = "birth", _("Birth")
    DEATH = "death", _("Death")
    MOVE_IN = "move_in", _("Moving in")
    MOVE_OUT = "move_out", _("Moving out")
    INCOME = "income", _("Income change")
    DISABILITY = "disability", _("Disability registered")
    RELEASED = "released", _("Released from prison and back home")


#: Which changes the village must confirm before they take effect. An income change is the grid
#: worker's own observation and takes effect at once (it is still kept and audited); changes to
#: who lives in the household, or to a person's legal facts, wait for the village.
NEEDS_CONFIRMATION = {"birth": True, "death": True, "move_in": True, "move_out": True, "income": False,
                      "disability": True, "released": True}


class ArchiveChange(HouseholdScoped):
    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for the village")
        CONFIRMED = "confirmed", _("Confirmed and applied")
        REJECTED = "rejected", _("Rejected")

    household = models.ForeignKey("registry.Household", on_delete=models.CASCADE, related_name="archive_changes")
    kind = models.CharField(_("change"), max_length=12, choices=ChangeKind.choices)
    person = models.ForeignKey("registry.Person", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    payload = models.JSONField(default=dict)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.CharField(max_length=300, blank=True)

    objects = ScopedManager()

    class Meta:
        ordering = ["-recorded_at", "-id"]
        permissions = [("confirm_archivechange", "Can confirm or reject household archive changes")]


class IncomeObservation(HouseholdScoped):
    """Income as observed over time; the return-to-poverty watch compares the last two."""

    household = models.ForeignKey("registry.Household", on_delete=models.CASCADE, related_name="income_observations")
    observed_on = models.DateField()
    annual_income = models.DecimalField(max_digits=12, decimal_places=2)
    members = models.PositiveSmallIntegerField()
    source = models.CharField(max_length=100, blank=True)

    objects = ScopedManager()

    class Meta:
        ordering = ["-observed_on", "-id"]
        indexes = [models.Index(fields=["household", "observed_on"])]


class WatchEvent(HouseholdScoped):
    """A sudden major expense (serious illness, disaster …) that puts a household on the watch list."""

    class Kind(models.TextChoices):
        ILLNESS = "illness", _("Serious illness")
        DISASTER = "disaster", _("Natural disaster")
        ACCIDENT = "accident", _("Accident")
        OTHER = "other", _("Other major expense")

    household = models.ForeignKey("registry.Household", on_delete=models.CASCADE, related_name="watch_events")
    kind = models.CharField(_("what happened"), max_length=10, choices=Kind.choices)
    occurred_on = models.DateField(_("when"))
    amount = models.DecimalField(_("expense (CNY)"), max_digits=12, decimal_places=2, null=True, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager()

    class Meta:
        ordering = ["-occurred_on", "-id"]
        indexes = [models.Index(fields=["household", "occurred_on"])]


# ---------------------------------------------------------------------------------------------
# grid patrols


class Patrol(TerritoryMixin):
    grid = models.ForeignKey("registry.Grid", on_delete=models.PROTECT, related_name="care_patrols")
    worker = models.ForeignKey("registry.Person", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    started_at = models.DateTimeField(_("started"))
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)
    route_note = models.CharField(_("route"), max_length=300, blank=True)

    objects = ScopedManager()

    class Meta:
        ordering = ["-started_at", "-id"]

    scope_rule = ScopeRule(region=in_territory(region="grid__region_id"), grid=under_grid("grid__path"))


class PatrolProblem(TerritoryMixin):
    patrol = models.ForeignKey(Patrol, on_delete=models.CASCADE, related_name="problems")
    household = models.ForeignKey("registry.Household", null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="+")
    description = models.TextField(_("problem found"))
    location = models.CharField(_("where"), max_length=200, blank=True)
    case_ref = models.CharField(max_length=40, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager()

    class Meta:
        ordering = ["id"]

    scope_rule = ScopeRule(region=in_territory(region="patrol__grid__region_id"), grid=under_grid("patrol__grid__path"))
