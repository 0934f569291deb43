"""Permission cases for every URL of the linking-up API (gongzhi/linking/api_urls.py).

Objects are made lazily through the linking services, once per world (``_memo``): the pairing of
tests/linking/conftest.py (县民政局's branch with 五一村 A1, agency department 县民政局; the bureau's
liaison holds the lead post, the village secretary the partner post), its lists and activities,
and, for 三联 and 镇村工作一体化, links, an alliance of town A, key tasks and a work team in A1. A case
whose allowed personas change an object's state reads it through ``_unused`` (a fresh one once an
earlier request has used it), so that each allowed persona can take the step.

The roles' linking permissions are ``gongzhi.accounts.roles.LINKING_*``:
* the village secretary (LINKING_LIAISON over A1) and the agency liaison (LINKING_LIAISON over
  县民政局's pairings, a department grant) keep their side of the pairing; the town secretary
  (LINKING_TOWN) also oversees it — acts for either side, makes, ends and staffs pairings, decides
  fast-track requests, runs links, alliances, key tasks and work teams;
* the county secretary reads everything and makes pairings, links, grades, alliances and settings,
  but keeps no list (403 there); the auditor reads everything, writes nothing;
* grid workers see pairings and needs and raise needs, nothing else (403);
* the department handler and three-line persons hold no linking permission (403); town B's
  secretary holds LINKING_TOWN over town B (404 here);
* the agency liaison's department grant reaches no territory (key tasks, teams, grades, an
  alliance of the town, the county's settings): 404 there.
Where a service refuses a persona who holds the permission over the row (a liaison signing or
evaluating for the other side, editing the other side's resource, handing over a post they do not
hold) the answer is 403 as well, and they are listed as forbidden.
"""
from __future__ import annotations

import datetime as dt
import itertools

from django.utils import timezone

from tests.linking.conftest import make_orgs, make_pairing
from tests.permission_matrix import Case
from tests.world import new_id

VS, TS, CS, GW, DEPT, OUT, AUD, TL, AL = (
    "village_secretary_a1", "town_secretary_a", "county_secretary", "grid_worker_a1_1", "department_handler",
    "outsider_b", "auditor", "three_line_a1", "agency_liaison")
NONE = (DEPT, TL)  # no linking permission at all
VIEWERS = (VS, TS, CS, AUD, AL)  # LINKING_VIEW over the pairing (the agency liaison by its department)
LIAISONS = (VS, TS, AL)  # keep the lists: a side's post holders, and the town as overseer
NOT_LIAISONS = (CS, AUD, GW, *NONE)
TOWNISH = (TS, CS)  # make, end and staff pairings; links; alliances
NOT_TOWNISH = (VS, AL, AUD, GW, *NONE)
LIST_READERS = (*VIEWERS, OUT)  # lists in the caller's own scope: town B sees its own (none)
TERRITORY_VIEWERS = (VS, TS, CS, AUD)  # rows of village A1 that are not a pairing's
TERRITORY_OUT = (OUT, AL)

_seq = itertools.count(1)


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


def _pk(getter):
    return lambda w: {"pk": getter(w).pk}


def _fresh(name, make, used):
    return lambda w: {"pk": _unused(w, name, lambda: make(w), used).pk}


def _today():
    return timezone.localdate()


def _in_days(days):
    return str(_today() + dt.timedelta(days=days))


def _services():
    from gongzhi.linking import services

    return services


# ---------------------------------------------------------------------------------------------
# the pairing and what hangs off it


def linked(world):
    """The signed pairing of tests/linking/conftest.py (lead: the agency liaison, partner: VS)."""
    return _memo(world, "_lapi_linked", lambda: make_pairing(world))


def pairing(world):
    return linked(world).pairing


def _draft_pairing(world):
    return make_pairing(world, sign=False).pairing


def _partner_post(pairing_):
    return pairing_.posts.get(side="partner")


def _handover_post(world):
    """The partner post of a fresh pairing, still held by the village secretary."""
    return _partner_post(_draft_pairing(world))


def _vacant_post(world):
    return _services().post_add(actor=world.system, pairing=pairing(world), side="partner",
                                title=f"村联络员{next(_seq)}")


def resource(world):
    lk = linked(world)
    return _memo(world, "_lapi_resource", lambda: _services().resource_add(
        actor=lk.lead, pairing=lk.pairing, kind="experts", name="政策专家服务队", capacity=1000, unit="次",
        use_form="serve"))


def _need(world):
    lk = linked(world)
    s = _services()
    need = s.need_raise(actor=lk.partner, pairing=lk.pairing, title="老人政策咨询", kind="service", grade="core",
                        quantity=1, unit="次", asked_by="二组老人")
    return s.need_check(actor=lk.partner, need=need, feasibility="feasible", note="可每月上门一次")


def need(world):
    return _memo(world, "_lapi_need", lambda: _need(world))


def _project(world, tasks=()):
    resource(world)
    return _services().project_confirm(actor=linked(world).partner, need=_need(world), resource=resource(world),
                                       quantity=1, tasks=tasks)


def project(world):
    return _memo(world, "_lapi_project", lambda: _project(world, tasks=[
        {"title": "上门讲解医保政策", "assignee_name": "张三", "due_on": _today() + dt.timedelta(days=30)}]))


def task(world):
    return _memo(world, "_lapi_task", lambda: project(world).tasks.get())


def _activity(world, *, held=False):
    lk = linked(world)
    s = _services()
    now = timezone.now()
    activity = s.activity_plan(actor=lk.lead, pairing=lk.pairing, kind="service", title="政策宣讲进村",
                               place="五一村村委会", starts_at=now - dt.timedelta(hours=2),
                               ends_at=now + dt.timedelta(hours=1))
    if held:
        s.activity_hold(actor=lk.partner, activity=activity, summary="为二组老人讲解医保报销政策", residents_served=12)
    return activity


def activity(world):
    return _memo(world, "_lapi_activity", lambda: _activity(world))


def attendance(world):
    return _memo(world, "_lapi_attendance", lambda: _services().attendance_record(
        actor=linked(world).partner, activity=activity(world), side="resident", name="张大爷"))


def feedback(world):
    lk = linked(world)
    return _memo(world, "_lapi_feedback", lambda: _services().feedback_record(
        actor=lk.partner, pairing=lk.pairing, channel="window", text="希望活动安排在农闲时节"))


def _plan(world):
    lk = linked(world)
    year = _today().year + 1
    return _services().plan_draft(actor=lk.partner, pairing=lk.pairing, period=f"{year}年度",
                                  starts_on=dt.date(year, 1, 1), ends_on=dt.date(year, 12, 31),
                                  content="每季度开展一次政策宣讲，每月一次上门服务")


def plan(world):
    return _memo(world, "_lapi_plan", lambda: _plan(world))


def _approval(world):
    lk = linked(world)
    return _services().approval_request(actor=lk.lead, pairing=lk.pairing, kind="venue", title="借用镇会议室",
                                        detail="下周三下午召开联席会议，需会议室一间")


def approval(world):
    return _memo(world, "_lapi_approval", lambda: _approval(world))


def _new_case(world):
    from gongzhi.cases import services
    from gongzhi.cases.catalogue import install_default_catalogue
    from gongzhi.cases.models import CaseCategory, TimeLimitDefault

    if not CaseCategory.objects.filter(county__isnull=True, code="demand-small-matter").exists():
        install_default_catalogue(CaseCategory, TimeLimitDefault)
    return services.case_register(
        actor=world.system, category=CaseCategory.objects.get(county__isnull=True, code="demand-small-matter"),
        title="结对活动时间不便", description="结对共建活动总安排在农忙时节，群众参加不了", channel="hotline",
        grid=world.grids["A1-1"])


def _new_pairing(world):
    agency_org, village_org = make_orgs(world)
    return {"kind": "agency_community", "lead_org": agency_org.pk, "partner_org": village_org.pk,
            "title": "县民政局—五一村结对共建", "term_start": _in_days(-1), "term_end": _in_days(700),
            "lead_post": "机关联络员", "lead_holder": world.user(AL).pk, "partner_post": "村联络员",
            "partner_holder": world.user(VS).pk, "agency_department": world.department.pk}


# ---------------------------------------------------------------------------------------------
# 三联, 535, 镇村工作一体化


def _person(world, name="李新"):
    """A fresh adult resident of A1 (a cadre linked, a team member)."""
    from gongzhi.registry import services

    return services.person_create(actor=world.system, household=world.households["A1-2"], relation="child",
                                  name=name, id_number=new_id(birth=dt.date(1988, 3, 3)))


def _link(world):
    from gongzhi.linking.models import Link

    # The pages' cases may have made the same link in this world already (a link is recorded once).
    existing = Link.objects.filter(kind="department_village", to_region=world.regions["A1"],
                                   from_department=world.department, ended_on__isnull=True).first()
    return existing or _services().link_create(
        actor=world.system, kind="department_village", to_region=world.regions["A1"],
        from_department=world.department, started_on=_today() - dt.timedelta(days=10))


def link(world):
    return _memo(world, "_lapi_link", lambda: _link(world))


def alliance(world):
    return _memo(world, "_lapi_alliance", lambda: _services().alliance_create(
        actor=world.system, region=world.regions["A"], name="城关镇莲虾产业联盟", trade="莲虾共养",
        mode="leading_firm", founded_on=dt.date(2021, 3, 1)))


def key_task(world):
    year = _today().year
    return _memo(world, "_lapi_key_task", lambda: _services().key_task_set(
        actor=world.system, region=world.regions["A1"], year=year, aim="income", title="发展莲虾共养",
        target="100", unit="亩", due_on=dt.date(year, 12, 31)))


def _team(world, year):
    return _services().work_team_station(
        actor=world.system, region=world.regions["A1"], year=year, town_leader=world.persons["A1-2"],
        town_leader_post="副镇长", leader=world.persons["A1-1"], leader_post="镇农业办主任")


def team(world):
    return _memo(world, "_lapi_team", lambda: _team(world, _today().year))


def member(world):
    return _memo(world, "_lapi_member", lambda: team(world).members.get(role="leader"))


def _station_member(world):
    """The leader of a team stationed now (a fresh year each time): a member with no days yet."""
    return _team(world, 2040 + next(_seq)).members.get(role="leader")


def _joined_member(world):
    return _services().work_team_member_add(actor=world.system, team=team(world), person=_person(world, "王小兵"))


API = "linking_api:"

CASES = [
    Case(API + "overview", api=True, allowed=(*LIST_READERS, GW), forbidden=NONE),
    # the pairing
    Case(API + "pairings", api=True, allowed=(*LIST_READERS, GW), forbidden=NONE),
    Case(API + "pairings", id="POST linking_api:pairings", method="post", api=True, ok=(201,), data=_new_pairing,
         allowed=TOWNISH, forbidden=NOT_TOWNISH, out_of_scope=(OUT,)),
    Case(API + "pairing-detail", kwargs=_pk(pairing), api=True, allowed=(*VIEWERS, GW), forbidden=NONE,
         out_of_scope=(OUT,)),
    Case(API + "pairing-sign", id="POST linking_api:pairing-sign (partner)",
         kwargs=_fresh("_lapi_to_sign_partner", _draft_pairing, lambda p: p.partner_signed_at is not None),
         method="post", api=True, data=lambda w: {"side": "partner"}, allowed=(VS,),
         forbidden=(TS, AL, CS, AUD, GW, *NONE), out_of_scope=(OUT,)),
    Case(API + "pairing-sign", id="POST linking_api:pairing-sign (lead)",
         kwargs=_fresh("_lapi_to_sign_lead", _draft_pairing, lambda p: p.lead_signed_at is not None),
         method="post", api=True, data=lambda w: {"side": "lead"}, allowed=(AL,),
         forbidden=(TS, VS, CS, AUD, GW, *NONE), out_of_scope=(OUT,)),
    Case(API + "pairing-end", kwargs=_fresh("_lapi_to_end", _draft_pairing, lambda p: p.status == "ended"),
         method="post", api=True, data=lambda w: {"reason": "结对期满"}, allowed=TOWNISH, forbidden=NOT_TOWNISH,
         out_of_scope=(OUT,)),
    Case(API + "post-add", kwargs=_pk(pairing), method="post", api=True, ok=(201,),
         data=lambda w: {"side": "partner", "title": f"村妇联联络员{next(_seq)}"}, allowed=TOWNISH,
         forbidden=NOT_TOWNISH, out_of_scope=(OUT,)),
    Case(API + "post-handover", kwargs=lambda w: {"pk": _partner_post(pairing(w)).pk}, api=True, allowed=VIEWERS,
         forbidden=(GW, *NONE), out_of_scope=(OUT,)),
    Case(API + "post-handover", id="POST linking_api:post-handover",
         kwargs=_fresh("_lapi_to_hand_over", _handover_post, lambda p: p.holder.username != VS), method="post",
         api=True, ok=(201,),
         data=lambda w: {"incoming": w.user(TS).pk, "summary": "村联络员调整，结对现状、联系人和在办事项已书面交接"},
         allowed=(VS, TS), forbidden=(AL, CS, AUD, GW, *NONE), out_of_scope=(OUT,)),
    Case(API + "post-assign", kwargs=_fresh("_lapi_vacant", _vacant_post, lambda p: p.holder_id is not None),
         method="post", api=True, data=lambda w: {"holder": w.user(VS).pk}, allowed=TOWNISH, forbidden=NOT_TOWNISH,
         out_of_scope=(OUT,)),
    Case(API + "message-post", kwargs=_pk(pairing), method="post", api=True, ok=(201,),
         data=lambda w: {"text": "下周三召开联席会议", "kind": "message"}, allowed=LIAISONS, forbidden=NOT_LIAISONS,
         out_of_scope=(OUT,)),
    Case(API + "pairing-archive", kwargs=_pk(pairing), api=True, allowed=VIEWERS, forbidden=(GW, *NONE),
         out_of_scope=(OUT,)),
    # the three lists
    Case(API + "resources", kwargs=_pk(pairing), api=True, allowed=VIEWERS, forbidden=(GW, *NONE),
         out_of_scope=(OUT,)),
    Case(API + "resources", id="POST linking_api:resources", kwargs=_pk(pairing), method="post", api=True,
         ok=(201,), data=lambda w: {"kind": "venue", "name": "党员活动室", "capacity": 2, "unit": "间",
                                    "use_form": "open"},
         allowed=LIAISONS, forbidden=NOT_LIAISONS, out_of_scope=(OUT,)),
    Case(API + "resource-detail", kwargs=_pk(resource), api=True, allowed=VIEWERS, forbidden=(GW, *NONE),
         out_of_scope=(OUT,)),
    # The lead side's resource: changed by the lead side (or the town), not by the village.
    Case(API + "resource-detail", id="PATCH linking_api:resource-detail", kwargs=_pk(resource), method="patch",
         api=True, data=lambda w: {"conditions": "工作日提前三天预约"}, allowed=(AL, TS),
         forbidden=(VS, *NOT_LIAISONS), out_of_scope=(OUT,)),
    Case(API + "resource-review", kwargs=_pk(resource), method="post", api=True,
         data=lambda w: {"still_valid": True}, allowed=(AL, TS), forbidden=(VS, *NOT_LIAISONS), out_of_scope=(OUT,)),
    Case(API + "needs", kwargs=_pk(pairing), api=True, allowed=(*VIEWERS, GW), forbidden=NONE, out_of_scope=(OUT,)),
    Case(API + "needs", id="POST linking_api:needs", kwargs=_pk(pairing), method="post", api=True, ok=(201,),
         data=lambda w: {"title": "课后托管", "kind": "volunteers", "grade": "important", "quantity": 2,
                         "asked_by": "二组留守儿童家长"},
         allowed=(*LIAISONS, GW), forbidden=(CS, AUD, *NONE), out_of_scope=(OUT,)),
    Case(API + "need-detail", kwargs=_pk(need), api=True, allowed=(*VIEWERS, GW), forbidden=NONE,
         out_of_scope=(OUT,)),
    Case(API + "need-check", kwargs=_pk(need), method="post", api=True,
         data=lambda w: {"feasibility": "feasible", "note": "县医院专家每月可上门一次"}, allowed=LIAISONS,
         forbidden=NOT_LIAISONS, out_of_scope=(OUT,)),
    Case(API + "need-review", kwargs=_pk(need), method="post", api=True, data=lambda w: {"still_valid": True},
         allowed=LIAISONS, forbidden=NOT_LIAISONS, out_of_scope=(OUT,)),
    Case(API + "need-candidates", kwargs=_pk(need), api=True, allowed=VIEWERS, forbidden=(GW, *NONE),
         out_of_scope=(OUT,)),
    Case(API + "need-confirm", kwargs=_fresh("_lapi_to_match", _need, lambda n: n.status != "open"), method="post",
         api=True, ok=(201,), data=lambda w: {"resource": resource(w).pk, "quantity": 1}, allowed=LIAISONS,
         forbidden=NOT_LIAISONS, out_of_scope=(OUT,)),
    Case(API + "projects", kwargs=_pk(pairing), api=True, allowed=VIEWERS, forbidden=(GW, *NONE),
         out_of_scope=(OUT,)),
    Case(API + "project-detail", kwargs=_pk(project), api=True, allowed=VIEWERS, forbidden=(GW, *NONE),
         out_of_scope=(OUT,)),
    Case(API + "project-task-add", kwargs=_pk(project), method="post", api=True, ok=(201,),
         data=lambda w: {"title": "回访服务对象", "assignee_name": "李四", "due_on": _in_days(40),
                         "department": w.department.pk},
         allowed=LIAISONS, forbidden=NOT_LIAISONS, out_of_scope=(OUT,)),
    Case(API + "project-complete", kwargs=_fresh("_lapi_to_complete", _project, lambda p: p.status != "underway"),
         method="post", api=True, data=lambda w: {"outcome": "为二组12位老人上门讲解医保报销，解决报销难题5件"},
         allowed=LIAISONS, forbidden=NOT_LIAISONS, out_of_scope=(OUT,)),
    Case(API + "project-review", kwargs=_pk(project), method="post", api=True, data=lambda w: {"still_valid": True},
         allowed=LIAISONS, forbidden=NOT_LIAISONS, out_of_scope=(OUT,)),
    Case(API + "task-progress", kwargs=_pk(task), method="post", api=True,
         data=lambda w: {"progress": 40, "note": "已上门两次"}, allowed=LIAISONS, forbidden=NOT_LIAISONS,
         out_of_scope=(OUT,)),
    # activities
    Case(API + "activities", kwargs=_pk(pairing), api=True, allowed=VIEWERS, forbidden=(GW, *NONE),
         out_of_scope=(OUT,)),
    Case(API + "activities", id="POST linking_api:activities", kwargs=_pk(pairing), method="post", api=True,
         ok=(201,),
         data=lambda w: {"kind": "joint_meeting", "title": "第三季度联席会议", "place": "五一村村委会",
                         "starts_at": (timezone.now() + dt.timedelta(days=3)).isoformat(),
                         "ends_at": (timezone.now() + dt.timedelta(days=3, hours=2)).isoformat()},
         allowed=LIAISONS, forbidden=NOT_LIAISONS, out_of_scope=(OUT,)),
    Case(API + "activity-detail", kwargs=_pk(activity), api=True, allowed=VIEWERS, forbidden=(GW, *NONE),
         out_of_scope=(OUT,)),
    Case(API + "activity-attendance", kwargs=_pk(activity), method="post", api=True, ok=(201,),
         data=lambda w: {"side": "resident", "name": "李大娘"}, allowed=LIAISONS, forbidden=NOT_LIAISONS,
         out_of_scope=(OUT,)),
    Case(API + "attendance-left", kwargs=_pk(attendance), method="post", api=True,
         data=lambda w: {"left_at": timezone.now().isoformat()}, allowed=LIAISONS, forbidden=NOT_LIAISONS,
         out_of_scope=(OUT,)),
    Case(API + "activity-hold", kwargs=_fresh("_lapi_to_hold", _activity, lambda a: a.status != "planned"),
         method="post", api=True, data=lambda w: {"summary": "讲解医保报销政策，现场解答问题8个", "residents_served": 20},
         allowed=LIAISONS, forbidden=NOT_LIAISONS, out_of_scope=(OUT,)),
    Case(API + "activity-cancel", kwargs=_fresh("_lapi_to_cancel", _activity, lambda a: a.status != "planned"),
         method="post", api=True, data=lambda w: {"reason": "暴雨预警，改期举行"}, allowed=LIAISONS,
         forbidden=NOT_LIAISONS, out_of_scope=(OUT,)),
    Case(API + "activity-evaluate", id="POST linking_api:activity-evaluate (partner)",
         kwargs=_fresh("_lapi_to_evaluate_p", lambda w: _activity(w, held=True),
                       lambda a: a.evaluations.filter(by_side="partner").exists()),
         method="post", api=True, ok=(201,),
         data=lambda w: {"by_side": "partner", "outcome": "解答了12位老人的医保报销问题", "effect": 3, "cooperation": 3,
                         "residents_benefited": 12},
         allowed=(VS, TS), forbidden=(AL, *NOT_LIAISONS), out_of_scope=(OUT,)),
    Case(API + "activity-evaluate", id="POST linking_api:activity-evaluate (lead)",
         kwargs=_fresh("_lapi_to_evaluate_l", lambda w: _activity(w, held=True),
                       lambda a: a.evaluations.filter(by_side="lead").exists()),
         method="post", api=True, ok=(201,),
         data=lambda w: {"by_side": "lead", "outcome": "村里组织到位，到场群众40人", "effect": 2, "cooperation": 3,
                         "improve": "提前一周通知群众"},
         allowed=(AL, TS), forbidden=(VS, *NOT_LIAISONS), out_of_scope=(OUT,)),
    # feedback and plans
    Case(API + "feedback", kwargs=_pk(pairing), api=True, allowed=VIEWERS, forbidden=(GW, *NONE),
         out_of_scope=(OUT,)),
    Case(API + "feedback", id="POST linking_api:feedback", kwargs=_pk(pairing), method="post", api=True, ok=(201,),
         data=lambda w: {"channel": "box", "text": "希望多开展法律咨询"}, allowed=LIAISONS, forbidden=NOT_LIAISONS,
         out_of_scope=(OUT,)),
    # From a case: for whoever may read cases (the agency liaison may not).
    Case(API + "feedback-from-case", kwargs=_pk(pairing), method="post", api=True, ok=(201,),
         data=lambda w: {"case": _new_case(w).pk}, allowed=(VS, TS), forbidden=(AL, *NOT_LIAISONS),
         out_of_scope=(OUT,)),
    Case(API + "plans", kwargs=_pk(pairing), api=True, allowed=VIEWERS, forbidden=(GW, *NONE), out_of_scope=(OUT,)),
    Case(API + "plans", id="POST linking_api:plans", kwargs=_pk(pairing), method="post", api=True, ok=(201,),
         data=lambda w: {"period": "下一季度", "starts_on": _in_days(30), "ends_on": _in_days(120),
                         "content": "开展两次政策宣讲"},
         allowed=LIAISONS, forbidden=NOT_LIAISONS, out_of_scope=(OUT,)),
    Case(API + "plan-detail", kwargs=_pk(plan), api=True, allowed=VIEWERS, forbidden=(GW, *NONE),
         out_of_scope=(OUT,)),
    Case(API + "plan-respond", kwargs=_pk(plan), method="post", api=True,
         data=lambda w: {"responses": [{"feedback": feedback(w).pk, "taken_in": True,
                                        "response": "活动改在农闲的冬季开展"}]},
         allowed=LIAISONS, forbidden=NOT_LIAISONS, out_of_scope=(OUT,)),
    Case(API + "plan-adopt", kwargs=_fresh("_lapi_to_adopt", _plan, lambda p: p.status != "draft"), method="post",
         api=True, allowed=LIAISONS, forbidden=NOT_LIAISONS, out_of_scope=(OUT,)),
    # the fast track
    Case(API + "approvals", api=True, allowed=LIST_READERS, forbidden=(GW, *NONE)),
    Case(API + "approval-request", kwargs=_pk(pairing), method="post", api=True, ok=(201,),
         data=lambda w: {"kind": "funds", "title": "活动物资经费", "detail": "购买宣传资料", "amount": "800.00"},
         allowed=LIAISONS, forbidden=NOT_LIAISONS, out_of_scope=(OUT,)),
    Case(API + "approval-detail", kwargs=_pk(approval), api=True, allowed=VIEWERS, forbidden=(GW, *NONE),
         out_of_scope=(OUT,)),
    Case(API + "approval-decide", kwargs=_fresh("_lapi_to_decide", _approval, lambda a: a.status != "pending"),
         method="post", api=True, data=lambda w: {"approve": True}, allowed=TOWNISH, forbidden=NOT_TOWNISH,
         out_of_scope=(OUT,)),
    # 三联 and the 535 links
    Case(API + "links", api=True, allowed=LIST_READERS, forbidden=(GW, *NONE)),
    Case(API + "links", id="POST linking_api:links", method="post", api=True, ok=(201,),
         data=lambda w: {"kind": "town_leader_village", "to_region": w.regions["A1"].pk,
                         "from_person": _person(w, "周明").pk, "from_post": "副镇长", "started_on": _in_days(-1)},
         allowed=TOWNISH, forbidden=NOT_TOWNISH, out_of_scope=(OUT,)),
    Case(API + "link-end", kwargs=_fresh("_lapi_to_unlink", _link, lambda link_: link_.ended_on is not None),
         method="post", api=True, data=lambda w: {"reason": "部门职能调整"}, allowed=TOWNISH, forbidden=NOT_TOWNISH,
         out_of_scope=(OUT,)),
    # A department–village link: the bureau's liaison reaches it through its department.
    Case(API + "link-activities", kwargs=_pk(link), api=True, allowed=VIEWERS, forbidden=(GW, *NONE),
         out_of_scope=(OUT,)),
    Case(API + "link-activities", id="POST linking_api:link-activities", kwargs=_pk(link), method="post", api=True,
         ok=(201,), data=lambda w: {"held_on": _in_days(0), "summary": "走访低保户5户", "problems_solved": 2},
         allowed=(VS, TS, CS, AL), forbidden=(AUD, GW, *NONE), out_of_scope=(OUT,)),
    Case(API + "coverage", api=True, allowed=LIST_READERS, forbidden=(GW, *NONE)),
    Case(API + "village-grades", api=True, allowed=LIST_READERS, forbidden=(GW, *NONE)),
    # Only the county grades villages.
    Case(API + "village-grades", id="POST linking_api:village-grades", method="post", api=True, ok=(200, 201),
         data=lambda w: {"region": w.regions["A1"].pk, "grade": "weak", "reason": "集体经济空壳"}, allowed=(CS,),
         forbidden=(VS, TS, AL, AUD, GW, OUT, *NONE)),
    Case(API + "alliances", api=True, allowed=LIST_READERS, forbidden=(GW, *NONE)),
    Case(API + "alliances", id="POST linking_api:alliances", method="post", api=True, ok=(201,),
         data=lambda w: {"region": w.regions["A"].pk, "name": f"城关镇茶叶产业联盟{next(_seq)}", "trade": "茶叶",
                         "mode": "same_trade", "founded_on": "2022-04-01"},
         allowed=TOWNISH, forbidden=NOT_TOWNISH, out_of_scope=(OUT,)),
    # A town's alliance: beyond a village secretary's village and the liaison's department.
    Case(API + "alliance-detail", kwargs=_pk(alliance), api=True, allowed=(TS, CS, AUD), forbidden=(GW, *NONE),
         out_of_scope=(OUT, VS, AL)),
    Case(API + "alliance-member-add", kwargs=_pk(alliance), method="post", api=True, ok=(201,),
         data=lambda w: {"name": f"五一村股份经济合作社{next(_seq)}", "member_region": w.regions["A1"].pk},
         allowed=TOWNISH, forbidden=NOT_TOWNISH, out_of_scope=(OUT,)),
    Case(API + "alliance-operation-add", kwargs=_pk(alliance), method="post", api=True, ok=(201,),
         data=lambda w: {"title": "莲虾共养示范基地", "started_on": "2021-05-01", "area_mu": "980.0", "jobs": 35},
         allowed=TOWNISH, forbidden=NOT_TOWNISH, out_of_scope=(OUT,)),
    Case(API + "resource-shares", api=True, allowed=LIST_READERS, forbidden=(GW, *NONE)),
    Case(API + "resource-shares", id="POST linking_api:resource-shares", method="post", api=True, ok=(201,),
         data=lambda w: {"kind": "people", "mode": "secondment", "title": "月河村致富带头人到五一村挂职",
                         "from_region": w.regions["A2"].pk, "to_region": w.regions["A1"].pk, "started_on": _in_days(0)},
         allowed=(VS, TS, CS), forbidden=(AL, AUD, GW, *NONE), out_of_scope=(OUT,)),
    # 镇村工作一体化
    Case(API + "key-tasks", api=True, allowed=LIST_READERS, forbidden=(GW, *NONE)),
    Case(API + "key-tasks", id="POST linking_api:key-tasks", method="post", api=True, ok=(201,),
         data=lambda w: {"region": w.regions["A1"].pk, "year": _today().year, "aim": "collective",
                         "title": "村集体经济收入", "target": "10", "unit": "万元",
                         "due_on": f"{_today().year}-12-31"},
         allowed=TOWNISH, forbidden=(VS, AL, AUD, GW, *NONE), out_of_scope=(OUT,)),
    Case(API + "key-task-detail", kwargs=_pk(key_task), api=True, allowed=TERRITORY_VIEWERS, forbidden=(GW, *NONE),
         out_of_scope=TERRITORY_OUT),
    Case(API + "key-task-report", kwargs=_pk(key_task), method="post", api=True, ok=(201,),
         data=lambda w: {"amount": "2", "note": "新增莲虾共养2亩"}, allowed=(VS, TS),
         forbidden=(CS, AL, AUD, GW, *NONE), out_of_scope=(OUT,)),
    Case(API + "work-teams", api=True, allowed=LIST_READERS, forbidden=(GW, *NONE)),
    Case(API + "work-teams", id="POST linking_api:work-teams", method="post", api=True, ok=(201,),
         data=lambda w: {"region": w.regions["A1"].pk, "year": 2060 + next(_seq) % 40,
                         "town_leader": w.persons["A1-2"].pk, "town_leader_post": "副镇长",
                         "leader": w.persons["A1-1"].pk, "leader_post": "镇农业办主任"},
         allowed=(TS,), forbidden=(VS, CS, AL, AUD, GW, *NONE), out_of_scope=(OUT,)),
    Case(API + "work-team-detail", kwargs=_pk(team), api=True, allowed=TERRITORY_VIEWERS, forbidden=(GW, *NONE),
         out_of_scope=TERRITORY_OUT),
    Case(API + "work-team-member-add", kwargs=_pk(team), method="post", api=True, ok=(201,),
         data=lambda w: {"person": _person(w, "陈刚").pk, "post": "镇党政办干事"}, allowed=(TS,),
         forbidden=(VS, CS, AL, AUD, GW, *NONE), out_of_scope=(OUT,)),
    Case(API + "team-member-end",
         kwargs=_fresh("_lapi_to_leave", _joined_member, lambda m: m.ended_on is not None), method="post",
         api=True, allowed=(TS,), forbidden=(VS, CS, AL, AUD, GW, *NONE), out_of_scope=(OUT,)),
    Case(API + "station-days", kwargs=_pk(member), api=True, allowed=TERRITORY_VIEWERS, forbidden=(GW, *NONE),
         out_of_scope=TERRITORY_OUT),
    # Days are recorded by the village or the town.
    Case(API + "station-days", id="POST linking_api:station-days",
         kwargs=_fresh("_lapi_to_station", _station_member, lambda m: m.days.exists()), method="post", api=True,
         ok=(201,), data=lambda w: {"on": _in_days(0), "work": "入户走访脱贫户"}, allowed=(VS, TS),
         forbidden=(CS, AL, AUD, GW, *NONE), out_of_scope=(OUT,)),
    # The village secretary reads the row of their own village; a town beyond the caller is 404.
    Case(API + "integration", api=True, data=lambda w: {"town": w.regions["A"].pk, "year": _today().year},
         allowed=TERRITORY_VIEWERS, forbidden=(GW, *NONE), out_of_scope=TERRITORY_OUT),
    # County settings: county-wide grants only (the model's own rule); written by the county.
    Case(API + "settings", kwargs=lambda w: {"pk": w.regions["C"].pk}, api=True, allowed=(CS, AUD),
         forbidden=(GW, *NONE), out_of_scope=(VS, TS, AL, OUT)),
    Case(API + "settings", id="PATCH linking_api:settings", kwargs=lambda w: {"pk": w.regions["C"].pk},
         method="patch", api=True, data=lambda w: {"approval_working_days": 4}, allowed=(CS,),
         forbidden=(VS, TS, AL, AUD, GW, OUT, *NONE)),
]
