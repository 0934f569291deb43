"""`gongzhi generate`: a realistic county, the same for the same seed, consistent everywhere the
registry caches or cross-references data."""
import datetime as dt

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.db.models import Count, F, Q

from gongzhi.core.idcard import parse_id_number
from gongzhi.core.models import AuditLog
from gongzhi.demo import bulk
from gongzhi.demo.digest import registry_digest
from gongzhi.demo.generator import CountySpec
from gongzhi.registry.coverage import coverage_report
from gongzhi.registry.models import (
    CentralHouseholdHead, ContactAssignment, Deputy, Grid, Household, HouseholdMembership, PartyMembership,
    PartyOrganization, Person, Region,
)

from .conftest import SMALL


def _people_fingerprint():
    return list(Person.objects.order_by("pk").values_list("pk", "name", "id_number")[:50])


def test_the_same_seed_gives_the_same_county_ids_and_names_included(county):
    first, fingerprint = registry_digest(), _people_fingerprint()
    call_command("generate", *SMALL, "--clear", verbosity=0)
    assert registry_digest() == first
    assert _people_fingerprint() == fingerprint
    call_command("generate", *SMALL[:-1], "8", "--clear", verbosity=0)
    assert registry_digest() != first


def test_the_size_options_are_honoured(county):
    assert Household.objects.count() == 360
    assert Region.objects.filter(level=2).count() == 2
    assert Region.objects.filter(level=3).count() == 6
    assert Person.objects.count() > 2.5 * 360


def test_division_codes_follow_the_national_scheme(county):
    county_region = Region.objects.get(level=1)
    assert county_region.code == "610921000000"
    for region in Region.objects.exclude(level=1).select_related("parent"):
        if region.level == 4:
            assert len(region.code) == 15 and region.code[:12] == region.parent.code
        else:
            prefix = {2: 6, 3: 9}[region.level]
            assert len(region.code) == 12 and region.code[:prefix] == region.parent.code[:prefix]
        expected = {2: region.town_id, 3: region.village_id}.get(region.level)
        if expected is not None:
            assert expected == region.pk
        assert region.county_id == county_region.pk


def test_every_id_number_is_valid_unique_and_matches_birth_date_and_sex(county):
    rows = list(Person.objects.values_list("id_number", "birth_date", "sex"))
    assert len({r[0] for r in rows}) == len(rows)
    for number, birth_date, sex in rows:
        facts = parse_id_number(number)
        assert (facts.birth_date, facts.sex) == (birth_date, sex)


def test_family_relations_have_plausible_ages(county):
    def age(person):
        return (county.as_of - person.birth_date).days / 365.25

    for household in Household.objects.prefetch_related("members"):
        members = list(household.members.all())
        heads = [m for m in members if m.relation == "head"]
        assert len(heads) == 1
        head = heads[0]
        assert age(head) >= 18
        for m in members:
            gap = age(head) - age(m)
            if m.relation == "spouse":
                assert abs(gap) <= 10 and m.sex != head.sex
            elif m.relation == "child":
                assert 17 <= gap <= 50
            elif m.relation == "grandchild":
                assert gap >= 36
            elif m.relation == "parent":
                assert -50 <= gap <= -17


def test_most_adults_have_a_mobile_phone_and_phones_are_unique(county):
    adults = Person.objects.filter(birth_date__lte=county.as_of.replace(year=county.as_of.year - 18))
    with_phone = adults.exclude(phone="")
    assert with_phone.count() > 0.7 * adults.count()
    phones = list(Person.objects.exclude(phone="").values_list("phone", flat=True))
    assert len(set(phones)) == len(phones)
    assert all(len(p) == 11 and p.startswith("1") for p in phones)


def test_the_vulnerable_are_present_but_few(county):
    households = Household.objects.count()
    assert 0 < Household.objects.exclude(poverty_status="none").count() < 0.3 * households
    assert Person.objects.exclude(left_behind="").exists()
    assert Person.objects.filter(disability_grade__isnull=False).exists()
    assert Household.objects.exclude(peaceful_family_years=[]).count() > 0.5 * households


def test_coverage_report_is_clean_and_every_household_is_in_a_basic_grid(county):
    report = coverage_report(households=Household.objects.all(), grids=Grid.objects.all())
    assert report.ok
    assert report.basic_grids_without_worker == []
    assert not Household.objects.filter(Q(grid__isnull=True) | Q(grid__children__isnull=False)).exists()


def test_grids_have_three_levels_with_correct_paths_and_territory(county):
    grids = {g.pk: g for g in Grid.objects.all()}
    assert {g.level for g in grids.values()} == {1, 2, 3}
    for grid in grids.values():
        parent = grids.get(grid.parent_id)
        assert grid.path == (parent.path if parent else "/") + f"{grid.pk}/"
        assert (grid.level == 1) == (parent is None)
        if parent:
            assert parent.level == grid.level - 1 and parent.village_id == grid.village_id
        assert grid.head_id is not None


def test_every_basic_grid_has_one_worker_a_three_line_person_of_that_village(county):
    three_line = (set(PartyMembership.objects.values_list("person_id", flat=True))
                  | set(Deputy.objects.values_list("person_id", flat=True))
                  | set(CentralHouseholdHead.objects.values_list("person_id", flat=True)))
    basic = Grid.objects.filter(children__isnull=True).select_related("worker")
    assert basic.exists()
    for grid in basic:
        assert grid.worker is not None
        assert grid.worker_id in three_line
        assert grid.worker.village_id == grid.village_id


def test_cached_territory_and_membership_history_are_consistent(county):
    assert not Household.objects.exclude(village_id=F("region__village_id")).exists()
    assert not Person.objects.exclude(region_id=F("household__region_id")).exists()
    assert not Person.objects.exclude(town_id=F("household__town_id")).exists()
    open_rows = HouseholdMembership.objects.filter(ended_on__isnull=True)
    assert open_rows.count() == Person.objects.count()
    assert not open_rows.exclude(household_id=F("person__household_id")).exists()
    assert not open_rows.exclude(relation=F("person__relation")).exists()
    assert not ContactAssignment.objects.exclude(village_id=F("household__village_id")).exists()


def test_party_members_and_deputies_keep_in_touch_with_three_to_five_households_of_their_village(county):
    for line in ("party_member", "deputy"):
        counts = (ContactAssignment.objects.filter(line=line).values("person")
                  .annotate(n=Count("id")).values_list("n", flat=True))
        assert counts and set(counts) <= {3, 4, 5}
    assert not ContactAssignment.objects.exclude(household__village_id=F("person__village_id")).exists()
    members = PartyMembership.objects.values_list("person_id", flat=True)
    contacting = ContactAssignment.objects.filter(line="party_member").values_list("person_id", flat=True)
    assert set(members) == set(contacting)
    assert not ContactAssignment.objects.filter(household_id=F("person__household_id")).exists()


def test_party_members_are_about_seven_percent_of_adults(county):
    adults = Person.objects.filter(birth_date__lte=county.as_of.replace(year=county.as_of.year - 18)).count()
    share = PartyMembership.objects.count() / adults
    assert 0.04 < share < 0.10


def test_party_organisations_form_a_tree_with_host_unit_branches(county):
    county_committee = PartyOrganization.objects.get(parent__isnull=True)
    assert county_committee.kind == "committee"
    towns = PartyOrganization.objects.filter(parent=county_committee, region__level=2, host_unit__isnull=True)
    assert towns.count() == 2
    assert PartyOrganization.objects.filter(parent__in=towns, region__level=3).count() == 6
    assert PartyOrganization.objects.filter(host_unit__kind__in=["agency", "school", "state_firm"]).count() >= 3
    assert not PartyMembership.objects.exclude(village_id=F("person__village_id")).exists()


def test_one_audit_row_per_run_records_the_seed(county):
    rows = AuditLog.objects.filter(action="generate")
    assert rows.count() == 1
    assert "seed=7" in rows.get().note and "households=360" in rows.get().note
    assert rows.get().county_id == Region.objects.get(level=1).pk


def test_sequences_continue_after_the_explicit_ids(county):
    top = Person.objects.order_by("-pk").values_list("pk", flat=True).first()
    region = Region.objects.create(code="610921199000", name="新镇", kind="town", level=2,
                                   parent=Region.objects.get(level=1))
    assert region.pk > Region.objects.exclude(pk=region.pk).order_by("-pk").values_list("pk", flat=True).first()
    household = Household.objects.first()
    person = Person.objects.create(name="测试", id_number="110101199001011237", birth_date=dt.date(1990, 1, 1),
                                   sex="M", household=household, region=household.region)
    assert person.pk > top


def test_a_non_empty_registry_is_refused_without_clear(county):
    with pytest.raises(CommandError, match="--clear"):
        call_command("generate", *SMALL, verbosity=0)


def test_clear_keeps_logins_and_puts_their_demo_roles_back(county):
    from gongzhi.accounts.models import User

    before = {u.username: u.pk for u in User.objects.all()}
    call_command("generate", *SMALL[:-1], "9", "--clear", verbosity=0)
    assert {u.username: u.pk for u in User.objects.all()} == before
    grid_user = User.objects.get(username="grid")
    assert grid_user.role_assignments.get().grid.worker_id == grid_user.person_id is not None


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the load window is PostgreSQL only")
def test_the_load_window_puts_back_every_index_and_constraint(db, monkeypatch):
    def schema():
        tables = [bulk.registry_model(t)._meta.db_table for t in bulk.TABLES]
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_get_indexdef(indexrelid) FROM pg_index WHERE indrelid = ANY(%s::regclass[])",
                           [tables])
            indexes = {r[0] for r in cursor.fetchall()}
            cursor.execute("SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
                           "WHERE conrelid = ANY(%s::regclass[]) OR confrelid = ANY(%s::regclass[])", [tables, tables])
            return indexes, {r for r in cursor.fetchall()}

    before = schema()
    monkeypatch.setattr(bulk, "LOAD_WINDOW_HOUSEHOLDS", 0)
    result = bulk.generate_county(CountySpec(towns=1, villages_per_town=2, households=80, seed=3))
    assert result.counts["household"] == 80
    assert schema() == before
    assert len(before[0]) > 40 and len(before[1]) > 40


def test_generate_can_also_make_open_cases_numbered_gaplessly_per_year(db):
    from collections import defaultdict

    from gongzhi.cases.models import Case, CaseNumberSequence

    call_command("generate", *SMALL, "--cases", "400", "--no-logins", verbosity=0)
    cases = Case.objects.all()
    assert cases.count() == 400
    assert not cases.filter(status="closed").exists()
    statuses = set(cases.values_list("status", flat=True))
    assert {"registered", "accepted", "assigned", "in_progress", "result_reported"} <= statuses
    assert cases.values("village_id").distinct().count() == 6
    assert cases.values("category_id").distinct().count() >= 10
    assert cases.values("current_level").distinct().count() >= 3
    # gapless per year: 1 … n, and the year's sequence stands at n
    by_year = defaultdict(list)
    for number in cases.values_list("number", flat=True):
        _prefix, year, n = number.split("-")
        by_year[int(year)].append(int(n))
    for year, numbers in by_year.items():
        assert sorted(numbers) == list(range(1, len(numbers) + 1))
        assert CaseNumberSequence.objects.get(year=year).last == len(numbers)
    # territory cached consistently; running deadlines set for accepted cases
    assert not cases.exclude(county_id=Region.objects.get(level=1).pk).exists()
    assert not cases.filter(accepted_at__isnull=False, resolution_due_at__isnull=True).exists()
    runs = AuditLog.objects.filter(action="generate", object_type="cases.case")
    assert runs.count() == 1 and "400" in runs.get().note


def test_generate_refuses_a_negative_number_of_cases(db):
    with pytest.raises(CommandError):
        call_command("generate", *SMALL, "--cases", "-1", verbosity=0)


def _case_schema():
    with connection.cursor() as cursor:
        # A partial index's predicate comes back from its own definition re-parsed, with the casts
        # of an IN list spelt differently (same meaning): compare the definition up to WHERE and
        # whether there is one.
        cursor.execute("SELECT split_part(indexdef, ' WHERE ', 1), indexdef LIKE '%% WHERE %%' FROM pg_indexes "
                       "WHERE tablename = 'cases_case' ORDER BY indexname")
        indexes = cursor.fetchall()
        cursor.execute("SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                       "WHERE conrelid = 'cases_case'::regclass OR confrelid = 'cases_case'::regclass ORDER BY 1")
        return indexes, cursor.fetchall()


def test_a_big_case_load_rebuilds_every_index_and_constraint_of_the_case_table(db, monkeypatch):
    if connection.vendor != "postgresql":
        pytest.fail("needs PostgreSQL")
    from gongzhi.cases.models import Case

    call_command("generate", *SMALL, "--no-logins", verbosity=0)
    before = _case_schema()
    monkeypatch.setattr(bulk, "LOAD_WINDOW_CASES", 10)
    monkeypatch.setattr(bulk, "CASE_CHUNK", 40)
    result = bulk.generate_open_cases(Region.objects.get(level=1), 150, seed=3)
    assert result.cases == 150 == Case.objects.count()
    assert _case_schema() == before
