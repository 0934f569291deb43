"""Fixtures for the village governance tests: village A1 (五一村) of the shared world, filled with
enough households and adults for lawful quorums, its six bodies, a party branch with members,
and three similar residents' cases."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pytest
from django.utils import timezone

from gongzhi.registry import services as registry_services
from gongzhi.registry.models import PartyMembership, PartyOrganization
from tests.world import new_id

_birth = [dt.date(1950, 1, 1)]


def person_in(world, household, name, *, relation="child", birth=None, **facts):
    if birth is None:
        _birth[0] += dt.timedelta(days=7)
        birth = _birth[0]
    return registry_services.person_create(actor=world.system, household=household, relation=relation, name=name,
                                           id_number=new_id(birth=birth, male=facts.pop("male", True)), **facts)


@dataclass
class Village:
    world: object
    region: object
    bodies: dict = field(default_factory=dict)
    representatives: list = field(default_factory=list)
    party_members: list = field(default_factory=list)
    cases: list = field(default_factory=list)
    adults: list = field(default_factory=list)

    @property
    def secretary(self):
        return self.world.user("village_secretary_a1")


def make_village(world) -> Village:
    from gongzhi.cases.catalogue import install_default_catalogue
    from gongzhi.cases.models import CaseCategory, TimeLimitDefault
    from gongzhi.village import services

    if not CaseCategory.objects.exists():
        install_default_catalogue(CaseCategory, TimeLimitDefault)
    r, g = world.regions, world.grids
    v = Village(world=world, region=r["A1"])
    # Twelve more households of two adults each: with the world's two households, 14 households
    # and 28 adults in A1 (the world's 李强 is an adult child too).
    surnames = "陈杨黄赵吴周徐孙马朱胡郭"
    for i, surname in enumerate(surnames):
        grid = g["A1-1"] if i % 2 == 0 else g["A1-2"]
        region = r["A1g1"] if i % 2 == 0 else r["A1"]
        h = registry_services.household_create(actor=world.system, region=region, grid=grid, code=f"H-V{i}",
                                               address=f"五一村{i + 10}号", annual_income=20000)
        head = person_in(world, h, f"{surname}大{i}", relation="head", male=True,
                         birth=dt.date(1950 + i, 3, 1) if i < 4 else None)
        spouse = person_in(world, h, f"{surname}嫂{i}", relation="spouse", male=False)
        world.households[f"V{i}"] = h
        v.adults += [head, spouse]
    v.adults += [world.persons["A1-1"], world.persons["A1-1-spouse"], world.persons["A1-2"],
                 world.persons["party_member"]]
    today = timezone.localdate()
    start = today.replace(year=today.year - 2)
    branch = PartyOrganization.objects.create(name="五一村党支部", kind="branch", region=r["A1"], county_id=r["C"].pk,
                                              town_id=r["A"].pk, village_id=r["A1"].pk)
    sec = world.system
    v.bodies["party"] = services.body_create(actor=sec, region=r["A1"], kind="party", name="五一村党支部委员会",
                                             term_start=start, term_end=today + dt.timedelta(days=60),
                                             party_organization=branch)
    v.bodies["committee"] = services.body_create(actor=sec, region=r["A1"], kind="committee", name="五一村村民委员会",
                                                 term_start=start, term_end=start.replace(year=start.year + 5))
    v.bodies["supervision"] = services.body_create(actor=sec, region=r["A1"], kind="supervision",
                                                   name="五一村村务监督委员会", term_start=start)
    v.bodies["assembly"] = services.body_create(actor=sec, region=r["A1"], kind="assembly", name="五一村村民代表会议",
                                                term_start=start)
    adults = v.adults
    for person, post in [(adults[0], "secretary"), (adults[2], "member"), (adults[4], "member")]:
        services.body_member_add(actor=sec, body=v.bodies["party"], person=person, post=post, started_on=start)
    for person, post in [(adults[0], "chair"), (adults[6], "member"), (adults[8], "member")]:
        services.body_member_add(actor=sec, body=v.bodies["committee"], person=person, post=post, started_on=start)
    for person, post in [(adults[10], "chair"), (adults[12], "member")]:
        services.body_member_add(actor=sec, body=v.bodies["supervision"], person=person, post=post, started_on=start)
    # Nine representatives: two thirds or more is 6.
    for person in adults[1:18:2]:
        v.representatives.append(services.body_member_add(actor=sec, body=v.bodies["assembly"], person=person,
                                                          post="representative", started_on=start))
    # Ten party members with a vote, one probationary.
    for person in adults[:10]:
        v.party_members.append(PartyMembership.objects.create(
            person=person, organization=branch, joined_on=dt.date(2000, 7, 1), county_id=r["C"].pk,
            town_id=r["A"].pk, village_id=r["A1"].pk))
    PartyMembership.objects.create(person=adults[10], organization=branch, is_probationary=True,
                                   county_id=r["C"].pk, town_id=r["A"].pk, village_id=r["A1"].pk)
    v.cases = [make_case(world, title=f"五一村二组道路破损{i}", requester=adults[20 + i]) for i in range(3)]
    return v


def make_case(world, *, title, requester=None, region=None):
    from gongzhi.cases.models import CaseCategory
    from gongzhi.cases.services import case_register

    category = CaseCategory.objects.filter(ledger="demand", active=True).order_by("code").first()
    return case_register(actor=world.system, category=category, title=title, description=f"{title}，群众多次反映",
                         channel="web", region=region or world.regions["A1"], requester=requester,
                         requester_name=requester.name if requester else "", requester_phone="13700000000")


@pytest.fixture
def village(world):
    return make_village(world)


def hold(actor, meeting, present, *, kind_of_status="present"):
    """Open ``meeting`` and mark ``present`` (persons) as there."""
    from gongzhi.village import services

    services.meeting_open(actor=actor, meeting=meeting)
    services.attendance_mark(actor=actor, meeting=meeting, marks={p.pk: kind_of_status for p in present})
    return meeting


def vote_all(actor, poll, choice="for", *, against=()):
    from gongzhi.village import services
    from gongzhi.village.models import Ballot

    ballots = Ballot.objects.filter(poll=poll).select_related("voter")
    choices = {b.voter_id: ("against" if b.voter.person_id in {p.pk for p in against} else choice) for b in ballots}
    services.ballots_cast(actor=actor, poll=poll, choices=choices)
    return services.poll_close(actor=actor, poll=poll)


# Browser fixtures: reuse the project's phone-sized headless Chromium (tests/browser/conftest.py).
from tests.browser.conftest import browser, browser_login, wait  # noqa: E402,F401
