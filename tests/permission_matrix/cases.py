"""Permission cases for every URL of gongzhi.cases: the pages (``cases:*``) and the REST API
(``case-*``, ``summons-*``, ``case-category-*``, ``case-time-limit-*``, ``case-statistics-*``,
``inbox-*``).

Each step of a case (``cases:act`` on the pages, ``case-<step>`` in the API) is tried on a *fresh*
case in the state the step starts from, made through the services by the system user, in village
A1 of town A: ``outsider_b`` (town B's secretary, holding the same permissions there) gets 404;
a persona holding none of the step's permissions anywhere gets 403; a persona who may see the
case but not handle it for its unit, or not at its tier, gets the service's 403.

What the personas hold (gongzhi/accounts/roles.py): county_secretary view/add/instruct/supervise/
approve_extension/export over the county; town_secretary_a and village_secretary_a1 also
dispatch and handle (the town secretary also summons and approves extensions, the village one
neither); grid_worker_a1_1 and three_line_a1 view/add/handle (a grid, their contacts);
department_handler view/handle for 民政; the auditor views everything and does nothing.
Nobody here may edit the catalogue or the time limits (403): the county dispatcher and the system
administrator do that (tests/cases_ui/test_pages.py).
"""
from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile

from . import Case

CS, TS, VS, GW, DH, OB, AU, TL = ("county_secretary", "town_secretary_a", "village_secretary_a1", "grid_worker_a1_1",
                                  "department_handler", "outsider_b", "auditor", "three_line_a1")
EVERYONE = (CS, TS, VS, GW, DH, OB, AU, TL)
DISPATCH = dict(allowed=(TS, VS), forbidden=(CS, GW, DH, AU, TL), out_of_scope=(OB,))
INSTRUCT = dict(allowed=(CS, TS, VS), forbidden=(GW, DH, AU, TL), out_of_scope=(OB,))
EXPORT = dict(allowed=(CS, TS, VS, OB), forbidden=(GW, DH, AU, TL))
CATALOGUE_VIEW = dict(allowed=(CS, TS, VS, GW, DH, TL, OB), forbidden=(AU,))
NOBODY = dict(forbidden=EVERYONE)
# A case on grid A1-1 (a village case): who sees it, who does not
SEE_A1_1 = dict(allowed=(CS, TS, VS, GW, AU), out_of_scope=(DH, TL, OB))
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


# ---------------------------------------------------------------------------------------------
# cases in every state, made through the services


def _catalogue():
    from gongzhi.cases.catalogue import install_default_catalogue
    from gongzhi.cases.models import CaseCategory, TimeLimitDefault

    # Installed by migration 0002; a transactional test's flush (live_server) wipes it.
    if not CaseCategory.objects.filter(county__isnull=True).exists():
        install_default_catalogue(CaseCategory, TimeLimitDefault)


def category(code):
    from gongzhi.cases.models import CaseCategory

    _catalogue()
    return CaseCategory.objects.get(county__isnull=True, code=code)


def _register(world, code="opinion-village-affairs", grid="A1-1", region=None):
    from gongzhi.cases import services

    kwargs = dict(actor=world.system, category=category(code), title="村道路灯不亮", description="坏了两周",
                  channel="grid_patrol", requester_name="张建国", requester_phone="13812345678")
    if grid:
        kwargs["grid"] = world.grids[grid]
    else:
        kwargs["region"] = world.regions[region or "A1"]
    return services.case_register(**kwargs)


def make(world, state: str):
    """A fresh case in ``state`` (remembered as ``world._case`` for the request's data)."""
    from gongzhi.cases import services as s

    system = world.system
    if state in ("registered", "accepted", "village", "village_in_progress", "reported", "approved", "answered",
                 "evaluated", "dissatisfied"):
        case = _register(world)
        order = ["registered", "accepted", "village", "village_in_progress", "reported", "approved", "answered",
                 "evaluated"]
        target = order.index(state if state != "dissatisfied" else "evaluated")
        steps = [
            lambda c: s.case_accept(actor=system, case=c),
            lambda c: s.case_assign(actor=system, case=c, region=world.regions["A1"]),
            lambda c: s.case_sign(actor=system, case=c),
            lambda c: s.case_report_result(actor=system, case=c, result="已修好"),
            lambda c: s.case_approve(actor=system, case=c),
            lambda c: s.case_reply(actor=system, case=c, answer="已修好"),
            lambda c: s.case_record_satisfaction(actor=system, case=c, satisfaction=(
                "dissatisfied" if state == "dissatisfied" else "satisfied")),
        ]
        for run in steps[:target]:
            case = run(case)
    elif state == "settling":
        case = s.case_settle_on_spot(actor=system, case=_register(world, code="demand-small-matter"),
                                     action_taken="已更换水管")
    elif state == "dispute":
        case = _register(world, code="dispute-neighbour")
    elif state in ("department", "department_in_progress", "extension_pending", "suspension_pending", "suspended"):
        case = s.case_accept(actor=system, case=_register(world, code="demand-housing-safety", grid=None))
        case = s.case_assign(actor=system, case=case, department=world.department)
        if state != "department":
            case = s.case_sign(actor=system, case=case)
        if state == "extension_pending":
            s.case_request_extension(actor=system, case=case, days=2, reason="需要鉴定")
        if state in ("suspension_pending", "suspended"):
            request = s.case_request_suspension(actor=system, case=case, reason="当事人外出")
            if state == "suspended":
                s.case_suspend(actor=system, request=request)
    elif state in ("town_in_progress", "summoned"):
        case = s.case_accept(actor=system, case=_register(world, code="opinion-public-service", grid=None))
        case = s.case_assign(actor=system, case=case, region=world.regions["A"])
        case = s.case_sign(actor=system, case=case)
        if state == "summoned":
            s.case_summon(actor=system, case=case, departments=[world.department], reason="联合执法")
    else:
        raise ValueError(state)
    world._case = case
    return case


def _pk(state):
    return lambda world: {"pk": make(world, state).pk}


def _memo(world, name, build):
    if getattr(world, name, None) is None:
        setattr(world, name, build())
    return getattr(world, name)


def _seen(world):
    """One case on grid A1-1, made once per world, for the read-only cases."""
    return _memo(world, "_cases_seen", lambda: _register(world))


def _attachment(world):
    from gongzhi.cases import services

    def build():
        upload = SimpleUploadedFile("photo.png", PNG, content_type="image/png")
        return services.case_attach(actor=world.system, case=_seen(world), file=upload, kind="intake")

    return _memo(world, "_cases_attachment", build)


def _summons(world):
    return world._case.summonses.get()


# ---------------------------------------------------------------------------------------------
# the steps: (step, state, who, page data, API data)


def _target(key):
    return lambda world: {"kind": "region", "pk": world.regions[key].pk}


STEPS = [
    ("classify", "registered", DISPATCH, lambda w: {"category": category("demand-elderly-care").pk}),
    ("instruct", "village_in_progress", INSTRUCT, lambda w: {"instruction": "抓紧办理"}),
    ("accept", "registered", DISPATCH, lambda w: {}),
    ("decline", "registered", DISPATCH, lambda w: {"reason": "不属于本平台受理范围"}),
    ("assign", "accepted", DISPATCH, lambda w: {"target": ("region", w.regions["A1"].pk)}),
    # handling needs the unit: the grid worker sees the case (its grid) but it was given to the village
    ("sign", "village", dict(allowed=(TS, VS), forbidden=(CS, AU, GW), out_of_scope=(OB, DH, TL)), lambda w: {}),
    ("urge", "village_in_progress", INSTRUCT, lambda w: {"note": "请尽快"}),
    ("escalate", "village_in_progress", dict(allowed=(CS, TS, VS), forbidden=(GW, AU), out_of_scope=(OB, DH, TL)),
     lambda w: {"reason": "需镇里协调"}),
    ("summon", "town_in_progress", dict(allowed=(TS,), forbidden=(CS, VS, GW, DH, AU, TL), out_of_scope=(OB,)),
     lambda w: {"departments": [w.department.pk], "reason": "联合执法"}),
    ("report_result", "village_in_progress", dict(allowed=(TS, VS), forbidden=(CS, AU, GW), out_of_scope=(OB, DH, TL)),
     lambda w: {"result": "已修好"}),
    ("approve", "reported", INSTRUCT, lambda w: {}),
    ("send_back", "reported", INSTRUCT, lambda w: {"reason": "没修好"}),
    ("reply", "approved", DISPATCH, lambda w: {"answer": "已修好"}),
    ("record_satisfaction", "answered", DISPATCH, lambda w: {"satisfaction": "satisfied"}),
    ("reopen", "dissatisfied", DISPATCH, lambda w: {"reason": "群众仍不满意"}),
    ("close", "evaluated", DISPATCH, lambda w: {}),
    # a department's case: the town and village see it but do not handle it for the bureau
    ("transfer", "department_in_progress", dict(allowed=(DH, TS, VS), forbidden=(CS, AU), out_of_scope=(OB, GW, TL)),
     lambda w: {"target": ("region", w.regions["A1"].pk), "reason": "属村里的事"}),
    ("return", "department_in_progress", dict(allowed=(DH,), forbidden=(CS, AU, TS, VS), out_of_scope=(OB, GW, TL)),
     lambda w: {"reason": "不属于民政职责"}),
    ("request_extension", "department_in_progress",
     dict(allowed=(DH,), forbidden=(CS, AU, TS, VS), out_of_scope=(OB, GW, TL)),
     lambda w: {"days": 2, "reason": "需要鉴定"}),
    # a county-level case: only the county approves (the town holds the permission at a lower tier)
    ("approve_extension", "extension_pending", dict(allowed=(CS,), forbidden=(TS, VS, GW, DH, AU, TL),
                                                    out_of_scope=(OB,)), lambda w: {"approve": True}),
    ("request_suspension", "department_in_progress",
     dict(allowed=(DH,), forbidden=(CS, AU, TS, VS), out_of_scope=(OB, GW, TL)), lambda w: {"reason": "当事人外出"}),
    ("suspend", "suspension_pending", dict(allowed=(CS,), forbidden=(TS, VS, GW, DH, AU, TL), out_of_scope=(OB,)),
     lambda w: {"approve": True}),
    ("resume", "suspended", dict(allowed=(DH, CS, TS), forbidden=(VS, AU), out_of_scope=(OB, GW, TL)), lambda w: {}),
    ("settle_on_spot", "registered", dict(allowed=(GW, TS, VS), forbidden=(CS, AU), out_of_scope=(OB, DH, TL)),
     lambda w: {"action_taken": "已处理"}),
    ("confirm_settlement", "settling", dict(allowed=(GW, TS, VS), forbidden=(CS, AU), out_of_scope=(OB, DH, TL)),
     lambda w: {"confirmed": True, "satisfaction": "satisfied"}),
    ("record_mediation", "dispute", dict(allowed=(GW, TS, VS), forbidden=(CS, AU), out_of_scope=(OB, DH, TL)),
     lambda w: {"outcome": "mediated"}),
]


def _page_data(name, build):
    def data(world):
        out = {}
        for key, value in build(world).items():
            if isinstance(value, tuple):
                value = f"{value[0]}:{value[1]}"
            elif isinstance(value, bool):
                value = "1" if value else "0"
            out[f"{name}-{key}"] = value
        return out

    return data


def _api_data(build):
    def data(world):
        out = {}
        for key, value in build(world).items():
            if isinstance(value, tuple):
                out[value[0]] = value[1]
            else:
                out[key] = value
        return out

    return data


def _act(name, state):
    return lambda world: {"pk": make(world, state).pk, "action": name.replace("_", "-")}


PAGE_STEPS = [Case("cases:act", kwargs=_act(name, state), method="post", data=_page_data(name, build), ok=(302,),
                   id=f"page step {name}", **who) for name, state, who, build in STEPS]
API_STEPS = [Case(f"case-{name.replace('_', '-')}", kwargs=_pk(state), method="post", api=True,
                  data=_api_data(build), ok=(200, 204), **who) for name, state, who, build in STEPS]


def _attach_upload(world):
    return {"attach-file": SimpleUploadedFile("photo.png", PNG, content_type="image/png"), "attach-kind": "evidence"}


def _register_page(world):
    return {"category": category("opinion-village-affairs").pk, "title": "路灯", "description": "坏了",
            "channel": "grid_patrol", "grid": world.grids["A1-1"].pk}


def _register_api(world):
    return {"category": category("opinion-village-affairs").pk, "title": "路灯", "description": "坏了",
            "channel": "grid_patrol", "grid": world.grids["A1-1"].pk}


def _seen_pk(world):
    return {"pk": _seen(world).pk}


def _county(world):
    return {"county": world.regions["C"].pk}


def _time_limit(world):
    from gongzhi.cases.models import TimeLimitDefault

    category("opinion-village-affairs")
    return {"pk": TimeLimitDefault.objects.order_by("id").first().pk}


CASES = [
    # pages
    Case("cases:home", allowed=EVERYONE),
    Case("cases:list", allowed=EVERYONE, query="q=路灯&status=registered"),
    Case("cases:workbench", allowed=(TS, VS, OB), forbidden=(CS, GW, DH, AU, TL)),
    Case("cases:queue", allowed=(TS, VS, GW, DH, TL, OB), forbidden=(CS, AU)),
    Case("cases:secretary", allowed=(CS, TS, VS, OB), forbidden=(GW, DH, AU, TL)),
    Case("cases:statistics", allowed=EVERYONE),
    Case("cases:statistics-export", **EXPORT),
    Case("cases:ledger-export", **EXPORT),
    Case("cases:register", allowed=(CS, TS, VS, GW, TL, OB), forbidden=(DH, AU)),
    # registering on grid A1-1: those who may register there (the county secretary picks a village
    # first, outsiders are not offered the grid: both get the form back)
    Case("cases:register", method="post", data=_register_page, allowed=(GW, VS, TS, TL), forbidden=(DH, AU),
         ok=(302,), id="POST cases:register (grid A1-1)"),
    Case("cases:register-grids", query="region=0", allowed=(CS, TS, VS, GW, TL, OB), forbidden=(DH, AU)),
    Case("cases:detail", kwargs=_seen_pk, **SEE_A1_1),
    Case("cases:act", kwargs=lambda w: {"pk": _seen(w).pk, "action": "accept"}, id="GET cases:act (form)",
         **DISPATCH),
    *PAGE_STEPS,
    Case("cases:act", kwargs=_act("attach", "registered"), method="post", data=_attach_upload, ok=(302,),
         id="page step attach", allowed=(CS, TS, VS, GW), forbidden=(AU,), out_of_scope=(OB, DH, TL)),
    Case("cases:act", kwargs=_act("acknowledge_summons", "summoned"), method="post", ok=(302,),
         data=lambda w: {"acknowledge_summons-summons": _summons(w).pk,
                         "acknowledge_summons-commitment": "派人参加"},
         id="page step acknowledge_summons", allowed=(DH,), forbidden=(CS, AU), out_of_scope=(OB, GW, TL)),
    Case("cases:reveal-phone", kwargs=_seen_pk, method="post", allowed=(CS, TS, VS, GW),
         forbidden=(DH, AU, TL), out_of_scope=(OB,)),
    Case("cases:attachment", kwargs=lambda w: {"pk": _attachment(w).pk}, **SEE_A1_1),
    Case("cases:inbox", allowed=EVERYONE),
    Case("cases:inbox-read", method="post", allowed=EVERYONE, ok=(302,)),
    Case("cases:categories", **CATALOGUE_VIEW),
    Case("cases:category-new", kwargs=_county, **NOBODY),
    Case("cases:category-edit", kwargs=lambda w: {**_county(w), "code": "demand-elderly-care"}, **NOBODY),
    Case("cases:time-limits", **CATALOGUE_VIEW),
    Case("cases:time-limit-new", **NOBODY),
    Case("cases:time-limit-edit", kwargs=_time_limit, **NOBODY),

    # REST API
    Case("case-list", api=True, allowed=EVERYONE, query="status=registered&q=路灯"),
    Case("case-list", api=True, method="post", data=_register_api, allowed=(CS, TS, VS, GW, TL), forbidden=(DH, AU),
         ok=(201,), id="POST case-list (register on grid A1-1)"),
    Case("case-detail", api=True, kwargs=_seen_pk, **SEE_A1_1),
    Case("case-timeline", api=True, kwargs=_seen_pk, **SEE_A1_1),
    Case("case-attachments", api=True, kwargs=_seen_pk, **SEE_A1_1),
    Case("case-reveal-phone", api=True, kwargs=_seen_pk, method="post", allowed=(CS, TS, VS, GW),
         forbidden=(DH, AU, TL), out_of_scope=(OB,)),
    Case("case-export", api=True, **EXPORT),
    *API_STEPS,
    # JSON carries no file: the permission checks pass and the missing file is a 400
    Case("case-attach", api=True, kwargs=_pk("registered"), method="post", data=lambda w: {"kind": "evidence"},
         ok=(400,), allowed=(CS, TS, VS, GW), forbidden=(AU,), out_of_scope=(OB, DH, TL)),
    Case("case-attachment-download", api=True, kwargs=lambda w: {"pk": _attachment(w).pk}, **SEE_A1_1),
    Case("summons-list", api=True, allowed=(TS, VS, GW, DH, TL, OB), forbidden=(CS, AU)),
    Case("summons-acknowledge", api=True, method="post",
         kwargs=lambda w: {"pk": make(w, "summoned").summonses.get().pk}, data=lambda w: {"commitment": "派人参加"},
         allowed=(DH,), forbidden=(CS, AU), out_of_scope=(TS, VS, GW, TL, OB)),
    Case("case-category-list", api=True, **CATALOGUE_VIEW),
    Case("case-category-list", api=True, method="post", id="POST case-category-list",
         data=lambda w: {"county": w.regions["C"].pk, "code": "opinion-bridge", "name": "桥梁"}, **NOBODY),
    Case("case-time-limit-list", api=True, **CATALOGUE_VIEW),
    Case("case-time-limit-list", api=True, method="post", id="POST case-time-limit-list",
         data=lambda w: {"limit": "acceptance", "days": 2}, **NOBODY),
    Case("case-statistics-list", api=True, allowed=EVERYONE, query="quarter=2026Q1"),
    Case("case-statistics-export", api=True, **EXPORT),
    Case("inbox-list", api=True, allowed=EVERYONE),
    Case("inbox-read", api=True, method="post", data=lambda w: {}, allowed=EVERYONE),
]

# ``pytest tests/permission_matrix -k cases`` runs exactly these.
for _case in CASES:
    if not _case.id.startswith("cases"):
        _case.id = f"cases {_case.id}"
