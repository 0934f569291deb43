"""Staff intake pages, mounted at /intake/."""
from django.urls import path

from . import views

app_name = "intake"
urlpatterns = [
    path("new/", views.staff_new, name="new"),
    path("people/", views.person_lookup, name="people"),
    path("cases/<int:pk>/", views.case_receipt, name="case"),
    path("cases/<int:pk>/merge/", views.merge, name="merge"),
    path("duplicates/", views.merge_queue, name="queue"),
    path("clusters/", views.cluster_list, name="clusters"),
    path("contact-records/", views.contact_records, name="contact_records"),
]
