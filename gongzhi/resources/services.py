"""Every write of resources and dispatch.

Each service takes a keyword-only ``actor``, runs in one transaction, loads what it changes through
the actor's scope (``access_object``: 403 without the permission, 404 outside the scope), validates
with Chinese messages (``ValidationError``: the transaction rolls back, nothing is half-saved) and
writes its audit record.

Stock changes only through ``_move``: one ``StockMovement`` row (append-only) and the same deltas
on the resource's cached balances, under the resource's row lock, with database checks behind
them (on hand ≥ 0, reserved ≤ on hand). Locks are always taken in the order resource → need →
allocation → delivery, so two services never wait on each other in a circle.

Priority is enforced here, not on the page: a reservation for a need may take only what needs of a
higher priority in the resource's reach (its town; the whole county for the county's pool) do not
still lack — emergencies first, then basic livelihood, then the rest.
"""
from __future__ import annotations

import datetime as dt
import secrets

from django.contrib.auth.hashers import check_password, make_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Sum
from django.utils import timezone

from gongzhi.cases import notifications as case_notifications
from gongzhi.cases.models import Case
from gongzhi.cases.services import case_record_linked
from gongzhi.core.audit import AuditAction, audit_record, create_audited, save_audited, snapshot
from gongzhi.core.scoping import access_object, can, has_perm_anywhere
from gongzhi.registry.models import Department, Grid, Household, Region, RegionLevel

from . import matching
from .models import (
    MOVEMENT_SIGNS, OPEN_NEED_STATUSES, Allocation, AllocationStatus, Availability, ConfirmationMethod, Delivery,
    DeliveryStatus, KEEPER_RULE, Kind, MovementKind, Need, NeedSource, NeedStatus, Priority, Resource, StockMovement,
)

SITE = case_notifications.SITE_NAME
MAX_QUANTITY = 10 ** 12  # 一万亿: above any county's stock, below the column's range


def _text(value, field: str, message: str, *, limit: int) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationError({field: message})
    if len(value) > limit:
        raise ValidationError({field: f"不能超过{limit}个字"})
    return value


def _quantity(value, field: str = "quantity", *, allow_zero: bool = False) -> int:
    """A whole positive number of units (funds in whole yuan), or a clear refusal."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ValidationError({field: "数量应为整数"}) from None
    if isinstance(value, float) and value != number:
        raise ValidationError({field: "数量应为整数"})
    if number < 0 or (number == 0 and not allow_zero):
        raise ValidationError({field: "数量须大于0" if not allow_zero else "数量不能为负数"})
    if number > MAX_QUANTITY:
        raise ValidationError({field: "数量过大"})
    return number


def _territory_of(region: Region) -> dict:
    return {"county_id": region.county_id, "town_id": region.town_id, "village_id": region.village_id}


# Every create and change ends the same way in every app (core.audit).
_save_new, _save_changed = create_audited, save_audited


def _notify(user_ids, kind: str, text: str) -> None:
    case_notifications.notify_users({u for u in user_ids if u}, case=None, kind=kind, text=text)


def _need_ref(need: Need) -> str:
    """How the ledger names a need: its number and village, never a household's name."""
    village = need.village.name if need.village_id else (need.town.name if need.town_id else "")
    return f"需求#{need.pk}（{village}）" if village else f"需求#{need.pk}"


# ---- the inventory and its ledger -------------------------------------------------------------

def _move(*, actor, resource: Resource, kind: str, quantity: int, reason: str, allocation=None, delivery=None,
          on_hand_delta: int | None = None) -> StockMovement:
    """Record one movement on a resource the caller has locked, and keep its balances."""
    signs = MOVEMENT_SIGNS[kind]
    on_hand = on_hand_delta if on_hand_delta is not None else signs[0] * quantity
    reserved = signs[1] * quantity
    new_on_hand, new_reserved = resource.on_hand + on_hand, resource.reserved + reserved
    if new_on_hand < 0:
        raise ValidationError({"quantity": f"“{resource.name}”库存只有{resource.on_hand}{resource.unit}"})
    if new_reserved < 0 or new_reserved > new_on_hand:
        raise ValidationError({"quantity": f"“{resource.name}”可用只有{resource.available}{resource.unit}"
                                           f"（已预留{resource.reserved}{resource.unit}）"})
    movement = StockMovement(resource=resource, kind=kind, on_hand_delta=on_hand, reserved_delta=reserved,
                             reason=reason[:300], allocation=allocation, delivery=delivery, actor=actor,
                             county_id=resource.county_id, town_id=resource.town_id, village_id=resource.village_id)
    movement.save()
    Resource.objects.filter(pk=resource.pk).update(on_hand=F("on_hand") + on_hand, reserved=F("reserved") + reserved)
    resource.on_hand, resource.reserved = new_on_hand, new_reserved
    audit_record(actor=actor, action=AuditAction.CREATE, obj=movement, territory=resource,
                 after={"resource": resource.pk, "kind": kind, "on_hand_delta": on_hand, "reserved_delta": reserved,
                        "on_hand": new_on_hand, "reserved": new_reserved}, note=reason[:200])
    return movement


def _lock_resource(actor, resource, perm: str) -> Resource:
    """Lock a resource the actor keeps (``KEEPER_RULE``): reading the county's pool is not keeping it."""
    pk = resource.pk if isinstance(resource, Resource) else resource
    resource = access_object(Resource.objects.select_for_update(of=("self",)).select_related("place"), actor,
                             "resources.view_resource", pk=pk)
    _require_keeper(actor, resource, perm)
    return resource


def _require_keeper(actor, resource: Resource, perm: str) -> None:
    if not can(actor, perm, resource, KEEPER_RULE):
        if not has_perm_anywhere(actor, perm):
            raise PermissionDenied
        raise ValidationError({"resource": f"“{resource.name}”由{resource.owner_name}（{resource.place.name}）调度，"
                                           f"本级不能变动或调用"})


def _place(place: Region | None) -> Region:
    if place is None:
        raise ValidationError({"place": "请选择所在地"})
    return place


DESCRIPTIVE_FIELDS = {"name", "unit", "owner_name", "owner_department", "grid", "address", "source", "allocation",
                      "emergency_reserve", "availability", "available_from", "available_until", "conditions"}


@transaction.atomic
def resource_register(*, actor, kind: str, name: str, unit: str, owner_name: str, place: Region, source: str,
                      allocation: str, quantity, reason: str = "", owner_department: Department | None = None,
                      grid: Grid | None = None, address: str = "", emergency_reserve: bool = False,
                      available_from: dt.date | None = None, available_until: dt.date | None = None,
                      conditions: str = "") -> Resource:
    """List a resource in the inventory with what it brings in (its first ledger line)."""
    quantity = _quantity(quantity)
    place = _place(place)
    if grid is not None and grid.village_id != place.village_id:
        raise ValidationError({"grid": "网格应在资源所在的村（社区）"})
    resource = Resource(kind=kind, name=_text(name, "name", "请填写资源名称", limit=150),
                        unit=_text(unit, "unit", "请填写单位（如 元、袋、床、次/月）", limit=20),
                        owner_name=_text(owner_name, "owner_name", "请填写资源的所有者或提供方", limit=150),
                        owner_department=owner_department, place=place, grid=grid, address=(address or "").strip(),
                        source=source, allocation=allocation, emergency_reserve=bool(emergency_reserve),
                        available_from=available_from, available_until=available_until,
                        conditions=(conditions or "").strip(), registered_by=actor, **_territory_of(place))
    _save_new(resource, actor, "resources.add_resource", note=f"入库{quantity}{resource.unit}")
    _move(actor=actor, resource=resource, kind=MovementKind.STOCK_IN, quantity=quantity,
          reason=(reason or "").strip() or f"登记入库（{resource.get_source_display()}）")
    return resource


@transaction.atomic
def resource_update(*, actor, resource: Resource, **fields) -> Resource:
    """Correct what describes a resource. Quantities change only through the ledger."""
    unknown = set(fields) - DESCRIPTIVE_FIELDS
    if unknown:
        raise ValidationError({"__all__": f"不能在此修改：{'、'.join(sorted(unknown))}（数量只能通过出入库记录变动）"})
    resource = _lock_resource(actor, resource, "resources.change_resource")
    before = snapshot(resource)
    for name, value in fields.items():
        setattr(resource, name, value.strip() if isinstance(value, str) else value)
    for name, label, limit in (("name", "资源名称", 150), ("unit", "单位", 20), ("owner_name", "所有者", 150)):
        if name in fields:
            setattr(resource, name, _text(getattr(resource, name), name, f"请填写{label}", limit=limit))
    if resource.grid_id and resource.grid.village_id != resource.village_id:
        raise ValidationError({"grid": "网格应在资源所在的村（社区）"})
    return _save_changed(resource, before, actor, note="修改资源信息")


@transaction.atomic
def stock_receive(*, actor, resource: Resource, quantity, reason: str) -> StockMovement:
    """More of a resource comes in (a donation, a new budget line, a purchase)."""
    quantity = _quantity(quantity)
    reason = _text(reason, "reason", "请写明入库来由（如 某企业捐赠、年度预算）", limit=300)
    resource = _lock_resource(actor, resource, "resources.move_stock")
    if resource.availability == Availability.RETIRED:
        raise ValidationError({"resource": "资源已退出台账，不能入库"})
    return _move(actor=actor, resource=resource, kind=MovementKind.STOCK_IN, quantity=quantity, reason=reason)


@transaction.atomic
def stock_write_off(*, actor, resource: Resource, quantity, reason: str) -> StockMovement:
    """Stock leaves other than by delivery: spoiled, expired, lost, used by the owner."""
    quantity = _quantity(quantity)
    reason = _text(reason, "reason", "请写明核销原因（如 过期、损坏、遗失）", limit=300)
    resource = _lock_resource(actor, resource, "resources.move_stock")
    if quantity > resource.available:
        raise ValidationError({"quantity": f"可核销的只有{resource.available}{resource.unit}"
                                           f"（另有{resource.reserved}{resource.unit}已预留，须先释放）"})
    return _move(actor=actor, resource=resource, kind=MovementKind.WRITE_OFF, quantity=quantity, reason=reason)


@transaction.atomic
def stock_correct(*, actor, resource: Resource, counted, reason: str) -> StockMovement:
    """A stocktake: the count found replaces the book figure by a correction line, with its reason."""
    counted = _quantity(counted, "counted", allow_zero=True)
    reason = _text(reason, "reason", "请写明盘点情况（谁、何时清点，差异原因）", limit=300)
    resource = _lock_resource(actor, resource, "resources.move_stock")
    delta = counted - resource.on_hand
    if delta == 0:
        raise ValidationError({"counted": f"清点数与账面数（{resource.on_hand}{resource.unit}）一致，无需更正"})
    if counted < resource.reserved:
        raise ValidationError({"counted": f"已预留{resource.reserved}{resource.unit}，清点数少于此数时须先释放预留"})
    return _move(actor=actor, resource=resource, kind=MovementKind.CORRECTION, quantity=abs(delta), reason=reason,
                 on_hand_delta=delta)


# ---- needs ---------------------------------------------------------------------------------

@transaction.atomic
def need_raise(*, actor, title: str, kind: str, quantity, unit: str, priority: int = Priority.GENERAL,
               place: Region | None = None, household: Household | None = None, grid: Grid | None = None,
               description: str = "", emergency_note: str = "", recipient_name: str = "",
               needed_by: dt.date | None = None, source: str = NeedSource.DIRECT, case: Case | None = None,
               care_plan=None, meeting=None, pairing_need_id: int | None = None) -> Need:
    """A need enters the dispatch queue. From a case, a care plan or a meeting the place and the
    household come from the source; an emergency must say what makes it urgent."""
    quantity = _quantity(quantity)
    try:
        priority = Priority(int(priority))
    except (TypeError, ValueError):
        raise ValidationError({"priority": "请选择优先级"}) from None
    if kind not in Kind.values:
        raise ValidationError({"kind": "请选择所需资源的类型"})
    if source == NeedSource.CASE:
        if case is None:
            raise ValidationError({"case": "请选择事项"})
        case = access_object(Case.objects.all(), actor, "cases.view_case", pk=case.pk)
        place, grid = place or case.region, grid or case.grid
    elif source == NeedSource.CARE_PLAN:
        if care_plan is None:
            raise ValidationError({"care_plan": "请选择帮扶计划"})
        from gongzhi.care.models import CarePlan
        care_plan = access_object(CarePlan.objects.select_related("household"), actor, "care.view_careplan",
                                  pk=care_plan.pk)
        household = household or care_plan.household
    elif source == NeedSource.MEETING:
        if meeting is None:
            raise ValidationError({"meeting": "请选择会议"})
        from gongzhi.village.models import Meeting
        meeting = access_object(Meeting.objects.all(), actor, "village.view_meeting", pk=meeting.pk)
        place = place or meeting.region
    elif source == NeedSource.PAIRING and not pairing_need_id:
        raise ValidationError({"source": "结对需求须注明来源需求"})
    if household is not None:
        household = access_object(Household.objects.select_related("region", "grid"), actor,
                                  "registry.view_household", pk=household.pk)
        place, grid = place or household.region, grid or household.grid
        if not recipient_name and household.head is not None:
            recipient_name = household.head.name
    if place is None:
        raise ValidationError({"place": "请选择需求所在的村（社区）"})
    if place.level == RegionLevel.COUNTY:
        raise ValidationError({"place": "需求应落到镇（街道）或村（社区）"})
    if grid is not None and grid.village_id != place.village_id:
        raise ValidationError({"grid": "网格应在需求所在的村（社区）"})
    emergency_note = (emergency_note or "").strip()
    if priority == Priority.EMERGENCY and not emergency_note:
        raise ValidationError({"emergency_note": "应急需求请写明紧急情况（如 房屋被洪水损毁）"})
    need = Need(title=_text(title, "title", "请填写需求", limit=200), description=(description or "").strip(),
                kind=kind, quantity=quantity, unit=_text(unit, "unit", "请填写单位", limit=20), priority=priority,
                emergency_note=emergency_note[:300], place=place, grid=grid, household=household,
                recipient_name=(recipient_name or "").strip()[:100], needed_by=needed_by, source=source, case=case,
                care_plan=care_plan, meeting=meeting, pairing_need_id=pairing_need_id, raised_by=actor,
                **_territory_of(place))
    _save_new(need, actor, "resources.add_need", note=f"{need.get_priority_display()}：{need.title}")
    if case is not None:
        case_record_linked(actor=actor, case=case, kind="dispatch_need",
                           note=f"已列入资源调度需求（{need.get_priority_display()}）：{need.title}")
    if priority == Priority.EMERGENCY:
        _notify(case_notifications.holder_ids("resources.add_allocation",
                                              region_ids=[need.town_id, need.county_id]) - {actor.pk},
                "dispatch_emergency", f"【{SITE}】应急需求：{need.place.name}“{need.title}”"
                                      f"需{need.quantity}{need.unit}，请尽快调度。")
    return need


def _refresh_need(need: Need) -> None:
    """Recompute the need's cached sums from its allocations and deliveries (under its lock)."""
    allocations = Allocation.objects.filter(need=need).exclude(status=AllocationStatus.RELEASED)
    need.reserved_quantity = allocations.aggregate(s=Sum("quantity"))["s"] or 0
    need.delivered_quantity = Delivery.objects.filter(allocation__need=need, status=DeliveryStatus.CONFIRMED).aggregate(
        s=Sum(F("received_quantity") - F("returned_quantity")))["s"] or 0
    under_way = Delivery.objects.filter(allocation__need=need, status=DeliveryStatus.UNDER_WAY).exists()
    if need.status not in (NeedStatus.CLOSED, NeedStatus.CANCELLED):
        if need.delivered_quantity >= need.quantity:
            need.status = NeedStatus.DELIVERED
        elif under_way:
            need.status = NeedStatus.DELIVERING
        elif need.reserved_quantity and need.reserved_quantity + need.delivered_quantity >= need.quantity:
            need.status = NeedStatus.RESERVED
        else:
            need.status = NeedStatus.OPEN
    Need.objects.filter(pk=need.pk).update(reserved_quantity=need.reserved_quantity,
                                           delivered_quantity=need.delivered_quantity, status=need.status)


def higher_priority_claims(need: Need, resources) -> dict[tuple, int]:
    """For each reach (a town, or a county's pool) among ``resources``: what open needs of the
    same type and a higher priority than ``need`` still lack there."""
    if need.priority == Priority.EMERGENCY:
        return {}
    keys = {matching.reach_key(r) for r in resources}
    towns = [k[1] for k in keys if k[0] == "town"]
    counties = [k[1] for k in keys if k[0] == "county"]
    lacking = Need.objects.filter(kind=need.kind, priority__lt=need.priority, status__in=OPEN_NEED_STATUSES).exclude(
        pk=need.pk)
    claims: dict[tuple, int] = {}
    expression = F("quantity") - F("delivered_quantity") - F("reserved_quantity")
    if towns:
        for row in lacking.filter(town_id__in=towns).values("town_id").annotate(s=Sum(expression)):
            claims[("town", row["town_id"])] = max(row["s"] or 0, 0)
    if counties:
        for row in lacking.filter(county_id__in=counties).values("county_id").annotate(s=Sum(expression)):
            claims[("county", row["county_id"])] = max(row["s"] or 0, 0)
    return claims


def candidates_for(actor, need: Need, *, limit: int = 30) -> list[matching.Candidate]:
    """The inventory ranked for ``need``, within what ``actor`` may read (read only)."""
    resources = list(Resource.objects.visible_to(actor, "resources.view_resource").filter(
        kind=need.kind, county_id=need.county_id).exclude(availability=Availability.RETIRED)
        .select_related("place").order_by("-on_hand")[:2000])
    ranked = matching.rank(need, resources, claims=higher_priority_claims(need, resources),
                           today=timezone.localdate())
    return ranked[:limit]


@transaction.atomic
def reserve(*, actor, need: Need, resource: Resource, quantity=None) -> Allocation:
    """Reserve part of ``resource`` for ``need`` (预留). Re-ranks under both row locks, so two
    dispatchers reserving the last units at once cannot both have them."""
    resource = _lock_resource(actor, resource, "resources.add_allocation")
    need = access_object(Need.objects.select_for_update(of=("self",)).select_related("village", "town"), actor,
                         "resources.add_allocation", pk=need.pk)
    if not need.is_open:
        raise ValidationError({"need": f"该需求{need.get_status_display()}，不能再预留"})
    if resource.county_id != need.county_id:
        raise ValidationError({"resource": "只能调度本县的资源"})
    if not matching.fits(need, resource):
        raise ValidationError({"resource": f"“{resource.name}”（{resource.get_kind_display()}）与需求“{need.title}”不符"})
    if need.outstanding <= 0:
        raise ValidationError({"need": "该需求已全部预留或送达"})
    [candidate] = matching.rank(need, [resource], claims=higher_priority_claims(need, [resource]),
                                today=timezone.localdate())
    if not candidate.available:
        raise ValidationError({"resource": f"“{resource.name}”不能调用：{candidate.refusal}"})
    quantity = _quantity(quantity) if quantity not in (None, "") else min(need.outstanding, candidate.claimable)
    if quantity > need.outstanding:
        raise ValidationError({"quantity": f"该需求尚缺{need.outstanding}{need.unit}，不能多于此数"})
    if quantity > candidate.claimable:
        raise ValidationError({"quantity": f"“{resource.name}”此时可调用的只有{candidate.claimable}{resource.unit}"})
    allocation = Allocation(need=need, resource=resource, quantity=quantity, score=candidate.score,
                            explanation=candidate.as_dict()["reasons"], reserved_by=actor,
                            county_id=need.county_id, town_id=need.town_id, village_id=need.village_id)
    _save_new(allocation, actor, "resources.add_allocation", note=f"匹配得分{candidate.score}")
    _move(actor=actor, resource=resource, kind=MovementKind.RESERVE, quantity=quantity, allocation=allocation,
          reason=f"预留给{_need_ref(need)}")
    before = snapshot(need)
    _refresh_need(need)
    audit_record(actor=actor, action=AuditAction.UPDATE, obj=need, before=before, after=snapshot(need),
                 note=f"预留{resource.name}{quantity}{resource.unit}")
    return allocation


@transaction.atomic
def reserve_by_priority(*, actor, county: Region, kind: str | None = None, limit: int = 200) -> list[Allocation]:
    """Apply the dispatch queue's proposal (``matching.plan``) within the actor's scope, one
    reservation at a time through ``reserve`` (each re-checked under its locks)."""
    needs = Need.objects.visible_to(actor, "resources.add_allocation").filter(
        county_id=county.pk, status__in=OPEN_NEED_STATUSES)
    resources = Resource.objects.visible_to(actor, "resources.view_resource").filter(
        county_id=county.pk, availability=Availability.AVAILABLE)
    if kind:
        needs, resources = needs.filter(kind=kind), resources.filter(kind=kind)
    made = []
    for proposal in matching.plan(list(needs.select_related("village", "town")), list(resources),
                                  today=timezone.localdate())[:limit]:
        try:
            with transaction.atomic():
                made.append(reserve(actor=actor, need=proposal.need, resource=proposal.resource,
                                    quantity=proposal.quantity))
        except ValidationError:
            continue  # changed since the plan was drawn (another dispatcher): the next run sees it
    return made


def _lock_allocation(actor, allocation, perm: str) -> tuple[Resource, Need, Allocation]:
    pk = allocation.pk if isinstance(allocation, Allocation) else allocation
    found = access_object(Allocation.objects.all(), actor, perm, pk=pk)
    resource = Resource.objects.select_for_update(of=("self",)).select_related("place").get(pk=found.resource_id)
    need = Need.objects.select_for_update(of=("self",)).select_related("village", "town", "case").get(pk=found.need_id)
    allocation = Allocation.objects.select_for_update().get(pk=pk)
    return resource, need, allocation


@transaction.atomic
def release(*, actor, allocation: Allocation, reason: str, quantity=None) -> Allocation:
    """Give back what is reserved and not dispatched (all of it unless ``quantity`` says)."""
    reason = _text(reason, "reason", "请写明释放预留的原因", limit=300)
    resource, need, allocation = _lock_allocation(actor, allocation, "resources.add_allocation")
    _require_keeper(actor, resource, "resources.add_allocation")
    if allocation.quantity == 0:
        raise ValidationError({"allocation": "该预留已无可释放的数量"})
    quantity = allocation.quantity if quantity in (None, "") else _quantity(quantity)
    if quantity > allocation.quantity:
        raise ValidationError({"quantity": f"可释放的只有{allocation.quantity}{resource.unit}"})
    before = snapshot(allocation)
    allocation.quantity -= quantity
    if allocation.quantity == 0:
        allocation.status = AllocationStatus.DISPATCHED if allocation.dispatched else AllocationStatus.RELEASED
    _save_changed(allocation, before, actor, note=f"释放{quantity}{resource.unit}：{reason}")
    _move(actor=actor, resource=resource, kind=MovementKind.RELEASE, quantity=quantity, allocation=allocation,
          reason=f"释放{_need_ref(need)}的预留：{reason}")
    _refresh_need(need)
    return allocation


def new_receipt_code() -> str:
    return f"{secrets.randbelow(10 ** 6):06d}"


@transaction.atomic
def dispatch(*, actor, allocation: Allocation, quantity=None, carrier: str = "") -> tuple[Delivery, str]:
    """Send part of a reservation (出库发放). Returns the delivery and its receipt code, which goes
    to the recipient by SMS when their phone is known and is shown once to the dispatcher.
    Under the allocation's lock: a second dispatch of the same units finds them gone."""
    resource, need, allocation = _lock_allocation(actor, allocation, "resources.add_delivery")
    _require_keeper(actor, resource, "resources.add_delivery")
    if not need.is_open:
        raise ValidationError({"need": f"该需求{need.get_status_display()}，不能再发放"})
    if allocation.quantity == 0:
        raise ValidationError({"allocation": "该预留已全部发出或已释放，不能重复发放"})
    quantity = allocation.quantity if quantity in (None, "") else _quantity(quantity)
    if quantity > allocation.quantity:
        raise ValidationError({"quantity": f"该预留尚未发出的只有{allocation.quantity}{resource.unit}"})
    code = new_receipt_code()
    delivery = Delivery(allocation=allocation, quantity=quantity, carrier=(carrier or "").strip()[:100],
                        sent_by=actor, receipt_code_hash=make_password(code), county_id=need.county_id,
                        town_id=need.town_id, village_id=need.village_id)
    _save_new(delivery, actor, "resources.add_delivery", note=f"发放{quantity}{resource.unit}")
    before = snapshot(allocation)
    allocation.quantity -= quantity
    allocation.dispatched += quantity
    allocation.status = AllocationStatus.DISPATCHED if allocation.quantity == 0 else AllocationStatus.DISPATCHING
    _save_changed(allocation, before, actor, note=f"发出{quantity}{resource.unit}")
    _move(actor=actor, resource=resource, kind=MovementKind.DISPATCH, quantity=quantity, allocation=allocation,
          delivery=delivery, reason=f"发往{_need_ref(need)}")
    _refresh_need(need)
    phone = _recipient_phone(need)
    if phone:
        case_notifications.sms_later(phone, f"【{SITE}】{resource.name}{quantity}{resource.unit}已发出，"
                                            f"收到后请把收货码 {code} 告诉送达人员。")
    _notify({need.raised_by_id} - {actor.pk}, "dispatch_sent",
            f"【{SITE}】{_need_ref(need)}“{need.title}”：{resource.name}{quantity}{resource.unit}已发出。")
    return delivery, code


def _recipient_phone(need: Need) -> str:
    if need.household_id and need.household.head is not None:
        return need.household.head.phone or ""
    if need.case_id and need.case.requester_phone:
        return need.case.requester_phone
    return ""


@transaction.atomic
def confirm_delivery(*, actor, delivery: Delivery, received, recipient_name: str, method: str, code: str = "",
                     shortfall: str = "returned", note: str = "") -> Delivery:
    """The recipient's confirmation (签收): what arrived, who received it and how they confirmed.
    What was sent and did not arrive goes back to stock (``shortfall="returned"``) or is written
    off as lost with the note as its reason (``"lost"``)."""
    found = access_object(Delivery.objects.all(), actor, "resources.confirm_delivery", pk=delivery.pk)
    resource, need, allocation = _lock_allocation(actor, found.allocation_id, "resources.view_allocation")
    delivery = Delivery.objects.select_for_update().get(pk=found.pk)
    if delivery.status != DeliveryStatus.UNDER_WAY:
        raise ValidationError({"delivery": "该批次已确认或已退回，不能重复确认"})
    received = _quantity(received, "received", allow_zero=True)
    if received > delivery.quantity:
        raise ValidationError({"received": f"本批只发出{delivery.quantity}{resource.unit}，签收数不能多于此数"})
    if method not in ConfirmationMethod.values:
        raise ValidationError({"method": "请选择确认方式"})
    recipient_name = _text(recipient_name, "recipient_name", "请填写签收人姓名", limit=100)
    if method == ConfirmationMethod.CODE and not check_password((code or "").strip(), delivery.receipt_code_hash):
        raise ValidationError({"code": "收货码不对，请向收货人核实"})
    if method == ConfirmationMethod.PROXY and not (note or "").strip():
        raise ValidationError({"note": "代收请注明代收人与收货人的关系"})
    missing = delivery.quantity - received
    if missing and shortfall not in ("returned", "lost"):
        raise ValidationError({"shortfall": "请说明未送达部分是退回库存还是遗失"})
    if missing and shortfall == "lost" and not (note or "").strip():
        raise ValidationError({"note": "遗失须写明情况"})
    before = snapshot(delivery)
    delivery.received_quantity = received
    delivery.recipient_name, delivery.method = recipient_name, method
    delivery.confirmed_by, delivery.confirmed_at = actor, timezone.now()
    delivery.note = (note or "").strip()[:300]
    delivery.status = DeliveryStatus.CONFIRMED if received else DeliveryStatus.RETURNED
    _save_changed(delivery, before, actor, note=f"签收{received}/{delivery.quantity}{resource.unit}（{delivery.get_method_display()}）")
    if missing:
        if shortfall == "returned":
            _move(actor=actor, resource=resource, kind=MovementKind.RETURN, quantity=missing, allocation=allocation,
                  delivery=delivery, reason=f"{_need_ref(need)}未送达部分退回")
        else:
            # The goods left the stock at dispatch; the loss is recorded, not moved again.
            audit_record(actor=actor, action=AuditAction.UPDATE, obj=delivery,
                         note=f"遗失{missing}{resource.unit}：{delivery.note}")
    _refresh_need(need)
    if need.case_id and received:
        _tell_case(actor, need, f"{resource.name}{received}{resource.unit}已送达，由{recipient_name}签收")
    return delivery


@transaction.atomic
def delivery_return(*, actor, delivery: Delivery, quantity, reason: str) -> Delivery:
    """After receipt, part comes back (surplus, wrong item): it returns to stock and the need
    counts it as not delivered."""
    reason = _text(reason, "reason", "请写明退回原因", limit=300)
    found = access_object(Delivery.objects.all(), actor, "resources.confirm_delivery", pk=delivery.pk)
    resource, need, allocation = _lock_allocation(actor, found.allocation_id, "resources.view_allocation")
    delivery = Delivery.objects.select_for_update().get(pk=found.pk)
    if delivery.status != DeliveryStatus.CONFIRMED:
        raise ValidationError({"delivery": "只有已签收的批次可以退回"})
    quantity = _quantity(quantity)
    kept = delivery.received_quantity - delivery.returned_quantity
    if quantity > kept:
        raise ValidationError({"quantity": f"该批次签收后尚在的只有{kept}{resource.unit}"})
    before = snapshot(delivery)
    delivery.returned_quantity += quantity
    _save_changed(delivery, before, actor, note=f"退回{quantity}{resource.unit}：{reason}")
    _move(actor=actor, resource=resource, kind=MovementKind.RETURN, quantity=quantity, allocation=allocation,
          delivery=delivery, reason=f"{_need_ref(need)}退回：{reason}")
    if need.status == NeedStatus.DELIVERED:
        Need.objects.filter(pk=need.pk).update(status=NeedStatus.OPEN)
        need.status = NeedStatus.OPEN
    _refresh_need(need)
    return delivery


@transaction.atomic
def need_close(*, actor, need: Need, note: str, cancel: bool = False) -> Need:
    """Close a need short (met another way, no longer needed) or cancel it; what is reserved and
    not dispatched goes back to stock."""
    note = _text(note, "note", "请写明关闭原因", limit=300)
    found = access_object(Need.objects.all(), actor, "resources.change_need", pk=need.pk)
    allocations = list(Allocation.objects.filter(need=found, quantity__gt=0).order_by("resource_id"))
    for allocation in allocations:  # resource locks first, in a fixed order
        Resource.objects.select_for_update().get(pk=allocation.resource_id)
    need = Need.objects.select_for_update(of=("self",)).select_related("village", "town").get(pk=found.pk)
    if not need.is_open:
        raise ValidationError({"need": f"该需求已{need.get_status_display()}"})
    if Delivery.objects.filter(allocation__need=need, status=DeliveryStatus.UNDER_WAY).exists():
        raise ValidationError({"need": "还有在途的批次，请先确认签收或退回"})
    for allocation in allocations:
        allocation = Allocation.objects.select_for_update().get(pk=allocation.pk)
        resource = Resource.objects.get(pk=allocation.resource_id)
        quantity = allocation.quantity
        before = snapshot(allocation)
        allocation.quantity = 0
        allocation.status = AllocationStatus.DISPATCHED if allocation.dispatched else AllocationStatus.RELEASED
        _save_changed(allocation, before, actor, note="需求关闭，释放预留")
        _move(actor=actor, resource=resource, kind=MovementKind.RELEASE, quantity=quantity, allocation=allocation,
              reason=f"{_need_ref(need)}关闭，释放预留")
    before = snapshot(need)
    need.status = NeedStatus.CANCELLED if cancel else NeedStatus.CLOSED
    need.closed_note, need.closed_at = note, timezone.now()
    need.save(update_fields=["status", "closed_note", "closed_at"])
    _refresh_need(need)
    audit_record(actor=actor, action=AuditAction.UPDATE, obj=need, before=before, after=snapshot(need), note=note)
    return need


def _tell_case(actor, need: Need, note: str) -> None:
    """Tell the case what became of its need, when the actor may read it; otherwise ask the one
    who raised the need (who could) to tell it."""
    if can(actor, "cases.view_case", need.case):
        case_record_linked(actor=actor, case=need.case, kind="dispatch_delivered", note=note)
        return
    _notify({need.raised_by_id}, "dispatch_tell_case",
            f"【{SITE}】请在事项{need.case.number or '编号待定'}的办理记录中告知群众：{note}")



# ---- a pairing's resource list, pooled into the one inventory -------------------------------
# linking.services calls these after its own checks (the liaison acts for their side of the
# pairing and may hold no inventory permission): the pairing's item and its inventory entry are
# one resource, its capacity a ledger here like any other stock.

def _pairing_move(actor, resource_id: int, kind: str, quantity: int, reason: str, on_hand_delta=None) -> None:
    resource = Resource.objects.select_for_update(of=("self",)).get(pk=resource_id)
    _move(actor=actor, resource=resource, kind=kind, quantity=quantity, reason=reason, on_hand_delta=on_hand_delta)


@transaction.atomic
def pool_from_pairing(*, actor, kind: str, name: str, unit: str, owner_name: str, place: Region, quantity: int,
                      conditions: str = "", owner_department: Department | None = None,
                      pairing_title: str = "") -> Resource:
    resource = Resource(kind=kind, name=name[:150], unit=unit[:20], owner_name=owner_name[:150],
                        owner_department=owner_department, place=place, source="paired",
                        allocation="project", conditions=(conditions or f"结对共建资源（{pairing_title}）")[:300],
                        registered_by=actor, **_territory_of(place))
    resource.full_clean()
    resource.save()
    audit_record(actor=actor, action=AuditAction.CREATE, obj=resource, after=snapshot(resource),
                 note=f"结对共建资源入库：{pairing_title}"[:200])
    _move(actor=actor, resource=resource, kind=MovementKind.STOCK_IN, quantity=_quantity(quantity),
          reason=f"结对共建资源清单登记（{pairing_title}）"[:300])
    return resource


def pairing_commit(*, actor, resource_id: int, quantity: int, project_title: str) -> None:
    """A pairing project takes part of the resource: reserved in the inventory too."""
    _pairing_move(actor, resource_id, MovementKind.RESERVE, quantity, f"结对项目“{project_title}”使用")


def pairing_finish(*, actor, resource_id: int, quantity: int, project_title: str, consumed: bool) -> None:
    """The project is done: funds and materials were used up (dispatched); a venue, a team or a
    data service is free again (released)."""
    kind = MovementKind.DISPATCH if consumed else MovementKind.RELEASE
    _pairing_move(actor, resource_id, kind, quantity, f"结对项目“{project_title}”办结"
                                                      f"{'，已使用' if consumed else '，释放'}")


def pairing_recount(*, actor, resource_id: int, capacity: int, retired: bool, note: str) -> None:
    """The pairing corrected its item's capacity or withdrew it."""
    resource = Resource.objects.select_for_update(of=("self",)).get(pk=resource_id)
    delta = capacity - resource.on_hand
    if delta:
        _move(actor=actor, resource=resource, kind=MovementKind.CORRECTION, quantity=abs(delta),
              on_hand_delta=delta, reason=f"结对资源清单更正：{note}"[:300])
    availability = Availability.RETIRED if retired else Availability.AVAILABLE
    if resource.availability != availability:
        Resource.objects.filter(pk=resource.pk).update(availability=availability)
