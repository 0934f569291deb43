"""The public pages (/l/): the on-site survey and a pairing's page with its opinion form."""
from __future__ import annotations

import datetime as dt

from django.utils import timezone

from gongzhi.cases.models import Case
from gongzhi.linking import services
from gongzhi.linking.models import FeedbackItem, SurveyResponse
from tests.linking.conftest import make_pairing


def _activity(linked, *, hours_ago=1, length=2):
    start = timezone.now() - dt.timedelta(hours=hours_ago)
    return services.activity_plan(actor=linked.partner, pairing=linked.pairing, kind="service", title="义诊进村",
                                  place="村卫生室", starts_at=start, ends_at=start + dt.timedelta(hours=length))


def test_survey_three_taps_anonymous(linked, client):
    activity = _activity(linked)
    url = f"/l/s/{activity.survey_token}/"
    page = client.get(url)
    assert page.status_code == 200 and "义诊进村" in page.content.decode()
    assert page["Cache-Control"] == "no-store"
    response = client.post(url, {"content": "3", "format": "2", "timing": "3", "comment": ""})
    assert response.status_code == 200 and "谢谢" in response.content.decode()
    answer = SurveyResponse.objects.get()
    assert (answer.content, answer.format, answer.timing, answer.comment) == (3, 2, 3, "")
    assert not FeedbackItem.objects.exists()  # no comment, nothing to answer in a plan


def test_survey_bad_input_is_explained_and_nothing_saved(linked, client):
    activity = _activity(linked)
    response = client.post(f"/l/s/{activity.survey_token}/", {"content": "3", "format": "7", "comment": "好"})
    body = response.content.decode()
    assert response.status_code == 400 and "请选择活动形式" in body and "请选择活动时间" in body
    assert 'value="3" checked' in body  # the answer given is kept
    assert not SurveyResponse.objects.exists()


def test_survey_closed_before_start_and_unknown_token(linked, client):
    later = _activity(linked, hours_ago=-5)
    assert "现在不能填写" in client.get(f"/l/s/{later.survey_token}/").content.decode()
    assert client.post(f"/l/s/{later.survey_token}/", {"content": "3", "format": "3", "timing": "3"}).status_code == 400
    assert client.get("/l/s/nosuchtoken/").status_code == 404
    assert not SurveyResponse.objects.exists()


def test_public_pairing_page_shows_work_not_people(linked, client, world):
    need = services.need_raise(actor=linked.partner, pairing=linked.pairing, title="健康咨询", kind="experts",
                               grade="core", quantity=2, asked_by="张建国等五户")
    resource = services.resource_add(actor=linked.lead, pairing=linked.pairing, kind="experts", name="医生志愿队",
                                     capacity=10, unit="次", use_form="serve")
    services.need_check(actor=linked.partner, need=need, feasibility="feasible", note="可行")
    services.project_confirm(actor=linked.partner, need=need, resource=resource, title="每月义诊")
    body = client.get(f"/l/p/{linked.pairing.pk}/").content.decode()
    assert "每月义诊" in body and linked.pairing.title in body
    assert "张建国" not in body and "agency_liaison" not in body


def test_draft_pairing_is_not_public(world, client):
    draft = make_pairing(world, sign=False)
    assert client.get(f"/l/p/{draft.pairing.pk}/").status_code == 404


def test_public_opinion_becomes_a_case_and_pairing_feedback_once(linked, client):
    from gongzhi.cases.catalogue import install_default_catalogue
    from gongzhi.cases.models import CaseCategory, TimeLimitDefault

    install_default_catalogue(CaseCategory, TimeLimitDefault)
    url = f"/l/p/{linked.pairing.pk}/"
    key = "k" * 24
    response = client.post(url, {"text": "希望结对单位多来几次法律讲座", "phone": "13800001111", "key": key})
    assert response.status_code == 302 and "/r/t/" in response["Location"]
    item = FeedbackItem.objects.get()
    assert item.channel == "public_page" and item.case is not None and item.text == "希望结对单位多来几次法律讲座"
    assert Case.objects.count() == 1
    # The same key again (a resident tapping twice): no second case, no second feedback.
    client.post(url, {"text": "希望结对单位多来几次法律讲座", "phone": "13800001111", "key": key})
    assert Case.objects.count() == 1 and FeedbackItem.objects.count() == 1


def test_public_opinion_bad_input_keeps_the_text(linked, client):
    response = client.post(f"/l/p/{linked.pairing.pk}/", {"text": "好", "phone": "123"})
    body = response.content.decode()
    assert response.status_code == 400 and "多写几个字" in body
    assert not FeedbackItem.objects.exists() and not Case.objects.exists()
