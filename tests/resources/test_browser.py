"""On a phone-sized screen (real headless Chromium): the town reserves relief tents for a flooded
household's emergency need and dispatches them; the grid worker opens the delivery on the
doorstep and confirms it with the recipient's code in a few taps; the map draws the village from
the registry's own geometry — and no page scrolls sideways."""
from __future__ import annotations

import pytest

from gongzhi.resources.models import Delivery, DeliveryStatus, NeedStatus
from tests.browser.conftest import no_horizontal_overflow, page_replaced

from .conftest import need, stock

pytestmark = pytest.mark.browser


def _tap(browser, wait, css):
    from selenium.webdriver.common.by import By

    old = browser.find_element(By.TAG_NAME, "html")
    element = browser.find_element(By.CSS_SELECTOR, css)
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)
    element.click()
    wait.until(lambda d: page_replaced(old))
    assert no_horizontal_overflow(browser), f"{browser.current_url} scrolls sideways"


def test_dispatch_and_a_doorstep_confirmation_on_a_phone(world, browser_login, live_server, wait):
    from selenium.webdriver.common.by import By

    from gongzhi.registry.models import Region

    Region.objects.filter(pk=world.regions["A1"].pk).update(lat="32.90", lng="108.50", outline={
        "type": "Polygon", "coordinates": [[[108.48, 32.88], [108.52, 32.88], [108.52, 32.92], [108.48, 32.92],
                                            [108.48, 32.88]]]})
    tents = stock(world, quantity=10)
    emergency = need(world, title="洪灾受损户临时安置帐篷", quantity=2, priority=1, recipient_name="李秀英")

    browser = browser_login("town_secretary_a")
    browser.get(f"{live_server.url}/resources/needs/{emergency.pk}/")
    assert no_horizontal_overflow(browser)
    assert tents.name in browser.find_element(By.TAG_NAME, "main").text
    _tap(browser, wait, "form[action$='/reserve/'] button[type=submit]")
    _tap(browser, wait, "form[action$='/dispatch/'] button[type=submit]")
    code = browser.find_element(By.CSS_SELECTOR, ".receipt .code").text
    delivery = Delivery.objects.get()
    assert len(code) == 6 and delivery.status == DeliveryStatus.UNDER_WAY

    browser.delete_all_cookies()
    browser = browser_login("grid_worker_a1_1")
    browser.get(f"{live_server.url}/resources/deliveries/")
    _tap(browser, wait, f"a[href$='/resources/deliveries/{delivery.pk}/']")
    assert "李秀英" in browser.find_element(By.TAG_NAME, "main").text
    browser.find_element(By.NAME, "code").send_keys(code)
    _tap(browser, wait, "form.tap button[type=submit]")
    delivery.refresh_from_db()
    emergency.refresh_from_db()
    assert delivery.status == DeliveryStatus.CONFIRMED and delivery.received_quantity == 2
    assert emergency.status == NeedStatus.DELIVERED

    browser.get(f"{live_server.url}/resources/map/")
    wait.until(lambda d: d.find_element(By.ID, "dispatch-map").get_attribute("data-ready"))
    assert browser.find_element(By.ID, "dispatch-map").get_attribute("data-ready") != "0"
    assert browser.find_elements(By.CSS_SELECTOR, "#dispatch-map path.leaflet-interactive, #dispatch-map canvas")
    assert no_horizontal_overflow(browser)
