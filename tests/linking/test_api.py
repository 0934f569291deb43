"""The linking-up API (/api/linking/): a pairing from its report form to a finished project over the
API (candidates explained, the match confirmed, tasks done); refusals with their Chinese reasons and
nothing changed (a second decision of a fast-track request, a match to a used-up resource, a
handover missing a note); scope (404 beyond it, 403 without the permission, the agency liaison
reaching only its department's pairings, the grid worker's needs); what is never shown (a case's
requester, phones in free text); 三联 coverage and 镇村工作一体化 counted; bad input; the schema."""
from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from gongzhi.accounts.models import Role, RoleAssignment, User
from gongzhi.linking import services
from gongzhi.linking.models import (
    ApprovalRequest, Handover, NeedItem, NeedStatus, Project, ResourceItem, ResourceState,
)
from gongzhi.registry.models import HostUnit, PartyOrganization
from tests.api.helpers import assert_error
from tests.api.test_schemathesis import wsgi_in_test_transaction  # noqa: F401 (a fixture)
from tests.linking.conftest import make_orgs
from tests.world import PASSWORD

pytestmark = pytest.mark.django_db

VS, TS, CS, AL = "village_secretary_a1", "town_secretary_a", "county_secretary", "agency_liaison"


def url(name, **kwargs):
    return reverse(f"linking_api:{name}", kwargs=kwargs or None)


def post(client, name, data=None, status=200, **kwargs):
    response = client.post(url(name, **kwargs), data or {}, format="json")
    assert response.status_code == status, (response.status_code, response.content.decode()[:800])
    return response.json()


def get(client, name, status=200, pk=None, **params):
    response = client.get(url(name, **({"pk": pk} if pk else {})), params)
    assert response.status_code == status, (response.status_code, response.content.decode()[:800])
    return response.json()


def messages(error) -> str:
    """Every message of a structured 400, as one string."""
    return " ".join(" ".join(v) if isinstance(v, list) else str(v) for v in error["fields"].values())


def in_days(days):
    return str(timezone.localdate() + dt.timedelta(days=days))


def add_resource(client, pairing_id, **extra):
    data = {"kind": "experts", "name": "政策专家服务队", "capacity": 10, "unit": "次", "use_form": "serve", **extra}
    return post(client, "resources", data, status=201, pk=pairing_id)


def raise_need(client, pairing_id, **extra):
    data = {"title": "老人医保政策咨询", "kind": "service", "grade": "core", "quantity": 4, "unit": "次",
            "asked_by": "二组老人", **extra}
    return post(client, "needs", data, status=201, pk=pairing_id)


def feasible(client, need_id):
    return post(client, "need-check", {"feasibility": "feasible", "note": "县医院专家每月可上门一次"}, pk=need_id)


def add_login(world, username, role_code, display, **scope) -> User:
    user = User.objects.create_user(username=username, password=PASSWORD, display_name=display)
    RoleAssignment.objects.create(user=user, role=Role.objects.get(code=role_code), **scope)
    world.users[username] = user
    return user


# ---------------------------------------------------------------------------------------------
# the whole flow


def test_a_pairing_from_its_report_form_to_a_finished_project_over_the_api(world, api):
    town, village, agency = api(TS), api(VS), api(AL)
    agency_org, village_org = make_orgs(world)
    detail = post(town, "pairings", {
        "kind": "agency_community", "lead_org": agency_org.pk, "partner_org": village_org.pk,
        "title": "县民政局—五一村结对共建", "term_start": in_days(-1), "term_end": in_days(700),
        "lead_post": "机关联络员", "lead_holder": world.user(AL).pk, "partner_post": "村联络员",
        "partner_holder": world.user(VS).pk, "principles": ["strong_weak"],
        "joint_actions": ["organisation", "resources", "services"], "agency_department": world.department.pk},
        status=201)
    pairing_id = detail["pairing"]["id"]
    assert detail["pairing"]["status"] == "draft" and detail["pairing"]["agency_department_name"] == "县民政局"
    assert {(p["side"], p["holder_name"]) for p in detail["posts"]} == {("lead", "民政局结对联络员"),
                                                                        ("partner", "五一村书记")}
    # Nothing goes on the lists before both sides have signed the report form.
    draft = village.post(url("needs", pk=pairing_id), {"title": "x", "kind": "service", "grade": "core",
                                                       "asked_by": "二组老人"}, format="json")
    assert "尚未经双方签署" in messages(assert_error(draft, 400, "invalid"))

    # 报到单: each side signs its own half, once; a liaison cannot sign for the other side.
    other_side = agency.post(url("pairing-sign", pk=pairing_id), {"side": "partner"}, format="json")
    assert assert_error(other_side, 403, "permission_denied")["message"] == "报到单由本方联络员签署"
    assert post(village, "pairing-sign", {"side": "partner"}, pk=pairing_id)["pairing"]["status"] == "draft"
    twice = village.post(url("pairing-sign", pk=pairing_id), {"side": "partner"}, format="json")
    assert "不能重复签署" in messages(assert_error(twice, 400, "invalid"))
    signed = post(agency, "pairing-sign", {"side": "lead"}, pk=pairing_id)["pairing"]
    assert signed["status"] == "active" and signed["lead_signed_by_name"] == "民政局结对联络员"

    # The agency lists a resource (its side inferred from its post), the village raises a need.
    resource = add_resource(agency, pairing_id)
    assert (resource["side"], resource["remaining"], resource["state"]) == ("lead", 10, "available")
    need = raise_need(village, pairing_id)
    assert need["feasibility"] == "pending" and need["source"] == "liaison"
    unchecked = village.post(url("need-confirm", pk=need["id"]), {"resource": resource["id"]}, format="json")
    assert "可行性评估" in messages(assert_error(unchecked, 400, "invalid"))
    assert feasible(village, need["id"])["feasibility"] == "feasible"

    # Candidates, ranked, each with its points and why.
    ranked = get(village, "need-candidates", pk=need["id"])
    best = ranked["candidates"][0]
    assert best["resource"] == resource["id"] and best["available"] and best["refusal"] == ""
    reasons = [r["reason"] for r in best["reasons"]]
    assert any("类型相近" in r for r in reasons) and any("余量10次" in r for r in reasons)
    assert any("核心" in r for r in reasons)
    assert best["score"] == sum(r["points"] for r in best["reasons"])
    assert (best["pairing"], best["remaining"], best["unit"]) == (pairing_id, 10, "次")

    # The match confirmed: a project with its task, the resource committed, the need matched.
    confirmed = post(village, "need-confirm", {"resource": resource["id"], "title": "老人医保政策上门咨询",
                                               "tasks": [{"title": "上门讲解医保报销", "assignee_name": "张三",
                                                          "due_on": in_days(30),
                                                          "department": world.department.pk}]},
                     status=201, pk=need["id"])
    project = confirmed["project"]
    assert project["quantity"] == 4 and project["ranking"]["score"] == best["score"]
    assert project["ranking"]["reasons"] == best["reasons"]
    assert [t["department_name"] for t in confirmed["tasks"]] == ["县民政局"]
    assert get(agency, "resource-detail", pk=resource["id"])["remaining"] == 6
    assert get(village, "need-detail", pk=need["id"])["status"] == "matched"
    second = post(agency, "project-task-add", {"title": "回访服务对象", "assignee_name": "李四",
                                               "due_on": in_days(40)}, status=201, pk=project["id"])

    # Tasks reported, the project finished by its outcome; the need is met.
    early = village.post(url("project-complete", pk=project["id"]), {"outcome": "解决了老人的报销难题"},
                         format="json")
    assert "还有任务未完成" in messages(assert_error(early, 400, "invalid"))
    post(village, "task-progress", {"progress": 100, "note": "已上门4次"}, pk=confirmed["tasks"][0]["id"])
    back = village.post(url("task-progress", pk=second["id"]), {"progress": 50, "note": "已回访"}, format="json")
    assert back.status_code == 200
    backwards = village.post(url("task-progress", pk=second["id"]), {"progress": 20, "note": "x"}, format="json")
    assert "不能倒退" in messages(assert_error(backwards, 400, "invalid"))
    post(agency, "task-progress", {"progress": 100, "note": "回访完毕"}, pk=second["id"])
    done = post(village, "project-complete", {"outcome": "为二组12位老人上门讲解医保报销，解决报销难题5件"},
                pk=project["id"])
    assert done["project"]["status"] == "done" and done["project"]["progress"] == 100
    assert get(village, "need-detail", pk=need["id"])["status"] == "met"
    counts = get(town, "pairing-detail", pk=pairing_id)["counts"]
    assert counts == {"resources": 1, "open_needs": 0, "projects_underway": 0, "activities_planned": 0,
                      "approvals_pending": 0, "stale": 0}


# ---------------------------------------------------------------------------------------------
# refused, with the reason, and nothing changed


def test_a_second_decision_of_a_fast_track_request_is_refused_and_changes_nothing(linked, api):
    request = post(api(AL), "approval-request", {"kind": "venue", "title": "借用镇会议室",
                                                 "detail": "下周三下午召开联席会议，需会议室一间"},
                   status=201, pk=linked.pairing.pk)
    assert request["status"] == "pending" and request["due_at"] > request["requested_at"]
    assert [r["id"] for r in get(api(TS), "approvals")["results"]] == [request["id"]]
    decided = post(api(TS), "approval-decide", {"approve": True, "note": "同意"}, pk=request["id"])
    assert decided["status"] == "approved" and decided["decided_by_name"] == "城关镇书记"

    again = api(CS).post(url("approval-decide", pk=request["id"]), {"approve": False, "note": "会议室另有安排"},
                         format="json")
    text = messages(assert_error(again, 400, "invalid"))
    assert "不能重复审批" in text and "城关镇书记" in text
    row = ApprovalRequest.objects.get(pk=request["id"])
    assert (row.status, row.decided_by.username, row.decision_note) == ("approved", TS, "同意")
    assert get(api(TS), "approval-detail", pk=request["id"])["status"] == "approved"

    # Nobody decides their own request (the town may ask as the pairing's overseer).
    own = post(api(TS), "approval-request", {"kind": "funds", "title": "活动物资", "detail": "宣传资料",
                                             "amount": "800.00"}, status=201, pk=linked.pairing.pk)
    refused = api(TS).post(url("approval-decide", pk=own["id"]), {"approve": True}, format="json")
    assert assert_error(refused, 403)["message"] == "不能审批自己提出的申请"
    no_reason = api(CS).post(url("approval-decide", pk=own["id"]), {"approve": False}, format="json")
    assert "理由" in messages(assert_error(no_reason, 400, "invalid"))
    assert ApprovalRequest.objects.get(pk=own["id"]).status == "pending"
    # Funds without an amount are refused before anything is saved.
    no_amount = api(AL).post(url("approval-request", pk=linked.pairing.pk),
                             {"kind": "funds", "title": "经费", "detail": "宣传资料"}, format="json")
    assert "金额" in messages(assert_error(no_amount, 400, "invalid"))
    assert ApprovalRequest.objects.count() == 2


def test_a_match_to_a_used_up_resource_is_refused(linked, api):
    village, agency = api(VS), api(AL)
    pairing_id = linked.pairing.pk
    resource = add_resource(agency, pairing_id, kind="venue", name="党员活动室", capacity=2, unit="间",
                            use_form="open")
    first = raise_need(village, pairing_id, title="老年活动场地", kind="venue", quantity=2, unit="间")
    feasible(village, first["id"])
    post(village, "need-confirm", {"resource": resource["id"]}, status=201, pk=first["id"])
    assert get(agency, "resource-detail", pk=resource["id"])["state"] == ResourceState.EXHAUSTED

    second = raise_need(village, pairing_id, title="四点半课堂场地", kind="venue", quantity=1, unit="间")
    feasible(village, second["id"])
    listed = get(village, "need-candidates", pk=second["id"])["candidates"]
    assert [(c["resource"], c["available"], c["refusal"]) for c in listed] == [(resource["id"], False, "已用完")]
    refused = village.post(url("need-confirm", pk=second["id"]), {"resource": resource["id"]}, format="json")
    assert "“党员活动室”不能匹配：已用完" in messages(assert_error(refused, 400, "invalid"))
    assert NeedItem.objects.get(pk=second["id"]).status == NeedStatus.OPEN
    assert Project.objects.filter(need_id=second["id"]).count() == 0
    assert ResourceItem.objects.get(pk=resource["id"]).committed == 2
    # A resource of another village's pairing is not this need's to take.
    elsewhere = village.post(url("need-confirm", pk=second["id"]), {"resource": 10**9}, format="json")
    assert "resource" in assert_error(elsewhere, 400, "invalid")["fields"]


def test_a_handover_must_note_every_open_item_and_then_moves_the_post(linked, api, world):
    village, agency = api(VS), api(AL)
    pairing_id = linked.pairing.pk
    need = raise_need(village, pairing_id)
    now = timezone.now()
    post(agency, "activities", {"kind": "joint_meeting", "title": "第三季度联席会议", "place": "五一村村委会",
                                "starts_at": (now + dt.timedelta(days=3)).isoformat(),
                                "ends_at": (now + dt.timedelta(days=3, hours=2)).isoformat()},
         status=201, pk=pairing_id)
    post(village, "message-post", {"text": "县民政局下周来村调研", "kind": "decision"}, status=201, pk=pairing_id)
    partner_post = linked.pairing.posts.get(side="partner")
    state = get(village, "post-handover", pk=partner_post.pk)
    keys = [item["key"] for item in state["open_items"]]
    assert keys[0] == f"need:{need['id']}" and len(keys) == 2 and keys[1].startswith("activity:")
    successor = add_login(world, "village_liaison_2", "village_secretary", "五一村新联络员",
                          region=world.regions["A1"])

    body = {"incoming": successor.pk, "summary": "村联络员调整：结对运转正常，联系人为县民政局机关联络员，"
                                                 "在办需求和联席会议见下",
            "notes": {keys[0]: "已联系县医院，下月上门"}}
    missing = village.post(url("post-handover", pk=partner_post.pk), body, format="json")
    text = messages(assert_error(missing, 400, "invalid"))
    assert "尚缺" in text and "第三季度联席会议" in text and "老人医保政策咨询" not in text
    short = village.post(url("post-handover", pk=partner_post.pk),
                         {**body, "summary": "交接", "notes": {k: "见档案" for k in keys}}, format="json")
    assert "summary" in assert_error(short, 400, "invalid")["fields"]
    partner_post.refresh_from_db()
    assert partner_post.holder.username == VS and not Handover.objects.exists()

    written = post(village, "post-handover", {**body, "notes": {keys[0]: "已联系县医院，下月上门",
                                                                keys[1]: "会议通知已发，议程待定"}},
                   status=201, pk=partner_post.pk)
    assert (written["outgoing_name"], written["incoming_name"]) == ("五一村书记", "五一村新联络员")
    assert [i["note"] for i in written["open_items"]] == ["已联系县医院，下月上门", "会议通知已发，议程待定"]
    assert written["archive"]["decisions"] == 1
    partner_post.refresh_from_db()
    assert partner_post.holder == successor
    archive = get(api("village_liaison_2"), "pairing-archive", pk=pairing_id)
    assert [h["id"] for h in archive["handovers"]] == [written["id"]]
    assert any(m["kind"] == "note" and "交接" in m["text"] for m in archive["messages"])
    # The archive stayed with the post: the former holder no longer writes for the village side.
    former = village.post(url("message-post", pk=pairing_id), {"text": "我还在吗"}, format="json")
    assert "联络员" in assert_error(former, 403)["message"]
    post(api("village_liaison_2"), "message-post", {"text": "新联络员到岗"}, status=201, pk=pairing_id)


# ---------------------------------------------------------------------------------------------
# scope and what is shown


def _pairing_without_department(world):
    """A pairing of a town agency with 五一村 that no county department owns."""
    r = world.regions
    unit = HostUnit.objects.create(name="城关镇中心学校", kind="school", region=r["A"], county_id=r["C"].pk,
                                   town_id=r["A"].pk)
    school = PartyOrganization.objects.create(name="城关镇中心学校党支部", kind="branch", region=r["A"],
                                              host_unit=unit, county_id=r["C"].pk, town_id=r["A"].pk)
    _, village_org = make_orgs(world)
    today = timezone.localdate()
    return services.pairing_create(actor=world.user(TS), kind="town_country", lead_org=school,
                                   partner_org=village_org, title="中心学校—五一村支部联建", term_start=today,
                                   term_end=today + dt.timedelta(days=365), lead_post="学校联络员", lead_holder=None,
                                   partner_post="村联络员", partner_holder=None)


def test_scope_outsider_department_agency_liaison_and_grid_worker(linked, api, world):
    pairing_id = linked.pairing.pk
    resource = add_resource(api(AL), pairing_id)
    outsider, department, three_line = api("outsider_b"), api("department_handler"), api("three_line_a1")
    for name in ("pairing-detail", "resources", "needs", "pairing-archive"):
        assert_error(outsider.get(url(name, pk=pairing_id)), 404, "not_found")
        assert_error(department.get(url(name, pk=pairing_id)), 403, "permission_denied")
        assert_error(three_line.get(url(name, pk=pairing_id)), 403, "permission_denied")
    assert_error(outsider.post(url("resources", pk=pairing_id), {"kind": "venue", "name": "越界", "capacity": 1,
                                                                 "unit": "间", "use_form": "open"},
                               format="json"), 404)
    assert get(outsider, "pairings")["count"] == 0 and get(api(TS), "pairings")["count"] == 1

    # The agency liaison reaches its own department's pairings, and no other.
    other = _pairing_without_department(world)
    assert [p["id"] for p in get(api(AL), "pairings")["results"]] == [pairing_id]
    assert_error(api(AL).get(url("pairing-detail", pk=other.pk)), 404, "not_found")
    assert get(api(VS), "pairings")["count"] == 2

    # The grid worker sees the pairing and its needs and raises needs; nothing else.
    worker = api("grid_worker_a1_1")
    detail = get(worker, "pairing-detail", pk=pairing_id)
    assert detail["posts"] == [] and detail["counts"]["resources"] == 0
    need = raise_need(worker, pairing_id, title="路灯维修", kind="funds", grade="general", quantity=1,
                      asked_by="一组群众")
    assert get(worker, "need-detail", pk=need["id"])["raised_by_name"] == "五一村一组网格员"
    assert_error(worker.get(url("resources", pk=pairing_id)), 403)
    assert_error(worker.get(url("need-candidates", pk=need["id"])), 403)
    assert_error(worker.get(url("resource-detail", pk=resource["id"])), 403)
    assert_error(worker.post(url("need-check", pk=need["id"]), {"feasibility": "feasible", "note": "x"},
                             format="json"), 403)


def test_a_need_or_feedback_from_a_case_shows_the_case_number_never_the_requester(linked, api, world):
    from gongzhi.cases import services as case_services
    from gongzhi.cases.catalogue import install_default_catalogue
    from gongzhi.cases.models import CaseCategory, TimeLimitDefault

    install_default_catalogue(CaseCategory, TimeLimitDefault)
    case = case_services.case_register(
        actor=world.system, category=CaseCategory.objects.get(county__isnull=True, code="demand-small-matter"),
        title="老人看病报销难", description="二组老人报销医药费跑了三趟，联系电话13912345678，身份证610921198005170012",
        channel="hotline", grid=world.grids["A1-1"], requester_name="王秀兰", requester_phone="13912345678")
    case.refresh_from_db()
    village = api(VS)
    need = raise_need(village, linked.pairing.pk, title="老人医药费报销代办", source="case", case=case.pk,
                      asked_by="")
    assert need["case_number"] == case.number and case.number in need["asked_by"] and "case" not in need
    feedback = post(village, "feedback-from-case", {"case": case.pk}, status=201, pk=linked.pairing.pk)
    assert feedback["case_number"] == case.number and feedback["channel"] == "hotline"
    assert "139****5678" in feedback["text"] and "610921********0012" in feedback["text"]
    twice = village.post(url("feedback-from-case", pk=linked.pairing.pk), {"case": case.pk}, format="json")
    assert "已记入" in messages(assert_error(twice, 400, "invalid"))
    # The agency's liaison may not read cases: it cannot bring one in.
    assert_error(api(AL).post(url("feedback-from-case", pk=linked.pairing.pk), {"case": case.pk}, format="json"),
                 403)
    # A case not yet numbered (between its registration and its numbering) is named "编号待定" in what
    # the services write: its tracking code, the requester's key to the public page, never appears.
    unnumbered = case_services.case_register(
        actor=world.system, category=CaseCategory.objects.get(county__isnull=True, code="demand-small-matter"),
        title="村道积水", description="二组村道雨后积水", channel="hotline", grid=world.grids["A1-1"],
        number_after_commit=True)  # numbered after the commit, which a test's transaction never reaches
    assert unnumbered.number is None
    hidden = raise_need(village, linked.pairing.pk, title="村道排水", kind="funds", source="case",
                        case=unnumbered.pk, asked_by="")
    assert hidden["case_number"] is None and "编号待定" in hidden["asked_by"]
    post(village, "feedback-from-case", {"case": unnumbered.pk}, status=201, pk=linked.pairing.pk)
    for persona in (VS, TS, CS, "auditor", AL):
        client = api(persona)
        for response in (client.get(url("needs", pk=linked.pairing.pk)),
                         client.get(url("need-detail", pk=need["id"])),
                         client.get(url("feedback", pk=linked.pairing.pk))):
            body = response.content.decode()
            assert response.status_code == 200, (persona, response.status_code)
            for secret in ("王秀兰", "13912345678", "610921198005170012", case.tracking_code,
                           unnumbered.tracking_code):
                assert secret not in body, (persona, secret)


def test_coverage_and_town_village_integration_are_counted(world, api):
    county, town, village = api(CS), api(TS), api(VS)
    r = world.regions
    gaps = get(county, "coverage")
    assert gaps["villages_without_department"]["count"] == 3
    assert gaps["weak_without_strong"]["count"] == 0
    assert {g["code"] for g in gaps["villages_without_pairing"]["regions"]} == {r["A1"].code, r["A2"].code,
                                                                              r["B1"].code}
    assert post(county, "village-grades", {"region": r["A2"].pk, "grade": "weak", "reason": "集体经济空壳"},
                status=201)["grade"] == "weak"
    post(county, "village-grades", {"region": r["A1"].pk, "grade": "strong", "reason": "集体经济年收入50万元"},
         status=201)
    regraded = county.post(url("village-grades"), {"region": r["A1"].pk, "grade": "strong", "reason": "复评"},
                           format="json")
    assert regraded.status_code == 200 and regraded.json()["reason"] == "复评"
    assert [g["name"] for g in get(county, "coverage")["weak_without_strong"]["regions"]] == ["月河村"]
    post(town, "links", {"kind": "strong_weak", "from_region": r["A1"].pk, "to_region": r["A2"].pk,
                         "started_on": in_days(-1)}, status=201)
    link = post(town, "links", {"kind": "department_village", "from_department": world.department.pk,
                                "to_region": r["A1"].pk, "started_on": in_days(-1)}, status=201)
    post(village, "link-activities", {"held_on": in_days(0), "summary": "走访低保户5户", "problems_solved": 2},
         status=201, pk=link["id"])
    gaps = get(county, "coverage")
    assert gaps["weak_without_strong"]["count"] == 0 and gaps["villages_without_department"]["count"] == 2
    assert get(town, "links", kind="department_village")["results"][0]["activity_count"] == 1
    # The agency liaison sees its department's link, and no territory.
    assert [x["id"] for x in get(api(AL), "links")["results"]] == [link["id"]]
    assert get(api(AL), "coverage")["villages_without_pairing"]["count"] == 0

    year = timezone.localdate().year
    income = post(town, "key-tasks", {"region": r["A1"].pk, "year": year, "aim": "income", "title": "发展莲虾共养",
                                      "target": "100", "unit": "亩", "due_on": f"{year}-12-31"}, status=201)
    post(county, "key-tasks", {"region": r["A1"].pk, "year": year, "aim": "governance", "title": "院坝会",
                               "target": "12", "unit": "次", "due_on": f"{year}-12-31"}, status=201)
    wrong_year = town.post(url("key-tasks"), {"region": r["A1"].pk, "year": year, "aim": "income", "title": "x",
                                              "target": "1", "unit": "亩", "due_on": f"{year + 1}-01-31"},
                           format="json")
    assert f"应在{year}年内" in messages(assert_error(wrong_year, 400, "invalid"))
    reported = post(village, "key-task-report", {"amount": "100", "note": "莲虾共养100亩建成"}, status=201,
                    pk=income["task"]["id"])
    assert reported["task"]["status"] == "done" and reported["task"]["percent"] == 100
    team = post(town, "work-teams", {"region": r["A1"].pk, "year": year, "town_leader": world.persons["A1-2"].pk,
                                     "town_leader_post": "副镇长", "leader": world.persons["A1-1"].pk,
                                     "leader_post": "镇农业办主任",
                                     "members": [{"person": world.persons["party_member"].pk, "post": "干事"}]},
                status=201)
    assert [m["role"] for m in team["members"]] == ["leader", "member"]
    leader = team["members"][0]["id"]
    post(village, "station-days", {"on": in_days(0), "work": "入户走访脱贫户"}, status=201, pk=leader)
    again = village.post(url("station-days", pk=leader), {"on": in_days(0), "work": "再登记"}, format="json")
    assert "已登记过" in messages(assert_error(again, 400, "invalid"))

    overview = get(town, "integration", town=r["A"].pk, year=year)
    rows = {row["village"]["name"]: row for row in overview["villages"]}
    assert set(rows) == {"五一村", "月河村"}
    a1 = rows["五一村"]
    assert (a1["tasks"], a1["done"], a1["members"], a1["days"], a1["team"]) == (2, 1, 2, "1.0", team["team"]["id"])
    assert a1["by_aim"]["income"] == {"tasks": 1, "done": 1} and a1["by_aim"]["collective"] == {"tasks": 0, "done": 0}
    assert a1["town_leader"] == {"id": world.persons["A1-2"].pk, "name": "李秀英"}
    totals = overview["totals"]
    assert (totals["villages"], totals["tasks"], totals["cadres"], totals["town_leaders"]) == (2, 2, 2, 1)
    assert totals["tasks_per_village"] == 1.0
    # The village secretary reads its own village's row; town B and a village id are 404.
    assert [row["village"]["name"] for row in get(village, "integration", town=r["A"].pk, year=year)["villages"]] \
        == ["五一村"]
    assert_error(api("outsider_b").get(url("integration"), {"town": r["A"].pk, "year": year}), 404)
    assert_error(town.get(url("integration"), {"town": r["A1"].pk, "year": year}), 404)
    assert_error(town.get(url("integration"), {"town": r["A"].pk}), 400, "invalid")


def test_activities_evaluations_plans_and_settings(linked, api, world):
    village, agency = api(VS), api(AL)
    pairing_id = linked.pairing.pk
    now = timezone.now()
    activity = post(agency, "activities", {"kind": "service", "title": "政策宣讲进村", "place": "五一村村委会",
                                           "starts_at": (now - dt.timedelta(hours=2)).isoformat(),
                                           "ends_at": (now + dt.timedelta(hours=1)).isoformat()},
                    status=201, pk=pairing_id)["activity"]
    row = post(village, "activity-attendance", {"side": "resident", "name": "张大爷"}, status=201, pk=activity["id"])
    left = post(village, "attendance-left", {"left_at": (now - dt.timedelta(hours=1)).isoformat()}, pk=row["id"])
    assert left["left_early"] is True
    early = village.post(url("activity-evaluate", pk=activity["id"]),
                         {"by_side": "partner", "outcome": "解答了老人的问题", "effect": 3, "cooperation": 3},
                         format="json")
    assert "开展后" in messages(assert_error(early, 400, "invalid"))
    held = post(village, "activity-hold", {"summary": "讲解医保报销政策，现场解答问题8个", "residents_served": 20},
                pk=activity["id"])
    assert held["activity"]["status"] == "held" and held["left_early"] == 1
    bare = village.post(url("activity-evaluate", pk=activity["id"]),
                        {"by_side": "partner", "outcome": "已完成", "effect": 2, "cooperation": 3}, format="json")
    assert "不能只写“已完成”" in messages(assert_error(bare, 400, "invalid"))
    wrong_side = village.post(url("activity-evaluate", pk=activity["id"]),
                              {"by_side": "lead", "outcome": "解答了12位老人的问题", "effect": 2, "cooperation": 3},
                              format="json")
    assert assert_error(wrong_side, 403)["message"] == "评价由本方联络员填写"
    post(agency, "activity-evaluate", {"by_side": "lead", "outcome": "村里组织到位，到场群众40人", "effect": 2,
                                       "cooperation": 3, "improve": "提前一周通知群众"},
         status=201, pk=activity["id"])
    detail = get(village, "activity-detail", pk=activity["id"])
    assert [e["by_side"] for e in detail["evaluations"]] == ["lead"]
    assert detail["survey"] == {"responses": 0, **{k: {"good": 0, "fair": 0, "poor": 0}
                                                   for k in ("content", "format", "timing")}}

    # The evaluation's suggestion is feedback the next plan must answer before it is adopted.
    waiting = get(village, "feedback", pk=pairing_id, awaiting="true")["results"]
    assert [f["channel"] for f in waiting] == ["evaluation"]
    year = timezone.localdate().year + 1
    plan = post(village, "plans", {"period": f"{year}年度", "starts_on": f"{year}-01-01",
                                   "ends_on": f"{year}-12-31", "content": "每季度一次政策宣讲"},
                status=201, pk=pairing_id)
    assert [f["id"] for f in plan["awaiting"]] == [waiting[0]["id"]]
    refused = village.post(url("plan-adopt", pk=plan["plan"]["id"]), format="json")
    assert "未作回应" in messages(assert_error(refused, 400, "invalid"))
    post(village, "plan-respond", {"responses": [{"feedback": waiting[0]["id"], "taken_in": True,
                                                  "response": "活动前一周在村务群通知"}]}, pk=plan["plan"]["id"])
    adopted = post(village, "plan-adopt", pk=plan["plan"]["id"])
    assert adopted["plan"]["status"] == "adopted" and adopted["responses"][0]["taken_in"] is True
    assert get(village, "feedback", pk=pairing_id, awaiting="true")["count"] == 0

    # Settings: the county's own; a town does not reach them.
    county = world.regions["C"].pk
    assert get(api(CS), "settings", pk=county)["saved"] is False
    changed = api(CS).patch(url("settings", pk=county), {"approval_working_days": 5, "needs_review": "yearly"},
                            format="json")
    assert changed.status_code == 200 and changed.json()["approval_working_days"] == 5
    assert changed.json()["saved"] is True and changed.json()["needs_review"] == "yearly"
    assert_error(api(CS).patch(url("settings", pk=county), {"needs_review": "monthly"}, format="json"), 400)
    assert_error(api(TS).get(url("settings", pk=county)), 404)


def test_bad_input_is_a_structured_400(linked, api, world):
    town, village = api(TS), api(VS)
    pairing_id = linked.pairing.pk
    agency_org, village_org = make_orgs(world)
    base = {"kind": "agency_community", "lead_org": agency_org.pk, "partner_org": village_org.pk, "title": "x",
            "term_start": in_days(0), "term_end": in_days(30), "lead_post": "a", "partner_post": "b"}
    for name, pk, data in [
        ("pairings", None, {**base, "kind": "friendship"}),
        ("pairings", None, {**base, "principles": ["strong_weak", "strong_weak"]}),
        ("pairings", None, {**base, "term_start": "0001-01-01"}),
        ("pairings", None, {**base, "term_end": in_days(-5)}),
        ("pairings", None, {**base, "lead_holder": 10**12}),
        ("pairings", None, {**base, "lead_org": "民政局"}),
        ("resources", pairing_id, {"kind": "venue", "name": "x", "capacity": 0, "unit": "间", "use_form": "open"}),
        ("resources", pairing_id, {"kind": "venue", "name": "x", "capacity": 1, "unit": "间", "use_form": "open",
                                   "place": world.regions["B1"].pk * 1000}),
        ("needs", pairing_id, {"title": "x", "kind": "magic", "grade": "core", "asked_by": "y"}),
        ("needs", pairing_id, {"title": "x", "kind": "venue", "grade": "core", "asked_by": "y",
                               "place": world.regions["B1"].pk}),
        ("needs", pairing_id, {"title": "x", "kind": "venue", "grade": "core", "source": "case"}),
        ("activities", pairing_id, {"kind": "service", "title": "x", "place": "y", "starts_at": "2026-01-01T10:00",
                                    "ends_at": "2026-01-01T09:00"}),
        ("approval-request", pairing_id, {"kind": "funds", "title": "x", "detail": "y", "amount": "NaN"}),
        ("approval-request", pairing_id, {"kind": "funds", "title": "x", "detail": "y", "amount": "1e30"}),
        ("feedback", pairing_id, {"channel": "survey", "text": "x"}),
    ]:
        client = town if name == "pairings" else village
        response = client.post(url(name, **({"pk": pk} if pk else {})), data, format="json")
        assert_error(response, 400, "invalid")
    # A village of another town stays nameless in the refusal.
    outside = village.post(url("needs", pk=pairing_id), {"title": "x", "kind": "venue", "grade": "core",
                                                         "asked_by": "y", "place": world.regions["B1"].pk},
                           format="json")
    assert "紫云村" not in outside.content.decode()
    assert_error(village.get(url("needs", pk=pairing_id), {"grade": "urgent"}), 400, "invalid")
    assert_error(town.get(url("pairings"), {"village": "五一村"}), 400, "invalid")
    assert_error(town.post(url("key-tasks"), {"region": world.regions["A1"].pk, "year": 32767, "aim": "income",
                                              "title": "x", "target": "1", "unit": "亩", "due_on": "2026-12-31"},
                           format="json"), 400, "invalid")


# ---------------------------------------------------------------------------------------------
# the schema, and fuzzed requests against real rows


def test_the_schema_documents_every_linking_endpoint(api, world):
    schema = api(CS).get(reverse("api-schema"), {"format": "json"}).json()
    from gongzhi.linking import api_urls

    paths = {p: ops for p, ops in schema["paths"].items() if p.startswith("/api/linking/")}
    assert len(paths) == len(api_urls.urlpatterns)
    assert {"/api/linking/pairings/", "/api/linking/needs/{id}/candidates/", "/api/linking/integration/",
            "/api/linking/posts/{id}/handover/", "/api/linking/approvals/{id}/decide/"} <= set(paths)
    for path, ops in paths.items():
        for method, op in ops.items():
            assert "linking" in op["tags"], (method, path)
            assert {"200", "201"} & set(op["responses"]), (method, path)
            assert {"401", "403"} <= set(op["responses"]), (method, path)
            if method in ("post", "patch"):
                assert "400" in op["responses"], (method, path)
    components = schema["components"]["schemas"]
    assert {"points", "reason"} <= set(components["LinkingMatchReason"]["properties"])
    assert {"score", "available", "refusal", "reasons", "pairing"} <= set(components["LinkingCandidate"]["properties"])
    integration = schema["paths"]["/api/linking/integration/"]["get"]
    assert {p["name"] for p in integration["parameters"]} >= {"town", "year"}
    # Nothing a person could be traced by: needs show a case number, not the case.
    assert "case" not in components["LinkingNeed"]["properties"]


def _real_rows(world) -> tuple[dict, dict]:
    """(path prefix → a real row's id, body field → a real id), from the permission matrix's builders."""
    from tests.permission_matrix import linking_api as m

    pairing = m.pairing(world)
    paths = {
        "/api/linking/pairings/": pairing.pk, "/api/linking/posts/": pairing.posts.get(side="partner").pk,
        "/api/linking/resources/": m.resource(world).pk, "/api/linking/needs/": m.need(world).pk,
        "/api/linking/projects/": m.project(world).pk, "/api/linking/project-tasks/": m.task(world).pk,
        "/api/linking/activities/": m.activity(world).pk, "/api/linking/attendance/": m.attendance(world).pk,
        "/api/linking/plans/": m.plan(world).pk, "/api/linking/approvals/": m.approval(world).pk,
        "/api/linking/links/": m.link(world).pk, "/api/linking/alliances/": m.alliance(world).pk,
        "/api/linking/key-tasks/": m.key_task(world).pk, "/api/linking/work-teams/": m.team(world).pk,
        "/api/linking/team-members/": m.member(world).pk, "/api/linking/counties/": world.regions["C"].pk,
    }
    fields = {
        "region": world.regions["A1"].pk, "to_region": world.regions["A1"].pk, "from_region": world.regions["A2"].pk,
        "place": world.regions["A1"].pk, "member_region": world.regions["A1"].pk, "town": world.regions["A"].pk,
        "resource": m.resource(world).pk, "project": m.project(world).pk, "feedback": m.feedback(world).pk,
        "activity": m.activity(world).pk, "pairing": pairing.pk, "alliance": m.alliance(world).pk,
        "department": world.department.pk, "from_department": world.department.pk,
        "agency_department": world.department.pk, "holder": world.user(VS).pk, "incoming": world.user(TS).pk,
        "person": world.persons["A1-2"].pk, "from_person": world.persons["A1-2"].pk,
        "leader": world.persons["A1-1"].pk, "town_leader": world.persons["A1-2"].pk,
        "lead_org": m.linked(world).agency_org.pk, "partner_org": m.linked(world).village_org.pk,
    }
    return paths, fields


def _with_real_ids(body, fields):
    if isinstance(body, dict):
        return {k: (fields[k] if k in fields and isinstance(v, int) and not isinstance(v, bool) else
                    _with_real_ids(v, fields)) for k, v in body.items()}
    if isinstance(body, list):
        return [_with_real_ids(v, fields) for v in body]
    return body


@pytest.mark.usefixtures("wsgi_in_test_transaction")
def test_fuzzed_requests_against_real_rows_never_make_a_server_error(world, settings):
    """tests/api/test_schemathesis.py fuzzes every operation, but with made-up ids most linking requests
    stop at a 404; here each is sent again with the path's id and the body's ids pointing at real rows
    of the pairing with 五一村, so that the fuzzed rest of the request reaches the services."""
    import copy
    import os

    from django.db import transaction
    from hypothesis import HealthCheck, Phase, given
    from hypothesis import settings as hypothesis_settings
    from hypothesis.errors import Unsatisfiable
    from rest_framework.authtoken.models import Token
    from schemathesis import GenerationMode

    from tests.api.test_schemathesis import _county_user, _schema

    settings.DEBUG_PROPAGATE_EXCEPTIONS = False
    settings.ALLOWED_HOSTS = ["*"]
    # The same knobs as the whole-API fuzzer: GONGZHI_FUZZ_EXAMPLES, GONGZHI_FUZZ_RANDOM=1.
    examples = int(os.environ.get("GONGZHI_FUZZ_EXAMPLES", "3"))
    derandomize = os.environ.get("GONGZHI_FUZZ_RANDOM") != "1"
    token, _ = Token.objects.get_or_create(user=_county_user(world))
    headers = {"Authorization": f"Token {token.key}"}
    paths, fields = _real_rows(world)
    failures: list[str] = []
    operations = [r.ok() for r in _schema().get_all_operations() if r.ok().path.startswith("/api/linking/")]
    assert len(operations) >= 70

    def send(case, label):
        sid = transaction.savepoint_create()
        try:
            response = case.call(headers=headers)
        finally:
            transaction.savepoint_rollback(sid)
        if response.status_code >= 500:
            failures.append(f"{response.status_code} {label}: {case.as_curl_command(headers=headers)}")

    def fuzzer(operation, strategy):
        real = next((pk for prefix, pk in paths.items() if operation.path.startswith(prefix)), None)

        @hypothesis_settings(max_examples=examples, deadline=None, database=None, derandomize=derandomize,
                             phases=[Phase.explicit, Phase.generate], print_blob=False,
                             suppress_health_check=list(HealthCheck))
        @given(case=strategy)
        def fuzz(case):
            if real is not None and "id" in (case.path_parameters or {}):
                case.path_parameters = {**case.path_parameters, "id": real}
            send(case, operation.label)
            if isinstance(case.body, (dict, list)):
                case.body = _with_real_ids(copy.deepcopy(case.body), fields)
                send(case, operation.label + " (real ids)")
            if isinstance(case.query, dict):
                case.query = _with_real_ids(copy.deepcopy(case.query), fields)
                send(case, operation.label + " (real query ids)")

        return fuzz

    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                strategy = operation.as_strategy(generation_mode=mode)
            except Exception:  # noqa: BLE001 — an operation schemathesis cannot negate
                continue
            try:
                fuzzer(operation, strategy)()
            except Unsatisfiable:
                continue
    assert not failures, f"{len(failures)} server errors:\n" + "\n".join(dict.fromkeys(failures))
