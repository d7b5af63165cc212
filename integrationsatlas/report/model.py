"""The report as data: area, maps, tables, sources and the frozen :class:`CouncilReport`."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Literal

import matplotlib
import pandas as pd

from integrationsatlas.pipeline.area import StudyArea

logger = logging.getLogger(__name__)

ReportFormat = Literal["pdf", "html"]

REPORT_FORMATS: tuple[str, ...] = ("pdf", "html")
MIME_TYPES: dict[str, str] = {"pdf": "application/pdf", "html": "text/html"}

#: German names of the area levels.
SHORT_LEVEL_TITLES = {"land": "Land", "regbez": "Reg.-Bez.", "kreis": "Kreis", "gemeinde": "Gemeinde"}
#: Width / height of every report map.
MAP_ASPECT = 4 / 3
#: Grid (metres) to which map extents are snapped, by area level; areas of an area set (Stadtteile …) use 1 km.
EXTENT_GRID_M: dict[str, float] = {"land": 10_000.0, "regbez": 5_000.0, "kreis": 5_000.0, "gemeinde": 1_000.0}
AREA_SET_GRID_M = 1_000.0
#: Map size in the PDF (mm) and raster resolution of the images.
MAP_WIDTH_MM = 180.0
MAP_DPI = 160
#: Height (inches) of the legend band below each map.
LEGEND_BAND_IN = 0.62
#: Most rows of a table in the report; the rest is summarised in a note.
MAX_TABLE_ROWS = 20
FONT_DIR = Path(matplotlib.get_data_path()) / "fonts" / "ttf"


# --- the model ------------------------------------------------------------------


def png_size(png: bytes) -> tuple[int, int]:
    """Width and height (pixels) of a PNG image, read from its header.

    A chart is placed into the PDF and the HTML page at the aspect ratio of its
    own image, so that it is never stretched to the size of a map.

    >>> png_size(bytes.fromhex("89504e470d0a1a0a0000000d49484452000003200000012c"))
    (800, 300)
    """
    if png[:8] != b"\x89PNG\r\n\x1a\n" or png[12:16] != b"IHDR":
        raise ValueError("not a PNG image")
    return int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")


#: The area of a report is the study area of its request.
ReportArea = StudyArea


@dataclass(frozen=True)
class ReportMap:
    """One static map: title, caption, PNG image and its extent (EPSG:25832, metres)."""

    title: str
    caption: str
    png: bytes
    extent: tuple[float, float, float, float]


@dataclass(frozen=True)
class ReportTable:
    """A table as display strings; ``numeric`` marks right-aligned columns, ``widths`` are relative."""

    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    numeric: tuple[bool, ...] = ()
    note: str = ""
    widths: tuple[float, ...] = ()


@dataclass(frozen=True)
class SourceEntry:
    """One data source as cited in the report."""

    what: str
    source: str
    licence: str
    as_of: str


@dataclass(frozen=True)
class CouncilReport:
    """Everything a council report shows, ready to be rendered.

    Parameters
    ----------
    title
        Main title.
    area
        The report's area.
    created
        Date of the report.
    layer, layer_title
        The facility layer whose coverage is analysed.
    threshold_label
        The threshold in German, e.g. »15 Minuten zu Fuß« or »15 km Luftlinie«.
    scenario
        Name of the included scenario, if any.
    figures
        Key figures as ``(label, value)`` display strings.
    maps
        Static maps, all at :attr:`extent`.
    tables
        Gap ranking and, with a scenario, its sites and before/after coverage.
    method
        Paragraphs of the German method section.
    sources
        Data sources with licences and as-of dates.
    attributions
        Attribution lines required by the licences.
    extent
        Map extent ``(minx, miny, maxx, maxy)`` in EPSG:25832 (metres).
    """

    title: str
    area: ReportArea
    created: date
    layer: str
    layer_title: str
    threshold_label: str
    scenario: str | None
    figures: tuple[tuple[str, str], ...]
    maps: tuple[ReportMap, ...]
    tables: tuple[ReportTable, ...]
    method: tuple[str, ...]
    sources: tuple[SourceEntry, ...]
    attributions: tuple[str, ...]
    extent: tuple[float, float, float, float]
    notes: tuple[str, ...] = field(default=())
    summary: str = ""
    request: Any = None
    appendix: tuple[str, ...] = field(default=())

    @property
    def subtitle(self) -> str:
        """Area, layer and threshold in one line."""
        text = f"{self.area.title} · {self.layer_title} · Schwelle {self.threshold_label}"
        return text + (f" · Szenario »{self.scenario}«" if self.scenario else "")

    def filename(self, fmt: str) -> str:
        """A file name such as ``Bericht_05334_2026-11-21.pdf``."""
        return f"Bericht_{self.area.ags}_{self.created.isoformat()}.{fmt}"


# --- formatting -----------------------------------------------------------------


def cell_text(value: Any) -> str:
    """A cell value as text; missing values (None, NA, NaN) as ``''``."""
    return "" if value is None or (pd.api.types.is_scalar(value) and pd.isna(value)) else str(value)
