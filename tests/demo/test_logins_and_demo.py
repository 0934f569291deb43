"""The demo logins see exactly their scope; `gongzhi demo --no-serve` can run again and again."""
import io

from django.core.management import call_command

from gongzhi.accounts.models import User
from gongzhi.core.models import AuditLog
from gongzhi.demo.digest import registry_digest
from gongzhi.demo.logins import DEMO_PASSWORD
from gongzhi.registry.models import ContactAssignment, Grid, Household, Person, Region

USERNAMES = {"county", "town", "town2", "village", "grid", "threeline", "dept", "dispatch", "auditor", "admin"}


def _visible(username):
    return set(Household.objects.visible_to(User.objects.get(username=username)).values_list("pk", flat=True))


def test_there_is_one_login_per_builtin_role_with_the_demo_password(county):
    users = {u.username: u for u in User.objects.filter(username__in=USERNAMES)}
    assert set(users) == USERNAMES
    roles = {u.role_assignments.get().role.code for u in users.values()}
    assert roles == {"county_secretary", "town_secretary", "village_secretary", "grid_worker",
                     "department_handler", "three_line", "dispatcher", "auditor", "sysadmin"}
    assert all(u.check_password(DEMO_PASSWORD) for u in users.values())
    assert users["admin"].is_superuser and users["admin"].is_staff
    assert not any(u.is_superuser for name, u in users.items() if name != "admin")


def test_town_secretaries_see_exactly_the_households_of_their_town(county):
    town, town2 = (User.objects.get(username=n).role_assignments.get().region for n in ("town", "town2"))
    assert town.level == town2.level == 2 and town != town2
    assert _visible("town") == set(Household.objects.filter(town=town).values_list("pk", flat=True))
    assert _visible("town2") == set(Household.objects.filter(town=town2).values_list("pk", flat=True))
    assert _visible("town") and _visible("town2") and not _visible("town") & _visible("town2")
    assert _visible("county") == set(Household.objects.values_list("pk", flat=True))


def test_the_village_secretary_sees_their_first_village(county):
    village = User.objects.get(username="village").role_assignments.get().region
    town = User.objects.get(username="town").role_assignments.get().region
    assert village.parent == town and village.kind == "village"
    assert _visible("village") == set(Household.objects.filter(village=village).values_list("pk", flat=True))


def test_the_grid_worker_is_the_grids_worker_and_sees_only_that_grid(county):
    user = User.objects.get(username="grid")
    grid = user.role_assignments.get().grid
    village = User.objects.get(username="village").role_assignments.get().region
    assert grid.worker_id == user.person_id and grid.village_id == village.pk
    assert not grid.children.exists()
    assert _visible("grid") == set(Household.objects.filter(grid=grid).values_list("pk", flat=True))
    assert _visible("grid")


def test_the_three_line_login_sees_the_households_it_keeps_in_touch_with(county):
    user = User.objects.get(username="threeline")
    assert user.person.party_memberships.exists()
    contacted = set(ContactAssignment.objects.filter(person=user.person, ended_on__isnull=True)
                    .values_list("household_id", flat=True))
    assert 3 <= len(contacted) <= 5
    assert _visible("threeline") == contacted
    names = set(Person.objects.visible_to(user).values_list("household_id", flat=True))
    assert names == contacted


def test_the_department_handler_sees_no_households_and_the_auditor_all(county):
    assert User.objects.get(username="dept").role_assignments.get().department.short_name == "民政"
    assert _visible("dept") == set()
    assert _visible("auditor") == set(Household.objects.values_list("pk", flat=True))


def test_demo_no_serve_is_idempotent(db):
    out = io.StringIO()
    args = ["--no-serve", "--towns", "2", "--villages-per-town", "2", "--households", "150"]
    call_command("demo", *args, stdout=out)
    first = registry_digest()
    text = out.getvalue()
    assert "用户名 Username" in text and DEMO_PASSWORD in text
    assert all(name in text for name in USERNAMES)

    out = io.StringIO()
    call_command("demo", *args, stdout=out)
    assert "not generating again" in out.getvalue()
    assert registry_digest() == first
    assert Region.objects.filter(level=1).count() == 1
    # One run of the registry generator, of the demo cases, the village year and the linking year;
    # the second call adds none.
    assert AuditLog.objects.filter(action="generate", object_type="cases.case").count() == 1
    assert AuditLog.objects.filter(action="generate", object_type="village.meeting").count() == 1
    assert AuditLog.objects.filter(action="generate", object_type="linking.pairing").count() == 1
    assert AuditLog.objects.filter(action="generate").exclude(
        object_type__in=["cases.case", "village.meeting", "linking.pairing"]).count() == 1
    # The linking showcase's logins were made before the others (no password then): they have it now.
    assert "liaison" in text
    assert all(User.objects.get(username=n).check_password(DEMO_PASSWORD) for n in ("town", "village", "liaison"))
    assert User.objects.filter(username__in=USERNAMES).count() == len(USERNAMES)
    assert all(u.role_assignments.count() == 1 for u in User.objects.filter(username__in=USERNAMES))
    assert Grid.objects.filter(worker=User.objects.get(username="grid").person).exists()
