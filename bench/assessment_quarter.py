#!/usr/bin/env python3
"""Every assessment indicator for every unit and person of a million-household county for a
quarter (issue 14 §8), against DuckDB answering the same aggregates over the same rows.

Creates its own database (``assessment_bench`` unless told otherwise; the name must start with
``assessment_bench``), migrates it, generates the county with ``gongzhi generate --size million
--households N`` (demo logins included: ``county`` is the county secretary, a ``county_secretary``
role assignment over the county), and then loads, in SQL (``INSERT … SELECT`` over the registry,
no per-record services — the same bargain as the generator's bulk path), what the indicator
catalogue reads for the quarter and the quarters around it:

* cases: ``--cases-generated`` open cases from ``gongzhi.demo.bulk.generate_open_cases`` (the path
  ``gongzhi generate --cases`` takes), received over the last 365 days, replicated ×
  ``--cases-factor`` with ``bench/sweep_stats.py``'s ``amplify`` (fresh gapless numbers); then most
  of those older than 15 days closed (resolved / unresolved, on time or late, with satisfaction,
  reworks), a handler (a village cadre's account) on every accepted case, accepted
  after-the-fact explanations (``Exemption``) on 0.3 % of the closed cases, and a ``CaseScore``
  per closed case;
* care: plans for 1 household in 16 red (weekly, the three-line contact as helper) and 1 in 32
  yellow (monthly, the grid worker), with their visits due from 1 April to today (most done, a
  fifth of those late, 2 % cancelled), and about two ``ContactRecord`` per three-line contact
  assignment over the same months, recorded by a cadre's account;
* village: 8 ``Decision`` per village and quarter, 3 ``DecisionTask`` each (assigned to grid
  workers of the village); linking: 12 ``KeyTask`` per village for the year; resources: 10
  ``Need`` per village and quarter; volunteers: one person in 150 a ``Volunteer``, 4
  ``ServiceTask`` per village and month with 6 ``SignUp`` each, most with confirmed hours.

Then, in a child Django process and in the same run, it measures for the last complete quarter:

* **Gongzhi**: for every indicator of ``assessment.indicators.CATALOGUE`` and every kind of
  subject it supports, ``Indicator.compute(user=county secretary, period=…, kind=…,
  within=county)`` — scoping included, as in production; median of ``--runs`` after a warm-up;
* **DuckDB**: the same aggregates (same filters, same group-by column, same numerator and
  denominator terms) written by hand over a Parquet export of the columns they read (timestamps
  exported in the county's time zone, as Django compares them); only the queries are timed, the
  export is timed and reported separately;
* that both give **the same figure for every subject** (numerator and denominator), asserted;
* for reference, one ``ranking.assess()`` over the whole county (what the assessment page does).

Prints a table and saves JSON in ``bench/results/``. The database is dropped afterwards unless
``--keep``; ``--reuse`` measures an existing database again (loading the quarter's records first
if they are missing).

    .venv/bin/python bench/assessment_quarter.py --keep                       # build and measure
    .venv/bin/python bench/assessment_quarter.py --reuse --keep               # measure it again
    .venv/bin/python bench/assessment_quarter.py --households 20000 --cases-generated 2000 --cases-factor 5

Needs ``pip install -e '.[bench]'`` (DuckDB).
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import statistics as stats_module
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from sweep_stats import machine  # noqa: E402  (the same machine description)

TZ = "Asia/Shanghai"


def _setup():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gongzhi.settings")
    import django

    django.setup()


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------
# loading the quarter's records


def insert(model_label: str, values: dict[str, str], from_sql: str, params=()) -> int:
    """``INSERT INTO <table> (…) SELECT <values> <from_sql>``; every column not given gets its
    field's default (``now()`` for auto_now, NULL when nullable, '' for a blank text)."""
    from django.apps import apps
    from django.db import connection, models

    model = apps.get_model(model_label)
    cols, exprs = [], []
    for f in model._meta.concrete_fields:
        if f.primary_key and f.column not in values:
            continue
        cols.append(connection.ops.quote_name(f.column))
        if f.column in values:
            exprs.append(values[f.column])
        elif getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            exprs.append("now()")
        elif f.has_default() and not callable(f.default):
            exprs.append(literal(f.get_default()))
        elif f.null:
            exprs.append("NULL")
        elif isinstance(f, (models.CharField, models.TextField)):
            exprs.append("''")
        else:
            raise ValueError(f"{model_label}.{f.column}: no value and no default")
    unknown = set(values) - {f.column for f in model._meta.concrete_fields}
    if unknown:
        raise ValueError(f"{model_label}: unknown columns {unknown}")
    sql = f"INSERT INTO {model._meta.db_table} ({', '.join(cols)}) SELECT {', '.join(exprs)} {from_sql}"
    with connection.cursor() as cursor:
        return ex(cursor, sql, params)


def ex(cursor, sql: str, params=()) -> int:
    """Execute with the parameters in SQL order (``%s``); every other ``%`` is a modulo."""
    cursor.execute(re.sub(r"%(?!s)", "%%", sql), list(params))
    return cursor.rowcount


def literal(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, Decimal)):
        return str(value)
    if isinstance(value, (dict, list)):
        return "'" + json.dumps(value).replace("'", "''") + "'::jsonb"
    return "'" + str(value).replace("'", "''") + "'"


def r(salt: str, col: str = "id", mod: int = 1000) -> str:
    """A deterministic pseudo-random integer in [0, mod) per row."""
    return f"(abs(hashtext(({col})::text || '{salt}')) % {mod})"


def load(args) -> dict:
    _setup()
    from django.db import connection, transaction
    from django.utils import timezone

    from gongzhi.registry.models import Region

    county = Region.objects.filter(level=1).order_by("code").first()
    out: dict = {}
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM cases_case")
        have_cases = cursor.fetchone()[0]
    now = timezone.now().replace(microsecond=0)
    if not have_cases:
        from gongzhi.demo.bulk import generate_open_cases

        log(f"generating {args.cases_generated:,} open cases …")
        result = generate_open_cases(county, args.cases_generated, seed=args.seed, now=now, log=log)
        out["cases_generated_seconds"] = round(result.seconds, 1)
        if args.cases_factor > 1:
            from sweep_stats import amplify

            log(f"replicating them ×{args.cases_factor} …")
            out["amplify"] = {k: v for k, v in amplify(args.cases_factor).items() if k != "sequences"}
    started = time.perf_counter()
    steps = {}

    def step(name, fn, done_if: str):
        """Run one step in its own transaction, unless ``done_if`` (a count) says an earlier run did it."""
        q.execute(done_if)
        if q.fetchone()[0]:
            log(f"  {name}: already loaded")
            return
        t = time.perf_counter()
        with transaction.atomic():
            n = fn()
        steps[name] = {"rows": n, "seconds": round(time.perf_counter() - t, 1)}
        log(f"  {name}: {n:,} rows in {steps[name]['seconds']} s")

    cid = county.pk
    q = connection.cursor()

    def staff():
        # Three cadre accounts per village (the handlers of cases, who record contacts).
        n = insert("accounts.User", {
            "password": "'!'", "is_superuser": "false", "username": "'bench_cadre_' || v.id || '_' || k",
            "display_name": "v.name || '干部' || k", "is_staff": "false", "is_active": "true",
            "date_joined": "now()", "kind": "'staff'",
        }, "FROM registry_region v CROSS JOIN generate_series(0, 2) k WHERE v.level = 3 AND v.county_id = %s",
            [cid])
        q.execute("DROP TABLE IF EXISTS bench_staff")
        q.execute("CREATE TABLE bench_staff AS SELECT split_part(username, '_', 3)::bigint AS village_id, "
                  "split_part(username, '_', 4)::int AS k, id AS user_id FROM accounts_user "
                  "WHERE username LIKE 'bench_cadre_%%'")
        q.execute("CREATE UNIQUE INDEX ON bench_staff (village_id, k)")
        # Grid workers by village (assignees of decision tasks).
        q.execute("DROP TABLE IF EXISTS bench_workers")
        q.execute("CREATE TABLE bench_workers AS SELECT village_id, person_id, row_number() OVER "
                  "(PARTITION BY village_id ORDER BY person_id) - 1 AS n, count(*) OVER (PARTITION BY village_id) AS c "
                  "FROM (SELECT DISTINCT village_id, worker_id AS person_id FROM registry_grid "
                  "WHERE worker_id IS NOT NULL AND village_id IS NOT NULL) w")
        q.execute("CREATE UNIQUE INDEX ON bench_workers (village_id, n)")
        return n

    def close_cases():
        # Most cases older than 15 days are closed: 90 % resolved; closed 1–40 days after they
        # came in (so some late); satisfaction 75/12/6/7 %; 8 % reworked once.
        ex(q, f"""
            UPDATE cases_case c SET
              status = 'closed', closed_as = CASE WHEN {r('a')} < 900 THEN 'resolved' ELSE 'unresolved' END,
              accepted_at = coalesce(accepted_at, received_at + interval '2 hours'),
              first_response_at = CASE WHEN response_due_at IS NULL THEN first_response_at
                  ELSE coalesce(first_response_at, received_at + ({r('f', mod=72)} + 3) * interval '1 hour') END,
              closed_at = least(%s, received_at + (1 + {r('b', mod=40)}) * interval '1 day'),
              result_reported_at = least(%s, received_at + (1 + {r('b', mod=40)}) * interval '1 day')
                                   - interval '1 day',
              approved_at = least(%s, received_at + (1 + {r('b', mod=40)}) * interval '1 day') - interval '12 hours',
              satisfaction = CASE WHEN {r('s')} < 750 THEN 'satisfied' WHEN {r('s')} < 870 THEN 'basic'
                                  WHEN {r('s')} < 930 THEN 'dissatisfied' ELSE 'unreachable' END,
              rework_count = CASE WHEN {r('w')} < 80 THEN 1 ELSE 0 END,
              settled_level = current_level
            WHERE received_at < %s - interval '15 days' AND {r('c')} < 850""", [now, now, now, now])
        closed = q.rowcount
        q.execute(f"""
            UPDATE cases_case c SET handler_id = s.user_id FROM bench_staff s
            WHERE c.accepted_at IS NOT NULL AND s.village_id = c.village_id AND s.k = c.id % 3""")
        return closed

    def exemptions():
        q.execute("SELECT id FROM accounts_user WHERE username = 'county'")
        county_user = q.fetchone()[0]
        return insert("assessment.Exemption", {
            "case_id": "c.id", "ground": "'emergency'", "explanation": "'汛期抢险，先处置后备案'",
            "filed_by_id": "%s", "filed_at": "c.closed_at", "status": "'accepted'", "decided_by_id": "%s",
            "decided_at": "c.closed_at + interval '1 day'", "county_id": "c.county_id", "town_id": "c.town_id",
            "village_id": "c.village_id",
        }, f"FROM cases_case c WHERE c.status = 'closed' AND {r('e', 'c.id')} < 3", [county_user, county_user])

    def scores():
        q.execute("SELECT id FROM accounts_user WHERE username = 'county'")
        county_user = q.fetchone()[0]
        from gongzhi.assessment.models import ScoringWeights

        weights = ScoringWeights.objects.filter(county=county).order_by("-version").first()
        if weights is None:
            weights = ScoringWeights.objects.create(county=county, version=1, set_by_id=county_user,
                                                    note="bench", on_time=30, satisfaction=30, no_rework=20,
                                                    no_escalation=10, instruction=10)
        return insert("assessment.CaseScore", {
            "case_id": "c.id", "ledger": "c.ledger", "department_id": "c.assignee_department_id",
            "handler_id": "c.handler_id", "closed_at": "c.closed_at",
            "score": "(CASE WHEN c.closed_at <= c.resolution_due_at THEN 30 ELSE 0 END"
                     " + CASE c.satisfaction WHEN 'satisfied' THEN 30 WHEN 'basic' THEN 20 ELSE 0 END"
                     " + CASE WHEN c.rework_count = 0 THEN 20 ELSE 0 END + 10 + 10 - (c.id % 7) * 0.25)::numeric(5,2)",
            "parts": "'{}'::jsonb", "weights_id": str(weights.pk), "exempt": "false", "scored_at": "now()",
            "county_id": "c.county_id", "town_id": "c.town_id", "village_id": "c.village_id",
        }, "FROM cases_case c WHERE c.status = 'closed'")

    q1 = dt.date(now.year, 1, 1)  # plans started before the quarters measured
    first_due = dt.date(now.year, 4, 1) if now.month > 6 else dt.date(now.year - 1, 10, 1)

    def plans():
        n = insert("care.CarePlan", {
            "household_id": "h.id", "colour": "CASE WHEN h.id % 32 IN (0, 1) THEN 'red' ELSE 'yellow' END",
            "helper_id": "CASE WHEN h.id % 32 IN (0, 1) THEN coalesce(a.person_id, g.worker_id) ELSE g.worker_id END",
            "interval_days": "CASE WHEN h.id % 32 IN (0, 1) THEN 7 ELSE 30 END", "started_on": "%s",
            "county_id": "h.county_id", "town_id": "h.town_id", "village_id": "h.village_id",
        }, "FROM registry_household h LEFT JOIN registry_grid g ON g.id = h.grid_id "
           "LEFT JOIN LATERAL (SELECT person_id FROM registry_contactassignment a WHERE a.household_id = h.id "
           "AND a.ended_on IS NULL ORDER BY a.id LIMIT 1) a ON true WHERE h.id % 32 IN (0, 1, 2)", [q1])
        return n

    def visits():
        # Due every interval from the first due date to today; those due before today mostly done.
        return insert("care.Visit", {
            "plan_id": "p.id", "household_id": "p.household_id", "due_on": "d.due_on",
            "done_at": f"CASE WHEN d.due_on < %s AND {r('d', 'p.id * 1000 + d.k')} < 880 "
                       f"THEN ((d.due_on + ({r('l', 'p.id * 1000 + d.k', 5)} - 3))::timestamp "
                       f"+ interval '10 hours') AT TIME ZONE '{TZ}' END",
            "visitor_id": "p.helper_id", "note": "''",
            "cancelled": f"({r('x', 'p.id * 1000 + d.k')} < 20)",
            "county_id": "p.county_id", "town_id": "p.town_id", "village_id": "p.village_id",
        }, "FROM care_careplan p CROSS JOIN LATERAL (SELECT k, (%s::date + k * p.interval_days) AS due_on "
           "FROM generate_series(0, (%s::date - %s::date) / p.interval_days) k) d WHERE p.ended_on IS NULL",
            [now.date(), first_due, now.date(), first_due])

    def contacts():
        # About two contacts per three-line assignment between the first due date and today.
        days = (now.date() - first_due).days
        return insert("care.ContactRecord", {
            "household_id": "a.household_id", "person_id": "a.person_id", "line": "a.line",
            "contacted_at": f"((%s::date + {r('t', 'a.id * 10 + j', days)})::timestamp "
                            f"+ ({r('h', 'a.id * 10 + j', 12)} + 8) * interval '1 hour') AT TIME ZONE '{TZ}'",
            "method": "CASE WHEN a.id % 3 = 0 THEN 'phone' ELSE 'visit' END", "heard": "'走访了解情况'",
            "needs_action": "(a.id % 20 = 0)", "recorded_by_id": "s.user_id",
            "county_id": "a.county_id", "town_id": "a.town_id", "village_id": "a.village_id",
        }, "FROM registry_contactassignment a CROSS JOIN generate_series(0, 2) j "
           "JOIN bench_staff s ON s.village_id = a.village_id AND s.k = (a.id + j) % 3 "
           f"WHERE a.ended_on IS NULL AND {r('n', 'a.id * 10 + j')} < 667", [first_due])

    def decisions():
        q.execute("SELECT id FROM accounts_user WHERE username = 'county'")
        county_user = q.fetchone()[0]
        days = (now.date() - first_due).days + 90
        n = insert("village.Decision", {
            "region_id": "v.id", "title": "'村级决策' || k", "content": "'决定事项'",
            "decided_on": f"%s::date - 90 + {r('o', 'v.id * 100 + k', days)}",
            "status": f"CASE WHEN {r('u', 'v.id * 100 + k')} < 600 THEN 'done' "
                      f"WHEN {r('u', 'v.id * 100 + k')} < 950 THEN 'in_progress' ELSE 'withdrawn' END",
            "created_by_id": "%s", "county_id": "v.county_id", "town_id": "v.town_id", "village_id": "v.id",
        }, "FROM registry_region v CROSS JOIN generate_series(0, 31) k WHERE v.level = 3 AND v.county_id = %s",
            [first_due, county_user, cid])
        q.execute("UPDATE village_decision SET done_at = (decided_on + 30)::timestamp AT TIME ZONE %s "
                  "WHERE status = 'done'", [TZ])
        tasks = insert("village.DecisionTask", {
            "decision_id": "d.id", "title": "'落实任务' || k", "assignee_id": "w.person_id",
            "due_on": f"d.decided_on + 15 + {r('q', 'd.id * 10 + k', 45)}", "progress": "0",
            "status": f"CASE WHEN {r('z', 'd.id * 10 + k')} < 700 THEN 'done' "
                      f"WHEN {r('z', 'd.id * 10 + k')} < 750 THEN 'cancelled' ELSE 'open' END",
            "done_at": f"CASE WHEN {r('z', 'd.id * 10 + k')} < 700 THEN ((d.decided_on + 15 + "
                       f"{r('q', 'd.id * 10 + k', 45)} + {r('y', 'd.id * 10 + k', 10)} - 7)::timestamp "
                       f"+ interval '15 hours') AT TIME ZONE '{TZ}' END",
            "county_id": "d.county_id", "town_id": "d.town_id", "village_id": "d.village_id",
        }, "FROM village_decision d CROSS JOIN generate_series(0, 2) k "
           "LEFT JOIN bench_workers w ON w.village_id = d.village_id AND w.n = (d.id * 3 + k) % w.c")
        return n + tasks

    def key_tasks():
        q.execute("SELECT id FROM accounts_user WHERE username = 'county'")
        county_user = q.fetchone()[0]
        return insert("linking.KeyTask", {
            "region_id": "v.id", "year": str(now.year), "aim": "(ARRAY['income','collective','governance'])[k % 3 + 1]",
            "title": "'重点任务' || k", "target": "100", "unit": "'项'", "achieved": "0",
            "due_on": f"make_date({now.year}, k + 1, 28)",
            "status": f"CASE WHEN {r('k', 'v.id * 100 + k')} < 550 THEN 'done' "
                      f"WHEN {r('k', 'v.id * 100 + k')} < 600 THEN 'dropped' ELSE 'open' END",
            "set_by_id": "%s", "county_id": "v.county_id", "town_id": "v.town_id", "village_id": "v.id",
        }, "FROM registry_region v CROSS JOIN generate_series(0, 11) k WHERE v.level = 3 AND v.county_id = %s",
            [county_user, cid])

    def needs():
        q.execute("SELECT id FROM accounts_user WHERE username = 'county'")
        county_user = q.fetchone()[0]
        days = (now.date() - first_due).days + 90
        return insert("resources.Need", {
            "title": "'需求' || k", "kind": "(ARRAY['funds','material','venue','force'])[k % 4 + 1]",
            "quantity": "10", "unit": "'件'", "priority": "3", "place_id": "v.id", "source": "'direct'",
            "status": f"(ARRAY['delivered','delivered','delivered','delivered','delivered','delivered',"
                      f"'open','reserved','delivering','closed','cancelled'])[{r('m', 'v.id * 100 + k', 11)} + 1]",
            "raised_by_id": "%s",
            "raised_at": f"((%s::date - 90 + {r('p', 'v.id * 100 + k', days)})::timestamp "
                         f"+ interval '9 hours') AT TIME ZONE '{TZ}'",
            "county_id": "v.county_id", "town_id": "v.town_id", "village_id": "v.id",
        }, "FROM registry_region v CROSS JOIN generate_series(0, 39) k WHERE v.level = 3 AND v.county_id = %s",
            [county_user, first_due, cid])

    def volunteering():
        q.execute("SELECT id FROM accounts_user WHERE username = 'county'")
        county_user = q.fetchone()[0]
        from gongzhi.volunteers.models import ServiceKind

        kind = ServiceKind.objects.filter(county=county).first() or ServiceKind.objects.create(
            county=county, name="助老服务", points_per_hour=10, max_hours=Decimal("8"))
        vols = insert("volunteers.Volunteer", {
            "person_id": "p.id", "region_id": "p.village_id", "category": "'community'", "joined_on": "'2025-01-01'",
            "created_by_id": "%s", "county_id": "p.county_id", "town_id": "p.town_id", "village_id": "p.village_id",
        }, "FROM registry_person p WHERE p.id % 150 = 0 AND p.village_id IS NOT NULL AND p.status = 'active'",
            [county_user])
        q.execute("DROP TABLE IF EXISTS bench_vols")
        q.execute("CREATE TABLE bench_vols AS SELECT village_id, id AS volunteer_id, row_number() OVER "
                  "(PARTITION BY village_id ORDER BY id) - 1 AS n, count(*) OVER (PARTITION BY village_id) AS c "
                  "FROM volunteers_volunteer")
        q.execute("CREATE UNIQUE INDEX ON bench_vols (village_id, n)")
        months = (now.year - first_due.year) * 12 + now.month - first_due.month + 4
        tasks = insert("volunteers.ServiceTask", {
            "kind_id": str(kind.pk), "title": "'志愿服务' || k", "region_id": "v.id", "place": "'村委会'",
            "starts_at": f"((%s::date - 90 + (k * 7 + v.id % 5)::int)::timestamp + interval '9 hours') AT TIME ZONE '{TZ}'",
            "ends_at": f"((%s::date - 90 + (k * 7 + v.id % 5)::int)::timestamp + interval '12 hours') AT TIME ZONE '{TZ}'",
            "slots": "6", "organiser_id": "%s", "status": "'open'",
            "county_id": "v.county_id", "town_id": "v.town_id", "village_id": "v.id",
        }, "FROM registry_region v CROSS JOIN generate_series(0, %s) k WHERE v.level = 3 AND v.county_id = %s "
           "AND EXISTS (SELECT 1 FROM bench_vols b WHERE b.village_id = v.id AND b.c >= 6)",
            [first_due, first_due, county_user, months * 4 - 1, cid])
        signups = insert("volunteers.SignUp", {
            "task_id": "t.id", "volunteer_id": "b.volunteer_id",
            "status": f"CASE WHEN t.ends_at < %s AND {r('g', 't.id * 10 + k')} < 800 THEN 'confirmed' "
                      "ELSE 'assigned' END",
            "signed_up_at": "t.starts_at - interval '3 days'", "signed_up_by_id": "%s",
            "assigned_at": "t.starts_at - interval '2 days'",
            "hours_claimed": f"CASE WHEN t.ends_at < %s AND {r('g', 't.id * 10 + k')} < 800 "
                             f"THEN 1 + {r('i', 't.id * 10 + k', 5)} * 0.5 END",
            "hours_confirmed": f"CASE WHEN t.ends_at < %s AND {r('g', 't.id * 10 + k')} < 800 "
                               f"THEN 1 + {r('i', 't.id * 10 + k', 5)} * 0.5 END",
            "confirmed_at": f"CASE WHEN t.ends_at < %s AND {r('g', 't.id * 10 + k')} < 800 "
                            "THEN t.ends_at + interval '1 day' END",
            "confirmed_by_id": "%s",
            "county_id": "t.county_id", "town_id": "t.town_id", "village_id": "t.village_id",
        }, "FROM volunteers_servicetask t CROSS JOIN generate_series(0, 5) k "
           "JOIN bench_vols b ON b.village_id = t.village_id AND b.n = (t.id * 6 + k) % b.c "
           "WHERE t.kind_id = %s",
            [now, county_user, now, now, now, county_user, kind.pk])
        return vols + tasks + signups

    count = "SELECT count(*) FROM "
    step("staff accounts", staff, count + "accounts_user WHERE username LIKE 'bench_cadre_%'")
    step("cases closed", close_cases, count + "cases_case WHERE status = 'closed'")
    step("exemptions", exemptions, count + "assessment_exemption")
    step("case scores", scores, count + "assessment_casescore")
    step("care plans", plans, count + "care_careplan")
    step("care visits", visits, count + "care_visit")
    step("contact records", contacts, count + "care_contactrecord")
    step("decisions and tasks", decisions, count + "village_decision")
    step("key tasks", key_tasks, count + "linking_keytask")
    step("needs", needs, count + "resources_need")
    step("volunteers, tasks, sign-ups", volunteering, count + "volunteers_signup")
    from gongzhi.cases.statistics import statistics_fold

    statistics_fold()
    for table in ("cases_case", "assessment_exemption", "assessment_casescore", "care_careplan", "care_visit",
                  "care_contactrecord", "village_decision", "village_decisiontask", "linking_keytask",
                  "resources_need", "volunteers_signup", "accounts_user"):
        q.execute(f"VACUUM ANALYZE {table}")
    out["steps"] = steps
    out["seconds"] = round(time.perf_counter() - started, 1)
    out["as_of"] = now.isoformat()
    return out


# ---------------------------------------------------------------------------------------------
# what DuckDB is asked: the catalogue's aggregates written by hand

CLOSED = "status = 'closed' AND closed_as IN ('resolved', 'unresolved')"
NOT_EXEMPT = "id NOT IN (SELECT case_id FROM assessment_exemption WHERE status = 'accepted')"
CASE_KINDS = {"town": "town_id", "village": "village_id", "department": "assignee_department_id",
              "user": "handler_id"}
TERR = {"town": "town_id", "village": "village_id"}

# code → (FROM, date column, date is a DATE, base filter, numerator terms, denominator, subjects, summed column)
DUCK = {
    "case_accepted": ("cases_case", "received_at", False, "true", ["accepted_at IS NOT NULL"], None, CASE_KINDS, None),
    "case_closed": ("cases_case", "received_at", False, "true", [CLOSED], None, CASE_KINDS, None),
    "case_closure_rate": ("cases_case", "received_at", False, "true", [CLOSED], "accepted_at IS NOT NULL",
                          CASE_KINDS, None),
    "case_response_rate": ("cases_case", "received_at", False, NOT_EXEMPT,
                           ["response_due_at IS NOT NULL AND first_response_at IS NOT NULL "
                            "AND first_response_at <= response_due_at"], "response_due_at IS NOT NULL", CASE_KINDS,
                           None),
    "case_on_time_rate": ("cases_case", "received_at", False, NOT_EXEMPT,
                          [f"{CLOSED} AND resolution_due_at IS NOT NULL AND closed_at <= resolution_due_at"],
                          CLOSED, CASE_KINDS, None),
    "case_satisfaction_rate": ("cases_case", "received_at", False, "true",
                               ["satisfaction = 'satisfied'", "satisfaction = 'basic'"],
                               "satisfaction IN ('satisfied', 'basic', 'dissatisfied')", CASE_KINDS, None),
    "case_rework_rate": ("cases_case", "received_at", False, "true",
                         ["result_reported_at IS NOT NULL AND rework_count > 0"], "result_reported_at IS NOT NULL",
                         CASE_KINDS, None),
    "case_score": ("assessment_casescore", "closed_at", False, "true", ["true"], "true",
                   {"town": "town_id", "village": "village_id", "department": "department_id", "user": "handler_id"},
                   "score"),
    "contacts_made": ("care_contactrecord", "contacted_at", False, "true", ["true"], None,
                      {**TERR, "person": "person_id", "user": "recorded_by_id"}, None),
    "red_visits_kept": ("care_visit v JOIN care_careplan p ON p.id = v.plan_id", "v.due_on", True,
                        "NOT v.cancelled AND p.colour = 'red'",
                        ["v.done_at IS NOT NULL AND CAST(v.done_at AS DATE) <= v.due_on"], "true",
                        {"town": "v.town_id", "village": "v.village_id", "person": "p.helper_id"}, None),
    "decisions_carried_out": ("village_decision", "decided_on", True, "status <> 'withdrawn'", ["status = 'done'"],
                              "true", TERR, None),
    "decision_tasks_on_time": ("village_decisiontask", "due_on", True, "status <> 'cancelled'",
                               ["status = 'done' AND CAST(done_at AS DATE) <= due_on"], "true",
                               {**TERR, "person": "assignee_id"}, None),
    "key_tasks_done": ("linking_keytask", "due_on", True, "status <> 'dropped'", ["status = 'done'"], "true", TERR,
                       None),
    "needs_delivered": ("resources_need", "raised_at", False, "status <> 'cancelled'", ["status = 'delivered'"],
                        "true", TERR, None),
    "volunteer_hours": ("volunteers_signup", "confirmed_at", False, "true", ["hours_confirmed IS NOT NULL"], None,
                        TERR, "hours_confirmed"),
}

EXPORT = {  # table → columns (timestamps in the county's time zone, naive, as Django compares them)
    "cases_case": ["id", "county_id", "town_id", "village_id", "assignee_department_id", "handler_id", "received_at",
                   "accepted_at", "status", "closed_as", "resolution_due_at", "closed_at", "response_due_at",
                   "first_response_at", "satisfaction", "result_reported_at", "rework_count"],
    "assessment_exemption": ["case_id", "status"],
    "assessment_casescore": ["county_id", "town_id", "village_id", "department_id", "handler_id", "closed_at",
                             "score"],
    "care_contactrecord": ["county_id", "town_id", "village_id", "person_id", "recorded_by_id", "contacted_at"],
    "care_visit": ["county_id", "town_id", "village_id", "plan_id", "due_on", "done_at", "cancelled"],
    "care_careplan": ["id", "colour", "helper_id"],
    "village_decision": ["county_id", "town_id", "village_id", "decided_on", "status"],
    "village_decisiontask": ["county_id", "town_id", "village_id", "assignee_id", "due_on", "status", "done_at"],
    "linking_keytask": ["county_id", "town_id", "village_id", "due_on", "status"],
    "resources_need": ["county_id", "town_id", "village_id", "raised_at", "status"],
    "volunteers_signup": ["county_id", "town_id", "village_id", "confirmed_at", "hours_confirmed"],
}


def export_parquet(path: Path) -> dict:
    """The columns above → CSV (COPY) → Parquet (DuckDB), with the types of the PostgreSQL columns."""
    import duckdb
    from django.db import connection

    path.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    db = duckdb.connect()
    rows = {}
    for table, columns in EXPORT.items():
        with connection.cursor() as cursor:
            cursor.execute("SELECT column_name, data_type, numeric_precision, numeric_scale "
                           "FROM information_schema.columns WHERE table_name = %s", [table])
            pg = {c: (t, p, s) for c, t, p, s in cursor.fetchall()}
        select, types = [], {}
        for c in columns:
            t, p, s = pg[c]
            if t == "timestamp with time zone":
                select.append(f"{c} AT TIME ZONE '{TZ}' AS {c}")
                types[c] = "TIMESTAMP"
            else:
                select.append(c)
                types[c] = {"bigint": "BIGINT", "integer": "INTEGER", "smallint": "INTEGER", "date": "DATE",
                            "boolean": "BOOLEAN", "character varying": "VARCHAR", "text": "VARCHAR",
                            "numeric": f"DECIMAL({p},{s})"}[t]
        csv = path / f"{table}.csv"
        with connection.cursor() as cursor, open(csv, "wb") as f:
            with cursor.cursor.copy(f"COPY (SELECT {', '.join(select)} FROM {table}) TO STDOUT "
                                    "WITH (FORMAT csv, HEADER true)") as copy:
                for chunk in copy:
                    f.write(chunk)
        db.execute(f"COPY (SELECT * FROM read_csv('{csv}', header=true, columns={types!r})) "
                   f"TO '{path / table}.parquet' (FORMAT parquet)")
        rows[table] = db.execute(f"SELECT count(*) FROM '{path / table}.parquet'").fetchone()[0]
        csv.unlink()
    db.close()
    return {"seconds": round(time.perf_counter() - started, 1), "rows": rows,
            "parquet_bytes": sum(p.stat().st_size for p in path.glob("*.parquet"))}


def duck_sql(code: str, kind: str, county_id: int, period) -> str:
    from_, date, is_date, base, nums, den, subjects, total = DUCK[code]
    if is_date:
        when = f"{date} >= DATE '{period.start}' AND {date} <= DATE '{period.end}'"
    else:
        end = period.end + dt.timedelta(days=1)
        when = f"{date} >= TIMESTAMP '{period.start} 00:00:00' AND {date} < TIMESTAMP '{end} 00:00:00'"
    county = "v.county_id" if from_.startswith("care_visit") else "county_id"
    aggs = [f"sum({total}) FILTER (WHERE {n}) AS n{i}" if total else f"count(*) FILTER (WHERE {n}) AS n{i}"
            for i, n in enumerate(nums)]
    if den is not None:
        aggs.append(f"count(*) FILTER (WHERE {den}) AS d")
    return (f"SELECT {subjects[kind]} AS subject, {', '.join(aggs)} FROM {from_} "
            f"WHERE {county} = {county_id} AND {when} AND ({base}) GROUP BY 1")


# ---------------------------------------------------------------------------------------------
# measuring


def median_of(fn, runs: int):
    result = fn()  # warm-up
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return stats_module.median(times), [round(t, 4) for t in times], result


def measure(args) -> dict:
    _setup()
    import duckdb
    from django.contrib.auth import get_user_model
    from django.db import connection

    from gongzhi.assessment import indicators as catalogue
    from gongzhi.assessment.indicators import Period
    from gongzhi.registry.models import Region

    county = Region.objects.filter(level=1).order_by("code").first()
    user = get_user_model().objects.get(username="county")
    roles = list(user.role_assignments.filter(is_active=True).values_list("role__code", "region__name"))
    period = Period.parse(args.period) if args.period else Period.last_complete()
    sizes = {}
    with connection.cursor() as cursor:
        for table in ("registry_household", "registry_person", *EXPORT):
            cursor.execute(f"SELECT count(*) FROM {table}")
            sizes[table] = cursor.fetchone()[0]
    lo, hi = period.bounds()
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM cases_case WHERE received_at >= %s AND received_at < %s", [lo, hi])
        sizes["cases_in_quarter"] = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM care_visit WHERE due_on BETWEEN %s AND %s", [period.start, period.end])
        sizes["visits_in_quarter"] = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM care_contactrecord WHERE contacted_at >= %s AND contacted_at < %s",
                       [lo, hi])
        sizes["contacts_in_quarter"] = cursor.fetchone()[0]

    path = ROOT / "bench" / "results" / f"assessment_parquet_{os.getpid()}"
    log("exporting to Parquet …")
    export = export_parquet(path)
    db = duckdb.connect()
    for table in EXPORT:
        db.execute(f"CREATE VIEW {table} AS SELECT * FROM read_parquet('{path / table}.parquet')")
    rows, mismatches = [], []
    one_by_one = {}
    try:
        for indicator in catalogue.CATALOGUE:
            for kind in catalogue.SUBJECT_KINDS:
                if kind not in indicator.subjects:
                    continue
                g_median, g_times, g_result = median_of(
                    lambda i=indicator, k=kind: i.compute(user=user, period=period, kind=k, within=county), args.runs)
                sql = duck_sql(indicator.code, kind, county.pk, period)
                d_median, d_times, d_rows = median_of(lambda s=sql: db.execute(s).fetchall(), args.runs)
                terms = indicator._terms()
                d_result = {}
                for row in d_rows:
                    if row[0] is None:
                        continue
                    num = sum((Decimal(row[1 + i] or 0) * w for i, (_q, w) in enumerate(terms)), Decimal(0))
                    den = row[1 + len(terms)] if indicator.shape in ("rate", "mean") else None
                    d_result[row[0]] = (num, den)
                one_by_one[(indicator.code, kind)] = g_result
                g_pairs = {sid: (f.numerator, f.denominator) for sid, f in g_result.items()}
                same = g_pairs == d_result
                if not same:
                    diff = [(s, g_pairs.get(s), d_result.get(s)) for s in set(g_pairs) | set(d_result)
                            if g_pairs.get(s) != d_result.get(s)]
                    mismatches.append({"indicator": indicator.code, "kind": kind, "subjects_differing": len(diff),
                                       "examples": [list(map(str, x)) for x in diff[:5]]})
                total_num = sum((n for n, _d in g_pairs.values()), Decimal(0))
                total_den = sum((d or 0 for _n, d in g_pairs.values()))
                rows.append({"indicator": indicator.code, "kind": kind, "subjects": len(g_result),
                             "numerator": str(total_num), "denominator": total_den if indicator.shape in
                             ("rate", "mean") else None, "same": same,
                             "gongzhi_seconds_median": round(g_median, 4), "gongzhi_seconds": g_times,
                             "duckdb_seconds_median": round(d_median, 4), "duckdb_seconds": d_times,
                             "ratio": round(g_median / d_median, 2) if d_median else None})
                log(f"  {indicator.code:24} {kind:10} {len(g_result):7,} subjects  gongzhi {g_median * 1000:8.1f} ms"
                    f"  duckdb {d_median * 1000:7.1f} ms  {'same' if same else 'DIFFERENT'}")
    finally:
        db.close()
        for p in path.glob("*"):
            p.unlink()
        path.rmdir()
    # The assessment's own path: every indicator for every kind in one query per source table
    # (indicators.compute_all, what ranking.assess uses). Same figures, checked.
    a_median, a_times, a_result = median_of(
        lambda: catalogue.compute_all(user=user, period=period, within=county), args.runs)
    all_same = all(a_result[kind].get(code, {}) == found for (code, kind), found in one_by_one.items())
    log(f"  compute_all: {a_median * 1000:.1f} ms ({'same figures' if all_same else 'DIFFERENT figures'})")
    g_total = sum(r["gongzhi_seconds_median"] for r in rows)
    d_total = sum(r["duckdb_seconds_median"] for r in rows)
    out = {"period": period.code, "county": county.name, "user": user.username, "roles": roles, "sizes": sizes,
           "export": export, "duckdb": duckdb.__version__, "runs": args.runs, "rows": rows,
           "gongzhi_seconds_total": round(g_total, 3), "duckdb_seconds_total": round(d_total, 3),
           "ratio": round(g_total / d_total, 2), "mismatches": mismatches,
           "compute_all_seconds_median": round(a_median, 4), "compute_all_seconds": a_times,
           "compute_all_same": all_same, "compute_all_ratio": round(a_median / d_total, 2)}
    if args.explain:
        out["explain"] = explain_slowest(rows, user, period, county, args.explain)
    if not args.no_assess:
        from gongzhi.assessment.ranking import assess

        started = time.perf_counter()
        assessed = assess(user=user, county=county, period=period)
        out["assess_seconds"] = round(time.perf_counter() - started, 2)
        out["assessed"] = {k: len(v) for k, v in assessed.subjects.items()}
        log(f"  assess(): {out['assess_seconds']} s, {out['assessed']}")
    return out


def explain_slowest(rows, user, period, county, n: int) -> list[dict]:
    """EXPLAIN (ANALYZE, BUFFERS) of the ``n`` queries with the highest Gongzhi/DuckDB ratio."""
    from django.db import connection

    from gongzhi.assessment import indicators as catalogue

    plans = []
    for row in sorted(rows, key=lambda r: -(r["gongzhi_seconds_median"]))[:n]:
        indicator = catalogue.BY_CODE[row["indicator"]]
        qs = (indicator.rows(user=user, period=period, within=county).order_by()
              .values(subject=catalogue.F(indicator.subjects[row["kind"]])).annotate(**indicator.aggregates()))
        sql, params = qs.query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
            plan = [r[0] for r in cursor.fetchall()]
        plans.append({"indicator": row["indicator"], "kind": row["kind"], "sql": sql,
                      "params": [str(p) for p in params], "plan": plan})
    return plans


# ---------------------------------------------------------------------------------------------
# the parent


def run(cmd: list[str], env: dict) -> float:
    started = time.perf_counter()
    subprocess.run(cmd, env=env, cwd=ROOT, check=True)
    return time.perf_counter() - started


def child(task: str, common: list[str], env: dict) -> dict:
    proc = subprocess.run([sys.executable, __file__, "--task", task, *common], env=env, cwd=ROOT, check=True,
                          stdout=subprocess.PIPE, text=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--households", type=int, default=1_000_000)
    parser.add_argument("--size", default="million", help="generator preset giving the shape (default million)")
    parser.add_argument("--seed", type=int, default=321)
    parser.add_argument("--cases-generated", type=int, default=16_000,
                        help="open cases generated by the generator (default 16,000)")
    parser.add_argument("--cases-factor", type=int, default=25, help="replicated this many times (default 25)")
    parser.add_argument("--period", default=None, help="the quarter, e.g. 2026Q3 (default: the last complete one)")
    parser.add_argument("--runs", type=int, default=5, help="timed runs of each query after a warm-up (default 5)")
    parser.add_argument("--explain", type=int, default=4, help="EXPLAIN ANALYZE the N slowest Gongzhi queries")
    parser.add_argument("--no-assess", action="store_true", help="skip the reference assess() run")
    parser.add_argument("--server", default=os.environ.get("BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432"))
    parser.add_argument("--database", default="assessment_bench")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--reuse", action="store_true", help="measure an existing database (migrated first)")
    parser.add_argument("--task", choices=["measure", "load"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if not args.database.startswith("assessment_bench"):
        parser.error("the database name must start with assessment_bench")
    if args.task:
        print(json.dumps({"measure": measure, "load": load}[args.task](args), default=str))
        return 0

    import psycopg

    admin_url, url = f"{args.server}/postgres", f"{args.server}/{args.database}"
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "gongzhi.settings", "GONGZHI_DEMO": "1"}
    gongzhi = [sys.executable, "-m", "gongzhi.cli"]
    result = {"date": dt.datetime.now().isoformat(timespec="seconds"), "machine": machine(),
              "database": args.database, "argv": sys.argv[1:]}
    with psycopg.connect(admin_url, autocommit=True) as conn:
        result["machine"]["postgresql"] = conn.execute("SHOW server_version").fetchone()[0]
        if not args.reuse:
            conn.execute(f'DROP DATABASE IF EXISTS "{args.database}"')
            conn.execute(f'CREATE DATABASE "{args.database}"')
    common = ["--database", args.database, "--seed", str(args.seed), "--cases-generated", str(args.cases_generated),
              "--cases-factor", str(args.cases_factor), "--runs", str(args.runs), "--explain", str(args.explain)]
    if args.period:
        common += ["--period", args.period]
    if args.no_assess:
        common.append("--no-assess")
    try:
        result["migrate_seconds"] = round(run([*gongzhi, "migrate", "-v0"], env), 1)
        if not args.reuse:
            cmd = [*gongzhi, "generate", "--size", args.size, "--households", str(args.households),
                   "--seed", str(args.seed)]
            result["generate"] = {"command": " ".join(["gongzhi", *cmd[3:]]), "seconds": round(run(cmd, env), 1)}
        with psycopg.connect(url) as conn:
            loaded = conn.execute("SELECT count(*) FROM care_contactrecord").fetchone()[0]
        if not loaded:
            result["load"] = child("load", common, env)
        result.update(child("measure", common, env))
    finally:
        if not args.keep:
            with psycopg.connect(admin_url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"assessment_quarter_{result['sizes']['registry_household']}_{dt.datetime.now():%Y%m%d_%H%M%S}.json"
    path.write_text(json.dumps(result, indent=2, ensure_ascii=False, default=str))
    print(f"\n{result['machine']}\n")
    print(f"{result['period']}: {result['sizes']['registry_household']:,} households, "
          f"{result['sizes']['cases_in_quarter']:,} cases, {result['sizes']['visits_in_quarter']:,} visits, "
          f"{result['sizes']['contacts_in_quarter']:,} contacts in the quarter; export to Parquet "
          f"{result['export']['seconds']} s")
    print(f"{'indicator':26}{'kind':12}{'subjects':>9}{'gongzhi ms':>12}{'duckdb ms':>11}{'ratio':>8}  same")
    for r_ in result["rows"]:
        print(f"{r_['indicator']:26}{r_['kind']:12}{r_['subjects']:>9,}{r_['gongzhi_seconds_median'] * 1000:>12.1f}"
              f"{r_['duckdb_seconds_median'] * 1000:>11.1f}{r_['ratio'] or 0:>8.2f}  {'yes' if r_['same'] else 'NO'}")
    print(f"{'total':47}{result['gongzhi_seconds_total'] * 1000:>12.1f}{result['duckdb_seconds_total'] * 1000:>11.1f}"
          f"{result['ratio']:>8.2f}")
    if "assess_seconds" in result:
        print(f"assess() over the county: {result['assess_seconds']} s")
    print(f"compute_all (one query per source table, what assess() uses): "
          f"{result['compute_all_seconds_median'] * 1000:.1f} ms, {result['compute_all_ratio']:.2f}× DuckDB's total"
          f" ({'same figures' if result['compute_all_same'] else 'FIGURES DIFFER'})")
    print(f"\nsaved {path.relative_to(ROOT)}")
    if result["mismatches"]:
        print(f"FIGURES DIFFER: {result['mismatches']}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
