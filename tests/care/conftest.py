"""Fixtures for the care tests: the shared world (tests/world.py) plus what three-line contact
needs — a party branch with members, a deputy, a central household head, grid heads and workers,
and logins linked to their registry persons."""
from __future__ import annotations

import datetime as dt

import pytest

from gongzhi.registry import services as registry_services
from gongzhi.registry.models import (
    CentralHouseholdHead, Deputy, PartyMembership, PartyOrganization,
)
from tests.world import new_id

_birth = [dt.date(1960, 1, 1)]


def person_in(world, household, name, *, relation="child", birth=None, **facts):
    """A registry person made through the registry's own service (unique birth dates keep the
    generated ID numbers unique)."""
    if birth is None:
        _birth[0] += dt.timedelta(days=1)
        birth = _birth[0]
    return registry_services.person_create(actor=world.system, household=household, relation=relation, name=name,
                                           id_number=new_id(birth=birth), **facts)


def household_in(world, key, region, grid, head_name, income, **facts):
    h = registry_services.household_create(actor=world.system, region=region, grid=grid, code=f"H-{key}",
                                           address=f"{region.name}{key}号", annual_income=income, **facts)
    world.households[key] = h
    world.persons[key] = person_in(world, h, head_name, relation="head")
    return h


@pytest.fixture
def care(world):
    """The world, made ready for three-line work in village A1 (五一村)."""
    return _prepare(world)


def _ensure_case_catalogue():
    """The case loop's default catalogue comes from a data migration, which a transactional test's
    flush (live_server) wipes; put it back so "needs action" can open a case."""
    from gongzhi.cases.catalogue import install_default_catalogue
    from gongzhi.cases.models import CaseCategory, TimeLimitDefault

    if not CaseCategory.objects.exists():
        install_default_catalogue(CaseCategory, TimeLimitDefault)


def _prepare(world):
    _ensure_case_catalogue()
    r, g = world.regions, world.grids
    branch = PartyOrganization.objects.create(name="五一村党支部", kind="branch", region=r["A1"], county_id=r["C"].pk,
                                              town_id=r["A"].pk, village_id=r["A1"].pk)
    world.branch = branch
    # The grid worker of A1-1 lives in a household of group 1; the grid head too.
    worker_home = household_in(world, "A1-3", r["A1g1"], g["A1-1"], "陈网格", 26000)
    worker = world.persons["A1-3"]
    head = person_in(world, worker_home, "陈组长", relation="spouse")
    registry_services.grid_update(actor=world.system, grid=g["A1-1"], worker=worker, head=head)
    user = world.user("grid_worker_a1_1")
    user.person = worker
    user.save(update_fields=["person"])
    world.persons["worker"], world.persons["grid_head"] = worker, head
    # 李强 (party member, household A1-2) already keeps in touch with A1-1 (tests/world.py).
    for person in (world.persons["party_member"], worker):
        PartyMembership.objects.create(person=person, organization=branch, joined_on=dt.date(2010, 7, 1),
                                       county_id=r["C"].pk, town_id=r["A"].pk, village_id=r["A1"].pk)
    world.deputy = Deputy.objects.create(person=world.persons["A1-2"], level="town", constituency=r["A1"],
                                         county_id=r["C"].pk, town_id=r["A"].pk, village_id=r["A1"].pk)
    world.central_head = CentralHouseholdHead.objects.create(person=head, grid=g["A1-2"], county_id=r["C"].pk,
                                                             town_id=r["A"].pk, village_id=r["A1"].pk)
    return world


@pytest.fixture
def care_transactional(transactional_db):
    """A committed world (for tests that need several connections): red and yellow households
    with open visits."""
    from gongzhi.care import services
    from tests.world import build_world

    world = build_world()
    _prepare(world)
    registry_services.person_update(actor=world.system, person=world.persons["A1-1-spouse"], left_behind="elderly")
    registry_services.household_update(actor=world.system, household=world.households["A1-3"], annual_income=15000)
    services.households_classify(actor=None, region=world.regions["A1"])
    return world


# Browser fixtures: reuse the project's phone-sized headless Chromium (tests/browser/conftest.py).
from tests.browser.conftest import browser, browser_login, wait  # noqa: E402,F401
