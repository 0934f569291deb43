"""All REST endpoints, under /api/. Each app owns its routes in <app>/api_urls.py."""
from django.urls import include, path

from gongzhi.core.api_views import ApiRootView

urlpatterns = [
    path("", ApiRootView.as_view(), name="api-root"),
    path("", include("gongzhi.accounts.api_urls")),
    path("", include("gongzhi.registry.api_urls")),
    path("", include("gongzhi.core.api_urls")),
    path("", include("gongzhi.cases.api_urls")),
    path("", include("gongzhi.roster.api_urls")),
    path("", include("gongzhi.care.api_urls")),
    path("", include("gongzhi.intake.api_urls")),
    path("", include("gongzhi.village.api_urls")),
    path("", include("gongzhi.resources.api_urls")),
    path("", include("gongzhi.volunteers.api_urls")),
    path("", include("gongzhi.assessment.api_urls")),
    path("", include("gongzhi.linking.api_urls")),
]
