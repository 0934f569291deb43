#!/usr/bin/env python3
"""Benchmark: classify a county of 1,000,000 households 放心/关心/连心 with reasons.

In a dedicated PostgreSQL database (created here, dropped afterwards unless ``--keep``):

1. migrate, then generate the county with ``gongzhi generate`` (the demo generator, COPY);
2. ``gongzhi classify_households --skip-plans``, first run (every household gets its class,
   reasons and a history row) — the headline figure;
3. the same again (steady state: every household recomputed, nothing changed);
4. both again from empty with ``--workers 2`` (two processes over disjoint id ranges);
5. ``gongzhi classify_households`` with care plans and first visits for red/yellow households;
6. in-process: change one household's facts and recompute it alone; time it, count its queries
   and check that no other household's class row was touched.

Each ``gongzhi`` step runs in a child process (wall time and peak RSS of that child alone).
Results are printed as a Markdown table and saved as JSON in bench/results/.

    .venv/bin/python bench/classify_county.py                       # 1,000,000 households
    .venv/bin/python bench/classify_county.py --households 100000   # a quicker run
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import psycopg

# The benchmarks run the demo settings on PostgreSQL: the demo SECRET_KEY is allowed there.
os.environ.setdefault("GONGZHI_DEMO", "1")

ROOT = Path(__file__).resolve().parent.parent
GONGZHI = str(ROOT / ".venv" / "bin" / "gongzhi")


def child(cmd: list[str], env: dict) -> dict:
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    output = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    code = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - started
    sys.stdout.write(output)
    if code:
        raise SystemExit(f"{' '.join(cmd)} failed with exit code {code}")
    return {"seconds": round(seconds, 1), "peak_rss_mib": round(usage.ru_maxrss / 1024), "output": output.strip()}


def machine() -> dict:
    info = {"python": platform.python_version(), "cores": os.cpu_count()}
    try:
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        info["cpu"] = next(line.split(":", 1)[1].strip() for line in lscpu.splitlines() if line.startswith("Model name"))
    except (OSError, StopIteration):
        info["cpu"] = platform.processor() or "unknown"
    with open("/proc/meminfo") as f:
        info["memory_gib"] = round(int(f.readline().split()[1]) / 1024 / 1024, 1)
    return info


def one_household(url: str) -> dict:
    """Change one household and recompute it alone, in this process, against the bench database."""
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gongzhi.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from gongzhi.care import services
    from gongzhi.care.models import HouseholdClass
    from gongzhi.registry.models import Household

    household = Household.objects.filter(annual_income__isnull=False).order_by("pk")[Household.objects.count() // 2]
    before = HouseholdClass.objects.exclude(pk=household.pk).order_by("-computed_at").values_list("computed_at", flat=True).first()
    Household.objects.filter(pk=household.pk).update(annual_income=1000)  # a sharp fall: watch list, red
    started = time.perf_counter()
    with CaptureQueriesContext(connection) as queries:
        row = services.household_reclassify(actor=None, household=household)
    seconds = time.perf_counter() - started
    after = HouseholdClass.objects.exclude(pk=household.pk).order_by("-computed_at").values_list("computed_at", flat=True).first()
    return {"seconds": round(seconds, 3), "queries": len(queries.captured_queries), "class": row.colour,
            "summary": row.summary[:120], "others_untouched": before == after}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--households", type=int, default=1_000_000)
    parser.add_argument("--size", default="million", help="generator preset giving the shape (default million)")
    parser.add_argument("--seed", type=int, default=321)
    parser.add_argument("--server", default=os.environ.get("BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432"))
    parser.add_argument("--database", default="gongzhi_classify_bench")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--reuse", action="store_true", help="use an already generated bench database")
    args = parser.parse_args()

    url = f"{args.server}/{args.database}"
    env = {**os.environ, "DATABASE_URL": url, "GONGZHI_LOG_LEVEL": "ERROR"}
    admin = psycopg.connect(f"{args.server}/postgres", autocommit=True)
    results: dict = {"date": dt.datetime.now().isoformat(timespec="seconds"), "machine": machine(),
                     "households": args.households}
    try:
        if not args.reuse:
            admin.execute(f'DROP DATABASE IF EXISTS "{args.database}"')
            admin.execute(f'CREATE DATABASE "{args.database}"')
            child([GONGZHI, "migrate", "-v0"], env)
            results["generate"] = child([GONGZHI, "generate", "--size", args.size, "--households",
                                         str(args.households), "--seed", str(args.seed), "--no-logins"], env)
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("DELETE FROM care_householdclasschange")
            conn.execute("DELETE FROM care_householdclass")
            conn.execute("VACUUM ANALYZE")
        classify = [GONGZHI, "classify_households", "--skip-plans"]
        results["classify_first"] = child(classify, env)
        results["classify_again"] = child(classify, env)
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("DELETE FROM care_householdclasschange")
            conn.execute("DELETE FROM care_householdclass")
            conn.execute("VACUUM ANALYZE care_householdclass")
            conn.execute("VACUUM ANALYZE care_householdclasschange")
        results["classify_first_2_workers"] = child(classify + ["--workers", "2"], env)
        results["classify_again_2_workers"] = child(classify + ["--workers", "2"], env)
        results["classify_with_plans"] = child([GONGZHI, "classify_households"], env)
        with psycopg.connect(url) as conn:
            counts = conn.execute("""SELECT count(*), count(*) FILTER (WHERE jsonb_array_length(reasons) = 0),
                                            (SELECT count(*) FROM registry_household),
                                            (SELECT count(*) FROM care_careplan WHERE ended_on IS NULL),
                                            (SELECT count(*) FROM care_visit WHERE done_at IS NULL AND NOT cancelled)
                                     FROM care_householdclass""").fetchone()
            by_colour = dict(conn.execute("SELECT colour, count(*) FROM care_householdclass GROUP BY 1").fetchall())
        results["classes"] = {"rows": counts[0], "without_reasons": counts[1], "households": counts[2],
                              "active_plans": counts[3], "open_visits": counts[4], "by_colour": by_colour}
        results["one_household"] = subprocess_one(url)
    finally:
        if not args.keep:
            admin.execute(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')
        admin.close()

    out_dir = ROOT / "bench" / "results"
    out_dir.mkdir(exist_ok=True)
    path = out_dir / f"classify_county_{args.households}.json"
    path.write_text(json.dumps(results, ensure_ascii=False, indent=2))
    m = results["machine"]
    print(f"\nmachine: {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB, Python {m['python']}")
    print("| step | wall time | peak RSS |\n|---|---|---|")
    for key in ("generate", "classify_first", "classify_again", "classify_first_2_workers",
                "classify_again_2_workers", "classify_with_plans"):
        if key in results:
            r = results[key]
            print(f"| {key} | {r['seconds']} s | {r['peak_rss_mib']} MiB |")
    print(f"classes: {results['classes']}")
    print(f"one household: {results['one_household']}")
    print(f"saved {path.relative_to(ROOT)}")
    return 0


def subprocess_one(url: str) -> dict:
    """Run ``one_household`` in a fresh interpreter (Django settings read DATABASE_URL at import)."""
    code = f"import json, sys; sys.path.insert(0, {str(ROOT / 'bench')!r}); import classify_county as b; " \
           f"print(json.dumps(b.one_household({url!r})))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         env={**os.environ, "GONGZHI_LOG_LEVEL": "ERROR"})
    if out.returncode:
        raise SystemExit(out.stderr)
    return json.loads(out.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    raise SystemExit(main())
