"""Review of a siting plan: sites that add nothing, and who stays far away.

:func:`drop_useless` removes selected sites without marginal gain and words
why there are fewer sites than asked; :func:`plan_equity` builds the equity
table (share beyond the threshold, 90th percentile before/after, per
Gemeinde) for :func:`integrationsatlas.siting.plan_sites`.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Mapping
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely
from numpy.typing import NDArray
from scipy.spatial import cKDTree

from geo.errors import DataError
from geo.formatting import de_share
from geo.settings import Settings
from planning.equity import equity_table, nearest_site_cost
from planning.explain import SolutionExplanation

logger = logging.getLogger(__name__)


def covered_by(coverage: sp.csc_array, sites: NDArray[np.int_]) -> NDArray[np.bool_]:
    """Demand points covered by any of ``sites`` (column indices of ``coverage``)."""
    if len(sites) == 0:
        return np.zeros(coverage.shape[0], dtype=bool)
    return np.asarray((coverage[:, np.asarray(sites, dtype=int)].sum(axis=1)) > 0).ravel()


def _xy(frame: gpd.GeoDataFrame) -> NDArray[np.float64]:
    return shapely.get_coordinates(frame.geometry.to_numpy())


def drop_useless(
    result: Any,
    explanation: SolutionExplanation,
    explain: Callable[[Any], SolutionExplanation],
    model: str,
    p: int,
    threshold_label: str,
    coverage: sp.csc_array,
    weights: NDArray[np.float64],
    fixed: NDArray[np.int_],
    keep_forced: bool = False,
) -> tuple[Any, SolutionExplanation, str]:
    """Leave out selected sites that add nothing, and say plainly why there are fewer sites.

    A site adds nothing when, in the greedy explanation order, it newly
    covers no demand (MCLP, LSCP) or does not lower the weighted cost
    (p-median; the first site of a plan without existing sites always counts).

    Parameters
    ----------
    result, explanation
        The solver's result and its explanation.
    explain
        Re-explains a reduced result.
    model, p, threshold_label
        Model id, requested new sites, threshold in German.
    coverage, weights, fixed
        Boolean demand × candidate coverage, demand weights, fixed sites.
    keep_forced
        The plan has a minimum number of sites per Gemeinde: sites without
        gain may be there only to meet it, so they stay and the message
        says so.

    Returns
    -------
    tuple
        ``(result, explanation, message)``; ``message`` is German and empty
        when all ``p`` sites add something.
    """
    useless = [
        s.candidate_index
        for s in explanation.sites
        if (s.cost_reduction is not None and not s.cost_reduction > 1e-9) or (model != "pmedian" and not s.gain > 1e-9)
    ]
    n_useful = len(explanation.sites) - len(useless)
    if useless and keep_forced:
        names = ", ".join(s.name for s in explanation.sites if s.candidate_index in set(useless))
        return (
            result,
            explanation,
            (
                f"{len(useless)} Standort(e) erreichen niemanden zusätzlich und stehen nur "
                f"wegen der Mindestzahl je Gemeinde im Plan: {names}."
            ),
        )
    if useless:
        keep = np.setdiff1d(np.asarray(result.selected, dtype=int), np.asarray(useless, dtype=int))
        result = _with_selected(result, keep)
        explanation = explain(result)
    wanted = p if model != "lscp" else n_useful
    if n_useful >= wanted and not useless:
        return result, explanation, ""
    total = float(weights.sum())
    reachable = np.asarray(coverage.sum(axis=1)).ravel() > 0
    covered = covered_by(coverage, np.union1d(np.asarray(result.selected, dtype=int), fixed).astype(int))
    open_reachable = float(weights @ (reachable & ~covered))
    unreachable = float(weights @ ~reachable)
    what = "neue Standorte" if n_useful != 1 else "neuen Standort"
    head = (
        f"Nur {n_useful} {what} statt {p}: "
        if model != "lscp"
        else f"{len(useless)} ausgewählte Standorte ohne Zugewinn entfallen: "
    )
    if model == "pmedian":
        why = "weitere Standorte verkürzen für niemanden den Weg zum nächsten Standort."
    elif open_reachable <= 1e-9:
        why = (
            f"alle Menschen, die ein Kandidat innerhalb von {threshold_label} erreicht, sind damit "
            "versorgt; jeder weitere Standort erreicht 0 Personen zusätzlich."
        )
        if unreachable > 0 and total > 0:
            why += f" {de_share(unreachable / total)} der Nachfrage liegt außerhalb der Reichweite aller Kandidaten."
    else:
        why = "die übrigen Kandidaten erreichen innerhalb der Zeitgrenze des Lösers niemanden zusätzlich."
    help_ = (
        " Abhilfe: eine größere Schwelle (mehr km oder Minuten), andere oder zusätzliche Kandidaten "
        "(eigene Punkte, ein feineres Raster, mehr Clusterzentren) oder eine feinere Nachfrage "
        "(Zensus-Gitter oder ein OSM-Auszug für die 100-m-Schätzung aus Gebäuden)."
    )
    return result, explanation, head + why + help_


def _with_selected(result: Any, selected: NDArray[np.int_]) -> Any:
    """The solver result with only ``selected`` (order and covered kept consistent where present)."""
    if not dataclasses.is_dataclass(result) or isinstance(result, type):
        raise DataError("Interner Fehler: das Lösungsobjekt lässt sich nicht verkleinern.")
    changes: dict[str, Any] = {"selected": np.asarray(selected, dtype=int)}
    if hasattr(result, "order") and result.order is not None:
        order = np.asarray(result.order, dtype=int)
        changes["order"] = order[np.isin(order, selected)]
    return dataclasses.replace(result, **changes)


def plan_equity(
    settings: Settings,
    demand: gpd.GeoDataFrame,
    candidates: gpd.GeoDataFrame,
    weights: NDArray[np.float64],
    fixed: NDArray[np.int_],
    after: NDArray[np.int_],
    net: Any,
    radius: float,
    gemeinde_names: Mapping[str, str],
) -> pd.DataFrame:
    """Per Gemeinde: share beyond the threshold and 90th percentile before/after (km or min).

    Straight line (``net`` is ``None``): exact nearest-site distance with a
    KD-tree; on a network: one multi-source Dijkstra per state.

    Notes
    -----
    Coordinates in EPSG:25832 (metres); ``radius`` in metres or seconds; the
    percentiles come out in km or minutes.
    """
    demand_xy = _xy(demand)
    cand_xy = _xy(candidates)
    if net is None:

        def nearest(sites: NDArray[np.int_]) -> NDArray[np.float64]:
            if len(sites) == 0:
                return np.full(len(demand), np.inf)
            dist, _ = cKDTree(cand_xy[sites]).query(demand_xy)
            return np.asarray(dist, dtype=float)

        unit = 1000.0
    else:
        from planning import network

        d_snap = network.snap(net, demand, settings.snap_max_m)
        c_snap = network.snap(net, candidates, settings.snap_max_m)

        def nearest(sites: NDArray[np.int_]) -> NDArray[np.float64]:
            sites = sites[c_snap.reachable[sites]]
            if len(sites) == 0:
                return nearest_site_cost(None, len(demand))
            per_node = network.nearest_facility_time(net, c_snap.node[sites])
            return np.where(d_snap.reachable, per_node[d_snap.node], np.inf)

        unit = 60.0
    gem = demand["gemeinde_ags"] if "gemeinde_ags" in demand.columns else pd.Series([None] * len(demand))
    return equity_table(
        nearest(np.asarray(fixed, dtype=int)),
        nearest(np.asarray(after, dtype=int)),
        weights,
        gem.to_numpy(dtype=object),
        radius,
        gemeinde_names=gemeinde_names,
        unit=unit,
    )
