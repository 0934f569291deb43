"""A change made through the registry (not the care app) recomputes that household's class."""

from gongzhi.care.models import HouseholdClass
from gongzhi.care.receivers import reclassify_changed
from gongzhi.registry.models import HouseholdFactsChange
from gongzhi.registry import services


def test_registering_a_disability_through_the_registry_turns_the_household_red(world, django_capture_on_commit_callbacks):
    household = world.households["A1-1"]
    with django_capture_on_commit_callbacks(execute=True):
        services.person_update(actor=world.user("village_secretary_a1"), person=world.persons["A1-1-spouse"],
                               disability_grade=2)
    row = HouseholdClass.objects.get(pk=household.pk)
    assert row.colour == "red"
    assert any("残疾" in reason for reason in row.reasons), row.reasons


def test_other_households_are_not_recomputed(world, django_capture_on_commit_callbacks):
    reclassify_changed()  # take in what building the world announced
    before = HouseholdClass.objects.get(pk=world.households["B1"].pk).computed_at
    with django_capture_on_commit_callbacks(execute=True):
        services.household_update(actor=world.user("village_secretary_a1"), household=world.households["A1-2"],
                                  annual_income=5000)
    assert HouseholdClass.objects.get(pk=world.households["A1-2"].pk).computed_at > before
    assert HouseholdClass.objects.get(pk=world.households["B1"].pk).computed_at == before
    assert not HouseholdFactsChange.objects.exists()


def test_a_change_whose_task_never_started_is_taken_in_by_the_next_run(world):
    # No after-commit callback runs here (the test's transaction never commits): as if the
    # broker had been down. The outbox row stays, and the next run of the task takes it in.
    HouseholdFactsChange.objects.all().delete()
    services.person_update(actor=world.user("village_secretary_a1"), person=world.persons["A1-1-spouse"],
                           disability_grade=2)
    change = HouseholdFactsChange.objects.get()
    assert change.household_id == world.households["A1-1"].pk
    assert change.changed_by == world.user("village_secretary_a1")
    assert reclassify_changed() == 1
    assert HouseholdClass.objects.get(pk=world.households["A1-1"].pk).colour == "red"
    assert not HouseholdFactsChange.objects.exists()


def test_care_reclassifying_itself_consumes_the_announcement(world):
    from gongzhi.care.services import household_reclassify

    HouseholdFactsChange.objects.all().delete()
    services.household_update(actor=world.user("village_secretary_a1"), household=world.households["A1-2"],
                              annual_income=6000)
    household_reclassify(actor=None, household=world.households["A1-2"])
    assert not HouseholdFactsChange.objects.exists()  # so the after-commit task recomputes nothing
    assert reclassify_changed() == 0
