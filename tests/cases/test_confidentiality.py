"""Who filed a 投诉举报 case is visible only to dispatchers (and roles explicitly allowed), never to
the unit or person complained about — in selectors, search, notifications, exports or the audit
trail. Property-based: random places, complainants, complained-about units/persons and personas."""
from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from gongzhi.accounts.models import Role, RoleAssignment
from gongzhi.cases import selectors, services, statistics
from gongzhi.cases.models import Case, CaseCategory, CaseEvent, Notification
from gongzhi.cases.notifications import LocmemSMSBackend
from gongzhi.core.idcard import make_id_number
from gongzhi.core.models import AuditLog
from gongzhi.core.scoping import has_perm_anywhere
from gongzhi.registry import services as registry_services

from .conftest import add_login

GRIDS = ["A1-1", "A1-2", "A2", "B1"]
COMPLAINED = ["none", "civil_affairs", "housing", "person_li_xiuying", "person_li_qiang"]
TITLES = ["反映村务公开不及时", "投诉窗口工作人员态度差", "举报违规发放补贴", "反映工程质量问题", "投诉拖延办理"]
SURNAMES = "欧阳司马上官诸葛东方皇甫尉迟公孙慕容"
GIVEN = "翊骞翀斐曦珩玥琮瑾璟霁"


@pytest.fixture
def people(cw):
    """Logins tied to registry persons, so a complaint can name someone who uses the platform."""
    w = cw.world
    # 李秀英 (head of household A1-2) works as a second grid worker of grid A1-1
    add_login(w, "grid_worker_li", "grid_worker", "网格员李秀英", person=w.persons["A1-2"], grid=w.grids["A1-1"])
    for user in w.users.values():
        user.email = f"{user.username}@example.org"
        user.save(update_fields=["email"])
    return {"person_li_xiuying": w.persons["A1-2"], "person_li_qiang": w.persons["party_member"]}


def _complaint_categories():
    return list(CaseCategory.objects.filter(county__isnull=True, ledger="complaint", is_petition=False,
                                            requires_instruction=False))


def _expected_allowed(cw, username: str, case: Case, people) -> bool:
    """Independent of the code under test: who the rules say may see the complainant."""
    user = cw.user(username)
    conflicted = (case.complained_person_id and user.person_id == case.complained_person_id) or (
        case.complained_department_id and RoleAssignment.objects.filter(
            user=user, department_id=case.complained_department_id).exists())
    if conflicted:
        return False
    if username == "system":
        return True
    if username == "county_dispatcher":
        return True
    if username == "town_dispatcher_a":
        return case.town_id == cw.regions["A"].pk
    return False


def _everything_shown_to(user, case_ids) -> str:
    """All text the cases layer gives ``user``: lists, queues, search, timelines, notifications,
    emails, exports, audit rows."""
    chunks = []
    visible = selectors.case_list(user=user)
    for case in visible:
        chunks.append(json.dumps(selectors.case_as_dict(user=user, case=case), ensure_ascii=False, default=str))
        for event in selectors.case_timeline(user=user, case=case):
            chunks.append(f"{event.note} {json.dumps(event.data, ensure_ascii=False)}")
    for queue in (selectors.handler_queue(user=user), selectors.secretary_queue(user=user)):
        chunks += [json.dumps(selectors.case_as_dict(user=user, case=c), ensure_ascii=False, default=str)
                   for c in queue]
    if has_perm_anywhere(user, "cases.dispatch_case"):
        bench = selectors.dispatcher_workbench(user=user)
        for key in ("to_accept", "to_assign", "overdue", "due_soon"):
            chunks += [c.title for c in bench[key]]
    for summons in selectors.summons_queue(user=user, pending_only=False):
        chunks.append(f"{summons.reason} {summons.case.title}")
    chunks += list(Notification.objects.filter(user=user).values_list("text", flat=True))
    chunks += [f"{m.subject} {m.body}" for m in mail.outbox if user.email in m.to]
    chunks += [" ".join(str(v) for v in row) for row in statistics.case_export_rows(user=user, queryset=visible)]
    if has_perm_anywhere(user, "cases.export_case"):
        book = load_workbook(io.BytesIO(statistics.case_export(actor=user)))
        chunks += [" ".join(str(c.value) for c in row if c.value is not None) for row in book.active.iter_rows()]
    if has_perm_anywhere(user, "core.view_auditlog"):
        for row in AuditLog.objects_scoped.visible_to(user, "core.view_auditlog").filter(
                object_type="cases.case", object_id__in=[str(pk) for pk in case_ids]):
            chunks.append(json.dumps([row.before, row.after, row.note, row.object_repr], ensure_ascii=False))
    return "\n".join(chunks)


@st.composite
def complaints(draw):
    name = draw(st.sampled_from(["欧阳", "司马", "上官", "诸葛", "东方", "慕容"])) + "".join(
        draw(st.lists(st.sampled_from(GIVEN), min_size=2, max_size=2)))
    phone = "1" + draw(st.sampled_from("3589")) + "".join(draw(st.lists(st.sampled_from("0123456789"),
                                                                       min_size=9, max_size=9)))
    return {
        "grid": draw(st.sampled_from(GRIDS)),
        "complained": draw(st.sampled_from(COMPLAINED)),
        "name": name,
        "phone": phone,
        "registered_person": draw(st.booleans()),
        "title": draw(st.sampled_from(TITLES)),
        "category": draw(st.integers(min_value=0, max_value=20)),
        "assign_to": draw(st.sampled_from(["civil_affairs", "housing", "village", "town"])),
        "summon": draw(st.booleans()),
        "persona": draw(st.sampled_from([
            "county_secretary", "town_secretary_a", "village_secretary_a1", "grid_worker_a1_1", "grid_worker_li",
            "department_handler", "housing_handler", "outsider_b", "auditor", "three_line_a1",
            "county_dispatcher", "town_dispatcher_a", "system"])),
    }


class Rollback(Exception):
    pass


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(data=complaints())
def test_the_complainant_is_never_shown_to_those_not_allowed(cw, people, django_capture_on_commit_callbacks,
                                                             settings, data):
    settings.GONGZHI_SMS_BACKEND = "gongzhi.cases.notifications.LocmemSMSBackend"
    mail.outbox = []
    LocmemSMSBackend.outbox.clear()
    try:
        with transaction.atomic():
            _one_example(cw, people, django_capture_on_commit_callbacks, data)
            raise Rollback
    except Rollback:
        pass


def _one_example(cw, people, capture, data):
    grid = cw.grids[data["grid"]]
    dispatcher = cw.user("county_dispatcher")
    categories = _complaint_categories()
    category = categories[data["category"] % len(categories)]
    id_number = ""
    requester = None
    with capture(execute=True):
        if data["registered_person"]:
            household = cw.world.households[data["grid"]]
            id_number = make_id_number("610921", dt.date(1975, 3, 9),
                                       abs(hash(data["name"] + data["phone"])) % 900 + 50, True)
            requester = registry_services.person_create(
                actor=cw.world.system, household=household, relation="other", name=data["name"],
                id_number=id_number, phone=data["phone"])
        complained = data["complained"]
        kwargs = {}
        if complained in ("civil_affairs", "housing"):
            kwargs["complained_department"] = cw.civil_affairs if complained == "civil_affairs" else cw.housing
        elif complained != "none":
            kwargs["complained_person"] = people[complained]
        case = services.case_register(
            actor=dispatcher, category=category, grid=grid, title=data["title"],
            description="群众来电反映有关问题，请核实处理。", channel="hotline", requester=requester,
            requester_name="" if requester else data["name"], requester_phone="" if requester else data["phone"],
            **kwargs)
        case = services.case_accept(actor=dispatcher, case=case)
        target = {"civil_affairs": {"department": cw.civil_affairs}, "housing": {"department": cw.housing},
                  "village": {"region": grid.region if grid.region.level == 3 else grid.region.parent},
                  "town": {"region": cw.regions["A"] if case.town_id == cw.regions["A"].pk else cw.regions["B"]},
                  }[data["assign_to"]]
        try:
            case = services.case_assign(actor=dispatcher, case=case, **target)
        except services.RecusalRequired:
            assert CaseEvent.objects.filter(case=case, kind="recusal").exists()
            case = Case.objects.get(pk=case.pk)
        if case.status == "assigned" and data["summon"] and case.current_level == "town":
            try:
                services.case_summon(actor=cw.user("county_dispatcher"), case=case,
                                     departments=[cw.civil_affairs, cw.housing], reason="请派员参加联合调查")
            except services.RecusalRequired:
                pass
    case.refresh_from_db()

    secrets = [data["name"], data["phone"]] + ([id_number] if id_number else [])
    persona = data["persona"]
    user = cw.user(persona)
    shown = _everything_shown_to(user, [case.pk])
    allowed = _expected_allowed(cw, persona, case, people)
    view = selectors.case_requester_view(user=user, case=case)
    if Case.objects.visible_to(user).filter(pk=case.pk).exists():
        assert data["title"] in shown  # the case is in what we searched: the check below means something
    if allowed:
        assert view.visible and view.name == data["name"]
    else:
        assert not view.visible and view.person_id is None
        for secret in secrets:
            assert secret not in shown, f"{persona} was shown {secret!r}"
        assert not selectors.case_list(user=user, text=data["name"]).exists()
        assert not selectors.case_list(user=user, text=data["phone"][-8:]).exists()
    # calling the requester back: only for someone allowed to see them, never for the accused
    reveals_before = AuditLog.objects.filter(action="reveal", object_id=str(case.pk)).count()
    try:
        revealed = services.case_reveal_requester_phone(actor=user, case=case)
    except (PermissionDenied, Http404, ValidationError):
        revealed = None
    reveals = AuditLog.objects.filter(action="reveal", object_id=str(case.pk)).count() - reveals_before
    if revealed is not None:
        assert allowed and revealed == case.requester_phone and reveals == 1
        assert selectors.may_reveal_requester_phone(user=user, case=case)
    else:
        assert reveals == 0
    if not allowed:
        assert revealed is None
    # the unit or person complained about never sees the case, nor hears of it
    conflicted = (case.complained_person_id and user.person_id == case.complained_person_id) or (
        case.complained_department_id and RoleAssignment.objects.filter(
            user=user, department_id=case.complained_department_id).exists())
    if conflicted:
        assert not Case.objects.visible_to(user).filter(pk=case.pk).exists()
        assert not Notification.objects.filter(user=user, case=case).exists()
        assert case.assignee_department_id != case.complained_department_id or case.assignee_department_id is None


def test_assigning_to_the_complained_unit_is_refused_and_the_recusal_kept(cw):
    dispatcher = cw.user("county_dispatcher")
    category = CaseCategory.objects.get(county__isnull=True, code="complaint-service-quality")
    case = services.case_register(actor=dispatcher, category=category, region=cw.regions["A1"],
                                  title="投诉民政窗口推诿", description="多次办理低保被推诿", channel="hotline",
                                  requester_name="欧阳翊骞", requester_phone="13900001234",
                                  complained_department=cw.civil_affairs)
    case = services.case_accept(actor=dispatcher, case=case)
    with pytest.raises(services.RecusalRequired):
        services.case_assign(actor=dispatcher, case=case, department=cw.civil_affairs)
    recusal = CaseEvent.objects.get(case=case, kind="recusal")
    assert "被投诉举报的单位" in recusal.note and not recusal.public
    assert Case.objects.get(pk=case.pk).status == "accepted"
    with pytest.raises(ValidationError):  # a RecusalRequired is a ValidationError
        services.case_assign(actor=dispatcher, case=case, department=cw.civil_affairs)
    case = services.case_assign(actor=dispatcher, case=case, department=cw.housing)
    assert case.assignee_department == cw.housing
    civil = cw.user("department_handler")
    assert not selectors.case_list(user=civil).filter(pk=case.pk).exists()
    assert selectors.case_requester_view(user=cw.user("housing_handler"), case=case).name == "（保密）"
    assert selectors.case_requester_view(user=dispatcher, case=case).phone == "139****1234"
    assert services.case_snapshot(case)["requester_name"] == "（保密）"


def test_a_complaint_about_a_person_cannot_go_to_their_grid(cw, people):
    dispatcher = cw.user("county_dispatcher")
    category = CaseCategory.objects.get(county__isnull=True, code="complaint-service-quality")
    case = services.case_register(actor=dispatcher, category=category, grid=cw.grids["A1-1"],
                                  title="投诉网格员", description="入户时态度恶劣", channel="hotline",
                                  requester_name="司马瑾璟", requester_phone="13500005678",
                                  complained_person=people["person_li_xiuying"])
    li = cw.user("grid_worker_li")
    assert not Case.objects.visible_to(li).filter(pk=case.pk).exists()
    case = services.case_accept(actor=dispatcher, case=case)
    with pytest.raises(services.RecusalRequired):
        services.case_assign(actor=dispatcher, case=case, grid=cw.grids["A1-1"])
    with pytest.raises(services.RecusalRequired):
        services.case_assign(actor=dispatcher, case=case, region=cw.regions["A"], handler=li)
    case = services.case_assign(actor=dispatcher, case=case, region=cw.regions["A"])
    assert case.current_level == "town"
    assert not Notification.objects.filter(user=li).exists()


def test_non_complaint_requesters_are_shown_masked_to_the_case_viewers(cw):
    from .helpers import register

    case = register(cw)
    view = selectors.case_requester_view(user=cw.user("village_secretary_a1"), case=case)
    assert view.visible and view.name == "张建国" and view.phone == "138****5678"
    assert selectors.case_requester_view(user=cw.user("outsider_b"), case=case).visible is False
    with pytest.raises(Exception):
        services.case_reveal_requester_phone(actor=cw.user("three_line_a1"), case=case)
    assert services.case_reveal_requester_phone(actor=cw.user("village_secretary_a1"), case=case) == "13812345678"
    assert AuditLog.objects.filter(action="reveal", object_type="cases.case", object_id=str(case.pk)).exists()


def test_a_role_granted_view_complainant_sees_it(cw):
    """Roles are data: a county can allow another role explicitly."""
    from django.contrib.auth.models import Permission

    role = Role.objects.create(code="discipline", name="纪检监察", scope_kind="region")
    role.permissions.set(Permission.objects.filter(content_type__app_label="cases",
                                                   codename__in=["view_case", "view_complainant"]))
    user = add_login(cw.world, "discipline_c", "discipline", "县纪委", region=cw.regions["C"])
    dispatcher = cw.user("county_dispatcher")
    category = CaseCategory.objects.get(county__isnull=True, code="complaint-cadre-conduct")
    case = services.case_register(actor=dispatcher, category=category, region=cw.regions["B1"],
                                  title="举报村干部", description="优亲厚友", channel="hotline",
                                  requester_name="上官曦珩", requester_phone="13800009999")
    assert selectors.case_requester_view(user=user, case=case).name == "上官曦珩"
    assert selectors.case_list(user=user, text="上官曦珩").count() == 1
    assert selectors.case_list(user=cw.user("county_secretary"), text="上官曦珩").count() == 0


def test_seeing_a_case_is_not_enough_to_reveal_the_requesters_phone(cw):
    """A grid worker of the place sees the case but does not handle it once the county gives it to
    a department: the phone stays masked for them."""
    from .helpers import register

    dispatcher = cw.user("county_dispatcher")
    case = services.case_accept(actor=dispatcher, case=register(cw))
    case = services.case_assign(actor=dispatcher, case=case, department=cw.civil_affairs)
    grid_worker = cw.user("grid_worker_a1_1")
    assert Case.objects.visible_to(grid_worker).filter(pk=case.pk).exists()
    assert not selectors.may_reveal_requester_phone(user=grid_worker, case=case)
    with pytest.raises(PermissionDenied):
        services.case_reveal_requester_phone(actor=grid_worker, case=case)
    assert not AuditLog.objects.filter(action="reveal", object_id=str(case.pk)).exists()
