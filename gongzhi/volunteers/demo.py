"""A year of volunteer service for the demo county: ``generate_volunteers_year(seed)``.

Run after the registry exists (``gongzhi demo``; see gongzhi/demo/README.md). Everything goes
through the services — so every row is audited and the ledger balances by construction — on a story
clock (``timezone.now`` is the moment of each step, from a year ago to today):

* the county's rules: eight service kinds (法律咨询 needs legal ≥ 中级, 义诊 medical ≥ 中级, 心理疏导
  psychological, 农技指导 technical, 应急巡查 emergency rescue; 环境整治, 关爱老人上门, 政策宣讲 need
  none), points rules (expiry 24 months) and a catalogue of community services and benefits with stock;
* a corps in ``VILLAGES`` villages (the ``village`` login's first): village worthies and retired
  party members among the older residents, community volunteers, and professionals with
  certifications by field and level (some expiring within 30 days, some already expired);
* service tasks through the year, each with volunteers signed up, assigned, checked in and out
  and their hours confirmed — points earned — and redemptions from the catalogue (a few cancelled);
* the showcase, in the ``village`` login's village: a resident's matter (a case of the village,
  when there is one) becomes a 法律咨询 task; the certified lawyer is assigned and serves, the
  ``grid`` login confirms the hours and the points are earned, then redeemed; an uncertified
  volunteer who signed up too is refused — the refusal names the missing certification, stays on
  the sign-up and is in the audit trail.

Actors: the demo logins ``county``, ``village`` and ``grid`` where they exist (the demo command calls
``ensure_demo_logins(password=None, only=SHOWCASE_LOGINS)`` first), else the data account
``demo_volunteers_data`` (a superuser without a usable password, deactivated when the run ends).
Deterministic: every choice draws from ``random.Random`` seeded with the seed and the village code.
"""
from __future__ import annotations

import datetime as dt
import random
import time
from contextlib import contextmanager
from decimal import Decimal
from unittest import mock

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from gongzhi.registry.models import Person, PersonStatus, Region, RegionLevel

from . import selectors, services
from .models import SignUpStatus, Volunteer

SHOWCASE_LOGINS = ("county", "village", "grid")
DATA_ACCOUNT = "demo_volunteers_data"
VILLAGES = 30

KINDS = [  # name, field, level, points an hour, longest session, what it is
    ("法律咨询", "legal", 2, 20, "3", "为群众解答法律问题、协助调解纠纷"),
    ("义诊", "medical", 2, 20, "4", "量血压、测血糖、健康咨询"),
    ("心理疏导", "psychological", 1, 15, "2", "为留守老人、儿童和困难群众做心理疏导"),
    ("农技指导", "technical", 1, 15, "4", "茶园、魔芋、莲藕种植养殖技术指导"),
    ("应急巡查", "rescue", 1, 12, "6", "汛期地质灾害隐患点巡查"),
    ("环境整治", "", None, 10, "4", "村道、河道清理，垃圾分类劝导"),
    ("关爱老人上门", "", None, 10, "3", "为独居、高龄老人打扫、代购、陪伴"),
    ("政策宣讲", "", None, 10, "2", "惠民政策、移风易俗宣讲"),
]
CATALOGUE = [  # name, kind, provider, points, stock
    ("理发一次", "service", "村便民理发点", 20, 300), ("家电上门维修一次", "service", "镇家电维修部", 60, 80),
    ("健康体检一次", "service", "镇卫生院", 80, 120), ("半天托管孩子", "service", "村儿童之家", 30, 100),
    ("大米5公斤", "benefit", "县供销社", 50, 200), ("食用油5升", "benefit", "县供销社", 40, 200),
    ("洗衣液两瓶", "benefit", "村爱心超市", 25, 300),
]
CERT_BODIES = {"legal": "汉阴县司法局", "medical": "汉阴县卫生健康局", "psychological": "安康市心理卫生协会",
               "technical": "汉阴县农业农村局", "rescue": "汉阴县应急管理局"}
PLACES = ["村委会", "村文化广场", "村卫生室", "村道沿线", "老年活动中心", "村小学"]


class _Clock:
    def __init__(self, at):
        self.at = at

    def __call__(self):
        return self.at


@contextmanager
def _story_clock(at):
    clock = _Clock(at)
    with mock.patch.object(timezone, "now", clock):
        yield clock


def _aware(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))


def _data_account():
    User = get_user_model()
    user, created = User.objects.get_or_create(username=DATA_ACCOUNT, defaults={
        "display_name": "志愿服务演示数据", "is_superuser": True})
    if created:
        user.set_unusable_password()
    user.is_active, user.is_superuser = True, True
    user.save()
    return user


def _login(username, fallback):
    return get_user_model().objects.filter(username=username, is_active=True).first() or fallback


def _adults(village_id: int, today: dt.date) -> list[Person]:
    latest = today.replace(year=today.year - 18)
    # Residents without a login of their own: a worker never serves as a volunteer they confirm for.
    return list(Person.objects.filter(village_id=village_id, status=PersonStatus.ACTIVE, birth_date__lte=latest,
                                      volunteer__isnull=True, logins__isnull=True).order_by("pk")[:400])


def generate_volunteers_year(seed: int, *, villages: int = VILLAGES, today: dt.date | None = None,
                             log=lambda message: None) -> dict:
    started = time.monotonic()
    county = Region.objects.filter(level=RegionLevel.COUNTY).order_by("code").first()
    if county is None:
        return {"skipped": "no county"}
    if Volunteer.objects.filter(county=county).exists():
        return {"skipped": "the county already has volunteers"}
    today = today or timezone.localdate()
    data = _data_account()
    county_actor = _login("county", data)
    try:
        with transaction.atomic(), _story_clock(_aware(today - dt.timedelta(days=370), 9)) as clock:
            stats = _generate(seed, county, today, data, county_actor, clock, villages, log)
    finally:
        data.is_active = False
        data.save(update_fields=["is_active"])
    stats["seconds"] = round(time.monotonic() - started, 1)
    return stats


def _generate(seed, county, today, data, county_actor, clock, n_villages, log) -> dict:
    from gongzhi.village.demo import showcase_village

    stats = {"volunteers": 0, "certifications": 0, "tasks": 0, "confirmed": 0, "hours": Decimal(0), "redemptions": 0,
             "cancelled_redemptions": 0, "refused": 0}
    kinds = {}
    for name, field, level, pph, hours, description in KINDS:
        kinds[name] = services.service_kind_save(actor=county_actor, county=county, name=name, required_field=field,
                                                 min_level=level, points_per_hour=pph, max_hours=hours,
                                                 description=description)
    services.points_settings_save(actor=county_actor, county=county, expiry_months=24, yearly_cap=2000)
    items = [services.catalogue_item_save(actor=county_actor, county=county, name=n, kind=k, provider=p, points_cost=c,
                                          stock=s) for n, k, p, c, s in CATALOGUE]
    first = showcase_village(county)
    showcase = _showcase(seed, county, first, kinds, items, today, clock, data, county_actor, stats)
    all_villages = list(Region.objects.filter(county_id=county.pk, level=RegionLevel.VILLAGE).order_by("code")
                        .values_list("pk", flat=True))
    chosen = ([first] if first in all_villages else []) + [v for v in all_villages if v != first]
    chosen = chosen[:n_villages]
    corps_by_village = {}
    for vid in chosen:
        region = Region.objects.get(pk=vid)
        rng = random.Random(f"{seed}:volunteers:{region.code}")
        people = _adults(vid, today)
        rng.shuffle(people)
        corps = []
        for person in people[:rng.randint(7, 12)]:
            clock.at = _aware(today - dt.timedelta(days=rng.randint(380, 900)), 10)
            age = today.year - person.birth_date.year
            category = (rng.choice(["worthy", "retired_member", "retired_cadre"]) if age >= 58
                        else rng.choice(["community", "community", "professional"]))
            skills = {"professional": rng.choice(["执业律师", "乡村医生", "心理咨询师", "农技员", "应急救援队员"]),
                      "worthy": "热心公益，在村里威望高", "retired_cadre": "退休前在镇政府工作"}.get(category, "")
            v = services.volunteer_register(actor=data, person=person, category=category, region=region, skills=skills,
                                            joined_on=clock.at.date())
            corps.append(v)
            stats["volunteers"] += 1
            if category == "professional" or rng.random() < 0.15:
                field = {"执业律师": "legal", "乡村医生": "medical", "心理咨询师": "psychological", "农技员": "technical",
                         "应急救援队员": "rescue"}.get(skills) or rng.choice(list(CERT_BODIES))
                issued = today - dt.timedelta(days=rng.randint(200, 700))
                roll = rng.random()
                if roll < 0.1:  # expires within 30 days: the overview lists it
                    expires = today + dt.timedelta(days=rng.randint(3, 29))
                elif roll < 0.2:  # already expired: a volunteer who cannot serve that kind any more
                    issued, expires = today - dt.timedelta(days=800), today - dt.timedelta(days=rng.randint(5, 60))
                else:
                    expires = issued + dt.timedelta(days=365 * 3)
                clock.at = _aware(issued + dt.timedelta(days=1), 15)
                services.certification_grant(actor=county_actor, volunteer=v, field=field, level=rng.choice([1, 2, 2, 3]),
                                             certifying_body=CERT_BODIES[field], certificate_no=f"ZY{v.pk:06d}",
                                             certified_on=issued, expires_on=expires)
                stats["certifications"] += 1
        corps_by_village[vid] = corps
        _service_year(rng, region, corps, kinds, items, today, clock, data, stats)
    clock.at = _aware(today, 12)
    totals = selectors.ledger_totals(user=data)
    stats["hours"] = str(stats["hours"])
    stats.update(ledger=totals, showcase=showcase)
    log(f"    {stats['volunteers']} volunteers, {stats['confirmed']} sessions confirmed ({stats['hours']} h), "
        f"ledger {'balanced' if totals and totals['balanced'] else 'NOT balanced'}")
    return stats


def _serve(signup, task, hours: float, actor, confirmer, stats) -> None:
    s = services.signup_check_in(actor=actor, signup=signup, at=task.starts_at)
    s = services.signup_check_out(actor=actor, signup=s, at=task.starts_at + dt.timedelta(minutes=int(hours * 60)))
    s = services.signup_confirm_hours(actor=confirmer, signup=s)
    stats["confirmed"] += 1
    stats["hours"] += s.hours_confirmed


def _service_year(rng, region, corps, kinds, items, today, clock, actor, stats) -> None:
    if not corps:
        return
    for n in range(rng.randint(4, 7)):
        name = rng.choice(list(kinds))
        kind = kinds[name]
        day = today - dt.timedelta(days=rng.randint(2, 360))
        clock.at = _aware(day - dt.timedelta(days=3), 9)
        start = _aware(day, rng.choice([8, 9, 14]))
        task = services.task_create(actor=actor, kind=kind, title=f"{region.name}{name}", region=region,
                                    place=region.name + rng.choice(PLACES), starts_at=start,
                                    ends_at=start + dt.timedelta(hours=float(kind.max_hours)), slots=rng.randint(2, 5))
        stats["tasks"] += 1
        taken = []
        for v in rng.sample(corps, min(len(corps), task.slots + 1)):
            try:
                s = services.signup_create(actor=actor, task=task, volunteer=v, assign=True)
            except ValidationError:  # not certified for it, or the task is full: not assigned
                continue
            taken.append(s)
        clock.at = start + dt.timedelta(hours=8)
        for s in taken:
            _serve(s, task, rng.choice([1, 1.5, 2, 2.5, 3, 4]), actor, actor, stats)
    # spending: about a third of the corps redeems something; a few change their mind
    for v in corps:
        if rng.random() > 0.35:
            continue
        clock.at = _aware(today - dt.timedelta(days=rng.randint(1, 30)), 16)
        item = rng.choice(items)
        try:
            r = services.redemption_create(actor=actor, volunteer=v, item=item, quantity=1)
        except ValidationError:  # not enough points: nothing saved
            continue
        stats["redemptions"] += 1
        if rng.random() < 0.1:
            services.redemption_cancel(actor=actor, redemption=r, reason="志愿者改换其他项目")
            stats["cancelled_redemptions"] += 1
        elif rng.random() < 0.7:
            services.redemption_deliver(actor=actor, redemption=r)


def _showcase(seed, county, village_id, kinds, items, today, clock, data, county_actor, stats) -> dict | None:
    from gongzhi.cases.models import Case

    if village_id is None:
        return None
    region = Region.objects.get(pk=village_id)
    village_actor, grid_actor = _login("village", data), _login("grid", data)
    rng = random.Random(f"{seed}:volunteers:showcase")
    people = _adults(village_id, today)
    if len(people) < 2:
        return None
    clock.at = _aware(today - dt.timedelta(days=40), 10)
    lawyer = services.volunteer_register(actor=village_actor, person=people[0],
                                         category="professional", region=region, skills="执业律师，县法律援助中心志愿律师")
    plain = services.volunteer_register(actor=village_actor, person=people[1], category="community", region=region,
                                        skills="热心村务")
    services.certification_grant(actor=county_actor, volunteer=lawyer, field="legal", level=2,
                                 certifying_body="汉阴县司法局", certificate_no="SF-2025-0417",
                                 certified_on=today - dt.timedelta(days=400), expires_on=today + dt.timedelta(days=700))
    stats["volunteers"] += 2
    case = (Case.objects.filter(village_id=village_id, number__isnull=False).order_by("pk").first())
    clock.at = _aware(today - dt.timedelta(days=6), 9)
    start = _aware(today - dt.timedelta(days=3), 9)
    task = services.task_create(actor=village_actor, kind=kinds["法律咨询"], title="宅基地界址纠纷法律咨询",
                                region=region, place=f"{region.name}调解室", starts_at=start,
                                ends_at=start + dt.timedelta(hours=3), slots=2, case=case,
                                description="村民反映宅基地界址纠纷，请志愿律师现场答疑并协助调解")
    served = services.signup_create(actor=village_actor, task=task, volunteer=lawyer)
    refused = services.signup_create(actor=village_actor, task=task, volunteer=plain)
    services.signup_assign(actor=village_actor, signup=served)
    try:
        services.signup_assign(actor=village_actor, signup=refused)
    except ValidationError as exc:
        reason = "；".join(m for ms in exc.message_dict.values() for m in ms)
        services.signup_refuse(actor=village_actor, signup=refused, reason=reason)
        stats["refused"] += 1
    clock.at = start + dt.timedelta(hours=3, minutes=30)
    s = services.signup_check_in(actor=village_actor, signup=served, at=start)
    s = services.signup_check_out(actor=village_actor, signup=s, at=start + dt.timedelta(hours=2, minutes=30))
    s = services.signup_confirm_hours(actor=grid_actor, signup=s)
    stats["confirmed"] += 1
    stats["hours"] += s.hours_confirmed
    clock.at = _aware(today - dt.timedelta(days=1), 17)
    redemption = services.redemption_create(actor=village_actor, volunteer=lawyer, item=items[0], quantity=1)
    stats["redemptions"] += 1
    refused.refresh_from_db()
    return {"task": task.pk, "lawyer": lawyer.pk, "refused_signup": refused.pk,
            "refused_status": refused.status, "refusal": refused.closed_reason,
            "points_earned": s.points_earned, "redeemed": redemption.points,
            "balance": selectors.facts_of(lawyer).balance, "case": case.number if case else None,
            "served": s.status == SignUpStatus.CONFIRMED}
