"""Cases driven through every main path on the pages, by the right personas — and refused to the
wrong ones (403 without the permission, 404 out of scope)."""
from __future__ import annotations

import datetime as dt

from django.urls import reverse

from gongzhi.cases import services
from gongzhi.cases.choices import CaseStatus as S
from gongzhi.cases.choices import ClosedAs, Level
from gongzhi.cases.models import Case, CaseAttachment, CaseRequest, Summons
from gongzhi.core.workdays import add_working_days

from .conftest import act, category, png


def _register_on_page(client, cw, **extra):
    data = {"category": category("opinion-village-affairs").pk, "title": "村道路灯不亮",
            "description": "五一村一组村道路灯坏了两周", "channel": "grid_patrol", "grid": cw.grids["A1-1"].pk,
            "requester_name": "张建国", "requester_phone": "13812345678"}
    data.update(extra)
    response = client.post(reverse("cases:register"), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    return Case.objects.latest("id")


def test_the_nine_steps_on_the_pages(cw, as_user, media, sms, django_capture_on_commit_callbacks):
    worker, secretary = cw.user("grid_worker_a1_1"), cw.user("village_secretary_a1")
    client = as_user(worker)
    with django_capture_on_commit_callbacks(execute=True):
        case = _register_on_page(client, cw)
    assert case.status == S.REGISTERED and case.registered_by == worker
    page = client.get(reverse("cases:detail", kwargs={"pk": case.pk}))
    assert page.status_code == 200 and "村道路灯不亮" in page.content.decode()
    assert act(client, case, "accept").status_code == 403  # a grid worker does not dispatch

    client = as_user(secretary)
    assert act(client, case, "instruct", instruction="请村委会本周内修复").status_code == 302
    assert act(client, case, "accept", note="已电话告知").status_code == 302
    case.refresh_from_db()
    assert case.status == S.ACCEPTED and case.resolution_due_at == add_working_days(case.accepted_at, 13)
    assert act(client, case, "assign", target=f"grid:{cw.grids['A1-1'].pk}").status_code == 302
    case.refresh_from_db()
    assert (case.status, case.current_level, case.assignee_grid) == (S.ASSIGNED, Level.GRID, cw.grids["A1-1"])

    client = as_user(worker)
    assert act(client, case, "sign").status_code == 302
    response = act(client, case, "report_result", result="已更换灯泡", attachments=png())
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == S.RESULT_REPORTED
    evidence = CaseAttachment.objects.get(case=case)
    assert evidence.kind == "evidence" and evidence.event.kind == "report_result"
    assert client.get(reverse("cases:attachment", kwargs={"pk": evidence.pk})).status_code == 200

    client = as_user(secretary)
    assert act(client, case, "approve", note="同意").status_code == 302
    with django_capture_on_commit_callbacks(execute=True):
        assert act(client, case, "reply", answer="路灯已修复").status_code == 302
    assert act(client, case, "record_satisfaction", satisfaction="satisfied").status_code == 302
    with django_capture_on_commit_callbacks(execute=True):
        assert act(client, case, "close").status_code == 302
    case.refresh_from_db()
    assert (case.status, case.closed_as, case.settled_level) == (S.CLOSED, ClosedAs.RESOLVED, Level.GRID)
    kinds = list(case.events.values_list("kind", flat=True))
    assert kinds == ["register", "instruct", "accept", "assign", "sign", "report_result", "approve", "reply",
                     "record_satisfaction", "close"]
    assert [text for phone, text in sms if phone == "13812345678"][-1].endswith("感谢您的参与。")
    html = client.get(reverse("cases:detail", kwargs={"pk": case.pk})).content.decode()
    assert "已销号归档" in html and "请村委会本周内修复" in html and "现场照片.png" in html


def test_wrong_personas_are_refused_on_the_pages(cw, as_user):
    case = services.case_register(actor=cw.user("grid_worker_a1_1"), category=category("opinion-village-affairs"),
                                  title="路灯", description="坏了", channel="grid_patrol", grid=cw.grids["A1-1"])
    for persona, expected in [("grid_worker_a1_1", 403), ("three_line_a1", 403), ("county_secretary", 403),
                              ("auditor", 403), ("department_handler", 403), ("outsider_b", 404)]:
        response = act(as_user(cw.user(persona)), case, "accept")
        assert response.status_code == expected, persona
    for persona, expected in [("outsider_b", 404), ("department_handler", 404), ("three_line_a1", 404),
                              ("auditor", 200), ("county_secretary", 200)]:
        response = as_user(cw.user(persona)).get(reverse("cases:detail", kwargs={"pk": case.pk}))
        assert response.status_code == expected, persona
    assert Case.objects.get(pk=case.pk).status == S.REGISTERED
    assert as_user(cw.user("village_secretary_a1")).get(
        reverse("cases:act", kwargs={"pk": case.pk, "action": "no-such-step"})).status_code == 404


def _in_progress_at_village(cw, **kw):
    secretary = cw.user("village_secretary_a1")
    case = services.case_register(actor=cw.user("grid_worker_a1_1"), category=category("opinion-village-affairs"),
                                  title="路灯", description="坏了", channel="grid_patrol", grid=cw.grids["A1-1"],
                                  requester_name="张建国", requester_phone="13812345678", **kw)
    case = services.case_accept(actor=secretary, case=case)
    case = services.case_assign(actor=secretary, case=case, region=cw.regions["A1"])
    return services.case_sign(actor=secretary, case=case)


def test_send_back_counts_rework_on_the_pages(cw, as_user):
    case = _in_progress_at_village(cw)
    client = as_user(cw.user("village_secretary_a1"))
    assert act(client, case, "report_result", result="已联系电工").status_code == 302
    client = as_user(cw.user("town_secretary_a"))
    # no reason: the form says why, and keeps nothing lost
    response = act(client, case, "send_back", reason="  ")
    assert response.status_code == 200 and "必填项" in response.content.decode()
    assert act(client, case, "send_back", reason="只联系了电工，没修好").status_code == 302
    case.refresh_from_db()
    assert (case.status, case.rework_count) == (S.IN_PROGRESS, 1)
    client = as_user(cw.user("village_secretary_a1"))
    assert act(client, case, "report_result", result="已修好").status_code == 302
    assert act(client, case, "approve").status_code == 302
    assert Case.objects.get(pk=case.pk).status == S.APPROVED


def test_dissatisfied_then_reopened_or_closed_unresolved(cw, as_user):
    case = _in_progress_at_village(cw)
    client = as_user(cw.user("village_secretary_a1"))
    for name, fields in [("report_result", {"result": "已修"}), ("approve", {}), ("reply", {"answer": "已修好"}),
                         ("record_satisfaction", {"satisfaction": "dissatisfied", "note": "还是不亮"})]:
        assert act(client, case, name, **fields).status_code == 302, name
    # closing a dissatisfied requester's case needs a reason: the service's message, the input kept
    response = act(client, case, "close", reason="")
    html = response.content.decode()
    assert response.status_code == 200 and "群众不满意：请说明未解决的原因，或重新办理" in html
    assert Case.objects.get(pk=case.pk).status == S.EVALUATED
    assert act(client, case, "reopen", reason="群众反映仍然不亮").status_code == 302
    case.refresh_from_db()
    assert (case.status, case.rework_count) == (S.IN_PROGRESS, 1)
    for name, fields in [("report_result", {"result": "换了线路"}), ("approve", {}), ("reply", {"answer": "已修好"}),
                         ("record_satisfaction", {"satisfaction": "dissatisfied"}),
                         ("close", {"reason": "线路改造需列入明年计划，已解释"})]:
        assert act(client, case, name, **fields).status_code == 302, name
    case.refresh_from_db()
    assert (case.status, case.closed_as) == (S.CLOSED, ClosedAs.UNRESOLVED)


def _county_case(cw, code="demand-housing-safety"):
    dispatcher = cw.user("county_dispatcher")
    case = services.case_register(actor=dispatcher, category=category(code), region=cw.regions["A1"],
                                  title="危房改造", description="家中土坯房漏雨", channel="hotline",
                                  requester_name="王德明", requester_phone="13900001111")
    return services.case_accept(actor=dispatcher, case=case)


def test_transfer_and_return_on_the_pages(cw, as_user):
    case = _county_case(cw)
    dispatcher = as_user(cw.user("county_dispatcher"))
    # a town dispatcher is not offered a county department; the county dispatcher is
    html = dispatcher.get(reverse("cases:detail", kwargs={"pk": case.pk})).content.decode()
    assert f'value="department:{cw.civil_affairs.pk}"' in html
    assert act(dispatcher, case, "assign", target=f"department:{cw.civil_affairs.pk}").status_code == 302

    civil = as_user(cw.user("department_handler"))
    response = act(civil, case, "transfer", target=f"department:{cw.housing.pk}", reason="")
    assert response.status_code == 200 and "必填项" in response.content.decode()
    response = act(civil, case, "transfer", target=f"department:{cw.housing.pk}", reason="属住房安全，住建局负责")
    # the civil affairs bureau no longer sees the case: sent to the cases overview
    assert response.status_code == 302 and response["Location"] == reverse("cases:home")
    assert civil.get(reverse("cases:detail", kwargs={"pk": case.pk})).status_code == 404
    case.refresh_from_db()
    assert (case.status, case.assignee_department, case.transfer_count) == (S.ASSIGNED, cw.housing, 1)

    housing = as_user(cw.user("housing_handler"))
    assert act(housing, case, "return", reason="不属于住建职责").status_code == 302
    case.refresh_from_db()
    assert (case.status, case.return_count) == (S.RETURNED, 1)
    dispatcher = as_user(cw.user("county_dispatcher"))
    assert act(dispatcher, case, "assign", target=f"region:{cw.regions['A'].pk}", note="由镇统筹").status_code == 302
    assert Case.objects.get(pk=case.pk).current_level == Level.TOWN


def test_a_town_dispatcher_cannot_reach_a_county_department(cw, as_user):
    dispatcher = cw.user("town_dispatcher_a")
    case = services.case_register(actor=dispatcher, category=category("opinion-public-service"),
                                  region=cw.regions["A1"], title="公交站", description="建议增设站点", channel="window")
    case = services.case_accept(actor=dispatcher, case=case)
    client = as_user(dispatcher)
    html = client.get(reverse("cases:detail", kwargs={"pk": case.pk})).content.decode()
    assert f'value="department:{cw.civil_affairs.pk}"' not in html
    # posted anyway (a stale page): not a choice of the form, told on the page
    response = act(client, case, "assign", target=f"department:{cw.civil_affairs.pk}")
    assert response.status_code == 200 and "选择一个有效的选项" in response.content.decode()


def test_extension_and_suspension_on_the_pages(cw, as_user):
    case = _county_case(cw)
    services.case_assign(actor=cw.user("county_dispatcher"), case=case, department=cw.housing)
    housing = as_user(cw.user("housing_handler"))
    assert act(housing, case, "sign").status_code == 302
    case.refresh_from_db()
    due = case.resolution_due_at
    response = act(housing, case, "request_extension", days=11, reason="需要鉴定")
    assert response.status_code == 200 and "延期天数应在1到10之间" in response.content.decode()
    assert 'value="11"' in response.content.decode()  # what the user typed is still there
    assert act(housing, case, "request_extension", days=5, reason="需要房屋安全鉴定").status_code == 302
    assert act(housing, case, "approve_extension", approve=True).status_code == 403  # a handler cannot approve

    dispatcher = as_user(cw.user("county_dispatcher"))
    html = dispatcher.get(reverse("cases:workbench")).content.decode()
    assert "需要房屋安全鉴定" in html
    assert act(dispatcher, case, "approve_extension", approve=True, note="同意").status_code == 302
    case.refresh_from_db()
    assert case.extension_count == 1 and case.resolution_due_at == add_working_days(due, 5)

    housing = as_user(cw.user("housing_handler"))
    assert act(housing, case, "request_suspension", reason="当事人外出务工").status_code == 302
    dispatcher = as_user(cw.user("county_dispatcher"))
    assert act(dispatcher, case, "suspend", approve=True).status_code == 302
    case.refresh_from_db()
    assert (case.status, case.suspension_count) == (S.SUSPENDED, 1)
    assert CaseRequest.objects.filter(case=case, status="approved").count() == 2
    housing = as_user(cw.user("housing_handler"))
    assert act(housing, case, "resume", note="当事人已返乡").status_code == 302
    assert Case.objects.get(pk=case.pk).status == S.IN_PROGRESS


def test_settled_on_the_spot_on_the_pages(cw, as_user, media):
    worker = as_user(cw.user("grid_worker_a1_1"))
    case = _register_on_page(worker, cw, category=category("demand-small-matter").pk, title="水管爆裂",
                             description="村口水管爆裂")
    assert act(worker, case, "settle_on_spot", action_taken="已关闭阀门并更换水管", attachments=png()).status_code == 302
    response = act(worker, case, "confirm_settlement", confirmed=True, satisfaction="")
    assert response.status_code == 200 and "群众确认时请记录满意或基本满意" in response.content.decode()
    assert act(worker, case, "confirm_settlement", confirmed=True, satisfaction="satisfied").status_code == 302
    case.refresh_from_db()
    assert (case.status, case.settled_level) == (S.CLOSED, Level.GRID)


def test_summons_and_acknowledgement_on_the_pages(cw, as_user):
    town = cw.user("town_secretary_a")
    case = services.case_register(actor=cw.user("town_dispatcher_a"), category=category("complaint-illegal-building"),
                                  region=cw.regions["A1"], title="违建", description="河道旁违法建房",
                                  channel="hotline", requester_name="举报人甲", requester_phone="13700002222")
    case = services.case_accept(actor=cw.user("town_dispatcher_a"), case=case)
    case = services.case_assign(actor=cw.user("town_dispatcher_a"), case=case, region=cw.regions["A"])
    case = services.case_sign(actor=town, case=case)
    # the village secretary cannot summon (no summon_department); the town secretary can
    assert act(as_user(cw.user("village_secretary_a1")), case, "summon",
               departments=[cw.civil_affairs.pk], reason="x").status_code == 403
    client = as_user(town)
    response = act(client, case, "summon", departments=[], reason="联合执法")
    assert response.status_code == 200 and "必填项" in response.content.decode()
    assert act(client, case, "summon", departments=[cw.civil_affairs.pk, cw.housing.pk],
               reason="联合执法拆除").status_code == 302
    assert Summons.objects.filter(case=case).count() == 2

    civil = as_user(cw.user("department_handler"))
    queue = civil.get(reverse("cases:queue")).content.decode()
    assert "联合执法拆除" in queue and "违建" in queue
    summons = Summons.objects.get(case=case, department=cw.civil_affairs)
    response = civil.post(reverse("cases:act", kwargs={"pk": case.pk, "action": "acknowledge-summons"}),
                          {"acknowledge_summons-summons": summons.pk,
                           "acknowledge_summons-commitment": "派2人参加联合执法"})
    assert response.status_code == 302
    summons.refresh_from_db()
    assert summons.acknowledged_at and summons.commitment == "派2人参加联合执法"
    # one department cannot report for another
    other = Summons.objects.get(case=case, department=cw.housing)
    response = civil.post(reverse("cases:act", kwargs={"pk": case.pk, "action": "acknowledge-summons"}),
                          {"acknowledge_summons-summons": other.pk, "acknowledge_summons-commitment": "x"})
    assert response.status_code == 200 and other.pk not in [s.pk for s in []]
    other.refresh_from_db()
    assert other.acknowledged_at is None


def test_escalation_on_the_pages(cw, as_user):
    case = _in_progress_at_village(cw)
    client = as_user(cw.user("village_secretary_a1"))
    assert act(client, case, "escalate", reason="需镇里协调").status_code == 302
    case.refresh_from_db()
    assert (case.current_level, case.escalation_count) == (Level.TOWN, 1)
    assert act(as_user(cw.user("town_secretary_a")), case, "urge", note="请尽快").status_code == 302
    assert Case.objects.get(pk=case.pk).urge_count == 1


def test_a_case_registered_with_a_bad_phone_keeps_the_input(cw, as_user):
    client = as_user(cw.user("grid_worker_a1_1"))
    response = client.post(reverse("cases:register"), {
        "category": category("opinion-village-affairs").pk, "title": "路灯", "description": "坏了两周",
        "channel": "grid_patrol", "grid": cw.grids["A1-1"].pk, "requester_name": "张建国",
        "requester_phone": "12345"})
    html = response.content.decode()
    assert response.status_code == 200 and not Case.objects.exists()
    assert "坏了两周" in html and 'value="12345"' in html and "errorlist" in html


def test_registering_without_a_place_or_category_says_why(cw, as_user):
    client = as_user(cw.user("village_secretary_a1"))
    response = client.post(reverse("cases:register"), {"title": "路灯", "description": "坏了", "channel": "window"})
    html = response.content.decode()
    assert response.status_code == 200 and "请指定事发地" in html and "必填项" in html
    assert client.post(reverse("cases:register"), {"category": "abc", "title": "x", "description": "y",
                                                   "channel": "nope", "received_at": "not a date"}).status_code == 200
    future = (dt.datetime.now() + dt.timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(reverse("cases:register"), {
        "category": category("opinion-village-affairs").pk, "title": "路灯", "description": "坏了",
        "channel": "window", "region": cw.regions["A1"].pk, "received_at": future})
    assert response.status_code == 200 and "受理登记时间不能晚于现在" in response.content.decode()
