"""Equity of a siting plan: who stays beyond the threshold, and how far the far ones are.

Coverage shares say how many are reached; a council also asks who is left
behind. Per Gemeinde (and overall) this module reports, before and after a
plan, the share of the demand weight whose nearest site is farther than the
service threshold and the demand-weighted 90th percentile of the distance
or travel time to the nearest site.

Pure numpy/pandas on arrays; the caller computes the nearest-site cost.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from geo.errors import DataError

logger = logging.getLogger(__name__)

#: Label of the row for the whole planning area.
TOTAL_LABEL = "Gesamt"
#: Columns of :func:`equity_table`.
EQUITY_COLUMNS = ("gemeinde_ags", "gemeinde", "demand", "beyond_before", "beyond_after", "p90_before", "p90_after")


def weighted_quantile(values: ArrayLike, weights: ArrayLike, q: float) -> float:
    """The demand-weighted ``q`` quantile (lower, no interpolation).

    The smallest value ``v`` such that at least ``q`` of the weight has a
    value ``<= v``. Infinite values (unreachable) count and can be the answer.

    Examples
    --------
    >>> weighted_quantile([1.0, 2.0, 10.0], [1.0, 8.0, 1.0], 0.9)
    2.0
    >>> weighted_quantile([1.0, 2.0, 10.0], [1.0, 8.0, 1.0], 0.95)
    10.0
    """
    v = np.asarray(values, dtype=float)
    w = np.asarray(weights, dtype=float)
    keep = w > 0
    v, w = v[keep], w[keep]
    if len(v) == 0:
        return float("nan")
    order = np.argsort(v, kind="stable")
    cum = np.cumsum(w[order])
    pos = int(np.searchsorted(cum, q * cum[-1] - 1e-9 * cum[-1], side="left"))
    return float(v[order][min(pos, len(v) - 1)])


def equity_table(
    before: ArrayLike,
    after: ArrayLike,
    weights: ArrayLike,
    gemeinde_ags: ArrayLike,
    threshold: float,
    *,
    gemeinde_names: Mapping[str, str] | None = None,
    unit: float = 1.0,
) -> pd.DataFrame:
    """Share beyond the threshold and 90th percentile of the nearest-site cost, before and after.

    Parameters
    ----------
    before, after
        Cost from each demand point to its nearest open site (``inf`` when
        none is reachable), before (existing sites only) and after the plan.
    weights
        Demand weight per point.
    gemeinde_ags
        Gemeinde AGS per point (missing: ``"unbekannt"``).
    threshold
        Service threshold in the unit of the cost.
    gemeinde_names
        AGS → name for the ``gemeinde`` column.
    unit
        Divisor for the percentiles (e.g. 60 for minutes from seconds, 1000
        for km from metres).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`EQUITY_COLUMNS`: ``beyond_*`` are shares of the
        Gemeinde's demand weight farther than the threshold, ``p90_*`` the
        weighted 90th percentile divided by ``unit`` (``inf``: at least 10 %
        reach no site). One row per Gemeinde, sorted by AGS, then a row
        :data:`TOTAL_LABEL` for the whole area.

    Raises
    ------
    DataError
        If the arrays differ in length.

    Examples
    --------
    >>> t = equity_table([5.0, np.inf], [5.0, 2.0], [1.0, 3.0], ["a", "a"], 4.0)
    >>> t[["beyond_before", "beyond_after", "p90_before", "p90_after"]].iloc[0].tolist()
    [1.0, 0.25, inf, 5.0]
    """
    b = np.asarray(before, dtype=float)
    a = np.asarray(after, dtype=float)
    w = np.asarray(weights, dtype=float)
    g = pd.Series(gemeinde_ags, dtype="object").fillna("unbekannt").astype(str).to_numpy()
    if not (len(b) == len(a) == len(w) == len(g)):
        raise DataError(
            f"Gerechtigkeitstabelle: {len(b)} Kosten vorher, {len(a)} nachher, {len(w)} Gewichte "
            f"und {len(g)} Gemeinde-Schlüssel passen nicht zusammen."
        )
    names = dict(gemeinde_names or {})
    rows = []
    groups = [(ags, g == ags) for ags in sorted(set(g))] + [(TOTAL_LABEL, np.ones(len(g), dtype=bool))]
    for ags, mask in groups:  # one pass per Gemeinde, vectorised inside
        weight = float(w[mask].sum())
        rows.append(
            {
                "gemeinde_ags": ags,
                "gemeinde": names.get(ags, ags),
                "demand": weight,
                "beyond_before": float(w[mask] @ (b[mask] > threshold) / weight) if weight > 0 else np.nan,
                "beyond_after": float(w[mask] @ (a[mask] > threshold) / weight) if weight > 0 else np.nan,
                "p90_before": weighted_quantile(b[mask], w[mask], 0.9) / unit,
                "p90_after": weighted_quantile(a[mask], w[mask], 0.9) / unit,
            }
        )
    return pd.DataFrame(rows, columns=list(EQUITY_COLUMNS))


def nearest_site_cost(cost_to_sites: NDArray[np.float64] | None, n_demand: int) -> NDArray[np.float64]:
    """Row minimum of a dense demand × sites cost block (``inf`` without sites).

    Examples
    --------
    >>> nearest_site_cost(np.array([[3.0, 1.0], [np.inf, 2.0]]), 2).tolist()
    [1.0, 2.0]
    >>> nearest_site_cost(None, 2).tolist()
    [inf, inf]
    """
    if cost_to_sites is None or cost_to_sites.size == 0:
        return np.full(n_demand, np.inf)
    return np.asarray(cost_to_sites, dtype=float).min(axis=1)
