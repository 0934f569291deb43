"""Reads of the assessment: every list starts from ``Model.objects.visible_to(user, perm)``; the
figures come from ``indicators`` (which reads through the same mechanism)."""
from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Avg, Count
from django.http import Http404
from django.urls import reverse

from gongzhi.core.scoping import has_perm_anywhere, widest_region_id
from gongzhi.registry.models import Department, Region

from . import indicators
from .indicators import Period
from .models import Bulletin, Proposal

VIEW = "assessment.view_casescore"


def home_region(user, perm: str = VIEW) -> Region | None:
    """The widest region the user reads results in (their county, town or village)."""
    region_id = widest_region_id(user, perm)
    if region_id is None:
        return None
    return Region.objects.filter(pk=region_id).first()


def county_of(region: Region | None) -> Region | None:
    if region is None:
        return None
    return region if region.level == 1 else Region.objects.filter(pk=region.county_id).first()


def recent_periods(count: int = 8) -> list[Period]:
    period, out = Period.last_complete(), []
    for _ in range(count):
        out.append(period)
        period = period.previous()
    return out


def subject_name(user, kind: str, subject_id: int) -> str:
    """The subject of a provenance list, or 404 when the user may not read it."""
    if kind == "county" or kind in ("town", "village"):
        region = Region.objects.visible_to(user, "registry.view_region").filter(pk=subject_id).first()
        if region is None:
            raise Http404
        return region.name
    if kind == "department":
        department = Department.objects.filter(pk=subject_id).first()
        if department is None:
            raise Http404
        return department.name
    if kind == "user":
        # A login is named only to a reader who sees some of its work (``records`` checks that the
        # list is not empty before it asks for the name): logins are not a directory.
        from django.contrib.auth import get_user_model
        found = get_user_model().objects.filter(pk=subject_id).first()
        if found is None:
            raise Http404
        return str(found)
    if kind == "person":
        from gongzhi.registry.models import Person
        person = Person.objects.visible_to(user, "registry.view_person").filter(pk=subject_id).first()
        if person is None:
            raise Http404
        return person.name
    raise Http404


@dataclass
class RecordRow:
    label: str
    detail: str
    when: object
    url: str


def _case_row(case) -> RecordRow:
    # Never the tracking code: it is the requester's key to the public page.
    return RecordRow(case.number or f"#{case.pk}", f"{case.category.name} · {case.get_status_display()}",
                     case.received_at, reverse("cases:detail", args=[case.pk]))


RENDER = {
    "cases.case": (("category",), _case_row),
    "assessment.casescore": (("case", "case__category"), lambda s: RecordRow(
        s.case.number or f"#{s.case_id}", f"{s.score} 分", s.closed_at, reverse("cases:detail", args=[s.case_id]))),
    "care.contactrecord": (("household",), lambda r: RecordRow(
        r.household.code, r.get_method_display(), r.contacted_at, reverse("care:household", args=[r.household_id]))),
    "care.visit": (("household",), lambda v: RecordRow(
        v.household.code, "已走访" if v.done_at else "未走访", v.due_on, reverse("care:household", args=[v.household_id]))),
    "village.decision": ((), lambda d: RecordRow(d.title, d.get_status_display(), d.decided_on,
                                                 reverse("village:decision", args=[d.pk]))),
    "village.decisiontask": ((), lambda t: RecordRow(t.title, t.get_status_display(), t.due_on,
                                                     reverse("village:decision", args=[t.decision_id]))),
    "linking.keytask": ((), lambda t: RecordRow(t.title, t.get_status_display(), t.due_on,
                                                reverse("linking:integration_village", args=[t.village_id])
                                                if t.village_id else "")),
    "resources.need": ((), lambda n: RecordRow(n.title, n.get_status_display(), n.raised_at,
                                               reverse("resources:need", args=[n.pk]))),
    "volunteers.signup": (("task",), lambda s: RecordRow(s.task.title, f"{s.hours_confirmed} 小时", s.confirmed_at,
                                                         reverse("volunteers:task", args=[s.task_id]))),
}


def provenance(*, user, indicator, kind: str, subject_id: int, period: Period, part: str):
    """(queryset, row renderer): the records behind one number."""
    qs = indicator.records(user=user, period=period, kind=kind, subject_id=subject_id or None, part=part)
    related, render = RENDER[indicator.model._meta.label_lower]
    if related:
        qs = qs.select_related(*related)
    return qs, render


def scores_summary(user, *, period: Period, within=None) -> dict:
    qs = indicators.BY_CODE["case_score"].rows(user=user, period=period, within=within)
    by_ledger = list(qs.order_by().values("ledger").annotate(n=Count("pk"), avg=Avg("score")).order_by("ledger"))
    by_handler = list(qs.exclude(handler=None).order_by().values("handler_id", "handler__username",
                                                                  "handler__first_name", "handler__last_name")
                      .annotate(n=Count("pk"), avg=Avg("score")).order_by("-avg")[:50])
    return {"by_ledger": by_ledger, "by_handler": by_handler, "total": qs.aggregate(n=Count("pk"), avg=Avg("score"))}


def latest_scores(user, *, period: Period, within=None):
    return (indicators.BY_CODE["case_score"].rows(user=user, period=period, within=within)
            .select_related("case").order_by("-closed_at")[:30])


def bulletins_for(user):
    return Bulletin.objects.visible_to(user, "assessment.view_bulletin").select_related("region", "department")


def proposals_for(user, period: Period | None = None):
    qs = Proposal.objects.visible_to(user, "assessment.view_proposal").select_related("decided_by")
    return qs.filter(year=period.year, quarter=period.quarter) if period else qs


def can_view_results(user) -> bool:
    return has_perm_anywhere(user, VIEW)

