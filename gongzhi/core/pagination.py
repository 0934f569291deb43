"""One way to page a list, for pages and for the API.

* Pages: ``paginate(request, rows)`` → a Django ``Page`` read from ``?page=`` (a page that is not a
  number or is past the end gives the nearest page, never a 404 or a 500), rendered with
  ``templates/_pager.html`` (previous / "page n of m" / next, keeping the other query parameters;
  ``{% page_url %}`` in ``core/templatetags/pager.py``).
* API: ``Pagination`` (the REST framework default, see ``settings.REST_FRAMEWORK``) —
  ``?limit=&offset=`` → ``{"count", "next", "previous", "results"}``, at most ``MAX_PAGE_SIZE`` a
  page so that ``?limit=`` cannot dump a county; ``paginated_response`` does the same for a plain
  ``APIView``.

The page size is one setting, ``GONGZHI_PAGE_SIZE`` (default 50, environment variable of the same
name); a view passes ``per_page`` only where its rows are large cards (the grid page's households,
the search results) and says why.
"""
from __future__ import annotations

from django.conf import settings
from django.core.paginator import Page, Paginator
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.response import Response

MAX_PAGE_SIZE = 500


def page_size() -> int:
    return max(1, min(int(getattr(settings, "GONGZHI_PAGE_SIZE", 50)), MAX_PAGE_SIZE))


def paginate(request, rows, per_page: int | None = None, *, param: str = "page") -> Page:
    """The requested page of ``rows`` (a queryset or a list).

    ``param`` names the query parameter, for a page with two lists (the pager keeps the other).
    """
    page = Paginator(rows, per_page or page_size()).get_page(request.GET.get(param))
    page.param = param
    return page


class Pagination(LimitOffsetPagination):
    max_limit = MAX_PAGE_SIZE

    @property
    def default_limit(self):  # read at request time so that a changed setting applies
        return page_size()


def paginated_response(request, rows, serializer_class, *, view=None, **serializer_kwargs) -> Response:
    """``Pagination`` for an ``APIView`` that builds its own list."""
    paginator = Pagination()
    page = paginator.paginate_queryset(rows, request, view=view)
    return paginator.get_paginated_response(serializer_class(page, many=True, **serializer_kwargs).data)


def paginated_schema(serializer_class, name: str):
    """The OpenAPI shape of ``paginated_response`` (drf-spectacular documents ListAPIView by itself)."""
    from drf_spectacular.utils import inline_serializer
    from rest_framework import serializers

    return inline_serializer(name, {
        "count": serializers.IntegerField(), "next": serializers.URLField(allow_null=True),
        "previous": serializers.URLField(allow_null=True), "results": serializer_class(many=True),
    })


def pagination_parameters():
    from drf_spectacular.types import OpenApiTypes
    from drf_spectacular.utils import OpenApiParameter

    return [OpenApiParameter("limit", OpenApiTypes.INT, description=f"rows per page (default {page_size()}, "
                                                                    f"at most {MAX_PAGE_SIZE})"),
            OpenApiParameter("offset", OpenApiTypes.INT, description="rows to skip")]
