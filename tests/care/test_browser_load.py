"""The load on the grassroots, measured in a real browser (DOMAIN.md §3.6).

A grid worker on a 390-px-wide headless Chromium walks each common task from "My work"
(/care/), counting every field they fill and every step they take (a page opened by a tap, a
form submitted). The test fails when a flow needs more than ``gongzhi.care.load.TASKS`` states,
or when a page scrolls sideways on the phone.
"""
from __future__ import annotations

import pytest

from gongzhi.care import services
from gongzhi.care.load import TASKS_BY_CODE
from gongzhi.care.models import ContactRecord, PatrolProblem, Visit
from gongzhi.registry import services as registry_services
from gongzhi.registry.models import Household
from tests.browser.conftest import PHONE, no_horizontal_overflow

pytestmark = pytest.mark.browser


class Walk:
    """Drives the browser and counts what the person has to do."""

    def __init__(self, browser, wait, start_url):
        self.browser, self.wait = browser, wait
        self.fields = self.steps = 0
        browser.get(start_url)
        self._check_page()

    def _check_page(self):
        assert self.browser.execute_script("return window.innerWidth") <= PHONE[0]
        assert no_horizontal_overflow(self.browser), f"{self.browser.current_url} scrolls sideways"

    def tap(self, css):
        """A tap that opens a page or submits a form: one step."""
        from selenium.webdriver.common.by import By

        old = self.browser.find_element(By.TAG_NAME, "html")
        element = self.browser.find_element(By.CSS_SELECTOR, css)
        self.browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)
        element.click()
        self.wait.until(lambda d: _stale(old))
        self.steps += 1
        self._check_page()

    def fill(self, name, text):
        from selenium.webdriver.common.by import By

        element = self.browser.find_element(By.NAME, name)
        self.browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)
        element.clear()
        element.send_keys(text)
        self.fields += 1

    def choose(self, name, value):
        from selenium.webdriver.common.by import By

        element = self.browser.find_element(By.CSS_SELECTOR, f"input[name='{name}'][value='{value}']")
        self.browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)
        element.click()
        self.fields += 1

    def select(self, name, value):
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support.ui import Select

        Select(self.browser.find_element(By.NAME, name)).select_by_value(str(value))
        self.fields += 1

    def within(self, code):
        task = TASKS_BY_CODE[code]
        assert self.fields <= task.fields, f"{code}: {self.fields} fields filled, {task.fields} stated"
        assert self.steps <= task.steps, f"{code}: {self.steps} steps taken, {task.steps} stated"
        return self.fields, self.steps


def _stale(element) -> bool:
    from tests.browser.conftest import page_replaced

    return page_replaced(element)


@pytest.fixture
def field_day(care):
    """Grid A1-1: 张建国's household red (a left-behind elder) with a visit due; the grid worker
    (陈网格) is logged in on a phone."""
    registry_services.person_update(actor=care.system, person=care.persons["A1-1-spouse"], left_behind="elderly")
    services.households_classify(actor=None, region=care.regions["A1"])
    return care


@pytest.fixture
def phone(field_day, browser_login, live_server, wait):
    browser = browser_login("grid_worker_a1_1")
    return lambda: Walk(browser, wait, f"{live_server.url}/care/")


def test_record_a_contact_within_the_stated_load(field_day, phone):
    household = field_day.households["A1-1"]
    walk = phone()
    walk.tap(f"a.contact-link[href$='?household={household.pk}']")
    assert walk.browser.find_element("css selector", f"input[name=household][value='{household.pk}']").is_selected()
    walk.choose("method", "visit")
    walk.fill("heard", "老人说冬天取暖有困难")
    walk.tap("#contact-form button[type=submit]")
    walk.within("record_contact")
    record = ContactRecord.objects.get()
    assert record.household_id == household.pk and record.method == "visit"
    assert record.recorded_by.username == "grid_worker_a1_1"


def test_record_a_visit_within_the_stated_load(field_day, phone):
    due = Visit.objects.get(household=field_day.households["A1-1"], done_at__isnull=True)
    walk = phone()
    walk.tap(f"a.visit-link[href$='/care/visits/{due.pk}/']")
    walk.fill("note", "上门看望，老人身体尚好，需要助听器")
    walk.tap("#visit-form button[type=submit]")
    walk.within("record_visit")
    due.refresh_from_db()
    assert due.done_at is not None and "助听器" in due.note
    assert Visit.objects.filter(household=due.household, done_at__isnull=True).count() == 1  # the next one


def test_report_a_patrol_problem_within_the_stated_load(field_day, phone):
    walk = phone()
    walk.tap("#start-patrol")
    walk.fill("description", "一组河边护栏损坏，有安全隐患")
    walk.fill("location", "一组河边")
    walk.tap("#problem-form button[type=submit]")
    walk.within("report_patrol_problem")
    problem = PatrolProblem.objects.get()
    assert problem.patrol.grid_id == field_day.grids["A1-1"].pk and problem.case_ref


def test_update_a_household_within_the_stated_load(field_day, phone):
    household = field_day.households["A1-3"]
    walk = phone()
    walk.tap(f"a.change-link[href$='/care/households/{household.pk}/change/']")
    walk.select("kind", "income")
    walk.fill("annual_income", "18000")
    walk.tap("#change-form button[type=submit]")
    walk.within("update_household")
    assert Household.objects.get(pk=household.pk).annual_income == 18000


def test_the_load_page_states_every_task(field_day, phone):
    walk = phone()
    walk.tap("a[href$='/care/load/']")
    text = walk.browser.page_source
    for code in TASKS_BY_CODE:
        assert f"task-{code}" in text
