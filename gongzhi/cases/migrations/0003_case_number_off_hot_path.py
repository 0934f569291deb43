"""Case numbers off the registration's hot path (issue 10): ``number`` may be NULL until the
numbering batch right after commit gives it (``gongzhi/cases/numbering.py``); a partial index
finds the cases waiting; on PostgreSQL the batch is one SQL function and a trigger keeps a
number once given."""
from django.db import migrations, models


def create_function(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        from gongzhi.cases.numbering import CREATE_FUNCTION

        schema_editor.execute(CREATE_FUNCTION)


def drop_function(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        from gongzhi.cases.numbering import DROP_FUNCTION

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
