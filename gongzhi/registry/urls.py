from django.urls import path

from . import views

app_name = "registry"
urlpatterns = [
    path("search/", views.search, name="search"),
    path("regions/<int:pk>/", views.region_detail, name="region"),
    path("regions/<int:pk>/coverage/", views.coverage, name="coverage"),
    path("grids/<int:pk>/", views.grid_detail, name="grid"),
    path("households/<int:pk>/", views.household_detail, name="household"),
    path("persons/<int:pk>/", views.person_detail, name="person"),
    path("persons/<int:pk>/reveal/", views.person_reveal, name="person-reveal"),
]
