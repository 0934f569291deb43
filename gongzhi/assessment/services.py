"""Every write of the assessment.

Each service takes a keyword-only ``actor``, runs in one transaction, checks the permission and the
scope (county settings need the permission over the whole county: ``holds_county``), validates with
Chinese messages (``ValidationError``: nothing half-saved) and writes its audit record. Nothing here
punishes or rewards by itself: the platform proposes (``proposals_generate``) and a named person
decides (``proposal_decide``, ``fault_tolerance_decide``, ``exemption_decide``).
"""
from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from gongzhi.cases.models import Case
from gongzhi.core.audit import AuditAction, audit_record, create_audited, save_audited, snapshot
from gongzhi.core.scoping import access_object, can, holds_county, require_perm
from gongzhi.registry.models import Department, Region, RegionLevel

from . import bulletins, indicators, indices, ranking, scoring
from .burden import forbidden_indicators
from .indicators import Period
from .models import (
    PRODDING_STEPS, AssessmentWeights, Bulletin, BulletinStatus, BurdenFlag, DecisionStatus, Demand,
    DemandKind, DemandOrigin, Exemption, ExemptionGround, FaultToleranceApplication, FlagKind, IndexFormula,
    Measure, NegativeItem, NegativeKind, Proposal, ScoringWeights, Standing, UnitClass,
)


def _text(value, field: str, message: str, *, limit: int = 2000, minimum: int = 1) -> str:
    value = (value or "").strip()
    if len(value) < minimum:
        raise ValidationError({field: message})
    if len(value) > limit:
        raise ValidationError({field: f"不能超过{limit}个字"})
    return value


def _county_duty(actor, perm: str, county: Region) -> None:
    require_perm(actor, perm)
    if county.level != RegionLevel.COUNTY or not holds_county(actor, perm, county.pk):
        raise PermissionDenied("只有县级才能设定")


def _name(user) -> str:
    return str(user)  # the display name (显示名), else the username


def _next_version(model, **where) -> int:
    last = model.objects.filter(**where).order_by("-version").values_list("version", flat=True).first()
    return (last or 0) + 1


def _whole_weights(weights: dict, allowed, field: str = "weights") -> dict[str, int]:
    if not isinstance(weights, dict) or not weights:
        raise ValidationError({field: "至少要有一项权重"})
    clean = {}
    for key, value in weights.items():
        if key not in allowed:
            raise ValidationError({field: f"“{key}”不是可用的项目"})
        try:
            number = int(value)
        except (TypeError, ValueError):
            raise ValidationError({field: f"“{key}”的权重应为整数"}) from None
        if str(value).strip() not in (str(number), f"{number}.0") or number < 0:
            raise ValidationError({field: f"“{key}”的权重应为不小于0的整数"})
        clean[key] = number
    total = sum(clean.values())
    if total != 100:
        raise ValidationError({field: f"各项权重之和应为100，现在是{total}"})
    return clean


# ---- county settings --------------------------------------------------------------------------

@transaction.atomic
def scoring_weights_set(*, actor, county: Region, weights: dict, note: str) -> ScoringWeights:
    _county_duty(actor, "assessment.add_scoringweights", county)
    clean = _whole_weights({k: weights.get(k, 0) for k in ScoringWeights.PARTS}
                           if set(weights) <= set(ScoringWeights.PARTS) else weights, ScoringWeights.PARTS)
    row = ScoringWeights(county=county, version=_next_version(ScoringWeights, county=county), set_by=actor,
                         note=_text(note, "note", "请写明调整的理由"), **clean)
    return create_audited(row, actor, "assessment.view_scoringweights")


@transaction.atomic
def assessment_weights_set(*, actor, county: Region, unit_class: str, weights: dict, note: str) -> AssessmentWeights:
    _county_duty(actor, "assessment.add_assessmentweights", county)
    if unit_class not in UnitClass.values:
        raise ValidationError({"unit_class": "没有这一类对象"})
    forbidden = forbidden_indicators(county.pk)
    clean = _whole_weights(weights, indicators.BY_CODE)
    barred = [k for k, v in clean.items() if v and k in forbidden]
    if barred:
        raise ValidationError({"weights": f"负面清单不许计入：{'、'.join(barred)}"})
    row = AssessmentWeights(county=county, unit_class=unit_class, weights=clean, set_by=actor,
                            version=_next_version(AssessmentWeights, county=county, unit_class=unit_class),
                            note=_text(note, "note", "请写明调整的理由"))
    return create_audited(row, actor, "assessment.view_assessmentweights")


@transaction.atomic
def index_formula_set(*, actor, county: Region, kind: str, terms, note: str) -> IndexFormula:
    _county_duty(actor, "assessment.add_indexformula", county)
    if kind not in ("urban", "rural"):
        raise ValidationError({"kind": "指数只有城市（urban）和农村（rural）两种"})
    row = IndexFormula(county=county, kind=kind, terms=indices.validate_terms(terms), set_by=actor,
                       version=_next_version(IndexFormula, county=county, kind=kind),
                       note=_text(note, "note", "请写明公式的依据"))
    return create_audited(row, actor, "assessment.view_indexformula")


@transaction.atomic
def index_formula_review(*, actor, formula: IndexFormula) -> IndexFormula:
    formula = access_object(IndexFormula.objects.select_for_update(), actor, "assessment.view_indexformula",
                            pk=formula.pk)
    _county_duty(actor, "assessment.review_indexformula", formula.county)
    if formula.set_by_id == actor.pk:
        raise ValidationError({"reviewer": "公式须由设定人以外的人复核"})
    if formula.reviewed_at:
        raise ValidationError({"reviewer": "这一版已经复核过了"})
    before = snapshot(formula)
    formula.reviewed_by, formula.reviewed_at = actor, timezone.now()
    return save_audited(formula, before, actor, note="复核指数公式")


# ---- 事后备案说明 ------------------------------------------------------------------------------

@transaction.atomic
def exemption_file(*, actor, case: Case, ground: str, explanation: str) -> Exemption:
    require_perm(actor, "assessment.add_exemption")
    case = access_object(Case.objects.all(), actor, "cases.view_case", pk=case.pk)
    if ground not in ExemptionGround.values:
        raise ValidationError({"ground": "只有应急和基本民生事项可以事后备案说明"})
    if Exemption.objects.filter(case=case).exclude(status=DecisionStatus.REFUSED).exists():
        raise ValidationError({"case": "这件事项已有事后备案说明"})
    row = Exemption(case=case, ground=ground, filed_by=actor,
                    explanation=_text(explanation, "explanation", "请说明当时怎样处置、为什么没有走常规流程（至少10个字）",
                                      minimum=10))
    row.copy_territory_from(case.region)
    return create_audited(row, actor, "assessment.view_exemption")


@transaction.atomic
def exemption_decide(*, actor, exemption: Exemption, accept: bool, note: str) -> Exemption:
    exemption = access_object(Exemption.objects.select_for_update(), actor, "assessment.decide_exemption",
                              pk=exemption.pk)
    if exemption.status != DecisionStatus.FILED:
        raise ValidationError({"status": "已经决定过了"})
    if exemption.filed_by_id == actor.pk:
        raise ValidationError({"decided_by": "不能决定自己提交的说明"})
    before = snapshot(exemption)
    exemption.status = DecisionStatus.ACCEPTED if accept else DecisionStatus.REFUSED
    exemption.decided_by, exemption.decided_at = actor, timezone.now()
    exemption.decision_note = _text(note, "decision_note", "请写明决定的理由")
    save_audited(exemption, before, actor, note="认可事后备案说明" if accept else "不认可事后备案说明")
    if accept:
        scoring.rescore(exemption.case)
    return exemption


# ---- negative list and the burden meter -------------------------------------------------------

@transaction.atomic
def negative_item_add(*, actor, county: Region, kind: str, text: str, demand_kind: str = "",
                      indicator: str = "") -> NegativeItem:
    _county_duty(actor, "assessment.add_negativeitem", county)
    if kind not in NegativeKind.values:
        raise ValidationError({"kind": "负面清单只有“不得要求”和“不得计入”两类"})
    if kind == NegativeKind.NO_DEMAND and demand_kind and demand_kind not in DemandKind.values:
        raise ValidationError({"demand_kind": "没有这一类要求"})
    if kind == NegativeKind.NO_COUNT:
        if not indicator:
            raise ValidationError({"indicator": "“不得计入”须指明指标"})
        indicators.get(indicator)
    row = NegativeItem(kind=kind, text=_text(text, "text", "请写明内容", limit=300), added_by=actor,
                       demand_kind=demand_kind if kind == NegativeKind.NO_DEMAND else "",
                       indicator=indicator if kind == NegativeKind.NO_COUNT else "")
    row.copy_territory_from(county)
    return create_audited(row, actor, "assessment.view_negativeitem")


@transaction.atomic
def demand_add(*, actor, county: Region, code: str, name: str, role: str, kind: str, feeds: str,
               fields: int = 0, photos: int = 0, per_week="1", trace: str = "") -> Demand:
    """A new demand on the grassroots: it must name the indicator it feeds, and the negative list
    may forbid its kind outright."""
    _county_duty(actor, "assessment.add_demand", county)
    if kind not in DemandKind.values:
        raise ValidationError({"kind": "没有这一类要求"})
    if not feeds:
        raise ValidationError({"feeds": "新增要求必须写明它服务于哪个指标；不产生指标的要求只会留痕（痕迹管理）"})
    indicators.get(feeds)
    if feeds in forbidden_indicators(county.pk):
        raise ValidationError({"feeds": "这个指标在负面清单上，不得计入"})
    barred = NegativeItem.objects.filter(county=county, kind=NegativeKind.NO_DEMAND, active=True, demand_kind=kind)
    if barred.exists():
        raise ValidationError({"kind": f"负面清单不许要求：{barred.first().text}"})
    if trace:
        from django.apps import apps as django_apps
        try:
            django_apps.get_model(trace)
        except (LookupError, ValueError):
            raise ValidationError({"trace": f"没有“{trace}”这类记录"}) from None
    if Demand.objects.filter(county=county, code=code).exists():
        raise ValidationError({"code": "这个编码已经用过了"})
    row = Demand(code=code, name=_text(name, "name", "请写明要求", limit=200), role=_text(role, "role", "请写明对谁的要求", limit=50),
                 kind=kind, feeds=feeds, fields=fields, photos=photos, per_week=per_week, trace=trace.lower(),
                 origin=DemandOrigin.COUNTY, added_by=actor)
    row.copy_territory_from(county)
    return create_audited(row, actor, "assessment.view_demand")


@transaction.atomic
def demand_retire(*, actor, demand: Demand, note: str) -> Demand:
    demand = access_object(Demand.objects.select_for_update(), actor, "assessment.view_demand", pk=demand.pk)
    _county_duty(actor, "assessment.retire_demand", demand.county)
    if demand.origin == DemandOrigin.FLOW:
        raise ValidationError({"demand": "平台流程自身的要求要改流程本身，不能在这里取消"})
    if not demand.active:
        raise ValidationError({"demand": "已经取消了"})
    before = snapshot(demand)
    demand.active, demand.retired_at = False, timezone.now()
    return save_audited(demand, before, actor, note=_text(note, "note", "请写明取消的理由"))


@transaction.atomic
def burden_flag_raise(*, actor, town: Region, kind: str, description: str, demand: Demand | None = None) -> BurdenFlag:
    require_perm(actor, "assessment.add_burdenflag")
    if town.level != RegionLevel.TOWN:
        raise ValidationError({"town": "由镇（街道）提出"})
    if kind not in FlagKind.values:
        raise ValidationError({"kind": "没有这一类"})
    row = BurdenFlag(kind=kind, description=_text(description, "description", "请写明要求的内容、由谁、多久一次（至少10个字）",
                                                  minimum=10), demand=demand, raised_by=actor)
    row.copy_territory_from(town)
    return create_audited(row, actor, "assessment.add_burdenflag")


@transaction.atomic
def burden_flag_decide(*, actor, flag: BurdenFlag, uphold: bool, note: str) -> BurdenFlag:
    flag = access_object(BurdenFlag.objects.select_for_update(), actor, "assessment.decide_burdenflag", pk=flag.pk)
    _county_duty(actor, "assessment.decide_burdenflag", flag.county)
    if flag.status != DecisionStatus.FILED:
        raise ValidationError({"status": "已经决定过了"})
    before = snapshot(flag)
    flag.status = DecisionStatus.ACCEPTED if uphold else DecisionStatus.REFUSED
    flag.decided_by, flag.decided_at = actor, timezone.now()
    flag.decision_note = _text(note, "decision_note", "请写明决定和要采取的措施")
    save_audited(flag, before, actor)
    if uphold and flag.demand_id and flag.demand.active and flag.demand.origin != DemandOrigin.FLOW:
        demand_retire(actor=actor, demand=flag.demand, note=f"镇（街道）反映属实：{flag.decision_note}")
    return flag


# ---- the separating equilibrium ---------------------------------------------------------------

def _next_prodding(subject: dict) -> str:
    decided = set(Proposal.objects.filter(**subject, status=DecisionStatus.ACCEPTED,
                                          measure__in=PRODDING_STEPS).values_list("measure", flat=True))
    for step in PRODDING_STEPS:
        if step not in decided:
            return step
    return PRODDING_STEPS[-1]


@transaction.atomic
def proposals_generate(*, actor, county: Region, period: Period) -> list[Proposal]:
    """Tell units and persons apart for the period and propose, never decide."""
    _county_duty(actor, "assessment.add_proposal", county)
    _require_closed(period)
    assessment = ranking.assess(user=actor, county=county, period=period)
    made = []
    for kind, rows in assessment.subjects.items():
        for a in rows:
            if a.standing == Standing.ORDINARY:
                continue
            subject = {"subject_kind": kind, "region": None, "department": None, "user": None}
            if kind in ("village", "town"):
                subject["region"] = Region.objects.get(pk=a.subject_id)
            elif kind == "department":
                subject["department"] = Department.objects.get(pk=a.subject_id)
            else:
                from django.contrib.auth import get_user_model
                subject["user"] = get_user_model().objects.get(pk=a.subject_id)
            lookup = {k: v for k, v in subject.items()}
            if a.standing == Standing.ACTIVE:
                measures = [Measure.COMMEND] + ([Measure.SPREAD] if a.rank == 1 else [])
            else:
                measures = [_next_prodding(lookup)]
            for measure in measures:
                existing = Proposal.objects.filter(year=period.year, quarter=period.quarter, measure=measure,
                                                   **lookup).first()
                if existing:
                    if existing.status == DecisionStatus.FILED and existing.grounds != a.grounds:
                        before = snapshot(existing)
                        existing.grounds, existing.standing = a.grounds, a.standing
                        save_audited(existing, before, actor, note="依据更新")
                    continue
                row = Proposal(year=period.year, quarter=period.quarter, subject_name=a.name, standing=a.standing,
                               measure=measure, grounds=a.grounds, subject_key=f"{kind}:{a.subject_id}", **lookup)
                # A village's proposal is the town's to decide; a town's, a department's or a
                # cadre's is the county's: a town never decides about itself.
                if kind == "village":
                    row.copy_territory_from(subject["region"])
                else:
                    row.county_id = county.pk
                made.append(create_audited(row, actor, "assessment.view_proposal"))
    return made


@transaction.atomic
def proposal_decide(*, actor, proposal: Proposal, accept: bool, note: str) -> Proposal:
    proposal = access_object(Proposal.objects.select_for_update(), actor, "assessment.decide_proposal",
                             pk=proposal.pk)
    if proposal.status != DecisionStatus.FILED:
        raise ValidationError({"status": "已经决定过了"})
    if proposal.user_id == actor.pk:
        raise ValidationError({"decided_by": "不能决定关于自己的建议"})
    before = snapshot(proposal)
    proposal.status = DecisionStatus.ACCEPTED if accept else DecisionStatus.REFUSED
    proposal.decided_by, proposal.decided_at = actor, timezone.now()
    proposal.decision_note = _text(note, "decision_note", "请写明决定的理由")
    return save_audited(proposal, before, actor, note=f"{'采纳' if accept else '不采纳'}：{Measure(proposal.measure).label}")


@transaction.atomic
def fault_tolerance_apply(*, actor, region: Region, matter: str, conditions: dict, case: Case | None = None
                          ) -> FaultToleranceApplication:
    """容错免责 application: the applicant states each of the four conditions and what shows it."""
    require_perm(actor, "assessment.add_faulttoleranceapplication")
    if not can(actor, "assessment.add_faulttoleranceapplication", region):
        raise PermissionDenied("只能为自己辖区内的工作申请")
    if case is not None:
        case = access_object(Case.objects.all(), actor, "cases.view_case", pk=case.pk)
    row = FaultToleranceApplication(applicant=actor, applicant_name=_name(actor), region=region, case=case,
                                    matter=_text(matter, "matter", "请写明发生了什么（至少10个字）", minimum=10))
    for condition in FaultToleranceApplication.CONDITIONS:
        value = conditions.get(condition) or {}
        held = bool(value.get("held"))
        evidence = (value.get("evidence") or "").strip()
        if held and not evidence:
            raise ValidationError({condition: "请写明依据"})
        setattr(row, condition, held)
        setattr(row, f"{condition}_evidence", evidence[:2000])
    row.copy_territory_from(region)
    return create_audited(row, actor, "assessment.view_faulttoleranceapplication")


@transaction.atomic
def fault_tolerance_decide(*, actor, application: FaultToleranceApplication, grant: bool, note: str
                           ) -> FaultToleranceApplication:
    application = access_object(FaultToleranceApplication.objects.select_for_update(), actor,
                                "assessment.decide_faulttolerance", pk=application.pk)
    if application.status != DecisionStatus.FILED:
        raise ValidationError({"status": "已经决定过了"})
    if application.applicant_id == actor.pk:
        raise ValidationError({"decided_by": "不能决定自己的申请"})
    missing = [FaultToleranceApplication._meta.get_field(c).verbose_name for c in FaultToleranceApplication.CONDITIONS
               if not getattr(application, c)]
    if grant and missing:
        raise ValidationError({"status": f"四个条件须同时具备才能免责，缺：{'、'.join(str(m) for m in missing)}"})
    before = snapshot(application)
    application.status = DecisionStatus.ACCEPTED if grant else DecisionStatus.REFUSED
    application.decided_by, application.decided_at = actor, timezone.now()
    application.decision_note = _text(note, "decision_note", "请写明决定的理由")
    return save_audited(application, before, actor, note="予以容错免责" if grant else "不予容错免责")


# ---- bulletins --------------------------------------------------------------------------------

def _require_closed(period: Period) -> None:
    if period.end >= timezone.localdate():
        raise ValidationError({"period": f"{period.label}还没有结束，不能通报"})


def _scope_of(scope_kind: str, region, department) -> dict:
    if scope_kind == "county" and region is not None and region.level == RegionLevel.COUNTY:
        return {"scope_kind": "county", "region": region, "department": None, "scope_key": f"county:{region.pk}"}
    if scope_kind == "town" and region is not None and region.level == RegionLevel.TOWN:
        return {"scope_kind": "town", "region": region, "department": None, "scope_key": f"town:{region.pk}"}
    if scope_kind == "department" and department is not None:
        return {"scope_kind": "department", "region": None, "department": department,
                "scope_key": f"department:{department.pk}"}
    raise ValidationError({"scope": "通报对象应为一个县、一个镇（街道）或一个部门"})


def _place(row: Bulletin, scope: dict) -> None:
    if scope["scope_kind"] == "department":
        row.county_id, row.department = scope["department"].county_id, scope["department"]
    else:
        row.copy_territory_from(scope["region"])


def _has_records(*, actor, period: Period, scope: dict) -> bool:
    within = scope["region"]
    for indicator in indicators.CATALOGUE:
        qs = indicator.rows(user=actor, period=period, within=within)
        if scope["department"] is not None:
            column = indicator.subjects.get("department")
            if column is None:
                continue
            qs = qs.filter(**{column: scope["department"].pk})
        if qs.exists():
            return True
    return False


def _content(*, actor, scope: dict, period: Period) -> dict:
    scoring.score_closed_cases()
    return bulletins.build_content(user=actor, scope_kind=scope["scope_kind"], region=scope["region"],
                                   department=scope["department"], period=period)


@transaction.atomic
def bulletin_generate(*, actor, scope_kind: str, period: Period, region=None, department=None) -> Bulletin:
    """Generate (or regenerate) the draft of a quarter's bulletin; refused once a version is issued."""
    require_perm(actor, "assessment.add_bulletin")
    scope = _scope_of(scope_kind, region, department)
    _require_closed(period)
    same = Bulletin.objects.select_for_update().filter(year=period.year, quarter=period.quarter,
                                                       scope_key=scope["scope_key"])
    if same.filter(status=BulletinStatus.ISSUED).exists():
        raise ValidationError({"bulletin": "这期通报已经印发，不能重新生成；如需更正，请在已印发的通报上“发更正版”"})
    if not _has_records(actor=actor, period=period, scope=scope):
        raise ValidationError({"period": f"{period.label}没有任何办理记录，无可通报"})
    content = _content(actor=actor, scope=scope, period=period)
    draft = same.filter(status=BulletinStatus.DRAFT).first()
    if draft is not None:
        draft = access_object(Bulletin.objects.all(), actor, "assessment.add_bulletin", pk=draft.pk)
        before = snapshot(draft)
        draft.content, draft.title, draft.generated_by, draft.generated_at = (
            content, content["title"], actor, timezone.now())
        return save_audited(draft, before, actor, note="重新生成草稿")
    row = Bulletin(year=period.year, quarter=period.quarter, version=1, title=content["title"], content=content,
                   generated_by=actor, generated_at=timezone.now(), **scope)
    _place(row, scope)
    return create_audited(row, actor, "assessment.add_bulletin")


@transaction.atomic
def bulletin_issue(*, actor, bulletin: Bulletin) -> Bulletin:
    bulletin = access_object(Bulletin.objects.select_for_update(), actor, "assessment.issue_bulletin", pk=bulletin.pk)
    if bulletin.status != BulletinStatus.DRAFT:
        raise ValidationError({"bulletin": "这期通报已经印发"})
    before = snapshot(bulletin)
    bulletin.status, bulletin.issued_by, bulletin.issued_at = BulletinStatus.ISSUED, actor, timezone.now()
    return save_audited(bulletin, before, actor, note="印发通报")


@transaction.atomic
def bulletin_correct(*, actor, bulletin: Bulletin, note: str) -> Bulletin:
    """A correction of an issued bulletin: a new draft version, generated afresh; the issued one stays."""
    bulletin = access_object(Bulletin.objects.select_for_update(), actor, "assessment.add_bulletin", pk=bulletin.pk)
    if bulletin.status != BulletinStatus.ISSUED:
        raise ValidationError({"bulletin": "草稿可以直接重新生成，不用发更正版"})
    scope = {"scope_kind": bulletin.scope_kind, "region": bulletin.region, "department": bulletin.department,
             "scope_key": bulletin.scope_key}
    latest = Bulletin.objects.filter(year=bulletin.year, quarter=bulletin.quarter, scope_key=bulletin.scope_key
                                     ).order_by("-version").first()
    if latest.pk != bulletin.pk:
        raise ValidationError({"bulletin": f"已有第{latest.version}版，请在最新一版上更正"})
    period = Period(bulletin.year, bulletin.quarter)
    content = _content(actor=actor, scope=scope, period=period)
    row = Bulletin(year=bulletin.year, quarter=bulletin.quarter, version=bulletin.version + 1,
                   title=content["title"] + f"（更正版第{bulletin.version + 1}版）", content=content,
                   correction_note=_text(note, "correction_note", "请写明更正的内容和原因"),
                   generated_by=actor, generated_at=timezone.now(), **scope)
    _place(row, scope)
    return create_audited(row, actor, "assessment.add_bulletin")


def bulletin_file(*, actor, bulletin: Bulletin, fmt: str) -> bytes:
    """The bulletin as PDF or Excel, rendered from its stored content; the download is audited."""
    content = dict(bulletin.content, version=bulletin.version, status_label=bulletin.get_status_display())
    data = bulletins.render_pdf(content) if fmt == "pdf" else bulletins.render_xlsx(content)
    audit_record(actor=actor, action=AuditAction.EXPORT, obj=bulletin, note=f"下载通报（{fmt}）")
    return data
