"""Permission cases for the village statistics page and its Excel export (gongzhi.village).

Both are reads of aggregated figures of the user's own area: everyone who may read village
meetings gets 200 — outsider_b too, with town B's figures only (what each sees is tested in
tests/village/test_statistics.py) — and whoever holds no village permission at all 403.
"""
from __future__ import annotations

from . import Case

# The system administrator holds every Gongzhi permission but the audit and security duties
# (accounts.roles), village reads included.
READERS = ("county_secretary", "town_secretary_a", "village_secretary_a1", "grid_worker_a1_1", "outsider_b",
           "auditor", "sysadmin")
NO_VILLAGE = ("department_handler", "three_line_a1", "county_admin")

CASES = [
    Case("village:statistics", allowed=READERS, forbidden=NO_VILLAGE),
    Case("village:statistics", id="GET village:statistics (a town, by village)", query="by=village&start=2026-01-01",
         allowed=READERS, forbidden=NO_VILLAGE),
    Case("village:statistics_export", allowed=READERS, forbidden=NO_VILLAGE),
]
