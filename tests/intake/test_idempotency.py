"""Idempotent submission under races: threads on PostgreSQL, over the service and over HTTP."""
from __future__ import annotations

import urllib.parse
import urllib.request

import pytest
from django.db import connection

from gongzhi.cases.choices import Channel
from gongzhi.cases.models import Case, CaseEvent
from gongzhi.intake import services
from gongzhi.intake.channel import intake_actor
from gongzhi.intake.idempotency import KeyReused
from gongzhi.intake.models import IdempotencyKey, IntakeSubmission

from .conftest import race as _race

pytestmark = pytest.mark.django_db(transaction=True)


def _input(iw, text="村口路灯坏了"):
    return services.IntakeInput(description=text, region=iw.regions["A1"])


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the race needs a real concurrent database")
def test_concurrent_duplicates_make_one_case_and_get_the_same_answer(iw):
    actor = intake_actor(territory=iw.regions["A1"])

    def submit(i):
        result = services.intake_submit(actor=actor, channel=Channel.WEB, data=_input(iw), scope="web",
                                        key="race-key-000001",
                                        answer=lambda case, sub: {"tracking_code": case.tracking_code})
        return result.response, result.replayed

    results, errors = _race(8, submit)
    assert not errors, errors
    assert len({r[0]["tracking_code"] for r in results}) == 1
    assert sum(1 for r in results if not r[1]) == 1  # exactly one did the work
    assert Case.objects.count() == 1 and IdempotencyKey.objects.count() == 1
    assert CaseEvent.objects.filter(kind="register").count() == 1 and IntakeSubmission.objects.count() == 1


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the race needs a real concurrent database")
def test_a_failed_first_attempt_does_not_take_the_key(iw):
    actor = intake_actor(territory=iw.regions["A1"])
    bad = services.IntakeInput(description="", region=iw.regions["A1"])
    with pytest.raises(Exception):
        services.intake_submit(actor=actor, channel=Channel.WEB, data=bad, scope="web", key="retry-after-error")
    assert not IdempotencyKey.objects.exists() and not Case.objects.exists()
    result = services.intake_submit(actor=actor, channel=Channel.WEB, data=_input(iw), scope="web",
                                    key="retry-after-error")
    assert not result.replayed and Case.objects.count() == 1


def test_keys_are_scoped_per_channel_and_client(iw):
    actor = intake_actor(territory=iw.regions["A1"])
    a = services.intake_submit(actor=actor, channel=Channel.WEB, data=_input(iw), scope="web", key="same-key-0001")
    b = services.intake_submit(actor=actor, channel=Channel.OPEN311, data=_input(iw), scope="open311:anon",
                               key="same-key-0001")
    assert a.case != b.case and Case.objects.count() == 2
    with pytest.raises(KeyReused):
        services.intake_submit(actor=actor, channel=Channel.WEB, data=_input(iw, "别的事"), scope="web",
                               key="same-key-0001")


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the race needs a real concurrent database")
def test_concurrent_http_retries_make_one_case(live_server, iw):
    body = urllib.parse.urlencode({"service_code": "demand-small-matter", "address_string": "五一村",
                                   "description": "并发重试"}).encode()

    def send(i):
        request = urllib.request.Request(f"{live_server.url}/open311/v2/requests.json", data=body,
                                         headers={"Idempotency-Key": "http-race-0001"})
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.read()

    results, errors = _race(6, send)
    assert not errors, errors
    assert {status for status, _ in results} == {201}
    assert len({payload for _, payload in results}) == 1
    assert Case.objects.count() == 1


def test_old_keys_are_purged_and_cases_stay(iw):
    import datetime as dt

    from django.core.management import call_command
    from django.utils import timezone

    services.intake_submit(actor=intake_actor(territory=iw.regions["A1"]), channel=Channel.WEB, data=_input(iw), scope="web", key="old-key-0001")
    IdempotencyKey.objects.update(created_at=timezone.now() - dt.timedelta(days=40))
    call_command("purge_intake_keys", "--days", "30")
    assert not IdempotencyKey.objects.exists() and Case.objects.count() == 1
