"""The assessment API as a client uses it: its figures are the pages' figures and open the same
records; a wrong quarter is a structured 400 in Chinese; a subject outside the caller's scope is a
404; a write the service refuses is a 400 that saves nothing; an issued bulletin cannot be
generated again."""
from __future__ import annotations

import pytest
from django.urls import reverse

from gongzhi.assessment.indicators import BY_CODE
from gongzhi.assessment.models import Bulletin, Demand, FaultToleranceApplication, ScoringWeights
from gongzhi.assessment.scoring import score_closed_cases

from .conftest import set_weights

pytestmark = pytest.mark.django_db

API = "/api/assessment/"


def _all_records(client, params) -> list[dict]:
    rows, url = [], API + "records/"
    response = client.get(url, {**params, "limit": 500})
    assert response.status_code == 200, response.content
    body = response.json()
    rows.extend(body["results"])
    assert body["next"] is None
    return rows


def test_the_figures_are_the_home_pages_figures_and_open_the_same_records(aw, period, client, api):
    set_weights(aw)
    score_closed_cases()  # what celery beat does: the case scores behind case_score
    client.force_login(aw.user("county_secretary"))
    page = client.get(reverse("assessment:home"), {"period": period.code}).context
    c = api("county_secretary")
    for code in ("case_accepted", "case_closure_rate", "case_on_time_rate", "case_satisfaction_rate", "case_score"):
        response = c.get(API + "figures/", {"indicator": code, "kind": "village", "period": period.code})
        assert response.status_code == 200, response.content
        figures = {row["subject"]: row for row in response.json()["figures"]}
        shown = {a.subject_id: a.figures[code] for a in page["villages"] if code in a.figures}
        assert shown and set(figures) == set(shown), code
        for village, figure in shown.items():
            row = figures[village]
            assert row["display"] == figure.display() and row["numerator"] == str(figure.numerator), code
            assert row["url"] == BY_CODE[code].provenance_url("village", village, period)

    # The records behind a figure: as many as its numerator, the same as the page lists.
    a1 = aw.regions["A1"].pk
    accepted = next(r for r in c.get(API + "figures/", {"indicator": "case_accepted", "kind": "village",
                                                        "period": period.code}).json()["figures"]
                    if r["subject"] == a1)
    assert accepted["records"].startswith(API + "records/?")
    rows = _all_records(c, {"indicator": "case_accepted", "kind": "village", "subject": a1, "period": period.code})
    assert len(rows) == int(accepted["numerator"]) > 0
    html_page = client.get(BY_CODE["case_accepted"].provenance_url("village", a1, period)).context["page"]
    assert html_page.paginator.count == len(rows)
    assert {r["url"] for r in rows} == {reverse("cases:detail", args=[pk]) for pk in
                                       html_page.paginator.object_list.values_list("pk", flat=True)}
    assert all(set(r) == {"id", "label", "detail", "when", "url"} for r in rows)


def test_a_bad_quarter_is_a_structured_400_in_chinese(aw, api):
    c = api("county_secretary")
    for params in ({"indicator": "case_accepted", "kind": "village", "period": "2026-3"},
                   {"indicator": "case_accepted", "kind": "village", "period": "1900Q1"}):
        response = c.get(API + "figures/", params)
        assert response.status_code == 400
        error = response.json()["error"]
        assert error["code"] == "invalid" and error["message"] == "输入有误"
        assert "季度的写法" in str(error["fields"]["period"]) or "年份不在" in str(error["fields"]["period"])
    unknown = c.get(API + "figures/", {"indicator": "no_such", "kind": "village"})
    assert unknown.status_code == 400 and "indicator" in unknown.json()["error"]["fields"]
    # An indicator not computed for that kind of subject names the field.
    wrong_kind = c.get(API + "figures/", {"indicator": "decisions_carried_out", "kind": "department"})
    assert wrong_kind.status_code == 400 and "kind" in wrong_kind.json()["error"]["fields"]
    assert c.get(API + "scores/", {"period": "2026Q5"}).status_code == 400


def test_records_of_a_subject_outside_the_callers_scope_are_a_404(aw, period, api):
    params = {"indicator": "case_accepted", "kind": "village", "subject": aw.regions["A1"].pk, "period": period.code}
    assert api("outsider_b").get(API + "records/", params).status_code == 404
    assert api("town_secretary_a").get(API + "records/", params).status_code == 200
    # Town B's own village is theirs.
    own = {**params, "subject": aw.regions["B1"].pk}
    assert api("outsider_b").get(API + "records/", own).status_code == 200
    # No such village at all: the same answer.
    assert api("county_secretary").get(API + "records/", {**params, "subject": 987654321}).status_code == 404


def test_a_write_the_service_refuses_is_a_400_and_saves_nothing(aw, api):
    c = api("county_secretary")
    before = ScoringWeights.objects.count()
    response = c.post(API + "scoring-weights/", {"on_time": 40, "satisfaction": 30, "no_rework": 10,
                                                 "no_escalation": 10, "instruction": 0, "note": "试行"}, format="json")
    assert response.status_code == 400
    assert "之和应为100" in str(response.json()["error"]["fields"]["weights"])
    assert ScoringWeights.objects.count() == before

    demands = Demand.objects.count()
    response = c.post(API + "demands/", {"code": "daily-photos", "name": "每日上传工作照片", "role": "grid_worker",
                                         "kind": "photo"}, format="json")
    assert response.status_code == 400 and "feeds" in response.json()["error"]["fields"]
    assert Demand.objects.count() == demands

    # Granting needs all four conditions: refused, and the application stays as it was.
    applied = api("village_secretary_a1").post(API + "fault-tolerance/", {
        "region": aw.regions["A1"].pk, "matter": "抢修水渠时先行垫付材料款，票据不全",
        "conditions": {"public_good": {"held": True, "evidence": "村民代表会议记录"}}}, format="json")
    assert applied.status_code == 201, applied.content
    pk = applied.json()["id"]
    refused = api("town_secretary_a").post(API + f"fault-tolerance/{pk}/decide/",
                                           {"decision": "accept", "note": "同意"}, format="json")
    assert refused.status_code == 400 and "四个条件" in str(refused.json()["error"]["fields"]["status"])
    assert FaultToleranceApplication.objects.get(pk=pk).status == "filed"


def test_a_case_the_caller_cannot_read_is_a_400_naming_the_field(aw, api):
    from gongzhi.cases.models import Case

    case = Case.objects.filter(village=aw.regions["A1"]).first()
    response = api("outsider_b").post(API + "exemptions/", {"case": case.pk, "ground": "emergency",
                                                           "explanation": "夜间暴雨先行转移群众"}, format="json")
    assert response.status_code == 400 and "case" in response.json()["error"]["fields"]


def test_a_bulletin_is_generated_issued_and_then_cannot_be_generated_again(aw, period, api):
    set_weights(aw)
    c = api("county_secretary")
    body = {"scope_kind": "county", "region": aw.regions["C"].pk, "period": period.code}
    generated = c.post(API + "bulletins/", body, format="json")
    assert generated.status_code == 201, generated.content
    draft = generated.json()
    assert draft["status"] == "draft" and draft["period"] == period.code
    assert draft["content"]["sections"] and draft["title"] == draft["content"]["title"]

    issued = c.post(API + f"bulletins/{draft['id']}/issue/", format="json")
    assert issued.status_code == 200 and issued.json()["status"] == "issued"
    again = c.post(API + "bulletins/", body, format="json")
    assert again.status_code == 400
    assert "已经印发" in str(again.json()["error"]["fields"]["bulletin"])
    assert Bulletin.objects.filter(scope_key=f"county:{aw.regions['C'].pk}").count() == 1
    # Issuing twice is refused too; a correction is a new version.
    assert c.post(API + f"bulletins/{draft['id']}/issue/", format="json").status_code == 400
    corrected = c.post(API + f"bulletins/{draft['id']}/correct/", {"note": "更正满意率口径"}, format="json")
    assert corrected.status_code == 201 and corrected.json()["version"] == 2
    # A town's secretary may not generate the county's bulletin: the county is not theirs.
    assert api("town_secretary_a").post(API + "bulletins/", body, format="json").status_code == 404
