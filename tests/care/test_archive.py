"""一户一档 kept current: grid workers record changes, the village confirms those that need it,
and applying them goes through the registry's own services (one audit trail, one scope check)."""
import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils import timezone

from gongzhi.care import selectors, services
from gongzhi.care.models import ArchiveChange, HouseholdClass, IncomeObservation
from gongzhi.core.models import AuditLog
from gongzhi.registry.models import HouseholdMembership, Person
from tests.world import new_id


@pytest.fixture
def worker(care):
    services.households_classify(actor=None, region=care.regions["A"])
    return care.user("grid_worker_a1_1")


def test_a_birth_waits_for_the_village_and_then_goes_through_the_registry(care, worker):
    household = care.households["A1-1"]
    newborn_id = new_id(birth=timezone.localdate() - dt.timedelta(days=20))
    change = services.archive_change_record(actor=worker, household=household, kind="birth",
                                           payload={"name": "张小宝", "id_number": newborn_id})
    assert change.status == ArchiveChange.Status.PENDING
    assert not Person.objects.filter(name="张小宝").exists()
    secretary = care.user("village_secretary_a1")
    assert [c.pk for c in selectors.pending_changes(secretary, village=care.regions["A1"])] == [change.pk]
    services.archive_change_decide(actor=secretary, change=change, approve=True)
    change.refresh_from_db()
    baby = Person.objects.get(name="张小宝")
    assert change.status == ArchiveChange.Status.CONFIRMED and change.person_id == baby.pk
    assert baby.household_id == household.pk and baby.relation == "child"
    assert HouseholdMembership.objects.filter(person=baby, household=household).exists()
    # The registry's own audit row, written by the registry's service, with the secretary as actor.
    assert AuditLog.objects.filter(object_type="registry.person", object_id=str(baby.pk), action="create",
                                   actor_username="village_secretary_a1").exists()
    assert AuditLog.objects.filter(object_type="care.archivechange", object_id=str(change.pk),
                                   action="transition").exists()


def test_a_rejection_needs_a_note_and_changes_nothing(care, worker):
    person = care.persons["A1-1-spouse"]
    change = services.archive_change_record(actor=worker, household=care.households["A1-1"], kind="death",
                                           person=person)
    secretary = care.user("village_secretary_a1")
    with pytest.raises(ValidationError):
        services.archive_change_decide(actor=secretary, change=change, approve=False)
    services.archive_change_decide(actor=secretary, change=change, approve=False, note="核实后本人健在")
    person.refresh_from_db()
    assert person.status == "active"
    assert ArchiveChange.objects.get(pk=change.pk).status == ArchiveChange.Status.REJECTED
    with pytest.raises(ValidationError):
        services.archive_change_decide(actor=secretary, change=change, approve=True)


def test_a_grid_worker_cannot_confirm_and_outsiders_cannot_see(care, worker):
    from django.core.exceptions import PermissionDenied

    change = services.archive_change_record(actor=worker, household=care.households["A1-1"], kind="disability",
                                           person=care.persons["A1-1"], payload={"grade": 2})
    with pytest.raises(PermissionDenied):
        services.archive_change_decide(actor=worker, change=change, approve=True)
    with pytest.raises(Http404):
        services.archive_change_decide(actor=care.user("outsider_b"), change=change, approve=True)
    with pytest.raises(Http404):  # outside the grid worker's grid
        services.archive_change_record(actor=worker, household=care.households["A1-2"], kind="income",
                                       payload={"annual_income": "1000"})


def test_a_confirmed_disability_reclassifies_the_household_red(care, worker):
    household = care.households["A1-1"]
    change = services.archive_change_record(actor=worker, household=household, kind="disability",
                                           person=care.persons["A1-1-spouse"], payload={"grade": 3})
    services.archive_change_decide(actor=care.user("village_secretary_a1"), change=change, approve=True)
    row = HouseholdClass.objects.get(pk=household.pk)
    assert row.colour == "red" and "残疾人 刘某（三级）" in row.reasons


def test_released_and_back_home(care, worker):
    household = care.households["A1-1"]
    on = timezone.localdate() - dt.timedelta(days=10)
    change = services.archive_change_record(actor=worker, household=household, kind="released",
                                           person=care.persons["A1-1"], payload={"on": on.isoformat()})
    services.archive_change_decide(actor=care.user("village_secretary_a1"), change=change, approve=True)
    assert Person.objects.get(pk=care.persons["A1-1"].pk).released_on == on
    assert f"刑满释放人员 张某（{on.year}年释放）" in HouseholdClass.objects.get(pk=household.pk).reasons


def test_moving_out_and_moving_in(care, worker):
    secretary = care.user("village_secretary_a1")
    spouse = care.persons["A1-1-spouse"]
    out = services.archive_change_record(actor=worker, household=care.households["A1-1"], kind="move_out",
                                        person=spouse, payload={"reason": "随子女迁往西安"})
    services.archive_change_decide(actor=secretary, change=out, approve=True)
    spouse.refresh_from_db()
    assert spouse.household_id is None and spouse.status == "moved_out"
    back = services.archive_change_record(actor=worker, household=care.households["A1-1"], kind="move_in",
                                         payload={"name": spouse.name, "id_number": spouse.id_number,
                                                  "relation": "spouse"})
    services.archive_change_decide(actor=secretary, change=back, approve=True)
    spouse.refresh_from_db()
    assert spouse.household_id == care.households["A1-1"].pk and spouse.status == "active"
    assert HouseholdMembership.objects.filter(person=spouse).count() == 2


def test_an_income_change_takes_effect_at_once_and_is_observed(care, worker):
    household = care.households["A1-1"]
    change = services.archive_change_record(actor=worker, household=household, kind="income",
                                           payload={"annual_income": "12000"})
    assert change.status == ArchiveChange.Status.CONFIRMED
    household.refresh_from_db()
    assert household.annual_income == 12000
    incomes = list(IncomeObservation.objects.filter(household=household).values_list("annual_income", flat=True))
    assert sorted(incomes) == [12000, 30000]
    # 30,000 → 12,000 is a 60% drop: the household is on the watch list, hence red.
    row = HouseholdClass.objects.get(pk=household.pk)
    assert row.colour == "red"
    assert "防返贫监测：收入下降60%（30,000元→12,000元）" in row.reasons


def test_bad_changes_are_refused(care, worker):
    household = care.households["A1-1"]
    with pytest.raises(ValidationError):
        services.archive_change_record(actor=worker, household=household, kind="birth", payload={"name": "某"})
    with pytest.raises(ValidationError):
        services.archive_change_record(actor=worker, household=household, kind="death",
                                       person=care.persons["A1-2"])  # not a member of this household
    with pytest.raises(ValidationError):
        services.archive_change_record(actor=worker, household=household, kind="disability",
                                       person=care.persons["A1-1"], payload={"grade": 7})


def test_the_timeline_combines_changes_contacts_visits_and_classes(care, worker):
    household = care.households["A1-1"]
    services.archive_change_record(actor=worker, household=household, kind="income", payload={"annual_income": "12000"})
    services.contact_record(actor=care.user("three_line_a1"), household=household, method="phone", heard="一切都好")
    services.watch_event_record(actor=worker, household=household, kind="illness",
                                occurred_on=timezone.localdate() - dt.timedelta(days=3), amount="50000")
    timeline = selectors.household_timeline(care.user("village_secretary_a1"), household=household)
    kinds = {e.kind for e in timeline}
    assert {"change", "contact", "class", "watch"} <= kinds
    assert timeline == sorted(timeline, key=lambda e: e.at, reverse=True)
    # The three-line person sees the household's contacts but not the archive changes.
    assert "change" not in {e.kind for e in selectors.household_timeline(care.user("three_line_a1"),
                                                                         household=household)}
