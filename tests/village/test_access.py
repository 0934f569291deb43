"""Scope and audit: another town's secretary gets 404 for every village write, a grid worker 403
for what only the village runs, and every write leaves an audit row; two clerks casting the same
ballot at once record it once (real concurrent PostgreSQL transactions)."""
from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils import timezone

from gongzhi.core.models import AuditLog
from gongzhi.village import services
from gongzhi.village.models import Ballot
from tests.intake.conftest import race

from .conftest import hold, make_village


def _meeting(v, kind="representatives"):
    return services.meeting_schedule(actor=v.secretary, region=v.region, kind=kind, title="会议",
                                     scheduled_at=timezone.now())


@pytest.mark.django_db
def test_outsider_404_grid_worker_403(village):
    v = village
    outsider, grid_worker = v.world.user("outsider_b"), v.world.user("grid_worker_a1_1")
    meeting = _meeting(v)
    with pytest.raises(Http404):
        services.meeting_open(actor=outsider, meeting=meeting)
    with pytest.raises(PermissionDenied):
        services.meeting_open(actor=grid_worker, meeting=meeting)
    with pytest.raises(Http404):
        services.matter_create(actor=outsider, region=v.region, title="x", description="y", topic="land")
    with pytest.raises(Http404):
        services.agenda_item_from_cases(actor=outsider, cases=v.cases)
    # A grid worker brings residents' proposals to the agenda of their village, but only cases they
    # may read themselves (these were filed for the village, not their grid).
    item = services.agenda_item_create(actor=grid_worker, region=v.region, title="二组想修文化广场", mode="speak",
                                       source="resident", proposer=v.adults[3])
    assert item.region_id == v.region.pk and item.proposer_id == v.adults[3].pk
    with pytest.raises(Http404):
        services.agenda_item_from_cases(actor=grid_worker, cases=v.cases[:1])


@pytest.mark.django_db
def test_every_write_is_audited(village):
    v = village
    before = AuditLog.objects.count()
    meeting = _meeting(v)
    hold(v.secretary, meeting, [m.person for m in v.representatives[:6]])
    poll = services.poll_open(actor=v.secretary, meeting=meeting, question="同意")
    services.ballots_cast(actor=v.secretary, poll=poll, choices={b.voter_id: "for" for b in Ballot.objects.filter(poll=poll)})
    services.poll_close(actor=v.secretary, poll=poll)
    services.meeting_close(actor=v.secretary, meeting=meeting, minutes="同意")
    rows = AuditLog.objects.order_by("id")[before:]
    kinds = [(r.object_type, r.action) for r in rows]
    assert ("village.meeting", "create") in kinds and ("village.poll", "create") in kinds
    assert sum(1 for t, a in kinds if t == "village.poll" and a == "update") == 2  # ballots, close
    assert all(r.actor_id == v.secretary.pk for r in rows)


@pytest.mark.django_db(transaction=True)
def test_concurrent_duplicate_ballots_record_one():
    from tests.world import build_world

    v = make_village(build_world())
    meeting = _meeting(v)
    hold(v.secretary, meeting, [m.person for m in v.representatives[:6]])
    poll = services.poll_open(actor=v.secretary, meeting=meeting, question="同意", ballot="secret")
    voter = Ballot.objects.filter(poll=poll).first().voter_id

    def cast(i):
        return services.ballots_cast(actor=v.secretary, poll=poll, choices={voter: "for" if i % 2 else "against"})

    results, errors = race(4, cast)
    assert sum(r or 0 for r in results) == 1
    assert len(errors) == 3 and all(isinstance(e, ValidationError) and "不能重复投票" in str(e) for e in errors)
    assert poll.secret_ballots.count() == 1
