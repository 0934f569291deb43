"""The stock ledger is append-only at the database level, like the audit trail (core 0002).

UPDATE and DELETE of a movement are refused; TRUNCATE stays possible for the table's owner
(test-database teardown). The resource's cached balances change beside the ledger, never instead.
The one way to delete is the demo generator's ``--clear`` (``resources.demo.clear_resources_year``):
inside its transaction it writes a row into ``resources_ledgerpurge``, which the triggers honour;
production runs the application under a role that may not write that table.
"""
from django.db import migrations

PG_FORWARD = """
CREATE TABLE resources_ledgerpurge (started_at timestamptz NOT NULL DEFAULT now());
CREATE OR REPLACE FUNCTION resources_movement_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' AND EXISTS (SELECT 1 FROM resources_ledgerpurge) THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'resources_stockmovement is append-only: %% rejected', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$ LANGUAGE plpgsql;
CREATE TRIGGER resources_movement_append_only
    BEFORE UPDATE OR DELETE ON resources_stockmovement
    FOR EACH ROW EXECUTE FUNCTION resources_movement_append_only();
"""
PG_BACKWARD = """
DROP TRIGGER IF EXISTS resources_movement_append_only ON resources_stockmovement;
DROP FUNCTION IF EXISTS resources_movement_append_only();
DROP TABLE IF EXISTS resources_ledgerpurge;
"""
SQLITE_FORWARD = [
    "CREATE TABLE resources_ledgerpurge (started_at datetime NOT NULL DEFAULT CURRENT_TIMESTAMP);",
    """CREATE TRIGGER resources_movement_no_update BEFORE UPDATE ON resources_stockmovement
       BEGIN SELECT RAISE(ABORT, 'resources_stockmovement is append-only: UPDATE rejected'); END;""",
    """CREATE TRIGGER resources_movement_no_delete BEFORE DELETE ON resources_stockmovement
       WHEN NOT EXISTS (SELECT 1 FROM resources_ledgerpurge)
       BEGIN SELECT RAISE(ABORT, 'resources_stockmovement is append-only: DELETE rejected'); END;""",
]
SQLITE_BACKWARD = ["DROP TRIGGER IF EXISTS resources_movement_no_update;",
                   "DROP TRIGGER IF EXISTS resources_movement_no_delete;",
                   "DROP TABLE IF EXISTS resources_ledgerpurge;"]


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_FORWARD)
    elif schema_editor.connection.vendor == "sqlite":
        for statement in SQLITE_FORWARD:
            schema_editor.execute(statement)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_BACKWARD)
    elif schema_editor.connection.vendor == "sqlite":
        for statement in SQLITE_BACKWARD:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("resources", "0001_initial")]
    operations = [migrations.RunPython(forward, backward)]
