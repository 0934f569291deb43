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


def code(device: TOTPDevice, steps_ahead: int | None = None) -> str:
    """A code the device accepts now, as a person's authenticator would give it.

    A device never accepts a step twice (``last_t``) and, with ``OTP_TOTP_SYNC``, shifts its
    window by the drift of the last match — a code typed at the end of a step and checked in the
    next leaves the device at drift -1. So: forget the drift (the authenticator's clock is ours),
    take the first step after the last one used (the current one, or the next within the
    tolerance; wait when even that is used). ``steps_ahead`` forces a step (0 = now, 1 = next).
    """
    device.refresh_from_db()
    if device.drift:
        device.drift = 0
        device.save(update_fields=["drift"])
    while True:
        now = int((time.time() - device.t0) // device.step)
        if steps_ahead is not None:
            target = now + steps_ahead
        else:
            target = max(now, device.last_t + 1)
        if target - now <= device.tolerance:
            break
        time.sleep(1)
    value = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=target - now)
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
