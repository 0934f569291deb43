"""Registry pages, login and the audit trail page, through the real views and PostgreSQL."""
import datetime as dt

import pytest
from django.urls import NoReverseMatch, reverse

from gongzhi.accounts.models import Role, RoleAssignment
from gongzhi.core.models import AuditLog
from gongzhi.registry import services
from tests.world import PASSWORD, new_id


def url(name, obj=None):
    return reverse(name, args=[obj.pk]) if obj is not None else reverse(name)


def page(client, name, obj=None, **params):
    response = client.get(url(name, obj), params)
    assert response.status_code == 200, response.status_code
    return response.content.decode()


# --- login / logout ---------------------------------------------------------------------------


def test_the_login_page_is_in_chinese(client, db):
    html = page(client, "accounts:login")
    assert "登录" in html and "用户名" in html and "密码" in html


def test_logging_in_with_the_form_lands_on_the_home_page(world, client):
    response = client.post(url("accounts:login"), {"username": "department_handler", "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/"
    assert "民政局经办人" in page(client, "home")
    # a login that may reveal phones passes the second step first (tests/accounts/test_second_factor.py)
    from tests.otp import code, totp_device

    client.post(url("accounts:logout"))
    device = totp_device(world.user("grid_worker_a1_1"))
    response = client.post(url("accounts:login"), {"username": "grid_worker_a1_1", "password": PASSWORD})
    assert response.status_code == 302 and response["Location"].startswith("/accounts/otp/verify/?next=%2F")
    assert client.post(response["Location"], {"token": code(device)})["Location"] == "/"
    assert "五一村一组网格员" in page(client, "home")


def test_a_wrong_password_is_answered_in_chinese(world, client):
    response = client.post(url("accounts:login"), {"username": "grid_worker_a1_1", "password": "nope-nope"})
    assert response.status_code == 200
    assert "用户名或密码错误" in response.content.decode()


def test_logout_is_a_post(world, client):
    client.force_login(world.user("auditor"))
    assert client.get(url("accounts:logout")).status_code == 405
    response = client.post(url("accounts:logout"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert client.get(url("home")).status_code == 302


# --- home -------------------------------------------------------------------------------------


def test_home_shows_roles_entry_points_and_counts_in_scope(world, login):
    html = page(login(world.user("town_secretary_a")), "home")
    assert "镇（街道）党委书记" in html and "城关镇" in html
    assert url("registry:region", world.regions["A"]) in html
    assert url("registry:coverage", world.regions["A"]) in html
    assert url("registry:search") in html
    # town A: regions A, A1, A2, A1 group 1; grids A1, A1-1, A1-2, A2; 3 households; 5 persons
    assert '<dt>区划</dt><dd>4</dd>' in html and '<dt>网格</dt><dd>4</dd>' in html
    assert '<dt>住户</dt><dd>3</dd>' in html and '<dt>人员</dt><dd>5</dd>' in html
    assert url("audit:list") not in html


def test_home_of_a_grid_worker_leads_to_their_grid(world, login):
    html = page(login(world.user("grid_worker_a1_1")), "home")
    assert url("registry:grid", world.grids["A1-1"]) in html
    assert '<dt>住户</dt><dd>1</dd>' in html and '<dt>人员</dt><dd>2</dd>' in html
    assert "/roster/" not in html  # no roster permission


def test_home_of_a_three_line_person_lists_their_households(world, login):
    html = page(login(world.user("three_line_a1")), "home")
    assert url("registry:household", world.households["A1-1"]) in html
    assert url("registry:household", world.households["A1-2"]) not in html
    assert '<dt>区划</dt>' not in html  # holds no region permission: no count shown


def test_home_of_a_superuser_leads_to_the_county(world, login):
    html = page(login(world.system), "home")
    assert url("registry:region", world.regions["C"]) in html and '<dt>住户</dt><dd>4</dd>' in html


def test_home_links_the_audit_trail_for_auditors(world, login):
    html = page(login(world.user("auditor")), "home")
    assert url("audit:list") in html


def test_home_links_roster_pages_only_when_they_exist(world, login):
    html = page(login(world.user("town_secretary_a")), "home")
    for name in ("roster:upload", "roster:export"):
        try:
            assert reverse(name) in html
        except NoReverseMatch:
            pass  # the roster pages are not there yet: no broken link either


# --- regions and grids --------------------------------------------------------------------------


def test_a_town_page_lists_its_villages_with_household_counts(world, login):
    html = page(login(world.user("town_secretary_a")), "registry:region", world.regions["A"])
    assert "五一村" in html and "月河村" in html and "紫云村" not in html
    assert "2 户" in html and "1 户" in html
    assert "汉阴县" in html  # breadcrumb


def test_a_village_page_shows_only_the_grids_in_the_viewers_scope(world, login):
    html = page(login(world.user("village_secretary_a1")), "registry:region", world.regions["A1"])
    for name in ("五一村一级网格", "五一村一组网格", "五一村二组网格"):
        assert name in html
    assert "未配备网格员" in html
    worker_html = page(login(world.user("grid_worker_a1_1")), "registry:region", world.regions["A1"])
    assert "五一村一组网格" in worker_html and "五一村二组网格" not in worker_html


def test_a_grid_page_lists_sub_grids_and_households_of_the_whole_subtree(world, login):
    html = page(login(world.user("village_secretary_a1")), "registry:grid", world.grids["A1"])
    assert "五一村一组网格" in html and "五一村二组网格" in html
    assert "张建国" in html and "李秀英" in html
    assert url("registry:household", world.households["A1-2"]) in html
    # households are counted, not their members (each sub-grid holds one household of two persons)
    assert html.count("1 户") == 2 and "2 人" in html


def _add_households(world, n, grid_key="A1-2"):
    grid = world.grids[grid_key]
    for i in range(n):
        h = services.household_create(actor=world.system, region=grid.region, grid=grid, code=f"X-{i:03d}",
                                      address=f"五一村二组{i}号", annual_income=1000 + i)
        services.person_create(actor=world.system, household=h, relation="head", name=f"户主{i}", id_number=new_id())


def test_the_grid_page_is_paginated(world, login):
    _add_households(world, 35)
    client = login(world.user("village_secretary_a1"))
    first = page(client, "registry:grid", world.grids["A1-2"])
    second = page(client, "registry:grid", world.grids["A1-2"], page=2)
    # ordered by household number: H-A1-2, then X-000 … X-034; 30 a page
    assert "H-A1-2" in first and "X-028" in first and "X-029" not in first
    assert "X-029" in second and "X-034" in second and "X-000" not in second
    assert "?page=2" in first


def test_the_grid_page_costs_the_same_queries_for_many_households(world, login, django_assert_max_num_queries):
    _add_households(world, 30)
    client = login(world.user("village_secretary_a1"))
    with django_assert_max_num_queries(13):  # 12, +1: the session's second-factor device (django-otp)
        html = page(client, "registry:grid", world.grids["A1"])
    assert "户主0" in html and "张建国" in html and "?page=2" in html


# --- coverage ----------------------------------------------------------------------------------


def test_the_coverage_page_lists_problems_in_scope(world, login):
    loose = services.household_create(actor=world.system, region=world.regions["A1"], code="H-LOOSE",
                                      address="五一村无网格1号")
    html = page(login(world.user("village_secretary_a1")), "registry:coverage", world.regions["A1"])
    assert "H-LOOSE" in html and url("registry:household", loose) in html
    assert "未配备网格员的基础网格" in html and "五一村一组网格" in html
    assert "发现问题" in html
    # the grid worker's scope is their grid: a household in no grid is outside it
    worker_html = page(login(world.user("grid_worker_a1_1")), "registry:coverage", world.regions["A1"])
    assert "H-LOOSE" not in worker_html


def test_coverage_is_for_counties_towns_and_villages_only(world, login):
    client = login(world.user("village_secretary_a1"))
    assert client.get(url("registry:coverage", world.regions["A1g1"])).status_code == 404


# --- household archive (一户一档) ------------------------------------------------------------


@pytest.fixture
def archive(world):
    """Household A1-1 with facts on every line of the archive."""
    h = world.households["A1-1"]
    services.household_update(actor=world.system, household=h, poverty_status="monitored",
                              peaceful_family_years=[2022, 2023, 2024])
    services.person_update(actor=world.system, person=world.persons["A1-1-spouse"], left_behind="woman",
                           disability_grade=2, released_on=dt.date(2020, 3, 1))
    child = services.person_create(actor=world.system, household=h, relation="child", name="张小军",
                                   id_number=new_id(birth=dt.date(2001, 6, 1)))
    services.person_move(actor=world.system, person=child, to_household=None, reason="外出务工迁出")
    return h


def test_the_household_archive_shows_the_facts(world, login, archive):
    html = page(login(world.user("grid_worker_a1_1")), "registry:household", archive)
    assert "五一村一组A1-1号" in html and "30000 元" in html and "监测户" in html
    assert "2022、2023、2024" in html
    assert url("registry:grid", world.grids["A1-1"]) in html
    assert "户主" in html and "Head of household" not in html and "配偶" in html
    assert "留守妇女" in html and "残疾二级" in html and "2020-03-01 刑满释放" in html
    head = world.persons["A1-1"]
    assert head.id_number not in html and "610921********" in html
    assert "13812345678" not in html and "138****5678" in html


def test_the_archive_keeps_moves_in_and_out(world, login, archive):
    html = page(login(world.user("grid_worker_a1_1")), "registry:household", archive)
    assert "迁入迁出" in html and "张小军" in html and "外出务工迁出" in html


def test_the_archive_shows_three_line_contacts_to_those_who_may_see_them(world, login, archive):
    html = page(login(world.user("grid_worker_a1_1")), "registry:household", archive)
    assert "三线联系人" in html and "李强" in html and "党员" in html
    three_line_html = page(login(world.user("three_line_a1")), "registry:household", archive)
    assert "三线联系人" not in three_line_html


def test_the_archive_shows_audit_history_only_to_auditors(world, login, archive):
    auditor_html = page(login(world.user("auditor")), "registry:household", archive)
    assert "最近改动" in auditor_html and "外出务工迁出" in auditor_html
    worker_html = page(login(world.user("grid_worker_a1_1")), "registry:household", archive)
    assert "最近改动" not in worker_html


def test_reveal_buttons_appear_only_for_those_who_may_reveal(world, login, archive):
    reveal_url = url("registry:person-reveal", world.persons["A1-1"])
    assert reveal_url in page(login(world.user("grid_worker_a1_1")), "registry:household", archive)
    for persona in ("auditor", "three_line_a1"):
        assert reveal_url not in page(login(world.user(persona)), "registry:household", archive)


def test_the_household_page_costs_the_same_queries_for_many_members(world, login, django_assert_max_num_queries):
    h = world.households["A1-1"]
    for i in range(10):
        services.person_create(actor=world.system, household=h, relation="child", name=f"张{i}",
                               id_number=new_id(birth=dt.date(2000 + i, 1, 1)), phone=f"1390000{i:04d}")
    for persona in ("town_secretary_a", "auditor"):
        client = login(world.user(persona))
        with django_assert_max_num_queries(13):  # 12, +1: the session's second-factor device (django-otp)
            html = page(client, "registry:household", h)
        assert "张9" in html


def test_the_person_page(world, login):
    person = world.persons["A1-1"]
    html = page(login(world.user("grid_worker_a1_1")), "registry:person", person)
    assert "张建国" in html and "138****5678" in html and person.id_number not in html
    assert url("registry:household", world.households["A1-1"]) in html
    assert url("registry:person-reveal", person) in html


def test_a_three_line_persons_page_lists_the_households_they_keep_in_touch_with(world, login):
    html = page(login(world.user("village_secretary_a1")), "registry:person", world.persons["party_member"])
    assert "联系的农户" in html and url("registry:household", world.households["A1-1"]) in html


# --- reveal ------------------------------------------------------------------------------------


def _reveals(person):
    return AuditLog.objects.filter(action="reveal", object_type="registry.person", object_id=str(person.pk))


def test_reveal_with_htmx_swaps_in_the_value_and_is_audited(world, login):
    person = world.persons["A1-1"]
    client = login(world.user("grid_worker_a1_1"))
    response = client.post(url("registry:person-reveal", person), {"field": "phone", "back": "household"},
                           HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    html = response.content.decode()
    assert "13812345678" in html and "<html" not in html and 'href="tel:13812345678"' in html
    assert "no-store" in response["Cache-Control"]
    row = _reveals(person).get()
    assert row.actor_username == "grid_worker_a1_1" and "phone" in row.note


def test_reveal_without_htmx_renders_the_page_again_with_the_value(world, login):
    person = world.persons["A1-1"]
    client = login(world.user("grid_worker_a1_1"))
    response = client.post(url("registry:person-reveal", person), {"field": "id_number", "back": "household"})
    html = response.content.decode()
    assert response.status_code == 200 and "<html" in html
    assert person.id_number in html
    assert world.persons["A1-1-spouse"].id_number not in html  # only the one asked for
    # nothing is remembered: the next visit shows the masked value again
    assert person.id_number not in page(client, "registry:household", world.households["A1-1"])
    response = client.post(url("registry:person-reveal", person), {"field": "phone", "back": "person"})
    assert "13812345678" in response.content.decode() and "联系的农户" not in response.content.decode()
    assert _reveals(person).count() == 2


def test_reveal_refusals_write_no_audit_row(world, login):
    person = world.persons["A1-1"]
    assert login(world.user("grid_worker_a1_1")).get(url("registry:person-reveal", person)).status_code == 405
    assert login(world.user("grid_worker_a1_1")).post(
        url("registry:person-reveal", person), {"field": "birth_date"}).status_code == 400
    assert login(world.user("three_line_a1")).post(
        url("registry:person-reveal", person), {"field": "phone"}).status_code == 403
    assert login(world.user("outsider_b")).post(
        url("registry:person-reveal", person), {"field": "phone"}).status_code == 404
    assert login(world.user("grid_worker_a1_1")).post(
        url("registry:person-reveal", world.persons["A1-2"]), {"field": "phone"}).status_code == 404
    assert not AuditLog.objects.filter(action="reveal").exists()


# --- audit trail -------------------------------------------------------------------------------


def test_the_audit_trail_filters_by_object_action_actor_and_date(world, login):
    person = world.persons["A1-1"]
    services.person_reveal_field(actor=world.user("grid_worker_a1_1"), person=person, field="phone")
    client = login(world.user("auditor"))
    html = page(client, "audit:list")
    assert "审计记录" in html and "张建国" in html
    html = page(client, "audit:list", type="registry.person", id=person.pk, action="reveal")
    assert "grid_worker_a1_1" in html and "共 1 条记录" in html
    html = page(client, "audit:list", actor="grid_worker_a1_1")
    assert "共 1 条记录" in html
    today = dt.date.today()
    assert "共 1 条记录" in page(client, "audit:list", action="reveal", since=today.isoformat(),
                                until=today.isoformat())
    assert "共 0 条记录" in page(client, "audit:list", action="reveal",
                                since=(today + dt.timedelta(days=1)).isoformat())
    html = page(client, "audit:list", action="reveal", since="not-a-date")
    assert "部分筛选条件有误" in html and "共 1 条记录" in html  # the valid filter still applies


def test_the_audit_trail_is_paginated(world, login):
    total = AuditLog.objects.count()
    assert total > 20
    client = login(world.user("auditor"))
    # 50 a page: make sure there are two pages
    for _ in range(51 - total):
        services.person_reveal_field(actor=world.system, person=world.persons["B1"], field="phone")
    html = page(client, "audit:list")
    assert "第 1 页，共 2 页" in html and "?page=2" in html
    assert "第 2 页，共 2 页" in page(client, "audit:list", page=2)


def test_an_auditor_of_one_town_sees_only_that_towns_records(world, login):
    role = Role.objects.create(code="town_auditor", name="镇审计员", scope_kind="region")
    role.permissions.set(Role.objects.get(code="auditor").permissions.all())
    user = world.users["outsider_b"]
    RoleAssignment.objects.create(user=user, role=role, region=world.regions["B"])
    html = page(login(user), "audit:list", type="registry.person")
    assert "赵春花" in html
    assert "张建国" not in html and "李秀英" not in html


# --- language ----------------------------------------------------------------------------------


def test_pages_follow_the_browsers_language_and_default_to_chinese(world, login):
    client = login(world.user("grid_worker_a1_1"))
    household = world.households["A1-1"]
    assert "家庭成员" in page(client, "registry:household", household)
    english = client.get(url("registry:household", household), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Members (2)" in english and "Head of household" in english

