from gongzhi.accounts.models import Role
from gongzhi.accounts.roles import ensure_builtin_roles


def test_builtin_roles_pick_up_new_default_permissions_until_customised(db):
    secretary = Role.objects.get(code="village_secretary")
    assert secretary.follows_defaults
    dropped = secretary.permissions.get(codename="view_household")
    secretary.permissions.remove(dropped)
    ensure_builtin_roles()
    assert secretary.permissions.filter(pk=dropped.pk).exists()

    secretary.follows_defaults = False
    secretary.save()
    secretary.permissions.remove(dropped)
    ensure_builtin_roles()
    assert not secretary.permissions.filter(pk=dropped.pk).exists()


def test_sysadmin_holds_every_permission_of_every_gongzhi_app(db):
    labels = set(Role.objects.get(code="sysadmin").permissions.values_list("content_type__app_label", flat=True))
    assert {"core", "accounts", "registry", "roster", "cases", "care"} <= labels
