"""REST routes of gongzhi.assessment, under /api/assessment/ (mounted by gongzhi/api_urls.py).

Each route is covered by tests/permission_matrix/assessment_api.py.
"""
from django.urls import path

from . import api

app_name = "assessment_api"

urlpatterns = [
    # the indicator catalogue, its figures and the records behind them
    path("assessment/indicators/", api.IndicatorListAPI.as_view(), name="indicators"),
    path("assessment/figures/", api.FiguresAPI.as_view(), name="figures"),
    path("assessment/records/", api.RecordsAPI.as_view(), name="records"),
    # 一件一考评 and 事后备案说明
    path("assessment/scores/", api.ScoresAPI.as_view(), name="scores"),
    path("assessment/scoring-weights/", api.ScoringWeightsAPI.as_view(), name="scoring-weights"),
    path("assessment/exemptions/", api.ExemptionListCreateAPI.as_view(), name="exemptions"),
    path("assessment/exemptions/<int:pk>/decide/", api.ExemptionDecideAPI.as_view(), name="exemption-decide"),
    # the burden meter and the negative list
    path("assessment/burden/", api.BurdenAPI.as_view(), name="burden"),
    path("assessment/demands/", api.DemandCreateAPI.as_view(), name="demands"),
    path("assessment/demands/<int:pk>/retire/", api.DemandRetireAPI.as_view(), name="demand-retire"),
    path("assessment/negative-list/", api.NegativeListAPI.as_view(), name="negative-list"),
    path("assessment/burden-flags/", api.BurdenFlagListCreateAPI.as_view(), name="burden-flags"),
    path("assessment/burden-flags/<int:pk>/decide/", api.BurdenFlagDecideAPI.as_view(), name="burden-flag-decide"),
    # differentiated indices
    path("assessment/indices/", api.IndicesAPI.as_view(), name="indices"),
    path("assessment/index-formulas/", api.IndexFormulaCreateAPI.as_view(), name="index-formulas"),
    path("assessment/index-formulas/<int:pk>/review/", api.IndexFormulaReviewAPI.as_view(),
         name="index-formula-review"),
    # the separating equilibrium
    path("assessment/proposals/", api.ProposalListAPI.as_view(), name="proposals"),
    path("assessment/proposals/generate/", api.ProposalsGenerateAPI.as_view(), name="proposals-generate"),
    path("assessment/proposals/<int:pk>/", api.ProposalDetailAPI.as_view(), name="proposal-detail"),
    path("assessment/proposals/<int:pk>/decide/", api.ProposalDecideAPI.as_view(), name="proposal-decide"),
    path("assessment/fault-tolerance/", api.FaultToleranceListCreateAPI.as_view(), name="fault-tolerance"),
    path("assessment/fault-tolerance/<int:pk>/", api.FaultToleranceDetailAPI.as_view(),
         name="fault-tolerance-detail"),
    path("assessment/fault-tolerance/<int:pk>/decide/", api.FaultToleranceDecideAPI.as_view(),
         name="fault-tolerance-decide"),
    # 一季度一通报
    path("assessment/bulletins/", api.BulletinListCreateAPI.as_view(), name="bulletins"),
    path("assessment/bulletins/<int:pk>/", api.BulletinDetailAPI.as_view(), name="bulletin-detail"),
    path("assessment/bulletins/<int:pk>/issue/", api.BulletinIssueAPI.as_view(), name="bulletin-issue"),
    path("assessment/bulletins/<int:pk>/correct/", api.BulletinCorrectAPI.as_view(), name="bulletin-correct"),
]
