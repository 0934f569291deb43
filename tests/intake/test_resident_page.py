"""The residents' page: no account, tiny, plain; files a case and follows it to the satisfaction answer."""
from __future__ import annotations

import re

import pytest

from gongzhi.cases import services as case_services
from gongzhi.cases.choices import CaseStatus, Channel
from gongzhi.cases.models import Case, CaseAttachment
from gongzhi.intake.models import IdempotencyKey

from .conftest import png, resident_post

pytestmark = pytest.mark.django_db


def test_the_form_is_small_plain_and_needs_no_login(client, iw):
    response = client.get("/r/")
    assert response.status_code == 200
    html = response.content.decode()
    assert len(response.content) < 16_000, len(response.content)  # the whole page, CSS and script included
    assert not re.search(r'<(link|script)[^>]+(href|src)="(?!data:)', html), "no external stylesheet or script"
    assert "http://" not in html and "https://" not in html
    assert "五一村" in html and "城关镇" in html  # villages, grouped by town
    assert "路灯" in html  # the catalogue, plain names
    assert "信访事项" not in html  # formal procedures are left to staff
    assert 'name="key"' in html
    assert response["Referrer-Policy"] == "same-origin"


def test_a_resident_files_a_matter_and_gets_a_tracking_code(client, iw, sms):
    response, _ = resident_post(client, iw, phone="138 1234 0000", name="王大爷",
                                category="demand-small-matter", grid=str(iw.grids["A1-1"].pk))
    assert response.status_code == 302
    case = Case.objects.get()
    assert response["Location"] == f"/r/t/{case.tracking_code}/?new=1"
    assert case.channel == Channel.WEB and case.status == CaseStatus.REGISTERED
    assert case.requester_phone == "13812340000" and case.requester_name == "王大爷"
    assert case.region == iw.grids["A1-1"].region and case.grid == iw.grids["A1-1"] and case.village == iw.regions["A1"]
    assert case.category.code == "demand-small-matter"
    assert case.title.startswith("五一村一组村口路灯坏了")
    assert list(case.events.values_list("kind", flat=True)) == ["register"]
    assert case.registered_by.username == "gongzhi-intake"

    page = client.get(response["Location"])
    html = page.content.decode()
    grouped = " ".join(case.tracking_code[i:i + 4] for i in range(0, 12, 4))
    assert grouped in html and "已收到您反映的问题" in html
    assert "已收到，等待受理" in html
    assert "王大爷" not in html and "13812340000" not in html
    assert page["Cache-Control"] == "no-store"


def test_without_a_category_the_matter_waits_for_classification(client, iw):
    response, _ = resident_post(client, iw)
    assert response.status_code == 302
    case = Case.objects.get()
    assert case.category.code == "unclassified" and case.category.county == iw.regions["C"]
    assert case.anonymous is False and case.requester_phone == ""


def test_photos_are_attached_in_the_same_transaction(client, iw):
    response, _ = resident_post(client, iw, photos=[png("a.png"), png("b.png")])
    assert response.status_code == 302
    case = Case.objects.get()
    assert CaseAttachment.objects.filter(case=case, kind="intake").count() == 2


@pytest.mark.parametrize("fields, message", [
    ({"description": ""}, "请填写要反映的事"),
    ({"description": "路" * 2001}, "最多2000个字"),
    ({"village": ""}, "请选择在哪个村"),
    ({"village": "999999"}, "请选择在哪个村"),
    ({"village": "abc"}, "请选择在哪个村"),
    ({"phone": "12345"}, "电话号码不对"),
    ({"latitude": "91", "longitude": "108"}, "位置超出范围"),
    ({"latitude": "NaN", "longitude": "108"}, "位置超出范围"),
    ({"latitude": "abc", "longitude": "108"}, "位置格式不对"),
    ({"latitude": "32.9"}, "位置不完整"),
    ({"category": "no-such-thing"}, "请从列表中选择类别"),
    ({"category": "petition"}, "请从列表中选择类别"),
    ({"grid": "12345678"}, "网格不在所选的村"),
    ({"website": "http://spam.example"}, "提交没有成功"),
])
def test_bad_input_gets_a_clear_chinese_error_and_no_case(client, iw, fields, message):
    response, _ = resident_post(client, iw, **fields)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Case.objects.exists() and not IdempotencyKey.objects.exists()


def test_bad_photos_are_refused_and_nothing_is_kept(client, iw):
    import io

    fake = io.BytesIO(b"<script>alert(1)</script>")
    fake.name = "evil.png"
    response, _ = resident_post(client, iw, photos=[fake])
    assert response.status_code == 400 and "不是有效的图片文件" in response.content.decode()
    exe = io.BytesIO(b"MZ\x90\x00")
    exe.name = "virus.exe"
    response, _ = resident_post(client, iw, photos=[exe])
    assert response.status_code == 400 and "不是照片" in response.content.decode()
    response, _ = resident_post(client, iw, photos=[png("1.png"), png("2.png"), png("3.png"), png("4.png")])
    assert response.status_code == 400 and "最多上传3张" in response.content.decode()
    assert not Case.objects.exists() and not CaseAttachment.objects.exists()


def test_an_oversized_request_is_refused_before_it_is_read(client, iw, settings):
    settings.GONGZHI_INTAKE_MAX_REQUEST_BYTES = 10_000
    big = png("big.png")
    big.write(b"\x00" * 20_000)
    big.seek(0)
    response, _ = resident_post(client, iw, photos=[big])
    assert response.status_code == 413 and "内容太大" in response.content.decode()
    assert not Case.objects.exists()


def test_script_tags_are_stored_as_text_and_shown_escaped(client, iw):
    response, _ = resident_post(client, iw, description="<script>alert('x')</script> 路灯坏了\x00\x07")
    assert response.status_code == 302, re.findall(r"<li>([^<]*)</li>", response.content.decode())
    case = Case.objects.get()
    assert case.description == "<script>alert('x')</script> 路灯坏了"
    html = client.get(response["Location"]).content.decode()
    assert "<script>alert" not in html and "&lt;script&gt;" in html


def test_a_double_tap_makes_one_case(client, iw):
    first, data = resident_post(client, iw)
    second = client.post("/r/", data)
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]
    assert Case.objects.count() == 1 and IdempotencyKey.objects.count() == 1


def test_the_same_form_sent_again_with_other_content_is_not_silently_merged(client, iw):
    first, data = resident_post(client, iw)
    data["description"] = "另一件事：河边有人倒垃圾"
    second = client.post("/r/", data)
    assert second.status_code == 409
    html = second.content.decode()
    assert "已经提交过了" in html and Case.objects.get().tracking_code[:4] in html
    assert Case.objects.count() == 1


def test_anonymous_intake_is_rate_limited_per_client(client, iw, settings):
    settings.GONGZHI_INTAKE_RATE_LIMITS = {"resident_submit": (2, 600)}
    codes = [resident_post(client, iw, description=f"第{i}件事：路灯坏了")[0].status_code for i in range(3)]
    assert codes == [302, 302, 429]
    other = client.post("/r/", {}, REMOTE_ADDR="10.9.9.9")
    assert other.status_code == 400  # another client is not limited by the first one's count
    assert Case.objects.count() == 2


def test_unknown_tracking_codes_get_a_plain_answer(client, iw):
    response = client.get("/r/t/ABCDEFGHJKLM/")
    assert response.status_code == 404 and "没有找到这个查询码" in response.content.decode()
    assert client.get("/r/t/?code=abcd efgh jklm").status_code == 302
    assert client.get("/r/t/?code=<script>").status_code == 400


def _through_reply(iw, case):
    secretary = iw.user("village_secretary_a1")
    case = case_services.case_accept(actor=secretary, case=case, note="内部：先核实是不是上次那户")
    case = case_services.case_assign(actor=secretary, case=case, region=iw.regions["A1"])
    case = case_services.case_sign(actor=secretary, case=case)
    case = case_services.case_report_result(actor=secretary, case=case, result="已更换灯泡")
    case = case_services.case_approve(actor=secretary, case=case)
    return case_services.case_reply(actor=secretary, case=case, answer="路灯已修好，谢谢您的反映。")


def test_the_resident_follows_the_case_to_the_satisfaction_answer(client, iw, sms):
    response, _ = resident_post(client, iw, phone="13812340000")
    case = Case.objects.get()
    case = _through_reply(iw, case)
    url = f"/r/t/{case.tracking_code}/"
    html = client.get(url).content.decode()
    assert "已答复，请您评价" in html and "路灯已修好" in html
    assert "内部：先核实" not in html and "已更换灯泡" not in html  # internal notes and results stay inside
    assert "五一村书记" not in html  # no staff names either
    assert "您对办理结果满意吗" in html

    response = client.post(f"{url}feedback/", {"satisfaction": "basic", "note": "修得有点慢"})
    assert response.status_code == 302 and response["Location"] == f"{url}?answered=1"
    case.refresh_from_db()
    assert case.status == CaseStatus.EVALUATED and case.satisfaction == "basic"
    event = case.events.get(kind="record_satisfaction")
    assert event.actor.username == "gongzhi-requester" and "修得有点慢" in event.note
    html = client.get(f"{url}?answered=1").content.decode()
    assert "谢谢您的评价" in html and "已记录您的评价" in html and "基本满意" in html

    again = client.post(f"{url}feedback/", {"satisfaction": "satisfied"})
    assert again.status_code == 400 and "已经评价过了" in again.content.decode()
    case.refresh_from_db()
    assert case.satisfaction == "basic"


def test_a_settled_on_the_spot_matter_is_confirmed_by_the_resident(client, iw):
    resident_post(client, iw, grid=str(iw.grids["A1-1"].pk), category="demand-small-matter")
    case = Case.objects.get()
    case = case_services.case_settle_on_spot(actor=iw.user("grid_worker_a1_1"), case=case, action_taken="已换灯泡")
    url = f"/r/t/{case.tracking_code}/"
    html = client.get(url).content.decode()
    assert "已现场处理，请您确认" in html and "问题解决了吗" in html and "解决了，满意" in html
    assert client.post(f"{url}feedback/", {"satisfaction": "satisfied"}).status_code == 302
    case.refresh_from_db()
    assert case.status == CaseStatus.CLOSED and case.settled_level == "grid"
    assert "已办结" in client.get(url).content.decode()


def test_feedback_with_a_bad_choice_is_refused(client, iw):
    resident_post(client, iw)
    case = _through_reply(iw, Case.objects.get())
    response = client.post(f"/r/t/{case.tracking_code}/feedback/", {"satisfaction": "unreachable"})
    assert response.status_code == 400 and "请选择" in response.content.decode()
    case.refresh_from_db()
    assert case.status == CaseStatus.AWAITING_FEEDBACK


def test_the_grid_picker_lists_a_villages_grids(client, iw):
    data = client.get(f"/r/grids/{iw.regions['A1'].pk}/").json()
    assert {g["name"] for g in data["grids"]} >= {"五一村一组网格", "五一村二组网格"}
    assert client.get("/r/grids/999999/").status_code == 404


def test_ping(client):
    response = client.get("/r/ping")
    assert response.status_code == 200 and response.content == b"ok"


def test_an_expired_page_keeps_the_text_and_one_more_tap_sends_it(iw):
    from django.test import Client

    browser = Client(enforce_csrf_checks=True)
    page = browser.get("/r/").content.decode()
    key = re.search(r'name="key" value="([^"]+)"', page).group(1)
    data = {"key": key, "description": "桥上的栏杆断了，孩子上学危险", "village": str(iw.regions["A1"].pk)}
    browser.cookies.clear()  # the cookie expired while the resident was typing
    expired = browser.post("/r/", data)
    html = expired.content.decode()
    assert expired.status_code == 403 and "页面已过期" in html and "桥上的栏杆断了" in html
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    sent = browser.post("/r/", {**data, "csrfmiddlewaretoken": token})
    assert sent.status_code == 302 and Case.objects.count() == 1
