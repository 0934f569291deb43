"""Ranking resources for a need, with the reasons written out.

A liaison looking at a need sees every resource of the village's pairings they may read, best
first, each with the points it got and why, and the ones that cannot serve with the reason
(used up, withdrawn, reserved for core needs). The score is a plain sum so that the explanation
*is* the computation:

* **type** — the kind wanted: 50; a kind that can stand in (``models.RELATED_KINDS``): 20;
  otherwise the resource is not a candidate;
* **subject** — 5 for each two-character word the need's title and description share with the
  resource's name and conditions (法律, 调解, 老人 …), at most 15: a legal need prefers the legal team
  to the policy team, and the reason names the shared words;
* **place** — in the same village (or one of its groups): 20; elsewhere in the same town: 12;
  serving the whole county (no place): 8; another town: 4;
* **capacity** — what remains covers the need: 20; it covers part: 20 × the share covered;
* **priority** — a core need gets +10 and an important one +5 on every candidate (so across
  needs, a resource's page ranks core needs first). A resource with less than
  ``RESERVE_SHARE`` of its capacity left is kept for core needs: for a general need it is listed
  as not available, with that reason;
* **freshness** — a resource whose review is overdue loses 10: its figures may be stale.

Nothing here writes: ``services.project_confirm`` re-checks capacity under a row lock and stores
the explanation of the chosen candidate on the project.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.utils import timezone

from .models import GRADE_RANK, RELATED_KINDS, NeedGrade, NeedItem, ResourceItem, ResourceState

RESERVE_SHARE = 0.3
PLACE_POINTS = {"village": 20, "town": 12, "county": 8, "elsewhere": 4}
SUBJECT_POINTS = 15
# Two-character words too common in lists to say anything about the subject.
COMMON_WORDS = {"服务", "群众", "村民", "社区", "需求", "进村", "上门", "提供", "开展", "活动", "工作", "项目", "结对",
                "共建", "机关", "县城", "团队", "问题", "政策"}


def subject_overlap(need_text: str, resource_text: str) -> list[str]:
    """The two-character words a need and a resource share (法律, 调解, 老人 …), in the need's order.
    Chinese has no spaces; a shared character pair is a cheap, explainable sign of the same subject."""
    have = {resource_text[i:i + 2] for i in range(len(resource_text) - 1)}
    words = []
    for i in range(len(need_text) - 1):
        word = need_text[i:i + 2]
        chinese = all("\u4e00" <= ch <= "\u9fff" for ch in word)
        if chinese and word in have and word not in words and word not in COMMON_WORDS:
            words.append(word)
    return words


@dataclass
class Candidate:
    resource: ResourceItem
    score: int = 0
    reasons: list[tuple[int, str]] = field(default_factory=list)
    available: bool = True
    refusal: str = ""

    def add(self, points: int, reason: str) -> None:
        self.score += points
        self.reasons.append((points, reason))

    def as_dict(self) -> dict:
        return {"resource": self.resource.pk, "name": self.resource.name, "score": self.score,
                "available": self.available, "refusal": self.refusal,
                "reasons": [{"points": p, "reason": r} for p, r in self.reasons]}


def _place(need: NeedItem, resource: ResourceItem) -> tuple[str, str]:
    place = resource.place
    if place is None or place.town_id is None:  # no place, or the county itself: serves the whole county
        return "county", "服务全县"
    need_village = need.place.village_id if need.place_id else need.village_id
    if place.village_id and place.village_id == need_village:
        return "village", "就在本村（社区）"
    if place.town_id and place.town_id == need.town_id:
        return "town", "在本镇（街道）"
    return "elsewhere", "在外镇"


def explain(need: NeedItem, resource: ResourceItem, today: dt.date | None = None) -> Candidate | None:
    """The candidate ``resource`` makes for ``need``, or None when its type cannot serve at all."""
    today = today or timezone.localdate()
    candidate = Candidate(resource)
    if resource.kind == need.kind:
        candidate.add(50, f"类型相符（{resource.get_kind_display()}）")
    elif resource.kind in RELATED_KINDS.get(need.kind, ()):
        candidate.add(20, f"类型相近（需要{need.get_kind_display()}，可提供{resource.get_kind_display()}）")
    else:
        return None
    shared = subject_overlap(f"{need.title}{need.description}", f"{resource.name}{resource.conditions}")
    if shared:
        candidate.add(min(SUBJECT_POINTS, 5 * len(shared)), f"内容相关（{'、'.join(shared[:4])}）")
    where, text = _place(need, resource)
    candidate.add(PLACE_POINTS[where], text)
    remaining = resource.remaining
    if resource.state == ResourceState.WITHDRAWN:
        candidate.available, candidate.refusal = False, "已撤出清单"
    elif remaining <= 0 or resource.state == ResourceState.EXHAUSTED:
        candidate.available, candidate.refusal = False, "已用完"
    elif remaining >= need.quantity:
        candidate.add(20, f"余量{remaining}{resource.unit}，可满足所需{need.quantity}{need.unit or resource.unit}")
    else:
        points = int(20 * remaining / need.quantity)
        candidate.add(points, f"余量{remaining}{resource.unit}，只能满足所需{need.quantity}的一部分")
    if candidate.available and need.grade == NeedGrade.GENERAL and remaining < resource.capacity * RESERVE_SHARE:
        candidate.available = False
        candidate.refusal = f"余量不足三成（{remaining}/{resource.capacity}），留给核心需求"
    bonus = {NeedGrade.CORE: 10, NeedGrade.IMPORTANT: 5}.get(need.grade, 0)
    if bonus:
        candidate.add(bonus, f"{need.get_grade_display()}需求优先")
    if resource.review_due_on < today:
        candidate.add(-10, f"清单未按期复核（应于{resource.review_due_on:%Y-%m-%d}前），信息可能过时")
    return candidate


def rank(need: NeedItem, resources, today: dt.date | None = None) -> list[Candidate]:
    """Every resource that could serve ``need``: available ones first, best first."""
    candidates = [c for c in (explain(need, r, today) for r in resources) if c is not None]
    candidates.sort(key=lambda c: (not c.available, -c.score, c.resource.pk))
    return candidates


def need_order_key(need: NeedItem):
    """Needs in the order they are served: core first, then the oldest."""
    return (GRADE_RANK.get(need.grade, 9), need.created_at or timezone.now(), need.pk)
