"""The deadline sweep: warnings once each, escalation, safe with several workers at once."""
from __future__ import annotations

import datetime as dt
import threading
import time

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import Count
from django.utils import timezone

from gongzhi.cases import services
from gongzhi.cases.choices import CaseStatus as S
from gongzhi.cases.models import Case, CaseEvent, Notification
from gongzhi.cases.tasks import run_sweep, sweep_deadlines
from gongzhi.core.workdays import add_working_time

from .helpers import register


def _county_case_at_housing(cw, **extra) -> Case:
    dispatcher = cw.user("county_dispatcher")
    case = register(cw, by="county_dispatcher", code="demand-housing-safety", grid=None, region="A1",
                    channel="hotline", **extra)
    case = services.case_accept(actor=dispatcher, case=case)
    return services.case_assign(actor=dispatcher, case=case, department=cw.housing)


def _due(case: Case, when: dt.datetime) -> None:
    Case.objects.filter(pk=case.pk).update(resolution_due_at=when)


def test_due_soon_overdue_and_escalation_are_each_sent_once(cw):
    now = timezone.now()
    case = _county_case_at_housing(cw)
    housing, dispatcher = cw.user("housing_handler"), cw.user("county_dispatcher")
    _due(case, now + dt.timedelta(hours=3))
    first = run_sweep(now=now)
    assert first["due_soon"] == 1 and first["overdue"] == 0
    assert run_sweep(now=now)["due_soon"] == 0
    assert Notification.objects.filter(case=case, kind="due_soon", user=housing).count() == 1

    # an hour past the deadline: overdue, but not yet escalated
    later = now + dt.timedelta(hours=4)
    counts = run_sweep(now=later)
    assert (counts["overdue"], counts["overdue_escalated"]) == (1, 0)
    assert set(Notification.objects.filter(case=case, kind="overdue").values_list("user__username", flat=True)) == {
        "housing_handler", "county_dispatcher"}
    # more than one working day past it: escalated to the supervisors, once
    much_later = add_working_time(now + dt.timedelta(hours=3), dt.timedelta(hours=25))
    assert run_sweep(now=much_later)["overdue_escalated"] == 1
    assert run_sweep(now=much_later)["overdue_escalated"] == 0
    escalated = Notification.objects.filter(case=case, kind="overdue_escalated")
    assert "county_secretary" in set(escalated.values_list("user__username", flat=True))
    assert CaseEvent.objects.filter(case=case, kind__in=["due_soon", "overdue", "overdue_escalated"]).count() == 3
    case.refresh_from_db()
    assert case.due_soon_warned_at and case.overdue_warned_at and case.escalated_at
    assert dispatcher.pk in set(Notification.objects.filter(case=case, kind="overdue").values_list("user", flat=True))


def test_an_extension_rearms_the_warnings(cw):
    now = timezone.now()
    case = _county_case_at_housing(cw)
    handler = cw.user("housing_handler")
    services.case_sign(actor=handler, case=case)
    _due(case, now - dt.timedelta(hours=1))
    assert run_sweep(now=now)["overdue"] == 1
    request = services.case_request_extension(actor=handler, case=case, days=5, reason="等待鉴定报告")
    services.case_approve_extension(actor=cw.user("county_dispatcher"), request=request)
    case.refresh_from_db()
    if case.resolution_due_at > timezone.now():
        assert case.overdue_warned_at is None and case.due_soon_warned_at is None


def test_acceptance_and_response_deadlines(cw):
    now = timezone.now()
    waiting = register(cw, by="county_dispatcher", code="opinion-public-service", grid=None, region="A1",
                       channel="hotline")
    Case.objects.filter(pk=waiting.pk).update(acceptance_due_at=now - dt.timedelta(minutes=1))
    assigned = _county_case_at_housing(cw)
    Case.objects.filter(pk=assigned.pk).update(response_due_at=now - dt.timedelta(minutes=1))
    counts = run_sweep(now=now)
    assert (counts["acceptance_overdue"], counts["response_overdue"]) == (1, 1)
    assert Notification.objects.filter(case=waiting, kind="acceptance_overdue").exists()
    assert Notification.objects.filter(case=assigned, kind="response_overdue", user=cw.user("housing_handler")).exists()
    assert run_sweep(now=now)["acceptance_overdue"] == 0


def test_suspended_and_closed_cases_are_left_alone(cw):
    now = timezone.now()
    case = _county_case_at_housing(cw)
    handler = cw.user("housing_handler")
    services.case_sign(actor=handler, case=case)
    request = services.case_request_suspension(actor=handler, case=case, reason="等待司法鉴定")
    services.case_suspend(actor=cw.user("county_dispatcher"), request=request)
    _due(case, now - dt.timedelta(hours=1))
    assert run_sweep(now=now)["overdue"] == 0
    assert Case.objects.get(pk=case.pk).status == S.SUSPENDED


def test_the_management_command_runs_one_pass(cw, capsys):
    now = timezone.now()
    case = _county_case_at_housing(cw)
    _due(case, now - dt.timedelta(minutes=5))
    call_command("sweep_deadlines")
    assert "overdue 1" in capsys.readouterr().out
    assert Case.objects.get(pk=case.pk).overdue_warned_at is not None


@pytest.mark.django_db(transaction=True)
def test_several_workers_at_once_send_each_warning_once(cw):
    """Eight threads, each with its own PostgreSQL connection, sweep the same cases at once."""
    if connection.vendor != "postgresql":
        pytest.skip("the concurrency guarantee is PostgreSQL's (row locks + READ COMMITTED re-check)")
    now = timezone.now()
    overdue = [_county_case_at_housing(cw, title=f"危房{i}") for i in range(8)]
    soon = [_county_case_at_housing(cw, title=f"漏雨{i}") for i in range(8)]
    for case in overdue:
        _due(case, now - dt.timedelta(hours=2))
    for case in soon:
        _due(case, now + dt.timedelta(hours=2))

    workers = 8
    barrier = threading.Barrier(workers)
    results, errors = [], []

    def work():
        try:
            barrier.wait(timeout=30)
            results.append(run_sweep(now=now))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    assert len(results) == workers
    assert sum(r["overdue"] for r in results) == len(overdue)
    assert sum(r["due_soon"] for r in results) == len(soon)

    per_pair = (Notification.objects.filter(kind__in=["overdue", "due_soon"])
                .values("case", "user", "kind").annotate(n=Count("id")))
    assert per_pair and all(row["n"] == 1 for row in per_pair)
    housing = cw.user("housing_handler").pk
    assert {row["case"] for row in per_pair if row["kind"] == "overdue" and row["user"] == housing} == {
        c.pk for c in overdue}
    assert {row["case"] for row in per_pair if row["kind"] == "due_soon" and row["user"] == housing} == {
        c.pk for c in soon}
    events = CaseEvent.objects.filter(kind__in=["overdue", "due_soon"]).values("case").annotate(n=Count("id"))
    assert len(events) == len(overdue) + len(soon) and all(row["n"] == 1 for row in events)


def _redis_available() -> bool:
    try:
        import redis

        redis.Redis.from_url("redis://127.0.0.1:6379/15", socket_connect_timeout=1).ping()
        return True
    except Exception:
        return False


def _reset_broker_pools(app) -> None:
    # What Celery itself does after a fork: forget the connection and producer pools.
    app._pool = None
    app.amqp._producer_pool = None


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(not _redis_available(), reason="no Redis on 127.0.0.1:6379")
def test_the_sweep_runs_on_a_real_celery_worker_over_redis(cw):
    from celery.contrib.testing.worker import start_worker
    from celery.result import EagerResult

    from gongzhi.celery import app

    now = timezone.now()
    case = _county_case_at_housing(cw)
    _due(case, now - dt.timedelta(minutes=10))
    keys = ("broker_url", "task_always_eager")
    saved = {key: app.conf.get(key) for key in keys}
    app.conf.update(broker_url="redis://127.0.0.1:6379/15", task_always_eager=False)
    _reset_broker_pools(app)  # eager calls made a producer pool for the empty broker URL
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, loglevel="WARNING", shutdown_timeout=10):
            result = sweep_deadlines.delay()
            assert not isinstance(result, EagerResult)  # went through the broker
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                if Case.objects.filter(pk=case.pk, overdue_warned_at__isnull=False).exists():
                    break
                time.sleep(0.2)
    finally:
        app.conf.update(saved)
        _reset_broker_pools(app)
    assert Case.objects.get(pk=case.pk).overdue_warned_at is not None
    assert Notification.objects.filter(case=case, kind="overdue", user=cw.user("housing_handler")).count() == 1


def test_each_due_case_is_warned_exactly_once_across_batches_and_passes(cw):
    """More due cases than one batch holds: passes take them in batches, each once, then nothing."""
    now = timezone.now()
    overdue = [_county_case_at_housing(cw, title=f"危房{i}") for i in range(7)]
    soon = [_county_case_at_housing(cw, title=f"漏雨{i}") for i in range(5)]
    for case in overdue:
        _due(case, now - dt.timedelta(hours=2))
    for case in soon:
        _due(case, now + dt.timedelta(hours=2))
    sent = {"overdue": 0, "due_soon": 0}
    for _ in range(6):
        counts = run_sweep(now=now, limit=3)
        assert counts["overdue"] <= 3 and counts["due_soon"] <= 3
        sent["overdue"] += counts["overdue"]
        sent["due_soon"] += counts["due_soon"]
    assert sent == {"overdue": 7, "due_soon": 5}
    assert run_sweep(now=now) == {k: 0 for k in run_sweep(now=now)}
    events = dict(CaseEvent.objects.filter(kind="overdue").values_list("case").annotate(n=Count("id")))
    assert events == {c.pk: 1 for c in overdue}
    events = dict(CaseEvent.objects.filter(kind="due_soon").values_list("case").annotate(n=Count("id")))
    assert events == {c.pk: 1 for c in soon}
    per_pair = Notification.objects.filter(kind__in=["overdue", "due_soon"]).values("case", "user", "kind").annotate(
        n=Count("id"))
    assert per_pair and all(row["n"] == 1 for row in per_pair)
    # a case re-armed (its deadline moved after a warning) is warned again, once
    Case.objects.filter(pk=overdue[0].pk).update(overdue_warned_at=None)
    assert run_sweep(now=now)["overdue"] == 1
    assert run_sweep(now=now)["overdue"] == 0


def test_the_batch_finds_the_same_recipients_as_the_case_by_case_functions(cw):
    from gongzhi.cases import notifications as notify
    from gongzhi.cases.notification_batch import Batch

    at_housing = [_county_case_at_housing(cw, title=f"危房{i}") for i in range(3)]
    complaint = register(cw, by="county_dispatcher", code="complaint-service-quality", grid=None, region="A1",
                         channel="hotline", complained_department=cw.housing)
    village = register(cw)
    village = services.case_accept(actor=cw.user("village_secretary_a1"), case=village)
    village = services.case_assign(actor=cw.user("village_secretary_a1"), case=village, region=cw.regions["A1"])
    cases = list(Case.objects.filter(pk__in=[c.pk for c in [*at_housing, complaint, village]]))
    batch = Batch(cases)
    batch.prefetch("cases.handle_case", units=True)
    batch.prefetch("cases.dispatch_case", regions={r for c in cases for r in (c.village_id, c.town_id, c.county_id)})
    for case in cases:
        if case.assignee:
            assert batch.unit_users(case) == notify.unit_user_ids(case)
        for perm in ("cases.dispatch_case", "cases.supervise_case"):
            for region in (case.village_id, case.town_id, case.county_id):
                assert batch.territory_users(case, perm, region) == notify.territory_user_ids(
                    case, perm, regions=[region])
        assert batch.conflicted(case) == notify.conflicted_user_ids(case)
    assert cw.user("housing_handler").pk in batch.conflicted(complaint)
    assert batch.unit_users(at_housing[0]) and batch.unit_users(village)
