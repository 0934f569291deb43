"""Three-line assignments: coverage, a proposed assignment the village secretary confirms or
edits, and a history that is never deleted."""
import pytest
from django.core.exceptions import ValidationError

from gongzhi.care import selectors, services
from gongzhi.care.models import AssignmentProposal, LineLimit
from gongzhi.core.models import AuditLog
from gongzhi.registry.models import ContactAssignment, Household

from .conftest import household_in


@pytest.fixture
def village(care):
    r, g = care.regions, care.grids
    for i in range(4):  # four households of villager group 1, grid A1-1
        household_in(care, f"g1-{i}", r["A1g1"], g["A1-1"], f"一组{i}", 20000 + i)
    for i in range(3):  # three in grid A1-2
        household_in(care, f"g2-{i}", r["A1"], g["A1-2"], f"二组{i}", 20000 + i)
    return care


def test_coverage_lists_households_nobody_is_in_touch_with(village):
    report = selectors.coverage(village.user("village_secretary_a1"), village=village.regions["A1"])
    uncovered = {h.code for h in report.uncovered}
    assert "H-A1-1" not in uncovered  # 李强 keeps in touch with it (tests/world.py)
    assert {"H-A1-2", "H-A1-3", "H-g1-0", "H-g2-2"} <= uncovered
    assert report.households == Household.objects.filter(village_id=village.regions["A1"].pk).count()
    assert ("李强", "party_member", 1, (3, 5), village.persons["party_member"].pk) in report.under


def test_persons_over_their_limit_are_listed_and_limits_are_data(village):
    secretary = village.user("village_secretary_a1")
    member = village.persons["party_member"]
    for key in ("g1-0", "g1-1", "g1-2"):
        services.assignment_create(actor=secretary, household=village.households[key], person=member,
                                   line="party_member")
    report = selectors.coverage(secretary, village=village.regions["A1"])
    assert not report.over
    LineLimit.objects.create(county=village.regions["C"], line="party_member", min_households=1, max_households=3)
    report = selectors.coverage(secretary, village=village.regions["A1"])
    assert [(name, n, limits) for name, _line, n, limits, _pid in report.over] == [("李强", 4, (1, 3))]


def test_the_proposal_prefers_the_same_group_then_the_same_grid_and_balances_load(village):
    secretary = village.user("village_secretary_a1")
    proposal = services.assignment_proposal_create(actor=secretary, village=village.regions["A1"])
    items = {i.household.code: i for i in proposal.items.select_related("household", "person")}
    # Group 1 households go to the party members who live in group 1 (陈网格 of A1-3) first.
    worker = village.persons["worker"]
    group1 = [items[f"H-g1-{i}"] for i in range(4)]
    assert all(i.reason.startswith("同组") or i.reason.startswith("同网格") or i.reason == "同村" for i in group1)
    assert items["H-g1-0"].person_id == worker.pk and items["H-g1-0"].reason.startswith("同组（五一村一组）")
    # Grid A1-2 households go to someone of grid A1-2: 李强 lives there, 陈组长 is its central
    # household head; equally loaded, the party member comes first.
    assert items["H-g2-0"].person_id in (village.persons["party_member"].pk, village.persons["grid_head"].pk)
    assert items["H-g2-0"].reason.startswith("同网格（五一村二组网格）")
    # Nobody is proposed past their limit, nobody keeps in touch with their own household.
    counts = {}
    for item in items.values():
        if item.person_id:
            counts[(item.person_id, item.line)] = counts.get((item.person_id, item.line), 0) + 1
            assert item.person.household_id != item.household_id
    assert max(counts.values()) <= 15 and counts.get((worker.pk, "party_member"), 0) <= 5


def test_the_secretary_confirms_and_edits_and_every_change_is_kept(village):
    secretary = village.user("village_secretary_a1")
    proposal = services.assignment_proposal_create(actor=secretary, village=village.regions["A1"])
    item = proposal.items.get(household=village.households["g1-1"])
    skipped = proposal.items.get(household=village.households["g1-2"])
    other = village.persons["party_member"]
    created = services.assignment_proposal_confirm(actor=secretary, proposal=proposal,
                                                   choices={item.pk: other.pk, skipped.pk: None})
    proposal.refresh_from_db()
    assert proposal.status == AssignmentProposal.Status.CONFIRMED
    edited = ContactAssignment.objects.get(household=village.households["g1-1"], ended_on__isnull=True)
    assert edited.person_id == other.pk and edited.line == "party_member"
    assert not ContactAssignment.objects.filter(household=village.households["g1-2"]).exists()
    assert len(created) == proposal.items.filter(assignment__isnull=False).count()
    skipped.refresh_from_db()
    assert skipped.assignment is None
    assert AuditLog.objects.filter(object_type="registry.contactassignment", object_id=str(edited.pk),
                                   note__contains="书记调整").exists()
    # Ending an assignment keeps the row, with the reason in the audit trail.
    services.assignment_end(actor=secretary, assignment=edited, reason="党员外出务工")
    edited.refresh_from_db()
    assert edited.ended_on is not None
    assert ContactAssignment.objects.filter(pk=edited.pk).exists()
    assert AuditLog.objects.filter(object_id=str(edited.pk), note="结束联系：党员外出务工").exists()
    with pytest.raises(ValidationError):
        services.assignment_proposal_confirm(actor=secretary, proposal=proposal)


def test_assignments_are_checked(village):
    secretary = village.user("village_secretary_a1")
    member = village.persons["party_member"]
    with pytest.raises(ValidationError):  # keeps in touch with it already
        services.assignment_create(actor=secretary, household=village.households["A1-1"], person=member,
                                   line="party_member")
    with pytest.raises(ValidationError):  # not a deputy
        services.assignment_create(actor=secretary, household=village.households["g1-0"], person=member,
                                   line="deputy")
    with pytest.raises(ValidationError):  # their own household
        services.assignment_create(actor=secretary, household=village.households["A1-2"], person=member,
                                   line="party_member")
    with pytest.raises(ValidationError):
        services.assignment_end(actor=secretary, assignment=ContactAssignment.objects.first(), reason=" ")
