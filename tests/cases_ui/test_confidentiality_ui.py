"""Who filed a 投诉举报 case, at the page and API level: the unit or person complained about never
sees the complainant's name or phone — not on the case page, in lists or search, through the
API, in exports, or in their inbox; units handling the complaint see "（保密）"; the dispatcher
sees the name (and a masked phone)."""
from __future__ import annotations

import json

import pytest
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gongzhi.cases import services
from gongzhi.cases.models import Case, Notification

from .conftest import act, add_login, category, xlsx_text

NAME, PHONE = "欧阳翊骞", "13697531864"
MASKED = "136****1864"


@pytest.fixture
def complaint(cw):
    """A complaint about the civil affairs bureau and about 李秀英, who is also a town secretary
    of town A (so she holds the export and search permissions over the case's town)."""
    add_login(cw.world, "town_secretary_li", "town_secretary", "城关镇副书记李秀英", person=cw.persons["A1-2"],
              region=cw.regions["A"])
    dispatcher = cw.user("county_dispatcher")
    case = services.case_register(
        actor=dispatcher, category=category("complaint-service-quality"), region=cw.regions["A1"],
        title="投诉办事拖延", description="低保申请拖了三个月没人管", channel="hotline",
        requester_name=NAME, requester_phone=PHONE, complained_department=cw.civil_affairs,
        complained_person=cw.persons["A1-2"], complained_text="县民政局、李秀英")
    return services.case_accept(actor=dispatcher, case=case)


def _leaks(text: str) -> bool:
    return NAME in text or PHONE in text or MASKED in text


def test_the_complained_about_never_see_the_complainant(cw, complaint, as_user, api_as, media):
    dispatcher = as_user(cw.user("county_dispatcher"))
    # the case cannot go to the department complained about: refused on the page, the refusal kept
    response = act(dispatcher, complaint, "assign", target=f"department:{cw.civil_affairs.pk}")
    assert response.status_code == 200 and "被投诉举报的单位不得承办本件" in response.content.decode()
    assert complaint.events.filter(kind="recusal").exists()
    assert act(dispatcher, complaint, "assign", target=f"department:{cw.housing.pk}").status_code == 302
    services.case_urge(actor=cw.user("county_dispatcher"), case=complaint, note="请尽快")

    for username in ("department_handler", "town_secretary_li"):
        user = cw.user(username)
        client = as_user(user)
        assert client.get(reverse("cases:detail", kwargs={"pk": complaint.pk})).status_code == 404
        assert client.get(reverse("cases:list"), {"q": NAME}).context["page"].paginator.count == 0
        listed = client.get(reverse("cases:list")).content.decode()
        assert "投诉办事拖延" not in listed and not _leaks(listed)
        inbox = client.get(reverse("cases:inbox")).content.decode()
        assert not _leaks(inbox) and not Notification.objects.filter(user=user, case=complaint).exists()
        api = api_as(user)
        assert api.get(reverse("case-detail", kwargs={"pk": complaint.pk})).status_code == 404
        assert api.get(reverse("case-timeline", kwargs={"pk": complaint.pk})).status_code == 404
        everything = json.dumps(api.get(reverse("case-list")).json(), ensure_ascii=False)
        everything += json.dumps(api.get(reverse("case-list"), {"q": PHONE}).json(), ensure_ascii=False)
        everything += json.dumps(api.get(reverse("inbox-list")).json(), ensure_ascii=False)
        assert not _leaks(everything) and complaint.number not in everything
    # 李秀英 may export her town's ledger: the complaint is not in it
    li = as_user(cw.user("town_secretary_li"))
    ledger = li.get(reverse("cases:ledger-export"))
    assert ledger.status_code == 200
    assert complaint.number not in xlsx_text(ledger.content) and not _leaks(xlsx_text(ledger.content))
    api_ledger = api_as(cw.user("town_secretary_li")).get(reverse("case-export"))
    assert api_ledger.status_code == 200 and not _leaks(xlsx_text(api_ledger.content))
    assert as_user(cw.user("department_handler")).get(reverse("cases:ledger-export")).status_code == 403


def test_the_handling_unit_sees_the_case_but_not_who_filed_it(cw, complaint, as_user, api_as):
    services.case_assign(actor=cw.user("county_dispatcher"), case=complaint, department=cw.housing)
    for username in ("housing_handler", "town_secretary_a", "village_secretary_a1", "county_secretary", "auditor"):
        client = as_user(cw.user(username))
        page = client.get(reverse("cases:detail", kwargs={"pk": complaint.pk}))
        html = page.content.decode()
        assert page.status_code == 200 and "投诉办事拖延" in html, username
        assert not _leaks(html) and "保密" in html, username
        assert not _leaks(client.get(reverse("cases:list")).content.decode())
        # searching by the complainant's name or phone finds nothing
        assert client.get(reverse("cases:list"), {"q": NAME}).context["page"].paginator.count == 0
        api = api_as(cw.user(username))
        detail = api.get(reverse("case-detail", kwargs={"pk": complaint.pk})).json()
        assert detail["requester"] == {"visible": False, "name": "（保密）", "phone": "", "person_id": None,
                                       "anonymous": False}
        assert api.get(reverse("case-list"), {"q": PHONE[-4:]}).json()["count"] == 0
        assert not _leaks(json.dumps(api.get(reverse("case-list")).json(), ensure_ascii=False))
        inbox = json.dumps(api.get(reverse("inbox-list")).json(), ensure_ascii=False)
        assert not _leaks(inbox)
    town = as_user(cw.user("town_secretary_a"))
    export = xlsx_text(town.get(reverse("cases:ledger-export")).content)
    assert complaint.number in export and "（保密）" in export and not _leaks(export)
    # the phone cannot be revealed by someone who may not see the complainant
    assert town.post(reverse("cases:reveal-phone", kwargs={"pk": complaint.pk})).status_code == 404


def test_the_dispatcher_sees_the_complainant(cw, complaint, as_user, api_as):
    client = as_user(cw.user("county_dispatcher"))
    html = client.get(reverse("cases:detail", kwargs={"pk": complaint.pk})).content.decode()
    assert NAME in html and MASKED in html and PHONE not in html
    assert client.get(reverse("cases:list"), {"q": NAME}).context["page"].paginator.count == 1
    detail = api_as(cw.user("county_dispatcher")).get(reverse("case-detail", kwargs={"pk": complaint.pk})).json()
    assert detail["requester"]["visible"] and detail["requester"]["name"] == NAME
    assert detail["requester"]["phone"] == MASKED


PERSONAS = ["county_secretary", "town_secretary_a", "village_secretary_a1", "grid_worker_a1_1", "department_handler",
            "outsider_b", "auditor", "three_line_a1", "county_dispatcher", "town_dispatcher_a", "housing_handler"]
ALLOWED = {"county_dispatcher", "town_dispatcher_a"}  # the roles holding cases.view_complainant over town A


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(persona=st.sampled_from(PERSONAS), complained=st.sampled_from(["none", "civil_affairs", "housing"]),
       code=st.sampled_from(["complaint-service-quality", "complaint-illegal-building", "complaint-safety-hazard"]),
       anonymous=st.booleans(), suffix=st.integers(min_value=1000, max_value=9999))
def test_property_no_page_or_api_answer_shows_a_complainant_to_the_wrong_user(
        cw, as_user, api_as, persona, complained, code, anonymous, suffix):
    name, phone = f"诸葛{suffix}号", f"1397531{suffix}"
    department = {"none": None, "civil_affairs": cw.civil_affairs, "housing": cw.housing}[complained]
    case = services.case_register(
        actor=cw.user("town_dispatcher_a"), category=category(code), region=cw.regions["A1"], title=f"举报{suffix}",
        description="反映问题", channel="hotline", requester_name=name, requester_phone=phone, anonymous=anonymous,
        complained_department=department)
    user = cw.user(persona)
    shown = ""
    page = as_user(user).get(reverse("cases:detail", kwargs={"pk": case.pk}))
    shown += page.content.decode()
    search = as_user(user).get(reverse("cases:list"), {"q": name})
    shown += as_user(user).get(reverse("cases:list")).content.decode()
    api = api_as(user)
    response = api.get(reverse("case-detail", kwargs={"pk": case.pk}))
    shown += json.dumps(response.json(), ensure_ascii=False)
    shown += json.dumps(api.get(reverse("case-list"), {"q": phone}).json(), ensure_ascii=False)
    shown += json.dumps(api.get(reverse("inbox-list")).json(), ensure_ascii=False)
    conflicted = department is not None and user.role_assignments.filter(department=department).exists()
    may_see = persona in ALLOWED and not anonymous and not conflicted
    masked = phone[:3] + "****" + phone[-4:]
    assert (name in shown) == may_see, (persona, complained, anonymous)
    assert phone not in shown
    assert (masked in shown) == may_see
    # searching by the complainant's name finds the case only for those who may see who filed it
    assert search.context["page"].paginator.count == (1 if may_see else 0)
    if conflicted:
        assert page.status_code == 404 and response.status_code == 404
    Case.objects.filter(pk=case.pk).delete()
