"""Partial indexes for the care-visit sweep: open visits not yet warned, one per warning."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('care', '0003_householdclass_fillfactor'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='visit',
            index=models.Index(condition=models.Q(('cancelled', False), ('done_at__isnull', True), ('overdue_warned_at__isnull', True)), fields=['due_on', 'id'], name='care_visit_sweep_overdue'),
        ),
        migrations.AddIndex(
            model_name='visit',
            index=models.Index(condition=models.Q(('cancelled', False), ('done_at__isnull', True), ('due_soon_warned_at__isnull', True)), fields=['due_on', 'id'], name='care_visit_sweep_due_soon'),
        ),
    ]
