"""A small fixed-window rate limiter on Django's cache (Redis in production with ``REDIS_URL``).

``allow(scope, ident)`` counts one request and says whether it is within the limit for
``scope`` (``conf.rate_limit``). With the local-memory cache (the demo) each server process
counts on its own; with Redis the count is shared by every worker. When the cache is down the
request is allowed: losing a resident's matter is worse than letting a burst through.
"""
from __future__ import annotations

import logging
import time

from django.core.cache import cache

from . import conf

logger = logging.getLogger(__name__)


def client_ip(request) -> str:
    """The client's address: REMOTE_ADDR, or the address the trusted proxies saw."""
    proxies = conf.trusted_proxies()
    if proxies:
        forwarded = [p.strip() for p in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if p.strip()]
        if len(forwarded) >= proxies:
            return forwarded[-proxies][:64]
    return request.META.get("REMOTE_ADDR", "")[:64] or "unknown"


def allow(scope: str, ident: str) -> bool:
    limit = conf.rate_limit(scope)
    if limit is None:
        return True
    count, window = limit
    bucket = int(time.time() // window)
    key = f"gongzhi:intake:rl:{scope}:{ident}:{bucket}"
    try:
        if cache.add(key, 1, timeout=window + 5):
            used = 1
        else:
            try:
                used = cache.incr(key)
            except ValueError:  # expired between add and incr
                cache.set(key, 1, timeout=window + 5)
                used = 1
    except Exception:  # pragma: no cover - the cache backend is down
        logger.exception("rate limiter unavailable; allowing the request")
        return True
    return used <= count


def retry_after(scope: str) -> int:
    limit = conf.rate_limit(scope)
    if limit is None:
        return 0
    window = limit[1]
    return int(window - time.time() % window) + 1
