"""The same paths through the REST API: one endpoint per step, structured errors, scoping."""
from __future__ import annotations

from django.urls import reverse

from gongzhi.cases import services
from gongzhi.cases.choices import CaseStatus as S
from gongzhi.cases.choices import ClosedAs, Level
from gongzhi.cases.models import Case, CaseAttachment, Summons

from .conftest import category, png, step


def _register(api, cw, **extra):
    data = {"category": category("opinion-village-affairs").pk, "title": "村道路灯不亮",
            "description": "五一村一组村道路灯坏了两周", "channel": "grid_patrol", "grid": cw.grids["A1-1"].pk,
            "requester_name": "张建国", "requester_phone": "13812345678"}
    data.update(extra)
    response = api.post(reverse("case-list"), data, format="json")
    assert response.status_code == 201, response.json()
    return Case.objects.get(pk=response.json()["id"]), response.json()


def test_the_nine_steps_through_the_api(cw, api_as, media):
    worker, secretary = api_as(cw.user("grid_worker_a1_1")), api_as(cw.user("village_secretary_a1"))
    case, body = _register(worker, cw)
    assert body["status"] == "registered" and body["ledger"] == "opinion"
    assert body["requester"] == {"visible": True, "name": "张建国", "phone": "138****5678", "person_id": None,
                                 "anonymous": False}
    assert "settle_on_spot" in body["actions"] and "accept" not in body["actions"]
    refused = step(worker, case, "accept")
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "permission_denied"

    detail = secretary.get(reverse("case-detail", kwargs={"pk": case.pk})).json()
    assert {"accept", "instruct", "decline", "classify"} <= set(detail["actions"])
    assert step(secretary, case, "instruct", instruction="请村委会本周内修复").status_code == 200
    assert step(secretary, case, "accept", note="已电话告知").json()["status"] == "accepted"
    bad = step(secretary, case, "assign")
    assert bad.status_code == 400 and "承办对象" in str(bad.json()["error"])
    body = step(secretary, case, "assign", grid=cw.grids["A1-1"].pk).json()
    assert (body["status"], body["current_level"]) == ("assigned", "grid")

    assert step(worker, case, "sign").json()["status"] == "in_progress"
    response = step(worker, case, "report_result", fmt="multipart", result="已更换灯泡", attachments=[png()])
    assert response.status_code == 200, response.json()
    assert response.json()["attachments"][0]["original_name"] == "现场照片.png"
    attachment = CaseAttachment.objects.get(case=case)
    download = worker.get(reverse("case-attachment-download", kwargs={"pk": attachment.pk}))
    assert download.status_code == 200 and b"".join(download.streaming_content).startswith(b"\x89PNG")

    assert step(secretary, case, "approve").json()["status"] == "approved"
    assert step(secretary, case, "reply", answer="路灯已修复").json()["status"] == "awaiting_feedback"
    bad = step(secretary, case, "record_satisfaction", satisfaction="happy")
    assert bad.status_code == 400 and "satisfaction" in bad.json()["error"]["fields"]
    assert step(secretary, case, "record_satisfaction", satisfaction="basic").json()["status"] == "evaluated"
    body = step(secretary, case, "close").json()
    assert (body["status"], body["closed_as"], body["settled_level"]) == ("closed", "resolved", "grid")
    timeline = secretary.get(reverse("case-timeline", kwargs={"pk": case.pk})).json()
    assert [e["kind"] for e in timeline["results"]] == [
        "register", "instruct", "accept", "assign", "sign", "report_result", "approve", "reply",
        "record_satisfaction", "close"]
    assert timeline["results"][1]["label"] == "书记阅批"
    # a step from the wrong state: 400 with the reason
    late = step(secretary, case, "accept")
    assert late.status_code == 400 and "不能受理告知" in str(late.json()["error"])


def test_scoping_through_the_api(cw, api_as):
    case = services.case_register(actor=cw.user("grid_worker_a1_1"), category=category("opinion-village-affairs"),
                                  title="路灯", description="坏了", channel="grid_patrol", grid=cw.grids["A1-1"])
    for persona, expected in [("outsider_b", 404), ("department_handler", 404), ("auditor", 200),
                              ("town_secretary_a", 200)]:
        assert api_as(cw.user(persona)).get(reverse("case-detail", kwargs={"pk": case.pk})).status_code == expected
    for persona, expected in [("outsider_b", 404), ("department_handler", 403), ("county_secretary", 403),
                              ("auditor", 403)]:
        assert step(api_as(cw.user(persona)), case, "accept").status_code == expected, persona
    assert api_as(cw.user("outsider_b")).get(reverse("case-list")).json()["count"] == 0
    listed = api_as(cw.user("village_secretary_a1")).get(reverse("case-list"), {"status": "registered"}).json()
    assert [c["id"] for c in listed["results"]] == [case.pk]
    bad = api_as(cw.user("village_secretary_a1")).get(reverse("case-list"), {"status": "nope"})
    assert bad.status_code == 400 and "status" in bad.json()["error"]["fields"]
    assert api_as(cw.user("village_secretary_a1")).get(reverse("case-list"), {"region": "x"}).status_code == 400
    assert api_as(cw.user("village_secretary_a1")).get(
        reverse("case-list"), {"overdue": "maybe"}).status_code == 400


def _county_case(cw, code="demand-housing-safety"):
    dispatcher = cw.user("county_dispatcher")
    case = services.case_register(actor=dispatcher, category=category(code), region=cw.regions["A1"],
                                  title="危房改造", description="家中土坯房漏雨", channel="hotline",
                                  requester_name="王德明", requester_phone="13900001111")
    return services.case_accept(actor=dispatcher, case=case)


def test_transfer_return_extension_and_suspension_through_the_api(cw, api_as):
    case = _county_case(cw)
    dispatcher = api_as(cw.user("county_dispatcher"))
    assert step(dispatcher, case, "assign", department=cw.civil_affairs.pk).status_code == 200
    civil = api_as(cw.user("department_handler"))
    assert step(civil, case, "transfer", department=cw.housing.pk, reason="").status_code == 400
    moved = step(civil, case, "transfer", department=cw.housing.pk, reason="属住房安全")
    assert moved.status_code == 204  # out of the civil affairs bureau's scope now
    housing = api_as(cw.user("housing_handler"))
    assert step(housing, case, "sign").json()["status"] == "in_progress"
    assert step(housing, case, "request_extension", days=99, reason="x").status_code == 400
    body = step(housing, case, "request_extension", days=5, reason="需要鉴定").json()
    assert body["requests"][0]["kind"] == "extension" and body["requests"][0]["status"] == "pending"
    assert step(housing, case, "approve_extension", approve=True).status_code == 403
    due = Case.objects.get(pk=case.pk).resolution_due_at
    body = step(dispatcher, case, "approve_extension", approve=True, note="同意").json()
    assert body["extension_count"] == 1 and Case.objects.get(pk=case.pk).resolution_due_at > due
    assert step(housing, case, "request_suspension", reason="当事人外出").status_code == 200
    assert step(dispatcher, case, "suspend", approve=True).json()["status"] == "suspended"
    assert step(housing, case, "resume").json()["status"] == "in_progress"
    assert step(housing, case, "return", reason="不属于住建职责").status_code == 204
    assert Case.objects.get(pk=case.pk).status == S.RETURNED
    assert step(dispatcher, case, "assign", region=cw.regions["A"].pk).json()["current_level"] == "town"


def test_on_the_spot_and_dispute_mediation_through_the_api(cw, api_as, media):
    three_line = api_as(cw.user("three_line_a1"))
    case, _body = _register(three_line, cw, category=category("dispute-neighbour").pk, title="邻里排水纠纷",
                            description="两户因排水沟起争执", channel="three_line", requester_name="张大爷")
    assert step(three_line, case, "settle_on_spot", action_taken="组织协商，疏通排水沟").json()["status"] == "settling"
    assert step(three_line, case, "record_mediation", outcome="mediated").json()["mediation_outcome"] == "mediated"
    body = step(three_line, case, "confirm_settlement", confirmed=True, satisfaction="satisfied").json()
    assert (body["status"], body["settled_level"]) == ("closed", "grid")


def test_summons_through_the_api(cw, api_as):
    dispatcher = cw.user("town_dispatcher_a")
    case = services.case_register(actor=dispatcher, category=category("complaint-illegal-building"),
                                  region=cw.regions["A1"], title="违建", description="河道旁违法建房", channel="hotline")
    case = services.case_accept(actor=dispatcher, case=case)
    case = services.case_assign(actor=dispatcher, case=case, region=cw.regions["A"])
    town = api_as(cw.user("town_secretary_a"))
    assert step(town, case, "sign").status_code == 200
    assert step(api_as(cw.user("village_secretary_a1")), case, "summon", departments=[cw.housing.pk],
                reason="x").status_code == 403
    assert step(town, case, "summon", departments=[999999], reason="x").status_code == 400
    body = step(town, case, "summon", departments=[cw.civil_affairs.pk, cw.housing.pk], reason="联合执法").json()
    assert {s["department"]["name"] for s in body["summonses"]} == {"县民政局", "县住建局"}
    civil = api_as(cw.user("department_handler"))
    queue = civil.get(reverse("summons-list")).json()
    assert [s["case"]["number"] for s in queue["results"]] == [case.number]
    mine = Summons.objects.get(case=case, department=cw.civil_affairs)
    other = Summons.objects.get(case=case, department=cw.housing)
    url = lambda s: reverse("summons-acknowledge", kwargs={"pk": s.pk})  # noqa: E731
    assert civil.post(url(other), {"commitment": "x"}, format="json").status_code == 404
    assert civil.post(url(mine), {}, format="json").status_code == 400
    answer = civil.post(url(mine), {"commitment": "派2人参加"}, format="json").json()
    assert answer["acknowledged_at"] and answer["commitment"] == "派2人参加"
    assert civil.get(reverse("summons-list")).json()["count"] == 0
    assert civil.get(reverse("summons-list"), {"pending": "false"}).json()["count"] == 1
    assert api_as(cw.user("auditor")).get(reverse("summons-list")).status_code == 403


def test_escalation_and_instruction_gate_through_the_api(cw, api_as):
    case = services.case_register(actor=cw.user("county_dispatcher"), category=category("petition"),
                                  region=cw.regions["A1"], title="信访：征地补偿", description="有异议", channel="window")
    assert case.status == S.PENDING_INSTRUCTION
    town = api_as(cw.user("town_secretary_a"))
    assert "instruct" not in town.get(reverse("case-detail", kwargs={"pk": case.pk})).json()["actions"]
    assert step(town, case, "instruct", instruction="请办理").status_code == 403  # a county matter
    county = api_as(cw.user("county_secretary"))
    assert step(county, case, "instruct", instruction="请依法受理").json()["status"] == "registered"
    dispatcher = api_as(cw.user("county_dispatcher"))
    assert step(dispatcher, case, "decline", reason="").status_code == 400
    body = step(dispatcher, case, "decline", reason="属司法程序，已告知途径").json()
    assert (body["status"], body["closed_as"]) == ("closed", ClosedAs.NOT_ACCEPTED)

    village_case = services.case_register(actor=cw.user("village_secretary_a1"),
                                          category=category("demand-elderly-care"), region=cw.regions["A1"],
                                          title="独居老人", description="需要照料", channel="window")
    secretary = api_as(cw.user("village_secretary_a1"))
    step(secretary, village_case, "accept")
    step(secretary, village_case, "assign", region=cw.regions["A1"].pk)
    step(secretary, village_case, "sign")
    body = step(secretary, village_case, "escalate", reason="需镇敬老院接收").json()
    assert (body["current_level"], body["escalation_count"]) == (Level.TOWN, 1)
    assert step(town, village_case, "urge", note="请尽快").json()["status"] == "assigned"
    assert step(secretary, village_case, "classify", category=999999).status_code == 400


def test_categories_time_limits_statistics_and_inbox_through_the_api(cw, api_as):
    dispatcher = api_as(cw.user("county_dispatcher"))
    rows = dispatcher.get(reverse("case-category-list")).json()
    assert rows["count"] >= 30 and {"code", "ledger", "default_level"} <= set(rows["results"][0])
    data = {"county": cw.regions["C"].pk, "code": "opinion-bridge", "name": "桥梁建设建议", "ledger": "opinion",
            "kind": "suggestion", "default_level": "village", "instruction_level": "county"}
    made = dispatcher.post(reverse("case-category-list"), data, format="json")
    assert made.status_code == 200 and made.json()["county"] == cw.regions["C"].pk
    assert api_as(cw.user("town_dispatcher_a")).post(reverse("case-category-list"), data,
                                                      format="json").status_code == 404
    assert api_as(cw.user("town_secretary_a")).post(reverse("case-category-list"), data,
                                                     format="json").status_code == 403
    bad = dispatcher.post(reverse("case-category-list"), {**data, "code": "Bad Code!"}, format="json")
    assert bad.status_code == 400 and "code" in bad.json()["error"]["fields"]

    limits = dispatcher.get(reverse("case-time-limit-list")).json()
    assert any(r["limit"] == "resolution" and r["days"] == 13 and not r["ledger"] for r in limits["results"])
    assert dispatcher.post(reverse("case-time-limit-list"), {"limit": "acceptance", "days": 2},
                           format="json").status_code == 403

    stats = dispatcher.get(reverse("case-statistics-list"), {"quarter": "2026Q1", "basic_weight": "0.5"})
    assert stats.status_code == 200 and stats.json()["basic_weight"] == 0.5
    assert set(stats.json()["total"]["rates"]) >= {"closure_rate", "satisfaction_rate", "rework_rate"}
    bad = dispatcher.get(reverse("case-statistics-list"), {"basic_weight": "3", "region": cw.regions["B1"].pk,
                                                           "start": "2026-02-01", "end": "2026-01-01"})
    assert bad.status_code == 400 and {"basic_weight"} <= set(bad.json()["error"]["fields"])
    assert api_as(cw.user("outsider_b")).get(reverse("case-statistics-list"),
                                             {"region": cw.regions["A"].pk}).status_code == 400

    services.case_register(actor=cw.user("grid_worker_a1_1"), category=category("opinion-village-affairs"),
                           title="路灯", description="坏了", channel="grid_patrol", grid=cw.grids["A1-1"])
    secretary = api_as(cw.user("village_secretary_a1"))
    inbox = secretary.get(reverse("inbox-list"), {"unread": "true"}).json()
    assert inbox["count"] >= 1 and "新登记" in inbox["results"][0]["text"]
    assert secretary.post(reverse("inbox-read"), {"ids": [inbox["results"][0]["id"]]},
                          format="json").json() == {"marked": 1}
    assert secretary.post(reverse("inbox-read"), {}, format="json").json()["marked"] == inbox["count"] - 1
    assert secretary.get(reverse("inbox-list"), {"unread": "true"}).json()["count"] == 0
