"""Every write of the intake channels.

* ``intake_submit`` — the one way a matter comes in through this app (residents' page, staff form,
  JSON API, Open311): validates what only intake knows, claims the client's idempotency key,
  registers the case through ``gongzhi.cases.services.case_register`` (case + first timeline
  entry + audit + notifications) and stores the answer — all in **one transaction**, committed
  before the client is told "accepted". A failure anywhere rolls everything back: never half a case.
* ``resident_feedback_record`` — the requester's own satisfaction answer, given with the tracking
  code, recorded through the cases services (see ``channel.requester_actor``).
* ``case_merge`` — a dispatcher merges a likely duplicate into its primary case (并案).
* ``contact_record_open_case`` — a three-line contact record becomes a case in one action, through
  ``gongzhi.care.services.needs_action_case_open`` (the care app owns that integration).
"""
from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Callable

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils import timezone

from gongzhi.cases import notifications as notify
from gongzhi.cases import services as case_services
from gongzhi.cases.choices import CaseStatus, ClosedAs, Ledger, Level, MatterKind, Satisfaction
from gongzhi.cases.models import PENDING_NUMBER, Case, CaseCategory, CaseEvent
from gongzhi.cases.numbering import number_pending
from gongzhi.core.audit import AuditAction, audit_record, snapshot
from gongzhi.core.scoping import require_perm
from gongzhi.registry.models import Grid, Person, Region

from . import conf
from .channel import requester_actor
from .idempotency import claim_key, fingerprint
from .models import CaseMerge, IntakeClient, IntakeSubmission, ServiceAttribute
from .text import summary

logger = logging.getLogger(__name__)
S = CaseStatus
DISPATCH = "cases.dispatch_case"
MERGEABLE = (S.REGISTERED, S.PENDING_INSTRUCTION)


# ---------------------------------------------------------------------------------------------
# intake


@dataclass
class IntakeInput:
    """A matter as a channel parsed it (text already cleaned, references already resolved)."""

    description: str
    region: Region
    category: CaseCategory | None = None
    title: str = ""
    grid: Grid | None = None
    address: str = ""
    latitude: Decimal | None = None
    longitude: Decimal | None = None
    requester: Person | None = None
    requester_name: str = ""
    requester_phone: str = ""
    anonymous: bool = False
    complained_text: str = ""
    photos: list = field(default_factory=list)
    media_url: str = ""
    email: str = ""
    device_id: str = ""
    account_id: str = ""
    attributes: dict = field(default_factory=dict)

    def fingerprint_data(self) -> dict:
        photos = []
        for upload in self.photos:
            digest = hashlib.sha256()
            upload.seek(0)
            for chunk in upload.chunks():
                digest.update(chunk)
            upload.seek(0)
            photos.append([upload.name, upload.size, digest.hexdigest()])
        return {
            "description": self.description, "title": self.title,
            "category": self.category.code if self.category else "", "region": self.region.pk,
            "grid": self.grid.pk if self.grid else None, "address": self.address,
            "lat": str(self.latitude) if self.latitude is not None else None,
            "long": str(self.longitude) if self.longitude is not None else None,
            "requester": self.requester.pk if self.requester else None, "name": self.requester_name,
            "phone": self.requester_phone, "anonymous": self.anonymous, "complained": self.complained_text,
            "photos": photos, "media_url": self.media_url, "email": self.email, "attributes": self.attributes,
        }


@dataclass
class IntakeResult:
    case: Case | None
    response: dict
    replayed: bool = False


def unclassified_category(county: Region) -> CaseCategory:
    """The county's "other, to be classified" category, for matters filed without a category.

    Created for the county on first use (a county row, so the shipped default catalogue is
    untouched); the dispatcher classifies the case when accepting it (``case_classify``).
    """
    code = conf.unclassified_code()
    found = case_services.category_for(county_id=county.pk, code=code)
    if found is not None:
        return found
    try:
        with transaction.atomic():
            category, created = CaseCategory.objects.get_or_create(county=county, code=code, defaults={
                "name": "其他事项（待分类）", "description": "群众没有选择类别的事项，由调度员受理时分类。",
                "ledger": Ledger.DEMAND, "kind": MatterKind.OTHER, "default_level": Level.VILLAGE,
                "sort_order": 100000})
            if created:
                audit_record(actor=None, action=AuditAction.CREATE, obj=category, after=snapshot(category),
                             territory=county, note="受理渠道首次使用时创建“待分类”类别")
    except IntegrityError:
        category = CaseCategory.objects.get(county=county, code=code)
    if not category.active:
        raise ValidationError({"category": "请选择事项类别"})
    return category


def attribute_definitions(category: CaseCategory) -> list[ServiceAttribute]:
    return list(ServiceAttribute.objects.filter(category=category).order_by("order", "code"))


def validate_attributes(category: CaseCategory, raw: dict[str, list[str]]) -> dict:
    """Check answers to the category's extra questions; returns {code: value or [values]}."""
    definitions = {a.code: a for a in attribute_definitions(category)}
    errors, answers = {}, {}
    for code in raw:
        if code not in definitions:
            errors[f"attribute[{code}]"] = "没有这个问题"
    for code, attribute in definitions.items():
        values = [v for v in raw.get(code, []) if v != ""]
        if not values:
            if attribute.required:
                errors[f"attribute[{code}]"] = f"请回答：{attribute.description}"
            continue
        if attribute.datatype == ServiceAttribute.Datatype.MULTI:
            bad = [v for v in values if v not in attribute.value_keys()]
            if bad:
                errors[f"attribute[{code}]"] = "选项不正确"
            answers[code] = values
            continue
        value = values[0]
        if attribute.datatype == ServiceAttribute.Datatype.SINGLE and value not in attribute.value_keys():
            errors[f"attribute[{code}]"] = "选项不正确"
        elif attribute.datatype == ServiceAttribute.Datatype.NUMBER:
            try:
                Decimal(value)
            except Exception:
                errors[f"attribute[{code}]"] = "应为数字"
        elif len(value) > 1000:
            errors[f"attribute[{code}]"] = "回答太长"
        answers[code] = value
    if errors:
        raise ValidationError(errors)
    return answers


def _attributes_text(category: CaseCategory, answers: dict) -> str:
    if not answers:
        return ""
    lines = []
    for attribute in attribute_definitions(category):
        if attribute.code not in answers:
            continue
        names = {str(v.get("key")): v.get("name", "") for v in attribute.values or []}
        value = answers[attribute.code]
        shown = "、".join(names.get(v, v) for v in value) if isinstance(value, list) else names.get(value, value)
        lines.append(f"{attribute.description}：{shown}")
    return "\n补充信息：\n" + "\n".join(lines)


def intake_submit(*, actor, channel: str, data: IntakeInput, scope: str, key: str | None = None,
                  client: IntakeClient | None = None,
                  answer: Callable[[Case, IntakeSubmission], dict] = lambda case, sub: {"case": case.pk}
                  ) -> IntakeResult:
    """Register one matter, idempotently. ``answer`` builds the client's answer (stored with the key).

    Raises ``ValidationError`` (bad input, Chinese messages), ``PermissionDenied`` (a staff actor
    filing outside their scope), ``idempotency.KeyReused`` (same key, different request).
    """
    with transaction.atomic():
        claim = claim_key(scope=scope, key=key, fingerprint=fingerprint({"channel": channel,
                                                                          **data.fingerprint_data()}))
        if claim.replay:
            case = claim.row.case
            response = claim.row.response
        else:
            case, response = intake_register(actor=actor, channel=channel, data=data, client=client, answer=answer)
            claim.store(case=case, response=response)
    # Committed: now the number (one short statement, see cases/numbering.py). A replay of a
    # submission whose process died before this point numbers it here too.
    if case is None:  # a replay whose case was deleted since: the stored answer as it was
        return IntakeResult(case=None, response=response, replayed=True)
    if case.number is None:
        case.number = number_pending(case_id=case.pk)
    return IntakeResult(case=case, response=_fill_number(response, case.number), replayed=claim.replay)


def _fill_number(value, number: str):
    """The answer as the client gets it: ``PENDING_NUMBER`` replaced by the case number."""
    if isinstance(value, str):
        return value.replace(PENDING_NUMBER, number) if PENDING_NUMBER in value else value
    if isinstance(value, dict):
        return {k: _fill_number(v, number) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill_number(v, number) for v in value]
    return value


def intake_register(*, actor, channel: str, data: IntakeInput, client: IntakeClient | None = None,
                    answer: Callable[[Case, IntakeSubmission], dict] | None = None,
                    received_at=None, tracking_code: str = "", token: str = "") -> tuple[Case, dict | None]:
    """The case, its submission row and the answer (with ``PENDING_NUMBER`` for the number), in
    the caller's transaction; the caller numbers the case after its commit (``number_pending``).

    ``intake_submit`` calls it with the client waiting; the Open311 worker (``receipts``) with
    the receipt's time, tracking code and token, which the client was already told.
    """
    category = data.category or unclassified_category(
        data.region if data.region.level == 1 else Region.objects.get(pk=data.region.county_id))
    description = data.description + _attributes_text(category, data.attributes)
    if len(description) > conf.max_description() + 2000:
        raise ValidationError({"description": "内容太长"})
    case = case_services.case_register(
        actor=actor, category=category, title=(data.title or summary(data.description))[:200],
        description=description, channel=channel, region=data.region, grid=data.grid,
        address=data.address[:200], latitude=data.latitude, longitude=data.longitude, requester=data.requester,
        requester_name=data.requester_name[:50], requester_phone=data.requester_phone,
        anonymous=data.anonymous, complained_text=data.complained_text[:200], attachments=data.photos,
        received_at=received_at, tracking_code=tracking_code, number_after_commit=True,
    )
    submission = IntakeSubmission(case=case, channel=channel, client=client, media_url=data.media_url,
                                  email=data.email, device_id=data.device_id[:100],
                                  account_id=data.account_id[:100], attributes=data.attributes)
    if token:
        submission.token = token
    submission.full_clean(exclude=["case", "client"], validate_unique=False)  # the token is random (96 bits)
    submission.save()
    if answer is None:
        return case, None
    case.number = PENDING_NUMBER  # only while the answer is built; never saved
    try:
        response = answer(case, submission)
    finally:
        case.number = None
    return case, response


# ---------------------------------------------------------------------------------------------
# the requester's answer


RESIDENT_CHOICES = (Satisfaction.SATISFIED, Satisfaction.BASIC, Satisfaction.DISSATISFIED)


def resident_feedback_record(*, tracking_code: str, satisfaction: str, note: str = "") -> Case:
    """The requester answers the satisfaction question with their tracking code.

    * 已回复待征询 (awaiting feedback) → ``case_record_satisfaction``;
    * 就地化解待确认 (settled on the spot) → ``case_confirm_settlement``: satisfied / basically
      satisfied confirm the settlement (the case closes at grid level), dissatisfied sends it on
      the normal path.
    Both are called with ``channel.requester_actor()``, so the step runs through the transition
    table, row lock, timeline and audit trail like any other. Anything else: ``ValidationError``.
    """
    if satisfaction not in RESIDENT_CHOICES:
        raise ValidationError({"satisfaction": "请选择：满意、基本满意或不满意"})
    case = Case.objects.filter(tracking_code=(tracking_code or "").strip().upper()).first()
    if case is None:
        raise Http404
    note = (note or "")[:500]
    actor = requester_actor()
    label = "群众凭查询码评价" + (f"：{note}" if note else "")
    if case.status == S.AWAITING_FEEDBACK:
        return case_services.case_record_satisfaction(actor=actor, case=case, satisfaction=satisfaction, note=label)
    if case.status == S.SETTLING:
        confirmed = satisfaction != Satisfaction.DISSATISFIED
        return case_services.case_confirm_settlement(actor=actor, case=case, confirmed=confirmed,
                                                     satisfaction=satisfaction if confirmed else "", note=label)
    raise ValidationError("这件事现在不需要您评价，或者您已经评价过了。")


# ---------------------------------------------------------------------------------------------
# merging duplicates


def _requester_phone(case: Case) -> str:
    return case.requester_phone or (case.requester.phone if case.requester_id and case.requester else "")


def _sms_after_commit(phone: str, text: str) -> None:
    def _go():
        try:
            notify.deliver_message.delay("sms", phone, text, "")
        except Exception:  # a message that cannot leave never undoes the merge
            logger.exception("could not queue the merge SMS")

    transaction.on_commit(_go)


@transaction.atomic
def case_merge(*, actor, duplicate: Case, primary: Case, note: str = "") -> CaseMerge:
    """并案: ``duplicate`` is the same matter as ``primary`` and is handled with it.

    * needs ``cases.dispatch_case`` over *both* cases (403 without it anywhere, 404 outside scope);
    * the duplicate must still be waiting for acceptance (merging is an acceptance decision: a
      merged duplicate is "not accepted as a case of its own", so statistics count the matter
      once, on the primary) and belong to the same county and ledger; the primary must be open;
    * the duplicate is closed (closed as 不予受理 with the reason "并入 …") — its clocks stop, the
      deadline sweep no longer sees it; a ``CaseMerge`` row links the two;
    * a timeline entry on both (public on the duplicate, so its requester sees where it went),
      an audit record for both;
    * the duplicate's requester gets an SMS (on commit) and can follow the primary's progress
      with their own tracking code; the primary's unit (or its dispatchers) get an in-app notice.
    """
    require_perm(actor, DISPATCH)
    if duplicate.pk == primary.pk:
        raise ValidationError("不能与自身合并")
    locked = {c.pk: c for c in Case.objects.select_for_update().visible_to(actor, DISPATCH)
              .filter(pk__in=[duplicate.pk, primary.pk]).order_by("pk")}
    if len(locked) != 2:
        raise Http404
    dup, prim = locked[duplicate.pk], locked[primary.pk]
    if dup.status not in MERGEABLE:
        raise ValidationError(f"只能合并尚未受理的案件（{dup.number}当前：{S(dup.status).label}）")
    if prim.status == S.CLOSED:
        raise ValidationError(f"{prim.number}已办结归档，不能并入")
    if prim.county_id != dup.county_id or prim.ledger != dup.ledger:
        raise ValidationError("只能合并同一县（区）、同一台账的案件")
    note = (note or "").strip()[:500]
    now = timezone.now()
    before_dup, before_prim = case_services.case_snapshot(dup), case_services.case_snapshot(prim)
    from_status = dup.status
    dup.status, dup.closed_at, dup.closed_as = S.CLOSED, now, ClosedAs.NOT_ACCEPTED
    dup.close_reason = f"与相同问题合并办理，并入{prim.number}" + (f"：{note}" if note else "")
    dup.full_clean()
    dup.save(update_fields=["status", "closed_at", "closed_as", "close_reason", "updated_at"])
    merge = CaseMerge.objects.create(duplicate=dup, primary=prim, merged_by=actor, merged_at=now, note=note)
    name = getattr(actor, "display_name", "") or actor.get_username()
    CaseEvent.objects.create(case=dup, kind="merge_into", at=now, actor=actor, actor_name=name,
                             from_status=from_status, to_status=S.CLOSED, public=True,
                             note=f"与相同问题合并办理（{prim.number}）",
                             data={"primary": prim.pk, "primary_number": prim.number, "note": note})
    CaseEvent.objects.create(case=prim, kind="merge", at=now, actor=actor, actor_name=name,
                             from_status=prim.status, to_status=prim.status, public=False,
                             note=f"并入重复件{dup.number}" + (f"：{note}" if note else ""),
                             data={"duplicate": dup.pk, "duplicate_number": dup.number})
    audit_record(actor=actor, action=AuditAction.TRANSITION, obj=dup, before=before_dup,
                 after=case_services.case_snapshot(dup), note=f"并案（merge_into）→ {prim.number}")
    audit_record(actor=actor, action=AuditAction.TRANSITION, obj=prim, before=before_prim, after=before_prim,
                 note=f"并案（merge）← {dup.number}")
    phone = _requester_phone(dup)
    if phone and not dup.anonymous:
        _sms_after_commit(phone, f"【{notify.SITE_NAME}】您反映的“{dup.title}”（编号{dup.number}）与已登记的相同问题"
                                 f"合并办理，仍可用查询码{dup.tracking_code}查看进展。")
    recipients = notify.unit_user_ids(prim) if prim.assignee else notify.territory_user_ids(
        prim, DISPATCH, regions=[notify.tier_region_id(prim, prim.current_level) or prim.village_id or prim.county_id])
    notify.notify_users(recipients, case=prim, kind="merged",
                        text=f"【{prim.number}】{prim.title}：并入重复件{dup.number}，请一并办理并答复。")
    return merge


# ---------------------------------------------------------------------------------------------
# three-line contact records


def contact_record_open_case(*, actor, record_pk: int) -> str:
    """A contact record becomes a case in one action (care owns the integration; idempotent:
    a record that already has a case returns its number)."""
    from gongzhi.care import services as care_services
    from gongzhi.care.models import ContactRecord

    try:
        return care_services.needs_action_case_open(actor=actor, record=ContactRecord(pk=record_pk))
    except care_services.NoCaseCategory as exc:
        raise ValidationError(f"暂时不能转为事项：{exc.messages[0]}") from None


__all__ = ["IntakeInput", "IntakeResult", "case_merge", "contact_record_open_case", "intake_register", "intake_submit",
           "resident_feedback_record", "unclassified_category", "validate_attributes"]
