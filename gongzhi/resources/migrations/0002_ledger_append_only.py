"""The stock ledger is append-only at the database level, like the audit trail (core 0002).

UPDATE and DELETE of a movement are refused; TRUNCATE stays possible for the table's owner
(test-database teardown). The resource's cached balances change beside the ledger, never instead.
"""
from django.db import migrations

PG_FORWARD = """
CREATE OR REPLACE FUNCTION resources_movement_append_only() RETURNS trigger AS $$
BEGIN
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
"""
SQLITE_FORWARD = [
    """CREATE TRIGGER resources_movement_no_update BEFORE UPDATE ON resources_stockmovement
       BEGIN SELECT RAISE(ABORT, 'resources_stockmovement is append-only: UPDATE rejected'); END;""",
    """CREATE TRIGGER resources_movement_no_delete BEFORE DELETE ON resources_stockmovement
       BEGIN SELECT RAISE(ABORT, 'resources_stockmovement is append-only: DELETE rejected'); END;""",
]
SQLITE_BACKWARD = ["DROP TRIGGER IF EXISTS resources_movement_no_update;",
                   "DROP TRIGGER IF EXISTS resources_movement_no_delete;"]


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
