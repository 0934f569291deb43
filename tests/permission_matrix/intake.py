"""Permission cases for every URL of gongzhi.intake: the residents' page and Open311 (public by
design), the staff intake pages and the intake API.

Objects are made lazily, once per world, through the real services (as the system user, or the
public channel for the Open311 token): two open cases in grid A1-1 of town A. outsider_b (town B's
secretary, who dispatches in town B) must get 404 for them; department_handler (no add/dispatch
permission) 403.
"""
from __future__ import annotations

from . import Case

GW, VS, TS, TL, CS, DEPT, OUT, AUD = ("grid_worker_a1_1", "village_secretary_a1", "town_secretary_a",
                                      "three_line_a1", "county_secretary", "department_handler", "outsider_b",
                                      "auditor")


def _memo(world, name, make):
    if not hasattr(world, name):
        setattr(world, name, make())
    return getattr(world, name)


def _case(world, name="_intake_case"):
    def make():
        from gongzhi.cases import services
        from gongzhi.cases.catalogue import install_default_catalogue
        from gongzhi.cases.models import CaseCategory, TimeLimitDefault

        install_default_catalogue(CaseCategory, TimeLimitDefault)
        return services.case_register(
            actor=world.system, category=CaseCategory.objects.get(county__isnull=True, code="demand-small-matter"),
            title="村口路灯不亮", description="五一村一组村口路灯不亮", channel="hotline", grid=world.grids["A1-1"])

    return _memo(world, name, make)


def case(world):
    return {"pk": _case(world).pk}


def duplicate(world):
    _case(world)
    return {"pk": _case(world, "_intake_duplicate").pk}


def tracking(world):
    return {"code": _case(world).tracking_code}


def token(world):
    def make():
        from gongzhi.intake import services
        from gongzhi.intake.channel import intake_actor

        _case(world)
        result = services.intake_submit(actor=intake_actor(territory=world.regions["A1"]), channel="open311", scope="open311:anon",
                                        data=services.IntakeInput(description="路灯", region=world.regions["A1"]),
                                        answer=lambda c, sub: {"token": sub.token})
        return result.response["token"]

    return {"token": _memo(world, "_intake_token", make)}


def request_id(world):
    return {"request_id": _case(world).number, "fmt": "json"}


def api_body(world):
    return {"channel": "hotline", "description": "权限矩阵测试", "village": world.regions["A1"].pk,
            "grid": world.grids["A1-1"].pk}


ANYONE = (GW, OUT, DEPT)
CASES = [
    # the residents' page: public by design
    Case("resident:form", public=True, allowed=ANYONE),
    Case("resident:lookup", public=True, allowed=ANYONE),
    Case("resident:track", kwargs=tracking, public=True, allowed=ANYONE),
    Case("resident:feedback", kwargs=tracking, method="post", data=lambda w: {"satisfaction": "satisfied"},
         public=True, allowed=ANYONE, ok=(400,)),  # reachable; the case is not waiting for an answer
    Case("resident:grids", kwargs=lambda w: {"village": w.regions["A1"].pk}, public=True, allowed=ANYONE),
    Case("resident:ping", public=True, allowed=ANYONE),
    # Open311: public by design
    Case("open311:discovery", kwargs=lambda w: {"fmt": "json"}, public=True, allowed=ANYONE),
    Case("open311:services", kwargs=lambda w: {"fmt": "xml"}, public=True, allowed=ANYONE),
    Case("open311:service", kwargs=lambda w: {"code": "demand-small-matter", "fmt": "json"}, public=True,
         allowed=ANYONE),
    Case("open311:requests", kwargs=lambda w: {"fmt": "json"}, public=True, allowed=ANYONE),
    Case("open311:request", kwargs=request_id, public=True, allowed=ANYONE),
    Case("open311:token", kwargs=lambda w: {**token(w), "fmt": "json"}, public=True, allowed=ANYONE),
    Case("open311:not_found", kwargs=lambda w: {"rest": "nothing.json"}, public=True, allowed=ANYONE, ok=(404,)),
    # staff pages
    Case("intake:new", allowed=(GW, VS, TS, CS, TL, OUT), forbidden=(DEPT, AUD)),
    Case("intake:people", query="q=13812345678", allowed=(GW, VS, TS, CS, OUT), forbidden=(DEPT, AUD)),
    Case("intake:case", kwargs=case, allowed=(GW, VS, TS, CS, AUD), out_of_scope=(OUT, DEPT, TL)),
    Case("intake:merge", kwargs=duplicate, method="post", data=lambda w: {"primary": _case(w).pk}, ok=(302,),
         allowed=(TS,), forbidden=(GW, DEPT, CS, AUD, TL), out_of_scope=(OUT,)),
    Case("intake:queue", allowed=(VS, TS, OUT), forbidden=(GW, DEPT, CS, AUD, TL)),
    Case("intake:clusters", allowed=(GW, VS, TS, CS, DEPT, AUD, TL, OUT)),
    Case("intake:contact_records", allowed=(GW, VS, TL), forbidden=(DEPT, CS, AUD)),
    # API
    Case("intake_api:case-create", api=True, method="post", data=api_body, ok=(201,), allowed=(VS, TS),
         forbidden=(DEPT, AUD)),
    Case("intake_api:case-duplicates", kwargs=case, api=True, allowed=(VS, TS), forbidden=(GW, DEPT, CS, AUD),
         out_of_scope=(OUT,)),
    Case("intake_api:case-merge", kwargs=duplicate, api=True, method="post", data=lambda w: {"primary": _case(w).pk},
         ok=(200, 400), allowed=(TS,), forbidden=(GW, DEPT, CS, AUD), out_of_scope=(OUT,)),
    Case("intake_api:clusters", api=True, allowed=(GW, VS, TS, CS, DEPT, AUD, TL, OUT)),
]
