from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from gongzhi.core.scoping import require_perm

from . import services
from .forms import LoginForm
from .lockout import failure_limit


class LoginView(auth_views.LoginView):
    """The login page (in Chinese by default); a logged-in user is sent on to the home page."""

    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True


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
    except PermissionDenied:
        raise
    else:
        messages.success(request, f"已解除锁定（清除 {count} 条失败记录）。")
    return redirect("accounts:lockouts")
