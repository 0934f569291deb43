"""What other parts of the platform tell a case: a village decision it fed (gongzhi.village), a
pairing need or project it became (gongzhi.linking).

Not a step of the nine: the case's status does not change. The entry is public, so the requester
sees it on their tracking page, and they are sent an SMS when they left a number.
"""
from __future__ import annotations

from django.db import transaction

from gongzhi.core.audit import AuditAction, audit_record
from gongzhi.core.scoping import access_object

from .. import notifications as notify
from ..models import Case, CaseEvent
from ._common import _event, _require_text

# The entries other apps may write, and the requester text each sends (cases/notifications.py).
LINKED_KINDS = {"village_agenda": "village_agenda", "village_decision": "village_decision",
                "village_progress": "village_progress",
                # gongzhi.linking: a need raised from the case, and the pairing project that meets it
                "pairing_need": "pairing_need", "pairing_project": "pairing_project",
                # gongzhi.resources: a need raised from the case, and its confirmed delivery
                "dispatch_need": "dispatch_need", "dispatch_delivered": "dispatch_delivered"}


@transaction.atomic
def case_record_linked(*, actor, case: Case, kind: str, note: str, tell_requester: bool = True,
                       data: dict | None = None) -> CaseEvent:
    """A public timeline entry on ``case`` from outside the case loop, written by someone who may
    read the case (recusal included: whoever the case complains about cannot reach it)."""
    if kind not in LINKED_KINDS:
        raise ValueError(f"unknown linked entry {kind!r}")
    case = access_object(Case.objects.select_for_update(of=("self",)), actor, "cases.view_case", pk=case.pk)
    note = _require_text(note, "note", "请填写内容")
    event = _event(case, actor=actor, kind=kind, from_status=case.status, note=note, public=True, data=data)
    audit_record(actor=actor, action=AuditAction.UPDATE, obj=case, note=f"{kind}：{note[:200]}")
    if tell_requester:
        notify.notify_requester(case, kind=LINKED_KINDS[kind], note=note)
    return event
