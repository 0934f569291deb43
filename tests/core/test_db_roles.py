"""The application's PostgreSQL role owns nothing and cannot change the audit trail (issue 10 §3).

Run on the real PostgreSQL: ``gongzhi db_roles`` creates a role (named after the test database,
so that parallel runs on one server do not share it), then a second connection *as that role*
tries what an attacker holding the application's credentials would.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from django.core.management import CommandError, call_command
from django.db import connection

pytestmark = [pytest.mark.django_db(transaction=True),
              pytest.mark.skipif(connection.vendor != "postgresql", reason="roles are PostgreSQL's")]

ROOT = Path(__file__).resolve().parents[2]
INSERT_AUDIT = ("INSERT INTO core_auditlog (created_at, actor_username, request_id, action, object_type, object_id, "
                "object_repr, changed_fields, note) VALUES ({when}, 'app', '', 'create', 'test.thing', '1', '', "
                "'[]'::jsonb, %s) RETURNING id")


@pytest.fixture
def app_role():
    role = f"gongzhi_app_{connection.settings_dict['NAME']}"[:63]
    call_command("db_roles", role=role, verbosity=0)
    try:
        yield role
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP OWNED BY {connection.ops.quote_name(role)}")
            cursor.execute(f"DROP ROLE {connection.ops.quote_name(role)}")


def _connect(role):
    s = connection.settings_dict
    return psycopg.connect(host=s["HOST"] or "127.0.0.1", port=s["PORT"] or 5432, dbname=s["NAME"], user=role,
                           autocommit=True)


def _refused(conn, sql, params=()):
    with pytest.raises(psycopg.errors.InsufficientPrivilege) as failure:
        conn.execute(sql, params)
    return str(failure.value)


def test_the_app_role_can_append_and_read_the_audit_trail_but_never_change_it(app_role):
    with connection.cursor() as cursor:  # an old row, which the trigger would let the owner delete
        cursor.execute(INSERT_AUDIT.format(when="now() - interval '400 days'"), ["old"])
        old_id = cursor.fetchone()[0]
    with _connect(app_role) as conn:
        new_id = conn.execute(INSERT_AUDIT.format(when="now()"), ["written by the app role"]).fetchone()[0]
        assert conn.execute("SELECT note FROM core_auditlog WHERE id = %s", [new_id]).fetchone() == (
            "written by the app role",)
        # Refused by privilege, not only by the trigger: "permission denied", and also for the old
        # row that the trigger allows deleting.
        assert "permission denied" in _refused(conn, "UPDATE core_auditlog SET note = 'x' WHERE id = %s", [new_id])
        assert "permission denied" in _refused(conn, "DELETE FROM core_auditlog WHERE id = %s", [old_id])
        assert "permission denied" in _refused(conn, "DELETE FROM core_auditlog")
        assert "permission denied" in _refused(conn, "TRUNCATE core_auditlog")
        assert "must be owner" in _refused(conn, "ALTER TABLE core_auditlog DISABLE TRIGGER ALL")
        assert "must be owner" in _refused(conn, "DROP TRIGGER core_auditlog_append_only ON core_auditlog")
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM core_auditlog WHERE id IN (%s, %s)", [old_id, new_id])
        assert cursor.fetchone() == (2,)


def test_the_app_role_owns_nothing_and_creates_nothing(app_role):
    with _connect(app_role) as conn:
        owned = conn.execute("SELECT count(*) FROM pg_class WHERE relowner = (SELECT oid FROM pg_roles "
                             "WHERE rolname = current_user)").fetchone()[0]
        assert owned == 0
        _refused(conn, "CREATE TABLE sneaky (id int)")
        _refused(conn, "INSERT INTO django_migrations (app, name, applied) VALUES ('x', 'y', now())")
        _refused(conn, "TRUNCATE registry_household")
        # everything else: rows only
        missing = conn.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') "
            "AND c.relname NOT IN ('core_auditlog', 'django_migrations') "
            "AND NOT has_table_privilege(c.oid, 'SELECT,INSERT,UPDATE,DELETE')").fetchall()
        assert missing == []


def test_the_application_works_as_the_app_role(app_role):
    """The ORM, as the app role: an audited write and a read succeed; deleting the trail does not."""
    s = connection.settings_dict
    url = f"postgres://{app_role}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"
    code = """
import json, django
django.setup()
from django.db import DatabaseError, transaction
from gongzhi.core.audit import audit_record
from gongzhi.core.models import AuditLog
from gongzhi.registry.models import Region
row = audit_record(actor=None, action="create", object_type="test.thing", note="via the ORM")
result = {"written": AuditLog.objects.filter(pk=row.pk).exists(), "regions": Region.objects.count()}
try:
    with transaction.atomic():
        AuditLog.objects.all().delete()
    result["delete"] = "allowed"
except DatabaseError as exc:
    result["delete"] = str(exc).splitlines()[0]
print(json.dumps(result))
"""
    env = {**os.environ, "DATABASE_URL": url, "GONGZHI_TESTING": "1", "DJANGO_SETTINGS_MODULE": "gongzhi.settings"}
    env.pop("GONGZHI_TEST_DB_NAME", None)
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    assert answer["written"] is True and answer["regions"] >= 0
    assert "permission denied" in answer["delete"]


def test_db_roles_is_idempotent_and_checks(app_role, capsys):
    call_command("db_roles", role=app_role, verbosity=0)
    call_command("db_roles", role=app_role, check=True)
    assert "privileges as expected" in capsys.readouterr().out
    with connection.cursor() as cursor:
        cursor.execute(f"GRANT TRUNCATE ON core_auditlog TO {connection.ops.quote_name(app_role)}")
    with pytest.raises(CommandError, match="holds TRUNCATE on core_auditlog"):
        call_command("db_roles", role=app_role, check=True)
    call_command("db_roles", role=app_role, verbosity=0)  # puts it right
    call_command("db_roles", role=app_role, check=True)


def test_db_roles_refuses_a_powerful_role():
    with pytest.raises(CommandError, match="plain login role"):
        call_command("db_roles", role="postgres", verbosity=0)
