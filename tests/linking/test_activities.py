"""Joint activities: attendance with early leaving noticed, holding (a joint meeting's decisions
go into the archive), the residents' three-tap survey, both sides' evaluations judged by outcomes,
feedback from every channel, and plans that answer the earlier feedback."""
from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils import timezone

from gongzhi.core.models import AuditLog
from gongzhi.linking import selectors, services
from gongzhi.linking.models import (
    Activity, ActivityAttendance, ActivityStatus, Evaluation, FeedbackItem, MessageKind, PairingMessage, PlanStatus,
    SurveyResponse,
)

from .helpers import activity, add_user, held, project, second_pairing

pytestmark = pytest.mark.django_db


# ---------------------------------------------------------------------------------------------
# planning


def test_activity_plan_validation(linked):
    act = activity(linked)
    assert act.status == ActivityStatus.PLANNED and act.survey_token and act.created_by == linked.lead
    now = timezone.now()
    base = dict(pairing=linked.pairing, kind="service", title="义诊", place="村卫生室", starts_at=now,
                ends_at=now + dt.timedelta(hours=1))
    cases = [({"ends_at": now}, "ends_at"), ({"kind": "party"}, "kind"), ({"title": ""}, "title"),
             ({"place": ""}, "place"), ({"kind": "follow_up"}, "follow_up_of"),
             ({"follow_up_of": act}, "follow_up_of")]  # a follow-up of an activity not yet held
    for fields, key in cases:
        with pytest.raises(ValidationError) as exc:
            services.activity_plan(actor=linked.lead, **{**base, **fields})
        assert key in exc.value.message_dict, fields
    other = second_pairing(linked)
    with pytest.raises(Http404):
        services.activity_plan(actor=linked.world.user("outsider_b"), **base)
    with pytest.raises(PermissionDenied):  # reads the bureau's pairings, acts for no side
        services.activity_plan(actor=linked.world.user("department_handler"), **base)
    done = held(linked)
    visit = services.activity_plan(actor=linked.partner, **{**base, "kind": "follow_up", "follow_up_of": done})
    assert visit.follow_up_of == done and list(done.follow_ups.all()) == [visit]
    # a follow-up of another pairing's activity is refused
    theirs = services.activity_plan(actor=linked.town, pairing=other.pairing, kind="service", title="中学义教",
                                    place="中学", starts_at=now - dt.timedelta(hours=3),
                                    ends_at=now - dt.timedelta(hours=2))
    services.activity_hold(actor=linked.town, activity=theirs, summary="给村里孩子上了两节课")
    with pytest.raises(ValidationError):
        services.activity_plan(actor=linked.lead, **{**base, "kind": "follow_up", "follow_up_of": theirs})


def test_an_activity_of_another_pairings_project_is_refused(linked):
    other = second_pairing(linked)
    from .helpers import need, resource

    theirs = project(other, res=resource(other, actor=linked.town, kind="volunteers", name="中学志愿者"),
                     item=need(other, kind="volunteers", title="课后托管"))
    now = timezone.now()
    with pytest.raises(ValidationError) as exc:
        services.activity_plan(actor=linked.lead, pairing=linked.pairing, kind="service", title="托管",
                               place="村小", starts_at=now, ends_at=now + dt.timedelta(hours=1), project=theirs)
    assert "project" in exc.value.message_dict


# ---------------------------------------------------------------------------------------------
# attendance


def test_attendance_notices_early_leaving_by_the_counties_setting(linked):
    act = activity(linked, hours_ago=2, length_hours=1)
    end = act.ends_at
    early = services.attendance_record(actor=linked.lead, activity=act, side="lead", name="王科长",
                                       left_at=end - dt.timedelta(minutes=20))
    on_time = services.attendance_record(actor=linked.partner, activity=act, side="resident", name="陈大爷",
                                         left_at=end - dt.timedelta(minutes=10))
    stayed = services.attendance_record(actor=linked.partner, activity=act, side="partner", name="村会计")
    assert early.left_early and not on_time.left_early and not stayed.left_early
    assert early.arrived_at == act.starts_at and early.agency_department_id == linked.world.department.pk
    # the county allows half an hour: 20 minutes early is no longer early
    services.linking_settings_save(actor=linked.world.user("county_secretary"), county=linked.world.regions["C"],
                                   early_leave_minutes=30)
    relaxed = services.attendance_record(actor=linked.lead, activity=act, side="lead", name="李干事",
                                         left_at=end - dt.timedelta(minutes=20))
    assert not relaxed.left_early
    left = services.attendance_left(actor=linked.partner, attendance=stayed, left_at=end - dt.timedelta(minutes=45))
    assert left.left_early and left.left_at == end - dt.timedelta(minutes=45)
    assert AuditLog.objects.filter(object_type="linking.activityattendance", object_id=str(stayed.pk),
                                   note="提前离场").exists()


def test_attendance_validation(linked):
    act = activity(linked)
    cases = [({"side": "guest"}, "side"), ({"name": ""}, "name"),
             ({"left_at": act.starts_at - dt.timedelta(minutes=1)}, "left_at")]
    for fields, key in cases:
        with pytest.raises(ValidationError) as exc:
            services.attendance_record(actor=linked.lead, activity=act, **{"side": "lead", "name": "王科长", **fields})
        assert key in exc.value.message_dict
    row = services.attendance_record(actor=linked.lead, activity=act, side="lead", name="王科长",
                                     arrived_at=act.starts_at + dt.timedelta(minutes=30))
    with pytest.raises(ValidationError):
        services.attendance_left(actor=linked.lead, attendance=row, left_at=act.starts_at + dt.timedelta(minutes=10))
    with pytest.raises(Http404):
        services.attendance_record(actor=linked.world.user("outsider_b"), activity=act, side="lead", name="x")
    services.activity_cancel(actor=linked.lead, activity=activity(linked, hours_ago=-24), reason="下雨")
    cancelled = Activity.objects.get(status=ActivityStatus.CANCELLED)
    with pytest.raises(ValidationError) as exc:
        services.attendance_record(actor=linked.lead, activity=cancelled, side="lead", name="王科长")
    assert "activity" in exc.value.message_dict
    assert ActivityAttendance.objects.count() == 1


# ---------------------------------------------------------------------------------------------
# holding


def test_a_joint_meeting_needs_its_decisions_which_become_an_archive_decision(linked):
    meeting = activity(linked, kind="joint_meeting")
    with pytest.raises(ValidationError) as exc:
        services.activity_hold(actor=linked.lead, activity=meeting, summary="双方交流了下半年工作", decisions="  ")
    assert "decisions" in exc.value.message_dict
    meeting.refresh_from_db()
    assert meeting.status == ActivityStatus.PLANNED and not PairingMessage.objects.exists()
    done = services.activity_hold(actor=linked.partner, activity=meeting, summary="双方交流了下半年工作",
                                  decisions="一、每月第一周上门；二、共建老年食堂", residents_served=0)
    assert done.status == ActivityStatus.HELD and done.held_at is not None
    message = PairingMessage.objects.get(pairing=linked.pairing)
    assert message.kind == MessageKind.DECISION and "共建老年食堂" in message.text and meeting.title in message.text
    archive = services.archive_summary(linked.pairing)
    # the decisions are counted once (as the decision message they became)
    assert (archive["joint_meetings"], archive["decisions"], archive["activities_held"], archive["messages"]) == \
        (1, 1, 1, 1)
    assert list(selectors.archive_of(user=linked.lead, pairing=linked.pairing)["meetings"]) == [done]
    with pytest.raises(ValidationError):
        services.activity_hold(actor=linked.lead, activity=meeting, summary="再记一次", decisions="x")
    with pytest.raises(ValidationError):
        services.activity_cancel(actor=linked.lead, activity=meeting, reason="不开了")


def test_a_service_activity_is_held_without_decisions_and_not_before_it_starts(linked):
    future = activity(linked, hours_ago=-3)
    with pytest.raises(ValidationError) as exc:
        services.activity_hold(actor=linked.lead, activity=future, summary="提前记录")
    assert "尚未开始" in exc.value.message_dict["activity"][0]
    act = activity(linked)
    with pytest.raises(ValidationError):
        services.activity_hold(actor=linked.lead, activity=act, summary="")
    done = services.activity_hold(actor=linked.lead, activity=act, summary="为30位老人讲解医保", residents_served=30)
    assert done.residents_served == 30 and done.decisions == ""
    assert not PairingMessage.objects.filter(kind=MessageKind.DECISION).exists()
    with pytest.raises(ValidationError):
        services.activity_cancel(actor=linked.lead, activity=future, reason="")
    services.activity_cancel(actor=linked.lead, activity=future, reason="专家临时有事")
    future.refresh_from_db()
    assert future.status == ActivityStatus.CANCELLED and future.summary == "专家临时有事"


# ---------------------------------------------------------------------------------------------
# the residents' survey (public: no login)


def test_survey_answer_is_anonymous_and_counted(linked):
    act = held(linked)
    first = services.survey_answer(token=act.survey_token, content=3, format="2", timing=1)
    assert (first.content, first.format, first.timing) == (3, 2, 1) and first.channel == "survey"
    assert first.village_id == linked.world.regions["A1"].pk
    assert not FeedbackItem.objects.exists()  # no comment, nothing to answer
    services.survey_answer(token=act.survey_token, content="3", format=3, timing=3, comment="  ")
    summary = selectors.activity_survey_summary(act)
    assert summary == {"responses": 2, "content": {3: 2, 2: 0, 1: 0}, "format": {3: 1, 2: 1, 1: 0},
                       "timing": {3: 1, 2: 0, 1: 1}}
    audit = AuditLog.objects.filter(object_type="linking.surveyresponse", object_id=str(first.pk)).get()
    assert audit.actor_id is None and audit.note == "群众现场问卷"


def test_a_survey_comment_becomes_feedback(linked):
    act = held(linked)
    response = services.survey_answer(token=act.survey_token, content=2, format=2, timing=1,
                                      comment="时间安排在农忙，希望改到晚上")
    item = FeedbackItem.objects.get()
    assert item.channel == "survey" and item.survey_response == response and item.activity == act
    assert item.text == "时间安排在农忙，希望改到晚上" and item.pairing == linked.pairing
    assert item.received_at == response.created_at and item.recorded_by is None


def test_bad_survey_answers_are_refused_by_field(linked):
    act = held(linked)
    with pytest.raises(ValidationError) as exc:
        services.survey_answer(token=act.survey_token, content=5, format="", timing="good", comment="很" * 301)
    assert set(exc.value.message_dict) == {"content", "format", "timing", "comment"}
    assert exc.value.message_dict["content"] == ["请选择活动内容"]
    with pytest.raises(ValidationError) as exc:
        services.survey_answer(token=act.survey_token, content=3, format=None, timing=3)
    assert set(exc.value.message_dict) == {"format"}
    assert not SurveyResponse.objects.exists() and not FeedbackItem.objects.exists()


def test_survey_window(linked):
    future = activity(linked, hours_ago=-2)
    with pytest.raises(ValidationError) as exc:
        services.survey_answer(token=future.survey_token, content=3, format=3, timing=3)
    assert exc.value.message_dict["__all__"] == ["活动尚未开始"]
    # ended six days ago: still open; ended eight days ago: closed
    recent = activity(linked, hours_ago=24 * 6 + 1)
    assert services.survey_answer(token=recent.survey_token, content=3, format=3, timing=3).pk
    old = activity(linked, hours_ago=24 * 8 + 1)
    with pytest.raises(ValidationError) as exc:
        services.survey_answer(token=old.survey_token, content=3, format=3, timing=3)
    assert exc.value.message_dict["__all__"] == ["本次活动的问卷已关闭"]
    cancelled = activity(linked)
    services.activity_cancel(actor=linked.lead, activity=cancelled, reason="停电")
    with pytest.raises(ValidationError):
        services.survey_answer(token=cancelled.survey_token, content=3, format=3, timing=3)
    with pytest.raises(Http404):
        services.survey_answer(token="no-such-token", content=3, format=3, timing=3)
    assert SurveyResponse.objects.count() == 1


# ---------------------------------------------------------------------------------------------
# two-way evaluation


def _evaluate(linked, act, side, actor=None, **fields):
    values = dict(outcome="为二组30位老人讲清了医保报销，现场办理3件", effect=3, cooperation=3, problems_solved=3,
                  residents_benefited=30)
    values.update(fields)
    return services.evaluation_record(actor=actor or (linked.lead if side == "lead" else linked.partner),
                                      activity=act, by_side=side, **values)


def test_each_side_evaluates_once_by_its_post_holder(linked):
    act = held(linked)
    with pytest.raises(PermissionDenied):
        _evaluate(linked, act, "partner", actor=linked.lead)
    with pytest.raises(PermissionDenied):
        _evaluate(linked, act, "lead", actor=linked.partner)
    with pytest.raises(PermissionDenied):
        _evaluate(linked, act, "lead", actor=linked.world.user("department_handler"))
    lead = _evaluate(linked, act, "lead")
    partner = _evaluate(linked, act, "partner", effect=2, cooperation=3, problems_solved=0, residents_benefited=0,
                        outcome="老人们了解了政策，但办理还要跑镇里", improve="下次带上办理设备")
    assert (lead.evaluator, partner.evaluator) == (linked.lead, linked.partner)
    assert Evaluation.objects.filter(activity=act).count() == 2
    with pytest.raises(ValidationError) as exc:
        _evaluate(linked, act, "lead")
    assert "本方已评价过" in exc.value.message_dict["by_side"][0]
    # a suggestion for the other side is feedback the next plan must answer
    item = FeedbackItem.objects.get()
    assert item.channel == "evaluation" and item.evaluation == partner and "下次带上办理设备" in item.text
    assert services.archive_summary(linked.pairing)["evaluations"] == 2


def test_an_overseer_may_evaluate_for_a_side(linked):
    act = held(linked)
    evaluation = _evaluate(linked, act, "partner", actor=linked.town)
    assert evaluation.evaluator == linked.town and evaluation.by_side == "partner"


@pytest.mark.parametrize("outcome", ["已完成", "活动已开展。", "圆满完成！", "按计划完成", "ok"])
def test_an_evaluation_that_only_says_done_is_refused(linked, outcome):
    act = held(linked)
    with pytest.raises(ValidationError) as exc:
        _evaluate(linked, act, "lead", outcome=outcome)
    assert "已完成" in exc.value.message_dict["outcome"][0]
    assert not Evaluation.objects.exists()


def test_a_good_effect_needs_a_number(linked):
    act = held(linked)
    with pytest.raises(ValidationError) as exc:
        _evaluate(linked, act, "lead", effect=3, problems_solved=0, residents_benefited=0)
    assert "problems_solved" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        _evaluate(linked, act, "lead", effect=4)
    assert "effect" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        _evaluate(linked, act, "lead", cooperation="")
    assert "cooperation" in exc.value.message_dict
    assert not Evaluation.objects.exists()
    assert _evaluate(linked, act, "lead", problems_solved=0, residents_benefited=12).residents_benefited == 12


def test_evaluation_only_after_the_activity_is_held(linked):
    act = activity(linked)
    with pytest.raises(ValidationError) as exc:
        _evaluate(linked, act, "lead")
    assert "activity" in exc.value.message_dict
    with pytest.raises(ValidationError):
        _evaluate(linked, held(linked), "both")


# ---------------------------------------------------------------------------------------------
# feedback from every channel


def _case(world, *, region):
    from gongzhi.cases.models import CaseCategory
    from gongzhi.cases.services import case_register

    category = CaseCategory.objects.filter(ledger="demand", active=True).order_by("code").first()
    return case_register(actor=world.system, category=category, title="结对单位活动扰民",
                         description="结对单位的活动晚上十点还在放音乐", channel="hotline", region=region,
                         requester_name="来电群众", requester_phone="13900000000")


def test_feedback_from_a_12345_case(linked):
    world = linked.world
    case = _case(world, region=world.regions["A1"])
    dispatcher = add_user(world, "county_dispatcher", "dispatcher", "县联系办调度员", region=world.regions["C"])
    item = services.feedback_from_case(actor=dispatcher, pairing=linked.pairing, case=case)
    assert item.channel == "hotline" and item.case == case and item.recorded_by == dispatcher
    assert item.text.startswith(f"事项{case.number or case.tracking_code}：") and "放音乐" in item.text
    assert item.received_at == case.received_at
    assert "13900000000" not in item.text and "来电群众" not in item.text
    with pytest.raises(ValidationError) as exc:
        services.feedback_from_case(actor=linked.partner, pairing=linked.pairing, case=case)
    assert "已记入" in exc.value.message_dict["case"][0]
    # the agency's liaison does not read residents' cases
    with pytest.raises(PermissionDenied):
        services.feedback_from_case(actor=linked.lead, pairing=linked.pairing,
                                    case=_case(world, region=world.regions["A1"]))
    assert FeedbackItem.objects.count() == 1


def test_feedback_from_a_case_of_another_county_is_refused(linked):
    from gongzhi.registry import services as registry_services

    world = linked.world
    county = registry_services.region_create(actor=world.system, code="610922000000", name="石泉县", kind="county")
    town = registry_services.region_create(actor=world.system, code="610922100000", name="城关镇", kind="town",
                                           parent=county)
    village = registry_services.region_create(actor=world.system, code="610922100201", name="某村", kind="village",
                                              parent=town)
    case = _case(world, region=village)
    with pytest.raises(ValidationError) as exc:
        services.feedback_from_case(actor=world.system, pairing=linked.pairing, case=case)
    assert "不在本县" in exc.value.message_dict["case"][0]


def test_feedback_taken_at_the_window(linked):
    act = held(linked)
    item = services.feedback_record(actor=linked.partner, pairing=linked.pairing, channel="window",
                                    text="希望多来几次法律讲座", activity=act)
    assert item.channel == "window" and item.activity == act and item.recorded_by == linked.partner
    for channel in ("hotline", "survey", "evaluation", "carrier_pigeon"):
        with pytest.raises(ValidationError) as exc:
            services.feedback_record(actor=linked.partner, pairing=linked.pairing, channel=channel, text="x")
        assert "channel" in exc.value.message_dict
    with pytest.raises(ValidationError):
        services.feedback_record(actor=linked.partner, pairing=linked.pairing, channel="box", text=" ")
    other = second_pairing(linked)
    theirs = services.activity_plan(actor=linked.town, pairing=other.pairing, kind="service", title="中学义教",
                                    place="中学", starts_at=timezone.now(),
                                    ends_at=timezone.now() + dt.timedelta(hours=1))
    with pytest.raises(ValidationError) as exc:
        services.feedback_record(actor=linked.partner, pairing=linked.pairing, channel="box", text="x", activity=theirs)
    assert "activity" in exc.value.message_dict


# ---------------------------------------------------------------------------------------------
# plans that take in the earlier feedback


def _plan(linked, period="2027年度", year=2027):
    return services.plan_draft(actor=linked.lead, pairing=linked.pairing, period=period,
                               starts_on=dt.date(year, 1, 1), ends_on=dt.date(year, 12, 31),
                               content="全年开展12次服务活动")


def test_plan_adoption_waits_for_every_earlier_feedback(linked):
    act = held(linked)
    window = services.feedback_record(actor=linked.partner, pairing=linked.pairing, channel="window",
                                      text="希望多来几次法律讲座")
    services.survey_answer(token=act.survey_token, content=2, format=2, timing=1, comment="时间改到晚上")
    survey = FeedbackItem.objects.get(channel="survey")
    plan = _plan(linked)
    with pytest.raises(ValidationError) as exc:
        services.plan_adopt(actor=linked.lead, plan=plan)
    assert "还有2条" in exc.value.message_dict["plan"][0]
    services.plan_respond(actor=linked.lead, plan=plan, responses={window.pk: (True, "每季度一次法律讲座")})
    with pytest.raises(ValidationError) as exc:
        services.plan_adopt(actor=linked.partner, plan=plan)
    assert "还有1条" in exc.value.message_dict["plan"][0] and "时间改到晚上" in exc.value.message_dict["plan"][0]
    # a response must say how, or why not
    with pytest.raises(ValidationError):
        services.plan_respond(actor=linked.lead, plan=plan, responses={survey.pk: (False, "  ")})
    services.plan_respond(actor=linked.lead, plan=plan, responses={str(survey.pk): (False, "晚上老人不便出门，改周末上午")})
    # answering again corrects the answer, it does not add one
    services.plan_respond(actor=linked.lead, plan=plan, responses={window.pk: (True, "每两个月一次法律讲座")})
    assert plan.responses.count() == 2
    assert plan.responses.get(feedback=window).response == "每两个月一次法律讲座"
    adopted = services.plan_adopt(actor=linked.partner, plan=plan)
    assert adopted.status == PlanStatus.ADOPTED and adopted.adopted_at is not None
    assert not services.feedback_awaiting(linked.pairing).exists()
    with pytest.raises(ValidationError):
        services.plan_adopt(actor=linked.partner, plan=plan)
    with pytest.raises(ValidationError) as exc:
        services.plan_respond(actor=linked.lead, plan=plan, responses={window.pk: (True, "再改")})
    assert "已通过" in exc.value.message_dict["plan"][0]


def test_feedback_answered_by_an_adopted_plan_no_longer_awaits(linked):
    first = services.feedback_record(actor=linked.partner, pairing=linked.pairing, channel="box", text="路灯不亮")
    plan = _plan(linked)
    services.plan_respond(actor=linked.lead, plan=plan, responses={first.pk: (True, "协调修路灯")})
    # answered by a draft only: still awaiting
    assert list(services.feedback_awaiting(linked.pairing)) == [first]
    services.plan_adopt(actor=linked.lead, plan=plan)
    later = services.feedback_record(actor=linked.partner, pairing=linked.pairing, channel="account", text="想学电商")
    assert list(services.feedback_awaiting(linked.pairing)) == [later]
    following = _plan(linked, period="2028年度", year=2028)
    with pytest.raises(ValidationError) as exc:
        services.plan_respond(actor=linked.lead, plan=following, responses={first.pk: (True, "再说一次")})
    assert "已被此前的计划回应" in exc.value.message_dict["responses"][0]
    with pytest.raises(ValidationError):
        services.plan_adopt(actor=linked.lead, plan=following)
    services.plan_respond(actor=linked.lead, plan=following, responses={later.pk: (True, "开电商培训班")})
    assert services.plan_adopt(actor=linked.lead, plan=following).status == PlanStatus.ADOPTED
    # each piece of feedback shows the plan that answered it
    shown = {f.pk: [r.plan for r in f.plan_responses.all()] for f in selectors.feedback_of(user=linked.lead,
                                                                                          pairing=linked.pairing)}
    assert shown == {first.pk: [plan], later.pk: [following]}


def test_plan_validation_and_other_pairings_feedback(linked):
    with pytest.raises(ValidationError):
        services.plan_draft(actor=linked.lead, pairing=linked.pairing, period="2027年度",
                            starts_on=dt.date(2027, 1, 1), ends_on=dt.date(2027, 1, 1), content="x")
    with pytest.raises(ValidationError):
        services.plan_draft(actor=linked.lead, pairing=linked.pairing, period="",
                            starts_on=dt.date(2027, 1, 1), ends_on=dt.date(2027, 12, 31), content="x")
    with pytest.raises(PermissionDenied):
        services.plan_draft(actor=linked.world.user("department_handler"), pairing=linked.pairing, period="2027",
                            starts_on=dt.date(2027, 1, 1), ends_on=dt.date(2027, 12, 31), content="x")
    other = second_pairing(linked)
    theirs = services.feedback_record(actor=linked.partner, pairing=other.pairing, channel="box", text="中学的事")
    plan = _plan(linked)
    with pytest.raises(ValidationError) as exc:
        services.plan_respond(actor=linked.lead, plan=plan, responses={theirs.pk: (True, "吸纳")})
    assert "不属于本结对" in exc.value.message_dict["responses"][0]
    # nothing of the other pairing holds this plan up
    assert services.plan_adopt(actor=linked.lead, plan=plan).status == PlanStatus.ADOPTED
