"""Step 1 分类建账: register, classify, correct a case's facts."""
from __future__ import annotations

import datetime as dt
from typing import Iterable

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from gongzhi.core.audit import AuditAction, audit_record, snapshot
from gongzhi.core.scoping import access_object, recheck_in_scope, require_perm
from gongzhi.registry.models import Department, Grid, Person, Region

from .. import notifications as notify
from ..choices import AttachmentKind, Channel, Ledger, Limit
from ..deadlines import limit_for
from ..models import Case, CaseCategory, TimeLimitDefault
from ..numbering import number_pending
from ._common import (
    S, _attach_files, _event, _finish, _load, _now, _refuse_if_conflicted, _require_text, _tier_region_id,
    case_snapshot, needs_instruction,
)

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
    number_after_commit: bool = False, tracking_code: str = "",
) -> Case:
    """Enter a new case into its ledger (the ledger follows the category).

    The case number (gapless per year, ``numbering.py``) is given as the *last* statement of the
    caller's transaction, so the numbering lock is held only from there to the commit. With
    ``number_after_commit`` the case commits without one (``case.number`` is None, texts carry
    ``PENDING_NUMBER``) and the caller calls ``numbering.number_pending(case_id=case.pk)`` once
    its transaction has committed — the intake channels do, so registrations never queue.
    ``tracking_code``: the code a channel already gave the resident (Open311 receipts).
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
    if tracking_code:
        case.tracking_code = tracking_code
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
        from ..selectors import COMPLAINANT

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
