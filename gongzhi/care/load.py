"""The load on the grassroots, measured (DOMAIN.md §3.6): the platform states how many fields a
person fills and how many steps (pages opened after "My work", plus submits) each common task
takes. ``tests/care/test_browser_load.py`` walks every flow in a 390-px-wide Chromium and fails
when a flow needs more than is stated here; lowering a number is a promise the test then keeps.
"""
from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Task:
    code: str
    name: str
    fields: int
    steps: int
    how: str


TASKS = [
    Task("record_contact", _("Record a contact"), 3, 2,
         _("My work → “Contact” beside the household (who is preselected, when defaults to now) → "
           "choose how, write what was heard → Save. Tick “needs action” to open a case in the same step.")),
    Task("record_visit", _("Record a visit"), 1, 2,
         _("My work → the due visit → write what was found → Save. The next visit is scheduled by itself.")),
    Task("report_patrol_problem", _("Report a patrol problem"), 2, 2,
         _("My work → Start patrol → describe the problem (and where) → Report; it becomes a case at once.")),
    Task("update_household", _("Update a household"), 3, 2,
         _("My work → “Change” beside the household → what changed and the new facts → Save. "
           "Changes that need it wait for the village to confirm.")),
]

TASKS_BY_CODE = {t.code: t for t in TASKS}
