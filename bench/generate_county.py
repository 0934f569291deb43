#!/usr/bin/env python3
"""Benchmark ``gongzhi generate`` against PostgreSQL.

Creates a dedicated database, migrates it, runs the generator in a child process and reports
wall time, rows per second and the child's peak RSS, then drops the database (``--keep`` keeps
it). Results are printed as a Markdown table and saved as JSON in bench/results/.

    .venv/bin/python bench/generate_county.py                      # 1,000,000 households
    .venv/bin/python bench/generate_county.py --households 100000  # a quicker run
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
TABLES = ["registry_region", "registry_grid", "registry_household", "registry_person",
          "registry_householdmembership", "registry_department", "registry_hostunit",
          "registry_partyorganization", "registry_partymembership", "registry_deputy",
          "registry_centralhouseholdhead", "registry_contactassignment"]


def run(cmd: list[str], env: dict) -> tuple[float, int, int]:
    """Run ``cmd``; return (wall seconds, peak RSS in KiB, exit code) of that child alone."""
    started = time.perf_counter()
    child = subprocess.Popen(cmd, env=env, cwd=ROOT)
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    return time.perf_counter() - started, usage.ru_maxrss, child.returncode


def machine() -> dict:
    info = {"python": platform.python_version(), "cores": os.cpu_count()}
    try:
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        info["cpu"] = next(line.split(":", 1)[1].strip() for line in lscpu.splitlines()
                           if line.startswith("Model name"))
    except (OSError, StopIteration):
        info["cpu"] = platform.processor() or "unknown"
    with open("/proc/meminfo") as f:
        info["memory_gib"] = round(int(f.readline().split()[1]) / 1024 / 1024, 1)
    return info


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--households", type=int, default=1_000_000)
    parser.add_argument("--size", default="million", help="generator preset giving the shape (default million)")
    parser.add_argument("--seed", type=int, default=321)
    parser.add_argument("--server", default=os.environ.get("BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432"),
                        help="PostgreSQL server URL without database name")
    parser.add_argument("--database", default="gongzhi_gen_bench")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database afterwards")
    args = parser.parse_args()

    admin_url = f"{args.server}/postgres"
    url = f"{args.server}/{args.database}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{args.database}"')
        conn.execute(f'CREATE DATABASE "{args.database}"')
        server_version = conn.execute("SHOW server_version").fetchone()[0]
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "gongzhi.settings"}
    gongzhi = [sys.executable, "-m", "gongzhi.cli"]
    try:
        seconds, _, code = run([*gongzhi, "migrate", "-v0"], env)
        if code:
            return code
        print(f"migrated in {seconds:.1f} s", flush=True)
        cmd = [*gongzhi, "generate", "--size", args.size, "--households", str(args.households),
               "--seed", str(args.seed), "--no-logins"]
        seconds, rss_kib, code = run(cmd, env)
        if code:
            return code
        with psycopg.connect(url) as conn:
            counts = {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}
            size = conn.execute("SELECT pg_size_pretty(pg_database_size(current_database()))").fetchone()[0]
    finally:
        if not args.keep:
            with psycopg.connect(admin_url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{args.database}"')

    rows = sum(counts.values())
    result = {
        "date": dt.date.today().isoformat(), "machine": {**machine(), "postgresql": server_version},
        "command": " ".join(["gongzhi", *cmd[3:]]), "households": counts["registry_household"],
        "persons": counts["registry_person"], "grids": counts["registry_grid"], "rows": rows,
        "wall_seconds": round(seconds, 1), "rows_per_second": round(rows / seconds),
        "peak_rss_mib": round(rss_kib / 1024), "database_size": size, "counts": counts,
    }
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"generate_{args.households}_{dt.datetime.now():%Y%m%d_%H%M%S}.json"
    path.write_text(json.dumps(result, indent=2))
    m = result["machine"]
    print(f"\n{m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB, PostgreSQL {m['postgresql']}, "
          f"Python {m['python']}, {result['date']}\n")
    print("| households | persons | grids | rows | wall time | rows/s | peak RSS | database size |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    print(f"| {result['households']:,} | {result['persons']:,} | {result['grids']:,} | {rows:,} | "
          f"{seconds / 60:.1f} min ({seconds:.0f} s) | {result['rows_per_second']:,} | "
          f"{result['peak_rss_mib']} MiB | {size} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
