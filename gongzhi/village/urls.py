"""Staff pages of the village governance layer, under /village/."""
from django.urls import path

from . import views
from .urls_statistics import urlpatterns as statistics_patterns

app_name = "village"

urlpatterns = [
    path("", views.home, name="home"),
    path("<int:pk>/", views.village, name="village"),
    path("<int:pk>/bodies/new/", views.body_new, name="body_new"),
    path("bodies/<int:pk>/", views.body, name="body"),
    path("members/<int:pk>/end/", views.member_end, name="member_end"),
    path("<int:pk>/cases/", views.cases, name="cases"),
    path("<int:pk>/items/new/", views.item_new, name="item_new"),
    path("<int:pk>/meetings/new/", views.meeting_new, name="meeting_new"),
    path("meetings/<int:pk>/", views.meeting, name="meeting"),
    path("meetings/<int:pk>/<slug:action>/", views.meeting_do, name="meeting_do"),
    path("polls/<int:pk>/", views.poll, name="poll"),
    path("<int:pk>/matters/new/", views.matter_new, name="matter_new"),
    path("matters/<int:pk>/", views.matter, name="matter"),
    path("matters/<int:pk>/<slug:action>/", views.matter_do, name="matter_do"),
    path("decisions/<int:pk>/", views.decision, name="decision"),
    path("decisions/<int:pk>/<slug:action>/", views.decision_do, name="decision_do"),
    path("<int:pk>/publicity/", views.publicity, name="publicity"),
    path("publicity/<int:pk>/publish/", views.publicity_publish, name="publicity_publish"),
    path("<int:pk>/duties/", views.duties, name="duties"),
    path("settings/<int:pk>/", views.settings_page, name="settings"),
] + statistics_patterns
