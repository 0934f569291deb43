"""The statistics rollup (PostgreSQL triggers → deltas → rollups) gives exactly the figures a direct
count gives, after registrations, steps, bulk updates and deletes, folded or not."""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.utils import timezone

from gongzhi.cases import statistics
from gongzhi.cases.demo import generate_cases
from gongzhi.cases.models import Case, StatisticsDelta, StatisticsRollup, StatisticsUnitRollup

from .helpers import register, through_answer, to_in_progress_at_village

TZ = ZoneInfo("Asia/Shanghai")

PERIODS = [
    (None, None),                                     # all time
    (dt.date(2025, 1, 1), dt.date(2025, 12, 31)),     # a year
    (dt.date(2026, 1, 1), dt.date(2026, 12, 31)),
    (dt.date(2025, 10, 1), dt.date(2025, 12, 31)),    # a quarter
    (dt.date(2026, 1, 1), None),                      # from a month on
    (None, dt.date(2025, 6, 30)),
]


@pytest.fixture(autouse=True)
def postgres_only():
    if connection.vendor != "postgresql":
        pytest.fail("the rollup is PostgreSQL's; run the tests on PostgreSQL")


def _both(user, county, start, end, breakdowns=True):
    assert statistics._rollup_months(user=user, region=county, start=start, end=end) is not None
    fast = statistics.compute_statistics(user=user, region=county, start=start, end=end, breakdowns=breakdowns)
    direct = statistics.compute_statistics(user=user, region=county, start=start, end=end, breakdowns=breakdowns,
                                           use_rollup=False)
    return fast, direct


def _assert_same(cw, user=None):
    user = user or cw.user("county_secretary")
    county = cw.regions["C"]
    for start, end in PERIODS:
        for breakdowns in (True, False):
            fast, direct = _both(user, county, start, end, breakdowns)
            assert fast == direct, (start, end, breakdowns)
    return _both(user, county, None, None)[1]  # all time, with the breakdowns


def test_the_rollup_equals_a_direct_count_after_registrations_steps_updates_and_deletes(cw):
    county = cw.regions["C"]
    start, end = dt.datetime(2025, 1, 1, tzinfo=TZ), dt.datetime(2026, 11, 30, tzinfo=TZ)
    generate_cases(county, 600, seed=11, start=start, end=end, now=end, with_events=False)
    generate_cases(county, 120, seed=12, disputes=True, closed=100,
                   settled_levels={"village": 50, "town": 30, "county": 5}, start=start, end=end, now=end,
                   with_events=False)
    assert StatisticsDelta.objects.exists()  # the inserts were counted by the trigger, not yet folded
    direct = _assert_same(cw)
    assert direct.total.received == 720 and direct.by_status and direct.by_unit

    # fold: the deltas move into the rollups, the figures do not change
    assert statistics.statistics_fold() > 0
    assert not StatisticsDelta.objects.exists()
    assert sum(StatisticsRollup.objects.values_list("received", flat=True)) == 720
    assert sum(StatisticsUnitRollup.objects.values_list("received", flat=True)) == 720
    _assert_same(cw)

    # the nine steps through the services, on a case registered now
    case = register(cw)
    case = to_in_progress_at_village(cw, case)
    through_answer(cw, case, satisfaction="basic")
    other = register(cw, title="水管破裂")
    _assert_same(cw)
    statistics.statistics_fold()
    _assert_same(cw)

    # bulk updates that move cases between groups, and ones that touch no counted column
    Case.objects.filter(status="in_progress").update(status="result_reported", result_reported_at=timezone.now(),
                                                     rework_count=1)
    Case.objects.filter(ledger="opinion").update(overdue_warned_at=timezone.now())
    Case.objects.filter(received_at__month=3).update(received_at=dt.datetime(2025, 7, 15, 10, tzinfo=TZ))
    _assert_same(cw)

    # deletes
    Case.objects.filter(pk=other.pk).delete()
    Case.objects.filter(status="closed", settled_level="town").delete()
    statistics.statistics_fold()
    direct = _assert_same(cw)
    assert direct.total.received == Case.objects.count()
    assert not StatisticsRollup.objects.filter(received=0).exists()


def test_the_cases_a_secretary_must_recuse_from_are_left_out_the_same_way(cw):
    county = cw.regions["C"]
    start, end = dt.datetime(2025, 1, 1, tzinfo=TZ), dt.datetime(2026, 11, 30, tzinfo=TZ)
    generate_cases(county, 300, seed=5, start=start, end=end, now=end, with_events=False)
    secretary = cw.user("county_secretary")
    secretary.person = cw.persons["A1-1"]
    secretary.save(update_fields=["person"])
    Case.objects.filter(pk__in=list(Case.objects.filter(ledger="complaint").values_list("pk", flat=True)[:7])).update(
        complained_person=cw.persons["A1-1"])
    statistics.statistics_fold()
    fresh = type(secretary).objects.get(pk=secretary.pk)
    direct = _assert_same(cw, fresh)
    assert direct.total.received == 300 - 7


def test_other_questions_are_counted_directly(cw):
    county, town = cw.regions["C"], cw.regions["A"]
    secretary, town_secretary = cw.user("county_secretary"), cw.user("town_secretary_a")
    assert statistics._rollup_months(user=secretary, region=town, start=None, end=None) is None
    assert statistics._rollup_months(user=town_secretary, region=county, start=None, end=None) is None
    assert statistics._rollup_months(user=secretary, region=county, start=dt.date(2026, 1, 2), end=None) is None
    assert statistics._rollup_months(user=secretary, region=county, start=None, end=dt.date(2026, 1, 30)) is None
    assert statistics._rollup_months(user=secretary, region=None, start=None, end=None) is None
    assert statistics._rollup_months(user=secretary, region=county, start=dt.date(2026, 4, 1),
                                     end=dt.date(2026, 6, 30)) == (202604, 202606)
    # a town secretary asking about the county gets their own cases only, not the county's rollup
    generate_cases(county, 80, seed=3, with_events=False)
    mine = statistics.compute_statistics(user=town_secretary, region=county)
    assert mine.total.received == Case.objects.filter(town=town).count() < 80


def test_truncating_the_cases_empties_the_rollup(cw):
    generate_cases(cw.regions["C"], 50, seed=1, with_events=False)
    statistics.statistics_fold()
    assert StatisticsRollup.objects.exists()
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # TRUNCATE refuses pending FK checks
        cursor.execute("TRUNCATE cases_case CASCADE")
    assert not StatisticsRollup.objects.exists() and not StatisticsDelta.objects.exists()
    assert statistics.compute_statistics(user=cw.user("county_secretary"), region=cw.regions["C"]).total.received == 0
