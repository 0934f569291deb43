"""Demo logins: one per built-in role, each over a sensible scope of the generated county.

The scopes are looked up in the registry (not remembered from a generation run), so
``ensure_demo_logins`` can run again on an existing database and puts back whatever is
missing: users, their role assignment, their link to a registry person.
"""
from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import transaction

from gongzhi.accounts.models import Role, RoleAssignment
from gongzhi.core.scoping import forget_cached_grants
from gongzhi.registry.models import ContactLine, Department, Grid, Person, Region, RegionLevel

DEMO_PASSWORD = "gongzhi-demo"
# The demo's second factor. Logins whose permissions call for one (admin, auditor, secretaries,
# grid worker, dispatcher: they may reveal ID numbers or phones, read the audit trail or change
# roles) get an authenticator enrolled with this one published secret, so that a new user can
# get in: add it to an authenticator app, or run `gongzhi demo_otp` for the current code. It is a
# demo convenience and must never be used on a real deployment (it is only ever set here).
DEMO_TOTP_SECRET = "GONGZHIDEMOTOTPKEY234567"
DEMO_DEVICE_NAME = "演示身份验证器"

ROLE_ENGLISH = {
    "county_secretary": "County party secretary",
    "town_secretary": "Town party secretary",
    "village_secretary": "Village party secretary",
    "grid_worker": "Grid worker",
    "department_handler": "Department case handler",
    "three_line": "Three-line person",
    "auditor": "Auditor",
    "dispatcher": "Dispatcher (county contact office)",
    "agency_liaison": "Agency liaison (pairing and co-building)",
    "sysadmin": "System administrator (superuser)",
}


@dataclass
class DemoLogin:
    username: str
    role: str
    display_name: str
    region: Region | None = None
    grid: Grid | None = None
    department: Department | None = None
    person: Person | None = None
    superuser: bool = False
    scope_note: str = ""
    created: bool = False
    password_set: bool = False
    second_factor: bool = False

    @property
    def scope_label(self) -> str:
        if self.scope_note:
            return self.scope_note
        if self.region is not None:
            return self.region.full_name
        if self.grid is not None:
            return f"{self.grid.village.full_name} · {self.grid.name}"
        if self.department is not None:
            return self.department.name
        return "全县 · everything"


def demo_login_plan() -> list[DemoLogin]:
    """The logins the generated county supports ([] when there is no county yet)."""
    county = Region.objects.filter(level=RegionLevel.COUNTY).order_by("code").first()
    if county is None:
        return []
    towns = sorted(Region.objects.filter(level=RegionLevel.TOWN, parent=county),
                   key=lambda r: (r.kind == "subdistrict", r.code))
    plan = [DemoLogin("county", "county_secretary", f"{county.name}县委书记", region=county)]
    if towns:
        town = towns[0]
        plan.append(DemoLogin("town", "town_secretary", f"{town.name}党委书记", region=town))
        if len(towns) > 1:
            plan.append(DemoLogin("town2", "town_secretary", f"{towns[1].name}党委书记", region=towns[1]))
        villages = Region.objects.filter(level=RegionLevel.VILLAGE, parent=town).order_by("code")
        village = villages.filter(kind="village").first() or villages.first()
        if village is not None:
            plan.append(DemoLogin("village", "village_secretary", f"{village.name}党组织书记", region=village))
            grid = (Grid.objects.filter(village_id=village.pk, children__isnull=True, worker__isnull=False)
                    .select_related("worker", "village").order_by("code").first())
            if grid is not None:
                plan.append(DemoLogin("grid", "grid_worker", f"网格员{grid.worker.name}", grid=grid,
                                      person=grid.worker))
            member = (Person.objects.filter(village_id=village.pk, contact_assignments__line=ContactLine.PARTY_MEMBER,
                                            contact_assignments__ended_on__isnull=True)
                      .exclude(pk=grid.worker_id if grid else None).order_by("pk").distinct().first())
            if member is not None:
                households = member.contact_assignments.filter(ended_on__isnull=True).count()
                plan.append(DemoLogin("threeline", "three_line", f"党员{member.name}", person=member,
                                      scope_note=f"{village.name}：联系的{households}户 · the {households} "
                                                 "households they keep in touch with"))
    department = (Department.objects.filter(county=county, short_name="民政").first()
                  or Department.objects.filter(county=county, name__contains="民政").first())
    if department is not None:
        plan.append(DemoLogin("dept", "department_handler", f"{department.name}经办人", department=department))
        # The bureau's liaison for its pairings (结对共建): holds the lead post of its pairing with the
        # ``village`` login's village (gongzhi.linking.demo).
        plan.append(DemoLogin("liaison", "agency_liaison", f"{department.name}结对共建联络员", department=department))
    # The county 联系办's dispatcher takes in residents' matters and is the one built-in role that
    # may see who filed a complaint.
    plan.append(DemoLogin("dispatch", "dispatcher", f"{county.name}联系办调度员", region=county))
    plan.append(DemoLogin("auditor", "auditor", "审计员"))
    plan.append(DemoLogin("admin", "sysadmin", "系统管理员", superuser=True))
    return plan


@transaction.atomic
def ensure_demo_logins(*, password: str | None = DEMO_PASSWORD, reset_passwords: bool = False,
                       only: Iterable[str] | None = None) -> list[DemoLogin]:
    """Create the demo logins that are missing and give each exactly its one demo role.

    An existing login keeps its password unless ``reset_passwords``, or unless it has no usable
    password yet: ``password=None`` creates the missing logins without one (a demo generator that
    needs some of them as actors before the logins are handed out, ``only`` naming which), and the
    next call with a password gives them that password.
    """
    from gongzhi.accounts.roles import ensure_builtin_roles

    if Role.objects.filter(code__in=ROLE_ENGLISH).count() < len(ROLE_ENGLISH):
        ensure_builtin_roles()
    roles = {role.code: role for role in Role.objects.filter(code__in=ROLE_ENGLISH)}
    User = get_user_model()
    plan = demo_login_plan()
    if only is not None:
        wanted_names = set(only)
        plan = [login for login in plan if login.username in wanted_names]
    for login in plan:
        user, login.created = User.objects.get_or_create(username=login.username)
        user.display_name = login.display_name
        user.person = login.person
        user.is_superuser = user.is_staff = login.superuser
        user.is_active = True
        if password is None:
            if login.created:
                user.set_unusable_password()
        elif login.created or reset_passwords or not user.has_usable_password():
            user.set_password(password)
            login.password_set = True
        user.save()
        wanted = {"role": roles[login.role], "region": login.region, "grid": login.grid,
                  "department": login.department}
        keep = user.role_assignments.filter(is_active=True, **wanted).order_by("pk").first()
        user.role_assignments.exclude(pk=keep.pk if keep else None).delete()
        if keep is None:
            assignment = RoleAssignment(user=user, **wanted)
            assignment.full_clean()
            assignment.save()
        forget_cached_grants(user)
        login.second_factor = _ensure_demo_device(user)
        forget_cached_grants(user)
    return plan


def _ensure_demo_device(user) -> bool:
    """Enrol the demo authenticator for a login that needs a second factor; True if it does."""
    import base64

    from django_otp.plugins.otp_totp.models import TOTPDevice

    from gongzhi.accounts.otp import needs_second_factor

    if not needs_second_factor(user):
        return False
    key = base64.b32decode(DEMO_TOTP_SECRET).hex()
    TOTPDevice.objects.update_or_create(user=user, name=DEMO_DEVICE_NAME, defaults={"key": key, "confirmed": True})
    return True


def demo_totp_code(at: float | None = None) -> tuple[str, int]:
    """The demo authenticator's current code and the seconds it stays valid."""
    import base64
    import time

    from django_otp.oath import TOTP

    totp = TOTP(base64.b32decode(DEMO_TOTP_SECRET), step=30, t0=0, digits=6)
    if at is not None:
        totp.time = at
    now = time.time() if at is None else at
    return f"{totp.token():06d}", 30 - int(now) % 30


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


def login_table(plan: list[DemoLogin], password: str = DEMO_PASSWORD) -> str:
    roles = dict(Role.objects.filter(code__in=ROLE_ENGLISH).values_list("code", "name"))
    header = ("用户名 Username", "密码 Password", "角色 Role", "范围 Scope")
    rows = []
    for login in plan:
        shown = password if login.password_set else f"{password} *"
        rows.append((login.username + (" †" if login.second_factor else ""), shown, f"{roles.get(login.role, login.role)} {ROLE_ENGLISH[login.role]}",
                     login.scope_label))
    widths = [max(_width(r[i]) for r in [header, *rows]) for i in range(len(header))]
    line = "+-" + "-+-".join("-" * w for w in widths) + "-+"
    out = [line, "| " + " | ".join(_pad(h, w) for h, w in zip(header, widths)) + " |", line]
    out += ["| " + " | ".join(_pad(c, w) for c, w in zip(row, widths)) + " |" for row in rows]
    out.append(line)
    if any(login.second_factor for login in plan):
        out.append(f"† 登录后还需第二步验证码。演示密钥 {DEMO_TOTP_SECRET}（可添加到身份验证器应用），或运行 "
                   "`gongzhi demo_otp` 查看当前验证码。† also asks for a one-time code after the password: add "
                   f"the demo secret {DEMO_TOTP_SECRET} to an authenticator app, or run `gongzhi demo_otp`.")
    if not all(login.password_set for login in plan):
        out.append("* 首次创建时设置的密码；--reset-passwords 可重置。Set when the login was created; "
                   "--reset-passwords sets it again.")
    return "\n".join(out)
