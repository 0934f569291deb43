"""Small helpers for the API tests (Zulip's ``assert_json_error`` idea)."""
from __future__ import annotations

from django.urls import reverse


def url(name: str, **kwargs) -> str:
    return reverse(name, kwargs=kwargs or None)


def results(response) -> list[dict]:
    assert response.status_code == 200, (response.status_code, response.content[:500])
    return response.json()["results"]


def assert_error(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, (response.status_code, response.content[:500])
    error = response.json()["error"]
    assert set(error) >= {"code", "message"}
    if code:
        assert error["code"] == code
    return error
