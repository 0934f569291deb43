"""What the registry tells the rest of the platform.

``household_facts_changed`` is sent (after the transaction commits) by every registry write that
can change what later modules conclude from a household's facts: income, poverty status,
peaceful-family years, its members and their left-behind/disability/release facts, its place.
The registry does not know who listens; the care app recomputes the colour class of exactly
those households.
"""
from __future__ import annotations

import logging

from django.db import transaction
from django.dispatch import Signal

logger = logging.getLogger(__name__)

# Sent with household_ids (a set of ints) and actor.
household_facts_changed = Signal()


def announce_household_facts_changed(*, household_ids, actor) -> None:
    ids = {pk for pk in household_ids if pk is not None}
    if not ids:
        return

    def send():
        # A listener's failure must not turn a committed registry write into an error page: the
        # write stands, the listener's nightly run catches up, and the failure is logged.
        for receiver, result in household_facts_changed.send_robust(sender=None, household_ids=ids, actor=actor):
            if isinstance(result, Exception):
                logger.error("household_facts_changed receiver %r failed: %r", receiver, result)

    transaction.on_commit(send)
