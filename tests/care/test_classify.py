"""Green / yellow / red classification from the household's facts, by rules that are data."""
import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.utils import timezone

from gongzhi.care import classify, services
from gongzhi.care.models import ClassRule, HouseholdClass, HouseholdClassChange
from gongzhi.core.models import AuditLog
from gongzhi.registry import services as registry_services
from gongzhi.registry.models import Household

from .conftest import household_in, person_in

YEAR = timezone.localdate().year


def klass(household):
    return HouseholdClass.objects.get(pk=household.pk)


@pytest.fixture
def village(care):
    """Village A1 with households whose facts decide each colour (A1-1, A1-2, A1-3 from the world)."""
    r, g = care.regions, care.grids
    green = household_in(care, "green", r["A1"], g["A1-2"], "周富", 90000,
                         peaceful_family_years=[YEAR - 3, YEAR - 2, YEAR - 1])
    yellow = household_in(care, "yellow", r["A1"], g["A1-2"], "吴平", 16000, peaceful_family_years=[YEAR - 4])
    person_in(care, yellow, "吴小平")
    elderly = household_in(care, "elderly", r["A1"], g["A1-2"], "张大爷", 8000)
    registry_services.person_update(actor=care.system, person=care.persons["elderly"], left_behind="elderly")
    unknown = household_in(care, "unknown", r["A1"], g["A1-2"], "郑某某", None)
    rich = household_in(care, "rich", r["A1"], g["A1-2"], "钱多", 60000)
    services.households_classify(actor=None, region=r["A1"])
    return {"green": green, "yellow": yellow, "elderly": elderly, "unknown": unknown, "rich": rich}


def test_red_comes_with_its_reasons_in_chinese(village):
    row = klass(village["elderly"])
    birth = village["elderly"].members.get().birth_date
    age = classify.age_on(birth, timezone.localdate())
    assert row.colour == "red"
    assert f"留守老人 张某（{age}岁）" in row.reasons
    assert row.summary.startswith("连心户：留守老人 张某")


def test_green_needs_income_above_average_and_three_peaceful_years(village):
    row = klass(village["green"])
    assert row.colour == "green"
    assert any(r.startswith("人均收入90,000元，高于村人均") for r in row.reasons)
    assert f"连续3年评为平安家庭（{YEAR - 3}—{YEAR - 1}年）" in row.reasons


def test_yellow_is_below_average_and_not_peaceful_in_the_last_two_years(village):
    row = klass(village["yellow"])
    assert row.colour == "yellow", row.reasons
    assert "近2年未评为平安家庭" in row.reasons
    assert any("低于村人均" in r for r in row.reasons)


def test_the_village_average_is_per_capita_over_households_with_income(village, care):
    avg_pc, avg_hh = classify.village_averages(village_ids=[care.regions["A1"].pk])[care.regions["A1"].pk]
    households = Household.objects.filter(village_id=care.regions["A1"].pk, annual_income__isnull=False)
    total = sum(h.annual_income for h in households)
    members = sum(h.members.filter(status="active").count() for h in households)
    assert avg_pc == total / members
    assert avg_hh == total / households.count()
    assert klass(village["green"]).inputs["avg_pc"] == float(round(avg_pc, 2))


def test_households_the_rules_do_not_decide_are_flagged_not_guessed(village, care):
    # Income above the village average, but never rated a peaceful family: the seed's gap.
    row = klass(village["rich"])
    assert row.colour == "undecided"
    assert row.reasons[0] == "规则未能判定，请核实"
    assert "近3年未连续评为平安家庭" in row.reasons
    missing = klass(village["unknown"])
    assert missing.colour == "undecided" and "缺少家庭收入数据" in missing.reasons


def test_every_household_has_a_class_or_is_flagged(village, care):
    village_households = Household.objects.filter(village_id=care.regions["A1"].pk)
    classes = HouseholdClass.objects.filter(household__in=village_households)
    assert classes.count() == village_households.count()
    assert all(c.reasons for c in classes)


def test_a_change_to_one_household_recomputes_only_that_household(village, care, django_assert_max_num_queries):
    before = {c.pk: c.computed_at for c in HouseholdClass.objects.all()}
    history = HouseholdClassChange.objects.count()
    target = village["yellow"]
    registry_services.person_update(actor=care.system, person=target.members.get(name="吴小平"), disability_grade=2)
    with django_assert_max_num_queries(40):
        services.household_reclassify(actor=care.system, household=target)
    after = {c.pk: c.computed_at for c in HouseholdClass.objects.all()}
    assert [pk for pk in after if after[pk] != before[pk]] == [target.pk]
    assert klass(target).colour == "red" and "残疾人 吴某（二级）" in klass(target).reasons
    assert HouseholdClassChange.objects.count() == history + 1
    change = HouseholdClassChange.objects.filter(household=target).first()
    assert (change.colour_from, change.colour_to) == ("yellow", "red")


def test_reclassifying_without_a_change_writes_no_history(village, care):
    count = HouseholdClassChange.objects.count()
    services.households_classify(actor=None, region=care.regions["A1"])
    assert HouseholdClassChange.objects.count() == count


def test_an_override_needs_a_reason_and_an_expiry(village, care):
    secretary = care.user("village_secretary_a1")
    household = village["rich"]
    with pytest.raises(ValidationError):
        services.class_override_set(actor=secretary, household=household, colour="green", reason="",
                                    expires_on=timezone.localdate() + dt.timedelta(days=30))
    with pytest.raises(ValidationError):
        services.class_override_set(actor=secretary, household=household, colour="green", reason="村两委评议",
                                    expires_on=timezone.localdate())
    row = services.class_override_set(actor=secretary, household=household, colour="green", reason="村两委评议认定",
                                      expires_on=timezone.localdate() + dt.timedelta(days=30))
    assert row.effective_colour == "green" and row.colour == "undecided"
    assert "人工调整" in row.summary
    assert HouseholdClassChange.objects.filter(household=household, source="override").exists()
    assert AuditLog.objects.filter(object_type="care.householdclass", note__contains="村两委评议认定").exists()
    # An expired override no longer counts: the computed class is back.
    HouseholdClass.objects.filter(pk=household.pk).update(override_expires_on=timezone.localdate() - dt.timedelta(days=1))
    assert klass(household).effective_colour == "undecided"


def test_overrides_are_scoped(village, care):
    with pytest.raises(PermissionDenied):
        services.class_override_set(actor=care.user("department_handler"), household=care.households["A1-1"],
                                    colour="green", reason="x", expires_on=timezone.localdate() + dt.timedelta(days=9))
    from django.http import Http404

    with pytest.raises(Http404):
        services.class_override_set(actor=care.user("outsider_b"), household=care.households["A1-1"],
                                    colour="green", reason="x", expires_on=timezone.localdate() + dt.timedelta(days=9))


def test_the_county_edits_its_rules_as_data(village, care):
    county = care.regions["C"]
    secretary = care.user("county_secretary")
    # The county decides: income above the average alone is enough for green.
    rule = ClassRule.objects.get(county__isnull=True, colour="green", kind="peaceful_running")
    services.class_rule_save(actor=secretary, county=county, rule=rule, colour="green", kind="peaceful_running",
                             params={"years": 3}, group=1, enabled=False)
    assert ClassRule.objects.filter(county=county).count() == ClassRule.objects.filter(county__isnull=True).count()
    assert ClassRule.objects.get(county__isnull=True, colour="green", kind="peaceful_running").enabled
    services.households_classify(actor=None, region=care.regions["A1"])
    assert klass(village["rich"]).colour == "green"
    with pytest.raises(ValidationError):
        services.class_rule_save(actor=secretary, county=county, colour="green", kind="income_vs_average",
                                 params={"relation": "sideways"})
    with pytest.raises(PermissionDenied):
        services.class_rule_save(actor=care.user("village_secretary_a1"), county=county, colour="red",
                                 kind="on_watch_list", params={})


def test_the_command_classifies_a_region(care, capsys):
    call_command("classify_households", "--region", care.regions["A"].code)
    out = capsys.readouterr().out
    assert "classified 4 households" in out
    assert HouseholdClass.objects.count() == 4
    call_command("classify_households")
    assert HouseholdClass.objects.count() == Household.objects.count()


def test_recomputing_one_household_costs_the_same_in_a_small_and_a_large_village(village, care):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def cost():
        with CaptureQueriesContext(connection) as ctx:
            services.household_reclassify(actor=care.system, household=village["yellow"])
        return len(ctx.captured_queries)

    small = cost()
    for i in range(30):
        household_in(care, f"more{i}", care.regions["A1"], care.grids["A1-2"], f"新户{i}", 10000 + i)
    cost()  # the village average moved: this run records the new reasons (history + audit)
    assert cost() == small


@pytest.mark.django_db(transaction=True)
def test_the_command_splits_the_work_over_worker_processes(care_transactional, capsys):
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("worker processes need a server database")
    HouseholdClass.objects.all().delete()
    call_command("classify_households", "--workers", "2")
    assert "classified 5 households" in capsys.readouterr().out
    assert set(HouseholdClass.objects.values_list("pk", flat=True)) == set(Household.objects.values_list("pk", flat=True))
    assert AuditLog.objects.filter(object_type="care.householdclass", note__contains="2个进程").exists()
