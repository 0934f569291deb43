"""Tables of the intake channels.

* ``IdempotencyKey`` — one row per client key and scope (channel + client): the unique constraint
  is what makes a retried or raced submission create one case. Written in the transaction that
  registers the case (and its first timeline entry), together with the answer the client got.
* ``IntakeSubmission`` — what a channel knew about a case beyond the ``Case`` row: the Open311
  token, ``media_url``, e-mail, answers to a category's extra questions, the API client.
* ``IntakeClient`` — an Open311 / API client (a WeChat mini-program back end, an app, a partner
  hotline system) with its hashed ``api_key`` and the channel its cases are counted under.
* ``ServiceAttribute`` — a category's extra questions (Open311 ``attributes``).
* ``CaseMerge`` — a duplicate merged into its primary case (one row per duplicate).
* ``ReceivedSubmission`` — an Open311 submission acknowledged and waiting for registration (the
  receipt: one INSERT on the request path, registered into a case by a worker; ``receipts.py``).

No people's data is readable from these tables without going through the case (``scope_rule`` via
the case), and nothing here is shown publicly except the Open311 token.
"""
from __future__ import annotations

import hashlib
import json
import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q

from gongzhi.cases.choices import Channel
from gongzhi.cases.models import Case
from gongzhi.core.scoping import NOTHING, ScopeRule, through_rule


class IdempotencyKey(models.Model):
    """A client's key for one submission (RFC draft "The Idempotency-Key HTTP Header Field").

    ``scope`` names the channel and the client ("web", "open311:anon", "open311:client:7",
    "api:user:12", "staff:user:12"), so two clients can never collide or read each other's answers.
    ``fingerprint`` is a hash of the request: the same key with a different request is refused.
    """

    scope = models.CharField(max_length=64)
    key = models.CharField(max_length=128)
    fingerprint = models.CharField(max_length=64)
    case = models.ForeignKey(Case, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # The answer as JSON text, kept byte for byte (jsonb would reorder keys, and so the XML).
    response_text = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["scope", "key"], name="intake_idempotency_unique_key")]

    def __str__(self):
        return f"{self.scope}/{self.key}"

    @property
    def response(self):
        return json.loads(self.response_text) if self.response_text else {}

    @response.setter
    def response(self, value) -> None:
        self.response_text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def hash_api_key(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class IntakeClient(models.Model):
    """An external client of the Open311 endpoint and the intake API, identified by ``api_key``.

    Only the SHA-256 of the key is stored (``key_hash``); the key is shown once when issued
    (``gongzhi intake_client add``). ``channel`` is what the client's cases are counted as.
    """

    name = models.CharField("名称", max_length=100)
    channel = models.CharField("来源渠道", max_length=16, choices=Channel.choices, default=Channel.OPEN311)
    county = models.ForeignKey("registry.Region", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                               help_text="只能向这个县（区）提交；空表示不限")
    key_prefix = models.CharField(max_length=8, editable=False)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return f"{self.name}（{self.key_prefix}…）"

    @classmethod
    def issue(cls, *, name: str, channel: str = Channel.OPEN311, county=None) -> tuple["IntakeClient", str]:
        raw = secrets.token_urlsafe(24)
        client = cls.objects.create(name=name, channel=channel, county=county, key_prefix=raw[:8],
                                    key_hash=hash_api_key(raw))
        return client, raw

    @classmethod
    def authenticate(cls, raw: str) -> "IntakeClient | None":
        if not raw or len(raw) > 200:
            return None
        return cls.objects.filter(key_hash=hash_api_key(raw), active=True).first()


def new_token() -> str:
    return secrets.token_urlsafe(12)


class IntakeSubmission(models.Model):
    case = models.OneToOneField(Case, on_delete=models.CASCADE, related_name="intake_submission")
    channel = models.CharField(max_length=16, choices=Channel.choices)
    client = models.ForeignKey(IntakeClient, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    token = models.CharField(max_length=32, unique=True, default=new_token,
                             help_text="Open311 token (public: it only leads to the request id)")
    media_url = models.URLField(max_length=500, blank=True)
    email = models.EmailField(blank=True)
    device_id = models.CharField(max_length=100, blank=True)
    account_id = models.CharField(max_length=100, blank=True)
    attributes = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"{self.case_id} via {self.channel}"

    scope_rule = through_rule("case", "cases.Case")


class ServiceAttribute(models.Model):
    """An extra question for one category (Open311 ``attributes``; county rows override none —
    they belong to the category row, which is already per county)."""

    class Datatype(models.TextChoices):
        STRING = "string", "string"
        NUMBER = "number", "number"
        DATETIME = "datetime", "datetime"
        TEXT = "text", "text"
        SINGLE = "singlevaluelist", "singlevaluelist"
        MULTI = "multivaluelist", "multivaluelist"

    category = models.ForeignKey("cases.CaseCategory", on_delete=models.CASCADE, related_name="intake_attributes")
    code = models.SlugField(max_length=50)
    description = models.CharField("问题", max_length=200)
    datatype = models.CharField(max_length=16, choices=Datatype.choices, default=Datatype.STRING)
    datatype_description = models.CharField(max_length=200, blank=True)
    required = models.BooleanField(default=False)
    order = models.PositiveSmallIntegerField(default=0)
    values = models.JSONField(default=list, blank=True, help_text='[{"key": "1", "name": "…"}]')

    class Meta:
        ordering = ["category_id", "order", "code"]
        constraints = [models.UniqueConstraint(fields=["category", "code"], name="intake_attribute_code")]

    def __str__(self):
        return f"{self.category.code}/{self.code}"

    def value_keys(self) -> set[str]:
        return {str(v.get("key")) for v in self.values or []}


class CaseMerge(models.Model):
    """A duplicate merged into a primary case (并案). The duplicate is closed (its clocks stop);
    the primary carries the matter. Both cases have a timeline entry; the merge is audited."""

    duplicate = models.OneToOneField(Case, on_delete=models.CASCADE, related_name="merged_into")
    primary = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="merged_duplicates")
    merged_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    merged_at = models.DateTimeField()
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["-merged_at", "-id"]
        constraints = [models.CheckConstraint(condition=~Q(duplicate=models.F("primary")),
                                              name="intake_merge_not_itself")]

    def __str__(self):
        return f"{self.duplicate_id} → {self.primary_id}"

    scope_rule = through_rule("duplicate", "cases.Case")


class ReceivedSubmission(models.Model):
    """A submission acknowledged to its client and not yet (or just) registered as a case.

    The request path writes this row in one statement — the validated request, the Open311 token
    and the tracking code the client is told — and answers 201; a worker registers it through the
    ordinary ``intake_submit`` path (``receipts.register_received``). ``(scope, key)`` is the
    idempotency key of these submissions: a retry or a racing twin finds this row.

    It holds a requester's name and phone until it is registered: nobody reads it through a page
    or the API (its ``scope_rule`` reaches nothing); registered rows are purged with the idempotency keys.
    """

    class State(models.TextChoices):
        RECEIVED = "received", "已收到，待登记"
        REGISTERED = "registered", "已登记"
        FAILED = "failed", "登记失败，待人工处理"

    scope = models.CharField(max_length=64)
    key = models.CharField(max_length=128, null=True, blank=True)
    fingerprint = models.CharField(max_length=64)
    channel = models.CharField(max_length=16, choices=Channel.choices)
    client = models.ForeignKey(IntakeClient, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    token = models.CharField(max_length=32, unique=True)
    tracking_code = models.CharField(max_length=16, unique=True)
    payload = models.JSONField(help_text="the validated request (ids, cleaned text); see receipts.PAYLOAD_FIELDS")
    received_at = models.DateTimeField()
    state = models.CharField(max_length=12, choices=State.choices, default=State.RECEIVED)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)
    case = models.OneToOneField(Case, null=True, blank=True, on_delete=models.SET_NULL, related_name="receipt")
    registered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["scope", "key"], condition=Q(key__isnull=False),
                                    name="intake_received_unique_key"),
        ]
        indexes = [
            # the worker's queue: only the rows still to register (proportional to the backlog)
            models.Index(fields=["id"], condition=Q(state="received"), name="intake_received_queue"),
            models.Index(fields=["registered_at"], condition=Q(state="registered"), name="intake_received_done"),
        ]

    def __str__(self):
        return f"{self.token} ({self.state})"

    scope_rule = ScopeRule(everything=False)  # read by nobody: the worker only


__all__ = ["CaseMerge", "IdempotencyKey", "IntakeClient", "IntakeSubmission", "NOTHING", "ReceivedSubmission",
           "ServiceAttribute"]
