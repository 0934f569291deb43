"""Intake settings, read from ``django.conf.settings`` with defaults (and a few environment
overrides, so a benchmark or a county can tune them without editing settings.py).

Every name is ``GONGZHI_INTAKE_*`` / ``GONGZHI_OPEN311_*``; tests change them with pytest-django's
``settings`` fixture, which works because they are read on every call.
"""
from __future__ import annotations

import os

from django.conf import settings

#: requests per window (seconds) per client; "name=count/seconds,…" in the environment.
DEFAULT_RATE_LIMITS = {
    "resident_submit": (20, 600),   # the residents' page: 20 matters per 10 minutes per IP (CGNAT-friendly)
    "resident_track": (120, 60),    # tracking-code look-ups
    "resident_feedback": (20, 600),
    # a pairing activity's on-site survey: a whole meeting room may answer from one village Wi-Fi
    "pairing_survey": (200, 600),
    "open311_post": (30, 600),      # anonymous Open311 POST per IP
    "open311_client_post": (6000, 60),  # Open311 POST per api_key client
    "open311_get": (600, 60),
}


def _parse_limits(raw: str) -> dict[str, tuple[int, int]]:
    limits = {}
    for part in raw.split(","):
        if "=" not in part:
            continue
        name, value = part.split("=", 1)
        count, _, window = value.partition("/")
        limits[name.strip()] = (int(count), int(window or 60))
    return limits


def get(name: str, default):
    return getattr(settings, name, default)


def rate_limit(scope: str) -> tuple[int, int] | None:
    """(count, window seconds) for ``scope``, or None when limits are off."""
    if not get("GONGZHI_INTAKE_RATE_LIMITS_ENABLED", os.environ.get("GONGZHI_INTAKE_RATE_LIMITS_ENABLED", "1") == "1"):
        return None
    limits = dict(DEFAULT_RATE_LIMITS)
    limits.update(_parse_limits(os.environ.get("GONGZHI_INTAKE_RATE_LIMITS", "")))
    limits.update(get("GONGZHI_INTAKE_RATE_LIMITS", {}))
    return limits.get(scope)


def max_description() -> int:
    return get("GONGZHI_INTAKE_MAX_DESCRIPTION", 4000)  # Open311 allows 4,000 characters


def max_photos() -> int:
    return get("GONGZHI_INTAKE_MAX_PHOTOS", 3)


def max_photo_bytes() -> int:
    return get("GONGZHI_INTAKE_MAX_PHOTO_BYTES", 5 * 1024 * 1024)


def max_request_bytes() -> int:
    """Refused before parsing (Django does not limit the size of uploaded files by itself)."""
    return get("GONGZHI_INTAKE_MAX_REQUEST_BYTES", max_photos() * max_photo_bytes() + 256 * 1024)


def duplicate_days() -> int:
    return get("GONGZHI_INTAKE_DUPLICATE_DAYS", 30)


def duplicate_radius_m() -> float:
    return get("GONGZHI_INTAKE_DUPLICATE_RADIUS_M", 300.0)


def duplicate_min_similarity() -> float:
    return get("GONGZHI_INTAKE_DUPLICATE_MIN_SIMILARITY", 0.3)


def cluster_min_cases() -> int:
    return get("GONGZHI_INTAKE_CLUSTER_MIN_CASES", 3)


def unclassified_code() -> str:
    return get("GONGZHI_INTAKE_UNCLASSIFIED_CATEGORY", "unclassified")


def resident_excluded_categories() -> set[str]:
    """Categories not offered on the residents' page (formal procedures staff file)."""
    return set(get("GONGZHI_INTAKE_RESIDENT_EXCLUDED_CATEGORIES", {"opinion-deputy-suggestion", "petition"}))


def open311_require_api_key() -> bool:
    return get("GONGZHI_OPEN311_REQUIRE_API_KEY", os.environ.get("GONGZHI_OPEN311_REQUIRE_API_KEY", "0") == "1")


def open311_public_detail_codes() -> set[str]:
    """Categories (besides the 意见建议 ledger) whose summary and rounded point Open311 publishes."""
    return set(get("GONGZHI_OPEN311_PUBLIC_DETAIL_CODES", {
        "demand-small-matter", "demand-roads-transport", "demand-drinking-water"}))


def trusted_proxies() -> int:
    """How many reverse proxies in front of the app append to X-Forwarded-For (0: use REMOTE_ADDR)."""
    return int(get("GONGZHI_INTAKE_TRUSTED_PROXIES", os.environ.get("GONGZHI_INTAKE_TRUSTED_PROXIES", "0")))


def idempotency_retention_days() -> int:
    return get("GONGZHI_INTAKE_IDEMPOTENCY_DAYS", 30)
