#!/usr/bin/env python3
"""Django-side steps of bench/intake_load.py, run as child processes against the benchmark
database (DATABASE_URL). Each prints one JSON line on stdout.

    intake_tasks.py info                      # the county, its village codes, the catalogue
    intake_tasks.py load --cases N [--open]   # bulk-load cases with gongzhi.cases.demo.generate_cases
    intake_tasks.py sweep                      # time passes of the overdue sweep
    intake_tasks.py stats --year 2026          # time the county-year statistics
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gongzhi.settings")
# The benchmarks run the demo settings on PostgreSQL: the demo SECRET_KEY is allowed there.
os.environ.setdefault("GONGZHI_DEMO", "1")

import django  # noqa: E402

django.setup()

from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from gongzhi.registry.models import Region  # noqa: E402


def county() -> Region:
    return Region.objects.filter(level=1).order_by("code").first()


def info(_args) -> dict:
    from gongzhi.cases.models import CaseCategory

    c = county()
    villages = list(Region.objects.filter(county_id=c.pk, level=3).values_list("code", "name"))
    codes = list(CaseCategory.objects.for_county(c.pk).filter(active=True).exclude(is_petition=True)
                 .values_list("code", flat=True))
    return {"county": c.code, "villages": villages, "services": codes}


def load(args) -> dict:
    """Bulk-load cases in chunks (one transaction each, bounded memory)."""
    from gongzhi.cases.demo import generate_cases

    c = county()
    now = timezone.now()
    start = dt.datetime(now.year, 1, 1, tzinfo=timezone.get_default_timezone())
    done, started = 0, time.perf_counter()
    seed = 1000
    while done < args.cases:
        n = min(args.chunk, args.cases - done)
        generate_cases(c, n, seed=seed, closed=0 if args.open else None, start=start, end=now, now=now,
                       with_events=args.events, batch_size=5000)
        done += n
        seed += 1
        rate = done / (time.perf_counter() - started)
        print(f"  loaded {done:,} cases ({rate:,.0f}/s)", file=sys.stderr, flush=True)
    seconds = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE cases_case")
        cursor.execute("SELECT count(*), count(*) FILTER (WHERE status <> 'closed') FROM cases_case")
        total, open_ = cursor.fetchone()
    return {"loaded": done, "seconds": round(seconds, 1), "cases_per_second": round(done / seconds),
            "cases_total": total, "cases_open": open_}


def sweep(args) -> dict:
    """One real pass (up to BATCH warnings of each kind), then the steady state: every open case
    already warned (as after earlier passes), so the pass only has to *find* that nothing is due."""
    from gongzhi.cases.tasks import BATCH, run_sweep

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM cases_case WHERE status <> 'closed'")
        open_ = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM cases_case WHERE status <> 'closed' AND resolution_due_at < now()")
        overdue = cursor.fetchone()[0]
    passes = []
    for _ in range(args.passes):
        started = time.perf_counter()
        counts = run_sweep()
        passes.append({"seconds": round(time.perf_counter() - started, 3), "warnings": counts})
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE cases_case SET acceptance_warned_at = now(), response_warned_at = now(), "
                       "due_soon_warned_at = now(), overdue_warned_at = now(), escalated_at = now() "
                       "WHERE status <> 'closed'")
        cursor.execute("UPDATE cases_summons SET escalated_at = now() WHERE escalated_at IS NULL")
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE cases_case")  # autocommit: VACUUM cannot run in a transaction
    steady = []
    for _ in range(3):
        started = time.perf_counter()
        counts = run_sweep()
        steady.append(round(time.perf_counter() - started, 3))
    return {"open_cases": open_, "overdue": overdue, "batch": BATCH, "passes": passes,
            "steady_state_seconds": steady}


def stats(args) -> dict:
    from django.contrib.auth import get_user_model

    from gongzhi.cases.statistics import compute_statistics

    c = county()
    user = get_user_model().objects.filter(username="county").first() or get_user_model().objects.filter(
        is_superuser=True).first()
    start, end = dt.date(args.year, 1, 1), dt.date(args.year, 12, 31)
    runs = []
    for breakdowns in (False, True, True):
        started = time.perf_counter()
        result = compute_statistics(user=user, region=c, start=start, end=end, breakdowns=breakdowns)
        runs.append({"breakdowns": breakdowns, "seconds": round(time.perf_counter() - started, 3)})
    return {"user": user.username, "year": args.year, "received": result.total.counts["received"],
            "accepted": result.total.counts["accepted"], "closure_rate": str(result.total.closure_rate),
            "runs": runs}


def main() -> int:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="task", required=True)
    sub.add_parser("info")
    p = sub.add_parser("load")
    p.add_argument("--cases", type=int, required=True)
    p.add_argument("--chunk", type=int, default=50_000)
    p.add_argument("--open", action="store_true", help="every case open (none closed)")
    p.add_argument("--events", action="store_true", help="also write the timelines")
    p = sub.add_parser("sweep")
    p.add_argument("--passes", type=int, default=2)
    p = sub.add_parser("stats")
    p.add_argument("--year", type=int, default=timezone.now().year)
    args = parser.parse_args()
    result = {"info": info, "load": load, "sweep": sweep, "stats": stats}[args.task](args)
    print(json.dumps(result, ensure_ascii=False, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
