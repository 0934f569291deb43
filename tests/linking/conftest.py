"""Fixtures for the linking-up tests: the county civil-affairs bureau's party branch (hosted by
its agency) pairs with 五一村 (A1) of the shared world. The bureau's liaison (``agency_liaison``,
a department grant over 县民政局) holds the lead post, the village secretary the partner post."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from django.utils import timezone

from gongzhi.registry.models import HostUnit, PartyOrganization


@dataclass
class Linked:
    world: object
    agency_org: object
    village_org: object
    pairing: object = None

    @property
    def lead(self):
        return self.world.user("agency_liaison")

    @property
    def partner(self):
        return self.world.user("village_secretary_a1")

    @property
    def town(self):
        return self.world.user("town_secretary_a")


def make_orgs(world):
    r = world.regions
    unit = HostUnit.objects.create(name="汉阴县民政局机关", kind="agency", region=r["A"], county_id=r["C"].pk,
                                   town_id=r["A"].pk)
    agency_org = PartyOrganization.objects.create(name="中共汉阴县民政局机关支部委员会", kind="branch", region=r["A"],
                                                  host_unit=unit, county_id=r["C"].pk, town_id=r["A"].pk)
    village_org = PartyOrganization.objects.create(name="中共城关镇五一村支部委员会", kind="branch", region=r["A1"],
                                                   county_id=r["C"].pk, town_id=r["A"].pk, village_id=r["A1"].pk)
    return agency_org, village_org


def make_pairing(world, *, sign=True):
    from gongzhi.linking import services

    agency_org, village_org = make_orgs(world)
    linked = Linked(world, agency_org, village_org)
    today = timezone.localdate()
    linked.pairing = services.pairing_create(
        actor=linked.town, kind="agency_community", lead_org=agency_org, partner_org=village_org,
        title="县民政局—五一村结对共建", term_start=today - dt.timedelta(days=30),
        term_end=today + dt.timedelta(days=700), lead_post="机关联络员", lead_holder=linked.lead,
        partner_post="村联络员", partner_holder=linked.partner, principles=["strong_weak"],
        joint_actions=["organisation", "resources", "services"], agency_department=world.department)
    if sign:
        services.pairing_sign(actor=linked.lead, pairing=linked.pairing, side="lead")
        services.pairing_sign(actor=linked.partner, pairing=linked.pairing, side="partner")
        linked.pairing.refresh_from_db()
    return linked


@pytest.fixture
def linked(world):
    return make_pairing(world)


from tests.browser.conftest import browser, browser_login, wait  # noqa: E402,F401  (the browser test's fixtures)
