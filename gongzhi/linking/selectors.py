"""Reads of the linking module, shared by pages and the API. Everything starts from
``visible_to``: a user sees the pairings, lists, links and tasks of their own scope only."""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal

from django.db.models import Count, Exists, OuterRef, Q, Sum
from django.utils import timezone

from gongzhi.registry.models import Region, RegionKind, RegionLevel

from . import matching
from .models import (
    Activity, ActivityStatus, ApprovalRequest, ApprovalStatus, FeedbackItem, KeyTask, KeyTaskStatus, LiaisonPost,
    Link, LinkKind, NeedItem, NeedStatus, Pairing, PairingKind, PairingMessage, PairingStatus, Project,
    ProjectStatus, ResourceItem, StationDay, VillageGrade, VillageGradeKind, WorkTeam, WorkTeamMember,
)


def pairings_for(*, user, status: str | None = None):
    qs = (Pairing.objects.visible_to(user, "linking.view_pairing")
          .select_related("lead_org", "partner_org", "region", "agency_department"))
    return qs.filter(status=status) if status else qs


def posts_held(*, user):
    return (LiaisonPost.objects.visible_to(user, "linking.view_liaisonpost").filter(holder=user)
            .select_related("pairing"))


def resources_of(*, user, pairing: Pairing):
    return (ResourceItem.objects.visible_to(user, "linking.view_resourceitem").filter(pairing=pairing)
            .select_related("place"))


def needs_of(*, user, pairing: Pairing):
    return (NeedItem.objects.visible_to(user, "linking.view_needitem").filter(pairing=pairing)
            .select_related("place", "case"))


def projects_of(*, user, pairing: Pairing):
    return (Project.objects.visible_to(user, "linking.view_project").filter(pairing=pairing)
            .select_related("need", "resource"))


def stale_counts(*, user) -> dict:
    """How many items of each list are flagged stale, in the user's scope."""
    return {
        "resources": ResourceItem.objects.visible_to(user, "linking.view_resourceitem")
        .filter(stale_flagged_at__isnull=False).count(),
        "needs": NeedItem.objects.visible_to(user, "linking.view_needitem").filter(stale_flagged_at__isnull=False).count(),
        "projects": Project.objects.visible_to(user, "linking.view_project").filter(stale_flagged_at__isnull=False).count(),
    }


def approvals_pending(*, user):
    return (ApprovalRequest.objects.visible_to(user, "linking.view_approvalrequest")
            .filter(status=ApprovalStatus.PENDING).select_related("pairing", "requested_by").order_by("due_at"))


def ranked_needs(needs) -> list[NeedItem]:
    return sorted(needs, key=matching.need_order_key)


def archive_of(*, user, pairing: Pairing) -> dict:
    """The communication archive: messages and decisions, joint meetings, handovers."""
    from .models import Handover

    return {
        "messages": PairingMessage.objects.visible_to(user, "linking.view_pairingmessage").filter(pairing=pairing)
        .select_related("post", "author")[:200],
        "meetings": Activity.objects.visible_to(user, "linking.view_activity")
        .filter(pairing=pairing, status=ActivityStatus.HELD).order_by("-starts_at")[:100],
        "handovers": Handover.objects.visible_to(user, "linking.view_handover").filter(post__pairing=pairing)
        .select_related("post", "outgoing", "incoming", "written_by"),
    }


def feedback_of(*, user, pairing: Pairing):
    return (FeedbackItem.objects.visible_to(user, "linking.view_feedbackitem").filter(pairing=pairing)
            .select_related("activity", "case").prefetch_related("plan_responses__plan"))


def activity_survey_summary(activity: Activity) -> dict:
    """The residents' three answers, counted (for the activity page and its evaluation)."""
    rows = activity.survey_responses.all()
    summary = {"responses": 0}
    for field in ("content", "format", "timing"):
        counts = dict(rows.values_list(field).annotate(n=Count("id")).values_list(field, "n"))
        summary[field] = {3: counts.get(3, 0), 2: counts.get(2, 0), 1: counts.get(1, 0)}
        summary["responses"] = sum(summary[field].values())
    return summary


# ---------------------------------------------------------------------------------------------
# coverage: the 535 and 三联 as queries


def _current_links(kind: str):
    return Link.objects.filter(kind=kind, ended_on__isnull=True)


def coverage(*, user) -> dict:
    """Who has no partner, in the user's scope: each answer a queryset of regions.

    * weak villages with no strong partner (neither a strong–weak link nor a village–village
      branch pairing in force);
    * villages with no department linked, towns with no county leader, villages with no town
      leader following them, new communities (社区) with no host village.
    """
    villages = Region.objects.visible_to(user, "linking.view_link").filter(level=RegionLevel.VILLAGE)
    towns = Region.objects.visible_to(user, "linking.view_link").filter(level=RegionLevel.TOWN)
    weak = VillageGrade.objects.filter(grade=VillageGradeKind.WEAK).values("region_id")
    strong_link = _current_links(LinkKind.STRONG_WEAK).filter(to_region=OuterRef("pk"))
    lead_pairing = Pairing.objects.filter(kind=PairingKind.VILLAGE_VILLAGE, status=PairingStatus.ACTIVE,
                                          region=OuterRef("pk"))
    return {
        "weak_without_strong": villages.filter(pk__in=weak).exclude(Exists(strong_link)).exclude(Exists(lead_pairing)),
        "villages_without_department": villages.exclude(
            Exists(_current_links(LinkKind.DEPARTMENT_VILLAGE).filter(to_region=OuterRef("pk")))),
        "towns_without_leader": towns.exclude(
            Exists(_current_links(LinkKind.COUNTY_LEADER_TOWN).filter(to_region=OuterRef("pk")))),
        "villages_without_town_leader": villages.exclude(
            Exists(_current_links(LinkKind.TOWN_LEADER_VILLAGE).filter(to_region=OuterRef("pk"))))
        .exclude(Exists(WorkTeam.objects.filter(region=OuterRef("pk"), year=timezone.localdate().year,
                                                ended_on__isnull=True))),
        "communities_without_host": villages.filter(kind=RegionKind.COMMUNITY).exclude(
            Exists(_current_links(LinkKind.HOST_COMMUNITY).filter(to_region=OuterRef("pk")))),
        "villages_without_pairing": villages.exclude(
            Exists(Pairing.objects.filter(region=OuterRef("pk"), status=PairingStatus.ACTIVE))),
    }


def links_for(*, user, kind: str | None = None):
    qs = (Link.objects.visible_to(user, "linking.view_link")
          .select_related("from_person", "from_department", "from_region", "to_region", "to_household")
          .annotate(activity_count=Count("activities")))
    return qs.filter(kind=kind) if kind else qs


# ---------------------------------------------------------------------------------------------
# 镇村工作一体化


def integration_overview(*, user, town: Region, year: int) -> list[dict]:
    """Every village of ``town`` the user may read: its quantified tasks by aim with progress, the
    stationed team and its days in the village, and the town leader following it."""
    villages = list(Region.objects.visible_to(user, "linking.view_keytask")
                    .filter(level=RegionLevel.VILLAGE, town_id=town.pk).order_by("code"))
    ids = [v.pk for v in villages]
    tasks = defaultdict(lambda: {"total": 0, "done": 0, "percent_sum": 0, "by_aim": defaultdict(lambda: [0, 0])})
    for row in (KeyTask.objects.filter(region_id__in=ids, year=year).exclude(status=KeyTaskStatus.DROPPED)
                .values("region_id", "aim", "status", "achieved", "target")):
        entry = tasks[row["region_id"]]
        entry["total"] += 1
        done = row["status"] == KeyTaskStatus.DONE
        entry["done"] += done
        entry["percent_sum"] += min(100, int(row["achieved"] * 100 / row["target"])) if row["target"] else 0
        entry["by_aim"][row["aim"]][0] += 1
        entry["by_aim"][row["aim"]][1] += done
    teams = {t.region_id: t for t in WorkTeam.objects.filter(region_id__in=ids, year=year).select_related("town_leader")}
    members = dict(WorkTeamMember.objects.filter(team__in=teams.values(), ended_on__isnull=True)
                   .values_list("team__region_id").annotate(n=Count("id")).values_list("team__region_id", "n"))
    days = dict(StationDay.objects.filter(member__team__in=teams.values())
                .values_list("member__team__region_id").annotate(d=Sum("days")).values_list("member__team__region_id", "d"))
    out = []
    for village in villages:
        entry = tasks.get(village.pk, {"total": 0, "done": 0, "percent_sum": 0, "by_aim": {}})
        team = teams.get(village.pk)
        out.append({
            "village": village, "tasks": entry["total"], "done": entry["done"],
            "progress": entry["percent_sum"] // entry["total"] if entry["total"] else 0,
            "by_aim": {aim: tuple(v) for aim, v in entry["by_aim"].items()},
            "team": team, "members": members.get(village.pk, 0), "days": days.get(village.pk, Decimal(0)),
            "town_leader": team.town_leader if team else None,
        })
    return out


def integration_totals(rows: list[dict]) -> dict:
    villages = len(rows)
    tasks = sum(r["tasks"] for r in rows)
    cadres = sum(r["members"] for r in rows)
    leaders = len({r["town_leader"].pk for r in rows if r["town_leader"]})
    return {"villages": villages, "tasks": tasks, "done": sum(r["done"] for r in rows), "cadres": cadres,
            "town_leaders": leaders, "days": sum((r["days"] for r in rows), Decimal(0)),
            "tasks_per_village": round(tasks / villages, 1) if villages else 0,
            "cadres_per_village": round(cadres / villages, 1) if villages else 0}


def key_tasks_of(*, user, region: Region, year: int):
    return (KeyTask.objects.visible_to(user, "linking.view_keytask").filter(region=region, year=year)
            .prefetch_related("progress"))


def team_of(*, user, region: Region, year: int) -> WorkTeam | None:
    return (WorkTeam.objects.visible_to(user, "linking.view_workteam").filter(region=region, year=year)
            .select_related("town_leader").first())


def overdue_key_tasks(*, user, today: dt.date | None = None):
    today = today or timezone.localdate()
    return (KeyTask.objects.visible_to(user, "linking.view_keytask")
            .filter(status=KeyTaskStatus.OPEN, due_on__lt=today).select_related("region"))


def open_needs(*, user):
    return (NeedItem.objects.visible_to(user, "linking.view_needitem").filter(status=NeedStatus.OPEN)
            .select_related("pairing", "place"))


def projects_underway(*, user):
    return (Project.objects.visible_to(user, "linking.view_project").filter(status=ProjectStatus.UNDERWAY)
            .select_related("pairing"))
