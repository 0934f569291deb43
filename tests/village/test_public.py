"""The public village-affairs pages (村务公开, /v/): what a resident without a login can read and
ask. Only published notices; drafts and other villages' notices are 404; names in tables are
masked, ID numbers and phones never shown (page and PDF); the PDF is real (read back with pypdf);
a question becomes a 意见建议 case with its PublicityQuestion, and bad input saves nothing."""
from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from gongzhi.cases.models import Case
from gongzhi.core.models import AuditLog
from gongzhi.intake.models import IdempotencyKey
from gongzhi.village import public, services
from gongzhi.village.models import PublicityQuestion

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()  # the PDF bytes and the rate limiter live there
    yield
    cache.clear()


def _publish(v, category="finance", title="2026年11月财务收支", **fields):
    fields.setdefault("lines", [{"item": "道路维修", "income": "0", "expense": "3200"}])
    item = services.publicity_draft(actor=v.secretary, region=v.region, category=category, title=title, **fields)
    return services.publicity_publish(actor=v.secretary, item=item)


def _url(v, item=None, suffix=""):
    base = f"/v/{v.region.code}/"
    return base if item is None else f"{base}n/{item.pk}/{suffix}"


def _text(response) -> str:
    return response.content.decode()


def _pdf_text(data: bytes) -> str:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    # The font is CID-keyed CFF with two-byte codes (Identity-H) and a ToUnicode map: poppler's
    # pdftotext reads it whole, pypdf leaves a NUL or a space between the characters. The words
    # are what we check, so both go.
    return "".join("".join(page.extract_text().replace("\x00", "").split()) for page in reader.pages)


SUBSIDY_LINES = [
    {"name": "张建国", "id_number": "610921198005170011", "phone": "13812345678", "kind": "高龄补贴",
     "amount": "100"},
    {"name": "欧阳明", "身份证号": "610921195001010022", "联系电话": "13987654321", "kind": "残疾人补贴",
     "amount": "80", "note": "代领人电话13700001111"},
    {"name": "Tom", "kind": "临时救助", "amount": 500},
]
SECRETS = ["张建国", "欧阳明", "610921198005170011", "610921195001010022", "13812345678", "13987654321",
           "13700001111", "Tom"]


# ---------------------------------------------------------------------------------------------
# the board


def test_the_board_lists_published_notices_only_with_the_village_bodies(village, client):
    v = village
    published = _publish(v)
    _publish(v, category="projects", title="二组道路硬化工程进度", body="已完成路基", lines=[])
    services.publicity_draft(actor=v.secretary, region=v.region, category="finance", title="12月财务收支（草稿）",
                             body="还没有核对")
    response = client.get(_url(v))
    assert response.status_code == 200
    html = _text(response)
    assert published.title in html and "二组道路硬化工程进度" in html
    assert "草稿" not in html and "还没有核对" not in html
    # Every category has its section, in the board's words.
    for label in ("决策事项", "决议实施结果", "财务收支（三资）", "集体资产（三资）", "集体资源（三资）", "项目建设",
                  "惠民补贴", "权力清单、责任清单", "其他村务"):
        assert f"<h2>{label}</h2>" in html
    # 六位一体: the bodies and their current members' names and posts (a committee has a 主任).
    assert "五一村党支部委员会" in html and "村务监督委员会" in html
    assert f"书记：{v.adults[0].name}" in html and f"主任：{v.adults[0].name}" in html
    assert f"主任：{v.adults[10].name}" in html  # the supervision committee's chair
    assert "村民代表（9人）" in html and v.representatives[0].person.name in html
    # Never a cadre's phone or ID number.
    for person in v.adults[:18]:
        assert person.id_number not in html
        if person.phone:
            assert person.phone not in html
    assert "<script" not in html  # usable without JavaScript


def test_an_unknown_village_code_or_a_group_code_is_404(village, client, world):
    assert client.get("/v/999999999999/").status_code == 404
    assert client.get(f"/v/{world.regions['A1g1'].code}/").status_code == 404  # a villager group, not a village
    assert client.get("/v/abc/").status_code == 404
    response = client.get(f"/v/{village.region.code}/?c=nonsense")
    assert response.status_code == 404 and "没有找到" in _text(response)


def test_a_category_shown_alone_is_paged_newest_first(village, client, settings):
    settings.GONGZHI_PAGE_SIZE = 2
    v = village
    for month in (9, 10, 11):
        _publish(v, title=f"2026年{month}月财务收支")
    # The board shows a category's newest notices (at most five) with a link to all of them.
    for month in (1, 2, 3):
        _publish(v, category="other", title=f"村务通知第{month}号", body="通知", lines=[])
    for month in (4, 5, 6):
        _publish(v, category="other", title=f"村务通知第{month}号", body="通知", lines=[])
    html = _text(client.get(_url(v)))
    assert "村务通知第6号" in html and "村务通知第2号" in html and "村务通知第1号" not in html
    assert "查看全部6条其他村务" in html

    first = _text(client.get(_url(v), {"c": "finance"}))
    assert "财务收支（三资）（共3条）" in first
    assert first.index("2026年11月财务收支") < first.index("2026年10月财务收支")
    assert "2026年9月财务收支" not in first and "下一页" in first and 'rel="next"' in first
    second = _text(client.get(_url(v), {"c": "finance", "page": "2"}))
    assert "2026年9月财务收支" in second and "2026年11月财务收支" not in second and "上一页" in second


def test_the_board_costs_the_same_queries_for_few_or_many_notices(village, client, django_assert_max_num_queries):
    v = village
    _publish(v)
    client.get(_url(v))
    with django_assert_max_num_queries(12):
        assert client.get(_url(v)).status_code == 200
    for i in range(12):
        _publish(v, category=["finance", "assets", "subsidies", "other"][i % 4], title=f"公开第{i}号")
    with django_assert_max_num_queries(12):
        assert client.get(_url(v)).status_code == 200


def test_decisions_show_their_tasks_progress_and_public_entries_only(village, client):
    v = village
    sec = v.secretary
    meeting = services.meeting_schedule(actor=sec, region=v.region, kind="courtyard", title="二组院坝会",
                                        scheduled_at=timezone.now(), place="二组晒场")
    decision = services.decision_record(actor=sec, region=v.region, title="修缮二组水渠",
                                        content="筹资修缮二组水渠300米", meeting=meeting)
    task = services.task_add(actor=sec, decision=decision, title="清淤", assignee=v.adults[21],
                             due_on=timezone.localdate() + dt.timedelta(days=20))
    services.task_progress(actor=sec, task=task, progress=40, note="已清淤一半")
    hidden = services.decision_note(actor=sec, decision=decision, kind="feedback", text="内部记录：某户不同意")
    hidden.public = False
    hidden.save(update_fields=["public"])
    services.decision_note(actor=v.world.system, decision=decision, kind="supervision", supervisor="committee",
                           text="监委会现场查看，质量合格")
    # Not public until a notice of it is published.
    assert "修缮二组水渠" not in _text(client.get(_url(v)))
    _publish(v, category="decision", title="关于修缮二组水渠的决议公告", body="经院坝会商议决定修缮", lines=[],
             decision=decision)
    html = _text(client.get(_url(v)))
    assert "关于修缮二组水渠的决议公告" in html
    assert "决议落实情况：正在落实" in html and "进度40%" in html and "已清淤一半" in html
    assert "村务监督委员会：监委会现场查看，质量合格" in html
    assert "内部记录" not in html
    # The task's assignee may be any resident: the board never names them.
    assert v.adults[21].name not in html


# ---------------------------------------------------------------------------------------------
# one notice


def test_a_draft_is_404_on_every_public_url_and_nothing_is_asked(village, client):
    v = village
    draft = services.publicity_draft(actor=v.secretary, region=v.region, category="finance", title="草稿",
                                     body="尚未公开")
    cases = Case.objects.count()
    for suffix in ("", "pdf", "ask"):
        assert client.get(_url(v, draft, suffix)).status_code == 404, suffix
    response = client.post(_url(v, draft, "ask"), {"text": "这笔钱花在哪里了？"})
    assert response.status_code == 404
    assert Case.objects.count() == cases and not PublicityQuestion.objects.exists()


def test_another_villages_notice_under_this_villages_code_is_404(village, client, world):
    v = village
    item = _publish(v)
    other = world.regions["A2"].code
    for suffix in ("", "pdf", "ask"):
        assert client.get(f"/v/{other}/n/{item.pk}/{suffix}").status_code == 404, suffix
    assert client.get(_url(v, item)).status_code == 200


def test_a_notice_shows_its_table_and_links_to_its_pdf(village, client):
    v = village
    item = _publish(v, body="本月收支如下", period_start=dt.date(2026, 11, 1), period_end=dt.date(2026, 11, 30))
    response = client.get(_url(v, item))
    assert response.status_code == 200
    html = _text(response)
    assert "2026年11月财务收支" in html and "本月收支如下" in html
    assert "<th scope=\"col\">项目</th>" in html and "<th scope=\"col\">支出（元）</th>" in html
    assert 'data-label="支出（元）" class="num">3200</td>' in html
    assert "2026年11月1日至2026年11月30日" in html
    assert f'href="/v/{v.region.code}/n/{item.pk}/pdf"' in html
    assert response["X-Robots-Tag"] == "noindex"


def test_subsidy_names_are_masked_and_ids_and_phones_never_shown(village, client):
    v = village
    item = _publish(v, category="subsidies", title="2026年第四季度惠民补贴发放名单", lines=SUBSIDY_LINES,
                    body="申请人张建国等3户，身份证号610921198005170011已核实")
    html = _text(client.get(_url(v, item)))
    assert "张某" in html and "欧阳某" in html and "T*" in html
    assert "高龄补贴" in html and "残疾人补贴" in html and ">100<" in html
    assert "代领人电话137****1111" in html  # a phone typed into another cell is masked
    assert "身份证号610921********0011" in html  # and an ID number in the text
    for secret in SECRETS[2:]:
        assert secret not in html, secret
    # The names are not in the table; the body is the village's own text (its ID number masked).
    table = html[html.index("<table"):html.index("</table>")]
    for secret in SECRETS:
        assert secret not in table, secret
    assert "<th scope=\"col\">身份证号</th>" not in table and "联系电话" not in table
    assert "<th scope=\"col\">电话" not in table and table.count("<th ") == 4  # 姓名 类别 金额 备注

    data = client.get(_url(v, item, "pdf")).content
    text = _pdf_text(data)
    assert "张某" in text and "欧阳某" in text and "高龄补贴" in text
    for secret in ["欧阳明", "Tom", *SECRETS[2:]]:
        assert secret not in text, secret


def test_the_pdf_is_an_a4_document_with_an_embedded_chinese_font(village, client):
    from pypdf import PdfReader

    v = village
    item = _publish(v, body="本月收支如下，欢迎群众监督。")
    response = client.get(_url(v, item, "pdf"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert "filename*=UTF-8''" in response["Content-Disposition"]
    data = response.content
    assert data.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(data))
    page = reader.pages[0]
    width, height = float(page.mediabox.width), float(page.mediabox.height)
    assert (round(width), round(height)) == (595, 842)  # A4 in points
    fonts = page["/Resources"]["/Font"]
    descriptors = [f.get_object()["/DescendantFonts"][0].get_object()["/FontDescriptor"].get_object()
                   for f in fonts.values()]
    assert any("/FontFile3" in d or "/FontFile2" in d for d in descriptors)  # embedded, not referenced
    assert any("NotoSansSC" in str(d["/FontName"]) for d in descriptors)
    text = _pdf_text(data)
    assert "2026年11月财务收支" in text and "道路维修" in text and "3200" in text
    assert "本月收支如下" in text and "五一村" in text
    assert reader.metadata.title == "2026年11月财务收支"


def test_the_pdf_of_a_long_table_runs_over_pages_with_every_line(village, client):
    v = village
    lines = [{"item": f"第{i}笔支出：村委会办公楼屋顶防水维修工程款项", "income": "0", "expense": str(100 + i)}
             for i in range(120)]
    item = _publish(v, title="2026年全年财务收支明细", lines=lines)
    from pypdf import PdfReader

    data = client.get(_url(v, item, "pdf")).content
    assert len(PdfReader(io.BytesIO(data)).pages) > 2
    text = _pdf_text(data)
    assert "第0笔支出" in text and "第119笔支出" in text and "219" in text


def test_characters_the_font_lacks_do_not_stop_the_pdf(village, client):
    v = village
    item = _publish(v, title="村里的好消息😀", body="生僻字𠀀与零宽\u200b字符")
    response = client.get(_url(v, item, "pdf"))
    assert response.status_code == 200 and "村里的好消息" in _pdf_text(response.content)


def test_the_pdf_is_made_once_for_a_notice_that_does_not_change(village, client, monkeypatch):
    from gongzhi.village import pdf

    v = village
    item = _publish(v)
    calls = []
    original = pdf.render_notice
    monkeypatch.setattr(pdf, "render_notice", lambda notice, url: calls.append(1) or original(notice, url=url))
    first = client.get(_url(v, item, "pdf")).content
    second = client.get(_url(v, item, "pdf")).content
    assert first == second and len(calls) == 1
    # A correction changes the old notice's print (it now says it was corrected).
    services.publicity_correct(actor=v.secretary, item=item, reason="金额有误",
                               lines=[{"item": "道路维修", "income": "0", "expense": "2300"}])
    third = client.get(_url(v, item, "pdf")).content
    assert len(calls) == 2 and "本公告已被更正" in _pdf_text(third)


def test_a_corrected_notice_links_to_its_correction_and_back(village, client):
    v = village
    item = _publish(v)
    new = services.publicity_correct(actor=v.secretary, item=item, reason="支出金额录入错误",
                                     lines=[{"item": "道路维修", "income": "0", "expense": "2300"}])
    old_html = _text(client.get(_url(v, item)))
    assert "这条公告已被更正" in old_html and f'href="/v/{v.region.code}/n/{new.pk}/"' in old_html
    assert "3200" in old_html  # the old notice stays readable as it was
    new_html = _text(client.get(_url(v, new)))
    assert "这是更正公告" in new_html and f'href="/v/{v.region.code}/n/{item.pk}/"' in new_html
    assert "更正说明：支出金额录入错误" in new_html and "2300" in new_html
    board = _text(client.get(_url(v), {"c": "finance"}))
    assert "已更正</span>" in board and "【更正】2026年11月财务收支" in board
    assert "本公告更正" in _pdf_text(client.get(_url(v, new, "pdf")).content)


# ---------------------------------------------------------------------------------------------
# a resident's question


def test_a_question_becomes_an_opinion_case_and_the_resident_gets_the_tracking_page(village, client):
    v = village
    item = _publish(v)
    response = client.post(_url(v, item, "ask"), {"text": "道路维修3200元是哪一段路？", "name": "老王",
                                                  "phone": "139 1234 5678", "key": "question-key-0001"})
    assert response.status_code == 302
    match = re.fullmatch(r"/r/t/([A-Z0-9]+)/\?new=1", response["Location"])
    assert match, response["Location"]
    case = Case.objects.select_related("category").get(tracking_code=match.group(1))
    assert case.category.ledger == "opinion" and case.category.code == "opinion-village-affairs"
    assert case.region_id == v.region.pk and case.channel == "web"
    assert case.requester_name == "老王" and case.requester_phone == "13912345678"
    assert "2026年11月财务收支" in case.title and "道路维修3200元是哪一段路？" in case.description
    question = PublicityQuestion.objects.get(case=case)
    assert question.item_id == item.pk and question.asked_at is not None
    assert (question.county_id, question.town_id, question.village_id) == (
        item.county_id, item.town_id, item.village_id)
    assert AuditLog.objects.filter(object_type="village.publicityquestion", object_id=str(question.pk),
                                   action="create").exists()
    track = client.get(response["Location"])
    assert track.status_code == 200 and "已收到您反映的问题" in _text(track)
    # The same form sent again (a double tap, a retry): one case, the same code.
    again = client.post(_url(v, item, "ask"), {"text": "道路维修3200元是哪一段路？", "name": "老王",
                                               "phone": "139 1234 5678", "key": "question-key-0001"})
    assert again.status_code == 302 and again["Location"] == response["Location"]
    assert PublicityQuestion.objects.count() == 1


@pytest.mark.parametrize("data, message", [
    ({"text": ""}, "请填写您的问题"),
    ({"text": "   "}, "请填写您的问题"),
    ({"text": "钱？"}, "请多写几个字"),
    ({"text": "这笔钱花在哪里了？", "phone": "12345"}, "电话号码不对"),
    ({"text": "这笔钱花在哪里了？", "name": "王" * 21}, "称呼最多20个字"),
    ({"text": "问" * 1001}, "您的问题最多1000个字"),
    ({"text": "这笔钱花在哪里了？", "website": "http://spam"}, "提交没有成功"),
])
def test_a_bad_question_gives_a_chinese_error_and_saves_nothing(village, client, data, message):
    v = village
    item = _publish(v)
    before = (Case.objects.count(), PublicityQuestion.objects.count(), IdempotencyKey.objects.count())
    response = client.post(_url(v, item, "ask"), {"key": "bad-question-01", **data})
    assert response.status_code == 400
    html = _text(response)
    assert message in html and 'id="errors"' in html
    assert "2026年11月财务收支" in html  # the form again, about the same notice
    if data.get("text", "").strip() and "website" not in data and len(data["text"]) <= 1000:
        assert data["text"] in html  # what the resident wrote is kept
    assert (Case.objects.count(), PublicityQuestion.objects.count(), IdempotencyKey.objects.count()) == before


def test_an_expired_form_keeps_the_text_and_saves_nothing(village):
    v = village
    item = _publish(v)
    strict = Client(enforce_csrf_checks=True)
    response = strict.post(_url(v, item, "ask"), {"text": "补贴发放标准是什么？"})
    assert response.status_code == 403
    html = _text(response)
    assert "页面已过期" in html and "补贴发放标准是什么？" in html
    assert not PublicityQuestion.objects.exists()


def test_a_question_on_a_corrected_notice_is_still_taken(village, client):
    v = village
    item = _publish(v)
    services.publicity_correct(actor=v.secretary, item=item, reason="金额有误",
                               lines=[{"item": "修路", "expense": "1"}])
    response = client.post(_url(v, item, "ask"), {"text": "为什么更正了金额？"})
    assert response.status_code == 302
    assert PublicityQuestion.objects.get().item_id == item.pk


def test_questions_are_rate_limited_with_the_residents_page_budget(village, client, settings):
    settings.GONGZHI_INTAKE_RATE_LIMITS = {"resident_submit": (1, 600)}
    v = village
    item = _publish(v)
    assert client.post(_url(v, item, "ask"), {"text": "第一个问题是什么？"}).status_code == 302
    response = client.post(_url(v, item, "ask"), {"text": "第二个问题是什么？"})
    assert response.status_code == 429 and "提交太频繁" in _text(response) and response["Retry-After"]
    assert PublicityQuestion.objects.count() == 1


# ---------------------------------------------------------------------------------------------
# the masking rules themselves


@pytest.mark.parametrize("raw, shown", [
    ("张建国", "张某"), ("李强", "张某".replace("张", "李")), ("欧阳明", "欧阳某"), ("欧阳", "欧某"),
    ("买买提·艾力", "买某"), ("Tom", "T*"), ("", ""), (None, ""), ("  王五 ", "王某"),
])
def test_mask_name(raw, shown):
    assert public.mask_name(raw) == shown


def test_public_table_drops_hidden_columns_and_keeps_the_order():
    table = public.public_table([{"name": "张三", "手机号": "13812345678", "amount": 10},
                                 {"name": "李四", "amount": 12.5, "bank_account": "6222020200001234", "note": None}])
    assert table.headers == ["姓名", "金额（元）", "备注"]
    assert table.rows == [["张某", "10", ""], ["李某", "12.5", ""]]
    assert table.numeric == [False, True, False]
    assert table.masked


def test_public_table_puts_who_before_what_whatever_order_the_lines_come_in():
    table = public.public_table([{"amount": "100", "kind": "高龄补贴", "name": "张三", "note": "按月发放"}])
    assert table.headers == ["姓名", "类别", "金额（元）", "备注"]
    assert not public.public_table([{"item": "修路", "expense": "3200"}]).masked
