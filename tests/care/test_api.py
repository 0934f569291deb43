"""The care API: scoped reads, writes through the services, and a complete OpenAPI schema."""
import pytest
from django.urls import reverse

from gongzhi.care import services
from gongzhi.care.models import ArchiveChange, ContactRecord, HouseholdClass
from gongzhi.registry import services as registry_services


@pytest.fixture
def classified(care):
    registry_services.person_update(actor=care.system, person=care.persons["A1-1-spouse"], left_behind="elderly")
    services.households_classify(actor=None, region=care.regions["C"])
    return care


def test_classes_are_listed_with_reasons_and_scoped(classified, api):
    response = api("grid_worker_a1_1").get(reverse("care_api:class-list"), {"colour": "red"})
    assert response.status_code == 200
    rows = response.json()["results"]
    assert [r["household_code"] for r in rows] == ["H-A1-1"]
    assert rows[0]["summary"].startswith("连心户：留守老人 刘某")
    everything = api("county_secretary").get(reverse("care_api:class-list")).json()
    assert everything["count"] == HouseholdClass.objects.count()
    town_b = api("outsider_b").get(reverse("care_api:class-list")).json()
    assert {r["household_code"] for r in town_b["results"]} == {"H-B1"}


def test_class_counts_per_grid(classified, api):
    body = api("village_secretary_a1").get(reverse("care_api:class-counts", kwargs={"pk": classified.regions["A1"].pk})).json()
    assert sum(body["total"].values()) == HouseholdClass.objects.filter(village_id=classified.regions["A1"].pk).count()
    assert body["total"]["red"] >= 1 and body["unclassified"] == 0
    assert {g["name"] for g in body["grids"]} == {"五一村一组网格", "五一村二组网格"}


def test_a_contact_is_recorded_through_the_api(classified, api):
    response = api("three_line_a1").post(reverse("care_api:contacts"), {
        "household": classified.households["A1-1"].pk, "method": "wechat", "heard": "想了解医保报销"}, format="json")
    assert response.status_code == 201, response.json()
    assert ContactRecord.objects.get(pk=response.json()["id"]).line == "party_member"
    bad = api("three_line_a1").post(reverse("care_api:contacts"), {
        "household": classified.households["A1-1"].pk, "method": "fax", "heard": "x"}, format="json")
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid"


def test_changes_and_decisions_through_the_api(classified, api):
    worker = api("grid_worker_a1_1")
    response = worker.post(reverse("care_api:changes"), {
        "household": classified.households["A1-1"].pk, "kind": "disability",
        "person": classified.persons["A1-1"].pk, "payload": {"grade": 1}}, format="json")
    assert response.status_code == 201 and response.json()["status"] == "pending"
    pk = response.json()["id"]
    assert worker.post(reverse("care_api:change-decide", kwargs={"pk": pk}), {"approve": True},
                       format="json").status_code == 403
    decided = api("village_secretary_a1").post(reverse("care_api:change-decide", kwargs={"pk": pk}),
                                               {"approve": True}, format="json")
    assert decided.status_code == 200 and ArchiveChange.objects.get(pk=pk).status == "confirmed"


def test_patrol_and_problem_through_the_api(classified, api):
    worker = api("grid_worker_a1_1")
    patrol = worker.post(reverse("care_api:patrol-create"), {"grid": classified.grids["A1-1"].pk}, format="json")
    assert patrol.status_code == 201
    problem = worker.post(reverse("care_api:patrol-problem", kwargs={"pk": patrol.json()["id"]}),
                          {"description": "井盖缺失", "location": "村口"}, format="json")
    assert problem.status_code == 201 and problem.json()["case_ref"]


def test_the_openapi_schema_documents_every_care_endpoint(classified, api):
    from django.urls import get_resolver

    schema = api("county_secretary").get(reverse("api-schema"), {"format": "json"})
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    care_paths = [p for p in paths if p.startswith("/api/care/")]
    names = [n for n in get_resolver().reverse_dict.keys() if isinstance(n, str)]
    from gongzhi.care import api_urls

    assert len(care_paths) == len(api_urls.urlpatterns) == 14
    for path in care_paths:
        for method, op in paths[path].items():
            assert op.get("responses"), f"{method} {path} has no documented response"
            assert "care" in op.get("tags", [])
    assert names
