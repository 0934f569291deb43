"""API conventions shared by every app: structured errors, never a bare 500 for bad input."""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError as DjangoValidationError
from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema_field
from rest_framework import exceptions, serializers, status, viewsets
from rest_framework.filters import BaseFilterBackend
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from .masking import MASKERS, mask_field
from .pagination import Pagination
from .scoping import default_perm, has_perm_anywhere


def exception_handler(exc, context):
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        exc = exceptions.ValidationError(detail)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    code = getattr(exc, "default_code", "error")
    if isinstance(exc, exceptions.ValidationError):
        body = {"error": {"code": "invalid", "message": "输入有误", "fields": response.data}}
    else:
        detail = response.data.get("detail", "") if isinstance(response.data, dict) else response.data
        body = {"error": {"code": code, "message": str(detail)}}
    response.data = body
    return response


def error_response(code: str, message: str, http_status=status.HTTP_400_BAD_REQUEST, **extra):
    return Response({"error": {"code": code, "message": message, **extra}}, status=http_status)


# ---------------------------------------------------------------------------------------------
# Shared building blocks for scoped API viewsets (used by the registry and the audit trail).
#
# The rule they encode (docs/architecture.md, "How a request flows"):
# * the permission an action needs is named once per viewset (``required_perm``);
# * ``ScopedPermission`` answers 403 when the caller holds that permission nowhere;
# * ``get_queryset`` always starts from ``Model.objects.visible_to(user, perm)``, so an object
#   outside the caller's scope is simply absent: 404, the same answer as a missing row;
# * writes never call ``serializer.save()``: input serializers only validate, and the view hands
#   ``validated_data`` to a service (which re-checks scope in its transaction and audits).


class ScopedPermission(IsAuthenticated):
    """401 for anonymous callers; 403 when the caller holds the action's permission nowhere.

    The view names the permission with ``required_perm()`` (see ``ScopedViewSet``). *Where* the
    caller holds it is the queryset's business, not this class's.
    """

    message = "您没有执行该操作的权限。"

    def has_permission(self, request, view):
        if not super().has_permission(request, view):
            return False
        perm = view.required_perm()
        return perm is None or has_perm_anywhere(request.user, perm)


@dataclass(frozen=True)
class ListFilter:
    """One query-string filter of a list endpoint: parsed, applied and documented from one place.

    ``apply(queryset, value, request)`` returns the filtered queryset. ``kind`` is ``int``,
    ``str`` or ``bool``; a value that does not parse is a structured 400, never a 500.
    """

    name: str
    apply: Callable[[Any, Any, Any], Any]
    kind: type = int
    description: str = ""
    enum: tuple[str, ...] = ()

    def parse(self, raw: str):
        raw = raw.strip()
        if self.kind is int:
            if not re.fullmatch(r"\d{1,18}", raw):
                raise exceptions.ValidationError({self.name: ["必须是正整数"]})
            return int(raw)
        if self.kind is bool:
            lowered = raw.lower()
            if lowered in ("1", "true", "yes"):
                return True
            if lowered in ("0", "false", "no"):
                return False
            raise exceptions.ValidationError({self.name: ["必须是 true 或 false"]})
        if self.enum and raw not in self.enum:
            raise exceptions.ValidationError({self.name: [f"可选值：{', '.join(self.enum)}"]})
        return raw

    def openapi(self) -> dict:
        schema = {"type": {int: "integer", bool: "boolean"}.get(self.kind, "string")}
        if self.enum:
            schema["enum"] = list(self.enum)
        return {"name": self.name, "in": "query", "required": False,
                "description": self.description, "schema": schema}


class ListFilterBackend(BaseFilterBackend):
    """Applies the view's ``list_filters`` (list-like actions only) and documents them."""

    def filter_queryset(self, request, queryset, view):
        for flt in view.get_list_filters():
            raw = request.query_params.get(flt.name)
            if raw is None or raw.strip() == "":
                continue
            queryset = flt.apply(queryset, flt.parse(raw), request)
        return queryset

    def get_schema_operation_parameters(self, view):
        return [flt.openapi() for flt in view.get_list_filters()]


@extend_schema_field(OpenApiTypes.STR)
class MaskedField(serializers.CharField):
    """An ID number or phone, output only: always rendered masked (610921********1234,
    138****5678). The one way to read a clear value is the audited reveal endpoint; input
    serializers take clear values with plain ``CharField``s, validated by the service.
    """

    def __init__(self, *, mask_as: str, **kwargs):
        if mask_as not in MASKERS:
            raise ValueError(f"no masker for {mask_as!r}")
        self.mask_as = mask_as
        kwargs.setdefault("read_only", True)
        kwargs.setdefault("help_text", "Masked; use the reveal endpoint for the clear value.")
        super().__init__(**kwargs)

    def to_representation(self, value):
        return mask_field(self.mask_as, str(value) if value is not None else "")


class MaskedModelSerializer(serializers.ModelSerializer):
    """A ModelSerializer that masks every model field named like a sensitive field by itself,
    so a new serializer cannot forget to (fields named in ``core.masking.MASKERS``)."""

    def build_field(self, field_name, info, model_class, nested_depth):
        if field_name in MASKERS:
            return MaskedField, {"mask_as": field_name, "read_only": True}
        return super().build_field(field_name, info, model_class, nested_depth)


class ScopedPrimaryKeyField(serializers.PrimaryKeyRelatedField):
    """A reference in a write request, looked up only among the rows the caller may touch with
    ``perm``: a row outside that scope is "does not exist" (400), never a silent cross-scope link.
    """

    def __init__(self, *, model, perm: str, **kwargs):
        self.scope_perm = perm
        super().__init__(queryset=model.objects.all(), **kwargs)

    def get_queryset(self):
        request = self.context.get("request")
        user = getattr(request, "user", None)
        return self.queryset.visible_to(user, self.scope_perm)


class ScopedViewSet(viewsets.GenericViewSet):
    """Base of every scoped API viewset.

    Subclasses set ``model`` and may set ``action_perms`` (action → "app.codename") for actions
    other than the standard ones, ``scoped_manager`` (default ``objects``), ``list_filters`` and
    ``optimize(queryset)`` (select_related/prefetch_related).
    """

    model = None
    scoped_manager = "objects"
    permission_classes = [ScopedPermission]
    filter_backends = [ListFilterBackend]
    pagination_class = Pagination  # gongzhi.core.pagination: one way for every list
    list_filters: tuple[ListFilter, ...] = ()
    list_actions: tuple[str, ...] = ("list",)  # actions that take ``list_filters``
    action_perms: dict[str, str] = {}
    standard_actions = {"list": "view", "retrieve": "view", "create": "add", "update": "change",
                        "partial_update": "change", "destroy": "delete"}

    def required_perm(self) -> str:
        action = getattr(self, "action", None) or "list"
        if action in self.action_perms:
            return self.action_perms[action]
        return default_perm(self.model, self.standard_actions.get(action, "view"))

    def get_list_filters(self) -> tuple[ListFilter, ...]:
        return self.list_filters if getattr(self, "action", None) in self.list_actions else ()

    def optimize(self, queryset):
        return queryset

    def get_queryset(self):
        manager = getattr(self.model, self.scoped_manager)
        return self.optimize(manager.visible_to(self.request.user, self.required_perm()))

    def validated(self, serializer_class, data) -> dict:
        """Run an input serializer; a failure is a structured 400. Returns only the fields sent."""
        serializer = serializer_class(data=data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    def paginated(self, queryset, serializer_class):
        page = self.paginate_queryset(queryset)
        context = self.get_serializer_context()
        if page is not None:
            return self.get_paginated_response(serializer_class(page, many=True, context=context).data)
        return Response(serializer_class(queryset, many=True, context=context).data)


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField(help_text='e.g. "invalid", "not_found", "permission_denied", "not_authenticated"')
    message = serializers.CharField()
    fields = serializers.DictField(
        child=serializers.JSONField(), required=False,
        help_text="Only for code \"invalid\": field name → list of messages (in Chinese).",
    )


class ErrorSerializer(serializers.Serializer):
    """The body of every error answer (see ``exception_handler``)."""

    error = ErrorDetailSerializer()


_ERROR_MEANINGS = {
    400: "Invalid input; error.fields says which field and why.",
    401: "Not authenticated.",
    403: "The caller holds the permission for this action nowhere.",
    404: "No such record in the caller's scope (the same answer as a missing record).",
    429: "Too many requests.",
}


def api_errors(*codes: int) -> dict:
    """``responses={200: X, **api_errors(400, 403, 404)}`` in ``extend_schema``."""
    return {code: OpenApiResponse(ErrorSerializer, description=_ERROR_MEANINGS[code]) for code in codes}


# ---- input building blocks shared by the apps' APIs -----------------------------------------
# Every input is bounded, so that a fuzzed request is a 400, never a database error.

MAX_ID = 2**63 - 1  # BigAutoField
MIN_YEAR, MAX_YEAR = 1949, 2999


def id_field(**kwargs) -> serializers.IntegerField:
    return serializers.IntegerField(min_value=1, max_value=MAX_ID, **kwargs)


def ids_field(max_length: int = 500, **kwargs) -> serializers.ListField:
    return serializers.ListField(child=id_field(), max_length=max_length, **kwargs)


def text_field(max_length: int | None = None, **kwargs) -> serializers.CharField:
    # DRF's CharField already refuses NUL and lone surrogates (PostgreSQL text holds neither).
    return serializers.CharField(max_length=max_length or 20000, **kwargs)


def optional_text_field(max_length: int | None = None, **kwargs) -> serializers.CharField:
    return text_field(max_length, required=False, allow_blank=True, default="", **kwargs)


def in_years(value):
    if value is not None and not MIN_YEAR <= value.year <= MAX_YEAR:
        raise serializers.ValidationError(f"年份应在 {MIN_YEAR} 到 {MAX_YEAR} 之间")
    return value


def date_field(**kwargs) -> serializers.DateField:
    return serializers.DateField(validators=[in_years], **kwargs)


class BoundedDateTimeField(serializers.DateTimeField):
    """DRF's DateTimeField, except that a time the calendar cannot hold once moved to UTC
    (0001-01-01T00:00 in Asia/Shanghai) is a 400: DRF's ambiguity check raises OverflowError."""

    def to_internal_value(self, value):
        try:
            return super().to_internal_value(value)
        except OverflowError:
            self.fail("overflow")


def datetime_field(**kwargs) -> serializers.DateTimeField:
    return BoundedDateTimeField(validators=[in_years], **kwargs)


def no_duplicates(values, what="id"):
    if len(values) != len(set(values)):
        raise serializers.ValidationError(f"{what}有重复")
    return values


def validated_input(serializer_class, request) -> dict:
    data = serializer_class(data=request.data)
    data.is_valid(raise_exception=True)
    return data.validated_data


def field_error(field: str, message: str):
    """A 400 naming one field of the body (raise it)."""
    from rest_framework import exceptions

    return exceptions.ValidationError({field: [message]})


class FilteredListMixin:
    """``list_filters`` for a ``ListAPIView`` (``ListFilter``: parsed, applied and documented from
    one place; a value that does not parse is a structured 400)."""

    filter_backends = [ListFilterBackend]
    list_filters: tuple[ListFilter, ...] = ()

    def get_list_filters(self):
        return self.list_filters


def filter_eq(column):
    return lambda qs, value, request: qs.filter(**{column: value})
