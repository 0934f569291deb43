"""Staff pages of resources and dispatch: parse input → call a selector or service → render.

Out of scope is 404 and no permission at all is 403 (``gongzhi.core.scoping``). A refused write
(``ValidationError`` from a service, in Chinese) is shown on the page it came from and nothing is
saved. Actions on one object post to ``<object>/<pk>/<action>/``: every write has one URL and one
permission-matrix case. The delivery page is the grid worker's: one screen on a phone, a few taps.
"""
from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from gongzhi.core.forms import add_validation_errors, flash_validation_errors
from gongzhi.core.scoping import access_object, can, has_perm_anywhere, require_perm
from gongzhi.registry.models import Household, Region, RegionLevel

from . import forms, selectors, services
from .models import (
    KEEPER_RULE, Allocation, Delivery, DeliveryStatus, Need, NeedSource, Resource, StockMovement,
)


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _require_any(user, *perms: str) -> None:
    """403 unless the user holds one of ``perms`` somewhere (a page showing several kinds of row)."""
    if not any(has_perm_anywhere(user, perm) for perm in perms):
        require_perm(user, perms[0])


def _places(user, perm: str, *, county_too: bool = True):
    """The regions a user may place things in: county, towns and villages they reach."""
    levels = [RegionLevel.TOWN, RegionLevel.VILLAGE] + ([RegionLevel.COUNTY] if county_too else [])
    return Region.objects.visible_to(user, "registry.view_region").filter(level__in=levels).order_by("code")


@login_required
def home(request):
    user = request.user
    _require_any(user, "resources.view_resource", "resources.view_need")
    queue = selectors.dispatch_queue(user)[:15] if has_perm_anywhere(user, "resources.view_need") else []
    return render(request, "resources/home.html", {
        "overview": selectors.overview(user), "queue": queue,
        "can_add_need": has_perm_anywhere(user, "resources.add_need"),
        "can_add_resource": has_perm_anywhere(user, "resources.add_resource")})


# ---- the inventory --------------------------------------------------------------------------

@login_required
def inventory(request):
    require_perm(request.user, "resources.view_resource")
    f = forms.InventoryFilter(request.GET or None)
    rows = Resource.objects.visible_to(request.user, "resources.view_resource").select_related("place")
    if f.is_valid():
        if f.cleaned_data["kind"]:
            rows = rows.filter(kind=f.cleaned_data["kind"])
        if f.cleaned_data["q"]:
            q = f.cleaned_data["q"]
            rows = rows.filter(Q(name__icontains=q) | Q(owner_name__icontains=q) | Q(place__name__icontains=q))
    page = Paginator(rows.order_by("kind", "place__code", "name", "pk"), 50).get_page(request.GET.get("page"))
    return render(request, "resources/inventory.html", {
        "filter": f if f.is_bound else forms.InventoryFilter(), "page": page,
        "can_add": has_perm_anywhere(request.user, "resources.add_resource")})


@login_required
def resource_new(request):
    user = request.user
    require_perm(user, "resources.add_resource")
    places = _places(user, "resources.add_resource")
    form = forms.ResourceForm(request.POST or None, places=places)
    if request.method == "POST" and form.is_valid():
        d = dict(form.cleaned_data)
        try:
            resource = services.resource_register(actor=user, owner_department=_department_of(user), **d)
        except ValidationError as exc:
            add_validation_errors(form, exc)
        else:
            messages.success(request, _("Listed in the inventory."))
            return redirect("resources:resource", resource.pk)
    return render(request, "resources/form.html", {"form": form, "title": _("List a resource")})


def _department_of(user):
    """A department handler's stock belongs to their department."""
    from gongzhi.core.scoping import departments_of
    from gongzhi.registry.models import Department

    ids = departments_of(user, "resources.add_resource")
    return Department.objects.filter(pk__in=ids).first() if len(ids) == 1 else None


@login_required
def resource(request, pk):
    user = request.user
    r = access_object(Resource.objects.select_related("place", "grid", "owner_department"), user,
                      "resources.view_resource", pk=pk)
    ledger = Paginator(StockMovement.objects.filter(resource=r).select_related("actor"), 30).get_page(
        request.GET.get("page"))
    return render(request, "resources/resource.html", {
        "resource": r, "ledger": ledger, "movement_form": forms.MovementForm(),
        "can_move": can(user, "resources.move_stock", r, KEEPER_RULE),
        "allocations": Allocation.objects.visible_to(user, "resources.view_allocation").filter(
            resource=r, quantity__gt=0).select_related("need")})


@login_required
@require_POST
def resource_do(request, pk, action):
    if action != "move":
        raise Http404
    user = request.user
    r = access_object(Resource.objects.all(), user, "resources.move_stock", pk=pk)
    form = forms.MovementForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect("resources:resource", r.pk)
    d = form.cleaned_data
    try:
        if d["action"] == "receive":
            services.stock_receive(actor=user, resource=r, quantity=d["quantity"], reason=d["reason"])
        elif d["action"] == "write_off":
            services.stock_write_off(actor=user, resource=r, quantity=d["quantity"], reason=d["reason"])
        else:
            services.stock_correct(actor=user, resource=r, counted=d["quantity"], reason=d["reason"])
    except ValidationError as exc:
        flash_validation_errors(request, exc)
    else:
        messages.success(request, _("Recorded in the ledger."))
    return redirect("resources:resource", r.pk)


# ---- needs and the dispatch queue ------------------------------------------------------------

@login_required
def needs(request):
    user = request.user
    require_perm(user, "resources.view_need")
    f = forms.QueueFilter(request.GET or None)
    rows = Need.objects.visible_to(user, "resources.view_need").select_related("place")
    status = "open"
    if f.is_valid():
        status = f.cleaned_data["status"] or "open"
        if f.cleaned_data["kind"]:
            rows = rows.filter(kind=f.cleaned_data["kind"])
        if f.cleaned_data["priority"]:
            rows = rows.filter(priority=int(f.cleaned_data["priority"]))
    if status == "open":
        rows = rows.filter(status__in=("open", "reserved", "delivering"))
    elif status == "done":
        rows = rows.exclude(status__in=("open", "reserved", "delivering"))
    page = Paginator(rows.order_by("priority", "needed_by", "raised_at", "pk"), 50).get_page(request.GET.get("page"))
    return render(request, "resources/needs.html", {
        "filter": f if f.is_bound else forms.QueueFilter(), "page": page,
        "can_add": has_perm_anywhere(user, "resources.add_need"),
        "can_plan": has_perm_anywhere(user, "resources.add_allocation")})


@login_required
def need_new(request):
    """Raise a need; ``?case=``, ``?household=``, ``?care_plan=`` or ``?meeting=`` says where it
    comes from, and the place and recipient come with it."""
    user = request.user
    require_perm(user, "resources.add_need")
    source, origin = _need_source(request)
    form = forms.NeedForm(request.POST or None, places=_places(user, "resources.add_need", county_too=False),
                          initial=_need_initial(source, origin))
    if request.method == "POST" and form.is_valid():
        d = dict(form.cleaned_data)
        try:
            n = services.need_raise(actor=user, source=source, **_source_kwargs(source, origin), **d)
        except ValidationError as exc:
            add_validation_errors(form, exc)
        else:
            messages.success(request, _("The need is in the dispatch queue."))
            return redirect("resources:need", n.pk)
    return render(request, "resources/need_new.html", {"form": form, "source": source, "origin": origin})


def _need_source(request):
    from gongzhi.cases.models import Case

    params = request.POST if request.method == "POST" else request.GET
    user = request.user
    if pk := _int(params.get("case")):
        return NeedSource.CASE, access_object(Case.objects.select_related("region"), user, "cases.view_case", pk=pk)
    if pk := _int(params.get("care_plan")):
        from gongzhi.care.models import CarePlan
        return NeedSource.CARE_PLAN, access_object(CarePlan.objects.select_related("household"), user,
                                                   "care.view_careplan", pk=pk)
    if pk := _int(params.get("meeting")):
        from gongzhi.village.models import Meeting
        return NeedSource.MEETING, access_object(Meeting.objects.all(), user, "village.view_meeting", pk=pk)
    if pk := _int(params.get("household")):
        return NeedSource.DIRECT, access_object(Household.objects.select_related("region"), user,
                                                "registry.view_household", pk=pk)
    return NeedSource.DIRECT, None


def _need_initial(source, origin) -> dict:
    if source == NeedSource.CASE:
        return {"title": origin.title, "place": origin.region_id, "description": origin.description[:500]}
    if source == NeedSource.MEETING:
        return {"place": origin.region_id}
    if isinstance(origin, Household):
        return {"place": origin.region_id}
    return {}


def _source_kwargs(source, origin) -> dict:
    if source == NeedSource.CASE:
        return {"case": origin}
    if source == NeedSource.CARE_PLAN:
        return {"care_plan": origin}
    if source == NeedSource.MEETING:
        return {"meeting": origin}
    if isinstance(origin, Household):
        return {"household": origin}
    return {}


@login_required
def need(request, pk):
    user = request.user
    n = access_object(Need.objects.select_related("place", "grid", "case", "village", "town"), user,
                      "resources.view_need", pk=pk)
    can_allocate = can(user, "resources.add_allocation", n) and n.is_open
    candidates = services.candidates_for(user, n, limit=12) if can_allocate and n.outstanding else []
    allocations = Allocation.objects.visible_to(user, "resources.view_allocation").filter(need=n).select_related(
        "resource")
    deliveries = Delivery.objects.visible_to(user, "resources.view_delivery").filter(
        allocation__need=n).select_related("allocation__resource")
    return render(request, "resources/need.html", {
        "need": n, "candidates": candidates, "can_allocate": can_allocate, "allocations": allocations,
        "deliveries": deliveries, "reserve_form": forms.ReserveForm(), "dispatch_form": forms.DispatchForm(),
        "release_form": forms.ReasonForm(), "close_form": forms.CloseForm(),
        "can_dispatch": has_perm_anywhere(user, "resources.add_delivery") and n.is_open,
        "can_close": can(user, "resources.change_need", n) and n.is_open,
        "receipt_code": request.session.pop(f"receipt-{n.pk}", None)})


@login_required
@require_POST
def need_do(request, pk, action):
    perm = {"reserve": "resources.add_allocation", "close": "resources.change_need"}.get(action)
    if perm is None:
        raise Http404
    user = request.user
    n = access_object(Need.objects.all(), user, perm, pk=pk)
    try:
        if action == "reserve":
            form = forms.ReserveForm(request.POST)
            if not form.is_valid():
                raise ValidationError({"quantity": "数量须为正整数"})
            r = access_object(Resource.objects.all(), user, "resources.view_resource", pk=form.cleaned_data["resource"])
            allocation = services.reserve(actor=user, need=n, resource=r, quantity=form.cleaned_data["quantity"])
            messages.success(request, _("Reserved: %(quantity)s %(unit)s of %(name)s.") % {
                "quantity": allocation.quantity, "unit": r.unit, "name": r.name})
        else:
            form = forms.CloseForm(request.POST)
            if not form.is_valid():
                raise ValidationError({"note": "请写明关闭原因"})
            services.need_close(actor=user, need=n, note=form.cleaned_data["note"],
                                cancel=form.cleaned_data["cancel"])
            messages.success(request, _("The need is closed."))
    except ValidationError as exc:
        flash_validation_errors(request, exc)
    return redirect("resources:need", n.pk)


@login_required
@require_POST
def queue_plan(request):
    """Reserve by priority across the queue the user may allocate for (one county)."""
    user = request.user
    require_perm(user, "resources.add_allocation")
    county_id = _int(request.POST.get("county"))
    counties = Need.objects.visible_to(user, "resources.add_allocation").values_list("county_id", flat=True)
    county = Region.objects.filter(pk=county_id if county_id else None).first() or \
        Region.objects.filter(pk__in=counties[:1]).first()
    if county is None:
        messages.info(request, _("No open need to reserve for."))
        return redirect("resources:needs")
    made = services.reserve_by_priority(actor=user, county=county, kind=request.POST.get("kind") or None)
    messages.success(request, _("%(n)s reservations made in priority order.") % {"n": len(made)})
    return redirect("resources:needs")


@login_required
@require_POST
def allocation_do(request, pk, action):
    perm = {"dispatch": "resources.add_delivery", "release": "resources.add_allocation"}.get(action)
    if perm is None:
        raise Http404
    user = request.user
    a = access_object(Allocation.objects.all(), user, perm, pk=pk)
    try:
        if action == "dispatch":
            form = forms.DispatchForm(request.POST)
            if not form.is_valid():
                raise ValidationError({"quantity": "数量须为正整数"})
            delivery, code = services.dispatch(actor=user, allocation=a, **form.cleaned_data)
            # Shown once on the next page, for the dispatcher to hand to the recipient.
            request.session[f"receipt-{a.need_id}"] = code
            messages.success(request, _("Dispatched. Give the recipient the receipt code shown below."))
        else:
            form = forms.ReasonForm(request.POST)
            if not form.is_valid():
                raise ValidationError({"reason": "请写明释放预留的原因"})
            services.release(actor=user, allocation=a, reason=form.cleaned_data["reason"])
            messages.success(request, _("The reservation is released."))
    except ValidationError as exc:
        flash_validation_errors(request, exc)
    return redirect("resources:need", a.need_id)


# ---- delivery, on the doorstep ---------------------------------------------------------------

@login_required
def delivery(request, pk):
    user = request.user
    d = access_object(Delivery.objects.select_related("allocation__resource", "allocation__need__place"), user,
                      "resources.view_delivery", pk=pk)
    need_ = d.allocation.need
    form = forms.ConfirmForm(initial={"received": d.quantity, "recipient_name": need_.recipient_name})
    return render(request, "resources/delivery.html", {
        "delivery": d, "need": need_, "resource": d.allocation.resource, "form": form,
        "return_form": forms.ReturnForm(),
        "can_confirm": can(user, "resources.confirm_delivery", d)})


@login_required
@require_POST
def delivery_do(request, pk, action):
    if action not in ("confirm", "return"):
        raise Http404
    user = request.user
    d = access_object(Delivery.objects.select_related("allocation__resource", "allocation__need"), user,
                      "resources.confirm_delivery", pk=pk)
    form = (forms.ConfirmForm if action == "confirm" else forms.ReturnForm)(request.POST)
    if form.is_valid():
        try:
            if action == "confirm":
                services.confirm_delivery(actor=user, delivery=d, **form.cleaned_data)
                messages.success(request, _("Receipt confirmed."))
            else:
                services.delivery_return(actor=user, delivery=d, **form.cleaned_data)
                messages.success(request, _("The return is back in stock."))
            return redirect("resources:delivery", d.pk)
        except ValidationError as exc:
            add_validation_errors(form, exc)
    need_ = d.allocation.need
    return render(request, "resources/delivery.html", {
        "delivery": d, "need": need_, "resource": d.allocation.resource,
        "form": form if action == "confirm" else forms.ConfirmForm(),
        "return_form": form if action == "return" else forms.ReturnForm(),
        "can_confirm": True}, status=400)


@login_required
def deliveries(request):
    """What is under way to the user's villages: the grid worker's list of doors to knock on."""
    user = request.user
    require_perm(user, "resources.view_delivery")
    rows = Delivery.objects.visible_to(user, "resources.view_delivery").select_related(
        "allocation__resource", "allocation__need__place")
    under_way = rows.filter(status=DeliveryStatus.UNDER_WAY).order_by("sent_at")
    recent = rows.exclude(status=DeliveryStatus.UNDER_WAY).order_by("-confirmed_at", "-pk")[:20]
    return render(request, "resources/deliveries.html", {"under_way": under_way, "recent": recent})


# ---- the map -------------------------------------------------------------------------------

@login_required
def map_page(request):
    _require_any(request.user, "resources.view_resource", "resources.view_need")
    return render(request, "resources/map.html", {"tiles": settings.GONGZHI_MAP_TILES,
                                                  "layers": selectors.map_layers(request.user)})


@login_required
def map_data(request):
    _require_any(request.user, "resources.view_resource", "resources.view_need")
    days = _int(request.GET.get("days")) or 30
    return JsonResponse(selectors.map_layers(request.user, days=max(1, min(days, 366))))
