"""The public village-affairs pages (村务公开): no login."""
from django.urls import path  # noqa: F401

app_name = "village_public"

urlpatterns: list = []
