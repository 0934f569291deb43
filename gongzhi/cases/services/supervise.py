"""Step 5 严格督查: urge, escalate, summon (吹哨报到), extension, suspension, resume."""
from __future__ import annotations

import datetime as dt
from typing import Iterable

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404

from gongzhi.core.scoping import require_perm
from gongzhi.core.workdays import add_days, add_working_days
from gongzhi.registry.models import Department, Region

from .. import notifications as notify
from ..choices import LEVEL_ORDER, LEVEL_RANK, Level, Limit, RequestKind, RequestStatus
from ..deadlines import limit_for, shift_running_deadlines
from ..models import SUMMONED_DEPARTMENT, Case, CaseRequest, Summons
from ..workflow import check_precondition, check_transition, facts_of
from ._common import (
    S, _finish, _load, _now, _refuse_if_conflicted, _require_text, _tier_region_id, _with_recusal, case_snapshot,
    needs_instruction,
)

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
