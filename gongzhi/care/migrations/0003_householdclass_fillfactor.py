"""PostgreSQL only: leave room in care_householdclass's pages so the nightly recompute of every
household's class updates rows in place (HOT updates: no index writes when the colour and grid
stay the same). Nothing to do on SQLite."""
from django.db import migrations


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE care_householdclass SET (fillfactor = 70)")


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE care_householdclass RESET (fillfactor)")


class Migration(migrations.Migration):
    dependencies = [("care", "0002_defaults")]
    operations = [migrations.RunPython(forwards, backwards)]
