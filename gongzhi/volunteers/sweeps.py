"""The points expiry sweep: points earned more than the county's ``expiry_months`` ago and still
unspent expire, oldest first (FIFO: spending takes the oldest points first).

Safe to run twice and with several workers at once: the accounts are claimed ``FOR UPDATE SKIP
LOCKED`` in id order, and what expires is recomputed from the ledger under the account's lock
(``services.expiry_due``), so an account already swept owes nothing the second time — the ledger
itself is the marker. A pass reads only accounts that hold points and had a credit before the
cutoff.
"""
from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from . import rules, services
from .models import AccountKind, PointsAccount, PointsPosting, PointsSettings, TransactionKind

BATCH = 200


def _cutoff(now: dt.datetime, months: int) -> dt.datetime:
    day = rules.months_before(timezone.localdate(now), months)
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def sweep_expiry(now: dt.datetime | None = None) -> int:
    """Expire what is due in every county; returns the number of points expired."""
    now = now or timezone.now()
    counties = set(PointsAccount.objects.filter(kind=AccountKind.VOLUNTEER, balance__gt=0)
                   .values_list("county_id", flat=True).distinct())
    months_of = dict(PointsSettings.objects.filter(county_id__in=counties).values_list("county_id", "expiry_months"))
    default = PointsSettings._meta.get_field("expiry_months").default
    expired = 0
    for county_id in sorted(c for c in counties if c):
        months = months_of.get(county_id, default)
        if not months:
            continue
        cutoff = _cutoff(now, months)
        credited = PointsPosting.objects.filter(
            account__county_id=county_id, amount__gt=0, created_at__lt=cutoff,
            transaction__kind__in=[TransactionKind.EARN, TransactionKind.CORRECT]).values("account_id")
        last = 0
        while True:
            with transaction.atomic():
                batch = list(PointsAccount.objects.select_for_update(skip_locked=True, of=("self",))
                             .filter(kind=AccountKind.VOLUNTEER, county_id=county_id, balance__gt=0, pk__gt=last,
                                     pk__in=credited).select_related("volunteer").order_by("pk")[:BATCH])
                if not batch:
                    break
                for account in batch:
                    txn = services.points_expire(account=account, cutoff=cutoff)
                    expired += txn.amount if txn else 0
                last = batch[-1].pk
    return expired
