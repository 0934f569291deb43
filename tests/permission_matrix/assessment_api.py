"""Permission cases for every URL of the assessment API (gongzhi/assessment/api_urls.py).

Rows are made lazily through the assessment services, once per world (``_memo``): a case of
五一村 (A1) received in the last complete quarter, the county's scoring weights, an exemption filed
by A1's secretary, a demand added by the county, a hidden-burden flag raised by town A, an index
formula set by a second county cadre (so that the county secretary may review it), a fault-tolerance
application for A1, a draft bulletin of town A. A proposal about A1 is written directly (generating
one needs a quarter whose figures tell villages apart). A case whose allowed personas change a row's
state reads it through ``_unused`` (a fresh one once an earlier request has used it), so that each
allowed persona can take the step.

The roles' assessment permissions are ``gongzhi.accounts.roles.ASSESSMENT_PERMS``:
* the county secretary reads everything of the county and sets its weights, formulas, negative list
  and demands, decides flags, generates the proposals and the county's bulletins;
* town A's secretary reads the results, flags hidden burdens for town A, decides its villages'
  exemptions, proposals and fault-tolerance applications and issues the town's bulletin; town B's
  secretary (``outsider_b``) holds the same over town B: 404 on A's rows, their own lists and county
  reads answer 200 (the county's settings are read by every unit of the county);
* A1's secretary reads results and files exemptions and applications; the grid worker reads the
  burden meter, the negative list and applications and applies; 民政局's handler reads results,
  exemptions, proposals and bulletins (the department's own) and files exemptions for its cases; the
  auditor reads everything, in every county, so names the county of a county's meter (without it: a
  400 asking for one), and is the second pair of eyes on the county's index formulas;
* the three-line party member and the pairing liaison hold no assessment permission (403).
"""
from __future__ import annotations

import itertools

from tests.permission_matrix import Case

VS, TS, CS, GW, DEPT, OUT, AUD, TL, AL = (
    "village_secretary_a1", "town_secretary_a", "county_secretary", "grid_worker_a1_1", "department_handler",
    "outsider_b", "auditor", "three_line_a1", "agency_liaison")
NONE = (TL, AL)  # no assessment permission at all
EVERYONE = (VS, TS, CS, GW, DEPT, OUT, AUD, TL, AL)
RESULTS = (CS, TS, VS, DEPT, OUT)  # read results for their own county (the auditor names it)
COUNTY_ONLY = dict(allowed=(CS,), forbidden=tuple(p for p in EVERYONE if p != CS))
DECIDERS = dict(allowed=(CS, TS), forbidden=(VS, GW, DEPT, AUD, *NONE), out_of_scope=(OUT,))

API = "assessment_api:"
_seq = itertools.count(1)


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


def _filed(row) -> bool:
    return row.status != "filed"


def _services():
    from gongzhi.assessment import services

    return services


def period():
    from gongzhi.assessment.indicators import Period

    return Period.last_complete()


def new_case(world, *, in_period: bool = False):
    """A case on grid A1-1 (registered by the system user); ``in_period``: received in the last complete quarter."""
    from gongzhi.cases import services
    from gongzhi.cases.models import Case as CaseRow
    from tests.permission_matrix.cases import category

    case = services.case_register(actor=world.system, category=category("demand-small-matter"), title="村口路灯不亮",
                                  description="五一村一组村口路灯不亮", channel="hotline", grid=world.grids["A1-1"])
    if in_period:
        start, end = period().bounds()
        CaseRow.objects.filter(pk=case.pk).update(received_at=start + (end - start) / 2)
    return case


def period_case(world):
    return _memo(world, "_aapi_case", lambda: new_case(world, in_period=True))


def new_exemption(world):
    return _services().exemption_file(actor=world.users[VS], case=new_case(world), ground="emergency",
                                      explanation="暴雨夜间先行转移群众，次日补办手续")


def new_demand(world):
    return _services().demand_add(actor=world.users[CS], county=world.regions["C"], code=f"weekly-log-{next(_seq)}",
                                  name="每周工作日志", role="village_secretary", kind="report",
                                  feeds="decisions_carried_out")


def new_flag(world):
    return _services().burden_flag_raise(actor=world.users[TS], town=world.regions["A"], kind="records",
                                         description="某部门要求每次走访拍照五张并上传工作群")


def _deputy(world):
    """A second county-level cadre, who sets the formula the county secretary reviews."""
    def make():
        from gongzhi.accounts.models import Role, RoleAssignment, User

        user = User.objects.create_user(username="county_deputy", password="gongzhi-test-1", display_name="县长")
        RoleAssignment.objects.create(user=user, role=Role.objects.get(code="county_secretary"),
                                      region=world.regions["C"])
        return user
    return _memo(world, "_aapi_deputy", make)


def new_formula(world):
    from gongzhi.assessment.indices import DEFAULT_TERMS

    return _services().index_formula_set(actor=_deputy(world), county=world.regions["C"], kind="rural",
                                         terms=DEFAULT_TERMS["rural"], note="按县情调整")


def new_proposal(world):
    from gongzhi.assessment.models import Proposal

    p = period()
    row = Proposal(year=p.year, quarter=p.quarter, subject_kind="village", subject_key=f"village:{next(_seq)}",
                   region=world.regions["A1"], subject_name="五一村", standing="active", measure="commend",
                   grounds=[{"indicator": "composite", "name": "综合得分", "value": "92.5", "url": ""}])
    row.copy_territory_from(world.regions["A1"])
    row.save()
    return row


def proposal(world):
    return _memo(world, "_aapi_proposal", lambda: new_proposal(world))


ALL_FOUR = {c: {"held": True, "evidence": "有会议记录和群众证言为证"}
            for c in ("public_good", "no_private_gain", "while_working", "unintended")}


def new_application(world):
    return _services().fault_tolerance_apply(actor=world.users[VS], region=world.regions["A1"],
                                             matter="抢修水渠时先行垫付材料款，票据不全", conditions=ALL_FOUR)


def application(world):
    return _memo(world, "_aapi_application", lambda: new_application(world))


def bulletin(world):
    """Town A's draft bulletin of the last complete quarter, generated by its secretary."""
    def make():
        period_case(world)
        return _services().bulletin_generate(actor=world.users[TS], scope_kind="town", region=world.regions["A"],
                                             period=period())
    return _memo(world, "_aapi_bulletin", make)


def _stored_bulletin(world, status):
    """A bulletin of town A for a quarter of its own (written directly: issuing and correcting are per quarter)."""
    from django.utils import timezone

    from gongzhi.assessment.models import Bulletin

    n = next(_seq)
    row = Bulletin(scope_kind="town", scope_key=f"town:{world.regions['A'].pk}", region=world.regions["A"],
                   year=2001 + n // 4, quarter=n % 4 + 1, title="城关镇通报", status=status,
                   content={"title": "城关镇通报", "sections": []}, generated_by=world.users[TS],
                   generated_at=timezone.now(), issued_by=world.users[TS] if status == "issued" else None,
                   issued_at=timezone.now() if status == "issued" else None)
    row.copy_territory_from(world.regions["A"])
    row.save()
    return row


def _corrected(row) -> bool:
    from gongzhi.assessment.models import Bulletin

    return Bulletin.objects.filter(scope_key=row.scope_key, year=row.year, quarter=row.quarter,
                                   version__gt=row.version).exists()


def _county(w):
    return {"county": w.regions["C"].pk}


def _figures(w):
    period_case(w)
    return {"indicator": "case_accepted", "kind": "village", "period": period().code}


def _records(w):
    period_case(w)
    return {"indicator": "case_accepted", "kind": "village", "subject": w.regions["A1"].pk, "period": period().code}


def _decide(note="经核实，情况属实"):
    return lambda w: {"decision": "accept", "note": note}


CASES = [
    # the catalogue, its figures and the records behind them
    Case(API + "indicators", api=True, allowed=(CS, TS, VS, GW, DEPT, AUD, OUT), forbidden=NONE),
    Case(API + "figures", api=True, data=_figures, allowed=(*RESULTS, AUD), forbidden=(GW, *NONE)),
    # A1's records: whoever reads A1's cases and the village itself; town B, the department (which reads only its
    # own cases and no village) and the three-line member (their contacts only) get 404.
    Case(API + "records", api=True, data=_records, allowed=(CS, TS, VS, GW, AUD), forbidden=(AL,),
         out_of_scope=(OUT, DEPT, TL)),
    # 一件一考评
    Case(API + "scores", api=True, allowed=RESULTS, forbidden=(GW, *NONE)),
    Case(API + "scores", id="GET assessment_api:scores (the county named)", api=True, data=_county,
         allowed=(*RESULTS, AUD), forbidden=(GW, *NONE)),
    Case(API + "scoring-weights", method="post", api=True, ok=(201,),
         data=lambda w: {"on_time": 40, "satisfaction": 30, "no_rework": 10, "no_escalation": 10, "instruction": 10,
                         "note": "按期办结权重上调"}, **COUNTY_ONLY),
    # 事后备案说明
    Case(API + "exemptions", api=True, allowed=(*RESULTS, AUD), forbidden=(GW, *NONE)),
    # A fresh case each time; a case the caller cannot read is a 400 naming the field (town B, the department).
    Case(API + "exemptions", id="POST assessment_api:exemptions", method="post", api=True, ok=(201,),
         data=lambda w: {"case": new_case(w).pk, "ground": "livelihood", "explanation": "低保户房屋漏雨，先行抢修后补办"},
         allowed=(CS, TS, VS), forbidden=(GW, AUD, *NONE)),
    Case(API + "exemption-decide", kwargs=_fresh("_aapi_exemption", new_exemption, _filed), method="post", api=True,
         data=_decide(), **DECIDERS),
    # the burden meter and the negative list
    Case(API + "burden", api=True, allowed=(CS, TS, VS, GW, OUT), forbidden=(DEPT, *NONE)),
    Case(API + "burden", id="GET assessment_api:burden (the county named)", api=True, data=_county,
         allowed=(CS, TS, VS, GW, OUT, AUD), forbidden=(DEPT, *NONE)),
    Case(API + "demands", method="post", api=True, ok=(201,),
         data=lambda w: {"code": f"photo-log-{next(_seq)}", "name": "走访照片上传", "role": "grid_worker", "kind": "photo",
                         "feeds": "red_visits_kept", "photos": 2, "per_week": "3"}, **COUNTY_ONLY),
    Case(API + "demand-retire", kwargs=_fresh("_aapi_demand", new_demand, lambda d: not d.active), method="post",
         api=True, data=lambda w: {"note": "与村级决策记录重复"}, **COUNTY_ONLY),
    Case(API + "negative-list", api=True, allowed=(CS, TS, VS, GW, AUD, OUT), forbidden=(DEPT, *NONE)),
    Case(API + "negative-list", id="POST assessment_api:negative-list", method="post", api=True, ok=(201,),
         data=lambda w: {"kind": "no_demand", "text": "不得要求村干部签订责任状", "demand_kind": "pledge"},
         **COUNTY_ONLY),
    Case(API + "burden-flags", api=True, allowed=(CS, TS, AUD, OUT), forbidden=(VS, GW, DEPT, *NONE)),
    # Each town flags for itself (town B's flag is town B's).
    Case(API + "burden-flags", id="POST assessment_api:burden-flags", method="post", api=True, ok=(201,),
         data=lambda w: {"kind": "pledge", "description": "镇里要求各村每季度签订安全生产责任书"}, allowed=(TS, OUT),
         forbidden=(CS, VS, GW, DEPT, AUD, *NONE)),
    Case(API + "burden-flags", id="POST assessment_api:burden-flags (town A named)", method="post", api=True,
         ok=(201,), data=lambda w: {"town": w.regions["A"].pk, "kind": "records",
                                    "description": "每次入户都要求拍照并填写纸质台账"},
         allowed=(TS,), forbidden=(CS, VS, GW, DEPT, AUD, *NONE), out_of_scope=(OUT,)),
    Case(API + "burden-flag-decide", kwargs=_fresh("_aapi_flag", new_flag, _filed), method="post", api=True,
         data=_decide("属实，通知该部门停止"), **COUNTY_ONLY),
    # differentiated indices
    Case(API + "indices", api=True, allowed=RESULTS, forbidden=(GW, *NONE)),
    Case(API + "indices", id="GET assessment_api:indices (the county named)", api=True, data=_county,
         allowed=(*RESULTS, AUD), forbidden=(GW, *NONE)),
    Case(API + "index-formulas", method="post", api=True, ok=(201,),
         data=lambda w: {"kind": "urban", "note": "外来人口权重上调",
                         "terms": [{"factor": "density", "weight": "0.4"},
                                   {"factor": "from_elsewhere", "weight": "0.6"}]},
         **COUNTY_ONLY),
    # The county's formulas are reviewed by someone other than whoever set them: the county or the auditor.
    Case(API + "index-formula-review", kwargs=_fresh("_aapi_formula", new_formula, lambda f: f.reviewed_at is not None),
         method="post", api=True, allowed=(CS, AUD), forbidden=(TS, VS, GW, DEPT, OUT, *NONE)),
    # the separating equilibrium
    Case(API + "proposals", api=True, allowed=(*RESULTS, AUD), forbidden=(GW, *NONE)),
    Case(API + "proposals-generate", method="post", api=True, data=lambda w: {"period": period().code},
         **COUNTY_ONLY),
    # A village's proposal: its territory reads it; the department and town B do not.
    Case(API + "proposal-detail", kwargs=_pk(proposal), api=True, allowed=(CS, TS, VS, AUD), forbidden=(GW, *NONE),
         out_of_scope=(DEPT, OUT)),
    Case(API + "proposal-decide", kwargs=_fresh("_aapi_proposal_d", new_proposal, _filed), method="post", api=True,
         data=_decide("同意通报表扬"), **DECIDERS),
    Case(API + "fault-tolerance", api=True, allowed=(CS, TS, VS, GW, AUD, OUT), forbidden=(DEPT, *NONE)),
    Case(API + "fault-tolerance", id="POST assessment_api:fault-tolerance", method="post", api=True, ok=(201,),
         data=lambda w: {"region": w.regions["A1"].pk, "matter": "防汛期间先行调用物资，手续事后补办", "conditions": ALL_FOUR},
         allowed=(CS, TS, VS, GW), forbidden=(AUD, DEPT, *NONE), out_of_scope=(OUT,)),
    Case(API + "fault-tolerance-detail", kwargs=_pk(application), api=True, allowed=(CS, TS, VS, GW, AUD),
         forbidden=(DEPT, *NONE), out_of_scope=(OUT,)),
    Case(API + "fault-tolerance-decide", kwargs=_fresh("_aapi_application_d", new_application, _filed), method="post",
         api=True, data=_decide("四个条件均具备，予以免责"), **DECIDERS),
    # 一季度一通报
    Case(API + "bulletins", api=True, allowed=(*RESULTS, AUD), forbidden=(GW, *NONE)),
    Case(API + "bulletins", id="POST assessment_api:bulletins", method="post", api=True, ok=(201,),
         data=lambda w: {"scope_kind": "town", "region": w.regions["A"].pk,
                         "period": (period_case(w), period().code)[1]}, **DECIDERS),
    # Town A's bulletin: the county and the town read it; a village and the department read only their own.
    Case(API + "bulletin-detail", kwargs=_pk(bulletin), api=True, allowed=(CS, TS, AUD), forbidden=(GW, *NONE),
         out_of_scope=(VS, DEPT, OUT)),
    Case(API + "bulletin-issue", kwargs=_fresh("_aapi_draft", lambda w: _stored_bulletin(w, "draft"),
                                              lambda b: b.status != "draft"), method="post", api=True, **DECIDERS),
    Case(API + "bulletin-correct", kwargs=_fresh("_aapi_issued", lambda w: _stored_bulletin(w, "issued"), _corrected),
         method="post", api=True, ok=(201,), data=lambda w: {"note": "更正第二节的数字"}, **DECIDERS),
]
