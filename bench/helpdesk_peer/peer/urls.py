from django.urls import include, path

from django.http import HttpResponse

urlpatterns = [
    path("ping", lambda request: HttpResponse("ok")),
    path("", include("helpdesk.urls", namespace="helpdesk")),
]
