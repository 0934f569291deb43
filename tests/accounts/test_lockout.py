"""Login lockout (django-axes): the page and the API token endpoint, and the audited unlock."""
import datetime as dt

from axes.models import AccessAttempt, AccessAttemptExpiration
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from gongzhi.core.models import AuditLog
from tests.world import PASSWORD

LOGIN = "/accounts/login/"


def _post(client, username, password, ip="10.0.0.7"):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=ip)


def test_25_wrong_passwords_then_the_right_one_is_refused(world, client, settings):
    assert settings.GONGZHI_LOGIN_FAILURE_LIMIT == 5
    codes = [_post(client, "department_handler", f"wrong-{i}").status_code for i in range(25)]
    assert codes[:4] == [200] * 4  # the form again, with its error
    assert set(codes[4:]) == {429}  # the fifth failure locks
    response = _post(client, "department_handler", PASSWORD)
    assert response.status_code == 429
    assert "登录已锁定" in response.content.decode() and "分钟后再试" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_the_lock_is_per_user_from_any_address_and_per_address_for_any_user(world, client):
    for i in range(5):
        _post(client, "department_handler", "wrong", ip=f"10.0.1.{i}")  # five addresses, one user
    assert _post(client, "department_handler", PASSWORD, ip="10.0.2.1").status_code == 429
    for i in range(5):
        _post(client, f"someone-{i}", "wrong", ip="10.0.3.3")  # five users, one address
    assert _post(client, "three_line_a1", PASSWORD, ip="10.0.3.3").status_code == 429
    # another user from another address is not affected
    assert _post(client, "three_line_a1", PASSWORD, ip="10.0.4.4").status_code == 302


def test_failures_older_than_the_window_no_longer_count(world, client):
    for _ in range(4):
        _post(client, "department_handler", "wrong")
    # the window runs from the last failure (AXES_USE_ATTEMPT_EXPIRATION): let it pass
    AccessAttemptExpiration.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    _post(client, "department_handler", "wrong")
    assert _post(client, "department_handler", PASSWORD).status_code == 302


def test_an_administrator_unlocks_from_the_page_and_it_is_audited(world, client):
    for _ in range(6):
        _post(client, "department_handler", "wrong")
    assert _post(client, "department_handler", PASSWORD).status_code == 429
    admin = world.user("sysadmin")
    client.force_login(admin)
    page = client.get(reverse("accounts:lockouts"))
    assert page.status_code == 200 and "department_handler" in page.content.decode()
    response = client.post(reverse("accounts:unlock"), {"username": "department_handler"})
    assert response.status_code == 302
    row = AuditLog.objects.get(object_type="axes.accessattempt")
    assert row.actor == admin and row.object_id == "department_handler" and "解除登录锁定" in row.note
    assert row.before["attempts"][0]["failures_since_start"] >= 5
    client.logout()
    assert _post(client, "department_handler", PASSWORD).status_code == 302


def test_unlock_by_command_is_audited_and_needs_the_permission(world, client):
    for _ in range(5):
        _post(client, "department_handler", "wrong", ip="10.9.9.9")
    call_command("unlock_login", "--by", "sysadmin", "--ip", "10.9.9.9")
    assert not AccessAttempt.objects.exists()
    assert AuditLog.objects.filter(object_type="axes.accessattempt", actor=world.user("sysadmin")).count() == 1
    import pytest
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("unlock_login", "--by", "auditor", "--username", "x")
    assert _post(client, "department_handler", PASSWORD, ip="10.9.9.9").status_code == 302


def test_a_forwarded_for_header_does_not_choose_the_counted_address(world, client):
    for i in range(5):  # five users from one connection, each claiming another address
        client.post(LOGIN, {"username": f"someone-{i}", "password": "wrong"}, REMOTE_ADDR="10.7.7.7",
                    HTTP_X_FORWARDED_FOR=f"192.0.2.{i}")
    assert _post(client, "three_line_a1", PASSWORD, ip="10.7.7.7").status_code == 429
