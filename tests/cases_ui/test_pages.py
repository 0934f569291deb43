"""The other cases pages: overview, lists and queues, the secretary's ledgers and bulletin,
statistics and their Excel exports, the inbox (htmx), the catalogue and time limits; bad input
never gives a 500; lists keep a fixed number of queries."""
from __future__ import annotations

import datetime as dt

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from gongzhi.cases import services
from gongzhi.cases.models import Case, CaseCategory, Notification, TimeLimitDefault
from gongzhi.core.models import AuditLog

from .conftest import act, category, xlsx_text


def _case(cw, by="grid_worker_a1_1", code="opinion-village-affairs", grid="A1-1", **extra):
    kwargs = dict(actor=cw.user(by), category=category(code), title=extra.pop("title", "村道路灯不亮"),
                  description="坏了两周", channel="grid_patrol", requester_name="张建国",
                  requester_phone="13812345678", **extra)
    if grid:
        kwargs["grid"] = cw.grids[grid]
    return services.case_register(**kwargs)


def test_the_overview_shows_what_waits(cw, as_user):
    _case(cw)
    html = as_user(cw.user("village_secretary_a1")).get(reverse("cases:home")).content.decode()
    assert "民情" in html and reverse("cases:workbench") in html and reverse("cases:secretary") in html
    html = as_user(cw.user("department_handler")).get(reverse("cases:home")).content.decode()
    assert reverse("cases:workbench") not in html and reverse("cases:queue") in html


def test_the_list_filters_and_searches(cw, as_user):
    _case(cw, title="村道路灯不亮")
    _case(cw, title="垃圾清运不及时", code="demand-small-matter")
    client = as_user(cw.user("village_secretary_a1"))
    page = client.get(reverse("cases:list"), {"q": "垃圾"})
    assert [c.title for c in page.context["page"]] == ["垃圾清运不及时"]
    page = client.get(reverse("cases:list"), {"ledger": "opinion", "status": "registered"})
    assert [c.title for c in page.context["page"]] == ["村道路灯不亮"]
    # a filter that does not validate is left out (and shown), never a 500
    page = client.get(reverse("cases:list"), {"status": "nope", "category": "x" * 300, "page": "abc"})
    assert page.status_code == 200 and page.context["page"].paginator.count == 2


def test_the_workbench_shows_queues_by_state(cw, as_user):
    accepted = _case(cw, title="已受理的案件")
    services.case_accept(actor=cw.user("village_secretary_a1"), case=accepted)
    _case(cw, title="待受理的案件")
    late = _case(cw, title="超期的案件")
    Case.objects.filter(pk=late.pk).update(acceptance_due_at=late.received_at - dt.timedelta(days=2))
    page = as_user(cw.user("town_dispatcher_a")).get(reverse("cases:workbench"))
    assert page.status_code == 200
    queues = {q["key"]: [c.title for c in q["rows"]] for q in page.context["queues"]}
    assert queues["to_assign"] == ["已受理的案件"] and queues["overdue"] == ["超期的案件"]
    assert set(queues["to_accept"]) == {"待受理的案件", "超期的案件"}
    full = as_user(cw.user("town_dispatcher_a")).get(reverse("cases:workbench"), {"queue": "to_accept"})
    assert full.context["page"].paginator.count == 2
    assert as_user(cw.user("department_handler")).get(reverse("cases:workbench")).status_code == 403


def _fill(cw, n: int):
    """n cases in several states, each with a few timeline steps."""
    secretary = cw.user("village_secretary_a1")
    for i in range(n):
        case = _case(cw, title=f"案件{i}")
        if i % 3:
            case = services.case_accept(actor=secretary, case=case)
        if i % 3 == 2:
            case = services.case_assign(actor=secretary, case=case, region=cw.regions["A1"])
            services.case_urge(actor=secretary, case=case, note="请尽快")


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_the_workbench_and_lists_keep_a_fixed_number_of_queries(cw, as_user):
    client = as_user(cw.user("town_secretary_a"))
    _fill(cw, 3)
    few = {name: _queries(client, reverse(name)) for name in ("cases:workbench", "cases:list", "cases:queue")}
    _fill(cw, 12)
    many = {name: _queries(client, reverse(name)) for name in ("cases:workbench", "cases:list", "cases:queue")}
    assert few == many
    assert many["cases:workbench"] <= 25


def test_the_case_page_keeps_a_fixed_number_of_queries(cw, as_user, django_assert_max_num_queries):
    case = _case(cw)
    secretary = cw.user("village_secretary_a1")
    services.case_accept(actor=secretary, case=case)
    client = as_user(secretary)
    url = reverse("cases:detail", kwargs={"pk": case.pk})
    few = _queries(client, url)
    for i in range(15):
        services.case_urge(actor=cw.user("town_secretary_a"), case=case, note=f"第{i}次催办")
        services.case_instruct(actor=cw.user("county_secretary"), case=case, instruction=f"批示{i}")
    assert _queries(client, url) == few
    with django_assert_max_num_queries(40):
        client.get(url)


def test_the_secretary_sees_the_three_ledgers_and_the_bulletin(cw, as_user):
    case = _case(cw)
    services.case_instruct(actor=cw.user("village_secretary_a1"), case=case, instruction="抓紧办理")
    _case(cw, by="village_secretary_a1", code="complaint-service-quality", title="窗口态度差", grid=None,
          region=cw.regions["A1"])
    client = as_user(cw.user("village_secretary_a1"))
    page = client.get(reverse("cases:secretary"))
    html = page.content.decode()
    assert page.status_code == 200
    assert page.context["ledgers"]["opinion"]["received"] == 1 and page.context["ledgers"]["complaint"]["open"] == 1
    assert "意见建议" in html and "利益诉求" in html and "投诉举报" in html and "抓紧办理" in html
    assert page.context["stats"].total.counts["received"] == 2  # this quarter's bulletin
    assert page.context["region"] == cw.regions["A1"]
    last_year = client.get(reverse("cases:secretary"), {"quarter": f"{dt.date.today().year - 1}Q4"})
    assert last_year.context["stats"].total.counts["received"] == 0
    assert as_user(cw.user("grid_worker_a1_1")).get(reverse("cases:secretary")).status_code == 403


def test_statistics_and_exports(cw, as_user):
    secretary = cw.user("village_secretary_a1")
    case = _case(cw)
    case = services.case_accept(actor=secretary, case=case)
    case = services.case_assign(actor=secretary, case=case, region=cw.regions["A1"])
    case = services.case_sign(actor=secretary, case=case)
    case = services.case_report_result(actor=secretary, case=case, result="修好了")
    case = services.case_approve(actor=secretary, case=case)
    case = services.case_reply(actor=secretary, case=case, answer="修好了")
    case = services.case_record_satisfaction(actor=secretary, case=case, satisfaction="satisfied")
    services.case_close(actor=secretary, case=case)
    _case(cw, title="第二件")
    client = as_user(cw.user("town_secretary_a"))
    page = client.get(reverse("cases:statistics"), {"region": cw.regions["A1"].pk})
    stats = page.context["stats"]
    assert (stats.total.counts["received"], stats.total.counts["accepted"], stats.total.counts["closed"]) == (2, 1, 1)
    assert str(stats.total.closure_rate) == "100.00%" and "办结率" in page.content.decode()
    assert stats.settled_levels["village"] == 1
    # bad input: shown on the form, the statistic falls back to the whole scope
    page = client.get(reverse("cases:statistics"), {"region": "999999", "start": "2026-13-01", "basic_weight": "2"})
    assert page.status_code == 200 and page.context["form"].errors
    export = client.get(reverse("cases:statistics-export"), {"region": cw.regions["A1"].pk})
    assert export.status_code == 200 and export["Content-Type"].startswith("application/vnd.openxml")
    assert "办结率" in xlsx_text(export.content)
    ledger = client.get(reverse("cases:ledger-export"))
    text = xlsx_text(ledger.content)
    assert ledger.status_code == 200 and "村道路灯不亮" in text
    assert "138****5678" in text and "13812345678" not in text  # phones leave masked
    assert AuditLog.objects.filter(action="export", actor_username="town_secretary_a").count() == 2
    assert client.get(reverse("cases:ledger-export"), {"region": "nope"}).status_code == 404
    assert as_user(cw.user("grid_worker_a1_1")).get(reverse("cases:statistics-export")).status_code == 403
    assert as_user(cw.user("auditor")).get(reverse("cases:statistics")).status_code == 200


def test_the_inbox_marks_messages_read_with_htmx(cw, as_user):
    _case(cw)
    secretary = cw.user("village_secretary_a1")
    client = as_user(secretary)
    page = client.get(reverse("cases:inbox"))
    message = Notification.objects.filter(user=secretary).first()
    assert message.text in page.content.decode()
    response = client.post(reverse("cases:inbox-read"), {"ids": str(message.pk)}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and f'id="n-{message.pk}"' in response.content.decode()
    assert "Mark read" not in response.content.decode() and "标为已读" not in response.content.decode()
    message.refresh_from_db()
    assert message.read_at is not None
    assert client.post(reverse("cases:inbox-read"), {"ids": "1,x"}).status_code == 400
    # someone else's message is not theirs to mark
    other = Notification.objects.exclude(user=secretary).first()
    if other:
        client.post(reverse("cases:inbox-read"), {"ids": str(other.pk)})
        other.refresh_from_db()
        assert other.read_at is None
    assert client.post(reverse("cases:inbox-read"), {}).status_code == 302
    assert not Notification.objects.filter(user=secretary, read_at__isnull=True).exists()


def test_the_catalogue_is_edited_by_the_county_dispatcher_only(cw, as_user):
    county = cw.regions["C"]
    client = as_user(cw.user("county_dispatcher"))
    page = client.get(reverse("cases:categories"))
    assert page.status_code == 200 and page.context["can_edit"] and "养老服务" in page.content.decode()
    url = reverse("cases:category-edit", kwargs={"county": county.pk, "code": "demand-elderly-care"})
    form = client.get(url)
    assert form.status_code == 200 and form.context["form"].initial["name"] == "养老服务"
    data = dict(form.context["form"].initial)
    data = {k: ("" if v is None else v) for k, v in data.items() if v is not False}
    data.update({"name": "养老服务（含居家养老）", "resolution_days": "5", "responsible_department": cw.civil_affairs.pk})
    response = client.post(url, data)
    assert response.status_code == 302, response.context["form"].errors
    own = CaseCategory.objects.get(county=county, code="demand-elderly-care")
    assert (own.name, own.resolution_days, own.responsible_department) == ("养老服务（含居家养老）", 5, cw.civil_affairs)
    bad = client.post(reverse("cases:category-new", kwargs={"county": county.pk}),
                      {"code": "Bad Code!", "name": "x", "ledger": "opinion", "kind": "other",
                       "default_level": "village", "sort_order": "0"})
    assert bad.status_code == 200 and "编码只能用小写字母" in bad.content.decode()
    assert as_user(cw.user("town_dispatcher_a")).get(url).status_code == 404
    assert as_user(cw.user("town_secretary_a")).get(url).status_code == 403
    assert as_user(cw.user("town_secretary_a")).get(reverse("cases:categories")).status_code == 200


def test_time_limits_are_data_edited_by_a_system_administrator(cw, as_user):
    assert as_user(cw.user("county_dispatcher")).get(reverse("cases:time-limits")).status_code == 200
    row = TimeLimitDefault.objects.get(ledger="", kind="", limit="acceptance")
    url = reverse("cases:time-limit-edit", kwargs={"pk": row.pk})
    assert as_user(cw.user("county_dispatcher")).get(url).status_code == 403
    client = as_user(cw.user("system"))
    assert client.post(url, {"days": "-1"}).status_code == 200
    assert client.post(url, {"days": "2", "note": "县里规定"}).status_code == 302
    row.refresh_from_db()
    assert (row.days, row.note, row.limit) == (2, "县里规定", "acceptance")
    assert client.post(reverse("cases:time-limit-new"), {"limit": "resolution", "ledger": "complaint",
                                                         "kind": "report", "days": "10"}).status_code == 302
    assert TimeLimitDefault.objects.filter(ledger="complaint", kind="report", limit="resolution", days=10).exists()


def test_the_register_form_loads_grids_for_a_village(cw, as_user):
    client = as_user(cw.user("town_secretary_a"))
    form = client.get(reverse("cases:register"))
    assert form.status_code == 200 and 'hx-get="/cases/new/grids/"' in form.content.decode()
    options = client.get(reverse("cases:register-grids"), {"region": cw.regions["A1"].pk}, HTTP_HX_REQUEST="true")
    html = options.content.decode()
    assert "五一村一组网格" in html and "紫云村网格" not in html
    assert "紫云村" not in client.get(reverse("cases:register-grids"), {"region": cw.regions["B1"].pk}).content.decode()
    worker = as_user(cw.user("grid_worker_a1_1")).get(reverse("cases:register"))
    assert [g.pk for g in worker.context["form"]._grids.values()] == [cw.grids["A1-1"].pk]
    assert as_user(cw.user("department_handler")).get(reverse("cases:register")).status_code == 403


def test_the_requesters_phone_is_revealed_on_request_and_audited(cw, as_user):
    case = _case(cw)
    client = as_user(cw.user("village_secretary_a1"))
    html = client.get(reverse("cases:detail", kwargs={"pk": case.pk})).content.decode()
    assert "138****5678" in html and "13812345678" not in html
    response = client.post(reverse("cases:reveal-phone", kwargs={"pk": case.pk}), HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and 'href="tel:13812345678"' in response.content.decode()
    assert AuditLog.objects.filter(action="reveal", object_type="cases.case", object_id=str(case.pk)).count() == 1
    assert as_user(cw.user("department_handler")).post(
        reverse("cases:reveal-phone", kwargs={"pk": case.pk})).status_code == 403
    assert as_user(cw.user("outsider_b")).post(
        reverse("cases:reveal-phone", kwargs={"pk": case.pk})).status_code == 404


def test_a_step_refused_by_the_service_explains_why(cw, as_user):
    """Seeing a case is not handling it: the service's reason is on the 403 page."""
    dispatcher = cw.user("county_dispatcher")
    case = services.case_register(actor=dispatcher, category=category("demand-elderly-care"),
                                  region=cw.regions["A1"], title="养老", description="需要照料", channel="hotline")
    case = services.case_accept(actor=dispatcher, case=case)
    case = services.case_assign(actor=dispatcher, case=case, department=cw.civil_affairs)
    client = as_user(cw.user("village_secretary_a1"))
    html = client.get(reverse("cases:detail", kwargs={"pk": case.pk})).content.decode()
    assert "act-sign" not in html  # not offered: the case is the civil affairs bureau's
    response = act(client, case, "sign")
    assert response.status_code == 403 and "本件不由你所在的单位承办" in response.content.decode()


def test_every_page_answers_in_chinese(cw, as_user):
    case = _case(cw)
    client = as_user(cw.user("town_secretary_a"))
    for url in [reverse("cases:home"), reverse("cases:list"), reverse("cases:workbench"), reverse("cases:queue"),
                reverse("cases:secretary"), reverse("cases:statistics"), reverse("cases:register"),
                reverse("cases:inbox"), reverse("cases:categories"), reverse("cases:time-limits"),
                reverse("cases:detail", kwargs={"pk": case.pk}),
                reverse("cases:act", kwargs={"pk": case.pk, "action": "accept"})]:
        html = client.get(url).content.decode()
        for english in ("What you can do now", "Timeline", "Register a case", "Statistics", "Inbox", "Overdue",
                        "Workbench", "Mark all read", "Category catalogue", "Nothing waiting", "Filter"):
            assert english not in html, (url, english)


def test_malformed_input_is_answered_never_with_a_500(cw, as_user, api_as):
    case = _case(cw)
    client = as_user(cw.user("town_secretary_a"))
    for url in ["/cases/99999999999999999999999/", "/cases/list/?q=%00&category=%00&level=q&overdue=maybe",
                "/cases/statistics/?region=99999999999999999999999&quarter=2026Q9&start=%00",
                "/cases/new/grids/?region=99999999999999999999999", "/cases/categories/?county=abc",
                "/cases/workbench/?queue=nope&page=-1", "/cases/inbox/?page=zz",
                f"/cases/{case.pk}/act/assign/?x=%00"]:
        # 400: a NUL character is refused for the whole site by core.middleware.RejectNulBytesMiddleware.
        assert client.get(url).status_code in (200, 400, 404), url
    for step, data in [("assign", {"assign-target": "department:abc"}), ("request_extension", {}),
                       ("urge", {"urge-note": "a\x00b"}), ("classify", {"classify-category": "9" * 30})]:
        response = client.post(reverse("cases:act", kwargs={"pk": case.pk, "action": step.replace("_", "-")}), data)
        assert response.status_code in (200, 400, 403), step
    assert client.post(reverse("cases:register"), {"title": "a\x00b", "grid": "1\x00", "category": "9" * 40,
                                                   "received_at": "2026-02-30T25:61"}).status_code in (200, 400)
    assert client.post(reverse("cases:register"), {"title": "ab", "grid": "1x", "category": "9" * 40,
                                                   "received_at": "2026-02-30T25:61"}).status_code == 200
    api = api_as(cw.user("town_secretary_a"))
    for url in ["/api/cases/?category=%00", "/api/cases/?q=a%00", "/api/cases/?region=abc",
                "/api/case-statistics/?quarter=%00", "/api/case-statistics/?region=99999999999999999999"]:
        assert api.get(url).status_code == 400, url
    for name, data in [("assign", {"grid": 99999999999999999999999}), ("classify", {"category": "x"}),
                       ("urge", {"note": "a\x00b"}), ("summon", {"departments": "x", "reason": 1})]:
        assert api.post(reverse(f"case-{name}", kwargs={"pk": case.pk}), data, format="json").status_code in (
            400, 403), name
    assert api.post(reverse("case-list"), {"category": 10 ** 30, "title": "x", "description": "y",
                                           "channel": "web", "region": 10 ** 20}, format="json").status_code == 400
