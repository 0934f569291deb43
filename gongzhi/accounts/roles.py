"""The built-in roles, created after migrate when missing.

They are ordinary rows: a county may edit them or add its own in the admin; this only fills in
roles that do not exist yet and never overwrites an edited one.
"""
from __future__ import annotations

REGISTRY_VIEW = [
    "registry.view_region", "registry.view_grid", "registry.view_household", "registry.view_person",
    "registry.view_householdmembership", "registry.view_partyorganization",
    "registry.view_partymembership", "registry.view_deputy", "registry.view_centralhouseholdhead",
    "registry.view_department", "registry.view_contactassignment", "registry.view_hostunit",
]
REGISTRY_EDIT = [
    "registry.add_household", "registry.change_household", "registry.delete_household",
    "registry.add_person", "registry.change_person", "registry.delete_person",
    "registry.add_grid", "registry.change_grid",
    "registry.add_contactassignment", "registry.change_contactassignment",
]
ROSTER = ["roster.import_roster", "roster.export_roster"]
REVEAL = ["registry.reveal_person"]

# Three lines of contact and household care (gongzhi.care).
CARE_VIEW = [
    "care.view_householdclass", "care.view_householdclasschange", "care.view_contactrecord", "care.view_careplan",
    "care.view_visit", "care.view_carealert", "care.view_archivechange", "care.view_watchevent",
    "care.view_patrol", "care.view_patrolproblem", "care.view_receptionsession", "care.view_receptionsuggestion",
    "care.view_assignmentproposal", "care.view_classrule",
]
CARE_FIELD = [  # what grid workers do on their rounds
    "care.add_contactrecord", "care.change_visit", "care.add_archivechange", "care.add_watchevent",
    "care.add_patrol",
]
CARE_VILLAGE = CARE_FIELD + [  # what the village (and the town above it) decides
    "care.confirm_archivechange", "care.override_householdclass", "care.add_assignmentproposal",
    "care.add_receptionsession", "care.add_receptionsuggestion",
]
CARE_THREE_LINE = ["care.view_householdclass", "care.view_contactrecord", "care.view_careplan", "care.view_visit",
                   "care.view_carealert", "care.add_contactrecord", "care.change_visit"]

BUILTIN_ROLES = [
    ("county_secretary", "县委书记", "region", REGISTRY_VIEW + REVEAL + ["roster.export_roster"]
     + CARE_VIEW + ["care.change_classrule"]),
    ("town_secretary", "镇（街道）党委书记", "region", REGISTRY_VIEW + REGISTRY_EDIT + REVEAL + ROSTER
     + CARE_VIEW + CARE_VILLAGE),
    ("village_secretary", "村（社区）党组织书记", "region", REGISTRY_VIEW + REGISTRY_EDIT + REVEAL + ROSTER
     + CARE_VIEW + CARE_VILLAGE),
    ("grid_worker", "网格员", "grid", [
        "registry.view_region", "registry.view_grid", "registry.view_household", "registry.view_person",
        "registry.view_householdmembership", "registry.view_contactassignment",
        "registry.change_household", "registry.change_person",
    ] + REVEAL + CARE_VIEW + CARE_FIELD),
    ("department_handler", "部门经办人", "department", ["registry.view_department"]),
    ("three_line", "三线人员（党员、人大代表、中心户长）", "contacts", [
        "registry.view_household", "registry.view_person", "registry.view_householdmembership",
    ] + CARE_THREE_LINE),
    ("auditor", "审计员", "all", REGISTRY_VIEW + ["core.view_auditlog"] + CARE_VIEW),
    ("sysadmin", "系统管理员", "all", None),  # None: every Gongzhi permission but the audit and security duties
]

# Residents' matters (gongzhi.cases): what each role above may do with cases, and the dispatcher.
CASES_BASE = ["cases.view_case", "cases.view_casecategory"]
CASES_PERMS = {
    "county_secretary": CASES_BASE + ["cases.add_case", "cases.instruct_case", "cases.supervise_case",
                                      "cases.approve_extension", "cases.export_case"],
    "town_secretary": CASES_BASE + ["cases.add_case", "cases.instruct_case", "cases.dispatch_case",
                                    "cases.handle_case", "cases.supervise_case", "cases.approve_extension",
                                    "cases.summon_department", "cases.export_case"],
    "village_secretary": CASES_BASE + ["cases.add_case", "cases.instruct_case", "cases.dispatch_case",
                                       "cases.handle_case", "cases.supervise_case", "cases.export_case"],
    "grid_worker": CASES_BASE + ["cases.add_case", "cases.handle_case"],
    "department_handler": CASES_BASE + ["cases.handle_case"],
    "three_line": CASES_BASE + ["cases.add_case", "cases.handle_case"],
    "auditor": ["cases.view_case"],
}
# 调度员: the county 联系办 (office for direct contact with the masses) or a town's 综治中心. The only
# built-in role that sees who filed a complaint or report (cases.view_complainant).
DISPATCHER = ("dispatcher", "调度员（县联系办、镇综治中心）", "region", REGISTRY_VIEW + CASES_BASE + [
    "cases.add_case", "cases.change_case", "cases.dispatch_case", "cases.supervise_case",
    "cases.approve_extension", "cases.view_complainant", "cases.summon_department", "cases.export_case",
    "cases.add_casecategory", "cases.change_casecategory",
])

# The village governance layer (gongzhi.village): 六位一体 bodies, meetings, votes, 四议两公开,
# decisions, publicity and duty lists.
VILLAGE_VIEW = [f"village.view_{m}" for m in (
    "body", "bodymember", "meeting", "agendaitem", "attendance", "speech", "meetingattachment", "poll",
    "matter", "matterstep", "decision", "decisiontask", "decisionentry", "publicityitem", "publicityflag",
    "dutylist", "duty", "dutyowner", "villagesettings")]
VILLAGE_RUN = VILLAGE_VIEW + [
    "village.add_body", "village.change_body", "village.add_meeting", "village.run_meeting",
    "village.add_agendaitem", "village.add_matter", "village.steer_matter", "village.add_decision",
    "village.change_decision", "village.add_publicityitem", "village.publish_publicityitem",
    "village.change_dutylist",
]
VILLAGE_PERMS = {
    "county_secretary": VILLAGE_VIEW + ["village.supervise_decision", "village.change_villagesettings"],
    "town_secretary": VILLAGE_RUN + ["village.supervise_decision"],
    "village_secretary": VILLAGE_RUN,
    # Grid workers and three-line persons bring residents' matters to the agenda.
    "grid_worker": ["village.view_meeting", "village.view_agendaitem", "village.view_decision",
                    "village.view_publicityitem", "village.add_agendaitem"],
    # Three-line persons read their village's public page like every resident: their grant reaches
    # households, not a village's meetings.
    "auditor": VILLAGE_VIEW,
    "dispatcher": VILLAGE_VIEW,
}
# 村务监督委员会: reads everything of its village and writes supervision notes, nothing else.
VILLAGE_SUPERVISOR = ("village_supervisor", "村务监督委员会主任", "region",
                      ["registry.view_region", "cases.view_case"] + VILLAGE_VIEW + ["village.supervise_decision"])

# Linking up (gongzhi.linking): pairing and co-building, the three lists, the fast track, 三联 and the
# 535 links, town–village integration.
LINKING_VIEW = [f"linking.view_{m}" for m in (
    "pairing", "liaisonpost", "liaisonterm", "handover", "pairingmessage", "resourceitem", "needitem", "project",
    "projecttask", "activity", "activityattendance", "surveyresponse", "evaluation", "feedbackitem", "plan",
    "planfeedback", "approvalrequest", "link", "linkactivity", "villagegrade", "alliance", "alliancemember",
    "allianceoperation", "resourceshare", "keytask", "keytaskprogress", "workteam", "workteammember",
    "stationday", "linkingsettings", "memberreport", "memberservice")]
# What a liaison does on either side: keep the lists, hold activities, evaluate, plan, ask.
LINKING_LIAISON = LINKING_VIEW + [
    "linking.sign_pairing", "linking.change_liaisonpost", "linking.add_pairingmessage",
    "linking.add_resourceitem", "linking.change_resourceitem", "linking.add_needitem", "linking.change_needitem",
    "linking.add_project", "linking.change_project", "linking.add_activity", "linking.change_activity",
    "linking.add_evaluation", "linking.add_feedbackitem", "linking.add_plan", "linking.change_plan",
    "linking.add_approvalrequest", "linking.add_linkactivity",
]
LINKING_TOWN = LINKING_LIAISON + [
    "linking.add_pairing", "linking.change_pairing", "linking.supervise_pairing", "linking.decide_approvalrequest",
    "linking.add_keytask", "linking.change_keytask", "linking.add_workteam", "linking.change_workteam",
    "linking.add_link", "linking.change_link", "linking.add_alliance", "linking.change_alliance",
    "linking.add_resourceshare", "linking.add_memberreport", "linking.add_memberservice",
]
LINKING_PERMS = {
    "county_secretary": LINKING_VIEW + [
        "linking.add_pairing", "linking.change_pairing", "linking.supervise_pairing",
        "linking.decide_approvalrequest", "linking.add_link", "linking.change_link", "linking.add_linkactivity",
        "linking.add_villagegrade", "linking.change_villagegrade", "linking.add_alliance", "linking.change_alliance",
        "linking.add_resourceshare", "linking.change_linkingsettings", "linking.add_keytask"],
    "town_secretary": LINKING_TOWN,
    # The village keeps its side of the pairing and reports its key tasks and the team's days.
    "village_secretary": LINKING_LIAISON + ["linking.change_keytask", "linking.change_workteam",
                                            "linking.add_resourceshare", "linking.add_memberreport",
                                            "linking.add_memberservice"],
    # Grid workers bring needs from their rounds (a contact record) to the pairing.
    "grid_worker": ["linking.view_pairing", "linking.view_needitem", "linking.add_needitem"],
    "auditor": LINKING_VIEW,
    # The 12345 line's cases reach a pairing as feedback, or as a need, through the dispatcher.
    "dispatcher": LINKING_VIEW + ["linking.add_feedbackitem", "linking.add_needitem"],
}
# 机关联络员: an agency's liaison, over their department's pairings only (a department grant).
AGENCY_LIAISON = ("agency_liaison", "结对共建联络员（机关单位）", "department",
                  ["registry.view_department"] + LINKING_LIAISON)

# Resources and dispatch (gongzhi.resources): the one inventory and its stock ledger, needs, and
# reservation → dispatch → delivery. Who keeps a resource (its region, its department) moves its
# stock and draws on it; a village reads the county's pool and asks for it by raising a need.
RESOURCES_VIEW = [f"resources.view_{m}" for m in ("resource", "stockmovement", "need", "allocation", "delivery")]
RESOURCES_KEEP = RESOURCES_VIEW + [
    "resources.add_resource", "resources.change_resource", "resources.move_stock", "resources.add_need",
    "resources.change_need", "resources.add_allocation", "resources.add_delivery", "resources.confirm_delivery",
]
RESOURCES_PERMS: dict[str, list[str]] = {
    "county_secretary": RESOURCES_VIEW + ["resources.add_need"],
    "town_secretary": RESOURCES_KEEP,
    "village_secretary": RESOURCES_KEEP,
    # On the doorstep: raise a need from the rounds, record the recipient's confirmation.
    "grid_worker": ["resources.view_need", "resources.view_delivery", "resources.view_allocation",
                    "resources.view_resource", "resources.add_need", "resources.confirm_delivery"],
    # A department keeps and dispatches its own stock (a department grant).
    "department_handler": RESOURCES_VIEW + ["resources.add_resource", "resources.change_resource",
                                            "resources.move_stock", "resources.add_allocation",
                                            "resources.add_delivery"],
    "auditor": RESOURCES_VIEW,
    # The county 联系办 / a town's 综治中心 runs the dispatch queue over its territory.
    "dispatcher": RESOURCES_KEEP,
}
# Volunteers (gongzhi.volunteers): the corps, certification, service tasks and hours, the points
# ledger and the catalogue. Filled in by gongzhi.volunteers.
VOLUNTEERS_VIEW = [f"volunteers.view_{m}" for m in (
    "volunteer", "certification", "servicekind", "pointssettings", "servicetask", "signup", "pointsaccount",
    "pointstransaction", "catalogueitem", "redemption")]
# Grid workers and village staff take volunteers through a task: sign them up, assign, check in and
# out, confirm hours (which earns points), redeem from the catalogue on their behalf.
VOLUNTEERS_FIELD = VOLUNTEERS_VIEW + [
    "volunteers.add_signup", "volunteers.change_signup", "volunteers.assign_signup", "volunteers.confirm_signup",
    "volunteers.add_redemption", "volunteers.change_redemption", "volunteers.deliver_redemption"]
VOLUNTEERS_VILLAGE = VOLUNTEERS_FIELD + [
    "volunteers.add_volunteer", "volunteers.change_volunteer", "volunteers.add_certification",
    "volunteers.change_certification", "volunteers.add_servicetask", "volunteers.change_servicetask"]
VOLUNTEERS_PERMS: dict[str, list[str]] = {
    # The county sets the rules (service kinds and what they require, points, the catalogue), corrects
    # the ledger with a reason and reads the analytics; it certifies professionals too.
    "county_secretary": VOLUNTEERS_VIEW + [
        "volunteers.view_volunteer_analytics", "volunteers.add_servicekind", "volunteers.change_servicekind",
        "volunteers.change_pointssettings", "volunteers.correct_pointstransaction", "volunteers.add_catalogueitem",
        "volunteers.change_catalogueitem", "volunteers.add_certification", "volunteers.change_certification",
        "volunteers.add_servicetask", "volunteers.change_servicetask"],
    "town_secretary": VOLUNTEERS_VILLAGE + ["volunteers.view_volunteer_analytics"],
    "village_secretary": VOLUNTEERS_VILLAGE,
    "grid_worker": VOLUNTEERS_FIELD,
    "auditor": VOLUNTEERS_VIEW + ["volunteers.view_volunteer_analytics"],
    # A resident's matter that needs a lawyer or a doctor becomes a service task at the dispatcher's desk.
    "dispatcher": VOLUNTEERS_VIEW + ["volunteers.add_servicetask"],
}

# 考评 (gongzhi.assessment): every unit reads its own results; the county sets weights, formulas,
# the negative list and the demands, generates and issues the county's bulletin and decides the
# proposals about towns, departments and cadres; a town decides about its villages, flags hidden
# burdens and issues its own bulletin; anyone may file an after-the-fact explanation for a case
# they handle and apply for fault tolerance for themselves.
ASSESSMENT_VIEW = [f"assessment.view_{m}" for m in (
    "scoringweights", "casescore", "exemption", "negativeitem", "demand", "burdenflag", "indexformula",
    "assessmentweights", "proposal", "faulttoleranceapplication", "bulletin")]
ASSESSMENT_SELF = ["assessment.add_exemption", "assessment.add_faulttoleranceapplication"]
ASSESSMENT_PERMS: dict[str, list[str]] = {
    "county_secretary": ASSESSMENT_VIEW + ASSESSMENT_SELF + [
        "assessment.add_scoringweights", "assessment.add_assessmentweights", "assessment.add_indexformula",
        "assessment.review_indexformula", "assessment.add_negativeitem", "assessment.add_demand",
        "assessment.retire_demand", "assessment.decide_burdenflag", "assessment.decide_exemption",
        "assessment.add_proposal", "assessment.decide_proposal", "assessment.decide_faulttolerance",
        "assessment.add_bulletin", "assessment.issue_bulletin"],
    "town_secretary": ASSESSMENT_VIEW + ASSESSMENT_SELF + [
        "assessment.add_burdenflag", "assessment.decide_exemption", "assessment.decide_proposal",
        "assessment.decide_faulttolerance", "assessment.add_bulletin", "assessment.issue_bulletin"],
    "village_secretary": ["assessment.view_casescore", "assessment.view_exemption", "assessment.view_proposal",
                          "assessment.view_faulttoleranceapplication", "assessment.view_bulletin",
                          "assessment.view_demand", "assessment.view_negativeitem",
                          "assessment.view_scoringweights", "assessment.view_indexformula",
                          "assessment.view_assessmentweights"] + ASSESSMENT_SELF,
    "grid_worker": ["assessment.view_demand", "assessment.view_negativeitem",
                    "assessment.add_faulttoleranceapplication", "assessment.view_faulttoleranceapplication"],
    "department_handler": ["assessment.view_casescore", "assessment.view_exemption", "assessment.view_bulletin",
                           "assessment.view_proposal", "assessment.add_exemption"],
    # The auditor is the second pair of eyes on the county's index formulas (set by the county).
    "auditor": ASSESSMENT_VIEW + ["assessment.review_indexformula"],
}

BUILTIN_ROLES = [
    (code, name, kind, perms if perms is None else perms + CASES_PERMS.get(code, []) + VILLAGE_PERMS.get(code, [])
     + LINKING_PERMS.get(code, []) + RESOURCES_PERMS.get(code, []) + VOLUNTEERS_PERMS.get(code, [])
     + ASSESSMENT_PERMS.get(code, []))
    for code, name, kind, perms in BUILTIN_ROLES
] + [DISPATCHER]
DISPATCHER = (DISPATCHER[0], DISPATCHER[1], DISPATCHER[2],
              DISPATCHER[3] + VILLAGE_PERMS["dispatcher"] + LINKING_PERMS["dispatcher"]
              + RESOURCES_PERMS.get("dispatcher", []) + VOLUNTEERS_PERMS.get("dispatcher", []))
BUILTIN_ROLES = BUILTIN_ROLES[:-1] + [DISPATCHER, VILLAGE_SUPERVISOR, AGENCY_LIAISON]


# The system administrator's permissions beyond Gongzhi's own apps: unlocking logins.
SYSADMIN_EXTRA = ["axes.view_accessattempt", "axes.delete_accessattempt"]

# 三员分立 (separation of duties, 等保 2.0): the system administrator runs the system, the security
# administrator (here the county administrator) grants and revokes roles, the auditor reads the
# audit trail. No login may hold two of the last two duties (``services.role_grant`` refuses),
# and the system administrator holds neither.
AUDIT_DUTY = frozenset({"core.view_auditlog"})
SECURITY_DUTY = frozenset({"accounts.add_roleassignment", "accounts.change_roleassignment",
                           "accounts.delete_roleassignment", "accounts.add_role", "accounts.change_role",
                           "accounts.delete_role"})
SECURITY_ADMIN = ("county_admin", "县级安全管理员（角色授权）", "all",
                  ["accounts.view_role", "accounts.view_roleassignment", "accounts.view_user",
                   "accounts.add_roleassignment", "accounts.change_roleassignment"])
BUILTIN_ROLES = BUILTIN_ROLES + [SECURITY_ADMIN]

# 志愿者 (gongzhi.volunteers): a resident volunteer's own login, over their own record only (a
# contacts grant names the login's registry person): signs up for tasks of their village, checks in
# and out, reads their hours and points, redeems from the catalogue.
VOLUNTEER_SELF = ("volunteer", "志愿者（本人）", "contacts", [
    "volunteers.view_volunteer", "volunteers.view_certification", "volunteers.view_servicekind",
    "volunteers.view_servicetask", "volunteers.view_signup", "volunteers.add_signup", "volunteers.change_signup",
    "volunteers.view_pointsaccount", "volunteers.view_pointstransaction", "volunteers.view_catalogueitem",
    "volunteers.view_redemption", "volunteers.add_redemption", "volunteers.change_redemption"])
BUILTIN_ROLES = BUILTIN_ROLES + [VOLUNTEER_SELF]


def _permissions(dotted_names):
    from django.contrib.auth.models import Permission

    wanted = {tuple(dotted.split(".")) for dotted in dotted_names}
    return [p for p in Permission.objects.filter(codename__in={c for _a, c in wanted})
            .select_related("content_type") if (p.content_type.app_label, p.codename) in wanted]


def ensure_builtin_roles(sender=None, using="default", **kwargs):
    from django.apps import apps as global_apps
    from django.contrib.auth.management import create_permissions
    from django.contrib.auth.models import Permission

    from .models import Role

    # post_migrate reaches this app before later apps have had their permissions created.
    for app_config in global_apps.get_app_configs():
        create_permissions(app_config, verbosity=0, using=using)

    # Every Gongzhi app's permissions (sysadmin's set), whatever apps exist now.
    our_labels = [c.label for c in global_apps.get_app_configs() if c.name.startswith("gongzhi.")]
    separated = {tuple(p.split(".")) for p in AUDIT_DUTY | SECURITY_DUTY}
    all_ours = [p for p in Permission.objects.filter(content_type__app_label__in=our_labels).select_related("content_type")
                if (p.content_type.app_label, p.codename) not in separated]
    for code, name, scope_kind, perm_names in BUILTIN_ROLES:
        role, created = Role.objects.get_or_create(
            code=code, defaults={"name": name, "scope_kind": scope_kind, "is_builtin": True,
                                 "follows_defaults": True},
        )
        # A built-in role follows the platform's defaults (so an upgrade that adds a module gives
        # it the module's permissions) until a county edits it and unticks follows_defaults.
        if not (created or role.follows_defaults):
            continue
        if perm_names is None:
            role.permissions.set(list(all_ours) + _permissions(SYSADMIN_EXTRA))
            continue
        role.permissions.set(_permissions(perm_names))
