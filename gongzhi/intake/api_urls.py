"""REST routes of the intake app, mounted under /api/ by gongzhi/api_urls.py."""
from django.urls import path

from . import api

app_name = "intake_api"
urlpatterns = [
    path("intake/cases/", api.IntakeCaseCreateAPI.as_view(), name="case-create"),
    path("intake/cases/<int:pk>/duplicates/", api.CaseDuplicatesAPI.as_view(), name="case-duplicates"),
    path("intake/cases/<int:pk>/merge/", api.CaseMergeAPI.as_view(), name="case-merge"),
    path("intake/clusters/", api.ClusterListAPI.as_view(), name="clusters"),
]
