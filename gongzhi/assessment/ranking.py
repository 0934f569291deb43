"""Assessing units and persons for a period, and telling them apart (分离均衡, DOMAIN.md §3.5).

For one county and one quarter, as seen by one user (every figure goes through the indicator
catalogue and so through scoping):

1. every indicator for every subject — one grouped query per source table (``compute_all``);
2. villages and communities get their differentiated index (``indices``) and are grouped with
   peers: same class (urban / rural) and same band of the index; towns, departments and persons
   are each one peer group;
3. each figure is put on a 0–100 scale among its peers — rates and means as they are (a rate where
   less is better, such as rework, as 100 − rate); counts and sums per 1,000 residents for
   villages, then min–max among the peers — and the composite is the weighted mean over the
   indicators the subject has data for, with the county's weights for its class
   (``AssessmentWeights``; indicators on the negative list are left out);
4. standing among peers (at least three peers; fewer and everyone is "ordinary"):
   * active — in the top quarter of the peer group and composite ≥ 80;
   * passive — in the bottom quarter and composite < 60;
   * merely formal (形式化) — passive by outcomes while in the top half of the peers for the
     activity that leaves traces (contacts recorded, visits, volunteer hours): busy on paper, no
     results to show;
   * ordinary — everyone else.
Grounds are the figures with their peers' median and the link to the records behind each.
Nothing is decided here: ``services.proposals_generate`` turns standings into proposals that a
named person decides.
"""
from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from decimal import Decimal

from . import indicators as catalogue
from .indicators import Figure, Indicator, Period
from .indices import INDEX_NAME, county_indices
from .models import AssessmentWeights, Standing, UnitClass

ACTIVE_AT, PASSIVE_BELOW = 80.0, 60.0
MIN_PEERS = 3
MIN_CASES_FOR_PERSON = 3
TRACE_INDICATORS = ("contacts_made", "volunteer_hours")

DEFAULT_WEIGHTS = {
    UnitClass.RURAL: {"case_closure_rate": 15, "case_on_time_rate": 15, "case_satisfaction_rate": 20,
                      "case_rework_rate": 10, "red_visits_kept": 15, "decisions_carried_out": 10,
                      "key_tasks_done": 10, "needs_delivered": 5},
    UnitClass.URBAN: {"case_closure_rate": 15, "case_on_time_rate": 20, "case_satisfaction_rate": 20,
                      "case_response_rate": 10, "case_rework_rate": 10, "red_visits_kept": 10,
                      "decisions_carried_out": 5, "needs_delivered": 10},
    UnitClass.TOWN: {"case_closure_rate": 20, "case_on_time_rate": 20, "case_satisfaction_rate": 20,
                     "case_score": 15, "key_tasks_done": 15, "needs_delivered": 10},
    UnitClass.DEPARTMENT: {"case_closure_rate": 25, "case_on_time_rate": 25, "case_response_rate": 20,
                           "case_satisfaction_rate": 20, "case_rework_rate": 10},
    UnitClass.PERSON: {"case_score": 50, "case_on_time_rate": 25, "case_satisfaction_rate": 25},
}
CLASS_OF_KIND = {"town": UnitClass.TOWN, "department": UnitClass.DEPARTMENT, "user": UnitClass.PERSON}


def weights_for(county, unit_class: str) -> tuple[dict[str, int], int | None]:
    row = AssessmentWeights.objects.filter(county=county, unit_class=unit_class).order_by("-version").first()
    return (row.weights, row.version) if row else (DEFAULT_WEIGHTS[unit_class], None)


@dataclass
class Assessed:
    kind: str
    subject_id: int
    name: str
    unit_class: str
    peer_group: str
    figures: dict[str, Figure] = field(default_factory=dict)
    normalised: dict[str, float] = field(default_factory=dict)
    population: int = 0
    index: float | None = None
    index_name: str = ""
    composite: float | None = None
    rank: int | None = None
    peers: int = 0
    standing: str = Standing.ORDINARY
    grounds: list[dict] = field(default_factory=list)


@dataclass
class Assessment:
    county: object
    period: Period
    subjects: dict[str, list[Assessed]]
    weights: dict[str, tuple[dict, int | None]]
    forbidden: set[str]

    def of(self, kind: str, subject_id: int) -> Assessed | None:
        return next((a for a in self.subjects.get(kind, []) if a.subject_id == subject_id), None)


def _scale(indicator: Indicator, figure: Figure, population: int) -> float | None:
    value = figure.value
    if value is None:
        return None
    if figure.shape == "rate":
        v = float(value)
        return v if indicator.higher_is_better else 100 - v
    if figure.shape == "mean":
        return float(value)
    if population:  # count or sum: per 1,000 residents, min–max among peers later
        return 1000 * float(value) / population
    return float(value)


def _names(kind: str, ids) -> dict[int, str]:
    from gongzhi.registry.models import Department, Region
    ids = [i for i in ids if i is not None]
    if kind in ("town", "village"):
        return dict(Region.objects.filter(pk__in=ids).values_list("pk", "name"))
    if kind == "department":
        return dict(Department.objects.filter(pk__in=ids).values_list("pk", "name"))
    if kind == "user":
        from django.contrib.auth import get_user_model
        users = get_user_model().objects.filter(pk__in=ids)
        return {u.pk: str(u) for u in users}  # the display name
    return {}


def assess(*, user, county, period: Period, kinds=("village", "town", "department", "user")) -> Assessment:
    from .burden import forbidden_indicators
    forbidden = forbidden_indicators(county.pk)
    subjects: dict[str, list[Assessed]] = {}
    weights = {}
    units_index = None
    every = catalogue.compute_all(user=user, period=period, kinds=kinds, within=county)
    for kind in kinds:
        found: dict[int, dict[str, Figure]] = {}
        for code, figures in every[kind].items():
            for sid, fig in figures.items():
                found.setdefault(sid, {})[code] = fig
        if kind == "village":
            cases = {sid: int(f["case_accepted"].numerator) for sid, f in found.items() if "case_accepted" in f}
            units_index = county_indices(county, period_end=period.end, cases_in_period=cases)
            # Every village of the county is assessed, with or without records (no records is a finding).
            for vid in units_index:
                found.setdefault(vid, {})
        if kind == "user":
            found = {sid: f for sid, f in found.items()
                     if f.get("case_closed") and f["case_closed"].numerator >= MIN_CASES_FOR_PERSON}
        names = _names(kind, found)
        rows = []
        for sid, figs in found.items():
            if kind == "village":
                unit = units_index[sid] if units_index and sid in units_index else None
                if unit is None:
                    continue
                a = Assessed(kind, sid, unit.region.name, unit.unit_class, f"{unit.unit_class}-{unit.band}", figs,
                             population=int(unit.factors["population"]), index=unit.index,
                             index_name=INDEX_NAME[unit.unit_class])
            else:
                cls = CLASS_OF_KIND[kind]
                a = Assessed(kind, sid, names.get(sid, str(sid)), cls, cls, figs)
            rows.append(a)
        for cls in {a.unit_class for a in rows}:
            weights[cls] = weights_for(county, cls)
        _compose(rows, weights, forbidden, period)
        subjects[kind] = sorted(rows, key=lambda a: (a.peer_group, a.rank or 10 ** 6, a.name))
    return Assessment(county, period, subjects, weights, forbidden)


def _compose(rows: list[Assessed], weights, forbidden: set[str], period: Period) -> None:
    groups: dict[str, list[Assessed]] = {}
    for a in rows:
        groups.setdefault(a.peer_group, []).append(a)
    for members in groups.values():
        w, _version = weights[members[0].unit_class]
        codes = [c for c in w if c not in forbidden and c in catalogue.BY_CODE]
        raw = {c: {a.subject_id: _scale(catalogue.BY_CODE[c], a.figures[c], a.population)
                   for a in members if c in a.figures} for c in codes}
        for c in codes:
            values = [v for v in raw[c].values() if v is not None]
            shape = catalogue.BY_CODE[c].shape
            for a in members:
                v = raw[c].get(a.subject_id)
                if v is None:
                    continue
                if shape in ("count", "sum"):
                    low, high = min(values), max(values)
                    v = 50.0 if high == low else 100 * (v - low) / (high - low)
                    if not catalogue.BY_CODE[c].higher_is_better:
                        v = 100 - v
                a.normalised[c] = round(v, 2)
        for a in members:
            total = sum(w[c] * a.normalised[c] for c in codes if c in a.normalised)
            weight = sum(w[c] for c in codes if c in a.normalised)
            a.composite = round(total / weight, 2) if weight else None
        ranked = sorted((a for a in members if a.composite is not None), key=lambda a: (-a.composite, a.name))
        for position, a in enumerate(ranked, 1):
            a.rank, a.peers = position, len(ranked)
        _standings(members, ranked, codes, period)


def _median(values):
    return statistics.median(values) if values else None


def _standings(members: list[Assessed], ranked: list[Assessed], codes: list[str], period: Period) -> None:
    n = len(ranked)
    medians = {c: _median([a.figures[c].value for a in members if c in a.figures and a.figures[c].value is not None])
               for c in set(codes) | set(TRACE_INDICATORS)}
    trace_medians = {c: medians.get(c) for c in TRACE_INDICATORS}
    for a in ranked:
        if n < MIN_PEERS:
            a.standing = Standing.ORDINARY
        elif a.rank <= max(1, n // 4) and a.composite >= ACTIVE_AT:
            a.standing = Standing.ACTIVE
        elif a.rank > n - max(1, n // 4) and a.composite < PASSIVE_BELOW:
            busy = any(c in a.figures and trace_medians[c] is not None and a.figures[c].value is not None
                       and a.figures[c].value > trace_medians[c] for c in TRACE_INDICATORS)
            a.standing = Standing.FORMAL if busy else Standing.PASSIVE
        a.grounds = [{
            "indicator": c, "name": catalogue.BY_CODE[c].name, "value": a.figures[c].display(),
            "peer_median": None if medians.get(c) is None else str(medians[c]),
            "url": catalogue.BY_CODE[c].provenance_url(a.kind, a.subject_id, period),
        } for c in codes + [t for t in TRACE_INDICATORS if t not in codes] if c in a.figures]
        a.grounds.insert(0, {"indicator": "composite", "name": "综合得分", "value": str(a.composite),
                             "rank": f"{a.rank}/{n}", "peer_group": a.peer_group, "url": ""})


def villages_within(assessed: list[Assessed], region) -> list[Assessed]:
    """The assessed villages lying in ``region`` (all of them for a county), read in one query."""
    if region.level == 1:
        return assessed
    from gongzhi.registry.models import Region
    column = "town_id" if region.level == 2 else "pk"
    inside = set(Region.objects.filter(**{column: region.pk}).values_list("pk", flat=True))
    return [a for a in assessed if a.subject_id in inside]


def as_decimal(value) -> Decimal | None:
    return None if value is None else Decimal(str(value))
