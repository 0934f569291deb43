"""The accounts the public channels act as.

The cases services take a staff ``actor`` and check its permissions (``case_register`` needs
``cases.add_case`` in scope, ``case_record_satisfaction`` needs ``cases.dispatch_case``). A
resident on the public page or an Open311 client is not a login, so the channels act through
two *service accounts*, each with a role carrying exactly one permission:

* ``gongzhi-intake`` (群众自助登记) — role ``intake_channel``: ``cases.add_case`` over everything;
  registers what residents and Open311 clients submit. ``Case.registered_by`` and the audit
  trail name it, ``Case.channel`` says which channel it was.
* ``gongzhi-requester`` (群众本人（凭查询码）) — role ``requester_feedback``: ``cases.dispatch_case``
  over everything, used *only* by ``services.resident_feedback_record`` to record the
  requester's own satisfaction answer through ``cases.services.case_record_satisfaction`` /
  ``case_confirm_settlement`` (so the transition table, locking, the timeline and the audit
  trail apply exactly as for staff). It is never used for any other step.

Both have unusable passwords and are not staff: nobody can log in as them. They are created on
first use (and after a test database is flushed) — rows, like every role in this project.
"""
from __future__ import annotations

import time

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db import IntegrityError, transaction
from django.db.models.signals import post_migrate

from gongzhi.accounts.models import Role, RoleAssignment, ScopeKind
from gongzhi.core.scoping import has_perm_anywhere

INTAKE_USERNAME = "gongzhi-intake"
REQUESTER_USERNAME = "gongzhi-requester"

ACCOUNTS = {
    INTAKE_USERNAME: ("群众自助登记", "intake_channel", "受理渠道（群众自助、Open311）", "cases.add_case"),
    REQUESTER_USERNAME: ("群众本人（凭查询码）", "requester_feedback", "群众本人评价（凭查询码）",
                         "cases.dispatch_case"),
}


def _ensure(username: str, *, retry: bool = True):
    display, role_code, role_name, perm = ACCOUNTS[username]
    User = get_user_model()
    user = User.objects.filter(username=username).first()
    if user is not None and RoleAssignment.objects.filter(user=user, role__code=role_code, is_active=True).exists():
        return user
    app_label, codename = perm.split(".")
    permission = Permission.objects.get(content_type__app_label=app_label, codename=codename)
    try:
        with transaction.atomic():
            role, _ = Role.objects.get_or_create(code=role_code, defaults={
                "name": role_name, "scope_kind": ScopeKind.ALL, "is_builtin": True,
                "description": "服务账号专用，只含一项权限；不要分配给人员。"})
            role.permissions.set([permission])
            user = User.objects.select_for_update().filter(username=username).first()
            if user is None:
                user = User(username=username, display_name=display, is_staff=False)
                user.set_unusable_password()
                user.save()
            if not RoleAssignment.objects.filter(user=user, role=role, is_active=True).exists():
                RoleAssignment.objects.create(user=user, role=role)
    except IntegrityError:  # created concurrently: that transaction has committed by now
        if retry:
            return _ensure(username, retry=False)
        raise
    return User.objects.get(pk=user.pk)  # fresh: no stale grant cache


_cache: dict[str, tuple[float, object]] = {}
CACHE_SECONDS = 60.0


def _cached(username: str):
    """The account, with its grants loaded, reused for a minute within a process (one query
    instead of four per public submission). Cleared whenever the database is migrated or flushed."""
    hit = _cache.get(username)
    now = time.monotonic()
    if hit is not None and now - hit[0] < CACHE_SECONDS and type(hit[1]).objects.filter(pk=hit[1].pk).exists():
        return hit[1]  # (the check costs one query; a rolled-back or flushed database never leaves a ghost)
    user = _ensure(username)
    has_perm_anywhere(user, ACCOUNTS[username][3])  # loads and caches the grants on the instance
    _cache[username] = (now, user)
    return user


def forget_accounts(**kwargs) -> None:
    _cache.clear()


post_migrate.connect(forget_accounts, dispatch_uid="gongzhi.intake.channel.forget_accounts")


def intake_actor():
    """The account public submissions are registered by."""
    return _cached(INTAKE_USERNAME)


def requester_actor():
    """The account a requester's own satisfaction answer is recorded by."""
    return _cached(REQUESTER_USERNAME)


def is_channel_account(user) -> bool:
    return getattr(user, "username", None) in ACCOUNTS
