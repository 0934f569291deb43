#!/usr/bin/env python3
"""Intake under load: one command, bounded in time.

1. Creates a PostgreSQL database, migrates it, generates a small county (``gongzhi generate``)
   and a backlog of open cases (so the deadline sweep has real work).
2. Starts gunicorn (the production server: gthread workers) on 127.0.0.1.
3. The framework's ceiling: client threads GET ``/r/ping`` for ``--duration`` seconds.
4. Intake: client threads POST Open311 ``requests.json`` with an ``Idempotency-Key`` each, for
   ``--duration`` seconds, while ``gongzhi sweep_deadlines --loop`` runs beside them. Deliberate
   retries: a share of submissions is sent again with the same key (retry), some twice at the
   same moment (racing duplicates), some with a client timeout so short the answer is lost and
   the client retries. Afterwards every acknowledged submission is checked in the database:
   present exactly once, under the key it was sent with, with the number the client was told.
5. Scale: bulk-loads cases up to ``--cases`` (default 1,000,000, all open) and times the overdue
   sweep and the county-year statistics query.
6. Drops the database (``--keep`` keeps it), prints a Markdown summary, saves JSON in bench/results/.

    .venv/bin/python bench/intake_load.py                       # the full run (≈ 15–25 min)
    .venv/bin/python bench/intake_load.py --cases 50000 --duration 15   # a quick one
"""
from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid
from pathlib import Path

import psycopg

# The benchmarks run the demo settings on PostgreSQL: the demo SECRET_KEY is allowed there.
os.environ.setdefault("GONGZHI_DEMO", "1")

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate_county import machine  # noqa: E402


def log(message: str) -> None:
    print(f"[{dt.datetime.now():%H:%M:%S}] {message}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_task(env, *args, timeout=None) -> dict:
    # The working tree is shared: another app may have gained a migration since the start.
    subprocess.run([PY, "-m", "gongzhi.cli", "migrate", "-v0"], env=env, cwd=ROOT, check=True)
    out = subprocess.run([PY, str(ROOT / "bench" / "intake_tasks.py"), *args], env=env, cwd=ROOT, check=True,
                         stdout=subprocess.PIPE, timeout=timeout)
    return json.loads(out.stdout.decode().strip().splitlines()[-1])


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    k = max(0, min(len(values) - 1, round(p / 100 * (len(values) - 1))))
    return values[k]


# ---------------------------------------------------------------------------------------------
# HTTP clients


class Conn:
    """One keep-alive connection per client thread (reconnects after errors)."""

    def __init__(self, port: int, timeout: float = 30):
        self.port, self.timeout, self.c = port, timeout, None

    def request(self, method, path, body=None, headers=None, timeout=None):
        if self.c is None:
            self.c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
        try:
            self.c.request(method, path, body=body, headers=headers or {})
            if timeout is not None:
                self.c.sock.settimeout(timeout)
            response = self.c.getresponse()
            data = response.read()
            if timeout is not None:
                self.c.sock.settimeout(self.timeout)
            return response.status, dict(response.getheaders()), data
        except Exception:
            self.close()
            raise

    def close(self):
        if self.c is not None:
            self.c.close()
        self.c = None


def ping_phase(port: int, threads: int, duration: float) -> dict:
    stop = time.monotonic() + duration
    latencies: list[list[float]] = [[] for _ in range(threads)]
    errors = [0]

    def worker(i):
        conn = Conn(port)
        while time.monotonic() < stop:
            t = time.perf_counter()
            try:
                status, _, _ = conn.request("GET", "/r/ping")
                if status != 200:
                    errors[0] += 1
                    continue
            except Exception:
                errors[0] += 1
                continue
            latencies[i].append(time.perf_counter() - t)
        conn.close()

    started = time.perf_counter()
    ts = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    elapsed = time.perf_counter() - started
    all_ = [x for part in latencies for x in part]
    return {"requests": len(all_), "seconds": round(elapsed, 1), "per_second": round(len(all_) / elapsed, 1),
            "p50_ms": round(percentile(all_, 50) * 1000, 1), "p99_ms": round(percentile(all_, 99) * 1000, 1),
            "errors": errors[0]}


class Intake:
    """Open311 submissions with Idempotency-Keys and deliberate retries."""

    def __init__(self, port, info, *, retry_rate, race_rate, timeout_rate, seed=7):
        self.port, self.info = port, info
        self.retry_rate, self.race_rate, self.timeout_rate = retry_rate, race_rate, timeout_rate
        self.lock = threading.Lock()
        self.acked: dict[str, str] = {}  # key → service_request_id the client was told
        self.latencies: list[float] = []
        self.stats = {"submitted": 0, "retries": 0, "races": 0, "lost_answers": 0, "replayed": 0, "errors": 0,
                      "mismatched_replays": 0, "rate_limited": 0}
        self.rng = random.Random(seed)

    def body(self, rng) -> str:
        code, name = rng.choice(self.info["villages"])
        fields = {"service_code": rng.choice(self.info["services"]), "address_id": code,
                  "description": f"{name}群众反映：{rng.choice(['路灯坏了', '自来水停了', '垃圾没人清运', '道路塌方', '邻居噪音'])}"
                                 f"（{rng.randrange(10**6)}）",
                  "first_name": "建国", "last_name": rng.choice("王李张刘陈杨"), "phone": f"13{rng.randrange(10**9):09d}"}
        if rng.random() < 0.5:
            fields["lat"] = f"{32.8 + rng.random() / 10:.6f}"
            fields["long"] = f"{108.4 + rng.random() / 10:.6f}"
        return urllib.parse.urlencode(fields)

    def post(self, conn, key, body, timeout=None):
        return conn.request("POST", "/open311/v2/requests.json", body=body, timeout=timeout, headers={
            "Content-Type": "application/x-www-form-urlencoded", "Idempotency-Key": key})

    def ack(self, key, status, headers, data):
        if status != 201:
            with self.lock:
                self.stats["errors"] += 1
                if status == 429:
                    self.stats["rate_limited"] += 1
            return None
        number = json.loads(data)[0]["service_request_id"]
        with self.lock:
            if key in self.acked and self.acked[key] != number:
                self.stats["mismatched_replays"] += 1
            self.acked.setdefault(key, number)
            if headers.get("Idempotent-Replayed") == "true":
                self.stats["replayed"] += 1
        return data

    def until_acked(self, conn, key, body, first_timeout=None) -> bytes | None:
        """Send until the server answers (a lost answer is retried with the same key)."""
        timeout = first_timeout
        for _attempt in range(20):
            try:
                status, headers, data = self.post(conn, key, body, timeout=timeout)
            except (TimeoutError, socket.timeout, OSError, http.client.HTTPException):
                with self.lock:
                    self.stats["lost_answers"] += 1
                timeout = None
                continue
            return self.ack(key, status, headers, data)
        return None

    def run(self, threads, duration) -> dict:
        stop = time.monotonic() + duration

        def worker(i):
            rng = random.Random(1000 + i)
            conn = Conn(self.port)
            while time.monotonic() < stop:
                key, body = f"bench-{uuid.uuid4()}", self.body(rng)
                roll = rng.random()
                t = time.perf_counter()
                if roll < self.race_rate:  # the same submission twice at once (a double tap racing)
                    other, results = Conn(self.port), []
                    twin = threading.Thread(target=lambda: results.append(self.until_acked(other, key, body)))
                    twin.start()
                    first = self.until_acked(conn, key, body)
                    twin.join()
                    other.close()
                    with self.lock:
                        self.stats["races"] += 1
                        if results and first is not None and results[0] is not None and results[0] != first:
                            self.stats["mismatched_replays"] += 1
                elif roll < self.race_rate + self.timeout_rate:  # the answer is lost: retry after a timeout
                    first = self.until_acked(conn, key, body, first_timeout=0.002)
                else:
                    first = self.until_acked(conn, key, body)
                elapsed = time.perf_counter() - t
                with self.lock:
                    self.stats["submitted"] += 1
                    self.latencies.append(elapsed)
                if first is not None and rng.random() < self.retry_rate:  # a plain retry of an answered request
                    again = self.until_acked(conn, key, body)
                    with self.lock:
                        self.stats["retries"] += 1
                        if again != first:
                            self.stats["mismatched_replays"] += 1
            conn.close()

        started = time.perf_counter()
        ts = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        elapsed = time.perf_counter() - started
        return {**self.stats, "acknowledged": len(self.acked), "seconds": round(elapsed, 1),
                "per_second": round(len(self.acked) / elapsed, 1),
                "p50_ms": round(percentile(self.latencies, 50) * 1000, 1),
                "p99_ms": round(percentile(self.latencies, 99) * 1000, 1)}


class LockSampler(threading.Thread):
    """Samples pg_stat_activity twice a second: how many backends of the benchmark database are
    running, and how many wait for a lock (and on which relation, when it is a row lock)."""

    def __init__(self, url: str, database: str):
        super().__init__(daemon=True)
        self.url, self.database, self.stop, self.samples = url, database, threading.Event(), []

    def run(self):
        with psycopg.connect(self.url, autocommit=True) as conn:
            while not self.stop.wait(0.5):
                rows = conn.execute(
                    "SELECT a.state, a.wait_event_type, a.wait_event, left(a.query, 60) FROM pg_stat_activity a "
                    "WHERE a.datname = %s AND a.pid <> pg_backend_pid()", [self.database]).fetchall()
                active = [r for r in rows if r[0] == "active"]
                waiting = [r for r in active if r[1] == "Lock"]
                on_sequence = [r for r in waiting if "casenumbersequence" in (r[3] or "")]
                self.samples.append((len(active), len(waiting), len(on_sequence)))

    def summary(self) -> dict:
        if not self.samples:
            return {}
        n = len(self.samples)
        return {"samples": n, "active_backends_avg": round(sum(s[0] for s in self.samples) / n, 2),
                "waiting_on_locks_avg": round(sum(s[1] for s in self.samples) / n, 2),
                "waiting_on_case_number_avg": round(sum(s[2] for s in self.samples) / n, 2)}


def verify(url: str, acked: dict[str, str], since: dt.datetime) -> dict:
    """Every acknowledged submission is in the database exactly once, as the client was told."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT k.key, c.number FROM intake_idempotencykey k LEFT JOIN cases_case c ON c.id = k.case_id "
            "WHERE k.scope = 'open311:anon' AND k.key LIKE 'bench-%%'").fetchall()
        stored = dict(rows)
        numbers = [n for _, n in rows]
        cases = conn.execute(
            "SELECT count(*), count(DISTINCT c.number) FROM cases_case c JOIN intake_intakesubmission s "
            "ON s.case_id = c.id WHERE c.channel = 'open311' AND c.received_at >= %s", [since]).fetchone()
        events = conn.execute(
            "SELECT count(*) FROM cases_caseevent e JOIN intake_intakesubmission s ON s.case_id = e.case_id "
            "WHERE e.kind = 'register' AND s.created_at >= %s", [since]).fetchone()[0]
    missing = [k for k in acked if k not in stored]
    wrong = [k for k, n in acked.items() if k in stored and stored[k] != n]
    return {"acknowledged": len(acked), "keys_in_db": len(stored), "cases_in_db": cases[0],
            "distinct_numbers": cases[1], "register_events": events, "missing": len(missing),
            "wrong_number": len(wrong), "unacknowledged_in_db": len(set(stored) - set(acked)),
            "duplicate_cases": len(numbers) - len(set(numbers)),
            "ok": not missing and not wrong and cases[0] == len(acked) == cases[1] == events}


# ---------------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--server", default=os.environ.get("BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432"))
    parser.add_argument("--database", default="gongzhi_intake_bench")
    parser.add_argument("--duration", type=float, default=60, help="seconds per HTTP phase")
    parser.add_argument("--clients", type=int, default=16, help="client threads")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker")
    parser.add_argument("--backlog", type=int, default=20_000, help="open cases before the HTTP phases")
    parser.add_argument("--cases", type=int, default=1_000_000, help="cases for the sweep and statistics (0: skip)")
    parser.add_argument("--retry-rate", type=float, default=0.05)
    parser.add_argument("--race-rate", type=float, default=0.02)
    parser.add_argument("--timeout-rate", type=float, default=0.02)
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    parser.add_argument("--no-sweep", action="store_true", help="intake without the concurrent sweep")
    parser.add_argument("--repeat-intake", action="store_true",
                        help="after the intake phase, run it again without the sweep, for comparison")
    args = parser.parse_args()

    admin_url, url = f"{args.server}/postgres", f"{args.server}/{args.database}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{args.database}"')
        conn.execute(f'CREATE DATABASE "{args.database}"')
        pg_version = conn.execute("SHOW server_version").fetchone()[0]
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "gongzhi.settings", "GONGZHI_DEBUG": "0",
           "GONGZHI_INTAKE_RATE_LIMITS_ENABLED": "0", "GONGZHI_EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
           "GONGZHI_SMS_BACKEND": "gongzhi.cases.notifications.LocmemSMSBackend", "PYTHONUNBUFFERED": "1"}
    env.pop("CELERY_BROKER_URL", None)  # in-process tasks, as in the demo
    server = sweeper = None
    result: dict = {"date": dt.date.today().isoformat(), "machine": {**machine(), "postgresql": pg_version},
                    "command": " ".join(["bench/intake_load.py", *sys.argv[1:]]), "settings": vars(args) | {
                        "server": "(redacted)"}}
    logdir = ROOT / "bench" / "results"
    logdir.mkdir(parents=True, exist_ok=True)
    try:
        log("migrate")
        subprocess.run([PY, "-m", "gongzhi.cli", "migrate", "-v0"], env=env, cwd=ROOT, check=True)
        log("generate a small county")
        subprocess.run([PY, "-m", "gongzhi.cli", "generate", "--seed", "321"], env=env, cwd=ROOT, check=True,
                       stdout=subprocess.DEVNULL)
        if args.backlog:
            log(f"backlog of {args.backlog:,} open cases")
            result["backlog"] = run_task(env, "load", "--cases", str(args.backlog), "--open")
        info = run_task(env, "info")
        port = free_port()
        log(f"gunicorn on 127.0.0.1:{port}: {args.workers} workers × {args.threads} threads")
        server_log = open(logdir / "intake_gunicorn.log", "w")
        server = subprocess.Popen(
            [PY, "-m", "gunicorn", "gongzhi.wsgi:application", "--bind", f"127.0.0.1:{port}", "--workers",
             str(args.workers), "--worker-class", "gthread", "--threads", str(args.threads), "--keep-alive", "30",
             "--timeout", "60", "--log-level", "warning"], env=env, cwd=ROOT, stdout=server_log, stderr=server_log,
            start_new_session=True)
        for _ in range(100):
            try:
                http.client.HTTPConnection("127.0.0.1", port, timeout=2).request("GET", "/r/ping")
                break
            except OSError:
                time.sleep(0.2)
        warm = Conn(port)
        for _ in range(50):
            warm.request("GET", "/r/ping")
            warm.request("GET", "/open311/v2/services.json")
        warm.close()

        log(f"framework ceiling: GET /r/ping, {args.clients} clients, {args.duration:.0f} s")
        result["ping"] = ping_phase(port, args.clients, args.duration)
        log(f"  {result['ping']}")

        log(f"intake: POST /open311/v2/requests.json with Idempotency-Keys, sweep running, {args.duration:.0f} s")
        since = dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=5)
        sweep_log = open(logdir / "intake_sweep.log", "w")
        if not args.no_sweep:
            sweeper = subprocess.Popen([PY, "-m", "gongzhi.cli", "sweep_deadlines", "--loop", "1"], env=env,
                                       cwd=ROOT, stdout=sweep_log, stderr=sweep_log, start_new_session=True)
        intake = Intake(port, info, retry_rate=args.retry_rate, race_rate=args.race_rate,
                        timeout_rate=args.timeout_rate)
        sampler = LockSampler(url, args.database)
        sampler.start()
        result["intake"] = intake.run(args.clients, args.duration)
        sampler.stop.set()
        result["intake"]["locks"] = sampler.summary()
        if sweeper is not None:
            os.killpg(sweeper.pid, signal.SIGTERM)
            sweeper.wait(timeout=30)
            sweeper = None
        sweep_log.close()
        passes = (logdir / "intake_sweep.log").read_text().count("sweep:")
        result["intake"]["sweep_passes_during_intake"] = passes
        result["intake"]["sweep_running"] = not args.no_sweep
        log(f"  {result['intake']}")
        if args.repeat_intake and not args.no_sweep:
            log(f"intake again without the sweep, {args.duration:.0f} s")
            again = Intake(port, info, retry_rate=args.retry_rate, race_rate=args.race_rate,
                           timeout_rate=args.timeout_rate, seed=8)
            sampler = LockSampler(url, args.database)
            sampler.start()
            result["intake_without_sweep"] = again.run(args.clients, args.duration)
            sampler.stop.set()
            result["intake_without_sweep"]["locks"] = sampler.summary()
            log(f"  {result['intake_without_sweep']}")
            intake.acked.update(again.acked)
        result["ratio"] = round(result["intake"]["per_second"] / result["ping"]["per_second"], 4)
        result["verify"] = verify(url, intake.acked, since)
        log(f"  verify: {result['verify']}")
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        server = None

        if args.cases:
            need = args.cases - (args.backlog or 0) - result["verify"]["acknowledged"]
            if need > 0:
                log(f"bulk-load to {args.cases:,} cases (generate_cases, all open)")
                result["bulk_load"] = run_task(env, "load", "--cases", str(need), "--open")
                log(f"  {result['bulk_load']}")
            log("overdue sweep at scale")
            result["sweep"] = run_task(env, "sweep")
            log(f"  {result['sweep']}")
            log("county-year statistics at scale")
            result["stats"] = run_task(env, "stats")
            log(f"  {result['stats']}")
            with psycopg.connect(url) as conn:
                result["database_size"] = conn.execute(
                    "SELECT pg_size_pretty(pg_database_size(current_database()))").fetchone()[0]
    finally:
        for proc in (sweeper, server):
            if proc is not None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                    proc.wait(timeout=30)
                except (ProcessLookupError, subprocess.TimeoutExpired):
                    pass
        if not args.keep:
            with psycopg.connect(admin_url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')

    path = logdir / f"intake_load_{dt.datetime.now():%Y%m%d_%H%M%S}.json"
    path.write_text(json.dumps(result, indent=2, ensure_ascii=False, default=str))
    m = result["machine"]
    p, i, v = result["ping"], result["intake"], result["verify"]
    print(f"\n{m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB, PostgreSQL {m['postgresql']}, "
          f"Python {m['python']}, {result['date']}\n")
    print("| phase | requests | per second | p50 | p99 |")
    print("|---|---:|---:|---:|---:|")
    print(f"| GET /r/ping (ceiling) | {p['requests']:,} | {p['per_second']:,} | {p['p50_ms']} ms | {p['p99_ms']} ms |")
    print(f"| POST Open311 requests (new cases, sweep running) | {i['acknowledged']:,} | {i['per_second']:,} | "
          f"{i['p50_ms']} ms | {i['p99_ms']} ms |")
    if "intake_without_sweep" in result:
        w = result["intake_without_sweep"]
        print(f"| POST Open311 requests (new cases, no sweep) | {w['acknowledged']:,} | {w['per_second']:,} | "
              f"{w['p50_ms']} ms | {w['p99_ms']} ms |")
    print(f"\nratio intake / ceiling: {result['ratio']:.1%}; retries {i['retries']}, races {i['races']}, "
          f"lost answers {i['lost_answers']}, replays {i['replayed']}, mismatched {i['mismatched_replays']}, "
          f"errors {i['errors']}; verify: {'OK' if v['ok'] else 'FAILED'} {v}")
    if "sweep" in result:
        print(f"sweep at {result['sweep']['open_cases']:,} open cases: {result['sweep']}")
        print(f"statistics: {result['stats']}")
    print(f"\nsaved {path}")
    return 0 if v["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
