"""Fixtures for the volunteer tests: the county's service kinds (法律咨询 needs legal ≥ 中级), a small
corps in 五一村 (A1) — 刘桂兰 (the ``volunteer_a1`` login's person), a certified lawyer 张建国 and
an uncertified 李秀英 — and helpers that take a sign-up through its steps."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from django.utils import timezone

from gongzhi.volunteers import services


@dataclass
class Corps:
    world: object
    legal: object  # 法律咨询: legal ≥ 2, 20 points an hour, at most 3 hours
    cleanup: object  # 环境整治: no certification, 10 points an hour
    lawyer: object  # 张建国, legal 中级
    plain: object  # 李秀英, no certification
    self_: object  # 刘桂兰, the volunteer_a1 login's own record

    @property
    def county(self):
        return self.world.regions["C"]

    @property
    def village(self):
        return self.world.regions["A1"]

    @property
    def secretary(self):
        return self.world.user("village_secretary_a1")

    @property
    def worker(self):
        return self.world.user("grid_worker_a1_1")


def make_corps(world) -> Corps:
    system, cs, vs = world.system, world.user("county_secretary"), world.user("village_secretary_a1")
    county = world.regions["C"]
    legal = services.service_kind_save(actor=cs, county=county, name="法律咨询", required_field="legal", min_level=2,
                                       points_per_hour=20, max_hours="3")
    cleanup = services.service_kind_save(actor=cs, county=county, name="环境整治", points_per_hour=10, max_hours="4")
    p = world.persons
    lawyer = services.volunteer_register(actor=vs, person=p["A1-1"], category="professional", skills="执业律师")
    plain = services.volunteer_register(actor=vs, person=p["A1-2"], category="community")
    self_ = services.volunteer_register(actor=vs, person=p["A1-1-spouse"], category="retired_member")
    today = timezone.localdate()
    services.certification_grant(actor=cs, volunteer=lawyer, field="legal", level=2, certifying_body="汉阴县司法局",
                                 certified_on=today - dt.timedelta(days=100), expires_on=today + dt.timedelta(days=600))
    return Corps(world, legal, cleanup, lawyer, plain, self_)


@pytest.fixture
def corps(world):
    return make_corps(world)


def make_task(corps, kind=None, *, hours_from_now=-3, length=4, slots=2, actor=None, title="周末服务"):
    start = timezone.now() + dt.timedelta(hours=hours_from_now)
    return services.task_create(actor=actor or corps.secretary, kind=kind or corps.cleanup, title=title,
                                region=corps.village, place="五一村村委会", starts_at=start,
                                ends_at=start + dt.timedelta(hours=length), slots=slots)


def served(corps, volunteer, task, *, hours_in=0, hours_out=2):
    """Signed up, assigned, checked in at the start (+hours_in) and out at start + hours_out."""
    actor = corps.secretary
    signup = services.signup_create(actor=actor, task=task, volunteer=volunteer, assign=True)
    signup = services.signup_check_in(actor=actor, signup=signup, at=task.starts_at + dt.timedelta(hours=hours_in))
    return services.signup_check_out(actor=actor, signup=signup, at=task.starts_at + dt.timedelta(hours=hours_out))


def earn(corps, volunteer, *, hours=2, task=None):
    task = task or make_task(corps)
    signup = served(corps, volunteer, task, hours_out=hours)
    return services.signup_confirm_hours(actor=corps.worker, signup=signup)


from tests.browser.conftest import browser, browser_login, wait  # noqa: E402,F401  (the browser test's fixtures)
