from django.contrib import admin

from .models import CaseMerge, IntakeClient, ServiceAttribute


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
