"""The demo's assessment of last quarter on the test world: the issued county bulletin, a passive
village proposed for a warning talk and waiting for a person, a fault-tolerance application decided
and one waiting, the burden meter's trace-only demands; and ``--clear`` removes it all, issued
bulletin included."""
from __future__ import annotations

from gongzhi.accounts.models import Role, RoleAssignment, User
from gongzhi.assessment import burden
from gongzhi.assessment.demo import clear_assessment, generate_assessment
from gongzhi.assessment.models import (
    Bulletin, BulletinStatus, BurdenFlag, DecisionStatus, FaultToleranceApplication, Measure, Proposal, Standing,
)


def _demo_login(username, role, **scope):
    user = User.objects.create_user(username=username, password="x", display_name=username,
                                    person=scope.pop("person", None))
    RoleAssignment.objects.create(user=user, role=Role.objects.get(code=role), **scope)
    return user


def test_the_demo_assesses_last_quarter_and_leaves_decisions_to_people(aw, period):
    r = aw.regions
    _demo_login("county", "county_secretary", region=r["C"])
    _demo_login("town", "town_secretary", region=r["A"])
    _demo_login("village", "village_secretary", region=r["A1"])
    _demo_login("grid", "grid_worker", grid=aw.grids["A1-1"], person=aw.persons["A1-1"])
    result = generate_assessment(county=r["C"], period=period)
    assert result.scored > 50 and result.passive_village == "月河村"

    bulletin = Bulletin.objects.get(pk=result.bulletin_id)
    assert bulletin.status == BulletinStatus.ISSUED and bulletin.scope_kind == "county"
    assert Bulletin.objects.filter(scope_kind="town", status=BulletinStatus.DRAFT).count() == 1
    talk = Proposal.objects.get(region=r["A2"], measure=Measure.WARNING_TALK)
    assert talk.standing in (Standing.PASSIVE, Standing.FORMAL) and talk.status == DecisionStatus.FILED
    assert FaultToleranceApplication.objects.filter(status=DecisionStatus.ACCEPTED).count() == 1
    assert FaultToleranceApplication.objects.filter(status=DecisionStatus.FILED).count() == 1
    assert BurdenFlag.objects.filter(status=DecisionStatus.FILED, kind="pledge").exists()
    trace_only = {load.demand.code for load in burden.meter(r["C"])["no_indicator"]}
    assert {"weekly-log", "visit-photos", "safety-pledge", "patrol_checkin"} <= trace_only

    assert clear_assessment(r["C"]) > 0
    assert not Bulletin.objects.exists() and not Proposal.objects.exists()
