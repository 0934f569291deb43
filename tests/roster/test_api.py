"""The roster REST API: check, apply (all or valid only), cancel, structured errors, scope."""
from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from gongzhi.registry.models import Household
from gongzhi.roster.models import ImportBatch, ImportStatus

from .conftest import xlsx_bytes
from .messy import MessyRoster


def create(client, world, content, name="roster.xlsx", village="A1"):
    return client.post(reverse("roster-import-list"), {
        "village": world.regions[village].pk, "kind": "households", "file": SimpleUploadedFile(name, content)},
        format="multipart")


def test_check_then_apply_valid_rows_through_the_api(world, api):
    client = api("village_secretary_a1")
    response = create(client, world, xlsx_bytes(MessyRoster(world).rows()))
    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "checked" and len(body["report"]["errors"]) == 13
    assert body["report"]["errors"][0] == {"row": 8, "messages": body["report"]["errors"][0]["messages"],
                                           "household": "H-102", "name": "陈老汉"}
    apply = reverse("roster-import-apply", args=[body["id"]])

    refused = client.post(apply, {"valid_only": False}, format="json")
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "roster_has_errors"
    assert len(refused.json()["error"]["report"]["errors"]) == 13
    assert not Household.objects.filter(code="H-101").exists()

    done = client.post(apply, {"valid_only": True}, format="json")
    assert done.status_code == 200 and done.json()["status"] == "applied"
    assert Household.objects.filter(code="H-101").exists()
    again = client.post(apply, {"valid_only": True}, format="json")
    assert again.status_code == 400 and again.json()["error"]["message"] == "该批次已导入或已取消"


def test_unreadable_files_and_scope(world, api):
    client = api("village_secretary_a1")
    response = create(client, world, b"not a spreadsheet", name="x.xlsx")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "unreadable_file"
    assert "不是有效的 .xlsx 文件" in response.json()["error"]["message"]
    assert create(client, world, b"x", name="x.csv", village="B1").status_code == 404
    assert create(api("department_handler"), world, b"x").status_code == 403
    missing = client.post(reverse("roster-import-list"), {"kind": "households"}, format="multipart")
    assert missing.status_code == 400 and set(missing.json()["error"]["fields"]) == {"village", "file"}
    assert not ImportBatch.objects.exists()


def test_cancel(world, api):
    client = api("town_secretary_a")
    batch_id = create(client, world, xlsx_bytes(MessyRoster(world).rows())).json()["id"]
    assert client.post(reverse("roster-import-cancel", args=[batch_id])).json()["status"] == "cancelled"
    assert ImportBatch.objects.get().status == ImportStatus.CANCELLED
    assert api("outsider_b").get(reverse("roster-import-detail", args=[batch_id])).status_code == 404


def test_the_list_is_scoped_and_light(world, api):
    create(api("village_secretary_a1"), world, xlsx_bytes(MessyRoster(world).rows()))
    rows = api("town_secretary_a").get(reverse("roster-import-list")).json()["results"]
    assert [r["village_name"] for r in rows] == ["五一村"] and "report" not in rows[0]
    assert api("outsider_b").get(reverse("roster-import-list")).json()["results"] == []
