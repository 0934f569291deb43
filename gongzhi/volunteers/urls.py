"""Pages of the volunteer module, under /volunteers/. Each route is covered by
tests/permission_matrix/volunteers.py."""
from django.urls import path

from . import views

app_name = "volunteers"

urlpatterns = [
    path("", views.home, name="home"),
    path("overview/", views.overview, name="overview"),
    path("corps/", views.volunteers, name="volunteers"),
    path("corps/new/", views.volunteer_new, name="volunteer_new"),
    path("corps/<int:pk>/", views.volunteer, name="volunteer"),
    path("corps/<int:pk>/<slug:action>/", views.volunteer_do, name="volunteer_do"),
    path("certifications/<int:pk>/revoke/", views.certification_revoke, name="certification_revoke"),
    path("kinds/", views.kinds, name="kinds"),
    path("kinds/<int:pk>/", views.kind, name="kind"),
    path("settings/<int:pk>/", views.settings_page, name="settings"),
    path("tasks/", views.tasks, name="tasks"),
    path("tasks/new/", views.task_new, name="task_new"),
    path("tasks/<int:pk>/", views.task, name="task"),
    path("tasks/<int:pk>/<slug:action>/", views.task_do, name="task_do"),
    path("signups/<int:pk>/<slug:action>/", views.signup_do, name="signup_do"),
    path("catalogue/", views.catalogue, name="catalogue"),
    path("catalogue/new/", views.catalogue_new, name="catalogue_new"),
    path("catalogue/<int:pk>/<slug:action>/", views.item_do, name="item_do"),
    path("redemptions/<int:pk>/<slug:action>/", views.redemption_do, name="redemption_do"),
]
