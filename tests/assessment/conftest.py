"""The assessment tests' world: the shared world (tests/world.py) with the cases catalogue, the
county's scoring weights, and a quarter of generated cases in the last complete quarter."""
from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from gongzhi.assessment import services
from gongzhi.assessment.indicators import Period
from gongzhi.assessment.scoring import DEFAULT_WEIGHTS
from tests.cases.conftest import catalogue, cw  # noqa: F401 — fixtures used by the tests here


@pytest.fixture
def period() -> Period:
    return Period.last_complete()


def in_period(period: Period) -> tuple[dt.datetime, dt.datetime]:
    start, end = period.bounds()
    return start, end - dt.timedelta(hours=1)


@pytest.fixture
def aw(cw, period):
    """cw plus 120 generated cases received (and mostly closed) in the last complete quarter."""
    from gongzhi.cases.demo import generate_cases
    start, end = in_period(period)
    generate_cases(cw.regions["C"], 120, seed=14, start=start, end=end, now=timezone.now(), with_events=False)
    return cw


def set_weights(cw, **weights):
    return services.scoring_weights_set(actor=cw.user("county_secretary"), county=cw.regions["C"],
                                        weights=weights or DEFAULT_WEIGHTS, note="县委常委会议定")
