"""JSON and XML output in GeoReport v2's shapes, and its error convention.

XML follows the spec's examples: ``<services><service>…``, ``<service_definition>…<attributes>
<attribute>…<values><value>``, ``<service_requests><request>…``, ``<errors><error><code>
<description>``. Booleans are ``true``/``false``, a missing value is an empty element.
"""
from __future__ import annotations

import json
import re
from xml.sax.saxutils import escape

from django.http import HttpResponse

# list container → item element name
ITEM = {"services": "service", "service_requests": "request", "errors": "error", "attributes": "attribute",
        "values": "value"}
_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _scalar(value) -> str:
    if value is None:
        return ""
    if value is True:
        return "true"
    if value is False:
        return "false"
    return escape(_XML_BAD.sub("", str(value)))


def _xml(name: str, value, out: list[str]) -> None:
    if isinstance(value, dict):
        out.append(f"<{name}>")
        for key, inner in value.items():
            _xml(key, inner, out)
        out.append(f"</{name}>")
    elif isinstance(value, list):
        out.append(f"<{name}>")
        for inner in value:
            _xml(ITEM.get(name, "item"), inner, out)
        out.append(f"</{name}>")
    else:
        out.append(f"<{name}>{_scalar(value)}</{name}>")


def to_xml(root: str, data) -> str:
    out = ['<?xml version="1.0" encoding="utf-8"?>']
    _xml(root, data, out)
    return "".join(out)


def respond(data, fmt: str, root: str, *, status: int = 200, cors: bool = False) -> HttpResponse:
    """``data`` is the JSON document; for XML ``root`` names the root element (its list items are
    named from ``ITEM``; a dict is written as the root's children)."""
    if fmt == "xml":
        response = HttpResponse(to_xml(root, data), content_type="text/xml; charset=utf-8", status=status)
    else:
        body = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
        response = HttpResponse(body, content_type="application/json; charset=utf-8", status=status)
    if cors:
        response["Access-Control-Allow-Origin"] = "*"
    return response


class Open311Error(Exception):
    """One or more errors, answered as ``[{"code": …, "description": …}]`` with an HTTP status."""

    def __init__(self, status: int, *descriptions: str):
        super().__init__(descriptions[0] if descriptions else str(status))
        self.status = status
        self.descriptions = list(descriptions) or ["error"]


def error_response(exc: Open311Error, fmt: str) -> HttpResponse:
    data = [{"code": exc.status, "description": d} for d in exc.descriptions]
    return respond(data, fmt, "errors", status=exc.status, cors=True)
