"""An issued bulletin is frozen in the database too: UPDATE and DELETE of an issued row are
refused (a correction is a new version, ``services.bulletin_correct``). Drafts change freely.
The demo's ``--clear`` deletes through the flag table ``assessment_bulletinpurge``, as the
resources ledger does (resources 0002); production's application role may not write it.
"""
from django.db import migrations

PG_FORWARD = """
CREATE TABLE assessment_bulletinpurge (started_at timestamptz NOT NULL DEFAULT now());
CREATE OR REPLACE FUNCTION assessment_bulletin_frozen() RETURNS trigger AS $$
BEGIN
    IF OLD.status <> 'issued' THEN
        IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
        RETURN NEW;
    END IF;
    IF TG_OP = 'DELETE' AND EXISTS (SELECT 1 FROM assessment_bulletinpurge) THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'an issued bulletin is frozen: %% rejected (issue a corrected version)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$ LANGUAGE plpgsql;
CREATE TRIGGER assessment_bulletin_frozen
    BEFORE UPDATE OR DELETE ON assessment_bulletin
    FOR EACH ROW EXECUTE FUNCTION assessment_bulletin_frozen();
"""
PG_BACKWARD = """
DROP TRIGGER IF EXISTS assessment_bulletin_frozen ON assessment_bulletin;
DROP FUNCTION IF EXISTS assessment_bulletin_frozen();
DROP TABLE IF EXISTS assessment_bulletinpurge;
"""
SQLITE_FORWARD = [
    "CREATE TABLE assessment_bulletinpurge (started_at datetime NOT NULL DEFAULT CURRENT_TIMESTAMP);",
    """CREATE TRIGGER assessment_bulletin_no_update BEFORE UPDATE ON assessment_bulletin
       WHEN OLD.status = 'issued'
       BEGIN SELECT RAISE(ABORT, 'an issued bulletin is frozen: UPDATE rejected'); END;""",
    """CREATE TRIGGER assessment_bulletin_no_delete BEFORE DELETE ON assessment_bulletin
       WHEN OLD.status = 'issued' AND NOT EXISTS (SELECT 1 FROM assessment_bulletinpurge)
       BEGIN SELECT RAISE(ABORT, 'an issued bulletin is frozen: DELETE rejected'); END;""",
]
SQLITE_BACKWARD = ["DROP TRIGGER IF EXISTS assessment_bulletin_no_update;",
                   "DROP TRIGGER IF EXISTS assessment_bulletin_no_delete;",
                   "DROP TABLE IF EXISTS assessment_bulletinpurge;"]


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
    dependencies = [("assessment", "0001_initial")]
    operations = [migrations.RunPython(forward, backward)]
