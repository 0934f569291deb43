"""REST API of roster import (mounted under /api/ by ``gongzhi/roster/api_urls.py``).

    GET  /api/roster/imports/                 the caller's scope's recent import batches
    POST /api/roster/imports/                 multipart: village (id), kind, file → the check (201)
    GET  /api/roster/imports/{id}/            one batch with its report
    POST /api/roster/imports/{id}/apply/      {"valid_only": false} → import (re-checked first)
    POST /api/roster/imports/{id}/cancel/

Same rules as the pages: ``roster.import_roster`` nowhere → 403; a village or batch outside the
caller's scope → 404; errors are structured (``{"error": {"code", "message", ...}}``): an
unreadable file is 400 ``unreadable_file``; an import refused because of bad rows is 409
``roster_has_errors`` with the fresh report.
"""
from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from gongzhi.core.api import ScopedViewSet, api_errors, error_response
from gongzhi.core.scoping import access_object
from gongzhi.registry.models import Region

from . import services
from .models import ImportBatch, RosterKind
from .parsing import RosterFileError
from .selectors import IMPORT_PERM


REJECTED = OpenApiResponse(description="The file has errors and valid_only was false (or nothing valid is left): "
                                       "nothing was imported; error.report is the fresh check.")


class BatchSerializer(serializers.ModelSerializer):
    village_name = serializers.CharField(source="village.name", read_only=True)
    uploaded_by = serializers.CharField(source="uploaded_by.username", read_only=True)
    # Plain strings, not enums: "status" is an enum of other models too, and the schema must not
    # need a project-wide enum-name override for it.
    status = serializers.CharField(read_only=True, help_text="checked | applied | cancelled")
    mode = serializers.CharField(read_only=True, help_text='"" (not imported) | all | valid_only')

    class Meta:
        model = ImportBatch
        fields = ["id", "kind", "village", "village_name", "filename", "status", "mode", "created_at",
                  "applied_at", "uploaded_by", "report"]
        read_only_fields = fields


class BatchListSerializer(BatchSerializer):
    class Meta(BatchSerializer.Meta):
        fields = [f for f in BatchSerializer.Meta.fields if f != "report"]
        read_only_fields = fields


class BatchCreateSerializer(serializers.Serializer):
    village = serializers.IntegerField(help_text="Id of the village/community to import into.")
    kind = serializers.ChoiceField(choices=RosterKind.choices)
    file = serializers.FileField(allow_empty_file=True, help_text=".xlsx or .csv")

    def validate_file(self, upload):
        if upload.size > settings.ROSTER_MAX_UPLOAD_BYTES:
            raise serializers.ValidationError("文件太大，请按村（社区）拆分后再导入")
        return upload


class BatchApplySerializer(serializers.Serializer):
    valid_only = serializers.BooleanField(default=False,
                                          help_text="Import only the households without errors.")


class ImportBatchViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    model = ImportBatch
    serializer_class = BatchSerializer
    parser_classes = [MultiPartParser, FormParser, JSONParser]
    action_perms = {name: IMPORT_PERM for name in ("list", "retrieve", "create", "apply", "cancel")}

    def optimize(self, queryset):
        queryset = queryset.select_related("village", "uploaded_by").defer("content")
        return queryset.defer("report") if self.action == "list" else queryset

    def get_serializer_class(self):
        return BatchListSerializer if self.action == "list" else BatchSerializer

    @extend_schema(request=BatchCreateSerializer, responses={201: BatchSerializer, **api_errors(400, 401, 403, 404)})
    def create(self, request):
        data = self.validated(BatchCreateSerializer, request.data)
        village = access_object(Region.objects.all(), request.user, IMPORT_PERM, pk=data["village"])
        upload = data["file"]
        try:
            batch = services.roster_batch_create(actor=request.user, village=village, kind=data["kind"],
                                                 filename=upload.name, content=upload.read())
        except RosterFileError as exc:
            return error_response("unreadable_file", str(exc))
        return Response(BatchSerializer(batch).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=BatchApplySerializer, responses={200: BatchSerializer, **api_errors(400, 401, 403, 404),
                                                            409: REJECTED})
    @action(detail=True, methods=["post"])
    def apply(self, request, pk=None):
        batch = self.get_object()
        data = self.validated(BatchApplySerializer, request.data)
        try:
            services.roster_import(actor=request.user, batch=batch, valid_only=data["valid_only"])
        except services.RosterRejected as exc:
            return error_response("roster_has_errors", "文件有错误，未导入任何数据", status.HTTP_409_CONFLICT,
                                  report=exc.report.to_dict())
        except ValidationError as exc:
            return error_response("invalid", "；".join(exc.messages))
        batch.refresh_from_db()
        return Response(BatchSerializer(batch).data)

    @extend_schema(request=None, responses={200: BatchSerializer, **api_errors(400, 401, 403, 404)})
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        batch = self.get_object()
        try:
            batch = services.roster_batch_cancel(actor=request.user, batch=batch)
        except ValidationError as exc:
            return error_response("invalid", "；".join(exc.messages))
        return Response(BatchSerializer(batch).data)


__all__ = ["ImportBatchViewSet"]
