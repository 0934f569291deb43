"""三联 and the 535 links as records (coverage is a query), and town–village integration
(镇村工作一体化): key tasks quantified to each village with their ledger, stationed work teams with
their days in the village, and the town's overview figures."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils import timezone

from gongzhi.linking import selectors, services
from gongzhi.linking.models import (
    LINK_SHAPE, KeyTask, KeyTaskProgress, KeyTaskStatus, Link, LinkKind, StationDay, TeamRole, WorkTeam,
    WorkTeamMember,
)
from gongzhi.registry import services as registry_services
from gongzhi.registry.models import RegionLevel

from .helpers import add_user, org

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
YEAR = TODAY.year


@pytest.fixture
def county(world):
    return world.user("county_secretary")


@pytest.fixture
def community(world):
    return registry_services.region_create(actor=world.system, code="610921100203", name="月河安置社区",
                                           kind="community", parent=world.regions["A"])


def _link(world, actor, kind, **fields):
    started_on = fields.pop("started_on", TODAY - dt.timedelta(days=10))
    return services.link_create(actor=actor, kind=kind, started_on=started_on, **fields)


def _from_for(world, kind):
    """The right "from" of each kind, and where it reaches."""
    r, p = world.regions, world.persons
    needs, level = LINK_SHAPE[kind]
    value = {"from_person": p["A1-2"], "from_department": world.department, "from_region": r["A1"]}[needs]
    target = {"town": {"to_region": r["A"]}, "village": {"to_region": r["A2"]},
              "household": {"to_region": r["A1"], "to_household": world.households["A1-1"]}}[level]
    return {needs: value, **target}


# ---------------------------------------------------------------------------------------------
# the 535 links


@pytest.mark.parametrize("kind", [k for k in LinkKind.values if k != "strong_weak"])
def test_every_kind_of_link_has_its_shape(world, county, kind):
    fields = _from_for(world, kind)
    link = _link(world, county, kind, from_post="县委常委" if "from_person" in fields else "", **fields)
    needs, level = LINK_SHAPE[kind]
    assert getattr(link, needs) == fields[needs]
    expected_level = {"town": RegionLevel.TOWN, "village": RegionLevel.VILLAGE}.get(level)
    if expected_level is not None:
        assert link.to_region.level == expected_level
    else:  # a household link reaches the household's own region
        assert link.to_household == world.households["A1-1"] and link.to_region == world.regions["A1g1"]
    for other in {"from_person", "from_department", "from_region"} - {needs}:
        assert getattr(link, other) is None
    assert link.county_id == world.regions["C"].pk
    # the wrong "from" is refused, naming the field it needs
    with pytest.raises(ValidationError) as exc:
        services.link_create(actor=county, kind=kind, started_on=TODAY,
                             **{k: v for k, v in fields.items() if k != needs})
    assert needs in exc.value.message_dict
    # and the same link twice
    with pytest.raises(ValidationError) as exc:
        _link(world, county, kind, **fields)
    assert "已经存在" in exc.value.message_dict["to_region"][0]


def test_a_link_fills_only_its_own_from_and_reaches_the_right_level(world, county):
    r, p = world.regions, world.persons
    with pytest.raises(ValidationError) as exc:
        _link(world, county, "department_village", from_department=world.department, from_person=p["A1-2"],
              to_region=r["A1"])
    assert "这一类联系不填此项" in exc.value.message_dict["from_person"][0]
    with pytest.raises(ValidationError) as exc:
        _link(world, county, "leader_town", from_person=p["A1-2"], to_region=r["A1"])
    assert "镇" in exc.value.message_dict["to_region"][0]
    with pytest.raises(ValidationError) as exc:
        _link(world, county, "department_village", from_department=world.department, to_region=r["A"])
    assert "to_region" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        _link(world, county, "cadre_household", from_person=p["A1-2"], to_region=r["A1"])
    assert "to_household" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        _link(world, county, "host_community", from_region=r["A1"], to_region=r["A1"])
    assert "from_region" in exc.value.message_dict
    with pytest.raises(ValidationError):
        _link(world, county, "friendship", from_person=p["A1-2"], to_region=r["A1"])
    # a household link takes its village from the household
    link = _link(world, county, "cadre_household", from_person=p["A1-2"], to_household=world.households["A1-1"],
                 to_region=r["B1"])
    assert link.to_region == r["A1g1"] and link.village_id == r["A1"].pk
    assert not Link.objects.exclude(pk=link.pk).exists()


def test_links_are_made_within_the_actors_scope(world):
    r = world.regions
    with pytest.raises(Http404):
        _link(world, world.user("outsider_b"), "department_village", from_department=world.department,
              to_region=r["A1"])
    with pytest.raises(PermissionDenied):
        _link(world, world.user("village_secretary_a1"), "department_village", from_department=world.department,
              to_region=r["A1"])


def test_strong_weak_needs_a_village_graded_strong(world, county):
    r = world.regions
    with pytest.raises(ValidationError) as exc:
        _link(world, county, "strong_weak", from_region=r["A1"], to_region=r["A2"])
    assert "未被评定为强村" in exc.value.message_dict["from_region"][0]
    services.village_grade_set(actor=county, region=r["A1"], grade="ordinary", reason="集体收入一般")
    with pytest.raises(ValidationError):
        _link(world, county, "strong_weak", from_region=r["A1"], to_region=r["A2"])
    services.village_grade_set(actor=county, region=r["A1"], grade="strong", reason="集体经济年收入超50万元")
    link = _link(world, county, "strong_weak", from_region=r["A1"], to_region=r["A2"])
    assert link.from_region == r["A1"] and link.kind == "strong_weak"
    # a strong village of another county is no partner of this county's weak one
    other = registry_services.region_create(actor=world.system, code="610922000000", name="石泉县", kind="county")
    town = registry_services.region_create(actor=world.system, code="610922100000", name="城关镇", kind="town",
                                           parent=other)
    far = registry_services.region_create(actor=world.system, code="610922100201", name="某强村", kind="village",
                                          parent=town)
    services.village_grade_set(actor=world.system, region=far, grade="strong", reason="强村")
    with pytest.raises(ValidationError) as exc:
        _link(world, county, "strong_weak", from_region=far, to_region=r["B1"])
    assert "本县" in exc.value.message_dict["from_region"][0]
    with pytest.raises(ValidationError):  # grades are for villages only
        services.village_grade_set(actor=county, region=r["A"], grade="strong", reason="x")
    with pytest.raises(ValidationError):
        services.village_grade_set(actor=county, region=r["A2"], grade="excellent", reason="x")


def test_coverage_weak_village_without_strong_partner_until_linked(world, county, linked):
    r = world.regions
    services.village_grade_set(actor=county, region=r["A1"], grade="strong", reason="集体经济强")
    services.village_grade_set(actor=county, region=r["A2"], grade="weak", reason="软弱涣散")
    services.village_grade_set(actor=county, region=r["B1"], grade="weak", reason="无集体收入")

    def weak():
        return set(selectors.coverage(user=county)["weak_without_strong"])

    assert weak() == {r["A2"], r["B1"]}
    link = _link(world, county, "strong_weak", from_region=r["A1"], to_region=r["A2"])
    assert weak() == {r["B1"]}
    services.link_end(actor=county, link=link, reason="调整结对")
    assert weak() == {r["A2"], r["B1"]}
    with pytest.raises(ValidationError):
        services.link_end(actor=county, link=link)
    # a village–village branch pairing in force with a lead branch covers it too
    lead = org(world, "五一村支部", region_key="A1", village=True)
    weak_org = org(world, "紫云村支部", region_key="B1", village=True)
    # (the pairing lies in 紫云村's territory: its liaisons are the town of B's and the village's own)
    b1_secretary = add_user(world, "village_secretary_b1", "village_secretary", "紫云村书记", region=r["B1"])
    pairing = services.pairing_create(
        actor=county, kind="village_village", lead_org=lead, partner_org=weak_org, title="五一村—紫云村联建",
        term_start=TODAY, term_end=TODAY + dt.timedelta(days=365), lead_post="联建联络员",
        lead_holder=world.user("outsider_b"), partner_post="紫云村联络员", partner_holder=b1_secretary)
    assert r["B1"] in weak()  # a draft does not count
    services.pairing_sign(actor=world.user("outsider_b"), pairing=pairing, side="lead")
    services.pairing_sign(actor=b1_secretary, pairing=pairing, side="partner")
    assert weak() == {r["A2"]}
    # the town of A sees only its own villages
    assert set(selectors.coverage(user=world.user("town_secretary_a"))["weak_without_strong"]) == {r["A2"]}


def test_coverage_of_the_other_links(world, county, community, linked):
    r = world.regions
    villages = {r["A1"], r["A2"], r["B1"], community}
    cov = selectors.coverage(user=county)
    assert set(cov["villages_without_department"]) == villages
    assert set(cov["towns_without_leader"]) == {r["A"], r["B"]}
    assert set(cov["villages_without_town_leader"]) == villages
    assert set(cov["communities_without_host"]) == {community}
    assert set(cov["villages_without_pairing"]) == villages - {r["A1"]}
    _link(world, county, "department_village", from_department=world.department, to_region=r["A1"])
    _link(world, county, "leader_town", from_person=world.persons["A1-2"], from_post="副县长", to_region=r["A"])
    _link(world, county, "town_leader_village", from_person=world.persons["A2"], to_region=r["A2"])
    _link(world, county, "host_community", from_region=r["A2"], to_region=community)
    services.work_team_station(actor=world.user("town_secretary_a"), region=r["A1"], year=YEAR,
                               town_leader=world.persons["A1-2"], town_leader_post="副镇长",
                               leader=world.persons["party_member"])
    cov = selectors.coverage(user=county)
    assert set(cov["villages_without_department"]) == villages - {r["A1"]}
    assert set(cov["towns_without_leader"]) == {r["B"]}
    assert set(cov["villages_without_town_leader"]) == {r["B1"], community}
    assert not cov["communities_without_host"].exists()


def test_link_activities(world, county):
    link = _link(world, county, "department_village", from_department=world.department, to_region=world.regions["A1"])
    row = services.link_activity_record(actor=county, link=link, held_on=TODAY, summary="部门到村解决饮水问题",
                                        problems_solved=2)
    assert row.village_id == world.regions["A1"].pk and row.recorded_by == county
    with pytest.raises(ValidationError):
        services.link_activity_record(actor=county, link=link, held_on=TODAY + dt.timedelta(days=1), summary="明天的事")
    with pytest.raises(ValidationError):
        services.link_activity_record(actor=county, link=link, held_on=TODAY, summary="")
    services.link_end(actor=county, link=link, ended_on=TODAY - dt.timedelta(days=2))
    with pytest.raises(ValidationError):
        services.link_activity_record(actor=county, link=link, held_on=TODAY - dt.timedelta(days=1), summary="结束后")
    assert services.link_activity_record(actor=county, link=link, held_on=TODAY - dt.timedelta(days=3),
                                         summary="结束前补录").pk
    assert selectors.links_for(user=county, kind="department_village").get().activity_count == 2
    with pytest.raises(ValidationError):  # ends before it began
        other = _link(world, county, "department_village", from_department=world.department,
                      to_region=world.regions["A2"])
        services.link_end(actor=county, link=other, ended_on=TODAY - dt.timedelta(days=30))


def test_alliances_and_resource_sharing(world, county):
    r = world.regions
    alliance = services.alliance_create(actor=county, region=r["A"], name="城关镇莲虾产业联盟", trade="稻虾共养",
                                        mode="leading_firm", founded_on=dt.date(2021, 3, 1))
    with pytest.raises(ValidationError):
        services.alliance_create(actor=county, region=r["A1"], name="村级联盟", trade="茶叶", mode="same_trade",
                                 founded_on=TODAY)
    lead = services.alliance_member_add(actor=county, alliance=alliance, name="汉阴莲虾合作社", is_lead=True)
    assert lead.is_lead
    with pytest.raises(ValidationError):
        services.alliance_member_add(actor=county, alliance=alliance, name="另一龙头", is_lead=True)
    member = services.alliance_member_add(actor=county, alliance=alliance, member_region=r["A1"])
    assert member.name == "五一村"
    with pytest.raises(ValidationError):
        services.alliance_member_add(actor=county, alliance=alliance)
    operation = services.alliance_operation_record(actor=county, alliance=alliance, title="莲虾共养基地",
                                                   started_on=dt.date(2021, 4, 1), area_mu=Decimal("980"), jobs=120)
    assert operation.area_mu == Decimal("980")
    share = services.resource_share_record(actor=county, kind="capital", mode="shares", title="入股莲虾基地",
                                           from_region=r["A1"], to_region=r["A2"], started_on=TODAY,
                                           amount=Decimal("50000"), unit="元", alliance=alliance)
    assert share.village_id == r["A2"].pk
    with pytest.raises(ValidationError):
        services.resource_share_record(actor=county, kind="people", mode="secondment", title="挂职",
                                       from_region=r["A2"], to_region=r["A2"], started_on=TODAY)


# ---------------------------------------------------------------------------------------------
# key tasks and their ledger


def _task(world, region_key="A1", aim="income", target="100", **fields):
    values = dict(year=YEAR, title="户均增收", unit="万元", due_on=dt.date(YEAR, 12, 31))
    values.update(fields)
    return services.key_task_set(actor=world.user("town_secretary_a"), region=world.regions[region_key], aim=aim,
                                 target=target, **values)


def test_key_task_set_validation(world):
    task = _task(world)
    assert task.target == Decimal("100") and task.status == KeyTaskStatus.OPEN and task.achieved == 0
    assert task.town_id == world.regions["A"].pk and task.set_by == world.user("town_secretary_a")
    cases = [({"target": "0"}, "target"), ({"target": "-3"}, "target"), ({"target": "许多"}, "target"),
             ({"target": "NaN"}, "target"), ({"target": "Infinity"}, "target"),
             ({"due_on": dt.date(YEAR + 1, 1, 31)}, "due_on"), ({"aim": "happiness"}, "aim"), ({"unit": ""}, "unit"),
             ({"title": ""}, "title"), ({"region_key": "A"}, "region")]
    for fields, key in cases:
        with pytest.raises(ValidationError) as exc:
            _task(world, **fields)
        assert key in exc.value.message_dict, fields
    with pytest.raises(Http404):
        services.key_task_set(actor=world.user("outsider_b"), region=world.regions["A1"], year=YEAR, aim="income",
                              title="x", target=1, unit="个", due_on=dt.date(YEAR, 12, 31))
    with pytest.raises(PermissionDenied):  # the village reports, the town sets
        services.key_task_set(actor=world.user("village_secretary_a1"), region=world.regions["A1"], year=YEAR,
                              aim="income", title="x", target=1, unit="个", due_on=dt.date(YEAR, 12, 31))
    assert KeyTask.objects.count() == 1


def test_key_task_ledger_accumulates_and_is_done_at_target(world):
    task = _task(world, target="100")
    village = world.user("village_secretary_a1")
    services.key_task_report(actor=village, task=task, amount="30", note="发展茶叶30亩")
    task.refresh_from_db()
    assert task.achieved == Decimal("30") and task.status == KeyTaskStatus.OPEN and task.percent == 30
    services.key_task_report(actor=village, task=task, amount=Decimal("70.50"), note="劳务输出增收",
                             on=TODAY - dt.timedelta(days=1))
    task.refresh_from_db()
    assert task.achieved == Decimal("100.50") and task.status == KeyTaskStatus.DONE and task.percent == 100
    # a correction is a negative entry with its reason; it reopens the task below target
    services.key_task_report(actor=village, task=task, amount="-20", note="核减重复统计")
    task.refresh_from_db()
    assert task.achieved == Decimal("80.50") and task.status == KeyTaskStatus.OPEN
    assert list(task.progress.order_by("id").values_list("amount", flat=True)) == [
        Decimal("30"), Decimal("70.50"), Decimal("-20")]
    assert sum(task.progress.values_list("amount", flat=True)) == task.achieved


def test_key_task_report_refusals_leave_the_ledger_as_it_was(world):
    task = _task(world, target="10")
    village = world.user("village_secretary_a1")
    services.key_task_report(actor=village, task=task, amount="4", note="第一批")
    cases = [({"amount": "-5"}, "amount"), ({"amount": "0"}, "amount"), ({"amount": "几个"}, "amount"),
             ({"amount": "NaN"}, "amount"), ({"note": ""}, "note"), ({"on": TODAY + dt.timedelta(days=1)}, "on")]
    for fields, key in cases:
        with pytest.raises(ValidationError) as exc:
            services.key_task_report(actor=village, task=task, **{"amount": "1", "note": "x", **fields})
        assert key in exc.value.message_dict, fields
    message = None
    try:
        services.key_task_report(actor=village, task=task, amount="-5", note="更正")
    except ValidationError as exc:
        message = exc.message_dict["amount"][0]
    assert message and "不能小于0" in message and "4" in message
    # down to exactly zero is allowed
    services.key_task_report(actor=village, task=task, amount="-4", note="全部核减")
    task.refresh_from_db()
    assert task.achieved == 0 and KeyTaskProgress.objects.filter(task=task).count() == 2
    KeyTask.objects.filter(pk=task.pk).update(status=KeyTaskStatus.DROPPED)
    with pytest.raises(ValidationError) as exc:
        services.key_task_report(actor=village, task=task, amount="1", note="撤销后")
    assert "task" in exc.value.message_dict
    with pytest.raises(Http404):
        services.key_task_report(actor=world.user("outsider_b"), task=task, amount="1", note="外镇")


# ---------------------------------------------------------------------------------------------
# work teams and their days in the village


def _team(world, region_key="A1", year=YEAR, leader="party_member", members=(("A1-1-spouse", "干事"),),
          started_on=None, town_leader="A1-2"):
    p = world.persons
    return services.work_team_station(actor=world.user("town_secretary_a"), region=world.regions[region_key],
                                      year=year, town_leader=p[town_leader], town_leader_post="副镇长",
                                      leader=p[leader], leader_post="镇农业办主任",
                                      members=[(p[k], post) for k, post in members], started_on=started_on)


def test_one_team_per_village_and_year_with_one_leader(world):
    team = _team(world)
    assert team.town_leader == world.persons["A1-2"] and team.started_on == TODAY
    roles = dict(team.members.values_list("person_id", "role"))
    assert roles == {world.persons["party_member"].pk: TeamRole.LEADER,
                     world.persons["A1-1-spouse"].pk: TeamRole.MEMBER}
    with pytest.raises(ValidationError) as exc:
        _team(world, leader="A1-1")
    assert "已派驻工作队" in exc.value.message_dict["year"][0]
    assert _team(world, year=YEAR + 1).year == YEAR + 1
    # a member added later is a member, never a second leader
    added = services.work_team_member_add(actor=world.user("town_secretary_a"), team=team, person=world.persons["A1-1"])
    assert added.role == TeamRole.MEMBER
    assert team.members.filter(role=TeamRole.LEADER, ended_on__isnull=True).count() == 1
    with pytest.raises(IntegrityError), transaction.atomic():
        WorkTeamMember.objects.create(team=team, person=world.persons["A2"], role=TeamRole.LEADER, started_on=TODAY,
                                      county_id=team.county_id, town_id=team.town_id, village_id=team.village_id)
    with pytest.raises(ValidationError) as exc:
        services.work_team_member_add(actor=world.user("town_secretary_a"), team=team, person=world.persons["A1-1"])
    assert "已在工作队中" in exc.value.message_dict["person"][0]
    with pytest.raises(ValidationError) as exc:
        services.work_team_member_end(actor=world.user("town_secretary_a"), member=added,
                                      ended_on=TODAY - dt.timedelta(days=1))
    assert "ended_on" in exc.value.message_dict
    services.work_team_member_end(actor=world.user("town_secretary_a"), member=added)
    with pytest.raises(ValidationError):
        services.work_team_member_end(actor=world.user("town_secretary_a"), member=added)
    again = services.work_team_member_add(actor=world.user("town_secretary_a"), team=team, person=world.persons["A1-1"])
    assert again.pk != added.pk


def test_a_team_lists_nobody_twice_and_is_not_half_saved(world):
    with pytest.raises(ValidationError) as exc:
        _team(world, members=(("party_member", "干事"),))
    assert "重复列入" in exc.value.message_dict["members"][0]
    with pytest.raises(ValidationError):
        _team(world, region_key="A")
    assert not WorkTeam.objects.exists() and not WorkTeamMember.objects.exists()


def test_station_days_are_not_in_the_future_and_once_per_date(world):
    team = _team(world, started_on=TODAY - dt.timedelta(days=30))
    village = world.user("village_secretary_a1")
    leader = team.members.get(role=TeamRole.LEADER)
    # stationed a month ago: the team's members were there from its first day
    assert leader.started_on == TODAY - dt.timedelta(days=30)
    day = services.station_day_record(actor=village, member=leader, on=TODAY - dt.timedelta(days=20),
                                      work="入户走访12户")
    assert day.days == Decimal("1") and day.recorded_by == village and day.village_id == world.regions["A1"].pk
    with pytest.raises(ValidationError) as exc:
        services.station_day_record(actor=village, member=leader, on=TODAY - dt.timedelta(days=20), work="又登记一次")
    assert "已登记过" in exc.value.message_dict["on"][0]
    with pytest.raises(ValidationError) as exc:
        services.station_day_record(actor=village, member=leader, on=TODAY + dt.timedelta(days=1), work="明天")
    assert "将来" in exc.value.message_dict["on"][0]
    with pytest.raises(ValidationError):
        services.station_day_record(actor=village, member=leader, on=TODAY - dt.timedelta(days=31), work="驻村前")
    for bad in ("2", "0.2", "一天"):
        with pytest.raises(ValidationError) as exc:
            services.station_day_record(actor=village, member=leader, on=TODAY, work="半天", days=bad)
        assert "days" in exc.value.message_dict
    with pytest.raises(ValidationError):
        services.station_day_record(actor=village, member=leader, on=TODAY, work="")
    assert services.station_day_record(actor=village, member=leader, on=TODAY, work="开院坝会", days="0.5").days == \
        Decimal("0.5")
    # someone who joined today was not there last week; someone who left is not there after
    late = services.work_team_member_add(actor=world.user("town_secretary_a"), team=team, person=world.persons["A1-1"])
    assert late.started_on == TODAY
    with pytest.raises(ValidationError):
        services.station_day_record(actor=village, member=late, on=TODAY - dt.timedelta(days=7), work="上周")
    member = team.members.get(person=world.persons["A1-1-spouse"])
    services.work_team_member_end(actor=world.user("town_secretary_a"), member=member,
                                  ended_on=TODAY - dt.timedelta(days=5))
    with pytest.raises(ValidationError) as exc:
        services.station_day_record(actor=village, member=member, on=TODAY - dt.timedelta(days=2), work="离队后")
    assert "不在驻村期间" in exc.value.message_dict["on"][0]
    with pytest.raises(Http404):
        services.station_day_record(actor=world.user("outsider_b"), member=leader, on=TODAY - dt.timedelta(days=1),
                                    work="外镇")
    assert StationDay.objects.count() == 2


# ---------------------------------------------------------------------------------------------
# the town's overview


def test_integration_overview_and_totals(world):
    village = world.user("village_secretary_a1")
    done = _task(world, aim="income", target="100")
    services.key_task_report(actor=village, task=done, amount="100", note="达标")
    half = _task(world, aim="collective", target="10", title="村集体经济增收", unit="万元")
    services.key_task_report(actor=village, task=half, amount="5", note="一半")
    _task(world, aim="governance", target="4", title="化解矛盾纠纷", unit="件")
    dropped = _task(world, aim="governance", target="1", title="撤销的任务", unit="件")
    KeyTask.objects.filter(pk=dropped.pk).update(status=KeyTaskStatus.DROPPED)
    _task(world, aim="income", target="5", title="去年的任务", year=YEAR - 1, due_on=dt.date(YEAR - 1, 12, 31))
    _task(world, region_key="A2", aim="governance", target="2", title="月河村治理")
    team = _team(world, members=(("A1-1-spouse", "干事"), ("A1-1", "干事")), started_on=TODAY - dt.timedelta(days=10))
    leader = team.members.get(role=TeamRole.LEADER)
    services.station_day_record(actor=village, member=leader, on=TODAY - dt.timedelta(days=2), work="走访")
    services.station_day_record(actor=village, member=leader, on=TODAY - dt.timedelta(days=1), work="院坝会",
                                days="0.5")
    gone = team.members.get(person=world.persons["A1-1"])
    services.station_day_record(actor=village, member=gone, on=TODAY - dt.timedelta(days=3), work="调解")
    services.work_team_member_end(actor=world.user("town_secretary_a"), member=gone)
    _team(world, region_key="A2", leader="A2", members=(), town_leader="A1-2")

    rows = selectors.integration_overview(user=world.user("town_secretary_a"), town=world.regions["A"], year=YEAR)
    by_village = {row["village"].code: row for row in rows}
    a1, a2 = by_village[world.regions["A1"].code], by_village[world.regions["A2"].code]
    assert [row["village"] for row in rows] == [world.regions["A1"], world.regions["A2"]]
    assert (a1["tasks"], a1["done"], a1["progress"]) == (3, 1, 50)
    assert a1["by_aim"] == {"income": (1, 1), "collective": (1, 0), "governance": (1, 0)}
    assert a1["members"] == 2 and a1["days"] == Decimal("2.5") and a1["town_leader"] == world.persons["A1-2"]
    assert a1["team"] == team
    assert (a2["tasks"], a2["done"], a2["progress"], a2["members"], a2["days"]) == (1, 0, 0, 1, Decimal(0))
    totals = selectors.integration_totals(rows)
    assert totals == {"villages": 2, "tasks": 4, "done": 1, "cadres": 3, "town_leaders": 1, "days": Decimal("2.5"),
                      "tasks_per_village": 2.0, "cadres_per_village": 1.5}
    # the village sees its own row; the other town nothing of town A
    own = selectors.integration_overview(user=village, town=world.regions["A"], year=YEAR)
    assert [row["village"] for row in own] == [world.regions["A1"]]
    assert selectors.integration_overview(user=world.user("outsider_b"), town=world.regions["A"], year=YEAR) == []
    assert selectors.integration_totals([]) == {"villages": 0, "tasks": 0, "done": 0, "cadres": 0, "town_leaders": 0,
                                                "days": Decimal(0), "tasks_per_village": 0, "cadres_per_village": 0}
    assert selectors.team_of(user=village, region=world.regions["A1"], year=YEAR) == team
    assert selectors.team_of(user=village, region=world.regions["A2"], year=YEAR) is None
    assert selectors.key_tasks_of(user=village, region=world.regions["A1"], year=YEAR).count() == 4
    overdue = selectors.overdue_key_tasks(user=world.user("town_secretary_a"), today=dt.date(YEAR + 1, 1, 5))
    assert set(overdue.values_list("title", flat=True)) == {"村集体经济增收", "化解矛盾纠纷", "月河村治理", "去年的任务"}
