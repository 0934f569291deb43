"""Care plans by class, visits due on dates, and warnings for due-soon and overdue visits."""
import datetime as dt
import threading

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from gongzhi.care import plans, selectors, services
from gongzhi.care.models import CareAlert, CarePlan, Visit
from gongzhi.registry import services as registry_services

from .conftest import household_in


@pytest.fixture
def planned(care):
    """A1-1 red (a left-behind elder), with 李强 as its party member; A1-3 yellow."""
    registry_services.person_update(actor=care.system, person=care.persons["A1-1-spouse"], left_behind="elderly")
    yellow = care.households["A1-3"]
    registry_services.household_update(actor=care.system, household=yellow, annual_income=15000)
    household_in(care, "rich", care.regions["A1"], care.grids["A1-2"], "钱多", 200000)
    services.households_classify(actor=None, region=care.regions["A1"])
    return care


def plan_of(household):
    return CarePlan.objects.get(household=household, ended_on__isnull=True)


def test_red_gets_its_three_line_helper_and_a_weekly_visit(planned):
    plan = plan_of(planned.households["A1-1"])
    assert plan.colour == "red" and plan.interval_days == 7
    assert plan.helper_id == planned.persons["party_member"].pk
    visit = plan.visits.get()
    assert visit.due_on == timezone.localdate() + dt.timedelta(days=7)


def test_yellow_gets_the_grid_worker_monthly_and_green_is_served_on_request(planned):
    from gongzhi.care.models import HouseholdClass

    assert HouseholdClass.objects.get(pk=planned.households["A1-3"].pk).colour == "yellow"
    plan = plan_of(planned.households["A1-3"])
    assert plan.colour == "yellow" and plan.interval_days == 30 and plan.helper_id == planned.persons["worker"].pk
    assert not CarePlan.objects.filter(household=planned.households["rich"]).exists()


def test_a_change_of_class_ends_the_plan_and_cancels_its_visits(planned):
    household = planned.households["A1-1"]
    registry_services.person_update(actor=planned.system, person=planned.persons["A1-1-spouse"], left_behind="")
    services.household_reclassify(actor=planned.system, household=household)
    assert not CarePlan.objects.filter(household=household, ended_on__isnull=True, colour="red").exists()
    ended = CarePlan.objects.filter(household=household, colour="red").get()
    assert ended.ended_on == timezone.localdate() and ended.visits.get().cancelled


def test_recording_a_visit_schedules_the_next(planned):
    helper = planned.user("three_line_a1")
    due = selectors.visits_due(helper)
    assert [v.household_id for v in due] == [planned.households["A1-1"].pk]
    services.visit_record(actor=helper, visit=due[0], note="老人身体还好，想要一个助听器")
    nxt = Visit.objects.filter(household=planned.households["A1-1"], done_at__isnull=True).get()
    assert nxt.due_on == timezone.localdate() + dt.timedelta(days=7)
    done = Visit.objects.get(pk=due[0].pk)
    assert done.visitor_id == planned.persons["party_member"].pk


def test_overdue_and_due_soon_visits_warn_the_helper_and_the_grid_head_once(planned):
    red_visit = plan_of(planned.households["A1-1"]).visits.get()
    yellow_visit = plan_of(planned.households["A1-3"]).visits.get()
    Visit.objects.filter(pk=red_visit.pk).update(due_on=timezone.localdate() - dt.timedelta(days=1))
    Visit.objects.filter(pk=yellow_visit.pk).update(due_on=timezone.localdate() + dt.timedelta(days=1))
    counts = plans.sweep_visits()
    assert counts["overdue"] == 1 and counts["due_soon"] == 1
    alerts = {(a.visit_id, a.kind, a.recipient_id, a.recipient_role) for a in CareAlert.objects.all()}
    head = planned.persons["grid_head"].pk
    assert alerts == {
        (red_visit.pk, "overdue", planned.persons["party_member"].pk, "helper"),
        (red_visit.pk, "overdue", head, "grid_head"),
        (yellow_visit.pk, "due_soon", planned.persons["worker"].pk, "helper"),
        (yellow_visit.pk, "due_soon", head, "grid_head"),
    }
    assert plans.sweep_visits() == {"overdue": 0, "due_soon": 0, "alerts": 0}
    assert CareAlert.objects.count() == 4
    # The helper sees the warning on their start page.
    assert [a.visit_id for a in selectors.my_alerts(planned.user("three_line_a1"))] == [red_visit.pk]


def test_the_sweep_command_runs(planned, capsys):
    call_command("care_sweep_visits")
    assert "overdue 0" in capsys.readouterr().out


def test_visit_completion_per_grid_and_village(planned):
    secretary = planned.user("village_secretary_a1")
    red_visit = plan_of(planned.households["A1-1"]).visits.get()
    yellow_visit = plan_of(planned.households["A1-3"]).visits.get()
    Visit.objects.filter(pk=red_visit.pk).update(due_on=timezone.localdate() - dt.timedelta(days=3))
    Visit.objects.filter(pk=yellow_visit.pk).update(due_on=timezone.localdate() - dt.timedelta(days=2))
    services.visit_record(actor=planned.user("three_line_a1"), visit=red_visit, note="已走访")
    report = selectors.visit_completion(secretary, village=planned.regions["A1"])
    assert report["total"] == {"due": 2, "done": 1, "on_time": 0, "overdue": 1}
    assert report["rate"] == 50.0
    assert [(g.code, row["due"]) for g, row, _rate in report["grids"]] == [("A1-1", 2)]


@pytest.mark.django_db(transaction=True)
def test_two_workers_sweeping_at_once_warn_each_visit_once(care_transactional):
    if connection.vendor != "postgresql":
        pytest.skip("row locks with SKIP LOCKED need PostgreSQL (SQLite serialises writers anyway)")
    world = care_transactional
    open_visits = Visit.objects.filter(done_at__isnull=True, cancelled=False)
    open_visits.update(due_on=timezone.localdate() - dt.timedelta(days=1))
    assert open_visits.count() >= 2
    results, errors = [], []

    def work():
        try:
            results.append(plans.sweep_visits(limit=1))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sum(r["overdue"] for r in results) == open_visits.count()
    per_visit = {}
    for a in CareAlert.objects.filter(kind="overdue"):
        per_visit.setdefault((a.visit_id, a.recipient_id), 0)
        per_visit[(a.visit_id, a.recipient_id)] += 1
    assert per_visit and set(per_visit.values()) == {1}
    assert world is not None


def test_every_due_visit_is_warned_once_however_small_the_batches(planned):
    from django.db.models import Count

    open_visits = Visit.objects.filter(done_at__isnull=True, cancelled=False)
    n = open_visits.count()
    assert n >= 2
    open_visits.update(due_on=timezone.localdate() - dt.timedelta(days=2))
    counts = plans.sweep_visits(limit=1)
    assert counts["overdue"] == n and counts["due_soon"] == 0
    assert plans.sweep_visits(limit=1) == {"overdue": 0, "due_soon": 0, "alerts": 0}
    per_visit = CareAlert.objects.values("visit", "recipient", "kind").annotate(k=Count("id"))
    assert per_visit and {row["visit"] for row in per_visit} <= set(open_visits.values_list("pk", flat=True))
    assert all(row["k"] == 1 for row in per_visit)
    assert not open_visits.filter(overdue_warned_at__isnull=True).exists()
    # a visit re-armed (moved and unwarned) is warned again, once
    visit = open_visits.first()
    Visit.objects.filter(pk=visit.pk).update(overdue_warned_at=None)
    CareAlert.objects.filter(visit=visit).delete()
    assert plans.sweep_visits()["overdue"] == 1
    assert plans.sweep_visits()["overdue"] == 0
