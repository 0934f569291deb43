"""Matching needs to the inventory by priority, with the reasons written out.

Two questions, one scoring rule:

* ``rank(need, resources, claims)`` — the candidates for one need, best first, each with its points
  and why, and the resources that cannot serve with the reason (for the need's page and the API);
* ``plan(needs, resources)`` — the dispatch queue's proposal: needs in priority order (emergency,
  then basic livelihood, then the rest; within a grade the earliest needed, then the earliest
  raised) each given the best resource still available once the needs before it have taken theirs.
  It writes nothing: ``services.reserve`` applies a proposal under row locks and re-checks it.

The score is a plain sum, so the explanation *is* the computation:

* **place** — kept in the need's village: 30; elsewhere in its town: 20; the county's shared pool
  (placed at the county, no town): 12; another town: 4;
* **coverage** — what is available covers what the need still lacks: 20; part of it: 20 × share;
* **readiness** — a directly allocated resource (直接调拨) for an emergency: +10, it can leave today;
  one allocated by project, venture philanthropy or purchase of services takes a procedure: 0;
* **subject** — 5 for each two-character word the need's title shares with the resource's name
  (棉被, 帐篷, 取暖 …), at most 15. For materials a shared word is required: a need for quilts is
  not met with rice, whatever the type says.

A resource is not a candidate when its type differs, or — for materials — when need and
resource share no word. It cannot serve (listed with the reason) when
it is suspended or retired or outside its availability window, when nothing is left, when it is an
emergency reserve and the need is not an emergency, or when what is left is claimed by needs of a
higher priority in its reach (``claims``): a livelihood need cannot take the last tents a flooded
household still waits for.
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from .models import AllocationMode, Availability, Priority

PLACE_POINTS = {"village": 30, "town": 20, "county": 12, "elsewhere": 4}
COVERAGE_POINTS = 20
READY_POINTS = 10
SUBJECT_POINTS = 15
# Two-character words too common in titles to say what is asked for.
COMMON_WORDS = {"临时", "安置", "救助", "受灾", "灾户", "困难", "群众", "村民", "服务", "需求", "冬季", "过冬", "上门",
                "入户", "老人", "留守", "资金", "储备", "应急", "物资", "提供", "用于", "年度"}


def subject_overlap(need_text: str, resource_text: str) -> list[str]:
    """The two-character Chinese words a need and a resource share, in the need's order. Chinese
    has no spaces; a shared character pair is a cheap, explainable sign of the same thing."""
    have = {resource_text[i:i + 2] for i in range(len(resource_text) - 1)}
    words = []
    for i in range(len(need_text) - 1):
        word = need_text[i:i + 2]
        if (all("\u4e00" <= ch <= "\u9fff" for ch in word) and word in have and word not in words
                and word not in COMMON_WORDS):
            words.append(word)
    return words


def fits(need, resource) -> bool:
    """Same type, and for materials the same thing (a shared word)."""
    if resource.kind != need.kind:
        return False
    return resource.kind != "material" or bool(subject_overlap(need.title, resource.name))


PLACE_WORDS = {"village": "就在本村（社区）", "town": "在本镇（街道）", "county": "县级统筹储备", "elsewhere": "在其他镇（街道）"}


@dataclass
class Candidate:
    resource: object
    score: int = 0
    reasons: list[tuple[int, str]] = field(default_factory=list)
    available: bool = True
    refusal: str = ""
    claimable: int = 0

    def as_dict(self) -> dict:
        return {"resource": self.resource.pk, "score": self.score, "available": self.available,
                "claimable": self.claimable, "refusal": self.refusal,
                "reasons": [{"points": p, "why": w} for p, w in self.reasons]}


def place_tier(need, resource) -> str:
    if resource.village_id and resource.village_id == need.village_id:
        return "village"
    if resource.town_id and resource.town_id == need.town_id:
        return "town"
    if resource.town_id is None and resource.county_id == need.county_id:
        return "county"
    return "elsewhere"


def reach_key(resource) -> tuple:
    """The needs a resource serves first when it is scarce: those of its own town, or — for the
    county's shared pool — of the whole county."""
    return ("town", resource.town_id) if resource.town_id else ("county", resource.county_id)


def refusal(need, resource, today: dt.date) -> str:
    """Why ``resource`` cannot serve ``need`` at all (empty when it can), claims aside."""
    if resource.availability != Availability.AVAILABLE:
        return f"资源{resource.get_availability_display()}"
    # The resource must be usable some day between now and when the need is needed by.
    last_day = max(need.needed_by or today, today)
    if resource.available_from and resource.available_from > last_day:
        return f"{resource.available_from:%Y-%m-%d}起才可使用"
    if resource.available_until and resource.available_until < today:
        return f"可用期已于{resource.available_until:%Y-%m-%d}结束"
    if resource.emergency_reserve and need.priority != Priority.EMERGENCY:
        return "应急储备只用于应急需求"
    if resource.on_hand - resource.reserved <= 0:
        return "已无余量"
    return ""


def score(need, resource, *, lacking: int, available: int) -> Candidate:
    candidate = Candidate(resource=resource, claimable=available)
    tier = place_tier(need, resource)
    candidate.reasons.append((PLACE_POINTS[tier], PLACE_WORDS[tier]))
    if lacking > 0:
        share = min(available / lacking, 1.0)
        points = round(COVERAGE_POINTS * share)
        why = (f"余量{available}{resource.unit}，足够" if share >= 1 else
               f"余量{available}{resource.unit}，可满足{round(share * 100)}%")
        candidate.reasons.append((points, why))
    if need.priority == Priority.EMERGENCY and resource.allocation == AllocationMode.DIRECT:
        candidate.reasons.append((READY_POINTS, "直接调拨，当天可发"))
    words = subject_overlap(need.title, resource.name)
    if words:
        candidate.reasons.append((min(5 * len(words), SUBJECT_POINTS), f"内容相符：{'、'.join(words)}"))
    candidate.score = sum(p for p, _ in candidate.reasons)
    return candidate


def rank(need, resources: Iterable, *, claims: Mapping[tuple, int] | None = None,
         today: dt.date | None = None) -> list[Candidate]:
    """Candidates of ``need``'s type, those that can serve first by score, then those that cannot.
    ``claims[reach_key(resource)]`` is what needs of a higher priority still lack in that reach."""
    today = today or dt.date.today()
    claims = claims or {}
    lacking = need.outstanding
    ranked = []
    for resource in resources:
        if not fits(need, resource):
            continue
        available = resource.on_hand - resource.reserved
        why_not = refusal(need, resource, today)
        claimed = claims.get(reach_key(resource), 0)
        claimable = max(available - claimed, 0)
        candidate = score(need, resource, lacking=lacking, available=claimable)
        if why_not:
            candidate.available, candidate.refusal = False, why_not
        elif claimable <= 0:
            candidate.available = False
            candidate.refusal = f"余量{available}{resource.unit}须先满足更优先的需求（尚缺{claimed}{resource.unit}）"
        elif claimed:
            candidate.reasons.append((0, f"另有{claimed}{resource.unit}留给更优先的需求"))
        ranked.append(candidate)
    ranked.sort(key=lambda c: (not c.available, -c.score, -c.claimable, c.resource.pk))
    return ranked


@dataclass
class Proposal:
    need: object
    resource: object
    quantity: int
    candidate: Candidate


def queue_key(need) -> tuple:
    return (need.priority, need.needed_by or dt.date.max, need.raised_at, need.pk)


def plan(needs: Iterable, resources: Iterable, *, today: dt.date | None = None) -> list[Proposal]:
    """The greedy dispatch proposal over ``needs`` and ``resources`` (both already scoped).

    Needs are taken in queue order, each given the best-scoring resource that still has something
    once earlier needs have taken theirs. Per (type, place) the resources are kept largest first,
    so a need looks at one resource per place tier instead of the whole inventory: at 10,000 needs
    and 100,000 resources this is what makes it fast (bench/dispatch_match.py).
    """
    today = today or dt.date.today()
    left: dict[int, int] = {}
    by_village: dict[tuple, list] = defaultdict(list)
    by_town: dict[tuple, list] = defaultdict(list)
    pool: dict[tuple, list] = defaultdict(list)
    county_wide: dict[tuple, list] = defaultdict(list)
    for r in resources:
        if r.availability != Availability.AVAILABLE or r.on_hand - r.reserved <= 0:
            continue
        if (r.available_from and today < r.available_from) or (r.available_until and today > r.available_until):
            continue
        left[r.pk] = r.on_hand - r.reserved
        if r.village_id:
            by_village[(r.kind, r.village_id)].append(r)
        if r.town_id:
            by_town[(r.kind, r.town_id)].append(r)
        else:
            pool[(r.kind, r.county_id)].append(r)
        county_wide[(r.kind, r.county_id)].append(r)
    for lists in (by_village, by_town, pool, county_wide):
        for rs in lists.values():
            rs.sort(key=lambda r: (-left[r.pk], r.pk))
    cursor: dict[int, int] = defaultdict(int)  # id(list) → first index that may still have stock

    def first_usable(rs: list, need):
        start = cursor[id(rs)]
        for i in range(start, len(rs)):
            r = rs[i]
            if left[r.pk] <= 0:
                if i == cursor[id(rs)]:
                    cursor[id(rs)] = i + 1  # exhausted for good: never look at it again
                continue
            if r.emergency_reserve and need.priority != Priority.EMERGENCY:
                continue
            if not fits(need, r):
                continue
            return r
        return None

    proposals = []
    for need in sorted(needs, key=queue_key):
        lacking = need.outstanding
        if lacking <= 0:
            continue
        tiers = [by_village.get((need.kind, need.village_id)), by_town.get((need.kind, need.town_id)),
                 pool.get((need.kind, need.county_id)), county_wide.get((need.kind, need.county_id))]
        best = None
        for rs in tiers:
            if not rs:
                continue
            r = first_usable(rs, need)
            if r is None:
                continue
            c = score(need, r, lacking=lacking, available=left[r.pk])
            if best is None or (c.score, c.claimable, -r.pk) > (best.score, best.claimable, -best.resource.pk):
                best = c
        if best is None:
            continue
        quantity = min(lacking, left[best.resource.pk])
        left[best.resource.pk] -= quantity
        proposals.append(Proposal(need=need, resource=best.resource, quantity=quantity, candidate=best))
    return proposals
