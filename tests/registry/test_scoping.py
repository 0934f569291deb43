import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.http import Http404

from gongzhi.core.models import AuditLog
from gongzhi.core.scoping import access_object
from gongzhi.registry import services
from gongzhi.registry.models import Household, Person

VISIBLE = {
    "county_secretary": {"A1-1", "A1-2", "A2", "B1"},
    "town_secretary_a": {"A1-1", "A1-2", "A2"},
    "village_secretary_a1": {"A1-1", "A1-2"},
    "grid_worker_a1_1": {"A1-1"},
    "three_line_a1": {"A1-1"},
    "outsider_b": {"B1"},
    "department_handler": set(),
    "auditor": {"A1-1", "A1-2", "A2", "B1"},
}


@pytest.mark.parametrize("persona", sorted(VISIBLE))
def test_each_persona_sees_exactly_their_households(world, persona):
    user = world.user(persona)
    seen = set(Household.objects.visible_to(user).values_list("code", flat=True))
    assert seen == {f"H-{k}" for k in VISIBLE[persona]}


def test_person_scope_follows_the_household(world):
    names = set(Person.objects.visible_to(world.user("grid_worker_a1_1")).values_list("name", flat=True))
    assert names == {"张建国", "刘桂兰"}


def test_out_of_scope_is_404_and_no_permission_is_403(world):
    with pytest.raises(Http404):
        access_object(Household.objects.all(), world.user("outsider_b"), pk=world.households["A1-1"].pk)
    with pytest.raises(PermissionDenied):
        access_object(Household.objects.all(), world.user("department_handler"), pk=world.households["A1-1"].pk)
    assert access_object(Household.objects.all(), world.user("grid_worker_a1_1"), pk=world.households["A1-1"].pk)


def test_a_write_that_leaves_the_actors_scope_is_rolled_back(world):
    worker = world.user("village_secretary_a1")
    household = world.households["A1-2"]
    with pytest.raises(PermissionDenied):
        services.household_update(actor=worker, household=household, region=world.regions["A2"], grid=None)
    household.refresh_from_db()
    assert household.region_id == world.regions["A1"].pk


def test_updates_are_audited_with_masked_snapshots(world):
    person = world.persons["A1-1"]
    services.person_update(actor=world.user("grid_worker_a1_1"), person=person, phone="13900001111")
    row = AuditLog.objects.filter(object_type="registry.person", object_id=str(person.pk), action="update").get()
    assert row.actor_username == "grid_worker_a1_1"
    assert row.changed_fields == ["phone", "updated_at"]
    assert row.before["phone"] == "138****5678" and row.after["phone"] == "139****1111"
    assert row.town_id == world.regions["A"].pk


def test_reveal_needs_the_permission_and_is_logged(world):
    person = world.persons["A1-1"]
    value = services.person_reveal_field(actor=world.user("grid_worker_a1_1"), person=person, field="id_number")
    assert value == person.id_number
    assert AuditLog.objects.filter(action="reveal", object_id=str(person.pk), actor_username="grid_worker_a1_1").exists()
    with pytest.raises(PermissionDenied):
        services.person_reveal_field(actor=world.user("three_line_a1"), person=person, field="id_number")
    with pytest.raises(Http404):
        services.person_reveal_field(actor=world.user("outsider_b"), person=person, field="phone")


def test_the_audit_table_rejects_update_and_delete(world):
    row = AuditLog.objects.first()
    for sql in ("UPDATE core_auditlog SET note = 'x' WHERE id = %s", "DELETE FROM core_auditlog WHERE id = %s"):
        with pytest.raises(Exception) as excinfo, transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(sql, [row.pk])
        assert "append-only" in str(excinfo.value)
    assert AuditLog.objects.filter(pk=row.pk, note=row.note).exists()


def test_moving_a_person_keeps_history(world):
    person = world.persons["A1-1-spouse"]
    services.person_move(actor=world.user("town_secretary_a"), person=person, to_household=world.households["A2"],
                         relation="other", reason="婚嫁迁入")
    person.refresh_from_db()
    assert person.household == world.households["A2"]
    assert person.village_id == world.regions["A2"].pk
    history = list(person.memberships.order_by("id").values_list("household__code", "ended_on"))
    assert history[0][0] == "H-A1-1" and history[0][1] is not None
    assert history[1] == ("H-A2", None)


def test_a_household_cannot_have_two_heads(world):
    with pytest.raises(ValidationError):
        services.person_create(actor=world.system, household=world.households["A1-1"], relation="head",
                               name="张二", id_number="11010519491231002X")
