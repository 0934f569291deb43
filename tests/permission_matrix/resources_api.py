"""Permission cases for every URL of the resources and dispatch API (gongzhi/resources/api_urls.py).

Rows are made lazily through the resources services, once per world (``_memo``): stock of village
A1 kept by its secretary, the county's pool kept by 县民政局 (a department grant), needs of A1, a
reservation of the village's stock, deliveries under way and confirmed. A case whose allowed
personas change a row's state reads it through ``_unused`` (a fresh one once an earlier request
has used it), so that each allowed persona can take the step.

The roles' resources permissions are ``gongzhi.accounts.roles.RESOURCES_PERMS``:
* the village secretary (over A1) and the town secretary (over town A) keep A1's stock: they
  move it, reserve, dispatch, release, confirm, close needs;
* the county secretary reads everything and raises needs; the auditor reads everything; neither
  keeps stock (403 on the keepers' steps);
* the grid worker reads the village's resources and needs (not the ledger: 403), raises needs and
  records a recipient's confirmation;
* 县民政局's handler keeps the department's own stock only: A1's stock and what hangs off it are
  404 to them; they read the county's needs and draw on the pool for them;
* the three-line party member and the pairing liaison hold no resources permission (403); town
  B's secretary holds the keepers' permissions over town B (404 on A1's rows; their own lists are
  empty, and the county's queue is theirs to run too).
"""
from __future__ import annotations

from tests.permission_matrix import Case

VS, TS, CS, GW, DEPT, OUT, AUD, TL, AL = (
    "village_secretary_a1", "town_secretary_a", "county_secretary", "grid_worker_a1_1", "department_handler",
    "outsider_b", "auditor", "three_line_a1", "agency_liaison")
NONE = (TL, AL)  # no resources permission at all
READERS = (VS, TS, CS, GW, DEPT, AUD)  # read A1's needs (the department: the county's)
LIST_READERS = (*READERS, OUT)  # lists in the caller's own scope: town B sees its own
STOCK_READERS = (VS, TS, CS, GW, AUD)  # A1's stock (not a department's)
KEEPERS = (VS, TS)  # keep A1's stock
NOT_KEEPERS = (CS, AUD, GW, *NONE)  # hold no keeper permission at all
A1_OUT = (OUT, DEPT)  # hold it, but not over A1's stock

API = "resources_api:"


def _services():
    from gongzhi.resources import services

    return services


def _memo(world, name, make):
    if not hasattr(world, name):
        setattr(world, name, make())
    return getattr(world, name)


def _unused(world, name, make, used):
    obj = getattr(world, name, None)
    if obj is None or used(type(obj).objects.get(pk=obj.pk)):
        obj = make()
        setattr(world, name, obj)
    return obj


def _pk(getter):
    return lambda w: {"pk": getter(w).pk}


def _fresh(name, make, used):
    return lambda w: {"pk": _unused(w, name, lambda: make(w), used).pk}


def village_stock(world):
    """Tents in 五一村's collective store, kept by the village (and the town above it)."""
    return _memo(world, "_rapi_village_stock", lambda: _services().resource_register(
        actor=world.users[VS], kind="material", name="五一村集体仓库帐篷", unit="顶", owner_name="五一村村委会",
        place=world.regions["A1"], source="collective", allocation="direct", quantity=1000))


def county_pool(world):
    """Relief stores of the county's pool, kept by 县民政局."""
    return _memo(world, "_rapi_pool", lambda: _services().resource_register(
        actor=world.users[DEPT], kind="material", name="县救灾物资储备库帐篷", unit="顶",
        owner_name="县民政局救灾物资储备库", owner_department=world.department, place=world.regions["C"],
        source="budget", allocation="direct", quantity=1000))


def _need(world, quantity=50, title="受灾户临时安置帐篷"):
    return _services().need_raise(actor=world.users[VS], title=title, kind="material", quantity=quantity, unit="顶",
                                  priority=2, place=world.regions["A1"])


def need(world):
    return _memo(world, "_rapi_need", lambda: _need(world))


def allocation(world):
    """Ten of the village's tents reserved for a need of A1 (released or sent one at a time)."""
    village_stock(world)
    return _memo(world, "_rapi_allocation", lambda: _services().reserve(
        actor=world.users[TS], need=_need(world, title="困难户冬季保暖帐篷"), resource=village_stock(world), quantity=10))


def _delivery(world, quantity=2):
    s = _services()
    reserved = s.reserve(actor=world.users[TS], need=_need(world, quantity=quantity), resource=village_stock(world))
    delivery, _code = s.dispatch(actor=world.users[TS], allocation=reserved, carrier="镇应急队")
    return delivery


def confirmed_delivery(world):
    def make():
        delivery = _delivery(world, quantity=10)
        return _services().confirm_delivery(actor=world.users[TS], delivery=delivery, received=10,
                                            recipient_name="李秀英", method="signed")
    return _memo(world, "_rapi_confirmed", make)


def _new_resource(place, **extra):
    return lambda w: {"kind": "material", "name": "折叠床", "unit": "张", "owner_name": "五一村村委会",
                      "place": w.regions[place].pk, "source": "donation", "allocation": "direct", "quantity": 20,
                      **{k: (v(w) if callable(v) else v) for k, v in extra.items()}}


CASES = [
    Case(API + "overview", api=True, allowed=LIST_READERS, forbidden=NONE),
    # the inventory and its ledger
    Case(API + "inventory", api=True, allowed=LIST_READERS, forbidden=NONE),
    Case(API + "inventory", id="POST resources_api:inventory", method="post", api=True, ok=(201,),
         data=_new_resource("A1"), allowed=KEEPERS, forbidden=NOT_KEEPERS, out_of_scope=A1_OUT),
    # A department's own stock, in the county's pool: the department keeps it, no territory does.
    Case(API + "inventory", id="POST resources_api:inventory (a department's stock)", method="post", api=True,
         ok=(201,), data=_new_resource("C", owner_name="县民政局", owner_department=lambda w: w.department.pk),
         allowed=(DEPT,), forbidden=NOT_KEEPERS, out_of_scope=(VS, TS, OUT)),
    Case(API + "resource-detail", kwargs=_pk(village_stock), api=True, allowed=STOCK_READERS, forbidden=NONE,
         out_of_scope=A1_OUT),
    Case(API + "resource-detail", id="PATCH resources_api:resource-detail", kwargs=_pk(village_stock),
         method="patch", api=True, data=lambda w: {"conditions": "凭村委会调拨单领用"}, allowed=KEEPERS,
         forbidden=NOT_KEEPERS, out_of_scope=A1_OUT),
    # The ledger: for those who read stock movements (not the grid worker).
    Case(API + "resource-ledger", kwargs=_pk(village_stock), api=True, allowed=(VS, TS, CS, AUD),
         forbidden=(GW, *NONE), out_of_scope=A1_OUT),
    Case(API + "resource-movements", kwargs=_pk(village_stock), method="post", api=True, ok=(201,),
         data=lambda w: {"kind": "receive", "quantity": 5, "reason": "某企业捐赠"}, allowed=KEEPERS,
         forbidden=NOT_KEEPERS, out_of_scope=A1_OUT),
    # needs
    Case(API + "needs", api=True, allowed=LIST_READERS, forbidden=NONE),
    Case(API + "needs", id="POST resources_api:needs", method="post", api=True, ok=(201,),
         data=lambda w: {"title": "独居老人冬季取暖", "kind": "material", "quantity": 2, "unit": "床", "priority": 2,
                         "place": w.regions["A1"].pk},
         allowed=(VS, TS, CS, GW), forbidden=(AUD, DEPT, *NONE), out_of_scope=(OUT,)),
    Case(API + "need-detail", kwargs=_pk(need), api=True, allowed=READERS, forbidden=NONE, out_of_scope=(OUT,)),
    Case(API + "need-candidates", kwargs=_pk(need), api=True, allowed=READERS, forbidden=NONE,
         out_of_scope=(OUT,)),
    Case(API + "need-reserve", kwargs=_pk(need), method="post", api=True, ok=(201,),
         data=lambda w: {"resource": village_stock(w).pk, "quantity": 1}, allowed=KEEPERS,
         forbidden=(CS, AUD, GW, *NONE), out_of_scope=(OUT,)),
    # The county's pool: 县民政局 draws on it for the county's needs.
    Case(API + "need-reserve", id="POST resources_api:need-reserve (county pool)", kwargs=_pk(need), method="post",
         api=True, ok=(201,), data=lambda w: {"resource": county_pool(w).pk, "quantity": 1}, allowed=(DEPT,),
         forbidden=(CS, AUD, GW, *NONE), out_of_scope=(OUT,)),
    Case(API + "need-close", kwargs=_fresh("_rapi_to_close", _need, lambda n: not n.is_open), method="post",
         api=True, data=lambda w: {"note": "亲友已安置"}, allowed=KEEPERS, forbidden=(CS, AUD, GW, DEPT, *NONE),
         out_of_scope=(OUT,)),
    # Each keeper runs the queue over what they keep in the county (town B: nothing to reserve).
    Case(API + "queue-reserve", method="post", api=True, data=lambda w: {"kind": "material"},
         allowed=(VS, TS, DEPT, OUT), forbidden=(CS, AUD, GW, *NONE)),
    # reservation → dispatch → delivery
    Case(API + "allocation-release", kwargs=_pk(allocation), method="post", api=True,
         data=lambda w: {"reason": "需求核减", "quantity": 1}, allowed=KEEPERS, forbidden=NOT_KEEPERS,
         out_of_scope=A1_OUT),
    Case(API + "allocation-dispatch", kwargs=_pk(allocation), method="post", api=True, ok=(201,),
         data=lambda w: {"quantity": 1, "carrier": "村应急队"}, allowed=KEEPERS, forbidden=NOT_KEEPERS,
         out_of_scope=A1_OUT),
    Case(API + "delivery-confirm", kwargs=_fresh("_rapi_to_confirm", _delivery, lambda d: d.status != "under_way"),
         method="post", api=True, data=lambda w: {"received": 2, "recipient_name": "李秀英", "method": "signed"},
         allowed=(VS, TS, GW), forbidden=(CS, AUD, DEPT, *NONE), out_of_scope=(OUT,)),
    Case(API + "delivery-return", kwargs=_pk(confirmed_delivery), method="post", api=True,
         data=lambda w: {"quantity": 1, "reason": "亲属已送一顶，退回"}, allowed=(VS, TS, GW),
         forbidden=(CS, AUD, DEPT, *NONE), out_of_scope=(OUT,)),
]
