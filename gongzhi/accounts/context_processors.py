from django.utils.functional import SimpleLazyObject

from gongzhi.core.scoping import has_perm_anywhere


def _nav(user) -> dict[str, bool]:
    return {
        "search": has_perm_anywhere(user, "registry.view_person") or has_perm_anywhere(user, "registry.view_household"),
        "audit": has_perm_anywhere(user, "core.view_auditlog"),
        "cases": has_perm_anywhere(user, "cases.view_case"),
        "village": has_perm_anywhere(user, "village.view_meeting"),
        "linking": has_perm_anywhere(user, "linking.view_pairing") or has_perm_anywhere(user, "linking.view_keytask"),
        "resources": has_perm_anywhere(user, "resources.view_need") or has_perm_anywhere(user, "resources.view_resource"),
        "volunteers": has_perm_anywhere(user, "volunteers.view_servicetask"),
        "assessment": has_perm_anywhere(user, "assessment.view_casescore"),
        "burden": has_perm_anywhere(user, "assessment.view_demand"),
    }


def scope(request):
    """For every page of a logged-in user, evaluated only if a template uses them:

    * ``my_assignments``: the user's active role assignments;
    * ``nav``: which menu entries to show. It reads the per-request grant cache that permission
      checks fill (``gongzhi.core.scoping``), so it costs no query, unlike ``perms``, which also
      asks Django's user and group permission tables.
    """
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    from .selectors import user_assignments

    return {
        "my_assignments": SimpleLazyObject(lambda: list(user_assignments(user))),
        "nav": SimpleLazyObject(lambda: _nav(user)),
    }
