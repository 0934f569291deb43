"""Case numbers off the registration's hot path (issue 10): ``number`` may be NULL until the
numbering batch right after commit gives it (``gongzhi/cases/numbering.py``); a partial index
finds the cases waiting; on PostgreSQL the batch is one SQL function and a trigger keeps a
number once given."""
from django.db import migrations, models

# The numbering batch (gongzhi/cases/numbering.py). Each statement of a VOLATILE plpgsql
# function takes a fresh snapshot (READ COMMITTED), so after the advisory lock the SELECTs see
# every batch and registration committed before it.
CREATE_FUNCTION = r"""
CREATE OR REPLACE FUNCTION cases_number_pending(tz text, prefix text, wanted bigint, placeholder text)
RETURNS text LANGUAGE plpgsql VOLATILE AS $fn$
DECLARE
    result text;
    y integer;
BEGIN
    IF wanted IS NOT NULL THEN
        SELECT number INTO result FROM cases_case WHERE id = wanted;
        IF result IS NOT NULL THEN RETURN result; END IF;
    END IF;
    PERFORM pg_advisory_xact_lock(%(key)s);
    IF wanted IS NOT NULL THEN
        SELECT number INTO result FROM cases_case WHERE id = wanted;
        IF result IS NOT NULL THEN RETURN result; END IF;
    END IF;
    FOR y IN SELECT DISTINCT extract(year FROM received_at AT TIME ZONE tz)::integer
             FROM cases_case WHERE number IS NULL ORDER BY 1 LOOP
        INSERT INTO cases_casenumbersequence (year, last) VALUES (y, 0) ON CONFLICT (year) DO NOTHING;
        WITH pending AS MATERIALIZED (
            SELECT id, row_number() OVER (ORDER BY id) AS n FROM cases_case
            WHERE number IS NULL AND extract(year FROM received_at AT TIME ZONE tz)::integer = y
        ), seq AS (
            UPDATE cases_casenumbersequence SET last = last + (SELECT count(*) FROM pending)
            WHERE year = y RETURNING last - (SELECT count(*) FROM pending) AS base
        ), numbered AS (
            UPDATE cases_case c
            SET number = prefix || '-' || y || '-' || lpad((seq.base + pending.n)::text,
                                                          greatest(6, length((seq.base + pending.n)::text)), '0')
            FROM pending, seq WHERE c.id = pending.id
            RETURNING c.id, c.number, c.title, c.county_id, c.town_id, c.village_id
        ), texts AS (
            UPDATE cases_notification SET text = replace(text, placeholder, numbered.number)
            FROM numbered WHERE cases_notification.case_id = numbered.id AND strpos(text, placeholder) > 0
        )
        INSERT INTO core_auditlog (created_at, actor_id, actor_username, request_id, action, object_type,
                                   object_id, object_repr, before, after, changed_fields, note,
                                   county_id, town_id, village_id)
        SELECT now(), NULL, 'system', '', 'update', 'cases.case', numbered.id::text,
               left(numbered.number || ' ' || numbered.title, 200), '{"number": null}'::jsonb,
               jsonb_build_object('number', numbered.number), '["number"]'::jsonb, '编号（number）',
               numbered.county_id, numbered.town_id, numbered.village_id
        FROM numbered;
    END LOOP;
    IF wanted IS NOT NULL THEN
        SELECT number INTO result FROM cases_case WHERE id = wanted;
    END IF;
    RETURN result;
END
$fn$;

-- A number, once given, is the ledger's: a stale save() cannot take it away or change it.
CREATE OR REPLACE FUNCTION cases_case_keep_number() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    IF OLD.number IS NOT NULL AND NEW.number IS DISTINCT FROM OLD.number THEN
        NEW.number := OLD.number;
    END IF;
    RETURN NEW;
END
$fn$;
DROP TRIGGER IF EXISTS cases_case_keep_number ON cases_case;
CREATE TRIGGER cases_case_keep_number BEFORE UPDATE OF number ON cases_case
    FOR EACH ROW EXECUTE FUNCTION cases_case_keep_number();
""" % {"key": 0x475A_4E4F}  # numbering.ADVISORY_KEY

DROP_FUNCTION = """
DROP TRIGGER IF EXISTS cases_case_keep_number ON cases_case;
DROP FUNCTION IF EXISTS cases_case_keep_number();
DROP FUNCTION IF EXISTS cases_number_pending(text, text, bigint, text);
"""


def create_function(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE_FUNCTION)


def drop_function(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_FUNCTION)


class Migration(migrations.Migration):

    dependencies = [
        ("cases", "0002_default_catalogue"),
    ]

    operations = [
        migrations.AlterField(
            model_name="case",
            name="number",
            field=models.CharField(blank=True, max_length=32, null=True, unique=True, verbose_name="case number"),
        ),
        migrations.AddIndex(
            model_name="case",
            index=models.Index(condition=models.Q(("number__isnull", True)), fields=["id"], name="case_number_pending"),
        ),
        migrations.RunPython(create_function, drop_function),
    ]
