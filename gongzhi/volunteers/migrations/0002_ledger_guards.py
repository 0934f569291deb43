"""The points ledger in the database: append-only, and every transaction balanced.

* ``volunteers_pointstransaction`` and ``volunteers_pointsposting`` reject UPDATE and DELETE
  (row triggers; TRUNCATE, used by test teardown, stays with the tables' owner, who in production
  is not the application's role — ``gongzhi db_roles``). A mistake is put right by a new
  transaction: a correction with its reason, or a refund.
* On PostgreSQL a deferred constraint trigger checks, at commit, that the postings of every
  transaction that gained a posting sum to zero: a transaction that creates or loses points cannot
  commit, whatever code wrote it. (The services check the same before they write.)
"""
from django.db import migrations

TABLES = ("volunteers_pointstransaction", "volunteers_pointsposting")

PG_FORWARD = """
CREATE OR REPLACE FUNCTION volunteers_ledger_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '%% is append-only: %% rejected', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$ LANGUAGE plpgsql;
CREATE TRIGGER volunteers_pointstransaction_append_only
    BEFORE UPDATE OR DELETE ON volunteers_pointstransaction
    FOR EACH ROW EXECUTE FUNCTION volunteers_ledger_append_only();
CREATE TRIGGER volunteers_pointsposting_append_only
    BEFORE UPDATE OR DELETE ON volunteers_pointsposting
    FOR EACH ROW EXECUTE FUNCTION volunteers_ledger_append_only();

CREATE OR REPLACE FUNCTION volunteers_posting_balanced() RETURNS trigger AS $$
DECLARE total bigint;
BEGIN
    SELECT COALESCE(SUM(amount), 0) INTO total FROM volunteers_pointsposting
        WHERE transaction_id = NEW.transaction_id;
    IF total <> 0 THEN
        RAISE EXCEPTION 'points transaction %% does not balance (postings sum to %%)', NEW.transaction_id, total
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;
CREATE CONSTRAINT TRIGGER volunteers_posting_balanced
    AFTER INSERT ON volunteers_pointsposting
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION volunteers_posting_balanced();
"""
PG_BACKWARD = """
DROP TRIGGER IF EXISTS volunteers_posting_balanced ON volunteers_pointsposting;
DROP FUNCTION IF EXISTS volunteers_posting_balanced();
DROP TRIGGER IF EXISTS volunteers_pointsposting_append_only ON volunteers_pointsposting;
DROP TRIGGER IF EXISTS volunteers_pointstransaction_append_only ON volunteers_pointstransaction;
DROP FUNCTION IF EXISTS volunteers_ledger_append_only();
"""


def _sqlite(table, op):
    return (f"CREATE TRIGGER {table}_no_{op.lower()} BEFORE {op} ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: {op} rejected'); END;")


def forward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_FORWARD)
    elif vendor == "sqlite":
        for table in TABLES:
            for op in ("UPDATE", "DELETE"):
                schema_editor.execute(_sqlite(table, op))


def backward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_BACKWARD)
    elif vendor == "sqlite":
        for table in TABLES:
            for op in ("update", "delete"):
                schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_no_{op};")


class Migration(migrations.Migration):
    dependencies = [("volunteers", "0001_initial")]
    operations = [migrations.RunPython(forward, backward)]
