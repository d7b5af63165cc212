"""The report as PDF (fpdf2, DejaVu Sans for umlauts)."""

from __future__ import annotations

import io
import logging
import math
from collections.abc import Sequence
from typing import Any, Literal

import pandas as pd

from integrationsatlas.report.model import FONT_DIR, MAP_WIDTH_MM, CouncilReport, png_size

logger = logging.getLogger(__name__)

ReportFormat = Literal["pdf", "html"]

# --- PDF ------------------------------------------------------------------------


def _pdf_class() -> type:
    from fpdf import FPDF

    class ReportPDF(FPDF):
        """A4 portrait with a running header and a footer with page number and attribution."""

        report: CouncilReport

        def header(self) -> None:
            if self.page_no() == 1:
                return
            self.set_font("DejaVu", "", 7.5)
            self.set_text_color(90, 90, 90)
            self.cell(0, 5, f"{self.report.title} – {self.report.area.title}", align="L", new_x="LMARGIN", new_y="NEXT")
            self.ln(2)

        def footer(self) -> None:
            self.set_y(-13)
            self.set_font("DejaVu", "", 6.5)
            self.set_text_color(90, 90, 90)
            self.multi_cell(0, 3, " · ".join(self.report.attributions), align="L", new_x="LMARGIN", new_y="NEXT")
            self.cell(
                0, 3.5, f"Seite {self.page_no()}/{{nb}} · Stand {self.report.created.strftime('%d.%m.%Y')}", align="R"
            )

    return ReportPDF


def _pdf_heading(pdf: Any, text: str) -> None:
    if pdf.get_y() > pdf.h - 45:
        pdf.add_page()
    pdf.ln(3)
    pdf.set_font("DejaVu", "B", 12)
    pdf.set_text_color(11, 61, 107)
    pdf.multi_cell(0, 6.5, text, align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.set_draw_color(200, 211, 222)
    pdf.line(pdf.l_margin, pdf.get_y(), pdf.w - pdf.r_margin, pdf.get_y())
    pdf.ln(1.5)
    pdf.set_text_color(26, 26, 26)


def _pdf_table(
    pdf: Any,
    columns: Sequence[str],
    rows: Sequence[Sequence[str]],
    numeric: Sequence[bool],
    widths: Sequence[float] | None = None,
    header: bool = True,
) -> None:
    from fpdf.fonts import FontFace

    pdf.set_font("DejaVu", "", 8)
    align = tuple("RIGHT" if n else "LEFT" for n in (numeric or (False,) * len(columns)))
    with pdf.table(
        col_widths=tuple(widths) if widths else None,
        text_align=align,
        line_height=4.2,
        headings_style=FontFace(emphasis="BOLD", fill_color=(232, 238, 244)),
        first_row_as_headings=header,
        borders_layout="HORIZONTAL_LINES" if header else "NONE",
        padding=0.8,
    ) as table:
        if header:
            table.row(list(columns))
        for r in rows:
            table.row([str(v) for v in r])
    pdf.ln(1)


def _pdf_note(pdf: Any, text: str) -> None:
    if text:
        pdf.set_font("DejaVu", "", 7.5)
        pdf.set_text_color(80, 80, 80)
        pdf.multi_cell(0, 3.6, text, align="L", new_x="LMARGIN", new_y="NEXT")
        pdf.set_text_color(26, 26, 26)
        pdf.ln(1)


def render_pdf(report: CouncilReport) -> bytes:
    """The report as an A4 PDF (fpdf2, DejaVu Sans so that umlauts and »…« print).

    Returns
    -------
    bytes
        The PDF file, starting with ``%PDF``.
    """
    pdf = _pdf_class()(orientation="P", unit="mm", format="A4")
    pdf.report = report
    pdf.set_title(f"{report.title} – {report.area.name}")
    pdf.set_author("Integrationsatlas NRW")
    pdf.set_creator("Integrationsatlas NRW")
    pdf.set_creation_date(pd.Timestamp(report.created).to_pydatetime())
    pdf.add_font("DejaVu", "", str(FONT_DIR / "DejaVuSans.ttf"))
    pdf.add_font("DejaVu", "B", str(FONT_DIR / "DejaVuSans-Bold.ttf"))
    pdf.set_margins(15, 14, 15)
    pdf.set_auto_page_break(True, margin=18)
    pdf.alias_nb_pages()
    pdf.add_page()

    pdf.set_font("DejaVu", "B", 16)
    pdf.set_text_color(11, 61, 107)
    pdf.multi_cell(0, 8, report.title, align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 10)
    pdf.set_text_color(60, 60, 60)
    pdf.multi_cell(0, 5, report.subtitle, align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.cell(0, 5, f"Stand: {report.created.strftime('%d.%m.%Y')}", align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(26, 26, 26)
    if report.summary:
        pdf.ln(2)
        pdf.set_font("DejaVu", "", 10)
        pdf.multi_cell(0, 5, report.summary, align="L", new_x="LMARGIN", new_y="NEXT")

    _pdf_heading(pdf, "Kennzahlen")
    # two figures per line, so that the first map still fits on the first page
    half = math.ceil(len(report.figures) / 2)
    left, right = report.figures[:half], [*report.figures[half:], ("", "")]
    pairs = [(*a, *b) for a, b in zip(left, right, strict=False)]
    _pdf_table(pdf, ("", "", "", ""), pairs, (False, False, False, False), widths=(52, 38, 52, 38), header=False)

    for m in report.maps:
        px_w, px_h = png_size(m.png)
        map_height = MAP_WIDTH_MM * px_h / px_w  # the image's own aspect ratio: a chart is never stretched
        if pdf.get_y() + map_height + 22 > pdf.h - 18:
            pdf.add_page()
        _pdf_heading(pdf, m.title)
        pdf.image(io.BytesIO(m.png), x=pdf.l_margin, w=MAP_WIDTH_MM, h=map_height)
        pdf.ln(1)
        _pdf_note(pdf, m.caption)

    for t in report.tables:
        _pdf_heading(pdf, t.title)
        _pdf_table(pdf, t.columns, t.rows, t.numeric, widths=t.widths or None)
        _pdf_note(pdf, t.note)

    _pdf_heading(pdf, "Methode")
    pdf.set_font("DejaVu", "", 9)
    for paragraph in report.method:
        pdf.multi_cell(0, 4.4, paragraph, align="L", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(1.2)

    _pdf_heading(pdf, "Datenquellen")
    _pdf_table(
        pdf,
        ("Inhalt", "Quelle", "Lizenz", "Stand"),
        [(s.what, s.source, s.licence, s.as_of) for s in report.sources],
        (False,) * 4,
        widths=(38, 84, 34, 24),
    )
    pdf.set_font("DejaVu", "B", 8.5)
    pdf.cell(0, 5, "Namensnennung", align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 8.5)
    for line in report.attributions:
        pdf.multi_cell(0, 4, line, align="L", new_x="LMARGIN", new_y="NEXT")
    if report.appendix:
        _pdf_heading(pdf, "Anhang: Technische Angaben")
        for paragraph in report.appendix:
            _pdf_note(pdf, paragraph)
    return bytes(pdf.output())
