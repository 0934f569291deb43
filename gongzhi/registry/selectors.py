"""Reads of the registry for pages: every query starts from ``Model.objects.visible_to``.

Selectors take a keyword-only ``user`` and return querysets or plain data; they never write.
List selectors fetch related rows with ``select_related``/``Prefetch`` so a page costs a fixed
number of queries however many rows it shows (tests assert it with
``django_assert_max_num_queries``).
"""
from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass

from django.db.models import Case, Count, IntegerField, Prefetch, Q, QuerySet, Value, When

from gongzhi.core.idcard import normalize_id_number
from gongzhi.core.scoping import has_perm_anywhere
from gongzhi.core.selectors import audit_history

from .models import ContactAssignment, Grid, Household, HouseholdMembership, Person, Region, RegionLevel, Relation

VIEW_REGION = "registry.view_region"
VIEW_GRID = "registry.view_grid"
VIEW_HOUSEHOLD = "registry.view_household"
VIEW_PERSON = "registry.view_person"
VIEW_MEMBERSHIP = "registry.view_householdmembership"
VIEW_CONTACT = "registry.view_contactassignment"
REVEAL_PERSON = "registry.reveal_person"

# The cached territory column that names a region of each level (level 4 rows use ``region``).
_LEVEL_COLUMN = {RegionLevel.COUNTY: "county_id", RegionLevel.TOWN: "town_id",
                 RegionLevel.VILLAGE: "village_id", RegionLevel.GROUP: "region_id"}


def region_column(level: int) -> str:
    return _LEVEL_COLUMN[level]


# ---------------------------------------------------------------------------------------------
# small helpers


def visible_ids(queryset: QuerySet, *, user, perm: str, ids) -> set[int]:
    """Which of ``ids`` the user may see with ``perm`` (one query; none when there is nothing to ask)."""
    ids = [i for i in set(ids) if i is not None]
    if not ids or not has_perm_anywhere(user, perm):
        return set()
    return set(queryset.visible_to(user, perm).filter(pk__in=ids).values_list("pk", flat=True))


def heads_prefetch(*, user) -> Prefetch:
    """Prefetch each household's head (as ``household.heads``) through the person scope."""
    return Prefetch(
        "members",
        queryset=Person.objects.visible_to(user, VIEW_PERSON).filter(relation=Relation.HEAD).only(
            "id", "name", "household_id", "relation"),
        to_attr="heads",
    )


def household_list(*, user) -> QuerySet[Household]:
    """Households visible to the user, with grid, head and member count, ready for a list."""
    return (Household.objects.visible_to(user, VIEW_HOUSEHOLD)
            .select_related("grid")
            .annotate(member_count=Count("members", filter=Q(members__status="active")))
            .prefetch_related(heads_prefetch(user=user)))


@dataclass
class Crumb:
    region: Region
    linked: bool


def region_trail(*, user, region: Region) -> list[Crumb]:
    """The region and its ancestors, top down, linked where the user may open them (2 queries).

    Every ancestor is named, even one the user may not open: region names are the public
    administrative map, not people's data; only the links follow the user's scope.
    """
    ids = [i for i in (region.county_id, region.town_id, region.village_id, region.pk) if i]
    regions = sorted(Region.objects.filter(pk__in=ids), key=lambda r: r.level)
    linked = visible_ids(Region.objects, user=user, perm=VIEW_REGION, ids=ids)
    return [Crumb(region=r, linked=r.pk in linked) for r in regions]


# ---------------------------------------------------------------------------------------------
# scope summary (home page)


def scope_counts(*, user) -> dict[str, int | None]:
    """Regions, grids, households and persons the user can see; ``None`` where they hold no view perm."""
    counts: dict[str, int | None] = {}
    for key, model, perm in (("regions", Region, VIEW_REGION), ("grids", Grid, VIEW_GRID),
                             ("households", Household, VIEW_HOUSEHOLD), ("persons", Person, VIEW_PERSON)):
        counts[key] = model.objects.visible_to(user, perm).count() if has_perm_anywhere(user, perm) else None
    return counts


def contacted_households(*, user, limit: int = 50) -> list[Household]:
    """The households the user's registry person keeps in touch with (three-line persons)."""
    if not user.person_id:
        return []
    return list(household_list(user=user).filter(
        contacts__person_id=user.person_id, contacts__ended_on__isnull=True).order_by("code")[:limit])


# ---------------------------------------------------------------------------------------------
# regions and grids


@dataclass
class GridRow:
    grid: Grid
    households: int
    depth: int


def grid_rows(*, grids: list[Grid], households: QuerySet[Household]) -> list[GridRow]:
    """Grids with the number of visible households in each grid's subtree (one counting query)."""
    direct = dict(households.filter(grid__in=[g.pk for g in grids]).order_by()
                  .values_list("grid_id").annotate(n=Count("id")).values_list("grid_id", "n"))
    by_id = {g.pk: g for g in grids}
    totals: Counter = Counter()
    for grid_id, n in direct.items():
        path = by_id[grid_id].path
        for g in grids:
            if path.startswith(g.path):
                totals[g.pk] += n
    top = min((g.level for g in grids), default=1)
    return [GridRow(grid=g, households=totals[g.pk], depth=g.level - top)
            for g in sorted(grids, key=lambda g: g.path)]


@dataclass
class ChildRegionRow:
    region: Region
    households: int
    grids: int


@dataclass
class RegionPage:
    region: Region
    trail: list[Crumb]
    children: list[ChildRegionRow]
    grids: list[GridRow]
    household_count: int
    can_see_households: bool
    can_see_grids: bool


def region_page(*, user, region: Region) -> RegionPage:
    column = region_column(region.level)
    can_households = has_perm_anywhere(user, VIEW_HOUSEHOLD)
    can_grids = has_perm_anywhere(user, VIEW_GRID)
    households = Household.objects.visible_to(user, VIEW_HOUSEHOLD).filter(**{column: region.pk})
    grids_in = Grid.objects.visible_to(user, VIEW_GRID).filter(**{column: region.pk})

    children = list(Region.objects.visible_to(user, VIEW_REGION).filter(parent=region).order_by("code"))
    child_rows = []
    if children:
        child_col = region_column(children[0].level)
        per_child_h = dict(households.order_by().values_list(child_col).annotate(n=Count("id"))) if can_households else {}
        per_child_g = dict(grids_in.order_by().values_list(child_col).annotate(n=Count("id"))) if can_grids else {}
        child_rows = [ChildRegionRow(region=c, households=per_child_h.get(c.pk, 0), grids=per_child_g.get(c.pk, 0))
                      for c in children]

    grids: list[GridRow] = []
    if can_grids and region.level >= RegionLevel.VILLAGE:
        grid_list = list(grids_in.select_related("worker").order_by("path"))
        grids = grid_rows(grids=grid_list, households=households)
    return RegionPage(
        region=region, trail=region_trail(user=user, region=region), children=child_rows, grids=grids,
        household_count=households.count() if can_households else 0,
        can_see_households=can_households, can_see_grids=can_grids,
    )


@dataclass
class GridPage:
    grid: Grid
    trail: list[Crumb]
    parent_linked: bool
    subgrids: list[GridRow]
    households: QuerySet[Household]


def grid_page(*, user, grid: Grid) -> GridPage:
    in_subtree = Household.objects.visible_to(user, VIEW_HOUSEHOLD).filter(grid__path__startswith=grid.path)
    subgrids = list(Grid.objects.visible_to(user, VIEW_GRID).filter(path__startswith=grid.path)
                    .exclude(pk=grid.pk).select_related("worker").order_by("path"))
    rows = grid_rows(grids=subgrids, households=in_subtree) if subgrids else []
    parent_linked = bool(grid.parent_id) and grid.parent_id in visible_ids(
        Grid.objects, user=user, perm=VIEW_GRID, ids=[grid.parent_id])
    return GridPage(grid=grid, trail=region_trail(user=user, region=grid.region), parent_linked=parent_linked,
                    subgrids=rows,
                    households=household_list(user=user).filter(grid__path__startswith=grid.path).order_by("code"))


# ---------------------------------------------------------------------------------------------
# households and persons (一户一档)


_HEAD_FIRST = Case(When(relation=Relation.HEAD, then=Value(0)), default=Value(1), output_field=IntegerField())


@dataclass
class HouseholdArchive:
    household: Household
    trail: list[Crumb]
    grid_linked: bool
    members: list[Person]
    revealable: set[int]
    memberships: list[HouseholdMembership] | None  # None: the user may not see the history
    contacts: list[ContactAssignment] | None  # None: the user may not see contact assignments
    audit: list | None  # None: the user is no auditor


def household_archive(*, user, household: Household, audit_limit: int = 20) -> HouseholdArchive:
    """Everything the household page shows, in a fixed number of queries."""
    members = list(Person.objects.visible_to(user, VIEW_PERSON).filter(household=household)
                   .order_by(_HEAD_FIRST, "birth_date", "id"))
    memberships = None
    if has_perm_anywhere(user, VIEW_MEMBERSHIP):
        memberships = list(HouseholdMembership.objects.visible_to(user, VIEW_MEMBERSHIP)
                           .filter(household=household).select_related("person").order_by("started_on", "id"))
    contacts = None
    if has_perm_anywhere(user, VIEW_CONTACT):
        contacts = list(ContactAssignment.objects.visible_to(user, VIEW_CONTACT)
                        .filter(household=household, ended_on__isnull=True).select_related("person")
                        .order_by("line", "started_on"))
    person_ids = {p.pk for p in members} | {m.person_id for m in memberships or []}
    audit = audit_history(user=user, objects=[("registry.household", [household.pk]),
                                              ("registry.person", sorted(person_ids))], limit=audit_limit)
    return HouseholdArchive(
        household=household,
        trail=region_trail(user=user, region=household.region),
        grid_linked=household.grid_id in visible_ids(Grid.objects, user=user, perm=VIEW_GRID, ids=[household.grid_id]),
        members=members,
        revealable=visible_ids(Person.objects, user=user, perm=REVEAL_PERSON, ids=[p.pk for p in members]),
        memberships=memberships,
        contacts=contacts,
        audit=audit,
    )


@dataclass
class PersonPage:
    person: Person
    trail: list[Crumb]
    household_linked: bool
    revealable: set[int]
    memberships: list[HouseholdMembership] | None
    contacts: list[ContactAssignment] | None  # households this person keeps in touch with
    audit: list | None


def person_page(*, user, person: Person, audit_limit: int = 20) -> PersonPage:
    memberships = None
    if has_perm_anywhere(user, VIEW_MEMBERSHIP):
        memberships = list(HouseholdMembership.objects.visible_to(user, VIEW_MEMBERSHIP)
                           .filter(person=person).select_related("household").order_by("started_on", "id"))
    contacts = None
    if has_perm_anywhere(user, VIEW_CONTACT):
        contacts = list(ContactAssignment.objects.visible_to(user, VIEW_CONTACT)
                        .filter(person=person, ended_on__isnull=True).select_related("household")
                        .order_by("household__code"))
    return PersonPage(
        person=person,
        trail=region_trail(user=user, region=person.region) if person.region_id else [],
        household_linked=person.household_id in visible_ids(
            Household.objects, user=user, perm=VIEW_HOUSEHOLD, ids=[person.household_id]),
        revealable=visible_ids(Person.objects, user=user, perm=REVEAL_PERSON, ids=[person.pk]),
        memberships=memberships,
        contacts=contacts,
        audit=audit_history(user=user, objects=[("registry.person", [person.pk])], limit=audit_limit),
    )


# ---------------------------------------------------------------------------------------------
# search


_ID_NUMBER = re.compile(r"^\d{17}[\dX]$")
_DIGITS_TAIL = re.compile(r"^\d{3,17}[\dX]$")  # 4+ trailing characters of an ID number, or phone digits
_INITIALS = re.compile(r"^[a-z]+$")


def normalize_query(raw: str) -> str:
    """Full-width to half-width (NFKC), trimmed, inner whitespace collapsed."""
    text = unicodedata.normalize("NFKC", raw or "")
    return re.sub(r"\s+", " ", text).strip()[:100]


def classify_query(raw: str) -> tuple[str, str]:
    """What a search-box entry is, as (kind, normalised value).

    * ``id``: a full ID number (18 characters, any case of X, full-width digits, spaces) → exact;
    * ``digits``: 4–18 digits (spaces and dashes ignored) → a phone ending with them, or an ID
      number ending with them (the last digits people read out from a card);
    * ``initials``: latin letters → pinyin initials prefix ("zjg" and "zj" find 张建国);
    * ``name``: anything else → the name contains it;
    * ``""``: empty, or fewer than 4 digits (too many matches to be useful).
    """
    query = normalize_query(raw)
    compact = normalize_id_number(re.sub(r"[\s\-]", "", query))
    if not query:
        return "", ""
    if _ID_NUMBER.match(compact):
        return "id", compact
    if _DIGITS_TAIL.match(compact):
        return "digits", compact
    if compact.isdigit():
        return "", compact
    if _INITIALS.match(compact.lower()):
        return "initials", compact.lower()
    return "name", query


def _person_condition(kind: str, value: str) -> Q | None:
    if kind == "id":
        return Q(id_number=value)
    if kind == "digits":
        condition = Q(id_number__endswith=value)
        if value.isdigit():
            condition |= Q(phone__endswith=value)
            if value.startswith("0"):  # a landline typed without its dash
                condition |= Q(phone=f"{value[:4]}-{value[4:]}") | Q(phone=f"{value[:3]}-{value[3:]}")
        return condition
    if kind == "initials":
        return Q(name_initials__startswith=value)
    if kind == "name":
        return Q(name__icontains=value)
    return None


def person_search(*, user, query: str) -> QuerySet[Person]:
    """Persons the user may see that match ``query`` (see ``classify_query``)."""
    base = Person.objects.visible_to(user, VIEW_PERSON)
    condition = _person_condition(*classify_query(query))
    if condition is None:
        return base.none()
    return base.filter(condition).select_related("household", "village").order_by("name", "id")


def household_search(*, user, query: str) -> QuerySet[Household]:
    """Households the user may see whose number (户号) or address contains ``query``."""
    query = normalize_query(query)
    if len(query) < 2:
        return Household.objects.none()
    return (household_list(user=user).select_related("village")
            .filter(Q(code__icontains=query) | Q(address__icontains=query))
            .order_by("code"))
