"""Reads of resources and dispatch shared by the pages and the API. Every read starts from the
one scoping mechanism (``visible_to``)."""
from __future__ import annotations

from django.db.models import Count, F, IntegerField, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from .models import OPEN_NEED_STATUSES, Delivery, DeliveryStatus, Need, Priority, Resource, StockMovement


def ledger_mismatches(resources=None) -> list[dict]:
    """Resources whose cached balances differ from the sums of their ledger (should be none)."""
    resources = Resource.objects.all() if resources is None else resources
    sums = StockMovement.objects.filter(resource=OuterRef("pk")).values("resource")
    on_hand = sums.annotate(s=Sum("on_hand_delta")).values("s")
    reserved = sums.annotate(s=Sum("reserved_delta")).values("s")
    rows = resources.annotate(
        ledger_on_hand=Coalesce(Subquery(on_hand, output_field=IntegerField()), Value(0)),
        ledger_reserved=Coalesce(Subquery(reserved, output_field=IntegerField()), Value(0)),
    ).exclude(on_hand=F("ledger_on_hand"), reserved=F("ledger_reserved"))
    return list(rows.values("pk", "name", "on_hand", "reserved", "ledger_on_hand", "ledger_reserved"))




def dispatch_queue(user, *, county_id=None, kind=None):
    """Open needs the user may allocate for, in dispatch order (emergency, livelihood, the rest;
    the earliest needed, then the earliest raised)."""
    needs = Need.objects.visible_to(user, "resources.view_need").filter(status__in=OPEN_NEED_STATUSES)
    if county_id:
        needs = needs.filter(county_id=county_id)
    if kind:
        needs = needs.filter(kind=kind)
    return needs.select_related("place", "village", "town").order_by("priority", "needed_by", "raised_at", "pk")


def overview(user) -> dict:
    """The inventory and the queue in figures, within the user's scope."""
    resources = Resource.objects.visible_to(user, "resources.view_resource")
    by_kind = list(resources.values("kind").annotate(n=Count("pk"), on_hand=Sum("on_hand"),
                                                     reserved=Sum("reserved")).order_by("kind"))
    needs = Need.objects.visible_to(user, "resources.view_need")
    open_needs = needs.filter(status__in=OPEN_NEED_STATUSES)
    by_priority = {row["priority"]: row["n"] for row in open_needs.values("priority").annotate(n=Count("pk"))}
    deliveries = Delivery.objects.visible_to(user, "resources.view_delivery")
    return {
        "resources": resources.count(), "by_kind": by_kind,
        "open_needs": sum(by_priority.values()),
        "open_by_priority": [(p, p.label, by_priority.get(p.value, 0)) for p in Priority],
        "delivered_needs": needs.filter(status="delivered").count(),
        "under_way": deliveries.filter(status=DeliveryStatus.UNDER_WAY).count(),
        "confirmed": deliveries.filter(status=DeliveryStatus.CONFIRMED).count(),
        "emergency_waiting": open_needs.filter(priority=Priority.EMERGENCY).filter(
            Q(reserved_quantity=0) & Q(delivered_quantity=0)).count(),
    }
