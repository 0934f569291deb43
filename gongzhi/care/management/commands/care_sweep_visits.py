"""gongzhi care_sweep_visits: warn helpers and grid heads about visits due soon or overdue.
Safe to run from cron, from Celery beat (``gongzhi.care.tasks.sweep_visits``) and from several
workers at once."""
from django.core.management.base import BaseCommand

from gongzhi.care.plans import sweep_visits


class Command(BaseCommand):
    help = "Warn about due-soon and overdue care visits."

    def handle(self, *args, **options):
        counts = sweep_visits()
        self.stdout.write(f"overdue {counts['overdue']}, due soon {counts['due_soon']}, alerts {counts['alerts']}")
