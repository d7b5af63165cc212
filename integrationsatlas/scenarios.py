"""Comparing two saved siting scenarios: per Gemeinde and, for straight-line plans, per demand point."""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from geo.errors import DataError
from geo.settings import PROJECTED_CRS, Settings
from geo.store.scenarios import Scenario
from integrationsatlas.coverage import best_demand
from integrationsatlas.siting import as_float, demand_in_area, planning_area
from planning.explain import compare_plans

logger = logging.getLogger(__name__)


def compare_scenarios(a: Scenario, b: Scenario) -> pd.DataFrame:
    """Difference of two saved plans per Gemeinde (``b`` minus ``a``).

    Returns
    -------
    pandas.DataFrame
        See :func:`planning.explain.compare_plans`; column suffixes are
        ``a`` and ``b``.

    Raises
    ------
    DataError
        If the scenarios are for different areas or lack Gemeinde tables.
    """
    if a.area_ags != b.area_ags:
        raise DataError(
            f"Die Szenarien »{a.name}« ({a.area_ags}) und »{b.name}« ({b.area_ags}) "
            "betreffen verschiedene Gebiete und lassen sich nicht je Gemeinde vergleichen."
        )
    return compare_plans(a.by_gemeinde, b.by_gemeinde, labels=("a", "b"))


#: Categories of :func:`coverage_change_points`, in legend order.
CHANGE_CLASSES: tuple[str, ...] = ("nur in B versorgt", "nur in A versorgt", "in beiden versorgt", "in keinem versorgt")


def coverage_change_points(settings: Settings, a: Scenario, b: Scenario) -> gpd.GeoDataFrame | None:
    """Demand points of the planning area, classified by which of two plans covers them.

    The finest difference map that needs no Gemeinde boundaries: each demand
    point (with its weight) is ``nur in B versorgt``, ``nur in A versorgt``,
    ``in beiden versorgt`` or ``in keinem versorgt``.

    Parameters
    ----------
    settings
        Where the demand data lives (the demand is rebuilt as at planning time).
    a, b
        Two saved plans for the same area.

    Returns
    -------
    geopandas.GeoDataFrame or None
        Columns ``weight``, ``change`` (one of :data:`CHANGE_CLASSES`), in
        EPSG:25832; ``None`` when either plan used travel times (their
        coverage needs the street network) or the plans lack a radius.

    Notes
    -----
    Coverage is a straight-line distance within each plan's own radius (km),
    computed in EPSG:25832 with a KD-tree over all its sites (existing and new).
    """

    if a.area_ags != b.area_ags:
        raise DataError(f"Die Szenarien »{a.name}« und »{b.name}« betreffen verschiedene Gebiete.")
    radii = [as_float(s.parameters.get("radius_km")) for s in (a, b)]
    if any(r is None for r in radii) or any(s.parameters.get("minutes") for s in (a, b)):
        return None
    area, _ = planning_area(settings, a.area_ags)
    target = str(a.parameters.get("target_group", "total"))
    column = a.parameters.get("target_column")
    points = demand_in_area(best_demand(settings, target, column).points, a.area_ags, area)
    xy = np.column_stack([points.geometry.x.to_numpy(), points.geometry.y.to_numpy()])
    covered = []
    for scenario, radius_km in zip((a, b), radii, strict=True):
        sites = scenario.sites
        if len(sites) == 0:
            covered.append(np.zeros(len(points), dtype=bool))
            continue
        tree = cKDTree(np.column_stack([sites.geometry.x.to_numpy(), sites.geometry.y.to_numpy()]))
        dist, _ = tree.query(xy, k=1)
        covered.append(dist <= float(radius_km) * 1000.0)  # type: ignore[arg-type]
    in_a, in_b = covered
    change = np.select([in_b & ~in_a, in_a & ~in_b, in_a & in_b], CHANGE_CLASSES[:3], CHANGE_CLASSES[3])
    return gpd.GeoDataFrame(
        {"weight": points["weight"].to_numpy(), "change": change},
        geometry=points.geometry.to_numpy(),
        crs=PROJECTED_CRS,
        index=points.index,
    )
