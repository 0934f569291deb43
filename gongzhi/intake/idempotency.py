"""Idempotent submission: the same client key gives one case and the same answer.

How it works (PostgreSQL; SQLite serialises writers anyway)::

    with transaction.atomic():                 # the caller's transaction: the case is written here too
        claim = claim_key(scope, key, fingerprint)
        if claim.replay: return claim.row.response   # a committed earlier submission
        case = …register the case and its first timeline entry…
        claim.store(case, answer)              # the answer, in the same transaction
    # commit → only now is the client told "accepted"

``claim_key`` INSERTs the key (``ON CONFLICT DO NOTHING`` on PostgreSQL, a savepoint elsewhere). A concurrent duplicate's INSERT blocks on the
unique index until the first transaction ends: if it committed, the INSERT fails with a unique
violation and we read the committed row (READ COMMITTED sees it) and replay its answer; if it
rolled back (bad input), the INSERT succeeds and this request goes ahead on its own. A key is
therefore never "taken" by a submission that did not happen, and the answer a client gets on a
retry is byte-for-byte the data it got (or would have got) the first time.

The same key with a *different* request (another description, another place …) is refused
(``KeyReused``): answering it with the first case would lose the second matter silently.
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from .models import IdempotencyKey

KEY_RE = re.compile(r"^[A-Za-z0-9_\-:.]{8,128}$")


class KeyInvalid(ValueError):
    """The key is not 8–128 characters of letters, digits, '-', '_', ':', '.'."""


class KeyReused(ValueError):
    """The key was used before for a different request."""

    def __init__(self, row: IdempotencyKey):
        super().__init__("idempotency key reused with a different request")
        self.row = row


def validate_key(raw: str | None) -> str | None:
    if raw is None:
        return None
    raw = raw.strip()
    if not raw:
        return None
    if not KEY_RE.match(raw):
        raise KeyInvalid(raw[:40])
    return raw


def fingerprint(data) -> str:
    """A stable hash of the request's meaningful content (not the key, not the CSRF token)."""
    blob = json.dumps(data, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(blob.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass
class Claim:
    row: IdempotencyKey | None
    replay: bool = False

    def store(self, *, case, response: dict) -> None:
        if self.row is None:
            return
        self.row.case = case
        self.row.response = response
        self.row.save(update_fields=["case", "response_text"])


def claim_key(*, scope: str, key: str | None, fingerprint: str) -> Claim:
    """Call inside the transaction that writes the case (see the module docstring)."""
    if not key:
        return Claim(row=None)
    assert transaction.get_connection().in_atomic_block, "claim_key must run inside the case's transaction"
    if connection.vendor == "postgresql":
        # One statement instead of savepoint + INSERT + release: ON CONFLICT DO NOTHING waits for
        # a racing transaction holding the same key exactly as the unique index would, then
        # inserts (it rolled back) or inserts nothing (it committed: replay its answer).
        row = IdempotencyKey(scope=scope, key=key, fingerprint=fingerprint, created_at=timezone.now())
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {IdempotencyKey._meta.db_table} (scope, key, fingerprint, response_text, created_at) "
                "VALUES (%s, %s, %s, '', %s) ON CONFLICT (scope, key) DO NOTHING RETURNING id",
                [scope, key, fingerprint, row.created_at])
            inserted = cursor.fetchone()
        if inserted is not None:
            row.pk = inserted[0]
            row._state.adding = False
            return Claim(row=row)
    else:
        try:
            with transaction.atomic():
                row = IdempotencyKey.objects.create(scope=scope, key=key, fingerprint=fingerprint)
            return Claim(row=row)
        except IntegrityError:
            pass
    row = IdempotencyKey.objects.select_related("case").get(scope=scope, key=key)
    if row.fingerprint != fingerprint:
        raise KeyReused(row)
    return Claim(row=row, replay=True)


def purge_old_keys(*, days: int) -> int:
    """Delete keys older than ``days`` (a retry after that long is a new submission)."""
    import datetime as dt

    deleted, _ = IdempotencyKey.objects.filter(created_at__lt=timezone.now() - dt.timedelta(days=days)).delete()
    return deleted
