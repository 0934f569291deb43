"""The pages: the phone's few taps, Chinese errors on the page and nothing saved, the county's
analytics, a case shown by its number only."""
from __future__ import annotations

import datetime as dt

from django.urls import reverse
from django.utils import timezone

from gongzhi.volunteers.models import PointsAccount, Redemption, SignUp, SignUpStatus

from .conftest import earn, make_task, served


def _messages(response) -> str:
    return " ".join(str(m) for m in response.context["messages"]) if response.context else ""


def test_a_worker_takes_a_volunteer_from_sign_up_to_confirmed_hours(corps, login):
    client = login(corps.worker)
    task = make_task(corps)
    url = reverse("volunteers:task", args=[task.pk])
    r = client.post(reverse("volunteers:task_do", args=[task.pk, "signup"]),
                    {"volunteer": corps.plain.pk, "assign": "1"}, follow=True)
    assert "已报名并安排" in _messages(r)
    s = SignUp.objects.get(task=task)
    assert s.status == SignUpStatus.ASSIGNED
    client.post(reverse("volunteers:signup_do", args=[s.pk, "check_in"]))
    # two hours of work later (the check-in moved back rather than the clock forward)
    SignUp.objects.filter(pk=s.pk).update(checked_in_at=timezone.now() - dt.timedelta(hours=2))
    client.post(reverse("volunteers:signup_do", args=[s.pk, "check_out"]))
    s.refresh_from_db()
    assert s.status == SignUpStatus.CHECKED_OUT
    page = client.get(url).content.decode()
    assert 'name="hours"' in page and "确认时长" in page
    r = client.post(reverse("volunteers:signup_do", args=[s.pk, "confirm"]), {"hours": ""}, follow=True)
    s.refresh_from_db()
    assert s.status == SignUpStatus.CONFIRMED and "时长已确认" in _messages(r)


def test_a_refused_assignment_is_shown_in_chinese_and_nothing_changes(corps, login):
    client = login(corps.secretary)
    task = make_task(corps, corps.legal)
    page = client.get(reverse("volunteers:task", args=[task.pk])).content.decode()
    assert "李秀英" in page and "不能承担" not in page  # the pool says who is not certified
    r = client.post(reverse("volunteers:task_do", args=[task.pk, "signup"]),
                    {"volunteer": corps.plain.pk, "assign": "1"}, follow=True)
    assert "没有法律资质" in _messages(r)
    assert not SignUp.objects.filter(task=task).exists()


def test_a_volunteer_signs_up_with_one_tap_and_sees_their_points(corps, login, world):
    earn(corps, corps.self_, hours=2)
    client = login(world.user("volunteer_a1"))
    task = make_task(corps, hours_from_now=2)
    home = client.get(reverse("volunteers:home")).content.decode()
    assert "报名" in home and 'id="my-balance">20<' in home
    client.post(reverse("volunteers:task_do", args=[task.pk, "signup"]), {"next": "/volunteers/"})
    assert SignUp.objects.filter(task=task, volunteer=corps.self_, signed_up_by=world.user("volunteer_a1")).exists()
    mine = client.get(reverse("volunteers:volunteer", args=[corps.self_.pk])).content.decode()
    assert "积分明细" in mine and "+20" in mine
    assert client.get(reverse("volunteers:volunteer", args=[corps.plain.pk])).status_code == 404


def test_redeeming_more_than_held_says_so_in_chinese_and_saves_nothing(corps, login, world):
    from gongzhi.volunteers import services

    earn(corps, corps.self_, hours=1)  # 10 points
    item = services.catalogue_item_save(actor=world.user("county_secretary"), county=corps.county, name="电饭煲",
                                        provider="县供销社", points_cost=300, stock=2)
    client = login(world.user("volunteer_a1"))
    r = client.post(reverse("volunteers:item_do", args=[item.pk, "redeem"]), {"quantity": "1"}, follow=True)
    assert "积分不足：现有10分，需要300分" in _messages(r)
    r = client.post(reverse("volunteers:item_do", args=[item.pk, "redeem"]), {"quantity": "-2"}, follow=True)
    assert "正整数" in _messages(r)
    assert not Redemption.objects.exists() and PointsAccount.objects.get(volunteer=corps.self_).balance == 10


def test_an_expired_certificate_is_refused_on_the_page(corps, login, world):
    client = login(world.user("county_secretary"))
    today = timezone.localdate()
    r = client.post(reverse("volunteers:volunteer_do", args=[corps.plain.pk, "certify"]), {
        "field": "medical", "level": "2", "certifying_body": "县卫健局",
        "certified_on": str(today - dt.timedelta(days=900)), "expires_on": str(today - dt.timedelta(days=3))},
        follow=True)
    assert "过期，不能登记为有效资质" in _messages(r)
    assert not corps.plain.certifications.exists()


def test_the_county_overview_counts_from_the_work_and_the_ledger_balances(corps, login, world):
    earn(corps, corps.lawyer, hours=2, task=make_task(corps, corps.legal))
    page = login(world.user("county_secretary")).get(reverse("volunteers:overview")).content.decode()
    assert "法律咨询" in page and "五一村" in page and "账目平衡" in page
    # the village screens stay minimal: no analytics there
    assert login(corps.secretary).get(reverse("volunteers:overview")).status_code == 403


def test_a_task_for_a_case_shows_its_number_never_its_tracking_code(corps, login, world):
    from gongzhi.volunteers import services
    from tests.permission_matrix.intake import _case

    case = _case(world)
    start = timezone.now() + dt.timedelta(days=1)
    task = services.task_create(actor=corps.secretary, kind=corps.legal, title="土地纠纷法律咨询", region=corps.village,
                                place="村调解室", starts_at=start, ends_at=start + dt.timedelta(hours=2), case=case)
    page = login(corps.secretary).get(reverse("volunteers:task", args=[task.pk])).content.decode()
    assert case.tracking_code not in page
    assert (case.number or "编号待定") in page


def test_list_pages_answer_in_a_bounded_number_of_queries(corps, login, django_assert_max_num_queries):
    for _ in range(3):
        served(corps, corps.plain, make_task(corps))
    client = login(corps.secretary)
    client.get(reverse("volunteers:tasks"))
    with django_assert_max_num_queries(25):
        client.get(reverse("volunteers:tasks"))
    with django_assert_max_num_queries(25):
        client.get(reverse("volunteers:volunteers"))
