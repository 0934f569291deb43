"""Reading what a channel sent: one way to collect errors and one mapping of ``ValidationError``
to field errors, used by the residents' and staff forms, the staff page, the JSON API and Open311
(issue 10: the input was parsed, and errors mapped, in three places each).

* ``field_errors(exc)`` — the one mapping: any ``ValidationError`` as ``{field: [messages]}``,
  with ``NON_FIELD_ERRORS`` ("__all__") for what is not about one field.
* ``Errors`` — collects them while a parser goes on to the next field (every problem is shown
  at once, not the first only): ``errors.attempt(lambda: clean_phone(...))``.
* ``staff_fields(data, errors)`` — the free-text and contact fields a staff member files (the
  staff page and the JSON API read the same fields with the same limits and messages).
"""
from __future__ import annotations

from typing import Callable, Mapping, TypeVar

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError

from . import conf

T = TypeVar("T")


def field_errors(exc: ValidationError) -> dict[str, list[str]]:
    """A ``ValidationError`` as ``{field: [messages]}`` (``"__all__"``: not about one field)."""
    if hasattr(exc, "error_dict"):
        return {field: list(messages) for field, messages in exc.message_dict.items()}
    return {NON_FIELD_ERRORS: list(exc.messages)}


class Errors(dict):
    """``{field: [messages]}``, the first problem of each field kept."""

    def attempt(self, fn: Callable[[], T]) -> T | None:
        try:
            return fn()
        except ValidationError as exc:
            for field, messages in field_errors(exc).items():
                self.setdefault(field, messages)
            return None

    def add(self, field: str, message: str) -> None:
        self.setdefault(field, [message])


def staff_fields(data: Mapping, errors: Errors) -> dict:
    """The text, contact and point fields of a staff submission, cleaned (None where invalid)."""
    from .forms import clean_phone, clean_point, clean_text

    def text(name: str, *, limit: int, label: str, required: bool = False, multiline: bool = False):
        return errors.attempt(lambda: clean_text(data.get(name) or "", field=name, required=required, limit=limit,
                                                 multiline=multiline, label=label))

    point = errors.attempt(lambda: clean_point(data.get("latitude") or "", data.get("longitude") or ""))
    return {
        "description": text("description", required=True, limit=conf.max_description(), multiline=True,
                            label="诉求内容"),
        "title": text("title", limit=100, label="标题"),
        "address": text("address", limit=200, label="具体地点"),
        "requester_name": text("requester_name", limit=50, label="姓名"),
        "complained_text": text("complained_text", limit=200, label="被投诉举报对象"),
        "requester_phone": errors.attempt(lambda: clean_phone(data.get("requester_phone") or "", "requester_phone")),
        "latitude": (point or (None, None))[0],
        "longitude": (point or (None, None))[1],
    }
