"""The one scoping mechanism for people's data.

A user holds roles over scopes (``accounts.RoleAssignment``). A role is a set of Django
permissions plus a *scope kind*. For a given permission, the user's grants are the assignments
whose role carries it; each grant is turned into a ``Q`` by the model's ``scope_rule`` (a
``ScopeRule``: per kind of scope, which rows it reaches), and the grants are OR-ed together.
Only this module reads a grant's kind; services ask ``can(user, perm, obj)``, pages filter with
``visible_to`` or ``visible_by(user, perm, rule)``.

* ``visible_to(user, perm)`` on every scoped queryset: the rows the user may touch with ``perm``.
* ``access_object(...)`` fetches one row: **403** when the user holds ``perm`` nowhere,
  **404** when they hold it but the row is outside their scope (indistinguishable from absent).
* ``recheck_in_scope(...)`` is called by services *after* a write, inside the transaction: if the
  saved row has left the actor's scope the transaction is rolled back (as NetBox does).

Views, API viewsets, exports and search all start from ``visible_to``; nothing reads people's
data from ``Model.objects`` directly outside services that have already checked access.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.apps import apps as django_apps

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

# The kinds of scope a role can have (accounts.ScopeKind holds the same values with labels).
# Only this module reads ``Grant.kind``: everything else asks a ScopeRule or one of the questions
# below, so a new kind of scope is added here and in the rules, never in a view or a service.
ALL, REGION, GRID, DEPARTMENT, CONTACTS = "all", "region", "grid", "department", "contacts"

# Tiers a grant acts at, from the widest: county, town, village, grid.
TIER_COUNTY, TIER_TOWN, TIER_VILLAGE, TIER_GRID = 1, 2, 3, 4


@dataclass(frozen=True)
class Grant:
    kind: str  # ALL | REGION | GRID | DEPARTMENT | CONTACTS | SUBMISSION (unbound)
    region_id: int | None = None
    region_level: int | None = None
    county_id: int | None = None
    grid_id: int | None = None
    grid_path: str | None = None
    grid_village_id: int | None = None
    department_id: int | None = None
    person_id: int | None = None

    @property
    def everywhere(self) -> bool:
        return self.kind == ALL

    @property
    def tier(self) -> int:
        """The tier the holder acts at: county-wide and department grants act at county level,
        town grants at town level, village and villager-group grants at village level, grids
        and three-line contacts at grid level."""
        if self.kind == REGION:
            return min(self.region_level, TIER_VILLAGE)
        if self.kind in (GRID, CONTACTS):
            return TIER_GRID
        return TIER_COUNTY

    @classmethod
    def over(cls, territory) -> "Grant":
        """A grant over exactly one region (with what lies under it) or one grid (with its sub-grids)."""
        if hasattr(territory, "path"):  # a grid (regions have no path)
            return cls(kind=GRID, grid_id=territory.pk, grid_path=territory.path,
                       grid_village_id=territory.village_id, county_id=territory.county_id)
        return cls(kind=REGION, region_id=territory.pk, region_level=territory.level,
                   county_id=territory.county_id)

    def territory_q(self, *, county: str, town: str, village: str, region: str | None = None) -> Q:
        """For models that carry cached territory columns: a region grant as one indexed filter."""
        if self.kind == ALL:
            return Q()
        if self.kind != REGION:
            return NOTHING
        column = {1: county, 2: town, 3: village}.get(self.region_level)
        if column:
            return Q(**{column: self.region_id})
        if region:  # below village level (villager group / compound)
            return Q(**{region: self.region_id})
        return NOTHING


Rule = Callable[[Grant], Q]


@dataclass(frozen=True)
class ScopeRule:
    """Which rows each kind of grant reaches, written once per model (``Model.scope_rule``) or
    per question ("the unit a case is assigned to"). A kind with no rule reaches nothing; an
    "all" grant reaches every row, or none when ``everything`` is False, or what ``everything``
    selects when it is a rule."""

    region: Rule | None = None
    grid: Rule | None = None
    department: Rule | None = None
    contacts: Rule | None = None
    everything: bool | Rule = True

    def q(self, grant: Grant) -> Q:
        if grant.kind == ALL:
            if callable(self.everything):
                return self.everything(grant)
            return Q() if self.everything else NOTHING
        rule = {REGION: self.region, GRID: self.grid, DEPARTMENT: self.department,
                CONTACTS: self.contacts}.get(grant.kind)
        return rule(grant) if rule is not None else NOTHING


# ---- building blocks for rules -------------------------------------------------------------

def in_territory(county: str = "county_id", town: str = "town_id", village: str = "village_id",
                 region: str | None = None) -> Rule:
    """Region grants over rows with cached territory columns (``region``: the column naming a
    villager group, for grants below village level)."""
    return lambda g: g.territory_q(county=county, town=town, village=village, region=region)


def under_grid(path: str) -> Rule:
    """Grid grants over rows whose grid path (``path`` lookup) is the grant's grid or below it."""
    return lambda g: Q(**{f"{path}__startswith": g.grid_path})


def in_grid_village(village: str = "village_id") -> Rule:
    """Grid grants over the whole village the grant's grid lies in."""
    return lambda g: Q(**{village: g.grid_village_id})


def in_grant_county(county: str = "county_id") -> Rule:
    """Any territorial grant over the rows of the county it lies in (catalogues, settings)."""
    return lambda g: Q(**{county: g.county_id}) if g.county_id else NOTHING


def county_wide(county: str = "county_id") -> Rule:
    """Region grants over a whole county reach the county's rows; narrower ones reach none."""
    return lambda g: Q(**{county: g.region_id}) if g.region_level == 1 else NOTHING


def of_department(department: str = "department_id") -> Rule:
    return lambda g: Q(**{department: g.department_id})


def of_person(person: str = "person_id") -> Rule:
    """Contacts grants over rows naming the three-line person themself."""
    return lambda g: Q(**{person: g.person_id})


def either(*rules: Rule) -> Rule:
    def combined(grant: Grant) -> Q:
        q = NOTHING
        for rule in rules:
            q |= rule(grant)
        return q
    return combined


def through(lookup: str, model_label: str) -> Rule:
    """Rows reached through a related model's own rule (a summons through its case)."""
    def rule(grant: Grant) -> Q:
        model = django_apps.get_model(model_label)
        inner = model._default_manager.filter(rule_of(model).q(grant)).values("pk")
        return Q(**{f"{lookup}__in": inner})
    return rule


def through_rule(lookup: str, model_label: str, **overrides: Rule) -> ScopeRule:
    """A ScopeRule reaching rows through ``lookup`` for every kind, except ``overrides``."""
    via = through(lookup, model_label)
    return ScopeRule(**{"region": via, "grid": via, "department": via, "contacts": via, **overrides})


def rule_of(model: type[models.Model]) -> ScopeRule:
    rule = getattr(model, "scope_rule", None)
    if rule is None:
        raise TypeError(f"{model.__name__} has no scope_rule: people's data must say who may read it")
    return rule


# ---- where grants come from ------------------------------------------------------------------
# accounts registers the loader at start-up (AccountsConfig.ready), so that core, the lowest
# layer, does not import the accounts app.

_grant_loader: Callable[[object], list[tuple[Grant, frozenset[str]]]] | None = None


def register_grant_loader(loader) -> None:
    global _grant_loader
    _grant_loader = loader


def grants_and_perms(user) -> list[tuple[Grant, frozenset[str]]]:
    cached = getattr(user, "_gongzhi_grants", None)
    if cached is not None:
        return cached
    grants = list(_grant_loader(user)) if _grant_loader is not None else []
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
        return [Grant(kind=ALL)]
    # An unbound submission grant is left out: it gives nothing, not even "holds it somewhere".
    return [grant for grant, perms in grants_and_perms(user) if perm in perms and grant.kind != SUBMISSION]


def all_grants(user) -> list[Grant]:
    """Every grant the user holds, whatever the permission (for recusal and the user's counties)."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return []
    if user.is_superuser:
        return [Grant(kind=ALL)]
    return [grant for grant, _perms in grants_and_perms(user) if grant.kind != SUBMISSION]


def bind_to(user, territory):
    """A copy of ``user`` whose submission grants hold over ``territory`` (a region or a grid)
    only: how a public channel acts for one submission. Other grants are kept as they are; the
    original ``user`` object is left untouched (it may be cached and shared)."""
    import copy

    bound = copy.copy(user)
    grant = Grant.over(territory)
    bound._gongzhi_grants = [(grant if g.kind == SUBMISSION else g, perms) for g, perms in grants_and_perms(user)]
    return bound


def has_perm_anywhere(user, perm: str) -> bool:
    return bool(user_grants(user, perm))


def holds_everywhere(user, perm: str) -> bool:
    return any(g.kind == ALL for g in user_grants(user, perm))


def departments_of(user, perm: str | None = None) -> set[int]:
    """The departments the user works for (with ``perm``, or with any permission)."""
    grants = user_grants(user, perm) if perm else all_grants(user)
    return {g.department_id for g in grants if g.kind == DEPARTMENT}


def counties_of(user, *perms: str) -> set[int] | None:
    """The counties the user's grants lie in; None means every county ("all")."""
    ids: set[int] = set()
    for perm in perms:
        for grant in user_grants(user, perm):
            if grant.kind == ALL:
                return None
            if grant.county_id:
                ids.add(grant.county_id)
    return ids


def widest_region_id(user, perm: str) -> int | None:
    """The widest region the user holds ``perm`` over by a region grant (None: none held)."""
    regions = [g for g in user_grants(user, perm) if g.kind == REGION]
    return min(regions, key=lambda g: g.region_level).region_id if regions else None


def holds_county(user, perm: str, county_id: int) -> bool:
    """Does the user hold ``perm`` over the whole county (or everywhere)?"""
    return any(g.kind == ALL or (g.kind == REGION and g.region_level == 1 and g.region_id == county_id)
               for g in user_grants(user, perm))


def only_kind(user, perm: str) -> str | None:
    """GRID or CONTACTS when every grant the user holds for ``perm`` is of that one grid-level
    kind (a grid worker, a three-line person), else None: pages pick the channel from it."""
    kinds = {g.kind for g in user_grants(user, perm)}
    return kinds.pop() if len(kinds) == 1 and kinds <= {GRID, CONTACTS} else None


def default_perm(model: type[models.Model], action: str = "view") -> str:
    return f"{model._meta.app_label}.{action}_{model._meta.model_name}"


def grants_q(grants: list[Grant], rule: ScopeRule) -> Q:
    if rule.everything is True and any(g.kind == ALL for g in grants):
        return Q()
    combined = NOTHING
    for grant in grants:
        combined |= rule.q(grant)
    return combined


def scope_q(user, model: type[models.Model], perm: str, rule: ScopeRule | None = None) -> Q | None:
    """None when the user holds ``perm`` nowhere; otherwise the Q selecting their rows (by the
    model's own rule, or by ``rule`` when a page asks a narrower question)."""
    grants = user_grants(user, perm)
    if not grants:
        return None
    return grants_q(grants, rule or rule_of(model))


def can(user, perm: str, obj: models.Model, rule: ScopeRule | None = None) -> bool:
    """Does ``user`` hold ``perm`` over ``obj`` (by the model's rule, or by ``rule``)?"""
    q = scope_q(user, type(obj), perm, rule)
    return q is not None and type(obj)._default_manager.filter(q, pk=obj.pk).exists()


def highest_tier(user, perm: str, obj: models.Model, rule: ScopeRule | None = None) -> int | None:
    """The widest tier (TIER_COUNTY … TIER_GRID) at which ``user`` holds ``perm`` over ``obj``;
    None when they hold it nowhere over ``obj``."""
    manager = type(obj)._default_manager
    rule = rule or rule_of(type(obj))
    best = None
    for grant in sorted(user_grants(user, perm), key=lambda g: g.tier):
        if best is not None and grant.tier >= best:
            continue
        if manager.filter(rule.q(grant), pk=obj.pk).exists():
            best = grant.tier
    return best


class ScopedQuerySet(models.QuerySet):
    def visible_to(self, user, perm: str | None = None):
        q = scope_q(user, self.model, perm or default_perm(self.model))
        if q is None:
            return self.none()
        return self.filter(q)

    def visible_by(self, user, perm: str, rule: ScopeRule):
        """The rows ``rule`` gives the user with ``perm`` (a narrower question than reading)."""
        q = scope_q(user, self.model, perm, rule)
        return self.none() if q is None else self.filter(q)


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
