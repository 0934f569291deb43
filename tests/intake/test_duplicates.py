"""Likely duplicates, merging them (keeping every requester informed), and clusters."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils import timezone

from gongzhi.cases import services as case_services
from gongzhi.cases.choices import CaseStatus, Channel
from gongzhi.cases.models import Case, Notification
from gongzhi.cases.tasks import run_sweep
from gongzhi.core.models import AuditLog
from gongzhi.intake import duplicates, services
from gongzhi.intake.models import CaseMerge

from .conftest import category

pytestmark = pytest.mark.django_db


def register(iw, *, by="grid_worker_a1_1", code="demand-small-matter", grid="A1-1", title="村口路灯不亮",
             description="五一村一组村口的路灯坏了，晚上看不见路", **extra):
    kwargs = dict(actor=iw.user(by), category=category(code), title=title, description=description,
                  channel=extra.pop("channel", Channel.HOTLINE))
    if grid:
        kwargs["grid"] = iw.grids[grid]
    kwargs.update(extra)
    return case_services.case_register(**kwargs)


def test_same_grid_similar_text_is_a_likely_duplicate(iw):
    first = register(iw)
    second = register(iw, title="路灯坏了", description="一组村口路灯坏了好几天，晚上看不见路")
    other_text = register(iw, title="垃圾没人清运", description="一组垃圾堆了一个星期没人清运")
    other_category = register(iw, code="opinion-village-affairs")
    other_grid = register(iw, by="village_secretary_a1", grid="A1-2")
    found = duplicates.duplicate_candidates(user=iw.user("town_dispatcher_a"), case=second)
    assert [s.case for s in found] == [first]
    assert "同一网格" in found[0].reasons and found[0].text_similarity > 0.3
    assert other_text and other_category and other_grid


def test_gps_distance_counts_across_grids(iw):
    near = register(iw, grid="A1-2", by="village_secretary_a1", latitude=Decimal("32.890000"),
                    longitude=Decimal("108.500000"))
    probe = register(iw, latitude=Decimal("32.891000"), longitude=Decimal("108.500500"))  # ≈120 m
    far = register(iw, grid="A1-2", by="village_secretary_a1", latitude=Decimal("32.990000"),
                   longitude=Decimal("108.500000"))
    found = duplicates.duplicate_candidates(user=iw.user("town_dispatcher_a"), case=probe)
    assert [s.case for s in found] == [near] and 80 < found[0].distance_m < 160
    assert far


def test_old_cases_and_cases_out_of_scope_are_not_suggested(iw, settings):
    settings.GONGZHI_INTAKE_DUPLICATE_DAYS = 10
    old = register(iw, received_at=timezone.now() - dt.timedelta(days=20))
    new = register(iw)
    assert duplicates.duplicate_candidates(user=iw.user("town_dispatcher_a"), case=new) == []
    settings.GONGZHI_INTAKE_DUPLICATE_DAYS = 30
    assert [s.case for s in duplicates.duplicate_candidates(user=iw.user("town_dispatcher_a"), case=new)] == [old]
    assert duplicates.duplicate_candidates(user=iw.user("town_dispatcher_b"), case=new) == []


def test_merge_closes_the_duplicate_and_tells_everyone(iw, sms, django_capture_on_commit_callbacks):
    primary = register(iw, requester=iw.persons["A1-1"])
    duplicate = register(iw, title="路灯坏了", requester_name="王五", requester_phone="13700001111",
                         channel=Channel.WEB)
    dispatcher = iw.user("town_dispatcher_a")
    before_notifications = Notification.objects.count()
    with django_capture_on_commit_callbacks(execute=True):
        merge = services.case_merge(actor=dispatcher, duplicate=duplicate, primary=primary, note="同一盏灯")
    duplicate.refresh_from_db()
    primary.refresh_from_db()
    assert merge.primary == primary and CaseMerge.objects.get().duplicate == duplicate
    assert duplicate.status == CaseStatus.CLOSED and duplicate.closed_as == "not_accepted"
    assert primary.number in duplicate.close_reason and primary.status == CaseStatus.REGISTERED
    event = duplicate.events.get(kind="merge_into")
    assert event.public and event.data["primary_number"] == primary.number
    assert primary.events.get(kind="merge").public is False
    assert AuditLog.objects.filter(object_type="cases.case", object_id=str(duplicate.pk),
                                   note__contains="merge_into").exists()
    assert AuditLog.objects.filter(object_type="cases.case", object_id=str(primary.pk), note__contains="merge").exists()
    assert [phone for phone, _ in sms] == ["13700001111"]
    assert duplicate.tracking_code in sms[0][1] and primary.tracking_code not in sms[0][1]
    assert Notification.objects.count() > before_notifications

    # the duplicate's clocks stop: the sweep never warns about it
    later = timezone.now() + dt.timedelta(days=60)
    run_sweep(now=later)
    assert not duplicate.events.filter(kind__in=["acceptance_overdue", "overdue"]).exists()
    assert primary.events.filter(kind="acceptance_overdue").exists()


def test_the_merged_requester_follows_the_primary(client, iw):
    primary = register(iw)
    duplicate = register(iw, title="路灯坏了")
    services.case_merge(actor=iw.user("town_dispatcher_a"), duplicate=duplicate, primary=primary)
    secretary = iw.user("village_secretary_a1")
    case_services.case_accept(actor=secretary, case=primary)
    html = client.get(f"/r/t/{duplicate.tracking_code}/").content.decode()
    assert "已与相同问题合并办理" in html and "已受理，正在安排办理" in html
    assert primary.tracking_code not in html


def test_merge_rules(iw):
    dispatcher = iw.user("town_dispatcher_a")
    a, b = register(iw), register(iw)
    with pytest.raises(ValidationError):
        services.case_merge(actor=dispatcher, duplicate=a, primary=a)
    with pytest.raises(PermissionDenied):
        services.case_merge(actor=iw.user("department_handler"), duplicate=b, primary=a)
    with pytest.raises(Http404):
        services.case_merge(actor=iw.user("town_dispatcher_b"), duplicate=b, primary=a)
    case_services.case_accept(actor=iw.user("village_secretary_a1"), case=b)
    with pytest.raises(ValidationError, match="尚未受理"):
        services.case_merge(actor=dispatcher, duplicate=b, primary=a)
    complaint = register(iw, by="village_secretary_a1", code="complaint-illegal-building")
    with pytest.raises(ValidationError, match="同一台账"):
        services.case_merge(actor=dispatcher, duplicate=complaint, primary=a)
    c = register(iw)
    services.case_merge(actor=dispatcher, duplicate=c, primary=a)
    d = register(iw)
    with pytest.raises(ValidationError, match="已办结"):
        services.case_merge(actor=dispatcher, duplicate=d, primary=c)
    assert Case.objects.get(pk=d.pk).status == CaseStatus.REGISTERED


def test_the_dispatchers_queue_and_merge_page(iw, login):
    primary = register(iw)
    duplicate = register(iw, title="路灯坏了")
    client = login(iw.user("town_dispatcher_a"))
    page = client.get("/intake/duplicates/")
    assert page.status_code == 200 and duplicate.number in page.content.decode()
    receipt = client.get(f"/intake/cases/{duplicate.pk}/").content.decode()
    assert primary.number in receipt and "并入此件" in receipt
    response = client.post(f"/intake/cases/{duplicate.pk}/merge/", {"primary": primary.pk,
                                                                   "next": f"/intake/cases/{duplicate.pk}/"})
    assert response.status_code == 302 and response["Location"] == f"/intake/cases/{duplicate.pk}/"
    assert Case.objects.get(pk=duplicate.pk).status == CaseStatus.CLOSED
    again = client.post(f"/intake/cases/{duplicate.pk}/merge/", {"primary": primary.pk, "next": "https://evil.example/"})
    assert again["Location"] == "/intake/duplicates/"


def test_clusters_show_repeated_matters_from_one_place(iw, login, django_assert_max_num_queries):
    for i in range(3):
        register(iw, title=f"路灯坏了{i}")
    register(iw, code="opinion-village-affairs")
    register(iw, grid="A1-2", by="village_secretary_a1")
    user = iw.user("town_secretary_a")
    with django_assert_max_num_queries(8):
        rows = duplicates.clusters(user=user)
    assert len(rows) == 1
    (cluster,) = rows
    assert cluster.count == 3 and cluster.open == 3 and cluster.grid == iw.grids["A1-1"]
    assert cluster.category.code == "demand-small-matter" and len(cluster.cases) == 3
    assert cluster.place == "城关镇五一村 · 五一村一组网格"
    assert duplicates.clusters(user=iw.user("outsider_b")) == []
    page = login(user).get("/intake/clusters/?days=30&min=3")
    assert page.status_code == 200 and "五一村一组网格" in page.content.decode()
