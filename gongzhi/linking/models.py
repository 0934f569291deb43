"""Linking up (DOMAIN.md §3.4): pairing and co-building (结对共建) with its three lists, branch
pairing and industry alliances (三联), the 535 links, and town–village integration (镇村工作一体化).

What lives here
* County settings as data: ``LinkingSettings`` (review cycles of the three lists, the fast
  track's time limit in working days).
* ``Pairing``: two party organisations from the registry, the report form (报到单) signed by
  both sides, a term, the five joint actions; ``LiaisonPost`` (a post on each side, held by a
  login) with its ``LiaisonTerm`` history and the written ``Handover`` that must precede a change;
  ``PairingMessage`` (the communication archive, which belongs to the pairing, not to a person).
* The three lists: ``ResourceItem``, ``NeedItem``, ``Project`` (with ``ProjectTask``), each with
  a review date; unreviewed items are flagged stale by the sweep.
* ``Activity`` with ``ActivityAttendance``, the residents' ``SurveyResponse`` (three taps),
  both sides' ``Evaluation``; ``FeedbackItem`` (every channel lands here) and ``Plan`` with
  ``PlanFeedback`` (what the next plan took in from earlier feedback).
* ``ApprovalRequest``: the fast track (venue, funds, people) with a working-day deadline.
* 三联 and 535: ``Link`` (every kind of link as one record: county leader–town, department–
  village, cadre–household, strong–weak village, host village–new community, 三官一律, town
  leader–village), ``LinkActivity``, ``VillageGrade`` (strong / ordinary / weak: what coverage is
  measured against), ``Alliance`` with ``AllianceMember`` and ``AllianceOperation``,
  ``ResourceShare`` (资源联享).
* 镇村工作一体化: ``KeyTask`` (quantified to a village, serving one of the three aims) with its
  ``KeyTaskProgress`` ledger, ``WorkTeam`` (stationed in a village, one town leader following it)
  with ``WorkTeamMember`` and ``StationDay`` (time in the village).

Every row carries the cached territory columns of the village or community side; rows of a
pairing also cache the agency's department, so a department grant (an agency's liaison) reaches
its own pairings with one indexed filter, and nobody else's.
"""
from __future__ import annotations

import secrets
from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from gongzhi.core.scoping import ScopedManager, ScopeRule, either, in_grid_village, in_territory, of_department
from gongzhi.registry.models import TerritoryMixin

USER = settings.AUTH_USER_MODEL


class TerritoryScoped(TerritoryMixin):
    """Rows of one village, town or county: region grants by territory, grid workers over the
    village their grid lies in."""

    class Meta:
        abstract = True

    scope_rule = ScopeRule(region=in_territory(), grid=in_grid_village())


class PairingScoped(TerritoryMixin):
    """Rows of one pairing: its community side's territory, the agency's department, and — when
    the lead side is itself a village (村村联建) — the lead village and its town, so that the lead
    village's secretary and town reach the pairing as the partner's do."""

    agency_department = models.ForeignKey("registry.Department", null=True, blank=True, on_delete=models.PROTECT,
                                          related_name="+")
    lead_town = models.ForeignKey("registry.Region", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    lead_village = models.ForeignKey("registry.Region", null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="+")

    class Meta:
        abstract = True

    scope_rule = ScopeRule(
        region=either(in_territory(), in_territory(county="county_id", town="lead_town_id", village="lead_village_id")),
        grid=either(in_grid_village(), in_grid_village("lead_village_id")),
        department=of_department("agency_department_id"))

    def copy_pairing(self, pairing: "Pairing") -> None:
        self.county_id, self.town_id, self.village_id = pairing.county_id, pairing.town_id, pairing.village_id
        self.agency_department_id = pairing.agency_department_id
        self.lead_town_id, self.lead_village_id = pairing.lead_town_id, pairing.lead_village_id


class ReviewCycle(models.TextChoices):
    QUARTERLY = "quarterly", _("Every quarter")
    YEARLY = "yearly", _("Every year")


REVIEW_DAYS = {ReviewCycle.QUARTERLY: 91, ReviewCycle.YEARLY: 365}


class LinkingSettings(TerritoryScoped):
    """One row per county; a county without one uses the defaults."""

    resources_review = models.CharField(_("resources are reviewed"), max_length=10, choices=ReviewCycle.choices,
                                        default=ReviewCycle.QUARTERLY)
    needs_review = models.CharField(_("needs are reviewed"), max_length=10, choices=ReviewCycle.choices,
                                    default=ReviewCycle.QUARTERLY)
    projects_review = models.CharField(_("projects are reviewed"), max_length=10, choices=ReviewCycle.choices,
                                       default=ReviewCycle.QUARTERLY)
    approval_working_days = models.PositiveSmallIntegerField(
        _("fast-track approvals are decided within (working days)"), default=3,
        validators=[MinValueValidator(1), MaxValueValidator(30)])
    escalate_working_days = models.PositiveSmallIntegerField(
        _("an overdue approval goes to the county after a further (working days)"), default=2,
        validators=[MinValueValidator(1), MaxValueValidator(30)])
    early_leave_minutes = models.PositiveSmallIntegerField(
        _("leaving this many minutes before the end counts as leaving early"), default=15,
        validators=[MaxValueValidator(240)])

    objects = ScopedManager()

    class Meta:
        verbose_name = _("linking-up settings")
        constraints = [models.UniqueConstraint(fields=["county"], name="linking_settings_one_per_county")]


# ---------------------------------------------------------------------------------------------
# 结对共建 and 支部联建: the pairing itself


class PairingKind(models.TextChoices):
    AGENCY_COMMUNITY = "agency_community", _("Agency–community pairing (机关单位与社区/村结对共建)")
    TOWN_COUNTRY = "town_country", _("Town–country branch pairing (城乡支部联建)")
    VILLAGE_VILLAGE = "village_village", _("Village–village branch pairing (村村联建)")
    VILLAGE_ENTERPRISE = "village_enterprise", _("Village–enterprise branch pairing (村企联建)")


class Principle(models.TextChoices):
    BIG_SMALL = "big_small", _("The big with the small (大联小)")
    STRONG_WEAK = "strong_weak", _("The strong with the weak (强联弱)")
    PLAIN_MOUNTAIN = "plain_mountain", _("The plain with the mountain (川联山)")
    NEAR_FAR = "near_far", _("The near with the far (近联远)")


class JointAction(models.TextChoices):
    ORGANISATION = "organisation", _("Organisation (组织共建)")
    MEMBERS = "members", _("Party members (党员共管)")
    ACTIVITIES = "activities", _("Activities (活动共办)")
    RESOURCES = "resources", _("Resources (资源共享)")
    SERVICES = "services", _("Services (服务共抓)")


class PairingStatus(models.TextChoices):
    DRAFT = "draft", _("Awaiting signatures")
    ACTIVE = "active", _("In force")
    ENDED = "ended", _("Ended")


class Side(models.TextChoices):
    LEAD = "lead", _("Lead side (agency, firm, lead branch)")
    PARTNER = "partner", _("Community or village side")


def _choice_list_validator(choices):
    allowed = {value for value, _label in choices}

    def validate(value):
        from django.core.exceptions import ValidationError

        if not isinstance(value, list) or any(v not in allowed for v in value):
            raise ValidationError(_("Unknown choice in the list."))
    return validate


def principles_validator(value):
    _choice_list_validator(Principle.choices)(value)


def joint_actions_validator(value):
    _choice_list_validator(JointAction.choices)(value)


class Pairing(PairingScoped):
    """Two party organisations working together. The partner (community or village) side's region
    gives the territory; the lead side is an agency's, firm's or school's branch (and, for a
    county agency, its department) or the lead village's branch."""

    kind = models.CharField(_("kind"), max_length=20, choices=PairingKind.choices)
    title = models.CharField(_("title"), max_length=200)
    lead_org = models.ForeignKey("registry.PartyOrganization", on_delete=models.PROTECT, related_name="pairings_led")
    partner_org = models.ForeignKey("registry.PartyOrganization", on_delete=models.PROTECT,
                                    related_name="pairings_joined")
    region = models.ForeignKey("registry.Region", on_delete=models.PROTECT, related_name="pairings",
                               help_text=_("The community or village paired with."))
    principles = models.JSONField(_("principles"), default=list, blank=True, validators=[principles_validator])
    joint_actions = models.JSONField(_("joint actions"), default=list, blank=True,
                                     validators=[joint_actions_validator])
    term_start = models.DateField(_("term starts"))
    term_end = models.DateField(_("term ends"))
    status = models.CharField(_("status"), max_length=10, choices=PairingStatus.choices, default=PairingStatus.DRAFT)
    # The report form (报到单): each side signs once; the pairing is in force when both have.
    lead_signed_at = models.DateTimeField(null=True, blank=True)
    lead_signed_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    partner_signed_at = models.DateTimeField(null=True, blank=True)
    partner_signed_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    ended_on = models.DateField(null=True, blank=True)
    end_reason = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager()

    class Meta:
        ordering = ["region", "-term_start", "id"]
        verbose_name = _("pairing")
        permissions = [("sign_pairing", "Sign a pairing's report form (报到单)"),
                       ("supervise_pairing", "Oversee the pairings of a territory")]
        constraints = [
            models.UniqueConstraint(fields=["lead_org", "partner_org"], condition=~Q(status="ended"),
                                    name="linking_one_current_pairing_per_pair"),
            models.CheckConstraint(condition=~Q(lead_org=models.F("partner_org")), name="linking_pairing_two_sides"),
        ]

    def __str__(self):
        return self.title


class LiaisonPost(PairingScoped):
    """A liaison post on one side of a pairing (a post, not a person: the archive stays with it)."""

    pairing = models.ForeignKey(Pairing, on_delete=models.PROTECT, related_name="posts")
    side = models.CharField(_("side"), max_length=10, choices=Side.choices)
    title = models.CharField(_("post"), max_length=100)
    holder = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="liaison_posts")
    holder_since = models.DateTimeField(null=True, blank=True)

    objects = ScopedManager()

    class Meta:
        ordering = ["pairing", "side", "id"]
        verbose_name = _("liaison post")
        constraints = [models.UniqueConstraint(fields=["pairing", "side", "title"], name="linking_post_unique")]

    def __str__(self):
        return self.title


class Handover(PairingScoped):
    """The written handover that must precede a change of holder: the outgoing liaison's summary,
    a note on every open item, and a snapshot of the archive as it stood."""

    post = models.ForeignKey(LiaisonPost, on_delete=models.PROTECT, related_name="handovers")
    outgoing = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    incoming = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    written_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    summary = models.TextField(_("handover summary"))
    open_items = models.JSONField(default=list, blank=True, help_text=_("Each open item with the outgoing liaison's note."))
    archive = models.JSONField(default=dict, help_text=_("What the archive held at the handover."))
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("liaison handover")


class LiaisonTerm(PairingScoped):
    post = models.ForeignKey(LiaisonPost, on_delete=models.PROTECT, related_name="terms")
    holder = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    handover = models.ForeignKey(Handover, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                                 help_text=_("The handover that ended this term."))

    objects = ScopedManager()

    class Meta:
        ordering = ["post", "started_at"]
        constraints = [models.UniqueConstraint(fields=["post"], condition=Q(ended_at__isnull=True),
                                               name="linking_one_open_term_per_post")]


class MessageKind(models.TextChoices):
    MESSAGE = "message", _("Message")
    DECISION = "decision", _("Decision taken")
    NOTE = "note", _("Note")


class PairingMessage(PairingScoped):
    """The communication archive of a pairing: messages between the posts, decisions, notes."""

    pairing = models.ForeignKey(Pairing, on_delete=models.PROTECT, related_name="messages")
    post = models.ForeignKey(LiaisonPost, null=True, blank=True, on_delete=models.PROTECT, related_name="messages",
                             help_text=_("The post written from, when written by a liaison."))
    kind = models.CharField(_("kind"), max_length=10, choices=MessageKind.choices, default=MessageKind.MESSAGE)
    text = models.TextField(_("text"))
    author = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("pairing message")


# ---------------------------------------------------------------------------------------------
# The three lists


class ResourceKind(models.TextChoices):
    VENUE = "venue", _("Venue (场地)")
    EQUIPMENT = "equipment", _("Equipment and materials (设备物资)")
    INFORMATION = "information", _("Information system or data service (信息系统)")
    EXPERTS = "experts", _("Expert or professional team (专家团队)")
    FUNDS = "funds", _("Funds (资金)")
    VOLUNTEERS = "volunteers", _("Volunteers and people (人员)")
    SERVICE = "service", _("Service (服务)")


# Kinds that can stand in for each other in part (a need for a service may be met by experts or
# volunteers; a need for equipment sometimes by funds). Used by matching.py for partial fit.
RELATED_KINDS = {
    ResourceKind.SERVICE: {ResourceKind.EXPERTS, ResourceKind.VOLUNTEERS},
    ResourceKind.EXPERTS: {ResourceKind.SERVICE},
    ResourceKind.VOLUNTEERS: {ResourceKind.SERVICE},
    ResourceKind.EQUIPMENT: {ResourceKind.FUNDS},
    ResourceKind.VENUE: set(),
    ResourceKind.INFORMATION: {ResourceKind.EXPERTS},
    ResourceKind.FUNDS: set(),
}


class UseForm(models.TextChoices):
    OPEN = "open", _("Opened for shared use (开放共享)")
    LEND = "lend", _("Lent (借用)")
    SERVE = "serve", _("Delivered as a service (上门服务)")
    DONATE = "donate", _("Donated (捐赠)")


class ResourceState(models.TextChoices):
    AVAILABLE = "available", _("Available")
    IN_USE = "in_use", _("Partly in use")
    EXHAUSTED = "exhausted", _("Used up")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class ListItem(PairingScoped):
    """What the three lists share: a review date and the stale flag the sweep sets."""

    reviewed_on = models.DateField(_("last reviewed"))
    review_due_on = models.DateField(_("review due"))
    stale_flagged_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        abstract = True


class ResourceItem(ListItem):
    pairing = models.ForeignKey(Pairing, on_delete=models.PROTECT, related_name="resources")
    side = models.CharField(_("offered by"), max_length=10, choices=Side.choices, default=Side.LEAD)
    kind = models.CharField(_("type"), max_length=12, choices=ResourceKind.choices)
    name = models.CharField(_("name"), max_length=150)
    capacity = models.PositiveIntegerField(_("quantity or capacity"), validators=[MinValueValidator(1)])
    unit = models.CharField(_("unit of measure"), max_length=20, help_text=_("e.g. 次/月, 人, 元, 间"))
    committed = models.PositiveIntegerField(_("committed to projects"), default=0)
    use_form = models.CharField(_("form of use"), max_length=10, choices=UseForm.choices)
    state = models.CharField(_("state"), max_length=10, choices=ResourceState.choices,
                             default=ResourceState.AVAILABLE)
    place = models.ForeignKey("registry.Region", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                              help_text=_("Where it is; empty when it serves the whole county."))
    conditions = models.CharField(_("conditions"), max_length=300, blank=True)
    # The item's entry in the county's one inventory (gongzhi.resources): its capacity is a stock
    # ledger there, reserved while a project uses it. Null only for rows listed before pooling.
    stock = models.OneToOneField("resources.Resource", null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="pairing_item")

    objects = ScopedManager()

    class Meta:
        ordering = ["pairing", "kind", "name"]
        verbose_name = _("resource")
        constraints = [models.CheckConstraint(condition=Q(committed__lte=models.F("capacity")),
                                              name="linking_resource_not_overcommitted")]
        indexes = [models.Index(fields=["review_due_on"], condition=Q(stale_flagged_at__isnull=True),
                                name="linking_resource_review_due")]

    def __str__(self):
        return self.name

    @property
    def remaining(self) -> int:
        return self.capacity - self.committed


class NeedGrade(models.TextChoices):
    CORE = "core", _("Core (核心)")
    IMPORTANT = "important", _("Important (重要)")
    GENERAL = "general", _("General (一般)")


GRADE_RANK = {NeedGrade.CORE: 0, NeedGrade.IMPORTANT: 1, NeedGrade.GENERAL: 2}


class NeedSource(models.TextChoices):
    CASE = "case", _("A resident's case")
    CONTACT = "contact", _("A contact record")
    MEETING = "meeting", _("A village meeting")
    ACTIVITY = "activity", _("A joint activity or survey")
    LIAISON = "liaison", _("Raised by a liaison")


class Feasibility(models.TextChoices):
    PENDING = "pending", _("Not yet checked")
    FEASIBLE = "feasible", _("Feasible")
    PARTLY = "partly", _("Feasible in part")
    INFEASIBLE = "infeasible", _("Not feasible")


class NeedStatus(models.TextChoices):
    OPEN = "open", _("Open")
    MATCHED = "matched", _("Matched to a project")
    MET = "met", _("Met")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class NeedItem(ListItem):
    pairing = models.ForeignKey(Pairing, on_delete=models.PROTECT, related_name="needs")
    title = models.CharField(_("need"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    kind = models.CharField(_("type of resource wanted"), max_length=12, choices=ResourceKind.choices)
    quantity = models.PositiveIntegerField(_("quantity wanted"), default=1, validators=[MinValueValidator(1)])
    unit = models.CharField(_("unit of measure"), max_length=20, blank=True)
    grade = models.CharField(_("grade"), max_length=10, choices=NeedGrade.choices, default=NeedGrade.GENERAL)
    place = models.ForeignKey("registry.Region", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                              help_text=_("Where it is needed (the village or a villager group)."))
    source = models.CharField(_("raised from"), max_length=10, choices=NeedSource.choices)
    # Who asked. For a case the case itself (the requester's identity stays behind the case's
    # own masking); otherwise a description of the askers, never a person's ID.
    case = models.ForeignKey("cases.Case", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    contact_record = models.ForeignKey("care.ContactRecord", null=True, blank=True, on_delete=models.PROTECT,
                                       related_name="+")
    meeting = models.ForeignKey("village.Meeting", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    activity = models.ForeignKey("linking.Activity", null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="needs_raised")
    asked_by = models.CharField(_("asked by"), max_length=100, blank=True)
    feasibility = models.CharField(_("feasibility"), max_length=10, choices=Feasibility.choices,
                                   default=Feasibility.PENDING)
    feasibility_note = models.CharField(_("feasibility check"), max_length=300, blank=True)
    checked_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(_("status"), max_length=10, choices=NeedStatus.choices, default=NeedStatus.OPEN)
    raised_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")

    objects = ScopedManager()

    class Meta:
        ordering = ["pairing", "status", "grade", "-created_at"]
        verbose_name = _("need")
        indexes = [models.Index(fields=["review_due_on"], condition=Q(stale_flagged_at__isnull=True),
                                name="linking_need_review_due")]

    def __str__(self):
        return self.title


class ProjectStatus(models.TextChoices):
    UNDERWAY = "underway", _("Underway")
    DONE = "done", _("Finished")
    SUSPENDED = "suspended", _("Suspended")


class Project(ListItem):
    """A need met by a resource: the liaison's confirmed match, its tasks and progress."""

    pairing = models.ForeignKey(Pairing, on_delete=models.PROTECT, related_name="projects")
    need = models.ForeignKey(NeedItem, on_delete=models.PROTECT, related_name="projects")
    resource = models.ForeignKey(ResourceItem, on_delete=models.PROTECT, related_name="projects")
    title = models.CharField(_("project"), max_length=200)
    quantity = models.PositiveIntegerField(_("resource committed"), validators=[MinValueValidator(1)])
    status = models.CharField(_("status"), max_length=10, choices=ProjectStatus.choices,
                              default=ProjectStatus.UNDERWAY)
    progress = models.PositiveSmallIntegerField(_("progress (%)"), default=0, validators=[MaxValueValidator(100)])
    ranking = models.JSONField(default=dict, help_text=_("The match as explained when it was confirmed."))
    confirmed_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    done_on = models.DateField(null=True, blank=True)
    outcome = models.TextField(_("outcome"), blank=True)

    objects = ScopedManager()

    class Meta:
        ordering = ["pairing", "status", "-created_at"]
        verbose_name = _("project")
        indexes = [models.Index(fields=["review_due_on"], condition=Q(stale_flagged_at__isnull=True),
                                name="linking_project_review_due")]

    def __str__(self):
        return self.title


class ProjectTask(PairingScoped):
    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="tasks")
    title = models.CharField(_("task"), max_length=200)
    department = models.ForeignKey("registry.Department", null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    assignee = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    assignee_name = models.CharField(_("responsible person"), max_length=50)
    due_on = models.DateField(_("due by"))
    progress = models.PositiveSmallIntegerField(_("progress (%)"), default=0, validators=[MaxValueValidator(100)])
    note = models.CharField(_("latest progress"), max_length=300, blank=True)
    done_on = models.DateField(null=True, blank=True)

    objects = ScopedManager()

    class Meta:
        ordering = ["project", "due_on", "id"]
        verbose_name = _("project task")


# ---------------------------------------------------------------------------------------------
# Activities, surveys, evaluations, feedback and plans


class ActivityKind(models.TextChoices):
    JOINT_MEETING = "joint_meeting", _("Joint meeting (联席会议)")
    SERVICE = "service", _("Service activity (服务活动)")
    SURVEY = "survey", _("Joint survey (联合调研)")
    REVIEW = "review", _("Review meeting (复盘会)")
    FOLLOW_UP = "follow_up", _("Follow-up visit (回访)")


class ActivityStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    HELD = "held", _("Held")
    CANCELLED = "cancelled", _("Cancelled")


def _survey_token() -> str:
    return secrets.token_urlsafe(9)


class Activity(PairingScoped):
    pairing = models.ForeignKey(Pairing, on_delete=models.PROTECT, related_name="activities")
    kind = models.CharField(_("kind"), max_length=16, choices=ActivityKind.choices)
    title = models.CharField(_("title"), max_length=200)
    place = models.CharField(_("place"), max_length=150)
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    status = models.CharField(_("status"), max_length=10, choices=ActivityStatus.choices,
                              default=ActivityStatus.PLANNED)
    project = models.ForeignKey(Project, null=True, blank=True, on_delete=models.PROTECT, related_name="activities")
    follow_up_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="follow_ups")
    summary = models.TextField(_("what was done"), blank=True)
    decisions = models.TextField(_("decisions (joint meetings)"), blank=True)
    residents_served = models.PositiveIntegerField(_("residents served"), default=0)
    survey_token = models.CharField(max_length=16, unique=True, default=_survey_token)
    created_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    held_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedManager()

    class Meta:
        ordering = ["-starts_at", "-id"]
        verbose_name = _("joint activity")

    def __str__(self):
        return self.title


class AttendeeSide(models.TextChoices):
    LEAD = "lead", _("Lead side")
    PARTNER = "partner", _("Community or village side")
    RESIDENT = "resident", _("Resident")


class ActivityAttendance(PairingScoped):
    activity = models.ForeignKey(Activity, on_delete=models.PROTECT, related_name="attendance")
    side = models.CharField(_("side"), max_length=10, choices=AttendeeSide.choices)
    name = models.CharField(_("name"), max_length=50)
    user = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    arrived_at = models.DateTimeField(_("arrived"))
    left_at = models.DateTimeField(_("left"), null=True, blank=True)
    left_early = models.BooleanField(_("left early"), default=False)

    objects = ScopedManager()

    class Meta:
        ordering = ["activity", "side", "arrived_at", "id"]


class Rating(models.IntegerChoices):
    GOOD = 3, _("Good")
    FAIR = 2, _("Fair")
    POOR = 1, _("Poor")


class FeedbackChannel(models.TextChoices):
    SURVEY = "survey", _("On-site survey")
    PUBLIC_PAGE = "public_page", _("The public page")
    WINDOW = "window", _("The fixed window (固定窗口)")
    SUGGESTION_BOX = "box", _("The suggestion box")
    HOTLINE = "hotline", _("The 12345 line")
    ACCOUNT = "account", _("The party-building account")
    EVALUATION = "evaluation", _("A side's evaluation")


class SurveyResponse(PairingScoped):
    """A resident's three taps after an activity: content, format, timing; a comment if they like.
    Anonymous by design: no name, no phone, nothing to trace."""

    activity = models.ForeignKey(Activity, on_delete=models.PROTECT, related_name="survey_responses")
    content = models.PositiveSmallIntegerField(_("content"), choices=Rating.choices)
    format = models.PositiveSmallIntegerField(_("activity format"), choices=Rating.choices)
    timing = models.PositiveSmallIntegerField(_("timing"), choices=Rating.choices)
    comment = models.CharField(_("comment"), max_length=300, blank=True)
    channel = models.CharField(max_length=12, choices=FeedbackChannel.choices, default=FeedbackChannel.SURVEY)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager()

    class Meta:
        ordering = ["activity", "-created_at"]


class Evaluation(PairingScoped):
    """One side's evaluation of the other after an activity, judged by outcomes."""

    activity = models.ForeignKey(Activity, on_delete=models.PROTECT, related_name="evaluations")
    by_side = models.CharField(_("evaluating side"), max_length=10, choices=Side.choices)
    outcome = models.TextField(_("what changed for residents"))
    problems_solved = models.PositiveIntegerField(_("problems solved"), default=0)
    residents_benefited = models.PositiveIntegerField(_("residents who benefited"), default=0)
    effect = models.PositiveSmallIntegerField(_("effect"), choices=Rating.choices)
    cooperation = models.PositiveSmallIntegerField(_("the other side's cooperation"), choices=Rating.choices)
    improve = models.TextField(_("what the other side should do better"), blank=True)
    evaluator = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager()

    class Meta:
        ordering = ["activity", "by_side"]
        constraints = [models.UniqueConstraint(fields=["activity", "by_side"], name="linking_one_evaluation_per_side")]


class FeedbackItem(PairingScoped):
    """One piece of feedback on a pairing, from whichever channel: they all land here, and the
    next plan must say what it did with each."""

    pairing = models.ForeignKey(Pairing, on_delete=models.PROTECT, related_name="feedback")
    channel = models.CharField(_("channel"), max_length=12, choices=FeedbackChannel.choices)
    text = models.TextField(_("feedback"))
    activity = models.ForeignKey(Activity, null=True, blank=True, on_delete=models.PROTECT, related_name="feedback")
    case = models.ForeignKey("cases.Case", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    survey_response = models.OneToOneField(SurveyResponse, null=True, blank=True, on_delete=models.PROTECT,
                                           related_name="feedback")
    evaluation = models.OneToOneField(Evaluation, null=True, blank=True, on_delete=models.PROTECT,
                                      related_name="feedback")
    received_at = models.DateTimeField()
    recorded_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    objects = ScopedManager()

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name = _("feedback")
        constraints = [models.UniqueConstraint(fields=["pairing", "case"], condition=Q(case__isnull=False),
                                               name="linking_feedback_case_once")]


class PlanStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    ADOPTED = "adopted", _("Adopted")


class Plan(PairingScoped):
    pairing = models.ForeignKey(Pairing, on_delete=models.PROTECT, related_name="plans")
    period = models.CharField(_("period"), max_length=40, help_text=_("e.g. 2027年度, 2027年第一季度"))
    starts_on = models.DateField(_("starts"))
    ends_on = models.DateField(_("ends"))
    content = models.TextField(_("plan"))
    status = models.CharField(_("status"), max_length=10, choices=PlanStatus.choices, default=PlanStatus.DRAFT)
    adopted_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager()

    class Meta:
        ordering = ["pairing", "-starts_on"]
        verbose_name = _("pairing plan")


class PlanFeedback(PairingScoped):
    """What a plan did with one piece of earlier feedback."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="responses")
    feedback = models.ForeignKey(FeedbackItem, on_delete=models.PROTECT, related_name="plan_responses")
    taken_in = models.BooleanField(_("taken in"))
    response = models.CharField(_("how, or why not"), max_length=300)

    objects = ScopedManager()

    class Meta:
        ordering = ["plan", "feedback"]
        constraints = [models.UniqueConstraint(fields=["plan", "feedback"], name="linking_plan_feedback_once")]


# ---------------------------------------------------------------------------------------------
# The fast track


class ApprovalKind(models.TextChoices):
    VENUE = "venue", _("Venue")
    FUNDS = "funds", _("Funds")
    PEOPLE = "people", _("People")


class ApprovalStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for a decision")
    APPROVED = "approved", _("Approved")
    REFUSED = "refused", _("Refused")


class ApprovalRequest(PairingScoped):
    """A request on the fast track, decided by the town within ``LinkingSettings.approval_working_days``;
    overdue, the sweep escalates it to the town's supervisors and then to the county."""

    pairing = models.ForeignKey(Pairing, on_delete=models.PROTECT, related_name="approvals")
    kind = models.CharField(_("kind"), max_length=10, choices=ApprovalKind.choices)
    title = models.CharField(_("request"), max_length=200)
    detail = models.TextField(_("detail"))
    amount = models.DecimalField(_("amount (yuan)"), max_digits=12, decimal_places=2, null=True, blank=True)
    project = models.ForeignKey(Project, null=True, blank=True, on_delete=models.PROTECT, related_name="approvals")
    requested_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField()
    due_at = models.DateTimeField(_("to be decided by"))
    county_due_at = models.DateTimeField(_("escalated to the county at"))
    status = models.CharField(_("status"), max_length=10, choices=ApprovalStatus.choices,
                              default=ApprovalStatus.PENDING)
    decided_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.CharField(_("reason"), max_length=300, blank=True)
    overdue_warned_at = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedManager()

    class Meta:
        ordering = ["status", "due_at", "id"]
        verbose_name = _("fast-track request")
        permissions = [("decide_approvalrequest", "Decide fast-track requests")]
        indexes = [
            models.Index(fields=["due_at"], condition=Q(status="pending", overdue_warned_at__isnull=True),
                         name="linking_approval_overdue_due"),
            models.Index(fields=["county_due_at"], condition=Q(status="pending", escalated_at__isnull=True),
                         name="linking_approval_escalate_due"),
        ]


# ---------------------------------------------------------------------------------------------
# 三联 and the 535 links


class LinkKind(models.TextChoices):
    COUNTY_LEADER_TOWN = "leader_town", _("County leader – town (县级领导联镇)")
    DEPARTMENT_VILLAGE = "department_village", _("Department – village (部门联村)")
    CADRE_HOUSEHOLD = "cadre_household", _("Cadre – household (干部联户)")
    STRONG_WEAK = "strong_weak", _("Strong village – weak village (强村联弱村)")
    HOST_COMMUNITY = "host_community", _("Host village – new community (村社联建)")
    THREE_OFFICIALS = "three_officials", _("Judge, prosecutor, police officer, lawyer – village (三官一律进村)")
    TOWN_LEADER_VILLAGE = "town_leader_village", _("Town leader – village (镇领导包村)")


# What each kind of link joins: the "from" column it needs and the level of region it reaches.
LINK_SHAPE = {
    LinkKind.COUNTY_LEADER_TOWN: ("from_person", "town"),
    LinkKind.DEPARTMENT_VILLAGE: ("from_department", "village"),
    LinkKind.CADRE_HOUSEHOLD: ("from_person", "household"),
    LinkKind.STRONG_WEAK: ("from_region", "village"),
    LinkKind.HOST_COMMUNITY: ("from_region", "village"),
    LinkKind.THREE_OFFICIALS: ("from_person", "village"),
    LinkKind.TOWN_LEADER_VILLAGE: ("from_person", "village"),
}


class Link(TerritoryMixin):
    """One link of the 535 (or 三官一律, or a town leader following a village)."""

    kind = models.CharField(_("kind"), max_length=20, choices=LinkKind.choices)
    from_person = models.ForeignKey("registry.Person", null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    from_post = models.CharField(_("post"), max_length=100, blank=True,
                                 help_text=_("The linking person's post, e.g. 县委常委、副县长; 法官."))
    from_department = models.ForeignKey("registry.Department", null=True, blank=True, on_delete=models.PROTECT,
                                        related_name="+")
    from_region = models.ForeignKey("registry.Region", null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="links_from")
    to_region = models.ForeignKey("registry.Region", on_delete=models.PROTECT, related_name="links_to")
    to_household = models.ForeignKey("registry.Household", null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="+")
    started_on = models.DateField(_("since"))
    ended_on = models.DateField(_("until"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)

    objects = ScopedManager()

    class Meta:
        ordering = ["kind", "to_region", "id"]
        verbose_name = _("link")
        indexes = [models.Index(fields=["kind", "to_region"], condition=Q(ended_on__isnull=True),
                                name="linking_link_current")]

    scope_rule = ScopeRule(region=in_territory(), grid=in_grid_village(),
                           department=of_department("from_department_id"))


class LinkActivity(TerritoryMixin):
    link = models.ForeignKey(Link, on_delete=models.PROTECT, related_name="activities")
    held_on = models.DateField(_("on"))
    summary = models.CharField(_("what was done"), max_length=300)
    problems_solved = models.PositiveIntegerField(_("problems solved"), default=0)
    recorded_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")

    objects = ScopedManager()

    class Meta:
        ordering = ["-held_on", "-id"]

    scope_rule = ScopeRule(region=in_territory(), grid=in_grid_village(),
                           department=of_department("link__from_department_id"))


class VillageGradeKind(models.TextChoices):
    STRONG = "strong", _("Strong (强村)")
    ORDINARY = "ordinary", _("Ordinary")
    WEAK = "weak", _("Weak (弱村、软弱涣散)")


class VillageGrade(TerritoryScoped):
    """The county's grading of a village, against which link coverage is measured."""

    region = models.ForeignKey("registry.Region", on_delete=models.PROTECT, related_name="+")
    grade = models.CharField(_("grade"), max_length=10, choices=VillageGradeKind.choices)
    reason = models.CharField(_("reason"), max_length=200)
    assessed_on = models.DateField(_("assessed on"))

    objects = ScopedManager()

    class Meta:
        ordering = ["region"]
        constraints = [models.UniqueConstraint(fields=["region"], name="linking_one_grade_per_village")]


class AllianceMode(models.TextChoices):
    SAME_TRADE = "same_trade", _("Same-trade joint operation (同业联营)")
    CROSS_TRADE = "cross_trade", _("Cross-trade linkage (跨业联动)")
    LEADING_FIRM = "leading_firm", _("A leading firm drives others (龙头带动)")


class Alliance(TerritoryScoped):
    """An industry alliance (产业联盟)."""

    region = models.ForeignKey("registry.Region", on_delete=models.PROTECT, related_name="+",
                               help_text=_("Where it is based (town or county)."))
    name = models.CharField(_("name"), max_length=150)
    trade = models.CharField(_("trade"), max_length=100)
    mode = models.CharField(_("mode"), max_length=14, choices=AllianceMode.choices)
    founded_on = models.DateField(_("founded"))

    objects = ScopedManager()

    class Meta:
        ordering = ["region", "name"]

    def __str__(self):
        return self.name


class AllianceMember(TerritoryScoped):
    alliance = models.ForeignKey(Alliance, on_delete=models.CASCADE, related_name="members")
    host_unit = models.ForeignKey("registry.HostUnit", null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="+")
    member_region = models.ForeignKey("registry.Region", null=True, blank=True, on_delete=models.PROTECT,
                                      related_name="+", help_text=_("A village (its collective) as a member."))
    name = models.CharField(_("name"), max_length=150)
    is_lead = models.BooleanField(_("leading member"), default=False)
    joined_on = models.DateField(_("joined"))
    left_on = models.DateField(null=True, blank=True)

    objects = ScopedManager()

    class Meta:
        ordering = ["alliance", "-is_lead", "name"]


class AllianceOperation(TerritoryScoped):
    alliance = models.ForeignKey(Alliance, on_delete=models.CASCADE, related_name="operations")
    title = models.CharField(_("joint operation"), max_length=200)
    started_on = models.DateField(_("started"))
    area_mu = models.DecimalField(_("area (mu)"), max_digits=10, decimal_places=1, null=True, blank=True)
    jobs = models.PositiveIntegerField(_("jobs"), default=0)
    income = models.DecimalField(_("income (yuan)"), max_digits=14, decimal_places=2, null=True, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)

    objects = ScopedManager()

    class Meta:
        ordering = ["alliance", "-started_on"]


class ShareKind(models.TextChoices):
    INFORMATION = "information", _("Information")
    CAPITAL = "capital", _("Capital")
    PEOPLE = "people", _("People")


class ShareMode(models.TextChoices):
    JOINT = "joint", _("Joint operation (联营)")
    LEASE = "lease", _("Lease (租赁)")
    SHARES = "shares", _("Shareholding (入股)")
    SECONDMENT = "secondment", _("Secondment or exchange (交流挂职)")


class ResourceShare(TerritoryScoped):
    """Resource sharing (资源联享) between villages, a pairing or an alliance."""

    kind = models.CharField(_("kind"), max_length=12, choices=ShareKind.choices)
    mode = models.CharField(_("mode"), max_length=12, choices=ShareMode.choices)
    title = models.CharField(_("what is shared"), max_length=200)
    from_region = models.ForeignKey("registry.Region", on_delete=models.PROTECT, related_name="+")
    to_region = models.ForeignKey("registry.Region", on_delete=models.PROTECT, related_name="+")
    pairing = models.ForeignKey(Pairing, null=True, blank=True, on_delete=models.PROTECT, related_name="shares")
    alliance = models.ForeignKey(Alliance, null=True, blank=True, on_delete=models.PROTECT, related_name="shares")
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2, null=True, blank=True)
    unit = models.CharField(_("unit of measure"), max_length=20, blank=True)
    started_on = models.DateField(_("started"))

    objects = ScopedManager()

    class Meta:
        ordering = ["-started_on", "id"]


# ---------------------------------------------------------------------------------------------
# 镇村工作一体化: town–village integration


class Aim(models.TextChoices):
    INCOME = "income", _("Residents' income (促农增收)")
    COLLECTIVE = "collective", _("The new collective economy (壮大村集体经济)")
    GOVERNANCE = "governance", _("Grassroots governance (提升基层治理)")


class KeyTaskStatus(models.TextChoices):
    OPEN = "open", _("Underway")
    DONE = "done", _("Finished")
    DROPPED = "dropped", _("Dropped")


class KeyTask(TerritoryScoped):
    """A key task quantified to one village for a year, serving one of the three aims."""

    region = models.ForeignKey("registry.Region", on_delete=models.PROTECT, related_name="key_tasks")
    year = models.PositiveSmallIntegerField(_("year"))
    aim = models.CharField(_("aim"), max_length=12, choices=Aim.choices)
    title = models.CharField(_("task"), max_length=200)
    target = models.DecimalField(_("target"), max_digits=14, decimal_places=2, validators=[MinValueValidator(Decimal("0.01"))])
    unit = models.CharField(_("unit of measure"), max_length=20)
    achieved = models.DecimalField(_("achieved"), max_digits=14, decimal_places=2, default=0)
    due_on = models.DateField(_("due by"))
    status = models.CharField(_("status"), max_length=10, choices=KeyTaskStatus.choices, default=KeyTaskStatus.OPEN)
    set_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager()

    class Meta:
        ordering = ["region", "aim", "due_on", "id"]
        verbose_name = _("key task")
        indexes = [models.Index(fields=["town", "year"], name="linking_keytask_town_year")]

    def __str__(self):
        return self.title

    @property
    def percent(self) -> int:
        return min(100, int(self.achieved * 100 / self.target)) if self.target else 0


class KeyTaskProgress(TerritoryScoped):
    """The task's ledger: each report adds to what is achieved; nothing is edited in place."""

    task = models.ForeignKey(KeyTask, on_delete=models.PROTECT, related_name="progress")
    on = models.DateField(_("on"))
    amount = models.DecimalField(_("achieved this time"), max_digits=14, decimal_places=2)
    note = models.CharField(_("what was done"), max_length=300)
    reported_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager()

    class Meta:
        ordering = ["task", "-on", "-id"]


class WorkTeam(TerritoryScoped):
    """A town work team stationed in a village for a year, and the town leader who follows it."""

    region = models.ForeignKey("registry.Region", on_delete=models.PROTECT, related_name="work_teams")
    year = models.PositiveSmallIntegerField(_("year"))
    town_leader = models.ForeignKey("registry.Person", on_delete=models.PROTECT, related_name="+",
                                    help_text=_("The town leader following this village (包村领导)."))
    town_leader_post = models.CharField(_("the town leader's post"), max_length=100)
    started_on = models.DateField(_("stationed from"))
    ended_on = models.DateField(_("until"), null=True, blank=True)

    objects = ScopedManager()

    class Meta:
        ordering = ["region", "-year"]
        verbose_name = _("stationed work team")
        constraints = [models.UniqueConstraint(fields=["region", "year"], name="linking_one_team_per_village_year")]


class TeamRole(models.TextChoices):
    LEADER = "leader", _("Team leader")
    MEMBER = "member", _("Member")


class WorkTeamMember(TerritoryScoped):
    team = models.ForeignKey(WorkTeam, on_delete=models.PROTECT, related_name="members")
    person = models.ForeignKey("registry.Person", on_delete=models.PROTECT, related_name="+")
    role = models.CharField(_("role"), max_length=10, choices=TeamRole.choices)
    post = models.CharField(_("town post"), max_length=100, blank=True)
    started_on = models.DateField(_("from"))
    ended_on = models.DateField(_("until"), null=True, blank=True)

    objects = ScopedManager()

    class Meta:
        ordering = ["team", "role", "id"]
        constraints = [
            models.UniqueConstraint(fields=["team", "person"], condition=Q(ended_on__isnull=True),
                                    name="linking_member_once_per_team"),
            models.UniqueConstraint(fields=["team"], condition=Q(role="leader", ended_on__isnull=True),
                                    name="linking_one_leader_per_team"),
        ]


class StationDay(TerritoryScoped):
    """A day (or half day) a team member spent in the village."""

    member = models.ForeignKey(WorkTeamMember, on_delete=models.PROTECT, related_name="days")
    on = models.DateField(_("on"))
    days = models.DecimalField(_("days"), max_digits=3, decimal_places=1, default=1,
                               validators=[MinValueValidator(Decimal("0.5")), MaxValueValidator(Decimal("1"))])
    work = models.CharField(_("what was done"), max_length=200)
    recorded_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")

    objects = ScopedManager()

    class Meta:
        ordering = ["member", "-on"]
        constraints = [models.UniqueConstraint(fields=["member", "on"], name="linking_one_station_day_per_date")]


# ---------------------------------------------------------------------------------------------
# 在职党员进社区报到: in-service party members report to the community where they live


class MemberReportStatus(models.TextChoices):
    ACTIVE = "active", _("Reported")
    ENDED = "ended", _("Ended (moved or left service)")


class MemberReport(TerritoryScoped):
    """An in-service party member's report (报到) to the community or village they live in. The
    member and their own branch come from the registry (``PartyMembership.in_service``); the
    territory is where they live, so the community sees and confirms their service there."""

    membership = models.ForeignKey("registry.PartyMembership", on_delete=models.PROTECT, related_name="+")
    person = models.ForeignKey("registry.Person", on_delete=models.PROTECT, related_name="+")
    region = models.ForeignKey("registry.Region", on_delete=models.PROTECT, related_name="+",
                               help_text=_("The community or village the member lives in."))
    reported_on = models.DateField(_("reported on"))
    pledge = models.CharField(_("what they offer to do"), max_length=200, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=MemberReportStatus.choices,
                              default=MemberReportStatus.ACTIVE)
    ended_on = models.DateField(null=True, blank=True)
    recorded_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")

    objects = ScopedManager()

    class Meta:
        ordering = ["region", "-reported_on", "id"]
        verbose_name = _("in-service member's report")
        constraints = [models.UniqueConstraint(fields=["membership"], condition=Q(status="active"),
                                               name="linking_one_active_report_per_membership")]


class MemberService(TerritoryScoped):
    """A service an in-service member gave in their community, confirmed by the community."""

    report = models.ForeignKey(MemberReport, on_delete=models.PROTECT, related_name="services")
    on = models.DateField(_("on"))
    hours = models.DecimalField(_("hours"), max_digits=4, decimal_places=1,
                                validators=[MinValueValidator(Decimal("0.5")), MaxValueValidator(Decimal("24"))])
    work = models.CharField(_("what they did"), max_length=200)
    activity = models.ForeignKey(Activity, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    recorded_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")

    objects = ScopedManager()

    class Meta:
        ordering = ["report", "-on", "-id"]
        verbose_name = _("in-service member's service")
