"""REST routes of gongzhi.resources, under /api/resources/ (mounted by gongzhi/api_urls.py).

Each route is covered by tests/permission_matrix/resources_api.py.
"""
from django.urls import path

from . import api

app_name = "resources_api"

urlpatterns = [
    path("resources/overview/", api.OverviewAPI.as_view(), name="overview"),
    # the inventory and its ledger
    path("resources/inventory/", api.InventoryListCreateAPI.as_view(), name="inventory"),
    path("resources/inventory/<int:pk>/", api.InventoryDetailAPI.as_view(), name="resource-detail"),
    path("resources/inventory/<int:pk>/ledger/", api.LedgerAPI.as_view(), name="resource-ledger"),
    path("resources/inventory/<int:pk>/movements/", api.MovementAPI.as_view(), name="resource-movements"),
    # needs and the dispatch queue
    path("resources/needs/", api.NeedListCreateAPI.as_view(), name="needs"),
    path("resources/needs/<int:pk>/", api.NeedDetailAPI.as_view(), name="need-detail"),
    path("resources/needs/<int:pk>/candidates/", api.NeedCandidatesAPI.as_view(), name="need-candidates"),
    path("resources/needs/<int:pk>/reserve/", api.NeedReserveAPI.as_view(), name="need-reserve"),
    path("resources/needs/<int:pk>/close/", api.NeedCloseAPI.as_view(), name="need-close"),
    path("resources/queue/reserve/", api.QueueReserveAPI.as_view(), name="queue-reserve"),
    # reservation → dispatch → delivery
    path("resources/allocations/<int:pk>/release/", api.AllocationReleaseAPI.as_view(), name="allocation-release"),
    path("resources/allocations/<int:pk>/dispatch/", api.AllocationDispatchAPI.as_view(), name="allocation-dispatch"),
    path("resources/deliveries/<int:pk>/confirm/", api.DeliveryConfirmAPI.as_view(), name="delivery-confirm"),
    path("resources/deliveries/<int:pk>/return/", api.DeliveryReturnAPI.as_view(), name="delivery-return"),
]
