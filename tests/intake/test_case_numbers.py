"""Case numbers off the hot path (issue 10): gapless and unique per year under real concurrent
registrations, on PostgreSQL with one connection per thread (see gongzhi/cases/numbering.py)."""
from __future__ import annotations

import datetime as dt
import threading
from zoneinfo import ZoneInfo

import pytest
from django.db import connections, transaction

from gongzhi.cases import services as case_services
from gongzhi.cases.choices import Channel
from gongzhi.cases.models import PENDING_NUMBER, Case, CaseNumberSequence, Notification, format_case_number
from gongzhi.cases.numbering import number_pending, number_pending_task
from gongzhi.core.models import AuditLog
from gongzhi.intake import services
from gongzhi.intake.channel import intake_actor
from gongzhi.intake.idempotency import claim_key, fingerprint

from .conftest import category

pytestmark = pytest.mark.django_db(transaction=True)
SHANGHAI = ZoneInfo("Asia/Shanghai")


def _input(iw, text):
    return services.IntakeInput(description=text, region=iw.regions["A1"], category=category("demand-small-matter"))


def _in_threads(n, work):
    barrier = threading.Barrier(n)
    errors: list[Exception] = []

    def run(i):
        try:
            barrier.wait(timeout=20)
            work(i)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors


def _assert_gapless(year: int, expected: int) -> None:
    numbers = list(Case.objects.values_list("number", flat=True))
    assert None not in numbers
    assert len(numbers) == expected
    assert sorted(numbers) == [format_case_number(year, n) for n in range(1, expected + 1)]
    assert CaseNumberSequence.objects.get(year=year).last == expected


def test_numbers_stay_gapless_and_unique_under_concurrent_registrations(iw):
    """Eight clients at once through the intake channel (numbered after commit), two staff-style
    callers numbering inside their own transaction, and some submissions that fail after the
    case row was written (rolled back: they must take no number)."""
    actor, staff = intake_actor(territory=iw.regions["A1"]), iw.user("county_dispatcher")
    told: dict[int, str] = {}
    lock = threading.Lock()

    def intake_client(i):
        for j in range(12):
            def answer(case, sub):
                if j % 5 == 4:
                    raise RuntimeError("the answer cannot be built: everything rolls back")
                return {"number": case.number, "tracking_code": case.tracking_code}
            try:
                result = services.intake_submit(actor=actor, channel=Channel.WEB, data=_input(iw, f"路灯坏了 {i}-{j}"),
                                                scope="web", key=f"numbers-{i:02d}-{j:03d}", answer=answer)
            except RuntimeError:
                continue
            with lock:
                told[result.case.pk] = result.response["number"]

    def staff_client(i):
        for j in range(6):
            case = case_services.case_register(
                actor=staff, category=category("demand-small-matter"), title=f"来电 {i}-{j}", description="水管爆了",
                channel=Channel.HOTLINE, region=iw.regions["A1"])
            with lock:
                told[case.pk] = case.number

    _in_threads(10, lambda i: intake_client(i) if i < 8 else staff_client(i))
    year = dt.datetime.now(SHANGHAI).year
    expected = 8 * (12 - 2) + 2 * 6
    _assert_gapless(year, expected)
    assert {c.pk: c.number for c in Case.objects.all()} == told  # each was told its own number
    assert not Notification.objects.filter(text__contains=PENDING_NUMBER).exists()
    assert Notification.objects.filter(kind="registered").exists()
    numbered = AuditLog.objects.filter(object_type="cases.case", note="编号（number）")
    assert sorted(numbered.values_list("object_id", flat=True)) == sorted(str(pk) for pk in told)
    assert all(row.after["number"] == told[int(row.object_id)] for row in numbered)


def test_concurrent_batches_never_double_a_number(iw):
    """Cases committed without a number by many processes, then numbered by many batches racing."""
    actor = intake_actor(territory=iw.regions["A1"])
    with transaction.atomic():
        for j in range(30):
            case_services.case_register(actor=actor, category=category("demand-small-matter"), title=f"件 {j}",
                                        description="积水", channel=Channel.WEB, region=iw.regions["A1"],
                                        number_after_commit=True)
    assert Case.objects.filter(number__isnull=True).count() == 30
    _in_threads(6, lambda i: number_pending())
    _assert_gapless(dt.datetime.now(SHANGHAI).year, 30)
    ids = list(Case.objects.order_by("pk").values_list("pk", flat=True))
    assert [Case.objects.get(pk=pk).number for pk in ids] == sorted(Case.objects.values_list("number", flat=True))


def test_a_case_whose_process_died_before_numbering_is_numbered_by_the_catch_up(iw):
    actor = intake_actor(territory=iw.regions["A1"])
    with transaction.atomic():  # the registration's transaction commits; the process "dies" here
        case = case_services.case_register(actor=actor, category=category("demand-small-matter"), title="夜里停电",
                                           description="停电", channel=Channel.WEB, region=iw.regions["A1"],
                                           number_after_commit=True)
    case.refresh_from_db()
    assert case.number is None
    assert Notification.objects.filter(case=case, text__contains=PENDING_NUMBER).exists()
    number_pending_task()
    case.refresh_from_db()
    year = dt.datetime.now(SHANGHAI).year
    assert case.number == format_case_number(year, 1)
    assert not Notification.objects.filter(text__contains=PENDING_NUMBER).exists()
    assert Notification.objects.filter(case=case, text__contains=case.number).exists()


def test_a_replay_of_an_unnumbered_submission_gets_the_number(iw):
    actor = intake_actor(territory=iw.regions["A1"])
    answer = lambda case, sub: {"number": case.number}  # noqa: E731
    data = _input(iw, "井盖丢了")
    with transaction.atomic():  # first attempt: committed with its key, but its process died before numbering
        claim = claim_key(scope="web", key="replay-after-death",
                          fingerprint=fingerprint({"channel": Channel.WEB, **data.fingerprint_data()}))
        case, response = services.intake_register(actor=actor, channel=Channel.WEB, data=data, client=None,
                                                  answer=answer)
        claim.store(case=case, response=response)
    assert Case.objects.get().number is None
    assert response == {"number": PENDING_NUMBER}
    case_services.case_register(actor=actor, category=category("demand-small-matter"), title="另一件",
                                description="另一件", channel=Channel.WEB, region=iw.regions["A1"],
                                number_after_commit=True)  # committed after it, also unnumbered
    first = services.intake_submit(actor=actor, channel=Channel.WEB, data=_input(iw, "井盖丢了"), scope="web",
                                   key="replay-after-death", answer=answer)
    again = services.intake_submit(actor=actor, channel=Channel.WEB, data=_input(iw, "井盖丢了"), scope="web",
                                   key="replay-after-death", answer=answer)
    assert first.replayed and again.replayed and again.response == first.response
    year = dt.datetime.now(SHANGHAI).year
    assert first.case.pk == case.pk and first.response == {"number": format_case_number(year, 1)}
    assert Case.objects.filter(number__isnull=True).count() == 0  # the batch numbered the other one too
    _assert_gapless(year, 2)


def test_numbers_run_per_year_in_local_time(iw):
    actor = intake_actor(territory=iw.regions["A1"])
    new_year_eve = dt.datetime(2025, 12, 31, 23, 59, tzinfo=SHANGHAI)  # 15:59 UTC: 2025 both ways
    new_year = dt.datetime(2026, 1, 1, 0, 1, tzinfo=SHANGHAI)  # 16:01 UTC on 31 December 2025: local 2026
    with transaction.atomic():
        for at in (new_year_eve, new_year, new_year_eve):
            case_services.case_register(actor=actor, category=category("demand-small-matter"), title="跨年",
                                        description="鞭炮", channel=Channel.WEB, region=iw.regions["A1"],
                                        received_at=at, number_after_commit=True)
    number_pending()
    by_time = list(Case.objects.order_by("pk").values_list("number", flat=True))
    assert by_time == ["GZ-2025-000001", "GZ-2026-000001", "GZ-2025-000002"]
    assert dict(CaseNumberSequence.objects.values_list("year", "last")) == {2025: 2, 2026: 1}


def test_a_number_once_given_never_changes(iw):
    actor = intake_actor(territory=iw.regions["A1"])
    case = case_services.case_register(actor=actor, category=category("demand-small-matter"), title="桥坏了",
                                       description="桥", channel=Channel.WEB, region=iw.regions["A1"])
    stale = Case.objects.get(pk=case.pk)
    stale.number = None  # as an object loaded before numbering and saved afterwards would be
    stale.save()
    case.refresh_from_db()
    assert case.number == format_case_number(dt.datetime.now(SHANGHAI).year, 1)
