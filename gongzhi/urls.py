from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from gongzhi.registry import views as registry_views

urlpatterns = [
    path("", registry_views.home, name="home"),
    path("accounts/", include("gongzhi.accounts.urls")),
    path("registry/", include("gongzhi.registry.urls")),
    path("roster/", include("gongzhi.roster.urls")),
    path("audit/", include("gongzhi.core.urls")),
    path("calendar/", include("gongzhi.core.urls_calendar")),
    path("cases/", include("gongzhi.cases.urls")),
    path("care/", include("gongzhi.care.urls")),
    path("r/", include("gongzhi.intake.urls_resident")),
    path("intake/", include("gongzhi.intake.urls")),
    path("open311/v2/", include("gongzhi.intake.open311.urls")),
    path("api/", include("gongzhi.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("admin/", admin.site.urls),
]
