"""Validated model inputs: reachable demand–candidate pairs, weights and GeoDataFrame conversion."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
from numba import njit
from numpy.typing import ArrayLike
from scipy.spatial import cKDTree

from geo.errors import Problem, raise_if_problems
from geo.projection import ensure_projected
from planning.siting.result import CostLike, FloatArray, IntArray


@dataclass(frozen=True)
class _Pairs:
    """Reachable demand–candidate pairs (CSR layout, entries sorted by cost within a row)."""

    n: int
    m: int
    indptr: IntArray
    indices: IntArray
    cost: FloatArray

    @property
    def rows(self) -> IntArray:
        return np.repeat(np.arange(self.n), np.diff(self.indptr))

    @property
    def row_len(self) -> IntArray:
        return np.diff(self.indptr)

    def pattern(self) -> sp.csr_array:
        """Boolean-valued (float 1.0) reach matrix ``n × m`` with sorted column indices."""
        a = sp.csr_array((np.ones(self.indices.size), self.indices, self.indptr), shape=(self.n, self.m))
        a.sort_indices()
        return a


def _validate_cost(cost: CostLike) -> tuple[sp.coo_array | None, FloatArray | None, list[Problem]]:
    problems: list[Problem] = []
    if sp.issparse(cost):
        coo = sp.coo_array(cost)
        data = np.asarray(coo.data, dtype=float)
        if coo.ndim != 2:
            problems.append(Problem("Die Kostenmatrix muss zweidimensional sein (Nachfrage × Kandidaten)."))
        if np.isnan(data).any():
            problems.append(
                Problem(
                    f"Die Kostenmatrix enthält {int(np.isnan(data).sum())} NaN-Werte.",
                    "Unerreichbare Paare in einer dünnen Matrix einfach weglassen.",
                )
            )
        if (data < 0).any():
            problems.append(
                Problem(
                    f"Die Kostenmatrix enthält {int((data < 0).sum())} negative Werte.",
                    "Entfernungen und Fahrzeiten müssen ≥ 0 sein.",
                )
            )
        # duplicates: a CSR conversion (counting sort by row, linear) merges them
        merged = sp.coo_array((np.ones(coo.nnz, dtype=np.int8), (coo.row, coo.col)), shape=coo.shape).tocsr()
        if coo.ndim == 2 and merged.nnz != coo.nnz:
            problems.append(
                Problem(
                    "Die dünne Kostenmatrix enthält doppelte Einträge für dasselbe Paar.",
                    "Doppelte Einträge vorher entfernen (nicht aufsummieren).",
                )
            )
        return coo, None, problems
    dense = np.asarray(cost, dtype=float)
    if dense.ndim != 2:
        problems.append(
            Problem(
                f"Die Kostenmatrix muss zweidimensional sein, hat aber {dense.ndim} Dimension(en).",
                "Eine Matrix Nachfrage × Kandidaten übergeben.",
            )
        )
        return None, dense, problems
    nan = np.isnan(dense)
    if nan.any():
        i, j = np.argwhere(nan)[0]
        problems.append(
            Problem(
                f"Die Kostenmatrix enthält {int(nan.sum())} NaN-Werte (erster bei Nachfrage {i}, Kandidat {j}).",
                "Unerreichbare Paare mit inf kennzeichnen.",
            )
        )
    neg = dense < 0
    if neg.any():
        problems.append(
            Problem(
                f"Die Kostenmatrix enthält {int(neg.sum())} negative Werte.",
                "Entfernungen und Fahrzeiten müssen ≥ 0 sein.",
            )
        )
    return None, dense, problems


def _pairs_from_cost(coo: sp.coo_array | None, dense: FloatArray | None, cutoff: float) -> _Pairs:
    """Pairs with ``cost <= cutoff`` (dense) or stored and ``<= cutoff`` (sparse)."""
    if coo is not None:
        n, m = coo.shape
        keep = np.asarray(coo.data, dtype=float) <= cutoff
        i = coo.row[keep].astype(np.int64)
        j = coo.col[keep].astype(np.int64)
        c = np.asarray(coo.data, dtype=float)[keep]
    else:
        assert dense is not None
        n, m = dense.shape
        mask = dense <= cutoff
        i, j = (a.astype(np.int64) for a in np.nonzero(mask))
        c = dense[mask]
    indptr, j, c = _rows_by_cost(i, j, c, int(n))
    return _Pairs(int(n), int(m), indptr, j, c)


def _rows_by_cost(i: IntArray, j: IntArray, c: FloatArray, n: int) -> tuple[IntArray, IntArray, FloatArray]:
    """Pairs grouped by row (CSR), each row's entries by ascending cost, ties by column: linear in the pairs."""
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(i, minlength=n), out=indptr[1:])
    cols, costs = _sort_rows(indptr, i, j.astype(np.int64), c.astype(np.float64))
    return indptr, cols, costs


@njit(cache=True)
def _sort_rows(indptr: Any, i: Any, j: Any, c: Any) -> tuple[Any, Any]:  # pragma: no cover - compiled
    """Counting sort by row, then each row by (cost, column)."""
    fill = indptr[:-1].copy()
    cols = np.empty(j.size, dtype=np.int64)
    costs = np.empty(c.size, dtype=np.float64)
    for e in range(i.size):
        q = fill[i[e]]
        cols[q] = j[e]
        costs[q] = c[e]
        fill[i[e]] = q + 1
    for r in range(indptr.size - 1):
        a, b = indptr[r], indptr[r + 1]
        if b - a > 1:
            by_col = np.argsort(cols[a:b])  # columns are distinct within a row
            rc, rk = cols[a:b][by_col], costs[a:b][by_col]
            by_cost = np.argsort(rk, kind="mergesort")  # stable: ties stay by column
            cols[a:b] = rc[by_cost]
            costs[a:b] = rk[by_cost]
    return cols, costs


def _validate_weights(weights: ArrayLike, n: int, problems: list[Problem]) -> FloatArray:
    w = np.asarray(weights, dtype=float).ravel()
    if w.size != n:
        problems.append(
            Problem(
                f"Es gibt {w.size} Gewichte, aber {n} Nachfragepunkte (Zeilen der Kostenmatrix).",
                "Je Nachfragepunkt genau ein Gewicht übergeben.",
            )
        )
        return np.zeros(n)
    bad = ~np.isfinite(w)
    if bad.any():
        problems.append(
            Problem(
                f"{int(bad.sum())} Gewicht(e) fehlen oder sind unendlich (erstes bei Nachfrage "
                f"{int(np.flatnonzero(bad)[0])}).",
                "Fehlende Gewichte mit 0 füllen.",
            )
        )
    neg = w < 0
    if neg.any():
        problems.append(
            Problem(
                f"{int(neg.sum())} Gewicht(e) sind negativ (erstes bei Nachfrage {int(np.flatnonzero(neg)[0])}).",
                "Gewichte (Personen) müssen ≥ 0 sein.",
            )
        )
    return np.where(bad, 0.0, w)


# --------------------------------------------------------------------------- GeoDataFrame inputs


def _points_xy(gdf: gpd.GeoDataFrame, what: str) -> FloatArray:
    ensure_projected(gdf, what)
    geom = gdf.geometry
    problems = []
    empty = geom.isna() | geom.is_empty
    if empty.any():
        rows = (np.flatnonzero(empty.to_numpy()) + 1).tolist()[:10]
        problems.append(
            Problem(
                f"{int(empty.sum())} Objekt(e) ohne Geometrie (Zeilen {rows}).",
                "Objekte ohne Koordinaten vorher entfernen.",
                file=what,
            )
        )
    raise_if_problems(problems, f"{what} ist ungültig")
    pts = geom.where(geom.geom_type == "Point", geom.representative_point())
    return np.column_stack([pts.x.to_numpy(), pts.y.to_numpy()])


def _euclidean(
    demand_gdf: gpd.GeoDataFrame, candidates_gdf: gpd.GeoDataFrame, max_distance: float | None
) -> sp.csr_array | FloatArray:
    """Straight-line distances in metres: sparse up to ``max_distance`` (explicit zeros kept), else dense."""
    a = _points_xy(demand_gdf, "Nachfrage")
    b = _points_xy(candidates_gdf, "Kandidaten")
    if max_distance is None:
        return np.sqrt(((a[:, None, :] - b[None, :, :]) ** 2).sum(axis=-1))
    rec = cKDTree(a).sparse_distance_matrix(cKDTree(b), max_distance, output_type="ndarray")
    return sp.csr_array((rec["v"], (rec["i"], rec["j"])), shape=(len(a), len(b)))


def _gdf_inputs(
    demand_gdf: gpd.GeoDataFrame,
    candidates_gdf: gpd.GeoDataFrame,
    weights_col: str | None,
    fixed_col: str | None,
    cost_col: str | None,
    group_col: str | None,
    min_per_group: int | Mapping[Any, int] | None,
    capacity_col: str | None,
    budget: float | None,
) -> tuple[FloatArray, dict[str, Any]]:
    """Read weight and candidate columns, collecting every problem (German, naming the column)."""
    problems: list[Problem] = []

    def column(gdf: gpd.GeoDataFrame, col: str, what: str) -> pd.Series | None:
        if col not in gdf.columns:
            problems.append(
                Problem(
                    f"Spalte fehlt (vorhanden: {', '.join(map(str, gdf.columns[:15]))}).",
                    "Spaltennamen prüfen.",
                    file=what,
                    column=col,
                )
            )
            return None
        return gdf[col]

    def numeric(s: pd.Series | None, col: str, what: str) -> FloatArray | None:
        if s is None:
            return None
        v = pd.to_numeric(s, errors="coerce").to_numpy(dtype=float)
        bad = ~np.isfinite(v) | (v < 0)
        if bad.any():
            rows = (np.flatnonzero(bad) + 1).tolist()[:10]
            problems.append(
                Problem(
                    f"{int(bad.sum())} Wert(e) fehlen, sind keine Zahl oder negativ (Zeilen {rows}).",
                    "Zahlen ≥ 0 eintragen.",
                    file=what,
                    column=col,
                )
            )
        return v

    w = np.ones(len(demand_gdf))
    if weights_col is not None:
        got = numeric(column(demand_gdf, weights_col, "Nachfrage"), weights_col, "Nachfrage")
        if got is not None:
            w = got
    kwargs: dict[str, Any] = {}
    if fixed_col is not None:
        s = column(candidates_gdf, fixed_col, "Kandidaten")
        if s is not None:
            kwargs["fixed"] = np.flatnonzero(s.fillna(False).astype(bool).to_numpy())
    if cost_col is not None:
        kwargs["site_cost"] = numeric(column(candidates_gdf, cost_col, "Kandidaten"), cost_col, "Kandidaten")
    if budget is not None:
        kwargs["budget"] = budget
        if cost_col is None:
            problems.append(Problem("Ein Budget braucht eine Kostenspalte (cost_col).", file="Kandidaten"))
    if min_per_group is not None:
        if group_col is None:
            problems.append(
                Problem("Eine Mindestanzahl je Gruppe braucht eine Gruppenspalte (group_col).", file="Kandidaten")
            )
        else:
            s = column(candidates_gdf, group_col, "Kandidaten")
            if s is not None:
                kwargs["min_per_group"] = (s.to_numpy(dtype=object), min_per_group)
    if capacity_col is not None:
        kwargs["capacity"] = numeric(column(candidates_gdf, capacity_col, "Kandidaten"), capacity_col, "Kandidaten")
    raise_if_problems(problems, "Eingaben des Standortmodells sind ungültig")
    return w, kwargs
