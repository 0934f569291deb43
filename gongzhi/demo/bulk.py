"""Writing a generated county into the database, fast.

This is a deliberate bulk path: it does **not** go through the registry services (one
``full_clean``, scope check and audit row per record would take hours for a million households).
Instead:

* rows come from ``CountyGenerator`` already consistent: cached territory columns, grid paths,
  one open ``HouseholdMembership`` per person, valid and unique ID numbers;
* on PostgreSQL they are streamed with ``COPY … FROM STDIN`` (psycopg 3 ``cursor.copy``),
  a few villages per COPY; elsewhere (the SQLite demo) with ``bulk_create`` in batches;
* the whole run is one transaction: a failed run leaves the registry as it was;
* foreign keys are checked at the end of each COPY (``SET CONSTRAINTS ALL IMMEDIATE``) so the
  server's queue of pending checks stays small, except Grid.head/worker, which point at persons
  written after their grids and are checked at the end of the run;
* big runs (and any run that clears) drop and rebuild indexes and constraints around the load
  (``PostgresLoadWindow``);
* primary keys are set explicitly (that is what makes ids deterministic) and the sequences are
  moved past them afterwards;
* one audit row (``AuditAction.GENERATE``) records the run: seed, size and counts.
"""
from __future__ import annotations

import datetime as dt
import json
import time
from dataclasses import dataclass

from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.management.color import no_style
from django.db import connection, models, transaction
from django.db.models import ProtectedError
from django.utils import timezone

from gongzhi.core.audit import AuditAction, audit_record

from .generator import COLUMNS, TABLES, CountyGenerator, CountySpec
from .pools import COUNTY_NAME

# Buffered rows are written when this many persons are waiting (a few villages' worth).
FLUSH_PERSONS = 40_000


def registry_model(table: str) -> type[models.Model]:
    return apps.get_model("registry", table)


class RegistryNotEmpty(Exception):
    pass


def registry_is_empty() -> bool:
    return not any(model._base_manager.exists() for model in apps.get_app_config("registry").get_models())


def _extra_columns(model: type[models.Model], columns: tuple[str, ...], now) -> tuple[list[str], tuple]:
    """Concrete fields the generator does not fill (timestamps, fields added later with a
    default): their names and the constant value every row gets."""
    names, values = [], []
    for f in model._meta.concrete_fields:
        if f.attname in columns:
            continue
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            value = now
        elif f.has_default():
            value = f.get_default()
        elif f.null:
            value = None
        else:
            raise RuntimeError(f"{model._meta.label}.{f.name} has no default: teach gongzhi.demo.generator to fill it")
        names.append(f.attname)
        values.append(value)
    return names, tuple(values)


class _Sink:
    """Buffers rows per table; subclasses define ``write(table, rows)``."""

    def __init__(self, now):
        self.buffers = {table: [] for table in TABLES}
        self.extras = {}
        for table in TABLES:
            self.extras[table] = _extra_columns(registry_model(table), COLUMNS[table], now)
        self.seconds_writing = 0.0

    def add(self, table: str, row) -> None:
        self.buffers[table].append(row)

    def village_done(self) -> None:
        if len(self.buffers["person"]) >= FLUSH_PERSONS:
            self.flush()

    def flush(self) -> None:
        started = time.perf_counter()
        for table in TABLES:
            rows = self.buffers[table]
            if rows:
                self.write(table, rows)
                self.buffers[table] = []
        self.seconds_writing += time.perf_counter() - started

    def close(self) -> None:
        self.flush()


class CopySink(_Sink):
    """PostgreSQL: ``COPY table (columns) FROM STDIN`` in text format."""

    def __init__(self, now):
        super().__init__(now)
        with connection.cursor() as cursor:
            grid_table = registry_model("grid")._meta.db_table
            deferred = [
                name for name, info in connection.introspection.get_constraints(cursor, grid_table).items()
                if info["foreign_key"] and info["columns"] in (["head_id"], ["worker_id"])
            ]
            if deferred:
                names = ", ".join(connection.ops.quote_name(n) for n in deferred)
                cursor.execute(f"SET CONSTRAINTS {names} DEFERRED")

    def write(self, table: str, rows: list) -> None:
        from psycopg.copy import QueuedLibpqWriter

        model = registry_model(table)
        extra_names, extra_values = self.extras[table]
        # COPY would send a Python list as a PostgreSQL array; JSON columns want JSON text.
        extra_values = tuple(json.dumps(v) if isinstance(v, (list, dict)) else v for v in extra_values)
        columns = ", ".join(connection.ops.quote_name(c) for c in COLUMNS[table] + tuple(extra_names))
        sql = f"COPY {connection.ops.quote_name(model._meta.db_table)} ({columns}) FROM STDIN"
        with connection.cursor() as cursor:
            raw = cursor.cursor
            # A queued writer sends the data from a thread: we keep generating while it travels.
            with raw.copy(sql, writer=QueuedLibpqWriter(raw)) as copy:
                write_row = copy.write_row
                if extra_values:
                    for row in rows:
                        write_row((*row, *extra_values))
                else:
                    for row in rows:
                        write_row(row)


class OrmSink(_Sink):
    """Any other database (the SQLite demo): ``bulk_create`` in batches."""

    BATCH = 500

    def write(self, table: str, rows: list) -> None:
        model = registry_model(table)
        extra_names, extra_values = self.extras[table]
        names = COLUMNS[table] + tuple(extra_names)
        fields = {f.attname: f for f in model._meta.concrete_fields}
        json_columns = {i for i, name in enumerate(names) if isinstance(fields[name], models.JSONField)}
        objects = []
        for row in rows:
            values = (*row, *extra_values)
            if json_columns:
                values = tuple(json.loads(v) if i in json_columns and isinstance(v, str) else v
                               for i, v in enumerate(values))
            objects.append(model(**dict(zip(names, values))))
        model._base_manager.bulk_create(objects, batch_size=self.BATCH)


class PostgresLoadWindow:
    """For big runs on PostgreSQL: drop the registry tables' secondary indexes, unique and
    foreign-key constraints (and other tables' foreign keys into the registry) before loading and
    build them again afterwards, as pg_restore does.

    Building an index once over sorted data and validating a foreign key with one query are far
    cheaper than maintaining 13 indexes and firing 5 foreign-key triggers per person row, and
    without foreign keys pointing in, clearing the registry is one TRUNCATE. It all
    happens inside the generation's transaction: if anything fails, the rollback brings the
    indexes and constraints back untouched. Primary keys stay. While the transaction is open
    the registry tables are locked (ACCESS EXCLUSIVE): other sessions wait for the run.
    """

    def __init__(self, cursor, tables: list[str] | None = None):
        self.cursor = cursor
        self.tables = tables  # database tables; default: the registry's
        self.indexes: list[str] = []  # CREATE INDEX statements
        self.constraints: list[tuple[str, str, str]] = []  # (table, name, definition)

    def open(self) -> None:
        cursor, quote = self.cursor, connection.ops.quote_name
        tables = self.tables or [registry_model(t)._meta.db_table for t in TABLES]
        cursor.execute(
            "SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid), c.contype "
            "FROM pg_constraint c WHERE (c.conrelid = ANY(%s::regclass[]) AND c.contype IN ('f', 'u')) "
            "OR (c.confrelid = ANY(%s::regclass[]) AND c.contype = 'f') "
            "ORDER BY c.contype, c.conname", [tables, tables])
        self.constraints = [(table, name, definition) for table, name, definition, _ in cursor.fetchall()]
        cursor.execute(
            "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i "
            "WHERE i.indrelid = ANY(%s::regclass[]) AND NOT EXISTS "
            "(SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid) ORDER BY 1", [tables])
        index_rows = cursor.fetchall()
        self.indexes = [definition for _, definition in index_rows]
        for table, name, _ in self.constraints:
            cursor.execute(f"ALTER TABLE {quote(table)} DROP CONSTRAINT {quote(name)}")
        for name, _ in index_rows:
            cursor.execute(f"DROP INDEX {name}")

    def close(self) -> None:
        cursor, quote = self.cursor, connection.ops.quote_name
        cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
        for definition in self.indexes:
            cursor.execute(definition)
        # Dropped foreign keys first (contype "f" sorts before "u"); added back in reverse order.
        for table, name, definition in reversed(self.constraints):
            cursor.execute(f"ALTER TABLE {quote(table)} ADD CONSTRAINT {quote(name)} {definition}")


# Below this many households the index dance costs more than it saves.
LOAD_WINDOW_HOUSEHOLDS = 20_000


# ---------------------------------------------------------------------------------------------
# clearing


def detach_from_registry(log=lambda message: None) -> None:
    """Before the registry is cleared: deal with what other apps hold that points into it.

    Logins survive: their link to a registry person is cleared and their role assignments over
    registry regions, grids and departments are deleted (``gongzhi demo`` puts the demo ones
    back). Other rows that refer to registry rows (cases, visits …) are deleted through the ORM,
    so their own dependants go with them. Audit rows are never touched.
    """
    registry_models = set(apps.get_app_config("registry").get_models())
    user_model = get_user_model()
    pending = []
    existing = set(connection.introspection.table_names())
    for model in apps.get_models():
        if model in registry_models or model._meta.db_table not in existing:
            continue
        for f in model._meta.concrete_fields:
            if not (f.is_relation and f.related_model in registry_models):
                continue
            qs = model._base_manager.filter(**{f"{f.name}__isnull": False})
            if model is user_model and f.null:
                n = qs.update(**{f.name: None})
                if n:
                    log(f"  {model._meta.label}.{f.name}: {n} unlinked")
            else:
                pending.append((model, qs))
    # Other apps' rows may protect each other: delete what can go, then try the rest again.
    while pending:
        blocked = []
        for model, qs in pending:
            try:
                n, _ = qs.delete()
            except ProtectedError:
                blocked.append((model, qs))
                continue
            if n:
                log(f"  {model._meta.label}: {n} rows referring to the registry deleted")
        if len(blocked) == len(pending):
            raise RuntimeError(f"cannot clear the registry: rows of {blocked[0][0]._meta.label} are protected")
        pending = blocked


def wipe_registry_tables() -> None:
    """Empty every registry table. On PostgreSQL inside an open ``PostgresLoadWindow`` (no
    foreign keys point in): one TRUNCATE; elsewhere DELETE, foreign keys being checked at commit."""
    tables = [connection.ops.quote_name(registry_model(t)._meta.db_table) for t in TABLES]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"TRUNCATE {', '.join(tables)}")
        else:
            for table in reversed(tables):
                cursor.execute(f"DELETE FROM {table}")


# ---------------------------------------------------------------------------------------------
# the run


@dataclass
class GenerationResult:
    spec: CountySpec
    counts: dict
    seconds: float
    seconds_writing: float

    @property
    def rows(self) -> int:
        return sum(self.counts.values())


def generate_county(spec: CountySpec, *, clear: bool = False, log=lambda message: None,
                    progress=lambda done, total, elapsed: None) -> GenerationResult:
    """Generate ``spec`` into the default database in one transaction; see the module docstring."""
    started = time.perf_counter()
    spec.check()
    now = timezone.now()
    postgres = connection.vendor == "postgresql"
    with transaction.atomic():
        if postgres:
            # Check whatever is pending now (a caller's earlier writes in the same transaction
            # would block ALTER TABLE and TRUNCATE) and check our rows statement by statement.
            with connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        clearing = not registry_is_empty()
        if clearing and not clear:
            raise RegistryNotEmpty(
                "登记库不是空的：加 --clear 先清空再生成。The registry is not empty: "
                "use --clear to delete it (and everything that refers to it) first."
            )
        if clearing:
            log("clearing the registry …")
            detach_from_registry(log)
        window = None
        if postgres and (clearing or spec.households >= LOAD_WINDOW_HOUSEHOLDS):
            log("dropping the registry's secondary indexes and constraints for the load …")
            window = PostgresLoadWindow(connection.cursor())
            window.open()
        if clearing:
            wipe_registry_tables()
        sink = CopySink(now) if postgres else OrmSink(now)
        generator = CountyGenerator(spec)
        counts = generator.run(sink, on_village=lambda done, total: progress(
            done, total, time.perf_counter() - started))
        sink.close()
        if window is not None:
            log(f"rows written in {time.perf_counter() - started:.1f} s; rebuilding indexes and constraints …")
            window.close()
        _finish(generator)
        audit_record(
            actor=None, action=AuditAction.GENERATE, object_type="registry.region",
            object_id=str(generator.county_id), object_repr=f"{COUNTY_NAME}（generated）",
            note=(f"gongzhi generate: seed={spec.seed} as_of={spec.as_of.isoformat()} towns={spec.towns} "
                  f"(subdistricts={spec.subdistricts}) villages={spec.villages} households={counts['household']} "
                  f"persons={counts['person']} grids={counts['grid']} rows={counts.total}. Bulk path: written "
                  "with COPY/bulk_create, bypassing the per-record services and their audit rows."),
            territory=registry_model("region")._base_manager.get(pk=generator.county_id),
        )
        if postgres:
            with connection.cursor() as cursor:
                # Run the deferred Grid.head/worker checks now, then back to Django's default
                # (its foreign keys are all INITIALLY DEFERRED).
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                cursor.execute("SET CONSTRAINTS ALL DEFERRED")
    if postgres:  # fresh statistics, or the first queries plan for empty tables
        with connection.cursor() as cursor:
            for table in TABLES:
                cursor.execute(f"ANALYZE {connection.ops.quote_name(registry_model(table)._meta.db_table)}")
    return GenerationResult(spec=spec, counts=dict(counts.rows), seconds=time.perf_counter() - started,
                            seconds_writing=sink.seconds_writing)


def _finish(generator: CountyGenerator) -> None:
    """The few values known only at the end, then sequences past the explicit ids."""
    region, party_org = registry_model("region"), registry_model("partyorganization")
    for region_id, population in generator.region_population.items():
        region._base_manager.filter(pk=region_id).update(population=population)
    for branch in generator.host_branches:
        if branch["secretary"] is not None:
            party_org._base_manager.filter(pk=branch["id"]).update(secretary_id=branch["secretary"])
    statements = connection.ops.sequence_reset_sql(no_style(), [registry_model(t) for t in TABLES])
    if statements:
        with connection.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql)


# ---------------------------------------------------------------------------------------------
# cases


# Below this many cases maintaining the indexes row by row is cheaper than rebuilding them.
LOAD_WINDOW_CASES = 100_000
CASE_CHUNK = 20_000


@dataclass
class CaseLoadResult:
    cases: int
    by_status: dict
    numbers: dict  # year → (first, last)
    seconds: float


def _case_tables() -> list[str]:
    return [apps.get_model("cases", "case")._meta.db_table]


def generate_open_cases(county, n: int, *, seed: int = 321, now=None, days: int = 365,
                        log=lambda message: None) -> CaseLoadResult:
    """``n`` open cases in ``county``, received over the ``days`` before ``now``, in the states of
    a working county (2 % still waiting for acceptance, the rest spread over the open steps as
    ``gongzhi.cases.demo.OPEN_MIX``), over its villages, grids, categories and tiers.

    The same bulk path as the registry: rows come from ``gongzhi.cases.demo.iter_cases`` (the
    demo's case builder, so deadlines follow the catalogue's time limits on the Chinese calendar),
    numbers are reserved per year in the same transaction (gapless: ``CaseNumberSequence`` moves
    by exactly the count), rows go in with COPY on PostgreSQL (bulk_create elsewhere), big loads
    rebuild the case table's indexes once afterwards, and the run writes one audit row.
    No timelines are written: a generated case starts its history where the load left it.
    """
    from collections import Counter

    from gongzhi.cases.demo import iter_cases
    from gongzhi.cases.models import CaseNumberSequence

    case_model = apps.get_model("cases", "case")
    started = time.perf_counter()
    now = now or timezone.now()
    postgres = connection.vendor == "postgresql"
    statuses: Counter = Counter()
    with transaction.atomic():
        before = dict(CaseNumberSequence.objects.values_list("year", "last"))
        window = None
        if postgres and n >= LOAD_WINDOW_CASES:
            log("dropping the case table's secondary indexes and constraints for the load …")
            with connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            window = PostgresLoadWindow(connection.cursor(), tables=_case_tables())
            window.open()
        fields = [f for f in case_model._meta.concrete_fields if not f.primary_key]
        names = [f.attname for f in fields]
        auto_now = {f.attname for f in fields if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)}
        chunk: list = []

        def flush():
            if not chunk:
                return
            if postgres:
                columns = ", ".join(connection.ops.quote_name(c) for c in names)
                sql = f"COPY {connection.ops.quote_name(case_model._meta.db_table)} ({columns}) FROM STDIN"
                with connection.cursor() as cursor:
                    with cursor.cursor.copy(sql) as copy:
                        for case in chunk:
                            copy.write_row([now if name in auto_now else getattr(case, name) for name in names])
            else:
                for case in chunk:
                    case.created_at = case.updated_at = now
                case_model._base_manager.bulk_create(chunk, batch_size=500)
            chunk.clear()

        done = 0
        for case, _times in iter_cases(county, n, seed, closed=0, not_accepted=round(n * 0.02),
                                       start=now - dt.timedelta(days=days), end=now, now=now):
            statuses[case.status] += 1
            chunk.append(case)
            if len(chunk) >= CASE_CHUNK:
                flush()
                done += CASE_CHUNK
                log(f"  {done:,}/{n:,} cases · {time.perf_counter() - started:.1f} s")
        flush()
        if window is not None:
            log("rebuilding the case table's indexes and constraints …")
            window.close()
            with connection.cursor() as cursor:  # back to Django's default (INITIALLY DEFERRED)
                cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        after = dict(CaseNumberSequence.objects.values_list("year", "last"))
        numbers = {year: (before.get(year, 0) + 1, last) for year, last in sorted(after.items())
                   if last != before.get(year, 0)}
        audit_record(
            actor=None, action=AuditAction.GENERATE, object_type="cases.case", object_repr="演示民情数据（批量）",
            note=(f"gongzhi generate --cases {n}: seed={seed}, {n} open cases received over the {days} days before "
                  f"{now.isoformat(timespec='seconds')}; numbers "
                  + ", ".join(f"{y}: {a}–{b}" for y, (a, b) in numbers.items())
                  + ". Bulk path: written with COPY/bulk_create, bypassing case_register and its audit rows."),
            territory=county,
        )
    if postgres:
        from gongzhi.cases.statistics import statistics_fold

        statistics_fold()  # the load's statistics deltas into the rollups, so the first read is fast
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(case_model._meta.db_table)}")
    return CaseLoadResult(cases=n, by_status=dict(statuses), numbers=numbers,
                          seconds=time.perf_counter() - started)
