"""Second factor gate: a login that needs one reaches nothing but the second-factor pages and
logout until its session is verified (django-otp's ``OTPMiddleware`` runs first and sets
``request.user.is_verified()``).

Fail closed: the gate looks at the user's permissions on every request, not at a flag set by
the login page, so a session made any other way (the Django admin's login, a role granted
mid-session) is held at the gate all the same. Token-authenticated API calls are decided at
token issuance (``api.TokenView`` asks for the code), so they do not pass through here.
"""
from __future__ import annotations

from urllib.parse import urlencode

from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import reverse

from .otp import confirmed_devices, needs_second_factor

OPEN_URL_NAMES = ("accounts:login", "accounts:logout", "accounts:otp-verify", "accounts:otp-enrol",
                  "accounts:otp-recovery")


class SecondFactorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and not user.is_verified() and needs_second_factor(user):
            if not self._open(request.path_info):
                return self._refuse(request, user)
        return self.get_response(request)

    @staticmethod
    def _open(path: str) -> bool:
        from django.conf import settings

        if path.startswith(settings.STATIC_URL):
            return True
        return any(path == reverse(name) for name in OPEN_URL_NAMES)

    @staticmethod
    def _refuse(request, user):
        if request.path_info.startswith("/api/"):
            return JsonResponse({"error": {"code": "second_factor_required",
                                           "message": "需要先完成第二步验证（动态验证码）"}}, status=403)
        target = "accounts:otp-verify" if confirmed_devices(user) else "accounts:otp-enrol"
        return redirect(f"{reverse(target)}?{urlencode({'next': request.get_full_path()})}")
