"""REST routes of the registry, mounted under /api/ by gongzhi/api_urls.py.

A ``SimpleRouter`` (no api-root view, no format-suffix patterns) so the URL names are exactly
``<basename>-list``, ``<basename>-detail`` and ``<basename>-<action>``, each covered by the
permission matrix (tests/permission_matrix/api.py).
"""
from django.urls import path
from rest_framework.routers import SimpleRouter

from .api import views

router = SimpleRouter()
router.register("regions", views.RegionViewSet, basename="region")
router.register("grids", views.GridViewSet, basename="grid")
router.register("households", views.HouseholdViewSet, basename="household")
router.register("persons", views.PersonViewSet, basename="person")
router.register("party-organizations", views.PartyOrganizationViewSet, basename="party-organization")
router.register("party-memberships", views.PartyMembershipViewSet, basename="party-membership")
router.register("deputies", views.DeputyViewSet, basename="deputy")
router.register("central-household-heads", views.CentralHouseholdHeadViewSet, basename="central-household-head")
router.register("departments", views.DepartmentViewSet, basename="department")
router.register("contact-assignments", views.ContactAssignmentViewSet, basename="contact-assignment")

urlpatterns = router.urls + [
    # The county map's geometry (gongzhi.registry.geometry.territory_features), as GeoJSON.
    path("registry/geometry/", views.TerritoryGeometryView.as_view(), name="registry-geometry"),
]
