"""Permission cases for every staff page of gongzhi.assessment.

Rows of the world, made lazily (once per world) through gongzhi.assessment.services: thirty
generated cases received in the last complete quarter and the county's scoring weights; then a
draft bulletin of town A (城关镇), a proposal about 五一村 (A1), a fault-tolerance application in
A1 and an after-the-fact explanation on an A1 case (both by A1's secretary), a demand added by the
county, a hidden-burden flag of town A and an index formula.

outsider_b (town B's secretary, who holds the town's assessment permissions over town B), and the
department or the village where their scope stops short of the row, get 404; whoever holds the
permission nowhere gets 403 (the three-line person holds no assessment permission at all). County
settings (weights, formulas, the negative list, demands) are read by the whole county, so on them
there is no 404: a town or village that may read them but not set them gets 403 when it tries to.
"""
from __future__ import annotations

from . import Case

CS, TS, VS, GW, DEPT, TL, OUT, AUD = (
    "county_secretary", "town_secretary_a", "village_secretary_a1", "grid_worker_a1_1", "department_handler",
    "three_line_a1", "outsider_b", "auditor")
EVERYONE = (CS, TS, VS, GW, DEPT, TL, OUT, AUD)
RESULTS = (CS, TS, VS, DEPT, OUT, AUD)  # assessment.view_casescore: the results pages
ALL_FOUR = ("public_good", "no_private_gain", "while_working", "unintended")


def _memo(world, name, make):
    if not hasattr(world, name):
        setattr(world, name, make())
    return getattr(world, name)


def _but(*allowed):
    return tuple(p for p in EVERYONE if p not in allowed)


def period(world):
    """The last complete quarter, with cases received in it and the county's weights set."""
    def make():
        from django.utils import timezone

        from gongzhi.assessment import services
        from gongzhi.assessment.indicators import Period
        from gongzhi.assessment.scoring import DEFAULT_WEIGHTS
        from gongzhi.cases.demo import generate_cases
        from tests.assessment.conftest import in_period

        quarter = Period.last_complete()
        start, end = in_period(quarter)
        generate_cases(world.regions["C"], 30, seed=14, start=start, end=end, now=timezone.now(), with_events=False)
        services.scoring_weights_set(actor=world.users[CS], county=world.regions["C"], weights=DEFAULT_WEIGHTS,
                                     note="县委常委会议定")
        return quarter

    return _memo(world, "_as_period", make)


def a1_cases(world):
    """Two accepted cases of 五一村 (A1) of the period, oldest first."""
    from gongzhi.cases.models import Case as Matter

    period(world)
    return list(Matter.objects.filter(village=world.regions["A1"], accepted_at__isnull=False)
                .exclude(number="").order_by("pk")[:2])


def town_bulletin(world):
    from gongzhi.assessment import services

    return _memo(world, "_as_town_bulletin", lambda: services.bulletin_generate(
        actor=world.users[TS], scope_kind="town", region=world.regions["A"], period=period(world)))


def issued_bulletin(world):
    from gongzhi.assessment import services

    return _memo(world, "_as_issued_bulletin", lambda: services.bulletin_issue(
        actor=world.users[TS], bulletin=town_bulletin(world)))


def a1_proposal(world):
    """A proposal about 五一村, as the county proposes it from the quarter's figures."""
    def make():
        from gongzhi.assessment import services
        from gongzhi.assessment.models import Proposal

        services.proposals_generate(actor=world.users[CS], county=world.regions["C"], period=period(world))
        found = Proposal.objects.filter(subject_kind="village", region=world.regions["A1"]).order_by("pk").first()
        assert found is not None, "the generated quarter told 五一村 apart from no one: no proposal about it"
        return found

    return _memo(world, "_as_proposal", make)


def a1_tolerance(world):
    from gongzhi.assessment import services

    return _memo(world, "_as_tolerance", lambda: services.fault_tolerance_apply(
        actor=world.users[VS], region=world.regions["A1"], matter="暴雨夜抢修水管时误挖断了通信光缆",
        conditions={c: {"held": True, "evidence": "抢修记录和现场照片"} for c in ALL_FOUR}))


def a1_exemption(world):
    from gongzhi.assessment import services

    return _memo(world, "_as_exemption", lambda: services.exemption_file(
        actor=world.users[VS], case=a1_cases(world)[0], ground="emergency",
        explanation="暴雨夜间先行转移群众，事后补办受理手续"))


def county_demand(world):
    from gongzhi.assessment import services

    return _memo(world, "_as_demand", lambda: services.demand_add(
        actor=world.users[CS], county=world.regions["C"], code="weekly-log", name="每周工作日志", role="grid_worker",
        kind="report", feeds="contacts_made", fields=6, per_week="1"))


def town_flag(world):
    from gongzhi.assessment import services

    return _memo(world, "_as_flag", lambda: services.burden_flag_raise(
        actor=world.users[TS], town=world.regions["A"], kind="records",
        description="县某部门要求每次走访上传照片五张以上，每周汇总上报"))


def formula(world):
    from gongzhi.assessment import services

    return _memo(world, "_as_formula", lambda: services.index_formula_set(
        actor=world.users[CS], county=world.regions["C"], kind="rural",
        terms=[{"factor": "distance_km", "weight": 0.6, "direction": -1},
               {"factor": "elderly", "weight": 0.4, "direction": -1}], note="山区村距离权重调高"))


def seeded(world):
    """No URL arguments, but the quarter's records made first (the page then has figures)."""
    period(world)
    return {}


def pk_of(make):
    return lambda world: {"pk": make(world).pk}


def records_of(code, kind, region_key):
    return lambda world: {"code": code, "kind": kind, "subject_id": world.regions[region_key].pk,
                          "period": period(world).code}


def decide(world, decision="accept"):
    return {"decision": decision, "note": "经核实，情况属实"}


CASES = [
    # ---- results -------------------------------------------------------------------------------
    # A unit without a region grant (the auditor everywhere, a department) reads its county's page.
    Case("assessment:home", allowed=RESULTS, forbidden=(GW, TL), kwargs=seeded),
    Case("assessment:catalogue", allowed=_but(TL), forbidden=(TL,)),
    # The list behind a number of 五一村: town B's secretary, the department (which reads no
    # territory) and the three-line person (who reads cases of one household) are out of scope.
    Case("assessment:records", kwargs=records_of("case_accepted", "village", "A1"), query="part=num",
         allowed=(CS, TS, VS, GW, AUD), out_of_scope=(OUT, DEPT, TL)),
    Case("assessment:records", kwargs=records_of("contacts_made", "village", "A1"),
         id="GET assessment:records contacts_made", allowed=(CS, TS, VS, GW, AUD), out_of_scope=(OUT, TL),
         forbidden=(DEPT,)),
    Case("assessment:records", kwargs=records_of("case_accepted", "town", "A"), query="part=den",
         id="GET assessment:records town A", allowed=(CS, TS, AUD), out_of_scope=(OUT, VS, GW, DEPT, TL)),

    # ---- case scoring: the county sets the weights -------------------------------------------------
    Case("assessment:scores", allowed=RESULTS, forbidden=(GW, TL), kwargs=seeded),
    Case("assessment:scores", method="post", id="POST assessment:scores", ok=(302,), allowed=(CS,),
         forbidden=_but(CS), data=lambda w: {"on_time": "30", "satisfaction": "30", "no_rework": "20",
                                             "no_escalation": "10", "instruction": "10", "note": "按季度调整"}),

    # ---- the burden meter ------------------------------------------------------------------------
    Case("assessment:burden", allowed=(CS, TS, VS, GW, OUT, AUD), forbidden=(DEPT, TL)),
    Case("assessment:burden", method="post", id="POST assessment:burden", ok=(302,), allowed=(CS,),
         forbidden=_but(CS), data=lambda w: {
             "code": "visit-photos", "name": "走访须附照片", "role": "grid_worker", "kind": "photo", "fields": "0",
             "photos": "3", "per_week": "2", "feeds": "red_visits_kept"}),
    Case("assessment:demand_retire", kwargs=pk_of(county_demand), method="post", ok=(302,), allowed=(CS,),
         forbidden=_but(CS), data=lambda w: {"note": "与走访记录重复"}),
    Case("assessment:flag_new", allowed=(TS, OUT), forbidden=_but(TS, OUT)),
    Case("assessment:flag_new", method="post", id="POST assessment:flag_new", ok=(302,), allowed=(TS,),
         forbidden=_but(TS, OUT), data=lambda w: {"kind": "pledge", "description": "要求各村签订信访零上访责任书"}),
    Case("assessment:flag_decide", kwargs=pk_of(town_flag), method="post", ok=(302,), allowed=(CS,),
         forbidden=_but(CS), data=decide),

    # ---- negative list and after-the-fact explanations --------------------------------------------
    Case("assessment:negative", allowed=(CS, TS, VS, GW, OUT, AUD), forbidden=(DEPT, TL)),
    Case("assessment:negative", method="post", id="POST assessment:negative", ok=(302,), allowed=(CS,),
         forbidden=_but(CS), data=lambda w: {"kind": "no_count", "text": "志愿服务时长不计入考核",
                                             "indicator": "volunteer_hours"}),
    Case("assessment:exemptions", allowed=RESULTS, forbidden=(GW, TL)),
    Case("assessment:exemption_new", allowed=(CS, TS, VS, DEPT, OUT), forbidden=(GW, TL, AUD)),
    Case("assessment:exemption_new", method="post", id="POST assessment:exemption_new", ok=(302,), allowed=(VS,),
         forbidden=(GW, TL, AUD), data=lambda w: {"case_number": a1_cases(w)[1].number, "ground": "livelihood",
                                                  "explanation": "困难户断粮，先行送粮后补办手续"}),
    # Town A decides (and the county, once decided, is told so); town B's secretary never sees it.
    Case("assessment:exemption_decide", kwargs=pk_of(a1_exemption), method="post", ok=(302,), allowed=(TS, CS),
         out_of_scope=(OUT,), forbidden=(VS, GW, DEPT, TL, AUD), data=decide),

    # ---- differentiated indices --------------------------------------------------------------------
    Case("assessment:indices", allowed=RESULTS, forbidden=(GW, TL), kwargs=seeded),
    Case("assessment:indices", method="post", id="POST assessment:indices", ok=(302,), allowed=(CS,),
         forbidden=_but(CS), data=lambda w: {"kind": "urban", "terms": "density:0.5:1\npopulation:0.5:1",
                                             "note": "城区人口密度为主"}),
    # Only the county reviews, and never its own version: told so, nothing changes.
    # The auditor reviews the county's formulas (a second pair of eyes); the setter cannot (302 + refusal).
    Case("assessment:formula_review", kwargs=pk_of(formula), method="post", ok=(302,), allowed=(CS, AUD),
         forbidden=_but(CS, AUD)),

    # ---- incentives and prodding -------------------------------------------------------------------
    Case("assessment:proposals", allowed=RESULTS, forbidden=(GW, TL), kwargs=seeded),
    Case("assessment:proposals", method="post", id="POST assessment:proposals", ok=(302,), allowed=(CS,),
         forbidden=_but(CS), data=lambda w: {"period": period(w).code}),
    Case("assessment:proposal", kwargs=pk_of(a1_proposal), allowed=(CS, TS, VS, AUD), out_of_scope=(OUT, DEPT),
         forbidden=(GW, TL)),
    # A village's proposal is its town's to decide: the village reads it but may not decide it.
    Case("assessment:proposal", kwargs=pk_of(a1_proposal), method="post", id="POST assessment:proposal",
         ok=(302,), allowed=(TS,), out_of_scope=(OUT, DEPT), forbidden=(VS, GW, TL, AUD), data=decide),

    # ---- fault tolerance ---------------------------------------------------------------------------
    Case("assessment:tolerance_list", allowed=(CS, TS, VS, GW, OUT, AUD), forbidden=(DEPT, TL)),
    Case("assessment:tolerance_new", allowed=(CS, TS, VS, GW, OUT), forbidden=(TL, AUD, DEPT)),
    Case("assessment:tolerance_new", method="post", id="POST assessment:tolerance_new", ok=(302,), allowed=(VS, GW),
         forbidden=(TL, AUD), data=lambda w: {
             "region": w.regions["A1"].pk, "case_number": "", "matter": "组织村民清淤时误拆了邻村的引水渠",
             **{c: "on" for c in ALL_FOUR}, **{f"{c}_evidence": "村民代表会议记录" for c in ALL_FOUR}}),
    # An application in 五一村: read by the village's grid worker too; decided by the town.
    Case("assessment:tolerance", kwargs=pk_of(a1_tolerance), allowed=(CS, TS, VS, GW, AUD), out_of_scope=(OUT,),
         forbidden=(DEPT, TL)),
    Case("assessment:tolerance", kwargs=pk_of(a1_tolerance), method="post", id="POST assessment:tolerance",
         ok=(302,), allowed=(TS,), out_of_scope=(OUT,), forbidden=(VS, GW, DEPT, TL, AUD), data=decide),

    # ---- bulletins ---------------------------------------------------------------------------------
    Case("assessment:bulletins", allowed=RESULTS, forbidden=(GW, TL)),
    Case("assessment:bulletins", method="post", id="POST assessment:bulletins", ok=(302,), allowed=(TS,),
         forbidden=(VS, GW, DEPT, TL, AUD), data=lambda w: {"scope": f"town:{w.regions['A'].pk}",
                                                            "period": period(w).code}),
    # Town A's bulletin: not a village's, not town B's, not the department's (it has its own).
    Case("assessment:bulletin", kwargs=pk_of(town_bulletin), allowed=(CS, TS, AUD), out_of_scope=(OUT, VS, DEPT),
         forbidden=(GW, TL)),
    Case("assessment:bulletin_file", kwargs=lambda w: {"pk": town_bulletin(w).pk, "fmt": "pdf"},
         allowed=(CS, TS, AUD), out_of_scope=(OUT, VS, DEPT), forbidden=(GW, TL)),
    Case("assessment:bulletin_file", kwargs=lambda w: {"pk": town_bulletin(w).pk, "fmt": "xlsx"},
         id="GET assessment:bulletin_file xlsx", allowed=(CS, TS, AUD), out_of_scope=(OUT, VS, DEPT),
         forbidden=(GW, TL)),
    # Issued by town A (the county, coming second, is told it is already issued).
    Case("assessment:bulletin_do", kwargs=lambda w: {"pk": town_bulletin(w).pk, "action": "issue"}, method="post",
         ok=(302,), allowed=(TS, CS), out_of_scope=(OUT, VS, DEPT), forbidden=(GW, TL, AUD)),
    Case("assessment:bulletin_do", kwargs=lambda w: {"pk": town_bulletin(w).pk, "action": "regenerate"},
         method="post", id="POST assessment:bulletin_do regenerate", ok=(302,), allowed=(TS,),
         out_of_scope=(OUT, VS, DEPT), forbidden=(GW, TL, AUD)),
    Case("assessment:bulletin_do", kwargs=lambda w: {"pk": issued_bulletin(w).pk, "action": "correct"},
         method="post", id="POST assessment:bulletin_do correct", ok=(302,), allowed=(TS,),
         out_of_scope=(OUT, VS, DEPT), forbidden=(GW, TL, AUD), data=lambda w: {"note": "第三项数字更正"}),
]
