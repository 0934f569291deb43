"""Steps 8 回复征询 and 9 销号归档: answer, satisfaction, reopen, close."""
from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from .. import notifications as notify
from ..choices import ClosedAs, Satisfaction
from ..models import Case
from ._common import S, _finish, _load, _now, _require_text, case_snapshot

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
