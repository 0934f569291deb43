from django.urls import path

from . import views

app_name = "registry"
urlpatterns = [
    path("regions/<int:pk>/", views.region_detail, name="region"),
]
