"""The village statistics pages (included by urls.py, namespace ``village``)."""
from django.urls import path  # noqa: F401

urlpatterns: list = []
