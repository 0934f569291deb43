"""The village governance layer (DOMAIN.md §3.3): 六位一体 bodies, 两说一商 meetings, votes with
the law's quorums, 四议两公开 for major matters, decisions followed to the end, village affairs
made public (村务公开) and the power and responsibility lists.

What lives here
* County settings as data: ``VillageSettings`` (quorum shares with the Organic Law of Villagers'
  Committees as default, term-end warnings, publicity periods) and ``PublicityRequirement``.
* The six bodies of a village (``Body``) and their members (``BodyMember``), every member a
  registry ``Person``: nothing is typed twice.
* Meetings with their agenda (``AgendaItem``, fed by cases and contact records), roll
  (``Attendance``, taken against the registry), minutes (``Speech``) and attachments.
* Votes (``Poll``) with per-voter ballots (``Ballot``; a secret ballot keeps who voted apart from
  how: ``SecretBallot``).
* Major matters (``Matter``) and their 四议两公开 path (``MatterStep``; the order is
  ``workflow.STEPS``), decisions (``Decision``), their tasks (``DecisionTask``) and timeline
  (``DecisionEntry``).
* Publicity (``PublicityItem``, immutable once published; ``PublicityQuestion`` links a
  resident's question to the case it became) and duty lists (``DutyList``, ``Duty``,
  ``DutyOwner``).

Every row carries the cached territory columns (``county``, ``town``, ``village``) and is read
through ``ScopedManager`` with the territory rule: a village's data is one indexed filter.
"""
from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from gongzhi.core.scoping import ScopedManager, ScopeRule, in_grid_village, in_territory
from gongzhi.registry.models import TerritoryMixin


class VillageScoped(TerritoryMixin):
    """Rows of one village (or, for settings, one county): region grants by territory, grid
    workers and three-line persons over the village their grid lies in."""

    class Meta:
        abstract = True

    scope_rule = ScopeRule(region=in_territory(), grid=in_grid_village())


def threshold_validator(value: str) -> None:
    from .quorum import Threshold

    Threshold.parse(value)


class PublicityPeriod(models.TextChoices):
    MONTHLY = "monthly", _("Monthly")
    QUARTERLY = "quarterly", _("Quarterly")
    YEARLY = "yearly", _("Yearly")


class VillageSettings(VillageScoped):
    """One row per county; a county without one uses the defaults, which are the law's.

    Thresholds are written as ``>1/2`` (more than half: 过半数) or ``>=2/3`` (two thirds or more:
    三分之二以上 — in Chinese law 以上 includes the figure itself, Civil Code art. 1259) and are
    compared in whole numbers (``quorum.Threshold``), never as rounded decimals.
    """

    villagers_adults = models.CharField(
        _("villagers' meeting: adult villagers present"), max_length=8, default=">1/2", validators=[threshold_validator])
    villagers_households = models.CharField(
        _("villagers' meeting: households represented"), max_length=8, default=">=2/3",
        validators=[threshold_validator])
    representatives = models.CharField(
        _("representatives' meeting: representatives present"), max_length=8, default=">=2/3",
        validators=[threshold_validator])
    party_members = models.CharField(
        _("party members' meeting: members with a vote present"), max_length=8, default=">1/2",
        validators=[threshold_validator])
    committees = models.CharField(
        _("committee meetings: members present"), max_length=8, default=">1/2", validators=[threshold_validator])
    resolution = models.CharField(
        _("a resolution: votes for among those present"), max_length=8, default=">1/2",
        validators=[threshold_validator])
    adult_age = models.PositiveSmallIntegerField(_("adult from age"), default=18)
    elderly_age = models.PositiveSmallIntegerField(_("counted as elderly from age"), default=60)
    term_warning_days = models.PositiveSmallIntegerField(_("warn this many days before a term ends"), default=90)
    task_due_soon_days = models.PositiveSmallIntegerField(_("warn this many days before a task is due"), default=3)
    exemption_explain_days = models.PositiveSmallIntegerField(
        _("an emergency exemption must be explained within (days)"), default=15)
    duty_review_months = models.PositiveSmallIntegerField(_("duty lists are reviewed every (months)"), default=12)

    objects = ScopedManager()

    class Meta:
        verbose_name = _("village governance settings")
        constraints = [models.UniqueConstraint(fields=["county"], name="village_settings_one_per_county")]


# ---------------------------------------------------------------------------------------------
# 六位一体: the six bodies of a village


class BodyKind(models.TextChoices):
    PARTY = "party", _("Village party organisation")  # 村党组织 (核心)
    ASSEMBLY = "assembly", _("Villagers' representative assembly")  # 村民代表会议 (决策)
    COMMITTEE = "committee", _("Villagers' committee")  # 村民委员会 (执行)
    SUPERVISION = "supervision", _("Village affairs supervision committee")  # 村务监督委员会 (监督)
    COLLECTIVE = "collective", _("Collective economic organisation")  # 集体经济组织 (支撑)
    SOCIAL = "social", _("Social organisation")  # 社会组织 (补充)


BODY_ROLES = {
    BodyKind.PARTY: "领导核心", BodyKind.ASSEMBLY: "决策", BodyKind.COMMITTEE: "执行",
    BodyKind.SUPERVISION: "监督", BodyKind.COLLECTIVE: "支撑", BodyKind.SOCIAL: "补充",
}


class Body(VillageScoped):
    region = models.ForeignKey("registry.Region", on_delete=models.PROTECT, related_name="village_bodies",
                               help_text=_("The village or community the body belongs to."))
    kind = models.CharField(_("kind"), max_length=16, choices=BodyKind.choices)
    name = models.CharField(_("name"), max_length=150)
    party_organization = models.ForeignKey("registry.PartyOrganization", null=True, blank=True,
                                           on_delete=models.PROTECT, related_name="+",
                                           help_text=_("For the party body: its organisation in the registry."))
    term_start = models.DateField(_("term starts"))
    term_end = models.DateField(_("term ends"), null=True, blank=True)
    term_warned_at = models.DateTimeField(null=True, blank=True)
    dissolved_on = models.DateField(_("dissolved on"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager()

    class Meta:
        ordering = ["region", "kind", "name"]
        verbose_name = _("village body")
        constraints = [
            # One current body of each kind per village, but any number of social organisations.
            models.UniqueConstraint(fields=["region", "kind"], condition=Q(dissolved_on__isnull=True) & ~Q(kind="social"),
                                    name="village_body_one_current_per_kind"),
        ]
        indexes = [models.Index(fields=["term_end"], condition=Q(term_warned_at__isnull=True, dissolved_on__isnull=True),
                                name="village_body_term_due")]

    def __str__(self):
        return self.name


class Post(models.TextChoices):
    SECRETARY = "secretary", _("Secretary")  # 书记
    DEPUTY_SECRETARY = "deputy_secretary", _("Deputy secretary")
    CHAIR = "chair", _("Chair")  # 主任 / 理事长
    VICE_CHAIR = "vice_chair", _("Vice chair")
    MEMBER = "member", _("Member")  # 委员 / 成员
    REPRESENTATIVE = "representative", _("Villagers' representative")  # 村民代表
    ACCOUNTANT = "accountant", _("Accountant")  # 报账员 / 会计


class BodyMember(VillageScoped):
    """A person's post in a body for a term. Ended, never deleted: the table is its own history."""

    body = models.ForeignKey(Body, on_delete=models.PROTECT, related_name="members")
    person = models.ForeignKey("registry.Person", on_delete=models.PROTECT, related_name="village_posts")
    post = models.CharField(_("post"), max_length=20, choices=Post.choices)
    household = models.ForeignKey("registry.Household", null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="+", help_text=_("The household the member belongs to (copied from the "
                                                                "registry when the post is taken)."))
    represented_households = models.ManyToManyField(
        "registry.Household", blank=True, related_name="village_representatives",
        help_text=_("A villagers' representative speaks for 5–15 households (联户代表)."))
    started_on = models.DateField(_("from"))
    ended_on = models.DateField(_("until"), null=True, blank=True)
    end_reason = models.CharField(_("why it ended"), max_length=200, blank=True)

    objects = ScopedManager()

    class Meta:
        ordering = ["body", "post", "id"]
        verbose_name = _("body member")
        constraints = [models.UniqueConstraint(fields=["body", "person"], condition=Q(ended_on__isnull=True),
                                               name="village_member_one_current_post")]

    def __str__(self):
        return f"{self.person_id}@{self.body_id}"


# ---------------------------------------------------------------------------------------------
# meetings (两说一商 and the formal ones)


class MeetingKind(models.TextChoices):
    VILLAGERS = "villagers", _("Villagers' meeting")  # 村民会议
    REPRESENTATIVES = "representatives", _("Representatives' meeting")  # 村民代表会议
    BRANCH = "branch", _("Branch committee meeting")  # 支委会 (the branch proposes)
    TWO_COMMITTEES = "two_committees", _("Two-committee meeting")  # 两委会
    PARTY_MEMBERS = "party_members", _("Party members' meeting")  # 党员大会
    COURTYARD = "courtyard", _("Courtyard meeting")  # 院坝会
    COUNCIL = "council", _("Council meeting")  # 议事会
    COORDINATION = "coordination", _("Coordination meeting")  # 协调会
    HEART_TO_HEART = "heart_to_heart", _("Heart-to-heart meeting")  # 恳谈会
    ONLINE = "online", _("Online consultation")  # 线上议事


class MeetingStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    NOTIFIED = "notified", _("Notice sent")
    OPEN = "open", _("In session")
    CLOSED = "closed", _("Meeting closed")
    CANCELLED = "cancelled", _("Cancelled")


class Meeting(VillageScoped):
    region = models.ForeignKey("registry.Region", on_delete=models.PROTECT, related_name="village_meetings")
    kind = models.CharField(_("kind"), max_length=20, choices=MeetingKind.choices)
    title = models.CharField(_("title"), max_length=200)
    scheduled_at = models.DateTimeField(_("when"))
    place = models.CharField(_("where"), max_length=200, blank=True)
    grid = models.ForeignKey("registry.Grid", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                             help_text=_("A courtyard meeting may be held for one grid or villager group."))
    status = models.CharField(_("status"), max_length=12, choices=MeetingStatus.choices, default=MeetingStatus.PLANNED)
    notice_sent_at = models.DateTimeField(null=True, blank=True)
    opened_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    minutes = models.TextField(_("minutes"), blank=True)
    # Figures kept when the meeting closes (the roll is the truth while it is open).
    entitled_count = models.PositiveIntegerField(default=0)
    present_count = models.PositiveIntegerField(default=0)
    quorum_met = models.BooleanField(null=True, blank=True)
    quorum_text = models.CharField(max_length=300, blank=True)
    convened_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager()

    class Meta:
        ordering = ["-scheduled_at", "-id"]
        permissions = [('run_meeting', 'Run meetings: roll, minutes, votes')]
        verbose_name = _("meeting")
        indexes = [models.Index(fields=["region", "scheduled_at"])]

    def __str__(self):
        return self.title


class ItemMode(models.TextChoices):
    EXPLAIN = "explain", _("Explaining law and policy")  # 说法、说政策
    SPEAK = "speak", _("Residents speak of their matters")  # 说事、说心声
    DECIDE = "decide", _("To be decided by consultation")  # 商


class ItemSource(models.TextChoices):
    CASES = "cases", _("Residents' cases")
    CONTACT = "contact", _("Contact record")
    COMMITTEES = "committees", _("The two committees")
    RESIDENT = "resident", _("A resident's proposal")
    MATTER = "matter", _("A major matter (四议两公开)")


class AgendaItem(VillageScoped):
    """A point to discuss. Proposed items wait with no meeting until one takes them up."""

    region = models.ForeignKey("registry.Region", on_delete=models.PROTECT, related_name="+")
    meeting = models.ForeignKey(Meeting, null=True, blank=True, on_delete=models.PROTECT, related_name="items")
    order = models.PositiveSmallIntegerField(default=0)
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    mode = models.CharField(_("kind of item"), max_length=10, choices=ItemMode.choices)
    source = models.CharField(_("from"), max_length=12, choices=ItemSource.choices)
    cases = models.ManyToManyField("cases.Case", blank=True, related_name="village_agenda_items")
    contact_record = models.ForeignKey("care.ContactRecord", null=True, blank=True, on_delete=models.PROTECT,
                                       related_name="+")
    matter = models.ForeignKey("village.Matter", null=True, blank=True, on_delete=models.PROTECT,
                               related_name="agenda_items")
    proposer = models.ForeignKey("registry.Person", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                                 help_text=_("The resident who proposed it."))
    outcome = models.TextField(_("outcome"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager()

    class Meta:
        ordering = ["meeting", "order", "id"]
        verbose_name = _("agenda item")

    def __str__(self):
        return self.title


class AttendanceStatus(models.TextChoices):
    ABSENT = "absent", _("Absent")
    PRESENT = "present", _("Present")
    PROXY = "proxy", _("Sent a proxy")
    LEFT = "left", _("Left early")


class Attendance(VillageScoped):
    """One entitled person on a meeting's roll (made from the registry when the roll is opened).

    Courtyard and other open meetings have no entitled roll: who came is added as they come, with
    ``entitled`` False, and counts for participation but not for a quorum."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="attendance")
    person = models.ForeignKey("registry.Person", on_delete=models.PROTECT, related_name="+")
    household = models.ForeignKey("registry.Household", null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="+")
    entitled = models.BooleanField(default=True)
    status = models.CharField(max_length=8, choices=AttendanceStatus.choices, default=AttendanceStatus.ABSENT)
    proxy = models.ForeignKey("registry.Person", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                              help_text=_("Who came in their place (with a written authorisation)."))
    marked_at = models.DateTimeField(null=True, blank=True)
    # Facts for the participation count, copied when the roll is made (the roll is a record of the day).
    is_elderly = models.BooleanField(default=False)
    is_woman = models.BooleanField(default=False)
    is_disabled = models.BooleanField(default=False)
    is_left_behind = models.BooleanField(default=False)

    objects = ScopedManager()

    class Meta:
        ordering = ["meeting", "id"]
        verbose_name = _("attendance")
        constraints = [models.UniqueConstraint(fields=["meeting", "person"], name="village_attendance_once")]
        indexes = [models.Index(fields=["meeting", "status"])]


class Speech(VillageScoped):
    """A speaker's points in the minutes."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="speeches")
    item = models.ForeignKey(AgendaItem, null=True, blank=True, on_delete=models.CASCADE, related_name="speeches")
    speaker = models.ForeignKey("registry.Person", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    speaker_name = models.CharField(_("speaker"), max_length=50)
    points = models.TextField(_("points"))
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager()

    class Meta:
        ordering = ["meeting", "id"]


class MeetingAttachment(VillageScoped):
    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to="village/meetings/%Y/%m/")
    name = models.CharField(max_length=200)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager()


# ---------------------------------------------------------------------------------------------
# votes


class BallotKind(models.TextChoices):
    OPEN = "open", _("Open vote")  # 举手 / 记名
    SECRET = "secret", _("Secret ballot")  # 无记名投票


class Choice(models.TextChoices):
    FOR = "for", _("For")
    AGAINST = "against", _("Against")
    ABSTAIN = "abstain", _("Abstain")


class PollStatus(models.TextChoices):
    OPEN = "open", _("Voting")
    CLOSED = "closed", _("Vote closed")


class PollResult(models.TextChoices):
    PASSED = "passed", _("Passed")
    REJECTED = "rejected", _("Not passed")


class Poll(VillageScoped):
    meeting = models.ForeignKey(Meeting, on_delete=models.PROTECT, related_name="polls")
    item = models.ForeignKey(AgendaItem, null=True, blank=True, on_delete=models.PROTECT, related_name="polls")
    question = models.CharField(_("motion"), max_length=300)
    ballot = models.CharField(_("ballot"), max_length=8, choices=BallotKind.choices, default=BallotKind.OPEN)
    status = models.CharField(max_length=8, choices=PollStatus.choices, default=PollStatus.OPEN)
    # Fixed when the vote opens: who may vote is who is present then (and proxies).
    present_count = models.PositiveIntegerField(default=0)
    threshold = models.CharField(max_length=8, default=">1/2")
    votes_for = models.PositiveIntegerField(default=0)
    votes_against = models.PositiveIntegerField(default=0)
    votes_abstain = models.PositiveIntegerField(default=0)
    result = models.CharField(max_length=10, choices=PollResult.choices, blank=True)
    opened_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    objects = ScopedManager()

    class Meta:
        ordering = ["meeting", "id"]
        verbose_name = _("vote")

    def __str__(self):
        return self.question


class Ballot(VillageScoped):
    """One voter of a poll. The rows are made when the vote opens, one for each person present
    then (the electorate is fixed); casting fills ``cast_at`` once and never again."""

    poll = models.ForeignKey(Poll, on_delete=models.PROTECT, related_name="ballots")
    voter = models.ForeignKey(Attendance, on_delete=models.PROTECT, related_name="ballots")
    choice = models.CharField(max_length=8, choices=Choice.choices, blank=True,
                              help_text=_("Blank until cast, and for a secret ballot: how they voted is in "
                                          "SecretBallot."))
    cast_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedManager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["poll", "voter"], name="village_one_ballot_per_voter")]


class SecretBallot(VillageScoped):
    """A secret ballot's choice, with no link to the voter (the Ballot row says only that they voted)."""

    poll = models.ForeignKey(Poll, on_delete=models.PROTECT, related_name="secret_ballots")
    choice = models.CharField(max_length=8, choices=Choice.choices)

    objects = ScopedManager()


# ---------------------------------------------------------------------------------------------
# 四议两公开: major matters


class MatterTopic(models.TextChoices):
    LAND = "land", _("Land")
    COLLECTIVE = "collective", _("Collective economy and assets")
    PROJECT = "project", _("Public works and projects")
    ELDERLY = "elderly", _("Elderly care")
    INDUSTRY = "industry", _("Industry")
    SUBSIDY = "subsidy", _("Subsidies and relief")
    OTHER = "other", _("Other")


class MatterStatus(models.TextChoices):
    DRAFT = "draft", _("Not yet proposed")
    PROPOSED = "proposed", _("Proposed by the branch")  # 党组织提议
    DISCUSSED = "discussed", _("Discussed by the two committees")  # 两委会商议
    REVIEWED = "reviewed", _("Reviewed by the party members")  # 党员大会审议
    RESOLVED = "resolved", _("Resolved")  # 村民(代表)会议决议
    RESOLUTION_PUBLISHED = "resolution_published", _("Resolution made public")  # 决议公开
    RESULT_PUBLISHED = "result_published", _("Result made public")  # 实施结果公开
    REJECTED = "rejected", _("Not passed")


class Matter(VillageScoped):
    region = models.ForeignKey("registry.Region", on_delete=models.PROTECT, related_name="village_matters")
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"))
    topic = models.CharField(_("topic"), max_length=12, choices=MatterTopic.choices)
    status = models.CharField(_("stage"), max_length=24, choices=MatterStatus.choices, default=MatterStatus.DRAFT)
    cases = models.ManyToManyField("cases.Case", blank=True, related_name="village_matters")
    # An emergency (§3.6 negative list): decided without the deliberation steps, explained afterwards.
    exempt_reason = models.TextField(_("emergency exemption"), blank=True)
    exempted_at = models.DateTimeField(null=True, blank=True)
    exempted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    explanation = models.TextField(_("explanation afterwards"), blank=True)
    explained_at = models.DateTimeField(null=True, blank=True)
    explain_due_on = models.DateField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedManager()

    class Meta:
        ordering = ["-created_at", "-id"]
        permissions = [('steer_matter', 'Take major matters through 四议两公开')]
        verbose_name = _("major matter")

    def __str__(self):
        return self.title


class MatterStep(VillageScoped):
    """One step of a matter's path, with the meeting and vote it was taken at (the timeline)."""

    matter = models.ForeignKey(Matter, on_delete=models.PROTECT, related_name="steps")
    step = models.CharField(max_length=20)
    from_status = models.CharField(max_length=24, choices=MatterStatus.choices)
    to_status = models.CharField(max_length=24, choices=MatterStatus.choices)
    meeting = models.ForeignKey(Meeting, null=True, blank=True, on_delete=models.PROTECT, related_name="matter_steps")
    poll = models.ForeignKey(Poll, null=True, blank=True, on_delete=models.PROTECT, related_name="matter_steps")
    publicity = models.ForeignKey("village.PublicityItem", null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="matter_steps")
    note = models.TextField(blank=True)
    at = models.DateTimeField()
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    objects = ScopedManager()

    class Meta:
        ordering = ["matter", "at", "id"]
        constraints = [models.UniqueConstraint(fields=["matter", "step"], name="village_matter_step_once")]


# ---------------------------------------------------------------------------------------------
# decisions followed to the end


class DecisionStatus(models.TextChoices):
    IN_PROGRESS = "in_progress", _("Being carried out")
    DONE = "done", _("Carried out")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class Decision(VillageScoped):
    region = models.ForeignKey("registry.Region", on_delete=models.PROTECT, related_name="village_decisions")
    matter = models.OneToOneField(Matter, null=True, blank=True, on_delete=models.PROTECT, related_name="decision")
    meeting = models.ForeignKey(Meeting, null=True, blank=True, on_delete=models.PROTECT, related_name="decisions")
    poll = models.ForeignKey(Poll, null=True, blank=True, on_delete=models.PROTECT, related_name="decisions")
    title = models.CharField(_("title"), max_length=200)
    content = models.TextField(_("what was decided"))
    decided_on = models.DateField(_("decided on"))
    responsible_body = models.ForeignKey(Body, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    responsible_person = models.ForeignKey("registry.Person", null=True, blank=True, on_delete=models.PROTECT,
                                           related_name="+")
    status = models.CharField(max_length=12, choices=DecisionStatus.choices, default=DecisionStatus.IN_PROGRESS)
    done_at = models.DateTimeField(null=True, blank=True)
    cases = models.ManyToManyField("cases.Case", blank=True, related_name="village_decisions")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager()

    class Meta:
        ordering = ["-decided_on", "-id"]
        permissions = [('supervise_decision', 'Record supervision of decisions')]
        verbose_name = _("decision")

    def __str__(self):
        return self.title


class TaskStatus(models.TextChoices):
    OPEN = "open", _("Task open")
    DONE = "done", _("Task done")
    CANCELLED = "cancelled", _("Task cancelled")


class DecisionTask(VillageScoped):
    decision = models.ForeignKey(Decision, on_delete=models.PROTECT, related_name="tasks")
    title = models.CharField(_("task"), max_length=200)
    assignee = models.ForeignKey("registry.Person", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    assignee_body = models.ForeignKey(Body, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    due_on = models.DateField(_("due on"))
    progress = models.PositiveSmallIntegerField(_("progress (%)"), default=0, validators=[MaxValueValidator(100)])
    status = models.CharField(max_length=10, choices=TaskStatus.choices, default=TaskStatus.OPEN)
    done_at = models.DateTimeField(null=True, blank=True)
    overdue_warned_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedManager()

    class Meta:
        ordering = ["decision", "due_on", "id"]
        verbose_name = _("decision task")
        indexes = [models.Index(fields=["due_on"], condition=Q(status="open", overdue_warned_at__isnull=True),
                                name="village_task_overdue_due")]


class EntryKind(models.TextChoices):
    DECIDED = "decided", _("Decided")
    TASK = "task", _("Task assigned")
    PROGRESS = "progress", _("Progress")
    FEEDBACK = "feedback", _("Residents' feedback")
    SUPERVISION = "supervision", _("Supervision")
    ADJUSTMENT = "adjustment", _("Adjustment")
    OVERDUE = "overdue", _("Overdue")
    DONE = "done", _("Carried out")


class Supervisor(models.TextChoices):
    COMMITTEE = "committee", _("Village affairs supervision committee")
    PARTY = "party", _("Party supervision")
    ADMINISTRATIVE = "administrative", _("Administrative supervision")
    LEGAL = "legal", _("Legal supervision")
    SOCIAL = "social", _("Social supervision")
    THIRD_PARTY = "third_party", _("Third-party evaluation")


class DecisionEntry(VillageScoped):
    """The decision's timeline: decision → execution → feedback → supervision → adjustment."""

    decision = models.ForeignKey(Decision, on_delete=models.PROTECT, related_name="entries")
    task = models.ForeignKey(DecisionTask, null=True, blank=True, on_delete=models.PROTECT, related_name="entries")
    kind = models.CharField(max_length=12, choices=EntryKind.choices)
    supervisor = models.CharField(max_length=16, choices=Supervisor.choices, blank=True)
    text = models.TextField()
    public = models.BooleanField(default=True, help_text=_("Shown on the village's public page."))
    at = models.DateTimeField()
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                              related_name="+")
    actor_name = models.CharField(max_length=150, blank=True)

    objects = ScopedManager()

    class Meta:
        ordering = ["decision", "at", "id"]


# ---------------------------------------------------------------------------------------------
# 村务公开


class PublicityCategory(models.TextChoices):
    DECISION = "decision", _("Decisions")  # 决策事项
    RESULT = "result", _("Results of decisions")  # 实施结果
    FINANCE = "finance", _("Funds: income and expenses")  # 财务收支
    ASSETS = "assets", _("Collective assets")  # 集体资产
    RESOURCES = "resources", _("Collective resources")  # 集体资源
    PROJECTS = "projects", _("Projects")  # 项目建设
    SUBSIDIES = "subsidies", _("Subsidy lists")  # 惠民补贴
    DUTIES = "duties", _("Power and responsibility lists")  # 权力清单、责任清单
    OTHER = "other", _("Other village affairs")


class PublicityRequirement(VillageScoped):
    """A county's rule: every village publishes ``category`` every ``period`` (county row)."""

    category = models.CharField(max_length=12, choices=PublicityCategory.choices)
    period = models.CharField(max_length=10, choices=PublicityPeriod.choices)
    grace_days = models.PositiveSmallIntegerField(_("days after the period to publish"), default=10)

    objects = ScopedManager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["county", "category"], name="village_publicity_req_once")]


class PublicityStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")
    SUPERSEDED = "superseded", _("Corrected by a later notice")


class PublicityItem(VillageScoped):
    """A notice on the village board. Once published its content never changes: a correction
    is a new notice that supersedes it, and both stay readable."""

    region = models.ForeignKey("registry.Region", on_delete=models.PROTECT, related_name="village_publicity")
    category = models.CharField(_("category"), max_length=12, choices=PublicityCategory.choices)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("text"), blank=True)
    # Table lines: finance [{"item", "income", "expense"}], subsidies [{"name", "kind", "amount"}], …
    lines = models.JSONField(_("table"), default=list, blank=True)
    period_start = models.DateField(_("period from"), null=True, blank=True)
    period_end = models.DateField(_("period until"), null=True, blank=True)
    status = models.CharField(max_length=12, choices=PublicityStatus.choices, default=PublicityStatus.DRAFT)
    published_at = models.DateTimeField(null=True, blank=True, db_index=True)
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="+")
    supersedes = models.OneToOneField("self", null=True, blank=True, on_delete=models.PROTECT,
                                      related_name="superseded_by")
    decision = models.ForeignKey(Decision, null=True, blank=True, on_delete=models.PROTECT, related_name="publicity")
    matter = models.ForeignKey(Matter, null=True, blank=True, on_delete=models.PROTECT, related_name="publicity")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager()

    class Meta:
        ordering = ["-published_at", "-id"]
        permissions = [('publish_publicityitem', 'Publish village affairs')]
        verbose_name = _("publicity notice")
        indexes = [models.Index(fields=["region", "category", "period_end"])]

    def __str__(self):
        return self.title


class PublicityQuestion(VillageScoped):
    """A resident's question about a notice; the question itself is a case (意见建议)."""

    item = models.ForeignKey(PublicityItem, on_delete=models.PROTECT, related_name="questions")
    case = models.OneToOneField("cases.Case", on_delete=models.PROTECT, related_name="publicity_question")
    asked_at = models.DateTimeField()

    objects = ScopedManager()


class PublicityFlag(VillageScoped):
    """A required publication not made in time, flagged to the town once per village and period."""

    region = models.ForeignKey("registry.Region", on_delete=models.PROTECT, related_name="+")
    category = models.CharField(max_length=12, choices=PublicityCategory.choices)
    period_start = models.DateField()
    period_end = models.DateField()
    flagged_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedManager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["region", "category", "period_start"],
                                               name="village_publicity_flag_once")]


# ---------------------------------------------------------------------------------------------
# 权力清单、责任清单


class DutyListKind(models.TextChoices):
    POWER = "power", _("Power list")
    RESPONSIBILITY = "responsibility", _("Responsibility list")


class DutyList(VillageScoped):
    region = models.ForeignKey("registry.Region", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=16, choices=DutyListKind.choices)
    reviewed_on = models.DateField(_("last reviewed"))
    review_due_on = models.DateField(_("next review"))
    stale_flagged_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedManager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["region", "kind"], name="village_duty_list_once")]


class Duty(VillageScoped):
    duty_list = models.ForeignKey(DutyList, on_delete=models.PROTECT, related_name="duties")
    title = models.CharField(_("duty"), max_length=200)
    basis = models.CharField(_("basis"), max_length=300, help_text=_("The law, regulation or village rule it rests on."))
    removed_on = models.DateField(null=True, blank=True)

    objects = ScopedManager()

    class Meta:
        ordering = ["duty_list", "id"]


class DutyOwner(VillageScoped):
    """Who owns a duty: a body, or one post in a body. A duty should have exactly one."""

    duty = models.ForeignKey(Duty, on_delete=models.CASCADE, related_name="owners")
    body = models.ForeignKey(Body, on_delete=models.PROTECT, related_name="+")
    post = models.CharField(max_length=20, choices=Post.choices, blank=True)

    objects = ScopedManager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["duty", "body", "post"], name="village_duty_owner_once")]
