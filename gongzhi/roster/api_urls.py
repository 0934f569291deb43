"""REST routes of this app, mounted under /api/ by gongzhi/api_urls.py.

URL names: roster-import-list, roster-import-detail, roster-import-apply, roster-import-cancel
(each covered by tests/permission_matrix/roster.py).
"""
from rest_framework.routers import SimpleRouter

from .api import ImportBatchViewSet

router = SimpleRouter()
router.register("roster/imports", ImportBatchViewSet, basename="roster-import")

urlpatterns = router.urls
