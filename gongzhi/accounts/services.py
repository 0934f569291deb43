"""Writes of the accounts app: each is one audited service.

* ``login_unlock`` — lift a login lockout (django-axes records) for a username or an address.
* ``second_factor_confirm``, ``recovery_codes_issue`` — enrol a second factor (django-otp).
* ``role_grant``, ``role_revoke`` — who holds which role where, with the separation of duties.
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


# ---------------------------------------------------------------------------------------------
# second factor (django-otp)

RECOVERY_CODE_COUNT = 10
TOTP_DEVICE_NAME = "身份验证器"
RECOVERY_DEVICE_NAME = "恢复码"


def totp_device_pending(*, user):
    """The user's unconfirmed authenticator (created once, so reloading the page keeps the QR code)."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    return device or TOTPDevice.objects.create(user=user, name=TOTP_DEVICE_NAME, confirmed=False)


def sms_device_start(*, user, phone: str):
    """Create an unconfirmed SMS device for ``phone`` and text it a code."""
    from .models import SMSDevice

    phone = "".join(ch for ch in (phone or "") if ch.isdigit())
    if len(phone) != 11 or not phone.startswith("1"):
        raise ValidationError({"phone": "请填写11位手机号码"})
    SMSDevice.objects.filter(user=user, confirmed=False).delete()
    device = SMSDevice.objects.create(user=user, name=f"短信 {phone[:3]}****{phone[-4:]}", phone=phone,
                                      confirmed=False)
    device.generate_challenge()
    return device


@transaction.atomic
def second_factor_confirm(*, actor, device, token: str) -> bool:
    """Confirm a newly enrolled device when ``token`` is right; audited. Returns whether it was."""
    if device.user_id != actor.pk or device.confirmed:
        raise PermissionDenied
    if not device.verify_token((token or "").strip()):
        return False
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    audit_record(actor=actor, action=AuditAction.CREATE, object_type=device._meta.label_lower,
                 object_id=str(device.pk), object_repr=f"{actor.get_username()} · {device.name}",
                 after={"device": device.name, "user": actor.get_username()}, note="启用第二步验证设备")
    return True


@transaction.atomic
def recovery_codes_issue(*, actor) -> list[str]:
    """Replace the user's recovery codes with ``RECOVERY_CODE_COUNT`` new ones (each works once); audited.

    The codes are returned to be shown once; the audit row records that they were issued, never them.
    """
    from django_otp.plugins.otp_static.models import StaticDevice, StaticToken

    StaticDevice.objects.filter(user=actor).delete()
    device = StaticDevice.objects.create(user=actor, name=RECOVERY_DEVICE_NAME, confirmed=True)
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
    audit_record(actor=actor, action=AuditAction.CREATE, object_type=device._meta.label_lower,
                 object_id=str(device.pk), object_repr=f"{actor.get_username()} · {RECOVERY_DEVICE_NAME}",
                 after={"codes": RECOVERY_CODE_COUNT}, note="生成第二步验证恢复码")
    return codes


# ---------------------------------------------------------------------------------------------
# roles: grants and revocations (三员分立)

GRANT_PERM = "accounts.add_roleassignment"
REVOKE_PERM = "accounts.change_roleassignment"


def _role_perms(role) -> set[str]:
    return {f"{app}.{code}" for app, code in role.permissions.values_list("content_type__app_label", "codename")}


def _duties_of(perms: set[str]) -> set[str]:
    from .roles import AUDIT_DUTY, SECURITY_DUTY

    duties = set()
    if perms & AUDIT_DUTY:
        duties.add("audit")
    if perms & SECURITY_DUTY:
        duties.add("security")
    return duties


def _held_perms(user) -> set[str]:
    from .selectors import active_assignments_with_perms

    return {perm for _a, perms in active_assignments_with_perms(user) for perm in perms}


def _check_actor(actor, perm: str, target_user) -> None:
    if not has_perm_anywhere(actor, perm):
        raise PermissionDenied
    # An auditor never changes roles, even if a county put the permission into the auditor's role.
    if "audit" in _duties_of(_held_perms(actor)):
        raise PermissionDenied("三员分立：审计员不能变更角色")
    if target_user.pk == actor.pk:
        raise PermissionDenied("不能为自己授予或撤销角色")


@transaction.atomic
def role_grant(*, actor, user, role, region=None, grid=None, department=None, note: str = ""):
    """Give ``user`` ``role`` over a scope; audited. Needs ``accounts.add_roleassignment``.

    Refused (``ValidationError``) when the grant would give one login both the audit duty and the
    security duty, or an active grant of the same role over the same scope exists already.
    """
    from .models import RoleAssignment

    _check_actor(actor, GRANT_PERM, user)
    type(user).objects.select_for_update().filter(pk=user.pk).first()  # one grant at a time per user
    duties = _duties_of(_held_perms(user) | _role_perms(role))
    if {"audit", "security"} <= duties:
        raise ValidationError({"role": "三员分立：同一账号不能既是审计员又能变更角色"})
    if user.is_superuser and "audit" in duties:
        raise ValidationError({"role": "三员分立：系统管理员不能查看审计日志"})
    assignment = RoleAssignment(user=user, role=role, region=region, grid=grid, department=department)
    assignment.full_clean()
    if RoleAssignment.objects.filter(user=user, role=role, region=region, grid=grid, department=department,
                                     is_active=True).exists():
        raise ValidationError({"role": "该用户已持有这一角色"})
    assignment.save()
    audit_record(actor=actor, action=AuditAction.CREATE, obj=assignment, territory=region or grid,
                 after=_assignment_snapshot(assignment), note=note or f"授予角色：{role.name}")
    return assignment


@transaction.atomic
def role_revoke(*, actor, assignment, note: str = ""):
    """End an active role assignment (kept, inactive, for the record); audited."""
    from .models import RoleAssignment

    assignment = RoleAssignment.objects.select_for_update(of=("self",)).select_related("role", "user", "region", "grid").get(
        pk=assignment.pk)
    _check_actor(actor, REVOKE_PERM, assignment.user)
    if not assignment.is_active:
        raise ValidationError("该角色已撤销")
    before = _assignment_snapshot(assignment)
    assignment.is_active = False
    assignment.save(update_fields=["is_active"])
    audit_record(actor=actor, action=AuditAction.UPDATE, obj=assignment,
                 territory=assignment.region or assignment.grid, before=before,
                 after=_assignment_snapshot(assignment), note=note or f"撤销角色：{assignment.role.name}")
    return assignment


def _assignment_snapshot(assignment) -> dict:
    return {"user": assignment.user.get_username(), "role": assignment.role.code,
            "region_id": assignment.region_id, "grid_id": assignment.grid_id,
            "department_id": assignment.department_id, "is_active": assignment.is_active}
