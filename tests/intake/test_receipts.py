"""Open311 receipts: acknowledged in one statement, registered by the worker (intake/receipts.py).

With a broker (``with_broker``) the request only writes the receipt; these tests then run the
worker as production's Celery worker would, and check that nothing acknowledged is lost or
doubled, that a retry is answered byte for byte as the first time, and that a receipt the
database no longer accepts as sent is still registered, for the dispatcher."""
from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from django.db import connection

from gongzhi.cases.models import Case, CaseCategory
from gongzhi.intake import receipts
from gongzhi.intake.models import ReceivedSubmission

from .conftest import race

BASE = "/open311/v2"
State = ReceivedSubmission.State


def _post(client, key=None, **fields):
    data = {"service_code": "demand-small-matter", "address_string": "城关镇五一村村口", "description": "路灯不亮",
            "phone": "13812345678", **fields}
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return client.post(f"{BASE}/requests.json", data, **headers)


@pytest.mark.django_db
def test_a_receipt_is_durable_before_registration_and_a_retry_gets_the_same_bytes(client, iw, with_broker):
    first = _post(client, key="receipt-0000001")
    assert first.status_code == 201 and Case.objects.count() == 0
    (answer,) = first.json()
    receipt = ReceivedSubmission.objects.get(token=answer["token"])
    assert receipt.state == State.RECEIVED and receipt.payload["phone"] == "13812345678"
    assert receipt.tracking_code in answer["service_notice"]
    # before registration: the token is known, the id not yet; the resident's page says "received"
    assert client.get(f"{BASE}/tokens/{answer['token']}.json").json() == [
        {"service_request_id": None, "token": answer["token"]}]
    track = client.get(f"/r/t/{receipt.tracking_code}/")
    assert track.status_code == 200 and "已收到，正在登记" in track.content.decode()
    again = _post(client, key="receipt-0000001")
    assert again.content == first.content and again["Idempotent-Replayed"] == "true"
    assert receipts.register_received() == 1
    after = _post(client, key="receipt-0000001")  # a retry after registration: still the same answer
    assert after.content == first.content
    case = Case.objects.get()
    assert client.get(f"{BASE}/tokens/{answer['token']}.json").json() == [
        {"service_request_id": case.number, "token": answer["token"]}]
    assert case.tracking_code == receipt.tracking_code and case.requester_phone == "13812345678"
    assert ReceivedSubmission.objects.count() == 1 and len(with_broker) == 1  # a replay queues nothing
    changed = _post(client, key="receipt-0000001", description="别的事")
    assert changed.status_code == 422 and Case.objects.count() == 1


@pytest.mark.django_db
def test_bad_input_is_refused_at_the_door_not_accepted_and_dropped(client, iw, with_broker):
    assert _post(client, service_code="no-such").status_code == 404
    assert _post(client, address_string="", address_id="999999").status_code == 400
    assert _post(client, phone="12").status_code == 400
    assert ReceivedSubmission.objects.count() == 0 and with_broker == []


@pytest.mark.django_db
def test_a_receipt_whose_category_closed_meanwhile_is_registered_for_the_dispatcher(client, iw, with_broker):
    (answer,) = _post(client, address_id=iw.grids["A1-1"].code).json()
    CaseCategory.objects.filter(code="demand-small-matter").update(active=False)
    assert receipts.register_received() == 1
    case = Case.objects.get()
    assert case.category.code == "unclassified" and case.region == iw.regions["C"]  # the county places it
    assert "已不可用" in case.description and "路灯不亮" in case.description
    assert ReceivedSubmission.objects.get(token=answer["token"]).state == State.REGISTERED


@pytest.mark.django_db
def test_a_receipt_that_cannot_be_registered_is_kept_and_marked_after_its_attempts(client, iw, with_broker):
    (answer,) = _post(client).json()
    ReceivedSubmission.objects.filter(token=answer["token"]).update(
        payload={**ReceivedSubmission.objects.get(token=answer["token"]).payload, "county": 0})
    for attempt in range(1, receipts.MAX_ATTEMPTS + 1):
        assert receipts.register_received() == 1  # tried once per pass, not in a loop
        row = ReceivedSubmission.objects.get(token=answer["token"])
        assert row.attempts == attempt and "gone" in row.error
    assert row.state == State.FAILED and Case.objects.count() == 0
    assert receipts.register_received() == 0  # failed rows wait for a person (admin), never vanish


@pytest.mark.django_db
def test_the_xml_answer_is_the_same_receipt(client, iw, with_broker):
    xml = client.post(f"{BASE}/requests.xml", {"service_code": "demand-small-matter", "lat": "32.89",
                                               "long": "108.50", "description": "只有坐标"})
    root = ET.fromstring(xml.content)
    assert xml.status_code == 201 and root.find("request/service_request_id") is None
    assert ReceivedSubmission.objects.filter(token=root.find("request/token").text).exists()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent workers need a real concurrent database")
@pytest.mark.django_db(transaction=True)
def test_concurrent_workers_register_every_receipt_exactly_once(client, iw, with_broker, settings):
    settings.GONGZHI_INTAKE_RATE_LIMITS_ENABLED = False  # forty submissions from one address
    tokens = [_post(client, key=f"many-{i:05d}", description=f"第{i}件").json()[0]["token"] for i in range(40)]
    done, errors = race(4, lambda i: receipts.register_received())
    assert not errors, errors
    assert sum(done) == 40 and Case.objects.count() == 40
    rows = ReceivedSubmission.objects.filter(token__in=tokens)
    assert {r.state for r in rows} == {State.REGISTERED} and len({r.case_id for r in rows}) == 40
    numbers = sorted(Case.objects.values_list("number", flat=True))
    assert len(set(numbers)) == 40 and all(numbers)
    assert [int(n.rsplit("-", 1)[1]) for n in numbers] == list(range(1, 41))  # gapless


@pytest.mark.django_db
def test_without_a_broker_the_demo_registers_at_once(client, iw):
    (answer,) = _post(client).json()
    case = Case.objects.get()
    assert case.number and case.intake_submission.token == answer["token"]
    assert ReceivedSubmission.objects.get().state == State.REGISTERED


@pytest.mark.django_db
def test_a_process_asks_the_worker_at_most_once_per_window(client, iw, with_broker, monkeypatch):
    monkeypatch.setattr(receipts, "KICK_SECONDS", 60)
    monkeypatch.setattr(receipts, "_last_kick", [0.0])
    for i in range(3):
        assert _post(client, description=f"第{i}件").status_code == 201
    assert len(with_broker) == 1 and ReceivedSubmission.objects.count() == 3
    assert receipts.register_received() == 3  # the one task takes every receipt waiting
