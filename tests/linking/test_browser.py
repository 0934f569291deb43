"""On a phone-sized screen (real headless Chromium): the agency's liaison plans a joint activity
from the pairing page, records who came and that it took place; then a resident opens the
activity's survey link and answers it in three taps — and no page scrolls sideways."""
from __future__ import annotations

import pytest

from gongzhi.linking.models import Activity, ActivityStatus, FeedbackItem, SurveyResponse
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


def _open(browser, css):
    from selenium.webdriver.common.by import By

    summary = browser.find_element(By.CSS_SELECTOR, f"{css} > summary")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", summary)
    summary.click()


def test_liaison_records_an_activity_and_a_resident_answers_its_survey(linked, browser_login, live_server, wait):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    browser = browser_login("agency_liaison")
    browser.get(f"{live_server.url}/linking/pairings/{linked.pairing.pk}/")
    assert no_horizontal_overflow(browser)
    _open(browser, "#plan-activity")
    form = browser.find_element(By.CSS_SELECTOR, "#plan-activity form")
    Select(form.find_element(By.NAME, "kind")).select_by_value("service")
    form.find_element(By.NAME, "title").send_keys("政策宣讲进院坝")
    form.find_element(By.NAME, "place").send_keys("五一村二组院坝")
    _tap(browser, wait, "#plan-activity button[type=submit]")
    activity = Activity.objects.get(title="政策宣讲进院坝")
    assert browser.current_url.endswith(f"/linking/activities/{activity.pk}/")

    for name in ("张建国", "刘桂兰"):
        browser.find_element(By.CSS_SELECTOR, "#attend input[name=name]").send_keys(name)
        _tap(browser, wait, "#attend button[type=submit]")
    assert list(activity.attendance.values_list("name", flat=True)) == ["张建国", "刘桂兰"]
    browser.find_element(By.CSS_SELECTOR, "#hold textarea[name=summary]").send_keys("讲解高龄补贴和医保政策，现场答疑12人")
    residents = browser.find_element(By.CSS_SELECTOR, "#hold input[name=residents_served]")
    residents.clear()
    residents.send_keys("30")
    _tap(browser, wait, "#hold button[type=submit]")
    activity.refresh_from_db()
    assert activity.status == ActivityStatus.HELD and activity.residents_served == 30
    survey_url = browser.find_element(By.ID, "survey-link").get_attribute("href")
    assert activity.survey_token in survey_url

    # A resident on their own phone: no login, three taps and a comment.
    browser.delete_all_cookies()
    browser.get(survey_url)
    assert no_horizontal_overflow(browser)
    for name, value in (("content", "3"), ("format", "3"), ("timing", "1")):
        radio = browser.find_element(By.CSS_SELECTOR, f"#survey input[name={name}][value='{value}']")
        browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", radio)
        radio.click()
    browser.find_element(By.NAME, "comment").send_keys("希望改在晚上，白天要干活")
    _tap(browser, wait, "#survey button[type=submit]")
    assert "谢谢" in browser.find_element(By.TAG_NAME, "main").text
    answer = SurveyResponse.objects.get(activity=activity)
    assert (answer.content, answer.format, answer.timing) == (3, 3, 1)
    assert FeedbackItem.objects.get(survey_response=answer).text == "希望改在晚上，白天要干活"
