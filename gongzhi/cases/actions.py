"""What each step of a case asks for, and how a page or an API request carries it out.

One table, ``ACTIONS``, lists the inputs of every step of the workflow table
(``workflow.TRANSITIONS``) except registering. The page forms (``forms.ActionForm``) and the API
input serializers (``api.serializers.action_input``) are both built from it, so a step accepts
the same input in the browser and through the API; both hand the parsed values to ``perform``,
which makes exactly one service call. Field names are the services' keyword arguments.

Field kinds
* ``text`` (several lines) and ``line`` (one line); ``int``; ``choice`` (with ``choices``);
  ``decision`` (approve or refuse: a boolean); ``datetime``;
* ``files`` (several uploads, may be empty) and ``file`` (exactly one);
* references resolved within the case's county or the user's reach: ``category`` (the county's
  active catalogue), ``target`` (one unit: a grid, a region or a department — on pages one
  choice, in the API three optional ids of which exactly one is given), ``departments``
  (several departments of the county), ``summons`` (an open summons to the user's department).
"""
from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from . import page_selectors, services
from .choices import AttachmentKind, MediationOutcome, RequestKind, Satisfaction
from .workflow import TRANSITIONS, Transition


@dataclass(frozen=True)
class Field:
    name: str
    kind: str
    label: str
    required: bool = True
    choices: tuple = ()
    min_value: int | None = None
    max_value: int | None = None
    help_text: str = ""


@dataclass(frozen=True)
class Action:
    name: str
    fields: tuple[Field, ...]
    help_text: str = ""

    @property
    def transition(self) -> Transition:
        return TRANSITIONS[self.name]

    @property
    def label(self) -> str:
        return self.transition.label

    @property
    def slug(self) -> str:
        """The name as it appears in URLs: ``request_extension`` → ``request-extension``."""
        return self.name.replace("_", "-")

    @property
    def has_files(self) -> bool:
        return any(f.kind in ("files", "file") for f in self.fields)


def _note(label=_("Note"), required=False):
    return Field("note", "text", label, required=required)


def _reason(label=_("Reason")):
    return Field("reason", "text", label)


SATISFACTION = tuple(Satisfaction.choices)
SETTLED_SATISFACTION = tuple(c for c in Satisfaction.choices if c[0] in (Satisfaction.SATISFIED, Satisfaction.BASIC))
MEDIATION = tuple(c for c in MediationOutcome.choices if c[0])
EVIDENCE = Field("attachments", "files", _("Evidence (photos, documents; optional)"), required=False)

ACTIONS: dict[str, Action] = {a.name: a for a in [
    Action("classify", (Field("category", "category", _("Category")), _note())),
    Action("instruct", (Field("instruction", "text", _("Instruction")),)),
    Action("accept", (_note(),), help_text=_("The requester is told by SMS that the case is accepted.")),
    Action("decline", (_reason(_("Why it is not accepted")),)),
    Action("assign", (Field("target", "target", _("Assign to")), _note())),
    Action("sign", (_note(),)),
    Action("urge", (Field("note", "text", _("Urging note")),)),
    Action("escalate", (_reason(),), help_text=_("Moves the case one tier up: village → town → county.")),
    Action("summon", (Field("departments", "departments", _("Departments")),
                      Field("reason", "text", _("What the departments are needed for")),
                      Field("due_at", "datetime", _("Report by (default: one working day)"), required=False))),
    Action("acknowledge_summons", (Field("summons", "summons", _("Summons")),
                                   Field("commitment", "text", _("What your department commits to do")))),
    Action("report_result", (Field("result", "text", _("Result")),
                             Field("mediation_outcome", "choice", _("Mediation outcome (disputes)"), required=False,
                                   choices=MEDIATION),
                             EVIDENCE)),
    Action("approve", (_note(),)),
    Action("send_back", (_reason(_("Why it must be redone")),), help_text=_("Counted as rework.")),
    Action("reply", (Field("answer", "text", _("Answer to the requester")),),
           help_text=_("The requester is sent the answer and asked whether they are satisfied.")),
    Action("record_satisfaction", (Field("satisfaction", "choice", _("The requester's answer"), choices=SATISFACTION),
                                   _note())),
    Action("reopen", (_reason(_("What must be done again")),)),
    Action("close", (Field("reason", "text", _("Reason (required when the requester is dissatisfied)"),
                           required=False),)),
    Action("transfer", (Field("target", "target", _("Transfer to")), _reason())),
    Action("return", (_reason(_("Why it is not your unit's business")),)),
    Action("request_extension", (Field("days", "int", _("Days"), min_value=1, max_value=365), _reason())),
    Action("approve_extension", (Field("approve", "decision", _("Decision")), _note())),
    Action("request_suspension", (_reason(),)),
    Action("suspend", (Field("approve", "decision", _("Decision")), _note()),
           help_text=_("While suspended the case's clocks stop.")),
    Action("resume", (_note(),)),
    Action("settle_on_spot", (Field("action_taken", "text", _("What was done on the spot")), EVIDENCE)),
    Action("confirm_settlement", (Field("confirmed", "decision", _("Does the requester confirm?")),
                                  Field("satisfaction", "choice", _("Satisfaction (when confirmed)"), required=False,
                                        choices=SETTLED_SATISFACTION),
                                  _note())),
    Action("attach", (Field("file", "file", _("File")),
                      Field("kind", "choice", _("Kind of material"), choices=tuple(AttachmentKind.choices)))),
    Action("record_mediation", (Field("outcome", "choice", _("Mediation outcome"), choices=MEDIATION), _note())),
]}

# Every step of the table has inputs here (registering has its own form and serializer).
assert set(ACTIONS) == set(TRANSITIONS) - {"register"}, set(TRANSITIONS) ^ set(ACTIONS)

BY_SLUG = {a.slug: a for a in ACTIONS.values()}
DECISION_LABELS = {
    "approve": (_("Approve"), _("Refuse")),
    "confirmed": (_("Confirmed: close the case"), _("Not confirmed: handle it the normal way")),
}
REQUEST_KIND = {"approve_extension": RequestKind.EXTENSION, "suspend": RequestKind.SUSPENSION}


# The service that carries out each step, written out so that a step can be found by searching
# its name. Steps on a case take ``case=``; the three below take another object (see ``perform``).
SERVICES = {
    "classify": services.case_classify,
    "instruct": services.case_instruct,
    "accept": services.case_accept,
    "decline": services.case_decline,
    "assign": services.case_assign,
    "sign": services.case_sign,
    "transfer": services.case_transfer,
    "return": services.case_return,
    "urge": services.case_urge,
    "escalate": services.case_escalate,
    "summon": services.case_summon,
    "acknowledge_summons": services.summons_acknowledge,
    "request_extension": services.case_request_extension,
    "approve_extension": services.case_approve_extension,
    "request_suspension": services.case_request_suspension,
    "suspend": services.case_suspend,
    "resume": services.case_resume,
    "report_result": services.case_report_result,
    "record_mediation": services.case_record_mediation,
    "approve": services.case_approve,
    "send_back": services.case_send_back,
    "reply": services.case_reply,
    "record_satisfaction": services.case_record_satisfaction,
    "reopen": services.case_reopen,
    "close": services.case_close,
    "settle_on_spot": services.case_settle_on_spot,
    "confirm_settlement": services.case_confirm_settlement,
    "attach": services.case_attach,
}
assert set(SERVICES) == set(ACTIONS), set(SERVICES) ^ set(ACTIONS)


def perform(name: str, *, actor, case, data: dict):
    """Carry out step ``name`` on ``case`` with parsed ``data``: exactly one service call.

    Raises what the service raises (``PermissionDenied``, ``Http404``, ``ValidationError``).
    """
    service = SERVICES[name]
    if name == "acknowledge_summons":
        return service(actor=actor, summons=data["summons"], commitment=data["commitment"])
    if name in REQUEST_KIND:
        request = page_selectors.pending_request(user=actor, case=case, kind=REQUEST_KIND[name])
        if request is None:
            raise ValidationError("没有待审批的申请")
        return service(actor=actor, request=request, approve=data["approve"], note=data.get("note", ""))
    if name == "confirm_settlement" and not data.get("confirmed"):
        data = {**data, "satisfaction": ""}
    return service(actor=actor, case=case, **data)


def clean_data(action: Action, values: dict) -> dict:
    """The service's keyword arguments from parsed field values: a target becomes its unit's
    keyword; optional values left empty are left out, so the service's defaults apply."""
    data = {}
    for f in action.fields:
        value = values.get(f.name)
        if f.kind == "target":
            data.update(value or {})
        elif f.kind == "files":
            data[f.name] = list(value or [])
        elif value in (None, "") and not f.required:
            if f.kind in ("text", "line"):
                data[f.name] = ""
            continue
        else:
            data[f.name] = value
    return data
