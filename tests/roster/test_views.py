"""The web flow: upload → report → confirm, bad files, export downloads, scoping."""
from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from gongzhi.registry import services as registry
from gongzhi.registry.models import Household, Person
from gongzhi.roster.models import ImportBatch, ImportStatus

from .conftest import csv_bytes, pid, read_csv, read_xlsx, xlsx_bytes
from .messy import MessyRoster


def upload(client, world, content, name="roster.xlsx", kind="households", village="A1"):
    return client.post(reverse("roster:upload"), {
        "village": world.regions[village].pk, "kind": kind, "file": SimpleUploadedFile(name, content)})


def confirm(client, batch, action):
    return client.post(reverse("roster:confirm", args=[batch.pk]), {"action": action}, follow=True)


def test_upload_report_confirm_valid_rows(world, login):
    client = login(world.user("village_secretary_a1"))
    page = client.get(reverse("roster:upload"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "导入花名册" in html and "五一村" in html and "月河村" not in html and "紫云村" not in html

    response = upload(client, world, xlsx_bytes(MessyRoster(world).rows()), name="五一村花名册.xlsx")
    batch = ImportBatch.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("roster:batch", args=[batch.pk])

    report = client.get(response["Location"]).content.decode()
    assert "第8行" in report and "身份证号校验位错误" in report and "找不到所属网格“九组网格”" in report
    assert "此人已登记在户号H-A1-1中" in report
    assert 'value="all" disabled' in report  # import all is impossible with errors
    assert "仅导入无误的行" in report and "table-wrap" in report

    page = confirm(client, batch, "all")
    assert "未导入任何数据" in page.content.decode()
    assert not Household.objects.filter(code="H-101").exists()

    page = confirm(client, batch, "valid_only")
    assert "已导入" in page.content.decode()
    assert Household.objects.get(code="H-101").members.count() == 3
    batch.refresh_from_db()
    assert batch.status == ImportStatus.APPLIED

    page = confirm(client, batch, "valid_only")  # a second click changes nothing
    assert "已经导入或已取消" in page.content.decode()
    assert Person.objects.filter(household__code="H-101").count() == 3


def test_a_clean_file_imports_all_and_is_checked_again_at_confirmation(world, login):
    client = login(world.user("town_secretary_a"))
    newcomer = pid(dt.date(1982, 12, 12), 81)
    rows = [["户号", "家庭住址", "姓名", "身份证号", "与户主关系"], ["H-601", "月河村1号", "新户主", newcomer, "户主"]]
    upload(client, world, csv_bytes(rows), name="a2.csv", village="A2")
    batch = ImportBatch.objects.get()
    report = client.get(reverse("roster:batch", args=[batch.pk])).content.decode()
    assert 'value="all" disabled' not in report and "新建住户" in report

    # Meanwhile the same person is registered in another household: the confirmation re-checks.
    registry.person_create(actor=world.system, household=world.households["A2"], relation="child", name="新户主",
                           id_number=newcomer)
    page = confirm(client, batch, "all")
    assert "未导入任何数据" in page.content.decode()
    assert "此人已登记在户号H-A2中" in page.content.decode()
    assert not Household.objects.filter(code="H-601").exists()

    page = confirm(client, batch, "cancel")
    batch.refresh_from_db()
    assert batch.status == ImportStatus.CANCELLED and bytes(batch.content) == b""


def test_bad_files_get_a_clear_chinese_message_never_a_500(world, login, settings):
    client = login(world.user("village_secretary_a1"))
    cases = [
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "old.xls", "不支持旧版 Excel（.xls）文件"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "locked.xlsx", "设置了打开密码"),
        (b"PK\x03\x04 this is not really a zip", "broken.xlsx", "不是有效的 .xlsx 文件"),
        (b"not a spreadsheet", "fake.xlsx", "不是有效的 .xlsx 文件"),
        (b"%PDF-1.4", "scan.pdf", "只支持 .xlsx 和 .csv 文件"),
        (b"", "empty.csv", "文件是空的"),
        ("\r\n\r\n ,, \r\n".encode(), "blank.csv", "文件是空的"),
        (b"\x00\x01\x02\xff\xfe\x00garbage", "junk.csv", "无法"),
        ("姓名,年龄\r\n张三,30\r\n".encode(), "other.csv", "找不到表头"),
        ("户号,家庭住址,姓名,与户主关系\r\nH-1,村1号,张三,户主\r\n".encode(), "noid.csv", "缺少必需的列：身份证号"),
        ("网格编码,网格名称,网格层级\r\nA1-9,九组,二级\r\n".encode(), "grids.csv", "这似乎是一份网格花名册"),
        (csv_bytes([["户号", "家庭住址", "姓名", "身份证号", "与户主关系"]]), "header-only.csv", "没有数据行"),
    ]
    for content, name, message in cases:
        response = upload(client, world, content, name=name)
        assert response.status_code == 200, name
        assert message in response.content.decode(), name
    settings.ROSTER_MAX_UPLOAD_BYTES = 1000
    response = upload(client, world, b"x" * 2000, name="big.csv")
    assert response.status_code == 200 and "文件太大" in response.content.decode()
    assert not ImportBatch.objects.exists()


def test_scoping_of_the_pages(world, login):
    secretary_client = login(world.user("village_secretary_a1"))
    upload(secretary_client, world, csv_bytes([["户号", "家庭住址", "姓名", "身份证号", "与户主关系"],
                                               ["H-1", "村1号", "张三", pid(dt.date(1983, 1, 3), 82), "户主"]]),
           name="a1.csv")
    batch = ImportBatch.objects.get()

    outsider = login(world.user("outsider_b"))
    assert outsider.get(reverse("roster:batch", args=[batch.pk])).status_code == 404
    assert outsider.post(reverse("roster:confirm", args=[batch.pk]), {"action": "all"}).status_code == 404
    assert upload(outsider, world, b"x", name="a1.csv").status_code == 404
    export_a1 = reverse("roster:export-file", kwargs={"pk": world.regions["A1"].pk, "kind": "households", "fmt": "csv"})
    assert outsider.get(export_a1).status_code == 404
    assert "五一村" not in outsider.get(reverse("roster:upload")).content.decode()

    handler = login(world.user("department_handler"))
    pages = (reverse("roster:upload"), reverse("roster:batch", args=[batch.pk]), reverse("roster:export"), export_a1)
    for url in pages:
        assert handler.get(url).status_code == 403
    assert ImportBatch.objects.get().status == ImportStatus.CHECKED


def test_export_page_and_downloads(world, login):
    client = login(world.user("town_secretary_a"))
    page = client.get(reverse("roster:export"))
    assert page.status_code == 200 and "导出花名册" in page.content.decode()
    response = client.get(reverse("roster:export"), {"region": world.regions["A1"].pk, "kind": "grids",
                                                     "format": "csv"})
    assert response.status_code == 302
    download = client.get(response["Location"])
    assert download.status_code == 200 and download["Content-Type"].startswith("text/csv")
    assert "attachment" in download["Content-Disposition"]
    rows = read_csv(download.content)
    assert {row[0] for row in rows[2:]} == {"A1", "A1-1", "A1-2"}

    xlsx = client.get(reverse("roster:export-file", kwargs={"pk": world.regions["A"].pk, "kind": "households",
                                                            "fmt": "xlsx"}))
    assert len(read_xlsx(xlsx.content)) == 2 + 5
    bad = reverse("roster:export-file", kwargs={"pk": world.regions["A1"].pk, "kind": "people", "fmt": "xlsx"})
    assert client.get(bad).status_code == 404

    template = client.get(reverse("roster:template", kwargs={"kind": "households", "fmt": "xlsx"}))
    assert read_xlsx(template.content)[1][:3] == ["户号", "家庭住址", "所属网格"]


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_the_web_round_trip(world, login, fmt):
    client = login(world.user("village_secretary_a1"))
    url = reverse("roster:export-file", kwargs={"pk": world.regions["A1"].pk, "kind": "households", "fmt": fmt})
    content = client.get(url).content
    response = upload(client, world, content, name=f"export.{fmt}")
    report = client.get(response["Location"]).content.decode()
    assert 'value="all" disabled' not in report and "无变化人员" in report
    confirm(client, ImportBatch.objects.get(), "all")
    assert ImportBatch.objects.get().report["applied"]["plan"]["persons"]["unchanged"] == 4
    assert io.BytesIO(content).getbuffer().nbytes > 0


def test_the_recent_imports_are_paginated_with_the_one_pager(world, login, settings):
    settings.GONGZHI_PAGE_SIZE = 2
    client = login(world.user("village_secretary_a1"))
    for i in range(3):
        rows = [["户号", "家庭住址", "姓名", "身份证号", "与户主关系"],
                [f"PG-{i}", "五一村一组1号", f"甲{i}", pid(dt.date(1961, 1, 1 + i), 71 + 2 * i), "户主"]]
        upload(client, world, xlsx_bytes(rows), name=f"第{i}批.xlsx")
    first = client.get(reverse("roster:upload"))
    assert [b.filename for b in first.context["batches"]] == ["第2批.xlsx", "第1批.xlsx"]
    assert "第 1 页，共 2 页" in first.content.decode()
    second = client.get(reverse("roster:upload"), {"page": 2})
    assert [b.filename for b in second.context["batches"]] == ["第0批.xlsx"]
