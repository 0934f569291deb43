"""/api/ answers with links to the schema, the docs and every app's endpoints (it used to be 404)."""
from __future__ import annotations

from urllib.parse import urlparse

import pytest
from rest_framework.test import APIClient


@pytest.mark.django_db
def test_the_api_root_links_to_the_schema_the_docs_and_each_app():
    response = APIClient().get("/api/")
    assert response.status_code == 200 and response["Content-Type"].startswith("application/json")
    body = response.json()
    assert urlparse(body["schema"]).path == "/api/schema/"
    assert urlparse(body["docs"]).path == "/api/docs/"
    assert {"accounts", "registry", "core", "cases", "roster", "care", "intake"} <= set(body["apps"])
    assert urlparse(body["apps"]["accounts"]["api-token"]).path == "/api/auth/token/"
    assert urlparse(body["apps"]["registry"]["household-list"]).path == "/api/households/"
    assert urlparse(body["apps"]["care"]["contacts"]).path == "/api/care/contacts/"
    assert urlparse(body["apps"]["intake"]["clusters"]).path == "/api/intake/clusters/"
    assert "limit" in body["pagination"]


def test_every_link_of_the_api_root_is_served(world, api):
    client = api("county_secretary")
    body = client.get("/api/").json()
    assert client.get(urlparse(body["schema"]).path).status_code == 200
    assert client.get(urlparse(body["docs"]).path).status_code == 200
    for app, links in body["apps"].items():
        for name, url in links.items():
            status = client.get(urlparse(url).path).status_code
            # 200, or 403/405 for endpoints this persona may not use or that only take POST — never 404/500
            assert status in (200, 400, 403, 405), (app, name, url, status)
