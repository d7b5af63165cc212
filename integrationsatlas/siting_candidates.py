"""The candidate step of siting: existing sites that stay open, new candidates, their costs and rules.

:func:`candidates_for` assembles the candidates of a siting request on the
request's measure: the existing facilities of the request's layer that can
serve the area within the threshold (fixed, so the plan's "before" state is
the coverage report's), public places, demand-weighted cluster centres, a grid
and own points, all on settled land and reachable by the measure.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.errors import DataError, NotLoadedError
from geo.layers.loading import load_layer
from geo.layers.registry import REGISTRY
from geo.levels import admin_level, analysis_level
from geo.privacy import refuse_as_sites
from geo.settings import PROJECTED_CRS, Settings
from geo.units import available_levels, load_boundaries
from integrationsatlas import siting_sources
from integrationsatlas.pipeline.area import StudyArea
from integrationsatlas.pipeline.budget import SiteBudget, candidate_costs
from integrationsatlas.pipeline.costs import Measure, within
from integrationsatlas.request import AnalysisRequest, SitingSpec
from integrationsatlas.siting_sources import layer_as_of
from planning.candidates import build_candidates


def existing_sites(
    settings: Settings, request: AnalysisRequest, area: StudyArea, measure: Measure
) -> tuple[gpd.GeoDataFrame | None, str | None]:
    """Existing facilities of the request's layer that stay open, and their as-of date.

    Every facility (status other than ``geplant``) inside the measure's extent
    that can reach the area within the threshold (or any of the sensitivity
    thresholds): those outside the area serve it too, exactly as in the
    coverage report.
    """
    spec = request.siting
    if spec is None or not spec.keep_existing:
        return None, None
    refuse_as_sites(REGISTRY.get(request.layer))  # a site would publish a sensitive layer's exact position
    try:
        frame = load_layer(request.layer, settings)
    except NotLoadedError:
        return None, None
    if "status" in frame.columns:
        frame = frame[frame["status"].astype("string").fillna("bestehend") != "geplant"]
    frame = frame[within(frame, measure.hull)]
    cutoff = max([request.threshold, *spec.sensitivity_radii]) * (60.0 if request.uses_time else 1000.0)
    bound = measure.reach_bound_m(cutoff)
    if bound is not None:
        frame = frame[within(frame, area.geometry.buffer(bound))]
    return siting_sources.distinct_names(frame), (layer_as_of(request.layer, frame) if len(frame) else None)


def candidates_for(
    settings: Settings,
    request: AnalysisRequest,
    area: StudyArea,
    demand: gpd.GeoDataFrame,
    measure: Measure,
    notes: list[str],
) -> tuple[gpd.GeoDataFrame, dict[str, str | None], SiteBudget | None]:
    """Fixed and new candidates of a siting request, the as-of dates of the layers used, and their costs.

    Raises
    ------
    DataError
        If there is no candidate for a new site.
    """
    spec = request.siting
    assert spec is not None
    hull = measure.hull
    cand_area = area.geometry if hull is None else shapely.intersection(area.geometry, hull)
    existing, existing_as_of = existing_sites(settings, request, area, measure)
    places, dates = siting_sources.public_places(settings, spec.place_layers, cand_area)
    user = None
    if spec.user_points:
        user = gpd.GeoDataFrame(
            {"name": [p[2] for p in spec.user_points], "id": [str(i + 1) for i in range(len(spec.user_points))]},
            geometry=gpd.points_from_xy([p[0] for p in spec.user_points], [p[1] for p in spec.user_points]),
            crs=PROJECTED_CRS,
        )
    grid_m = spec.grid_spacing_m
    if grid_m is None:
        grid_m = siting_sources.auto_grid_spacing(cand_area, request.threshold_m)
    osm = Path(request.osm_file) if request.osm_file else None
    orte = siting_sources.place_names(settings, area.geometry)
    settled, settled_max_m, settled_note = siting_sources.settled_points(settings, osm, demand, orte)
    if settled_note:
        notes.append(settled_note)
    candidates = build_candidates(
        cand_area,
        demand,
        places=places,
        n_clusters=spec.n_clusters,
        grid_spacing_m=grid_m or None,
        user_points=user,
        existing=existing,
        min_distance_to_existing_m=spec.min_distance_to_existing_m,
        reachable=measure.connected if hull is not None else None,
        merge_tolerance_m=spec.merge_tolerance_m,
        cost_column=spec.cost_column,
        one_off_column=spec.one_off_column,
        random_state=spec.random_state,
        settled=settled,
        settled_max_m=settled_max_m,
        place_names=orte,
        gemeinde_names=gemeinde_names(settings),
        street_names=siting_sources.street_points(settings, osm) if osm is not None else None,
    )
    candidates = _located_in_gemeinden(settings, candidates)
    candidates, budget, cost_notes = candidate_costs(candidates, spec)
    notes += cost_notes
    if (~candidates["fixed"]).sum() == 0:
        raise DataError(
            f"Im Gebiet {area.name} gibt es keine Kandidaten für neue Standorte. Bitte "
            "Clusterzentren (n_clusters), ein Raster oder eigene Punkte hinzunehmen."
        )
    layers = {**({request.layer: existing_as_of} if spec.keep_existing else {}), **dates}
    return candidates, layers, budget


def _located_in_gemeinden(settings: Settings, candidates: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The candidates' Gemeinde by the point-in-area rule, where Gemeinden are loaded (``NA`` outside them).

    :func:`planning.candidates.build_candidates` fills a missing Gemeinde from the nearest demand point: a guess
    that is wrong for a site beyond the area's border (Kreis Borken: the KI of Kreis Coesfeld »lay« in Legden and
    counted as Legden's site for »mindestens ein Standort je Gemeinde«).
    """
    if "gemeinde" not in available_levels(settings):
        return candidates
    found = admin_level("gemeinde").keys_of(candidates.geometry, settings)
    return candidates.assign(gemeinde_ags=found.astype("string").to_numpy())


def constraints(
    settings: Settings, candidates: gpd.GeoDataFrame, spec: SitingSpec, budget: SiteBudget | None
) -> dict[str, Any]:
    """Budget (on the request's cost basis) and minimum-per-unit keyword arguments for the models.

    The minimum applies to every unit of ``spec.min_per_level`` with
    candidates (Gemeinden by default, or an area set: "at least one per
    Stadtteil"); a candidate outside every unit belongs to no group.

    Notes
    -----
    Candidates are located in the units by the point-in-area rule (EPSG:25832).
    """
    kwargs: dict[str, Any] = {}
    if spec.budget is not None and budget is not None:
        kwargs["budget"] = float(spec.budget)
        kwargs["site_cost"] = budget.site_cost
    if spec.min_per_gemeinde > 0:
        level = analysis_level(spec.min_per_level, settings)
        given = level.administrative and level.column in candidates.columns
        keys = candidates[level.column] if given else level.keys_of(candidates.geometry, settings)
        groups = np.array([None if pd.isna(v) else str(v) for v in keys], dtype=object)
        kwargs["min_per_group"] = (groups, int(spec.min_per_gemeinde))
    return kwargs


def gemeinde_names(settings: Settings) -> dict[str, str]:
    """AGS → name of the Gemeinden, when loaded (else empty)."""
    try:
        gem = load_boundaries("gemeinde", settings)
    except NotLoadedError:
        return {}
    return dict(zip(gem["ags"].astype(str), gem["name"].astype(str), strict=True))
