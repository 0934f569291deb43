"""Every write of the village governance layer.

Each service takes a keyword-only ``actor``, runs in one transaction, loads what it changes
through the actor's scope (``access_object``: 403 when the permission is held nowhere, 404 when
the row lies outside the actor's scope), validates with Chinese messages (``ValidationError``,
nothing half-saved: the transaction rolls back), and writes its audit record. Cases are told
about agenda items and decisions through ``gongzhi.cases.services.case_record_linked``, the case
loop's own service; notices go through the case loop's inbox and SMS (``cases.notifications``).
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from django.utils import timezone

from gongzhi.cases import notifications as case_notifications
from gongzhi.cases.models import Case
from gongzhi.cases.services import case_record_linked
from gongzhi.core.audit import AuditAction, audit_record, snapshot
from gongzhi.core.scoping import access_object, recheck_in_scope
from gongzhi.registry.models import Household, Person, PersonStatus, Region, RegionLevel

from . import quorum as q
from . import workflow
from .models import (
    AgendaItem, Attendance, AttendanceStatus, Ballot, BallotKind, Body, BodyKind, BodyMember, Choice, Decision,
    DecisionEntry, DecisionStatus, DecisionTask, Duty, DutyList, DutyOwner, EntryKind, ItemMode, ItemSource, Matter,
    MatterStatus, MatterStep, Meeting, MeetingAttachment, MeetingKind, MeetingStatus, Poll, PollResult, PollStatus,
    Post, PublicityCategory, PublicityItem, PublicityStatus, SecretBallot, Speech, Supervisor, TaskStatus,
    VillageSettings,
)


def _now() -> dt.datetime:
    return timezone.now()


def _today() -> dt.date:
    return timezone.localdate()


def _territory(obj) -> dict:
    return {"county_id": obj.county_id, "town_id": obj.town_id, "village_id": obj.village_id}


def _text(value: str, field: str, message: str) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationError({field: message})
    return value


def _village(actor, region: Region, perm: str) -> Region:
    region = access_object(Region.objects.all(), actor, perm, pk=getattr(region, "pk", region))
    if region.level != RegionLevel.VILLAGE:
        raise ValidationError({"region": "请选择一个行政村或社区"})
    return region


def _save_new(obj, actor, perm: str):
    obj.full_clean()
    obj.save()
    recheck_in_scope(obj, actor, perm)
    audit_record(actor=actor, action=AuditAction.CREATE, obj=obj, after=snapshot(obj))
    return obj


def _person_in_village(person: Person, region: Region, what: str = "person") -> Person:
    if person.village_id != region.pk:  # not named: the caller may not be allowed to read them
        raise ValidationError({what: "所选人员不是本村（社区）登记的居民"})
    if person.status != PersonStatus.ACTIVE:
        raise ValidationError({what: f"{person.name}已不在本村居住"})
    return person


def _users_of_persons(person_ids: Iterable[int]) -> set[int]:
    return set(get_user_model().objects.filter(person_id__in=list(person_ids), is_active=True)
               .values_list("pk", flat=True))


def _village_holders(perm: str, region: Region) -> set[int]:
    return case_notifications.holder_ids(perm, region_ids=[region.pk])


def _notify(user_ids: Iterable[int], kind: str, text: str) -> None:
    case_notifications.notify_users(set(user_ids), case=None, kind=kind, text=text)


# ---------------------------------------------------------------------------------------------
# settings


SETTINGS_FIELDS = ("villagers_adults", "villagers_households", "representatives", "party_members", "committees",
                   "resolution", "adult_age", "elderly_age", "term_warning_days", "task_due_soon_days",
                   "exemption_explain_days", "duty_review_months")


@transaction.atomic
def village_settings_save(*, actor, county: Region, **fields) -> VillageSettings:
    county = access_object(Region.objects.all(), actor, "village.change_villagesettings", pk=county.pk)
    if county.level != RegionLevel.COUNTY:
        raise ValidationError({"county": "议事规则按县设置"})
    unknown = set(fields) - set(SETTINGS_FIELDS)
    if unknown:
        raise ValidationError({"__all__": f"不能设置：{', '.join(sorted(unknown))}"})
    row = VillageSettings.objects.select_for_update().filter(county=county).first()
    before = snapshot(row) if row else None
    row = row or VillageSettings(county=county)
    for name, value in fields.items():
        setattr(row, name, value)
    row.full_clean()
    row.save()
    audit_record(actor=actor, action=AuditAction.UPDATE if before else AuditAction.CREATE, obj=row, before=before,
                 after=snapshot(row), territory=county)
    return row


# ---------------------------------------------------------------------------------------------
# 六位一体: bodies and members


@transaction.atomic
def body_create(*, actor, region: Region, kind: str, name: str, term_start: dt.date, term_end: dt.date | None = None,
                party_organization=None) -> Body:
    region = _village(actor, region, "village.add_body")
    if term_end and term_end <= term_start:
        raise ValidationError({"term_end": "任期结束日期应晚于开始日期"})
    if kind != BodyKind.SOCIAL and Body.objects.filter(region=region, kind=kind, dissolved_on__isnull=True).exists():
        raise ValidationError({"kind": f"本村已有现任的{BodyKind(kind).label}，请先办理换届"})
    if party_organization is not None and party_organization.village_id != region.pk:
        raise ValidationError({"party_organization": "党组织不属于本村"})
    body = Body(region=region, kind=kind, name=_text(name, "name", "请填写名称"), term_start=term_start,
                term_end=term_end, party_organization=party_organization, **_territory(region))
    return _save_new(body, actor, "village.add_body")


@transaction.atomic
def body_renew(*, actor, body: Body, term_start: dt.date, term_end: dt.date | None = None) -> Body:
    """换届: the old body is dissolved (its members' posts end) and a new one of the same kind starts."""
    old = access_object(Body.objects.select_for_update(), actor, "village.change_body", pk=body.pk)
    if old.dissolved_on:
        raise ValidationError({"body": "该组织已换届"})
    if term_start <= old.term_start:
        raise ValidationError({"term_start": "新一届应在上一届开始之后"})
    before = snapshot(old)
    old.dissolved_on = term_start
    old.save(update_fields=["dissolved_on"])
    BodyMember.objects.filter(body=old, ended_on__isnull=True).update(ended_on=term_start, end_reason="换届")
    audit_record(actor=actor, action=AuditAction.UPDATE, obj=old, before=before, after=snapshot(old), note="换届")
    new = Body(region=old.region, kind=old.kind, name=old.name, term_start=term_start, term_end=term_end,
               party_organization=old.party_organization, **_territory(old))
    return _save_new(new, actor, "village.change_body")


@transaction.atomic
def body_member_add(*, actor, body: Body, person: Person, post: str, started_on: dt.date | None = None,
                    represented_households: Iterable[Household] = ()) -> BodyMember:
    body = access_object(Body.objects.select_for_update(), actor, "village.change_body", pk=body.pk)
    if body.dissolved_on:
        raise ValidationError({"body": "该组织已换届，不能再增加成员"})
    person = Person.objects.get(pk=person.pk)
    _person_in_village(person, body.region)
    if post not in Post.values:
        raise ValidationError({"post": "请选择职务"})
    if BodyMember.objects.filter(body=body, person=person, ended_on__isnull=True).exists():
        raise ValidationError({"person": f"{person.name}已在{body.name}任职"})
    if post == Post.REPRESENTATIVE and body.kind != BodyKind.ASSEMBLY:
        raise ValidationError({"post": "村民代表只能是村民代表会议的组成人员"})
    member = BodyMember(body=body, person=person, post=post, household_id=person.household_id,
                        started_on=started_on or _today(), **_territory(body))
    _save_new(member, actor, "village.change_body")
    households = [h for h in represented_households]
    if households:
        if any(h.village_id != body.region_id for h in households):
            raise ValidationError({"represented_households": "联系户应是本村的户"})
        member.represented_households.set(households)
    return member


@transaction.atomic
def body_member_end(*, actor, member: BodyMember, ended_on: dt.date | None = None, reason: str) -> BodyMember:
    member = access_object(BodyMember.objects.select_for_update(), actor, "village.change_body", pk=member.pk)
    if member.ended_on:
        raise ValidationError({"member": "该任职已结束"})
    before = snapshot(member)
    member.ended_on = ended_on or _today()
    member.end_reason = _text(reason, "reason", "请说明离任原因")
    if member.ended_on < member.started_on:
        raise ValidationError({"ended_on": "离任日期不能早于任职日期"})
    member.save(update_fields=["ended_on", "end_reason"])
    audit_record(actor=actor, action=AuditAction.UPDATE, obj=member, before=before, after=snapshot(member))
    return member


# ---------------------------------------------------------------------------------------------
# meetings


@transaction.atomic
def meeting_schedule(*, actor, region: Region, kind: str, title: str, scheduled_at: dt.datetime, place: str = "",
                     grid=None, items: Iterable[AgendaItem] = ()) -> Meeting:
    region = _village(actor, region, "village.add_meeting")
    if kind not in MeetingKind.values:
        raise ValidationError({"kind": "请选择会议类型"})
    if grid is not None and grid.village_id != region.pk:
        raise ValidationError({"grid": "网格不在本村"})
    meeting = Meeting(region=region, kind=kind, title=_text(title, "title", "请填写会议名称"), scheduled_at=scheduled_at,
                      place=place.strip(), grid=grid, convened_by=actor, **_territory(region))
    _save_new(meeting, actor, "village.add_meeting")
    for item in items:
        agenda_item_schedule(actor=actor, item=item, meeting=meeting)
    return meeting


def _meeting_for_update(actor, meeting: Meeting, perm: str = "village.run_meeting") -> Meeting:
    return access_object(Meeting.objects.select_for_update(), actor, perm, pk=meeting.pk)


def _require_status(meeting: Meeting, *statuses: str, doing: str) -> None:
    if meeting.status not in statuses:
        raise ValidationError({"meeting": f"会议{MeetingStatus(meeting.status).label}，不能{doing}"})


@transaction.atomic
def meeting_notify(*, actor, meeting: Meeting) -> int:
    """会议通知: the inbox of every entitled person with a login, and an SMS to every one with a
    phone. Open meetings (courtyard and the like) notify the residents of the grid, if one is set,
    or nobody (they are called on the spot). Returns how many persons were told."""
    meeting = _meeting_for_update(actor, meeting)
    _require_status(meeting, MeetingStatus.PLANNED, MeetingStatus.NOTIFIED, doing="发通知")
    persons = q.entitled_persons(meeting)
    if not persons and meeting.grid_id:
        persons = list(Person.objects.filter(household__grid__path__startswith=meeting.grid.path,
                                             status=PersonStatus.ACTIVE))
    when = timezone.localtime(meeting.scheduled_at).strftime("%m月%d日%H:%M")
    text = f"【{case_notifications.SITE_NAME}】{meeting.region.name}定于{when}在{meeting.place or '村委会'}召开" \
           f"{MeetingKind(meeting.kind).label}：{meeting.title}。"
    items = list(meeting.items.values_list("title", flat=True))
    if items:
        text += "议题：" + "；".join(items[:5]) + "。"
    _notify(_users_of_persons(p.pk for p in persons), "village_meeting", text)
    for person in persons:
        case_notifications.sms_later(person.phone, text)
    before = snapshot(meeting)
    meeting.status, meeting.notice_sent_at = MeetingStatus.NOTIFIED, _now()
    meeting.save(update_fields=["status", "notice_sent_at"])
    audit_record(actor=actor, action=AuditAction.UPDATE, obj=meeting, before=before, after=snapshot(meeting),
                 note=f"会议通知 {len(persons)} 人")
    return len(persons)


def _attendance_facts(person: Person, conf: VillageSettings, on: dt.date) -> dict:
    age = on.year - person.birth_date.year - ((on.month, on.day) < (person.birth_date.month, person.birth_date.day))
    return {"is_elderly": age >= conf.elderly_age, "is_woman": person.sex == "F",
            "is_disabled": person.disability_grade is not None, "is_left_behind": bool(person.left_behind)}


@transaction.atomic
def meeting_open(*, actor, meeting: Meeting) -> Meeting:
    """开会: the roll is made from the registry as it stands (who is entitled today)."""
    meeting = _meeting_for_update(actor, meeting)
    _require_status(meeting, MeetingStatus.PLANNED, MeetingStatus.NOTIFIED, doing="开始")
    conf = q.settings_for(meeting.county_id)
    on = timezone.localtime(meeting.scheduled_at).date()
    persons = q.entitled_persons(meeting)
    if meeting.kind in q.FORMAL_KINDS and not persons:
        raise ValidationError({"meeting": "登记信息中没有应到会人员（请先在六位一体组织中登记成员），无法开会"})
    Attendance.objects.bulk_create([
        Attendance(meeting=meeting, person=p, household_id=p.household_id, entitled=True, **_attendance_facts(p, conf, on),
                   **_territory(meeting)) for p in persons])
    before = snapshot(meeting)
    meeting.status, meeting.opened_at = MeetingStatus.OPEN, _now()
    meeting.entitled_count = len(persons)
    meeting.save(update_fields=["status", "opened_at", "entitled_count"])
    audit_record(actor=actor, action=AuditAction.UPDATE, obj=meeting, before=before, after=snapshot(meeting),
                 note=f"开会，应到 {len(persons)} 人")
    return meeting


@transaction.atomic
def attendance_mark(*, actor, meeting: Meeting, marks: Mapping[int, str],
                    proxies: Mapping[int, Person] | None = None) -> list[Attendance]:
    """签到: ``marks`` maps a person's id to present / proxy / left / absent. A person not on
    the roll may be added only at an open meeting (courtyard and the like); at a formal meeting
    the roll is the registry's and the answer says who is not on it."""
    meeting = _meeting_for_update(actor, meeting)
    _require_status(meeting, MeetingStatus.OPEN, doing="签到")
    proxies = proxies or {}
    conf = q.settings_for(meeting.county_id)
    on = timezone.localtime(meeting.scheduled_at).date()
    rows = {a.person_id: a for a in Attendance.objects.select_for_update().filter(meeting=meeting,
                                                                                   person_id__in=list(marks))}
    changed = []
    for person_id, status in marks.items():
        if status not in AttendanceStatus.values:
            raise ValidationError({"status": "签到状态不正确"})
        row = rows.get(person_id)
        if row is None:
            person = Person.objects.filter(pk=person_id).first()
            if person is None:
                raise ValidationError({"person": "没有这个人"})
            if meeting.kind in q.FORMAL_KINDS:
                raise ValidationError({"person": f"{person.name}不在本次{MeetingKind(meeting.kind).label}的应到名单上"
                                                 "（名单按登记信息生成），可作为列席人员记录"})
            _person_in_village(person, meeting.region)
            row = Attendance(meeting=meeting, person=person, household_id=person.household_id, entitled=False,
                             **_attendance_facts(person, conf, on), **_territory(meeting))
        proxy = proxies.get(person_id)
        if status == AttendanceStatus.PROXY:
            if proxy is None:
                raise ValidationError({"proxy": "委托他人参会的，请选择受托人"})
            if proxy.pk == person_id:
                raise ValidationError({"proxy": "受托人不能是本人"})
            if meeting.kind != MeetingKind.VILLAGERS:
                raise ValidationError({"proxy": f"{MeetingKind(meeting.kind).label}不接受委托参会"})
        row.status, row.proxy, row.marked_at = status, proxy if status == AttendanceStatus.PROXY else None, _now()
        row.save()
        changed.append(row)
    audit_record(actor=actor, action=AuditAction.UPDATE, obj=meeting,
                 note="签到：" + "，".join(f"{r.person_id}={r.status}" for r in changed)[:400])
    return changed


@transaction.atomic
def attendance_add(*, actor, meeting: Meeting, person: Person) -> Attendance:
    """列席 / who came to an open meeting: on the record, not counted for a quorum."""
    meeting = _meeting_for_update(actor, meeting)
    _require_status(meeting, MeetingStatus.OPEN, doing="签到")
    person = _person_in_village(Person.objects.get(pk=person.pk), meeting.region)
    row, created = Attendance.objects.get_or_create(
        meeting=meeting, person=person,
        defaults={"household_id": person.household_id, "entitled": False, "status": AttendanceStatus.PRESENT,
                  "marked_at": _now(), **_attendance_facts(person, q.settings_for(meeting.county_id),
                                                           timezone.localtime(meeting.scheduled_at).date()),
                  **_territory(meeting)})
    if not created and row.status != AttendanceStatus.PRESENT:
        row.status, row.marked_at = AttendanceStatus.PRESENT, _now()
        row.save(update_fields=["status", "marked_at"])
    audit_record(actor=actor, action=AuditAction.UPDATE, obj=meeting, note=f"列席/到会 {person.pk}")
    return row


@transaction.atomic
def speech_record(*, actor, meeting: Meeting, points: str, speaker: Person | None = None, speaker_name: str = "",
                  item: AgendaItem | None = None) -> Speech:
    meeting = _meeting_for_update(actor, meeting)
    _require_status(meeting, MeetingStatus.OPEN, MeetingStatus.CLOSED, doing="记录发言")
    if item is not None:
        item = AgendaItem.objects.filter(pk=item.pk, meeting=meeting).first()
        if item is None:
            raise ValidationError({"item": "议题不属于本次会议"})
    if speaker is not None:
        speaker_name = speaker.name
    speech = Speech(meeting=meeting, item=item, speaker=speaker,
                    speaker_name=_text(speaker_name, "speaker_name", "请填写发言人"),
                    points=_text(points, "points", "请填写发言要点"), recorded_by=actor, **_territory(meeting))
    return _save_new(speech, actor, "village.run_meeting")


@transaction.atomic
def meeting_attach(*, actor, meeting: Meeting, file, name: str = "") -> MeetingAttachment:
    meeting = _meeting_for_update(actor, meeting)
    if getattr(file, "size", 0) > 20 * 1024 * 1024:
        raise ValidationError({"file": "附件不能超过 20 MB"})
    row = MeetingAttachment(meeting=meeting, file=file, name=(name or getattr(file, "name", "") or "附件")[:200],
                            uploaded_by=actor, **_territory(meeting))
    return _save_new(row, actor, "village.run_meeting")


@transaction.atomic
def meeting_close(*, actor, meeting: Meeting, minutes: str = "") -> Meeting:
    meeting = _meeting_for_update(actor, meeting)
    _require_status(meeting, MeetingStatus.OPEN, doing="结束")
    still_open = meeting.polls.filter(status=PollStatus.OPEN).count()
    if still_open:
        raise ValidationError({"meeting": f"还有{still_open}项表决没有结束，请先结束表决"})
    before = snapshot(meeting)
    state = q.quorum_of(meeting)
    meeting.present_count = q.participation(meeting)["came"]
    meeting.quorum_met = state.met if state.required else None
    meeting.quorum_text = state.explain()[:300]
    meeting.status, meeting.closed_at = MeetingStatus.CLOSED, _now()
    if minutes.strip():
        meeting.minutes = minutes.strip()
    meeting.save()
    audit_record(actor=actor, action=AuditAction.UPDATE, obj=meeting, before=before, after=snapshot(meeting))
    return meeting


@transaction.atomic
def meeting_minutes_save(*, actor, meeting: Meeting, minutes: str) -> Meeting:
    meeting = _meeting_for_update(actor, meeting)
    _require_status(meeting, MeetingStatus.OPEN, MeetingStatus.CLOSED, doing="记录纪要")
    before = snapshot(meeting)
    meeting.minutes = _text(minutes, "minutes", "请填写会议纪要")
    meeting.save(update_fields=["minutes"])
    audit_record(actor=actor, action=AuditAction.UPDATE, obj=meeting, before=before, after=snapshot(meeting))
    return meeting


@transaction.atomic
def meeting_cancel(*, actor, meeting: Meeting, reason: str) -> Meeting:
    meeting = _meeting_for_update(actor, meeting)
    _require_status(meeting, MeetingStatus.PLANNED, MeetingStatus.NOTIFIED, doing="取消")
    before = snapshot(meeting)
    meeting.status = MeetingStatus.CANCELLED
    meeting.minutes = "会议取消：" + _text(reason, "reason", "请说明取消原因")
    meeting.save(update_fields=["status", "minutes"])
    AgendaItem.objects.filter(meeting=meeting).update(meeting=None)  # the items wait for another meeting
    audit_record(actor=actor, action=AuditAction.UPDATE, obj=meeting, before=before, after=snapshot(meeting))
    return meeting


# ---------------------------------------------------------------------------------------------
# agenda


@transaction.atomic
def agenda_item_create(*, actor, region: Region, title: str, mode: str, source: str, description: str = "",
                       cases: Iterable[Case] = (), contact_record=None, proposer: Person | None = None,
                       matter: Matter | None = None, meeting: Meeting | None = None) -> AgendaItem:
    region = _village(actor, region, "village.add_agendaitem")
    if mode not in ItemMode.values:
        raise ValidationError({"mode": "请选择议题类型：说法说政策、说事说心声或商议决定"})
    if source not in ItemSource.values:
        raise ValidationError({"source": "请选择议题来源"})
    case_rows = []
    for case in cases:
        found = access_object(Case.objects.all(), actor, "cases.view_case", pk=case.pk)
        if found.village_id != region.pk:
            raise ValidationError({"cases": f"事项{found.number or found.pk}不在本村"})
        case_rows.append(found)
    if source == ItemSource.CASES and not case_rows:
        raise ValidationError({"cases": "请选择事项"})
    if contact_record is not None:
        from gongzhi.care.models import ContactRecord

        contact_record = access_object(ContactRecord.objects.all(), actor, "care.view_contactrecord",
                                       pk=contact_record.pk)
        if contact_record.village_id != region.pk:
            raise ValidationError({"contact_record": "走访记录不在本村"})
    if proposer is not None:
        _person_in_village(Person.objects.get(pk=proposer.pk), region, "proposer")
    if matter is not None and matter.region_id != region.pk:
        raise ValidationError({"matter": "事项不属于本村"})
    item = AgendaItem(region=region, title=_text(title, "title", "请填写议题"), description=description.strip(),
                      mode=mode, source=source, contact_record=contact_record, proposer=proposer, matter=matter,
                      created_by=actor, **_territory(region))
    _save_new(item, actor, "village.add_agendaitem")
    if case_rows:
        item.cases.set(case_rows)
        for case in case_rows:
            case_record_linked(actor=actor, case=case, kind="village_agenda", note=f"“{item.title}”")
    if meeting is not None:
        agenda_item_schedule(actor=actor, item=item, meeting=meeting)
    return item


def agenda_item_from_cases(*, actor, cases: list[Case], title: str = "", mode: str = ItemMode.DECIDE,
                           description: str = "") -> AgendaItem:
    """一键上会: one case, or a cluster of similar ones, becomes one agenda item of their village."""
    if not cases:
        raise ValidationError({"cases": "请选择事项"})
    villages = {c.village_id for c in cases}
    if len(villages) != 1 or None in villages:
        raise ValidationError({"cases": "所选事项应属于同一个村（社区）"})
    region = Region.objects.get(pk=villages.pop())
    title = title.strip() or (cases[0].title if len(cases) == 1 else f"{cases[0].title}等{len(cases)}件群众诉求")
    description = description.strip() or "\n".join(f"{c.number or '待编号'}：{c.title}" for c in cases)
    return agenda_item_create(actor=actor, region=region, title=title[:200], mode=mode, source=ItemSource.CASES,
                              description=description, cases=cases)


@transaction.atomic
def agenda_item_schedule(*, actor, item: AgendaItem, meeting: Meeting) -> AgendaItem:
    item = access_object(AgendaItem.objects.select_for_update(), actor, "village.add_agendaitem", pk=item.pk)
    meeting = access_object(Meeting.objects.select_for_update(), actor, "village.add_meeting", pk=meeting.pk)
    if item.region_id != meeting.region_id:
        raise ValidationError({"meeting": "议题和会议不在同一个村"})
    if meeting.status in (MeetingStatus.CLOSED, MeetingStatus.CANCELLED):
        raise ValidationError({"meeting": "会议已结束或取消，不能再增加议题"})
    before = snapshot(item)
    item.meeting = meeting
    item.order = (meeting.items.count() or 0) + 1
    item.save(update_fields=["meeting", "order"])
    audit_record(actor=actor, action=AuditAction.UPDATE, obj=item, before=before, after=snapshot(item))
    return item


@transaction.atomic
def agenda_item_outcome(*, actor, item: AgendaItem, outcome: str) -> AgendaItem:
    item = access_object(AgendaItem.objects.select_for_update(), actor, "village.run_meeting", pk=item.pk)
    if item.meeting_id is None:
        raise ValidationError({"item": "议题还没有上会"})
    before = snapshot(item)
    item.outcome = _text(outcome, "outcome", "请填写议定结果")
    item.save(update_fields=["outcome"])
    audit_record(actor=actor, action=AuditAction.UPDATE, obj=item, before=before, after=snapshot(item))
    return item


# ---------------------------------------------------------------------------------------------
# votes


@transaction.atomic
def poll_open(*, actor, meeting: Meeting, question: str, ballot: str = BallotKind.OPEN,
              item: AgendaItem | None = None) -> Poll:
    """付诸表决. Who may vote is fixed now: everyone present (and, at a villagers' meeting, the
    proxies). A formal meeting without its quorum cannot vote, and the error says by how much."""
    meeting = _meeting_for_update(actor, meeting)
    _require_status(meeting, MeetingStatus.OPEN, doing="表决")
    if ballot not in BallotKind.values:
        raise ValidationError({"ballot": "请选择表决方式"})
    if item is not None:
        item = AgendaItem.objects.filter(pk=item.pk, meeting=meeting).first()
        if item is None:
            raise ValidationError({"item": "议题不属于本次会议"})
    state = q.quorum_of(meeting)
    if not state.met:
        raise ValidationError({"quorum": state.explain()})
    voters = Attendance.objects.filter(meeting=meeting).filter(q.present_filter(meeting))
    if meeting.kind in q.FORMAL_KINDS:
        voters = voters.filter(entitled=True)
    voters = list(voters)
    if not voters:
        raise ValidationError({"quorum": "没有到会人员，不能表决"})
    poll = Poll(meeting=meeting, item=item, question=_text(question, "question", "请填写表决事项"), ballot=ballot,
                present_count=len(voters), threshold=str(q.resolution_threshold(meeting)), opened_at=_now(),
                opened_by=actor, **_territory(meeting))
    _save_new(poll, actor, "village.run_meeting")
    Ballot.objects.bulk_create([Ballot(poll=poll, voter=v, **_territory(meeting)) for v in voters])
    return poll


@transaction.atomic
def ballots_cast(*, actor, poll: Poll, choices: Mapping[int, str]) -> int:
    """Records ballots: ``choices`` maps a voter's Attendance id to for / against / abstain.
    Refused whole (nothing saved) when the vote is closed, a voter is not on the electorate, or
    someone has voted already."""
    poll = access_object(Poll.objects.select_for_update(), actor, "village.run_meeting", pk=poll.pk)
    if poll.status != PollStatus.OPEN:
        raise ValidationError({"poll": "表决已经结束，不能再投票"})
    if not choices:
        raise ValidationError({"choices": "没有选票"})
    if any(c not in Choice.values for c in choices.values()):
        raise ValidationError({"choices": "选项只能是同意、反对或弃权"})
    ballots = {b.voter_id: b for b in Ballot.objects.select_for_update().filter(poll=poll, voter_id__in=list(choices))
               .select_related("voter__person")}
    missing = set(choices) - set(ballots)
    if missing:
        raise ValidationError({"choices": f"有{len(missing)}人不在本次表决的到会名单上（表决开始时到会的人才能投票）"})
    already = [b.voter.person.name for b in ballots.values() if b.cast_at is not None]
    if already:
        raise ValidationError({"choices": f"{'、'.join(sorted(already)[:5])}已经投过票，不能重复投票"})
    now = _now()
    secret = poll.ballot == BallotKind.SECRET
    for voter_id, choice in choices.items():
        ballot = ballots[voter_id]
        ballot.cast_at = now
        ballot.choice = "" if secret else choice
        ballot.save(update_fields=["cast_at", "choice"])
    if secret:
        SecretBallot.objects.bulk_create([SecretBallot(poll=poll, choice=c, **_territory(poll))
                                          for c in sorted(choices.values())])  # sorted: no order to trace
    audit_record(actor=actor, action=AuditAction.UPDATE, obj=poll, note=f"投票 {len(choices)} 张")
    return len(choices)


@transaction.atomic
def poll_close(*, actor, poll: Poll) -> Poll:
    poll = access_object(Poll.objects.select_for_update(), actor, "village.run_meeting", pk=poll.pk)
    if poll.status != PollStatus.OPEN:
        raise ValidationError({"poll": "表决已经结束"})
    before = snapshot(poll)
    if poll.ballot == BallotKind.SECRET:
        counted = SecretBallot.objects.filter(poll=poll).values_list("choice", flat=True)
    else:
        counted = Ballot.objects.filter(poll=poll, cast_at__isnull=False).values_list("choice", flat=True)
    counted = list(counted)
    poll.votes_for = counted.count(Choice.FOR)
    poll.votes_against = counted.count(Choice.AGAINST)
    poll.votes_abstain = counted.count(Choice.ABSTAIN)
    passed = q.Threshold.parse(poll.threshold).met(poll.votes_for, poll.present_count)
    poll.result = PollResult.PASSED if passed else PollResult.REJECTED
    poll.status, poll.closed_at = PollStatus.CLOSED, _now()
    poll.save()
    audit_record(actor=actor, action=AuditAction.UPDATE, obj=poll, before=before, after=snapshot(poll),
                 note=f"表决结果：同意{poll.votes_for} 反对{poll.votes_against} 弃权{poll.votes_abstain}，"
                      f"到会{poll.present_count}，{PollResult(poll.result).label}")
    return poll


def poll_explain(poll: Poll) -> str:
    threshold = q.Threshold.parse(poll.threshold)
    text = (f"到会{poll.present_count}人，同意{poll.votes_for}、反对{poll.votes_against}、弃权{poll.votes_abstain}"
            f"，未投{poll.present_count - poll.votes_for - poll.votes_against - poll.votes_abstain}；"
            f"通过须到会人员{threshold.label()}同意（至少{threshold.needed(poll.present_count)}票）")
    if poll.result:
        text += "，" + ("通过" if poll.result == PollResult.PASSED else "未通过")
    return text


# ---------------------------------------------------------------------------------------------
# 四议两公开


@transaction.atomic
def matter_create(*, actor, region: Region, title: str, description: str, topic: str,
                  cases: Iterable[Case] = ()) -> Matter:
    region = _village(actor, region, "village.add_matter")
    matter = Matter(region=region, title=_text(title, "title", "请填写事项名称"),
                    description=_text(description, "description", "请说明事项内容"), topic=topic, created_by=actor,
                    **_territory(region))
    _save_new(matter, actor, "village.add_matter")
    rows = [access_object(Case.objects.all(), actor, "cases.view_case", pk=c.pk) for c in cases]
    if any(c.village_id != region.pk for c in rows):
        raise ValidationError({"cases": "关联的事项应属于本村"})
    matter.cases.set(rows)
    return matter


def matter_facts(matter: Matter) -> workflow.MatterFacts:
    decision = Decision.objects.filter(matter=matter).first()
    return workflow.MatterFacts(
        decision_exists=decision is not None,
        decision_done=bool(decision and decision.status == DecisionStatus.DONE),
        open_tasks=decision.tasks.filter(status=TaskStatus.OPEN).count() if decision else 0,
    )


def _check_meeting_for_step(matter: Matter, transition, meeting: Meeting | None, poll: Poll | None) -> None:
    if meeting is None:
        kinds = "或".join(str(MeetingKind(k).label) for k in sorted(transition.meeting_kinds))
        raise ValidationError({"meeting": f"“{transition.label}”须在{kinds}上进行，请选择会议"})
    if meeting.region_id != matter.region_id:
        raise ValidationError({"meeting": "会议不是本村的会议"})
    if meeting.kind not in transition.meeting_kinds:
        kinds = "或".join(str(MeetingKind(k).label) for k in sorted(transition.meeting_kinds))
        raise ValidationError({"meeting": f"“{transition.label}”须在{kinds}上进行，"
                                          f"不能在{MeetingKind(meeting.kind).label}上进行"})
    if meeting.status not in (MeetingStatus.OPEN, MeetingStatus.CLOSED):
        raise ValidationError({"meeting": "会议还没有召开"})
    if not meeting.items.filter(matter=matter).exists():
        raise ValidationError({"meeting": "该事项不在这次会议的议程上，请先把它列入议程"})
    state = q.quorum_of(meeting) if meeting.status == MeetingStatus.OPEN else None
    met = state.met if state is not None else meeting.quorum_met is not False
    if not met:
        raise ValidationError({"quorum": state.explain() if state else meeting.quorum_text})
    if transition.needs_vote:
        if poll is None:
            raise ValidationError({"poll": f"“{transition.label}”须经表决通过"})
        if poll.meeting_id != meeting.pk or poll.item is None or poll.item.matter_id != matter.pk:
            raise ValidationError({"poll": "这项表决不是本次会议就该事项的表决"})
        if poll.status != PollStatus.CLOSED:
            raise ValidationError({"poll": "表决还没有结束"})
        if poll.result != PollResult.PASSED:
            raise ValidationError({"poll": "表决未通过：" + poll_explain(poll)})


@transaction.atomic
def matter_advance(*, actor, matter: Matter, step: str, meeting: Meeting | None = None, poll: Poll | None = None,
                   note: str = "", content: str = "") -> MatterStep:
    """One step of 四议两公开, in order, at the right kind of meeting with its vote where one is
    needed. ``resolve`` makes the decision (``content``: what was decided); the two publication
    steps post the notice on the village board."""
    matter = access_object(Matter.objects.select_for_update(), actor, "village.steer_matter", pk=matter.pk)
    error = workflow.step_error(step, matter.status, matter_facts(matter))
    if error:
        raise ValidationError({"step": error})
    transition = workflow.BY_NAME[step]
    if meeting is not None:
        meeting = access_object(Meeting.objects.all(), actor, "village.view_meeting", pk=meeting.pk)
    if poll is not None:
        poll = access_object(Poll.objects.select_related("item"), actor, "village.view_poll", pk=poll.pk)
    if transition.meeting_kinds:
        _check_meeting_for_step(matter, transition, meeting, poll)
    elif meeting is not None or poll is not None:
        raise ValidationError({"meeting": f"“{transition.label}”不在会议上进行"})
    before = snapshot(matter)
    from_status = matter.status
    publicity = None
    if step == "resolve":
        _decide(actor=actor, matter=matter, meeting=meeting, poll=poll, content=content or poll.question)
    elif transition.publishes:
        publicity = _publish_for_matter(actor=actor, matter=matter, category=transition.publishes, note=note)
    matter.status = transition.target
    matter.save(update_fields=["status", "updated_at"])
    row = MatterStep(matter=matter, step=step, from_status=from_status, to_status=matter.status, meeting=meeting,
                     poll=poll, publicity=publicity, note=note.strip(), at=_now(), actor=actor, **_territory(matter))
    row.full_clean()
    row.save()
    audit_record(actor=actor, action=AuditAction.TRANSITION, obj=matter, before=before, after=snapshot(matter),
                 note=f"{transition.label}（{step}）")
    return row


@transaction.atomic
def matter_reject(*, actor, matter: Matter, poll: Poll, note: str = "") -> MatterStep:
    """A review or resolution vote that did not pass ends the matter (it may be proposed anew)."""
    matter = access_object(Matter.objects.select_for_update(), actor, "village.steer_matter", pk=matter.pk)
    poll = access_object(Poll.objects.select_related("item", "meeting"), actor, "village.view_poll", pk=poll.pk)
    transition = workflow.next_step(matter.status)
    if transition is None or not transition.needs_vote:
        raise ValidationError({"step": "当前阶段没有需要表决的步骤"})
    if poll.item is None or poll.item.matter_id != matter.pk or poll.meeting.kind not in transition.meeting_kinds:
        raise ValidationError({"poll": "这项表决不是该事项本阶段的表决"})
    if poll.status != PollStatus.CLOSED or poll.result != PollResult.REJECTED:
        raise ValidationError({"poll": "只有结束且未通过的表决才能终止事项"})
    before, from_status = snapshot(matter), matter.status
    matter.status = MatterStatus.REJECTED
    matter.save(update_fields=["status", "updated_at"])
    row = MatterStep(matter=matter, step="reject", from_status=from_status, to_status=matter.status,
                     meeting=poll.meeting, poll=poll, note=note.strip() or poll_explain(poll), at=_now(), actor=actor,
                     **_territory(matter))
    row.save()
    audit_record(actor=actor, action=AuditAction.TRANSITION, obj=matter, before=before, after=snapshot(matter),
                 note="表决未通过（reject）")
    return row


@transaction.atomic
def matter_exempt(*, actor, matter: Matter, reason: str, content: str) -> MatterStep:
    """紧急事项: decided without the deliberation steps (§3.6 negative list), to be explained
    afterwards; the two publication steps remain."""
    matter = access_object(Matter.objects.select_for_update(), actor, "village.steer_matter", pk=matter.pk)
    if matter.status not in workflow.EXEMPTIBLE:
        raise ValidationError({"step": "已作出决议的事项不能再申请紧急豁免"})
    before, from_status = snapshot(matter), matter.status
    conf = q.settings_for(matter.county_id)
    matter.exempt_reason = _text(reason, "reason", "请说明紧急情况（事后须备案说明）")
    matter.exempted_at, matter.exempted_by = _now(), actor
    matter.explain_due_on = _today() + dt.timedelta(days=conf.exemption_explain_days)
    _decide(actor=actor, matter=matter, meeting=None, poll=None, content=_text(content, "content", "请填写决定内容"))
    matter.status = MatterStatus.RESOLVED
    matter.save()
    row = MatterStep(matter=matter, step="exempt", from_status=from_status, to_status=matter.status,
                     note=matter.exempt_reason, at=_now(), actor=actor, **_territory(matter))
    row.save()
    audit_record(actor=actor, action=AuditAction.TRANSITION, obj=matter, before=before, after=snapshot(matter),
                 note="紧急豁免（exempt）")
    return row


@transaction.atomic
def matter_explain(*, actor, matter: Matter, explanation: str) -> Matter:
    """事后备案说明 of an emergency exemption."""
    matter = access_object(Matter.objects.select_for_update(), actor, "village.steer_matter", pk=matter.pk)
    if not matter.exempted_at:
        raise ValidationError({"explanation": "该事项没有紧急豁免，无需说明"})
    if matter.explained_at:
        raise ValidationError({"explanation": "已作过说明"})
    before = snapshot(matter)
    matter.explanation = _text(explanation, "explanation", "请填写说明")
    matter.explained_at = _now()
    matter.save(update_fields=["explanation", "explained_at", "updated_at"])
    audit_record(actor=actor, action=AuditAction.UPDATE, obj=matter, before=before, after=snapshot(matter))
    return matter


def _decide(*, actor, matter: Matter, meeting: Meeting | None, poll: Poll | None, content: str) -> Decision:
    decision = Decision(region=matter.region, matter=matter, meeting=meeting, poll=poll, title=matter.title,
                        content=content.strip(), decided_on=_today(), created_by=actor,
                        responsible_body=q.body_of(matter.region_id, BodyKind.COMMITTEE), **_territory(matter))
    _save_new(decision, actor, "village.steer_matter")
    cases = list(matter.cases.all())
    for item in matter.agenda_items.prefetch_related("cases"):
        cases.extend(item.cases.all())
    cases = list({c.pk: c for c in cases}.values())
    decision.cases.set(cases)
    how = poll_explain(poll) if poll else "紧急情况下先行决定，事后备案说明"
    _entry(decision, actor=actor, kind=EntryKind.DECIDED, text=f"{content.strip()}（{how}）")
    _tell_cases(actor, decision, "village_decision", f"“{decision.title}”：{content.strip()[:60]}")
    return decision


def _tell_cases(actor, decision: Decision, kind: str, note: str) -> None:
    for case in decision.cases.all():
        try:
            case_record_linked(actor=actor, case=case, kind=kind, note=note)
        except (PermissionDenied, Http404):
            # A case the actor may not reach (it complains about them, or lies beyond their
            # scope) is not told by them; the decision still lists it for those who may.
            continue


def _publish_for_matter(*, actor, matter: Matter, category: str, note: str) -> PublicityItem:
    decision = Decision.objects.filter(matter=matter).first()
    if category == PublicityCategory.DECISION:
        title = f"关于“{matter.title}”的决议公开"
        body = decision.content if decision else matter.description
    else:
        title = f"关于“{matter.title}”的实施结果公开"
        tasks = decision.tasks.order_by("due_on") if decision else []
        body = "\n".join([f"{t.title}：{TaskStatus(t.status).label}" for t in tasks]) or "已落实"
    if note.strip():
        body = f"{body}\n{note.strip()}"
    path = "；".join(f"{workflow.BY_NAME[s.step].label if s.step in workflow.BY_NAME else '紧急决定'}"
                     f"（{timezone.localtime(s.at):%Y-%m-%d}）" for s in matter.steps.order_by("at"))
    item = PublicityItem(region=matter.region, category=category, title=title[:200], body=f"{body}\n\n议事程序：{path}",
                         decision=decision, matter=matter, period_start=_today(), period_end=_today(),
                         created_by=actor, **_territory(matter))
    _save_new(item, actor, "village.steer_matter")
    _publish(actor, item)
    return item


# ---------------------------------------------------------------------------------------------
# decisions followed to the end


def _entry(decision: Decision, *, actor, kind: str, text: str, task: DecisionTask | None = None,
           supervisor: str = "", public: bool = True) -> DecisionEntry:
    name = getattr(actor, "get_full_name", lambda: "")() or getattr(actor, "username", "") if actor else "系统"
    entry = DecisionEntry(decision=decision, task=task, kind=kind, supervisor=supervisor, text=text, public=public,
                          at=_now(), actor=actor if actor is not None and actor.is_authenticated else None,
                          actor_name=name or "系统", **_territory(decision))
    entry.full_clean()
    entry.save()
    return entry


def _decision_for_update(actor, decision: Decision, perm: str = "village.change_decision") -> Decision:
    decision = access_object(Decision.objects.select_for_update(), actor, perm, pk=decision.pk)
    return decision


@transaction.atomic
def decision_record(*, actor, region: Region, title: str, content: str, meeting: Meeting, poll: Poll | None = None,
                    cases: Iterable[Case] = ()) -> Decision:
    """A decision of an ordinary meeting (a courtyard meeting's agreement, a council's), not a
    major matter: it is followed the same way."""
    region = _village(actor, region, "village.add_decision")
    meeting = access_object(Meeting.objects.all(), actor, "village.view_meeting", pk=meeting.pk)
    if meeting.region_id != region.pk:
        raise ValidationError({"meeting": "会议不是本村的会议"})
    if poll is not None:
        if poll.meeting_id != meeting.pk or poll.status != PollStatus.CLOSED:
            raise ValidationError({"poll": "表决不属于本次会议或还没有结束"})
        if poll.result != PollResult.PASSED:
            raise ValidationError({"poll": "表决未通过：" + poll_explain(poll)})
    decision = Decision(region=region, meeting=meeting, poll=poll, title=_text(title, "title", "请填写决定事项"),
                        content=_text(content, "content", "请填写决定内容"), decided_on=_today(), created_by=actor,
                        responsible_body=q.body_of(region.pk, BodyKind.COMMITTEE), **_territory(region))
    _save_new(decision, actor, "village.add_decision")
    rows = {c.pk: c for c in cases}
    for item in meeting.items.prefetch_related("cases"):
        if poll is not None and poll.item_id == item.pk:
            rows.update({c.pk: c for c in item.cases.all()})
    rows = [access_object(Case.objects.all(), actor, "cases.view_case", pk=pk) for pk in rows]
    decision.cases.set(rows)
    _entry(decision, actor=actor, kind=EntryKind.DECIDED, text=decision.content)
    _tell_cases(actor, decision, "village_decision", f"“{decision.title}”：{decision.content[:60]}")
    return decision


@transaction.atomic
def decision_assign(*, actor, decision: Decision, body: Body | None = None, person: Person | None = None) -> Decision:
    decision = _decision_for_update(actor, decision)
    if body is None and person is None:
        raise ValidationError({"responsible": "请指定责任组织或责任人"})
    if body is not None and body.region_id != decision.region_id:
        raise ValidationError({"responsible": "责任组织不是本村的组织"})
    if person is not None:
        _person_in_village(Person.objects.get(pk=person.pk), decision.region, "responsible")
    before = snapshot(decision)
    decision.responsible_body, decision.responsible_person = body, person
    decision.save(update_fields=["responsible_body", "responsible_person"])
    audit_record(actor=actor, action=AuditAction.UPDATE, obj=decision, before=before, after=snapshot(decision))
    return decision


@transaction.atomic
def task_add(*, actor, decision: Decision, title: str, due_on: dt.date, assignee: Person | None = None,
             assignee_body: Body | None = None) -> DecisionTask:
    decision = _decision_for_update(actor, decision)
    if decision.status != DecisionStatus.IN_PROGRESS:
        raise ValidationError({"decision": "决议已落实或撤销，不能再增加任务"})
    if assignee is None and assignee_body is None:
        raise ValidationError({"assignee": "请指定任务的责任人或责任组织"})
    if assignee is not None:
        _person_in_village(Person.objects.get(pk=assignee.pk), decision.region, "assignee")
    if assignee_body is not None and assignee_body.region_id != decision.region_id:
        raise ValidationError({"assignee": "责任组织不是本村的组织"})
    if due_on < decision.decided_on:
        raise ValidationError({"due_on": "完成时限不能早于决议日期"})
    task = DecisionTask(decision=decision, title=_text(title, "title", "请填写任务"), due_on=due_on, assignee=assignee,
                        assignee_body=assignee_body, **_territory(decision))
    _save_new(task, actor, "village.change_decision")
    # The timeline is public: a body is named, a resident who took on a task is not.
    who = f"{assignee_body.name}，" if assignee_body is not None else ""
    _entry(decision, actor=actor, kind=EntryKind.TASK, task=task, text=f"{task.title}（{who}{due_on:%Y-%m-%d}前完成）")
    if assignee is not None:
        _notify(_users_of_persons([assignee.pk]), "village_task",
                f"【{case_notifications.SITE_NAME}】决议“{decision.title}”交给你一项任务：{task.title}，"
                f"请在{due_on:%m月%d日}前完成。")
    return task


@transaction.atomic
def task_progress(*, actor, task: DecisionTask, progress: int, note: str = "") -> DecisionTask:
    task = access_object(DecisionTask.objects.select_for_update(), actor, "village.change_decision", pk=task.pk)
    if task.status != TaskStatus.OPEN:
        raise ValidationError({"task": "任务已完成或取消"})
    try:
        progress = int(progress)
    except (TypeError, ValueError):
        raise ValidationError({"progress": "进度应是 0 到 100 之间的整数"}) from None
    if not 0 <= progress <= 100:
        raise ValidationError({"progress": "进度应是 0 到 100 之间的整数"})
    if progress < task.progress:
        raise ValidationError({"progress": f"进度不能比上次（{task.progress}%）少；情况有变请记录调整"})
    before = snapshot(task)
    task.progress = progress
    if progress == 100:
        task.status, task.done_at = TaskStatus.DONE, _now()
    task.save()
    audit_record(actor=actor, action=AuditAction.UPDATE, obj=task, before=before, after=snapshot(task))
    _entry(task.decision, actor=actor, task=task, kind=EntryKind.PROGRESS,
           text=f"{task.title}：进度{progress}%" + (f"。{note.strip()}" if note.strip() else ""))
    return task


@transaction.atomic
def task_adjust(*, actor, task: DecisionTask, reason: str, due_on: dt.date | None = None,
                cancel: bool = False) -> DecisionTask:
    """调整: a new due date or the task dropped, always with the reason on the timeline."""
    task = access_object(DecisionTask.objects.select_for_update(), actor, "village.change_decision", pk=task.pk)
    if task.status != TaskStatus.OPEN:
        raise ValidationError({"task": "任务已完成或取消"})
    reason = _text(reason, "reason", "请说明调整原因")
    before = snapshot(task)
    if cancel:
        task.status = TaskStatus.CANCELLED
        text = f"{task.title}：取消。{reason}"
    elif due_on is not None:
        if due_on <= task.due_on:
            raise ValidationError({"due_on": "调整后的时限应晚于原时限"})
        text = f"{task.title}：时限由{task.due_on:%Y-%m-%d}调整为{due_on:%Y-%m-%d}。{reason}"
        task.due_on, task.overdue_warned_at = due_on, None
    else:
        raise ValidationError({"due_on": "请填写新的时限，或选择取消任务"})
    task.save()
    audit_record(actor=actor, action=AuditAction.UPDATE, obj=task, before=before, after=snapshot(task))
    _entry(task.decision, actor=actor, task=task, kind=EntryKind.ADJUSTMENT, text=text)
    return task


@transaction.atomic
def decision_note(*, actor, decision: Decision, kind: str, text: str, supervisor: str = "") -> DecisionEntry:
    """Residents' feedback (recorded by staff) or a supervision note (监督: the supervision
    committee, party, administrative, legal, social or third-party)."""
    if kind == EntryKind.SUPERVISION:
        decision = _decision_for_update(actor, decision, "village.supervise_decision")
        if supervisor not in Supervisor.values:
            raise ValidationError({"supervisor": "请选择监督主体"})
    elif kind in (EntryKind.FEEDBACK, EntryKind.ADJUSTMENT):
        decision = _decision_for_update(actor, decision)
        supervisor = ""
    else:
        raise ValidationError({"kind": "只能记录群众反馈、监督意见或调整"})
    entry = _entry(decision, actor=actor, kind=kind, supervisor=supervisor, text=_text(text, "text", "请填写内容"))
    audit_record(actor=actor, action=AuditAction.CREATE, obj=entry, after=snapshot(entry))
    return entry


@transaction.atomic
def decision_complete(*, actor, decision: Decision, note: str = "") -> Decision:
    decision = _decision_for_update(actor, decision)
    if decision.status != DecisionStatus.IN_PROGRESS:
        raise ValidationError({"decision": "决议已落实或撤销"})
    open_tasks = decision.tasks.filter(status=TaskStatus.OPEN).count()
    if open_tasks:
        raise ValidationError({"decision": f"还有{open_tasks}项任务未完成"})
    if not decision.tasks.exists():
        raise ValidationError({"decision": "决议还没有分解任务"})
    before = snapshot(decision)
    decision.status, decision.done_at = DecisionStatus.DONE, _now()
    decision.save(update_fields=["status", "done_at"])
    audit_record(actor=actor, action=AuditAction.UPDATE, obj=decision, before=before, after=snapshot(decision))
    _entry(decision, actor=actor, kind=EntryKind.DONE, text=note.strip() or "决议已落实")
    _tell_cases(actor, decision, "village_progress", f"“{decision.title}”已落实。{note.strip()}"[:120])
    return decision


# ---------------------------------------------------------------------------------------------
# 村务公开


PUBLICITY_EDITABLE = ("title", "body", "lines", "period_start", "period_end", "category")


def _clean_lines(category: str, lines) -> list:
    if lines in (None, ""):
        return []
    if not isinstance(lines, list) or not all(isinstance(row, dict) for row in lines):
        raise ValidationError({"lines": "表格内容格式不正确"})
    if len(lines) > 2000:
        raise ValidationError({"lines": "表格不能超过 2000 行"})
    return lines


@transaction.atomic
def publicity_draft(*, actor, region: Region, category: str, title: str, body: str = "", lines=None,
                    period_start: dt.date | None = None, period_end: dt.date | None = None,
                    decision: Decision | None = None) -> PublicityItem:
    region = _village(actor, region, "village.add_publicityitem")
    if category not in PublicityCategory.values:
        raise ValidationError({"category": "请选择公开类别"})
    if period_start and period_end and period_end < period_start:
        raise ValidationError({"period_end": "公开期间的结束日期不能早于开始日期"})
    if decision is not None and decision.region_id != region.pk:
        raise ValidationError({"decision": "决议不是本村的决议"})
    item = PublicityItem(region=region, category=category, title=_text(title, "title", "请填写标题"), body=body.strip(),
                         lines=_clean_lines(category, lines), period_start=period_start, period_end=period_end,
                         decision=decision, created_by=actor, **_territory(region))
    if not item.body and not item.lines:
        raise ValidationError({"body": "请填写公开内容"})
    return _save_new(item, actor, "village.add_publicityitem")


@transaction.atomic
def publicity_update(*, actor, item: PublicityItem, **changes) -> PublicityItem:
    item = access_object(PublicityItem.objects.select_for_update(), actor, "village.add_publicityitem", pk=item.pk)
    if item.status != PublicityStatus.DRAFT:
        raise ValidationError({"__all__": "已公开的内容不能修改；如有错误，请发布更正公告"})
    unknown = set(changes) - set(PUBLICITY_EDITABLE)
    if unknown:
        raise ValidationError({"__all__": f"不能修改：{', '.join(sorted(unknown))}"})
    before = snapshot(item)
    for name, value in changes.items():
        setattr(item, name, _clean_lines(item.category, value) if name == "lines" else value)
    item.full_clean()
    item.save()
    audit_record(actor=actor, action=AuditAction.UPDATE, obj=item, before=before, after=snapshot(item))
    return item


def _publish(actor, item: PublicityItem) -> PublicityItem:
    before = snapshot(item)
    item.status, item.published_at, item.published_by = PublicityStatus.PUBLISHED, _now(), actor
    item.save(update_fields=["status", "published_at", "published_by"])
    audit_record(actor=actor, action=AuditAction.UPDATE, obj=item, before=before, after=snapshot(item), note="公开")
    return item


@transaction.atomic
def publicity_publish(*, actor, item: PublicityItem) -> PublicityItem:
    item = access_object(PublicityItem.objects.select_for_update(), actor, "village.publish_publicityitem", pk=item.pk)
    if item.status != PublicityStatus.DRAFT:
        raise ValidationError({"__all__": "该内容已经公开"})
    return _publish(actor, item)


@transaction.atomic
def publicity_correct(*, actor, item: PublicityItem, reason: str, **changes) -> PublicityItem:
    """更正: a new notice superseding a published one; both stay on the record."""
    old = access_object(PublicityItem.objects.select_for_update(), actor, "village.publish_publicityitem", pk=item.pk)
    if old.status != PublicityStatus.PUBLISHED:
        raise ValidationError({"__all__": "只能更正已公开且未被更正的内容"})
    reason = _text(reason, "reason", "请说明更正原因")
    unknown = set(changes) - set(PUBLICITY_EDITABLE)
    if unknown:
        raise ValidationError({"__all__": f"不能修改：{', '.join(sorted(unknown))}"})
    fields = {name: getattr(old, name) for name in PUBLICITY_EDITABLE}
    fields.update(changes)
    new = PublicityItem(region=old.region, decision=old.decision, matter=old.matter, supersedes=old, created_by=actor,
                        **{**fields, "lines": _clean_lines(fields["category"], fields["lines"]),
                           "title": f"【更正】{fields['title']}"[:200],
                           "body": f"{fields['body']}\n\n更正说明：{reason}".strip()},
                        **_territory(old))
    _save_new(new, actor, "village.publish_publicityitem")
    before = snapshot(old)
    old.status = PublicityStatus.SUPERSEDED
    old.save(update_fields=["status"])
    audit_record(actor=actor, action=AuditAction.UPDATE, obj=old, before=before, after=snapshot(old), note="被更正")
    return _publish(actor, new)


# ---------------------------------------------------------------------------------------------
# 权力清单、责任清单


@transaction.atomic
def duty_list_ensure(*, actor, region: Region, kind: str) -> DutyList:
    region = _village(actor, region, "village.change_dutylist")
    row = DutyList.objects.select_for_update().filter(region=region, kind=kind).first()
    if row:
        return row
    today = _today()
    months = q.settings_for(region.county_id).duty_review_months
    row = DutyList(region=region, kind=kind, reviewed_on=today, review_due_on=_add_months(today, months),
                   **_territory(region))
    return _save_new(row, actor, "village.change_dutylist")


def _add_months(day: dt.date, months: int) -> dt.date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    import calendar

    return day.replace(year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1]))


@transaction.atomic
def duty_add(*, actor, duty_list: DutyList, title: str, basis: str,
             owners: Iterable[tuple[Body, str]] = ()) -> Duty:
    duty_list = access_object(DutyList.objects.select_for_update(), actor, "village.change_dutylist", pk=duty_list.pk)
    duty = Duty(duty_list=duty_list, title=_text(title, "title", "请填写职责事项"),
                basis=_text(basis, "basis", "请填写依据（法律法规或村规民约）"), **_territory(duty_list))
    _save_new(duty, actor, "village.change_dutylist")
    for body, post in owners:
        duty_owner_add(actor=actor, duty=duty, body=body, post=post)
    return duty


@transaction.atomic
def duty_owner_add(*, actor, duty: Duty, body: Body, post: str = "") -> DutyOwner:
    duty = access_object(Duty.objects.select_for_update(), actor, "village.change_dutylist", pk=duty.pk)
    if body.region_id != duty.duty_list.region_id:
        raise ValidationError({"body": "责任主体不是本村的组织"})
    if post and post not in Post.values:
        raise ValidationError({"post": "请选择职务"})
    if DutyOwner.objects.filter(duty=duty, body=body, post=post).exists():
        raise ValidationError({"body": "已是该职责的责任主体"})
    owner = DutyOwner(duty=duty, body=body, post=post, **_territory(duty))
    return _save_new(owner, actor, "village.change_dutylist")


@transaction.atomic
def duty_owner_remove(*, actor, owner: DutyOwner) -> None:
    owner = access_object(DutyOwner.objects.select_for_update(), actor, "village.change_dutylist", pk=owner.pk)
    audit_record(actor=actor, action=AuditAction.DELETE, obj=owner, before=snapshot(owner))
    owner.delete()


@transaction.atomic
def duty_list_review(*, actor, duty_list: DutyList) -> DutyList:
    """清单审核: the list is confirmed as current; the next review is due after the county's cycle."""
    duty_list = access_object(DutyList.objects.select_for_update(), actor, "village.change_dutylist", pk=duty_list.pk)
    before = snapshot(duty_list)
    today = _today()
    duty_list.reviewed_on = today
    duty_list.review_due_on = _add_months(today, q.settings_for(duty_list.county_id).duty_review_months)
    duty_list.stale_flagged_at = None
    duty_list.save()
    audit_record(actor=actor, action=AuditAction.UPDATE, obj=duty_list, before=before, after=snapshot(duty_list))
    return duty_list

