"""Need → response → delivery: priority, the ledger, partial delivery and returns, and the
keeper rule, through the services."""
from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import Sum
from django.http import Http404

from gongzhi.cases.models import CaseEvent
from gongzhi.core.models import AuditLog
from gongzhi.resources import matching, selectors, services
from gongzhi.resources.models import (
    Allocation, Delivery, DeliveryStatus, MovementKind, Need, NeedStatus, Resource, StockMovement,
)

from .conftest import county_stock, need, stock

pg_only = pytest.mark.skipif(connection.vendor != "postgresql",
                             reason="needs PostgreSQL row locks and concurrent connections")


def balances(resource):
    sums = StockMovement.objects.filter(resource=resource).aggregate(h=Sum("on_hand_delta"), r=Sum("reserved_delta"))
    resource.refresh_from_db()
    return (resource.on_hand, resource.reserved), (sums["h"] or 0, sums["r"] or 0)


# ---- the inventory and its ledger


def test_registering_a_resource_writes_its_first_ledger_line(world):
    tents = stock(world, quantity=12)
    line = tents.movements.get()
    assert (line.kind, line.on_hand_delta, line.reserved_delta) == (MovementKind.STOCK_IN, 12, 0)
    assert "财政预算" in line.reason
    cached, ledger = balances(tents)
    assert cached == ledger == (12, 0)
    assert AuditLog.objects.filter(object_type="resources.stockmovement", object_id=str(line.pk)).exists()


@pytest.mark.parametrize("quantity", [-3, 0, "十", 2.5])
def test_a_bad_quantity_is_refused_and_nothing_is_saved(world, quantity):
    with pytest.raises(ValidationError) as refused:
        stock(world, quantity=quantity)
    assert "数量" in str(refused.value)
    assert not Resource.objects.exists() and not StockMovement.objects.exists()


def test_receive_write_off_and_stocktake_each_leave_a_line_with_a_reason(world, town):
    rice = stock(world, kind="material", name="大米", unit="袋", quantity=50)
    services.stock_receive(actor=town, resource=rice, quantity=20, reason="某粮油企业捐赠")
    services.stock_write_off(actor=town, resource=rice, quantity=5, reason="受潮霉变")
    services.stock_correct(actor=town, resource=rice, counted=63, reason="12月盘点，少2袋")
    assert list(rice.movements.order_by("pk").values_list("kind", "on_hand_delta")) == [
        ("in", 50), ("in", 20), ("write_off", -5), ("correction", -2)]
    cached, ledger = balances(rice)
    assert cached == ledger == (63, 0)
    with pytest.raises(ValidationError, match="原因"):
        services.stock_write_off(actor=town, resource=rice, quantity=1, reason=" ")
    with pytest.raises(ValidationError, match="63"):
        services.stock_write_off(actor=town, resource=rice, quantity=64, reason="过期")
    assert rice.movements.count() == 4


def test_quantities_are_not_edited_in_place(world, town):
    tents = stock(world)
    with pytest.raises(ValidationError, match="出入库"):
        services.resource_update(actor=town, resource=tents, on_hand=99)
    line = tents.movements.get()
    with pytest.raises(ValueError):
        line.save()
    with pytest.raises(ValueError):
        line.delete()


@pg_only
def test_the_ledger_refuses_update_and_delete_in_the_database(world):
    line = stock(world).movements.get()
    for statement in ("UPDATE resources_stockmovement SET on_hand_delta = 99 WHERE id = %s",
                      "DELETE FROM resources_stockmovement WHERE id = %s"):
        with pytest.raises(Exception, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement, [line.pk])
    assert StockMovement.objects.get(pk=line.pk).on_hand_delta == 10


# ---- priority


def test_an_emergency_is_matched_ahead_of_a_livelihood_need(world, town):
    tents = stock(world, quantity=10)
    livelihood = need(world, title="困难户冬季保暖帐篷", quantity=8, priority=2)
    emergency = need(world, title="洪灾受损户临时安置帐篷", quantity=6, priority=1)
    # The queue puts the emergency first although it was raised later …
    proposals = matching.plan([livelihood, emergency], [tents])
    assert [(p.need.pk, p.quantity) for p in proposals] == [(emergency.pk, 6), (livelihood.pk, 4)]
    # … and a reservation for the livelihood need may take only what the emergency leaves.
    [candidate] = services.candidates_for(town, livelihood)
    assert candidate.claimable == 4 and any("更优先" in why for _p, why in candidate.reasons)
    with pytest.raises(ValidationError, match="只有4"):
        services.reserve(actor=town, need=livelihood, resource=tents, quantity=5)
    services.reserve(actor=town, need=emergency, resource=tents)
    services.reserve(actor=town, need=livelihood, resource=tents)
    livelihood.refresh_from_db()
    emergency.refresh_from_db()
    assert (emergency.reserved_quantity, emergency.status) == (6, NeedStatus.RESERVED)
    assert (livelihood.reserved_quantity, livelihood.outstanding, livelihood.status) == (4, 4, NeedStatus.OPEN)


def test_when_the_emergency_has_its_share_a_livelihood_need_takes_the_rest(world, town):
    tents = stock(world, quantity=10)
    emergency = need(world, quantity=6, priority=1)
    services.reserve(actor=town, need=emergency, resource=tents)
    livelihood = need(world, title="困难户冬季保暖帐篷", quantity=8, priority=2)
    [candidate] = services.candidates_for(town, livelihood)
    assert candidate.available and candidate.claimable == 4


def test_an_emergency_reserve_serves_only_emergencies(world, town):
    reserve = stock(world, name="防汛应急储备帐篷", emergency_reserve=True)
    general = need(world, title="村活动室临时用帐篷", quantity=1, priority=3)
    [candidate] = services.candidates_for(town, general)
    assert not candidate.available and candidate.refusal == "应急储备只用于应急需求"
    with pytest.raises(ValidationError, match="应急储备"):
        services.reserve(actor=town, need=general, resource=reserve)
    assert not Allocation.objects.exists() and reserve.movements.count() == 1


def test_an_emergency_must_say_what_makes_it_urgent(world):
    with pytest.raises(ValidationError) as refused:
        need(world, priority=1, emergency_note="")
    assert "紧急情况" in refused.value.message_dict["emergency_note"][0]
    assert not Need.objects.exists()


def test_ranking_explains_place_coverage_and_readiness(world, town):
    near = stock(world, place="A1", by="village_secretary_a1", name="五一村集体仓库帐篷", quantity=2,
                 owner_name="五一村村委会", source="collective")
    pool = county_stock(world, quantity=100)
    emergency = need(world, quantity=6, priority=1)
    ranked = services.candidates_for(world.users["village_secretary_a1"], emergency)
    by_resource = {c.resource.pk: c for c in ranked}
    assert [why for _p, why in by_resource[near.pk].reasons][:1] == ["就在本村（社区）"]
    assert by_resource[near.pk].score == 30 + round(20 * 2 / 6) + 10 + 5
    assert by_resource[pool.pk].score == 12 + 20 + 10 + 5
    # What is in the village goes first (52 against 47); the pool then covers the rest.
    assert [c.resource.pk for c in ranked] == [near.pk, pool.pk]


# ---- the keeper rule and scope


def test_a_village_reads_the_county_pool_but_does_not_draw_on_it(world, village):
    pool = county_stock(world)
    n = need(world)
    assert Resource.objects.visible_to(village, "resources.view_resource").filter(pk=pool.pk).exists()
    with pytest.raises(ValidationError, match="县民政局"):
        services.reserve(actor=village, need=n, resource=pool)
    allocation = services.reserve(actor=world.users["department_handler"], need=n, resource=pool)
    assert allocation.quantity == 4


def test_another_towns_need_is_not_found(world):
    n = need(world)
    outsider = world.users["outsider_b"]
    tents_b = stock(world, by="outsider_b", place="B", owner_name="涧池镇应急办")
    with pytest.raises(Http404):
        services.reserve(actor=outsider, need=n, resource=tents_b)
    with pytest.raises(PermissionDenied):
        services.stock_receive(actor=world.users["three_line_a1"], resource=tents_b, quantity=1, reason="x")


# ---- dispatch and delivery


def test_reserve_dispatch_and_a_coded_confirmation_deliver_the_need(world, town):
    tents = stock(world)
    n = need(world, quantity=4)
    allocation = services.reserve(actor=town, need=n, resource=tents)
    delivery, code = services.dispatch(actor=town, allocation=allocation, carrier="镇应急队")
    assert len(code) == 6 and delivery.receipt_code_hash and code not in delivery.receipt_code_hash
    n.refresh_from_db()
    assert n.status == NeedStatus.DELIVERING
    grid = world.users["grid_worker_a1_1"]
    wrong = "000000" if code != "000000" else "111111"
    with pytest.raises(ValidationError, match="收货码"):
        services.confirm_delivery(actor=grid, delivery=delivery, received=4, recipient_name="李秀英", method="code",
                                  code=wrong)
    services.confirm_delivery(actor=grid, delivery=delivery, received=4, recipient_name="李秀英", method="code",
                              code=code)
    n.refresh_from_db()
    delivery.refresh_from_db()
    assert (n.status, n.delivered_quantity, delivery.status) == (NeedStatus.DELIVERED, 4, DeliveryStatus.CONFIRMED)
    cached, ledger = balances(tents)
    assert cached == ledger == (6, 0)
    assert [m.kind for m in tents.movements.order_by("pk")] == ["in", "reserve", "dispatch"]
    with pytest.raises(ValidationError, match="重复"):
        services.confirm_delivery(actor=grid, delivery=delivery, received=4, recipient_name="李秀英", method="signed")


def test_the_same_units_are_not_dispatched_twice(world, town):
    tents = stock(world)
    allocation = services.reserve(actor=town, need=need(world, quantity=4), resource=tents)
    services.dispatch(actor=town, allocation=allocation)
    with pytest.raises(ValidationError, match="不能重复发放"):
        services.dispatch(actor=town, allocation=allocation)
    assert Delivery.objects.count() == 1 and balances(tents)[0] == (6, 0)


def test_partial_delivery_returns_the_rest_and_leaves_the_need_open(world, town):
    tents = stock(world)
    n = need(world, quantity=5)
    delivery, _code = services.dispatch(actor=town, allocation=services.reserve(actor=town, need=n, resource=tents))
    services.confirm_delivery(actor=town, delivery=delivery, received=3, recipient_name="李秀英", method="signed")
    n.refresh_from_db()
    assert (n.delivered_quantity, n.outstanding, n.status) == (3, 2, NeedStatus.OPEN)
    cached, ledger = balances(tents)
    assert cached == ledger == (7, 0)  # 10 − 5 sent + 2 back
    # The rest can be sent again.
    delivery2, _ = services.dispatch(actor=town, allocation=services.reserve(actor=town, need=n, resource=tents))
    services.confirm_delivery(actor=town, delivery=delivery2, received=2, recipient_name="李秀英", method="phone")
    n.refresh_from_db()
    assert n.status == NeedStatus.DELIVERED


def test_a_loss_in_transit_is_recorded_not_returned(world, town):
    tents = stock(world)
    n = need(world, quantity=5)
    delivery, _ = services.dispatch(actor=town, allocation=services.reserve(actor=town, need=n, resource=tents))
    with pytest.raises(ValidationError, match="遗失"):
        services.confirm_delivery(actor=town, delivery=delivery, received=4, recipient_name="李秀英", method="signed",
                                  shortfall="lost")
    services.confirm_delivery(actor=town, delivery=delivery, received=4, recipient_name="李秀英", method="signed",
                              shortfall="lost", note="运输途中落水一顶")
    assert balances(tents)[0] == (5, 0)


def test_a_return_after_receipt_goes_back_to_stock_and_reopens_the_need(world, town):
    tents = stock(world)
    n = need(world, quantity=4)
    delivery, _ = services.dispatch(actor=town, allocation=services.reserve(actor=town, need=n, resource=tents))
    services.confirm_delivery(actor=town, delivery=delivery, received=4, recipient_name="李秀英", method="signed")
    with pytest.raises(ValidationError, match="4"):
        services.delivery_return(actor=town, delivery=delivery, quantity=5, reason="多发")
    services.delivery_return(actor=town, delivery=delivery, quantity=1, reason="亲属已送一顶，退回")
    n.refresh_from_db()
    assert (n.delivered_quantity, n.status) == (3, NeedStatus.OPEN)
    assert balances(tents)[0] == (7, 0)


def test_closing_a_need_releases_what_it_reserved(world, town):
    tents = stock(world)
    n = need(world, quantity=4)
    services.reserve(actor=town, need=n, resource=tents)
    services.need_close(actor=town, need=n, note="亲友已安置")
    n.refresh_from_db()
    assert (n.status, n.reserved_quantity) == (NeedStatus.CLOSED, 0)
    assert balances(tents)[0] == (10, 0)


def test_a_need_from_a_case_tells_the_case_and_its_delivery_too(world, town):
    from gongzhi.cases.catalogue import install_default_catalogue
    from gongzhi.cases.models import CaseCategory, TimeLimitDefault
    from gongzhi.intake.channel import intake_actor
    from gongzhi.intake.services import IntakeInput, intake_submit

    install_default_catalogue(CaseCategory, TimeLimitDefault)
    case = intake_submit(actor=intake_actor(territory=world.regions["A1"]), channel="web", scope="web",
                         data=IntakeInput(description="暴雨后房屋倒塌，一家四口无处安身", title="房屋被洪水冲毁",
                                          region=world.regions["A1"])).case
    tents = stock(world)
    n = services.need_raise(actor=world.users["village_secretary_a1"], title="受灾户临时安置帐篷", kind="material",
                            quantity=1, unit="顶", priority=1, emergency_note="房屋被洪水冲毁", source="case", case=case)
    assert n.place == world.regions["A1"]
    delivery, _ = services.dispatch(actor=town, allocation=services.reserve(actor=town, need=n, resource=tents))
    services.confirm_delivery(actor=town, delivery=delivery, received=1, recipient_name="李秀英", method="signed")
    kinds = list(CaseEvent.objects.filter(case=case, kind__startswith="dispatch_").values_list("kind", flat=True))
    assert sorted(kinds) == ["dispatch_delivered", "dispatch_need"]


def test_ledger_mismatches_finds_none_after_a_busy_day(world, town):
    tents = stock(world, quantity=30)
    for i in range(3):
        n = need(world, title=f"受灾户{i}帐篷", quantity=3 + i, priority=1 + i % 2)
        delivery, _ = services.dispatch(actor=town, allocation=services.reserve(actor=town, need=n, resource=tents))
        services.confirm_delivery(actor=town, delivery=delivery, received=2, recipient_name="户主", method="signed")
    assert selectors.ledger_mismatches() == []


# ---- at the same moment (PostgreSQL)


@pg_only
@pytest.mark.django_db(transaction=True)
def test_two_reservations_for_the_last_units_cannot_both_succeed():
    from tests.intake.conftest import race
    from tests.world import build_world

    world = build_world()
    tents = stock(world, quantity=4)
    needs = [need(world, title=f"受灾户{i}帐篷", quantity=4) for i in range(2)]
    town = world.users["town_secretary_a"]
    results, errors = race(2, lambda i: services.reserve(actor=town, need=Need(pk=needs[i].pk),
                                                         resource=Resource(pk=tents.pk)))
    assert len(errors) == 1 and isinstance(errors[0], ValidationError), errors
    assert balances(tents)[0] == (4, 4)
    assert Allocation.objects.count() == 1


@pg_only
@pytest.mark.django_db(transaction=True)
def test_two_dispatches_of_one_reservation_at_once_send_it_once():
    from tests.intake.conftest import race
    from tests.world import build_world

    world = build_world()
    town = world.users["town_secretary_a"]
    tents = stock(world, quantity=10)
    allocation = services.reserve(actor=town, need=need(world, quantity=4), resource=tents)
    results, errors = race(2, lambda i: services.dispatch(actor=town, allocation=Allocation(pk=allocation.pk)))
    assert len(errors) == 1 and "不能重复发放" in str(errors[0]), errors
    assert Delivery.objects.count() == 1
    cached, ledger = balances(tents)
    assert cached == ledger == (6, 0)
