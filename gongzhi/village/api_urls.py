"""REST routes of the village governance layer, under /api/village/."""
from django.urls import path  # noqa: F401

app_name = "village_api"

urlpatterns: list = []
