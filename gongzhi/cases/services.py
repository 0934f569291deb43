"""Every write to cases. One service per step of the workflow (``workflow.TRANSITIONS``).

Each service
* takes a keyword-only ``actor`` and runs in one transaction (``@transaction.atomic``);
* loads the case *through the actor's scope* for one of the step's permissions, locked
  (``select_for_update``): **403** (``PermissionDenied``) when the actor holds none of them
  anywhere, **404** (``Http404``) when the case is outside their scope — or complains about them;
* checks the step against the transition table (``TransitionNotAllowed``, a ``ValidationError``);
* checks the tier where it matters (a village secretary cannot sign off a county case, a town
  dispatcher cannot hand a case to a county department: towns summon departments instead);
* validates with ``full_clean``, saves, writes a ``CaseEvent`` and an audit record
  (``AuditAction.TRANSITION``/``CREATE``/``UPDATE``) whose snapshots never hold a complainant's
  identity, and queues notifications (in-app rows now, SMS/email on commit).

Recusal: a case complaining about a department or a person is never assigned, transferred or
summoned to them; a refused attempt raises ``RecusalRequired`` and the refusal is kept on the
case's timeline (written in its own transaction, so it survives the refused step).
"""
from __future__ import annotations

import datetime as dt
from typing import Iterable

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from django.utils import timezone

from gongzhi.core.audit import AuditAction, audit_record, snapshot
from gongzhi.core.masking import mask_phone
from gongzhi.core.scoping import access_object, has_perm_anywhere, holds_county, recheck_in_scope, require_perm
from gongzhi.core.workdays import add_days, add_working_days
from gongzhi.registry.models import Department, Grid, Person, Region

from . import notifications as notify
from .choices import (
    LEVEL_ORDER, LEVEL_RANK, AttachmentKind, CaseStatus, Channel, ClosedAs, Ledger, Level, Limit,
    MediationOutcome, RequestKind, RequestStatus, Satisfaction,
)
from .deadlines import limit_for, shift_running_deadlines
from .models import (
    SUMMONED_DEPARTMENT, Case, CaseAttachment, CaseCategory, CaseEvent, CaseRequest, Summons, TimeLimitDefault,
    validate_attachment,
)
from .numbering import number_pending
from .selectors import REVEAL_PHONE, actor_rank, holds_unit, may_reveal_requester_phone
from .workflow import TRANSITIONS, Transition, check_precondition, check_transition, facts_of

S = CaseStatus
CASE_FIELDS_REDACTED = ("requester_name", "requester_phone", "requester_id")


class RecusalRequired(ValidationError):
    """The target is the unit or person the case complains about."""


# ---------------------------------------------------------------------------------------------
# helpers


def _now() -> dt.datetime:
    return timezone.now()


def case_snapshot(case: Case) -> dict:
    """The audit snapshot of a case: a complainant's identity never enters the audit trail, other
    requesters' phones are masked."""
    data = snapshot(case)
    if data.get("suspended_time") is not None:
        data["suspended_time"] = str(case.suspended_time)
    if case.ledger == Ledger.COMPLAINT:
        for field in CASE_FIELDS_REDACTED:
            if data.get(field):
                data[field] = "（保密）"
    else:
        data["requester_phone"] = mask_phone(case.requester_phone)
    return data


def _actor_name(actor) -> str:
    if actor is None:
        return "系统"
    return getattr(actor, "display_name", "") or actor.get_username()


def _level_of_region(region: Region) -> str:
    return {1: Level.COUNTY, 2: Level.TOWN}.get(region.level, Level.VILLAGE)


def _target_level(*, grid=None, region=None, department=None) -> str:
    if grid is not None:
        return Level.GRID
    if department is not None:
        return Level.COUNTY
    return _level_of_region(region)


def _tier_region_id(case: Case, level: str) -> int | None:
    return {Level.GRID: case.village_id, Level.VILLAGE: case.village_id, Level.TOWN: case.town_id,
            Level.COUNTY: case.county_id}[level]


def _require_rank(actor, perm: str, case: Case, level: str, what: str) -> None:
    if actor_rank(actor, perm, case) < LEVEL_RANK[level]:
        raise PermissionDenied(f"{what}需要{Level(level).label}级或以上的权限")


def _load(actor, case: Case, name: str) -> tuple[Case, Transition, str]:
    """Fetch ``case`` locked, through the actor's scope for one of the step's permissions.

    With ``cases.handle_case`` the actor must also handle for the assigned unit (``holds_unit``).
    """
    transition = TRANSITIONS[name]
    held = [perm for perm in transition.perms if has_perm_anywhere(actor, perm)]
    if not held:
        raise PermissionDenied("没有办理这一步的权限")
    not_the_unit = False
    for perm in held:
        found = Case.objects.select_for_update().visible_to(actor, perm).filter(pk=case.pk).first()
        if found is None:
            continue
        if perm == "cases.handle_case" and found.assignee is not None and not holds_unit(actor, found):
            not_the_unit = True
            continue
        check_transition(name, found.status)
        if transition.precondition is not None:
            check_precondition(name, facts_of(found))
        ranked = transition.rank_perm(found.status)
        if ranked:
            _require_rank(actor, ranked, found, found.current_level, transition.label)
        return found, transition, perm
    if not_the_unit:
        raise PermissionDenied("本件不由你所在的单位承办")
    raise Http404


def _event(case: Case, *, actor, kind: str, from_status: str, note: str = "", public: bool | None = None,
           data: dict | None = None, at: dt.datetime | None = None) -> CaseEvent:
    if public is None:
        public = TRANSITIONS[kind].public if kind in TRANSITIONS else False
    return CaseEvent.objects.create(
        case=case, kind=kind, at=at or _now(), actor=actor if actor is not None and actor.is_authenticated else None,
        actor_name=_actor_name(actor), from_status=from_status, to_status=case.status, note=note, public=public,
        data=data or {},
    )


def _finish(case: Case, *, actor, kind: str, before: dict, from_status: str, note: str = "",
            public: bool | None = None, data: dict | None = None, audit_action: str = AuditAction.TRANSITION,
            update_fields: list[str] | None = None, at: dt.datetime | None = None) -> CaseEvent:
    case.full_clean()
    if update_fields is None:
        case.save()
    else:
        case.save(update_fields=sorted(set(update_fields) | {"updated_at"}))
    event = _event(case, actor=actor, kind=kind, from_status=from_status, note=note, public=public, data=data,
                   at=at)
    label = TRANSITIONS[kind].label if kind in TRANSITIONS else kind
    audit_record(actor=actor, action=audit_action, obj=case, before=before, after=case_snapshot(case),
                 note=f"{label}（{kind}）" + (f"：{note[:200]}" if note else ""))
    return event


def _require_text(value: str, field: str, message: str) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationError({field: message})
    return value


def _attach_files(case: Case, files: Iterable, *, actor, kind: str, event: CaseEvent | None) -> list[CaseAttachment]:
    made = []
    for upload in files or ():
        content_type = validate_attachment(upload)
        attachment = CaseAttachment(case=case, event=event, kind=kind, original_name=(upload.name or "")[:200],
                                    content_type=content_type, size=upload.size, uploaded_by=actor)
        attachment.file.save(upload.name, upload, save=False)
        attachment.save()
        made.append(attachment)
    return made


def needs_instruction(category: CaseCategory, level: str, *, from_level: str | None = None) -> bool:
    """Must a secretary read and instruct before the case goes on?

    Always when the category says so (at registration); and whenever the case reaches the
    category's ``instruction_level`` or above (at registration or when escalated across it).
    """
    if from_level is None and category.requires_instruction:
        return True
    threshold = category.instruction_level
    if not threshold:
        return False
    reached = LEVEL_RANK[level] >= LEVEL_RANK[threshold]
    was = from_level is not None and LEVEL_RANK[from_level] >= LEVEL_RANK[threshold]
    return reached and not was


# ---------------------------------------------------------------------------------------------
# recusal


def recusal_problem(case: Case, *, grid=None, region=None, department=None, handler=None) -> str:
    """Why the target may not take this case (empty when it may)."""
    if not (case.complained_department_id or case.complained_person_id):
        return ""
    if department is not None and department.pk == case.complained_department_id:
        return "被投诉举报的单位不得承办本件"
    conflicted = notify.conflicted_user_ids(case)
    if handler is not None and handler.pk in conflicted:
        return "被投诉举报的人员不得承办本件"
    if conflicted and (grid or region or department):
        if notify.unit_holder_ids(grid=grid, region=region, department=department) & conflicted:
            return "被投诉举报人是该单位的承办人，须交由其他单位办理"
    return ""


@transaction.atomic
def _record_recusal(*, actor, case_pk: int, reason: str, target: str) -> None:
    case = Case.objects.get(pk=case_pk)
    before = case_snapshot(case)
    _event(case, actor=actor, kind="recusal", from_status=case.status, public=False,
           note=f"回避：{reason}（拟交：{target}）", data={"target": target})
    audit_record(actor=actor, action=AuditAction.TRANSITION, obj=case, before=before, after=before,
                 note=f"回避（recusal）：{reason}")


def _refuse_if_conflicted(case: Case, *, actor, grid=None, region=None, department=None, handler=None) -> None:
    problem = recusal_problem(case, grid=grid, region=region, department=department, handler=handler)
    if problem:
        raise RecusalRequired(problem, params={"target": str(department or region or grid or handler)})


def _with_recusal(func, *, actor, case, **kwargs):
    try:
        return func(actor=actor, case=case, **kwargs)
    except RecusalRequired as exc:
        _record_recusal(actor=actor, case_pk=case.pk, reason=exc.messages[0], target=exc.params["target"])
        raise


# ---------------------------------------------------------------------------------------------
# catalogue


CATEGORY_EDITABLE = {
    "name", "description", "ledger", "kind", "default_level", "responsible_department", "suggested_department",
    "acceptance_days", "response_days", "resolution_days", "is_petition", "is_dispute", "requires_instruction",
    "instruction_level", "active", "sort_order",
}


@transaction.atomic
def category_save(*, actor, county: Region, code: str, **fields) -> CaseCategory:
    """Create or change the county's own category ``code`` (overriding the default of that code).

    Needs ``cases.change_casecategory`` over the whole county.
    """
    require_perm(actor, "cases.change_casecategory")
    if county.level != 1:
        raise ValidationError({"county": "目录属于县（区）"})
    if not holds_county(actor, "cases.change_casecategory", county.pk):
        raise PermissionDenied("只有县级管理员可以修改事项目录")
    unknown = set(fields) - CATEGORY_EDITABLE
    if unknown:
        raise ValidationError(f"不能修改这些字段：{', '.join(sorted(unknown))}")
    department = fields.get("responsible_department")
    if department is not None and department.county_id != county.pk:
        raise ValidationError({"responsible_department": "责任部门不属于本县"})
    category = CaseCategory.objects.select_for_update().filter(county=county, code=code).first()
    created = category is None
    if created:
        template = CaseCategory.objects.filter(county__isnull=True, code=code).first()
        category = CaseCategory(county=county, code=code)
        if template is not None:
            for name in CATEGORY_EDITABLE:
                setattr(category, name, getattr(template, name))
    before = None if created else snapshot(category)
    for name, value in fields.items():
        setattr(category, name, value)
    category.full_clean()
    category.save()
    audit_record(actor=actor, action=AuditAction.CREATE if created else AuditAction.UPDATE, obj=category,
                 before=before, after=snapshot(category), territory=county)
    return category


def category_for(*, county_id: int | None, code: str) -> CaseCategory | None:
    return CaseCategory.objects.for_county(county_id).filter(code=code, active=True).first()


# ---------------------------------------------------------------------------------------------
# 1 分类建账: register and classify


REGISTER_TRUSTED_FIELDS = [
    "county", "town", "village", "category", "region", "grid", "requester", "registered_by", "raised_by_person",
    "complained_department", "complained_person", "assignee_grid", "assignee_region", "assignee_department",
    "handler",
]


def case_register(*, number_after_commit: bool = False, **kwargs) -> Case:
    """Enter a new case into its ledger (the ledger follows the category); see ``_case_register``.

    A caller passing ``number_after_commit`` owns the transaction (the intake channels): the
    registration then runs in it without a savepoint of its own — any error rolls back the
    caller's transaction, as it would anyway — which saves two round trips per submission.
    """
    with transaction.atomic(savepoint=not number_after_commit):
        return _case_register(number_after_commit=number_after_commit, **kwargs)


def _case_register(
    *, actor, category: CaseCategory, title: str, description: str, channel: str,
    region: Region | None = None, grid: Grid | None = None, address: str = "",
    latitude=None, longitude=None, requester: Person | None = None, requester_name: str = "",
    requester_phone: str = "", anonymous: bool = False, is_dispute: bool | None = None,
    complained_department: Department | None = None, complained_person: Person | None = None,
    complained_text: str = "", received_at: dt.datetime | None = None, attachments: Iterable = (),
    number_after_commit: bool = False,
) -> Case:
    """Enter a new case into its ledger (the ledger follows the category).

    The case number (gapless per year, ``numbering.py``) is given as the *last* statement of the
    caller's transaction, so the numbering lock is held only from there to the commit. With
    ``number_after_commit`` the case commits without one (``case.number`` is None, texts carry
    ``PENDING_NUMBER``) and the caller calls ``numbering.number_pending(case_id=case.pk)`` once
    its transaction has committed — the intake channels do, so registrations never queue.
    """
    require_perm(actor, "cases.add_case")
    now = _now()
    received_at = received_at or now
    if received_at > now + dt.timedelta(minutes=5):
        raise ValidationError({"received_at": "受理登记时间不能晚于现在"})
    if grid is not None and region is None:
        region = grid.region
    if region is None:
        raise ValidationError({"region": "请指定事发地（村、镇）"})
    if grid is not None and grid.village_id != region.village_id:
        raise ValidationError({"grid": "网格不在所选的村（社区）"})
    if not category.active or (category.county_id and category.county_id != region.county_id):
        raise ValidationError({"category": "该类别不可用"})
    if channel not in Channel.values:
        raise ValidationError({"channel": "来源渠道不正确"})
    if requester is not None:
        requester = access_object(Person.objects.all(), actor, "registry.view_person", pk=requester.pk)
        requester_name = requester_name or requester.name
        requester_phone = requester_phone or requester.phone
    if complained_department is not None and complained_department.county_id != region.county_id:
        raise ValidationError({"complained_department": "被投诉单位不属于本县"})
    level = category.default_level
    case = Case(
        number=None, ledger=category.ledger, kind=category.matter_kind, category=category,
        title=_require_text(title, "title", "请填写标题"), description=_require_text(description, "description", "请填写诉求内容"),
        channel=channel, region=region, grid=grid, grid_path=grid.path if grid else "", address=address,
        latitude=latitude, longitude=longitude, requester=requester, requester_name=requester_name.strip(),
        requester_phone=requester_phone.strip(), anonymous=anonymous,
        registered_by=actor, raised_by_person_id=getattr(actor, "person_id", None),
        is_dispute=category.is_dispute if is_dispute is None else is_dispute,
        complained_department=complained_department, complained_person=complained_person,
        complained_text=complained_text,
        status=S.PENDING_INSTRUCTION if needs_instruction(category, level) else S.REGISTERED,
        current_level=level, received_at=received_at, natural_days=category.is_petition,
    )
    case.copy_territory_from(region)
    case.acceptance_due_at = limit_for(category, Limit.ACCEPTANCE).due(received_at)
    # The related rows were read from the database just now (or checked above) and the foreign
    # keys hold anyway; the unique columns have their indexes (the tracking code is 60 random
    # bits). Validating them again would cost a query each on every submission.
    case.full_clean(exclude=REGISTER_TRUSTED_FIELDS, validate_unique=False, validate_constraints=False)
    case.save()
    recheck_in_scope(case, actor, "cases.add_case")
    event = _event(case, actor=actor, kind="register", from_status="", public=True,
                   note=f"{Ledger(case.ledger).label} · {category.name}")
    _attach_files(case, attachments, actor=actor, kind=AttachmentKind.INTAKE, event=event)
    audit_record(actor=actor, action=AuditAction.CREATE, obj=case, after=case_snapshot(case))
    tier = _tier_region_id(case, level)
    notify.notify_users(notify.territory_recipients(case, "cases.dispatch_case", regions=[tier]),
                        case=case, kind="registered")
    if case.status == S.PENDING_INSTRUCTION:
        notify.notify_users(notify.territory_recipients(case, "cases.instruct_case", regions=[tier]),
                            case=case, kind="needs_instruction")
    if not number_after_commit:
        case.number = number_pending(case_id=case.pk)
    return case


@transaction.atomic
def case_classify(*, actor, case: Case, category: CaseCategory, note: str = "") -> Case:
    """Correct the category (and so the ledger and time limits) before the case is assigned."""
    case, _t, _perm = _load(actor, case, "classify")
    if category.pk == case.category_id:
        return case
    if not category.active or (category.county_id and category.county_id != case.county_id):
        raise ValidationError({"category": "该类别不可用"})
    before, from_status = case_snapshot(case), case.status
    old = case.category
    case.category, case.ledger, case.kind = category, category.ledger, category.matter_kind
    case.natural_days = category.is_petition
    if case.accepted_at is None:
        case.current_level = category.default_level
        case.acceptance_due_at = limit_for(category, Limit.ACCEPTANCE).due(case.received_at)
        case.status = S.PENDING_INSTRUCTION if needs_instruction(category, case.current_level) else S.REGISTERED
    else:
        case.resolution_due_at = limit_for(category, Limit.RESOLUTION).due(case.accepted_at)
    _finish(case, actor=actor, kind="classify", before=before, from_status=from_status,
            note=f"{old.name} → {category.name}" + (f"：{note}" if note else ""))
    return case


CASE_EDITABLE = {
    "title", "description", "address", "latitude", "longitude", "region", "grid", "requester_name",
    "requester_phone", "anonymous", "is_dispute", "complained_department", "complained_person", "complained_text",
}
REQUESTER_FIELDS = {"requester_name", "requester_phone", "anonymous"}


@transaction.atomic
def case_update(*, actor, case: Case, note: str = "", **changes) -> Case:
    """Correct what was recorded (``cases.change_case``). Changing who raised a complaint needs the
    right to see them; naming the current handling unit as complained-about is refused (recusal)."""
    require_perm(actor, "cases.change_case")
    case = access_object(Case.objects.select_for_update(), actor, "cases.change_case", pk=case.pk)
    if case.status == S.CLOSED:
        raise ValidationError("已归档的案件不能修改")
    unknown = set(changes) - CASE_EDITABLE
    if unknown:
        raise ValidationError(f"不能修改这些字段：{', '.join(sorted(unknown))}")
    if REQUESTER_FIELDS & set(changes) and case.ledger == Ledger.COMPLAINT:
        from .selectors import COMPLAINANT

        if not Case.objects.visible_to(actor, COMPLAINANT).filter(pk=case.pk).exists():
            raise PermissionDenied("无权查看或修改投诉举报人信息")
    before = case_snapshot(case)
    changed = [name for name, value in changes.items() if getattr(case, name) != value]
    if not changed:
        return case
    for name in changed:
        setattr(case, name, changes[name])
    if "grid" in changed and case.grid is not None and "region" not in changed:
        case.region = case.grid.region
    if {"region", "grid"} & set(changed):
        if case.grid is not None and case.grid.village_id != case.region.village_id:
            raise ValidationError({"grid": "网格不在所选的村（社区）"})
        case.copy_territory_from(case.region)
        case.grid_path = case.grid.path if case.grid else ""
    if {"complained_department", "complained_person"} & set(changed):
        _refuse_if_conflicted(case, actor=actor, grid=case.assignee_grid, region=case.assignee_region,
                              department=case.assignee_department, handler=case.handler)
    _finish(case, actor=actor, kind="update", before=before, from_status=case.status, public=False,
            note="修改：" + "、".join(sorted(changed)) + (f"。{note}" if note else ""), audit_action=AuditAction.UPDATE)
    recheck_in_scope(case, actor, "cases.change_case")
    return case


@transaction.atomic
def time_limit_save(*, actor, limit: str, days: int, ledger: str = "", kind: str = "", natural_days: bool = False,
                    max_times: int | None = None, note: str = "") -> TimeLimitDefault:
    """Change a default time limit (platform-wide data; ``cases.change_timelimitdefault``)."""
    require_perm(actor, "cases.change_timelimitdefault")
    row = TimeLimitDefault.objects.select_for_update().filter(ledger=ledger, kind=kind, limit=limit).first()
    before = snapshot(row) if row else None
    row = row or TimeLimitDefault(ledger=ledger, kind=kind, limit=limit)
    row.days, row.natural_days, row.max_times, row.note = days, natural_days, max_times, note
    row.full_clean()
    row.save()
    audit_record(actor=actor, action=AuditAction.UPDATE if before else AuditAction.CREATE, obj=row,
                 before=before, after=snapshot(row))
    return row


# ---------------------------------------------------------------------------------------------
# 2 书记阅批: instruct


@transaction.atomic
def case_instruct(*, actor, case: Case, instruction: str) -> Case:
    """A secretary's instruction, kept on the timeline. A case waiting for one then moves on."""
    case, _t, perm = _load(actor, case, "instruct")
    instruction = _require_text(instruction, "instruction", "请填写批示内容")
    before, from_status = case_snapshot(case), case.status
    if case.status == S.PENDING_INSTRUCTION:
        case.status = S.ACCEPTED if case.accepted_at else S.REGISTERED
    _finish(case, actor=actor, kind="instruct", before=before, from_status=from_status, note=instruction,
            data={"level": case.current_level})
    if from_status == S.PENDING_INSTRUCTION:
        tier = _tier_region_id(case, case.current_level)
        notify.notify_users(notify.territory_user_ids(case, "cases.dispatch_case", regions=[tier]),
                            case=case, kind="urged", note=f"书记已阅批：{instruction}")
    return case


# ---------------------------------------------------------------------------------------------
# 3 受理告知: accept (or decline)


@transaction.atomic
def case_accept(*, actor, case: Case, note: str = "") -> Case:
    case, _t, _perm = _load(actor, case, "accept")
    before, from_status = case_snapshot(case), case.status
    now = _now()
    case.status, case.accepted_at = S.ACCEPTED, now
    case.resolution_due_at = limit_for(case.category, Limit.RESOLUTION).due(now)
    _finish(case, actor=actor, kind="accept", before=before, from_status=from_status, note=note)
    notify.notify_requester(case, kind="accepted")
    return case


@transaction.atomic
def case_decline(*, actor, case: Case, reason: str) -> Case:
    """不予受理 (e.g. a petition's acceptance decision, or not a matter for this platform)."""
    case, _t, _perm = _load(actor, case, "decline")
    reason = _require_text(reason, "reason", "请说明不予受理的理由")
    before, from_status = case_snapshot(case), case.status
    case.status, case.closed_at = S.CLOSED, _now()
    case.closed_as, case.close_reason = ClosedAs.NOT_ACCEPTED, reason
    _finish(case, actor=actor, kind="decline", before=before, from_status=from_status, note=reason)
    notify.notify_requester(case, kind="declined", note=reason)
    return case


# ---------------------------------------------------------------------------------------------
# 4 快速交办: assign, sign, transfer, return


def _validate_target(case: Case, *, grid, region, department) -> None:
    if sum(x is not None for x in (grid, region, department)) != 1:
        raise ValidationError("请选择一个承办对象：网格、村/镇（县）或部门")
    if grid is not None and grid.county_id != case.county_id:
        raise ValidationError({"grid": "网格不在本县"})
    if region is not None and (region.county_id != case.county_id):
        raise ValidationError({"region": "承办区划不在本县"})
    if department is not None and department.county_id != case.county_id:
        raise ValidationError({"department": "部门不属于本县"})


def _set_assignee(case: Case, *, grid, region, department, handler, now) -> None:
    case.assignee_grid, case.assignee_region, case.assignee_department = grid, region, department
    case.handler = handler
    case.current_level = _target_level(grid=grid, region=region, department=department)
    case.assigned_at = now
    case.status = S.ASSIGNED
    if case.first_response_at is None:
        case.response_due_at = limit_for(case.category, Limit.RESPONSE).due(now)
        case.response_warned_at = None


def _check_handler(case: Case, handler) -> None:
    if handler is not None and not Case.objects.visible_to(handler, "cases.handle_case").filter(pk=case.pk).exists():
        raise ValidationError({"handler": "该人员不能承办此件（不在其承办范围内）"})


def _assign(*, actor, case: Case, grid=None, region=None, department=None, handler=None, note: str = "") -> Case:
    with transaction.atomic():
        case, _t, perm = _load(actor, case, "assign")
        _validate_target(case, grid=grid, region=region, department=department)
        level = _target_level(grid=grid, region=region, department=department)
        _require_rank(actor, perm, case, level, "交办到这一级")
        _refuse_if_conflicted(case, actor=actor, grid=grid, region=region, department=department, handler=handler)
        before, from_status = case_snapshot(case), case.status
        _set_assignee(case, grid=grid, region=region, department=department, handler=handler, now=_now())
        target = str(department or region or grid)
        _finish(case, actor=actor, kind="assign", before=before, from_status=from_status,
                note=f"交办：{target}" + (f"。{note}" if note else ""), data={"target": target, "level": level})
        _check_handler(case, handler)
        notify.notify_users(notify.unit_user_ids(case), case=case, kind="assigned")
        return case


def case_assign(*, actor, case: Case, grid: Grid | None = None, region: Region | None = None,
                department: Department | None = None, handler=None, note: str = "") -> Case:
    """快速交办 to exactly one of a grid, a region (village/town/county) or a department."""
    return _with_recusal(_assign, actor=actor, case=case, grid=grid, region=region, department=department,
                         handler=handler, note=note)


def default_assignee(case: Case) -> dict:
    """The target the catalogue suggests: the responsible department, else the case's own tier."""
    category = case.category
    if category.default_level == Level.COUNTY and category.responsible_department_id and \
            category.responsible_department_id != case.complained_department_id:
        return {"department": category.responsible_department}
    if category.default_level == Level.GRID and case.grid_id:
        return {"grid": case.grid}
    region_id = _tier_region_id(case, category.default_level if category.default_level != Level.GRID else Level.VILLAGE)
    return {"region": Region.objects.get(pk=region_id)} if region_id else {}


@transaction.atomic
def case_sign(*, actor, case: Case, note: str = "") -> Case:
    """签收: the assigned unit takes the case (its first response)."""
    case, _t, _perm = _load(actor, case, "sign")
    before, from_status = case_snapshot(case), case.status
    now = _now()
    case.status = S.IN_PROGRESS
    if case.first_response_at is None:
        case.first_response_at = now
    if case.handler_id is None:
        case.handler = actor
    _finish(case, actor=actor, kind="sign", before=before, from_status=from_status, note=note)
    return case


def _transfer(*, actor, case: Case, reason: str, grid=None, region=None, department=None, handler=None) -> Case:
    with transaction.atomic():
        case, _t, perm = _load(actor, case, "transfer")
        reason = _require_text(reason, "reason", "请说明转办理由")
        _validate_target(case, grid=grid, region=region, department=department)
        if (grid, region, department) == (case.assignee_grid, case.assignee_region, case.assignee_department):
            raise ValidationError("已由该单位承办")
        level = _target_level(grid=grid, region=region, department=department)
        _require_rank(actor, perm, case, level, "转办到这一级")
        _refuse_if_conflicted(case, actor=actor, grid=grid, region=region, department=department, handler=handler)
        before, from_status = case_snapshot(case), case.status
        previous = case.assignee_label()
        _set_assignee(case, grid=grid, region=region, department=department, handler=handler, now=_now())
        case.transfer_count += 1
        target = str(department or region or grid)
        _finish(case, actor=actor, kind="transfer", before=before, from_status=from_status,
                note=f"由{previous or '—'}转至{target}：{reason}", data={"from": previous, "target": target})
        _check_handler(case, handler)
        notify.notify_users(notify.unit_user_ids(case), case=case, kind="transferred", note=reason)
        return case


def case_transfer(*, actor, case: Case, reason: str, grid: Grid | None = None, region: Region | None = None,
                  department: Department | None = None, handler=None) -> Case:
    """转办 to another unit, with a reason."""
    return _with_recusal(_transfer, actor=actor, case=case, reason=reason, grid=grid, region=region,
                         department=department, handler=handler)


@transaction.atomic
def case_return(*, actor, case: Case, reason: str) -> Case:
    """退回: not this unit's business — back to the dispatcher for re-assignment."""
    case, _t, _perm = _load(actor, case, "return")
    reason = _require_text(reason, "reason", "请说明退回理由")
    before, from_status = case_snapshot(case), case.status
    previous = case.assignee_label()
    last_assigner = (case.events.filter(kind__in=["assign", "transfer", "escalate"], actor__isnull=False)
                     .order_by("-at", "-id").values_list("actor_id", flat=True).first())
    case.status = S.RETURNED
    case.assignee_grid = case.assignee_region = case.assignee_department = None
    case.handler = None
    case.return_count += 1
    _finish(case, actor=actor, kind="return", before=before, from_status=from_status,
            note=f"{previous}退回：{reason}", data={"from": previous})
    recipients = notify.territory_user_ids(case, "cases.dispatch_case",
                                           regions=[_tier_region_id(case, case.current_level)])
    if last_assigner:
        recipients.add(last_assigner)
    notify.notify_users(recipients, case=case, kind="returned", note=reason)
    return case


# ---------------------------------------------------------------------------------------------
# 5 严格督查: urge, escalate, summon (吹哨报到), extension, suspension


@transaction.atomic
def case_urge(*, actor, case: Case, note: str) -> Case:
    """催办: an urging note to the handling unit."""
    case, _t, _perm = _load(actor, case, "urge")
    note = _require_text(note, "note", "请填写催办内容")
    before, from_status = case_snapshot(case), case.status
    case.urge_count += 1
    _finish(case, actor=actor, kind="urge", before=before, from_status=from_status, note=note,
            update_fields=["urge_count"])
    recipients = notify.unit_user_ids(case) if case.assignee else notify.territory_user_ids(
        case, "cases.dispatch_case", regions=[_tier_region_id(case, case.current_level)])
    notify.notify_users(recipients, case=case, kind="urged", note=note)
    return case


def _escalate_in_place(case: Case, *, actor, reason: str) -> Case:
    """Move a (locked, checked) case one tier up. Used by ``case_escalate``."""
    check_precondition("escalate", facts_of(case, pending_kinds=()))
    rank = LEVEL_RANK[case.current_level]
    before, from_status = case_snapshot(case), case.status
    old_level = case.current_level
    new_level = LEVEL_ORDER[rank + 1]
    region = Region.objects.get(pk=_tier_region_id(case, new_level))
    case.assignee_grid = case.assignee_department = None
    case.assignee_region = region
    case.handler = None
    case.current_level = new_level
    case.escalation_count += 1
    if needs_instruction(case.category, new_level, from_level=old_level):
        case.status = S.PENDING_INSTRUCTION
    elif new_level == Level.COUNTY:
        case.status = S.ACCEPTED  # the county dispatcher hands it to a department
    else:
        case.status = S.ASSIGNED
        case.assigned_at = _now()
    _finish(case, actor=actor, kind="escalate", before=before, from_status=from_status,
            note=f"{Level(old_level).label}→{Level(new_level).label}：{reason}",
            data={"from_level": old_level, "to_level": new_level, "reason": reason})
    tier = [region.pk]
    if case.status == S.PENDING_INSTRUCTION:
        notify.notify_users(notify.territory_user_ids(case, "cases.instruct_case", regions=tier),
                            case=case, kind="needs_instruction")
    elif case.status == S.ACCEPTED:
        notify.notify_users(notify.territory_user_ids(case, "cases.dispatch_case", regions=tier),
                            case=case, kind="escalated", note=reason)
    else:
        notify.notify_users(notify.unit_user_ids(case), case=case, kind="escalated", note=reason)
    return case


@transaction.atomic
def case_escalate(*, actor, case: Case, reason: str) -> Case:
    """提级: village → town → county, with the reason on the timeline."""
    case, _t, _perm = _load(actor, case, "escalate")
    reason = _require_text(reason, "reason", "请说明提级理由")
    return _escalate_in_place(case, actor=actor, reason=reason)


def _summons_due(now: dt.datetime) -> dt.datetime:
    return add_working_days(now, getattr(settings, "GONGZHI_SUMMONS_WORKING_DAYS", 1))


def _summon(*, actor, case: Case, departments: Iterable[Department], reason: str,
            due_at: dt.datetime | None = None) -> list[Summons]:
    with transaction.atomic():
        case, _t, _perm = _load(actor, case, "summon")
        reason = _require_text(reason, "reason", "请说明需要部门做什么")
        departments = list(departments)
        if not departments:
            raise ValidationError({"departments": "请至少选择一个部门"})
        now = _now()
        due_at = due_at or _summons_due(now)
        if due_at <= now:
            raise ValidationError({"due_at": "报到时限必须晚于现在"})
        made = []
        for department in departments:
            if department.county_id != case.county_id:
                raise ValidationError({"departments": f"{department}不属于本县"})
            _refuse_if_conflicted(case, actor=actor, department=department)
            if case.summonses.filter(department=department, acknowledged_at__isnull=True).exists():
                raise ValidationError({"departments": f"已召集{department}，尚未报到"})
            summons = Summons(case=case, department=department, summoned_by=actor, summoned_at=now,
                              reason=reason, due_at=due_at)
            summons.full_clean()
            summons.save()
            made.append(summons)
        before = case_snapshot(case)
        names = "、".join(str(d) for d in departments)
        _finish(case, actor=actor, kind="summon", before=before, from_status=case.status,
                note=f"吹哨召集{names}：{reason}", data={"departments": [d.pk for d in departments]},
                update_fields=[])
        for summons in made:
            notify.notify_users(notify.unit_user_ids(case, department=summons.department), case=case,
                                kind="summoned", note=reason, summons_due=notify._due(summons.due_at))
        return made


def case_summon(*, actor, case: Case, departments: Iterable[Department], reason: str,
                due_at: dt.datetime | None = None) -> list[Summons]:
    """吹哨: summon departments, each must report (acknowledge + commit) by ``due_at``."""
    return _with_recusal(_summon, actor=actor, case=case, departments=departments, reason=reason, due_at=due_at)


@transaction.atomic
def summons_acknowledge(*, actor, summons: Summons, commitment: str) -> Summons:
    """报到: the summoned department acknowledges and commits to an action."""
    require_perm(actor, "cases.handle_case")
    summons = (Summons.objects.select_for_update()
               .visible_by(actor, "cases.handle_case", SUMMONED_DEPARTMENT)
               .filter(pk=summons.pk).select_related("case", "department").first())
    if summons is None:
        raise Http404
    case = Case.objects.select_for_update().get(pk=summons.case_id)
    check_transition("acknowledge_summons", case.status)
    if summons.acknowledged_at is not None:
        raise ValidationError("已报到")
    commitment = _require_text(commitment, "commitment", "请填写承诺办理的事项")
    before = case_snapshot(case)
    summons.acknowledged_at, summons.acknowledged_by, summons.commitment = _now(), actor, commitment
    summons.save(update_fields=["acknowledged_at", "acknowledged_by", "commitment"])
    _finish(case, actor=actor, kind="acknowledge_summons", before=before, from_status=case.status,
            note=f"{summons.department}报到：{commitment}", data={"summons": summons.pk}, update_fields=[])
    recipients = {summons.summoned_by_id} if summons.summoned_by_id else set()
    notify.notify_users(recipients, case=case, kind="summons_acknowledged", note=commitment,
                        department=str(summons.department))
    return summons


@transaction.atomic
def case_request_extension(*, actor, case: Case, days: int, reason: str) -> CaseRequest:
    """申请延期: needs approval (``case_approve_extension``); limited by the time-limit table."""
    case, _t, _perm = _load(actor, case, "request_extension")
    reason = _require_text(reason, "reason", "请说明延期理由")
    rule = limit_for(case.category, Limit.EXTENSION)
    if not isinstance(days, int) or days < 1 or days > rule.days:
        raise ValidationError({"days": f"延期天数应在1到{rule.days}之间（{rule.describe()}）"})
    if rule.max_times is not None and case.extension_count >= rule.max_times:
        raise ValidationError({"days": f"最多只能延期{rule.max_times}次"})
    request = CaseRequest(case=case, kind=RequestKind.EXTENSION, days=days, reason=reason, requested_by=actor,
                          requested_at=_now())
    request.full_clean()
    request.save()
    unit = "自然日" if rule.natural else "工作日"
    _finish(case, actor=actor, kind="request_extension", before=case_snapshot(case), from_status=case.status,
            note=f"申请延期{days}个{unit}：{reason}", data={"request": request.pk, "days": days}, update_fields=[])
    notify.notify_users(notify.territory_user_ids(case, "cases.approve_extension"), case=case,
                        kind="request_pending", request="延期", note=reason)
    return request


def _load_request(actor, request: CaseRequest, name: str, kind: str) -> tuple[CaseRequest, Case, str]:
    request = CaseRequest.objects.select_for_update().filter(pk=request.pk, kind=kind).first()
    if request is None:
        raise Http404
    case, _t, perm = _load(actor, request.case, name)
    if request.status != RequestStatus.PENDING:
        raise ValidationError("该申请已审批")
    return request, case, perm


@transaction.atomic
def case_approve_extension(*, actor, request: CaseRequest, approve: bool = True, note: str = "") -> CaseRequest:
    """Approve (or refuse) an extension: the resolution deadline moves, the extension is counted."""
    request, case, _perm = _load_request(actor, request, "approve_extension", RequestKind.EXTENSION)
    before, now = case_snapshot(case), _now()
    request.status = RequestStatus.APPROVED if approve else RequestStatus.REJECTED
    request.decided_by, request.decided_at, request.decision_note = actor, now, note
    request.save()
    data = {"request": request.pk, "approved": approve}
    if approve:
        rule = limit_for(case.category, Limit.EXTENSION)
        old_due = case.resolution_due_at
        case.resolution_due_at = add_days(old_due or now, request.days, natural=rule.natural)
        case.extension_count += 1
        if case.resolution_due_at > now:
            case.due_soon_warned_at = case.overdue_warned_at = case.escalated_at = None
        data |= {"from": old_due.isoformat() if old_due else None, "to": case.resolution_due_at.isoformat()}
    _finish(case, actor=actor, kind="approve_extension", before=before, from_status=case.status,
            note=("批准延期" if approve else "不予延期") + (f"：{note}" if note else ""), data=data)
    notify.notify_users(notify.unit_user_ids(case) | ({request.requested_by_id} if request.requested_by_id else set()),
                        case=case, kind="request_decided", request="延期", decision="已批准" if approve else "未批准",
                        note=note)
    return request


@transaction.atomic
def case_request_suspension(*, actor, case: Case, reason: str) -> CaseRequest:
    """申请缓办: the clock stops once approved (``case_suspend``)."""
    case, _t, _perm = _load(actor, case, "request_suspension")
    reason = _require_text(reason, "reason", "请说明缓办理由")
    request = CaseRequest(case=case, kind=RequestKind.SUSPENSION, reason=reason, requested_by=actor,
                          requested_at=_now())
    request.full_clean()
    request.save()
    _finish(case, actor=actor, kind="request_suspension", before=case_snapshot(case), from_status=case.status,
            note=f"申请缓办：{reason}", data={"request": request.pk}, update_fields=[])
    notify.notify_users(notify.territory_user_ids(case, "cases.approve_extension"), case=case,
                        kind="request_pending", request="缓办", note=reason)
    return request


@transaction.atomic
def case_suspend(*, actor, request: CaseRequest, approve: bool = True, note: str = "") -> CaseRequest:
    """Approve (or refuse) a suspension. Approved: the case is suspended and its clocks stop."""
    request, case, _perm = _load_request(actor, request, "suspend", RequestKind.SUSPENSION)
    before, from_status, now = case_snapshot(case), case.status, _now()
    request.status = RequestStatus.APPROVED if approve else RequestStatus.REJECTED
    request.decided_by, request.decided_at, request.decision_note = actor, now, note
    request.save()
    if approve:
        case.status_before_suspension = case.status
        case.status = S.SUSPENDED
        case.suspended_at = now
        case.suspension_count += 1
    _finish(case, actor=actor, kind="suspend", before=before, from_status=from_status,
            note=("批准缓办" if approve else "不予缓办") + (f"：{note}" if note else ""),
            data={"request": request.pk, "approved": approve})
    notify.notify_users(notify.unit_user_ids(case) | ({request.requested_by_id} if request.requested_by_id else set()),
                        case=case, kind="request_decided", request="缓办", decision="已批准" if approve else "未批准",
                        note=note)
    return request


@transaction.atomic
def case_resume(*, actor, case: Case, note: str = "") -> Case:
    """恢复办理: the deadlines move forward by the time spent suspended (working or natural)."""
    case, _t, _perm = _load(actor, case, "resume")
    before, from_status, now = case_snapshot(case), case.status, _now()
    old_due = case.resolution_due_at
    elapsed = shift_running_deadlines(case, since=case.suspended_at, until=now)
    case.suspended_time = (case.suspended_time or dt.timedelta(0)) + elapsed
    case.status = case.status_before_suspension or S.IN_PROGRESS
    case.status_before_suspension = ""
    case.suspended_at = None
    if case.resolution_due_at and case.resolution_due_at > now:
        case.due_soon_warned_at = case.overdue_warned_at = case.escalated_at = None
    _finish(case, actor=actor, kind="resume", before=before, from_status=from_status, note=note, at=now,
            data={"suspended": str(elapsed), "from": old_due.isoformat() if old_due else None,
                  "to": case.resolution_due_at.isoformat() if case.resolution_due_at else None})
    notify.notify_users(notify.unit_user_ids(case), case=case, kind="resumed")
    return case


# ---------------------------------------------------------------------------------------------
# 6 结果反馈 and 7 书记把关


@transaction.atomic
def case_report_result(*, actor, case: Case, result: str, attachments: Iterable = (),
                       mediation_outcome: str | None = None) -> Case:
    """结果反馈: the handler reports what was done (evidence optional: no paperwork for its own sake)."""
    case, _t, _perm = _load(actor, case, "report_result")
    result = _require_text(result, "result", "请填写办理结果")
    before, from_status = case_snapshot(case), case.status
    case.status, case.result, case.result_reported_at = S.RESULT_REPORTED, result, _now()
    if case.first_response_at is None:
        case.first_response_at = case.result_reported_at
    if mediation_outcome is not None:
        _set_mediation(case, mediation_outcome)
    event = _finish(case, actor=actor, kind="report_result", before=before, from_status=from_status, note=result)
    _attach_files(case, attachments, actor=actor, kind=AttachmentKind.EVIDENCE, event=event)
    tier = _tier_region_id(case, case.current_level)
    notify.notify_users(notify.territory_user_ids(case, "cases.instruct_case", regions=[tier]),
                        case=case, kind="result_reported")
    return case


def _set_mediation(case: Case, outcome: str) -> None:
    if outcome not in MediationOutcome.values:
        raise ValidationError({"mediation_outcome": "调解结果不正确"})
    if outcome and not case.is_dispute:
        raise ValidationError({"mediation_outcome": "只有矛盾纠纷才记录调解结果"})
    case.mediation_outcome = outcome


@transaction.atomic
def case_record_mediation(*, actor, case: Case, outcome: str, note: str = "") -> Case:
    case, _t, _perm = _load(actor, case, "record_mediation")
    before = case_snapshot(case)
    _set_mediation(case, outcome)
    case.mediation_note = note
    _finish(case, actor=actor, kind="record_mediation", before=before, from_status=case.status,
            note=f"{MediationOutcome(outcome).label}" + (f"：{note}" if note else ""), audit_action=AuditAction.UPDATE)
    return case


@transaction.atomic
def case_approve(*, actor, case: Case, note: str = "") -> Case:
    """书记把关: the secretary accepts the reported result."""
    case, _t, _perm = _load(actor, case, "approve")
    before, from_status = case_snapshot(case), case.status
    case.status, case.approved_at = S.APPROVED, _now()
    _finish(case, actor=actor, kind="approve", before=before, from_status=from_status, note=note)
    notify.notify_users(notify.territory_user_ids(case, "cases.dispatch_case",
                                                  regions=[_tier_region_id(case, case.current_level)]),
                        case=case, kind="approved")
    return case


@transaction.atomic
def case_send_back(*, actor, case: Case, reason: str) -> Case:
    """书记把关: sent back for rework (counted)."""
    case, _t, _perm = _load(actor, case, "send_back")
    reason = _require_text(reason, "reason", "请说明退回重办的理由")
    before, from_status = case_snapshot(case), case.status
    case.status = S.IN_PROGRESS
    case.rework_count += 1
    _finish(case, actor=actor, kind="send_back", before=before, from_status=from_status, note=reason)
    notify.notify_users(notify.unit_user_ids(case), case=case, kind="sent_back", note=reason)
    return case


# ---------------------------------------------------------------------------------------------
# 8 回复征询 and 9 销号归档


@transaction.atomic
def case_reply(*, actor, case: Case, answer: str) -> Case:
    """回复: the requester is told the result and asked whether they are satisfied."""
    case, _t, _perm = _load(actor, case, "reply")
    answer = _require_text(answer, "answer", "请填写答复内容")
    before, from_status = case_snapshot(case), case.status
    case.status, case.reply, case.replied_at = S.AWAITING_FEEDBACK, answer, _now()
    _finish(case, actor=actor, kind="reply", before=before, from_status=from_status, note=answer)
    notify.notify_requester(case, kind="answered", note=answer)
    return case


@transaction.atomic
def case_record_satisfaction(*, actor, case: Case, satisfaction: str, note: str = "") -> Case:
    """征询: satisfied / basically satisfied / dissatisfied / could not be reached."""
    case, _t, _perm = _load(actor, case, "record_satisfaction")
    if satisfaction not in Satisfaction.values:
        raise ValidationError({"satisfaction": "满意度只能是满意、基本满意、不满意或联系不上"})
    before, from_status = case_snapshot(case), case.status
    case.status, case.satisfaction, case.satisfaction_note, case.evaluated_at = (
        S.EVALUATED, satisfaction, note, _now())
    _finish(case, actor=actor, kind="record_satisfaction", before=before, from_status=from_status,
            note=Satisfaction(satisfaction).label + (f"：{note}" if note else ""), data={"satisfaction": satisfaction})
    return case


@transaction.atomic
def case_reopen(*, actor, case: Case, reason: str) -> Case:
    """Dissatisfied → handled again by the same unit (counted as rework); the deadline stands."""
    case, _t, _perm = _load(actor, case, "reopen")
    reason = _require_text(reason, "reason", "请说明重新办理的要求")
    before, from_status = case_snapshot(case), case.status
    case.status = S.IN_PROGRESS
    case.rework_count += 1
    case.satisfaction = ""
    _finish(case, actor=actor, kind="reopen", before=before, from_status=from_status, note=reason)
    notify.notify_users(notify.unit_user_ids(case), case=case, kind="reopened", note=reason)
    return case


@transaction.atomic
def case_close(*, actor, case: Case, reason: str = "") -> Case:
    """销号归档. A dissatisfied requester's case can only be closed as unresolved, with a reason."""
    case, _t, _perm = _load(actor, case, "close")
    before, from_status = case_snapshot(case), case.status
    if case.satisfaction == Satisfaction.DISSATISFIED:
        case.closed_as = ClosedAs.UNRESOLVED
        case.close_reason = _require_text(reason, "reason", "群众不满意：请说明未解决的原因，或重新办理")
        case.settled_level = ""
    else:
        case.closed_as = ClosedAs.RESOLVED
        case.close_reason = reason
        case.settled_level = case.current_level
    case.status, case.closed_at = S.CLOSED, _now()
    _finish(case, actor=actor, kind="close", before=before, from_status=from_status,
            note=ClosedAs(case.closed_as).label + (f"：{reason}" if reason else ""),
            data={"closed_as": case.closed_as})
    notify.notify_requester(case, kind="closed")
    return case


# ---------------------------------------------------------------------------------------------
# tiers: settled on the spot


@transaction.atomic
def case_settle_on_spot(*, actor, case: Case, action_taken: str, attachments: Iterable = ()) -> Case:
    """就地化解: the grid worker or three-line person records what was done; the requester confirms."""
    case, _t, _perm = _load(actor, case, "settle_on_spot")
    action_taken = _require_text(action_taken, "action_taken", "请填写现场处理情况")
    before, from_status, now = case_snapshot(case), case.status, _now()
    case.status = S.SETTLING
    case.result, case.result_reported_at = action_taken, now
    case.first_response_at = case.first_response_at or now
    case.handler = case.handler or actor
    event = _finish(case, actor=actor, kind="settle_on_spot", before=before, from_status=from_status,
                    note=action_taken)
    _attach_files(case, attachments, actor=actor, kind=AttachmentKind.EVIDENCE, event=event)
    notify.notify_requester(case, kind="settled", note=action_taken)
    return case


@transaction.atomic
def case_confirm_settlement(*, actor, case: Case, confirmed: bool, satisfaction: str = "",
                            note: str = "") -> Case:
    """The requester's answer: confirmed → closed, settled at grid level; not → the normal path."""
    case, _t, _perm = _load(actor, case, "confirm_settlement")
    before, from_status, now = case_snapshot(case), case.status, _now()
    if confirmed:
        if satisfaction not in (Satisfaction.SATISFIED, Satisfaction.BASIC):
            raise ValidationError({"satisfaction": "群众确认时请记录满意或基本满意"})
        case.status, case.closed_at, case.evaluated_at = S.CLOSED, now, now
        case.satisfaction, case.satisfaction_note = satisfaction, note
        case.closed_as, case.settled_level = ClosedAs.RESOLVED, Level.GRID
        if case.accepted_at is None:
            case.accepted_at = case.result_reported_at or now
            case.resolution_due_at = limit_for(case.category, Limit.RESOLUTION).due(case.accepted_at)
    else:
        newly_accepted = case.accepted_at is None
        case.status = S.ACCEPTED
        if newly_accepted:
            case.accepted_at = now
            case.resolution_due_at = limit_for(case.category, Limit.RESOLUTION).due(now)
        case.current_level = max(case.current_level, Level.VILLAGE, key=lambda lv: LEVEL_RANK[lv])
    _finish(case, actor=actor, kind="confirm_settlement", before=before, from_status=from_status,
            note=("群众确认，就地办结" if confirmed else "群众未确认，转入正常办理") + (f"：{note}" if note else ""),
            data={"confirmed": confirmed})
    if not confirmed:
        notify.notify_users(notify.territory_user_ids(case, "cases.dispatch_case",
                                                      regions=[_tier_region_id(case, case.current_level)]),
                            case=case, kind="registered")
    return case


# ---------------------------------------------------------------------------------------------
# attachments


@transaction.atomic
def case_attach(*, actor, case: Case, file, kind: str = AttachmentKind.EVIDENCE,
                event: CaseEvent | None = None) -> CaseAttachment:
    case, _t, _perm = _load(actor, case, "attach")
    if kind not in AttachmentKind.values:
        raise ValidationError({"kind": "材料类型不正确"})
    if event is not None and event.case_id != case.pk:
        raise ValidationError({"event": "不是本案的办理记录"})
    (attachment,) = _attach_files(case, [file], actor=actor, kind=kind, event=event)
    audit_record(actor=actor, action=AuditAction.CREATE, obj=attachment, territory=case,
                 after={"case": case.pk, "name": attachment.original_name, "size": attachment.size,
                        "content_type": attachment.content_type})
    return attachment


__all__ = [name for name in dir() if name.startswith("case_")] + [
    "RecusalRequired", "category_for", "category_save", "default_assignee", "needs_instruction",
    "holds_unit", "recusal_problem", "summons_acknowledge", "time_limit_save",
]


# ---------------------------------------------------------------------------------------------
# calling the requester back


@transaction.atomic
def case_reveal_requester_phone(*, actor, case: Case) -> str:
    """The requester's full phone number, to call them back: only for those who handle or
    dispatch the case and may reveal phones (``selectors.may_reveal_requester_phone``), never
    for an accused party (404, as if the case did not exist); every reveal is audited."""
    require_perm(actor, REVEAL_PHONE)
    case = access_object(Case.objects.all(), actor, "cases.view_case", pk=case.pk)
    if not may_reveal_requester_phone(user=actor, case=case):
        if not case.requester_phone:
            raise ValidationError("本件没有诉求人电话")
        raise PermissionDenied("只有承办或调度本件、且有权查看电话的人员可以查看诉求人电话")
    audit_record(actor=actor, action=AuditAction.REVEAL, obj=case, note="显示诉求人电话（requester_phone）")
    return case.requester_phone
