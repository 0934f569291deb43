"""gongzhi import_roster FILE --village CODE --kind households|grids [--dry-run] [--valid-only] --user USERNAME

Prints the check report (in Chinese). Exit status: 0 when imported (or a clean dry run),
1 when the file has errors and nothing was imported (including a dry run with errors).
"""
from __future__ import annotations

from pathlib import Path

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.http import Http404
from django.utils.translation import gettext as _

from gongzhi.accounts.models import User
from gongzhi.registry.models import Region
from gongzhi.roster import services
from gongzhi.roster.models import RosterKind
from gongzhi.roster.parsing import RosterFileError


class Command(BaseCommand):
    help = "Check and import a household or grid roster (.xlsx/.csv) into one village."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--village", required=True, help="12-digit division code of the village/community")
        parser.add_argument("--kind", required=True, choices=RosterKind.values)
        parser.add_argument("--user", required=True, help="the user the import is done as (permissions, audit)")
        parser.add_argument("--dry-run", action="store_true", help="check only, write nothing")
        parser.add_argument("--valid-only", action="store_true",
                            help="import the households without errors, skip every household with a bad row")

    def handle(self, *args, **opts):
        path = Path(opts["file"])
        try:
            content = path.read_bytes()
        except OSError as exc:
            raise CommandError(_("Cannot read %(file)s: %(why)s") % {"file": path, "why": exc.strerror}) from None
        try:
            user = User.objects.get(username=opts["user"], is_active=True)
        except User.DoesNotExist:
            raise CommandError(_("No active user %(name)s.") % {"name": opts["user"]}) from None
        village = Region.objects.filter(code=opts["village"].strip()).first()
        if village is None:
            raise CommandError(_("No region with the code %(code)s.") % {"code": opts["village"]})
        try:
            if opts["dry_run"]:
                report = services.roster_dry_run(actor=user, village=village, kind=opts["kind"],
                                                 filename=path.name, content=content)
                self.stdout.write(report.as_text())
                if report.has_errors:
                    raise CommandError(_("The file has errors; nothing was imported (dry run)."), returncode=1)
                self.stdout.write(_("Dry run: nothing was written."))
                return
            try:
                batch = services.roster_batch_create(actor=user, village=village, kind=opts["kind"],
                                                     filename=path.name, content=content)
            except RosterFileError as exc:
                self.stdout.write(str(exc))
                raise CommandError(_("The file cannot be imported; nothing was written."), returncode=1) from None
            try:
                report = services.roster_import(actor=user, batch=batch, valid_only=opts["valid_only"])
            except services.RosterRejected as exc:
                self.stdout.write(exc.report.as_text())
                raise CommandError(_("The file has errors; nothing was imported. Correct it, or use --valid-only."),
                                   returncode=1) from None
        except PermissionDenied:
            raise CommandError(_("%(user)s may not import rosters.") % {"user": user}) from None
        except Http404:
            raise CommandError(
                _("%(user)s may not import into %(code)s.") % {"user": user, "code": village.code}) from None
        except ValidationError as exc:
            raise CommandError("；".join(exc.messages)) from None
        self.stdout.write(report.as_text())
        plan = report.valid_only if opts["valid_only"] else report.plan
        self.stdout.write(_("Imported (batch %(id)s): %(n)s records written.") % {"id": batch.pk, "n": plan.writes})
