"""Writing the audit trail. Every service that changes people's data calls ``audit_record``."""
from __future__ import annotations

import datetime as dt
import decimal
import uuid
from typing import Any

from django.db import models

from .masking import MASKERS, mask_field
from .middleware import current_request_id
from .models import AuditAction, AuditLog


def _jsonable(value: Any) -> Any:
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    return value


def snapshot(obj: models.Model) -> dict[str, Any]:
    """The object's concrete field values, with sensitive fields masked.

    The audit trail says *that* an ID number or phone changed, never what it is: auditors must
    not become a side door around masking.
    """
    data = {}
    for field in obj._meta.concrete_fields:
        value = getattr(obj, field.attname)
        if field.name in MASKERS:
            value = mask_field(field.name, value)
        data[field.attname] = _jsonable(value)
    return data


def audit_record(
    *, actor, action: str, obj: models.Model | None = None, object_type: str = "",
    object_id: str = "", object_repr: str = "", before: dict | None = None,
    after: dict | None = None, note: str = "", territory: Any = None,
) -> AuditLog:
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
        object_repr = object_repr or str(obj)[:200]
        territory = territory or obj
    changed = []
    if before is not None and after is not None:
        changed = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
    user_ok = actor is not None and getattr(actor, "is_authenticated", False)
    return AuditLog.objects.create(
        actor=actor if user_ok else None,
        actor_username=actor.get_username() if user_ok else "system",
        request_id=current_request_id(),
        action=action,
        object_type=object_type,
        object_id=object_id,
        object_repr=object_repr,
        before=before,
        after=after,
        changed_fields=changed,
        note=note,
        county_id=getattr(territory, "county_id", None),
        town_id=getattr(territory, "town_id", None),
        village_id=getattr(territory, "village_id", None),
    )


def audit_record_many(*, actor, action: str, objects, note=lambda obj: "") -> int:
    """``audit_record`` for each of ``objects`` (no before/after), written in one INSERT — for the
    background jobs that act on hundreds of rows at once (the deadline sweep's escalations)."""
    user_ok = actor is not None and getattr(actor, "is_authenticated", False)
    request_id = current_request_id()
    from .bulk_insert import insert_many

    rows = [{
        "actor_id": actor.pk if user_ok else None, "actor_username": actor.get_username() if user_ok else "system",
        "request_id": request_id, "action": action, "object_type": obj._meta.label_lower, "object_id": str(obj.pk),
        "object_repr": str(obj)[:200], "before": None, "after": None, "changed_fields": [], "note": note(obj),
        "county_id": getattr(obj, "county_id", None), "town_id": getattr(obj, "town_id", None),
        "village_id": getattr(obj, "village_id", None)} for obj in objects]
    return insert_many(AuditLog, rows)


__all__ = ["AuditAction", "audit_record", "audit_record_many", "create_audited", "save_audited", "snapshot"]


def create_audited(obj: models.Model, actor, perm: str, *, note: str = "") -> models.Model:
    """The tail of every service that creates a row: validate, save, roll back if the new row
    lies outside the actor's scope for ``perm`` (``scoping.recheck_in_scope``), audit."""
    from .scoping import recheck_in_scope

    obj.full_clean()
    obj.save()
    recheck_in_scope(obj, actor, perm)
    audit_record(actor=actor, action=AuditAction.CREATE, obj=obj, after=snapshot(obj), note=note)
    return obj


def save_audited(obj: models.Model, before: dict, actor, *, note: str = "") -> models.Model:
    """The tail of every service that changes a row: validate, save, audit before and after."""
    obj.full_clean()
    obj.save()
    audit_record(actor=actor, action=AuditAction.UPDATE, obj=obj, before=before, after=snapshot(obj), note=note)
    return obj
