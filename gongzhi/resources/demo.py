"""The demo county's inventory and a season of dispatch (DOMAIN.md §3.6), through the services.

* **The inventory** (after ``linking.demo.pool_pairing_lists`` has pooled every pairing's resource
  list into it): the county's relief stores (民政局救灾物资储备库, 应急管理局's emergency reserve),
  a store in every town, every village's collective premises (idle schools and activity rooms
  offered as service venues), firms' and social enterprises' donations, services bought from a
  social-work agency, a venture-philanthropy fund (公益创投), the county data centre's service.
  Every quantity is a ledger.
* **A season of needs**: in every village a few needs of every priority, raised by the county
  dispatcher (``dispatch`` login) or the village, reserved in priority order, most dispatched
  and confirmed by their recipients, some only in part, a few returned or closed.
* **The showcase** in the ``village`` login's village: a household whose house the flood damaged
  files a case; the village raises an emergency need from it; a livelihood need for the same
  quilts waits in the same town; the dispatcher reserves by priority — the emergency first — and
  sends the town store's quilts and the county's tents; the grid worker (``grid``) confirms the
  delivery with the recipient's code. The village lights up on the map.
"""
from __future__ import annotations

import datetime as dt
import random
import time
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import connection, models, transaction
from django.utils import timezone, translation

from gongzhi.core import middleware
from gongzhi.registry.models import Department, Household, Region, RegionLevel

from . import services
from .models import Allocation, Delivery, Need, Resource, StockMovement

SHOWCASE_LOGINS = ("dispatch", "town", "village", "grid")


class ResourcesDataExists(Exception):
    pass


@dataclass
class ResourcesYearResult:
    resources: int = 0
    pooled_from_pairings: int = 0
    needs: int = 0
    deliveries: int = 0
    showcase_need: int | None = None
    seconds: float = 0.0

    def summary(self) -> str:
        return (f"{self.resources:,} resources in the inventory ({self.pooled_from_pairings:,} pooled from pairings), "
                f"{self.needs:,} needs, {self.deliveries:,} deliveries confirmed ({self.seconds:.1f} s)")


def _login(username):
    return get_user_model().objects.filter(username=username).first()


COUNTY_STORES = [
    # kind, name, unit, quantity, owner, source, allocation, emergency reserve
    ("material", "救灾帐篷", "顶", 200, "县应急管理局应急物资储备库", "budget", "direct", True),
    ("material", "冲锋舟", "艘", 6, "县应急管理局应急物资储备库", "budget", "direct", True),
    ("material", "棉被", "床", 800, "县民政局救灾物资储备库", "budget", "direct", False),
    ("material", "折叠床", "张", 300, "县民政局救灾物资储备库", "budget", "direct", False),
    ("material", "大米（25公斤）", "袋", 600, "县民政局救灾物资储备库", "donation", "direct", False),
    ("funds", "临时救助资金", "元", 500000, "县民政局", "budget", "direct", False),
    ("funds", "公益创投资金（2026年度）", "元", 300000, "县民政局社会组织服务中心", "budget", "venture", False),
    ("force", "社会工作服务（政府购买）", "人次", 1200, "汉阴县益民社会工作服务中心", "social", "purchase", False),
    ("force", "乡村医生巡诊队", "次", 240, "县卫生健康局", "budget", "project", False),
    ("data", "县大数据中心数据查询服务", "次/月", 500, "县大数据中心", "budget", "project", False),
]
TOWN_STORES = [
    ("material", "棉被", "床", 60), ("material", "食用油（5升）", "桶", 80), ("material", "救灾帐篷", "顶", 10),
    ("funds", "镇临时救助备用金", "元", 50000),
]
FIRM_GIFTS = [("material", "儿童冬衣", "件", 300, "陕西安康富硒茶业有限公司"),
              ("material", "取暖器", "台", 120, "汉阴县电器商会"),
              ("material", "米面油礼包", "份", 400, "汉阴县农村商业银行")]
VILLAGE_VENUES = [("venue", "闲置校舍（原村小学）", "间", 6), ("venue", "村集体活动室", "次/月", 20)]

NEEDS = [  # priority, kind, title, unit, quantity range
    (1, "material", "房屋受损户临时安置帐篷", "顶", (1, 2)),
    (1, "material", "受灾户过冬棉被", "床", (2, 6)),
    (2, "material", "低保户冬季取暖器", "台", (1, 3)),
    (2, "funds", "重病户临时救助", "元", (2000, 8000)),
    (2, "material", "留守老人米面油", "份", (2, 5)),
    (2, "force", "独居老人上门照护", "人次", (4, 12)),
    (3, "venue", "村民议事会场地", "次/月", (1, 2)),
    (3, "force", "乡村医生入户巡诊", "次", (2, 4)),
    (3, "material", "留守儿童冬衣", "件", (3, 10)),
]
EMERGENCY_NOTES = ["暴雨致房屋受损，无处安身", "山洪冲毁住房，一家临时借住", "房屋出现裂缝，已紧急转移"]


def _has_data(county: Region) -> bool:
    """Data of this generator's (pairings' pooled lists are linking's and come first)."""
    return (Resource.objects.filter(county_id=county.pk).exclude(source="paired").exists()
            or Need.objects.filter(county_id=county.pk).exists())


def clear_resources_year(county: Region) -> int:
    """Delete the county's inventory, ledger and dispatch (the ledger's one sanctioned delete: see
    migration 0002), after linking's year (its resource lists point here). Returns the rows deleted."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("INSERT INTO resources_ledgerpurge DEFAULT VALUES")
        deleted = 0
        # A pairing's pooled list is linking's: it stays (with its own ledger lines) while linking
        # still points at it; only what dispatch did with it goes.
        mine = Resource.objects.filter(county_id=county.pk, pairing_item__isnull=True)
        for queryset in (StockMovement.objects.filter(county_id=county.pk).filter(
                             models.Q(resource__in=mine) | models.Q(allocation__isnull=False)),
                         Delivery.objects.filter(county_id=county.pk), Allocation.objects.filter(county_id=county.pk),
                         Need.objects.filter(county_id=county.pk), mine):
            deleted += queryset.delete()[0]
        for resource in Resource.objects.filter(county_id=county.pk):
            ledger = resource.movements.aggregate(h=models.Sum("on_hand_delta"), r=models.Sum("reserved_delta"))
            Resource.objects.filter(pk=resource.pk).update(on_hand=ledger["h"] or 0, reserved=ledger["r"] or 0)
        cursor.execute("DELETE FROM resources_ledgerpurge")
    return deleted


def generate_resources_year(*, county: Region | None = None, seed: int = 321, replace: bool = False,
                            log=lambda message: None) -> ResourcesYearResult:
    started = time.perf_counter()
    county = county or Region.objects.filter(level=RegionLevel.COUNTY).order_by("code").first()
    if county is None:
        raise ValueError("no county: generate the registry first")
    dispatcher = _login("dispatch")
    if dispatcher is None:
        raise ValueError("the demo logins are missing: run ensure_demo_logins first")
    rng = random.Random(seed)
    result = ResourcesYearResult()
    token = middleware._request_id.set(f"demo-resources-{seed}")
    try:
        with transaction.atomic(), translation.override("zh-hans"):
            if _has_data(county):
                if not replace:
                    raise ResourcesDataExists(f"{county.name}已有资源调度数据 (the county already has resources data)")
                clear_resources_year(county)
            _inventory(county, dispatcher, rng)
            result.showcase_need = _showcase(county, dispatcher, rng)
            _season(county, dispatcher, rng)
            result.resources = Resource.objects.filter(county_id=county.pk).count()
            result.needs = Need.objects.filter(county_id=county.pk).count()
            result.deliveries = Delivery.objects.filter(county_id=county.pk, status="confirmed").count()
    finally:
        middleware._request_id.reset(token)
    result.seconds = time.perf_counter() - started
    log(f"  {result.summary()}")
    return result


def _inventory(county: Region, actor, rng: random.Random) -> None:
    civil = Department.objects.filter(county=county, name__contains="民政").first()
    for kind, name, unit, quantity, owner, source, allocation, reserve in COUNTY_STORES:
        services.resource_register(actor=actor, kind=kind, name=name, unit=unit, owner_name=owner, place=county,
                                   source=source, allocation=allocation, quantity=quantity, emergency_reserve=reserve,
                                   owner_department=civil if "民政" in owner else None,
                                   reason="年度储备入库" if source == "budget" else "")
    towns = list(Region.objects.filter(level=RegionLevel.TOWN, county_id=county.pk).order_by("code"))
    for town in towns:
        for kind, name, unit, quantity in TOWN_STORES:
            services.resource_register(actor=actor, kind=kind, name=name, unit=unit, owner_name=f"{town.name}应急物资储备点",
                                       place=town, source="budget", allocation="direct",
                                       quantity=int(quantity * rng.uniform(0.6, 1.4)))
    for kind, name, unit, quantity, firm in FIRM_GIFTS:
        town = rng.choice(towns)
        services.resource_register(actor=actor, kind=kind, name=name, unit=unit, owner_name=firm, place=town,
                                   source="firm", allocation="direct", quantity=quantity,
                                   reason=f"{firm}捐赠", conditions="用于困难群众，须登记发放")
    villages = Region.objects.filter(level=RegionLevel.VILLAGE, county_id=county.pk).order_by("code")
    for village in villages:
        for kind, name, unit, quantity in VILLAGE_VENUES:
            if rng.random() < (0.35 if "校舍" in name else 0.9):
                services.resource_register(actor=actor, kind=kind, name=name, unit=unit,
                                           owner_name=f"{village.name}村民委员会", place=village, source="collective",
                                           allocation="project", quantity=quantity,
                                           conditions="提前三天预约；村民议事、培训、托管优先")


def _household(village: Region, rng: random.Random) -> Household | None:
    households = list(Household.objects.filter(region__village_id=village.pk).select_related("region", "grid")
                      .order_by("pk")[:200])
    return rng.choice(households) if households else None


def _showcase(county: Region, dispatcher, rng: random.Random) -> int | None:
    from gongzhi.cases.catalogue import install_default_catalogue
    from gongzhi.cases.models import CaseCategory, TimeLimitDefault
    from gongzhi.intake.channel import intake_actor
    from gongzhi.intake.services import IntakeInput, intake_submit

    village_login, grid_login = _login("village"), _login("grid")
    if village_login is None:
        return None
    village = village_login.role_assignments.filter(is_active=True).values_list("region", flat=True).first()
    village = Region.objects.filter(pk=village).first()
    if village is None:
        return None
    household = None
    if grid_login is not None and grid_login.person_id:
        grid_id = grid_login.role_assignments.filter(is_active=True).values_list("grid", flat=True).first()
        household = Household.objects.filter(grid_id=grid_id).select_related("region", "grid").order_by("pk").first()
    household = household or _household(village, rng)
    if household is None or household.head is None:
        return None
    head = household.head
    if not CaseCategory.objects.exists():
        install_default_catalogue(CaseCategory, TimeLimitDefault)
    case = intake_submit(actor=intake_actor(territory=household.region), channel="web", scope="web", data=IntakeInput(
        title="房屋被洪水冲毁，急需临时安置", region=household.region, grid=household.grid,
        requester_name=head.name, requester_phone=head.phone or "",
        description="连夜暴雨引发山洪，家里两间土坯房倒塌，一家四口暂住邻居家，缺帐篷和被子。")).case
    town = village.parent
    # A livelihood need for the same quilts waits in the same town, raised a day earlier.
    other = Region.objects.filter(parent=town, level=RegionLevel.VILLAGE).exclude(pk=village.pk).order_by("code").first()
    services.need_raise(actor=dispatcher, title="低保户冬季保暖棉被", kind="material", quantity=8, unit="床",
                        priority=2, place=other or village, description="低保户、特困户入冬缺被褥",
                        recipient_name="（村委会统一发放）")
    quilts = services.need_raise(actor=village_login, title="洪灾受损户临时安置：棉被", kind="material", quantity=4,
                                 unit="床", priority=1, emergency_note="房屋被洪水冲毁，一家四口无处安身",
                                 source="case", case=case, household=household)
    tents = services.need_raise(actor=village_login, title="洪灾受损户临时安置：帐篷", kind="material", quantity=1,
                                unit="顶", priority=1, emergency_note="房屋被洪水冲毁，一家四口无处安身",
                                source="case", case=case, household=household)
    # The town store's quilts are scarce: keep what is there to ten beds for the story.
    store = Resource.objects.filter(place=town, name="棉被").first()
    if store is not None and store.available > 10:
        services.stock_write_off(actor=dispatcher, resource=store, quantity=store.available - 10,
                                 reason="调往受灾更重的镇（演示：本镇余10床）")
    services.reserve_by_priority(actor=dispatcher, county=county, kind="material")
    for need in (quilts, tents):
        for allocation in Allocation.objects.filter(need=need, quantity__gt=0):
            delivery, code = services.dispatch(actor=dispatcher, allocation=allocation, carrier=f"{town.name}应急队")
            confirmer = grid_login or village_login
            services.confirm_delivery(actor=confirmer, delivery=delivery, received=delivery.quantity,
                                      recipient_name=head.name, method="code", code=code)
    return quilts.pk


def _season(county: Region, dispatcher, rng: random.Random) -> None:
    villages = list(Region.objects.filter(level=RegionLevel.VILLAGE, county_id=county.pk).order_by("code"))
    today = timezone.localdate()
    raised = []
    for village in villages:
        for priority, kind, title, unit, (low, high) in rng.sample(NEEDS, k=rng.randint(1, 3)):
            household = _household(village, rng) if kind != "venue" else None
            raised.append(services.need_raise(
                actor=dispatcher, title=title, kind=kind, quantity=rng.randint(low, high), unit=unit, priority=priority,
                place=village, household=household, emergency_note=rng.choice(EMERGENCY_NOTES) if priority == 1 else "",
                needed_by=today + dt.timedelta(days=rng.randint(3, 40)), description=""))
    services.reserve_by_priority(actor=dispatcher, county=county, limit=len(raised) * 3)
    for need in raised:
        roll = rng.random()
        if roll < 0.12:
            continue  # reserved, waiting to be sent
        for allocation in Allocation.objects.filter(need=need, quantity__gt=0):
            delivery, code = services.dispatch(actor=dispatcher, allocation=allocation, carrier="镇村干部")
            if roll < 0.2:
                continue  # under way
            received = delivery.quantity if roll > 0.3 else max(delivery.quantity - 1, 0)
            services.confirm_delivery(actor=dispatcher, delivery=delivery, received=received,
                                      recipient_name=need.recipient_name or f"{need.place.name}村委会",
                                      method="signed" if roll > 0.5 else "phone",
                                      shortfall="returned")
        if 0.9 < roll:
            need.refresh_from_db()
            if need.is_open and not Delivery.objects.filter(allocation__need=need, status="under_way").exists():
                services.need_close(actor=dispatcher, need=need, note="已由亲属或村集体解决")
