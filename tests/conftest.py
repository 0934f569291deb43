import pytest
from django.db import connection


def pytest_report_header(config):
    from django.conf import settings

    db = settings.DATABASES["default"]
    where = db["NAME"] if db["ENGINE"].endswith("sqlite3") else f"{db.get('HOST') or 'socket'}:{db.get('PORT') or 5432}"
    return f"database: {db['ENGINE'].rsplit('.', 1)[-1]} ({where})"


@pytest.fixture
def world(db):
    from tests.world import build_world

    return build_world()


@pytest.fixture
def login(client):
    """login(user) → the Django test client logged in as that user."""

    def _login(user):
        client.force_login(user)
        return client

    return _login


@pytest.fixture
def api(world):
    """api(username) → a DRF APIClient authenticated with that persona's token."""
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    def _api(username=None):
        client = APIClient()
        if username:
            token, _ = Token.objects.get_or_create(user=world.users[username])
            client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        return client

    return _api


@pytest.fixture(autouse=True)
def _force_login_includes_the_second_factor(monkeypatch):
    """In these tests ``force_login`` stands for a completed login, second factor included (the
    personas who need one get a verified TOTP device). The second factor's own tests log in
    through the pages (``tests/accounts``) or pass ``otp=False``."""
    from django.test import Client

    original = Client.force_login

    def force_login(self, user, backend=None, otp=True):
        original(self, user, backend)
        if otp:
            from tests.otp import verify_session

            verify_session(self, user)

    monkeypatch.setattr(Client, "force_login", force_login)


@pytest.fixture
def vendor():
    return connection.vendor


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    # PBKDF2's deliberate slowness costs seconds per persona and tests nothing of ours.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


# In CI (GONGZHI_REQUIRE_POSTGRES=1) a skipped test is a test that did not run: the concurrency,
# lock, trigger and browser tests skip on SQLite or without Chromium/Redis, and CI must not pass
# without them. Locally a skip stays a skip.
_skipped: list[str] = []


def pytest_runtest_logreport(report):
    if report.skipped and not hasattr(report, "wasxfail"):
        _skipped.append(report.nodeid)


def pytest_sessionfinish(session, exitstatus):
    import os

    if os.environ.get("GONGZHI_REQUIRE_POSTGRES") == "1" and _skipped and exitstatus == 0:
        session.exitstatus = 1


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    import os

    if os.environ.get("GONGZHI_REQUIRE_POSTGRES") == "1" and _skipped:
        terminalreporter.write_line(
            f"CI requires every test to run; {len(_skipped)} skipped: " + ", ".join(_skipped[:20]), red=True)


@pytest.fixture(autouse=True)
def _fresh_holiday_table_cache():
    # The holiday table is cached per process; a test's load is rolled back with its transaction.
    from gongzhi.core import workdays

    workdays.forget_cache()
    yield
    workdays.forget_cache()


@pytest.fixture(autouse=True)
def _fresh_intake_reference():
    # Open311 keeps counties, catalogue and place codes per process; each test has its own county.
    from gongzhi.intake import reference

    reference.forget()
    yield
    reference.forget()
