#!/usr/bin/env python3
"""Intake under load: one command, bounded in time.

1. Creates a PostgreSQL database, migrates it, generates a small county (``gongzhi generate``)
   and a backlog of open cases (so the deadline sweep has real work).
2. Starts gunicorn (the production server: gthread workers) on 127.0.0.1 and, as in production, a
   Celery worker on Redis (``--broker``; niced, ``--worker-concurrency`` processes) that
   registers the Open311 receipts the requests write.
3. For each client level of ``--clients`` (16 and 50): the framework's ceiling — client threads
   GET ``/r/ping`` for ``--duration`` seconds — then intake: the same number of client threads
   POST Open311 ``requests.json`` with an ``Idempotency-Key`` each, for ``--duration`` seconds,
   while ``gongzhi sweep_deadlines --loop`` runs beside them. Deliberate retries: a share of
   submissions is sent again with the same key (retry), some twice at the same moment (racing
   duplicates), some with a client timeout so short the answer is lost and the client retries.
   ``pg_stat_activity`` is sampled twice a second (wait events); ``--py-spy`` samples the
   workers. Afterwards the run waits until the worker has registered every receipt (the drain
   time is reported) and checks every acknowledged submission in the database: its receipt
   present exactly once under the key it was sent with and the token the client was told,
   registered as exactly one numbered case with the receipt's tracking code and token.
4. The peer row: django-helpdesk (``bench/helpdesk_peer/``, its own virtualenv ``.venv-helpdesk``)
   under the same gunicorn settings and client levels: its own trivial view, then tickets through
   its public submission form; every ticket answered 302 must be in its database.
5. Scale: bulk-loads cases up to ``--cases`` (default 1,000,000, all open) and times the overdue
   sweep and the county-year statistics query.
6. Drops the databases (``--keep`` keeps them), prints a Markdown summary, saves JSON in bench/results/.

    .venv/bin/python bench/intake_load.py                       # the full run (≈ 15–25 min)
    .venv/bin/python bench/intake_load.py --cases 50000 --duration 15   # a quick one
    .venv/bin/python bench/intake_load.py --cases 0 --duration 20       # intake and the peer only
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


def ping_phase(port: int, threads: int, duration: float, path: str = "/r/ping") -> dict:
    stop = time.monotonic() + duration
    latencies: list[list[float]] = [[] for _ in range(threads)]
    errors = [0]

    def worker(i):
        conn = Conn(port)
        while time.monotonic() < stop:
            t = time.perf_counter()
            try:
                status, _, _ = conn.request("GET", path)
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
        self.acked: dict[str, str] = {}  # key → the receipt's token the client was told
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
        token = json.loads(data)[0]["token"]  # the receipt (the case number comes from tokens/ later)
        with self.lock:
            if key in self.acked and self.acked[key] != token:
                self.stats["mismatched_replays"] += 1
            self.acked.setdefault(key, token)
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
        self.events: dict[str, int] = {}

    def run(self):
        with psycopg.connect(self.url, autocommit=True) as conn:
            while not self.stop.wait(0.5):
                rows = conn.execute(
                    "SELECT a.state, a.wait_event_type, a.wait_event, left(a.query, 60) FROM pg_stat_activity a "
                    "WHERE a.datname = %s AND a.pid <> pg_backend_pid()", [self.database]).fetchall()
                active = [r for r in rows if r[0] == "active"]
                waiting = [r for r in active if r[1] == "Lock"]
                on_sequence = [r for r in waiting if "casenumbersequence" in (r[3] or "")
                               or "cases_number_pending" in (r[3] or "")]
                self.samples.append((len(active), len(waiting), len(on_sequence)))
                for r in active:
                    what = f"{r[1]}:{r[2]}" if r[1] else "CPU (no wait event)"
                    self.events[what] = self.events.get(what, 0) + 1

    def summary(self) -> dict:
        if not self.samples:
            return {}
        n = len(self.samples)
        return {"samples": n, "active_backends_avg": round(sum(s[0] for s in self.samples) / n, 2),
                "waiting_on_locks_avg": round(sum(s[1] for s in self.samples) / n, 2),
                "waiting_on_case_number_avg": round(sum(s[2] for s in self.samples) / n, 2),
                "active_by_wait_event_avg": {k: round(v / n, 2) for k, v in
                                             sorted(self.events.items(), key=lambda kv: -kv[1])[:8]}}


def wait_for_registration(url: str, timeout: float) -> dict:
    """Wait until the worker has registered every receipt; how long that took after the load."""
    started = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as conn:
        first = conn.execute("SELECT count(*) FROM intake_receivedsubmission WHERE state = 'received'").fetchone()[0]
        left = first
        while left and time.perf_counter() - started < timeout:
            time.sleep(1)
            left = conn.execute("SELECT count(*) FROM intake_receivedsubmission WHERE state = 'received'").fetchone()[0]
        span = conn.execute("SELECT count(*), extract(epoch FROM max(registered_at) - min(registered_at)) "
                            "FROM intake_receivedsubmission WHERE state = 'registered'").fetchone()
    seconds = time.perf_counter() - started
    return {"waiting_after_load": first, "left": left, "drain_seconds": round(seconds, 1),
            "registered": span[0], "registered_per_second_overall": round(span[0] / float(span[1]), 1)
            if span[1] else None}


def verify(url: str, acked: dict[str, str], since: dt.datetime) -> dict:
    """Every acknowledged submission is in the database exactly once, as the client was told:
    its receipt under the key it was sent with, with the token it was given, registered as one
    case that carries the receipt's tracking code and token, numbered, with its first step."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT r.key, r.token, r.state, c.number, c.tracking_code = r.tracking_code, s.token = r.token "
            "FROM intake_receivedsubmission r LEFT JOIN cases_case c ON c.id = r.case_id "
            "LEFT JOIN intake_intakesubmission s ON s.case_id = c.id "
            "WHERE r.scope = 'open311:anon' AND r.key LIKE 'bench-%%'").fetchall()
        stored = {r[0]: r for r in rows}
        numbers = [r[3] for r in rows if r[3]]
        cases = conn.execute(
            "SELECT count(*), count(DISTINCT c.number) FROM cases_case c JOIN intake_intakesubmission s "
            "ON s.case_id = c.id WHERE c.channel = 'open311' AND c.received_at >= %s", [since]).fetchone()
        events = conn.execute(
            "SELECT count(*) FROM cases_caseevent e JOIN intake_intakesubmission s ON s.case_id = e.case_id "
            "WHERE e.kind = 'register' AND s.created_at >= %s", [since]).fetchone()[0]
    missing = [k for k in acked if k not in stored]
    wrong = [k for k, token in acked.items() if k in stored and stored[k][1] != token]
    unregistered = [k for k in acked if k in stored and (stored[k][2] != "registered" or not stored[k][3])]
    mismatched = [k for k in acked if k in stored and stored[k][3] and not (stored[k][4] and stored[k][5])]
    return {"acknowledged": len(acked), "receipts_in_db": len(stored), "cases_in_db": cases[0],
            "distinct_numbers": cases[1], "register_events": events, "missing": len(missing),
            "wrong_token": len(wrong), "not_registered": len(unregistered), "case_differs_from_receipt": len(mismatched),
            "unacknowledged_in_db": len(set(stored) - set(acked)),
            "duplicate_cases": len(numbers) - len(set(numbers)),
            "ok": not missing and not wrong and not unregistered and not mismatched
            and cases[0] == len(acked) == cases[1] == events}


# ---------------------------------------------------------------------------------------------


# ---------------------------------------------------------------------------------------------
# the peer: django-helpdesk creating tickets (bench/helpdesk_peer/), same server settings

PEER_DIR = ROOT / "bench" / "helpdesk_peer"
PEER_VENV = ROOT / ".venv-helpdesk"


def peer_python() -> Path:
    """The peer's own virtualenv (django-helpdesk is never a dependency of Gongzhi)."""
    python = PEER_VENV / "bin" / "python"
    if PEER_VENV.is_symlink() and not PEER_VENV.exists():  # left pointing at a removed checkout
        PEER_VENV.unlink()
    if not python.exists():
        log(f"creating {PEER_VENV.name} for django-helpdesk")
        subprocess.run([getattr(sys, "_base_executable", sys.executable), "-m", "venv", str(PEER_VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "-r", str(PEER_DIR / "requirements.txt")],
                       check=True)
    return python


def start_gunicorn(python, app: str, port: int, args, env, cwd, logfile):
    server = subprocess.Popen(
        [str(python), "-m", "gunicorn", app, "--bind", f"127.0.0.1:{port}", "--workers", str(args.workers),
         "--worker-class", "gthread", "--threads", str(args.threads), "--keep-alive", "30", "--timeout", "60",
         "--log-level", "warning"], env=env, cwd=cwd, stdout=logfile, stderr=logfile, start_new_session=True)
    for _ in range(150):
        try:
            http.client.HTTPConnection("127.0.0.1", port, timeout=2).request("GET", "/")
            break
        except OSError:
            time.sleep(0.2)
    return server


def ticket_phase(port: int, threads: int, duration: float, seed: int) -> dict:
    """POST helpdesk's public ticket form (its CSRF-exempt iframe view); 302 = ticket created."""
    stop = time.monotonic() + duration
    latencies: list[list[float]] = [[] for _ in range(threads)]
    errors = [0]

    def worker(i):
        rng, conn = random.Random(seed * 1000 + i), Conn(port)
        while time.monotonic() < stop:
            body = urllib.parse.urlencode({
                "queue": "1", "priority": "3", "submitter_email": f"r{rng.randrange(10**6)}@example.cn",
                "title": f"群众反映：{rng.choice(['路灯坏了', '自来水停了', '垃圾没人清运'])}",
                "body": f"村口{rng.choice(['路灯坏了', '自来水停了', '垃圾没人清运'])}（{rng.randrange(10**6)}）"})
            t = time.perf_counter()
            try:
                status, _, _ = conn.request("POST", "/tickets/submit_iframe/", body=body, headers={
                    "Content-Type": "application/x-www-form-urlencoded"})
            except Exception:
                errors[0] += 1
                continue
            if status != 302:
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
    return {"acknowledged": len(all_), "seconds": round(elapsed, 1), "per_second": round(len(all_) / elapsed, 1),
            "p50_ms": round(percentile(all_, 50) * 1000, 1), "p99_ms": round(percentile(all_, 99) * 1000, 1),
            "errors": errors[0]}


def peer_run(args, levels: list[int]) -> dict:
    python = peer_python()
    admin_url, url = f"{args.server}/postgres", f"{args.server}/{args.peer_database}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{args.peer_database}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{args.peer_database}"')
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "GONGZHI_"))}
    env |= {"DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "peer.settings", "PYTHONUNBUFFERED": "1"}
    server = None
    out: dict = {"version": subprocess.run([str(python), "-c", "import importlib.metadata as m;"
                                            "print(m.version('django-helpdesk'), m.version('django'))"],
                                           stdout=subprocess.PIPE, text=True, check=True).stdout.split(),
                 "levels": []}
    try:
        subprocess.run([str(python), "manage.py", "migrate", "-v0"], env=env, cwd=PEER_DIR, check=True)
        subprocess.run([str(python), "manage.py", "shell", "-c",
                        "from helpdesk.models import Queue; Queue.objects.get_or_create(slug='residents', "
                        "defaults={'title': '群众诉求', 'allow_public_submission': True})"],
                       env=env, cwd=PEER_DIR, check=True, stdout=subprocess.DEVNULL)
        port = free_port()
        log(f"peer: django-helpdesk {out['version'][0]} under gunicorn on 127.0.0.1:{port}")
        server_log = open(ROOT / "bench" / "results" / "intake_helpdesk_gunicorn.log", "w")
        server = start_gunicorn(python, "peer.wsgi:application", port, args, env, PEER_DIR, server_log)
        warm = Conn(port)
        for _ in range(50):
            warm.request("GET", "/ping")
        warm.close()
        acked = 0
        for n in levels:
            log(f"peer ceiling: GET /ping, {n} clients")
            ping = ping_phase(port, n, args.duration, path="/ping")
            log(f"peer tickets: POST tickets/submit_iframe/, {n} clients")
            tickets = ticket_phase(port, n, args.duration, seed=n)
            acked += tickets["acknowledged"]
            out["levels"].append({"clients": n, "ping": ping, "tickets": tickets,
                                  "ratio": round(tickets["per_second"] / ping["per_second"], 4)})
            log(f"  {out['levels'][-1]}")
        with psycopg.connect(url) as conn:
            stored = conn.execute("SELECT count(*) FROM helpdesk_ticket").fetchone()[0]
        out["verify"] = {"acknowledged": acked, "tickets_in_db": stored, "ok": stored == acked}
    finally:
        if server is not None:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
        if not args.keep:
            with psycopg.connect(admin_url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{args.peer_database}" WITH (FORCE)')
    return out


# ---------------------------------------------------------------------------------------------


def profile_summary(raw: Path, top: int = 12) -> dict:
    """py-spy's collapsed stacks → the share of on-CPU samples per leaf function and in a few
    places that matter (the database driver, template rendering, JSON, logging)."""
    leaves: dict[str, int] = {}
    total, inside = 0, {"psycopg": 0, "django/db": 0, "gongzhi": 0, "django/template": 0, "gunicorn": 0}
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        n = int(count)
        total += n
        frames = stack.split(";")
        leaf = frames[-1].split(" (")[0] + " (" + frames[-1].split(" (")[-1] if frames else "?"
        leaves[leaf] = leaves.get(leaf, 0) + n
        for key in inside:
            if key in stack:
                inside[key] += n
    if not total:
        return {}
    return {"samples": total, "share_of_samples_in": {k: round(v / total, 3) for k, v in inside.items()},
            "top_leaf_functions": [(k, round(v / total, 3)) for k, v in
                                   sorted(leaves.items(), key=lambda kv: -kv[1])[:top]]}


def intake_phase(args, port, info, url, env, logdir, n: int, seed: int, server_pid: int | None = None
                 ) -> tuple[dict, dict]:
    """Open311 submissions from ``n`` clients for ``--duration`` seconds, the sweep running beside."""
    sweeper = spy = None
    raw = logdir / f"intake_py_spy_{n}.txt"
    spy_bin = Path(PY).parent / "py-spy"
    if args.py_spy and server_pid and spy_bin.exists():
        spy = subprocess.Popen([str(spy_bin), "record", "--pid", str(server_pid), "--subprocesses", "--format", "raw",
                                "--duration", str(int(max(1, args.duration - 2))), "--rate", "200", "--output",
                                str(raw), "--nonblocking"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    sweep_log = open(logdir / "intake_sweep.log", "w")
    if not args.no_sweep:
        sweeper = subprocess.Popen([PY, "-m", "gongzhi.cli", "sweep_deadlines", "--loop", "1"], env=env,
                                   cwd=ROOT, stdout=sweep_log, stderr=sweep_log, start_new_session=True)
    try:
        intake = Intake(port, info, retry_rate=args.retry_rate, race_rate=args.race_rate,
                        timeout_rate=args.timeout_rate, seed=seed)
        sampler = LockSampler(url, args.database)
        sampler.start()
        out = intake.run(n, args.duration)
        sampler.stop.set()
        out["locks"] = sampler.summary()
    finally:
        if sweeper is not None:
            os.killpg(sweeper.pid, signal.SIGTERM)
            sweeper.wait(timeout=30)
        sweep_log.close()
    out["sweep_passes_during_intake"] = (logdir / "intake_sweep.log").read_text().count("sweep:")
    out["sweep_running"] = not args.no_sweep
    if spy is not None:
        try:
            spy.wait(timeout=60)
        except subprocess.TimeoutExpired:
            spy.kill()
        if raw.exists():
            out["py_spy"] = profile_summary(raw)
    return out, intake.acked


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--server", default=os.environ.get("BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432"))
    parser.add_argument("--database", default="gongzhi_intake_bench")
    parser.add_argument("--peer-database", default="gongzhi_intake_bench_helpdesk")
    parser.add_argument("--duration", type=float, default=60, help="seconds per HTTP phase")
    parser.add_argument("--clients", default="16,50", help="client threads, one level after the other (16,50)")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers")
    parser.add_argument("--broker", default=os.environ.get("BENCH_BROKER", "redis://127.0.0.1:6379/7"),
                        help="the Celery broker the receipts are queued on (a Redis database of its own)")
    parser.add_argument("--worker-concurrency", type=int, default=2, help="Celery worker processes")
    parser.add_argument("--worker-nice", type=int, default=10, help="nice level of the Celery worker")
    parser.add_argument("--register-after-load", action="store_true",
                        help="start the worker only after the load (a burst absorbed by the queue)")
    parser.add_argument("--drain-timeout", type=float, default=1800, help="seconds to wait for registration")
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker")
    parser.add_argument("--backlog", type=int, default=20_000, help="open cases before the HTTP phases")
    parser.add_argument("--cases", type=int, default=1_000_000, help="cases for the sweep and statistics (0: skip)")
    parser.add_argument("--retry-rate", type=float, default=0.05)
    parser.add_argument("--race-rate", type=float, default=0.02)
    parser.add_argument("--timeout-rate", type=float, default=0.02)
    parser.add_argument("--keep", action="store_true", help="keep the benchmark databases")
    parser.add_argument("--no-sweep", action="store_true", help="intake without the concurrent sweep")
    parser.add_argument("--no-peer", action="store_true", help="skip the django-helpdesk peer row")
    parser.add_argument("--also-without-sweep", action="store_true",
                        help="at each level, run the intake phase once more without the sweep (as the peer runs)")
    parser.add_argument("--py-spy", action="store_true",
                        help="sample the gunicorn workers with py-spy during each intake phase (pip install py-spy)")
    args = parser.parse_args()
    levels = [int(x) for x in str(args.clients).split(",") if x.strip()]

    admin_url, url = f"{args.server}/postgres", f"{args.server}/{args.database}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{args.database}"')
        pg_version = conn.execute("SHOW server_version").fetchone()[0]
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "gongzhi.settings", "GONGZHI_DEBUG": "0",
           "GONGZHI_INTAKE_RATE_LIMITS_ENABLED": "0", "GONGZHI_EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
           "GONGZHI_SMS_BACKEND": "gongzhi.cases.notifications.LocmemSMSBackend", "PYTHONUNBUFFERED": "1"}
    # As in production: the request path queues the registration on Redis, a Celery worker
    # (niced: it takes what the web server leaves) registers the receipts.
    env["CELERY_BROKER_URL"] = args.broker
    server = worker = None
    result: dict = {"date": dt.date.today().isoformat(), "machine": {**machine(), "postgresql": pg_version},
                    "command": " ".join(["bench/intake_load.py", *sys.argv[1:]]), "settings": vars(args) | {
                        "server": "(redacted)"}, "levels": []}
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
        subprocess.run([PY, "-m", "celery", "-A", "gongzhi", "purge", "-f"], env=env, cwd=ROOT, check=False,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        def start_worker():
            log(f"celery worker: {args.worker_concurrency} processes, nice {args.worker_nice}")
            worker_log = open(logdir / "intake_celery_worker.log", "a")
            return subprocess.Popen(
                ["nice", "-n", str(args.worker_nice), PY, "-m", "celery", "-A", "gongzhi", "worker", "--loglevel",
                 "WARNING", "--concurrency", str(args.worker_concurrency), "--without-heartbeat", "--without-gossip",
                 "--without-mingle"], env=env, cwd=ROOT, stdout=worker_log, stderr=worker_log, start_new_session=True)

        if not args.register_after_load:
            worker = start_worker()
        port = free_port()
        log(f"gunicorn on 127.0.0.1:{port}: {args.workers} workers × {args.threads} threads")
        server_log = open(logdir / "intake_gunicorn.log", "w")
        server = start_gunicorn(PY, "gongzhi.wsgi:application", port, args, env, ROOT, server_log)
        warm = Conn(port)
        for _ in range(50):
            warm.request("GET", "/r/ping")
            warm.request("GET", "/open311/v2/services.json")
        warm.close()

        since = dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=5)
        acked: dict[str, str] = {}
        for n in levels:
            log(f"framework ceiling: GET /r/ping, {n} clients, {args.duration:.0f} s")
            ping = ping_phase(port, n, args.duration)
            log(f"  {ping}")
            log(f"intake: POST /open311/v2/requests.json with Idempotency-Keys, {n} clients, sweep running")
            intake, level_acked = intake_phase(args, port, info, url, env, logdir, n, seed=7 + n,
                                               server_pid=server.pid)
            acked.update(level_acked)
            row = {"clients": n, "ping": ping, "intake": intake,
                   "ratio": round(intake["per_second"] / ping["per_second"], 4)}
            log(f"  {intake}")
            if args.also_without_sweep and not args.no_sweep:
                log(f"intake again without the sweep (as the peer runs), {n} clients")
                quiet = argparse.Namespace(**{**vars(args), "no_sweep": True, "py_spy": False})
                alone, alone_acked = intake_phase(quiet, port, info, url, env, logdir, n, seed=1007 + n)
                acked.update(alone_acked)
                row["intake_without_sweep"] = alone
                row["ratio_without_sweep"] = round(alone["per_second"] / ping["per_second"], 4)
                log(f"  {alone}")
            result["levels"].append(row)
        if args.register_after_load:
            worker = start_worker()
        log("waiting for the worker to register every receipt")
        result["registration"] = wait_for_registration(url, timeout=args.drain_timeout)
        log(f"  {result['registration']}")
        result["verify"] = verify(url, acked, since)
        log(f"  verify: {result['verify']}")
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        server = None

        if not args.no_peer:
            result["peer"] = peer_run(args, levels)

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
        for process in (server, worker):
            if process is not None:
                try:
                    os.killpg(process.pid, signal.SIGTERM)
                    process.wait(timeout=30)
                except (ProcessLookupError, subprocess.TimeoutExpired):
                    pass
        if not args.keep:
            with psycopg.connect(admin_url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')

    path = logdir / f"intake_load_{dt.datetime.now():%Y%m%d_%H%M%S}.json"
    path.write_text(json.dumps(result, indent=2, ensure_ascii=False, default=str))
    m, v = result["machine"], result["verify"]
    print(f"\n{m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB, PostgreSQL {m['postgresql']}, "
          f"Python {m['python']}, {result['date']}; gunicorn {args.workers} workers × {args.threads} threads "
          f"(gthread), {args.duration:.0f} s per phase\n")
    print("| clients | what | acknowledged | per second | × ceiling | p50 | p99 |")
    print("|---:|---|---:|---:|---:|---:|---:|")
    peer_levels = {row["clients"]: row for row in result.get("peer", {}).get("levels", [])}
    for row in result["levels"]:
        p, i, n = row["ping"], row["intake"], row["clients"]
        print(f"| {n} | Gongzhi GET /r/ping (ceiling) | {p['requests']:,} | {p['per_second']:,} | 1 | "
              f"{p['p50_ms']} ms | {p['p99_ms']} ms |")
        print(f"| {n} | Gongzhi POST Open311 requests (new cases, sweep running) | {i['acknowledged']:,} | "
              f"{i['per_second']:,} | {row['ratio']:.2f} | {i['p50_ms']} ms | {i['p99_ms']} ms |")
        if "intake_without_sweep" in row:
            w = row["intake_without_sweep"]
            print(f"| {n} | Gongzhi POST Open311 requests (new cases, no sweep) | {w['acknowledged']:,} | "
                  f"{w['per_second']:,} | {row['ratio_without_sweep']:.2f} | {w['p50_ms']} ms | {w['p99_ms']} ms |")
        if n in peer_levels:
            pr = peer_levels[n]
            print(f"| {n} | django-helpdesk GET /ping (its ceiling) | {pr['ping']['requests']:,} | "
                  f"{pr['ping']['per_second']:,} | 1 | {pr['ping']['p50_ms']} ms | {pr['ping']['p99_ms']} ms |")
            t = pr["tickets"]
            print(f"| {n} | django-helpdesk POST public ticket form | {t['acknowledged']:,} | {t['per_second']:,} | "
                  f"{pr['ratio']:.2f} | {t['p50_ms']} ms | {t['p99_ms']} ms |")
    for row in result["levels"]:
        i = row["intake"]
        print(f"\n{row['clients']} clients: retries {i['retries']}, races {i['races']}, lost answers "
              f"{i['lost_answers']}, replays {i['replayed']}, mismatched {i['mismatched_replays']}, errors "
              f"{i['errors']}; database: {i['locks']}")
    print(f"\nregistration by the worker: {result['registration']}")
    print(f"\nverify: {'OK' if v['ok'] else 'FAILED'} {v}")
    if "peer" in result:
        print(f"peer verify: {result['peer']['verify']}")
    if "sweep" in result:
        print(f"sweep at {result['sweep']['open_cases']:,} open cases: {result['sweep']}")
        print(f"statistics: {result['stats']}")
    print(f"\nsaved {path}")
    ok = v["ok"] and result.get("peer", {}).get("verify", {}).get("ok", True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
