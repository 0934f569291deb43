"""Every list page and list endpoint pages the same way (gongzhi/core/pagination.py): one page size
setting, ``?page=`` on pages with the one pager, ``?limit=&offset=`` in the API with a ceiling."""
from __future__ import annotations

import pytest
from django.urls import reverse
from rest_framework.test import APIRequestFactory

from gongzhi.care import services
from gongzhi.core.pagination import MAX_PAGE_SIZE, Pagination


@pytest.fixture
def small_pages(settings):
    settings.GONGZHI_PAGE_SIZE = 2


def _contacts(care, n):
    actor = care.user("three_line_a1")
    for i in range(n):
        services.contact_record(actor=actor, household=care.households["A1-1"], method="visit", heard=f"第{i}次走访")


def _changes(care, n):
    for i in range(n):
        services.archive_change_record(actor=care.user("grid_worker_a1_1"), household=care.households["A1-1"],
                                       kind="disability", person=care.persons["A1-1"], payload={"grade": 1 + i % 4})


def test_the_contacts_api_is_paginated_past_the_old_200_row_cut(care, api, small_pages):
    _contacts(care, 5)
    client = api("three_line_a1")
    first = client.get(reverse("care_api:contacts")).json()
    assert first["count"] == 5 and len(first["results"]) == 2 and "offset=2" in first["next"]
    last = client.get(first["next"].replace("offset=2", "offset=4")).json()
    assert len(last["results"]) == 1 and last["next"] is None
    seen = {r["heard"] for r in first["results"]} | {r["heard"] for r in last["results"]}
    middle = client.get(first["next"]).json()["results"]
    assert len(seen | {r["heard"] for r in middle}) == 5  # every row reachable, none twice


def test_the_changes_api_and_page_use_the_same_page_size(care, api, login, small_pages):
    _changes(care, 3)
    body = api("village_secretary_a1").get(reverse("care_api:changes")).json()
    assert body["count"] == 3 and len(body["results"]) == 2
    client = login(care.user("village_secretary_a1"))
    url = reverse("care:changes", kwargs={"pk": care.regions["A1"].pk})
    first = client.get(url)
    assert len(first.context["changes"]) == 2 and "第 1 页，共 2 页" in first.content.decode()
    assert len(client.get(url, {"page": 2}).context["changes"]) == 1
    # a page that is not a number, or past the end, gives the nearest page — never a 500 or a 404
    assert client.get(url, {"page": "abc"}).context["changes"].number == 1
    assert client.get(url, {"page": 99}).context["changes"].number == 2


def test_the_pager_keeps_the_other_query_parameters(care, login, small_pages):
    from gongzhi.care.services import households_classify

    households_classify(actor=None, region=care.regions["C"])
    client = login(care.user("village_secretary_a1"))
    url = reverse("care:classes", kwargs={"pk": care.regions["A1"].pk})
    response = client.get(url, {"colour": ""})
    page = response.context["rows"]
    assert page.paginator.count > 2 and len(page) == 2
    next_link = response.content.decode().split('rel="next" href="')[1].split('"')[0]
    assert "colour=" in next_link and "page=2" in next_link


def test_the_api_page_size_has_a_ceiling():
    factory = APIRequestFactory()
    from rest_framework.request import Request

    request = Request(factory.get("/api/care/contacts/", {"limit": 100000}))
    assert Pagination().get_limit(request) == MAX_PAGE_SIZE
    assert Pagination().get_limit(Request(factory.get("/x/"))) == 50  # the default setting
