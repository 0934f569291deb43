"""Reads of resources and dispatch shared by the pages and the API. Every read starts from the
one scoping mechanism (``visible_to``)."""
from __future__ import annotations

from django.db.models import Count, F, IntegerField, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from .models import OPEN_NEED_STATUSES, Delivery, DeliveryStatus, Kind, Need, Priority, Resource, StockMovement


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
    labels = dict(Kind.choices)
    by_kind = [dict(row, label=labels.get(row["kind"], row["kind"])) for row in resources.values("kind").annotate(
        n=Count("pk"), on_hand=Sum("on_hand"), reserved=Sum("reserved")).order_by("kind")]
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


def map_layers(user, *, days: int = 30) -> dict:
    """一图总览: the villages (outlines or points, from the registry's own geometry) with the
    inventory kept there, the open needs by priority and the deliveries confirmed in the last
    ``days``; the stores kept at a town or the county as points. Needs are counted per village
    and grid, never pinned per household. Everything through the user's scope."""
    import datetime as dt

    from django.utils import timezone

    from gongzhi.registry.geometry import bounds, centroid_of, territory_features
    from gongzhi.registry.models import Region

    villages = territory_features(user, level="village")
    resources = Resource.objects.visible_to(user, "resources.view_resource").exclude(availability="retired")
    needs = Need.objects.visible_to(user, "resources.view_need").filter(status__in=OPEN_NEED_STATUSES)
    since = timezone.now() - dt.timedelta(days=days)
    deliveries = Delivery.objects.visible_to(user, "resources.view_delivery").filter(
        status=DeliveryStatus.CONFIRMED, confirmed_at__gte=since)
    stock_by_village: dict[int, dict] = {}
    for row in resources.filter(village__isnull=False).values("village_id", "kind").annotate(
            n=Count("pk"), available=Sum(F("on_hand") - F("reserved"))):
        stock_by_village.setdefault(row["village_id"], {})[row["kind"]] = {"n": row["n"],
                                                                           "available": row["available"] or 0}
    needs_by_village: dict[int, dict] = {}
    for row in needs.values("village_id", "priority").annotate(n=Count("pk")):
        needs_by_village.setdefault(row["village_id"], {})[str(row["priority"])] = row["n"]
    delivered_by_village = {row["village_id"]: row["n"] for row in
                            deliveries.values("village_id").annotate(n=Count("pk"))}
    for feature in villages["features"]:
        pk = feature["id"]
        by_priority = needs_by_village.get(pk, {})
        feature["properties"].update({
            "stock": stock_by_village.get(pk, {}), "needs": by_priority,
            "open_needs": sum(by_priority.values()), "emergencies": by_priority.get("1", 0),
            "delivered": delivered_by_village.get(pk, 0)})
    # Stores above village level: one point per town or county place, at its centre.
    stores = []
    places = {}
    for row in resources.filter(village__isnull=True).values("place_id", "kind").annotate(
            n=Count("pk"), available=Sum(F("on_hand") - F("reserved"))):
        places.setdefault(row["place_id"], {})[row["kind"]] = {"n": row["n"], "available": row["available"] or 0}
    for region in Region.objects.filter(pk__in=places):
        centre = centroid_of(region)
        if centre is None:
            continue
        stores.append({"type": "Feature", "id": region.pk, "geometry": {
            "type": "Point", "coordinates": [centre.lng, centre.lat]},
            "properties": {"name": region.name, "level": region.level, "stock": places[region.pk]}})
    grids = territory_features(user, level="grid")
    needs_by_grid = {row["grid_id"]: row["n"] for row in needs.filter(grid__isnull=False).values("grid_id").annotate(
        n=Count("pk"))}
    grid_features = [dict(f, properties=dict(f["properties"], open_needs=needs_by_grid[f["id"]]))
                     for f in grids["features"] if f["id"] in needs_by_grid and f["geometry"]]
    return {
        "villages": villages,
        "stores": {"type": "FeatureCollection", "features": stores},
        "grids": {"type": "FeatureCollection", "features": grid_features},
        "bbox": villages.get("bbox") or bounds(stores),
        "days": days,
    }
