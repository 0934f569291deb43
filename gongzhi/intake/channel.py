"""The actors the public channels act as (the residents' page, Open311, SMS).

The accounts, their kind and their one-permission roles are defined in
``gongzhi.accounts.channel_actors`` and created by migration (audited); here they are only looked
up, and bound to a submission's territory before they act:

* ``intake_actor(territory=region)`` — registers what residents and Open311 clients submit, with
  ``cases.add_case`` over that region and nowhere else (``Case.registered_by`` and the audit trail
  name it, ``Case.channel`` says which channel it was);
* ``requester_actor()`` — records the requester's own satisfaction answer through the cases
  services, with ``cases.dispatch_case`` over the territory of the case the tracking code names
  (the view binds it with ``with requester_for(case):``; unbound it may do nothing).

Nobody can log in as them (unusable passwords, kind ``channel``).
"""
from __future__ import annotations

import contextlib
import contextvars
import time

from django.contrib.auth import get_user_model
from django.core.exceptions import ImproperlyConfigured
from django.db.models.signals import post_migrate

from gongzhi.accounts.channel_actors import CHANNEL_ACTORS, INTAKE_USERNAME, REQUESTER_USERNAME
from gongzhi.core.scoping import grants_and_perms, bind_to

__all__ = ["INTAKE_USERNAME", "REQUESTER_USERNAME", "intake_actor", "is_channel_account", "requester_actor",
           "requester_for"]

_cache: dict[str, tuple[float, object]] = {}
CACHE_SECONDS = 60.0


def _account(username: str):
    """The channel actor, with its grants loaded, reused for a minute within a process (one query
    instead of four per public submission). Cleared whenever the database is migrated or flushed."""
    hit = _cache.get(username)
    now = time.monotonic()
    if hit is not None and now - hit[0] < CACHE_SECONDS and type(hit[1]).objects.filter(pk=hit[1].pk).exists():
        return hit[1]  # (the check costs one query; a rolled-back or flushed database never leaves a ghost)
    user = get_user_model().objects.filter(username=username, kind="channel", is_active=True).first()
    if user is None:
        raise ImproperlyConfigured(f"the public-channel account {username} is missing: run `gongzhi migrate`")
    grants_and_perms(user)  # loads and caches the grants on the instance
    _cache[username] = (now, user)
    return user


def forget_accounts(**kwargs) -> None:
    _cache.clear()


post_migrate.connect(forget_accounts, dispatch_uid="gongzhi.intake.channel.forget_accounts")

_requester_territory: contextvars.ContextVar = contextvars.ContextVar("gongzhi_requester_territory", default=None)


def intake_actor(territory=None):
    """The actor a public submission is registered by, allowed to register in ``territory`` only.

    Without a territory it holds no right at all (a submission always names its place)."""
    account = _account(INTAKE_USERNAME)
    return bind_to(account, territory) if territory is not None else account


@contextlib.contextmanager
def requester_for(case):
    """Within this block ``requester_actor()`` may act on ``case``'s territory (its region)."""
    token = _requester_territory.set(case.region if case is not None else None)
    try:
        yield
    finally:
        _requester_territory.reset(token)


def requester_actor(territory=None):
    """The actor a requester's own satisfaction answer is recorded by (see ``requester_for``)."""
    account = _account(REQUESTER_USERNAME)
    territory = territory if territory is not None else _requester_territory.get()
    return bind_to(account, territory) if territory is not None else account


def is_channel_account(user) -> bool:
    return getattr(user, "kind", None) == "channel" and getattr(user, "username", None) in CHANNEL_ACTORS
