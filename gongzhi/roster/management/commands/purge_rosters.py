"""``gongzhi purge_rosters``: delete uploads nobody confirmed within the county's retention.

Celery beat runs the same pass hourly (``roster.purge_unconfirmed``). ``--set-days N --county CODE``
sets a county's retention (audited, as the system) before the pass.
"""
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from gongzhi.registry.models import Region
from gongzhi.roster import services


class Command(BaseCommand):
    help = "Purge roster uploads left unconfirmed past their county's retention (default 7 days). Audited."

    def add_arguments(self, parser):
        parser.add_argument("--county", help="county division code (with --set-days)")
        parser.add_argument("--set-days", type=int, help="set the county's retention in days (1–90)")

    def handle(self, *args, **options):
        if options["set_days"] is not None:
            county = Region.objects.filter(code=options["county"] or "").first()
            if county is None:
                raise CommandError("--set-days needs --county with a county's division code")
            try:
                services.roster_retention_set(actor=None, county=county, days=options["set_days"])
            except ValidationError as exc:
                raise CommandError("；".join(exc.messages)) from None
            self.stdout.write(f"{county.name}: unconfirmed rosters are kept {options['set_days']} days")
        total = 0
        while purged := services.roster_purge_unconfirmed():
            total += purged
        if options["verbosity"]:
            self.stdout.write(f"purged {total} unconfirmed roster uploads")
