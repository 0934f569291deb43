"""All REST endpoints, under /api/. Each app contributes a router in its api.py."""
from django.urls import include, path

urlpatterns: list = []
