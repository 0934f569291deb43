"""The volunteer module's rules as plain functions: who may serve a kind of service, how many hours
a session can count, what they earn, what expires. The services call them inside their
transactions; pages call the same functions to say beforehand why a step would be refused, so the
two cannot drift. No writes here.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import ROUND_DOWN, Decimal

from .models import FIELD_NAMES, LEVEL_NAMES

TENTH = Decimal("0.1")


def certification_problem(kind, certifications: Iterable, day: dt.date, who: str = "该志愿者") -> str | None:
    """None when the certifications include one valid on ``day`` in the kind's field at its level or
    above; otherwise the reason, in Chinese, naming the missing certification."""
    if not kind.required_field:
        return None
    field = FIELD_NAMES[kind.required_field]
    wanted = f"{field}{LEVEL_NAMES[kind.min_level]}及以上资质"
    same_field = [c for c in certifications if c.field == kind.required_field]
    valid = [c for c in same_field if c.valid_on(day)]
    if any(c.level >= kind.min_level for c in valid):
        return None
    head = f"“{kind.name}”需要{wanted}，{who}"
    if valid:
        best = max(c.level for c in valid)
        return f"{head}的{field}资质为{LEVEL_NAMES[best]}，等级不够，不能安排"
    expired = [c for c in same_field if c.revoked_at is None and c.expires_on <= day]
    if expired:
        last = max(expired, key=lambda c: c.expires_on)
        return f"{head}的{field}资质（{LEVEL_NAMES[last.level]}）已于{last.expires_on:%Y年%m月%d日}过期，不能安排"
    if any(c.revoked_at is not None for c in same_field):
        return f"{head}的{field}资质已被撤销，不能安排"
    if any(c.certified_on > day for c in same_field):
        return f"{head}的{field}资质在服务日期尚未取得，不能安排"
    return f"{head}没有{field}资质，不能安排"


def session_hours(checked_in_at: dt.datetime, checked_out_at: dt.datetime) -> Decimal:
    """The session's span in hours, rounded down to a tenth."""
    seconds = Decimal(int((checked_out_at - checked_in_at).total_seconds()))
    return max(Decimal(0), (seconds / 3600).quantize(TENTH, rounding=ROUND_DOWN))


def claimable_hours(checked_in_at, checked_out_at, max_hours: Decimal) -> Decimal:
    return min(session_hours(checked_in_at, checked_out_at), Decimal(max_hours))


def hours_problem(hours, span: Decimal, max_hours: Decimal) -> str | None:
    if not isinstance(hours, Decimal):
        try:
            hours = Decimal(str(hours))
        except Exception:  # noqa: BLE001 - any unparsable value is the same answer
            return "服务时长应是数字，例如 2 或 1.5"
    if not hours.is_finite():
        return "服务时长应是数字，例如 2 或 1.5"
    if hours <= 0:
        return "服务时长应大于0"
    if hours != hours.quantize(TENTH):
        return "服务时长最多精确到0.1小时"
    if hours > span:
        return f"服务时长不能超过签到到签退的{span}小时"
    if hours > max_hours:
        return f"这类服务一次最多计{max_hours}小时"
    return None


def points_for(hours: Decimal, points_per_hour: int) -> int:
    return int((Decimal(hours) * points_per_hour).to_integral_value(rounding=ROUND_DOWN))


def capped(points: int, earned_this_year: int, yearly_cap: int) -> int:
    if not yearly_cap:
        return points
    return max(0, min(points, yearly_cap - earned_this_year))


def months_before(day: dt.date, months: int) -> dt.date:
    month = day.month - 1 - months
    year = day.year + month // 12
    month = month % 12 + 1
    import calendar

    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def to_expire(old_credits: int, debits: int) -> int:
    """FIFO: spending takes the oldest points first, so the points earned before the cutoff that are
    still unspent are what the credits before it exceed everything spent, expired or corrected away."""
    return max(0, old_credits - debits)
