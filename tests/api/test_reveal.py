"""POST /api/persons/{id}/reveal/ is the one way to read a clear value, and it is audited."""
from gongzhi.core.models import AuditLog

from .helpers import assert_error, url


def test_reveal_returns_the_clear_value_and_writes_the_audit_trail(api, world):
    person = world.persons["A1-1"]
    response = api("grid_worker_a1_1").post(url("person-reveal", pk=person.pk), {"field": "id_number"},
                                            format="json", HTTP_X_REQUEST_ID="reveal-req-0001")
    assert response.status_code == 200
    assert response.json() == {"field": "id_number", "value": person.id_number}
    assert response["Cache-Control"] == "no-store"
    row = AuditLog.objects.get(action="reveal", object_id=str(person.pk))
    assert row.actor_username == "grid_worker_a1_1"
    assert row.request_id == "reveal-req-0001"
    assert "id_number" in row.note and person.id_number not in row.note


def test_reveal_phone(api, world):
    response = api("village_secretary_a1").post(url("person-reveal", pk=world.persons["A1-1"].pk),
                                                {"field": "phone"}, format="json")
    assert response.json() == {"field": "phone", "value": "13812345678"}


def test_reveal_needs_the_permission_and_the_scope(api, world):
    person = world.persons["A1-1"]
    assert_error(api("three_line_a1").post(url("person-reveal", pk=person.pk), {"field": "phone"}, format="json"),
                 403, "permission_denied")
    assert_error(api("auditor").post(url("person-reveal", pk=person.pk), {"field": "phone"}, format="json"), 403)
    assert_error(api("outsider_b").post(url("person-reveal", pk=person.pk), {"field": "phone"}, format="json"),
                 404, "not_found")
    assert_error(api().post(url("person-reveal", pk=person.pk), {"field": "phone"}, format="json"), 401)
    assert not AuditLog.objects.filter(action="reveal").exists()


def test_reveal_of_another_field_is_a_structured_400(api, world):
    response = api("grid_worker_a1_1").post(url("person-reveal", pk=world.persons["A1-1"].pk), {"field": "name"},
                                            format="json")
    error = assert_error(response, 400, "invalid")
    assert "field" in error["fields"]
    assert not AuditLog.objects.filter(action="reveal").exists()


def test_searching_by_a_full_phone_only_matches_what_the_caller_could_reveal(api, world):
    """An exact-match search would otherwise test guesses against the masked digits."""
    query = {"q": "13812345678"}
    found = api("grid_worker_a1_1").get(url("person-list"), query).json()["results"]
    assert [p["name"] for p in found] == ["张建国"]
    assert api("three_line_a1").get(url("person-list"), query).json()["results"] == []
    assert api("three_line_a1").get(url("person-list"), {"phone": "13812345678"}).json()["results"] == []
    assert api("grid_worker_a1_1").get(url("person-list"), {"phone": "13812345678"}).json()["count"] == 1
    assert api("grid_worker_a1_1").get(url("person-list"), {"phone": "1381234"}).json()["count"] == 0
