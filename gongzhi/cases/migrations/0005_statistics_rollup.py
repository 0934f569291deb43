"""County statistics kept as rollups (PostgreSQL).

Three statement-level triggers on ``cases_case`` (AFTER INSERT / UPDATE / DELETE, with transition
tables) turn every statement into signed per-group counts — the old rows' counts subtracted, the
new rows' added, groups that net to zero dropped — and append them to ``cases_statisticsdelta``.
A TRUNCATE of the cases empties the rollups. ``statistics.statistics_fold`` moves the deltas into
``cases_statisticsrollup`` (per county, month, ledger, category, level, status, settled level) and
``cases_statisticsunitrollup`` (per county, month, handling unit); ``statistics.compute_statistics``
reads rollups + pending deltas in one query, so a figure is exact the moment the case's change
commits. Appending (not updating a shared row) keeps concurrent registrations from waiting on
each other. The counts below must say exactly what ``statistics.COUNTS`` says (tests compare the
rollup with a direct count after registrations, steps and deletes).

The month is taken in the time zone configured when this migration ran (settings.TIME_ZONE).
Existing cases are counted once, under a SHARE lock on the cases table, in the same transaction.
On SQLite (the demo) the tables exist but stay empty: statistics are computed directly there.
"""
from django.conf import settings
from django.db import migrations, models

COUNTS = {
    "received": "TRUE",
    "accepted": "r.accepted_at IS NOT NULL",
    "closed": "r.status = 'closed' AND r.closed_as IN ('resolved', 'unresolved')",
    "closed_on_time": "r.status = 'closed' AND r.closed_as IN ('resolved', 'unresolved') "
                      "AND r.resolution_due_at IS NOT NULL AND r.closed_at <= r.resolution_due_at",
    "resolved": "r.status = 'closed' AND r.closed_as = 'resolved'",
    "assigned": "r.response_due_at IS NOT NULL",
    "responded_on_time": "r.response_due_at IS NOT NULL AND r.first_response_at IS NOT NULL "
                         "AND r.first_response_at <= r.response_due_at",
    "satisfied": "r.satisfaction = 'satisfied'",
    "basic": "r.satisfaction = 'basic'",
    "dissatisfied": "r.satisfaction = 'dissatisfied'",
    "unreachable": "r.satisfaction = 'unreachable'",
    "reported": "r.result_reported_at IS NOT NULL",
    "reworked": "r.result_reported_at IS NOT NULL AND r.rework_count > 0",
    "extended": "r.accepted_at IS NOT NULL AND r.extension_count > 0",
    "disputes": "r.is_dispute AND r.accepted_at IS NOT NULL",
    "disputes_resolved": "r.is_dispute AND r.status = 'closed' AND r.closed_as = 'resolved'",
}
MAIN_KEY = ["county_id", "month", "ledger", "category_id", "current_level", "status", "settled_level"]
UNIT_KEY = ["county_id", "month", "unit_department_id", "unit_region_id", "unit_grid_id"]
DELTA_KEY = MAIN_KEY + UNIT_KEY[2:]


def _key_expressions(tz: str) -> dict:
    local = f"(r.received_at AT TIME ZONE '{tz}')"
    return {
        "county_id": "COALESCE(r.county_id, 0)",
        "month": f"(EXTRACT(YEAR FROM {local}) * 100 + EXTRACT(MONTH FROM {local}))::int",
        "ledger": "r.ledger", "category_id": "r.category_id", "current_level": "r.current_level",
        "status": "r.status", "settled_level": "r.settled_level",
        "unit_department_id": "COALESCE(r.assignee_department_id, 0)",
        "unit_region_id": "COALESCE(r.assignee_region_id, 0)",
        "unit_grid_id": "COALESCE(r.assignee_grid_id, 0)",
    }


def _grouped(source: str, tz: str) -> str:
    """SELECT <delta key>, <sums of sign × count> FROM <source rows r with a sign> GROUP BY key."""
    keys = _key_expressions(tz)
    key_sql = ", ".join(f"{keys[k]} AS {k}" for k in DELTA_KEY)
    sums = ", ".join(f"SUM(CASE WHEN {cond} THEN r.sign ELSE 0 END) AS {name}" for name, cond in COUNTS.items())
    group = ", ".join(str(i + 1) for i in range(len(DELTA_KEY)))
    nonzero = " OR ".join(f"SUM(CASE WHEN {cond} THEN r.sign ELSE 0 END) <> 0" for cond in COUNTS.values())
    return f"SELECT {key_sql}, {sums} FROM ({source}) r GROUP BY {group} HAVING {nonzero}"


def _columns() -> str:
    return ", ".join(DELTA_KEY + list(COUNTS))


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    tz = settings.TIME_ZONE.replace("'", "")
    sources = {
        "insert": "SELECT 1 AS sign, * FROM new_rows",
        "delete": "SELECT -1 AS sign, * FROM old_rows",
        "update": "SELECT 1 AS sign, * FROM new_rows UNION ALL SELECT -1 AS sign, * FROM old_rows",
    }
    sql = ["LOCK TABLE cases_case IN SHARE MODE"]
    for op, source in sources.items():
        sql.append(f"""
            CREATE FUNCTION cases_statistics_on_{op}() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                INSERT INTO cases_statisticsdelta ({_columns()}) {_grouped(source, tz)};
                RETURN NULL;
            END $$""")
    sql += [
        "CREATE TRIGGER cases_statistics_insert AFTER INSERT ON cases_case REFERENCING NEW TABLE AS new_rows "
        "FOR EACH STATEMENT EXECUTE FUNCTION cases_statistics_on_insert()",
        "CREATE TRIGGER cases_statistics_update AFTER UPDATE ON cases_case "
        "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows "
        "FOR EACH STATEMENT EXECUTE FUNCTION cases_statistics_on_update()",
        "CREATE TRIGGER cases_statistics_delete AFTER DELETE ON cases_case REFERENCING OLD TABLE AS old_rows "
        "FOR EACH STATEMENT EXECUTE FUNCTION cases_statistics_on_delete()",
        """CREATE FUNCTION cases_statistics_on_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
           BEGIN
               DELETE FROM cases_statisticsdelta;
               DELETE FROM cases_statisticsrollup;
               DELETE FROM cases_statisticsunitrollup;
               RETURN NULL;
           END $$""",
        "CREATE TRIGGER cases_statistics_truncate AFTER TRUNCATE ON cases_case "
        "FOR EACH STATEMENT EXECUTE FUNCTION cases_statistics_on_truncate()",
        # the cases already there, counted once (the fold moves them into the rollups)
        f"INSERT INTO cases_statisticsdelta ({_columns()}) "
        + _grouped("SELECT 1 AS sign, * FROM cases_case", tz),
    ]
    with schema_editor.connection.cursor() as cursor:
        for statement in sql:
            cursor.execute(statement)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        for op in ("insert", "update", "delete", "truncate"):
            cursor.execute(f"DROP TRIGGER IF EXISTS cases_statistics_{op} ON cases_case")
            cursor.execute(f"DROP FUNCTION IF EXISTS cases_statistics_on_{op}()")


class Migration(migrations.Migration):

    dependencies = [
        ('cases', '0004_sweep_partial_indexes'),
    ]

    operations = [
        migrations.CreateModel(
            name='StatisticsDelta',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('received', models.BigIntegerField(default=0)),
                ('accepted', models.BigIntegerField(default=0)),
                ('closed', models.BigIntegerField(default=0)),
                ('closed_on_time', models.BigIntegerField(default=0)),
                ('resolved', models.BigIntegerField(default=0)),
                ('assigned', models.BigIntegerField(default=0)),
                ('responded_on_time', models.BigIntegerField(default=0)),
                ('satisfied', models.BigIntegerField(default=0)),
                ('basic', models.BigIntegerField(default=0)),
                ('dissatisfied', models.BigIntegerField(default=0)),
                ('unreachable', models.BigIntegerField(default=0)),
                ('reported', models.BigIntegerField(default=0)),
                ('reworked', models.BigIntegerField(default=0)),
                ('extended', models.BigIntegerField(default=0)),
                ('disputes', models.BigIntegerField(default=0)),
                ('disputes_resolved', models.BigIntegerField(default=0)),
                ('county_id', models.IntegerField()),
                ('month', models.IntegerField()),
                ('ledger', models.CharField(max_length=16)),
                ('category_id', models.IntegerField()),
                ('current_level', models.CharField(max_length=8)),
                ('status', models.CharField(max_length=24)),
                ('settled_level', models.CharField(max_length=8)),
                ('unit_department_id', models.IntegerField()),
                ('unit_region_id', models.IntegerField()),
                ('unit_grid_id', models.IntegerField()),
            ],
            options={
                'indexes': [models.Index(fields=['county_id', 'month'], name='statistics_delta_county')],
            },
        ),
        migrations.CreateModel(
            name='StatisticsRollup',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('received', models.BigIntegerField(default=0)),
                ('accepted', models.BigIntegerField(default=0)),
                ('closed', models.BigIntegerField(default=0)),
                ('closed_on_time', models.BigIntegerField(default=0)),
                ('resolved', models.BigIntegerField(default=0)),
                ('assigned', models.BigIntegerField(default=0)),
                ('responded_on_time', models.BigIntegerField(default=0)),
                ('satisfied', models.BigIntegerField(default=0)),
                ('basic', models.BigIntegerField(default=0)),
                ('dissatisfied', models.BigIntegerField(default=0)),
                ('unreachable', models.BigIntegerField(default=0)),
                ('reported', models.BigIntegerField(default=0)),
                ('reworked', models.BigIntegerField(default=0)),
                ('extended', models.BigIntegerField(default=0)),
                ('disputes', models.BigIntegerField(default=0)),
                ('disputes_resolved', models.BigIntegerField(default=0)),
                ('county_id', models.IntegerField()),
                ('month', models.IntegerField()),
                ('ledger', models.CharField(max_length=16)),
                ('category_id', models.IntegerField()),
                ('current_level', models.CharField(max_length=8)),
                ('status', models.CharField(max_length=24)),
                ('settled_level', models.CharField(max_length=8)),
            ],
            options={
                'constraints': [models.UniqueConstraint(fields=('county_id', 'month', 'ledger', 'category_id', 'current_level', 'status', 'settled_level'), name='statistics_rollup_key')],
            },
        ),
        migrations.CreateModel(
            name='StatisticsUnitRollup',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('received', models.BigIntegerField(default=0)),
                ('accepted', models.BigIntegerField(default=0)),
                ('closed', models.BigIntegerField(default=0)),
                ('closed_on_time', models.BigIntegerField(default=0)),
                ('resolved', models.BigIntegerField(default=0)),
                ('assigned', models.BigIntegerField(default=0)),
                ('responded_on_time', models.BigIntegerField(default=0)),
                ('satisfied', models.BigIntegerField(default=0)),
                ('basic', models.BigIntegerField(default=0)),
                ('dissatisfied', models.BigIntegerField(default=0)),
                ('unreachable', models.BigIntegerField(default=0)),
                ('reported', models.BigIntegerField(default=0)),
                ('reworked', models.BigIntegerField(default=0)),
                ('extended', models.BigIntegerField(default=0)),
                ('disputes', models.BigIntegerField(default=0)),
                ('disputes_resolved', models.BigIntegerField(default=0)),
                ('county_id', models.IntegerField()),
                ('month', models.IntegerField()),
                ('unit_department_id', models.IntegerField()),
                ('unit_region_id', models.IntegerField()),
                ('unit_grid_id', models.IntegerField()),
            ],
            options={
                'constraints': [models.UniqueConstraint(fields=('county_id', 'month', 'unit_department_id', 'unit_region_id', 'unit_grid_id'), name='statistics_unit_rollup_key')],
            },
        ),
        migrations.RunPython(forwards, backwards),
    ]
