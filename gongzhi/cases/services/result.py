"""Steps 6 结果反馈 and 7 书记把关: report the result, mediation, approve or send back."""
from __future__ import annotations

from typing import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction

from gongzhi.core.audit import AuditAction

from .. import notifications as notify
from ..choices import AttachmentKind, MediationOutcome
from ..models import Case
from ._common import S, _attach_files, _finish, _load, _now, _require_text, _tier_region_id, case_snapshot

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
