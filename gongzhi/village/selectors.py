"""Reads of the village governance layer. Staff reads start from ``visible_to``; the public page
(``public_*``) reads published notices and public timeline entries only, and never a name beyond
what the notice itself shows."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone

from gongzhi.cases.models import Case
from gongzhi.core.scoping import scope_q
from gongzhi.registry.models import Region, RegionLevel

from . import quorum as q
from . import workflow
from .models import (
    AgendaItem, Attendance, Body, BodyMember, Decision, DecisionEntry, DecisionTask, Duty, DutyList,
    Matter, MatterStep, Meeting, Poll, PublicityFlag, PublicityItem, PublicityStatus, Speech, TaskStatus,
)


def villages_for(*, user, perm: str = "village.view_meeting") -> QuerySet:
    """The villages the user may work in with ``perm`` (regions of level village)."""
    rule_q = scope_q(user, Region, perm)
    if rule_q is None:
        return Region.objects.none()
    return Region.objects.filter(rule_q, level=RegionLevel.VILLAGE).order_by("code")


def bodies_of(*, user, region: Region) -> QuerySet:
    current = BodyMember.objects.filter(ended_on__isnull=True).select_related("person").order_by("post", "id")
    return (Body.objects.visible_to(user, "village.view_body").filter(region=region, dissolved_on__isnull=True)
            .prefetch_related(Prefetch("members", queryset=current, to_attr="current_members")))


def terms_ending(*, user, within_days: int = 90) -> QuerySet:
    today = timezone.localdate()
    return (Body.objects.visible_to(user, "village.view_body")
            .filter(dissolved_on__isnull=True, term_end__isnull=False, term_end__lte=today + dt.timedelta(days=within_days))
            .order_by("term_end"))


def meetings_of(*, user, region: Region | None = None, status: str | None = None) -> QuerySet:
    qs = Meeting.objects.visible_to(user, "village.view_meeting").select_related("region")
    if region is not None:
        qs = qs.filter(region=region)
    if status:
        qs = qs.filter(status=status)
    return qs.annotate(item_count=Count("items", distinct=True))


def waiting_items(*, user, region: Region) -> QuerySet:
    return (AgendaItem.objects.visible_to(user, "village.view_agendaitem")
            .filter(region=region, meeting__isnull=True).prefetch_related("cases").order_by("-created_at"))


@dataclass(frozen=True)
class MeetingState:
    meeting: Meeting
    quorum: q.Quorum
    participation: dict
    agenda: list
    roll: list
    polls: list
    speeches: list


def meeting_state(*, user, meeting: Meeting) -> MeetingState:
    """What the meeting page and the API show of one meeting, each part read with its own view
    permission (a grid worker may see that a meeting is held, not who came). The quorum and the
    participation counts are figures, computed over the whole roll."""
    agenda = (AgendaItem.objects.visible_to(user, "village.view_agendaitem").filter(meeting=meeting)
              .select_related("proposer")
              .prefetch_related(Prefetch("cases", queryset=Case.objects.visible_to(user, "cases.view_case")))
              .order_by("order", "id"))
    roll = (Attendance.objects.visible_to(user, "village.view_attendance").filter(meeting=meeting)
            .select_related("person", "proxy").order_by("-entitled", "person__name", "id"))
    polls = (Poll.objects.visible_to(user, "village.view_poll").filter(meeting=meeting)
             .annotate(cast_count=Count("ballots", filter=Q(ballots__cast_at__isnull=False)))
             .select_related("item").order_by("id"))
    speeches = Speech.objects.visible_to(user, "village.view_speech").filter(meeting=meeting).order_by("id")
    return MeetingState(meeting=meeting, quorum=q.quorum_of(meeting), participation=q.participation(meeting),
                        agenda=list(agenda), roll=list(roll), polls=list(polls), speeches=list(speeches))


def matters_of(*, user, region: Region | None = None) -> QuerySet:
    qs = Matter.objects.visible_to(user, "village.view_matter").select_related("region")
    return qs.filter(region=region) if region is not None else qs


@dataclass(frozen=True)
class PathStep:
    name: str
    label: str
    done: MatterStep | None
    is_next: bool


def matter_path(matter: Matter) -> list[PathStep]:
    """The six steps with what was done at each (meeting, vote, notice), for the matter page."""
    taken = {s.step: s for s in matter.steps.select_related("meeting", "poll", "publicity")}
    following = workflow.next_step(matter.status)
    path = []
    for t in workflow.STEPS:
        done = taken.get(t.name)
        path.append(PathStep(name=t.name, label=t.label, done=done, is_next=following is not None
                             and following.name == t.name))
    return path


def decisions_of(*, user, region: Region | None = None, status: str | None = None) -> QuerySet:
    qs = (Decision.objects.visible_to(user, "village.view_decision").select_related("region", "matter")
          .annotate(open_tasks=Count("tasks", filter=Q(tasks__status=TaskStatus.OPEN)),
                    all_tasks=Count("tasks")))
    if region is not None:
        qs = qs.filter(region=region)
    if status:
        qs = qs.filter(status=status)
    return qs


def overdue_tasks(*, user) -> QuerySet:
    return (DecisionTask.objects.visible_to(user, "village.view_decisiontask")
            .filter(status=TaskStatus.OPEN, due_on__lt=timezone.localdate()).select_related("decision", "assignee"))


def duty_problems(duty_list: DutyList) -> dict:
    """Duties with no owner and duties with more than one (to be settled)."""
    duties = (Duty.objects.filter(duty_list=duty_list, removed_on__isnull=True)
              .annotate(owner_count=Count("owners")).order_by("id"))
    return {"unowned": [d for d in duties if d.owner_count == 0],
            "shared": [d for d in duties if d.owner_count > 1]}


def publicity_flags(*, user) -> QuerySet:
    return (PublicityFlag.objects.visible_to(user, "village.view_publicityflag").filter(resolved_at__isnull=True)
            .select_related("region").order_by("-period_start"))


# ---------------------------------------------------------------------------------------------
# the public page (no login): only what is published


def public_notices(region: Region) -> QuerySet:
    return (PublicityItem.objects.filter(region=region, status__in=[PublicityStatus.PUBLISHED,
                                                                    PublicityStatus.SUPERSEDED])
            .order_by("-published_at", "-id"))


def public_decisions(region: Region) -> QuerySet:
    """Decisions whose resolution has been made public, with their public timeline."""
    published = PublicityItem.objects.filter(region=region, status__in=[PublicityStatus.PUBLISHED,
                                                                        PublicityStatus.SUPERSEDED],
                                             decision__isnull=False).values("decision_id")
    entries = DecisionEntry.objects.filter(public=True).order_by("at", "id")
    tasks = DecisionTask.objects.exclude(status=TaskStatus.CANCELLED).order_by("due_on", "id")
    return (Decision.objects.filter(region=region, pk__in=published)
            .prefetch_related(Prefetch("entries", queryset=entries, to_attr="public_entries"),
                              Prefetch("tasks", queryset=tasks, to_attr="public_tasks"))
            .order_by("-decided_on", "-id"))

