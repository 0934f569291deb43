"""REST API of the audit trail: read-only, for holders of ``core.view_auditlog``, scoped by the
territory copied onto each row (an auditor of one town sees that town's rows only)."""
from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_view, inline_serializer
from rest_framework import mixins, serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from .api import ListFilter, ScopedViewSet, api_errors
from .models import AuditAction, AuditLog
from .pagination import MAX_PAGE_SIZE, page_size


class AuditLogSerializer(serializers.ModelSerializer):
    """Snapshots in ``before``/``after`` are masked when written (``core.audit.snapshot``)."""

    class Meta:
        model = AuditLog
        fields = [
            "id", "created_at", "actor", "actor_username", "request_id", "action", "object_type", "object_id",
            "object_repr", "before", "after", "changed_fields", "note", "county_id", "town_id", "village_id",
        ]
        read_only_fields = fields


def _eq(column):
    return lambda qs, value, request: qs.filter(**{column: value})


@extend_schema_view(
    list=extend_schema(summary="The audit trail in the caller's scope", tags=["audit"],
                       responses={200: AuditLogSerializer(many=True), **api_errors(400, 401, 403)}),
    retrieve=extend_schema(summary="One audit record", tags=["audit"],
                           responses={200: AuditLogSerializer, **api_errors(401, 403, 404)}),
)
class AuditLogViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    model = AuditLog
    scoped_manager = "objects_scoped"
    serializer_class = AuditLogSerializer
    action_perms = {"list": "core.view_auditlog", "retrieve": "core.view_auditlog"}
    list_filters = (
        ListFilter("object_type", _eq("object_type"), kind=str, description='"app_label.model", e.g. registry.person'),
        ListFilter("object_id", _eq("object_id"), kind=str),
        ListFilter("actor", _eq("actor_username"), kind=str, description="Username of the actor."),
        ListFilter("action", _eq("action"), kind=str, enum=tuple(AuditAction.values)),
        ListFilter("request_id", _eq("request_id"), kind=str, description="All rows written by one request."),
    )


# ---------------------------------------------------------------------------------------------
# /api/ itself


def _app_label(urlconf) -> str:
    name = getattr(urlconf, "__name__", str(urlconf))  # "gongzhi.registry.api_urls"
    parts = name.split(".")
    return parts[-2] if len(parts) >= 2 else name


def api_links(request, urlconf: str) -> dict:
    """Every endpoint of ``urlconf`` that takes no parameter, grouped by the app that owns it.

    Read from the URL configuration itself, so a new endpoint appears here without being listed
    twice; endpoints with an id in the path are reached from the lists (and are in the schema).
    """
    from django.urls import NoReverseMatch, get_resolver, reverse

    apps: dict[str, dict[str, str]] = {}
    for entry in get_resolver(urlconf).url_patterns:
        patterns = getattr(entry, "url_patterns", None)
        if patterns is None:
            continue
        namespace = getattr(entry, "namespace", None)
        links = apps.setdefault(_app_label(entry.urlconf_name), {})
        for pattern in patterns:
            if not getattr(pattern, "name", None) or getattr(pattern, "url_patterns", None) is not None:
                continue
            name = f"{namespace}:{pattern.name}" if namespace else pattern.name
            try:
                links[pattern.name] = request.build_absolute_uri(reverse(name))
            except NoReverseMatch:
                continue  # needs an id
    return {app: links for app, links in apps.items() if links}


class ApiRootView(APIView):
    """The API's front door: where the schema, the docs and each app's endpoints are."""

    permission_classes = [AllowAny]
    urlconf = "gongzhi.api_urls"

    @extend_schema(summary="The API root: links to the schema, the docs and every app's endpoints", tags=["api"],
                   responses={200: inline_serializer("ApiRoot", {
                       "name": serializers.CharField(), "schema": serializers.URLField(),
                       "docs": serializers.URLField(), "authentication": serializers.CharField(),
                       "pagination": serializers.CharField(),
                       "apps": serializers.DictField(child=serializers.DictField(child=serializers.URLField())),
                   })})
    def get(self, request):
        from django.urls import reverse

        return Response({
            "name": "Gongzhi 共治 REST API",
            "schema": request.build_absolute_uri(reverse("api-schema")),
            "docs": request.build_absolute_uri(reverse("api-docs")),
            "authentication": "POST auth/token/ with username and password, then send "
                              "'Authorization: Token <key>'; a logged-in browser session works too",
            "pagination": f"lists take ?limit= (default {page_size()}, at most {MAX_PAGE_SIZE}) and ?offset= and "
                          "answer {count, next, previous, results}",
            "apps": api_links(request, self.urlconf),
        })
