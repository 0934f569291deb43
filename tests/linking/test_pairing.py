"""结对共建: the pairing itself — its sides, the report form (报到单) signed by each side's liaison,
the liaison posts, and the written handover that must precede a change of liaison (the archive
stays with the post)."""
from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils import timezone

from gongzhi.core.models import AuditLog
from gongzhi.linking import selectors, services
from gongzhi.linking.models import (
    Handover, LiaisonPost, LiaisonTerm, MessageKind, Pairing, PairingMessage, PairingStatus, Side,
)
from gongzhi.registry import services as registry_services

from .conftest import make_orgs, make_pairing
from .helpers import activity, add_user, need, notices, org, project, resource, second_agency_liaison

pytestmark = pytest.mark.django_db


def _create(world, *, kind="agency_community", lead_org, partner_org, actor=None, **overrides):
    today = timezone.localdate()
    values = dict(title="结对共建", term_start=today, term_end=today + dt.timedelta(days=365), lead_post="机关联络员",
                  lead_holder=world.user("agency_liaison"), partner_post="村联络员",
                  partner_holder=world.user("village_secretary_a1"), agency_department=world.department)
    values.update(overrides)
    return services.pairing_create(actor=actor or world.user("town_secretary_a"), kind=kind, lead_org=lead_org,
                                   partner_org=partner_org, **values)


# ---------------------------------------------------------------------------------------------
# the report form


def test_pairing_is_a_draft_until_both_sides_have_signed(world):
    linked = make_pairing(world, sign=False)
    pairing = linked.pairing
    assert pairing.status == PairingStatus.DRAFT
    assert (pairing.county_id, pairing.town_id, pairing.village_id) == (
        world.regions["C"].pk, world.regions["A"].pk, world.regions["A1"].pk)
    posts = {p.side: p for p in pairing.posts.all()}
    assert posts[Side.LEAD].holder == linked.lead and posts[Side.PARTNER].holder == linked.partner
    # each post opens its holder's term, and the holder is told
    assert LiaisonTerm.objects.filter(post__pairing=pairing, ended_at__isnull=True).count() == 2
    assert notices("agency_liaison", "linking_post") and notices("village_secretary_a1", "linking_post")
    # lists cannot be filled from a pairing not in force
    with pytest.raises(ValidationError) as exc:
        need(linked, checked=None)
    assert "尚未经双方签署" in str(exc.value)

    services.pairing_sign(actor=linked.lead, pairing=pairing, side="lead")
    pairing.refresh_from_db()
    assert pairing.status == PairingStatus.DRAFT
    assert pairing.lead_signed_by == linked.lead and pairing.lead_signed_at is not None
    assert pairing.partner_signed_at is None
    assert not notices("town_secretary_a", "linking_signed")

    services.pairing_sign(actor=linked.partner, pairing=pairing, side="partner")
    pairing.refresh_from_db()
    assert pairing.status == PairingStatus.ACTIVE and pairing.partner_signed_by == linked.partner
    for username in ("agency_liaison", "village_secretary_a1", "town_secretary_a"):
        assert len(notices(username, "linking_signed")) == 1, username
    notes = list(AuditLog.objects.filter(object_type="linking.pairing", object_id=str(pairing.pk), action="update")
                 .values_list("note", flat=True))
    assert len(notes) == 2 and all("签署报到单" in n for n in notes)


def test_only_that_sides_post_holder_signs(world):
    linked = make_pairing(world, sign=False)
    # the village's liaison cannot sign for the agency, nor the agency's for the village
    with pytest.raises(PermissionDenied):
        services.pairing_sign(actor=linked.partner, pairing=linked.pairing, side="lead")
    with pytest.raises(PermissionDenied):
        services.pairing_sign(actor=linked.lead, pairing=linked.pairing, side="partner")
    # the town oversees the pairing but holds no post: it signs for neither side
    with pytest.raises(PermissionDenied):
        services.pairing_sign(actor=linked.town, pairing=linked.pairing, side="partner")
    # someone outside the scope does not even find it
    with pytest.raises(Http404):
        services.pairing_sign(actor=world.user("outsider_b"), pairing=linked.pairing, side="partner")
    with pytest.raises(ValidationError):
        services.pairing_sign(actor=linked.lead, pairing=linked.pairing, side="both")
    pairing = Pairing.objects.get(pk=linked.pairing.pk)
    assert pairing.lead_signed_at is None and pairing.partner_signed_at is None


def test_signing_twice_is_refused_and_changes_nothing(world):
    linked = make_pairing(world, sign=False)
    services.pairing_sign(actor=linked.lead, pairing=linked.pairing, side="lead")
    first = Pairing.objects.get(pk=linked.pairing.pk).lead_signed_at
    with pytest.raises(ValidationError) as exc:
        services.pairing_sign(actor=linked.lead, pairing=linked.pairing, side="lead")
    assert "不能重复签署" in str(exc.value)
    pairing = Pairing.objects.get(pk=linked.pairing.pk)
    assert pairing.lead_signed_at == first and pairing.status == PairingStatus.DRAFT


def test_an_ended_pairing_is_not_signed_and_ends_once(linked):
    with pytest.raises(ValidationError):
        services.pairing_end(actor=linked.town, pairing=linked.pairing, reason=" ")
    services.pairing_end(actor=linked.town, pairing=linked.pairing, reason="期满")
    pairing = Pairing.objects.get(pk=linked.pairing.pk)
    assert pairing.status == PairingStatus.ENDED and pairing.ended_on == timezone.localdate()
    with pytest.raises(ValidationError):
        services.pairing_end(actor=linked.town, pairing=pairing, reason="再次结束")
    # a liaison may not end it
    with pytest.raises(PermissionDenied):
        services.pairing_end(actor=linked.lead, pairing=pairing, reason="不想结对")
    with pytest.raises(ValidationError) as exc:
        need(linked, checked=None)
    assert "已结束" in str(exc.value)


# ---------------------------------------------------------------------------------------------
# the sides


def test_same_organisation_cannot_pair_with_itself(world):
    _agency, village_org = make_orgs(world)
    with pytest.raises(ValidationError) as exc:
        services._check_sides("agency_community", village_org, village_org)
    assert "lead_org" in exc.value.message_dict


def test_partner_side_must_be_a_village_or_community_organisation(world):
    agency_org, _village = make_orgs(world)
    town_org = org(world, "城关镇某单位支部", region_key="A", host_kind="agency")
    with pytest.raises(ValidationError) as exc:
        services._check_sides("agency_community", agency_org, town_org)
    assert "partner_org" in exc.value.message_dict


def test_both_sides_in_one_county(world):
    system = world.system
    other = registry_services.region_create(actor=system, code="610922000000", name="石泉县", kind="county")
    town = registry_services.region_create(actor=system, code="610922100000", name="城关镇", kind="town", parent=other)
    world.regions["X"] = town
    foreign = org(world, "石泉县某局支部", region_key="X", host_kind="agency")
    _agency, village_org = make_orgs(world)
    with pytest.raises(ValidationError) as exc:
        services._check_sides("agency_community", foreign, village_org)
    assert "同一县" in exc.value.message_dict["lead_org"][0]


def test_agency_and_town_country_pairings_need_a_hosted_lead(world):
    _agency, village_org = make_orgs(world)
    bare = org(world, "无单位支部", region_key="A")
    for kind in ("agency_community", "town_country"):
        with pytest.raises(ValidationError) as exc:
            services._check_sides(kind, bare, village_org)
        assert "牵头方" in exc.value.message_dict["lead_org"][0]
    school = org(world, "城关中学支部", region_key="A", host_kind="school")
    services._check_sides("town_country", school, village_org)  # accepted


def test_village_village_needs_another_villages_branch(world):
    _agency, village_org = make_orgs(world)
    same_village = org(world, "五一村另一支部", region_key="A1", village=True)
    agency = org(world, "某局支部", region_key="A", host_kind="agency")
    for lead in (same_village, agency):
        with pytest.raises(ValidationError) as exc:
            services._check_sides("village_village", lead, village_org)
        assert "村村联建" in exc.value.message_dict["lead_org"][0]
    neighbour = org(world, "月河村支部", region_key="A2", village=True)
    services._check_sides("village_village", neighbour, village_org)  # accepted


def test_village_enterprise_needs_an_enterprise_branch(world):
    _agency, village_org = make_orgs(world)
    for kind in ("agency", "school"):
        lead = org(world, f"{kind}支部", region_key="A", host_kind=kind)
        with pytest.raises(ValidationError):
            services._check_sides("village_enterprise", lead, village_org)
    for kind in ("enterprise", "state_firm"):
        services._check_sides("village_enterprise", org(world, f"{kind}支部", region_key="A", host_kind=kind),
                              village_org)


def test_pairing_create_refusals_save_nothing(world):
    agency_org, village_org = make_orgs(world)
    today = timezone.localdate()
    with pytest.raises(ValidationError) as exc:
        _create(world, kind="friendship", lead_org=agency_org, partner_org=village_org)
    assert "kind" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        _create(world, lead_org=agency_org, partner_org=village_org, term_start=today, term_end=today)
    assert "term_end" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        _create(world, lead_org=agency_org, partner_org=village_org, title="  ")
    assert "title" in exc.value.message_dict
    # the town of B does not reach A1's pairings
    with pytest.raises(Http404):
        _create(world, lead_org=agency_org, partner_org=village_org, actor=world.user("outsider_b"))
    assert not Pairing.objects.exists() and not LiaisonPost.objects.exists()
    # one current pairing per pair of organisations
    _create(world, lead_org=agency_org, partner_org=village_org)
    with pytest.raises(ValidationError) as exc:
        _create(world, lead_org=agency_org, partner_org=village_org, title="再结一次")
    assert "已有现行的结对" in exc.value.message_dict["partner_org"][0]
    assert Pairing.objects.count() == 1


def test_a_new_pairing_of_the_same_pair_after_the_old_one_ended(world):
    agency_org, village_org = make_orgs(world)
    first = _create(world, lead_org=agency_org, partner_org=village_org)
    services.pairing_end(actor=world.user("town_secretary_a"), pairing=first, reason="期满")
    second = _create(world, lead_org=agency_org, partner_org=village_org, title="第二轮结对")
    assert second.pk != first.pk and second.status == PairingStatus.DRAFT


# ---------------------------------------------------------------------------------------------
# liaison posts


def test_holder_must_be_able_to_see_the_pairing(world):
    agency_org, village_org = make_orgs(world)
    # the town of B's secretary cannot open a pairing of A1: refused now, and nothing is kept
    with pytest.raises(ValidationError) as exc:
        _create(world, lead_org=agency_org, partner_org=village_org, partner_holder=world.user("outsider_b"))
    assert "看不到这个结对" in exc.value.message_dict["partner_holder"][0]
    # a liaison of another department cannot see the bureau's pairing either
    from gongzhi.registry.models import Department

    other_department = Department.objects.create(name="县教育局", short_name="教育", county=world.regions["C"])
    stranger = add_user(world, "edu_liaison", "agency_liaison", "教育局联络员", department=other_department)
    with pytest.raises(ValidationError) as exc:
        _create(world, lead_org=agency_org, partner_org=village_org, lead_holder=stranger)
    assert "lead_holder" in exc.value.message_dict
    inactive = second_agency_liaison(world)
    inactive.is_active = False
    inactive.save()
    with pytest.raises(ValidationError) as exc:
        _create(world, lead_org=agency_org, partner_org=village_org, lead_holder=inactive)
    assert "停用" in exc.value.message_dict["lead_holder"][0]
    assert not Pairing.objects.exists() and not LiaisonTerm.objects.exists()


def test_one_person_cannot_hold_both_sides(world):
    agency_org, village_org = make_orgs(world)
    with pytest.raises(ValidationError) as exc:
        _create(world, lead_org=agency_org, partner_org=village_org, partner_holder=world.user("agency_liaison"))
    assert "另一方的联络员" in exc.value.message_dict["partner_holder"][0]
    assert not Pairing.objects.exists()


def test_post_add_by_the_town_with_a_holder_who_sees_the_pairing(linked):
    world = linked.world
    with pytest.raises(PermissionDenied):  # a liaison does not create posts
        services.post_add(actor=linked.lead, pairing=linked.pairing, side="lead", title="第二联络员")
    with pytest.raises(ValidationError) as exc:
        services.post_add(actor=linked.town, pairing=linked.pairing, side="partner", title="网格联络员",
                          holder=world.user("outsider_b"))
    assert "partner_holder" in exc.value.message_dict
    with pytest.raises(ValidationError):
        services.post_add(actor=linked.town, pairing=linked.pairing, side="partner", title="村联络员")  # same title
    with pytest.raises(ValidationError):
        services.post_add(actor=linked.town, pairing=linked.pairing, side="middle", title="中间人")
    post = services.post_add(actor=linked.town, pairing=linked.pairing, side="partner", title="网格联络员",
                             holder=world.user("grid_worker_a1_1"))
    assert post.holder == world.user("grid_worker_a1_1") and post.agency_department_id == world.department.pk
    assert LiaisonTerm.objects.filter(post=post, ended_at__isnull=True).count() == 1


def test_post_assign_fills_a_vacant_post_and_refuses_an_occupied_one(linked):
    world = linked.world
    lead_post = linked.pairing.posts.get(side="lead")
    newcomer = second_agency_liaison(world)
    with pytest.raises(ValidationError) as exc:
        services.post_assign(actor=linked.town, post=lead_post, holder=newcomer)
    assert "须先书面交接" in exc.value.message_dict["holder"][0]
    lead_post.refresh_from_db()
    assert lead_post.holder == linked.lead

    vacant = services.post_add(actor=linked.town, pairing=linked.pairing, side="lead", title="机关副联络员")
    assert vacant.holder is None and not vacant.terms.exists()
    with pytest.raises(PermissionDenied):
        services.post_assign(actor=linked.lead, post=vacant, holder=newcomer)
    with pytest.raises(ValidationError):
        services.post_assign(actor=linked.town, post=vacant, holder=world.user("outsider_b"))
    with pytest.raises(ValidationError):  # the village's liaison is the other side's
        services.post_assign(actor=linked.town, post=vacant, holder=linked.partner)
    services.post_assign(actor=linked.town, post=vacant, holder=newcomer)
    vacant.refresh_from_db()
    assert vacant.holder == newcomer and vacant.holder_since is not None
    assert list(vacant.terms.values_list("holder_id", "ended_at")) == [(newcomer.pk, None)]
    assert notices("agency_liaison_2", "linking_post")


def test_post_assign_refuses_a_post_that_had_a_holder(linked):
    # a post whose holder was taken off outside the handover (e.g. a legacy import) still had a term:
    # its successor comes through a handover, which records what was passed on
    post = linked.pairing.posts.get(side="lead")
    LiaisonPost.objects.filter(pk=post.pk).update(holder=None)
    with pytest.raises(ValidationError) as exc:
        services.post_assign(actor=linked.town, post=post, holder=second_agency_liaison(linked.world))
    assert "通过交接" in exc.value.message_dict["holder"][0]


def test_archive_messages_by_liaisons(linked):
    message = services.message_post(actor=linked.lead, pairing=linked.pairing, text="下周二到村对接", kind="message")
    assert message.post.side == Side.LEAD and message.author == linked.lead
    assert notices("village_secretary_a1", "linking_message") and not notices("agency_liaison", "linking_message")
    with pytest.raises(ValidationError):
        services.message_post(actor=linked.lead, pairing=linked.pairing, text="", kind="message")
    with pytest.raises(ValidationError):
        services.message_post(actor=linked.lead, pairing=linked.pairing, text="x", kind="gossip")
    with pytest.raises(Http404):
        services.message_post(actor=linked.world.user("outsider_b"), pairing=linked.pairing, text="x")
    # the department handler reads the bureau's pairings but holds no post and does not oversee
    with pytest.raises(PermissionDenied):
        services.message_post(actor=linked.world.user("department_handler"), pairing=linked.pairing, text="x")
    assert PairingMessage.objects.filter(pairing=linked.pairing).count() == 1


# ---------------------------------------------------------------------------------------------
# the handover


def _open_items(linked):
    """One open item of each kind the handover must speak to."""
    proj = project(linked, res=resource(linked, name="法律顾问团"), item=need(linked, title="法律咨询"))
    open_need = need(linked, title="课后托管", kind="volunteers", checked=None)
    approval = services.approval_request(actor=linked.lead, pairing=linked.pairing, kind="venue", title="借用会议室",
                                         detail="周五下午两小时")
    planned = activity(linked, hours_ago=-48)
    plan = services.plan_draft(actor=linked.lead, pairing=linked.pairing, period="2027年度",
                               starts_on=dt.date(2027, 1, 1), ends_on=dt.date(2027, 12, 31), content="全年计划")
    return {"need": open_need, "project": proj, "approval": approval, "activity": planned, "plan": plan}


def test_open_items_cover_every_unfinished_thing(linked):
    made = _open_items(linked)
    keys = {item["key"] for item in services.open_items(linked.pairing)}
    assert keys == {f"need:{made['need'].pk}", f"project:{made['project'].pk}", f"approval:{made['approval'].pk}",
                    f"activity:{made['activity'].pk}", f"plan:{made['plan'].pk}"}


def test_handover_without_a_note_on_every_open_item_saves_nothing(linked):
    made = _open_items(linked)
    post = linked.pairing.posts.get(side="lead")
    incoming = second_agency_liaison(linked.world)
    notes = {item["key"]: "已对接，下周办" for item in services.open_items(linked.pairing)}
    notes[f"plan:{made['plan'].pk}"] = "   "  # a blank note is no note
    del notes[f"need:{made['need'].pk}"]
    messages_before = PairingMessage.objects.count()
    with pytest.raises(ValidationError) as exc:
        services.post_handover(actor=linked.lead, post=post, incoming=incoming,
                               summary="结对运行正常，联系人为村书记，正在办法律咨询项目", notes=notes)
    text = exc.value.message_dict["notes"][0]
    assert "课后托管" in text and "2027年度" in text and "法律咨询" not in text
    assert not Handover.objects.exists()
    post.refresh_from_db()
    assert post.holder == linked.lead
    assert list(post.terms.values_list("holder_id", "ended_at")) == [(linked.lead.pk, None)]
    assert PairingMessage.objects.count() == messages_before
    assert not notices("agency_liaison_2", "linking_handover")


def test_handover_by_the_outgoing_liaison_passes_the_post_and_its_archive(linked):
    made = _open_items(linked)
    services.message_post(actor=linked.partner, pairing=linked.pairing, text="村里希望增加法律讲座")
    services.message_post(actor=linked.lead, pairing=linked.pairing, text="同意每季度一次", kind="decision")
    post = linked.pairing.posts.get(side="lead")
    incoming = second_agency_liaison(linked.world)
    items = services.open_items(linked.pairing)
    notes = {item["key"]: f"{item['title']}：已交代" for item in items}
    archive_before = services.archive_summary(linked.pairing)
    handover = services.post_handover(actor=linked.lead, post=post, incoming=incoming,
                                      summary="结对运行正常，联系人为村书记，正在办法律咨询项目", notes=notes)
    assert handover.outgoing == linked.lead and handover.incoming == incoming and handover.written_by == linked.lead
    assert [i["key"] for i in handover.open_items] == [i["key"] for i in items]
    assert all(i["note"].endswith("已交代") for i in handover.open_items)
    # the archive as it stood, kept in the handover
    assert handover.archive == archive_before
    assert handover.archive["messages"] == 2 and handover.archive["decisions"] == 1
    assert handover.archive["last_activity_id"] == made["activity"].pk
    # the post passes on: the old term closes with this handover, the new one opens
    post.refresh_from_db()
    assert post.holder == incoming
    terms = list(post.terms.order_by("started_at").values_list("holder_id", "handover_id"))
    assert terms == [(linked.lead.pk, handover.pk), (incoming.pk, None)]
    old, new = post.terms.order_by("started_at")
    assert old.ended_at is not None and new.ended_at is None and new.started_at == old.ended_at
    # the handover is itself a note of the archive, which stays with the post
    note = PairingMessage.objects.get(pairing=linked.pairing, kind=MessageKind.NOTE)
    assert note.post == post and "交接" in note.text
    archive = selectors.archive_of(user=incoming, pairing=linked.pairing)
    assert {m.text for m in archive["messages"]} >= {"村里希望增加法律讲座", "同意每季度一次"}
    assert list(archive["handovers"]) == [handover]
    # the incoming (and the other side) are told; the new holder acts for the side, the old one no longer
    assert len(notices("agency_liaison_2", "linking_handover")) == 1
    assert notices("village_secretary_a1", "linking_handover") and notices("agency_liaison", "linking_handover")
    assert services.acting_side(incoming, linked.pairing) == Side.LEAD
    with pytest.raises(PermissionDenied):
        services.message_post(actor=linked.lead, pairing=linked.pairing, text="我还在")
    assert AuditLog.objects.filter(object_type="linking.handover", object_id=str(handover.pk),
                                   action="create").exists()


def test_handover_written_by_an_overseer_when_the_liaison_has_left(linked):
    linked.lead.is_active = False
    linked.lead.save()
    post = linked.pairing.posts.get(side="lead")
    incoming = second_agency_liaison(linked.world)
    handover = services.post_handover(actor=linked.town, post=post, incoming=incoming,
                                      summary="原联络员已调离，由镇里代为交接，当前没有未办事项", notes={})
    assert handover.written_by == linked.town and handover.outgoing == linked.lead and handover.open_items == []
    post.refresh_from_db()
    assert post.holder == incoming
    assert notices("agency_liaison_2", "linking_handover") and notices("village_secretary_a1", "linking_handover")
    assert LiaisonTerm.objects.get(post=post, holder=linked.lead).handover == handover


def test_handover_is_written_only_by_the_outgoing_or_an_overseer(linked):
    post = linked.pairing.posts.get(side="lead")
    incoming = second_agency_liaison(linked.world)
    with pytest.raises(PermissionDenied):
        services.post_handover(actor=linked.partner, post=post, incoming=incoming,
                               summary="由村里代写的交接说明内容", notes={})
    with pytest.raises(PermissionDenied):
        services.post_handover(actor=incoming, post=post, incoming=incoming,
                               summary="我自己接手这个岗位的说明", notes={})
    with pytest.raises(Http404):
        services.post_handover(actor=linked.world.user("outsider_b"), post=post, incoming=incoming,
                               summary="外镇代写的交接说明内容", notes={})
    assert not Handover.objects.exists()


def test_handover_validation(linked):
    post = linked.pairing.posts.get(side="lead")
    incoming = second_agency_liaison(linked.world)
    cases = [
        (dict(incoming=None, summary="结对运行正常，没有未办事项"), "incoming"),
        (dict(incoming=linked.lead, summary="结对运行正常，没有未办事项"), "incoming"),
        (dict(incoming=linked.world.user("outsider_b"), summary="结对运行正常，没有未办事项"), "incoming"),
        (dict(incoming=linked.partner, summary="结对运行正常，没有未办事项"), "incoming"),
        (dict(incoming=incoming, summary="交接了"), "summary"),
    ]
    for kwargs, field in cases:
        with pytest.raises(ValidationError) as exc:
            services.post_handover(actor=linked.lead, post=post, notes={}, **kwargs)
        assert field in exc.value.message_dict, kwargs
    assert not Handover.objects.exists()
    post.refresh_from_db()
    assert post.holder == linked.lead
