"""The demo's year of linking up (``gongzhi.linking.demo``) on the default small preset: the showcase
issue 12's "Done when" asks for is there, read through the models and selectors the pages use; the
bulk rows are consistent (every row passes ``full_clean``, committed capacity within capacity,
every weak village graded and most partnered); town–village integration has the seed's
proportions (3,506 tasks and 592 stationed cadres for 164 villages); the same seed gives the same
year, and a second run is refused unless it replaces the first."""
from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db.models import Count, F, Q, Sum
from django.utils import timezone

from gongzhi.accounts.models import User
from gongzhi.cases.models import Notification
from gongzhi.core.models import AuditLog
from gongzhi.linking import models as m
from gongzhi.linking import selectors, services
from gongzhi.linking.demo import (
    FORMER_LIAISON_USERNAME, PROJECTS, SEED_CADRES, SEED_TASKS, SEED_TOWN_LEADERS, SEED_VILLAGES, SHOWCASE_BRANCH,
    LinkingDataExists, generate_linking_year, quota,
)
from gongzhi.registry.models import Department, Region

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 12, 7)
NOW = dt.datetime.combine(TODAY, dt.time(8), tzinfo=timezone.get_default_timezone())


def _county():
    """The small preset with its logins, its 600 cases and its village year, as ``gongzhi demo``
    makes them."""
    from gongzhi.cases.demo import generate_cases
    from gongzhi.village.demo import generate_village_year

    call_command("generate", verbosity=0)
    county = Region.objects.get(level=1)
    generate_cases(county, 600, seed=321, now=NOW)
    generate_village_year(county=county, seed=321, today=TODAY)
    return county


def _fingerprint():
    def rows(model, *fields):
        return sorted(model.objects.values_list(*fields))

    return (
        rows(m.KeyTask, "region__code", "aim", "title", "target", "achieved", "due_on", "status"),
        rows(m.WorkTeamMember, "team__region__code", "person_id", "role", "post"),
        m.StationDay.objects.aggregate(n=Count("pk"), days=Sum("days")),
        rows(m.Link, "kind", "to_region__code", "from_person_id", "from_department_id", "from_region_id",
             "to_household_id", "started_on"),
        rows(m.Pairing, "title", "kind", "term_start", "status", "lead_signed_at"),
        rows(m.ResourceItem, "pairing__title", "name", "capacity", "committed", "reviewed_on", "stale_flagged_at"),
        rows(m.NeedItem, "pairing__title", "title", "status", "grade", "source", "case_id", "feasibility"),
        rows(m.Project, "pairing__title", "title", "status", "progress", "quantity", "created_at"),
        rows(m.Activity, "pairing__title", "title", "starts_at", "status"),
        rows(m.Evaluation, "activity__title", "by_side", "outcome"),
        rows(m.ApprovalRequest, "pairing__title", "title", "status", "requested_at", "escalated_at"),
        rows(m.Handover, "summary", "created_at"),
        rows(m.MemberReport, "person_id", "reported_on", "status"),
        m.ActivityAttendance.objects.count(), m.SurveyResponse.objects.count(), m.FeedbackItem.objects.count(),
    )


def test_the_proportions_are_the_seeds():
    tasks, cadres = quota(SEED_VILLAGES, SEED_TASKS), quota(SEED_VILLAGES, SEED_CADRES)
    assert (sum(tasks), sum(cadres), SEED_TOWN_LEADERS) == (3506, 592, 164)
    assert set(tasks) == {21, 22} and set(cadres) == {3, 4}  # ≈21.4 tasks and ≈3.6 cadres in every village
    # hanyin (160 villages) and the small preset (8) keep the ratios
    for villages, expect_tasks, expect_cadres in ((160, 3420, 578), (8, 171, 29)):
        assert (sum(quota(villages, SEED_TASKS)), sum(quota(villages, SEED_CADRES))) == (expect_tasks, expect_cadres)
        assert abs(sum(quota(villages, SEED_TASKS)) / villages - SEED_TASKS / SEED_VILLAGES) < 0.05
        assert abs(sum(quota(villages, SEED_CADRES)) / villages - SEED_CADRES / SEED_VILLAGES) < 0.07


def test_a_164_village_county_gets_exactly_the_seeds_figures():
    """4 towns × 41 villages, as the seed's Shiquan: 3,506 key tasks, 592 stationed cadres, 164 town
    leaders (the registry alone: no logins, so no showcase; the 28 projects all come from the bulk)."""
    from gongzhi.demo.bulk import generate_county
    from gongzhi.demo.generator import CountySpec

    generate_county(CountySpec(towns=4, villages_per_town=41, households=3280, seed=5))
    result = generate_linking_year(seed=5, today=TODAY)
    assert result.villages == 164
    assert (result.tasks, result.cadres, result.town_leaders) == (3506, 592, 164)
    assert m.KeyTask.objects.count() == 3506
    assert m.WorkTeamMember.objects.filter(ended_on__isnull=True).count() == 592
    assert m.WorkTeam.objects.values("town_leader").distinct().count() == 164
    per_village = Counter(m.KeyTask.objects.values_list("region_id", flat=True))
    assert len(per_village) == 164 and set(per_village.values()) == {21, 22}
    assert m.Project.objects.count() == PROJECTS and result.figures["showcase"] == ""


def test_the_small_demo_year_has_the_showcase_and_is_consistent_and_reproducible():
    county = _county()
    result = generate_linking_year(county=county, seed=321, today=TODAY)
    village_login, town_login, liaison = (User.objects.get(username=n) for n in ("village", "town", "liaison"))
    village = village_login.role_assignments.get().region
    town = town_login.role_assignments.get().region
    bureau = Department.objects.get(county=county, short_name="民政")
    villages = Region.objects.filter(level=3, county=county)
    assert result.villages == villages.count() == 8

    # -- the liaison login: 民政局's agency liaison, over its department
    grant = liaison.role_assignments.get()
    assert (grant.role.code, grant.department) == ("agency_liaison", bureau)
    assert liaison.display_name == "汉阴县民政局结对共建联络员"

    # -- the pairing: 民政局's branch with the village login's village, the report form signed by both
    pairing = selectors.pairings_for(user=liaison).get()
    assert (pairing.lead_org.name, pairing.region, pairing.kind) == (SHOWCASE_BRANCH, village, "agency_community")
    assert pairing.status == "active" and pairing.lead_signed_at and pairing.partner_signed_at
    assert pairing.agency_department == bureau
    assert list(selectors.pairings_for(user=village_login).filter(pk=pairing.pk)) == [pairing]
    posts = {p.side: p for p in pairing.posts.all()}
    assert posts["lead"].holder == liaison and posts["partner"].holder == village_login

    # -- both sides' lists, each with a stale item flagged by the sweep (told to both liaisons and the town)
    resources = pairing.resources.all()
    assert resources.filter(side="lead").count() == 43  # the seed's agency listed 43
    assert {"民政档案查询系统", "政策专家团队（低保、特困、临时救助）"} <= set(resources.values_list("name", flat=True))
    for side in ("lead", "partner"):
        assert resources.filter(side=side, stale_flagged_at__isnull=False, review_due_on__lt=TODAY).exists()
    assert pairing.needs.filter(stale_flagged_at__isnull=False, status="open").exists()
    assert selectors.stale_counts(user=liaison)["resources"] >= 2
    stale_told = {n.user.username
                  for n in Notification.objects.filter(kind="linking_stale", text__contains=pairing.title)}
    assert {"liaison", "village", "town"} <= stale_told

    # -- an open, feasibility-checked need from a resident's case, left for the user to match …
    need = pairing.needs.get(status="open", source="case")
    assert need.case.village_id == village.pk and need.case.requester_id is not None
    assert need.feasibility == "feasible" and need.grade == "core" and not need.projects.exists()
    ranked = services.candidates_for(actor=village_login, need=need)
    assert ranked and ranked[0].available and ranked[0].reasons
    assert any(points < 0 for c in ranked for points, _why in c.reasons)  # a stale resource loses points, and says why
    # … and one already matched into a project with tasks by department and person, its ranking stored
    matched = pairing.needs.get(status="matched", source="case")
    project = matched.projects.get()
    assert project.ranking["score"] > 0 and project.ranking["reasons"]
    assert project.tasks.count() >= 3 and project.tasks.filter(department=bureau).exists()
    assert project.tasks.filter(progress=100).exists() and 0 < project.progress < 100
    assert matched.case.events.filter(kind__in=["pairing_need", "pairing_project"]).count() == 2
    assert set(pairing.needs.values_list("source", flat=True)) >= {"case", "meeting", "contact"}
    assert pairing.projects.filter(status="done").exists()

    # -- an activity held and evaluated both ways, by outcomes; residents answered its survey; some left early
    activity = pairing.activities.filter(status="held", kind="service").order_by("-starts_at").first()
    assert activity.starts_at.date() >= TODAY - dt.timedelta(days=7)
    assert activity.attendance.filter(side="resident").count() >= 10
    assert activity.attendance.filter(left_early=True).exists()
    assert activity.attendance.filter(side="lead", user=liaison).exists()
    assert activity.survey_responses.count() >= 10
    evaluations = {e.by_side: e for e in activity.evaluations.all()}
    assert set(evaluations) == {"lead", "partner"}
    assert all(e.residents_benefited > 0 and len(e.outcome) >= 8 for e in evaluations.values())
    assert pairing.activities.filter(kind="follow_up", status="held", follow_up_of__isnull=False).exists()
    assert activity.follow_ups.filter(status="planned").exists()

    # -- a liaison replaced: a written handover on the lead post, the archive snapshotted and kept with the post
    handover = m.Handover.objects.get(post=posts["lead"])
    assert (handover.outgoing.username, handover.incoming) == (FORMER_LIAISON_USERNAME, liaison)
    assert not handover.outgoing.is_active and handover.created_at.date() < TODAY - dt.timedelta(days=60)
    assert handover.open_items and all(item["note"] for item in handover.open_items)
    assert handover.archive["joint_meetings"] >= 1 and handover.archive["activities_held"] >= 1
    terms = list(m.LiaisonTerm.objects.filter(post=posts["lead"]).order_by("started_at"))
    assert [t.holder.username for t in terms] == [FORMER_LIAISON_USERNAME, "liaison"]
    assert terms[0].handover == handover and terms[1].ended_at is None
    archive = selectors.archive_of(user=liaison, pairing=pairing)
    assert list(archive["handovers"]) == [handover] and archive["messages"] and archive["meetings"]

    # -- the fast track: decided both ways, one waiting, one overdue and escalated by the sweep
    approvals = Counter(pairing.approvals.values_list("status", flat=True))
    assert approvals["approved"] and approvals["refused"] and approvals["pending"] >= 2
    escalated = pairing.approvals.get(escalated_at__isnull=False)
    assert escalated.status == "pending" and escalated.overdue_warned_at and escalated.county_due_at < NOW

    # -- feedback from every channel lands in one place; an adopted plan says what it took in
    channels = set(pairing.feedback.values_list("channel", flat=True))
    assert channels >= {"survey", "evaluation", "window", "box", "account", "hotline", "public_page"}
    adopted = pairing.plans.filter(status="adopted").annotate(n=Count("responses")).filter(n__gt=0).get()
    assert adopted.responses.filter(taken_in=True).exists() and adopted.responses.filter(taken_in=False).exists()
    assert services.feedback_awaiting(pairing).exists()  # what came since waits for next year's plan (a draft)
    assert pairing.plans.filter(status="draft", responses__isnull=False).exists()

    # -- the town sees every village's quantified tasks and stationed team, with progress
    overview = selectors.integration_overview(user=town_login, town=town, year=TODAY.year)
    assert {r["village"].pk for r in overview} == set(villages.filter(town=town).values_list("pk", flat=True))
    quantified = Counter(m.KeyTask.objects.filter(town=town).values_list("region_id", flat=True))
    for row in overview:
        assert quantified[row["village"].pk] in (21, 22)  # the overview leaves out the odd dropped task
        assert row["tasks"] >= 19 and len(row["by_aim"]) == 3 and 0 < row["progress"] <= 100
        assert row["team"] and row["members"] in (3, 4) and row["days"] > 0 and row["town_leader"]
    assert m.KeyTaskProgress.objects.filter(task__region=village).exists()

    # -- the county: the seed's proportions, 28 projects, every kind of link, coverage with something to show
    assert (result.tasks, result.cadres, result.town_leaders) == (171, 29, 8)
    assert m.KeyTask.objects.count() == 171 and m.WorkTeam.objects.values("town_leader").distinct().count() == 8
    assert m.Project.objects.count() == PROJECTS == result.projects
    assert set(m.Link.objects.values_list("kind", flat=True)) == set(m.LinkKind.values)
    assert not villages.annotate(n=Count("links_to", filter=Q(links_to__kind="three_officials"))).exclude(n=4).exists()
    assert m.Link.objects.filter(kind="cadre_household", to_household__isnull=False).exists()
    coverage = selectors.coverage(user=town_login)
    assert coverage["weak_without_strong"].exists()  # deliberately left without a strong partner
    assert m.Link.objects.filter(kind="strong_weak").exists()  # … while others have one
    assert not m.Link.objects.filter(kind="strong_weak").exclude(
        from_region__in=m.VillageGrade.objects.filter(grade="strong").values("region")).exists()
    assert set(m.Pairing.objects.values_list("kind", flat=True)) == set(m.PairingKind.values)
    led = m.Pairing.objects.filter(kind="village_village").first()  # the lead village's rows reach it too
    assert led.lead_village_id == led.lead_org.village_id and led.lead_town_id == led.lead_org.town_id
    assert not m.ResourceItem.objects.filter(pairing=led).exclude(lead_village_id=led.lead_village_id).exists()
    assert not m.ResourceItem.objects.filter(pairing__kind="agency_community", lead_village__isnull=False).exists()
    lotus = m.Alliance.objects.get(name__contains="莲藕小龙虾")
    assert lotus.operations.filter(area_mu=980).exists() and lotus.members.filter(is_lead=True).count() == 1
    assert lotus.members.filter(member_region__isnull=False).count() >= 2
    assert m.ResourceShare.objects.exists()
    assert m.MemberService.objects.filter(activity__isnull=False).exists()
    assert not m.ResourceItem.objects.filter(committed__gt=F("capacity")).exists()
    assert not m.Project.objects.exclude(village_id=F("need__village_id")).exists()
    assert not m.Project.objects.exclude(resource__pairing=F("pairing")).exists()
    assert not m.StationDay.objects.filter(on__gte=TODAY).exists()
    for model in (m.Pairing, m.LiaisonPost, m.ResourceItem, m.NeedItem, m.Project, m.ProjectTask, m.Activity,
                  m.ActivityAttendance, m.SurveyResponse, m.Evaluation, m.FeedbackItem, m.Plan, m.PlanFeedback,
                  m.ApprovalRequest, m.VillageGrade, m.Link, m.LinkActivity, m.Alliance, m.AllianceMember,
                  m.AllianceOperation, m.ResourceShare, m.KeyTask, m.KeyTaskProgress, m.WorkTeam, m.WorkTeamMember,
                  m.StationDay, m.MemberReport, m.MemberService):
        for row in model._base_manager.order_by("pk")[:300]:
            try:
                row.full_clean()
            except ValidationError as exc:  # pragma: no cover - the message is the point
                raise AssertionError(f"{model.__name__} {row.pk}: {exc.message_dict}") from None

    # -- one audit row for the bulk; the showcase's service audit rows carry the run's request id
    assert AuditLog.objects.filter(action="generate", object_type="linking.pairing").count() == 1
    assert AuditLog.objects.filter(request_id="demo-linking-321", object_type="linking.handover").exists()

    # -- the same seed, the same year; a second run is refused unless it replaces the first
    first = _fingerprint()
    with pytest.raises(LinkingDataExists):
        generate_linking_year(county=county, seed=321, today=TODAY)
    generate_linking_year(county=county, seed=321, today=TODAY, replace=True)
    assert _fingerprint() == first
    assert m.Handover.objects.count() == 1 and m.Pairing.objects.filter(title=pairing.title).count() == 1
    generate_linking_year(county=county, seed=322, today=TODAY, replace=True)
    assert _fingerprint() != first


def test_generate_with_cases_makes_the_linking_year_and_clear_makes_it_again():
    """``gongzhi generate --cases N`` ends with the linking year (its showcase acted by logins made
    without a password, given the demo password with the others); ``--clear`` clears the linking
    and village years first (follow-up visits and corrected notices refer to their own kind), then
    the registry, and makes everything again."""
    from gongzhi.demo.logins import DEMO_PASSWORD

    tiny = ["--towns", "2", "--villages-per-town", "2", "--households", "150", "--cases", "80"]
    call_command("generate", *tiny, verbosity=0)
    assert m.Pairing.objects.filter(lead_org__name=SHOWCASE_BRANCH).count() == 1
    assert m.KeyTask.objects.count() == sum(quota(4, SEED_TASKS))
    assert all(User.objects.get(username=n).check_password(DEMO_PASSWORD) for n in ("town", "village", "liaison"))
    assert m.Activity.objects.filter(follow_up_of__isnull=False).exists()
    call_command("generate", *tiny, "--clear", "--seed", "9", verbosity=0)
    assert m.Pairing.objects.filter(lead_org__name=SHOWCASE_BRANCH).count() == 1
    assert m.Handover.objects.count() == 1
    assert AuditLog.objects.filter(action="generate", object_type="linking.pairing").count() == 2
