from csp.constants import SELF, UNSAFE_INLINE
from csp.decorators import csp_replace
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from gongzhi.registry import views as registry_views

# Swagger UI ships an inline bootstrap script and style, and loads its bundle from the CDN named
# by SPECTACULAR_SETTINGS (jsDelivr by default): only this page gets that wider policy (replaced,
# not extended: next to a nonce, browsers ignore 'unsafe-inline').
SWAGGER_CDN = "https://cdn.jsdelivr.net"
api_docs = csp_replace({"script-src": [SELF, UNSAFE_INLINE, SWAGGER_CDN], "style-src": [SELF, UNSAFE_INLINE, SWAGGER_CDN],
                        "img-src": [SELF, "data:", SWAGGER_CDN]})(
    SpectacularSwaggerView.as_view(url_name="api-schema"))

urlpatterns = [
    path("", registry_views.home, name="home"),
    path("accounts/", include("gongzhi.accounts.urls")),
    path("registry/", include("gongzhi.registry.urls")),
    path("roster/", include("gongzhi.roster.urls")),
    path("audit/", include("gongzhi.core.urls")),
    path("calendar/", include("gongzhi.core.urls_calendar")),
    path("cases/", include("gongzhi.cases.urls")),
    path("care/", include("gongzhi.care.urls")),
    path("village/", include("gongzhi.village.urls")),
    path("v/", include("gongzhi.village.urls_public")),
    path("resources/", include("gongzhi.resources.urls")),
    path("volunteers/", include("gongzhi.volunteers.urls")),
    path("assessment/", include("gongzhi.assessment.urls")),
    path("linking/", include("gongzhi.linking.urls")),
    path("l/", include("gongzhi.linking.urls_public")),
    path("r/", include("gongzhi.intake.urls_resident")),
    path("intake/", include("gongzhi.intake.urls")),
    path("open311/v2/", include("gongzhi.intake.open311.urls")),
    path("api/", include("gongzhi.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", api_docs, name="api-docs"),
    path("admin/", admin.site.urls),
]
