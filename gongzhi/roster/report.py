"""The dry-run report of a roster file: what is wrong, row by row, and what an import would do.

It is plain data (stored as JSON on ``ImportBatch.report``) and renders itself as text for the
command line. Row messages are written in Chinese by the checks; the surrounding labels are
English source strings translated through gettext (zh-hans by default).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

from django.utils.translation import gettext as _


@dataclass
class RowError:
    row: int
    messages: list[str]
    household: str = ""
    name: str = ""


@dataclass
class Counts:
    create: int = 0
    update: int = 0
    unchanged: int = 0
    move: int = 0  # persons only: moved here from another household of the same file


@dataclass
class Plan:
    """What an import would write (for one of the two modes)."""

    households: Counts = field(default_factory=Counts)
    persons: Counts = field(default_factory=Counts)
    grids: Counts = field(default_factory=Counts)
    rows: int = 0  # rows that would be imported
    skipped_rows: int = 0  # rows left out (valid-only mode: bad rows and their households)
    skipped_households: list[str] = field(default_factory=list)  # 户号 (or 网格编码 for grids)

    @property
    def writes(self) -> int:
        return sum(c.create + c.update + c.move for c in (self.households, self.persons, self.grids))


@dataclass
class Report:
    kind: str
    filename: str = ""
    village_id: int | None = None
    village_name: str = ""
    sheet: str = ""
    header_row: int | None = None
    ignored_headers: list[str] = field(default_factory=list)
    file_errors: list[str] = field(default_factory=list)
    rows_read: int = 0
    errors: list[RowError] = field(default_factory=list)
    plan: Plan = field(default_factory=Plan)  # importing everything (only possible without errors)
    valid_only: Plan = field(default_factory=Plan)  # importing only the valid rows' households
    changes: list[dict] = field(default_factory=list)  # [{"row", "what", "fields"}] of updates
    skipped_lines: list[dict] = field(default_factory=list)  # [{"row", "text", "reason"}] footers, not data
    notes: list[str] = field(default_factory=list)  # what the import assumed (address from the group …)
    applied: dict | None = None  # {"mode", "at", "plan"} once imported

    @property
    def rows_invalid(self) -> int:
        return len(self.errors)

    @property
    def rows_valid(self) -> int:
        return self.rows_read - self.rows_invalid

    @property
    def has_errors(self) -> bool:
        return bool(self.file_errors or self.errors)

    @property
    def readable(self) -> bool:
        return not self.file_errors

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "Report":
        data = dict(data or {})
        if not data:
            return cls(kind="")

        def plan(raw):
            raw = dict(raw or {})
            for key in ("households", "persons", "grids"):
                raw[key] = Counts(**(raw.get(key) or {}))
            return Plan(**raw)

        data["errors"] = [RowError(**e) for e in data.get("errors", [])]
        data["plan"] = plan(data.get("plan"))
        data["valid_only"] = plan(data.get("valid_only"))
        return cls(**data)

    # -----------------------------------------------------------------------------------------

    def as_text(self) -> str:
        lines = [_("Roster check: %(file)s → %(village)s") % {"file": self.filename, "village": self.village_name}]
        if self.file_errors:
            lines += [_("The file cannot be imported:")] + [f"  {message}" for message in self.file_errors]
            return "\n".join(lines)
        lines.append(_("Header on row %(row)s; %(read)s rows read, %(valid)s valid, %(invalid)s with errors.") % {
            "row": self.header_row, "read": self.rows_read, "valid": self.rows_valid, "invalid": self.rows_invalid})
        if self.ignored_headers:
            lines.append(_("Columns not used: %(cols)s") % {"cols": "、".join(self.ignored_headers)})
        lines.extend(self.notes)
        if self.skipped_lines:
            lines.append(_("Rows left out (not data):"))
            for line in self.skipped_lines:
                lines.append(_("  Row %(row)s: %(why)s（%(text)s）") % {
                    "row": line["row"], "why": line["reason"], "text": line["text"]})
        lines.append(self._plan_text(self.plan if not self.has_errors else self.valid_only,
                                     valid_only=self.has_errors))
        if self.errors:
            lines.append(_("Rows with errors:"))
            for error in self.errors:
                who = " ".join(x for x in (error.household, error.name) if x)
                lines.append(_("  Row %(row)s%(who)s: %(why)s") % {
                    "row": error.row, "who": f"（{who}）" if who else "", "why": "；".join(error.messages)})
        if self.changes:
            lines.append(_("Changes to existing records:"))
            for change in self.changes:
                lines.append(_("  Row %(row)s %(what)s: %(fields)s") % {
                    "row": change["row"], "what": change["what"], "fields": "、".join(change["fields"])})
        return "\n".join(lines)

    def _plan_text(self, plan: Plan, *, valid_only: bool) -> str:
        head = (_("Importing only the valid rows would write:") if valid_only else _("Importing would write:"))
        parts = []
        if self.kind == "grids":
            parts.append(_("grids: %(c)s new, %(u)s changed, %(n)s unchanged") % {
                "c": plan.grids.create, "u": plan.grids.update, "n": plan.grids.unchanged})
        else:
            parts.append(_("households: %(c)s new, %(u)s changed, %(n)s unchanged") % {
                "c": plan.households.create, "u": plan.households.update, "n": plan.households.unchanged})
            parts.append(_("persons: %(c)s new, %(u)s changed, %(m)s moved in, %(n)s unchanged") % {
                "c": plan.persons.create, "u": plan.persons.update, "m": plan.persons.move,
                "n": plan.persons.unchanged})
        text = f"{head} " + "；".join(parts)
        if valid_only and plan.skipped_rows:
            if self.kind == "grids":
                text += "\n" + _("Skipped: %(rows)s rows (a grid with a bad row is skipped with the grids "
                                  "below it).") % {"rows": plan.skipped_rows}
            else:
                text += "\n" + _("Skipped: %(rows)s rows (%(households)s households with a bad row are skipped "
                                  "whole).") % {"rows": plan.skipped_rows, "households": len(plan.skipped_households)}
        return text
