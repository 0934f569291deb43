"""Who sees which case, the queues built on that, notifications, attachments, the catalogue and roles."""
from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import Permission
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import Http404

from gongzhi.accounts.models import Role
from gongzhi.cases import selectors, services
from gongzhi.cases.catalogue import CATEGORIES, TIME_LIMIT_DEFAULTS
from gongzhi.cases.choices import CaseStatus as S
from gongzhi.cases.models import Case, CaseCategory, Notification, TimeLimitDefault
from gongzhi.cases.notifications import ConsoleSMSBackend, notification_list, notification_mark_read
from gongzhi.core.scoping import access_object

from .helpers import register, to_in_progress_at_village

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def spread(cw):
    """One case in each place, each registered by someone entitled to."""
    cases = {
        "A1-1": register(cw, title="一组"),
        "A1-2": register(cw, by="village_secretary_a1", grid="A1-2", requester=None, title="二组"),
        "A2": register(cw, by="town_secretary_a", grid="A2", requester=None, title="月河村"),
        "B1": register(cw, by="outsider_b", grid="B1", requester=None, title="紫云村"),
        "three_line": register(cw, by="three_line_a1", grid="A1-1", requester=None, title="三线",
                               channel="three_line"),
    }
    dispatcher = cw.user("county_dispatcher")
    dept = register(cw, by="county_dispatcher", code="demand-housing-safety", grid=None, region="B1",
                    requester=None, title="住建", channel="hotline")
    dept = services.case_accept(actor=dispatcher, case=dept)
    cases["dept"] = services.case_assign(actor=dispatcher, case=dept, department=cw.civil_affairs)
    return cases


VISIBLE = {
    "county_secretary": {"A1-1", "A1-2", "A2", "B1", "three_line", "dept"},
    "county_dispatcher": {"A1-1", "A1-2", "A2", "B1", "three_line", "dept"},
    "town_secretary_a": {"A1-1", "A1-2", "A2", "three_line"},
    "town_dispatcher_a": {"A1-1", "A1-2", "A2", "three_line"},
    "village_secretary_a1": {"A1-1", "A1-2", "three_line"},
    "grid_worker_a1_1": {"A1-1", "three_line"},
    "three_line_a1": {"three_line"},
    "outsider_b": {"B1", "dept"},
    "department_handler": {"dept"},
    "housing_handler": set(),
    "auditor": {"A1-1", "A1-2", "A2", "B1", "three_line", "dept"},
}


@pytest.mark.parametrize("persona", sorted(VISIBLE))
def test_each_persona_sees_exactly_their_cases(cw, spread, persona):
    titles = {case.pk: key for key, case in spread.items()}
    seen = {titles[pk] for pk in Case.objects.visible_to(cw.user(persona)).values_list("pk", flat=True)}
    assert seen == VISIBLE[persona]


def test_a_summoned_department_sees_the_case_without_duplicates(cw, spread):
    town = cw.user("town_secretary_a")
    case = spread["A2"]
    case = services.case_accept(actor=town, case=case)
    case = services.case_assign(actor=town, case=case, region=cw.regions["A"])
    case = services.case_sign(actor=town, case=case)
    services.case_summon(actor=town, case=case, departments=[cw.housing], reason="排查危房")
    services.case_summon(actor=town, case=case, departments=[cw.civil_affairs], reason="救助")
    housing = cw.user("housing_handler")
    assert list(Case.objects.visible_to(housing).values_list("pk", flat=True)) == [case.pk]
    civil = Case.objects.visible_to(cw.user("department_handler")).values_list("pk", flat=True)
    assert sorted(civil) == sorted([case.pk, spread["dept"].pk])


def test_access_is_403_without_permission_and_404_out_of_scope(cw, spread):
    case = spread["A1-1"]
    with pytest.raises(Http404):
        selectors.case_get(user=cw.user("outsider_b"), pk=case.pk)
    with pytest.raises(PermissionDenied):
        access_object(Case.objects.all(), cw.user("auditor"), "cases.dispatch_case", pk=case.pk)
    assert selectors.case_get(user=cw.user("grid_worker_a1_1"), number=case.number) == case


def test_queues(cw, spread):
    dispatcher = cw.user("town_dispatcher_a")
    bench = selectors.dispatcher_workbench(user=dispatcher)
    assert bench["counts"][S.REGISTERED] == 4
    assert {c.title for c in bench["to_accept"]} == {"一组", "二组", "月河村", "三线"}
    # an overdue acceptance shows in the overdue queue
    Case.objects.filter(pk=spread["A2"].pk).update(acceptance_due_at=dt.datetime(2026, 1, 5, tzinfo=dt.UTC))
    assert [c.title for c in selectors.dispatcher_workbench(user=dispatcher)["overdue"]] == ["月河村"]
    assert [c.title for c in selectors.handler_queue(user=cw.user("department_handler"))] == ["住建"]
    case = to_in_progress_at_village(cw, spread["A1-2"])
    assert list(selectors.handler_queue(user=cw.user("village_secretary_a1"))) == [case]
    assert list(selectors.handler_queue(user=cw.user("grid_worker_a1_1"))) == []
    services.case_report_result(actor=cw.user("village_secretary_a1"), case=case, result="已处理")
    assert [c.pk for c in selectors.secretary_queue(user=cw.user("town_secretary_a"))] == [case.pk]
    services.case_instruct(actor=cw.user("town_secretary_a"), case=case, instruction="请核实后回复")
    ledgers = selectors.secretary_ledgers(user=cw.user("town_secretary_a"))
    assert ledgers["ledgers"]["opinion"]["received"] == 4
    assert [e.note for e in ledgers["instructions"]] == ["请核实后回复"]
    # a department's summons queue is empty until it is summoned
    assert list(selectors.summons_queue(user=cw.user("housing_handler"))) == []


def test_search_matches_numbers_titles_and_visible_requesters(cw, spread):
    secretary = cw.user("village_secretary_a1")
    assert list(selectors.case_list(user=secretary, text="张建国")) == [spread["A1-1"]]
    assert list(selectors.case_list(user=secretary, text=spread["A1-2"].number)) == [spread["A1-2"]]
    assert not selectors.case_list(user=cw.user("outsider_b"), text="张建国").exists()


def test_the_requester_follows_the_case_with_the_tracking_code(cw, spread):
    case = spread["A1-1"]
    services.case_accept(actor=cw.user("village_secretary_a1"), case=case)
    services.case_urge(actor=cw.user("town_secretary_a"), case=case, note="内部催办")
    tracked = selectors.case_track(tracking_code=case.tracking_code.lower())
    assert tracked["number"] == case.number and tracked["status"] == S.ACCEPTED
    assert [s["kind"] for s in tracked["steps"]] == ["register", "accept"]
    assert "张建国" not in str(tracked)
    assert selectors.case_track(tracking_code="NOPE") is None


def test_the_inbox_and_emails_to_staff(cw, django_capture_on_commit_callbacks):
    secretary = cw.user("village_secretary_a1")
    secretary.email = "wuyi@example.org"
    secretary.save(update_fields=["email"])
    with django_capture_on_commit_callbacks(execute=True):
        case = register(cw)
    inbox = list(notification_list(user=secretary, unread_only=True))
    assert [n.kind for n in inbox] == ["registered"] and case.number in inbox[0].text
    assert [m.to for m in mail.outbox] == [["wuyi@example.org"]] and case.number in mail.outbox[0].body
    assert notification_mark_read(user=secretary) == 1
    assert not notification_list(user=secretary, unread_only=True).exists()
    # a failing step leaves no message behind
    with pytest.raises(PermissionDenied):
        services.case_accept(actor=cw.user("grid_worker_a1_1"), case=case)
    assert Notification.objects.filter(case=case).count() == 1


def test_the_console_sms_backend_prints(capsys):
    ConsoleSMSBackend().send("13800000000", "您反映的事项已受理")
    assert "[SMS to 13800000000] 您反映的事项已受理" in capsys.readouterr().out


def test_attachments_are_checked(cw, settings):
    case = to_in_progress_at_village(cw, register(cw))
    secretary = cw.user("village_secretary_a1")
    settings.MEDIA_ROOT = str(settings.MEDIA_ROOT) + "-test"
    photo = SimpleUploadedFile("现场.png", PNG, content_type="image/png")
    case = services.case_report_result(actor=secretary, case=case, result="已修复", attachments=[photo])
    attachment = case.attachments.get()
    assert (attachment.kind, attachment.content_type, attachment.size) == ("evidence", "image/png", len(PNG))
    assert attachment.event.kind == "report_result"
    with pytest.raises(ValidationError):
        services.case_attach(actor=secretary, case=case, file=SimpleUploadedFile("fake.png", b"MZ\x90\x00binary"))
    with pytest.raises(ValidationError):
        services.case_attach(actor=secretary, case=case, file=SimpleUploadedFile("run.exe", b"MZ\x90\x00"))
    settings.GONGZHI_CASE_ATTACHMENT_MAX_BYTES = 32
    with pytest.raises(ValidationError):
        services.case_attach(actor=secretary, case=case, file=SimpleUploadedFile("big.png", PNG))
    with pytest.raises(Http404):
        services.case_attach(actor=cw.user("outsider_b"), case=case, file=SimpleUploadedFile("a.txt", b"hi"))
    attachment.file.delete(save=False)


def test_the_default_catalogue_is_data(cw):
    assert CaseCategory.objects.filter(county__isnull=True).count() == len(CATEGORIES)
    assert TimeLimitDefault.objects.count() == len(TIME_LIMIT_DEFAULTS)
    ledgers = set(CaseCategory.objects.values_list("ledger", flat=True))
    assert ledgers == {"opinion", "demand", "complaint"}
    assert CaseCategory.objects.filter(is_dispute=True).exists()
    assert CaseCategory.objects.get(code="petition").is_petition
    # a county's own row overrides the default of the same code for that county only
    county = cw.regions["C"]
    services.category_save(actor=cw.user("county_dispatcher"), county=county, code="demand-housing-safety",
                           responsible_department=cw.housing, resolution_days=10)
    mine = services.category_for(county_id=county.pk, code="demand-housing-safety")
    assert (mine.county, mine.responsible_department, mine.resolution_days, mine.name) == (
        county, cw.housing, 10, "住房安全")
    assert services.category_for(county_id=None, code="demand-housing-safety").county is None
    assert CaseCategory.objects.for_county(county.pk).filter(code="demand-housing-safety").count() == 1
    # and the time limits follow the data
    case = register(cw, by="county_dispatcher", code="demand-housing-safety", grid=None, region="A1",
                    requester=None, channel="hotline")
    assert case.category == CaseCategory.objects.get(code="demand-housing-safety", county__isnull=True)
    TimeLimitDefault.objects.filter(limit="acceptance", kind="", ledger="").update(days=2)
    from gongzhi.core.workdays import add_working_days

    later = register(cw, by="county_dispatcher", code="opinion-public-service", grid=None, region="A1",
                     requester=None, channel="hotline")
    assert later.acceptance_due_at == add_working_days(later.received_at, 2)
    assert services.default_assignee(Case.objects.get(pk=case.pk)) == {"region": cw.regions["A"]}


def test_built_in_roles_carry_the_cases_permissions(cw):
    def perms(code):
        return set(Role.objects.get(code=code).permissions.filter(content_type__app_label="cases")
                   .values_list("codename", flat=True))

    assert {"dispatch_case", "view_complainant", "summon_department"} <= perms("dispatcher")
    assert Role.objects.get(code="dispatcher").scope_kind == "region"
    assert "view_complainant" not in perms("county_secretary") | perms("town_secretary") | perms("auditor")
    assert {"instruct_case", "approve_extension"} <= perms("county_secretary")
    assert {"add_case", "handle_case"} <= perms("grid_worker") & perms("three_line")
    assert perms("department_handler") >= {"view_case", "handle_case"}
    assert Permission.objects.filter(content_type__app_label="cases", codename="view_complainant").exists()
    assert perms("sysadmin") >= {"view_complainant", "dispatch_case"}


def test_corrections_are_audited_and_respect_confidentiality(cw):
    dispatcher = cw.user("town_dispatcher_a")
    case = register(cw, by="town_dispatcher_a", grid="A1-1", requester=None, requester_name="王某",
                    requester_phone="13700001111", channel="hotline")
    case = services.case_update(actor=dispatcher, case=case, grid=cw.grids["A1-2"], title="路灯不亮（二组）",
                                note="核实后更正地点")
    assert (case.grid, case.region, case.village_id, case.grid_path) == (
        cw.grids["A1-2"], cw.regions["A1"], cw.regions["A1"].pk, cw.grids["A1-2"].path)
    assert case.events.filter(kind="update", public=False).exists()
    with pytest.raises(PermissionDenied):  # the town secretary holds no change_case
        services.case_update(actor=cw.user("town_secretary_a"), case=case, title="x")
    with pytest.raises(PermissionDenied):  # moving it out of the dispatcher's town is rolled back
        services.case_update(actor=dispatcher, case=case, grid=cw.grids["B1"])
    assert Case.objects.get(pk=case.pk).town_id == cw.regions["A"].pk
    complaint = register(cw, by="county_dispatcher", code="complaint-service-quality", grid=None, region="A1",
                         requester=None, requester_name="欧阳某", requester_phone="13700002222", channel="hotline")
    role = Role.objects.get(code="dispatcher")
    role.permissions.remove(Permission.objects.get(content_type__app_label="cases", codename="view_complainant"))
    fresh = type(dispatcher).objects.get(pk=dispatcher.pk)
    with pytest.raises(PermissionDenied):
        services.case_update(actor=fresh, case=complaint, requester_phone="13700003333")


def test_time_limit_defaults_are_edited_as_data(cw):
    with pytest.raises(PermissionDenied):
        services.time_limit_save(actor=cw.user("county_dispatcher"), limit="resolution", kind="help", days=5)
    row = services.time_limit_save(actor=cw.world.system, limit="resolution", kind="help", days=5)
    assert TimeLimitDefault.objects.get(limit="resolution", kind="help", ledger="").days == 5 == row.days
    case = register(cw, code="demand-elderly-care")
    case = services.case_accept(actor=cw.user("village_secretary_a1"), case=case)
    from gongzhi.core.workdays import add_working_days

    assert case.resolution_due_at == add_working_days(case.accepted_at, 5)
