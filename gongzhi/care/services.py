"""Every write of the care app. Each service takes a keyword-only ``actor``, runs in one
transaction, checks permission and scope through ``gongzhi.core.scoping`` (``access_object``
before, ``recheck_in_scope`` after a write that creates a row), validates, and writes its audit
record. Changes to the registry itself (people born, moving, dying; income; disability) go
through ``gongzhi.registry.services`` so the registry keeps one audit trail and one scope check.

Derived state (the household's class, its care plan and next visit) is recomputed by explicit
calls — ``household_reclassify`` — from the services that change a household's facts, never by
signals: a change to one household recomputes that household only.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from gongzhi.core.audit import AuditAction, audit_record, snapshot
from gongzhi.core.scoping import access_object, recheck_in_scope, require_perm
from gongzhi.registry import services as registry_services
from gongzhi.registry.models import (
    HouseholdFactsChange,
    CentralHouseholdHead, ContactAssignment, ContactLine, Deputy, Grid, Household, PartyMembership, Person,
    PersonStatus, Region, RegionLevel, Relation,
)

from . import classify, plans
from .models import (
    NEEDS_CONFIRMATION, ArchiveChange, AssignmentProposal, CareAlert, ChangeKind, ClassRule, Colour,
    ContactMethod, ContactRecord, HouseholdClass, HouseholdClassChange, IncomeObservation, LineLimit, Patrol,
    PatrolProblem, ProposalItem, ReceptionSession, ReceptionSuggestion, RuleKind, Visit, WatchEvent,
)


def _territory(obj) -> dict:
    return {"county_id": obj.county_id, "town_id": obj.town_id, "village_id": obj.village_id}


def _household(actor, household, perm: str, *, lock: bool = False) -> Household:
    qs = Household.objects.select_for_update(of=("self",)) if lock else Household.objects.all()
    return access_object(qs, actor, perm, pk=getattr(household, "pk", household))


# ---------------------------------------------------------------------------------------------
# the case loop (gongzhi.cases): "needs action" becomes a case in one step


#: The case category a care record opens by default; the village re-classifies the case in the
#: case loop (``case_classify``) when another fits better.
CASE_CATEGORY = {"three_line": "demand-small-matter", "grid_patrol": "demand-small-matter",
                 "reception": "opinion-deputy-suggestion"}


class NoCaseCategory(ValidationError):
    """The county has no active category to file a care record's matter under."""


def case_from_care(*, actor, channel: str, household: Household | None, title: str, description: str,
                   grid: Grid | None = None, region: Region | None = None, source: str = "") -> str:
    """Open a case in the case loop (``gongzhi.cases.services.case_register``) and return its number.

    The single integration point with ``gongzhi.cases``. Raises ``NoCaseCategory`` when the county
    has retired the category to file under; callers keep their record with ``needs_action`` set,
    so the case can be opened later (``needs_action_case_open``).
    """
    from gongzhi.cases import services as case_services

    region = region or (household.region if household is not None else None) or (grid.region if grid else None)
    county_id = region.county_id if region is not None else None
    category = case_services.category_for(county_id=county_id, code=CASE_CATEGORY[source or channel])
    if category is None:
        raise NoCaseCategory(f"没有可用的事项类别：{CASE_CATEGORY[source or channel]}")
    if grid is None and household is not None:
        grid = household.grid
    if grid is not None and region is not None and grid.village_id != region.village_id:
        grid = None
    case = case_services.case_register(
        actor=actor, category=category, title=title[:100], description=description, channel=channel,
        region=region, grid=grid, requester=household.head if household is not None else None,
        address=household.address if household is not None else "",
    )
    return str(case.number)


def _try_case(**kwargs) -> str:
    """Open the case inside a savepoint. When the case loop cannot take it (no category, the actor
    may not open cases) the care record is kept with ``needs_action`` set and
    no case number, and the village opens the case later; the record is never lost."""
    try:
        with transaction.atomic():
            return case_from_care(**kwargs)
    except (NoCaseCategory, PermissionDenied):
        return ""


# ---------------------------------------------------------------------------------------------
# three-line assignments


LINE_ZH = {"party_member": "党员", "deputy": "人大代表", "central_head": "中心户长"}


def line_limits(county_id: int | None) -> dict[str, tuple[int, int]]:
    rows = {r.line: (r.min_households, r.max_households) for r in LineLimit.objects.filter(county__isnull=True)}
    if county_id:
        rows.update({r.line: (r.min_households, r.max_households)
                     for r in LineLimit.objects.filter(county_id=county_id)})
    return rows


@dataclass
class Candidate:
    person: Person
    line: str
    grid_id: int | None  # the grid a central household head serves, else the grid of their home
    group_id: int | None  # the villager group they live in
    household_id: int | None


def village_candidates(village: Region) -> list[Candidate]:
    """The three-line persons living in a village: party members, deputies, central heads."""
    out: dict[tuple[int, str], Candidate] = {}

    def add(person, line, grid_id=None):
        home = person.household
        group = home.region_id if home and home.region.level == RegionLevel.GROUP else None
        out.setdefault((person.pk, line), Candidate(person, line, grid_id or (home.grid_id if home else None),
                                                    group, person.household_id))

    people = Person.objects.select_related("household__region").filter(village_id=village.pk,
                                                                        status=PersonStatus.ACTIVE)
    for m in PartyMembership.objects.filter(ended_on__isnull=True, person__in=people).select_related(
            "person__household__region"):
        add(m.person, ContactLine.PARTY_MEMBER)
    for d in Deputy.objects.filter(person__in=people).select_related("person__household__region"):
        add(d.person, ContactLine.DEPUTY)
    for c in CentralHouseholdHead.objects.filter(person__in=people).select_related("person__household__region"):
        add(c.person, ContactLine.CENTRAL_HEAD, c.grid_id)
    return list(out.values())


def _validate_line(person: Person, line: str) -> None:
    checks = {
        ContactLine.PARTY_MEMBER: PartyMembership.objects.filter(person=person, ended_on__isnull=True),
        ContactLine.DEPUTY: Deputy.objects.filter(person=person),
        ContactLine.CENTRAL_HEAD: CentralHouseholdHead.objects.filter(person=person),
    }
    if line not in checks:
        raise ValidationError({"line": "联系线别不正确"})
    if not checks[line].exists():
        raise ValidationError({"person": f"{person.name}不是{LINE_ZH[line]}"})


def _assignment_create(*, actor, household: Household, person: Person, line: str, on: dt.date,
                       note: str = "") -> ContactAssignment:
    _validate_line(person, line)
    if person.household_id == household.pk:
        raise ValidationError({"person": "不能联系本人所在的户"})
    if person.county_id != household.county_id:
        raise ValidationError({"person": "三线人员与该户不在同一个县"})
    if ContactAssignment.objects.filter(person=person, household=household, ended_on__isnull=True).exists():
        raise ValidationError({"person": f"{person.name}已在联系该户"})
    assignment = ContactAssignment(person=person, household=household, line=line, started_on=on,
                                   **_territory(household))
    assignment.full_clean()
    assignment.save()
    recheck_in_scope(assignment, actor, "registry.add_contactassignment")
    audit_record(actor=actor, action=AuditAction.CREATE, obj=assignment, after=snapshot(assignment), note=note)
    return assignment


@transaction.atomic
def assignment_create(*, actor, household: Household, person: Person, line: str,
                      started_on: dt.date | None = None) -> ContactAssignment:
    household = _household(actor, household, "registry.add_contactassignment")
    person = Person.objects.select_for_update().get(pk=person.pk)
    assignment = _assignment_create(actor=actor, household=household, person=person, line=line,
                                    on=started_on or timezone.localdate())
    household_reclassify(actor=actor, household=household)
    return assignment


@transaction.atomic
def assignment_end(*, actor, assignment: ContactAssignment, reason: str,
                   ended_on: dt.date | None = None) -> ContactAssignment:
    """End (never delete) an assignment: the ended row is the history."""
    assignment = access_object(ContactAssignment.objects.select_for_update(), actor,
                               "registry.change_contactassignment", pk=assignment.pk)
    if not reason.strip():
        raise ValidationError({"reason": "请填写调整原因"})
    if assignment.ended_on is not None:
        return assignment
    before = snapshot(assignment)
    assignment.ended_on = ended_on or timezone.localdate()
    if assignment.ended_on < assignment.started_on:
        raise ValidationError({"ended_on": "结束日期早于开始日期"})
    assignment.save(update_fields=["ended_on"])
    audit_record(actor=actor, action=AuditAction.UPDATE, obj=assignment, before=before, after=snapshot(assignment),
                 note=f"结束联系：{reason.strip()}")
    household_reclassify(actor=actor, household=assignment.household)
    return assignment


def propose_assignments(village: Region) -> list[dict]:
    """For each household nobody is in touch with: the nearest three-line person with room.

    Nearness: same villager group, then the grid a central household head serves or the same
    grid, then the same village. Load is balanced: among equally near persons the one with the
    fewest households (relative to their line's limit) wins, and nobody is filled past the limit.
    """
    limits = line_limits(village.county_id)
    candidates = village_candidates(village)
    load: dict[tuple[int, str], int] = {}
    for person_id, line in ContactAssignment.objects.filter(ended_on__isnull=True, person__in=[c.person for c in candidates]
                                                            ).values_list("person_id", "line"):
        load[(person_id, line)] = load.get((person_id, line), 0) + 1
    covered = ContactAssignment.objects.filter(ended_on__isnull=True, village_id=village.pk).values("household_id")
    households = (Household.objects.filter(village_id=village.pk).exclude(pk__in=covered)
                  .select_related("region", "grid").order_by("grid_id", "region_id", "code"))
    proposal = []
    for household in households:
        group = household.region_id if household.region.level == RegionLevel.GROUP else None
        best, best_key, why = None, None, ""
        for c in candidates:
            key_load = load.get((c.person.pk, c.line), 0)
            limit = limits.get(c.line, (3, 5))[1]
            if key_load >= limit or c.household_id == household.pk:
                continue
            if group is not None and c.group_id == group:
                near, label = 0, f"同组（{household.region.name}）"
            elif household.grid_id is not None and c.grid_id == household.grid_id:
                near, label = 1, f"同网格（{household.grid.name}）"
            else:
                near, label = 2, "同村"
            key = (near, key_load / limit, c.line != ContactLine.PARTY_MEMBER, c.person.pk)
            if best_key is None or key < best_key:
                best, best_key, why = c, key, f"{label}，已联系{key_load}户"
        if best is not None:
            load[(best.person.pk, best.line)] = load.get((best.person.pk, best.line), 0) + 1
        proposal.append({"household": household, "candidate": best, "reason": why if best else "没有可用的三线人员"})
    return proposal


@transaction.atomic
def assignment_proposal_create(*, actor, village: Region) -> AssignmentProposal:
    village = access_object(Region.objects.all(), actor, "care.add_assignmentproposal", pk=village.pk)
    if village.level != RegionLevel.VILLAGE:
        raise ValidationError({"village": "只能为村（社区）生成联系方案"})
    AssignmentProposal.objects.filter(region=village, status=AssignmentProposal.Status.DRAFT).update(
        status=AssignmentProposal.Status.DISCARDED, decided_by=actor, decided_at=timezone.now())
    proposal = AssignmentProposal.objects.create(region=village, created_by=actor, **_territory(village))
    ProposalItem.objects.bulk_create([
        ProposalItem(proposal=proposal, household=row["household"],
                     person=row["candidate"].person if row["candidate"] else None,
                     line=row["candidate"].line if row["candidate"] else "", reason=row["reason"])
        for row in propose_assignments(village)
    ])
    recheck_in_scope(proposal, actor, "care.add_assignmentproposal")
    audit_record(actor=actor, action=AuditAction.CREATE, obj=proposal, after=snapshot(proposal),
                 note=f"生成联系方案：{proposal.items.count()}户")
    return proposal


@transaction.atomic
def assignment_proposal_confirm(*, actor, proposal: AssignmentProposal,
                                choices: dict[int, int | None] | None = None) -> list[ContactAssignment]:
    """Confirm a proposal. ``choices`` maps item id → person id (the secretary's edit) or None
    (leave the household for later); items not in ``choices`` keep the proposed person."""
    proposal = access_object(AssignmentProposal.objects.select_for_update(), actor, "care.add_assignmentproposal",
                             pk=proposal.pk)
    require_perm(actor, "registry.add_contactassignment")
    if proposal.status != AssignmentProposal.Status.DRAFT:
        raise ValidationError("该方案已处理")
    choices = choices or {}
    lines = {}
    for c in village_candidates(proposal.region):
        lines.setdefault(c.person.pk, c.line)
    created = []
    today = timezone.localdate()
    for item in proposal.items.select_related("household", "person"):
        person_id = choices.get(item.pk, item.person_id)
        if person_id is None:
            continue
        if person_id not in lines:
            raise ValidationError({"person": "所选人员不是本村三线人员"})
        household = _household(actor, item.household, "registry.add_contactassignment")
        person = Person.objects.get(pk=person_id)
        line = item.line if person_id == item.person_id and item.line else lines[person_id]
        edited = person_id != item.person_id
        assignment = _assignment_create(actor=actor, household=household, person=person, line=line, on=today,
                                        note="按联系方案确认" + ("（书记调整）" if edited else ""))
        item.person_id, item.line, item.assignment = person_id, line, assignment
        item.save(update_fields=["person", "line", "assignment"])
        created.append(assignment)
    before = snapshot(proposal)
    proposal.status = AssignmentProposal.Status.CONFIRMED
    proposal.decided_by, proposal.decided_at = actor, timezone.now()
    proposal.save(update_fields=["status", "decided_by", "decided_at"])
    audit_record(actor=actor, action=AuditAction.TRANSITION, obj=proposal, before=before, after=snapshot(proposal),
                 note=f"确认联系方案：新增{len(created)}条联系")
    if created:
        household_ids = [a.household_id for a in created]
        plans.sync_plans(Household.objects.filter(pk__in=household_ids))
    return created


# ---------------------------------------------------------------------------------------------
# contact records and voter reception days


@transaction.atomic
def contact_record(*, actor, household: Household, method: str, heard: str,
                   contacted_at: dt.datetime | None = None, needs_action: bool = False) -> ContactRecord:
    household = _household(actor, household, "care.add_contactrecord")
    if method not in ContactMethod.values:
        raise ValidationError({"method": "请选择联系方式"})
    if not heard.strip():
        raise ValidationError({"heard": "请填写听到的情况"})
    contacted_at = contacted_at or timezone.now()
    if contacted_at > timezone.now() + dt.timedelta(minutes=5):
        raise ValidationError({"contacted_at": "联系时间不能晚于现在"})
    person = getattr(actor, "person", None)
    line = ""
    if person is not None:
        line = (ContactAssignment.objects.filter(person=person, household=household, ended_on__isnull=True)
                .values_list("line", flat=True).first() or "")
    record = ContactRecord(household=household, person=person, line=line, contacted_at=contacted_at, method=method,
                           heard=heard.strip(), needs_action=needs_action, recorded_by=actor,
                           **_territory(household))
    record.full_clean()
    record.save()
    recheck_in_scope(record, actor, "care.add_contactrecord")
    if needs_action:
        record.case_ref = _try_case(actor=actor, channel="three_line", household=household, grid=household.grid,
                                    title=f"三线联系：{heard.strip()[:30]}", description=heard.strip())
        if record.case_ref:
            record.save(update_fields=["case_ref"])
    audit_record(actor=actor, action=AuditAction.CREATE, obj=record, after=snapshot(record))
    return record


def next_reception_day(county_id: int | None, today: dt.date | None = None) -> dt.date:
    from .models import CareSettings

    today = today or timezone.localdate()
    row = CareSettings.objects.filter(county_id=county_id).first() if county_id else None
    weekday = row.reception_weekday if row else CareSettings._meta.get_field("reception_weekday").default
    return today + dt.timedelta(days=(weekday - today.weekday()) % 7)


@transaction.atomic
def reception_session_create(*, actor, region: Region, held_on: dt.date | None = None, station: str = "",
                             deputies: list[Deputy] | None = None) -> ReceptionSession:
    region = access_object(Region.objects.all(), actor, "care.add_receptionsession", pk=region.pk)
    if region.level not in (RegionLevel.TOWN, RegionLevel.VILLAGE):
        raise ValidationError({"region": "接待日设在镇或村（社区）的代表联络站"})
    session = ReceptionSession(region=region, held_on=held_on or next_reception_day(region.county_id),
                               station=station.strip(), created_by=actor, **_territory(region))
    session.full_clean()
    session.save()
    if deputies:
        session.deputies.set(Deputy.objects.filter(pk__in=[d.pk for d in deputies], county_id=region.county_id))
    recheck_in_scope(session, actor, "care.add_receptionsession")
    audit_record(actor=actor, action=AuditAction.CREATE, obj=session, after=snapshot(session))
    return session


@transaction.atomic
def reception_suggestion_record(*, actor, session: ReceptionSession, deputy: Deputy, content: str,
                                voter_name: str = "", household: Household | None = None,
                                needs_action: bool = False) -> ReceptionSuggestion:
    session = access_object(ReceptionSession.objects.all(), actor, "care.add_receptionsuggestion", pk=session.pk)
    if deputy.county_id != session.county_id:
        raise ValidationError({"deputy": "代表不在本县"})
    if not content.strip():
        raise ValidationError({"content": "请填写意见建议"})
    if household is not None:
        household = _household(actor, household, "registry.view_household")
    suggestion = ReceptionSuggestion(session=session, deputy=deputy, content=content.strip(),
                                     voter_name=voter_name.strip(), household=household, needs_action=needs_action,
                                     recorded_by=actor, **_territory(session))
    suggestion.full_clean()
    suggestion.save()
    session.deputies.add(deputy)
    if needs_action:
        suggestion.case_ref = _try_case(actor=actor, channel="three_line", source="reception", household=household,
                                        region=session.region,
                                        title=f"选民接待日：{content.strip()[:30]}", description=content.strip())
        if suggestion.case_ref:
            suggestion.save(update_fields=["case_ref"])
    audit_record(actor=actor, action=AuditAction.CREATE, obj=suggestion, after=snapshot(suggestion))
    return suggestion


# ---------------------------------------------------------------------------------------------
# classification


def household_reclassify(*, actor, household: Household | int) -> HouseholdClass:
    """Recompute one household's class (and its care plan). Called by the services that change
    its facts; touches that household's rows only. Audits only a change of class."""
    hid = getattr(household, "pk", household)
    with transaction.atomic():
        # This recomputation takes in whatever the registry announced for the household.
        HouseholdFactsChange.objects.filter(household_id=hid).delete()
        stats = classify.classify_where(Household.objects.filter(pk=hid), actor_id=getattr(actor, "pk", None))
        plans.sync_plans(Household.objects.filter(pk=hid))
        row = HouseholdClass.objects.get(pk=hid)
        if stats.changed:
            audit_record(actor=actor, action=AuditAction.UPDATE, obj=row, note=classify.summary(row.colour, row.reasons))
    return row


@transaction.atomic
def households_classify(*, actor, region: Region | None = None, batch_size: int = 20000,
                        sync_care_plans: bool = True) -> classify.RunStats:
    """Classify every household of a region (or all), set-based; one audit row for the run."""
    if actor is not None:
        require_perm(actor, "care.change_classrule")
    households = Household.objects.all()
    if region is not None:
        column = {1: "county_id", 2: "town_id", 3: "village_id"}.get(region.level, "region_id")
        households = households.filter(**{column: region.pk})
    stats = classify.classify_where(households, actor_id=getattr(actor, "pk", None), batch_size=batch_size)
    plan_stats = plans.sync_plans(households) if sync_care_plans else "未同步"
    audit_record(actor=actor, action=AuditAction.UPDATE, object_type="care.householdclass",
                 object_repr=f"重新分类 {region.name if region else '全部'}", territory=region,
                 note=f"分类{stats.households}户，变化{stats.changed}户；{stats.by_colour}；护理计划{plan_stats}")
    return stats


@transaction.atomic
def class_override_set(*, actor, household: Household, colour: str, reason: str,
                       expires_on: dt.date) -> HouseholdClass:
    household = _household(actor, household, "care.override_householdclass")
    if colour not in (Colour.RED, Colour.YELLOW, Colour.GREEN):
        raise ValidationError({"colour": "请选择红、黄、绿之一"})
    if not reason.strip():
        raise ValidationError({"reason": "人工调整必须填写理由"})
    today = timezone.localdate()
    if expires_on is None or expires_on <= today:
        raise ValidationError({"expires_on": "人工调整必须有到期日，且晚于今天"})
    if expires_on > today + dt.timedelta(days=366):
        raise ValidationError({"expires_on": "人工调整最长一年，到期后按规则重新判定"})
    row = HouseholdClass.objects.select_for_update().filter(pk=household.pk).first()
    if row is None:
        row = household_reclassify(actor=actor, household=household)
    before = snapshot(row)
    previous = row.effective_colour
    row.override_colour, row.override_reason, row.override_expires_on = colour, reason.strip(), expires_on
    row.override_by = actor
    row.save(update_fields=["override_colour", "override_reason", "override_expires_on", "override_by"])
    HouseholdClassChange.objects.create(household=household, colour_from=previous, colour_to=colour,
                                        reasons=[f"人工调整：{reason.strip()}（至{expires_on}）"], source="override",
                                        actor=actor, at=timezone.now(), **_territory(household))
    audit_record(actor=actor, action=AuditAction.UPDATE, obj=row, before=before, after=snapshot(row),
                 note=f"人工调整为{classify.COLOUR_ZH[colour]}：{reason.strip()}")
    plans.sync_plans(Household.objects.filter(pk=household.pk))
    return row


@transaction.atomic
def class_override_clear(*, actor, household: Household) -> HouseholdClass:
    household = _household(actor, household, "care.override_householdclass")
    row = HouseholdClass.objects.select_for_update().get(pk=household.pk)
    if not row.override_colour:
        return row
    before, previous = snapshot(row), row.effective_colour
    row.override_colour, row.override_reason, row.override_expires_on, row.override_by = "", "", None, None
    row.save(update_fields=["override_colour", "override_reason", "override_expires_on", "override_by"])
    HouseholdClassChange.objects.create(household=household, colour_from=previous, colour_to=row.colour,
                                        reasons=row.reasons, source="override_end", actor=actor, at=timezone.now(),
                                        **_territory(household))
    audit_record(actor=actor, action=AuditAction.UPDATE, obj=row, before=before, after=snapshot(row),
                 note="撤销人工调整")
    plans.sync_plans(Household.objects.filter(pk=household.pk))
    return row


RULE_PARAM_KEYS = {
    "left_behind": {"kinds"}, "poverty_status": {"statuses"}, "disabled_member": {"max_grade"},
    "released_member": {"within_years"}, "on_watch_list": set(), "income_vs_average": {"relation", "basis"},
    "peaceful_running": {"years"}, "not_peaceful_recent": {"years"},
}


def validate_rule(*, colour: str, kind: str, params: dict, group: int) -> None:
    if colour not in ("red", "yellow", "green"):
        raise ValidationError({"colour": "颜色只能是红、黄、绿"})
    if kind not in RuleKind.values:
        raise ValidationError({"kind": "未知的条件"})
    if not isinstance(params, dict) or set(params) - RULE_PARAM_KEYS[kind]:
        raise ValidationError({"params": f"参数只能包含：{', '.join(sorted(RULE_PARAM_KEYS[kind])) or '（无）'}"})
    if kind == "income_vs_average" and (params.get("relation", "above") not in ("above", "below")
                                        or params.get("basis", "per_capita") not in ("per_capita", "household")):
        raise ValidationError({"params": "relation 为 above/below，basis 为 per_capita/household"})
    for key in ("years", "within_years", "max_grade"):
        if key in params and (not isinstance(params[key], int) or not 0 < params[key] <= 50):
            raise ValidationError({"params": f"{key} 必须是正整数"})
    if not 0 < group < 100:
        raise ValidationError({"group": "组号为1–99"})


def _county_rules(actor, county: Region):
    county = access_object(Region.objects.all(), actor, "care.change_classrule", pk=county.pk)
    if county.level != RegionLevel.COUNTY:
        raise ValidationError("分类规则按县设置")
    if not ClassRule.objects.filter(county=county).exists():
        ClassRule.objects.bulk_create([
            ClassRule(county=county, colour=r.colour, group=r.group, kind=r.kind, params=r.params, enabled=r.enabled,
                      note=r.note) for r in ClassRule.objects.filter(county__isnull=True).order_by("id")])
    return county


@transaction.atomic
def class_rule_save(*, actor, county: Region, colour: str, kind: str, params: dict, group: int = 1,
                    enabled: bool = True, note: str = "", rule: ClassRule | None = None) -> ClassRule:
    """Create or change one rule of a county (the defaults are copied to the county first)."""
    county = _county_rules(actor, county)
    validate_rule(colour=colour, kind=kind, params=params, group=group)
    if rule is not None:
        rule = ClassRule.objects.select_for_update().get(pk=rule.pk)
        if rule.county_id is None:  # editing a default row edits the county's copy of it
            rule = ClassRule.objects.filter(county=county, colour=rule.colour, group=rule.group, kind=rule.kind).first()
        if rule is None or rule.county_id != county.pk:
            raise ValidationError("规则不属于本县")
    before = snapshot(rule) if rule else None
    rule = rule or ClassRule(county=county)
    rule.colour, rule.kind, rule.params, rule.group, rule.enabled, rule.note = colour, kind, params, group, enabled, note
    rule.full_clean()
    rule.save()
    audit_record(actor=actor, action=AuditAction.UPDATE if before else AuditAction.CREATE, obj=rule, before=before,
                 after=snapshot(rule), territory=county, note="修改分类规则（下次全县重新分类时生效）")
    return rule


# ---------------------------------------------------------------------------------------------
# visits and alerts


@transaction.atomic
def visit_record(*, actor, visit: Visit, note: str, done_at: dt.datetime | None = None) -> Visit:
    visit = access_object(Visit.objects.select_for_update().select_related("plan", "household"), actor,
                          "care.change_visit", pk=visit.pk)
    if not visit.is_open:
        raise ValidationError("这次走访已记录或已取消")
    if not note.strip():
        raise ValidationError({"note": "请填写走访情况"})
    before = snapshot(visit)
    visit.done_at = done_at or timezone.now()
    visit.note, visit.recorded_by, visit.visitor = note.strip(), actor, getattr(actor, "person", None)
    visit.save(update_fields=["done_at", "note", "recorded_by", "visitor"])
    audit_record(actor=actor, action=AuditAction.UPDATE, obj=visit, before=before, after=snapshot(visit), note="走访")
    CareAlert.objects.filter(visit=visit, read_at__isnull=True).update(read_at=visit.done_at)
    plan = visit.plan
    if plan.ended_on is None:
        Visit.objects.create(plan=plan, household=visit.household, note="",
                             due_on=timezone.localdate(visit.done_at) + dt.timedelta(days=plan.interval_days),
                             **_territory(visit))
    return visit


@transaction.atomic
def alert_mark_read(*, actor, alert: CareAlert) -> CareAlert:
    alert = access_object(CareAlert.objects.select_for_update(), actor, "care.view_carealert", pk=alert.pk)
    if alert.recipient_id != getattr(actor, "person_id", None):
        raise PermissionDenied
    if alert.read_at is None:
        alert.read_at = timezone.now()
        alert.save(update_fields=["read_at"])
    return alert


# ---------------------------------------------------------------------------------------------
# the household archive (一户一档) kept current


def _clean_payload(kind: str, household: Household, person: Person | None, payload: dict) -> dict:
    payload = {k: (v.strip() if isinstance(v, str) else v) for k, v in (payload or {}).items() if v not in (None, "")}
    if kind in (ChangeKind.DEATH, ChangeKind.MOVE_OUT, ChangeKind.DISABILITY, ChangeKind.RELEASED):
        if person is None or person.household_id != household.pk:
            raise ValidationError({"person": "请选择本户成员"})
    if kind in (ChangeKind.BIRTH, ChangeKind.MOVE_IN):
        if not payload.get("name") or not payload.get("id_number"):
            raise ValidationError({"name": "请填写姓名和身份证号"})
        registry_services.person_facts_from_id(payload["id_number"])
        payload.setdefault("relation", Relation.CHILD if kind == ChangeKind.BIRTH else Relation.OTHER)
        if payload["relation"] not in Relation.values or payload["relation"] == Relation.HEAD:
            raise ValidationError({"relation": "与户主关系不正确"})
    if kind == ChangeKind.INCOME:
        payload["annual_income"] = str(registry_services.parse_income(payload.get("annual_income")) or "")
        if not payload["annual_income"]:
            raise ValidationError({"annual_income": "请填写新的家庭年收入"})
        payload["previous_income"] = str(household.annual_income) if household.annual_income is not None else ""
    if kind == ChangeKind.DISABILITY:
        try:
            payload["grade"] = int(payload.get("grade"))
        except (TypeError, ValueError):
            raise ValidationError({"grade": "请选择残疾等级"}) from None
        if payload["grade"] not in (1, 2, 3, 4):
            raise ValidationError({"grade": "残疾等级为一至四级"})
    if kind in (ChangeKind.RELEASED, ChangeKind.DEATH, ChangeKind.MOVE_OUT):
        on = payload.get("on") or timezone.localdate().isoformat()
        try:
            payload["on"] = dt.date.fromisoformat(str(on)).isoformat()
        except ValueError:
            raise ValidationError({"on": "日期格式应为 YYYY-MM-DD"}) from None
    return payload


@transaction.atomic
def archive_change_record(*, actor, household: Household, kind: str, payload: dict | None = None,
                          person: Person | None = None) -> ArchiveChange:
    """A grid worker records a change on their round. Changes that need it wait for the village;
    the others (an income change) take effect at once."""
    household = _household(actor, household, "care.add_archivechange", lock=True)
    if kind not in ChangeKind.values:
        raise ValidationError({"kind": "未知的变更类型"})
    if person is not None:
        person = Person.objects.filter(pk=person.pk).first()
    payload = _clean_payload(kind, household, person, payload or {})
    change = ArchiveChange(household=household, kind=kind, person=person, payload=payload, recorded_by=actor,
                           **_territory(household))
    change.full_clean()
    change.save()
    recheck_in_scope(change, actor, "care.add_archivechange")
    audit_record(actor=actor, action=AuditAction.CREATE, obj=change, after=snapshot(change))
    if not NEEDS_CONFIRMATION[kind]:
        _apply_change(change, actor)
        change.status, change.decided_by, change.decided_at = ArchiveChange.Status.CONFIRMED, actor, timezone.now()
        change.decision_note = "无需村确认，即时生效"
        change.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
    return change


@transaction.atomic
def archive_change_decide(*, actor, change: ArchiveChange, approve: bool, note: str = "") -> ArchiveChange:
    change = access_object(ArchiveChange.objects.select_for_update(), actor, "care.confirm_archivechange",
                           pk=change.pk)
    if change.status != ArchiveChange.Status.PENDING:
        raise ValidationError("该变更已处理")
    if not approve and not note.strip():
        raise ValidationError({"note": "退回时请说明理由"})
    before = snapshot(change)
    if approve:
        _apply_change(change, actor)
    change.status = ArchiveChange.Status.CONFIRMED if approve else ArchiveChange.Status.REJECTED
    change.decided_by, change.decided_at, change.decision_note = actor, timezone.now(), note.strip()
    change.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
    audit_record(actor=actor, action=AuditAction.TRANSITION, obj=change, before=before, after=snapshot(change),
                 note="确认并生效" if approve else f"退回：{note.strip()}")
    return change


def _members(household: Household) -> int:
    return household.members.filter(status=PersonStatus.ACTIVE).count()


def _apply_change(change: ArchiveChange, actor) -> None:
    """Apply a confirmed change through the registry's own services, then reclassify."""
    p, household, kind = change.payload, change.household, change.kind
    touched = [household.pk]
    if kind in (ChangeKind.BIRTH, ChangeKind.MOVE_IN):
        existing = Person.objects.filter(id_number=p["id_number"].upper()).first()
        if existing is not None and kind == ChangeKind.MOVE_IN:
            if existing.household_id:
                touched.append(existing.household_id)
            person = registry_services.person_move(actor=actor, person=existing, to_household=household,
                                                   relation=p["relation"], reason=p.get("reason") or "迁入")
        else:
            person = registry_services.person_create(actor=actor, household=household, name=p["name"],
                                                     id_number=p["id_number"], relation=p["relation"],
                                                     phone=p.get("phone", ""))
        change.person = person
        change.save(update_fields=["person"])
    elif kind == ChangeKind.DEATH:
        registry_services.person_update(actor=actor, person=change.person, status=PersonStatus.DECEASED)
    elif kind == ChangeKind.MOVE_OUT:
        registry_services.person_move(actor=actor, person=change.person, to_household=None,
                                      reason=p.get("reason") or "迁出", on=dt.date.fromisoformat(p["on"]))
    elif kind == ChangeKind.DISABILITY:
        registry_services.person_update(actor=actor, person=change.person, disability_grade=p["grade"])
    elif kind == ChangeKind.RELEASED:
        registry_services.person_update(actor=actor, person=change.person, released_on=dt.date.fromisoformat(p["on"]))
    elif kind == ChangeKind.INCOME:
        members = _members(household)
        if p.get("previous_income") and not IncomeObservation.objects.filter(household=household).exists():
            IncomeObservation.objects.create(household=household, observed_on=household.updated_at.date(),
                                             annual_income=p["previous_income"], members=members,
                                             source="变更前登记", **_territory(household))
        registry_services.household_update(actor=actor, household=household, annual_income=p["annual_income"])
        IncomeObservation.objects.create(household=household, observed_on=timezone.localdate(),
                                         annual_income=p["annual_income"], members=members,
                                         source=f"网格员登记（变更#{change.pk}）", **_territory(household))
    for hid in touched:
        household_reclassify(actor=actor, household=hid)


# ---------------------------------------------------------------------------------------------
# return-to-poverty watch


@transaction.atomic
def watch_event_record(*, actor, household: Household, kind: str, occurred_on: dt.date,
                       amount=None, note: str = "") -> WatchEvent:
    household = _household(actor, household, "care.add_watchevent")
    if kind not in WatchEvent.Kind.values:
        raise ValidationError({"kind": "请选择事件类型"})
    if occurred_on > timezone.localdate():
        raise ValidationError({"occurred_on": "日期不能晚于今天"})
    event = WatchEvent(household=household, kind=kind, occurred_on=occurred_on,
                       amount=registry_services.parse_income(amount), note=note.strip(), recorded_by=actor,
                       **_territory(household))
    event.full_clean()
    event.save()
    recheck_in_scope(event, actor, "care.add_watchevent")
    audit_record(actor=actor, action=AuditAction.CREATE, obj=event, after=snapshot(event))
    household_reclassify(actor=actor, household=household)
    return event


# ---------------------------------------------------------------------------------------------
# grid patrols


@transaction.atomic
def patrol_start(*, actor, grid: Grid, route_note: str = "", started_at: dt.datetime | None = None) -> Patrol:
    grid = access_object(Grid.objects.all(), actor, "care.add_patrol", pk=grid.pk)
    patrol = Patrol(grid=grid, worker=getattr(actor, "person", None), recorded_by=actor,
                    started_at=started_at or timezone.now(), route_note=route_note.strip(), **_territory(grid))
    patrol.full_clean()
    patrol.save()
    recheck_in_scope(patrol, actor, "care.add_patrol")
    audit_record(actor=actor, action=AuditAction.CREATE, obj=patrol, after=snapshot(patrol))
    return patrol


@transaction.atomic
def patrol_problem_report(*, actor, patrol: Patrol, description: str, household: Household | None = None,
                          location: str = "", make_case: bool = True) -> PatrolProblem:
    """A problem found on the round; with ``make_case`` it becomes a case in the same step."""
    patrol = access_object(Patrol.objects.select_related("grid"), actor, "care.add_patrol", pk=patrol.pk)
    if patrol.ended_at is not None:
        raise ValidationError("这次巡查已结束")
    if not description.strip():
        raise ValidationError({"description": "请描述发现的问题"})
    if household is not None:
        household = _household(actor, household, "registry.view_household")
    problem = PatrolProblem(patrol=patrol, household=household, description=description.strip(),
                            location=location.strip(), **_territory(patrol))
    problem.full_clean()
    problem.save()
    if make_case:
        problem.case_ref = _try_case(actor=actor, channel="grid_patrol", household=household, grid=patrol.grid,
                                     title=f"网格巡查：{description.strip()[:30]}",
                                     description=f"{description.strip()}（{location.strip() or patrol.grid.name}）")
        if problem.case_ref:
            problem.save(update_fields=["case_ref"])
    audit_record(actor=actor, action=AuditAction.CREATE, obj=problem, after=snapshot(problem))
    return problem


@transaction.atomic
def patrol_end(*, actor, patrol: Patrol, route_note: str | None = None) -> Patrol:
    patrol = access_object(Patrol.objects.select_for_update(), actor, "care.add_patrol", pk=patrol.pk)
    if patrol.ended_at is not None:
        return patrol
    before = snapshot(patrol)
    patrol.ended_at = timezone.now()
    if route_note is not None and route_note.strip():
        patrol.route_note = route_note.strip()
    patrol.save(update_fields=["ended_at", "route_note"])
    audit_record(actor=actor, action=AuditAction.UPDATE, obj=patrol, before=before, after=snapshot(patrol))
    return patrol


@transaction.atomic
def needs_action_case_open(*, actor, record) -> str:
    """Open the case for a record kept with ``needs_action`` while the case loop was unavailable."""
    model = type(record)
    perm = {ContactRecord: "care.add_contactrecord", PatrolProblem: "care.add_patrol",
            ReceptionSuggestion: "care.add_receptionsuggestion"}[model]
    record = access_object(model.objects.select_for_update(), actor, perm, pk=record.pk)
    if record.case_ref:
        return record.case_ref
    text = getattr(record, "heard", None) or getattr(record, "description", None) or record.content
    record.case_ref = case_from_care(actor=actor, channel="grid_patrol" if model is PatrolProblem else "three_line",
                                     source="reception" if model is ReceptionSuggestion else "",
                                     household=getattr(record, "household", None),
                                     grid=record.patrol.grid if model is PatrolProblem else None,
                                     region=record.session.region if model is ReceptionSuggestion else None,
                                     title=text[:30], description=text)
    record.save(update_fields=["case_ref"])
    audit_record(actor=actor, action=AuditAction.UPDATE, obj=record, note=f"转为事项 {record.case_ref}")
    return record.case_ref
