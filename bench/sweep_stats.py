#!/usr/bin/env python3
"""Sweeps and statistics at a million open cases (issue 10 §2), in one run.

Creates its own database (``sweep_bench`` unless told otherwise), migrates it, generates the
county with ``gongzhi generate --size million --households N``, classifies the households (care
plans and first visits), loads the open cases with ``gongzhi.demo.bulk.generate_open_cases`` (the
path ``gongzhi generate --cases`` takes; with ``--generated K`` only K of them, replicated in SQL
up to ``--cases`` with fresh numbers and tracking codes), then in a child Django process measures:

* the **deadline sweep** (``gongzhi.cases.tasks.run_sweep``): working passes (up to 500 warnings
  of each kind, with timeline entries and notifications) and the steady state (every open case
  already warned: the pass only has to find that nothing is due);
* the **care-visit sweep** (``gongzhi.care.plans.sweep_visits``): a working pass over a few
  thousand overdue visits (per 500) and the steady state, with every other open visit overdue
  and already warned;
* the **county-year statistics** (``compute_statistics`` as the county secretary, totals and with
  the breakdowns by ledger, category, level, status and unit), against **DuckDB** answering the
  same question over the same cases exported to Parquet, checking that both give the same counts.

Prints a summary and saves JSON in ``bench/results/``. The database is dropped afterwards unless
``--keep``; ``--reuse`` measures an existing database again (it is migrated first).

    .venv/bin/python bench/sweep_stats.py                                  # 1M households, 1M cases
    .venv/bin/python bench/sweep_stats.py --households 20000 --cases 50000 # a quick run
    .venv/bin/python bench/sweep_stats.py --generated 50000   # 50,000 generated, replicated to 1M in SQL
    .venv/bin/python bench/sweep_stats.py --database sweep_bench_1m --reuse --keep

Needs ``pip install -e '.[bench]'`` (DuckDB).
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics as stats_module
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RUNS = 7


def machine() -> dict:
    import platform

    info = {"python": platform.python_version(), "cores": os.cpu_count()}
    try:
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        info["cpu"] = next(line.split(":", 1)[1].strip() for line in lscpu.splitlines()
                           if line.startswith("Model name"))
    except (OSError, StopIteration):
        info["cpu"] = platform.processor() or "unknown"
    with open("/proc/meminfo") as f:
        info["memory_gib"] = round(int(f.readline().split()[1]) / 1024 / 1024, 1)
    info["load_average"] = os.getloadavg()
    return info


def timed(fn, runs: int = RUNS) -> tuple[float, list[float], object]:
    """Median seconds of ``runs`` calls (after one warm-up call), all timings, the last result."""
    result = fn()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return stats_module.median(times), [round(t, 4) for t in times], result


# ---------------------------------------------------------------------------------------------
# the child: Django-side measurements


def _setup():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gongzhi.settings")
    import django

    django.setup()


def measure(args) -> dict:
    _setup()
    from django.db import connection

    out = {}
    started = time.perf_counter()
    from gongzhi.cases.statistics import statistics_fold

    out["fold_after_load"] = {"deltas": statistics_fold(), "seconds": round(time.perf_counter() - started, 2)}
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE cases_case")
        cursor.execute("VACUUM ANALYZE care_visit")
    from gongzhi.demo.logins import ensure_demo_logins

    ensure_demo_logins()
    out["statistics"] = measure_statistics(args)
    out["sweep"] = measure_sweep(args)
    out["care_sweep"] = measure_care_sweep(args)
    return out


def load(args) -> dict:
    """Generate ``--generated`` open cases with ``gongzhi.demo.bulk.generate_open_cases`` (the path
    ``gongzhi generate --cases`` takes) and, when ``--cases`` is larger, replicate them in SQL."""
    _setup()
    from gongzhi.demo.bulk import generate_open_cases
    from gongzhi.registry.models import Region

    county = Region.objects.filter(level=1).order_by("code").first()
    result = generate_open_cases(county, args.generated, seed=args.seed,
                                 log=lambda m: print(m, file=sys.stderr, flush=True))
    out = {"generated": args.generated, "generate_seconds": round(result.seconds, 1),
           "generated_per_second": round(args.generated / result.seconds)}
    if args.cases > args.generated:
        out.update(amplify(args.cases // args.generated))
    return out


def amplify(factor: int) -> dict:
    """Copy every case ``factor - 1`` times in one INSERT … SELECT: fresh numbers continuing each
    year's sequence (gapless), fresh tracking codes, everything else (territory, category, state,
    deadlines) as generated. The case table's indexes are rebuilt once afterwards, as the bulk
    load does."""
    from django.apps import apps
    from django.conf import settings
    from django.db import connection, transaction

    from gongzhi.demo.bulk import PostgresLoadWindow

    case_model = apps.get_model("cases", "case")
    columns = [f.column for f in case_model._meta.concrete_fields if f.column not in ("id", "number", "tracking_code")]
    cols = ", ".join(connection.ops.quote_name(c) for c in columns)
    prefix = getattr(settings, "GONGZHI_CASE_NUMBER_PREFIX", "GZ")
    tz = settings.TIME_ZONE
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        window = PostgresLoadWindow(cursor, tables=[case_model._meta.db_table])
        window.open()
        cursor.execute(f"""
            INSERT INTO cases_case ({cols}, number, tracking_code)
            SELECT {cols}, '{prefix}-' || y || '-' || lpad(n::text, greatest(6, length(n::text)), '0'),
                   upper(substr(md5(id::text || '-' || k::text), 1, 16))
            FROM (SELECT c.*, k, EXTRACT(YEAR FROM c.received_at AT TIME ZONE '{tz}')::int AS y,
                         s.last + row_number() OVER (PARTITION BY s.year ORDER BY c.received_at, c.id, k) AS n
                  FROM cases_case c CROSS JOIN generate_series(1, %s) k
                  JOIN cases_casenumbersequence s
                    ON s.year = EXTRACT(YEAR FROM c.received_at AT TIME ZONE '{tz}')::int) t""", [factor - 1])
        copied = cursor.rowcount
        cursor.execute(f"""
            UPDATE cases_casenumbersequence s SET last = x.n FROM (
                SELECT EXTRACT(YEAR FROM received_at AT TIME ZONE '{tz}')::int AS year, count(*) AS n
                FROM cases_case GROUP BY 1) x WHERE x.year = s.year""")
        window.close()
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
    seconds = time.perf_counter() - started
    from gongzhi.cases.statistics import statistics_fold

    folded_started = time.perf_counter()
    statistics_fold()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE cases_case")
        cursor.execute("SELECT year, last FROM cases_casenumbersequence ORDER BY year")
        sequences = cursor.fetchall()
        cursor.execute("SELECT count(*), count(DISTINCT number), count(DISTINCT tracking_code) FROM cases_case")
        total, numbers, codes = cursor.fetchone()
    assert total == numbers == codes, (total, numbers, codes)
    assert sum(last for _year, last in sequences) == total  # numbers 1…last per year, no gap
    return {"amplified_by": factor, "copied": copied, "amplify_seconds": round(seconds, 1),
            "fold_seconds": round(time.perf_counter() - folded_started, 1), "cases_total": total,
            "sequences": sequences}


def measure_sweep(args) -> dict:
    from django.db import connection, transaction

    from gongzhi.cases.tasks import BATCH, run_sweep

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FILTER (WHERE status <> 'closed'), "
                       "count(*) FILTER (WHERE status <> 'closed' AND resolution_due_at < now()) FROM cases_case")
        open_, overdue = cursor.fetchone()
    working = []
    for _ in range(args.passes):
        started = time.perf_counter()
        counts = run_sweep()
        seconds = time.perf_counter() - started
        warnings = sum(counts.values())
        working.append({"seconds": round(seconds, 3), "warnings": counts,
                        "seconds_per_500": round(seconds / max(warnings, 1) * 500, 3)})
        print(f"  sweep working pass: {seconds:.2f} s, {counts}", file=sys.stderr, flush=True)
    # The steady state: every open case already warned, as after earlier passes.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE cases_case SET acceptance_warned_at = now(), response_warned_at = now(), "
                       "due_soon_warned_at = now(), overdue_warned_at = now(), escalated_at = now() "
                       "WHERE status <> 'closed'")
        cursor.execute("UPDATE cases_summons SET escalated_at = now() WHERE escalated_at IS NULL")
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE cases_case")
    median, times, counts = timed(run_sweep)
    assert not any(counts.values()), counts
    # Explain the pass's heaviest query, to show it reads the partial index.
    with connection.cursor() as cursor:
        cursor.execute(
            "EXPLAIN (ANALYZE, BUFFERS) SELECT id FROM cases_case WHERE overdue_warned_at IS NULL "
            "AND resolution_due_at <= now() AND status IN ('accepted', 'assigned', 'in_progress', 'returned', "
            "'result_reported', 'approved', 'awaiting_feedback', 'evaluated', 'pending_instruction') "
            "ORDER BY resolution_due_at, id LIMIT 500")
        plan = [row[0] for row in cursor.fetchall()]
    return {"open_cases": open_, "overdue": overdue, "batch": BATCH, "working_passes": working,
            "steady_seconds_median": round(median, 4), "steady_seconds": times, "overdue_query_plan": plan}


def ensure_visits() -> dict:
    """Care plans and open visits, when the households were not classified (``gongzhi
    classify_households`` at a million households takes minutes and is measured on its own, in
    docs/benchmarks.md): 3 households in 8 get a plan (red weekly, or yellow monthly for one in
    eight) with the grid worker as helper and one open visit — about the share classification
    gives. The sweep only reads visits, so how they were made does not change what it costs."""
    from django.db import connection, transaction

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM care_visit WHERE done_at IS NULL AND NOT cancelled")
        if cursor.fetchone()[0]:
            return {"made": 0}
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("""
            INSERT INTO care_careplan (household_id, colour, helper_id, interval_days, started_on, ended_on,
                                       ended_reason, county_id, town_id, village_id)
            SELECT h.id, CASE WHEN h.id % 8 = 0 THEN 'yellow' ELSE 'red' END, g.worker_id,
                   CASE WHEN h.id % 8 = 0 THEN 30 ELSE 7 END, current_date - 7, NULL, '',
                   h.county_id, h.town_id, h.village_id
            FROM registry_household h LEFT JOIN registry_grid g ON g.id = h.grid_id WHERE h.id % 8 IN (0, 1, 2)""")
        made = cursor.rowcount
        cursor.execute("""
            INSERT INTO care_visit (plan_id, household_id, due_on, done_at, visitor_id, note, recorded_by_id,
                                    cancelled, due_soon_warned_at, overdue_warned_at, county_id, town_id, village_id)
            SELECT p.id, p.household_id, p.started_on + p.interval_days, NULL, NULL, '', NULL, false, NULL, NULL,
                   p.county_id, p.town_id, p.village_id FROM care_careplan p WHERE p.ended_on IS NULL""")
    return {"made": made, "seconds": round(time.perf_counter() - started, 1)}


def measure_care_sweep(args) -> dict:
    from django.db import connection, transaction
    from django.utils import timezone

    from gongzhi.care.plans import sweep_visits

    made = ensure_visits()
    today = timezone.localdate()
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM registry_household")
        households = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM care_visit WHERE done_at IS NULL AND NOT cancelled")
        open_visits = cursor.fetchone()[0]
    # Every open visit overdue and already warned but ``args.due_visits`` of them: the working pass
    # must find those few among hundreds of thousands overdue.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE care_visit SET due_on = %s, overdue_warned_at = now(), due_soon_warned_at = now() "
                       "WHERE done_at IS NULL AND NOT cancelled", [today - dt.timedelta(days=3)])
        cursor.execute("UPDATE care_visit SET overdue_warned_at = NULL WHERE id IN (SELECT id FROM care_visit "
                       "WHERE done_at IS NULL AND NOT cancelled ORDER BY id LIMIT %s)", [args.due_visits])
        cursor.execute("DELETE FROM care_carealert")
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE care_visit")
    started = time.perf_counter()
    counts = sweep_visits(limit=500)
    seconds = time.perf_counter() - started
    print(f"  care sweep working pass: {seconds:.2f} s, {counts}", file=sys.stderr, flush=True)
    median, times, steady = timed(sweep_visits)
    assert steady == {"overdue": 0, "due_soon": 0, "alerts": 0}, steady
    return {"households": households, "open_visits": open_visits, "visits_made_in_sql": made, "working": {
        "seconds": round(seconds, 3), "counts": counts,
        "seconds_per_500": round(seconds / max(counts["overdue"] + counts["due_soon"], 1) * 500, 3)},
        "steady_seconds_median": round(median, 4), "steady_seconds": times}


TIMESTAMPS = ["received_at", "accepted_at", "closed_at", "resolution_due_at", "response_due_at", "first_response_at",
              "result_reported_at"]
NULLABLE_IDS = ["assignee_department_id", "assignee_region_id", "assignee_grid_id"]


def _export(path: Path) -> dict:
    """The case columns the statistics read (and the names they group by) → Parquet, via CSV."""
    import duckdb
    from django.db import connection

    path.mkdir(parents=True, exist_ok=True)
    exports = {
        "cases": "SELECT id, county_id, received_at AT TIME ZONE 'UTC' AS received_at, ledger, category_id, "
                 "current_level, status, settled_level, closed_as, satisfaction, is_dispute, rework_count, "
                 "extension_count, accepted_at AT TIME ZONE 'UTC' AS accepted_at, "
                 "closed_at AT TIME ZONE 'UTC' AS closed_at, resolution_due_at AT TIME ZONE 'UTC' AS resolution_due_at, "
                 "response_due_at AT TIME ZONE 'UTC' AS response_due_at, "
                 "first_response_at AT TIME ZONE 'UTC' AS first_response_at, "
                 "result_reported_at AT TIME ZONE 'UTC' AS result_reported_at, assignee_department_id, "
                 "assignee_region_id, assignee_grid_id FROM cases_case",
        "category": "SELECT id, name FROM cases_casecategory",
        "department": "SELECT id, name FROM registry_department",
        "region": "SELECT id, name FROM registry_region",
        "grid": "SELECT id, name FROM registry_grid",
    }
    started = time.perf_counter()
    db = duckdb.connect()
    for name, sql in exports.items():
        csv = path / f"{name}.csv"
        with connection.cursor() as cursor, open(csv, "wb") as f:
            with cursor.cursor.copy(f"COPY ({sql}) TO STDOUT WITH (FORMAT csv, HEADER true)") as copy:
                for chunk in copy:
                    f.write(chunk)
        types = ({c: "TIMESTAMP" for c in TIMESTAMPS} | {c: "BIGINT" for c in NULLABLE_IDS}
                 | {c: "VARCHAR" for c in ("settled_level", "closed_as", "satisfaction", "current_level")}
                 if name == "cases" else {})
        db.execute(f"COPY (SELECT * FROM read_csv('{csv}', header=true, types={types!r})) "
                   f"TO '{path / name}.parquet' (FORMAT parquet)")
        csv.unlink()
    db.close()
    return {"seconds": round(time.perf_counter() - started, 1),
            "parquet_bytes": sum(p.stat().st_size for p in path.glob("*.parquet"))}


DUCK_COUNTS = {
    "received": "count(*)",
    "accepted": "count(*) FILTER (WHERE accepted_at IS NOT NULL)",
    "closed": "count(*) FILTER (WHERE status = 'closed' AND closed_as IN ('resolved', 'unresolved'))",
    "closed_on_time": "count(*) FILTER (WHERE status = 'closed' AND closed_as IN ('resolved', 'unresolved') "
                      "AND resolution_due_at IS NOT NULL AND closed_at <= resolution_due_at)",
    "resolved": "count(*) FILTER (WHERE status = 'closed' AND closed_as = 'resolved')",
    "assigned": "count(*) FILTER (WHERE response_due_at IS NOT NULL)",
    "responded_on_time": "count(*) FILTER (WHERE response_due_at IS NOT NULL AND first_response_at IS NOT NULL "
                         "AND first_response_at <= response_due_at)",
    "satisfied": "count(*) FILTER (WHERE satisfaction = 'satisfied')",
    "basic": "count(*) FILTER (WHERE satisfaction = 'basic')",
    "dissatisfied": "count(*) FILTER (WHERE satisfaction = 'dissatisfied')",
    "unreachable": "count(*) FILTER (WHERE satisfaction = 'unreachable')",
    "reported": "count(*) FILTER (WHERE result_reported_at IS NOT NULL)",
    "reworked": "count(*) FILTER (WHERE result_reported_at IS NOT NULL AND rework_count > 0)",
    "extended": "count(*) FILTER (WHERE accepted_at IS NOT NULL AND extension_count > 0)",
    "disputes": "count(*) FILTER (WHERE is_dispute AND accepted_at IS NOT NULL)",
    "disputes_resolved": "count(*) FILTER (WHERE is_dispute AND status = 'closed' AND closed_as = 'resolved')",
}


def _duck_questions(path: Path, county_id: int, lo: dt.datetime, hi: dt.datetime):
    """The same question as ``compute_statistics`` asks, in DuckDB over the Parquet files."""
    import duckdb

    db = duckdb.connect()
    for name in ("cases", "category", "department", "region", "grid"):
        db.execute(f"CREATE VIEW {name} AS SELECT * FROM read_parquet('{path / name}.parquet')")
    counts = ", ".join(f"{sql} AS {name}" for name, sql in DUCK_COUNTS.items())
    cohort = (f"FROM cases c WHERE c.county_id = {county_id} AND c.received_at >= TIMESTAMP '{lo:%Y-%m-%d %H:%M:%S}' "
              f"AND c.received_at < TIMESTAMP '{hi:%Y-%m-%d %H:%M:%S}'")
    settled = (f"SELECT settled_level, count(*) {cohort} AND status = 'closed' AND closed_as = 'resolved' "
               "GROUP BY 1")

    def totals():
        return {"total": db.execute(f"SELECT {counts} {cohort}").fetchall(),
                "settled": db.execute(settled).fetchall()}

    def breakdowns():
        unit = ("COALESCE(d.name, r.name, g.name, '（未交办）')")
        result = totals()
        result["by_ledger"] = db.execute(f"SELECT ledger, {counts} {cohort} GROUP BY 1").fetchall()
        result["by_category"] = db.execute(
            f"SELECT k.name, {counts} FROM cases c JOIN category k ON k.id = c.category_id "
            f"{cohort[len('FROM cases c'):]} GROUP BY 1").fetchall()
        result["by_level"] = db.execute(f"SELECT current_level, {counts} {cohort} GROUP BY 1").fetchall()
        result["by_status"] = db.execute(f"SELECT status, {counts} {cohort} GROUP BY 1").fetchall()
        result["by_unit"] = db.execute(
            f"SELECT {unit}, {counts} FROM cases c LEFT JOIN department d ON d.id = c.assignee_department_id "
            "LEFT JOIN region r ON r.id = c.assignee_region_id LEFT JOIN grid g ON g.id = c.assignee_grid_id "
            f"{cohort[len('FROM cases c'):]} GROUP BY 1").fetchall()
        return result

    return db, totals, breakdowns


def measure_statistics(args) -> dict:
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.utils import timezone

    from gongzhi.cases.choices import CaseStatus
    from gongzhi.cases.statistics import compute_statistics
    from gongzhi.registry.models import Region

    county = Region.objects.filter(level=1).order_by("code").first()
    user = get_user_model().objects.get(username="county")
    with connection.cursor() as cursor:
        cursor.execute("SELECT EXTRACT(YEAR FROM received_at AT TIME ZONE 'Asia/Shanghai')::int, count(*) "
                       "FROM cases_case GROUP BY 1 ORDER BY 2 DESC LIMIT 1")
        year, in_year = cursor.fetchone()
        cursor.execute("SELECT count(*) FROM cases_statisticsrollup")
        rollup_rows = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM cases_statisticsunitrollup")
        unit_rollup_rows = cursor.fetchone()[0]
    start, end = dt.date(year, 1, 1), dt.date(year, 12, 31)
    tz = timezone.get_default_timezone()
    lo = dt.datetime(year, 1, 1, tzinfo=tz).astimezone(dt.timezone.utc).replace(tzinfo=None)
    hi = dt.datetime(year + 1, 1, 1, tzinfo=tz).astimezone(dt.timezone.utc).replace(tzinfo=None)

    path = ROOT / "bench" / "results" / f"sweep_stats_parquet_{os.getpid()}"
    export = _export(path)
    db, duck_totals, duck_breakdowns = _duck_questions(path, county.pk, lo, hi)
    try:
        results = {}
        for name, breakdowns, duck in (("totals", False, duck_totals), ("breakdowns", True, duck_breakdowns)):
            g_median, g_times, g_result = timed(lambda b=breakdowns: compute_statistics(
                user=user, region=county, start=start, end=end, breakdowns=b))
            d_median, d_times, d_result = timed(duck)
            direct_median, direct_times, direct_result = timed(lambda b=breakdowns: compute_statistics(
                user=user, region=county, start=start, end=end, breakdowns=b, use_rollup=False), runs=3)
            assert direct_result == g_result, "rollup and direct count differ"
            # the two engines agree
            duck_total = dict(zip(DUCK_COUNTS, d_result["total"][0]))
            assert duck_total == g_result.total.counts, (duck_total, g_result.total.counts)
            if breakdowns:
                duck_status = {CaseStatus(row[0]).label: dict(zip(DUCK_COUNTS, row[1:])) for row in d_result["by_status"]}
                assert duck_status == {k: v.counts for k, v in g_result.by_status.items()}
                duck_units = {row[0]: dict(zip(DUCK_COUNTS, row[1:])) for row in d_result["by_unit"]}
                assert duck_units == {k: v.counts for k, v in g_result.by_unit.items()}
            results[name] = {
                "gongzhi_seconds_median": round(g_median, 4), "gongzhi_seconds": g_times,
                "duckdb_seconds_median": round(d_median, 4), "duckdb_seconds": d_times,
                "ratio": round(g_median / d_median, 2),
                "direct_count_seconds_median": round(direct_median, 4), "direct_count_seconds": direct_times,
                "groups": {k: len(getattr(g_result, k)) for k in ("by_ledger", "by_category", "by_level", "by_status",
                                                                   "by_unit")} if breakdowns else None,
            }
            print(f"  statistics {name}: gongzhi {g_median * 1000:.1f} ms, duckdb {d_median * 1000:.1f} ms, "
                  f"direct count {direct_median * 1000:.0f} ms", file=sys.stderr, flush=True)
    finally:
        db.close()
        for p in path.glob("*"):
            p.unlink()
        path.rmdir()
    import duckdb

    return {"year": year, "cases_in_year": in_year, "received": g_result.total.counts["received"],
            "rollup_rows": rollup_rows, "unit_rollup_rows": unit_rollup_rows, "export": export,
            "duckdb": duckdb.__version__, **results}


# ---------------------------------------------------------------------------------------------
# the parent: database, generation, the child, the report


def run(cmd: list[str], env: dict) -> float:
    started = time.perf_counter()
    subprocess.run(cmd, env=env, cwd=ROOT, check=True)
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--households", type=int, default=1_000_000)
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--size", default="million", help="generator preset giving the shape (default million)")
    parser.add_argument("--seed", type=int, default=321)
    parser.add_argument("--server", default=os.environ.get("BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432"))
    parser.add_argument("--database", default="sweep_bench")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--reuse", action="store_true", help="measure an existing database (migrated first)")
    parser.add_argument("--load", action="store_true", help="with --reuse: load the cases into it first")
    parser.add_argument("--passes", type=int, default=3, help="working passes of the deadline sweep")
    parser.add_argument("--due-visits", type=int, default=2000, help="visits left due for the care sweep's pass")
    parser.add_argument("--generated", type=int, default=None,
                        help="generate this many cases with the generator and replicate them in SQL up to --cases "
                             "(default: generate all of them)")
    parser.add_argument("--task", choices=["measure", "load"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if not args.database.startswith("sweep_bench"):
        parser.error("the database name must start with sweep_bench")
    args.generated = args.generated or args.cases
    if args.task:
        print(json.dumps({"measure": measure, "load": load}[args.task](args), default=str))
        return 0

    import psycopg

    admin_url, url = f"{args.server}/postgres", f"{args.server}/{args.database}"
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "gongzhi.settings"}
    gongzhi = [sys.executable, "-m", "gongzhi.cli"]
    result = {"date": dt.datetime.now().isoformat(timespec="seconds"), "machine": machine(),
              "database": args.database}
    with psycopg.connect(admin_url, autocommit=True) as conn:
        result["machine"]["postgresql"] = conn.execute("SHOW server_version").fetchone()[0]
        if not args.reuse:
            conn.execute(f'DROP DATABASE IF EXISTS "{args.database}"')
            conn.execute(f'CREATE DATABASE "{args.database}"')
    try:
        result["migrate_seconds"] = round(run([*gongzhi, "migrate", "-v0"], env), 1)
        common = ["--database", args.database, "--passes", str(args.passes), "--due-visits", str(args.due_visits),
                  "--cases", str(args.cases), "--generated", str(args.generated), "--seed", str(args.seed)]
        if not args.reuse:
            cmd = [*gongzhi, "generate", "--size", args.size, "--households", str(args.households),
                   "--seed", str(args.seed)]
            result["generate"] = {"command": " ".join(["gongzhi", *cmd[3:]]), "seconds": round(run(cmd, env), 1)}
            result["classify_seconds"] = round(run([*gongzhi, "classify_households"], env), 1)
        if not args.reuse or args.load:
            child = subprocess.run([sys.executable, __file__, "--task", "load", *common], env=env, cwd=ROOT,
                                   check=True, stdout=subprocess.PIPE, text=True)
            result["cases"] = json.loads(child.stdout.strip().splitlines()[-1])
        child = subprocess.run([sys.executable, __file__, "--task", "measure", *common],
                               env=env, cwd=ROOT, check=True, stdout=subprocess.PIPE, text=True)
        result.update(json.loads(child.stdout.strip().splitlines()[-1]))
    finally:
        if not args.keep:
            with psycopg.connect(admin_url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"sweep_stats_{args.cases}_{dt.datetime.now():%Y%m%d_%H%M%S}.json"
    path.write_text(json.dumps(result, indent=2, ensure_ascii=False, default=str))
    s, c, st = result["sweep"], result["care_sweep"], result["statistics"]
    print(f"\n{result['machine']}\n")
    print(f"deadline sweep, {s['open_cases']:,} open cases ({s['overdue']:,} overdue):")
    for p in s["working_passes"]:
        print(f"  working pass {p['seconds']:.2f} s for {sum(p['warnings'].values())} warnings "
              f"({p['seconds_per_500']:.2f} s per 500)")
    print(f"  steady pass {s['steady_seconds_median'] * 1000:.1f} ms (median of {len(s['steady_seconds'])})")
    print(f"care sweep, {c['households']:,} households, {c['open_visits']:,} open visits:")
    print(f"  working pass {c['working']['seconds']:.2f} s ({c['working']['seconds_per_500']:.2f} s per 500), "
          f"steady {c['steady_seconds_median'] * 1000:.1f} ms")
    print(f"statistics {st['year']} ({st['received']:,} cases):")
    for name in ("totals", "breakdowns"):
        r = st[name]
        print(f"  {name}: gongzhi {r['gongzhi_seconds_median'] * 1000:.1f} ms, duckdb "
              f"{r['duckdb_seconds_median'] * 1000:.1f} ms, ratio {r['ratio']}, direct count "
              f"{r['direct_count_seconds_median'] * 1000:.0f} ms")
    print(f"\nsaved {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
