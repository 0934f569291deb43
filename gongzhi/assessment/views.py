"""Assessment pages: parse input → call a selector or service → render.

Every figure on these pages is a link to the records behind it (``records``). Out of scope is 404,
no permission anywhere is 403 (``gongzhi.core.scoping``); a refused write is shown on the page in
Chinese and nothing is saved.
"""
from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from gongzhi.cases.models import Case
from gongzhi.core.forms import add_validation_errors, flash_validation_errors
from gongzhi.core.scoping import access_object, counties_of, has_perm_anywhere, holds_county, require_perm
from gongzhi.registry.models import Department, Region, RegionLevel

from . import burden, forms, indicators, indices, ranking, selectors, services
from .bulletins import STANDING_ZH
from .indicators import Period
from .models import (
    AssessmentWeights, Bulletin, BurdenFlag, Demand, DecisionStatus, Exemption, FaultToleranceApplication,
    IndexFormula, NegativeItem, Proposal, ScoringWeights,
)


def _period(request) -> Period:
    text = request.GET.get("period") or request.POST.get("period")
    if not text:
        return Period.last_complete()
    try:
        return Period.parse(text)
    except ValidationError:
        raise Http404 from None


def _require_any(user, *perms):
    if not any(has_perm_anywhere(user, p) for p in perms):
        require_perm(user, perms[0])


def _county(request, perm: str = selectors.VIEW):
    user = request.user
    region = selectors.home_region(user) or selectors.home_region(user, "assessment.view_demand") \
        or selectors.home_region(user, perm)
    if region is None:
        # No region grant (the auditor's "all", a grid worker's grid, a department): their county.
        ids = counties_of(user, perm)
        counties = Region.objects.filter(level=RegionLevel.COUNTY).order_by("code")
        region = (counties if ids is None else counties.filter(pk__in=ids)).first()
    county = selectors.county_of(region)
    if county is None:
        raise PermissionDenied
    return region, county


@login_required
def home(request):
    user = request.user
    require_perm(user, selectors.VIEW)
    period = _period(request)
    region, county = _county(request)
    kinds = ("village", "town", "department", "user") if region.level == RegionLevel.COUNTY else ("village", "user")
    assessment = ranking.assess(user=user, county=county, period=period, kinds=kinds)
    headline = []
    subject_kind = "county" if region.level == 1 else ("town" if region.level == 2 else "village")
    for code in ("case_accepted", "case_closed", "case_closure_rate", "case_on_time_rate", "case_satisfaction_rate",
                 "case_score", "contacts_made", "red_visits_kept", "decisions_carried_out", "key_tasks_done",
                 "needs_delivered", "volunteer_hours"):
        ind = indicators.BY_CODE[code]
        fig = ind.total_of(user=user, period=period, within=region)
        headline.append((ind, fig, ind.provenance_url(subject_kind, region.pk, period)))
    villages = ranking.villages_within(assessment.subjects.get("village", []), region)
    return render(request, "assessment/home.html", {
        "period": period, "periods": selectors.recent_periods(), "region": region, "headline": headline,
        "villages": villages, "towns": assessment.subjects.get("town", []),
        "departments": assessment.subjects.get("department", []), "persons": assessment.subjects.get("user", []),
        "columns": [indicators.BY_CODE[c] for c in ("case_closure_rate", "case_on_time_rate", "case_satisfaction_rate",
                                                     "case_score", "red_visits_kept")],
        "standing_zh": STANDING_ZH, "forbidden": assessment.forbidden,
        "exempted": indicators.exempted_in(user=user, period=period, within=region)})


@login_required
def catalogue(request):
    _require_any(request.user, selectors.VIEW, "assessment.view_demand")
    return render(request, "assessment/catalogue.html", {"catalogue": indicators.CATALOGUE,
                                                          "subject_zh": indicators.SUBJECT_ZH})


@login_required
def records(request, code, kind, subject_id, period):
    """The list behind a number (provenance)."""
    try:
        indicator = indicators.get(code)
        period = Period.parse(period)
    except ValidationError:
        raise Http404 from None
    require_perm(request.user, indicator.perm)
    part = request.GET.get("part", "num")
    if part not in ("num", "den") or (kind != "county" and kind not in indicator.subjects):
        raise Http404
    if kind == "county" and not subject_id:
        name = "本辖区"
    else:
        name = selectors.subject_name(request.user, kind, subject_id)
    qs, render_row = selectors.provenance(user=request.user, indicator=indicator, kind=kind, subject_id=subject_id,
                                          period=period, part=part)
    if kind in ("user", "department") and not indicator.records(
            user=request.user, period=period, kind=kind, subject_id=subject_id, part="den").exists():
        raise Http404  # a login or department whose work the reader cannot see is not named
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    return render(request, "assessment/records.html", {
        "indicator": indicator, "period": period, "name": name, "part": part, "page": page,
        "rows": [render_row(obj) for obj in page], "kind": kind, "subject_id": subject_id,
        "other_part": "den" if part == "num" else "num", "has_denominator": indicator.shape in ("rate", "mean")})


# ---- case scoring -----------------------------------------------------------------------------

@login_required
def scores(request):
    user = request.user
    require_perm(user, selectors.VIEW)
    period = _period(request)
    region, county = _county(request)
    weights = ScoringWeights.objects.visible_to(user, "assessment.view_scoringweights").filter(county=county).first()
    can_set = holds_county(user, "assessment.add_scoringweights", county.pk)
    form = forms.ScoringWeightsForm(request.POST or None, initial=weights.as_dict() if weights else None)
    if request.method == "POST":
        if not can_set:
            raise PermissionDenied
        if form.is_valid():
            try:
                services.scoring_weights_set(actor=user, county=county, weights=form.weights(),
                                             note=form.cleaned_data["note"])
                messages.success(request, "权重已更新，此后办结的事项按新权重评分。")
                return redirect("assessment:scores")
            except ValidationError as exc:
                add_validation_errors(form, exc)
    return render(request, "assessment/scores.html", {
        "period": period, "summary": selectors.scores_summary(user, period=period, within=region),
        "latest": selectors.latest_scores(user, period=period, within=region), "weights": weights,
        "history": ScoringWeights.objects.visible_to(user, "assessment.view_scoringweights").filter(county=county)[:10],
        "form": form if can_set else None, "score_url": indicators.BY_CODE["case_score"].provenance_url(
            "county" if region.level == 1 else ("town" if region.level == 2 else "village"), region.pk, period)})


# ---- the burden meter -------------------------------------------------------------------------

@login_required
def burden_meter(request):
    user = request.user
    require_perm(user, "assessment.view_demand")
    region, county = _county(request, "assessment.view_demand")
    burden.sync_flow_demands(county)
    meter = burden.meter(county)
    can_add = holds_county(user, "assessment.add_demand", county.pk)
    form = forms.DemandForm(request.POST or None) if can_add else None
    if request.method == "POST":
        if not can_add:
            raise PermissionDenied
        if form.is_valid():
            try:
                services.demand_add(actor=user, county=county, **form.cleaned_data)
                messages.success(request, "已新增要求。")
                return redirect("assessment:burden")
            except ValidationError as exc:
                add_validation_errors(form, exc)
    flags = BurdenFlag.objects.visible_to(user, "assessment.view_burdenflag").select_related("town", "demand")[:50] \
        if has_perm_anywhere(user, "assessment.view_burdenflag") else []
    return render(request, "assessment/burden.html", {
        "meter": meter, "form": form, "flags": flags, "can_retire": holds_county(user, "assessment.retire_demand",
                                                                                 county.pk),
        "can_flag": has_perm_anywhere(user, "assessment.add_burdenflag"),
        "can_decide_flags": holds_county(user, "assessment.decide_burdenflag", county.pk)})


@login_required
@require_POST
def demand_retire(request, pk):
    demand = access_object(Demand.objects.all(), request.user, "assessment.view_demand", pk=pk)
    form = forms.RetireForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError({"note": "请写明取消的理由"})
        services.demand_retire(actor=request.user, demand=demand, note=form.cleaned_data["note"])
        messages.success(request, "已取消这项要求。")
    except ValidationError as exc:
        flash_validation_errors(request, exc)
    return redirect("assessment:burden")


@login_required
def flag_new(request):
    user = request.user
    require_perm(user, "assessment.add_burdenflag")
    towns = Region.objects.visible_to(user, "assessment.add_burdenflag").filter(level=RegionLevel.TOWN)
    town = towns.order_by("code").first()
    if town is None:
        raise PermissionDenied
    form = forms.FlagForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.burden_flag_raise(actor=user, town=town, **form.cleaned_data)
            messages.success(request, "已报县里核查。")
            return redirect("assessment:burden")
        except ValidationError as exc:
            add_validation_errors(form, exc)
    return render(request, "assessment/form.html", {"form": form, "title": "反映隐性负担", "intro": town.name})


@login_required
@require_POST
def flag_decide(request, pk):
    flag = access_object(BurdenFlag.objects.all(), request.user, "assessment.decide_burdenflag", pk=pk)
    form = forms.DecideForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError({"note": "请选择决定并写明理由"})
        services.burden_flag_decide(actor=request.user, flag=flag, uphold=form.accepted, note=form.cleaned_data["note"])
        messages.success(request, "已决定。")
    except ValidationError as exc:
        flash_validation_errors(request, exc)
    return redirect("assessment:burden")


# ---- negative list and exemptions -------------------------------------------------------------

@login_required
def negative_list(request):
    user = request.user
    require_perm(user, "assessment.view_negativeitem")
    region, county = _county(request, "assessment.view_negativeitem")
    can_add = holds_county(user, "assessment.add_negativeitem", county.pk)
    form = forms.NegativeItemForm(request.POST or None) if can_add else None
    if request.method == "POST":
        if not can_add:
            raise PermissionDenied
        if form.is_valid():
            try:
                services.negative_item_add(actor=user, county=county, **form.cleaned_data)
                messages.success(request, "已列入负面清单。")
                return redirect("assessment:negative")
            except ValidationError as exc:
                add_validation_errors(form, exc)
    items = NegativeItem.objects.visible_to(user, "assessment.view_negativeitem").filter(active=True)
    return render(request, "assessment/negative.html", {"items": items, "form": form,
                                                         "by_code": indicators.BY_CODE})


@login_required
def exemptions(request):
    user = request.user
    require_perm(user, "assessment.view_exemption")
    rows = Exemption.objects.visible_to(user, "assessment.view_exemption").select_related("case", "filed_by",
                                                                                          "decided_by")
    status = request.GET.get("status")
    if status in DecisionStatus.values:
        rows = rows.filter(status=status)
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    return render(request, "assessment/exemptions.html", {
        "page": page, "can_file": has_perm_anywhere(user, "assessment.add_exemption"),
        "can_decide": has_perm_anywhere(user, "assessment.decide_exemption"), "decide_form": forms.DecideForm()})


@login_required
def exemption_new(request):
    user = request.user
    require_perm(user, "assessment.add_exemption")
    form = forms.ExemptionForm(request.POST or None, initial={"case_number": request.GET.get("case", "")})
    if request.method == "POST" and form.is_valid():
        case = Case.objects.visible_to(user, "cases.view_case").filter(number=form.cleaned_data["case_number"]).first()
        if case is None:
            form.add_error("case_number", "没有找到这件事项（或不在您的辖区）")
        else:
            try:
                services.exemption_file(actor=user, case=case, ground=form.cleaned_data["ground"],
                                        explanation=form.cleaned_data["explanation"])
                messages.success(request, "已提交事后备案说明，待认可。")
                return redirect("assessment:exemptions")
            except ValidationError as exc:
                add_validation_errors(form, exc)
    return render(request, "assessment/form.html", {"form": form, "title": "事后备案说明",
                                                    "intro": "应急和基本民生事项可先处置、后说明；认可后不扣时效分。"})


@login_required
@require_POST
def exemption_decide(request, pk):
    exemption = access_object(Exemption.objects.all(), request.user, "assessment.decide_exemption", pk=pk)
    form = forms.DecideForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError({"note": "请选择决定并写明理由"})
        services.exemption_decide(actor=request.user, exemption=exemption, accept=form.accepted,
                                  note=form.cleaned_data["note"])
        messages.success(request, "已决定。")
    except ValidationError as exc:
        flash_validation_errors(request, exc)
    return redirect("assessment:exemptions")


# ---- differentiated indices -------------------------------------------------------------------

@login_required
def index_page(request):
    user = request.user
    require_perm(user, selectors.VIEW)
    period = _period(request)
    region, county = _county(request)
    cases = indicators.BY_CODE["case_accepted"].compute(user=user, period=period, kind="village", within=county)
    units = indices.county_indices(county, period_end=period.end,
                                   cases_in_period={k: int(v.numerator) for k, v in cases.items()})
    if region.level > 1:
        units = {k: u for k, u in units.items() if (u.region.town_id if region.level == 2 else u.region.pk) == region.pk}
    can_set = holds_county(user, "assessment.add_indexformula", county.pk)
    form = forms.FormulaForm(request.POST or None) if can_set else None
    if request.method == "POST":
        if not can_set:
            raise PermissionDenied
        if form.is_valid():
            try:
                services.index_formula_set(actor=user, county=county, kind=form.cleaned_data["kind"],
                                           terms=form.parsed_terms(), note=form.cleaned_data["note"])
                messages.success(request, "已保存新版公式，待他人复核。")
                return redirect("assessment:indices")
            except ValidationError as exc:
                add_validation_errors(form, exc)
    formulas = {kind: indices.formula_terms(county, kind) for kind in ("urban", "rural")}
    return render(request, "assessment/indices.html", {
        "period": period, "units": sorted(units.values(), key=lambda u: (u.unit_class, -(u.index or 0))),
        "factors": indices.FACTORS, "formulas": formulas, "index_name": indices.INDEX_NAME, "form": form,
        "history": IndexFormula.objects.visible_to(user, "assessment.view_indexformula").filter(county=county)[:10],
        "can_review": holds_county(user, "assessment.review_indexformula", county.pk),
        "weights": {cls: ranking.weights_for(county, cls) for cls in ranking.DEFAULT_WEIGHTS},
        "weights_history": AssessmentWeights.objects.visible_to(user, "assessment.view_assessmentweights")
        .filter(county=county)[:10]})


@login_required
@require_POST
def formula_review(request, pk):
    formula = access_object(IndexFormula.objects.all(), request.user, "assessment.view_indexformula", pk=pk)
    try:
        services.index_formula_review(actor=request.user, formula=formula)
        messages.success(request, "已复核。")
    except ValidationError as exc:
        flash_validation_errors(request, exc)
    return redirect("assessment:indices")


# ---- the separating equilibrium ---------------------------------------------------------------

@login_required
def proposals(request):
    user = request.user
    require_perm(user, "assessment.view_proposal")
    period = _period(request)
    region, county = _county(request, "assessment.view_proposal")
    can_generate = holds_county(user, "assessment.add_proposal", county.pk)
    if request.method == "POST":
        if not can_generate:
            raise PermissionDenied
        try:
            made = services.proposals_generate(actor=user, county=county, period=period)
            messages.success(request, f"已提出{len(made)}条建议，待负责人决定。")
        except ValidationError as exc:
            flash_validation_errors(request, exc)
        return redirect(f"{request.path}?period={period.code}")
    rows = selectors.proposals_for(user, period)
    return render(request, "assessment/proposals.html", {
        "period": period, "periods": selectors.recent_periods(), "rows": rows, "can_generate": can_generate,
        "standing_zh": STANDING_ZH})


@login_required
def proposal(request, pk):
    user = request.user
    row = access_object(Proposal.objects.select_related("decided_by"), user, "assessment.view_proposal", pk=pk)
    form = forms.DecideForm(request.POST or None)
    can_decide = has_perm_anywhere(user, "assessment.decide_proposal") and \
        Proposal.objects.visible_to(user, "assessment.decide_proposal").filter(pk=pk).exists()
    if request.method == "POST":
        if not can_decide:
            raise PermissionDenied
        if form.is_valid():
            try:
                services.proposal_decide(actor=user, proposal=row, accept=form.accepted, note=form.cleaned_data["note"])
                messages.success(request, "已决定并记录。")
                return redirect("assessment:proposal", pk=pk)
            except ValidationError as exc:
                add_validation_errors(form, exc)
    return render(request, "assessment/proposal.html", {"row": row, "form": form if can_decide else None,
                                                         "standing_zh": STANDING_ZH})


@login_required
def tolerance_list(request):
    user = request.user
    require_perm(user, "assessment.view_faulttoleranceapplication")
    rows = FaultToleranceApplication.objects.visible_to(user, "assessment.view_faulttoleranceapplication") \
        .select_related("region", "decided_by")
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    return render(request, "assessment/tolerance_list.html", {
        "page": page, "can_apply": has_perm_anywhere(user, "assessment.add_faulttoleranceapplication")})


@login_required
def tolerance_new(request):
    user = request.user
    require_perm(user, "assessment.add_faulttoleranceapplication")
    regions = Region.objects.visible_to(user, "assessment.add_faulttoleranceapplication").filter(
        level__in=[RegionLevel.TOWN, RegionLevel.VILLAGE]).order_by("code")
    form = forms.ToleranceForm(request.POST or None, regions=regions)
    if request.method == "POST" and form.is_valid():
        case = None
        number = form.cleaned_data["case_number"].strip()
        if number:
            case = Case.objects.visible_to(user, "cases.view_case").filter(number=number).first()
            if case is None:
                form.add_error("case_number", "没有找到这件事项（或不在您的辖区）")
        if not form.errors:
            try:
                row = services.fault_tolerance_apply(actor=user, region=form.cleaned_data["region"],
                                                     matter=form.cleaned_data["matter"],
                                                     conditions=form.conditions(), case=case)
                messages.success(request, "申请已提交，待负责人决定。")
                return redirect("assessment:tolerance", pk=row.pk)
            except ValidationError as exc:
                add_validation_errors(form, exc)
    return render(request, "assessment/form.html", {
        "form": form, "title": "容错免责申请",
        "intro": "四个条件须同时具备：出于公心、没有谋取私利、在积极干事中发生、不是故意。请逐项写明依据。"})


@login_required
def tolerance(request, pk):
    user = request.user
    row = access_object(FaultToleranceApplication.objects.select_related("region", "decided_by", "case"), user,
                        "assessment.view_faulttoleranceapplication", pk=pk)
    can_decide = FaultToleranceApplication.objects.visible_to(user, "assessment.decide_faulttolerance") \
        .filter(pk=pk).exists() if has_perm_anywhere(user, "assessment.decide_faulttolerance") else False
    form = forms.DecideForm(request.POST or None)
    if request.method == "POST":
        if not can_decide:
            raise PermissionDenied
        if form.is_valid():
            try:
                services.fault_tolerance_decide(actor=user, application=row, grant=form.accepted,
                                                note=form.cleaned_data["note"])
                messages.success(request, "已决定并记录。")
                return redirect("assessment:tolerance", pk=pk)
            except ValidationError as exc:
                add_validation_errors(form, exc)
    conditions = [(FaultToleranceApplication._meta.get_field(c).verbose_name, getattr(row, c),
                   getattr(row, f"{c}_evidence")) for c in FaultToleranceApplication.CONDITIONS]
    return render(request, "assessment/tolerance.html", {"row": row, "conditions": conditions,
                                                          "form": form if can_decide and row.status == "filed" else None})


# ---- bulletins --------------------------------------------------------------------------------

def _bulletin_scopes(user):
    scopes = []
    for region in Region.objects.visible_to(user, "assessment.add_bulletin").filter(
            level__in=[RegionLevel.COUNTY, RegionLevel.TOWN]).order_by("level", "code")[:60]:
        if region.level == RegionLevel.COUNTY and not holds_county(user, "assessment.add_bulletin", region.pk):
            continue
        scopes.append((f"{'county' if region.level == 1 else 'town'}:{region.pk}", region.name))
    counties = [int(k.split(":")[1]) for k, _ in scopes if k.startswith("county:")]
    for department in Department.objects.filter(county_id__in=counties).order_by("name")[:60]:
        scopes.append((f"department:{department.pk}", department.name))
    return scopes


@login_required
def bulletin_list(request):
    user = request.user
    require_perm(user, "assessment.view_bulletin")
    can_generate = has_perm_anywhere(user, "assessment.add_bulletin")
    scopes = _bulletin_scopes(user) if can_generate else []
    form = forms.BulletinForm(request.POST or None, scopes=scopes,
                              initial={"period": Period.last_complete().code})
    if request.method == "POST":
        if not can_generate:
            raise PermissionDenied
        if form.is_valid():
            kind, _, pk = form.cleaned_data["scope"].partition(":")
            region = Region.objects.filter(pk=pk).first() if kind != "department" else None
            department = Department.objects.filter(pk=pk).first() if kind == "department" else None
            try:
                period = Period.parse(form.cleaned_data["period"])
                row = services.bulletin_generate(actor=user, scope_kind=kind, region=region, department=department,
                                                 period=period)
                messages.success(request, "通报草稿已生成，请核对后印发。")
                return redirect("assessment:bulletin", pk=row.pk)
            except ValidationError as exc:
                add_validation_errors(form, exc)
    page = Paginator(selectors.bulletins_for(user), 30).get_page(request.GET.get("page"))
    return render(request, "assessment/bulletins.html", {"page": page, "form": form if can_generate else None})


@login_required
def bulletin(request, pk):
    user = request.user
    row = access_object(Bulletin.objects.all(), user, "assessment.view_bulletin", pk=pk)
    return render(request, "assessment/bulletin.html", {
        "row": row, "content": row.content,
        "can_issue": row.status == "draft" and Bulletin.objects.visible_to(user, "assessment.issue_bulletin")
        .filter(pk=pk).exists() if has_perm_anywhere(user, "assessment.issue_bulletin") else False,
        "can_correct": row.status == "issued" and has_perm_anywhere(user, "assessment.add_bulletin") and
        Bulletin.objects.visible_to(user, "assessment.add_bulletin").filter(pk=pk).exists(),
        "versions": Bulletin.objects.visible_to(user, "assessment.view_bulletin").filter(
            year=row.year, quarter=row.quarter, scope_kind=row.scope_kind, region=row.region,
            department=row.department).order_by("version"),
        "correct_form": forms.CorrectForm()})


@login_required
def bulletin_download(request, pk, fmt):
    row = access_object(Bulletin.objects.all(), request.user, "assessment.view_bulletin", pk=pk)
    if fmt not in ("pdf", "xlsx"):
        raise Http404
    data = services.bulletin_file(actor=request.user, bulletin=row, fmt=fmt)
    content_type = "application/pdf" if fmt == "pdf" else \
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="bulletin-{row.year}Q{row.quarter}-v{row.version}.{fmt}"'
    return response


@login_required
@require_POST
def bulletin_do(request, pk, action):
    user = request.user
    row = access_object(Bulletin.objects.all(), user, "assessment.view_bulletin", pk=pk)
    try:
        if action == "issue":
            services.bulletin_issue(actor=user, bulletin=row)
            messages.success(request, "已印发。印发后不能再改，更正请发更正版。")
        elif action == "regenerate":
            row = services.bulletin_generate(actor=user, scope_kind=row.scope_kind, region=row.region,
                                             department=row.department, period=Period(row.year, row.quarter))
            messages.success(request, "草稿已按最新记录重新生成。")
        elif action == "correct":
            form = forms.CorrectForm(request.POST)
            if not form.is_valid():
                raise ValidationError({"note": "请写明更正的内容和原因"})
            row = services.bulletin_correct(actor=user, bulletin=row, note=form.cleaned_data["note"])
            messages.success(request, "已生成更正版草稿。")
        else:
            raise Http404
    except ValidationError as exc:
        flash_validation_errors(request, exc)
    return redirect("assessment:bulletin", pk=row.pk)
