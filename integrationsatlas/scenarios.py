"""Saved siting scenarios: their request, re-running them exactly, and comparing two of them.

A scenario stores the :class:`~integrationsatlas.request.AnalysisRequest` that
made it (also older scenarios, whose parameters are read as a request):
:func:`scenario_request` gives it back, :func:`rerun_scenario` plans again with
it, and two plans are compared per Gemeinde and per demand point with their own
measures.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.errors import DataError
from geo.layers.registry import REGISTRY
from geo.settings import PROJECTED_CRS, Settings
from geo.store.scenarios import Scenario
from integrationsatlas.pipeline.area import study_area
from integrationsatlas.pipeline.costs import measure_for
from integrationsatlas.pipeline.demand import area_demand
from integrationsatlas.request import AnalysisRequest
from integrationsatlas.siting import SitingPlan, plan_sites
from planning.explain import compare_plans

logger = logging.getLogger(__name__)


def scenario_request(scenario: Scenario) -> AnalysisRequest:
    """The request a scenario was planned with (older scenarios: read from their parameters)."""
    params = dict(scenario.parameters)
    if "layer" not in params:  # saved before requests existed: area and model were stored beside the parameters
        params = {"area": scenario.area_ags, "model": scenario.model, **params}
    return AnalysisRequest.from_dict(params)


def rerun_scenario(settings: Settings, scenario: Scenario, progress: object = None) -> SitingPlan:
    """Plan the scenario's request again: with the same data, the same sites."""
    return plan_sites(settings, scenario_request(scenario), progress)  # type: ignore[arg-type]


def compare_scenarios(a: Scenario, b: Scenario, names: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Difference of two saved plans per Gemeinde (``b`` minus ``a``).

    Returns
    -------
    pandas.DataFrame
        See :func:`planning.explain.compare_plans`; column suffixes are
        ``a`` and ``b``. With ``names`` (AGS → name, e.g.
        :func:`integrationsatlas.siting_candidates.gemeinde_names`) a column
        ``gemeinde`` follows ``gemeinde_ags`` (empty where a name is unknown).

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
    table = compare_plans(a.by_gemeinde, b.by_gemeinde, labels=("a", "b"))
    if names is not None:
        table.insert(1, "gemeinde", table["gemeinde_ags"].astype(str).map(names).fillna(""))
    return table


def question_differences(a: Scenario, b: Scenario) -> list[str]:
    """What two scenarios ask differently, in German: threshold and measure, facility layer, target group, demand.

    Their per-Gemeinde difference then mixes the sites with the question, and the comparison's »vorher«
    is A's: a planner comparing »Borken 5 km« with »Borken 10 km« must be told so.

    >>> from dataclasses import replace
    >>> from geo.store.scenarios import Scenario
    >>> a = Scenario("A", "05554", "Borken", "mclp", {"layer": "ki", "threshold": 5.0}, None, {}, None)
    >>> question_differences(a, replace(a, parameters={"layer": "ki", "threshold": 10.0}))
    ['Schwelle: A 5 km Luftlinie, B 10 km Luftlinie']
    >>> question_differences(a, replace(a, name="B"))
    []
    """
    ra, rb = scenario_request(a), scenario_request(b)
    parts = (
        ("Schwelle", ra.threshold_label, rb.threshold_label),
        ("Einrichtungsart", REGISTRY.get(ra.layer).title, REGISTRY.get(rb.layer).title),
        ("Zielgruppe", a.target_group, b.target_group),
        ("Nachfrage", a.demand_level, b.demand_level),
    )
    return [f"{what}: A {va}, B {vb}" for what, va, vb in parts if va != vb]


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
        EPSG:25832; ``None`` when a plan's request cannot be measured any
        more (its OSM extract or timetable is gone).

    Notes
    -----
    Each plan is measured with its own request (straight line or door-to-door
    travel time, its own threshold) over all its sites (existing and new), on
    the demand of plan ``a``'s request, in EPSG:25832.
    """
    if a.area_ags != b.area_ags:
        raise DataError(f"Die Szenarien »{a.name}« und »{b.name}« betreffen verschiedene Gebiete.")
    requests = [scenario_request(s) for s in (a, b)]
    try:
        measures = [measure_for(settings, r) for r in requests]
    except DataError as exc:
        logger.info("Vergleich je Nachfragepunkt nicht möglich: %s", exc)
        return None
    area = study_area(settings, requests[0].area)
    _, points, _ = area_demand(settings, requests[0], area)
    covered = []
    for scenario, request, measure in zip((a, b), requests, measures, strict=True):
        if len(scenario.sites) == 0:
            covered.append(np.zeros(len(points), dtype=bool))
            continue
        covered.append(measure.nearest(points, scenario.sites) <= request.threshold)
    in_a, in_b = covered
    change = np.select([in_b & ~in_a, in_a & ~in_b, in_a & in_b], CHANGE_CLASSES[:3], CHANGE_CLASSES[3])
    return gpd.GeoDataFrame(
        {"weight": points["weight"].to_numpy(), "change": change},
        geometry=points.geometry.to_numpy(),
        crs=PROJECTED_CRS,
        index=points.index,
    )
