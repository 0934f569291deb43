"""一季度一通报: the quarterly bulletin's content, and its PDF and Excel.

``build_content`` assembles everything from the indicator catalogue and the assessment (no input
typed by anyone): the headline ledger figures, the tables of towns, villages (ranked among peers of
similar index), departments and handlers, the commendations and prodding proposed or decided, and
the after-the-fact explanations that lifted a timeliness penalty. Every number is a cell
``{"text": …, "url": …}`` whose url opens the records behind it; the PDF and the workbook carry the
same links (absolute, under ``settings.GONGZHI_SITE_URL``).

Content is JSON so that an issued bulletin is frozen as it was read: the PDF and the workbook are
rendered from the stored content, never recomputed.
"""
from __future__ import annotations

import io

from django.conf import settings
from django.utils import timezone

from gongzhi.cases.choices import Ledger

from . import indicators as catalogue
from .indicators import Period
from .models import Measure, Proposal, Standing
from .ranking import assess, villages_within

HEADLINE = ["case_accepted", "case_closed", "case_closure_rate", "case_on_time_rate", "case_satisfaction_rate",
            "case_rework_rate", "case_score", "contacts_made", "red_visits_kept", "decisions_carried_out",
            "key_tasks_done", "needs_delivered", "volunteer_hours"]
UNIT_COLUMNS = ["case_accepted", "case_closed", "case_closure_rate", "case_on_time_rate", "case_satisfaction_rate",
                "case_score"]
STANDING_ZH = {Standing.ACTIVE: "先进", Standing.ORDINARY: "一般", Standing.PASSIVE: "后进",
               Standing.FORMAL: "形式化"}
CLASS_ZH = {"urban": "城市社区", "rural": "农村", "town": "镇（街道）", "department": "部门", "person": "干部"}


def _cell(text, url: str = "") -> dict:
    return {"text": str(text), "url": url}


def _fig_cell(assessed, code: str, period: Period) -> dict:
    fig = assessed.figures.get(code)
    if fig is None:
        return _cell("—")
    return _cell(fig.display(), catalogue.BY_CODE[code].provenance_url(assessed.kind, assessed.subject_id, period))


def _unit_table(title: str, rows, period: Period, *, with_index: bool) -> dict:
    columns = ["名称"] + (["类别", "指数", "同类组"] if with_index else []) + \
        [catalogue.BY_CODE[c].name for c in UNIT_COLUMNS] + ["综合得分", "同类排名", "评定"]
    body = []
    for a in rows:
        row = [_cell(a.name)]
        if with_index:
            row += [_cell(CLASS_ZH.get(a.unit_class, a.unit_class)), _cell("—" if a.index is None else a.index),
                    _cell(a.peer_group.split("-")[-1] + "指数组" if "-" in a.peer_group else a.peer_group)]
        row += [_fig_cell(a, c, period) for c in UNIT_COLUMNS]
        row += [_cell("—" if a.composite is None else a.composite),
                _cell("—" if a.rank is None else f"{a.rank}/{a.peers}"), _cell(STANDING_ZH.get(a.standing, ""))]
        body.append(row)
    return {"title": title, "columns": columns, "rows": body}


def build_content(*, user, scope_kind: str, region=None, department=None, period: Period) -> dict:
    county = region if scope_kind == "county" else (region.county if region is not None else department.county)
    kinds = ("village", "town", "department", "user")
    assessment = assess(user=user, county=county, period=period, kinds=kinds)
    within = region if scope_kind in ("county", "town") else None
    sections = []

    # 1. Headline figures (the Shiquan ledger's: accepted, closed, closure rate, satisfaction …).
    subject_kind, subject_id = ("county", county.pk) if scope_kind == "county" else (
        ("town", region.pk) if scope_kind == "town" else ("department", department.pk))
    head = []
    for code in HEADLINE:
        ind = catalogue.BY_CODE[code]
        if scope_kind == "department":
            fig = ind.compute(user=user, period=period, kind="department").get(department.pk)
            if "department" not in ind.subjects:
                continue
        else:
            fig = ind.total_of(user=user, period=period, within=within)
        text = fig.display() if fig is not None else "—"
        head.append([_cell(ind.name), _cell(text, ind.provenance_url(subject_kind, subject_id, period)),
                     _cell("" if code not in assessment.forbidden else "负面清单：不计入排名")])
    exempted = catalogue.exempted_in(user=user, period=period, within=within)
    head.append([_cell("事后备案说明（不扣时效分）"), _cell(exempted, _exemptions_url(period)), _cell("")])
    sections.append({"title": "一、主要指标", "columns": ["指标", "数值", "说明"], "rows": head})

    # 2. Scores by ledger (the secretaries' three ledgers).
    by_ledger = _ledger_scores(user=user, period=period, within=within, department=department)
    sections.append({"title": "二、一件一考评（按台账）", "columns": ["台账", "评分件数", "平均分"], "rows": by_ledger})

    # 3. Units ranked among peers.
    if scope_kind in ("county", "town"):
        villages = villages_within(assessment.subjects.get("village", []), region)
        if scope_kind == "county":
            sections.append(_unit_table("三、镇（街道）通报", assessment.subjects.get("town", []), period,
                                        with_index=False))
        sections.append(_unit_table("四、村（社区）通报（与指数相近的同类村比较）", villages, period, with_index=True))
    if scope_kind in ("county", "department"):
        departments = [a for a in assessment.subjects.get("department", [])
                       if scope_kind == "county" or a.subject_id == department.pk]
        sections.append(_unit_table("五、部门通报", departments, period, with_index=False))

    # 4. Commendations and prodding (proposed and decided), with who decided.
    sections.append(_proposals_section(user=user, period=period, scope_kind=scope_kind, region=region,
                                       department=department))
    title = {"county": f"{county.name}", "town": f"{region.name}" if region else "",
             "department": f"{department.name}" if department else ""}[scope_kind]
    return {
        "title": f"{title}{period.label}基层治理工作通报",
        "period": period.code, "period_label": period.label, "scope_kind": scope_kind,
        "generated_at": timezone.localtime().isoformat(timespec="seconds"),
        "note": "本通报全部数字由平台从办理记录自动计算，未经手工填报；点击任一数字可查看其依据的记录。",
        "sections": sections,
    }


def _exemptions_url(period: Period) -> str:
    from django.urls import reverse
    return reverse("assessment:exemptions") + f"?period={period.code}&status=accepted"


def _ledger_scores(*, user, period: Period, within, department) -> list:
    from django.db.models import Avg, Count
    ind = catalogue.BY_CODE["case_score"]
    qs = ind.rows(user=user, period=period, within=within)
    if department is not None:
        qs = qs.filter(department=department)
    rows = {r["ledger"]: r for r in qs.order_by().values("ledger").annotate(n=Count("pk"), avg=Avg("score"))}
    out = []
    for value, label in Ledger.choices:
        r = rows.get(value)
        url = ind.provenance_url("county", None, period)
        out.append([_cell(label), _cell(r["n"] if r else 0, url),
                    _cell(f"{r['avg']:.2f}" if r and r["avg"] is not None else "—", url)])
    return out


def _proposals_section(*, user, period, scope_kind, region, department) -> dict:
    qs = Proposal.objects.visible_to(user, "assessment.view_proposal").filter(year=period.year, quarter=period.quarter)
    if scope_kind == "town" and region is not None:
        qs = qs.filter(town_id=region.pk)
    if scope_kind == "department" and department is not None:
        qs = qs.filter(department=department)
    rows = []
    for p in qs.select_related("decided_by").order_by("standing", "subject_name"):
        decided = p.get_status_display() + (f"（{p.decided_by}）"
                                            if p.decided_by else "")
        rows.append([_cell(p.subject_name), _cell(STANDING_ZH.get(p.standing, p.standing)),
                     _cell(Measure(p.measure).label), _cell(decided)])
    return {"title": "六、激励与鞭策（平台提出，经负责人决定）", "columns": ["对象", "评定", "措施", "决定"], "rows": rows}


# ---- rendering --------------------------------------------------------------------------------

def absolute(url: str) -> str:
    if not url or url.startswith("http"):
        return url
    return getattr(settings, "GONGZHI_SITE_URL", "http://localhost:8000").rstrip("/") + url


def render_pdf(content: dict) -> bytes:
    from fpdf import FPDF
    from fpdf.enums import TableCellFillMode
    from fpdf.fonts import FontFace

    from gongzhi.village.pdf import FONT, font_path

    pdf = FPDF(orientation="L", unit="mm", format="A4")
    pdf.add_font(FONT, fname=str(font_path()))
    pdf.set_auto_page_break(True, margin=12)
    pdf.add_page()
    pdf.set_font(FONT, size=16)
    pdf.multi_cell(0, 9, content["title"], align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, size=9)
    pdf.multi_cell(0, 5, content["note"], new_x="LMARGIN", new_y="NEXT")
    pdf.multi_cell(0, 5, f"生成时间：{content['generated_at']}    版本：{content.get('version', 1)}"
                   f"    状态：{content.get('status_label', '')}", new_x="LMARGIN", new_y="NEXT")
    for section in content["sections"]:
        pdf.ln(3)
        pdf.set_font(FONT, size=12)
        pdf.multi_cell(0, 7, section["title"], new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(FONT, size=7 if len(section["columns"]) > 8 else 9)
        if not section["rows"]:
            pdf.multi_cell(0, 6, "（本期无）", new_x="LMARGIN", new_y="NEXT")
            continue
        with pdf.table(headings_style=FontFace(emphasis="", fill_color=(215, 215, 215)), cell_fill_color=(240, 240, 240), cell_fill_mode=TableCellFillMode.ROWS,
                       line_height=5, first_row_as_headings=True) as table:
            head = table.row()
            for column in section["columns"]:
                head.cell(column)
            for cells in section["rows"]:
                row = table.row()
                for cell in cells:
                    row.cell(cell["text"], link=absolute(cell["url"]) or None)
    return bytes(pdf.output())


def render_xlsx(content: dict) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = "通报"
    ws.append([content["title"]])
    ws["A1"].font = Font(size=14, bold=True)
    ws.append([content["note"]])
    ws.append([f"生成时间：{content['generated_at']}", f"版本：{content.get('version', 1)}",
               f"状态：{content.get('status_label', '')}"])
    for k, section in enumerate(content["sections"], 1):
        sheet = wb.create_sheet(title=f"{k}")
        sheet.append([section["title"]])
        sheet.append(section["columns"])
        for cells in section["rows"]:
            sheet.append([cell["text"] for cell in cells])
            for column, cell in enumerate(cells, 1):
                if cell["url"]:
                    target = sheet.cell(row=sheet.max_row, column=column)
                    target.hyperlink = absolute(cell["url"])
                    target.style = "Hyperlink"
        ws.append([section["title"], f"见工作表“{k}”"])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()

