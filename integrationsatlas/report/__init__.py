"""The council report ("Bericht"): one area, optionally one saved scenario, as PDF or HTML.

:func:`build_report` gathers everything a council needs into a frozen
:class:`CouncilReport`: key figures, static maps, tables, a German method
section and the data sources with licences and dates. Two renderers turn it
into a file: :func:`render_html` (one self-contained HTML page, images as
base64 PNG, no external assets) and :func:`render_pdf` (fpdf2, DejaVu Sans for
umlauts). Nothing here imports Streamlit.

Maps are drawn with matplotlib from the EPSG:25832 geometries at a **fixed
extent** per area (:func:`fixed_extent`): the area's bounds with a margin,
widened to a fixed aspect ratio and snapped to a grid of whole kilometres, so
that two reports of the same area always show exactly the same section and can
be laid side by side. Coverage shares use the fixed classes of the legend for the
same reason.
"""

from __future__ import annotations

from geo.errors import DataError
from integrationsatlas.report.build import (
    area_choices,
    build_report,
    fixed_extent,
    gap_frame,
    resolve_area,
    scenarios_for_area,
)
from integrationsatlas.report.html import render_html
from integrationsatlas.report.model import (
    MAP_ASPECT,
    MIME_TYPES,
    REPORT_FORMATS,
    CouncilReport,
    ReportArea,
    ReportFormat,
    ReportMap,
    ReportTable,
    SourceEntry,
)
from integrationsatlas.report.pdf import render_pdf


def render(report: CouncilReport, fmt: ReportFormat) -> bytes:
    """Render ``report`` as ``"pdf"`` or ``"html"`` (UTF-8) bytes.

    Raises
    ------
    DataError
        For another format.
    """
    if fmt == "pdf":
        return render_pdf(report)
    if fmt == "html":
        return render_html(report).encode("utf-8")
    raise DataError(f"Unbekanntes Berichtsformat »{fmt}«: bitte pdf oder html wählen.")


__all__ = [
    "MAP_ASPECT",
    "MIME_TYPES",
    "REPORT_FORMATS",
    "CouncilReport",
    "ReportArea",
    "ReportFormat",
    "ReportMap",
    "ReportTable",
    "SourceEntry",
    "area_choices",
    "build_report",
    "fixed_extent",
    "gap_frame",
    "render",
    "render_html",
    "render_pdf",
    "resolve_area",
    "scenarios_for_area",
]
