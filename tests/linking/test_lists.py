"""The three lists (resources, needs, projects): needs raised in one click from a case, a contact
record or a village meeting; the feasibility check before any match; the ranking and its
explanation; a confirmed match that commits capacity (and an exhausted resource refused with
nothing saved); tasks and progress; the review of each list item."""
from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.http import Http404
from django.utils import timezone

from gongzhi.cases.models import CaseEvent
from gongzhi.core.models import AuditLog
from gongzhi.linking import matching, services
from gongzhi.linking.models import (
    REVIEW_DAYS, NeedItem, NeedItem as Need, NeedStatus, Project, ProjectStatus, ProjectTask,
    ResourceItem, ResourceState,
)
from gongzhi.registry.models import Region

from .helpers import need, notices, project, resource, second_pairing, task_spec

pytestmark = pytest.mark.django_db


@pytest.fixture
def sms(settings):
    from gongzhi.cases.notifications import LocmemSMSBackend

    settings.GONGZHI_SMS_BACKEND = "gongzhi.cases.notifications.LocmemSMSBackend"
    LocmemSMSBackend.outbox.clear()
    yield LocmemSMSBackend.outbox
    LocmemSMSBackend.outbox.clear()


def _case(world, *, title="五一村二组老人想了解医保政策", phone="13700000000", region_key="A1"):
    from gongzhi.cases.models import CaseCategory
    from gongzhi.cases.services import case_register

    category = CaseCategory.objects.filter(ledger="demand", active=True).order_by("code").first()
    requester = world.persons["A1-2"] if region_key == "A1" else None
    return case_register(actor=world.system, category=category, title=title, description=f"{title}，希望有人讲解",
                         channel="web", region=world.regions[region_key], requester=requester,
                         requester_name=requester.name if requester else "", requester_phone=phone)


# ---------------------------------------------------------------------------------------------
# resources


def test_resource_add_sets_its_review_cycle(linked):
    today = timezone.localdate()
    item = resource(linked)
    assert item.side == "lead" and item.state == ResourceState.AVAILABLE and item.remaining == 10
    assert item.reviewed_on == today and item.review_due_on == today + dt.timedelta(days=REVIEW_DAYS["quarterly"])
    assert item.agency_department_id == linked.world.department.pk and item.village_id == linked.world.regions["A1"].pk
    assert AuditLog.objects.filter(object_type="linking.resourceitem", object_id=str(item.pk), action="create").exists()
    # a county that reviews its resources yearly
    services.linking_settings_save(actor=linked.world.user("county_secretary"), county=linked.world.regions["C"],
                                   resources_review="yearly")
    yearly = resource(linked, name="会议室", kind="venue", capacity=4, unit="次/月", use_form="open")
    assert yearly.review_due_on == today + dt.timedelta(days=365)


def test_resource_add_validation_and_sides(linked):
    world = linked.world
    # the village's liaison offers on its own side only
    with pytest.raises(PermissionDenied):
        resource(linked, actor=linked.partner)
    own = resource(linked, actor=linked.partner, side="partner", name="村活动室", kind="venue", capacity=8,
                   unit="次/月", use_form="open")
    assert own.side == "partner"
    # the town (an overseer) may register for a side
    assert resource(linked, actor=linked.town, side="lead", name="档案查询系统", kind="information").side == "lead"
    for fields, key in [({"capacity": 0}, "capacity"), ({"name": ""}, "name"), ({"unit": ""}, "unit"),
                        ({"kind": "magic"}, "kind"), ({"use_form": "steal"}, "use_form")]:
        with pytest.raises(ValidationError) as exc:
            resource(linked, **fields)
        assert key in exc.value.message_dict, fields
    from gongzhi.registry import services as registry_services

    other = registry_services.region_create(actor=world.system, code="610922000000", name="石泉县", kind="county")
    with pytest.raises(ValidationError) as exc:
        resource(linked, place=other)
    assert "place" in exc.value.message_dict
    with pytest.raises(Http404):
        resource(linked, actor=world.user("outsider_b"))
    assert ResourceItem.objects.count() == 2


def test_resource_update_is_a_review_and_keeps_committed_capacity(linked):
    res = resource(linked, capacity=4)
    project(linked, res=res, item=need(linked, quantity=4))
    res.refresh_from_db()
    assert res.state == ResourceState.EXHAUSTED and res.committed == 4
    ResourceItem.objects.filter(pk=res.pk).update(stale_flagged_at=timezone.now(), review_due_on=dt.date(2020, 1, 1))
    with pytest.raises(ValidationError) as exc:
        services.resource_update(actor=linked.lead, resource=res, capacity=3)
    assert "capacity" in exc.value.message_dict
    with pytest.raises(ValidationError):
        services.resource_update(actor=linked.lead, resource=res, committed=0)
    with pytest.raises(PermissionDenied):  # the other side's resource
        services.resource_update(actor=linked.partner, resource=res, capacity=10)
    # more capacity: usable again, and the correction counts as a review
    res = services.resource_update(actor=linked.lead, resource=res, capacity=10)
    res.refresh_from_db()
    assert res.capacity == 10 and res.committed == 4 and res.state == ResourceState.IN_USE
    assert res.stale_flagged_at is None and res.review_due_on > timezone.localdate()
    assert matching.explain(need(linked, title="再要两次", quantity=2), res).available


def test_resource_update_keeps_a_withdrawal_and_checks_the_place(linked):
    res = resource(linked)
    services.resource_update(actor=linked.lead, resource=res, state="withdrawn")
    res = services.resource_update(actor=linked.lead, resource=res, conditions="暂停")
    assert res.state == ResourceState.WITHDRAWN
    from gongzhi.registry import services as registry_services

    other = registry_services.region_create(actor=linked.world.system, code="610922000000", name="石泉县", kind="county")
    with pytest.raises(ValidationError) as exc:
        services.resource_update(actor=linked.lead, resource=res, place=other)
    assert "place" in exc.value.message_dict


# ---------------------------------------------------------------------------------------------
# needs from a case, a contact record, a meeting


def test_need_from_a_case_tells_the_case_and_its_requester(linked, sms, django_capture_on_commit_callbacks):
    world = linked.world
    case = _case(world)
    sms.clear()
    with django_capture_on_commit_callbacks(execute=True):
        item = services.need_raise(actor=linked.partner, pairing=linked.pairing, title="老人医保政策讲解",
                                   kind="experts", grade="core", source="case", case=case)
    assert item.case == case and item.source == "case" and item.place_id == case.region_id
    assert (case.number or case.tracking_code) in item.asked_by
    assert item.status == NeedStatus.OPEN and item.feasibility == "pending"
    entry = CaseEvent.objects.get(case=case, kind="pairing_need")
    assert entry.public and "老人医保政策讲解" in entry.note and "核心" in entry.note
    texts = [text for phone, text in sms if phone == "13700000000"]
    assert len(texts) == 1 and "结对共建需求清单" in texts[0]
    # the other side's liaison hears of the new need
    assert notices("agency_liaison", "linking_need")


def test_need_from_a_case_without_a_phone_sends_no_sms(linked, sms, django_capture_on_commit_callbacks):
    case = _case(linked.world, phone="")  # 李秀英 left no number either
    sms.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.need_raise(actor=linked.partner, pairing=linked.pairing, title="老人医保政策讲解",
                            kind="experts", grade="important", source="case", case=case)
    assert CaseEvent.objects.filter(case=case, kind="pairing_need", public=True).count() == 1
    assert sms == []


def test_need_from_a_case_is_checked(linked):
    world = linked.world
    with pytest.raises(ValidationError) as exc:
        services.need_raise(actor=linked.partner, pairing=linked.pairing, title="x", kind="experts", grade="core",
                            source="case")
    assert "case" in exc.value.message_dict
    elsewhere = _case(world, region_key="A2", title="月河村的路灯")
    with pytest.raises(ValidationError) as exc:
        services.need_raise(actor=world.system, pairing=linked.pairing, title="x", kind="experts", grade="core",
                            source="case", case=elsewhere)
    assert "不在结对的村" in exc.value.message_dict["case"][0]
    # the agency's liaison does not read residents' cases
    with pytest.raises(PermissionDenied):
        services.need_raise(actor=linked.lead, pairing=linked.pairing, title="x", kind="experts", grade="core",
                            source="case", case=_case(world))
    # a case given with another source would be linked unchecked: refused
    with pytest.raises(ValidationError) as exc:
        services.need_raise(actor=linked.partner, pairing=linked.pairing, title="x", kind="experts", grade="core",
                            asked_by="村民", source="liaison", case=elsewhere)
    assert "case" in exc.value.message_dict
    assert not NeedItem.objects.exists()
    assert not CaseEvent.objects.filter(kind="pairing_need").exists()


def test_need_from_a_contact_record(linked):
    from gongzhi.care import services as care_services

    world = linked.world
    record = care_services.contact_record(actor=world.system, household=world.households["A1-1"], method="visit",
                                          heard="老两口想找人辅导孙子作业")
    item = services.need_raise(actor=linked.partner, pairing=linked.pairing, title="课后托管", kind="volunteers",
                               grade="important", source="contact", contact_record=record)
    assert item.contact_record == record and item.place == world.regions["A1g1"]
    assert item.asked_by == "走访中听到的群众需求"
    other = care_services.contact_record(actor=world.system, household=world.households["A2"], method="phone",
                                         heard="月河村的需求")
    with pytest.raises(ValidationError) as exc:
        services.need_raise(actor=world.system, pairing=linked.pairing, title="x", kind="volunteers",
                            grade="general", source="contact", contact_record=other)
    assert "contact_record" in exc.value.message_dict
    with pytest.raises(ValidationError):
        services.need_raise(actor=linked.partner, pairing=linked.pairing, title="x", kind="volunteers",
                            grade="general", source="contact")


def test_need_from_a_village_meeting(linked):
    from gongzhi.village import services as village_services

    world = linked.world
    when = timezone.now() - dt.timedelta(days=2)
    meeting = village_services.meeting_schedule(actor=world.system, region=world.regions["A1"], kind="courtyard",
                                                title="二组院坝会", scheduled_at=when)
    item = services.need_raise(actor=linked.partner, pairing=linked.pairing, title="老年食堂", kind="funds",
                               grade="core", source="meeting", meeting=meeting)
    assert item.meeting == meeting and item.asked_by.startswith("二组院坝会")
    assert timezone.localtime(when).strftime("%Y-%m-%d") in item.asked_by
    elsewhere = village_services.meeting_schedule(actor=world.system, region=world.regions["A2"], kind="courtyard",
                                                  title="月河村院坝会", scheduled_at=when)
    with pytest.raises(ValidationError) as exc:
        services.need_raise(actor=world.system, pairing=linked.pairing, title="x", kind="funds", grade="core",
                            source="meeting", meeting=elsewhere)
    assert "meeting" in exc.value.message_dict


def test_need_validation(linked):
    world = linked.world
    base = dict(pairing=linked.pairing, title="课后托管", kind="volunteers", grade="general", asked_by="家长")
    for fields, key in [({"source": "rumour"}, "source"), ({"asked_by": ""}, "asked_by"), ({"title": ""}, "title"),
                        ({"grade": "urgent"}, "grade"), ({"quantity": 0}, "quantity"),
                        ({"place": world.regions["A2"]}, "place")]:
        with pytest.raises(ValidationError) as exc:
            services.need_raise(actor=linked.partner, **{**base, **fields})
        assert key in exc.value.message_dict, fields
    # a grid worker brings needs from the rounds
    item = services.need_raise(actor=world.user("grid_worker_a1_1"), **base)
    assert item.raised_by == world.user("grid_worker_a1_1")
    assert item.review_due_on == timezone.localdate() + dt.timedelta(days=REVIEW_DAYS["quarterly"])


# ---------------------------------------------------------------------------------------------
# feasibility and matching


def test_feasibility_check_is_required_before_a_match(linked):
    res = resource(linked)
    item = need(linked, checked=None)
    with pytest.raises(ValidationError) as exc:
        services.project_confirm(actor=linked.partner, need=item, resource=res)
    assert "可行性评估" in exc.value.message_dict["need"][0]
    for value in ("pending", "maybe"):
        with pytest.raises(ValidationError):
            services.need_check(actor=linked.partner, need=item, feasibility=value, note="看看")
    with pytest.raises(ValidationError):
        services.need_check(actor=linked.partner, need=item, feasibility="feasible", note=" ")
    services.need_check(actor=linked.partner, need=item, feasibility="infeasible", note="缺专业人员")
    with pytest.raises(ValidationError):
        services.project_confirm(actor=linked.partner, need=item, resource=res)
    checked = services.need_check(actor=linked.lead, need=item, feasibility="partly", note="可先满足一半")
    assert checked.checked_by == linked.lead and checked.feasibility_note == "可先满足一半"
    assert not Project.objects.exists()
    assert services.project_confirm(actor=linked.partner, need=item, resource=res).need == item


def test_candidates_are_ranked_and_explained(linked):
    world = linked.world
    near = resource(linked, name="村卫生室医生", kind="experts", place=world.regions["A1"])
    town = resource(linked, name="镇司法所", kind="experts", place=world.regions["A2"])
    county = resource(linked, name="政策专家服务队", kind="experts")
    exact = resource(linked, name="志愿服务队", kind="service", capacity=2)
    resource(linked, name="会议室", kind="venue")  # cannot serve a service need at all
    item = need(linked, kind="service", grade="important", quantity=4)
    ranked = services.candidates_for(actor=linked.partner, need=item)
    assert [c.resource for c in ranked] == [exact, near, town, county]
    scores = {c.resource.name: c.score for c in ranked}
    # exact type 50, county-wide 8, capacity 2/4 of 20 = 10, important +5
    assert scores == {"志愿服务队": 73, "村卫生室医生": 65, "镇司法所": 57, "政策专家服务队": 53}
    for c in ranked:
        assert sum(p for p, _ in c.reasons) == c.score
    assert any("只能满足" in r for _, r in ranked[0].reasons)
    assert any("类型相近" in r for _, r in ranked[1].reasons)
    # the project keeps the explanation of the chosen candidate
    proj = services.project_confirm(actor=linked.partner, need=item, resource=near)
    assert proj.ranking["score"] == 65 and proj.ranking["resource"] == near.pk
    assert [r["points"] for r in proj.ranking["reasons"]] == [20, 20, 20, 5]


def test_candidates_only_of_current_pairings_of_the_village(linked):
    # a second partner of the same village (a school) offers too; an ended pairing's offer does not count
    other = second_pairing(linked)
    second = other.pairing
    theirs = resource(other, actor=linked.town, name="中学志愿者", kind="volunteers")
    ours = resource(linked, name="政策专家服务队")
    item = need(linked)
    assert {c.resource for c in services.candidates_for(actor=linked.partner, need=item)} == {theirs, ours}
    services.pairing_end(actor=linked.town, pairing=second, reason="期满")
    assert [c.resource for c in services.candidates_for(actor=linked.partner, need=item)] == [ours]
    with pytest.raises(ValidationError) as exc:
        services.project_confirm(actor=linked.partner, need=item, resource=theirs)
    assert "现行结对" in exc.value.message_dict["resource"][0]


def test_confirm_match_commits_capacity_and_opens_a_project(linked, sms, django_capture_on_commit_callbacks):
    case = _case(linked.world)
    res = resource(linked, capacity=6)
    with django_capture_on_commit_callbacks(execute=True):
        item = services.need_raise(actor=linked.partner, pairing=linked.pairing, title="老人医保政策讲解",
                                   kind="experts", grade="core", quantity=4, source="case", case=case)
        services.need_check(actor=linked.partner, need=item, feasibility="feasible", note="可行")
    sms.clear()
    with django_capture_on_commit_callbacks(execute=True):
        proj = services.project_confirm(actor=linked.partner, need=item, resource=res, title="医保政策进村",
                                        tasks=[task_spec("第一次讲座"), task_spec("第二次讲座", days=60)])
    res.refresh_from_db()
    item.refresh_from_db()
    assert res.committed == 4 and res.remaining == 2 and res.state == ResourceState.IN_USE
    assert item.status == NeedStatus.MATCHED
    assert proj.quantity == 4 and proj.title == "医保政策进村" and proj.confirmed_by == linked.partner
    assert proj.status == ProjectStatus.UNDERWAY and proj.tasks.count() == 2
    assert proj.review_due_on == timezone.localdate() + dt.timedelta(days=91)
    assert CaseEvent.objects.filter(case=case, kind="pairing_project", public=True).count() == 1
    texts = [t for p, t in sms if p == "13700000000"]
    assert len(texts) == 1 and "结对共建项目承接" in texts[0] and "医保政策进村" in texts[0]
    assert notices("agency_liaison", "linking_project")
    # the rest of the resource, explicitly
    core = need(linked, title="法律咨询", kind="experts", quantity=5)
    with pytest.raises(ValidationError) as exc:
        services.project_confirm(actor=linked.partner, need=core, resource=res, quantity=3)
    assert "余量只有2" in exc.value.message_dict["quantity"][0]
    last = services.project_confirm(actor=linked.partner, need=core, resource=res)  # defaults to what remains
    res.refresh_from_db()
    assert last.quantity == 2 and res.committed == 6 and res.state == ResourceState.EXHAUSTED


def test_an_exhausted_resource_is_refused_with_nothing_saved(linked):
    res = resource(linked, capacity=4)
    project(linked, res=res, item=need(linked, quantity=4))
    second = need(linked, title="再来一次", quantity=1)
    projects, audits = Project.objects.count(), AuditLog.objects.count()
    with pytest.raises(ValidationError) as exc:
        services.project_confirm(actor=linked.partner, need=second, resource=res, tasks=[task_spec()])
    assert "已用完" in exc.value.message_dict["resource"][0] and res.name in exc.value.message_dict["resource"][0]
    res.refresh_from_db()
    second.refresh_from_db()
    assert res.committed == 4 and second.status == NeedStatus.OPEN
    assert Project.objects.count() == projects and AuditLog.objects.count() == audits
    assert not ProjectTask.objects.exists()


def test_a_matched_need_is_not_matched_again(linked):
    item = need(linked)
    project(linked, item=item)
    with pytest.raises(ValidationError) as exc:
        services.project_confirm(actor=linked.partner, need=item, resource=resource(linked, name="另一队"))
    assert "need" in exc.value.message_dict


def test_a_resource_kept_for_core_needs_is_refused_for_a_general_one(linked):
    res = resource(linked, capacity=10)
    project(linked, res=res, item=need(linked, quantity=8))
    general = need(linked, title="一般咨询", grade="general", quantity=1)
    with pytest.raises(ValidationError) as exc:
        services.project_confirm(actor=linked.partner, need=general, resource=res)
    assert "留给核心需求" in exc.value.message_dict["resource"][0]
    core = need(linked, title="核心咨询", grade="core", quantity=1)
    assert services.project_confirm(actor=linked.partner, need=core, resource=res).quantity == 1


def test_a_resource_of_the_wrong_type_is_refused(linked):
    venue = resource(linked, name="会议室", kind="venue")
    with pytest.raises(ValidationError) as exc:
        services.project_confirm(actor=linked.partner, need=need(linked), resource=venue)
    assert "不能满足该需求" in exc.value.message_dict["resource"][0]


def test_a_bad_task_in_the_confirmation_saves_nothing(linked):
    res, item = resource(linked), need(linked)
    with pytest.raises(ValidationError):
        services.project_confirm(actor=linked.partner, need=item, resource=res,
                                 tasks=[task_spec(), task_spec(assignee_name="")])
    res.refresh_from_db()
    item.refresh_from_db()
    assert not Project.objects.exists() and not ProjectTask.objects.exists()
    assert res.committed == 0 and item.status == NeedStatus.OPEN


# ---------------------------------------------------------------------------------------------
# tasks, progress, completion


def test_tasks_progress_forward_and_the_project_follows(linked):
    proj = project(linked, tasks=[task_spec("第一次讲座")])
    second = services.task_add(actor=linked.lead, project=proj, **task_spec("第二次讲座", days=60))
    first = proj.tasks.get(title="第一次讲座")
    with pytest.raises(ValidationError):
        services.task_add(actor=linked.lead, project=proj, **task_spec("倒签", days=-1))
    services.task_progress(actor=linked.lead, task=first, progress=60, note="讲了一次，来了30人")
    proj.refresh_from_db()
    assert proj.progress == 30
    with pytest.raises(ValidationError) as exc:
        services.task_progress(actor=linked.lead, task=first, progress=40, note="回退")
    assert "不能倒退" in exc.value.message_dict["progress"][0]
    for bad in (101, -1, "许多"):
        with pytest.raises(ValidationError):
            services.task_progress(actor=linked.lead, task=first, progress=bad, note="x")
    with pytest.raises(ValidationError):
        services.task_progress(actor=linked.lead, task=first, progress=70, note="")
    first.refresh_from_db()
    assert first.progress == 60 and first.done_on is None
    services.task_progress(actor=linked.partner, task=first, progress=100, note="两次讲座完成")
    first.refresh_from_db()
    assert first.done_on == timezone.localdate()
    with pytest.raises(PermissionDenied):
        services.task_progress(actor=linked.world.user("department_handler"), task=second, progress=10, note="x")
    with pytest.raises(ValidationError) as exc:
        services.project_complete(actor=linked.partner, project=proj, outcome="老人都明白了医保报销流程")
    assert "还有任务未完成" in exc.value.message_dict["project"][0]
    services.task_progress(actor=linked.lead, task=second, progress=100, note="第二次讲座完成")
    proj.refresh_from_db()
    assert proj.progress == 100 and proj.status == ProjectStatus.UNDERWAY


def test_project_completion_marks_the_need_met(linked, django_capture_on_commit_callbacks):
    case = _case(linked.world)
    item = services.need_raise(actor=linked.partner, pairing=linked.pairing, title="医保讲解", kind="experts",
                               grade="core", source="case", case=case)
    services.need_check(actor=linked.partner, need=item, feasibility="feasible", note="可行")
    proj = project(linked, item=item, tasks=[task_spec()])
    services.task_progress(actor=linked.lead, task=proj.tasks.get(), progress=100, note="讲座完成")
    with pytest.raises(ValidationError):
        services.project_complete(actor=linked.partner, project=proj, outcome="")
    done = services.project_complete(actor=linked.partner, project=proj, outcome="32位老人学会了医保报销线上办理")
    item.refresh_from_db()
    assert done.status == ProjectStatus.DONE and done.progress == 100 and done.done_on == timezone.localdate()
    assert item.status == NeedStatus.MET
    assert CaseEvent.objects.filter(case=case, kind="pairing_project", note__contains="已办结").count() == 1
    with pytest.raises(ValidationError):
        services.project_complete(actor=linked.partner, project=proj, outcome="再办结一次")
    with pytest.raises(ValidationError):  # a finished project takes no more tasks
        services.task_add(actor=linked.lead, project=proj, **task_spec("追加"))


# ---------------------------------------------------------------------------------------------
# reviewing a list item


def test_list_item_review_clears_the_stale_flag_and_sets_the_next_date(linked):
    res = resource(linked)
    item = need(linked, checked=None)
    for model, obj in ((ResourceItem, res), (Need, item)):
        model.objects.filter(pk=obj.pk).update(stale_flagged_at=timezone.now(), review_due_on=dt.date(2020, 1, 1),
                                               reviewed_on=dt.date(2019, 10, 1))
    reviewed = services.list_item_review(actor=linked.lead, kind="resource", pk=res.pk)
    assert reviewed.stale_flagged_at is None and reviewed.reviewed_on == timezone.localdate()
    assert reviewed.review_due_on == timezone.localdate() + dt.timedelta(days=91)
    assert reviewed.state == ResourceState.AVAILABLE
    reviewed = services.list_item_review(actor=linked.partner, kind="need", pk=item.pk)
    assert reviewed.stale_flagged_at is None and reviewed.status == NeedStatus.OPEN
    # the other side's resource is not the village's to review
    with pytest.raises(PermissionDenied):
        services.list_item_review(actor=linked.partner, kind="resource", pk=res.pk)
    with pytest.raises(ValidationError):
        services.list_item_review(actor=linked.lead, kind="contacts", pk=res.pk)


def test_list_item_review_withdraws_what_no_longer_holds(linked):
    res = resource(linked)
    item = need(linked, checked=None)
    proj = project(linked)
    with pytest.raises(ValidationError) as exc:
        services.list_item_review(actor=linked.lead, kind="resource", pk=res.pk, still_valid=False)
    assert "note" in exc.value.message_dict
    assert services.list_item_review(actor=linked.lead, kind="resource", pk=res.pk, still_valid=False,
                                     note="专家调走了").state == ResourceState.WITHDRAWN
    assert services.list_item_review(actor=linked.partner, kind="need", pk=item.pk, still_valid=False,
                                     note="已由低保政策解决").status == NeedStatus.WITHDRAWN
    with pytest.raises(ValidationError) as exc:  # a matched need is the project's now
        services.list_item_review(actor=linked.partner, kind="need", pk=proj.need_id, still_valid=False, note="不要了")
    assert "still_valid" in exc.value.message_dict
    assert services.list_item_review(actor=linked.partner, kind="project", pk=proj.pk, still_valid=False,
                                     note="资金未到位").status == ProjectStatus.SUSPENDED
    # a withdrawn resource is still listed for the need, but not available
    candidate = matching.explain(need(linked, title="又一个需求"), ResourceItem.objects.get(pk=res.pk))
    assert not candidate.available and candidate.refusal == "已撤出清单"
    assert AuditLog.objects.filter(object_type="linking.needitem", note__contains="不再有效").exists()


# ---------------------------------------------------------------------------------------------
# matching, unit by unit (no database: unsaved rows)


def _region(pk, *, county=1, town=None, village=None):
    return Region(pk=pk, county_id=county, town_id=town, village_id=village)


V1, V1_GROUP, V2, T1, OTHER_TOWN_VILLAGE, COUNTY = (
    _region(11, town=2, village=11), _region(111, town=2, village=11), _region(12, town=2, village=12),
    _region(2, town=2), _region(31, town=3, village=31), _region(1))
TODAY = dt.date(2026, 6, 1)


def _need(**fields):
    values = dict(pk=1, kind="service", quantity=4, unit="次", grade="important", county_id=1, town_id=2,
                  village_id=11)
    values.update(fields)
    return Need(**values)


def _res(pk=1, **fields):
    values = dict(pk=pk, kind="service", capacity=10, committed=0, unit="次", state=ResourceState.AVAILABLE,
                  review_due_on=TODAY + dt.timedelta(days=30), name=f"资源{pk}")
    values.update(fields)
    return ResourceItem(**values)


def _points(candidate, word):
    return [p for p, r in candidate.reasons if word in r]


def test_matching_type_points():
    assert _points(matching.explain(_need(), _res(kind="service"), TODAY), "类型相符") == [50]
    assert _points(matching.explain(_need(), _res(kind="volunteers"), TODAY), "类型相近") == [20]
    assert matching.explain(_need(), _res(kind="venue"), TODAY) is None
    assert matching.explain(_need(kind="equipment"), _res(kind="funds"), TODAY) is not None
    assert matching.explain(_need(kind="funds"), _res(kind="equipment"), TODAY) is None


@pytest.mark.parametrize("place, need_place, points, text", [
    (V1, None, 20, "本村"), (V1_GROUP, None, 20, "本村"), (V1, V1_GROUP, 20, "本村"), (V2, None, 12, "本镇"),
    (T1, None, 12, "本镇"), (None, None, 8, "全县"), (COUNTY, None, 8, "全县"), (OTHER_TOWN_VILLAGE, None, 4, "外镇"),
])
def test_matching_place_points(place, need_place, points, text):
    candidate = matching.explain(_need(place=need_place), _res(place=place), TODAY)
    assert candidate.reasons[1][0] == points and text in candidate.reasons[1][1]


def test_matching_capacity_points():
    assert matching.explain(_need(quantity=4), _res(capacity=10, committed=6), TODAY).reasons[2][0] == 20
    partial = matching.explain(_need(quantity=4, grade="core"), _res(capacity=10, committed=7), TODAY)
    assert partial.reasons[2][0] == 15 and partial.available  # 3 of 4: int(20 * 3 / 4)
    assert "一部分" in partial.reasons[2][1]


def test_matching_priority_of_the_need():
    scores = {grade: matching.explain(_need(grade=grade), _res(), TODAY).score
              for grade in ("core", "important", "general")}
    assert scores["core"] - scores["general"] == 10 and scores["important"] - scores["general"] == 5


def test_matching_keeps_the_last_of_a_resource_for_core_needs():
    scarce = _res(capacity=10, committed=8)  # 2 left: under three tenths
    general = matching.explain(_need(grade="general", quantity=1), scarce, TODAY)
    assert not general.available and "留给核心需求" in general.refusal
    assert matching.explain(_need(grade="core", quantity=1), scarce, TODAY).available
    assert matching.explain(_need(grade="important", quantity=1), scarce, TODAY).available
    plenty = _res(capacity=10, committed=7)  # exactly three tenths left: not reserved
    assert matching.explain(_need(grade="general", quantity=1), plenty, TODAY).available


def test_matching_refuses_used_up_and_withdrawn():
    used = matching.explain(_need(), _res(capacity=4, committed=4), TODAY)
    assert not used.available and used.refusal == "已用完"
    flagged = matching.explain(_need(), _res(state=ResourceState.EXHAUSTED, committed=2), TODAY)
    assert not flagged.available and flagged.refusal == "已用完"
    withdrawn = matching.explain(_need(), _res(state=ResourceState.WITHDRAWN), TODAY)
    assert not withdrawn.available and withdrawn.refusal == "已撤出清单"


def test_matching_stale_penalty():
    fresh = matching.explain(_need(), _res(review_due_on=TODAY), TODAY)
    stale = matching.explain(_need(), _res(review_due_on=TODAY - dt.timedelta(days=1)), TODAY)
    assert fresh.score - stale.score == 10
    assert _points(stale, "未按期复核") == [-10] and not _points(fresh, "未按期复核")


def test_matching_rank_puts_available_first_then_score():
    need_ = _need(grade="general", quantity=1)
    best = _res(1, place=V1)
    second = _res(2, place=V2)
    tie = _res(3, place=V2)
    reserved = _res(4, place=V1, committed=8)  # higher type+place but kept for core needs
    wrong = _res(5, kind="venue")
    ranked = matching.rank(need_, [reserved, tie, wrong, second, best], TODAY)
    assert [c.resource.pk for c in ranked] == [1, 2, 3, 4]
    assert ranked[-1].as_dict() == {"resource": 4, "name": "资源4", "score": ranked[-1].score, "available": False,
                                    "refusal": ranked[-1].refusal,
                                    "reasons": [{"points": p, "reason": r} for p, r in ranked[-1].reasons]}


def test_need_order_is_core_first_then_oldest():
    now = timezone.now()
    old_general = _need(pk=1, grade="general", created_at=now - dt.timedelta(days=9))
    new_core = _need(pk=2, grade="core", created_at=now)
    old_core = _need(pk=3, grade="core", created_at=now - dt.timedelta(days=5))
    important = _need(pk=4, grade="important", created_at=now - dt.timedelta(days=20))
    assert [n.pk for n in sorted([old_general, new_core, old_core, important], key=matching.need_order_key)] == \
        [3, 2, 4, 1]


# ---------------------------------------------------------------------------------------------
# two liaisons at the same moment (PostgreSQL)


pg_only = pytest.mark.skipif(connection.vendor != "postgresql",
                             reason="needs PostgreSQL row locks and concurrent connections")


@pg_only
@pytest.mark.django_db(transaction=True)
def test_two_matches_at_once_cannot_overcommit_a_resource():
    from tests.intake.conftest import race
    from tests.world import build_world

    from .conftest import make_pairing

    linked = make_pairing(build_world())
    res = resource(linked, capacity=4)
    needs = [need(linked, title=f"需求{i}", quantity=4) for i in range(2)]
    actors = [linked.partner, linked.lead]
    results, errors = race(2, lambda i: services.project_confirm(actor=actors[i], need=NeedItem(pk=needs[i].pk),
                                                                  resource=ResourceItem(pk=res.pk)))
    assert len(errors) == 1 and isinstance(errors[0], ValidationError), errors
    assert "已用完" in errors[0].message_dict["resource"][0]
    res.refresh_from_db()
    assert res.committed == 4 and res.state == ResourceState.EXHAUSTED
    assert Project.objects.count() == 1
    assert sorted(NeedItem.objects.values_list("status", flat=True)) == [NeedStatus.MATCHED, NeedStatus.OPEN]


@pg_only
@pytest.mark.django_db(transaction=True)
def test_two_task_reports_at_once_both_count_in_the_projects_progress():
    from tests.intake.conftest import race
    from tests.world import build_world

    from .conftest import make_pairing

    linked = make_pairing(build_world())
    proj = project(linked, tasks=[task_spec("第一次讲座"), task_spec("第二次讲座")])
    tasks = list(proj.tasks.order_by("pk"))
    actors = [linked.lead, linked.partner]
    for round_ in range(3):  # a few rounds: a lost update would show in one of them
        value = round_ * 40 + 20
        results, errors = race(2, lambda i: services.task_progress(actor=actors[i], task=ProjectTask(pk=tasks[i].pk),
                                                                   progress=value, note="进展"))
        assert not errors, errors
        proj.refresh_from_db()
        assert proj.progress == value


def test_matching_subject_words_prefer_the_fitting_team():
    legal = matching.explain(_need(title="法律咨询和矛盾调解进村", kind="experts"),
                             _res(kind="experts", name="法律顾问团（矛盾纠纷调解）"), TODAY)
    policy = matching.explain(_need(title="法律咨询和矛盾调解进村", kind="experts"),
                              _res(kind="experts", name="政策专家团队"), TODAY)
    assert legal.score - policy.score == 15
    assert _points(legal, "内容相关") == [15] and "法律" in legal.reasons[1][1]
    assert not _points(policy, "内容相关")
