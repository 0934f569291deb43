"""Resources and dispatch (DOMAIN.md §3.6): one inventory, its stock ledger, and the loop from a
need to a delivery the recipient confirmed.

* ``Resource`` — one entry of the county's one inventory: funds, materials, data services, venues
  (idle schools and collective buildings offered as service venues) and professional forces, each
  with its owner, place, unit, availability and conditions, where it was pooled from and how it is
  allocated. A pairing's resource list (``linking.ResourceItem``) is pooled here too: the pairing
  item points at its inventory entry, so there is one inventory, not two.
* ``StockMovement`` — the ledger. Quantities are never edited in place: every change is a row with
  its kind, its two deltas (on hand, reserved) and its reason; the resource's ``on_hand`` and
  ``reserved`` are the sums of its rows, kept beside them under the resource's row lock (a test
  and ``selectors.ledger_mismatches`` check they agree). The table is append-only in the database.
* ``Need`` — something a household, a village or a project needs, raised from a case, a care plan,
  a village meeting, a pairing's need list, or directly; graded by priority (emergency, basic
  livelihood, other), which orders the dispatch queue and limits what lower grades may take.
* ``Allocation`` — a reservation of part of a resource for a need, with the ranking's explanation.
* ``Delivery`` — a dispatch of part of an allocation, confirmed by its recipient (signature on the
  handset, the code sent to them, a phone call, or a named proxy), with partial receipt and
  returns.

Every row carries the cached territory columns of its place and is read through the one scoping
mechanism (``ScopedManager``).
"""
from __future__ import annotations

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from gongzhi.core.scoping import (
    ScopedManager, ScopeRule, in_grant_county, in_grid_village, in_territory, of_department,
)
from gongzhi.registry.models import TerritoryMixin

USER = settings.AUTH_USER_MODEL


class Kind(models.TextChoices):
    FUNDS = "funds", _("Funds (资金)")
    MATERIAL = "material", _("Materials (物资)")
    DATA = "data", _("Data service (数据服务)")
    VENUE = "venue", _("Venue (场地)")
    FORCE = "force", _("Professional force (专业力量)")


class Source(models.TextChoices):
    """Where a resource was pooled from (资源整合渠道)."""
    BUDGET = "budget", _("Public budget (财政预算)")
    DONATION = "donation", _("Donation (社会捐赠)")
    SOCIAL_ENTERPRISE = "social", _("Social enterprise (社会企业)")
    FIRM = "firm", _("Firm (企业)")
    PAIRED_AGENCY = "paired", _("Paired agency (结对单位)")
    VOLUNTEERS = "volunteers", _("Volunteers (志愿者)")
    COLLECTIVE = "collective", _("Village collective (村集体)")


class AllocationMode(models.TextChoices):
    """How a resource is allocated (配置方式)."""
    PROJECT = "project", _("By project (项目制)")
    VENTURE = "venture", _("Venture philanthropy (公益创投)")
    PURCHASE = "purchase", _("Purchase of services (政府购买服务)")
    DIRECT = "direct", _("Direct allocation (直接调拨)")


class Availability(models.TextChoices):
    AVAILABLE = "available", _("Available")
    SUSPENDED = "suspended", _("Suspended for now")
    RETIRED = "retired", _("Retired from the inventory")


def _inventory_rule(grant) -> Q:
    """A region grant reaches the resources placed in its territory and its county's shared pool
    (resources placed at the county itself, with no town): a village draws on the county's stock."""
    q = grant.territory_q(county="county_id", town="town_id", village="village_id")
    if grant.county_id:
        q |= Q(county_id=grant.county_id, town__isnull=True)
    return q


# Who keeps a resource — may change it, move its stock and draw on it for a need: the region it is
# placed in (and the regions above), the grid's village, its owning department. Narrower than
# reading: a village reads the county's pool but only the county (or its dispatcher) draws on it.
KEEPER_RULE = ScopeRule(region=in_territory(), grid=in_grid_village(), department=of_department("owner_department_id"))


class Resource(TerritoryMixin):
    kind = models.CharField(_("type"), max_length=10, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=150)
    unit = models.CharField(_("unit"), max_length=20, help_text=_("e.g. 元, 袋, 床, 次/月, 人"))
    owner_name = models.CharField(_("owner"), max_length=150)
    owner_department = models.ForeignKey("registry.Department", null=True, blank=True, on_delete=models.PROTECT,
                                         related_name="+", verbose_name=_("owning department"))
    place = models.ForeignKey("registry.Region", on_delete=models.PROTECT, related_name="+",
                              verbose_name=_("kept at"))
    grid = models.ForeignKey("registry.Grid", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    address = models.CharField(_("address"), max_length=200, blank=True)
    source = models.CharField(_("pooled from"), max_length=12, choices=Source.choices)
    allocation = models.CharField(_("allocated by"), max_length=10, choices=AllocationMode.choices)
    emergency_reserve = models.BooleanField(
        _("emergency reserve"), default=False,
        help_text=_("Only emergency needs may draw on an emergency reserve (应急储备)."))
    availability = models.CharField(_("availability"), max_length=10, choices=Availability.choices,
                                    default=Availability.AVAILABLE)
    available_from = models.DateField(_("available from"), null=True, blank=True)
    available_until = models.DateField(_("available until"), null=True, blank=True)
    conditions = models.CharField(_("conditions of use"), max_length=300, blank=True)
    # The sums of the ledger, kept beside it under this row's lock (see StockMovement).
    on_hand = models.BigIntegerField(_("on hand"), default=0)
    reserved = models.BigIntegerField(_("reserved"), default=0)
    registered_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager()
    scope_rule = ScopeRule(region=_inventory_rule, grid=in_grid_village(),
                           department=of_department("owner_department_id"))

    class Meta:
        ordering = ["kind", "name", "pk"]
        verbose_name = _("inventory resource")
        permissions = [("move_stock", "Can record stock movements (receive, write off, correct)")]
        constraints = [
            models.CheckConstraint(condition=Q(on_hand__gte=0), name="resources_resource_on_hand_gte_0"),
            models.CheckConstraint(condition=Q(reserved__gte=0) & Q(reserved__lte=F("on_hand")),
                                   name="resources_resource_reserved_within_on_hand"),
            models.CheckConstraint(condition=Q(available_until__isnull=True) | Q(available_from__isnull=True)
                                   | Q(available_until__gte=F("available_from")),
                                   name="resources_resource_availability_window"),
        ]
        indexes = [models.Index(fields=["county", "kind", "availability"]),
                   models.Index(fields=["town", "kind"]), models.Index(fields=["village", "kind"])]

    def __str__(self):
        return self.name

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved


class MovementKind(models.TextChoices):
    STOCK_IN = "in", _("Stock in (入库)")
    RESERVE = "reserve", _("Reserved for a need (预留)")
    RELEASE = "release", _("Reservation released (释放预留)")
    DISPATCH = "dispatch", _("Dispatched (出库发放)")
    RETURN = "return", _("Returned to stock (退回入库)")
    WRITE_OFF = "write_off", _("Written off (核销)")
    CORRECTION = "correction", _("Stocktake correction (盘点更正)")


# What each kind of movement may do to the two balances: the sign of (on hand, reserved);
# 0 means it leaves that balance alone, None that either sign is allowed.
MOVEMENT_SIGNS = {
    MovementKind.STOCK_IN: (1, 0), MovementKind.RESERVE: (0, 1), MovementKind.RELEASE: (0, -1),
    MovementKind.DISPATCH: (-1, -1), MovementKind.RETURN: (1, 0), MovementKind.WRITE_OFF: (-1, 0),
    MovementKind.CORRECTION: (None, 0),
}


class StockMovement(TerritoryMixin):
    """One line of the stock ledger (append-only in the database: migration 0002)."""

    resource = models.ForeignKey(Resource, on_delete=models.PROTECT, related_name="movements")
    kind = models.CharField(_("movement"), max_length=10, choices=MovementKind.choices)
    on_hand_delta = models.BigIntegerField(_("change on hand"))
    reserved_delta = models.BigIntegerField(_("change reserved"), default=0)
    reason = models.CharField(_("reason"), max_length=300)
    allocation = models.ForeignKey("resources.Allocation", null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="movements")
    delivery = models.ForeignKey("resources.Delivery", null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="movements")
    actor = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager()
    # Whoever may read the resource may read its ledger (the same columns are cached here).
    scope_rule = ScopeRule(region=_inventory_rule, grid=in_grid_village(), department=lambda g: Q(
        resource__owner_department_id=g.department_id))

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name = _("stock movement")
        constraints = [models.CheckConstraint(condition=~Q(on_hand_delta=0) | ~Q(reserved_delta=0),
                                              name="resources_movement_moves_something")]

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("stock movements are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("stock movements are append-only")


class Priority(models.IntegerChoices):
    """The dispatch order: emergencies first, then basic livelihood, then the rest (§3.6)."""
    EMERGENCY = 1, _("Emergency (应急)")
    LIVELIHOOD = 2, _("Basic livelihood (基本民生)")
    GENERAL = 3, _("Other (一般)")


class NeedSource(models.TextChoices):
    CASE = "case", _("A resident's matter")
    CARE_PLAN = "care_plan", _("A household's care plan")
    MEETING = "meeting", _("A village meeting")
    PAIRING = "pairing", _("A pairing's need list")
    DIRECT = "direct", _("Raised directly")


class NeedStatus(models.TextChoices):
    OPEN = "open", _("Waiting for resources")
    RESERVED = "reserved", _("Fully reserved")
    DELIVERING = "delivering", _("Being delivered")
    DELIVERED = "delivered", _("Delivered")
    CLOSED = "closed", _("Closed short")
    CANCELLED = "cancelled", _("Cancelled")


OPEN_NEED_STATUSES = (NeedStatus.OPEN, NeedStatus.RESERVED, NeedStatus.DELIVERING)


class Need(TerritoryMixin):
    title = models.CharField(_("need"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    kind = models.CharField(_("type of resource wanted"), max_length=10, choices=Kind.choices)
    quantity = models.PositiveBigIntegerField(_("quantity wanted"), validators=[MinValueValidator(1)])
    unit = models.CharField(_("unit"), max_length=20)
    priority = models.PositiveSmallIntegerField(_("priority"), choices=Priority.choices, default=Priority.GENERAL)
    emergency_note = models.CharField(_("what makes it urgent"), max_length=300, blank=True)
    place = models.ForeignKey("registry.Region", on_delete=models.PROTECT, related_name="+",
                              verbose_name=_("where"))
    grid = models.ForeignKey("registry.Grid", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    household = models.ForeignKey("registry.Household", null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="+")
    recipient_name = models.CharField(_("recipient"), max_length=100, blank=True)
    needed_by = models.DateField(_("needed by"), null=True, blank=True)
    source = models.CharField(_("raised from"), max_length=10, choices=NeedSource.choices)
    case = models.ForeignKey("cases.Case", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    care_plan = models.ForeignKey("care.CarePlan", null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="+")
    meeting = models.ForeignKey("village.Meeting", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    # A pairing's need (linking.NeedItem) sits above this app: it points here (``dispatch_need``);
    # this id is kept for the ledger's own record of where the need came from.
    pairing_need_id = models.PositiveBigIntegerField(null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=NeedStatus.choices, default=NeedStatus.OPEN)
    # Sums over the need's allocations and deliveries, kept under the need's row lock.
    reserved_quantity = models.PositiveBigIntegerField(_("reserved"), default=0)
    delivered_quantity = models.PositiveBigIntegerField(_("delivered"), default=0)
    closed_note = models.CharField(_("why closed"), max_length=300, blank=True)
    raised_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    raised_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedManager()
    # A department that keeps stock serves the whole county's queue, so it reads the county's needs.
    scope_rule = ScopeRule(region=in_territory(), grid=in_grid_village(), department=in_grant_county())

    class Meta:
        ordering = ["priority", "needed_by", "raised_at", "pk"]
        verbose_name = _("need")
        constraints = [
            models.CheckConstraint(condition=Q(delivered_quantity__lte=F("quantity")),
                                   name="resources_need_delivered_within_quantity"),
            models.CheckConstraint(condition=~Q(priority=1) | ~Q(emergency_note=""),
                                   name="resources_need_emergency_says_why"),
        ]
        indexes = [
            # The dispatch queue: open needs by priority (a partial index: closed needs are most rows).
            models.Index(fields=["county", "kind", "priority", "raised_at"], name="resources_need_queue",
                         condition=Q(status__in=["open", "reserved", "delivering"])),
        ]

    def __str__(self):
        return self.title

    @property
    def outstanding(self) -> int:
        """What is neither delivered nor reserved yet: what the queue still has to find."""
        return max(self.quantity - self.delivered_quantity - self.reserved_quantity, 0)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_NEED_STATUSES


class AllocationStatus(models.TextChoices):
    RESERVED = "reserved", _("Reserved")
    DISPATCHING = "dispatching", _("Partly dispatched")
    DISPATCHED = "dispatched", _("Dispatched in full")
    RELEASED = "released", _("Released")


class Allocation(TerritoryMixin):
    """Part of a resource reserved for a need (响应). ``quantity`` is what is reserved and not yet
    dispatched; ``dispatched`` what left the stock for this need; releasing lowers ``quantity``."""

    need = models.ForeignKey(Need, on_delete=models.PROTECT, related_name="allocations")
    resource = models.ForeignKey(Resource, on_delete=models.PROTECT, related_name="allocations")
    quantity = models.PositiveBigIntegerField(_("reserved, not yet dispatched"))
    dispatched = models.PositiveBigIntegerField(_("dispatched"), default=0)
    status = models.CharField(_("status"), max_length=12, choices=AllocationStatus.choices,
                              default=AllocationStatus.RESERVED)
    score = models.IntegerField(_("match score"), default=0)
    explanation = models.JSONField(_("why this resource"), default=list)
    reserved_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    reserved_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager()
    # Reached from the need's side (its territory is cached here), never from the resource's: a
    # village drawing on the county pool must not read what other villages' households received.
    # The owning department dispatches its own stock.
    scope_rule = ScopeRule(region=in_territory(), grid=in_grid_village(),
                           department=of_department("resource__owner_department_id"))

    class Meta:
        ordering = ["-reserved_at", "-pk"]
        verbose_name = _("allocation")

    def __str__(self):
        return f"{self.resource} → {self.need}"


class ConfirmationMethod(models.TextChoices):
    SIGNED = "signed", _("Signed on the handset (当面签收)")
    CODE = "code", _("Receipt code sent to the recipient (收货码)")
    PHONE = "phone", _("Confirmed by phone (电话确认)")
    PROXY = "proxy", _("Received by a named proxy (代收)")


class DeliveryStatus(models.TextChoices):
    UNDER_WAY = "under_way", _("Under way")
    CONFIRMED = "confirmed", _("Confirmed by the recipient")
    RETURNED = "returned", _("Returned undelivered")


class Delivery(TerritoryMixin):
    allocation = models.ForeignKey(Allocation, on_delete=models.PROTECT, related_name="deliveries")
    quantity = models.PositiveBigIntegerField(_("sent"), validators=[MinValueValidator(1)])
    carrier = models.CharField(_("carried by"), max_length=100, blank=True)
    sent_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    sent_at = models.DateTimeField(auto_now_add=True)
    # A six-digit code for the recipient, stored hashed; they give it to whoever hands over the goods.
    receipt_code_hash = models.CharField(max_length=128, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=DeliveryStatus.choices,
                              default=DeliveryStatus.UNDER_WAY)
    received_quantity = models.PositiveBigIntegerField(_("received"), null=True, blank=True)
    returned_quantity = models.PositiveBigIntegerField(_("returned"), default=0)
    recipient_name = models.CharField(_("received by"), max_length=100, blank=True)
    method = models.CharField(_("confirmed by"), max_length=10, choices=ConfirmationMethod.choices, blank=True)
    confirmed_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    confirmed_at = models.DateTimeField(null=True, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)

    objects = ScopedManager()
    scope_rule = ScopeRule(region=in_territory(), grid=in_grid_village(),
                           department=of_department("allocation__resource__owner_department_id"))

    class Meta:
        ordering = ["-sent_at", "-pk"]
        verbose_name = _("delivery")
        permissions = [("confirm_delivery", "Can record a recipient's confirmation of a delivery")]
        constraints = [
            models.CheckConstraint(condition=Q(received_quantity__isnull=True) | Q(received_quantity__lte=F("quantity")),
                                   name="resources_delivery_received_within_sent"),
            models.CheckConstraint(condition=Q(returned_quantity__lte=F("quantity")),
                                   name="resources_delivery_returned_within_sent"),
        ]

    def __str__(self):
        return f"{self.allocation} ×{self.quantity}"

