"""Settled on the spot (就地化解) by the grid worker or three-line person, confirmed by the requester."""
from __future__ import annotations

from typing import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction

from .. import notifications as notify
from ..choices import LEVEL_RANK, AttachmentKind, ClosedAs, Level, Limit, Satisfaction
from ..deadlines import limit_for
from ..models import Case
from ._common import S, _attach_files, _finish, _load, _now, _require_text, _tier_region_id, case_snapshot

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
