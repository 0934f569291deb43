from django.urls import path

from . import views

app_name = "care"
urlpatterns = [
    path("", views.home, name="home"),
    path("load/", views.load, name="load"),
    path("contact/", views.contact_new, name="contact_new"),
    path("visits/<int:pk>/", views.visit, name="visit"),
    path("alerts/", views.alerts, name="alerts"),
    path("patrols/new/", views.patrol_new, name="patrol_new"),
    path("patrols/<int:pk>/", views.patrol, name="patrol"),
    path("households/<int:pk>/", views.household, name="household"),
    path("households/<int:pk>/override/", views.override, name="override"),
    path("households/<int:pk>/watch-event/", views.watch_event_new, name="watch_event_new"),
    path("households/<int:pk>/change/", views.change_new, name="change_new"),
    path("villages/<int:pk>/", views.village, name="village"),
    path("villages/<int:pk>/classes/", views.classes, name="classes"),
    path("villages/<int:pk>/coverage/", views.coverage, name="coverage"),
    path("villages/<int:pk>/proposals/", views.proposal_create, name="proposal_create"),
    path("villages/<int:pk>/watch/", views.watch, name="watch"),
    path("villages/<int:pk>/changes/", views.changes, name="changes"),
    path("villages/<int:pk>/visits/", views.completion, name="completion"),
    path("proposals/<int:pk>/", views.proposal, name="proposal"),
    path("assignments/<int:pk>/end/", views.assignment_end, name="assignment_end"),
    path("changes/<int:pk>/decide/", views.change_decide, name="change_decide"),
    path("reception/", views.reception_list, name="reception_list"),
    path("reception/<int:pk>/", views.reception, name="reception"),
    path("rules/", views.rules, name="rules"),
]
