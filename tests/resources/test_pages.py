"""The staff pages: the queue, a need with its ranked candidates, reservation and dispatch, the
doorstep confirmation, the inventory and its ledger, the map — with clear Chinese refusals."""
from __future__ import annotations

import json

from django.urls import reverse

from gongzhi.resources.models import Delivery, DeliveryStatus, Need, NeedStatus, Resource, StockMovement

from .conftest import county_stock, need, stock


def test_raise_an_emergency_need_from_the_page(world, login):
    client = login(world.users["village_secretary_a1"])
    page = client.get(reverse("resources:need_new"))
    assert page.status_code == 200 and "应急" in page.content.decode()
    refused = client.post(reverse("resources:need_new"), {
        "title": "受灾户临时安置", "kind": "material", "quantity": "2", "unit": "顶", "priority": "1",
        "place": world.regions["A1"].pk})
    assert refused.status_code == 200 and "请写明紧急情况" in refused.content.decode()
    assert not Need.objects.exists()
    done = client.post(reverse("resources:need_new"), {
        "title": "受灾户临时安置", "kind": "material", "quantity": "2", "unit": "顶", "priority": "1",
        "emergency_note": "房屋被洪水冲毁", "place": world.regions["A1"].pk})
    n = Need.objects.get()
    assert done.status_code == 302 and done["Location"] == reverse("resources:need", args=[n.pk])
    assert n.priority == 1 and n.raised_by == world.users["village_secretary_a1"]


def test_a_negative_quantity_gets_a_chinese_error_on_the_page(world, login):
    client = login(world.users["town_secretary_a"])
    response = client.post(reverse("resources:resource_new"), {
        "kind": "material", "name": "帐篷", "quantity": "-5", "unit": "顶", "owner_name": "镇应急办",
        "place": world.regions["A"].pk, "source": "budget", "allocation": "direct"})
    assert response.status_code == 200 and not Resource.objects.exists()
    assert "确保该值大于或等于1" in response.content.decode()


def test_the_need_page_ranks_and_reserves_and_dispatches(world, login):
    tents = stock(world, quantity=10)
    n = need(world, quantity=4, priority=1)
    client = login(world.users["town_secretary_a"])
    page = client.get(reverse("resources:need", args=[n.pk]))
    body = page.content.decode()
    assert page.status_code == 200 and tents.name in body and "直接调拨，当天可发" in body
    client.post(reverse("resources:need_do", args=[n.pk, "reserve"]), {"resource": tents.pk, "quantity": "4"})
    allocation = n.allocations.get()
    assert allocation.quantity == 4
    client.post(reverse("resources:allocation_do", args=[allocation.pk, "dispatch"]), {"carrier": "镇应急队"})
    delivery = Delivery.objects.get()
    page = client.get(reverse("resources:need", args=[n.pk]))
    assert 'class="code"' in page.content.decode()
    # The code is shown once.
    again = client.get(reverse("resources:need", args=[n.pk]))
    assert 'class="code"' not in again.content.decode()
    assert delivery.status == DeliveryStatus.UNDER_WAY


def test_the_grid_worker_confirms_on_the_doorstep(world, login):
    from gongzhi.resources import services

    town = world.users["town_secretary_a"]
    tents = stock(world, quantity=10)
    n = need(world, quantity=4, priority=1, recipient_name="李秀英")
    delivery, code = services.dispatch(actor=town, allocation=services.reserve(actor=town, need=n, resource=tents))
    client = login(world.users["grid_worker_a1_1"])
    page = client.get(reverse("resources:delivery", args=[delivery.pk]))
    assert page.status_code == 200 and "李秀英" in page.content.decode()
    wrong = client.post(reverse("resources:delivery_do", args=[delivery.pk, "confirm"]), {
        "received": "4", "recipient_name": "李秀英", "method": "code", "code": "12345x", "shortfall": "returned"})
    assert wrong.status_code == 400 and "收货码不对" in wrong.content.decode()
    ok = client.post(reverse("resources:delivery_do", args=[delivery.pk, "confirm"]), {
        "received": "4", "recipient_name": "李秀英", "method": "code", "code": code, "shortfall": "returned"})
    assert ok.status_code == 302
    n.refresh_from_db()
    assert n.status == NeedStatus.DELIVERED


def test_the_resource_page_shows_the_ledger_and_records_a_movement(world, login):
    tents = stock(world, quantity=10)
    client = login(world.users["town_secretary_a"])
    client.post(reverse("resources:resource_do", args=[tents.pk, "move"]),
                {"action": "write_off", "quantity": "2", "reason": "霉变"})
    page = client.get(reverse("resources:resource", args=[tents.pk]))
    body = page.content.decode()
    assert "霉变" in body and "-2" in body
    assert StockMovement.objects.filter(resource=tents).count() == 2
    refused = client.post(reverse("resources:resource_do", args=[tents.pk, "move"]),
                          {"action": "write_off", "quantity": "99", "reason": "霉变"}, follow=True)
    assert "可核销的只有8" in refused.content.decode()


def test_the_map_draws_from_own_geometry_and_counts_needs_per_village(world, login):
    from gongzhi.registry.models import Region

    Region.objects.filter(pk=world.regions["A1"].pk).update(lat="32.90", lng="108.50")
    county_stock(world, quantity=100)
    need(world, quantity=4, priority=1)
    client = login(world.users["town_secretary_a"])
    page = client.get(reverse("resources:map"))
    body = page.content.decode()
    assert page.status_code == 200 and "leaflet/leaflet.js" in body and "tile.openstreetmap" not in body
    data = client.get(reverse("resources:map_data")).json()
    [a1] = [f for f in data["villages"]["features"] if f["id"] == world.regions["A1"].pk]
    assert a1["properties"]["emergencies"] == 1 and a1["geometry"]["type"] == "Point"
    layers = json.loads(body.split('id="map-layers" type="application/json">')[1].split("</script>")[0])
    assert layers["villages"]["features"][0]["properties"]["name"]
    # Nothing names a household on the map.
    assert "李秀英" not in json.dumps(data, ensure_ascii=False)


def test_the_queue_page_lists_emergencies_first(world, login):
    need(world, title="一般需求帐篷", quantity=1, priority=3)
    need(world, title="应急需求帐篷", quantity=1, priority=1)
    body = login(world.users["town_secretary_a"]).get(reverse("resources:needs")).content.decode()
    assert body.index("应急需求帐篷") < body.index("一般需求帐篷")
