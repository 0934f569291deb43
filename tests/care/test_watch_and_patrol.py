"""Return-to-poverty watch (防返贫监测) and grid patrols."""
import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from gongzhi.care import selectors, services
from gongzhi.care.models import CareSettings, HouseholdClass, PatrolProblem
from gongzhi.registry import services as registry_services


def test_households_below_the_line_are_listed_with_the_reason(care):
    secretary = care.user("village_secretary_a1")
    rows = dict((h.code, reasons) for h, reasons in selectors.watch_list(secretary, village=care.regions["A1"]))
    # A1-2: 12,000 CNY for two people is 6,000 per head, under the default line of 7,100.
    assert rows == {"H-A1-2": ["防返贫监测：人均收入6,000元，低于监测线7,100元"]}
    CareSettings.objects.create(county=care.regions["C"], watch_income_line=5000)
    assert selectors.watch_list(secretary, village=care.regions["A1"]) == []


def test_a_sudden_major_expense_puts_a_household_on_the_watch_list_and_makes_it_red(care):
    worker = care.user("grid_worker_a1_1")
    household = care.households["A1-1"]
    day = timezone.localdate() - dt.timedelta(days=5)
    services.watch_event_record(actor=worker, household=household, kind="illness", occurred_on=day, amount="80000",
                                note="户主确诊重病")
    reasons = dict((h.pk, r) for h, r in selectors.watch_list(worker, village=care.regions["A1"]))[household.pk]
    assert reasons == [f"防返贫监测：重病（{day}，支出80,000元）"]
    row = HouseholdClass.objects.get(pk=household.pk)
    assert row.colour == "red" and reasons[0] in row.reasons
    with pytest.raises(ValidationError):
        services.watch_event_record(actor=worker, household=household, kind="illness",
                                    occurred_on=timezone.localdate() + dt.timedelta(days=1))


def test_old_events_drop_off_after_the_configured_months(care):
    worker = care.user("grid_worker_a1_1")
    household = care.households["A1-1"]
    services.watch_event_record(actor=worker, household=household, kind="disaster",
                                occurred_on=timezone.localdate() - dt.timedelta(days=500))
    assert household.pk not in {h.pk for h, _r in selectors.watch_list(worker, village=care.regions["A1"])}


def test_a_drop_by_more_than_the_share_is_listed(care):
    worker = care.user("grid_worker_a1_1")
    household = care.households["A1-3"]  # 26,000 for two
    services.archive_change_record(actor=worker, household=household, kind="income", payload={"annual_income": "20000"})
    assert household.pk not in {h.pk for h, _r in selectors.watch_list(worker, village=care.regions["A1"])}  # -23%
    CareSettings.objects.create(county=care.regions["C"], watch_drop_share="0.20")
    rows = dict((h.pk, r) for h, r in selectors.watch_list(worker, village=care.regions["A1"]))
    assert rows[household.pk] == ["防返贫监测：收入下降23%（26,000元→20,000元）"]


def test_a_patrol_problem_becomes_a_case_in_one_step(care):
    from gongzhi.cases.models import Case

    worker = care.user("grid_worker_a1_1")
    patrol = services.patrol_start(actor=worker, grid=care.grids["A1-1"], route_note="一组沿河路段")
    assert patrol.worker_id == care.persons["worker"].pk and patrol.village_id == care.regions["A1"].pk
    problem = services.patrol_problem_report(actor=worker, patrol=patrol, description="河堤护栏损坏",
                                             location="一组河边")
    case = Case.objects.get(number=problem.case_ref)
    assert case.channel == "grid_patrol" and case.grid_id == care.grids["A1-1"].pk
    quiet = services.patrol_problem_report(actor=worker, patrol=patrol, description="路灯已修好，记录备查",
                                           make_case=False)
    assert quiet.case_ref == ""
    services.patrol_end(actor=worker, patrol=patrol)
    with pytest.raises(ValidationError):
        services.patrol_problem_report(actor=worker, patrol=patrol, description="又一个问题")
    assert PatrolProblem.objects.filter(patrol=patrol).count() == 2


def test_patrols_stay_in_the_workers_grid(care):
    from django.http import Http404

    with pytest.raises(Http404):
        services.patrol_start(actor=care.user("grid_worker_a1_1"), grid=care.grids["A1-2"])
    registry_services.grid_update(actor=care.system, grid=care.grids["A1-2"], name="五一村二组网格")
