"""Staff pages of gongzhi.volunteers, under /volunteers/."""
from django.urls import path

from . import views

app_name = "volunteers"

urlpatterns: list = []
