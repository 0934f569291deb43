"""The issue's "done when", through the services: three similar cases become one agenda item; a
representatives' meeting one short of its quorum cannot vote; with its quorum it passes a
resolution that goes through all six 四议两公开 steps; the decision's tasks are assigned and
carried out, the cases' requesters are told, and the public page shows the decision."""
from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from gongzhi.cases.models import CaseEvent
from gongzhi.village import selectors, services
from gongzhi.village.models import Decision, MatterStatus, MeetingKind, PublicityItem

from .conftest import hold, vote_all

pytestmark = pytest.mark.django_db


def _meeting(v, kind, title, items=()):
    return services.meeting_schedule(actor=v.secretary, region=v.region, kind=kind, title=title,
                                     scheduled_at=timezone.now(), place="村委会会议室", items=items)


def test_three_cases_to_a_resolution_carried_out_and_published(village):
    v = village
    sec = v.secretary
    item = services.agenda_item_from_cases(actor=sec, cases=v.cases)
    assert item.cases.count() == 3 and "等3件" in item.title
    # Every requester's case says it went on the agenda, on their public timeline.
    assert CaseEvent.objects.filter(case__in=v.cases, kind="village_agenda", public=True).count() == 3

    matter = services.matter_create(actor=sec, region=v.region, title="硬化二组道路", topic="project",
                                    description="二组道路破损，拟筹资硬化", cases=v.cases)
    item.matter = matter
    item.save(update_fields=["matter"])

    def step(kind, name, present, vote=False):
        agenda = services.agenda_item_create(actor=sec, region=v.region, title=matter.title, mode="decide",
                                             source="matter", matter=matter)
        meeting = _meeting(v, kind, f"{matter.title}（{name}）", items=[agenda])
        hold(sec, meeting, present)
        poll = None
        if vote:
            poll = services.poll_open(actor=sec, meeting=meeting, question=f"同意{matter.title}", item=agenda)
            poll = vote_all(sec, poll)
        services.matter_advance(actor=sec, matter=matter, step=name, meeting=meeting, poll=poll,
                                content="筹资12万元硬化二组道路1.2公里，年内完工" if name == "resolve" else "")
        return meeting

    party_committee = [m.person for m in v.bodies["party"].members.all()]
    committee = party_committee + [m.person for m in v.bodies["committee"].members.all()]
    step(MeetingKind.BRANCH, "propose", party_committee)
    # Out of order: review before discuss is refused, and says which step comes next.
    with pytest.raises(ValidationError) as err:
        services.matter_advance(actor=sec, matter=matter, step="review")
    assert "两委会商议" in str(err.value)
    step(MeetingKind.TWO_COMMITTEES, "discuss", committee)
    step(MeetingKind.PARTY_MEMBERS, "review", [m.person for m in v.party_members[:6]], vote=True)

    reps = [m.person for m in v.representatives]
    # One representative short: 9 representatives need 6 (two thirds or more); 5 came.
    short = _meeting(v, MeetingKind.REPRESENTATIVES, "代表会议（人数不足）")
    hold(sec, short, reps[:5])
    with pytest.raises(ValidationError) as err:
        services.poll_open(actor=sec, meeting=short, question="同意硬化二组道路")
    message = str(err.value)
    assert "应到9" in message and "实到5" in message and "还差1" in message and "不能表决" in message

    step(MeetingKind.REPRESENTATIVES, "resolve", reps[:6], vote=True)
    matter.refresh_from_db()
    assert matter.status == MatterStatus.RESOLVED
    decision = Decision.objects.get(matter=matter)
    assert set(decision.cases.values_list("pk", flat=True)) == {c.pk for c in v.cases}
    assert CaseEvent.objects.filter(case__in=v.cases, kind="village_decision", public=True).count() == 3

    services.matter_advance(actor=sec, matter=matter, step="publish_resolution")
    # The result cannot be published before the work is done.
    task = services.task_add(actor=sec, decision=decision, title="招标施工", assignee=v.adults[0],
                             due_on=timezone.localdate() + dt.timedelta(days=30))
    with pytest.raises(ValidationError) as err:
        services.matter_advance(actor=sec, matter=matter, step="publish_result")
    assert "任务未完成" in str(err.value)
    services.task_progress(actor=sec, task=task, progress=50, note="已招标")
    services.task_progress(actor=sec, task=task, progress=100, note="已完工")
    services.decision_complete(actor=sec, decision=decision, note="道路已硬化")
    services.matter_advance(actor=sec, matter=matter, step="publish_result")
    matter.refresh_from_db()
    assert matter.status == MatterStatus.RESULT_PUBLISHED
    path = selectors.matter_path(matter)
    assert [p.done.step for p in path] == ["propose", "discuss", "review", "resolve", "publish_resolution",
                                           "publish_result"]
    assert all(p.done.meeting for p in path[:4]) and all(p.done.poll for p in path[2:4])
    assert all(p.done.publicity for p in path[4:])

    # The public page: the decision, with its progress, for the residents who raised the cases.
    public = list(selectors.public_decisions(v.region))
    assert [d.pk for d in public] == [decision.pk]
    assert any("进度50%" in e.text for e in public[0].public_entries)
    assert PublicityItem.objects.filter(matter=matter, status="published").count() == 2
    assert CaseEvent.objects.filter(case__in=v.cases, kind="village_progress", public=True).count() == 3


def test_villagers_meeting_quorum_by_adults_or_households(village):
    v = village
    sec = v.secretary
    meeting = _meeting(v, MeetingKind.VILLAGERS, "村民会议")
    services.meeting_open(actor=sec, meeting=meeting)
    state = selectors.meeting_state(user=sec, meeting=meeting)
    adults_part, households_part = state.quorum.parts
    assert adults_part.total == len(v.adults) == 28 and households_part.total == 14
    # One adult from each of 10 households: 10 of 28 adults is not more than half, but 10 of 14
    # households is two thirds or more (2/3 of 14 = 9.33).
    one_each = [p for p in v.adults if p.relation == "head"][:10]
    assert len({p.household_id for p in one_each}) == 10
    services.attendance_mark(actor=sec, meeting=meeting, marks={p.pk: "present" for p in one_each})
    state = selectors.meeting_state(user=sec, meeting=meeting)
    assert not state.quorum.parts[0].met and state.quorum.parts[1].met and state.quorum.met
    # Participation is counted: the older heads (born 1950–1953) are elderly.
    assert state.participation["elderly"] >= 4 and state.participation["came"] == 10


def test_a_vote_after_close_and_a_duplicate_ballot_are_refused(village):
    from gongzhi.village.models import Ballot, Poll

    v = village
    sec = v.secretary
    meeting = _meeting(v, MeetingKind.REPRESENTATIVES, "代表会议")
    reps = [m.person for m in v.representatives]
    hold(sec, meeting, reps[:7])
    poll = services.poll_open(actor=sec, meeting=meeting, question="同意修建文化广场", ballot="secret")
    ballots = list(Ballot.objects.filter(poll=poll))
    assert len(ballots) == 7 == poll.present_count
    services.ballots_cast(actor=sec, poll=poll, choices={ballots[0].voter_id: "for"})
    with pytest.raises(ValidationError) as err:
        services.ballots_cast(actor=sec, poll=poll, choices={ballots[1].voter_id: "for",
                                                             ballots[0].voter_id: "against"})
    assert "不能重复投票" in str(err.value)
    # Nothing of the refused batch was saved.
    assert Ballot.objects.filter(poll=poll, cast_at__isnull=False).count() == 1
    services.ballots_cast(actor=sec, poll=poll, choices={b.voter_id: "for" for b in ballots[1:4]})
    poll = services.poll_close(actor=sec, poll=poll)
    # 4 for of 7 present is more than half.
    assert (poll.votes_for, poll.result) == (4, "passed")
    # A secret ballot keeps no link between the voter and the choice.
    assert set(Ballot.objects.filter(poll=poll).values_list("choice", flat=True)) == {""}
    with pytest.raises(ValidationError) as err:
        services.ballots_cast(actor=sec, poll=poll, choices={ballots[5].voter_id: "for"})
    assert "表决已经结束" in str(err.value)
    assert Poll.objects.get(pk=poll.pk).votes_for == 4


def test_three_for_of_seven_present_does_not_pass(village):
    v = village
    sec = v.secretary
    meeting = _meeting(v, MeetingKind.REPRESENTATIVES, "代表会议")
    reps = [m.person for m in v.representatives]
    hold(sec, meeting, reps[:7])
    poll = services.poll_open(actor=sec, meeting=meeting, question="同意出租集体林地")
    poll = vote_all(sec, poll, against=reps[3:7])
    assert (poll.votes_for, poll.votes_against, poll.result) == (3, 4, "rejected")
    assert "至少4票" in services.poll_explain(poll)


def test_a_published_notice_cannot_be_edited_only_corrected(village):
    v = village
    sec = v.secretary
    item = services.publicity_draft(actor=sec, region=v.region, category="finance", title="2026年11月财务收支",
                                    lines=[{"item": "道路维修", "income": "0", "expense": "3200"}],
                                    period_start=dt.date(2026, 11, 1), period_end=dt.date(2026, 11, 30))
    services.publicity_publish(actor=sec, item=item)
    with pytest.raises(ValidationError) as err:
        services.publicity_update(actor=sec, item=item, title="改过的标题")
    assert "已公开的内容不能修改" in str(err.value)
    item.refresh_from_db()
    assert item.title == "2026年11月财务收支"
    new = services.publicity_correct(actor=sec, item=item, reason="支出金额录入错误",
                                     lines=[{"item": "道路维修", "income": "0", "expense": "2300"}])
    item.refresh_from_db()
    assert item.status == "superseded" and new.supersedes_id == item.pk and new.status == "published"
    assert "更正说明：支出金额录入错误" in new.body


def test_emergency_exemption_skips_deliberation_but_not_publication(village):
    v = village
    sec = v.secretary
    matter = services.matter_create(actor=sec, region=v.region, title="抢修山洪冲毁的便桥", topic="project",
                                    description="山洪冲毁便桥，群众无法出行")
    services.matter_exempt(actor=sec, matter=matter, reason="汛期山洪，危及群众出行安全", content="立即抢修便桥")
    matter.refresh_from_db()
    assert matter.status == MatterStatus.RESOLVED and matter.explain_due_on
    with pytest.raises(ValidationError):
        services.matter_advance(actor=sec, matter=matter, step="publish_result")
    services.matter_advance(actor=sec, matter=matter, step="publish_resolution")
    services.matter_explain(actor=sec, matter=matter, explanation="已于次日召开两委会通报")
    matter.refresh_from_db()
    assert matter.explained_at is not None


def test_a_formal_meeting_refuses_someone_not_on_the_registry_roll(village):
    v = village
    sec = v.secretary
    meeting = _meeting(v, MeetingKind.REPRESENTATIVES, "代表会议")
    services.meeting_open(actor=sec, meeting=meeting)
    not_rep = v.adults[0]
    with pytest.raises(ValidationError) as err:
        services.attendance_mark(actor=sec, meeting=meeting, marks={not_rep.pk: "present"})
    assert "不在本次" in str(err.value)


def test_the_requester_reads_the_decision_on_their_tracking_page(village, client):
    v = village
    case = v.cases[0]
    services.agenda_item_from_cases(actor=v.secretary, cases=[case])
    matter = services.matter_create(actor=v.secretary, region=v.region, title="修二组道路", description="修路",
                                    topic="project", cases=[case])
    services.matter_exempt(actor=v.secretary, matter=matter, reason="道路塌方", content="立即抢修二组道路")
    page = client.get(f"/r/t/{case.tracking_code}/").content.decode()
    assert "已列入村级议事议程：" in page and "村级决议：“修二组道路”：立即抢修二组道路" in page
