"""Enumerations of the cases domain (kept apart from the models so the workflow table, the
catalogue data and the data migration can import them without importing models)."""
from django.db import models


class Ledger(models.TextChoices):
    """书记民情"三本账": every case sits in exactly one of the three ledgers."""

    OPINION = "opinion", "意见建议"
    DEMAND = "demand", "利益诉求"
    COMPLAINT = "complaint", "投诉举报"


class MatterKind(models.TextChoices):
    """What kind of matter it is; the default time limits are per kind (table ``TimeLimitDefault``)."""

    CONSULTATION = "consultation", "咨询"
    HELP = "help", "求助"
    SUGGESTION = "suggestion", "意见建议"
    COMPLAINT = "complaint", "投诉"
    REPORT = "report", "举报"
    DISPUTE = "dispute", "矛盾纠纷"
    PETITION = "petition", "信访事项"
    OTHER = "other", "其他"


class Level(models.TextChoices):
    """The tier at which a case is handled / was settled. Departments (条) count as county."""

    GRID = "grid", "网格"
    VILLAGE = "village", "村（社区）"
    TOWN = "town", "镇（街道）"
    COUNTY = "county", "县"


LEVEL_ORDER = [Level.GRID, Level.VILLAGE, Level.TOWN, Level.COUNTY]
LEVEL_RANK = {level.value: i for i, level in enumerate(LEVEL_ORDER)}


class Channel(models.TextChoices):
    HOTLINE = "hotline", "热线电话"
    MINI_PROGRAM = "mini_program", "小程序"
    WECHAT = "wechat", "微信公众号"
    APP = "app", "App"
    GRID_PATROL = "grid_patrol", "网格巡查"
    WINDOW = "window", "窗口来访"
    WEB = "web", "网页"
    THREE_LINE = "three_line", "三线联系"
    OPEN311 = "open311", "Open311 接口"


class CaseStatus(models.TextChoices):
    PENDING_INSTRUCTION = "pending_instruction", "待书记阅批"
    REGISTERED = "registered", "已建账待受理"
    ACCEPTED = "accepted", "已受理待交办"
    ASSIGNED = "assigned", "已交办待签收"
    IN_PROGRESS = "in_progress", "办理中"
    RETURNED = "returned", "已退回待重新交办"
    SUSPENDED = "suspended", "缓办中"
    RESULT_REPORTED = "result_reported", "已反馈待书记把关"
    APPROVED = "approved", "已把关待回复"
    AWAITING_FEEDBACK = "awaiting_feedback", "已回复待征询"
    EVALUATED = "evaluated", "已评价待销号"
    SETTLING = "settling", "就地化解待确认"
    CLOSED = "closed", "已销号归档"


OPEN_STATUSES = [s for s in CaseStatus.values if s != CaseStatus.CLOSED]


class Satisfaction(models.TextChoices):
    SATISFIED = "satisfied", "满意"
    BASIC = "basic", "基本满意"
    DISSATISFIED = "dissatisfied", "不满意"
    UNREACHABLE = "unreachable", "联系不上"


class ClosedAs(models.TextChoices):
    RESOLVED = "resolved", "已解决"
    UNRESOLVED = "unresolved", "未解决"
    NOT_ACCEPTED = "not_accepted", "不予受理"


class MediationOutcome(models.TextChoices):
    NONE = "", "—"
    MEDIATED = "mediated", "调解成功"
    FAILED = "failed", "调解不成"
    REFERRED = "referred", "引导诉讼、仲裁等途径"
    WITHDRAWN = "withdrawn", "当事人撤回"


class Limit(models.TextChoices):
    ACCEPTANCE = "acceptance", "受理时限"
    RESPONSE = "response", "首次响应时限"
    RESOLUTION = "resolution", "办结时限"
    EXTENSION = "extension", "延期上限"


class RequestKind(models.TextChoices):
    EXTENSION = "extension", "延期"
    SUSPENSION = "suspension", "缓办"


class RequestStatus(models.TextChoices):
    PENDING = "pending", "待审批"
    APPROVED = "approved", "已批准"
    REJECTED = "rejected", "未批准"


class AttachmentKind(models.TextChoices):
    INTAKE = "intake", "来件材料"
    EVIDENCE = "evidence", "办理佐证"
    OTHER = "other", "其他"


__all__ = [
    "AttachmentKind", "CaseStatus", "Channel", "ClosedAs", "LEVEL_ORDER", "LEVEL_RANK", "Ledger", "Level",
    "Limit", "MatterKind", "MediationOutcome", "OPEN_STATUSES", "RequestKind", "RequestStatus",
    "Satisfaction",
]
