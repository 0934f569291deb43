"""REST API of accounts: obtain a token, and "who am I" (roles, scopes, permissions).

``POST /api/auth/token/`` takes a username and password and returns the user's DRF token (the same
token on every call until it is deleted). It ignores any credentials sent with the request, so a
client holding a stale token can still log in again. Failed attempts are recorded by django-axes,
the same records as the login page's (``accounts.lockout``): after ``MAX_FAILURES`` within the
window the endpoint answers 429, even to the right password, until the window passes or an
administrator unlocks (a password oracle must not be free to hammer). A login that needs a
second factor (``accounts.otp``) also sends ``otp``: a code from its authenticator or a recovery code.
"""
from __future__ import annotations

from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.authtoken.models import Token
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from gongzhi.core.api import api_errors, error_response

from .lockout import LOCKED_MESSAGE
from .otp import confirmed_devices, match_token, needs_second_factor
from .selectors import user_assignments

MAX_FAILURES = settings.GONGZHI_API_TOKEN_FAILURE_LIMIT


class TokenOutput(serializers.Serializer):
    token = serializers.CharField(read_only=True)
    user_id = serializers.IntegerField(read_only=True)
    username = serializers.CharField(read_only=True)


class TokenInput(serializers.Serializer):
    username = serializers.CharField()
    password = serializers.CharField(style={"input_type": "password"})
    otp = serializers.CharField(required=False, help_text="One-time code (authenticator app or a recovery code); "
                                                          "required for logins that need a second factor.")


class TokenView(ObtainAuthToken):
    authentication_classes = ()
    permission_classes = ()

    @extend_schema(
        summary="Obtain an API token", tags=["auth"], request=TokenInput,
        responses={200: TokenOutput, **api_errors(400, 403, 429)},
        auth=[],
    )
    def post(self, request, *args, **kwargs):
        username = str(request.data.get("username", ""))[:150]
        # Asked before the password is checked: a locked client learns nothing from trying.
        if not AxesProxyHandler.is_allowed(request, {"username": username}):
            return error_response("throttled", LOCKED_MESSAGE, status.HTTP_429_TOO_MANY_REQUESTS)
        # authenticate() inside the serializer goes through axes, which records a failure.
        serializer = AuthTokenSerializer(data=request.data, context={"request": request})
        if not serializer.is_valid():
            raise ValidationError(serializer.errors)
        user = serializer.validated_data["user"]
        if needs_second_factor(user):
            # The token outlives the session, so it is issued only with the second factor too.
            if not confirmed_devices(user):
                return error_response("second_factor_enrolment_required",
                                      "该账号需要第二步验证：请先在网页上设置身份验证器（/accounts/otp/enrol/）",
                                      status.HTTP_403_FORBIDDEN)
            if not str(request.data.get("otp", "")).strip():
                return error_response("otp_required", "请同时提供动态验证码（otp）", status.HTTP_400_BAD_REQUEST)
            if match_token(user, str(request.data.get("otp", ""))) is None:
                return error_response("otp_invalid", "动态验证码不正确或已过期", status.HTTP_400_BAD_REQUEST)
        # A success forgives this client's earlier failures for this user (as the page login does).
        AxesProxyHandler.reset_attempts(username=user.get_username(), ip_address=request.axes_ip_address)
        token, _created = Token.objects.get_or_create(user=user)
        return Response(TokenOutput({"token": token.key, "user_id": user.pk, "username": user.get_username()}).data)


class ScopeOutput(serializers.Serializer):
    kind = serializers.CharField(help_text="all | region | grid | department | contacts")
    id = serializers.IntegerField(allow_null=True, help_text="The region, grid or department id, if any.")
    name = serializers.CharField()


class RoleOutput(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    scope = ScopeOutput()


class UserOutput(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    display_name = serializers.CharField()
    person = serializers.IntegerField(allow_null=True, help_text="The registry person this login belongs to.")
    is_superuser = serializers.BooleanField()


class MeOutput(serializers.Serializer):
    user = UserOutput()
    roles = RoleOutput(many=True, help_text="Active role assignments, each over its scope.")
    permissions = serializers.ListField(child=serializers.CharField(),
                                        help_text='Permissions held somewhere ("app.codename"); where is the scope.')


class MeView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(summary="The caller: user, roles with their scopes, permissions", tags=["auth"],
                   responses={200: MeOutput, **api_errors(401)})
    def get(self, request):
        user = request.user
        roles = []
        for assignment in user_assignments(user):
            target = assignment.region or assignment.grid or assignment.department
            roles.append({
                "code": assignment.role.code,
                "name": assignment.role.name,
                "scope": {"kind": assignment.role.scope_kind, "id": target.pk if target else None,
                          "name": assignment.scope_label()},
            })
        data = {
            "user": {"id": user.pk, "username": user.get_username(), "display_name": user.display_name,
                     "person": user.person_id, "is_superuser": user.is_superuser},
            "roles": roles,
            "permissions": sorted(user.get_all_permissions()),
        }
        return Response(MeOutput(data).data)
