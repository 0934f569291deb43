"""The holiday table page (/calendar/): which years are loaded, and loading the next one."""
from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q
from django.shortcuts import redirect, render

from .forms import HolidayTableForm
from .models import WorkdayCalendarYear
from .scoping import require_perm
from .services import LOAD_WORKDAY_CALENDAR, workday_calendar_load_many
from .workdays import missing_calendar_years


@login_required
def calendar_years(request):
    require_perm(request.user, LOAD_WORKDAY_CALENDAR)
    form = HolidayTableForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        loaded = workday_calendar_load_many(actor=request.user, years=form.cleaned_data["parsed"].years,
                                            source=form.cleaned_data["source"])
        messages.success(request, "已导入：" + "、".join(f"{c.year}年" for c in loaded))
        return redirect("calendar:years")
    years = (WorkdayCalendarYear.objects.select_related("loaded_by").order_by("-year")
             .annotate(holidays=Count("days", filter=Q(days__kind="holiday")),
                       workdays=Count("days", filter=Q(days__kind="adjusted_workday"))))
    return render(request, "core/calendar_years.html", {
        "form": form, "years": years, "missing": missing_calendar_years(),
    })
