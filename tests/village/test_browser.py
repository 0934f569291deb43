"""A village secretary holds a courtyard meeting (院坝会) and a vote on a phone-sized screen
(390 px, real headless Chromium): call it, open it, record who came, put a motion to the vote,
record the show of hands, count, close the meeting — and no page scrolls sideways."""
from __future__ import annotations

import pytest

from gongzhi.village.models import Attendance, Meeting, Poll
from tests.browser.conftest import no_horizontal_overflow, page_replaced

pytestmark = pytest.mark.browser


def _tap(browser, wait, css):
    from selenium.webdriver.common.by import By

    old = browser.find_element(By.TAG_NAME, "html")
    element = browser.find_element(By.CSS_SELECTOR, css)
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)
    element.click()
    wait.until(lambda d: page_replaced(old))
    assert no_horizontal_overflow(browser), f"{browser.current_url} scrolls sideways"


def test_courtyard_meeting_and_vote_on_a_phone(village, browser_login, live_server, wait):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    v = village
    browser = browser_login("village_secretary_a1")
    browser.get(f"{live_server.url}/village/{v.region.pk}/meetings/new/?kind=courtyard")
    assert no_horizontal_overflow(browser)
    Select(browser.find_element(By.NAME, "kind")).select_by_value("courtyard")
    browser.find_element(By.NAME, "title").send_keys("二组院坝会：道路维修")
    browser.find_element(By.NAME, "place").send_keys("二组陈家院坝")
    _tap(browser, wait, "form button[type=submit].big")
    meeting = Meeting.objects.get(title="二组院坝会：道路维修")
    assert browser.current_url.endswith(f"/village/meetings/{meeting.pk}/")

    _tap(browser, wait, "#open-meeting")
    came = v.adults[:3]
    for person in came:
        Select(browser.find_element(By.ID, "add-person")).select_by_value(str(person.pk))
        _tap(browser, wait, "#add-attendee")
    assert Attendance.objects.filter(meeting=meeting, status="present").count() == 3
    # A courtyard meeting has no quorum: the vote opens with whoever came.
    browser.find_element(By.NAME, "question").send_keys("同意先修二组道路")
    _tap(browser, wait, "#poll-open button[type=submit]")
    poll = Poll.objects.get(meeting=meeting)
    assert browser.current_url.endswith(f"/village/polls/{poll.pk}/")
    ballots = browser.find_elements(By.CSS_SELECTOR, "#ballots input[value=for]")
    assert len(ballots) == 3
    for radio in ballots[:2]:
        browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", radio)
        radio.click()
    against = browser.find_elements(By.CSS_SELECTOR, "#ballots input[value=against]")[2]
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", against)
    against.click()
    _tap(browser, wait, "#cast")
    _tap(browser, wait, "#close-poll")
    poll.refresh_from_db()
    assert (poll.votes_for, poll.votes_against, poll.result) == (2, 1, "passed")
    assert "通过" in browser.find_element(By.ID, "poll-status").text

    browser.get(f"{live_server.url}/village/meetings/{meeting.pk}/")
    browser.find_element(By.NAME, "minutes").send_keys("群众同意先修二组道路，由村委会组织实施")
    _tap(browser, wait, "#close-meeting")
    meeting.refresh_from_db()
    assert meeting.status == "closed" and meeting.present_count == 3
    assert browser.find_element(By.ID, "meeting-status").text == "已结束"
