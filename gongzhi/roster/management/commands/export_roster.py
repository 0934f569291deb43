"""gongzhi export_roster --region CODE --kind households|grids --format xlsx|csv --output PATH --user USERNAME"""
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


class Command(BaseCommand):
    help = "Export a region's households and persons, or grids, in the roster import layout."

    def add_arguments(self, parser):
        parser.add_argument("--region", required=True, help="division code of a county, town or village")
        parser.add_argument("--kind", required=True, choices=RosterKind.values)
        parser.add_argument("--format", required=True, choices=services.FORMATS)
        parser.add_argument("--output", required=True)
        parser.add_argument("--user", required=True, help="the user the export is done as (scope, masking, audit)")

    def handle(self, *args, **opts):
        try:
            user = User.objects.get(username=opts["user"], is_active=True)
        except User.DoesNotExist:
            raise CommandError(_("No active user %(name)s.") % {"name": opts["user"]}) from None
        region = Region.objects.filter(code=opts["region"].strip()).first()
        if region is None:
            raise CommandError(_("No region with the code %(code)s.") % {"code": opts["region"]})
        try:
            exported = services.roster_export(actor=user, region=region, kind=opts["kind"], fmt=opts["format"])
        except PermissionDenied:
            raise CommandError(_("%(user)s may not export rosters.") % {"user": user}) from None
        except Http404:
            raise CommandError(_("%(user)s may not export %(code)s.") % {"user": user, "code": region.code}) from None
        except ValidationError as exc:
            raise CommandError("；".join(exc.messages)) from None
        output = Path(opts["output"])
        try:
            output.write_bytes(exported.content)
        except OSError as exc:
            raise CommandError(_("Cannot write %(file)s: %(why)s") % {"file": output, "why": exc.strerror}) from None
        self.stdout.write(_("Exported %(rows)s rows to %(file)s.") % {"rows": exported.rows, "file": output})
        if exported.masked:
            self.stdout.write(_("ID numbers and phones are masked: this file cannot be imported again."))
