"""The 四议两公开 table itself: a single path of six steps, each taken from exactly one stage,
so no step can be skipped or taken out of order; and the quorum thresholds in whole numbers."""
from __future__ import annotations

import itertools

import pytest
from django.core.exceptions import ValidationError

from gongzhi.village import workflow
from gongzhi.village.models import MatterStatus as S
from gongzhi.village.quorum import Threshold


def test_the_path_is_one_line_through_every_stage():
    stages = [workflow.STEPS[0].source] + [t.target for t in workflow.STEPS]
    assert stages == [S.DRAFT, S.PROPOSED, S.DISCUSSED, S.REVIEWED, S.RESOLVED, S.RESOLUTION_PUBLISHED,
                      S.RESULT_PUBLISHED]
    assert [t.name for t in workflow.STEPS] == ["propose", "discuss", "review", "resolve", "publish_resolution",
                                                "publish_result"]
    for before, after in itertools.pairwise(workflow.STEPS):
        assert before.target == after.source


@pytest.mark.parametrize("status,step", [(t.source, other.name) for t in workflow.STEPS for other in workflow.STEPS
                                         if other is not t])
def test_every_step_out_of_order_is_refused_in_chinese(status, step):
    error = workflow.step_error(step, status)
    assert error and ("不能" in error or "已" in error)


def test_votes_and_meetings_where_the_law_needs_them():
    by = workflow.BY_NAME
    assert by["review"].needs_vote and by["resolve"].needs_vote
    assert not by["propose"].needs_vote and not by["discuss"].needs_vote
    assert by["resolve"].meeting_kinds == {"representatives", "villagers"}
    assert not by["publish_resolution"].meeting_kinds and by["publish_result"].precondition is not None
    assert workflow.EXEMPTIBLE == {S.DRAFT, S.PROPOSED, S.DISCUSSED, S.REVIEWED}


@pytest.mark.parametrize("text,total,needed", [
    (">1/2", 28, 15), (">1/2", 7, 4), (">1/2", 8, 5),
    (">=2/3", 9, 6), (">=2/3", 14, 10), (">=2/3", 30, 20), (">2/3", 9, 7), (">2/3", 30, 21),
])
def test_thresholds_in_whole_numbers(text, total, needed):
    threshold = Threshold.parse(text)
    assert threshold.needed(total) == needed
    assert threshold.met(needed, total) and not threshold.met(needed - 1, total)


@pytest.mark.parametrize("bad", ["", "1/2", ">0/2", ">3/2", ">=2/0", "半数", ">1/2;drop"])
def test_bad_thresholds_are_refused(bad):
    with pytest.raises(ValidationError):
        Threshold.parse(bad)


def test_threshold_labels():
    assert Threshold.parse(">1/2").label() == "过半数"
    assert Threshold.parse(">=2/3").label() == "三分之二以上（含本数）"
