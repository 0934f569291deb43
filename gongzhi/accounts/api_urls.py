"""REST routes of this app, mounted under /api/ by gongzhi/api_urls.py."""
from django.urls import path

from . import api

urlpatterns = [
    path("auth/token/", api.TokenView.as_view(), name="api-token"),
    path("me/", api.MeView.as_view(), name="api-me"),
]
