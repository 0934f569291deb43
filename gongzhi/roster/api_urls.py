"""REST routes of this app, mounted under /api/ by gongzhi/api_urls.py."""
from django.urls import path

urlpatterns: list = []
