"""Permission cases for the roster pages (gongzhi/roster/urls.py).

Import needs ``roster.import_roster`` over the village, export ``roster.export_roster`` over the
region. The department handler holds neither (403); the outsider is town B's secretary, who holds
both but not over town A (404 for A1's batches, villages and exports).
"""
from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile

from . import Case

ALLOWED = ("village_secretary_a1", "town_secretary_a")
CSV = "户号,家庭住址,姓名,身份证号,与户主关系\r\nH-M{id},五一村1号,测试,{id},户主\r\n"


def _new_a1_batch(world):
    """A checked (valid, not yet imported) import batch of village A1."""
    from gongzhi.roster import services
    from tests.world import new_id

    return services.roster_batch_create(
        actor=world.user("village_secretary_a1"), village=world.regions["A1"], kind="households",
        filename="a1.csv", content=CSV.format(id=new_id()).encode("utf-8"))


def _a1_batch(world):
    """One batch of village A1, made once per world."""
    if getattr(world, "_roster_batch", None) is None:
        world._roster_batch = _new_a1_batch(world)
    return {"pk": world._roster_batch.pk}


def _fresh_a1_batch(world):
    """A new batch for every request: applying or cancelling one uses it up."""
    return {"pk": _new_a1_batch(world).pk}


def _upload(world):
    from tests.world import new_id

    content = CSV.format(id=new_id()).encode("utf-8")
    return {"village": world.regions["A1"].pk, "kind": "households",
            "file": SimpleUploadedFile("a1.csv", content, content_type="text/csv")}


CASES = [
    Case("roster:upload", allowed=ALLOWED + ("outsider_b",), forbidden=("department_handler", "county_secretary")),
    Case("roster:upload", method="post", data=_upload, allowed=ALLOWED, ok=(302,),
         forbidden=("department_handler",), out_of_scope=("outsider_b",), id="POST roster:upload (village A1)"),
    Case("roster:batch", kwargs=_a1_batch, allowed=ALLOWED, forbidden=("department_handler", "county_secretary"),
         out_of_scope=("outsider_b",)),
    Case("roster:confirm", kwargs=_a1_batch, method="post", data=lambda world: {"action": "cancel"},
         allowed=ALLOWED, ok=(302,), forbidden=("department_handler",), out_of_scope=("outsider_b",)),
    Case("roster:export", allowed=ALLOWED + ("county_secretary", "outsider_b"), forbidden=("department_handler",)),
    Case("roster:export-file", kwargs=lambda world: {"pk": world.regions["A1"].pk, "kind": "households", "fmt": "xlsx"},
         allowed=ALLOWED + ("county_secretary",), forbidden=("department_handler", "auditor"),
         out_of_scope=("outsider_b",)),
    Case("roster:template", kwargs=lambda world: {"kind": "grids", "fmt": "csv"},
         allowed=ALLOWED, forbidden=("department_handler", "county_secretary")),
    # REST API (gongzhi/roster/api.py)
    Case("roster-import-list", api=True, allowed=ALLOWED + ("outsider_b",),
         forbidden=("department_handler", "county_secretary")),
    Case("roster-import-detail", api=True, kwargs=_a1_batch, allowed=ALLOWED,
         forbidden=("department_handler", "county_secretary"), out_of_scope=("outsider_b",)),
    Case("roster-import-apply", api=True, method="post", kwargs=_fresh_a1_batch,
         data=lambda world: {"valid_only": False}, allowed=ALLOWED, forbidden=("department_handler",),
         out_of_scope=("outsider_b",)),
    Case("roster-import-cancel", api=True, method="post", kwargs=_fresh_a1_batch, allowed=ALLOWED,
         forbidden=("department_handler",), out_of_scope=("outsider_b",)),
]
