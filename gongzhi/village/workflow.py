"""四议两公开 — the path of a major village matter, as one table.

    propose            党组织提议      the branch committee meeting (支委会) proposes
    discuss            两委会商议      the two committees discuss
    review             党员大会审议    the party members' meeting reviews (a vote)
    resolve            村民(代表)会议决议  the representatives' or villagers' meeting resolves (a vote with quorum)
    publish_resolution 决议公开        the resolution is posted on the village board
    publish_result     实施结果公开    the result of carrying it out is posted

No step can be skipped or taken out of order: each has exactly one source stage. Each deliberation
step names the kinds of meeting it may be taken at and whether it needs a passed vote of that
meeting; ``precondition`` says, in Chinese, why a step cannot be taken yet. The matter page asks
the same table which step comes next (``next_step``), so the page and ``services.matter_step``
cannot drift.

An emergency (§3.6 negative list: disaster, danger to life, basic livelihood) may be decided
without the deliberation steps: ``exempt`` takes a matter from any stage before ``resolved``
straight to ``resolved`` with a recorded reason, and the decision must be explained afterwards
(``VillageSettings.exemption_explain_days``). Publication is never exempt.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .models import MatterStatus as S
from .models import MeetingKind as K


@dataclass(frozen=True)
class MatterTransition:
    name: str
    label: str
    source: str
    target: str
    meeting_kinds: frozenset = frozenset()  # empty: no meeting (publication steps)
    needs_vote: bool = False
    publishes: str = ""  # the publicity category the step posts
    precondition: Callable[["MatterFacts"], str | None] | None = None


@dataclass(frozen=True)
class MatterFacts:
    decision_exists: bool
    decision_done: bool
    open_tasks: int


def _decision_carried_out(facts: MatterFacts) -> str | None:
    if not facts.decision_exists:
        return "尚无决议"
    if facts.open_tasks:
        return f"决议还有{facts.open_tasks}项任务未完成，不能公开实施结果"
    if not facts.decision_done:
        return "决议尚未标记为已落实"
    return None


STEPS: tuple[MatterTransition, ...] = (
    MatterTransition("propose", "党组织提议", S.DRAFT, S.PROPOSED, frozenset({K.BRANCH, K.TWO_COMMITTEES})),
    MatterTransition("discuss", "两委会商议", S.PROPOSED, S.DISCUSSED, frozenset({K.TWO_COMMITTEES})),
    MatterTransition("review", "党员大会审议", S.DISCUSSED, S.REVIEWED, frozenset({K.PARTY_MEMBERS}), needs_vote=True),
    MatterTransition("resolve", "村民（代表）会议决议", S.REVIEWED, S.RESOLVED,
                     frozenset({K.REPRESENTATIVES, K.VILLAGERS}), needs_vote=True),
    MatterTransition("publish_resolution", "决议公开", S.RESOLVED, S.RESOLUTION_PUBLISHED, publishes="decision"),
    MatterTransition("publish_result", "实施结果公开", S.RESOLUTION_PUBLISHED, S.RESULT_PUBLISHED, publishes="result",
                     precondition=_decision_carried_out),
)
BY_NAME = {t.name: t for t in STEPS}
BY_SOURCE = {t.source: t for t in STEPS}
ORDER = [t.name for t in STEPS]

# The stages from which an emergency exemption may be recorded (anything before a resolution).
EXEMPTIBLE = frozenset({S.DRAFT, S.PROPOSED, S.DISCUSSED, S.REVIEWED})


def next_step(status: str) -> MatterTransition | None:
    return BY_SOURCE.get(status)


def step_error(name: str, status: str, facts: MatterFacts | None = None) -> str | None:
    """Why the step ``name`` cannot be taken from ``status`` (None: it can)."""
    transition = BY_NAME.get(name)
    if transition is None:
        return "没有这个步骤"
    if status == S.REJECTED:
        return "该事项未获通过，流程已结束"
    if status == S.RESULT_PUBLISHED:
        return "该事项已走完四议两公开全部步骤"
    if transition.source != status:
        expected = next_step(status)
        return (f"“{transition.label}”不能在“{S(status).label}”阶段进行，"
                f"下一步应是“{expected.label if expected else '—'}”；四议两公开的步骤不能跳过或颠倒")
    if transition.precondition is not None and facts is not None:
        return transition.precondition(facts)
    return None
