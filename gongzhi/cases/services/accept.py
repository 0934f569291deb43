"""Steps 2 书记阅批 and 3 受理告知: instruct, accept, decline."""
from __future__ import annotations

from django.db import transaction

from .. import notifications as notify
from ..choices import ClosedAs, Limit
from ..deadlines import limit_for
from ..models import Case
from ._common import S, _finish, _load, _now, _require_text, _tier_region_id, case_snapshot

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
