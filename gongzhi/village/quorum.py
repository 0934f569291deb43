"""Who may attend, how many must, and whether a motion passed — computed from the registry.

The Organic Law of Villagers' Committees (arts. 22, 26) and the party branch rules give the
defaults (``VillageSettings``):

* a villagers' meeting needs more than half of the adult villagers, or the representatives of
  two thirds or more of the households;
* a representatives' meeting needs two thirds or more of the representatives;
* a party members' meeting more than half of the members with a vote; committee meetings more
  than half of their members;
* a decision needs more than half of those present.

Nothing here is typed in: the roll is made from the registry (persons, households, party
memberships, the village's bodies) when the meeting opens, and the counts are read off the roll.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db.models import Count, Q

from gongzhi.registry.models import PartyMembership, Person, PersonStatus, Household

from .models import (
    Attendance, AttendanceStatus, Body, BodyKind, BodyMember, Meeting, MeetingKind, VillageSettings,
)

_FRACTION = re.compile(r"^(>=|>)(\d{1,3})/(\d{1,3})$")
_CHINESE_FRACTIONS = {(1, 2): "半数", (2, 3): "三分之二", (3, 4): "四分之三", (1, 3): "三分之一"}


@dataclass(frozen=True)
class Threshold:
    """``>1/2`` (more than half) or ``>=2/3`` (two thirds or more), compared in integers."""

    numerator: int
    denominator: int
    inclusive: bool

    @classmethod
    def parse(cls, text: str) -> "Threshold":
        match = _FRACTION.match((text or "").strip())
        if not match:
            raise ValidationError("门槛应写成 >1/2（过半数）或 >=2/3（三分之二以上）")
        op, num, den = match.groups()
        num, den = int(num), int(den)
        if den == 0 or num == 0 or num > den:
            raise ValidationError("门槛的分数应在 0 和 1 之间")
        return cls(num, den, op == ">=")

    def met(self, count: int, total: int) -> bool:
        if total <= 0:
            return False
        if self.inclusive:
            return count * self.denominator >= self.numerator * total
        return count * self.denominator > self.numerator * total

    def needed(self, total: int) -> int:
        """The smallest count that meets the threshold out of ``total``."""
        if total <= 0:
            return 1
        exact = self.numerator * total
        needed = -(-exact // self.denominator)  # ceiling
        if not self.inclusive and needed * self.denominator == exact:
            needed += 1
        return needed

    def label(self) -> str:
        fraction = _CHINESE_FRACTIONS.get((self.numerator, self.denominator),
                                          f"{self.denominator}分之{self.numerator}")
        if (self.numerator, self.denominator) == (1, 2) and not self.inclusive:
            return "过半数"
        return f"{fraction}以上（含本数）" if self.inclusive else f"超过{fraction}"

    def __str__(self) -> str:
        return f"{'>=' if self.inclusive else '>'}{self.numerator}/{self.denominator}"


def settings_for(county_id: int | None) -> VillageSettings:
    """The county's settings row, or an unsaved row holding the law's defaults."""
    row = VillageSettings.objects.filter(county_id=county_id).first() if county_id else None
    return row or VillageSettings(county_id=county_id)


# Meetings whose roll is made from the registry and which have a quorum; the others (courtyard,
# council, coordination, heart-to-heart, online) are open to whoever comes.
FORMAL_KINDS = {MeetingKind.VILLAGERS, MeetingKind.REPRESENTATIVES, MeetingKind.BRANCH, MeetingKind.TWO_COMMITTEES,
                MeetingKind.PARTY_MEMBERS}


def quorum_thresholds(meeting: Meeting) -> list[tuple[str, Threshold]]:
    """(what is counted, threshold) pairs; any one met is enough (villagers' meetings have two)."""
    conf = settings_for(meeting.county_id)
    kind = meeting.kind
    if kind == MeetingKind.VILLAGERS:
        return [("adults", Threshold.parse(conf.villagers_adults)),
                ("households", Threshold.parse(conf.villagers_households))]
    if kind == MeetingKind.REPRESENTATIVES:
        return [("members", Threshold.parse(conf.representatives))]
    if kind == MeetingKind.PARTY_MEMBERS:
        return [("members", Threshold.parse(conf.party_members))]
    if kind in (MeetingKind.BRANCH, MeetingKind.TWO_COMMITTEES):
        return [("members", Threshold.parse(conf.committees))]
    return []


def resolution_threshold(meeting: Meeting) -> Threshold:
    return Threshold.parse(settings_for(meeting.county_id).resolution)


def _current_members(region_id: int, *kinds: str):
    today = dt.date.today()
    return (BodyMember.objects.filter(body__region_id=region_id, body__kind__in=kinds, body__dissolved_on__isnull=True,
                                      ended_on__isnull=True, started_on__lte=today)
            .select_related("person"))


def entitled_persons(meeting: Meeting) -> list[Person]:
    """Who is entitled to attend (and counted for the quorum), from the registry, today."""
    region_id = meeting.region_id
    kind = meeting.kind
    if kind == MeetingKind.VILLAGERS:
        conf = settings_for(meeting.county_id)
        born_by = _years_before(meeting.scheduled_at.date(), conf.adult_age)
        return list(Person.objects.filter(village_id=region_id, status=PersonStatus.ACTIVE, birth_date__lte=born_by)
                    .order_by("household_id", "id"))
    if kind == MeetingKind.REPRESENTATIVES:
        members = _current_members(region_id, BodyKind.ASSEMBLY)
    elif kind == MeetingKind.BRANCH:
        members = _current_members(region_id, BodyKind.PARTY)
    elif kind == MeetingKind.TWO_COMMITTEES:
        members = _current_members(region_id, BodyKind.PARTY, BodyKind.COMMITTEE)
    elif kind == MeetingKind.PARTY_MEMBERS:
        # Members of the village's party organisations with a vote (probationary members attend
        # without one and are added as they come).
        ids = (PartyMembership.objects.filter(organization__village_id=region_id, ended_on__isnull=True,
                                              is_probationary=False).values("person_id"))
        return list(Person.objects.filter(pk__in=ids, status=PersonStatus.ACTIVE).order_by("id"))
    else:
        return []
    seen, persons = set(), []
    for member in members:
        if member.person_id not in seen and member.person.status == PersonStatus.ACTIVE:
            seen.add(member.person_id)
            persons.append(member.person)
    return persons


def _years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def village_household_count(region_id: int) -> int:
    """Households of the village with at least one living, resident member."""
    return (Household.objects.filter(village_id=region_id, members__status=PersonStatus.ACTIVE)
            .values("pk").distinct().count())


@dataclass(frozen=True)
class QuorumPart:
    what: str  # adults | households | members
    threshold: Threshold
    present: int
    total: int
    noun: str = ""

    @property
    def met(self) -> bool:
        return self.threshold.met(self.present, self.total)

    @property
    def needed(self) -> int:
        return self.threshold.needed(self.total)

    def describe(self) -> str:
        noun = self.noun or {"adults": "十八周岁以上村民", "households": "户的代表", "members": "组成人员"}[self.what]
        text = f"{noun}应到{self.total}，实到{self.present}，须{self.threshold.label()}（至少{self.needed}）"
        if not self.met:
            text += f"，还差{self.needed - self.present}"
        return text


@dataclass(frozen=True)
class Quorum:
    required: bool
    parts: tuple[QuorumPart, ...]

    @property
    def met(self) -> bool:
        return (not self.required) or any(part.met for part in self.parts)

    def explain(self) -> str:
        if not self.required:
            return "本类会议不设法定人数"
        verdict = "已达到法定人数" if self.met else "未达到法定人数，不能表决通过决议"
        return "；".join(part.describe() for part in self.parts) + "。" + verdict


def present_filter(meeting: Meeting) -> Q:
    """Who counts as present now: those who came and have not left; proxies count in villagers'
    meetings (a household's representative may be authorised), not in the others."""
    statuses = [AttendanceStatus.PRESENT]
    if meeting.kind == MeetingKind.VILLAGERS:
        statuses.append(AttendanceStatus.PROXY)
    return Q(status__in=statuses)


MEMBER_NOUNS = {MeetingKind.REPRESENTATIVES: "村民代表会议组成人员", MeetingKind.PARTY_MEMBERS: "有表决权的党员",
                MeetingKind.BRANCH: "支委会成员", MeetingKind.TWO_COMMITTEES: "两委成员"}


def quorum_of(meeting: Meeting) -> Quorum:
    thresholds = quorum_thresholds(meeting)
    if not thresholds:
        return Quorum(required=False, parts=())
    roll = Attendance.objects.filter(meeting=meeting, entitled=True)
    parts = []
    for what, threshold in thresholds:
        if what == "households":
            total = village_household_count(meeting.region_id)
            present = (roll.filter(present_filter(meeting), household__isnull=False)
                       .values("household_id").distinct().count())
        elif what == "adults":
            total = roll.count()
            present = roll.filter(status=AttendanceStatus.PRESENT).count()
        else:
            total = roll.count()
            present = roll.filter(present_filter(meeting)).count()
        parts.append(QuorumPart(what=what, threshold=threshold, present=present, total=total,
                                noun=MEMBER_NOUNS.get(meeting.kind, "") if what == "members" else ""))
    return Quorum(required=True, parts=tuple(parts))


def participation(meeting: Meeting) -> dict:
    """How many came, and of them how many elderly, women, disabled and left-behind residents."""
    came = Attendance.objects.filter(meeting=meeting, status__in=[AttendanceStatus.PRESENT, AttendanceStatus.PROXY,
                                                                  AttendanceStatus.LEFT])
    return came.aggregate(
        came=Count("id"), elderly=Count("id", filter=Q(is_elderly=True)), women=Count("id", filter=Q(is_woman=True)),
        disabled=Count("id", filter=Q(is_disabled=True)), left_behind=Count("id", filter=Q(is_left_behind=True)),
        proxies=Count("id", filter=Q(status=AttendanceStatus.PROXY)),
        left_early=Count("id", filter=Q(status=AttendanceStatus.LEFT)),
    )


def body_of(region_id: int, kind: str) -> Body | None:
    return Body.objects.filter(region_id=region_id, kind=kind, dissolved_on__isnull=True).first()
