"""Login lockout, through django-axes, for the login page and the API token endpoint alike.

Failures are recorded by axes (``axes.AccessAttempt``, one row per username and address) and
count per username and, separately, per client address, within a sliding window
(``AXES_COOLOFF_TIME``). The page login locks after ``GONGZHI_LOGIN_FAILURE_LIMIT`` failures (5),
the token endpoint after ``GONGZHI_API_TOKEN_FAILURE_LIMIT`` (10, its limit before axes). While
locked even the right password is refused. An administrator unlocks through
``services.login_unlock`` (page ``accounts:lockouts`` or ``gongzhi unlock_login``).
"""
from __future__ import annotations

from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import render
from django.urls import reverse


def is_api_token_request(request) -> bool:
    return getattr(request, "path", "") == reverse("api-token")


def failure_limit(request, credentials=None) -> int:
    if is_api_token_request(request):
        return settings.GONGZHI_API_TOKEN_FAILURE_LIMIT
    return settings.GONGZHI_LOGIN_FAILURE_LIMIT


def lockout_minutes() -> int:
    return int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)


LOCKED_MESSAGE = "登录失败次数过多，请稍后再试"


def lockout_response(request, original_response=None, credentials=None):
    """What a locked-out client sees: a Chinese page, or the API's structured 429."""
    if is_api_token_request(request) or request.path.startswith("/api/"):
        return JsonResponse({"error": {"code": "throttled", "message": LOCKED_MESSAGE}}, status=429)
    return render(request, "accounts/locked_out.html", {"minutes": lockout_minutes()}, status=429)
