"""Public pages of the linking-up module, under /l/: the on-site survey and a pairing's page. See ``public.py``."""
from django.urls import path

from . import public

app_name = "linking_public"

urlpatterns = [
    path("s/<str:token>/", public.survey, name="survey"),
    path("p/<int:pk>/", public.pairing_page, name="pairing"),
]
