"""Lists take a fixed number of queries, whatever the number of rows (no N+1)."""
import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from gongzhi.registry import services
from gongzhi.registry.models import (
    CentralHouseholdHead, ContactAssignment, Deputy, PartyMembership, PartyOrganization,
)
from tests.world import new_id

from .helpers import url


def _add_rows(world, n):
    """n more households of two members each, and a row in every other listed table per household."""
    system, village = world.system, world.regions["A1"]
    territory = {"county_id": village.county_id, "town_id": village.town_id, "village_id": village.village_id}
    org = PartyOrganization.objects.create(name=f"五一村党支部{n}", kind="branch", region=village,
                                           secretary=world.persons["A1-1"], **territory)
    for i in range(n):
        h = services.household_create(actor=system, region=village, grid=world.grids["A1-2"], code=f"H-N{n}-{i}",
                                      address=f"五一村新{i}号")
        head = services.person_create(actor=system, household=h, relation="head", name=f"新户主{i}",
                                      id_number=new_id())
        services.person_create(actor=system, household=h, relation="spouse", name=f"新配偶{i}",
                               id_number=new_id(male=False), phone="13500000000")
        services.grid_create(actor=system, region=village, code=f"A1-2-{n}-{i}", name=f"小网格{i}", level=2,
                             parent=world.grids["A1"], head=head, worker=head)
        ContactAssignment.objects.create(person=head, household=world.households["A1-1"], line="party_member",
                                         started_on=dt.date(2024, 1, 1), **territory)
        PartyMembership.objects.create(person=head, organization=org, **territory)
        Deputy.objects.create(person=head, level="town", constituency=village, **territory)
        CentralHouseholdHead.objects.create(person=head, grid=world.grids["A1-2"], **territory)


def _count(client, path):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    assert response.status_code == 200, response.content[:300]
    return len(queries), response.json()


def test_household_list_query_count_does_not_grow_with_rows(api, world):
    path = url("household-list")
    few, body = _count(api("town_secretary_a"), path)
    assert body["count"] == 3
    # token + user, the caller's grants (2), count, page, members prefetch
    assert few == 6
    _add_rows(world, 12)
    many, body = _count(api("town_secretary_a"), path)
    assert body["count"] == 15 and len(body["results"]) == 15
    assert many == few
    assert all(row["head"] for row in body["results"])


LISTS = ["person-list", "grid-list", "region-list", "contact-assignment-list", "party-organization-list",
         "party-membership-list", "deputy-list", "central-household-head-list", "department-list"]


@pytest.mark.parametrize("name", LISTS)
def test_every_list_has_a_constant_query_count(api, world, name):
    _add_rows(world, 1)
    one, _ = _count(api("county_secretary"), url(name))
    _add_rows(world, 5)
    five, _ = _count(api("county_secretary"), url(name))
    assert one == five


def test_audit_log_list_query_count(api, world):
    few, _ = _count(api("auditor"), url("audit-log-list"))
    _add_rows(world, 3)
    many, body = _count(api("auditor"), url("audit-log-list"))
    assert many == few and body["count"] > 20
