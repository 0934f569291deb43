"""The built-in roles, created after migrate when missing.

They are ordinary rows: a county may edit them or add its own in the admin; this only fills in
roles that do not exist yet and never overwrites an edited one.
"""
from __future__ import annotations

REGISTRY_VIEW = [
    "registry.view_region", "registry.view_grid", "registry.view_household", "registry.view_person",
    "registry.view_householdmembership", "registry.view_partyorganization",
    "registry.view_partymembership", "registry.view_deputy", "registry.view_centralhouseholdhead",
    "registry.view_department", "registry.view_contactassignment", "registry.view_hostunit",
]
REGISTRY_EDIT = [
    "registry.add_household", "registry.change_household", "registry.delete_household",
    "registry.add_person", "registry.change_person", "registry.delete_person",
    "registry.add_grid", "registry.change_grid",
    "registry.add_contactassignment", "registry.change_contactassignment",
]
ROSTER = ["roster.import_roster", "roster.export_roster"]
REVEAL = ["registry.reveal_person"]

BUILTIN_ROLES = [
    ("county_secretary", "县委书记", "region", REGISTRY_VIEW + REVEAL + ["roster.export_roster"]),
    ("town_secretary", "镇（街道）党委书记", "region", REGISTRY_VIEW + REGISTRY_EDIT + REVEAL + ROSTER),
    ("village_secretary", "村（社区）党组织书记", "region", REGISTRY_VIEW + REGISTRY_EDIT + REVEAL + ROSTER),
    ("grid_worker", "网格员", "grid", [
        "registry.view_region", "registry.view_grid", "registry.view_household", "registry.view_person",
        "registry.view_householdmembership", "registry.view_contactassignment",
        "registry.change_household", "registry.change_person",
    ] + REVEAL),
    ("department_handler", "部门经办人", "department", ["registry.view_department"]),
    ("three_line", "三线人员（党员、人大代表、中心户长）", "contacts", [
        "registry.view_household", "registry.view_person", "registry.view_householdmembership",
    ]),
    ("auditor", "审计员", "all", REGISTRY_VIEW + ["core.view_auditlog"]),
    ("sysadmin", "系统管理员", "all", None),  # None: every Gongzhi permission
]


def ensure_builtin_roles(sender=None, using="default", **kwargs):
    from django.apps import apps as global_apps
    from django.contrib.auth.management import create_permissions
    from django.contrib.auth.models import Permission

    from .models import Role

    # post_migrate reaches this app before later apps have had their permissions created.
    for app_config in global_apps.get_app_configs():
        create_permissions(app_config, verbosity=0, using=using)

    all_ours = Permission.objects.filter(
        content_type__app_label__in=["core", "accounts", "registry", "roster"]
    )
    for code, name, scope_kind, perm_names in BUILTIN_ROLES:
        role, created = Role.objects.get_or_create(
            code=code, defaults={"name": name, "scope_kind": scope_kind, "is_builtin": True}
        )
        if not created:
            continue
        if perm_names is None:
            role.permissions.set(all_ours)
            continue
        perms = []
        for dotted in perm_names:
            app_label, codename = dotted.split(".")
            perm = Permission.objects.filter(content_type__app_label=app_label, codename=codename).first()
            if perm is not None:
                perms.append(perm)
        role.permissions.set(perms)

