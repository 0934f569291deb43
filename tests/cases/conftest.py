"""Fixtures for the cases tests: the shared world (tests/world.py) plus dispatchers, a second
department with its handler, the default catalogue, and an in-memory SMS outbox."""
from __future__ import annotations

from dataclasses import dataclass

import pytest

from gongzhi.accounts.models import Role, RoleAssignment, User
from gongzhi.registry.models import Department
from tests.world import PASSWORD


@dataclass
class CaseWorld:
    world: object
    housing: Department  # 县住建局, a second department

    def user(self, name: str) -> User:
        return self.world.system if name == "system" else self.world.users[name]

    @property
    def regions(self):
        return self.world.regions

    @property
    def grids(self):
        return self.world.grids

    @property
    def persons(self):
        return self.world.persons

    @property
    def civil_affairs(self) -> Department:
        return self.world.department


def add_login(world, username: str, role_code: str, display: str, person=None, **scope) -> User:
    user = User.objects.create_user(username=username, password=PASSWORD, display_name=display, person=person)
    RoleAssignment.objects.create(user=user, role=Role.objects.get(code=role_code), **scope)
    world.users[username] = user
    return user


def category(code: str):
    from gongzhi.cases.models import CaseCategory

    return CaseCategory.objects.get(county__isnull=True, code=code)


@pytest.fixture
def catalogue(db):
    from gongzhi.cases.catalogue import install_default_catalogue
    from gongzhi.cases.models import CaseCategory, TimeLimitDefault

    # Installed by migration 0002; re-installed here because transactional tests flush tables.
    install_default_catalogue(CaseCategory, TimeLimitDefault)


@pytest.fixture
def cw(world, catalogue):
    r = world.regions
    add_login(world, "county_dispatcher", "dispatcher", "县联系办调度员", region=r["C"])
    add_login(world, "town_dispatcher_a", "dispatcher", "城关镇综治中心", region=r["A"])
    housing = Department.objects.create(name="县住建局", short_name="住建", county=r["C"], responsibilities="住房安全")
    add_login(world, "housing_handler", "department_handler", "住建局经办人", department=housing)
    return CaseWorld(world=world, housing=housing)


@pytest.fixture
def sms(settings):
    from gongzhi.cases.notifications import LocmemSMSBackend

    settings.GONGZHI_SMS_BACKEND = "gongzhi.cases.notifications.LocmemSMSBackend"
    LocmemSMSBackend.outbox.clear()
    yield LocmemSMSBackend.outbox
    LocmemSMSBackend.outbox.clear()
