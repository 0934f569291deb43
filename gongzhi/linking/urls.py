"""Staff pages of the linking-up module, under /linking/."""
from django.urls import path

from . import views

app_name = "linking"

urlpatterns = [
    path("", views.home, name="home"),
    path("pairings/new/", views.pairing_new, name="pairing_new"),
    path("pairings/<int:pk>/", views.pairing, name="pairing"),
    path("pairings/<int:pk>/archive/", views.archive, name="archive"),
    path("pairings/<int:pk>/<slug:action>/", views.pairing_do, name="pairing_do"),
    path("posts/<int:pk>/handover/", views.handover, name="handover"),
    path("villages/<int:pk>/sources/", views.sources, name="sources"),
    path("villages/<int:pk>/members/", views.members, name="members"),
    path("needs/<int:pk>/", views.need, name="need"),
    path("needs/<int:pk>/<slug:action>/", views.need_do, name="need_do"),
    path("projects/<int:pk>/", views.project, name="project"),
    path("projects/<int:pk>/<slug:action>/", views.project_do, name="project_do"),
    path("activities/<int:pk>/", views.activity, name="activity"),
    path("activities/<int:pk>/<slug:action>/", views.activity_do, name="activity_do"),
    path("plans/<int:pk>/", views.plan, name="plan"),
    path("plans/<int:pk>/<slug:action>/", views.plan_do, name="plan_do"),
    path("approvals/<int:pk>/", views.approval, name="approval"),
    path("approvals/<int:pk>/decide/", views.approval_decide, name="approval_decide"),
    path("links/", views.links, name="links"),
    path("links/new/", views.link_new, name="link_new"),
    path("links/<int:pk>/", views.link, name="link"),
    path("links/<int:pk>/<slug:action>/", views.link_do, name="link_do"),
    path("grades/", views.grade, name="grade"),
    path("alliances/", views.alliances, name="alliances"),
    path("shares/new/", views.share_new, name="share_new"),
    path("alliances/<int:pk>/", views.alliance, name="alliance"),
    path("alliances/<int:pk>/<slug:action>/", views.alliance_do, name="alliance_do"),
    path("integration/<int:pk>/", views.integration, name="integration"),
    path("integration/village/<int:pk>/", views.integration_village, name="integration_village"),
    path("integration/village/<int:pk>/<slug:action>/", views.integration_do, name="integration_do"),
    path("settings/<int:pk>/", views.settings_page, name="settings"),
]
