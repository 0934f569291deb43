"""The village statistics pages (included by urls.py, namespace ``village``)."""
from django.urls import path

from . import views_statistics

urlpatterns: list = [
    path("statistics/", views_statistics.statistics_page, name="statistics"),
    path("statistics/export/", views_statistics.statistics_export, name="statistics_export"),
]
