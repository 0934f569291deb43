"""Permission cases for every staff page of gongzhi.linking (and its two public pages).

One pairing of the world, made lazily through the services: 县民政局's branch (lead post held
by ``agency_liaison``, a department grant over 县民政局) with 五一村 (A1, partner post held by
its secretary). outsider_b (town B's secretary, who holds every town-level linking permission
over town B) gets 404; department_handler and the three-line person, who hold no linking
permission at all, 403. A liaison acts for their side; the town oversees (acts for a side, decides
fast-track requests); the county reads, links, grades and sets the rules.
"""
from __future__ import annotations

import datetime as dt

from django.utils import timezone

from . import Case

VS, TS, CS, GW, AL, DEPT, TL, OUT, AUD = (
    "village_secretary_a1", "town_secretary_a", "county_secretary", "grid_worker_a1_1", "agency_liaison",
    "department_handler", "three_line_a1", "outsider_b", "auditor")
NONE = (DEPT, TL)


def _memo(world, name, make):
    if not hasattr(world, name):
        setattr(world, name, make())
    return getattr(world, name)


def linked(world):
    from tests.linking.conftest import make_pairing

    return _memo(world, "_linking_pairing", lambda: make_pairing(world))


def pairing(world):
    return linked(world).pairing


def post(world):
    return pairing(world).posts.get(side="partner")


def need(world):
    from gongzhi.linking import services

    def make():
        link = linked(world)
        services.resource_add(actor=link.lead, pairing=link.pairing, kind="venue", name="机关会议室", capacity=20,
                              unit="次", use_form="open")
        return services.need_raise(actor=link.partner, pairing=link.pairing, title="村民议事场地", kind="venue",
                                   grade="important", quantity=2, unit="次", asked_by="村民小组长")

    return _memo(world, "_linking_need", make)


def project(world):
    from gongzhi.linking import services

    def make():
        link = linked(world)
        resource = services.resource_add(actor=link.lead, pairing=link.pairing, kind="experts", name="政策专家服务队",
                                         capacity=12, unit="次", use_form="serve")
        n = services.need_raise(actor=link.partner, pairing=link.pairing, title="政策上门宣讲", kind="experts",
                                grade="core", quantity=4, unit="次", asked_by="老年协会")
        services.need_check(actor=link.partner, need=n, feasibility="feasible", note="每季度一次")
        return services.project_confirm(actor=link.partner, need=n, resource=resource)

    return _memo(world, "_linking_project", make)


def activity(world):
    from gongzhi.linking import services

    def make():
        link = linked(world)
        start = timezone.now() - dt.timedelta(hours=1)
        return services.activity_plan(actor=link.partner, pairing=link.pairing, kind="service", title="政策宣讲进院坝",
                                      place="五一村院坝", starts_at=start, ends_at=start + dt.timedelta(hours=2))

    return _memo(world, "_linking_activity", make)


def plan(world):
    from gongzhi.linking import services

    def make():
        link = linked(world)
        today = timezone.localdate()
        return services.plan_draft(actor=link.partner, pairing=link.pairing, period="2027年度",
                                   starts_on=today, ends_on=today + dt.timedelta(days=365), content="每季度一次联席会议")

    return _memo(world, "_linking_plan", make)


def approval(world):
    from gongzhi.linking import services

    return _memo(world, "_linking_approval", lambda: services.approval_request(
        actor=linked(world).lead, pairing=pairing(world), kind="venue", title="借用村文化广场",
        detail="周六上午开展义诊"))


def link(world):
    from gongzhi.linking import services

    from gongzhi.linking.models import Link

    def make():
        # The API's cases may have made the same link in this world already (a link is recorded once).
        existing = Link.objects.filter(kind="department_village", to_region=world.regions["A1"],
                                       from_department=world.department, ended_on__isnull=True).first()
        return existing or services.link_create(actor=world.system, kind="department_village",
                                                to_region=world.regions["A1"], from_department=world.department,
                                                started_on=dt.date(2025, 1, 1))

    return _memo(world, "_linking_link", make)


def alliance(world):
    from gongzhi.linking import services

    return _memo(world, "_linking_alliance", lambda: services.alliance_create(
        actor=world.system, region=world.regions["A"], name="城关镇莲虾产业联盟", trade="莲藕小龙虾", mode="leading_firm",
        founded_on=dt.date(2021, 3, 1)))


def pk_of(make):
    return lambda world: {"pk": make(world).pk}


def a1(world):
    return {"pk": world.regions["A1"].pk}


def action(make, name):
    return lambda world: {"pk": make(world).pk, "action": name}


LIAISONS = (VS, TS, AL)  # the two post holders, and the town acting for a side
READERS = (VS, TS, CS, AL, AUD)

CASES = [
    Case("linking:home", allowed=(VS, TS, CS, GW, AL, AUD, OUT), forbidden=NONE),
    Case("linking:pairing_new", allowed=(TS, CS, OUT), forbidden=(VS, GW, AL, AUD) + NONE),
    Case("linking:pairing", kwargs=pk_of(pairing), allowed=READERS + (GW,), forbidden=NONE, out_of_scope=(OUT,)),
    Case("linking:archive", kwargs=pk_of(pairing), allowed=READERS, forbidden=(GW,) + NONE, out_of_scope=(OUT,)),
    Case("linking:pairing_do", kwargs=action(pairing, "message"), method="post", ok=(302,),
         data=lambda w: {"kind": "message", "text": "下周三召开联席会议"}, allowed=LIAISONS,
         forbidden=(CS, GW, AUD) + NONE, out_of_scope=(OUT,)),
    Case("linking:handover", kwargs=pk_of(post), allowed=LIAISONS, forbidden=(CS, GW, AUD) + NONE,
         out_of_scope=(OUT,)),
    Case("linking:sources", kwargs=a1, allowed=(VS, TS, GW), forbidden=(CS, AUD) + NONE, out_of_scope=(OUT, AL)),
    Case("linking:members", kwargs=a1, allowed=(VS, TS, CS, AUD), forbidden=(GW,) + NONE, out_of_scope=(AL, OUT)),
    Case("linking:need", kwargs=pk_of(need), allowed=READERS + (GW,), forbidden=NONE, out_of_scope=(OUT,)),
    Case("linking:need_do", kwargs=action(need, "check"), method="post", ok=(302,),
         data=lambda w: {"feasibility": "feasible", "note": "会议室每周可用两次"}, allowed=LIAISONS,
         forbidden=(CS, GW, AUD) + NONE, out_of_scope=(OUT,)),
    Case("linking:project", kwargs=pk_of(project), allowed=READERS, forbidden=(GW,) + NONE, out_of_scope=(OUT,)),
    Case("linking:project_do", kwargs=action(project, "task"), method="post", ok=(302,),
         data=lambda w: {"title": "排出宣讲日程", "assignee_name": "李四",
                         "due_on": (timezone.localdate() + dt.timedelta(days=20)).isoformat()},
         allowed=LIAISONS, forbidden=(CS, GW, AUD) + NONE, out_of_scope=(OUT,)),
    Case("linking:activity", kwargs=pk_of(activity), allowed=READERS, forbidden=(GW,) + NONE, out_of_scope=(OUT,)),
    Case("linking:activity_do", kwargs=action(activity, "attend"), method="post", ok=(302,),
         data=lambda w: {"side": "resident", "name": "张建国"}, allowed=LIAISONS, forbidden=(CS, GW, AUD) + NONE,
         out_of_scope=(OUT,)),
    Case("linking:plan", kwargs=pk_of(plan), allowed=READERS, forbidden=(GW,) + NONE, out_of_scope=(OUT,)),
    Case("linking:plan_do", kwargs=action(plan, "respond"), method="post", ok=(302,), data=lambda w: {},
         allowed=LIAISONS, forbidden=(CS, GW, AUD) + NONE, out_of_scope=(OUT,)),
    Case("linking:approval", kwargs=pk_of(approval), allowed=READERS, forbidden=(GW,) + NONE, out_of_scope=(OUT,)),
    Case("linking:approval_decide", kwargs=pk_of(approval), method="post", ok=(302,),
         data=lambda w: {"approve": "1", "note": "同意"}, allowed=(TS, CS), forbidden=(VS, AL, GW, AUD) + NONE,
         out_of_scope=(OUT,)),
    Case("linking:links", allowed=(VS, TS, CS, AL, AUD, OUT), forbidden=(GW,) + NONE),
    Case("linking:link_new", method="post", ok=(302,),
         data=lambda w: {"kind": "department_village", "to_region": w.regions["A2"].pk,
                         "from_department": w.department.pk, "started_on": "2025-02-01"},
         allowed=(TS, CS, OUT), forbidden=(VS, GW, AL, AUD) + NONE),
    Case("linking:link", kwargs=pk_of(link), allowed=READERS, forbidden=(GW,) + NONE, out_of_scope=(OUT,)),
    Case("linking:link_do", kwargs=action(link, "activity"), method="post", ok=(302,),
         data=lambda w: {"held_on": timezone.localdate().isoformat(), "summary": "走访低保户三户", "problems_solved": "1"},
         allowed=(VS, TS, CS, AL), forbidden=(GW, AUD) + NONE, out_of_scope=(OUT,)),
    Case("linking:grade", method="post", ok=(302,),
         data=lambda w: {"region": w.regions["A2"].pk, "grade": "weak", "reason": "集体经济空壳"},
         allowed=(CS,), forbidden=(VS, TS, GW, AL, AUD, OUT) + NONE),
    Case("linking:alliances", allowed=(VS, TS, CS, AL, AUD, OUT), forbidden=(GW,) + NONE),
    Case("linking:share_new", method="post", ok=(302,),
         data=lambda w: {"kind": "people", "mode": "secondment", "title": "月河村支书到五一村交流",
                         "from_region": w.regions["A2"].pk, "to_region": w.regions["A1"].pk, "started_on": "2025-03-01"},
         allowed=(VS, TS, CS), forbidden=(GW, AL, AUD) + NONE, out_of_scope=(OUT,)),
    Case("linking:alliance", kwargs=pk_of(alliance), allowed=(TS, CS, AUD), forbidden=(GW,) + NONE,
         out_of_scope=(VS, AL, OUT)),
    Case("linking:alliance_do", kwargs=action(alliance, "member"), method="post", ok=(302,),
         data=lambda w: {"name": "汉阴县莲虾专业合作社"}, allowed=(TS, CS), forbidden=(VS, GW, AL, AUD) + NONE,
         out_of_scope=(OUT,)),
    Case("linking:integration", kwargs=lambda w: {"pk": w.regions["A"].pk}, allowed=(TS, CS, AUD),
         forbidden=(GW,) + NONE, out_of_scope=(VS, AL, OUT)),
    Case("linking:integration_village", kwargs=a1, allowed=(VS, TS, CS, AUD), forbidden=(GW,) + NONE,
         out_of_scope=(AL, OUT)),
    Case("linking:integration_do", kwargs=lambda w: {"pk": w.regions["A1"].pk, "action": "task"}, method="post",
         ok=(302,), data=lambda w: {"aim": "income", "title": "发展莲藕种植", "target": "50", "unit": "亩",
                                    "due_on": f"{timezone.localdate().year}-12-31"},
         allowed=(TS, CS), forbidden=(VS, GW, AL, AUD) + NONE, out_of_scope=(OUT,)),
    Case("linking:settings", kwargs=lambda w: {"pk": w.regions["C"].pk}, allowed=(CS,),
         forbidden=(VS, TS, GW, AL, AUD, OUT) + NONE),
    # Public by design: anyone, logged in or not, gets the same page.
    Case("linking_public:survey", kwargs=lambda w: {"token": activity(w).survey_token}, public=True,
         allowed=(VS, DEPT, OUT, AUD)),
    Case("linking_public:pairing", kwargs=pk_of(pairing), public=True, allowed=(VS, DEPT, OUT, AUD)),
]
