"""Coverage that respects places: a person counts as covered only where a free place is within reach.

Kitas, OGS and accommodation have places. Plain coverage counts everyone
within the threshold of *some* site, however full it is. Here demand is
assigned to the open sites within reach without exceeding any site's free
places, so that as many people as possible are served: a transportation
problem, solved exactly as a maximum flow

    source →(w_i)→ demand i →(w_i)→ site j within reach →(free places c_j)→ sink

with :func:`scipy.sparse.csgraph.maximum_flow` (Dinic) when weights and places
are whole numbers, else as the equivalent linear program with HiGHS
(:func:`scipy.optimize.linprog`). Demand points that reach the same set of
sites are merged first (that changes nothing in a maximum flow). The figure is
never larger than the uncapacitated one; the difference is reported.

The demand of a place type is the matching Zensus age group, declared once
in :data:`PLACE_DEMAND` (Kita: under 3 and 3–5; OGS: 6–9), read from the
``zg_<group>`` columns of :func:`planning.target_groups.zensus_target_groups`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from numpy.typing import ArrayLike
from scipy.optimize import linprog
from scipy.sparse.csgraph import maximum_flow

from geo.errors import NotLoadedError, Problem, raise_if_problems
from planning.demand import ZENSUS_GROUP_FILES, ZENSUS_GROUPS
from planning.siting.base import _unique_rows
from planning.siting.inputs import _pairs_from_cost, _validate_cost, _validate_weights
from planning.siting.result import CostLike, FloatArray, IntArray, _frozen_array

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PlaceDemand:
    """Which people use the places of a facility type, by Zensus 2022 age group.

    Parameters
    ----------
    layer
        Layer id of the facilities (``"kita"``, ``"ogs"``).
    groups
        Zensus target groups (keys of :data:`planning.demand.ZENSUS_GROUPS`) whose sum is the demand.
    label, label_en
        German and English name of the demand.
    """

    layer: str
    groups: tuple[str, ...]
    label: str
    label_en: str

    def weights(self, cells: pd.DataFrame) -> FloatArray:
        """Demand per cell: the sum of the groups' ``zg_<group>`` columns.

        Raises
        ------
        NotLoadedError
            When a group's column is missing; the message names the Zensus file to import.

        Examples
        --------
        >>> cells = pd.DataFrame({"zg_u3": [2.0, 0.0], "zg_kita_ue3": [3.0, 1.0]})
        >>> PLACE_DEMAND["kita"].weights(cells).tolist()
        [5.0, 1.0]
        """
        missing = [g for g in self.groups if f"zg_{g}" not in cells.columns]
        if missing:
            files = sorted({ZENSUS_GROUP_FILES[g] for g in missing})
            raise NotLoadedError(
                f"Für »{self.label}« fehlen die Zensus-Altersgruppen "
                f"{', '.join(ZENSUS_GROUPS[g][0] for g in missing)}. Bitte die Zensus-Datei "
                f"{' und '.join(files)} (100 m) importieren."
            )
        cols = [pd.to_numeric(cells[f"zg_{g}"], errors="coerce").fillna(0.0) for g in self.groups]
        return np.asarray(sum(c.to_numpy(dtype=float) for c in cols), dtype=float)


#: The demand of each place type, by layer id.
PLACE_DEMAND: dict[str, PlaceDemand] = {
    d.layer: d
    for d in (
        PlaceDemand("kita", ("u3", "kita_ue3"), "Kinder unter 6 Jahren (unter 3 und 3–5)", "Children under 6"),
        PlaceDemand("ogs", ("grundschule",), "Kinder von 6 bis 9 Jahren", "Children aged 6 to 9"),
    )
}


@dataclass(frozen=True)
class CapacityResult:
    """Coverage with and without places (immutable; arrays read-only).

    Attributes
    ----------
    covered
        People served by a free place within reach (the maximum over all assignments).
    covered_uncapacitated
        People with any open site within reach.
    total
        All demand.
    served
        Per demand row, the people served (``≤`` its weight).
    sites
        Candidate indices of the open sites considered.
    load, capacity
        Per open site the people assigned and its free places (``inf`` = unknown).
    method
        ``"max-flow"`` (whole numbers) or ``"highs-lp"``.
    notes
        German notes (places unknown …).
    """

    covered: float
    covered_uncapacitated: float
    total: float
    served: FloatArray
    sites: IntArray
    load: FloatArray
    capacity: FloatArray
    method: str
    notes: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        for name, dtype in (
            ("served", np.float64),
            ("sites", np.int64),
            ("load", np.float64),
            ("capacity", np.float64),
        ):
            object.__setattr__(self, name, _frozen_array(getattr(self, name), dtype))

    @property
    def share(self) -> float:
        """Covered share with places (NaN without demand)."""
        return self.covered / self.total if self.total > 0 else float("nan")

    @property
    def share_uncapacitated(self) -> float:
        """Covered share without places (NaN without demand)."""
        return self.covered_uncapacitated / self.total if self.total > 0 else float("nan")

    @property
    def difference(self) -> float:
        """People within reach of a site but without a free place there (``≥ 0``)."""
        return self.covered_uncapacitated - self.covered

    @property
    def full(self) -> IntArray:
        """Candidate indices of the open sites whose places are all taken."""
        return np.asarray(self.sites[self.load >= self.capacity - 1e-9])

    def as_dict(self) -> dict[str, Any]:
        """Scalars and per-site loads as a JSON-ready dict (unknown places as ``None``)."""
        return {
            "covered": self.covered,
            "covered_uncapacitated": self.covered_uncapacitated,
            "difference": self.difference,
            "total": self.total,
            "share": None if not self.total else self.share,
            "share_uncapacitated": None if not self.total else self.share_uncapacitated,
            "method": self.method,
            "sites": [
                {"index": int(j), "load": float(ld), "places": None if not np.isfinite(c) else float(c)}
                for j, ld, c in zip(self.sites, self.load, self.capacity, strict=True)
            ],
            "notes": list(self.notes),
        }


def capacitated_coverage(
    cost: CostLike,
    weights: ArrayLike,
    capacity: ArrayLike,
    service_radius: float,
    *,
    open_sites: ArrayLike | None = None,
) -> CapacityResult:
    """Serve as much demand as the free places within reach allow (exact maximum flow).

    Parameters
    ----------
    cost
        ``n_demand × n_candidates`` costs (dense, ``inf`` = unreachable; or
        sparse, stored entries reachable): metres in EPSG:25832 or seconds.
    weights
        Demand per row (persons, e.g. :meth:`PlaceDemand.weights`).
    capacity
        Free places per candidate; ``NaN`` = unknown (counted as unlimited, with a note).
    service_radius
        Threshold in the unit of ``cost`` (a cost equal to it is within reach).
    open_sites
        Candidate indices of the open sites (default: all columns).

    Returns
    -------
    CapacityResult

    Raises
    ------
    ValidationError
        For malformed inputs (all problems at once, German).

    Examples
    --------
    Ten children near a Kita with 6 free places, four near both it and one with 3:

    >>> import numpy as np
    >>> cost = np.array([[0.0, np.inf], [0.0, 0.0]])
    >>> r = capacitated_coverage(cost, [10, 4], [6, 3], 1.0)
    >>> r.covered, r.covered_uncapacitated, r.difference, r.method
    (9.0, 14.0, 5.0, 'max-flow')
    """
    problems: list[Problem] = []
    coo, dense, cost_problems = _validate_cost(cost)
    problems += cost_problems
    n, m = coo.shape if coo is not None else (dense.shape if dense is not None and dense.ndim == 2 else (0, 0))
    w = _validate_weights(weights, n, problems)
    cap = np.asarray(capacity, dtype=float).ravel()
    if cap.size != m:
        problems.append(Problem(f"Es gibt {cap.size} Platzzahlen, aber {m} Standorte.", "Je Standort eine Zahl."))
    elif (cap < 0).any():
        problems.append(Problem("Platzzahlen müssen ≥ 0 sein.", "Freie Plätze eintragen (0, wenn voll)."))
    sites = np.arange(m) if open_sites is None else np.unique(np.asarray(open_sites, dtype=np.int64))
    if sites.size and (sites.min() < 0 or sites.max() >= m):
        problems.append(Problem(f"Offene Standorte außerhalb 0…{m - 1}."))
    if not np.isfinite(service_radius) or service_radius < 0:
        problems.append(Problem(f"Der Schwellenwert {service_radius} ist ungültig.", "Einen Wert ≥ 0 angeben."))
    raise_if_problems(problems, "Eingaben der Versorgung mit Plätzen sind ungültig")
    reach = _Reach.of(coo, dense, float(service_radius), sites, n, m, cap)
    idx = np.flatnonzero(reach.reached & (w > 0))
    flow_k, wk, load, method, inv = reach.flow(w, idx)
    served = np.zeros(n)
    with np.errstate(invalid="ignore", divide="ignore"):
        frac = np.where(wk > 0, flow_k / wk, 0.0)
    served[idx] = frac[inv] * w[idx]
    return CapacityResult(
        covered=float(flow_k.sum()),
        covered_uncapacitated=float(w[reach.reached].sum()),
        total=float(w.sum()),
        served=served,
        sites=sites,
        load=load,
        capacity=reach.places,
        method=method,
        notes=reach.notes,
    )


@dataclass(frozen=True, eq=False)
class _Reach:
    """The open sites each demand row reaches within the radius, and the sites' free places."""

    a: sp.csr_array
    reached: np.ndarray
    places: FloatArray
    notes: tuple[str, ...]

    @classmethod
    def of(cls, coo: Any, dense: Any, radius: float, sites: IntArray, n: int, m: int, cap: FloatArray) -> _Reach:
        pairs = _pairs_from_cost(coo, dense, radius)
        is_open = np.zeros(m, dtype=bool)
        is_open[sites] = True
        keep = is_open[pairs.indices]
        rows, cols = pairs.rows[keep], pairs.indices[keep]
        col_of = np.full(m, -1, dtype=np.int64)
        col_of[sites] = np.arange(sites.size)
        a = sp.csr_array((np.ones(rows.size), (rows, col_of[cols])), shape=(n, sites.size))
        a.sort_indices()
        places = cap[sites]
        unknown = np.isnan(places)
        notes = (f"{int(unknown.sum())} Standort(e) ohne Platzzahl: als unbegrenzt gezählt.",) if unknown.any() else ()
        return cls(a, np.diff(a.indptr) > 0, np.where(unknown, np.inf, places), notes)

    def flow(self, w: FloatArray, idx: IntArray) -> tuple[FloatArray, FloatArray, FloatArray, str, IntArray]:
        """Maximum flow of the rows ``idx``, merged when they reach the same sites.

        Returns the flow and the demand per merged group, the load per site,
        the method and the group of each row.
        """
        uniq, inv = _unique_rows(self.a[idx])
        inv = np.asarray(inv, dtype=np.int64).ravel()
        wk = np.bincount(inv, weights=w[idx], minlength=uniq.shape[0]).astype(float)
        flow_k, load, method = _max_flow(sp.csr_array(uniq), wk, self.places)
        return flow_k, wk, load, method, inv


def capacitated_covered_draws(
    cost: CostLike,
    weight_draws: ArrayLike,
    capacity: ArrayLike,
    service_radius: float,
    *,
    open_sites: ArrayLike | None = None,
    groups: ArrayLike | None = None,
) -> FloatArray:
    """People served with places for each of several demand vectors (e.g. resamples of the demand).

    The reach is aggregated once; each vector is one exact integer maximum
    flow, on hundredths of a person (persons and places × 100, rounded), so
    fractional demand (an estimate, a share of the population) loses at most
    half a hundredth of a person per merged row.

    Parameters
    ----------
    cost, capacity, service_radius, open_sites
        As in :func:`capacitated_coverage`.
    weight_draws
        ``R × n_demand`` demand vectors.
    groups
        Optional group code ``0…G-1`` per demand row (e.g. its Gemeinde):
        then the people served per vector and group (``R × G``). A merged
        row's flow is shared among its members by their demand, as in
        :func:`capacitated_coverage`; the split between groups is one of the
        maximum flows, the total is exact.

    Returns
    -------
    numpy.ndarray
        People served per vector (length ``R``), or per vector and group.

    Examples
    --------
    >>> import numpy as np
    >>> cost = np.array([[0.0, np.inf], [0.0, 0.0]])
    >>> capacitated_covered_draws(cost, [[10, 4], [2, 1]], [6, 3], 1.0).tolist()
    [9.0, 3.0]
    """
    coo, dense, problems = _validate_cost(cost)
    raise_if_problems(problems, "Eingaben der Versorgung mit Plätzen sind ungültig")
    n, m = coo.shape if coo is not None else dense.shape  # type: ignore[union-attr]
    draws = np.atleast_2d(np.asarray(weight_draws, dtype=float))
    cap = np.asarray(capacity, dtype=float).ravel()
    sites = np.arange(m) if open_sites is None else np.unique(np.asarray(open_sites, dtype=np.int64))
    reach = _Reach.of(coo, dense, float(service_radius), sites, n, m, cap)
    idx = np.flatnonzero(reach.reached)
    uniq, inv = _unique_rows(reach.a[idx])
    a = sp.csr_array(uniq)
    codes = None if groups is None else np.asarray(groups, dtype=np.int64).ravel()[idx]
    n_groups = 0 if groups is None else int(np.max(groups, initial=-1)) + 1
    out = np.empty(draws.shape[0]) if codes is None else np.zeros((draws.shape[0], n_groups))
    places = np.round(np.minimum(reach.places, 1e15) * _HUNDREDTHS)
    for r, w in enumerate(draws):  # one exact max-flow per vector on the same aggregated graph
        own = np.maximum(w[idx], 0.0)
        wk = np.round(np.bincount(inv, weights=own, minlength=uniq.shape[0]) * _HUNDREDTHS)
        flow = _max_flow(a, wk, places)[0]
        if codes is None:
            out[r] = float(flow.sum()) / _HUNDREDTHS
            continue
        with np.errstate(invalid="ignore", divide="ignore"):
            frac = np.where(wk > 0, flow / wk, 0.0)
        out[r] = np.bincount(codes, weights=frac[inv] * own, minlength=n_groups)
    return out


#: Scale of the integer max-flow of :func:`capacitated_covered_draws` (hundredths of a person).
_HUNDREDTHS = 100.0


def _max_flow(a: sp.csr_array, wk: FloatArray, places: FloatArray) -> tuple[FloatArray, FloatArray, str]:
    """Maximum flow of demand rows to sites; served per row, load per site, method."""
    k, m = a.shape
    if k == 0 or m == 0:
        return np.zeros(k), np.zeros(m), "max-flow"
    big = float(wk.sum())
    cap = np.minimum(places, big)  # an unknown (inf) capacity never binds above all demand
    integral = np.allclose(wk, np.round(wk)) and np.allclose(cap, np.round(cap)) and big < 2**62
    coo = a.tocoo()
    if integral:
        src, sink = 0, k + m + 1
        r = np.concatenate([np.zeros(k, dtype=np.int64), 1 + coo.row, 1 + k + np.arange(m)])
        c = np.concatenate([1 + np.arange(k), 1 + k + coo.col, np.full(m, sink)])
        d = np.concatenate([np.round(wk), np.round(wk[coo.row]), np.round(cap)]).astype(np.int64)
        graph = sp.csr_array((d, (r, c)), shape=(sink + 1, sink + 1))
        res = maximum_flow(graph, src, sink, method="dinic")
        flow = sp.csr_array(res.flow)
        served = np.asarray(flow[[src]][:, 1 : 1 + k].toarray()).ravel().astype(float)
        load = np.asarray(flow[1 + k : 1 + k + m][:, [sink]].toarray()).ravel().astype(float)
        return served, load, "max-flow"
    e = coo.nnz
    ar = np.arange(e)
    a_ub = sp.vstack(
        [
            sp.csr_array((np.ones(e), (coo.row, ar)), shape=(k, e)),
            sp.csr_array((np.ones(e), (coo.col, ar)), shape=(m, e)),
        ],
        format="csr",
    )
    res = linprog(-np.ones(e), A_ub=a_ub, b_ub=np.r_[wk, cap], bounds=(0, None), method="highs")
    x = np.asarray(res.x) if res.x is not None else np.zeros(e)
    served = np.bincount(coo.row, weights=x, minlength=k).astype(float)
    load = np.bincount(coo.col, weights=x, minlength=m).astype(float)
    return served, load, "highs-lp"
