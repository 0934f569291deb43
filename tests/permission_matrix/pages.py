"""Permission cases for the server-rendered pages: home, login/logout, registry pages, audit trail,
and the API schema/docs pages.

Town A holds villages A1 (grids A1 ⊃ A1-1, A1-2) and A2; town B is the outsider's. The grid
worker holds grid A1-1 only; the three-line person is in touch with household A1-1 only.
"""
from tests.permission_matrix import Case

EVERYONE = ("county_secretary", "town_secretary_a", "village_secretary_a1", "grid_worker_a1_1",
            "department_handler", "outsider_b", "auditor", "three_line_a1")
NOT_AUDITORS = tuple(p for p in EVERYONE if p != "auditor")

# Personas who hold the registry view permissions over village A1 (grids, regions).
SEE_A1_TERRITORY = ("county_secretary", "town_secretary_a", "village_secretary_a1", "grid_worker_a1_1", "auditor")
# ... over households/persons of grid A1-1 (the three-line person is in touch with H-A1-1).
SEE_A1_1_PEOPLE = SEE_A1_TERRITORY + ("three_line_a1",)
SEE_A1_2_PEOPLE = ("county_secretary", "town_secretary_a", "village_secretary_a1", "auditor")
# Who may reveal ID numbers and phones (the auditor reads, never reveals).
REVEAL_A1_1 = ("county_secretary", "town_secretary_a", "village_secretary_a1", "grid_worker_a1_1")


def _pk(group, key):
    return lambda w: {"pk": getattr(w, group)[key].pk}


CASES = [
    Case("home", allowed=EVERYONE),
    # A logged-in user opening the login page is sent on to the home page.
    Case("accounts:login", public=True, allowed=EVERYONE, ok=(302,)),
    Case("accounts:logout", method="post", allowed=EVERYONE, ok=(302,)),
    Case("audit:list", allowed=("auditor",), forbidden=NOT_AUDITORS),
    # drf-spectacular serves the schema and its docs to anyone (SERVE_PERMISSIONS = AllowAny):
    # they describe the API, not people's data.
    Case("api-schema", api=True, public=True, allowed=EVERYONE),
    Case("api-docs", api=True, public=True, allowed=EVERYONE),
    # The API root lists links only, like the schema.
    Case("api-root", api=True, public=True, allowed=EVERYONE),
    # The holiday table is the county administrator's (core.load_workdaycalendar; sysadmin role).
    Case("calendar:years", forbidden=EVERYONE),
    Case("calendar:years", id="POST calendar:years", method="post", data=lambda w: {"text": "2027-01-01,holiday,元旦"},
         forbidden=EVERYONE),
    Case("registry:search", query="q=zjg", allowed=tuple(p for p in EVERYONE if p != "department_handler"),
         forbidden=("department_handler",)),
    # regions
    Case("registry:region", kwargs=_pk("regions", "A1"), id="region A1",
         allowed=SEE_A1_TERRITORY, forbidden=("department_handler", "three_line_a1"), out_of_scope=("outsider_b",)),
    Case("registry:region", kwargs=_pk("regions", "A"), id="region A (town)",
         allowed=("county_secretary", "town_secretary_a", "auditor"), forbidden=("department_handler", "three_line_a1"),
         out_of_scope=("outsider_b", "village_secretary_a1", "grid_worker_a1_1")),
    Case("registry:coverage", kwargs=_pk("regions", "A1"), id="coverage A1",
         allowed=SEE_A1_TERRITORY, forbidden=("department_handler", "three_line_a1"), out_of_scope=("outsider_b",)),
    # grids
    Case("registry:grid", kwargs=_pk("grids", "A1-1"), id="grid A1-1",
         allowed=SEE_A1_TERRITORY, forbidden=("department_handler", "three_line_a1"), out_of_scope=("outsider_b",)),
    Case("registry:grid", kwargs=_pk("grids", "A1-2"), id="grid A1-2",
         allowed=("county_secretary", "town_secretary_a", "village_secretary_a1", "auditor"),
         forbidden=("department_handler", "three_line_a1"), out_of_scope=("outsider_b", "grid_worker_a1_1")),
    # households (一户一档)
    Case("registry:household", kwargs=_pk("households", "A1-1"), id="household A1-1",
         allowed=SEE_A1_1_PEOPLE, forbidden=("department_handler",), out_of_scope=("outsider_b",)),
    Case("registry:household", kwargs=_pk("households", "A1-2"), id="household A1-2",
         allowed=SEE_A1_2_PEOPLE, forbidden=("department_handler",),
         out_of_scope=("outsider_b", "grid_worker_a1_1", "three_line_a1")),
    # persons
    Case("registry:person", kwargs=_pk("persons", "A1-1"), id="person A1-1",
         allowed=SEE_A1_1_PEOPLE, forbidden=("department_handler",), out_of_scope=("outsider_b",)),
    Case("registry:person", kwargs=_pk("persons", "A1-2"), id="person A1-2",
         allowed=SEE_A1_2_PEOPLE, forbidden=("department_handler",),
         out_of_scope=("outsider_b", "grid_worker_a1_1", "three_line_a1")),
    # revealing a masked phone: needs registry.reveal_person over the person
    Case("registry:person-reveal", kwargs=_pk("persons", "A1-1"), method="post", data=lambda w: {"field": "phone"},
         id="reveal A1-1", allowed=REVEAL_A1_1,
         forbidden=("department_handler", "three_line_a1", "auditor"), out_of_scope=("outsider_b",)),
    Case("registry:person-reveal", kwargs=_pk("persons", "A1-2"), method="post",
         data=lambda w: {"field": "id_number"}, id="reveal A1-2",
         allowed=("county_secretary", "town_secretary_a", "village_secretary_a1"),
         forbidden=("department_handler", "three_line_a1", "auditor"), out_of_scope=("outsider_b", "grid_worker_a1_1")),
]
