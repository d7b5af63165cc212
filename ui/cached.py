"""Cached wrappers: the one place where pages get data.

Every wrapper takes the :class:`~geo.settings.Settings`, a store ``version``
and small hashable parameters, calls the ``geo``/``planning``/analysis code
and returns plain results (GeoJSON dicts, frames, frozen dataclasses).
``version`` changes with every import, deletion or restore in the data
store, so cached results never outlive the data they were computed from.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import streamlit as st

from geo.boundaries import load_boundaries
from geo.errors import NotLoadedError
from geo.layers.loading import is_available, load_layer
from geo.layers.registry import REGISTRY
from geo.settings import Settings
from ui import areas, maps

logger = logging.getLogger(__name__)

#: Boundary levels drawn as plain outlines on every map.
OUTLINE_LEVELS: tuple[str, ...] = ("land", "regbez")


def settings() -> Settings:
    """The application settings (``INTEGRATIONSATLAS_*`` environment variables)."""
    return Settings.from_env()


def store_version(cfg: Settings) -> str:
    """A string that changes whenever the data store changes.

    Built from the file's modification time and size and the active batches,
    so that imports, deletions and restores invalidate the caches.
    """
    path = Path(cfg.store_path)
    if not path.exists():
        return "empty"
    stat = path.stat()
    wal = path.with_name(path.name + "-wal")
    wal_part = f"{wal.stat().st_mtime_ns}" if wal.exists() else ""
    from geo.store import DataStore

    active = ",".join(sorted(f"{b.batch_id}:{int(b.active)}" for b in DataStore(path).batches()))
    digest = hashlib.sha1(active.encode("utf-8")).hexdigest()[:12]
    return f"{stat.st_mtime_ns}:{stat.st_size}:{wal_part}:{digest}"


# --- layers ------------------------------------------------------------------


@st.cache_data(show_spinner=False, max_entries=64)
def available_layers(cfg: Settings, version: str, group: str) -> tuple[str, ...]:
    """Ids of the layers of ``group`` that have data."""
    return tuple(s.id for s in REGISTRY.by_group(group) if is_available(s.id, cfg))  # type: ignore[arg-type]


@st.cache_data(show_spinner=False, max_entries=64)
def points_geojson(cfg: Settings, version: str, layer_id: str) -> dict[str, Any]:
    """Display GeoJSON of a point layer (escaped tooltips, EPSG:4326)."""
    spec = REGISTRY.get(layer_id)
    return maps.prepare_points(load_layer(layer_id, cfg), spec)


@st.cache_data(show_spinner=False, max_entries=16)
def outline_geojson(cfg: Settings, version: str, level: str) -> dict[str, Any]:
    """Display GeoJSON of a boundary level as outlines (simplified in metres)."""
    gdf = load_boundaries(level, cfg)  # type: ignore[arg-type]
    return maps.prepare_polygons(gdf, [("name", "Name"), ("ags", "AGS")], maps.DISPLAY_TOLERANCE_M[level])


@st.cache_data(show_spinner=False, max_entries=16)
def boundary_levels(cfg: Settings, version: str) -> tuple[str, ...]:
    """Boundary levels with data (Gemeinden only after loading)."""
    return tuple(lvl for lvl in ("land", "regbez", "kreis", "gemeinde") if is_available(lvl, cfg))


# --- Karte -----------------------------------------------------------------


@st.cache_data(show_spinner=False, max_entries=32)
def kreis_choropleth(
    cfg: Settings, version: str, indicator_id: str, layer_id: str | None, facility_layers: tuple[str, ...]
) -> tuple[dict[str, Any], maps.Classification]:
    """Kreise coloured by one indicator, with tooltips (name, AGS, population, share, counts)."""
    ind = areas.indicator(indicator_id)
    table = areas.kreis_table(cfg, facility_layers)
    gaps = None
    if ind.id in areas.COVERAGE_INDICATORS and layer_id is not None:
        params = GapParams(layer=layer_id, threshold=areas.KARTE_THRESHOLD_KM)
        gaps = coverage(cfg, version, params).gaps.table
    values = areas.indicator_values(table, indicator_id, layer_id, gaps)
    cls = maps.classify(values, ind.title, decimals=ind.decimals)
    table = table.assign(_value=values)
    fields = [("name", "Name"), ("ags", "AGS"), ("bez", "Art"), ("population", "Einwohner"),
              ("foreign_share_pct", "Ausländeranteil (%)")]
    if ind.id not in ("population", "foreign_share_pct"):
        fields.append(("_value", ind.title))
    fields += [(f"n_{lid}", REGISTRY.get(lid).title) for lid in facility_layers]
    data = maps.prepare_polygons(table, fields, maps.DISPLAY_TOLERANCE_M["kreis"], fill=cls.colors)
    return data, cls


@st.cache_data(show_spinner=False, max_entries=8)
def gemeinde_outlines(cfg: Settings, version: str) -> dict[str, Any] | None:
    """Gemeinde polygons for display, or ``None`` when not loaded."""
    try:
        gdf = load_boundaries("gemeinde", cfg)
    except NotLoadedError:
        return None
    return maps.prepare_polygons(
        gdf, [("name", "Gemeinde"), ("ags", "AGS"), ("population", "Einwohner")],
        maps.DISPLAY_TOLERANCE_M["gemeinde"],
    )


@st.cache_resource(show_spinner=False, max_entries=8)
def _units(cfg: Settings, version: str) -> dict[str, gpd.GeoDataFrame]:
    return areas.loaded_levels(cfg)


def search_areas(cfg: Settings, version: str, query: str) -> list[areas.AreaHit]:
    """Kreise/Gemeinden matching ``query`` by name or AGS."""
    return areas.search_areas(_units(cfg, version), query)


def area_at(cfg: Settings, version: str, level: str, lat: float, lon: float) -> str | None:
    """AGS of the unit at a clicked position."""
    units = _units(cfg, version)
    return areas.area_at(units[level], lat, lon) if level in units else None


def area_view(
    cfg: Settings, version: str, level: str, ags: str, width_px: int = 400
) -> tuple[tuple[float, float], int]:
    """Centre and zoom that show the unit ``ags`` on a map about ``width_px`` wide."""
    units = _units(cfg, version)[level]
    return maps.bounds_of(units[units["ags"] == ags], width_px=width_px)


@st.cache_data(show_spinner=False, max_entries=64)
def area_profile(
    cfg: Settings, version: str, level: str, ags: str, facility_layers: tuple[str, ...]
) -> areas.AreaProfile:
    """Key figures and facilities of one unit."""
    return areas.area_profile(cfg, level, ags, facility_layers)


# --- Daten -------------------------------------------------------------------


@st.cache_data(show_spinner=False, max_entries=8)
def inventory(cfg: Settings, version: str) -> pd.DataFrame:
    """The inventory of every registered layer as a German table."""
    from geo.inventory import layer_inventory

    rows = [info.as_dict() for info in layer_inventory(cfg)]
    frame = pd.DataFrame(rows)
    frame = frame.rename(columns={
        "id": "Kennung", "title": "Ebene", "count": "Anzahl", "source": "Quelle", "licence": "Lizenz",
        "as_of": "Stand", "precision": "Lagegenauigkeit", "note": "Hinweis",
    })
    return frame[["Ebene", "Kennung", "Anzahl", "Quelle", "Lizenz", "Stand", "Lagegenauigkeit", "Hinweis"]]


def _with_temp_file(name: str, content: bytes, func: Any) -> Any:
    """Write an upload to a temporary file (keeping its suffix) and call ``func(path)``."""
    import tempfile

    suffix = Path(name).suffix.lower()
    with tempfile.TemporaryDirectory(prefix="atlas-upload-") as tmp:
        path = Path(tmp) / f"upload{suffix}"
        path.write_bytes(content)
        return func(path)


@st.cache_data(show_spinner=False, max_entries=8)
def import_preview(cfg: Settings, version: str, layer_id: str, name: str, content: bytes,
                   on_invalid: str) -> Any:
    """Dry run of an import: validated rows, every problem, notes (nothing is stored)."""
    from geo.importing import import_file

    return _with_temp_file(name, content, lambda p: import_file(
        p, layer_id, cfg, on_invalid=on_invalid, dry_run=True, display_name=name))  # type: ignore[arg-type]


def run_import(cfg: Settings, layer_id: str, name: str, content: bytes, mode: str, on_invalid: str) -> Any:
    """Import an upload into the data store (not cached: it writes)."""
    from geo.importing import import_file

    return _with_temp_file(name, content, lambda p: import_file(
        p, layer_id, cfg, mode=mode, on_invalid=on_invalid, display_name=name))  # type: ignore[arg-type]


def batches(cfg: Settings, version: str) -> list[Any]:
    """All import/fetch batches of the data store, newest first."""
    from geo.store import DataStore

    if not Path(cfg.store_path).exists():
        return []
    return DataStore(cfg.store_path).batches()


def fetch(cfg: Settings, source_id: str, kreis: str | None, progress: Any) -> Any:
    """Fetch an official or OSM source into the data store (not cached: it writes)."""
    from geo.sources.fetching import fetch_source

    return fetch_source(source_id, cfg, kreis=kreis, progress=progress)


def set_batch_active(cfg: Settings, batch_id: str, active: bool) -> None:
    """Delete (deactivate) or restore one batch."""
    from geo.store import DataStore

    store = DataStore(cfg.store_path)
    (store.restore if active else store.deactivate)(batch_id)


# --- Versorgungslücken ----------------------------------------------------------


@dataclass(frozen=True)
class GapParams:
    """Parameters of one coverage analysis (hashable: the cache key).

    ``unit`` is ``km`` (straight line) or ``min`` (travel time on the street
    network of ``osm_file`` with ``mode``); ``area`` is an AGS prefix or ``None``.
    """

    layer: str
    threshold: float
    unit: str = "km"
    mode: str = "walk"
    target_group: str = "total"
    by: str = "kreis"
    area: str | None = None
    osm_file: str | None = None


@st.cache_data(show_spinner="Versorgung wird berechnet …", max_entries=64)
def coverage(cfg: Settings, version: str, params: GapParams) -> Any:
    """The coverage report (gap table, overall share, curve, demand level)."""
    from integrationsatlas.analysis import coverage_report

    return coverage_report(
        cfg, layer=params.layer, by=params.by,  # type: ignore[arg-type]
        threshold_km=params.threshold if params.unit == "km" else None,
        threshold_min=params.threshold if params.unit == "min" else None,
        mode=params.mode, osm_file=Path(params.osm_file) if params.osm_file else None,
        target_group=params.target_group, area=params.area,
    )


#: Fixed class breaks of the covered share (%), so maps stay comparable across thresholds.
SHARE_BREAKS: tuple[float, ...] = (50.0, 70.0, 85.0, 95.0, 100.0)


@st.cache_data(show_spinner=False, max_entries=64)
def gap_map(cfg: Settings, version: str, params: GapParams) -> tuple[dict[str, Any], maps.Classification]:
    """Units coloured by their covered share, with rank and gap score in the tooltip."""
    report = coverage(cfg, version, params)
    table = report.gaps.table
    units = load_boundaries(params.by, cfg)  # type: ignore[arg-type]
    units = units[units["ags"].isin(table.index.astype(str))].reset_index(drop=True)
    joined = units.merge(table.drop(columns=["name"], errors="ignore"), left_on="ags", right_index=True, how="left")
    joined["share_pct"] = joined["share_covered"] * 100.0
    unit_label = "km Luftlinie" if params.unit == "km" else f"min ({report.inputs.mode_label})"
    cls = maps.classify_fixed(joined["share_pct"], SHARE_BREAKS,
                              f"Versorgt bis {params.threshold:g} {unit_label} (%)", decimals=0)
    fields = [("name", "Name"), ("ags", "AGS"), ("share_pct", "Versorgt (%)"), ("rank", "Rang (1 = größte Lücke)"),
              ("gap_score", "Lückenwert"), ("population_beyond", "Einw. außerhalb"),
              ("cost_mean", f"Mittlere Entfernung ({params.unit})")]
    tolerance = maps.DISPLAY_TOLERANCE_M.get(params.by, 50.0)
    return maps.prepare_polygons(joined, fields, tolerance, fill=cls.colors), cls


@st.cache_data(show_spinner="Isochronen werden berechnet …", max_entries=16)
def isochrones(cfg: Settings, version: str, layer_id: str, facility_ids: tuple[str, ...], osm_file: str,
               mode: str, minutes: float) -> dict[str, Any]:
    """Isochrones (area reached within ``minutes``) of the chosen facilities, for display."""
    from geo.sources.streets import load_network
    from planning import network

    facilities = load_layer(layer_id, cfg)
    chosen = facilities[facilities["id"].astype(str).isin(facility_ids)]
    net = load_network(mode, cfg, osm_file=osm_file)
    polys = network.isochrones(net, chosen.set_index("id"), minutes=(minutes,), max_snap_m=cfg.snap_max_m)
    polys = polys[~polys.geometry.is_empty]
    props = pd.DataFrame({"_tooltip": maps.tooltip_html(
        pd.DataFrame({"facility": polys["facility_id"].astype(str), "minutes": polys["minutes"]}),
        [("facility", "Einrichtung (ID)"), ("minutes", "Minuten")])}, index=polys.index)
    return maps.to_display_geojson(polys, props)


@st.cache_data(show_spinner=False, max_entries=8)
def kreis_names(cfg: Settings, version: str) -> dict[str, str]:
    """AGS → name of the 53 Kreise, sorted by name."""
    kreise = load_boundaries("kreis", cfg).sort_values("name")
    return dict(zip(kreise["ags"].astype(str), kreise["name"].astype(str), strict=True))


@st.cache_data(show_spinner=False, max_entries=8)
def planning_areas(cfg: Settings, version: str) -> dict[str, str]:
    """AGS → label of the areas siting can plan for: the Kreise, and the Gemeinden once loaded."""
    labels = {ags: f"{name} ({ags})" for ags, name in kreis_names(cfg, version).items()}
    if is_available("gemeinde", cfg):
        gemeinden = load_boundaries("gemeinde", cfg).sort_values("name")
        labels.update({str(a): f"Gemeinde {n} ({a})" for a, n in zip(gemeinden["ags"], gemeinden["name"], strict=True)})
    return labels


@st.cache_data(show_spinner=False, max_entries=16)
def facility_choices(cfg: Settings, version: str, layer_id: str, area: str | None) -> dict[str, str]:
    """id → name of a layer's facilities (within the AGS prefix ``area``, if given)."""
    gdf = load_layer(layer_id, cfg)
    if area and "kreis_ags" in gdf.columns:
        gdf = gdf[gdf["kreis_ags"].astype("string").str.startswith(area[:5]).fillna(False).to_numpy()]
    return dict(zip(gdf["id"].astype(str), gdf["name"].astype(str), strict=True))


# --- Standortplanung -------------------------------------------------------------


@st.cache_resource(show_spinner=False, max_entries=16)
def siting_plan(cfg: Settings, version: str, params: Any, _progress: Any = None) -> Any:
    """The siting plan for ``params`` (a ``SitingParams``); shared read-only between sessions.

    ``cache_resource`` (not ``cache_data``): the plan holds the solver's result
    object, which need not be picklable. The plan is frozen, so sharing it is safe.
    """
    from integrationsatlas.planner import plan_sites

    return plan_sites(cfg, params, progress=_progress)


@st.cache_data(show_spinner=False, max_entries=32)
def area_outline(cfg: Settings, version: str, ags: str) -> dict[str, Any]:
    """Outline of a Kreis (5-digit AGS) or Gemeinde (8 digits) for display."""
    level = "gemeinde" if len(ags) > 5 else "kreis"
    units = load_boundaries(level, cfg)  # type: ignore[arg-type]
    return maps.prepare_polygons(units[units["ags"] == ags], [("name", "Planungsgebiet"), ("ags", "AGS")],
                                 maps.DISPLAY_TOLERANCE_M["gemeinde"])


def plan_layers(plan: Any) -> dict[str, Any]:
    """Display data of a plan: numbered sites, other candidates, demand before/after."""
    sites = plan.sites.copy()
    sites["label"] = np.where(sites["fixed"], "B", sites["order"].astype("Int64").astype("string"))
    sites["gain_pct"] = sites["marginal_gain"] * 100.0 / max(plan.explanation.total_weight, 1e-9)
    fields = [("name", "Standort"), ("source", "Herkunft"), ("order", "Auswahlreihenfolge"),
              ("marginal_gain", "Zusätzlich erreicht (Gewicht)"), ("gain_pct", "Zusätzlich erreicht (%)")]
    others = plan.candidates[~(plan.candidates["selected"] | plan.candidates["fixed"])]
    other_props = pd.DataFrame({"_tooltip": maps.tooltip_html(pd.DataFrame(others.drop(columns="geometry")),
                                                              [("name", "Kandidat"), ("source", "Herkunft")])},
                               index=others.index)
    demand = plan.demand
    demand_fields = [("name", "Ort"), ("weight", "Nachfrage (Gewicht)")]
    out = {"sites": maps.site_records(sites, "label", fields, fixed_column="fixed"),
           "candidates": maps.to_display_geojson(others, other_props)}
    for when in ("before", "after"):
        covered = demand[f"covered_{when}"].astype(bool)
        frame = pd.DataFrame(demand.drop(columns="geometry")).assign(
            status=np.where(covered, "erreicht", "nicht erreicht"))
        props = pd.DataFrame({"_tooltip": maps.tooltip_html(frame, [*demand_fields, ("status", "Status")]),
                              "_fill": np.where(covered, "#0072B2", "#D55E00")}, index=demand.index)
        out[when] = maps.to_display_geojson(demand, props)
    return out


def scenario_names(cfg: Settings) -> list[str]:
    """Names of the saved scenarios, newest first."""
    from geo.scenarios import list_scenarios

    return list_scenarios(cfg)["name"].astype(str).tolist()


def save_scenario(cfg: Settings, plan: Any, name: str, overwrite: bool) -> None:
    """Save a plan as scenario ``name``."""
    from geo.scenarios import save_scenario as _save

    _save(cfg, plan.to_scenario(name), overwrite=overwrite)


@st.cache_data(show_spinner=False, max_entries=16)
def compare(cfg: Settings, version: str, name_a: str, name_b: str) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Per-Gemeinde difference of two scenarios and their sites for a side-by-side map."""
    from geo.scenarios import load_scenario
    from integrationsatlas.planner import CHANGE_CLASSES, compare_scenarios, coverage_change_points

    a, b = load_scenario(cfg, name_a), load_scenario(cfg, name_b)
    diff = compare_scenarios(a, b)
    layers: dict[str, Any] = {}
    for key, scen in (("a", a), ("b", b)):
        sites = scen.sites.copy()
        fixed = sites["fixed"].astype(bool)
        sites["label"] = np.where(fixed, "B", sites["order"].astype("Int64").astype("string"))
        layers[key] = maps.site_records(sites, "label", [("name", "Standort"), ("order", "Reihenfolge")],
                                          fixed_column="fixed")
    try:
        gemeinden = load_boundaries("gemeinde", cfg)
    except NotLoadedError:
        gemeinden = None
    joined = None if gemeinden is None else gemeinden.merge(diff, left_on="ags", right_on="gemeinde_ags", how="inner")
    if joined is not None and len(joined):  # empty when the plans' demand carries no Gemeinde AGS
        joined["diff_pp"] = joined["difference"] * 100.0
        cls = maps.classify_fixed(joined["diff_pp"], (-10.0, -1.0, 1.0, 10.0, 100.0),
                                  f"Unterschied »{name_b}« − »{name_a}« (Prozentpunkte)", palette={5: maps.PUOR5})
        layers["difference"] = maps.prepare_polygons(
            joined, [("name", "Gemeinde"), ("diff_pp", "Unterschied (Prozentpunkte)")],
            maps.DISPLAY_TOLERANCE_M["gemeinde"], fill=cls.colors)
        layers["classification"] = cls
    else:
        changes = coverage_change_points(cfg, a, b)
        if changes is not None:
            frame = pd.DataFrame(changes.drop(columns="geometry"))
            props = pd.DataFrame({
                "_tooltip": maps.tooltip_html(frame, [("change", "Versorgung"), ("weight", "Nachfrage (Gewicht)")]),
                "_fill": frame["change"].map(dict(zip(CHANGE_CLASSES, CHANGE_COLORS, strict=True))),
            }, index=changes.index)
            layers["change_points"] = maps.to_display_geojson(changes, props)
            layers["change_legend"] = list(zip(CHANGE_COLORS, CHANGE_CLASSES, strict=True))
    layers["area_ags"] = a.area_ags
    return diff, layers


#: Colours of :data:`integrationsatlas.planner.CHANGE_CLASSES` (Okabe–Ito: green, vermillion, sky blue, grey).
CHANGE_COLORS: tuple[str, ...] = ("#009E73", "#D55E00", "#56B4E9", "#BBBBBB")
