"""A fixed small county and one login per persona, built through the real services.

County 汉阴县 (C) → towns A (城关镇) and B (涧池镇) → villages A1, A2, B1 → grids → households.

Personas (username → role over scope):
    county_secretary   县委书记 over county C
    town_secretary_a   镇党委书记 over town A
    village_secretary_a1 村书记 over village A1
    grid_worker_a1_1   网格员 over grid A1-1
    department_handler 部门经办人 of 民政局
    outsider_b         镇党委书记 over town B (the outsider for everything in town A)
    auditor            审计员
    three_line_a1      党员 in touch with household A1-1 only
    sysadmin           系统管理员 (the built-in role, not a superuser)
    county_admin       县级安全管理员: grants and revokes roles
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from gongzhi.accounts.models import Role, RoleAssignment, User
from gongzhi.core.idcard import make_id_number
from gongzhi.registry import services
from gongzhi.registry.models import ContactAssignment, ContactLine, Department, Household, Person, Region

PASSWORD = "gongzhi-test-1"


@dataclass
class World:
    regions: dict[str, Region] = field(default_factory=dict)
    grids: dict = field(default_factory=dict)
    households: dict[str, Household] = field(default_factory=dict)
    persons: dict[str, Person] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)
    department: Department | None = None
    system: User | None = None

    def user(self, name: str) -> User:
        return self.users[name]


_seq = [0]


def new_id(birth=dt.date(1980, 5, 17), male=True, division="610921") -> str:
    _seq[0] += 1
    return make_id_number(division, birth, _seq[0], male)


def _login(world: World, username: str, role_code: str, display: str, person=None, **scope) -> User:
    user = User.objects.create_user(username=username, password=PASSWORD, display_name=display, person=person)
    RoleAssignment.objects.create(user=user, role=Role.objects.get(code=role_code), **scope)
    world.users[username] = user
    return user


def build_world() -> World:
    w = World()
    system = User.objects.create_superuser(username="system", password=PASSWORD)
    w.system = system
    r = w.regions
    r["C"] = services.region_create(actor=system, code="610921000000", name="汉阴县", kind="county")
    r["A"] = services.region_create(actor=system, code="610921100000", name="城关镇", kind="town", parent=r["C"])
    r["B"] = services.region_create(actor=system, code="610921101000", name="涧池镇", kind="town", parent=r["C"])
    r["A1"] = services.region_create(actor=system, code="610921100201", name="五一村", kind="village", parent=r["A"])
    r["A2"] = services.region_create(actor=system, code="610921100202", name="月河村", kind="village", parent=r["A"])
    r["B1"] = services.region_create(actor=system, code="610921101201", name="紫云村", kind="village", parent=r["B"])
    r["A1g1"] = services.region_create(actor=system, code="610921100201001", name="五一村一组", kind="villager_group", parent=r["A1"])

    g = w.grids
    g["A1"] = services.grid_create(actor=system, region=r["A1"], code="A1", name="五一村一级网格", level=1)
    g["A1-1"] = services.grid_create(actor=system, region=r["A1g1"], code="A1-1", name="五一村一组网格", level=2, parent=g["A1"])
    g["A1-2"] = services.grid_create(actor=system, region=r["A1"], code="A1-2", name="五一村二组网格", level=2, parent=g["A1"])
    g["A2"] = services.grid_create(actor=system, region=r["A2"], code="A2", name="月河村网格", level=1)
    g["B1"] = services.grid_create(actor=system, region=r["B1"], code="B1", name="紫云村网格", level=1)

    def household(key, region, grid, head_name, income):
        h = services.household_create(actor=system, region=region, grid=grid, code=f"H-{key}",
                                      address=f"{region.name}{key}号", annual_income=income)
        p = services.person_create(actor=system, household=h, relation="head", name=head_name,
                                   id_number=new_id(), phone="13812345678" if key == "A1-1" else "")
        w.households[key], w.persons[key] = h, p
        return h

    household("A1-1", r["A1g1"], g["A1-1"], "张建国", 30000)
    household("A1-2", r["A1"], g["A1-2"], "李秀英", 12000)
    household("A2", r["A2"], g["A2"], "王德明", 20000)
    household("B1", r["B1"], g["B1"], "赵春花", 15000)
    w.persons["A1-1-spouse"] = services.person_create(
        actor=system, household=w.households["A1-1"], relation="spouse", name="刘桂兰",
        id_number=new_id(male=False), phone="13987654321")
    member = services.person_create(actor=system, household=w.households["A1-2"], relation="child",
                                    name="李强", id_number=new_id(birth=dt.date(1990, 1, 2)))
    w.persons["party_member"] = member
    ContactAssignment.objects.create(person=member, household=w.households["A1-1"], line=ContactLine.PARTY_MEMBER,
                                     started_on=dt.date(2024, 1, 1), county_id=r["C"].pk, town_id=r["A"].pk,
                                     village_id=r["A1"].pk)
    w.department = Department.objects.create(name="县民政局", short_name="民政", county=r["C"],
                                             responsibilities="社会救助、养老服务、低保")

    _login(w, "county_secretary", "county_secretary", "县委书记", region=r["C"])
    _login(w, "town_secretary_a", "town_secretary", "城关镇书记", region=r["A"])
    _login(w, "village_secretary_a1", "village_secretary", "五一村书记", region=r["A1"])
    _login(w, "grid_worker_a1_1", "grid_worker", "五一村一组网格员", grid=g["A1-1"])
    _login(w, "department_handler", "department_handler", "民政局经办人", department=w.department)
    # 结对共建: the county civil-affairs bureau's liaison, over the bureau's own pairings only.
    _login(w, "agency_liaison", "agency_liaison", "民政局结对联络员", department=w.department)
    _login(w, "outsider_b", "town_secretary", "涧池镇书记", region=r["B"])
    _login(w, "auditor", "auditor", "审计员")
    _login(w, "three_line_a1", "three_line", "党员李强", person=member)
    # 三员分立: the system administrator (not a superuser) — unlocks logins, never reads the audit log.
    _login(w, "sysadmin", "sysadmin", "系统管理员")
    # ... and the security administrator, who grants and revokes roles (and reads no audit trail).
    _login(w, "county_admin", "county_admin", "县级安全管理员")
    # 志愿者本人 (gongzhi.volunteers): 刘桂兰 of household A1-1, over her own volunteer record only.
    _login(w, "volunteer_a1", "volunteer", "志愿者刘桂兰", person=w.persons["A1-1-spouse"])
    return w
