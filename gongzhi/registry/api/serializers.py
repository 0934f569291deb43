"""Serializers of the registry API.

Two families, never mixed (HackSoft style):

* **Output** serializers (``*Serializer``) are read-only ``MaskedModelSerializer`` subclasses:
  any model field named ``id_number`` or ``phone`` is rendered masked by construction, nested
  members included. ``birth_date`` is deliberately not exposed: the masked ID number hides
  exactly its birth-date digits, and printing the date next to it would undo the mask (``age``
  and ``sex`` are what the work needs).
* **Input** serializers (``*CreateInput``/``*UpdateInput``) check types and resolve references
  *within the caller's write scope* (``ScopedPrimaryKeyField``); they have no ``create``/``update``
  methods. The view passes ``validated_data`` to the service, which validates the business rules
  (ID number check digit, one head per household …) and raises ``ValidationError`` in Chinese.
"""
from __future__ import annotations

from rest_framework import serializers

from gongzhi.core.api import MaskedModelSerializer, ScopedPrimaryKeyField
from gongzhi.registry.models import (
    CentralHouseholdHead, ContactAssignment, Department, Deputy, Grid, Household, HouseholdMembership,
    LeftBehind, PartyMembership, PartyOrganization, Person, PersonStatus, PovertyStatus, Region, Relation,
)

TERRITORY = ["county", "town", "village"]
DISABILITY_GRADES = Person._meta.get_field("disability_grade").choices


# ---------------------------------------------------------------------------------------------
# output


class PersonBriefSerializer(serializers.ModelSerializer):
    """A person named in another record (grid head, party member …): id and name only."""

    class Meta:
        model = Person
        fields = ["id", "name"]
        read_only_fields = fields


class HouseholdBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Household
        fields = ["id", "code"]
        read_only_fields = fields


class RegionSerializer(MaskedModelSerializer):
    class Meta:
        model = Region
        fields = ["id", "code", "name", "kind", "level", "parent", "population", *TERRITORY]
        read_only_fields = fields


class GridSerializer(MaskedModelSerializer):
    head = PersonBriefSerializer(read_only=True, allow_null=True)
    worker = PersonBriefSerializer(read_only=True, allow_null=True)

    class Meta:
        model = Grid
        fields = ["id", "code", "name", "level", "parent", "region", "path", "head", "worker", *TERRITORY]
        read_only_fields = fields


class PersonSerializer(MaskedModelSerializer):
    age = serializers.IntegerField(read_only=True)

    class Meta:
        model = Person
        fields = [
            "id", "name", "name_initials", "id_number", "sex", "age", "phone", "household", "relation",
            "region", "status", "left_behind", "disability_grade", "released_on", *TERRITORY,
            "created_at", "updated_at",
        ]
        read_only_fields = fields


class HouseholdSerializer(MaskedModelSerializer):
    head = PersonBriefSerializer(read_only=True, allow_null=True,
                                 help_text="The member recorded as head of household (户主).")
    peaceful_family_years = serializers.ListField(child=serializers.IntegerField(), read_only=True,
                                                  help_text="Years rated a peaceful family (平安家庭).")
    member_count = serializers.SerializerMethodField()

    class Meta:
        model = Household
        fields = [
            "id", "code", "address", "region", "grid", *TERRITORY, "annual_income", "poverty_status",
            "peaceful_family_years", "notes", "head", "member_count", "created_at", "updated_at",
        ]
        read_only_fields = fields

    def get_member_count(self, household) -> int:
        return len(household.members.all())  # prefetched by the view


class HouseholdDetailSerializer(HouseholdSerializer):
    members = PersonSerializer(many=True, read_only=True)

    class Meta(HouseholdSerializer.Meta):
        fields = [*HouseholdSerializer.Meta.fields, "members"]
        read_only_fields = fields


class HouseholdMembershipSerializer(MaskedModelSerializer):
    household = HouseholdBriefSerializer(read_only=True)

    class Meta:
        model = HouseholdMembership
        fields = ["id", "person", "household", "relation", "started_on", "ended_on", "reason"]
        read_only_fields = fields


class PartyOrganizationSerializer(MaskedModelSerializer):
    secretary = PersonBriefSerializer(read_only=True, allow_null=True)

    class Meta:
        model = PartyOrganization
        fields = ["id", "name", "kind", "parent", "region", "host_unit", "secretary", *TERRITORY]
        read_only_fields = fields


class PartyOrganizationBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = PartyOrganization
        fields = ["id", "name"]
        read_only_fields = fields


class PartyMembershipSerializer(MaskedModelSerializer):
    person = PersonBriefSerializer(read_only=True)
    organization = PartyOrganizationBriefSerializer(read_only=True)

    class Meta:
        model = PartyMembership
        fields = ["id", "person", "organization", "joined_on", "is_probationary", "in_service", "ended_on",
                  *TERRITORY]
        read_only_fields = fields


class DeputySerializer(MaskedModelSerializer):
    person = PersonBriefSerializer(read_only=True)

    class Meta:
        model = Deputy
        fields = ["id", "person", "level", "constituency", "term", "liaison_station", *TERRITORY]
        read_only_fields = fields


class CentralHouseholdHeadSerializer(MaskedModelSerializer):
    person = PersonBriefSerializer(read_only=True)

    class Meta:
        model = CentralHouseholdHead
        fields = ["id", "person", "grid", "since", *TERRITORY]
        read_only_fields = fields


class DepartmentSerializer(MaskedModelSerializer):
    class Meta:
        model = Department
        fields = ["id", "name", "short_name", "county", "responsibilities", "phone"]
        read_only_fields = fields


class ContactAssignmentSerializer(MaskedModelSerializer):
    person = PersonBriefSerializer(read_only=True)
    household = HouseholdBriefSerializer(read_only=True)

    class Meta:
        model = ContactAssignment
        fields = ["id", "person", "household", "line", "started_on", "ended_on", *TERRITORY]
        read_only_fields = fields


# ---------------------------------------------------------------------------------------------
# input (validated here, written by gongzhi.registry.services)


class HouseholdCreateInput(serializers.Serializer):
    region = ScopedPrimaryKeyField(model=Region, perm="registry.add_household",
                                   help_text="Village/community or villager group the household belongs to.")
    code = serializers.CharField(max_length=32)
    address = serializers.CharField(max_length=200)
    grid = ScopedPrimaryKeyField(model=Grid, perm="registry.add_household", required=False, allow_null=True,
                                 help_text="A basic grid (one without sub-grids) in the same village.")
    annual_income = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0, required=False,
                                             allow_null=True)
    poverty_status = serializers.ChoiceField(choices=PovertyStatus.choices, required=False)
    peaceful_family_years = serializers.ListField(child=serializers.IntegerField(min_value=1949, max_value=2100),
                                                  required=False)
    notes = serializers.CharField(required=False, allow_blank=True)


class HouseholdUpdateInput(serializers.Serializer):
    """Every field optional (PATCH); only the fields sent are changed."""

    region = ScopedPrimaryKeyField(model=Region, perm="registry.change_household", required=False)
    address = serializers.CharField(max_length=200, required=False)
    grid = ScopedPrimaryKeyField(model=Grid, perm="registry.change_household", required=False, allow_null=True)
    annual_income = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0, required=False,
                                             allow_null=True)
    poverty_status = serializers.ChoiceField(choices=PovertyStatus.choices, required=False)
    peaceful_family_years = serializers.ListField(child=serializers.IntegerField(min_value=1949, max_value=2100),
                                                  required=False)
    notes = serializers.CharField(required=False, allow_blank=True)


class PersonCreateInput(serializers.Serializer):
    name = serializers.CharField(max_length=50)
    id_number = serializers.CharField(max_length=40, help_text="18-digit resident ID number; checked by the service.")
    household = ScopedPrimaryKeyField(model=Household, perm="registry.change_household", required=False,
                                      allow_null=True)
    relation = serializers.ChoiceField(choices=Relation.choices, required=False, allow_blank=True)
    phone = serializers.CharField(max_length=20, required=False, allow_blank=True)
    region = ScopedPrimaryKeyField(model=Region, perm="registry.add_person", required=False, allow_null=True,
                                   help_text="Where the person is registered; taken from the household when given.")
    left_behind = serializers.ChoiceField(choices=LeftBehind.choices, required=False, allow_blank=True)
    disability_grade = serializers.ChoiceField(choices=DISABILITY_GRADES, required=False, allow_null=True)
    released_on = serializers.DateField(required=False, allow_null=True)
    started_on = serializers.DateField(required=False, allow_null=True,
                                       help_text="When the person joined the household (default: today).")


class PersonUpdateInput(serializers.Serializer):
    """Every field optional (PATCH). Moving a person to another household is not an update."""

    name = serializers.CharField(max_length=50, required=False)
    id_number = serializers.CharField(max_length=40, required=False)
    phone = serializers.CharField(max_length=20, required=False, allow_blank=True)
    relation = serializers.ChoiceField(choices=Relation.choices, required=False, allow_blank=True)
    status = serializers.ChoiceField(choices=PersonStatus.choices, required=False)
    left_behind = serializers.ChoiceField(choices=LeftBehind.choices, required=False, allow_blank=True)
    disability_grade = serializers.ChoiceField(choices=DISABILITY_GRADES, required=False, allow_null=True)
    released_on = serializers.DateField(required=False, allow_null=True)


REVEALABLE = [("id_number", "身份证号"), ("phone", "电话")]


class RevealInput(serializers.Serializer):
    field = serializers.ChoiceField(choices=REVEALABLE)


class RevealOutput(serializers.Serializer):
    field = serializers.ChoiceField(choices=REVEALABLE, read_only=True)
    value = serializers.CharField(read_only=True, help_text="The clear value. This read is in the audit trail.")
