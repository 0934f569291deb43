"""Permission cases for the accounts pages: login lockouts (unlocking), second factor, roles."""
from tests.permission_matrix import Case

PERSONAS = ("county_secretary", "town_secretary_a", "village_secretary_a1", "grid_worker_a1_1",
            "department_handler", "outsider_b", "auditor", "three_line_a1", "sysadmin", "county_admin")


def _but(*allowed):
    return tuple(p for p in PERSONAS if p not in allowed)


CASES = [
    # second factor: every login may enrol, verify and renew its recovery codes (its own only)
    Case("accounts:otp-enrol", allowed=PERSONAS),
    # a verified persona sees the form; one without a device is sent to enrolment
    Case("accounts:otp-verify", allowed=PERSONAS, ok=(200, 302)),
    Case("accounts:otp-recovery", allowed=PERSONAS),
    # roles: the county (security) administrator only; never the auditor or the system administrator
    Case("accounts:roles", allowed=("county_admin",), forbidden=_but("county_admin")),
    Case("accounts:role-revoke", method="post", ok=(302,),
         kwargs=lambda w: {"pk": w.user("department_handler").role_assignments.get().pk},
         allowed=("county_admin",), forbidden=_but("county_admin")),
    # unlocking logins: the system administrator only (axes.delete_accessattempt)
    Case("accounts:lockouts", allowed=("sysadmin",), forbidden=_but("sysadmin")),
    Case("accounts:unlock", method="post", data=lambda w: {"username": "nobody"}, ok=(302,),
         allowed=("sysadmin",), forbidden=_but("sysadmin")),
]
