#!/usr/bin/env python3
"""Matching 10,000 open needs against 100,000 resources (issue 13 §7), against plain SQL.

Creates a scratch PostgreSQL database (``gongzhi_bench_dispatch`` unless told otherwise; ``--reuse``
keeps an existing one and its data when it was made with the same parameters), migrates it, makes
a county quickly (one county, 10 towns, 160 villages as ``Region`` rows, unless the database
already holds a county, e.g. from ``gongzhi generate``), the county dispatcher's login
(``ensure_demo_logins``, the ``dispatch`` login) and then, deterministic from ``--seed``, writes
with COPY into the models' own tables:

* ``--resources`` resources across the five kinds, most kept at villages, some at towns, some in
  the county's shared pool (town NULL); a few emergency reserves, some suspended or retired, some
  outside their availability window, some with nothing on hand; every resource with stock gets
  its one ledger line (``StockMovement`` kind ``in``, on hand = the line). Nothing is reserved:
  there are no allocations, so ``reserved`` is 0, as the ledger says;
* ``--needs`` open needs (10 % emergency, 40 % basic livelihood, 50 % other), most raised for a
  village, with quantities that leave venues, data services and tents scarce.

Every resource's name and every need's title carry one subject word (棉被, 帐篷, 法律, 会议 …, see
``SUBJECTS``): a material need is met only by a resource sharing a word (``matching.fits``), and a
shared word adds 5 points for every kind (``matching.score``).

Then, several times each and interleaved (one of each per round, after a warm-up round), it times

* **Gongzhi**: loading the needs and resources the way ``services.reserve_by_priority`` does (the
  dispatcher's scoped querysets → lists) and ``matching.plan`` over them; load and plan apart;
* **plain SQL**: one statement that gives each open need, in queue order, its best resource by the
  same score (place 30/20/12/4 + coverage up to 20 + readiness 10 + shared words 5 each, at most
  15; materials must share one), a ``LATERAL … ORDER BY score
  DESC, available DESC, id LIMIT 1``, all rows fetched. It does not take earlier needs' shares off
  (no running balances): a slightly easier question than the plan's. It has to score every
  resource of the need's type for every need;
* **SQL by tier**: the same answer (asserted row for row) from at most 16 index probes per need —
  the largest usable resource of the need's village, town, the county pool and the county, each
  split by readiness (allocated directly or not) and by sharing the need's word or not — on four
  expression indexes the benchmark adds to its scratch database (``bench_dispatch_*``; the
  application's schema does not have them);
* once, the **greedy in PL/pgSQL** (``--greedy-repeat``, 0 to skip): the same queue with running
  balances, one best-resource query per need over a temporary copy of the balances — the plan's
  question exactly, answered by the database.

and checks the answers: the plan never gives a resource more than it has, nor a need more than it
lacks; the SQL score equals ``matching.score`` for the row it chose; for the needs whose SQL choice
no earlier need in the plan had touched (so the greedy must still pick it), how often the plan
picked the same resource, and why not when it did not; how often the plan agrees with the exact
greedy.

Prints a table and writes JSON to ``bench/results/dispatch_match.json`` (at the default size;
``dispatch_match_<needs>x<resources>.json`` otherwise). The database is dropped afterwards unless
``--keep``.

    .venv/bin/python bench/dispatch_match.py                               # 10,000 × 100,000
    .venv/bin/python bench/dispatch_match.py --needs 200 --resources 2000  # a quick run
    .venv/bin/python bench/dispatch_match.py --reuse --keep --repeat 5
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import platform
import random
import statistics
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
# The benchmarks run the demo settings on PostgreSQL: the demo SECRET_KEY is allowed there.
os.environ.setdefault("GONGZHI_DEMO", "1")

# Dates are computed from this day, not from today, so a seed gives the same rows and answers.
AS_OF = dt.date(2026, 7, 1)
TOWNS, VILLAGES_PER_TOWN = 10, 16

# (kind, share of resources, share of needs, unit)
KINDS = [
    ("material", 0.50, 0.40, "件"),
    ("funds", 0.22, 0.20, "元"),
    ("force", 0.25, 0.20, "人日"),
    ("venue", 0.02, 0.12, "场次"),
    ("data", 0.01, 0.08, "月"),
]
# What each resource is and each need asks for: (subject, share of the kind's resources, share of
# its needs). Materials must share a word with the need (matching.fits); for the other kinds a
# shared word adds points. Tents are what a flood empties first: 1 % of the stock, 12 % of the asks.
SUBJECTS = {
    "material": [("棉被", 0.15, 0.14), ("大米", 0.20, 0.14), ("食用油", 0.12, 0.08), ("饮用水", 0.10, 0.10),
                 ("衣物", 0.15, 0.08), ("药品", 0.10, 0.10), ("取暖器", 0.06, 0.10), ("帐篷", 0.01, 0.12),
                 ("折叠床", 0.04, 0.07), ("煤炭", 0.07, 0.07)],
    "funds": [("医疗", 0.3, 0.3), ("助学", 0.2, 0.2), ("住房", 0.2, 0.2), ("养老", 0.2, 0.2), ("就业", 0.1, 0.1)],
    "force": [("法律", 0.2, 0.2), ("心理", 0.1, 0.2), ("护理", 0.3, 0.3), ("电工", 0.2, 0.15), ("维修", 0.2, 0.15)],
    "venue": [("会议", 0.4, 0.3), ("活动", 0.4, 0.4), ("培训", 0.2, 0.3)],
    "data": [("监测", 0.4, 0.4), ("地图", 0.3, 0.3), ("统计", 0.3, 0.3)],
}
# Names and titles: the subject is the only two-character word a title can share with a name.
RESOURCE_NAME = {"material": "{s}（储备点{i}）", "funds": "{s}救助专项资金{i}", "force": "{s}服务队{i}",
                 "venue": "{s}室·闲置校舍{i}", "data": "{s}数据服务{i}"}
NEED_TITLE = {"material": "{s}{q}{u}", "funds": "{s}补助{q}元", "force": "{s}上门{q}人日",
              "venue": "{s}用房{q}场次", "data": "{s}服务{q}个月"}
MODES = [("direct", 0.40), ("project", 0.25), ("purchase", 0.20), ("venture", 0.15)]
SOURCES = ["budget", "donation", "social", "firm", "paired", "volunteers", "collective"]


def weighted(rng: random.Random, pairs):
    x, acc = rng.random(), 0.0
    for value, weight in pairs:
        acc += weight
        if x < acc:
            return value
    return pairs[-1][0]


def lognormal(rng: random.Random, median: float, sigma: float, lo: int = 1) -> int:
    return max(lo, int(round(math.exp(rng.gauss(math.log(median), sigma)))))


# ---------------------------------------------------------------------------------------------
# machine and database


def machine() -> dict:
    info = {"python": platform.python_version(), "nproc": os.cpu_count()}
    try:
        with open("/proc/cpuinfo") as f:
            info["cpu"] = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        info["cpu"] = platform.processor() or "unknown"
    with open("/proc/meminfo") as f:
        info["memory_gib"] = round(int(f.readline().split()[1]) / 1024 / 1024, 1)
    return info


def code_version() -> dict:
    """The commit, and whether matching.py differs from it (others edit this checkout too)."""
    import hashlib
    import subprocess

    def git(*cmd):
        return subprocess.run(["git", *cmd], cwd=ROOT, capture_output=True, text=True).stdout.strip()

    path = ROOT / "gongzhi" / "resources" / "matching.py"
    return {"git_head": git("rev-parse", "HEAD"),
            "matching_py_sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
            "matching_py_modified": bool(git("status", "--porcelain", "--", "gongzhi/resources/matching.py"))}


def setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ["DJANGO_SETTINGS_MODULE"] = "gongzhi.settings"
    import django

    django.setup()


def copy_rows(model, objs) -> int:
    """COPY model instances into their table, every concrete column (ids explicit)."""
    from django.db import connection

    fields = model._meta.concrete_fields
    cols = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    with connection.cursor() as cursor:
        with cursor.cursor.copy(f"COPY {model._meta.db_table} ({cols}) FROM STDIN") as copy:
            for obj in objs:
                copy.write_row(tuple(getattr(obj, f.attname) for f in fields))
        cursor.execute(f"SELECT setval(pg_get_serial_sequence('{model._meta.db_table}', 'id'), "
                       f"(SELECT max(id) FROM {model._meta.db_table}))")
    return len(objs)


# ---------------------------------------------------------------------------------------------
# the data


def ensure_county(rng: random.Random) -> tuple[object, bool]:
    """The county to match in: the first one in the registry, or a new one with 10 towns × 16
    villages (Region rows only: matching reads nothing else of the registry)."""
    from django.db import transaction

    from gongzhi.demo.pools import COUNTY_CODE, COUNTY_NAME, HANYIN_TOWNS, STEM_FIRST, STEM_SECOND
    from gongzhi.registry.models import Region, RegionLevel

    county = Region.objects.filter(level=RegionLevel.COUNTY).order_by("code").first()
    if county is not None:
        return county, False
    stems = [a + b for a in STEM_FIRST for b in STEM_SECOND]
    rng.shuffle(stems)
    with transaction.atomic():
        county = Region.objects.create(code=COUNTY_CODE, name=COUNTY_NAME, kind="county", level=1)
        Region.objects.filter(pk=county.pk).update(county_id=county.pk)
        for t, town_name in enumerate(HANYIN_TOWNS[:TOWNS]):
            town = Region.objects.create(code=f"{COUNTY_CODE[:6]}{100 + t:03d}000", name=town_name, kind="town",
                                         level=2, parent=county, county_id=county.pk)
            Region.objects.filter(pk=town.pk).update(town_id=town.pk)
            villages = Region.objects.bulk_create([
                Region(code=f"{COUNTY_CODE[:6]}{100 + t:03d}{201 + v:03d}", name=stems.pop() + "村",
                       kind="village", level=3, parent=town, county_id=county.pk, town_id=town.pk)
                for v in range(VILLAGES_PER_TOWN)])
            for village in villages:
                village.village_id = village.pk
            Region.objects.bulk_update(villages, ["village_id"])
    county.refresh_from_db()
    return county, True


def generate(county, actor, args) -> dict:
    """Resources, their ledger lines and open needs, deterministic from ``args.seed``."""
    from django.db import connection, transaction
    from django.utils import timezone

    from gongzhi.registry.models import Region, RegionLevel
    from gongzhi.resources.models import Need, Resource, StockMovement

    rng = random.Random(f"dispatch:{args.seed}")
    towns = list(Region.objects.filter(level=RegionLevel.TOWN, county_id=county.pk).order_by("code"))
    villages = list(Region.objects.filter(level=RegionLevel.VILLAGE, county_id=county.pk).order_by("code"))
    # Some villages are bigger than others: they keep more and ask more.
    village_weights = [rng.uniform(0.4, 2.0) for _ in villages]
    tz = timezone.get_default_timezone()
    noon = dt.datetime.combine(AS_OF, dt.time(12), tzinfo=tz)
    resource_kinds = [(k, s) for k, s, _n, _u in KINDS]
    need_kinds = [(k, n) for k, _s, n, _u in KINDS]
    units = {k: u for k, _s, _n, u in KINDS}

    def where(kind: str, *, village_share: float, town_share: float):
        x = rng.random()
        if x < village_share:
            return rng.choices(villages, village_weights)[0]
        if x < village_share + town_share:
            return rng.choice(towns)
        return county

    resources, movements = [], []
    next_id = (Resource.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
    next_move = (StockMovement.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
    for i in range(args.resources):
        kind = weighted(rng, resource_kinds)
        if kind == "data":       # data services are the county's: mostly in the pool
            place = where(kind, village_share=0.05, town_share=0.15)
        elif kind == "venue":    # idle schools and collective buildings: in the villages
            place = where(kind, village_share=0.85, town_share=0.12)
        else:
            place = where(kind, village_share=0.70, town_share=0.20)
        on_hand = {"funds": lambda: lognormal(rng, 20000, 1.0, 100) // 100 * 100,
                   "material": lambda: lognormal(rng, 40, 1.0),
                   "force": lambda: lognormal(rng, 10, 0.7),
                   "venue": lambda: rng.randint(1, 4),
                   "data": lambda: rng.randint(1, 24)}[kind]()
        if rng.random() < 0.02:
            on_hand = 0              # registered, nothing received yet
        reserve = kind in ("material", "funds") and place.level < RegionLevel.VILLAGE and rng.random() < 0.12
        availability = weighted(rng, [("available", 0.93), ("suspended", 0.05), ("retired", 0.02)])
        start = end = None
        x = rng.random()
        if x < 0.05:                 # not yet: from a day in the next three months
            start = AS_OF + dt.timedelta(days=rng.randint(1, 90))
        elif x < 0.09:               # its window is over
            end = AS_OF - dt.timedelta(days=rng.randint(1, 120))
        elif x < 0.30:               # an open window around today
            start = AS_OF - dt.timedelta(days=rng.randint(0, 200))
            end = AS_OF + dt.timedelta(days=rng.randint(0, 200))
        r = Resource(
            id=next_id + i, kind=kind, unit=units[kind],
            name=RESOURCE_NAME[kind].format(s=weighted(rng, [(w, a) for w, a, _b in SUBJECTS[kind]]), i=i + 1),
            owner_name=place.name + ("应急储备库" if reserve else "村（居）委会" if place.level == 3 else "人民政府"),
            place_id=place.pk, source=rng.choice(SOURCES), allocation=weighted(rng, MODES),
            emergency_reserve=reserve, availability=availability, available_from=start, available_until=end,
            on_hand=on_hand, reserved=0, registered_by_id=actor.pk,
            created_at=noon - dt.timedelta(minutes=rng.randint(60, 400 * 24 * 60)))
        r.copy_territory_from(place)
        resources.append(r)
        if on_hand:
            m = StockMovement(id=next_move + len(movements), resource_id=r.id, kind="in", on_hand_delta=on_hand,
                              reserved_delta=0, reason="期初入库（基准测试数据）", actor_id=actor.pk, at=r.created_at)
            m.copy_territory_from(place)
            movements.append(m)

    needs = []
    next_need = (Need.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
    for i in range(args.needs):
        priority = weighted(rng, [(1, 0.10), (2, 0.40), (3, 0.50)])
        kind = weighted(rng, need_kinds)
        place = where(kind, village_share=0.92, town_share=0.06)
        big = 3 if priority == 1 else 1
        quantity = {"funds": lambda: lognormal(rng, 3000 * big, 0.8, 100) // 100 * 100,
                    "material": lambda: lognormal(rng, 15 * big, 0.9),
                    "force": lambda: lognormal(rng, 4 * big, 0.6),
                    "venue": lambda: rng.randint(2, 6),
                    "data": lambda: rng.randint(6, 24)}[kind]()
        if priority == 1:
            needed_by = AS_OF + dt.timedelta(days=rng.randint(0, 3))
        elif rng.random() < 0.7:
            needed_by = AS_OF + dt.timedelta(days=rng.randint(-10, 60))
        else:
            needed_by = None
        subject = weighted(rng, [(w, b) for w, _a, b in SUBJECTS[kind]])
        n = Need(id=next_need + i, title=NEED_TITLE[kind].format(s=subject, q=quantity, u=units[kind]),
                 description=f"{place.name}（基准测试需求{i + 1}）", kind=kind, quantity=quantity,
                 unit=units[kind], priority=priority, emergency_note="汛期受灾，急需" if priority == 1 else "",
                 place_id=place.pk, needed_by=needed_by, source="direct", status="open",
                 raised_by_id=actor.pk, raised_at=noon - dt.timedelta(minutes=rng.randint(0, 90 * 24 * 60)))
        n.copy_territory_from(place)
        needs.append(n)

    started = time.perf_counter()
    with transaction.atomic():
        copy_rows(Resource, resources)
        copy_rows(StockMovement, movements)
        copy_rows(Need, needs)
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    with connection.cursor() as cursor:
        for table in ("resources_resource", "resources_stockmovement", "resources_need"):
            cursor.execute(f"VACUUM ANALYZE {table}")
    return {"resources": len(resources), "ledger_lines": len(movements), "needs": len(needs),
            "copy_seconds": round(time.perf_counter() - started, 2)}


def describe_data(county) -> dict:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("""
            SELECT kind, count(*), count(*) FILTER (WHERE village_id IS NOT NULL),
                   count(*) FILTER (WHERE village_id IS NULL AND town_id IS NOT NULL),
                   count(*) FILTER (WHERE town_id IS NULL), count(*) FILTER (WHERE emergency_reserve),
                   count(*) FILTER (WHERE availability <> 'available'),
                   count(*) FILTER (WHERE available_from > %(today)s OR available_until < %(today)s),
                   count(*) FILTER (WHERE on_hand = 0), sum(on_hand - reserved)
            FROM resources_resource WHERE county_id = %(county)s GROUP BY kind ORDER BY kind""",
                       sql_params(county))
        resources = {row[0]: dict(zip(("total", "at_villages", "at_towns", "county_pool", "emergency_reserves",
                                       "suspended_or_retired", "outside_window", "nothing_on_hand", "units"),
                                      row[1:])) for row in cursor.fetchall()}
        cursor.execute("""
            SELECT kind, count(*), count(*) FILTER (WHERE priority = 1), count(*) FILTER (WHERE priority = 2),
                   count(*) FILTER (WHERE priority = 3), sum(quantity)
            FROM resources_need WHERE county_id = %(county)s AND status IN ('open', 'reserved', 'delivering')
            GROUP BY kind ORDER BY kind""", {"county": county.pk})
        needs = {row[0]: dict(zip(("open", "emergency", "livelihood", "other", "units"), row[1:]))
                 for row in cursor.fetchall()}
        cursor.execute("SELECT (SELECT count(*) FROM resources_resource r WHERE r.on_hand <> "
                       "(SELECT coalesce(sum(on_hand_delta), 0) FROM resources_stockmovement m "
                       "WHERE m.resource_id = r.id))")
        mismatched = cursor.fetchone()[0]
    assert mismatched == 0, f"{mismatched} resources whose on hand is not the sum of their ledger"
    return {"resources": resources, "needs": needs, "ledger_mismatches": mismatched}


# ---------------------------------------------------------------------------------------------
# the three answers

OPEN = ("open", "reserved", "delivering")

# The score of matching.score, in SQL (float8 division and round(): the same IEEE arithmetic and
# round-half-even as Python's round(20 * min(available / lacking, 1.0))); ``shared`` is how many of
# the need's words the resource's name holds (matching.subject_overlap).
SCORE_SQL = """
    (CASE WHEN r.village_id = n.village_id THEN 30
          WHEN r.town_id = n.town_id THEN 20
          WHEN r.town_id IS NULL AND r.county_id = n.county_id THEN 12
          ELSE 4 END
     + round(20 * least((r.on_hand - r.reserved)::float8 / n.lacking, 1.0))::int
     + CASE WHEN n.priority = 1 AND r.allocation = 'direct' THEN 10 ELSE 0 END
     + least(5 * {shared}, 15))"""
SHARED_SQL = "(SELECT count(*) FROM unnest(n.words) w WHERE strpos(r.name, w) > 0)::int"

# What matching.refusal lets serve (claims aside): available, inside its window some day between
# today and when the need is needed by, something left, emergency reserves for emergencies only.
USABLE_SQL = """
    r.kind = n.kind AND r.availability = 'available' AND r.on_hand - r.reserved > 0
    AND (r.available_from IS NULL OR r.available_from <= greatest(coalesce(n.needed_by, %(today)s), %(today)s))
    AND (r.available_until IS NULL OR r.available_until >= %(today)s)
    AND (NOT r.emergency_reserve OR n.priority = 1)"""

# matching.fits: a material must share a word with the need.
FITS_SQL = "(r.kind <> 'material' OR EXISTS (SELECT 1 FROM unnest(n.words) w WHERE strpos(r.name, w) > 0))"

# The need's words (matching.subject_overlap): its title's distinct two-character CJK pairs that
# are not common words.
NEEDS_SQL = """
    SELECT id, kind, priority, county_id, town_id, village_id, needed_by, raised_at,
           quantity - delivered_quantity - reserved_quantity AS lacking,
           ARRAY(SELECT DISTINCT substr(title, i, 2) FROM generate_series(1, length(title) - 1) i
                 WHERE substr(title, i, 2) ~ %(cjk_pair)s AND NOT substr(title, i, 2) = ANY(%(common)s)) AS words
    FROM resources_need
    WHERE county_id = %(county)s AND status IN ('open', 'reserved', 'delivering')
      AND quantity - delivered_quantity - reserved_quantity > 0"""

BASELINE_SQL = f"""
    WITH n AS ({NEEDS_SQL})
    SELECT n.id, best.id, best.score, best.available
    FROM n LEFT JOIN LATERAL (
        SELECT r.id, {SCORE_SQL.format(shared="s.shared")} AS score, r.on_hand - r.reserved AS available
        FROM resources_resource r CROSS JOIN LATERAL (SELECT {SHARED_SQL} AS shared) s
        WHERE r.county_id = n.county_id AND {USABLE_SQL} AND (r.kind <> 'material' OR s.shared > 0)
        ORDER BY score DESC, available DESC, r.id
        LIMIT 1) best ON true
    ORDER BY n.priority, n.needed_by NULLS LAST, n.raised_at, n.id"""

# The tiered baseline: for each of the lists matching.plan keeps (the need's village, its town,
# the county's pool, the whole county) and each readiness class (allocated directly or not), the
# largest usable resource by one index probe, and the largest that shares a word with the need
# (for materials only that one); the best of those ≤ 16 by the same score. The same answer as
# BASELINE_SQL (checked row for row): within one list, readiness class and subject class the score
# only grows with what is available, and a list's largest from a higher tier beats all of a lower
# tier. (Exact when a title's words are all-or-nothing in a name, as in the generated data: one
# subject per title.)
TIER_INDEXES = {
    "bench_dispatch_village": "(kind, village_id, (CASE WHEN allocation = 'direct' THEN 1 ELSE 0 END), (on_hand - reserved) DESC, id) "
                              "WHERE availability = 'available'",
    "bench_dispatch_town": "(kind, town_id, (CASE WHEN allocation = 'direct' THEN 1 ELSE 0 END), (on_hand - reserved) DESC, id) "
                           "WHERE availability = 'available'",
    "bench_dispatch_pool": "(kind, county_id, (CASE WHEN allocation = 'direct' THEN 1 ELSE 0 END), (on_hand - reserved) DESC, id) "
                           "WHERE availability = 'available' AND town_id IS NULL",
    "bench_dispatch_county": "(kind, county_id, (CASE WHEN allocation = 'direct' THEN 1 ELSE 0 END), (on_hand - reserved) DESC, id) "
                             "WHERE availability = 'available'",
}
TIER_LISTS = ["r.village_id = n.village_id", "r.town_id = n.town_id",
              "r.county_id = n.county_id AND r.town_id IS NULL", "r.county_id = n.county_id"]
TIER_BRANCH = """(SELECT r.id, {score} AS score, r.on_hand - r.reserved AS available
          FROM resources_resource r
          WHERE {where} AND (CASE WHEN r.allocation = 'direct' THEN 1 ELSE 0 END) = {direct} AND {usable}
            AND {subject}
          ORDER BY r.on_hand - r.reserved DESC, r.id LIMIT 1)"""
SUBJECT_CLASSES = [FITS_SQL.replace("r.kind <> 'material' OR ", ""), "n.kind <> 'material'"]
TIERED_SQL = f"""
    WITH n AS ({NEEDS_SQL})
    SELECT n.id, best.id, best.score, best.available
    FROM n LEFT JOIN LATERAL (
        SELECT c.id, c.score, c.available FROM (
        {" UNION ALL ".join(TIER_BRANCH.format(score=SCORE_SQL.format(shared=SHARED_SQL), where=where,
                                               direct=direct, usable=USABLE_SQL, subject=subject)
                            for where in TIER_LISTS for direct in (1, 0) for subject in SUBJECT_CLASSES)}
        ) c ORDER BY c.score DESC, c.available DESC, c.id LIMIT 1) best ON true
    ORDER BY n.priority, n.needed_by NULLS LAST, n.raised_at, n.id"""

GREEDY_FUNCTION = f"""
    CREATE OR REPLACE FUNCTION pg_temp.dispatch_greedy(p_county bigint, p_today date, p_cjk_pair text,
                                                        p_common text[])
    RETURNS TABLE (o_need bigint, o_resource bigint, o_quantity bigint, o_score int)
    LANGUAGE plpgsql AS $$
    #variable_conflict use_column
    DECLARE
        n record;
        b record;
    BEGIN
        DROP TABLE IF EXISTS pg_temp.dispatch_left;
        CREATE TEMP TABLE dispatch_left AS
            SELECT id, kind, name, county_id, town_id, village_id, allocation, emergency_reserve, availability,
                   available_from, available_until, on_hand, reserved
            FROM resources_resource
            WHERE county_id = p_county AND availability = 'available' AND on_hand - reserved > 0;
        CREATE INDEX ON dispatch_left (kind);
        ANALYZE dispatch_left;
        FOR n IN {NEEDS_SQL.replace("%(county)s", "p_county").replace("%(cjk_pair)s", "p_cjk_pair")
                           .replace("%(common)s", "p_common")}
                 ORDER BY priority, needed_by NULLS LAST, raised_at, id LOOP
            SELECT r.id, {SCORE_SQL.format(shared="s.shared")} AS score, r.on_hand - r.reserved AS available INTO b
            FROM dispatch_left r CROSS JOIN LATERAL (SELECT {SHARED_SQL} AS shared) s
            WHERE r.county_id = n.county_id AND {USABLE_SQL.replace("%(today)s", "p_today")}
              AND (r.kind <> 'material' OR s.shared > 0)
            ORDER BY score DESC, available DESC, r.id
            LIMIT 1;
            IF FOUND THEN
                o_need := n.id; o_resource := b.id; o_quantity := least(n.lacking, b.available); o_score := b.score;
                UPDATE dispatch_left SET reserved = reserved + o_quantity WHERE id = b.id;
                RETURN NEXT;
            END IF;
        END LOOP;
    END $$"""


def sql_params(county) -> dict:
    from gongzhi.resources import matching

    return {"county": county.pk, "today": AS_OF, "cjk_pair": "^[\u4e00-\u9fff]{2}$",
            "common": sorted(matching.COMMON_WORDS)}


def gongzhi_load(actor, county):
    """What ``services.reserve_by_priority`` loads before it calls ``matching.plan``."""
    from gongzhi.resources.models import OPEN_NEED_STATUSES, Availability, Need, Resource

    needs = Need.objects.visible_to(actor, "resources.add_allocation").filter(
        county_id=county.pk, status__in=OPEN_NEED_STATUSES)
    resources = Resource.objects.visible_to(actor, "resources.view_resource").filter(
        county_id=county.pk, availability=Availability.AVAILABLE)
    return list(needs.select_related("village", "town")), list(resources)


def sql_baseline(county):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(BASELINE_SQL, sql_params(county))
        return cursor.fetchall()


def sql_tiered(county):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(TIERED_SQL, sql_params(county))
        return cursor.fetchall()


def ensure_tier_indexes() -> float:
    from django.db import connection

    started = time.perf_counter()
    with connection.cursor() as cursor:
        for name, definition in TIER_INDEXES.items():
            cursor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON resources_resource {definition}")
        cursor.execute("ANALYZE resources_resource")
    return round(time.perf_counter() - started, 2)


def sql_greedy(county):
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(GREEDY_FUNCTION)
        p = sql_params(county)
        cursor.execute("SELECT * FROM pg_temp.dispatch_greedy(%s, %s, %s, %s)",
                       [county.pk, AS_OF, p["cjk_pair"], p["common"]])
        rows = cursor.fetchall()
        cursor.execute("DROP TABLE IF EXISTS pg_temp.dispatch_left")
        return rows


# ---------------------------------------------------------------------------------------------
# checks


def check(needs, resources, proposals, baseline, greedy) -> dict:
    """The plan's invariants, and how its choices compare with the SQL answers."""
    from gongzhi.resources import matching

    by_id = {r.pk: r for r in resources}
    queue = sorted((n for n in needs if n.outstanding > 0), key=matching.queue_key)
    # Same queue order in Python and SQL.
    assert [n.pk for n in queue] == [row[0] for row in baseline], "queue order differs between plan and SQL"

    # 1. the plan never gives more than there is, nor more than is lacking, nor twice to a need
    given: Counter = Counter()
    seen = set()
    for p in proposals:
        assert p.need.pk not in seen, f"need {p.need.pk} proposed twice"
        seen.add(p.need.pk)
        assert 1 <= p.quantity <= p.need.outstanding, (p.need.pk, p.quantity, p.need.outstanding)
        assert matching.fits(p.need, p.resource), (p.need.pk, p.resource.pk)
        assert not (p.resource.emergency_reserve and p.need.priority != 1), "an emergency reserve for a non-emergency"
        given[p.resource.pk] += p.quantity
    for pk, quantity in given.items():
        r = by_id[pk]
        assert quantity <= r.on_hand - r.reserved, f"resource {pk}: {quantity} planned of {r.on_hand - r.reserved}"

    # 2. the SQL score is matching.score's for the row it chose
    needs_by_id = {n.pk: n for n in needs}
    for need_id, resource_id, score, _available in baseline:
        if resource_id is not None:
            n, r = needs_by_id[need_id], by_id[resource_id]
            expected = matching.score(n, r, lacking=n.outstanding, available=r.on_hand - r.reserved).score
            assert score == expected, (need_id, resource_id, score, expected)

    # 3. first choices: where the SQL's static best was untouched by every earlier need in the plan,
    # a greedy that takes the best resource still available must take it too.
    planned = {p.need.pk: p for p in proposals}
    sql_pick = {row[0]: row[1] for row in baseline}
    touched: set[int] = set()
    tiers = Tiers(resources)
    sql_score = {row[0]: row[2] for row in baseline}
    points_lost = 0
    by_priority = defaultdict(lambda: [0, 0])  # priority → [untouched, agree]
    causes: Counter = Counter()
    untouched = agree = 0
    examples = []
    for n in queue:
        s = sql_pick[n.pk]
        p = planned.get(n.pk)
        if s is None or s not in touched:
            untouched += 1
            by_priority[n.priority][0] += 1
            if (p.resource.pk if p else None) == s:
                agree += 1
                by_priority[n.priority][1] += 1
            else:
                if p and s is not None:
                    # the SQL's choice is at least as good as what the plan took (static best)
                    assert sql_score[n.pk] >= p.candidate.score, (n.pk, sql_score[n.pk], p.candidate.score)
                    points_lost += sql_score[n.pk] - p.candidate.score
                cause = disagreement(n, by_id.get(s), p.resource if p else None, tiers)
                causes[cause] += 1
                if len(examples) < 5:
                    examples.append({"need": n.pk, "priority": n.priority, "sql": s,
                                     "plan": p.resource.pk if p else None, "cause": cause})
        if p:
            touched.add(p.resource.pk)
    all_agree = sum(1 for n in queue if (planned[n.pk].resource.pk if n.pk in planned else None) == sql_pick[n.pk])
    out = {
        "needs_in_queue": len(queue), "proposals": len(proposals),
        "units_planned": sum(p.quantity for p in proposals), "resources_drawn": len(given),
        "needs_unmatched_by_plan": len(queue) - len(proposals),
        "needs_unmatched_by_sql": sum(1 for row in baseline if row[1] is None),
        "first_choice_untouched": untouched, "first_choice_agree": agree,
        "first_choice_agree_share": round(agree / untouched, 4) if untouched else None,
        "disagreement_causes": dict(causes), "disagreement_examples": examples,
        "disagreement_points_lost": points_lost,
        "first_choice_by_priority": {p: {"untouched": u, "agree": a} for p, (u, a) in sorted(by_priority.items())},
        "same_resource_as_sql_all_needs": all_agree,
    }
    if greedy is not None:
        exact = {row[0]: (row[1], row[2]) for row in greedy}
        same = sum(1 for n in queue if (planned[n.pk].resource.pk if n.pk in planned else None)
                   == (exact[n.pk][0] if n.pk in exact else None))
        out.update({
            "greedy_proposals": len(greedy), "plan_agrees_with_greedy": same,
            "plan_agrees_with_greedy_share": round(same / len(queue), 4) if queue else None,
            "greedy_units": sum(row[2] for row in greedy),
            "mean_score_plan": round(statistics.fmean(p.candidate.score for p in proposals), 2) if proposals else None,
            "mean_score_greedy": round(statistics.fmean(row[3] for row in greedy), 2) if greedy else None,
        })
    return out


def disagreement(need, sql_choice, plan_choice, tiers) -> str:
    """Why the plan did not take the SQL's best, where no earlier need had touched it."""
    if sql_choice is None:
        return "sql_found_none"
    if sql_choice.available_from and sql_choice.available_from > AS_OF:
        return "window_opens_before_needed_by"     # plan() drops it up front; refusal() allows it
    if plan_choice is None:
        return "plan_found_none"
    from gongzhi.resources import matching

    # The plan looks at the largest fitting resource of each list only; a smaller one may win by
    # its 10 readiness points (allocated directly, for an emergency) or by more shared words.
    seen = tiers.largest(need, sql_choice)
    if seen is not None and seen is not sql_choice:
        if need.priority == 1 and sql_choice.allocation == "direct" and seen.allocation != "direct":
            return "readiness_not_in_tier_order"
        if len(matching.subject_overlap(need.title, sql_choice.name)) > len(
                matching.subject_overlap(need.title, seen.name)):
            return "subject_not_in_tier_order"
    return "other"


class Tiers:
    """The lists ``matching.plan`` keeps (per type and village / town / county pool / county), to
    tell whether a resource is hidden behind a larger one of its tier's list."""

    def __init__(self, resources):
        self.lists = defaultdict(list)
        for r in resources:
            if r.availability != "available" or r.on_hand - r.reserved <= 0:
                continue
            if (r.available_from and AS_OF < r.available_from) or (r.available_until and AS_OF > r.available_until):
                continue
            if r.village_id:
                self.lists[("village", r.kind, r.village_id)].append(r)
            if r.town_id:
                self.lists[("town", r.kind, r.town_id)].append(r)
            else:
                self.lists[("county", r.kind, r.county_id)].append(r)
            self.lists[("elsewhere", r.kind, r.county_id)].append(r)

    def largest(self, need, resource):
        """The largest resource that fits ``need`` in the list ``resource`` is found in."""
        from gongzhi.resources import matching

        tier = matching.place_tier(need, resource)
        key = {"village": need.village_id, "town": need.town_id}.get(tier, need.county_id)
        fitting = [r for r in self.lists[(tier, resource.kind, key)]
                   if not (r.emergency_reserve and need.priority != 1) and matching.fits(need, r)]
        return max(fitting, key=lambda r: (r.on_hand - r.reserved, -r.pk), default=None)


# ---------------------------------------------------------------------------------------------
# timing


def summary(times: list[float]) -> dict:
    return {"median_s": round(statistics.median(times), 4), "min_s": round(min(times), 4),
            "runs_s": [round(t, 4) for t in times]}


def measure(county, actor, args) -> dict:
    from gongzhi.resources import matching

    timings = defaultdict(list)
    last = {}
    for round_ in range(args.repeat + 1):   # round 0 warms up, not counted
        started = time.perf_counter()
        needs, resources = gongzhi_load(actor, county)
        loaded = time.perf_counter()
        proposals = matching.plan(needs, resources, today=AS_OF)
        planned = time.perf_counter()
        tiered = sql_tiered(county)
        tiered_done = time.perf_counter()
        # The plain baseline takes minutes at full size: it is not warmed up (its table is
        # cached by the rounds' other steps already).
        baseline = sql_baseline(county) if round_ else None
        done = time.perf_counter()
        if round_:
            timings["gongzhi_load"].append(loaded - started)
            timings["gongzhi_plan"].append(planned - loaded)
            timings["gongzhi_total"].append(planned - started)
            timings["sql_tiered"].append(tiered_done - planned)
            timings["sql_baseline"].append(done - tiered_done)
            assert tiered == baseline, "the tiered and the plain SQL answers differ"
        print(f"  round {round_}{' (warm-up)' if not round_ else ''}: load {loaded - started:.3f} s, "
              f"plan {planned - loaded:.3f} s, tiered SQL {tiered_done - planned:.3f} s"
              + (f", plain SQL {done - tiered_done:.3f} s" if round_ else ""), file=sys.stderr, flush=True)
        last = {"needs": needs, "resources": resources, "proposals": proposals, "baseline": baseline}
    greedy = None
    for _ in range(args.greedy_repeat):
        started = time.perf_counter()
        greedy = sql_greedy(county)
        timings["sql_greedy"].append(time.perf_counter() - started)
        print(f"  PL/pgSQL greedy: {timings['sql_greedy'][-1]:.3f} s", file=sys.stderr, flush=True)
    result = {name: summary(ts) for name, ts in timings.items()}
    result["rows"] = {"needs_loaded": len(last["needs"]), "resources_loaded": len(last["resources"]),
                      "sql_rows": len(last["baseline"])}
    result["check"] = check(last["needs"], last["resources"], last["proposals"], last["baseline"], greedy)
    g, s = result["gongzhi_total"]["median_s"], result["sql_baseline"]["median_s"]
    result["ratio_gongzhi_to_sql"] = round(g / s, 3)
    result["ratio_plan_only_to_sql"] = round(result["gongzhi_plan"]["median_s"] / s, 3)
    result["ratio_gongzhi_to_sql_tiered"] = round(g / result["sql_tiered"]["median_s"], 3)
    result["ratio_plan_only_to_sql_tiered"] = round(result["gongzhi_plan"]["median_s"]
                                                    / result["sql_tiered"]["median_s"], 3)
    if "sql_greedy" in result:
        result["ratio_gongzhi_to_sql_greedy"] = round(g / result["sql_greedy"]["median_s"], 3)
    result["explain_baseline"] = explain(county)
    return result


def explain(county) -> dict:
    """The baselines' plans (the plain one without running it again)."""
    from django.db import connection

    out = {}
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + BASELINE_SQL, sql_params(county))
        out["plain"] = [row[0] for row in cursor.fetchall()]
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + TIERED_SQL, sql_params(county))
        out["tiered"] = [row[0] for row in cursor.fetchall()]
    return out


# ---------------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--needs", type=int, default=10_000)
    parser.add_argument("--resources", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5, help="timed rounds (after one warm-up round)")
    parser.add_argument("--greedy-repeat", type=int, default=1, help="runs of the PL/pgSQL greedy (0: skip)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--server", default=os.environ.get("BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432"))
    parser.add_argument("--db", default="gongzhi_bench_dispatch")
    parser.add_argument("--reuse", action="store_true",
                        help="keep an existing database (migrated first) and its data if made with the same parameters")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--out", help="the JSON file (default bench/results/dispatch_match[_<needs>x<resources>].json)")
    args = parser.parse_args()
    if not args.db.startswith("gongzhi_bench_"):
        parser.error("the database name must start with gongzhi_bench_ (it is dropped)")

    import psycopg

    result = {"date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"), "machine": machine(),
              "parameters": {"needs": args.needs, "resources": args.resources, "repeat": args.repeat,
                             "greedy_repeat": args.greedy_repeat, "seed": args.seed, "db": args.db,
                             "as_of": AS_OF.isoformat()},
              "load_average_before": os.getloadavg(), "code": code_version()}
    admin_url = f"{args.server}/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        result["machine"]["postgresql"] = conn.execute("SHOW server_version").fetchone()[0]
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [args.db]).fetchone()
        if not (args.reuse and exists):
            conn.execute(f'DROP DATABASE IF EXISTS "{args.db}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{args.db}"')
    try:
        setup_django(f"{args.server}/{args.db}")
        import django
        from django.core.management import call_command
        from django.db import connection

        result["machine"]["django"] = django.get_version()
        started = time.perf_counter()
        call_command("migrate", verbosity=0)
        result["migrate_seconds"] = round(time.perf_counter() - started, 1)
        result.update(prepare(args))
        county, actor = result.pop("_county"), result.pop("_actor")
        print(f"measuring {args.needs:,} needs × {args.resources:,} resources, {args.repeat} rounds …",
              file=sys.stderr, flush=True)
        result["measure"] = measure(county, actor, args)
        result["load_average_after"] = os.getloadavg()
        connection.close()
    finally:
        if not args.keep:
            with psycopg.connect(admin_url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{args.db}" WITH (FORCE)')

    default = args.needs == 10_000 and args.resources == 100_000
    out = Path(args.out) if args.out else ROOT / "bench" / "results" / (
        "dispatch_match.json" if default else f"dispatch_match_{args.needs}x{args.resources}.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False, default=str))
    report(result)
    print(f"\nsaved {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}")
    return 0


def prepare(args) -> dict:
    """The county, the dispatcher and the data: made, or found when reusing with the same parameters."""
    from django.db import connection

    from gongzhi.demo.logins import ensure_demo_logins
    from gongzhi.resources.models import Need, Resource, StockMovement

    out = {}
    started = time.perf_counter()
    county, made = ensure_county(random.Random(f"county:{args.seed}"))
    ensure_demo_logins(password=None, only=["dispatch"])
    from django.contrib.auth import get_user_model

    actor = get_user_model().objects.get(username="dispatch")
    out["county"] = {"name": county.name, "made_here": made, "towns": county.children.count(),
                     "villages": type(county).objects.filter(level=3, county_id=county.pk).count(),
                     "seconds": round(time.perf_counter() - started, 1)}
    wanted = {"needs": args.needs, "resources": args.resources, "seed": args.seed, "as_of": AS_OF.isoformat()}
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE IF NOT EXISTS bench_dispatch_meta (id int PRIMARY KEY, params jsonb NOT NULL)")
        cursor.execute("SELECT params FROM bench_dispatch_meta WHERE id = 1")
        row = cursor.fetchone()
    have = json.loads(row[0]) if row and isinstance(row[0], str) else (row[0] if row else None)
    if have == wanted:
        out["data"] = {"reused": True}
    else:
        if Resource.objects.exists() or Need.objects.exists() or StockMovement.objects.exists():
            raise SystemExit(f"{args.db} holds other resources or needs ({have}); run without --reuse")
        out["data"] = {"reused": False, **generate(county, actor, args)}
        with connection.cursor() as cursor:
            cursor.execute("INSERT INTO bench_dispatch_meta VALUES (1, %s) ON CONFLICT (id) DO UPDATE "
                           "SET params = EXCLUDED.params", [json.dumps(wanted)])
    out["data"]["seconds"] = round(time.perf_counter() - started, 1)
    out["data"]["tier_indexes_seconds"] = ensure_tier_indexes()
    out["data"].update(describe_data(county))
    out["_county"], out["_actor"] = county, actor
    return out


def report(result: dict) -> None:
    m, p = result["measure"], result["parameters"]
    mach = result["machine"]
    print(f"\n{mach['cpu']}, {mach['nproc']} cores, PostgreSQL {mach['postgresql']}, Python {mach['python']}; "
          f"load average {result['load_average_before'][0]:.1f} → {result['load_average_after'][0]:.1f}")
    print(f"{p['needs']:,} open needs × {p['resources']:,} resources ({m['rows']['resources_loaded']:,} available "
          f"loaded), median / min of {p['repeat']}\n")
    print(f"| {'step':<44} | {'median':>9} | {'min':>9} |")
    print(f"|{'-' * 46}|{'-' * 11}|{'-' * 11}|")
    names = [("gongzhi_load", "Gongzhi: load (querysets → lists)"), ("gongzhi_plan", "Gongzhi: matching.plan"),
             ("gongzhi_total", "Gongzhi: load + plan"), ("sql_baseline", "plain SQL (LATERAL … LIMIT 1)"),
             ("sql_tiered", "SQL by tier (≤ 16 index probes per need)"),
             ("sql_greedy", "PL/pgSQL greedy (running balances)")]
    for key, label in names:
        if key in m:
            print(f"| {label:<44} | {m[key]['median_s'] * 1000:>7.1f}ms | {m[key]['min_s'] * 1000:>7.1f}ms |")
    print(f"\nratio Gongzhi / plain SQL: {m['ratio_gongzhi_to_sql']}× (plan alone {m['ratio_plan_only_to_sql']}×); "
          f"Gongzhi / SQL by tier: {m['ratio_gongzhi_to_sql_tiered']}× (plan alone "
          f"{m['ratio_plan_only_to_sql_tiered']}×)"
          + (f"; Gongzhi / PL/pgSQL greedy: {m['ratio_gongzhi_to_sql_greedy']}×" if "ratio_gongzhi_to_sql_greedy" in m
             else ""))
    c = m["check"]
    print(f"plan: {c['proposals']:,} proposals for {c['needs_in_queue']:,} needs, {c['units_planned']:,} units from "
          f"{c['resources_drawn']:,} resources (never more than available: checked)")
    print(f"first choice untouched by earlier needs: {c['first_choice_untouched']:,}; plan agrees with SQL on "
          f"{c['first_choice_agree']:,} ({(c['first_choice_agree_share'] or 0) * 100:.1f} %); "
          f"causes otherwise: {c['disagreement_causes']}")
    if "plan_agrees_with_greedy" in c:
        print(f"plan agrees with the exact greedy on {c['plan_agrees_with_greedy']:,} of {c['needs_in_queue']:,} "
              f"needs ({c['plan_agrees_with_greedy_share'] * 100:.1f} %); mean score plan {c['mean_score_plan']} vs "
              f"greedy {c['mean_score_greedy']}; units plan {c['units_planned']:,} vs greedy {c['greedy_units']:,}")


if __name__ == "__main__":
    sys.exit(main())
