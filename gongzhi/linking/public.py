"""The public pages of the linking-up module, mounted at /l/ — no login.

    /l/s/<token>/    an activity's on-site survey: three taps (content, format, timing) and an
                     optional comment, answered on a phone in under a minute (``survey_answer``)
    /l/p/<pk>/       a pairing as the village sees it: the two sides, the projects and their
                     progress, the activities held; and a form for opinions, which become a
                     意见建议 case through intake (the same door as every public submission) and
                     land in the pairing's feedback

Built like the village board (``village/public.py``, whose base template these pages extend):
large text, no JavaScript, styles inline, gzip. What is public: the pairing's title, the two
party organisations, projects (title, progress, outcome), activities (title, date, place, what
was done). Never a liaison's login, a need's asker, a case, an evaluation or a survey answer.
"""
from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.gzip import gzip_page
from django.views.decorators.http import require_http_methods

from gongzhi.cases.choices import Channel, Ledger
from gongzhi.cases.models import Case, CaseCategory
from gongzhi.core.audit import AuditAction, audit_record, snapshot
from gongzhi.intake import ratelimit
from gongzhi.intake import services as intake_services
from gongzhi.intake.channel import intake_actor
from gongzhi.intake.forms import clean_phone, clean_text, new_key
from gongzhi.intake.idempotency import KeyReused, validate_key
from gongzhi.intake.text import clean
from gongzhi.intake.web import BAD_BODY, csrf_failed

from . import services
from .models import Activity, ActivityStatus, FeedbackChannel, FeedbackItem, Pairing, PairingStatus, Rating

KEY_SCOPE = "pairing_feedback"
FEEDBACK_RATE_SCOPE = "resident_submit"  # an opinion is a matter filed: the residents' page's budget
SURVEY_RATE_SCOPE = "pairing_survey"


def _public(response, *, private: bool = False):
    response["Referrer-Policy"] = "same-origin"
    response["X-Robots-Tag"] = "noindex"
    if private:
        response["Cache-Control"] = "no-store"
    return response


def _page(request, template: str, context: dict, status: int = 200, *, private: bool = False):
    return _public(render(request, f"linking/public/{template}", context, status=status), private=private)


def _limited(request, scope: str):
    if ratelimit.allow(scope, ratelimit.client_ip(request)):
        return None
    response = _page(request, "problem.html", {"title": "提交太频繁", "message": "您提交得太快了，请过几分钟再试。"},
                     status=429, private=True)
    response["Retry-After"] = str(ratelimit.retry_after(scope))
    return response


# ---------------------------------------------------------------------------------------------
# the on-site survey


RATING_LABELS = [(Rating.GOOD, "好"), (Rating.FAIR, "一般"), (Rating.POOR, "不好")]
QUESTIONS = [("content", "活动内容对您有用吗？"), ("format", "活动形式合适吗？"), ("timing", "活动时间方便吗？")]


def _questions(values: dict) -> list[tuple[str, str, str]]:
    return [(name, text, values.get(name, "")) for name, text in QUESTIONS]


@gzip_page
@csrf_exempt  # checked below, so that a failure keeps the resident's answers
@require_http_methods(["GET", "POST"])
def survey(request, token: str):
    activity = (Activity.objects.select_related("pairing", "pairing__region").filter(survey_token=token[:16])
                .exclude(status=ActivityStatus.CANCELLED).first())
    if activity is None:
        return _page(request, "not_found.html", {}, status=404)
    context = {"activity": activity, "village": activity.pairing.region, "questions": _questions({}),
               "ratings": RATING_LABELS, "open": services.survey_open(activity), "values": {}, "errors": {}}
    if request.method == "GET":
        return _page(request, "survey.html", context, private=True)
    limited = _limited(request, SURVEY_RATE_SCOPE)
    if limited:
        return limited
    try:
        values = {name: clean(request.POST.get(name, ""), multiline=name == "comment")
                  for name in ("content", "format", "timing", "comment")}
    except BAD_BODY:
        return _page(request, "problem.html", {"title": "没有提交成功", "message": "提交的内容格式不对，请返回重新填写。"},
                     status=400, private=True)
    context.update(values=values, questions=_questions(values))
    if csrf_failed(request):
        context["errors"] = {"__all__": ["页面已过期，请再点一次“提交”。您的选择还在。"]}
        return _page(request, "survey.html", context, status=403, private=True)
    try:
        services.survey_answer(token=activity.survey_token, **values)
    except ValidationError as exc:
        context["errors"] = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
        return _page(request, "survey.html", context, status=400, private=True)
    return _page(request, "thanks.html", {"activity": activity, "village": activity.pairing.region}, private=True)


# ---------------------------------------------------------------------------------------------
# a pairing's public page and its opinion form


def public_pairing(pk: int) -> Pairing | None:
    return (Pairing.objects.select_related("lead_org", "partner_org", "region")
            .filter(pk=pk, status__in=[PairingStatus.ACTIVE, PairingStatus.ENDED]).first())


def _public_context(pairing: Pairing) -> dict:
    return {
        "pairing": pairing, "village": pairing.region,
        "projects": pairing.projects.exclude(status="suspended").order_by("-created_at")[:30],
        "activities": pairing.activities.filter(status=ActivityStatus.HELD).order_by("-starts_at")[:20],
    }


def opinion_category(county_id) -> CaseCategory | None:
    return (CaseCategory.objects.for_county(county_id).filter(ledger=Ledger.OPINION, active=True)
            .order_by("sort_order", "code").first())


@dataclass(frozen=True)
class Submitted:
    tracking_code: str
    case: Case | None
    replayed: bool


def feedback_submit_public(*, pairing: Pairing, text: str, name: str = "", phone: str = "",
                           key: str | None = None) -> Submitted:
    """A resident's opinion on a pairing: a 意见建议 case through intake, and the same row in the
    pairing's feedback (written in intake's ``answer`` hook, inside its transaction, as the
    village's questions are: the case, the key and the feedback commit together)."""
    errors, data = {}, {}
    for field, run in (("text", lambda: clean_text(text, field="text", required=True, limit=1000, multiline=True,
                                                   label="您的意见")),
                       ("name", lambda: clean_text(name, field="name", required=False, limit=20, label="称呼")),
                       ("phone", lambda: clean_phone(phone))):
        try:
            data[field] = run()
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if "text" in data and len(data["text"]) < 4:
        errors["text"] = ["请多写几个字，说清楚您的意见"]
    if errors:
        raise ValidationError(errors)
    intake = intake_services.IntakeInput(
        description=f"对结对共建“{pairing.title}”的意见建议：\n{data['text']}",
        title=f"对结对共建“{pairing.title}”的意见"[:200], region=pairing.region,
        category=opinion_category(pairing.county_id), requester_name=data["name"], requester_phone=data["phone"])
    actor = intake_actor(territory=pairing.region)

    def answer(case: Case, submission) -> dict:
        item = FeedbackItem(pairing=pairing, channel=FeedbackChannel.PUBLIC_PAGE, case=case, text=data["text"],
                            received_at=case.received_at)
        item.copy_pairing(pairing)
        item.full_clean(validate_unique=False)
        item.save()
        audit_record(actor=actor, action=AuditAction.CREATE, obj=item, after=snapshot(item),
                     note="群众在结对共建公开页提出意见，转为意见建议事项")
        return {"tracking_code": case.tracking_code}

    result = intake_services.intake_submit(actor=actor, channel=Channel.WEB, data=intake, scope=KEY_SCOPE, key=key,
                                           answer=answer)
    return Submitted(result.response["tracking_code"], result.case, result.replayed)


@gzip_page
@csrf_exempt  # checked below, so that a failure keeps the resident's text
@require_http_methods(["GET", "POST"])
def pairing_page(request, pk: int):
    pairing = public_pairing(pk)
    if pairing is None:
        return _page(request, "not_found.html", {}, status=404)
    context = {**_public_context(pairing), "values": {}, "errors": {}, "key": new_key()}
    if request.method == "GET":
        return _page(request, "pairing.html", context)
    limited = _limited(request, FEEDBACK_RATE_SCOPE)
    if limited:
        return limited
    try:
        values = {name: clean(request.POST.get(name, ""), multiline=name == "text") for name in ("text", "name", "phone")}
        raw_key = request.POST.get("key")
    except BAD_BODY:
        return _page(request, "problem.html", {"title": "没有提交成功", "message": "提交的内容格式不对，请返回重新填写。"},
                     status=400, private=True)
    try:
        key = validate_key(raw_key)
    except ValueError:
        key = None
    context.update(values=values, key=key or new_key())
    if csrf_failed(request):
        context["errors"] = {"__all__": ["页面已过期，请再点一次“提交”。您填写的内容还在。"]}
        return _page(request, "pairing.html", context, status=403, private=True)
    try:
        done = feedback_submit_public(pairing=pairing, key=key, **values)
    except ValidationError as exc:
        context["errors"] = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
        return _page(request, "pairing.html", context, status=400, private=True)
    except KeyReused:
        context["errors"] = {"__all__": ["这条意见已经提交过了。"]}
        return _page(request, "pairing.html", context, status=409, private=True)
    return redirect(f"{reverse('resident:track', args=[done.tracking_code])}?new=1")
