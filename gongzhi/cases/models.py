"""Residents' matters (cases): the secretaries' three ledgers and the nine steps.

Tables
* ``CaseCategory`` and ``TimeLimitDefault`` — the catalogue, data a county edits (defaults are
  installed by migration 0002 from ``catalogue.py``).
* ``Case`` — one matter raised by a resident, a grid worker or a three-line person. Territory is
  cached (``county``/``town``/``village``, as ``registry.TerritoryMixin``), deadlines are indexed
  timestamp columns swept by ``tasks.sweep_deadlines``.
* ``CaseEvent`` — the timeline: every step, who, when, from/to status, note, and whether the
  requester may see it.
* ``CaseRequest`` — extension (延期) and suspension (缓办) requests awaiting approval.
* ``Summons`` — whistle and report (吹哨报到): a department summoned to a case must report.
* ``CaseAttachment`` — files (size and type validated).
* ``Notification`` — the staff's in-app inbox.

Business logic lives in ``services.py`` (writes) and ``selectors.py`` (reads); the state machine
is the table in ``workflow.py``.

Recusal and confidentiality: a case complaining about a department or a person is *invisible* to
that department's staff and to that person's logins (``CaseQuerySet.visible_to`` removes it after
scoping), so everything built on ``visible_to`` — pages, API, exports, search, services — follows.
Who may see a complainant's identity is decided by one function, ``selectors.case_requester_view``.
"""
from __future__ import annotations

import os
import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import connection, models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from gongzhi.core.scoping import (
    ScopedQuerySet, ScopeRule, county_wide, departments_of, either, in_territory, of_department, of_person, through_rule,
    under_grid,
)
from gongzhi.registry.models import TerritoryMixin, phone_validator

from .choices import (
    AttachmentKind, CaseStatus, Channel, ClosedAs, Ledger, Level, Limit, MatterKind, MediationOutcome,
    RequestKind, RequestStatus, Satisfaction,
)

service_code_validator = RegexValidator(
    r"^[a-z0-9][a-z0-9_-]{1,62}$", "编码只能用小写字母、数字、连字符和下划线（可作 Open311 service_code）"
)


# ---------------------------------------------------------------------------------------------
# catalogue


class CategoryQuerySet(ScopedQuerySet):
    def for_county(self, county_id: int | None):
        """The catalogue as a county sees it: its own rows, plus the defaults it has not overridden."""
        own = self.filter(county_id=county_id) if county_id else self.none()
        overridden = own.values("code")
        return self.filter(Q(county_id=county_id) | (Q(county__isnull=True) & ~Q(code__in=overridden)))


class CaseCategory(models.Model):
    """A kind of matter in the county's catalogue. ``county`` NULL = the shipped default."""

    county = models.ForeignKey("registry.Region", null=True, blank=True, on_delete=models.PROTECT,
                               related_name="case_categories")
    code = models.CharField(_("code (Open311 service_code)"), max_length=63, validators=[service_code_validator])
    name = models.CharField(_("name"), max_length=100)
    description = models.TextField(_("description"), blank=True)
    ledger = models.CharField(_("ledger"), max_length=16, choices=Ledger.choices)
    kind = models.CharField(_("kind of matter"), max_length=16, choices=MatterKind.choices, default=MatterKind.OTHER)
    default_level = models.CharField(_("default handling level"), max_length=8, choices=Level.choices,
                                     default=Level.VILLAGE)
    responsible_department = models.ForeignKey("registry.Department", null=True, blank=True,
                                               on_delete=models.SET_NULL, related_name="case_categories")
    suggested_department = models.CharField(_("suggested department (short name)"), max_length=30, blank=True,
                                            help_text=_("Used to find the county's department when none is set."))
    # Time limits; NULL = the default for the ledger/kind in TimeLimitDefault.
    acceptance_days = models.PositiveSmallIntegerField(_("acceptance limit (days)"), null=True, blank=True)
    response_days = models.PositiveSmallIntegerField(_("first-response limit (days)"), null=True, blank=True)
    resolution_days = models.PositiveSmallIntegerField(_("resolution limit (days)"), null=True, blank=True)
    is_petition = models.BooleanField(_("petition (信访) rules"), default=False,
                                      help_text=_("15-day acceptance decision, 60-day handling, one extension of at "
                                                  "most 30 days; natural days."))
    is_dispute = models.BooleanField(_("dispute (矛盾纠纷) with mediation"), default=False)
    requires_instruction = models.BooleanField(_("secretary instruction (书记阅批) always required"), default=False)
    instruction_level = models.CharField(
        _("secretary instruction required from level"), max_length=8, choices=Level.choices, blank=True,
        help_text=_("When the case is handled at this level or above, a secretary must read and instruct first."),
    )
    active = models.BooleanField(_("active"), default=True)
    sort_order = models.PositiveIntegerField(default=0)

    objects = CategoryQuerySet.as_manager()

    class Meta:
        ordering = ["sort_order", "code"]
        verbose_name = _("case category")
        verbose_name_plural = _("case categories")
        constraints = [
            models.UniqueConstraint(fields=["county", "code"], name="case_category_code_per_county"),
            models.UniqueConstraint(fields=["code"], condition=Q(county__isnull=True),
                                    name="case_category_default_code"),
        ]

    def __str__(self):
        return self.name

    @property
    def matter_kind(self) -> str:
        return MatterKind.PETITION if self.is_petition else self.kind

    scope_rule = ScopeRule(region=county_wide())


class TimeLimitDefault(models.Model):
    """Default time limits per ledger and kind of matter ("" = any). The most specific row wins."""

    ledger = models.CharField(_("ledger"), max_length=16, choices=Ledger.choices, blank=True)
    kind = models.CharField(_("kind of matter"), max_length=16, choices=MatterKind.choices, blank=True)
    limit = models.CharField(_("limit"), max_length=16, choices=Limit.choices)
    days = models.PositiveSmallIntegerField(_("days"), validators=[MinValueValidator(0), MaxValueValidator(365)])
    natural_days = models.BooleanField(_("natural days (else working days)"), default=False)
    max_times = models.PositiveSmallIntegerField(_("at most this many times (extensions)"), null=True, blank=True)
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["limit", "ledger", "kind"]
        constraints = [models.UniqueConstraint(fields=["ledger", "kind", "limit"], name="time_limit_default_unique")]

    def __str__(self):
        unit = "自然日" if self.natural_days else "工作日"
        return f"{self.get_limit_display()} {self.ledger or '*'}/{self.kind or '*'}: {self.days}{unit}"


# ---------------------------------------------------------------------------------------------
# numbering


class CaseNumberSequence(models.Model):
    """The last number used per year, for human-readable case numbers (GZ-2026-000123)."""

    year = models.PositiveIntegerField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    @classmethod
    def reserve(cls, year: int, count: int = 1) -> int:
        """Reserve ``count`` numbers for ``year`` atomically; returns the first one.

        One statement (INSERT … ON CONFLICT DO UPDATE … RETURNING, PostgreSQL and SQLite ≥ 3.35),
        so concurrent registrations never get the same number.
        """
        table = connection.ops.quote_name(cls._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} (year, last) VALUES (%s, %s) "
                f"ON CONFLICT (year) DO UPDATE SET last = {table}.last + excluded.last RETURNING last",
                [year, count],
            )
            last = cursor.fetchone()[0]
        return last - count + 1


# Stands for the case number in texts written before the number is given (notifications, the
# stored answer to the client); ``numbering.number_pending`` puts the number in. Braces and
# letters only: input cleaning never produces it by accident, and it survives JSON as is.
PENDING_NUMBER = "{{case_number}}"


def format_case_number(year: int, n: int) -> str:
    prefix = getattr(settings, "GONGZHI_CASE_NUMBER_PREFIX", "GZ")
    return f"{prefix}-{year}-{n:06d}"


TRACKING_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read over the phone


def new_tracking_code(length: int = 12) -> str:
    """Random and unguessable (60 bits for 12 characters). One read of the system's random source:
    the alphabet has 32 letters, so the low 5 bits of each random byte pick one without bias."""
    return "".join(TRACKING_ALPHABET[b & 31] for b in secrets.token_bytes(length))


# ---------------------------------------------------------------------------------------------
# cases


def conflict_q(user, prefix: str = "") -> Q | None:
    """Cases this user must recuse from: they complain about the user's person or department."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    q = None
    if getattr(user, "person_id", None):
        q = Q(**{f"{prefix}complained_person_id": user.person_id})
    departments = departments_of(user)
    if departments:
        dq = Q(**{f"{prefix}complained_department_id__in": sorted(departments)})
        q = dq if q is None else q | dq
    return q


class CaseQuerySet(ScopedQuerySet):
    conflict_prefix = ""

    def visible_to(self, user, perm: str | None = None):
        return self._recused(super().visible_to(user, perm), user)

    def visible_by(self, user, perm: str, rule):
        return self._recused(super().visible_by(user, perm, rule), user)

    def _recused(self, qs, user):
        # Whoever is complained about never sees the case, whatever their grant (recusal).
        conflict = conflict_q(user, self.conflict_prefix)
        return qs.exclude(conflict) if conflict is not None else qs

    def open(self):
        return self.exclude(**{f"{self.conflict_prefix}status": CaseStatus.CLOSED})


# The statuses in which the resolution clock runs (the sweep's due-soon, overdue and escalation
# warnings; suspended and closed cases are not among them).
RESOLUTION_RUNNING = [
    CaseStatus.ACCEPTED, CaseStatus.ASSIGNED, CaseStatus.IN_PROGRESS, CaseStatus.RETURNED,
    CaseStatus.RESULT_REPORTED, CaseStatus.APPROVED, CaseStatus.AWAITING_FEEDBACK, CaseStatus.EVALUATED,
    CaseStatus.PENDING_INSTRUCTION,
]


class CaseChildQuerySet(CaseQuerySet):
    conflict_prefix = "case__"

    def open(self):
        return self.exclude(case__status=CaseStatus.CLOSED)


class Case(TerritoryMixin):
    # identity
    # NULL between the registration's commit and the numbering right after it (``numbering.py``).
    number = models.CharField(_("case number"), max_length=32, unique=True, null=True, blank=True)
    tracking_code = models.CharField(_("tracking code"), max_length=16, unique=True, default=new_tracking_code,
                                     help_text=_("Given to the requester to follow the case; random."))
    ledger = models.CharField(_("ledger"), max_length=16, choices=Ledger.choices, db_index=True)
    kind = models.CharField(_("kind of matter"), max_length=16, choices=MatterKind.choices)
    category = models.ForeignKey(CaseCategory, on_delete=models.PROTECT, related_name="cases")
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("what was asked"))
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)

    # where
    region = models.ForeignKey("registry.Region", on_delete=models.PROTECT, related_name="cases")
    grid = models.ForeignKey("registry.Grid", null=True, blank=True, on_delete=models.PROTECT, related_name="cases")
    grid_path = models.CharField(max_length=100, blank=True, db_index=True)
    address = models.CharField(_("address / place"), max_length=200, blank=True)
    latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True,
                                   validators=[MinValueValidator(-90), MaxValueValidator(90)])
    longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True,
                                    validators=[MinValueValidator(-180), MaxValueValidator(180)])

    # who raised it. Never read these directly for display: use selectors.case_requester_view.
    requester = models.ForeignKey("registry.Person", null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="cases_raised")
    requester_name = models.CharField(_("requester name"), max_length=50, blank=True)
    requester_phone = models.CharField(_("requester phone"), max_length=20, blank=True, validators=[phone_validator])
    anonymous = models.BooleanField(_("anonymous"), default=False)
    registered_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                      related_name="+")
    raised_by_person = models.ForeignKey(
        "registry.Person", null=True, blank=True, on_delete=models.SET_NULL, related_name="cases_registered",
        help_text=_("The grid worker or three-line person who registered it (their contacts scope)."),
    )

    # disputes
    is_dispute = models.BooleanField(_("dispute (矛盾纠纷)"), default=False)
    mediation_outcome = models.CharField(_("mediation outcome"), max_length=16, choices=MediationOutcome.choices,
                                         blank=True, default="")
    mediation_note = models.TextField(blank=True)

    # complaints and reports: who is complained about (recusal)
    complained_department = models.ForeignKey("registry.Department", null=True, blank=True, on_delete=models.PROTECT,
                                              related_name="complaints")
    complained_person = models.ForeignKey("registry.Person", null=True, blank=True, on_delete=models.PROTECT,
                                          related_name="complaints")
    complained_text = models.CharField(_("complained-about unit or person (free text)"), max_length=200, blank=True)

    # state
    status = models.CharField(_("status"), max_length=24, choices=CaseStatus.choices, db_index=True)
    status_before_suspension = models.CharField(max_length=24, choices=CaseStatus.choices, blank=True)
    current_level = models.CharField(_("current level"), max_length=8, choices=Level.choices)
    assignee_grid = models.ForeignKey("registry.Grid", null=True, blank=True, on_delete=models.PROTECT,
                                      related_name="assigned_cases")
    assignee_region = models.ForeignKey("registry.Region", null=True, blank=True, on_delete=models.PROTECT,
                                        related_name="assigned_cases")
    assignee_department = models.ForeignKey("registry.Department", null=True, blank=True, on_delete=models.PROTECT,
                                            related_name="assigned_cases")
    handler = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="handled_cases")

    # milestones
    received_at = models.DateTimeField(_("received at"), db_index=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    assigned_at = models.DateTimeField(null=True, blank=True)
    first_response_at = models.DateTimeField(null=True, blank=True)
    result_reported_at = models.DateTimeField(null=True, blank=True)
    approved_at = models.DateTimeField(null=True, blank=True)
    replied_at = models.DateTimeField(null=True, blank=True)
    evaluated_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True, db_index=True)

    # deadlines (indexed; the sweep reads them)
    acceptance_due_at = models.DateTimeField(null=True, blank=True, db_index=True)
    response_due_at = models.DateTimeField(null=True, blank=True, db_index=True)
    resolution_due_at = models.DateTimeField(null=True, blank=True, db_index=True)
    natural_days = models.BooleanField(default=False, help_text=_("Deadlines counted in natural days (petitions)."))

    # suspension bookkeeping: the clock stops while suspended
    suspended_at = models.DateTimeField(null=True, blank=True)
    suspended_time = models.DurationField(_("time suspended (counted time)"), null=True, blank=True)

    # counters
    rework_count = models.PositiveSmallIntegerField(default=0)
    extension_count = models.PositiveSmallIntegerField(default=0)
    suspension_count = models.PositiveSmallIntegerField(default=0)
    transfer_count = models.PositiveSmallIntegerField(default=0)
    return_count = models.PositiveSmallIntegerField(default=0)
    escalation_count = models.PositiveSmallIntegerField(default=0)
    urge_count = models.PositiveSmallIntegerField(default=0)

    # outcome
    result = models.TextField(_("result reported"), blank=True)
    reply = models.TextField(_("answer given to the requester"), blank=True)
    satisfaction = models.CharField(_("satisfaction"), max_length=16, choices=Satisfaction.choices, blank=True)
    satisfaction_note = models.TextField(blank=True)
    settled_level = models.CharField(_("settled at level"), max_length=8, choices=Level.choices, blank=True,
                                     db_index=True)
    closed_as = models.CharField(_("closed as"), max_length=16, choices=ClosedAs.choices, blank=True)
    close_reason = models.TextField(_("reason (closed unresolved / not accepted)"), blank=True)

    # warning markers for the sweep (set by a conditional UPDATE: at most one worker sends each)
    acceptance_warned_at = models.DateTimeField(null=True, blank=True)
    response_warned_at = models.DateTimeField(null=True, blank=True)
    due_soon_warned_at = models.DateTimeField(null=True, blank=True)
    overdue_warned_at = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CaseQuerySet.as_manager()

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        permissions = [
            ("instruct_case", "书记阅批、把关（批示、审核办理结果）"),
            ("dispatch_case", "调度：受理、交办、回复征询、销号归档"),
            ("handle_case", "承办：签收、办理、反馈、转办、退回、申请延期缓办"),
            ("supervise_case", "督办：催办、提级"),
            ("view_complainant", "查看投诉举报人身份"),
            ("approve_extension", "审批延期、缓办"),
            ("summon_department", "吹哨：召集部门报到"),
            ("export_case", "导出民情台账和统计"),
        ]
        indexes = [
            models.Index(fields=["county", "status"]),
            models.Index(fields=["town", "status"]),
            models.Index(fields=["village", "status"]),
            models.Index(fields=["assignee_department", "status"]),
            models.Index(fields=["status", "resolution_due_at"]),
            # The deadline sweep's partial indexes (tasks.run_sweep): one per warning, holding only
            # the cases whose clock runs and whose warning has not been sent, so the sweep reads
            # what is due and nothing else. The conditions repeat the sweep's filters exactly.
            models.Index(fields=["acceptance_due_at", "id"], name="case_sweep_acceptance",
                         condition=Q(acceptance_warned_at__isnull=True,
                                     status__in=[CaseStatus.REGISTERED, CaseStatus.PENDING_INSTRUCTION])),
            models.Index(fields=["response_due_at", "id"], name="case_sweep_response",
                         condition=Q(response_warned_at__isnull=True, status=CaseStatus.ASSIGNED,
                                     first_response_at__isnull=True)),
            models.Index(fields=["resolution_due_at", "id"], name="case_sweep_due_soon",
                         condition=Q(due_soon_warned_at__isnull=True, status__in=RESOLUTION_RUNNING)),
            models.Index(fields=["resolution_due_at", "id"], name="case_sweep_overdue",
                         condition=Q(overdue_warned_at__isnull=True, status__in=RESOLUTION_RUNNING)),
            models.Index(fields=["resolution_due_at", "id"], name="case_sweep_escalation",
                         condition=Q(escalated_at__isnull=True, status__in=RESOLUTION_RUNNING)),
            # the numbering batch finds the few cases still waiting for a number
            models.Index(fields=["id"], name="case_number_pending", condition=Q(number__isnull=True)),
        ]

    def __str__(self):
        return f"{self.number or '（待编号）'} {self.title}"

    scope_rule = ScopeRule(
        region=either(in_territory(region="region_id"), lambda g: Q(assignee_region_id=g.region_id)),
        grid=either(under_grid("grid_path"), lambda g: Q(assignee_grid__in=_grids_under(g.grid_path))),
        department=either(of_department("assignee_department_id"), lambda g: Q(
            pk__in=Summons.objects.filter(department_id=g.department_id).values("case_id"))),
        contacts=of_person("raised_by_person_id"),
    )

    @property
    def is_open(self) -> bool:
        return self.status != CaseStatus.CLOSED

    @property
    def is_complaint(self) -> bool:
        return self.ledger == Ledger.COMPLAINT

    @property
    def assignee(self):
        return self.assignee_department or self.assignee_region or self.assignee_grid

    def assignee_label(self) -> str:
        target = self.assignee
        return str(target) if target else ""


def _grids_under(path: str):
    from gongzhi.registry.models import Grid

    return Grid.objects.filter(path__startswith=path).values("pk")


class CaseEvent(models.Model):
    """One step of a case's timeline. Append-only by convention (services only create)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(_("step"), max_length=32, db_index=True)
    at = models.DateTimeField(_("when"), db_index=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    actor_name = models.CharField(max_length=150, blank=True)
    from_status = models.CharField(max_length=24, choices=CaseStatus.choices, blank=True)
    to_status = models.CharField(max_length=24, choices=CaseStatus.choices, blank=True)
    note = models.TextField(_("note"), blank=True)
    public = models.BooleanField(_("visible to the requester"), default=False)
    data = models.JSONField(default=dict, blank=True)

    objects = CaseChildQuerySet.as_manager()

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("case event")

    def __str__(self):
        return f"{self.case_id} {self.kind} {self.at:%Y-%m-%d %H:%M}"

    scope_rule = through_rule("case", "cases.Case")


class CaseRequest(models.Model):
    """An extension (延期) or suspension (缓办) request; approval changes the case's deadlines."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="requests")
    kind = models.CharField(max_length=16, choices=RequestKind.choices)
    status = models.CharField(max_length=16, choices=RequestStatus.choices, default=RequestStatus.PENDING,
                              db_index=True)
    days = models.PositiveSmallIntegerField(_("days requested"), null=True, blank=True)
    reason = models.TextField(_("reason"))
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    requested_at = models.DateTimeField()
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True)

    objects = CaseChildQuerySet.as_manager()

    class Meta:
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["case", "kind"], condition=Q(status="pending"),
                                    name="one_pending_request_per_kind"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.case_id} {self.get_status_display()}"

    scope_rule = through_rule("case", "cases.Case")


class Summons(models.Model):
    """吹哨报到: a department summoned to a case must acknowledge and commit within ``due_at``."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="summonses")
    department = models.ForeignKey("registry.Department", on_delete=models.PROTECT, related_name="summonses")
    summoned_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    summoned_at = models.DateTimeField()
    reason = models.TextField(_("what the department is needed for"))
    due_at = models.DateTimeField(_("report by"), db_index=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                        related_name="+")
    commitment = models.TextField(_("commitment (what the department will do)"), blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)

    objects = CaseChildQuerySet.as_manager()

    class Meta:
        ordering = ["due_at", "id"]
        verbose_name_plural = "summonses"
        indexes = [models.Index(fields=["due_at", "id"], name="summons_sweep_due",
                                condition=Q(acknowledged_at__isnull=True, escalated_at__isnull=True))]
        constraints = [
            models.UniqueConstraint(fields=["case", "department"], condition=Q(acknowledged_at__isnull=True),
                                    name="one_open_summons_per_department"),
        ]

    def __str__(self):
        return f"{self.department} → {self.case_id}"

    scope_rule = through_rule("case", "cases.Case", department=of_department("department_id"))


ALLOWED_ATTACHMENT_TYPES = {
    # extension: (content type, magic-number prefixes; empty = not sniffed)
    "jpg": ("image/jpeg", (b"\xff\xd8\xff",)),
    "jpeg": ("image/jpeg", (b"\xff\xd8\xff",)),
    "png": ("image/png", (b"\x89PNG\r\n\x1a\n",)),
    "gif": ("image/gif", (b"GIF87a", b"GIF89a")),
    "webp": ("image/webp", (b"RIFF",)),
    "pdf": ("application/pdf", (b"%PDF",)),
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", (b"PK\x03\x04",)),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", (b"PK\x03\x04",)),
    "mp3": ("audio/mpeg", (b"ID3", b"\xff\xfb", b"\xff\xf3", b"\xff\xf2")),
    "m4a": ("audio/mp4", ()),
    "amr": ("audio/amr", (b"#!AMR",)),
    "mp4": ("video/mp4", ()),
    "txt": ("text/plain", ()),
}


def validate_attachment(upload) -> str:
    """Check size, extension and (where we can) the file's magic number. Returns the content type."""
    limit = getattr(settings, "GONGZHI_CASE_ATTACHMENT_MAX_BYTES", 10 * 1024 * 1024)
    if upload.size is None or upload.size == 0:
        raise ValidationError({"file": "文件是空的"})
    if upload.size > limit:
        raise ValidationError({"file": f"文件不能超过 {limit // (1024 * 1024)} MB"})
    ext = os.path.splitext(upload.name or "")[1].lower().lstrip(".")
    if ext not in ALLOWED_ATTACHMENT_TYPES:
        raise ValidationError({"file": "只能上传图片、PDF、Word/Excel 文档、音频、视频或文本文件"})
    content_type, magics = ALLOWED_ATTACHMENT_TYPES[ext]
    if magics:
        position = upload.tell() if hasattr(upload, "tell") else 0
        upload.seek(0)
        head = upload.read(16)
        upload.seek(position)
        if not any(head.startswith(m) for m in magics):
            raise ValidationError({"file": "文件内容与扩展名不符"})
    return content_type


def attachment_path(instance, filename: str) -> str:
    ext = os.path.splitext(filename)[1].lower()
    return f"cases/{instance.case.received_at:%Y/%m}/{instance.case.number}/{secrets.token_hex(8)}{ext}"


# A summons is answered by the department summoned (and by those who act everywhere).
SUMMONED_DEPARTMENT = ScopeRule(department=of_department("department_id"))


class CaseAttachment(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="attachments")
    event = models.ForeignKey(CaseEvent, null=True, blank=True, on_delete=models.SET_NULL, related_name="attachments")
    kind = models.CharField(max_length=16, choices=AttachmentKind.choices, default=AttachmentKind.EVIDENCE)
    file = models.FileField(upload_to=attachment_path, max_length=200)
    original_name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    objects = CaseChildQuerySet.as_manager()

    class Meta:
        ordering = ["uploaded_at", "id"]

    def __str__(self):
        return self.original_name

    scope_rule = through_rule("case", "cases.Case")


class Notification(models.Model):
    """A staff member's in-app inbox. Texts never contain a complainant's identity."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    case = models.ForeignKey(Case, null=True, blank=True, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=32)
    text = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "read_at"])]

    def __str__(self):
        return f"{self.user_id}: {self.text[:40]}"


# ---------------------------------------------------------------------------------------------
# statistics rollup (PostgreSQL; see statistics.py and migration 0005)


class StatisticsCounts(models.Model):
    """The sixteen counts of ``statistics.COUNTS``, summed over the cases of one group."""

    received = models.BigIntegerField(default=0)
    accepted = models.BigIntegerField(default=0)
    closed = models.BigIntegerField(default=0)
    closed_on_time = models.BigIntegerField(default=0)
    resolved = models.BigIntegerField(default=0)
    assigned = models.BigIntegerField(default=0)
    responded_on_time = models.BigIntegerField(default=0)
    satisfied = models.BigIntegerField(default=0)
    basic = models.BigIntegerField(default=0)
    dissatisfied = models.BigIntegerField(default=0)
    unreachable = models.BigIntegerField(default=0)
    reported = models.BigIntegerField(default=0)
    reworked = models.BigIntegerField(default=0)
    extended = models.BigIntegerField(default=0)
    disputes = models.BigIntegerField(default=0)
    disputes_resolved = models.BigIntegerField(default=0)

    class Meta:
        abstract = True


class StatisticsRollup(StatisticsCounts):
    """Counts per county, month received (``yyyymm`` in the county's time zone) and the groups the
    statistics break down by. Kept exactly by triggers on ``cases_case`` (through
    ``StatisticsDelta``); never written by Python code. Ids are plain integers (0 = none), not
    foreign keys: a rollup row must not block deleting a category."""

    county_id = models.IntegerField()
    month = models.IntegerField()
    ledger = models.CharField(max_length=16)
    category_id = models.IntegerField()
    current_level = models.CharField(max_length=8)
    status = models.CharField(max_length=24)
    settled_level = models.CharField(max_length=8)

    class Meta:
        constraints = [models.UniqueConstraint(
            fields=["county_id", "month", "ledger", "category_id", "current_level", "status", "settled_level"],
            name="statistics_rollup_key")]


class StatisticsUnitRollup(StatisticsCounts):
    """Counts per county, month received and handling unit (department, region or grid; 0 = none)."""

    county_id = models.IntegerField()
    month = models.IntegerField()
    unit_department_id = models.IntegerField()
    unit_region_id = models.IntegerField()
    unit_grid_id = models.IntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(
            fields=["county_id", "month", "unit_department_id", "unit_region_id", "unit_grid_id"],
            name="statistics_unit_rollup_key")]


class StatisticsDelta(StatisticsCounts):
    """Signed changes written by the triggers, one row per group a statement changed; folded into
    the rollups by ``statistics.statistics_fold`` (and read together with them until then). An
    append-only log, so that concurrent registrations never wait on a shared rollup row."""

    county_id = models.IntegerField()
    month = models.IntegerField()
    ledger = models.CharField(max_length=16)
    category_id = models.IntegerField()
    current_level = models.CharField(max_length=8)
    status = models.CharField(max_length=24)
    settled_level = models.CharField(max_length=8)
    unit_department_id = models.IntegerField()
    unit_region_id = models.IntegerField()
    unit_grid_id = models.IntegerField()

    class Meta:
        indexes = [models.Index(fields=["county_id", "month"], name="statistics_delta_county")]
