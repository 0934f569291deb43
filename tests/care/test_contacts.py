"""Contact records (who, when, how, what was heard; "needs action" opens a case) and voter
reception days tallied per deputy."""
import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from gongzhi.care import selectors, services
from gongzhi.care.models import CareSettings, ContactRecord, ReceptionSuggestion
from gongzhi.core.models import AuditLog
from gongzhi.registry.models import Deputy

from .conftest import person_in


def test_a_three_line_person_records_a_contact_with_their_households_preselected(care, login):
    client = login(care.user("three_line_a1"))
    page = client.get(reverse("care:contact_new"))
    assert page.status_code == 200
    form = page.context["form"]
    assert [c[0] for c in form.fields["household"].choices] == [care.households["A1-1"].pk]
    assert form.initial["household"] == care.households["A1-1"].pk  # the only one: preselected
    response = client.post(reverse("care:contact_new"), {"household": care.households["A1-1"].pk, "method": "phone",
                                                         "heard": "老人腿脚不便，想申请居家养老服务"})
    assert response.status_code == 302
    record = ContactRecord.objects.get()
    assert record.person_id == care.persons["party_member"].pk and record.line == "party_member"
    assert abs((record.contacted_at - timezone.now()).total_seconds()) < 60  # when defaults to now
    assert AuditLog.objects.filter(object_type="care.contactrecord", object_id=str(record.pk)).exists()


def test_needs_action_opens_a_case_in_the_case_loop_in_the_same_step(care):
    from gongzhi.cases.models import Case

    record = services.contact_record(actor=care.user("three_line_a1"), household=care.households["A1-1"],
                                     method="visit", heard="院坝积水，需要修排水沟", needs_action=True)
    case = Case.objects.get(number=record.case_ref)
    assert case.channel == "three_line" and case.requester_id == care.persons["A1-1"].pk
    assert case.description == "院坝积水，需要修排水沟" and case.village_id == care.regions["A1"].pk


def test_a_record_is_never_lost_when_the_case_loop_cannot_take_it(care):
    from gongzhi.cases.models import CaseCategory

    CaseCategory.objects.filter(code=services.CASE_CATEGORY["three_line"]).update(active=False)
    record = services.contact_record(actor=care.user("three_line_a1"), household=care.households["A1-1"],
                                     method="visit", heard="院坝积水", needs_action=True)
    assert record.needs_action and record.case_ref == "" and ContactRecord.objects.filter(pk=record.pk).exists()
    CaseCategory.objects.filter(code=services.CASE_CATEGORY["three_line"]).update(active=True)
    number = services.needs_action_case_open(actor=care.user("three_line_a1"), record=record)
    record.refresh_from_db()
    assert number and record.case_ref == number


def test_contacts_are_validated_and_scoped(care):
    from django.http import Http404

    with pytest.raises(ValidationError):
        services.contact_record(actor=care.user("three_line_a1"), household=care.households["A1-1"], method="fax",
                                heard="x")
    with pytest.raises(ValidationError):
        services.contact_record(actor=care.user("three_line_a1"), household=care.households["A1-1"], method="phone",
                                heard="  ")
    with pytest.raises(Http404):  # not one of their households
        services.contact_record(actor=care.user("three_line_a1"), household=care.households["A1-2"], method="phone",
                                heard="x")


def test_the_reception_day_is_wednesday_by_default_and_configurable(care):
    monday = dt.date(2026, 3, 2)
    assert services.next_reception_day(care.regions["C"].pk, today=monday) == dt.date(2026, 3, 4)
    assert services.next_reception_day(care.regions["C"].pk, today=dt.date(2026, 3, 4)) == dt.date(2026, 3, 4)
    CareSettings.objects.create(county=care.regions["C"], reception_weekday=4)
    assert services.next_reception_day(care.regions["C"].pk, today=monday) == dt.date(2026, 3, 6)


def test_suggestions_are_recorded_per_session_and_tallied_per_deputy(care):
    secretary = care.user("village_secretary_a1")
    r = care.regions
    second = Deputy.objects.create(person=person_in(care, care.households["A1-1"], "王代表"), level="county",
                                   constituency=r["A1"], county_id=r["C"].pk, town_id=r["A"].pk, village_id=r["A1"].pk)
    session = services.reception_session_create(actor=secretary, region=r["A1"], station="五一村代表联络站")
    assert session.held_on.weekday() == 2
    for text in ("修通组道路", "增加路灯", "村卫生室延长开放时间"):
        services.reception_suggestion_record(actor=secretary, session=session, deputy=care.deputy, content=text)
    services.reception_suggestion_record(actor=secretary, session=session, deputy=second, content="河堤加固",
                                         needs_action=True)
    tally = selectors.reception_tally(secretary, year=session.held_on.year)
    assert [(d.pk, n, actions) for d, n, actions in tally["rows"]] == [(care.deputy.pk, 3, 0), (second.pk, 1, 1)]
    assert tally["suggestions"] == 4 and tally["deputies"] == 2
    assert set(session.deputies.all()) == {care.deputy, second}
    # The town above sees the same tally; the other town sees none of it.
    assert selectors.reception_tally(care.user("town_secretary_a"), year=session.held_on.year)["suggestions"] == 4
    assert selectors.reception_tally(care.user("outsider_b"), year=session.held_on.year)["suggestions"] == 0
    assert ReceptionSuggestion.objects.count() == 4
