"""A change made through the registry (not the care app) recomputes that household's class."""
import datetime as dt

from gongzhi.care.models import HouseholdClass
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
    with django_capture_on_commit_callbacks(execute=True):
        services.household_update(actor=world.user("village_secretary_a1"), household=world.households["A1-2"],
                                  annual_income=5000)
    assert HouseholdClass.objects.filter(pk=world.households["A1-2"].pk).exists()
    assert not HouseholdClass.objects.filter(pk=world.households["B1"].pk).exists()
