"""Likely duplicates and clusters of repeated matters (reads).

A *likely duplicate* of a case is another open case
* in the same county and the same category,
* received within ``GONGZHI_INTAKE_DUPLICATE_DAYS`` (default 30) of it, before or after,
* near it: in the same grid, or within ``GONGZHI_INTAKE_DUPLICATE_RADIUS_M`` (default 300 m) when
  both have a GPS point — or, when one side has neither, in the same village with a higher bar
  for the text,
* saying much the same thing: the Dice coefficient of the character bigrams of title and
  description (``text.similarity``) at least ``GONGZHI_INTAKE_DUPLICATE_MIN_SIMILARITY`` (0.3;
  +0.2 when only the village is shared).

Why bigrams in Python rather than pg_trgm: the candidate set is already small (one county,
category and month, near one place), Chinese has no spaces for trigram "words" (pg_trgm's
results depend on the database's ctype), and the same code runs on SQLite for the demo.

Everything starts from ``Case.objects.visible_to(user, perm)``: a user is only ever shown, and
can only merge, cases in their scope.

A *cluster* is the same category raised at least ``GONGZHI_INTAKE_CLUSTER_MIN_CASES`` (3) times
from one place (grid, or village when no grid) in a period: repeated matters the village or town
should fix at the root.
"""
from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

from django.db.models import Count, Max, Min, Q
from django.utils import timezone

from gongzhi.cases.choices import CaseStatus
from gongzhi.cases.models import Case, CaseCategory
from gongzhi.registry.models import Grid, Region

from . import conf
from .text import bigrams, distance_m, similarity

VIEW = "cases.view_case"
POOL_LIMIT = 3000
FIELDS = ("id", "number", "title", "description", "category_id", "county_id", "village_id", "grid_id", "region_id",
          "latitude", "longitude", "received_at", "status")


@dataclass
class Suggestion:
    case: Case
    score: float
    text_similarity: float
    distance_m: float | None = None
    reasons: list[str] = field(default_factory=list)

    @property
    def percent(self) -> int:
        return round(self.text_similarity * 100)


def _text(case: Case) -> set[str]:
    return bigrams(f"{case.title} {case.description[:500]}")


def _box(case: Case, radius: float) -> Q | None:
    if case.latitude is None or case.longitude is None:
        return None
    lat, lon = float(case.latitude), float(case.longitude)
    dlat = radius / 111_320
    dlon = radius / (111_320 * max(math.cos(math.radians(lat)), 0.01))
    return Q(latitude__gte=lat - dlat, latitude__lte=lat + dlat, longitude__gte=lon - dlon, longitude__lte=lon + dlon)


def _judge(case: Case, other: Case, texts: dict, *, radius: float, minimum: float) -> Suggestion | None:
    if other.pk == case.pk or other.category_id != case.category_id or other.county_id != case.county_id:
        return None
    if abs(other.received_at - case.received_at) > dt.timedelta(days=conf.duplicate_days()):
        return None
    reasons, near, bar = [], False, minimum
    distance = None
    if case.grid_id and case.grid_id == other.grid_id:
        near = True
        reasons.append("同一网格")
    if None not in (case.latitude, case.longitude, other.latitude, other.longitude):
        distance = distance_m(case.latitude, case.longitude, other.latitude, other.longitude)
        if distance <= radius:
            near = True
            reasons.append(f"相距约{round(distance)}米")
    if not near and case.village_id and case.village_id == other.village_id:
        if not (case.grid_id and other.grid_id) and distance is None:
            near, bar = True, minimum + 0.2
            reasons.append("同一村（社区）")
    if not near:
        return None
    score = similarity(texts[case.pk], texts[other.pk])
    if score < bar:
        return None
    reasons.append(f"内容相似{round(score * 100)}%")
    closeness = 0.2 if (distance is not None and distance <= radius) or "同一网格" in reasons else 0.0
    return Suggestion(case=other, score=score + closeness, text_similarity=score, distance_m=distance,
                      reasons=reasons)


def duplicates_for_many(*, user, cases, perm: str = VIEW, limit: int = 5) -> dict[int, list[Suggestion]]:
    """Likely duplicates of each of ``cases`` among the open cases ``user`` may see with ``perm``.

    Two queries whatever the number of cases (the pool, then the chosen rows' relations).
    """
    cases = [c for c in cases]
    result: dict[int, list[Suggestion]] = {c.pk: [] for c in cases}
    if not cases:
        return result
    days = dt.timedelta(days=conf.duplicate_days())
    radius = conf.duplicate_radius_m()
    minimum = conf.duplicate_min_similarity()
    place = Q(village_id__in={c.village_id for c in cases if c.village_id}) | Q(
        grid_id__in={c.grid_id for c in cases if c.grid_id})
    for case in cases:
        box = _box(case, radius)
        if box is not None:
            place |= box
    pool = list(
        Case.objects.visible_to(user, perm).exclude(status=CaseStatus.CLOSED)
        .filter(county_id__in={c.county_id for c in cases}, category_id__in={c.category_id for c in cases},
                received_at__gte=min(c.received_at for c in cases) - days,
                received_at__lte=max(c.received_at for c in cases) + days)
        .filter(place).only(*FIELDS).order_by("-received_at")[:POOL_LIMIT]
    )
    texts = {c.pk: _text(c) for c in pool}
    texts.update({c.pk: _text(c) for c in cases})
    chosen: set[int] = set()
    for case in cases:
        found = [s for s in (_judge(case, other, texts, radius=radius, minimum=minimum) for other in pool) if s]
        found.sort(key=lambda s: (-s.score, s.case.received_at))
        result[case.pk] = found[:limit]
        chosen |= {s.case.pk for s in result[case.pk]}
    if chosen:
        full = Case.objects.select_related("category", "region", "grid", "assignee_region", "assignee_grid",
                                           "assignee_department").in_bulk(chosen)
        for suggestions in result.values():
            for s in suggestions:
                s.case = full.get(s.case.pk, s.case)
    return result


def duplicate_candidates(*, user, case: Case, perm: str = VIEW, limit: int = 5) -> list[Suggestion]:
    return duplicates_for_many(user=user, cases=[case], perm=perm, limit=limit)[case.pk]


def merge_queue_waiting(*, user):
    """Cases waiting to be accepted (only those may be merged away) in the user's dispatch scope,
    oldest first — the queryset the page paginates before suggestions are computed for one page."""
    return (Case.objects.visible_to(user, "cases.dispatch_case")
            .filter(status__in=[CaseStatus.REGISTERED, CaseStatus.PENDING_INSTRUCTION])
            .select_related("category", "region", "grid").order_by("received_at", "pk"))


def merge_queue(*, user, limit: int = 50, cases=None):
    """The dispatcher's acceptance queue with likely duplicates: ``cases`` (one page of
    ``merge_queue_waiting``) or its first ``limit``, each with its suggestions."""
    waiting = list(cases) if cases is not None else list(merge_queue_waiting(user=user)[:limit])
    suggestions = duplicates_for_many(user=user, cases=waiting, perm="cases.dispatch_case")
    return [(case, suggestions[case.pk]) for case in waiting]


# ---------------------------------------------------------------------------------------------
# clusters


@dataclass
class Cluster:
    village: Region | None
    grid: Grid | None
    category: CaseCategory
    count: int
    open: int
    first: dt.datetime
    latest: dt.datetime
    cases: list[Case] = field(default_factory=list)

    @property
    def place(self) -> str:
        if self.village is None:
            return "未定位到村（社区）"
        town = self.village.parent.name if self.village.parent_id else ""
        name = f"{town}{self.village.name}"
        return f"{name} · {self.grid.name}" if self.grid else name


def _region_column(region: Region) -> str:
    return {1: "county_id", 2: "town_id", 3: "village_id"}.get(region.level, "region_id")


def _cluster_queries(*, user, start, end, region, min_cases):
    end = end or timezone.now()
    start = start or end - dt.timedelta(days=90)
    min_cases = min_cases or conf.cluster_min_cases()
    qs = Case.objects.visible_to(user, VIEW).filter(received_at__gte=start, received_at__lt=end)
    if region is not None:
        qs = qs.filter(**{_region_column(region): region.pk})
    groups = qs.order_by().values("village_id", "grid_id", "category_id").annotate(
        n=Count("pk"), open=Count("pk", filter=~Q(status=CaseStatus.CLOSED)), first=Min("received_at"),
        latest=Max("received_at")).filter(n__gte=min_cases)
    return qs, groups


def clusters(*, user, start: dt.datetime | None = None, end: dt.datetime | None = None, region: Region | None = None,
             min_cases: int | None = None, limit: int = 100, offset: int = 0, with_cases: int = 20) -> list[Cluster]:
    """Repeated matters: (village, grid, category) groups with at least ``min_cases`` cases received
    in [start, end) — most cases first, ``limit`` of them from ``offset``. Four queries."""
    qs, groups = _cluster_queries(user=user, start=start, end=end, region=region, min_cases=min_cases)
    rows = list(groups.order_by("-n", "-latest", "village_id", "grid_id", "category_id")[offset:offset + limit])
    if not rows:
        return []
    villages = Region.objects.select_related("parent").in_bulk({r["village_id"] for r in rows if r["village_id"]})
    grids = Grid.objects.in_bulk({r["grid_id"] for r in rows if r["grid_id"]})
    categories = CaseCategory.objects.in_bulk({r["category_id"] for r in rows})
    out = [Cluster(village=villages.get(r["village_id"]), grid=grids.get(r["grid_id"]),
                   category=categories[r["category_id"]], count=r["n"], open=r["open"], first=r["first"],
                   latest=r["latest"]) for r in rows]
    if with_cases:
        keys = {(c.village.pk if c.village else None, c.grid.pk if c.grid else None, c.category.pk): c for c in out}
        members = (qs.filter(category_id__in={k[2] for k in keys})
                   .filter(Q(village_id__in={k[0] for k in keys if k[0]}) | Q(village_id__isnull=True))
                   .only("id", "number", "title", "status", "received_at", "village_id", "grid_id", "category_id")
                   .order_by("-received_at"))
        for case in members.iterator(chunk_size=2000):
            cluster = keys.get((case.village_id, case.grid_id, case.category_id))
            if cluster is not None and len(cluster.cases) < with_cases:
                cluster.cases.append(case)
    return out


class ClusterPages:
    """``clusters`` as a sequence the one paginator (gongzhi.core.pagination) can page, for the
    page and the API alike: ``count()`` is one query, a slice is one ``clusters`` call."""

    def __init__(self, **query):
        self.query = query

    def count(self) -> int:
        return _cluster_queries(**{k: self.query.get(k) for k in ("user", "start", "end", "region", "min_cases")}
                                )[1].count()

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, item):
        if not isinstance(item, slice):
            raise TypeError("ClusterPages is sliced, not indexed")
        start = item.start or 0
        stop = item.stop if item.stop is not None else start + 100
        return clusters(**self.query, offset=start, limit=max(0, stop - start))
