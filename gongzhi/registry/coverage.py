"""Grid coverage check: 不遗漏、不重复、不交叉 (none left out, none twice, no overlap).

A household belongs to at most one grid by construction (one foreign key), so "twice" shows up
in the data as the same household registered twice: two household records at the same address
in the same village, or the same head's ID number in two households (impossible here, persons
are unique) — we report same-address duplicates in *different* grids.
"""
from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, F



@dataclass
class CoverageReport:
    households_without_grid: list
    duplicate_addresses: list  # [(address, [household, ...]), ...] across different grids
    households_outside_grid_village: list  # grid in another village than the household
    households_in_non_basic_grid: list  # grid has sub-grids
    grids_outside_their_village: list  # sub-grid whose village differs from its parent's
    basic_grids_without_worker: list
    household_count: int

    @property
    def ok(self) -> bool:
        return not any([self.households_without_grid, self.duplicate_addresses,
                        self.households_outside_grid_village, self.households_in_non_basic_grid,
                        self.grids_outside_their_village])


def coverage_report(*, households, grids, limit: int = 200) -> CoverageReport:
    """``households`` and ``grids`` are already-scoped querysets (``visible_to``)."""
    without = list(households.filter(grid__isnull=True).order_by("code")[:limit])
    outside = list(households.filter(grid__isnull=False).exclude(grid__village_id=F("village_id"))
                   .select_related("grid").order_by("code")[:limit])
    non_basic = list(households.filter(grid__children__isnull=False).distinct().order_by("code")[:limit])
    dup_keys = (households.values("village_id", "address")
                .annotate(n=Count("id"), grids=Count("grid", distinct=True))
                .filter(n__gt=1, grids__gt=1).order_by("address")[:limit])
    duplicates = []
    for key in dup_keys:
        members = list(households.filter(village_id=key["village_id"], address=key["address"]).select_related("grid"))
        duplicates.append((key["address"], members))
    crossing = list(grids.filter(parent__isnull=False).exclude(village_id=F("parent__village_id"))[:limit])
    no_worker = list(grids.filter(children__isnull=True, worker__isnull=True).order_by("code")[:limit])
    return CoverageReport(
        households_without_grid=without, duplicate_addresses=duplicates,
        households_outside_grid_village=outside, households_in_non_basic_grid=non_basic,
        grids_outside_their_village=crossing, basic_grids_without_worker=no_worker,
        household_count=households.count(),
    )
