"""The default catalogue: case categories and time-limit defaults, as data.

The data migration ``0002_default_catalogue`` installs these rows (county-wide defaults, ``county``
NULL); a county edits them or adds its own through ``services.category_save`` (its own row with
the same code overrides the default for that county). Nothing in the code depends on a particular
category existing: the workflow reads whatever the table says.

Time limits (``TIME_LIMIT_DEFAULTS``)
* acceptance (受理) within 1 working day; first response (签收/首次响应) within 1 working day of
  being assigned;
* help (求助) and consultation (咨询): 3 working days; suggestions, complaints, reports, disputes
  and anything else: 13 working days;
* petitions (信访事项, per the 信访工作条例): a decision on acceptance within 15 days and handling
  within 60 days of acceptance, extendable once by at most 30 days with approval — *natural*
  days, as the regulation counts them;
* other extensions: at most 10 working days each, at most twice (a county may change this).
"""
from __future__ import annotations

from .choices import Ledger, Level, Limit, MatterKind

# (ledger or "" for any, kind or "" for any, limit, days, natural days?, max times (extensions))
TIME_LIMIT_DEFAULTS: list[tuple[str, str, str, int, bool, int | None]] = [
    ("", "", Limit.ACCEPTANCE, 1, False, None),
    ("", "", Limit.RESPONSE, 1, False, None),
    ("", "", Limit.RESOLUTION, 13, False, None),
    ("", "", Limit.EXTENSION, 10, False, 2),
    ("", MatterKind.CONSULTATION, Limit.RESOLUTION, 3, False, None),
    ("", MatterKind.HELP, Limit.RESOLUTION, 3, False, None),
    ("", MatterKind.SUGGESTION, Limit.RESOLUTION, 13, False, None),
    ("", MatterKind.COMPLAINT, Limit.RESOLUTION, 13, False, None),
    ("", MatterKind.REPORT, Limit.RESOLUTION, 13, False, None),
    ("", MatterKind.DISPUTE, Limit.RESOLUTION, 13, False, None),
    ("", MatterKind.PETITION, Limit.ACCEPTANCE, 15, True, None),
    ("", MatterKind.PETITION, Limit.RESOLUTION, 60, True, None),
    ("", MatterKind.PETITION, Limit.EXTENSION, 30, True, 1),
]

O, D, C = Ledger.OPINION, Ledger.DEMAND, Ledger.COMPLAINT
K = MatterKind
G, V, T, Y = Level.GRID, Level.VILLAGE, Level.TOWN, Level.COUNTY

# code (Open311 service_code), name, ledger, kind, default level, suggested department (short
# name), extra fields
CATEGORIES: list[tuple[str, str, str, str, str, str, dict]] = [
    # 意见建议
    ("opinion-village-affairs", "村务管理意见建议", O, K.SUGGESTION, V, "", {}),
    ("opinion-public-service", "公共服务意见建议", O, K.SUGGESTION, T, "", {}),
    ("opinion-infrastructure", "基础设施建设建议", O, K.SUGGESTION, T, "住建", {}),
    ("opinion-industry", "产业发展建议", O, K.SUGGESTION, T, "农业农村", {}),
    ("opinion-living-environment", "人居环境整治建议", O, K.SUGGESTION, V, "", {}),
    ("opinion-policy-consultation", "政策咨询", O, K.CONSULTATION, V, "", {}),
    ("opinion-deputy-suggestion", "人大代表意见建议", O, K.SUGGESTION, Y, "人大", {"instruction_level": Y}),
    # 利益诉求
    ("demand-social-assistance", "低保、特困等社会救助", D, K.HELP, T, "民政", {}),
    ("demand-elderly-care", "养老服务", D, K.HELP, V, "民政", {}),
    ("demand-medical-insurance", "医疗保障", D, K.HELP, T, "医保", {}),
    ("demand-housing-safety", "住房安全", D, K.HELP, T, "住建", {}),
    ("demand-drinking-water", "饮水安全", D, K.HELP, T, "水利", {}),
    ("demand-roads-transport", "道路交通出行", D, K.HELP, T, "交通", {}),
    ("demand-unpaid-wages", "拖欠农民工工资", D, K.HELP, Y, "人社", {}),
    ("demand-employment", "就业创业", D, K.HELP, T, "人社", {}),
    ("demand-education", "教育入学", D, K.HELP, Y, "教育", {}),
    ("demand-poverty-monitoring", "防返贫监测帮扶", D, K.HELP, T, "乡村振兴", {}),
    ("demand-land-contract", "土地承包与流转", D, K.HELP, T, "农业农村", {}),
    ("demand-land-requisition", "征地拆迁补偿", D, K.HELP, Y, "自然资源",
     {"requires_instruction": True, "resolution_days": 20}),
    ("demand-collective-economy", "村集体经济与三资管理", D, K.HELP, T, "农业农村", {}),
    ("demand-small-matter", "小事急办（路灯、水管、垃圾清运等）", D, K.HELP, G, "", {"resolution_days": 1}),
    # 矛盾纠纷（调解）
    ("dispute-neighbour", "邻里纠纷", D, K.DISPUTE, G, "司法", {"is_dispute": True}),
    ("dispute-family", "婚姻家庭纠纷", D, K.DISPUTE, V, "司法", {"is_dispute": True}),
    ("dispute-land-forest", "土地山林权属纠纷", D, K.DISPUTE, T, "自然资源", {"is_dispute": True}),
    ("dispute-contract-debt", "合同债务纠纷", D, K.DISPUTE, V, "司法", {"is_dispute": True}),
    ("dispute-labour", "劳动争议", D, K.DISPUTE, T, "人社", {"is_dispute": True}),
    ("dispute-property-management", "物业纠纷", D, K.DISPUTE, V, "住建", {"is_dispute": True}),
    # 投诉举报
    ("complaint-cadre-conduct", "干部作风投诉", C, K.COMPLAINT, Y, "纪委监委",
     {"requires_instruction": True}),
    ("complaint-service-quality", "办事效率与服务态度投诉", C, K.COMPLAINT, T, "", {}),
    ("complaint-pollution", "环境污染投诉", C, K.COMPLAINT, Y, "生态环境", {}),
    ("complaint-illegal-building", "违法建设举报", C, K.REPORT, T, "综合执法", {}),
    ("complaint-food-safety", "食品药品安全举报", C, K.REPORT, Y, "市场监管", {}),
    ("complaint-village-finance", "村务财务问题举报", C, K.REPORT, T, "农业农村",
     {"requires_instruction": True}),
    ("complaint-safety-hazard", "安全隐患举报", C, K.REPORT, T, "应急管理", {}),
    ("petition", "信访事项", C, K.PETITION, Y, "信访",
     {"is_petition": True, "requires_instruction": True}),
]


def install_default_catalogue(CaseCategory, TimeLimitDefault) -> int:
    """Create the default rows that are missing (idempotent). Works with historical models."""
    created = 0
    for ledger, kind, limit, days, natural, max_times in TIME_LIMIT_DEFAULTS:
        _, made = TimeLimitDefault.objects.get_or_create(
            ledger=str(ledger), kind=str(kind), limit=str(limit),
            defaults={"days": days, "natural_days": natural, "max_times": max_times},
        )
        created += made
    for order, (code, name, ledger, kind, level, department, extra) in enumerate(CATEGORIES):
        if CaseCategory.objects.filter(county__isnull=True, code=code).exists():
            continue
        CaseCategory.objects.create(
            county=None, code=code, name=name, ledger=str(ledger), kind=str(kind), default_level=str(level),
            suggested_department=department, sort_order=order * 10,
            **{k: (str(v) if hasattr(v, "value") else v) for k, v in extra.items()},
        )
        created += 1
    return created
