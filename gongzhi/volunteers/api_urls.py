"""REST routes of gongzhi.volunteers, under /api/volunteers/ (mounted by gongzhi/api_urls.py)."""
from django.urls import path

from . import api

app_name = "volunteers_api"

urlpatterns: list = []
