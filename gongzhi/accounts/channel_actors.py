"""The public channels' actors (the residents' page, Open311, SMS): their own kind of account.

A resident on the public page or an Open311 client is not a login, yet the cases services take an
``actor`` and check its permissions. Each channel therefore acts through a *channel actor*: a
``User`` of kind ``channel`` (unusable password, never staff, no person) holding one role of scope
kind ``submission`` with exactly one permission:

* ``gongzhi-intake`` (群众自助登记) — role ``intake_channel``: ``cases.add_case``;
* ``gongzhi-requester`` (群众本人（凭查询码）) — role ``requester_feedback``:
  ``cases.dispatch_case``, used only to record the requester's own satisfaction answer.

A ``submission`` grant is worth nothing by itself (``core.scoping`` ignores an unbound one): it
is bound, per submission, to the territory that submission names (``core.scoping.bind_to``), so
the intake actor may register a case in that village and nowhere else, and may read nothing.

They are rows created by migration ``0003_channel_actors`` with an audit row each, and put back
(audited) by ``post_migrate`` after a test database is flushed. Never created on first use.

This module uses only the ``apps`` it is given, so the migration can call it with historical models.
"""
from __future__ import annotations

INTAKE_USERNAME = "gongzhi-intake"
REQUESTER_USERNAME = "gongzhi-requester"

# username → (display name, role code, role name, permission "app.codename", permission name)
CHANNEL_ACTORS = {
    INTAKE_USERNAME: ("群众自助登记", "intake_channel", "受理渠道（群众自助、Open311、短信）",
                      "cases.add_case", "Can add case"),
    REQUESTER_USERNAME: ("群众本人（凭查询码）", "requester_feedback", "群众本人评价（凭查询码）",
                         "cases.dispatch_case", "调度：受理、交办、回复征询、销号归档"),
}
ROLE_DESCRIPTION = "公共渠道专用：只含一项权限，每次只在所提交事项写明的地域内有效；不能分配给人员。"


def ensure_channel_actors(apps, *, by: str = "migration") -> list[str]:
    """Create (or repair) the channel actors; one audit row per account created or repaired.

    Returns the usernames it created or repaired (nothing when all is in place).
    """
    from django.contrib.auth.hashers import make_password

    User = apps.get_model("accounts", "User")
    Role = apps.get_model("accounts", "Role")
    RoleAssignment = apps.get_model("accounts", "RoleAssignment")
    Permission = apps.get_model("auth", "Permission")
    ContentType = apps.get_model("contenttypes", "ContentType")
    AuditLog = apps.get_model("core", "AuditLog")

    changed = []
    for username, (display, role_code, role_name, perm, perm_name) in CHANNEL_ACTORS.items():
        app_label, codename = perm.split(".")
        model = codename.split("_", 1)[1]
        # Permissions are normally created after migrate; make this one now if it is not there yet
        # (create_permissions later finds it and leaves it be).
        content_type, _ = ContentType.objects.get_or_create(app_label=app_label, model=model)
        permission, _ = Permission.objects.get_or_create(content_type=content_type, codename=codename,
                                                         defaults={"name": perm_name})
        role, role_created = Role.objects.get_or_create(code=role_code, defaults={
            "name": role_name, "scope_kind": "submission", "is_builtin": True, "description": ROLE_DESCRIPTION})
        before_role = None if role_created else {"scope_kind": role.scope_kind}
        if role.scope_kind != "submission" or role.description != ROLE_DESCRIPTION:
            role.scope_kind, role.description = "submission", ROLE_DESCRIPTION
            role.save(update_fields=["scope_kind", "description"])
        if set(role.permissions.values_list("pk", flat=True)) != {permission.pk}:
            role.permissions.set([permission])
        user = User.objects.filter(username=username).first()
        user_created = user is None
        if user_created:
            user = User.objects.create(username=username, display_name=display, kind="channel", is_staff=False,
                                       is_superuser=False, password=make_password(None))
        repaired = False
        if not user_created and (user.kind != "channel" or user.is_staff or user.is_superuser
                                 or not user.password.startswith("!")):
            user.kind, user.is_staff, user.is_superuser, user.password = "channel", False, False, make_password(None)
            user.save(update_fields=["kind", "is_staff", "is_superuser", "password"])
            repaired = True
        # Exactly one active assignment: the channel role, no scope object.
        others = RoleAssignment.objects.filter(user=user).exclude(role=role, region=None, grid=None, department=None)
        if others.exists():
            others.delete()
            repaired = True
        assignment_created = False
        if not RoleAssignment.objects.filter(user=user, role=role, is_active=True).exists():
            RoleAssignment.objects.create(user=user, role=role)
            assignment_created = True
        role_repaired = before_role is not None and before_role["scope_kind"] != "submission"
        if user_created or role_created or repaired or assignment_created or role_repaired:
            changed.append(username)
            AuditLog.objects.create(
                actor=None, actor_username=by, action="create" if user_created else "update",
                object_type="accounts.user", object_id=str(user.pk), object_repr=f"{display}（公共渠道）",
                before=None if user_created else {"role_scope_kind": before_role and before_role["scope_kind"]},
                after={"username": username, "kind": "channel", "role": role_code, "scope_kind": "submission",
                       "permissions": [perm]},
                changed_fields=[], note="公共渠道账号：仅可在所提交事项写明的地域内" + (
                    "登记事项" if codename == "add_case" else "记录群众本人评价"),
            )
    return changed
