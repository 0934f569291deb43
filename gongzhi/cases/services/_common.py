"""What every step shares: loading a case for a step, the timeline event and audit row, recusal."""
from __future__ import annotations

import datetime as dt
from typing import Iterable

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from django.utils import timezone

from gongzhi.core.audit import AuditAction, audit_record, snapshot
from gongzhi.core.masking import mask_phone
from gongzhi.core.scoping import has_perm_anywhere
from gongzhi.registry.models import Region

from .. import notifications as notify
from ..choices import LEVEL_RANK, CaseStatus, Ledger, Level
from ..models import Case, CaseAttachment, CaseCategory, CaseEvent, validate_attachment
from ..selectors import actor_rank, holds_unit
from ..workflow import TRANSITIONS, Transition, check_precondition, check_transition, facts_of

S = CaseStatus
CASE_FIELDS_REDACTED = ("requester_name", "requester_phone", "requester_id")


class RecusalRequired(ValidationError):
    """The target is the unit or person the case complains about."""


# ---------------------------------------------------------------------------------------------
# helpers


def _now() -> dt.datetime:
    return timezone.now()


def case_snapshot(case: Case) -> dict:
    """The audit snapshot of a case: a complainant's identity never enters the audit trail, other
    requesters' phones are masked."""
    data = snapshot(case)
    if data.get("suspended_time") is not None:
        data["suspended_time"] = str(case.suspended_time)
    if case.ledger == Ledger.COMPLAINT:
        for field in CASE_FIELDS_REDACTED:
            if data.get(field):
                data[field] = "（保密）"
    else:
        data["requester_phone"] = mask_phone(case.requester_phone)
    return data


def _actor_name(actor) -> str:
    if actor is None:
        return "系统"
    return getattr(actor, "display_name", "") or actor.get_username()


def _level_of_region(region: Region) -> str:
    return {1: Level.COUNTY, 2: Level.TOWN}.get(region.level, Level.VILLAGE)


def _target_level(*, grid=None, region=None, department=None) -> str:
    if grid is not None:
        return Level.GRID
    if department is not None:
        return Level.COUNTY
    return _level_of_region(region)


def _tier_region_id(case: Case, level: str) -> int | None:
    return {Level.GRID: case.village_id, Level.VILLAGE: case.village_id, Level.TOWN: case.town_id,
            Level.COUNTY: case.county_id}[level]


def _require_rank(actor, perm: str, case: Case, level: str, what: str) -> None:
    if actor_rank(actor, perm, case) < LEVEL_RANK[level]:
        raise PermissionDenied(f"{what}需要{Level(level).label}级或以上的权限")


def _load(actor, case: Case, name: str) -> tuple[Case, Transition, str]:
    """Fetch ``case`` locked, through the actor's scope for one of the step's permissions.

    With ``cases.handle_case`` the actor must also handle for the assigned unit (``holds_unit``).
    """
    transition = TRANSITIONS[name]
    held = [perm for perm in transition.perms if has_perm_anywhere(actor, perm)]
    if not held:
        raise PermissionDenied("没有办理这一步的权限")
    not_the_unit = False
    for perm in held:
        found = Case.objects.select_for_update().visible_to(actor, perm).filter(pk=case.pk).first()
        if found is None:
            continue
        if perm == "cases.handle_case" and found.assignee is not None and not holds_unit(actor, found):
            not_the_unit = True
            continue
        check_transition(name, found.status)
        if transition.precondition is not None:
            check_precondition(name, facts_of(found))
        ranked = transition.rank_perm(found.status)
        if ranked:
            _require_rank(actor, ranked, found, found.current_level, transition.label)
        return found, transition, perm
    if not_the_unit:
        raise PermissionDenied("本件不由你所在的单位承办")
    raise Http404


def _event(case: Case, *, actor, kind: str, from_status: str, note: str = "", public: bool | None = None,
           data: dict | None = None, at: dt.datetime | None = None) -> CaseEvent:
    if public is None:
        public = TRANSITIONS[kind].public if kind in TRANSITIONS else False
    return CaseEvent.objects.create(
        case=case, kind=kind, at=at or _now(), actor=actor if actor is not None and actor.is_authenticated else None,
        actor_name=_actor_name(actor), from_status=from_status, to_status=case.status, note=note, public=public,
        data=data or {},
    )


def _finish(case: Case, *, actor, kind: str, before: dict, from_status: str, note: str = "",
            public: bool | None = None, data: dict | None = None, audit_action: str = AuditAction.TRANSITION,
            update_fields: list[str] | None = None, at: dt.datetime | None = None) -> CaseEvent:
    case.full_clean()
    if update_fields is None:
        case.save()
    else:
        case.save(update_fields=sorted(set(update_fields) | {"updated_at"}))
    event = _event(case, actor=actor, kind=kind, from_status=from_status, note=note, public=public, data=data,
                   at=at)
    label = TRANSITIONS[kind].label if kind in TRANSITIONS else kind
    audit_record(actor=actor, action=audit_action, obj=case, before=before, after=case_snapshot(case),
                 note=f"{label}（{kind}）" + (f"：{note[:200]}" if note else ""))
    return event


def _require_text(value: str, field: str, message: str) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationError({field: message})
    return value


def _attach_files(case: Case, files: Iterable, *, actor, kind: str, event: CaseEvent | None) -> list[CaseAttachment]:
    made = []
    for upload in files or ():
        content_type = validate_attachment(upload)
        attachment = CaseAttachment(case=case, event=event, kind=kind, original_name=(upload.name or "")[:200],
                                    content_type=content_type, size=upload.size, uploaded_by=actor)
        attachment.file.save(upload.name, upload, save=False)
        attachment.save()
        made.append(attachment)
    return made


def needs_instruction(category: CaseCategory, level: str, *, from_level: str | None = None) -> bool:
    """Must a secretary read and instruct before the case goes on?

    Always when the category says so (at registration); and whenever the case reaches the
    category's ``instruction_level`` or above (at registration or when escalated across it).
    """
    if from_level is None and category.requires_instruction:
        return True
    threshold = category.instruction_level
    if not threshold:
        return False
    reached = LEVEL_RANK[level] >= LEVEL_RANK[threshold]
    was = from_level is not None and LEVEL_RANK[from_level] >= LEVEL_RANK[threshold]
    return reached and not was


# ---------------------------------------------------------------------------------------------
# recusal


def recusal_problem(case: Case, *, grid=None, region=None, department=None, handler=None) -> str:
    """Why the target may not take this case (empty when it may)."""
    if not (case.complained_department_id or case.complained_person_id):
        return ""
    if department is not None and department.pk == case.complained_department_id:
        return "被投诉举报的单位不得承办本件"
    conflicted = notify.conflicted_user_ids(case)
    if handler is not None and handler.pk in conflicted:
        return "被投诉举报的人员不得承办本件"
    if conflicted and (grid or region or department):
        if notify.unit_holder_ids(grid=grid, region=region, department=department) & conflicted:
            return "被投诉举报人是该单位的承办人，须交由其他单位办理"
    return ""


@transaction.atomic
def _record_recusal(*, actor, case_pk: int, reason: str, target: str) -> None:
    case = Case.objects.get(pk=case_pk)
    before = case_snapshot(case)
    _event(case, actor=actor, kind="recusal", from_status=case.status, public=False,
           note=f"回避：{reason}（拟交：{target}）", data={"target": target})
    audit_record(actor=actor, action=AuditAction.TRANSITION, obj=case, before=before, after=before,
                 note=f"回避（recusal）：{reason}")


def _refuse_if_conflicted(case: Case, *, actor, grid=None, region=None, department=None, handler=None) -> None:
    problem = recusal_problem(case, grid=grid, region=region, department=department, handler=handler)
    if problem:
        raise RecusalRequired(problem, params={"target": str(department or region or grid or handler)})


def _with_recusal(func, *, actor, case, **kwargs):
    try:
        return func(actor=actor, case=case, **kwargs)
    except RecusalRequired as exc:
        _record_recusal(actor=actor, case_pk=case.pk, reason=exc.messages[0], target=exc.params["target"])
        raise
