"""Permission cases for the public village-affairs pages (村务公开, /v/): public by design.

Every persona — and nobody logged in (``tests/core/test_csp.py`` walks them anonymously) — gets
the same pages: a published notice of village A1 under A1's code is 200; a draft, or A1's notice
under A2's code, is 404 for everyone, staff included (the public pages never show more to a login).
The notices are made lazily, once per world, through the village services as the system user.
"""
from __future__ import annotations

from . import Case

GW, VS, DEPT, OUT, AUD = "grid_worker_a1_1", "village_secretary_a1", "department_handler", "outsider_b", "auditor"
ANYONE = (GW, VS, DEPT, OUT, AUD)


def _memo(world, name, make):
    if not hasattr(world, name):
        setattr(world, name, make())
    return getattr(world, name)


def _catalogue():
    from gongzhi.cases.catalogue import install_default_catalogue
    from gongzhi.cases.models import CaseCategory, TimeLimitDefault

    if not CaseCategory.objects.filter(county__isnull=True, code="opinion-village-affairs").exists():
        install_default_catalogue(CaseCategory, TimeLimitDefault)


def _notice(world):
    from gongzhi.village import services

    def make():
        _catalogue()
        item = services.publicity_draft(actor=world.system, region=world.regions["A1"], category="subsidies",
                                        title="五一村2026年高龄补贴发放名单",
                                        lines=[{"name": "张建国", "kind": "高龄补贴", "amount": "100"}])
        return services.publicity_publish(actor=world.system, item=item)

    return _memo(world, "_village_public_notice", make)


def _draft(world):
    from gongzhi.village import services

    return _memo(world, "_village_public_draft", lambda: services.publicity_draft(
        actor=world.system, region=world.regions["A1"], category="finance", title="草稿：财务收支",
        body="尚未公开"))


def village(world):
    return {"code": world.regions["A1"].code}


def notice(world):
    return {"code": world.regions["A1"].code, "pk": _notice(world).pk}


def draft(world):
    return {"code": world.regions["A1"].code, "pk": _draft(world).pk}


def elsewhere(world):
    return {"code": world.regions["A2"].code, "pk": _notice(world).pk}


def question(world):
    return {"text": "补贴标准是多少？请公布依据", "name": "", "phone": ""}


CASES = [
    Case("village_public:village", kwargs=village, public=True, allowed=ANYONE),
    Case("village_public:village", kwargs=village, query="c=subsidies", public=True, allowed=ANYONE,
         id="GET village_public:village ?c=subsidies"),
    Case("village_public:notice", kwargs=notice, public=True, allowed=ANYONE),
    Case("village_public:notice", kwargs=draft, public=True, allowed=ANYONE, ok=(404,),
         id="GET village_public:notice (draft: 404 for everyone)"),
    Case("village_public:notice", kwargs=elsewhere, public=True, allowed=ANYONE, ok=(404,),
         id="GET village_public:notice (another village's code: 404)"),
    Case("village_public:notice_pdf", kwargs=notice, public=True, allowed=ANYONE),
    Case("village_public:notice_pdf", kwargs=draft, public=True, allowed=ANYONE, ok=(404,),
         id="GET village_public:notice_pdf (draft: 404)"),
    Case("village_public:notice_ask", kwargs=notice, public=True, allowed=ANYONE),
    Case("village_public:notice_ask", kwargs=notice, method="post", data=question, public=True, allowed=ANYONE,
         ok=(302,)),
    Case("village_public:notice_ask", kwargs=draft, method="post", data=question, public=True, allowed=ANYONE,
         ok=(404,), id="POST village_public:notice_ask (draft: 404)"),
]
