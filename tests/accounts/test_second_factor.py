"""Second factor (django-otp): who needs it, the gate, enrolment, verification, recovery codes, SMS,
and the API token endpoint."""
import base64
import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticToken
from rest_framework.test import APIClient

from gongzhi.accounts import services
from gongzhi.accounts.models import Role, RoleAssignment, User
from gongzhi.accounts.otp import needs_second_factor
from gongzhi.core.models import AuditLog
from tests.otp import code, totp_device
from tests.world import PASSWORD

OPEN = {"/accounts/login/", "/accounts/logout/", "/accounts/otp/enrol/", "/accounts/otp/verify/",
        "/accounts/otp/recovery/"}


def _password_login(client, username):
    response = client.post("/accounts/login/", {"username": username, "password": PASSWORD})
    assert response.status_code == 302, response.content[:300]
    return response


def _unthrottle(user):
    from django_otp.plugins.otp_static.models import StaticDevice
    from django_otp.plugins.otp_totp.models import TOTPDevice

    for model in (TOTPDevice, StaticDevice):
        model.objects.filter(user=user).update(throttling_failure_count=0, throttling_failure_timestamp=None)


def _parameterless_pages(patterns=None, prefix=""):
    patterns = get_resolver().url_patterns if patterns is None else patterns
    for entry in patterns:
        if isinstance(entry, URLResolver):
            ns = f"{prefix}{entry.namespace}:" if entry.namespace else prefix
            yield from _parameterless_pages(entry.url_patterns, ns)
        elif isinstance(entry, URLPattern) and entry.name:
            try:
                yield reverse(f"{prefix}{entry.name}")
            except Exception:  # needs arguments
                continue


def test_who_needs_a_second_factor_is_read_from_permissions(world):
    def needs(name):
        return needs_second_factor(User.objects.get(username=name))

    assert needs("county_secretary") and needs("grid_worker_a1_1")  # reveal ID numbers and phones
    assert needs("auditor")  # reads the audit trail
    assert not needs("department_handler") and not needs("three_line_a1")
    assert needs_second_factor(world.system)  # superuser
    # a county's own role: no name to go by, only the permission
    role = Role.objects.create(code="privacy_officer", name="自定义", scope_kind="all")
    user = User.objects.create_user(username="custom", password=PASSWORD)
    RoleAssignment.objects.create(user=user, role=role)
    assert not needs_second_factor(User.objects.get(pk=user.pk))
    role.permissions.add(Role.objects.get(code="county_secretary").permissions.get(codename="reveal_person"))
    assert needs_second_factor(User.objects.get(pk=user.pk))


def test_an_admin_without_a_second_factor_reaches_no_page(world, client):
    response = _password_login(client, "system")
    assert response["Location"].startswith("/accounts/otp/enrol/")
    pages = sorted(set(_parameterless_pages()) - OPEN)
    assert len(pages) > 20 and "/admin/" in pages and "/audit/" in pages
    for url in pages:
        response = client.get(url)
        if url.startswith("/api/"):
            assert response.status_code == 403 and response.json()["error"]["code"] == "second_factor_required", url
        else:
            assert response.status_code == 302 and response["Location"].startswith("/accounts/otp/enrol/"), url
    # with a device but not verified: sent to the verify page instead, and may not enrol another
    totp_device(world.system)
    assert client.get("/audit/")["Location"].startswith("/accounts/otp/verify/")
    assert client.get("/accounts/otp/enrol/")["Location"].startswith("/accounts/otp/verify/")


def test_enrolment_with_the_secret_shown_as_text_lets_the_admin_in(world, client):
    _password_login(client, "system")
    page = client.get("/accounts/otp/enrol/")
    body = page.content.decode()
    assert page.status_code == 200 and "<svg" in body and "设置第二步验证" in body
    secret = re.search(r'id="otp-secret"[^>]*>([A-Z2-7=]+)<', body).group(1)
    wrong = client.post("/accounts/otp/enrol/", {"action": "totp", "token": "000000"})
    assert "验证码不正确" in wrong.content.decode()
    _unthrottle(world.system)  # a wrong code slows the next try down (by a second, doubling)
    good = f"{totp(base64.b32decode(secret)):06d}"
    done = client.post("/accounts/otp/enrol/", {"action": "totp", "token": good, "next": "/audit/"})
    assert done.status_code == 200 and "恢复码" in done.content.decode()
    assert len(re.findall(r"<li><code>", done.content.decode())) == services.RECOVERY_CODE_COUNT
    assert client.get("/").status_code == 200
    assert AuditLog.objects.filter(actor=world.system, note="启用第二步验证设备").count() == 1


def test_a_valid_totp_code_on_the_verify_page_lets_the_admin_in(world, client):
    device = totp_device(world.system)
    response = _password_login(client, "system")
    assert response["Location"].startswith("/accounts/otp/verify/")
    assert client.get("/").status_code == 302
    refused = client.post("/accounts/otp/verify/", {"token": "123456"})
    assert refused.status_code == 200 and "验证码不正确" in refused.content.decode()
    _unthrottle(world.system)
    ok = client.post("/accounts/otp/verify/", {"token": code(device), "next": "/registry/search/"})
    assert ok.status_code == 302 and ok["Location"] == "/registry/search/"
    assert client.get("/").status_code == 200


def test_a_recovery_code_works_once(world, client):
    totp_device(world.system)
    codes = services.recovery_codes_issue(actor=world.system)
    _password_login(client, "system")
    assert client.post("/accounts/otp/verify/", {"token": codes[0]}).status_code == 302
    assert client.get("/").status_code == 200
    assert not StaticToken.objects.filter(token=codes[0]).exists()
    client.post("/accounts/logout/")
    _password_login(client, "system")
    again = client.post("/accounts/otp/verify/", {"token": codes[0]})
    assert again.status_code == 200 and "验证码不正确" in again.content.decode()
    assert client.get("/").status_code == 302
    _unthrottle(world.system)
    assert client.post("/accounts/otp/verify/", {"token": codes[1]}).status_code == 302


def test_sms_is_a_second_device_type_sent_through_the_sms_channel(world, client, settings):
    from gongzhi.cases.notifications import LocmemSMSBackend

    settings.GONGZHI_SMS_BACKEND = "gongzhi.cases.notifications.LocmemSMSBackend"
    LocmemSMSBackend.outbox.clear()
    _password_login(client, "auditor")
    client.post("/accounts/otp/enrol/", {"action": "sms-send", "phone": "138 0000 1111"})
    phone, text = LocmemSMSBackend.outbox[-1]
    assert phone == "13800001111" and "验证码" in text
    sent = re.search(r"(\d{6})", text).group(1)
    done = client.post("/accounts/otp/enrol/", {"action": "sms-confirm", "token": sent})
    assert done.status_code == 200 and "恢复码" in done.content.decode()
    assert client.get("/audit/").status_code == 200
    # next login: ask for a text, answer with it
    client.post("/accounts/logout/")
    _password_login(client, "auditor")
    client.post("/accounts/otp/verify/", {"action": "sms-send"})
    sent = re.search(r"(\d{6})", LocmemSMSBackend.outbox[-1][1]).group(1)
    assert client.post("/accounts/otp/verify/", {"token": sent}).status_code == 302
    assert client.get("/audit/").status_code == 200


@pytest.mark.parametrize("username", ["grid_worker_a1_1"])
def test_the_api_token_needs_the_code_for_logins_that_need_a_second_factor(world, username):
    client = APIClient()
    url = reverse("api-token")
    creds = {"username": username, "password": PASSWORD}
    not_enrolled = client.post(url, creds, format="json")
    assert not_enrolled.status_code == 403
    assert not_enrolled.json()["error"]["code"] == "second_factor_enrolment_required"
    device = totp_device(world.user(username))
    assert client.post(url, creds, format="json").json()["error"]["code"] == "otp_required"
    assert client.post(url, {**creds, "otp": "000000"}, format="json").json()["error"]["code"] == "otp_invalid"
    device.throttle_reset()
    response = client.post(url, {**creds, "otp": code(device)}, format="json")
    assert response.status_code == 200 and response.json()["token"]
    # a login that needs none gets its token with the password alone
    assert client.post(url, {"username": "department_handler", "password": PASSWORD}, format="json").status_code == 200


def test_the_demo_admin_gets_in_with_the_published_demo_secret(world, client):
    from django.core.management import call_command

    from gongzhi.demo.logins import DEMO_PASSWORD, demo_totp_code, ensure_demo_logins, login_table

    plan = ensure_demo_logins()
    assert "GONGZHIDEMOTOTPKEY234567" in login_table(plan)
    assert {p.username for p in plan if p.second_factor} >= {"admin", "auditor", "county"}
    assert "dept" not in {p.username for p in plan if p.second_factor}
    response = client.post("/accounts/login/", {"username": "admin", "password": DEMO_PASSWORD})
    assert response["Location"].startswith("/accounts/otp/verify/")
    import io

    out = io.StringIO()
    call_command("demo_otp", stdout=out)
    assert out.getvalue().split()[0] == demo_totp_code()[0]
    assert client.post("/accounts/otp/verify/", {"token": demo_totp_code()[0]}).status_code == 302
    assert client.get("/").status_code == 200
