"""A grid worker on a phone: log in, find a resident by pinyin initials, open the household
archive, reveal a phone number (htmx, no page reload) — and no page scrolls sideways."""
import pytest

from gongzhi.core.models import AuditLog
from tests.browser.conftest import PHONE, no_horizontal_overflow

pytestmark = pytest.mark.browser


def test_a_grid_worker_finds_a_household_and_reveals_a_phone(browser_login, wait, screenshot, world):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    browser = browser_login("grid_worker_a1_1")
    assert browser.execute_script("return window.innerWidth") <= PHONE[0]
    assert "我的角色" in browser.page_source and "网格员" in browser.page_source
    assert no_horizontal_overflow(browser)
    screenshot("home")

    box = browser.find_element(By.NAME, "q")
    box.send_keys("zjg", Keys.ENTER)
    wait.until(lambda d: d.find_elements(By.LINK_TEXT, "张建国"))
    assert "138****5678" in browser.page_source and "13812345678" not in browser.page_source
    assert no_horizontal_overflow(browser)
    screenshot("search")

    household = world.households["A1-1"]
    browser.find_element(By.CSS_SELECTOR, f"a[href='/registry/households/{household.pk}/']").click()
    wait.until(lambda d: "张建国户" in d.find_element(By.TAG_NAME, "h1").text)
    assert "户主" in browser.page_source and "刘桂兰" in browser.page_source
    assert no_horizontal_overflow(browser)
    screenshot("household")

    head = world.persons["A1-1"]
    phone = browser.find_element(By.ID, f"phone-{head.pk}")
    assert phone.text.startswith("138****5678")
    browser.execute_script("window.__stillTheSamePage = true")
    phone.find_element(By.TAG_NAME, "button").click()
    wait.until(lambda d: "13812345678" in d.find_element(By.ID, f"phone-{head.pk}").text)
    assert browser.execute_script("return window.__stillTheSamePage === true"), "htmx should swap, not reload"
    revealed = browser.find_element(By.ID, f"phone-{head.pk}")
    assert revealed.find_element(By.TAG_NAME, "a").get_attribute("href") == "tel:13812345678"
    assert not revealed.find_elements(By.TAG_NAME, "button")
    # the spouse's phone stays masked
    assert "139****4321" in browser.find_element(By.ID, f"phone-{world.persons['A1-1-spouse'].pk}").text
    assert no_horizontal_overflow(browser)
    screenshot("household-revealed")

    row = AuditLog.objects.get(action="reveal", object_type="registry.person", object_id=str(head.pk))
    assert row.actor_username == "grid_worker_a1_1"
