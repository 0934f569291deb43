"""gongzhi export_geometry [--output FILE.geojson] [--kind region|grid] [--user USERNAME]

Writes the centres and outlines of regions and grids as a GeoJSON FeatureCollection in the
format ``gongzhi import_geometry`` reads (``properties.code``, ``kind``, ``lat``/``lng``), to a
file or to standard output. Without ``--user``: every region and grid; with it, what the user may see.
"""
from __future__ import annotations

import json
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from gongzhi.registry.geometry import geometry_export


class Command(BaseCommand):
    help = "Export the map geometry of regions and grids as GeoJSON (the import_geometry format)."

    def add_arguments(self, parser):
        parser.add_argument("--output", "-o", help="the file to write (default: standard output)")
        parser.add_argument("--kind", choices=["region", "grid"], help="only regions or only grids")
        parser.add_argument("--user", help="export only what this user may see (default: everything)")

    def handle(self, *args, **opts):
        user = None
        if opts["user"]:
            try:
                user = get_user_model().objects.get(username=opts["user"], is_active=True)
            except get_user_model().DoesNotExist:
                raise CommandError(_("No active user %(name)s.") % {"name": opts["user"]}) from None
        kinds = (opts["kind"],) if opts["kind"] else ("region", "grid")
        collection = geometry_export(user, kinds=kinds)
        text = json.dumps(collection, ensure_ascii=False, separators=(",", ":"))
        if not opts["output"]:
            self.stdout.write(text)
            return
        output = Path(opts["output"])
        try:
            output.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise CommandError(_("Cannot write %(file)s: %(why)s") % {"file": output, "why": exc.strerror}) from None
        message = _("Exported %(n)s features to %(file)s.") % {"n": len(collection["features"]), "file": output}
        self.stdout.write(message, self.style.SUCCESS)
