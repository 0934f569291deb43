from django.contrib import admin

import json

from .models import CaseMerge, IntakeClient, ReceivedSubmission, ServiceAttribute
from .text import mask_personal


@admin.register(IntakeClient)
class IntakeClientAdmin(admin.ModelAdmin):
    list_display = ["name", "channel", "county", "key_prefix", "active", "created_at"]
    readonly_fields = ["key_prefix", "created_at"]
    fields = ["name", "channel", "county", "active", "key_prefix", "created_at"]

    def has_add_permission(self, request):  # keys are issued by `gongzhi intake_client add` (shown once)
        return False


@admin.register(ServiceAttribute)
class ServiceAttributeAdmin(admin.ModelAdmin):
    list_display = ["category", "code", "description", "datatype", "required", "order"]
    list_filter = ["datatype", "required"]


@admin.register(CaseMerge)
class CaseMergeAdmin(admin.ModelAdmin):
    list_display = ["duplicate", "primary", "merged_by", "merged_at"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ReceivedSubmission)
class ReceivedSubmissionAdmin(admin.ModelAdmin):
    """Open311 receipts: mostly to find the rare one the worker marked failed, and why. The
    request is shown with phones masked; it is registered by the worker, never edited here."""

    list_display = ["token", "state", "attempts", "received_at", "registered_at", "case"]
    list_filter = ["state"]
    search_fields = ["token", "tracking_code"]
    fields = ["token", "tracking_code", "state", "attempts", "error", "received_at", "registered_at", "case",
              "channel", "request"]
    readonly_fields = fields

    @admin.display(description="request (phones masked)")
    def request(self, obj):
        return mask_personal(json.dumps({k: v for k, v in obj.payload.items() if k != "phone"}, ensure_ascii=False))

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
