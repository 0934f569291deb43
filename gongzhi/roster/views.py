"""Roster pages: upload → report → confirm, and export. Thin: forms validate, services work.

* ``upload``: choose a village (from those the user may import into), the kind and the file;
  the file is checked and kept in an ``ImportBatch`` (a file that cannot be read at all is
  answered on the form, in Chinese, and not kept).
* ``batch``: the report — counts and every bad row — with the confirm buttons.
* ``confirm`` (POST): import all (only without errors), import only the valid rows, or cancel.
  The file is checked again at this moment: the data may have changed since the upload.
* ``export`` / ``export-file``: a region's households and persons, or grids, as .xlsx or .csv.
* ``template``: an empty roster in the import layout.

403 when the user holds the permission nowhere; 404 for a village, batch or region outside
their scope (``gongzhi.core.scoping``).
"""
from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from gongzhi.core.pagination import paginate
from gongzhi.core.scoping import access_object, has_perm_anywhere, require_perm
from gongzhi.registry.models import Region, RegionLevel

from . import selectors, services
from .forms import ExportForm, UploadForm
from .layout import GRID_COLUMNS, HOUSEHOLD_COLUMNS
from .models import ImportStatus, RosterKind
from .parsing import RosterFileError
from .report import Report
from .selectors import EXPORT_PERM, IMPORT_PERM, REVEAL_PERM


@login_required
def upload(request):
    user = request.user
    require_perm(user, IMPORT_PERM)
    villages = list(selectors.importable_villages(user=user))
    if request.method == "POST":
        form = UploadForm(request.POST, request.FILES, villages=villages)
        if form.is_valid():
            village = access_object(Region.objects.all(), user, IMPORT_PERM, pk=form.cleaned_data["village"])
            upload_file = form.cleaned_data["file"]
            try:
                batch = services.roster_batch_create(
                    actor=user, village=village, kind=form.cleaned_data["kind"], filename=upload_file.name,
                    content=upload_file.read())
            except RosterFileError as exc:
                form.add_error("file", str(exc))
            except ValidationError as exc:
                form.add_error(None, exc.messages)
            else:
                return redirect("roster:batch", pk=batch.pk)
    else:
        initial = {}
        wanted = request.GET.get("village", "")
        if wanted.isdigit() and any(v.pk == int(wanted) for v in villages):
            initial["village"] = int(wanted)
        if request.GET.get("kind") in RosterKind.values:
            initial["kind"] = request.GET["kind"]
        form = UploadForm(villages=villages, initial=initial)
    return render(request, "roster/upload.html", {
        "form": form, "villages": villages, "batches": paginate(request, selectors.batch_list(user=user)),
        "max_bytes": settings.ROSTER_MAX_UPLOAD_BYTES,
        "household_headers": [c.header for c in HOUSEHOLD_COLUMNS], "grid_headers": [c.header for c in GRID_COLUMNS],
    })


@login_required
@never_cache
def batch_report(request, pk):
    batch = selectors.batch_get(user=request.user, pk=pk)
    report = Report.from_dict(batch.report)
    waiting = batch.status == ImportStatus.CHECKED
    return render(request, "roster/report.html", {
        "batch": batch, "report": report, "waiting": waiting,
        "can_import_all": waiting and not report.has_errors,
        "can_import_valid": waiting and report.has_errors and report.valid_only.rows > 0,
        "plan": report.plan if not report.has_errors else report.valid_only,
    })


@login_required
@require_POST
def batch_confirm(request, pk):
    user = request.user
    batch = selectors.batch_get(user=user, pk=pk)
    action = request.POST.get("action", "")
    if batch.status != ImportStatus.CHECKED:
        messages.warning(request, _("This file has already been imported or cancelled."))
        return redirect("roster:batch", pk=batch.pk)
    if action == "cancel":
        try:
            services.roster_batch_cancel(actor=user, batch=batch)
        except ValidationError as exc:
            messages.warning(request, "；".join(exc.messages))
        else:
            messages.info(request, _("The import was cancelled; nothing was written."))
        return redirect("roster:upload")
    if action not in ("all", "valid_only"):
        messages.error(request, _("Choose one of the buttons below."))
        return redirect("roster:batch", pk=batch.pk)
    try:
        report = services.roster_import(actor=user, batch=batch, valid_only=action == "valid_only")
    except services.RosterRejected as exc:
        rejected = exc.report
        if rejected.file_errors:
            messages.error(request, "；".join(rejected.file_errors))
        elif action == "all":
            messages.error(request, _("The file has errors (checked again just now), so nothing was imported. "
                                      "Correct the rows below and upload it again, or import only the valid rows."))
        else:
            messages.error(request, _("No household is free of errors, so nothing was imported."))
    except ValidationError as exc:
        messages.warning(request, "；".join(exc.messages))
    else:
        plan = report.valid_only if action == "valid_only" else report.plan
        messages.success(request, _("Imported: %(n)s records written.") % {"n": plan.writes})
    return redirect("roster:batch", pk=batch.pk)


@login_required
def export(request):
    user = request.user
    require_perm(user, EXPORT_PERM)
    regions = list(selectors.exportable_regions(user=user))
    form = ExportForm(request.GET or None, regions=regions)
    if form.is_bound and form.is_valid():
        return redirect("roster:export-file", pk=form.cleaned_data["region"], kind=form.cleaned_data["kind"],
                        fmt=form.cleaned_data["format"])
    return render(request, "roster/export.html", {
        "form": form, "regions": regions, "can_reveal": has_perm_anywhere(user, REVEAL_PERM),
    })


def _file_response(file: services.ExportFile) -> HttpResponse:
    response = HttpResponse(file.content, content_type=file.content_type)
    response["Content-Disposition"] = content_disposition_header(True, file.filename)
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
@never_cache
def export_file(request, pk, kind, fmt):
    user = request.user
    require_perm(user, EXPORT_PERM)
    region = access_object(Region.objects.all(), user, EXPORT_PERM, pk=pk)
    if kind not in RosterKind.values or fmt not in services.FORMATS or region.level > RegionLevel.VILLAGE:
        raise Http404
    return _file_response(services.roster_export(actor=user, region=region, kind=kind, fmt=fmt))


@login_required
def template_file(request, kind, fmt):
    require_perm(request.user, IMPORT_PERM)
    if kind not in RosterKind.values or fmt not in services.FORMATS:
        raise Http404
    return _file_response(services.roster_template(kind=kind, fmt=fmt))
