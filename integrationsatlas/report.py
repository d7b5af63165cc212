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
be laid side by side. Coverage shares use fixed classes (20-%-steps) for the
same reason.
"""

from __future__ import annotations

import base64
import html
import io
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import matplotlib
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle

from geo.errors import DataError, NotLoadedError
from geo.formatting import de_int, de_number, de_share
from geo.layers.catalog import ATTRIBUTIONS
from geo.layers.inventory import LayerInfo, layer_inventory
from geo.layers.loading import is_available, load_layer
from geo.layers.registry import REGISTRY
from geo.projection import ensure_projected
from geo.settings import PROJECTED_CRS, Settings
from geo.statistics import kreis_indicators
from geo.store.scenarios import Scenario, load_scenario
from geo.units import Level, level_of, load_boundaries, unit_of
from integrationsatlas.analysis import CoverageReport, coverage_report
from integrationsatlas.classes import NO_DATA_COLOR, SHARE_COLORS, share_colors, share_labels

logger = logging.getLogger(__name__)

ReportFormat = Literal["pdf", "html"]
REPORT_FORMATS: tuple[str, ...] = ("pdf", "html")
MIME_TYPES: dict[str, str] = {"pdf": "application/pdf", "html": "text/html"}

#: German names of the area levels.
LEVEL_TITLES: dict[str, str] = {
    "land": "Land", "regbez": "Regierungsbezirk", "kreis": "Kreis / kreisfreie Stadt", "gemeinde": "Gemeinde",
}
_SHORT_LEVEL = {"land": "Land", "regbez": "Reg.-Bez.", "kreis": "Kreis", "gemeinde": "Gemeinde"}
#: Width / height of every report map.
MAP_ASPECT = 4 / 3
#: Grid (metres) to which map extents are snapped, by area level.
EXTENT_GRID_M: dict[str, float] = {"land": 10_000.0, "regbez": 5_000.0, "kreis": 5_000.0, "gemeinde": 1_000.0}
#: Map size in the PDF (mm) and raster resolution of the images.
MAP_WIDTH_MM = 180.0
MAP_DPI = 160
#: Height (inches) of the legend band below each map.
LEGEND_BAND_IN = 0.62
#: Most rows of a table in the report; the rest is summarised in a note.
MAX_TABLE_ROWS = 20
_FONT_DIR = Path(matplotlib.get_data_path()) / "fonts" / "ttf"


# --- the model ------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class ReportArea:
    """The area a report is about.

    Parameters
    ----------
    ags
        Official key: ``05`` (Land), 3 digits (Regierungsbezirk), 5 (Kreis)
        or 8 (Gemeinde).
    name
        Official name.
    level
        ``land``, ``regbez``, ``kreis`` or ``gemeinde``.
    geometry
        The area's polygon in EPSG:25832.
    """

    ags: str
    name: str
    level: Level
    geometry: Any

    @property
    def label(self) -> str:
        """E.g. »Städteregion Aachen (AGS 05334)«."""
        return f"{self.name} (AGS {self.ags})"

    @property
    def level_title(self) -> str:
        """German name of the level."""
        return LEVEL_TITLES[self.level]


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
    threshold_km
        Coverage threshold (straight-line distance, km).
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
    threshold_km: float
    scenario: str | None
    figures: tuple[tuple[str, str], ...]
    maps: tuple[ReportMap, ...]
    tables: tuple[ReportTable, ...]
    method: tuple[str, ...]
    sources: tuple[SourceEntry, ...]
    attributions: tuple[str, ...]
    extent: tuple[float, float, float, float]
    notes: tuple[str, ...] = field(default=())

    @property
    def subtitle(self) -> str:
        """Area, layer and threshold in one line."""
        text = (f"{self.area.label}, {self.area.level_title} · {self.layer_title} · "
                f"Schwelle {de_number(self.threshold_km, 1)} km Luftlinie")
        return text + (f" · Szenario »{self.scenario}«" if self.scenario else "")

    def filename(self, fmt: str) -> str:
        """A file name such as ``Bericht_05334_2026-11-21.pdf``."""
        return f"Bericht_{self.area.ags}_{self.created.isoformat()}.{fmt}"


# --- formatting -----------------------------------------------------------------


def _text(value: Any) -> str:
    """A cell value as text; missing values (None, NA, NaN) as ``''``."""
    return "" if value is None or (pd.api.types.is_scalar(value) and pd.isna(value)) else str(value)


# --- area and extent ------------------------------------------------------------


def resolve_area(settings: Settings, ags: str) -> ReportArea:
    """Look up the area ``ags`` in the boundary layer of its level.

    Raises
    ------
    DataError
        Unknown AGS (the message lists a few valid ones).
    NotLoadedError
        A Gemeinde AGS while the Gemeinden are not loaded.

    Notes
    -----
    The geometry is in EPSG:25832.
    """
    level = level_of(ags)
    units = load_boundaries(level, settings)
    row = units[units["ags"].astype(str) == ags.strip()]
    if row.empty:
        examples = ", ".join(f"{a} ({n})" for a, n in units[["ags", "name"]].head(3).itertuples(index=False))
        raise DataError(f"Kein {LEVEL_TITLES[level]} mit AGS »{ags}« gefunden. Beispiele: {examples}.")
    return ReportArea(ags=ags.strip(), name=str(row["name"].iloc[0]), level=level,
                      geometry=row.geometry.union_all())


def fixed_extent(
    bounds: Sequence[float], *, grid_m: float = 5_000.0, aspect: float = MAP_ASPECT, margin: float = 0.04
) -> tuple[float, float, float, float]:
    """A map extent around ``bounds`` with a fixed aspect ratio, snapped to a grid.

    The bounds get a relative ``margin``, the shorter side is widened to
    ``aspect`` (width / height), the width is rounded up to whole grid cells
    plus one, and the centre is snapped to half a grid cell. The result
    depends only on the bounds, so the same area always gives the same
    extent, and small changes of the bounds rarely move it.

    Parameters
    ----------
    bounds
        ``(minx, miny, maxx, maxy)`` in metres.
    grid_m
        Grid size in metres.
    aspect
        Width / height of the map.
    margin
        Relative margin on each side.

    Returns
    -------
    tuple of float
        ``(minx, miny, maxx, maxy)``, containing ``bounds``.

    Notes
    -----
    Works in EPSG:25832 (metres).

    >>> fixed_extent((300_000, 5_600_000, 340_000, 5_640_000), grid_m=5_000, aspect=4 / 3)
    (287500.0, 5595625.0, 352500.0, 5644375.0)
    """
    minx, miny, maxx, maxy = (float(v) for v in bounds)
    w = max(maxx - minx, 1.0) * (1 + 2 * margin)
    h = max(maxy - miny, 1.0) * (1 + 2 * margin)
    w = max(w, h * aspect)
    width = (math.ceil(w / grid_m) + 1) * grid_m  # one spare cell absorbs the snapping of the centre
    height = width / aspect
    half = grid_m / 2
    cx = round((minx + maxx) / 2 / half) * half
    cy = round((miny + maxy) / 2 / half) * half
    return (cx - width / 2, cy - height / 2, cx + width / 2, cy + height / 2)


def area_choices(settings: Settings) -> dict[str, str]:
    """Every area a report can be made for: AGS → »Name – Ebene AGS«, Land first, then by AGS.

    Gemeinden are included when they are loaded.
    """
    out: dict[str, str] = {}
    for level in ("land", "regbez", "kreis", "gemeinde"):
        try:
            units = load_boundaries(level, settings)  # type: ignore[arg-type]
        except NotLoadedError:
            continue
        short = _SHORT_LEVEL[level]
        out |= {str(a): f"{n} – {short} {a}" for a, n in zip(units["ags"], units["name"], strict=True)}
    return out


def scenarios_for_area(settings: Settings, ags: str) -> list[str]:
    """Names of the saved scenarios that fit a report on ``ags`` (inside it or containing it)."""
    from geo.store.scenarios import list_scenarios

    table = list_scenarios(settings)
    area = table["area_ags"].astype(str)
    fits = area.str.startswith(ags) | pd.Series([ags.startswith(a) for a in area], index=table.index, dtype=bool)
    return table.loc[fits, "name"].astype(str).tolist()


def gap_frame(
    settings: Settings, area: str, *, layer: str = "ki", threshold_km: float = 15.0, target_group: str = "total"
) -> gpd.GeoDataFrame:
    """The gap table of the report as polygons, for export (see :mod:`geo.io.export`).

    Returns
    -------
    geopandas.GeoDataFrame
        One row per unit of the report's gap table (Kreise, or Gemeinden
        when loaded), columns of :attr:`planning.gaps.GapTable.table` plus
        ``threshold_km`` and ``layer``, polygons in EPSG:25832.
    """
    report_area = resolve_area(settings, area)
    by = _units_level(report_area, settings)
    coverage = coverage_report(settings, layer=layer, by=by, threshold_km=threshold_km,
                               target_group=target_group, area=report_area.ags)
    units = _area_units(settings, by, report_area)[["ags", "geometry"]]
    table = coverage.gaps.table.copy()
    table.index = table.index.astype(str)
    merged = units.merge(table, left_on="ags", right_index=True, how="inner")
    return gpd.GeoDataFrame(merged.assign(layer=layer, threshold_km=float(threshold_km)), geometry="geometry",
                            crs=PROJECTED_CRS).reset_index(drop=True)


# --- data gathering -------------------------------------------------------------


def _units_level(area: ReportArea, settings: Settings) -> Literal["kreis", "gemeinde"]:
    """The unit level of the gap table: Gemeinden inside a Kreis when loaded, else Kreise."""
    if area.level == "gemeinde":
        return "gemeinde"
    if area.level == "kreis" and is_available("gemeinde", settings):
        return "gemeinde"
    return "kreis"


def _area_units(settings: Settings, level: str, area: ReportArea) -> gpd.GeoDataFrame:
    units = load_boundaries(level, settings)  # type: ignore[arg-type]
    ags = units["ags"].astype(str)
    keep = ags.str.startswith(area.ags) if level != "land" else ags.notna()
    if area.level == "gemeinde" and level == "gemeinde":
        keep = ags == area.ags
    return units[keep.to_numpy()]


def _population_figures(settings: Settings, area: ReportArea) -> list[tuple[str, str]]:
    """Population and foreign share of the area (Destatis Kreis statistics)."""
    stats = kreis_indicators(settings)
    if area.level == "gemeinde":
        out: list[tuple[str, str]] = []
        try:
            gem = load_boundaries("gemeinde", settings)
            pop = gem.loc[gem["ags"] == area.ags, "population"]
            if len(pop) and pd.notna(pop.iloc[0]):
                out.append(("Einwohner", de_int(float(pop.iloc[0]))))
        except NotLoadedError:
            pass
        kreis = area.ags[:5]
        kreis_share = float(stats["foreign_share_pct"].get(kreis, np.nan))
        if math.isfinite(kreis_share):
            out.append(("Ausländeranteil (Kreiswert)", f"{de_number(kreis_share, 1)} %"))
        return out
    rows = stats[stats.index.astype(str).str.startswith(area.ags)]
    pop = pd.to_numeric(rows["population"], errors="coerce").astype("float64")
    share = rows["foreign_share_pct"].astype("float64")
    known = pop.notna() & share.notna()
    years = sorted({int(y) for y in rows["year"].dropna()})
    year = f" ({'/'.join(map(str, years))})" if years else ""
    out = [(f"Einwohner{year}", de_int(float(pop.sum())))]
    if known.any():
        weighted = float((pop[known] * share[known]).sum() / pop[known].sum())
        out.append(("Ausländeranteil", f"{de_number(weighted, 1)} %"))
    return out


def _facility_counts(
    settings: Settings, area: ReportArea, layers: Sequence[str]
) -> tuple[list[tuple[str, str]], dict[str, gpd.GeoDataFrame]]:
    """Facilities per layer inside the area (the point-in-area rule of :mod:`geo.units`), and the loaded layers."""
    figures: list[tuple[str, str]] = []
    frames: dict[str, gpd.GeoDataFrame] = {}
    for layer_id in layers:
        gdf = load_layer(layer_id, settings)
        if gdf.empty:
            continue
        frames[layer_id] = gdf
        units = load_boundaries(area.level, settings)
        inside = int((unit_of(gdf.geometry, units) == area.ags).sum())
        figures.append((f"{REGISTRY.get(layer_id).title} im Gebiet", de_int(inside)))
    return figures, frames


def _gap_table(report: CoverageReport, focus: str | None = None,
               title: str = "Versorgungslücken nach Gebiet") -> ReportTable:
    """The gap ranking; with ``focus`` (an AGS) that unit is always listed and marked."""
    ranking = report.gaps.ranking()
    ranking.index = ranking.index.astype(str)
    shown = ranking.head(MAX_TABLE_ROWS)
    if focus is not None and focus in ranking.index and focus not in shown.index:
        shown = pd.concat([shown.head(MAX_TABLE_ROWS - 1), ranking.loc[[focus]]])
    unit = report.inputs.unit
    rows = tuple(
        (
            de_int(row["rank"]), str(key), _text(row.get("name")) + (" (Berichtsgebiet)" if key == focus else ""),
            de_share(row["share_covered"]), de_int(row["population_beyond"]), de_number(row["cost_p90"], 1),
            de_number(row["gap_score"], 2),
        )
        for key, row in shown.iterrows()
    )
    note = "Rang 1 = größte Lücke. Lückenwert: Summe der standardisierten Teilwerte (siehe Methode)."
    if len(ranking) > len(shown):
        note += f" Gezeigt: {len(shown)} von {len(ranking)} Gebieten."
    return ReportTable(
        title=title,
        columns=("Rang", "AGS", "Name", "versorgt", "Einw. jenseits", f"P90 ({unit})", "Lückenwert"),
        rows=rows, numeric=(True, False, False, True, True, True, True), note=note,
        widths=(10, 16, 52, 18, 26, 18, 22),
    )


def _scenario_tables(scenario: Scenario) -> list[ReportTable]:
    new = scenario.selected
    total_gain = float(pd.to_numeric(new["marginal_gain"], errors="coerce").sum())
    rows = tuple(
        (de_int(o), _text(n) or _text(c), _text(s), _text(g), de_int(m))
        for o, n, c, s, g, m in zip(new["order"], new["name"], new["candidate_id"], new["source"],
                                    new["gemeinde_ags"], new["marginal_gain"], strict=True)
    )
    tables = [ReportTable(
        title=f"Vorgeschlagene Standorte (Szenario »{scenario.name}«)",
        columns=("Nr.", "Standort", "Herkunft", "Gemeinde (AGS)", "zusätzlich versorgt"),
        rows=rows, numeric=(True, False, False, False, True), widths=(8, 60, 30, 26, 26),
        note=f"In Auswahlreihenfolge; zusätzlich versorgt = neu abgedeckte Nachfrage (Personen der Zielgruppe), "
             f"zusammen {de_int(total_gain)}. {len(scenario.fixed_sites)} bestehende Standorte wurden festgehalten.",
    )]
    results = scenario.results
    before_after = [("Gesamt", scenario.area_name,
                     de_share(results.get("share_before")), de_share(results.get("share_after")),
                     _pp(results.get("share_before"), results.get("share_after")))]
    table = scenario.by_gemeinde
    note = "Versorgungsanteil der Zielgruppe innerhalb der Schwelle, vor und nach den neuen Standorten."
    if len(table) and {"share_before", "share_after"} <= set(table.columns):
        change = pd.to_numeric(table["share_after"], errors="coerce") - pd.to_numeric(table["share_before"],
                                                                                    errors="coerce")
        top = table.assign(_change=change).sort_values("_change", ascending=False, na_position="last")
        shown = top.head(MAX_TABLE_ROWS - 1)
        before_after += [
            (_text(r.get("ags")), _text(r.get("name")), de_share(r["share_before"]), de_share(r["share_after"]),
             _pp(r["share_before"], r["share_after"]))
            for _, r in shown.iterrows()
        ]
        if len(top) > len(shown):
            note += f" Gezeigt: die {len(shown)} Gemeinden mit dem größten Zuwachs von {len(top)}."
    tables.append(ReportTable(
        title="Versorgung vorher / nachher",
        columns=("AGS", "Gebiet", "vorher", "nachher", "Änderung"),
        rows=tuple(before_after), numeric=(False, False, True, True, True), note=note, widths=(20, 60, 18, 18, 20),
    ))
    return tables


def _pp(before: Any, after: Any) -> str:
    """Change of a share in percentage points, e.g. ``'+12,5 Pp.'``."""
    if before is None or after is None or pd.isna(before) or pd.isna(after):
        return "–"
    diff = 100.0 * (float(after) - float(before))
    return f"{'+' if diff >= 0 else '−'}{de_number(abs(diff), 1)} Pp."


MODEL_TITLES = {
    "mclp": "Maximal-Coverage-Modell (MCLP): möglichst viel Nachfrage mit p Standorten abdecken",
    "lscp": "Set-Covering-Modell (LSCP): möglichst wenige Standorte, die alle erreichbare Nachfrage abdecken",
    "pmedian": "p-Median-Modell: die nachfragegewichtete mittlere Entfernung mit p Standorten minimieren",
}


def _method(report: CoverageReport, scenario: Scenario | None, n_units_level: str) -> tuple[str, ...]:
    inp = report.inputs
    units = "Gemeinden" if n_units_level == "gemeinde" else "Kreise und kreisfreien Städte"
    paragraphs = [
        f"Nachfrage: {report.demand_level_label}. Zielgruppe: {inp.target_group}. "
        f"Verwendet wurden {de_int(report.n_demand)} Nachfragepunkte und {de_int(report.n_facilities)} Einrichtungen "
        f"der Ebene »{inp.layer_title}« (auch Einrichtungen außerhalb des Gebiets zählen, weil sie es mitversorgen).",
        f"Erreichbarkeit: Entfernung jedes Nachfragepunkts zur nächsten Einrichtung "
        f"({inp.mode_label}, gemessen im amtlichen Koordinatensystem ETRS89 / UTM 32N, EPSG:25832, in Metern). "
        f"Ein Punkt gilt als versorgt, wenn diese Entfernung höchstens {de_number(inp.threshold, 1)} {inp.unit} "
        "beträgt. "
        "Luftlinie unterschätzt Wege; Fahrzeiten auf dem Straßennetz liefert die App für OSM-Ausschnitte.",
        "Versorgungsquote (2SFCA, Two-Step Floating Catchment Area): je Einrichtung wird das Angebot durch die "
        "Nachfrage in ihrem Einzugsbereich (= Schwelle) geteilt; jeder Nachfragepunkt erhält die Summe dieser "
        "Quoten aller erreichbaren Einrichtungen. So wird auch die Auslastung berücksichtigt, nicht nur die Nähe.",
        f"Lückenwert je Gebiet ({units}): Summe der über alle Gebiete standardisierten Teilwerte Zielgruppe "
        "jenseits der Schwelle, nicht versorgter Anteil, 90.-Perzentil der Entfernung und inverse 2SFCA-Quote, "
        "jeweils mit Gewicht 1. Rang 1 ist die größte Lücke.",
    ]
    paragraphs += [f"Hinweis: {note}" for note in inp.notes]
    if scenario is not None:
        res = scenario.results
        params = ", ".join(f"{k} = {v}" for k, v in scenario.parameters.items())
        gap = res.get("gap")
        gap_text = "nicht angegeben" if gap is None or pd.isna(gap) else de_share(float(gap), 2)
        paragraphs.append(
            f"Standortplanung (Szenario »{scenario.name}«): {MODEL_TITLES.get(scenario.model, scenario.model)}. "
            f"Parameter: {params or 'keine'}. Das ganzzahlige Optimierungsproblem wurde exakt mit dem Löser HiGHS "
            f"gelöst (Status: {res.get('status', 'unbekannt')}, Zielwert {de_number(res.get('objective'), 1)}, "
            f"relative Optimalitätslücke {gap_text}, Rechenzeit {de_number(res.get('seconds'), 2)} s). "
            "Eine Lücke von 0 % bedeutet beweisbar optimal. Bestehende Standorte waren fest vorgegeben; die "
            "Reihenfolge der neuen Standorte folgt ihrem Zusatznutzen."
            + (f" Nachfrage im Szenario: {scenario.demand_level}." if scenario.demand_level else "")
        )
    paragraphs.append(
        "Karten: alle Karten eines Gebiets zeigen denselben, fest gerasterten Ausschnitt im Seitenverhältnis 4:3, "
        "damit Berichte verschiedener Zeitpunkte oder Szenarien direkt vergleichbar sind. Die Klassen des "
        "Versorgungsanteils sind fest (20-%-Schritte)."
    )
    return tuple(paragraphs)


def _sources(
    settings: Settings, layers: Sequence[str], report: CoverageReport, scenario: Scenario | None
) -> tuple[SourceEntry, ...]:
    inventory: dict[str, LayerInfo] = {info.id: info for info in layer_inventory(settings)}
    entries = [
        SourceEntry(info.title, info.source, info.licence, info.as_of or "unbekannt")
        for lid in layers if (info := inventory.get(lid)) is not None and info.available
    ]
    demand_as_of = dict(report.inputs.as_of).get("Bevölkerung", "unbekannt")
    entries.append(SourceEntry("Bevölkerung (Nachfrage)", report.demand_level_label, "siehe Namensnennung",
                               demand_as_of))
    entries.append(SourceEntry("Kreisstatistik", "Destatis/Statistische Ämter, GENESIS 12411-05-01-4 und "
                               "Regionalatlas AI002-1", "dl-de/by-2-0", _stat_years(settings)))
    if scenario is not None:
        entries.append(SourceEntry(f"Szenario »{scenario.name}«", "lokaler Datenspeicher", "–",
                                   scenario.created_at[:10] or "unbekannt"))
    return tuple(entries)


def _stat_years(settings: Settings) -> str:
    years = sorted({int(y) for y in kreis_indicators(settings)["year"].dropna()})
    return "/".join(map(str, years)) or "unbekannt"


# --- maps -----------------------------------------------------------------------


def _new_map(extent: tuple[float, float, float, float]) -> tuple[Figure, Any]:
    """A figure of the fixed map size: the map on top, a band for the legend below it."""
    width_in = MAP_WIDTH_MM / 25.4
    map_in = width_in / MAP_ASPECT
    fig = Figure(figsize=(width_in, map_in + LEGEND_BAND_IN), dpi=MAP_DPI)
    band = LEGEND_BAND_IN / (map_in + LEGEND_BAND_IN)
    ax = fig.add_axes((0.0, band, 1.0, 1.0 - band))
    ax.set_xlim(extent[0], extent[2])
    ax.set_ylim(extent[1], extent[3])
    ax.set_aspect("equal", adjustable="box")
    ax.set_autoscale_on(False)
    ax.set_axis_off()
    ax.add_patch(Rectangle((extent[0], extent[1]), extent[2] - extent[0], extent[3] - extent[1],
                           facecolor="#f7f7f7", edgecolor="none", zorder=0))
    return fig, ax


def _finish_map(fig: Figure, ax: Any, extent: tuple[float, float, float, float], attribution: str) -> bytes:
    """Scale bar, north arrow, attribution and frame; return PNG bytes."""
    minx, miny, maxx, maxy = extent
    ax.set_xlim(minx, maxx)  # GeoPandas' plot() autoscales: restore the fixed extent
    ax.set_ylim(miny, maxy)
    width = maxx - minx
    target = width / 5
    nice = max(v for v in (1, 2, 5, 10, 20, 25, 50, 100, 200) if v * 1000 <= max(target, 1000))
    x0, y0 = minx + 0.03 * width, miny + 0.05 * (maxy - miny)
    ax.add_patch(Rectangle((x0, y0), nice * 1000, 0.008 * (maxy - miny), facecolor="#222222", zorder=9))
    ax.text(x0, y0 + 0.015 * (maxy - miny), f"{nice} km", fontsize=7, zorder=9, va="bottom")
    ax.annotate("N", xy=(maxx - 0.04 * width, maxy - 0.05 * (maxy - miny)),
                xytext=(maxx - 0.04 * width, maxy - 0.13 * (maxy - miny)), ha="center", va="center",
                fontsize=9, fontweight="bold", zorder=9,
                arrowprops={"arrowstyle": "-|>", "color": "#222222", "lw": 1.2})
    ax.text(maxx - 0.01 * width, miny + 0.012 * (maxy - miny), attribution, fontsize=5.5, ha="right",
            va="bottom", zorder=9, color="#333333",
            bbox={"facecolor": "white", "alpha": 0.8, "edgecolor": "none", "pad": 1.5})
    ax.add_patch(Rectangle((minx, miny), width, maxy - miny, facecolor="none", edgecolor="#999999", lw=0.8,
                           zorder=10))
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=MAP_DPI, metadata={"Software": None})
    return buf.getvalue()


def _share_colors(share: pd.Series) -> list[str]:
    return share_colors(100.0 * pd.to_numeric(share, errors="coerce").to_numpy(dtype=float))


def _share_legend() -> list[Any]:
    handles: list[Any] = [
        Patch(facecolor=c, edgecolor="#666666", label=f"{label} versorgt")
        for c, label in zip(SHARE_COLORS, share_labels(), strict=True)
    ]
    handles.append(Patch(facecolor=NO_DATA_COLOR, edgecolor="#666666", label="keine Nachfrage"))
    return handles


def _draw_context(ax: Any, context: gpd.GeoDataFrame, area: ReportArea) -> None:
    """Neighbouring Kreise in grey, the area's outline on top."""
    context.plot(ax=ax, facecolor="#ececec", edgecolor="#b0b0b0", linewidth=0.5, zorder=1)
    gpd.GeoSeries([area.geometry], crs=PROJECTED_CRS).plot(ax=ax, facecolor="none", edgecolor="#222222",
                                                           linewidth=1.6, zorder=6)


def _draw_points(ax: Any, gdf: gpd.GeoDataFrame, layer_id: str, label: str, zorder: int = 7) -> Any:
    style = REGISTRY.get(layer_id).style
    xy = np.column_stack([gdf.geometry.x.to_numpy(), gdf.geometry.y.to_numpy()]) if len(gdf) else np.empty((0, 2))
    size = max(10.0, (style.radius * 1.6) ** 2 / 2)
    ax.scatter(xy[:, 0], xy[:, 1], s=size, c=style.color, edgecolors="white", linewidths=0.6, zorder=zorder)
    return Line2D([], [], marker="o", linestyle="none", markerfacecolor=style.color, markeredgecolor="white",
                  markersize=6, label=label)


def _clip(gdf: gpd.GeoDataFrame, extent: tuple[float, float, float, float]) -> gpd.GeoDataFrame:
    return gdf.iloc[gdf.sindex.query(_box(extent), predicate="intersects")] if len(gdf) else gdf


def _box(extent: tuple[float, float, float, float]) -> Any:
    import shapely

    return shapely.box(*extent)


def _legend(ax: Any, handles: list[Any], title: str) -> None:
    """The legend in the band below the map, so it never hides part of the area."""
    ax.figure.legend(handles=handles, title=title, loc="lower left", bbox_to_anchor=(0.0, 0.0), ncols=3,
                     fontsize=6.5, title_fontsize=7, frameon=False, alignment="left", borderaxespad=0.3)


def _overview_map(
    area: ReportArea, extent: tuple[float, float, float, float], context: gpd.GeoDataFrame,
    units: gpd.GeoDataFrame, facilities: dict[str, gpd.GeoDataFrame], attribution: str,
) -> bytes:
    fig, ax = _new_map(extent)
    _draw_context(ax, context, area)
    units.plot(ax=ax, facecolor="white", edgecolor="#8c8c8c", linewidth=0.5, zorder=2)
    handles = []
    for layer_id, gdf in facilities.items():
        shown = _clip(gdf, extent)
        handles.append(_draw_points(ax, shown, layer_id, f"{REGISTRY.get(layer_id).title} ({len(shown)})"))
    _legend(ax, handles, "Einrichtungen im Ausschnitt")
    return _finish_map(fig, ax, extent, attribution)


def _coverage_map(
    area: ReportArea, extent: tuple[float, float, float, float], context: gpd.GeoDataFrame,
    units: gpd.GeoDataFrame, share: pd.Series, layer_id: str, facilities: gpd.GeoDataFrame, attribution: str,
    sites: gpd.GeoDataFrame | None = None,
) -> bytes:
    fig, ax = _new_map(extent)
    _draw_context(ax, context, area)
    values = share.reindex(units["ags"].astype(str).to_numpy())
    units.plot(ax=ax, color=_share_colors(values), edgecolor="#666666", linewidth=0.5, zorder=2)
    handles = _share_legend()
    shown = _clip(facilities, extent)
    handles.append(_draw_points(ax, shown, layer_id, f"{REGISTRY.get(layer_id).title} (bestehend)"))
    if sites is not None and len(sites):
        fixed = sites[sites["fixed"].astype(bool)]
        new = sites[~sites["fixed"].astype(bool)].sort_values("order", kind="stable")
        if len(fixed):
            ax.scatter(fixed.geometry.x, fixed.geometry.y, marker="s", s=40, c="#000000", edgecolors="white",
                       linewidths=0.6, zorder=8)
            handles.append(Line2D([], [], marker="s", linestyle="none", markerfacecolor="#000000",
                                  markeredgecolor="white", markersize=6, label="fester Standort (Szenario)"))
        color = REGISTRY.get("ankommenstreffpunkt").style.color
        ax.scatter(new.geometry.x, new.geometry.y, s=170, c=color, edgecolors="white", linewidths=1.0, zorder=11)
        for x, y, order in zip(new.geometry.x, new.geometry.y, new["order"], strict=True):
            ax.text(x, y, de_int(order), ha="center", va="center", fontsize=7, fontweight="bold", color="white",
                    zorder=12)
        handles.append(Line2D([], [], marker="o", linestyle="none", markerfacecolor=color, markeredgecolor="white",
                              markersize=9, label="neuer Standort (Nr. = Reihenfolge)"))
    _legend(ax, handles, "Versorgungsanteil")
    return _finish_map(fig, ax, extent, attribution)


# --- build ----------------------------------------------------------------------


def build_report(
    settings: Settings,
    area: str,
    *,
    layer: str = "ki",
    threshold_km: float = 15.0,
    scenario: str | None = None,
    target_group: str = "total",
    today: date | None = None,
) -> CouncilReport:
    """Gather the council report for ``area`` (and optionally a saved scenario).

    Parameters
    ----------
    settings
        Paths of the embedded data and the local store.
    area
        AGS of the Land (``05``), a Regierungsbezirk, a Kreis or a Gemeinde.
    layer
        Facility layer whose coverage is reported.
    threshold_km
        Coverage threshold, straight-line distance in km.
    scenario
        Name of a saved scenario to include (its area must lie inside
        ``area``, or contain it).
    target_group
        ``"total"`` or ``"foreign"`` (see :func:`integrationsatlas.analysis.best_demand`).
    today
        Report date (default: today).

    Returns
    -------
    CouncilReport
        Ready for :func:`render_pdf` and :func:`render_html`.

    Raises
    ------
    IntegrationsatlasError
        Unknown area, layer or scenario, data not loaded, or a bad threshold;
        the message says what to do.

    Notes
    -----
    All geometry work is done in EPSG:25832 (metres); the map extent is
    :func:`fixed_extent` of the area's bounds.
    """
    today = today or date.today()
    report_area = resolve_area(settings, area)
    spec = REGISTRY.get(layer)
    loaded_scenario = load_scenario(settings, scenario) if scenario else None
    if loaded_scenario is not None:
        sa = str(loaded_scenario.area_ags)
        if not (sa.startswith(report_area.ags) or report_area.ags.startswith(sa)):
            raise DataError(
                f"Szenario »{loaded_scenario.name}« gilt für das Gebiet {loaded_scenario.area_name} (AGS {sa}), "
                f"der Bericht für {report_area.label}. Bitte das passende Gebiet oder Szenario wählen."
            )
        ensure_projected(loaded_scenario.sites, f"Szenario »{loaded_scenario.name}«")
    by = _units_level(report_area, settings)
    logger.info("Bericht %s: Ebene %s, %s km, Einheiten %s", report_area.ags, layer, threshold_km, by)
    coverage = coverage_report(settings, layer=layer, by=by, threshold_km=threshold_km,
                               target_group=target_group, area=report_area.ags)

    extent = fixed_extent(report_area.geometry.bounds, grid_m=EXTENT_GRID_M[report_area.level])
    kreise = load_boundaries("kreis", settings)
    context = _clip(kreise, extent)
    units = _area_units(settings, by, report_area)
    facility_layers = [s.id for s in REGISTRY.facilities() if is_available(s.id, settings)]
    if layer not in facility_layers:
        facility_layers.append(layer)
    count_figures, frames = _facility_counts(settings, report_area, facility_layers)
    attribution = " · ".join(ATTRIBUTIONS)

    overall = coverage.overall.iloc[0]
    figures: list[tuple[str, str]] = [("Gebiet", report_area.label), ("Ebene", report_area.level_title),
                                      ("Fläche", f"{de_int(report_area.geometry.area / 1e6)} km²")]
    figures += _population_figures(settings, report_area)
    figures += count_figures
    figures += [
        (f"Versorgt: {spec.title} ≤ {de_number(threshold_km, 1)} km", de_share(coverage.share_covered)),
        ("Einwohner jenseits der Schwelle", de_int(float(overall["population_beyond"]))),
    ]
    gap_tables = [_gap_table(coverage)]
    map_units = units
    if by == "kreis" and report_area.level == "kreis":
        # one Kreis alone has no ranking: compare it with all Kreise of NRW, and colour its neighbours too
        nrw = coverage_report(settings, layer=layer, by="kreis", threshold_km=threshold_km,
                              target_group=target_group)
        gap_tables = [_gap_table(nrw, focus=report_area.ags,
                                 title="Versorgungslücken: Rang unter allen Kreisen und kreisfreien Städten")]
        rank = nrw.gaps.table["rank"].set_axis(nrw.gaps.table.index.astype(str))
        if pd.notna(rank.get(report_area.ags)):
            figures.append(("Rang unter den Kreisen NRW (1 = größte Lücke)",
                            f"{de_int(rank[report_area.ags])} von {de_int(int(rank.notna().sum()))}"))
        coverage_units_table = nrw.gaps.table
        map_units = context
    else:
        coverage_units_table = coverage.gaps.table
    share = coverage_units_table["share_covered"].set_axis(coverage_units_table.index.astype(str))
    maps = [
        ReportMap("Übersicht: Einrichtungen", "Gebiet (schwarz umrandet), Nachbarkreise grau, Einrichtungen aller "
                  "geladenen Ebenen.", _overview_map(report_area, extent, context, units, frames, attribution), extent),
        ReportMap(f"Versorgungsanteil: {spec.title} ≤ {de_number(threshold_km, 1)} km",
                  "Anteil der Zielgruppe je Gebiet, der eine Einrichtung innerhalb von "
                  f"{de_number(threshold_km, 1)} km "
                  "Luftlinie erreicht (feste Klassen).",
                  _coverage_map(report_area, extent, context, map_units, share, layer, frames[layer], attribution),
                  extent),
    ]
    tables = gap_tables
    if loaded_scenario is not None:
        scen_share = share
        scen_units = map_units
        table = loaded_scenario.by_gemeinde
        if len(table) and {"ags", "share_after"} <= set(table.columns) and is_available("gemeinde", settings):
            scen_units = _area_units(settings, "gemeinde", report_area)
            scen_share = pd.Series(table["share_after"].to_numpy(dtype=float), index=table["ags"].astype(str))
        maps.append(ReportMap(
            f"Szenario »{loaded_scenario.name}«: neue Standorte",
            "Neue Standorte nummeriert in Auswahlreihenfolge; Einfärbung: Versorgungsanteil "
            + ("nach Umsetzung des Szenarios." if scen_share is not share else "ohne Szenario."),
            _coverage_map(report_area, extent, context, scen_units, scen_share, layer, frames[layer], attribution,
                          sites=loaded_scenario.sites),
            extent,
        ))
        tables += _scenario_tables(loaded_scenario)
        res = loaded_scenario.results
        figures += [("Szenario: Versorgung vorher → nachher",
                     f"{de_share(res.get('share_before'))} → {de_share(res.get('share_after'))}"),
                    ("Szenario: neue Standorte", de_int(len(loaded_scenario.selected)))]
    used_layers = ["kreis", *(["gemeinde"] if by == "gemeinde" else []), *frames]
    if coverage.inputs.demand_level == "orte":
        used_layers.append("orte")
    return CouncilReport(
        title="Integrationsatlas NRW – Bericht zur Integrationsinfrastruktur",
        area=report_area,
        created=today,
        layer=layer,
        layer_title=spec.title,
        threshold_km=float(threshold_km),
        scenario=loaded_scenario.name if loaded_scenario is not None else None,
        figures=tuple(figures),
        maps=tuple(maps),
        tables=tuple(tables),
        method=_method(coverage, loaded_scenario, by),
        sources=_sources(settings, list(dict.fromkeys(used_layers)), coverage, loaded_scenario),
        attributions=ATTRIBUTIONS,
        extent=extent,
        notes=coverage.inputs.notes,
    )


# --- HTML -----------------------------------------------------------------------

_CSS = """
body{font-family:"DejaVu Sans",Arial,Helvetica,sans-serif;color:#1a1a1a;max-width:190mm;margin:12mm auto;
line-height:1.45;font-size:10.5pt}
h1{font-size:17pt;margin:0 0 2pt;color:#0b3d6b}h2{font-size:13pt;margin:16pt 0 6pt;color:#0b3d6b;
border-bottom:1px solid #c8d3de;padding-bottom:2pt}
.sub{color:#444;margin:0 0 10pt}table{border-collapse:collapse;width:100%;margin:4pt 0;font-size:9pt}
th,td{border:1px solid #c8c8c8;padding:3pt 5pt;text-align:left;vertical-align:top}th{background:#e8eef4}
td.n{text-align:right;white-space:nowrap}figure{margin:8pt 0;page-break-inside:avoid}figure img{width:100%;
border:1px solid #ccc}figcaption{font-size:8.5pt;color:#444}.note{font-size:8.5pt;color:#444}
footer{margin-top:16pt;font-size:8pt;color:#555;border-top:1px solid #ccc;padding-top:4pt}
@media print{body{margin:0}h2{page-break-after:avoid}}
"""


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _html_table(table: ReportTable) -> str:
    numeric = table.numeric or (False,) * len(table.columns)
    head = "".join(f"<th>{_e(c)}</th>" for c in table.columns)
    body = "".join(
        "<tr>" + "".join(f'<td class="n">{_e(v)}</td>' if n else f"<td>{_e(v)}</td>"
                         for v, n in zip(row, numeric, strict=True)) + "</tr>"
        for row in table.rows
    )
    note = f'<p class="note">{_e(table.note)}</p>' if table.note else ""
    return f"<h2>{_e(table.title)}</h2><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{note}"


def render_html(report: CouncilReport) -> str:
    """The report as one self-contained HTML page.

    Every text is HTML-escaped; the maps are embedded as ``data:`` PNG URIs,
    so the file needs no network and no other files.
    """
    parts = [
        "<!DOCTYPE html>", '<html lang="de"><head><meta charset="utf-8">',
        f"<title>{_e(report.title)} – {_e(report.area.name)}</title>",
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<style>{_CSS}</style></head><body>",
        f"<h1>{_e(report.title)}</h1>",
        f'<p class="sub">{_e(report.subtitle)}<br>Stand: {_e(report.created.strftime("%d.%m.%Y"))}</p>',
        "<h2>Kennzahlen</h2><table><tbody>",
        *(f'<tr><th scope="row">{_e(k)}</th><td>{_e(v)}</td></tr>' for k, v in report.figures),
        "</tbody></table>",
        "<h2>Karten</h2>",
    ]
    for m in report.maps:
        data = base64.b64encode(m.png).decode("ascii")
        parts.append(f'<figure><img alt="{_e(m.title)}" src="data:image/png;base64,{data}">'
                     f"<figcaption><strong>{_e(m.title)}.</strong> {_e(m.caption)}</figcaption></figure>")
    parts += [_html_table(t) for t in report.tables]
    parts.append("<h2>Methode</h2>")
    parts += [f"<p>{_e(p)}</p>" for p in report.method]
    parts.append("<h2>Datenquellen</h2><table><thead><tr><th>Inhalt</th><th>Quelle</th><th>Lizenz</th>"
                 "<th>Stand</th></tr></thead><tbody>")
    parts += [f"<tr><td>{_e(s.what)}</td><td>{_e(s.source)}</td><td>{_e(s.licence)}</td><td>{_e(s.as_of)}</td></tr>"
              for s in report.sources]
    parts.append("</tbody></table><p><strong>Namensnennung:</strong> "
                 + " · ".join(_e(a) for a in report.attributions) + "</p>")
    parts.append(f"<footer>Erstellt mit dem Integrationsatlas NRW am {_e(report.created.strftime('%d.%m.%Y'))}. "
                 "Kartenausschnitt (EPSG:25832): " + ", ".join(de_int(v) for v in report.extent) + "</footer>")
    parts.append("</body></html>")
    return "\n".join(parts)


# --- PDF ------------------------------------------------------------------------


def _pdf_class() -> type:
    from fpdf import FPDF

    class ReportPDF(FPDF):  # type: ignore[misc]
        """A4 portrait with a running header and a footer with page number and attribution."""

        report: CouncilReport

        def header(self) -> None:
            if self.page_no() == 1:
                return
            self.set_font("DejaVu", "", 7.5)
            self.set_text_color(90, 90, 90)
            self.cell(0, 5, f"{self.report.title} – {self.report.area.label}", align="L", new_x="LMARGIN", new_y="NEXT")
            self.ln(2)

        def footer(self) -> None:
            self.set_y(-13)
            self.set_font("DejaVu", "", 6.5)
            self.set_text_color(90, 90, 90)
            self.multi_cell(0, 3, " · ".join(self.report.attributions), align="L", new_x="LMARGIN", new_y="NEXT")
            self.cell(0, 3.5, f"Seite {self.page_no()}/{{nb}} · Stand {self.report.created.strftime('%d.%m.%Y')}",
                      align="R")

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


def _pdf_table(pdf: Any, columns: Sequence[str], rows: Sequence[Sequence[str]], numeric: Sequence[bool],
               widths: Sequence[float] | None = None, header: bool = True) -> None:
    from fpdf.fonts import FontFace

    pdf.set_font("DejaVu", "", 8)
    align = tuple("RIGHT" if n else "LEFT" for n in (numeric or (False,) * len(columns)))
    with pdf.table(
        col_widths=tuple(widths) if widths else None, text_align=align, line_height=4.2,
        headings_style=FontFace(emphasis="BOLD", fill_color=(232, 238, 244)), first_row_as_headings=header,
        borders_layout="HORIZONTAL_LINES" if header else "NONE", padding=0.8,
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
    pdf.add_font("DejaVu", "", str(_FONT_DIR / "DejaVuSans.ttf"))
    pdf.add_font("DejaVu", "B", str(_FONT_DIR / "DejaVuSans-Bold.ttf"))
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

    _pdf_heading(pdf, "Kennzahlen")
    # two figures per line, so that the first map still fits on the first page
    half = math.ceil(len(report.figures) / 2)
    left, right = report.figures[:half], [*report.figures[half:], ("", "")]
    pairs = [(*a, *b) for a, b in zip(left, right, strict=False)]
    _pdf_table(pdf, ("", "", "", ""), pairs, (False, False, False, False), widths=(52, 38, 52, 38), header=False)

    map_height = MAP_WIDTH_MM / MAP_ASPECT + LEGEND_BAND_IN * 25.4
    for m in report.maps:
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
    _pdf_table(pdf, ("Inhalt", "Quelle", "Lizenz", "Stand"),
               [(s.what, s.source, s.licence, s.as_of) for s in report.sources], (False,) * 4,
               widths=(38, 84, 34, 24))
    pdf.set_font("DejaVu", "B", 8.5)
    pdf.cell(0, 5, "Namensnennung", align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 8.5)
    for line in report.attributions:
        pdf.multi_cell(0, 4, line, align="L", new_x="LMARGIN", new_y="NEXT")
    _pdf_note(pdf, "Kartenausschnitt (EPSG:25832, Meter): " + ", ".join(de_int(v) for v in report.extent))
    return bytes(pdf.output())


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
