"""A realistic, deterministic county: the rows, without the database.

``CountyGenerator(spec).run(sink)`` produces the registry of one county, village by village, as
plain tuples in the column order of ``COLUMNS`` and hands them to ``sink.add(table, row)``; the
sink decides how they reach the database (``gongzhi.demo.bulk``). Nothing here reads or writes
the database, so generation can stream: only one village's people are held at a time.

Determinism: every village draws from its own ``random.Random`` seeded with the run's seed and
the village's division code; the few county-wide counters (primary keys, ID-number sequences,
phone numbers) advance in a fixed order. Same seed and same size → the same rows, ids included.
Dates are computed from ``spec.as_of`` (a fixed date, not today), so a run next year gives the
same data too.

What it models (see docs/benchmarks.md, "Generating a county"):
* region tree 汉阴县 610921000000 → towns/subdistricts (610921xxx000) → villages/communities
  (610921xxxyyy; communities 001-199, villages 201-) → villager groups/compounds (15 digits);
* households of typical rural Shaanxi shapes (elderly alone, elderly couples, nuclear families,
  three generations, families with elderly parents …) with ages, sexes and surnames that fit
  the relations, valid 18-digit ID numbers, phones for most adults, 村X组X号 addresses,
  skewed incomes, a few poverty statuses, peaceful-family years, left-behind members,
  disability grades and a few persons released from prison;
* three grid levels inside each village (section → villager group → part of a large group),
  every household in exactly one basic grid, one grid worker per basic grid (a three-line
  person of that village), grid heads (village cadre / group leader / central household head);
* party organisations (county committee → town committees → village branches; community
  committees → compound branches; agency, school and state-firm branches), ~7 % of adults
  party members, town and county deputies, one central household head per basic grid, and
  contact assignments (party members and deputies 3-5 households each, central household heads
  the households of their grid);
* a map (``_CountyMap``): the county as a honeycomb of jittered hexagonal tiles over 汉阴县's
  extent (about 108.2–108.8 E, 32.7–33.1 N), towns grown as contiguous patches of tiles, villages as
  patches inside their town; every county, town and village gets its outline (the boundary of
  its tiles, so neighbours share their borders exactly) and a centre inside it, every villager
  group and grid a point inside its village. Drawn from its own random stream, so the map does
  not change the people.
"""
from __future__ import annotations

import bisect
import datetime as dt
import functools
import json
import math
import random
from dataclasses import dataclass, field
from decimal import Decimal

from gongzhi.core.idcard import make_id_number
from gongzhi.registry.services import name_initials

from . import pools

AS_OF = dt.date(2026, 7, 1)

# Column order of the rows produced for each table (Django attnames). Tables are listed in the
# order the sink must write them so that foreign keys point at rows already written; the only
# references to later tables are Grid.head/worker (persons), which the sink defers.
COLUMNS = {
    "region": ("id", "code", "name", "kind", "level", "parent_id", "population", "county_id", "town_id",
               "village_id", "lat", "lng", "outline"),
    "department": ("id", "name", "short_name", "county_id", "responsibilities", "phone"),
    "hostunit": ("id", "name", "kind", "region_id", "county_id", "town_id", "village_id"),
    "grid": ("id", "code", "name", "level", "parent_id", "region_id", "path", "head_id", "worker_id",
             "county_id", "town_id", "village_id", "lat", "lng", "outline"),
    "household": ("id", "code", "address", "region_id", "grid_id", "annual_income", "poverty_status",
                  "peaceful_family_years", "notes", "county_id", "town_id", "village_id"),
    "person": ("id", "name", "name_initials", "id_number", "birth_date", "sex", "phone", "household_id",
               "relation", "region_id", "status", "left_behind", "disability_grade", "released_on",
               "county_id", "town_id", "village_id"),
    "householdmembership": ("id", "person_id", "household_id", "relation", "started_on", "ended_on", "reason"),
    "partyorganization": ("id", "name", "kind", "parent_id", "region_id", "host_unit_id", "secretary_id",
                          "county_id", "town_id", "village_id"),
    "partymembership": ("id", "person_id", "organization_id", "joined_on", "is_probationary", "in_service",
                        "ended_on", "county_id", "town_id", "village_id"),
    "deputy": ("id", "person_id", "level", "constituency_id", "term", "liaison_station", "county_id",
               "town_id", "village_id"),
    "centralhouseholdhead": ("id", "person_id", "grid_id", "since", "county_id", "town_id", "village_id"),
    "contactassignment": ("id", "person_id", "household_id", "line", "started_on", "ended_on", "county_id",
                          "town_id", "village_id"),
}
TABLES = tuple(COLUMNS)

PRESETS = {
    # towns, villages per town, households, of which subdistricts
    "small": {"towns": 2, "villages_per_town": 4, "households": 3000, "subdistricts": 0},
    # 汉阴县 as the seed reports it: 10 towns, 159 villages and communities, 313k people.
    "hanyin": {"towns": 10, "villages_per_town": 16, "households": 100_000, "subdistricts": 0},
    "million": {"towns": 40, "villages_per_town": 25, "households": 1_000_000, "subdistricts": 4},
}


@dataclass(frozen=True)
class CountySpec:
    towns: int = 2
    villages_per_town: int = 4
    households: int = 3000
    subdistricts: int = 0
    seed: int = 321
    as_of: dt.date = AS_OF

    @classmethod
    def from_preset(cls, name: str = "small", **overrides) -> "CountySpec":
        values = dict(PRESETS[name])
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    @property
    def villages(self) -> int:
        return self.towns * self.villages_per_town

    def check(self) -> None:
        if self.towns < 1 or self.villages_per_town < 1:
            raise ValueError("至少需要1个镇、每镇1个村 (need at least one town and one village per town)")
        if not 0 <= self.subdistricts < self.towns:
            raise ValueError("街道数必须小于镇（街道）总数 (subdistricts must be fewer than towns)")
        if self.towns - self.subdistricts > 99 or self.subdistricts > 99 or self.villages_per_town > 199:
            raise ValueError("规模超出区划代码容量：每县至多99个街道、99个镇，每镇至多199个村（社区）")
        if self.households < self.villages:
            raise ValueError(f"户数（{self.households}）少于村（社区）数（{self.villages}）：每个村至少要有一户")
        if self.as_of > dt.date.today():
            raise ValueError("--as-of 不能是将来的日期 (as-of cannot be in the future: nobody is born yet)")


@dataclass
class Counts:
    rows: dict = field(default_factory=lambda: dict.fromkeys(TABLES, 0))

    def __getitem__(self, table):
        return self.rows[table]

    @property
    def total(self) -> int:
        return sum(self.rows.values())


class _Picker:
    """Weighted choice with precomputed cumulative weights (random.choices recomputes them)."""

    def __init__(self, items_with_weights):
        self.items = [item for item, _ in items_with_weights]
        total, self.cum = 0, []
        for _, weight in items_with_weights:
            total += weight
            self.cum.append(total)
        self.total = total

    def __call__(self, rng: random.Random):
        return self.items[bisect.bisect_right(self.cum, rng.random() * self.total)]


SURNAME = _Picker(pools.SURNAMES)

# Household shapes: (kind, weight in a village, weight in a community).
SHAPES = [
    ("elderly_alone", 9, 6), ("elderly_couple", 15, 10), ("empty_nest", 10, 12), ("nuclear", 28, 40),
    ("three_generations", 20, 12), ("with_parents", 10, 10), ("single", 6, 8), ("siblings", 2, 2),
]
SHAPE_VILLAGE = _Picker([(kind, w) for kind, w, _ in SHAPES])
SHAPE_COMMUNITY = _Picker([(kind, w) for kind, _, w in SHAPES])

# Poverty statuses: probability per household in a village (communities ×0.35), before the
# household's circumstances raise them.
POVERTY = [("lifted", 0.08), ("monitored", 0.012), ("low_income", 0.03), ("extreme", 0.006)]
POVERTY_INCOME = {"none": 1.0, "lifted": 0.85, "monitored": 0.6, "low_income": 0.45, "extreme": 0.3}

DISABILITY_GRADE = _Picker([(1, 12), (2, 25), (3, 28), (4, 35)])
FIRST_REGISTRATION = dt.date(1982, 7, 1).toordinal()  # the 1982 census and household registers
CONTACTS_SINCE = dt.date(2021, 3, 1)  # the "321" model went county-wide in 2021
DEPUTY_TERM = "第十九届（2021—2026年）"


def _split(total: int, parts: int, rng: random.Random, spread: float = 0.4) -> list[int]:
    """``total`` into ``parts`` positive integers of random, roughly similar sizes."""
    parts = max(1, min(parts, total))
    weights = [1 + spread * (2 * rng.random() - 1) for _ in range(parts)]
    scale = (total - parts) / sum(weights)
    sizes = [1 + int(w * scale) for w in weights]
    for i in range(total - sum(sizes)):
        sizes[i % parts] += 1
    return sizes


# ---------------------------------------------------------------------------------------------
# the map: a honeycomb of tiles, towns and villages as contiguous patches of it

# 汉阴县 lies about 108.2–108.8 E, 32.7–33.1 N; the generated county is an irregular oval inside that.
MAP_CENTRE = (108.50, 32.90)  # lng, lat
MAP_HALF_AXES = (0.22, 0.14)  # degrees of longitude, latitude (before the wobble of the outline)
TILES_PER_VILLAGE = 8
MIN_TILES = 60
# Pointy-top hexagons on integer "half units": a tile at axial (q, r) is centred at
# X = 2q + r, Y = 3r; its corners, counter-clockwise from 30°, are these offsets. With a tile
# of circumradius s, one X unit is s·√3/2 and one Y unit s/2, so neighbours share corners exactly.
HEX_CORNERS = ((1, 1), (0, 2), (-1, 1), (-1, -1), (0, -2), (1, -1))
HEX_NEIGHBOURS = ((1, 0), (-1, 0), (0, 1), (0, -1), (1, -1), (-1, 1))
CORNER_JITTER = 0.2  # in tile radii: borders wiggle, tiles stay simple polygons


def _noise(seed: int, x: int, y: int, salt: int) -> float:
    """A deterministic value in [-1, 1) for a lattice corner (a small integer hash)."""
    h = (x * 73_856_093) ^ (y * 19_349_663) ^ (seed * 83_492_791) ^ (salt * 2_654_435_761)
    h &= 0xFFFF_FFFF
    h ^= h >> 16
    h = (h * 0x45D9F3B) & 0xFFFF_FFFF
    h ^= h >> 16
    h = (h * 0x45D9F3B) & 0xFFFF_FFFF
    h ^= h >> 16
    return h / 2**31 - 1


class _CountyMap:
    """Outlines and centres for a planned county (``CountyGenerator._plan``), deterministic from
    the seed. Works on tiles (axial hex coordinates); coordinates come out as WGS84 lng/lat."""

    def __init__(self, seed: int, towns: list[dict]):
        self.seed = seed
        self.rng = random.Random(f"{seed}:map")
        self.cos = math.cos(math.radians(MAP_CENTRE[1]))
        villages = sum(len(t["villages"]) for t in towns)
        wanted = max(MIN_TILES, villages * TILES_PER_VILLAGE)
        phases = (self.rng.uniform(0, math.tau), self.rng.uniform(0, math.tau))
        # Tile radius (in degrees of latitude) so that about ``wanted`` tiles fill the oval.
        area = math.pi * MAP_HALF_AXES[0] * self.cos * MAP_HALF_AXES[1]
        self.size = math.sqrt(area / (wanted * 1.5 * math.sqrt(3)))
        while True:
            self.tiles = self._county_tiles(phases)
            if len(self.tiles) >= max(villages, len(towns)):
                break
            self.size *= 0.85
        self.town_tiles = self._grow(self.tiles, len(towns), first_at_centre=True)
        # The county seat and the subdistricts (the towns listed first) get the centre tile.
        order = sorted(range(len(towns)), key=lambda i: not towns[i].get("seat"))
        self.tiles_of_town = {towns[i]["code"]: self.town_tiles[k] for k, i in enumerate(order)}
        self.tiles_of_village: dict[str, list] = {}
        for town in towns:
            tiles = self.tiles_of_town[town["code"]]
            for village, patch in zip(town["villages"], self._grow(tiles, len(town["villages"]))):
                self.tiles_of_village[village["code"]] = patch

    # -- tiles
    def _county_tiles(self, phases) -> list[tuple[int, int]]:
        """Tiles whose centre lies in the wobbly oval, the connected patch around the centre."""
        a, b = MAP_HALF_AXES[0] * self.cos, MAP_HALF_AXES[1]
        unit_x, unit_y = self.size * math.sqrt(3) / 2, self.size / 2
        reach_r = int(b * 1.2 / (3 * unit_y)) + 2
        reach_q = int(a * 1.2 / (2 * unit_x)) + reach_r + 2
        inside = set()
        for r in range(-reach_r, reach_r + 1):
            for q in range(-reach_q, reach_q + 1):
                x, y = (2 * q + r) * unit_x, 3 * r * unit_y
                theta = math.atan2(y / b, x / a)
                wobble = 1 + 0.10 * math.sin(3 * theta + phases[0]) + 0.05 * math.sin(5 * theta + phases[1])
                if (x / a) ** 2 + (y / b) ** 2 <= wobble ** 2:
                    inside.add((q, r))
        if (0, 0) not in inside:
            return []
        seen, queue = {(0, 0)}, [(0, 0)]
        for q, r in queue:
            for dq, dr in HEX_NEIGHBOURS:
                tile = (q + dq, r + dr)
                if tile in inside and tile not in seen:
                    seen.add(tile)
                    queue.append(tile)
        return queue

    def _grow(self, tiles: list, parts: int, first_at_centre: bool = False) -> list[list]:
        """``tiles`` (connected) into ``parts`` contiguous patches of similar size, grown from
        spread-out seeds; a part may be empty when there are fewer tiles than parts."""
        rng = self.rng
        free = set(tiles)
        if first_at_centre:
            mean_x = sum(2 * q + r for q, r in tiles) / len(tiles)
            mean_y = sum(3 * r for _, r in tiles) / len(tiles)
            first = min(tiles, key=lambda t: ((2 * t[0] + t[1]) - mean_x) ** 2 + (3 * t[1] - mean_y) ** 2)
        else:
            first = tiles[rng.randrange(len(tiles))]
        seeds = [first]
        distance = {t: self._distance(t, first) for t in tiles}
        while len(seeds) < min(parts, len(tiles)):  # farthest-point sampling
            far = max(tiles, key=lambda t: (distance[t], t))
            seeds.append(far)
            for t in tiles:
                distance[t] = min(distance[t], self._distance(t, far))
        patches = [[seed] for seed in seeds] + [[] for _ in range(parts - len(seeds))]
        frontiers = []
        for seed in seeds:
            free.discard(seed)
        for seed in seeds:
            frontiers.append([n for n in self._neighbours(seed) if n in free])
        while free:
            growing = [k for k in range(len(seeds)) if frontiers[k]]
            if not growing:  # cannot happen for connected tiles; keep the rest with the first patch
                patches[0].extend(sorted(free))
                break
            k = min(growing, key=lambda i: (len(patches[i]), i))
            frontier = frontiers[k]
            j = rng.randrange(len(frontier))
            frontier[j], frontier[-1] = frontier[-1], frontier[j]
            tile = frontier.pop()
            if tile not in free:
                continue
            free.discard(tile)
            patches[k].append(tile)
            frontier.extend(n for n in self._neighbours(tile) if n in free)
        return patches

    @staticmethod
    def _neighbours(tile):
        q, r = tile
        return [(q + dq, r + dr) for dq, dr in HEX_NEIGHBOURS]

    @staticmethod
    def _distance(a, b) -> int:
        dq, dr = a[0] - b[0], a[1] - b[1]
        return (abs(dq) + abs(dr) + abs(dq + dr)) // 2

    # -- coordinates
    def _corner(self, x: int, y: int) -> list[float]:
        jitter = CORNER_JITTER * self.size
        dx = _noise(self.seed, x, y, 1) * jitter
        dy = _noise(self.seed, x, y, 2) * jitter
        px = x * self.size * math.sqrt(3) / 2 + dx
        py = y * self.size / 2 + dy
        return [round(MAP_CENTRE[0] + px / self.cos, 6), round(MAP_CENTRE[1] + py, 6)]

    def tile_centre(self, tile, dx: float = 0.0, dy: float = 0.0) -> tuple[float, float]:
        """(lng, lat) of a tile's centre, moved by (dx, dy) tile radii."""
        q, r = tile
        px = ((2 * q + r) * math.sqrt(3) / 2 + dx) * self.size
        py = (1.5 * r + dy) * self.size
        return MAP_CENTRE[0] + px / self.cos, MAP_CENTRE[1] + py

    def outline(self, tiles) -> dict | None:
        """The boundary of a patch as a GeoJSON Polygon (MultiPolygon if it were in pieces):
        edges shared by two of its tiles cancel, the rest chain into rings, outer rings
        counter-clockwise and holes clockwise (RFC 7946)."""
        if not tiles:
            return None
        edges = set()
        for q, r in tiles:
            cx, cy = 2 * q + r, 3 * r
            corners = [(cx + ox, cy + oy) for ox, oy in HEX_CORNERS]
            for i in range(6):
                edge = (corners[i], corners[(i + 1) % 6])
                reverse = (edge[1], edge[0])
                if reverse in edges:
                    edges.discard(reverse)
                else:
                    edges.add(edge)
        following = dict(edges)  # on a hex lattice each boundary corner starts exactly one edge
        outers, holes = [], []
        while following:
            start, end = following.popitem()
            ring = [start]
            while end != start:
                ring.append(end)
                end = following.pop(end)
            area = sum(ax * by - bx * ay for (ax, ay), (bx, by) in zip(ring, ring[1:] + ring[:1]))
            (outers if area > 0 else holes).append(ring)

        def coordinates(ring):
            points = [self._corner(x, y) for x, y in ring]
            return points + [points[0]]

        polygons = [[ring] for ring in outers]
        for hole in holes:
            owner = next((p for p in polygons if self._contains(p[0], hole[0])), polygons[0])
            owner.append(hole)
        if len(polygons) == 1:
            return {"type": "Polygon", "coordinates": [coordinates(ring) for ring in polygons[0]]}
        return {"type": "MultiPolygon", "coordinates": [[coordinates(ring) for ring in p] for p in polygons]}

    @staticmethod
    def _contains(ring, point) -> bool:
        x, y = point
        inside = False
        for (ax, ay), (bx, by) in zip(ring, ring[1:] + ring[:1]):
            if (ay > y) != (by > y) and x < ax + (y - ay) * (bx - ax) / (by - ay):
                inside = not inside
        return inside

    def centre_tile(self, tiles):
        """The tile nearest the patch's mean: a centre that is always inside the patch."""
        mean_x = sum(2 * q + r for q, r in tiles) / len(tiles)
        mean_y = sum(3 * r for _, r in tiles) / len(tiles)
        return min(tiles, key=lambda t: ((2 * t[0] + t[1] - mean_x) * 0.866) ** 2 + ((3 * t[1] - mean_y) * 0.5) ** 2)

    def geometry(self, tiles) -> tuple:
        """(lat, lng, outline JSON text) of a patch, as the region row carries them."""
        if not tiles:
            return None, None, None
        lng, lat = self.tile_centre(self.centre_tile(tiles))
        return _coordinate(lat), _coordinate(lng), json.dumps(self.outline(tiles), separators=(",", ":"))


def _coordinate(value: float) -> Decimal:
    return Decimal(f"{value:.6f}")


class CountyGenerator:
    def __init__(self, spec: CountySpec):
        spec.check()
        self.spec = spec
        self.as_of = spec.as_of
        self.as_of_ord = spec.as_of.toordinal()
        self.next_id = dict.fromkeys(TABLES, 1)
        self.counts = Counts()
        self._id_sequences: dict[int, int] = {}
        self._divisions: dict[str, int] = {}
        self._phones = 0
        # Names repeat a lot (tens of thousands of distinct ones per million people): pinyin once each.
        self._initials_of = functools.lru_cache(maxsize=None)(name_initials)
        self.county_id: int | None = None
        self.towns: list[dict] = []  # {"id", "code", "name", "kind", "villages": [...]}
        self.seat: dict | None = None  # the town that is the county seat
        self.host_branches: list[dict] = []  # {"id", "secretary"}
        self.region_population: dict[int, int] = {}  # county and towns, filled in at the end

    # ------------------------------------------------------------------ helpers

    def _id(self, table: str) -> int:
        value = self.next_id[table]
        self.next_id[table] = value + 1
        return value

    def _emit(self, sink, table: str, row: tuple) -> None:
        sink.add(table, row)
        self.counts.rows[table] += 1

    def _id_number(self, division: str, birth_ord: int, male: bool) -> tuple[str, int]:
        """A valid, unique ID number; the birth date moves a day on if a day's 500 numbers are used."""
        div_index = self._divisions.setdefault(division, len(self._divisions))
        while True:
            key = (div_index * 1_000_000 + birth_ord) * 2 + male
            used = self._id_sequences.get(key, 0)
            if used < 500:
                self._id_sequences[key] = used + 1
                # A fixed permutation of 0..499 per day, so sequence numbers do not all start at 000.
                sequence = (used * 37 + birth_ord * 131) % 500
                return make_id_number(division, dt.date.fromordinal(birth_ord), sequence, male), birth_ord
            birth_ord += 1

    def _phone(self, rng: random.Random) -> str:
        # The last eight digits are a bijection of a county-wide counter: phones never repeat.
        self._phones += 1
        suffix = (self._phones * 48271 + 12_345_678) % 100_000_000
        return f"{rng.choice(pools.MOBILE_PREFIXES)}{suffix:08d}"

    # ------------------------------------------------------------------ the run

    def run(self, sink, on_village=lambda done, total: None) -> Counts:
        """Feed the county to ``sink`` (``add(table, row)``; ``village_done()`` after each village,
        when it may write what it holds)."""
        spec = self.spec
        county_rng = random.Random(f"{spec.seed}:county")
        self._plan(county_rng)
        self.map = _CountyMap(spec.seed, self.towns)
        self._emit_county(sink, county_rng)
        done = 0
        for town in self.towns:
            for village in town["villages"]:
                self._village(sink, town, village)
                sink.village_done()
                done += 1
                on_village(done, spec.villages)
        return self.counts

    def _plan(self, rng: random.Random) -> None:
        """Names, codes and household counts of every town and village (small; held in memory)."""
        spec = self.spec
        stems = [a + b for a in pools.STEM_FIRST for b in pools.STEM_SECOND if a != b]
        rng.shuffle(stems)
        used_stems = set()

        def stem() -> str:
            while stems:
                candidate = stems.pop()
                if candidate not in used_stems:
                    used_stems.add(candidate)
                    return candidate
            raise ValueError("地名词库不够用：请减少村（社区）数")

        towns = []
        for i in range(spec.subdistricts):
            name = pools.SUBDISTRICTS[i] if i < len(pools.SUBDISTRICTS) else f"{stem()}街道"
            towns.append({"code": f"610921{i + 1:03d}000", "name": name, "kind": "subdistrict"})
        for i in range(spec.towns - spec.subdistricts):
            name = pools.HANYIN_TOWNS[i] if i < len(pools.HANYIN_TOWNS) else f"{stem()}镇"
            used_stems.add(name[:2])
            towns.append({"code": f"610921{100 + i:03d}000", "name": name, "kind": "town"})
        seat = self.seat = next(t for t in towns if t["kind"] == "town")  # the county seat: agencies, schools
        for town in towns:
            vpt = spec.villages_per_town
            if town["kind"] == "subdistrict":
                communities = vpt
            elif town is seat:
                communities = min(vpt - 1, max(1, vpt // 4)) if vpt > 1 else 0
            else:
                communities = 1 if vpt >= 8 else 0
            town["seat"] = town is seat or town["kind"] == "subdistrict"
            villages = []
            for j in range(vpt):
                if j < communities:
                    villages.append({"code": town["code"][:9] + f"{j + 1:03d}", "name": f"{stem()}社区",
                                     "kind": "community"})
                else:
                    villages.append({"code": town["code"][:9] + f"{201 + j - communities:03d}",
                                     "name": f"{stem()}村", "kind": "village"})
            town["villages"] = villages
        # Households over villages: communities are bigger; villages vary.
        everyone = [v for t in towns for v in t["villages"]]
        weights = [(2.5 if v["kind"] == "community" else 1.0) * math.exp(rng.gauss(0, 0.35)) for v in everyone]
        extra = spec.households - len(everyone)
        shares = [w / sum(weights) * extra for w in weights]
        sizes = [1 + int(s) for s in shares]
        order = sorted(range(len(everyone)), key=lambda k: int(shares[k]) - shares[k])
        for k in order[: spec.households - sum(sizes)]:
            sizes[k] += 1
        for village, size in zip(everyone, sizes):
            village["households"] = size
        self.towns = towns

    def _emit_county(self, sink, rng: random.Random) -> None:
        county_id = self.county_id = self._id("region")
        self._emit(sink, "region", (county_id, pools.COUNTY_CODE, pools.COUNTY_NAME, "county", 1, None, None,
                                    county_id, None, None, *self.map.geometry(self.map.tiles)))
        for town in self.towns:
            town["id"] = self._id("region")
            self._emit(sink, "region", (town["id"], town["code"], town["name"], town["kind"], 2, county_id, None,
                                        county_id, town["id"], None,
                                        *self.map.geometry(self.map.tiles_of_town[town["code"]])))
        for name, short, duties in pools.DEPARTMENTS:
            phone = f"0915-52{rng.randrange(10000, 99999)}"
            self._emit(sink, "department", (self._id("department"), f"{pools.COUNTY_NAME}{name}", short, county_id,
                                            duties, phone))
        # Party organisations above the villages.
        county_committee = self._id("partyorganization")
        self._emit(sink, "partyorganization", (county_committee, f"中共{pools.COUNTY_NAME}委员会", "committee", None,
                                               county_id, None, None, county_id, None, None))
        agencies_committee = self._id("partyorganization")
        self._emit(sink, "partyorganization", (agencies_committee, f"中共{pools.COUNTY_NAME}直属机关工作委员会",
                                               "committee", county_committee, county_id, None, None, county_id,
                                               None, None))
        for town in self.towns:
            town["committee"] = self._id("partyorganization")
            suffix = "工作委员会" if town["kind"] == "subdistrict" else "委员会"
            self._emit(sink, "partyorganization", (town["committee"], f"中共{pools.COUNTY_NAME}{town['name']}{suffix}",
                                                   "committee", county_committee, town["id"], None, None, county_id,
                                                   town["id"], None))
        seat = self.seat
        for name, kind in pools.HOST_UNITS:
            unit_id = self._id("hostunit")
            self._emit(sink, "hostunit", (unit_id, name, kind, seat["id"], county_id, seat["id"], None))
            branch_id = self._id("partyorganization")
            parent = county_committee if kind == "state_firm" else agencies_committee
            self._emit(sink, "partyorganization", (branch_id, f"中共{name}支部委员会", "branch", parent, seat["id"],
                                                   unit_id, None, county_id, seat["id"], None))
            self.host_branches.append({"id": branch_id, "secretary": None})

    # ------------------------------------------------------------------ one village

    def _village(self, sink, town: dict, village: dict) -> None:
        spec, as_of_ord = self.spec, self.as_of_ord
        rng = random.Random(f"{spec.seed}:{village['code']}")
        community = village["kind"] == "community"
        county_id, town_id = self.county_id, town["id"]
        village_id = village["id"] = self._id("region")
        vname, vcode = village["name"], village["code"]
        n_households = village["households"]
        now_year = self.as_of.year

        # -- groups (villager groups or compounds) and grids
        if community:
            n_groups = max(1, round(n_households / rng.uniform(80, 200)))
        else:
            n_groups = max(1, round(n_households / rng.uniform(30, 60)))
        group_sizes = _split(n_households, n_groups, rng)
        n_groups = len(group_sizes)
        compounds = rng.sample(pools.COMPOUND_NAMES, len(pools.COMPOUND_NAMES)) if community else []

        region_rows = []
        grid_rows = {}  # grid id → [row fields as a list], emitted at the end (heads and workers)
        n_sections = 1 if n_groups <= 6 else math.ceil(n_groups / 5)
        # -- where they are: the village's tiles, a point inside them for each group
        geo = random.Random(f"{spec.seed}:map:{vcode}")
        own_tiles = self.map.tiles_of_village[vcode]
        tiles = own_tiles or [geo.choice(self.map.tiles_of_town[town["code"]])]  # a town short of tiles
        group_spots = []  # (tile, dx, dy) in tile radii
        for g in range(n_groups):
            radius, angle = 0.4 * math.sqrt(geo.random()), geo.uniform(0, math.tau)
            group_spots.append((tiles[g * len(tiles) // n_groups], radius * math.cos(angle), radius * math.sin(angle)))

        def point(spot, spread=0.0):
            tile, dx, dy = spot
            if spread:
                radius, angle = spread * math.sqrt(geo.random()), geo.uniform(0, math.tau)
                dx, dy = dx + radius * math.cos(angle), dy + radius * math.sin(angle)
            lng, lat = self.map.tile_centre(tile, dx, dy)
            return [_coordinate(lat), _coordinate(lng), None]

        section_grids = []
        for s in range(n_sections):
            gid = self._id("grid")
            name = f"{vname}网格" if n_sections == 1 else f"{vname}第{pools.chinese_number(s + 1)}片区网格"
            in_section = [g for g in range(n_groups) if g * n_sections // n_groups == s]
            grid_rows[gid] = [gid, f"{vcode}-{s + 1}", name, 1, None, village_id, f"/{gid}/", None, None,
                              county_id, town_id, village_id, *point(group_spots[in_section[len(in_section) // 2]])]
            section_grids.append(gid)

        groups = []  # {"region", "grid", "parts": [basic grid ids], "name", "size"}
        basic_grids = []  # basic grid ids in order
        for g, size in enumerate(group_sizes):
            region_id = self._id("region")
            if community:  # a big community runs out of names: 幸福家园, then 幸福家园2期
                round_, k = divmod(g, len(compounds))
                gname = compounds[k] if round_ == 0 else f"{compounds[k]}{round_ + 1}期"
                rname, rkind = gname, "compound"
            else:
                gname = f"{pools.chinese_number(g + 1)}组"
                rname, rkind = f"{vname}{gname}", "villager_group"
            spot = point(group_spots[g])
            region_rows.append([region_id, f"{vcode}{g + 1:03d}", rname, rkind, 4, village_id, 0, county_id,
                                town_id, village_id, *spot])
            section_no = g * n_sections // n_groups
            section = section_grids[section_no]
            gid = self._id("grid")
            path = f"/{section}/{gid}/"
            grid_rows[gid] = [gid, f"{vcode}-{section_no + 1}-{g + 1:02d}", f"{rname}网格", 2, section, region_id, path,
                              None, None, county_id, town_id, village_id, *spot]
            threshold, part_size = (60, rng.uniform(30, 45)) if community else (36, rng.uniform(15, 22))
            n_parts = math.ceil(size / part_size) if size > threshold else 1
            parts = []
            if n_parts == 1:
                parts.append(gid)
            else:
                for p in range(n_parts):
                    pid = self._id("grid")
                    grid_rows[pid] = [pid, f"{grid_rows[gid][1]}-{p + 1}", f"{rname}第{p + 1}网格", 3, gid, region_id,
                                      f"{path}{pid}/", None, None, county_id, town_id, village_id,
                                      *point(group_spots[g], spread=0.12)]
                    parts.append(pid)
            basic_grids.extend(parts)
            groups.append({"region": region_id, "grid": gid, "parts": parts, "name": gname, "size": size})

        # -- households and people
        hh_ids, hh_group, hh_vulnerable = [], [], []
        hh_members: list[list[int]] = []  # local person indexes
        grid_households: dict[int, list[int]] = {gid: [] for gid in basic_grids}
        # people[k] = (person id, age, male, household index, relation, has phone, name, birth ordinal)
        people: list[tuple] = []
        party: list[int] = []  # local indexes of party members
        group_population = [0] * n_groups
        chance = rng.random
        for g, group in enumerate(groups):
            size, parts = group["size"], group["parts"]
            for pos in range(size):
                hid = self._id("household")
                index = len(hh_ids)
                grid_id = parts[pos * len(parts) // size]
                hh_ids.append(hid)
                hh_group.append(g)
                grid_households[grid_id].append(index)
                if community:
                    building, rest = divmod(pos, 24)
                    unit, rest = divmod(rest, 12)
                    floor, room = divmod(rest, 2)
                    address = f"{vname}{group['name']}{building + 1}栋{unit + 1}单元{floor + 1}0{room + 1}室"
                else:
                    address = f"{vname}{group['name']}{pos + 1}号"
                members = self._household_people(rng, community)
                left_behind = self._left_behind(rng, members)
                member_indexes = []
                names = set()
                disabled = released = False
                labour = elderly = kids = 0
                established = as_of_ord
                for position, (relation, age, male, surname) in enumerate(members):
                    birth_ord = as_of_ord - int(age * 365.2425) - rng.randrange(365)
                    # Born here, except many who married in and a few who moved in.
                    incomer = 0.4 if relation in ("spouse", "child_in_law") else 0.05
                    division = rng.choice(pools.NEIGHBOUR_DIVISIONS) if chance() < incomer else pools.HOME_DIVISION
                    id_number, birth_ord = self._id_number(division, birth_ord, male)
                    birth = dt.date.fromordinal(birth_ord)
                    pool = pools.GIVEN_NAMES[("M" if male else "F", pools.name_era(birth.year))]
                    name = surname + rng.choice(pool)
                    for _ in range(6):  # no two members of one household share a name
                        if name not in names:
                            break
                        name = surname + rng.choice(pool)
                    names.add(name)
                    if 18 <= age < 70:
                        phone = self._phone(rng) if chance() < 0.88 else ""
                    elif age >= 70:
                        phone = self._phone(rng) if chance() < 0.45 else ""
                    elif age >= 14:
                        phone = self._phone(rng) if chance() < 0.25 else ""
                    else:
                        phone = ""
                    p_disability = 0.005 if age < 18 else 0.015 if age < 60 else 0.05 if age < 80 else 0.10
                    grade = DISABILITY_GRADE(rng) if chance() < p_disability else None
                    released_on = None
                    if 22 <= age <= 60 and chance() < (0.003 if male else 0.0003):
                        released_on = dt.date.fromordinal(as_of_ord - rng.randrange(30, 5 * 365))
                        released = True
                    disabled = disabled or grade is not None
                    if age >= 60:
                        elderly += 1
                    elif age >= 18:
                        labour += 1
                    else:
                        kids += 1
                    pid = self._id("person")
                    local = len(people)
                    people.append((pid, age, male, index, relation, bool(phone), name, birth_ord))
                    member_indexes.append(local)
                    # Party membership: ~7 % of adults, older and male-leaning in the countryside.
                    if age >= 18:
                        p_party = 0.018 if age < 26 else 0.045 if age < 41 else 0.075 if age < 61 else 0.09
                        p_party *= (1.4 if male else 0.6) * (1.3 if community else 1.0)
                        if chance() < p_party:
                            party.append(local)
                    self._emit(sink, "person", (
                        pid, name, self._initials_of(name), id_number, birth, "M" if male else "F", phone, hid,
                        relation, group["region"], "active", left_behind.get(position, ""), grade, released_on,
                        county_id, town_id, village_id))
                    # Membership history: the household was set up when its head was in their twenties.
                    if relation == "head":
                        established = max(birth_ord + 365 * rng.randint(20, 30), FIRST_REGISTRATION)
                        established = min(established, as_of_ord - 30)
                    if relation in ("child", "grandchild") and birth_ord > established:
                        started, reason = birth_ord, "出生"
                    elif relation in ("spouse", "child_in_law") and birth_ord + 365 * 22 > established:
                        started, reason = min(birth_ord + 365 * rng.randint(20, 28), as_of_ord - 1), "婚入"
                    else:
                        started, reason = established, "立户" if relation == "head" else "随迁"
                    self._emit(sink, "householdmembership", (self._id("householdmembership"), pid, hid, relation,
                                                             dt.date.fromordinal(started), None, reason))
                hh_members.append(member_indexes)
                group_population[g] += len(members)
                poverty = self._poverty(rng, community, members, disabled)
                base = (30_000 if community else 15_000) * math.exp(rng.gauss(0, 0.55))
                income = base * (0.35 + labour + 0.3 * elderly + 0.15 * kids) * POVERTY_INCOME[poverty]
                if disabled:
                    income *= 0.8
                income = Decimal(max(1_500, int(income / 100) * 100)) if chance() > 0.005 else None
                if released:
                    propensity = 0.3
                else:
                    u = chance()
                    propensity = 0.97 if u < 0.7 else 0.7 if u < 0.92 else 0.25
                years = [y for y in range(now_year - 5, now_year) if chance() < propensity]
                hh_vulnerable.append(bool(left_behind) or disabled or released or poverty != "none")
                self._emit(sink, "household", (hid, f"{vcode}{index + 1:05d}", address, group["region"], grid_id,
                                               income, poverty, json.dumps(years), "", county_id, town_id,
                                               village_id))

        population = len(people)
        if own_tiles:
            village_geometry = self.map.geometry(own_tiles)
        else:
            lng, lat = self.map.tile_centre(tiles[0])
            village_geometry = (_coordinate(lat), _coordinate(lng), None)
        self._emit(sink, "region", (village_id, vcode, vname, village["kind"], 3, town_id, population, county_id,
                                    town_id, village_id, *village_geometry))
        for g, row in enumerate(region_rows):
            row[6] = group_population[g]
            self._emit(sink, "region", tuple(row))
        self.region_population[town_id] = self.region_population.get(town_id, 0) + population
        self.region_population[county_id] = self.region_population.get(county_id, 0) + population

        lines = _VillageLines(self, sink, rng, town, village, groups, section_grids, basic_grids, grid_rows,
                              hh_ids, hh_group, hh_vulnerable, hh_members, grid_households, people, party)
        lines.build()
        for row in grid_rows.values():
            self._emit(sink, "grid", tuple(row))

    # ------------------------------------------------------------------ households

    def _household_people(self, rng: random.Random, community: bool) -> list[tuple[str, int, bool, str]]:
        """[(relation, age, male, surname)], head first."""
        shape = (SHAPE_COMMUNITY if community else SHAPE_VILLAGE)(rng)
        family = SURNAME(rng)
        randint = rng.randint
        people = []

        def children_of(mother_age: int, relation: str, surname: str, count: int, max_age: int | None = None):
            ages = set()
            for _ in range(count):
                age = mother_age - randint(21, 35)
                if age < 0 or age in ages or (max_age is not None and age > max_age):
                    continue
                ages.add(age)
                people.append((relation, age, rng.random() < 0.52, surname))

        if shape == "elderly_alone":
            male = rng.random() < 0.4
            people.append(("head", 62 + int(rng.random() ** 1.5 * 30), male, family if male else SURNAME(rng)))
        elif shape == "elderly_couple" or shape == "empty_nest":
            husband = 60 + int(rng.random() ** 1.3 * 28) if shape == "elderly_couple" else randint(45, 64)
            wife = max(husband - randint(-1, 5), 40)
            if rng.random() < 0.9:
                people += [("head", husband, True, family), ("spouse", wife, False, SURNAME(rng))]
            else:
                people += [("head", wife, False, SURNAME(rng)), ("spouse", husband, True, family)]
        elif shape == "nuclear" or shape == "with_parents":
            husband = randint(24, 56) if shape == "nuclear" else randint(32, 58)
            wife = max(husband - randint(-1, 5), 20)
            people += [("head", husband, True, family), ("spouse", wife, False, SURNAME(rng))]
            count = 1 if rng.random() < 0.4 else 2 if rng.random() < 0.75 else 3
            if shape == "with_parents":
                count = randint(0, 2)
            children_of(wife, "child", family, count)
            if shape == "with_parents":
                father = min(husband + randint(22, 34), 95)
                mother = max(father - randint(0, 4), husband + 20)
                if father <= 90 and rng.random() < 0.6:
                    people.append(("parent", father, True, family))
                people.append(("parent", mother, False, SURNAME(rng)))
        elif shape == "three_generations":
            head = randint(50, 76)
            wife = max(head - randint(-1, 5), 45)
            people.append(("head", head, True, family))
            if rng.random() < 0.8:
                people.append(("spouse", wife, False, SURNAME(rng)))
            child_age = max(wife - randint(21, 32), 20)
            if rng.random() < 0.85:  # a son and his wife
                people.append(("child", child_age, True, family))
                in_law = max(child_age - randint(-2, 4), 19)
                people.append(("child_in_law", in_law, False, SURNAME(rng)))
                mother = in_law
            else:  # a daughter and a son-in-law who married in (上门女婿)
                people.append(("child", child_age, False, family))
                people.append(("child_in_law", child_age + randint(-1, 4), True, SURNAME(rng)))
                mother = child_age
            children_of(mother, "grandchild", family, 1 if rng.random() < 0.5 else 2)
        elif shape == "single":
            male = rng.random() < 0.75
            people.append(("head", randint(25, 65), male, family if male else SURNAME(rng)))
        else:  # siblings
            head = randint(30, 70)
            male = rng.random() < 0.7
            people.append(("head", head, male, family))
            people.append(("sibling", max(18, head + randint(-8, 8)), rng.random() < 0.6, family))
        return people

    @staticmethod
    def _left_behind(rng: random.Random, members) -> dict[int, str]:
        """{position in household: flag}."""
        flags = {}
        ages = [m[1] for m in members]
        relations = [m[0] for m in members]
        if min(ages) >= 60 and rng.random() < 0.35:
            flags = {k: "elderly" for k in range(len(members))}
        elif "grandchild" in relations and rng.random() < 0.35:
            flags = {k: "child" for k, m in enumerate(members) if m[0] == "grandchild" and m[1] < 16}
        elif "child" in relations and "spouse" in relations:
            roll = rng.random()
            if roll < 0.08:
                flags = {k: "child" for k, m in enumerate(members) if m[0] == "child" and m[1] < 16}
            elif roll < 0.14:
                flags = {k: "woman" for k, m in enumerate(members) if not m[2] and m[0] in ("head", "spouse")
                         and 22 <= m[1] <= 50}
        return flags

    @staticmethod
    def _poverty(rng: random.Random, community: bool, members, disabled: bool) -> str:
        elderly_only = min(m[1] for m in members) >= 60
        factor = 0.35 if community else 1.0
        roll = rng.random()
        acc = 0.0
        for status, p in POVERTY:
            p *= factor
            if status in ("low_income", "extreme") and elderly_only:
                p *= 4 if len(members) == 1 else 2.5
            if status in ("low_income", "monitored") and disabled:
                p *= 2
            acc += p
            if roll < acc:
                return status
        return "none"


class _VillageLines:
    """Party organisation, deputies, central household heads, grid heads and workers and contact
    assignments of one village, chosen among the people just generated."""

    def __init__(self, gen: CountyGenerator, sink, rng, town, village, groups, section_grids, basic_grids, grid_rows,
                 hh_ids, hh_group, hh_vulnerable, hh_members, grid_households, people, party):
        self.gen, self.sink, self.rng = gen, sink, rng
        self.town, self.village = town, village
        self.groups, self.section_grids, self.basic_grids = groups, section_grids, basic_grids
        self.grid_rows = grid_rows
        self.hh_ids, self.hh_group, self.hh_vulnerable, self.hh_members = hh_ids, hh_group, hh_vulnerable, hh_members
        self.grid_households = grid_households
        self.people, self.party = people, party
        self.territory = (gen.county_id, town["id"], village["id"])
        self.community = village["kind"] == "community"

    def _emit(self, table, row):
        self.gen._emit(self.sink, table, row)

    def _date_between(self, first_ord: int, last_ord: int) -> dt.date:
        return dt.date.fromordinal(first_ord + self.rng.randrange(max(1, last_ord - first_ord)))

    def build(self) -> None:
        rng, people = self.rng, self.people
        party = self.party
        cadres = [k for k in party if 28 <= people[k][1] <= 62]
        rng.shuffle(cadres)
        self._party_organisation(cadres)
        deputies = self._deputies()
        central = self._central_heads()
        self._grid_heads(cadres, central)
        self._grid_workers(deputies, central)
        self._contacts(party, deputies, central)

    # -- party
    def _party_organisation(self, cadres) -> None:
        gen, rng, people = self.gen, self.rng, self.people
        county_id, town_id, village_id = self.territory
        town, village = self.town, self.village
        secretary = people[cadres[0]][0] if cadres else None
        org_of_group: dict[int, int] = {}
        if self.community:
            top = gen._id("partyorganization")
            self._emit("partyorganization", (top, f"中共{town['name']}{village['name']}委员会", "committee",
                                              town["committee"], village_id, None, secretary, county_id, town_id,
                                              village_id))
            members_by_group: dict[int, list[int]] = {}
            for k in self.party:
                members_by_group.setdefault(self.hh_group[people[k][3]], []).append(k)
            for g, group in enumerate(self.groups):
                if g not in members_by_group:
                    continue
                branch = org_of_group[g] = gen._id("partyorganization")
                self._emit("partyorganization", (
                    branch, f"中共{village['name']}{group['name']}支部委员会", "branch", top, group["region"], None,
                    people[members_by_group[g][0]][0], county_id, town_id, village_id))
        else:
            top = gen._id("partyorganization")
            kind, title = ("general_branch", "总支部委员会") if len(self.party) >= 50 else ("branch", "支部委员会")
            self._emit("partyorganization", (top, f"中共{town['name']}{village['name']}{title}", kind,
                                              town["committee"], village_id, None, secretary, county_id, town_id,
                                              village_id))
        as_of_ord = gen.as_of_ord
        for k in self.party:
            pid, age, _male, household, _relation, _phone, _name, birth_ord = people[k]
            in_service = (self.community and town["seat"] and 23 <= age <= 58 and bool(gen.host_branches)
                          and rng.random() < 0.5)
            if in_service:
                host = rng.choice(gen.host_branches)
                organization = host["id"]
                if host["secretary"] is None:
                    host["secretary"] = pid
            else:
                organization = org_of_group.get(self.hh_group[household], top)
            if age >= 19 and rng.random() < 0.03:
                joined, probationary = as_of_ord - rng.randrange(30, 330), True
            else:
                join_age = rng.randint(18, min(45, age))
                joined = min(birth_ord + int(join_age * 365.2425) + rng.randrange(365), as_of_ord - 365)
                probationary = False
            self._emit("partymembership", (gen._id("partymembership"), pid, organization, dt.date.fromordinal(joined),
                                            probationary, in_service, None, county_id, town_id, village_id))

    def _deputies(self) -> list[tuple[int, str]]:
        """[(local person index, level)]: about one town deputy per 450 residents and one county
        deputy per 1,500, two thirds of them party members."""
        gen, rng, people = self.gen, self.rng, self.people
        county_id, town_id, village_id = self.territory
        population = len(people)
        n_town = max(1, round(population / 450))
        n_county = int(population / 1500 + rng.random())
        party_set = set(self.party)
        in_party = [k for k in self.party if 30 <= people[k][1] <= 65]
        others = [k for k, p in enumerate(people) if 30 <= p[1] <= 65 and k not in party_set]
        wanted = n_town + n_county
        from_party = min(len(in_party), round(wanted * 2 / 3))
        chosen = rng.sample(in_party, from_party) + rng.sample(others, min(len(others), wanted - from_party))
        result = []
        for i, k in enumerate(chosen):
            level = "county" if i < n_county else "town"
            station = f"{self.town['name']}人大代表联络站" if level == "county" else f"{self.village['name']}人大代表联络点"
            self._emit("deputy", (gen._id("deputy"), people[k][0], level, village_id, DEPUTY_TERM, station, county_id,
                                  town_id, village_id))
            result.append((k, level))
        return result

    def _central_heads(self) -> dict[int, int]:
        """One central household head per basic grid, a respected head of household living in it:
        {basic grid id: local person index}."""
        gen, rng, people = self.gen, self.rng, self.people
        county_id, town_id, village_id = self.territory
        party_set = set(self.party)
        since_first = CONTACTS_SINCE.toordinal()
        result = {}
        for grid_id in self.basic_grids:
            residents = [k for h in self.grid_households[grid_id] for k in self.hh_members[h]]
            heads = [k for k in residents if people[k][4] == "head" and 35 <= people[k][1] <= 72]
            tiers = ([k for k in heads if k not in party_set], heads, [k for k in residents if people[k][1] >= 18],
                     residents)
            k = rng.choice(next(t for t in tiers if t))
            result[grid_id] = k
            self._emit("centralhouseholdhead", (gen._id("centralhouseholdhead"), people[k][0], grid_id,
                                                 self._date_between(since_first, gen.as_of_ord - 30), county_id,
                                                 town_id, village_id))
        return result

    # -- grids
    def _grid_heads(self, cadres, central) -> None:
        """Level 1: a village cadre (the branch secretary heads the first section); level 2: the
        group leader; level 3: the part's central household head."""
        rng, people, rows = self.rng, self.people, self.grid_rows
        adults = [k for k, p in enumerate(people) if 30 <= p[1] <= 60] or list(range(len(people)))
        for s, grid_id in enumerate(self.section_grids):
            k = cadres[s] if s < len(cadres) else rng.choice(adults)
            rows[grid_id][7] = people[k][0]
        for group in self.groups:
            residents = [k for grid_id in group["parts"] for h in self.grid_households[grid_id]
                         for k in self.hh_members[h]]
            heads = [k for k in residents if people[k][4] == "head" and 35 <= people[k][1] <= 68]
            leader = rng.choice(heads or [k for k in residents if people[k][1] >= 18] or residents)
            rows[group["grid"]][7] = people[leader][0]
            if group["parts"] != [group["grid"]]:
                for grid_id in group["parts"]:
                    rows[grid_id][7] = people[central[grid_id]][0]

    def _grid_workers(self, deputies, central) -> None:
        """One worker per basic grid (一对一配备), a three-line person of the village, each person
        working at most one grid whenever the village has enough three-line people."""
        rng, people = self.rng, self.people
        able = lambda k: 20 <= people[k][1] <= 65  # noqa: E731
        liners = sorted(set(self.party) | {k for k, _ in deputies} | set(central.values()))
        by_household: dict[int, list[int]] = {}
        for k in liners:
            by_household.setdefault(people[k][3], []).append(k)
        spare = [k for k in liners if able(k)]
        rng.shuffle(spare)
        used = set()
        for grid_id in self.basic_grids:
            nearby = [k for h in self.grid_households[grid_id] for k in by_household.get(h, ())
                      if k not in used and able(k) and people[k][5]]
            if nearby:
                worker = rng.choice(nearby)
            elif central[grid_id] not in used:
                worker = central[grid_id]
            else:
                while spare and spare[-1] in used:
                    spare.pop()
                worker = spare.pop() if spare else central[grid_id]
            used.add(worker)
            self.grid_rows[grid_id][8] = people[worker][0]

    # -- contacts
    def _contacts(self, party, deputies, central) -> None:
        """Party members and deputies: 3-5 households each near their own, the least-contacted and
        the vulnerable first; central household heads: the households of their grid."""
        gen, rng, people = self.gen, self.rng, self.people
        county_id, town_id, village_id = self.territory
        n = len(self.hh_ids)
        load = [0] * n
        since_first = CONTACTS_SINCE.toordinal()
        last = gen.as_of_ord - 7
        vulnerable = self.hh_vulnerable

        def assign(k: int, households, line: str) -> None:
            started = self._date_between(since_first, last)
            for h in households:
                load[h] += 1
                self._emit("contactassignment", (gen._id("contactassignment"), people[k][0], self.hh_ids[h], line,
                                                 started, None, county_id, town_id, village_id))

        lines = [(k, "party_member") for k in party] + [(k, "deputy") for k, _ in deputies]
        for k, line in lines:
            own = people[k][3]
            wanted = min(rng.randint(3, 5), n - 1)
            candidates = [h for d in range(1, 16) for h in (own + d, own - d) if 0 <= h < n]
            if len(candidates) < wanted:
                candidates = [h for h in range(n) if h != own]
            candidates.sort(key=lambda h: (load[h], not vulnerable[h], abs(h - own)))
            assign(k, candidates[:wanted], line)
        for grid_id, k in central.items():
            own = people[k][3]
            households = sorted((h for h in self.grid_households[grid_id] if h != own), key=lambda h: abs(h - own))
            assign(k, households[:30], "central_head")
