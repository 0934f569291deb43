"""A year of linking up for a generated county: ``generate_linking_year``.

Run after the registry, the cases and the village year exist (``gongzhi demo``, ``gongzhi generate
--cases N``; see gongzhi/demo/README.md). It writes, for the whole county:

* 结对共建 and 三联: pairings between the host units' branches at the county seat (agencies and
  schools with villages and communities, 城乡支部联建; state firms with villages, 村企联建) and
  村村联建 (a strong lead village with weak villages of its town), their report forms signed,
  liaison posts on both sides, the three lists — resources (type, capacity, form of use, state),
  needs graded core / important / general with their feasibility checks and who asked (residents'
  cases, village meetings, contact records), 28 matched livelihood projects (the seed's figure)
  with tasks by department and person and their progress — joint activities with attendance (in-
  service party members of the lead branch among the lead side, some residents leaving early),
  residents' survey answers, both sides' evaluations by outcomes, follow-up visits, feedback from
  every channel, plans that answer the earlier feedback, messages and decisions in the archive,
  fast-track requests; some list items left past their review, which ``sweeps.sweep_stale`` then
  flags; in-service party members' reports to the community they live in (在职党员进社区报到) and
  their service there, the pairing activities they served at included;
* the 535 links as link records with what was done on them (county leaders–towns, departments–
  villages, cadres–vulnerable households, strong–weak villages, host villages–new communities),
  三官一律 (a judge, prosecutor, police officer and lawyer for every village), a town leader
  following every village; the county's village grades (strong / ordinary / weak), a few weak
  villages deliberately left without a strong partner so that coverage has something to show;
  an industry alliance (莲藕小龙虾, 980 mu, with a leading firm, village collectives and
  cooperatives and their joint operations) and a tea alliance; resource sharing (资源联享);
* 镇村工作一体化: key tasks quantified to every village for the year, each serving one of the
  three aims, with their progress ledger; a town work team stationed in every village (a leader
  and members, their days in the village) and the town leader following it. The counts are the
  seed's in proportion to the number of villages (``quota``: cumulative rounding, so that a
  164-village county gets exactly 3,506 tasks and 592 stationed cadres, and 164 town leaders).

The showcase (``Showcase``) goes through the services, acted by the demo logins who would do it:
in the ``village`` login's village (the first village of the first town) 县民政局's branch
(中共汉阴县民政局机关支部委员会) pairs with the village; the lead post was held by a former liaison
who handed it over in writing (the archive snapshotted) to the ``liaison`` login; the ``village``
login holds the partner post. Both sides' lists have stale items; an open, feasibility-checked
need raised from a resident's case waits to be matched, and another case's need is already a
project with tasks and its ranking stored; an activity has just been held, with attendance, survey
answers and both sides' evaluations; fast-track requests are decided, pending and one escalated.
The services stamp "now": the showcase runs on a story clock (``_StoryClock``: ``timezone.now``
returns the moment of each step, ending on ``today``), so dates agree with each other and with the
bulk rows, and the same seed and ``today`` give the same showcase. Its audit rows carry the
request id ``demo-linking-<seed>`` (they were written by the generator, at the time it gives).

The rest is the bulk path, like ``gongzhi.village.demo``: rows are built in memory, already
consistent (cached territory columns, committed capacity never above capacity, the quota
figures), with explicit primary keys, written with COPY on PostgreSQL (plain INSERTs elsewhere) in
one transaction, the sequences moved past them afterwards; the run writes one audit row
(``AuditAction.GENERATE``). Bulk rows are recorded as made by one inactive account,
``demo_linking_data``; the bulk pairings' liaison posts are vacant (the county names the liaisons).

Deterministic: every town, village and pairing draws from ``random.Random`` seeded with the run's
seed and its code, and every date is computed from ``today`` (default: today).
"""
from __future__ import annotations

import datetime as dt
import json
import random
import secrets
import time
from collections import Counter, defaultdict, deque
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from unittest import mock

from django.contrib.auth import get_user_model
from django.core.management.color import no_style
from django.db import connection, models, transaction
from django.db.models import Max
from django.utils import timezone, translation

from gongzhi.cases.models import Case, CaseEvent
from gongzhi.core import middleware
from gongzhi.core.audit import AuditAction, audit_record
from gongzhi.core.workdays import add_working_days
from gongzhi.registry.models import (
    Department, Household, HostUnit, PartyMembership, PartyOrganization, Person, PersonStatus, Region, RegionLevel,
)

from . import matching
from .models import (
    RELATED_KINDS, Activity, ActivityAttendance, ActivityKind, ActivityStatus, Aim, Alliance, AllianceMember,
    AllianceMode, AllianceOperation, ApprovalRequest, ApprovalStatus, Evaluation, Feasibility, FeedbackChannel,
    FeedbackItem, Handover, JointAction, KeyTask, KeyTaskProgress, KeyTaskStatus, LiaisonPost, LiaisonTerm, Link,
    LinkActivity, LinkingSettings, LinkKind, MemberReport, MemberReportStatus, MemberService, MessageKind, NeedGrade,
    NeedItem, NeedSource, NeedStatus, Pairing, PairingKind, PairingMessage, PairingStatus, Plan, PlanFeedback,
    PlanStatus, Principle, Project, ProjectStatus, ProjectTask, ResourceItem, ResourceKind, ResourceShare,
    ResourceState, ShareKind, ShareMode, Side, StationDay,
    SurveyResponse, TeamRole, UseForm, VillageGrade, VillageGradeKind, WorkTeam, WorkTeamMember,
)

GENERATOR_USERNAME = "demo_linking_data"
FORMER_LIAISON_USERNAME = "demo_liaison_former"
TZ = timezone.get_default_timezone()

# The seed (Shiquan, 2022): 3,506 quantified key tasks in 164 villages, 592 stationed cadres, 164
# town leaders; Z city: 28 livelihood projects matched from the three lists.
SEED_VILLAGES, SEED_TASKS, SEED_CADRES, SEED_TOWN_LEADERS = 164, 3506, 592, 164
PROJECTS = 28
SHOWCASE_BRANCH = "中共汉阴县民政局机关支部委员会"
VULNERABLE = ("low_income", "extreme", "monitored")
K, RK = ActivityKind, ResourceKind


def _round_half_up(numerator: int, denominator: int) -> int:
    return (2 * numerator + denominator) // (2 * denominator)


def quota(villages: int, seed_total: int, seed_villages: int = SEED_VILLAGES) -> list[int]:
    """``seed_total`` in proportion to ``villages``, village by village, by cumulative rounding:
    village *i* gets round((i+1)·T/V₀) − round(i·T/V₀). The shares differ by at most one, and the
    sum is round(villages·T/V₀): exactly T for the seed's V₀ villages."""
    return [_round_half_up((i + 1) * seed_total, seed_villages) - _round_half_up(i * seed_total, seed_villages)
            for i in range(villages)]


# ---------------------------------------------------------------------------------------------
# what the lists hold (plain data)

# 县民政局's list: the seed's agency listed 43 resources — meeting rooms, an archive query system, a
# policy expert team … (kind, name, capacity, unit, form of use, at the county seat?, conditions)
CIVIL_AFFAIRS_RESOURCES = [
    (RK.VENUE, "机关一楼会议室（40座）", 4, "次/月", UseForm.OPEN, True, "提前三个工作日预约"),
    (RK.VENUE, "机关三楼多功能会议室（120座）", 2, "次/月", UseForm.OPEN, True, "工作日使用，需提前一周预约"),
    (RK.VENUE, "机关党员活动室", 4, "次/月", UseForm.OPEN, True, ""),
    (RK.VENUE, "社会组织孵化基地培训教室", 3, "次/月", UseForm.OPEN, True, "含投影、音响"),
    (RK.VENUE, "婚姻家庭辅导室", 8, "次/月", UseForm.OPEN, True, "由婚姻家庭辅导员陪同使用"),
    (RK.VENUE, "县儿童福利指导中心活动室", 2, "次/月", UseForm.OPEN, True, "周末开放"),
    (RK.INFORMATION, "民政档案查询系统", 20, "次/月", UseForm.SERVE, False, "代查婚姻、收养、优抚等档案，凭身份证件"),
    (RK.INFORMATION, "婚姻登记档案查询", 15, "次/月", UseForm.SERVE, False, "本人或委托人凭证件查询"),
    (RK.INFORMATION, "社会救助家庭经济状况核对平台", 30, "户/月", UseForm.SERVE, False, "经申请人授权后核对"),
    (RK.INFORMATION, "养老服务信息平台", 1, "项", UseForm.OPEN, False, "老人信息录入、服务派单"),
    (RK.INFORMATION, "区划地名信息查询", 10, "次/月", UseForm.SERVE, False, ""),
    (RK.EXPERTS, "政策专家团队（低保、特困、临时救助）", 8, "次/月", UseForm.SERVE, False, "上门解读政策、现场帮办"),
    (RK.EXPERTS, "社会工作专业人才队伍", 6, "人", UseForm.SERVE, False, "持证社工6名，可驻村开展个案服务"),
    (RK.EXPERTS, "心理咨询师", 2, "人", UseForm.SERVE, False, "每月两次，需预约"),
    (RK.EXPERTS, "养老护理指导员", 3, "人", UseForm.SERVE, False, "指导居家照护、失能老人护理"),
    (RK.EXPERTS, "婚姻家庭辅导员", 2, "人", UseForm.SERVE, False, ""),
    (RK.EXPERTS, "殡葬改革宣讲员", 2, "人", UseForm.SERVE, False, ""),
    (RK.EXPERTS, "老年人能力评估师", 2, "人", UseForm.SERVE, False, "评估结果用于护理补贴认定"),
    (RK.VOLUNTEERS, "机关党员志愿服务队", 30, "人", UseForm.SERVE, False, "每月第二个周六集中服务"),
    (RK.VOLUNTEERS, "在职党员进社区服务队", 24, "人", UseForm.SERVE, False, "在职党员向居住地社区报到后参加"),
    (RK.VOLUNTEERS, "青年志愿者突击队", 12, "人", UseForm.SERVE, False, "防汛、应急时调用"),
    (RK.VOLUNTEERS, "社会组织志愿者", 20, "人", UseForm.SERVE, False, "由县社会组织联合会协调"),
    (RK.EQUIPMENT, "救灾棉被", 200, "床", UseForm.DONATE, True, "用于受灾群众和困难群众"),
    (RK.EQUIPMENT, "救灾帐篷", 20, "顶", UseForm.LEND, True, "汛期优先保障"),
    (RK.EQUIPMENT, "折叠床", 40, "张", UseForm.LEND, True, ""),
    (RK.EQUIPMENT, "轮椅", 20, "台", UseForm.LEND, True, "借期不超过三个月"),
    (RK.EQUIPMENT, "助行器和拐杖", 30, "件", UseForm.DONATE, True, "优先失能、半失能老人"),
    (RK.EQUIPMENT, "老年助餐点厨具", 2, "套", UseForm.DONATE, True, "用于新建或改造的老年助餐点"),
    (RK.EQUIPMENT, "移动音响和投影设备", 2, "套", UseForm.LEND, True, ""),
    (RK.EQUIPMENT, "适老化改造扶手、防滑垫", 60, "套", UseForm.DONATE, True, "经入户评估后安装"),
    (RK.FUNDS, "结对共建工作经费", 50000, "元", UseForm.DONATE, False, "按项目申请，经快速通道审批"),
    (RK.FUNDS, "社区（村）公益创投资金", 30000, "元", UseForm.DONATE, False, "支持村（社区）社会组织公益项目"),
    (RK.FUNDS, "临时救助备用金", 20000, "元", UseForm.DONATE, False, "急难型临时救助先行救助"),
    (RK.SERVICE, "低保、特困政策上门帮办", 10, "户/月", UseForm.SERVE, False, "帮助整理申请材料、代为递交"),
    (RK.SERVICE, "高龄补贴、护理补贴代办", 20, "人/月", UseForm.SERVE, False, ""),
    (RK.SERVICE, "残疾人两项补贴代办", 10, "人/月", UseForm.SERVE, False, ""),
    (RK.SERVICE, "困境儿童、留守儿童关爱走访", 8, "户/月", UseForm.SERVE, False, "与儿童主任一同入户"),
    (RK.SERVICE, "婚姻家庭矛盾调解", 4, "次/月", UseForm.SERVE, False, ""),
    (RK.SERVICE, "殡葬服务政策咨询", 4, "次/月", UseForm.SERVE, False, ""),
    (RK.SERVICE, "养老机构入住协调", 3, "人/月", UseForm.SERVE, False, "县社会福利院、中心敬老院"),
    (RK.SERVICE, "村（居）务公开和自治章程指导", 2, "次/月", UseForm.SERVE, False, ""),
    (RK.SERVICE, "社会组织登记指导", 2, "次/月", UseForm.SERVE, False, ""),
    (RK.SERVICE, "老年人防诈骗宣讲", 2, "次/月", UseForm.SERVE, False, "与公安局反诈中心联合开展"),
]
assert len(CIVIL_AFFAIRS_RESOURCES) == 43

# Other lead sides' lists, by host unit (a part of the name) and by kind: (kind, name, capacity, unit, use form)
UNIT_RESOURCES = {
    "司法局": [(RK.SERVICE, "法律顾问进村服务", 4, "次/月", UseForm.SERVE), (RK.EXPERTS, "人民调解专家库", 6, "人", UseForm.SERVE),
            (RK.SERVICE, "法律援助", 10, "件/年", UseForm.SERVE), (RK.VOLUNTEERS, "普法宣讲志愿队", 12, "人", UseForm.SERVE),
            (RK.VENUE, "公共法律服务中心会议室", 2, "次/月", UseForm.OPEN),
            (RK.INFORMATION, "12348法律服务热线转接", 1, "项", UseForm.SERVE)],
    "教育体育局": [(RK.VOLUNTEERS, "留守儿童课后辅导志愿者", 10, "人", UseForm.SERVE), (RK.EQUIPMENT, "捐赠图书", 600, "册", UseForm.DONATE),
              (RK.EQUIPMENT, "全民健身器材", 8, "件", UseForm.DONATE), (RK.EXPERTS, "家庭教育讲师团", 4, "人", UseForm.SERVE),
              (RK.VENUE, "县全民健身中心场馆", 2, "次/月", UseForm.OPEN), (RK.SERVICE, "学生资助政策咨询", 4, "次/月", UseForm.SERVE)],
    "卫生健康局": [(RK.SERVICE, "家庭医生签约巡诊", 4, "次/月", UseForm.SERVE), (RK.EXPERTS, "健康讲座专家", 3, "人", UseForm.SERVE),
              (RK.SERVICE, "慢性病筛查", 2, "次/月", UseForm.SERVE), (RK.EQUIPMENT, "村卫生室基本医疗设备", 3, "套", UseForm.DONATE),
              (RK.SERVICE, "老年人健康体检", 200, "人/年", UseForm.SERVE)],
    "人民医院": [(RK.SERVICE, "专家义诊进村", 2, "次/月", UseForm.SERVE), (RK.EXPERTS, "急救技能培训师", 4, "人", UseForm.SERVE),
             (RK.EQUIPMENT, "便携式心电图机", 1, "台", UseForm.LEND), (RK.SERVICE, "远程会诊", 8, "次/月", UseForm.SERVE),
             (RK.VOLUNTEERS, "医护志愿服务队", 15, "人", UseForm.SERVE)],
    "汉阴中学": [(RK.VOLUNTEERS, "学生志愿服务队", 40, "人", UseForm.SERVE), (RK.VENUE, "学校运动场（周末）", 4, "次/月", UseForm.OPEN),
             (RK.EXPERTS, "心理健康教师", 2, "人", UseForm.SERVE), (RK.EQUIPMENT, "旧课桌椅", 60, "套", UseForm.DONATE)],
    "城关第一小学": [(RK.VOLUNTEERS, "教师志愿者（课后托管）", 8, "人", UseForm.SERVE), (RK.EQUIPMENT, "少儿图书", 400, "册", UseForm.DONATE),
               (RK.VENUE, "学校多功能教室", 2, "次/月", UseForm.OPEN)],
    "职业技术教育中心": [(RK.EXPERTS, "电商直播培训讲师", 3, "人", UseForm.SERVE), (RK.SERVICE, "农村实用技术培训", 6, "期/年", UseForm.SERVE),
                  (RK.SERVICE, "家政、育婴技能培训", 4, "期/年", UseForm.SERVE), (RK.VENUE, "实训车间", 2, "次/月", UseForm.OPEN)],
    "城市建设投资": [(RK.FUNDS, "村级基础设施配套资金", 200000, "元", UseForm.DONATE), (RK.EXPERTS, "工程技术人员", 4, "人", UseForm.SERVE),
               (RK.VOLUNTEERS, "项目务工岗位", 30, "人", UseForm.SERVE), (RK.EQUIPMENT, "工程机械（挖掘机）", 2, "台", UseForm.LEND)],
    "供电公司": [(RK.SERVICE, "农村电网隐患排查", 4, "次/月", UseForm.SERVE), (RK.EXPERTS, "光伏电站运维技术指导", 2, "人", UseForm.SERVE),
             (RK.SERVICE, "安全用电进农户", 2, "次/月", UseForm.SERVE), (RK.FUNDS, "产业用电增容补助", 50000, "元", UseForm.DONATE),
             (RK.EQUIPMENT, "太阳能路灯", 30, "盏", UseForm.DONATE)],
    "自来水": [(RK.SERVICE, "供水管网检修", 4, "次/月", UseForm.SERVE), (RK.SERVICE, "饮用水水质检测", 2, "次/月", UseForm.SERVE),
            (RK.EQUIPMENT, "供水管材", 3000, "米", UseForm.DONATE), (RK.EXPERTS, "水厂技术人员", 2, "人", UseForm.SERVE)],
}
LEAD_VILLAGE_RESOURCES = [
    (RK.EXPERTS, "产业致富带头人", 3, "人", UseForm.SERVE), (RK.VENUE, "集体闲置厂房", 1, "处", UseForm.LEND),
    (RK.EQUIPMENT, "农机具（微耕机、植保无人机）", 4, "台", UseForm.LEND), (RK.INFORMATION, "农产品销售渠道和客商信息", 1, "项", UseForm.OPEN),
    (RK.VOLUNTEERS, "合作社务工岗位", 20, "人", UseForm.SERVE), (RK.SERVICE, "茶叶、魔芋种植技术指导", 4, "次/月", UseForm.SERVE),
    (RK.FUNDS, "村集体经济互助资金", 50000, "元", UseForm.DONATE),
]
PARTNER_RESOURCES = [
    (RK.VENUE, "村委会议室", 8, "次/月", UseForm.OPEN), (RK.VENUE, "村文化广场", 8, "次/月", UseForm.OPEN),
    (RK.VOLUNTEERS, "村志愿服务队", 15, "人", UseForm.SERVE), (RK.VENUE, "闲置村小学校舍", 1, "处", UseForm.LEND),
    (RK.INFORMATION, "村史馆和乡情资料", 1, "项", UseForm.OPEN),
]
COMMUNITY_RESOURCES = [
    (RK.VENUE, "社区党群服务中心会议室", 8, "次/月", UseForm.OPEN), (RK.VENUE, "社区新时代文明实践站", 6, "次/月", UseForm.OPEN),
    (RK.VOLUNTEERS, "社区楼栋长志愿队", 20, "人", UseForm.SERVE), (RK.VENUE, "社区工厂车间", 1, "处", UseForm.LEND),
]

# Needs: (title, kind, quantity, unit, description)
NEEDS = [
    ("老年人助餐服务", RK.SERVICE, 30, "人", "七十岁以上独居、空巢老人吃饭难，希望开办老年助餐点"),
    ("留守儿童课后托管", RK.VOLUNTEERS, 6, "人", "放学后无人看管的留守儿童较多，需要辅导老师和志愿者"),
    ("法律咨询进村", RK.SERVICE, 4, "次", "土地、婚姻、赡养纠纷多，群众希望律师定期到村"),
    ("村卫生室适老化改造", RK.EQUIPMENT, 1, "处", "村卫生室台阶高、无扶手，老人就诊不便"),
    ("农产品销售渠道", RK.INFORMATION, 1, "项", "魔芋、茶叶丰收后卖不出好价钱"),
    ("村道太阳能路灯", RK.EQUIPMENT, 20, "盏", "通组道路夜间无照明，群众出行不安全"),
    ("健康义诊和慢病随访", RK.SERVICE, 2, "次", "高血压、糖尿病老人多，缺少定期随访"),
    ("困难群众政策帮办", RK.SERVICE, 6, "户", "困难群众不了解救助政策，申请材料不会准备"),
    ("群众文化活动场地", RK.VENUE, 4, "次", "村里缺少开展文化活动和培训的场地"),
    ("饮水管网检修", RK.SERVICE, 1, "次", "高处农户季节性缺水，管网老化漏水"),
    ("产业启动资金", RK.FUNDS, 30000, "元", "村集体发展香菇大棚缺少启动资金"),
    ("电商直播培训", RK.EXPERTS, 2, "期", "年轻人想通过直播卖农产品，缺少培训"),
    ("防汛应急物资", RK.EQUIPMENT, 30, "件", "汛期转移安置缺少帐篷、棉被等物资"),
    ("村级活动室图书", RK.EQUIPMENT, 200, "册", "农家书屋图书陈旧，儿童读物少"),
    ("残疾人康复辅具", RK.EQUIPMENT, 5, "件", "几户残疾人需要轮椅、助行器"),
    ("心理疏导服务", RK.EXPERTS, 2, "人", "个别留守老人、儿童情绪低落，需要专业疏导"),
]
# Needs of the showcase village, raised from its residents' cases: (words in the case title, need)
CASE_NEEDS = [
    (("临时救助", "低保", "因病致贫"), ("困难群众临时救助政策帮办", RK.SERVICE, 4, "户",
                                    "群众反映家中因病致贫，不清楚临时救助和低保怎么申请，需上门讲解政策、帮助准备材料")),
    (("纠纷", "拖欠", "矛盾"), ("法律咨询和矛盾调解进村", RK.EXPERTS, 3, "次",
                             "群众反映宅基地、邻里、山林权属等纠纷，希望有专业人员定期到村提供法律咨询、参与调解")),
    (("医保", "入学", "咨询"), ("惠民政策一站式咨询", RK.SERVICE, 2, "次", "群众对医保缴费、孩子入学等政策有疑问，希望集中讲解")),
]

TASK_TEMPLATES = [  # project tasks: (title, the lead side does it?)
    ("入户核实需求、建立台账", False), ("制定实施方案", True), ("落实资源和人员", True), ("组织实施", True),
    ("张榜公示、接受监督", False), ("组织群众验收", False), ("回访受益群众", True), ("协调场地、通知群众", False),
]
SERVICE_TITLES = {
    "民政": ["社会救助政策宣讲进院坝", "关爱留守老人集中走访", "老年人防诈骗宣传"],
    "司法": ["法律咨询进村", "人民调解员培训", "《民法典》宣讲"],
    "教育": ["留守儿童课后辅导", "暑期安全教育", "家庭教育讲座"],
    "卫生": ["健康义诊进村", "慢性病筛查", "急救知识培训"],
    "医院": ["专家义诊进村", "急救知识培训"],
    "中学": ["学生志愿服务进村", "留守儿童结对帮扶"],
    "小学": ["课后托管志愿服务", "少儿图书捐赠"],
    "职业": ["电商直播培训", "农村实用技术培训"],
    "城市建设": ["通组道路建设技术指导", "务工岗位对接会"],
    "供电": ["安全用电进农户", "光伏电站运维指导"],
    "自来水": ["饮水安全检查", "供水管网检修"],
    "village": ["产业发展观摩交流", "茶叶种植技术指导", "党员联学联建主题党日"],
}
SUMMARIES = ["为群众解答政策问题{n}个，现场受理申请{m}件", "走访困难家庭{m}户，解决实际问题{n}个",
             "服务群众{r}人次，现场解决问题{n}个", "开展培训{m}场，{r}人参加"]
OUTCOMES_LEAD = ["村里提出的{n}件事当场办结，{r}名群众受益；下一步把政策帮办延伸到组",
                 "摸清了{m}户困难家庭的实际需求，已为其中{n}户办理救助，{r}人受益",
                 "群众反映的{n}个问题解决了，另有{m}个问题列入下季度计划"]
OUTCOMES_PARTNER = ["机关派来的人员能解决实际问题，{n}件群众急难事有了着落，{r}名群众受益",
                    "对方响应及时，{n}个问题当场解决，{m}个问题明确了办理时限",
                    "活动切合群众需要，{r}名群众参加，{n}件事情得到解决"]
IMPROVE = ["活动时间尽量避开农忙", "提前两天通知到各组，方便外出务工群众安排", "下次多安排一些政策解读的时间",
           "希望能定期来，不要一年只来一两次", "宣传材料字再大一些，老年人看不清", "请对方提前把需要群众准备的材料说清楚"]
SURVEY_COMMENTS = ["讲得很实在，听得懂", "希望每个月都来一次", "时间安排在晚上更好，白天要干活", "希望多讲讲医保和养老金",
                   "活动很好，就是人太多排队久", "建议到各组去开，老人走不了远路", "律师讲的对我家的事有帮助",
                   "希望能上门服务", "天太热，下次放在早上", "讲解的内容再通俗一点"]
FEEDBACK = {
    FeedbackChannel.WINDOW: ["群众到党群服务中心窗口反映：希望结对单位帮助解决老年食堂的厨具", "在窗口反映：政策帮办的人下次能不能到组里来"],
    FeedbackChannel.SUGGESTION_BOX: ["意见箱：建议结对活动公布时间表，大家好安排", "意见箱：希望增加儿童暑期活动"],
    FeedbackChannel.ACCOUNT: ["党建公众号留言：结对共建办的事要公开进度", "党建公众号留言：感谢机关党员帮我们修好了路灯"],
    FeedbackChannel.PUBLIC_PAGE: ["在结对公开页面留言：希望律师来的时间提前公告", "在结对公开页面留言：助餐点能不能也给残疾人送餐"],
}
PLAN_RESPONSES_TAKEN = ["已纳入计划：{text}", "计划中已安排：按意见调整时间和地点", "采纳，列入下一期重点任务"]
PLAN_RESPONSES_NOT = ["暂不具备条件，已向群众说明原因", "不属于结对共建范围，已转相关部门办理"]
MESSAGES = ["下周三到村里对接需求清单，请村里准备好近期群众反映的问题", "需求清单已更新，请核实资源能否满足",
            "本月活动时间定在周六上午，地点村文化广场", "项目进展已报镇党委，镇里要求月底前完成",
            "上次活动的群众意见已整理，请在下次联席会议上研究"]
APPROVALS = [  # (kind, title, detail, amount)
    ("venue", "借用机关多功能会议室开展培训", "开展农村实用技术培训一天，约80人参加", None),
    ("funds", "申请结对共建工作经费购置厨具", "老年助餐点需购置灶具、消毒柜等，预算如下", Decimal("12000")),
    ("people", "抽调社工驻村开展个案服务", "抽调持证社工2名驻村两周，服务留守老人", None),
    ("funds", "申请公益创投资金开展儿童暑期活动", "暑期托管活动场地布置、保险和材料费", Decimal("6000")),
]

# 535: posts of the county leaders following a town, three officials, town leaders following a village
COUNTY_LEADER_POSTS = ["县委副书记、县长", "县委副书记", "县委常委、常务副县长", "县委常委、组织部部长", "县委常委、纪委书记",
                       "县委常委、政法委书记", "县委常委、宣传部部长", "县委常委、统战部部长", "县人大常委会主任",
                       "县政协主席", "副县长", "县委常委、县委办主任"]
TOWN_LEADER_POSTS = ["镇党委书记", "镇党委副书记、镇长", "镇党委副书记", "镇人大主席", "镇党委委员、纪委书记",
                     "镇党委委员、组织委员", "镇党委委员、宣传委员", "镇党委委员、政法委员", "镇党委委员、武装部部长",
                     "副镇长", "镇党委委员、副镇长", "镇人大副主席"]
TEAM_POSTS = ["镇农业综合服务站干部", "镇社会事务办干部", "镇综治中心干部", "镇经济发展办干部", "镇党政办干部",
              "镇便民服务中心干部", "镇规划建设办干部", "镇自然资源所干部", "镇财政所干部"]
STATION_WORK = ["入户走访群众", "督导重点任务推进", "参加村两委会", "指导产业发展", "排查矛盾纠纷", "检查人居环境整治",
                "帮助村里完善台账", "汛期巡查地灾隐患点", "组织群众院坝会", "对接项目资金"]
LINK_WORK = {
    LinkKind.COUNTY_LEADER_TOWN: ["到镇调研重点任务推进", "召开镇村干部座谈会", "督导防汛工作", "现场协调产业项目用地"],
    LinkKind.DEPARTMENT_VILLAGE: ["部门联村走访，解决群众诉求", "落实部门帮扶项目", "为村里协调项目资金", "部门党员到村开展志愿服务"],
    LinkKind.CADRE_HOUSEHOLD: ["入户走访，了解生产生活", "帮助落实低保、医保政策", "帮助联系务工岗位", "节日慰问"],
    LinkKind.STRONG_WEAK: ["强村书记到弱村交流产业发展经验", "两村联合召开支部联席会议", "组织弱村党员到强村观摩学习"],
    LinkKind.HOST_COMMUNITY: ["帮助安置社区居民流转承包地", "组织搬迁群众到村合作社务工", "两村（社区）联合开展文化活动"],
    LinkKind.THREE_OFFICIALS: ["到村开展法律咨询", "参与调解矛盾纠纷", "开展普法宣传", "排查治安隐患"],
    LinkKind.TOWN_LEADER_VILLAGE: ["包村领导到村督导重点任务", "参加村级重大事项决策", "现场解决群众反映的问题"],
}
# Key tasks by aim: (title, lowest, highest target, unit)
KEY_TASKS = {
    Aim.INCOME: [("发展魔芋种植", 80, 300, "亩"), ("组织劳务输出", 60, 200, "人"), ("开展农民实用技术培训", 2, 6, "期"),
                 ("发展林下养殖", 20, 80, "户"), ("社区工厂、就业帮扶车间吸纳就业", 10, 60, "人"), ("落实产业奖补", 30, 120, "户"),
                 ("电商销售农产品", 20, 100, "万元"), ("发展富硒茶园", 50, 200, "亩"), ("发放小额信贷", 10, 40, "户"),
                 ("开发公益性岗位", 5, 20, "个")],
    Aim.COLLECTIVE: [("村集体经济经营性收入", 5, 30, "万元"), ("盘活闲置集体资产", 1, 4, "处"), ("集体光伏电站收益", 2, 10, "万元"),
                     ("发展订单农业", 50, 300, "亩"), ("村集体流转土地", 100, 500, "亩"), ("集体经济组织分红", 1, 2, "次"),
                     ("村集体入股产业联盟", 5, 30, "万元"), ("发展乡村旅游接待", 500, 3000, "人次"), ("集体领办合作社", 1, 3, "个"),
                     ("清理规范集体经济合同", 5, 30, "份")],
    Aim.GOVERNANCE: [("排查化解矛盾纠纷", 10, 40, "件"), ("召开院坝会", 4, 12, "次"), ("开展“十星级文明户”评选", 1, 2, "次"),
                     ("人居环境集中整治", 6, 24, "次"), ("村务公开", 12, 12, "期"), ("开展移风易俗宣传", 4, 12, "次"),
                     ("地质灾害隐患点巡查", 12, 48, "次"), ("平安建设宣传", 4, 12, "次"), ("“三线”联系群众走访", 200, 800, "户次"),
                     ("办结群众诉求", 20, 80, "件")],
}
KEY_TASK_DUE = [(3, 31), (6, 30), (9, 30), (11, 30), (12, 31)]
KEY_TASK_NOTES = ["按计划推进", "已完成阶段任务", "召开专题会推进", "工作队入户落实", "镇里督导后加快进度"]
ALLIANCE_LOTUS = ("莲藕小龙虾产业联盟", "莲藕、小龙虾种养", AllianceMode.LEADING_FIRM, "汉阴县月河莲虾生态农业有限公司")
ALLIANCE_TEA = ("富硒茶产业联盟", "富硒茶种植加工", AllianceMode.SAME_TRADE, "汉阴县凤堰茶业有限公司")


# ---------------------------------------------------------------------------------------------
# dates


def _aware(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=TZ)


def _age(birth: dt.date, on: dt.date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def _between(rng: random.Random, first: dt.date, last: dt.date) -> dt.date:
    span = (last - first).days
    return first + dt.timedelta(days=rng.randint(0, max(0, span)))


def _short(unit_name: str) -> str:
    """汉阴县民政局机关 → 县民政局; 汉阴中学 stays."""
    name = unit_name.removesuffix("机关")
    return "县" + name.removeprefix("汉阴县") if name.startswith("汉阴县") else name


# ---------------------------------------------------------------------------------------------
# the writer: rows with explicit ids, in foreign-key order (as gongzhi.village.demo writes)

ORDER: list[type[models.Model]] = [
    LinkingSettings, Pairing, LiaisonPost, PairingMessage, ResourceItem, NeedItem, Project, ProjectTask, Activity,
    ActivityAttendance, MemberReport, MemberService, SurveyResponse, Evaluation, FeedbackItem, Plan, PlanFeedback,
    ApprovalRequest, VillageGrade, Link, LinkActivity, Alliance, AllianceMember, AllianceOperation, ResourceShare,
    KeyTask, KeyTaskProgress, WorkTeam, WorkTeamMember, StationDay, CaseEvent,
]
# Every linking model, in an order that deletes cleanly (what refers to a row goes first).
CLEAR_ORDER: list[type[models.Model]] = [
    StationDay, WorkTeamMember, WorkTeam, KeyTaskProgress, KeyTask, ResourceShare, AllianceOperation, AllianceMember,
    Alliance, LinkActivity, Link, VillageGrade, ApprovalRequest, PlanFeedback, Plan, FeedbackItem, Evaluation,
    SurveyResponse, MemberService, MemberReport, ActivityAttendance, Activity, ProjectTask, Project, NeedItem,
    ResourceItem, PairingMessage, LiaisonTerm, Handover, LiaisonPost, Pairing, LinkingSettings,
]
FLUSH_ROWS = 150_000


class _Rows:
    """Rows per model as tuples in the column order of the model's concrete fields, with explicit
    ids counting on from the table's highest."""

    def __init__(self, now: dt.datetime):
        self.now = now
        self.columns: dict = {}
        self.rows: dict = {m: [] for m in ORDER}
        self.next_id: dict = {}
        self.counts: Counter = Counter()
        self.pending = 0
        for model in ORDER:
            fields = list(model._meta.concrete_fields)
            spec = []
            for f in fields:
                if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
                    default = ("now",)
                elif f.has_default():
                    default = ("value", f.get_default())
                elif f.null or f.primary_key:
                    default = ("value", None)
                elif f.blank and f.empty_strings_allowed:
                    default = ("value", "")
                else:
                    default = ("required",)
                spec.append((f.attname, default))
            self.columns[model] = (fields, spec, {f.attname for f in fields})
            self.next_id[model] = (model._base_manager.aggregate(top=Max("pk"))["top"] or 0) + 1

    def new(self, model, **values) -> int:
        pk = self.next_id[model]
        self.next_id[model] = pk + 1
        values["id"] = pk
        _fields, spec, names = self.columns[model]
        if not self.counts[model]:
            unknown = set(values) - names
            if unknown:
                raise KeyError(f"{model._meta.label}: no columns {sorted(unknown)}")
        row = []
        for name, default in spec:
            if name in values:
                row.append(values[name])
            elif default[0] == "value":
                value = default[1]
                row.append(list(value) if isinstance(value, list) else dict(value) if isinstance(value, dict)
                           else value)
            elif default[0] == "now":
                row.append(self.now)
            else:
                raise KeyError(f"{model._meta.label}.{name} needs a value")
        self.rows[model].append(row)
        self.counts[model] += 1
        self.pending += 1
        return pk

    def set(self, model, pk: int, **values) -> None:
        """Change a row not yet written (a resource's committed capacity once a project takes it)."""
        _fields, spec, _names = self.columns[model]
        index = {name: i for i, (name, _d) in enumerate(spec)}
        for row in reversed(self.rows[model]):
            if row[0] == pk:
                for name, value in values.items():
                    row[index[name]] = value
                return
        raise KeyError(f"{model._meta.label} {pk} already written")

    def flush(self) -> None:
        for model in ORDER:
            if self.rows[model]:
                self._write(model, self.rows[model])
                self.rows[model] = []
        self.pending = 0

    def _write(self, model, rows) -> None:
        fields, _spec, _names = self.columns[model]
        quote = connection.ops.quote_name
        columns = ", ".join(quote(f.column) for f in fields)
        table = quote(model._meta.db_table)
        json_at = [i for i, f in enumerate(fields) if isinstance(f, models.JSONField)]
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor, cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    if json_at:
                        row = list(row)
                        for i in json_at:
                            row[i] = json.dumps(row[i], ensure_ascii=False)
                    copy.write_row(row)
            return
        placeholders = ", ".join(["%s"] * len(fields))
        prepared = [[f.get_db_prep_save(v, connection) for f, v in zip(fields, row)] for row in rows]
        with connection.cursor() as cursor:
            for start in range(0, len(prepared), 500):
                cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({placeholders})",
                                   prepared[start:start + 500])

    def finish(self) -> None:
        self.flush()
        statements = connection.ops.sequence_reset_sql(no_style(), ORDER)
        if statements:
            with connection.cursor() as cursor:
                for sql in statements:
                    cursor.execute(sql)


# ---------------------------------------------------------------------------------------------
# what the registry, the cases and the village year hold, read once per county


@dataclass
class _Village:
    id: int
    code: str
    name: str
    kind: str
    town_id: int
    county_id: int
    org: int | None = None  # the village's (or community's) own party organisation
    groups: list = field(default_factory=list)  # villager-group / compound region ids
    adults: list = field(default_factory=list)  # (person id, name, age) of residents 18–80
    cases: list = field(default_factory=list)  # dicts (residents' cases, with a requester)
    meetings: list = field(default_factory=list)  # (id, title, scheduled_at) closed village meetings
    contacts: list = field(default_factory=list)  # (id, household_id, heard, contacted_at)
    vulnerable: list = field(default_factory=list)  # (household id, region id, poverty status)

    @property
    def community(self) -> bool:
        return self.kind == "community"

    @property
    def territory(self) -> dict:
        return {"county_id": self.county_id, "town_id": self.town_id, "village_id": self.id}


@dataclass
class _Town:
    id: int
    code: str
    name: str
    kind: str
    county_id: int
    villages: list = field(default_factory=list)
    cadres: list = field(default_factory=list)  # (person id, name, village id) party members 25–58

    @property
    def territory(self) -> dict:
        return {"county_id": self.county_id, "town_id": self.id, "village_id": None}


@dataclass
class _County:
    region: Region
    towns: list
    seat_id: int | None
    branches: list  # (org id, name, host unit id, host unit name, host kind)
    departments: dict  # short name → (id, full name)
    in_service: dict  # host branch org id → [(person id, name, village id)]
    memberships: list  # in-service members: (membership id, person id, name, village id, branch org id)

    @property
    def villages(self) -> list:
        return [v for t in self.towns for v in t.villages]


def _load(county: Region, today: dt.date, start: dt.datetime) -> _County:
    towns: dict[int, _Town] = {}
    villages: dict[int, _Village] = {}
    for row in (Region.objects.filter(county_id=county.pk, level=RegionLevel.TOWN).order_by("code")
                .values("id", "code", "name", "kind")):
        towns[row["id"]] = _Town(county_id=county.pk, **row)
    for row in (Region.objects.filter(county_id=county.pk, level=RegionLevel.VILLAGE).order_by("code")
                .values("id", "code", "name", "kind", "town_id")):
        if row["town_id"] in towns:
            v = villages[row["id"]] = _Village(county_id=county.pk, **row)
            towns[row["town_id"]].villages.append(v)
    for region_id, village_id in (Region.objects.filter(county_id=county.pk, level=4).order_by("code")
                                  .values_list("id", "village_id")):
        if village_id in villages:
            villages[village_id].groups.append(region_id)
    for pk, village_id, region_id in (PartyOrganization.objects.filter(county_id=county.pk, village_id__isnull=False)
                                      .order_by("pk").values_list("pk", "village_id", "region_id")):
        v = villages.get(village_id)
        if v is not None and region_id == village_id and v.org is None:
            v.org = pk
    members = {}
    for pk, person_id, org_id, in_service in (PartyMembership.objects.filter(county_id=county.pk, ended_on__isnull=True)
                                              .order_by("pk").values_list("pk", "person_id", "organization_id",
                                                                          "in_service")):
        members[person_id] = (org_id, in_service, pk)
    memberships = []
    in_service: dict[int, list] = defaultdict(list)
    for pk, village_id, town_id, name, birth in (
            Person.objects.filter(county_id=county.pk, status=PersonStatus.ACTIVE).order_by("pk")
            .values_list("pk", "village_id", "town_id", "name", "birth_date").iterator(chunk_size=20_000)):
        v = villages.get(village_id)
        if v is None:
            continue
        age = _age(birth, today)
        if 18 <= age <= 80:
            v.adults.append((pk, name, age))
        member = members.get(pk)
        if member is not None and member[1]:
            memberships.append((member[2], pk, name, village_id, member[0]))
            in_service[member[0]].append((pk, name, village_id))
        if member is not None and 25 <= age <= 58:
            towns[v.town_id].cadres.append((pk, name, village_id))
    vulnerable = Household.objects.filter(county_id=county.pk, poverty_status__in=VULNERABLE).order_by("pk")
    for pk, village_id, region_id, poverty in vulnerable.values_list("pk", "village_id", "region_id", "poverty_status"):
        if village_id in villages:
            villages[village_id].vulnerable.append((pk, region_id, poverty))
    taken: Counter = Counter()
    for row in (Case.objects.filter(county_id=county.pk, requester__isnull=False).order_by("received_at", "pk")
                .values("id", "village_id", "region_id", "title", "number", "status", "received_at",
                        "description").iterator(chunk_size=5_000)):
        v = villages.get(row["village_id"])
        if v is not None and taken[v.id] < 30:
            taken[v.id] += 1
            v.cases.append(row)
    try:
        from gongzhi.village.models import Meeting

        for pk, village_id, title, at in (Meeting.objects.filter(county_id=county.pk, status="closed")
                                          .order_by("scheduled_at", "pk")
                                          .values_list("pk", "village_id", "title", "scheduled_at")):
            v = villages.get(village_id)
            if v is not None and len(v.meetings) < 20:
                v.meetings.append((pk, title, at))
    except LookupError:  # pragma: no cover - the village app is always installed
        pass
    try:
        from gongzhi.care.models import ContactRecord

        for pk, village_id, household_id, heard, at in (
                ContactRecord.objects.filter(county_id=county.pk, needs_action=True, contacted_at__gte=start)
                .order_by("contacted_at", "pk").values_list("pk", "village_id", "household_id", "heard",
                                                            "contacted_at")[:20_000]):
            v = villages.get(village_id)
            if v is not None and len(v.contacts) < 5:
                v.contacts.append((pk, household_id, heard, at))
    except LookupError:  # pragma: no cover
        pass
    seat_id = HostUnit.objects.filter(county_id=county.pk).values_list("region_id", flat=True).first()
    branches = list(PartyOrganization.objects.filter(county_id=county.pk, host_unit__isnull=False).order_by("pk")
                    .values_list("pk", "name", "host_unit_id", "host_unit__name", "host_unit__kind"))
    departments = {short: (pk, name) for pk, name, short in Department.objects.filter(county_id=county.pk)
                   .order_by("pk").values_list("pk", "name", "short_name")}
    return _County(region=county, towns=list(towns.values()), seat_id=seat_id, branches=branches,
                   departments=departments, in_service=dict(in_service), memberships=memberships)


class _People:
    """Who the county's links and teams are made of, town by town: party members aged 25–58 of the
    town (then any adult), each given one role while there are enough, never from the village
    they are sent to when that can be helped."""

    def __init__(self, rng: random.Random, town: _Town, used: set):
        self.rng, self.used = rng, used
        party = list(town.cadres)
        rng.shuffle(party)
        party_ids = {p[0] for p in party}
        others = [(pk, name, v.id) for v in town.villages for pk, name, age in v.adults
                  if 25 <= age <= 60 and pk not in party_ids]
        rng.shuffle(others)
        self.queue = deque(party + others)
        self.everyone = party + others or [(pk, name, v.id) for v in town.villages for pk, name, _a in v.adults]

    def take(self, avoid_village: int | None = None, exclude: set = frozenset()):
        for _ in range(len(self.queue)):
            person = self.queue.popleft()
            if person[0] in self.used:
                continue
            if person[2] == avoid_village or person[0] in exclude:
                self.queue.append(person)
                continue
            self.used.add(person[0])
            return person
        spare = [p for p in self.everyone if p[0] not in exclude] or self.everyone
        return self.rng.choice(spare) if spare else None


# ---------------------------------------------------------------------------------------------
# the bulk: the whole county


class _Bulk:
    def __init__(self, *, county: _County, seed: int, today: dt.date, user_id: int, out: _Rows,
                 showcase_village: int | None, showcase_projects: int):
        self.c, self.seed, self.today, self.user, self.out = county, seed, today, user_id, out
        self.year = today.year
        self.year_start = dt.date(self.year, 1, 1)
        self.showcase_village = showcase_village
        self.showcase_projects = showcase_projects
        self.rng = random.Random(f"{seed}:linking:{county.region.code}")
        self.stats: Counter = Counter()
        used: set = set()
        self.people = {t.id: _People(random.Random(f"{seed}:linking:people:{t.code}"), t, used) for t in county.towns}
        self.town_of = {t.id: t for t in county.towns}
        self.village_of = {v.id: v for v in county.villages}
        self.grade: dict[int, str] = {}
        self.strong_of: dict[int, int] = {}  # covered weak village → its strong partner
        self.uncovered: list[int] = []
        self.used_cases: set = set()
        self.regions = {}  # region stubs for the matching module's explanations
        self.member_activity: dict = defaultdict(list)  # in-service person → [(activity id, day)]

    def rng_for(self, *parts) -> random.Random:
        return random.Random(":".join([str(self.seed), "linking", *map(str, parts)]))

    def new(self, model, **values) -> int:
        self.stats[f"rows:{model._meta.model_name}"] += 1
        return self.out.new(model, **values)

    def build(self) -> None:
        if not LinkingSettings.objects.filter(county_id=self.c.region.pk).exists():
            self.new(LinkingSettings, county_id=self.c.region.pk, town_id=None, village_id=None)
        self.grades()
        self.integration()
        self.links()
        self.pairings()
        self.member_reports()
        self.alliances()
        self.shares()

    # -- village grades: what coverage is measured against
    def grades(self) -> None:
        assessed = dt.date(self.year, 3, 15) if dt.date(self.year, 3, 15) < self.today else self.today
        # The town whose last weak village is left without a strong partner whatever the dice say:
        # the showcase's (the ``town`` login's), else the first town with villages.
        shown_town = next((t.id for t in self.c.towns if any(v.id == self.showcase_village for v in t.villages)),
                          next((t.id for t in self.c.towns if any(not v.community for v in t.villages)), None))
        forced_id = None
        for town in self.c.towns:
            rng = self.rng_for("grades", town.code)
            villages = [v for v in town.villages if not v.community]
            ranked = sorted(villages, key=lambda v: (v.id == self.showcase_village, rng.random()))
            n = len(villages)
            strong_n = max(1, round(n * 0.2)) if n >= 3 else 0
            weak_n = max(1, round(n * 0.25)) if n >= 2 else 0
            ordinary_first = [v for v in ranked if v.id == self.showcase_village]
            others = [v for v in ranked if v.id != self.showcase_village]
            strong = others[:strong_n]
            weak = others[strong_n:strong_n + weak_n]
            for v in town.villages:
                grade = ("strong" if v in strong else "weak" if v in weak else "ordinary")
                if v in ordinary_first:
                    grade = "ordinary"
                self.grade[v.id] = grade
                reason = {"strong": "党建强、产业强、带头人强，村集体经济经营性收入超过50万元",
                          "weak": "村集体经济薄弱，班子凝聚力不强，列为软弱涣散整顿对象",
                          "ordinary": "班子运行正常，村集体经济经营性收入10万元以上"}[grade]
                self.new(VillageGrade, region_id=v.id, grade=grade, reason=reason, assessed_on=assessed, **v.territory)
            # Each weak village has a strong partner in its town (the nearest by code), except a few
            # deliberately left without one: coverage (``selectors.coverage``) shows them.
            codes = sorted(strong, key=lambda v: v.code)
            for k, v in enumerate(sorted(weak, key=lambda v: v.code)):
                forced = town.id == shown_town and k == len(weak) - 1
                forced_id = v.id if forced else forced_id
                if not codes or forced or rng.random() < 0.2:
                    self.uncovered.append(v.id)
                    continue
                self.strong_of[v.id] = min(codes, key=lambda s: abs(int(s.code) - int(v.code))).id
        if not self.strong_of:  # at least one covered weak village somewhere, if any can be
            for weak_id in [w for w in self.uncovered if w != forced_id]:
                town = self.town_of[self.village_of[weak_id].town_id]
                strong = [v for v in town.villages if self.grade[v.id] == "strong"]
                if strong:
                    self.strong_of[weak_id] = strong[0].id
                    self.uncovered.remove(weak_id)
                    break
        self.stats["weak"] = sum(1 for g in self.grade.values() if g == "weak")
        self.stats["strong"] = sum(1 for g in self.grade.values() if g == "strong")
        self.stats["weak_without_strong"] = len(self.uncovered)

    # -- 镇村工作一体化
    def integration(self) -> None:
        villages = self.c.villages
        task_quota = quota(len(villages), SEED_TASKS)
        cadre_quota = quota(len(villages), SEED_CADRES)
        index = {v.id: i for i, v in enumerate(villages)}
        today, start = self.today, self.year_start
        for town in self.c.towns:
            people = self.people[town.id]
            for k, v in enumerate(town.villages):
                rng = self.rng_for("integration", v.code)
                i = index[v.id]
                self.key_tasks(v, task_quota[i], rng)
                leader = people.take(avoid_village=v.id)
                leader_post = TOWN_LEADER_POSTS[k] if k < len(TOWN_LEADER_POSTS) else rng.choice(["副镇长", "镇党委委员"])
                started = min(start + dt.timedelta(days=rng.randint(3, 14)), today)
                team = self.new(WorkTeam, region_id=v.id, year=self.year, town_leader_id=leader[0],
                                town_leader_post=leader_post, started_on=started, ended_on=None, **v.territory)
                self.stats["town_leaders"] += 1
                link = self.new(Link, kind=LinkKind.TOWN_LEADER_VILLAGE, from_person_id=leader[0],
                                from_post=f"{town.name}{leader_post}", from_department_id=None, from_region_id=None,
                                to_region_id=v.id, to_household_id=None, started_on=started, ended_on=None,
                                note="包村领导", **v.territory)
                self.link_activities(link, LinkKind.TOWN_LEADER_VILLAGE, v.territory, rng, started, 2, 5)
                in_team = {leader[0]}
                for m in range(cadre_quota[i]):
                    person = people.take(avoid_village=v.id, exclude=in_team)
                    in_team.add(person[0])
                    role = TeamRole.LEADER if m == 0 else TeamRole.MEMBER
                    post = (rng.choice(["镇农业综合服务站站长", "镇社会事务办主任", "镇综治中心主任", "镇人大副主席"])
                            if m == 0 else rng.choice(TEAM_POSTS))
                    member = self.new(WorkTeamMember, team_id=team, person_id=person[0], role=role, post=post,
                                      started_on=started, ended_on=None, **v.territory)
                    self.stats["cadres"] += 1
                    self.station_days(member, v, rng, started, leader=m == 0)

    def key_tasks(self, v: _Village, n: int, rng: random.Random) -> None:
        today, start = self.today, self.year_start
        aims = [Aim.INCOME, Aim.COLLECTIVE, Aim.GOVERNANCE]
        counts = [n // 3] * 3
        offset = rng.randrange(3)
        for j in range(n % 3):
            counts[(offset + j) % 3] += 1
        for aim, count in zip(aims, counts):
            for title, low, high, unit in rng.sample(KEY_TASKS[aim], count):
                target = rng.randint(low, high)
                month, day = rng.choices(KEY_TASK_DUE, weights=[1, 2, 2, 1, 4])[0]
                due = dt.date(self.year, month, day)
                created = min(start + dt.timedelta(days=rng.randint(5, 25)), today)
                roll = rng.random()
                status = KeyTaskStatus.OPEN
                if roll < 0.01:
                    status, achieved = KeyTaskStatus.DROPPED, int(target * rng.uniform(0, 0.3))
                elif due < today:
                    if roll < 0.86:
                        achieved = target + (rng.randint(0, max(1, target // 10)) if rng.random() < 0.3 else 0)
                    else:
                        achieved = int(target * rng.uniform(0.3, 0.9))
                else:
                    elapsed = (today - start).days / max(1, (due - start).days)
                    achieved = min(target, int(target * elapsed * rng.uniform(0.7, 1.25)))
                if status != KeyTaskStatus.DROPPED and achieved >= target:
                    status = KeyTaskStatus.DONE
                task = self.new(KeyTask, region_id=v.id, year=self.year, aim=aim, title=title, target=Decimal(target),
                                unit=unit, achieved=Decimal(achieved), due_on=due, status=status, set_by_id=self.user,
                                created_at=_aware(created, 9), **v.territory)
                self.stats["tasks"] += 1
                self.stats[f"tasks:{status}"] += 1
                last = min(due if status == KeyTaskStatus.DONE else today, today) - dt.timedelta(days=1)
                first = created + dt.timedelta(days=7)
                if achieved <= 0 or last < first:
                    if achieved > 0:  # everything reported on one day
                        on = max(created, min(today - dt.timedelta(days=1), last))
                        self.new(KeyTaskProgress, task_id=task, on=on, amount=Decimal(achieved),
                                 note=rng.choice(KEY_TASK_NOTES), reported_by_id=self.user, created_at=_aware(on, 17),
                                 **v.territory)
                    continue
                reports = min(achieved, rng.randint(1, 4))
                cuts = sorted(rng.sample(range(1, achieved), reports - 1)) if reports > 1 else []
                amounts = [b - a for a, b in zip([0, *cuts], [*cuts, achieved])]
                days = sorted(_between(rng, first, last) for _ in amounts)
                for on, amount in zip(days, amounts):
                    self.new(KeyTaskProgress, task_id=task, on=on, amount=Decimal(amount),
                             note=rng.choice(KEY_TASK_NOTES), reported_by_id=self.user,
                             created_at=_aware(on, 17, rng.randint(0, 59)), **v.territory)

    def station_days(self, member: int, v: _Village, rng: random.Random, started: dt.date, *, leader: bool) -> None:
        day = started - dt.timedelta(days=started.weekday())  # the Monday of the first week
        while day < self.today:
            for weekday in sorted(rng.sample(range(5), rng.choice([2, 3, 3, 4] if leader else [1, 2, 2, 3]))):
                on = day + dt.timedelta(days=weekday)
                if started <= on < self.today:
                    self.new(StationDay, member_id=member, on=on,
                             days=Decimal("1") if rng.random() < 0.88 else Decimal("0.5"),
                             work=rng.choice(STATION_WORK), recorded_by_id=self.user, **v.territory)
                    self.stats["station_days"] += 1
            day += dt.timedelta(days=7)

    # -- the 535 links and 三官一律
    def link_activities(self, link: int, kind: str, territory: dict, rng, since: dt.date, low: int, high: int) -> None:
        first = max(since, self.today - dt.timedelta(days=330))
        last = self.today - dt.timedelta(days=1)
        if last < first:
            return
        for _ in range(rng.randint(low, high)):
            on = _between(rng, first, last)
            self.new(LinkActivity, link_id=link, held_on=on, summary=rng.choice(LINK_WORK[kind]),
                     problems_solved=rng.choices([0, 1, 2, 3], weights=[3, 4, 2, 1])[0], recorded_by_id=self.user,
                     **territory)

    def link(self, kind: str, territory: dict, rng, *, to_region: int, since: dt.date, activities=(1, 3),
             **values) -> int:
        row = {"from_person_id": None, "from_post": "", "from_department_id": None, "from_region_id": None,
               "to_household_id": None, "note": ""}
        row.update(values)
        pk = self.new(Link, kind=kind, to_region_id=to_region, started_on=since, ended_on=None, **row, **territory)
        self.stats[f"links:{kind}"] += 1
        self.link_activities(pk, kind, territory, rng, since, *activities)
        return pk

    def links(self) -> None:
        rng = self.rng_for("links", self.c.region.code)
        seat = self.people.get(self.c.seat_id) or next(iter(self.people.values()))
        since_535 = dt.date(2021, 3, 1)
        # county leaders – towns (the county seat's town gets two)
        posts = iter(COUNTY_LEADER_POSTS * 4)
        for town in self.c.towns:
            for _ in range(2 if town.id == self.c.seat_id else 1):
                person = seat.take()
                self.link(LinkKind.COUNTY_LEADER_TOWN, town.territory, rng, to_region=town.id,
                          since=_between(rng, since_535, dt.date(2023, 6, 30)), activities=(3, 6),
                          from_person_id=person[0], from_post=next(posts), note="县级领导联镇")
        # departments – villages: every village one department, a fifth of them a second
        departments = [pk for pk, _name in self.c.departments.values()]
        rng.shuffle(departments)
        for i, v in enumerate(self.c.villages):
            if not departments:
                break
            chosen = [departments[i % len(departments)]]
            if len(departments) > 1 and rng.random() < 0.2:
                chosen.append(departments[(i + 7) % len(departments)])
            for dept in chosen:
                self.link(LinkKind.DEPARTMENT_VILLAGE, v.territory, rng, to_region=v.id,
                          since=_between(rng, since_535, dt.date(2024, 3, 1)), activities=(2, 5),
                          from_department_id=dept, note="部门联村")
        # cadres – households: every vulnerable household (low-income, extreme poverty, monitored)
        # has a cadre of its town keeping in touch, three to five households each
        for town in self.c.towns:
            people = self.people[town.id]
            for v in town.villages:
                households = list(v.vulnerable)
                cadre, left = None, 0
                for household_id, region_id, poverty in households:
                    if left == 0:
                        cadre, left = people.take(avoid_village=None), rng.randint(3, 5)
                        cadre_post = rng.choice(["镇干部", "县直部门干部", "村干部", "驻村工作队员"])
                    left -= 1
                    self.link(LinkKind.CADRE_HOUSEHOLD, v.territory, rng, to_region=region_id or v.id,
                              since=_between(rng, since_535, dt.date(2025, 6, 30)), activities=(0, 3),
                              from_person_id=cadre[0], from_post=cadre_post, to_household_id=household_id,
                              note={"low_income": "低保户", "extreme": "特困户", "monitored": "防返贫监测户"}[poverty])
        # strong – weak villages
        for weak_id, strong_id in self.strong_of.items():
            v = self.village_of[weak_id]
            self.link(LinkKind.STRONG_WEAK, v.territory, rng, to_region=weak_id,
                      since=_between(rng, dt.date(2022, 1, 1), self.today - dt.timedelta(days=200)),
                      activities=(2, 4), from_region_id=strong_id, note="强村带弱村")
        # host villages – new (relocation) communities
        for town in self.c.towns:
            hosts = [v for v in town.villages if not v.community] or [
                v for v in self.c.villages if not v.community]
            for v in town.villages:
                if v.community and hosts:
                    host = min(hosts, key=lambda h: abs(int(h.code) - int(v.code)))
                    self.link(LinkKind.HOST_COMMUNITY, v.territory, rng, to_region=v.id,
                              since=_between(rng, since_535, dt.date(2023, 12, 31)), activities=(2, 4),
                              from_region_id=host.id, note="移民搬迁安置社区与原村联建")
        # 三官一律进村: a judge and a prosecutor per town, a police officer per three villages, a
        # lawyer per four
        lawyers_firms = ["陕西月河律师事务所律师", "汉阴县法律援助中心律师", "陕西凤台律师事务所律师"]
        for town in self.c.towns:
            people = self.people[town.id]
            short = town.name.removesuffix("镇").removesuffix("街道")
            judge, prosecutor = seat.take(), seat.take()
            police = lawyer = None
            for k, v in enumerate(town.villages):
                if k % 3 == 0:
                    police = people.take()
                if k % 4 == 0:
                    lawyer, firm = seat.take(), rng.choice(lawyers_firms)
                since = _between(rng, dt.date(2021, 6, 1), dt.date(2024, 6, 30))
                for person, post in ((judge, f"县人民法院{short}人民法庭法官"), (prosecutor, f"县人民检察院驻{short}检察室检察官"),
                                     (police, f"{town.name}派出所社区民警"), (lawyer, firm)):
                    self.link(LinkKind.THREE_OFFICIALS, v.territory, rng, to_region=v.id, since=since,
                              activities=(1, 3), from_person_id=person[0], from_post=post, note="三官一律进村")

    # -- 在职党员进社区报到: in-service members report where they live; their service is recorded
    def member_reports(self) -> None:
        pledges = ["参加社区志愿服务", "结对帮扶一户困难家庭", "参与楼栋环境整治", "为居民提供法律咨询", "辅导留守儿童功课",
                   "参与社区治安巡逻", "宣讲惠民政策"]
        works = ["参加社区环境卫生整治", "入户走访独居老人", "参与疫苗接种和体检引导", "参加防汛值守", "为居民代办事项",
                 "辅导留守儿童功课", "参与文明城市创建志愿服务"]
        for membership, person_id, _name, village_id, _branch in self.c.memberships:
            v = self.village_of.get(village_id)
            rng = self.rng_for("member", membership)
            if v is None or rng.random() >= 0.85:
                continue  # not (yet) reported
            reported = _between(rng, dt.date(2021, 6, 1), self.today - dt.timedelta(days=60))
            ended = _between(rng, reported + dt.timedelta(days=30), self.today - dt.timedelta(days=5)) \
                if rng.random() < 0.05 else None
            report = self.new(MemberReport, membership_id=membership, person_id=person_id, region_id=v.id,
                              reported_on=reported, pledge=rng.choice(pledges),
                              status=MemberReportStatus.ENDED if ended else MemberReportStatus.ACTIVE,
                              ended_on=ended, recorded_by_id=self.user, **v.territory)
            self.stats["member_reports"] += 1
            last = (ended or self.today) - dt.timedelta(days=1)
            services = [(a, day) for a, day in self.member_activity.get(person_id, []) if reported <= day <= last]
            first = max(reported, self.today - dt.timedelta(days=330))
            if first <= last:
                services += [(None, _between(rng, first, last)) for _ in range(rng.randint(1, 5))]
            for activity, day in sorted(services, key=lambda s: s[1]):
                self.new(MemberService, report_id=report, on=day, hours=Decimal(rng.choice([1, 2, 2, 3, 4])) +
                         (Decimal("0.5") if rng.random() < 0.2 else 0),
                         work="参加结对共建活动" if activity else rng.choice(works), activity_id=activity,
                         recorded_by_id=self.user, **v.territory)
                self.stats["member_services"] += 1

    # -- 产业联盟 and 资源联享
    def alliances(self) -> None:
        towns = self.c.towns
        plans = [(ALLIANCE_LOTUS, towns[1] if len(towns) > 1 else towns[0]),
                 (ALLIANCE_TEA, towns[2] if len(towns) > 2 else towns[0])]
        firms = [b for b in self.c.branches if b[4] in ("state_firm", "enterprise")]
        self.alliance_ids = []
        for (name, trade, mode, lead_firm), town in plans:
            rng = self.rng_for("alliance", name)
            founded = dt.date(2020, rng.randint(4, 10), rng.randint(1, 28))
            alliance = self.new(Alliance, region_id=town.id, name=f"{town.name}{name}", trade=trade, mode=mode,
                                founded_on=founded, **town.territory)
            self.alliance_ids.append((alliance, town))
            self.new(AllianceMember, alliance_id=alliance, host_unit_id=None, member_region_id=None, name=lead_firm,
                     is_lead=True, joined_on=founded, left_on=None, **town.territory)
            members = [v for v in town.villages if not v.community]
            for v in rng.sample(members, min(len(members), rng.randint(3, 5))):
                self.new(AllianceMember, alliance_id=alliance, host_unit_id=None, member_region_id=v.id,
                         name=f"{v.name}股份经济合作社", is_lead=False, joined_on=_between(rng, founded, dt.date(2023, 6, 1)),
                         left_on=None, **town.territory)
            for suffix in (["莲藕种植专业合作社", "小龙虾养殖专业合作社"] if name == ALLIANCE_LOTUS[0]
                           else ["茶叶专业合作社"]):
                self.new(AllianceMember, alliance_id=alliance, host_unit_id=None, member_region_id=None,
                         name=f"{town.name.removesuffix('镇')}{suffix}", is_lead=False,
                         joined_on=_between(rng, founded, dt.date(2022, 12, 31)), left_on=None, **town.territory)
            if firms and name == ALLIANCE_LOTUS[0]:
                firm = firms[0]
                self.new(AllianceMember, alliance_id=alliance, host_unit_id=firm[2], member_region_id=None,
                         name=firm[3], is_lead=False, joined_on=_between(rng, founded, dt.date(2022, 12, 31)),
                         left_on=None, **town.territory)
            operations = ([("莲藕小龙虾共养基地（藕虾共作）", Decimal("980.0"), 126, Decimal("6860000"),
                            "龙头企业统一种苗、技术和收购，村集体以土地入股"),
                           ("小龙虾统一收购和冷链销售", None, 38, Decimal("2150000"), "销往西安、重庆等地"),
                           ("莲藕深加工（藕粉、藕带）", None, 22, Decimal("860000"), "")]
                          if name == ALLIANCE_LOTUS[0] else
                          [("富硒茶统一品牌和标准化加工", Decimal("1200.0"), 85, Decimal("3900000"), "统一品牌、统一标准、统一销售"),
                           ("茶园托管服务", Decimal("400.0"), 30, Decimal("520000"), "为外出务工户托管茶园")])
            for title, area, jobs, income, note in operations:
                self.new(AllianceOperation, alliance_id=alliance, title=title,
                         started_on=_between(rng, founded, dt.date(2023, 12, 31)), area_mu=area, jobs=jobs,
                         income=income, note=note, **town.territory)
            self.stats["alliances"] += 1

    def shares(self) -> None:
        rng = self.rng_for("shares", self.c.region.code)
        recent = (self.today - dt.timedelta(days=330), self.today - dt.timedelta(days=5))
        for weak_id, strong_id in self.strong_of.items():
            weak, strong = self.village_of[weak_id], self.village_of[strong_id]
            self.new(ResourceShare, kind=ShareKind.PEOPLE, mode=ShareMode.SECONDMENT,
                     title=f"{strong.name}选派致富带头人到{weak.name}交流任职", from_region_id=strong_id,
                     to_region_id=weak_id, pairing_id=self.vv_pairing.get(weak_id), alliance_id=None, amount=None,
                     unit="", started_on=_between(rng, *recent), **weak.territory)
            if rng.random() < 0.5:
                self.new(ResourceShare, kind=ShareKind.INFORMATION, mode=ShareMode.JOINT,
                         title="共享农产品销售信息和客商渠道", from_region_id=strong_id, to_region_id=weak_id,
                         pairing_id=self.vv_pairing.get(weak_id), alliance_id=None, amount=None, unit="",
                         started_on=_between(rng, *recent), **weak.territory)
        for alliance, town in self.alliance_ids:
            members = [v for v in town.villages if not v.community][:3]
            for v in members:
                self.new(ResourceShare, kind=ShareKind.CAPITAL, mode=ShareMode.SHARES,
                         title="村集体经济资金入股联盟产业基地", from_region_id=v.id, to_region_id=town.id, pairing_id=None,
                         alliance_id=alliance, amount=Decimal(rng.randint(5, 30) * 10000), unit="元",
                         started_on=_between(rng, *recent), **town.territory)
        villages = [v for v in self.c.villages if not v.community]
        for a, b in zip(villages[::4], villages[1::4]):
            if a.town_id == b.town_id:
                self.new(ResourceShare, kind=ShareKind.CAPITAL, mode=ShareMode.LEASE,
                         title=f"租赁{a.name}闲置厂房发展香菇加工", from_region_id=a.id, to_region_id=b.id, pairing_id=None,
                         alliance_id=None, amount=Decimal(rng.randint(2, 8) * 5000), unit="元/年",
                         started_on=_between(rng, *recent), **b.territory)
        self.stats["shares"] = self.out.counts[ResourceShare]


class _Pairings:
    """The pairings of the bulk path: their posts, three lists, activities, feedback, plans and
    fast-track requests. A mixin of ``_Bulk``."""

    LEAD_POSTS = {PairingKind.AGENCY_COMMUNITY: "机关联络员", PairingKind.TOWN_COUNTRY: "机关联络员",
                  PairingKind.VILLAGE_ENTERPRISE: "企业联络员", PairingKind.VILLAGE_VILLAGE: "牵头村联络员"}
    SUFFIX = {PairingKind.AGENCY_COMMUNITY: "结对共建", PairingKind.TOWN_COUNTRY: "城乡支部联建",
              PairingKind.VILLAGE_ENTERPRISE: "村企联建", PairingKind.VILLAGE_VILLAGE: "村村联建"}

    def pairings(self) -> None:
        from .services import settings_for

        rules = settings_for(self.c.region.pk)
        from .models import REVIEW_DAYS

        self.review_days = {"resource": REVIEW_DAYS[rules.resources_review], "need": REVIEW_DAYS[rules.needs_review],
                            "project": REVIEW_DAYS[rules.projects_review]}
        self.rules = rules
        self.vv_pairing: dict[int, int] = {}
        rng = self.rng_for("pairings", self.c.region.code)
        branches = self.c.branches
        showcase_branch = next((b for b in branches if b[1] == SHOWCASE_BRANCH), None)
        agencies = [b for b in branches if b[4] in ("agency", "school") and b is not showcase_branch]
        firms = [b for b in branches if b[4] in ("state_firm", "enterprise")]
        villages = [v for v in self.c.villages if v.org is not None]
        count = len(self.c.villages)
        shown = 1 if showcase_branch and self.showcase_village else 0
        communities = [v for v in villages if v.community]
        plain = [v for v in villages if not v.community and v.id != self.showcase_village]
        rng.shuffle(plain)
        specs = []
        if agencies:
            wanted = max(3, round(count * 0.15)) - shown
            partners = (communities + plain)[:wanted] if len(communities) < wanted else communities[:wanted]
            for i, v in enumerate(partners):
                kind = PairingKind.AGENCY_COMMUNITY if v.community else PairingKind.TOWN_COUNTRY
                specs.append((kind, agencies[i % len(agencies)], v))
        used = {s[2].id for s in specs}
        if firms:
            spare = [v for v in plain if v.id not in used]
            for i, v in enumerate(spare[:max(1, round(count * 0.04))]):
                specs.append((PairingKind.VILLAGE_ENTERPRISE, firms[i % len(firms)], v))
        for k, (weak_id, strong_id) in enumerate(sorted(self.strong_of.items())):
            weak, strong = self.village_of[weak_id], self.village_of[strong_id]
            if weak.org and strong.org and (k == 0 or rng.random() < 0.6):
                specs.append((PairingKind.VILLAGE_VILLAGE, strong, weak))
        # The seed's 28 projects, less the showcase's, over the pairings.
        per: Counter = Counter()
        order = list(range(len(specs)))
        rng.shuffle(order)
        for j in range(max(0, PROJECTS - self.showcase_projects) if specs else 0):
            per[order[j % len(order)]] += 1
        for i, (kind, lead, v) in enumerate(specs):
            lead_code = lead.code if isinstance(lead, _Village) else f"unit{lead[2]}"
            pk = self.pairing(kind, lead, v, per[i], self.rng_for("pairing", lead_code, v.code))
            if kind == PairingKind.VILLAGE_VILLAGE:
                self.vv_pairing[v.id] = pk

    # -- one pairing
    def pairing(self, kind: str, lead, v: _Village, projects: int, rng: random.Random) -> int:
        today = self.today
        village_lead = isinstance(lead, _Village)
        if village_lead:
            lead_org, lead_name, department, lead_key = lead.org, lead.name, None, "village"
        else:
            lead_org, lead_name = lead[0], _short(lead[3])
            department = next((pk for pk, name in self.c.departments.values() if lead[3].startswith(name)), None)
            lead_key = next((key for key in SERVICE_TITLES if key in lead[3]), "民政")
        term_start = today - dt.timedelta(days=rng.randint(150, 600))
        # A village lead (村村联建) is cached too, so that its secretary and town reach the pairing.
        territory = {**v.territory, "agency_department_id": department,
                     "lead_town_id": lead.town_id if village_lead else None,
                     "lead_village_id": lead.id if village_lead else None}
        signed = term_start + dt.timedelta(days=rng.randint(2, 10))
        title = f"{lead_name}—{v.name}{self.SUFFIX[kind]}"
        principles = {PairingKind.VILLAGE_VILLAGE: [Principle.STRONG_WEAK, Principle.NEAR_FAR],
                      PairingKind.VILLAGE_ENTERPRISE: [Principle.BIG_SMALL]}.get(
            kind, [Principle.BIG_SMALL, Principle.STRONG_WEAK] if not v.community else [Principle.NEAR_FAR])
        actions = sorted(rng.sample(JointAction.values, rng.randint(3, 5)), key=JointAction.values.index)
        pairing = self.new(Pairing, kind=kind, title=title, lead_org_id=lead_org, partner_org_id=v.org, region_id=v.id,
                           principles=principles, joint_actions=actions, term_start=term_start,
                           term_end=term_start + dt.timedelta(days=3 * 365), status=PairingStatus.ACTIVE,
                           lead_signed_at=_aware(signed, 10), lead_signed_by_id=self.user,
                           partner_signed_at=_aware(signed, 15), partner_signed_by_id=self.user, ended_on=None,
                           end_reason="", created_at=_aware(term_start - dt.timedelta(days=3), 10), **territory)
        self.stats["pairings"] += 1
        self.stats[f"pairings:{kind}"] += 1
        for side, post in ((Side.LEAD, self.LEAD_POSTS[kind]), (Side.PARTNER, "社区联络员" if v.community else "村联络员")):
            self.new(LiaisonPost, pairing_id=pairing, side=side, title=post, holder_id=None, holder_since=None,
                     **territory)
        ctx = _PairingContext(pairing=pairing, kind=kind, title=title, v=v, lead=lead, lead_key=lead_key,
                              department=department, territory=territory, rng=rng,
                              first=max(term_start + dt.timedelta(days=7), today - dt.timedelta(days=330)),
                              last=today - dt.timedelta(days=2))
        self.resources(ctx)
        self.needs_and_projects(ctx, projects)
        self.activities(ctx)
        self.other_feedback(ctx)
        self.plans(ctx)
        self.messages(ctx)
        self.approvals(ctx)
        for pk, r in ctx.resources.items():
            if r["committed"]:
                state = ResourceState.EXHAUSTED if r["committed"] >= r["capacity"] else ResourceState.IN_USE
                self.out.set(ResourceItem, pk, committed=r["committed"], state=state)
        return pairing

    def reviewed(self, rng, kind: str, created: dt.date, *, stale: bool) -> tuple[dt.date, dt.date]:
        """(reviewed on, review due): recently reviewed, or — when ``stale`` and the item is old
        enough — last reviewed before its cycle ran out."""
        days = self.review_days[kind]
        if stale and created <= self.today - dt.timedelta(days=days + 5):
            on = _between(rng, created, self.today - dt.timedelta(days=days + 5))
        else:
            on = _between(rng, max(created, self.today - dt.timedelta(days=days - 10)),
                          self.today - dt.timedelta(days=1))
        return on, on + dt.timedelta(days=days)

    def resources(self, ctx) -> None:
        rng, v = ctx.rng, ctx.v
        if isinstance(ctx.lead, _Village):
            pool, place_of = LEAD_VILLAGE_RESOURCES, lambda kind: ctx.lead.id
        else:
            pool = next((items for key, items in UNIT_RESOURCES.items() if key in ctx.lead[3]),
                        UNIT_RESOURCES["司法局"])
            place_of = lambda kind: self.c.seat_id if kind in (RK.VENUE, RK.EQUIPMENT) else None  # noqa: E731
        partner_pool = COMMUNITY_RESOURCES if v.community else PARTNER_RESOURCES
        chosen = [(Side.LEAD, r, place_of(r[0])) for r in rng.sample(pool, min(len(pool), rng.randint(4, 7)))]
        chosen += [(Side.PARTNER, r, v.id) for r in rng.sample(partner_pool, rng.randint(1, 3))]
        for side, (kind, name, capacity, unit, use_form), place in chosen:
            created = _between(rng, ctx.first - dt.timedelta(days=5), ctx.first + dt.timedelta(days=20))
            created = min(created, self.today - dt.timedelta(days=1))
            reviewed_on, due = self.reviewed(rng, "resource", created, stale=rng.random() < 0.12)
            pk = self.new(ResourceItem, pairing_id=ctx.pairing, side=side, kind=kind, name=name, capacity=capacity,
                          unit=unit, committed=0, use_form=use_form, state=ResourceState.AVAILABLE, place_id=place,
                          conditions="", reviewed_on=reviewed_on, review_due_on=due, stale_flagged_at=None,
                          created_at=_aware(created, 10), **ctx.territory)
            ctx.resources[pk] = {"kind": kind, "name": name, "capacity": capacity, "committed": 0, "unit": unit,
                                 "place": place, "due": due, "side": side}
        self.stats["resources"] += len(chosen)

    def region_stub(self, region_id):
        if region_id is None:
            return None
        stub = self.regions.get(region_id)
        if stub is None:
            v = self.village_of.get(region_id)
            if v is not None:
                stub = Region(pk=v.id, county_id=v.county_id, town_id=v.town_id, village_id=v.id)
            else:
                stub = Region(pk=region_id, county_id=self.c.region.pk, town_id=region_id, village_id=None)
            self.regions[region_id] = stub
        return stub

    def need_source(self, ctx, rng, *, at_latest: dt.date) -> dict:
        v = ctx.v
        roll = rng.random()
        cases = [c for c in v.cases if c["id"] not in self.used_cases
                 and timezone.localtime(c["received_at"]).date() <= at_latest]
        meetings = [m for m in v.meetings if timezone.localtime(m[2]).date() <= at_latest]
        contacts = [c for c in v.contacts if timezone.localtime(c[3]).date() <= at_latest]
        if cases and roll < 0.4:
            case = rng.choice(cases)
            self.used_cases.add(case["id"])
            return {"source": NeedSource.CASE, "case": case, "place": case["region_id"] or v.id,
                    "asked_by": f"群众诉求（事项{case['number'] or '编号待定'}）",
                    "after": timezone.localtime(case["received_at"]).date()}
        if meetings and roll < 0.65:
            pk, title, at = rng.choice(meetings)
            return {"source": NeedSource.MEETING, "meeting": pk, "place": v.id,
                    "asked_by": f"{title}（{timezone.localtime(at):%Y-%m-%d}）"[:100],
                    "after": timezone.localtime(at).date()}
        if contacts and roll < 0.75:
            pk, _household, _heard, at = rng.choice(contacts)
            return {"source": NeedSource.CONTACT, "contact": pk, "place": v.id, "asked_by": "走访中听到的群众需求",
                    "after": timezone.localtime(at).date()}
        place = rng.choice(v.groups) if v.groups and rng.random() < 0.4 else v.id
        return {"source": NeedSource.LIAISON, "place": place,
                "asked_by": rng.choice(["村民代表提出", "联合调研中群众提出", "村两委提出", "居民议事会提出", "网格员走访收集"])}

    def need_row(self, ctx, rng, template, *, grade, status, feasibility, created: dt.date, source: dict,
                 quantity: int | None = None, stale: bool = False) -> int:
        title, kind, qty, unit, description = template
        if source["source"] == NeedSource.CASE:
            description = f"{description}。来源事项：{source['case']['title']}"
        checked = feasibility != Feasibility.PENDING
        note = {Feasibility.FEASIBLE: "资源清单中有可用资源，条件具备，可以实施",
                Feasibility.PARTLY: "部分可行：先解决急需部分，其余列入下一期计划",
                Feasibility.INFEASIBLE: "超出结对双方能力范围，已转镇政府研究",
                Feasibility.PENDING: ""}[feasibility]
        reviewed_on, due = (self.reviewed(rng, "need", created, stale=stale) if status == NeedStatus.OPEN
                            else (created, created + dt.timedelta(days=self.review_days["need"])))
        pk = self.new(NeedItem, pairing_id=ctx.pairing, title=title, description=description, kind=kind,
                      quantity=quantity or qty, unit=unit, grade=grade, place_id=source["place"],
                      source=source["source"], case_id=source.get("case", {}).get("id"),
                      contact_record_id=source.get("contact"), meeting_id=source.get("meeting"), activity_id=None,
                      asked_by=source["asked_by"], feasibility=feasibility, feasibility_note=note,
                      checked_by_id=self.user if checked else None, status=status, raised_by_id=self.user,
                      reviewed_on=reviewed_on, review_due_on=due, stale_flagged_at=None,
                      created_at=_aware(created, 11), **ctx.territory)
        self.stats["needs"] += 1
        self.stats[f"needs:{grade}"] += 1
        if source["source"] == NeedSource.CASE:
            self.case_event(source["case"], "pairing_need", _aware(created, 11, 5),
                            f"列入“{ctx.title}”需求清单（{NeedGrade(grade).label}）：{title}")
        return pk

    def case_event(self, case: dict, kind: str, at: dt.datetime, note: str) -> None:
        self.new(CaseEvent, case_id=case["id"], kind=kind, at=at, actor_id=self.user, actor_name="结对共建联络员",
                 from_status=case["status"], to_status=case["status"], note=note, public=True, data={})

    def needs_and_projects(self, ctx, projects: int) -> None:
        rng, today = ctx.rng, self.today
        span_end = today - dt.timedelta(days=25)
        for _ in range(projects):
            options = [pk for pk, r in ctx.resources.items() if r["capacity"] - r["committed"] >= 1]
            rng.shuffle(options)
            made = False
            for resource_pk in options:
                r = ctx.resources[resource_pk]
                fits = [t for t in NEEDS if t[1] == r["kind"] or r["kind"] in RELATED_KINDS.get(t[1], ())]
                if not fits:
                    continue
                template = rng.choice(fits)
                earliest = ctx.first + dt.timedelta(days=10)
                confirm = _between(rng, earliest, max(earliest, span_end))
                confirm = min(confirm, today - dt.timedelta(days=3))
                source = self.need_source(ctx, rng, at_latest=confirm - dt.timedelta(days=3))
                raised = _between(rng, max(ctx.first, source.get("after", ctx.first)), confirm - dt.timedelta(days=3))
                raised = min(raised, confirm)
                remaining = r["capacity"] - r["committed"]
                wanted = max(1, min(template[2], remaining if remaining < template[2] else template[2]))
                done = rng.random() < 0.4 and confirm <= today - dt.timedelta(days=30)
                grade = rng.choices(NeedGrade.values, weights=[3, 4, 3])[0]
                need_stub = NeedItem(kind=template[1], quantity=wanted, unit=template[3], grade=grade,
                                     place=self.region_stub(source["place"]), village_id=ctx.v.id,
                                     town_id=ctx.v.town_id)
                resource_stub = ResourceItem(pk=resource_pk, kind=r["kind"], name=r["name"], capacity=r["capacity"],
                                             committed=r["committed"], unit=r["unit"], state=ResourceState.AVAILABLE,
                                             place=self.region_stub(r["place"]), review_due_on=r["due"])
                candidate = matching.explain(need_stub, resource_stub, today=confirm)
                if candidate is not None and not candidate.available and grade == NeedGrade.GENERAL:
                    need_stub.grade = grade = NeedGrade.IMPORTANT
                    candidate = matching.explain(need_stub, resource_stub, today=confirm)
                if candidate is None or not candidate.available:
                    continue
                quantity = min(wanted, remaining)
                need = self.need_row(ctx, rng, template, grade=grade,
                                     status=NeedStatus.MET if done else NeedStatus.MATCHED,
                                     feasibility=rng.choice([Feasibility.FEASIBLE] * 4 + [Feasibility.PARTLY]),
                                     created=raised, source=source, quantity=wanted)
                r["committed"] += quantity
                self.project_row(ctx, rng, need, resource_pk, template, quantity, candidate, confirm, done, source)
                made = True
                break
            if not made:
                self.stats["projects_short"] += 1
        # open needs, waiting for a match (some not yet checked, one in five left past its review)
        for template in rng.sample(NEEDS, rng.randint(1, 3)):
            raised = _between(rng, ctx.first, today - dt.timedelta(days=5))
            source = self.need_source(ctx, rng, at_latest=raised)
            raised = max(raised, min(source.get("after", raised), today - dt.timedelta(days=5)))
            feasibility = rng.choices([Feasibility.PENDING, Feasibility.FEASIBLE, Feasibility.PARTLY,
                                       Feasibility.INFEASIBLE], weights=[25, 50, 15, 10])[0]
            self.need_row(ctx, rng, template, grade=rng.choices(NeedGrade.values, weights=[2, 4, 4])[0],
                          status=NeedStatus.OPEN, feasibility=feasibility, created=raised, source=source,
                          stale=rng.random() < 0.2)
        if rng.random() < 0.15:
            raised = _between(rng, ctx.first, today - dt.timedelta(days=30))
            self.need_row(ctx, rng, rng.choice(NEEDS), grade=NeedGrade.GENERAL, status=NeedStatus.WITHDRAWN,
                          feasibility=Feasibility.INFEASIBLE, created=raised,
                          source={"source": NeedSource.LIAISON, "place": ctx.v.id, "asked_by": "村两委提出"})

    def person_name(self, ctx, side: str, rng) -> str:
        if side == Side.LEAD:
            names = self.lead_people(ctx)
            if names:
                return rng.choice(names)[1]
        adults = ctx.v.adults or [(0, "张明", 40)]
        return rng.choice(adults)[1]

    def lead_people(self, ctx) -> list:
        if isinstance(ctx.lead, _Village):
            return [(pk, name, ctx.lead.id) for pk, name, age in ctx.lead.adults if 25 <= age <= 60][:40]
        members = self.c.in_service.get(ctx.lead[0], [])
        here = [m for m in members if m[2] == ctx.v.id]  # in-service members who live in the community
        return here + [m for m in members if m[2] != ctx.v.id]

    def project_row(self, ctx, rng, need: int, resource: int, template, quantity: int, candidate, confirm: dt.date,
                    done: bool, source: dict) -> None:
        today = self.today
        ranking = candidate.as_dict()
        done_on = _between(rng, confirm + dt.timedelta(days=20), today - dt.timedelta(days=3)) if done else None
        if done:
            reviewed_on, due = done_on, done_on + dt.timedelta(days=self.review_days["project"])
        else:
            reviewed_on, due = self.reviewed(rng, "project", confirm, stale=rng.random() < 0.15)
            reviewed_on = max(reviewed_on, confirm)
            due = reviewed_on + dt.timedelta(days=self.review_days["project"])
        title = f"{ctx.v.name}{template[0]}项目"
        tasks = []
        for t, (task_title, lead_side) in enumerate(rng.sample(TASK_TEMPLATES, rng.randint(2, 4))):
            task_due = confirm + dt.timedelta(days=rng.randint(10, 90))
            if done:
                task_due = min(task_due, done_on)
                progress, task_done = 100, _between(rng, confirm, done_on)
            elif task_due < today and rng.random() < 0.75:
                progress, task_done = 100, _between(rng, confirm, min(task_due, today - dt.timedelta(days=1)))
            else:
                progress, task_done = rng.choice([10, 20, 30, 50, 60, 70, 80, 90]), None
            department = (ctx.department or rng.choice([pk for pk, _n in self.c.departments.values()] or [None])) \
                if lead_side else None
            tasks.append((task_title, department, self.person_name(ctx, Side.LEAD if lead_side else Side.PARTNER, rng),
                          task_due, progress, task_done))
        progress = 100 if done else sum(t[4] for t in tasks) // len(tasks)
        project = self.new(Project, pairing_id=ctx.pairing, need_id=need, resource_id=resource, title=title,
                           quantity=quantity, status=ProjectStatus.DONE if done else ProjectStatus.UNDERWAY,
                           progress=progress, ranking=ranking, confirmed_by_id=self.user, done_on=done_on,
                           outcome=(f"{template[4].split('，')[0]}的问题得到解决，{rng.randint(8, 60)}户群众受益"
                                    if done else ""),
                           reviewed_on=reviewed_on, review_due_on=due, stale_flagged_at=None,
                           created_at=_aware(confirm, 15), **ctx.territory)
        ctx.projects.append((project, title, done))
        self.stats["projects"] += 1
        for task_title, department, person, task_due, task_progress, task_done in tasks:
            self.new(ProjectTask, project_id=project, title=task_title, department_id=department, assignee_id=None,
                     assignee_name=person, due_on=task_due, progress=task_progress,
                     note="已完成" if task_progress == 100 else f"正在推进，已完成{task_progress}%", done_on=task_done,
                     **ctx.territory)
            self.stats["project_tasks"] += 1
        if source["source"] == NeedSource.CASE:
            self.case_event(source["case"], "pairing_project", _aware(confirm, 15, 5),
                            f"由“{ctx.title}”项目“{title}”承接，使用{ctx.resources[resource]['name']}")
            if done:
                self.case_event(source["case"], "pairing_project", _aware(done_on, 16),
                                f"结对共建项目“{title}”已办结")

    # -- activities: attendance, surveys, evaluations, follow-ups
    def activities(self, ctx) -> None:
        rng, today = ctx.rng, self.today
        titles = SERVICE_TITLES.get(ctx.lead_key, SERVICE_TITLES["民政"])
        n = rng.randint(2, 4)
        days = sorted(_between(rng, ctx.first, ctx.last) for _ in range(n))
        plan = [(K.JOINT_MEETING, days[0])] + [(rng.choice([K.SERVICE, K.SERVICE, K.SURVEY, K.REVIEW]), d)
                                               for d in days[1:]]
        held_service = None
        for kind, day in plan:
            activity = self.activity(ctx, kind, day, titles, status=ActivityStatus.HELD)
            if kind == K.SERVICE and held_service is None:
                held_service = (activity, day)
        if held_service and held_service[1] + dt.timedelta(days=15) < ctx.last:
            held_on = held_service[1]
            day = _between(rng, held_on + dt.timedelta(days=15), min(ctx.last, held_on + dt.timedelta(days=40)))
            self.activity(ctx, K.FOLLOW_UP, day, titles, status=ActivityStatus.HELD, follow_up_of=held_service[0])
        if rng.random() < 0.5:
            self.activity(ctx, K.SERVICE, today + dt.timedelta(days=rng.randint(3, 20)), titles,
                          status=ActivityStatus.PLANNED)
        if rng.random() < 0.08:
            self.activity(ctx, K.SERVICE, _between(rng, ctx.first, ctx.last), titles, status=ActivityStatus.CANCELLED)

    def activity(self, ctx, kind: str, day: dt.date, titles, *, status: str, follow_up_of=None) -> int:
        rng, v = ctx.rng, ctx.v
        hour = rng.choice([9, 14, 15])
        starts = _aware(day, hour, 30 if hour != 9 else 0)
        ends = starts + dt.timedelta(hours=2)
        quarter = (day.month - 1) // 3 + 1
        title = {K.JOINT_MEETING: f"{day.year}年第{quarter}季度结对共建联席会议", K.SURVEY: "联合调研：群众需求大走访",
                 K.REVIEW: "结对共建工作复盘会", K.FOLLOW_UP: f"回访：{(follow_up_of or (0, ''))[1] or '服务活动'}"}.get(
            kind, rng.choice(titles))
        place = rng.choice(["村委会会议室", "村文化广场", "村党群服务中心"]) if not v.community else "社区党群服务中心"
        project = None
        if kind == K.SERVICE and ctx.projects and rng.random() < 0.3:
            project = rng.choice(ctx.projects)[0]
        held = status == ActivityStatus.HELD
        residents = rng.randint(8, 30) if held and kind in (K.SERVICE, K.SURVEY, K.FOLLOW_UP) else 0
        problems = rng.randint(1, 6) if held else 0
        summary = ""
        decisions = ""
        if held:
            summary = rng.choice(SUMMARIES).format(n=problems, m=rng.randint(2, 9), r=residents or rng.randint(6, 12))
            if kind == K.JOINT_MEETING:
                decisions = rng.choice(["议定本季度资源、需求、项目三张清单；明确双方联络员和办理时限",
                                        "议定下季度开展两次服务活动，需求清单中核心需求优先安排",
                                        "议定项目任务分解到人，每月通报一次进度"])
        elif status == ActivityStatus.CANCELLED:
            summary = "因汛期防汛工作取消，改期举行"
        pk = self.new(Activity, pairing_id=ctx.pairing, kind=kind, title=title, place=place, starts_at=starts,
                      ends_at=ends, status=status, project_id=project,
                      follow_up_of_id=follow_up_of[0] if follow_up_of else None, summary=summary,
                      decisions=decisions, residents_served=residents, survey_token=secrets.token_urlsafe(9),
                      created_by_id=self.user, held_at=ends + dt.timedelta(minutes=30) if held else None,
                      **ctx.territory)
        self.stats["activities"] += 1
        self.stats[f"activities:{status}"] += 1
        if not held:
            return (pk, title)
        if decisions:
            self.new(PairingMessage, pairing_id=ctx.pairing, post_id=None, kind=MessageKind.DECISION,
                     text=f"{title}议定：{decisions}", author_id=self.user, created_at=ends + dt.timedelta(minutes=31),
                     **ctx.territory)
        self.attendance(ctx, pk, starts, ends, residents)
        if residents:
            self.surveys(ctx, pk, ends, residents)
            self.evaluations(ctx, pk, ends, problems, residents)
        return (pk, title)

    def attendance(self, ctx, activity: int, starts, ends, residents: int) -> None:
        rng, v = ctx.rng, ctx.v
        margin = dt.timedelta(minutes=self.rules.early_leave_minutes)
        lead = self.lead_people(ctx)
        rows = [(Side.LEAD, p[1]) for p in (lead[:rng.randint(2, 5)] if lead else [])]
        if not isinstance(ctx.lead, _Village):
            for person_id, _name, village_id in (lead[:len(rows)] if lead else []):
                if village_id == v.id:  # an in-service member serving in the community they live in
                    self.member_activity[person_id].append((activity, starts.date()))
        adults = v.adults or [(0, "张明", 40)]
        rows += [(Side.PARTNER, name) for _pk, name, _age in rng.sample(adults, min(len(adults), rng.randint(2, 4)))]
        rows += [("resident", name) for _pk, name, _age in rng.sample(adults, min(len(adults), residents))]
        for side, name in rows:
            arrived = starts + dt.timedelta(minutes=rng.randint(-10, 15))
            left = None
            if side == "resident" and rng.random() < 0.1:
                left = ends - dt.timedelta(minutes=rng.randint(30, 80))
            elif rng.random() < 0.5:
                left = ends + dt.timedelta(minutes=rng.randint(0, 10))
            self.new(ActivityAttendance, activity_id=activity, side=side, name=name, user_id=None, arrived_at=arrived,
                     left_at=left, left_early=bool(left and left < ends - margin), **ctx.territory)
            self.stats["attendance"] += 1
            self.stats["left_early"] += bool(left and left < ends - margin)

    def surveys(self, ctx, activity: int, ends, residents: int) -> None:
        rng = ctx.rng
        for _ in range(max(1, int(residents * rng.uniform(0.3, 0.8)))):
            at = ends - dt.timedelta(minutes=rng.randint(0, 25)) + dt.timedelta(minutes=rng.randint(0, 600))
            ratings = [rng.choices([3, 2, 1], weights=[70, 25, 5])[0] for _ in range(3)]
            comment = rng.choice(SURVEY_COMMENTS) if rng.random() < 0.25 else ""
            response = self.new(SurveyResponse, activity_id=activity, content=ratings[0], format=ratings[1],
                                timing=ratings[2], comment=comment, channel=FeedbackChannel.SURVEY, created_at=at,
                                **ctx.territory)
            self.stats["survey_responses"] += 1
            if comment:
                ctx.feedback.append(self.new(FeedbackItem, pairing_id=ctx.pairing, channel=FeedbackChannel.SURVEY,
                                             text=comment, activity_id=activity, case_id=None,
                                             survey_response_id=response, evaluation_id=None, received_at=at,
                                             recorded_by_id=None, **ctx.territory))
                ctx.feedback_at[ctx.feedback[-1]] = (at, comment)

    def evaluations(self, ctx, activity: int, ends, problems: int, residents: int) -> None:
        rng = ctx.rng
        roll = rng.random()
        sides = [Side.LEAD, Side.PARTNER] if roll < 0.85 else [Side.PARTNER] if roll < 0.95 else []
        for side in sides:
            at = ends + dt.timedelta(hours=rng.randint(2, 60))
            effect = rng.choices([3, 2, 1], weights=[65, 30, 5])[0]
            pool = OUTCOMES_LEAD if side == Side.LEAD else OUTCOMES_PARTNER
            improve = rng.choice(IMPROVE) if rng.random() < 0.35 else ""
            evaluation = self.new(Evaluation, activity_id=activity, by_side=side,
                                  outcome=rng.choice(pool).format(n=problems, m=rng.randint(1, 5), r=residents),
                                  problems_solved=problems, residents_benefited=residents, effect=effect,
                                  cooperation=rng.choices([3, 2, 1], weights=[70, 25, 5])[0], improve=improve,
                                  evaluator_id=self.user, created_at=at, **ctx.territory)
            self.stats["evaluations"] += 1
            if improve:
                text = f"{Side(side).label}建议：{improve}"
                pk = self.new(FeedbackItem, pairing_id=ctx.pairing, channel=FeedbackChannel.EVALUATION, text=text,
                              activity_id=activity, case_id=None, survey_response_id=None, evaluation_id=evaluation,
                              received_at=at, recorded_by_id=self.user, **ctx.territory)
                ctx.feedback.append(pk)
                ctx.feedback_at[pk] = (at, text)

    def other_feedback(self, ctx) -> None:
        rng = ctx.rng
        for channel in rng.sample(list(FEEDBACK), rng.randint(1, 3)):
            at = _aware(_between(rng, ctx.first, ctx.last), rng.randint(9, 17))
            text = rng.choice(FEEDBACK[channel])
            pk = self.new(FeedbackItem, pairing_id=ctx.pairing, channel=channel, text=text, activity_id=None,
                          case_id=None, survey_response_id=None, evaluation_id=None, received_at=at,
                          recorded_by_id=None if channel == FeedbackChannel.PUBLIC_PAGE else self.user,
                          **ctx.territory)
            ctx.feedback.append(pk)
            ctx.feedback_at[pk] = (at, text)
        spare = [c for c in ctx.v.cases if c["id"] not in self.used_cases]
        if spare and rng.random() < 0.4:  # a matter on the 12345 line about the pairing
            case = rng.choice(spare)
            self.used_cases.add(case["id"])
            text = f"事项{case['number'] or '编号待定'}：{(case['description'] or case['title'])[:1800]}"
            pk = self.new(FeedbackItem, pairing_id=ctx.pairing, channel=FeedbackChannel.HOTLINE, text=text,
                          activity_id=None, case_id=case["id"], survey_response_id=None, evaluation_id=None,
                          received_at=case["received_at"], recorded_by_id=self.user, **ctx.territory)
            ctx.feedback.append(pk)
            ctx.feedback_at[pk] = (case["received_at"], text)
        self.stats["feedback"] += len(ctx.feedback)

    def plans(self, ctx) -> None:
        """A plan adopted each half year; each answers every piece of feedback received before it
        that no earlier plan answered (as ``services.plan_adopt`` requires); a draft for next year
        in some pairings, answering part of what came since."""
        rng, today = ctx.rng, self.today
        answered: set = set()
        moments = []
        for month, period in ((1, f"{self.year}年度"), (7, f"{self.year}年下半年")):
            adopted = _aware(dt.date(self.year, month, rng.randint(5, 20)), 16)
            if adopted.date() < today and adopted.date() >= ctx.first - dt.timedelta(days=7):
                moments.append((adopted, period, month))
        if not moments:
            moments.append((_aware(ctx.first, 16), f"{self.year}年度", 1))
        for adopted, period, month in moments:
            starts = dt.date(self.year, month, 1)
            ends = dt.date(self.year, 12, 31) if month == 7 or len(moments) == 1 else dt.date(self.year, 6, 30)
            plan = self.new(Plan, pairing_id=ctx.pairing, period=period, starts_on=starts, ends_on=ends,
                            content=self.plan_text(ctx), status=PlanStatus.ADOPTED, adopted_at=adopted,
                            created_by_id=self.user, created_at=adopted - dt.timedelta(days=2), **ctx.territory)
            self.stats["plans"] += 1
            for feedback in ctx.feedback:
                at, text = ctx.feedback_at[feedback]
                if feedback not in answered and at < adopted:
                    self.plan_response(ctx, plan, feedback, text)
                    answered.add(feedback)
        if rng.random() < 0.3:
            plan = self.new(Plan, pairing_id=ctx.pairing, period=f"{self.year + 1}年度",
                            starts_on=dt.date(self.year + 1, 1, 1), ends_on=dt.date(self.year + 1, 12, 31),
                            content=self.plan_text(ctx), status=PlanStatus.DRAFT, adopted_at=None,
                            created_by_id=self.user,
                            created_at=_aware(today - dt.timedelta(days=rng.randint(2, 10)), 10),
                            **ctx.territory)
            self.stats["plans"] += 1
            for feedback in ctx.feedback:
                if feedback not in answered and rng.random() < 0.6:
                    self.plan_response(ctx, plan, feedback, ctx.feedback_at[feedback][1])

    def plan_response(self, ctx, plan: int, feedback: int, text: str) -> None:
        rng = ctx.rng
        taken = rng.random() < 0.75
        response = (rng.choice(PLAN_RESPONSES_TAKEN).format(text=text[:40]) if taken
                    else rng.choice(PLAN_RESPONSES_NOT))
        self.new(PlanFeedback, plan_id=plan, feedback_id=feedback, taken_in=taken, response=response[:300],
                 **ctx.territory)
        self.stats["plan_responses"] += 1

    @staticmethod
    def plan_text(ctx) -> str:
        return ("一、组织共建：每季度召开一次联席会议，双方联络员每月对接一次。\n"
                "二、资源共享：每季度复核资源清单，核心需求优先匹配。\n"
                f"三、服务共抓：围绕{ctx.v.name}群众急难愁盼，开展服务活动不少于四次，每次活动后开展现场问卷和双向评价。")

    def messages(self, ctx) -> None:
        rng = ctx.rng
        for _ in range(rng.randint(2, 5)):
            at = _aware(_between(rng, ctx.first, ctx.last), rng.randint(8, 18), rng.randint(0, 59))
            self.new(PairingMessage, pairing_id=ctx.pairing, post_id=None,
                     kind=rng.choices([MessageKind.MESSAGE, MessageKind.NOTE], weights=[4, 1])[0],
                     text=rng.choice(MESSAGES), author_id=self.user, created_at=at, **ctx.territory)
            self.stats["messages"] += 1

    def approvals(self, ctx) -> None:
        rng, today = ctx.rng, self.today
        rules = self.rules
        for _ in range(rng.choices([0, 1, 2], weights=[3, 4, 2])[0]):
            kind, title, detail, amount = rng.choice(APPROVALS)
            roll = rng.random()
            if roll < 0.2:  # waiting, within its time limit
                requested = _aware(today - dt.timedelta(days=1), 10, rng.randint(0, 59))
                due = add_working_days(requested, rules.approval_working_days)
                if due <= _aware(today, 23, 59):
                    continue
                decided = None
                status = ApprovalStatus.PENDING
            else:
                requested = _aware(_between(rng, ctx.first, today - dt.timedelta(days=10)), rng.randint(9, 16))
                due = add_working_days(requested, rules.approval_working_days)
                decided = requested + (due - requested) * rng.uniform(0.1, 0.9 if rng.random() < 0.9 else 1.3)
                status = ApprovalStatus.APPROVED if roll < 0.85 else ApprovalStatus.REFUSED
            project = rng.choice(ctx.projects)[0] if ctx.projects and kind == "funds" and rng.random() < 0.5 else None
            self.new(ApprovalRequest, pairing_id=ctx.pairing, kind=kind, title=title, detail=detail, amount=amount,
                     project_id=project, requested_by_id=self.user, requested_at=requested, due_at=due,
                     county_due_at=add_working_days(due, rules.escalate_working_days), status=status,
                     decided_by_id=self.user if decided else None, decided_at=decided,
                     decision_note="" if status != ApprovalStatus.REFUSED else "本季度经费已用完，请纳入下季度计划",
                     overdue_warned_at=None, escalated_at=None, **ctx.territory)
            self.stats[f"approvals:{status}"] += 1


@dataclass
class _PairingContext:
    pairing: int
    kind: str
    title: str
    v: _Village
    lead: object
    lead_key: str
    department: int | None
    territory: dict
    rng: random.Random
    first: dt.date
    last: dt.date
    resources: dict = field(default_factory=dict)
    projects: list = field(default_factory=list)
    feedback: list = field(default_factory=list)
    feedback_at: dict = field(default_factory=dict)


class _Generation(_Pairings, _Bulk):
    """The bulk path: ``_Bulk`` (grades, integration, links, alliances, shares) with ``_Pairings``."""


# ---------------------------------------------------------------------------------------------
# the showcase, through the services


class _StoryClock:
    """``timezone.now`` while the showcase runs: the moment of the step being acted out."""

    def __init__(self, at: dt.datetime):
        self.at = at

    def __call__(self) -> dt.datetime:
        return self.at

    def set(self, day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
        self.at = _aware(day, hour, minute)
        return self.at


@contextmanager
def story_clock(at: dt.datetime):
    clock = _StoryClock(at)
    with mock.patch.object(timezone, "now", clock):
        yield clock


SHOWCASE_CONTACT = "独居老人反映自己做饭困难，常常一天只吃一顿，希望村里办个老年助餐点"
HANDOVER_NOTES = {"需求": "已与村联络员逐项核实，需求仍然存在；下一步按清单匹配资源",
                  "项目": "任务已分解到部门和责任人，每月跟进一次进度，未完成的任务和时限见项目页面",
                  "活动": "已通知村里和参加人员，按原计划开展，议程已发给村联络员",
                  "审批": "已提交镇里快速通道，请跟进审批结果", "计划": "草稿已与村里讨论，待吸纳群众意见后通过"}


# The demo logins the showcase is acted by (``gongzhi.demo.logins`` makes them: the demo commands
# call ``ensure_demo_logins(password=None, only=SHOWCASE_LOGINS)`` before this module runs): the
# town secretary (creates the pairing, decides fast-track requests), the village secretary
# (partner post), 县民政局's liaison (lead post, after the handover).
SHOWCASE_LOGINS = ("town", "village", "liaison")
# Who the showcase's notices reach (cleared with the county's linking data).
NOTIFIED = ("county", "town", "village", "liaison", "dispatch", FORMER_LIAISON_USERNAME)


def showcase_logins():
    users = {u.username: u for u in get_user_model().objects.filter(username__in=SHOWCASE_LOGINS, is_active=True)}
    return tuple(users[n] for n in SHOWCASE_LOGINS) if len(users) == len(SHOWCASE_LOGINS) else None


def showcase_village(county: Region) -> int | None:
    from gongzhi.village.demo import showcase_village as village_of_the_login

    return village_of_the_login(county)


class Showcase:
    """县民政局's branch and the ``village`` login's village: the pairing the demo walks through."""

    PROJECTS = 3

    def __init__(self, *, data: _County, seed: int, today: dt.date, clock: _StoryClock, village: _Village,
                 branch: tuple, department: Department, log):
        from . import services

        self.s, self.data, self.today, self.clock, self.v, self.log = services, data, today, clock, village, log
        self.branch, self.department = branch, department
        self.rng = random.Random(f"{seed}:linking:showcase:{village.code}")
        self.stats: Counter = Counter()
        self.used_cases: set = set()

    @staticmethod
    def possible(data: _County, village_id: int | None, log=lambda message: None) -> tuple | None:
        village = next((v for v in data.villages if v.id == village_id), None)
        branch = next((b for b in data.branches if b[1] == SHOWCASE_BRANCH), None)
        department = data.departments.get("民政")
        if village is None or village.org is None or branch is None or department is None:
            log("  no showcase: the county has no 民政局 branch, department or first village")
            return None
        logins = showcase_logins()
        if logins is None:
            log(f"  no showcase: the demo logins {', '.join(SHOWCASE_LOGINS)} do not exist yet "
                "(gongzhi.demo.logins.ensure_demo_logins(password=None, only=SHOWCASE_LOGINS) makes them)")
            return None
        town, village_login, liaison = logins
        from gongzhi.core.scoping import can

        region = Region.objects.get(pk=village.id)
        if not (can(village_login, "linking.add_needitem", region) and can(town, "linking.add_pairing", region)
                and liaison.role_assignments.filter(is_active=True, department_id=department[0]).exists()):
            log("  no showcase: the demo logins do not hold their demo roles over the first village and 民政局")
            return None
        return village, branch, Department.objects.get(pk=department[0])

    def at(self, days_before: int, hour: int, minute: int = 0) -> dt.datetime:
        return self.clock.set(self.today - dt.timedelta(days=days_before), hour, minute)

    def actors(self) -> None:
        from gongzhi.accounts.models import Role, RoleAssignment
        from gongzhi.core.scoping import forget_cached_grants

        self.town, self.village, self.liaison = showcase_logins()
        User = get_user_model()
        former, created = User.objects.get_or_create(username=FORMER_LIAISON_USERNAME)
        if created:
            former.set_unusable_password()
        names = [p[1] for p in self.data.in_service.get(self.branch[0], [])] or ["王建军"]
        former.display_name = f"{names[-1]}（{_short(self.branch[3])}原结对共建联络员，已调岗）"
        former.is_active = True
        former.save()
        role = Role.objects.get(code="agency_liaison")
        if not RoleAssignment.objects.filter(user=former, role=role, department=self.department).exists():
            assignment = RoleAssignment(user=former, role=role, department=self.department)
            assignment.full_clean()
            assignment.save()
        forget_cached_grants(former)
        self.former = former

    def case_for(self, words, *, before: dt.datetime) -> Case | None:
        """The village's latest resident's case received before ``before`` whose title has one of
        ``words`` (else its latest case), each case used once."""
        rows = [c for c in self.v.cases if c["received_at"] < before and c["id"] not in self.used_cases]
        fitting = [c for c in rows if any(w in c["title"] for w in words)]
        row = (fitting or rows or [None])[-1]
        if row is None:
            return None
        self.used_cases.add(row["id"])
        return Case.objects.get(pk=row["id"])

    def run(self) -> Pairing:
        s, rng, today, v = self.s, self.rng, self.today, self.v
        self.actors()
        # The resident's case the open need will come from is set aside first: of everything the
        # showcase makes from cases, it matters most.
        self.open_case = self.case_for(CASE_NEEDS[1][0], before=_aware(today - dt.timedelta(days=10), 0))
        lead_org = PartyOrganization.objects.get(pk=self.branch[0])
        partner_org = PartyOrganization.objects.get(pk=v.org)
        region = Region.objects.get(pk=v.id)
        seat = Region.objects.filter(pk=self.data.seat_id).first()
        start = today - dt.timedelta(days=320)
        # -- the pairing, its report form signed by both sides
        self.at(320, 9, 30)
        try:
            term_end = start.replace(year=start.year + 2)
        except ValueError:  # 29 February
            term_end = start.replace(year=start.year + 2, day=28)
        pairing = s.pairing_create(
            actor=self.town, kind=PairingKind.AGENCY_COMMUNITY, lead_org=lead_org, partner_org=partner_org,
            title=f"{_short(self.branch[3])}—{v.name}结对共建", term_start=start, term_end=term_end,
            lead_post="机关联络员", lead_holder=self.former, partner_post="村联络员", partner_holder=self.village,
            principles=[Principle.BIG_SMALL, Principle.STRONG_WEAK], joint_actions=list(JointAction.values),
            agency_department=self.department)
        self.at(319, 10)
        s.pairing_sign(actor=self.former, pairing=pairing, side=Side.LEAD)
        self.at(319, 15)
        s.pairing_sign(actor=self.village, pairing=pairing, side=Side.PARTNER)
        self.at(318, 9)
        s.message_post(actor=self.former, pairing=pairing,
                       text=f"报到单已签署。下周到{v.name}开展联合调研，共同梳理资源、需求、项目三张清单。")
        self.at(317, 16)
        plan = s.plan_draft(actor=self.former, pairing=pairing, period=f"{start.year}年度", starts_on=start,
                            ends_on=dt.date(start.year, 12, 31) if start.month < 12 else term_end,
                            content=_Pairings.plan_text(_PairingContext(0, "", "", v, None, "", None, {}, rng, start,
                                                                        start)))
        s.plan_adopt(actor=self.former, plan=plan)
        # -- the first joint meeting
        self.at(316, 10)
        meeting = s.activity_plan(actor=self.former, pairing=pairing, kind=K.JOINT_MEETING,
                                  title=f"{start.year}年第一次结对共建联席会议", place=f"{v.name}村委会会议室",
                                  starts_at=_aware(start + dt.timedelta(days=8), 14, 30),
                                  ends_at=_aware(start + dt.timedelta(days=8), 16, 30))
        self.at(312, 16, 40)
        for side, name, user in ((Side.LEAD, self.former.display_name.split("（")[0], self.former),
                                 (Side.PARTNER, self.village.display_name, self.village)):
            s.attendance_record(actor=self.former, activity=meeting, side=side, name=name[:50], user=user)
        s.activity_hold(actor=self.former, activity=meeting, summary="联合调研后共同梳理三张清单，明确双方联络员和工作机制",
                        decisions="议定：资源清单由局机关列出、村里核实；需求清单分核心、重要、一般三级，每项先做可行性评估；"
                                  "每季度召开一次联席会议", residents_served=0)
        # -- the lead side's list (the seed's agency listed 43) and the village's
        resources = {}
        for i, (kind, name, capacity, unit, use_form, at_seat, conditions) in enumerate(CIVIL_AFFAIRS_RESOURCES):
            self.at(310, 9, i)
            resources[name] = s.resource_add(actor=self.former, pairing=pairing, kind=kind, name=name,
                                             capacity=capacity, unit=unit, use_form=use_form,
                                             place=seat if at_seat else None, conditions=conditions)
        for i, (kind, name, capacity, unit, use_form) in enumerate(PARTNER_RESOURCES[:4]):
            self.at(309, 10, i)
            resources[name] = s.resource_add(actor=self.village, pairing=pairing, kind=kind, name=name,
                                             capacity=capacity, unit=unit, use_form=use_form, side=Side.PARTNER,
                                             place=region)
        # -- needs: one stays unreviewed (stale); one from a resident's case becomes a project
        self.at(308, 11)
        s.need_raise(actor=self.village, pairing=pairing, title="村卫生室适老化改造", kind=RK.EQUIPMENT,
                                  grade=NeedGrade.GENERAL, quantity=1, unit="处",
                                  description="村卫生室台阶高、无扶手，老人就诊不便", place=region,
                                  asked_by="村民代表提出")
        self.case_project(pairing, resources)
        # -- a need from a village meeting, met by the bureau's volunteers (done)
        self.meeting_project(pairing, resources)
        # -- a need heard on a home visit: the meal point's kitchen (underway, never reviewed again)
        self.contact_project(pairing, resources)
        # -- an activity, its survey and evaluations, and the follow-up visit
        service = self.activity(pairing, days=180, actor=self.former, title="社会救助政策宣讲进院坝", residents=14,
                                surveys=9, evaluate=True)
        self.at(170, 10)
        follow = s.activity_plan(actor=self.former, pairing=pairing, kind=K.FOLLOW_UP, title="回访：社会救助政策宣讲进院坝",
                                 place=f"{v.name}困难群众家中", starts_at=_aware(today - dt.timedelta(days=165), 9),
                                 ends_at=_aware(today - dt.timedelta(days=165), 11), follow_up_of=service)
        self.at(165, 11, 30)
        s.attendance_record(actor=self.former, activity=follow, side=Side.LEAD,
                            name=self.former.display_name.split("（")[0], user=self.former)
        s.activity_hold(actor=self.former, activity=follow, summary="回访宣讲时登记的4户困难家庭，其中3户已享受临时救助，1户正在审批",
                        residents_served=4)
        # -- feedback from the window and the box; the fast track (decided both ways)
        self.at(172, 10)
        s.feedback_record(actor=self.village, pairing=pairing, channel=FeedbackChannel.WINDOW,
                          text=FEEDBACK[FeedbackChannel.WINDOW][1])
        self.at(171, 10)
        s.feedback_record(actor=self.village, pairing=pairing, channel=FeedbackChannel.SUGGESTION_BOX,
                          text=FEEDBACK[FeedbackChannel.SUGGESTION_BOX][0])
        self.at(175, 10)
        venue = s.approval_request(actor=self.village, pairing=pairing, kind="venue", title=APPROVALS[0][1],
                                   detail=APPROVALS[0][2])
        self.at(174, 15)
        s.approval_decide(actor=self.town, approval=venue, approve=True, note="同意，请提前与机关办公室对接")
        self.at(160, 10)
        people = s.approval_request(actor=self.former, pairing=pairing, kind="people", title=APPROVALS[2][1],
                                    detail=APPROVALS[2][2])
        self.at(159, 16)
        s.approval_decide(actor=self.town, approval=people, approve=False, note="汛期社工需留守防汛一线，请汛后再申请")
        # -- the mid-year plan answers every piece of feedback so far
        self.at(150, 10)
        mid = s.plan_draft(actor=self.former, pairing=pairing, period=f"{today.year}年下半年",
                           starts_on=today - dt.timedelta(days=150), ends_on=dt.date(today.year, 12, 31),
                           content="一、政策帮办延伸到各组；二、活动提前两天在各组公告；三、每季度复核三张清单。")
        s.plan_respond(actor=self.former, plan=mid, responses=self.responses(pairing))
        s.plan_adopt(actor=self.former, plan=mid)
        # -- a joint survey planned, then the liaison changes: a written handover, the archive with the post
        self.at(125, 10)
        survey = s.activity_plan(actor=self.former, pairing=pairing, kind=K.SURVEY, title="联合调研：困难群众需求大走访",
                                 place=f"{v.name}各组", starts_at=_aware(today - dt.timedelta(days=110), 9),
                                 ends_at=_aware(today - dt.timedelta(days=110), 12))
        self.at(120, 10)
        post = pairing.posts.get(side=Side.LEAD)
        notes = {item["key"]: HANDOVER_NOTES.get(item["kind"], "已写明情况") for item in s.open_items(pairing)}
        s.post_handover(actor=self.former, post=post, incoming=self.liaison, notes=notes,
                        summary=(f"本人因工作调整不再担任{_short(self.branch[3])}机关联络员。结对以来签署报到单、召开联席会议，"
                                 f"列出资源清单43项、需求清单，3个项目已立项；村联络员为{self.village.display_name}。"
                                 "未办结事项逐项说明如下，结对档案随岗位移交。"))
        self.former.is_active = False
        self.former.save(update_fields=["is_active"])
        self.stats["handovers"] += 1
        self.at(110, 12, 30)
        s.attendance_record(actor=self.liaison, activity=survey, side=Side.LEAD, name=self.liaison.display_name[:50],
                            user=self.liaison)
        s.attendance_record(actor=self.liaison, activity=survey, side=Side.PARTNER, name=self.village.display_name[:50],
                            user=self.village)
        s.activity_hold(actor=self.liaison, activity=survey, summary="走访困难家庭18户，收集需求7条，已逐条录入需求清单或转办",
                        residents_served=18)
        self.at(60, 9)
        s.message_post(actor=self.liaison, pairing=pairing, text=MESSAGES[4])
        # -- the quarterly review: all but a few items (both sides' lists keep a stale one)
        self.reviews(pairing)
        # -- feedback through the other channels
        self.at(20, 10)
        s.feedback_record(actor=self.liaison, pairing=pairing, channel=FeedbackChannel.ACCOUNT,
                          text=FEEDBACK[FeedbackChannel.ACCOUNT][0])
        hotline_case = self.case_for(("停水", "路灯", "道路", "垃圾"), before=self.at(15, 11))
        if hotline_case is not None:
            s.feedback_from_case(actor=self.village, pairing=pairing, case=hotline_case)
        self.at(9, 20, 15)
        self.public_feedback(pairing, FEEDBACK[FeedbackChannel.PUBLIC_PAGE][0])
        # -- the fast track: one request overdue (the sweep warns and escalates it), one waiting
        self.at(16, 9)
        s.approval_request(actor=self.village, pairing=pairing, kind="funds", title=APPROVALS[1][1],
                           detail=APPROVALS[1][2], amount=APPROVALS[1][3], project=self.kitchen)
        # -- the open need for the demo user to match: a resident's case, checked, not yet matched
        _words, (title, kind, quantity, unit, description) = CASE_NEEDS[1]
        open_case = self.open_case
        self.at(10, 10)
        self.open_need = s.need_raise(actor=self.village, pairing=pairing, title=title, kind=kind, grade=NeedGrade.CORE,
                                      quantity=quantity, unit=unit, description=description,
                                      **({"source": NeedSource.CASE, "case": open_case} if open_case
                                         else {"asked_by": "村两委提出"}))
        self.at(8, 16)
        s.need_check(actor=self.liaison, need=self.open_need, feasibility=Feasibility.FEASIBLE,
                     note="资源清单中有政策专家团队、社会工作人才和婚姻家庭矛盾调解，可以安排；请按匹配排名确认")
        self.at(6, 11)
        s.need_raise(actor=self.village, pairing=pairing, title="群众文化活动场地", kind=RK.VENUE, grade=NeedGrade.GENERAL,
                     quantity=4, unit="次", description="冬季农闲时组织培训和文艺活动，缺少室内场地", asked_by="村民代表提出")
        # -- the activity just held: attendance (some left early), survey answers, both sides' evaluations
        self.activity(pairing, days=4, actor=self.liaison, title="老年人权益保护和防诈骗宣传暨政策咨询会", residents=16,
                      surveys=12, evaluate=True, recent=True)
        self.at(5, 9)
        s.message_post(actor=self.village, pairing=pairing, text="周五的活动群众反映很好，问卷已收回，评价请在本周内填写。")
        self.at(1, 10)
        s.approval_request(actor=self.liaison, pairing=pairing, kind="venue",
                           title=f"借用机关三楼会议室召开{today.year + 1}年度结对共建联席会议",
                           detail="双方两委成员、联络员和群众代表约30人，半天")
        # -- next year's plan in draft, answering most of what came since the last one
        self.at(1, 15)
        draft = s.plan_draft(actor=self.liaison, pairing=pairing, period=f"{today.year + 1}年度",
                             starts_on=dt.date(today.year + 1, 1, 1), ends_on=dt.date(today.year + 1, 12, 31),
                             content="一、每月一次政策帮办进组；二、开办老年助餐点；三、法律咨询每季度到村一次；"
                                     "四、活动时间避开农忙，提前两天公告。")
        awaiting = self.responses(pairing)
        keep = sorted(awaiting)[-2:]  # the last two are left for the next liaison to answer in the plan
        s.plan_respond(actor=self.liaison, plan=draft, responses={k: r for k, r in awaiting.items() if k not in keep})
        self.stats["projects"] = self.PROJECTS
        return pairing

    def responses(self, pairing) -> dict:
        out = {}
        for i, item in enumerate(self.s.feedback_awaiting(pairing).order_by("received_at", "pk")):
            taken = i % 4 != 3
            out[item.pk] = (taken, PLAN_RESPONSES_TAKEN[i % len(PLAN_RESPONSES_TAKEN)].format(text=item.text[:30])
                            if taken else PLAN_RESPONSES_NOT[i % len(PLAN_RESPONSES_NOT)])
        return out

    def case_project(self, pairing, resources) -> None:
        """A resident's case becomes a core need, matched to the bureau's policy help: a project
        with tasks by department and person, still underway. The story starts when the case came
        in (at the earliest 280 days ago)."""
        s, v, today = self.s, self.v, self.today
        words, (title, kind, quantity, unit, description) = CASE_NEEDS[0]
        case = self.case_for(words, before=_aware(today - dt.timedelta(days=65), 0))
        raised = today - dt.timedelta(days=280)
        if case is not None:
            raised = max(raised, timezone.localtime(case.received_at).date() + dt.timedelta(days=1))
        handed_over = today - dt.timedelta(days=120)
        self.clock.set(raised, 9)
        need = s.need_raise(actor=self.village, pairing=pairing, title=title, kind=kind, grade=NeedGrade.CORE,
                            quantity=quantity, unit=unit, description=description,
                            **({"source": NeedSource.CASE, "case": case} if case else {"asked_by": "村两委提出"}))
        self.clock.set(raised + dt.timedelta(days=1), 15)
        s.need_check(actor=self.former if raised < handed_over else self.village, need=need,
                     feasibility=Feasibility.FEASIBLE, note="局机关政策专家团队可上门解读、帮办，符合条件的当月纳入救助")
        confirmed = raised + dt.timedelta(days=4)
        self.clock.set(confirmed, 10)
        project = s.project_confirm(
            actor=self.village, need=need, resource=resources["低保、特困政策上门帮办"], quantity=quantity,
            title=f"{v.name}困难群众救助政策帮办项目",
            tasks=[{"title": "入户核实困难情况、建立台账", "assignee_name": self.village.display_name[:50],
                    "due_on": raised + dt.timedelta(days=20)},
                   {"title": "上门讲解临时救助政策、帮助准备申请材料", "department": self.department,
                    "assignee_name": self.former.display_name.split("（")[0], "due_on": raised + dt.timedelta(days=50)},
                   {"title": "审核审批、落实救助资金", "department": self.department, "assignee_name": "县民政局社会救助股",
                    "due_on": today + dt.timedelta(days=20)}])
        tasks = list(project.tasks.order_by("due_on", "pk"))
        for day, task, progress, note in ((raised + dt.timedelta(days=15), tasks[0], 100, "已入户核实4户，建立台账"),
                                          (raised + dt.timedelta(days=40), tasks[1], 100, "已为4户准备好申请材料并递交"),
                                          (min(raised + dt.timedelta(days=130), today - dt.timedelta(days=35)),
                                           tasks[2], 50, "2户已审批发放，2户在公示")):
            self.clock.set(day, 17)
            # the lead side reports while the former liaison holds the post; after that, the village
            actor = self.former if task.department_id and day < handed_over else self.village
            s.task_progress(actor=actor, task=task, progress=progress, note=note)

    def meeting_project(self, pairing, resources) -> None:
        s, v, today = self.s, self.v, self.today
        window = [m for m in v.meetings if today - dt.timedelta(days=300) <= timezone.localtime(m[2]).date()
                  <= today - dt.timedelta(days=200)]
        meeting = window[0] if window else None
        raised = (timezone.localtime(meeting[2]).date() + dt.timedelta(days=1) if meeting
                  else today - dt.timedelta(days=250))
        self.clock.set(raised, 10)
        from gongzhi.village.models import Meeting

        source = ({"source": NeedSource.MEETING, "meeting": Meeting.objects.get(pk=meeting[0])} if meeting
                  else {"asked_by": "村两委会提出"})
        need = s.need_raise(actor=self.village, pairing=pairing, title="留守儿童暑期托管", kind=RK.VOLUNTEERS,
                            grade=NeedGrade.IMPORTANT, quantity=6, unit="人",
                            description="暑假期间留守儿童无人看管，需要志愿者辅导作业、开展安全教育", **source)
        self.clock.set(raised + dt.timedelta(days=2), 15)
        s.need_check(actor=self.former, need=need, feasibility=Feasibility.FEASIBLE, note="机关党员志愿服务队可轮流到村")
        confirmed = raised + dt.timedelta(days=5)
        self.clock.set(confirmed, 10)
        project = s.project_confirm(
            actor=self.former, need=need, resource=resources["机关党员志愿服务队"], quantity=6,
            title=f"{v.name}留守儿童暑期托管项目",
            tasks=[{"title": "排定志愿者轮值表", "department": self.department, "assignee_name": "局机关党支部",
                    "due_on": confirmed + dt.timedelta(days=10)},
                   {"title": "提供托管场地、通知家长", "assignee_name": self.village.display_name[:50],
                    "due_on": confirmed + dt.timedelta(days=12)}])
        for k, task in enumerate(project.tasks.order_by("due_on", "pk")):
            self.clock.set(confirmed + dt.timedelta(days=8 + k), 17)
            actor = self.former if task.department_id else self.village
            s.task_progress(actor=actor, task=task, progress=100, note="已完成")
        self.clock.set(confirmed + dt.timedelta(days=40), 16)
        s.project_complete(actor=self.village, project=project,
                           outcome="暑期共托管留守儿童23名，开展安全教育4次，家长满意；明年暑期继续")

    def contact_project(self, pairing, resources) -> None:
        from gongzhi.care.services import contact_record

        s, v, today = self.s, self.v, self.today
        households = Household.objects.filter(village_id=v.id).order_by("pk")
        household = households.filter(poverty_status__in=VULNERABLE).first() or households.first()
        heard_at = self.at(230, 10)
        source = {"asked_by": "村两委提出"}
        if household is not None:
            record = contact_record(actor=self.village, household=household, method="visit", heard=SHOWCASE_CONTACT,
                                    contacted_at=heard_at)
            source = {"source": NeedSource.CONTACT, "contact_record": record}
        self.at(229, 10)
        need = s.need_raise(actor=self.village, pairing=pairing, title="老年助餐点厨具", kind=RK.EQUIPMENT,
                            grade=NeedGrade.IMPORTANT, quantity=1, unit="套",
                            description="村里利用闲置村小学校舍开办老年助餐点，缺少厨具", **source)
        self.at(228, 15)
        s.need_check(actor=self.former, need=need, feasibility=Feasibility.PARTLY,
                     note="厨具可由局机关捐赠；餐桌椅和运营经费需另行申请")
        self.at(225, 10)
        self.kitchen = s.project_confirm(
            actor=self.former, need=need, resource=resources["老年助餐点厨具"], quantity=1,
            title=f"{v.name}老年助餐点建设项目",
            tasks=[{"title": "改造闲置校舍厨房", "assignee_name": self.village.display_name[:50],
                    "due_on": today - dt.timedelta(days=150)},
                   {"title": "捐赠并安装厨具", "department": self.department, "assignee_name": "局机关办公室",
                    "due_on": today - dt.timedelta(days=120)},
                   {"title": "招募助餐志愿者、确定运营方案", "assignee_name": self.village.display_name[:50],
                    "due_on": today + dt.timedelta(days=30)}])
        tasks = list(self.kitchen.tasks.order_by("due_on", "pk"))
        for days, task, progress, actor in ((160, tasks[0], 100, self.village), (130, tasks[1], 100, self.former),
                                            (125, tasks[2], 40, self.village)):
            self.at(days, 17)
            s.task_progress(actor=actor, task=task, progress=progress, note="已完成" if progress == 100 else "已招募志愿者5名")

    def activity(self, pairing, *, days: int, actor, title: str, residents: int, surveys: int, evaluate: bool,
                 recent: bool = False) -> Activity:
        s, rng, v, today = self.s, self.rng, self.v, self.today
        day = today - dt.timedelta(days=days)
        self.at(days + 8, 10)
        activity = s.activity_plan(actor=actor, pairing=pairing, kind=K.SERVICE, title=title, place=f"{v.name}文化广场",
                                   starts_at=_aware(day, 14, 30), ends_at=_aware(day, 16, 30))
        self.at(days, 16, 40)
        lead_people = [p for p in self.data.in_service.get(self.branch[0], []) if p[1] not in actor.display_name]
        rows = [(Side.LEAD, actor.display_name.split("（")[0], actor, None)]
        rows += [(Side.LEAD, p[1], None, None) for p in lead_people[:3]]  # in-service party members of the bureau
        rows += [(Side.PARTNER, self.village.display_name, self.village, None)]
        adults = [a for a in v.adults if a[2] >= 30]
        for k, (_pk, name, _age) in enumerate(rng.sample(adults, min(len(adults), residents))):
            left = _aware(day, 15, rng.randint(5, 50)) if k % 6 == 5 else None
            rows.append(("resident", name, None, left))
        for side, name, user, left in rows:
            s.attendance_record(actor=actor, activity=activity, side=side, name=name[:50], user=user,
                                arrived_at=_aware(day, 14, rng.randint(20, 40)), left_at=left)
        self.stats["left_early"] += sum(1 for r in rows if r[3])
        s.activity_hold(actor=actor, activity=activity, residents_served=residents,
                        summary=f"讲解社会救助、高龄补贴和防诈骗知识，现场解答政策问题{residents // 2}个，受理救助申请3件")
        for k in range(surveys):
            self.at(days, 16, 45 + k * 3 if k < 5 else 59)
            ratings = [rng.choices([3, 2, 1], weights=[70, 25, 5])[0] for _ in range(3)]
            s.survey_answer(token=activity.survey_token, content=ratings[0], format=ratings[1], timing=ratings[2],
                            comment=SURVEY_COMMENTS[k % len(SURVEY_COMMENTS)] if k % 3 == 0 else "")
        if evaluate:
            self.at(days - 1, 10)
            s.evaluation_record(actor=actor, activity=activity, by_side=Side.LEAD, effect=3, cooperation=3,
                                outcome=f"现场解答政策问题{residents // 2}个，受理临时救助申请3件，{residents}名群众受益",
                                problems_solved=residents // 2, residents_benefited=residents,
                                improve="村里提前把需要群众准备的材料通知到户，现场办理会更快")
            self.at(days - 1, 15)
            s.evaluation_record(actor=self.village, activity=activity, by_side=Side.PARTNER, effect=3, cooperation=2,
                                outcome=f"群众关心的救助和补贴政策问题当场得到答复，3户困难家庭的申请已受理，{residents}人受益",
                                problems_solved=3, residents_benefited=residents,
                                improve=IMPROVE[0] if recent else IMPROVE[1])
        activity.refresh_from_db()
        if recent:
            self.at(2, 10)
            s.activity_plan(actor=actor, pairing=pairing, kind=K.FOLLOW_UP, title=f"回访：{title}",
                            place=f"{v.name}受理申请的三户家中", starts_at=_aware(today + dt.timedelta(days=5), 9),
                            ends_at=_aware(today + dt.timedelta(days=5), 11), follow_up_of=activity)
        activity.refresh_from_db()
        return activity

    def reviews(self, pairing) -> None:
        s = self.s
        self.at(30, 9)
        stale_lead = {"婚姻登记档案查询", "社会工作专业人才队伍"}  # the second shows in the ranking's freshness
        stale_partner = {"村文化广场"}
        for k, item in enumerate(pairing.resources.order_by("pk")):
            if item.name in stale_lead or item.name in stale_partner:
                continue
            self.at(30, 9 + k // 50, k % 50)
            actor = self.liaison if item.side == Side.LEAD else self.village
            s.list_item_review(actor=actor, kind="resource", pk=item.pk, still_valid=True)
        self.at(29, 10)
        s.list_item_review(actor=self.village, kind="project", pk=pairing.projects.get(title__contains="救助").pk)

    def public_feedback(self, pairing, text: str) -> FeedbackItem:
        """The public page has no service of its own yet: the row as such a page would write it."""
        from gongzhi.core.audit import snapshot

        item = FeedbackItem(pairing=pairing, channel=FeedbackChannel.PUBLIC_PAGE, text=text,
                            received_at=timezone.now(), recorded_by=None)
        item.copy_pairing(pairing)
        item.full_clean()
        item.save()
        audit_record(actor=None, action=AuditAction.CREATE, obj=item, after=snapshot(item), note="结对公开页面留言")
        return item


# ---------------------------------------------------------------------------------------------
# the run


@dataclass
class LinkingYearResult:
    county_id: int
    villages: int
    seconds: float
    rows: dict
    figures: dict

    @property
    def tasks(self) -> int:
        return self.figures.get("tasks", 0)

    @property
    def cadres(self) -> int:
        return self.figures.get("cadres", 0)

    @property
    def town_leaders(self) -> int:
        return self.figures.get("town_leaders", 0)

    @property
    def pairings(self) -> int:
        return self.figures.get("pairings", 0)

    @property
    def projects(self) -> int:
        return self.figures.get("projects", 0)

    @property
    def links(self) -> int:
        return self.figures.get("links", 0)

    def summary(self) -> str:
        per_task = self.tasks / self.villages if self.villages else 0
        per_cadre = self.cadres / self.villages if self.villages else 0
        return (f"{self.villages} villages: {self.tasks:,} key tasks ({per_task:.1f}/village), "
                f"{self.cadres:,} stationed cadres ({per_cadre:.1f}/village), {self.town_leaders} town leaders; "
                f"{self.pairings} pairings, {self.projects} projects, {self.links:,} links, "
                f"{self.figures.get('stale', 0)} stale list items flagged ({self.seconds:.1f} s)")


class LinkingDataExists(Exception):
    pass


def generator_user():
    """The inactive account the bulk rows are recorded as made by (no password, no role)."""
    User = get_user_model()
    user, created = User.objects.get_or_create(username=GENERATOR_USERNAME, defaults={
        "display_name": "演示数据（结对共建批量生成）", "is_active": False})
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


def clear_linking_year(county: Region) -> int:
    """Delete the county's linking rows, with what the showcase wrote elsewhere: the case timeline
    entries, the contact record it heard, the notices it sent. Audit rows stay."""
    from gongzhi.cases.models import Notification

    deleted = 0
    with transaction.atomic():
        CaseEvent.objects.filter(case__county_id=county.pk, kind__in=["pairing_need", "pairing_project"]).delete()
        NeedItem._base_manager.filter(county_id=county.pk).update(activity=None)
        Activity._base_manager.filter(county_id=county.pk).update(follow_up_of=None)
        contact_ids = list(NeedItem._base_manager.filter(county_id=county.pk, contact_record__heard=SHOWCASE_CONTACT)
                           .values_list("contact_record_id", flat=True))
        for model in CLEAR_ORDER:
            n, _ = model._base_manager.filter(county_id=county.pk).delete()
            deleted += n
        if contact_ids:
            from gongzhi.care.models import ContactRecord

            ContactRecord.objects.filter(pk__in=contact_ids).delete()
        Notification.objects.filter(kind__startswith="linking_", case__isnull=True,
                                    user__username__in=NOTIFIED).delete()
    return deleted


def county_figures(county: Region) -> dict:
    """What the county's linking data holds, counted in the database."""
    c = {"county_id": county.pk}

    def count(model, **filters):
        return model._base_manager.filter(**c, **filters).count()

    def by(model, column, **filters):
        return dict(model._base_manager.filter(**c, **filters).values_list(column).annotate(n=models.Count("pk"))
                    .values_list(column, "n"))

    villages = Region.objects.filter(county_id=county.pk, level=RegionLevel.VILLAGE).count()
    tasks, cadres = count(KeyTask), count(WorkTeamMember, ended_on__isnull=True)
    weak = set(VillageGrade._base_manager.filter(**c, grade=VillageGradeKind.WEAK).values_list("region_id", flat=True))
    partnered = set(Link._base_manager.filter(**c, kind=LinkKind.STRONG_WEAK, ended_on__isnull=True)
                    .values_list("to_region_id", flat=True)) | set(
        Pairing._base_manager.filter(**c, kind=PairingKind.VILLAGE_VILLAGE, status=PairingStatus.ACTIVE)
        .values_list("region_id", flat=True))
    links = by(Link, "kind")
    return {
        "villages": villages, "tasks": tasks, "tasks_done": count(KeyTask, status=KeyTaskStatus.DONE),
        "task_progress_reports": count(KeyTaskProgress), "cadres": cadres,
        "town_leaders": WorkTeam._base_manager.filter(**c, ended_on__isnull=True).values("town_leader").distinct()
        .count(),
        "work_teams": count(WorkTeam), "station_days": count(StationDay),
        "tasks_per_village": round(tasks / villages, 2) if villages else 0,
        "cadres_per_village": round(cadres / villages, 2) if villages else 0,
        "pairings": count(Pairing), "pairings_by_kind": by(Pairing, "kind"), "liaison_posts": count(LiaisonPost),
        "resources": count(ResourceItem), "needs": count(NeedItem), "needs_by_grade": by(NeedItem, "grade"),
        "needs_by_source": by(NeedItem, "source"), "projects": count(Project), "project_tasks": count(ProjectTask),
        "activities_held": count(Activity, status=ActivityStatus.HELD), "attendance": count(ActivityAttendance),
        "left_early": count(ActivityAttendance, left_early=True), "survey_responses": count(SurveyResponse),
        "evaluations": count(Evaluation), "feedback_by_channel": by(FeedbackItem, "channel"), "plans": count(Plan),
        "plan_responses": count(PlanFeedback), "approvals_by_status": by(ApprovalRequest, "status"),
        "handovers": count(Handover), "messages": count(PairingMessage),
        "links": sum(links.values()), "links_by_kind": links,
        "links_535": sum(n for kind, n in links.items()
                         if kind not in (LinkKind.THREE_OFFICIALS, LinkKind.TOWN_LEADER_VILLAGE)),
        "link_activities": count(LinkActivity), "strong": count(VillageGrade, grade=VillageGradeKind.STRONG),
        "weak": len(weak), "weak_without_strong": len(weak - partnered), "alliances": count(Alliance),
        "alliance_members": count(AllianceMember), "alliance_operations": count(AllianceOperation),
        "resource_shares": count(ResourceShare), "member_reports": count(MemberReport),
        "member_services": count(MemberService),
    }


def _has_data(county: Region) -> bool:
    return (Pairing._base_manager.filter(county_id=county.pk).exists()
            or KeyTask._base_manager.filter(county_id=county.pk).exists()
            or Link._base_manager.filter(county_id=county.pk).exists())


def generate_linking_year(*, county: Region | None = None, seed: int = 321, today: dt.date | None = None,
                          replace: bool = False, log=lambda message: None) -> LinkingYearResult:
    """The entry point: a year of linking up for ``county`` (default: the first county), ending
    the day before ``today``; see the module docstring."""
    from . import sweeps

    started = time.perf_counter()
    county = county or Region.objects.filter(level=RegionLevel.COUNTY).order_by("code").first()
    if county is None:
        raise ValueError("no county: generate the registry first")
    today = today or timezone.localdate()
    token = middleware._request_id.set(f"demo-linking-{seed}")
    try:
        with transaction.atomic(), translation.override("zh-hans"):
            if _has_data(county):
                if not replace:
                    raise LinkingDataExists(f"{county.name}已有结对共建数据 (the county already has linking data)")
                clear_linking_year(county)
            postgres = connection.vendor == "postgresql"
            user = generator_user()
            data = _load(county, today, _aware(today - dt.timedelta(days=365), 0))
            log(f"  loaded {len(data.villages)} villages, {sum(len(v.adults) for v in data.villages):,} adults, "
                f"{sum(len(t.cadres) for t in data.towns):,} party members of working age · "
                f"{time.perf_counter() - started:.1f} s")
            village_id = showcase_village(county)
            possible = Showcase.possible(data, village_id, log)
            if postgres:
                with connection.cursor() as cursor:  # check what is pending now, and ours as it goes in
                    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            out = _Rows(_aware(today, 0))
            bulk = _Generation(county=data, seed=seed, today=today, user_id=user.pk, out=out,
                               showcase_village=village_id if possible else None,
                               showcase_projects=Showcase.PROJECTS if possible else 0)
            bulk.build()
            out.finish()
            log(f"  bulk: {sum(out.counts.values()):,} rows · {time.perf_counter() - started:.1f} s")
            if postgres:
                with connection.cursor() as cursor:
                    cursor.execute("SET CONSTRAINTS ALL DEFERRED")
            figures = Counter(bulk.stats)
            with story_clock(_aware(today, 0)) as clock:
                if possible:
                    showcase = Showcase(data=data, seed=seed, today=today, clock=clock, village=possible[0],
                                        branch=possible[1], department=possible[2], log=log)
                    showcase.run()
                    figures.update(showcase.stats)
                    figures["pairings"] += 1
                    log(f"  showcase: {possible[0].name} · {time.perf_counter() - started:.1f} s")
                # The morning after: the sweeps flag what was not reviewed in time and escalate the
                # fast-track request nobody decided.
                clock.set(today, 6)
                figures["stale"] = sweeps.sweep_stale(today)
                figures.update(sweeps.sweep_approvals(_aware(today, 6)))
            rows = {m._meta.label: n for m, n in out.counts.items() if n}
            figures = {**county_figures(county), "stale": figures["stale"],
                       "approvals_warned": figures["approvals_warned"],
                       "approvals_escalated": figures["approvals_escalated"],
                       "showcase": possible[0].name if possible else ""}
            audit_record(
                actor=None, action=AuditAction.GENERATE, object_type="linking.pairing",
                object_repr=f"{county.name}结对共建、三联和镇村一体化演示数据", territory=county,
                note=(f"gongzhi.linking.demo: seed={seed} today={today.isoformat()} villages={len(data.villages)} "
                      f"key_tasks={figures.get('tasks', 0)} cadres={figures.get('cadres', 0)} "
                      f"town_leaders={figures.get('town_leaders', 0)} pairings={figures.get('pairings', 0)} "
                      f"projects={figures.get('projects', 0)} links={figures['links']} rows={sum(rows.values())}. "
                      "Bulk path: written with COPY/INSERT, bypassing the linking services and their audit rows; "
                      "the showcase pairing went through the services on a story clock "
                      f"(request id demo-linking-{seed})."),
            )
    finally:
        middleware._request_id.reset(token)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for model in ORDER:
                if model._meta.app_label == "linking":
                    cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
    return LinkingYearResult(county_id=county.pk, villages=len(data.villages), seconds=time.perf_counter() - started,
                             rows=rows, figures=figures)


def pool_pairing_lists(county: Region, actor) -> int:
    """Give the pairing resource items generated in bulk their entry in the one inventory
    (gongzhi.resources), with what projects hold of them reserved there. Returns how many."""
    from gongzhi.resources import services as inventory
    from gongzhi.resources.models import Resource

    from .services import pool_into_inventory

    pooled = 0
    with transaction.atomic():
        for item in ResourceItem.objects.filter(county_id=county.pk, stock__isnull=True).select_related(
                "pairing__lead_org", "pairing__partner_org", "pairing__region", "pairing__agency_department", "place"):
            pool_into_inventory(actor, item)
            if item.committed:
                inventory.pairing_commit(actor=actor, resource_id=item.stock_id,
                                         quantity=min(item.committed, item.capacity), project_title="结对项目")
            if item.state == ResourceState.WITHDRAWN:
                Resource.objects.filter(pk=item.stock_id).update(availability="retired")
            pooled += 1
    return pooled
