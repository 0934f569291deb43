"""What one Open311 submission costs in SQL statements (issue 10: ≈31 before; the pinned
maximum below is what the intake path needs now), and that the count does not grow with the
number of people to notify."""
from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from gongzhi.cases.models import Case, Notification

from .conftest import add_login

pytestmark = pytest.mark.django_db(transaction=True)

# Reads before the transaction: county, category (with whether it has extra questions), place,
# the channel account (4). The transaction: BEGIN, key, time limit, case, scope re-check, timeline, audit,
# recipients with their e-mails, notifications, submission, answer, COMMIT (12). After commit:
# the number (1).
MAX_STATEMENTS = 17


def _file(client, text: str, key: str):
    data = {"service_code": "demand-small-matter", "address_string": "城关镇五一村村口", "description": text,
            "first_name": "建国", "last_name": "张", "phone": "13812345678"}
    with CaptureQueriesContext(connection) as ctx:
        response = client.post("/open311/v2/requests.json", data, HTTP_IDEMPOTENCY_KEY=key)
    assert response.status_code == 201, response.content
    return response.json()[0], [q["sql"] for q in ctx.captured_queries]


def test_a_submission_costs_at_most_the_pinned_statements(client, iw):
    _file(client, "路灯不亮了", "statements-warm-up")  # the channel account and the category's first use
    answer, statements = _file(client, "路灯又不亮了", "statements-0000001")
    assert len(statements) <= MAX_STATEMENTS, "\n".join(s[:160] for s in statements)
    case = Case.objects.get(number=answer["service_request_id"])
    assert Notification.objects.filter(case=case, kind="registered").exists()
    # no number is reserved inside the registration's transaction any more
    commit = statements.index("COMMIT")
    assert not any("casenumbersequence" in s for s in statements[:commit])
    assert "cases_number_pending" in statements[commit + 1]


def test_more_dispatchers_cost_no_more_statements(client, iw):
    _file(client, "路灯不亮了", "statements-warm-up")
    _, few = _file(client, "井盖丢了", "statements-0000002")
    for i in range(5):
        add_login(iw.world, f"extra_dispatcher_{i}", "dispatcher", f"调度员{i}", region=iw.regions["A1"])
    answer, many = _file(client, "井盖又丢了", "statements-0000003")
    assert len(many) == len(few)
    case = Case.objects.get(number=answer["service_request_id"])
    assert Notification.objects.filter(case=case, kind="registered").count() >= 5
    assert not Notification.objects.filter(case=case, text__contains="{{").exists()
    assert Notification.objects.filter(case=case, text__startswith=f"【{case.number}】").count() >= 5
