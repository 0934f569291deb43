"""gongzhi classify_households [--region CODE] [--workers N]: recompute the green/yellow/red class
of every household (of a region), set-based in id batches, then bring care plans and visits in
line.

With ``--workers N`` the id range is cut into N contiguous slices classified by N processes at
once, each committing its own batches (a rerun simply recomputes; the result does not depend on
how the work was split). Without it everything runs in one transaction.
"""
import multiprocessing
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import connections
from django.db.models import Max, Min

from gongzhi.care import classify, plans, services
from gongzhi.core.audit import AuditAction, audit_record
from gongzhi.registry.models import Household, Region


def _households(region_id):
    households = Household.objects.all()
    if region_id is not None:
        region = Region.objects.get(pk=region_id)
        column = {1: "county_id", 2: "town_id", 3: "village_id"}.get(region.level, "region_id")
        households = households.filter(**{column: region.pk})
    return households


def _classify_slice(region_id, low, high, batch_size):
    """One worker process: classify households with low <= id < high."""
    connections.close_all()
    stats = classify.classify_where(_households(region_id).filter(pk__gte=low, pk__lt=high), batch_size=batch_size)
    connections.close_all()
    return stats.households, stats.changed, stats.by_colour


class Command(BaseCommand):
    help = "Classify households 放心/关心/连心 (green/yellow/red) with reasons, by the county's rules."

    def add_arguments(self, parser):
        parser.add_argument("--region", help="division code of a county, town or village (default: everything)")
        parser.add_argument("--batch-size", type=int, default=20000)
        parser.add_argument("--workers", type=int, default=1, help="processes classifying at once (default 1)")
        parser.add_argument("--skip-plans", action="store_true",
                            help="classify only; do not bring care plans and visits in line")

    def handle(self, *args, region=None, batch_size=20000, workers=1, skip_plans=False, **options):
        target = None
        if region:
            target = Region.objects.filter(code=region).first()
            if target is None:
                raise CommandError(f"no region with code {region}")
        started = time.perf_counter()
        if workers <= 1:
            stats = services.households_classify(actor=None, region=target, batch_size=batch_size,
                                                 sync_care_plans=not skip_plans)
            households, changed, by_colour = stats.households, stats.changed, stats.by_colour
        else:
            households, changed, by_colour = self._parallel(target, workers, batch_size, skip_plans)
        elapsed = time.perf_counter() - started
        colours = ", ".join(f"{k} {v}" for k, v in sorted(by_colour.items()))
        self.stdout.write(f"classified {households} households in {elapsed:.1f}s "
                          f"({changed} changed): {colours}")

    def _parallel(self, target, workers, batch_size, skip_plans):
        region_id = target.pk if target else None
        bounds = _households(region_id).aggregate(low=Min("pk"), high=Max("pk"))
        if bounds["low"] is None:
            return 0, 0, {}
        span = bounds["high"] - bounds["low"] + 1
        step = -(-span // workers)
        slices = [(region_id, bounds["low"] + i * step, min(bounds["low"] + (i + 1) * step, bounds["high"] + 1),
                   batch_size) for i in range(workers)]
        connections.close_all()  # children must open their own connections
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            results = pool.starmap(_classify_slice, slices)
        households = sum(r[0] for r in results)
        changed = sum(r[1] for r in results)
        by_colour: dict = {}
        for _h, _c, colours in results:
            for key, value in colours.items():
                by_colour[key] = by_colour.get(key, 0) + value
        plan_stats = "未同步" if skip_plans else plans.sync_plans(_households(region_id))
        audit_record(actor=None, action=AuditAction.UPDATE, object_type="care.householdclass",
                     object_repr=f"重新分类 {target.name if target else '全部'}", territory=target,
                     note=f"分类{households}户（{len(slices)}个进程），变化{changed}户；{by_colour}；护理计划{plan_stats}")
        return households, changed, by_colour
