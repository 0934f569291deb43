"""Reads of the audit trail, always through ``AuditLog.objects_scoped.visible_to``."""
from __future__ import annotations

import datetime as dt

from django.db.models import Q, QuerySet
from django.utils import timezone

from .models import AuditLog
from .scoping import has_perm_anywhere

VIEW_AUDITLOG = "core.view_auditlog"


def _start_of(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def audit_log_list(*, user, object_type: str = "", object_id: str = "", actor: str = "", action: str = "",
                   date_from: dt.date | None = None, date_to: dt.date | None = None) -> QuerySet[AuditLog]:
    """Audit rows in the user's scope, newest first, filtered. Dates are whole local days, inclusive.

    Date bounds compare ``created_at`` with aware datetimes (not ``__date``) so the index is used.
    """
    rows = AuditLog.objects_scoped.visible_to(user, VIEW_AUDITLOG)
    if object_type:
        rows = rows.filter(object_type=object_type)
    if object_id:
        rows = rows.filter(object_id=object_id)
    if actor:
        rows = rows.filter(actor_username=actor)
    if action:
        rows = rows.filter(action=action)
    if date_from:
        rows = rows.filter(created_at__gte=_start_of(date_from))
    if date_to:
        rows = rows.filter(created_at__lt=_start_of(date_to + dt.timedelta(days=1)))
    return rows.order_by("-created_at", "-id")


def audit_history(*, user, objects: list[tuple[str, list]], limit: int = 20) -> list[AuditLog] | None:
    """The latest audit rows about the given objects ([(object_type, [ids])]), or ``None`` for a
    user who is no auditor (pages then leave the history out rather than show it empty)."""
    if not has_perm_anywhere(user, VIEW_AUDITLOG):
        return None
    condition = Q(pk__in=[])
    for object_type, ids in objects:
        if ids:
            condition |= Q(object_type=object_type, object_id__in=[str(i) for i in ids])
    return list(AuditLog.objects_scoped.visible_to(user, VIEW_AUDITLOG).filter(condition)
                .order_by("-created_at", "-id")[:limit])
