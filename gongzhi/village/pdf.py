"""A notice as an A4 PDF for the village board (村务公开栏), with fpdf2 and an embedded Chinese font.

Why fpdf2 and this font
* fpdf2 is pure Python (its dependencies fontTools, Pillow and defusedxml are wheels), embeds
  TrueType *and* CFF-flavoured OpenType fonts as a subset of the glyphs used (a one-page notice
  is about 10 kB), breaks Chinese lines between characters and repeats table headings on every
  page. ReportLab embeds TrueType outlines only (Noto/Source Han CJK are CFF) and its built-in
  CJK fonts (STSong-Light) are *not* embedded, so a board printer without Adobe's Asian font pack
  would print boxes.
* The font is Noto Sans SC Regular (SIL Open Font License) from the PyPI package
  ``pylopdf-fonts-zh-cn`` — font files only, no dependencies — so ``pip install`` (the demo, CI,
  production) brings it and the repository holds no font. It is pinned to one version: the
  package is small and young, and a font is not something to take updates of unseen. We locate
  the file without importing the package (no code of it runs here). A deployment may point
  ``settings.GONGZHI_PDF_FONT`` at another TTF/OTF (e.g. Debian's fonts-noto-cjk).
* One weight only: headings are set by size, table headings by a grey fill instead of bold.

The renderer takes a prepared notice (``public.NoticeView``): the table is already masked
(names, ID numbers, phones — ``public.public_table``), so the PDF can show nothing the page does not.
"""
from __future__ import annotations

import importlib.util
import io
import logging
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

logger = logging.getLogger(__name__)

FONT_PACKAGE = "pylopdf_fonts_zh_cn"
FONT_FILE = "NotoSansSC-Regular.otf"
FONT = "notosanssc"


def font_path() -> Path:
    configured = getattr(settings, "GONGZHI_PDF_FONT", "")
    if configured:
        path = Path(configured)
    else:
        spec = importlib.util.find_spec(FONT_PACKAGE)  # finds the package; does not run it
        if spec is None or not spec.submodule_search_locations:
            raise ImproperlyConfigured(f"the PDF font package {FONT_PACKAGE} is not installed: pip install -e .")
        path = Path(next(iter(spec.submodule_search_locations))) / FONT_FILE
    if not path.is_file():
        raise ImproperlyConfigured(f"the PDF font {path} is missing")
    return path


def _qr_png(url: str) -> io.BytesIO | None:
    try:
        import segno
    except ImportError:  # pragma: no cover - segno is a dependency (the second factor's QR code)
        return None
    out = io.BytesIO()
    segno.make(url, error="m").save(out, kind="png", scale=6, border=2)
    out.seek(0)
    return out


def _width(text: str) -> int:
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)


def _column_weights(headers: list[str], rows: list[list[str]]) -> tuple[int, ...]:
    weights = []
    for i, header in enumerate(headers):
        longest = max([_width(header)] + [_width(row[i]) for row in rows[:500]])
        weights.append(min(max(longest, 4), 28))
    return tuple(weights)


def render_notice(notice, *, url: str) -> bytes:
    """The notice as PDF bytes. ``url``: the notice's public page (printed, and as a QR code)."""
    from fpdf import FPDF
    from fpdf.fonts import FontFace

    place = notice.place
    footer_text = f"{place} 村务公开"

    class Board(FPDF):
        def footer(self):
            self.set_y(-14)
            self.set_font(FONT, size=9)
            self.set_text_color(80, 80, 80)
            self.cell(0, 6, f"{footer_text} · 第 {self.page_no()} 页，共 {{nb}} 页", align="C")

    pdf = Board(orientation="portrait", unit="mm", format="A4")
    pdf.set_margins(18, 16, 18)
    pdf.set_auto_page_break(auto=True, margin=20)
    pdf.add_font(FONT, fname=str(font_path()))
    pdf.set_title(notice.title)
    pdf.set_author(place)
    pdf.set_subject(f"村务公开 · {notice.category_label}")
    pdf.set_creator("共治 Gongzhi")
    pdf.set_lang("zh-CN")
    pdf.alias_nb_pages()
    pdf.add_page()
    width = pdf.epw

    pdf.set_font(FONT, size=11)
    pdf.set_text_color(60, 60, 60)
    pdf.cell(width, 6, f"{place} · 村务公开 · {notice.category_label}", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.set_text_color(0, 0, 0)
    pdf.set_font(FONT, size=20)
    pdf.multi_cell(width, 10, notice.title, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(1)
    pdf.set_font(FONT, size=11)
    meta = [f"公开时间：{notice.published_text}"]
    if notice.period_text:
        meta.insert(0, f"公开期间：{notice.period_text}")
    pdf.cell(width, 6, "　　".join(meta), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)

    if notice.superseded_by is not None:
        pdf.set_draw_color(176, 0, 32)
        pdf.set_text_color(176, 0, 32)
        pdf.set_font(FONT, size=13)
        pdf.multi_cell(width, 8, f"本公告已被更正，请以{notice.superseded_by_date}公开的更正公告"
                                 f"《{notice.superseded_by.title}》为准。", border=1, align="C", padding=2,
                       new_x="LMARGIN", new_y="NEXT")
        pdf.set_text_color(0, 0, 0)
        pdf.set_draw_color(0, 0, 0)
        pdf.ln(3)
    if notice.supersedes is not None:
        pdf.set_font(FONT, size=12)
        pdf.multi_cell(width, 7, f"本公告更正{notice.supersedes_date}公开的《{notice.supersedes.title}》。",
                       align="L", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(2)

    if notice.body:
        pdf.set_font(FONT, size=13)
        pdf.multi_cell(width, 7.5, notice.body, align="L", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(3)

    table = notice.table
    if table.rows:
        pdf.set_font(FONT, size=11)
        align = tuple("RIGHT" if numeric else "LEFT" for numeric in table.numeric)
        with pdf.table(col_widths=_column_weights(table.headers, table.rows), text_align=align,
                       headings_style=FontFace(emphasis="", fill_color=(225, 225, 225)), line_height=6.5,
                       padding=1.2) as grid:
            heading = grid.row()
            for header in table.headers:
                heading.cell(header)
            for values in table.rows:
                row = grid.row()
                for value in values:
                    row.cell(value)
        pdf.ln(4)

    if notice.decision is not None:
        decision = notice.decision
        pdf.set_font(FONT, size=13)
        pdf.multi_cell(width, 7.5, f"决议落实情况：{decision.status_label}", align="L", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(FONT, size=11)
        for task in decision.tasks:
            pdf.multi_cell(width, 6.5, f"· {task.title}：进度{task.progress}%，{task.status_label}"
                                       f"（{task.due_text}前完成）", align="L", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(3)

    pdf.set_font(FONT, size=11)
    hint = f"对公开内容有疑问，可扫码或打开 {url} 在网上提问，也可以向村务监督委员会反映。"
    qr = _qr_png(url)
    if qr is not None:
        if pdf.get_y() + 34 > pdf.h - 20:
            pdf.add_page()
        top = pdf.get_y()
        pdf.image(qr, x=pdf.l_margin, y=top, w=30, h=30)
        pdf.set_xy(pdf.l_margin + 34, top + 4)
        pdf.multi_cell(width - 34, 6.5, hint, align="L", new_x="LMARGIN", new_y="NEXT")
        pdf.set_y(max(pdf.get_y(), top + 31))
    else:  # pragma: no cover
        pdf.multi_cell(width, 6.5, hint, align="L", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
