"""Permission cases for the REST API (/api/): accounts, registry, audit trail.

(``api-schema`` and ``api-docs`` are covered in pages.py.)

Personas (tests/world.py): county_secretary, town_secretary_a, village_secretary_a1,
grid_worker_a1_1, department_handler, outsider_b (town B: the outsider for town A), auditor,
three_line_a1 (a party member in touch with household A1-1 only).

Objects are in town A unless said otherwise, so outsider_b, who holds the same permissions over
town B, gets 404. Writing cases come last; each request's data is fresh (new codes and ID numbers)
or idempotent, so several allowed personas can run the same case.
"""
from __future__ import annotations

import datetime as dt
import itertools

from gongzhi.core.models import AuditLog
from gongzhi.registry import services
from gongzhi.registry.models import CentralHouseholdHead, Deputy, PartyMembership, PartyOrganization
from tests.permission_matrix import Case
from tests.world import PASSWORD, new_id

ALL = ("county_secretary", "town_secretary_a", "village_secretary_a1", "grid_worker_a1_1", "department_handler",
       "outsider_b", "auditor", "three_line_a1")
# Holders of the registry view permissions (REGISTRY_VIEW) over town A or above.
REGISTRY_VIEWERS_A = ("county_secretary", "town_secretary_a", "village_secretary_a1", "auditor")

_codes = itertools.count(1)


def _pk(getter):
    return lambda w: {"pk": getter(w).pk}


def _territory(region):
    return {"county_id": region.county_id, "town_id": region.town_id, "village_id": region.village_id}


def _party_org(w):
    if not hasattr(w, "_api_party_org"):
        village = w.regions["A1"]
        w._api_party_org = PartyOrganization.objects.create(
            name="五一村党支部", kind="branch", region=village, secretary=w.persons["A1-1"], **_territory(village))
    return w._api_party_org


def _party_membership(w):
    if not hasattr(w, "_api_party_membership"):
        w._api_party_membership = PartyMembership.objects.create(
            person=w.persons["party_member"], organization=_party_org(w), **_territory(w.regions["A1"]))
    return w._api_party_membership


def _deputy(w):
    if not hasattr(w, "_api_deputy"):
        w._api_deputy = Deputy.objects.create(person=w.persons["A1-2"], level="town", constituency=w.regions["A1"],
                                              **_territory(w.regions["A1"]))
    return w._api_deputy


def _central_head(w):
    if not hasattr(w, "_api_central_head"):
        w._api_central_head = CentralHouseholdHead.objects.create(
            person=w.persons["A1-1"], grid=w.grids["A1-1"], **_territory(w.regions["A1"]))
    return w._api_central_head


def _contact(w):
    return w.persons["party_member"].contact_assignments.get()


def _audit_row_in_town_a(w):
    return AuditLog.objects.filter(town_id=w.regions["A"].pk).order_by("id").first()


def _empty_household(w):
    """A fresh household without members in village A1, so every allowed DELETE has one to delete."""
    return services.household_create(actor=w.system, region=w.regions["A1"], grid=w.grids["A1-2"],
                                     code=f"H-M-{next(_codes)}", address="五一村空户")


def _new_household(w):
    return {"region": w.regions["A1"].pk, "grid": w.grids["A1-2"].pk, "code": f"H-M-{next(_codes)}",
            "address": "五一村新户"}


def _new_person(w):
    return {"name": "测试居民", "id_number": new_id(birth=dt.date(1970, 1, 1)), "household": w.households["A1-2"].pk,
            "relation": "child"}


CASES = [
    # --- accounts -----------------------------------------------------------------------------
    Case("api-token", method="post", api=True, public=True,
         data=lambda w: {"username": "three_line_a1", "password": PASSWORD},
         allowed=("three_line_a1", "department_handler")),
    Case("api-me", api=True, allowed=ALL),

    # --- territory ----------------------------------------------------------------------------
    Case("region-list", api=True, allowed=(*REGISTRY_VIEWERS_A, "grid_worker_a1_1", "outsider_b"),
         forbidden=("department_handler", "three_line_a1")),
    Case("region-detail", api=True, kwargs=_pk(lambda w: w.regions["A1"]),
         allowed=(*REGISTRY_VIEWERS_A, "grid_worker_a1_1"), forbidden=("department_handler", "three_line_a1"),
         out_of_scope=("outsider_b",)),
    Case("region-children", api=True, kwargs=_pk(lambda w: w.regions["A1"]),
         allowed=(*REGISTRY_VIEWERS_A, "grid_worker_a1_1"), forbidden=("department_handler", "three_line_a1"),
         out_of_scope=("outsider_b",)),
    Case("grid-list", api=True, allowed=(*REGISTRY_VIEWERS_A, "grid_worker_a1_1", "outsider_b"),
         forbidden=("department_handler", "three_line_a1")),
    Case("grid-detail", api=True, kwargs=_pk(lambda w: w.grids["A1-1"]),
         allowed=(*REGISTRY_VIEWERS_A, "grid_worker_a1_1"), forbidden=("department_handler", "three_line_a1"),
         out_of_scope=("outsider_b",)),

    # --- households and persons (reads) --------------------------------------------------------
    Case("household-list", api=True,
         allowed=(*REGISTRY_VIEWERS_A, "grid_worker_a1_1", "three_line_a1", "outsider_b"),
         forbidden=("department_handler",)),
    Case("household-detail", api=True, kwargs=_pk(lambda w: w.households["A1-1"]),
         allowed=(*REGISTRY_VIEWERS_A, "grid_worker_a1_1", "three_line_a1"), forbidden=("department_handler",),
         out_of_scope=("outsider_b",)),
    Case("person-list", api=True,
         allowed=(*REGISTRY_VIEWERS_A, "grid_worker_a1_1", "three_line_a1", "outsider_b"),
         forbidden=("department_handler",)),
    Case("person-detail", api=True, kwargs=_pk(lambda w: w.persons["A1-1"]),
         allowed=(*REGISTRY_VIEWERS_A, "grid_worker_a1_1", "three_line_a1"), forbidden=("department_handler",),
         out_of_scope=("outsider_b",)),
    Case("person-memberships", api=True, kwargs=_pk(lambda w: w.persons["A1-1"]),
         allowed=(*REGISTRY_VIEWERS_A, "grid_worker_a1_1", "three_line_a1"), forbidden=("department_handler",),
         out_of_scope=("outsider_b",)),

    # --- party, deputies, central household heads, departments, contacts ----------------------
    Case("party-organization-list", api=True, allowed=(*REGISTRY_VIEWERS_A, "outsider_b"),
         forbidden=("grid_worker_a1_1", "department_handler", "three_line_a1")),
    Case("party-organization-detail", api=True, kwargs=_pk(_party_org), allowed=REGISTRY_VIEWERS_A,
         forbidden=("grid_worker_a1_1", "department_handler", "three_line_a1"), out_of_scope=("outsider_b",)),
    Case("party-membership-list", api=True, allowed=(*REGISTRY_VIEWERS_A, "outsider_b"),
         forbidden=("grid_worker_a1_1", "department_handler", "three_line_a1")),
    Case("party-membership-detail", api=True, kwargs=_pk(_party_membership), allowed=REGISTRY_VIEWERS_A,
         forbidden=("grid_worker_a1_1", "department_handler", "three_line_a1"), out_of_scope=("outsider_b",)),
    Case("deputy-list", api=True, allowed=(*REGISTRY_VIEWERS_A, "outsider_b"),
         forbidden=("grid_worker_a1_1", "department_handler", "three_line_a1")),
    Case("deputy-detail", api=True, kwargs=_pk(_deputy), allowed=REGISTRY_VIEWERS_A,
         forbidden=("grid_worker_a1_1", "department_handler", "three_line_a1"), out_of_scope=("outsider_b",)),
    Case("central-household-head-list", api=True, allowed=(*REGISTRY_VIEWERS_A, "outsider_b"),
         forbidden=("grid_worker_a1_1", "department_handler", "three_line_a1")),
    Case("central-household-head-detail", api=True, kwargs=_pk(_central_head), allowed=REGISTRY_VIEWERS_A,
         forbidden=("grid_worker_a1_1", "department_handler", "three_line_a1"), out_of_scope=("outsider_b",)),
    # Departments are county-wide: every territory cadre of the county sees them; a handler sees their own.
    Case("department-list", api=True, allowed=(*REGISTRY_VIEWERS_A, "department_handler", "outsider_b"),
         forbidden=("grid_worker_a1_1", "three_line_a1")),
    Case("department-detail", api=True, kwargs=_pk(lambda w: w.department),
         allowed=(*REGISTRY_VIEWERS_A, "department_handler", "outsider_b"),
         forbidden=("grid_worker_a1_1", "three_line_a1")),
    Case("contact-assignment-list", api=True, allowed=(*REGISTRY_VIEWERS_A, "grid_worker_a1_1", "outsider_b"),
         forbidden=("department_handler", "three_line_a1")),
    Case("contact-assignment-detail", api=True, kwargs=_pk(_contact),
         allowed=(*REGISTRY_VIEWERS_A, "grid_worker_a1_1"), forbidden=("department_handler", "three_line_a1"),
         out_of_scope=("outsider_b",)),

    # --- audit trail ---------------------------------------------------------------------------
    Case("audit-log-list", api=True, allowed=("auditor",),
         forbidden=tuple(p for p in ALL if p != "auditor")),
    Case("audit-log-detail", api=True, kwargs=_pk(_audit_row_in_town_a), allowed=("auditor",),
         forbidden=tuple(p for p in ALL if p != "auditor")),

    # --- writes (last; fresh data per request, or idempotent) ----------------------------------
    Case("person-reveal", method="post", api=True, kwargs=_pk(lambda w: w.persons["A1-1"]),
         data=lambda w: {"field": "phone"}, id="POST person-reveal",
         allowed=("county_secretary", "town_secretary_a", "village_secretary_a1", "grid_worker_a1_1"),
         forbidden=("department_handler", "auditor", "three_line_a1"), out_of_scope=("outsider_b",)),
    Case("household-list", method="post", api=True, data=_new_household, ok=(201,),
         allowed=("town_secretary_a", "village_secretary_a1"),
         forbidden=("county_secretary", "grid_worker_a1_1", "department_handler", "auditor", "three_line_a1")),
    Case("household-detail", method="patch", api=True, kwargs=_pk(lambda w: w.households["A1-1"]),
         data=lambda w: {"notes": "门前有坡，雨天路滑"},
         allowed=("town_secretary_a", "village_secretary_a1", "grid_worker_a1_1"),
         forbidden=("county_secretary", "department_handler", "auditor", "three_line_a1"),
         out_of_scope=("outsider_b",)),
    Case("household-detail", method="delete", api=True, kwargs=_pk(_empty_household), ok=(204,),
         allowed=("town_secretary_a", "village_secretary_a1"),
         forbidden=("county_secretary", "grid_worker_a1_1", "department_handler", "auditor", "three_line_a1"),
         out_of_scope=("outsider_b",)),
    Case("person-list", method="post", api=True, data=_new_person, ok=(201,),
         allowed=("town_secretary_a", "village_secretary_a1"),
         forbidden=("county_secretary", "grid_worker_a1_1", "department_handler", "auditor", "three_line_a1")),
    Case("person-detail", method="patch", api=True, kwargs=_pk(lambda w: w.persons["A1-1"]),
         data=lambda w: {"left_behind": "elderly"},
         allowed=("town_secretary_a", "village_secretary_a1", "grid_worker_a1_1"),
         forbidden=("county_secretary", "department_handler", "auditor", "three_line_a1"),
         out_of_scope=("outsider_b",)),
]
