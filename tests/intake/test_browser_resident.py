"""A resident on a phone-sized browser: files a matter (with the GPS button and the grid picker),
gets the tracking code, comes back with it, and answers the satisfaction question."""
from __future__ import annotations

import pytest

from gongzhi.cases import services as case_services
from gongzhi.cases.models import Case
from tests.browser.conftest import PHONE, no_horizontal_overflow

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_resident_files_from_a_phone_and_answers_satisfaction(browser, wait, screenshot, live_server, iw):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    # a fake position for navigator.geolocation (the button is progressive enhancement)
    browser.execute_cdp_cmd("Browser.grantPermissions", {"origin": live_server.url, "permissions": ["geolocation"]})
    browser.execute_cdp_cmd("Emulation.setGeolocationOverride", {"latitude": 32.891, "longitude": 108.508,
                                                                 "accuracy": 20})
    browser.get(f"{live_server.url}/r/")
    assert browser.execute_script("return window.innerWidth") <= PHONE[0]
    size = browser.execute_script("return parseFloat(getComputedStyle(document.body).fontSize)")
    assert size >= 20, "large type"
    assert no_horizontal_overflow(browser)
    screenshot("resident-form")

    browser.find_element(By.ID, "id_description").send_keys("五一村一组村口路灯坏了两个星期，老人晚上出门看不见路")
    Select(browser.find_element(By.ID, "id_village")).select_by_visible_text("五一村")
    wait.until(lambda d: d.find_element(By.ID, "grid-box").is_displayed())
    Select(browser.find_element(By.ID, "grid-pick")).select_by_visible_text("五一村一组网格")
    browser.find_element(By.ID, "gps-btn").click()
    wait.until(lambda d: "已记下" in d.find_element(By.ID, "gps-msg").text)
    Select(browser.find_element(By.ID, "id_category")).select_by_value("demand-small-matter")
    browser.find_element(By.ID, "id_phone").send_keys("13812340000")
    assert no_horizontal_overflow(browser)
    browser.find_element(By.ID, "submit").click()
    wait.until(lambda d: "/r/t/" in d.current_url)

    case = Case.objects.get()
    assert case.grid == iw.grids["A1-1"] and round(float(case.latitude), 3) == 32.891
    code = browser.find_element(By.ID, "code").text.replace(" ", "")
    assert code == case.tracking_code
    assert "已收到，等待受理" in browser.find_element(By.ID, "status").text
    assert no_horizontal_overflow(browser)
    screenshot("resident-tracking-code")

    secretary = iw.user("village_secretary_a1")
    case = case_services.case_accept(actor=secretary, case=case)
    case = case_services.case_assign(actor=secretary, case=case, region=iw.regions["A1"])
    case = case_services.case_sign(actor=secretary, case=case)
    case = case_services.case_report_result(actor=secretary, case=case, result="换了新灯泡")
    case = case_services.case_approve(actor=secretary, case=case)
    case_services.case_reply(actor=secretary, case=case, answer="路灯已经修好了。")

    # later: back with the code
    browser.get(f"{live_server.url}/r/t/")
    browser.find_element(By.ID, "code").send_keys(code.lower()[:4] + " " + code.lower()[4:])
    browser.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait.until(lambda d: d.find_elements(By.ID, "feedback"))
    assert "路灯已经修好了" in browser.find_element(By.ID, "reply").text
    browser.find_element(By.CSS_SELECTOR, "input[name=satisfaction][value=satisfied]").click()
    screenshot("resident-satisfaction")
    browser.find_element(By.CSS_SELECTOR, "#feedback button[type=submit]").click()
    wait.until(lambda d: "谢谢您的评价" in d.page_source)
    case.refresh_from_db()
    assert case.status == "evaluated" and case.satisfaction == "satisfied"
    assert no_horizontal_overflow(browser)


def test_the_page_works_without_javascript(browser, wait, live_server, iw):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    browser.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": True})
    browser.get(f"{live_server.url}/r/")
    assert not browser.find_element(By.ID, "gps").is_displayed()  # no JavaScript: no GPS button
    browser.find_element(By.ID, "id_description").send_keys("河边有人倒垃圾")
    Select(browser.find_element(By.ID, "id_village")).select_by_visible_text("月河村")
    browser.find_element(By.ID, "submit").click()
    wait.until(lambda d: "/r/t/" in d.current_url)
    assert Case.objects.get().region == iw.regions["A2"]
