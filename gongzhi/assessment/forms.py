from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from . import indicators
from .models import DemandKind, ExemptionGround, FaultToleranceApplication, FlagKind, NegativeKind, ScoringWeights

DECISION_CHOICES = [("accept", _("Accept")), ("refuse", _("Refuse"))]


class PeriodForm(forms.Form):
    period = forms.CharField(label=_("Quarter (e.g. 2026Q3)"), max_length=6, required=False)


class ScoringWeightsForm(forms.Form):
    on_time = forms.IntegerField(label=_("closed on time"), min_value=0, max_value=100)
    satisfaction = forms.IntegerField(label=_("requester satisfied"), min_value=0, max_value=100)
    no_rework = forms.IntegerField(label=_("no rework"), min_value=0, max_value=100)
    no_escalation = forms.IntegerField(label=_("no escalation"), min_value=0, max_value=100)
    instruction = forms.IntegerField(label=_("secretary's instruction followed"), min_value=0, max_value=100)
    note = forms.CharField(label=_("why (reviewable)"), max_length=500)

    def weights(self) -> dict:
        return {k: self.cleaned_data[k] for k in ScoringWeights.PARTS}


class DecideForm(forms.Form):
    decision = forms.ChoiceField(label=_("Decision"), choices=DECISION_CHOICES, widget=forms.RadioSelect)
    note = forms.CharField(label=_("Grounds of the decision"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)

    @property
    def accepted(self) -> bool:
        return self.cleaned_data["decision"] == "accept"


class ExemptionForm(forms.Form):
    case_number = forms.CharField(label=_("Case number"), max_length=32)
    ground = forms.ChoiceField(label=_("Ground"), choices=ExemptionGround.choices)
    explanation = forms.CharField(label=_("What was done outside the normal process, and why"),
                                  widget=forms.Textarea(attrs={"rows": 4}), max_length=2000)


class NegativeItemForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=NegativeKind.choices)
    text = forms.CharField(label=_("What"), max_length=300)
    demand_kind = forms.ChoiceField(label=_("Kind of demand (must not be demanded)"),
                                    choices=[("", "—")] + DemandKind.choices, required=False)
    indicator = forms.ChoiceField(label=_("Indicator (must not be counted)"), required=False,
                                  choices=[("", "—")] + [(i.code, i.name) for i in indicators.CATALOGUE])


class DemandForm(forms.Form):
    code = forms.SlugField(label=_("Code"), max_length=60)
    name = forms.CharField(label=_("Demand"), max_length=200)
    role = forms.ChoiceField(label=_("Role asked"), choices=[
        ("grid_worker", "网格员"), ("three_line", "三线人员"), ("village_secretary", "村（社区）书记"),
        ("town_secretary", "镇（街道）书记"), ("department_handler", "部门经办人")])
    kind = forms.ChoiceField(label=_("Kind"), choices=DemandKind.choices)
    fields = forms.IntegerField(label=_("Fields to fill"), min_value=0, max_value=200, initial=0)
    photos = forms.IntegerField(label=_("Photos asked"), min_value=0, max_value=50, initial=0)
    per_week = forms.DecimalField(label=_("Times a week per person"), min_value=0, max_value=1000, decimal_places=2,
                                  initial=1)
    feeds = forms.ChoiceField(label=_("Indicator it feeds"), required=False,
                              choices=[("", "—")] + [(i.code, i.name) for i in indicators.CATALOGUE])


class RetireForm(forms.Form):
    note = forms.CharField(label=_("Why it is cut"), max_length=500)


class FlagForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=FlagKind.choices)
    description = forms.CharField(label=_("What is asked, by whom, how often"),
                                  widget=forms.Textarea(attrs={"rows": 4}), max_length=2000)


class FormulaForm(forms.Form):
    kind = forms.ChoiceField(label=_("Index"), choices=[("urban", _("Urban governance complexity")),
                                                        ("rural", _("Rural public-service accessibility"))])
    terms = forms.CharField(label=_("Terms (factor:weight:direction, one per line)"),
                            widget=forms.Textarea(attrs={"rows": 5}))
    note = forms.CharField(label=_("Why (reviewable)"), max_length=500)

    def parsed_terms(self) -> list[dict]:
        terms = []
        for k, line in enumerate(self.cleaned_data["terms"].splitlines(), 1):
            line = line.strip()
            if not line:
                continue
            parts = [p.strip() for p in line.split(":")]
            if len(parts) not in (2, 3):
                raise forms.ValidationError(f"第{k}行应写成“因子:权重:方向”，如 density:0.3:1")
            try:
                weight = float(parts[1])
                direction = int(parts[2]) if len(parts) == 3 else 1
            except ValueError:
                raise forms.ValidationError(f"第{k}行的权重或方向不是数字") from None
            terms.append({"factor": parts[0], "weight": weight, "direction": direction})
        return terms


class ToleranceForm(forms.Form):
    region = forms.ModelChoiceField(label=_("Where"), queryset=None)
    case_number = forms.CharField(label=_("Case number (if any)"), max_length=32, required=False)
    matter = forms.CharField(label=_("What happened"), widget=forms.Textarea(attrs={"rows": 4}), max_length=2000)

    def __init__(self, *args, regions=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["region"].queryset = regions
        for condition in FaultToleranceApplication.CONDITIONS:
            label = FaultToleranceApplication._meta.get_field(condition).verbose_name
            self.fields[condition] = forms.BooleanField(label=label, required=False)
            self.fields[f"{condition}_evidence"] = forms.CharField(
                label=_("What shows it"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))

    def conditions(self) -> dict:
        return {c: {"held": self.cleaned_data[c], "evidence": self.cleaned_data[f"{c}_evidence"]}
                for c in FaultToleranceApplication.CONDITIONS}


class BulletinForm(forms.Form):
    scope = forms.ChoiceField(label=_("For"), choices=[])
    period = forms.CharField(label=_("Quarter (e.g. 2026Q3)"), max_length=6)

    def __init__(self, *args, scopes=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["scope"].choices = list(scopes)


class CorrectForm(forms.Form):
    note = forms.CharField(label=_("What is corrected, and why"), widget=forms.Textarea(attrs={"rows": 3}),
                           max_length=2000)
