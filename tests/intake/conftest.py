"""Fixtures for the intake tests: the shared world (tests/world.py) plus the default catalogue,
dispatchers for the county and town A, an in-memory SMS outbox, and small helpers.

Browser fixtures (real headless Chromium) are reused from tests/browser/conftest.py.
"""
from __future__ import annotations

import io
from dataclasses import dataclass

import pytest
from django.core.cache import cache

from gongzhi.accounts.models import Role, RoleAssignment, User
from tests.browser.conftest import browser, screenshot, wait  # noqa: F401  (fixtures, re-exported)
from tests.world import PASSWORD

PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
       b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")


def add_login(world, username: str, role_code: str, display: str, **scope) -> User:
    user = User.objects.create_user(username=username, password=PASSWORD, display_name=display)
    RoleAssignment.objects.create(user=user, role=Role.objects.get(code=role_code), **scope)
    world.users[username] = user
    return user


def category(code: str):
    from gongzhi.cases.models import CaseCategory

    return CaseCategory.objects.get(county__isnull=True, code=code)


@dataclass
class IntakeWorld:
    world: object

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


@pytest.fixture
def catalogue(db):
    from gongzhi.cases.catalogue import install_default_catalogue
    from gongzhi.cases.models import CaseCategory, TimeLimitDefault

    install_default_catalogue(CaseCategory, TimeLimitDefault)  # flushed by transactional tests


@pytest.fixture
def iw(world, catalogue):
    r = world.regions
    add_login(world, "county_dispatcher", "dispatcher", "县联系办调度员", region=r["C"])
    add_login(world, "town_dispatcher_a", "dispatcher", "城关镇综治中心", region=r["A"])
    add_login(world, "town_dispatcher_b", "dispatcher", "涧池镇综治中心", region=r["B"])
    return IntakeWorld(world=world)


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()  # rate-limit counters
    yield
    cache.clear()


@pytest.fixture
def sms(settings):
    from gongzhi.cases.notifications import LocmemSMSBackend

    settings.GONGZHI_SMS_BACKEND = "gongzhi.cases.notifications.LocmemSMSBackend"
    LocmemSMSBackend.outbox.clear()
    yield LocmemSMSBackend.outbox
    LocmemSMSBackend.outbox.clear()


def png(name: str = "photo.png") -> io.BytesIO:
    f = io.BytesIO(PNG)
    f.name = name
    return f


def resident_post(client, iw, **fields):
    """Fill the residents' form like a browser: GET it (for the key), then POST."""
    import re

    page = client.get("/r/")
    key = re.search(r'name="key" value="([^"]+)"', page.content.decode()).group(1)
    data = {"key": key, "description": "五一村一组村口路灯坏了两个星期，晚上看不见路", "village": str(iw.regions["A1"].pk),
            "grid": "", "address": "村口", "category": "", "name": "", "phone": "", "latitude": "", "longitude": "",
            "website": ""}
    data.update(fields)
    return client.post("/r/", data), data


@pytest.fixture
def with_broker(settings, monkeypatch):
    """As in production: an Open311 request only queues its registration (the queued calls are
    counted here instead of sent to a broker; the tests run the worker themselves)."""
    from gongzhi.intake import receipts

    settings.CELERY_TASK_ALWAYS_EAGER = False
    monkeypatch.setattr(receipts, "KICK_SECONDS", 0)  # every receipt asks (test_receipts checks the limit)
    queued = []
    monkeypatch.setattr(receipts.register_received_task, "delay", lambda *a, **k: queued.append(a))
    return queued


def race(n: int, work):
    """Run ``work(i)`` in ``n`` threads released at the same moment (each with its own database
    connection); returns (results by i, exceptions)."""
    import threading

    from django.db import connections

    barrier = threading.Barrier(n)
    results, errors = [None] * n, []

    def run(i):
        try:
            barrier.wait(timeout=10)
            results[i] = work(i)
        except Exception as exc:  # noqa: BLE001 - reported by the caller
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return results, errors
