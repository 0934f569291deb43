"""A minimal, independent Open311 GeoReport v2 client (urllib only), as an outside developer
would write it from the spec: it knows the base URL, nothing else about the platform."""
from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET

LISTS = {"services", "service_requests", "errors", "attributes", "values"}


def _element(node):
    children = list(node)
    if node.tag in LISTS:
        return [_element(child) for child in children]
    if not children:
        return node.text or ""
    return {child.tag: _element(child) for child in children}


class Open311Error(Exception):
    def __init__(self, status: int, errors: list[dict]):
        super().__init__(f"{status}: {errors}")
        self.status, self.errors = status, errors


class Client:
    def __init__(self, base: str, *, fmt: str = "json", api_key: str | None = None, jurisdiction: str | None = None):
        self.base, self.fmt, self.api_key, self.jurisdiction = base.rstrip("/"), fmt, api_key, jurisdiction

    def _parse(self, body: bytes):
        if self.fmt == "json":
            return json.loads(body.decode("utf-8"))
        return _element(ET.fromstring(body))

    def _call(self, path: str, params: dict | None = None, *, post: dict | None = None, headers=None):
        params = dict(params or {})
        if self.jurisdiction:
            params.setdefault("jurisdiction_id", self.jurisdiction)
        url = f"{self.base}/{path}.{self.fmt}"
        data = None
        if post is not None:
            fields = dict(post)
            if self.api_key:
                fields["api_key"] = self.api_key
            if self.jurisdiction:
                fields["jurisdiction_id"] = self.jurisdiction
            data = urllib.parse.urlencode(fields, doseq=True).encode()
        elif params:
            url += "?" + urllib.parse.urlencode(params)
        request = urllib.request.Request(url, data=data, headers=headers or {})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, dict(response.headers), self._parse(response.read())
        except urllib.error.HTTPError as exc:
            raise Open311Error(exc.code, self._parse(exc.read())) from None

    def services(self):
        return self._call("services")[2]

    def service_definition(self, code):
        return self._call(f"services/{code}")[2]

    def create(self, *, idempotency_key: str | None = None, **fields):
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
        status, response_headers, body = self._call("requests", post=fields, headers=headers)
        return status, response_headers, body

    def requests(self, **filters):
        return self._call("requests", filters)[2]

    def request(self, request_id):
        return self._call(f"requests/{request_id}")[2]

    def token(self, token):
        return self._call(f"tokens/{token}")[2]
