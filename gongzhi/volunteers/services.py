"""Every write of the volunteer module.

Each service takes a keyword-only ``actor``, runs in one transaction, loads what it changes through
the actor's scope (``access_object``: 403 when the permission is held nowhere, 404 when the row lies
outside the actor's scope), checks its rules with Chinese messages (``ValidationError``: the
transaction rolls back, nothing is half-saved) and writes its audit record.

The rules that matter most are here, not on the pages:
* a volunteer is assigned to a task only with a certification in the kind's field, at its level or
  above, valid on the task's date (``rules.certification_problem``); checking in checks it again;
* hours are confirmed by staff (never by the volunteer for themself), at most the session's span
  and the kind's longest session; confirming earns the points, once;
* points move only through ``_post``: a balanced set of postings, the accounts locked in id order,
  cached balances moved in the same transaction, a volunteer's balance never below zero.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Sum
from django.utils import timezone

from gongzhi.cases.models import Case
from gongzhi.core.audit import AuditAction, audit_record, snapshot
from gongzhi.core.scoping import access_object, holds_county, recheck_in_scope
from gongzhi.registry.models import Grid, Person, PersonStatus, Region, RegionLevel

from . import rules
from .models import (
    LIVE_SIGNUP, TAKING_A_SLOT, AccountKind, CatalogueItem, Certification, Field, ItemKind, Level, PointsAccount,
    PointsPosting, PointsSettings, PointsTransaction, Redemption, RedemptionStatus, ServiceKind, ServiceTask, SignUp,
    SignUpStatus, TaskStatus, TransactionKind, Volunteer, VolunteerCategory, VolunteerStatus,
)

MAX_POINTS = 10**6  # one correction, one redemption
MAX_QUANTITY = 100
CHECK_IN_EARLY = dt.timedelta(hours=1)
CHECK_OUT_LATE = dt.timedelta(hours=3)
LONGEST_TASK = dt.timedelta(hours=24)


def _now() -> dt.datetime:
    return timezone.now()


def _today() -> dt.date:
    return timezone.localdate()


def _text(value, field: str, message: str, *, limit: int) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationError({field: message})
    if len(value) > limit:
        raise ValidationError({field: f"不能超过{limit}个字"})
    return value


def _optional(value, field: str, limit: int) -> str:
    value = (value or "").strip()
    if len(value) > limit:
        raise ValidationError({field: f"不能超过{limit}个字"})
    return value


def _int(value, field: str, message: str, *, low: int, high: int) -> int:
    if isinstance(value, bool):
        raise ValidationError({field: message})
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        raise ValidationError({field: message}) from None
    if str(value).strip() not in (str(number), f"+{number}") or not low <= number <= high:
        raise ValidationError({field: message})
    return number


def _territory(obj, source) -> None:
    obj.county_id, obj.town_id, obj.village_id = source.county_id, source.town_id, source.village_id


def _audit_new(obj, actor, note: str = ""):
    audit_record(actor=actor, action=AuditAction.CREATE, obj=obj, after=snapshot(obj), note=note)
    return obj


def _audit_change(obj, before: dict, actor, note: str = "", action=AuditAction.UPDATE):
    audit_record(actor=actor, action=action, obj=obj, before=before, after=snapshot(obj), note=note)
    return obj


def _county(actor, county, perm: str) -> Region:
    county = access_object(Region.objects.all(), actor, perm, pk=getattr(county, "pk", county))
    if county.level != RegionLevel.COUNTY:
        raise ValidationError({"county": "这项规则按县设置"})
    if not holds_county(actor, perm, county.pk):
        raise PermissionDenied("这项规则由县级设置")
    return county


def settings_for(county_id: int | None) -> PointsSettings:
    """The county's points settings, or the defaults (an unsaved row)."""
    return PointsSettings.objects.filter(county_id=county_id).first() or PointsSettings(county_id=county_id)


# ---------------------------------------------------------------------------------------------
# the corps


@transaction.atomic
def volunteer_register(*, actor, person: Person, category: str, region: Region | None = None,
                       grid: Grid | None = None, joined_on: dt.date | None = None, skills: str = "") -> Volunteer:
    """A registry person joins the village's volunteer corps (with their points account)."""
    person = access_object(Person.objects.all(), actor, "registry.view_person", pk=getattr(person, "pk", person))
    if person.status != PersonStatus.ACTIVE:
        raise ValidationError({"person": f"{person.name}不在册（已迁出或已故），不能登记为志愿者"})
    if Volunteer.objects.filter(person=person).exists():
        raise ValidationError({"person": f"{person.name}已是志愿者"})
    if category not in VolunteerCategory.values:
        raise ValidationError({"category": "请选择志愿者类别"})
    region = region or (Region.objects.filter(pk=person.village_id).first() if person.village_id else None)
    if region is None or region.level != RegionLevel.VILLAGE:
        raise ValidationError({"region": "请选择志愿者服务的村（社区）"})
    region = access_object(Region.objects.all(), actor, "volunteers.add_volunteer", pk=region.pk)
    if grid is not None and grid.village_id != region.pk:
        raise ValidationError({"grid": "网格应在志愿者服务的村（社区）内"})
    joined_on = joined_on or _today()
    if joined_on > _today():
        raise ValidationError({"joined_on": "加入日期不能晚于今天"})
    volunteer = Volunteer(person=person, region=region, grid=grid, category=category, joined_on=joined_on,
                          skills=_optional(skills, "skills", 300), created_by=actor)
    _territory(volunteer, region)
    volunteer.full_clean()
    volunteer.save()
    recheck_in_scope(volunteer, actor, "volunteers.add_volunteer")
    account = PointsAccount(kind=AccountKind.VOLUNTEER, volunteer=volunteer)
    _territory(account, volunteer)
    account.save()
    return _audit_new(volunteer, actor)


@transaction.atomic
def volunteer_set_status(*, actor, volunteer: Volunteer, status: str, reason: str = "") -> Volunteer:
    volunteer = access_object(Volunteer.objects.select_for_update(of=("self",)), actor, "volunteers.change_volunteer",
                              pk=volunteer.pk)
    if status not in VolunteerStatus.values:
        raise ValidationError({"status": "请选择状态"})
    if status == volunteer.status:
        return volunteer
    reason = (_text(reason, "reason", "请说明暂停或退出的原因", limit=200) if status != VolunteerStatus.ACTIVE
              else _optional(reason, "reason", 200))
    before = snapshot(volunteer)
    volunteer.status, volunteer.status_reason = status, reason
    volunteer.save(update_fields=["status", "status_reason"])
    return _audit_change(volunteer, before, actor, note=reason)


@transaction.atomic
def certification_grant(*, actor, volunteer: Volunteer, field: str, level: int, certifying_body: str,
                        certified_on: dt.date, expires_on: dt.date, certificate_no: str = "") -> Certification:
    """Record a certification, certified by ``actor``. An already-expired certificate is refused."""
    volunteer = access_object(Volunteer.objects.all(), actor, "volunteers.add_certification", pk=volunteer.pk)
    if field not in Field.values:
        raise ValidationError({"field": "请选择资质领域"})
    if level not in Level.values:
        raise ValidationError({"level": "资质等级应为初级、中级或高级"})
    body = _text(certifying_body, "certifying_body", "请填写发证机构", limit=100)
    if certified_on is None or expires_on is None:
        raise ValidationError({"expires_on": "请填写发证日期和有效期至"})
    if certified_on > _today():
        raise ValidationError({"certified_on": "发证日期不能晚于今天"})
    if expires_on <= certified_on:
        raise ValidationError({"expires_on": "有效期应晚于发证日期"})
    if expires_on <= _today():
        raise ValidationError({"expires_on": f"该证书已于{expires_on:%Y年%m月%d日}过期，不能登记为有效资质"})
    cert = Certification(volunteer=volunteer, field=field, level=level, certifying_body=body,
                         certificate_no=_optional(certificate_no, "certificate_no", 50), certified_on=certified_on,
                         expires_on=expires_on, certified_by=actor)
    _territory(cert, volunteer)
    cert.full_clean()
    cert.save()
    return _audit_new(cert, actor)


@transaction.atomic
def certification_revoke(*, actor, certification: Certification, reason: str) -> Certification:
    cert = access_object(Certification.objects.select_for_update(of=("self",)), actor,
                         "volunteers.change_certification", pk=certification.pk)
    if cert.revoked_at is not None:
        raise ValidationError({"certification": f"该资质已于{timezone.localtime(cert.revoked_at):%Y-%m-%d}撤销"})
    reason = _text(reason, "reason", "请说明撤销原因", limit=200)
    before = snapshot(cert)
    cert.revoked_at, cert.revoked_by, cert.revoke_reason = _now(), actor, reason
    cert.save(update_fields=["revoked_at", "revoked_by", "revoke_reason"])
    return _audit_change(cert, before, actor, note=reason)


# ---------------------------------------------------------------------------------------------
# the county's rules


@transaction.atomic
def service_kind_save(*, actor, county: Region, name: str, required_field: str = "", min_level: int | None = None,
                      points_per_hour: int = 10, max_hours=Decimal("4"), description: str = "", active: bool = True,
                      kind: ServiceKind | None = None) -> ServiceKind:
    county = _county(actor, county, "volunteers.change_servicekind" if kind else "volunteers.add_servicekind")
    name = _text(name, "name", "请填写服务类型名称", limit=50)
    required_field = required_field or ""
    if required_field and required_field not in Field.values:
        raise ValidationError({"required_field": "请选择资质领域"})
    if required_field and min_level not in Level.values:
        raise ValidationError({"min_level": "要求资质时，请选择最低等级"})
    if not required_field:
        min_level = None
    pph = _int(points_per_hour, "points_per_hour", "每小时积分应为1到1000之间的整数", low=1, high=1000)
    try:
        hours = Decimal(str(max_hours))
    except (InvalidOperation, ValueError):
        raise ValidationError({"max_hours": "一次最多计时应为0.5到12小时"}) from None
    if not hours.is_finite() or not Decimal("0.5") <= hours <= 12 or hours != hours.quantize(Decimal("0.1")):
        raise ValidationError({"max_hours": "一次最多计时应为0.5到12小时"})
    if ServiceKind.objects.filter(county=county, name=name).exclude(pk=getattr(kind, "pk", None)).exists():
        raise ValidationError({"name": f"本县已有服务类型“{name}”"})
    if kind is not None:
        row = ServiceKind.objects.select_for_update().get(pk=kind.pk, county=county)
        before = snapshot(row)
    else:
        row, before = ServiceKind(county_id=county.pk), None
    row.name, row.required_field, row.min_level, row.points_per_hour = name, required_field, min_level, pph
    row.max_hours, row.description, row.active = hours, _optional(description, "description", 300), bool(active)
    row.full_clean()
    row.save()
    if before is None:
        return _audit_new(row, actor)
    return _audit_change(row, before, actor)


@transaction.atomic
def points_settings_save(*, actor, county: Region, expiry_months: int, yearly_cap: int) -> PointsSettings:
    county = _county(actor, county, "volunteers.change_pointssettings")
    months = _int(expiry_months, "expiry_months", "积分有效期应为0到120个月（0为不过期）", low=0, high=120)
    cap = _int(yearly_cap, "yearly_cap", "年度积分上限应为0到1000000之间的整数（0为不设上限）", low=0, high=MAX_POINTS)
    row = PointsSettings.objects.select_for_update().filter(county=county).first()
    before = snapshot(row) if row else None
    row = row or PointsSettings(county_id=county.pk)
    row.expiry_months, row.yearly_cap = months, cap
    row.full_clean()
    row.save()
    if before is None:
        return _audit_new(row, actor)
    return _audit_change(row, before, actor)


# ---------------------------------------------------------------------------------------------
# tasks and sign-ups


@transaction.atomic
def task_create(*, actor, kind: ServiceKind, title: str, region: Region, place: str, starts_at: dt.datetime,
                ends_at: dt.datetime, slots: int = 1, description: str = "", case: Case | None = None) -> ServiceTask:
    region = access_object(Region.objects.all(), actor, "volunteers.add_servicetask", pk=region.pk)
    if region.level not in (RegionLevel.TOWN, RegionLevel.VILLAGE):
        raise ValidationError({"region": "任务应属于一个村（社区）或一个镇（街道）"})
    kind = ServiceKind.objects.filter(pk=kind.pk, county_id=region.county_id).first()
    if kind is None or not kind.active:
        raise ValidationError({"kind": "本县没有这个在用的服务类型"})
    if starts_at is None or ends_at is None:
        raise ValidationError({"starts_at": "请填写开始和结束时间"})
    if ends_at <= starts_at:
        raise ValidationError({"ends_at": "结束时间应晚于开始时间"})
    if ends_at - starts_at > LONGEST_TASK:
        raise ValidationError({"ends_at": "一次任务不超过24小时；多日的活动请分次发布"})
    if starts_at < _now() - dt.timedelta(days=30):
        raise ValidationError({"starts_at": "开始时间不能早于30天前"})
    slots = _int(slots, "slots", "需要人数应为1到500之间的整数", low=1, high=500)
    if case is not None:
        case = Case.objects.visible_to(actor, "cases.view_case").filter(pk=case.pk, county_id=region.county_id).first()
        if case is None:
            raise ValidationError({"case": "所选事项不存在"})
    task = ServiceTask(kind=kind, title=_text(title, "title", "请填写任务名称", limit=100), region=region,
                       place=_text(place, "place", "请填写服务地点", limit=100), starts_at=starts_at, ends_at=ends_at,
                       slots=slots, description=_optional(description, "description", 500), organiser=actor, case=case)
    _territory(task, region)
    task.full_clean()
    task.save()
    recheck_in_scope(task, actor, "volunteers.add_servicetask")
    return _audit_new(task, actor, note=f"事项 {case.number}" if case is not None and case.number else "")


@transaction.atomic
def task_cancel(*, actor, task: ServiceTask, reason: str) -> ServiceTask:
    task = access_object(ServiceTask.objects.select_for_update(of=("self",)), actor, "volunteers.change_servicetask",
                         pk=task.pk)
    if task.status == TaskStatus.CANCELLED:
        raise ValidationError({"task": "该任务已取消"})
    reason = _text(reason, "reason", "请说明取消原因", limit=200)
    if task.signups.filter(status__in=[SignUpStatus.CHECKED_IN, SignUpStatus.CHECKED_OUT,
                                       SignUpStatus.CONFIRMED]).exists():
        raise ValidationError({"task": "已有志愿者签到服务，不能取消任务"})
    before = snapshot(task)
    task.status, task.cancel_reason = TaskStatus.CANCELLED, reason
    task.save(update_fields=["status", "cancel_reason"])
    for signup in task.signups.select_for_update().filter(status__in=[SignUpStatus.SIGNED_UP, SignUpStatus.ASSIGNED]):
        s_before = snapshot(signup)
        signup.status, signup.closed_reason = SignUpStatus.CANCELLED, f"任务取消：{reason}"
        signup.save(update_fields=["status", "closed_reason"])
        _audit_change(signup, s_before, actor, note="任务取消")
    return _audit_change(task, before, actor, note=reason)


def _load_signup(actor, signup, perm: str) -> SignUp:
    qs = SignUp.objects.select_for_update(of=("self",)).select_related("task__kind", "volunteer__person")
    return access_object(qs, actor, perm, pk=getattr(signup, "pk", signup))


def _service_day(task: ServiceTask) -> dt.date:
    return timezone.localdate(task.starts_at)


def _certification_check(signup: SignUp) -> None:
    volunteer = signup.volunteer
    problem = rules.certification_problem(signup.task.kind, list(volunteer.certifications.all()),
                                          _service_day(signup.task), who=volunteer.person.name)
    if problem:
        raise ValidationError({"volunteer": problem})


def _assign(actor, signup: SignUp) -> SignUp:
    """Assign, checking in the database what the page only hints at: the task is open, has a free
    slot (under the task's row lock), and the volunteer holds a valid certification for it."""
    task = ServiceTask.objects.select_for_update().select_related("kind").get(pk=signup.task_id)
    signup.task = task
    if task.status != TaskStatus.OPEN:
        raise ValidationError({"task": "该任务已取消"})
    if task.ends_at <= _now():
        raise ValidationError({"task": "任务已结束，不能再安排"})
    if signup.status not in (SignUpStatus.SIGNED_UP, SignUpStatus.REFUSED):
        raise ValidationError({"signup": f"该报名的状态是“{signup.get_status_display()}”，不能安排"})
    if signup.volunteer.status != VolunteerStatus.ACTIVE:
        raise ValidationError({"volunteer": f"{signup.volunteer.person.name}目前不在服务状态"})
    _certification_check(signup)
    taken = task.signups.filter(status__in=TAKING_A_SLOT).exclude(pk=signup.pk).count()
    if taken >= task.slots:
        raise ValidationError({"task": f"名额已满（共{task.slots}人）"})
    before = snapshot(signup)
    signup.status, signup.assigned_at, signup.assigned_by, signup.closed_reason = (
        SignUpStatus.ASSIGNED, _now(), actor, "")
    signup.save(update_fields=["status", "assigned_at", "assigned_by", "closed_reason"])
    return _audit_change(signup, before, actor, note="安排上岗", action=AuditAction.TRANSITION)


@transaction.atomic
def signup_create(*, actor, task: ServiceTask, volunteer: Volunteer, assign: bool = False) -> SignUp:
    """Sign a volunteer up for a task (the volunteer themself, or staff on their behalf); with
    ``assign`` staff assign at once (same checks as ``signup_assign``)."""
    task = access_object(ServiceTask.objects.select_related("kind"), actor, "volunteers.add_signup", pk=task.pk)
    volunteer = access_object(Volunteer.objects.select_related("person"), actor, "volunteers.add_signup",
                              pk=volunteer.pk)
    if task.status != TaskStatus.OPEN:
        raise ValidationError({"task": "该任务已取消"})
    if task.ends_at <= _now():
        raise ValidationError({"task": "任务已结束，不能报名"})
    if volunteer.status != VolunteerStatus.ACTIVE:
        raise ValidationError({"volunteer": f"{volunteer.person.name}目前不在服务状态"})
    if volunteer.county_id != task.county_id:
        raise ValidationError({"volunteer": "只能报名本县的任务"})
    if SignUp.objects.filter(task=task, volunteer=volunteer, status__in=LIVE_SIGNUP).exists():
        raise ValidationError({"volunteer": f"{volunteer.person.name}已报名这项任务"})
    signup = SignUp(task=task, volunteer=volunteer, signed_up_at=_now(), signed_up_by=actor)
    _territory(signup, task)
    signup.full_clean(exclude=["task", "volunteer"])
    try:
        with transaction.atomic():
            signup.save()
    except IntegrityError:
        raise ValidationError({"volunteer": f"{volunteer.person.name}已报名这项任务"}) from None
    _audit_new(signup, actor, note="报名")
    if assign:
        signup = _load_signup(actor, signup, "volunteers.assign_signup")
        _assign(actor, signup)
    return signup


@transaction.atomic
def signup_assign(*, actor, signup: SignUp) -> SignUp:
    return _assign(actor, _load_signup(actor, signup, "volunteers.assign_signup"))


@transaction.atomic
def signup_refuse(*, actor, signup: SignUp, reason: str) -> SignUp:
    """Not assigned, with the reason (for an uncertified volunteer: the assignment's refusal)."""
    signup = _load_signup(actor, signup, "volunteers.assign_signup")
    if signup.status != SignUpStatus.SIGNED_UP:
        raise ValidationError({"signup": f"该报名的状态是“{signup.get_status_display()}”，不能婉拒"})
    reason = _text(reason, "reason", "请说明不安排的原因", limit=300)
    before = snapshot(signup)
    signup.status, signup.closed_reason = SignUpStatus.REFUSED, reason
    signup.save(update_fields=["status", "closed_reason"])
    return _audit_change(signup, before, actor, note=f"未安排：{reason}", action=AuditAction.TRANSITION)


@transaction.atomic
def signup_cancel(*, actor, signup: SignUp, reason: str = "") -> SignUp:
    signup = _load_signup(actor, signup, "volunteers.change_signup")
    if signup.status not in (SignUpStatus.SIGNED_UP, SignUpStatus.ASSIGNED):
        raise ValidationError({"signup": f"该报名的状态是“{signup.get_status_display()}”，不能取消"})
    before = snapshot(signup)
    signup.status, signup.closed_reason = SignUpStatus.CANCELLED, _optional(reason, "reason", 300) or "取消报名"
    signup.save(update_fields=["status", "closed_reason"])
    return _audit_change(signup, before, actor, note=signup.closed_reason, action=AuditAction.TRANSITION)


@transaction.atomic
def signup_check_in(*, actor, signup: SignUp, at: dt.datetime | None = None) -> SignUp:
    signup = _load_signup(actor, signup, "volunteers.change_signup")
    if signup.status != SignUpStatus.ASSIGNED:
        raise ValidationError({"signup": "只有已安排的志愿者才能签到" if signup.status == SignUpStatus.SIGNED_UP
                               else f"该报名的状态是“{signup.get_status_display()}”，不能签到"})
    task = signup.task
    at = at or _now()
    if at < task.starts_at - CHECK_IN_EARLY or at > task.ends_at:
        raise ValidationError({"at": f"签到时间应在任务开始前1小时到结束之间（{timezone.localtime(task.starts_at):%m-%d %H:%M}"
                                     f"–{timezone.localtime(task.ends_at):%H:%M}）"})
    if at > _now() + dt.timedelta(minutes=5):
        raise ValidationError({"at": "签到时间不能晚于现在"})
    _certification_check(signup)  # revoked or expired since the assignment
    before = snapshot(signup)
    signup.status, signup.checked_in_at = SignUpStatus.CHECKED_IN, at
    signup.save(update_fields=["status", "checked_in_at"])
    return _audit_change(signup, before, actor, note="签到", action=AuditAction.TRANSITION)


@transaction.atomic
def signup_check_out(*, actor, signup: SignUp, at: dt.datetime | None = None) -> SignUp:
    signup = _load_signup(actor, signup, "volunteers.change_signup")
    if signup.status != SignUpStatus.CHECKED_IN:
        raise ValidationError({"signup": "尚未签到，不能签退" if signup.status == SignUpStatus.ASSIGNED
                               else f"该报名的状态是“{signup.get_status_display()}”，不能签退"})
    at = at or min(_now(), signup.task.ends_at + CHECK_OUT_LATE)
    if at < signup.checked_in_at:
        raise ValidationError({"at": "签退时间不能早于签到时间"})
    if at > signup.task.ends_at + CHECK_OUT_LATE or at > _now() + dt.timedelta(minutes=5):
        raise ValidationError({"at": "签退时间不能晚于现在，也不能晚于任务结束后3小时"})
    before = snapshot(signup)
    signup.status, signup.checked_out_at = SignUpStatus.CHECKED_OUT, at
    signup.hours_claimed = rules.claimable_hours(signup.checked_in_at, at, signup.task.kind.max_hours)
    signup.save(update_fields=["status", "checked_out_at", "hours_claimed"])
    return _audit_change(signup, before, actor, note="签退", action=AuditAction.TRANSITION)


@transaction.atomic
def signup_confirm_hours(*, actor, signup: SignUp, hours=None) -> SignUp:
    """The organiser or village/town staff confirm the hours served; the points follow at once."""
    signup = _load_signup(actor, signup, "volunteers.confirm_signup")
    if signup.status != SignUpStatus.CHECKED_OUT:
        raise ValidationError({"signup": "签退后才能确认服务时长" if signup.status in (SignUpStatus.ASSIGNED,
                                                                                   SignUpStatus.CHECKED_IN)
                               else f"该报名的状态是“{signup.get_status_display()}”，不能确认时长"})
    if actor.person_id and actor.person_id == signup.volunteer.person_id:
        raise PermissionDenied("不能确认自己的服务时长")
    kind = signup.task.kind
    span = rules.session_hours(signup.checked_in_at, signup.checked_out_at)
    hours = signup.hours_claimed if hours in (None, "") else hours
    problem = rules.hours_problem(hours, span, kind.max_hours)
    if problem:
        raise ValidationError({"hours": problem})
    hours = Decimal(str(hours))
    rules_row = settings_for(signup.volunteer.county_id)
    earned = points_earned_in_year(signup.volunteer, timezone.localdate(signup.checked_out_at).year)
    points = rules.capped(rules.points_for(hours, kind.points_per_hour), earned, rules_row.yearly_cap)
    before = snapshot(signup)
    signup.status, signup.hours_confirmed, signup.points_earned = SignUpStatus.CONFIRMED, hours, points
    signup.confirmed_at, signup.confirmed_by = _now(), actor
    signup.save(update_fields=["status", "hours_confirmed", "points_earned", "confirmed_at", "confirmed_by"])
    note = f"确认{hours}小时，积{points}分" + ("（已达年度积分上限）" if points < rules.points_for(hours, kind.points_per_hour)
                                             else "")
    _audit_change(signup, before, actor, note=note, action=AuditAction.TRANSITION)
    if points:
        volunteer = signup.volunteer
        _post(TransactionKind.EARN, volunteer=volunteer, actor=actor, signup=signup,
              reason=f"{signup.task.title}（{kind.name}）{hours}小时",
              lines=[(system_account(volunteer.county_id, AccountKind.ISSUANCE), -points),
                     (volunteer_account(volunteer), points)])
    return signup


# ---------------------------------------------------------------------------------------------
# the points ledger


def points_earned_in_year(volunteer: Volunteer, year: int) -> int:
    return (PointsTransaction.objects.filter(volunteer=volunteer, kind=TransactionKind.EARN, created_at__year=year)
            .aggregate(n=Sum("amount"))["n"] or 0)


def system_account(county_id: int, kind: str) -> PointsAccount:
    """The county's issuance account, redemption or expiry sink, or corrections account (made on first use)."""
    account = PointsAccount.objects.filter(county_id=county_id, kind=kind, volunteer__isnull=True).first()
    if account is not None:
        return account
    try:
        with transaction.atomic():
            return PointsAccount.objects.create(county_id=county_id, kind=kind)
    except IntegrityError:  # made at the same moment by another transaction
        return PointsAccount.objects.get(county_id=county_id, kind=kind, volunteer__isnull=True)


def volunteer_account(volunteer: Volunteer) -> PointsAccount:
    account = PointsAccount.objects.filter(volunteer=volunteer).first()
    if account is None:
        account = PointsAccount(kind=AccountKind.VOLUNTEER, volunteer=volunteer)
        _territory(account, volunteer)
        account.save()
    return account


NEVER_NEGATIVE = (AccountKind.VOLUNTEER, AccountKind.REDEMPTION, AccountKind.EXPIRY)


def _post(kind: str, *, volunteer: Volunteer, actor, lines: list[tuple[PointsAccount, int]], reason: str = "",
          signup: SignUp | None = None, redemption: Redemption | None = None, at: dt.datetime | None = None
          ) -> PointsTransaction:
    """The one way points move: a balanced transaction. The accounts are locked in id order (so two
    transactions touching the same accounts queue instead of deadlocking), their balances checked
    and moved in the same transaction as the postings. Must run inside a transaction."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("points move only inside a transaction")
    if sum(amount for _account, amount in lines) != 0 or any(amount == 0 for _a, amount in lines) or len(lines) < 2:
        raise ValueError(f"unbalanced points transaction: {lines}")
    ids = sorted({account.pk for account, _amount in lines})
    locked = {a.pk: a for a in PointsAccount.objects.select_for_update().filter(pk__in=ids).order_by("pk")}
    change = {}
    for account, amount in lines:
        change[account.pk] = change.get(account.pk, 0) + amount
    for pk, delta in change.items():
        account = locked[pk]
        if account.kind in NEVER_NEGATIVE and account.balance + delta < 0:
            if account.kind == AccountKind.VOLUNTEER:
                raise ValidationError({"points": f"积分不足：现有{account.balance}分，需要{-delta}分"})
            raise ValidationError({"points": "积分账目不足，无法冲回"})
    mine = change.get(volunteer_account(volunteer).pk, 0)
    at = at or _now()
    txn = PointsTransaction(kind=kind, volunteer=volunteer, amount=abs(mine) or max(change.values()),
                            reason=reason[:300], signup=signup, redemption=redemption,
                            created_by=actor if getattr(actor, "is_authenticated", False) else None, created_at=at)
    _territory(txn, volunteer)
    txn.full_clean(exclude=["signup", "redemption", "volunteer", "created_by"])
    txn.save()
    PointsPosting.objects.bulk_create([PointsPosting(transaction=txn, account_id=account.pk, amount=amount, created_at=at)
                                       for account, amount in lines])
    for pk, delta in change.items():
        PointsAccount.objects.filter(pk=pk).update(balance=F("balance") + delta)
    audit_record(actor=actor, action=AuditAction.CREATE, obj=txn,
                 after={**snapshot(txn), "postings": [[account.pk, amount] for account, amount in lines]},
                 note=reason[:300], territory=volunteer)
    return txn


@transaction.atomic
def points_correct(*, actor, volunteer: Volunteer, amount, reason: str) -> PointsTransaction:
    """A correction, county only, always with its reason: points added (positive) or taken back
    (negative, never more than the volunteer holds)."""
    volunteer = access_object(Volunteer.objects.select_related("person"), actor,
                              "volunteers.correct_pointstransaction", pk=volunteer.pk)
    if not holds_county(actor, "volunteers.correct_pointstransaction", volunteer.county_id):
        raise PermissionDenied("积分更正由县级负责")
    amount = _int(amount, "amount", f"更正分值应为非零整数（-{MAX_POINTS}到{MAX_POINTS}）", low=-MAX_POINTS, high=MAX_POINTS)
    if amount == 0:
        raise ValidationError({"amount": f"更正分值应为非零整数（-{MAX_POINTS}到{MAX_POINTS}）"})
    reason = _text(reason, "reason", "积分更正必须说明原因", limit=300)
    return _post(TransactionKind.CORRECT, volunteer=volunteer, actor=actor, reason=reason,
                 lines=[(system_account(volunteer.county_id, AccountKind.CORRECTION), -amount),
                        (volunteer_account(volunteer), amount)])


def expiry_due(account: PointsAccount, cutoff: dt.datetime) -> int:
    """Points of ``account`` earned before ``cutoff`` and still unspent (FIFO), i.e. what expires."""
    postings = PointsPosting.objects.filter(account=account)
    old_credits = (postings.filter(amount__gt=0, created_at__lt=cutoff,
                                   transaction__kind__in=[TransactionKind.EARN, TransactionKind.CORRECT])
                   .aggregate(n=Sum("amount"))["n"] or 0)
    spent = -(postings.filter(amount__lt=0).aggregate(n=Sum("amount"))["n"] or 0)
    refunded = postings.filter(amount__gt=0, transaction__kind=TransactionKind.REFUND).aggregate(n=Sum("amount"))["n"] or 0
    return rules.to_expire(old_credits, spent - refunded)


def points_expire(*, account: PointsAccount, cutoff: dt.datetime, actor=None) -> PointsTransaction | None:
    """Expire what is due on one (already locked) volunteer account; None when nothing is."""
    due = expiry_due(account, cutoff)
    if due <= 0:
        return None
    volunteer = account.volunteer
    return _post(TransactionKind.EXPIRE, volunteer=volunteer, actor=actor,
                 reason=f"{timezone.localtime(cutoff):%Y年%m月%d日}前获得、未使用的积分到期",
                 lines=[(account, -due), (system_account(volunteer.county_id, AccountKind.EXPIRY), due)])


# ---------------------------------------------------------------------------------------------
# the catalogue


@transaction.atomic
def catalogue_item_save(*, actor, county: Region, name: str, provider: str, points_cost, kind: str = ItemKind.BENEFIT,
                        description: str = "", stock=0, active: bool = True,
                        item: CatalogueItem | None = None) -> CatalogueItem:
    county = _county(actor, county, "volunteers.change_catalogueitem" if item else "volunteers.add_catalogueitem")
    if kind not in ItemKind.values:
        raise ValidationError({"kind": "请选择类别"})
    cost = _int(points_cost, "points_cost", f"所需积分应为1到{MAX_POINTS}之间的整数", low=1, high=MAX_POINTS)
    if item is not None:
        row = CatalogueItem.objects.select_for_update().get(pk=item.pk, county=county)
        before = snapshot(row)
    else:
        row, before = CatalogueItem(county_id=county.pk), None
        row.stock = _int(stock, "stock", "库存应为0到100000之间的整数，不能为负数", low=0, high=100000)
    row.name = _text(name, "name", "请填写名称", limit=100)
    row.provider = _text(provider, "provider", "请填写提供方", limit=100)
    row.points_cost, row.kind, row.active = cost, kind, bool(active)
    row.description = _optional(description, "description", 300)
    row.full_clean()
    row.save()
    return _audit_new(row, actor) if before is None else _audit_change(row, before, actor)


@transaction.atomic
def catalogue_restock(*, actor, item: CatalogueItem, quantity, note: str = "") -> CatalogueItem:
    row = access_object(CatalogueItem.objects.select_for_update(), actor, "volunteers.change_catalogueitem", pk=item.pk)
    if not holds_county(actor, "volunteers.change_catalogueitem", row.county_id):
        raise PermissionDenied("兑换目录由县级维护")
    quantity = _int(quantity, "quantity", "补充数量应为1到100000之间的正整数，不能为负数", low=1, high=100000)
    before = snapshot(row)
    CatalogueItem.objects.filter(pk=row.pk).update(stock=F("stock") + quantity)
    row.refresh_from_db()
    return _audit_change(row, before, actor, note=_optional(note, "note", 200) or f"补充库存{quantity}")


@transaction.atomic
def redemption_create(*, actor, volunteer: Volunteer, item: CatalogueItem, quantity=1) -> Redemption:
    """Spend points on an item of the catalogue. More than the stock or more points than held is
    refused with the figures, and nothing is saved; the item's and the account's row locks make two
    redemptions racing for the last item or the last points queue, and the second is refused."""
    volunteer = access_object(Volunteer.objects.select_related("person"), actor, "volunteers.add_redemption",
                              pk=volunteer.pk)
    quantity = _int(quantity, "quantity", f"数量应为1到{MAX_QUANTITY}之间的正整数", low=1, high=MAX_QUANTITY)
    row = access_object(CatalogueItem.objects.select_for_update(), actor, "volunteers.view_catalogueitem", pk=item.pk)
    if row.county_id != volunteer.county_id or not row.active:
        raise ValidationError({"item": "兑换目录中没有这一项"})
    if row.stock < quantity:
        raise ValidationError({"quantity": f"库存不足：“{row.name}”只剩{row.stock}份"})
    points = row.points_cost * quantity
    if points > MAX_POINTS:
        raise ValidationError({"quantity": "一次兑换的积分过多"})
    redemption = Redemption(volunteer=volunteer, item=row, quantity=quantity, points=points, created_by=actor,
                            created_at=_now())
    _territory(redemption, volunteer)
    redemption.save()
    _post(TransactionKind.REDEEM, volunteer=volunteer, actor=actor, redemption=redemption,
          reason=f"兑换“{row.name}”×{quantity}",
          lines=[(volunteer_account(volunteer), -points),
                 (system_account(volunteer.county_id, AccountKind.REDEMPTION), points)])
    CatalogueItem.objects.filter(pk=row.pk).update(stock=F("stock") - quantity)
    return _audit_new(redemption, actor, note=f"{points}分")


@transaction.atomic
def redemption_cancel(*, actor, redemption: Redemption, reason: str) -> Redemption:
    """Cancelled before it is handed over: points and stock come back by a compensating refund."""
    row = access_object(Redemption.objects.select_for_update(of=("self",)).select_related("volunteer"), actor,
                        "volunteers.change_redemption", pk=redemption.pk)
    if row.status != RedemptionStatus.PLACED:
        raise ValidationError({"redemption": "已交付或已取消的兑换不能再取消"})
    reason = _text(reason, "reason", "请说明取消原因", limit=200)
    item = CatalogueItem.objects.select_for_update().get(pk=row.item_id)
    before = snapshot(row)
    row.status, row.cancelled_at, row.cancelled_by, row.cancel_reason = RedemptionStatus.CANCELLED, _now(), actor, reason
    row.save(update_fields=["status", "cancelled_at", "cancelled_by", "cancel_reason"])
    CatalogueItem.objects.filter(pk=item.pk).update(stock=F("stock") + row.quantity)
    _post(TransactionKind.REFUND, volunteer=row.volunteer, actor=actor, redemption=row,
          reason=f"取消兑换“{item.name}”×{row.quantity}：{reason}",
          lines=[(system_account(row.volunteer.county_id, AccountKind.REDEMPTION), -row.points),
                 (volunteer_account(row.volunteer), row.points)])
    return _audit_change(row, before, actor, note=reason, action=AuditAction.TRANSITION)


@transaction.atomic
def redemption_deliver(*, actor, redemption: Redemption) -> Redemption:
    row = access_object(Redemption.objects.select_for_update(of=("self",)), actor, "volunteers.deliver_redemption",
                        pk=redemption.pk)
    if row.status != RedemptionStatus.PLACED:
        raise ValidationError({"redemption": "这次兑换已交付或已取消"})
    before = snapshot(row)
    row.status, row.delivered_at, row.delivered_by = RedemptionStatus.DELIVERED, _now(), actor
    row.save(update_fields=["status", "delivered_at", "delivered_by"])
    return _audit_change(row, before, actor, note="已交付", action=AuditAction.TRANSITION)
