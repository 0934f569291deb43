"""Fixtures of the cases pages and API tests: the cases world of tests/cases (dispatchers, a
second department, the default catalogue, an in-memory SMS outbox), and small drivers that post a
step through the page (``act``) or the API (``step``), as a browser or a client would."""
from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tests.browser.conftest import browser, browser_login, screenshot, wait  # noqa: F401  (fixtures)
from tests.cases.conftest import add_login, catalogue, category, cw, sms  # noqa: F401  (fixtures)

PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
       b"\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7\x35\x81\x84\x00\x00\x00\x00IEND\xaeB`\x82")


def png(name: str = "现场照片.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PNG, content_type="image/png")


def act_url(case, step: str) -> str:
    return reverse("cases:act", kwargs={"pk": case.pk, "action": step.replace("_", "-")})


def act(client, case, step: str, **fields):
    """POST one step of ``case`` through its page form (field names prefixed by the step)."""
    data = {}
    for name, value in fields.items():
        if isinstance(value, bool):
            value = "1" if value else "0"
        data[f"{step}-{name}"] = value
    return client.post(act_url(case, step), data)


def step(client, case, name: str, fmt: str = "json", **data):
    """POST one step of ``case`` through the API."""
    url = reverse(f"case-{name.replace('_', '-')}", kwargs={"pk": case.pk})
    return client.post(url, data, format=fmt)


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def as_user(client):
    """as_user(user) → the Django test client logged in as that user (logging out whoever was)."""

    def _as(user):
        client.logout()
        client.force_login(user)
        return client

    return _as


@pytest.fixture
def api_as(world):
    """api_as(user) → a DRF client authenticated with the user's token."""
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    def _api(user):
        client = APIClient()
        token, _ = Token.objects.get_or_create(user=user)
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        return client

    return _api


def xlsx_text(content: bytes) -> str:
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(content), read_only=True)
    return "\n".join(" ".join("" if v is None else str(v) for v in row)
                     for sheet in book.worksheets for row in sheet.iter_rows(values_only=True))
