"""A resident's question about a public notice (村务公开) becomes a case in the 意见建议 ledger.

``publicity_question_ask`` is the one write of the public village pages. It goes through the same
door as every other public submission — ``gongzhi.intake.services.intake_submit`` with the
residents' channel actor bound to the notice's village, the client's idempotency key, the case
registered, numbered after commit and notified like any other — and records which notice the
question is about (``PublicityQuestion``) and its audit row.

Why the question row is written in intake's ``answer`` hook rather than in a transaction of our
own around ``intake_submit``: the hook runs inside intake's transaction (``intake_register``
builds the answer there), so the case, its submission row, the key and the question commit or roll
back together; and the case number is still given *after* that commit, in its own short statement,
as on the residents' page (``cases/numbering.py``). An outer transaction here would hold the
numbering lock until our commit, for every question. A retry with the same key replays the stored
answer and writes nothing (the question was written the first time).

Validation is here, with the messages the resident reads (``ValidationError`` by field): the text
is required, the name and phone optional, the phone a real one. Nothing is saved on bad input.
"""
from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils import timezone

from gongzhi.cases.choices import Channel, Ledger
from gongzhi.cases.models import Case, CaseCategory
from gongzhi.cases.services import category_for
from gongzhi.core.audit import AuditAction, audit_record, snapshot
from gongzhi.intake import services as intake_services
from gongzhi.intake.channel import intake_actor
from gongzhi.intake.forms import clean_phone, clean_text

from .models import PublicityItem, PublicityQuestion, PublicityStatus

#: The county catalogue's code for questions on village affairs (cases/catalogue.py); a county
#: that closed or renamed it gets its first open 意见建议 category instead.
OPINION_CODE = "opinion-village-affairs"
#: The idempotency keys of these questions live apart from the residents' page's ("web").
KEY_SCOPE = "village_publicity"
TEXT_LIMIT = 1000
NAME_LIMIT = 20
PUBLIC_STATUSES = (PublicityStatus.PUBLISHED, PublicityStatus.SUPERSEDED)


@dataclass(frozen=True)
class Asked:
    tracking_code: str
    case: Case | None
    replayed: bool


def opinion_category(county_id: int | None) -> CaseCategory | None:
    """The county's category for a question on a notice: 村务管理意见建议, else the first open
    category of the 意见建议 ledger, else None (intake then files it as "to be classified")."""
    found = category_for(county_id=county_id, code=OPINION_CODE)
    if found is not None:
        return found
    return (CaseCategory.objects.for_county(county_id).filter(ledger=Ledger.OPINION, active=True)
            .order_by("sort_order", "code").first())


def clean_question(*, text, name="", phone="") -> dict:
    """The resident's input, cleaned; ``ValidationError`` {field: message} listing every problem."""
    errors, cleaned = {}, {}
    for field, run in (
        ("text", lambda: clean_text(text, field="text", required=True, limit=TEXT_LIMIT, multiline=True,
                                    label="您的问题")),
        ("name", lambda: clean_text(name, field="name", required=False, limit=NAME_LIMIT, label="称呼")),
        ("phone", lambda: clean_phone(phone)),
    ):
        try:
            cleaned[field] = run()
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if "text" in cleaned and len(cleaned["text"]) < 4:
        errors["text"] = ["请多写几个字，说清楚对哪一项有疑问"]
    if errors:
        raise ValidationError(errors)
    return cleaned


def publicity_question_ask(*, item: PublicityItem, text: str, name: str = "", phone: str = "",
                           key: str | None = None) -> Asked:
    """Register a resident's question about ``item`` (a published or corrected notice).

    Raises ``Http404`` for a draft (never public), ``ValidationError`` for bad input,
    ``gongzhi.intake.idempotency.KeyReused`` for a key used before with another question.
    """
    item = (PublicityItem.objects.select_related("region").filter(pk=item.pk, status__in=PUBLIC_STATUSES)
            .only("id", "title", "region", "county", "town", "village", "published_at", "status").first())
    if item is None:
        raise Http404
    data = clean_question(text=text, name=name, phone=phone)
    published = timezone.localtime(item.published_at).strftime("%Y年%m月%d日") if item.published_at else ""
    description = (f"就村务公开《{item.title}》（{published}公开）提出疑问：\n{data['text']}"
                   if published else f"就村务公开《{item.title}》提出疑问：\n{data['text']}")
    intake = intake_services.IntakeInput(
        description=description, title=f"对村务公开《{item.title}》的疑问"[:200], region=item.region,
        category=opinion_category(item.county_id), requester_name=data["name"], requester_phone=data["phone"])
    actor = intake_actor(territory=item.region)

    def answer(case: Case, submission) -> dict:
        # Inside intake's transaction (see the module docstring): commits with the case or not at all.
        question = PublicityQuestion(item=item, case=case, asked_at=case.received_at or timezone.now(),
                                     county_id=item.county_id, town_id=item.town_id, village_id=item.village_id)
        question.full_clean(validate_unique=False)  # one question per case: the OneToOne index
        question.save()
        audit_record(actor=actor, action=AuditAction.CREATE, obj=question, after=snapshot(question),
                     note="群众对村务公开内容提问，转为意见建议事项")
        return {"tracking_code": case.tracking_code}

    result = intake_services.intake_submit(actor=actor, channel=Channel.WEB, data=intake, scope=KEY_SCOPE, key=key,
                                           answer=answer)
    return Asked(tracking_code=result.response["tracking_code"], case=result.case, replayed=result.replayed)
