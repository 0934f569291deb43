"""Map geometry of the territory: validation, centroids, bounds, and the reads the map draws from.

The county map (一图总览) draws from the registry's own geometry, so it works on a county intranet
with no tile server: every region and grid may carry a centre (``lat``/``lng``) and an
``outline``, a GeoJSON Polygon or MultiPolygon *geometry object* in WGS84 longitude/latitude
(RFC 7946 order: ``[lng, lat]``). The demo generator fills them in; ``gongzhi import_geometry``
takes them from a GeoJSON file (``services.territory_geometry_import``).

Pure helpers (no database): ``outline_errors``/``validate_outline``, ``outline_centroid``,
``bounds``. Reads: ``territory_features(user, level=...)`` and ``centroid_of(obj)``; they go
through the one scoping mechanism (``visible_to``) like every other read of the registry.
"""
from __future__ import annotations

import math
from decimal import Decimal
from typing import NamedTuple

from django.core.exceptions import ValidationError

GEOMETRY_TYPES = ("Polygon", "MultiPolygon")
# A village boundary surveyed by the civil-affairs bureau has a few thousand vertices; far more
# is a mistake (or an attempt to fill the database), not a boundary.
MAX_POSITIONS = 200_000
LEVELS = ("town", "village", "grid")
REGION_LEVEL = {"town": 2, "village": 3}


class LngLat(NamedTuple):
    """A point in GeoJSON order. (Leaflet wants ``[lat, lng]``: ``[p.lat, p.lng]``.)"""

    lng: float
    lat: float


# ---------------------------------------------------------------------------------------------
# validation


def _number(value) -> bool:
    return isinstance(value, (int, float, Decimal)) and not isinstance(value, bool) and math.isfinite(value)


def position_error(position, where: str) -> str | None:
    if not isinstance(position, (list, tuple)) or len(position) not in (2, 3) or not all(map(_number, position)):
        return f"{where}：坐标应为 [经度, 纬度] 两个数字"
    lng, lat = position[0], position[1]
    if not -180 <= lng <= 180:
        return f"{where}：经度 {lng} 超出 -180～180"
    if not -90 <= lat <= 90:
        return f"{where}：纬度 {lat} 超出 -90～90"
    return None


def _ring_errors(ring, where: str) -> list[str]:
    if not isinstance(ring, (list, tuple)):
        return [f"{where}：应为坐标列表"]
    if len(ring) < 4:
        return [f"{where}：至少要有4个坐标（首尾相同的闭合环）"]
    for k, position in enumerate(ring):
        error = position_error(position, f"{where}第{k + 1}个点")
        if error:
            return [error]
    if list(ring[0][:2]) != list(ring[-1][:2]):
        return [f"{where}：未闭合（首尾坐标应相同）"]
    if len({(p[0], p[1]) for p in ring}) < 3:
        return [f"{where}：不同的点少于3个，围不成面"]
    return []


def _polygon_errors(rings, where: str) -> list[str]:
    if not isinstance(rings, (list, tuple)) or not rings:
        return [f"{where}：应为至少一个环（外环在前，内环在后）"]
    errors = []
    for k, ring in enumerate(rings):
        errors += _ring_errors(ring, f"{where}{'外环' if k == 0 else f'第{k}个内环'}")
    return errors


def outline_errors(value) -> list[str]:
    """Everything wrong with ``value`` as an outline (empty list: it is fine)."""
    if not isinstance(value, dict):
        return ["轮廓应为 GeoJSON 几何对象（Polygon 或 MultiPolygon）"]
    kind = value.get("type")
    if kind not in GEOMETRY_TYPES:
        return [f"轮廓类型应为 Polygon 或 MultiPolygon，不能是 {kind!r}"]
    coordinates = value.get("coordinates")
    if kind == "Polygon":
        polygons = [coordinates]
    elif isinstance(coordinates, (list, tuple)) and coordinates:
        polygons = coordinates
    else:
        return ["MultiPolygon 应至少含一个面"]
    errors = []
    for k, rings in enumerate(polygons):
        errors += _polygon_errors(rings, "多边形" if kind == "Polygon" else f"第{k + 1}个面的")
        if errors:
            break
    if not errors and sum(len(ring) for rings in polygons for ring in rings) > MAX_POSITIONS:
        errors.append(f"轮廓的坐标点超过 {MAX_POSITIONS} 个，请先简化")
    return errors


def validate_outline(value) -> None:
    """The model field validator: a GeoJSON Polygon/MultiPolygon in WGS84 lng/lat, rings closed."""
    if value is None:
        return
    errors = outline_errors(value)
    if errors:
        raise ValidationError(errors[0], code="invalid_outline")


# ---------------------------------------------------------------------------------------------
# centroids and bounds (planar in lng/lat: a county is small enough)


def _ring_moments(ring) -> tuple[float, float, float]:
    """(signed area, area·cx, area·cy) of a ring by the shoelace formula."""
    area = cx = cy = 0.0
    x0, y0 = float(ring[0][0]), float(ring[0][1])  # relative to the first point: fewer cancellations
    for (xa, ya), (xb, yb) in zip(((p[0], p[1]) for p in ring), ((p[0], p[1]) for p in ring[1:])):
        xa, ya, xb, yb = float(xa) - x0, float(ya) - y0, float(xb) - x0, float(yb) - y0
        cross = xa * yb - xb * ya
        area += cross
        cx += (xa + xb) * cross
        cy += (ya + yb) * cross
    area /= 2
    return area, cx / 6 + area * x0, cy / 6 + area * y0


def _polygons(outline: dict) -> list:
    return [outline["coordinates"]] if outline["type"] == "Polygon" else outline["coordinates"]


KM_PER_DEGREE = 111.32  # along a meridian; along a parallel it is this × cos(latitude)


def outline_area_km2(outline: dict) -> float:
    """The outline's area in km² (holes subtracted), on a local equirectangular projection — good to
    well under 1 % at a county's size, which is all the assessment's indices need."""
    total = 0.0
    for rings in _polygons(outline):
        for k, ring in enumerate(rings):
            area, _mx, _my = _ring_moments(ring)
            total += (1 if (k == 0) == (area >= 0) else -1) * area
    lat = outline_centroid(outline).lat
    return abs(total) * KM_PER_DEGREE ** 2 * math.cos(math.radians(lat))


def distance_km(a: LngLat, b: LngLat) -> float:
    """Great-circle distance (haversine, mean Earth radius 6,371 km)."""
    lat1, lat2 = math.radians(a.lat), math.radians(b.lat)
    dlat, dlng = lat2 - lat1, math.radians(b.lng - a.lng)
    h = math.sin(dlat / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin(dlng / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(h))


def outline_centroid(outline: dict) -> LngLat:
    """The area-weighted centroid of a Polygon/MultiPolygon (holes subtracted). A degenerate
    outline (no area) gives the mean of its outer rings' vertices."""
    total = sx = sy = 0.0
    for rings in _polygons(outline):
        for k, ring in enumerate(rings):
            area, mx, my = _ring_moments(ring)
            # The outer ring counts positive and holes negative, whatever way they are wound.
            sign = 1 if (k == 0) == (area >= 0) else -1
            total += sign * area
            sx += sign * mx
            sy += sign * my
    if abs(total) > 1e-15:
        return LngLat(sx / total, sy / total)
    points = [p for rings in _polygons(outline) for p in rings[0][:-1]]
    return LngLat(sum(float(p[0]) for p in points) / len(points), sum(float(p[1]) for p in points) / len(points))


def _positions(geometry: dict):
    kind, coordinates = geometry.get("type"), geometry.get("coordinates")
    if kind == "Point":
        yield coordinates
    elif kind in ("MultiPoint", "LineString"):
        yield from coordinates
    elif kind in ("Polygon", "MultiLineString"):
        for ring in coordinates:
            yield from ring
    elif kind == "MultiPolygon":
        for rings in coordinates:
            for ring in rings:
                yield from ring


def bounds(features) -> list[float] | None:
    """``[west, south, east, north]`` (a GeoJSON bbox) of features, a FeatureCollection or bare
    geometries; None when none has geometry. (Leaflet: ``[[south, west], [north, east]]``.)"""
    if isinstance(features, dict):
        features = features.get("features", [features])
    west = south = math.inf
    east = north = -math.inf
    for feature in features:
        geometry = feature.get("geometry") if feature.get("type") == "Feature" else feature
        if not geometry:
            continue
        for position in _positions(geometry):
            lng, lat = float(position[0]), float(position[1])
            west, east = min(west, lng), max(east, lng)
            south, north = min(south, lat), max(north, lat)
    return None if west is math.inf else [west, south, east, north]


def as_decimal(value: float) -> Decimal:
    """A coordinate as the model stores it (6 decimals: about 0.1 m)."""
    return Decimal(f"{value:.6f}")


# ---------------------------------------------------------------------------------------------
# reads


def _geometry(row: dict) -> dict | None:
    if row["outline"]:
        return row["outline"]
    if row["lat"] is not None and row["lng"] is not None:
        return {"type": "Point", "coordinates": [float(row["lng"]), float(row["lat"])]}
    return None


def centroid_of(obj) -> LngLat | None:
    """The centre of a region or grid: its ``lat``/``lng`` when set, else its outline's
    centroid, else None. (Reads the object as given: the caller has already checked access.)"""
    if obj.lat is not None and obj.lng is not None:
        return LngLat(float(obj.lng), float(obj.lat))
    if obj.outline:
        return outline_centroid(obj.outline)
    return None


def territory_features(user, *, level: str = "village", within=None) -> dict:
    """The towns, villages/communities or grids ``user`` may see, as a GeoJSON FeatureCollection.

    One query, whatever the size of the county. Each feature: ``id`` (the region's or grid's
    primary key), ``geometry`` (the outline, else a Point at the centre, else null), and
    ``properties``: ``kind`` ("region" or "grid"), ``code``, ``name``, ``level`` (region level 2/3,
    or grid level 1-3), ``region_kind`` (town, village, community …; regions only), ``parent_id``,
    ``county_id``, ``town_id``, ``village_id``, ``region_id`` (grids only), ``lat``/``lng`` (the
    centre, or null). The collection carries ``bbox`` (``[west, south, east, north]`` or null).
    ``within``: only what lies in that region (its id, or a Region), for a town's or a village's map.
    """
    from django.db.models import Q

    from .models import Grid, Region

    if level not in LEVELS:
        raise ValueError(f"level must be one of {', '.join(LEVELS)}")
    within_id = getattr(within, "pk", within)
    if level == "grid":
        qs = Grid.objects.visible_to(user, "registry.view_grid")
        columns = ("id", "code", "name", "level", "parent_id", "region_id", "county_id", "town_id", "village_id",
                   "lat", "lng", "outline")
    else:
        qs = Region.objects.visible_to(user, "registry.view_region").filter(level=REGION_LEVEL[level])
        columns = ("id", "code", "name", "kind", "level", "parent_id", "county_id", "town_id", "village_id",
                   "lat", "lng", "outline")
    if within_id is not None:
        qs = qs.filter(Q(county_id=within_id) | Q(town_id=within_id) | Q(village_id=within_id))
    features = []
    for row in qs.order_by("code").values(*columns):
        properties = {
            "kind": "grid" if level == "grid" else "region", "code": row["code"], "name": row["name"],
            "level": row["level"], "parent_id": row["parent_id"], "county_id": row["county_id"],
            "town_id": row["town_id"], "village_id": row["village_id"],
            "lat": float(row["lat"]) if row["lat"] is not None else None,
            "lng": float(row["lng"]) if row["lng"] is not None else None,
        }
        if level == "grid":
            properties["region_id"] = row["region_id"]
        else:
            properties["region_kind"] = row["kind"]
        features.append({"type": "Feature", "id": row["id"], "properties": properties, "geometry": _geometry(row)})
    return {"type": "FeatureCollection", "features": features, "bbox": bounds(features)}


def geometry_export(user=None, *, kinds=("region", "grid")) -> dict:
    """Every region and grid that has geometry, as a FeatureCollection that
    ``services.territory_geometry_import`` reads back unchanged (``gongzhi export_geometry``).

    Properties: ``kind``, ``code``, ``name``, ``level``, ``lat``/``lng`` (the stored centre, which
    need not be the outline's centroid). ``user`` None is the system (the command line: every
    row); otherwise only what the user may see (``registry.view_region``/``view_grid``)."""
    from django.db.models import Q

    from .models import Grid, Region

    has_geometry = Q(outline__isnull=False) | Q(lat__isnull=False, lng__isnull=False)
    features = []
    for kind, model, perm in (("region", Region, "registry.view_region"), ("grid", Grid, "registry.view_grid")):
        if kind not in kinds:
            continue
        qs = model.objects.all() if user is None else model.objects.visible_to(user, perm)
        for row in qs.filter(has_geometry).order_by("code").values("code", "name", "level", "lat", "lng", "outline"):
            properties = {"kind": kind, "code": row["code"], "name": row["name"], "level": row["level"],
                          "lat": float(row["lat"]) if row["lat"] is not None else None,
                          "lng": float(row["lng"]) if row["lng"] is not None else None}
            features.append({"type": "Feature", "properties": properties, "geometry": _geometry(row)})
    return {"type": "FeatureCollection", "features": features}
