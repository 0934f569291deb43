"""Real headless Chromium for browser tests (Selenium + Debian's chromium and chromedriver).

``browser`` gives a fresh phone-sized Chromium (390×844, Chinese UI language) with its own
profile directory; ``browser_login(username)`` logs in through the real login form of the
``live_server``. When chromium or chromedriver is missing the tests are skipped with the reason,
unless ``GONGZHI_REQUIRE_BROWSER=1`` (CI), which turns that into a failure.

``GONGZHI_SCREENSHOT_DIR=dir`` makes ``screenshot(name)`` save full-page PNGs there for a look.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("GONGZHI_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("GONGZHI_CHROMEDRIVER", "/usr/bin/chromedriver")
PHONE = (390, 844)
WAIT_SECONDS = 30  # generous: CI shares two cores with PostgreSQL and the live server


def _missing() -> list[str]:
    missing = []
    try:
        import selenium  # noqa: F401
    except ImportError:
        missing.append("the selenium package is not installed (pip install -e '.[test]')")
    for path, package in ((CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")):
        if not (os.path.isfile(path) and os.access(path, os.X_OK)) and not shutil.which(path):
            missing.append(f"{path} not found (apt-get install {package})")
    return missing


@pytest.fixture
def browser(tmp_path):
    missing = _missing()
    if missing:
        message = "browser test needs Chromium: " + "; ".join(missing)
        if os.environ.get("GONGZHI_REQUIRE_BROWSER") == "1":
            pytest.fail(message + " (GONGZHI_REQUIRE_BROWSER=1)")
        pytest.skip(message)

    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = CHROMIUM
    for arg in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-quic", "--no-first-run", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--lang=zh-CN", f"--window-size={PHONE[0]},{PHONE[1]}",
                f"--user-data-dir={tmp_path / 'chromium-profile'}"):
        options.add_argument(arg)
    options.add_experimental_option("prefs", {"intl.accept_languages": "zh-CN,zh"})
    # The console is read at the end: a Content-Security-Policy violation fails the test.
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    # Headless Chromium will not make a window narrower than 500px: emulate the phone's viewport
    # (a mobile one, so the page's <meta name="viewport"> is honoured as on a real phone).
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": PHONE[0], "height": PHONE[1], "deviceScaleFactor": 2, "mobile": True})
    try:
        yield driver
        violations = csp_violations(driver)
        assert not violations, f"the page broke its Content-Security-Policy: {violations}"
    finally:
        driver.quit()


def csp_violations(driver) -> list[str]:
    """Console messages of the Content-Security-Policy refusing something (read once: the log drains)."""
    return [entry["message"] for entry in driver.get_log("browser")
            if "Content Security Policy" in entry["message"] or "Content-Security-Policy" in entry["message"]]


@pytest.fixture
def wait(browser):
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    # htmx may swap an element between finding it and reading it: look again, as a person would
    return WebDriverWait(browser, WAIT_SECONDS, ignored_exceptions=(StaleElementReferenceException,))


@pytest.fixture
def browser_login(browser, live_server, wait):
    """browser_login(username) → logs in through the login form and waits for the home page."""
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.common.by import By

    from tests.world import PASSWORD

    def _login(username: str, password: str = PASSWORD):
        from gongzhi.accounts.models import User
        from gongzhi.accounts.otp import needs_second_factor
        from tests.otp import code, totp_device

        user = User.objects.get(username=username)
        device = totp_device(user) if needs_second_factor(user) else None
        browser.get(f"{live_server.url}/accounts/login/")
        browser.find_element(By.NAME, "username").send_keys(username)
        browser.find_element(By.NAME, "password").send_keys(password)
        browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
        if device is not None:  # the second step, as a person types it from their authenticator
            wait.until(lambda d: "/accounts/otp/verify/" in d.current_url)
            browser.find_element(By.NAME, "token").send_keys(code(device))
            browser.find_element(By.CSS_SELECTOR, "form.card button[type=submit]").click()
        try:
            wait.until(lambda d: d.current_url.rstrip("/") == live_server.url)
        except TimeoutException:
            raise AssertionError(f"{username} did not reach the home page: {_where(browser)}") from None
        return browser

    return _login


def _where(browser) -> str:
    """Where a login stopped, for the failure message (the page's own error text)."""
    from selenium.webdriver.common.by import By

    try:
        text = browser.find_element(By.TAG_NAME, "main").text
    except Exception:
        text = browser.page_source[-600:]
    return f"{browser.current_url} — {text[:600]}"


@pytest.fixture
def screenshot(browser):
    """screenshot(name) → saves a full-page PNG into $GONGZHI_SCREENSHOT_DIR (no-op without it)."""
    import base64

    def _shot(name: str) -> Path | None:
        folder = os.environ.get("GONGZHI_SCREENSHOT_DIR")
        if not folder:
            return None
        path = Path(folder) / f"{name}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        shot = browser.execute_cdp_cmd("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True})
        path.write_bytes(base64.b64decode(shot["data"]))
        return path

    return _shot


def no_horizontal_overflow(browser) -> bool:
    return browser.execute_script(
        "return document.documentElement.scrollWidth <= window.innerWidth")


def page_replaced(element) -> bool:
    """True once ``element`` (taken from the previous page) no longer belongs to the document.

    Chromium reports this either as a stale reference or, caught mid-navigation, as an inspector
    error ("Node with given id does not belong to the document"); both mean the page was replaced.
    """
    from selenium.common.exceptions import StaleElementReferenceException, WebDriverException

    try:
        element.is_enabled()
        return False
    except StaleElementReferenceException:
        return True
    except WebDriverException as exc:
        if "does not belong to the document" in str(exc) or "No node with given id" in str(exc):
            return True
        raise
