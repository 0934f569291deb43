import importlib
import pkgutil

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests import permission_matrix
from tests.permission_matrix import Case

# URL names that are not ours to test here (Django's admin has its own permission model;
# static and schema views are covered by their own tests).
EXEMPT_PREFIXES = ("admin:",)


def _all_cases() -> list[Case]:
    cases = []
    for module in pkgutil.iter_modules(permission_matrix.__path__):
        if module.name.startswith("test_"):
            continue
        cases.extend(importlib.import_module(f"tests.permission_matrix.{module.name}").CASES)
    return cases


def _named_urls(patterns=None, namespace=""):
    patterns = get_resolver().url_patterns if patterns is None else patterns
    for entry in patterns:
        if isinstance(entry, URLResolver):
            ns = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _named_urls(entry.url_patterns, ns)
        elif isinstance(entry, URLPattern) and entry.name:
            yield f"{namespace}{entry.name}"


CASES = _all_cases()


def test_every_url_has_a_permission_case():
    covered = {case.url_name for case in CASES}
    missing = sorted(n for n in set(_named_urls()) if n not in covered and not n.startswith(EXEMPT_PREFIXES))
    assert not missing, f"URLs without a permission-matrix case: {missing}"


def _request(client, case, world):
    url = reverse(case.url_name, kwargs=case.kwargs(world)) + (f"?{case.query}" if case.query else "")
    data = case.data(world) if case.data else {}
    if case.method == "get":
        return client.get(url, data or None)
    if case.api:
        return getattr(client, case.method)(url, data, format="json")
    return getattr(client, case.method)(url, data)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_permission_matrix(case, world, client, api):
    from rest_framework.test import APIClient

    if not case.public:
        anonymous = APIClient() if case.api else client
        response = _request(anonymous, case, world)
        if case.api:
            assert response.status_code in (401, 403), f"anonymous got {response.status_code}"
        else:
            assert response.status_code == 302 and "/accounts/login/" in response["Location"], \
                f"anonymous got {response.status_code}"

    def as_persona(name):
        if case.api:
            return api(name)
        client.logout()
        client.force_login(world.users[name])
        return client

    for name in case.forbidden:
        response = _request(as_persona(name), case, world)
        assert response.status_code == 403, f"{name} expected 403, got {response.status_code}"
    for name in case.out_of_scope:
        response = _request(as_persona(name), case, world)
        assert response.status_code == 404, f"{name} expected 404, got {response.status_code}"
    for name in case.allowed:
        response = _request(as_persona(name), case, world)
        assert response.status_code in case.ok, f"{name} expected {case.ok}, got {response.status_code}"
