"""REST routes of linking up, under /api/linking/ (mounted by gongzhi/api_urls.py).

Each route is covered by tests/permission_matrix/linking_api.py.
"""
from django.urls import path

from . import api

app_name = "linking_api"

urlpatterns = [
    path("linking/overview/", api.OverviewAPI.as_view(), name="overview"),
    # 结对共建 and 支部联建: the pairing, its report form and its liaison posts
    path("linking/pairings/", api.PairingListCreateAPI.as_view(), name="pairings"),
    path("linking/pairings/<int:pk>/", api.PairingDetailAPI.as_view(), name="pairing-detail"),
    path("linking/pairings/<int:pk>/sign/", api.PairingSignAPI.as_view(), name="pairing-sign"),
    path("linking/pairings/<int:pk>/end/", api.PairingEndAPI.as_view(), name="pairing-end"),
    path("linking/pairings/<int:pk>/posts/", api.PostAddAPI.as_view(), name="post-add"),
    path("linking/posts/<int:pk>/handover/", api.PostHandoverAPI.as_view(), name="post-handover"),
    path("linking/posts/<int:pk>/assign/", api.PostAssignAPI.as_view(), name="post-assign"),
    path("linking/pairings/<int:pk>/messages/", api.MessagePostAPI.as_view(), name="message-post"),
    path("linking/pairings/<int:pk>/archive/", api.PairingArchiveAPI.as_view(), name="pairing-archive"),
    # the three lists
    path("linking/pairings/<int:pk>/resources/", api.ResourceListCreateAPI.as_view(), name="resources"),
    path("linking/resources/<int:pk>/", api.ResourceDetailAPI.as_view(), name="resource-detail"),
    path("linking/resources/<int:pk>/review/", api.ResourceReviewAPI.as_view(), name="resource-review"),
    path("linking/pairings/<int:pk>/needs/", api.NeedListCreateAPI.as_view(), name="needs"),
    path("linking/needs/<int:pk>/", api.NeedDetailAPI.as_view(), name="need-detail"),
    path("linking/needs/<int:pk>/check/", api.NeedCheckAPI.as_view(), name="need-check"),
    path("linking/needs/<int:pk>/review/", api.NeedReviewAPI.as_view(), name="need-review"),
    path("linking/needs/<int:pk>/candidates/", api.NeedCandidatesAPI.as_view(), name="need-candidates"),
    path("linking/needs/<int:pk>/confirm/", api.NeedConfirmAPI.as_view(), name="need-confirm"),
    path("linking/pairings/<int:pk>/projects/", api.ProjectListAPI.as_view(), name="projects"),
    path("linking/projects/<int:pk>/", api.ProjectDetailAPI.as_view(), name="project-detail"),
    path("linking/projects/<int:pk>/tasks/", api.ProjectTaskAddAPI.as_view(), name="project-task-add"),
    path("linking/projects/<int:pk>/complete/", api.ProjectCompleteAPI.as_view(), name="project-complete"),
    path("linking/projects/<int:pk>/review/", api.ProjectReviewAPI.as_view(), name="project-review"),
    path("linking/project-tasks/<int:pk>/progress/", api.TaskProgressAPI.as_view(), name="task-progress"),
    # activities
    path("linking/pairings/<int:pk>/activities/", api.ActivityListCreateAPI.as_view(), name="activities"),
    path("linking/activities/<int:pk>/", api.ActivityDetailAPI.as_view(), name="activity-detail"),
    path("linking/activities/<int:pk>/attendance/", api.AttendanceRecordAPI.as_view(), name="activity-attendance"),
    path("linking/attendance/<int:pk>/left/", api.AttendanceLeftAPI.as_view(), name="attendance-left"),
    path("linking/activities/<int:pk>/hold/", api.ActivityHoldAPI.as_view(), name="activity-hold"),
    path("linking/activities/<int:pk>/cancel/", api.ActivityCancelAPI.as_view(), name="activity-cancel"),
    path("linking/activities/<int:pk>/evaluations/", api.EvaluationRecordAPI.as_view(), name="activity-evaluate"),
    # feedback and plans
    path("linking/pairings/<int:pk>/feedback/", api.FeedbackListCreateAPI.as_view(), name="feedback"),
    path("linking/pairings/<int:pk>/feedback/from-case/", api.FeedbackFromCaseAPI.as_view(),
         name="feedback-from-case"),
    path("linking/pairings/<int:pk>/plans/", api.PlanListCreateAPI.as_view(), name="plans"),
    path("linking/plans/<int:pk>/", api.PlanDetailAPI.as_view(), name="plan-detail"),
    path("linking/plans/<int:pk>/responses/", api.PlanRespondAPI.as_view(), name="plan-respond"),
    path("linking/plans/<int:pk>/adopt/", api.PlanAdoptAPI.as_view(), name="plan-adopt"),
    # the fast track
    path("linking/approvals/", api.ApprovalListAPI.as_view(), name="approvals"),
    path("linking/pairings/<int:pk>/approvals/", api.ApprovalRequestAPI.as_view(), name="approval-request"),
    path("linking/approvals/<int:pk>/", api.ApprovalDetailAPI.as_view(), name="approval-detail"),
    path("linking/approvals/<int:pk>/decide/", api.ApprovalDecideAPI.as_view(), name="approval-decide"),
    # 三联 and the 535 links
    path("linking/links/", api.LinkListCreateAPI.as_view(), name="links"),
    path("linking/links/<int:pk>/end/", api.LinkEndAPI.as_view(), name="link-end"),
    path("linking/links/<int:pk>/activities/", api.LinkActivityListCreateAPI.as_view(), name="link-activities"),
    path("linking/coverage/", api.CoverageAPI.as_view(), name="coverage"),
    path("linking/village-grades/", api.VillageGradeListSetAPI.as_view(), name="village-grades"),
    path("linking/alliances/", api.AllianceListCreateAPI.as_view(), name="alliances"),
    path("linking/alliances/<int:pk>/", api.AllianceDetailAPI.as_view(), name="alliance-detail"),
    path("linking/alliances/<int:pk>/members/", api.AllianceMemberAddAPI.as_view(), name="alliance-member-add"),
    path("linking/alliances/<int:pk>/operations/", api.AllianceOperationAddAPI.as_view(),
         name="alliance-operation-add"),
    path("linking/resource-shares/", api.ResourceShareListCreateAPI.as_view(), name="resource-shares"),
    # 镇村工作一体化
    path("linking/key-tasks/", api.KeyTaskListCreateAPI.as_view(), name="key-tasks"),
    path("linking/key-tasks/<int:pk>/", api.KeyTaskDetailAPI.as_view(), name="key-task-detail"),
    path("linking/key-tasks/<int:pk>/progress/", api.KeyTaskReportAPI.as_view(), name="key-task-report"),
    path("linking/work-teams/", api.WorkTeamListCreateAPI.as_view(), name="work-teams"),
    path("linking/work-teams/<int:pk>/", api.WorkTeamDetailAPI.as_view(), name="work-team-detail"),
    path("linking/work-teams/<int:pk>/members/", api.WorkTeamMemberAddAPI.as_view(), name="work-team-member-add"),
    path("linking/team-members/<int:pk>/end/", api.TeamMemberEndAPI.as_view(), name="team-member-end"),
    path("linking/team-members/<int:pk>/station-days/", api.StationDayListCreateAPI.as_view(), name="station-days"),
    path("linking/integration/", api.IntegrationAPI.as_view(), name="integration"),
    # county settings
    path("linking/counties/<int:pk>/settings/", api.SettingsAPI.as_view(), name="settings"),
]
