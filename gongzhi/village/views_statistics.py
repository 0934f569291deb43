"""The village statistics page and its Excel export (``statistics``): per village, town and
county, over a period (default this year), for the area the user may see.

Thin views: the form parses the area, the grouping and the period; ``statistics.compute`` does
the counting from the scoped records. No permission at all is 403; an area the user cannot see
is not offered (and a forged one is refused as an invalid choice, so nothing outside the scope is
ever counted). The export is a link built by the page: a broken one is 404.
"""
from __future__ import annotations

from urllib.parse import urlencode

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils.http import content_disposition_header
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from gongzhi.core.scoping import require_perm
from gongzhi.registry.models import Region, RegionLevel

from . import statistics

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
BY_CHOICES = [("", _("Automatic")), ("county", _("By county")), ("town", _("By town")), ("village", _("By village"))]


class StatisticsForm(forms.Form):
    region = forms.ChoiceField(label=_("Area"), required=False)
    by = forms.ChoiceField(label=_("One row per"), choices=BY_CHOICES, required=False)
    start = forms.DateField(label=_("Figures from"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("Figures until"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        regions = list(Region.objects.visible_to(user, statistics.PERM).filter(level__lte=RegionLevel.VILLAGE)
                       .order_by("code"))
        self._regions = {str(r.pk): r for r in regions}
        self.fields["region"].choices = [("", _("Everything I may see"))] + [
            (str(r.pk), ("　" * (r.level - 1)) + r.name) for r in regions]
        start, end = statistics.this_year()
        self.fields["start"].widget.attrs["placeholder"] = start.isoformat()
        self.fields["end"].widget.attrs["placeholder"] = end.isoformat()

    def clean_region(self):
        value = self.cleaned_data["region"]
        return self._regions.get(value) if value else None

    def clean(self):
        cleaned = super().clean()
        start, end = statistics.this_year()
        cleaned["start"] = cleaned.get("start") or start
        cleaned["end"] = cleaned.get("end") or end
        if cleaned["start"] > cleaned["end"]:
            self.add_error("end", "结束日期不能早于开始日期")
        if (cleaned["end"] - cleaned["start"]).days > 3 * 366:
            self.add_error("end", "统计期间不能超过三年")
        return cleaned

    def values(self) -> dict:
        if not self.is_valid():
            start, end = statistics.this_year()
            return {"region": None, "by": "", "start": start, "end": end, "valid": False}
        d = self.cleaned_data
        return {"region": d["region"], "by": d.get("by") or "", "start": d["start"], "end": d["end"], "valid": True}


def _grouping(stats: statistics.VillageStatistics, by: str) -> str:
    """The rows asked for; automatically, the level below the widest one the figures span."""
    if by:
        return by
    if len(stats.counties) > 1:
        return "county"
    if len(stats.towns) > 1:
        return "town"
    return "village"


@login_required
@require_GET
def statistics_page(request):
    user = request.user
    require_perm(user, statistics.PERM)
    form = StatisticsForm(request.GET or None, user=user)
    values = form.values()
    stats = statistics.compute(user=user, region=values["region"], start=values["start"], end=values["end"])
    by = _grouping(stats, values["by"])
    columns = [(key, statistics.FIGURES[key]) for key in statistics.PAGE_COLUMNS]
    rows = [(unit, [(label, unit.counts.get(key, 0)) for key, label in columns]) for unit in stats.rows(by)]
    total = stats.total
    query = urlencode({k: v for k, v in (
        ("region", values["region"].pk if values["region"] else ""), ("by", values["by"]),
        ("start", values["start"].isoformat()), ("end", values["end"].isoformat())) if v})
    return render(request, "village/statistics.html", {
        "form": form, "stats": stats, "by": by, "columns": columns, "rows": rows,
        "total_row": [(label, total.counts.get(key, 0)) for key, label in columns],
        "totals": [(statistics.FIGURES[k], total.counts[k]) for k in
                   ("consultations", "problems_solved", "meetings", "decisions", "tasks_overdue",
                    "quorum_failures")],
        "kinds": [(statistics.FIGURES[f"held_{kind}"], total.counts[f"held_{kind}"])
                  for kind in statistics.KIND_LABELS],
        "rates": [(label, total.rate(key)) for key, (label, _n, _d) in statistics.RATES.items()],
        "participation": [(statistics.FIGURES[k], total.counts[k]) for k in
                          ("came", "came_elderly", "came_women", "came_disabled", "came_left_behind", "came_proxy",
                           "came_left_early", "entitled", "entitled_came")],
        "query": query,
    })


@login_required
@require_GET
@never_cache
def statistics_export(request):
    user = request.user
    require_perm(user, statistics.PERM)
    form = StatisticsForm(request.GET or None, user=user)
    if request.GET and not form.is_valid():
        raise Http404
    values = form.values()
    data = statistics.statistics_export(actor=user, region=values["region"], start=values["start"],
                                        end=values["end"])
    response = HttpResponse(data, content_type=XLSX)
    name = f"村级治理统计-{values['start']:%Y%m%d}-{values['end']:%Y%m%d}.xlsx"
    response["Content-Disposition"] = content_disposition_header(True, name)
    response["Cache-Control"] = "no-store"
    return response
