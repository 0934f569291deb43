"""On a 360-px phone (real headless Chromium): the grid worker opens today's task from the start
page and confirms a volunteer's hours in two taps — and no page scrolls sideways."""
from __future__ import annotations

import datetime as dt

import pytest

from gongzhi.volunteers import services
from gongzhi.volunteers.models import PointsAccount, SignUp, SignUpStatus
from tests.browser.conftest import no_horizontal_overflow, page_replaced

from .conftest import make_task

pytestmark = pytest.mark.browser


def test_a_worker_confirms_a_volunteers_hours_in_a_few_taps(corps, browser_login, live_server, wait):
    from selenium.webdriver.common.by import By

    task = make_task(corps, title="河道清理")
    signup = services.signup_create(actor=corps.secretary, task=task, volunteer=corps.self_, assign=True)
    services.signup_check_in(actor=corps.secretary, signup=signup, at=task.starts_at)
    services.signup_check_out(actor=corps.secretary, signup=signup, at=task.starts_at + dt.timedelta(hours=2))

    browser = browser_login("grid_worker_a1_1")
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": 360, "height": 740, "deviceScaleFactor": 2, "mobile": True})
    browser.get(f"{live_server.url}/volunteers/")
    assert no_horizontal_overflow(browser)

    def tap(css):
        old = browser.find_element(By.TAG_NAME, "html")
        element = browser.find_element(By.CSS_SELECTOR, css)
        browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)
        element.click()
        wait.until(lambda d: page_replaced(old))
        assert no_horizontal_overflow(browser), f"{browser.current_url} scrolls sideways"

    tap(f"a[href='/volunteers/tasks/{task.pk}/']")  # tap 1: the task
    hours = browser.find_element(By.CSS_SELECTOR, f"#signup-{signup.pk} input[name=hours]")
    assert hours.get_attribute("value") == "2.0"  # the hours checked in and out, ready to confirm
    tap(f"#signup-{signup.pk} button.confirm")  # tap 2: confirm
    assert "时长已确认" in browser.find_element(By.TAG_NAME, "main").text
    signup.refresh_from_db()
    assert signup.status == SignUpStatus.CONFIRMED and signup.points_earned == 20
    assert PointsAccount.objects.get(volunteer=corps.self_).balance == 20
    assert SignUp.objects.get(pk=signup.pk).confirmed_by.username == "grid_worker_a1_1"
