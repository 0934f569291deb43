"""The intake JSON API: idempotent creation, duplicates, merge, clusters."""
from __future__ import annotations

import pytest

from gongzhi.cases.models import Case

pytestmark = pytest.mark.django_db


def body(iw, **extra):
    data = {"channel": "hotline", "description": "五一村一组村口路灯坏了", "village": iw.regions["A1"].pk,
            "grid": iw.grids["A1-1"].pk, "category": "demand-small-matter", "requester_name": "王五",
            "requester_phone": "13700001111"}
    data.update(extra)
    return data


def test_create_is_idempotent(iw, api):
    client = api("town_dispatcher_a")
    first = client.post("/api/intake/cases/", body(iw), format="json", HTTP_IDEMPOTENCY_KEY="cti-call-000001")
    assert first.status_code == 201
    data = first.json()
    case = Case.objects.get()
    assert data["number"] == case.number and data["tracking_code"] == case.tracking_code and data["duplicates"] == []
    again = client.post("/api/intake/cases/", body(iw), format="json", HTTP_IDEMPOTENCY_KEY="cti-call-000001")
    assert again.status_code == 201 and again.json() == data and again["Idempotent-Replayed"] == "true"
    other = client.post("/api/intake/cases/", body(iw, description="别的事"), format="json",
                        HTTP_IDEMPOTENCY_KEY="cti-call-000001")
    assert other.status_code == 422 and other.json()["error"]["code"] == "idempotency_key_reused"
    second = client.post("/api/intake/cases/", body(iw, description="一组村口路灯坏了好几天"), format="json",
                         HTTP_IDEMPOTENCY_KEY="cti-call-000002")
    assert [d["number"] for d in second.json()["duplicates"]] == [case.number]
    assert Case.objects.count() == 2


def test_create_errors(iw, api):
    client = api("town_dispatcher_a")
    bad = client.post("/api/intake/cases/", body(iw, channel="fax", requester_phone="1", village=999999),
                      format="json")
    assert bad.status_code == 400
    fields = bad.json()["error"]["fields"]
    assert {"channel", "requester_phone", "village"} <= set(fields)
    assert client.post("/api/intake/cases/", "{oops", content_type="application/json").status_code == 400
    assert client.post("/api/intake/cases/", body(iw), format="json",
                       HTTP_IDEMPOTENCY_KEY="bad key!").status_code == 400
    assert api("outsider_b").post("/api/intake/cases/", body(iw), format="json").status_code == 403
    assert api("department_handler").post("/api/intake/cases/", body(iw), format="json").status_code == 403
    assert api().post("/api/intake/cases/", body(iw), format="json").status_code in (401, 403)
    assert not Case.objects.exists()


def test_duplicates_merge_and_clusters(iw, api):
    client = api("town_dispatcher_a")
    a = client.post("/api/intake/cases/", body(iw), format="json").json()
    b = client.post("/api/intake/cases/", body(iw, description="一组村口的路灯坏了"), format="json").json()
    found = client.get(f"/api/intake/cases/{b['id']}/duplicates/").json()
    assert [f["number"] for f in found] == [a["number"]] and found[0]["reasons"]
    assert api("outsider_b").get(f"/api/intake/cases/{b['id']}/duplicates/").status_code == 404
    merged = client.post(f"/api/intake/cases/{b['id']}/merge/", {"primary": a["id"]}, format="json")
    assert merged.status_code == 200 and merged.json()["primary"] == a["number"]
    again = client.post(f"/api/intake/cases/{b['id']}/merge/", {"primary": a["id"]}, format="json")
    assert again.status_code == 400
    client.post("/api/intake/cases/", body(iw, description="路灯又坏了"), format="json")
    clusters = client.get("/api/intake/clusters/?days=30&min=3").json()["results"]
    assert clusters[0]["count"] == 3 and clusters[0]["category"] == "demand-small-matter"
    assert client.get("/api/intake/clusters/?days=abc").status_code == 400


def test_clusters_are_paginated_like_every_list(iw, api, settings):
    settings.GONGZHI_PAGE_SIZE = 1
    client = api("town_dispatcher_a")
    for grid in ("A1-1", "A1-2"):
        for i in range(2):
            assert client.post("/api/intake/cases/", body(iw, grid=iw.grids[grid].pk, description=f"{grid}路灯坏了{i}"),
                               format="json").status_code == 201
    first = client.get("/api/intake/clusters/?days=30&min=2").json()
    assert first["count"] == 2 and len(first["results"]) == 1 and first["next"]
    second = client.get(first["next"]).json()
    assert len(second["results"]) == 1 and second["next"] is None
    assert {first["results"][0]["grid"], second["results"][0]["grid"]} == {iw.grids["A1-1"].pk, iw.grids["A1-2"].pk}
