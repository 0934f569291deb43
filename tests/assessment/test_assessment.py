"""Work judged by the work itself: indicators with provenance, case scores, exemptions, the negative
list, the burden meter, the indices, the separating equilibrium and the quarterly bulletin — the
services, against the real database."""
from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F

from gongzhi.assessment import burden, indicators, scoring, services
from gongzhi.assessment.indicators import Period
from gongzhi.assessment.models import (
    Bulletin, BulletinStatus, BurdenFlag, CaseScore, DecisionStatus, Demand, DemandOrigin,
    FaultToleranceApplication, Measure, Proposal, ScoringWeights, Standing,
)
from gongzhi.cases import statistics
from gongzhi.cases.choices import CaseStatus, Satisfaction
from gongzhi.cases.models import Case
from gongzhi.core.models import AuditLog

from .conftest import set_weights


def _closed(cw, period, village):
    start, end = period.bounds()
    return Case.objects.filter(village=cw.regions[village], received_at__gte=start, received_at__lt=end,
                               status=CaseStatus.CLOSED, closed_as__in=["resolved", "unresolved"])


def test_the_ledger_figures_are_the_statistics_pages_figures(aw, period):
    county = aw.user("county_secretary")
    stats = statistics.compute_statistics(user=county, start=period.start, end=period.end, breakdowns=False)
    got = {code: indicators.BY_CODE[code].total_of(user=county, period=period, within=aw.regions["C"])
           for code in ("case_accepted", "case_closed", "case_closure_rate", "case_satisfaction_rate")}
    assert got["case_accepted"].value == stats.total.accepted == 120
    assert got["case_closed"].value == stats.total.closed
    assert got["case_closure_rate"].value == stats.total.closure_rate.percent
    assert got["case_satisfaction_rate"].value == stats.total.satisfaction_rate.percent
    # A town secretary's figures are their town's only, the same on both pages.
    town = aw.user("town_secretary_a")
    town_stats = statistics.compute_statistics(user=town, start=period.start, end=period.end, breakdowns=False)
    assert indicators.BY_CODE["case_accepted"].total_of(user=town, period=period).value == town_stats.total.accepted
    assert 0 < town_stats.total.accepted < 120


def test_all_indicators_at_once_are_the_same_figures_as_one_by_one(aw, period):
    set_weights(aw)
    scoring.score_closed_cases()
    for user in (aw.user("county_secretary"), aw.user("town_secretary_a"), aw.user("department_handler")):
        every = indicators.compute_all(user=user, period=period, within=aw.regions["C"])
        for indicator in indicators.CATALOGUE:
            for kind in indicator.subjects:
                one = indicator.compute(user=user, period=period, kind=kind, within=aw.regions["C"])
                assert every[kind].get(indicator.code, {}) == one, (user, indicator.code, kind)
    assert every["department"]["case_accepted"]  # the department sees its own share, not nothing


def test_every_number_opens_the_records_it_was_computed_from(aw, period):
    county = aw.user("county_secretary")
    ind = indicators.BY_CODE["case_on_time_rate"]
    a1 = aw.regions["A1"].pk
    fig = ind.compute(user=county, period=period, kind="village")[a1]
    num = ind.records(user=county, period=period, kind="village", subject_id=a1, part="num")
    den = ind.records(user=county, period=period, kind="village", subject_id=a1, part="den")
    assert (num.count(), den.count()) == (fig.numerator, fig.denominator)
    assert all(c.village_id == a1 and c.closed_at <= c.resolution_due_at for c in num)
    # Another town's secretary reads none of village A1's records.
    other = ind.records(user=aw.user("outsider_b"), period=period, kind="village", subject_id=a1, part="den")
    assert other.count() == 0
    with pytest.raises(ValidationError):
        ind.records(user=county, period=period, kind="village", subject_id=a1, part="everything")


def test_weights_that_do_not_sum_to_100_are_refused_and_nothing_is_saved(aw):
    with pytest.raises(ValidationError) as err:
        set_weights(aw, on_time=50, satisfaction=30, no_rework=10, no_escalation=5, instruction=10)
    assert "之和应为100，现在是105" in str(err.value)
    assert not ScoringWeights.objects.exists()
    with pytest.raises(PermissionDenied):
        services.scoring_weights_set(actor=aw.user("town_secretary_a"), county=aw.regions["C"],
                                     weights=scoring.DEFAULT_WEIGHTS, note="镇里想改")


def test_every_closed_case_is_scored_from_its_own_facts(aw, period):
    set_weights(aw)
    closed = _closed(aw, period, "A1")
    late = closed.first()
    Case.objects.filter(pk=late.pk).update(closed_at=F("resolution_due_at") + dt.timedelta(days=2),
                                           satisfaction=Satisfaction.DISSATISFIED, rework_count=1)
    scored = scoring.score_closed_cases()
    assert scored == Case.objects.filter(status=CaseStatus.CLOSED, closed_as__in=["resolved", "unresolved"]).count()
    assert scoring.score_closed_cases() == 0  # a second pass finds nothing to do
    score = CaseScore.objects.get(case=late)
    # on time 0×30, dissatisfied 0×30, one rework 0.5×15, no escalation 1×10; no instruction: left out.
    assert score.parts["on_time"]["value"] == "0" and score.parts["instruction"]["value"] is None
    assert score.score == (Decimal(100) * Decimal("17.5") / 85).quantize(Decimal("0.01"))
    # It rolls up to its village, town and handler through the catalogue.
    ind = indicators.BY_CODE["case_score"]
    by_village = ind.compute(user=aw.user("county_secretary"), period=period, kind="village")
    start, end = period.bounds()  # a score counts in the quarter its case closed
    assert by_village[aw.regions["A1"].pk].denominator == CaseScore.objects.filter(
        village=aw.regions["A1"], closed_at__gte=start, closed_at__lt=end).count()


def test_an_accepted_after_the_fact_explanation_lifts_the_timeliness_penalty(aw, period):
    set_weights(aw)
    late = _closed(aw, period, "A1").first()
    Case.objects.filter(pk=late.pk).update(closed_at=F("resolution_due_at") + dt.timedelta(days=3))
    scoring.score_closed_cases()
    county = aw.user("county_secretary")
    ind = indicators.BY_CODE["case_on_time_rate"]
    before = ind.compute(user=county, period=period, kind="village")[aw.regions["A1"].pk]
    with pytest.raises(ValidationError):
        services.exemption_file(actor=aw.user("village_secretary_a1"), case=late, ground="emergency",
                                explanation="太短")
    exemption = services.exemption_file(actor=aw.user("village_secretary_a1"), case=late, ground="emergency",
                                        explanation="山洪当夜先转移群众、后补登记，超出办理时限两天")
    with pytest.raises((ValidationError, PermissionDenied)):  # nobody decides their own
        services.exemption_decide(actor=aw.user("village_secretary_a1"), exemption=exemption, accept=True,
                                  note="同意")
    services.exemption_decide(actor=aw.user("town_secretary_a"), exemption=exemption, accept=True,
                              note="属应急处置，予以认可")
    after = ind.compute(user=county, period=period, kind="village")[aw.regions["A1"].pk]
    assert after.denominator == before.denominator - 1 and after.numerator == before.numerator
    assert indicators.exempted_in(user=county, period=period) == 1
    score = CaseScore.objects.get(case=late)
    assert score.exempt and score.parts["on_time"]["value"] == "1"
    assert AuditLog.objects.filter(object_type="assessment.exemption", object_id=str(exemption.pk)).count() == 2


def test_a_new_demand_must_name_its_indicator_and_the_negative_list_can_forbid_it(aw):
    county, C = aw.user("county_secretary"), aw.regions["C"]
    burden.sync_flow_demands(C)
    assert Demand.objects.filter(county=C, origin=DemandOrigin.FLOW).count() == len(burden.FLOW_DEMANDS)
    with pytest.raises(ValidationError) as err:
        services.demand_add(actor=county, county=C, code="weekly-log", name="每周工作日志", role="grid_worker",
                            kind="report", feeds="", fields=6)
    assert "必须写明它服务于哪个指标" in str(err.value)
    services.negative_item_add(actor=county, county=C, kind="no_demand", text="不得要求走访拍照留痕",
                               demand_kind="photo")
    with pytest.raises(ValidationError) as err:
        services.demand_add(actor=county, county=C, code="visit-photos", name="走访照片", role="grid_worker",
                            kind="photo", feeds="red_visits_kept", photos=2)
    assert "负面清单" in str(err.value)
    services.negative_item_add(actor=county, county=C, kind="no_count", text="不以走访户次排名",
                               indicator="contacts_made")
    with pytest.raises(ValidationError):
        services.demand_add(actor=county, county=C, code="contact-form", name="联系登记", role="three_line",
                            kind="form", feeds="contacts_made", fields=3)
    made = services.demand_add(actor=county, county=C, code="flood-check", name="汛期隐患排查表", role="grid_worker",
                               kind="form", feeds="case_accepted", fields=5, per_week="1")
    Demand.objects.filter(pk=made.pk).update(added_at=F("added_at") - dt.timedelta(days=30))  # asked for a month
    meter = burden.meter(C)
    no_indicator = {load.demand.code for load in meter["no_indicator"]}
    # The patrol check-in feeds no indicator (trace only); the contact record now feeds a forbidden one.
    assert {"patrol_checkin", "record_contact"} <= no_indicator and made.code not in no_indicator
    flood = next(load for load in meter["loads"] if load.demand.code == "flood-check")
    assert flood.weekly[meter["weeks"][-1]] == Decimal("1")


def test_the_burden_meter_counts_what_the_flows_actually_demanded(aw):
    from gongzhi.care.models import ContactRecord
    from gongzhi.registry.models import Household
    C = aw.regions["C"]
    burden.sync_flow_demands(C)
    household = Household.objects.filter(village=aw.regions["A1"]).first()
    week = burden._monday(dt.date.today()) - dt.timedelta(days=7)
    for day in range(3):
        ContactRecord.objects.create(household=household, contacted_at=dt.datetime.combine(
            week + dt.timedelta(days=day), dt.time(10), tzinfo=dt.timezone.utc), method="visit", heard="了解情况",
            recorded_by=aw.user("grid_worker_a1_1"), county_id=C.pk, town_id=household.town_id,
            village_id=household.village_id)
    meter = burden.meter(C)
    load = next(l for l in meter["loads"] if l.demand.code == "record_contact")
    holders = load.holders
    assert holders >= 1 and load.weekly[week] == (Decimal(3) / holders).quantize(Decimal("0.01"))


def test_a_county_demand_that_leaves_rows_is_counted_from_the_audit_trail(aw, period):
    county, C = aw.user("county_secretary"), aw.regions["C"]
    with pytest.raises(ValidationError):
        services.demand_add(actor=county, county=C, code="x", name="某表", role="village_secretary", kind="form",
                            feeds="case_on_time_rate", trace="nowhere.nothing")
    services.demand_add(actor=county, county=C, code="explain-late", name="超期事项须写事后说明",
                        role="village_secretary", kind="form", feeds="case_on_time_rate", fields=2,
                        trace="assessment.Exemption")
    for case in _closed(aw, period, "A1")[:2]:
        services.exemption_file(actor=aw.user("village_secretary_a1"), case=case, ground="livelihood",
                                explanation="困难群众急需救助，先行发放后补材料")
    next_week = dt.date.today() + dt.timedelta(days=7)
    meter = burden.meter(C, today=next_week)
    load = next(l for l in meter["loads"] if l.demand.code == "explain-late")
    assert load.weekly[meter["weeks"][-1]] == (Decimal(2) / max(load.holders, 1)).quantize(Decimal("0.01"))


def test_a_town_flags_a_hidden_burden_and_the_county_upholds_it(aw):
    county, C = aw.user("county_secretary"), aw.regions["C"]
    legacy = Demand.objects.create(county=C, code="pledge", name="签订安全生产责任书", role="village_secretary",
                                   kind="pledge", per_week="0.25", origin=DemandOrigin.COUNTY, legacy=True)
    with pytest.raises(ValidationError):
        services.burden_flag_raise(actor=aw.user("town_secretary_a"), town=aw.regions["A1"], kind="pledge",
                                   description="村里被要求签责任书，层层签字")
    flag = services.burden_flag_raise(actor=aw.user("town_secretary_a"), town=aw.regions["A"], kind="pledge",
                                      description="每季度要求各村签订责任书并拍照上报，属变相责任状", demand=legacy)
    with pytest.raises(PermissionDenied):
        services.burden_flag_decide(actor=aw.user("town_secretary_a"), flag=flag, uphold=True, note="属实")
    services.burden_flag_decide(actor=county, flag=flag, uphold=True, note="属实，取消这项要求")
    legacy.refresh_from_db()
    assert not legacy.active and legacy.retired_at is not None
    assert BurdenFlag.objects.get().status == DecisionStatus.ACCEPTED


def test_index_formulas_are_validated_versioned_and_reviewed_by_someone_else(aw, period):
    C = aw.regions["C"]
    with pytest.raises(ValidationError) as err:
        services.index_formula_set(actor=aw.user("county_secretary"), county=C, kind="rural", note="试行",
                                   terms=[{"factor": "distance_km", "weight": 0.5, "direction": -1},
                                          {"factor": "elderly", "weight": 0.2, "direction": -1}])
    assert "之和应为1" in str(err.value)
    with pytest.raises(ValidationError):
        services.index_formula_set(actor=aw.user("county_secretary"), county=C, kind="rural", note="试行",
                                   terms=[{"factor": "income", "weight": 1, "direction": 1}])
    formula = services.index_formula_set(actor=aw.user("county_secretary"), county=C, kind="rural", note="只看距离",
                                         terms=[{"factor": "distance_km", "weight": 1, "direction": -1}])
    with pytest.raises(ValidationError):
        services.index_formula_review(actor=aw.user("county_secretary"), formula=formula)
    from gongzhi.assessment.indices import county_indices
    units = county_indices(C, period_end=period.end, cases_in_period={})
    villages = [u for u in units.values() if u.unit_class == "rural"]
    assert len(villages) == 3 and all(u.factors["population"] > 0 for u in villages)
    assert {u.band for u in villages} == {"中"}  # three villages: one peer group


def _make_passive(cw, period, village="B1"):
    closed = _closed(cw, period, village)
    closed.update(rework_count=2, closed_at=F("resolution_due_at") + dt.timedelta(days=5))
    start, end = period.bounds()
    Case.objects.filter(village=cw.regions[village], received_at__gte=start, received_at__lt=end).exclude(
        satisfaction="").update(satisfaction=Satisfaction.DISSATISFIED)


def test_a_passive_village_is_proposed_for_a_warning_talk_and_a_named_person_decides(aw, period):
    set_weights(aw)
    _make_passive(aw, period)
    county = aw.user("county_secretary")
    with pytest.raises(ValidationError):
        services.proposals_generate(actor=county, county=aw.regions["C"], period=Period.of(dt.date.today()))
    services.proposals_generate(actor=county, county=aw.regions["C"], period=period)
    talk = Proposal.objects.get(subject_key=f"village:{aw.regions['B1'].pk}")
    assert talk.standing == Standing.PASSIVE and talk.measure == Measure.WARNING_TALK
    grounds = {g["indicator"]: g for g in talk.grounds}
    assert grounds["case_satisfaction_rate"]["value"] == "0.00%"
    assert grounds["case_satisfaction_rate"]["url"].startswith("/assessment/records/case_satisfaction_rate/village/")
    assert talk.status == DecisionStatus.FILED and talk.decided_by is None  # nothing automatic
    # Generating again changes nothing; a town secretary of another town cannot see it.
    services.proposals_generate(actor=county, county=aw.regions["C"], period=period)
    assert Proposal.objects.filter(subject_key=talk.subject_key).count() == 1
    from django.http import Http404
    with pytest.raises(Http404):
        services.proposal_decide(actor=aw.user("town_secretary_a"), proposal=talk, accept=True, note="同意")
    decided = services.proposal_decide(actor=aw.user("outsider_b"), proposal=talk, accept=True,
                                       note="约谈村党支部书记，限期整改")
    assert decided.decided_by == aw.user("outsider_b") and decided.status == DecisionStatus.ACCEPTED
    assert AuditLog.objects.filter(object_type="assessment.proposal", object_id=str(talk.pk), action="update").exists()
    # Next quarter the same village, still passive, is proposed the next step (能上能下).
    assert services._next_prodding({"subject_key": talk.subject_key}) == Measure.REASSIGN


def test_fault_tolerance_needs_all_four_conditions_and_someone_else_decides(aw):
    applicant = aw.user("village_secretary_a1")
    conditions = {"public_good": {"held": True, "evidence": "为群众抢修饮水管道"},
                  "no_private_gain": {"held": True, "evidence": "账目公开，无个人支出"},
                  "while_working": {"held": True, "evidence": "汛期抢险中"},
                  "unintended": {"held": False, "evidence": ""}}
    with pytest.raises(ValidationError) as err:
        services.fault_tolerance_apply(actor=applicant, region=aw.regions["A1"], matter="抢修时未经招标先行采购管材",
                                       conditions={**conditions, "unintended": {"held": True, "evidence": ""}})
    assert "请写明依据" in str(err.value)
    assert not FaultToleranceApplication.objects.exists()
    app = services.fault_tolerance_apply(actor=applicant, region=aw.regions["A1"], matter="抢修时未经招标先行采购管材",
                                         conditions=conditions)
    with pytest.raises(ValidationError) as err:
        services.fault_tolerance_decide(actor=aw.user("town_secretary_a"), application=app, grant=True, note="同意")
    assert "四个条件须同时具备" in str(err.value)
    with pytest.raises((ValidationError, PermissionDenied)):
        services.fault_tolerance_decide(actor=applicant, application=app, grant=False, note="自己决定")
    # A cadre who may decide still cannot decide their own application.
    own = services.fault_tolerance_apply(actor=aw.user("town_secretary_a"), region=aw.regions["A"],
                                         matter="镇里先行拨付救灾资金后补手续", conditions=conditions)
    with pytest.raises(ValidationError) as err:
        services.fault_tolerance_decide(actor=aw.user("town_secretary_a"), application=own, grant=False, note="自己")
    assert "不能决定自己的申请" in str(err.value)
    services.fault_tolerance_decide(actor=aw.user("town_secretary_a"), application=app, grant=False,
                                    note="未能说明非故意")
    app.refresh_from_db()
    assert app.status == DecisionStatus.REFUSED and app.decided_by == aw.user("town_secretary_a")
    ok = services.fault_tolerance_apply(actor=applicant, region=aw.regions["A1"], matter="先行垫付群众急需的药品费用",
                                        conditions={**conditions, "unintended": {"held": True, "evidence": "系程序不熟"}})
    services.fault_tolerance_decide(actor=aw.user("county_secretary"), application=ok, grant=True, note="符合四个条件")
    ok.refresh_from_db()
    assert ok.status == DecisionStatus.ACCEPTED
    assert AuditLog.objects.filter(object_type="assessment.faulttoleranceapplication").count() == 5


def test_the_quarterly_bulletin_is_generated_issued_frozen_and_corrected(aw, period):
    from openpyxl import load_workbook
    from pypdf import PdfReader
    set_weights(aw)
    county, C = aw.user("county_secretary"), aw.regions["C"]
    with pytest.raises(ValidationError) as err:
        services.bulletin_generate(actor=county, scope_kind="county", region=C, period=period.previous().previous())
    assert "没有任何办理记录" in str(err.value)
    with pytest.raises(ValidationError):
        services.bulletin_generate(actor=county, scope_kind="county", region=C, period=Period.of(dt.date.today()))
    with pytest.raises(ValidationError):
        services.bulletin_generate(actor=county, scope_kind="county", region=aw.regions["A"], period=period)
    draft = services.bulletin_generate(actor=county, scope_kind="county", region=C, period=period)
    again = services.bulletin_generate(actor=county, scope_kind="county", region=C, period=period)
    assert again.pk == draft.pk and Bulletin.objects.count() == 1
    head = {row[0]["text"]: row[1] for row in draft.content["sections"][0]["rows"]}
    assert head["受理件数"]["text"] == "120" and head["受理件数"]["url"].startswith("/assessment/records/case_accepted/")
    issued = services.bulletin_issue(actor=county, bulletin=draft)
    assert issued.status == BulletinStatus.ISSUED
    with pytest.raises(ValidationError) as err:
        services.bulletin_generate(actor=county, scope_kind="county", region=C, period=period)
    assert "已经印发" in str(err.value)
    # Frozen in the database, not only in the service.
    with pytest.raises(Exception), transaction.atomic():
        Bulletin.objects.filter(pk=issued.pk).update(title="改过的标题")
    issued.refresh_from_db()
    assert issued.title == draft.title
    correction = services.bulletin_correct(actor=county, bulletin=issued, note="补记一件漏统计的事项")
    assert correction.version == 2 and correction.status == BulletinStatus.DRAFT
    assert Bulletin.objects.get(pk=issued.pk).status == BulletinStatus.ISSUED
    # The PDF (Chinese font embedded) and the workbook, read back.
    pdf = PdfReader(io.BytesIO(services.bulletin_file(actor=county, bulletin=issued, fmt="pdf")))
    text = "".join(page.extract_text().replace("\x00", "") for page in pdf.pages)
    assert "基层治理工作通报" in text and "受理件数" in text and "120" in text
    fonts = [f for page in pdf.pages for f in page["/Resources"]["/Font"].values()]
    assert any("/FontFile" in str(f.get_object()["/DescendantFonts"][0].get_object()["/FontDescriptor"].get_object())
               or "/FontFile3" in f.get_object()["/DescendantFonts"][0].get_object()["/FontDescriptor"].get_object()
               for f in fonts)
    links = [a.get_object()["/A"]["/URI"] for page in pdf.pages for a in page.get("/Annots", [])]
    assert any("/assessment/records/case_accepted/" in link for link in links)
    wb = load_workbook(io.BytesIO(services.bulletin_file(actor=county, bulletin=issued, fmt="xlsx")))
    sheet = wb["1"]
    cells = {row[0].value: row[1] for row in sheet.iter_rows(min_row=3) if row[0].value}
    assert cells["受理件数"].value == "120" and "/assessment/records/case_accepted/" in cells["受理件数"].hyperlink.target
    assert AuditLog.objects.filter(object_type="assessment.bulletin", action="export").count() == 2


def test_a_town_bulletin_shows_its_own_villages_only(aw, period):
    set_weights(aw)
    town = aw.user("town_secretary_a")
    b = services.bulletin_generate(actor=town, scope_kind="town", region=aw.regions["A"], period=period)
    names = [row[0]["text"] for s in b.content["sections"] if s["title"].startswith("四") for row in s["rows"]]
    assert sorted(names) == sorted(["五一村", "月河村"])
    with pytest.raises(Exception):
        services.bulletin_generate(actor=town, scope_kind="county", region=aw.regions["C"], period=period)
    assert Bulletin.objects.count() == 1


def test_an_issued_bulletin_cannot_be_deleted_in_the_database(aw, period):
    set_weights(aw)
    county = aw.user("county_secretary")
    b = services.bulletin_issue(actor=county, bulletin=services.bulletin_generate(
        actor=county, scope_kind="county", region=aw.regions["C"], period=period))
    with pytest.raises(Exception), transaction.atomic():
        Bulletin.objects.filter(pk=b.pk).delete()
    assert Bulletin.objects.filter(pk=b.pk).exists()
