"""gongzhi import_geometry FILE.geojson [--dry-run] [--user USERNAME]

Sets the centre and outline of regions and grids from a GeoJSON FeatureCollection whose features
name a region's division code or a grid's code in ``properties.code`` (``properties.kind``:
"region" or "grid" when a code could be either). All or nothing: any unknown code or invalid
geometry rejects the file and nothing is written. Without ``--user`` the import is done as the
system (audited as "system"); with it, the user's permissions and scope apply.

Exit status: 0 when imported (or a clean dry run), 1 when the file has errors.
"""
from __future__ import annotations

import json
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from gongzhi.registry import services


class Command(BaseCommand):
    help = "Import the map geometry (centres and outlines) of regions and grids from a GeoJSON file."

    def add_arguments(self, parser):
        parser.add_argument("file", help="a GeoJSON FeatureCollection (WGS84 longitude/latitude)")
        parser.add_argument("--dry-run", action="store_true", help="check only, write nothing")
        parser.add_argument("--user", help="the user the import is done as (permissions, scope, audit); "
                                           "default: the system")

    def handle(self, *args, **opts):
        path = Path(opts["file"])
        try:
            collection = json.loads(path.read_text(encoding="utf-8-sig"))
        except OSError as exc:
            raise CommandError(_("Cannot read %(file)s: %(why)s") % {"file": path, "why": exc.strerror}) from None
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise CommandError(_("%(file)s is not a JSON file: %(why)s") % {"file": path, "why": exc}) from None
        user = None
        if opts["user"]:
            try:
                user = get_user_model().objects.get(username=opts["user"], is_active=True)
            except get_user_model().DoesNotExist:
                raise CommandError(_("No active user %(name)s.") % {"name": opts["user"]}) from None
        try:
            report = services.territory_geometry_import(actor=user, collection=collection, dry_run=opts["dry_run"],
                                                        source=path.name)
        except services.GeometryImportRejected as exc:
            self.stdout.write(exc.report.as_text())
            raise CommandError(_("The file has errors; nothing was imported."), returncode=1) from None
        except PermissionDenied:
            raise CommandError(_("%(user)s may not change the map geometry.") % {"user": user}) from None
        except ValidationError as exc:
            raise CommandError("；".join(exc.messages)) from None
        self.stdout.write(report.as_text())
        if opts["dry_run"]:
            self.stdout.write(_("Dry run: nothing was written."))
