"""Reads of the volunteer module, shared by the pages and the API. Every one starts from
``Model.objects.visible_to(user, perm)``: what a user is not allowed to see is not counted either.

The county's analytics (``overview``) are computed from the operational rows — confirmed sign-ups,
certifications, the ledger — never typed in; a town sees its own town's share of them.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, Q, Sum
from django.utils import timezone

from . import rules
from .models import (
    AccountKind, CatalogueItem, Certification, PointsAccount, PointsPosting, PointsTransaction, Redemption,
    ServiceKind, ServiceTask, SignUp, SignUpStatus, TaskStatus, TransactionKind, Volunteer, VolunteerCategory,
    VolunteerStatus,
)

EXPIRING_DAYS = 30


def volunteers_for(*, user, q: str = "", category: str = "", status: str = ""):
    rows = (Volunteer.objects.visible_to(user, "volunteers.view_volunteer")
            .select_related("person", "region", "points_account"))
    if q:
        rows = rows.filter(Q(person__name__contains=q) | Q(person__name_initials__istartswith=q) | Q(skills__contains=q))
    if category:
        rows = rows.filter(category=category)
    if status:
        rows = rows.filter(status=status)
    return rows.order_by("region__code", "person__name", "pk")


def own_volunteer(user) -> Volunteer | None:
    """The volunteer record of the user's own registry person, if they may read it."""
    if not getattr(user, "person_id", None):
        return None
    return (Volunteer.objects.visible_to(user, "volunteers.view_volunteer").filter(person_id=user.person_id)
            .select_related("person", "region").first())


def certifications_of(volunteer: Volunteer):
    return volunteer.certifications.select_related("certified_by", "revoked_by").order_by("-expires_on", "pk")


def valid_certifications(volunteer: Volunteer, day: dt.date | None = None) -> list[Certification]:
    day = day or timezone.localdate()
    return [c for c in certifications_of(volunteer) if c.valid_on(day)]


@dataclass
class VolunteerFacts:
    hours: Decimal
    sessions: int
    balance: int
    earned: int


def facts_of(volunteer: Volunteer) -> VolunteerFacts:
    done = volunteer.signups.filter(status=SignUpStatus.CONFIRMED).aggregate(h=Sum("hours_confirmed"), n=Count("pk"))
    account = PointsAccount.objects.filter(volunteer=volunteer).first()
    earned = (volunteer.points_transactions.filter(kind=TransactionKind.EARN).aggregate(n=Sum("amount"))["n"] or 0)
    return VolunteerFacts(hours=done["h"] or Decimal(0), sessions=done["n"], balance=account.balance if account else 0,
                          earned=earned)


def ledger_of(*, user, volunteer: Volunteer, limit: int = 200):
    """The volunteer's own postings, latest first, with their transactions (the account's statement)."""
    return (PointsPosting.objects.visible_to(user, "volunteers.view_pointstransaction")
            .filter(account__volunteer=volunteer).select_related("transaction", "transaction__created_by")
            .order_by("-created_at", "-id")[:limit])


def tasks_for(*, user, upcoming: bool = True, region_id: int | None = None):
    rows = ServiceTask.objects.visible_to(user, "volunteers.view_servicetask").select_related("kind", "region")
    if upcoming:
        rows = rows.filter(ends_at__gte=timezone.now() - dt.timedelta(days=2), status=TaskStatus.OPEN).order_by("starts_at")
    if region_id:
        rows = rows.filter(Q(village_id=region_id) | Q(town_id=region_id))
    return rows.annotate(taken=Count("signups", filter=Q(signups__status__in=[
        SignUpStatus.ASSIGNED, SignUpStatus.CHECKED_IN, SignUpStatus.CHECKED_OUT, SignUpStatus.CONFIRMED])))


def signups_of(*, user, task: ServiceTask):
    return (SignUp.objects.visible_to(user, "volunteers.view_signup").filter(task=task)
            .select_related("volunteer__person").order_by("signed_up_at", "pk"))


def eligible(task: ServiceTask, volunteers) -> dict[int, str | None]:
    """For the page: each volunteer's certification problem for the task (None = may serve)."""
    day = timezone.localdate(task.starts_at)
    certs: dict[int, list] = {}
    for cert in Certification.objects.filter(volunteer__in=[v.pk for v in volunteers], field=task.kind.required_field):
        certs.setdefault(cert.volunteer_id, []).append(cert)
    return {v.pk: rules.certification_problem(task.kind, certs.get(v.pk, []), day, who=v.person.name) for v in volunteers}


def kinds_for(*, user):
    return ServiceKind.objects.visible_to(user, "volunteers.view_servicekind").order_by("name")


def catalogue_for(*, user, active_only: bool = True):
    rows = CatalogueItem.objects.visible_to(user, "volunteers.view_catalogueitem")
    return rows.filter(active=True) if active_only else rows


def redemptions_for(*, user, volunteer: Volunteer | None = None):
    rows = Redemption.objects.visible_to(user, "volunteers.view_redemption").select_related("item", "volunteer__person")
    return rows.filter(volunteer=volunteer) if volunteer is not None else rows


# ---------------------------------------------------------------------------------------------
# the county's analytics


@dataclass
class Overview:
    corps: dict = field(default_factory=dict)  # category label → active volunteers
    volunteers: int = 0
    hours: Decimal = Decimal(0)
    sessions: int = 0
    by_town: list = field(default_factory=list)
    by_village: list = field(default_factory=list)
    by_kind: list = field(default_factory=list)
    expiring: list = field(default_factory=list)
    refused: int = 0
    ledger: dict | None = None  # county-wide readers only


def overview(*, user, year: int | None = None) -> Overview:
    out = Overview()
    volunteers = Volunteer.objects.visible_to(user, "volunteers.view_volunteer").filter(status=VolunteerStatus.ACTIVE)
    labels = dict(VolunteerCategory.choices)
    for row in volunteers.values("category").annotate(n=Count("pk")).order_by("category"):
        out.corps[str(labels.get(row["category"], row["category"]))] = row["n"]
    out.volunteers = sum(out.corps.values())
    done = SignUp.objects.visible_to(user, "volunteers.view_signup").filter(status=SignUpStatus.CONFIRMED)
    if year:
        done = done.filter(confirmed_at__year=year)
    totals = done.aggregate(h=Sum("hours_confirmed"), n=Count("pk"))
    out.hours, out.sessions = totals["h"] or Decimal(0), totals["n"]
    sums = {"hours": Sum("hours_confirmed"), "sessions": Count("pk"), "points": Sum("points_earned"),
            "people": Count("volunteer", distinct=True)}
    out.by_town = list(done.values("town__name", "town_id").annotate(**sums).order_by("-hours")[:50])
    out.by_village = list(done.values("village__name", "village_id", "town__name").annotate(**sums)
                          .order_by("-hours")[:20])
    out.by_kind = list(done.values("task__kind__name").annotate(**sums).order_by("-hours")[:50])
    today = timezone.localdate()
    out.expiring = list(Certification.objects.visible_to(user, "volunteers.view_certification")
                        .filter(revoked_at__isnull=True, expires_on__gt=today,
                                expires_on__lte=today + dt.timedelta(days=EXPIRING_DAYS))
                        .select_related("volunteer__person", "volunteer__region").order_by("expires_on")[:100])
    out.refused = SignUp.objects.visible_to(user, "volunteers.view_signup").filter(status=SignUpStatus.REFUSED).count()
    out.ledger = ledger_totals(user=user)
    return out


def ledger_totals(*, user) -> dict | None:
    """Issued, redeemed, expired, corrected, held — from the accounts' balances — and whether the
    ledger balances (held = issued − redeemed − expired ± corrections, all postings sum to zero).
    Only for users who can read the county's own accounts (county-wide grants)."""
    accounts = PointsAccount.objects.visible_to(user, "volunteers.view_pointsaccount")
    system = {row["kind"]: row["b"] for row in accounts.filter(volunteer__isnull=True).values("kind")
              .annotate(b=Sum("balance"))}
    if not system:
        return None
    county_ids = accounts.filter(volunteer__isnull=True).values("county_id")
    held = (PointsAccount.objects.filter(kind=AccountKind.VOLUNTEER, county_id__in=county_ids)
            .aggregate(n=Sum("balance"))["n"] or 0)
    issued = -(system.get(AccountKind.ISSUANCE) or 0)
    redeemed = system.get(AccountKind.REDEMPTION) or 0
    expired = system.get(AccountKind.EXPIRY) or 0
    corrected = -(system.get(AccountKind.CORRECTION) or 0)
    postings = PointsPosting.objects.filter(account__county_id__in=county_ids).aggregate(n=Sum("amount"))["n"] or 0
    return {"issued": issued, "redeemed": redeemed, "expired": expired, "corrected": corrected, "held": held,
            "balanced": postings == 0 and held == issued - redeemed - expired + corrected}


def transactions_for(*, user, kind: str = ""):
    rows = PointsTransaction.objects.visible_to(user, "volunteers.view_pointstransaction").select_related(
        "volunteer__person", "created_by")
    return rows.filter(kind=kind) if kind else rows
