"""Every write to cases, one module per group of steps as the nine steps read. One service per step of the workflow (``workflow.TRANSITIONS``).

Each service
* takes a keyword-only ``actor`` and runs in one transaction (``@transaction.atomic``);
* loads the case *through the actor's scope* for one of the step's permissions, locked
  (``select_for_update``): **403** (``PermissionDenied``) when the actor holds none of them
  anywhere, **404** (``Http404``) when the case is outside their scope — or complains about them;
* checks the step against the transition table (``TransitionNotAllowed``, a ``ValidationError``);
* checks the tier where it matters (a village secretary cannot sign off a county case, a town
  dispatcher cannot hand a case to a county department: towns summon departments instead);
* validates with ``full_clean``, saves, writes a ``CaseEvent`` and an audit record
  (``AuditAction.TRANSITION``/``CREATE``/``UPDATE``) whose snapshots never hold a complainant's
  identity, and queues notifications (in-app rows now, SMS/email on commit).

Recusal: a case complaining about a department or a person is never assigned, transferred or
summoned to them; a refused attempt raises ``RecusalRequired`` and the refusal is kept on the
case's timeline (written in its own transaction, so it survives the refused step).
"""
from __future__ import annotations

from ._common import (  # noqa: F401
    CASE_FIELDS_REDACTED, RecusalRequired, S, case_snapshot, needs_instruction, recusal_problem,
)
from .accept import case_accept, case_decline, case_instruct  # noqa: F401
from .assign import case_assign, case_return, case_sign, case_transfer, default_assignee  # noqa: F401
from .attach import case_attach  # noqa: F401
from .catalogue import CATEGORY_EDITABLE, category_for, category_save  # noqa: F401
from .register import (  # noqa: F401
    CASE_EDITABLE, REGISTER_TRUSTED_FIELDS, REQUESTER_FIELDS, case_classify, case_register, case_update,
    time_limit_save,
)
from .linked import LINKED_KINDS, case_record_linked  # noqa: F401
from .reply import case_close, case_record_satisfaction, case_reopen, case_reply  # noqa: F401
from .result import case_approve, case_record_mediation, case_report_result, case_send_back  # noqa: F401
from .reveal import case_reveal_requester_phone  # noqa: F401
from .settle import case_confirm_settlement, case_settle_on_spot  # noqa: F401
from .supervise import (  # noqa: F401
    case_approve_extension, case_escalate, case_request_extension, case_request_suspension, case_resume, case_summon,
    case_suspend, case_urge, summons_acknowledge,
)
