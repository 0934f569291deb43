"""List filters narrow the caller's scope, never widen it; bad values are structured 400s."""
import pytest

from gongzhi.accounts.models import Role, RoleAssignment, User
from gongzhi.registry import services
from tests.world import PASSWORD

from .helpers import assert_error, results, url


def codes(response):
    return sorted(row["code"] for row in results(response))


@pytest.mark.parametrize("params,expected", [
    (lambda w: {"region": w.regions["A"].pk}, ["H-A1-1", "H-A1-2", "H-A2"]),
    (lambda w: {"region": w.regions["A1"].pk}, ["H-A1-1", "H-A1-2"]),
    (lambda w: {"region": w.regions["A1g1"].pk}, ["H-A1-1"]),
    (lambda w: {"town": w.regions["B"].pk}, ["H-B1"]),
    (lambda w: {"village": w.regions["A2"].pk}, ["H-A2"]),
    (lambda w: {"grid": w.grids["A1"].pk}, ["H-A1-1", "H-A1-2"]),
    (lambda w: {"grid": w.grids["A1-2"].pk}, ["H-A1-2"]),
    (lambda w: {"code": "H-A2"}, ["H-A2"]),
    (lambda w: {"q": "月河"}, ["H-A2"]),
    (lambda w: {"q": "刘桂兰"}, ["H-A1-1"]),
    (lambda w: {"q": "lxy"}, ["H-A1-2"]),
    (lambda w: {"region": w.regions["A"].pk, "q": "赵春花"}, []),
])
def test_household_filters(api, world, params, expected):
    assert codes(api("county_secretary").get(url("household-list"), params(world))) == expected


def test_filters_never_widen_the_scope(api, world):
    assert codes(api("outsider_b").get(url("household-list"), {"town": world.regions["A"].pk})) == []
    assert codes(api("grid_worker_a1_1").get(url("household-list"), {"grid": world.grids["A1"].pk})) == ["H-A1-1"]


def test_person_filters(api, world):
    client = api("county_secretary")
    names = lambda params: sorted(r["name"] for r in results(client.get(url("person-list"), params)))  # noqa: E731
    assert names({"household": world.households["A1-1"].pk}) == ["刘桂兰", "张建国"]
    assert names({"q": "建国"}) == ["张建国"]
    assert names({"q": "ZJG"}) == ["张建国"]
    assert names({"initials": "l"}) == ["刘桂兰", "李强", "李秀英"]
    assert names({"q": world.persons["A1-1"].id_number}) == ["张建国"]
    assert names({"q": world.persons["A1-1"].id_number[:10]}) == []  # no partial matching of ID numbers


def test_region_and_grid_filters(api, world):
    client = api("county_secretary")
    assert codes(client.get(url("region-list"), {"level": 2})) == ["610921100000", "610921101000"]
    assert codes(client.get(url("region-list"), {"parent": world.regions["A1"].pk})) == ["610921100201001"]
    assert codes(client.get(url("region-list"), {"code": "610921101201"})) == ["610921101201"]
    assert codes(client.get(url("grid-list"), {"village": world.regions["A1"].pk})) == ["A1", "A1-1", "A1-2"]
    assert codes(client.get(url("grid-list"), {"parent": world.grids["A1"].pk, "level": 2})) == ["A1-1", "A1-2"]


def test_bad_filter_values_are_structured_400s(api, world):
    error = assert_error(api("county_secretary").get(url("household-list"), {"region": "abc"}), 400, "invalid")
    assert list(error["fields"]) == ["region"]
    error = assert_error(api("county_secretary").get(url("household-list"), {"poverty_status": "rich"}), 400)
    assert "poverty_status" in error["fields"]
    error = assert_error(api("county_secretary").get(url("contact-assignment-list"), {"active": "maybe"}), 400)
    assert "active" in error["fields"]


def test_pagination_is_limit_offset_with_a_ceiling(api, world):
    body = api("county_secretary").get(url("household-list"), {"limit": 2, "offset": 1}).json()
    assert body["count"] == 4 and [r["code"] for r in body["results"]] == ["H-A1-2", "H-A2"]
    assert body["next"] and body["previous"]
    body = api("county_secretary").get(url("household-list"), {"limit": 100000}).json()
    assert len(body["results"]) == 4


def test_audit_log_is_scoped_by_territory_for_a_town_auditor(api, world):
    role = Role.objects.create(code="town_auditor", name="镇审计", scope_kind="region")
    role.permissions.set(Role.objects.get(code="auditor").permissions.all())
    user = User.objects.create_user(username="town_auditor_b", password=PASSWORD)
    RoleAssignment.objects.create(user=user, role=role, region=world.regions["B"])
    world.users["town_auditor_b"] = user
    services.household_update(actor=world.user("town_secretary_a"), household=world.households["A2"], notes="x")
    rows = results(api("town_auditor_b").get(url("audit-log-list")))
    assert rows and {r["town_id"] for r in rows} == {world.regions["B"].pk}
    a_row = results(api("auditor").get(url("audit-log-list"), {"action": "update"}))[0]
    assert a_row["town_id"] == world.regions["A"].pk
    assert_error(api("town_auditor_b").get(url("audit-log-detail", pk=a_row["id"])), 404)
    assert api("auditor").get(url("audit-log-detail", pk=a_row["id"])).status_code == 200
