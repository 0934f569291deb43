"""Unconfirmed roster uploads hold ID numbers: after the county's retention (default 7 days) the
sweep deletes the file and the report's rows, audited once (issue 10 §3)."""
from __future__ import annotations

import datetime as dt
import json
import threading

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from gongzhi.accounts.models import User
from gongzhi.core.models import AuditLog
from gongzhi.roster import services
from gongzhi.roster.models import ImportBatch, ImportStatus, RosterSettings
from gongzhi.roster.tasks import purge_unconfirmed

from .conftest import pid, with_bad_check, xlsx_bytes

HEADER = ["户号", "家庭住址", "所属网格", "姓名", "身份证号", "与户主关系", "联系电话"]


def _rows(number):
    good = pid(dt.date(1971, 3, 4), 11)
    return [["五一村花名册"], HEADER,
            ["H-901", "五一村一组9号", "A1-1", "王保密", good, "户主", "13912345678"],
            ["H-902", "五一村一组10号", "A1-1", "赵错号", number, "户主", ""]]


def _upload(world, age_days: float, village="A1", status=None):
    bad = with_bad_check(pid(dt.date(1968, 5, 6), 21))
    batch = services.roster_batch_create(actor=world.user("village_secretary_a1") if village == "A1" else world.system,
                                         village=world.regions[village], kind="households",
                                         filename="五一村花名册.xlsx", content=xlsx_bytes(_rows(bad)))
    ImportBatch.objects.filter(pk=batch.pk).update(created_at=timezone.now() - dt.timedelta(days=age_days),
                                                   **({"status": status} if status else {}))
    batch.refresh_from_db()
    return batch, bad


def _purge_audits(batch):
    return AuditLog.objects.filter(object_type="roster.importbatch", object_id=str(batch.pk), action="delete")


def test_an_upload_left_unconfirmed_past_seven_days_is_purged_and_audited(world):
    old, bad = _upload(world, 7.5)
    fresh, _ = _upload(world, 6.5)
    assert "赵错号" in json.dumps(old.report, ensure_ascii=False) and bytes(old.content)

    assert services.roster_purge_unconfirmed() == 1

    old.refresh_from_db()
    assert old.status == ImportStatus.EXPIRED and old.purged_at is not None and bytes(old.content) == b""
    stored = json.dumps(old.report, ensure_ascii=False)
    for secret in ("赵错号", "王保密", bad, bad[:17], "H-902"):
        assert secret not in stored
    assert old.report["filename"] == "五一村花名册.xlsx" and old.report["rows_read"] == 2
    assert "7天内未确认导入" in old.report["file_errors"][0]
    audit = _purge_audits(old).get()
    assert audit.actor_username == "system" and "超过7天未确认导入" in audit.note
    assert audit.village_id == world.regions["A1"].pk and audit.county_id == world.regions["C"].pk

    fresh.refresh_from_db()
    assert fresh.status == ImportStatus.CHECKED and bytes(fresh.content) and fresh.purged_at is None

    assert services.roster_purge_unconfirmed() == 0  # once only
    assert _purge_audits(old).count() == 1


def test_applied_batches_stay_and_cancelled_ones_lose_their_rows(world):
    applied, _ = _upload(world, 30, status=ImportStatus.APPLIED)
    cancelled, _ = _upload(world, 30, status=ImportStatus.CANCELLED)
    assert services.roster_purge_unconfirmed() == 1
    applied.refresh_from_db()
    cancelled.refresh_from_db()
    assert applied.purged_at is None and "赵错号" in json.dumps(applied.report, ensure_ascii=False)
    assert cancelled.status == ImportStatus.CANCELLED and cancelled.purged_at is not None
    assert "赵错号" not in json.dumps(cancelled.report, ensure_ascii=False)


def test_the_county_setting_decides_and_changing_it_is_audited(world):
    admin = User.objects.create_superuser("retention_admin", password="x-admin-pass-1")
    row = services.roster_retention_set(actor=admin, county=world.regions["C"], days=2)
    assert RosterSettings.objects.get(county=world.regions["C"]).unconfirmed_retention_days == 2 == row.unconfirmed_retention_days
    audit = AuditLog.objects.get(object_type="roster.rostersettings")
    assert audit.actor_username == "retention_admin" and audit.after["unconfirmed_retention_days"] == 2
    assert audit.county_id == world.regions["C"].pk

    three_days, _ = _upload(world, 3)
    one_day, _ = _upload(world, 1)
    assert services.roster_purge_unconfirmed() == 1
    three_days.refresh_from_db()
    one_day.refresh_from_db()
    assert three_days.status == ImportStatus.EXPIRED and one_day.status == ImportStatus.CHECKED
    assert "超过2天" in _purge_audits(three_days).get().note

    services.roster_retention_set(actor=admin, county=world.regions["C"], days=30)
    assert AuditLog.objects.filter(object_type="roster.rostersettings", action="update").get().before[
        "unconfirmed_retention_days"] == 2


def test_only_a_county_wide_permission_changes_the_setting(world):
    with pytest.raises(PermissionDenied):
        services.roster_retention_set(actor=world.user("town_secretary_a"), county=world.regions["C"], days=1)
    from django.core.exceptions import ValidationError
    with pytest.raises(ValidationError):
        services.roster_retention_set(actor=None, county=world.regions["C"], days=0)
    with pytest.raises(ValidationError):
        services.roster_retention_set(actor=None, county=world.regions["A"], days=3)  # a town
    assert not RosterSettings.objects.exists()


def test_the_command_the_celery_task_and_beat(world, capsys):
    old, _ = _upload(world, 10)
    call_command("purge_rosters", county=world.regions["C"].code, set_days=9)
    assert "purged 1 unconfirmed roster uploads" in capsys.readouterr().out
    assert RosterSettings.objects.get().unconfirmed_retention_days == 9
    old.refresh_from_db()
    assert old.status == ImportStatus.EXPIRED

    _upload(world, 12)
    assert purge_unconfirmed.delay().get() == 1  # eager in tests, as in the demo
    beat = settings.CELERY_BEAT_SCHEDULE["roster-purge-unconfirmed"]
    assert beat["task"] == purge_unconfirmed.name


def test_the_report_page_of_a_purged_upload_says_so_and_offers_no_import(world, login):
    old, _ = _upload(world, 8)
    services.roster_purge_unconfirmed()
    page = login(world.user("village_secretary_a1")).get(reverse("roster:batch", args=[old.pk]))
    html = page.content.decode()
    assert page.status_code == 200 and "按规定删除" in html and "赵错号" not in html
    assert 'name="action" value="all"' not in html


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent claims need PostgreSQL")
def test_concurrent_sweeps_purge_and_audit_each_upload_once():
    from tests.world import build_world

    world = build_world()
    batches = [_upload(world, 9)[0] for _ in range(6)]
    barrier, results = threading.Barrier(3), []

    def sweep():
        try:
            barrier.wait()
            results.append(services.roster_purge_unconfirmed())
        finally:
            connection.close()

    threads = [threading.Thread(target=sweep) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(results) == 6
    for batch in batches:
        assert _purge_audits(batch).count() == 1
