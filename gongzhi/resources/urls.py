"""Staff pages of resources and dispatch, under /resources/."""
from django.urls import path

from . import views

app_name = "resources"

urlpatterns = [
    path("", views.home, name="home"),
    path("map/", views.map_page, name="map"),
    path("map/data/", views.map_data, name="map_data"),
    # the one inventory and its ledger
    path("inventory/", views.inventory, name="inventory"),
    path("inventory/new/", views.resource_new, name="resource_new"),
    path("inventory/<int:pk>/", views.resource, name="resource"),
    path("inventory/<int:pk>/<slug:action>/", views.resource_do, name="resource_do"),
    # needs, the dispatch queue, reservations
    path("needs/", views.needs, name="needs"),
    path("needs/new/", views.need_new, name="need_new"),
    path("needs/plan/", views.queue_plan, name="queue_plan"),
    path("needs/<int:pk>/", views.need, name="need"),
    path("needs/<int:pk>/<slug:action>/", views.need_do, name="need_do"),
    path("allocations/<int:pk>/<slug:action>/", views.allocation_do, name="allocation_do"),
    # deliveries, confirmed on the doorstep
    path("deliveries/", views.deliveries, name="deliveries"),
    path("deliveries/<int:pk>/", views.delivery, name="delivery"),
    path("deliveries/<int:pk>/<slug:action>/", views.delivery_do, name="delivery_do"),
]
