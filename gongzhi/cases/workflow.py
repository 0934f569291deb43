"""The state machine of a case, as one table.

``TRANSITIONS`` maps each step's name to where it may start (``sources``), where it leads
(``target``; ``None`` = the status does not change, or the service decides among ``targets``),
the permissions that allow it (any one, held over the case's scope), the roles that hold them
by default (``who``, for documentation and pages) and whether the requester sees the step on
their timeline (``public``). Each entry is carried out by one service function
``services.case_<name>``; every service calls ``check_transition`` first, so the table is the
single place that says what may happen when.

A step may also need more than the status: a *precondition* on the case's facts (a pending
request to approve, a dissatisfied requester to reopen for, a dispute to mediate, a tier left to
escalate to) and, for some steps, the actor's tier (``ranked_by``: the permission whose tier
must reach the case's level). Both are written here next to the transition; the case page asks
``precondition_error`` which steps to offer and the services call ``check_precondition`` inside
their lock, so the two cannot drift.

The nine steps (书记民情"三本账"):
 1 分类建账 register / classify      → 2 书记阅批 instruct (when the category or level needs it)
 3 受理告知 accept                   → 4 快速交办 assign (→ sign = first response)
 5 严格督查 urge / escalate / summon  → 6 结果反馈 report_result
 7 书记把关 approve / send_back       → 8 回复征询 reply, record_satisfaction
 9 销号归档 close                     (dissatisfied → reopen, or close as unresolved)
Also: transfer, return (退回), extension (延期) and suspension (缓办) with approval, resume,
settle_on_spot + confirm_settlement (small matters settled by the grid / three-line person),
decline (不予受理, e.g. a petition's acceptance decision).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.core.exceptions import ValidationError

from .choices import CaseStatus as S
from .choices import Level, RequestKind, RequestStatus, Satisfaction

ALL_OPEN = frozenset(s for s in S.values if s != S.CLOSED)
HANDLING = frozenset({S.ASSIGNED, S.IN_PROGRESS})


@dataclass(frozen=True)
class Transition:
    name: str
    label: str
    step: str
    sources: frozenset
    target: str | None
    perms: tuple[str, ...]
    who: str
    public: bool = False
    targets: tuple[str, ...] = ()  # possible outcomes when ``target`` is None and the status changes
    precondition: Callable[[CaseFacts], str | None] | None = None  # None = met, else why not (Chinese)
    ranked_by: str | None = None  # the actor's tier with this permission must reach the case's level
    ranked_in: frozenset | None = None  # …only from these statuses (None: from every source)

    def allows(self, status: str) -> bool:
        return status in self.sources

    def rank_perm(self, status: str) -> str | None:
        if self.ranked_by and (self.ranked_in is None or status in self.ranked_in):
            return self.ranked_by
        return None


@dataclass(frozen=True)
class CaseFacts:
    """What preconditions read beyond the status. The page builds it from what it has loaded,
    the services from the locked case (``facts_of``)."""

    satisfaction: str
    is_dispute: bool
    current_level: str
    pending_extension: bool
    pending_suspension: bool


def facts_of(case, pending_kinds=None) -> CaseFacts:
    """``pending_kinds``: the kinds of the case's pending requests (read from the database when
    not given)."""
    if pending_kinds is None:
        pending_kinds = set(case.requests.filter(status=RequestStatus.PENDING).values_list("kind", flat=True))
    return CaseFacts(satisfaction=case.satisfaction, is_dispute=case.is_dispute, current_level=case.current_level,
                     pending_extension=RequestKind.EXTENSION in pending_kinds,
                     pending_suspension=RequestKind.SUSPENSION in pending_kinds)


def _needs(flag: str, message: str, present: bool = True):
    return lambda facts: None if getattr(facts, flag) == present else message


def _dissatisfied(facts: CaseFacts) -> str | None:
    return None if facts.satisfaction == Satisfaction.DISSATISFIED else "只有群众不满意的案件才能重新办理"


def _below_county(facts: CaseFacts) -> str | None:
    return "已在县级办理，不能再提级" if facts.current_level == Level.COUNTY else None


def _t(name, label, step, sources, target, perms, who, public=False, targets=(), precondition=None,
       ranked_by=None, ranked_in=None):
    return Transition(name, label, step, frozenset(sources), target, tuple(perms), who, public, tuple(targets),
                      precondition, ranked_by, frozenset(ranked_in) if ranked_in is not None else None)


P = "cases."
TRANSITIONS: dict[str, Transition] = {t.name: t for t in [
    _t("register", "登记建账", "分类建账", {""}, None, [P + "add_case"],
       "网格员、三线人员、村/镇书记、调度员", public=True, targets=(S.REGISTERED, S.PENDING_INSTRUCTION)),
    _t("classify", "重新分类", "分类建账", {S.PENDING_INSTRUCTION, S.REGISTERED, S.ACCEPTED}, None,
       [P + "dispatch_case"], "调度员、村/镇书记", targets=(S.REGISTERED, S.PENDING_INSTRUCTION, S.ACCEPTED)),
    _t("instruct", "书记阅批", "书记阅批", ALL_OPEN, None, [P + "instruct_case"],
       "县/镇/村书记（待阅批的案件阅批后进入受理或交办）", targets=(S.REGISTERED, S.ACCEPTED),
       ranked_by=P + "instruct_case", ranked_in={S.PENDING_INSTRUCTION}),
    _t("accept", "受理告知", "受理告知", {S.REGISTERED}, S.ACCEPTED, [P + "dispatch_case"],
       "调度员（县联系办、镇综治中心）、村/镇书记", public=True),
    _t("decline", "不予受理", "受理告知", {S.REGISTERED, S.PENDING_INSTRUCTION}, S.CLOSED, [P + "dispatch_case"],
       "调度员", public=True),
    _t("assign", "交办", "快速交办", {S.ACCEPTED, S.RETURNED}, S.ASSIGNED, [P + "dispatch_case"],
       "调度员、村/镇书记", public=True),
    _t("sign", "签收", "快速交办", {S.ASSIGNED}, S.IN_PROGRESS, [P + "handle_case"], "承办单位（网格、村、镇、部门）"),
    _t("urge", "催办", "严格督查", ALL_OPEN, None, [P + "supervise_case"], "书记、调度员"),
    _t("escalate", "提级办理", "严格督查", {S.ACCEPTED, S.ASSIGNED, S.IN_PROGRESS, S.RETURNED}, None,
       [P + "handle_case", P + "supervise_case", P + "dispatch_case"],
       "承办单位、书记、调度员（提至村、镇由该级承办；提至县由县调度交办；需阅批时先阅批）", public=True,
       targets=(S.ASSIGNED, S.ACCEPTED, S.PENDING_INSTRUCTION), precondition=_below_county),
    _t("summon", "吹哨", "严格督查", HANDLING, None, [P + "summon_department"], "镇（街道）书记、综治中心"),
    _t("acknowledge_summons", "报到", "严格督查", HANDLING | {S.SUSPENDED}, None, [P + "handle_case"],
       "被召集的部门"),
    _t("report_result", "结果反馈", "结果反馈", HANDLING, S.RESULT_REPORTED, [P + "handle_case"], "承办单位",
       public=True),
    _t("approve", "书记把关通过", "书记把关", {S.RESULT_REPORTED}, S.APPROVED, [P + "instruct_case"], "书记",
       ranked_by=P + "instruct_case"),
    _t("send_back", "书记把关退回重办", "书记把关", {S.RESULT_REPORTED}, S.IN_PROGRESS, [P + "instruct_case"], "书记",
       ranked_by=P + "instruct_case"),
    _t("reply", "答复群众并征询意见", "回复征询", {S.APPROVED}, S.AWAITING_FEEDBACK, [P + "dispatch_case"],
       "调度员、村/镇书记", public=True),
    _t("record_satisfaction", "记录满意度", "回复征询", {S.AWAITING_FEEDBACK}, S.EVALUATED, [P + "dispatch_case"],
       "调度员、村/镇书记", public=True),
    _t("reopen", "不满意重新办理", "回复征询", {S.EVALUATED}, S.IN_PROGRESS, [P + "dispatch_case"], "调度员",
       public=True, precondition=_dissatisfied),
    _t("close", "销号归档", "销号归档", {S.EVALUATED}, S.CLOSED, [P + "dispatch_case"], "调度员、村/镇书记",
       public=True),
    _t("transfer", "转办", "快速交办", HANDLING, S.ASSIGNED, [P + "dispatch_case", P + "handle_case"],
       "调度员；承办单位（说明理由）", public=True),
    _t("return", "退回", "快速交办", HANDLING, S.RETURNED, [P + "handle_case"], "承办单位（非本单位职责）"),
    _t("request_extension", "申请延期", "严格督查", HANDLING, None, [P + "handle_case"], "承办单位",
       precondition=_needs("pending_extension", "已有待审批的延期申请", present=False)),
    _t("approve_extension", "审批延期", "严格督查", HANDLING | {S.RESULT_REPORTED}, None,
       [P + "approve_extension"], "镇书记、县书记、调度员",
       precondition=_needs("pending_extension", "没有待审批的延期申请"), ranked_by=P + "approve_extension"),
    _t("request_suspension", "申请缓办", "严格督查", HANDLING, None, [P + "handle_case"], "承办单位",
       precondition=_needs("pending_suspension", "已有待审批的缓办申请", present=False)),
    _t("suspend", "审批缓办", "严格督查", HANDLING, None, [P + "approve_extension"], "镇书记、县书记、调度员",
       targets=(S.SUSPENDED,), precondition=_needs("pending_suspension", "没有待审批的缓办申请"),
       ranked_by=P + "approve_extension"),
    _t("resume", "恢复办理", "严格督查", {S.SUSPENDED}, None, [P + "handle_case", P + "approve_extension"],
       "承办单位、审批人", targets=(S.ASSIGNED, S.IN_PROGRESS)),
    _t("settle_on_spot", "就地化解", "就地化解", {S.REGISTERED, S.ACCEPTED}, S.SETTLING, [P + "handle_case"],
       "网格员、三线人员", public=True),
    _t("confirm_settlement", "群众确认就地化解", "就地化解", {S.SETTLING}, None,
       [P + "handle_case", P + "dispatch_case"], "网格员、三线人员（记录群众确认）", public=True,
       targets=(S.CLOSED, S.ACCEPTED)),
    _t("attach", "上传材料", "结果反馈", ALL_OPEN, None, [P + "handle_case", P + "dispatch_case", P + "add_case"],
       "承办单位、调度员、登记人"),
    _t("record_mediation", "记录调解结果", "结果反馈", ALL_OPEN, None, [P + "handle_case", P + "dispatch_case"],
       "承办单位、调度员", precondition=_needs("is_dispute", "只有矛盾纠纷才记录调解结果")),
]}

# The same table read the other way: from-status → the steps that may start there.
BY_STATUS: dict[str, list[str]] = {
    status: [t.name for t in TRANSITIONS.values() if t.allows(status)] for status in [""] + list(S.values)
}


class TransitionNotAllowed(ValidationError):
    pass


def check_transition(name: str, status: str) -> Transition:
    transition = TRANSITIONS[name]
    if not transition.allows(status):
        label = S(status).label if status else "（新建）"
        raise TransitionNotAllowed(f"案件处于“{label}”状态，不能{transition.label}")
    return transition


def precondition_error(name: str, facts: CaseFacts) -> str | None:
    """Why step ``name`` cannot be taken on a case with these facts (None: it can)."""
    precondition = TRANSITIONS[name].precondition
    return precondition(facts) if precondition is not None else None


class PreconditionNotMet(ValidationError):
    pass


def check_precondition(name: str, facts: CaseFacts) -> None:
    error = precondition_error(name, facts)
    if error:
        raise PreconditionNotMet(error)


def transitions_from(status: str) -> list[Transition]:
    return [TRANSITIONS[name] for name in BY_STATUS.get(status, [])]
