"""Permission cases for every URL of the village governance API (gongzhi/village/api_urls.py).

Objects are made lazily in village A1 through the village services as the system user, once per
world (``_memo``). A case whose allowed personas change an object's state (open a meeting, close
a vote, publish a notice …) reads it through ``_unused``: the memoised object while it is still in
the state the step needs, a fresh one once an earlier request has used it — so the village
secretary and the town secretary can both take the step.

The roles' village permissions are ``gongzhi.accounts.roles.VILLAGE_PERMS``: the village and town
secretaries run everything (the town secretary also writes supervision notes), the county
secretary and the auditor read, grid workers read meetings, agenda items, decisions and notices
and propose agenda items; three-line persons and the department handler hold no village
permission (403), and town B's secretary holds them all over town B (404 here).
"""
from __future__ import annotations

import datetime as dt

from django.utils import timezone

from tests.permission_matrix import Case
from tests.world import new_id

VS, TS, CS, GW, DEPT, OUT, AUD, TL = ("village_secretary_a1", "town_secretary_a", "county_secretary",
                                      "grid_worker_a1_1", "department_handler", "outsider_b", "auditor",
                                      "three_line_a1")
RUNNERS = (VS, TS)
VIEWERS = (VS, TS, CS, AUD)  # every village view permission, over A1 or above
NOT_RUNNERS = (DEPT, GW, CS, AUD, TL)  # no village write permission of this kind anywhere


def _memo(world, name, make):
    if not hasattr(world, name):
        setattr(world, name, make())
    return getattr(world, name)


def _unused(world, name, make, used):
    """The memoised object, or a fresh one when ``used(current row)`` says a request has used it."""
    obj = getattr(world, name, None)
    if obj is None or used(type(obj).objects.get(pk=obj.pk)):
        obj = make()
        setattr(world, name, obj)
    return obj


def _a1(world):
    return world.regions["A1"]


def _residents(world):
    p = world.persons
    return [p["A1-1"], p["A1-1-spouse"], p["A1-2"], p["party_member"]]


def _bodies(world) -> dict:
    """The two committees, the assembly (three representatives) and an empty supervision committee."""

    def make():
        from gongzhi.village import services

        start = timezone.localdate() - dt.timedelta(days=400)
        sys, a1 = world.system, _a1(world)
        zhang, liu, li, qiang = _residents(world)
        bodies = {kind: services.body_create(actor=sys, region=a1, kind=kind, name=f"五一村{label}", term_start=start)
                  for kind, label in (("party", "党支部委员会"), ("committee", "村民委员会"),
                                      ("assembly", "村民代表会议"), ("supervision", "村务监督委员会"))}
        for body, person, post in ((bodies["party"], zhang, "secretary"), (bodies["party"], li, "member"),
                                   (bodies["committee"], liu, "chair"), (bodies["assembly"], zhang, "representative"),
                                   (bodies["assembly"], liu, "representative"),
                                   (bodies["assembly"], li, "representative")):
            services.body_member_add(actor=sys, body=body, person=person, post=post, started_on=start)
        return bodies

    return _memo(world, "_vapi_bodies", make)


def _resident(world):
    """A fresh adult resident of A1 (for posts taken and ended)."""
    from gongzhi.registry import services

    return services.person_create(actor=world.system, household=world.households["A1-2"], relation="child",
                                  name="李新", id_number=new_id(birth=dt.date(1995, 3, 3)))


def _meeting(world, kind="representatives", *, open_=False):
    from gongzhi.village import services

    _bodies(world)
    meeting = services.meeting_schedule(actor=world.system, region=_a1(world), kind=kind, title="五一村村民代表会议",
                                        scheduled_at=timezone.now(), place="村委会")
    if open_:
        services.meeting_open(actor=world.system, meeting=meeting)
        present = {a.person_id: "present" for a in meeting.attendance.all()}
        services.attendance_mark(actor=world.system, meeting=meeting, marks=present)
    return meeting


def planned_meeting(world):
    return _memo(world, "_vapi_planned", lambda: _meeting(world))


def open_meeting(world):
    return _memo(world, "_vapi_open", lambda: _meeting(world, open_=True))


def _poll(world):
    from gongzhi.village import services

    return services.poll_open(actor=world.system, meeting=open_meeting(world), question="同意修缮村道")


def poll(world):
    return _memo(world, "_vapi_poll", lambda: _poll(world))


def _next_voter(world):
    from gongzhi.village.models import Ballot

    ballot = Ballot.objects.filter(poll=poll(world), cast_at__isnull=True).order_by("id").first()
    return ballot.voter_id


def _waiting_item(world):
    from gongzhi.village import services

    return _memo(world, "_vapi_item", lambda: services.agenda_item_create(
        actor=world.system, region=_a1(world), title="村规民约修订", mode="decide", source="committees"))


def _matter(world, title="修缮村道"):
    from gongzhi.village import services

    return services.matter_create(actor=world.system, region=_a1(world), title=title, topic="project",
                                  description="村道破损，拟修缮")


def _exempted(world):
    from gongzhi.village import services

    matter = _matter(world, "抢修山洪冲毁的便桥")
    services.matter_exempt(actor=world.system, matter=matter, reason="汛期山洪，危及出行安全", content="立即抢修便桥")
    return matter


def matter(world):
    return _memo(world, "_vapi_matter", lambda: _matter(world))


def _step(world, matter, kind, step, *, vote=None):
    """Take ``step`` of ``matter`` at a fresh meeting of ``kind`` where everyone entitled came; with
    ``vote`` ("for" / "against") a vote on the matter first. Returns the closed poll, if any."""
    from gongzhi.village import services
    from gongzhi.village.models import Ballot

    sys = world.system
    item = services.agenda_item_create(actor=sys, region=_a1(world), title=matter.title, mode="decide",
                                       source="matter", matter=matter)
    meeting = services.meeting_schedule(actor=sys, region=_a1(world), kind=kind, title=f"{matter.title}（{step}）",
                                        scheduled_at=timezone.now(), items=[item])
    services.meeting_open(actor=sys, meeting=meeting)
    services.attendance_mark(actor=sys, meeting=meeting, marks={a.person_id: "present"
                                                                for a in meeting.attendance.all()})
    polled = None
    if vote:
        polled = services.poll_open(actor=sys, meeting=meeting, question=f"同意{matter.title}", item=item)
        services.ballots_cast(actor=sys, poll=polled, choices={b.voter_id: vote
                                                               for b in Ballot.objects.filter(poll=polled)})
        polled = services.poll_close(actor=sys, poll=polled)
    if vote != "against":
        services.matter_advance(actor=sys, matter=matter, step=step, meeting=meeting, poll=polled)
    return polled


def _party_members(world):
    from gongzhi.registry.models import PartyMembership, PartyOrganization

    def make():
        a1 = _a1(world)
        territory = {"county_id": a1.county_id, "town_id": a1.town_id, "village_id": a1.pk}
        org = PartyOrganization.objects.create(name="五一村党支部", kind="branch", region=a1, **territory)
        for person in _residents(world)[:3]:
            PartyMembership.objects.create(person=person, organization=org, joined_on=dt.date(2000, 7, 1),
                                           **territory)
        return org

    return _memo(world, "_vapi_party", make)


def _failed_review(world):
    """A discussed matter whose party members' review vote did not pass: (matter, poll)."""
    _bodies(world)
    _party_members(world)
    m = _matter(world, "出租集体林地")
    _step(world, m, "branch", "propose")
    _step(world, m, "two_committees", "discuss")
    m.failed_poll = _step(world, m, "party_members", "review", vote="against")
    return m


def rejectable(world):
    return _unused(world, "_vapi_rejectable", lambda: _failed_review(world), lambda m: m.status == "rejected")


def _rejectable_poll(world):
    return {"poll": world._vapi_rejectable.failed_poll.pk, "note": "党员大会未通过"}


def _decision(world):
    from gongzhi.village.models import Decision

    return _memo(world, "_vapi_decision", lambda: Decision.objects.get(matter=_exempted(world)))


def _task(world):
    from gongzhi.village import services

    return _memo(world, "_vapi_task", lambda: services.task_add(
        actor=world.system, decision=_decision(world), title="组织抢修", assignee=world.persons["A1-1"],
        due_on=timezone.localdate() + dt.timedelta(days=30)))


def _carried_out(world):
    """A decision whose one task is done: ready to be marked carried out."""
    from gongzhi.village import services
    from gongzhi.village.models import Decision

    decision = Decision.objects.get(matter=_exempted(world))
    task = services.task_add(actor=world.system, decision=decision, title="抢修便桥", assignee=world.persons["A1-1"],
                             due_on=timezone.localdate() + dt.timedelta(days=7))
    services.task_progress(actor=world.system, task=task, progress=100)
    return decision


def _draft(world, title="2026年第一季度财务收支"):
    from gongzhi.village import services

    return services.publicity_draft(actor=world.system, region=_a1(world), category="finance", title=title,
                                    lines=[{"item": "道路维修", "income": "0", "expense": "3200"}],
                                    period_start=dt.date(2026, 1, 1), period_end=dt.date(2026, 3, 31))


def _published(world):
    from gongzhi.village import services

    return services.publicity_publish(actor=world.system, item=_draft(world, "2026年第一季度惠民补贴"))


def _duty_list(world):
    from gongzhi.village import services

    return _memo(world, "_vapi_duty_list", lambda: services.duty_list_ensure(
        actor=world.system, region=_a1(world), kind="responsibility"))


def _duty(world):
    from gongzhi.village import services

    return services.duty_add(actor=world.system, duty_list=_duty_list(world), title="组织召开村民代表会议",
                             basis="《村民委员会组织法》第二十六条")


def _member(world):
    from gongzhi.village import services

    return services.body_member_add(actor=world.system, body=_bodies(world)["supervision"], person=_resident(world),
                                    post="member")


def _pk(getter):
    return lambda w: {"pk": getter(w).pk}


def _fresh(name, make, used):
    return lambda w: {"pk": _unused(w, name, lambda: make(w), used).pk}


def _case_ids(world):
    from tests.permission_matrix.intake import _case

    return [_case(world).pk]


def _in_days(days):
    return str(timezone.localdate() + dt.timedelta(days=days))


def _later_due(world):
    from gongzhi.village.models import DecisionTask

    due = DecisionTask.objects.get(pk=_task(world).pk).due_on
    return {"reason": "雨季推迟施工", "due_on": str(due + dt.timedelta(days=1))}


def _village_pk(world):
    return {"pk": _a1(world).pk}


def _owners(world):
    return {"body": _bodies(world)["committee"].pk, "post": "chair"}


API = "village_api:"

CASES = [
    # 六位一体
    Case(API + "body-list", kwargs=_village_pk, api=True, allowed=VIEWERS, forbidden=(DEPT, GW, TL),
         out_of_scope=(OUT,)),
    Case(API + "member-add", kwargs=lambda w: {"pk": _bodies(w)["supervision"].pk}, method="post", api=True,
         ok=(201,), data=lambda w: {"person": _resident(w).pk, "post": "member"}, allowed=RUNNERS,
         forbidden=NOT_RUNNERS, out_of_scope=(OUT,)),
    Case(API + "member-end", kwargs=_fresh("_vapi_member", _member, lambda m: m.ended_on is not None),
         method="post", api=True, data=lambda w: {"reason": "外出务工"}, allowed=RUNNERS, forbidden=NOT_RUNNERS,
         out_of_scope=(OUT,)),
    # meetings
    Case(API + "meetings", api=True, allowed=(*VIEWERS, GW, OUT), forbidden=(DEPT, TL)),
    Case(API + "meetings", id="POST village_api:meetings", method="post", api=True, ok=(201,),
         data=lambda w: {"region": _a1(w).pk, "kind": "courtyard", "title": "二组院坝会",
                         "scheduled_at": timezone.now().isoformat(), "place": "二组晒场"},
         allowed=RUNNERS, forbidden=NOT_RUNNERS, out_of_scope=(OUT,)),
    Case(API + "meeting-detail", kwargs=_pk(open_meeting), api=True, allowed=(*VIEWERS, GW), forbidden=(DEPT, TL),
         out_of_scope=(OUT,)),
    Case(API + "meeting-notify", kwargs=_pk(planned_meeting), method="post", api=True, allowed=RUNNERS,
         forbidden=NOT_RUNNERS, out_of_scope=(OUT,)),
    Case(API + "meeting-open", kwargs=_fresh("_vapi_to_open", _meeting, lambda m: m.status != "planned"),
         method="post", api=True, allowed=RUNNERS, forbidden=NOT_RUNNERS, out_of_scope=(OUT,)),
    Case(API + "meeting-attendance", kwargs=_pk(open_meeting), method="post", api=True,
         data=lambda w: {"marks": [{"person": w.persons["A1-2"].pk, "status": "present"}]},
         allowed=RUNNERS, forbidden=NOT_RUNNERS, out_of_scope=(OUT,)),
    Case(API + "meeting-speech", kwargs=_pk(open_meeting), method="post", api=True, ok=(201,),
         data=lambda w: {"speaker": w.persons["A1-2"].pk, "points": "建议先修二组的路"},
         allowed=RUNNERS, forbidden=NOT_RUNNERS, out_of_scope=(OUT,)),
    Case(API + "meeting-close", kwargs=_fresh("_vapi_to_close", lambda w: _meeting(w, open_=True),
                                              lambda m: m.status != "open"),
         method="post", api=True, data=lambda w: {"minutes": "会议议定修缮村道"}, allowed=RUNNERS,
         forbidden=NOT_RUNNERS, out_of_scope=(OUT,)),
    # agenda
    Case(API + "agenda-items", api=True, allowed=(*VIEWERS, GW), forbidden=(DEPT, TL)),
    Case(API + "agenda-items", id="POST village_api:agenda-items", method="post", api=True, ok=(201,),
         data=lambda w: {"region": _a1(w).pk, "title": "讲解新农合政策", "mode": "explain", "source": "committees"},
         allowed=(*RUNNERS, GW), forbidden=(DEPT, CS, AUD, TL), out_of_scope=(OUT,)),
    Case(API + "agenda-from-cases", method="post", api=True, ok=(201,), data=lambda w: {"cases": _case_ids(w)},
         allowed=(*RUNNERS, GW), forbidden=(DEPT, CS, AUD, TL), out_of_scope=(OUT,)),
    Case(API + "agenda-schedule", kwargs=_pk(_waiting_item), method="post", api=True,
         data=lambda w: {"meeting": planned_meeting(w).pk}, allowed=RUNNERS, forbidden=(DEPT, GW, CS, AUD, TL),
         out_of_scope=(OUT,)),
    # votes
    Case(API + "poll-open", method="post", api=True, ok=(201,),
         data=lambda w: {"meeting": open_meeting(w).pk, "question": "同意修缮村道", "ballot": "secret"},
         allowed=RUNNERS, forbidden=NOT_RUNNERS, out_of_scope=(OUT,)),
    Case(API + "poll-detail", kwargs=_pk(poll), api=True, allowed=VIEWERS, forbidden=(DEPT, GW, TL),
         out_of_scope=(OUT,)),
    Case(API + "poll-cast", kwargs=_pk(poll), method="post", api=True,
         data=lambda w: {"ballots": [{"voter": _next_voter(w), "choice": "for"}]}, allowed=RUNNERS,
         forbidden=NOT_RUNNERS, out_of_scope=(OUT,)),
    Case(API + "poll-close", kwargs=_fresh("_vapi_to_close_poll", _poll, lambda p: p.status != "open"),
         method="post", api=True, allowed=RUNNERS, forbidden=NOT_RUNNERS, out_of_scope=(OUT,)),
    # 四议两公开
    Case(API + "matters", api=True, allowed=(*VIEWERS, OUT), forbidden=(DEPT, GW, TL)),
    Case(API + "matters", id="POST village_api:matters", method="post", api=True, ok=(201,),
         data=lambda w: {"region": _a1(w).pk, "title": "建设村级养老服务站", "topic": "elderly",
                         "description": "利用闲置村小学建设养老服务站"},
         allowed=RUNNERS, forbidden=NOT_RUNNERS, out_of_scope=(OUT,)),
    Case(API + "matter-detail", kwargs=_pk(matter), api=True, allowed=VIEWERS, forbidden=(DEPT, GW, TL),
         out_of_scope=(OUT,)),
    Case(API + "matter-advance", kwargs=_fresh("_vapi_to_publish", _exempted, lambda m: m.status != "resolved"),
         method="post", api=True, data=lambda w: {"step": "publish_resolution"}, allowed=RUNNERS,
         forbidden=NOT_RUNNERS, out_of_scope=(OUT,)),
    Case(API + "matter-reject", kwargs=_pk(rejectable), method="post", api=True, data=_rejectable_poll,
         allowed=RUNNERS, forbidden=NOT_RUNNERS, out_of_scope=(OUT,)),
    Case(API + "matter-exempt", kwargs=_fresh("_vapi_to_exempt", _matter, lambda m: m.status != "draft"),
         method="post", api=True,
         data=lambda w: {"reason": "山体滑坡，危及群众生命安全", "content": "立即转移受威胁群众"},
         allowed=RUNNERS, forbidden=NOT_RUNNERS, out_of_scope=(OUT,)),
    Case(API + "matter-explain", kwargs=_fresh("_vapi_to_explain", _exempted, lambda m: m.explained_at),
         method="post", api=True, data=lambda w: {"explanation": "次日召开两委会通报"}, allowed=RUNNERS,
         forbidden=NOT_RUNNERS, out_of_scope=(OUT,)),
    # decisions
    Case(API + "decisions", api=True, allowed=(*VIEWERS, GW, OUT), forbidden=(DEPT, TL)),
    Case(API + "decision-detail", kwargs=_pk(_decision), api=True, allowed=(*VIEWERS, GW), forbidden=(DEPT, TL),
         out_of_scope=(OUT,)),
    Case(API + "decision-task-add", kwargs=_pk(_decision), method="post", api=True, ok=(201,),
         data=lambda w: {"title": "验收便桥", "due_on": _in_days(20), "assignee": w.persons["A1-2"].pk},
         allowed=RUNNERS, forbidden=NOT_RUNNERS, out_of_scope=(OUT,)),
    Case(API + "decision-note", kwargs=_pk(_decision), method="post", api=True, ok=(201,),
         data=lambda w: {"kind": "feedback", "text": "群众反映便桥已能通行"}, allowed=RUNNERS,
         forbidden=(DEPT, GW, CS, AUD, TL), out_of_scope=(OUT,)),
    Case(API + "decision-note", id="POST village_api:decision-note (supervision)", kwargs=_pk(_decision),
         method="post", api=True, ok=(201,),
         data=lambda w: {"kind": "supervision", "supervisor": "administrative", "text": "镇党委督查：按期推进"},
         allowed=(TS, CS), forbidden=(DEPT, VS, GW, AUD, TL), out_of_scope=(OUT,)),
    Case(API + "decision-complete",
         kwargs=_fresh("_vapi_to_complete", _carried_out, lambda d: d.status != "in_progress"),
         method="post", api=True, data=lambda w: {"note": "便桥已修通"}, allowed=RUNNERS, forbidden=NOT_RUNNERS,
         out_of_scope=(OUT,)),
    Case(API + "task-progress", kwargs=_pk(_task), method="post", api=True,
         data=lambda w: {"progress": 40, "note": "材料已到"}, allowed=RUNNERS, forbidden=NOT_RUNNERS,
         out_of_scope=(OUT,)),
    Case(API + "task-adjust", kwargs=_pk(_task), method="post", api=True, data=_later_due, allowed=RUNNERS,
         forbidden=NOT_RUNNERS, out_of_scope=(OUT,)),
    # 村务公开
    Case(API + "publicity", api=True, allowed=(*VIEWERS, GW, OUT), forbidden=(DEPT, TL)),
    Case(API + "publicity", id="POST village_api:publicity", method="post", api=True, ok=(201,),
         data=lambda w: {"region": _a1(w).pk, "category": "projects", "title": "村道修缮项目公示",
                         "body": "项目预算12万元"},
         allowed=RUNNERS, forbidden=NOT_RUNNERS, out_of_scope=(OUT,)),
    Case(API + "publicity-detail", kwargs=lambda w: {"pk": _memo(w, "_vapi_published", lambda: _published(w)).pk},
         api=True, allowed=(*VIEWERS, GW), forbidden=(DEPT, TL), out_of_scope=(OUT,)),
    Case(API + "publicity-detail", id="PATCH village_api:publicity-detail",
         kwargs=lambda w: {"pk": _memo(w, "_vapi_draft", lambda: _draft(w)).pk}, method="patch", api=True,
         data=lambda w: {"title": "2026年第一季度财务收支（修订）"}, allowed=RUNNERS, forbidden=NOT_RUNNERS,
         out_of_scope=(OUT,)),
    Case(API + "publicity-publish", kwargs=_fresh("_vapi_to_publish_item", _draft, lambda i: i.status != "draft"),
         method="post", api=True, allowed=RUNNERS, forbidden=NOT_RUNNERS, out_of_scope=(OUT,)),
    Case(API + "publicity-correct",
         kwargs=_fresh("_vapi_to_correct", _published, lambda i: i.status != "published"), method="post",
         api=True, ok=(201,), data=lambda w: {"reason": "金额录入错误", "body": "更正后的补贴名单"},
         allowed=RUNNERS, forbidden=NOT_RUNNERS, out_of_scope=(OUT,)),
    Case(API + "publicity-flags", api=True, allowed=(*VIEWERS, OUT), forbidden=(DEPT, GW, TL)),
    # 权力清单、责任清单
    Case(API + "duty-lists", api=True, allowed=(*VIEWERS, OUT), forbidden=(DEPT, GW, TL)),
    Case(API + "duty-lists", id="POST village_api:duty-lists", method="post", api=True, ok=(200, 201),
         data=lambda w: {"region": _a1(w).pk, "kind": "power"}, allowed=RUNNERS, forbidden=NOT_RUNNERS,
         out_of_scope=(OUT,)),
    Case(API + "duty-list-detail", kwargs=_pk(_duty_list), api=True, allowed=VIEWERS, forbidden=(DEPT, GW, TL),
         out_of_scope=(OUT,)),
    Case(API + "duty-add", kwargs=_pk(_duty_list), method="post", api=True, ok=(201,),
         data=lambda w: {"title": "村务公开", "basis": "《村民委员会组织法》第三十条", "owners": [_owners(w)]},
         allowed=RUNNERS, forbidden=NOT_RUNNERS, out_of_scope=(OUT,)),
    Case(API + "duty-list-review", kwargs=_pk(_duty_list), method="post", api=True, allowed=RUNNERS,
         forbidden=NOT_RUNNERS, out_of_scope=(OUT,)),
    Case(API + "duty-owner-add", kwargs=_fresh("_vapi_duty", _duty, lambda d: d.owners.exists()), method="post",
         api=True, ok=(201,), data=_owners, allowed=RUNNERS, forbidden=NOT_RUNNERS, out_of_scope=(OUT,)),
]
