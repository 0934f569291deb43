"""Hotline, window and grid staff enter a case on a resident's behalf in one short form."""
from __future__ import annotations

import re

import pytest

from gongzhi.cases.choices import Channel
from gongzhi.cases.models import Case
from gongzhi.care import services as care_services

from .conftest import png

pytestmark = pytest.mark.django_db


def _key(page) -> str:
    return re.search(r'name="key" value="([^"]+)"', page.content.decode()).group(1)


def test_hotline_staff_find_the_resident_by_phone(iw, login):
    client = login(iw.user("town_dispatcher_a"))
    page = client.get("/intake/new/")
    assert page.status_code == 200
    found = client.get("/intake/people/?q=138-1234-5678").content.decode()
    person = iw.persons["A1-1"]
    assert "张建国" in found and "138****5678" in found and "13812345678" not in found
    assert f'value="{person.pk}"' in found
    response = client.post("/intake/new/", {
        "key": _key(page), "channel": Channel.HOTLINE, "person": person.pk, "description": "家里自来水停了三天",
        "category": "demand-drinking-water", "village": iw.regions["A1"].pk, "grid": iw.grids["A1-1"].pk,
        "photos": [png()]})
    case = Case.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/intake/cases/{case.pk}/"
    assert case.requester == person and case.requester_phone == "13812345678" and case.requester_name == "张建国"
    assert case.channel == Channel.HOTLINE and case.registered_by == iw.user("town_dispatcher_a")
    assert case.attachments.count() == 1
    receipt = client.get(response["Location"]).content.decode()
    grouped = " ".join(case.tracking_code[i:i + 4] for i in range(0, 12, 4))
    assert grouped in receipt


def test_lookup_without_javascript_and_by_id_number(iw, login):
    client = login(iw.user("county_dispatcher"))
    person = iw.persons["A1-1-spouse"]
    page = client.post("/intake/new/", {"lookup": "1", "q": person.id_number, "channel": "window"})
    html = page.content.decode()
    results = html.split('id="people"', 1)[1].split("</div>", 1)[0]
    assert page.status_code == 200 and "刘桂兰" in results and person.id_number not in results
    assert "请填写诉求内容" not in html  # looking someone up is not submitting
    assert not Case.objects.exists()
    outsider = login(iw.user("outsider_b")).get("/intake/people/?q=13812345678").content.decode()
    assert "张建国" not in outsider and "没有找到" in outsider


def test_window_staff_type_name_and_phone(iw, login):
    client = login(iw.user("village_secretary_a1"))
    key = _key(client.get("/intake/new/"))
    data = {"key": key, "channel": Channel.WINDOW, "requester_name": "赵六", "requester_phone": "0915-8123456",
            "description": "咨询医保缴费", "village": iw.regions["A1"].pk}
    assert client.post("/intake/new/", data).status_code == 302
    assert client.post("/intake/new/", data).status_code == 302  # a double click
    case = Case.objects.get()
    assert case.requester is None and case.requester_name == "赵六" and case.requester_phone == "0915-8123456"
    assert case.category.code == "unclassified"


def test_a_grid_worker_reports_from_patrol(iw, login):
    client = login(iw.user("grid_worker_a1_1"))
    page = client.get("/intake/new/")
    html = page.content.decode()
    assert 'value="grid_patrol" checked' in html or 'checked value="grid_patrol"' in html or re.search(
        r'value="grid_patrol"[^>]*checked', html)
    response = client.post("/intake/new/", {
        "key": _key(page), "channel": Channel.GRID_PATROL, "description": "河堤有一处塌方",
        "village": iw.regions["A1"].pk, "grid": iw.grids["A1-1"].pk, "latitude": "32.9", "longitude": "108.5"})
    assert response.status_code == 302
    case = Case.objects.get()
    assert case.channel == Channel.GRID_PATROL
    assert case.grid == iw.grids["A1-1"] and str(case.latitude) == "32.900000"


def test_staff_cannot_file_outside_their_scope(iw, login):
    client = login(iw.user("grid_worker_a1_1"))
    key = _key(client.get("/intake/new/"))
    response = client.post("/intake/new/", {"key": key, "channel": Channel.GRID_PATROL, "description": "越界",
                                            "village": iw.regions["B1"].pk})
    assert response.status_code == 400 and "请选择事发村" in response.content.decode()
    response = client.post("/intake/new/", {"key": key, "channel": Channel.GRID_PATROL, "description": "没有网格",
                                            "village": iw.regions["A1"].pk})
    assert response.status_code == 400 and "不在您的登记范围" in response.content.decode()
    assert not Case.objects.exists()
    assert login(iw.user("department_handler")).get("/intake/new/").status_code == 403


def test_bad_input_on_the_staff_form(iw, login):
    client = login(iw.user("town_dispatcher_a"))
    key = _key(client.get("/intake/new/"))
    response = client.post("/intake/new/", {"key": key, "channel": "carrier_pigeon", "description": "",
                                            "village": "x", "requester_phone": "110", "person": "99999999"})
    html = response.content.decode()
    assert response.status_code == 400
    for message in ("请选择来源", "请填写诉求内容", "请选择事发村", "电话号码不对", "没有找到这位群众"):
        assert message in html
    assert not Case.objects.exists()


def test_a_contact_record_becomes_a_case_in_one_action(iw, login):
    household = iw.world.households["A1-1"]
    record = care_services.contact_record(actor=iw.user("three_line_a1"), household=household, method="visit",
                                          heard="老人说屋顶漏雨，想申请危房改造")
    assert not record.case_ref
    client = login(iw.user("three_line_a1"))
    page = client.get("/intake/contact-records/")
    assert "屋顶漏雨" in page.content.decode() and "转为事项" in page.content.decode()
    response = client.post("/intake/contact-records/", {"record": record.pk})
    assert response.status_code == 302
    record.refresh_from_db()
    case = Case.objects.get(number=record.case_ref)
    assert case.channel == Channel.THREE_LINE and case.requester == iw.persons["A1-1"]
    client.post("/intake/contact-records/", {"record": record.pk})  # again: nothing new
    assert Case.objects.count() == 1
    assert login(iw.user("outsider_b")).post("/intake/contact-records/", {"record": record.pk}).status_code == 404
