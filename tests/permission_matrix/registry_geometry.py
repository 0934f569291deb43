"""Permission cases for the map geometry of the registry (``GET /api/registry/geometry/``).

A list-like read: everyone holding the view permission somewhere gets 200 (with only what lies
in their scope: tests/registry/test_geometry.py checks what); the others 403.
"""
from __future__ import annotations

from tests.permission_matrix import Case
from tests.permission_matrix.api import REGISTRY_VIEWERS_A

CASES = [
    Case("registry-geometry", api=True, allowed=(*REGISTRY_VIEWERS_A, "grid_worker_a1_1", "outsider_b"),
         forbidden=("department_handler", "three_line_a1"), id="GET registry-geometry (villages)"),
    Case("registry-geometry", api=True, query="level=town",
         allowed=(*REGISTRY_VIEWERS_A, "grid_worker_a1_1", "outsider_b"),
         forbidden=("department_handler", "three_line_a1"), id="GET registry-geometry (towns)"),
    Case("registry-geometry", api=True, query="level=grid",
         allowed=(*REGISTRY_VIEWERS_A, "grid_worker_a1_1", "outsider_b"),
         forbidden=("department_handler", "three_line_a1"), id="GET registry-geometry (grids)"),
]
