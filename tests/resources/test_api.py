"""The REST API of resources and dispatch: the whole loop from stock to a confirmed delivery,
structured refusals, the keeper rule and what is never shown."""
from __future__ import annotations

import json

import pytest

from gongzhi.resources.models import Need, Resource, StockMovement

from .conftest import county_stock, need, stock

BASE = "/api/resources/"


def _fields(response) -> dict:
    """The field errors of a structured 400."""
    assert response.status_code == 400, (response.status_code, response.content[:300])
    body = response.json()
    assert body["error"]["code"] == "invalid" and body["error"]["message"]
    return body["error"]["fields"]


def _ledger_balances(client, resource_id):
    rows = client.get(f"{BASE}inventory/{resource_id}/ledger/", {"limit": 500}).json()["results"]
    return sum(r["on_hand_delta"] for r in rows), sum(r["reserved_delta"] for r in rows), rows


def test_the_whole_loop_over_the_api(world, api):
    town, village, grid = api("town_secretary_a"), api("village_secretary_a1"), api("grid_worker_a1_1")

    # The town registers its tents: the first ledger line.
    response = town.post(f"{BASE}inventory/", {
        "kind": "material", "name": "救灾帐篷", "unit": "顶", "owner_name": "城关镇应急办",
        "place": world.regions["A"].pk, "source": "budget", "allocation": "direct", "quantity": 10}, format="json")
    assert response.status_code == 201, response.content
    tents = response.json()
    assert (tents["on_hand"], tents["reserved"], tents["available"], tents["place_name"]) == (10, 0, 10, "城关镇")

    # The village raises a livelihood need, then an emergency.
    livelihood = village.post(f"{BASE}needs/", {
        "title": "困难户冬季保暖帐篷", "kind": "material", "quantity": 8, "unit": "顶", "priority": 2,
        "place": world.regions["A1"].pk}, format="json")
    assert livelihood.status_code == 201, livelihood.content
    livelihood = livelihood.json()
    emergency = village.post(f"{BASE}needs/", {
        "title": "洪灾受损户临时安置帐篷", "kind": "material", "quantity": 6, "unit": "顶", "priority": 1,
        "emergency_note": "房屋被洪水冲毁", "household": world.households["A1-2"].pk}, format="json")
    assert emergency.status_code == 201, emergency.content
    emergency = emergency.json()
    assert (emergency["place"], emergency["recipient_name"], emergency["household"]) == (
        world.regions["A1"].pk, "李秀英", world.households["A1-2"].pk)

    # The queue puts the emergency first although it was raised later.
    queue = town.get(f"{BASE}needs/", {"open": "true"}).json()
    assert [n["id"] for n in queue["results"]] == [emergency["id"], livelihood["id"]]
    assert town.get(f"{BASE}needs/", {"priority": 1}).json()["count"] == 1

    # The livelihood need's candidates show what the emergency claims.
    body = town.get(f"{BASE}needs/{livelihood['id']}/candidates/").json()
    [candidate] = body["candidates"]
    assert (candidate["resource"], candidate["available"], candidate["claimable"]) == (tents["id"], True, 4)
    assert any("更优先" in r["why"] for r in candidate["reasons"]) and candidate["can_reserve"]
    assert candidate["score"] == sum(r["points"] for r in candidate["reasons"])
    refused = town.post(f"{BASE}needs/{livelihood['id']}/reserve/", {"resource": tents["id"], "quantity": 5},
                        format="json")
    assert "只有4" in _fields(refused)["quantity"][0]

    # Reserve the emergency's share, then the rest for the livelihood need.
    first = town.post(f"{BASE}needs/{emergency['id']}/reserve/", {"resource": tents["id"]}, format="json")
    assert first.status_code == 201, first.content
    allocation = first.json()
    assert (allocation["quantity"], allocation["status"], allocation["resource_name"]) == (6, "reserved", "救灾帐篷")
    assert allocation["reasons"] and allocation["score"] > 0
    second = town.post(f"{BASE}needs/{livelihood['id']}/reserve/", {"resource": tents["id"]}, format="json")
    assert second.status_code == 201 and second.json()["quantity"] == 4

    # Dispatch: the receipt code is in the answer once, its hash never.
    sent = town.post(f"{BASE}allocations/{allocation['id']}/dispatch/", {"carrier": "镇应急队"}, format="json")
    assert sent.status_code == 201, sent.content
    code = sent.json()["receipt_code"]
    delivery = sent.json()["delivery"]
    assert len(code) == 6 and code.isdigit()
    assert "receipt_code_hash" not in sent.content.decode() and (delivery["quantity"], delivery["status"]) == (
        6, "under_way")
    detail = village.get(f"{BASE}needs/{emergency['id']}/").json()
    assert detail["need"]["status"] == "delivering"
    assert [d["id"] for d in detail["deliveries"]] == [delivery["id"]]
    assert code not in json.dumps(detail) and "receipt_code" not in json.dumps(detail)

    # The grid worker records the recipient's confirmation with the code.
    wrong = "000000" if code != "000000" else "111111"
    refused = grid.post(f"{BASE}deliveries/{delivery['id']}/confirm/", {
        "received": 6, "recipient_name": "李秀英", "method": "code", "code": wrong}, format="json")
    assert "收货码" in _fields(refused)["code"][0]
    confirmed = grid.post(f"{BASE}deliveries/{delivery['id']}/confirm/", {
        "received": 6, "recipient_name": "李秀英", "method": "code", "code": code}, format="json")
    assert confirmed.status_code == 200, confirmed.content
    assert (confirmed.json()["status"], confirmed.json()["method"], confirmed.json()["received_quantity"]) == (
        "confirmed", "code", 6)
    again = grid.post(f"{BASE}deliveries/{delivery['id']}/confirm/", {
        "received": 6, "recipient_name": "李秀英", "method": "signed"}, format="json")
    assert "重复" in _fields(again)["delivery"][0]
    need_now = town.get(f"{BASE}needs/{emergency['id']}/").json()["need"]
    assert (need_now["status"], need_now["delivered_quantity"], need_now["outstanding"]) == ("delivered", 6, 0)

    # The ledger balances: its sums are the resource's balances.
    on_hand, reserved, rows = _ledger_balances(town, tents["id"])
    resource = town.get(f"{BASE}inventory/{tents['id']}/").json()
    assert (resource["on_hand"], resource["reserved"]) == (on_hand, reserved) == (4, 4)
    assert [r["kind"] for r in reversed(rows)] == ["in", "reserve", "reserve", "dispatch"]
    assert town.get(f"{BASE}inventory/{tents['id']}/ledger/", {"kind": "reserve"}).json()["count"] == 2

    # A stock movement, then the figures.
    moved = town.post(f"{BASE}inventory/{tents['id']}/movements/", {
        "kind": "receive", "quantity": 20, "reason": "某企业捐赠"}, format="json")
    assert moved.status_code == 201 and moved.json()["resource"]["on_hand"] == 24
    assert moved.json()["movement"]["kind"] == "in"
    overview = town.get(f"{BASE}overview/").json()
    assert overview["resources"] == 1 and overview["confirmed"] == 1 and overview["open_needs"] == 1
    assert overview["by_kind"] == [{"kind": "material", "resources": 1, "on_hand": 24, "reserved": 4}]
    assert [row["open_needs"] for row in overview["open_by_priority"]] == [0, 1, 0]


def test_release_return_and_close(world, api, town):
    client = api("town_secretary_a")
    tents = stock(world)
    n = need(world, quantity=4)
    allocation = client.post(f"{BASE}needs/{n.pk}/reserve/", {"resource": tents.pk}, format="json").json()
    released = client.post(f"{BASE}allocations/{allocation['id']}/release/", {"reason": "核减", "quantity": 1},
                           format="json")
    assert released.status_code == 200 and released.json()["quantity"] == 3
    sent = client.post(f"{BASE}allocations/{allocation['id']}/dispatch/", {}, format="json").json()["delivery"]
    confirmed = client.post(f"{BASE}deliveries/{sent['id']}/confirm/", {
        "received": 2, "recipient_name": "李秀英", "method": "signed"}, format="json").json()
    assert (confirmed["received_quantity"], confirmed["status"]) == (2, "confirmed")
    returned = client.post(f"{BASE}deliveries/{sent['id']}/return/", {"quantity": 1, "reason": "多发"}, format="json")
    assert returned.status_code == 200 and returned.json()["returned_quantity"] == 1
    too_many = client.post(f"{BASE}deliveries/{sent['id']}/return/", {"quantity": 5, "reason": "多发"}, format="json")
    assert "quantity" in _fields(too_many)
    closed = client.post(f"{BASE}needs/{n.pk}/close/", {"note": "亲友已安置"}, format="json")
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    assert "need" in _fields(client.post(f"{BASE}needs/{n.pk}/close/", {"note": "再关"}, format="json"))
    on_hand, reserved, _rows = _ledger_balances(client, tents.pk)
    tents.refresh_from_db()
    assert (tents.on_hand, tents.reserved) == (on_hand, reserved) == (9, 0)  # 10 − 3 sent + 1 short + 1 back


def test_the_queue_reserves_in_priority_order(world, api):
    tents = stock(world, quantity=10)
    livelihood = need(world, title="困难户冬季保暖帐篷", quantity=8, priority=2)
    emergency = need(world, title="洪灾受损户临时安置帐篷", quantity=6, priority=1)
    response = api("town_secretary_a").post(f"{BASE}queue/reserve/", {}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["count"] == 2
    assert [(a["need"], a["resource"], a["quantity"]) for a in body["allocations"]] == [
        (emergency.pk, tents.pk, 6), (livelihood.pk, tents.pk, 4)]
    assert "county" in _fields(api("town_secretary_a").post(f"{BASE}queue/reserve/",
                                                              {"county": world.regions["A"].pk}, format="json"))


# ---- the keeper rule


def test_a_village_reads_the_county_pool_but_may_not_draw_on_it(world, api):
    pool = county_stock(world, quantity=100)
    n = need(world, quantity=4)
    village = api("village_secretary_a1")
    listed = village.get(f"{BASE}inventory/", {"pool": "true"}).json()
    assert [r["id"] for r in listed["results"]] == [pool.pk]
    [candidate] = village.get(f"{BASE}needs/{n.pk}/candidates/").json()["candidates"]
    assert candidate["available"] and not candidate["can_reserve"]
    refused = village.post(f"{BASE}needs/{n.pk}/reserve/", {"resource": pool.pk}, format="json")
    assert "县民政局" in _fields(refused)["resource"][0]
    refused = village.post(f"{BASE}inventory/{pool.pk}/movements/", {
        "kind": "write_off", "quantity": 1, "reason": "受潮"}, format="json")
    assert "resource" in _fields(refused)
    assert "resource" in _fields(village.patch(f"{BASE}inventory/{pool.pk}/", {"conditions": "x"}, format="json"))
    assert not n.allocations.exists() and pool.movements.count() == 1
    # Its keeper draws on it.
    department = api("department_handler")
    [candidate] = department.get(f"{BASE}needs/{n.pk}/candidates/").json()["candidates"]
    assert candidate["can_reserve"]
    reserved = department.post(f"{BASE}needs/{n.pk}/reserve/", {"resource": pool.pk}, format="json")
    assert reserved.status_code == 201 and reserved.json()["quantity"] == 4
    # Another town's keeper does not see the need at all.
    assert api("outsider_b").post(f"{BASE}needs/{n.pk}/reserve/", {"resource": pool.pk},
                                  format="json").status_code == 404


def test_a_department_registers_its_own_stock_only(world, api):
    department = api("department_handler")
    data = {"kind": "funds", "name": "临时救助资金", "unit": "元", "owner_name": "县民政局", "source": "budget",
            "allocation": "direct", "quantity": 50000, "place": world.regions["C"].pk}
    assert department.post(f"{BASE}inventory/", data, format="json").status_code == 404
    created = department.post(f"{BASE}inventory/", {**data, "owner_department": world.department.pk}, format="json")
    assert created.status_code == 201 and created.json()["owner_department_name"] == "县民政局"
    # A village may not put stock in the county's pool either.
    assert api("village_secretary_a1").post(f"{BASE}inventory/", {**data, "owner_department": None},
                                            format="json").status_code == 404


# ---- bad input is a structured 400, never a 500


@pytest.mark.parametrize("quantity", [-3, 0, "十", 2.5, 10 ** 13, None])
def test_a_bad_quantity_is_a_structured_400(world, api, quantity):
    response = api("town_secretary_a").post(f"{BASE}inventory/", {
        "kind": "material", "name": "帐篷", "unit": "顶", "owner_name": "城关镇", "place": world.regions["A"].pk,
        "source": "budget", "allocation": "direct", "quantity": quantity}, format="json")
    assert "quantity" in _fields(response)
    assert not Resource.objects.exists() and not StockMovement.objects.exists()


@pytest.mark.parametrize("body, field", [
    ({}, "kind"),
    ({"kind": "rockets"}, "kind"),
    ({"name": "  "}, "name"),
    ({"place": 999_999_999}, "place"),
    ({"place": 0}, "place"),
    ({"place": "A"}, "place"),
    ({"source": "stolen"}, "source"),
    ({"owner_department": 999_999}, "owner_department"),
    ({"grid": 999_999}, "grid"),
    ({"available_from": "2026-05-01", "available_until": "2026-04-01"}, "__all__"),
    ({"available_from": "0001-01-01"}, "available_from"),
])
def test_bad_registrations_are_refused_with_the_field(world, api, body, field):
    base = {"kind": "material", "name": "帐篷", "unit": "顶", "owner_name": "城关镇", "place": world.regions["A"].pk,
            "source": "budget", "allocation": "direct", "quantity": 5}
    data = {**base, **body} if body else {}
    fields = _fields(api("town_secretary_a").post(f"{BASE}inventory/", data, format="json"))
    assert field in fields or (field == "__all__" and fields), fields
    assert not Resource.objects.exists()


def test_other_bad_inputs_are_structured_400s(world, api):
    client = api("town_secretary_a")
    tents = stock(world)
    n = need(world)
    assert "non_field_errors" in _fields(client.post(f"{BASE}inventory/", [1, 2], format="json"))
    nul = client.post(f"{BASE}needs/", {"title": "帐\x00篷", "kind": "material", "quantity": 1, "unit": "顶",
                                       "place": world.regions["A1"].pk}, format="json")
    assert nul.status_code == 400 and nul.json()["error"]["code"]
    assert "on_hand" in _fields(client.patch(f"{BASE}inventory/{tents.pk}/", {"on_hand": 99}, format="json"))
    assert "availability" in _fields(client.patch(f"{BASE}inventory/{tents.pk}/", {"availability": "x"},
                                                  format="json"))
    movements = f"{BASE}inventory/{tents.pk}/movements/"
    assert "counted" in _fields(client.post(movements, {"kind": "correct", "reason": "盘点"}, format="json"))
    assert "quantity" in _fields(client.post(movements, {"kind": "write_off", "reason": "过期"}, format="json"))
    assert "reason" in _fields(client.post(movements, {"kind": "receive", "quantity": 1}, format="json"))
    assert "kind" in _fields(client.post(movements, {"kind": "steal", "quantity": 1, "reason": "x"}, format="json"))
    over = _fields(client.post(movements, {"kind": "write_off", "quantity": 11, "reason": "过期"}, format="json"))
    assert "10" in over["quantity"][0]
    same = _fields(client.post(movements, {"kind": "correct", "counted": 10, "reason": "盘点"}, format="json"))
    assert "一致" in same["counted"][0]
    assert tents.movements.count() == 1

    needs = f"{BASE}needs/"
    base = {"title": "取暖", "kind": "material", "quantity": 2, "unit": "床", "place": world.regions["A1"].pk}
    assert "emergency_note" in _fields(client.post(needs, {**base, "priority": 1}, format="json"))
    assert "priority" in _fields(client.post(needs, {**base, "priority": 7}, format="json"))
    assert "kind" in _fields(client.post(needs, {**base, "kind": "rockets"}, format="json"))
    assert "case" in _fields(client.post(needs, {**base, "case": 999_999}, format="json"))
    assert "household" in _fields(client.post(needs, {**base, "household": world.households["B1"].pk},
                                              format="json"))
    assert "meeting" in _fields(client.post(needs, {**base, "case": 1, "meeting": 2}, format="json"))
    assert "place" in _fields(client.post(needs, {**base, "place": None}, format="json"))
    assert "needed_by" in _fields(client.post(needs, {**base, "needed_by": "32026-01-01"}, format="json"))
    assert client.post(needs, {**base, "place": world.regions["B1"].pk}, format="json").status_code == 404
    assert Need.objects.count() == 1

    reserve = f"{BASE}needs/{n.pk}/reserve/"
    assert "resource" in _fields(client.post(reserve, {"resource": "abc"}, format="json"))
    assert "resource" in _fields(client.post(reserve, {"resource": 999_999}, format="json"))
    assert "quantity" in _fields(client.post(reserve, {"resource": tents.pk, "quantity": -1}, format="json"))
    assert "priority" in _fields(client.get(needs, {"priority": "abc"}))
    assert "status" in _fields(client.get(needs, {"status": "lost"}))
    assert "kind" in _fields(client.get(f"{BASE}inventory/", {"kind": "rockets"}))
    assert client.get(f"{BASE}needs/999999999/").status_code == 404


def test_a_county_need_is_not_allowed_and_the_county_secretary_may_raise_in_a_village(world, api):
    county = api("county_secretary")
    base = {"title": "取暖", "kind": "material", "quantity": 2, "unit": "床"}
    assert "place" in _fields(county.post(f"{BASE}needs/", {**base, "place": world.regions["C"].pk}, format="json"))
    created = county.post(f"{BASE}needs/", {**base, "place": world.regions["B1"].pk}, format="json")
    assert created.status_code == 201 and created.json()["village"] == world.regions["B1"].pk
    # … but keeps no stock.
    assert county.post(f"{BASE}needs/{created.json()['id']}/reserve/", {"resource": 1}, format="json").status_code == 403


# ---- what is never shown


def test_a_need_from_a_case_shows_the_case_number_never_its_tracking_code(world, api):
    from gongzhi.cases.catalogue import install_default_catalogue
    from gongzhi.cases.models import CaseCategory, TimeLimitDefault
    from gongzhi.intake.channel import intake_actor
    from gongzhi.intake.services import IntakeInput, intake_submit

    install_default_catalogue(CaseCategory, TimeLimitDefault)
    case = intake_submit(actor=intake_actor(territory=world.regions["A1"]), channel="web", scope="web",
                         data=IntakeInput(description="暴雨后房屋倒塌，联系电话13912345678", title="房屋被洪水冲毁",
                                          region=world.regions["A1"])).case
    village = api("village_secretary_a1")
    created = village.post(f"{BASE}needs/", {
        "title": "受灾户临时安置帐篷", "kind": "material", "quantity": 1, "unit": "顶", "priority": 1,
        "emergency_note": "房屋被洪水冲毁，电话13912345678", "case": case.pk}, format="json")
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["source"], body["case"], body["place"]) == ("case", case.pk, world.regions["A1"].pk)
    assert body["case_number"] == (case.number or None)
    assert "13912345678" not in body["emergency_note"] and "139****5678" in body["emergency_note"]
    for path in (f"{BASE}needs/", f"{BASE}needs/{body['id']}/", f"{BASE}needs/{body['id']}/candidates/"):
        text = village.get(path).content.decode()
        assert case.tracking_code not in text and "receipt_code_hash" not in text


def test_the_grid_worker_raises_and_reads_but_not_the_ledger(world, api):
    grid = api("grid_worker_a1_1")
    tents = stock(world, place="A1", by="village_secretary_a1", owner_name="五一村村委会", source="collective")
    created = grid.post(f"{BASE}needs/", {"title": "独居老人冬被", "kind": "material", "quantity": 1, "unit": "床",
                                         "household": world.households["A1-1"].pk}, format="json")
    assert created.status_code == 201 and created.json()["recipient_name"] == "张建国"
    assert grid.get(f"{BASE}inventory/{tents.pk}/").status_code == 200
    assert grid.get(f"{BASE}inventory/{tents.pk}/ledger/").status_code == 403
    assert grid.post(f"{BASE}needs/{created.json()['id']}/reserve/", {"resource": tents.pk},
                     format="json").status_code == 403
    assert api("outsider_b").get(f"{BASE}needs/{created.json()['id']}/").status_code == 404
    assert api("outsider_b").get(f"{BASE}needs/").json()["count"] == 0
