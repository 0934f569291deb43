"""The village layer's warnings: overdue decision tasks reach the responsible person and the
supervision committee exactly once, even with several workers sweeping at the same moment (real
PostgreSQL transactions); term ends, late publicity and stale duty lists are flagged once."""
from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from gongzhi.accounts.models import User
from gongzhi.cases.models import Notification
from gongzhi.village import services, sweeps
from gongzhi.village.models import DecisionEntry, PublicityFlag, PublicityRequirement
from tests.intake.conftest import race

from .conftest import make_village


def _overdue_decision(v, *, tasks=3):
    sec = v.world.system
    matter = services.matter_create(actor=sec, region=v.region, title="修复灌渠", description="灌渠垮塌", topic="project")
    services.matter_exempt(actor=sec, matter=matter, reason="春灌在即", content="立即修复灌渠")
    decision = matter.decision
    # A login for the responsible person, and one for the supervision committee's chair.
    assignee = v.adults[0]
    chair = v.bodies["supervision"].members.get(post="chair").person
    User.objects.create_user(username="assignee", password="x-1", person=assignee)
    User.objects.create_user(username="chair", password="x-1", person=chair)
    made = []
    for i in range(tasks):
        task = services.task_add(actor=sec, decision=decision, title=f"第{i + 1}段", assignee=assignee,
                                 due_on=timezone.localdate() + dt.timedelta(days=1))
        made.append(task)
    return decision, made


@pytest.mark.django_db(transaction=True)
def test_overdue_tasks_warned_once_under_concurrent_sweeps():
    from tests.world import build_world

    v = make_village(build_world())
    decision, tasks = _overdue_decision(v)
    later = timezone.localdate() + dt.timedelta(days=3)
    results, errors = race(3, lambda i: sweeps.sweep_tasks(today=later))
    assert not errors, errors
    assert sum(results) == 3
    for username in ("assignee", "chair"):
        assert Notification.objects.filter(user__username=username, kind="village_task_overdue").count() == 3
    assert DecisionEntry.objects.filter(decision=decision, kind="overdue").count() == 3
    # A second pass finds nothing: the warned tasks left the partial index.
    assert sweeps.sweep_tasks(today=later) == 0


@pytest.mark.django_db
def test_adjusting_a_due_date_rearms_the_warning(village):
    decision, tasks = _overdue_decision(village, tasks=1)
    later = timezone.localdate() + dt.timedelta(days=3)
    assert sweeps.sweep_tasks(today=later) == 1
    services.task_adjust(actor=village.world.system, task=tasks[0], reason="材料未到",
                         due_on=timezone.localdate() + dt.timedelta(days=10))
    assert sweeps.sweep_tasks(today=later) == 0
    assert sweeps.sweep_tasks(today=timezone.localdate() + dt.timedelta(days=11)) == 1


@pytest.mark.django_db
def test_term_end_warned_once_to_the_village(village):
    # The party committee's term ends in 60 days; the default warning is 90 days ahead.
    assert sweeps.sweep_terms() == 1
    assert Notification.objects.filter(user__username="village_secretary_a1", kind="village_term").count() == 1
    assert sweeps.sweep_terms() == 0


@pytest.mark.django_db
def test_late_publicity_is_flagged_to_the_town_and_resolved_by_publishing(village):
    v = village
    world = v.world
    PublicityRequirement.objects.create(category="finance", period="monthly", grace_days=10,
                                        county_id=world.regions["C"].pk)
    today = dt.date(2026, 12, 20)
    flagged = sweeps.sweep_publicity(today=today)
    # Every village of the county (A1, A2, B1) missed November's finance notice.
    assert flagged == 3
    assert set(PublicityFlag.objects.values_list("region__code", flat=True)) == {
        world.regions[k].code for k in ("A1", "A2", "B1")}
    assert Notification.objects.filter(user__username="town_secretary_a", kind="village_publicity_overdue").count() == 1
    assert sweeps.sweep_publicity(today=today) == 0
    item = services.publicity_draft(actor=world.system, region=v.region, category="finance", title="11月财务收支",
                                    body="收入0元", period_start=dt.date(2026, 11, 1), period_end=dt.date(2026, 11, 30))
    services.publicity_publish(actor=world.system, item=item)
    assert sweeps.resolve_publicity_flags() == 1
    assert PublicityFlag.objects.filter(resolved_at__isnull=True).count() == 2


@pytest.mark.django_db
def test_stale_duty_list_flagged_and_review_clears_it(village):
    from gongzhi.village.models import DutyList

    v = village
    sec = v.world.system
    duty_list = services.duty_list_ensure(actor=sec, region=v.region, kind="responsibility")
    services.duty_add(actor=sec, duty_list=duty_list, title="村级财务公开", basis="村民委员会组织法第三十条",
                      owners=[(v.bodies["committee"], ""), (v.bodies["supervision"], "")])
    services.duty_add(actor=sec, duty_list=duty_list, title="集体资产登记", basis="农村集体资产管理规定")
    from gongzhi.village import selectors

    problems = selectors.duty_problems(duty_list)
    assert [d.title for d in problems["unowned"]] == ["集体资产登记"]
    assert [d.title for d in problems["shared"]] == ["村级财务公开"]
    DutyList.objects.filter(pk=duty_list.pk).update(review_due_on=dt.date(2020, 1, 1))
    assert sweeps.sweep_duty_lists() == 1 and sweeps.sweep_duty_lists() == 0
    services.duty_list_review(actor=sec, duty_list=duty_list)
    duty_list.refresh_from_db()
    assert duty_list.stale_flagged_at is None and duty_list.review_due_on > timezone.localdate()
