"""The assessment pages as a person uses them: every figure on the home page is a link, and the
link lists exactly the records the figure counted; the burden meter names the demand that feeds
nothing; a wrong form input is refused in Chinese and saves nothing; a bulletin downloads as a PDF
and a workbook that read back with the title and the links to the records."""
from __future__ import annotations

import io
import re
from html import unescape

import pytest
from django.urls import reverse

from gongzhi.assessment import services
from gongzhi.assessment.indicators import BY_CODE
from gongzhi.assessment.models import FaultToleranceApplication, ScoringWeights
from gongzhi.cases.models import Case

from .conftest import set_weights

pytestmark = pytest.mark.django_db

FIGURE_LINK = re.compile(r'<a href="(/assessment/records/[^"]+)"><strong>([^<]*)</strong></a>')


def _login(client, aw, name):
    client.force_login(aw.user(name))
    return client


def _records_count(html: str) -> int:
    """The count the records page states above its list (the paginator's count)."""
    found = re.search(r"<p>[^<]*: <strong>(\d+)</strong>", html)
    assert found, "the records page states no count"
    return int(found.group(1))


def test_home_shows_every_figure_as_a_link_to_its_records(aw, period, client):
    set_weights(aw)
    response = _login(client, aw, "county_secretary").get(reverse("assessment:home"))
    assert response.status_code == 200
    html = response.content.decode()
    links = FIGURE_LINK.findall(html)
    headline = response.context["headline"]
    assert len(links) >= len(headline) == 12
    for indicator, figure, url in headline:
        assert (unescape(url), figure.display()) in [(unescape(u), text) for u, text in links], indicator.code
        assert f"/records/{indicator.code}/county/{aw.regions['C'].pk}/{period.code}/" in url
    # The villages' table is made of links too (the {% figure %} tag).
    assert re.search(rf'<a href="/assessment/records/case_closure_rate/village/{aw.regions["A1"].pk}/', html)


def test_a_figures_link_lists_exactly_the_records_it_counted(aw, period, client):
    set_weights(aw)
    c = _login(client, aw, "county_secretary")
    headline = {ind.code: (ind, fig, url) for ind, fig, url in c.get(reverse("assessment:home")).context["headline"]}
    start, end = period.bounds()
    in_quarter = Case.objects.filter(county=aw.regions["C"], received_at__gte=start, received_at__lt=end)
    assert in_quarter.filter(accepted_at__isnull=False).count() > 50  # more than one page of records

    for code in ("case_accepted", "case_closed", "case_closure_rate", "case_on_time_rate"):
        indicator, figure, url = headline[code]
        response = c.get(unescape(url))  # the link as the page wrote it, clicked
        assert response.status_code == 200
        assert _records_count(response.content.decode()) == int(figure.numerator) > 0, code
        listed = response.context["page"].paginator.object_list
        assert set(listed.values_list("pk", flat=True)) == set(
            indicator.records(user=aw.user("county_secretary"), period=period, kind="county",
                              subject_id=aw.regions["C"].pk, part="num").values_list("pk", flat=True))
        if figure.denominator is not None:
            den = c.get(unescape(url).replace("part=num", "part=den"))
            assert _records_count(den.content.decode()) == figure.denominator, code

    # The accepted cases, counted independently: the same records, one row each on the first page.
    indicator, figure, url = headline["case_accepted"]
    assert int(figure.numerator) == in_quarter.filter(accepted_at__isnull=False).count()
    page = c.get(unescape(url))
    numbers = set(in_quarter.filter(accepted_at__isnull=False).values_list("number", flat=True))
    shown = re.findall(r'<a href="/cases/\d+/">([^<]+)</a>', page.content.decode())
    assert len(shown) == 50 and set(shown) <= numbers

    # A village's figure from the table: its link lists that village's records only.
    a1 = aw.regions["A1"]
    village = next(a for a in c.get(reverse("assessment:home")).context["villages"] if a.subject_id == a1.pk)
    url = BY_CODE["case_accepted"].provenance_url("village", a1.pk, period)
    response = c.get(url)
    assert _records_count(response.content.decode()) == int(village.figures["case_accepted"].numerator) \
        == in_quarter.filter(village=a1, accepted_at__isnull=False).count()
    assert "五一村" in response.content.decode()


def test_the_burden_meter_lists_a_demand_that_feeds_no_indicator(aw, client):
    cs, county = aw.user("county_secretary"), aw.regions["C"]
    log = services.demand_add(actor=cs, county=county, code="weekly-log", name="每周工作日志", role="grid_worker",
                              kind="report", feeds="contacts_made", fields=6, per_week="1")
    c = _login(client, aw, "county_secretary")
    first = c.get(reverse("assessment:burden"))
    assert log.pk not in [load.demand.pk for load in first.context["meter"]["no_indicator"]]
    # The indicator it feeds goes on the negative list: the demand now feeds nothing that counts.
    services.negative_item_add(actor=cs, county=county, kind="no_count", text="联系户次不计入考核",
                               indicator="contacts_made")
    response = c.get(reverse("assessment:burden"))
    assert response.status_code == 200
    listed = {load.demand.name for load in response.context["meter"]["no_indicator"]}
    assert {"每周工作日志", "网格巡查签到"} <= listed  # the county's and a flow's own (feeds "")
    html = response.content.decode()
    assert re.search(r'<li class="alert"><strong>每周工作日志</strong>', html)
    assert re.search(r'<li class="alert"><strong>网格巡查签到</strong>', html)
    # ... with the county's way to cut it (a flow's own demand is changed in the flow, not here).
    assert reverse("assessment:demand_retire", args=[log.pk]) in html


def test_weights_not_summing_to_100_are_refused_in_chinese_and_nothing_is_saved(aw, client):
    set_weights(aw)
    before = list(ScoringWeights.objects.values_list("pk", flat=True))
    response = _login(client, aw, "county_secretary").post(reverse("assessment:scores"), {
        "on_time": "30", "satisfaction": "30", "no_rework": "20", "no_escalation": "10", "instruction": "0",
        "note": "试一试"})
    assert response.status_code == 200
    assert "各项权重之和应为100，现在是90" in response.content.decode()
    assert list(ScoringWeights.objects.values_list("pk", flat=True)) == before


def test_a_condition_claimed_without_evidence_is_refused_in_chinese_and_nothing_is_saved(aw, client):
    response = _login(client, aw, "village_secretary_a1").post(reverse("assessment:tolerance_new"), {
        "region": aw.regions["A1"].pk, "case_number": "", "matter": "组织村民清淤时误拆了邻村的引水渠",
        "public_good": "on", "public_good_evidence": "", "no_private_gain": "on",
        "no_private_gain_evidence": "账目公开，无个人收益"})
    assert response.status_code == 200
    assert "请写明依据" in response.content.decode()
    assert not FaultToleranceApplication.objects.exists()


def test_a_bulletin_downloads_as_pdf_and_excel_with_its_title_and_links(aw, period, client):
    from openpyxl import load_workbook
    from pypdf import PdfReader

    set_weights(aw)
    bulletin = services.bulletin_generate(actor=aw.user("county_secretary"), scope_kind="county",
                                          region=aw.regions["C"], period=period)
    c = _login(client, aw, "county_secretary")
    page = c.get(reverse("assessment:bulletin", args=[bulletin.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    pdf_url = reverse("assessment:bulletin_file", args=[bulletin.pk, "pdf"])
    xlsx_url = reverse("assessment:bulletin_file", args=[bulletin.pk, "xlsx"])
    assert f'href="{pdf_url}">PDF</a>' in html and f'href="{xlsx_url}">Excel</a>' in html
    assert "/assessment/records/" in html  # the page's figures are links as well

    pdf = c.get(pdf_url)
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    # (pypdf reads fpdf2's embedded CJK font back with a NUL before each character, as in tests/village)
    pages = PdfReader(io.BytesIO(pdf.content)).pages
    text = "".join("".join(p.extract_text().replace("\x00", "").split()) for p in pages)
    assert "汉阴县" in bulletin.title and bulletin.title in text

    xlsx = c.get(xlsx_url)
    assert xlsx.status_code == 200 and "spreadsheetml" in xlsx["Content-Type"]
    book = load_workbook(io.BytesIO(xlsx.content))
    assert book.worksheets[0]["A1"].value == bulletin.title
    targets = [cell.hyperlink.target for sheet in book.worksheets for row in sheet.iter_rows() for cell in row
               if cell.hyperlink is not None]
    assert any("/assessment/records/" in t for t in targets)
