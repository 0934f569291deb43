"""The OpenAPI schema generates without errors or warnings and documents every endpoint."""
import pytest
import yaml
from django.core.management import call_command

EXPECTED_PATHS = {
    "/api/", "/api/auth/token/", "/api/me/",
    "/api/regions/", "/api/regions/{id}/", "/api/regions/{id}/children/",
    "/api/grids/", "/api/grids/{id}/",
    "/api/households/", "/api/households/{id}/",
    "/api/persons/", "/api/persons/{id}/", "/api/persons/{id}/reveal/", "/api/persons/{id}/memberships/",
    "/api/party-organizations/", "/api/party-organizations/{id}/",
    "/api/party-memberships/", "/api/party-memberships/{id}/",
    "/api/deputies/", "/api/deputies/{id}/",
    "/api/central-household-heads/", "/api/central-household-heads/{id}/",
    "/api/departments/", "/api/departments/{id}/",
    "/api/contact-assignments/", "/api/contact-assignments/{id}/",
    "/api/audit-log/", "/api/audit-log/{id}/",
}


@pytest.fixture(scope="module")
def schema(tmp_path_factory):
    out = tmp_path_factory.mktemp("schema") / "openapi.yaml"
    # --validate checks against the OpenAPI 3 meta-schema; --fail-on-warn fails on any warning
    # (an unresolvable serializer, a field without a type, an enum naming collision …).
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    return yaml.safe_load(out.read_text())


def test_the_schema_has_every_endpoint(schema):
    missing = EXPECTED_PATHS - set(schema["paths"])
    assert not missing


def test_operations_are_documented_with_their_methods(schema):
    paths = schema["paths"]
    assert set(paths["/api/households/"]) == {"get", "post"}
    assert set(paths["/api/households/{id}/"]) == {"get", "patch", "delete"}
    assert set(paths["/api/persons/{id}/"]) == {"get", "patch"}
    assert set(paths["/api/persons/{id}/reveal/"]) == {"post"}
    assert set(paths["/api/regions/{id}/"]) == {"get"}


def test_filters_pagination_and_errors_are_in_the_schema(schema):
    households = schema["paths"]["/api/households/"]["get"]
    names = {p["name"] for p in households["parameters"]}
    assert {"region", "town", "village", "grid", "code", "q", "limit", "offset"} <= names
    assert households["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "PaginatedHouseholdList")
    assert households["responses"]["403"]["content"]["application/json"]["schema"]["$ref"].endswith("/Error")
    persons = {p["name"] for p in schema["paths"]["/api/persons/"]["get"]["parameters"]}
    assert {"household", "q", "phone", "initials"} <= persons


def test_masked_fields_say_so(schema):
    person = schema["components"]["schemas"]["Person"]["properties"]
    assert "reveal" in person["id_number"]["description"] and "reveal" in person["phone"]["description"]
    assert "birth_date" not in person


def test_the_schema_is_served(client, world):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    assert "/api/households/" in response.json()["paths"]
