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

from geo.errors import DataError
from geo.formatting import de_share
from planning.equity import equity_table, nearest_site_cost
from planning.explain import SolutionExplanation
from planning.siting.models import siting_model

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
    declared = siting_model(model)
    wanted = p if declared.needs_p else n_useful
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
        if declared.needs_p
        else f"{len(useless)} ausgewählte Standorte ohne Zugewinn entfallen: "
    )
    if declared.objective == "distance":
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
    demand: gpd.GeoDataFrame,
    candidates: gpd.GeoDataFrame,
    weights: NDArray[np.float64],
    fixed: NDArray[np.int_],
    after: NDArray[np.int_],
    nearest: Callable[[gpd.GeoDataFrame, gpd.GeoDataFrame], NDArray[np.float64]],
    radius: float,
    unit: float,
    gemeinde_names: Mapping[str, str],
) -> pd.DataFrame:
    """Per Gemeinde: share beyond the threshold and 90th percentile before/after (km or min).

    Parameters
    ----------
    demand, candidates
        Demand points and candidates (EPSG:25832).
    weights
        Demand weights.
    fixed, after
        Candidate indices open before and after the plan.
    nearest
        The request's measure: cost (km or minutes) from every demand point
        to its nearest site (:meth:`integrationsatlas.pipeline.costs.Measure.nearest`).
    radius
        The threshold in metres or seconds.
    unit
        Metres or seconds per km/minute (1000 or 60).
    gemeinde_names
        AGS → name.

    Notes
    -----
    The same door-to-door (or straight-line) cost as the coverage figures.
    """

    def cost(sites: NDArray[np.int_]) -> NDArray[np.float64]:
        if len(sites) == 0:
            return nearest_site_cost(None, len(demand))
        return np.asarray(nearest(demand, candidates.iloc[np.asarray(sites, dtype=int)]), dtype=float) * unit

    gem = demand["gemeinde_ags"] if "gemeinde_ags" in demand.columns else pd.Series([None] * len(demand))
    return equity_table(
        cost(np.asarray(fixed, dtype=int)),
        cost(np.asarray(after, dtype=int)),
        weights,
        gem.to_numpy(dtype=object),
        radius,
        gemeinde_names=gemeinde_names,
        unit=unit,
    )
