"""一件一考评: every closed case is scored from its own facts by the county's weights.

The facts and how each becomes a value between 0 and 1:
* on time — closed by its resolution deadline (after extensions and suspensions): 1, else 0; an
  accepted after-the-fact explanation (事后备案说明) makes it 1: no timeliness penalty;
* satisfaction — satisfied 1, basically satisfied the county's weight of 基本满意 (the statistics
  page's), dissatisfied 0; a requester who could not be reached or was not asked leaves the fact
  out (its weight is spread over the others, and the score says so);
* no rework — 1 with no send-back or reopening, 0.5 after one, 0 after two or more;
* no escalation — the same over escalations for lateness;
* instruction followed — when a secretary read and instructed the case (书记阅批): 1 if the
  secretary's check (书记把关) passed without sending it back, else 0; a case no secretary
  instructed leaves the fact out.

score = 100 × Σ weightᵢ × valueᵢ ÷ Σ weightᵢ over the facts present, rounded to two decimals.
A case is scored with the weights in force when it closed and keeps them: changing the weights
changes the scores of cases closed afterwards, never the past (a bulletin already issued stays true).

The sweep (``score_closed_cases``, run by celery beat and before a bulletin is generated) takes the
closed cases with no score, oldest first, in batches; two sweeps at once cannot score a case twice
(the score is one row per case and the insert skips a case already scored).
"""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.db.models import Exists, OuterRef

from gongzhi.cases.choices import CaseStatus, ClosedAs, Satisfaction
from gongzhi.cases.models import Case, CaseEvent

from .models import CaseScore, DecisionStatus, Exemption, ScoringWeights

DEFAULT_WEIGHTS = {"on_time": 30, "satisfaction": 30, "no_rework": 15, "no_escalation": 10, "instruction": 15}
SCORED_CLOSURES = (ClosedAs.RESOLVED, ClosedAs.UNRESOLVED)


def _steps(count: int) -> Decimal:
    return Decimal(1) if count == 0 else (Decimal("0.5") if count == 1 else Decimal(0))


def case_parts(case: Case, *, exempt: bool, instructed: bool, sent_back: bool, basic_weight: Decimal) -> dict:
    parts: dict[str, dict] = {}
    if exempt:
        parts["on_time"] = {"value": "1", "why": "事后备案说明已认可，不扣时效分"}
    elif case.resolution_due_at is None:
        parts["on_time"] = {"value": None, "why": "无办理时限"}
    else:
        on_time = case.closed_at is not None and case.closed_at <= case.resolution_due_at
        parts["on_time"] = {"value": "1" if on_time else "0", "why": "按期办结" if on_time else "超期办结"}
    satisfaction = {Satisfaction.SATISFIED: Decimal(1), Satisfaction.BASIC: basic_weight,
                    Satisfaction.DISSATISFIED: Decimal(0)}.get(case.satisfaction)
    parts["satisfaction"] = ({"value": str(satisfaction), "why": case.get_satisfaction_display()}
                             if satisfaction is not None else {"value": None, "why": "未能回访或未作评价，不计此项"})
    parts["no_rework"] = {"value": str(_steps(case.rework_count)), "why": f"返工{case.rework_count}次"}
    parts["no_escalation"] = {"value": str(_steps(case.escalation_count)), "why": f"超时升级{case.escalation_count}次"}
    if instructed:
        parts["instruction"] = {"value": "0" if sent_back else "1",
                                "why": "书记把关退回过" if sent_back else "书记把关一次通过"}
    else:
        parts["instruction"] = {"value": None, "why": "无书记批示，不计此项"}
    return parts


def score_of(parts: dict, weights: dict[str, int]) -> Decimal:
    present = {k: Decimal(p["value"]) for k, p in parts.items() if p["value"] is not None}
    total_weight = sum(weights[k] for k in present)
    if not total_weight:
        return Decimal("100.00")
    raw = Decimal(100) * sum(weights[k] * v for k, v in present.items()) / total_weight
    return raw.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def current_weights(county_id: int, *, system_user=None) -> ScoringWeights | None:
    return ScoringWeights.objects.filter(county_id=county_id).order_by("-version").first()


def _annotated(qs):
    return qs.annotate(
        _exempt=Exists(Exemption.objects.filter(case=OuterRef("pk"), status=DecisionStatus.ACCEPTED)),
        _instructed=Exists(CaseEvent.objects.filter(case=OuterRef("pk"), kind="instruct")),
        _sent_back=Exists(CaseEvent.objects.filter(case=OuterRef("pk"), kind="send_back")),
    )


def build_score(case, weights: ScoringWeights, basic_weight: Decimal) -> CaseScore:
    parts = case_parts(case, exempt=case._exempt, instructed=case._instructed, sent_back=case._sent_back,
                       basic_weight=basic_weight)
    w = weights.as_dict()
    for key, part in parts.items():
        part["weight"] = w[key]
    return CaseScore(case=case, ledger=case.ledger, department_id=case.assignee_department_id,
                     handler_id=case.handler_id, closed_at=case.closed_at, county_id=case.county_id,
                     town_id=case.town_id, village_id=case.village_id, score=score_of(parts, w), parts=parts,
                     weights=weights, exempt=case._exempt)


def score_closed_cases(*, batch: int = 2000, limit: int | None = None) -> int:
    """Score closed cases that have no score yet; returns how many were scored."""
    from .indicators import _basic_weight
    basic = _basic_weight()
    weights_by_county: dict[int, ScoringWeights | None] = {}
    done = 0
    while limit is None or done < limit:
        size = batch if limit is None else min(batch, limit - done)
        with transaction.atomic():
            cases = list(_annotated(
                Case.objects.filter(status=CaseStatus.CLOSED, closed_as__in=SCORED_CLOSURES, county_id__isnull=False)
                .filter(assessment_score__isnull=True)).order_by("closed_at", "pk")[:size])
            if not cases:
                break
            rows = []
            for case in cases:
                if case.county_id not in weights_by_county:
                    weights_by_county[case.county_id] = current_weights(case.county_id)
                weights = weights_by_county[case.county_id]
                if weights is None:
                    continue  # the county has not set its weights: nothing to score by
                rows.append(build_score(case, weights, basic))
            if not rows:
                break
            CaseScore.objects.bulk_create(rows, ignore_conflicts=True)
            done += len(rows)
            if len(cases) < size:
                break
    return done


def rescore(case: Case) -> CaseScore | None:
    """Score one case again (an exemption was accepted): with the weights it was first scored by."""
    from .indicators import _basic_weight
    existing = CaseScore.objects.filter(case=case).select_related("weights").first()
    weights = existing.weights if existing else current_weights(case.county_id)
    if weights is None or case.status != CaseStatus.CLOSED or case.closed_as not in SCORED_CLOSURES:
        return None
    annotated = _annotated(Case.objects.filter(pk=case.pk)).get()
    fresh = build_score(annotated, weights, _basic_weight())
    if existing:
        fresh.pk = existing.pk
        fresh.save()
        return fresh
    fresh.save()
    return fresh
