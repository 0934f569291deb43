"""Keep colour classes current when the registry changes a household's facts.

The registry announces ``household_facts_changed`` after its writes commit (registry services,
roster import); here exactly those households are recomputed. Archive changes made through this
app also recompute explicitly; doing it twice for them costs one cheap query set.
"""
from __future__ import annotations

from django.db import transaction

from gongzhi.core.audit import AuditAction, audit_record
from gongzhi.registry.models import Household

# Up to this many households are recomputed one by one (each class change audited on its own);
# above it (a roster import) in one set-based pass with one audit row.
ONE_BY_ONE_LIMIT = 50


def reclassify_changed_households(sender, *, household_ids, actor=None, **kwargs) -> None:
    from . import classify, plans
    from .services import household_reclassify

    ids = sorted(household_ids)
    if len(ids) <= ONE_BY_ONE_LIMIT:
        for pk in ids:
            household_reclassify(actor=actor, household=pk)
        return
    with transaction.atomic():
        households = Household.objects.filter(pk__in=ids)
        stats = classify.classify_where(households, actor_id=getattr(actor, "pk", None))
        plans.sync_plans(households)
        audit_record(actor=actor, action=AuditAction.UPDATE, object_type="care.householdclass",
                     object_repr=f"重新分类 {len(ids)} 户", note=f"登记信息变化后重新分类：变化{stats.changed}户；{stats.by_colour}")
