"""Display data for the pages: GeoJSON for the map, tables with German headers, legends.

Pure functions (no Streamlit): they read through ``geo`` and the workflows of
:mod:`integrationsatlas` and shape the result for display (EPSG:4326,
simplified, escaped tooltips). :mod:`ui.cached` wraps them with Streamlit's
caches; the pages only render what they return.
"""

from __future__ import annotations

import logging
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.errors import NotLoadedError
from geo.formatting import de_as_of, points_between, shown_percent
from geo.importing import ImportResult
from geo.layers.loading import is_available, load_layer
from geo.layers.registry import REGISTRY
from geo.layers.sources import source_text
from geo.settings import PROJECTED_CRS, Settings
from geo.store import BatchInfo
from geo.units import LEVELS, level_of, load_boundaries
from integrationsatlas import areas
from integrationsatlas.classes import COST_BREAKS_X, COST_COLORS, PUOR5, SHARE_BREAKS
from integrationsatlas.coverage import CoverageReport
from integrationsatlas.request import AnalysisRequest
from integrationsatlas.siting import SitingPlan
from ui import maps
from ui.map_density import MAX_MAP_POINTS, aggregate_points
from ui.texts import text

logger = logging.getLogger(__name__)

#: Boundary levels drawn as plain outlines on every map.
OUTLINE_LEVELS: tuple[str, ...] = ("land", "regbez")


def points_geojson(cfg: Settings, layer_id: str, only: tuple[str, ...] | None = None) -> dict[str, Any]:
    """Display GeoJSON of a point layer (escaped tooltips, EPSG:4326).

    ``only`` keeps the records whose filter column (``spec.extra["filter_column"]``,
    e.g. the mode class of the stops) has one of these values. Above
    :data:`ui.map_density.MAX_MAP_POINTS` points the layer comes as counted
    grid cells (:func:`ui.map_density.aggregate_points`).
    """
    spec = REGISTRY.get(layer_id)
    gdf = load_layer(layer_id, cfg)
    column = spec.extra.get("filter_column")
    if only is not None and column:
        gdf = gdf[gdf[column].astype("string").isin(only).fillna(False).to_numpy()]
    if len(gdf) > MAX_MAP_POINTS:  # any size on the map: counted cells, and the legend says so
        return aggregate_points(gdf, spec)
    return maps.prepare_points(gdf, spec)


def outline_geojson(cfg: Settings, level: str) -> dict[str, Any]:
    """Display GeoJSON of a boundary level as outlines (simplified in metres)."""
    gdf = load_boundaries(level, cfg)  # type: ignore[arg-type]
    return maps.prepare_polygons(gdf, [("name", "Name"), ("ags", "AGS")], maps.DISPLAY_TOLERANCE_M[level])


def boundary_levels(cfg: Settings) -> tuple[str, ...]:
    """Boundary levels with data (Gemeinden only after loading)."""
    return tuple(lvl for lvl in LEVELS if is_available(lvl, cfg))


def area_set_titles(cfg: Settings) -> dict[str, str]:
    """Name → title of the stored area sets (Stadtteile, Sozialräume …), levels like Kreise and Gemeinden."""
    from geo.areasets import area_sets

    return {a.name: a.title for a in area_sets(cfg)}


def area_set_view(cfg: Settings, name: str, key: str = "", width_px: int = 400) -> tuple[tuple[float, float], int]:
    """Centre and zoom that show an area set (or its area ``key``) on a map about ``width_px`` wide."""
    from geo.areasets import load_area_set

    units = load_area_set(cfg, name)
    chosen = units[units["unit_id"].astype(str) == key] if key else units
    return maps.bounds_of(chosen if len(chosen) else units, width_px=width_px)


def indicator_dates(cfg: Settings, level: str) -> tuple[tuple[str, ...], dict[str, str]]:
    """The dates with stored indicators of ``level`` (newest first) and id → title of their indicators."""
    from integrationsatlas.monitoring import history

    rows = history(cfg, level)
    if rows.empty:
        return (), {}
    dates = tuple(sorted(set(rows["date"].astype(str)), reverse=True))
    titles = rows.drop_duplicates("indicator").set_index("indicator")["title"].astype(str)
    return dates, {str(k): str(v) for k, v in titles.items()}


def indicator_map(
    cfg: Settings, level: str, indicator: str, on: str, before: str | None = None
) -> tuple[dict[str, Any], maps.Classification, str]:
    """One stored indicator of ``level`` at ``on`` as a choropleth; with ``before``, its change since then.

    Titles and names are data: they go into tooltips and legends, which the map shows as text. The third
    element names the figures' sources with their dates (plain text), one per snapshot shown.
    """
    from geo.levels import analysis_level
    from integrationsatlas.monitoring import change_map, compare_snapshots, load_snapshot
    from integrationsatlas.monitoring.catalogue import kind_of

    declared = analysis_level(level, cfg)
    decimals = kind_of(indicator).decimals
    sources = []
    for date in (before, on) if before is not None else (on,):
        values = load_snapshot(cfg, level, date).values
        first = values[values["indicator"] == indicator].head(1)
        if len(first):
            sources.append(f"{date}: {first['source'].iloc[0]} (Stand {first['as_of'].iloc[0]})")
    if before is not None:
        change = compare_snapshots(cfg, level, before, on, indicator)
        frame = change_map(cfg, level, change, indicator)
        values = frame["change"]
        top = float(np.nanmax(np.abs(values.to_numpy(dtype=float)))) if values.notna().any() else 1.0
        top = top if top > 0 else 1.0
        cls = maps.classify_fixed(
            values,
            (-top * 0.5, -top * 1e-9, top * 1e-9, top * 0.5, top),
            f"{frame['title'].iloc[0]}: Veränderung {before} → {on} ({frame['unit'].iloc[0]})",
            decimals=decimals,
            palette={5: PUOR5},
            lower=-top,
        )
        fields = [("name", "Name"), ("key", declared.key_title), ("before", before), ("after", on),
                  ("change", "Veränderung")]  # fmt: skip
    else:
        snap = load_snapshot(cfg, level, on)
        rows = snap.values[snap.values["indicator"] == indicator][["key", "value", "title", "unit", "note"]]
        units = declared.units(cfg)
        frame = gpd.GeoDataFrame(
            {"key": units[declared.key].astype(str).to_numpy(), "name": units["name"].astype(str).to_numpy()},
            geometry=units.geometry.to_numpy(),
            crs=units.crs,
        ).merge(rows.assign(key=rows["key"].astype(str)), on="key", how="left")
        values = pd.to_numeric(frame["value"], errors="coerce")
        title = str(rows["title"].iloc[0]) if len(rows) else indicator
        unit = str(rows["unit"].iloc[0]) if len(rows) else ""
        cls = maps.classify(values, f"{title} ({unit}), {on}", decimals=decimals)
        fields = [("name", "Name"), ("key", declared.key_title), ("value", title), ("note", "Hinweis")]
    shown = frame.rename(columns={"key": "ags"}) if "ags" not in frame.columns else frame
    fields = [("ags" if c == "key" else c, label) for c, label in fields]
    tolerance = maps.DISPLAY_TOLERANCE_M.get(level, maps.DISPLAY_TOLERANCE_M["stadtteil"])
    return maps.prepare_polygons(shown, fields, tolerance, fill=cls.colors), cls, " · ".join(sources)


def gemeinde_outlines(cfg: Settings) -> dict[str, Any] | None:
    """Gemeinde polygons for display, or ``None`` when not loaded."""
    try:
        gdf = load_boundaries("gemeinde", cfg)
    except NotLoadedError:
        return None
    return maps.prepare_outline_mesh(gdf, maps.DISPLAY_TOLERANCE_M["gemeinde"])


def unit_choropleth(
    cfg: Settings,
    indicator_id: str,
    layer_id: str | None,
    facility_layers: tuple[str, ...],
    gaps: pd.DataFrame | None = None,
    level: str = "kreis",
    *,
    rough: bool = False,
    lang: str = "de",
) -> tuple[dict[str, Any], maps.Classification]:
    """Kreise or Gemeinden coloured by one indicator, with tooltips (name, AGS, population, counts).

    ``gaps`` is the gap table of a coverage analysis at the same ``level``, for
    the coverage indicators; ``rough`` says that analysis rests on too coarse
    demand, which the legend's title and each tooltip then say. Legend and
    tooltip labels are in ``lang``.
    Gemeinden have no foreign share: that indicator leaves them uncoloured
    ("keine Angabe").
    """
    ind = areas.indicator(indicator_id)
    table = (
        areas.gemeinde_table(cfg, facility_layers) if level == "gemeinde" else areas.kreis_table(cfg, facility_layers)
    )
    values = areas.indicator_values(table, indicator_id, layer_id, gaps)
    name = ind.title if lang == "de" else text(f"indicator.{ind.id}", lang)
    mark = text("luecken.rough", lang) if rough else ""
    title = name + (f" – {mark}" if mark else "")
    cls = (
        maps.classify(values, title, decimals=ind.decimals)
        if ind.breaks is None
        else maps.classify_fixed(values, ind.breaks, title, decimals=ind.decimals)
    )
    table = table.assign(_value=values)
    fields = [
        ("name", text("col.name", lang)),
        ("ags", "AGS"),
        ("bez", text("col.kind", lang)),
        ("population", text("indicator.population", lang)),
    ]
    if level == "kreis":
        fields.append(("foreign_share_pct", text("indicator.foreign_share_pct", lang)))
    if ind.id not in ("population", "foreign_share_pct"):
        fields.append(("_value", name + (f" ({mark})" if mark else "")))
    fields += [(f"n_{lid}", _layer_title(lid, lang)) for lid in facility_layers]
    data = maps.prepare_polygons(table, fields, maps.DISPLAY_TOLERANCE_M[level], fill=cls.colors)
    return data, cls


def inventory(cfg: Settings) -> pd.DataFrame:
    """The inventory of every registered layer as a German table."""
    from geo.layers.inventory import layer_inventory

    infos = layer_inventory(cfg)
    frame = pd.DataFrame([info.as_dict() for info in infos])
    frame["as_of"] = [de_as_of(i.as_of, i.imported_at) if i.available else "" for i in infos]
    frame = frame.rename(
        columns={
            "id": "Kennung",
            "title": "Ebene",
            "count": "Anzahl",
            "source": "Quelle",
            "licence": "Lizenz",
            "as_of": "Stand",
            "precision": "Lagegenauigkeit",
            "note": "Hinweis",
        }
    )
    return frame[["Ebene", "Kennung", "Anzahl", "Quelle", "Lizenz", "Stand", "Lagegenauigkeit", "Hinweis"]]


def kreis_names(cfg: Settings) -> dict[str, str]:
    """AGS → name of the 53 Kreise, sorted by name."""
    kreise = load_boundaries("kreis", cfg).sort_values("name")
    return dict(zip(kreise["ags"].astype(str), kreise["name"].astype(str), strict=True))


def planning_areas(cfg: Settings) -> dict[str, str]:
    """AGS → label of the areas siting can plan for: the Kreise, and the Gemeinden once loaded."""
    labels = {ags: f"{name} ({ags})" for ags, name in kreis_names(cfg).items()}
    if is_available("gemeinde", cfg):
        gemeinden = load_boundaries("gemeinde", cfg).sort_values("name")
        labels.update({str(a): f"Gemeinde {n} ({a})" for a, n in zip(gemeinden["ags"], gemeinden["name"], strict=True)})
    return labels


def facility_choices(cfg: Settings, layer_id: str, area: str | None) -> dict[str, str]:
    """id → name of a layer's facilities (within the AGS prefix ``area``, if given)."""
    gdf = load_layer(layer_id, cfg)
    if area and "kreis_ags" in gdf.columns:
        gdf = gdf[gdf["kreis_ags"].astype("string").str.startswith(area[:5]).fillna(False).to_numpy()]
    return dict(zip(gdf["id"].astype(str), gdf["name"].astype(str), strict=True))


def area_outline(cfg: Settings, ags: str) -> dict[str, Any]:
    """Outline of a Kreis (5-digit AGS) or Gemeinde (8 digits) for display."""
    units = load_boundaries(level_of(ags), cfg)
    return maps.prepare_polygons(
        units[units["ags"] == ags], [("name", "Planungsgebiet"), ("ags", "AGS")], maps.DISPLAY_TOLERANCE_M["gemeinde"]
    )


def plan_view(plan: SitingPlan, width_px: int = 480) -> tuple[tuple[float, float], int] | None:
    """Centre and zoom that show the plan's demand and sites (``None`` when there is nothing to show).

    A travel-time plan only uses the demand inside its OSM extract, which may
    be a small part of the area: the result maps then zoom to it instead of
    showing the whole Kreis with all sites in one spot.
    """
    parts = [g for g in (plan.demand.geometry, plan.sites.geometry) if len(g)]
    if not parts:
        return None
    both = gpd.GeoDataFrame(geometry=pd.concat(parts, ignore_index=True), crs=PROJECTED_CRS)
    return maps.bounds_of(both, width_px=width_px)


def plan_layers(plan: Any) -> dict[str, Any]:
    """Display data of a plan: numbered sites, other candidates, demand before/after."""
    sites = plan.sites.copy()
    sites["label"] = np.where(sites["fixed"], "B", sites["order"].astype("Int64").astype("string"))
    sites["gain_pct"] = sites["marginal_gain"] * 100.0 / max(plan.explanation.total_weight, 1e-9)
    fields = [
        ("name", "Standort"),
        ("source", "Herkunft"),
        ("order", "Auswahlreihenfolge"),
        ("marginal_gain", "Zusätzlich erreicht (Gewicht)"),
        ("gain_pct", "Zusätzlich erreicht (%)"),
    ]
    others = plan.candidates[~(plan.candidates["selected"] | plan.candidates["fixed"])]
    other_props = pd.DataFrame(
        {
            "_tooltip": maps.tooltip_rows(
                pd.DataFrame(others.drop(columns="geometry")), [("name", "Kandidat"), ("source", "Herkunft")]
            )
        },
        index=others.index,
    )
    demand = plan.demand
    demand_fields = [("name", "Ort"), ("weight", "Nachfrage (Gewicht)")]
    out = {
        "sites": maps.site_records(sites, "label", fields, fixed_column="fixed"),
        "candidates": maps.to_display_geojson(others, other_props),
    }
    for when in ("before", "after"):
        covered = demand[f"covered_{when}"].astype(bool)
        frame = pd.DataFrame(demand.drop(columns="geometry")).assign(
            status=np.where(covered, "erreicht", "nicht erreicht")
        )
        props = pd.DataFrame(
            {
                "_tooltip": maps.tooltip_rows(frame, [*demand_fields, ("status", "Status")]),
                "_fill": np.where(covered, "#0072B2", "#D55E00"),
            },
            index=demand.index,
        )
        out[when] = maps.to_display_geojson(demand, props)
    return out


def gap_map(
    cfg: Settings, params: AnalysisRequest, report: CoverageReport
) -> tuple[dict[str, Any], maps.Classification]:
    """Units coloured by their covered share, with rank and gap score in the tooltip."""
    from geo.levels import analysis_level

    table = report.gaps.table
    level = analysis_level(params.by, cfg)
    units = level.units(cfg)[[level.key, "name", "geometry"]].rename(columns={level.key: "ags"})
    units["ags"] = units["ags"].astype(str)
    units = units[units["ags"].isin(table.index.astype(str))].reset_index(drop=True)
    joined = units.merge(table.drop(columns=["name"], errors="ignore"), left_on="ags", right_index=True, how="left")
    joined["share_pct"] = joined["share_covered"] * 100.0
    coarse = joined["too_coarse"].fillna(False).astype(bool)
    # from too coarse demand each unit's share is as rough as the total: its tooltip and the legend say so
    rough = "" if report.resolution.ok else text("luecken.rough", "de")
    joined["note"] = np.where(coarse, f"Nachfrage zu grob für einen Anteil je {level.unit_title}", rough)
    unit_label = "km Luftlinie" if params.unit == "km" else f"min ({report.inputs.mode_label})"
    title = f"Versorgt bis {params.threshold:g} {unit_label} (%)" + (f" – {rough}" if rough else "")
    cls = maps.classify_fixed(joined["share_pct"], SHARE_BREAKS, title, decimals=0)
    fields = [
        ("name", "Name"),
        ("ags", level.key_title),
        ("share_pct", "Versorgt (%)"),
        ("rank", "Rang (1 = größte Lücke)"),
        ("gap_score", "Lückenwert"),
        ("population_beyond", "Einw. außerhalb"),
        ("cost_mean", f"Mittlere Entfernung ({params.unit})"),
        ("note", "Hinweis"),
    ]
    tolerance = maps.DISPLAY_TOLERANCE_M.get(level.id, maps.DISPLAY_TOLERANCE_M["stadtteil"])
    return maps.prepare_polygons(joined, fields, tolerance, fill=cls.colors), cls


def isochrones_geojson(polys: gpd.GeoDataFrame) -> dict[str, Any]:
    """Isochrone polygons (``facility_id``, ``minutes``) for display, with tooltips."""
    props = pd.DataFrame(
        {
            "_tooltip": maps.tooltip_rows(
                pd.DataFrame({"facility": polys["facility_id"].astype(str), "minutes": polys["minutes"]}),
                [("facility", "Einrichtung (ID)"), ("minutes", "Minuten")],
            )
        },
        index=polys.index,
    )
    return maps.to_display_geojson(polys, props)


#: Colours of :data:`integrationsatlas.scenarios.CHANGE_CLASSES` (Okabe–Ito: green, vermillion, sky blue, grey).
CHANGE_COLORS: tuple[str, ...] = ("#009E73", "#D55E00", "#56B4E9", "#BBBBBB")


def compare(cfg: Settings, name_a: str, name_b: str) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Per-Gemeinde difference of two scenarios and their sites for a side-by-side map."""
    from geo.store.scenarios import load_scenario
    from integrationsatlas.scenarios import (
        CHANGE_CLASSES,
        compare_scenarios,
        coverage_change_points,
        question_differences,
    )
    from integrationsatlas.siting_candidates import gemeinde_names

    a, b = load_scenario(cfg, name_a), load_scenario(cfg, name_b)
    diff = compare_scenarios(a, b, gemeinde_names(cfg))
    layers: dict[str, Any] = {}
    for key, scen in (("a", a), ("b", b)):
        sites = scen.sites.copy()
        fixed = sites["fixed"].astype(bool)
        sites["label"] = np.where(fixed, "B", sites["order"].astype("Int64").astype("string"))
        layers[key] = maps.site_records(
            sites, "label", [("name", "Standort"), ("order", "Reihenfolge")], fixed_column="fixed"
        )
    try:
        gemeinden = load_boundaries("gemeinde", cfg)
    except NotLoadedError:
        gemeinden = None
    joined = None if gemeinden is None else gemeinden.merge(diff, left_on="ags", right_on="gemeinde_ags", how="inner")
    if joined is not None and joined["difference"].notna().any():  # none when the demand carries no Gemeinde AGS
        joined["diff_pp"] = _points(joined["share_after_a"], joined["share_after_b"])
        cls = maps.classify_fixed(
            joined["diff_pp"],
            (-10.0, -1.0, 1.0, 10.0, 100.0),
            f"Unterschied »{name_b}« − »{name_a}« (Prozentpunkte)",
            palette={5: PUOR5},
        )
        layers["difference"] = maps.prepare_polygons(
            joined,
            [("name", "Gemeinde"), ("diff_pp", "Unterschied (Prozentpunkte)")],
            maps.DISPLAY_TOLERANCE_M["gemeinde"],
            fill=cls.colors,
        )
        layers["classification"] = cls
    else:
        changes = coverage_change_points(cfg, a, b)
        if changes is not None:
            frame = pd.DataFrame(changes.drop(columns="geometry"))
            props = pd.DataFrame(
                {
                    "_tooltip": maps.tooltip_rows(frame, [("change", "Versorgung"), ("weight", "Nachfrage (Gewicht)")]),
                    "_fill": frame["change"].map(dict(zip(CHANGE_CLASSES, CHANGE_COLORS, strict=True))),
                },
                index=changes.index,
            )
            layers["change_points"] = maps.to_display_geojson(changes, props)
            layers["change_legend"] = list(zip(CHANGE_COLORS, CHANGE_CLASSES, strict=True))
    layers["area_ags"] = a.area_ags
    layers["rough"] = {s.name: s.rough for s in (a, b) if s.rough}  # name → why its shares are rough
    layers["question_differences"] = question_differences(a, b)
    return diff, layers


# --- tables and chart data --------------------------------------------------------


def ranking_table(report: CoverageReport, lang: str = "de", key_title: str = "AGS") -> pd.DataFrame:
    """The gap ranking with headers in ``lang`` (German by default; rank 1 = largest gap).

    ``key_title`` heads the units' keys: the level's (:attr:`geo.levels.AnalysisLevel.key_title`, ``Nr.`` for the
    areas of a set).
    """
    table = report.gaps.ranking(None)
    unit = report.inputs.unit
    names = table["name"].astype("string")
    if report.extent is not None and report.extent.partial:  # never a bare area name beside a partial figure
        names = names + " " + text("luecken.in_extent", lang, name=report.extent.name)
    shown = pd.DataFrame(
        {
            text("col.rank", lang): table["rank"].astype("Int64"),
            text("col.area", lang): names,
            text("col.covered_pct", lang): (table["share_covered"] * 100).round(1),
            text("col.pop_beyond", lang): table["population_beyond"].round(0).astype("Int64"),
            text("col.mean_cost", lang, unit=unit): table["cost_mean"].round(1),
            text("col.gap_score", lang): table["gap_score"].round(3),
        }
    )
    if "access_ratio" in table.columns:
        shown[text("col.access", lang)] = (table["access_ratio"] * 10_000).round(2)
    # the interval of each unit's share, from the demand's documented noise (official totals have none)
    if report.intervals is not None and report.intervals.uncertainty.varied:
        bounds = report.intervals.units.reindex(table.index.astype(str))
        level = round(report.intervals.uncertainty.level * 100)
        shown.insert(3, text("decisions.col.interval", lang, level=level), _spans(bounds["low"], bounds["high"]))
    return shown.reset_index(names=key_title)


def _spans(low: pd.Series, high: pd.Series) -> list[str]:
    """``low``–``high`` of shares as German percentages (one decimal), ``–`` where unknown."""
    from geo.formatting import de_number

    return [
        "–" if not (np.isfinite(lo) and np.isfinite(hi)) else f"{de_number(lo * 100, 1)}–{de_number(hi * 100, 1)} %"
        for lo, hi in zip(low.to_numpy(dtype=float), high.to_numpy(dtype=float), strict=True)
    ]


def curve_table(report: CoverageReport) -> pd.DataFrame:
    """The coverage curve (share covered per threshold) in per cent, for the chart."""
    curve = report.curve.copy()
    curve["Versorgt (%)"] = curve["share_covered"] * 100
    return curve


def sites_table(plan: SitingPlan, lang: str = "de") -> pd.DataFrame:
    """The proposed sites in selection order, with their gains (headers in ``lang``, German by default)."""
    rows = [
        {
            text("col.no", lang): s.rank,
            text("col.site", lang): s.name,
            text("col.origin", lang): s.source,
            text("col.gemeinde", lang): s.gemeinde or s.gemeinde_ags,
            text("col.gain_people", lang): round(s.gain),
            text("col.gain_pct", lang): round(s.gain_share * 100, 1),
            text("col.share_after", lang): round(s.share_after * 100, 1),
        }
        for s in plan.explanation.sites
    ]
    return pd.DataFrame(rows)


def _points(before: pd.Series, after: pd.Series) -> pd.Series:
    """Row by row :func:`points_between` of two share columns (the difference the shown percentages make)."""
    return pd.Series([points_between(b, a) for b, a in zip(before, after, strict=True)], index=before.index)


def diff_table(diff: pd.DataFrame, lang: str = "de") -> pd.DataFrame:
    """Per-Gemeinde comparison of two scenarios in per cent (headers in ``lang``, German by default)."""
    shown: dict[str, Any] = {text("col.gemeinde_ags", lang): diff["gemeinde_ags"]}
    if "gemeinde" in diff.columns:
        shown[text("col.gemeinde", lang)] = diff["gemeinde"]
    shares = (("share_before", "col.before"), ("share_after_a", "col.after_a"), ("share_after_b", "col.after_b"))
    for col, key in shares:
        if col in diff.columns:
            shown[text(key, lang)] = diff[col].map(shown_percent)
    if {"share_after_a", "share_after_b"} <= set(diff.columns):
        shown[text("col.b_minus_a", lang)] = _points(diff["share_after_a"], diff["share_after_b"])
    for col, key in (("sites_new_a", "col.new_a"), ("sites_new_b", "col.new_b")):
        if col in diff.columns:
            shown[text(key, lang)] = diff[col]
    return pd.DataFrame(shown)


def sensitivity_table(sens: pd.DataFrame) -> pd.DataFrame:
    """The coverage-vs-p curve of a plan in per cent (rows without a result dropped)."""
    return sens.dropna(subset=["covered_share"]).assign(pct=lambda d: d["covered_share"] * 100)


def clicked_table(clicked: list[tuple[float, float]], lang: str = "de") -> pd.DataFrame:
    """Clicked candidate points (lat, lon), numbered from 1 (headers in ``lang``)."""
    columns = [text("col.lat", lang), text("col.lon", lang)]
    return pd.DataFrame(clicked, columns=columns).rename(lambda i: i + 1)


def batches_table(rows: list[BatchInfo], lang: str = "de") -> pd.DataFrame:
    """The data store's batches as a table (headers and layer titles in ``lang``, German by default)."""
    frame = pd.DataFrame([b.as_dict() for b in rows])
    # a population table is no map layer: it has its own title (``table.<id>``), else the id itself
    frame["layer_id"] = frame["layer_id"].map(
        lambda lid: _layer_title(lid, lang) if lid in REGISTRY else text(f"table.{lid}", lang)
    )
    frame["source"] = frame["source"].map(source_text)  # the file has its own column
    frame["as_of"] = [de_as_of(b.as_of) for b in rows]
    columns = {
        "batch_id": "col.batch",
        "layer_id": "col.layer",
        "source_file": "col.file",
        "source": "col.source",
        "licence": "col.licence",
        "as_of": "col.as_of",
        "imported_at": "col.imported_at",
        "mode": "col.mode",
        "rows_kept": "col.rows",
        "rows_rejected": "col.rejected",
        "active": "col.active",
    }
    headers = {name: text(key, lang) for name, key in columns.items()}
    return frame.rename(columns=headers)[list(headers.values())]


def localize_inventory(frame: pd.DataFrame, lang: str) -> pd.DataFrame:
    """The inventory of :func:`inventory` with headers and layer titles in ``lang`` (unchanged for German)."""
    if lang == "de":
        return frame
    titles = frame["Kennung"].map(lambda lid: _layer_title(lid, lang) if lid in REGISTRY else None)
    frame = frame.assign(Ebene=titles.fillna(frame["Ebene"]))
    return frame.rename(columns={text(key, "de"): text(key, lang) for key in _INVENTORY_HEADERS})


#: Keys of the inventory headers (German text = the column names :func:`inventory` gives).
_INVENTORY_HEADERS: tuple[str, ...] = (
    "col.layer",
    "col.id",
    "col.count",
    "col.source",
    "col.licence",
    "col.as_of",
    "col.precision",
    "col.note",
)


def _layer_title(layer_id: str, lang: str) -> str:
    spec = REGISTRY.get(layer_id)
    return spec.title_en if lang == "en" else spec.title


def preview_table(result: ImportResult, rows: int) -> pd.DataFrame:
    """The first ``rows`` valid rows of an import preview, without geometry."""
    return pd.DataFrame(result.data.drop(columns=result.data.geometry.name)).head(rows)


#: Demand resolutions fine enough to be drawn cell by cell.
CELL_RESOLUTIONS: tuple[str, ...] = ("zensus_100m", "osm_100m", "zensus_1km")


def cell_grid(
    report: CoverageReport, params: AnalysisRequest
) -> tuple[gpd.GeoDataFrame, pd.Series, maps.Classification] | None:
    """The cost of every fine demand cell (100 m or 1 km) classed against the threshold, or ``None``.

    Classes are multiples of the threshold (:data:`integrationsatlas.classes.COST_BREAKS_X`): blue
    within half of it, light blue within it, then yellow, orange and red beyond.
    """
    cells = report.cells
    if "resolution" not in cells.columns:
        return None
    fine = cells[cells["resolution"].isin(CELL_RESOLUTIONS).to_numpy()]
    if fine.empty:
        return None
    cost = pd.Series(fine["cost"].to_numpy(dtype="float64"), index=fine.index)
    capped = cost.where(np.isfinite(cost), params.threshold * 10.0)
    top = max(float(capped.max()), params.threshold * 3.0)
    breaks = [params.threshold * x if np.isfinite(x) else top for x in COST_BREAKS_X]
    unit = "km" if params.unit == "km" else "min"
    cls = maps.classify_fixed(
        capped,
        breaks,
        f"Weg zur nächsten Einrichtung je Zelle ({unit})",
        decimals=1,
        palette={len(COST_COLORS): COST_COLORS},
    )
    return fine, capped, cls
