"""The API: the same rules with structured errors, and the schema documents every endpoint."""
from __future__ import annotations

import datetime as dt

from django.utils import timezone

from gongzhi.volunteers.models import PointsAccount, SignUp

from .conftest import earn, make_task


def test_a_refused_assignment_is_a_structured_error_naming_the_certification(corps, api):
    task = make_task(corps, corps.legal)
    client = api("village_secretary_a1")
    r = client.post(f"/api/volunteers/tasks/{task.pk}/signups/", {"volunteer": corps.plain.pk}, format="json")
    assert r.status_code == 201
    r = client.post(f"/api/volunteers/signups/{r.json()['id']}/assign/", {}, format="json")
    assert r.status_code == 400
    body = r.json()["error"]
    assert body["code"] == "invalid" and "没有法律资质" in body["fields"]["volunteer"][0]


def test_the_volunteer_earns_redeems_and_reads_their_statement(corps, api, world):
    earn(corps, corps.self_, hours=3)  # 30 points
    cs = api("county_secretary")
    item = cs.post("/api/volunteers/catalogue/", {"county": world.regions["C"].pk, "name": "体检一次",
                                                   "provider": "镇卫生院", "points_cost": 20, "stock": 1},
                   format="json").json()
    me = api("volunteer_a1")
    r = me.post("/api/volunteers/redemptions/", {"item": item["id"], "quantity": 2}, format="json")
    assert r.status_code == 400 and "库存不足" in r.json()["error"]["fields"]["quantity"][0]
    r = me.post("/api/volunteers/redemptions/", {"item": item["id"], "quantity": -1}, format="json")
    assert r.status_code == 400 and "quantity" in r.json()["error"]["fields"]
    assert me.post("/api/volunteers/redemptions/", {"item": item["id"]}, format="json").status_code == 201
    statement = me.get(f"/api/volunteers/volunteers/{corps.self_.pk}/ledger/").json()
    rows = statement["results"] if isinstance(statement, dict) else statement
    assert [p["amount"] for p in rows] == [-20, 30]
    assert PointsAccount.objects.get(volunteer=corps.self_).balance == 10
    r = me.post("/api/volunteers/redemptions/", {"item": item["id"]}, format="json")
    assert r.status_code == 400
    overview = cs.get("/api/volunteers/overview/").json()
    assert overview["ledger"] == {"issued": 30, "redeemed": 20, "expired": 0, "corrected": 0, "held": 10,
                                  "balanced": True}


def test_only_staff_confirm_and_a_wrong_hours_value_is_a_400(corps, api):
    task = make_task(corps)
    vs = api("village_secretary_a1")
    s = vs.post(f"/api/volunteers/tasks/{task.pk}/signups/", {"volunteer": corps.self_.pk, "assign": True},
                format="json").json()
    vs.post(f"/api/volunteers/signups/{s['id']}/check-in/", {"at": task.starts_at.isoformat()}, format="json")
    at = (task.starts_at + dt.timedelta(hours=2)).isoformat()
    assert vs.post(f"/api/volunteers/signups/{s['id']}/check-out/", {"at": at}, format="json").status_code == 200
    assert api("volunteer_a1").post(f"/api/volunteers/signups/{s['id']}/confirm/", {}, format="json").status_code == 403
    r = vs.post(f"/api/volunteers/signups/{s['id']}/confirm/", {"hours": "5"}, format="json")
    assert r.status_code == 400 and "不能超过" in r.json()["error"]["fields"]["hours"][0]
    r = vs.post(f"/api/volunteers/signups/{s['id']}/confirm/", {}, format="json")
    assert r.status_code == 200 and r.json()["points_earned"] == 20
    assert SignUp.objects.get(pk=s["id"]).confirmed_by.username == "village_secretary_a1"


def test_a_task_with_a_case_shows_the_case_number_only(corps, api, world):
    from tests.permission_matrix.intake import _case

    case = _case(world)
    start = timezone.now() + dt.timedelta(days=1)
    r = api("town_secretary_a").post("/api/volunteers/tasks/", {
        "kind": corps.legal.pk, "title": "法律咨询", "region": world.regions["A1"].pk, "place": "村委会",
        "starts_at": start.isoformat(), "ends_at": (start + dt.timedelta(hours=2)).isoformat(), "case": case.pk},
        format="json")
    assert r.status_code == 201
    assert case.tracking_code not in r.content.decode()
    assert r.json()["case_number"] == (case.number or "编号待定")
