"""Open311 GeoReport v2 in the OpenAPI schema (``/api/schema/``).

The Open311 views are plain Django views (the spec's own formats and errors, JSON or XML by the
URL's suffix), so drf-spectacular does not see them; this postprocessing hook
(``SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"]``) describes them by hand, so that clients find
them in one schema and the schema fuzzer (``tests/api/test_schemathesis.py``) reaches them.
"""
from __future__ import annotations

BASE = "/open311/v2"
TAG = "open311"


def _text(description: str, **extra) -> dict:
    return {"type": "string", "description": description, **extra}


def _query(name: str, description: str, **schema) -> dict:
    return {"name": name, "in": "query", "required": False, "schema": _text(description, **schema)}


def _path(name: str, description: str, **schema) -> dict:
    return {"name": name, "in": "path", "required": True, "schema": _text(description, **schema)}


FORMAT = {"name": "format", "in": "path", "required": True,
          "schema": {"type": "string", "enum": ["json", "xml"]}, "description": "json or xml"}
JURISDICTION = _query("jurisdiction_id", "the county's 12-digit division code (optional with one county)")

ERROR = {"type": "array", "items": {"type": "object", "properties": {
    "code": {"type": "integer"}, "description": {"type": "string"}}}}


def _responses(ok: str, *codes: int) -> dict:
    answers = {"200": {"description": ok, "content": {"application/json": {"schema": {"type": "array", "items": {
        "type": "object"}}}, "text/xml": {"schema": {"type": "string"}}}}}
    for code in codes:
        answers[str(code)] = {"description": "Open311 error", "content": {"application/json": {"schema": ERROR},
                                                                          "text/xml": {"schema": {"type": "string"}}}}
    return answers


def _get(summary: str, parameters: list, *codes: int, ok: str = "OK") -> dict:
    return {"get": {"operationId": "open311_" + summary.lower().replace(" ", "_"), "summary": summary,
                    "tags": [TAG], "security": [{}], "parameters": [FORMAT, *parameters],
                    "responses": _responses(ok, 400, 429, *codes)}}


REQUEST_FIELDS = {
    "jurisdiction_id": _text("county division code"),
    "service_code": _text("a service_code from services", maxLength=63),
    "lat": {"type": "number", "minimum": -90, "maximum": 90},
    "long": {"type": "number", "minimum": -180, "maximum": 180},
    "address_string": _text("where, in words (a village named in it places the request)", maxLength=200),
    "address_id": _text("a grid code or a town/village division code"),
    "description": _text("what the matter is"),
    "media_url": _text("http(s) address of a photo", maxLength=500),
    "first_name": _text("", maxLength=25),
    "last_name": _text("", maxLength=25),
    "phone": _text("11-digit mobile or a landline with area code"),
    "email": _text(""),
    "device_id": _text("", maxLength=100),
    "account_id": _text("", maxLength=100),
    "api_key": _text("a registered client's key"),
}
REQUEST_BODY = {"type": "object", "required": ["service_code"], "properties": REQUEST_FIELDS}

PATHS = {
    f"{BASE}/discovery.{{format}}": _get("Discovery", []),
    f"{BASE}/services.{{format}}": _get("Service list", [JURISDICTION], 404),
    f"{BASE}/services/{{service_code}}.{{format}}": _get(
        "Service definition", [_path("service_code", "service code"), JURISDICTION], 404),
    f"{BASE}/requests.{{format}}": {
        **_get("Service requests", [
            JURISDICTION,
            _query("service_request_id", "comma-separated case numbers"),
            _query("service_code", "comma-separated service codes"),
            _query("start_date", "W3C datetime", format="date-time"),
            _query("end_date", "W3C datetime", format="date-time"),
            _query("status", "open, closed or both", enum=["open", "closed", "open,closed"]),
        ]),
        "post": {"operationId": "open311_post_service_request", "summary": "Post a service request", "tags": [TAG],
                 "security": [{}],
                 "parameters": [FORMAT, {"name": "Idempotency-Key", "in": "header", "required": False,
                                         "schema": {"type": "string", "pattern": "^[A-Za-z0-9_:.-]{8,128}$"}}],
                 "requestBody": {"required": True, "content": {
                     "application/x-www-form-urlencoded": {"schema": REQUEST_BODY},
                     "application/json": {"schema": REQUEST_BODY}}},
                 "responses": _responses("the receipt: token, and the tracking code in service_notice "
                                         "(the id: GET tokens/{token})", 400, 403, 404, 413, 415, 429)},
    },
    f"{BASE}/requests/{{service_request_id}}.{{format}}": _get(
        "Service request", [_path("service_request_id", "case number", maxLength=40), JURISDICTION], 404),
    f"{BASE}/tokens/{{token}}.{{format}}": _get(
        "Service request id from a token", [_path("token", "the token a POST returned", maxLength=64)], 404),
}


def add_open311(result, generator, request, public):
    """drf-spectacular postprocessing hook: append the Open311 paths."""
    result.setdefault("paths", {}).update(PATHS)
    tags = result.setdefault("tags", [])
    if not any(t.get("name") == TAG for t in tags):
        tags.append({"name": TAG, "description": "Open311 GeoReport v2 (public; JSON or XML by suffix)"})
    return result
