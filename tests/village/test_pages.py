"""The staff pages, through the Django test client: a refused step shows the law's reason in
Chinese on the page it came from, nothing is saved, and the pages show the registry's figures."""
from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from gongzhi.village import services
from gongzhi.village.models import AgendaItem, Meeting, Poll

from .conftest import hold

pytestmark = pytest.mark.django_db


def _client(client, v):
    client.force_login(v.secretary)
    return client


def test_cases_become_one_agenda_item_in_one_submission(village, client):
    v = village
    c = _client(client, v)
    page = c.get(reverse("village:cases", kwargs={"pk": v.region.pk}))
    assert page.status_code == 200 and v.cases[0].title in page.content.decode()
    response = c.post(reverse("village:cases", kwargs={"pk": v.region.pk}),
                      {"cases": [x.pk for x in v.cases], "mode": "decide"})
    assert response.status_code == 302
    item = AgendaItem.objects.get()
    assert set(item.cases.values_list("pk", flat=True)) == {x.pk for x in v.cases}


def test_a_quorum_short_by_one_is_refused_on_the_page(village, client):
    v = village
    c = _client(client, v)
    meeting = services.meeting_schedule(actor=v.secretary, region=v.region, kind="representatives",
                                        title="村民代表会议", scheduled_at=timezone.now())
    hold(v.secretary, meeting, [m.person for m in v.representatives[:5]])
    response = c.post(reverse("village:meeting_do", kwargs={"pk": meeting.pk, "action": "poll"}),
                      {"question": "同意硬化道路", "ballot": "open"}, follow=True)
    text = response.content.decode()
    assert "实到5" in text and "还差1" in text
    assert not Poll.objects.filter(meeting=meeting).exists()
    # The page itself says so before anyone tries.
    assert "未达到法定人数" in c.get(reverse("village:meeting", kwargs={"pk": meeting.pk})).content.decode()


def test_roll_is_taken_on_the_page_and_counted(village, client):
    v = village
    c = _client(client, v)
    meeting = services.meeting_schedule(actor=v.secretary, region=v.region, kind="representatives",
                                        title="村民代表会议", scheduled_at=timezone.now())
    services.meeting_open(actor=v.secretary, meeting=meeting)
    reps = [m.person for m in v.representatives]
    marks = {f"a-{p.pk}": "present" for p in reps[:6]}
    marks[f"a-{reps[6].pk}"] = "left"
    response = c.post(reverse("village:meeting_do", kwargs={"pk": meeting.pk, "action": "attendance"}), marks)
    assert response.status_code == 302
    page = c.get(reverse("village:meeting", kwargs={"pk": meeting.pk})).content.decode()
    assert "应到9" in page and "实到6" in page and "已达到法定人数" in page


def test_a_step_out_of_order_is_refused_with_the_next_step_named(village, client):
    v = village
    c = _client(client, v)
    matter = services.matter_create(actor=v.secretary, region=v.region, title="村集体经济合作社入股",
                                    description="拟以集体林地入股合作社", topic="collective")
    response = c.post(reverse("village:matter_do", kwargs={"pk": matter.pk, "action": "step"}),
                      {"step": "resolve"}, follow=True)
    text = response.content.decode()
    assert "不能跳过或颠倒" in text
    matter.refresh_from_db()
    assert matter.status == "draft" and not matter.steps.exists()


def test_bad_input_never_500(village, client):
    v = village
    c = _client(client, v)
    meeting = services.meeting_schedule(actor=v.secretary, region=v.region, kind="courtyard", title="院坝会",
                                        scheduled_at=timezone.now())
    for action, data in [("attendance", {"a-abc": "present"}), ("poll", {}), ("add", {"person": "x"}),
                         ("speech", {"points": ""}), ("close", {})]:
        response = c.post(reverse("village:meeting_do", kwargs={"pk": meeting.pk, "action": action}), data)
        assert response.status_code == 302, action
    assert c.post(reverse("village:meeting_do", kwargs={"pk": meeting.pk, "action": "nothing"})).status_code == 404
    meeting.refresh_from_db()
    assert meeting.status == "planned"
    assert Meeting.objects.count() == 1


def test_county_sets_a_stricter_quorum_and_a_bad_one_is_refused(village, client):
    from gongzhi.village.quorum import settings_for

    v = village
    county = v.world.regions["C"]
    client.force_login(v.world.user("county_secretary"))
    url = reverse("village:settings", kwargs={"pk": county.pk})
    page = client.get(url).content.decode()
    assert "三分之二以上（含本数）" in page
    data = {"villagers_adults": ">1/2", "villagers_households": ">=2/3", "representatives": ">2/3",
            "party_members": ">1/2", "committees": ">1/2", "resolution": ">1/2", "adult_age": 18, "elderly_age": 60,
            "term_warning_days": 90, "task_due_soon_days": 3, "exemption_explain_days": 15, "duty_review_months": 12}
    bad = client.post(url, {**data, "representatives": "三分之二"})
    assert bad.status_code == 200 and "门槛应写成" in bad.content.decode()
    assert settings_for(county.pk).representatives == ">=2/3"
    assert client.post(url, data).status_code == 302
    assert settings_for(county.pk).representatives == ">2/3"
    # Now six of nine representatives is not enough.
    meeting = services.meeting_schedule(actor=v.secretary, region=v.region, kind="representatives", title="代表会议",
                                        scheduled_at=timezone.now())
    hold(v.secretary, meeting, [m.person for m in v.representatives[:6]])
    from gongzhi.village.quorum import quorum_of

    assert not quorum_of(meeting).met


def test_a_cluster_of_similar_cases_is_offered_as_one_item(village, client):
    v = village
    c = _client(client, v)
    page = c.get(reverse("village:cases", kwargs={"pk": v.region.pk})).content.decode()
    assert "反复反映" in page and "把这3件未办结的诉求合并为一个议题上会" in page


def test_a_residents_proposal_needs_the_resident(village, client):
    v = village
    c = _client(client, v)
    url = reverse("village:item_new", kwargs={"pk": v.region.pk})
    bad = c.post(url, {"title": "建文化广场", "mode": "speak", "source": "resident"})
    assert bad.status_code == 200 and "请选择提议的群众" in bad.content.decode()
    assert not AgendaItem.objects.exists()
    ok = c.post(url, {"title": "建文化广场", "mode": "speak", "source": "resident", "proposer": v.adults[5].pk})
    assert ok.status_code == 302
    assert AgendaItem.objects.get().proposer_id == v.adults[5].pk


def test_a_deliberation_step_without_its_meeting_is_a_chinese_error(village, client):
    v = village
    c = _client(client, v)
    matter = services.matter_create(actor=v.secretary, region=v.region, title="村道硬化", description="修路",
                                    topic="project")
    response = c.post(reverse("village:matter_do", kwargs={"pk": matter.pk, "action": "step"}),
                      {"step": "propose"}, follow=True)
    assert "须在支委会或两委会上进行" in response.content.decode()


def test_everyone_present_in_one_tap_then_the_exceptions(village, client):
    v = village
    c = _client(client, v)
    meeting = services.meeting_schedule(actor=v.secretary, region=v.region, kind="representatives",
                                        title="村民代表会议", scheduled_at=timezone.now())
    services.meeting_open(actor=v.secretary, meeting=meeting)
    url = reverse("village:meeting_do", kwargs={"pk": meeting.pk, "action": "attendance"})
    assert c.post(url, {"everyone": "1"}).status_code == 302
    assert meeting.attendance.filter(status="present").count() == 9
    reps = [m.person for m in v.representatives]
    c.post(url, {f"a-{reps[0].pk}": "absent"})
    assert meeting.attendance.filter(status="present").count() == 8


def test_a_grid_worker_sees_that_a_meeting_is_held_not_who_came(village, client):
    v = village
    meeting = services.meeting_schedule(actor=v.secretary, region=v.region, kind="representatives",
                                        title="村民代表会议", scheduled_at=timezone.now())
    hold(v.secretary, meeting, [m.person for m in v.representatives[:6]])
    client.force_login(v.world.user("grid_worker_a1_1"))
    page = client.get(reverse("village:meeting", kwargs={"pk": meeting.pk})).content.decode()
    assert "村民代表会议" in page
    assert v.representatives[0].person.name not in page
    client.force_login(v.secretary)
    assert v.representatives[0].person.name in client.get(reverse("village:meeting", kwargs={"pk": meeting.pk})).content.decode()


def test_a_cluster_once_on_the_agenda_is_not_offered_again(village, client):
    v = village
    c = _client(client, v)
    url = reverse("village:cases", kwargs={"pk": v.region.pk})
    c.post(url, {"cases": [x.pk for x in v.cases], "mode": "decide"})
    assert "反复反映" not in c.get(url).content.decode()
