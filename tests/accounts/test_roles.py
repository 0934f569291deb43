"""Role grants and revocations: audited services, the county administrator's page, and the
separation of duties (三员分立)."""
import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from gongzhi.accounts import services
from gongzhi.accounts.models import Role, RoleAssignment, User
from gongzhi.core.models import AuditLog
from gongzhi.core.scoping import has_perm_anywhere
from tests.world import PASSWORD


def _role(code):
    return Role.objects.get(code=code)


def _fresh(name):
    return User.objects.get(username=name)


def test_grant_and_revoke_are_audited_and_take_effect(world):
    admin = world.user("county_admin")
    newcomer = User.objects.create_user(username="newcomer", password=PASSWORD)
    assignment = services.role_grant(actor=admin, user=newcomer, role=_role("village_secretary"),
                                     region=world.regions["A1"])
    assert has_perm_anywhere(_fresh("newcomer"), "registry.reveal_person")
    row = AuditLog.objects.get(object_type="accounts.roleassignment", action="create")
    assert row.actor == admin and row.after["role"] == "village_secretary" and row.village_id == world.regions["A1"].pk
    services.role_revoke(actor=admin, assignment=assignment)
    assert not has_perm_anywhere(_fresh("newcomer"), "registry.reveal_person")
    revoked = AuditLog.objects.get(object_type="accounts.roleassignment", action="update")
    assert revoked.before["is_active"] is True and revoked.after["is_active"] is False
    assert RoleAssignment.objects.filter(pk=assignment.pk, is_active=False).exists()  # kept for the record


def test_the_scope_must_fit_the_role(world):
    with pytest.raises(ValidationError):
        services.role_grant(actor=world.user("county_admin"), user=world.user("three_line_a1"),
                            role=_role("grid_worker"), region=world.regions["A1"])


def test_the_auditor_cannot_change_roles_even_if_given_the_permission(world):
    with pytest.raises(PermissionDenied):
        services.role_grant(actor=world.user("auditor"), user=world.user("three_line_a1"),
                            role=_role("auditor"))
    # a county that ticks the permission into the auditor's role still gets no role changes from it
    perm = _role("county_admin").permissions.get(codename="add_roleassignment")
    _role("auditor").permissions.add(perm)
    with pytest.raises(PermissionDenied):
        services.role_grant(actor=_fresh("auditor"), user=world.user("three_line_a1"), role=_role("grid_worker"),
                            grid=world.grids["A1-1"])


def test_no_login_may_hold_both_the_audit_and_the_security_duty(world):
    admin = world.user("county_admin")
    other_admin = User.objects.create_user(username="admin2", password=PASSWORD)
    services.role_grant(actor=admin, user=other_admin, role=_role("county_admin"))
    with pytest.raises(ValidationError, match="三员分立"):
        services.role_grant(actor=admin, user=world.user("auditor"), role=_role("county_admin"))
    with pytest.raises(ValidationError, match="三员分立"):
        services.role_grant(actor=_fresh("admin2"), user=admin, role=_role("auditor"))
    with pytest.raises(PermissionDenied):  # nor to oneself
        services.role_grant(actor=admin, user=admin, role=_role("grid_worker"), grid=world.grids["A1-1"])


def test_the_system_administrator_cannot_read_the_audit_log(world, client):
    sysadmin = world.user("sysadmin")
    assert not has_perm_anywhere(sysadmin, "core.view_auditlog")
    assert not has_perm_anywhere(sysadmin, "accounts.add_roleassignment")
    # nor can a superuser: the audit duty is never implied by superuser status
    assert not has_perm_anywhere(world.system, "core.view_auditlog")
    for user in (sysadmin, world.system):
        client.force_login(user)
        assert client.get(reverse("audit:list")).status_code == 403
        assert client.get("/api/audit-log/").status_code == 403
    with pytest.raises(ValidationError, match="三员分立"):
        services.role_grant(actor=world.user("county_admin"), user=world.system, role=_role("auditor"))
    client.force_login(world.user("auditor"))
    assert client.get(reverse("audit:list")).status_code == 200


def test_the_roles_page_grants_and_revokes(world, client):
    client.force_login(world.user("county_admin"))
    page = client.get(reverse("accounts:roles"))
    assert page.status_code == 200 and "授予角色" in page.content.decode()
    response = client.post(reverse("accounts:roles"), {"username": "three_line_a1", "role": _role("grid_worker").pk,
                                                       "grid_code": "A1-1"})
    assert response.status_code == 302
    granted = RoleAssignment.objects.get(user=world.user("three_line_a1"), role__code="grid_worker", is_active=True)
    refused = client.post(reverse("accounts:roles"), {"username": "auditor", "role": _role("county_admin").pk})
    assert refused.status_code == 200 and "三员分立" in refused.content.decode()
    bad = client.post(reverse("accounts:roles"), {"username": "nobody", "role": _role("auditor").pk})
    assert "没有这个用户名的有效账号" in bad.content.decode()
    assert client.post(reverse("accounts:role-revoke", kwargs={"pk": granted.pk})).status_code == 302
    granted.refresh_from_db()
    assert not granted.is_active
    assert AuditLog.objects.filter(object_type="accounts.roleassignment", actor=world.user("county_admin")).count() == 2


def test_the_roles_page_pages_through_every_assignment(world, client, settings):
    from gongzhi.accounts.models import RoleAssignment

    settings.GONGZHI_PAGE_SIZE = 5
    total = RoleAssignment.objects.count()
    assert total > 5
    client.force_login(world.user("county_admin"))
    seen = []
    for number in range(1, (total + 4) // 5 + 1):
        page = client.get(reverse("accounts:roles"), {"page": number})
        assert page.status_code == 200
        seen += [a.pk for a in page.context["assignments"]]
    assert sorted(seen) == sorted(RoleAssignment.objects.values_list("pk", flat=True))
    assert 'page=2' in client.get(reverse("accounts:roles")).content.decode()
