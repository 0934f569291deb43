"""Staff pages of the village governance layer, under /village/."""
from django.urls import path  # noqa: F401

from .urls_statistics import urlpatterns as statistics_patterns

app_name = "village"

urlpatterns: list = [] + statistics_patterns
