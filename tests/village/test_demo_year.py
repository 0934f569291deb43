"""The demo's year of village governance (``gongzhi.village.demo``) on the default small preset:
it yields meetings and decisions, and the rows agree with each other and with the rules — every
vote that passed was taken where the quorum was met (recomputed from the roll by ``quorum``),
every ballot belongs to a poll of the meeting whose roll it comes from, the 四议两公开 steps come
in order — and the same seed gives the same year."""
from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
from django.core.management import call_command
from django.db.models import Count, F, Q
from django.utils import timezone

from gongzhi.accounts.models import User
from gongzhi.core.models import AuditLog
from gongzhi.registry.models import Region
from gongzhi.village import quorum as q
from gongzhi.village import statistics, workflow
from gongzhi.village.demo import VillageDataExists, generate_village_year, showcase_village
from gongzhi.village.models import (
    AgendaItem, Attendance, Ballot, Body, BodyKind, BodyMember, Decision, DecisionEntry, DecisionTask, Duty, Matter,
    Meeting, MeetingStatus, Poll, PublicityFlag, PublicityItem, PublicityRequirement, SecretBallot,
)

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 12, 7)
NOW = dt.datetime.combine(TODAY, dt.time(8), tzinfo=timezone.get_default_timezone())


def _county():
    """The demo's small preset with its logins and its 600 cases, as ``gongzhi demo`` makes them."""
    from gongzhi.cases.demo import generate_cases

    call_command("generate", verbosity=0)
    county = Region.objects.get(level=1)
    generate_cases(county, 600, seed=321, now=NOW)
    return county


def _fingerprint():
    meetings = list(Meeting.objects.order_by("region__code", "scheduled_at", "kind").values_list(
        "region__code", "kind", "scheduled_at", "status", "entitled_count", "present_count", "quorum_met"))
    decisions = list(Decision.objects.order_by("region__code", "decided_on", "title").values_list(
        "region__code", "title", "decided_on", "status", "done_at"))
    ballots = Ballot.objects.count(), SecretBallot.objects.count(), Attendance.objects.count()
    return meetings, decisions, ballots


def test_the_small_demo_year_is_consistent_and_reproducible():
    county = _county()
    result = generate_village_year(county=county, seed=321, today=TODAY)
    villages = Region.objects.filter(level=3, county=county).count()
    assert result.villages == villages == 8

    # -- it yields a year: meetings, consultations, decisions, problems solved
    held = Meeting.objects.filter(status=MeetingStatus.CLOSED)
    assert held.count() >= 20 * villages
    assert 2 * villages <= result.consultations <= 6 * villages
    assert Decision.objects.count() >= 8 * villages and result.problems_solved >= 8 * villages
    by_village = dict(held.values_list("village_id").annotate(n=Count("pk")))
    assert len(by_village) == villages and min(by_village.values()) >= 15

    # -- the six bodies, members from the village's registry, terms (a few ending within 90 days)
    for region_id in by_village:
        kinds = set(Body.objects.filter(region_id=region_id, dissolved_on__isnull=True).values_list("kind", flat=True))
        assert kinds == set(BodyKind.values)
    assert not BodyMember.objects.exclude(person__village_id=F("village_id")).exists()
    assert not BodyMember.objects.filter(body__kind=BodyKind.SUPERVISION, ended_on__isnull=True, person__in=(
        BodyMember.objects.filter(body__kind__in=[BodyKind.PARTY, BodyKind.COMMITTEE], ended_on__isnull=True)
        .values("person"))).exists()  # the supervision committee is not the two committees
    assert Body.objects.filter(term_end__lte=TODAY + dt.timedelta(days=90), term_end__gte=TODAY).exists()
    reps = BodyMember.objects.filter(post="representative").annotate(n=Count("represented_households"))
    assert reps.exists() and all(1 <= r.n <= 15 for r in reps)
    assert sum(1 for r in reps if r.n >= 5) >= len(reps) - villages  # only a village's last few fewer than 5

    # -- the rolls: made from the registry, figures kept on the meeting, the quorum as the rules say
    formal = held.filter(kind__in=q.FORMAL_KINDS)
    rolls = {r["meeting_id"]: r for r in Attendance.objects.values("meeting_id").annotate(
        entitled=Count("pk", filter=Q(entitled=True)),
        came=Count("pk", filter=Q(status__in=["present", "proxy", "left"])))}
    for meeting in held:
        roll = rolls.get(meeting.pk, {"entitled": 0, "came": 0})
        assert (meeting.entitled_count, meeting.present_count) == (roll["entitled"], roll["came"])
    for meeting in formal:
        assert q.quorum_of(meeting).met == meeting.quorum_met, meeting.quorum_text
    assert formal.filter(quorum_met=False).exists()  # a few short of their quorum …
    assert not Poll.objects.filter(meeting__quorum_met=False).exists()  # … where no vote was taken
    assert not Attendance.objects.exclude(village_id=F("meeting__village_id")).exists()
    assert not Attendance.objects.filter(status="proxy").exclude(meeting__kind="villagers").exists()
    assert Attendance.objects.filter(status="left").exists()

    # -- votes: one ballot per voter of the meeting, the counts and the result as the threshold says
    assert not Ballot.objects.exclude(voter__meeting_id=F("poll__meeting_id")).exists()
    cast_q = Q(ballots__cast_at__isnull=False)
    for poll in Poll.objects.annotate(n=Count("ballots"), cast=Count("ballots", filter=cast_q)):
        assert poll.n == poll.present_count
        assert poll.votes_for + poll.votes_against + poll.votes_abstain == poll.cast
        passed = q.Threshold.parse(poll.threshold).met(poll.votes_for, poll.present_count)
        assert poll.result == ("passed" if passed else "rejected")
        if poll.ballot == "secret":
            assert SecretBallot.objects.filter(poll=poll).count() == poll.cast
            assert not Ballot.objects.filter(poll=poll).exclude(choice="").exists()
        else:
            choices = Counter(Ballot.objects.filter(poll=poll, cast_at__isnull=False).values_list("choice", flat=True))
            assert (choices["for"], choices["against"], choices["abstain"]) == (
                poll.votes_for, poll.votes_against, poll.votes_abstain)
    # Every resolution that passed belongs to a meeting whose quorum was met.
    decided_by_vote = Decision.objects.filter(poll__isnull=False)
    assert decided_by_vote.exists()
    assert not decided_by_vote.exclude(poll__result="passed").exists()
    assert not decided_by_vote.exclude(meeting_id=F("poll__meeting_id")).exists()
    assert not decided_by_vote.filter(meeting__kind__in=q.FORMAL_KINDS).exclude(meeting__quorum_met=True).exists()

    # -- 四议两公开: steps in order, at the right meetings, with votes where one is needed
    order = workflow.ORDER
    statuses = Counter(Matter.objects.values_list("status", flat=True))
    assert statuses["result_published"] > statuses["reviewed"] + statuses["discussed"]
    assert statuses["rejected"] >= 1 and Matter.objects.filter(exempted_at__isnull=False).exists()
    for matter in Matter.objects.prefetch_related("steps__meeting", "steps__poll"):
        steps = list(matter.steps.all())
        names = [s.step for s in steps]
        if names and names[0] == "exempt":
            assert names[1:] == order[4:4 + len(names) - 1]
        elif names and names[-1] == "reject":
            assert names[:-1] == order[:len(names) - 1] and steps[-1].poll.result == "rejected"
        else:
            assert names == order[:len(names)]
        for step in steps:
            transition = workflow.BY_NAME.get(step.step)
            if transition and transition.meeting_kinds:
                assert step.meeting.kind in transition.meeting_kinds and step.meeting.quorum_met is not False
                assert AgendaItem.objects.filter(meeting=step.meeting, matter=matter).exists()
            if transition and transition.needs_vote:
                assert step.poll.result == "passed" and step.poll.meeting_id == step.meeting_id
            if transition and transition.publishes:
                assert step.publicity.status == "published" and step.publicity.category == transition.publishes
        assert matter.status == (steps[-1].to_status if steps else "draft")
        if matter.status == "result_published":
            assert matter.decision.status == "done"

    # -- decisions followed to the end: most on time, some late, some open or overdue
    done = Decision.objects.filter(status="done")
    assert not DecisionTask.objects.filter(decision__in=done).exclude(status="done").exists()
    late = done.filter(tasks__done_at__date__gt=F("tasks__due_on")).distinct()
    assert done.count() > 2 * late.count() > 0
    assert DecisionTask.objects.filter(status="open", due_on__lt=TODAY).exists()
    assert DecisionEntry.objects.filter(kind="supervision").exists()
    assert not DecisionEntry.objects.exclude(village_id=F("decision__village_id")).exists()
    assert Decision.objects.filter(cases__isnull=False).exists()  # decisions on residents' cases …
    assert not Decision.objects.exclude(cases__village_id=F("village_id")).filter(cases__isnull=False).exists()
    assert AgendaItem.objects.annotate(n=Count("cases")).filter(n__gte=2).exists()  # … similar ones together

    # -- publicity, flags, duty lists
    assert PublicityRequirement.objects.filter(county=county).count() == 5
    assert set(PublicityItem.objects.values_list("category", flat=True)) >= {
        "finance", "assets", "resources", "subsidies", "decision", "result"}
    assert PublicityItem.objects.filter(category="subsidies").exclude(lines=[]).exists()
    assert PublicityFlag.objects.exists()
    owners = Counter(Duty.objects.annotate(n=Count("owners")).values_list("n", flat=True))
    assert owners[0] >= 1 and owners[2] >= 1 and owners[1] > owners[0] + owners[2]

    # -- one audit row for the run; the demo's village login has a bit of everything
    assert AuditLog.objects.filter(action="generate", object_type="village.meeting").count() == 1
    login_village = User.objects.get(username="village").role_assignments.get().region
    assert showcase_village(county) == login_village.pk
    mine = statistics.compute(user=User.objects.get(username="village"), start=TODAY - dt.timedelta(days=365),
                              end=TODAY - dt.timedelta(days=1), today=TODAY)
    assert [u.region_id for u in mine.villages] == [login_village.pk]
    counts = mine.villages[0].counts
    assert counts["quorum_failures"] >= 1 and counts["matters_exempted"] >= 1 and counts["matters_rejected"] >= 1
    assert counts["tasks_overdue"] >= 1 and counts["held_villagers"] >= 1
    # The statistics count what the generator made.
    everything = statistics.compute(user=User.objects.get(username="county"), start=TODAY - dt.timedelta(days=365),
                                    end=TODAY - dt.timedelta(days=1), today=TODAY)
    assert everything.total.counts["consultations"] == result.consultations
    assert everything.total.counts["problems_solved"] == result.problems_solved
    assert everything.total.counts["meetings"] == result.figures["meetings"]

    # -- the same seed, the same year; a second run is refused unless it replaces the first
    first = _fingerprint()
    with pytest.raises(VillageDataExists):
        generate_village_year(county=county, seed=321, today=TODAY)
    generate_village_year(county=county, seed=321, today=TODAY, replace=True)
    assert _fingerprint() == first
    generate_village_year(county=county, seed=322, today=TODAY, replace=True)
    assert _fingerprint() != first
