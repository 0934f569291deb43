"""REST routes of this app, mounted under /api/ by gongzhi/api_urls.py."""
from rest_framework.routers import SimpleRouter

from .api_views import AuditLogViewSet

router = SimpleRouter()
router.register("audit-log", AuditLogViewSet, basename="audit-log")

urlpatterns = router.urls
