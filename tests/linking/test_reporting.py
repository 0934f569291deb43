"""在职党员进社区报到: an in-service member living in 五一村 reports there; the community records
their service; a second report and a service before the report are refused."""
from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from gongzhi.linking import reporting
from gongzhi.linking.models import MemberReport, MemberService
from gongzhi.registry.models import PartyMembership


@pytest.fixture
def member(linked, world):
    # 李强 lives in 五一村 and is a member of the civil-affairs bureau's branch, in service.
    r = world.regions
    return PartyMembership.objects.create(person=world.persons["party_member"], organization=linked.agency_org,
                                          in_service=True, county_id=r["C"].pk, town_id=r["A"].pk,
                                          village_id=r["A1"].pk)


def test_report_and_service(member, world, client):
    secretary = world.user("village_secretary_a1")
    a1 = world.regions["A1"]
    rows = list(reporting.should_report(user=secretary, region=a1))
    assert [(m.person.name, m.reported) for m in rows] == [("李强", False)]
    report = reporting.member_report(actor=secretary, membership=member, pledge="每月参加一次志愿服务")
    with pytest.raises(ValidationError, match="已经报到"):
        reporting.member_report(actor=secretary, membership=member)
    with pytest.raises(ValidationError, match="报到之后"):
        reporting.member_service_record(actor=secretary, report=report, on=report.reported_on - dt.timedelta(days=1),
                                        hours="2", work="清扫")
    reporting.member_service_record(actor=secretary, report=report, on=timezone.localdate(), hours="2.5",
                                    work="帮助独居老人代购药品")
    assert MemberReport.objects.count() == 1 and MemberService.objects.get().hours == 2.5
    client.force_login(secretary)
    page = client.get(f"/linking/villages/{a1.pk}/members/").content.decode()
    assert "李强" in page and "2.5" in page


def test_a_member_not_in_service_cannot_report(linked, world):
    r = world.regions
    retired = PartyMembership.objects.create(person=world.persons["A1-1"], organization=linked.village_org,
                                             in_service=False, county_id=r["C"].pk, town_id=r["A"].pk,
                                             village_id=r["A1"].pk)
    with pytest.raises(ValidationError, match="不是在职党员"):
        reporting.member_report(actor=world.user("village_secretary_a1"), membership=retired)
    assert not MemberReport.objects.exists()


def test_report_through_the_page(member, world, client):
    client.force_login(world.user("village_secretary_a1"))
    url = f"/linking/villages/{world.regions['A1'].pk}/members/"
    assert client.post(url, {"action": "report", "membership": member.pk, "pledge": "法律咨询"}).status_code == 302
    assert MemberReport.objects.get().pledge == "法律咨询"
    client.force_login(world.user("auditor"))
    assert client.post(url, {"action": "report", "membership": member.pk}).status_code == 403
