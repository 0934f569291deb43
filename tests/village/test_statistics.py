"""The village statistics: figures counted from rows made through the services on the small
``village`` fixture (五一村, A1) match what we count by hand; the Excel file reads back the same
figures; a user outside town A sees only their own area, on the page, in the export and in
``compute``."""
from __future__ import annotations

import datetime as dt
import io

import pytest
from django.urls import reverse
from django.utils import timezone

from gongzhi.core.models import AuditLog
from gongzhi.village import services, statistics
from gongzhi.village.models import (
    AgendaItem, DecisionTask, MeetingKind, PublicityFlag, PublicityItem, PublicityRequirement,
)

from .conftest import hold, vote_all

pytestmark = pytest.mark.django_db

K = MeetingKind


def _meeting(v, kind, title, items=()):
    return services.meeting_schedule(actor=v.secretary, region=v.region, kind=kind, title=title,
                                     scheduled_at=timezone.now(), place="村委会", items=items)


def _elderly(persons) -> int:
    today = timezone.localdate()
    return sum(1 for p in persons if today.year - p.birth_date.year
               - ((today.month, today.day) < (p.birth_date.month, p.birth_date.day)) >= 60)


@pytest.fixture
def year(village):
    """A year's worth of village A1, small enough to count by hand:

    * a courtyard meeting (a consultation): three came; the item carrying the three similar road
      cases is voted through; its decision (the three cases) is carried out on time;
    * a representatives' meeting one short of its quorum (5 of 9 came): an explaining item only;
    * a two-committee meeting (5 of 5): two items voted through — one decision carried out late,
      one still open with an overdue task;
    * an emergency matter (exempted, its decision open) and a matter not yet proposed.
    """
    v = village
    sec = v.secretary
    today = timezone.localdate()
    a = v.adults
    # A: courtyard meeting
    item = services.agenda_item_from_cases(actor=sec, cases=v.cases)
    courtyard = _meeting(v, K.COURTYARD, "二组院坝会", items=[item])
    services.meeting_open(actor=sec, meeting=courtyard)
    came = [a[0], a[1], a[20]]
    for person in came:
        services.attendance_add(actor=sec, meeting=courtyard, person=person)
    poll = vote_all(sec, services.poll_open(actor=sec, meeting=courtyard, question="同意硬化二组道路", item=item))
    d1 = services.decision_record(actor=sec, region=v.region, title="硬化二组道路", content="筹资硬化二组道路",
                                  meeting=courtyard, poll=poll)
    task = services.task_add(actor=sec, decision=d1, title="组织施工", assignee=a[0],
                             due_on=today + dt.timedelta(days=10))
    services.task_progress(actor=sec, task=task, progress=100)
    services.decision_complete(actor=sec, decision=d1)
    services.meeting_close(actor=sec, meeting=courtyard)

    # B: representatives' meeting short of its quorum
    explain = services.agenda_item_create(actor=sec, region=v.region, title="宣讲村民自治章程", mode="explain",
                                          source="committees")
    short = _meeting(v, K.REPRESENTATIVES, "代表会议", items=[explain])
    reps = [m.person for m in v.representatives]
    hold(sec, short, reps[:5])
    services.meeting_close(actor=sec, meeting=short)

    # C: two-committee meeting
    fix = services.agenda_item_create(actor=sec, region=v.region, title="维修灌溉水渠", mode="decide",
                                      source="committees")
    lamps = services.agenda_item_create(actor=sec, region=v.region, title="安装太阳能路灯", mode="decide",
                                        source="committees")
    committees = _meeting(v, K.TWO_COMMITTEES, "两委会", items=[fix, lamps])
    members = list({m.person.pk: m.person for body in ("party", "committee")
                    for m in v.bodies[body].members.all()}.values())
    hold(sec, committees, members)
    d2 = services.decision_record(actor=sec, region=v.region, title="维修灌溉水渠", content="维修水渠",
                                  meeting=committees, poll=vote_all(sec, services.poll_open(
                                      actor=sec, meeting=committees, question="同意维修水渠", item=fix)))
    task2 = services.task_add(actor=sec, decision=d2, title="采购材料", assignee=a[0],
                              due_on=today + dt.timedelta(days=5))
    d3 = services.decision_record(actor=sec, region=v.region, title="安装太阳能路灯", content="安装路灯",
                                  meeting=committees, poll=vote_all(sec, services.poll_open(
                                      actor=sec, meeting=committees, question="同意安装路灯", item=lamps)))
    task3 = services.task_add(actor=sec, decision=d3, title="安装", assignee=a[0],
                              due_on=today + dt.timedelta(days=5))
    services.meeting_close(actor=sec, meeting=committees)
    services.task_progress(actor=sec, task=task2, progress=100)
    services.decision_complete(actor=sec, decision=d2)
    # The tasks were due yesterday: d2 was carried out a day late, d3's task is overdue.
    DecisionTask.objects.filter(pk__in=[task2.pk, task3.pk]).update(due_on=today - dt.timedelta(days=1))

    # D: an emergency matter and one still a draft
    flood = services.matter_create(actor=sec, region=v.region, title="抢修便桥", topic="project",
                                   description="山洪冲毁便桥")
    services.matter_exempt(actor=sec, matter=flood, reason="汛期山洪", content="立即抢修")
    services.matter_create(actor=sec, region=v.region, title="修建文化广场", topic="project", description="拟修广场")
    v.came = came + reps[:5] + members
    return v


EXPECTED = {
    "meetings": 3, "held_courtyard": 1, "held_representatives": 1, "held_two_committees": 1, "held_villagers": 0,
    "consultations": 1, "quorum_failures": 1,
    "items_explain": 1, "items_speak": 0, "items_decide": 3, "items_from_cases": 1, "cases_on_agenda": 3,
    "problems_solved": 4, "cases_solved": 3,  # the three cases of d1, and d2 (no case)
    "matters_decided": 1, "matters_exempted": 1, "matters_rejected": 0, "matters_completed": 0,
    "matters_in_progress": 1,
    "decisions": 4, "decisions_on_time": 1, "decisions_late": 1, "decisions_open": 2, "tasks_overdue": 1,
    "came": 13, "entitled": 14, "entitled_came": 10, "came_proxy": 0, "came_left_early": 0,
}


def test_the_figures_match_what_we_count_by_hand(year, world):
    v = year
    stats = statistics.compute(user=v.secretary)
    assert [u.name for u in stats.villages] == [v.region.name]
    counts = stats.villages[0].counts
    assert {k: counts[k] for k in EXPECTED} == EXPECTED
    assert counts["came_women"] == sum(1 for p in v.came if p.sex == "F")
    assert counts["came_elderly"] == _elderly(v.came)
    assert str(stats.villages[0].rate("attendance_rate")) == "71.43%"  # 10 / 14
    assert stats.villages[0].rate("on_time_rate").denominator == 2
    # The town and the county are the sums of their villages; the county secretary sees all three.
    county = statistics.compute(user=world.user("county_secretary"))
    assert {u.name for u in county.villages} == {"五一村", world.regions["A2"].name, world.regions["B1"].name}
    town_a = next(u for u in county.towns if u.region_id == world.regions["A"].pk)
    assert town_a.counts["problems_solved"] == 4 and county.total.counts["consultations"] == 1
    assert [u.region_id for u in county.counties] == [world.regions["C"].pk]


def test_a_period_outside_the_meetings_counts_nothing_of_them(year):
    last_year = timezone.localdate().year - 1
    stats = statistics.compute(user=year.secretary, start=dt.date(last_year, 1, 1), end=dt.date(last_year, 12, 31))
    counts = stats.villages[0].counts
    assert counts["meetings"] == counts["decisions"] == counts["problems_solved"] == 0
    # The overdue task is a figure of now, whatever the period.
    assert counts["tasks_overdue"] == 1


def test_publicity_required_made_on_time_and_flags(village, world):
    v = village
    sec = v.secretary
    tz = timezone.get_default_timezone()
    PublicityRequirement.objects.create(category="finance", period="monthly", grace_days=10,
                                        county_id=world.regions["C"].pk)
    for month in (3, 4):
        item = services.publicity_draft(actor=sec, region=v.region, category="finance", title=f"2025年{month}月财务收支",
                                        lines=[{"item": "保洁", "income": "0", "expense": "800"}],
                                        period_start=dt.date(2025, month, 1),
                                        period_end=dt.date(2025, month, 28))
        services.publicity_publish(actor=sec, item=item)
    # March's was published in time (by 10 April), April's late; a correction does not count twice.
    PublicityItem.objects.filter(title="2025年3月财务收支").update(
        published_at=dt.datetime(2025, 4, 5, 10, tzinfo=tz))
    PublicityItem.objects.filter(title="2025年4月财务收支").update(
        published_at=dt.datetime(2025, 5, 20, 10, tzinfo=tz))
    march = PublicityItem.objects.get(title="2025年3月财务收支")
    services.publicity_correct(actor=sec, item=march, reason="金额有误",
                               lines=[{"item": "保洁", "income": "0", "expense": "900"}])
    PublicityFlag.objects.create(region=v.region, category="finance", period_start=dt.date(2025, 4, 1),
                                 period_end=dt.date(2025, 4, 30), flagged_at=dt.datetime(2025, 5, 11, 2, tzinfo=tz),
                                 county_id=v.region.county_id, town_id=v.region.town_id, village_id=v.region.pk)
    stats = statistics.compute(user=sec, start=dt.date(2025, 1, 1), end=dt.date(2025, 12, 31),
                               today=dt.date(2026, 12, 7))
    counts = stats.villages[0].counts
    # Due within 2025: December 2024 (due 10 January 2025) … November 2025 (due 10 December).
    assert counts["publicity_required"] == 12
    assert (counts["publicity_made"], counts["publicity_on_time"]) == (2, 1)
    assert (counts["publicity_flags"], counts["publicity_flags_open"]) == (1, 1)
    assert stats.villages[0].rate("publicity_rate").denominator == 12
    # Not yet due is not required: asked on 1 May 2025, only December–March are due.
    early = statistics.compute(user=sec, start=dt.date(2025, 1, 1), end=dt.date(2025, 12, 31),
                               today=dt.date(2025, 5, 1))
    assert early.villages[0].counts["publicity_required"] == 4


def test_an_outsider_sees_only_their_area(year, world):
    outsider = world.user("outsider_b")
    stats = statistics.compute(user=outsider)
    assert [u.region_id for u in stats.villages] == [world.regions["B1"].pk]
    assert stats.total.counts["meetings"] == 0 and stats.total.counts["problems_solved"] == 0
    # Asking for town A's region directly gives nothing either.
    assert statistics.compute(user=outsider, region=world.regions["A"]).villages == []


def test_the_page_shows_the_figures_and_refuses_to_widen_the_scope(year, world, client):
    client.force_login(year.secretary)
    response = client.get(reverse("village:statistics"))
    assert response.status_code == 200
    text = response.content.decode()
    assert "五一村" in text and "两说一商议事" in text
    rows = {u.name: values for u, values in response.context["rows"]}
    assert dict(rows["五一村"])["解决问题"] == 4
    client.force_login(world.user("outsider_b"))
    response = client.get(reverse("village:statistics"), {"region": world.regions["A1"].pk})
    assert response.status_code == 200 and "五一村" not in response.content.decode()
    assert reverse("village:statistics_export")
    response = client.get(reverse("village:statistics_export"), {"region": world.regions["A1"].pk})
    assert response.status_code == 404


def test_the_excel_file_reads_back_one_row_per_unit(year, world, client):
    from openpyxl import load_workbook

    client.force_login(world.user("county_secretary"))
    response = client.get(reverse("village:statistics_export"), {"by": "village"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content) if response.streaming
                                    else response.content), read_only=True)
    assert book.sheetnames[:3] == ["按村（社区）", "按镇（街道）", "按县"]
    sheet = list(book["按村（社区）"].iter_rows(values_only=True))
    header = sheet[0]
    rows = {row[1]: dict(zip(header, row)) for row in sheet[1:]}
    assert set(rows) == {"五一村", world.regions["A2"].name, world.regions["B1"].name, "合计"}
    assert rows["五一村"]["两说一商议事"] == 1 and rows["五一村"]["解决问题"] == 4
    assert rows["五一村"]["所属镇（街道）"] == world.regions["A"].name
    assert rows["五一村"]["未达法定人数"] == 1 and rows["五一村"]["逾期未完成任务"] == 1
    assert rows["五一村"]["应到者到会率"] == pytest.approx(71.43, abs=0.01)
    assert rows["合计"]["解决问题"] == 4
    towns = list(book["按镇（街道）"].iter_rows(values_only=True))
    assert {row[1] for row in towns[1:]} == {world.regions["A"].name, world.regions["B"].name, "合计"}
    county = list(book["按县"].iter_rows(values_only=True))
    assert len(county) == 2 and county[1][1] == world.regions["C"].name
    # The export is on the audit trail, scoped to what was asked for.
    assert AuditLog.objects.filter(action="export", object_type="village.meeting").count() == 1


def test_the_figures_take_a_fixed_number_of_queries(year, world, django_assert_max_num_queries):
    # Set-based: the same handful of grouped queries for one village or for the whole county.
    user = world.user("county_secretary")
    statistics.compute(user=user)
    with django_assert_max_num_queries(16):
        statistics.compute(user=user)
    assert AgendaItem.objects.filter(region=year.region).count() >= 4
