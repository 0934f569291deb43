"""REST routes of the village governance layer, under /api/village/ (mounted by gongzhi/api_urls.py).

Each route is covered by tests/permission_matrix/village_api.py.
"""
from django.urls import path

from . import api

app_name = "village_api"

urlpatterns = [
    # 六位一体
    path("village/villages/<int:pk>/bodies/", api.BodyListAPI.as_view(), name="body-list"),
    path("village/bodies/<int:pk>/members/", api.MemberAddAPI.as_view(), name="member-add"),
    path("village/members/<int:pk>/end/", api.MemberEndAPI.as_view(), name="member-end"),
    # meetings
    path("village/meetings/", api.MeetingListCreateAPI.as_view(), name="meetings"),
    path("village/meetings/<int:pk>/", api.MeetingDetailAPI.as_view(), name="meeting-detail"),
    path("village/meetings/<int:pk>/notify/", api.MeetingNotifyAPI.as_view(), name="meeting-notify"),
    path("village/meetings/<int:pk>/open/", api.MeetingOpenAPI.as_view(), name="meeting-open"),
    path("village/meetings/<int:pk>/attendance/", api.MeetingAttendanceAPI.as_view(), name="meeting-attendance"),
    path("village/meetings/<int:pk>/speeches/", api.MeetingSpeechAPI.as_view(), name="meeting-speech"),
    path("village/meetings/<int:pk>/close/", api.MeetingCloseAPI.as_view(), name="meeting-close"),
    # agenda
    path("village/agenda-items/", api.AgendaItemListCreateAPI.as_view(), name="agenda-items"),
    path("village/agenda-items/from-cases/", api.AgendaFromCasesAPI.as_view(), name="agenda-from-cases"),
    path("village/agenda-items/<int:pk>/schedule/", api.AgendaScheduleAPI.as_view(), name="agenda-schedule"),
    # votes
    path("village/polls/", api.PollOpenAPI.as_view(), name="poll-open"),
    path("village/polls/<int:pk>/", api.PollDetailAPI.as_view(), name="poll-detail"),
    path("village/polls/<int:pk>/ballots/", api.PollCastAPI.as_view(), name="poll-cast"),
    path("village/polls/<int:pk>/close/", api.PollCloseAPI.as_view(), name="poll-close"),
    # 四议两公开
    path("village/matters/", api.MatterListCreateAPI.as_view(), name="matters"),
    path("village/matters/<int:pk>/", api.MatterDetailAPI.as_view(), name="matter-detail"),
    path("village/matters/<int:pk>/advance/", api.MatterAdvanceAPI.as_view(), name="matter-advance"),
    path("village/matters/<int:pk>/reject/", api.MatterRejectAPI.as_view(), name="matter-reject"),
    path("village/matters/<int:pk>/exempt/", api.MatterExemptAPI.as_view(), name="matter-exempt"),
    path("village/matters/<int:pk>/explain/", api.MatterExplainAPI.as_view(), name="matter-explain"),
    # decisions
    path("village/decisions/", api.DecisionListAPI.as_view(), name="decisions"),
    path("village/decisions/<int:pk>/", api.DecisionDetailAPI.as_view(), name="decision-detail"),
    path("village/decisions/<int:pk>/tasks/", api.DecisionTaskAddAPI.as_view(), name="decision-task-add"),
    path("village/decisions/<int:pk>/notes/", api.DecisionNoteAPI.as_view(), name="decision-note"),
    path("village/decisions/<int:pk>/complete/", api.DecisionCompleteAPI.as_view(), name="decision-complete"),
    path("village/tasks/<int:pk>/progress/", api.TaskProgressAPI.as_view(), name="task-progress"),
    path("village/tasks/<int:pk>/adjust/", api.TaskAdjustAPI.as_view(), name="task-adjust"),
    # 村务公开
    path("village/publicity/", api.PublicityListCreateAPI.as_view(), name="publicity"),
    path("village/publicity/<int:pk>/", api.PublicityDetailAPI.as_view(), name="publicity-detail"),
    path("village/publicity/<int:pk>/publish/", api.PublicityPublishAPI.as_view(), name="publicity-publish"),
    path("village/publicity/<int:pk>/correct/", api.PublicityCorrectAPI.as_view(), name="publicity-correct"),
    path("village/publicity-flags/", api.PublicityFlagListAPI.as_view(), name="publicity-flags"),
    # 权力清单、责任清单
    path("village/duty-lists/", api.DutyListListEnsureAPI.as_view(), name="duty-lists"),
    path("village/duty-lists/<int:pk>/", api.DutyListDetailAPI.as_view(), name="duty-list-detail"),
    path("village/duty-lists/<int:pk>/duties/", api.DutyAddAPI.as_view(), name="duty-add"),
    path("village/duty-lists/<int:pk>/review/", api.DutyListReviewAPI.as_view(), name="duty-list-review"),
    path("village/duties/<int:pk>/owners/", api.DutyOwnerAddAPI.as_view(), name="duty-owner-add"),
]
