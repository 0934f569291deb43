"""The core happy path of a resident's matter in a real headless Chromium at phone size (390 px):
a grid worker registers it; the village secretary instructs, accepts and assigns it to the grid;
the grid worker signs, reports the result with a photo; the secretary approves, answers the
requester, records their satisfaction and closes the case — every page usable without sideways
scrolling."""
from __future__ import annotations

import pytest

from gongzhi.cases.choices import CaseStatus as S
from gongzhi.cases.models import Case, CaseAttachment
from tests.browser.conftest import PHONE, no_horizontal_overflow

from .conftest import PNG, category

pytestmark = pytest.mark.browser


class Phone:
    def __init__(self, browser, wait, live_server, screenshot):
        self.browser, self.wait, self.base, self.screenshot = browser, wait, live_server.url, screenshot

    def check(self, name: str):
        assert self.browser.execute_script("return window.innerWidth") <= PHONE[0]
        assert no_horizontal_overflow(self.browser), f"{self.browser.current_url} scrolls sideways"
        self.screenshot(f"cases-{name}")

    def _el(self, css):
        from selenium.webdriver.common.by import By

        element = self.browser.find_element(By.CSS_SELECTOR, css)
        self.browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)
        return element

    def tap(self, css):
        """Tap something that loads a new page, and wait for it."""
        from selenium.webdriver.common.by import By

        old = self.browser.find_element(By.TAG_NAME, "html")
        self._el(css).click()
        self.wait.until(lambda d: _stale(old))

    def type(self, css, text):
        element = self._el(css)
        element.clear()
        element.send_keys(text)

    def select(self, css, value):
        from selenium.webdriver.support.ui import Select

        Select(self._el(css)).select_by_value(str(value))

    def step(self, name: str, **fields):
        """Open a step's panel on the case page, fill it in, submit it."""
        slug = name.replace("_", "-")
        self._el(f"#act-{slug} summary").click()
        for field, value in fields.items():
            css = f"#act-{slug} [name='{name}-{field}']"
            if isinstance(value, tuple):  # (kind, value): a select or a radio button
                kind, value = value
                if kind == "select":
                    self.select(css, value)
                else:
                    self._el(f"{css}[value='{value}']").click()
            else:
                self.type(css, value)
        self.tap(f"#act-{slug} button[type=submit]")
        assert "没有办成" not in self.browser.page_source, self.browser.page_source[-4000:]

    def login(self, browser_login, username):
        self.browser.delete_all_cookies()
        browser_login(username)


def _stale(element) -> bool:
    from tests.browser.conftest import page_replaced

    return page_replaced(element)


def test_a_case_goes_round_the_loop_on_a_phone(browser, browser_login, wait, live_server, screenshot, cw, media,
                                               tmp_path):
    phone = Phone(browser, wait, live_server, screenshot)
    photo = tmp_path / "路灯修好了.png"
    photo.write_bytes(PNG)

    # 1 分类建账: the grid worker registers the matter from the cases menu
    phone.login(browser_login, "grid_worker_a1_1")
    phone.tap("header a[href='/cases/']")
    phone.check("home")
    phone.tap("nav .subnav a[href='/cases/new/']")
    phone.check("register")
    phone.select("select[name=category]", category("opinion-village-affairs").pk)
    phone.type("input[name=title]", "村道路灯不亮")
    phone.type("textarea[name=description]", "五一村一组村道路灯坏了两周，晚上出行不便")
    phone.select("select[name=channel]", "grid_patrol")
    phone.select("select[name=grid]", cw.grids["A1-1"].pk)
    phone.type("input[name=requester_name]", "张建国")
    phone.type("input[name=requester_phone]", "13812345678")
    phone.tap("form button.wide-submit")
    case = Case.objects.get()
    assert case.number in browser.page_source and case.tracking_code in browser.page_source
    assert "已建账待受理" in browser.page_source
    phone.check("registered")

    # 2-4 书记阅批, 受理告知, 快速交办: the village secretary, from the workbench
    phone.login(browser_login, "village_secretary_a1")
    browser.get(f"{live_server.url}/cases/workbench/")
    phone.check("workbench")
    phone.tap(f"#queue-to_accept a[href='/cases/{case.pk}/']")
    phone.check("case-registered")
    phone.step("instruct", instruction="请村委会本周内修复")
    phone.step("accept", note="已电话告知张建国")
    phone.step("assign", target=("select", f"grid:{cw.grids['A1-1'].pk}"))
    assert "已交办待签收" in browser.page_source
    phone.check("case-assigned")

    # 5-6 签收, 结果反馈 with a photo: the grid worker, from their queue
    phone.login(browser_login, "grid_worker_a1_1")
    browser.get(f"{live_server.url}/cases/queue/")
    phone.check("queue")
    phone.tap(f"a[href='/cases/{case.pk}/']")
    phone.step("sign")
    phone._el("#act-report-result summary").click()
    phone.type("#act-report-result textarea[name='report_result-result']", "已更换灯泡，路灯恢复正常")
    phone._el("#act-report-result input[name='report_result-attachments']").send_keys(str(photo))
    phone.tap("#act-report-result button[type=submit]")
    assert "已反馈待书记把关" in browser.page_source and "路灯修好了.png" in browser.page_source
    phone.check("case-reported")

    # 7-9 书记把关, 回复征询, 销号归档: the village secretary
    phone.login(browser_login, "village_secretary_a1")
    browser.get(f"{live_server.url}/cases/{case.pk}/")
    phone.step("approve", note="同意")
    phone.step("reply", answer="您反映的路灯已修复，请问是否满意？")
    phone.step("record_satisfaction", satisfaction=("radio", "satisfied"))
    phone.step("close")
    assert "已销号归档" in browser.page_source
    phone.check("case-closed")

    # the secretary's other pages are usable on the phone too
    for name, path in [("secretary", "/cases/secretary/"), ("statistics", "/cases/statistics/"),
                       ("inbox", "/cases/inbox/"), ("list", "/cases/list/"), ("categories", "/cases/categories/")]:
        browser.get(f"{live_server.url}{path}")
        assert "共治" in browser.title
        phone.check(name)
    browser.get(f"{live_server.url}/cases/secretary/")
    assert "意见建议" in browser.page_source and "请村委会本周内修复" in browser.page_source

    case.refresh_from_db()
    assert (case.status, case.settled_level, case.satisfaction) == (S.CLOSED, "grid", "satisfied")
    assert list(case.events.values_list("kind", flat=True)) == [
        "register", "instruct", "accept", "assign", "sign", "report_result", "approve", "reply",
        "record_satisfaction", "close"]
    assert CaseAttachment.objects.get(case=case).original_name == "路灯修好了.png"
