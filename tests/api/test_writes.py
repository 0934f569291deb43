"""Writes go through the registry services: audited with the request id, scoped, and their
validation errors come back as structured 400s in Chinese, never 500s."""
import datetime as dt

from gongzhi.core.models import AuditLog
from gongzhi.registry.models import Household, HouseholdMembership, Person
from tests.world import new_id

from .helpers import assert_error, url


def test_create_a_household_is_audited_with_the_request_id(api, world):
    response = api("village_secretary_a1").post(
        url("household-list"),
        {"region": world.regions["A1"].pk, "grid": world.grids["A1-2"].pk, "code": "H-A1-9", "address": "五一村9号",
         "annual_income": "18000.50", "peaceful_family_years": [2023, 2022, 2023]},
        format="json", HTTP_X_REQUEST_ID="create-household-01",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    household = Household.objects.get(code="H-A1-9")
    assert body["id"] == household.pk and body["members"] == [] and body["head"] is None
    assert body["annual_income"] == "18000.50" and body["peaceful_family_years"] == [2022, 2023]
    assert (household.town_id, household.village_id) == (world.regions["A"].pk, world.regions["A1"].pk)
    row = AuditLog.objects.get(action="create", object_type="registry.household", object_id=str(household.pk))
    assert row.request_id == "create-household-01"
    assert row.actor_username == "village_secretary_a1"
    assert response["X-Request-Id"] == "create-household-01"


def test_update_a_household_sends_only_the_changed_fields_to_the_service(api, world):
    household = world.households["A1-1"]
    response = api("grid_worker_a1_1").patch(url("household-detail", pk=household.pk),
                                             {"notes": "独居老人需每周探访"}, format="json",
                                             HTTP_X_REQUEST_ID="update-household-01")
    assert response.status_code == 200, response.content
    assert response.json()["notes"] == "独居老人需每周探访"
    assert len(response.json()["members"]) == 2
    row = AuditLog.objects.get(action="update", object_type="registry.household", object_id=str(household.pk))
    assert row.request_id == "update-household-01"
    assert row.changed_fields == ["notes", "updated_at"]
    household.refresh_from_db()
    assert household.annual_income == 30000  # untouched


def test_update_that_would_leave_the_callers_scope_is_refused_and_rolled_back(api, world):
    household = world.households["A1-2"]
    # A2 is visible to the village secretary of A1 only as "does not exist": a 400 on the field.
    error = assert_error(api("village_secretary_a1").patch(url("household-detail", pk=household.pk),
                                                           {"region": world.regions["A2"].pk, "grid": None},
                                                           format="json"), 400, "invalid")
    assert "region" in error["fields"]
    household.refresh_from_db()
    assert household.region_id == world.regions["A1"].pk


def test_update_without_the_permission_or_out_of_scope(api, world):
    household = world.households["A1-1"]
    assert_error(api("county_secretary").patch(url("household-detail", pk=household.pk), {"notes": "x"},
                                               format="json"), 403)
    assert_error(api("outsider_b").patch(url("household-detail", pk=household.pk), {"notes": "x"},
                                         format="json"), 404)
    assert_error(api("grid_worker_a1_1").patch(url("household-detail", pk=world.households["A1-2"].pk),
                                               {"notes": "x"}, format="json"), 404)
    assert not AuditLog.objects.filter(action="update").exists()


def test_delete_a_household(api, world):
    client = api("village_secretary_a1")
    created = client.post(url("household-list"), {"region": world.regions["A1"].pk, "code": "H-A1-8",
                                                  "address": "五一村8号"}, format="json").json()
    response = client.delete(url("household-detail", pk=created["id"]), HTTP_X_REQUEST_ID="delete-household-1")
    assert response.status_code == 204
    assert not Household.objects.filter(pk=created["id"]).exists()
    assert AuditLog.objects.get(action="delete", object_id=str(created["id"])).request_id == "delete-household-1"


def test_deleting_a_household_with_members_is_a_structured_400(api, world):
    household = world.households["A1-1"]
    error = assert_error(api("village_secretary_a1").delete(url("household-detail", pk=household.pk)), 400)
    assert "成员" in error["fields"]["non_field_errors"][0]
    assert Household.objects.filter(pk=household.pk).exists()


def test_create_a_person_in_a_household(api, world):
    number = new_id(birth=dt.date(1952, 3, 4))
    response = api("village_secretary_a1").post(
        url("person-list"),
        {"name": "张老汉", "id_number": number, "household": world.households["A1-1"].pk, "relation": "parent",
         "phone": "13700001234", "left_behind": "elderly"},
        format="json", HTTP_X_REQUEST_ID="create-person-0001",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["id_number"] == number[:6] + "********" + number[-4:] and body["phone"] == "137****1234"
    person = Person.objects.get(pk=body["id"])
    assert (person.id_number, person.phone, person.name_initials) == (number, "13700001234", "zlh")
    assert person.village_id == world.regions["A1"].pk
    assert HouseholdMembership.objects.filter(person=person, ended_on__isnull=True).count() == 1
    row = AuditLog.objects.get(action="create", object_type="registry.person", object_id=str(person.pk))
    assert row.request_id == "create-person-0001" and row.after["id_number"] != number


def test_a_bad_id_check_digit_is_a_400_on_id_number_in_chinese(api, world):
    number = new_id()
    wrong = number[:17] + ("0" if number[17] != "0" else "1")
    response = api("village_secretary_a1").post(
        url("person-list"), {"name": "王五", "id_number": wrong, "household": world.households["A1-2"].pk,
                             "relation": "child"}, format="json")
    error = assert_error(response, 400, "invalid")
    assert error["message"] == "输入有误"
    assert "校验位" in error["fields"]["id_number"][0]
    assert not Person.objects.filter(name="王五").exists()


def test_service_rules_come_back_as_field_errors(api, world):
    client = api("village_secretary_a1")
    # a second head of household
    error = assert_error(client.post(url("person-list"), {
        "name": "赵六", "id_number": new_id(), "household": world.households["A1-1"].pk, "relation": "head",
    }, format="json"), 400)
    assert error["fields"]["relation"] == ["该户已有户主"]
    # a household in a grid that has sub-grids
    error = assert_error(client.post(url("household-list"), {
        "region": world.regions["A1"].pk, "grid": world.grids["A1"].pk, "code": "H-A1-7", "address": "x",
    }, format="json"), 400)
    assert "基础网格" in error["fields"]["grid"][0]
    # an already registered ID number
    error = assert_error(client.patch(url("person-detail", pk=world.persons["A1-2"].pk),
                                      {"id_number": world.persons["A1-1"].id_number}, format="json"), 400)
    assert error["fields"]["id_number"] == ["该身份证号已登记"]
    # serializer-level type errors are structured the same way
    error = assert_error(client.post(url("household-list"), {"region": "x", "code": "", "address": "a"},
                                     format="json"), 400)
    assert {"region", "code"} <= set(error["fields"])


def test_references_outside_the_write_scope_do_not_exist(api, world):
    error = assert_error(api("outsider_b").post(url("person-list"), {
        "name": "孙七", "id_number": new_id(), "household": world.households["A1-1"].pk, "relation": "child",
    }, format="json"), 400)
    assert "household" in error["fields"]
    error = assert_error(api("town_secretary_a").post(url("household-list"), {
        "region": world.regions["B1"].pk, "code": "H-B1-9", "address": "紫云村9号",
    }, format="json"), 400)
    assert "region" in error["fields"]


def test_update_a_person(api, world):
    person = world.persons["A1-1"]
    response = api("grid_worker_a1_1").patch(url("person-detail", pk=person.pk),
                                             {"left_behind": "elderly", "disability_grade": 2}, format="json",
                                             HTTP_X_REQUEST_ID="update-person-0001")
    assert response.status_code == 200, response.content
    assert (response.json()["left_behind"], response.json()["disability_grade"]) == ("elderly", 2)
    row = AuditLog.objects.get(action="update", object_type="registry.person", object_id=str(person.pk))
    assert row.request_id == "update-person-0001"
    assert row.changed_fields == ["disability_grade", "left_behind", "updated_at"]


def test_create_needs_the_add_permission(api, world):
    data = {"region": world.regions["A1"].pk, "code": "H-A1-6", "address": "五一村6号"}
    for persona in ("grid_worker_a1_1", "county_secretary", "three_line_a1", "department_handler"):
        assert_error(api(persona).post(url("household-list"), data, format="json"), 403)
    assert not Household.objects.filter(code="H-A1-6").exists()


def test_the_services_recheck_refuses_a_change_that_leaves_the_callers_scope(api, world):
    """Every reference is in the grid worker's scope, but taking the household out of their grid
    would lose it: the service's recheck inside the transaction refuses and rolls back."""
    household = world.households["A1-1"]
    assert_error(api("grid_worker_a1_1").patch(url("household-detail", pk=household.pk), {"grid": None},
                                               format="json"), 403, "permission_denied")
    household.refresh_from_db()
    assert household.grid_id == world.grids["A1-1"].pk
    assert not AuditLog.objects.filter(action="update", object_type="registry.household").exists()
