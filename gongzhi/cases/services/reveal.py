"""Calling the requester back: the full phone, for those who handle the case, audited."""
from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404

from gongzhi.core.audit import AuditAction, audit_record
from gongzhi.core.scoping import access_object, require_perm

from ..models import Case
from ..selectors import REVEAL_PHONE, case_requester_view, may_reveal_requester_phone

# ---------------------------------------------------------------------------------------------
# calling the requester back


@transaction.atomic
def case_reveal_requester_phone(*, actor, case: Case) -> str:
    """The requester's full phone number, to call them back: only for those who handle,
    dispatch or sign off the case and may reveal phones (``selectors.may_reveal_requester_phone``);
    never for an accused party, and never where the requester is hidden from the actor (404, as
    if there were nothing to see); every reveal is audited."""
    require_perm(actor, REVEAL_PHONE)
    case = access_object(Case.objects.all(), actor, "cases.view_case", pk=case.pk)
    if not case_requester_view(user=actor, case=case).visible:
        raise Http404
    if not may_reveal_requester_phone(user=actor, case=case):
        if not case.requester_phone:
            raise ValidationError("本件没有诉求人电话")
        raise PermissionDenied("只有承办、调度或把关本件且有权查看电话的人员可以查看诉求人电话")
    audit_record(actor=actor, action=AuditAction.REVEAL, obj=case, note="显示诉求人电话（requester_phone）")
    return case.requester_phone
