"""A realistic year of village governance for a generated county: ``generate_village_year``.

Run after the registry, the cases and the care classification exist (``gongzhi demo``; see
gongzhi/demo/README.md). For every village of the county it writes:

* the six bodies of 六位一体 with members drawn from the village's registry persons — the branch
  secretary from the party organisation the registry names, the secretary usually also chairing
  the villagers' committee (一肩挑), a supervision committee kept apart from the two committees,
  one villagers' representative for every 5–15 neighbouring households (with the households they
  speak for) — on five-year terms, a few of them ending within 90 days so term warnings show;
* a year of meetings: two-committee, branch, party members', representatives' and (in some
  villages) villagers' meetings with rolls made from the registry as it stood that day, and the
  两说一商 kinds (courtyard 院坝会, council, coordination, heart-to-heart, online) with whoever
  came; realistic attendance (elderly, women, disabled and left-behind residents counted, proxies
  at villagers' meetings, some leaving early) and a few formal meetings short of their quorum,
  where no vote was taken;
* agenda items drawn from the village's real cases (similar cases grouped into one item, as
  ``services.agenda_item_from_cases`` does), from contact records, the two committees and
  residents; votes with one ballot per voter (secret ballots kept apart from the voters);
* major matters through 四议两公开 (most completed, some in progress, a few rejected by a vote,
  an emergency exemption or two explained afterwards), decisions with tasks (most done on time,
  some late, some open or overdue) and their timeline (progress, residents' feedback,
  supervision notes, adjustments, overdue warnings);
* publicity: monthly finance, quarterly assets, resources and subsidy lists (names of the
  recipients, from the registry), decisions and results; a few late or missing, flagged as the
  sweep would; the county's ``PublicityRequirement`` rows;
* power and responsibility lists, a few duties with no owner or with two.

This is a deliberate bulk path, like ``gongzhi.demo.bulk``: the per-row services (one
``full_clean``, scope check, audit row and notification each) would take far too long for 159
villages, and they stamp everything "now". Rows are built in memory per village, already
consistent (cached territory columns, the quorum and vote figures computed by the rules of
``quorum``), given explicit primary keys and written with COPY on PostgreSQL (plain INSERTs
elsewhere) in one transaction, in foreign-key order; the sequences are moved past the ids
afterwards. The run writes one audit row (``AuditAction.GENERATE``). The rows are recorded as
made by one inactive account, ``demo_village_data`` (no password, no role): the demo logins are
created after generation and the models need an author.

Deterministic: each village draws from ``random.Random`` seeded with the run's seed and the
village's code, and every date is computed from ``today`` (default: today), so the same
registry, cases, seed and ``today`` give the same rows.
"""
from __future__ import annotations

import datetime as dt
import json
import random
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.core.management.color import no_style
from django.db import connection, models, transaction
from django.db.models import Max
from django.utils import timezone

from gongzhi.cases.models import Case, CaseEvent
from gongzhi.core.audit import AuditAction, audit_record
from gongzhi.registry.models import (
    Grid, Household, PartyMembership, PartyOrganization, Person, PersonStatus, Region, RegionLevel,
)

from . import quorum as q
from .statistics import CONSULTATION_KINDS, period_slots
from .models import (
    AgendaItem, Attendance, AttendanceStatus, Ballot, BallotKind, Body, BodyKind, BodyMember, Choice, Decision,
    DecisionEntry, DecisionStatus, DecisionTask, Duty, DutyList, DutyListKind, DutyOwner, EntryKind, ItemMode,
    ItemSource, Matter, MatterStatus, MatterStep, Meeting, MeetingKind, MeetingStatus, Poll, PollResult, PollStatus,
    Post, PublicityCategory, PublicityFlag, PublicityItem, PublicityPeriod, PublicityRequirement, PublicityStatus,
    SecretBallot, Supervisor, TaskStatus,
)

K = MeetingKind
GENERATOR_USERNAME = "demo_village_data"
TZ = timezone.get_default_timezone()

# The county's publicity rules the demo installs (category, period, days of grace).
REQUIREMENTS = [
    (PublicityCategory.FINANCE, PublicityPeriod.MONTHLY, 10),
    (PublicityCategory.ASSETS, PublicityPeriod.QUARTERLY, 15),
    (PublicityCategory.RESOURCES, PublicityPeriod.QUARTERLY, 15),
    (PublicityCategory.SUBSIDIES, PublicityPeriod.QUARTERLY, 10),
    (PublicityCategory.DUTIES, PublicityPeriod.YEARLY, 30),
]

# Meetings a village holds in a year: (kind, lowest, highest). The 两说一商 kinds are few — the
# seed's Hanyin counted 500+ consultations in its 159 villages — and the formal ones regular.
FORMAL_PLAN = [(K.TWO_COMMITTEES, 8, 12), (K.BRANCH, 4, 8), (K.PARTY_MEMBERS, 3, 6), (K.REPRESENTATIVES, 3, 6)]
# (kind, probability of holding one, of holding a second, of a third)
CONSULTATION_PLAN = [(K.COURTYARD, 1.0, 0.65, 0.3), (K.VILLAGERS, 0.3, 0.0, 0.0), (K.COUNCIL, 0.45, 0.1, 0.0),
                     (K.COORDINATION, 0.3, 0.05, 0.0), (K.HEART_TO_HEART, 0.3, 0.0, 0.0), (K.ONLINE, 0.3, 0.05, 0.0)]
# Probability that a formal meeting with a quorum falls short of it.
QUORUM_SHORT = {K.REPRESENTATIVES: 0.07, K.PARTY_MEMBERS: 0.06, K.VILLAGERS: 0.1}

EXPLAIN = ["宣讲《村民委员会组织法》和村民自治章程", "解读城乡居民医疗保险缴费政策", "宣讲汛期防灾避险知识",
           "宣讲移风易俗和村规民约", "解读高龄补贴和养老服务政策", "宣讲防范电信网络诈骗知识",
           "解读农村土地承包经营权政策", "宣讲森林防火和野外用火规定", "解读产业奖补和小额信贷政策",
           "宣讲《民法典》婚姻家庭编", "解读低保和临时救助政策", "宣讲禁毒禁赌知识", "解读耕地保护和宅基地政策"]
COMMITTEE_ITEMS = ["维修{g}灌溉水渠", "在村口和{g}安装太阳能路灯", "清理{g}河道垃圾", "修缮村卫生室屋顶",
                   "整治{g}房前屋后环境卫生", "增设垃圾收集点三处", "维修{g}人饮水池", "组织留守老人集中体检",
                   "调整{g}公益性岗位保洁员", "修补通村道路坑洼路段", "为{g}安装健身器材", "设立爱心超市积分兑换点",
                   "更换{g}老化的人饮管道", "维修{g}漫水桥护栏"]
RESIDENT_ITEMS = ["{g}村民反映饮水水压不足", "{g}群众反映通组路雨天泥泞难行", "村民反映广场舞音响夜间扰民",
                  "{g}反映灌溉用水分配不均", "群众反映村内犬只散养", "群众希望在村口增设公交停靠点",
                  "村民反映集体林地边界不清", "{g}反映化粪池外溢", "{g}群众反映路灯损坏", "老年人希望开办老年食堂"]
DISPUTES = ["{g}两户宅基地界址纠纷", "{g}邻里排水沟纠纷", "{g}赡养老人纠纷", "{g}承包地边界纠纷",
            "{g}土地流转租金纠纷"]
ANSWERS = ["已当场答复，并明确由村委会跟进", "两委成员现场解释政策，群众表示理解", "记录在案，提交两委会研究",
           "已联系镇相关站所，一周内答复"]
MATTERS = [
    ("硬化{g}通组道路", "{g}通组道路长约1.2公里，雨天泥泞，拟申请项目资金并由村集体配套硬化", "project"),
    ("修建村级文化广场", "利用村委会旁闲置空地修建文化广场约800平方米，方便群众开展文体活动", "project"),
    ("实施安全饮水巩固提升工程", "新建蓄水池一座、更换主管道3公里，解决高处农户季节性缺水", "project"),
    ("村集体机动地对外流转", "村集体机动地约80亩，拟公开流转发展特色种植，流转期10年", "land"),
    ("{g}土地调整方案", "{g}因修路占地，拟在组内调整承包地，确保被占地农户有地可种", "land"),
    ("村股份经济合作社年度收益分配方案", "集体经营性收入提取公积公益金后，按股向成员分红", "collective"),
    ("集体闲置校舍出租", "原村小学闲置校舍拟公开出租用于香菇加工，租金纳入集体收入", "collective"),
    ("建设村互助幸福院", "改造闲置村部建设互助幸福院，为留守老人提供日间照料", "elderly"),
    ("开办村老年食堂", "为七十岁以上老人提供午餐，村集体补贴部分费用", "elderly"),
    ("发展茶叶种植基地", "引进企业合作发展茶叶种植基地300亩，群众以土地入股", "industry"),
    ("建设香菇大棚产业基地", "建设香菇大棚40个，由合作社统一经营，优先吸纳脱贫户务工", "industry"),
    ("确定年度低保评议推荐名单", "按程序民主评议本年度低保推荐对象，报镇政府审核", "subsidy"),
]
EMERGENCIES = [
    ("抢修山洪冲毁的{g}便桥", "汛期山洪冲毁便桥，群众无法出行，危及安全", "立即组织抢修便桥，先行垫付材料费用",
     "汛期山洪冲毁便桥，危及群众出行安全，须立即抢修"),
    ("紧急排除{g}山体滑坡隐患", "连续降雨致{g}后山出现裂缝，威胁坡下五户群众", "立即转移坡下群众并清理危岩",
     "强降雨引发滑坡险情，危及群众生命安全"),
]
TASKS = ["制定实施方案", "组织施工", "公开招标确定施工队", "筹集配套资金", "组织验收", "张榜公示", "签订合同",
         "上门征求群众意见", "报镇政府备案", "落实管护责任"]
FEEDBACK = ["群众反映施工进度较快，质量满意", "部分群众希望工期避开农忙", "受益群众表示满意",
            "有群众建议增加护栏", "群众对资金使用情况提出询问，已当面解释"]
SUPERVISION = [
    (Supervisor.COMMITTEE, "村务监督委员会现场查看，资金使用与公示一致"),
    (Supervisor.COMMITTEE, "村务监督委员会督促按时限推进"),
    (Supervisor.PARTY, "镇包村领导检查进度，要求按期完成"),
    (Supervisor.ADMINISTRATIVE, "镇农业综合服务站核查工程量"),
    (Supervisor.LEGAL, "法律顾问审查合同条款"),
    (Supervisor.SOCIAL, "群众代表参与验收"),
    (Supervisor.THIRD_PARTY, "第三方评估：群众满意度较高"),
]
SOCIAL_BODIES = ["红白理事会", "村民议事会", "道德评议会", "禁毒禁赌会", "老年协会"]
POWER_DUTIES = [
    ("村级重大事项决策（四议两公开）", "《中国共产党农村基层组织工作条例》", BodyKind.PARTY),
    ("村级财务收支审批", "《村民委员会组织法》第三十条", BodyKind.COMMITTEE),
    ("集体资产资源处置", "《村民委员会组织法》第二十四条", BodyKind.ASSEMBLY),
    ("宅基地申请初审", "《土地管理法》第六十二条", BodyKind.COMMITTEE),
    ("低保、特困等对象民主评议", "《社会救助暂行办法》", BodyKind.ASSEMBLY),
    ("村级工程项目招投标", "村级小微权力清单", BodyKind.COMMITTEE),
    ("集体经济收益分配", "集体经济组织章程", BodyKind.COLLECTIVE),
    ("村务公开监督", "《村民委员会组织法》第三十二条", BodyKind.SUPERVISION),
    ("发展党员推荐", "《中国共产党发展党员工作细则》", BodyKind.PARTY),
]
RESPONSIBILITY_DUTIES = [
    ("组织开展矛盾纠纷排查化解", "《人民调解法》", BodyKind.COMMITTEE),
    ("落实防汛和地质灾害防范责任", "县防汛工作责任制", BodyKind.COMMITTEE),
    ("开展移风易俗宣传", "村规民约", BodyKind.SOCIAL),
    ("管护村级公益设施", "村规民约", BodyKind.COMMITTEE),
    ("落实人居环境整治", "村规民约", BodyKind.COMMITTEE),
    ("组织党员学习教育", "《中国共产党支部工作条例》", BodyKind.PARTY),
    ("监督村级财务", "《村务监督委员会工作规则》", BodyKind.SUPERVISION),
    ("做好留守老人关爱服务", "县关爱服务工作方案", BodyKind.SOCIAL),
    ("经营管理集体资产", "集体经济组织章程", BodyKind.COLLECTIVE),
]
FINANCE_LINES = [("上级转移支付", "income"), ("集体经营收入", "income"), ("村干部报酬", "expense"),
                 ("办公费用", "expense"), ("道路维修", "expense"), ("保洁员工资", "expense"), ("水电费", "expense"),
                 ("项目配套", "expense")]
ASSETS = [("村委会办公楼", "1栋"), ("集体厂房", "2栋"), ("农机具", "3台"), ("光伏电站", "1座"), ("村卫生室", "1处")]
RESOURCES = [("集体机动地", "亩"), ("集体林地", "亩"), ("集体水面", "亩"), ("四荒地", "亩")]

PASSED_MATTER_STATES = (MatterStatus.RESOLVED, MatterStatus.RESOLUTION_PUBLISHED, MatterStatus.RESULT_PUBLISHED)


# ---------------------------------------------------------------------------------------------
# dates


def _aware(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=TZ)


def _age(birth: dt.date, on: dt.date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def _add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


# ---------------------------------------------------------------------------------------------
# the writer: rows with explicit ids, in foreign-key order


def _through(model, name):
    return model._meta.get_field(name).remote_field.through


ORDER: list[type[models.Model]] = [
    PartyOrganization, PartyMembership, Body, BodyMember, _through(BodyMember, "represented_households"), Meeting,
    Matter, _through(Matter, "cases"), AgendaItem, _through(AgendaItem, "cases"), Attendance, Poll, Ballot,
    SecretBallot, Decision, _through(Decision, "cases"), DecisionTask, DecisionEntry, PublicityItem, MatterStep,
    PublicityFlag, PublicityRequirement, DutyList, Duty, DutyOwner, CaseEvent,
]
VILLAGE_MODELS = [m for m in ORDER if m._meta.app_label == "village"]
FLUSH_ROWS = 150_000


class _Rows:
    """Rows per model as tuples in the column order of the model's concrete fields. Main models
    get explicit ids (counting on from the table's highest); M2M rows leave theirs to the
    database."""

    def __init__(self, now: dt.datetime):
        self.now = now
        self.columns: dict = {}
        self.rows: dict = {m: [] for m in ORDER}
        self.next_id: dict = {}
        self.counts: Counter = Counter()
        self.pending = 0
        for model in ORDER:
            auto = model._meta.auto_created
            fields = [f for f in model._meta.concrete_fields if not (auto and f.primary_key)]
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
            if not auto:
                top = model._base_manager.aggregate(top=Max("pk"))["top"] or 0
                self.next_id[model] = top + 1

    def new(self, model, **values) -> int:
        pk = self.next_id[model]
        self.next_id[model] = pk + 1
        values["id"] = pk
        self._add(model, values)
        return pk

    def link(self, model, **values) -> None:
        self._add(model, values)

    def _add(self, model, values: dict) -> None:
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
                row.append(list(value) if isinstance(value, list) else value)
            elif default[0] == "now":
                row.append(self.now)
            else:
                raise KeyError(f"{model._meta.label}.{name} needs a value")
        self.rows[model].append(tuple(row))
        self.counts[model] += 1
        self.pending += 1

    def flush(self) -> None:
        for model in ORDER:
            rows = self.rows[model]
            if rows:
                self._write(model, rows)
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
        statements = connection.ops.sequence_reset_sql(no_style(), [m for m in ORDER if not m._meta.auto_created])
        if statements:
            with connection.cursor() as cursor:
                for sql in statements:
                    cursor.execute(sql)


# ---------------------------------------------------------------------------------------------
# what the registry and the cases hold, read once per county


@dataclass
class _P:
    id: int
    household_id: int | None
    birth: dt.date
    woman: bool
    disabled: bool
    left_behind: bool
    relation: str
    name: str
    phone: bool
    group_id: int | None


@dataclass
class _VillageData:
    region: dict
    persons: list = field(default_factory=list)
    households: list = field(default_factory=list)  # (id, grid_id, group_id, poverty)
    grids: list = field(default_factory=list)  # basic grid ids
    grid_group: dict = field(default_factory=dict)  # basic grid id → its villager group's region id
    groups: dict = field(default_factory=dict)  # region id → short name (一组)
    top_org: int | None = None
    secretary_id: int | None = None
    party: list = field(default_factory=list)  # (person id, joined_on, probationary)
    cases: list = field(default_factory=list)  # dicts
    contacts: list = field(default_factory=list)  # (id, household_id, heard, at)


def _load(county: Region, start: dt.datetime, cases_per_village: int = 80) -> list[_VillageData]:
    villages = {}
    for row in (Region.objects.filter(county_id=county.pk, level=RegionLevel.VILLAGE)
                .order_by("code").values("id", "code", "name", "kind", "town_id", "county_id")):
        villages[row["id"]] = _VillageData(region=row)
    for region_id, village_id, name in (Region.objects.filter(county_id=county.pk, level=4)
                                        .values_list("id", "village_id", "name")):
        v = villages.get(village_id)
        if v is not None:
            v.groups[region_id] = name.removeprefix(v.region["name"])
    for pk, village_id, grid_id, region_id, poverty in (Household.objects.filter(county_id=county.pk)
                                                        .order_by("pk").values_list("pk", "village_id", "grid_id",
                                                                                     "region_id", "poverty_status")):
        if village_id in villages:
            villages[village_id].households.append((pk, grid_id, region_id, poverty))
    persons = (Person.objects.filter(county_id=county.pk, status=PersonStatus.ACTIVE).order_by("pk")
               .values_list("pk", "village_id", "household_id", "birth_date", "sex", "disability_grade",
                            "left_behind", "relation", "name", "phone", "region_id"))
    for pk, village_id, household_id, birth, sex, grade, left, relation, name, phone, region_id in \
            persons.iterator(chunk_size=20_000):
        v = villages.get(village_id)
        if v is not None:
            v.persons.append(_P(pk, household_id, birth, sex == "F", grade is not None, bool(left), relation or "",
                                name, bool(phone), region_id))
    parents = set(Grid.objects.filter(county_id=county.pk, parent__isnull=False).values_list("parent_id", flat=True))
    for pk, village_id, region_id in (Grid.objects.filter(county_id=county.pk).order_by("code")
                                      .values_list("pk", "village_id", "region_id")):
        if pk not in parents and village_id in villages:
            villages[village_id].grids.append(pk)
            villages[village_id].grid_group[pk] = region_id
    for pk, village_id, region_id, secretary_id in (PartyOrganization.objects.filter(county_id=county.pk,
                                                                                     village_id__isnull=False)
                                                    .order_by("pk").values_list("pk", "village_id", "region_id",
                                                                                "secretary_id")):
        v = villages.get(village_id)
        if v is not None and region_id == village_id and v.top_org is None:
            v.top_org, v.secretary_id = pk, secretary_id
    for person_id, village_id, joined, probationary in (
            PartyMembership.objects.filter(organization__village_id__in=list(villages), ended_on__isnull=True,
                                           person__status=PersonStatus.ACTIVE)
            .order_by("pk").values_list("person_id", "organization__village_id", "joined_on", "is_probationary")):
        villages[village_id].party.append((person_id, joined, probationary))
    taken: Counter = Counter()
    for row in (Case.objects.filter(county_id=county.pk, received_at__gte=start).order_by("received_at", "pk")
                .values("id", "village_id", "title", "number", "status", "received_at", "closed_at", "requester_id")
                .iterator(chunk_size=20_000)):
        v = villages.get(row["village_id"])
        if v is not None and taken[row["village_id"]] < cases_per_village:
            taken[row["village_id"]] += 1
            v.cases.append(row)
    try:
        from gongzhi.care.models import ContactRecord

        for pk, village_id, household_id, heard, at in (
                ContactRecord.objects.filter(county_id=county.pk, needs_action=True, contacted_at__gte=start)
                .order_by("contacted_at", "pk").values_list("pk", "village_id", "household_id", "heard",
                                                            "contacted_at")[:20_000]):
            v = villages.get(village_id)
            if v is not None and len(v.contacts) < 5:
                v.contacts.append((pk, household_id, heard, at))
    except LookupError:  # pragma: no cover - care is always installed
        pass
    return list(villages.values())


def showcase_village(county: Region) -> int | None:
    """The village the demo's ``village`` login works in (``gongzhi.demo.logins`` picks it the
    same way: the first town, not a subdistrict, its first village, else its first community).
    It gets at least one of everything worth showing."""
    towns = sorted(Region.objects.filter(level=RegionLevel.TOWN, parent=county), key=lambda r: (r.kind == "subdistrict",
                                                                                               r.code))
    if not towns:
        return None
    villages = Region.objects.filter(level=RegionLevel.VILLAGE, parent=towns[0]).order_by("code")
    village = villages.filter(kind="village").first() or villages.first()
    return village.pk if village else None


# ---------------------------------------------------------------------------------------------
# one village


@dataclass
class _Meeting:
    kind: str
    at: dt.datetime
    short: bool = False  # falls short of its quorum
    grid_id: int | None = None
    items: list = field(default_factory=list)  # _Item
    id: int | None = None
    voters: list = field(default_factory=list)  # attendance ids that vote (fixed when a vote opens)
    came: list = field(default_factory=list)  # person ids who came
    quorum_met: bool | None = None
    quorum_text: str = ""


@dataclass
class _Item:
    title: str
    mode: str
    source: str
    description: str = ""
    cases: list = field(default_factory=list)  # case dicts
    matter: _Matter | None = None
    step: str = ""  # the 四议两公开 step this item is for
    decide: bool = False  # an ordinary item to be decided by a vote
    contact_id: int | None = None
    proposer_id: int | None = None


@dataclass
class _Matter:
    title: str
    description: str
    topic: str
    cases: list = field(default_factory=list)
    reject_at: str = ""  # review | resolve: the vote that does not pass
    emergency: tuple | None = None
    id: int | None = None
    status: str = MatterStatus.DRAFT
    steps: list = field(default_factory=list)  # (step, from, to, meeting id, poll id, publicity id, at, note)
    created: dt.datetime | None = None


class _Village:
    def __init__(self, gen: _Generation, data: _VillageData, showcase: bool):
        self.gen, self.data, self.showcase = gen, data, showcase
        self.out = gen.out
        region = data.region
        self.rng = random.Random(f"{gen.seed}:village:{region['code']}")
        self.region_id = region["id"]
        self.name = region["name"]
        self.territory = {"county_id": region["county_id"], "town_id": region["town_id"], "village_id": region["id"]}
        self.today, self.start = gen.today, gen.start
        self.user = gen.user_id
        self.persons = {p.id: p for p in data.persons}
        self.adults_now = [p for p in data.persons if _age(p.birth, self.today) >= 18]
        self.by_household: dict[int, list[_P]] = defaultdict(list)
        for p in data.persons:
            if p.household_id:
                self.by_household[p.household_id].append(p)
        self.live_households = sum(1 for members in self.by_household.values() if members)
        self.stats: Counter = Counter()

    # -- helpers
    def group_name(self, region_id=None) -> str:
        groups = self.data.groups
        if region_id in groups:
            return groups[region_id]
        if groups:
            return self.rng.choice(sorted(groups.items()))[1]
        return "一组"

    def pick(self, pool, n):
        pool = list(pool)
        return self.rng.sample(pool, min(n, len(pool)))

    def new(self, model, **values) -> int:
        return self.out.new(model, **{**self.territory, **values})

    def link(self, model, **values) -> None:
        self.out.link(model, **values)

    def facts(self, p: _P, on: dt.date) -> dict:
        return {"is_elderly": _age(p.birth, on) >= self.gen.conf.elderly_age, "is_woman": p.woman,
                "is_disabled": p.disabled, "is_left_behind": p.left_behind}

    # -- the year
    def build(self) -> None:
        if not self.adults_now:
            return
        self.bodies()
        self.meetings = self.plan_meetings()
        self.matters = self.plan_matters()
        self.plan_items()
        for meeting in sorted(self.meetings, key=lambda m: m.at):
            self.hold(meeting)
        self.finish_matters()
        self.upcoming()
        self.waiting_items()
        self.publicity()
        self.duty_lists()

    # -- 六位一体
    def bodies(self) -> None:
        rng, today = self.rng, self.today
        adults = self.adults_now
        party_ids = {pid for pid, _j, probationary in self.data.party if not probationary}
        if len(party_ids) < 5:
            self.party_members_from_registry_gap(party_ids)
        age = lambda p: _age(p.birth, today)
        cadres = [self.persons[pid] for pid in sorted(party_ids)
                  if pid in self.persons and 28 <= age(self.persons[pid]) <= 62]
        rng.shuffle(cadres)
        if self.showcase or rng.random() < 0.07:
            term_end = today + dt.timedelta(days=rng.randint(20, 80))
            term_start = _add_years(term_end, -5)
        else:
            term_start = today - dt.timedelta(days=rng.randint(420, 1700))
            term_end = _add_years(term_start, 5)
        self.term_start = term_start
        secretary = self.persons.get(self.data.secretary_id) or (cadres[0] if cadres else rng.choice(adults))
        cadres = [p for p in cadres if p.id != secretary.id]
        used: set[int] = {secretary.id}

        def take(pool, n, *, prefer=None):
            chosen = []
            pool = [p for p in pool if p.id not in used]
            rng.shuffle(pool)
            if prefer:
                pool.sort(key=lambda p: not prefer(p))
            for p in pool[:n]:
                used.add(p.id)
                chosen.append(p)
            return chosen

        working = [p for p in adults if 25 <= age(p) <= 62]
        self.body = {}
        self.members: dict[str, list[tuple[_P, str, dt.date, dt.date | None]]] = defaultdict(list)
        name = self.name

        def body(kind, title, *, end=term_end, org=None):
            pk = self.new(Body, region_id=self.region_id, kind=kind, name=f"{name}{title}", party_organization_id=org,
                          term_start=term_start, term_end=end, created_at=_aware(term_start, 9))
            self.body.setdefault(kind, pk)
            return pk

        def member(body_pk, kind, p, post, started=None, ended=None, reason=""):
            started = started or term_start
            pk = self.new(BodyMember, body_id=body_pk, person_id=p.id, post=post, household_id=p.household_id,
                          started_on=started, ended_on=ended, end_reason=reason)
            self.members[kind].append((p, post, started, ended))
            self.stats["members"] += 1
            return pk

        party_body = body(BodyKind.PARTY, "党支部委员会" if self.data.region["kind"] == "village" else "党委",
                          org=self.data.top_org)
        member(party_body, BodyKind.PARTY, secretary, Post.SECRETARY)
        for p in take(cadres, 1 if rng.random() < 0.5 else 0):
            member(party_body, BodyKind.PARTY, p, Post.DEPUTY_SECRETARY)
        for p in take(cadres or working, rng.randint(1, 3)):
            member(party_body, BodyKind.PARTY, p, Post.MEMBER)

        committee = body(BodyKind.COMMITTEE, "村民委员会" if self.data.region["kind"] == "village" else "居民委员会")
        chair = secretary if rng.random() < 0.85 else (take(cadres or working, 1) or [secretary])[0]
        member(committee, BodyKind.COMMITTEE, chair, Post.CHAIR)
        party_posts = {p.id for p, *_ in self.members[BodyKind.PARTY]}
        committee_pool = [p for p in working if p.id not in party_posts or p.id == chair.id]
        if rng.random() < 0.4:
            for p in take(committee_pool, 1):
                member(committee, BodyKind.COMMITTEE, p, Post.VICE_CHAIR)
        for p in take(committee_pool, 1):
            member(committee, BodyKind.COMMITTEE, p, Post.ACCOUNTANT)
        for p in take(committee_pool, 1, prefer=lambda p: p.woman):  # 妇女委员
            member(committee, BodyKind.COMMITTEE, p, Post.MEMBER)
        members_now = take(committee_pool, rng.randint(1, 2))
        leaves = bool(members_now) and (self.showcase or rng.random() < 0.25)
        for i, p in enumerate(members_now):
            if i == 0 and leaves:
                # One member left mid-term (外出务工), a new one elected in their place.
                ended = self.start + dt.timedelta(days=rng.randint(60, 250))
                member(committee, BodyKind.COMMITTEE, p, Post.MEMBER, ended=ended, reason="外出务工，辞去委员职务")
                for new in take(committee_pool, 1):
                    member(committee, BodyKind.COMMITTEE, new, Post.MEMBER, started=ended)
            else:
                member(committee, BodyKind.COMMITTEE, p, Post.MEMBER)

        two_committees = {p.id for kind in (BodyKind.PARTY, BodyKind.COMMITTEE) for p, *_ in self.members[kind]}
        supervision = body(BodyKind.SUPERVISION, "村务监督委员会")
        pool = [p for p in adults if 30 <= age(p) <= 70 and p.id not in two_committees]
        for i, p in enumerate(take(pool, rng.randint(3, 5))):
            member(supervision, BodyKind.SUPERVISION, p, Post.CHAIR if i == 0 else Post.MEMBER)

        collective = body(BodyKind.COLLECTIVE, "股份经济合作社")
        lead = secretary if rng.random() < 0.7 else chair
        member(collective, BodyKind.COLLECTIVE, lead, Post.CHAIR)
        for p in take(working, rng.randint(2, 3)):
            member(collective, BodyKind.COLLECTIVE, p, Post.MEMBER)

        for title in self.pick(SOCIAL_BODIES, 1 if rng.random() < 0.5 else 2):
            social = body(BodyKind.SOCIAL, title, end=None)
            elders = [p for p in adults if 50 <= age(p) <= 78]
            for i, p in enumerate(take(elders or adults, rng.randint(3, 5))):
                member(social, BodyKind.SOCIAL, p, Post.CHAIR if i == 0 else Post.MEMBER)

        # 村民代表会议: the committee's members, and one representative for every 5-15 neighbouring
        # households (a woman in about a third of them), with the households each speaks for.
        assembly = body(BodyKind.ASSEMBLY, "村民代表会议")
        for p, post, started, ended in list(self.members[BodyKind.COMMITTEE]):
            if ended is None:
                member(assembly, BodyKind.ASSEMBLY, p, Post.MEMBER, started=started)
        households = sorted(self.data.households, key=lambda h: (h[2] or 0, h[0]))
        in_assembly = {p.id for p, *_ in self.members[BodyKind.ASSEMBLY]}
        i = 0
        while i < len(households):
            size = rng.randint(5, 15)
            chunk = households[i:i + size]
            i += size
            residents = [p for h in chunk for p in self.by_household.get(h[0], ())
                         if 25 <= age(p) <= 75 and p.id not in in_assembly]
            if not residents:
                continue
            women = [p for p in residents if p.woman]
            heads = [p for p in residents if p.relation == "head"]
            rep = rng.choice(women if women and rng.random() < 0.35 else heads or residents)
            in_assembly.add(rep.id)
            used.add(rep.id)
            pk = member(assembly, BodyKind.ASSEMBLY, rep, Post.REPRESENTATIVE)
            for h in chunk:
                self.link(_through(BodyMember, "represented_households"), bodymember_id=pk, household_id=h[0])
        self.stats["representatives"] += sum(1 for _p, post, *_ in self.members[BodyKind.ASSEMBLY]
                                             if post == Post.REPRESENTATIVE)
        self.secretary, self.chair = secretary, chair

    def party_members_from_registry_gap(self, party_ids: set[int]) -> None:
        """A village whose registry lists (almost) no party members: a few are registered, as the
        town would, so its branch can meet."""
        today = self.today
        candidates = [p for p in self.adults_now if 30 <= _age(p.birth, today) <= 65 and p.id not in party_ids]
        if self.data.top_org is None:
            self.data.top_org = self.new(PartyOrganization, name=f"中共{self.name}支部委员会", kind="branch",
                                         region_id=self.region_id)
        for p in self.pick(candidates, 5 - len(party_ids)):
            joined = dt.date(self.rng.randint(1985, 2018), self.rng.randint(1, 12), 1)
            self.new(PartyMembership, person_id=p.id, organization_id=self.data.top_org, joined_on=joined,
                     is_probationary=False, in_service=False)
            self.data.party.append((p.id, joined, False))
            party_ids.add(p.id)

    def members_on(self, kinds, day: dt.date) -> list[_P]:
        seen, out = set(), []
        for kind in kinds:
            for p, _post, started, ended in self.members[kind]:
                if started <= day and (ended is None or ended > day) and p.id not in seen:
                    seen.add(p.id)
                    out.append(p)
        return out

    # -- the year's calendar
    def plan_meetings(self) -> list[_Meeting]:
        rng = self.rng
        meetings = []
        days = (self.today - self.start).days

        def spread(kind, n, hours):
            for i in range(n):
                day = self.start + dt.timedelta(days=int((i + rng.uniform(0.1, 0.9)) * days / n))
                if day >= self.today:
                    day = self.today - dt.timedelta(days=1)
                hour = rng.choice(hours)
                meetings.append(_Meeting(kind=kind, at=_aware(day, hour, rng.choice([0, 30]))))

        for kind, low, high in FORMAL_PLAN:
            spread(kind, rng.randint(low, high), [9, 14, 15])
        for kind, *chances in CONSULTATION_PLAN:
            n = 0
            for chance in chances:
                if rng.random() < chance:
                    n += 1
                else:
                    break
            if kind == K.VILLAGERS and self.showcase:
                n = max(n, 1)
            spread(kind, n, [19, 20] if kind in (K.COURTYARD, K.ONLINE) else [9, 14, 15])
        for m in meetings:
            if m.kind in QUORUM_SHORT and rng.random() < QUORUM_SHORT[m.kind]:
                m.short = True
            if m.kind == K.COURTYARD and self.data.grids:
                m.grid_id = rng.choice(self.data.grids)
        if self.showcase:  # one representatives' meeting short of its quorum, in the first half of the year
            reps = sorted((m for m in meetings if m.kind == K.REPRESENTATIVES), key=lambda m: m.at)
            if reps:
                reps[0].short = True
                for m in reps[1:]:
                    m.short = False
        return meetings

    def next_meeting(self, kinds, after: dt.datetime, item: _Item | None = None) -> _Meeting | None:
        """The first meeting of ``kinds`` after ``after`` with its quorum; a meeting short of it on
        the way gets the item on its agenda all the same (the vote is refused there)."""
        for m in sorted((m for m in self.meetings if m.kind in kinds and m.at > after), key=lambda m: m.at):
            if m.short:
                if item is not None:
                    m.items.append(_Item(title=item.title, mode=item.mode, source=item.source, matter=item.matter,
                                         description=item.description, decide=True))
                continue
            return m
        return None

    def plan_matters(self) -> list[_Matter]:
        rng, gname = self.rng, self.group_name
        matters = []
        n = rng.randint(2, 3) + (1 if self.showcase else 0)
        clusters = self.case_clusters()
        for i, (title, description, topic) in enumerate(self.pick(MATTERS, n)):
            g = gname()
            matter = _Matter(title=title.format(g=g), description=description.format(g=g), topic=topic)
            if topic == "project" and clusters and rng.random() < 0.5:
                matter.cases = clusters.pop(0)
            roll = rng.random()
            if (self.showcase and i == 0) or roll < 0.05:
                matter.reject_at = "review"
            elif roll < 0.10:
                matter.reject_at = "resolve"
            matters.append(matter)
        if self.showcase or rng.random() < 0.04:
            title, description, content, reason = rng.choice(EMERGENCIES)
            g = gname()
            matters.append(_Matter(title=title.format(g=g), description=description.format(g=g), topic="project",
                                   emergency=(content, reason)))
        self.remaining_clusters = clusters
        # The path through the year's meetings.
        for matter in matters:
            if matter.emergency:
                continue
            # Most matters start early enough to go the whole way within the year; a few late.
            at = _aware(self.start + dt.timedelta(days=rng.randint(5, 200) if rng.random() < 0.8 else
                                                  rng.randint(200, 330)), 8)
            matter.created = at - dt.timedelta(days=rng.randint(1, 10))
            chain = [("propose", (K.BRANCH, K.TWO_COMMITTEES)), ("discuss", (K.TWO_COMMITTEES,)),
                     ("review", (K.PARTY_MEMBERS,)),
                     ("resolve", (K.VILLAGERS, K.REPRESENTATIVES) if rng.random() < 0.15 else (K.REPRESENTATIVES,))]
            for step, kinds in chain:
                item = _Item(title=matter.title, mode=ItemMode.DECIDE, source=ItemSource.MATTER, matter=matter,
                             step=step, description=matter.description)
                if step == "propose" and matter.cases:
                    item.source, item.cases = ItemSource.CASES, matter.cases
                meeting = self.next_meeting(kinds, at, item)
                if meeting is None:
                    break
                meeting.items.append(item)
                at = meeting.at
                if matter.reject_at == step:
                    break
        return matters

    def case_clusters(self) -> list[list[dict]]:
        """The village's cases of the year, similar ones (the same matter raised by several
        residents) grouped, the biggest groups first."""
        groups: dict[str, list[dict]] = {}
        for case in self.data.cases:
            groups.setdefault(case["title"], []).append(case)
        clusters = []
        for cases in groups.values():
            for start in range(0, len(cases), 4):  # at most four cases to one item
                clusters.append(cases[start:start + 4])
        self.rng.shuffle(clusters)
        clusters.sort(key=lambda c: -len(c))
        return clusters

    def plan_items(self) -> None:
        rng, gname = self.rng, self.group_name
        held = sorted(self.meetings, key=lambda m: m.at)
        # Residents' cases to the agenda: each group of similar cases becomes one item at the first
        # suitable meeting after the last of them came in.
        clusters = self.remaining_clusters[:rng.randint(3, 6) + (2 if self.showcase else 0)]
        self.waiting = []
        for cases in clusters:
            after = max(c["received_at"] for c in cases) + dt.timedelta(days=rng.randint(2, 20))
            kinds = (K.COURTYARD, K.TWO_COMMITTEES, K.COUNCIL, K.HEART_TO_HEART, K.ONLINE, K.REPRESENTATIVES,
                     K.VILLAGERS)
            title = cases[0]["title"] if len(cases) == 1 else f"{cases[0]['title']}等{len(cases)}件群众诉求"
            description = "\n".join(f"{c['number'] or '待编号'}：{c['title']}" for c in cases)
            decide = rng.random() < 0.75
            item = _Item(title=title[:200], mode=ItemMode.DECIDE if decide else ItemMode.SPEAK, source=ItemSource.CASES,
                         cases=cases, description=description, decide=decide)
            meeting = self.next_meeting(kinds, after)
            if meeting is None:
                self.waiting.append(item)
            else:
                meeting.items.append(item)
        contacts = list(self.data.contacts)
        for m in held:
            kind = m.kind
            if kind == K.BRANCH:
                if rng.random() < 0.4:
                    m.items.append(_Item(title="研究发展党员和党员教育管理工作", mode=ItemMode.EXPLAIN,
                                         source=ItemSource.COMMITTEES))
                continue
            explain_chance = {K.VILLAGERS: 0.9, K.COURTYARD: 0.7, K.PARTY_MEMBERS: 0.8, K.ONLINE: 0.5,
                              K.HEART_TO_HEART: 0.3, K.REPRESENTATIVES: 0.4, K.TWO_COMMITTEES: 0.3}.get(kind, 0.1)
            if rng.random() < explain_chance:
                m.items.insert(0, _Item(title=rng.choice(EXPLAIN), mode=ItemMode.EXPLAIN, source=ItemSource.COMMITTEES))
            if kind == K.TWO_COMMITTEES:
                for _ in range(rng.choice([0, 1, 1, 1, 2])):
                    m.items.append(_Item(title=rng.choice(COMMITTEE_ITEMS).format(g=gname()), mode=ItemMode.DECIDE,
                                         source=ItemSource.COMMITTEES, decide=True))
            elif kind == K.REPRESENTATIVES and rng.random() < 0.3:
                m.items.append(_Item(title=rng.choice(COMMITTEE_ITEMS).format(g=gname()), mode=ItemMode.DECIDE,
                                     source=ItemSource.COMMITTEES, decide=True))
            elif kind in (K.COURTYARD, K.HEART_TO_HEART, K.ONLINE, K.VILLAGERS, K.COUNCIL):
                speak = rng.randint(1, 2) if kind != K.COUNCIL else rng.randint(0, 1)
                for _ in range(speak):
                    item = _Item(title=rng.choice(RESIDENT_ITEMS).format(g=gname(self._grid_group(m))),
                                 mode=ItemMode.SPEAK, source=ItemSource.RESIDENT, decide=rng.random() < 0.45)
                    if contacts and rng.random() < 0.5:
                        pk, _household, heard, at = contacts.pop(0)
                        if at < m.at:
                            item.source, item.contact_id = ItemSource.CONTACT, pk
                            item.title, item.description = f"走访中群众反映：{heard[:40]}", heard
                    m.items.append(item)
                if kind in (K.COUNCIL, K.VILLAGERS) or rng.random() < 0.3:
                    m.items.append(_Item(title=rng.choice(COMMITTEE_ITEMS).format(g=gname()), mode=ItemMode.DECIDE,
                                         source=ItemSource.COMMITTEES, decide=True))
            elif kind == K.COORDINATION:
                m.items.append(_Item(title=rng.choice(DISPUTES).format(g=gname()), mode=ItemMode.DECIDE,
                                     source=ItemSource.RESIDENT, decide=True))

    def _grid_group(self, meeting: _Meeting):
        return self.data.grid_group.get(meeting.grid_id)

    # -- holding a meeting
    def roll(self, m: _Meeting) -> list[_P]:
        day = m.at.date()
        if m.kind == K.VILLAGERS:
            return [p for p in self.data.persons if _age(p.birth, day) >= self.gen.conf.adult_age]
        if m.kind == K.REPRESENTATIVES:
            return self.members_on([BodyKind.ASSEMBLY], day)
        if m.kind == K.BRANCH:
            return self.members_on([BodyKind.PARTY], day)
        if m.kind == K.TWO_COMMITTEES:
            return self.members_on([BodyKind.PARTY, BodyKind.COMMITTEE], day)
        if m.kind == K.PARTY_MEMBERS:
            return [self.persons[pid] for pid, joined, probationary in self.data.party
                    if not probationary and pid in self.persons and (joined is None or joined <= day)]
        return []

    def open_crowd(self, m: _Meeting) -> list[_P]:
        rng, day = self.rng, m.at.date()
        adults = [p for p in self.data.persons if _age(p.birth, day) >= 18]
        if m.kind == K.COURTYARD:
            households = [h[0] for h in self.data.households if h[1] == m.grid_id] or [h[0] for h in
                                                                                       self.data.households]
            crowd = []
            for h in households:
                members = [p for p in self.by_household.get(h, ()) if _age(p.birth, day) >= 16]
                if members and rng.random() < 0.55:
                    # At home in the evening: the elderly and the women who stayed (留守) come most.
                    members.sort(key=lambda p: -(_age(p.birth, day) >= 60) - p.woman - rng.random())
                    crowd += members[:1 if rng.random() < 0.8 else 2]
            return crowd[:60] or self.pick(adults, 15)
        if m.kind == K.COUNCIL:
            social = self.members_on([BodyKind.SOCIAL], day)
            cadres = self.members_on([BodyKind.COMMITTEE], day)
            return list({p.id: p for p in social + cadres + self.pick(adults, rng.randint(3, 8))}.values())
        if m.kind == K.COORDINATION:
            cadres = self.members_on([BodyKind.COMMITTEE, BodyKind.SUPERVISION], day)[:4]
            return list({p.id: p for p in cadres + self.pick(adults, rng.randint(3, 7))}.values())
        if m.kind == K.HEART_TO_HEART:
            elders = [p for p in adults if _age(p.birth, day) >= 55]
            return self.pick(elders or adults, rng.randint(10, 25))
        # online: those with a phone, younger
        online = [p for p in adults if p.phone and _age(p.birth, day) <= 60]
        return self.pick(online or adults, rng.randint(15, 50))

    def hold(self, m: _Meeting) -> None:
        rng = self.rng
        day = m.at.date()
        formal = m.kind in q.FORMAL_KINDS
        entitled = self.roll(m) if formal else []
        statuses: dict[int, tuple[str, int | None]] = {}  # person id → (status, proxy person id)
        if formal:
            if not entitled:
                return
            statuses, quorum = self.attend(m, entitled)
        else:
            crowd = self.open_crowd(m)
            for p in crowd:
                statuses[p.id] = (AttendanceStatus.LEFT if rng.random() < 0.04 else AttendanceStatus.PRESENT, None)
            quorum = q.Quorum(required=False, parts=())
        came = [pid for pid, (s, _) in statuses.items() if s != AttendanceStatus.ABSENT]
        m.came = came
        m.quorum_met = quorum.met if quorum.required else None
        m.quorum_text = quorum.explain()[:300]
        # A meeting is called by notice (formal) a few days before and runs about two hours.
        place = {K.COURTYARD: f"{self.group_name(self._grid_group(m))}院坝",
                 K.ONLINE: "村民微信群（线上）"}.get(m.kind, "村党群服务中心会议室")
        m.id = self.new(Meeting, region_id=self.region_id, kind=m.kind,
                        title=self.meeting_title(m), scheduled_at=m.at, place=place, grid_id=m.grid_id,
                        status=MeetingStatus.CLOSED,
                        notice_sent_at=m.at - dt.timedelta(days=rng.randint(2, 5)) if formal else None,
                        opened_at=m.at, closed_at=m.at + dt.timedelta(minutes=rng.randint(70, 180)),
                        minutes=self.minutes(m), entitled_count=len(entitled), present_count=len(came),
                        quorum_met=m.quorum_met, quorum_text=m.quorum_text, convened_by_id=self.user,
                        created_at=m.at - dt.timedelta(days=rng.randint(5, 12)))
        self.stats["meetings"] += 1
        self.stats[f"held:{m.kind}"] += 1
        if m.quorum_met is False:
            self.stats["quorum_failures"] += 1
        attendance_of: dict[int, int] = {}
        people = {p.id: p for p in entitled}
        if not formal:
            people.update({pid: self.persons[pid] for pid in statuses})
        vote_statuses = {AttendanceStatus.PRESENT, AttendanceStatus.LEFT}
        if m.kind == K.VILLAGERS:
            vote_statuses.add(AttendanceStatus.PROXY)
        voters = []
        for pid, p in people.items():
            status, proxy = statuses.get(pid, (AttendanceStatus.ABSENT, None))
            pk = self.new(Attendance, meeting_id=m.id, person_id=pid, household_id=p.household_id, entitled=formal,
                          status=status, proxy_id=proxy,
                          marked_at=m.at + dt.timedelta(minutes=rng.randint(-20, 10)) if status != "absent" else None,
                          **self.facts(p, day))
            attendance_of[pid] = pk
            if status in vote_statuses:
                voters.append(pk)
        # LEFT: they voted and left afterwards (the quorum at the close does not count them).
        m.voters = voters
        for order, item in enumerate(m.items, start=1):
            self.item(m, item, order)

    def attend(self, m: _Meeting, entitled: list[_P]):
        """Who came to a formal meeting, and its quorum computed by the rules of ``quorum``."""
        rng = self.rng
        conf = self.gen.conf
        statuses: dict[int, tuple[str, int | None]] = {}
        if m.kind == K.VILLAGERS:
            by_household = defaultdict(list)
            for p in entitled:
                by_household[p.household_id].append(p)
            households = sorted(by_household, key=lambda h: (h is None, h or 0))
            share = rng.uniform(0.3, 0.58) if m.short else rng.uniform(0.72, 0.88)
            for h in households:
                members = by_household[h]
                rng.shuffle(members)
                if rng.random() < share:
                    statuses[members[0].id] = (AttendanceStatus.PRESENT, None)
                    for other in members[1:]:
                        roll = rng.random()
                        if roll < 0.2:
                            statuses[other.id] = (AttendanceStatus.PRESENT, None)
                        elif roll < 0.3:  # authorised a member of the household to act for them
                            statuses[other.id] = (AttendanceStatus.PROXY, members[0].id)
            present = [pid for pid, (s, _) in statuses.items() if s == AttendanceStatus.PRESENT]
            for pid in self.pick(present, max(0, min(3, len(present) // 30))):
                statuses[pid] = (AttendanceStatus.LEFT, None)
            quorum = self._quorum_villagers(m, entitled, statuses)
            if not m.short:
                # Top up until the households' quorum holds (the meeting waited for latecomers).
                missing = [h for h in households if not any(statuses.get(p.id, ("absent",))[0] in
                                                            ("present", "proxy") for p in by_household[h])]
                while not quorum.met and missing:
                    h = missing.pop()
                    statuses[by_household[h][0].id] = (AttendanceStatus.PRESENT, None)
                    quorum = self._quorum_villagers(m, entitled, statuses)
            return statuses, quorum
        threshold = q.Threshold.parse({K.REPRESENTATIVES: conf.representatives, K.PARTY_MEMBERS: conf.party_members,
                                       K.BRANCH: conf.committees, K.TWO_COMMITTEES: conf.committees}[m.kind])
        total = len(entitled)
        needed = threshold.needed(total)
        share = {K.TWO_COMMITTEES: (0.8, 1.0), K.BRANCH: (0.8, 1.0), K.REPRESENTATIVES: (0.68, 0.95),
                 K.PARTY_MEMBERS: (0.56, 0.9)}[m.kind]
        n = round(total * rng.uniform(*share))
        if m.short:
            n = max(0, min(n, needed - rng.randint(1, 3)))
        else:
            n = min(total, max(n, needed))
        came = self.pick(entitled, n)
        left = 0
        if not m.short and n > needed:
            left = min(rng.choice([0, 0, 0, 1, 2]), n - needed)
        for i, p in enumerate(came):
            statuses[p.id] = (AttendanceStatus.LEFT if i < left else AttendanceStatus.PRESENT, None)
        present = n - left
        quorum = q.Quorum(required=True, parts=(q.QuorumPart(what="members", threshold=threshold, present=present,
                                                            total=total),))
        return statuses, quorum

    def _quorum_villagers(self, m, entitled, statuses) -> q.Quorum:
        conf = self.gen.conf
        adults_present = sum(1 for s, _ in statuses.values() if s == AttendanceStatus.PRESENT)
        represented = {self.persons[pid].household_id for pid, (s, _) in statuses.items()
                       if s in (AttendanceStatus.PRESENT, AttendanceStatus.PROXY) and self.persons[pid].household_id}
        return q.Quorum(required=True, parts=(
            q.QuorumPart(what="adults", threshold=q.Threshold.parse(conf.villagers_adults), present=adults_present,
                         total=len(entitled)),
            q.QuorumPart(what="households", threshold=q.Threshold.parse(conf.villagers_households),
                         present=len(represented), total=self.live_households)))

    def meeting_title(self, m: _Meeting) -> str:
        month = f"{m.at.month}月"
        return {
            K.TWO_COMMITTEES: f"{month}两委会", K.BRANCH: f"{month}支委会", K.PARTY_MEMBERS: f"{month}党员大会（主题党日）",
            K.REPRESENTATIVES: f"{month}村民代表会议", K.VILLAGERS: f"{m.at.year}年村民会议",
            K.COURTYARD: f"{self.group_name(self._grid_group(m))}院坝会", K.COUNCIL: "村民议事会议事", K.COORDINATION: "矛盾纠纷协调会",
            K.HEART_TO_HEART: "群众恳谈会", K.ONLINE: "线上议事",
        }[m.kind]

    def minutes(self, m: _Meeting) -> str:
        points = "；".join(i.title for i in m.items[:5])
        return f"会议议题：{points}。" if points else "通报近期工作。"

    # -- an agenda item and what came of it
    def item(self, m: _Meeting, item: _Item, order: int) -> None:
        rng = self.rng
        matter = item.matter
        if matter is not None and matter.id is None:
            self.create_matter(matter)
        outcome = ""
        can_vote = m.quorum_met is not False and bool(m.voters)
        if not can_vote and (item.decide or item.step in ("review", "resolve")):
            outcome = "未达到法定人数，不能表决，改期再议" if m.quorum_met is False else "到会人数不足，改期再议"
        elif item.mode == ItemMode.EXPLAIN:
            outcome = "已宣讲，群众提问已当场解答"
        elif item.mode == ItemMode.SPEAK and not item.decide:
            outcome = rng.choice(ANSWERS)
        proposer = None
        if item.source == ItemSource.RESIDENT and m.came:
            proposer = rng.choice(m.came)
        if item.source == ItemSource.CASES and item.cases and item.cases[0]["requester_id"] in self.persons:
            proposer = item.cases[0]["requester_id"]
        pk = self.new(AgendaItem, region_id=self.region_id, meeting_id=m.id, order=order, title=item.title[:200],
                      description=item.description, mode=item.mode, source=item.source,
                      contact_record_id=item.contact_id, matter_id=matter.id if matter else None,
                      proposer_id=proposer, outcome=outcome, created_by_id=self.user,
                      created_at=m.at - dt.timedelta(days=rng.randint(1, 6)))
        self.stats[f"items:{item.mode}"] += 1
        for case in item.cases:
            self.link(_through(AgendaItem, "cases"), agendaitem_id=pk, case_id=case["id"])
            self.case_event(case, "village_agenda", m.at + dt.timedelta(hours=2), f"“{item.title[:60]}”")
        if outcome:
            return
        if item.step in ("propose", "discuss"):
            self.matter_step(matter, item.step, m, None, m.at + dt.timedelta(hours=1))
            return
        if item.step in ("review", "resolve") or item.decide:
            passes = True
            if item.step and matter.reject_at == item.step or not item.step and rng.random() < 0.06:
                passes = False
            secret = item.step == "resolve" and matter.topic in ("land", "collective", "subsidy") and rng.random() < 0.6
            poll_id, explain = self.poll(m, pk, f"同意{item.title}"[:300], passes, secret)
            when = m.at + dt.timedelta(minutes=rng.randint(50, 100))
            if item.step:
                if passes:
                    self.matter_step(matter, item.step, m, poll_id, when)
                    if item.step == "resolve":
                        self.decide(matter=matter, meeting=m, poll_id=poll_id, title=matter.title,
                                    content=f"{matter.description}（{explain}）", day=m.at.date(),
                                    cases=self.matter_cases(matter))
                else:
                    self.matter_step(matter, "reject", m, poll_id, when, note=explain)
                    matter.status = MatterStatus.REJECTED
                self.set_outcome(pk, "表决通过" if passes else "表决未通过")
                return
            self.set_outcome(pk, ("表决通过：" if passes else "表决未通过：") + explain[:120])
            if passes:
                self.decide(matter=None, meeting=m, poll_id=poll_id, title=item.title,
                            content=f"{item.title}，由村委会组织实施（{explain}）", day=m.at.date(), cases=item.cases)

    def set_outcome(self, item_pk: int, outcome: str) -> None:
        rows = self.out.rows[AgendaItem]
        spec = self.out.columns[AgendaItem][1]
        at = [name for name, _d in spec].index("outcome")
        row = list(rows[-1])
        assert row[0] == item_pk
        row[at] = outcome
        rows[-1] = tuple(row)

    def poll(self, m: _Meeting, item_pk: int, question: str, passes: bool, secret: bool) -> tuple[int, str]:
        rng = self.rng
        voters = list(m.voters)
        present = len(voters)
        threshold = q.Threshold.parse(self.gen.conf.resolution)
        needed = threshold.needed(present)
        cast = [v for v in voters if rng.random() > 0.03] or voters
        if passes:
            n_for = max(needed, round(len(cast) * rng.uniform(0.7, 0.98)))
            n_for = min(n_for, len(cast))
            if n_for < needed:  # too few cast to pass: everyone votes
                cast, n_for = voters, needed
        else:
            n_for = min(needed - 1, round(len(cast) * rng.uniform(0.2, 0.48)))
            n_for = max(0, n_for)
        rest = len(cast) - n_for
        n_against = round(rest * rng.uniform(0.5, 0.9)) if not passes else round(rest * rng.uniform(0.2, 0.7))
        n_abstain = rest - n_against
        choices = [Choice.FOR] * n_for + [Choice.AGAINST] * n_against + [Choice.ABSTAIN] * n_abstain
        rng.shuffle(choices)
        result = PollResult.PASSED if threshold.met(n_for, present) else PollResult.REJECTED
        assert (result == PollResult.PASSED) == passes, (present, n_for, needed)
        opened = m.at + dt.timedelta(minutes=rng.randint(30, 60))
        poll_id = self.new(Poll, meeting_id=m.id, item_id=item_pk, question=question,
                           ballot=BallotKind.SECRET if secret else BallotKind.OPEN, status=PollStatus.CLOSED,
                           present_count=present, threshold=str(threshold), votes_for=n_for, votes_against=n_against,
                           votes_abstain=n_abstain, result=result, opened_at=opened,
                           closed_at=opened + dt.timedelta(minutes=rng.randint(5, 20)), opened_by_id=self.user)
        cast_set = dict(zip(cast, choices))
        for voter in voters:
            choice = cast_set.get(voter)
            self.new(Ballot, poll_id=poll_id, voter_id=voter, choice="" if (secret or choice is None) else choice,
                     cast_at=opened + dt.timedelta(minutes=2) if choice else None)
        if secret:
            for choice in sorted(choices):
                self.new(SecretBallot, poll_id=poll_id, choice=choice)
        self.stats["polls"] += 1
        self.stats["ballots"] += len(voters)
        explain = (f"到会{present}人，同意{n_for}、反对{n_against}、弃权{n_abstain}，未投{present - len(cast)}；"
                   f"通过须到会人员{threshold.label()}同意（至少{needed}票），{'通过' if passes else '未通过'}")
        return poll_id, explain

    # -- 四议两公开
    def create_matter(self, matter: _Matter) -> None:
        created = matter.created or _aware(self.start + dt.timedelta(days=self.rng.randint(5, 300)), 9)
        matter.id = self.new(Matter, region_id=self.region_id, title=matter.title, description=matter.description,
                             topic=matter.topic, status=MatterStatus.DRAFT, created_by_id=self.user,
                             created_at=created, updated_at=created)
        for case in matter.cases:
            self.link(_through(Matter, "cases"), matter_id=matter.id, case_id=case["id"])
        self.stats["matters"] += 1

    def matter_step(self, matter, step, m: _Meeting | None, poll_id, at, note="", publicity_id=None) -> None:
        to = {"propose": MatterStatus.PROPOSED, "discuss": MatterStatus.DISCUSSED, "review": MatterStatus.REVIEWED,
              "resolve": MatterStatus.RESOLVED, "exempt": MatterStatus.RESOLVED,
              "publish_resolution": MatterStatus.RESOLUTION_PUBLISHED,
              "publish_result": MatterStatus.RESULT_PUBLISHED, "reject": MatterStatus.REJECTED}[step]
        matter.steps.append((step, matter.status, to, m.id if m else None, poll_id, publicity_id, at, note))
        matter.status = to

    def matter_cases(self, matter: _Matter) -> list[dict]:
        return list({c["id"]: c for c in matter.cases}.values())

    def finish_matters(self) -> None:
        rng = self.rng
        for matter in self.matters:
            if matter.emergency:
                content, reason = matter.emergency
                day = self.start + dt.timedelta(days=rng.randint(150, 330))
                day = min(day, self.today - dt.timedelta(days=20))
                at = _aware(day, 7, 30)
                matter.created = at - dt.timedelta(hours=3)
                self.create_matter(matter)
                self.matter_step(matter, "exempt", None, None, at, note=reason)
                explain_due = day + dt.timedelta(days=self.gen.conf.exemption_explain_days)
                explained = not (rng.random() < 0.3 and not self.showcase)
                matter.exempt = {"exempt_reason": reason, "exempted_at": at, "exempted_by_id": self.user,
                                 "explain_due_on": explain_due,
                                 "explanation": "险情发生后两委会先行决定抢修，次日召开两委会通报，并报镇政府备案；"
                                                "资金使用情况已在村务公开栏公示" if explained else "",
                                 "explained_at": at + dt.timedelta(days=rng.randint(2, 10)) if explained else None}
                matter.decision = self.decide(matter=matter, meeting=None, poll_id=None, title=matter.title,
                                              content=f"{content}（紧急情况下先行决定，事后备案说明）", day=day, cases=[],
                                              emergency=True)
            if matter.id is None:
                continue
            if matter.status in PASSED_MATTER_STATES:
                resolved_at = next(s[6] for s in matter.steps if s[0] in ("resolve", "exempt"))
                publish_at = resolved_at + dt.timedelta(days=rng.randint(1, 5), hours=2)
                if publish_at.date() < self.today:
                    item = self.notice(PublicityCategory.DECISION, f"关于“{matter.title}”的决议公开",
                                       matter.description, publish_at, decision_id=matter.decision_id,
                                       matter_id=matter.id,
                                       period=(publish_at.date(), publish_at.date()))
                    self.matter_step(matter, "publish_resolution", None, None, publish_at, publicity_id=item)
                    done_at = getattr(matter, "done_at", None)
                    if done_at is not None:
                        result_at = max(done_at, publish_at) + dt.timedelta(days=rng.randint(1, 8), hours=1)
                        if result_at.date() < self.today:
                            item = self.notice(PublicityCategory.RESULT, f"关于“{matter.title}”的实施结果公开",
                                               "决议各项任务已完成，资金使用和验收情况如下。", result_at,
                                               decision_id=matter.decision_id, matter_id=matter.id,
                                               period=(result_at.date(), result_at.date()))
                            self.matter_step(matter, "publish_result", None, None, result_at, publicity_id=item)
            self.write_matter(matter)

    def write_matter(self, matter: _Matter) -> None:
        rows = self.out.rows[Matter]
        spec = self.out.columns[Matter][1]
        names = [name for name, _d in spec]
        index = next(i for i in range(len(rows) - 1, -1, -1) if rows[i][0] == matter.id)
        row = list(rows[index])
        row[names.index("status")] = matter.status
        if matter.steps:
            row[names.index("updated_at")] = max(s[6] for s in matter.steps)
        for name, value in getattr(matter, "exempt", {}).items():
            row[names.index(name)] = value
        rows[index] = tuple(row)
        for step, from_status, to_status, meeting_id, poll_id, publicity_id, at, note in matter.steps:
            self.new(MatterStep, matter_id=matter.id, step=step, from_status=from_status, to_status=to_status,
                     meeting_id=meeting_id, poll_id=poll_id, publicity_id=publicity_id, note=note, at=at,
                     actor_id=self.user)
            if step in ("resolve", "exempt"):
                self.stats["matters_decided"] += 1
            if step == "reject":
                self.stats["matters_rejected"] += 1
            if step == "exempt":
                self.stats["matters_exempted"] += 1
        if matter.status not in PASSED_MATTER_STATES and matter.status != MatterStatus.REJECTED:
            self.stats["matters_in_progress"] += 1
        if matter.status == MatterStatus.RESULT_PUBLISHED:
            self.stats["matters_completed"] += 1

    # -- decisions followed to the end
    def decide(self, *, matter, meeting, poll_id, title, content, day, cases, emergency=False) -> int:
        rng = self.rng
        at = _aware(day, 11) if meeting is None else meeting.at + dt.timedelta(minutes=110)
        committee = [p for p, post, started, ended in self.members[BodyKind.COMMITTEE] if ended is None]
        responsible = self.chair
        n_tasks = rng.randint(1, 3)
        horizon = rng.randint(10, 30) if emergency else rng.randint(20, 100)
        tasks = []
        # What became of it: most carried out on time, some late, some still open (overdue or not yet due).
        fate = rng.random()
        for i in range(n_tasks):
            due = day + dt.timedelta(days=max(5, int(horizon * (i + 1) / n_tasks)))
            tasks.append({"title": TASKS[(i * 3 + len(title)) % len(TASKS)] if i else "制定实施方案",
                          "due": due, "assignee": rng.choice(committee) if committee else responsible})
        last_due = max(t["due"] for t in tasks)
        # Residents' cases still open mostly mean the work is not finished either.
        cases_open = sum(1 for c in cases if c["status"] != "closed") * 2 > len(cases)
        if last_due + dt.timedelta(days=30) < self.today:
            state = "on_time" if fate < 0.8 else "late" if fate < 0.93 else "overdue"
        elif last_due < self.today:
            state = "on_time" if fate < 0.55 else "late" if fate < 0.7 else "overdue"
        else:
            state = "open"
        if self.showcase and not self.gen.shown.get("overdue") and state in ("on_time", "late") \
                and last_due < self.today - dt.timedelta(days=10):
            state, self.gen.shown["overdue"] = "overdue", True
        if cases and cases_open and state in ("on_time", "late"):
            state = "open" if last_due >= self.today else "overdue"
        done_at = None
        decision_status = DecisionStatus.IN_PROGRESS
        entries = []
        task_rows = []
        for i, t in enumerate(tasks):
            status, progress, t_done, warned = TaskStatus.OPEN, 0, None, None
            if state in ("on_time", "late"):
                late = state == "late" and i == n_tasks - 1
                finish = t["due"] + dt.timedelta(days=rng.randint(3, 25)) if late else \
                    t["due"] - dt.timedelta(days=rng.randint(0, max(1, (t["due"] - day).days // 3)))
                finish = min(max(finish, day + dt.timedelta(days=1)), self.today - dt.timedelta(days=1))
                status, progress, t_done = TaskStatus.DONE, 100, _aware(finish, 16)
            elif state == "overdue" and i == n_tasks - 1:
                progress = rng.choice([20, 40, 60, 80])
                warned = _aware(t["due"] + dt.timedelta(days=1), 2) if t["due"] < self.today else None
            elif state == "overdue":
                finish = min(t["due"], self.today - dt.timedelta(days=1))
                status, progress, t_done = TaskStatus.DONE, 100, _aware(max(finish, day), 16)
            else:  # open, not yet due
                if t["due"] < self.today:
                    finish = min(t["due"], self.today - dt.timedelta(days=1))
                    status, progress, t_done = TaskStatus.DONE, 100, _aware(max(finish, day), 16)
                else:
                    progress = rng.choice([0, 10, 30, 50])
            task_rows.append((t, status, progress, t_done, warned))
        if state in ("on_time", "late"):
            decision_status = DecisionStatus.DONE
            done_at = max(r[3] for r in task_rows) + dt.timedelta(hours=2)
        decision_id = self.new(Decision, region_id=self.region_id, matter_id=matter.id if matter else None,
                               meeting_id=meeting.id if meeting else None, poll_id=poll_id, title=title[:200],
                               content=content, decided_on=day, responsible_body_id=self.body.get(BodyKind.COMMITTEE),
                               responsible_person_id=responsible.id, status=decision_status, done_at=done_at,
                               created_by_id=self.user, created_at=at)
        if matter is not None:
            matter.decision_id = decision_id
            matter.done_at = done_at
        for case in list({c["id"]: c for c in cases}.values()):
            self.link(_through(Decision, "cases"), decision_id=decision_id, case_id=case["id"])
            self.case_event(case, "village_decision", at, f"“{title[:40]}”：{content[:60]}")
            if done_at:
                self.case_event(case, "village_progress", done_at, f"“{title[:40]}”已落实。")
        secretary_name = self.secretary.name
        entries.append((None, EntryKind.DECIDED, "", content[:500], at, secretary_name))
        for t, status, progress, t_done, warned in task_rows:
            task_id = self.new(DecisionTask, decision_id=decision_id, title=t["title"], assignee_id=t["assignee"].id,
                               due_on=t["due"], progress=progress, status=status, done_at=t_done,
                               overdue_warned_at=warned)
            self.stats["tasks"] += 1
            entries.append((task_id, EntryKind.TASK, "", f"{t['title']}（{t['assignee'].name}，{t['due']:%Y-%m-%d}前完成）",
                            at + dt.timedelta(minutes=5), secretary_name))
            if 0 < progress < 100 or (t_done and rng.random() < 0.5):
                mid = at + (((t_done or _aware(self.today, 9)) - at) / 2)
                entries.append((task_id, EntryKind.PROGRESS, "", f"{t['title']}：进度{50 if t_done else progress}%",
                                mid, t["assignee"].name))
            if t_done:
                entries.append((task_id, EntryKind.PROGRESS, "", f"{t['title']}：进度100%", t_done, t["assignee"].name))
            if warned:
                entries.append((task_id, EntryKind.OVERDUE, "",
                                (f"决议“{title[:40]}”的任务“{t['title']}”已超过完成时限（{t['due']:%Y-%m-%d}），"
                                 f"当前进度{progress}%。"), warned, "系统"))
        horizon_end = done_at or _aware(self.today, 9)
        if rng.random() < 0.3:
            entries.append((None, EntryKind.FEEDBACK, "", rng.choice(FEEDBACK),
                            at + (horizon_end - at) * rng.uniform(0.3, 0.9), secretary_name))
        supervision = [p for p, post, s, e in self.members[BodyKind.SUPERVISION] if e is None]
        if rng.random() < 0.45 or emergency:
            supervisor, text = rng.choice(SUPERVISION[:2] if emergency else SUPERVISION)
            name = supervision[0].name if supervisor == Supervisor.COMMITTEE and supervision else {
                Supervisor.PARTY: "镇包村领导", Supervisor.ADMINISTRATIVE: "镇农业综合服务站",
                Supervisor.LEGAL: "村法律顾问", Supervisor.SOCIAL: "群众代表",
                Supervisor.THIRD_PARTY: "第三方评估机构"}.get(supervisor, "村务监督委员会")
            entries.append((None, EntryKind.SUPERVISION, supervisor, text,
                            at + (horizon_end - at) * rng.uniform(0.2, 0.8), name))
        if state == "late" and rng.random() < 0.5:
            entries.append((None, EntryKind.ADJUSTMENT, "", "因雨季影响施工，部分任务推迟完成，已向群众说明",
                            at + (horizon_end - at) * 0.6, secretary_name))
        if done_at:
            entries.append((None, EntryKind.DONE, "", "决议已落实", done_at, secretary_name))
        for task_id, kind, supervisor, text, when, who in sorted(entries, key=lambda e: e[4]):
            self.new(DecisionEntry, decision_id=decision_id, task_id=task_id, kind=kind, supervisor=supervisor,
                     text=text, public=kind != EntryKind.SUPERVISION or rng.random() < 0.8, at=when,
                     actor_id=self.user if kind not in (EntryKind.OVERDUE,) else None, actor_name=who)
        self.stats["decisions"] += 1
        if decision_status == DecisionStatus.DONE:
            self.stats["decisions_done"] += 1
            self.stats["problems_solved"] += max(1, len({c["id"] for c in cases}))
        return decision_id

    def case_event(self, case: dict, kind: str, at: dt.datetime, note: str) -> None:
        self.out.new(CaseEvent, case_id=case["id"], kind=kind, at=at, actor_id=self.user, actor_name="村两委",
                     from_status=case["status"], to_status=case["status"], note=note, public=True, data={})

    # -- what is still ahead: the next meetings, items waiting for one
    def upcoming(self) -> None:
        rng = self.rng
        for kind, days in ((K.TWO_COMMITTEES, rng.randint(3, 12)), (K.COURTYARD, rng.randint(5, 25))):
            at = _aware(self.today + dt.timedelta(days=days), 19 if kind == K.COURTYARD else 9)
            status = MeetingStatus.NOTIFIED if days < 6 else MeetingStatus.PLANNED
            grid = rng.choice(self.data.grids) if kind == K.COURTYARD and self.data.grids else None
            m = _Meeting(kind=kind, at=at, grid_id=grid)
            meeting_id = self.new(Meeting, region_id=self.region_id, kind=kind, title=self.meeting_title(m),
                                  scheduled_at=at, place="村党群服务中心会议室" if kind != K.COURTYARD else
                                  f"{self.group_name()}院坝", grid_id=grid, status=status,
                                  notice_sent_at=(at - dt.timedelta(days=3)
                                                  if status == MeetingStatus.NOTIFIED else None),
                                  convened_by_id=self.user, created_at=_aware(self.today - dt.timedelta(days=2), 10))
            if self.waiting:
                item = self.waiting.pop(0)
                self.waiting_item(item, meeting_id, 1)
        if rng.random() < 0.1:
            at = _aware(self.today - dt.timedelta(days=rng.randint(10, 200)), 19)
            m = _Meeting(kind=K.COURTYARD, at=at)
            self.new(Meeting, region_id=self.region_id, kind=K.COURTYARD, title=self.meeting_title(m), scheduled_at=at,
                     place=f"{self.group_name()}院坝", status=MeetingStatus.CANCELLED, minutes="会议取消：暴雨天气，改期召开",
                     convened_by_id=self.user, created_at=at - dt.timedelta(days=4))

    def waiting_items(self) -> None:
        for item in self.waiting:
            self.waiting_item(item, None, 0)

    def waiting_item(self, item: _Item, meeting_id, order) -> None:
        received = max(c["received_at"] for c in item.cases) if item.cases else _aware(self.today, 9)
        pk = self.new(AgendaItem, region_id=self.region_id, meeting_id=meeting_id, order=order, title=item.title,
                      description=item.description, mode=item.mode, source=item.source, created_by_id=self.user,
                      created_at=received + dt.timedelta(days=1))
        for case in item.cases:
            self.link(_through(AgendaItem, "cases"), agendaitem_id=pk, case_id=case["id"])
            self.case_event(case, "village_agenda", received + dt.timedelta(days=1), f"“{item.title[:60]}”")

    # -- 村务公开
    def notice(self, category, title, body, published_at, *, lines=(), period, decision_id=None, matter_id=None,
               status=PublicityStatus.PUBLISHED, supersedes=None) -> int:
        pk = self.new(PublicityItem, region_id=self.region_id, category=category, title=title[:200], body=body,
                      lines=list(lines), period_start=period[0], period_end=period[1], status=status,
                      published_at=published_at, published_by_id=self.user, supersedes_id=supersedes,
                      decision_id=decision_id, matter_id=matter_id, created_by_id=self.user,
                      created_at=published_at - dt.timedelta(hours=self.rng.randint(2, 48)))
        self.stats["notices"] += 1
        return pk

    def publicity(self) -> None:
        rng, today = self.rng, self.today
        for category, period, grace in self.gen.requirements:
            # Every period whose publication falls due within the year (the first ones ended before it).
            for start, end in period_slots(period, self.start - dt.timedelta(days=grace), today - dt.timedelta(days=1)):
                due = end + dt.timedelta(days=grace)
                if due >= today and rng.random() < 0.5:
                    continue  # not due yet, and not published yet either
                roll = rng.random()
                missing = roll < 0.04 and due < today
                late = not missing and roll < 0.10 and due < today
                if self.showcase and not self.gen.shown.get(f"flag:{self.region_id}") and category == "finance" \
                        and due < today - dt.timedelta(days=40):
                    missing, late, self.gen.shown[f"flag:{self.region_id}"] = False, True, True
                published = None
                if not missing:
                    offset = rng.randint(grace + 1, grace + 25) if late else rng.randint(1, grace)
                    published = _aware(end + dt.timedelta(days=offset), 10)
                    if published.date() >= today:
                        published = None if due >= today else _aware(today - dt.timedelta(days=1), 10)
                if published is not None:
                    title, body, lines = self.notice_content(category, start, end)
                    pk = self.notice(category, title, body, published, lines=lines, period=(start, end),
                                     status=PublicityStatus.PUBLISHED)
                    if category == PublicityCategory.FINANCE and rng.random() < 0.03:
                        self.supersede(pk, title, body, lines, published, (start, end))
                if due < today and (published is None or published.date() > due):
                    flagged = _aware(due + dt.timedelta(days=1), 2)
                    self.new(PublicityFlag, region_id=self.region_id, category=category, period_start=start,
                             period_end=end, flagged_at=flagged,
                             resolved_at=published + dt.timedelta(hours=1) if published else None)
                    self.stats["flags"] += 1

    def supersede(self, old_pk, title, body, lines, published, period) -> None:
        rows = self.out.rows[PublicityItem]
        names = [name for name, _d in self.out.columns[PublicityItem][1]]
        row = list(rows[-1])
        assert row[0] == old_pk
        row[names.index("status")] = PublicityStatus.SUPERSEDED
        rows[-1] = tuple(row)
        fixed = [dict(line) for line in lines]
        if fixed:
            fixed[-1]["expense"] = str(int(fixed[-1].get("expense") or 0) + 100)
        self.notice(PublicityCategory.FINANCE, f"【更正】{title}", f"{body}\n\n更正说明：支出金额录入错误",
                    published + dt.timedelta(days=2), lines=fixed, period=period, supersedes=old_pk)

    def notice_content(self, category, start, end) -> tuple[str, str, list]:
        rng = self.rng
        name = self.name
        if category == PublicityCategory.FINANCE:
            lines = [{"item": item, "income": str(rng.randint(5, 80) * 100) if side == "income" else "0",
                      "expense": str(rng.randint(2, 60) * 100) if side == "expense" else "0"}
                     for item, side in self.pick(FINANCE_LINES, rng.randint(3, 6))]
            return f"{name}{start.year}年{start.month}月财务收支公开", "本月村级财务收支明细如下，接受群众监督。", lines
        quarter = f"{start.year}年第{(start.month - 1) // 3 + 1}季度"
        if category == PublicityCategory.ASSETS:
            lines = [{"item": item, "quantity": quantity, "value": str(rng.randint(5, 300) * 1000)}
                     for item, quantity in self.pick(ASSETS, rng.randint(2, 4))]
            return f"{name}{quarter}集体资产公开", "村集体资产清查情况如下。", lines
        if category == PublicityCategory.RESOURCES:
            lines = [{"item": item, "quantity": f"{rng.randint(10, 600)}{unit}",
                      "state": rng.choice(["自营", "发包", "流转", "闲置"])}
                     for item, unit in self.pick(RESOURCES, rng.randint(2, 4))]
            return f"{name}{quarter}集体资源公开", "村集体资源及发包、流转情况如下。", lines
        if category == PublicityCategory.SUBSIDIES:
            return f"{name}{quarter}惠民补贴发放名单公示", "以下补贴已按政策发放，如有异议请向村务监督委员会反映。", \
                self.subsidy_lines(end)
        return f"{name}{start.year}年度权力清单、责任清单公开", "本村小微权力清单和责任清单已经复核，现予公开。", []

    def subsidy_lines(self, on: dt.date) -> list:
        lines = []
        poor = {h[0] for h in self.data.households if h[3] in ("low_income", "extreme")}
        for p in self.data.persons:
            age = _age(p.birth, on)
            if age >= 80:
                lines.append({"name": p.name, "kind": "高龄补贴", "amount": "300" if age < 90 else "600"})
            elif p.disabled and age >= 16:
                lines.append({"name": p.name, "kind": "残疾人两项补贴", "amount": "240"})
            if p.household_id in poor and p.relation == "head":
                lines.append({"name": p.name, "kind": "最低生活保障金", "amount": str(self.rng.randint(9, 18) * 100)})
        return lines[:300]

    # -- 权力清单、责任清单
    def duty_lists(self) -> None:
        rng, today = self.rng, self.today
        for kind, duties in ((DutyListKind.POWER, POWER_DUTIES), (DutyListKind.RESPONSIBILITY, RESPONSIBILITY_DUTIES)):
            stale = rng.random() < 0.08
            reviewed = today - dt.timedelta(days=rng.randint(380, 500) if stale else rng.randint(20, 300))
            due = _add_years(reviewed, 1)
            list_id = self.new(DutyList, region_id=self.region_id, kind=kind, reviewed_on=reviewed, review_due_on=due,
                               stale_flagged_at=_aware(due + dt.timedelta(days=1), 2) if due < today else None)
            chosen = self.pick(duties, rng.randint(6, len(duties)))
            problem = rng.random()
            for i, (title, basis, owner) in enumerate(chosen):
                duty_id = self.new(Duty, duty_list_id=list_id, title=title, basis=basis)
                if i == 0 and (problem < 0.25 or (self.showcase and kind == DutyListKind.POWER)):
                    continue  # nobody owns it: to be settled
                body = self.body.get(owner) or self.body.get(BodyKind.COMMITTEE)
                self.new(DutyOwner, duty_id=duty_id, body_id=body, post="")
                if i == 1 and (problem > 0.8 or (self.showcase and kind == DutyListKind.RESPONSIBILITY)):
                    other = self.body.get(BodyKind.PARTY if owner != BodyKind.PARTY else BodyKind.COMMITTEE)
                    if other and other != body:
                        self.new(DutyOwner, duty_id=duty_id, body_id=other, post="")  # two owners: to be settled


CONSULTATION_KINDS_SET = frozenset(CONSULTATION_KINDS)


# ---------------------------------------------------------------------------------------------
# the run


@dataclass
class VillageYearResult:
    county_id: int
    villages: int
    seconds: float
    rows: dict
    figures: dict

    @property
    def consultations(self) -> int:
        return self.figures.get("consultations", 0)

    @property
    def problems_solved(self) -> int:
        return self.figures.get("problems_solved", 0)


class _Generation:
    def __init__(self, *, county, seed, today, user_id, out):
        self.county, self.seed, self.today, self.user_id, self.out = county, seed, today, user_id, out
        self.start = today - dt.timedelta(days=365)
        self.conf = q.settings_for(county.pk)
        self.shown: dict = {}
        self.requirements = []


class VillageDataExists(Exception):
    pass


def generator_user():
    """The inactive account the generated rows are recorded as made by (no password, no role)."""
    User = get_user_model()
    user, created = User.objects.get_or_create(username=GENERATOR_USERNAME, defaults={
        "display_name": "演示数据（村级治理批量生成）", "is_active": False})
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


def clear_village_year(county: Region) -> int:
    """Delete the county's village-layer rows (and the case timeline entries they wrote)."""
    deleted = 0
    with transaction.atomic():
        CaseEvent.objects.filter(case__county_id=county.pk, kind__in=["village_agenda", "village_decision",
                                                                       "village_progress"]).delete()
        for model in reversed(VILLAGE_MODELS):
            if model._meta.auto_created:
                continue
            if model is PublicityItem:
                PublicityItem.objects.filter(county_id=county.pk, supersedes__isnull=False).delete()
            n, _ = model._base_manager.filter(county_id=county.pk).delete()
            deleted += n
    return deleted


def generate_village_year(*, county: Region | None = None, seed: int = 321, today: dt.date | None = None,
                          replace: bool = False, log=lambda message: None) -> VillageYearResult:
    """The entry point: a year of village governance for every village of ``county`` (default:
    the first county), ending the day before ``today``; see the module docstring."""
    started = time.perf_counter()
    county = county or Region.objects.filter(level=RegionLevel.COUNTY).order_by("code").first()
    if county is None:
        raise ValueError("no county: generate the registry first")
    today = today or timezone.localdate()
    with transaction.atomic():
        if Meeting.objects.filter(county_id=county.pk).exists():
            if not replace:
                raise VillageDataExists(f"{county.name}已有村级治理数据 (the county already has village data)")
            clear_village_year(county)
        postgres = connection.vendor == "postgresql"
        if postgres:
            with connection.cursor() as cursor:  # check what is pending now, and ours as it goes in
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        user = generator_user()
        now = _aware(today, 0)
        out = _Rows(now)
        gen = _Generation(county=county, seed=seed, today=today, user_id=user.pk, out=out)
        existing = dict(PublicityRequirement.objects.filter(county_id=county.pk).values_list("category", "pk"))
        for category, period, grace in REQUIREMENTS:
            if category not in existing:
                out.new(PublicityRequirement, category=category, period=period, grace_days=grace,
                        county_id=county.pk, town_id=None, village_id=None)
        gen.requirements = [(c, p, g) for c, p, g in PublicityRequirement.objects.filter(county_id=county.pk)
                            .values_list("category", "period", "grace_days")] or list(REQUIREMENTS)
        if len(gen.requirements) < len(REQUIREMENTS):
            known = {c for c, _p, _g in gen.requirements}
            gen.requirements += [r for r in REQUIREMENTS if r[0] not in known]
        data = _load(county, _aware(gen.start, 0))
        log(f"  loaded {len(data)} villages, {sum(len(v.persons) for v in data):,} persons, "
            f"{sum(len(v.cases) for v in data):,} cases · {time.perf_counter() - started:.1f} s")
        showcase = showcase_village(county)
        totals: Counter = Counter()
        for i, village in enumerate(data, start=1):
            builder = _Village(gen, village, showcase=village.region["id"] == showcase)
            builder.build()
            totals.update(builder.stats)
            if out.pending >= FLUSH_ROWS:
                out.flush()
            if len(data) >= 20 and i % max(1, len(data) // 5) == 0:
                log(f"  {i}/{len(data)} villages · {time.perf_counter() - started:.1f} s")
        out.finish()
        totals["consultations"] = sum(v for k, v in totals.items() if k.startswith("held:")
                                      and k.split(":", 1)[1] in CONSULTATION_KINDS_SET)
        rows = {m._meta.label: n for m, n in out.counts.items() if n}
        figures = {k: v for k, v in sorted(totals.items())}
        audit_record(
            actor=None, action=AuditAction.GENERATE, object_type="village.meeting",
            object_repr=f"{county.name}村级治理演示数据（批量）", territory=county,
            note=(f"gongzhi.village.demo: seed={seed} today={today.isoformat()} villages={len(data)} "
                  f"meetings={totals['meetings']} consultations={totals['consultations']} "
                  f"decisions={totals['decisions']} problems_solved={totals['problems_solved']} "
                  f"rows={sum(rows.values())}. Bulk path: written with COPY/INSERT, bypassing the village "
                  "services and their audit rows."),
        )
        if postgres:
            with connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL DEFERRED")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for model in ORDER:
                if model._meta.app_label == "village":
                    cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
    return VillageYearResult(county_id=county.pk, villages=len(data), seconds=time.perf_counter() - started,
                             rows=rows, figures=figures)
