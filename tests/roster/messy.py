"""A deliberately messy village roster of 五一村 (world village A1), as a village would keep it."""
from __future__ import annotations

import datetime as dt

from .conftest import fullwidth, impossible_birth, pid, pid_ending_in_x, with_bad_check

HEADER = ["户编号", "家庭住址", "网格", "年收入（元）", "贫困状态", "平安家庭年份", "姓名", "身份证号码", "关系",
          "手机号", "留守情况", "残疾等级", "刑满释放日期", "民族"]


class MessyRoster:
    """Rows and the facts tests check against. Row numbers are the spreadsheet's."""

    def __init__(self, world):
        self.world = world
        self.head_101 = pid(dt.date(1968, 4, 9), 11)
        self.wife_101 = pid_ending_in_x(dt.date(1970, 8, 21))
        self.son_101 = pid(dt.date(2015, 6, 1), 13)
        self.head_102 = pid(dt.date(1955, 2, 3), 15)
        self.wife_102 = pid(dt.date(1957, 9, 30), 16, male=False)
        self.head_103 = pid(dt.date(1960, 1, 15), 17)
        self.head_104 = pid(dt.date(1962, 3, 3), 19)
        self.head_105 = pid(dt.date(1964, 5, 5), 21)
        self.head_106 = pid(dt.date(1966, 7, 7), 23)
        self.head_107 = pid(dt.date(1972, 9, 9), 25)
        self.cousin_108 = pid(dt.date(1974, 11, 11), 27)
        self.head_109a = pid(dt.date(1976, 1, 1), 29)
        self.head_109b = pid(dt.date(1977, 2, 2), 31)
        self.head_110 = pid(dt.date(1979, 3, 3), 33)
        self.daughter_111 = pid(dt.date(2001, 4, 4), 35, male=False)
        self.li_xiuying = world.persons["A1-2"]
        self.li_qiang = world.persons["party_member"]
        self.zhang = world.persons["A1-1"]

    def rows(self) -> list[list]:
        zhang_id = self.zhang.id_number
        return [
            ["五一村2024年户籍花名册"] + [None] * 13,                                              # 1 title
            ["填报单位：五一村村委会", None, None, None, "填报日期：2024年3月1日"] + [None] * 9,     # 2 subtitle
            HEADER,                                                                                # 3 header
            [" H-101 ", "五一村３组12号", "A1-2", 35000, "脱贫户", "2022、2023、2024", "王 大山",
             fullwidth(self.head_101[:9]) + " " + self.head_101[9:], "户主", 13812345678.0, "", "", "", "汉"],  # 4
            ["H-101", None, None, None, None, None, "刘小芳", self.wife_101.lower(), "妻子", "139 1234 5678",
             "留守妇女", "", "", "汉"],                                                           # 5
            ["H-101", None, None, None, None, None, "王小明", self.son_101, "长子", "", "留守儿童", "二级", "", "汉"],  # 6
            [None] * 14,                                                                           # 7 blank
            ["H-102", "五一村5组1号", "A1-2", 8000, "", "", "陈老汉", with_bad_check(self.head_102), "户主",
             "", "留守老人", "", "", ""],                                                          # 8 bad check digit
            ["H-102", None, None, None, None, None, "陈大娘", self.wife_102, "配偶", "", "", "", "", ""],  # 9
            ["H-103", "五一村6组2号", "九组网格", 12000, "", "", "周强", self.head_103, "户主", "", "", "", "", ""],  # 10
            ["H-104", "五一村6组8号", "A1-2", 15000, "", "", "吴刚", self.head_104, "户主", "", "", "", "", ""],  # 11
            ["H-104", None, None, None, None, None, "吴小刚", self.head_104, "子", "", "", "", "", ""],  # 12 dup ID
            ["H-105", "五一村7组3号", "A1-2", 20000, "", "", "郑华", self.head_105, "户主", "", "", "", "", ""],  # 13
            ["H-105", None, None, None, None, None, "张建国", zhang_id, "父亲", "", "", "", "", ""],  # 14 elsewhere
            ["H-106", "五一村1组9号", "A1", 9000, "", "", "孙立", self.head_106, "户主", "", "", "", "", ""],  # 15
            ["H-107", "五一村2组4号", "A1-2", "abc", "", "", "何亮", self.head_107, "户主", "", "", "",
             "2024年1月2日", ""],                                                                   # 16 bad income
            ["H-108", "五一村2组5号", "A1-2", 10000, "", "", "钱多", self.cousin_108, "表哥", "", "", "", "", ""],  # 17
            ["H-109", "五一村2组6号", "A1-2", 10000, "", "", "冯一", self.head_109a, "户主", "", "", "", "", ""],  # 18
            ["H-109", None, None, None, None, None, "冯二", self.head_109b, "户主", "", "", "", "", ""],  # 19 2 heads
            ["H-110", "五一村2组7号", "A1-2", 10000, "", "", "褚三", self.head_110, "户主", "12345", "", "", "", ""],  # 20
            ["H-111", "五一村2组8号", "A1-2", 10000, "", "", "卫四", self.daughter_111, "女儿", "", "", "", "", ""],  # 21
            ["H-112", "五一村2组9号", "A1-2", 10000, "", "", "蒋五", impossible_birth(), "户主", "", "", "", "", ""],  # 22
            ["H-113", "五一村3组1号", "A1-2", 10000, "", "", "沈六", "61092119800101123", "户主", "", "", "", "", ""],  # 23
            ["H-A1-2", "五一村A1-2号", "A1-2", 12500, "", "", "李秀英", self.li_xiuying.id_number, "户主",
             "13700001111", "", "", "", ""],                                                       # 24 update
            ["H-A1-2", None, None, None, None, None, "李强", self.li_qiang.id_number, "儿子", "", "", "", "", ""],  # 25
            [None] * 14,
            ["填表人：王会计"] + [None] * 13,                                                       # 27 footer
        ]
