from django.contrib.auth import views as auth_views
from django.urls import path

from . import views

app_name = "accounts"
urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    # POST only (Django's default): a link or a prefetch cannot log anyone out.
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("lockouts/", views.lockouts, name="lockouts"),
    path("lockouts/unlock/", views.unlock, name="unlock"),
]
