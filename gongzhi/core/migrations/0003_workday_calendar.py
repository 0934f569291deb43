"""The holiday table as data, seeded with every year chinese_calendar knows (2004–2026 for 1.11).

Later years are loaded by the county administrator (/calendar/, ``gongzhi load_holidays FILE``);
``gongzhi load_holidays --from-library`` adds the years a newer chinese_calendar brings.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def seed_from_library(apps, schema_editor):
    from gongzhi.core.holidays import library_version, library_years

    Year = apps.get_model("core", "WorkdayCalendarYear")
    Day = apps.get_model("core", "CalendarDay")
    source = library_version()
    for year, days in library_years().items():
        calendar = Year.objects.create(year=year, source=source)
        Day.objects.bulk_create(Day(calendar=calendar, date=d.date, kind=d.kind, name=d.name) for d in days)


class Migration(migrations.Migration):

    dependencies = [
        ('core', '0002_auditlog_append_only'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='WorkdayCalendarYear',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('year', models.PositiveSmallIntegerField(unique=True)),
                ('source', models.CharField(blank=True, max_length=200)),
                ('loaded_at', models.DateTimeField(auto_now=True)),
                ('loaded_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'verbose_name': 'holiday table year',
                'verbose_name_plural': 'holiday table years',
                'ordering': ['year'],
                'permissions': [('load_workdaycalendar', 'Can load the yearly holiday table')],
            },
        ),
        migrations.CreateModel(
            name='CalendarDay',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('date', models.DateField(unique=True)),
                ('kind', models.CharField(choices=[('holiday', 'Public holiday'), ('adjusted_workday', 'Make-up working day')], max_length=16)),
                ('name', models.CharField(blank=True, max_length=60)),
                ('calendar', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='days', to='core.workdaycalendaryear')),
            ],
            options={
                'verbose_name': 'holiday table day',
                'verbose_name_plural': 'holiday table days',
                'ordering': ['date'],
            },
        ),
        migrations.RunPython(seed_from_library, migrations.RunPython.noop),
    ]
