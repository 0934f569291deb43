"""Open311 submissions acknowledged at once, registered by a worker.

Registering a case is about twenty statements and 30 ms of Python (the case, its timeline,
audit, notifications of the dispatchers, the submission row, the number); done while the client
waits, it capped the county's intake at what two cores can register (issue 10). So the request
path now does only what the client must be told:

1. ``receive`` — the request, already validated against the catalogue and the county's places,
   is written as one ``ReceivedSubmission`` row in **one statement** (``INSERT … ON CONFLICT DO
   NOTHING RETURNING``, autocommit). Once it returns, the submission is durable: the client gets
   201 with its Open311 ``token`` and the resident's tracking code. A retry with the same
   ``Idempotency-Key`` (or a racing twin, which waits on the unique index) gets the same answer;
   the same key with another request is refused (``KeyReused``).
2. ``kick`` — asks the worker to register (Celery on the broker in production; in the demo and
   the tests, without a broker, registration runs in-process before the answer is sent, so the
   case exists when the client asks ``tokens/``).
3. ``register_received`` — the worker: claims receipts one at a time (``FOR UPDATE SKIP
   LOCKED``, so any number of workers share the queue and none registers a receipt twice) and
   registers each through ``services.intake_register`` — the same path as every other channel
   (transition table, audit, notifications) — with the receipt's token and tracking code, then
   numbers it. A receipt the database now refuses (its category closed, its place removed since
   it was received) is registered as "to be classified" at the county, for the dispatcher; only
   a receipt that fails even so stays ``received`` for the next pass and, after
   ``MAX_ATTEMPTS``, is marked failed and logged as an error. Nothing acknowledged is dropped.

``GET tokens/{token}`` answers with the case number once registered; the residents' tracking
page shows "received" until then. A beat task (``intake.register_received``, every 30 s)
registers whatever a lost kick left behind.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import time
from dataclasses import dataclass
from decimal import Decimal

from celery import shared_task
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from gongzhi.cases.models import Case, CaseCategory, new_tracking_code
from gongzhi.cases.numbering import number_pending
from gongzhi.registry.models import Grid, Region

from .channel import intake_actor
from .idempotency import KeyReused, fingerprint
from .models import ReceivedSubmission, new_token

logger = logging.getLogger(__name__)
State = ReceivedSubmission.State
MAX_ATTEMPTS = 5
PAYLOAD_FIELDS = ("county", "category", "region", "grid", "description", "title", "address", "lat", "long",
                  "requester_name", "phone", "email", "media_url", "device_id", "account_id", "attributes")


@dataclass
class Receipt:
    token: str
    tracking_code: str
    received_at: dt.datetime
    replayed: bool = False


def receive(*, scope: str, key: str | None, channel: str, client_id: int | None, payload: dict) -> Receipt:
    """Write the acknowledged submission in one statement; a replay returns the first one's receipt.

    ``payload`` holds ids and cleaned text only (``PAYLOAD_FIELDS``): what the worker registers.
    Raises ``KeyReused`` for the same key with a different request.
    """
    unknown = set(payload) - set(PAYLOAD_FIELDS)
    assert not unknown, f"unknown payload fields: {unknown}"
    digest = fingerprint({"channel": channel, **payload})
    token, code, now = new_token(), new_tracking_code(), timezone.now()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {ReceivedSubmission._meta.db_table} (scope, key, fingerprint, channel, client_id, token, "
                "tracking_code, payload, received_at, state, attempts, error) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s, %s::jsonb, %s, %s, 0, '') "
                "ON CONFLICT (scope, key) WHERE key IS NOT NULL DO NOTHING RETURNING id",
                [scope, key, digest, channel, client_id, token, code,
                 json.dumps(payload, ensure_ascii=False), now, State.RECEIVED])
            inserted = cursor.fetchone() is not None
    else:  # SQLite serialises writers: a savepoint and the unique constraint do
        try:
            with transaction.atomic():
                ReceivedSubmission.objects.create(scope=scope, key=key, fingerprint=digest, channel=channel,
                                                  client_id=client_id, token=token, tracking_code=code,
                                                  payload=payload, received_at=now)
            inserted = True
        except IntegrityError:
            inserted = False
    if inserted:
        return Receipt(token=token, tracking_code=code, received_at=now)
    row = ReceivedSubmission.objects.get(scope=scope, key=key)
    if row.fingerprint != digest:
        raise KeyReused(row)
    return Receipt(token=row.token, tracking_code=row.tracking_code, received_at=row.received_at, replayed=True)


KICK_SECONDS = 0.2  # a process asks the worker at most this often (a publish costs ~1 ms of a request)
LINGER_SECONDS = 0.5  # the worker looks once more this long after the queue ran empty
_last_kick = [0.0]


def kick() -> None:
    """Ask for the receipts to be registered (no broker — the demo and the tests: right here).

    With a broker a process publishes at most once per ``KICK_SECONDS``: a receipt written in
    that window is picked up by the task the last publish started, which keeps claiming until
    the queue is empty and then looks again after ``LINGER_SECONDS`` (longer than the window);
    beat runs the task every 30 s whatever happens.
    """
    if getattr(settings, "CELERY_TASK_ALWAYS_EAGER", False):
        register_received()
        return
    now = time.monotonic()
    if now - _last_kick[0] < KICK_SECONDS:
        return
    _last_kick[0] = now
    try:
        register_received_task.delay()
    except Exception:  # the broker is down: the beat task (or the next kick) registers it
        logger.exception("could not queue the registration of received submissions")


def register_received(*, limit: int | None = None) -> int:
    """Register waiting receipts, oldest first, until none is left (or ``limit``); returns how many."""
    done, tried = 0, []
    while limit is None or done < limit:
        case_id = _register_next(tried)
        if case_id is None:
            break
        if case_id > 0:
            number_pending(case_id=case_id)  # its own short statement, after the commit
        done += 1
    return done


def _register_next(tried: list[int]) -> int | None:
    """One receipt in one transaction: its case id, 0 when it could not be registered this time
    (it is not tried again in this pass), None when nothing is waiting."""
    with transaction.atomic():
        row = (ReceivedSubmission.objects.select_related("client").select_for_update(skip_locked=True, of=("self",))
               .filter(state=State.RECEIVED).exclude(pk__in=tried).order_by("id").first())
        if row is None:
            return None
        tried.append(row.pk)
        try:
            with transaction.atomic():
                case = _register(row, strict=True)
        except ValidationError as exc:
            logger.warning("receipt %s refused as received (%s): filed at the county, to be classified",
                           row.pk, exc.messages)
            try:
                with transaction.atomic():
                    case = _register(row, strict=False, refused=exc.messages)
            except Exception as again:  # noqa: BLE001 — kept for the next pass, never dropped
                return _failed(row, again)
        except Exception as exc:  # noqa: BLE001 — a database hiccup: try again next pass
            return _failed(row, exc)
        row.state, row.case, row.registered_at, row.error = State.REGISTERED, case, timezone.now(), ""
        row.save(update_fields=["state", "case", "registered_at", "error"])
        return case.pk


def _failed(row: ReceivedSubmission, exc: Exception) -> int:
    row.attempts += 1
    row.error = f"{type(exc).__name__}: {exc}"[:2000]
    if row.attempts >= MAX_ATTEMPTS:
        row.state = State.FAILED
        logger.error("receipt %s could not be registered after %s attempts: %s", row.pk, row.attempts, row.error)
    row.save(update_fields=["attempts", "error", "state"])
    return 0


def _register(row: ReceivedSubmission, *, strict: bool, refused: list[str] | None = None) -> Case:
    from . import services

    p = row.payload
    region = Region.objects.filter(pk=p["region"] if strict else p["county"], county_id=p["county"]).first()
    grid = Grid.objects.filter(pk=p["grid"]).first() if strict and p.get("grid") else None
    category = CaseCategory.objects.filter(pk=p["category"]).first() if strict else None
    if region is None and not strict:
        raise ValueError(f"the county {p['county']} of receipt {row.pk} is gone")
    if strict and (region is None or category is None or (p.get("grid") and grid is None)):
        raise ValidationError("事发地或类别已不存在")
    description = p["description"]
    if refused:
        description += "\n（收到时的类别或地点已不可用：" + "；".join(refused) + "）"
    data = services.IntakeInput(
        description=description, title=p["title"], category=category, region=region, grid=grid,
        address=p["address"], latitude=Decimal(p["lat"]) if p.get("lat") else None,
        longitude=Decimal(p["long"]) if p.get("long") else None, requester_name=p["requester_name"],
        requester_phone=p["phone"], email=p["email"], media_url=p["media_url"], device_id=p["device_id"],
        account_id=p["account_id"], attributes=p["attributes"] if strict else {})
    case, _answer = services.intake_register(
        actor=intake_actor(territory=data.region), channel=row.channel, data=data, client=row.client,
        received_at=row.received_at, tracking_code=row.tracking_code, token=row.token)
    return case


@shared_task(name="intake.register_received")
def register_received_task() -> int:
    done = register_received()
    time.sleep(LINGER_SECONDS)  # receipts whose kick fell in another one's window (see ``kick``)
    return done + register_received()


def purge_registered(*, days: int) -> int:
    """Forget registered receipts older than ``days`` (the case keeps what the submission said)."""
    deleted, _ = ReceivedSubmission.objects.filter(
        state=State.REGISTERED, registered_at__lt=timezone.now() - dt.timedelta(days=days)).delete()
    return deleted


__all__ = ["Receipt", "kick", "purge_registered", "receive", "register_received",
           "register_received_task"]
