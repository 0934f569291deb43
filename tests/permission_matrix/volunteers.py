"""Permission cases for every page of gongzhi.volunteers.

Objects are made lazily through the services, once per world (``_memo``): the corps of
tests/volunteers/conftest.py in 五一村 (A1) — the lawyer 张建国 (legal 中级), 李秀英, and 刘桂兰,
whose own login is ``volunteer_a1`` — the county's service kinds, a task in A1 and a catalogue item.
A case whose allowed personas each take a step that changes state gets a fresh object per request
(``fresh_signup``).

The roles' permissions are ``gongzhi.accounts.roles.VOLUNTEERS_*``:
* the village secretary and the town (VOLUNTEERS_VILLAGE over A1 / town A) keep the corps, certify,
  publish tasks and take sign-ups through their steps; the town also reads the analytics;
* the grid worker (VOLUNTEERS_FIELD over grid A1-1, reaching the whole village's corps) signs up,
  assigns, checks in and out, confirms hours and redeems — but registers and certifies nobody (403);
* the county secretary reads everything, sets the rules and the catalogue, certifies and corrects
  the ledger, but takes no sign-up through its steps (403);
* the auditor reads, writes nothing (403); the volunteer's own login reaches their own record and
  their village's tasks (another volunteer's record: 404);
* the department handler, three-line person and agency liaison hold no volunteer permission (403);
  town B's secretary holds the village permissions over town B (404 here).
"""
from __future__ import annotations

import datetime as dt
import itertools

from django.utils import timezone

from . import Case

VS, TS, CS, GW, DEPT, OUT, AUD, TL, AL, VOL = (
    "village_secretary_a1", "town_secretary_a", "county_secretary", "grid_worker_a1_1", "department_handler",
    "outsider_b", "auditor", "three_line_a1", "agency_liaison", "volunteer_a1")
NONE = (DEPT, TL, AL)
READERS = (VS, TS, CS, GW, AUD, OUT, VOL)  # lists and county rules: their own scope's rows

_seq = itertools.count(1)


def _memo(world, name, make):
    if not hasattr(world, name):
        setattr(world, name, make())
    return getattr(world, name)


def corps(world):
    from tests.volunteers.conftest import make_corps

    def make():
        c = make_corps(world)
        from tests.volunteers.conftest import earn

        earn(c, c.lawyer, hours=3, task=_task(c, c.legal))  # 60 points
        return c

    return _memo(world, "_vol_corps", make)


def _task(c, kind=None, *, hours_from_now=-3, length=5, slots=20):
    from gongzhi.volunteers import services

    start = timezone.now() + dt.timedelta(hours=hours_from_now)
    return services.task_create(actor=c.secretary, kind=kind or c.cleanup, title=f"服务任务{next(_seq)}",
                                region=c.village, place="五一村村委会", starts_at=start,
                                ends_at=start + dt.timedelta(hours=length), slots=slots)


def task(world):
    return _memo(world, "_vol_task", lambda: _task(corps(world)))


def item(world):
    from gongzhi.volunteers import services

    return _memo(world, "_vol_item", lambda: services.catalogue_item_save(
        actor=world.user("county_secretary"), county=world.regions["C"], name="理发一次", provider="五一村理发店",
        points_cost=2, stock=100, kind="service"))


def redemption(world):
    from gongzhi.volunteers import services

    c = corps(world)
    return _memo(world, "_vol_redemption", lambda: services.redemption_create(
        actor=c.secretary, volunteer=c.lawyer, item=item(world), quantity=1))


def fresh_redemption(world):
    from gongzhi.volunteers import services

    c = corps(world)
    return services.redemption_create(actor=c.secretary, volunteer=c.lawyer, item=item(world), quantity=1)


def fresh_signup(world, state: str = "signed_up", volunteer=None):
    """A new task in A1 with one sign-up taken to ``state`` (signed_up, assigned, checked_in, checked_out)."""
    from gongzhi.volunteers import services

    c = corps(world)
    t = _task(c)
    s = services.signup_create(actor=c.secretary, task=t, volunteer=volunteer or c.plain,
                               assign=state != "signed_up")
    if state in ("checked_in", "checked_out"):
        s = services.signup_check_in(actor=c.secretary, signup=s, at=t.starts_at)
    if state == "checked_out":
        s = services.signup_check_out(actor=c.secretary, signup=s, at=t.starts_at + dt.timedelta(hours=2))
    return s


def certification(world):
    return corps(world).lawyer.certifications.first()


def pk_of(make):
    return lambda world: {"pk": make(world).pk}


def action(make, name):
    return lambda world: {"pk": make(world).pk, "action": name}


def lawyer(world):
    return corps(world).lawyer


def legal_kind(world):
    return corps(world).legal


def _cert_data(world):
    today = timezone.localdate()
    return {"field": "medical", "level": "2", "certifying_body": "汉阴县卫生健康局", "certificate_no": "YS-001",
            "certified_on": str(today - dt.timedelta(days=30)), "expires_on": str(today + dt.timedelta(days=700))}


CASES = [
    Case("volunteers:home", allowed=READERS, forbidden=NONE),
    Case("volunteers:overview", allowed=(TS, CS, AUD, OUT), forbidden=(VS, GW, VOL) + NONE),
    Case("volunteers:volunteers", kwargs=lambda w: (corps(w), {})[1], allowed=READERS, forbidden=NONE),
    Case("volunteers:volunteer_new", allowed=(VS, TS, OUT), forbidden=(CS, GW, AUD, VOL) + NONE),
    Case("volunteers:volunteer", kwargs=pk_of(lawyer), allowed=(VS, TS, CS, GW, AUD), forbidden=NONE,
         out_of_scope=(OUT, VOL)),
    Case("volunteers:volunteer_do", kwargs=action(lawyer, "certify"), method="post", ok=(302,), data=_cert_data,
         allowed=(VS, TS, CS), forbidden=(GW, AUD, VOL) + NONE, out_of_scope=(OUT,)),
    Case("volunteers:certification_revoke", kwargs=pk_of(certification), method="post", ok=(302,),
         data=lambda w: {"reason": "证书核查"}, allowed=(VS, TS, CS), forbidden=(GW, AUD, VOL) + NONE,
         out_of_scope=(OUT,)),
    Case("volunteers:kinds", kwargs=lambda w: (corps(w), {})[1], allowed=READERS, forbidden=NONE),
    Case("volunteers:kind", kwargs=pk_of(legal_kind), allowed=(CS,), forbidden=(VS, TS, GW, AUD, OUT, VOL) + NONE),
    Case("volunteers:settings", kwargs=lambda w: {"pk": w.regions["C"].pk}, method="post", ok=(302,),
         data=lambda w: {"expiry_months": "24", "yearly_cap": "0"}, allowed=(CS,),
         forbidden=(VS, TS, GW, AUD, OUT, VOL) + NONE),
    Case("volunteers:tasks", kwargs=lambda w: (task(w), {})[1], allowed=READERS, forbidden=NONE),
    Case("volunteers:task_new", kwargs=lambda w: (corps(w), {})[1], allowed=(VS, TS, CS, OUT),
         forbidden=(GW, AUD, VOL) + NONE),
    Case("volunteers:task", kwargs=pk_of(task), allowed=(VS, TS, CS, GW, AUD, VOL), forbidden=NONE,
         out_of_scope=(OUT,)),
    Case("volunteers:task_do", kwargs=action(task, "signup"), method="post", ok=(302,),
         data=lambda w: {"volunteer": corps(w).plain.pk}, allowed=(VS, TS, GW, VOL),
         forbidden=(CS, AUD) + NONE, out_of_scope=(OUT,)),
    Case("volunteers:signup_do", kwargs=lambda w: {"pk": fresh_signup(w).pk, "action": "assign"}, method="post",
         ok=(302,), allowed=(VS, TS, GW), forbidden=(CS, AUD, VOL) + NONE, out_of_scope=(OUT,)),
    Case("volunteers:catalogue", kwargs=lambda w: (item(w), {})[1], allowed=READERS, forbidden=NONE),
    Case("volunteers:catalogue_new", method="post", ok=(302,),
         data=lambda w: {"name": "洗衣液", "kind": "benefit", "provider": "村超市", "points_cost": "10", "stock": "5"},
         allowed=(CS,), forbidden=(VS, TS, GW, AUD, OUT, VOL) + NONE),
    # The catalogue is the county's: town B's secretary may redeem from it, for a volunteer of town B.
    Case("volunteers:item_do", kwargs=action(item, "redeem"), method="post", ok=(302,),
         data=lambda w: {"volunteer": corps(w).lawyer.pk, "quantity": "1"}, allowed=(VS, TS, GW, VOL, OUT),
         forbidden=(CS, AUD) + NONE),
    Case("volunteers:redemption_do", kwargs=lambda w: {"pk": fresh_redemption(w).pk, "action": "cancel"},
         method="post", ok=(302,), data=lambda w: {"reason": "不需要了"}, allowed=(VS, TS, GW),
         forbidden=(CS, AUD) + NONE, out_of_scope=(OUT, VOL)),
]
