"""Small builders for the linking-up service tests (the fixtures live in conftest.py)."""
from __future__ import annotations

import datetime as dt

from django.utils import timezone

from gongzhi.accounts.models import Role, RoleAssignment, User
from gongzhi.cases.models import Notification
from gongzhi.linking import services
from gongzhi.registry.models import HostUnit, PartyOrganization
from tests.world import PASSWORD


def add_user(world, username: str, role_code: str, display: str, **scope) -> User:
    """A further login with one role (e.g. a second agency liaison over the bureau)."""
    user = User.objects.create_user(username=username, password=PASSWORD, display_name=display)
    RoleAssignment.objects.create(user=user, role=Role.objects.get(code=role_code), **scope)
    world.users[username] = user
    return user


def second_agency_liaison(world, username: str = "agency_liaison_2") -> User:
    return add_user(world, username, "agency_liaison", "民政局新联络员", department=world.department)


def org(world, name: str, *, region_key: str, host_kind: str | None = None, village: bool = False):
    """A party organisation in ``region_key`` (a town or village of the world), hosted by a unit
    of ``host_kind`` when given."""
    r = world.regions
    region = r[region_key]
    unit = None
    if host_kind:
        unit = HostUnit.objects.create(name=f"{name}单位", kind=host_kind, region=region, county_id=region.county_id,
                                       town_id=region.town_id)
    return PartyOrganization.objects.create(name=name, kind="branch", region=region, host_unit=unit,
                                            county_id=region.county_id, town_id=region.town_id,
                                            village_id=region.village_id if village else None)


def notices(username: str, kind: str) -> list[str]:
    return list(Notification.objects.filter(user__username=username, kind=kind).values_list("text", flat=True))


def resource(linked, *, actor=None, **fields):
    values = {"kind": "experts", "name": "政策专家服务队", "capacity": 10, "unit": "次", "use_form": "serve"}
    values.update(fields)
    return services.resource_add(actor=actor or linked.lead, pairing=linked.pairing, **values)


def need(linked, *, checked: str | None = "feasible", actor=None, **fields):
    values = {"title": "老人政策咨询", "kind": "service", "grade": "core", "quantity": 4, "unit": "次",
              "asked_by": "二组老人"}
    values.update(fields)
    item = services.need_raise(actor=actor or linked.partner, pairing=linked.pairing, **values)
    if checked:
        item = services.need_check(actor=linked.partner, need=item, feasibility=checked, note="可每月上门一次")
    return item


def project(linked, *, res=None, item=None, tasks=(), **fields):
    res = res or resource(linked)
    item = item or need(linked)
    return services.project_confirm(actor=linked.partner, need=item, resource=res, tasks=list(tasks), **fields)


def task_spec(title: str = "上门咨询", days: int = 30, **extra) -> dict:
    return {"title": title, "assignee_name": "张三", "due_on": timezone.localdate() + dt.timedelta(days=days), **extra}


def activity(linked, *, kind: str = "service", hours_ago: float = 2, length_hours: float = 1, actor=None, **extra):
    """An activity that started ``hours_ago`` and lasted ``length_hours``."""
    starts = timezone.now() - dt.timedelta(hours=hours_ago)
    return services.activity_plan(actor=actor or linked.lead, pairing=linked.pairing, kind=kind, title="政策宣讲进村",
                                  place="五一村党群服务中心", starts_at=starts,
                                  ends_at=starts + dt.timedelta(hours=length_hours), **extra)


def held(linked, **extra):
    act = activity(linked, **extra)
    return services.activity_hold(actor=linked.lead, activity=act, summary="为二组老人讲解医保政策，现场办理3件",
                                  decisions="下月起每月第一周上门" if extra.get("kind") == "joint_meeting" else "",
                                  residents_served=30)


def second_pairing(linked, *, sign: bool = True):
    """A second pairing of the same village: 城关中学's branch (the town's secretary holds its lead
    post), with the village secretary as the village's liaison again."""
    from .conftest import Linked

    world = linked.world
    school_org = org(world, "城关中学支部", region_key="A", host_kind="school")
    today = timezone.localdate()
    pairing = services.pairing_create(
        actor=linked.town, kind="town_country", lead_org=school_org, partner_org=linked.village_org,
        title="城关中学—五一村", term_start=today, term_end=today + dt.timedelta(days=365), lead_post="学校联络员",
        lead_holder=world.user("town_secretary_a"), partner_post="村联络员", partner_holder=linked.partner)
    if sign:
        services.pairing_sign(actor=linked.town, pairing=pairing, side="lead")
        services.pairing_sign(actor=linked.partner, pairing=pairing, side="partner")
        pairing.refresh_from_db()
    return Linked(world, school_org, linked.village_org, pairing)
