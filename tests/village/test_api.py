"""The village API (/api/village/): the whole path of a major matter over the API, the lawful
quorum and the duplicate ballot refused with their Chinese reasons, steps out of order refused,
scope (404 for another town, 403 without the permission), masking, and the schema."""
from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from gongzhi.village import services
from gongzhi.village.models import Ballot, Decision, MatterStatus, Meeting, Poll, PublicityItem, SecretBallot
from tests.api.helpers import assert_error
from tests.api.test_schemathesis import wsgi_in_test_transaction  # noqa: F401 (a fixture)

pytestmark = pytest.mark.django_db

SECRETARY = "village_secretary_a1"


def url(name, **kwargs):
    return reverse(f"village_api:{name}", kwargs=kwargs or None)


def post(client, name, data=None, status=200, **kwargs):
    response = client.post(url(name, **kwargs), data or {}, format="json")
    assert response.status_code == status, (response.status_code, response.content.decode()[:800])
    return response.json()


def get(client, name, status=200, **params):
    kwargs = {k: params.pop(k) for k in ("pk",) if k in params}
    response = client.get(url(name, **kwargs), params)
    assert response.status_code == status, (response.status_code, response.content.decode()[:800])
    return response.json()


def schedule(client, v, kind, title, items=()):
    return post(client, "meetings", {"region": v.region.pk, "kind": kind, "title": title,
                                     "scheduled_at": timezone.now().isoformat(), "place": "村委会会议室",
                                     "items": list(items)}, status=201)["meeting"]


def hold(client, meeting_id, persons):
    """Notify, open and mark ``persons`` present over the API; the meeting's state after the roll."""
    persons = list({p.pk: p for p in persons}.values())
    post(client, "meeting-notify", pk=meeting_id)
    state = post(client, "meeting-open", pk=meeting_id)
    assert state["meeting"]["status"] == "open"
    return post(client, "meeting-attendance", {"marks": [{"person": p.pk, "status": "present"} for p in persons]},
                pk=meeting_id)


def vote(client, meeting_id, question, item_id=None, *, against=(), ballot="open"):
    poll = post(client, "poll-open", {"meeting": meeting_id, "question": question, "item": item_id,
                                      "ballot": ballot}, status=201)
    against_ids = {p.pk for p in against}
    ballots = [{"voter": b["voter"], "choice": "against" if b["person"] in against_ids else "for"}
               for b in poll["ballots"]]
    post(client, "poll-cast", {"ballots": ballots}, pk=poll["poll"]["id"])
    return post(client, "poll-close", pk=poll["poll"]["id"])["poll"]


# ---------------------------------------------------------------------------------------------
# the whole flow


def test_three_cases_to_a_published_result_over_the_api(village, api):
    v = village
    sec = api(SECRETARY)
    item = post(sec, "agenda-from-cases", {"cases": [c.pk for c in v.cases]}, status=201)
    assert "等3件" in item["title"] and sorted(item["cases"]) == sorted(c.pk for c in v.cases)
    matter = post(sec, "matters", {"region": v.region.pk, "title": "硬化二组道路", "topic": "project",
                                   "description": "二组道路破损，拟筹资硬化", "cases": [c.pk for c in v.cases]},
                  status=201)
    matter_id = matter["matter"]["id"]
    assert [p["name"] for p in matter["path"]] == ["propose", "discuss", "review", "resolve", "publish_resolution",
                                                   "publish_result"]
    assert matter["next_step"]["name"] == "propose" and matter["path"][0]["is_next"]

    def step(kind, name, present, vote_too=False):
        agenda = post(sec, "agenda-items", {"region": v.region.pk, "title": "硬化二组道路", "mode": "decide",
                                            "source": "matter", "matter": matter_id}, status=201)
        meeting = schedule(sec, v, kind, f"硬化二组道路（{name}）", items=[agenda["id"]])
        state = hold(sec, meeting["id"], present)
        assert state["quorum"]["met"], state["quorum"]["explanation"]
        poll = vote(sec, meeting["id"], "同意硬化二组道路", agenda["id"]) if vote_too else None
        body = {"step": name, "meeting": meeting["id"], "poll": poll["id"] if poll else None,
                "content": "筹资12万元硬化二组道路1.2公里，年内完工" if name == "resolve" else ""}
        detail = post(sec, "matter-advance", body, pk=matter_id)
        post(sec, "meeting-speech", {"speaker": present[0].pk, "points": "同意，建议年内完工"}, pk=meeting["id"],
             status=201)
        closed = post(sec, "meeting-close", {"minutes": f"{name}：一致同意"}, pk=meeting["id"])
        assert closed["meeting"]["status"] == "closed" and closed["meeting"]["quorum_met"] is True
        return detail, poll

    party = [m.person for m in v.bodies["party"].members.all()]
    committees = party + [m.person for m in v.bodies["committee"].members.all()]
    step("branch", "propose", party)
    step("two_committees", "discuss", committees)
    _, review = step("party_members", "review", [m.person for m in v.party_members[:6]], vote_too=True)
    assert review["result"] == "passed" and review["votes_for"] == 6
    detail, resolution = step("representatives", "resolve", [m.person for m in v.representatives[:6]],
                              vote_too=True)
    assert detail["matter"]["status"] == MatterStatus.RESOLVED
    assert "至少4票" in resolution["explanation"] and resolution["result"] == "passed"
    assert [p["done"]["poll"] for p in detail["path"][2:4]] == [review["id"], resolution["id"]]
    decision_id = detail["decision"]
    assert Decision.objects.get(pk=decision_id).cases.count() == 3

    detail = post(sec, "matter-advance", {"step": "publish_resolution"}, pk=matter_id)
    assert detail["next_step"]["name"] == "publish_result"
    assert detail["next_step"]["blocked_by"] == "决议尚未标记为已落实"
    task = post(sec, "decision-task-add", {"title": "招标施工", "assignee": v.adults[0].pk,
                                           "due_on": str(timezone.localdate() + dt.timedelta(days=30))},
                pk=decision_id, status=201)
    post(sec, "task-progress", {"progress": 50, "note": "已招标"}, pk=task["id"])
    refused = sec.post(url("matter-advance", pk=matter_id), {"step": "publish_result"}, format="json")
    assert "任务未完成" in str(assert_error(refused, 400, "invalid")["fields"]["step"])
    assert post(sec, "task-progress", {"progress": 100, "note": "已完工"}, pk=task["id"])["status"] == "done"
    post(sec, "decision-note", {"kind": "feedback", "text": "群众反映道路平整"}, pk=decision_id, status=201)
    done = post(sec, "decision-complete", {"note": "道路已硬化"}, pk=decision_id)
    assert done["decision"]["status"] == "done" and done["decision"]["open_tasks"] == 0
    assert [e["kind"] for e in done["timeline"]][-1] == "done"
    detail = post(sec, "matter-advance", {"step": "publish_result"}, pk=matter_id)
    assert detail["matter"]["status"] == MatterStatus.RESULT_PUBLISHED and detail["next_step"] is None
    assert all(p["done"] for p in detail["path"])
    assert PublicityItem.objects.filter(matter_id=matter_id, status="published").count() == 2


def test_the_meeting_detail_explains_the_quorum_and_counts_participation(village, api):
    v = village
    sec = api(SECRETARY)
    meeting = schedule(sec, v, "villagers", "村民会议")
    heads = [p for p in v.adults if p.relation == "head"][:10]
    state = hold(sec, meeting["id"], heads)
    adults, households = state["quorum"]["parts"]
    assert (adults["what"], adults["total"], adults["present"], adults["met"]) == ("adults", 28, 10, False)
    assert adults["needed"] == 15 and "还差5" in adults["explanation"]
    assert (households["total"], households["present"], households["needed"], households["met"]) == (14, 10, 10, True)
    assert state["quorum"]["met"] and state["quorum"]["explanation"].endswith("已达到法定人数")
    assert state["participation"]["came"] == 10 and state["participation"]["elderly"] >= 4
    assert len(state["roll"]) == 28 and {r["status"] for r in state["roll"]} == {"present", "absent"}


# ---------------------------------------------------------------------------------------------
# refused, with the reason


def test_a_representatives_meeting_one_short_of_its_quorum_cannot_vote(village, api):
    v = village
    sec = api(SECRETARY)
    meeting = schedule(sec, v, "representatives", "代表会议（人数不足）")
    state = hold(sec, meeting["id"], [m.person for m in v.representatives[:5]])
    part = state["quorum"]["parts"][0]
    assert (part["total"], part["present"], part["needed"], part["met"]) == (9, 5, 6, False)
    response = sec.post(url("poll-open"), {"meeting": meeting["id"], "question": "同意硬化二组道路"}, format="json")
    error = assert_error(response, 400, "invalid")
    message = " ".join(error["fields"]["quorum"])
    assert "应到9" in message and "实到5" in message and "还差1" in message and "不能表决" in message
    assert not Poll.objects.filter(meeting_id=meeting["id"]).exists()


def test_a_duplicate_ballot_is_refused_and_nothing_of_the_batch_is_saved(village, api):
    v = village
    sec = api(SECRETARY)
    meeting = schedule(sec, v, "representatives", "代表会议")
    hold(sec, meeting["id"], [m.person for m in v.representatives[:7]])
    poll = post(sec, "poll-open", {"meeting": meeting["id"], "question": "同意修建文化广场", "ballot": "secret"},
                status=201)
    voters = [b["voter"] for b in poll["ballots"]]
    assert len(voters) == 7 == poll["poll"]["present_count"]
    post(sec, "poll-cast", {"ballots": [{"voter": voters[0], "choice": "for"}]}, pk=poll["poll"]["id"])
    again = sec.post(url("poll-cast", pk=poll["poll"]["id"]),
                     {"ballots": [{"voter": voters[1], "choice": "for"}, {"voter": voters[0], "choice": "against"}]},
                     format="json")
    assert "不能重复投票" in " ".join(assert_error(again, 400, "invalid")["fields"]["choices"])
    assert Ballot.objects.filter(poll_id=poll["poll"]["id"], cast_at__isnull=False).count() == 1
    assert SecretBallot.objects.filter(poll_id=poll["poll"]["id"]).count() == 1
    # The same voter twice in one batch is refused before anything is looked at.
    twice = sec.post(url("poll-cast", pk=poll["poll"]["id"]),
                     {"ballots": [{"voter": voters[2], "choice": "for"}, {"voter": voters[2], "choice": "for"}]},
                     format="json")
    assert_error(twice, 400, "invalid")
    detail = get(sec, "poll-detail", pk=poll["poll"]["id"])
    assert detail["poll"]["ballots_cast"] == 1
    # A secret ballot shows who voted, never how.
    assert {b["choice"] for b in detail["ballots"]} == {""} and sum(b["cast"] for b in detail["ballots"]) == 1


def test_a_step_out_of_order_is_refused_and_names_the_next_one(village, api):
    v = village
    sec = api(SECRETARY)
    matter = post(sec, "matters", {"region": v.region.pk, "title": "出租集体林地", "topic": "collective",
                                   "description": "拟出租二组集体林地"}, status=201)["matter"]
    response = sec.post(url("matter-advance", pk=matter["id"]), {"step": "review"}, format="json")
    message = " ".join(assert_error(response, 400, "invalid")["fields"]["step"])
    assert "党组织提议" in message and "不能跳过或颠倒" in message
    # Propose needs a branch meeting with the matter on its agenda.
    response = sec.post(url("matter-advance", pk=matter["id"]), {"step": "propose"}, format="json")
    assert "meeting" in assert_error(response, 400, "invalid")["fields"]
    courtyard = schedule(sec, v, "courtyard", "院坝会")
    response = sec.post(url("matter-advance", pk=matter["id"]), {"step": "propose", "meeting": courtyard["id"]},
                        format="json")
    assert "不能在院坝会上进行" in " ".join(assert_error(response, 400, "invalid")["fields"]["meeting"])
    assert_error(sec.post(url("matter-advance", pk=matter["id"]), {"step": "skip"}, format="json"), 400, "invalid")
    assert get(sec, "matter-detail", pk=matter["id"])["matter"]["status"] == "draft"


def test_an_emergency_is_decided_at_once_and_explained_afterwards(village, api):
    v = village
    sec = api(SECRETARY)
    matter = post(sec, "matters", {"region": v.region.pk, "title": "抢修便桥", "topic": "project",
                                   "description": "山洪冲毁便桥"}, status=201)["matter"]
    detail = post(sec, "matter-exempt", {"reason": "汛期山洪，危及出行安全", "content": "立即抢修便桥"},
                  pk=matter["id"])
    assert detail["matter"]["status"] == "resolved" and detail["matter"]["explain_due_on"]
    assert detail["history"][0]["step"] == "exempt" and not detail["exemptible"]
    assert_error(sec.post(url("matter-exempt", pk=matter["id"]), {"reason": "再次", "content": "再次"},
                          format="json"), 400, "invalid")
    detail = post(sec, "matter-explain", {"explanation": "次日召开两委会通报"}, pk=matter["id"])
    assert detail["matter"]["explained_at"]


def test_a_rejected_review_ends_the_matter(village, api):
    v = village
    sec = api(SECRETARY)
    matter = services.matter_create(actor=v.secretary, region=v.region, title="出租集体林地", topic="collective",
                                    description="拟出租")
    for kind, name, present in (("branch", "propose", [m.person for m in v.bodies["party"].members.all()]),
                                ("two_committees", "discuss", [m.person for b in ("party", "committee")
                                                               for m in v.bodies[b].members.all()])):
        item = services.agenda_item_create(actor=v.secretary, region=v.region, title=matter.title, mode="decide",
                                           source="matter", matter=matter)
        meeting = schedule(sec, v, kind, name, items=[item.pk])
        hold(sec, meeting["id"], present)
        post(sec, "matter-advance", {"step": name, "meeting": meeting["id"]}, pk=matter.pk)
    item = services.agenda_item_create(actor=v.secretary, region=v.region, title=matter.title, mode="decide",
                                       source="matter", matter=matter)
    meeting = schedule(sec, v, "party_members", "党员大会", items=[item.pk])
    members = [m.person for m in v.party_members[:8]]
    hold(sec, meeting["id"], members)
    poll = vote(sec, meeting["id"], "同意出租", item.pk, against=members[:5])
    assert poll["result"] == "rejected" and "未通过" in poll["explanation"]
    refused = sec.post(url("matter-advance", pk=matter.pk), {"step": "review", "meeting": meeting["id"],
                                                              "poll": poll["id"]}, format="json")
    assert "表决未通过" in " ".join(assert_error(refused, 400, "invalid")["fields"]["poll"])
    detail = post(sec, "matter-reject", {"poll": poll["id"]}, pk=matter.pk)
    assert detail["matter"]["status"] == "rejected" and detail["next_step"] is None


def test_bad_input_is_a_structured_400(village, api):
    v = village
    sec = api(SECRETARY)
    cases = [
        ("meetings", {"region": v.region.pk, "kind": "tea_party", "title": "x", "scheduled_at": "2026-01-01T10:00"}),
        ("meetings", {"region": v.region.pk, "kind": "courtyard", "title": "x", "scheduled_at": "0001-01-01T00:00"}),
        ("meetings", {"region": v.region.pk, "kind": "courtyard", "title": "x" * 201,
                      "scheduled_at": "2026-01-01T10:00"}),
        ("meetings", {"region": v.region.pk, "kind": "courtyard", "title": "x", "scheduled_at": "2026-01-01T10:00",
                      "grid": v.world.grids["B1"].pk}),
        ("meetings", {"region": "五一村", "kind": "courtyard", "title": "x", "scheduled_at": "2026-01-01T10:00"}),
        ("publicity", {"region": v.region.pk, "category": "finance", "title": "x", "lines": [{"a": "\u0000"}]}),
        ("publicity", {"region": v.region.pk, "category": "finance", "title": "x", "lines": [[1, 2]]}),
        ("agenda-from-cases", {"cases": []}),
    ]
    for name, data in cases:
        response = sec.post(url(name), data, format="json")
        assert_error(response, 400, "invalid")
    # A number JSON can write but PostgreSQL's jsonb cannot hold.
    huge = sec.post(url("publicity"), f'{{"region": {v.region.pk}, "category": "finance", "title": "x", '
                                      '"lines": [{"a": 1e999}]}', content_type="application/json")
    assert_error(huge, 400, "invalid")
    body = v.bodies["assembly"]
    outsider = v.world.persons["B1"]
    response = sec.post(url("member-add", pk=body.pk), {"person": outsider.pk, "post": "representative"},
                        format="json")
    error = assert_error(response, 400, "invalid")
    assert outsider.name not in str(error)  # a person of another town stays nameless
    assert_error(sec.get(url("meetings"), {"kind": "tea_party"}), 400, "invalid")
    assert_error(sec.get(url("meetings"), {"village": "abc"}), 400, "invalid")


# ---------------------------------------------------------------------------------------------
# scope and what is shown


def test_an_outsider_gets_404_and_a_department_403(village, api):
    v = village
    meeting = services.meeting_schedule(actor=v.secretary, region=v.region, kind="representatives", title="代表会议",
                                        scheduled_at=timezone.now())
    matter = services.matter_create(actor=v.secretary, region=v.region, title="修路", topic="project",
                                    description="修路")
    outsider, department = api("outsider_b"), api("department_handler")
    for name, pk in (("meeting-detail", meeting.pk), ("matter-detail", matter.pk), ("body-list", v.region.pk)):
        assert_error(outsider.get(url(name, pk=pk)), 404, "not_found")
        assert_error(department.get(url(name, pk=pk)), 403, "permission_denied")
    assert_error(outsider.post(url("meeting-open", pk=meeting.pk), format="json"), 404)
    assert_error(outsider.post(url("meetings"), {"region": v.region.pk, "kind": "courtyard", "title": "越界开会",
                                                 "scheduled_at": timezone.now().isoformat()}, format="json"), 404)
    assert Meeting.objects.get(pk=meeting.pk).status == "planned"
    assert get(outsider, "meetings")["count"] == 0
    assert get(api("town_secretary_a"), "meetings")["count"] == 1
    # The grid worker sees the meeting but not its roll.
    services.meeting_open(actor=v.secretary, meeting=meeting)
    state = get(api("grid_worker_a1_1"), "meeting-detail", pk=meeting.pk)
    assert state["roll"] == [] and state["quorum"]["parts"][0]["total"] == 9
    assert len(get(api(SECRETARY), "meeting-detail", pk=meeting.pk)["roll"]) == 9


def test_bodies_show_members_by_name_and_post_never_phone_or_id_number(village, api):
    v = village
    response = api(SECRETARY).get(url("body-list", pk=v.region.pk))
    bodies = response.json()["results"]
    assert {b["kind"] for b in bodies} == {"party", "committee", "supervision", "assembly"}
    assembly = next(b for b in bodies if b["kind"] == "assembly")
    assert assembly["role"] == "决策" and len(assembly["members"]) == 9
    assert set(assembly["members"][0]) >= {"person", "person_name", "post"}
    text = response.content.decode()
    for person in v.adults:
        person.refresh_from_db()
        assert person.id_number not in text and (not person.phone or person.phone not in text)


def test_members_are_added_and_ended_through_the_api(village, api):
    v = village
    sec = api(SECRETARY)
    person = v.adults[20]
    member = post(sec, "member-add", {"person": person.pk, "post": "member"}, pk=v.bodies["supervision"].pk,
                  status=201)
    assert member["person_name"] == person.name and member["ended_on"] is None
    twice = sec.post(url("member-add", pk=v.bodies["supervision"].pk), {"person": person.pk, "post": "member"},
                     format="json")
    assert "已在" in str(assert_error(twice, 400, "invalid")["fields"])
    ended = post(sec, "member-end", {"reason": "外出务工"}, pk=member["id"])
    assert ended["ended_on"] and ended["end_reason"] == "外出务工"


def test_publicity_drafts_are_for_their_editors_and_published_notices_are_only_corrected(village, api):
    v = village
    sec = api(SECRETARY)
    draft = post(sec, "publicity", {"region": v.region.pk, "category": "finance", "title": "2026年11月财务收支",
                                    "lines": [{"item": "道路维修", "income": "0", "expense": 3200}],
                                    "period_start": "2026-11-01", "period_end": "2026-11-30"}, status=201)
    worker = api("grid_worker_a1_1")
    assert get(worker, "publicity")["count"] == 0  # a draft is not theirs to read
    assert_error(worker.get(url("publicity-detail", pk=draft["id"])), 404)
    changed = sec.patch(url("publicity-detail", pk=draft["id"]), {"title": "2026年11月财务收支明细"}, format="json")
    assert changed.status_code == 200 and changed.json()["title"] == "2026年11月财务收支明细"
    published = post(sec, "publicity-publish", pk=draft["id"])
    assert published["status"] == "published" and get(worker, "publicity")["count"] == 1
    edit = sec.patch(url("publicity-detail", pk=draft["id"]), {"title": "改过的标题"}, format="json")
    assert "已公开的内容不能修改" in str(assert_error(edit, 400, "invalid")["fields"])
    new = post(sec, "publicity-correct", {"reason": "支出金额录入错误",
                                          "lines": [{"item": "道路维修", "income": "0", "expense": 2300}]},
               pk=draft["id"], status=201)
    assert new["supersedes"] == draft["id"] and "更正说明：支出金额录入错误" in new["body"]
    old = get(sec, "publicity-detail", pk=draft["id"])
    assert old["status"] == "superseded" and old["superseded_by"] == new["id"]
    assert get(sec, "publicity-flags")["count"] == 0


def test_duty_lists_show_unowned_and_shared_duties(village, api):
    v = village
    sec = api(SECRETARY)
    made = sec.post(url("duty-lists"), {"region": v.region.pk, "kind": "responsibility"}, format="json")
    assert made.status_code == 201
    again = sec.post(url("duty-lists"), {"region": v.region.pk, "kind": "responsibility"}, format="json")
    assert again.status_code == 200 and again.json()["duty_list"]["id"] == made.json()["duty_list"]["id"]
    list_id = made.json()["duty_list"]["id"]
    unowned = post(sec, "duty-add", {"title": "村务公开", "basis": "《村民委员会组织法》第三十条"}, pk=list_id,
                   status=201)
    shared = post(sec, "duty-add", {"title": "组织召开村民代表会议", "basis": "《村民委员会组织法》第二十五条",
                                    "owners": [{"body": v.bodies["committee"].pk, "post": "chair"}]},
                  pk=list_id, status=201)
    post(sec, "duty-owner-add", {"body": v.bodies["party"].pk, "post": "secretary"}, pk=shared["id"], status=201)
    detail = get(sec, "duty-list-detail", pk=list_id)
    assert detail["unowned"] == [unowned["id"]] and detail["shared"] == [shared["id"]]
    assert {o["body_name"] for d in detail["duties"] for o in d["owners"]} == {"五一村村民委员会", "五一村党支部委员会"}
    assert post(sec, "duty-list-review", pk=list_id)["duty_list"]["review_overdue"] is False


@pytest.mark.parametrize("name", ["meetings", "agenda-items", "matters", "decisions", "publicity"])
def test_lists_take_a_fixed_number_of_queries(village, api, name):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    v = village
    sec = api(SECRETARY)

    def add_rows(n):
        for i in range(n):
            item = services.agenda_item_from_cases(actor=v.secretary, cases=v.cases, title=f"议题{i}")
            services.meeting_schedule(actor=v.secretary, region=v.region, kind="courtyard", title=f"院坝会{i}",
                                      scheduled_at=timezone.now(), items=[item])
            matter = services.matter_create(actor=v.secretary, region=v.region, title=f"事项{i}", topic="other",
                                            description="说明", cases=v.cases)
            services.matter_exempt(actor=v.secretary, matter=matter, reason="紧急", content="先行处置")
            services.publicity_draft(actor=v.secretary, region=v.region, category="other", title=f"公告{i}",
                                     body="内容")

    def count():
        with CaptureQueriesContext(connection) as queries:
            body = get(sec, name)
        return len(queries), body["count"]

    add_rows(1)
    one, rows_one = count()
    add_rows(4)
    five, rows_five = count()
    assert rows_five > rows_one and five == one


def test_the_schema_documents_every_village_endpoint(api, world):
    schema = api("county_secretary").get(reverse("api-schema"), {"format": "json"}).json()
    from gongzhi.village import api_urls

    paths = {p: ops for p, ops in schema["paths"].items() if p.startswith("/api/village/")}
    assert len(paths) == len(api_urls.urlpatterns)
    for path, ops in paths.items():
        for method, op in ops.items():
            assert "village" in op["tags"], (method, path)
            assert {"200", "201"} & set(op["responses"]), (method, path)
            assert {"401", "403"} <= set(op["responses"]), (method, path)
            if method == "post":
                assert "400" in op["responses"], (method, path)
    quorum = schema["components"]["schemas"]["VillageQuorumPart"]["properties"]
    assert {"present", "total", "needed", "met", "explanation"} <= set(quorum)


# ---------------------------------------------------------------------------------------------
# fuzzed requests against real rows


def _real_rows(world) -> tuple[dict, dict]:
    """(path prefix → a real row's id, body field → a real id) in village A1, from the permission
    matrix's builders."""
    from tests.permission_matrix import village_api as m

    open_meeting, poll, decision = m.open_meeting(world), m.poll(world), m._decision(world)
    paths = {
        "/api/village/villages/{id}/": world.regions["A1"].pk,
        "/api/village/bodies/{id}/": m._bodies(world)["assembly"].pk,
        "/api/village/members/{id}/": m._member(world).pk, "/api/village/meetings/{id}/": open_meeting.pk,
        "/api/village/agenda-items/{id}/": m._waiting_item(world).pk, "/api/village/polls/{id}/": poll.pk,
        "/api/village/matters/{id}/": m.matter(world).pk, "/api/village/decisions/{id}/": decision.pk,
        "/api/village/tasks/{id}/": m._task(world).pk, "/api/village/publicity/{id}/": m._draft(world).pk,
        "/api/village/duty-lists/{id}/": m._duty_list(world).pk, "/api/village/duties/{id}/": m._duty(world).pk,
    }
    fields = {
        "region": world.regions["A1"].pk, "meeting": open_meeting.pk, "poll": poll.pk,
        "person": world.persons["A1-2"].pk,
        "speaker": world.persons["A1-2"].pk, "assignee": world.persons["A1-2"].pk, "decision": decision.pk,
        "body": m._bodies(world)["committee"].pk, "assignee_body": m._bodies(world)["committee"].pk,
        "voter": Ballot.objects.filter(poll=poll).first().voter_id,
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
    """tests/api/test_schemathesis.py fuzzes every operation, but with made-up ids most village
    requests stop at a 404; here each is sent again with the path's id and the body's ids pointing
    at real rows of village A1, so that the fuzzed rest of the request reaches the services."""
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
    operations = [r.ok() for r in _schema().get_all_operations() if r.ok().path.startswith("/api/village/")]
    assert len(operations) >= 45

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
