"""The roster layouts a village keeps, shared by import (reading) and export (writing).

A layout is a list of columns. Each column has a canonical key (used in code), the header the
export writes, and the header synonyms the import accepts. Headers are compared after
``header_key`` (NFKC, no spaces, no ``*`` required-markers, no trailing unit such as "（元）").

Vocabularies (relation, poverty status, left behind, disability grade) are defined here once in
both directions: the words the import understands, and the one word the export writes for each
value, chosen so that an exported file imports back to the same data.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from gongzhi.registry.models import LeftBehind, PovertyStatus, Relation


@dataclass(frozen=True)
class Column:
    key: str
    header: str  # what the export writes (and the first accepted synonym)
    synonyms: tuple[str, ...] = ()
    required: bool = False
    text: bool = False  # written as a text cell (ID numbers, phones, codes keep their digits)

    @property
    def accepted(self) -> tuple[str, ...]:
        return (self.header, *self.synonyms)


HOUSEHOLD_COLUMNS: tuple[Column, ...] = (
    Column("household_code", "户号", ("户编号", "户主编号", "家庭户号", "家庭编号", "户口编号"), required=True, text=True),
    # Not required: a roster without addresses imports when each household's group is given
    # (checks._household_target falls back to the group and the report says so).
    Column("address", "家庭住址", ("住址", "地址", "家庭地址", "现住址", "居住地址", "家庭详细住址")),
    Column("grid", "所属网格", ("网格", "所在网格", "网格编码", "网格编号"), text=True),
    Column("group", "所属村组", ("村组", "村民小组", "所属小组", "小组", "组别", "所属村民小组"), text=True),
    Column("annual_income", "家庭年收入", ("年收入", "家庭收入", "家庭年纯收入", "年纯收入")),
    Column("poverty_status", "脱贫户属性", ("贫困状态", "脱贫属性", "贫困户属性", "户属性", "帮扶属性")),
    Column("peaceful_years", "平安家庭年份", ("平安家庭", "平安家庭年度", "平安家庭评定年份")),
    Column("name", "姓名", ("名字", "成员姓名"), required=True),
    Column("id_number", "身份证号", ("身份证号码", "公民身份号码", "身份证", "证件号码", "公民身份证号码"), required=True, text=True),
    Column("relation", "与户主关系", ("关系", "与户主的关系", "家庭关系", "与户主关系名称"), required=True),
    Column("phone", "联系电话", ("电话", "手机号", "手机号码", "手机", "电话号码", "联系方式"), text=True),
    Column("left_behind", "留守情况", ("留守类型", "是否留守", "留守人员类型")),
    Column("disability_grade", "残疾等级", ("残疾级别", "残疾情况")),
    Column("released_on", "刑满释放日期", ("刑释日期", "释放日期", "刑满释放时间")),
    Column("village_code", "村（社区）代码", ("村社区代码", "村代码", "社区代码", "行政村代码", "村社区区划代码"), text=True),
)

GRID_COLUMNS: tuple[Column, ...] = (
    Column("code", "网格编码", ("网格编号", "网格代码"), required=True, text=True),
    Column("name", "网格名称", ("网格名",), required=True),
    Column("level", "网格层级", ("层级", "网格级别", "级别"), required=True),
    Column("parent_code", "上级网格编码", ("上级网格", "上级网格编号", "上级网格代码"), text=True),
    Column("group", "所属村组", ("村组", "村民小组", "所属小组", "所属区域", "覆盖村组"), text=True),
    Column("head_id", "网格长身份证号", ("网格长身份证号码", "网格长公民身份号码", "网格长身份证"), text=True),
    Column("head_name", "网格长姓名", ("网格长",)),
    Column("worker_id", "网格员身份证号", ("网格员身份证号码", "网格员公民身份号码", "网格员身份证"), text=True),
    Column("worker_name", "网格员姓名", ("网格员",)),
    Column("village_code", "村（社区）代码", ("村社区代码", "村代码", "社区代码", "行政村代码", "村社区区划代码"), text=True),
)

LAYOUTS = {"households": HOUSEHOLD_COLUMNS, "grids": GRID_COLUMNS}
KIND_TITLES = {"households": "户籍花名册", "grids": "网格花名册"}

# Household columns that describe the household (repeated, or merged, on each member's row).
HOUSEHOLD_FIELDS = ("address", "grid", "group", "annual_income", "poverty_status", "peaceful_years")
PERSON_FIELDS = ("name", "relation", "phone", "left_behind", "disability_grade", "released_on")

LABELS = {column.key: column.header for layout in LAYOUTS.values() for column in layout}


def header_key(text) -> str:
    """The comparable form of a header cell: 身份证号码（必填）* → 身份证号码."""
    text = unicodedata.normalize("NFKC", str(text or ""))
    text = re.sub(r"\s+", "", text).replace("*", "").replace("：", "").replace(":", "")
    text = re.sub(r"\([^()]*\)$", "", text)  # a trailing unit or note: (元) (必填)
    return re.sub(r"[()\[\]【】]", "", text)


def synonym_index(kind: str) -> dict[str, str]:
    index = {}
    for column in LAYOUTS[kind]:
        for name in column.accepted:
            index.setdefault(header_key(name), column.key)
    return index


# ---------------------------------------------------------------------------------------------
# vocabularies

RELATION_WORDS = {
    Relation.HEAD: ("户主", "本人", "户主本人"),
    Relation.SPOUSE: ("配偶", "妻", "妻子", "夫", "丈夫", "老伴", "爱人"),
    Relation.CHILD: ("子", "女", "儿子", "女儿", "子女", "长子", "次子", "三子", "四子", "五子", "长女", "次女",
                     "三女", "四女", "五女", "独生子", "独生女", "养子", "养女", "继子", "继女", "儿", "小儿子", "小女儿"),
    Relation.PARENT: ("父亲", "母亲", "父", "母", "父母", "岳父", "岳母", "公公", "婆婆", "继父", "继母", "养父", "养母"),
    Relation.GRANDCHILD: ("孙子", "孙女", "孙子女", "外孙", "外孙子", "外孙女", "孙", "重孙", "重孙子", "重孙女"),
    Relation.GRANDPARENT: ("祖父", "祖母", "祖父母", "外祖父", "外祖母", "爷爷", "奶奶", "外公", "外婆", "姥爷", "姥姥"),
    Relation.SIBLING: ("兄弟", "姐妹", "兄弟姐妹", "兄", "弟", "姐", "妹", "哥哥", "弟弟", "姐姐", "妹妹"),
    Relation.CHILD_IN_LAW: ("儿媳", "女婿", "儿媳妇", "媳妇", "儿媳女婿"),
    Relation.OTHER: ("其他", "其它", "侄子", "侄女", "外甥", "外甥女", "孙媳", "孙女婿", "其他亲属", "非亲属"),
}
RELATION_BY_WORD = {word: value for value, words in RELATION_WORDS.items() for word in words}

# The word the export writes: by the person's sex where Chinese has one word per sex.
RELATION_EXPORT = {
    Relation.HEAD: ("户主", "户主"),
    Relation.SPOUSE: ("配偶", "配偶"),
    Relation.CHILD: ("儿子", "女儿"),
    Relation.PARENT: ("父亲", "母亲"),
    Relation.GRANDCHILD: ("孙子", "孙女"),
    Relation.GRANDPARENT: ("祖父", "祖母"),
    Relation.SIBLING: ("兄弟", "姐妹"),
    Relation.CHILD_IN_LAW: ("女婿", "儿媳"),
    Relation.OTHER: ("其他", "其他"),
}


def relation_word(relation: str, sex: str) -> str:
    male, female = RELATION_EXPORT.get(relation, ("", ""))
    return male if sex == "M" else female


POVERTY_WORDS = {
    PovertyStatus.NONE: ("", "无", "否", "一般户", "非贫困户", "正常户", "普通户"),
    PovertyStatus.LIFTED: ("脱贫户", "已脱贫", "脱贫", "脱贫人口", "建档立卡脱贫户"),
    PovertyStatus.MONITORED: ("监测户", "监测对象", "防返贫监测户", "防返贫监测对象", "边缘户", "脱贫不稳定户",
                              "边缘易致贫户", "突发严重困难户"),
    PovertyStatus.LOW_INCOME: ("低保户", "低保", "低保对象"),
    PovertyStatus.EXTREME: ("特困户", "特困", "特困供养", "五保户", "五保"),
}
POVERTY_BY_WORD = {word: value for value, words in POVERTY_WORDS.items() for word in words}
POVERTY_EXPORT = {value: words[0] for value, words in POVERTY_WORDS.items()}

LEFT_BEHIND_WORDS = {
    LeftBehind.NONE: ("", "无", "否", "非留守", "不是"),
    LeftBehind.ELDERLY: ("留守老人", "老人"),
    LeftBehind.CHILD: ("留守儿童", "儿童"),
    LeftBehind.WOMAN: ("留守妇女", "妇女"),
}
LEFT_BEHIND_BY_WORD = {word: value for value, words in LEFT_BEHIND_WORDS.items() for word in words}
LEFT_BEHIND_EXPORT = {value: words[0] for value, words in LEFT_BEHIND_WORDS.items()}

DISABILITY_EXPORT = {1: "一级", 2: "二级", 3: "三级", 4: "四级"}
GRID_LEVEL_EXPORT = {1: "一级网格", 2: "二级网格", 3: "三级网格"}
CHINESE_NUMERALS = {"一": 1, "二": 2, "三": 3, "四": 4, "壹": 1, "贰": 2, "叁": 3, "肆": 4}
