"""Second-factor helpers for tests: a TOTP device with a known key, its current code, and a
test client session marked as verified (what ``force_login`` does in these tests)."""
from __future__ import annotations

import time

from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

KEY = "3132333435363738393031323334353637383930"  # RFC 6238's test secret, hex


def totp_device(user, name: str = "test") -> TOTPDevice:
    device, _ = TOTPDevice.objects.get_or_create(user=user, name=name, defaults={"key": KEY, "confirmed": True})
    return device


def code(device: TOTPDevice, steps_ahead: int = 0) -> str:
    """The device's code now (``steps_ahead`` = 1: the next 30-second step, within the tolerance,
    for a second login within one step: a device never accepts the same step twice)."""
    device.refresh_from_db()
    value = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=steps_ahead)
    return f"{value:0{device.digits}d}"


def verify_session(client, user) -> None:
    """Mark the client's session as having passed the second step, if the user needs one."""
    from gongzhi.accounts.otp import needs_second_factor

    fresh = type(user).objects.get(pk=user.pk)  # never leave grants cached on the caller's instance
    if not needs_second_factor(fresh):
        return
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = totp_device(fresh).persistent_id
    session.save()


__all__ = ["KEY", "code", "time", "totp_device", "verify_session"]
