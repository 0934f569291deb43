"""REST routes of gongzhi.resources, under /api/resources/ (mounted by gongzhi/api_urls.py)."""
from django.urls import path

from . import api

app_name = "resources_api"

urlpatterns: list = []
