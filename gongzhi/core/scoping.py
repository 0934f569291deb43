"""The one scoping mechanism for people's data.

A user holds roles over scopes (``accounts.RoleAssignment``). A role is a set of Django
permissions plus a *scope kind*. For a given permission, the user's grants are the assignments
whose role carries it; each grant is turned into a ``Q`` by the model being read
(``Model.scope_q(grant)``), and the grants are OR-ed together.

* ``visible_to(user, perm)`` on every scoped queryset: the rows the user may touch with ``perm``.
* ``access_object(...)`` fetches one row: **403** when the user holds ``perm`` nowhere,
  **404** when they hold it but the row is outside their scope (indistinguishable from absent).
* ``recheck_in_scope(...)`` is called by services *after* a write, inside the transaction: if the
  saved row has left the actor's scope the transaction is rolled back (as NetBox does).

Views, API viewsets, exports and search all start from ``visible_to``; nothing reads people's
data from ``Model.objects`` directly outside services that have already checked access.
"""
from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import Q
from django.http import Http404

NOTHING = Q(pk__in=[])

# A grant that is worth nothing until bound to one submission's territory (public channels,
# ``accounts.channel_actors``): ``bind_to`` turns it into a region or grid grant over exactly that.
SUBMISSION = "submission"

# Region levels (see registry.models.RegionLevel) → the cached column naming that ancestor.
LEVEL_COLUMNS = {1: "county", 2: "town", 3: "village"}


@dataclass(frozen=True)
class Grant:
    kind: str  # "all" | "region" | "grid" | "department" | "contacts" | "submission" (unbound)
    region_id: int | None = None
    region_level: int | None = None
    county_id: int | None = None
    grid_id: int | None = None
    grid_path: str | None = None
    grid_village_id: int | None = None
    department_id: int | None = None
    person_id: int | None = None

    @classmethod
    def over(cls, territory) -> "Grant":
        """A grant over exactly one region (with what lies under it) or one grid (with its sub-grids)."""
        if hasattr(territory, "path"):  # a grid (regions have no path)
            return cls(kind="grid", grid_id=territory.pk, grid_path=territory.path,
                       grid_village_id=territory.village_id, county_id=territory.county_id)
        return cls(kind="region", region_id=territory.pk, region_level=territory.level,
                   county_id=territory.county_id)

    def territory_q(self, *, county: str, town: str, village: str, region: str | None = None) -> Q:
        """For models that carry cached territory columns: a region grant as one indexed filter."""
        if self.kind == "all":
            return Q()
        if self.kind != "region":
            return NOTHING
        column = {1: county, 2: town, 3: village}.get(self.region_level)
        if column:
            return Q(**{column: self.region_id})
        if region:  # below village level (villager group / compound)
            return Q(**{region: self.region_id})
        return NOTHING


def _load_assignments(user) -> list[tuple[Grant, frozenset[str]]]:
    cached = getattr(user, "_gongzhi_grants", None)
    if cached is not None:
        return cached
    from gongzhi.accounts.selectors import active_assignments_with_perms

    grants = []
    for assignment, perms in active_assignments_with_perms(user):
        grants.append((assignment.as_grant(), perms))
    user._gongzhi_grants = grants
    return grants


def forget_cached_grants(user) -> None:
    if hasattr(user, "_gongzhi_grants"):
        del user._gongzhi_grants


# Separation of duties (三员分立): these permissions are never implied by superuser status; a
# superuser (the system administrator) holds them only through a role like anyone else, and the
# role services refuse to give the audit duty and the security duty to one login.
# The audit trail's content belongs to the auditor alone.
SEPARATED_DUTY_PERMISSIONS = frozenset({"core.view_auditlog"})


def user_grants(user, perm: str) -> list[Grant]:
    if user is None or not user.is_authenticated or not user.is_active:
        return []
    if user.is_superuser and perm not in SEPARATED_DUTY_PERMISSIONS:
        return [Grant(kind="all")]
    # An unbound submission grant is left out: it gives nothing, not even "holds it somewhere".
    return [grant for grant, perms in _load_assignments(user) if perm in perms and grant.kind != SUBMISSION]


def bind_to(user, territory):
    """A copy of ``user`` whose submission grants hold over ``territory`` (a region or a grid)
    only: how a public channel acts for one submission. Other grants are kept as they are; the
    original ``user`` object is left untouched (it may be cached and shared)."""
    import copy

    bound = copy.copy(user)
    grant = Grant.over(territory)
    bound._gongzhi_grants = [(grant if g.kind == SUBMISSION else g, perms) for g, perms in _load_assignments(user)]
    return bound


def has_perm_anywhere(user, perm: str) -> bool:
    return bool(user_grants(user, perm))


def default_perm(model: type[models.Model], action: str = "view") -> str:
    return f"{model._meta.app_label}.{action}_{model._meta.model_name}"


def scope_q(user, model: type[models.Model], perm: str) -> Q | None:
    """None when the user holds ``perm`` nowhere; otherwise the Q selecting their rows."""
    grants = user_grants(user, perm)
    if not grants:
        return None
    if any(g.kind == "all" for g in grants):
        return Q()
    combined = NOTHING
    for grant in grants:
        combined |= model.scope_q(grant)
    return combined


class ScopedQuerySet(models.QuerySet):
    def visible_to(self, user, perm: str | None = None):
        q = scope_q(user, self.model, perm or default_perm(self.model))
        if q is None:
            return self.none()
        return self.filter(q)


ScopedManager = models.Manager.from_queryset(ScopedQuerySet)


def require_perm(user, perm: str) -> None:
    if not has_perm_anywhere(user, perm):
        raise PermissionDenied


def access_object(queryset, user, perm: str | None = None, **lookup):
    perm = perm or default_perm(queryset.model)
    require_perm(user, perm)
    try:
        return queryset.visible_to(user, perm).get(**lookup)
    except (queryset.model.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def recheck_in_scope(obj: models.Model, user, perm: str) -> None:
    """Call inside the write's transaction; raising rolls the write back."""
    manager = type(obj)._default_manager
    if not manager.visible_to(user, perm).filter(pk=obj.pk).exists():
        raise PermissionDenied("the change would put this record outside your scope")
