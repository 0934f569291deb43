"""Step 4 快速交办: assign, sign, transfer, return."""
from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from gongzhi.registry.models import Department, Grid, Region

from .. import notifications as notify
from ..choices import Level, Limit
from ..deadlines import limit_for
from ..models import Case
from ._common import (
    S, _finish, _load, _now, _refuse_if_conflicted, _require_rank, _require_text, _target_level, _tier_region_id,
    _with_recusal, case_snapshot,
)

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
