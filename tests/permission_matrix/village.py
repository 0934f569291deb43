"""Permission cases for every staff page of gongzhi.village.

Objects are made lazily, once per world, through the village services (as the system user), in
village A1 (五一村) of town A: outsider_b (town B's secretary, who holds every village permission
over town B) must get 404, department_handler (no village permission at all) 403.
"""
from __future__ import annotations

import datetime as dt

from django.utils import timezone

from . import Case

VS, TS, CS, GW, TL, DEPT, OUT, AUD = ("village_secretary_a1", "town_secretary_a", "county_secretary",
                                      "grid_worker_a1_1", "three_line_a1", "department_handler", "outsider_b",
                                      "auditor")


def _memo(world, name, make):
    if not hasattr(world, name):
        setattr(world, name, make())
    return getattr(world, name)


def body(world):
    """The assembly of A1, shared with the API's cases (one current assembly per village)."""
    from .village_api import _bodies

    return _bodies(world)["assembly"]


def member(world):
    return body(world).members.first()


def meeting(world):
    from gongzhi.village import services

    def make():
        body(world)
        m = services.meeting_schedule(actor=world.system, region=world.regions["A1"], kind="representatives",
                                      title="村民代表会议", scheduled_at=timezone.now())
        services.meeting_open(actor=world.system, meeting=m)
        services.attendance_mark(actor=world.system, meeting=m, marks={a.person_id: "present" for a in m.attendance.all()})
        return m

    return _memo(world, "_village_meeting", make)


def poll(world):
    from gongzhi.village import services

    return _memo(world, "_village_poll", lambda: services.poll_open(actor=world.system, meeting=meeting(world),
                                                                    question="同意修路"))


def matter(world):
    from gongzhi.village import services

    return _memo(world, "_village_matter", lambda: services.matter_create(
        actor=world.system, region=world.regions["A1"], title="集体林地流转", description="拟流转集体林地", topic="land"))


def decision(world):
    from gongzhi.village import services

    def make():
        m = matter(world)
        services.matter_exempt(actor=world.system, matter=m, reason="防汛抢险", content="先行抢修")
        return m.decision

    return _memo(world, "_village_decision", make)


def notice(world):
    from gongzhi.village import services

    return _memo(world, "_village_notice", lambda: services.publicity_draft(
        actor=world.system, region=world.regions["A1"], category="finance", title="十一月财务收支", body="收入0元，支出3200元"))


def a1(world):
    return {"pk": world.regions["A1"].pk}


VIEWERS = (VS, TS, CS, GW, AUD)
RUNNERS = (VS, TS)

CASES = [
    Case("village:home", allowed=(VS, TS, CS, GW, AUD, OUT), forbidden=(DEPT, TL), ok=(200, 302)),
    Case("village:village", kwargs=a1, allowed=VIEWERS, forbidden=(DEPT, TL), out_of_scope=(OUT,)),
    Case("village:body_new", kwargs=a1, method="post", ok=(302,),
         data=lambda w: {"kind": "social", "name": "五一村老年协会", "term_start": "2025-01-01"},
         allowed=RUNNERS, forbidden=(DEPT, GW, CS, TL), out_of_scope=(OUT,)),
    Case("village:body", kwargs=lambda w: {"pk": body(w).pk}, allowed=(VS, TS, CS, AUD), forbidden=(DEPT, GW, TL),
         out_of_scope=(OUT,)),
    Case("village:member_end", kwargs=lambda w: {"pk": member(w).pk}, method="post", ok=(302,),
         data=lambda w: {"reason": "迁出本村"}, allowed=RUNNERS, forbidden=(DEPT, GW, CS, TL), out_of_scope=(OUT,)),
    Case("village:cases", kwargs=a1, allowed=(VS, TS, GW), forbidden=(DEPT, CS, TL), out_of_scope=(OUT,)),
    Case("village:item_new", kwargs=a1, allowed=(VS, TS, GW), forbidden=(DEPT, CS, TL), out_of_scope=(OUT,)),
    Case("village:meeting_new", kwargs=a1, allowed=RUNNERS, forbidden=(DEPT, GW, CS, TL), out_of_scope=(OUT,)),
    Case("village:meeting", kwargs=lambda w: {"pk": meeting(w).pk}, allowed=VIEWERS, forbidden=(DEPT, TL),
         out_of_scope=(OUT,)),
    Case("village:meeting_do", kwargs=lambda w: {"pk": meeting(w).pk, "action": "speech"}, method="post",
         ok=(302,), data=lambda w: {"speaker_name": "张建国", "points": "建议先修二组道路"},
         allowed=RUNNERS, forbidden=(DEPT, GW, CS, TL), out_of_scope=(OUT,)),
    Case("village:poll", kwargs=lambda w: {"pk": poll(w).pk}, allowed=(VS, TS, CS, AUD), forbidden=(DEPT, GW, TL),
         out_of_scope=(OUT,)),
    Case("village:matter_new", kwargs=a1, allowed=RUNNERS, forbidden=(DEPT, GW, CS, TL), out_of_scope=(OUT,)),
    Case("village:matter", kwargs=lambda w: {"pk": matter(w).pk}, allowed=(VS, TS, CS, AUD), forbidden=(DEPT, GW, TL),
         out_of_scope=(OUT,)),
    Case("village:matter_do", kwargs=lambda w: {"pk": matter(w).pk, "action": "explain"}, method="post",
         ok=(302,), data=lambda w: {"explanation": "已通报"}, allowed=RUNNERS, forbidden=(DEPT, GW, CS, TL),
         out_of_scope=(OUT,)),
    Case("village:decision", kwargs=lambda w: {"pk": decision(w).pk}, allowed=VIEWERS, forbidden=(DEPT, TL),
         out_of_scope=(OUT,)),
    Case("village:decision_do", kwargs=lambda w: {"pk": decision(w).pk, "action": "note"}, method="post",
         ok=(302,), data=lambda w: {"kind": "feedback", "text": "群众反映抢修及时"}, allowed=RUNNERS,
         forbidden=(DEPT, GW, CS, TL), out_of_scope=(OUT,)),
    Case("village:publicity", kwargs=a1, allowed=(VS, TS, CS, GW, AUD), forbidden=(DEPT, TL), out_of_scope=(OUT,)),
    Case("village:publicity_publish", kwargs=lambda w: {"pk": notice(w).pk}, method="post", ok=(302,),
         allowed=RUNNERS, forbidden=(DEPT, GW, CS, TL), out_of_scope=(OUT,)),
    Case("village:settings", kwargs=lambda w: {"pk": w.regions["C"].pk}, allowed=(CS, AUD),
         forbidden=(DEPT, TL, GW), out_of_scope=(VS, TS, OUT)),
    Case("village:duties", kwargs=a1, allowed=(VS, TS, CS, AUD), forbidden=(DEPT, GW, TL), out_of_scope=(OUT,)),
]
