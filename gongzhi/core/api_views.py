"""REST API of the audit trail: read-only, for holders of ``core.view_auditlog``, scoped by the
territory copied onto each row (an auditor of one town sees that town's rows only)."""
from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers

from .api import ListFilter, ScopedViewSet, api_errors
from .models import AuditAction, AuditLog


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
