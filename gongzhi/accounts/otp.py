"""Who needs a second factor, and checking one (django-otp: TOTP, SMS, static recovery codes).

The rule is read from permissions, never from role names: a login needs a second factor when it
is a superuser or staff (the Django admin), or when any of its roles carries a permission that
reveals ID numbers or phones, reads the audit trail, or changes roles (``SENSITIVE_PERMISSIONS``,
plus any permission whose codename starts with ``reveal_``). A county that gives such a
permission to a new role of its own gets the second factor with it.
"""
from __future__ import annotations

from django.db import transaction
from django_otp import devices_for_user

from gongzhi.core.scoping import grants_and_perms

SENSITIVE_PERMISSIONS = frozenset({
    "registry.reveal_person",      # unmasks ID numbers and phones
    "cases.view_complainant",      # who filed a complaint or report, with their phone
    "core.view_auditlog",          # the audit trail (the auditor)
    "accounts.add_roleassignment", "accounts.change_roleassignment", "accounts.delete_roleassignment",
    "accounts.add_role", "accounts.change_role", "accounts.delete_role",
})


def is_sensitive(perm: str) -> bool:
    return perm in SENSITIVE_PERMISSIONS or perm.split(".", 1)[-1].startswith("reveal_")


def needs_second_factor(user) -> bool:
    if user is None or not user.is_authenticated:
        return False
    if user.is_superuser or user.is_staff:
        return True
    # The grants scoping loads (and caches on the user for the request): no extra query on a page.
    return any(is_sensitive(perm) for _grant, perms in grants_and_perms(user) for perm in perms)


def confirmed_devices(user) -> list:
    return list(devices_for_user(user, confirmed=True))


def match_token(user, token: str):
    """The user's confirmed device that accepts ``token`` (each device throttles wrong tries), or None.

    A static recovery code is removed when it matches: it works once.
    """
    token = (token or "").strip().replace(" ", "")
    if not token:
        return None
    # for_verify locks the devices (SELECT … FOR UPDATE): one check at a time per device, so a
    # code (or a recovery code) cannot be used twice by racing requests.
    with transaction.atomic():
        for device in devices_for_user(user, confirmed=True, for_verify=True):
            if device.verify_token(token):
                return device
    return None
