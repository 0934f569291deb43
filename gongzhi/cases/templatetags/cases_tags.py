"""Template helpers of the cases pages: labels of statuses and steps, deadlines, the sub-menu."""
from __future__ import annotations

from django import template
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gongzhi.core.scoping import has_perm_anywhere

from ..choices import CaseStatus, Ledger, Level, RequestKind, RequestStatus, Satisfaction
from ..workflow import TRANSITIONS

register = template.Library()

# Timeline entries written by the services and the sweep that are not steps of the table.
OTHER_EVENTS = {
    "recusal": _("Recusal"), "update": _("Registration corrected"),
    "acceptance_overdue": _("Acceptance limit passed"), "response_overdue": _("Signing limit passed"),
    "due_soon": _("Due-soon warning"), "overdue": _("Resolution limit passed"),
    "overdue_escalated": _("Overdue: escalated for supervision"), "summons_overdue": _("Summons not answered in time"),
    "village_agenda": _("Put on a village meeting's agenda"), "village_decision": _("Village decision"),
    "village_progress": _("Village decision: progress"),
    "pairing_need": _("Listed as a pairing need"), "pairing_project": _("Pairing project"),
    "dispatch_need": _("Listed for resource dispatch"), "dispatch_delivered": _("Resources delivered"),
}


def _label(enum, value) -> str:
    try:
        return enum(value).label
    except ValueError:
        return value or "—"


@register.filter
def status_label(value) -> str:
    return _label(CaseStatus, value)


@register.filter
def ledger_label(value) -> str:
    return _label(Ledger, value)


@register.filter
def level_label(value) -> str:
    return _label(Level, value)


@register.filter
def satisfaction_label(value) -> str:
    return _label(Satisfaction, value) if value else "—"


@register.filter
def request_kind_label(value) -> str:
    return _label(RequestKind, value)


@register.filter
def request_status_label(value) -> str:
    return _label(RequestStatus, value)


@register.filter
def step_label(kind: str) -> str:
    """A timeline entry's name: the step's label in the workflow table, or one of the others."""
    transition = TRANSITIONS.get(kind)
    if transition is not None:
        return transition.label
    return OTHER_EVENTS.get(kind, kind)


@register.filter
def step_name(kind: str) -> str:
    """The nine-step stage a step belongs to (分类建账 … 销号归档)."""
    transition = TRANSITIONS.get(kind)
    return transition.step if transition else ""


@register.filter
def overdue(due) -> bool:
    return bool(due) and due < timezone.now()


@register.filter
def get_item(mapping, key):
    return mapping.get(key) if hasattr(mapping, "get") else None


@register.inclusion_tag("cases/_nav.html", takes_context=True)
def cases_nav(context, current: str = ""):
    """The cases sub-menu: only the pages the user may open (no query: the grants are cached)."""
    user = context["request"].user
    perm = lambda p: has_perm_anywhere(user, p)  # noqa: E731
    links = [
        ("home", "cases:home", _("Overview"), perm("cases.view_case")),
        ("workbench", "cases:workbench", _("Workbench"), perm("cases.dispatch_case")),
        ("queue", "cases:queue", _("My queue"), perm("cases.handle_case")),
        ("secretary", "cases:secretary", _("Three ledgers"), perm("cases.instruct_case")),
        ("list", "cases:list", _("All cases"), perm("cases.view_case")),
        ("register", "cases:register", _("Register"), perm("cases.add_case")),
        ("statistics", "cases:statistics", _("Statistics"), perm("cases.view_case")),
        ("inbox", "cases:inbox", _("Inbox"), True),
    ]
    return {"links": [(key, url, label) for key, url, label, ok in links if ok], "current": current}
