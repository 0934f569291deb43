"""Keep colour classes current when the registry changes a household's facts.

The registry writes a ``HouseholdFactsChange`` row for every household whose facts a write
changed (its outbox, committed with the write) and after commit starts the task below by name
(see ``gongzhi.registry.outbox``). The task takes the rows in, recomputes exactly those
households and deletes the rows; celery beat runs it too, so rows left by a failed start are
taken in later. Care's own services reclassify directly (``services.household_reclassify``),
which deletes the household's row in the same transaction: nothing is recomputed twice.
"""
from __future__ import annotations

from collections import defaultdict

from celery import shared_task
from django.contrib.auth import get_user_model
from django.db import transaction

from gongzhi.core.audit import AuditAction, audit_record
from gongzhi.registry.models import Household, HouseholdFactsChange

# Up to this many households are recomputed one by one (each class change audited on its own);
# above it (a roster import) in one set-based pass with one audit row.
ONE_BY_ONE_LIMIT = 50
# Rows taken per transaction, so a million-household import is taken in by parts.
BATCH = 20000


@shared_task(name="care.reclassify_changed")
def reclassify_changed() -> int:
    """Take in the registry's outbox; returns how many households were recomputed."""
    done = 0
    while True:
        taken = _take_batch()
        if not taken:
            return done
        done += taken


def _take_batch() -> int:
    from . import classify, plans
    from .services import household_reclassify

    with transaction.atomic():
        # SKIP LOCKED: two workers (or the after-commit start and beat) never take the same rows.
        rows = list(HouseholdFactsChange.objects.select_for_update(skip_locked=True)
                    .order_by("changed_at").values_list("household_id", "changed_by_id")[:BATCH])
        if not rows:
            return 0
        by_actor = defaultdict(list)
        for household_id, actor_id in rows:
            by_actor[actor_id].append(household_id)
        users = get_user_model().objects.in_bulk([a for a in by_actor if a is not None])
        for actor_id, ids in by_actor.items():
            actor = users.get(actor_id)
            if len(ids) <= ONE_BY_ONE_LIMIT:
                for pk in ids:
                    household_reclassify(actor=actor, household=pk)
                continue
            HouseholdFactsChange.objects.filter(household_id__in=ids).delete()
            households = Household.objects.filter(pk__in=ids)
            stats = classify.classify_where(households, actor_id=actor_id)
            plans.sync_plans(households)
            audit_record(actor=actor, action=AuditAction.UPDATE, object_type="care.householdclass",
                         object_repr=f"重新分类 {len(ids)} 户",
                         note=f"登记信息变化后重新分类：变化{stats.changed}户；{stats.by_colour}")
        return len(rows)
