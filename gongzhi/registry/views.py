"""Registry pages: thin views over ``selectors`` (reads) and ``services`` (the audited reveal).

Every view needs a login. Lists come from ``Model.objects.visible_to(user, perm)``; one object is
fetched with ``access_object`` (403 when the user holds the permission nowhere, 404 when the
object is outside their scope — the same answer as "does not exist").
"""
from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseBadRequest
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from gongzhi.accounts.models import ScopeKind
from gongzhi.accounts.selectors import user_assignments
from gongzhi.core.pagination import paginate
from gongzhi.core.scoping import access_object, has_perm_anywhere, require_perm
from gongzhi.core.services import LOAD_WORKDAY_CALENDAR
from gongzhi.core.workdays import missing_calendar_years

from . import selectors, services
from .coverage import coverage_report
from .forms import RevealForm, SearchForm
from .models import Grid, Household, Person, Region, RegionLevel

# Smaller pages than the setting (core/pagination.py) where each row is a card with its members.
HOUSEHOLDS_PER_PAGE = 30
RESULTS_PER_PAGE = 20


def _optional_url(name: str) -> str | None:
    """The URL of a page another app may not have yet (roster import/export)."""
    try:
        return reverse(name)
    except NoReverseMatch:
        return None


@login_required
def home(request):
    user = request.user
    assignments = list(user_assignments(user))
    sees_all = user.is_superuser or any(a.role.scope_kind == ScopeKind.ALL for a in assignments)
    links = {
        "coverage": has_perm_anywhere(user, selectors.VIEW_HOUSEHOLD) and has_perm_anywhere(user, selectors.VIEW_GRID),
        "roster_upload": _optional_url("roster:upload") if has_perm_anywhere(user, "roster.import_roster") else None,
        "roster_export": _optional_url("roster:export") if has_perm_anywhere(user, "roster.export_roster") else None,
    }
    return render(request, "home.html", {
        "assignments": assignments,
        "counts": selectors.scope_counts(user=user),
        "counties": list(Region.objects.visible_to(user, selectors.VIEW_REGION).filter(level=RegionLevel.COUNTY))
        if sees_all else [],
        "my_households": selectors.contacted_households(user=user)
        if any(a.role.scope_kind == ScopeKind.CONTACTS for a in assignments) else [],
        "links": links,
        "form": SearchForm(),
        # A missing holiday table silently shifts deadlines: everyone who works to deadlines sees it.
        "missing": missing_calendar_years(),
        "can_load_calendar": has_perm_anywhere(user, LOAD_WORKDAY_CALENDAR),
    })


@login_required
def region_detail(request, pk):
    region = access_object(Region.objects.all(), request.user, selectors.VIEW_REGION, pk=pk)
    page = selectors.region_page(user=request.user, region=region)
    can_coverage = (region.level <= RegionLevel.VILLAGE and page.can_see_households and page.can_see_grids)
    return render(request, "registry/region_detail.html", {"page": page, "region": region,
                                                           "can_coverage": can_coverage})


@login_required
def coverage(request, pk):
    """不遗漏、不重复、不交叉 for a county, town or village, over what the user may see."""
    user = request.user
    require_perm(user, selectors.VIEW_HOUSEHOLD)
    require_perm(user, selectors.VIEW_GRID)
    region = access_object(Region.objects.all(), user, selectors.VIEW_REGION, pk=pk)
    if region.level > RegionLevel.VILLAGE:
        raise Http404
    column = selectors.region_column(region.level)
    report = coverage_report(
        households=Household.objects.visible_to(user, selectors.VIEW_HOUSEHOLD).filter(**{column: region.pk}),
        grids=Grid.objects.visible_to(user, selectors.VIEW_GRID).filter(**{column: region.pk}),
    )
    return render(request, "registry/coverage.html", {
        "region": region, "report": report, "trail": selectors.region_trail(user=user, region=region),
    })


@login_required
def grid_detail(request, pk):
    grid = access_object(Grid.objects.select_related("region", "parent", "head", "worker"), request.user,
                         selectors.VIEW_GRID, pk=pk)
    page = selectors.grid_page(user=request.user, grid=grid)
    households = paginate(request, page.households, HOUSEHOLDS_PER_PAGE)
    return render(request, "registry/grid_detail.html", {"page": page, "grid": grid, "households": households})


def _household_response(request, pk, revealed=None):
    household = access_object(Household.objects.select_related("grid", "region"), request.user,
                              selectors.VIEW_HOUSEHOLD, pk=pk)
    archive = selectors.household_archive(user=request.user, household=household)
    return render(request, "registry/household_detail.html", {
        "archive": archive, "household": household, "revealable": archive.revealable,
        "revealed": revealed or {}, "reveal_back": "household",
    })


def _person_response(request, pk, revealed=None):
    person = access_object(Person.objects.select_related("household", "region"), request.user,
                           selectors.VIEW_PERSON, pk=pk)
    page = selectors.person_page(user=request.user, person=person)
    return render(request, "registry/person_detail.html", {
        "page": page, "person": person, "revealable": page.revealable,
        "revealed": revealed or {}, "reveal_back": "person",
    })


@login_required
def household_detail(request, pk):
    return _household_response(request, pk)


@login_required
def person_detail(request, pk):
    return _person_response(request, pk)


@login_required
@require_POST
@never_cache
def person_reveal(request, pk):
    """Show one masked field in full (audited by the service).

    With htmx the answer is just the value, swapped in place of the masked one; without it the
    page the button was on is rendered again with the value shown. Nothing is stored: reloading
    the page shows the masked value again.
    """
    require_perm(request.user, selectors.REVEAL_PERSON)  # 403 for anyone who may reveal nothing
    form = RevealForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest("field must be id_number or phone")
    field = form.cleaned_data["field"]
    person = access_object(Person.objects.all(), request.user, selectors.VIEW_PERSON, pk=pk)
    value = services.person_reveal_field(actor=request.user, person=person, field=field)
    revealed = {(person.pk, field): value}
    if request.htmx:
        return render(request, "registry/_sensitive.html", {
            "person": person, "field": field, "value": value,
        })
    if form.cleaned_data["back"] == "household" and person.household_id:
        try:
            return _household_response(request, person.household_id, revealed)
        except (Http404, PermissionDenied):
            pass  # the person is visible but their household page is not: show the person page
    return _person_response(request, pk, revealed)


@login_required
def search(request):
    user = request.user
    if not (has_perm_anywhere(user, selectors.VIEW_PERSON) or has_perm_anywhere(user, selectors.VIEW_HOUSEHOLD)):
        raise PermissionDenied
    form = SearchForm(request.GET or None)
    query = form.cleaned_data["q"] if form.is_valid() else ""
    kind, _value = selectors.classify_query(query)
    persons = households = None
    household_total = 0
    if query:
        persons = paginate(request, selectors.person_search(user=user, query=query), RESULTS_PER_PAGE)
        if persons.number == 1:
            found = selectors.household_search(user=user, query=query)
            households = list(found[:RESULTS_PER_PAGE])
            household_total = len(households) if len(households) < RESULTS_PER_PAGE else found.count()
    return render(request, "registry/search.html", {
        "form": form, "query": query, "kind": kind, "persons": persons, "households": households,
        "household_total": household_total,
    })
