"""`gongzhi purge_intake_keys [--days N]`: forget idempotency keys older than N days (default
GONGZHI_INTAKE_IDEMPOTENCY_DAYS, 30). A client retrying after that long files a new matter.
Open311 receipts registered that long ago go too (their case keeps what they said).
The cases themselves are untouched. Run it daily (cron or celery beat)."""
from django.core.management.base import BaseCommand

from gongzhi.intake import conf
from gongzhi.intake.idempotency import purge_old_keys
from gongzhi.intake.receipts import purge_registered


class Command(BaseCommand):
    help = "Delete idempotency keys older than --days."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=None)

    def handle(self, *args, days=None, **options):
        days = days or conf.idempotency_retention_days()
        deleted, receipts = purge_old_keys(days=days), purge_registered(days=days)
        self.stdout.write(f"deleted {deleted} keys, {receipts} registered receipts")
