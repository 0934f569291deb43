"""The public village-affairs pages (村务公开), mounted at /v/ — no login.

    /v/<village code>/                 the village's board: its 六位一体 bodies and who holds which
                                       post, then one section per category of notice, newest first
    /v/<village code>/?c=<category>    one section alone, paged (``core.pagination``)
    /v/<village code>/n/<pk>/          one notice with its table (paged), its correction or what it corrects
    /v/<village code>/n/<pk>/pdf       the notice as an A4 PDF for the board (``pdf.py``)
    /v/<village code>/n/<pk>/ask       a resident's question about the notice → a 意见建议 case (``questions.py``)

Built for elderly residents on cheap phones and slow links, like the residents' page
(``intake/templates/intake/resident``): large text, one request per page (styles inline under the
request's CSP nonce), no JavaScript, gzip, Chinese written in the templates.

What is public, and nothing more
* Notices that were published (``published`` and ``superseded``); a draft, or another village's
  notice under this village's code, is the same 404 as a notice that does not exist.
* Decisions that have a public notice, with their tasks' progress and the timeline entries marked
  public (``selectors.public_decisions``); no assignee's name.
* The bodies' current members: names and posts of village cadres and representatives are public
  information on every village board; phones, ID numbers, addresses never.
* Tables (``PublicityItem.lines``) go through ``public_table``: columns holding ID numbers, phones
  or bank accounts are dropped, names are shown as surname + 某 (``mask_name``), and any mobile or
  ID number typed into another cell is masked. The PDF is made from the same table.

Pages read through the module's own functions below (the public reads of ``selectors`` are used
where they fit); staff reads never come here.
"""
from __future__ import annotations

import datetime as dt
import logging
import math
import re
from dataclasses import dataclass, field
from decimal import Decimal
from urllib.parse import quote

from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db.models import Count, F, Prefetch
from django.db.models.expressions import Window
from django.db.models.functions import RowNumber
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.gzip import gzip_page
from django.views.decorators.http import require_GET, require_http_methods

from gongzhi.core.pagination import paginate
from gongzhi.intake import ratelimit
from gongzhi.intake.forms import new_key
from gongzhi.intake.idempotency import KeyReused, validate_key
from gongzhi.intake.text import ID_IN_TEXT, clean, group_code, mask_personal
from gongzhi.intake.web import BAD_BODY, content_length, csrf_failed
from gongzhi.registry.models import Region, RegionLevel

from . import questions, selectors
from .models import (
    Body,
    BodyKind,
    BodyMember,
    DecisionStatus,
    EntryKind,
    Post,
    PublicityCategory,
    PublicityItem,
    PublicityStatus,
    Supervisor,
    TaskStatus,
)

logger = logging.getLogger(__name__)

# ---------------------------------------------------------------------------------------------
# the board's words (written here rather than taken from the staff labels: what a resident reads
# on the board, e.g. a villagers' committee has a 主任 where a collective has a 理事长)

CATEGORY_ORDER = [
    PublicityCategory.DECISION, PublicityCategory.RESULT, PublicityCategory.FINANCE, PublicityCategory.ASSETS,
    PublicityCategory.RESOURCES, PublicityCategory.PROJECTS, PublicityCategory.SUBSIDIES, PublicityCategory.DUTIES,
    PublicityCategory.OTHER,
]
CATEGORY_LABELS = {
    PublicityCategory.DECISION: "决策事项", PublicityCategory.RESULT: "决议实施结果",
    PublicityCategory.FINANCE: "财务收支（三资）", PublicityCategory.ASSETS: "集体资产（三资）",
    PublicityCategory.RESOURCES: "集体资源（三资）", PublicityCategory.PROJECTS: "项目建设",
    PublicityCategory.SUBSIDIES: "惠民补贴", PublicityCategory.DUTIES: "权力清单、责任清单",
    PublicityCategory.OTHER: "其他村务",
}
BODY_ORDER = [BodyKind.PARTY, BodyKind.ASSEMBLY, BodyKind.COMMITTEE, BodyKind.SUPERVISION, BodyKind.COLLECTIVE,
              BodyKind.SOCIAL]
BODY_LABELS = {
    BodyKind.PARTY: "村党组织", BodyKind.ASSEMBLY: "村民代表会议", BodyKind.COMMITTEE: "村民委员会",
    BodyKind.SUPERVISION: "村务监督委员会", BodyKind.COLLECTIVE: "集体经济组织", BodyKind.SOCIAL: "社会组织",
}
BODY_ROLES = {
    BodyKind.PARTY: "领导核心", BodyKind.ASSEMBLY: "决策", BodyKind.COMMITTEE: "执行", BodyKind.SUPERVISION: "监督",
    BodyKind.COLLECTIVE: "支撑", BodyKind.SOCIAL: "补充",
}
POST_RANK = {Post.SECRETARY: 0, Post.DEPUTY_SECRETARY: 1, Post.CHAIR: 2, Post.VICE_CHAIR: 3, Post.MEMBER: 4,
             Post.ACCOUNTANT: 5, Post.REPRESENTATIVE: 6}
_CHAIR = {BodyKind.COLLECTIVE: ("理事长", "副理事长", "理事"), BodyKind.SOCIAL: ("会长", "副会长", "成员"),
          BodyKind.ASSEMBLY: ("召集人", "副召集人", "成员")}


def post_title(kind: str, post: str) -> str:
    chair, vice, member = _CHAIR.get(kind, ("主任", "副主任", "委员"))
    return {Post.SECRETARY: "书记", Post.DEPUTY_SECRETARY: "副书记", Post.CHAIR: chair, Post.VICE_CHAIR: vice,
            Post.MEMBER: member, Post.REPRESENTATIVE: "村民代表", Post.ACCOUNTANT: "会计"}.get(post, "成员")


ENTRY_LABELS = {
    EntryKind.DECIDED: "作出决议", EntryKind.TASK: "分解任务", EntryKind.PROGRESS: "进展",
    EntryKind.FEEDBACK: "群众反馈", EntryKind.SUPERVISION: "监督", EntryKind.ADJUSTMENT: "调整",
    EntryKind.OVERDUE: "逾期", EntryKind.DONE: "落实完成",
}
SUPERVISOR_LABELS = {
    Supervisor.COMMITTEE: "村务监督委员会", Supervisor.PARTY: "党内监督", Supervisor.ADMINISTRATIVE: "行政监督",
    Supervisor.LEGAL: "法律监督", Supervisor.SOCIAL: "社会监督", Supervisor.THIRD_PARTY: "第三方评估",
}
DECISION_STATUS_LABELS = {DecisionStatus.IN_PROGRESS: "正在落实", DecisionStatus.DONE: "已落实",
                          DecisionStatus.WITHDRAWN: "已撤回"}
TASK_STATUS_LABELS = {TaskStatus.OPEN: "进行中", TaskStatus.DONE: "已完成", TaskStatus.CANCELLED: "已取消"}

#: Newest notices of each category on the board's first page; ``?c=`` shows one category, paged.
OVERVIEW_PER_SECTION = 5

# ---------------------------------------------------------------------------------------------
# tables: what a notice's lines may show in public (PIPL: the minimum, masked)


def _key(name) -> str:
    return re.sub(r"[\s_\-]+", "_", str(name).strip().lower())


#: Columns never shown: ID numbers, phones, bank accounts (the page and the PDF drop them).
HIDDEN_KEYS = {_key(k) for k in (
    "id_number", "idcard", "id_card", "id_no", "identity_number", "身份证", "身份证号", "身份证号码", "证件号",
    "证件号码", "phone", "mobile", "tel", "telephone", "phone_number", "电话", "手机", "手机号", "手机号码",
    "联系电话", "联系方式", "bank_account", "account_number", "bank_card", "card_number", "银行卡号", "银行账号",
    "账号", "卡号")}
#: Columns holding a person's name: shown as surname + 某.
NAME_KEYS = {_key(k) for k in (
    "name", "person", "person_name", "recipient", "payee", "head", "household_head", "姓名", "户主", "户主姓名",
    "领取人", "申请人", "收款人", "补助对象", "享受对象")}
COLUMN_LABELS = {
    "item": "项目", "name": "姓名", "kind": "类别", "amount": "金额（元）", "income": "收入（元）",
    "expense": "支出（元）", "balance": "结余（元）", "note": "备注", "date": "日期", "group": "组别",
    "quantity": "数量", "unit": "单位", "price": "单价（元）", "area": "面积", "location": "位置",
    "budget": "预算（元）", "contractor": "承建单位", "progress": "进度", "status": "状态", "value": "价值（元）",
    "asset": "资产", "resource": "资源", "title": "事项", "basis": "依据", "owner": "责任主体", "lessee": "承租方",
    "rent": "租金（元）", "term": "期限", "standard": "标准", "count": "人数", "total": "合计", "project": "项目",
    "household": "户", "reason": "理由", "period": "期间", "remark": "备注",
}
COMPOUND_SURNAMES = {
    "欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙", "宇文", "司徒", "夏侯", "轩辕",
    "令狐", "端木", "独孤", "南宫", "西门", "百里", "呼延", "拓跋", "万俟", "闻人", "澹台", "公冶", "宗政", "濮阳",
    "太史", "申屠", "钟离", "赫连", "东郭", "单于", "左丘", "司空", "第五",
}
_HAN = re.compile(r"^[\u3400-\u9fff\uf900-\ufaff·•\u00b7]+$")
_NUMBER = re.compile(r"^[-+]?(\d{1,3}(,\d{3})+|\d+)(\.\d+)?%?$")


def mask_name(value) -> str:
    """张建国 → 张某, 欧阳明 → 欧阳某, Tom → T*; empty stays empty."""
    name = clean(value)
    if not name:
        return ""
    if _HAN.match(name):
        surname = name[:2] if len(name) > 2 and name[:2] in COMPOUND_SURNAMES else name[0]
        return f"{surname}某"
    return f"{name[0]}*"


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, (int, Decimal)):
        return str(value)
    if isinstance(value, float):
        return "" if math.isnan(value) or math.isinf(value) else f"{value:.2f}".rstrip("0").rstrip(".")
    if isinstance(value, (list, tuple)):
        return "、".join(_cell(v) for v in value)
    if isinstance(value, dict):
        return "；".join(f"{clean(k)}：{_cell(v)}" for k, v in value.items() if _key(k) not in HIDDEN_KEYS)
    return clean(value, multiline=False)


#: Column order when the lines do not give one (PostgreSQL's jsonb keeps a dict's keys sorted by
#: length, not as typed): what the line is about, who, what kind, the figures, remarks last.
COLUMN_ORDER = [_key(k) for k in (
    "item", "project", "title", "asset", "resource", "name", "姓名", "户主", "person", "recipient", "household",
    "group", "组别", "location", "kind", "standard", "quantity", "unit", "price", "area", "count", "budget",
    "value", "income", "expense", "amount", "balance", "rent", "lessee", "term", "period", "date", "contractor",
    "progress", "status", "basis", "owner", "reason", "total", "note", "remark", "备注")]


@dataclass(frozen=True)
class Table:
    headers: list[str]
    rows: list[list[str]]
    numeric: list[bool]
    masked: bool = False  # a column was dropped or names were shortened (the page says so)

    def records(self):
        """Rows with their headers, for the phone layout (each row a card)."""
        return [list(zip(self.headers, row, self.numeric, strict=True)) for row in self.rows]


def public_table(lines) -> Table:
    """A notice's lines as the public may read them (the page and the PDF)."""
    rows = [line for line in (lines or []) if isinstance(line, dict)]
    keys: list[str] = []
    masked = False
    for line in rows:
        for key in line:
            if _key(key) in HIDDEN_KEYS:
                masked = True
            elif key not in keys:
                keys.append(key)
    known = {k: i for i, k in enumerate(COLUMN_ORDER)}
    keys = [k for _, k in sorted(enumerate(keys), key=lambda p: (known.get(_key(p[1]), len(known) - 3), p[0]))]
    masked = masked or any(_key(k) in NAME_KEYS for k in keys)
    values = []
    for line in rows:
        row = []
        for key in keys:
            raw = line.get(key)
            row.append(mask_name(_cell(raw)) if _key(key) in NAME_KEYS else mask_personal(_cell(raw)))
        values.append(row)
    numeric = [bool(column) and all(_NUMBER.match(v.replace(" ", "")) for v in column if v)
               and any(column) for column in ([row[i] for row in values] for i in range(len(keys)))]
    headers = [COLUMN_LABELS.get(_key(k), clean(k)) for k in keys]
    return Table(headers=headers, rows=values, numeric=numeric, masked=masked)


def public_text(text: str) -> str:
    """A notice's body: ID numbers masked (a contact phone of the village office may stay)."""
    return ID_IN_TEXT.sub(lambda m: f"{m.group(1)}********{m.group(3)[-4:]}", clean(text, multiline=True))


# ---------------------------------------------------------------------------------------------
# public reads

PUBLIC_STATUSES = (PublicityStatus.PUBLISHED, PublicityStatus.SUPERSEDED)
LIST_FIELDS = ("id", "region_id", "title", "category", "status", "published_at", "period_start", "period_end",
               "supersedes_id", "decision_id")


def village_by_code(code: str) -> Region | None:
    code = (code or "").strip()
    if not code.isdigit() or len(code) > 15:
        return None
    return (Region.objects.select_related("county", "town").filter(code=code, level=RegionLevel.VILLAGE)
            .only("id", "code", "name", "level", "county__name", "town__name").first())


def place_of(village: Region) -> str:
    return "".join(r.name for r in (village.county, village.town, village) if r is not None)


@dataclass
class MemberView:
    name: str
    title: str


@dataclass
class BodyView:
    kind: str
    label: str
    role: str
    name: str
    term_start: dt.date
    term_end: dt.date | None
    members: list[MemberView] = field(default_factory=list)
    representatives: list[str] = field(default_factory=list)


def public_bodies(village: Region) -> list[BodyView]:
    """The village's current bodies in 六位一体 order, each with its current members' names and posts."""
    today = timezone.localdate()
    current = (BodyMember.objects.filter(ended_on__isnull=True, started_on__lte=today).select_related("person")
               .only("id", "body_id", "post", "person__name").order_by("id"))
    bodies = (Body.objects.filter(region=village, dissolved_on__isnull=True)
              .only("id", "kind", "name", "term_start", "term_end")
              .prefetch_related(Prefetch("members", queryset=current, to_attr="current_members")))
    views = []
    for body in sorted(bodies, key=lambda b: (BODY_ORDER.index(b.kind) if b.kind in BODY_ORDER else 99, b.name)):
        view = BodyView(kind=body.kind, label=BODY_LABELS.get(body.kind, ""), role=BODY_ROLES.get(body.kind, ""),
                        name=body.name, term_start=body.term_start, term_end=body.term_end)
        for member in sorted(body.current_members, key=lambda m: (POST_RANK.get(m.post, 9), m.id)):
            if member.post == Post.REPRESENTATIVE:
                view.representatives.append(member.person.name)
            else:
                view.members.append(MemberView(name=member.person.name, title=post_title(body.kind, member.post)))
        views.append(view)
    return views


@dataclass
class TaskView:
    title: str
    progress: int
    status_label: str
    due_on: dt.date
    due_text: str
    body_name: str


@dataclass
class EntryView:
    at: dt.datetime
    label: str
    text: str


@dataclass
class DecisionView:
    pk: int
    title: str
    content: str
    decided_on: dt.date
    status_label: str
    body_name: str
    tasks: list[TaskView]
    entries: list[EntryView]


def public_decision_views(village: Region, decision_ids) -> dict[int, DecisionView]:
    """Decisions (with a public notice) by id: tasks' progress and the public timeline, no names."""
    ids = {pk for pk in decision_ids if pk}
    if not ids:
        return {}
    decisions = list(selectors.public_decisions(village).filter(pk__in=ids).select_related("responsible_body"))
    body_ids = {t.assignee_body_id for d in decisions for t in d.public_tasks if t.assignee_body_id}
    bodies = Body.objects.only("id", "name").in_bulk(body_ids) if body_ids else {}
    views = {}
    for d in decisions:
        tasks = [TaskView(title=t.title, progress=t.progress, status_label=TASK_STATUS_LABELS.get(t.status, ""),
                          due_on=t.due_on, due_text=f"{t.due_on.year}年{t.due_on.month}月{t.due_on.day}日",
                          body_name=bodies[t.assignee_body_id].name if t.assignee_body_id in bodies else "")
                 for t in d.public_tasks]
        by_id = {t.pk: view for t, view in zip(d.public_tasks, tasks, strict=True)}
        entries = []
        for e in d.public_entries:
            label = ENTRY_LABELS.get(e.kind, "")
            if e.kind == EntryKind.SUPERVISION and e.supervisor:
                label = SUPERVISOR_LABELS.get(e.supervisor, label)
            if e.kind == EntryKind.TASK:
                # Rebuilt from the task, never the stored text (which a staff page may have worded
                # with a resident's name): the board says what, which body answers for it, by when.
                task = by_id.get(e.task_id)
                if task is None:  # a task cancelled since: its cancellation is an entry of its own
                    continue
                who = f"{task.body_name}负责，" if task.body_name else ""
                text = f"{task.title}（{who}{task.due_text}前完成）"
            else:
                text = mask_personal(clean(e.text, multiline=True))
            entries.append(EntryView(at=e.at, label=label, text=text))
        views[d.pk] = DecisionView(
            pk=d.pk, title=d.title, content=public_text(d.content), decided_on=d.decided_on,
            status_label=DECISION_STATUS_LABELS.get(d.status, ""),
            body_name=d.responsible_body.name if d.responsible_body_id else "", tasks=tasks, entries=entries)
    return views


@dataclass
class Section:
    category: str
    label: str
    count: int
    items: list  # PublicityItem (list fields only), each with .decision_view
    page: object = None  # a core.pagination Page when the section is shown alone


def _with_decisions(village: Region, items: list) -> list:
    views = public_decision_views(village, [i.decision_id for i in items if i.status == PublicityStatus.PUBLISHED])
    for item in items:
        item.decision_view = views.get(item.decision_id) if item.status == PublicityStatus.PUBLISHED else None
    return items


def board_sections(village: Region) -> list[Section]:
    """Every category with its newest notices: one query for the counts, one for the rows
    (a window function ranks each category's notices), one or three for the decisions."""
    counts = dict(selectors.public_notices(village).order_by().values_list("category").annotate(n=Count("id")))
    ranked = (selectors.public_notices(village).only(*LIST_FIELDS)
              .annotate(rank=Window(RowNumber(), partition_by=[F("category")],
                                    order_by=[F("published_at").desc(), F("id").desc()]))
              .filter(rank__lte=OVERVIEW_PER_SECTION).order_by("-published_at", "-id"))
    items = _with_decisions(village, list(ranked))
    return [Section(category=c, label=CATEGORY_LABELS[c], count=counts.get(c, 0),
                    items=[i for i in items if i.category == c]) for c in CATEGORY_ORDER]


def board_section(request, village: Region, category: str) -> Section:
    rows = selectors.public_notices(village).filter(category=category).only(*LIST_FIELDS)
    page = paginate(request, rows)
    items = _with_decisions(village, list(page.object_list))
    return Section(category=category, label=CATEGORY_LABELS[category], count=page.paginator.count, items=items,
                   page=page)


def public_notice(village: Region, pk: int) -> PublicityItem | None:
    """A published (or corrected) notice of this village; None for drafts and other villages' notices."""
    return (PublicityItem.objects.select_related("supersedes")
            .filter(pk=pk, region=village, status__in=PUBLIC_STATUSES).first())


def _date(value) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        value = timezone.localtime(value)
    return f"{value.year}年{value.month}月{value.day}日"


@dataclass
class NoticeView:
    """One notice as the public reads it; the page and the PDF both render this."""

    item: PublicityItem
    village: Region
    place: str
    title: str
    category_label: str
    body: str
    table: Table
    period_text: str
    published_text: str
    supersedes: PublicityItem | None
    supersedes_date: str
    superseded_by: PublicityItem | None
    superseded_by_date: str
    decision: DecisionView | None


def notice_view(village: Region, item: PublicityItem) -> NoticeView:
    successor = None
    if item.status == PublicityStatus.SUPERSEDED:
        successor = (PublicityItem.objects.filter(supersedes=item, status__in=PUBLIC_STATUSES)
                     .only("id", "title", "published_at", "status").first())
    previous = item.supersedes if item.supersedes_id and item.supersedes.status in PUBLIC_STATUSES else None
    period = ""
    if item.period_start and item.period_end:
        period = f"{_date(item.period_start)}至{_date(item.period_end)}"
    elif item.period_start or item.period_end:
        period = _date(item.period_start or item.period_end)
    decision = None
    if item.decision_id and item.status == PublicityStatus.PUBLISHED:
        decision = public_decision_views(village, [item.decision_id]).get(item.decision_id)
    return NoticeView(
        item=item, village=village, place=place_of(village), title=item.title,
        category_label=CATEGORY_LABELS.get(item.category, "村务公开"), body=public_text(item.body),
        table=public_table(item.lines), period_text=period, published_text=_date(item.published_at),
        supersedes=previous, supersedes_date=_date(previous.published_at) if previous else "",
        superseded_by=successor, superseded_by_date=_date(successor.published_at) if successor else "",
        decision=decision)


# ---------------------------------------------------------------------------------------------
# views


def _public(response, *, private: bool = False):
    response["Referrer-Policy"] = "same-origin"  # "no-referrer" makes browsers send Origin: null (CSRF fails)
    response["X-Robots-Tag"] = "noindex"  # masked lists are for the village, not for search engines
    if private:
        response["Cache-Control"] = "no-store"
    return response


def _page(request, template: str, context: dict, status: int = 200, *, private: bool = False):
    return _public(render(request, f"village/public/{template}", context, status=status), private=private)


def _not_found(request, village: Region | None = None):
    return _page(request, "not_found.html", {"village": village}, status=404)


def _problem(request, title: str, message: str, status: int, *, back: str = "", village=None):
    return _page(request, "problem.html", {"title": title, "message": message, "back": back, "village": village},
                 status=status, private=True)


@gzip_page
@require_GET
def village_page(request, code: str):
    village = village_by_code(code)
    if village is None:
        return _not_found(request)
    category = (request.GET.get("c") or "").strip()
    if category and category not in CATEGORY_LABELS:
        return _not_found(request, village)
    context = {"village": village, "place": place_of(village), "categories": [(c, CATEGORY_LABELS[c])
                                                                              for c in CATEGORY_ORDER]}
    if category:
        context.update(section=board_section(request, village, category), focused=True)
    else:
        context.update(bodies=public_bodies(village), sections=board_sections(village),
                       per_section=OVERVIEW_PER_SECTION)
    return _page(request, "village.html", context)


def _ask_context(notice: NoticeView, *, values: dict | None = None, errors: dict | None = None,
                 key: str | None = None) -> dict:
    errors = errors or {}
    return {"ask": {"values": values or {}, "errors": errors, "key": key or new_key(),
                    "messages": [m for field_messages in errors.values() for m in field_messages]}}


@gzip_page
@require_GET
def notice_page(request, code: str, pk: int):
    village = village_by_code(code)
    item = public_notice(village, pk) if village else None
    if item is None:
        return _not_found(request, village)
    notice = notice_view(village, item)
    lines = paginate(request, notice.table.records())
    return _page(request, "notice.html", {"village": village, "notice": notice, "lines": lines,
                                          **_ask_context(notice)})


PDF_CACHE_SECONDS = 24 * 3600


@require_GET
def notice_pdf(request, code: str, pk: int):
    """The PDF. A published notice never changes (a correction is a new notice), so its bytes are
    cached by what can change its print: its status and its correction."""
    village = village_by_code(code)
    item = public_notice(village, pk) if village else None
    if item is None:
        return _not_found(request, village)
    notice = notice_view(village, item)
    url = request.build_absolute_uri(reverse("village_public:notice", args=[village.code, item.pk]))
    cache_key = (f"gongzhi:village:pdf:v1:{item.pk}:{item.status}:"
                 f"{notice.superseded_by.pk if notice.superseded_by else 0}:{url}")
    data = cache.get(cache_key)
    if data is None:
        from .pdf import render_notice

        try:
            data = render_notice(notice, url=url)
        except ImproperlyConfigured:
            logger.exception("cannot render the notice PDF")
            return _problem(request, "暂时不能下载", "公告的PDF暂时生成不了，请直接在网页上查看，或稍后再试。", 503,
                            back=reverse("village_public:notice", args=[village.code, item.pk]), village=village)
        cache.set(cache_key, data, PDF_CACHE_SECONDS)
    response = HttpResponse(data, content_type="application/pdf")
    filename = f"{item.title[:60]}.pdf".replace("/", "-").replace("\\", "-")
    response["Content-Disposition"] = f"inline; filename=\"notice-{item.pk}.pdf\"; filename*=UTF-8''{quote(filename)}"
    response["Content-Length"] = str(len(data))
    return _public(response)


ASK_MAX_BYTES = 64 * 1024
ASK_RATE_SCOPE = "resident_submit"  # the residents' page's budget: a question is a matter filed


@gzip_page
@csrf_exempt  # checked below, so that a failure keeps the resident's text (intake.web.csrf_failed)
@require_http_methods(["GET", "POST"])
def notice_ask(request, code: str, pk: int):
    village = village_by_code(code)
    item = public_notice(village, pk) if village else None
    if item is None:
        return _not_found(request, village)
    notice = notice_view(village, item)
    back = reverse("village_public:notice", args=[village.code, item.pk])
    if request.method == "GET":
        return _page(request, "ask.html", {"village": village, "notice": notice, **_ask_context(notice)},
                     private=True)
    if content_length(request) > ASK_MAX_BYTES:
        return _problem(request, "内容太长", "提交的内容太长了，请少写一些再提交。", 413, back=back,
                        village=village)
    if not ratelimit.allow(ASK_RATE_SCOPE, ratelimit.client_ip(request)):
        response = _problem(request, "提交太频繁", "您提交得太快了，请过几分钟再试。如有急事，请直接到村委会反映。",
                            429, back=back, village=village)
        response["Retry-After"] = str(ratelimit.retry_after(ASK_RATE_SCOPE))
        return response
    try:
        post = request.POST
        values = {name: clean(post.get(name, ""), multiline=name == "text") for name in ("text", "name", "phone")}
        raw_key = post.get("key")
        honeypot = (post.get("website") or "").strip()
    except BAD_BODY:
        return _problem(request, "没有提交成功", "提交的内容格式不对，请返回重新填写。", 400, back=back,
                        village=village)
    try:
        key = validate_key(raw_key)
    except ValueError:
        key = None

    def again(errors: dict, status: int):
        return _page(request, "ask.html", {"village": village, "notice": notice,
                                           **_ask_context(notice, values=values, errors=errors, key=key)},
                     status=status, private=True)

    if csrf_failed(request):  # the text stays in the form; one more tap sends it
        return again({"__all__": ["页面已过期，请再点一次“提交”。您填写的内容还在。"]}, 403)
    if honeypot:
        return again({"__all__": ["提交没有成功，请刷新页面后重新填写"]}, 400)
    try:
        asked = questions.publicity_question_ask(item=item, key=key, **values)
    except ValidationError as exc:
        errors = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
        return again(errors, 400)
    except KeyReused as exc:
        code_ = (exc.row.response or {}).get("tracking_code", "")
        return _page(request, "ask.html", {"village": village, "notice": notice, "already": code_,
                                           "already_grouped": group_code(code_), **_ask_context(notice)},
                     status=409, private=True)
    return redirect(f"{reverse('resident:track', args=[asked.tracking_code])}?new=1")
