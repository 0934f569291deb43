from django.urls import path

from . import views

app_name = "assessment"

urlpatterns = [
    path("", views.home, name="home"),
    path("indicators/", views.catalogue, name="catalogue"),
    path("records/<slug:code>/<slug:kind>/<int:subject_id>/<str:period>/", views.records, name="records"),
    path("scores/", views.scores, name="scores"),
    path("burden/", views.burden_meter, name="burden"),
    path("burden/demands/<int:pk>/retire/", views.demand_retire, name="demand_retire"),
    path("burden/flags/new/", views.flag_new, name="flag_new"),
    path("burden/flags/<int:pk>/decide/", views.flag_decide, name="flag_decide"),
    path("negative-list/", views.negative_list, name="negative"),
    path("exemptions/", views.exemptions, name="exemptions"),
    path("exemptions/new/", views.exemption_new, name="exemption_new"),
    path("exemptions/<int:pk>/decide/", views.exemption_decide, name="exemption_decide"),
    path("indices/", views.index_page, name="indices"),
    path("indices/formulas/<int:pk>/review/", views.formula_review, name="formula_review"),
    path("proposals/", views.proposals, name="proposals"),
    path("proposals/<int:pk>/", views.proposal, name="proposal"),
    path("fault-tolerance/", views.tolerance_list, name="tolerance_list"),
    path("fault-tolerance/new/", views.tolerance_new, name="tolerance_new"),
    path("fault-tolerance/<int:pk>/", views.tolerance, name="tolerance"),
    path("bulletins/", views.bulletin_list, name="bulletins"),
    path("bulletins/<int:pk>/", views.bulletin, name="bulletin"),
    path("bulletins/<int:pk>/file.<str:fmt>", views.bulletin_download, name="bulletin_file"),
    path("bulletins/<int:pk>/<slug:action>/", views.bulletin_do, name="bulletin_do"),
]
