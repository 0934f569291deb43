"""Partial indexes for the deadline sweep (tasks.run_sweep): each holds only the cases whose clock
runs and whose warning has not been sent, so a pass costs what is due, not what is open."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('cases', '0003_case_number_off_hot_path'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='case',
            index=models.Index(condition=models.Q(('acceptance_warned_at__isnull', True), ('status__in', ['registered', 'pending_instruction'])), fields=['acceptance_due_at', 'id'], name='case_sweep_acceptance'),
        ),
        migrations.AddIndex(
            model_name='case',
            index=models.Index(condition=models.Q(('first_response_at__isnull', True), ('response_warned_at__isnull', True), ('status', 'assigned')), fields=['response_due_at', 'id'], name='case_sweep_response'),
        ),
        migrations.AddIndex(
            model_name='case',
            index=models.Index(condition=models.Q(('due_soon_warned_at__isnull', True), ('status__in', ['accepted', 'assigned', 'in_progress', 'returned', 'result_reported', 'approved', 'awaiting_feedback', 'evaluated', 'pending_instruction'])), fields=['resolution_due_at', 'id'], name='case_sweep_due_soon'),
        ),
        migrations.AddIndex(
            model_name='case',
            index=models.Index(condition=models.Q(('overdue_warned_at__isnull', True), ('status__in', ['accepted', 'assigned', 'in_progress', 'returned', 'result_reported', 'approved', 'awaiting_feedback', 'evaluated', 'pending_instruction'])), fields=['resolution_due_at', 'id'], name='case_sweep_overdue'),
        ),
        migrations.AddIndex(
            model_name='case',
            index=models.Index(condition=models.Q(('escalated_at__isnull', True), ('status__in', ['accepted', 'assigned', 'in_progress', 'returned', 'result_reported', 'approved', 'awaiting_feedback', 'evaluated', 'pending_instruction'])), fields=['resolution_due_at', 'id'], name='case_sweep_escalation'),
        ),
        migrations.AddIndex(
            model_name='summons',
            index=models.Index(condition=models.Q(('acknowledged_at__isnull', True), ('escalated_at__isnull', True)), fields=['due_at', 'id'], name='summons_sweep_due'),
        ),
    ]
