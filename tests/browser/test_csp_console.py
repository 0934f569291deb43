"""The browser fixture fails a test whose page breaks the Content-Security-Policy: check that it
really sees a violation (a page with a policy of its own and an inline style it forbids)."""
import pytest

from tests.browser.conftest import csp_violations

pytestmark = pytest.mark.browser


def test_a_violation_shows_in_the_console(browser):
    browser.get("data:text/html,<meta http-equiv='Content-Security-Policy' content=\"style-src 'none'\">"
                "<p style='color:red'>x</p><style>p{}</style>")
    assert csp_violations(browser)
    assert not csp_violations(browser)  # read once: the fixture's own check then finds nothing
