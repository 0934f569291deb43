"""Shared makers for the resources tests: stock placed in the test world's county, town A and
village A1, kept by their secretaries or by 县民政局 (a department grant)."""
from __future__ import annotations

import pytest

from gongzhi.resources import services


def stock(world, *, by="town_secretary_a", place="A", kind="material", name="救灾帐篷", quantity=10, unit="顶",
          source="budget", allocation="direct", **extra):
    return services.resource_register(actor=world.users[by], kind=kind, name=name, unit=unit,
                                      owner_name=extra.pop("owner_name", "城关镇应急办"),
                                      place=world.regions[place], source=source, allocation=allocation,
                                      quantity=quantity, **extra)


def county_stock(world, **kw):
    """The county's pool: relief stores kept by 县民政局 at the county itself."""
    kw.setdefault("owner_name", "县民政局救灾物资储备库")
    return stock(world, by="department_handler", place="C", owner_department=world.department, **kw)


def need(world, *, by="village_secretary_a1", place="A1", kind="material", title="受灾户临时安置帐篷", quantity=4,
         unit="顶", priority=3, **extra):
    if priority == 1:
        extra.setdefault("emergency_note", "房屋被洪水冲毁")
    return services.need_raise(actor=world.users[by], title=title, kind=kind, quantity=quantity, unit=unit,
                               priority=priority, place=world.regions[place], **extra)


@pytest.fixture
def town(world):
    return world.users["town_secretary_a"]


@pytest.fixture
def village(world):
    return world.users["village_secretary_a1"]


from tests.browser.conftest import browser, browser_login, wait  # noqa: E402,F401  (the browser test's fixtures)
