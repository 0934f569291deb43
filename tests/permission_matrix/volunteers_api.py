"""Permission cases for every URL of the volunteer API (gongzhi/volunteers/api_urls.py).

The objects and personas of ``volunteers.py`` (the pages' cases): the corps of 五一村 (A1), a task,
the county's service kinds and catalogue. Each step that changes a sign-up's or a redemption's
state gets a fresh one per request, in the state the step starts from, so every allowed persona
can take it. What each role may do is said there.
"""
from __future__ import annotations

import datetime as dt

from django.utils import timezone

from . import Case
from .volunteers import (
    AL, AUD, CS, DEPT, GW, NONE, OUT, READERS, TL, TS, VOL, VS, certification, corps, fresh_redemption, fresh_signup,
    item, lawyer, legal_kind, task,
)

__all__ = ["AL", "DEPT", "TL"]


def _api(url_name, **kwargs):
    return Case(f"volunteers_api:{url_name}", api=True, **kwargs)


def _pk(make):
    return lambda w: {"pk": make(w).pk}


def _signup(state):
    return lambda w: {"pk": fresh_signup(w, state).pk}


def _task_body(w):
    start = timezone.now() + dt.timedelta(days=2)
    c = corps(w)
    return {"kind": c.cleanup.pk, "title": "河道清理", "region": w.regions["A1"].pk, "place": "月河五一段",
            "starts_at": start.isoformat(), "ends_at": (start + dt.timedelta(hours=3)).isoformat(), "slots": 5}


def _kind_body(w):
    return {"county": w.regions["C"].pk, "name": f"心理疏导{timezone.now().timestamp()}", "required_field": "psychological",
            "min_level": 2, "points_per_hour": 15, "max_hours": "2.0"}


def _fresh_certification(w):
    from gongzhi.volunteers import services

    today = timezone.localdate()
    return services.certification_grant(actor=w.user("county_secretary"), volunteer=lawyer(w), field="mediation",
                                        level=1, certifying_body="县司法局", certified_on=today - dt.timedelta(days=3),
                                        expires_on=today + dt.timedelta(days=300))


VIEW_ROW = dict(allowed=(VS, TS, CS, GW, AUD), forbidden=NONE, out_of_scope=(OUT, VOL))
STEP = dict(method="post", allowed=(VS, TS, GW), forbidden=(CS, AUD) + NONE, out_of_scope=(OUT,))

CASES = [
    _api("overview", kwargs=lambda w: (corps(w), {})[1], allowed=(TS, CS, AUD, OUT), forbidden=(VS, GW, VOL) + NONE),
    _api("volunteers", kwargs=lambda w: (corps(w), {})[1], allowed=READERS, forbidden=NONE),
    _api("volunteers", id="POST volunteers_api:volunteers", method="post", ok=(201,),
         data=lambda w: {"person": w.persons["party_member"].pk, "category": "retired_member"},
         allowed=(VS,), forbidden=(CS, GW, AUD, VOL) + NONE),
    _api("volunteer-detail", kwargs=_pk(lawyer), **VIEW_ROW),
    _api("volunteer-status", kwargs=_pk(lawyer), method="post", data=lambda w: {"status": "active"},
         allowed=(VS, TS), forbidden=(CS, GW, AUD, VOL) + NONE, out_of_scope=(OUT,)),
    _api("certifications", kwargs=_pk(lawyer), **VIEW_ROW),
    _api("certifications", id="POST volunteers_api:certifications", kwargs=_pk(lawyer), method="post", ok=(201,),
         data=lambda w: {"field": "medical", "level": 1, "certifying_body": "县卫健局",
                         "certified_on": str(timezone.localdate() - dt.timedelta(days=1)),
                         "expires_on": str(timezone.localdate() + dt.timedelta(days=365))},
         allowed=(VS, TS, CS), forbidden=(GW, AUD, VOL) + NONE, out_of_scope=(OUT,)),
    _api("certification-revoke", kwargs=_pk(_fresh_certification), method="post", data=lambda w: {"reason": "核查"},
         allowed=(VS, TS, CS), forbidden=(GW, AUD, VOL) + NONE, out_of_scope=(OUT,)),
    _api("ledger", kwargs=_pk(lawyer), **VIEW_ROW),
    _api("correction", kwargs=_pk(lawyer), method="post", ok=(201,), data=lambda w: {"amount": 3, "reason": "补记"},
         allowed=(CS,), forbidden=(VS, TS, GW, AUD, OUT, VOL) + NONE),
    _api("transactions", kwargs=lambda w: (corps(w), {})[1], allowed=READERS, forbidden=NONE),
    _api("kinds", kwargs=lambda w: (corps(w), {})[1], allowed=READERS, forbidden=NONE),
    _api("kinds", id="POST volunteers_api:kinds", method="post", ok=(201,), data=_kind_body, allowed=(CS,),
         forbidden=(VS, TS, GW, AUD, OUT, VOL) + NONE),
    _api("kind-detail", kwargs=_pk(legal_kind), allowed=READERS, forbidden=NONE),
    _api("kind-detail", id="PUT volunteers_api:kind-detail", kwargs=_pk(legal_kind), method="put",
         data=lambda w: {"county": w.regions["C"].pk, "name": "法律咨询", "required_field": "legal", "min_level": 2,
                         "points_per_hour": 20, "max_hours": "3.0"},
         allowed=(CS,), forbidden=(VS, TS, GW, AUD, OUT, VOL) + NONE),
    _api("settings", kwargs=lambda w: {"pk": w.regions["C"].pk}, allowed=(VS, TS, CS, GW, AUD, OUT),
         forbidden=(VOL,) + NONE),
    _api("settings", id="PUT volunteers_api:settings", kwargs=lambda w: {"pk": w.regions["C"].pk}, method="put",
         data=lambda w: {"expiry_months": 24, "yearly_cap": 0}, allowed=(CS,),
         forbidden=(VS, TS, GW, AUD, OUT, VOL) + NONE),
    _api("tasks", kwargs=lambda w: (task(w), {})[1], allowed=READERS, forbidden=NONE),
    _api("tasks", id="POST volunteers_api:tasks", method="post", ok=(201,), data=_task_body, allowed=(VS, TS, CS),
         forbidden=(GW, AUD, VOL) + NONE),
    _api("task-detail", kwargs=_pk(task), allowed=(VS, TS, CS, GW, AUD, VOL), forbidden=NONE, out_of_scope=(OUT,)),
    _api("task-cancel", kwargs=lambda w: {"pk": fresh_signup(w).task_id}, method="post",
         data=lambda w: {"reason": "下雨改期"}, allowed=(VS, TS, CS), forbidden=(GW, AUD, VOL) + NONE,
         out_of_scope=(OUT,)),
    _api("signup", kwargs=lambda w: {"pk": fresh_signup(w).task_id}, method="post", ok=(201,),
         data=lambda w: {"volunteer": corps(w).self_.pk}, allowed=(VS, TS, GW), forbidden=(CS, AUD) + NONE,
         out_of_scope=(OUT,)),
    _api("signup", id="POST volunteers_api:signup (self)", kwargs=lambda w: {"pk": fresh_signup(w).task_id},
         method="post", ok=(201,), data=lambda w: {}, allowed=(VOL,), forbidden=(CS, AUD) + NONE),
    _api("signup-assign", kwargs=_signup("signed_up"), **STEP),
    _api("signup-refuse", kwargs=_signup("signed_up"), data=lambda w: {"reason": "名额已够"}, **STEP),
    _api("signup-cancel", kwargs=_signup("assigned"), data=lambda w: {"reason": "家中有事"}, **STEP),
    _api("signup-check-in", kwargs=_signup("assigned"), **STEP),
    _api("signup-check-out", kwargs=_signup("checked_in"), **STEP),
    _api("signup-confirm", kwargs=_signup("checked_out"), data=lambda w: {"hours": "1.5"}, **STEP),
    _api("catalogue", kwargs=lambda w: (item(w), {})[1], allowed=READERS, forbidden=NONE),
    _api("catalogue", id="POST volunteers_api:catalogue", method="post", ok=(201,),
         data=lambda w: {"county": w.regions["C"].pk, "name": "大米一袋", "provider": "县供销社", "points_cost": 30,
                         "stock": 10}, allowed=(CS,), forbidden=(VS, TS, GW, AUD, OUT, VOL) + NONE),
    _api("restock", kwargs=_pk(item), method="post", data=lambda w: {"quantity": 5}, allowed=(CS,),
         forbidden=(VS, TS, GW, AUD, OUT, VOL) + NONE),
    _api("redemptions", kwargs=lambda w: (fresh_redemption(w), {})[1], allowed=READERS, forbidden=NONE),
    _api("redemptions", id="POST volunteers_api:redemptions", method="post", ok=(201,),
         data=lambda w: {"item": item(w).pk, "volunteer": lawyer(w).pk}, allowed=(VS, TS, GW),
         forbidden=(CS, AUD) + NONE),
    _api("redemption-cancel", kwargs=_pk(fresh_redemption), method="post", data=lambda w: {"reason": "不需要了"},
         allowed=(VS, TS, GW), forbidden=(CS, AUD) + NONE, out_of_scope=(OUT, VOL)),
    _api("redemption-deliver", kwargs=_pk(fresh_redemption), method="post", allowed=(VS, TS, GW),
         forbidden=(CS, AUD, VOL) + NONE, out_of_scope=(OUT,)),
]
