"""The fast track (快速通道): a pairing's requests for a venue, funds or people, decided within a
time limit counted in working days on the Chinese calendar (``core.workdays``); decided once, and
never by whoever asked — two deciders at the same moment: exactly one wins (real PostgreSQL)."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.http import Http404

from gongzhi.core.models import AuditLog
from gongzhi.core.workdays import add_working_days, is_calendar_known
from gongzhi.linking import services
from gongzhi.linking.models import ApprovalRequest, ApprovalStatus
from tests.intake.conftest import race

from .conftest import make_pairing
from .helpers import notices, project, second_pairing

SHANGHAI = ZoneInfo("Asia/Shanghai")


def _request(linked, actor=None, **fields):
    values = dict(kind="venue", title="借用机关会议室", detail="周五下午两小时，村民代表培训，约40人")
    values.update(fields)
    return services.approval_request(actor=actor or linked.lead, pairing=linked.pairing, **values)


def _at(monkeypatch, when: dt.datetime) -> None:
    monkeypatch.setattr(services, "_now", lambda: when)


@pytest.mark.django_db
def test_deadlines_are_counted_in_working_days(linked, monkeypatch):
    # Friday 7 March 2025, 10:00: three working days skip the weekend → Wednesday 10:00; the county
    # hears two working days after that → Friday 10:00.
    friday = dt.datetime(2025, 3, 7, 10, 0, tzinfo=SHANGHAI)
    _at(monkeypatch, friday)
    request = _request(linked)
    assert request.requested_at == friday and request.status == ApprovalStatus.PENDING
    assert request.due_at == add_working_days(friday, 3) == dt.datetime(2025, 3, 12, 10, 0, tzinfo=SHANGHAI)
    assert request.county_due_at == add_working_days(request.due_at, 2) == dt.datetime(2025, 3, 14, 10, 0,
                                                                                    tzinfo=SHANGHAI)


@pytest.mark.django_db
def test_deadlines_follow_the_holiday_table(linked, monkeypatch):
    if not is_calendar_known(dt.date(2025, 10, 1)):
        pytest.fail("the 2025 holiday table should be seeded by core's migration")
    # Tuesday 30 September 2025: the National Day and Mid-Autumn holidays run 1–8 October, and
    # Saturday 11 October is a make-up working day (调休上班).
    _at(monkeypatch, dt.datetime(2025, 9, 30, 10, 0, tzinfo=SHANGHAI))
    request = _request(linked)
    assert request.due_at == dt.datetime(2025, 10, 11, 10, 0, tzinfo=SHANGHAI)
    assert request.county_due_at == dt.datetime(2025, 10, 14, 10, 0, tzinfo=SHANGHAI)


@pytest.mark.django_db
def test_the_countys_time_limits_apply(linked, monkeypatch):
    services.linking_settings_save(actor=linked.world.user("county_secretary"), county=linked.world.regions["C"],
                                   approval_working_days=5, escalate_working_days=1)
    monday = dt.datetime(2025, 3, 3, 9, 30, tzinfo=SHANGHAI)
    _at(monkeypatch, monday)
    request = _request(linked)
    assert request.due_at == dt.datetime(2025, 3, 10, 9, 30, tzinfo=SHANGHAI)
    assert request.county_due_at == dt.datetime(2025, 3, 11, 9, 30, tzinfo=SHANGHAI)
    with pytest.raises(ValidationError):
        services.linking_settings_save(actor=linked.world.user("county_secretary"), county=linked.world.regions["C"],
                                       approval_working_days=0)
    with pytest.raises(ValidationError):
        services.linking_settings_save(actor=linked.world.user("county_secretary"), county=linked.world.regions["A"],
                                       approval_working_days=4)
    with pytest.raises(PermissionDenied):
        services.linking_settings_save(actor=linked.town, county=linked.world.regions["C"], approval_working_days=4)


@pytest.mark.django_db
def test_request_tells_the_towns_deciders_and_is_validated(linked):
    request = _request(linked, kind="funds", amount="3000.50", title="老年食堂启动资金", detail="购置炊具和餐桌")
    assert request.amount == Decimal("3000.50") and request.requested_by == linked.lead
    texts = notices("town_secretary_a", "linking_approval")
    assert len(texts) == 1 and "老年食堂启动资金" in texts[0]
    assert not notices("county_secretary", "linking_approval")  # the county hears only when it escalates
    cases = [({"kind": "funds"}, "amount"), ({"kind": "funds", "amount": "很多"}, "amount"),
             ({"amount": "-5"}, "amount"), ({"kind": "favour"}, "kind"), ({"title": ""}, "title"),
             ({"detail": ""}, "detail")]
    for fields, key in cases:
        with pytest.raises(ValidationError) as exc:
            _request(linked, **fields)
        assert key in exc.value.message_dict, fields
    other = second_pairing(linked)
    with pytest.raises(ValidationError):
        _request(linked, project=_foreign_project(other))
    with pytest.raises(PermissionDenied):
        _request(linked, actor=linked.world.user("department_handler"))
    assert ApprovalRequest.objects.count() == 1


def _foreign_project(other):
    from .helpers import need, resource

    return project(other, res=resource(other, actor=other.world.user("town_secretary_a"), kind="volunteers",
                                       name="中学志愿者"), item=need(other, kind="volunteers", title="课后托管"))


@pytest.mark.django_db
def test_a_draft_pairing_has_no_fast_track(world):
    linked = make_pairing(world, sign=False)
    with pytest.raises(ValidationError) as exc:
        _request(linked)
    assert "pairing" in exc.value.message_dict


@pytest.mark.django_db
def test_decide_once(linked):
    request = _request(linked)
    decided = services.approval_decide(actor=linked.town, approval=request, approve=True, note="同意")
    assert decided.status == ApprovalStatus.APPROVED and decided.decided_by == linked.town
    for username in ("agency_liaison", "village_secretary_a1"):
        texts = notices(username, "linking_approval_decided")
        assert len(texts) == 1 and "已超时" not in texts[0]
    with pytest.raises(ValidationError) as exc:
        services.approval_decide(actor=linked.world.user("county_secretary"), approval=request, approve=False,
                                 note="不同意")
    text = exc.value.message_dict["__all__"][0]
    assert "城关镇书记" in text and "不能重复审批" in text
    request.refresh_from_db()
    assert request.status == ApprovalStatus.APPROVED and request.decided_by == linked.town
    assert AuditLog.objects.filter(object_type="linking.approvalrequest", object_id=str(request.pk),
                                   action="update").count() == 1


@pytest.mark.django_db
def test_the_requester_cannot_decide_their_own_request(linked):
    # the town oversees the pairing and may ask for a side; it may not then approve its own request
    own = _request(linked, actor=linked.town, title="镇里借用会议室")
    with pytest.raises(PermissionDenied):
        services.approval_decide(actor=linked.town, approval=own, approve=True)
    own.refresh_from_db()
    assert own.status == ApprovalStatus.PENDING
    assert services.approval_decide(actor=linked.world.user("county_secretary"), approval=own,
                                    approve=True).status == ApprovalStatus.APPROVED


@pytest.mark.django_db
def test_who_may_decide_and_a_refusal_needs_its_reason(linked):
    request = _request(linked)
    with pytest.raises(PermissionDenied):  # a liaison asks, the town decides
        services.approval_decide(actor=linked.partner, approval=request, approve=True)
    with pytest.raises(Http404):
        services.approval_decide(actor=linked.world.user("outsider_b"), approval=request, approve=True)
    with pytest.raises(ValidationError) as exc:
        services.approval_decide(actor=linked.town, approval=request, approve=False, note=" ")
    assert "note" in exc.value.message_dict
    request.refresh_from_db()
    assert request.status == ApprovalStatus.PENDING and request.decided_at is None
    refused = services.approval_decide(actor=linked.town, approval=request, approve=False, note="会议室当天已占用")
    assert refused.status == ApprovalStatus.REFUSED and refused.decision_note == "会议室当天已占用"


@pytest.mark.django_db
def test_a_late_decision_says_so(linked, monkeypatch):
    request = _request(linked)
    _at(monkeypatch, request.due_at + dt.timedelta(hours=1))
    services.approval_decide(actor=linked.town, approval=request, approve=True)
    assert "已超时" in notices("agency_liaison", "linking_approval_decided")[0]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL row locks and concurrent connections")
@pytest.mark.django_db(transaction=True)
def test_two_deciders_at_once_exactly_one_wins():
    from tests.world import build_world

    linked = make_pairing(build_world())
    request = _request(linked)
    deciders = [linked.world.user("town_secretary_a"), linked.world.user("county_secretary")]

    def decide(i):
        return services.approval_decide(actor=deciders[i], approval=ApprovalRequest(pk=request.pk), approve=i == 0,
                                        note=f"第{i}位审批人")

    results, errors = race(2, decide)
    assert len(errors) == 1 and isinstance(errors[0], ValidationError), errors
    assert "不能重复审批" in errors[0].message_dict["__all__"][0]
    winner = next(r for r in results if r is not None)
    request.refresh_from_db()
    assert request.decided_by_id == winner.decided_by_id
    assert request.status == (ApprovalStatus.APPROVED if winner.decided_by_id == deciders[0].pk
                              else ApprovalStatus.REFUSED)
    assert AuditLog.objects.filter(object_type="linking.approvalrequest", object_id=str(request.pk),
                                   action="update").count() == 1
    assert len(notices("agency_liaison", "linking_approval_decided")) == 1
