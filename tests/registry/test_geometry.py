"""Map geometry of the registry: the outline validator, centroids, import/export of GeoJSON, the
scoped reads the county map draws from, its REST endpoint, and the generator's map."""
from __future__ import annotations

import io
import json
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from gongzhi.core.models import AuditLog
from gongzhi.registry import geometry, services
from gongzhi.registry.models import Grid, Region

# 汉阴县, roughly: everything the generator draws lies in here.
WEST, EAST, SOUTH, NORTH = 108.2, 108.8, 32.7, 33.1


def square(lng, lat, d=0.01):
    return {"type": "Polygon", "coordinates": [[[lng, lat], [lng + d, lat], [lng + d, lat + d], [lng, lat + d],
                                                [lng, lat]]]}


def feature(code, geom, **properties):
    return {"type": "Feature", "properties": {"code": code, **properties}, "geometry": geom}


def collection(*features):
    return {"type": "FeatureCollection", "features": list(features)}


# ---------------------------------------------------------------------------------------------
# validator and maths


@pytest.mark.parametrize("bad, why", [
    ({"type": "Point", "coordinates": [108.5, 32.9]}, "Polygon"),
    ({"type": "Polygon", "coordinates": []}, "环"),
    ({"type": "Polygon", "coordinates": [[[108.5, 32.9], [108.6, 32.9], [108.6, 33.0]]]}, "4个"),
    ({"type": "Polygon", "coordinates": [[[108.5, 32.9], [108.6, 32.9], [108.6, 33.0], [108.5, 33.0]]]}, "闭合"),
    ({"type": "Polygon", "coordinates": [[[208.5, 32.9], [108.6, 32.9], [108.6, 33.0], [208.5, 32.9]]]}, "经度"),
    ({"type": "Polygon", "coordinates": [[[108.5, 92.9], [108.6, 32.9], [108.6, 33.0], [108.5, 92.9]]]}, "纬度"),
    ({"type": "Polygon", "coordinates": [[[108.5, "32.9"], [108.6, 32.9], [108.6, 33], [108.5, "32.9"]]]}, "数字"),
    ({"type": "Polygon", "coordinates": [[[108.5, 32.9], [108.6, 32.9], [108.5, 32.9], [108.5, 32.9]]]}, "3个"),
    ({"type": "MultiPolygon", "coordinates": []}, "MultiPolygon"),
    ([1, 2], "几何对象"),
])
def test_the_validator_rejects_bad_outlines_with_a_chinese_message(bad, why):
    with pytest.raises(ValidationError) as caught:
        geometry.validate_outline(bad)
    assert why in caught.value.messages[0]


def test_the_validator_accepts_polygons_multipolygons_holes_and_none():
    outer = [[108.0, 32.0], [109.0, 32.0], [109.0, 33.0], [108.0, 33.0], [108.0, 32.0]]
    hole = [[108.4, 32.4], [108.4, 32.6], [108.6, 32.6], [108.6, 32.4], [108.4, 32.4]]
    geometry.validate_outline(None)
    geometry.validate_outline({"type": "Polygon", "coordinates": [outer, hole]})
    geometry.validate_outline({"type": "MultiPolygon", "coordinates": [[outer], [hole]]})


def test_the_centroid_is_area_weighted_and_subtracts_holes():
    c = geometry.outline_centroid(square(108.0, 32.0, 1.0))
    assert c == pytest.approx((108.5, 32.5))
    # An L of three unit squares: (0.5,0.5), (1.5,0.5), (0.5,1.5) → (5/6, 5/6).
    ell = {"type": "Polygon", "coordinates": [[[0, 0], [2, 0], [2, 1], [1, 1], [1, 2], [0, 2], [0, 0]]]}
    assert geometry.outline_centroid(ell) == pytest.approx((5 / 6, 5 / 6))
    # A big square and a small one far away: weighted by area, not by vertex count.
    multi = {"type": "MultiPolygon", "coordinates": [square(0, 0, 3)["coordinates"], square(10, 0, 1)["coordinates"]]}
    assert geometry.outline_centroid(multi).lng == pytest.approx((9 * 1.5 + 1 * 10.5) / 10)
    # A hole on the right moves the centroid left (clockwise or not, a hole counts negative).
    hole = [[1.5, 0.5], [2.5, 0.5], [2.5, 1.5], [1.5, 1.5], [1.5, 0.5]]
    holed = {"type": "Polygon", "coordinates": [square(0, 0, 3)["coordinates"][0], hole]}
    assert geometry.outline_centroid(holed).lng == pytest.approx((9 * 1.5 - 2) / 8)
    assert geometry.outline_centroid(holed).lat == pytest.approx((9 * 1.5 - 1) / 8)


def test_bounds_of_features():
    features = [{"type": "Feature", "geometry": square(108.3, 32.8, 0.1)},
                {"type": "Feature", "geometry": {"type": "Point", "coordinates": [108.6, 33.0]}},
                {"type": "Feature", "geometry": None}]
    assert geometry.bounds(features) == pytest.approx([108.3, 32.8, 108.6, 33.0])
    assert geometry.bounds(collection(*features)) == pytest.approx([108.3, 32.8, 108.6, 33.0])
    assert geometry.bounds([]) is None


def test_a_bad_outline_is_refused_on_save_and_in_full_clean(world):
    village = world.regions["A1"]
    village.outline = {"type": "Polygon", "coordinates": [[[108.5, 32.9], [108.6, 32.9], [108.6, 33.0]]]}
    with pytest.raises(ValidationError) as caught:
        village.save()
    assert "outline" in caught.value.message_dict
    with pytest.raises(ValidationError):
        village.full_clean()
    village.outline, village.lat, village.lng = None, Decimal("32.9"), None
    with pytest.raises(ValidationError) as caught:
        village.full_clean()
    assert "纬度" in caught.value.message_dict["lat"][0]
    village.lat, village.lng = Decimal("95"), Decimal("108.5")
    with pytest.raises(ValidationError):
        village.full_clean()


# ---------------------------------------------------------------------------------------------
# import and export


def test_import_sets_outlines_and_centres_and_is_audited(world):
    a1, a2 = world.regions["A1"], world.regions["A2"]
    data = collection(
        feature(a1.code, square(108.40, 32.80, 0.02)),
        feature(a2.code, square(108.50, 32.80, 0.02), kind="region", lat=32.805, lng=108.505),
        feature("A1-1", {"type": "Point", "coordinates": [108.41, 32.81]}),
    )
    report = services.territory_geometry_import(actor=None, collection=data,
                                                source="villages.geojson")
    assert (report.regions, report.grids, report.unchanged, report.errors) == (2, 1, 0, [])
    a1.refresh_from_db()
    a2.refresh_from_db()
    grid = Grid.objects.get(code="A1-1")
    assert a1.outline == square(108.40, 32.80, 0.02)
    assert (a1.lat, a1.lng) == (Decimal("32.810000"), Decimal("108.410000"))  # the centroid
    assert (a2.lat, a2.lng) == (Decimal("32.805000"), Decimal("108.505000"))  # the centre given
    assert (grid.lat, grid.lng, grid.outline) == (Decimal("32.810000"), Decimal("108.410000"), None)
    rows = AuditLog.objects.filter(note="导入地图几何：villages.geojson")
    assert rows.count() == 3
    row = rows.get(object_type="registry.region", object_id=str(a1.pk))
    assert row.action == "update" and {"lat", "lng", "outline"} <= set(row.changed_fields)
    assert row.before["outline"] is None and row.after["outline"]["type"] == "Polygon"
    assert row.town_id == world.regions["A"].pk
    # The same file again changes nothing and writes no audit row.
    again = services.territory_geometry_import(actor=None, collection=data)
    assert (again.regions, again.grids, again.unchanged) == (0, 0, 3)
    assert AuditLog.objects.filter(note__startswith="导入地图几何").count() == 3


def test_unknown_codes_and_bad_geometry_reject_the_whole_file(world):
    a1 = world.regions["A1"]
    data = collection(
        feature(a1.code, square(108.40, 32.80)),  # fine, but must not be written
        feature("610921999201", square(108.40, 32.80)),
        feature(world.regions["A2"].code, {"type": "Polygon", "coordinates": [[[108.4, 32.8], [108.5, 32.8],
                                                                                [108.5, 32.9], [108.4, 32.9]]]}),
        feature("A1-1", {"type": "LineString", "coordinates": [[108.4, 32.8], [108.5, 32.8]]}),
        feature(a1.code, square(108.50, 32.80)),
        {"type": "Feature", "properties": {}, "geometry": square(108.4, 32.8)},
        feature("A2", square(108.4, 32.8), kind="region"),  # a grid's code said to be a region's
    )
    with pytest.raises(services.GeometryImportRejected) as caught:
        services.territory_geometry_import(actor=None, collection=data)
    report = caught.value.report
    numbers = [number for number, _code, _message in report.errors]
    assert numbers == [2, 3, 4, 5, 6, 7]
    text = report.as_text()
    assert "610921999201" in text and "未知的区划代码" in text
    assert "重复" in text and "LineString" in text and "properties.code" in text
    assert "未写入任何数据" in text
    a1.refresh_from_db()
    assert a1.outline is None and a1.lat is None
    assert not AuditLog.objects.filter(note__startswith="导入地图几何").exists()
    with pytest.raises(ValidationError):
        services.territory_geometry_import(actor=None, collection={"type": "Feature"})


def test_a_dry_run_reports_and_writes_nothing(world):
    a1 = world.regions["A1"]
    data = collection(feature(a1.code, square(108.4, 32.8)))
    report = services.territory_geometry_import(actor=None, collection=data, dry_run=True)
    assert report.regions == 1 and "将更新" in report.as_text()
    a1.refresh_from_db()
    assert a1.outline is None
    assert not AuditLog.objects.filter(note__startswith="导入地图几何").exists()


def test_a_user_imports_only_within_their_scope_and_permission(world):
    grids = collection(feature("A1-1", {"type": "Point", "coordinates": [108.41, 32.81]}))
    report = services.territory_geometry_import(actor=world.user("town_secretary_a"), collection=grids)
    assert report.grids == 1
    assert AuditLog.objects.get(note="导入地图几何", object_id=str(world.grids["A1-1"].pk)).actor_username == \
        "town_secretary_a"
    # Town B's secretary holds registry.change_grid, but not over town A: the code is "unknown".
    with pytest.raises(services.GeometryImportRejected) as caught:
        services.territory_geometry_import(actor=world.user("outsider_b"), collection=grids)
    assert "不在您的管辖范围内" in caught.value.report.as_text()
    # Nobody but the system administrator holds registry.change_region.
    villages = collection(feature(world.regions["A1"].code, square(108.4, 32.8)))
    with pytest.raises(services.GeometryImportRejected):
        services.territory_geometry_import(actor=world.user("town_secretary_a"), collection=villages)
    with pytest.raises(PermissionDenied):
        services.territory_geometry_import(actor=world.user("auditor"), collection=grids)


def test_the_commands_round_trip(world, tmp_path):
    a1, town = world.regions["A1"], world.regions["A"]
    holed = {"type": "Polygon", "coordinates": [
        [[108.3, 32.7], [108.6, 32.7], [108.6, 32.95], [108.3, 32.95], [108.3, 32.7]],
        [[108.4, 32.8], [108.4, 32.85], [108.45, 32.85], [108.45, 32.8], [108.4, 32.8]]]}
    source = tmp_path / "in.geojson"
    source.write_text(json.dumps(collection(
        feature(town.code, holed),
        feature(a1.code, {"type": "MultiPolygon", "coordinates": [square(108.40, 32.80)["coordinates"],
                                                                   square(108.43, 32.80)["coordinates"]]}),
        feature("A1-1", {"type": "Point", "coordinates": [108.405, 32.805]}, kind="grid"),
    ), ensure_ascii=False), encoding="utf-8")
    out = io.StringIO()
    call_command("import_geometry", str(source), stdout=out)
    assert "区划 2 个、网格 1 个已更新" in out.getvalue()
    exported = tmp_path / "out.geojson"
    call_command("export_geometry", "--output", str(exported), stdout=io.StringIO())
    first = json.loads(exported.read_text(encoding="utf-8"))
    assert {f["properties"]["code"] for f in first["features"]} == {town.code, a1.code, "A1-1"}
    before = {r.code: (r.lat, r.lng, r.outline) for r in Region.objects.filter(outline__isnull=False)}

    # Clear, import the export, and everything is as it was.
    Region.objects.update(lat=None, lng=None, outline=None)
    Grid.objects.update(lat=None, lng=None, outline=None)
    call_command("import_geometry", str(exported), stdout=io.StringIO())
    assert {r.code: (r.lat, r.lng, r.outline) for r in Region.objects.filter(outline__isnull=False)} == before
    second = tmp_path / "again.geojson"
    call_command("export_geometry", "-o", str(second), stdout=io.StringIO())
    assert json.loads(second.read_text(encoding="utf-8")) == first


def test_the_import_command_reports_errors_and_exits_1(world, tmp_path):
    source = tmp_path / "bad.geojson"
    source.write_text(json.dumps(collection(feature("999999999999", square(108.4, 32.8)))), encoding="utf-8")
    out = io.StringIO()
    with pytest.raises(CommandError) as caught:
        call_command("import_geometry", str(source), stdout=out)
    assert caught.value.returncode == 1
    assert "999999999999" in out.getvalue()
    source.write_text("{not json", encoding="utf-8")
    with pytest.raises(CommandError):
        call_command("import_geometry", str(source), stdout=io.StringIO())
    with pytest.raises(CommandError):
        call_command("import_geometry", str(tmp_path / "missing.geojson"), stdout=io.StringIO())


# ---------------------------------------------------------------------------------------------
# reads


def _with_geometry(world):
    for key, (lng, lat) in {"A": (108.40, 32.80), "B": (108.60, 32.80), "A1": (108.41, 32.81),
                            "A2": (108.45, 32.81), "B1": (108.61, 32.81)}.items():
        region = world.regions[key]
        region.outline = square(lng, lat, 0.01 if len(key) > 1 else 0.05)
        region.lat, region.lng = Decimal(str(lat + 0.005)), Decimal(str(lng + 0.005))
        region.save()
    grid = world.grids["A1-1"]
    grid.lat, grid.lng = Decimal("32.812"), Decimal("108.412")
    grid.save()


def test_a_town_secretary_gets_only_their_towns_villages(world):
    _with_geometry(world)
    fc = geometry.territory_features(world.user("town_secretary_a"), level="village")
    assert fc["type"] == "FeatureCollection"
    assert {f["properties"]["code"] for f in fc["features"]} == {world.regions["A1"].code, world.regions["A2"].code}
    a1 = next(f for f in fc["features"] if f["id"] == world.regions["A1"].pk)
    assert a1["geometry"] == square(108.41, 32.81, 0.01)
    assert a1["properties"] == {
        "kind": "region", "code": world.regions["A1"].code, "name": "五一村", "level": 3, "region_kind": "village",
        "parent_id": world.regions["A"].pk, "county_id": world.regions["C"].pk, "town_id": world.regions["A"].pk,
        "village_id": world.regions["A1"].pk, "lat": pytest.approx(32.815), "lng": pytest.approx(108.415)}
    assert fc["bbox"] == pytest.approx([108.41, 32.81, 108.46, 32.82])
    towns = geometry.territory_features(world.user("town_secretary_a"), level="town")
    assert [f["properties"]["code"] for f in towns["features"]] == [world.regions["A"].code]
    county = geometry.territory_features(world.user("county_secretary"), level="village")
    assert len(county["features"]) == 3
    assert len(geometry.territory_features(world.user("county_secretary"), level="village",
                                           within=world.regions["B"])["features"]) == 1
    assert geometry.territory_features(world.user("department_handler"), level="village")["features"] == []


def test_grid_features_are_scoped_and_fall_back_to_points(world):
    _with_geometry(world)
    fc = geometry.territory_features(world.user("village_secretary_a1"), level="grid")
    by_code = {f["properties"]["code"]: f for f in fc["features"]}
    assert set(by_code) == {"A1", "A1-1", "A1-2"}
    assert by_code["A1-1"]["geometry"] == {"type": "Point", "coordinates": [108.412, 32.812]}
    assert by_code["A1-1"]["properties"]["village_id"] == world.regions["A1"].pk
    assert by_code["A1-1"]["properties"]["region_id"] == world.regions["A1g1"].pk
    assert by_code["A1"]["geometry"] is None  # no geometry yet: listed, drawn where known
    assert fc["bbox"] == pytest.approx([108.412, 32.812, 108.412, 32.812])
    worker = geometry.territory_features(world.user("grid_worker_a1_1"), level="grid")
    assert [f["properties"]["code"] for f in worker["features"]] == ["A1-1"]


def test_the_reads_take_one_query_whatever_the_number_of_rows(world):
    _with_geometry(world)
    user = world.user("county_secretary")
    geometry.territory_features(user, level="grid")  # the grants are loaded (and cached) once
    for level in ("town", "village", "grid"):
        with CaptureQueriesContext(connection) as queries:
            geometry.territory_features(user, level=level)
        assert len(queries) == 1, level


def test_centroid_of_prefers_the_stored_centre(world):
    village = world.regions["A1"]
    assert geometry.centroid_of(village) is None
    village.outline = square(108.4, 32.8, 0.02)
    assert geometry.centroid_of(village) == pytest.approx((108.41, 32.81))
    village.lat, village.lng = Decimal("32.805"), Decimal("108.405")
    assert geometry.centroid_of(village) == (108.405, 32.805)


def test_the_endpoint_returns_geojson_in_scope(world, api):
    _with_geometry(world)
    client = api("town_secretary_a")
    response = client.get("/api/registry/geometry/", {"level": "village"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/geo+json")
    body = json.loads(response.content)
    assert body["type"] == "FeatureCollection"
    assert {f["properties"]["code"] for f in body["features"]} == {world.regions["A1"].code, world.regions["A2"].code}
    as_json = client.get("/api/registry/geometry/", {"level": "grid", "format": "json"})
    assert as_json["Content-Type"].startswith("application/json") and len(as_json.json()["features"]) == 4
    assert client.get("/api/registry/geometry/", {"level": "county"}).status_code == 400
    assert client.get("/api/registry/geometry/", {"within": "x"}).status_code == 400
    assert api("three_line_a1").get("/api/registry/geometry/").status_code == 403
    assert api().get("/api/registry/geometry/").status_code in (401, 403)


# ---------------------------------------------------------------------------------------------
# the generator


@pytest.fixture
def generated(db):
    from tests.demo.conftest import SMALL

    call_command("generate", *SMALL, verbosity=0)


def _inside(lng, lat):
    return WEST <= lng <= EAST and SOUTH <= lat <= NORTH


def test_the_generator_places_every_town_village_and_grid_in_the_county(generated):
    regions = list(Region.objects.filter(level__lte=3).values("code", "level", "lat", "lng", "outline"))
    assert regions and all(r["outline"] is not None and r["lat"] is not None for r in regions)
    for r in regions:
        geometry.validate_outline(r["outline"])
        west, south, east, north = geometry.bounds([r["outline"]])
        assert _inside(west, south) and _inside(east, north), r["code"]
        assert _inside(float(r["lng"]), float(r["lat"]))
    grids = list(Grid.objects.values("code", "lat", "lng"))
    assert grids and all(g["lat"] is not None and _inside(float(g["lng"]), float(g["lat"])) for g in grids)
    assert Region.objects.filter(level=4, lat__isnull=True).count() == 0


def _contains(outline, lng, lat):
    """Point in polygon (even-odd over every ring)."""
    inside = False
    polygons = [outline["coordinates"]] if outline["type"] == "Polygon" else outline["coordinates"]
    for rings in polygons:
        for ring in rings:
            for (ax, ay), (bx, by) in zip(ring, ring[1:]):
                if (ay > lat) != (by > lat) and lng < ax + (lat - ay) * (bx - ax) / (by - ay):
                    inside = not inside
    return inside


def test_generated_villages_lie_in_their_town_and_grids_in_their_village(generated):
    outline = dict(Region.objects.filter(level__lte=3).values_list("id", "outline"))
    for village in Region.objects.filter(level=3):
        assert _contains(outline[village.town_id], float(village.lng), float(village.lat)), village.code
        assert _contains(village.outline, float(village.lng), float(village.lat)), village.code
        # Villages do not overlap: no other village of the town contains this one's centre.
        others = Region.objects.filter(level=3, town_id=village.town_id).exclude(pk=village.pk)
        assert not any(_contains(o.outline, float(village.lng), float(village.lat)) for o in others)
    for grid in Grid.objects.all():
        assert _contains(outline[grid.village_id], float(grid.lng), float(grid.lat)), grid.code


def test_the_map_reads_a_generated_county(generated):
    from gongzhi.accounts.models import User

    user = User.objects.get(username="town")  # a demo town secretary
    villages = geometry.territory_features(user, level="village")
    assert len(villages["features"]) == 3
    assert all(f["geometry"]["type"] in ("Polygon", "MultiPolygon") for f in villages["features"])
    grids = geometry.territory_features(user, level="grid")
    assert grids["features"] and all(f["geometry"]["type"] == "Point" for f in grids["features"])
    west, south, east, north = villages["bbox"]
    assert _inside(west, south) and _inside(east, north)
