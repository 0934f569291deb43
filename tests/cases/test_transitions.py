"""Driving cases through every path of the workflow, by the right personas, refused to the wrong ones."""
from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils import timezone

from gongzhi.cases import services
from gongzhi.cases.choices import CaseStatus as S
from gongzhi.cases.choices import ClosedAs, Ledger, Level
from gongzhi.cases.deadlines import limit_for
from gongzhi.cases.models import Case, CaseEvent, Notification
from gongzhi.cases.selectors import handler_queue, summons_queue
from gongzhi.cases.tasks import run_sweep
from gongzhi.cases.workflow import TRANSITIONS, TransitionNotAllowed
from gongzhi.core.models import AuditLog
from gongzhi.core.workdays import add_days, add_working_days

from .conftest import category
from .helpers import kinds, register, through_answer, to_in_progress_at_village


def test_the_happy_path_runs_all_nine_steps(cw, sms, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        case = _happy_path(cw)
    assert kinds(case) == ["register", "accept", "assign", "sign", "urge", "report_result", "approve", "reply",
                           "record_satisfaction", "close"]
    assert AuditLog.objects.filter(object_type="cases.case", object_id=str(case.pk), action="transition").count() == 9
    assert AuditLog.objects.filter(object_type="cases.case", object_id=str(case.pk), action="create").count() == 1
    # the requester heard of acceptance, the answer with the satisfaction question, and closure
    texts = [text for phone, text in sms if phone == "13812345678"]
    assert len(texts) == 3
    assert "已受理" in texts[0] and case.tracking_code in texts[0]
    assert "满意" in texts[1] and "办结归档" in texts[2]
    public = list(case.events.filter(public=True).values_list("kind", flat=True))
    assert "urge" not in public and "accept" in public


def _happy_path(cw):
    case = register(cw)
    assert case.status == S.REGISTERED and case.ledger == Ledger.OPINION
    assert re.fullmatch(r"GZ-\d{4}-\d{6}", case.number)
    assert re.fullmatch(r"[A-Z2-9]{12}", case.tracking_code)
    assert case.acceptance_due_at == add_working_days(case.received_at, 1)
    assert case.village_id == cw.regions["A1"].pk and case.town_id == cw.regions["A"].pk

    secretary = cw.user("village_secretary_a1")
    case = services.case_accept(actor=secretary, case=case)
    assert case.status == S.ACCEPTED
    assert case.resolution_due_at == add_working_days(case.accepted_at, 13)
    case = services.case_assign(actor=secretary, case=case, region=cw.regions["A1"])
    assert (case.status, case.current_level) == (S.ASSIGNED, Level.VILLAGE)
    assert case.response_due_at == add_working_days(case.assigned_at, 1)
    case = services.case_sign(actor=secretary, case=case)
    assert case.status == S.IN_PROGRESS and case.first_response_at and case.handler == secretary
    services.case_urge(actor=cw.user("town_secretary_a"), case=case, note="请本周内修好")
    assert Notification.objects.filter(user=secretary, case=case, kind="urged").exists()
    case = through_answer(cw, Case.objects.get(pk=case.pk))
    assert case.status == S.EVALUATED
    case = services.case_close(actor=secretary, case=case)
    assert (case.status, case.closed_as, case.settled_level) == (S.CLOSED, ClosedAs.RESOLVED, Level.VILLAGE)
    return case


def test_the_transition_table_names_one_service_per_step():
    for name in TRANSITIONS:
        if name == "acknowledge_summons":
            assert hasattr(services, "summons_acknowledge")
        elif name in ("register",):
            assert hasattr(services, "case_register")
        else:
            assert hasattr(services, f"case_{name}"), name


def test_steps_out_of_order_are_refused(cw):
    case = register(cw)
    secretary = cw.user("village_secretary_a1")
    with pytest.raises(TransitionNotAllowed):
        services.case_assign(actor=secretary, case=case, region=cw.regions["A1"])
    with pytest.raises(TransitionNotAllowed):
        services.case_close(actor=secretary, case=case)
    with pytest.raises(TransitionNotAllowed):
        services.case_approve(actor=secretary, case=case)


@pytest.mark.parametrize("persona, error", [
    ("outsider_b", Http404),  # dispatches, but in another town
    ("department_handler", PermissionDenied),  # holds no dispatch permission at all
    ("grid_worker_a1_1", PermissionDenied),
    ("three_line_a1", PermissionDenied),
    ("county_secretary", PermissionDenied),  # instructs and supervises, does not dispatch
])
def test_wrong_personas_cannot_accept(cw, persona, error):
    case = register(cw)
    with pytest.raises(error):
        services.case_accept(actor=cw.user(persona), case=case)
    assert Case.objects.get(pk=case.pk).status == S.REGISTERED


def test_wrong_personas_cannot_sign_off_a_result(cw):
    case = to_in_progress_at_village(cw, register(cw))
    case = services.case_report_result(actor=cw.user("village_secretary_a1"), case=case, result="已处理")
    for persona, error in [("grid_worker_a1_1", PermissionDenied), ("outsider_b", Http404),
                           ("county_dispatcher", PermissionDenied)]:
        with pytest.raises(error):
            services.case_approve(actor=cw.user(persona), case=case)
    assert services.case_approve(actor=cw.user("town_secretary_a"), case=case).status == S.APPROVED


def test_send_back_counts_rework(cw):
    case = to_in_progress_at_village(cw, register(cw))
    secretary = cw.user("village_secretary_a1")
    case = services.case_report_result(actor=secretary, case=case, result="已联系电工")
    with pytest.raises(ValidationError):
        services.case_send_back(actor=secretary, case=case, reason=" ")
    case = services.case_send_back(actor=cw.user("town_secretary_a"), case=case, reason="只联系了电工，没修好")
    assert (case.status, case.rework_count) == (S.IN_PROGRESS, 1)
    assert Notification.objects.filter(user=secretary, case=case, kind="sent_back").exists()
    case = services.case_report_result(actor=secretary, case=case, result="已修好")
    case = services.case_approve(actor=secretary, case=case)
    assert case.status == S.APPROVED and case.rework_count == 1


def test_dissatisfied_leads_to_reopening(cw):
    case = through_answer(cw, to_in_progress_at_village(cw, register(cw)), satisfaction="dissatisfied")
    secretary = cw.user("village_secretary_a1")
    case = services.case_reopen(actor=secretary, case=case, reason="群众反映仍然不亮")
    assert (case.status, case.rework_count, case.satisfaction) == (S.IN_PROGRESS, 1, "")
    case = through_answer(cw, case, satisfaction="basic")
    case = services.case_close(actor=secretary, case=case)
    assert (case.closed_as, case.satisfaction, case.settled_level) == (ClosedAs.RESOLVED, "basic", Level.VILLAGE)


def test_dissatisfied_can_close_unresolved_only_with_a_reason(cw):
    case = through_answer(cw, to_in_progress_at_village(cw, register(cw)), satisfaction="dissatisfied")
    secretary = cw.user("village_secretary_a1")
    with pytest.raises(ValidationError):
        services.case_close(actor=secretary, case=case)
    case = services.case_close(actor=secretary, case=case, reason="诉求超出政策规定，已解释")
    assert (case.status, case.closed_as, case.settled_level) == (S.CLOSED, ClosedAs.UNRESOLVED, "")
    assert case.close_reason == "诉求超出政策规定，已解释"
    with pytest.raises(ValidationError):  # reopening needs a dissatisfied evaluation, not a closed case
        services.case_reopen(actor=secretary, case=case, reason="x")


def _county_case(cw, code="demand-housing-safety", **extra):
    case = register(cw, by="county_dispatcher", code=code, grid=None, region="A1", title="危房改造",
                    description="家中土坯房漏雨", channel="hotline", **extra)
    return services.case_accept(actor=cw.user("county_dispatcher"), case=case)


def test_transfer_moves_the_case_to_another_unit(cw):
    dispatcher = cw.user("county_dispatcher")
    case = services.case_assign(actor=dispatcher, case=_county_case(cw), department=cw.civil_affairs)
    civil = cw.user("department_handler")
    assert case in handler_queue(user=civil)
    with pytest.raises(ValidationError):
        services.case_transfer(actor=civil, case=case, department=cw.housing, reason="")
    case = services.case_transfer(actor=civil, case=case, department=cw.housing, reason="属住房安全，住建局负责")
    assert (case.status, case.assignee_department, case.transfer_count) == (S.ASSIGNED, cw.housing, 1)
    with pytest.raises(Http404):  # no longer the civil affairs bureau's case
        services.case_sign(actor=civil, case=case)
    case = services.case_sign(actor=cw.user("housing_handler"), case=case)
    assert case.status == S.IN_PROGRESS
    assert "属住房安全" in case.events.get(kind="transfer").note


def test_seeing_a_case_is_not_handling_it(cw):
    # the case lies in grid A1-1, but the county gave it to the civil affairs bureau
    case = services.case_assign(actor=cw.user("county_dispatcher"), case=_county_case(cw, code="demand-elderly-care"),
                                department=cw.civil_affairs)
    case = Case.objects.get(pk=case.pk)
    Case.objects.filter(pk=case.pk).update(grid=cw.grids["A1-1"], grid_path=cw.grids["A1-1"].path)
    worker = cw.user("grid_worker_a1_1")
    assert Case.objects.visible_to(worker, "cases.handle_case").filter(pk=case.pk).exists()
    for step in (services.case_sign, services.case_return):
        with pytest.raises(PermissionDenied):
            step(actor=worker, case=case, **({"reason": "x"} if step is services.case_return else {}))
    with pytest.raises(PermissionDenied):
        services.case_sign(actor=cw.user("village_secretary_a1"), case=case)
    assert services.case_sign(actor=cw.user("department_handler"), case=case).status == S.IN_PROGRESS


def test_a_town_cannot_hand_a_case_to_a_county_department(cw):
    case = register(cw, by="town_dispatcher_a", code="opinion-public-service", grid=None, region="A1")
    case = services.case_accept(actor=cw.user("town_dispatcher_a"), case=case)
    with pytest.raises(PermissionDenied):
        services.case_assign(actor=cw.user("town_dispatcher_a"), case=case, department=cw.civil_affairs)
    case = services.case_assign(actor=cw.user("town_dispatcher_a"), case=case, region=cw.regions["A"])
    assert case.current_level == Level.TOWN


def test_return_sends_the_case_back_to_the_dispatcher(cw):
    dispatcher = cw.user("county_dispatcher")
    case = services.case_assign(actor=dispatcher, case=_county_case(cw), department=cw.civil_affairs)
    case = services.case_return(actor=cw.user("department_handler"), case=case, reason="不属于民政职责")
    assert (case.status, case.return_count, case.assignee_department) == (S.RETURNED, 1, None)
    assert Notification.objects.filter(user=dispatcher, case=case, kind="returned").exists()
    case = services.case_assign(actor=dispatcher, case=case, department=cw.housing, note="改派住建局")
    assert case.status == S.ASSIGNED and case.assignee_department == cw.housing


def test_extension_needs_approval_is_counted_and_moves_the_deadline(cw):
    dispatcher = cw.user("county_dispatcher")
    case = services.case_assign(actor=dispatcher, case=_county_case(cw), department=cw.housing)
    handler = cw.user("housing_handler")
    case = services.case_sign(actor=handler, case=case)
    due = case.resolution_due_at
    with pytest.raises(ValidationError):
        services.case_request_extension(actor=handler, case=case, days=11, reason="需要鉴定")  # default max 10
    request = services.case_request_extension(actor=handler, case=case, days=5, reason="需要房屋安全鉴定")
    assert Case.objects.get(pk=case.pk).resolution_due_at == due  # not before approval
    with pytest.raises(PermissionDenied):
        services.case_approve_extension(actor=handler, request=request)
    with pytest.raises(PermissionDenied):  # a village cannot approve for a county-level case
        services.case_approve_extension(actor=cw.user("village_secretary_a1"), request=request)
    services.case_approve_extension(actor=dispatcher, request=request, note="同意")
    case.refresh_from_db()
    assert case.extension_count == 1
    assert case.resolution_due_at == add_working_days(due, 5)
    refused = services.case_request_extension(actor=handler, case=case, days=2, reason="再延")
    services.case_approve_extension(actor=dispatcher, request=refused, approve=False)
    case.refresh_from_db()
    assert case.extension_count == 1 and case.resolution_due_at == add_working_days(due, 5)


def test_petitions_follow_the_15_60_30_rule_in_natural_days(cw):
    case = register(cw, by="county_dispatcher", code="petition", grid=None, region="A1", channel="window",
                    title="信访：征地补偿", description="对征地补偿标准有异议")
    assert case.status == S.PENDING_INSTRUCTION and case.natural_days
    assert case.acceptance_due_at == case.received_at + dt.timedelta(days=15)
    with pytest.raises(TransitionNotAllowed):
        services.case_accept(actor=cw.user("county_dispatcher"), case=case)
    with pytest.raises(PermissionDenied):  # a county matter: the town secretary cannot give the instruction
        services.case_instruct(actor=cw.user("town_secretary_a"), case=case, instruction="请办理")
    case = services.case_instruct(actor=cw.user("county_secretary"), case=case, instruction="请联系办依法受理")
    assert case.status == S.REGISTERED
    case = services.case_accept(actor=cw.user("county_dispatcher"), case=case)
    assert case.resolution_due_at == case.accepted_at + dt.timedelta(days=60)
    case = services.case_assign(actor=cw.user("county_dispatcher"), case=case, department=cw.housing)
    handler = cw.user("housing_handler")
    with pytest.raises(ValidationError):
        services.case_request_extension(actor=handler, case=case, days=31, reason="复杂")
    request = services.case_request_extension(actor=handler, case=case, days=30, reason="需要重新测量")
    services.case_approve_extension(actor=cw.user("county_secretary"), request=request)
    case.refresh_from_db()
    assert case.resolution_due_at == case.accepted_at + dt.timedelta(days=90)
    with pytest.raises(ValidationError):  # only once
        services.case_request_extension(actor=handler, case=case, days=1, reason="再延")
    assert limit_for(case.category, "extension").max_times == 1
    assert case.events.filter(kind="instruct", note="请联系办依法受理").exists()


def test_decline_closes_as_not_accepted(cw, sms, django_capture_on_commit_callbacks):
    case = register(cw, by="county_dispatcher", code="opinion-policy-consultation", grid=None, region="A1",
                    channel="hotline")
    with django_capture_on_commit_callbacks(execute=True):
        case = services.case_decline(actor=cw.user("county_dispatcher"), case=case, reason="属司法程序，已告知途径")
    assert (case.status, case.closed_as) == (S.CLOSED, ClosedAs.NOT_ACCEPTED)
    assert any("不予受理" in text for _phone, text in sms)


def test_suspension_stops_the_clock_and_resume_shifts_the_deadlines(cw):
    dispatcher = cw.user("county_dispatcher")
    case = services.case_assign(actor=dispatcher, case=_county_case(cw), department=cw.housing)
    handler = cw.user("housing_handler")
    case = services.case_sign(actor=handler, case=case)
    request = services.case_request_suspension(actor=handler, case=case, reason="当事人外出务工，春节后返乡")
    with pytest.raises(PermissionDenied):
        services.case_suspend(actor=handler, request=request)
    services.case_suspend(actor=dispatcher, request=request)
    case.refresh_from_db()
    assert (case.status, case.suspension_count, case.status_before_suspension) == (S.SUSPENDED, 1, S.IN_PROGRESS)
    with pytest.raises(TransitionNotAllowed):
        services.case_report_result(actor=handler, case=case, result="x")
    # The case has been suspended for a month: move the suspension's start back (as if it had been
    # approved then). Thirty days always hold working days, whatever the holidays.
    due_before = case.resolution_due_at
    earlier = case.suspended_at - dt.timedelta(days=30)
    Case.objects.filter(pk=case.pk).update(suspended_at=earlier)
    case = services.case_resume(actor=handler, case=case, note="当事人已返乡")
    assert case.status == S.IN_PROGRESS and case.suspended_at is None
    from gongzhi.core.workdays import add_working_time, working_time_between

    paused = working_time_between(earlier, case.events.get(kind="resume").at)
    assert paused >= dt.timedelta(days=10)
    assert case.suspended_time == paused
    assert case.resolution_due_at == add_working_time(due_before, paused)


def test_on_the_spot_settlement_by_the_grid_worker(cw, sms, django_capture_on_commit_callbacks):
    worker = cw.user("grid_worker_a1_1")
    case = register(cw, code="demand-small-matter", title="水管爆裂", description="村口水管爆裂")
    with django_capture_on_commit_callbacks(execute=True):
        case = services.case_settle_on_spot(actor=worker, case=case, action_taken="已关闭阀门并更换水管")
    assert case.status == S.SETTLING
    with pytest.raises(ValidationError):
        services.case_confirm_settlement(actor=worker, case=case, confirmed=True, satisfaction="dissatisfied")
    case = services.case_confirm_settlement(actor=worker, case=case, confirmed=True, satisfaction="satisfied")
    assert (case.status, case.settled_level, case.closed_as) == (S.CLOSED, Level.GRID, ClosedAs.RESOLVED)
    assert case.accepted_at is not None
    assert kinds(case) == ["register", "settle_on_spot", "confirm_settlement"]
    assert any("现场处理" in text for _phone, text in sms)


def test_a_three_line_person_settles_what_they_raised(cw):
    three_line = cw.user("three_line_a1")
    case = register(cw, by="three_line_a1", code="dispute-neighbour", grid="A1-1", requester=None,
                    requester_name="张大爷", requester_phone="13900002222", title="邻里排水纠纷",
                    description="两户因排水沟起争执", channel="three_line")
    assert case.is_dispute and case.raised_by_person == cw.persons["party_member"]
    case = services.case_settle_on_spot(actor=three_line, case=case, action_taken="组织两户协商，重新疏通排水沟")
    case = services.case_record_mediation(actor=three_line, case=case, outcome="mediated")
    case = services.case_confirm_settlement(actor=three_line, case=case, confirmed=True, satisfaction="basic")
    assert (case.settled_level, case.mediation_outcome) == (Level.GRID, "mediated")


def test_an_unconfirmed_settlement_goes_the_normal_way(cw):
    worker = cw.user("grid_worker_a1_1")
    case = register(cw, code="demand-small-matter")
    case = services.case_settle_on_spot(actor=worker, case=case, action_taken="临时处理")
    case = services.case_confirm_settlement(actor=worker, case=case, confirmed=False, note="群众认为没解决")
    assert (case.status, case.current_level) == (S.ACCEPTED, Level.VILLAGE)
    assert case.resolution_due_at is not None
    case = services.case_assign(actor=cw.user("village_secretary_a1"), case=case, grid=cw.grids["A1-1"])
    assert case.current_level == Level.GRID


def test_escalation_village_to_town_to_county(cw):
    case = to_in_progress_at_village(cw, register(cw, code="demand-elderly-care", title="独居老人无人照料",
                                                  description="五保老人需要集中供养"))
    with pytest.raises(ValidationError):
        services.case_escalate(actor=cw.user("village_secretary_a1"), case=case, reason="")
    case = services.case_escalate(actor=cw.user("village_secretary_a1"), case=case, reason="需镇敬老院接收")
    assert (case.status, case.current_level, case.assignee_region) == (S.ASSIGNED, Level.TOWN, cw.regions["A"])
    town = cw.user("town_secretary_a")
    case = services.case_sign(actor=town, case=case)
    case = services.case_escalate(actor=town, case=case, reason="需县民政统筹供养床位")
    assert (case.status, case.current_level, case.escalation_count) == (S.ACCEPTED, Level.COUNTY, 2)
    with pytest.raises(PermissionDenied):  # the town cannot hand it to a county department
        services.case_assign(actor=cw.user("town_dispatcher_a"), case=case, department=cw.civil_affairs)
    case = services.case_assign(actor=cw.user("county_dispatcher"), case=case, department=cw.civil_affairs)
    civil = cw.user("department_handler")
    case = services.case_sign(actor=civil, case=case)
    case = services.case_report_result(actor=civil, case=case, result="已安排县中心敬老院集中供养")
    with pytest.raises(PermissionDenied):
        services.case_approve(actor=cw.user("town_secretary_a"), case=case)
    case = services.case_approve(actor=cw.user("county_secretary"), case=case)
    dispatcher = cw.user("county_dispatcher")
    case = services.case_reply(actor=dispatcher, case=case, answer="已集中供养")
    case = services.case_record_satisfaction(actor=dispatcher, case=case, satisfaction="satisfied")
    case = services.case_close(actor=dispatcher, case=case)
    assert case.settled_level == Level.COUNTY
    reasons = [e.data["reason"] for e in case.events.filter(kind="escalate")]
    assert reasons == ["需镇敬老院接收", "需县民政统筹供养床位"]


def test_a_county_case_cannot_be_escalated_further(cw):
    dispatcher = cw.user("county_dispatcher")
    case = services.case_assign(actor=dispatcher, case=_county_case(cw), department=cw.housing)
    with pytest.raises(ValidationError, match="县级"):
        services.case_escalate(actor=dispatcher, case=case, reason="x")


def test_escalating_across_the_instruction_level_waits_for_the_secretary(cw):
    # the county adds its own category: handled in the village, instructed once it reaches the county
    with pytest.raises(PermissionDenied):
        services.category_save(actor=cw.user("town_dispatcher_a"), county=cw.regions["C"], code="opinion-bridge",
                               name="桥梁建设建议", ledger="opinion", kind="suggestion")
    bridge = services.category_save(actor=cw.user("county_dispatcher"), county=cw.regions["C"], code="opinion-bridge",
                                    name="桥梁建设建议", ledger="opinion", kind="suggestion", default_level="village",
                                    instruction_level="county")
    case = services.case_register(actor=cw.user("village_secretary_a1"), category=bridge, region=cw.regions["A1"],
                                  title="代表建议", description="建议修桥", channel="three_line")
    assert case.status == S.REGISTERED
    case = to_in_progress_at_village(cw, case)
    town = cw.user("town_secretary_a")
    case = services.case_escalate(actor=cw.user("village_secretary_a1"), case=case, reason="超出村能力")
    case = services.case_sign(actor=town, case=case)
    case = services.case_escalate(actor=town, case=case, reason="需县统筹")
    assert case.status == S.PENDING_INSTRUCTION
    assert Notification.objects.filter(user=cw.user("county_secretary"), case=case, kind="needs_instruction").exists()
    case = services.case_instruct(actor=cw.user("county_secretary"), case=case, instruction="交住建局研究")
    assert case.status == S.ACCEPTED


def test_whistle_summons_acknowledged_and_escalated(cw):
    town = cw.user("town_secretary_a")
    case = register(cw, by="town_dispatcher_a", code="complaint-illegal-building", grid=None, region="A1",
                    requester=None, requester_name="匿名群众", title="违建", description="河道旁违法建房")
    case = services.case_accept(actor=cw.user("town_dispatcher_a"), case=case)
    case = services.case_assign(actor=cw.user("town_dispatcher_a"), case=case, region=cw.regions["A"])
    case = services.case_sign(actor=town, case=case)
    with pytest.raises(PermissionDenied):
        services.case_summon(actor=cw.user("village_secretary_a1"), case=case, departments=[cw.housing], reason="x")
    due = timezone.now() + dt.timedelta(hours=2)
    civil_summons, housing_summons = services.case_summon(
        actor=town, case=case, departments=[cw.civil_affairs, cw.housing], reason="联合执法拆除", due_at=due)
    civil, housing = cw.user("department_handler"), cw.user("housing_handler")
    assert list(summons_queue(user=civil)) == [civil_summons]
    assert list(summons_queue(user=housing)) == [housing_summons]
    assert Case.objects.visible_to(housing).filter(pk=case.pk).exists()  # summoned → sees the case
    with pytest.raises(Http404):  # one department cannot report for another
        services.summons_acknowledge(actor=housing, summons=civil_summons, commitment="x")
    services.summons_acknowledge(actor=civil, summons=civil_summons, commitment="派2人参加联合执法")
    civil_summons.refresh_from_db()
    assert civil_summons.acknowledged_at and civil_summons.commitment == "派2人参加联合执法"
    assert list(summons_queue(user=civil)) == []
    assert Notification.objects.filter(user=town, case=case, kind="summons_acknowledged").exists()
    # the housing bureau does not report in time: the sweep escalates, once
    counts = run_sweep(now=due + dt.timedelta(minutes=1))
    assert counts["summons_overdue"] == 1
    housing_summons.refresh_from_db()
    assert housing_summons.escalated_at is not None
    assert Notification.objects.filter(case=case, kind="summons_overdue", user=town).count() == 1
    assert Notification.objects.filter(case=case, kind="summons_overdue",
                                       user=cw.user("county_secretary")).count() == 1
    assert run_sweep(now=due + dt.timedelta(minutes=2))["summons_overdue"] == 0
    assert case.events.filter(kind="summons_overdue").count() == 1


def test_instructions_are_kept_at_any_step(cw):
    case = to_in_progress_at_village(cw, register(cw))
    services.case_instruct(actor=cw.user("county_secretary"), case=case, instruction="抓紧办理，按时反馈")
    event = CaseEvent.objects.get(case=case, kind="instruct")
    assert (event.note, event.public, event.to_status) == ("抓紧办理，按时反馈", False, S.IN_PROGRESS)
    with pytest.raises(PermissionDenied):
        services.case_instruct(actor=cw.user("grid_worker_a1_1"), case=case, instruction="x")


def test_reclassifying_changes_the_ledger_and_limits(cw):
    case = register(cw, code="opinion-policy-consultation")
    assert case.ledger == Ledger.OPINION
    case = services.case_classify(actor=cw.user("village_secretary_a1"), case=case,
                                  category=category("demand-elderly-care"), note="实为养老服务诉求")
    assert case.ledger == Ledger.DEMAND and case.kind == "help"
    case = services.case_accept(actor=cw.user("village_secretary_a1"), case=case)
    assert case.resolution_due_at == add_working_days(case.accepted_at, 3)


def test_register_refuses_a_place_outside_the_actors_scope(cw):
    with pytest.raises(PermissionDenied):
        register(cw, by="grid_worker_a1_1", grid=None, region="B1")
    with pytest.raises(PermissionDenied):
        register(cw, by="department_handler", grid=None, region="A1", requester=None)
    assert not Case.objects.exists()


def test_case_numbers_are_sequential_per_year(cw):
    first, second = register(cw), register(cw)
    a, b = int(first.number.rsplit("-", 1)[1]), int(second.number.rsplit("-", 1)[1])
    assert b == a + 1 and first.tracking_code != second.tracking_code


def test_natural_day_helper_is_used_for_petitions_only(cw):
    case = register(cw)
    assert not case.natural_days
    assert add_days(case.received_at, 1, natural=True) == case.received_at + dt.timedelta(days=1)


def test_preconditions_live_in_the_workflow_and_page_and_service_agree(cw):
    """A satisfied requester: the page does not offer reopening and the service refuses it with
    the workflow's own reason; a dissatisfied one: both allow it."""
    from gongzhi.cases.page_selectors import case_actions
    from gongzhi.cases.workflow import facts_of, precondition_error

    secretary = cw.user("village_secretary_a1")
    case = through_answer(cw, to_in_progress_at_village(cw, register(cw)), satisfaction="basic")
    reason = precondition_error("reopen", facts_of(case))
    assert reason == "只有群众不满意的案件才能重新办理"
    assert "reopen" not in case_actions(user=secretary, case=case)[0]
    with pytest.raises(ValidationError, match=reason):
        services.case_reopen(actor=secretary, case=case, reason="再看看")

    other = through_answer(cw, to_in_progress_at_village(cw, register(cw)), satisfaction="dissatisfied")
    assert precondition_error("reopen", facts_of(other)) is None
    assert "reopen" in case_actions(user=secretary, case=other)[0]


def test_every_guarded_step_says_why_in_chinese():
    from gongzhi.cases.workflow import CaseFacts, precondition_error

    nothing = CaseFacts(satisfaction="basic", is_dispute=False, current_level=Level.COUNTY,
                        pending_extension=False, pending_suspension=False)
    pending = CaseFacts(satisfaction="basic", is_dispute=False, current_level=Level.COUNTY,
                        pending_extension=True, pending_suspension=True)
    guarded = {name for name, t in TRANSITIONS.items() if t.precondition is not None}
    assert guarded == {"escalate", "reopen", "request_extension", "approve_extension", "request_suspension",
                       "suspend", "record_mediation"}
    for name in guarded:
        why = precondition_error(name, nothing) or precondition_error(name, pending)
        assert why and re.search(r"[\u4e00-\u9fff]", why), name
