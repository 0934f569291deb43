"""Reference data the Open311 request path reads from memory: counties, a county's catalogue and
its place codes.

Filing a request used to read the county, the category and the place from the database on
every submission (four queries before anything was written). These change a few times a year, so
each process keeps them for ``GONGZHI_INTAKE_REFERENCE_SECONDS`` (default 30 s) and forgets them
at once when this process saves or deletes one (the signal handlers at the bottom: a cache
concern, not business logic reacting to another app). Another process may answer from its copy
for up to that long; that is safe because the worker registers each receipt against the
database again (``receipts.register_received``): a category closed meanwhile is filed as
"to be classified", a place that vanished at the county, never lost.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Exists, OuterRef
from django.db.models.signals import post_delete, post_migrate, post_save

from gongzhi.cases.models import CaseCategory
from gongzhi.registry.models import Grid, Region, RegionLevel

from .models import ServiceAttribute


@dataclass(frozen=True)
class CountyRef:
    id: int
    code: str
    name: str


@dataclass(frozen=True)
class CategoryRef:
    id: int
    code: str
    name: str
    has_questions: bool


@dataclass(frozen=True)
class PlaceRef:
    """A region (town, village, group) or a grid, by its code."""

    region_id: int
    grid_id: int | None = None


@dataclass(frozen=True)
class VillageRef:
    region_id: int
    name: str
    town_name: str


@dataclass
class CountyData:
    categories: dict[str, CategoryRef] = field(default_factory=dict)
    places: dict[str, PlaceRef] = field(default_factory=dict)
    villages: list[VillageRef] = field(default_factory=list)


_lock = threading.Lock()
_counties: tuple[float, dict[str, CountyRef]] | None = None
_county_data: dict[int, tuple[float, CountyData]] = {}


def _seconds() -> float:
    return float(getattr(settings, "GONGZHI_INTAKE_REFERENCE_SECONDS", 30))


def counties() -> dict[str, CountyRef]:
    """Every county by its code."""
    global _counties
    hit, now = _counties, time.monotonic()
    if hit is not None and now - hit[0] < _seconds():
        return hit[1]
    found = {r.code: CountyRef(r.pk, r.code, r.name)
             for r in Region.objects.filter(level=RegionLevel.COUNTY).only("id", "code", "name")}
    with _lock:
        _counties = (now, found)
    return found


def county_by_code(code: str) -> CountyRef | None:
    return counties().get(code)


def single_county() -> CountyRef | None:
    """The county, when the deployment holds exactly one (then ``jurisdiction_id`` may be left out)."""
    found = counties()
    return next(iter(found.values())) if len(found) == 1 else None


def county_data(county_id: int) -> CountyData:
    hit, now = _county_data.get(county_id), time.monotonic()
    if hit is not None and now - hit[0] < _seconds():
        return hit[1]
    data = CountyData()
    categories = (CaseCategory.objects.for_county(county_id).filter(active=True)
                  .annotate(has_questions=Exists(ServiceAttribute.objects.filter(category=OuterRef("pk"))))
                  .only("id", "code", "name"))
    data.categories = {c.code: CategoryRef(c.pk, c.code, c.name, c.has_questions) for c in categories}
    # A grid of a code wins over a region of the same code (as the database lookup did).
    for region_id, code in (Region.objects.filter(county_id=county_id, level__gte=RegionLevel.TOWN)
                            .values_list("id", "code")):
        data.places[code] = PlaceRef(region_id)
    for grid_id, code, region_id in Grid.objects.filter(county_id=county_id).values_list("id", "code", "region_id"):
        data.places[code] = PlaceRef(region_id, grid_id)
    data.villages = [VillageRef(pk, name, town or "") for pk, name, town in
                     Region.objects.filter(county_id=county_id, level=RegionLevel.VILLAGE)
                     .values_list("id", "name", "parent__name")]
    with _lock:
        _county_data[county_id] = (now, data)
    return data


def match_village(county_id: int, text: str) -> int | None:
    """The village/community named in ``text`` (the longest name wins; a town named in the text
    settles a name used in two towns); its region id."""
    hits = [v for v in county_data(county_id).villages if v.name and v.name in text]
    if not hits:
        return None
    best = max(len(v.name) for v in hits)
    hits = [v for v in hits if len(v.name) == best]
    if len(hits) > 1:
        hits = [v for v in hits if v.town_name and v.town_name in text] or hits
    return hits[0].region_id if len(hits) == 1 else None


def forget(**kwargs) -> None:
    global _counties
    with _lock:
        _counties = None
        _county_data.clear()


post_migrate.connect(forget, dispatch_uid="gongzhi.intake.reference.forget")
for _model in (CaseCategory, Region, Grid, ServiceAttribute):
    post_save.connect(forget, sender=_model, dispatch_uid=f"gongzhi.intake.reference.save.{_model.__name__}")
    post_delete.connect(forget, sender=_model, dispatch_uid=f"gongzhi.intake.reference.delete.{_model.__name__}")
