"""Case numbers (GZ-2026-000123): gapless per year, given off the registration's hot path.

The yearly number is a legal requirement of the ledgers: no gaps, no doubles. Reserving it
inside the registration (an UPDATE of the year's ``CaseNumberSequence`` row) made every
registration in the county wait for the one before to *commit* — one fsync each, one at a time
(43 cases/s on the benchmark machine, issue 10). Now:

1. a registration inserts its case with ``number`` NULL and commits with everyone else in
   parallel (the requester already holds the case's tracking code);
2. right after commit, ``number_pending`` numbers **every** committed case that has none yet, in
   id order, in one short transaction: under a transaction-scoped advisory lock it bumps each
   year's sequence by the count and writes the numbers (one UPDATE), puts the number into the
   in-app notifications written with the case (``PENDING_NUMBER``), and writes one audit row
   per numbered case. Those who arrive while a batch runs usually find their case numbered by it
   and return without writing anything.

Gapless: the sequence moves and the numbers are written in one transaction, so either both
commit or neither; a case can only be numbered after it committed, so a rolled-back
registration never takes a number. Unique: the advisory lock serialises the batches and
``number`` has a unique index. Once given, a number never changes (a PostgreSQL trigger keeps
the old value against a stale ``save()``). Nothing committed can stay unnumbered: a process that
dies between the two transactions leaves the case to the next batch — the next registration's,
or the ``cases.number_pending`` task that celery beat runs every minute.

Callers inside a larger transaction (``case_register(number_after_commit=False)``, the default
for staff and care paths) run the same numbering inside their own transaction: the lock is then
held from the registration's last statement until that transaction commits.

On PostgreSQL the batch is one SQL function (``cases_number_pending``, migration 0003), so the
lock is held for one statement and the commit, never across a round trip to Python. SQLite
(the demo) serialises writers anyway and runs the same steps from Python.
"""
from __future__ import annotations

from collections import defaultdict

from celery import shared_task
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from gongzhi.core.audit import AuditAction, audit_record

from .models import PENDING_NUMBER, Case, CaseNumberSequence, Notification, format_case_number

ADVISORY_KEY = 0x475A_4E4F  # "GZNO": the one lock numbering batches take


def _prefix() -> str:
    return getattr(settings, "GONGZHI_CASE_NUMBER_PREFIX", "GZ")


def number_pending(*, case_id: int | None = None) -> str | None:
    """Number every committed case that has no number yet; return ``case_id``'s number (if given).

    Outside a transaction this is its own short transaction (autocommit). Inside one, it runs in
    it and sees that transaction's own uncommitted cases too.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT cases_number_pending(%s, %s, %s, %s)",
                           [settings.TIME_ZONE, _prefix(), case_id, PENDING_NUMBER])
            return cursor.fetchone()[0]
    return _number_pending_python(case_id)


@transaction.atomic
def _number_pending_python(case_id: int | None) -> str | None:
    if case_id is not None:
        found = Case.objects.filter(pk=case_id).values_list("number", flat=True).first()
        if found:
            return found
    pending = list(Case.objects.filter(number__isnull=True).order_by("pk"))
    by_year: dict[int, list[Case]] = defaultdict(list)
    for case in pending:
        by_year[timezone.localtime(case.received_at).year].append(case)
    for year, cases in sorted(by_year.items()):
        first = CaseNumberSequence.reserve(year, len(cases))
        for offset, case in enumerate(cases):
            case.number = format_case_number(year, first + offset)
            Case.objects.filter(pk=case.pk, number__isnull=True).update(number=case.number)
            for note in Notification.objects.filter(case=case, text__contains=PENDING_NUMBER):
                note.text = note.text.replace(PENDING_NUMBER, case.number)
                note.save(update_fields=["text"])
            audit_record(actor=None, action=AuditAction.UPDATE, obj=case, before={"number": None},
                         after={"number": case.number}, note="编号（number）")
    if case_id is None:
        return None
    return Case.objects.filter(pk=case_id).values_list("number", flat=True).first()


@shared_task(name="gongzhi.cases.number_pending")
def number_pending_task() -> None:
    """Catch-up for cases whose registering process died between its two transactions."""
    number_pending()
