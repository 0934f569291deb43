"""REST routes of the care app, mounted under /api/ by gongzhi/api_urls.py."""
from django.urls import path

from . import api

app_name = "care_api"
urlpatterns = [
    path("care/classes/", api.ClassListAPI.as_view(), name="class-list"),
    path("care/classes/<int:pk>/", api.ClassDetailAPI.as_view(), name="class-detail"),
    path("care/villages/<int:pk>/class-counts/", api.ClassCountsAPI.as_view(), name="class-counts"),
    path("care/villages/<int:pk>/watch/", api.WatchListAPI.as_view(), name="watch-list"),
    path("care/villages/<int:pk>/coverage/", api.CoverageAPI.as_view(), name="coverage"),
    path("care/contacts/", api.ContactListCreateAPI.as_view(), name="contacts"),
    path("care/visits/", api.VisitsDueAPI.as_view(), name="visits-due"),
    path("care/visits/<int:pk>/record/", api.VisitRecordAPI.as_view(), name="visit-record"),
    path("care/changes/", api.ChangeListCreateAPI.as_view(), name="changes"),
    path("care/changes/<int:pk>/decide/", api.ChangeDecideAPI.as_view(), name="change-decide"),
    path("care/patrols/", api.PatrolCreateAPI.as_view(), name="patrol-create"),
    path("care/patrols/<int:pk>/problems/", api.PatrolProblemAPI.as_view(), name="patrol-problem"),
    path("care/reception/tally/", api.ReceptionTallyAPI.as_view(), name="reception-tally"),
    path("care/load/", api.LoadAPI.as_view(), name="load"),
]
