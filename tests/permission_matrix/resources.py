"""Permission cases for every staff page of gongzhi.resources.

Rows of the world, made lazily through the services: town A's relief tents (kept by town A's
secretary), an emergency need in 五一村 (A1), a reservation and a delivery from the tents.
outsider_b (town B's secretary, a keeper over town B) gets 404; the three-line person, who holds
no resources permission, 403. The village reads its needs and deliveries but not the town's stock
page (a village reaches its own stock and the county's pool); the county reads everything and
raises needs, but keeps no stock.
"""
from __future__ import annotations

from . import Case

TS, VS, GW, CS, DEPT, TL, OUT, AUD = (
    "town_secretary_a", "village_secretary_a1", "grid_worker_a1_1", "county_secretary", "department_handler",
    "three_line_a1", "outsider_b", "auditor")
READERS = (TS, VS, GW, CS, DEPT, AUD, OUT)


def _memo(world, name, make):
    if not hasattr(world, name):
        setattr(world, name, make())
    return getattr(world, name)


def tents(world):
    from tests.resources.conftest import stock

    return _memo(world, "_res_tents", lambda: stock(world, quantity=20))


def emergency(world):
    from tests.resources.conftest import need

    return _memo(world, "_res_need", lambda: need(world, quantity=4, priority=1, recipient_name="李秀英"))


def allocation(world):
    from gongzhi.resources import services

    return _memo(world, "_res_allocation", lambda: services.reserve(
        actor=world.users[TS], need=emergency(world), resource=tents(world), quantity=2))


def delivery(world):
    from gongzhi.resources import services

    def make():
        a = services.reserve(actor=world.users[TS], need=emergency(world), resource=tents(world), quantity=2)
        return services.dispatch(actor=world.users[TS], allocation=a)[0]

    return _memo(world, "_res_delivery", make)


def confirmed(world):
    from gongzhi.resources import services

    return _memo(world, "_res_confirmed", lambda: services.confirm_delivery(
        actor=world.users[TS], delivery=delivery(world), received=2, recipient_name="李秀英", method="signed"))


def pk_of(make):
    return lambda world: {"pk": make(world).pk}


def action(make, name):
    return lambda world: {"pk": make(world).pk, "action": name}


CASES = [
    Case("resources:home", allowed=READERS, forbidden=(TL,)),
    Case("resources:map", allowed=READERS, forbidden=(TL,)),
    Case("resources:map_data", allowed=READERS, forbidden=(TL,)),
    Case("resources:inventory", allowed=READERS, forbidden=(TL,)),
    Case("resources:resource_new", allowed=(TS, VS, DEPT), forbidden=(TL, GW, CS, AUD)),
    Case("resources:resource_new", method="post", id="POST resources:resource_new", ok=(302,), allowed=(TS,),
         forbidden=(TL, GW, CS, AUD), data=lambda w: {
             "kind": "material", "name": "棉被", "quantity": "30", "unit": "床", "owner_name": "城关镇民政办",
             "place": w.regions["A"].pk, "source": "donation", "allocation": "direct"}),
    Case("resources:resource", kwargs=pk_of(tents), allowed=(TS, CS, AUD), out_of_scope=(VS, GW, DEPT, OUT),
         forbidden=(TL,)),
    Case("resources:resource_do", kwargs=action(tents, "move"), method="post", ok=(302,), allowed=(TS,),
         out_of_scope=(OUT, VS), forbidden=(TL, CS, AUD, GW),
         data=lambda w: {"action": "receive", "quantity": "5", "reason": "企业捐赠"}),
    Case("resources:needs", allowed=READERS, forbidden=(TL,)),
    Case("resources:need_new", allowed=(TS, VS, GW, CS), forbidden=(TL, AUD, DEPT)),
    Case("resources:queue_plan", method="post", ok=(302,), allowed=(TS, VS, DEPT), forbidden=(TL, GW, CS, AUD),
         data=lambda w: {"county": w.regions["C"].pk} if emergency(w) and tents(w) else {}),
    Case("resources:need", kwargs=pk_of(emergency), allowed=(TS, VS, GW, CS, DEPT, AUD), out_of_scope=(OUT,),
         forbidden=(TL,)),
    # The village may reserve for its need, but not from the town's stock, which it cannot see.
    Case("resources:need_do", kwargs=action(emergency, "reserve"), method="post", ok=(302,), allowed=(TS,),
         out_of_scope=(OUT, VS), forbidden=(TL, GW, CS, AUD), data=lambda w: {"resource": tents(w).pk, "quantity": "1"}),
    Case("resources:need_do", kwargs=action(emergency, "close"), method="post", ok=(302,), allowed=(TS,),
         id="POST resources:need_do close", out_of_scope=(OUT,), forbidden=(TL, GW, CS, AUD, DEPT),
         data=lambda w: {"note": "已由亲属安置"}),
    Case("resources:allocation_do", kwargs=action(allocation, "dispatch"), method="post", ok=(302,), allowed=(TS,),
         out_of_scope=(OUT,), forbidden=(TL, GW, CS, AUD), data=lambda w: {"quantity": "1"}),
    Case("resources:allocation_do", kwargs=action(allocation, "release"), method="post", ok=(302,), allowed=(TS,),
         id="POST resources:allocation_do release", out_of_scope=(OUT,), forbidden=(TL, GW, CS, AUD),
         data=lambda w: {"reason": "改由县储备调拨"}),
    Case("resources:deliveries", allowed=READERS, forbidden=(TL,)),
    Case("resources:delivery", kwargs=pk_of(delivery), allowed=(TS, VS, GW, CS, AUD), out_of_scope=(OUT, DEPT),
         forbidden=(TL,)),
    Case("resources:delivery_do", kwargs=action(delivery, "confirm"), method="post", ok=(302,), allowed=(GW,),
         out_of_scope=(OUT,), forbidden=(TL, CS, AUD),
         data=lambda w: {"received": "2", "recipient_name": "李秀英", "method": "signed", "shortfall": "returned"}),
    Case("resources:delivery_do", kwargs=action(confirmed, "return"), method="post", ok=(302,), allowed=(VS,),
         id="POST resources:delivery_do return", out_of_scope=(OUT,), forbidden=(TL, CS, AUD),
         data=lambda w: {"quantity": "1", "reason": "亲属已送一顶"}),
]
