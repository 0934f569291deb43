from django.urls import path

from . import views

app_name = "roster"
urlpatterns = [
    path("", views.upload, name="upload"),
    path("batches/<int:pk>/", views.batch_report, name="batch"),
    path("batches/<int:pk>/confirm/", views.batch_confirm, name="confirm"),
    path("export/", views.export, name="export"),
    path("export/<int:pk>/<slug:kind>.<slug:fmt>", views.export_file, name="export-file"),
    path("templates/<slug:kind>.<slug:fmt>", views.template_file, name="template"),
]
