"""On a 360-px phone (real headless Chromium): the county secretary opens the quarter's results
and the quarterly bulletin — wide tables scroll inside their own box, the page never sideways —
and taps a figure to land on the records it counted."""
from __future__ import annotations

import pytest

from gongzhi.assessment import services
from tests.browser.conftest import browser, browser_login, no_horizontal_overflow, page_replaced, wait  # noqa: F401

from .conftest import set_weights

pytestmark = pytest.mark.browser

WIDE_TABLES_SCROLL_INSIDE = """
    return Array.from(document.querySelectorAll('main table'))
        .filter(t => t.getBoundingClientRect().right > window.innerWidth + 1 && !t.closest('.scroll'))
        .map(t => t.outerHTML.slice(0, 120));
"""


def _looks_right(browser):
    assert no_horizontal_overflow(browser), f"{browser.current_url} scrolls sideways"
    assert browser.execute_script("return document.body.scrollWidth <= window.innerWidth"), browser.current_url
    assert not browser.execute_script(WIDE_TABLES_SCROLL_INSIDE), f"{browser.current_url}: a wide table outside .scroll"


def test_results_and_a_bulletin_on_a_phone_and_a_figure_opens_its_records(aw, period, browser_login, live_server,
                                                                          wait):
    from selenium.webdriver.common.by import By

    set_weights(aw)
    bulletin = services.bulletin_generate(actor=aw.user("county_secretary"), scope_kind="county",
                                          region=aw.regions["C"], period=period)

    browser = browser_login("county_secretary")
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": 360, "height": 740, "deviceScaleFactor": 2, "mobile": True})

    browser.get(f"{live_server.url}/assessment/bulletins/{bulletin.pk}/")
    main = browser.find_element(By.TAG_NAME, "main")
    assert bulletin.title in main.text
    assert main.find_elements(By.CSS_SELECTOR, f"a[href$='/bulletins/{bulletin.pk}/file.pdf']")
    assert main.find_elements(By.CSS_SELECTOR, f"a[href$='/bulletins/{bulletin.pk}/file.xlsx']")
    assert browser.find_elements(By.CSS_SELECTOR, "main .scroll table")
    _looks_right(browser)

    browser.get(f"{live_server.url}/assessment/")
    assert f"汉阴县 · {period.label}" in browser.find_element(By.TAG_NAME, "h1").text
    assert browser.find_elements(By.CSS_SELECTOR, "main .scroll table")
    _looks_right(browser)

    # Tap the first headline figure (cases accepted this quarter).
    link = browser.find_element(By.CSS_SELECTOR, "ul.figures a[href*='/assessment/records/case_accepted/']")
    figure = link.text
    old = browser.find_element(By.TAG_NAME, "html")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", link)
    link.click()
    wait.until(lambda d: page_replaced(old))
    assert "/assessment/records/case_accepted/county/" in browser.current_url
    main = browser.find_element(By.TAG_NAME, "main")
    assert f": {figure}" in main.text.replace("：", ": ")  # the count stated is the figure tapped
    rows = main.find_elements(By.CSS_SELECTOR, ".scroll table tbody tr a[href^='/cases/'], "
                                               ".scroll table tbody tr a[href*='/cases/']")
    assert int(figure) > 0 and len(rows) == min(int(figure), 50)
    _looks_right(browser)
