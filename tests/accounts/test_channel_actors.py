"""Public channels act through their own kind of actor: created by migration (audited), holding
one permission that is bound, per submission, to the territory the submission names."""
import pytest
from django.apps import apps
from django.core.exceptions import PermissionDenied, ValidationError

from gongzhi.accounts import services as account_services
from gongzhi.accounts.channel_actors import INTAKE_USERNAME, REQUESTER_USERNAME, ensure_channel_actors
from gongzhi.accounts.models import Role, RoleAssignment, User
from gongzhi.cases.choices import Channel
from gongzhi.cases.models import Case
from gongzhi.core.models import AuditLog
from gongzhi.core.scoping import grants_and_perms, has_perm_anywhere
from gongzhi.intake import services
from gongzhi.intake.channel import intake_actor, requester_actor


def test_the_channel_actors_exist_from_the_migration_with_one_permission_each(world):
    for username, perm in ((INTAKE_USERNAME, "cases.add_case"), (REQUESTER_USERNAME, "cases.dispatch_case")):
        user = User.objects.get(username=username)
        assert user.kind == "channel" and not user.has_usable_password() and not user.is_staff
        assignments = list(RoleAssignment.objects.filter(user=user, is_active=True).select_related("role"))
        assert len(assignments) == 1 and assignments[0].role.scope_kind == "submission"
        grants = grants_and_perms(User.objects.get(pk=user.pk))
        assert [(g.kind, sorted(p)) for g, p in grants] == [("submission", [perm])]
        # created with an audit row (by the migration, or by post_migrate after a flushed test database)
        assert AuditLog.objects.filter(object_type="accounts.user", object_id=str(user.pk),
                                       note__startswith="公共渠道账号").exists()


def test_unbound_a_channel_actor_may_do_nothing(world):
    actor = intake_actor()
    assert not has_perm_anywhere(actor, "cases.add_case")
    with pytest.raises(PermissionDenied):
        services.intake_submit(actor=actor, channel=Channel.WEB, scope="web",
                               data=services.IntakeInput(description="路灯坏了", region=world.regions["A1"]))
    assert not has_perm_anywhere(requester_actor(), "cases.dispatch_case")


def test_bound_it_registers_in_the_named_territory_only_and_reads_nothing(world):
    actor = intake_actor(territory=world.regions["A1"])
    result = services.intake_submit(actor=actor, channel=Channel.WEB, scope="web",
                                    data=services.IntakeInput(description="路灯坏了", region=world.regions["A1"]))
    assert result.case.registered_by.username == INTAKE_USERNAME and result.case.village_id == world.regions["A1"].pk
    with pytest.raises(PermissionDenied):  # the place the submission names is the only place
        services.intake_submit(actor=actor, channel=Channel.WEB, scope="web",
                               data=services.IntakeInput(description="路灯坏了", region=world.regions["B1"]))
    assert Case.objects.count() == 1
    assert not Case.objects.visible_to(actor, "cases.view_case").exists()
    assert not has_perm_anywhere(actor, "registry.view_person") and not has_perm_anywhere(actor, "cases.dispatch_case")
    # binding never leaks into the shared, cached account
    assert not has_perm_anywhere(intake_actor(), "cases.add_case")


def test_no_one_logs_in_as_a_channel_and_roles_do_not_cross_kinds(world, client):
    assert client.post("/accounts/login/", {"username": INTAKE_USERNAME, "password": ""}).status_code == 200
    admin = world.user("county_admin")
    with pytest.raises(ValidationError):
        account_services.role_grant(actor=admin, user=world.user("three_line_a1"), role=Role.objects.get(code="intake_channel"))
    with pytest.raises(ValidationError):
        account_services.role_grant(actor=admin, user=User.objects.get(username=INTAKE_USERNAME),
                                    role=Role.objects.get(code="auditor"))


def test_an_old_lazily_made_scope_all_account_is_repaired_and_audited(world):
    role = Role.objects.get(code="intake_channel")
    role.scope_kind = "all"
    role.save()
    User.objects.filter(username=INTAKE_USERNAME).update(kind="person")
    assert ensure_channel_actors(apps, by="test") == [INTAKE_USERNAME]
    role.refresh_from_db()
    assert role.scope_kind == "submission" and User.objects.get(username=INTAKE_USERNAME).kind == "channel"
    row = AuditLog.objects.filter(actor_username="test").get()
    assert row.action == "update" and row.before == {"role_scope_kind": "all"}
    assert ensure_channel_actors(apps, by="test") == []  # idempotent
