from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render, resolve_url
from django.views.decorators.http import require_POST
from django_otp import login as otp_login

from gongzhi.core.pagination import paginate
from gongzhi.core.scoping import require_perm

from . import services
from .forms import LoginForm
from .lockout import failure_limit


class LoginView(auth_views.LoginView):
    """The login page (in Chinese by default); a logged-in user is sent on to the home page."""

    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def get_success_url(self):
        """Straight on to the second step when this login needs one (the gate would send it there anyway)."""
        from urllib.parse import urlencode

        from .otp import confirmed_devices, needs_second_factor

        url = super().get_success_url()
        user = self.request.user
        # just logged in with the password alone: never verified yet (login() set a fresh user)
        if needs_second_factor(user):
            step = "accounts:otp-verify" if confirmed_devices(user) else "accounts:otp-enrol"
            return f"{resolve_url(step)}?{urlencode({'next': url})}"
        return url


@login_required
def lockouts(request):
    """Who is locked out (or on the way to it), for the administrator who may unlock."""
    from axes.models import AccessAttempt

    require_perm(request.user, services.UNLOCK_PERM)
    limit = failure_limit(request)
    attempts = list(AccessAttempt.objects.order_by("-attempt_time")[:200])
    for attempt in attempts:
        attempt.locked = attempt.failures_since_start >= limit
    return render(request, "accounts/lockouts.html", {"attempts": attempts, "limit": limit})


@login_required
@require_POST
def unlock(request):
    require_perm(request.user, services.UNLOCK_PERM)
    try:
        count = services.login_unlock(actor=request.user, username=request.POST.get("username", ""),
                                      ip_address=request.POST.get("ip_address", ""))
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    else:
        messages.success(request, f"已解除锁定（清除 {count} 条失败记录）。")
    return redirect("accounts:lockouts")


# ---------------------------------------------------------------------------------------------
# second factor: enrolment, verification, recovery codes


def _next(request) -> str:
    from django.utils.http import url_has_allowed_host_and_scheme

    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return resolve_url("home")


def _show_recovery_codes(request, codes):
    return render(request, "accounts/otp_recovery.html", {"codes": codes, "next": _next(request)})


@login_required
def otp_enrol(request):
    """Enrol an authenticator app (QR code, or the secret as text) or a phone for SMS codes."""
    import base64

    import segno

    from .otp import confirmed_devices

    user = request.user
    if confirmed_devices(user) and not user.is_verified():
        # Only a verified session may add a device: a stolen password must not enrol its own.
        return redirect(f"{resolve_url('accounts:otp-verify')}?next={_next(request)}")
    device = services.totp_device_pending(user=user)
    sms_device = None
    error = ""
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "sms-send":
            try:
                sms_device = services.sms_device_start(user=user, phone=request.POST.get("phone", ""))
            except ValidationError as exc:
                error = "；".join(exc.messages)
        else:
            from .models import SMSDevice

            if action == "sms-confirm":
                sms_device = SMSDevice.objects.filter(user=user, confirmed=False).order_by("-pk").first()
                target = sms_device
            else:
                target = device
            if target is not None and services.second_factor_confirm(actor=user, device=target,
                                                                     token=request.POST.get("token", "")):
                otp_login(request, target)
                return _show_recovery_codes(request, services.recovery_codes_issue(actor=user))
            error = "验证码不正确或已过期，请重试"
    url = device.config_url
    return render(request, "accounts/otp_enrol.html", {
        "qr_svg": segno.make(url, error="m").svg_inline(scale=4), "secret": base64.b32encode(device.bin_key).decode(),
        "sms_device": sms_device, "error": error, "next": _next(request),
    })


@login_required
def otp_verify(request):
    """The second step after the password: a code from the authenticator, an SMS or a recovery code."""
    from .models import SMSDevice
    from .otp import confirmed_devices, match_token

    user = request.user
    if not confirmed_devices(user):
        return redirect(f"{resolve_url('accounts:otp-enrol')}?next={_next(request)}")
    error = info = ""
    sms_devices = list(SMSDevice.objects.filter(user=user, confirmed=True))
    if request.method == "POST":
        if request.POST.get("action") == "sms-send" and sms_devices:
            info = sms_devices[0].generate_challenge()
        else:
            device = match_token(user, request.POST.get("token", ""))
            if device is not None:
                otp_login(request, device)
                return redirect(_next(request))
            error = "验证码不正确或已过期，请重试"
    return render(request, "accounts/otp_verify.html", {"error": error, "info": info, "has_sms": bool(sms_devices),
                                                        "next": _next(request)})


@login_required
def otp_recovery(request):
    """New recovery codes (the old ones stop working), for a verified session."""
    from .otp import needs_second_factor

    if needs_second_factor(request.user) and not request.user.is_verified():
        return redirect(f"{resolve_url('accounts:otp-verify')}?next={request.path}")
    if request.method == "POST":
        return _show_recovery_codes(request, services.recovery_codes_issue(actor=request.user))
    return render(request, "accounts/otp_recovery.html", {"codes": None, "next": _next(request)})


# ---------------------------------------------------------------------------------------------
# roles: the county administrator's page


@login_required
def roles(request):
    """Role assignments (filterable by username), a grant form and revoke buttons."""
    from .forms import RoleGrantForm
    from .models import RoleAssignment

    require_perm(request.user, services.GRANT_PERM)
    form = RoleGrantForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.role_grant(actor=request.user, user=data["user"], role=data["role"], region=data["region"],
                                grid=data["grid"], department=data["department"])
        except ValidationError as exc:
            for message in exc.messages:
                form.add_error(None, message)
        else:
            messages.success(request, f"已授予 {data['user'].get_username()}：{data['role'].name}")
            return redirect("accounts:roles")
    q = request.GET.get("q", "").strip()
    assignments = RoleAssignment.objects.select_related("user", "role", "region", "grid", "department").order_by(
        "-is_active", "user__username", "pk")
    if q:
        assignments = assignments.filter(user__username__icontains=q)
    return render(request, "accounts/roles.html", {"form": form, "assignments": paginate(request, assignments), "q": q})


@login_required
@require_POST
def role_revoke(request, pk):
    from django.shortcuts import get_object_or_404

    from .models import RoleAssignment

    require_perm(request.user, services.REVOKE_PERM)
    assignment = get_object_or_404(RoleAssignment, pk=pk)
    try:
        services.role_revoke(actor=request.user, assignment=assignment)
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    else:
        messages.success(request, f"已撤销 {assignment.user.get_username()}：{assignment.role.name}")
    return redirect("accounts:roles")
