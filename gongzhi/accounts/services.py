"""Writes of the accounts app: each is one audited service.

* ``login_unlock`` — lift a login lockout (django-axes records) for a username or an address.
"""
from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from gongzhi.core.audit import AuditAction, audit_record
from gongzhi.core.scoping import has_perm_anywhere

UNLOCK_PERM = "axes.delete_accessattempt"


@transaction.atomic
def login_unlock(*, actor, username: str = "", ip_address: str = "") -> int:
    """Delete the failure records that lock ``username`` and/or ``ip_address``; returns how many.

    Needs ``axes.delete_accessattempt`` (held by the system administrator and superusers). The
    audit row names what was unlocked and how many failures were forgiven, whether or not any
    record existed (an unlock attempt is itself worth knowing about).
    """
    from axes.models import AccessAttempt

    if not has_perm_anywhere(actor, UNLOCK_PERM):
        raise PermissionDenied
    username, ip_address = (username or "").strip(), (ip_address or "").strip()
    if not username and not ip_address:
        raise ValidationError("请填写要解锁的用户名或IP地址")
    attempts = AccessAttempt.objects.all()
    if username:
        attempts = attempts.filter(username=username)
    if ip_address:
        attempts = attempts.filter(ip_address=ip_address)
    rows = list(attempts.values("username", "ip_address", "failures_since_start"))
    count, _ = attempts.delete()
    audit_record(
        actor=actor, action=AuditAction.DELETE, object_type="axes.accessattempt",
        object_id=username or ip_address, object_repr=f"解除登录锁定：{username or ''} {ip_address or ''}".strip(),
        before={"attempts": rows}, after={"attempts": []},
        note=f"解除登录锁定（{len(rows)} 条失败记录）",
    )
    return count
