"""Every write of the linking-up module.

Each service takes a keyword-only ``actor``, runs in one transaction, loads what it changes
through the actor's scope (``access_object``: 403 when the permission is held nowhere, 404 when
the row lies outside the actor's scope), validates with Chinese messages (``ValidationError``;
the transaction rolls back, nothing is half-saved) and writes its audit record. Cases hear about
the needs and projects they became through ``cases.services.case_record_linked``; notices go
through the case loop's inbox (``cases.notifications``).

Who acts for a side: the holder of one of that side's liaison posts. Whoever oversees the
territory's pairings (``linking.supervise_pairing``: the town, the county) may act for a side
whose post is vacant or whose holder has left, and the record says who did.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from gongzhi.cases import notifications as case_notifications
from gongzhi.cases.models import Case
from gongzhi.cases.services import case_record_linked
from gongzhi.core.audit import AuditAction, audit_record, create_audited, save_audited, snapshot
from gongzhi.core.scoping import access_object, can
from gongzhi.core.workdays import add_working_days
from gongzhi.registry.models import (
    Department, Household, HostUnitKind, PartyOrganization, Person, PersonStatus, Region, RegionLevel,
)

from gongzhi.resources import services as inventory

from . import matching
from .models import (
    LINK_SHAPE, REVIEW_DAYS, Activity, ActivityAttendance, ActivityKind, ActivityStatus, Alliance, AllianceMember,
    AllianceOperation, ApprovalRequest, ApprovalStatus, AttendeeSide, Evaluation, Feasibility, FeedbackChannel,
    FeedbackItem, Handover, KeyTask, KeyTaskProgress, KeyTaskStatus, LiaisonPost, LiaisonTerm, Link, LinkActivity,
    LinkingSettings, MessageKind, NeedItem, NeedSource, NeedStatus, Pairing, PairingKind, PairingMessage,
    PairingStatus, Plan, PlanFeedback, PlanStatus, Project, ProjectStatus, ProjectTask, Rating, ResourceItem,
    ResourceShare, ResourceState, Side, StationDay, SurveyResponse, TeamRole, UseForm, VillageGrade, WorkTeam,
    WorkTeamMember,
)

SITE = case_notifications.SITE_NAME
# Words that say an activity happened, not what it changed: an evaluation made only of these is
# refused (the seed's complaint: activities judged by "done").
DONE_WORDS = {"完成", "已完成", "圆满完成", "顺利完成", "好", "很好", "较好", "满意", "done", "ok", "无", "已开展",
              "开展了", "活动已开展", "按计划完成"}


def _now() -> dt.datetime:
    return timezone.now()


def _today() -> dt.date:
    return timezone.localdate()


def _text(value, field: str, message: str, *, limit: int | None = None) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationError({field: message})
    if limit and len(value) > limit:
        raise ValidationError({field: f"不能超过{limit}个字"})
    return value


def _territory(region: Region) -> dict:
    return {"county_id": region.county_id, "town_id": region.town_id, "village_id": region.village_id}


# Every create and change ends the same way in every app (core.audit).
_save_new, _save_changed = create_audited, save_audited


def _notify(user_ids: Iterable[int], kind: str, text: str) -> None:
    case_notifications.notify_users({u for u in user_ids if u}, case=None, kind=kind, text=text)


def _case_ref(case: Case) -> str:
    """How our rows name a case: its number. Never the tracking code — that is the resident's key
    to the case's public page (a case is numbered a moment after it is registered)."""
    return case.number or "编号待定"


def settings_for(county_id: int | None) -> LinkingSettings:
    """The county's settings, or the defaults (an unsaved row) when it has none."""
    return LinkingSettings.objects.filter(county_id=county_id).first() or LinkingSettings(county_id=county_id)


def review_due(kind: str, county_id: int | None, start: dt.date | None = None) -> dt.date:
    rules = settings_for(county_id)
    cycle = {"resource": rules.resources_review, "need": rules.needs_review, "project": rules.projects_review}[kind]
    return (start or _today()) + dt.timedelta(days=REVIEW_DAYS[cycle])


def _posts_of(actor, pairing: Pairing) -> list[LiaisonPost]:
    return [p for p in pairing.posts.all() if p.holder_id == actor.pk]


def acting_side(actor, pairing: Pairing, side: str | None = None) -> str | None:
    """The side ``actor`` acts for: the side of a post they hold; else, for an overseer
    (``supervise_pairing``), ``side`` as asked. None when they may act for neither."""
    held = {p.side for p in _posts_of(actor, pairing)}
    if side and side in held:
        return side
    if not side and len(held) == 1:
        return held.pop()
    if can(actor, "linking.supervise_pairing", pairing):
        return side or Side.PARTNER
    return None


def _require_side(actor, pairing: Pairing, side: str | None, what: str) -> str:
    acting = acting_side(actor, pairing, side)
    if acting is None:
        raise PermissionDenied(f"只有该结对的联络员（或镇、县结对共建负责人）才能{what}")
    return acting


def _liaison_holders(pairing: Pairing) -> set[int]:
    return set(pairing.posts.filter(holder__isnull=False, holder__is_active=True).values_list("holder_id", flat=True))


def _overseers(pairing: Pairing, perm: str = "linking.supervise_pairing") -> set[int]:
    return case_notifications.holder_ids(perm, region_ids=[pairing.town_id or pairing.county_id])


def _active(pairing: Pairing) -> Pairing:
    if pairing.status != PairingStatus.ACTIVE:
        raise ValidationError({"pairing": "报到单尚未经双方签署，结对尚未生效" if pairing.status == PairingStatus.DRAFT
                               else "该结对已结束"})
    return pairing


def _load_pairing(actor, pairing, perm: str, *, lock: bool = False) -> Pairing:
    qs = Pairing.objects.select_for_update(of=("self",)) if lock else Pairing.objects.all()
    return access_object(qs, actor, perm, pk=getattr(pairing, "pk", pairing))


# ---------------------------------------------------------------------------------------------
# settings


SETTINGS_FIELDS = ("resources_review", "needs_review", "projects_review", "approval_working_days",
                   "escalate_working_days", "early_leave_minutes")


@transaction.atomic
def linking_settings_save(*, actor, county: Region, **fields) -> LinkingSettings:
    county = access_object(Region.objects.all(), actor, "linking.change_linkingsettings", pk=county.pk)
    if county.level != RegionLevel.COUNTY:
        raise ValidationError({"county": "结对共建规则按县设置"})
    unknown = set(fields) - set(SETTINGS_FIELDS)
    if unknown:
        raise ValidationError({"__all__": f"不能设置：{', '.join(sorted(unknown))}"})
    row = LinkingSettings.objects.select_for_update().filter(county=county).first()
    before = snapshot(row) if row else None
    row = row or LinkingSettings(county_id=county.pk)
    for name, value in fields.items():
        setattr(row, name, value)
    row.full_clean()
    row.save()
    audit_record(actor=actor, action=AuditAction.UPDATE if before else AuditAction.CREATE, obj=row, before=before,
                 after=snapshot(row), territory=county)
    return row


# ---------------------------------------------------------------------------------------------
# the pairing and its report form


def _check_sides(kind: str, lead: PartyOrganization, partner: PartyOrganization) -> None:
    if lead.pk == partner.pk:
        raise ValidationError({"lead_org": "结对双方不能是同一个党组织"})
    if partner.village_id is None:
        raise ValidationError({"partner_org": "被结对的一方应是村（社区）党组织"})
    if lead.county_id != partner.county_id:
        raise ValidationError({"lead_org": "结对双方应在同一县内"})
    host_kind = lead.host_unit.kind if lead.host_unit_id else None
    if kind in (PairingKind.AGENCY_COMMUNITY, PairingKind.TOWN_COUNTRY):
        if host_kind is None:
            raise ValidationError({"lead_org": "结对共建的牵头方应是机关、学校或企事业单位的党组织"})
    elif kind == PairingKind.VILLAGE_VILLAGE:
        if lead.village_id is None or lead.village_id == partner.village_id:
            raise ValidationError({"lead_org": "村村联建的牵头方应是另一个村（社区）的党组织"})
    elif kind == PairingKind.VILLAGE_ENTERPRISE:
        if host_kind not in (HostUnitKind.ENTERPRISE, HostUnitKind.STATE_FIRM):
            raise ValidationError({"lead_org": "村企联建的另一方应是企业的党组织"})


@transaction.atomic
def pairing_create(*, actor, kind: str, lead_org: PartyOrganization, partner_org: PartyOrganization, title: str,
                   term_start: dt.date, term_end: dt.date, lead_post: str, lead_holder, partner_post: str,
                   partner_holder, principles: list[str] | None = None, joint_actions: list[str] | None = None,
                   agency_department: Department | None = None) -> Pairing:
    """A pairing in draft, with one liaison post on each side; it is in force once both sides have
    signed the report form (``pairing_sign``)."""
    if kind not in PairingKind.values:
        raise ValidationError({"kind": "请选择结对类型"})
    lead_org = PartyOrganization.objects.select_related("host_unit").get(pk=lead_org.pk)
    partner_org = PartyOrganization.objects.get(pk=partner_org.pk)
    _check_sides(kind, lead_org, partner_org)
    region = access_object(Region.objects.all(), actor, "linking.add_pairing", pk=partner_org.village_id)
    if term_end <= term_start:
        raise ValidationError({"term_end": "结对期限的结束日期应晚于开始日期"})
    if agency_department is not None and agency_department.county_id != partner_org.county_id:
        raise ValidationError({"agency_department": "部门不属于本县"})
    if Pairing.objects.filter(lead_org=lead_org, partner_org=partner_org).exclude(status=PairingStatus.ENDED).exists():
        raise ValidationError({"partner_org": "这两个党组织之间已有现行的结对"})
    pairing = Pairing(kind=kind, title=_text(title, "title", "请填写结对名称", limit=200), lead_org=lead_org,
                      partner_org=partner_org, region=region, principles=list(principles or []),
                      joint_actions=list(joint_actions or []), term_start=term_start, term_end=term_end,
                      agency_department=agency_department, lead_town_id=lead_org.town_id if lead_org.village_id else None,
                      lead_village_id=lead_org.village_id, **_territory(region))
    _save_new(pairing, actor, "linking.add_pairing")
    for side, post_title, holder in ((Side.LEAD, lead_post, lead_holder), (Side.PARTNER, partner_post, partner_holder)):
        _post_create(actor, pairing, side, post_title, holder)
    return pairing


def _post_create(actor, pairing: Pairing, side: str, title: str, holder) -> LiaisonPost:
    title = _text(title, f"{side}_post", "请填写联络员岗位名称", limit=100)
    if holder is not None:
        _check_holder(holder, pairing, f"{side}_holder", side)
    post = LiaisonPost(pairing=pairing, side=side, title=title, holder=holder,
                       holder_since=_now() if holder else None)
    post.copy_pairing(pairing)
    if LiaisonPost.objects.filter(pairing=pairing, side=side, title=title).exists():
        raise ValidationError({"title": "本方已有同名的联络员岗位"})
    _save_new(post, actor, "linking.view_pairing")
    if holder is not None:
        term = LiaisonTerm(post=post, holder=holder, started_at=post.holder_since)
        term.copy_pairing(pairing)
        term.save()
        _notify([holder.pk], "linking_post", f"【{SITE}】您已担任“{pairing.title}”的{title}。")
    return post


def _check_holder(holder, pairing: Pairing, field: str, side: str | None = None) -> None:
    if not holder.is_active:
        raise ValidationError({field: "该账号已停用"})
    # One person for both sides would sign both halves of the report form and evaluate themselves.
    if side is not None and LiaisonPost.objects.filter(pairing=pairing, holder=holder).exclude(side=side).exists():
        raise ValidationError({field: f"{holder.display_name or holder.username}已是结对另一方的联络员"})
    # A liaison who could not open the pairing could not act for it: refuse now, not later.
    if not can(holder, "linking.view_pairing", pairing):
        raise ValidationError({field: f"{holder.display_name or holder.username}的账号看不到这个结对，"
                                      "请先为其授予结对共建联络员角色"})


@transaction.atomic
def post_add(*, actor, pairing: Pairing, side: str, title: str, holder=None) -> LiaisonPost:
    pairing = _load_pairing(actor, pairing, "linking.change_pairing")
    if side not in Side.values:
        raise ValidationError({"side": "请选择哪一方的岗位"})
    return _post_create(actor, pairing, side, title, holder)


@transaction.atomic
def pairing_sign(*, actor, pairing: Pairing, side: str) -> Pairing:
    """One side signs the report form (报到单). Only the holder of that side's post signs it."""
    pairing = _load_pairing(actor, pairing, "linking.sign_pairing", lock=True)
    if side not in Side.values:
        raise ValidationError({"side": "请选择签署的一方"})
    if side not in {p.side for p in _posts_of(actor, pairing)}:
        raise PermissionDenied("报到单由本方联络员签署")
    if pairing.status == PairingStatus.ENDED:
        raise ValidationError({"pairing": "该结对已结束"})
    signed_at = pairing.lead_signed_at if side == Side.LEAD else pairing.partner_signed_at
    if signed_at is not None:
        raise ValidationError({"side": f"本方已于{timezone.localtime(signed_at):%Y-%m-%d %H:%M}签署，不能重复签署"})
    before = snapshot(pairing)
    setattr(pairing, f"{side}_signed_at", _now())
    setattr(pairing, f"{side}_signed_by", actor)
    if pairing.lead_signed_at and pairing.partner_signed_at:
        pairing.status = PairingStatus.ACTIVE
    _save_changed(pairing, before, actor, note=f"{Side(side).label}签署报到单")
    if pairing.status == PairingStatus.ACTIVE:
        _notify(_liaison_holders(pairing) | _overseers(pairing), "linking_signed",
                f"【{SITE}】“{pairing.title}”报到单已经双方签署，结对生效。")
    return pairing


@transaction.atomic
def pairing_end(*, actor, pairing: Pairing, reason: str, ended_on: dt.date | None = None) -> Pairing:
    pairing = _load_pairing(actor, pairing, "linking.change_pairing", lock=True)
    if pairing.status == PairingStatus.ENDED:
        raise ValidationError({"pairing": "该结对已结束"})
    before = snapshot(pairing)
    pairing.status, pairing.ended_on = PairingStatus.ENDED, ended_on or _today()
    pairing.end_reason = _text(reason, "reason", "请说明结束结对的原因", limit=200)
    return _save_changed(pairing, before, actor, note="结束结对")


@transaction.atomic
def message_post(*, actor, pairing: Pairing, text: str, kind: str = MessageKind.MESSAGE) -> PairingMessage:
    """A message, decision or note in the pairing's archive (it stays with the posts)."""
    pairing = _load_pairing(actor, pairing, "linking.add_pairingmessage")
    side = _require_side(actor, pairing, None, "在结对档案中留言")
    if kind not in MessageKind.values:
        raise ValidationError({"kind": "请选择类别"})
    post = next((p for p in _posts_of(actor, pairing) if p.side == side), None)
    message = PairingMessage(pairing=pairing, post=post, kind=kind, author=actor,
                             text=_text(text, "text", "请填写内容", limit=2000))
    message.copy_pairing(pairing)
    _save_new(message, actor, "linking.add_pairingmessage")
    _notify(_liaison_holders(pairing) - {actor.pk}, "linking_message",
            f"【{SITE}】“{pairing.title}”有新的{message.get_kind_display()}：{message.text[:60]}")
    return message


# ---------------------------------------------------------------------------------------------
# continuity: the written handover


def open_items(pairing: Pairing) -> list[dict]:
    """What a liaison leaving the post must say something about, each with a stable key."""
    items = []
    for need in pairing.needs.filter(status=NeedStatus.OPEN).order_by("pk"):
        items.append({"key": f"need:{need.pk}", "kind": "需求", "title": need.title})
    for project in pairing.projects.filter(status=ProjectStatus.UNDERWAY).order_by("pk"):
        items.append({"key": f"project:{project.pk}", "kind": "项目", "title": f"{project.title}（进度{project.progress}%）"})
    for approval in pairing.approvals.filter(status=ApprovalStatus.PENDING).order_by("pk"):
        items.append({"key": f"approval:{approval.pk}", "kind": "审批", "title": approval.title})
    for activity in pairing.activities.filter(status=ActivityStatus.PLANNED).order_by("pk"):
        items.append({"key": f"activity:{activity.pk}", "kind": "活动",
                      "title": f"{activity.title}（{timezone.localtime(activity.starts_at):%m-%d}）"})
    for plan in pairing.plans.filter(status=PlanStatus.DRAFT).order_by("pk"):
        items.append({"key": f"plan:{plan.pk}", "kind": "计划", "title": plan.period})
    return items


def archive_summary(pairing: Pairing) -> dict:
    """What the pairing's communication archive holds (snapshotted into a handover)."""
    messages = pairing.messages.all()
    meetings = pairing.activities.filter(kind=ActivityKind.JOINT_MEETING, status=ActivityStatus.HELD)
    return {
        "messages": messages.count(),
        # A held activity's decisions are already a decision message (``activity_hold``): count once.
        "decisions": messages.filter(kind=MessageKind.DECISION).count(),
        "joint_meetings": meetings.count(),
        "activities_held": pairing.activities.filter(status=ActivityStatus.HELD).count(),
        "evaluations": Evaluation.objects.filter(activity__pairing=pairing).count(),
        "feedback": pairing.feedback.count(),
        "last_message_id": messages.order_by("-pk").values_list("pk", flat=True).first(),
        "last_activity_id": pairing.activities.order_by("-pk").values_list("pk", flat=True).first(),
    }


@transaction.atomic
def post_handover(*, actor, post: LiaisonPost, incoming, summary: str, notes: Mapping[str, str]) -> Handover:
    """Pass a post to ``incoming``. The outgoing holder (or, when they have left, an overseer)
    writes a summary and a note on every open item; the archive as it stands is snapshotted
    into the handover, and stays with the post."""
    post = access_object(LiaisonPost.objects.select_for_update(of=("self",)).select_related("pairing", "holder"),
                         actor, "linking.change_liaisonpost", pk=post.pk)
    pairing = post.pairing
    outgoing = post.holder
    is_outgoing = outgoing is not None and outgoing.pk == actor.pk
    if not (is_outgoing or can(actor, "linking.supervise_pairing", pairing)):
        raise PermissionDenied("交接由现任联络员书写；其已离岗的，由镇、县结对共建负责人代为书写")
    if incoming is None:
        raise ValidationError({"incoming": "请选择接任的联络员"})
    if outgoing is not None and incoming.pk == outgoing.pk:
        raise ValidationError({"incoming": "接任者与现任联络员是同一人"})
    _check_holder(incoming, pairing, "incoming", post.side)
    summary = (summary or "").strip()
    if len(summary) < 10:
        raise ValidationError({"summary": "请写明书面交接：结对的现状、联系人、正在办的事（至少10个字）"})
    items = open_items(pairing)
    notes = {k: (v or "").strip() for k, v in (notes or {}).items()}
    missing = [item for item in items if not notes.get(item["key"])]
    if missing:
        raise ValidationError({"notes": "交接须对每项未办结事项写明情况，尚缺："
                                        + "；".join(f"{i['kind']}“{i['title']}”" for i in missing[:10])})
    now = _now()
    handover = Handover(post=post, outgoing=outgoing, incoming=incoming, written_by=actor, summary=summary,
                        open_items=[{**item, "note": notes[item["key"]]} for item in items],
                        archive=archive_summary(pairing))
    handover.copy_pairing(pairing)
    # ``open_items`` is built here, and may rightly be empty (nothing left open); the model field
    # is not blank=True, so full_clean would refuse every handover of a tidy pairing.
    handover.full_clean(exclude=["open_items"])
    handover.save()
    audit_record(actor=actor, action=AuditAction.CREATE, obj=handover, after=snapshot(handover),
                 note=f"{post.title}交接：{getattr(outgoing, 'display_name', '') or '（空缺）'} → "
                      f"{incoming.display_name or incoming.username}")
    LiaisonTerm.objects.filter(post=post, ended_at__isnull=True).update(ended_at=now, handover=handover)
    term = LiaisonTerm(post=post, holder=incoming, started_at=now)
    term.copy_pairing(pairing)
    term.save()
    before = snapshot(post)
    post.holder, post.holder_since = incoming, now
    _save_changed(post, before, actor, note="联络员交接")
    note = PairingMessage(pairing=pairing, post=post, kind=MessageKind.NOTE, author=actor,
                          text=f"{post.title}交接：{summary[:500]}")
    note.copy_pairing(pairing)
    note.save()
    _notify({incoming.pk} | ({outgoing.pk} if outgoing else set()) | _liaison_holders(pairing), "linking_handover",
            f"【{SITE}】“{pairing.title}”的{post.title}已交接给{incoming.display_name or incoming.username}，"
            f"交接记录和结对档案随岗位移交。")
    return handover


@transaction.atomic
def post_assign(*, actor, post: LiaisonPost, holder) -> LiaisonPost:
    """Fill a vacant post. An occupied post passes on only through ``post_handover``."""
    post = access_object(LiaisonPost.objects.select_for_update(of=("self",)).select_related("pairing"), actor,
                         "linking.change_pairing", pk=post.pk)
    if post.holder_id is not None:
        raise ValidationError({"holder": "该岗位有现任联络员：更换联络员须先书面交接"})
    if LiaisonTerm.objects.filter(post=post).exists():
        raise ValidationError({"holder": "该岗位曾有联络员：请通过交接指定接任者"})
    if holder is None:
        raise ValidationError({"holder": "请选择联络员"})
    _check_holder(holder, post.pairing, "holder", post.side)
    before = snapshot(post)
    post.holder, post.holder_since = holder, _now()
    _save_changed(post, before, actor, note="指定联络员")
    term = LiaisonTerm(post=post, holder=holder, started_at=post.holder_since)
    term.copy_pairing(post.pairing)
    term.save()
    _notify([holder.pk], "linking_post", f"【{SITE}】您已担任“{post.pairing.title}”的{post.title}。")
    return post


# ---------------------------------------------------------------------------------------------
# the three lists


@transaction.atomic
def resource_add(*, actor, pairing: Pairing, kind: str, name: str, capacity: int, unit: str, use_form: str,
                 side: str = Side.LEAD, place: Region | None = None, conditions: str = "") -> ResourceItem:
    pairing = _load_pairing(actor, pairing, "linking.add_resourceitem")
    side = _require_side(actor, pairing, side, "登记资源")
    if place is not None and place.county_id != pairing.county_id:
        raise ValidationError({"place": "资源所在地应在本县"})
    today = _today()
    item = ResourceItem(pairing=pairing, side=side, kind=kind, name=_text(name, "name", "请填写资源名称", limit=150),
                        capacity=capacity, unit=_text(unit, "unit", "请填写单位（如 次/月、人、元、间）", limit=20),
                        use_form=use_form, place=place, conditions=(conditions or "").strip(), reviewed_on=today,
                        review_due_on=review_due("resource", pairing.county_id, today))
    item.copy_pairing(pairing)
    _save_new(item, actor, "linking.add_resourceitem")
    pool_into_inventory(actor, item)
    return item


# What a pairing's resource type is in the county's one inventory (gongzhi.resources).
INVENTORY_KIND = {"venue": "venue", "equipment": "material", "information": "data", "experts": "force",
                  "funds": "funds", "volunteers": "force", "service": "force"}


def pool_into_inventory(actor, item: ResourceItem) -> None:
    """Give a pairing's resource its entry in the one inventory (placed where it serves: its own
    place, else the pairing's community), unless it has one."""
    if item.stock_id:
        return
    pairing = item.pairing
    side_org = pairing.lead_org if item.side == Side.LEAD else pairing.partner_org
    stock = inventory.pool_from_pairing(
        actor=actor, kind=INVENTORY_KIND[item.kind], name=item.name, unit=item.unit, owner_name=side_org.name,
        place=item.place or pairing.region, quantity=item.capacity, conditions=item.conditions,
        owner_department=pairing.agency_department if item.side == Side.LEAD else None, pairing_title=pairing.title)
    ResourceItem.objects.filter(pk=item.pk).update(stock=stock)
    item.stock = stock


def _consumed(item: ResourceItem) -> bool:
    """Funds and donated things are used up by a project; a venue, a team or a system is free again."""
    return item.kind == "funds" or item.use_form == UseForm.DONATE


@transaction.atomic
def resource_update(*, actor, resource: ResourceItem, **fields) -> ResourceItem:
    """Correct a resource (capacity, state, conditions …); this also counts as its review."""
    resource = access_object(ResourceItem.objects.select_for_update(of=("self",)).select_related("pairing"), actor,
                             "linking.change_resourceitem", pk=resource.pk)
    _require_side(actor, resource.pairing, resource.side, "修改资源")
    allowed = {"name", "capacity", "unit", "use_form", "state", "place", "conditions"}
    if set(fields) - allowed:
        raise ValidationError({"__all__": f"不能修改：{', '.join(sorted(set(fields) - allowed))}"})
    before = snapshot(resource)
    for name, value in fields.items():
        setattr(resource, name, value)
    if resource.capacity < resource.committed:
        raise ValidationError({"capacity": f"已有{resource.committed}{resource.unit}用于项目，总量不能少于此数"})
    if resource.place_id is not None and resource.place.county_id != resource.county_id:
        raise ValidationError({"place": "资源所在地应在本县"})
    if "state" not in fields and resource.state != ResourceState.WITHDRAWN:
        # A corrected capacity moves the state with it (an exhausted resource given more is usable again).
        resource.state = (ResourceState.EXHAUSTED if resource.committed >= resource.capacity else
                          ResourceState.IN_USE if resource.committed else ResourceState.AVAILABLE)
    _review(resource, "resource")
    _save_changed(resource, before, actor, note="修改资源")
    if resource.stock_id:
        inventory.pairing_recount(actor=actor, resource_id=resource.stock_id, capacity=resource.capacity,
                                  retired=resource.state == ResourceState.WITHDRAWN, note="修改资源")
    return resource


def _review(item, kind: str) -> None:
    today = _today()
    item.reviewed_on, item.review_due_on = today, review_due(kind, item.county_id, today)
    item.stale_flagged_at = None


REVIEWABLE = {"resource": (ResourceItem, "linking.change_resourceitem"), "need": (NeedItem, "linking.change_needitem"),
              "project": (Project, "linking.change_project")}


@transaction.atomic
def list_item_review(*, actor, kind: str, pk: int, still_valid: bool = True, note: str = ""):
    """Review one item of a list: confirm it still holds (the next review is one cycle away and the
    stale flag goes), or withdraw it (a resource no longer offered, a need no longer needed, a
    project suspended)."""
    if kind not in REVIEWABLE:
        raise ValidationError({"kind": "未知的清单"})
    model, perm = REVIEWABLE[kind]
    item = access_object(model.objects.select_for_update(of=("self",)).select_related("pairing"), actor, perm, pk=pk)
    _require_side(actor, item.pairing, getattr(item, "side", None), "复核清单")
    before = snapshot(item)
    if not still_valid:
        reason = _text(note, "note", "请说明不再有效的原因", limit=300)
        if kind == "resource":
            item.state = ResourceState.WITHDRAWN
        elif kind == "need":
            if item.status != NeedStatus.OPEN:
                raise ValidationError({"still_valid": "已匹配或已满足的需求不能撤回"})
            item.status = NeedStatus.WITHDRAWN
        else:
            item.status = ProjectStatus.SUSPENDED
        note = reason
    _review(item, kind)
    return _save_changed(item, before, actor, note=f"清单复核{'' if still_valid else '：不再有效'} {note}".strip())


def _need_defaults(pairing: Pairing, place: Region | None) -> dict:
    if place is not None and place.village_id != pairing.village_id:
        raise ValidationError({"place": "需求地点应在结对的村（社区）内"})
    today = _today()
    return {"reviewed_on": today, "review_due_on": review_due("need", pairing.county_id, today)}


@transaction.atomic
def need_raise(*, actor, pairing: Pairing, title: str, kind: str, grade: str, quantity: int = 1, unit: str = "",
               description: str = "", place: Region | None = None, asked_by: str = "",
               source: str = NeedSource.LIAISON, case: Case | None = None, contact_record=None, meeting=None,
               activity: Activity | None = None) -> NeedItem:
    """Put a need on the pairing's list. From a case, a contact record or a meeting it is one
    click: the source is linked, and a case is told (its timeline and the requester's SMS)."""
    pairing = _load_pairing(actor, pairing, "linking.add_needitem")
    _active(pairing)
    if source not in NeedSource.values:
        raise ValidationError({"source": "请选择需求来源"})
    # Only the source's own record is linked (and checked below); another would be stored unchecked.
    for field_name, linked_source, value in (("case", NeedSource.CASE, case),
                                             ("contact_record", NeedSource.CONTACT, contact_record),
                                             ("meeting", NeedSource.MEETING, meeting),
                                             ("activity", NeedSource.ACTIVITY, activity)):
        if value is not None and source != linked_source:
            raise ValidationError({field_name: "与所选的需求来源不符"})
    if source == NeedSource.CASE:
        if case is None:
            raise ValidationError({"case": "请选择事项"})
        case = access_object(Case.objects.all(), actor, "cases.view_case", pk=case.pk)
        if case.village_id != pairing.village_id:
            raise ValidationError({"case": "该事项不在结对的村（社区）"})
        place = place or case.region
        asked_by = asked_by or f"群众诉求（事项{_case_ref(case)}）"
    elif source == NeedSource.CONTACT:
        from gongzhi.care.models import ContactRecord

        if contact_record is None:
            raise ValidationError({"contact_record": "请选择走访记录"})
        contact_record = access_object(ContactRecord.objects.select_related("household"), actor,
                                       "care.view_contactrecord", pk=contact_record.pk)
        if contact_record.village_id != pairing.village_id:
            raise ValidationError({"contact_record": "该走访记录不在结对的村（社区）"})
        place = place or contact_record.household.region
        asked_by = asked_by or "走访中听到的群众需求"
    elif source == NeedSource.MEETING:
        from gongzhi.village.models import Meeting

        if meeting is None:
            raise ValidationError({"meeting": "请选择会议"})
        meeting = access_object(Meeting.objects.all(), actor, "village.view_meeting", pk=meeting.pk)
        if meeting.village_id != pairing.village_id:
            raise ValidationError({"meeting": "该会议不是结对村（社区）的会议"})
        asked_by = asked_by or f"{meeting.title}（{timezone.localtime(meeting.scheduled_at):%Y-%m-%d}）"
    elif source == NeedSource.ACTIVITY:
        if activity is None or activity.pairing_id != pairing.pk:
            raise ValidationError({"activity": "请选择本结对的活动"})
        asked_by = asked_by or activity.title
    need = NeedItem(pairing=pairing, title=_text(title, "title", "请写明需求", limit=200),
                    description=(description or "").strip(), kind=kind, quantity=quantity, unit=(unit or "").strip(),
                    grade=grade, place=place, source=source, case=case, contact_record=contact_record,
                    meeting=meeting, activity=activity, asked_by=_text(asked_by, "asked_by", "请写明谁提出的需求", limit=100),
                    raised_by=actor, **_need_defaults(pairing, place))
    need.copy_pairing(pairing)
    _save_new(need, actor, "linking.add_needitem")
    if case is not None:
        case_record_linked(actor=actor, case=case, kind="pairing_need",
                           note=f"列入“{pairing.title}”需求清单（{need.get_grade_display()}）：{need.title}")
    _notify(_liaison_holders(pairing) - {actor.pk}, "linking_need",
            f"【{SITE}】“{pairing.title}”新增{need.get_grade_display()}需求：{need.title}")
    return need


@transaction.atomic
def need_check(*, actor, need: NeedItem, feasibility: str, note: str) -> NeedItem:
    """The feasibility check (可行性评估) every need gets before it may be matched."""
    need = access_object(NeedItem.objects.select_for_update(of=("self",)).select_related("pairing"), actor,
                         "linking.change_needitem", pk=need.pk)
    _require_side(actor, need.pairing, None, "评估需求")
    if feasibility not in Feasibility.values or feasibility == Feasibility.PENDING:
        raise ValidationError({"feasibility": "请选择评估结论"})
    if need.status != NeedStatus.OPEN:
        raise ValidationError({"feasibility": "需求已匹配或已关闭，不再评估"})
    before = snapshot(need)
    need.feasibility, need.checked_by = feasibility, actor
    need.feasibility_note = _text(note, "note", "请写明评估意见（条件、难点、所需资源）", limit=300)
    _review(need, "need")
    return _save_changed(need, before, actor, note="可行性评估")


def candidates_for(*, actor, need: NeedItem) -> list[matching.Candidate]:
    """The ranked candidates the actor may see for ``need``: the resources of every current
    pairing of the need's village (a village may have several partners)."""
    resources = (ResourceItem.objects.visible_to(actor, "linking.view_resourceitem")
                 .filter(village_id=need.village_id, pairing__status=PairingStatus.ACTIVE)
                 .select_related("place", "pairing"))
    return matching.rank(need, list(resources))


@transaction.atomic
def project_confirm(*, actor, need: NeedItem, resource: ResourceItem, quantity: int | None = None,
                    title: str = "", tasks: Iterable[Mapping] = ()) -> Project:
    """A liaison confirms a match: the resource's capacity is committed under its row lock (two
    liaisons confirming at once cannot overcommit it) and the need becomes a project."""
    need = access_object(NeedItem.objects.select_for_update(of=("self",)).select_related("pairing", "case"), actor,
                         "linking.add_project", pk=need.pk)
    pairing = _active(need.pairing)
    _require_side(actor, pairing, None, "确认匹配")
    resource = access_object(ResourceItem.objects.select_for_update(of=("self",)).select_related("pairing", "place"),
                             actor, "linking.view_resourceitem", pk=resource.pk)
    if need.status != NeedStatus.OPEN:
        raise ValidationError({"need": "该需求已匹配或已关闭"})
    if need.feasibility in (Feasibility.PENDING, Feasibility.INFEASIBLE):
        raise ValidationError({"need": "需求须先经可行性评估为可行，才能匹配资源"})
    if resource.village_id != need.village_id or resource.pairing.status != PairingStatus.ACTIVE:
        raise ValidationError({"resource": "只能匹配本村（社区）现行结对的资源"})
    candidate = matching.explain(need, resource)
    if candidate is None:
        raise ValidationError({"resource": f"资源类型（{resource.get_kind_display()}）不能满足该需求"})
    if not candidate.available:
        raise ValidationError({"resource": f"“{resource.name}”不能匹配：{candidate.refusal}"})
    quantity = quantity or min(need.quantity, resource.remaining)
    if quantity < 1:
        raise ValidationError({"quantity": "数量至少为1"})
    if quantity > resource.remaining:
        raise ValidationError({"quantity": f"“{resource.name}”余量只有{resource.remaining}{resource.unit}"})
    today = _today()
    project = Project(pairing=pairing, need=need, resource=resource, quantity=quantity,
                      title=(title or "").strip() or need.title, confirmed_by=actor, ranking=candidate.as_dict(),
                      reviewed_on=today, review_due_on=review_due("project", pairing.county_id, today))
    project.copy_pairing(pairing)
    _save_new(project, actor, "linking.add_project", note=f"匹配得分{candidate.score}")
    before = snapshot(resource)
    resource.committed += quantity
    resource.state = ResourceState.EXHAUSTED if resource.committed >= resource.capacity else ResourceState.IN_USE
    _save_changed(resource, before, actor, note=f"用于项目“{project.title}”{quantity}{resource.unit}")
    if resource.stock_id:
        inventory.pairing_commit(actor=actor, resource_id=resource.stock_id, quantity=quantity,
                                 project_title=project.title)
    before = snapshot(need)
    need.status = NeedStatus.MATCHED
    _save_changed(need, before, actor, note="匹配为项目")
    for task in tasks:
        _task_create(actor, project, **task)
    if need.case_id:
        _tell_case(actor, pairing, need.case, f"由“{pairing.title}”项目“{project.title}”承接，使用{resource.name}")
    _notify(_liaison_holders(pairing) - {actor.pk}, "linking_project",
            f"【{SITE}】“{pairing.title}”需求“{need.title}”已匹配{resource.name}，立项为“{project.title}”。")
    return project


def _tell_case(actor, pairing: Pairing, case: Case, note: str) -> None:
    """Tell the case its need became (or finished) a project. An actor who may not read the case
    (an agency's liaison holds no case permission; whoever a case complains about is recused) does
    not write on it: the village side's liaisons, who raised the need from the case, are asked to."""
    if can(actor, "cases.view_case", case):
        case_record_linked(actor=actor, case=case, kind="pairing_project", note=note)
        return
    partner = set(pairing.posts.filter(side=Side.PARTNER, holder__isnull=False).values_list("holder_id", flat=True))
    _notify(partner, "linking_tell_case", f"【{SITE}】请在事项{_case_ref(case)}的办理记录中告知群众：{note}")


def _task_create(actor, project: Project, *, title: str, assignee_name: str, due_on: dt.date,
                 department: Department | None = None, assignee=None) -> ProjectTask:
    if department is not None and department.county_id != project.county_id:
        raise ValidationError({"department": "部门不属于本县"})
    if project.created_at and due_on < timezone.localtime(project.created_at).date():
        raise ValidationError({"due_on": "完成时限不能早于立项日期"})
    task = ProjectTask(project=project, title=_text(title, "title", "请填写任务", limit=200), department=department,
                       assignee=assignee,
                       assignee_name=_text(assignee_name, "assignee_name", "请填写责任人", limit=50), due_on=due_on)
    task.copy_pairing(project.pairing)
    return _save_new(task, actor, "linking.change_project")


@transaction.atomic
def task_add(*, actor, project: Project, **fields) -> ProjectTask:
    project = access_object(Project.objects.select_related("pairing"), actor, "linking.change_project", pk=project.pk)
    _require_side(actor, project.pairing, None, "分解任务")
    if project.status != ProjectStatus.UNDERWAY:
        raise ValidationError({"project": "项目不在实施中"})
    return _task_create(actor, project, **fields)


@transaction.atomic
def task_progress(*, actor, task: ProjectTask, progress: int, note: str) -> ProjectTask:
    task = access_object(ProjectTask.objects.select_for_update(of=("self",)).select_related("project__pairing"),
                         actor, "linking.change_project", pk=task.pk)
    project = task.project
    _require_side(actor, project.pairing, None, "报告进度")
    if project.status != ProjectStatus.UNDERWAY:
        raise ValidationError({"project": "项目不在实施中"})
    try:
        progress = int(progress)
    except (TypeError, ValueError):
        raise ValidationError({"progress": "进度应是0到100之间的整数"}) from None
    if not 0 <= int(progress) <= 100:
        raise ValidationError({"progress": "进度应在0到100之间"})
    if int(progress) < task.progress:
        raise ValidationError({"progress": f"进度不能倒退（已报{task.progress}%）"})
    before = snapshot(task)
    task.progress, task.note = int(progress), _text(note, "note", "请写明进展", limit=300)
    task.done_on = _today() if task.progress == 100 else None
    _save_changed(task, before, actor, note="任务进度")
    # The project's row lock makes two reports on its tasks at once read each other's progress.
    Project.objects.select_for_update().filter(pk=project.pk).values_list("pk", flat=True).first()
    values = list(project.tasks.values_list("progress", flat=True))
    Project.objects.filter(pk=project.pk).update(progress=sum(values) // len(values) if values else 0)
    return task


@transaction.atomic
def project_complete(*, actor, project: Project, outcome: str) -> Project:
    project = access_object(Project.objects.select_for_update(of=("self",)).select_related("pairing", "need"),
                            actor, "linking.change_project", pk=project.pk)
    _require_side(actor, project.pairing, None, "办结项目")
    if project.status != ProjectStatus.UNDERWAY:
        raise ValidationError({"project": "项目不在实施中"})
    if project.tasks.filter(progress__lt=100).exists():
        raise ValidationError({"project": "还有任务未完成"})
    before = snapshot(project)
    project.status, project.progress, project.done_on = ProjectStatus.DONE, 100, _today()
    project.outcome = _text(outcome, "outcome", "请写明项目给群众带来的实际效果", limit=2000)
    _review(project, "project")
    _save_changed(project, before, actor, note="项目办结")
    _finish_with_resource(actor, project)
    need = project.need
    NeedItem.objects.filter(pk=need.pk).update(status=NeedStatus.MET)
    audit_record(actor=actor, action=AuditAction.UPDATE, obj=need, note="需求已满足")
    if need.case_id:
        _tell_case(actor, project.pairing, need.case, f"结对共建项目“{project.title}”已办结：{project.outcome[:100]}")
    return project


def _finish_with_resource(actor, project: Project) -> None:
    """A finished project gives back what it held of a reusable resource (the linking list and
    the inventory alike); what it used up stays used."""
    resource = ResourceItem.objects.select_for_update(of=("self",)).get(pk=project.resource_id)
    consumed = _consumed(resource)
    if not consumed:
        before = snapshot(resource)
        resource.committed = max(resource.committed - project.quantity, 0)
        if resource.state != ResourceState.WITHDRAWN:
            resource.state = (ResourceState.EXHAUSTED if resource.committed >= resource.capacity else
                              ResourceState.IN_USE if resource.committed else ResourceState.AVAILABLE)
        _save_changed(resource, before, actor, note=f"项目“{project.title}”办结，释放{project.quantity}{resource.unit}")
    if resource.stock_id:
        inventory.pairing_finish(actor=actor, resource_id=resource.stock_id, quantity=project.quantity,
                                 project_title=project.title, consumed=consumed)


# ---------------------------------------------------------------------------------------------
# activities, attendance, surveys, evaluations


@transaction.atomic
def activity_plan(*, actor, pairing: Pairing, kind: str, title: str, place: str, starts_at: dt.datetime,
                  ends_at: dt.datetime, project: Project | None = None,
                  follow_up_of: Activity | None = None) -> Activity:
    pairing = _load_pairing(actor, pairing, "linking.add_activity")
    _active(pairing)
    _require_side(actor, pairing, None, "安排活动")
    if kind not in ActivityKind.values:
        raise ValidationError({"kind": "请选择活动类型"})
    if ends_at <= starts_at:
        raise ValidationError({"ends_at": "结束时间应晚于开始时间"})
    if project is not None and project.pairing_id != pairing.pk:
        raise ValidationError({"project": "项目不属于本结对"})
    if follow_up_of is not None and (follow_up_of.pairing_id != pairing.pk or follow_up_of.status != ActivityStatus.HELD):
        raise ValidationError({"follow_up_of": "回访须针对本结对已开展的活动"})
    if kind == ActivityKind.FOLLOW_UP and follow_up_of is None:
        raise ValidationError({"follow_up_of": "回访须选择回访的是哪次活动"})
    activity = Activity(pairing=pairing, kind=kind, title=_text(title, "title", "请填写活动名称", limit=200),
                        place=_text(place, "place", "请填写地点", limit=150), starts_at=starts_at, ends_at=ends_at,
                        project=project, follow_up_of=follow_up_of, created_by=actor)
    activity.copy_pairing(pairing)
    return _save_new(activity, actor, "linking.add_activity")


def _activity(actor, activity, perm: str = "linking.change_activity") -> Activity:
    activity = access_object(Activity.objects.select_for_update(of=("self",)).select_related("pairing"), actor, perm,
                             pk=getattr(activity, "pk", activity))
    _require_side(actor, activity.pairing, None, "记录活动")
    return activity


def _left_early(activity: Activity, left_at: dt.datetime | None) -> bool:
    if left_at is None:
        return False
    margin = dt.timedelta(minutes=settings_for(activity.county_id).early_leave_minutes)
    return left_at < activity.ends_at - margin


@transaction.atomic
def attendance_record(*, actor, activity: Activity, side: str, name: str, arrived_at: dt.datetime | None = None,
                      left_at: dt.datetime | None = None, user=None) -> ActivityAttendance:
    activity = _activity(actor, activity)
    if activity.status == ActivityStatus.CANCELLED:
        raise ValidationError({"activity": "活动已取消"})
    if side not in AttendeeSide.values:
        raise ValidationError({"side": "请选择参加者所属"})
    arrived_at = arrived_at or activity.starts_at
    if left_at is not None and left_at <= arrived_at:
        raise ValidationError({"left_at": "离开时间应晚于到场时间"})
    row = ActivityAttendance(activity=activity, side=side, name=_text(name, "name", "请填写姓名", limit=50), user=user,
                             arrived_at=arrived_at, left_at=left_at, left_early=_left_early(activity, left_at))
    row.copy_pairing(activity.pairing)
    return _save_new(row, actor, "linking.change_activity")


@transaction.atomic
def attendance_left(*, actor, attendance: ActivityAttendance, left_at: dt.datetime) -> ActivityAttendance:
    row = access_object(ActivityAttendance.objects.select_for_update(of=("self",)).select_related("activity__pairing"),
                        actor, "linking.change_activity", pk=attendance.pk)
    _require_side(actor, row.activity.pairing, None, "记录离场")
    if left_at <= row.arrived_at:
        raise ValidationError({"left_at": "离开时间应晚于到场时间"})
    before = snapshot(row)
    row.left_at, row.left_early = left_at, _left_early(row.activity, left_at)
    return _save_changed(row, before, actor, note="提前离场" if row.left_early else "离场")


@transaction.atomic
def activity_hold(*, actor, activity: Activity, summary: str, decisions: str = "",
                  residents_served: int = 0) -> Activity:
    """Record that the activity took place: what was done, and for a joint meeting what it decided."""
    activity = _activity(actor, activity)
    if activity.status != ActivityStatus.PLANNED:
        raise ValidationError({"activity": "该活动已记录或已取消"})
    if activity.starts_at > _now():
        raise ValidationError({"activity": "活动尚未开始"})
    before = snapshot(activity)
    activity.status, activity.held_at = ActivityStatus.HELD, _now()
    activity.summary = _text(summary, "summary", "请写明活动内容和办成的事", limit=4000)
    activity.decisions = (decisions or "").strip()
    if activity.kind == ActivityKind.JOINT_MEETING and not activity.decisions:
        raise ValidationError({"decisions": "联席会议请写明议定事项"})
    activity.residents_served = residents_served
    _save_changed(activity, before, actor, note="活动已开展")
    if activity.decisions:
        message = PairingMessage(pairing=activity.pairing, kind=MessageKind.DECISION, author=actor,
                                 text=f"{activity.title}议定：{activity.decisions[:1800]}")
        message.copy_pairing(activity.pairing)
        message.save()
    return activity


@transaction.atomic
def activity_cancel(*, actor, activity: Activity, reason: str) -> Activity:
    activity = _activity(actor, activity)
    if activity.status != ActivityStatus.PLANNED:
        raise ValidationError({"activity": "只能取消尚未开展的活动"})
    before = snapshot(activity)
    activity.status = ActivityStatus.CANCELLED
    activity.summary = _text(reason, "reason", "请说明取消原因", limit=300)
    return _save_changed(activity, before, actor, note="活动取消")


SURVEY_OPEN_DAYS = 7


def survey_open(activity: Activity) -> bool:
    """Residents may answer from the start of the activity to a week after it ended."""
    now = _now()
    return (activity.status != ActivityStatus.CANCELLED and activity.starts_at <= now
            <= activity.ends_at + dt.timedelta(days=SURVEY_OPEN_DAYS))


def _rating(value, field: str, label: str) -> int:
    try:
        value = int(value)
    except (TypeError, ValueError):
        raise ValidationError({field: f"请选择{label}"}) from None
    if value not in Rating.values:
        raise ValidationError({field: f"请选择{label}"})
    return value


@transaction.atomic
def survey_answer(*, token: str, content, format, timing, comment: str = "") -> SurveyResponse:
    """A resident's on-site survey answer (public: no login, nothing that identifies them)."""
    from django.http import Http404

    activity = Activity.objects.select_related("pairing").filter(survey_token=token).first()
    if activity is None:
        raise Http404
    if not survey_open(activity):
        raise ValidationError({"__all__": "本次活动的问卷已关闭" if activity.starts_at <= _now() else "活动尚未开始"})
    errors, ratings = {}, {}
    for field, label, value in (("content", "活动内容", content), ("format", "活动形式", format),
                                ("timing", "活动时间", timing)):
        try:
            ratings[field] = _rating(value, field, label)
        except ValidationError as exc:
            errors.update(exc.message_dict)
    comment = (comment or "").strip()
    if len(comment) > 300:
        errors["comment"] = ["意见请控制在300字以内"]
    if errors:
        raise ValidationError(errors)
    response = SurveyResponse(activity=activity, comment=comment, **ratings)
    response.copy_pairing(activity.pairing)
    response.full_clean()
    response.save()
    audit_record(actor=None, action=AuditAction.CREATE, obj=response, after=snapshot(response), note="群众现场问卷")
    if comment:
        item = FeedbackItem(pairing=activity.pairing, channel=FeedbackChannel.SURVEY, activity=activity,
                            survey_response=response, text=comment, received_at=response.created_at)
        item.copy_pairing(activity.pairing)
        item.save()
    return response


def _concrete(outcome: str) -> str:
    text = (outcome or "").strip()
    bare = text.strip("。.!！ ").lower()
    if len(text) < 8 or bare in DONE_WORDS:
        raise ValidationError({"outcome": "请写清活动给群众带来的实际变化（解决了什么问题、多少人受益），不能只写“已完成”"})
    return text


@transaction.atomic
def evaluation_record(*, actor, activity: Activity, by_side: str, outcome: str, effect, cooperation,
                      problems_solved: int = 0, residents_benefited: int = 0, improve: str = "") -> Evaluation:
    """One side evaluates the other after an activity, by what it changed."""
    activity = access_object(Activity.objects.select_for_update(of=("self",)).select_related("pairing"), actor,
                             "linking.add_evaluation", pk=activity.pk)
    if by_side not in Side.values:
        raise ValidationError({"by_side": "请选择评价方"})
    if by_side not in {p.side for p in _posts_of(actor, activity.pairing)} \
            and not can(actor, "linking.supervise_pairing", activity.pairing):
        raise PermissionDenied("评价由本方联络员填写")
    if activity.status != ActivityStatus.HELD:
        raise ValidationError({"activity": "活动开展后才能评价"})
    if Evaluation.objects.filter(activity=activity, by_side=by_side).exists():
        raise ValidationError({"by_side": "本方已评价过这次活动"})
    outcome = _concrete(outcome)
    effect = _rating(effect, "effect", "效果")
    cooperation = _rating(cooperation, "cooperation", "对方配合")
    if effect == Rating.GOOD and not (problems_solved or residents_benefited):
        raise ValidationError({"problems_solved": "评价效果“好”，请写明解决的问题数或受益人数"})
    evaluation = Evaluation(activity=activity, by_side=by_side, outcome=outcome, effect=effect,
                            cooperation=cooperation, problems_solved=problems_solved,
                            residents_benefited=residents_benefited, improve=(improve or "").strip(), evaluator=actor)
    evaluation.copy_pairing(activity.pairing)
    _save_new(evaluation, actor, "linking.add_evaluation")
    if evaluation.improve:
        item = FeedbackItem(pairing=activity.pairing, channel=FeedbackChannel.EVALUATION, activity=activity,
                            evaluation=evaluation, text=f"{Side(by_side).label}建议：{evaluation.improve}",
                            received_at=_now(), recorded_by=actor)
        item.copy_pairing(activity.pairing)
        item.save()
    return evaluation


# ---------------------------------------------------------------------------------------------
# feedback from every channel, and plans that take it in


STAFF_CHANNELS = {FeedbackChannel.WINDOW, FeedbackChannel.SUGGESTION_BOX, FeedbackChannel.ACCOUNT}


@transaction.atomic
def feedback_record(*, actor, pairing: Pairing, channel: str, text: str, activity: Activity | None = None,
                    received_at: dt.datetime | None = None) -> FeedbackItem:
    """Feedback taken at the fixed window, from the suggestion box or the party-building account."""
    pairing = _load_pairing(actor, pairing, "linking.add_feedbackitem")
    if channel not in STAFF_CHANNELS:
        raise ValidationError({"channel": "请选择窗口、意见箱或党建公众号"})
    if activity is not None and activity.pairing_id != pairing.pk:
        raise ValidationError({"activity": "活动不属于本结对"})
    item = FeedbackItem(pairing=pairing, channel=channel, text=_text(text, "text", "请填写意见内容", limit=2000),
                        activity=activity, received_at=received_at or _now(), recorded_by=actor)
    item.copy_pairing(pairing)
    return _save_new(item, actor, "linking.add_feedbackitem")


@transaction.atomic
def feedback_from_case(*, actor, pairing: Pairing, case: Case) -> FeedbackItem:
    """A matter that came in on the 12345 line (or any intake channel) about a pairing lands in
    its feedback. The text is the matter's own description; who filed it stays with the case."""
    pairing = _load_pairing(actor, pairing, "linking.add_feedbackitem")
    case = access_object(Case.objects.all(), actor, "cases.view_case", pk=case.pk)
    if case.county_id != pairing.county_id:
        raise ValidationError({"case": "该事项不在本县"})
    if FeedbackItem.objects.filter(pairing=pairing, case=case).exists():
        raise ValidationError({"case": "该事项已记入本结对的意见"})
    item = FeedbackItem(pairing=pairing, channel=FeedbackChannel.HOTLINE, case=case,
                        text=f"事项{_case_ref(case)}：{case.description[:1800]}",
                        received_at=case.received_at or _now(), recorded_by=actor)
    item.copy_pairing(pairing)
    return _save_new(item, actor, "linking.add_feedbackitem", note="12345热线等渠道的事项记入结对意见")


def feedback_awaiting(pairing: Pairing, *, before: dt.datetime | None = None):
    """Feedback no adopted plan has answered yet: what the next plan must show and respond to."""
    answered = PlanFeedback.objects.filter(plan__status=PlanStatus.ADOPTED, plan__pairing=pairing).values("feedback_id")
    qs = FeedbackItem.objects.filter(pairing=pairing).exclude(pk__in=answered)
    return qs.filter(received_at__lte=before) if before else qs


@transaction.atomic
def plan_draft(*, actor, pairing: Pairing, period: str, starts_on: dt.date, ends_on: dt.date, content: str) -> Plan:
    pairing = _load_pairing(actor, pairing, "linking.add_plan")
    _require_side(actor, pairing, None, "制定计划")
    if ends_on <= starts_on:
        raise ValidationError({"ends_on": "结束日期应晚于开始日期"})
    plan = Plan(pairing=pairing, period=_text(period, "period", "请填写计划期（如 2027年度）", limit=40),
                starts_on=starts_on, ends_on=ends_on, content=_text(content, "content", "请填写计划内容", limit=8000),
                created_by=actor)
    plan.copy_pairing(pairing)
    return _save_new(plan, actor, "linking.add_plan")


@transaction.atomic
def plan_respond(*, actor, plan: Plan, responses: Mapping[int, tuple[bool, str]]) -> Plan:
    """Record, for pieces of earlier feedback, whether the plan took them in and how (or why not)."""
    plan = access_object(Plan.objects.select_for_update(of=("self",)).select_related("pairing"), actor,
                         "linking.change_plan", pk=plan.pk)
    _require_side(actor, plan.pairing, None, "修改计划")
    if plan.status != PlanStatus.DRAFT:
        raise ValidationError({"plan": "计划已通过，不能再改"})
    awaiting = {f.pk: f for f in feedback_awaiting(plan.pairing)}
    for feedback_id, (taken_in, response) in responses.items():
        feedback = awaiting.get(int(feedback_id))
        if feedback is None:
            raise ValidationError({"responses": "所选意见不属于本结对或已被此前的计划回应"})
        response = (response or "").strip()
        if not response:
            raise ValidationError({"responses": f"请写明对意见“{feedback.text[:20]}”如何吸纳或为何不吸纳"})
        row, created = PlanFeedback.objects.update_or_create(
            plan=plan, feedback=feedback, defaults={"taken_in": bool(taken_in), "response": response[:300],
                                                    "county_id": plan.county_id, "town_id": plan.town_id,
                                                    "village_id": plan.village_id,
                                                    "agency_department_id": plan.agency_department_id})
        audit_record(actor=actor, action=AuditAction.CREATE if created else AuditAction.UPDATE, obj=row,
                     after=snapshot(row))
    return plan


@transaction.atomic
def plan_adopt(*, actor, plan: Plan) -> Plan:
    """Adopt a plan. Every piece of feedback received before it and not answered by an earlier plan
    must have its response here: feedback nobody reads was the seed's failure."""
    plan = access_object(Plan.objects.select_for_update(of=("self",)).select_related("pairing"), actor,
                         "linking.change_plan", pk=plan.pk)
    _require_side(actor, plan.pairing, None, "通过计划")
    if plan.status != PlanStatus.DRAFT:
        raise ValidationError({"plan": "计划已通过"})
    answered = set(plan.responses.values_list("feedback_id", flat=True))
    # What had arrived when the plan was drafted must be answered; later feedback may be, or waits
    # for the next plan.
    unanswered = [f for f in feedback_awaiting(plan.pairing, before=plan.created_at) if f.pk not in answered]
    if unanswered:
        raise ValidationError({"plan": f"还有{len(unanswered)}条此前的意见未作回应（如“{unanswered[0].text[:30]}”），"
                                       "请逐条写明是否吸纳"})
    before = snapshot(plan)
    plan.status, plan.adopted_at = PlanStatus.ADOPTED, _now()
    _save_changed(plan, before, actor, note=f"通过计划，回应此前意见{len(answered)}条")
    return plan


# ---------------------------------------------------------------------------------------------
# the fast track


@transaction.atomic
def approval_request(*, actor, pairing: Pairing, kind: str, title: str, detail: str, amount=None,
                     project: Project | None = None) -> ApprovalRequest:
    pairing = _load_pairing(actor, pairing, "linking.add_approvalrequest")
    _active(pairing)
    _require_side(actor, pairing, None, "提出审批")
    if project is not None and project.pairing_id != pairing.pk:
        raise ValidationError({"project": "项目不属于本结对"})
    if amount not in (None, ""):
        try:
            amount = Decimal(str(amount))
        except InvalidOperation:
            raise ValidationError({"amount": "金额应是数字"}) from None
        if amount <= 0:
            raise ValidationError({"amount": "金额应大于0"})
    else:
        amount = None
    if kind == "funds" and amount is None:
        raise ValidationError({"amount": "资金申请请填写金额"})
    rules = settings_for(pairing.county_id)
    now = _now()
    due_at = add_working_days(now, rules.approval_working_days)
    request = ApprovalRequest(pairing=pairing, kind=kind, title=_text(title, "title", "请填写申请事项", limit=200),
                              detail=_text(detail, "detail", "请写明用途、时间和数量", limit=2000), amount=amount,
                              project=project, requested_by=actor, requested_at=now, due_at=due_at,
                              county_due_at=add_working_days(due_at, rules.escalate_working_days))
    request.copy_pairing(pairing)
    _save_new(request, actor, "linking.add_approvalrequest")
    _notify(_overseers(pairing, "linking.decide_approvalrequest") - {actor.pk}, "linking_approval",
            f"【{SITE}】快速通道：“{pairing.title}”申请{request.get_kind_display()}“{request.title}”，"
            f"请于{timezone.localtime(due_at):%m月%d日%H:%M}前审批。")
    return request


@transaction.atomic
def approval_decide(*, actor, approval: ApprovalRequest, approve: bool, note: str = "") -> ApprovalRequest:
    """Decide a request once. Two deciders at the same moment: the row lock lets one through and
    the other is told who decided."""
    approval = access_object(ApprovalRequest.objects.select_for_update(of=("self",)).select_related("pairing"),
                             actor, "linking.decide_approvalrequest", pk=approval.pk)
    if approval.status != ApprovalStatus.PENDING:
        who = approval.decided_by.display_name or approval.decided_by.username if approval.decided_by else ""
        raise ValidationError({"__all__": f"该申请已由{who}于{timezone.localtime(approval.decided_at):%Y-%m-%d %H:%M}"
                                          f"{approval.get_status_display()}，不能重复审批"})
    if approval.requested_by_id == actor.pk:
        raise PermissionDenied("不能审批自己提出的申请")
    note = (note or "").strip()
    if not approve and not note:
        raise ValidationError({"note": "不同意的，请写明理由"})
    before = snapshot(approval)
    approval.status = ApprovalStatus.APPROVED if approve else ApprovalStatus.REFUSED
    approval.decided_by, approval.decided_at, approval.decision_note = actor, _now(), note[:300]
    _save_changed(approval, before, actor, note=approval.get_status_display())
    late = "（已超时）" if approval.decided_at > approval.due_at else ""
    _notify({approval.requested_by_id} | _liaison_holders(approval.pairing), "linking_approval_decided",
            f"【{SITE}】快速通道申请“{approval.title}”{approval.get_status_display()}{late}。{note}")
    return approval


# ---------------------------------------------------------------------------------------------
# 三联 and the 535 links


def _person(actor, person, field: str) -> Person:
    person = access_object(Person.objects.all(), actor, "registry.view_person", pk=getattr(person, "pk", person))
    if person.status != PersonStatus.ACTIVE:
        raise ValidationError({field: f"{person.name}不是在册的现居人员"})
    return person


@transaction.atomic
def link_create(*, actor, kind: str, to_region: Region, started_on: dt.date, from_person: Person | None = None,
                from_post: str = "", from_department: Department | None = None, from_region: Region | None = None,
                to_household: Household | None = None, note: str = "") -> Link:
    if kind not in LINK_SHAPE:
        raise ValidationError({"kind": "请选择联系类型"})
    needs, level = LINK_SHAPE[kind]
    if level == "household":
        if to_household is None:
            raise ValidationError({"to_household": "干部联户请选择联系的农户"})
        to_household = access_object(Household.objects.all(), actor, "registry.view_household", pk=to_household.pk)
        to_region = to_household.region
    to_region = access_object(Region.objects.all(), actor, "linking.add_link", pk=to_region.pk)
    if level == "town" and to_region.level != RegionLevel.TOWN:
        raise ValidationError({"to_region": "请选择一个镇（街道）"})
    if level == "village" and to_region.level != RegionLevel.VILLAGE:
        raise ValidationError({"to_region": "请选择一个村（社区）"})
    values = {"from_person": from_person, "from_department": from_department, "from_region": from_region}
    if values[needs] is None:
        raise ValidationError({needs: {"from_person": "请选择联系人", "from_department": "请选择部门",
                                       "from_region": "请选择结对的村（社区）"}[needs]})
    for name, value in values.items():
        if name != needs and value is not None:
            raise ValidationError({name: "这一类联系不填此项"})
    if from_person is not None:
        from_person = _person(actor, from_person, "from_person")
    if from_department is not None and from_department.county_id != to_region.county_id:
        raise ValidationError({"from_department": "部门不属于本县"})
    if from_region is not None:
        if from_region.level != RegionLevel.VILLAGE or from_region.pk == to_region.pk:
            raise ValidationError({"from_region": "请选择另一个村（社区）"})
        if from_region.county_id != to_region.county_id:
            raise ValidationError({"from_region": "结对的村（社区）应在本县内"})
        if kind == "strong_weak":
            grades = dict(VillageGrade.objects.filter(region__in=[from_region, to_region]).values_list("region_id", "grade"))
            if grades.get(from_region.pk) != "strong":
                raise ValidationError({"from_region": f"{from_region.name}未被评定为强村"})
    duplicate = Link.objects.filter(kind=kind, to_region=to_region, to_household=to_household, ended_on__isnull=True,
                                    **{f"{needs}": values[needs]})
    if duplicate.exists():
        raise ValidationError({"to_region": "这条联系已经存在"})
    link = Link(kind=kind, to_region=to_region, to_household=to_household, started_on=started_on,
                from_person=from_person, from_department=from_department, from_region=from_region,
                from_post=(from_post or "").strip()[:100], note=(note or "").strip()[:200], **_territory(to_region))
    return _save_new(link, actor, "linking.add_link")


@transaction.atomic
def link_end(*, actor, link: Link, ended_on: dt.date | None = None, reason: str = "") -> Link:
    link = access_object(Link.objects.select_for_update(of=("self",)), actor, "linking.change_link", pk=link.pk)
    if link.ended_on:
        raise ValidationError({"link": "这条联系已结束"})
    before = snapshot(link)
    link.ended_on = ended_on or _today()
    if link.ended_on < link.started_on:
        raise ValidationError({"ended_on": "结束日期不能早于开始日期"})
    return _save_changed(link, before, actor, note=f"结束联系：{reason}".strip("："))


@transaction.atomic
def link_activity_record(*, actor, link: Link, held_on: dt.date, summary: str, problems_solved: int = 0) -> LinkActivity:
    link = access_object(Link.objects.all(), actor, "linking.add_linkactivity", pk=link.pk)
    if link.ended_on and held_on > link.ended_on:
        raise ValidationError({"held_on": "这条联系已结束"})
    if held_on > _today():
        raise ValidationError({"held_on": "日期不能晚于今天"})
    row = LinkActivity(link=link, held_on=held_on, summary=_text(summary, "summary", "请写明做了什么", limit=300),
                       problems_solved=problems_solved, recorded_by=actor, county_id=link.county_id,
                       town_id=link.town_id, village_id=link.village_id)
    return _save_new(row, actor, "linking.add_linkactivity")


@transaction.atomic
def village_grade_set(*, actor, region: Region, grade: str, reason: str, assessed_on: dt.date | None = None) -> VillageGrade:
    region = access_object(Region.objects.all(), actor, "linking.add_villagegrade", pk=region.pk)
    if region.level != RegionLevel.VILLAGE:
        raise ValidationError({"region": "请选择一个村（社区）"})
    row = VillageGrade.objects.select_for_update().filter(region=region).first()
    before = snapshot(row) if row else None
    row = row or VillageGrade(region=region, **_territory(region))
    row.grade, row.reason = grade, _text(reason, "reason", "请写明评定依据", limit=200)
    row.assessed_on = assessed_on or _today()
    row.full_clean()
    row.save()
    audit_record(actor=actor, action=AuditAction.UPDATE if before else AuditAction.CREATE, obj=row, before=before,
                 after=snapshot(row))
    return row


@transaction.atomic
def alliance_create(*, actor, region: Region, name: str, trade: str, mode: str, founded_on: dt.date) -> Alliance:
    region = access_object(Region.objects.all(), actor, "linking.add_alliance", pk=region.pk)
    if region.level not in (RegionLevel.COUNTY, RegionLevel.TOWN):
        raise ValidationError({"region": "产业联盟设在县或镇（街道）"})
    alliance = Alliance(region=region, name=_text(name, "name", "请填写联盟名称", limit=150),
                        trade=_text(trade, "trade", "请填写产业", limit=100), mode=mode, founded_on=founded_on,
                        **_territory(region))
    return _save_new(alliance, actor, "linking.add_alliance")


@transaction.atomic
def alliance_member_add(*, actor, alliance: Alliance, name: str = "", host_unit=None, member_region: Region | None = None,
                        is_lead: bool = False, joined_on: dt.date | None = None) -> AllianceMember:
    alliance = access_object(Alliance.objects.select_for_update(of=("self",)), actor, "linking.change_alliance",
                             pk=alliance.pk)
    if host_unit is None and member_region is None and not (name or "").strip():
        raise ValidationError({"name": "请选择企业或村（社区），或填写成员名称"})
    if member_region is not None and (member_region.level != RegionLevel.VILLAGE
                                      or member_region.county_id != alliance.county_id):
        raise ValidationError({"member_region": "成员村应是本县的村（社区）"})
    if is_lead and alliance.members.filter(is_lead=True, left_on__isnull=True).exists():
        raise ValidationError({"is_lead": "联盟已有牵头成员"})
    name = (name or "").strip() or (host_unit.name if host_unit else member_region.name)
    member = AllianceMember(alliance=alliance, host_unit=host_unit, member_region=member_region, name=name[:150],
                            is_lead=is_lead, joined_on=joined_on or _today(), county_id=alliance.county_id,
                            town_id=alliance.town_id, village_id=alliance.village_id)
    return _save_new(member, actor, "linking.change_alliance")


@transaction.atomic
def alliance_operation_record(*, actor, alliance: Alliance, title: str, started_on: dt.date, area_mu=None, jobs: int = 0,
                              income=None, note: str = "") -> AllianceOperation:
    alliance = access_object(Alliance.objects.all(), actor, "linking.change_alliance", pk=alliance.pk)
    row = AllianceOperation(alliance=alliance, title=_text(title, "title", "请填写联合经营项目", limit=200),
                            started_on=started_on, area_mu=area_mu, jobs=jobs, income=income,
                            note=(note or "").strip()[:300], county_id=alliance.county_id, town_id=alliance.town_id,
                            village_id=alliance.village_id)
    return _save_new(row, actor, "linking.change_alliance")


@transaction.atomic
def resource_share_record(*, actor, kind: str, mode: str, title: str, from_region: Region, to_region: Region,
                          started_on: dt.date, amount=None, unit: str = "", pairing: Pairing | None = None,
                          alliance: Alliance | None = None) -> ResourceShare:
    # Recorded by the receiving side (or above it): the share is filed under the village it serves.
    to_region = access_object(Region.objects.all(), actor, "linking.add_resourceshare", pk=to_region.pk)
    if from_region.pk == to_region.pk:
        raise ValidationError({"from_region": "共享双方不能是同一处"})
    if from_region.county_id != to_region.county_id:
        raise ValidationError({"from_region": "共享双方应在同一县内"})
    row = ResourceShare(kind=kind, mode=mode, title=_text(title, "title", "请写明共享什么", limit=200),
                        from_region=from_region, to_region=to_region, pairing=pairing, alliance=alliance,
                        amount=amount, unit=(unit or "").strip()[:20], started_on=started_on, **_territory(to_region))
    return _save_new(row, actor, "linking.add_resourceshare")


# ---------------------------------------------------------------------------------------------
# 镇村工作一体化


def _village_region(actor, region, perm: str) -> Region:
    region = access_object(Region.objects.all(), actor, perm, pk=getattr(region, "pk", region))
    if region.level != RegionLevel.VILLAGE:
        raise ValidationError({"region": "请选择一个村（社区）"})
    return region


def _decimal(value, field: str, label: str) -> Decimal:
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, TypeError):
        raise ValidationError({field: f"{label}应是数字"}) from None
    if not number.is_finite():  # NaN, Infinity: comparing them would raise, not refuse
        raise ValidationError({field: f"{label}应是数字"})
    return number


@transaction.atomic
def key_task_set(*, actor, region: Region, year: int, aim: str, title: str, target, unit: str,
                 due_on: dt.date) -> KeyTask:
    """A key task quantified to one village (量化到村), serving one of the three aims."""
    region = _village_region(actor, region, "linking.add_keytask")
    target = _decimal(target, "target", "目标")
    if target <= 0:
        raise ValidationError({"target": "量化目标应大于0"})
    if due_on.year != int(year):
        raise ValidationError({"due_on": f"完成时限应在{year}年内"})
    task = KeyTask(region=region, year=year, aim=aim, title=_text(title, "title", "请填写任务", limit=200),
                   target=target, unit=_text(unit, "unit", "请填写计量单位", limit=20), due_on=due_on, set_by=actor,
                   **_territory(region))
    return _save_new(task, actor, "linking.add_keytask")


@transaction.atomic
def key_task_report(*, actor, task: KeyTask, amount, note: str, on: dt.date | None = None) -> KeyTaskProgress:
    """Report progress on a key task: a ledger row added to what is achieved (a correction is a
    negative amount with its reason, never an edit)."""
    task = access_object(KeyTask.objects.select_for_update(of=("self",)), actor, "linking.change_keytask", pk=task.pk)
    if task.status == KeyTaskStatus.DROPPED:
        raise ValidationError({"task": "该任务已撤销"})
    amount = _decimal(amount, "amount", "完成量")
    if amount == 0:
        raise ValidationError({"amount": "完成量不能为0"})
    if task.achieved + amount < 0:
        raise ValidationError({"amount": f"更正后完成量不能小于0（现为{task.achieved}{task.unit}）"})
    on = on or _today()
    if on > _today():
        raise ValidationError({"on": "日期不能晚于今天"})
    row = KeyTaskProgress(task=task, on=on, amount=amount, note=_text(note, "note", "请写明做了什么", limit=300),
                          reported_by=actor, county_id=task.county_id, town_id=task.town_id, village_id=task.village_id)
    _save_new(row, actor, "linking.change_keytask")
    before = snapshot(task)
    task.achieved += amount
    task.status = KeyTaskStatus.DONE if task.achieved >= task.target else KeyTaskStatus.OPEN
    _save_changed(task, before, actor, note=f"报告进展{amount}{task.unit}")
    return row


@transaction.atomic
def work_team_station(*, actor, region: Region, year: int, town_leader: Person, town_leader_post: str,
                      leader: Person, leader_post: str = "", members: Iterable[tuple[Person, str]] = (),
                      started_on: dt.date | None = None) -> WorkTeam:
    """Station a town work team in a village: its leader and members, and the town leader who
    follows the village (包村领导)."""
    region = _village_region(actor, region, "linking.add_workteam")
    if WorkTeam.objects.filter(region=region, year=year).exists():
        raise ValidationError({"year": f"{region.name}{year}年已派驻工作队"})
    town_leader = _person(actor, town_leader, "town_leader")
    team = WorkTeam(region=region, year=year, town_leader=town_leader,
                    town_leader_post=_text(town_leader_post, "town_leader_post", "请填写包村领导的职务", limit=100),
                    started_on=started_on or _today(), **_territory(region))
    _save_new(team, actor, "linking.add_workteam")
    people = [(leader, TeamRole.LEADER, leader_post)] + [(p, TeamRole.MEMBER, post) for p, post in members]
    seen = set()
    for person, role, post in people:
        person = _person(actor, person, "members")
        if person.pk in seen:
            raise ValidationError({"members": f"{person.name}重复列入工作队"})
        seen.add(person.pk)
        # The team as stationed: its members are there from the team's first day, even when the
        # stationing is entered later.
        _member_create(actor, team, person, role, post, started_on=team.started_on)
    return team


def _member_create(actor, team: WorkTeam, person: Person, role: str, post: str,
                   started_on: dt.date | None = None) -> WorkTeamMember:
    if started_on is None:  # joining later: from today (or the team's first day, if that is still ahead)
        started_on = team.started_on if team.started_on >= _today() - dt.timedelta(days=1) else _today()
    member = WorkTeamMember(team=team, person=person, role=role, post=(post or "").strip()[:100],
                            started_on=started_on,
                            county_id=team.county_id, town_id=team.town_id, village_id=team.village_id)
    return _save_new(member, actor, "linking.add_workteam")


@transaction.atomic
def work_team_member_add(*, actor, team: WorkTeam, person: Person, post: str = "") -> WorkTeamMember:
    team = access_object(WorkTeam.objects.select_for_update(of=("self",)), actor, "linking.add_workteam", pk=team.pk)
    person = _person(actor, person, "person")
    if team.members.filter(person=person, ended_on__isnull=True).exists():
        raise ValidationError({"person": f"{person.name}已在工作队中"})
    return _member_create(actor, team, person, TeamRole.MEMBER, post)


@transaction.atomic
def work_team_member_end(*, actor, member: WorkTeamMember, ended_on: dt.date | None = None) -> WorkTeamMember:
    member = access_object(WorkTeamMember.objects.select_for_update(of=("self",)), actor, "linking.add_workteam",
                           pk=member.pk)
    if member.ended_on:
        raise ValidationError({"member": "已离队"})
    before = snapshot(member)
    member.ended_on = ended_on or _today()
    if member.ended_on < member.started_on:
        raise ValidationError({"ended_on": "离队日期不能早于入队日期"})
    return _save_changed(member, before, actor, note="离开工作队")


@transaction.atomic
def station_day_record(*, actor, member: WorkTeamMember, on: dt.date, work: str, days="1") -> StationDay:
    """A day in the village, recorded by the village or the town (not by the cadre alone)."""
    member = access_object(WorkTeamMember.objects.select_related("team"), actor, "linking.change_workteam",
                           pk=member.pk)
    if on > _today():
        raise ValidationError({"on": "不能登记将来的日期"})
    if on < member.started_on or (member.ended_on and on > member.ended_on):
        raise ValidationError({"on": "该日不在驻村期间"})
    if StationDay.objects.filter(member=member, on=on).exists():
        raise ValidationError({"on": f"{on:%Y-%m-%d}已登记过"})
    row = StationDay(member=member, on=on, days=_decimal(days, "days", "天数"),
                     work=_text(work, "work", "请写明当天在村做了什么", limit=200), recorded_by=actor,
                     county_id=member.county_id, town_id=member.town_id, village_id=member.village_id)
    return _save_new(row, actor, "linking.change_workteam")
