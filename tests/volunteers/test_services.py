"""The volunteer services: certification decides who may serve, hours are bounded and confirmed by
staff, points are earned once and the ledger balances; refused steps save nothing."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils import timezone

from gongzhi.core.models import AuditLog
from gongzhi.volunteers import selectors, services
from gongzhi.volunteers.models import (
    AccountKind, Certification, PointsAccount, PointsPosting, PointsTransaction, SignUp, SignUpStatus, Volunteer,
)

from .conftest import earn, make_task, served

TODAY = timezone.localdate


def _message(exc) -> str:
    return " ".join(m for ms in exc.value.message_dict.values() for m in ms)


def test_a_certified_legal_volunteer_serves_a_consultation_an_uncertified_one_is_refused(corps):
    task = make_task(corps, corps.legal, title="法律咨询进村")
    ok = services.signup_create(actor=corps.secretary, task=task, volunteer=corps.lawyer)
    refused = services.signup_create(actor=corps.secretary, task=task, volunteer=corps.plain)
    assert services.signup_assign(actor=corps.secretary, signup=ok).status == SignUpStatus.ASSIGNED
    with pytest.raises(ValidationError) as exc:
        services.signup_assign(actor=corps.secretary, signup=refused)
    message = _message(exc)
    assert "法律咨询" in message and "法律中级及以上资质" in message and "李秀英没有法律资质" in message
    assert SignUp.objects.get(pk=refused.pk).status == SignUpStatus.SIGNED_UP  # nothing changed
    services.signup_refuse(actor=corps.secretary, signup=refused, reason=message)
    refused.refresh_from_db()
    assert refused.status == SignUpStatus.REFUSED and "法律资质" in refused.closed_reason
    assert AuditLog.objects.filter(object_type="volunteers.signup", object_id=str(refused.pk),
                                   note__startswith="未安排").exists()


def test_the_rule_is_in_the_service_not_the_page_assign_at_signup_is_checked_too(corps):
    task = make_task(corps, corps.legal)
    with pytest.raises(ValidationError, match="没有法律资质"):
        services.signup_create(actor=corps.secretary, task=task, volunteer=corps.plain, assign=True)
    assert not SignUp.objects.filter(task=task).exists()  # the sign-up rolled back with the refusal


def test_a_lower_level_an_expired_or_a_revoked_certificate_does_not_qualify(corps):
    cs = corps.world.user("county_secretary")
    today = TODAY()
    services.certification_grant(actor=cs, volunteer=corps.plain, field="legal", level=1, certifying_body="县司法局",
                                 certified_on=today - dt.timedelta(days=10), expires_on=today + dt.timedelta(days=100))
    task = make_task(corps, corps.legal)
    s = services.signup_create(actor=corps.secretary, task=task, volunteer=corps.plain)
    with pytest.raises(ValidationError, match="初级，等级不够"):
        services.signup_assign(actor=corps.secretary, signup=s)
    # a certificate valid today but expired by the task's date
    cert = Certification.objects.get(volunteer=corps.lawyer)
    later = make_task(corps, corps.legal, hours_from_now=24 * 700)
    s2 = services.signup_create(actor=corps.secretary, task=later, volunteer=corps.lawyer)
    with pytest.raises(ValidationError, match="过期"):
        services.signup_assign(actor=corps.secretary, signup=s2)
    services.certification_revoke(actor=cs, certification=cert, reason="吊销执业证")
    s3 = services.signup_create(actor=corps.secretary, task=make_task(corps, corps.legal), volunteer=corps.lawyer)
    with pytest.raises(ValidationError, match="撤销"):
        services.signup_assign(actor=corps.secretary, signup=s3)


def test_an_expired_certificate_cannot_be_recorded(corps):
    cs = corps.world.user("county_secretary")
    today = TODAY()
    with pytest.raises(ValidationError) as exc:
        services.certification_grant(actor=cs, volunteer=corps.plain, field="medical", level=2, certifying_body="县卫健局",
                                     certified_on=today - dt.timedelta(days=800), expires_on=today - dt.timedelta(days=1))
    assert "已于" in _message(exc) and "过期" in _message(exc)
    with pytest.raises(ValidationError, match="有效期应晚于发证日期"):
        services.certification_grant(actor=cs, volunteer=corps.plain, field="medical", level=2, certifying_body="县卫健局",
                                     certified_on=today - dt.timedelta(days=5), expires_on=today - dt.timedelta(days=6))
    assert not Certification.objects.filter(volunteer=corps.plain).exists()


def test_a_certificate_revoked_after_the_assignment_stops_the_check_in(corps):
    task = make_task(corps, corps.legal)
    s = services.signup_create(actor=corps.secretary, task=task, volunteer=corps.lawyer, assign=True)
    services.certification_revoke(actor=corps.world.user("county_secretary"),
                                  certification=corps.lawyer.certifications.get(), reason="证书核查不实")
    with pytest.raises(ValidationError, match="撤销"):
        services.signup_check_in(actor=corps.secretary, signup=s, at=task.starts_at)


def test_hours_are_bounded_by_the_session_and_the_kind_and_confirming_earns_once(corps):
    task = make_task(corps, corps.legal, length=4)  # 法律咨询: at most 3 hours a session, 20 points an hour
    s = served(corps, corps.lawyer, task, hours_out=2)
    assert s.hours_claimed == Decimal("2.0")
    with pytest.raises(ValidationError, match="不能超过签到到签退的2.0小时"):
        services.signup_confirm_hours(actor=corps.worker, signup=s, hours="2.5")
    with pytest.raises(ValidationError, match="大于0"):
        services.signup_confirm_hours(actor=corps.worker, signup=s, hours="-1")
    with pytest.raises(ValidationError, match="0.1小时"):
        services.signup_confirm_hours(actor=corps.worker, signup=s, hours="1.25")
    s = services.signup_confirm_hours(actor=corps.worker, signup=s, hours="1.5")
    assert (s.status, s.hours_confirmed, s.points_earned) == (SignUpStatus.CONFIRMED, Decimal("1.5"), 30)
    with pytest.raises(ValidationError):
        services.signup_confirm_hours(actor=corps.worker, signup=s)
    assert PointsTransaction.objects.filter(signup=s).count() == 1
    long_task = make_task(corps, corps.legal, length=6, hours_from_now=-5)
    long = served(corps, corps.lawyer, long_task, hours_out=4.5)
    assert long.hours_claimed == Decimal("3")  # capped at the kind's longest session
    with pytest.raises(ValidationError, match="最多计3.0小时"):
        services.signup_confirm_hours(actor=corps.worker, signup=long, hours="3.5")


def test_nobody_confirms_their_own_hours(corps, world):
    from gongzhi.accounts.models import Role, RoleAssignment

    # 刘桂兰 also works as a grid worker: she still cannot confirm her own hours.
    me = world.user("volunteer_a1")
    RoleAssignment.objects.create(user=me, role=Role.objects.get(code="grid_worker"), grid=world.grids["A1-1"])
    s = served(corps, corps.self_, make_task(corps))
    with pytest.raises(PermissionDenied, match="自己"):
        services.signup_confirm_hours(actor=world.user("volunteer_a1"), signup=s)


def test_steps_out_of_order_are_refused_in_chinese(corps):
    task = make_task(corps)
    s = services.signup_create(actor=corps.secretary, task=task, volunteer=corps.plain)
    with pytest.raises(ValidationError, match="只有已安排的志愿者才能签到"):
        services.signup_check_in(actor=corps.secretary, signup=s)
    with pytest.raises(ValidationError, match="已报名"):
        services.signup_create(actor=corps.secretary, task=task, volunteer=corps.plain)
    services.signup_assign(actor=corps.secretary, signup=s)
    with pytest.raises(ValidationError, match="尚未签到"):
        services.signup_check_out(actor=corps.secretary, signup=s)
    with pytest.raises(ValidationError, match="签退后才能确认"):
        services.signup_confirm_hours(actor=corps.worker, signup=s, hours=1)


def test_a_full_task_refuses_one_more(corps):
    task = make_task(corps, slots=1)
    services.signup_create(actor=corps.secretary, task=task, volunteer=corps.plain, assign=True)
    second = services.signup_create(actor=corps.secretary, task=task, volunteer=corps.self_)
    with pytest.raises(ValidationError, match="名额已满"):
        services.signup_assign(actor=corps.secretary, signup=second)


def test_a_volunteer_signs_up_for_themself_only(corps, world):
    me = world.user("volunteer_a1")
    task = make_task(corps)
    s = services.signup_create(actor=me, task=task, volunteer=corps.self_)
    assert s.signed_up_by == me
    with pytest.raises(Http404):
        services.signup_create(actor=me, task=task, volunteer=corps.plain)
    with pytest.raises(PermissionDenied):
        services.signup_assign(actor=me, signup=s)


def test_outsiders_reach_nothing(corps, world):
    out = world.user("outsider_b")
    with pytest.raises(Http404):
        services.task_create(actor=out, kind=corps.cleanup, title="越界", region=corps.village, place="x",
                             starts_at=timezone.now(), ends_at=timezone.now() + dt.timedelta(hours=1))
    with pytest.raises(PermissionDenied):
        services.points_correct(actor=world.user("town_secretary_a"), volunteer=corps.lawyer, amount=5, reason="x")


def test_points_are_earned_redeemed_and_audited_with_the_ledger_balanced(corps, world):
    cs = world.user("county_secretary")
    s = earn(corps, corps.lawyer, hours=3, task=make_task(corps, corps.legal))
    assert s.points_earned == 60
    item = services.catalogue_item_save(actor=cs, county=corps.county, name="理发一次", provider="五一村理发店",
                                        points_cost=25, stock=3, kind="service")
    r = services.redemption_create(actor=corps.secretary, volunteer=corps.lawyer, item=item, quantity=2)
    assert r.points == 50 and selectors.facts_of(corps.lawyer).balance == 10
    item.refresh_from_db()
    assert item.stock == 1
    # more than held, more than in stock, a negative quantity: clear errors, nothing saved
    before = (PointsTransaction.objects.count(), PointsPosting.objects.count())
    with pytest.raises(ValidationError, match="积分不足：现有10分，需要25分"):
        services.redemption_create(actor=corps.secretary, volunteer=corps.lawyer, item=item, quantity=1)
    with pytest.raises(ValidationError, match="库存不足"):
        services.redemption_create(actor=corps.secretary, volunteer=corps.lawyer, item=item, quantity=2)
    with pytest.raises(ValidationError, match="正整数"):
        services.redemption_create(actor=corps.secretary, volunteer=corps.lawyer, item=item, quantity=-1)
    assert (PointsTransaction.objects.count(), PointsPosting.objects.count()) == before
    item.refresh_from_db()
    assert item.stock == 1 and selectors.facts_of(corps.lawyer).balance == 10
    # cancelling refunds by a compensating transaction; the redeem transaction stays
    services.redemption_cancel(actor=corps.secretary, redemption=r, reason="理发店歇业")
    item.refresh_from_db()
    assert item.stock == 3 and selectors.facts_of(corps.lawyer).balance == 60
    kinds = list(PointsTransaction.objects.filter(volunteer=corps.lawyer).order_by("pk").values_list("kind", flat=True))
    assert kinds == ["earn", "redeem", "refund"]
    totals = selectors.ledger_totals(user=cs)
    assert totals == {"issued": 60, "redeemed": 0, "expired": 0, "corrected": 0, "held": 60, "balanced": True}
    audited = AuditLog.objects.filter(object_type="volunteers.pointstransaction").values_list("note", flat=True)
    assert len(audited) == 3 and any("兑换" in n for n in audited)


def test_corrections_are_county_only_need_a_reason_and_cannot_overdraw(corps, world):
    cs = world.user("county_secretary")
    earn(corps, corps.plain, hours=2)  # 环境整治: 20 points
    with pytest.raises(ValidationError, match="原因"):
        services.points_correct(actor=cs, volunteer=corps.plain, amount=5, reason=" ")
    with pytest.raises(ValidationError, match="积分不足"):
        services.points_correct(actor=cs, volunteer=corps.plain, amount=-21, reason="重复计分")
    with pytest.raises(ValidationError, match="非零整数"):
        services.points_correct(actor=cs, volunteer=corps.plain, amount=0, reason="无")
    txn = services.points_correct(actor=cs, volunteer=corps.plain, amount=-5, reason="签退时间多记了半小时")
    assert txn.kind == "correct" and txn.reason.startswith("签退")
    assert PointsAccount.objects.get(volunteer=corps.plain).balance == 15
    assert selectors.ledger_totals(user=cs)["corrected"] == -5


def test_the_yearly_cap_limits_what_is_earned(corps, world):
    services.points_settings_save(actor=world.user("county_secretary"), county=corps.county, expiry_months=24,
                                  yearly_cap=25)
    first = earn(corps, corps.plain, hours=2)
    second = earn(corps, corps.plain, hours=2)
    assert (first.points_earned, second.points_earned) == (20, 5)
    third = earn(corps, corps.plain, hours=1)
    assert third.points_earned == 0 and third.status == SignUpStatus.CONFIRMED
    assert PointsAccount.objects.get(volunteer=corps.plain).balance == 25


def test_expiry_is_fifo_and_safe_to_run_twice(corps, world):
    from gongzhi.volunteers.sweeps import sweep_expiry

    cs = world.user("county_secretary")
    services.points_settings_save(actor=cs, county=corps.county, expiry_months=12, yearly_cap=0)
    earn(corps, corps.plain, hours=3)  # 30 points, now
    item = services.catalogue_item_save(actor=cs, county=corps.county, name="洗衣液", provider="村超市", points_cost=10,
                                        stock=10)
    services.redemption_create(actor=corps.secretary, volunteer=corps.plain, item=item, quantity=1)  # spends 10
    later = timezone.now() + dt.timedelta(days=400)
    services.points_correct(actor=cs, volunteer=corps.plain, amount=7, reason="补记去年的一次服务")
    # 13 months on: the 20 unspent of the old 30 expire; the new 7 would not (it is dated now, but was
    # given before the cutoff here too, so expiry is computed from the ledger: 30 + 7 - 10 = 27).
    assert sweep_expiry(now=later) == 27
    assert sweep_expiry(now=later) == 0
    account = PointsAccount.objects.get(volunteer=corps.plain)
    assert account.balance == 0
    assert selectors.ledger_totals(user=cs) == {"issued": 30, "redeemed": 10, "expired": 27, "corrected": 7,
                                                "held": 0, "balanced": True}


def test_expiry_leaves_points_earned_after_the_cutoff(corps, world):
    from gongzhi.volunteers.sweeps import sweep_expiry

    earn(corps, corps.plain, hours=3)  # 30 points now
    # six months later, nothing is older than the default 24 months
    assert sweep_expiry(now=timezone.now() + dt.timedelta(days=180)) == 0
    assert PointsAccount.objects.get(volunteer=corps.plain).balance == 30


def test_registering_checks_the_person_and_opens_an_account(corps, world):
    vs = corps.secretary
    with pytest.raises(ValidationError, match="已是志愿者"):
        services.volunteer_register(actor=vs, person=world.persons["A1-1"], category="community")
    with pytest.raises(Http404):  # a person of town B is not in the village's registry scope
        services.volunteer_register(actor=vs, person=world.persons["B1"], category="community")
    assert PointsAccount.objects.filter(kind=AccountKind.VOLUNTEER, volunteer__in=Volunteer.objects.all()).count() == 3


def test_a_task_for_a_residents_case_names_the_case_by_number(corps, world):
    from tests.permission_matrix.intake import _case

    case = _case(world)
    start = timezone.now() + dt.timedelta(days=1)
    task = services.task_create(actor=world.user("town_secretary_a"), kind=corps.legal, title="调解咨询",
                                region=world.regions["A1"], place="村调解室", starts_at=start,
                                ends_at=start + dt.timedelta(hours=2), case=case)
    assert task.case_id == case.pk
