from __future__ import annotations

from collections import defaultdict

from .models import RoleAssignment


def active_assignments_with_perms(user):
    """[(assignment, frozenset('app.codename', ...))] in two queries."""
    assignments = list(
        RoleAssignment.objects.filter(user=user, is_active=True)
        .select_related("role", "region", "grid", "department", "user", "user__person")
    )
    if not assignments:
        return []
    role_ids = {a.role_id for a in assignments}
    perms_by_role: dict[int, set[str]] = defaultdict(set)
    through = RoleAssignment._meta.get_field("role").related_model.permissions.through
    for role_id, app_label, codename in through.objects.filter(role_id__in=role_ids).values_list(
        "role_id", "permission__content_type__app_label", "permission__codename"
    ):
        perms_by_role[role_id].add(f"{app_label}.{codename}")
    return [(a, frozenset(perms_by_role[a.role_id])) for a in assignments]


def grants_with_perms(user):
    """[(Grant, perms)] for ``core.scoping`` (registered as its grant loader)."""
    return [(assignment.as_grant(), perms) for assignment, perms in active_assignments_with_perms(user)]


def user_assignments(user):
    return RoleAssignment.objects.filter(user=user, is_active=True).select_related(
        "role", "region", "grid", "department"
    )
