"""Page routes of the cases app (namespace ``cases``, mounted at /cases/).

Every step of a case posts to one URL, ``cases:act`` (/cases/<id>/act/<step>/, the step's name
with hyphens: accept, assign, report-result …); see ``actions.ACTIONS``.
"""
from django.urls import path

from . import views

app_name = "cases"
urlpatterns = [
    path("", views.home, name="home"),
    path("list/", views.case_list, name="list"),
    path("workbench/", views.workbench, name="workbench"),
    path("queue/", views.queue, name="queue"),
    path("secretary/", views.secretary, name="secretary"),
    path("statistics/", views.statistics_page, name="statistics"),
    path("statistics/export/", views.statistics_export, name="statistics-export"),
    path("export/", views.ledger_export, name="ledger-export"),
    path("new/", views.register, name="register"),
    path("new/grids/", views.register_grids, name="register-grids"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/act/<slug:action>/", views.act, name="act"),
    path("<int:pk>/reveal-phone/", views.reveal_phone, name="reveal-phone"),
    path("attachments/<int:pk>/", views.attachment, name="attachment"),
    path("inbox/", views.inbox, name="inbox"),
    path("inbox/read/", views.inbox_read, name="inbox-read"),
    path("categories/", views.categories, name="categories"),
    path("categories/<int:county>/new/", views.category_new, name="category-new"),
    path("categories/<int:county>/<str:code>/", views.category_edit, name="category-edit"),
    path("time-limits/", views.time_limits, name="time-limits"),
    path("time-limits/new/", views.time_limit_new, name="time-limit-new"),
    path("time-limits/<int:pk>/", views.time_limit_edit, name="time-limit-edit"),
]
