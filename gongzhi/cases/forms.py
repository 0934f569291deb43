"""Forms of the cases pages. They parse and validate input and resolve references; they never
save — the views hand ``cleaned_data`` to one service call (``actions.perform`` for the steps,
``services.case_register`` …), and put the service's ``ValidationError`` back on the form
(``add_service_errors``), so what the user typed is shown again with the reason in Chinese."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from . import page_selectors
from .actions import DECISION_LABELS, Action, clean_data
from .choices import CaseStatus, Channel, Ledger, Level, Limit, MatterKind
from .models import CaseCategory, validate_attachment

DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d"]


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files from one ``<input type=file multiple>``; cleans to a list (may be empty)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        items = data if isinstance(data, (list, tuple)) else ([data] if data else [])
        if not items and self.required:
            raise ValidationError(self.error_messages["required"], code="required")
        return [super(MultipleFileField, self).clean(item, initial) for item in items]


def _check_upload(upload) -> None:
    try:
        validate_attachment(upload)
    except ValidationError as exc:
        messages = exc.message_dict.get("file", exc.messages) if hasattr(exc, "error_dict") else exc.messages
        raise ValidationError(f"{upload.name}：{'；'.join(messages)}") from None


def datetime_field(label, required=False):
    return forms.DateTimeField(label=label, required=required, input_formats=DATETIME_FORMATS,
                               widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"))


def add_service_errors(form: forms.Form, exc: ValidationError, aliases: dict[str, str] | None = None) -> None:
    """Put a service's ``ValidationError`` on the form: field errors on their field (or an alias,
    e.g. the service's ``file`` on the form's ``attachments``), everything else on top."""
    aliases = aliases or {}
    if hasattr(exc, "error_dict"):
        for name, errors in exc.error_dict.items():
            name = aliases.get(name, name)
            form.add_error(name if name in form.fields else None,
                           errors if name in form.fields else [f"{m}" for e in errors for m in e.messages])
    else:
        form.add_error(None, exc.messages)


def _grouped(items, group, value, label):
    groups: dict[str, list] = {}
    for item in items:
        groups.setdefault(group(item), []).append((value(item), label(item)))
    return list(groups.items())


# ---------------------------------------------------------------------------------------------
# the steps of a case (built from actions.ACTIONS)


class ActionForm(forms.Form):
    """The form of one step on one case, with its field names prefixed by the step's name so
    that every step's form can sit on the case page at once."""

    def __init__(self, data=None, files=None, *, action: Action, case, user, summonses=None, **kwargs):
        kwargs.setdefault("prefix", action.name)
        super().__init__(data, files, **kwargs)
        self.action, self.case, self.user = action, case, user
        self._summonses = summonses
        self._lookup: dict[str, dict] = {}
        for spec in action.fields:
            self.fields[spec.name] = self._field(spec)

    def _field(self, spec):
        required, label = spec.required, spec.label
        kind = spec.kind
        if kind == "text":
            return forms.CharField(label=label, required=required, widget=forms.Textarea(attrs={"rows": 3}))
        if kind == "line":
            return forms.CharField(label=label, required=required, max_length=200)
        if kind == "int":
            return forms.IntegerField(label=label, required=required, min_value=spec.min_value,
                                      max_value=spec.max_value)
        if kind == "choice":
            choices = list(spec.choices) if required else [("", "—")] + list(spec.choices)
            return forms.ChoiceField(label=label, required=required, choices=choices,
                                     widget=forms.RadioSelect if required and len(choices) <= 5 else forms.Select)
        if kind == "decision":
            yes, no = DECISION_LABELS[spec.name]
            return forms.TypedChoiceField(label=label, choices=[("1", yes), ("0", no)], coerce=lambda v: v == "1",
                                          widget=forms.RadioSelect, initial="1")
        if kind == "datetime":
            return datetime_field(label, required)
        if kind == "files":
            return MultipleFileField(label=label, required=required)
        if kind == "file":
            return forms.FileField(label=label, required=required)
        if kind == "category":
            categories = list(page_selectors.case_categories(county_id=self.case.county_id))
            self._lookup[spec.name] = {str(c.pk): c for c in categories}
            return forms.ChoiceField(label=label, initial=str(self.case.category_id), choices=_grouped(
                categories, lambda c: Ledger(c.ledger).label, lambda c: str(c.pk), lambda c: c.name))
        if kind == "target":
            perms = ("cases.dispatch_case",) if self.action.name == "assign" else (
                "cases.dispatch_case", "cases.handle_case")
            targets = page_selectors.assignment_targets(user=self.user, case=self.case, perms=perms)
            self._lookup[spec.name] = {t.key: t for t in targets}
            initial = None
            if self.action.name == "assign":
                from .services import default_assignee

                suggestion = default_assignee(self.case)
                if suggestion:
                    (name, obj), = suggestion.items()
                    initial = f"{name}:{obj.pk}"
            return forms.ChoiceField(label=label, initial=initial, choices=[("", "—")] + _grouped(
                targets, lambda t: t.group, lambda t: t.key, lambda t: t.label))
        if kind == "departments":
            departments = list(page_selectors.county_departments(county_id=self.case.county_id))
            self._lookup[spec.name] = {str(d.pk): d for d in departments}
            return forms.MultipleChoiceField(label=label, choices=[(str(d.pk), d.name) for d in departments],
                                             widget=forms.CheckboxSelectMultiple)
        if kind == "summons":
            summonses = self._summonses
            if summonses is None:
                summonses = list(page_selectors.summonses_to_acknowledge(user=self.user, case=self.case))
            self._lookup[spec.name] = {str(s.pk): s for s in summonses}
            due = lambda s: timezone.localtime(s.due_at).strftime("%m-%d %H:%M")  # noqa: E731
            return forms.ChoiceField(label=label, widget=forms.RadioSelect,
                                     initial=str(summonses[0].pk) if summonses else None,
                                     choices=[(str(s.pk), f"{s.department.name}（{due(s)}前报到）：{s.reason}")
                                              for s in summonses])
        raise ValueError(f"unknown field kind {kind}")

    def clean(self):
        cleaned = super().clean()
        for spec in self.action.fields:
            if spec.name not in cleaned:
                continue
            value = cleaned[spec.name]
            if spec.kind in ("category", "summons") and value:
                cleaned[spec.name] = self._lookup[spec.name][value]
            elif spec.kind == "departments":
                cleaned[spec.name] = [self._lookup[spec.name][v] for v in value]
            elif spec.kind == "target" and value:
                cleaned[spec.name] = self._lookup[spec.name][value].as_kwargs()
            elif spec.kind == "files":
                for upload in value or []:
                    try:
                        _check_upload(upload)
                    except ValidationError as exc:
                        self.add_error(spec.name, exc)
            elif spec.kind == "file" and value:
                try:
                    _check_upload(value)
                except ValidationError as exc:
                    self.add_error(spec.name, exc)
        if self.action.name == "confirm_settlement" and cleaned.get("confirmed") and not cleaned.get("satisfaction"):
            self.add_error("satisfaction", "群众确认时请记录满意或基本满意")
        return cleaned

    def service_data(self) -> dict:
        return clean_data(self.action, self.cleaned_data)

    def add_service_errors(self, exc: ValidationError) -> None:
        add_service_errors(self, exc, aliases={"file": "attachments" if "attachments" in self.fields else "file",
                                               "grid": "target", "region": "target", "department": "target",
                                               "handler": "target"})


# ---------------------------------------------------------------------------------------------
# registering a case


class RegisterForm(forms.Form):
    category = forms.ChoiceField(label=_("Category"))
    title = forms.CharField(label=_("Title"), max_length=200)
    description = forms.CharField(label=_("What was asked"), widget=forms.Textarea(attrs={"rows": 4}))
    channel = forms.ChoiceField(label=_("Channel"), choices=Channel.choices, initial=Channel.WINDOW)
    region = forms.ChoiceField(label=_("Where (village or town)"), required=False)
    # Rendered as a select of the grids of the chosen village; any grid in the user's reach is
    # accepted (checked in clean_grid), so a town's user may post a grid without a village.
    grid = forms.CharField(label=_("Grid"), required=False, widget=forms.Select)
    address = forms.CharField(label=_("Address or place"), max_length=200, required=False)
    requester_name = forms.CharField(label=_("Requester's name"), max_length=50, required=False)
    requester_phone = forms.CharField(label=_("Requester's phone"), max_length=20, required=False,
                                      widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}))
    anonymous = forms.BooleanField(label=_("Anonymous (the name is never shown)"), required=False)
    complained_department = forms.ChoiceField(label=_("Department complained about (complaints)"), required=False)
    complained_text = forms.CharField(label=_("Unit or person complained about (free text)"), max_length=200,
                                      required=False)
    received_at = datetime_field(_("Received at (default: now)"))
    attachments = MultipleFileField(label=_("Materials (photos, letters; optional)"), required=False)

    def __init__(self, data=None, files=None, *, user, **kwargs):
        super().__init__(data, files, **kwargs)
        self.user = user
        counties = page_selectors.user_county_ids(user)
        categories = list(page_selectors.case_categories(county_id=counties[0] if len(counties) == 1 else None))
        self._categories = {str(c.pk): c for c in categories}
        self.fields["category"].choices = [("", "—")] + _grouped(
            categories, lambda c: Ledger(c.ledger).label, lambda c: str(c.pk), lambda c: c.name)
        regions = list(page_selectors.register_regions(user=user))
        self._regions = {str(r.pk): r for r in regions}
        self.fields["region"].choices = [("", "—")] + [(str(r.pk), ("　" * max(r.level - 2, 0)) + r.name)
                                                      for r in regions]
        if not regions:
            self.fields["region"].widget = forms.HiddenInput()
        chosen = self._regions.get(str(self.data.get(self.add_prefix("region")) or self.initial.get("region") or ""))
        grids = list(page_selectors.register_grids(user=user, region=chosen))
        self._grids = {str(g.pk): g for g in grids}
        self.fields["grid"].widget.choices = [("", "—")] + [(str(g.pk), f"{g.name}（{g.region.name}）")
                                                           for g in grids]
        if len(grids) == 1 and not regions:
            self.fields["grid"].initial = str(grids[0].pk)
        departments = list(page_selectors.county_departments(county_id=counties[0])) if len(counties) == 1 else []
        self._departments = {str(d.pk): d for d in departments}
        self.fields["complained_department"].choices = [("", "—")] + [(str(d.pk), d.name) for d in departments]
        self.can_pick_region = bool(regions)

    def clean_category(self):
        category = self._categories.get(self.cleaned_data["category"])
        if category is None:
            raise ValidationError("请选择类别")
        return category

    def clean_region(self):
        value = self.cleaned_data["region"]
        return self._regions.get(value) if value else None

    def clean_grid(self):
        value = self.cleaned_data["grid"]
        if not value:
            return None
        grid = self._grids.get(value)
        if grid is None and value.isdigit() and len(value) < 19:
            grid = page_selectors.register_grids(user=self.user, everywhere=True).filter(pk=int(value)).first()
        if grid is None:
            raise ValidationError("请选择你负责范围内的网格")
        return grid

    def clean_complained_department(self):
        value = self.cleaned_data["complained_department"]
        return self._departments.get(value) if value else None

    def clean_attachments(self):
        files = self.cleaned_data["attachments"]
        for upload in files:
            _check_upload(upload)
        return files

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("region") and not cleaned.get("grid") and "region" not in self.errors \
                and "grid" not in self.errors:
            self.add_error("grid" if not self.can_pick_region else "region", "请指定事发地（村、镇或网格）")
        return cleaned

    def service_kwargs(self) -> dict:
        d = self.cleaned_data
        kwargs = {k: d[k] for k in ("category", "title", "description", "channel", "address", "requester_name",
                                    "requester_phone", "anonymous", "complained_department", "complained_text",
                                    "attachments")}
        if d.get("grid") is not None:
            kwargs["grid"] = d["grid"]
        if d.get("region") is not None:
            kwargs["region"] = d["region"]
        if d.get("received_at"):
            kwargs["received_at"] = d["received_at"]
        return kwargs


# ---------------------------------------------------------------------------------------------
# lists and statistics (GET forms: an invalid filter is reported and left out)


def _yes(value) -> bool:
    return value in (True, "1", "true", "on", "yes")


class CaseFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=100,
                        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("Number, title or place")}))
    status = forms.ChoiceField(label=_("Status"), required=False, choices=[("", "—")] + list(CaseStatus.choices))
    ledger = forms.ChoiceField(label=_("Ledger"), required=False, choices=[("", "—")] + list(Ledger.choices))
    level = forms.ChoiceField(label=_("Level"), required=False, choices=[("", "—")] + list(Level.choices))
    category = forms.ChoiceField(label=_("Category"), required=False)
    overdue = forms.BooleanField(label=_("Overdue only"), required=False)
    due_soon = forms.BooleanField(label=_("Due soon only"), required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        counties = page_selectors.user_county_ids(user)
        categories = list(page_selectors.case_categories(county_id=counties[0] if len(counties) == 1 else None,
                                                         active_only=False))
        self._categories = {c.code: c for c in categories}
        self.fields["category"].choices = [("", "—")] + [(c.code, c.name) for c in categories]

    def filters(self) -> dict:
        """The selector's keyword arguments from the fields that validated."""
        self.is_valid()
        d = getattr(self, "cleaned_data", {})
        out = {}
        for key in ("status", "ledger", "level"):
            if d.get(key):
                out[key] = d[key]
        if d.get("q"):
            out["text"] = d["q"]
        if d.get("category"):
            category = self._categories[d["category"]]
            out["category"] = category
        if d.get("overdue"):
            out["overdue"] = True
        if d.get("due_soon"):
            out["due_soon"] = True
        return out


def quarter_choices(today: dt.date | None = None, count: int = 8) -> list[tuple[str, str]]:
    today = today or timezone.localdate()
    year, quarter = today.year, (today.month - 1) // 3 + 1
    choices = []
    for _i in range(count):
        choices.append((f"{year}Q{quarter}", f"{year}年第{'一二三四'[quarter - 1]}季度"))
        year, quarter = (year, quarter - 1) if quarter > 1 else (year - 1, 4)
    return choices


def parse_quarter(value: str) -> tuple[dt.date, dt.date] | None:
    if not value or len(value) != 6 or value[4] != "Q" or not value[:4].isdigit() or value[5] not in "1234":
        return None
    return page_selectors.quarter_bounds(int(value[:4]), int(value[5]))


class PeriodForm(forms.Form):
    """Scope (a region) and period (a quarter, or from/to dates) of a statistic."""

    region = forms.ChoiceField(label=_("Area"), required=False)
    quarter = forms.ChoiceField(label=_("Quarter"), required=False)
    start = forms.DateField(label=_("Received on or after"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("Received on or before"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    basic_weight = forms.DecimalField(label=_("Weight of 'basically satisfied' (0–1)"), required=False,
                                      min_value=Decimal(0), max_value=Decimal(1), decimal_places=2,
                                      widget=forms.NumberInput(attrs={"step": "0.05"}))

    def __init__(self, *args, user, regions=None, default_quarter: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        regions = list(page_selectors.statistics_regions(user=user) if regions is None else regions)
        self._regions = {str(r.pk): r for r in regions}
        self.fields["region"].choices = [("", _("Everything I may see"))] + [
            (str(r.pk), ("　" * (r.level - 1)) + r.name) for r in regions]
        self.fields["quarter"].choices = [("", "—")] + quarter_choices()
        self.default_quarter = default_quarter
        if default_quarter:
            self.fields["quarter"].initial = quarter_choices()[0][0]

    def clean_region(self):
        value = self.cleaned_data["region"]
        return self._regions.get(value) if value else None

    def clean(self):
        cleaned = super().clean()
        bounds = parse_quarter(cleaned.get("quarter") or "")
        if bounds is None and self.default_quarter and not cleaned.get("start") and not cleaned.get("end"):
            bounds = parse_quarter(quarter_choices()[0][0])
            cleaned["quarter"] = quarter_choices()[0][0]
        if bounds:
            cleaned["start"], cleaned["end"] = bounds
        if cleaned.get("start") and cleaned.get("end") and cleaned["start"] > cleaned["end"]:
            self.add_error("end", "结束日期不能早于开始日期")
        return cleaned

    def values(self) -> dict:
        """region/start/end/basic_weight for ``statistics.compute_statistics`` (defaults when invalid)."""
        if not self.is_valid():
            return {"region": None, "start": None, "end": None, "basic_weight": None, "valid": False}
        d = self.cleaned_data
        return {"region": d.get("region"), "start": d.get("start"), "end": d.get("end"),
                "basic_weight": d.get("basic_weight"), "valid": True}


# ---------------------------------------------------------------------------------------------
# catalogue and time limits


def _optional_days(label):
    return forms.IntegerField(label=label, required=False, min_value=0, max_value=365,
                              help_text=_("Empty: the default time limit applies."))


class CategoryForm(forms.Form):
    code = forms.CharField(label=_("Code (Open311 service_code)"), max_length=63)
    name = forms.CharField(label=_("Category name"), max_length=100)
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    ledger = forms.ChoiceField(label=_("Ledger"), choices=Ledger.choices)
    kind = forms.ChoiceField(label=_("Kind of matter"), choices=MatterKind.choices)
    default_level = forms.ChoiceField(label=_("Default handling level"), choices=Level.choices)
    responsible_department = forms.ChoiceField(label=_("Responsible department"), required=False)
    suggested_department = forms.CharField(label=_("Suggested department (short name)"), max_length=30,
                                           required=False)
    acceptance_days = _optional_days(_("Acceptance limit (days)"))
    response_days = _optional_days(_("First-response limit (days)"))
    resolution_days = _optional_days(_("Resolution limit (days)"))
    is_petition = forms.BooleanField(label=_("Petition (信访) rules"), required=False)
    is_dispute = forms.BooleanField(label=_("Dispute, with mediation"), required=False)
    requires_instruction = forms.BooleanField(label=_("Secretary instruction always required"), required=False)
    instruction_level = forms.ChoiceField(label=_("Secretary instruction required from level"), required=False,
                                          choices=[("", "—")] + list(Level.choices))
    active = forms.BooleanField(label=_("Active"), required=False, initial=True)
    sort_order = forms.IntegerField(label=_("Order"), min_value=0, initial=0)

    EDITABLE = ["name", "description", "ledger", "kind", "default_level", "responsible_department",
                "suggested_department", "acceptance_days", "response_days", "resolution_days", "is_petition",
                "is_dispute", "requires_instruction", "instruction_level", "active", "sort_order"]

    def __init__(self, *args, county, editing: CaseCategory | None = None, **kwargs):
        if editing is not None:  # also the value of the disabled code field when bound
            kwargs["initial"] = {name: getattr(editing, name) for name in self.EDITABLE} | {
                "code": editing.code, "responsible_department": str(editing.responsible_department_id or "")}
        super().__init__(*args, **kwargs)
        departments = list(page_selectors.county_departments(county_id=county.pk))
        self._departments = {str(d.pk): d for d in departments}
        self.fields["responsible_department"].choices = [("", "—")] + [(str(d.pk), d.name) for d in departments]
        if editing is not None:
            self.fields["code"].disabled = True

    def clean_responsible_department(self):
        value = self.cleaned_data["responsible_department"]
        return self._departments.get(value) if value else None

    def service_fields(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.EDITABLE}


class TimeLimitForm(forms.Form):
    limit = forms.ChoiceField(label=_("Limit"), choices=Limit.choices)
    ledger = forms.ChoiceField(label=_("Ledger"), required=False, choices=[("", _("Any"))] + list(Ledger.choices))
    kind = forms.ChoiceField(label=_("Kind of matter"), required=False,
                             choices=[("", _("Any"))] + list(MatterKind.choices))
    days = forms.IntegerField(label=_("Days"), min_value=0, max_value=365)
    natural_days = forms.BooleanField(label=_("Natural days (else working days)"), required=False)
    max_times = forms.IntegerField(label=_("At most this many times (extensions)"), required=False, min_value=1,
                                   max_value=10)
    note = forms.CharField(label=_("Note"), required=False, max_length=200)

    def __init__(self, *args, editing=None, **kwargs):
        if editing is not None:  # also the values of the disabled fields when bound
            kwargs["initial"] = {k: getattr(editing, k) for k in ("limit", "ledger", "kind", "days", "natural_days",
                                                                   "max_times", "note")}
        super().__init__(*args, **kwargs)
        if editing is not None:
            for name in ("limit", "ledger", "kind"):
                self.fields[name].disabled = True


class MarkReadForm(forms.Form):
    ids = forms.CharField(required=False)

    def clean_ids(self):
        raw = self.cleaned_data["ids"].strip()
        if not raw:
            return None
        parts = [p for p in raw.replace(" ", ",").split(",") if p]
        if not all(p.isdigit() and len(p) < 19 for p in parts):
            raise ValidationError("编号不正确")
        return [int(p) for p in parts]
