"""The linking module's warnings (``linking.sweeps``): overdue fast-track requests are warned once
and escalated to the county once; list items past their review are flagged stale once and told to
both liaisons and the town — also with several workers sweeping at the same moment (real
PostgreSQL transactions)."""
from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.utils import timezone

from gongzhi.cases.models import Notification
from gongzhi.core.models import AuditLog
from gongzhi.linking import matching, services, sweeps
from gongzhi.linking.models import ApprovalRequest, NeedItem, Project, ResourceItem
from tests.intake.conftest import race

from .conftest import make_pairing
from .helpers import need, notices, project, resource, second_pairing

LIAISONS_AND_TOWN = ("agency_liaison", "village_secretary_a1", "town_secretary_a")


def _request(linked, title="借用机关会议室"):
    return services.approval_request(actor=linked.lead, pairing=linked.pairing, kind="venue", title=title,
                                     detail="周五下午两小时")


def _stale_lists(linked):
    """One live item on each list: the resource (in use by the project), the open need, the project."""
    res = resource(linked, name="政策专家服务队", capacity=10)
    proj = project(linked, res=res, item=need(linked, title="医保讲解", quantity=4), title="医保政策进村")
    open_need = need(linked, title="课后托管", kind="volunteers", checked=None)
    return res, open_need, proj


def _after_review_due(days=92):
    return timezone.localdate() + dt.timedelta(days=days)


# ---------------------------------------------------------------------------------------------
# the fast track


@pytest.mark.django_db
def test_an_overdue_request_is_warned_once_then_escalated_to_the_county_once(linked):
    request = _request(linked)
    assert sweeps.sweep_approvals(now=request.due_at - dt.timedelta(minutes=1)) == {
        "approvals_warned": 0, "approvals_escalated": 0}
    late = request.due_at + dt.timedelta(minutes=1)
    assert sweeps.sweep_approvals(now=late) == {"approvals_warned": 1, "approvals_escalated": 0}
    request.refresh_from_db()
    assert request.overdue_warned_at == late and request.escalated_at is None
    for username in ("town_secretary_a", "agency_liaison"):
        texts = notices(username, "linking_approval_overdue")
        assert len(texts) == 1 and "借用机关会议室" in texts[0], username
    assert not notices("county_secretary", "linking_approval_overdue")
    assert sweeps.sweep_approvals(now=late + dt.timedelta(hours=1)) == {"approvals_warned": 0,
                                                                        "approvals_escalated": 0}
    later = request.county_due_at + dt.timedelta(minutes=1)
    assert sweeps.sweep_approvals(now=later) == {"approvals_warned": 0, "approvals_escalated": 1}
    request.refresh_from_db()
    assert request.escalated_at == later
    texts = notices("county_secretary", "linking_approval_escalated")
    assert len(texts) == 1 and "县级督办" in texts[0]
    assert len(notices("agency_liaison", "linking_approval_escalated")) == 1
    assert sweeps.sweep_approvals(now=later + dt.timedelta(days=3)) == {"approvals_warned": 0,
                                                                        "approvals_escalated": 0}
    assert len(notices("town_secretary_a", "linking_approval_overdue")) == 1
    notes = set(AuditLog.objects.filter(object_type="linking.approvalrequest", object_id=str(request.pk))
                .values_list("note", flat=True))
    assert {"快速通道审批超时", "快速通道审批逾期，升级县级督办"} <= notes


@pytest.mark.django_db
def test_decided_requests_are_never_warned(linked):
    request = _request(linked)
    services.approval_decide(actor=linked.town, approval=request, approve=True)
    assert sweeps.sweep_approvals(now=request.county_due_at + dt.timedelta(days=1)) == {
        "approvals_warned": 0, "approvals_escalated": 0}
    # decided after the warning: no escalation
    late = _request(linked, title="借用投影仪")
    sweeps.sweep_approvals(now=late.due_at + dt.timedelta(minutes=1))
    services.approval_decide(actor=linked.town, approval=late, approve=True)
    assert sweeps.sweep_approvals(now=late.county_due_at + dt.timedelta(days=1))["approvals_escalated"] == 0
    assert not Notification.objects.filter(kind="linking_approval_escalated").exists()


# ---------------------------------------------------------------------------------------------
# stale lists


@pytest.mark.django_db
def test_items_past_review_are_flagged_once_and_told_to_both_liaisons_and_the_town(linked):
    res, open_need, proj = _stale_lists(linked)
    assert sweeps.sweep_stale(today=_after_review_due(days=91)) == 0  # due today is not yet overdue
    assert sweeps.sweep_stale(today=_after_review_due()) == 3
    for model, obj in ((ResourceItem, res), (NeedItem, open_need), (Project, proj)):
        assert model.objects.get(pk=obj.pk).stale_flagged_at is not None
    # the matched need is the project's now: not on the live list
    assert NeedItem.objects.get(pk=proj.need_id).stale_flagged_at is None
    for username in LIAISONS_AND_TOWN:
        texts = notices(username, "linking_stale")
        assert len(texts) == 3, username
        joined = "\n".join(texts)
        assert "政策专家服务队" in joined and "课后托管" in joined and "医保政策进村" in joined
        assert all(linked.pairing.title in t for t in texts)
    assert not notices("outsider_b", "linking_stale") and not notices("county_secretary", "linking_stale")
    assert sweeps.sweep_stale(today=_after_review_due(days=200)) == 0
    assert len(notices("town_secretary_a", "linking_stale")) == 3
    assert AuditLog.objects.filter(object_type="linking.needitem", object_id=str(open_need.pk),
                                   note__contains="逾期未复核").count() == 1
    from gongzhi.linking import selectors

    assert selectors.stale_counts(user=linked.town) == {"resources": 1, "needs": 1, "projects": 1}
    assert selectors.stale_counts(user=linked.world.user("outsider_b")) == {"resources": 0, "needs": 0,
                                                                          "projects": 0}


@pytest.mark.django_db
def test_a_review_clears_the_flag_and_arms_the_next_cycle(linked):
    res = resource(linked)
    ResourceItem.objects.filter(pk=res.pk).update(review_due_on=timezone.localdate() - dt.timedelta(days=1))
    assert sweeps.sweep_stale() == 1
    res.refresh_from_db()
    # a stale resource loses points in the ranking
    assert any(p == -10 for p, _ in matching.explain(need(linked), res).reasons)
    services.list_item_review(actor=linked.lead, kind="resource", pk=res.pk)
    res.refresh_from_db()
    assert res.stale_flagged_at is None
    assert sweeps.sweep_stale() == 0
    # one cycle on, the resource is due again (and so is the need raised above)
    assert sweeps.sweep_stale(today=res.review_due_on + dt.timedelta(days=1)) == 2
    assert ResourceItem.objects.get(pk=res.pk).stale_flagged_at is not None


@pytest.mark.django_db
def test_what_is_no_longer_kept_is_not_flagged(linked):
    withdrawn = resource(linked, name="撤回的资源")
    services.list_item_review(actor=linked.lead, kind="resource", pk=withdrawn.pk, still_valid=False, note="不再提供")
    gone = need(linked, title="撤回的需求", checked=None)
    services.list_item_review(actor=linked.partner, kind="need", pk=gone.pk, still_valid=False, note="已解决")
    proj = project(linked)
    services.task_add(actor=linked.lead, project=proj, title="讲座", assignee_name="张三",
                      due_on=timezone.localdate() + dt.timedelta(days=5))
    services.task_progress(actor=linked.lead, task=proj.tasks.get(), progress=100, note="完成")
    services.project_complete(actor=linked.lead, project=proj, outcome="30位老人学会了医保线上报销")
    # an ended pairing's lists: nobody keeps them any more
    other = second_pairing(linked)
    resource(other, actor=linked.town, name="中学志愿者", kind="volunteers")
    services.pairing_end(actor=linked.town, pairing=other.pairing, reason="期满")
    # the project's resource is still in use (its capacity stays committed): the only live item
    assert sweeps.sweep_stale(today=_after_review_due()) == 1
    assert ResourceItem.objects.get(stale_flagged_at__isnull=False).pk == proj.resource_id


# ---------------------------------------------------------------------------------------------
# several workers at once (PostgreSQL)


pg_only = pytest.mark.skipif(connection.vendor != "postgresql",
                             reason="needs PostgreSQL's FOR UPDATE SKIP LOCKED and concurrent connections")


@pg_only
@pytest.mark.django_db(transaction=True)
def test_concurrent_stale_sweeps_warn_once():
    from tests.world import build_world

    linked = make_pairing(build_world())
    _stale_lists(linked)
    today = _after_review_due()
    results, errors = race(3, lambda i: sweeps.sweep_stale(today=today))
    assert not errors, errors
    assert sum(results) == 3
    for username in LIAISONS_AND_TOWN:
        assert len(notices(username, "linking_stale")) == 3, username
    assert AuditLog.objects.filter(note__contains="逾期未复核").count() == 3
    assert sweeps.sweep_stale(today=today) == 0


@pg_only
@pytest.mark.django_db(transaction=True)
def test_concurrent_approval_sweeps_warn_and_escalate_once():
    from tests.world import build_world

    linked = make_pairing(build_world())
    requests = [_request(linked, title=f"申请{i}") for i in range(4)]
    now = max(r.county_due_at for r in requests) + dt.timedelta(minutes=1)
    results, errors = race(3, lambda i: sweeps.sweep_approvals(now=now))
    assert not errors, errors
    assert sum(r["approvals_warned"] for r in results) == 4
    assert sum(r["approvals_escalated"] for r in results) == 4
    assert len(notices("town_secretary_a", "linking_approval_overdue")) == 4
    assert len(notices("county_secretary", "linking_approval_escalated")) == 4
    assert len(notices("agency_liaison", "linking_approval_overdue")) == 4
    assert not ApprovalRequest.objects.filter(overdue_warned_at__isnull=True).exists()
    assert sweeps.sweep_all(now=now + dt.timedelta(days=1)) == {"stale": 0, "approvals_warned": 0,
                                                                 "approvals_escalated": 0}
