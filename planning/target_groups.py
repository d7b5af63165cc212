"""Target groups per Zensus cell, with cells kept secret estimated from the enclosing unit.

Destatis keeps small values secret (``–``). A secret cell is not empty: the
enclosing unit (the 1 km cell around a 100 m cell, or a Gemeinde) still has
its total. :func:`fill_suppressed` gives the secret cells of a unit the
unit's total minus its known cells, spread by population, and labels them
estimated. When the enclosing total is unknown the value stays unknown and
is labelled so – it is never replaced by a Kreis-wide share.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from planning.demand import SOURCE_CELL, SOURCE_ESTIMATED, SOURCE_SECRET, ZENSUS_GROUPS

logger = logging.getLogger(__name__)


def fill_suppressed(
    values: np.ndarray | pd.Series,
    weights: np.ndarray | pd.Series,
    unit: np.ndarray | pd.Series,
    unit_total: pd.Series,
) -> tuple[np.ndarray, np.ndarray]:
    """Estimate secret values from the enclosing unit's total.

    Parameters
    ----------
    values
        Value per cell; NaN where kept secret.
    weights
        Spreading weight per cell (its population); a unit whose secret
        cells all weigh 0 is split evenly among them.
    unit
        Key of the enclosing unit per cell.
    unit_total
        Known total per unit, indexed by key; units missing or NaN leave
        their secret cells unknown.

    Returns
    -------
    filled : numpy.ndarray
        ``float64`` values: known cells unchanged, secret cells of a unit
        with a total get ``max(total − known, 0)`` shared by weight, others
        stay NaN.
    estimated : numpy.ndarray
        ``bool``: the cells filled here.

    Examples
    --------
    >>> v, e = fill_suppressed([5.0, np.nan, np.nan, np.nan], [10, 30, 10, 7], ["a", "a", "a", "b"],
    ...                        pd.Series({"a": 13.0}))
    >>> v.tolist(), e.tolist()
    ([5.0, 6.0, 2.0, nan], [False, True, True, False])
    """
    v = np.asarray(values, dtype=np.float64)
    w = np.nan_to_num(np.asarray(weights, dtype=np.float64), nan=0.0).clip(min=0)
    codes, uniques = pd.factorize(pd.Series(np.asarray(unit)), use_na_sentinel=True)
    totals = pd.Series(unit_total, dtype="float64").reindex(uniques).to_numpy()
    secret = np.isnan(v) & (codes >= 0)
    k = len(uniques)
    safe = np.where(codes >= 0, codes, 0)
    known = np.bincount(safe, weights=np.where(np.isnan(v) | (codes < 0), 0.0, v), minlength=k)
    wsum = np.bincount(safe, weights=np.where(secret, w, 0.0), minlength=k)
    nsec = np.bincount(safe, weights=secret.astype(np.float64), minlength=k)
    rest = np.clip(totals - known, 0, None)
    share = np.where(wsum[safe] > 0, w / np.where(wsum[safe] > 0, wsum[safe], 1), 1 / np.maximum(nsec[safe], 1))
    estimate = rest[safe] * share
    fill = secret & np.isfinite(estimate)
    out = np.where(fill, estimate, v)
    return out, fill


def zensus_target_groups(cells: pd.DataFrame, parent: pd.DataFrame | None = None) -> pd.DataFrame:
    """Target-group counts per Zensus cell, with their source.

    Parameters
    ----------
    cells
        A stored Zensus grid (:func:`geo.sources.zensus.load_zensus`):
        ``resolution_m``, ``x3035``/``y3035`` and the theme columns.
    parent
        The coarser grid stored with it (e.g. 1 km), same columns; secret
        cells are estimated from the enclosing parent cell.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``cells``; for each group of
        :data:`planning.demand.ZENSUS_GROUPS` whose columns are present,
        ``zg_<id>`` (people, float; 0 where unknown) and ``zg_<id>_quelle``
        (:data:`~planning.demand.SOURCE_CELL`, ``SOURCE_ESTIMATED`` or
        ``SOURCE_SECRET``).

    Notes
    -----
    Pure arithmetic on the cell values; ``foreign`` is population ×
    ``anteil_auslaender`` / 100 (the share is published per cell). The
    parent key of a cell is its EPSG:3035 centre divided by the parent
    width.
    """
    out = pd.DataFrame(index=cells.index)
    if len(cells) == 0:
        return out
    res = int(cells["resolution_m"].iloc[0])
    parent_key = None
    parent_res = 0
    if parent is not None and len(parent) and {"x3035", "y3035"} <= set(parent.columns):
        parent_res = int(parent["resolution_m"].iloc[0])
        if parent_res > res:
            parent_key = _key(cells, parent_res)
            own = pd.Index(_key(parent, parent_res))
    weights = (
        pd.to_numeric(cells["population"], errors="coerce").fillna(0).to_numpy(dtype=np.float64)
        if "population" in cells.columns
        else np.ones(len(cells))
    )
    for group, (_, needs) in ZENSUS_GROUPS.items():
        if not set(needs) <= set(cells.columns):
            continue
        values = _group_values(cells, group)
        filled, estimated = values, np.zeros(len(values), dtype=bool)
        if parent_key is not None and set(needs) <= set(parent.columns):  # type: ignore[union-attr]
            totals = pd.Series(_group_values(parent, group), index=own)  # type: ignore[arg-type]
            totals = totals[~totals.index.duplicated()]
            filled, estimated = fill_suppressed(values, weights, parent_key, totals)
        secret = np.isnan(filled)
        out[f"zg_{group}"] = np.where(secret, 0.0, filled)
        out[f"zg_{group}_quelle"] = pd.array(
            np.where(estimated, SOURCE_ESTIMATED, np.where(secret, SOURCE_SECRET, SOURCE_CELL)), dtype="string"
        )
        if estimated.any() or secret.any():
            logger.info(
                "Zielgruppe %s: %d Zellen geschätzt, %d unbekannt", group, int(estimated.sum()), int(secret.sum())
            )
    return out


def _group_values(cells: pd.DataFrame, group: str) -> np.ndarray:
    if group == "foreign":
        pop = pd.to_numeric(cells["population"], errors="coerce").to_numpy(dtype=np.float64)
        share = pd.to_numeric(cells["anteil_auslaender"], errors="coerce").to_numpy(dtype=np.float64)
        return pop * share / 100.0
    column = ZENSUS_GROUPS[group][1][0]
    return pd.to_numeric(cells[column], errors="coerce").to_numpy(dtype=np.float64)


def _key(cells: pd.DataFrame, resolution_m: int) -> np.ndarray:
    col = np.floor(cells["x3035"].to_numpy(dtype=np.float64) / resolution_m).astype(np.int64)
    row = np.floor(cells["y3035"].to_numpy(dtype=np.float64) / resolution_m).astype(np.int64)
    return row * 100_000 + col
