"""What the registry tells the rest of the platform, without knowing who listens.

Every registry write that can change what later modules conclude from a household's facts
(income, poverty status, peaceful-family years, its members and their left-behind/disability/
release facts, its place) calls ``announce_household_facts_changed`` inside its transaction. That
writes one ``HouseholdFactsChange`` row per household (an outbox, committed with the change) and,
after commit, starts the Celery task named ``care.reclassify_changed`` if one is registered —
looked up by name, so the registry imports nothing above it, and no Django signal is involved.
The task takes in and deletes the rows; a service of the care app that reclassifies a household
itself deletes that household's row in the same transaction, so it is never recomputed twice.
If the task cannot start (a broker down), the rows wait for the next run of the same task under
celery beat.
"""
from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone

logger = logging.getLogger(__name__)

# The task of the module above that takes the outbox in (gongzhi.care.receivers).
CONSUMER_TASK = "care.reclassify_changed"


def announce_household_facts_changed(*, household_ids, actor) -> None:
    from .models import HouseholdFactsChange

    ids = sorted({pk for pk in household_ids if pk is not None})
    if not ids:
        return
    now = timezone.now()
    actor_id = getattr(actor, "pk", None)
    HouseholdFactsChange.objects.bulk_create(
        [HouseholdFactsChange(household_id=pk, changed_at=now, changed_by_id=actor_id) for pk in ids],
        update_conflicts=True, unique_fields=["household"], update_fields=["changed_at", "changed_by"])
    transaction.on_commit(_start_consumer)


def _start_consumer() -> None:
    from celery import current_app

    task = current_app.tasks.get(CONSUMER_TASK)
    if task is None:
        return
    try:
        task.delay()
    except Exception:  # noqa: BLE001 — the committed write stands; the rows wait for the next run
        logger.exception("could not start %s; the changed households wait for its next run", CONSUMER_TASK)
