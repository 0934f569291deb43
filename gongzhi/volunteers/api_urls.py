"""REST routes of the volunteer module, under /api/volunteers/ (mounted by gongzhi/api_urls.py).

Each route is covered by tests/permission_matrix/volunteers_api.py.
"""
from django.urls import path

from . import api

app_name = "volunteers_api"

urlpatterns = [
    path("volunteers/overview/", api.OverviewAPI.as_view(), name="overview"),
    # the corps and certification
    path("volunteers/volunteers/", api.VolunteerListCreateAPI.as_view(), name="volunteers"),
    path("volunteers/volunteers/<int:pk>/", api.VolunteerDetailAPI.as_view(), name="volunteer-detail"),
    path("volunteers/volunteers/<int:pk>/status/", api.VolunteerStatusAPI.as_view(), name="volunteer-status"),
    path("volunteers/volunteers/<int:pk>/certifications/", api.CertificationListCreateAPI.as_view(),
         name="certifications"),
    path("volunteers/certifications/<int:pk>/revoke/", api.CertificationRevokeAPI.as_view(), name="certification-revoke"),
    # the points ledger
    path("volunteers/volunteers/<int:pk>/ledger/", api.LedgerAPI.as_view(), name="ledger"),
    path("volunteers/volunteers/<int:pk>/corrections/", api.CorrectionAPI.as_view(), name="correction"),
    path("volunteers/transactions/", api.TransactionListAPI.as_view(), name="transactions"),
    # the county's rules
    path("volunteers/kinds/", api.ServiceKindListCreateAPI.as_view(), name="kinds"),
    path("volunteers/kinds/<int:pk>/", api.ServiceKindDetailAPI.as_view(), name="kind-detail"),
    path("volunteers/settings/<int:pk>/", api.PointsSettingsAPI.as_view(), name="settings"),
    # tasks and sign-ups
    path("volunteers/tasks/", api.TaskListCreateAPI.as_view(), name="tasks"),
    path("volunteers/tasks/<int:pk>/", api.TaskDetailAPI.as_view(), name="task-detail"),
    path("volunteers/tasks/<int:pk>/cancel/", api.TaskCancelAPI.as_view(), name="task-cancel"),
    path("volunteers/tasks/<int:pk>/signups/", api.SignUpAPI.as_view(), name="signup"),
    path("volunteers/signups/<int:pk>/assign/", api.SignUpAssignAPI.as_view(), name="signup-assign"),
    path("volunteers/signups/<int:pk>/refuse/", api.SignUpRefuseAPI.as_view(), name="signup-refuse"),
    path("volunteers/signups/<int:pk>/cancel/", api.SignUpCancelAPI.as_view(), name="signup-cancel"),
    path("volunteers/signups/<int:pk>/check-in/", api.SignUpCheckInAPI.as_view(), name="signup-check-in"),
    path("volunteers/signups/<int:pk>/check-out/", api.SignUpCheckOutAPI.as_view(), name="signup-check-out"),
    path("volunteers/signups/<int:pk>/confirm/", api.SignUpConfirmAPI.as_view(), name="signup-confirm"),
    # the catalogue
    path("volunteers/catalogue/", api.CatalogueListCreateAPI.as_view(), name="catalogue"),
    path("volunteers/catalogue/<int:pk>/restock/", api.RestockAPI.as_view(), name="restock"),
    path("volunteers/redemptions/", api.RedemptionListCreateAPI.as_view(), name="redemptions"),
    path("volunteers/redemptions/<int:pk>/cancel/", api.RedemptionCancelAPI.as_view(), name="redemption-cancel"),
    path("volunteers/redemptions/<int:pk>/deliver/", api.RedemptionDeliverAPI.as_view(), name="redemption-deliver"),
]
