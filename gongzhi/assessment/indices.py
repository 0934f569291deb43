"""Differentiated indices (DOMAIN.md §3.6): an urban governance-complexity index and a rural
public-service-accessibility index, so that a unit is judged against peers facing similar work.

The seed gives no formula; ours, and why (docs/assessment.md has the long form):

Factors, computed from the registry and the work records for each village or community:
* ``population`` — persons living in the unit's households (registry, status "living in");
* ``density`` — population per km² of the unit's outline (registry geometry);
* ``from_elsewhere`` — the share of those persons whose resident-ID division code (its first six
  digits: where the number was issued) is not the county's: the floating population the registry
  can see without asking anyone for a new form;
* ``elderly`` — the share aged 60 or over on the period's last day;
* ``distance_km`` — great-circle km from the unit's centre to its town's centre (where the town's
  service hall is): the distance a resident travels for a service;
* ``cases_per_1000`` — residents' matters received in the period per 1,000 residents.

Each formula is a weighted sum of factors normalised 0–1 by min–max among the county's units of
the same class (a direction of −1 turns "less is more" round), times 100. Defaults:
* urban complexity = 0.3 density + 0.3 from_elsewhere + 0.2 population + 0.2 cases_per_1000 — the
  more people, turnover and matters on a community's streets, the harder it is to govern;
* rural accessibility = 0.5 (−distance_km) + 0.25 density + 0.25 (−elderly) — far, sparse and old
  villages are the hardest to serve.
Weights are the county's to change (``IndexFormula``, versioned, with a reason and a reviewer); a
formula's weights must sum to 1 and name known factors.

Peers: units of one class are split into three bands by their index (terciles: 低/中/高; a class of
fewer than nine units stays one group, so that no band has fewer than three peers); a unit is
ranked only against its band, and urban and rural units use different indicator weights
(``AssessmentWeights``).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.db.models.functions import Substr

from gongzhi.registry.geometry import centroid_of, distance_km, outline_area_km2
from gongzhi.registry.models import Person, PersonStatus, Region, RegionKind, RegionLevel

FACTORS = {
    "population": "常住人口",
    "density": "人口密度（人/平方公里）",
    "from_elsewhere": "外地户籍人口占比",
    "elderly": "60岁以上人口占比",
    "distance_km": "距镇（街道）服务中心距离（公里）",
    "cases_per_1000": "每千人诉求量",
}
DEFAULT_TERMS = {
    "urban": [{"factor": "density", "weight": 0.3, "direction": 1},
              {"factor": "from_elsewhere", "weight": 0.3, "direction": 1},
              {"factor": "population", "weight": 0.2, "direction": 1},
              {"factor": "cases_per_1000", "weight": 0.2, "direction": 1}],
    "rural": [{"factor": "distance_km", "weight": 0.5, "direction": -1},
              {"factor": "density", "weight": 0.25, "direction": 1},
              {"factor": "elderly", "weight": 0.25, "direction": -1}],
}
INDEX_NAME = {"urban": "城市治理复杂度指数", "rural": "农村公共服务可及性指数"}
BANDS = ["低", "中", "高"]
MIN_BAND = 3


def validate_terms(terms) -> list[dict]:
    if not isinstance(terms, list) or not terms:
        raise ValidationError({"terms": "公式至少要有一项"})
    clean, total = [], Decimal(0)
    for k, term in enumerate(terms, 1):
        if not isinstance(term, dict) or term.get("factor") not in FACTORS:
            raise ValidationError({"terms": f"第{k}项的因子不认识；可用：{'、'.join(FACTORS)}"})
        try:
            weight = Decimal(str(term.get("weight")))
        except Exception:
            raise ValidationError({"terms": f"第{k}项的权重应为数字"}) from None
        if weight <= 0:
            raise ValidationError({"terms": f"第{k}项的权重应大于0"})
        direction = term.get("direction", 1)
        if direction not in (1, -1):
            raise ValidationError({"terms": f"第{k}项的方向只能是1或-1"})
        total += weight
        clean.append({"factor": term["factor"], "weight": float(weight), "direction": direction})
    if abs(total - 1) > Decimal("0.0001"):
        raise ValidationError({"terms": f"各项权重之和应为1，现在是{total}"})
    if len({t["factor"] for t in clean}) != len(clean):
        raise ValidationError({"terms": "同一因子只能出现一次"})
    return clean


def unit_class(region: Region) -> str:
    return "urban" if region.kind == RegionKind.COMMUNITY else "rural"


@dataclass
class UnitIndex:
    region: Region
    unit_class: str
    factors: dict[str, float]
    index: float | None = None
    band: str = ""


def factors_for(county: Region, *, period_end: dt.date, cases_in_period: dict[int, int]) -> dict[int, UnitIndex]:
    """Every village and community of the county with its factors (no index yet)."""
    units = list(Region.objects.filter(county_id=county.pk, level=RegionLevel.VILLAGE).order_by("code"))
    towns = {t.pk: t for t in Region.objects.filter(county_id=county.pk, level=RegionLevel.TOWN)}
    living = Person.objects.filter(county_id=county.pk, status=PersonStatus.ACTIVE, village_id__isnull=False)
    elderly_born_by = period_end.replace(year=period_end.year - 60)
    prefix = county.code[:6]
    rows = (living.annotate(id_prefix=Substr("id_number", 1, 6)).order_by().values("village_id")
            .annotate(n=Count("pk"), old=Count("pk", filter=Q(birth_date__lte=elderly_born_by)),
                      elsewhere=Count("pk", filter=~Q(id_prefix=prefix))))
    counts = {row["village_id"]: row for row in rows}
    out = {}
    for unit in units:
        row = counts.get(unit.pk, {"n": 0, "old": 0, "elsewhere": 0})
        population = row["n"]
        area = outline_area_km2(unit.outline) if unit.outline else None
        centre, town = centroid_of(unit), towns.get(unit.town_id)
        town_centre = centroid_of(town) if town else None
        factors = {
            "population": float(population),
            "density": (population / area) if area else None,
            "from_elsewhere": (row["elsewhere"] / population) if population else None,
            "elderly": (row["old"] / population) if population else None,
            "distance_km": distance_km(centre, town_centre) if centre and town_centre else None,
            "cases_per_1000": (1000 * cases_in_period.get(unit.pk, 0) / population) if population else None,
        }
        out[unit.pk] = UnitIndex(unit, unit_class(unit), factors)
    return out


def apply_formula(units: list[UnitIndex], terms: list[dict]) -> None:
    """Normalise each factor among ``units`` (one class) and set index and band."""
    spans = {}
    for term in terms:
        values = [u.factors[term["factor"]] for u in units if u.factors.get(term["factor"]) is not None]
        spans[term["factor"]] = (min(values), max(values)) if values else (0.0, 0.0)
    for unit in units:
        total = weight = 0.0
        for term in terms:
            value = unit.factors.get(term["factor"])
            if value is None:
                continue
            low, high = spans[term["factor"]]
            norm = 0.5 if high == low else (value - low) / (high - low)
            if term["direction"] == -1:
                norm = 1 - norm
            total += term["weight"] * norm
            weight += term["weight"]
        unit.index = round(100 * total / weight, 2) if weight else None
    ranked = sorted((u for u in units if u.index is not None), key=lambda u: (u.index, u.region.code))
    n = len(ranked)
    for position, unit in enumerate(ranked):
        # Bands only when each would hold at least MIN_BAND units; a small class is one peer group.
        unit.band = BANDS[min(2, position * 3 // n)] if n >= 3 * MIN_BAND else BANDS[1]
    for unit in units:
        if unit.index is None:
            unit.band = BANDS[1]  # no factor known: compared with the middle band, and the page says "—"


def formula_terms(county: Region, kind: str) -> tuple[list[dict], int | None]:
    from .models import IndexFormula
    formula = IndexFormula.objects.filter(county=county, kind=kind).order_by("-version").first()
    return (formula.terms, formula.version) if formula else (DEFAULT_TERMS[kind], None)


def county_indices(county: Region, *, period_end: dt.date, cases_in_period: dict[int, int]) -> dict[int, UnitIndex]:
    units = factors_for(county, period_end=period_end, cases_in_period=cases_in_period)
    for kind in ("urban", "rural"):
        terms, _version = formula_terms(county, kind)
        apply_formula([u for u in units.values() if u.unit_class == kind], terms)
    return units
