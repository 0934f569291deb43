"""Staff pages of gongzhi.resources, under /resources/."""
from django.urls import path

from . import views

app_name = "resources"

urlpatterns: list = []
