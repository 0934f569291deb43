"""An external Open311 client files and reads requests over real HTTP (live_server), in JSON and
in XML, knowing nothing but the spec and the base URL."""
from __future__ import annotations

import pytest

from gongzhi.cases import services as case_services
from gongzhi.cases.models import Case

from .open311_client import Client, Open311Error

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_an_external_client_files_and_reads_requests(live_server, iw, fmt):
    client = Client(f"{live_server.url}/open311/v2", fmt=fmt, jurisdiction=iw.regions["C"].code)
    services = client.services()
    codes = {s["service_code"]: s for s in services}
    assert "demand-small-matter" in codes
    definition = client.service_definition("demand-small-matter")
    assert definition["service_code"] == "demand-small-matter"

    status, headers, created = client.create(
        idempotency_key=f"ext-client-{fmt}-0001", service_code="demand-small-matter",
        address_string="汉阴县城关镇五一村村委会门口", description="村委会门口的路灯坏了，晚上很黑",
        first_name="秀英", last_name="李", phone="13900001111", media_url="https://example.cn/p/1.jpg")
    assert status == 201
    (answer,) = created
    token = answer["token"]
    assert token and "service_request_id" not in answer  # a receipt: the id comes from tokens/

    # a retry after a "timeout" gets the same answer and makes nothing new
    status, headers, again = client.create(
        idempotency_key=f"ext-client-{fmt}-0001", service_code="demand-small-matter",
        address_string="汉阴县城关镇五一村村委会门口", description="村委会门口的路灯坏了，晚上很黑",
        first_name="秀英", last_name="李", phone="13900001111", media_url="https://example.cn/p/1.jpg")
    assert again == created and headers.get("Idempotent-Replayed") == "true"
    assert Case.objects.count() == 1

    ((found,),) = [client.token(token)]
    request_id = found["service_request_id"]
    assert request_id.startswith("GZ-") and found == {"service_request_id": request_id, "token": token}
    (row,) = client.request(request_id)
    assert row["status"] == "open" and row["service_code"] == "demand-small-matter"
    assert row["address"] == "城关镇五一村" and row["media_url"] == "https://example.cn/p/1.jpg"
    assert "李秀英" not in str(row) and "13900001111" not in str(row)
    listed = client.requests(status="open", service_code="demand-small-matter")
    assert [r["service_request_id"] for r in listed] == [request_id]

    case = Case.objects.get(number=request_id)
    secretary = iw.user("village_secretary_a1")
    case_services.case_decline(actor=secretary, case=case, reason="已由村里统一更换路灯")
    (row,) = client.request(request_id)
    assert row["status"] == "closed" and row["status_notes"] == "不予受理"
    assert client.requests(status="open") == []

    with pytest.raises(Open311Error) as error:
        client.create(service_code="no-such-service", address_string="五一村")
    assert error.value.status == 404 and str(error.value.errors[0]["code"]) == "404"
    with pytest.raises(Open311Error) as error:
        client.create(service_code="demand-small-matter")
    assert error.value.status == 400 and "location" in error.value.errors[0]["description"]
    with pytest.raises(Open311Error) as error:
        client.request("GZ-1999-999999")
    assert error.value.status == 404
