"""What htmx does on the cases pages, in a real Chromium at phone size: picking a village loads
its grids into the register form; "show" swaps the requester's full phone in; "mark read" swaps
the message — each without reloading the page."""
from __future__ import annotations

import pytest

from gongzhi.cases import services
from gongzhi.cases.models import Notification
from gongzhi.core.models import AuditLog
from tests.browser.conftest import no_horizontal_overflow

from .conftest import category

pytestmark = pytest.mark.browser


def test_htmx_swaps_on_the_cases_pages(browser, browser_login, wait, live_server, cw):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    case = services.case_register(actor=cw.user("grid_worker_a1_1"), category=category("opinion-village-affairs"),
                                  title="村道路灯不亮", description="坏了两周", channel="grid_patrol",
                                  grid=cw.grids["A1-1"], requester_name="张建国", requester_phone="13812345678")
    browser_login("town_secretary_a")
    browser.get(f"{live_server.url}/cases/new/")
    browser.execute_script("window.__samePage = true")
    grid = browser.find_element(By.NAME, "grid")
    assert [o.text for o in Select(grid).options] == ["—"]
    Select(browser.find_element(By.NAME, "region")).select_by_value(str(cw.regions["A1"].pk))
    wait.until(lambda d: len(Select(d.find_element(By.NAME, "grid")).options) > 1)
    labels = [o.text for o in Select(browser.find_element(By.NAME, "grid")).options]
    assert any("五一村一组网格" in label for label in labels) and not any("紫云村" in label for label in labels)
    assert browser.execute_script("return window.__samePage === true")
    assert no_horizontal_overflow(browser)

    browser.get(f"{live_server.url}/cases/{case.pk}/")
    browser.execute_script("window.__samePage = true")
    assert "138****5678" in browser.find_element(By.ID, "requester-phone").text
    browser.find_element(By.CSS_SELECTOR, "#requester-phone button").click()
    wait.until(lambda d: "13812345678" in d.find_element(By.ID, "requester-phone").text)
    assert browser.execute_script("return window.__samePage === true")
    assert AuditLog.objects.filter(action="reveal", object_type="cases.case", object_id=str(case.pk)).exists()

    # a town-level matter: the town's dispatchers (the town secretary among them) are told
    services.case_register(actor=cw.user("village_secretary_a1"), category=category("opinion-public-service"),
                           region=cw.regions["A1"], title="建议增设公交站", description="村口没有站点", channel="window")
    message = Notification.objects.get(user=cw.user("town_secretary_a"), kind="registered")
    browser.get(f"{live_server.url}/cases/inbox/")
    browser.execute_script("window.__samePage = true")
    browser.find_element(By.CSS_SELECTOR, f"#n-{message.pk} button").click()
    wait.until(lambda d: not d.find_elements(By.CSS_SELECTOR, f"#n-{message.pk} button"))
    assert browser.execute_script("return window.__samePage === true")
    message.refresh_from_db()
    assert message.read_at is not None
