"""The demo's inventory and season of dispatch on the test world, with the flood showcase: the
emergency is reserved ahead of the livelihood need, dispatched from a named stock, confirmed by
the recipient's code and counted on the map; the ledger balances."""
from __future__ import annotations

from gongzhi.accounts.models import Role, RoleAssignment, User
from gongzhi.cases.models import CaseEvent
from gongzhi.resources import selectors
from gongzhi.resources.demo import generate_resources_year
from gongzhi.resources.models import Allocation, Delivery, Need, NeedStatus, Resource


def _demo_login(username, role, **scope):
    user = User.objects.create_user(username=username, password="x", display_name=username,
                                    person=scope.pop("person", None))
    RoleAssignment.objects.create(user=user, role=Role.objects.get(code=role), **scope)
    return user


def test_the_showcase_delivers_the_flood_emergency_first(world):
    _demo_login("dispatch", "dispatcher", region=world.regions["C"])
    _demo_login("village", "village_secretary", region=world.regions["A1"])
    _demo_login("grid", "grid_worker", grid=world.grids["A1-1"], person=world.persons["A1-1"])
    result = generate_resources_year(county=world.regions["C"], seed=3)
    assert result.resources > 10 and result.needs > 3 and result.deliveries >= 2

    quilts = Need.objects.get(pk=result.showcase_need)
    assert quilts.priority == 1 and quilts.status == NeedStatus.DELIVERED and quilts.case_id
    livelihood = Need.objects.get(title="低保户冬季保暖棉被")
    first = Allocation.objects.filter(need__in=[quilts, livelihood]).order_by("pk").first()
    assert first.need_id == quilts.pk  # reserved ahead of the livelihood need raised before it
    delivery = Delivery.objects.get(allocation__need=quilts)
    assert delivery.method == "code" and delivery.allocation.resource.name == "棉被"
    assert delivery.allocation.resource.owner_name.endswith("应急物资储备点")
    assert set(CaseEvent.objects.filter(case=quilts.case).values_list("kind", flat=True)) >= {
        "dispatch_need", "dispatch_delivered"}
    assert selectors.ledger_mismatches() == []
    assert Resource.objects.filter(emergency_reserve=True).exists()
    layers = selectors.map_layers(world.users["county_secretary"])
    [a1] = [f for f in layers["villages"]["features"] if f["id"] == world.regions["A1"].pk]
    assert a1["properties"]["delivered"] >= 1
