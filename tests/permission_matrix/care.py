"""Permission cases for every URL of gongzhi.care (pages and API).

Objects are made lazily, once per world, through the care services (as the system user), so each
case reverses its URL against real rows of town A: outsider_b (town B's secretary) must get 404,
department_handler (no care permission at all) 403, anonymous the login page or 401/403.
"""
from __future__ import annotations

import datetime as dt

from django.utils import timezone

from . import Case

GW, VS, TL, CS, DEPT, OUT = ("grid_worker_a1_1", "village_secretary_a1", "three_line_a1", "county_secretary",
                             "department_handler", "outsider_b")


def _memo(world, name, make):
    if not hasattr(world, name):
        setattr(world, name, make())
    return getattr(world, name)


def _classified(world):
    def make():
        from gongzhi.care import services
        from gongzhi.registry import services as registry_services

        registry_services.person_update(actor=world.system, person=world.persons["A1-1-spouse"], left_behind="elderly")
        services.households_classify(actor=None, region=world.regions["C"])
        return True

    return _memo(world, "_care_classified", make)


def visit(world):
    from gongzhi.care.models import Visit

    _classified(world)
    return _memo(world, "_care_visit", lambda: Visit.objects.get(household=world.households["A1-1"],
                                                                 done_at__isnull=True))


def patrol(world):
    from gongzhi.care import services

    return _memo(world, "_care_patrol", lambda: services.patrol_start(actor=world.system, grid=world.grids["A1-1"]))


def change(world):
    from gongzhi.care import services

    return _memo(world, "_care_change", lambda: services.archive_change_record(
        actor=world.system, household=world.households["A1-1"], kind="disability",
        person=world.persons["A1-1-spouse"], payload={"grade": 2}))


def proposal(world):
    from gongzhi.care import services

    return _memo(world, "_care_proposal", lambda: services.assignment_proposal_create(
        actor=world.system, village=world.regions["A1"]))


def session(world):
    from gongzhi.care import services

    return _memo(world, "_care_session", lambda: services.reception_session_create(
        actor=world.system, region=world.regions["A1"]))


def assignment(world):
    from gongzhi.registry.models import ContactAssignment

    return ContactAssignment.objects.get(household=world.households["A1-1"], ended_on__isnull=True)


def hh(world):
    return {"pk": world.households["A1-1"].pk}


def village(world):
    return {"pk": world.regions["A1"].pk}


def classified_hh(world):
    _classified(world)
    return hh(world)


def classified_village(world):
    _classified(world)
    return village(world)


PAGE_VIEWERS = (GW, VS, TL, CS, OUT)

CASES = [
    Case("care:home", allowed=PAGE_VIEWERS, forbidden=(DEPT,)),
    Case("care:load", allowed=PAGE_VIEWERS, forbidden=(DEPT,)),
    Case("care:contact_new", allowed=(GW, VS, TL), forbidden=(DEPT, CS, "auditor")),
    Case("care:visit", kwargs=lambda w: {"pk": visit(w).pk}, allowed=(GW, VS, TL), forbidden=(DEPT, CS),
         out_of_scope=(OUT,)),
    Case("care:alerts", allowed=(GW, VS, TL, CS), forbidden=(DEPT,)),
    Case("care:patrol_new", allowed=(GW, VS), forbidden=(DEPT, TL)),
    Case("care:patrol", kwargs=lambda w: {"pk": patrol(w).pk}, allowed=(GW, VS, CS), forbidden=(DEPT, TL),
         out_of_scope=(OUT,)),
    Case("care:household", kwargs=classified_hh, allowed=(GW, VS, TL, CS), forbidden=(DEPT,), out_of_scope=(OUT,)),
    Case("care:override", kwargs=classified_hh, method="post", ok=(302,),
         data=lambda w: {"colour": "green", "reason": "村两委评议", "expires_on": str(timezone.localdate() + dt.timedelta(days=30))},
         allowed=(VS,), forbidden=(DEPT, GW, TL), out_of_scope=(OUT,)),
    Case("care:watch_event_new", kwargs=hh, method="post", ok=(302,),
         data=lambda w: {"kind": "illness", "occurred_on": str(timezone.localdate()), "amount": "1000"},
         allowed=(GW,), forbidden=(DEPT, TL), out_of_scope=(OUT,)),
    Case("care:change_new", kwargs=hh, allowed=(GW, VS), forbidden=(DEPT, TL), out_of_scope=(OUT,)),
    Case("care:village", kwargs=classified_village, allowed=(GW, VS, CS), forbidden=(DEPT,), out_of_scope=(OUT,)),
    Case("care:classes", kwargs=classified_village, allowed=(GW, VS, CS), forbidden=(DEPT,), out_of_scope=(OUT,)),
    Case("care:coverage", kwargs=village, allowed=(GW, VS, CS), forbidden=(DEPT,), out_of_scope=(OUT,)),
    Case("care:proposal_create", kwargs=village, method="post", ok=(302,), allowed=(VS,), forbidden=(DEPT, GW),
         out_of_scope=(OUT,)),
    Case("care:watch", kwargs=village, allowed=(GW, VS, CS), forbidden=(DEPT, TL), out_of_scope=(OUT,)),
    Case("care:changes", kwargs=village, allowed=(GW, VS, CS), forbidden=(DEPT, TL), out_of_scope=(OUT,)),
    Case("care:completion", kwargs=classified_village, allowed=(GW, VS, CS), forbidden=(DEPT,), out_of_scope=(OUT,)),
    Case("care:proposal", kwargs=lambda w: {"pk": proposal(w).pk}, allowed=(VS, GW), forbidden=(DEPT, TL),
         out_of_scope=(OUT,)),
    Case("care:assignment_end", kwargs=lambda w: {"pk": assignment(w).pk}, method="post", ok=(302,),
         data=lambda w: {"reason": "调整联系户"}, allowed=(VS,), forbidden=(DEPT, GW), out_of_scope=(OUT,)),
    Case("care:change_decide", kwargs=lambda w: {"pk": change(w).pk}, method="post", ok=(302,),
         data=lambda w: {"decision": "confirm"}, allowed=(VS,), forbidden=(DEPT, GW), out_of_scope=(OUT,)),
    Case("care:reception_list", allowed=(VS, GW, CS, OUT), forbidden=(DEPT, TL)),
    Case("care:reception", kwargs=lambda w: {"pk": session(w).pk}, allowed=(VS, GW, CS), forbidden=(DEPT, TL),
         out_of_scope=(OUT,)),
    Case("care:rules", allowed=(CS, VS, GW), forbidden=(DEPT, TL)),
    # API
    Case("care_api:class-list", api=True, allowed=(GW, VS, TL), forbidden=(DEPT,)),
    Case("care_api:class-detail", kwargs=classified_hh, api=True, allowed=(GW, VS, TL), forbidden=(DEPT,),
         out_of_scope=(OUT,)),
    Case("care_api:class-counts", kwargs=classified_village, api=True, allowed=(GW, VS), forbidden=(DEPT,),
         out_of_scope=(OUT,)),
    Case("care_api:watch-list", kwargs=village, api=True, allowed=(GW, VS), forbidden=(DEPT,), out_of_scope=(OUT,)),
    Case("care_api:coverage", kwargs=village, api=True, allowed=(GW, VS), forbidden=(DEPT,), out_of_scope=(OUT,)),
    Case("care_api:contacts", api=True, allowed=(GW, VS, TL), forbidden=(DEPT,)),
    Case("care_api:contacts", id="POST care_api:contacts", method="post", api=True, ok=(201,),
         data=lambda w: {"household": w.households["A1-1"].pk, "method": "phone", "heard": "一切都好"},
         allowed=(TL,), forbidden=(DEPT, CS), out_of_scope=(OUT,)),
    Case("care_api:visits-due", api=True, allowed=(GW, TL), forbidden=(DEPT, CS)),
    Case("care_api:visit-record", kwargs=lambda w: {"pk": visit(w).pk}, method="post", api=True,
         data=lambda w: {"note": "走访，老人身体好"}, allowed=(GW,), forbidden=(DEPT, CS), out_of_scope=(OUT,)),
    Case("care_api:changes", api=True, allowed=(GW, VS), forbidden=(DEPT, TL)),
    Case("care_api:change-decide", kwargs=lambda w: {"pk": change(w).pk}, method="post", api=True,
         data=lambda w: {"approve": True}, allowed=(VS,), forbidden=(DEPT, GW), out_of_scope=(OUT,)),
    Case("care_api:patrol-create", method="post", api=True, ok=(201,),
         data=lambda w: {"grid": w.grids["A1-1"].pk, "route_note": "一组"}, allowed=(GW,), forbidden=(DEPT, TL),
         out_of_scope=(OUT,)),
    Case("care_api:patrol-problem", kwargs=lambda w: {"pk": patrol(w).pk}, method="post", api=True, ok=(201,),
         data=lambda w: {"description": "路灯不亮", "make_case": False}, allowed=(GW,), forbidden=(DEPT, TL),
         out_of_scope=(OUT,)),
    Case("care_api:reception-tally", api=True, allowed=(VS, GW, CS), forbidden=(DEPT, TL)),
    Case("care_api:load", api=True, allowed=(GW, VS, TL), forbidden=(DEPT,)),
]
