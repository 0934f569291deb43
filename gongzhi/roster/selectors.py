"""Reads for roster import and export.

Two kinds of reads live here:

* what a user may see or pick (villages to import into, regions to export, import batches, the
  rows of an export) — these start from ``Model.objects.visible_to(user, perm)``;
* bulk look-ups the import *checks* need (``lookup_*``). They deliberately see every row:
  ID numbers and household numbers are unique across the whole database, so "is this number
  already registered, and where" must be answered everywhere. Their results are never shown as
  such: the checks turn them into "already registered elsewhere". Each is one query however many
  rows the file has (no N+1).
"""
from __future__ import annotations

from collections import defaultdict

from django.db.models import Count, Prefetch, Q, QuerySet

from gongzhi.core.scoping import access_object, scope_q
from gongzhi.registry.models import Grid, Household, Person, PersonStatus, Region, RegionLevel, Relation
from gongzhi.registry.selectors import region_column

from .models import ImportBatch

IMPORT_PERM = "roster.import_roster"
EXPORT_PERM = "roster.export_roster"
REVEAL_PERM = "registry.reveal_person"


def importable_villages(*, user) -> QuerySet[Region]:
    """Villages/communities the user may import into."""
    return Region.objects.visible_to(user, IMPORT_PERM).filter(level=RegionLevel.VILLAGE).select_related("parent")


def exportable_regions(*, user) -> QuerySet[Region]:
    """Counties, towns and villages the user may export (villager groups are exported with their village)."""
    return Region.objects.visible_to(user, EXPORT_PERM).filter(level__lte=RegionLevel.VILLAGE).order_by("code")


def batch_get(*, user, pk) -> ImportBatch:
    """One import batch the user may import (403 without the permission, 404 outside scope)."""
    return access_object(ImportBatch.objects.select_related("village", "uploaded_by"), user, IMPORT_PERM, pk=pk)


def batch_list(*, user) -> QuerySet[ImportBatch]:
    """The user's import batches, newest first (the upload page paginates them)."""
    return (ImportBatch.objects.visible_to(user, IMPORT_PERM)
            .select_related("village", "uploaded_by").defer("content").order_by("-created_at", "-id"))


# ---------------------------------------------------------------------------------------------
# look-ups for the import checks


def village_groups(*, village: Region) -> list[Region]:
    return list(Region.objects.filter(parent=village, level=RegionLevel.GROUP))


def lookup_grids(*, village: Region, codes) -> list[Grid]:
    """The village's grids, plus any grid elsewhere whose code the file names, with a child count."""
    codes = [c for c in set(codes) if c]
    return list(Grid.objects.filter(Q(village_id=village.pk) | Q(code__in=codes))
                .select_related("region", "parent").annotate(child_count=Count("children")))


def lookup_persons(*, id_numbers) -> dict[str, Person]:
    ids = [i for i in set(id_numbers) if i]
    if not ids:
        return {}
    return {p.id_number: p for p in Person.objects.filter(id_number__in=ids).select_related("household")}


def lookup_households(*, codes) -> dict[str, Household]:
    codes = [c for c in set(codes) if c]
    if not codes:
        return {}
    return {h.code: h for h in Household.objects.filter(code__in=codes).select_related("region", "grid__region")}


def lookup_active_members(*, household_ids) -> dict[int, list[Person]]:
    """Active members of these households, by household id (one query)."""
    ids = [i for i in set(household_ids) if i]
    members: dict[int, list[Person]] = defaultdict(list)
    if ids:
        for person in Person.objects.filter(household_id__in=ids, status=PersonStatus.ACTIVE):
            members[person.household_id].append(person)
    return members


def lookup_grids_with_households(*, grid_ids) -> set[int]:
    ids = [i for i in set(grid_ids) if i]
    if not ids:
        return set()
    return set(Household.objects.filter(grid_id__in=ids).values_list("grid_id", flat=True).distinct())


def persons_in_scope(*, user, id_numbers, perm: str = IMPORT_PERM) -> dict[str, Person]:
    """Persons the user may touch with ``perm``, by ID number (grid heads and workers)."""
    ids = [i for i in set(id_numbers) if i]
    if not ids:
        return {}
    return {p.id_number: p for p in Person.objects.visible_to(user, perm).filter(id_number__in=ids)}


# ---------------------------------------------------------------------------------------------
# export


_RELATION_ORDER = {value: i for i, value in enumerate(Relation.values)}


def export_households(*, user, region: Region) -> list[Household]:
    """Households under ``region`` the user may export, each with ``export_members`` (active
    members the user may export, head first). Three queries."""
    column = region_column(region.level)
    members = Person.objects.visible_to(user, EXPORT_PERM).filter(status=PersonStatus.ACTIVE).order_by("id")
    households = list(Household.objects.visible_to(user, EXPORT_PERM).filter(**{column: region.pk})
                      .select_related("grid", "region", "village")
                      .prefetch_related(Prefetch("members", queryset=members, to_attr="export_members"))
                      .order_by("village__code", "code"))
    for household in households:
        household.export_members.sort(key=lambda p: (_RELATION_ORDER.get(p.relation, 99), p.pk))
    return households


def export_grids(*, user, region: Region) -> list[Grid]:
    column = region_column(region.level)
    return list(Grid.objects.visible_to(user, EXPORT_PERM).filter(**{column: region.pk})
                .select_related("parent", "region", "village", "head", "worker")
                .order_by("village__code", "level", "code"))


def revealable_person_ids(*, user, person_ids) -> set[int]:
    """Which of these persons the user may see unmasked (``registry.reveal_person`` in scope)."""
    ids = [i for i in set(person_ids) if i]
    q = scope_q(user, Person, REVEAL_PERM)
    if not ids or q is None:
        return set()
    return set(Person.objects.filter(q, pk__in=ids).values_list("pk", flat=True))
