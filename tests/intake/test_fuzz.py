"""Hostile and random input on the public write paths: an answer in Chinese or in the spec's
error format, never a 500, never half a case."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gongzhi.cases.models import Case, CaseEvent
from gongzhi.intake.models import IdempotencyKey, IntakeSubmission

pytestmark = pytest.mark.django_db

text = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=300) | st.sampled_from(
    ["", "<script>alert(1)</script>", "\x00", "' OR 1=1 --", "9" * 500, "NaN", "-inf", "1e309", "１３８１２３４５６７８"])
FIELDS = ["service_code", "lat", "long", "address_string", "address_id", "description", "phone", "email",
          "media_url", "first_name", "last_name", "jurisdiction_id", "attribute[x]", "api_key"]


def _consistent():
    assert Case.objects.count() == IntakeSubmission.objects.count() == CaseEvent.objects.filter(
        kind="register").count()
    assert IdempotencyKey.objects.filter(case__isnull=True).count() == 0


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.dictionaries(st.sampled_from(FIELDS), text, max_size=8), fmt=st.sampled_from(["json", "xml"]))
def test_open311_post_never_fails_badly(client, iw, data, fmt):
    response = client.post(f"/open311/v2/requests.{fmt}", data)
    assert response.status_code in (201, 400, 403, 404, 413, 415, 422, 429), response.status_code
    _consistent()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.dictionaries(st.sampled_from(["description", "village", "grid", "address", "category", "name",
                                             "phone", "latitude", "longitude", "key", "website"]), text, max_size=8))
def test_the_residents_form_never_fails_badly(client, iw, data):
    response = client.post("/r/", data)
    assert response.status_code in (302, 400, 409, 429), response.status_code
    _consistent()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(query=st.dictionaries(st.sampled_from(["service_request_id", "service_code", "start_date", "end_date",
                                              "status", "jurisdiction_id"]), text, max_size=4))
def test_open311_get_never_fails_badly(client, iw, query):
    response = client.get("/open311/v2/requests.json", query)
    assert response.status_code in (200, 400, 404, 429), response.status_code
