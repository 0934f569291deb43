"""Every list answers from the caller's scope; out of scope is 404; no permission anywhere is 403."""
import pytest

from .helpers import assert_error, results, url

HOUSEHOLDS = {
    "county_secretary": {"H-A1-1", "H-A1-2", "H-A2", "H-B1"},
    "town_secretary_a": {"H-A1-1", "H-A1-2", "H-A2"},
    "village_secretary_a1": {"H-A1-1", "H-A1-2"},
    "grid_worker_a1_1": {"H-A1-1"},
    "three_line_a1": {"H-A1-1"},
    "outsider_b": {"H-B1"},
    "auditor": {"H-A1-1", "H-A1-2", "H-A2", "H-B1"},
}


@pytest.mark.parametrize("persona", sorted(HOUSEHOLDS))
def test_each_persona_lists_exactly_their_households(api, persona):
    rows = results(api(persona).get(url("household-list")))
    assert {row["code"] for row in rows} == HOUSEHOLDS[persona]


def test_a_persona_without_the_view_permission_gets_403_not_an_empty_list(api):
    assert_error(api("department_handler").get(url("household-list")), 403, "permission_denied")
    assert_error(api("department_handler").get(url("person-list")), 403)
    assert_error(api("three_line_a1").get(url("region-list")), 403)


def test_anonymous_gets_401(api):
    response = api().get(url("household-list"))
    assert_error(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"].startswith("Token")


def test_persons_follow_their_household(api):
    names = {row["name"] for row in results(api("grid_worker_a1_1").get(url("person-list")))}
    assert names == {"张建国", "刘桂兰"}
    names = {row["name"] for row in results(api("three_line_a1").get(url("person-list")))}
    assert names == {"张建国", "刘桂兰"}


def test_regions_and_grids_are_scoped(api, world):
    codes = {row["code"] for row in results(api("town_secretary_a").get(url("region-list")))}
    assert codes == {"610921100000", "610921100201", "610921100202", "610921100201001"}
    grids = {row["code"] for row in results(api("grid_worker_a1_1").get(url("grid-list")))}
    assert grids == {"A1-1"}
    grids = {row["code"] for row in results(api("village_secretary_a1").get(url("grid-list")))}
    assert grids == {"A1", "A1-1", "A1-2"}


def test_departments_a_handler_sees_only_their_own(api, world):
    rows = results(api("department_handler").get(url("department-list")))
    assert [row["name"] for row in rows] == ["县民政局"]
    assert_error(api("grid_worker_a1_1").get(url("department-list")), 403)


@pytest.mark.parametrize("name,key", [
    ("household-detail", lambda w: w.households["A1-1"].pk),
    ("person-detail", lambda w: w.persons["A1-1"].pk),
    ("person-memberships", lambda w: w.persons["A1-1"].pk),
    ("region-detail", lambda w: w.regions["A1"].pk),
    ("region-children", lambda w: w.regions["A1"].pk),
    ("grid-detail", lambda w: w.grids["A1-1"].pk),
])
def test_out_of_scope_detail_is_404_like_a_missing_row(api, world, name, key):
    pk = key(world)
    assert_error(api("outsider_b").get(url(name, pk=pk)), 404, "not_found")
    assert_error(api("outsider_b").get(url(name, pk=10**9)), 404, "not_found")
    assert api("town_secretary_a").get(url(name, pk=pk)).status_code == 200


def test_a_grid_worker_cannot_open_the_neighbouring_grids_household(api, world):
    client = api("grid_worker_a1_1")
    assert client.get(url("household-detail", pk=world.households["A1-1"].pk)).status_code == 200
    assert_error(client.get(url("household-detail", pk=world.households["A1-2"].pk)), 404)


def test_contact_assignments_scope(api, world):
    rows = results(api("grid_worker_a1_1").get(url("contact-assignment-list")))
    assert [(r["person"]["name"], r["household"]["code"]) for r in rows] == [("李强", "H-A1-1")]
    assert results(api("outsider_b").get(url("contact-assignment-list"))) == []
    assert_error(api("three_line_a1").get(url("contact-assignment-list")), 403)


def test_membership_history_of_a_person(api, world):
    rows = results(api("village_secretary_a1").get(url("person-memberships", pk=world.persons["A1-1"].pk)))
    assert [(r["household"]["code"], r["relation"], r["ended_on"]) for r in rows] == [("H-A1-1", "head", None)]
    assert_error(api("department_handler").get(url("person-memberships", pk=world.persons["A1-1"].pk)), 403)


def test_region_children(api, world):
    rows = results(api("county_secretary").get(url("region-children", pk=world.regions["A"].pk)))
    assert [r["name"] for r in rows] == ["五一村", "月河村"]
    rows = results(api("village_secretary_a1").get(url("region-children", pk=world.regions["A1"].pk)))
    assert [r["name"] for r in rows] == ["五一村一组"]
    # list filters are not applied to the parent's lookup
    response = api("county_secretary").get(url("region-children", pk=world.regions["A"].pk), {"level": 4})
    assert response.status_code == 200


def test_audit_log_is_for_auditors_only(api, world):
    rows = results(api("auditor").get(url("audit-log-list"), {"object_type": "registry.household"}))
    assert {r["object_repr"].split()[0] for r in rows} == {"H-A1-1", "H-A1-2", "H-A2", "H-B1"}
    for persona in ("county_secretary", "town_secretary_a", "grid_worker_a1_1", "department_handler"):
        assert_error(api(persona).get(url("audit-log-list")), 403)
    one = rows[0]["id"]
    assert api("auditor").get(url("audit-log-detail", pk=one)).status_code == 200
