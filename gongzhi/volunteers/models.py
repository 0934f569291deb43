"""Volunteers (DOMAIN.md §3.6): the corps, certification by field and level, service tasks and
hours, the points ledger and the catalogue it is spent on.

What lives here
* ``Volunteer``: a registry person serving a village (乡贤, retired party members and cadres,
  community volunteers, professionals). The person's own login (a ``volunteer`` role, a contacts
  grant naming the person) reaches their own record and nothing else.
* ``Certification``: a field (legal, medical …) at a level (初级 / 中级 / 高级), who certified it,
  when, the certifying body, when it expires; revoked with a reason, never deleted.
* County rules as data: ``ServiceKind`` (what a kind of service requires — a field and a minimum
  level — what an hour earns, the longest session) and ``PointsSettings`` (expiry, yearly cap).
* ``ServiceTask`` (an activity or task needing volunteers, perhaps for a resident's case) and
  ``SignUp`` (signed up → assigned → checked in → checked out → hours confirmed; cancelled or
  refused with a reason).
* The points ledger, double entry: ``PointsAccount`` (each volunteer's, and per county the issuance
  account, the redemption and expiry sinks, the corrections account), ``PointsTransaction`` (earn,
  redeem, refund, expire, correct) and its ``PointsPosting`` rows, which sum to zero. Both ledger
  tables are append-only in the database; a transaction that does not balance cannot commit
  (a deferred constraint trigger on PostgreSQL, migration 0002); a volunteer's balance is a
  cached column updated under the account's row lock and never below zero (a check constraint).
* ``CatalogueItem`` (community services and benefits, with stock that cannot go below zero) and
  ``Redemption`` (cancelled by a compensating refund, never by editing the ledger).

Every row of people's data carries the cached territory of the volunteer's village, so a town's
rows are one indexed filter; county rules and the catalogue are read county-wide.
"""
from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from gongzhi.core.scoping import (
    NOTHING, ScopedManager, ScopeRule, in_grant_county, in_grid_village, in_territory, of_person, through_rule,
)
from gongzhi.registry.models import TerritoryMixin

USER = settings.AUTH_USER_MODEL


def _own_village_tasks(grant) -> Q:
    """A volunteer's own login: tasks of the village they serve, and town-wide tasks of its town."""
    if not grant.person_id:
        return NOTHING
    mine = Volunteer.objects.filter(person_id=grant.person_id, status=VolunteerStatus.ACTIVE)
    return (Q(village_id__in=mine.values("village_id"))
            | Q(village_id__isnull=True, town_id__in=mine.values("town_id")))


# People's rows: region grants by territory, grid workers over the village their grid lies in (the
# village's corps serves the whole village), a volunteer's login over their own rows.
PEOPLE_RULE = ScopeRule(region=in_territory(), grid=in_grid_village(), contacts=of_person("volunteer__person_id"))
# County rules and the catalogue: read by anyone working in the county.
COUNTY_RULE = ScopeRule(region=in_grant_county(), grid=in_grant_county(), contacts=in_grant_county(),
                        department=in_grant_county())


class VolunteerCategory(models.TextChoices):
    WORTHY = "worthy", _("Village worthy (乡贤)")
    RETIRED_MEMBER = "retired_member", _("Retired party member (老党员)")
    RETIRED_CADRE = "retired_cadre", _("Retired cadre (退休干部)")
    COMMUNITY = "community", _("Community volunteer (社区志愿者)")
    PROFESSIONAL = "professional", _("Professional (专业人才)")


class VolunteerStatus(models.TextChoices):
    ACTIVE = "active", _("Serving")
    PAUSED = "paused", _("Paused")
    LEFT = "left", _("Left the corps")


class Volunteer(TerritoryMixin):
    person = models.OneToOneField("registry.Person", on_delete=models.PROTECT, related_name="volunteer")
    region = models.ForeignKey("registry.Region", on_delete=models.PROTECT, related_name="+",
                               help_text=_("The village or community the volunteer serves."))
    grid = models.ForeignKey("registry.Grid", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    category = models.CharField(_("volunteer category"), max_length=20, choices=VolunteerCategory.choices)
    skills = models.CharField(_("skills and experience"), max_length=300, blank=True)
    joined_on = models.DateField(_("joined the corps on"))
    status = models.CharField(_("volunteer status"), max_length=10, choices=VolunteerStatus.choices,
                              default=VolunteerStatus.ACTIVE)
    status_reason = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager()
    scope_rule = ScopeRule(region=in_territory(), grid=in_grid_village(), contacts=of_person("person_id"))

    class Meta:
        ordering = ["region_id", "id"]
        verbose_name = _("volunteer")
        permissions = [("view_volunteer_analytics", "Can see the volunteer corps' analytics")]
        indexes = [models.Index(fields=["village", "status"])]

    def __str__(self):
        return self.person.name if self.person_id else "志愿者"


class Field(models.TextChoices):
    LEGAL = "legal", _("Legal (法律)")
    MEDICAL = "medical", _("Medical (医疗)")
    PSYCHOLOGICAL = "psychological", _("Psychological (心理)")
    TECHNICAL = "technical", _("Technical and agricultural (技术)")
    EDUCATION = "education", _("Education and tutoring (教育)")
    ELDER_CARE = "elder_care", _("Elder care (养老照护)")
    RESCUE = "rescue", _("Emergency rescue (应急救援)")
    MEDIATION = "mediation", _("Dispute mediation (矛盾调解)")


class Level(models.IntegerChoices):
    JUNIOR = 1, _("Junior (初级)")
    MIDDLE = 2, _("Intermediate (中级)")
    SENIOR = 3, _("Senior (高级)")


FIELD_NAMES = {value: str(label).split("(")[-1].rstrip(")") for value, label in Field.choices}
LEVEL_NAMES = {1: "初级", 2: "中级", 3: "高级"}


class Certification(TerritoryMixin):
    """Valid on a day when it is not revoked, was issued by then and has not expired."""

    volunteer = models.ForeignKey(Volunteer, on_delete=models.PROTECT, related_name="certifications")
    field = models.CharField(_("certified field"), max_length=20, choices=Field.choices)
    level = models.PositiveSmallIntegerField(_("certified level"), choices=Level.choices)
    certifying_body = models.CharField(_("certifying body"), max_length=100)
    certificate_no = models.CharField(_("certificate number"), max_length=50, blank=True)
    certified_on = models.DateField(_("certified on"))
    expires_on = models.DateField(_("certificate expires on"))
    certified_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    revoke_reason = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager()
    scope_rule = PEOPLE_RULE

    class Meta:
        ordering = ["volunteer_id", "field", "-level"]
        verbose_name = _("certification")
        constraints = [
            models.CheckConstraint(condition=Q(expires_on__gt=models.F("certified_on")),
                                   name="volunteers_cert_expires_after_issue"),
            models.CheckConstraint(condition=Q(level__gte=1, level__lte=3), name="volunteers_cert_level_1_3"),
        ]
        indexes = [models.Index(fields=["expires_on"], condition=Q(revoked_at__isnull=True),
                                name="volunteers_cert_live_expiry")]

    def __str__(self):
        return f"{FIELD_NAMES.get(self.field, self.field)}{LEVEL_NAMES.get(self.level, '')}"

    def valid_on(self, day) -> bool:
        return self.revoked_at is None and self.certified_on <= day < self.expires_on


class ServiceKind(TerritoryMixin):
    """A kind of service the county offers, and what it asks of the volunteer who serves it."""

    name = models.CharField(_("service kind"), max_length=50)
    description = models.CharField(_("what the service is"), max_length=300, blank=True)
    required_field = models.CharField(_("required certified field"), max_length=20, choices=Field.choices, blank=True)
    min_level = models.PositiveSmallIntegerField(_("minimum certified level"), choices=Level.choices, null=True,
                                                 blank=True)
    points_per_hour = models.PositiveSmallIntegerField(_("points per confirmed hour"), default=10,
                                                       validators=[MinValueValidator(1), MaxValueValidator(1000)])
    max_hours = models.DecimalField(_("longest session (hours)"), max_digits=3, decimal_places=1, default=Decimal("4"),
                                    validators=[MinValueValidator(Decimal("0.5")), MaxValueValidator(Decimal("12"))])
    active = models.BooleanField(_("offered"), default=True)

    objects = ScopedManager()
    scope_rule = COUNTY_RULE

    class Meta:
        ordering = ["county_id", "name"]
        verbose_name = _("service kind")
        constraints = [
            models.UniqueConstraint(fields=["county", "name"], name="volunteers_kind_unique_name"),
            models.CheckConstraint(condition=(Q(required_field="") & Q(min_level__isnull=True))
                                   | (~Q(required_field="") & Q(min_level__gte=1, min_level__lte=3)),
                                   name="volunteers_kind_field_with_level"),
        ]

    def __str__(self):
        return self.name

    @property
    def requirement(self) -> str:
        if not self.required_field:
            return "无需资质"
        return f"需{FIELD_NAMES[self.required_field]}{LEVEL_NAMES[self.min_level]}及以上资质"


class PointsSettings(TerritoryMixin):
    """One row per county; a county without one uses the defaults."""

    expiry_months = models.PositiveSmallIntegerField(
        _("points expire after (months, 0 = never)"), default=24, validators=[MaxValueValidator(120)])
    yearly_cap = models.PositiveIntegerField(
        _("most points one volunteer earns in a year (0 = no cap)"), default=0, validators=[MaxValueValidator(10**6)])

    objects = ScopedManager()
    scope_rule = COUNTY_RULE

    class Meta:
        verbose_name = _("volunteer points settings")
        constraints = [models.UniqueConstraint(fields=["county"], name="volunteers_settings_one_per_county")]


class TaskStatus(models.TextChoices):
    OPEN = "open", _("Open for sign-up")
    CANCELLED = "cancelled", _("Service task cancelled")


class ServiceTask(TerritoryMixin):
    kind = models.ForeignKey(ServiceKind, on_delete=models.PROTECT, related_name="tasks")
    title = models.CharField(_("task title"), max_length=100)
    description = models.CharField(_("task description"), max_length=500, blank=True)
    region = models.ForeignKey("registry.Region", on_delete=models.PROTECT, related_name="+",
                               help_text=_("The village, or the town, the task serves."))
    place = models.CharField(_("place"), max_length=100)
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    slots = models.PositiveSmallIntegerField(_("volunteers needed"), default=1,
                                             validators=[MinValueValidator(1), MaxValueValidator(500)])
    organiser = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    # A consultation for a resident's matter: only the case's number is ever shown here.
    case = models.ForeignKey("cases.Case", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(_("task status"), max_length=10, choices=TaskStatus.choices, default=TaskStatus.OPEN)
    cancel_reason = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager()
    scope_rule = ScopeRule(region=in_territory(), grid=in_grid_village(), contacts=_own_village_tasks)

    class Meta:
        ordering = ["-starts_at", "-id"]
        verbose_name = _("service task")
        constraints = [models.CheckConstraint(condition=Q(ends_at__gt=models.F("starts_at")),
                                              name="volunteers_task_ends_after_start")]
        indexes = [models.Index(fields=["village", "starts_at"]), models.Index(fields=["town", "starts_at"])]

    def __str__(self):
        return self.title


class SignUpStatus(models.TextChoices):
    SIGNED_UP = "signed_up", _("Signed up")
    ASSIGNED = "assigned", _("Assigned")
    CHECKED_IN = "checked_in", _("Checked in")
    CHECKED_OUT = "checked_out", _("Checked out")
    CONFIRMED = "confirmed", _("Hours confirmed")
    CANCELLED = "cancelled", _("Sign-up cancelled")
    REFUSED = "refused", _("Not assigned")


LIVE_SIGNUP = (SignUpStatus.SIGNED_UP, SignUpStatus.ASSIGNED, SignUpStatus.CHECKED_IN, SignUpStatus.CHECKED_OUT,
               SignUpStatus.CONFIRMED)
TAKING_A_SLOT = (SignUpStatus.ASSIGNED, SignUpStatus.CHECKED_IN, SignUpStatus.CHECKED_OUT, SignUpStatus.CONFIRMED)


class SignUp(TerritoryMixin):
    task = models.ForeignKey(ServiceTask, on_delete=models.PROTECT, related_name="signups")
    volunteer = models.ForeignKey(Volunteer, on_delete=models.PROTECT, related_name="signups")
    status = models.CharField(_("sign-up status"), max_length=12, choices=SignUpStatus.choices,
                              default=SignUpStatus.SIGNED_UP)
    signed_up_at = models.DateTimeField()
    signed_up_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    assigned_at = models.DateTimeField(null=True, blank=True)
    assigned_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    checked_in_at = models.DateTimeField(null=True, blank=True)
    checked_out_at = models.DateTimeField(null=True, blank=True)
    hours_claimed = models.DecimalField(max_digits=4, decimal_places=1, null=True, blank=True)
    hours_confirmed = models.DecimalField(max_digits=4, decimal_places=1, null=True, blank=True)
    points_earned = models.PositiveIntegerField(default=0)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    confirmed_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    closed_reason = models.CharField(max_length=300, blank=True, help_text=_("Why it was cancelled or refused."))

    objects = ScopedManager()
    scope_rule = PEOPLE_RULE

    class Meta:
        ordering = ["task_id", "signed_up_at", "id"]
        verbose_name = _("sign-up")
        permissions = [("assign_signup", "Can assign a signed-up volunteer to a task"),
                       ("confirm_signup", "Can confirm a volunteer's hours")]
        constraints = [
            models.UniqueConstraint(fields=["task", "volunteer"], condition=Q(status__in=[s.value for s in LIVE_SIGNUP]),
                                    name="volunteers_one_live_signup"),
            models.CheckConstraint(condition=Q(hours_confirmed__isnull=True) | Q(hours_confirmed__gt=0),
                                   name="volunteers_hours_positive"),
            models.CheckConstraint(condition=Q(checked_out_at__isnull=True) | Q(checked_out_at__gte=models.F("checked_in_at")),
                                   name="volunteers_out_after_in"),
        ]

    def __str__(self):
        return f"{self.volunteer} · {self.task}"


# ---------------------------------------------------------------------------------------------
# the points ledger


class AccountKind(models.TextChoices):
    VOLUNTEER = "volunteer", _("A volunteer's points")
    ISSUANCE = "issuance", _("Points issued by the county")
    REDEMPTION = "redemption", _("Points spent in the catalogue")
    EXPIRY = "expiry", _("Points expired")
    CORRECTION = "correction", _("Ledger corrections")


class PointsAccount(TerritoryMixin):
    kind = models.CharField(_("points account kind"), max_length=12, choices=AccountKind.choices)
    volunteer = models.OneToOneField(Volunteer, null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="points_account")
    # The sum of the account's postings, kept under the account's row lock in the posting transaction.
    balance = models.BigIntegerField(default=0)

    objects = ScopedManager()
    scope_rule = ScopeRule(region=in_territory(), grid=in_grid_village(), contacts=of_person("volunteer__person_id"))

    class Meta:
        verbose_name = _("points account")
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=["issuance", "correction"]) | Q(balance__gte=0),
                                   name="volunteers_balance_never_negative"),
            models.CheckConstraint(condition=(Q(kind="volunteer") & Q(volunteer__isnull=False))
                                   | (~Q(kind="volunteer") & Q(volunteer__isnull=True)),
                                   name="volunteers_account_kind_owner"),
            models.UniqueConstraint(fields=["county", "kind"], condition=Q(volunteer__isnull=True),
                                    name="volunteers_one_system_account"),
        ]

    def __str__(self):
        return str(self.volunteer) if self.volunteer_id else self.get_kind_display()


class TransactionKind(models.TextChoices):
    EARN = "earn", _("Earned by service")
    REDEEM = "redeem", _("Redeemed")
    REFUND = "refund", _("Redemption cancelled")
    EXPIRE = "expire", _("Expired")
    CORRECT = "correct", _("Correction")


class PointsTransaction(TerritoryMixin):
    """One movement of points; its postings sum to zero. Append-only: a mistake is put right by a
    new transaction (a correction, a refund), never by editing one."""

    kind = models.CharField(_("points transaction kind"), max_length=10, choices=TransactionKind.choices)
    volunteer = models.ForeignKey(Volunteer, on_delete=models.PROTECT, related_name="points_transactions")
    amount = models.PositiveIntegerField(help_text=_("Points moved (the volunteer's side, unsigned)."))
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    signup = models.ForeignKey(SignUp, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    redemption = models.ForeignKey("Redemption", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(db_index=True)

    objects = ScopedManager()
    scope_rule = PEOPLE_RULE

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("points transaction")
        permissions = [("correct_pointstransaction", "Can correct the points ledger, with a reason")]
        constraints = [
            models.CheckConstraint(condition=~Q(kind="correct") | ~Q(reason=""), name="volunteers_correction_reason"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="volunteers_txn_amount_positive"),
            # A sign-up earns once; a redemption is taken once and refunded once.
            models.UniqueConstraint(fields=["signup"], condition=Q(kind="earn"), name="volunteers_earn_once"),
            models.UniqueConstraint(fields=["redemption", "kind"], condition=Q(redemption__isnull=False),
                                    name="volunteers_redemption_once"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.amount}"


class PointsPosting(models.Model):
    transaction = models.ForeignKey(PointsTransaction, on_delete=models.PROTECT, related_name="postings")
    account = models.ForeignKey(PointsAccount, on_delete=models.PROTECT, related_name="postings")
    amount = models.BigIntegerField()
    created_at = models.DateTimeField()

    objects = ScopedManager()
    scope_rule = through_rule("account", "volunteers.PointsAccount")

    class Meta:
        ordering = ["transaction_id", "id"]
        constraints = [models.CheckConstraint(condition=~Q(amount=0), name="volunteers_posting_not_zero")]
        indexes = [models.Index(fields=["account", "created_at"])]


# ---------------------------------------------------------------------------------------------
# the catalogue


class ItemKind(models.TextChoices):
    SERVICE = "service", _("Community service")
    BENEFIT = "benefit", _("Benefit or goods")


class CatalogueItem(TerritoryMixin):
    name = models.CharField(_("catalogue item"), max_length=100)
    kind = models.CharField(_("catalogue item kind"), max_length=10, choices=ItemKind.choices, default=ItemKind.BENEFIT)
    provider = models.CharField(_("provided by"), max_length=100)
    description = models.CharField(_("item description"), max_length=300, blank=True)
    points_cost = models.PositiveIntegerField(_("points each"), validators=[MinValueValidator(1),
                                                                           MaxValueValidator(10**6)])
    stock = models.PositiveIntegerField(_("in stock"), default=0)
    active = models.BooleanField(_("offered"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager()
    scope_rule = COUNTY_RULE

    class Meta:
        ordering = ["points_cost", "name"]
        verbose_name = _("catalogue item")
        constraints = [models.CheckConstraint(condition=Q(stock__gte=0), name="volunteers_stock_never_negative"),
                       models.CheckConstraint(condition=Q(points_cost__gt=0), name="volunteers_cost_positive")]

    def __str__(self):
        return self.name


class RedemptionStatus(models.TextChoices):
    PLACED = "placed", _("Points taken, to be handed over")
    DELIVERED = "delivered", _("Handed over")
    CANCELLED = "cancelled", _("Redemption cancelled")


class Redemption(TerritoryMixin):
    volunteer = models.ForeignKey(Volunteer, on_delete=models.PROTECT, related_name="redemptions")
    item = models.ForeignKey(CatalogueItem, on_delete=models.PROTECT, related_name="redemptions")
    quantity = models.PositiveSmallIntegerField(validators=[MinValueValidator(1), MaxValueValidator(100)])
    points = models.PositiveIntegerField()
    status = models.CharField(_("redemption status"), max_length=10, choices=RedemptionStatus.choices,
                              default=RedemptionStatus.PLACED)
    created_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()
    delivered_at = models.DateTimeField(null=True, blank=True)
    delivered_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancelled_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    cancel_reason = models.CharField(max_length=200, blank=True)

    objects = ScopedManager()
    scope_rule = PEOPLE_RULE

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("redemption")
        permissions = [("deliver_redemption", "Can hand a redeemed item over")]
        constraints = [models.CheckConstraint(condition=Q(quantity__gte=1), name="volunteers_quantity_positive")]

    def __str__(self):
        return f"{self.item} × {self.quantity}"
