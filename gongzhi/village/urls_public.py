"""The public village-affairs pages (村务公开): no login. See ``public.py``."""
from django.urls import path

from . import public

app_name = "village_public"

urlpatterns: list = [
    path("<str:code>/", public.village_page, name="village"),
    path("<str:code>/n/<int:pk>/", public.notice_page, name="notice"),
    path("<str:code>/n/<int:pk>/pdf", public.notice_pdf, name="notice_pdf"),
    path("<str:code>/n/<int:pk>/ask", public.notice_ask, name="notice_ask"),
]
