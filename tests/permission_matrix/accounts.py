"""Permission cases for the accounts pages: login lockouts (unlocking), second factor, roles."""
from tests.permission_matrix import Case

PERSONAS = ("county_secretary", "town_secretary_a", "village_secretary_a1", "grid_worker_a1_1",
            "department_handler", "outsider_b", "auditor", "three_line_a1", "sysadmin")


def _but(*allowed):
    return tuple(p for p in PERSONAS if p not in allowed)


CASES = [
    # unlocking logins: the system administrator only (axes.delete_accessattempt)
    Case("accounts:lockouts", allowed=("sysadmin",), forbidden=_but("sysadmin")),
    Case("accounts:unlock", method="post", data=lambda w: {"username": "nobody"}, ok=(302,),
         allowed=("sysadmin",), forbidden=_but("sysadmin")),
]
