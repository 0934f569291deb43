"""The county registry: territory, grids, households, persons, party organisations, deputies,
central household heads, departments.

Conventions
* Territory is cached on every row that holds people's data (``county``, ``town``, ``village``,
  copied down from the region tree, as NetBox's ``CachedScopeMixin`` does), so "everything under
  town X" is a single indexed equality filter. Services keep the copies in sync.
* Households store *facts* (income, poverty status, peaceful-family years; per person: left
  behind, disability, released from prison), never conclusions such as a colour class.
* Every model holding people's data uses ``ScopedManager`` and declares ``scope_rule`` (which rows
  each kind of grant reaches; see ``core.scoping.ScopeRule``).
"""
from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from gongzhi.core.scoping import (
    ScopedManager, ScopeRule, in_grant_county, in_grid_village, in_territory, of_department, of_person, through_rule,
    under_grid,
)

from .geometry import validate_outline


class RegionLevel(models.IntegerChoices):
    COUNTY = 1, _("County / district")
    TOWN = 2, _("Town / subdistrict")
    VILLAGE = 3, _("Village / community")
    GROUP = 4, _("Villager group / compound")


class RegionKind(models.TextChoices):
    COUNTY = "county", _("County")
    DISTRICT = "district", _("District")
    TOWN = "town", _("Town")
    TOWNSHIP = "township", _("Township")
    SUBDISTRICT = "subdistrict", _("Subdistrict")
    VILLAGE = "village", _("Administrative village")
    COMMUNITY = "community", _("Community")
    VILLAGER_GROUP = "villager_group", _("Villager group")
    COMPOUND = "compound", _("Residential compound")


KIND_LEVEL = {
    "county": 1, "district": 1, "town": 2, "township": 2, "subdistrict": 2,
    "village": 3, "community": 3, "villager_group": 4, "compound": 4,
}

division_code_validator = RegexValidator(
    r"^\d{12}(\d{3})?$", _("A division code has 12 digits (15 for a villager group or compound).")
)


class TerritoryMixin(models.Model):
    """Cached ancestors. ``region`` is the most specific region the row belongs to."""

    county = models.ForeignKey("registry.Region", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    town = models.ForeignKey("registry.Region", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    village = models.ForeignKey("registry.Region", null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        abstract = True

    def copy_territory_from(self, region: "Region | None") -> None:
        if region is None:
            self.county_id = self.town_id = self.village_id = None
            return
        self.county_id = region.county_id
        self.town_id = region.town_id
        self.village_id = region.village_id


class GeometryMixin(models.Model):
    """Where a region or grid is on the map (``gongzhi.registry.geometry``): a centre and an
    outline, each optional (a map shows what it has). WGS84; the outline is a GeoJSON Polygon or
    MultiPolygon geometry object in ``[lng, lat]`` order."""

    lat = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6, null=True, blank=True,
                              validators=[MinValueValidator(-90), MaxValueValidator(90)])
    lng = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6, null=True, blank=True,
                              validators=[MinValueValidator(-180), MaxValueValidator(180)])
    outline = models.JSONField(_("outline"), null=True, blank=True, validators=[validate_outline],
                               help_text=_("A GeoJSON Polygon or MultiPolygon in WGS84 longitude/latitude."))

    class Meta:
        abstract = True

    def clean(self):
        super().clean()
        if (self.lat is None) != (self.lng is None):
            raise ValidationError({"lat": "经度和纬度要么都填，要么都不填"})

    def save(self, *args, **kwargs):
        # The outline is checked on every save, not only in full_clean: a broken polygon would
        # break the map for everyone who can see it. (Rows without geometry cost nothing here.)
        update_fields = kwargs.get("update_fields")
        if self.outline is not None and (update_fields is None or "outline" in update_fields):
            try:
                validate_outline(self.outline)
            except ValidationError as exc:
                raise ValidationError({"outline": exc.messages}) from None
        super().save(*args, **kwargs)


def _contacted_households(grant):
    """Households a three-line person is currently in touch with (a subquery)."""
    return ContactAssignment.objects.filter(person_id=grant.person_id, ended_on__isnull=True).values("household_id")


class Region(GeometryMixin, TerritoryMixin):
    """A node of the administrative tree. Its own id is in the column of its own level."""

    code = models.CharField(_("division code"), max_length=15, unique=True, validators=[division_code_validator])
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=20, choices=RegionKind.choices)
    level = models.PositiveSmallIntegerField(_("level"), choices=RegionLevel.choices, db_index=True)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    population = models.PositiveIntegerField(_("registered population"), null=True, blank=True)

    objects = ScopedManager()

    class Meta:
        ordering = ["code"]
        verbose_name = _("region")
        verbose_name_plural = _("regions")

    def __str__(self):
        return self.name

    @property
    def full_name(self) -> str:
        names = [r.name for r in self.ancestors()] + [self.name]
        return "".join(names[1:]) if len(names) > 1 else self.name

    def ancestors(self) -> list["Region"]:
        chain, node = [], self.parent
        while node is not None:
            chain.append(node)
            node = node.parent
        return list(reversed(chain))

    scope_rule = ScopeRule(region=in_territory(region="pk"), grid=in_grid_village("pk"))


class Grid(GeometryMixin, TerritoryMixin):
    """A grid (网格). Level 1 = the village or a section, 2 = a villager group, 3 = part of a group.

    ``path`` is "/<root id>/<child id>/.../" so a grid's sub-grids are one prefix filter.
    Households belong to *basic* grids, the grids with no sub-grids.
    """

    code = models.CharField(_("grid code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)
    level = models.PositiveSmallIntegerField(_("level"), choices=[(1, "一级网格"), (2, "二级网格"), (3, "三级网格")])
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="grids",
                               help_text=_("The village/community, or the villager group the grid covers."))
    path = models.CharField(max_length=100, blank=True, db_index=True)
    head = models.ForeignKey("registry.Person", null=True, blank=True, on_delete=models.SET_NULL, related_name="headed_grids")
    worker = models.ForeignKey("registry.Person", null=True, blank=True, on_delete=models.SET_NULL, related_name="worked_grids")

    objects = ScopedManager()

    class Meta:
        ordering = ["code"]
        verbose_name = _("grid")
        verbose_name_plural = _("grids")

    def __str__(self):
        return self.name

    scope_rule = ScopeRule(
        region=in_territory(region="region_id"), grid=under_grid("path"),
        contacts=lambda g: Q(pk__in=Household.objects.filter(pk__in=_contacted_households(g)).values("grid_id")))


class PovertyStatus(models.TextChoices):
    NONE = "none", _("Not registered")
    LIFTED = "lifted", _("Lifted out of poverty (脱贫户)")
    MONITORED = "monitored", _("Monitored for return to poverty (监测户)")
    LOW_INCOME = "low_income", _("Subsistence allowance (低保户)")
    EXTREME = "extreme", _("Extreme poverty support (特困户)")


class Household(TerritoryMixin):
    """一户一档: a household and the facts later modules classify on."""

    code = models.CharField(_("household number"), max_length=32, unique=True)
    address = models.CharField(_("address"), max_length=200)
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="households")
    grid = models.ForeignKey(Grid, null=True, blank=True, on_delete=models.PROTECT, related_name="households")
    annual_income = models.DecimalField(_("annual household income (CNY)"), max_digits=12, decimal_places=2,
                                        null=True, blank=True, validators=[MinValueValidator(0)])
    poverty_status = models.CharField(_("poverty status"), max_length=16, choices=PovertyStatus.choices,
                                      default=PovertyStatus.NONE)
    peaceful_family_years = models.JSONField(_("peaceful-family years"), default=list, blank=True,
                                             help_text=_("Years the household was rated a peaceful family (平安家庭)."))
    notes = models.TextField(_("notes"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedManager()

    class Meta:
        ordering = ["code"]
        verbose_name = _("household")
        verbose_name_plural = _("households")
        permissions = []

    def __str__(self):
        head = self.head
        return f"{self.code} {head.name}户" if head else self.code

    @property
    def head(self):
        cache = getattr(self, "_head_cache", "unset")
        if cache == "unset":
            members = getattr(self, "_prefetched_objects_cache", {}).get("members")
            if members is not None:
                cache = next((m for m in members if m.relation == Relation.HEAD), None)
            else:
                cache = self.members.filter(relation=Relation.HEAD).first()
            self._head_cache = cache
        return cache

    scope_rule = ScopeRule(region=in_territory(region="region_id"), grid=under_grid("grid__path"),
                           contacts=lambda g: Q(pk__in=_contacted_households(g)))


class Relation(models.TextChoices):
    HEAD = "head", _("Head of household (户主)")
    SPOUSE = "spouse", _("Spouse (配偶)")
    CHILD = "child", _("Child (子女)")
    PARENT = "parent", _("Parent (父母)")
    GRANDCHILD = "grandchild", _("Grandchild (孙子女)")
    GRANDPARENT = "grandparent", _("Grandparent (祖父母)")
    SIBLING = "sibling", _("Sibling (兄弟姐妹)")
    CHILD_IN_LAW = "child_in_law", _("Child-in-law (儿媳/女婿)")
    OTHER = "other", _("Other (其他)")


class LeftBehind(models.TextChoices):
    NONE = "", _("No")
    ELDERLY = "elderly", _("Left-behind elderly (留守老人)")
    CHILD = "child", _("Left-behind child (留守儿童)")
    WOMAN = "woman", _("Left-behind woman (留守妇女)")


class PersonStatus(models.TextChoices):
    ACTIVE = "active", _("Living in the household")
    MOVED_OUT = "moved_out", _("Moved out")
    DECEASED = "deceased", _("Deceased")


phone_validator = RegexValidator(r"^(1\d{10}|0\d{2,3}-?\d{7,8})$", _("Enter an 11-digit mobile or a landline number."))


class Person(TerritoryMixin):
    name = models.CharField(_("name"), max_length=50)
    name_initials = models.CharField(_("pinyin initials"), max_length=50, blank=True, db_index=True)
    id_number = models.CharField(_("resident ID number"), max_length=18, unique=True)
    birth_date = models.DateField(_("birth date"))
    sex = models.CharField(_("sex"), max_length=1, choices=[("M", _("Male")), ("F", _("Female"))])
    phone = models.CharField(_("phone"), max_length=20, blank=True, db_index=True, validators=[phone_validator])
    household = models.ForeignKey(Household, null=True, blank=True, on_delete=models.PROTECT, related_name="members")
    relation = models.CharField(_("relation to the head"), max_length=16, choices=Relation.choices, blank=True)
    region = models.ForeignKey(Region, null=True, blank=True, on_delete=models.PROTECT, related_name="persons",
                               help_text=_("Where the person is registered; follows the household."))
    status = models.CharField(_("status"), max_length=16, choices=PersonStatus.choices, default=PersonStatus.ACTIVE)
    left_behind = models.CharField(_("left behind"), max_length=10, choices=LeftBehind.choices, blank=True, default="")
    disability_grade = models.PositiveSmallIntegerField(_("disability grade"), null=True, blank=True,
                                                        choices=[(1, "一级"), (2, "二级"), (3, "三级"), (4, "四级")])
    released_on = models.DateField(_("released from prison on"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedManager()

    class Meta:
        ordering = ["household_id", "id"]
        verbose_name = _("person")
        verbose_name_plural = _("persons")
        permissions = [("reveal_person", "Can reveal masked ID numbers and phones")]
        indexes = [models.Index(fields=["name"])]

    def __str__(self):
        return self.name

    @property
    def age(self) -> int:
        import datetime as dt

        today = dt.date.today()
        return today.year - self.birth_date.year - ((today.month, today.day) < (self.birth_date.month, self.birth_date.day))

    scope_rule = ScopeRule(region=in_territory(region="region_id"), grid=under_grid("household__grid__path"),
                           contacts=lambda g: Q(household_id__in=_contacted_households(g)))


class HouseholdMembership(models.Model):
    """History of which household a person belonged to: one open row per person at most."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="memberships")
    household = models.ForeignKey(Household, on_delete=models.CASCADE, related_name="membership_history")
    relation = models.CharField(max_length=16, choices=Relation.choices, blank=True)
    started_on = models.DateField()
    ended_on = models.DateField(null=True, blank=True)
    reason = models.CharField(max_length=200, blank=True)

    objects = ScopedManager()

    class Meta:
        ordering = ["started_on", "id"]
        constraints = [
            models.UniqueConstraint(fields=["person"], condition=Q(ended_on__isnull=True), name="one_open_membership_per_person")
        ]

    scope_rule = through_rule("household", "registry.Household")


class Department(models.Model):
    """A functional department (条): 民政, 司法, 住建 …, and what it is responsible for."""

    name = models.CharField(_("name"), max_length=100)
    short_name = models.CharField(_("short name"), max_length=30, blank=True)
    county = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="departments")
    responsibilities = models.TextField(_("responsibilities"), blank=True)
    phone = models.CharField(_("office phone"), max_length=20, blank=True)

    objects = ScopedManager()

    class Meta:
        ordering = ["name"]
        unique_together = [("county", "name")]

    def __str__(self):
        return self.name

    @property
    def county_id_for_audit(self):
        return self.county_id

    scope_rule = ScopeRule(department=of_department("pk"),
                           # A territory's cadres see the departments of their county.
                           region=in_grant_county("county_id"))


class HostUnitKind(models.TextChoices):
    AGENCY = "agency", _("Government agency (机关)")
    STATE_FIRM = "state_firm", _("State-owned enterprise (国企)")
    SCHOOL = "school", _("School (学校)")
    ENTERPRISE = "enterprise", _("Private enterprise (企业)")
    SOCIAL_ORG = "social_org", _("Social organisation (社会组织)")


class HostUnit(TerritoryMixin):
    """An agency, state firm, school or enterprise that hosts a party organisation."""

    name = models.CharField(_("name"), max_length=150)
    kind = models.CharField(_("kind"), max_length=16, choices=HostUnitKind.choices)
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="host_units")

    objects = ScopedManager()

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    scope_rule = ScopeRule(region=in_territory(region="region_id"))


class PartyOrgKind(models.TextChoices):
    COMMITTEE = "committee", _("Party committee (党委)")
    GENERAL_BRANCH = "general_branch", _("General branch (党总支)")
    BRANCH = "branch", _("Branch (党支部)")
    GROUP = "group", _("Party group (党小组)")


class PartyOrganization(TerritoryMixin):
    name = models.CharField(_("name"), max_length=150)
    kind = models.CharField(_("kind"), max_length=16, choices=PartyOrgKind.choices)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="party_organizations",
                               help_text=_("The territory the organisation sits in."))
    host_unit = models.ForeignKey(HostUnit, null=True, blank=True, on_delete=models.PROTECT, related_name="party_organizations")
    secretary = models.ForeignKey(Person, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    objects = ScopedManager()

    class Meta:
        ordering = ["region__code", "name"]

    def __str__(self):
        return self.name

    scope_rule = ScopeRule(region=in_territory(region="region_id"))


class PartyMembership(TerritoryMixin):
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="party_memberships")
    organization = models.ForeignKey(PartyOrganization, on_delete=models.PROTECT, related_name="memberships")
    joined_on = models.DateField(_("joined on"), null=True, blank=True)
    is_probationary = models.BooleanField(_("probationary member"), default=False)
    in_service = models.BooleanField(_("in-service member (在职党员)"), default=False)
    ended_on = models.DateField(null=True, blank=True)

    objects = ScopedManager()

    class Meta:
        ordering = ["organization_id", "person_id"]

    def __str__(self):
        return f"{self.person} @ {self.organization}"

    scope_rule = ScopeRule(region=in_territory())


class DeputyLevel(models.TextChoices):
    NATIONAL = "national", _("National")
    PROVINCIAL = "provincial", _("Provincial")
    CITY = "city", _("City")
    COUNTY = "county", _("County")
    TOWN = "town", _("Town")


class Deputy(TerritoryMixin):
    """A people's-congress deputy (人大代表)."""

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="deputy_terms")
    level = models.CharField(_("level"), max_length=16, choices=DeputyLevel.choices)
    constituency = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="deputies")
    term = models.CharField(_("term"), max_length=30, blank=True)
    liaison_station = models.CharField(_("liaison station"), max_length=100, blank=True)

    objects = ScopedManager()

    class Meta:
        verbose_name_plural = "deputies"

    def __str__(self):
        return f"{self.person}（{self.get_level_display()}人大代表）"

    scope_rule = ScopeRule(region=in_territory())


class CentralHouseholdHead(TerritoryMixin):
    """A central household head (中心户长) and the grid or area they serve."""

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="central_head_terms")
    grid = models.ForeignKey(Grid, null=True, blank=True, on_delete=models.SET_NULL, related_name="central_heads")
    since = models.DateField(null=True, blank=True)

    objects = ScopedManager()

    def __str__(self):
        return f"{self.person}（中心户长）"

    scope_rule = ScopeRule(region=in_territory(), grid=under_grid("grid__path"))


class ContactLine(models.TextChoices):
    PARTY_MEMBER = "party_member", _("Party member (党员)")
    DEPUTY = "deputy", _("Deputy (人大代表)")
    CENTRAL_HEAD = "central_head", _("Central household head (中心户长)")


class ContactAssignment(TerritoryMixin):
    """A three-line person keeps in touch with a household. Ended rows are the history."""

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="contact_assignments")
    household = models.ForeignKey(Household, on_delete=models.CASCADE, related_name="contacts")
    line = models.CharField(_("line"), max_length=16, choices=ContactLine.choices)
    started_on = models.DateField()
    ended_on = models.DateField(null=True, blank=True)

    objects = ScopedManager()

    class Meta:
        indexes = [models.Index(fields=["person", "ended_on"])]

    def __str__(self):
        return f"{self.person} → {self.household}"

    scope_rule = ScopeRule(region=in_territory(), grid=under_grid("household__grid__path"), contacts=of_person("person_id"))


class HouseholdFactsChange(models.Model):
    """A household whose facts changed and that the modules above the registry have not yet
    taken in (an outbox). Written in the same transaction as the change, so a committed change
    is never forgotten even when the listener fails or no worker runs; the care app consumes the
    rows (``care.reclassify_changed``) and deletes them. One row per household: a second change
    before the first is taken in only moves ``changed_at``."""

    household = models.OneToOneField(Household, on_delete=models.CASCADE, primary_key=True,
                                     related_name="+")
    changed_at = models.DateTimeField()
    # Who made the (latest) change: the reclassification's audit row names them.
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", db_constraint=False)

    class Meta:
        indexes = [models.Index(fields=["changed_at"])]
