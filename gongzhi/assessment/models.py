"""Assessment (DOMAIN.md §3.2 一件一考评、一季度一通报, §3.5 分离均衡, §3.6 no assessment by paperwork).

What is stored here is only what a person decides or what must be frozen; every figure is computed
from the other apps' records by the indicator catalogue (``indicators.py``) and can be opened down
to those records. No table here holds a figure someone typed in.

* ``ScoringWeights`` — the county's weights for scoring a closed case (versioned; each version sums
  to 100). ``CaseScore`` — one closed case's score from its own facts, with the parts it was made of
  and the weights version used.
* ``Exemption`` — 事后备案说明: an emergency or basic-livelihood case handled outside the normal
  process, explained afterwards; once accepted the case carries no timeliness penalty, and the
  exemption is listed wherever the timeliness figure is shown.
* ``NegativeItem`` — the county's negative list: what must not be demanded of the grassroots, and
  which indicators must not be counted.
* ``Demand`` and ``BurdenFlag`` — the burden meter: every demand the platform makes of the
  grassroots with the indicator it feeds; a town's flag of a hidden variant.
* ``IndexFormula`` and ``AssessmentWeights`` — the differentiated indices' formulas and the
  weights of the indicators for urban, rural, town and department units (versioned, reviewable).
* ``Proposal`` and ``FaultToleranceApplication`` — the separating equilibrium: what the platform
  proposes for a unit or person, and who decided; 容错免责 applications with their four conditions.
* ``Bulletin`` — a quarterly bulletin, frozen when issued (a correction is a new version).
"""
from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from gongzhi.core.scoping import ScopedManager, ScopeRule, either, in_grant_county, in_grid_village, in_territory, of_department
from gongzhi.registry.models import TerritoryMixin

USER = settings.AUTH_USER_MODEL


# ---- county settings (read by every territorial grant of the county) --------------------------

class CountySetting(models.Model):
    county = models.ForeignKey("registry.Region", on_delete=models.PROTECT, related_name="+")
    version = models.PositiveIntegerField(_("version"))
    set_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    set_at = models.DateTimeField(auto_now_add=True)
    note = models.CharField(_("why (reviewable)"), max_length=500)

    objects = ScopedManager()
    scope_rule = ScopeRule(region=in_grant_county(), grid=in_grant_county(), department=in_grant_county())

    class Meta:
        abstract = True
        ordering = ["-version"]


class ScoringWeights(CountySetting):
    """一件一考评: how much each fact of a closed case weighs in its score (they sum to 100)."""
    on_time = models.PositiveSmallIntegerField(_("closed on time"))
    satisfaction = models.PositiveSmallIntegerField(_("requester satisfied"))
    no_rework = models.PositiveSmallIntegerField(_("no rework"))
    no_escalation = models.PositiveSmallIntegerField(_("no escalation"))
    instruction = models.PositiveSmallIntegerField(_("secretary's instruction followed"))

    PARTS = ("on_time", "satisfaction", "no_rework", "no_escalation", "instruction")

    class Meta(CountySetting.Meta):
        verbose_name = _("case scoring weights")
        constraints = [models.UniqueConstraint(fields=["county", "version"], name="assessment_scoring_version")]

    def as_dict(self) -> dict[str, int]:
        return {part: getattr(self, part) for part in self.PARTS}


class CaseScore(TerritoryMixin):
    case = models.OneToOneField("cases.Case", on_delete=models.CASCADE, related_name="assessment_score")
    ledger = models.CharField(max_length=16)
    department = models.ForeignKey("registry.Department", null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    handler = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    closed_at = models.DateTimeField(db_index=True)
    score = models.DecimalField(max_digits=5, decimal_places=2,
                                validators=[MinValueValidator(0), MaxValueValidator(100)])
    parts = models.JSONField(help_text="each fact: its value 0–1 and its weight; omitted facts say why")
    weights = models.ForeignKey(ScoringWeights, on_delete=models.PROTECT, related_name="+")
    exempt = models.BooleanField(default=False, help_text="an accepted 事后备案说明: no timeliness penalty")
    scored_at = models.DateTimeField(auto_now=True)

    objects = ScopedManager()
    scope_rule = ScopeRule(region=in_territory(), department=of_department("department_id"))

    class Meta:
        verbose_name = _("case score")
        indexes = [models.Index(fields=["county", "closed_at"], name="assessment_score_period")]


# ---- 事后备案说明 ------------------------------------------------------------------------------

class ExemptionGround(models.TextChoices):
    EMERGENCY = "emergency", _("Emergency (应急)")
    LIVELIHOOD = "livelihood", _("Basic livelihood (基本民生)")


class DecisionStatus(models.TextChoices):
    FILED = "filed", _("Waiting for a decision")
    ACCEPTED = "accepted", _("Accepted")
    REFUSED = "refused", _("Refused")


class Exemption(TerritoryMixin):
    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="assessment_exemptions")
    ground = models.CharField(_("ground"), max_length=12, choices=ExemptionGround.choices)
    explanation = models.TextField(_("what was done outside the normal process, and why"))
    filed_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    filed_at = models.DateTimeField(auto_now_add=True)
    status = models.CharField(max_length=10, choices=DecisionStatus.choices, default=DecisionStatus.FILED)
    decided_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(_("decision note"), blank=True)

    objects = ScopedManager()
    scope_rule = ScopeRule(region=in_territory(), department=lambda g: Q(case__assignee_department_id=g.department_id))

    class Meta:
        ordering = ["-filed_at", "-pk"]
        verbose_name = _("after-the-fact explanation (事后备案说明)")
        permissions = [("decide_exemption", "Can accept or refuse an after-the-fact explanation")]
        constraints = [models.UniqueConstraint(fields=["case"], condition=~Q(status="refused"),
                                               name="assessment_one_live_exemption_per_case")]

    def __str__(self):
        return f"事后备案说明 {self.case_id} {self.get_ground_display()}"


# ---- the negative list ------------------------------------------------------------------------

class NegativeKind(models.TextChoices):
    NO_DEMAND = "no_demand", _("Must not be demanded of the grassroots")
    NO_COUNT = "no_count", _("Must not be counted in assessment")


class NegativeItem(TerritoryMixin):
    kind = models.CharField(_("kind"), max_length=10, choices=NegativeKind.choices)
    text = models.CharField(_("what"), max_length=300)
    demand_kind = models.CharField(_("kind of demand"), max_length=10, blank=True,
                                   help_text=_("A demand of this kind may not be added (no_demand)."))
    indicator = models.CharField(_("indicator code"), max_length=40, blank=True,
                                 help_text=_("This indicator is left out of scores and rankings (no_count)."))
    added_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    added_at = models.DateTimeField(auto_now_add=True)
    active = models.BooleanField(default=True)

    objects = ScopedManager()
    scope_rule = ScopeRule(region=in_grant_county(), grid=in_grant_county(), department=in_grant_county())

    class Meta:
        ordering = ["kind", "pk"]
        verbose_name = _("negative-list item")

    def __str__(self):
        return self.text


# ---- the burden meter -------------------------------------------------------------------------

class DemandKind(models.TextChoices):
    FORM = "form", _("Form")
    PHOTO = "photo", _("Photo")
    CHECKIN = "checkin", _("Check-in")
    REPORT = "report", _("Report")
    MEETING = "meeting", _("Meeting minutes")
    PLEDGE = "pledge", _("Responsibility pledge")


class DemandOrigin(models.TextChoices):
    FLOW = "flow", _("A flow of the platform")
    COUNTY = "county", _("Added by the county")
    TOWN = "town", _("Added by a town")


class Demand(TerritoryMixin):
    """Something the platform asks a role of the grassroots to do. The built-in flows' demands are
    synchronised from their own definitions (``burden.sync_flow_demands``); the county and towns may
    add their own, but a new one must name the indicator it feeds."""
    code = models.SlugField(_("code"), max_length=60)
    name = models.CharField(_("demand"), max_length=200)
    role = models.CharField(_("role asked"), max_length=50)
    kind = models.CharField(_("kind"), max_length=10, choices=DemandKind.choices)
    fields = models.PositiveSmallIntegerField(_("fields to fill"), default=0)
    photos = models.PositiveSmallIntegerField(_("photos asked"), default=0)
    per_week = models.DecimalField(_("times a week it is asked (when not counted from the trail)"), max_digits=6,
                                   decimal_places=2, default=Decimal("0"))
    trace = models.CharField(_("trail it leaves (app_label.model)"), max_length=100, blank=True,
                             help_text=_("Counted from the audit trail: rows created on this model."))
    feeds = models.CharField(_("indicator it feeds"), max_length=40, blank=True)
    origin = models.CharField(max_length=8, choices=DemandOrigin.choices)
    legacy = models.BooleanField(default=False, help_text="there before the rule that a demand names its indicator")
    active = models.BooleanField(default=True)
    retired_at = models.DateTimeField(null=True, blank=True)
    added_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    added_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager()
    scope_rule = ScopeRule(region=in_grant_county(), grid=in_grant_county(), department=in_grant_county())

    class Meta:
        ordering = ["role", "code"]
        verbose_name = _("demand on the grassroots")
        permissions = [("retire_demand", "Can retire a demand on the grassroots")]
        constraints = [models.UniqueConstraint(fields=["county", "code"], name="assessment_demand_code")]

    def __str__(self):
        return self.name


class FlagKind(models.TextChoices):
    PLEDGE = "pledge", _("Disguised responsibility pledge (变相责任状)")
    RECORDS = "records", _("Excessive record-keeping (过度留痕)")
    OTHER = "other", _("Other hidden burden")


class BurdenFlag(TerritoryMixin):
    kind = models.CharField(_("kind"), max_length=8, choices=FlagKind.choices)
    description = models.TextField(_("what is asked, by whom, how often"))
    demand = models.ForeignKey(Demand, null=True, blank=True, on_delete=models.PROTECT, related_name="flags")
    raised_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    raised_at = models.DateTimeField(auto_now_add=True)
    status = models.CharField(max_length=10, choices=DecisionStatus.choices, default=DecisionStatus.FILED)
    decided_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True)

    objects = ScopedManager()
    scope_rule = ScopeRule(region=in_territory())

    class Meta:
        ordering = ["-raised_at", "-pk"]
        verbose_name = _("hidden burden flag")
        permissions = [("decide_burdenflag", "Can uphold or dismiss a hidden-burden flag")]

    def __str__(self):
        return f"{self.get_kind_display()}"


# ---- differentiated indices and weights -------------------------------------------------------

class UnitClass(models.TextChoices):
    URBAN = "urban", _("Urban community")
    RURAL = "rural", _("Rural village")
    TOWN = "town", _("Town")
    DEPARTMENT = "department", _("Department")
    PERSON = "person", _("Person")


class IndexFormula(CountySetting):
    """The urban governance-complexity index (``kind=urban``) or the rural public-service-
    accessibility index (``kind=rural``): terms ``[{"factor": ..., "weight": ..., "direction": 1|-1}]``
    over the factors of ``indices.FACTORS``."""
    kind = models.CharField(max_length=10, choices=[("urban", _("Urban governance complexity")),
                                                    ("rural", _("Rural public-service accessibility"))])
    terms = models.JSONField()
    reviewed_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    reviewed_at = models.DateTimeField(null=True, blank=True)

    class Meta(CountySetting.Meta):
        verbose_name = _("index formula")
        permissions = [("review_indexformula", "Can review an index formula")]
        constraints = [models.UniqueConstraint(fields=["county", "kind", "version"], name="assessment_formula_version")]


class AssessmentWeights(CountySetting):
    """How much each indicator weighs in a unit class's composite (sums to 100)."""
    unit_class = models.CharField(max_length=10, choices=UnitClass.choices)
    weights = models.JSONField()

    class Meta(CountySetting.Meta):
        verbose_name = _("assessment weights")
        constraints = [models.UniqueConstraint(fields=["county", "unit_class", "version"],
                                               name="assessment_weights_version")]


# ---- the separating equilibrium ---------------------------------------------------------------

class Standing(models.TextChoices):
    ACTIVE = "active", _("Active")
    ORDINARY = "ordinary", _("Ordinary")
    PASSIVE = "passive", _("Passive")
    FORMAL = "formal", _("Merely formal (形式化)")


class Measure(models.TextChoices):
    COMMEND = "commend", _("Commendation (通报表扬)")
    REWARD = "reward", _("Reward (奖励)")
    PROMOTE = "promote", _("Promotion recommendation (提拔推荐)")
    SPREAD = "spread", _("Practice written up and spread (经验推广)")
    WARNING_TALK = "warning_talk", _("Warning talk (约谈提醒)")
    REASSIGN = "reassign", _("Reassignment (调整岗位)")
    NON_LEADING = "non_leading", _("Non-leading post (改任非领导职务)")
    RESIGN = "resign", _("Resignation (责令辞职)")


#: 能上能下: the negative steps in order; a subject is proposed the step after the last one decided.
PRODDING_STEPS = [Measure.WARNING_TALK, Measure.REASSIGN, Measure.NON_LEADING, Measure.RESIGN]
POSITIVE = [Measure.COMMEND, Measure.REWARD, Measure.PROMOTE, Measure.SPREAD]


class Proposal(TerritoryMixin):
    """What the platform proposes for a unit or person after a period; a named person decides."""
    year = models.PositiveSmallIntegerField()
    quarter = models.PositiveSmallIntegerField(validators=[MinValueValidator(1), MaxValueValidator(4)])
    subject_kind = models.CharField(max_length=12)  # village | town | department | user
    subject_key = models.CharField(max_length=40, help_text="kind:id — one proposal per subject, quarter and measure")
    region = models.ForeignKey("registry.Region", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    department = models.ForeignKey("registry.Department", null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    user = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    subject_name = models.CharField(max_length=150)
    standing = models.CharField(max_length=10, choices=Standing.choices)
    measure = models.CharField(max_length=14, choices=Measure.choices)
    grounds = models.JSONField(help_text="the figures that told this subject apart, with their provenance")
    status = models.CharField(max_length=10, choices=DecisionStatus.choices, default=DecisionStatus.FILED)
    decided_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True)
    proposed_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager()
    scope_rule = ScopeRule(region=in_territory(), department=of_department("department_id"))

    class Meta:
        ordering = ["-year", "-quarter", "standing", "subject_name", "pk"]
        verbose_name = _("incentive or prodding proposal")
        permissions = [("decide_proposal", "Can decide an incentive or prodding proposal")]
        constraints = [models.UniqueConstraint(fields=["year", "quarter", "subject_key", "measure"],
                                               name="assessment_one_proposal")]

    def __str__(self):
        return f"{self.subject_name} {self.year}Q{self.quarter} {self.get_measure_display()}"


class FaultToleranceApplication(TerritoryMixin):
    """容错免责: a cadre asks that an honest mistake made while working be excused. The four
    conditions are recorded one by one with what shows each; only when all four hold may it be granted."""
    applicant = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    applicant_name = models.CharField(max_length=150)
    region = models.ForeignKey("registry.Region", on_delete=models.PROTECT, related_name="+")
    case = models.ForeignKey("cases.Case", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    matter = models.TextField(_("what happened"))
    public_good = models.BooleanField(_("acting for the public good"))
    public_good_evidence = models.TextField(_("what shows it"), blank=True)
    no_private_gain = models.BooleanField(_("no private gain"))
    no_private_gain_evidence = models.TextField(_("what shows it"), blank=True)
    while_working = models.BooleanField(_("while actively working"))
    while_working_evidence = models.TextField(_("what shows it"), blank=True)
    unintended = models.BooleanField(_("unintended"))
    unintended_evidence = models.TextField(_("what shows it"), blank=True)
    filed_at = models.DateTimeField(auto_now_add=True)
    status = models.CharField(max_length=10, choices=DecisionStatus.choices, default=DecisionStatus.FILED)
    decided_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True)

    CONDITIONS = ("public_good", "no_private_gain", "while_working", "unintended")

    objects = ScopedManager()
    # A grid worker reads (and files) the applications of the village their grid lies in.
    scope_rule = ScopeRule(region=in_territory(), grid=in_grid_village())

    class Meta:
        ordering = ["-filed_at", "-pk"]
        verbose_name = _("fault-tolerance application (容错免责)")
        permissions = [("decide_faulttolerance", "Can decide a fault-tolerance application")]
        constraints = [models.CheckConstraint(
            condition=~Q(status="accepted") | Q(public_good=True, no_private_gain=True, while_working=True,
                                                unintended=True),
            name="assessment_tolerance_needs_all_four")]

    def __str__(self):
        return f"容错免责申请 {self.applicant_name}"


# ---- quarterly bulletins ----------------------------------------------------------------------

class BulletinStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    ISSUED = "issued", _("Issued")


def _issued_in_county(grant) -> Q:
    return Q(scope_kind="county", status="issued", county_id=grant.county_id) if grant.county_id else Q(pk__in=[])


class Bulletin(TerritoryMixin):
    """一季度一通报. ``content`` is everything the PDF, the workbook and the page show; once issued
    the row is frozen (a database trigger refuses changes) and a correction is a new version."""
    scope_kind = models.CharField(max_length=12)  # county | town | department
    scope_key = models.CharField(max_length=40, help_text="kind:id of the county, town or department")
    region = models.ForeignKey("registry.Region", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    department = models.ForeignKey("registry.Department", null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    year = models.PositiveSmallIntegerField()
    quarter = models.PositiveSmallIntegerField(validators=[MinValueValidator(1), MaxValueValidator(4)])
    version = models.PositiveSmallIntegerField(default=1)
    title = models.CharField(max_length=200)
    content = models.JSONField()
    status = models.CharField(max_length=8, choices=BulletinStatus.choices, default=BulletinStatus.DRAFT)
    correction_note = models.TextField(blank=True)
    generated_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    generated_at = models.DateTimeField()
    issued_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    issued_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedManager()
    # A county's bulletin, once issued, goes to every town and department of the county (通报 is
    # circulated); drafts and town or department bulletins stay with their own scope.
    scope_rule = ScopeRule(
        region=either(in_territory(), _issued_in_county),
        department=either(of_department("department_id"), _issued_in_county))

    class Meta:
        ordering = ["-year", "-quarter", "scope_kind", "-version"]
        verbose_name = _("quarterly bulletin")
        permissions = [("issue_bulletin", "Can issue a quarterly bulletin")]
        constraints = [models.UniqueConstraint(fields=["scope_key", "year", "quarter", "version"],
                                               name="assessment_bulletin_version")]

    def __str__(self):
        return self.title

