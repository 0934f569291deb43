"""在职党员进社区报到: in-service party members report to the community they live in, and the
community records their service there (DOMAIN.md §3.4, the Z-city seed).

Kept beside ``services.py`` because it joins the registry's party memberships to where members
live rather than to a pairing. Writes follow the same rules as ``services`` (one transaction,
the actor's scope, Chinese ``ValidationError``, an audit row); the two reads are used by the page
and the API alike.

* Who should report: a member with ``PartyMembership.in_service`` and no end date, living
  (``Person.village``) in the community. Their branch is usually an agency's, elsewhere; the
  community sees them because they live there, and only their name, branch and what they did.
* ``member_report`` records the report (one active report per membership); ``member_service_record``
  records an hour-counted service, confirmed by whoever records it in the community.
"""
from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Sum
from django.utils import timezone

from gongzhi.core.audit import AuditAction, audit_record, snapshot
from gongzhi.core.scoping import access_object, recheck_in_scope
from gongzhi.registry.models import PartyMembership, PersonStatus, Region, RegionLevel

from .models import Activity, MemberReport, MemberReportStatus, MemberService


def _today() -> dt.date:
    return timezone.localdate()


def should_report(*, user, region: Region):
    """In-service members living in ``region`` (with whether they have reported), read through the
    registry's scope of the user."""
    active = MemberReport.objects.filter(membership=OuterRef("pk"), status=MemberReportStatus.ACTIVE)
    return (PartyMembership.objects.visible_to(user, "registry.view_partymembership")
            .filter(in_service=True, ended_on__isnull=True, person__village_id=region.pk,
                    person__status=PersonStatus.ACTIVE)
            .select_related("person", "organization").annotate(reported=Exists(active))
            .order_by("reported", "person__name"))


def reports_of(*, user, region: Region):
    return (MemberReport.objects.visible_to(user, "linking.view_memberreport").filter(region=region)
            .select_related("person", "membership__organization")
            .annotate(service_count=Count("services"), service_hours=Sum("services__hours")))


@transaction.atomic
def member_report(*, actor, membership: PartyMembership, reported_on: dt.date | None = None,
                  pledge: str = "") -> MemberReport:
    membership = access_object(PartyMembership.objects.select_related("person"), actor,
                               "registry.view_partymembership", pk=membership.pk)
    person = membership.person
    if not membership.in_service or membership.ended_on:
        raise ValidationError({"membership": f"{person.name}不是在职党员"})
    if person.village_id is None or person.status != PersonStatus.ACTIVE:
        raise ValidationError({"membership": f"{person.name}没有登记现居的村（社区）"})
    region = access_object(Region.objects.all(), actor, "linking.add_memberreport", pk=person.village_id)
    if region.level != RegionLevel.VILLAGE:
        raise ValidationError({"membership": "报到应在居住的村（社区）"})
    if MemberReport.objects.filter(membership=membership, status=MemberReportStatus.ACTIVE).exists():
        raise ValidationError({"membership": f"{person.name}已经报到"})
    reported_on = reported_on or _today()
    if reported_on > _today():
        raise ValidationError({"reported_on": "报到日期不能晚于今天"})
    report = MemberReport(membership=membership, person=person, region=region, reported_on=reported_on,
                          pledge=(pledge or "").strip()[:200], recorded_by=actor, county_id=region.county_id,
                          town_id=region.town_id, village_id=region.village_id)
    report.full_clean()
    report.save()
    recheck_in_scope(report, actor, "linking.add_memberreport")
    audit_record(actor=actor, action=AuditAction.CREATE, obj=report, after=snapshot(report), note="在职党员进社区报到")
    return report


@transaction.atomic
def member_report_end(*, actor, report: MemberReport, ended_on: dt.date | None = None) -> MemberReport:
    report = access_object(MemberReport.objects.select_for_update(of=("self",)), actor, "linking.add_memberreport",
                           pk=report.pk)
    if report.status != MemberReportStatus.ACTIVE:
        raise ValidationError({"report": "该报到已结束"})
    before = snapshot(report)
    report.status, report.ended_on = MemberReportStatus.ENDED, ended_on or _today()
    report.save()
    audit_record(actor=actor, action=AuditAction.UPDATE, obj=report, before=before, after=snapshot(report))
    return report


@transaction.atomic
def member_service_record(*, actor, report: MemberReport, on: dt.date, hours, work: str,
                          activity: Activity | None = None) -> MemberService:
    report = access_object(MemberReport.objects.all(), actor, "linking.add_memberservice", pk=report.pk)
    if report.status != MemberReportStatus.ACTIVE:
        raise ValidationError({"report": "该党员已不在本社区报到"})
    if on > _today() or on < report.reported_on:
        raise ValidationError({"on": "服务日期应在报到之后、今天之前"})
    if activity is not None and activity.village_id != report.village_id:
        raise ValidationError({"activity": "活动不在本村（社区）"})
    work = (work or "").strip()
    if not work:
        raise ValidationError({"work": "请写明做了什么"})
    row = MemberService(report=report, on=on, hours=hours, work=work[:200], activity=activity, recorded_by=actor,
                        county_id=report.county_id, town_id=report.town_id, village_id=report.village_id)
    row.full_clean()
    row.save()
    audit_record(actor=actor, action=AuditAction.CREATE, obj=row, after=snapshot(row), note="在职党员社区服务")
    return row
