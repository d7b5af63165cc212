"""Cached wrappers: the one place where pages get data, and nothing else.

Each wrapper is a Streamlit cache decorator around one call of :mod:`ui.views`,
:mod:`ui.actions` or a workflow of :mod:`integrationsatlas`. Every wrapper takes
the :class:`~geo.settings.Settings`, a store ``version`` and small hashable
parameters; ``version`` changes with every import, deletion or restore in the
data store, so cached results never outlive the data they were computed from.
Writes are not cached: pages call :mod:`ui.actions` directly.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import streamlit as st

from geo.importing import ImportResult
from geo.io.export import export_filename, export_frame, export_layer
from geo.layers.loading import is_available
from geo.layers.registry import REGISTRY
from geo.layers.sources import ATTRIBUTIONS
from geo.settings import Settings
from geo.store import open_store
from geo.store.scenarios import load_scenario
from integrationsatlas import areas, landwide
from integrationsatlas import report as council
from integrationsatlas.coverage import CoverageReport, coverage_report, facility_isochrones
from integrationsatlas.pyramid import Pyramid
from integrationsatlas.request import AnalysisRequest
from integrationsatlas.siting import SitingPlan, plan_sites
from ui import actions, auth, fairuse, maps, views
from ui.runs import Progress, RunCache
from ui.static_assets import LocalTiles, publish_local_tiles
from ui.views import OUTLINE_LEVELS

__all__ = ["OUTLINE_LEVELS"]


def settings() -> Settings:
    """The application settings (``INTEGRATIONSATLAS_*`` environment variables).

    With login, the database is the one of the logged-in user's role (:func:`ui.auth.session_settings`).
    """
    return auth.session_settings(Settings.from_env())


def store_version(cfg: Settings) -> str:
    """A string that changes whenever the data store changes (:meth:`geo.store.Store.state_token`).

    Imports, deletions, restores and scenario saves invalidate the caches, on
    either backend and from any process.
    """
    return open_store(cfg).state_token()


# --- layers and boundaries ---------------------------------------------------------


@st.cache_data(show_spinner=False, max_entries=64)
def available_layers(cfg: Settings, version: str, group: str) -> tuple[str, ...]:
    """Ids of the layers of ``group`` that have data."""
    return tuple(s.id for s in REGISTRY.by_group(group) if is_available(s.id, cfg))  # type: ignore[arg-type]


@auth.opens_layers(lambda cfg, version, layer_id, only=None: (layer_id,))
@st.cache_data(show_spinner=False, max_entries=64)
def points_geojson(cfg: Settings, version: str, layer_id: str, only: tuple[str, ...] | None = None) -> dict[str, Any]:
    """Display GeoJSON of a point layer (optionally only some values of its filter column)."""
    return views.points_geojson(cfg, layer_id, only)


@st.cache_data(show_spinner=False, max_entries=16)
def outline_geojson(cfg: Settings, version: str, level: str) -> dict[str, Any]:
    """Display GeoJSON of a boundary level as outlines."""
    return views.outline_geojson(cfg, level)


@st.cache_data(show_spinner=False, max_entries=16)
def boundary_levels(cfg: Settings, version: str) -> tuple[str, ...]:
    """Boundary levels with data."""
    return views.boundary_levels(cfg)


@st.cache_data(show_spinner=False, max_entries=8)
def area_set_titles(cfg: Settings, version: str) -> dict[str, str]:
    """Name → title of the stored area sets."""
    return views.area_set_titles(cfg)


@st.cache_data(show_spinner=False, max_entries=16)
def area_set_view(cfg: Settings, version: str, name: str, key: str = "") -> tuple[tuple[float, float], int]:
    """Centre and zoom that show an area set (or one of its areas)."""
    return views.area_set_view(cfg, name, key)


@st.cache_data(show_spinner=False, max_entries=16)
def indicator_dates(cfg: Settings, version: str, level: str) -> tuple[tuple[str, ...], dict[str, str]]:
    """Dates and indicator titles stored for a level (see :func:`ui.views.indicator_dates`)."""
    return views.indicator_dates(cfg, level)


@st.cache_data(show_spinner=False, max_entries=16)
def indicator_map(
    cfg: Settings, version: str, level: str, indicator: str, on: str, before: str | None
) -> tuple[dict[str, Any], maps.Classification, str]:
    """A stored indicator, or its change, as a choropleth with its sources (see :func:`ui.views.indicator_map`)."""
    return views.indicator_map(cfg, level, indicator, on, before)


@st.cache_data(show_spinner=False, max_entries=8)
def kreis_names(cfg: Settings, version: str) -> dict[str, str]:
    """AGS → name of the 53 Kreise, sorted by name."""
    return views.kreis_names(cfg)


# --- Karte -------------------------------------------------------------------------


@auth.opens_layers(lambda cfg, version, indicator_id, layer_id, facility_layers, *rest: facility_layers)
@st.cache_data(show_spinner=False, max_entries=32)
def unit_choropleth(
    cfg: Settings,
    version: str,
    indicator_id: str,
    layer_id: str | None,
    facility_layers: tuple[str, ...],
    level: str = "kreis",
    lang: str = "de",
) -> tuple[dict[str, Any], maps.Classification]:
    """Kreise or Gemeinden coloured by one indicator (coverage indicators from the cached analysis)."""
    gaps, rough = None, False
    if indicator_id in areas.COVERAGE_INDICATORS and layer_id is not None:
        request = AnalysisRequest(layer=layer_id, threshold=areas.KARTE_THRESHOLD_KM, by=level)
        report = coverage(cfg, version, request)
        gaps, rough = report.gaps.table, not report.resolution.ok
    return views.unit_choropleth(cfg, indicator_id, layer_id, facility_layers, gaps, level, rough=rough, lang=lang)


@st.cache_data(show_spinner=False, max_entries=8)
def gemeinde_outlines(cfg: Settings, version: str) -> dict[str, Any] | None:
    """Gemeinde polygons for display, or ``None`` when not loaded."""
    return views.gemeinde_outlines(cfg)


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


@auth.opens_layers(lambda cfg, version, level, ags, facility_layers: facility_layers)
@st.cache_data(show_spinner=False, max_entries=64)
def area_profile(
    cfg: Settings, version: str, level: str, ags: str, facility_layers: tuple[str, ...]
) -> areas.AreaProfile:
    """Key figures and facilities of one unit."""
    return areas.area_profile(cfg, level, ags, facility_layers)


# --- Daten -------------------------------------------------------------------------


@st.cache_data(show_spinner=False, max_entries=8)
def inventory(cfg: Settings, version: str) -> pd.DataFrame:
    """The inventory of every registered layer as a German table."""
    return views.inventory(cfg)


@st.cache_data(show_spinner=False, max_entries=8)
def import_preview(
    cfg: Settings, version: str, layer_id: str, name: str, content: bytes, on_invalid: str
) -> ImportResult:
    """Dry run of an import (nothing is stored)."""
    return actions.import_preview(cfg, layer_id, name, content, on_invalid)


# --- Versorgungslücken ---------------------------------------------------------------


@auth.opens_layers(lambda cfg, version, request: (request.layer,))
@st.cache_data(show_spinner="Versorgung wird berechnet …", max_entries=64)
@fairuse.heavy("fairuse.coverage")
def coverage(cfg: Settings, version: str, request: AnalysisRequest) -> CoverageReport:
    """The coverage report of a request (gap table, overall share, curve, extent, resolution)."""
    return coverage_report(cfg, request)


@st.cache_data(show_spinner=False, max_entries=64)
def gap_map(cfg: Settings, version: str, request: AnalysisRequest) -> tuple[dict[str, Any], maps.Classification]:
    """Units coloured by their covered share."""
    return views.gap_map(cfg, request, coverage(cfg, version, request))


@st.cache_data(show_spinner=False, max_entries=32)
def cell_grid(cfg: Settings, version: str, request: AnalysisRequest) -> tuple[Any, Any, maps.Classification] | None:
    """The fine demand cells with their cost class (see :func:`ui.views.cell_grid`)."""
    return views.cell_grid(coverage(cfg, version, request), request)


@st.cache_data(show_spinner="Isochronen werden berechnet …", max_entries=16)
@fairuse.heavy("fairuse.isochrones")
def isochrones(cfg: Settings, version: str, request: AnalysisRequest, facility_ids: tuple[str, ...]) -> dict[str, Any]:
    """Isochrones of the chosen facilities with the request's measure and threshold, for display."""
    return views.isochrones_geojson(facility_isochrones(cfg, request, facility_ids))


@st.cache_data(show_spinner=False, max_entries=8)
def planning_areas(cfg: Settings, version: str) -> dict[str, str]:
    """AGS → label of the areas siting can plan for."""
    return views.planning_areas(cfg)


@auth.opens_layers(lambda cfg, version, layer_id, area: (layer_id,))
@st.cache_data(show_spinner=False, max_entries=16)
def facility_choices(cfg: Settings, version: str, layer_id: str, area: str | None) -> dict[str, str]:
    """id → name of a layer's facilities (within the AGS prefix ``area``, if given)."""
    return views.facility_choices(cfg, layer_id, area)


# --- Standortplanung ---------------------------------------------------------------


#: Site plans of this server process, shared read-only between sessions (see :mod:`ui.runs`).
_SITING_PLANS: RunCache[SitingPlan] = RunCache(max_entries=16)


@fairuse.heavy("fairuse.siting")
def _run_siting_plan(cfg: Settings, request: AnalysisRequest, _progress: Progress | None = None) -> SitingPlan:
    """One site-plan computation, queued as a heavy one of the logged-in user (see :mod:`ui.fairuse`)."""
    return plan_sites(cfg, request, progress=_progress)


def siting_plan(cfg: Settings, version: str, request: AnalysisRequest, progress: Progress | None = None) -> SitingPlan:
    """The siting plan for ``request``; shared read-only between sessions.

    Not a Streamlit cache: ``progress`` updates a bar of the calling page, and
    Streamlit would try to replay that update on the next hit (the
    ``CacheReplayClosureError`` of issue 20). :class:`ui.runs.RunCache` keeps
    the plan (frozen, so sharing it is safe) and never replays anything; a hit
    reports no progress and waits in no queue.
    """
    return _SITING_PLANS.get_or_run(
        (cfg, version, request), lambda p: _run_siting_plan(cfg, request, _progress=p), progress
    )


@st.cache_data(show_spinner=False, max_entries=32)
def area_outline(cfg: Settings, version: str, ags: str) -> dict[str, Any]:
    """Outline of a Kreis or Gemeinde for display."""
    return views.area_outline(cfg, ags)


def plan_layers(plan: SitingPlan) -> dict[str, Any]:
    """Display data of a plan (not cached: the plan lives in the session)."""
    return views.plan_layers(plan)


@st.cache_data(show_spinner=False, max_entries=16)
def compare(cfg: Settings, version: str, name_a: str, name_b: str) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Per-Gemeinde difference of two scenarios and their sites for a side-by-side map."""
    return views.compare(cfg, name_a, name_b)


# --- Bericht -------------------------------------------------------------------------


@st.cache_data(show_spinner=False, max_entries=8)
def report_areas(cfg: Settings, version: str) -> dict[str, str]:
    """AGS → label of every area a report can be made for."""
    return council.area_choices(cfg)


@st.cache_data(show_spinner=False, max_entries=32)
def report_scenarios(cfg: Settings, version: str, area: str) -> list[str]:
    """Saved scenarios of one area."""
    return council.scenarios_for_area(cfg, area)


@auth.opens_layers(lambda cfg, version, request, *rest: (request.layer,))
@st.cache_data(show_spinner=False, max_entries=16)
@fairuse.heavy("fairuse.report")
def report_file(
    cfg: Settings,
    version: str,
    request: AnalysisRequest,
    scenario: str | None,
    fmt: str,
    osm_file: Path | None = None,
) -> tuple[bytes, str]:
    """The rendered council report and its file name (``osm_file``: background when the request names no extract)."""
    report = council.build_report(cfg, request, scenario=scenario, osm_file=osm_file)
    return council.render(report, fmt), report.filename(fmt)  # type: ignore[arg-type]


@auth.opens_layers(lambda cfg, version, source, fmt, crs, request: (source.partition(":")[2], request.layer))
@st.cache_data(show_spinner=False, max_entries=16)
@fairuse.heavy("fairuse.export")
def export_file(
    cfg: Settings, version: str, source: str, fmt: str, crs: str, request: AnalysisRequest
) -> tuple[bytes, str]:
    """An export of a layer (``layer:ID``), of a gap table (``result:gaps``) or of a scenario (``scenario:NAME``)."""
    kind, _, key = source.partition(":")
    if kind == "layer":
        return export_layer(key, cfg, fmt, crs), export_filename(key, fmt, crs)  # type: ignore[arg-type]
    if kind == "scenario":
        frame, name = load_scenario(cfg, key).sites, f"Szenario_{key}"
    else:
        frame = council.gap_frame(cfg, request)
        name = f"Versorgungsluecken_{request.layer}_{request.threshold:g}{request.unit}_{request.area.code}"
    data = export_frame(frame, fmt, crs, layer_name=name, attribution=ATTRIBUTIONS)  # type: ignore[arg-type]
    return data, export_filename(name, fmt, crs)


def scenario_request(cfg: Settings, version: str, name: str) -> AnalysisRequest:
    """The request a saved scenario was planned with."""
    from integrationsatlas.scenarios import scenario_request as request_of

    return request_of(load_scenario(cfg, name))


# --- Land-wide results as image tiles (issue 21) -----------------------------------


@st.cache_data(show_spinner=False, max_entries=16, ttl=60)
def stored_results(cfg: Settings) -> tuple[list[landwide.StoredResult], list[str]]:
    """The coverage result files of the results folder (metadata only; looked at again after a minute)."""
    return landwide.stored_results(landwide.results_folder(cfg))


@st.cache_resource(show_spinner=False, max_entries=8)
def result_tiles(cfg: Settings, path: str, mtime_ns: int) -> tuple[LocalTiles, Pyramid]:
    """A stored result's image pyramid (rendered once into the cache), published under ``static/``.

    ``mtime_ns`` keys the cache: a rewritten file gets new tiles.
    """
    pyramid = landwide.result_pyramid(Path(path), cfg.cache_dir)
    return publish_local_tiles(pyramid.folder), pyramid
