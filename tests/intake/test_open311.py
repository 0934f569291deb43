"""Open311 GeoReport v2: services, service definitions, filing and reading requests, tokens,
JSON and XML, the spec's errors — and what the public listing must never show."""
from __future__ import annotations

import json
from decimal import Decimal
import xml.etree.ElementTree as ET

import pytest

from gongzhi.cases import services as case_services
from gongzhi.cases.choices import CaseStatus, Channel
from gongzhi.cases.models import Case
from gongzhi.intake.models import IntakeClient, IntakeSubmission, ServiceAttribute

from .conftest import category

pytestmark = pytest.mark.django_db
BASE = "/open311/v2"


def post(client, data, fmt="json", **headers):
    return client.post(f"{BASE}/requests.{fmt}", data, **{f"HTTP_{k.upper().replace('-', '_')}": v
                                                          for k, v in headers.items()})


def file(client, iw, **extra):
    data = {"service_code": "demand-small-matter", "address_string": "城关镇五一村村口", "description": "路灯不亮了",
            "first_name": "建国", "last_name": "张", "phone": "13812345678", "email": "zjg@example.cn"}
    data.update(extra)
    return post(client, data)


def test_services_in_json_and_xml(client, iw):
    data = client.get(f"{BASE}/services.json").json()
    codes = {s["service_code"]: s for s in data}
    assert "demand-small-matter" in codes and "petition" in codes
    s = codes["demand-small-matter"]
    assert set(s) == {"service_code", "service_name", "description", "metadata", "type", "keywords", "group"}
    assert s["metadata"] is False and s["type"] == "realtime" and s["group"] == "利益诉求"
    root = ET.fromstring(client.get(f"{BASE}/services.xml").content)
    assert root.tag == "services"
    assert {e.findtext("service_code") for e in root.findall("service")} == set(codes)
    assert root.find("service").findtext("metadata") == "false"


def test_a_service_with_extra_questions(client, iw):
    cat = category("demand-drinking-water")
    ServiceAttribute.objects.create(category=cat, code="days", description="停水几天了？", datatype="singlevaluelist",
                                    required=True, order=1, values=[{"key": "1", "name": "一天"},
                                                                    {"key": "3", "name": "三天以上"}])
    listing = {s["service_code"]: s for s in client.get(f"{BASE}/services.json").json()}
    assert listing["demand-drinking-water"]["metadata"] is True
    definition = client.get(f"{BASE}/services/demand-drinking-water.json").json()
    assert definition["service_code"] == "demand-drinking-water"
    (attribute,) = definition["attributes"]
    assert attribute == {"variable": True, "code": "days", "datatype": "singlevaluelist", "required": True,
                         "datatype_description": None, "order": 1, "description": "停水几天了？",
                         "values": [{"key": "1", "name": "一天"}, {"key": "3", "name": "三天以上"}]}
    root = ET.fromstring(client.get(f"{BASE}/services/demand-drinking-water.xml").content)
    assert root.tag == "service_definition"
    assert root.find("attributes/attribute/values/value/name").text == "一天"

    missing = file(client, iw, service_code="demand-drinking-water")
    assert missing.status_code == 400 and "停水几天了" in missing.json()[0]["description"]
    wrong = file(client, iw, service_code="demand-drinking-water", **{"attribute[days]": "9"})
    assert wrong.status_code == 400
    ok = file(client, iw, service_code="demand-drinking-water", **{"attribute[days]": "3"})
    assert ok.status_code == 201
    case = Case.objects.get()
    assert "停水几天了？：三天以上" in case.description
    assert case.intake_submission.attributes == {"days": "3"}
    assert client.get(f"{BASE}/services/no-such.json").status_code == 404


def test_filing_a_request(client, iw):
    response = file(client, iw)
    assert response.status_code == 201
    (answer,) = response.json()
    case = Case.objects.get()  # registered at once here (no broker: the worker runs in-process)
    assert "service_request_id" not in answer  # the answer is the receipt: the same on every retry
    assert answer["token"] == case.intake_submission.token == case.receipt.token
    assert case.tracking_code in answer["service_notice"]
    assert case.channel == Channel.OPEN311 and case.region == iw.regions["A1"]
    assert case.requester_name == "张建国" and case.requester_phone == "13812345678"
    assert case.intake_submission.email == "zjg@example.cn"
    assert list(case.events.values_list("kind", flat=True)) == ["register"]


def test_filing_in_xml_and_with_json_body(client, iw):
    response = file(client, iw, description="XML路灯")
    xml = client.post(f"{BASE}/requests.xml", {"service_code": "demand-small-matter", "lat": "32.891234",
                                               "long": "108.508765", "description": "只有坐标"})
    assert xml.status_code == 201 and xml["Content-Type"].startswith("text/xml")
    root = ET.fromstring(xml.content)
    assert root.tag == "service_requests" and root.find("request/token").text
    case = Case.objects.get(intake_submission__token=root.find("request/token").text)
    assert case.region == iw.regions["C"] and case.village is None  # to be placed by the county's dispatcher
    assert str(case.latitude) == "32.891234"
    body = json.dumps({"service_code": "demand-small-matter", "address_id": iw.grids["A1-1"].code,
                       "description": "JSON 格式", "attribute": {}})
    js = client.post(f"{BASE}/requests.json", body, content_type="application/json")
    assert js.status_code == 201
    assert Case.objects.get(intake_submission__token=js.json()[0]["token"]).grid == iw.grids["A1-1"]
    assert response.status_code == 201


@pytest.mark.parametrize("data, status, text", [
    ({"address_string": "五一村"}, 400, "service_code"),
    ({"service_code": "nope", "address_string": "五一村"}, 404, "service_code"),
    ({"service_code": "demand-small-matter"}, 400, "location required"),
    ({"service_code": "demand-small-matter", "lat": "500", "long": "1"}, 400, "lat/long"),
    ({"service_code": "demand-small-matter", "lat": "x", "long": "1"}, 400, "lat/long"),
    ({"service_code": "demand-small-matter", "address_id": "999"}, 400, "address_id"),
    ({"service_code": "demand-small-matter", "address_string": "五一村", "phone": "abc"}, 400, "phone"),
    ({"service_code": "demand-small-matter", "address_string": "五一村", "email": "x@"}, 400, "email"),
    ({"service_code": "demand-small-matter", "address_string": "五一村", "media_url": "javascript:alert(1)"}, 400,
     "media_url"),
    ({"service_code": "demand-small-matter", "address_string": "五一村", "description": "长" * 4001}, 400,
     "description"),
    ({"service_code": "demand-small-matter", "address_string": "五一村", "jurisdiction_id": "123"}, 404,
     "jurisdiction_id"),
    ({"service_code": "demand-small-matter", "address_string": "五一村", "api_key": "wrong"}, 403, "api_key"),
])
def test_errors_follow_the_spec(client, iw, data, status, text):
    for fmt in ("json", "xml"):
        response = post(client, data, fmt)
        assert response.status_code == status
        if fmt == "json":
            errors = response.json()
            assert isinstance(errors, list) and errors[0]["code"] == status and text in errors[0]["description"]
        else:
            root = ET.fromstring(response.content)
            assert root.tag == "errors" and root.find("error/code").text == str(status)
            assert text in root.find("error/description").text
    assert not Case.objects.exists()


def test_malformed_bodies_and_content_types(client, iw):
    bad = client.post(f"{BASE}/requests.json", "{not json", content_type="application/json")
    assert bad.status_code == 400 and bad.json()[0]["description"].startswith("JSON")
    array = client.post(f"{BASE}/requests.json", "[1,2]", content_type="application/json")
    assert array.status_code == 400
    nested = client.post(f"{BASE}/requests.json", json.dumps({"service_code": {"a": 1}}),
                         content_type="application/json")
    assert nested.status_code == 400
    xml = client.post(f"{BASE}/requests.xml", "<request><service_code>x</service_code></request>",
                      content_type="text/xml")
    assert xml.status_code == 415 and ET.fromstring(xml.content).tag == "errors"
    huge = client.post(f"{BASE}/requests.json", "a=" + "x" * 300_000, content_type="application/x-www-form-urlencoded")
    assert huge.status_code == 413
    surrogate = client.post(f"{BASE}/requests.json", '{"service_code": "demand-small-matter", "address_string": '
                            '"五一村", "description": "\\ud800坏了\\u0000"}', content_type="application/json")
    assert surrogate.status_code == 201, surrogate.content.decode()
    assert Case.objects.get().description == "坏了"
    assert client.get(f"{BASE}/whatever.json").status_code == 404
    assert ET.fromstring(client.get(f"{BASE}/foo/bar.xml").content).tag == "errors"
    assert client.put(f"{BASE}/requests.json").status_code == 405


def test_api_keys(client, iw, settings):
    settings.GONGZHI_OPEN311_REQUIRE_API_KEY = True
    denied = file(client, iw)
    assert denied.status_code == 403 and denied.json()[0]["description"].startswith("需要 api_key")
    app, key = IntakeClient.issue(name="小程序后台", channel=Channel.MINI_PROGRAM, county=iw.regions["C"])
    assert file(client, iw, api_key=key).status_code == 201
    case = Case.objects.get()
    assert case.channel == Channel.MINI_PROGRAM and case.intake_submission.client == app
    assert IntakeClient.objects.get().key_hash != key  # only the hash is kept
    other, other_key = IntakeClient.issue(name="别县", county=iw.regions["A"])  # not a county: never matches
    assert file(client, iw, api_key=other_key).status_code == 403


def _case_in(iw, **kwargs):
    defaults = dict(actor=iw.user("grid_worker_a1_1"), category=category("demand-small-matter"), title="五一村路灯",
                    description="张建国13812345678反映：路灯不亮", channel=Channel.HOTLINE, grid=iw.grids["A1-1"],
                    requester=iw.persons["A1-1"], latitude=Decimal("32.891235"), longitude=Decimal("108.508765"))
    defaults.update(kwargs)
    return case_services.case_register(**defaults)


def test_reading_requests_never_shows_who_raised_them(client, iw):
    public = _case_in(iw, title="路灯不亮 13812345678")
    personal = _case_in(iw, category=category("demand-social-assistance"), title="张建国家申请低保",
                        description="家庭困难", latitude=None, longitude=None)
    complaint = _case_in(iw, actor=iw.user("village_secretary_a1"), category=category("complaint-illegal-building"),
                         title="举报李某违建", description="李某在河边建房", complained_department=iw.world.department)
    listing = {r["service_request_id"]: r for r in client.get(f"{BASE}/requests.json").json()}
    assert set(listing) == {public.number, personal.number, complaint.number}
    body = json.dumps(listing, ensure_ascii=False)
    for secret in ("张建国", "13812345678", "H-A1-1", "五一村A1-1号", public.tracking_code, "李某"):
        assert secret not in body, secret
    p = listing[public.number]
    assert p["description"] == "路灯不亮 138****5678" and p["status"] == "open"
    assert p["lat"] == 32.891 and p["long"] == 108.509
    assert p["address"] == "城关镇五一村一组" and p["address_id"] == iw.regions["A1g1"].code
    assert p["requested_datetime"].endswith("+08:00") and "T" in p["requested_datetime"]
    assert p["status_notes"] == "已收到，等待受理" and p["service_name"] == "小事急办（路灯、水管、垃圾清运等）"
    assert listing[personal.number]["description"] == "低保、特困等社会救助" and listing[personal.number]["lat"] is None
    c = listing[complaint.number]
    assert c["description"] == "违法建设举报" and c["address"] == "汉阴县" and c["agency_responsible"] == ""
    assert set(p) == {"service_request_id", "status", "status_notes", "service_name", "service_code", "description",
                      "agency_responsible", "service_notice", "requested_datetime", "updated_datetime",
                      "expected_datetime", "address", "address_id", "zipcode", "lat", "long", "media_url"}


def test_filters(client, iw):
    a = _case_in(iw)
    b = _case_in(iw, category=category("opinion-village-affairs"), title="建议公开账目")
    secretary = iw.user("village_secretary_a1")
    case_services.case_decline(actor=secretary, case=b, reason="重复反映")
    get = lambda q: [r["service_request_id"] for r in client.get(f"{BASE}/requests.json?{q}").json()]  # noqa: E731
    assert get("status=open") == [a.number] and get("status=closed") == [b.number]
    assert get("service_code=opinion-village-affairs") == [b.number]
    assert get(f"service_request_id={a.number},{b.number},GZ-0-0") == [b.number, a.number]
    assert get("start_date=2000-01-01T00:00:00Z&end_date=2000-02-01T00:00:00Z") == []
    assert sorted(get("start_date=2000-01-01T00:00:00+08:00")) == sorted([a.number, b.number])
    assert client.get(f"{BASE}/requests.json?status=pending").status_code == 400
    assert client.get(f"{BASE}/requests.json?start_date=yesterday").status_code == 400
    detail = client.get(f"{BASE}/requests/{b.number}.json").json()
    assert detail[0]["status"] == "closed" and detail[0]["status_notes"] == "不予受理"
    root = ET.fromstring(client.get(f"{BASE}/requests/{a.number}.xml").content)
    assert root.find("request/service_request_id").text == a.number and root.find("request/lat").text == "32.891"
    assert client.get(f"{BASE}/requests/GZ-1999-000001.json").status_code == 404


def test_tokens(client, iw):
    (answer,) = file(client, iw).json()
    number = Case.objects.get().number
    token = client.get(f"{BASE}/tokens/{answer['token']}.json").json()
    assert token == [{"service_request_id": number, "token": answer["token"]}]
    root = ET.fromstring(client.get(f"{BASE}/tokens/{answer['token']}.xml").content)
    assert root.find("request/service_request_id").text == number
    assert client.get(f"{BASE}/tokens/nope.json").status_code == 404


def test_the_same_idempotency_key_gives_the_same_answer(client, iw):
    first = file(client, iw, HTTP_IDEMPOTENCY_KEY="k-123456789") if False else post(
        client, {"service_code": "demand-small-matter", "address_string": "五一村", "description": "路灯"},
        **{"Idempotency-Key": "retry-0001-abcdef"})
    again = post(client, {"service_code": "demand-small-matter", "address_string": "五一村", "description": "路灯"},
                 **{"Idempotency-Key": "retry-0001-abcdef"})
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json() and again["Idempotent-Replayed"] == "true"
    assert Case.objects.count() == 1 and IntakeSubmission.objects.count() == 1
    xml = post(client, {"service_code": "demand-small-matter", "address_string": "五一村", "description": "路灯"},
               "xml", **{"Idempotency-Key": "retry-0001-abcdef"})
    assert ET.fromstring(xml.content).find("request/token").text == first.json()[0]["token"]
    changed = post(client, {"service_code": "demand-small-matter", "address_string": "五一村", "description": "水管"},
                   **{"Idempotency-Key": "retry-0001-abcdef"})
    assert changed.status_code == 422 and Case.objects.count() == 1
    assert post(client, {"service_code": "demand-small-matter", "address_string": "五一村"},
                **{"Idempotency-Key": "short"}).status_code == 400


def test_a_merged_request_reads_closed_with_a_pointer(client, iw):
    from gongzhi.intake.services import case_merge

    a = _case_in(iw)
    b = _case_in(iw)
    case_merge(actor=iw.user("town_dispatcher_a"), duplicate=b, primary=a)
    (row,) = client.get(f"{BASE}/requests/{b.number}.json").json()
    assert row["status"] == "closed" and a.number in row["status_notes"]


def test_open311_reads_are_rate_limited(client, iw, settings):
    settings.GONGZHI_INTAKE_RATE_LIMITS = {"open311_get": (2, 60)}
    codes = [client.get(f"{BASE}/services.json").status_code for _ in range(3)]
    assert codes == [200, 200, 429]
    assert client.get(f"{BASE}/services.json").json()[0]["code"] == 429


def test_a_case_status_maps_to_open_until_closed(client, iw):
    case = _case_in(iw)
    secretary = iw.user("village_secretary_a1")
    case_services.case_accept(actor=secretary, case=case)
    (row,) = client.get(f"{BASE}/requests/{case.number}.json").json()
    assert row["status"] == "open" and row["status_notes"] == "已受理，正在安排办理" and row["expected_datetime"]
    assert CaseStatus.ACCEPTED
