"""The machinery every model shares: HiGHS calls, gaps, timing and the exact-or-fallback solve."""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Sequence
from typing import Any, ClassVar, Concatenate, ParamSpec, TypeVar

import numpy as np
import scipy.sparse as sp
from scipy.optimize import Bounds, LinearConstraint, milp

from geo.errors import InfeasibleError
from planning.siting.inputs import _Pairs
from planning.siting.result import _GAP_ZERO, MIP_REL_GAP, BoolArray, FloatArray, IntArray, SitingResult
from planning.siting.rules import _Rules

log = logging.getLogger(__name__)


def _unique_rows(a: sp.csr_array) -> tuple[sp.csr_array, IntArray]:
    """Distinct rows of a 0/1 matrix and the index of each row's distinct row.

    Rows are hashed with two random projections (bit-identical for identical
    rows because column indices are sorted), then the grouping is verified
    exactly; on a (practically impossible) collision no aggregation is done.
    """
    n = a.shape[0]
    if n == 0:
        return a, np.zeros(0, dtype=np.int64)
    rng = np.random.default_rng(20240521)
    r = rng.random((a.shape[1], 2))
    key = np.column_stack([a @ r, np.diff(a.indptr)])
    _, first, inverse = np.unique(key, axis=0, return_index=True, return_inverse=True)
    inverse = inverse.ravel().astype(np.int64)
    diff = a - a[first[inverse]]
    diff.eliminate_zeros()
    if diff.nnz:
        log.warning("Zeilen-Hash-Kollision bei der Aggregation; es wird ohne Aggregation gerechnet.")
        return a, np.arange(n, dtype=np.int64)
    return a[first], inverse


def _split_constraints(cons: list[LinearConstraint]) -> tuple[Any, Any, Any, Any]:
    """``LinearConstraint`` rows as ``linprog``'s ``A_ub x ≤ b_ub`` and ``A_eq x = b_eq``."""
    a_ub, b_ub, a_eq, b_eq = [], [], [], []
    for con in cons:
        mat = sp.csr_array(con.A)
        lo = np.broadcast_to(np.asarray(con.lb, dtype=float), (mat.shape[0],))
        hi = np.broadcast_to(np.asarray(con.ub, dtype=float), (mat.shape[0],))
        eq = lo == hi
        if eq.any():
            a_eq.append(mat[np.flatnonzero(eq)])
            b_eq.append(hi[eq])
        up = ~eq & np.isfinite(hi)
        if up.any():
            a_ub.append(mat[np.flatnonzero(up)])
            b_ub.append(hi[up])
        low = ~eq & np.isfinite(lo)
        if low.any():
            a_ub.append(-mat[np.flatnonzero(low)])
            b_ub.append(-lo[low])
    return (
        sp.vstack(a_ub, format="csr") if a_ub else None,
        np.concatenate(b_ub) if b_ub else None,
        sp.vstack(a_eq, format="csr") if a_eq else None,
        np.concatenate(b_eq) if b_eq else None,
    )


#: Relative gap below which a plan counts as near-optimal: only the bound is left to close (HiGHS' heuristics
#: off); above it the search for a better plan comes first (:func:`near_optimal`).
NEAR_OPTIMAL_GAP = 0.005


def near_optimal(value: float, bound: float) -> bool:
    """Whether a plan worth ``value`` is within :data:`NEAR_OPTIMAL_GAP` of the proven ``bound``.

    >>> near_optimal(99.6, 100.0), near_optimal(99.0, 100.0)
    (True, False)
    """
    return value >= bound - NEAR_OPTIMAL_GAP * max(1.0, abs(bound))


def _gap(objective: float, bound: float) -> float:
    g = abs(bound - objective) / max(abs(objective), 1e-12)
    if not np.isfinite(g):
        return float("inf")
    return 0.0 if g <= _GAP_ZERO else float(g)


def _milp(
    c: FloatArray,
    constraints: list[LinearConstraint],
    integrality: FloatArray,
    lb: FloatArray,
    ub: FloatArray,
    time_limit: float,
) -> Any:
    return milp(
        c,
        constraints=constraints,
        integrality=integrality,
        bounds=Bounds(lb, ub),
        options={"time_limit": max(float(time_limit), 0.01), "mip_rel_gap": MIP_REL_GAP, "disp": False},
    )


def _coverage_assignment(pairs: _Pairs, is_open: BoolArray) -> IntArray:
    """Nearest open candidate per demand among the pairs (entries are cost-sorted per row), -1 if none."""
    o = is_open[pairs.indices]
    rows = pairs.rows[o]
    out = np.full(pairs.n, -1, dtype=np.int64)
    if rows.size:
        first = np.ones(rows.size, dtype=bool)
        first[1:] = rows[1:] != rows[:-1]
        out[rows[first]] = pairs.indices[o][first]
    return out


# --------------------------------------------------------------------------- base model

_Model = TypeVar("_Model", bound="_SitingModel")
_P = ParamSpec("_P")


def counts_toward_time_limit(
    build: Callable[Concatenate[type[_Model], _P], _Model],
) -> Callable[Concatenate[type[_Model], _P], _Model]:
    """Decorate a model constructor so that its run time counts toward the model's time limit.

    ``solve()`` then starts its clock that much earlier: a 60 s limit ends 60 s
    after the constructor was called, building included (nested constructors,
    e.g. ``from_geodataframes`` calling ``from_cost_matrix``, count once).
    """

    @functools.wraps(build)
    def timed(cls: type[_Model], *args: _P.args, **kwargs: _P.kwargs) -> _Model:
        start = time.perf_counter()
        model = build(cls, *args, **kwargs)
        model._build_s = max(model._build_s, time.perf_counter() - start)
        return model

    return timed


class _SitingModel:
    """Common machinery: timing, size check, exact solve with fallback."""

    model: ClassVar[str]

    def __init__(
        self,
        pairs: _Pairs,
        weights: FloatArray,
        rules: _Rules,
        time_limit: float,
        max_exact_size: int,
        notes: Sequence[str] = (),
    ) -> None:
        self._pairs = pairs
        self._weights = weights
        self._rules = rules
        self.time_limit = float(time_limit)
        self.max_exact_size = int(max_exact_size)
        self._notes = tuple(notes)
        self._build_s = 0.0  # seconds spent building the model, counted toward the time limit

    @property
    def n_demand(self) -> int:
        """Number of demand points (rows of the cost matrix)."""
        return self._pairs.n

    @property
    def n_candidates(self) -> int:
        """Number of candidate sites (columns of the cost matrix)."""
        return self._pairs.m

    def _size(self) -> int:
        raise NotImplementedError

    def solve(self) -> SitingResult:
        """Solve the model exactly with HiGHS, or with the documented fallback when too large.

        Returns
        -------
        SitingResult
            Frozen result with objective, bound, gap, status and timing.

        Raises
        ------
        InfeasibleError
            When the constraints admit no solution; the message names them.
        """
        t0 = time.perf_counter() - self._build_s  # the limit covers building the model
        size = self._size()
        capacitated = self._rules.capacity is not None
        notes = list(self._notes)
        if size > self.max_exact_size and not capacitated:
            msg = (
                f"Das Modell ist für die exakte Lösung zu groß ({size:,} Nichtnullen > "
                f"{self.max_exact_size:,}); es wird die Heuristik Greedy + Tausch verwendet und die Lücke "
                "zur LP-Schranke angegeben."
            ).replace(",", ".")
            log.warning(msg)
            notes.append(msg)
            return self._heuristic(t0, notes)
        if size > self.max_exact_size:
            log.warning(
                "Kapazitiertes Modell mit %d Nichtnullen: die Heuristik unterstützt keine Kapazitäten, "
                "es wird trotzdem exakt gerechnet.",
                size,
            )
        result = self._exact(t0, notes)
        if result is None:
            msg = (
                "HiGHS hat im Zeitlimit keine zulässige Lösung gefunden; es wird die Heuristik Greedy + Tausch "
                "verwendet und die Lücke zur LP-Schranke angegeben."
            )
            if capacitated:
                raise InfeasibleError(
                    "Im Zeitlimit wurde keine zulässige Lösung des Modells mit Kapazitäten "
                    "gefunden. Bitte das Zeitlimit erhöhen oder das Gebiet verkleinern."
                )
            log.warning(msg)
            notes.append(msg)
            return self._heuristic(t0, notes)
        return result

    def _exact(self, t0: float, notes: list[str]) -> SitingResult | None:
        raise NotImplementedError

    def _heuristic(self, t0: float, notes: list[str]) -> SitingResult:
        raise NotImplementedError

    def _remaining(self, t0: float) -> float:
        return max(self.time_limit - (time.perf_counter() - t0), 0.01)


# --------------------------------------------------------------------------- MCLP / LSCP
