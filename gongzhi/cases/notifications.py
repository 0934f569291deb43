"""Notifications: the staff's in-app inbox, email, and SMS to requesters.

* Staff: a ``Notification`` row per recipient (written in the same transaction as the change, so
  a rolled-back step leaves no message), plus an email when the user has an address.
* Requesters: an SMS when they left a phone number — on acceptance, on the answer (with the
  satisfaction question), and on closure.
* Email and SMS leave only after the transaction commits (``transaction.on_commit``), through
  the ``deliver_message`` Celery task defined here (in-process when no broker is configured).

Backends are pluggable. Email uses Django's ``EMAIL_BACKEND`` (console by default, see settings);
SMS uses ``settings.GONGZHI_SMS_BACKEND``, a dotted path to a class with ``send(phone, text)``:
``ConsoleSMSBackend`` (default: logs and prints), ``LocmemSMSBackend`` (keeps messages in
``outbox``, for tests) or a county's own gateway adapter.

Confidentiality: every text is built here from the case's number, title, status and units —
never from the requester fields — and the users a case complains about are never recipients.
"""
from __future__ import annotations

import logging
import sys
from typing import Iterable

from celery import shared_task
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from gongzhi.accounts.models import RoleAssignment

from .models import PENDING_NUMBER, Case, Notification

logger = logging.getLogger(__name__)

SITE_NAME = "共治"


# ---------------------------------------------------------------------------------------------
# SMS backends


class BaseSMSBackend:
    def send(self, phone: str, text: str) -> None:  # pragma: no cover - interface
        raise NotImplementedError


class ConsoleSMSBackend(BaseSMSBackend):
    """Writes messages to stdout and the log instead of sending them (the demo's default)."""

    def send(self, phone: str, text: str) -> None:
        line = f"[SMS to {phone}] {text}"
        logger.info(line)
        print(line, file=sys.stdout, flush=True)


class LocmemSMSBackend(BaseSMSBackend):
    """Keeps messages in memory (``LocmemSMSBackend.outbox``), like Django's locmem email backend."""

    outbox: list[tuple[str, str]] = []

    def send(self, phone: str, text: str) -> None:
        type(self).outbox.append((phone, text))


def sms_backend() -> BaseSMSBackend:
    path = getattr(settings, "GONGZHI_SMS_BACKEND", "gongzhi.cases.notifications.ConsoleSMSBackend")
    return import_string(path)()


def deliver(channel: str, to: str, text: str, subject: str = "") -> None:
    """Send one message now (called by the ``deliver_message`` task)."""
    if channel == "sms":
        sms_backend().send(to, text)
    elif channel == "email":
        from django.core.mail import send_mail

        send_mail(subject or f"【{SITE_NAME}】通知", text, None, [to])
    else:
        raise ValueError(f"unknown channel {channel}")


def _with_number(text: str, case: Case | None) -> str:
    """A text written before the case had its number, with the number put in (see numbering.py)."""
    if case is None or PENDING_NUMBER not in text:
        return text
    number = case.number or Case.objects.filter(pk=case.pk).values_list("number", flat=True).first()
    return text.replace(PENDING_NUMBER, number) if number else text


# Registered under its old name (it lived in tasks.py): messages already queued still run.
@shared_task(name="gongzhi.cases.tasks.deliver_message", bind=True, max_retries=3)
def deliver_message(self, channel: str, to: str, text: str, subject: str = "") -> None:
    try:
        deliver(channel, to, text, subject)
    except Exception as exc:
        logger.exception("delivering a %s message failed", channel)
        if not self.request.is_eager:
            raise self.retry(exc=exc, countdown=60)


def _send_later(channel: str, to: str, text: str, subject: str = "", *, case: Case | None = None) -> None:
    def _go():
        try:
            deliver_message.delay(channel, to, _with_number(text, case), _with_number(subject, case))
        except Exception:  # a message that cannot leave must never undo or break the step
            logger.exception("could not queue a %s message", channel)

    transaction.on_commit(_go)


# ---------------------------------------------------------------------------------------------
# recipients


def _holders(perm: str, **scope) -> Iterable[int]:
    app_label, codename = perm.split(".")
    return RoleAssignment.objects.filter(
        is_active=True, user__is_active=True, role__permissions__content_type__app_label=app_label,
        role__permissions__codename=codename, **scope,
    ).values_list("user_id", flat=True)


def holder_ids(perm: str, *, region_ids: Iterable[int]) -> set[int]:
    """Users holding ``perm`` by a role assigned directly on one of these regions (for other apps'
    notices: a village's secretaries, a town's office)."""
    region_ids = [r for r in region_ids if r]
    return set(_holders(perm, region_id__in=region_ids)) if region_ids else set()


def sms_later(phone: str, text: str) -> None:
    """An SMS queued after commit (a message that cannot leave never undoes the write)."""
    if phone:
        _send_later("sms", phone, text)


def conflicted_user_ids(case: Case) -> set[int]:
    """Logins of the person or department a case complains about (never recipients)."""
    ids: set[int] = set()
    User = get_user_model()
    if case.complained_person_id:
        ids |= set(User.objects.filter(person_id=case.complained_person_id).values_list("pk", flat=True))
    if case.complained_department_id:
        ids |= set(RoleAssignment.objects.filter(department_id=case.complained_department_id, is_active=True)
                   .values_list("user_id", flat=True))
    return ids


def unit_holder_ids(*, grid=None, region=None, department=None) -> set[int]:
    """Everyone holding ``cases.handle_case`` directly on this grid, region or department."""
    ids: set[int] = set()
    if grid is not None:
        ids |= set(_holders("cases.handle_case", grid=grid))
    if region is not None:
        ids |= set(_holders("cases.handle_case", region=region))
    if department is not None:
        ids |= set(_holders("cases.handle_case", department=department))
    return ids


def unit_user_ids(case: Case, *, grid=None, region=None, department=None) -> set[int]:
    """Users who handle cases for the given unit (default: the case's assignee, plus its handler),
    less anyone the case complains about."""
    ids: set[int] = set()
    if grid is None and region is None and department is None:
        grid, region, department = case.assignee_grid, case.assignee_region, case.assignee_department
        if case.handler_id:
            ids.add(case.handler_id)
    ids |= unit_holder_ids(grid=grid, region=region, department=department)
    return ids - conflicted_user_ids(case)


def territory_user_ids(case: Case, perm: str, *, regions: Iterable[int] | None = None) -> set[int]:
    """Users holding ``perm`` over one of the case's regions (its village, town, county by default)."""
    region_ids = list(regions) if regions is not None else [
        r for r in (case.village_id, case.town_id, case.county_id, case.assignee_region_id) if r]
    if not region_ids:
        return set()
    return set(_holders(perm, region_id__in=region_ids)) - conflicted_user_ids(case)


def territory_recipients(case: Case, perm: str, *, regions: Iterable[int]) -> dict[int, str]:
    """``territory_user_ids`` with each user's e-mail address, in one query (for ``notify_users``)."""
    region_ids = [r for r in regions if r]
    if not region_ids:
        return {}
    app_label, codename = perm.split(".")
    rows = RoleAssignment.objects.filter(
        is_active=True, user__is_active=True, role__permissions__content_type__app_label=app_label,
        role__permissions__codename=codename, region_id__in=region_ids,
    ).values_list("user_id", "user__email")
    conflicted = conflicted_user_ids(case)
    return {uid: email for uid, email in rows if uid not in conflicted}


def tier_region_id(case: Case, level: str) -> int | None:
    return {"village": case.village_id, "town": case.town_id, "county": case.county_id}.get(level)


# ---------------------------------------------------------------------------------------------
# texts (never from requester fields)


def _due(value) -> str:
    return timezone.localtime(value).strftime("%m月%d日%H:%M") if value else "—"


STAFF_TEXTS = {
    "registered": "【{number}】新登记：{title}（{ledger}），请在{acceptance_due}前受理。",
    "needs_instruction": "【{number}】{title} 需书记阅批。",
    "assigned": "【{number}】{title} 已交办给你单位，请在{response_due}前签收，{resolution_due}前办结。",
    "urged": "【{number}】{title} 催办：{note}",
    "escalated": "【{number}】{title} 已提级至{level}办理：{note}",
    "summoned": "【{number}】吹哨报到：请在{summons_due}前就“{title}”报到并作出承诺。{note}",
    "summons_acknowledged": "【{number}】{department}已报到：{note}",
    "result_reported": "【{number}】{title} 已反馈办理结果，请书记把关。",
    "sent_back": "【{number}】{title} 办理结果被退回重办：{note}",
    "approved": "【{number}】{title} 办理结果已通过把关，请答复群众并征询意见。",
    "reopened": "【{number}】{title} 群众不满意，重新办理：{note}",
    "returned": "【{number}】{title} 被承办单位退回：{note}",
    "transferred": "【{number}】{title} 已转办：{note}",
    "request_pending": "【{number}】{title} 申请{request}：{note}",
    "request_decided": "【{number}】{title} {request}申请{decision}。{note}",
    "resumed": "【{number}】{title} 恢复办理，办结时限调整为{resolution_due}。",
    "recusal": "【{number}】{title} 回避：不得交由被投诉举报的单位或个人办理。",
    "acceptance_overdue": "【{number}】{title} 已超过受理时限（{acceptance_due}），请尽快受理。",
    "response_overdue": "【{number}】{title} 已超过签收时限（{response_due}），请尽快签收。",
    "due_soon": "【{number}】{title} 将于{resolution_due}到期，请抓紧办理。",
    "overdue": "【{number}】{title} 已超过办结时限（{resolution_due}）。",
    "overdue_escalated": "【{number}】{title} 超期未办结（时限{resolution_due}），已提请上级督办。",
    "summons_overdue": "【{number}】{department}未在{summons_due}前报到，已提请上级督办。",
}

REQUESTER_TEXTS = {
    "accepted": "【{site}】您反映的“{title}”已受理，编号{number}，查询码{tracking_code}，"
                "我们将在{resolution_due}前办结。",
    "declined": "【{site}】您反映的“{title}”（编号{number}）不予受理：{note}",
    "answered": "【{site}】您反映的“{title}”（编号{number}）办理结果：{note} "
                "请回复：1满意 2基本满意 3不满意。",
    "settled": "【{site}】您反映的“{title}”已现场处理：{note} 如有异议请联系网格员。",
    "closed": "【{site}】您反映的“{title}”（编号{number}）已办结归档，感谢您的参与。",
    # Written by the village governance layer (services/linked.py).
    "village_agenda": "【{site}】您反映的“{title}”（编号{number}）已列入村里议事：{note}",
    "village_decision": "【{site}】您反映的“{title}”（编号{number}）村里已作出决议：{note} 进展可在村务公开栏查看。",
    "village_progress": "【{site}】您反映的“{title}”（编号{number}）相关决议进展：{note}",
    # Written by the linking-up module (结对共建).
    "pairing_need": "【{site}】您反映的“{title}”（编号{number}）已列入结对共建需求清单：{note}",
    "pairing_project": "【{site}】您反映的“{title}”（编号{number}）已由结对共建项目承接：{note}",
    # Written by resources and dispatch (资源调度).
    "dispatch_need": "【{site}】您反映的“{title}”（编号{number}）已列入资源调度：{note}",
    "dispatch_delivered": "【{site}】您反映的“{title}”（编号{number}）：{note}",
}


def _context(case: Case, **extra) -> dict:
    from .choices import Ledger, Level

    return {
        "site": SITE_NAME, "number": case.number or PENDING_NUMBER, "title": case.title, "tracking_code": case.tracking_code,
        "ledger": Ledger(case.ledger).label, "level": Level(case.current_level).label if case.current_level else "",
        "acceptance_due": _due(case.acceptance_due_at), "response_due": _due(case.response_due_at),
        "resolution_due": _due(case.resolution_due_at), "note": "", **extra,
    }


def staff_text(kind: str, case: Case, **extra) -> str:
    return STAFF_TEXTS[kind].format(**_context(case, **extra))


def requester_text(kind: str, case: Case, **extra) -> str:
    return REQUESTER_TEXTS[kind].format(**_context(case, **extra))


# ---------------------------------------------------------------------------------------------
# sending


def notify_users(user_ids: Iterable[int], *, case: Case | None, kind: str, text: str | None = None,
                 **extra) -> list[Notification]:
    """In-app notifications now (inside the caller's transaction), emails after commit.

    ``user_ids`` may be a mapping of user id → e-mail (``territory_recipients``): then the
    addresses are not looked up again.
    """
    excluded = conflicted_user_ids(case) if case is not None else set()
    ids = sorted(set(user_ids) - excluded)
    if not ids:
        return []
    body = text if text is not None else staff_text(kind, case, **extra)
    rows = Notification.objects.bulk_create([Notification(user_id=uid, case=case, kind=kind, text=body) for uid in ids])
    if isinstance(user_ids, dict):
        emails = [user_ids[uid] for uid in ids if user_ids[uid]]
    else:
        emails = get_user_model().objects.filter(pk__in=ids).exclude(email="").values_list("email", flat=True)
    for email in emails:
        _send_later("email", email, body, subject=f"【{SITE_NAME}】{(case.number or PENDING_NUMBER) if case else ''}",
                    case=case)
    return rows


def notify_requester(case: Case, *, kind: str, **extra) -> bool:
    """SMS to the requester when they left a phone number. Returns whether one was queued."""
    phone = case.requester_phone or (case.requester.phone if case.requester_id and case.requester else "")
    if not phone:
        return False
    _send_later("sms", phone, requester_text(kind, case, **extra))
    return True


def notification_list(*, user, unread_only: bool = False):
    qs = Notification.objects.filter(user=user).select_related("case")
    return qs.filter(read_at__isnull=True) if unread_only else qs


def notification_mark_read(*, user, ids: Iterable[int] | None = None) -> int:
    qs = Notification.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=list(ids))
    return qs.update(read_at=timezone.now())
