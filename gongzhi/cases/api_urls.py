"""REST routes of the cases app, mounted under /api/ by gongzhi/api_urls.py.

A ``SimpleRouter`` as in the registry, so URL names are ``<basename>-<action>``:

* ``case-list`` (GET list, POST register), ``case-detail``, ``case-timeline``, ``case-attachments``,
  ``case-reveal-phone``, ``case-export``, and one ``case-<step>`` per step of the workflow
  (``case-accept``, ``case-assign``, ``case-report-result`` …: POST /api/cases/{id}/<step>/);
* ``case-attachment-download``; ``summons-list``, ``summons-acknowledge``;
* ``case-category-list`` (GET, POST), ``case-time-limit-list`` (GET, POST);
* ``case-statistics-list``, ``case-statistics-export``; ``inbox-list``, ``inbox-read``.

Each is covered by tests/permission_matrix/cases.py.
"""
from rest_framework.routers import SimpleRouter

from .api import views

router = SimpleRouter()
router.register("cases", views.CaseViewSet, basename="case")
router.register("case-attachments", views.AttachmentDownloadViewSet, basename="case-attachment")
router.register("summonses", views.SummonsViewSet, basename="summons")
router.register("case-categories", views.CaseCategoryViewSet, basename="case-category")
router.register("case-time-limits", views.TimeLimitViewSet, basename="case-time-limit")
router.register("case-statistics", views.CaseStatisticsViewSet, basename="case-statistics")
router.register("inbox", views.InboxViewSet, basename="inbox")

urlpatterns = router.urls
