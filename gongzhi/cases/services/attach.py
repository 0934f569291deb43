"""Material added to a case at any open step."""
from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from gongzhi.core.audit import AuditAction, audit_record

from ..choices import AttachmentKind
from ..models import Case, CaseAttachment, CaseEvent
from ..selectors import holds_unit
from ._common import RecusalRequired, _attach_files, _load, needs_instruction, recusal_problem
from .assign import default_assignee
from .catalogue import category_for, category_save
from .register import time_limit_save
from .supervise import summons_acknowledge

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
