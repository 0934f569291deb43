"""``gongzhi db_roles``: the PostgreSQL role the application runs as, owning nothing.

The role that owns a table can do anything to it — including ``TRUNCATE core_auditlog``, which
no row trigger sees. So production keeps two roles (docs/deployment.md):

* the **owner** (e.g. ``gongzhi_owner``) runs ``gongzhi migrate`` and this command, and owns every
  table, sequence and function;
* the **application role** (default ``gongzhi_app``) is what ``DATABASE_URL`` connects as for
  gunicorn and Celery. It owns nothing and holds exactly: CONNECT on the database, USAGE on the
  schema, SELECT/INSERT/UPDATE/DELETE on the tables — except ``core_auditlog`` (SELECT, INSERT
  only: no UPDATE, DELETE or TRUNCATE) and ``django_migrations`` (SELECT only: only the owner
  migrates) — and USAGE/SELECT on the sequences. Never TRUNCATE, REFERENCES or TRIGGER.

Run it as the owner after every ``migrate`` (it is idempotent: it revokes everything and grants
the list again, so a table a migration added gets its privileges). Default privileges are set too,
so a table created by a later migration is usable before the command runs again.
``--check`` changes nothing and exits non-zero when the role holds more (or less) than the list.
"""
from __future__ import annotations

import os

from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections

APPEND_ONLY = {"core_auditlog": ["SELECT", "INSERT"]}
READ_ONLY = {"django_migrations": ["SELECT"]}
ALL_ROWS = ["SELECT", "INSERT", "UPDATE", "DELETE"]
NEVER = ["TRUNCATE", "REFERENCES", "TRIGGER"]


def allowed_privileges(table: str) -> list[str]:
    return APPEND_ONLY.get(table) or READ_ONLY.get(table) or ALL_ROWS


class Command(BaseCommand):
    help = "Create or update the application's PostgreSQL role: owns nothing, cannot change the audit trail."

    def add_arguments(self, parser):
        parser.add_argument("--role", default=os.environ.get("GONGZHI_APP_DB_ROLE", "gongzhi_app"))
        parser.add_argument("--password-env", default="GONGZHI_APP_DB_PASSWORD",
                            help="environment variable holding the role's password (never on the command line)")
        parser.add_argument("--no-create", action="store_true", help="the role must exist already (made by a DBA)")
        parser.add_argument("--check", action="store_true", help="only verify the role's privileges")
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS)

    def handle(self, *args, **options):
        connection = connections[options["database"]]
        if connection.vendor != "postgresql":
            raise CommandError("db_roles is for PostgreSQL (the embedded SQLite demo has no roles)")
        role = options["role"]
        with connection.cursor() as cursor:
            self.cursor, self.q = cursor, connection.ops.quote_name
            if options["check"]:
                problems = self.problems(role)
                if problems:
                    raise CommandError(f"role {role}: " + "; ".join(problems))
                self.stdout.write(f"role {role}: owns nothing, privileges as expected")
                return
            self.ensure_role(role, create=not options["no_create"], password=os.environ.get(options["password_env"]))
            self.grant(role)
            problems = self.problems(role)
        if problems:
            raise CommandError(f"role {role} after granting: " + "; ".join(problems))
        self.stdout.write(self.style.SUCCESS(
            f"role {role}: owns nothing; rows of every table except core_auditlog (SELECT, INSERT) "
            "and django_migrations (SELECT)"))

    # -----------------------------------------------------------------------------------------

    def one(self, sql: str, params=()):
        self.cursor.execute(sql, params)
        return self.cursor.fetchone()

    def all(self, sql: str, params=()):
        self.cursor.execute(sql, params)
        return self.cursor.fetchall()

    def tables(self) -> list[str]:
        return [t for (t,) in self.all("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")]

    def ensure_role(self, role: str, *, create: bool, password: str | None) -> None:
        exists = self.one("SELECT rolsuper, rolcreaterole, rolcreatedb FROM pg_roles WHERE rolname = %s", [role])
        if exists is None:
            if not create:
                raise CommandError(f"role {role} does not exist (drop --no-create to create it)")
            self.cursor.execute(f"CREATE ROLE {self.q(role)} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE "
                                "NOREPLICATION NOBYPASSRLS")
        elif any(exists):
            raise CommandError(f"role {role} is a superuser or may create roles or databases: "
                               "the application role must be a plain login role")
        if password:
            self.cursor.execute(f"ALTER ROLE {self.q(role)} PASSWORD %s", [password])
        owner = self.one("SELECT current_user")[0]
        if role == owner:
            raise CommandError("run db_roles as the owner role, naming a different application role")
        if self.one("SELECT pg_has_role(%s, %s, 'MEMBER')", [role, owner])[0]:
            raise CommandError(f"role {role} is a member of the owner {owner}: it would hold the owner's rights")

    def grant(self, role: str) -> None:
        r, q = self.q(role), self.q
        database = self.one("SELECT current_database()")[0]
        owner = self.one("SELECT current_user")[0]
        statements = [
            f"GRANT CONNECT ON DATABASE {q(database)} TO {r}",
            f"GRANT USAGE ON SCHEMA public TO {r}",
            f"REVOKE CREATE ON SCHEMA public FROM {r}",
            f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {r}",
            f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {r}",
            f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {r}",
            # Tables of later migrations: rows only, never TRUNCATE (re-run this after migrate).
            f"ALTER DEFAULT PRIVILEGES FOR ROLE {q(owner)} IN SCHEMA public GRANT {', '.join(ALL_ROWS)} ON TABLES TO {r}",
            f"ALTER DEFAULT PRIVILEGES FOR ROLE {q(owner)} IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO {r}",
        ]
        for table in self.tables():
            statements.append(f"GRANT {', '.join(allowed_privileges(table))} ON {q(table)} TO {r}")
        for statement in statements:
            self.cursor.execute(statement)

    def problems(self, role: str) -> list[str]:
        if self.one("SELECT 1 FROM pg_roles WHERE rolname = %s", [role]) is None:
            return ["does not exist"]
        problems = []
        owned = self.all(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE c.relowner = (SELECT oid FROM pg_roles WHERE rolname = %s) "
            "UNION ALL SELECT p.proname FROM pg_proc p WHERE p.proowner = (SELECT oid FROM pg_roles WHERE rolname = %s) "
            "UNION ALL SELECT nspname FROM pg_namespace WHERE nspowner = (SELECT oid FROM pg_roles WHERE rolname = %s)",
            [role, role, role])
        if owned:
            problems.append("owns " + ", ".join(sorted(name for (name,) in owned)[:10]))
        if self.one("SELECT has_schema_privilege(%s, 'public', 'CREATE')", [role])[0]:
            problems.append("may CREATE in schema public (REVOKE CREATE ON SCHEMA public FROM PUBLIC)")
        for table in self.tables():
            allowed = allowed_privileges(table)
            for privilege in ALL_ROWS + NEVER:
                held = self.one("SELECT has_table_privilege(%s, %s, %s)", [role, f"public.{self.q(table)}", privilege])[0]
                if held and privilege not in allowed:
                    problems.append(f"holds {privilege} on {table}")
                elif not held and privilege in allowed:
                    problems.append(f"lacks {privilege} on {table}")
        return problems
