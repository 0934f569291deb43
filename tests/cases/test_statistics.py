"""Statistics computed from case records: the seed's figures rebuilt, and a small fixed data set
whose every rate is worked out by hand below."""
from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied
from django.db import transaction
from openpyxl import load_workbook

from gongzhi.cases import statistics
from gongzhi.cases.choices import CaseStatus as S
from gongzhi.cases.demo import generate_cases
from gongzhi.cases.models import Case, CaseCategory, CaseEvent
from gongzhi.core.models import AuditLog

TZ = ZoneInfo("Asia/Shanghai")


def t(day, hour=9):
    return dt.datetime(2026, 3, day, hour, tzinfo=TZ)


def test_shiquan_8812_accepted_8597_closed_is_97_56_percent(cw):
    # 石泉县 2016–2021: 8,812 accepted, 8,597 closed (seed 003).
    summary = generate_cases(cw.regions["C"], 8812, seed=2016, closed=8597, with_events=False)
    assert summary["cases"] == 8812
    stats = statistics.compute_statistics(user=cw.user("county_secretary"), breakdowns=False)
    assert stats.total.accepted == 8812 and stats.total.closed == 8597
    assert stats.total.closure_rate.percent == Decimal("97.56")
    # a town secretary sees only their town's share, computed the same way
    town = statistics.compute_statistics(user=cw.user("town_secretary_a"), breakdowns=False)
    assert 0 < town.total.accepted < 8812
    assert town.total.accepted == Case.objects.filter(town=cw.regions["A"], accepted_at__isnull=False).count()


def test_hanyin_disputes_by_the_level_they_were_settled_at(cw):
    # 汉阴县 to Aug 2022: 945 disputes accepted, 894 resolved — village 557, town 331, county 6 (seed).
    generate_cases(cw.regions["C"], 945, seed=2022, disputes=True, closed=894,
                   settled_levels={"village": 557, "town": 331, "county": 6}, with_events=False)
    stats = statistics.compute_statistics(user=cw.user("county_secretary"))
    assert (stats.total.disputes, stats.total.disputes_resolved) == (945, 894)
    assert stats.settled_levels == {"grid": 0, "village": 557, "town": 331, "county": 6}
    assert stats.total.resolution_rate.percent == Decimal("100.00")
    assert stats.total.closure_rate == statistics.Rate(Decimal(894), 945)


def _make(cw, n, *, ledger, received, village="A1", status=S.CLOSED, level="village", **fields) -> Case:
    category = CaseCategory.objects.filter(county__isnull=True, ledger=ledger, is_petition=False).first()
    region = cw.regions[village]
    return Case.objects.create(
        number=f"GZ-TEST-{n:04d}", ledger=ledger, kind=category.kind, category=category, title=f"测试{n}",
        description="测试数据", channel="hotline", region=region, county=region.parent.parent, town=region.parent,
        village=region, status=status, current_level=level, received_at=received, **fields)


@pytest.fixture
def fixed(cw):
    """Ten cases; the comments give each one's part in every count."""
    due = t(20, 18)  # the resolution deadline of every accepted case
    rdue = t(3, 18)  # the response deadline of every assigned case
    m = _make
    # c1 opinion: responded on time, closed resolved on time, satisfied, settled at village
    m(cw, 1, ledger="opinion", received=t(2), accepted_at=t(2, 10), response_due_at=rdue, first_response_at=t(3),
      result_reported_at=t(10), resolution_due_at=due, closed_at=t(11), closed_as="resolved", satisfaction="satisfied",
      settled_level="village", assignee_region=cw.regions["A1"])
    # c2 demand: responded late, closed resolved late, basically satisfied, reworked once, settled at town
    m(cw, 2, ledger="demand", received=t(2), accepted_at=t(2, 10), response_due_at=rdue, first_response_at=t(4),
      result_reported_at=t(19), resolution_due_at=due, closed_at=t(23), closed_as="resolved", satisfaction="basic",
      rework_count=1, level="town", settled_level="town", assignee_region=cw.regions["A"])
    # c3 complaint: responded on time, closed unresolved on time, dissatisfied, extended once
    m(cw, 3, ledger="complaint", received=t(3), accepted_at=t(3, 10), response_due_at=rdue, first_response_at=t(3, 15),
      result_reported_at=t(12), resolution_due_at=due, closed_at=t(18), closed_as="unresolved",
      satisfaction="dissatisfied", extension_count=1, level="county", assignee_department=cw.housing)
    # c4 demand: responded on time, result reported and waiting for the secretary, reworked once
    m(cw, 4, ledger="demand", received=t(3), status=S.RESULT_REPORTED, accepted_at=t(3, 10), response_due_at=rdue,
      first_response_at=t(3, 11), result_reported_at=t(15), resolution_due_at=due, rework_count=1,
      assignee_region=cw.regions["A1"])
    # c5 opinion: accepted, not yet assigned
    m(cw, 5, ledger="opinion", received=t(4), status=S.ACCEPTED, accepted_at=t(4, 10), resolution_due_at=due)
    # c6 opinion: registered, not accepted
    m(cw, 6, ledger="opinion", received=t(5), status=S.REGISTERED)
    # c7 demand: settled on the spot (never assigned), requester unreachable at the return visit
    m(cw, 7, ledger="demand", received=t(5), accepted_at=t(5, 11), result_reported_at=t(5, 11), resolution_due_at=due,
      closed_at=t(5, 12), closed_as="resolved", satisfaction="unreachable", level="grid", settled_level="grid",
      assignee_grid=cw.grids["A1-1"])
    # c8 complaint: assigned, never signed for, extended once, in progress
    m(cw, 8, ledger="complaint", received=t(6), status=S.ASSIGNED, accepted_at=t(6, 10), response_due_at=rdue,
      resolution_due_at=due, extension_count=1, level="county", assignee_department=cw.housing)
    # c9: received in May, outside the period
    m(cw, 9, ledger="opinion", received=dt.datetime(2026, 5, 10, 9, tzinfo=TZ), accepted_at=t(10),
      closed_at=t(11), closed_as="resolved", satisfaction="satisfied", settled_level="village")
    # c10 in village B1 (town B): responded on time, closed resolved on time, satisfied
    m(cw, 10, ledger="opinion", received=t(5), village="B1", accepted_at=t(5, 10), response_due_at=t(6, 18),
      first_response_at=t(6), result_reported_at=t(9), resolution_due_at=due, closed_at=t(10), closed_as="resolved",
      satisfaction="satisfied", settled_level="village", assignee_region=cw.regions["B1"])


MARCH = {"start": dt.date(2026, 3, 1), "end": dt.date(2026, 3, 31)}


def test_every_rate_of_a_fixed_data_set(cw, fixed):
    # Town A in March: c1–c8 (c9 is in May, c10 in town B).
    stats = statistics.compute_statistics(user=cw.user("county_secretary"), region=cw.regions["A"], **MARCH)
    total = stats.total
    # received 8 (c1–c8); accepted 7 (all but c6); closed 4 (c1, c2, c3, c7)
    assert (total.received, total.accepted, total.closed) == (8, 7, 4)
    # closure 4/7 = 57.142… → 57.14%
    assert total.closure_rate.percent == Decimal("57.14")
    # on time: c1 (11th ≤ 20th), c3 (18th), c7 (5th); c2 closed on the 23rd, late → 3/4 = 75.00%
    assert total.on_time_closure_rate.percent == Decimal("75.00")
    # assigned (a response deadline): c1, c2, c3, c4, c8 = 5; on time: c1, c3, c4 (c2 signed on
    # the 4th after the 3rd 18:00; c8 never) → 3/5 = 60.00%
    assert total.response_rate.percent == Decimal("60.00")
    # resolved among closed: c1, c2, c7 → 3/4 = 75.00%
    assert total.resolution_rate.percent == Decimal("75.00")
    # satisfaction: satisfied c1, basic c2, dissatisfied c3 (c7 unreachable, not counted)
    # → (1 + 1.0×1)/3 = 66.666… → 66.67%
    assert total.satisfaction_rate.percent == Decimal("66.67")
    # rework: c2 and c4 among the 5 with a reported result (c1, c2, c3, c4, c7) → 40.00%
    assert total.rework_rate.percent == Decimal("40.00")
    # extension: c3 and c8 among the 7 accepted → 2/7 = 28.571… → 28.57%
    assert total.extension_rate.percent == Decimal("28.57")
    # settled levels of resolved closures: c7 grid, c1 village, c2 town
    assert stats.settled_levels == {"grid": 1, "village": 1, "town": 1, "county": 0}
    # by ledger — opinion: c1, c5, c6: 3 received, 2 accepted, 1 closed → 50.00%
    opinion, demand, complaint = (stats.by_ledger[k] for k in ("意见建议", "利益诉求", "投诉举报"))
    assert (opinion.received, opinion.accepted, opinion.closed) == (3, 2, 1)
    assert opinion.closure_rate.percent == Decimal("50.00")
    # demand: c2, c4, c7: 3 accepted, 2 closed → 66.67%
    assert demand.closure_rate.percent == Decimal("66.67")
    # complaint: c3, c8: 2 accepted, 1 closed, both extended → extension 100.00%
    assert (complaint.closure_rate.percent, complaint.extension_rate.percent) == (Decimal("50.00"), Decimal("100.00"))
    # by level: county = c3, c8
    assert stats.by_level["县"].received == 2
    # by unit: 县住建局 handles c3 and c8; c5 and c6 have no unit yet
    assert stats.by_unit["县住建局"].received == 2 and stats.by_unit["（未交办）"].received == 2
    assert sum(f.received for f in stats.by_category.values()) == 8


def test_the_scope_and_the_period_choose_the_cases(cw, fixed):
    # the town secretary's own scope gives the same figures as the county's view of town A
    town = statistics.compute_statistics(user=cw.user("town_secretary_a"), **MARCH).total
    assert (town.received, town.accepted, town.closed) == (8, 7, 4)
    # county-wide adds c10 (town B): accepted 8, closed 5 → 5/8 = 62.50%
    county = statistics.compute_statistics(user=cw.user("county_secretary"), **MARCH).total
    assert (county.received, county.accepted, county.closed) == (9, 8, 5)
    assert county.closure_rate.percent == Decimal("62.50")
    # no period: c9 (May) joins → 10 received, 9 accepted, 6 closed
    everything = statistics.compute_statistics(user=cw.user("county_secretary")).total
    assert (everything.received, everything.accepted, everything.closed) == (10, 9, 6)
    # a department sees only what it handles: c3, c8 (县住建局)
    housing = statistics.compute_statistics(user=cw.user("housing_handler")).total
    assert housing.received == 2
    assert statistics.compute_statistics(user=cw.user("outsider_b"), region=cw.regions["A"]).total.received == 0


def test_the_weight_of_basically_satisfied_is_a_setting(cw, fixed, settings):
    settings.GONGZHI_SATISFACTION_BASIC_WEIGHT = 0.8
    total = statistics.compute_statistics(user=cw.user("town_secretary_a"), **MARCH).total
    # (1 + 0.8×1)/3 = 0.6 → 60.00%
    assert total.satisfaction_rate.percent == Decimal("60.00")
    assert statistics.compute_statistics(user=cw.user("town_secretary_a"), basic_weight=0, **MARCH
                                         ).total.satisfaction_rate.percent == Decimal("33.33")
    with pytest.raises(ValueError):
        statistics.compute_statistics(user=cw.user("town_secretary_a"), basic_weight=1.5)


def test_the_excel_export_reads_back(cw, fixed):
    secretary = cw.user("town_secretary_a")
    book = load_workbook(io.BytesIO(statistics.statistics_export(actor=secretary, **MARCH)))
    assert book.sheetnames == ["总体", "按台账", "按类别", "按层级", "按承办单位", "办结层级"]
    rows = {row[0]: row[1:] for row in book["总体"].iter_rows(min_row=2, values_only=True)}
    assert rows["受理"][0] == 7 and rows["办结"][0] == 4
    assert rows["办结率"] == (57.14, 4.0, 7)
    assert rows["满意率"][0] == 66.67
    levels = {row[0]: row[1] for row in book["办结层级"].iter_rows(min_row=2, values_only=True)}
    assert levels == {"网格": 1, "村（社区）": 1, "镇（街道）": 1, "县": 0}
    ledgers = {row[0]: row for row in book["按台账"].iter_rows(min_row=2, values_only=True)}
    assert set(ledgers) == {"意见建议", "利益诉求", "投诉举报"}
    assert AuditLog.objects.filter(action="export", actor_username="town_secretary_a").exists()

    ledger_book = load_workbook(io.BytesIO(statistics.case_export(actor=secretary, **MARCH)))
    sheet = ledger_book["民情台账"]
    assert sheet.max_row == 1 + 8
    with pytest.raises(PermissionDenied):
        statistics.case_export(actor=cw.user("grid_worker_a1_1"))


def test_generated_demo_cases_are_realistic_and_reproducible(cw):
    def run():
        with transaction.atomic():
            generate_cases(cw.regions["C"], 300, seed=7, not_accepted=20)
            snapshot = list(Case.objects.order_by("received_at", "pk").values_list("title", "status", "ledger"))
            events = CaseEvent.objects.count()
            transaction.set_rollback(True)
        return snapshot, events

    first, events = run()
    second, _ = run()
    assert first == second
    assert len(first) == 300 and events > 300
    statuses = {status for _t, status, _l in first}
    assert {S.CLOSED, S.IN_PROGRESS, S.REGISTERED} <= statuses
    assert {ledger for _t, _s, ledger in first} == {"opinion", "demand", "complaint"}
    summary = generate_cases(cw.regions["C"], 50, seed=1)
    assert summary["by_status"]["closed"] == 45
    numbers = list(Case.objects.values_list("number", flat=True))
    assert len(numbers) == len(set(numbers)) == 50
    stats = statistics.compute_statistics(user=cw.user("county_secretary"))
    assert stats.total.received == 50 and stats.total.closure_rate.percent == Decimal("100.00") * 45 / 50
