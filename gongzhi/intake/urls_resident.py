"""The residents' page, mounted at /r/ (no login)."""
from django.urls import path

from . import views

app_name = "resident"
urlpatterns = [
    path("", views.resident_form, name="form"),
    path("t/", views.resident_lookup, name="lookup"),
    path("t/<str:code>/", views.resident_track, name="track"),
    path("t/<str:code>/feedback/", views.resident_feedback, name="feedback"),
    path("grids/<int:village>/", views.resident_grids, name="grids"),
    path("ping", views.ping, name="ping"),
]
