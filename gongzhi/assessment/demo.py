"""The demo county's assessment of last quarter (DOMAIN.md §3.2, §3.5, §3.6), through the services.

Everything is computed from the records the other generators made; nothing is typed in. What the
generator itself adds is what people decide or demand:
* the county's scoring weights, then every closed case scored;
* the negative list (no photos for their own sake; contacts are not ranked by count);
* two demands from before the rule that a demand names its indicator (a weekly work log, photos of
  every visit): the burden meter shows them as trace only; the town (login ``town``) flags a
  disguised responsibility pledge, left for the county to decide;
* one after-the-fact explanation accepted (a late emergency case) and one waiting;
* the poorest-performing village of the ``town`` login's town handled its quarter badly in the
  records (its cases late, reworked and unsatisfied — the generator plants it, as it plants the
  flood), so the quarter's proposals name it passive, with a warning talk proposed and left for a
  person to decide;
* a village cadre's fault-tolerance application decided by the town, and a grid worker's waiting;
* last quarter's county bulletin generated and issued by the county secretary (login ``county``),
  the ``town`` login's town bulletin left as a draft.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db.models import F
from django.utils import timezone

from gongzhi.cases.choices import CaseStatus, Satisfaction
from gongzhi.cases.models import Case
from gongzhi.registry.models import Region, RegionLevel

from . import burden, scoring, services
from .indicators import Period
from .models import Demand, DemandKind, DemandOrigin, Proposal, Standing

SHOWCASE_LOGINS = ("county", "town", "village", "grid")


@dataclass
class AssessmentDemoResult:
    scored: int = 0
    proposals: int = 0
    passive_village: str = ""
    bulletin_id: int | None = None

    def summary(self) -> str:
        return (f"{self.scored:,} closed cases scored, {self.proposals} proposals "
                f"(passive: {self.passive_village or 'none'}), bulletin #{self.bulletin_id} issued")


def _login(username):
    return get_user_model().objects.filter(username=username).first()


def _plant_passive_village(town: Region, period: Period) -> Region | None:
    """The town's village with the fewest cases in the quarter handled them badly (in the records)."""
    start, end = period.bounds()
    villages = Region.objects.filter(town_id=town.pk, level=RegionLevel.VILLAGE).exclude(
        pk__in=[v.pk for v in _showcase_villages()]).order_by("code")
    village = villages.last()
    if village is None:
        return None
    cases = Case.objects.filter(village=village, received_at__gte=start, received_at__lt=end)
    cases.filter(status=CaseStatus.CLOSED, resolution_due_at__isnull=False).update(
        closed_at=F("resolution_due_at") + dt.timedelta(days=4), rework_count=2)
    cases.exclude(satisfaction="").update(satisfaction=Satisfaction.DISSATISFIED)
    return village


def _showcase_villages() -> list[Region]:
    """The villages the demo's showcase logins act in (the ``village`` login's)."""
    return [a.region for username in ("village",) if (user := _login(username)) is not None
            for a in user.role_assignments.select_related("region") if a.region is not None]


def generate_assessment(*, county: Region, period: Period | None = None) -> AssessmentDemoResult:
    result = AssessmentDemoResult()
    period = period or Period.last_complete()
    secretary, town_secretary = _login("county"), _login("town")
    village_secretary, grid_worker = _login("village"), _login("grid")
    town = Region.objects.filter(pk=town_secretary.role_assignments.first().region_id).first()

    services.scoring_weights_set(actor=secretary, county=county, weights=scoring.DEFAULT_WEIGHTS,
                                 note="县委常委会议定：按期与满意各三成，返工、升级、落实批示合计四成")
    passive = _plant_passive_village(town, period)
    result.passive_village = passive.name if passive else ""
    result.scored = scoring.score_closed_cases()

    services.negative_item_add(actor=secretary, county=county, kind="no_demand", demand_kind=DemandKind.PHOTO,
                               text="不得要求基层为走访、巡查拍照留痕")
    services.negative_item_add(actor=secretary, county=county, kind="no_count", indicator="contacts_made",
                               text="不以走访户次多少排名，只看走访的结果（按期走访、诉求办结）")
    burden.sync_flow_demands(county)
    long_ago = timezone.now() - dt.timedelta(days=180)
    for code, name, kind, fields, photos, per_week in (
            ("weekly-log", "每周工作日志（纸质台账）", DemandKind.REPORT, 6, 0, "1"),
            ("visit-photos", "入户走访留影（每户两张照片）", DemandKind.PHOTO, 1, 2, "8")):
        demand = Demand.objects.create(county=county, code=code, name=name, role="grid_worker", kind=kind,
                                       fields=fields, photos=photos, per_week=per_week, origin=DemandOrigin.COUNTY,
                                       legacy=True)
        Demand.objects.filter(pk=demand.pk).update(added_at=long_ago)
    pledge = Demand.objects.create(county=county, code="safety-pledge", name="逐级签订安全生产责任书",
                                   role="village_secretary", kind=DemandKind.PLEDGE, fields=3, per_week="0.25",
                                   origin=DemandOrigin.COUNTY, legacy=True)
    Demand.objects.filter(pk=pledge.pk).update(added_at=long_ago)
    services.burden_flag_raise(actor=town_secretary, town=town, kind="pledge", demand=pledge,
                               description="县里要求各村每季度签订安全生产责任书并拍照上报，"
                                           "责任层层下压到村，属变相责任状")

    start, end = period.bounds()
    showcase_villages = _showcase_villages()
    late = list(Case.objects.filter(village__in=showcase_villages, received_at__gte=start, received_at__lt=end,
                                    status=CaseStatus.CLOSED, resolution_due_at__isnull=False,
                                    closed_at__gt=F("resolution_due_at")).order_by("received_at")[:2])
    if not late:
        late = list(Case.objects.filter(village__in=showcase_villages, received_at__gte=start, received_at__lt=end,
                                        status=CaseStatus.CLOSED).order_by("received_at")[:2])
    for k, case in enumerate(late):
        exemption = services.exemption_file(
            actor=village_secretary, case=case, ground="emergency" if k == 0 else "livelihood",
            explanation="汛期山洪当夜先组织转移、抢修，事后补办登记和审批手续，因此超出办理时限" if k == 0
            else "困难群众急需救助，先行发放临时救助金，事后补齐申请材料")
        if k == 0:
            services.exemption_decide(actor=town_secretary, exemption=exemption, accept=True,
                                      note="属应急处置，先处置后说明，予以认可，不扣时效分")

    conditions = {"public_good": {"held": True, "evidence": "为保障全组群众汛期饮水安全"},
                  "no_private_gain": {"held": True, "evidence": "采购凭证与账目已公开，无个人利益"},
                  "while_working": {"held": True, "evidence": "汛期抢修饮水管道过程中"},
                  "unintended": {"held": True, "evidence": "因情况紧急、对采购程序不熟悉"}}
    village = village_secretary.role_assignments.first().region
    decided = services.fault_tolerance_apply(
        actor=village_secretary, region=village, conditions=conditions,
        matter="汛期抢修饮水管道，未经村务监督委员会事前审核即先行采购管材3,200元")
    services.fault_tolerance_decide(actor=town_secretary, application=decided, grant=True,
                                    note="四个条件均具备，予以容错免责；责成补办审核手续")
    if grid_worker is not None:
        services.fault_tolerance_apply(
            actor=grid_worker, region=village, matter="为赶在暴雨前转移独居老人，未按规定先报告即借用村集体车辆，途中车辆剐蹭",
            conditions={**conditions, "unintended": {"held": True, "evidence": "道路湿滑，属意外"}})

    result.proposals = len(services.proposals_generate(actor=secretary, county=county, period=period))
    if passive is not None and not Proposal.objects.filter(region=passive, standing__in=[
            Standing.PASSIVE, Standing.FORMAL]).exists():
        result.passive_village = ""
    bulletin = services.bulletin_generate(actor=secretary, scope_kind="county", region=county, period=period)
    services.bulletin_issue(actor=secretary, bulletin=bulletin)
    result.bulletin_id = bulletin.pk
    services.bulletin_generate(actor=town_secretary, scope_kind="town", region=town, period=period)
    return result


def clear_assessment(county: Region) -> int:
    """Delete the county's assessment rows before ``--clear`` (issued bulletins through the purge
    flag their trigger honours: migration 0002). Returns the rows deleted."""
    from django.db import connection, transaction

    from .models import (
        AssessmentWeights, Bulletin, BurdenFlag, CaseScore, Exemption, FaultToleranceApplication, IndexFormula,
        NegativeItem, ScoringWeights,
    )
    deleted = 0
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("INSERT INTO assessment_bulletinpurge DEFAULT VALUES")
        for model in (Bulletin, Proposal, FaultToleranceApplication, BurdenFlag, Demand, NegativeItem, Exemption,
                      CaseScore, ScoringWeights, IndexFormula, AssessmentWeights):
            deleted += model.objects.filter(county_id=county.pk).delete()[0]
        cursor.execute("DELETE FROM assessment_bulletinpurge")
    return deleted
