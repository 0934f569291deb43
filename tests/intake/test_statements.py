"""What one Open311 submission costs in SQL statements (issue 10: ≈31 before, all while the
client waited). The request path is now one statement — the receipt — and the registration the
worker does afterwards is pinned too, and does not grow with the number of people to notify."""
from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from gongzhi.cases.models import Case, Notification
from gongzhi.intake import receipts
from gongzhi.intake.models import ReceivedSubmission

from .conftest import add_login

pytestmark = pytest.mark.django_db(transaction=True)

# The request, with a broker: the receipt's INSERT … ON CONFLICT DO NOTHING (1). County,
# catalogue and place codes come from memory (intake/reference.py).
MAX_REQUEST_STATEMENTS = 1
# The worker, per receipt: BEGIN, claim (FOR UPDATE SKIP LOCKED), savepoint, place, category, the
# channel account, time limit, case, scope re-check, timeline, audit, recipients with their
# e-mails, notifications, submission, release, receipt update, COMMIT (17); after commit the
# number (1). Once per pass: the empty claim that ends it (BEGIN, SELECT, COMMIT).
MAX_REGISTER_STATEMENTS = 18


def _file(client, text: str, key: str):
    data = {"service_code": "demand-small-matter", "address_string": "城关镇五一村村口", "description": text,
            "first_name": "建国", "last_name": "张", "phone": "13812345678"}
    with CaptureQueriesContext(connection) as ctx:
        response = client.post("/open311/v2/requests.json", data, HTTP_IDEMPOTENCY_KEY=key)
    assert response.status_code == 201, response.content
    return response.json()[0], [q["sql"] for q in ctx.captured_queries]


def _register():
    with CaptureQueriesContext(connection) as ctx:
        done = receipts.register_received()
    return done, [q["sql"] for q in ctx.captured_queries]


def test_the_request_is_one_statement_and_the_worker_registers_it(client, iw, with_broker):
    _file(client, "路灯不亮了", "statements-warm-up")  # the reference data's first load
    _register()
    answer, statements = _file(client, "路灯又不亮了", "statements-0000001")
    assert len(statements) <= MAX_REQUEST_STATEMENTS, "\n".join(s[:160] for s in statements)
    assert "intake_receivedsubmission" in statements[0] and len(with_broker) == 2
    receipt = ReceivedSubmission.objects.get(token=answer["token"])
    assert receipt.state == ReceivedSubmission.State.RECEIVED and receipt.case is None  # acknowledged, durable
    done, statements = _register()
    assert done == 1
    assert len(statements) <= MAX_REGISTER_STATEMENTS + 3, "\n".join(s[:160] for s in statements)
    receipt.refresh_from_db()
    case = receipt.case
    assert receipt.state == ReceivedSubmission.State.REGISTERED and case.number.startswith("GZ-")
    assert case.tracking_code == receipt.tracking_code and case.intake_submission.token == answer["token"]
    assert case.tracking_code in answer["service_notice"]
    assert case.received_at == receipt.received_at  # the clocks run from when the resident sent it
    assert Notification.objects.filter(case=case, kind="registered").exists()
    # no number is reserved inside the registration's transaction
    commit = statements.index("COMMIT")
    assert not any("casenumbersequence" in s for s in statements[:commit])
    assert "cases_number_pending" in statements[commit + 1]


def test_more_dispatchers_cost_the_worker_no_more_statements(client, iw, with_broker):
    _file(client, "路灯不亮了", "statements-warm-up")
    _register()
    _file(client, "井盖丢了", "statements-0000002")
    _, few = _register()
    for i in range(5):
        add_login(iw.world, f"extra_dispatcher_{i}", "dispatcher", f"调度员{i}", region=iw.regions["A1"])
    answer, _ = _file(client, "井盖又丢了", "statements-0000003")
    _, many = _register()
    assert len(many) == len(few)
    case = Case.objects.get(intake_submission__token=answer["token"])
    assert Notification.objects.filter(case=case, kind="registered").count() >= 5
    assert not Notification.objects.filter(case=case, text__contains="{{").exists()
    assert Notification.objects.filter(case=case, text__startswith=f"【{case.number}】").count() >= 5
