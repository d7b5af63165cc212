"""Exact location-allocation models: MCLP, LSCP and p-median, solved with HiGHS.

The models follow the shape of :mod:`spopt.locate`: ``from_cost_matrix`` is the
core constructor, ``from_geodataframes`` a convenience wrapper, and ``solve()``
returns a frozen :class:`SitingResult`. They accept the same inputs as spopt
(``cost`` is ``n_demand × n_candidates``; ``fixed`` are candidate indices that
are forced open and count toward ``p``, spopt's ``predefined_facilities_arr``),
so every objective can be checked against spopt.

The integer programs are assembled directly from sparse matrices and solved
with HiGHS through :func:`scipy.optimize.milp`:

MCLP (maximal covering)
    Binary ``y_j`` per candidate, continuous ``z_k ∈ [0, 1]`` per *distinct*
    coverage row: demand points covered by the same set of candidates are
    aggregated (their weights summed), demand that no candidate reaches and
    demand already covered by a fixed site are taken out of the model (the
    latter as a constant). ``max Σ w_k z_k`` s.t. ``z_k ≤ Σ_{j∈N_k} y_j``,
    ``Σ y_j = p``. ``z`` is integral at the optimum, so it stays continuous.
    Before the MIP: the LP relaxation is solved by interior point (HiGHS' MIP
    root uses dual simplex, which is several times slower on these
    degenerate LPs); the incumbent is the better of greedy+swap and LP
    rounding+swap; candidates whose reduced cost shows they cannot reach the
    incumbent are closed; a sub-MIP on the LP support improves the incumbent
    when that support is small; and the MIP gets an objective cut-off row
    (only strictly better solutions), so "infeasible" proves the incumbent
    optimal. The reported bound is the smaller of HiGHS' dual bound and the
    LP bound.
LSCP (location set covering)
    ``min Σ y_j`` s.t. ``Σ_{j∈N_k} y_j ≥ 1`` for every distinct coverable
    row not already covered by a fixed site. Demand that no candidate reaches
    is reported as *uncoverable* (``covered == False``), not as infeasible.
p-median
    Uncapacitated: the Benders reformulation of Duran-Mateluna, Ales and
    Elloumi (2023, EJOR 308(1), "An efficient Benders decomposition for the
    p-median problem"): one continuous ``θ_i`` per demand point and cuts
    ``θ_i ≥ D - Σ_j (D - c_ij)⁺ y_j``, valid for every threshold ``D``. The
    LP relaxation is solved by cutting planes (cuts at the critical distance
    of each demand point), candidates are fixed by reduced costs against the
    greedy+swap incumbent, then the master MIP is re-solved with cuts at its
    integer solutions until the master objective equals the true cost. The
    result is provably optimal (``gap == 0``) and much faster than the
    classic ``n·m`` assignment formulation, whose LP alone HiGHS cannot
    solve in minutes at 2,000 × 200. Capacitated: the classic formulation
    (continuous ``x_ij ≤ y_j``, ``Σ_j x_ij = 1``, ``Σ_i w_i x_ij ≤ cap_j y_j``)
    on the reachable pairs; demand may be split between sites.

Constraints (all models where they make sense): fixed open sites (``fixed``),
a budget with a cost per candidate (``Σ site_cost_j y_j ≤ budget``), a minimum
number of sites per group (Gemeinde, Kreis; ``min_per_group``) and, for MCLP
and p-median, a capacity per site. With a capacity, MCLP limits the *covered
weight* assigned to each site (``Σ_k w_k u_kj ≤ cap_j y_j``, demand may be
split; the objective is the served weight).

Large instances and the fallback
    An instance whose constraint matrix would hold more than ``max_exact_size``
    nonzeros (default :data:`DEFAULT_MAX_EXACT_SIZE`; the MCLP/LSCP coverage
    nonzeros after aggregation, the number of reachable pairs for the
    p-median) is not handed to the MIP solver. The same holds when HiGHS stops
    at the time limit without any feasible solution. Then a greedy
    construction followed by a best-improvement swap local search is used
    (vectorised with NumPy/scipy.sparse; for LSCP greedy plus removal of
    redundant sites). The result says so (``status="heuristic"``,
    ``method="greedy+swap"``, a log warning) and reports the gap to the LP
    relaxation bound (for MCLP also the submodularity bound, the smaller one
    counts; for the p-median the last Benders LP bound reached in time). The
    heuristic does not support capacities: capacitated instances are always
    handed to HiGHS.

Notes
-----
Costs are in whatever unit the caller uses (metres in EPSG:25832 for
:meth:`MCLP.from_geodataframes`, seconds for travel times); ``service_radius``
is in the same unit. A cost equal to the radius counts as covered (as in
spopt). In a sparse ``cost`` only *stored* entries are reachable (explicit
zeros included); in a dense one ``inf`` means unreachable.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeAlias

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.spatial import cKDTree

from geo.errors import InfeasibleError, Problem, raise_if_problems
from geo.projection import ensure_projected

log = logging.getLogger(__name__)

#: Largest number of constraint-matrix nonzeros handed to HiGHS by default.
DEFAULT_MAX_EXACT_SIZE = 5_000_000
#: Relative MIP gap asked from HiGHS.
MIP_REL_GAP = 1e-9
#: Gaps below this are reported as 0.0 (proven optimal).
_GAP_ZERO = 1e-9

#: German labels of :attr:`SitingResult.status`.
STATUS_LABELS: dict[str, str] = {
    "optimal": "optimal (bewiesen)",
    "time_limit": "Zeitlimit erreicht – beste gefundene Lösung mit Lücke zur Schranke",
    "heuristic": "heuristische Lösung (Greedy + Tausch), Lücke zur LP-Schranke angegeben",
}

#: German labels of :attr:`SitingResult.model`.
MODEL_LABELS: dict[str, str] = {
    "mclp": "Maximale Abdeckung (MCLP)",
    "lscp": "Minimale Standortzahl für volle Abdeckung (LSCP)",
    "pmedian": "Minimale gewichtete Entfernung (p-Median)",
}

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]
CostLike: TypeAlias = ArrayLike | sp.sparray | sp.spmatrix


# --------------------------------------------------------------------------- result


def _frozen_array(a: ArrayLike | None, dtype: Any) -> Any:
    if a is None:
        return None
    out = np.array(a, dtype=dtype, copy=True)
    out.setflags(write=False)
    return out


@dataclass(frozen=True)
class SitingResult:
    """The solution of a siting model (immutable; arrays are read-only).

    Attributes
    ----------
    model
        ``"mclp"``, ``"lscp"`` or ``"pmedian"``.
    selected
        Sorted indices of the open candidates (fixed ones included).
    objective
        Covered weight (MCLP), number of sites (LSCP) or the weighted cost
        ``Σ w_i c_{i,j(i)}`` (p-median).
    bound
        Best proven bound on the optimum: an upper bound for MCLP, a lower
        bound for LSCP and p-median (HiGHS' dual bound, or the LP bound for
        the heuristic).
    gap
        ``|bound - objective| / |objective|``; ``0.0`` when proven optimal.
    status
        ``"optimal"``, ``"time_limit"`` or ``"heuristic"``; German text in
        :attr:`status_label`.
    seconds
        Wall-clock time of :meth:`solve` (model build included).
    method
        ``"highs-milp"`` or ``"greedy+swap"``.
    assignment
        Per demand point the serving selected candidate: nearest selected
        site (within the radius for MCLP/LSCP); with a capacity the site
        serving the largest share; ``-1`` if none.
    covered
        MCLP/LSCP: per demand point, whether it is covered; ``None`` for the
        p-median.
    order
        ``selected`` in selection order: the fixed sites first (as given),
        then by marginal gain. Heuristic solutions keep the greedy order of
        construction when no swap changed them; exact (and swapped) solutions
        get an order recomputed greedily among the selected sites (largest
        marginal objective gain first), which is what the explanations show.
    notes
        German notes for the user (fallback used, uncoverable demand …).
    """

    model: str
    selected: IntArray
    objective: float
    bound: float
    gap: float
    status: str
    seconds: float
    method: str
    assignment: IntArray | None
    covered: BoolArray | None
    order: IntArray
    notes: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        object.__setattr__(self, "selected", _frozen_array(self.selected, np.int64))
        object.__setattr__(self, "order", _frozen_array(self.order, np.int64))
        object.__setattr__(self, "assignment", _frozen_array(self.assignment, np.int64))
        object.__setattr__(self, "covered", _frozen_array(self.covered, bool))

    @property
    def status_label(self) -> str:
        """German description of :attr:`status`."""
        return STATUS_LABELS.get(self.status, self.status)

    @property
    def model_label(self) -> str:
        """German name of the model."""
        return MODEL_LABELS[self.model]

    @property
    def is_optimal(self) -> bool:
        """Whether the objective is proven optimal."""
        return self.status == "optimal"

    def as_dict(self) -> dict[str, Any]:
        """Scalars and the selection as a JSON-serialisable dict."""
        return {
            "model": self.model, "selected": self.selected.tolist(), "order": self.order.tolist(),
            "objective": self.objective, "bound": self.bound, "gap": self.gap, "status": self.status,
            "status_label": self.status_label, "seconds": self.seconds, "method": self.method,
            "notes": list(self.notes),
        }


# --------------------------------------------------------------------------- input handling


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
            problems.append(Problem(f"Die Kostenmatrix enthält {int(np.isnan(data).sum())} NaN-Werte.",
                                    "Unerreichbare Paare in einer dünnen Matrix einfach weglassen."))
        if (data < 0).any():
            problems.append(Problem(f"Die Kostenmatrix enthält {int((data < 0).sum())} negative Werte.",
                                    "Entfernungen und Fahrzeiten müssen ≥ 0 sein."))
        keys = coo.row.astype(np.int64) * max(coo.shape[1], 1) + coo.col
        if np.unique(keys).size != keys.size:
            problems.append(Problem("Die dünne Kostenmatrix enthält doppelte Einträge für dasselbe Paar.",
                                    "Doppelte Einträge vorher entfernen (nicht aufsummieren)."))
        return coo, None, problems
    dense = np.asarray(cost, dtype=float)
    if dense.ndim != 2:
        problems.append(Problem(f"Die Kostenmatrix muss zweidimensional sein, hat aber {dense.ndim} Dimension(en).",
                                "Eine Matrix Nachfrage × Kandidaten übergeben."))
        return None, dense, problems
    nan = np.isnan(dense)
    if nan.any():
        i, j = np.argwhere(nan)[0]
        problems.append(Problem(f"Die Kostenmatrix enthält {int(nan.sum())} NaN-Werte (erster bei Nachfrage {i}, "
                                f"Kandidat {j}).", "Unerreichbare Paare mit inf kennzeichnen."))
    neg = dense < 0
    if neg.any():
        problems.append(Problem(f"Die Kostenmatrix enthält {int(neg.sum())} negative Werte.",
                                "Entfernungen und Fahrzeiten müssen ≥ 0 sein."))
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
    o = np.lexsort((j, c, i))
    i, j, c = i[o], j[o], c[o]
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(i, minlength=n), out=indptr[1:])
    return _Pairs(int(n), int(m), indptr, j, c)


def _validate_weights(weights: ArrayLike, n: int, problems: list[Problem]) -> FloatArray:
    w = np.asarray(weights, dtype=float).ravel()
    if w.size != n:
        problems.append(Problem(f"Es gibt {w.size} Gewichte, aber {n} Nachfragepunkte (Zeilen der Kostenmatrix).",
                                "Je Nachfragepunkt genau ein Gewicht übergeben."))
        return np.zeros(n)
    bad = ~np.isfinite(w)
    if bad.any():
        problems.append(Problem(f"{int(bad.sum())} Gewicht(e) fehlen oder sind unendlich (erstes bei Nachfrage "
                                f"{int(np.flatnonzero(bad)[0])}).", "Fehlende Gewichte mit 0 füllen."))
    neg = w < 0
    if neg.any():
        problems.append(Problem(f"{int(neg.sum())} Gewicht(e) sind negativ (erstes bei Nachfrage "
                                f"{int(np.flatnonzero(neg)[0])}).", "Gewichte (Personen) müssen ≥ 0 sein."))
    return np.where(bad, 0.0, w)


@dataclass(frozen=True)
class _Rules:
    """Constraints on the set of open sites, shared by all models."""

    m: int
    p: int | None
    fixed: IntArray
    budget: float | None
    site_cost: FloatArray
    group: IntArray          # group code per candidate, -1 = no group
    group_min: IntArray      # minimum per group code
    group_names: tuple[str, ...]
    capacity: FloatArray | None

    @property
    def fixed_mask(self) -> BoolArray:
        mask = np.zeros(self.m, dtype=bool)
        mask[self.fixed] = True
        return mask

    def rows(self, n_vars: int) -> list[LinearConstraint]:
        """Linear constraints on ``y`` (columns ``0..m-1``) in a model with ``n_vars`` columns."""
        out = []
        cols = np.arange(self.m)
        if self.p is not None:
            a = sp.csr_array((np.ones(self.m), (np.zeros(self.m, dtype=np.int64), cols)), shape=(1, n_vars))
            out.append(LinearConstraint(a, self.p, self.p))
        if self.budget is not None:
            a = sp.csr_array((self.site_cost, (np.zeros(self.m, dtype=np.int64), cols)), shape=(1, n_vars))
            out.append(LinearConstraint(a, -np.inf, self.budget))
        need = np.flatnonzero(self.group_min > 0)
        if need.size:
            code = np.full(self.group_min.size, -1)
            code[need] = np.arange(need.size)
            member = (self.group >= 0) & (code[np.maximum(self.group, 0)] >= 0)
            a = sp.csr_array((np.ones(int(member.sum())), (code[self.group[member]], cols[member])),
                             shape=(need.size, n_vars))
            out.append(LinearConstraint(a, self.group_min[need].astype(float), np.inf))
        return out

    def names(self) -> str:
        parts = []
        if self.p is not None:
            parts.append(f"p = {self.p}")
        if self.fixed.size:
            parts.append(f"{self.fixed.size} feste Standorte")
        if self.budget is not None:
            parts.append(f"Budget {self.budget:,.0f}".replace(",", "."))
        if (self.group_min > 0).any():
            parts.append("Mindestanzahl je Gruppe")
        if self.capacity is not None:
            parts.append("Kapazitäten")
        return ", ".join(parts)

    # ---- admissibility for the heuristics
    def can_add(self, is_open: BoolArray) -> BoolArray:
        """Candidates that may be opened next without making the constraints unreachable."""
        closed = ~is_open
        allowed = closed.copy()
        deficit = self._deficit(is_open)
        slots = None if self.p is None else self.p - int(is_open.sum())
        g_ok = self.group >= 0
        in_deficit = np.zeros(self.m, dtype=bool)
        in_deficit[g_ok] = deficit[self.group[g_ok]] > 0
        if slots is not None and deficit.sum() >= slots:
            allowed &= in_deficit
        if self.budget is not None:
            left = self.budget - float(self.site_cost[is_open].sum())
            c = self.site_cost
            if slots is None:
                allowed &= c <= left + 1e-9
            else:
                k = max(slots - 1, 0)
                cheap = np.sort(c[closed])
                base = cheap[:k].sum()
                with_next = cheap[: k + 1].sum()
                # completion cost of the remaining k sites if j itself is opened
                threshold = cheap[k - 1] if k > 0 and cheap.size >= k else -np.inf
                completion = np.where(c <= threshold, with_next - c, base) if k > 0 else np.zeros(self.m)
                allowed &= c + completion <= left + 1e-9
        return allowed

    def _deficit(self, is_open: BoolArray) -> IntArray:
        g_ok = (self.group >= 0) & is_open
        count = np.bincount(self.group[g_ok], minlength=self.group_min.size)
        return np.maximum(self.group_min - count, 0)

    def can_swap(self, is_open: BoolArray, out: IntArray) -> BoolArray:
        """``len(out) × m`` mask: may site ``out[s]`` be closed and candidate ``j`` opened?"""
        ok = np.broadcast_to(~is_open, (out.size, self.m)).copy()
        ok[self.fixed_mask[out], :] = False
        if self.budget is not None:
            spent = float(self.site_cost[is_open].sum())
            ok &= (spent - self.site_cost[out][:, None] + self.site_cost[None, :]) <= self.budget + 1e-9
        if (self.group_min > 0).any():
            g_ok = (self.group >= 0) & is_open
            count = np.bincount(self.group[g_ok], minlength=self.group_min.size)
            gs = self.group[out]
            tight = np.zeros(out.size, dtype=bool)
            tight[gs >= 0] = count[gs[gs >= 0]] - 1 < self.group_min[gs[gs >= 0]]
            same = self.group[None, :] == gs[:, None]
            ok &= ~tight[:, None] | same
        return ok


def _rules(m: int, p: int | None, fixed: ArrayLike | None, budget: float | None, site_cost: ArrayLike | None,
           min_per_group: tuple[ArrayLike, int | Mapping[Any, int]] | None, capacity: ArrayLike | float | None,
           problems: list[Problem]) -> _Rules:
    """Normalise and validate the site constraints (collects all problems)."""
    fx = np.zeros(0, dtype=np.int64)
    if fixed is not None:
        raw = np.asarray(fixed).ravel()
        if raw.dtype == bool:
            if raw.size != m:
                problems.append(Problem(f"Die Maske der festen Standorte hat {raw.size} Einträge, es gibt aber "
                                        f"{m} Kandidaten."))
            else:
                fx = np.flatnonzero(raw).astype(np.int64)
        elif raw.size:
            if not np.issubdtype(raw.dtype, np.number) or not np.all(np.mod(raw, 1) == 0):
                problems.append(Problem("Feste Standorte müssen als ganzzahlige Kandidatenindizes angegeben werden."))
            else:
                fx = raw.astype(np.int64)
                bad = (fx < 0) | (fx >= m)
                if bad.any():
                    problems.append(Problem(f"Feste Standorte {fx[bad].tolist()[:10]} liegen außerhalb der "
                                            f"Kandidatenindizes 0…{m - 1}."))
                    fx = fx[~bad]
                if np.unique(fx).size != fx.size:
                    problems.append(Problem("Feste Standorte enthalten doppelte Indizes.",
                                            "Jeden festen Standort nur einmal angeben."))
                fx = np.unique(fx)
    if p is not None and (not float(p).is_integer() or p <= 0):
        problems.append(Problem(f"p = {p} ist ungültig.", "p muss eine ganze Zahl ≥ 1 sein (Zahl der Standorte)."))
    cost_arr = np.zeros(m)
    if budget is not None:
        if site_cost is None:
            problems.append(Problem("Ein Budget wurde angegeben, aber keine Kosten je Kandidat (site_cost).",
                                    "Kosten je Kandidat übergeben, z. B. aus einer Kostenspalte."))
        elif not np.isfinite(budget) or budget < 0:
            problems.append(Problem(f"Das Budget {budget} ist ungültig.", "Ein Budget ≥ 0 in Euro angeben."))
    if site_cost is not None:
        cost_arr = np.asarray(site_cost, dtype=float).ravel()
        if cost_arr.size != m:
            problems.append(Problem(f"Es gibt {cost_arr.size} Standortkosten, aber {m} Kandidaten."))
            cost_arr = np.zeros(m)
        elif (~np.isfinite(cost_arr) | (cost_arr < 0)).any():
            bad_idx = np.flatnonzero(~np.isfinite(cost_arr) | (cost_arr < 0))
            problems.append(Problem(f"{bad_idx.size} Standortkosten fehlen oder sind negativ "
                                    f"(erster Kandidat {bad_idx[0]}).",
                                    "Kosten ≥ 0 angeben oder Kandidaten ohne Kosten vorher entfernen."))
            cost_arr = np.where(np.isfinite(cost_arr) & (cost_arr >= 0), cost_arr, 0.0)
    group = np.full(m, -1, dtype=np.int64)
    group_min = np.zeros(0, dtype=np.int64)
    names: tuple[str, ...] = ()
    if min_per_group is not None:
        labels_raw, minimum = min_per_group
        labels = pd.Series(np.asarray(labels_raw, dtype=object).ravel())
        if labels.size != m:
            problems.append(Problem(f"Es gibt {labels.size} Gruppenbezeichnungen, aber {m} Kandidaten.",
                                    "Je Kandidat genau eine Gruppe (z. B. Gemeinde-AGS) übergeben."))
        else:
            if isinstance(minimum, Mapping):
                wanted = {str(k): int(v) for k, v in minimum.items()}
            else:
                wanted = {str(g): int(minimum) for g in labels.dropna().astype(str).unique()}
            name_list = sorted(set(wanted) | set(labels.dropna().astype(str).unique()))
            code_of = {g: c for c, g in enumerate(name_list)}
            mapped = labels.map(lambda v: code_of.get(str(v), -1) if pd.notna(v) else -1)
            group = mapped.to_numpy(dtype=np.int64)
            group_min = np.array([wanted.get(g, 0) for g in name_list], dtype=np.int64)
            names = tuple(name_list)
            if (group_min < 0).any():
                problems.append(Problem("Die Mindestanzahl je Gruppe muss ≥ 0 sein."))
    cap = None
    if capacity is not None:
        cap = np.broadcast_to(np.asarray(capacity, dtype=float), (m,)).copy() if np.ndim(capacity) == 0 \
            else np.asarray(capacity, dtype=float).ravel()
        if cap.size != m:
            problems.append(Problem(f"Es gibt {cap.size} Kapazitäten, aber {m} Kandidaten."))
            cap = None
        elif (~np.isfinite(cap) | (cap < 0)).any():
            problems.append(Problem("Kapazitäten müssen endlich und ≥ 0 sein."))
            cap = None
    return _Rules(m, None if p is None else int(p), fx, None if budget is None else float(budget), cost_arr,
                  group, group_min, names, cap)


def _check_feasible(rules: _Rules, total_weight: float | None = None) -> None:
    """Explicit infeasibility checks before solving; German messages naming the constraint."""
    m, p, nf = rules.m, rules.p, rules.fixed.size
    if p is not None and p < nf:
        raise InfeasibleError(f"p = {p} ist kleiner als die Zahl der festen Standorte ({nf}). Feste Standorte "
                              f"zählen zu p; bitte p auf mindestens {nf} erhöhen oder weniger Standorte festlegen.")
    if p is not None and p > m:
        raise InfeasibleError(f"p = {p} ist größer als die Zahl der Kandidaten ({m}). Bitte p verkleinern oder "
                              "mehr Kandidaten zulassen.")
    if rules.budget is not None:
        fixed_cost = float(rules.site_cost[rules.fixed].sum())
        if fixed_cost > rules.budget + 1e-9:
            raise InfeasibleError(f"Das Budget ({_eur(rules.budget)}) liegt unter den Kosten der festen Standorte "
                                  f"({_eur(fixed_cost)}). Bitte das Budget erhöhen oder weniger Standorte "
                                  "festlegen.")
        if p is not None:
            rest = np.sort(np.delete(rules.site_cost, rules.fixed))[: p - nf].sum()
            if fixed_cost + rest > rules.budget + 1e-9:
                raise InfeasibleError(f"Das Budget ({_eur(rules.budget)}) reicht nicht für p = {p} Standorte: "
                                      f"schon die günstigste Auswahl kostet {_eur(fixed_cost + rest)}. Bitte das "
                                      "Budget erhöhen oder p verkleinern.")
    if (rules.group_min > 0).any():
        member = rules.group >= 0
        avail = np.bincount(rules.group[member], minlength=rules.group_min.size)
        fixed_in = np.bincount(rules.group[rules.fixed][rules.group[rules.fixed] >= 0],
                               minlength=rules.group_min.size)
        empty = np.flatnonzero((rules.group_min > 0) & (avail == 0))
        if empty.size:
            names = ", ".join(rules.group_names[g] for g in empty[:10])
            raise InfeasibleError(f"Mindestanzahl je Gruppe nicht erfüllbar: {empty.size} Gruppe(n) ohne jeden "
                                  f"Kandidaten ({names}). Bitte dort Kandidaten hinzufügen oder die Mindestanzahl "
                                  "senken.")
        short = np.flatnonzero(avail < rules.group_min)
        if short.size:
            g = short[0]
            raise InfeasibleError(f"Mindestanzahl je Gruppe nicht erfüllbar: Gruppe {rules.group_names[g]} verlangt "
                                  f"{rules.group_min[g]} Standorte, hat aber nur {avail[g]} Kandidaten.")
        need = int(np.maximum(rules.group_min, fixed_in).sum()) + int(nf - fixed_in.sum())
        if p is not None and need > p:
            raise InfeasibleError(f"Mindestanzahl je Gruppe nicht erfüllbar: sie verlangt zusammen mit den festen "
                                  f"Standorten mindestens {need} Standorte, p ist aber {p}. Bitte p erhöhen oder "
                                  "die Mindestanzahl je Gruppe senken.")
    if rules.capacity is not None and total_weight is not None and p is not None:
        free = np.delete(rules.capacity, rules.fixed)
        best = float(rules.capacity[rules.fixed].sum() + np.sort(free)[::-1][: p - nf].sum())
        if best + 1e-9 < total_weight:
            raise InfeasibleError(f"Kapazität zu klein: selbst die {p} Standorte mit der größten Kapazität fassen "
                                  f"nur {best:,.0f}, die Nachfrage beträgt {total_weight:,.0f}. Bitte p erhöhen "
                                  "oder Kapazitäten anpassen.".replace(",", "."))


def _eur(x: float) -> str:
    return f"{x:,.0f} €".replace(",", ".")


def _infeasible_from_solver(rules: _Rules, what: str) -> InfeasibleError:
    return InfeasibleError(f"Das Modell hat keine zulässige Lösung: {what} Beteiligte Bedingungen: "
                           f"{rules.names() or 'keine'}. Bitte Budget, p oder die Mindestanzahl je Gruppe lockern.")


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
    return (sp.vstack(a_ub, format="csr") if a_ub else None, np.concatenate(b_ub) if b_ub else None,
            sp.vstack(a_eq, format="csr") if a_eq else None, np.concatenate(b_eq) if b_eq else None)


def _gap(objective: float, bound: float) -> float:
    g = abs(bound - objective) / max(abs(objective), 1e-12)
    if not np.isfinite(g):
        return float("inf")
    return 0.0 if g <= _GAP_ZERO else float(g)


def _milp(c: FloatArray, constraints: list[LinearConstraint], integrality: FloatArray, lb: FloatArray,
          ub: FloatArray, time_limit: float) -> Any:
    return milp(c, constraints=constraints, integrality=integrality, bounds=Bounds(lb, ub),
                options={"time_limit": max(float(time_limit), 0.01), "mip_rel_gap": MIP_REL_GAP, "disp": False})


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


class _SitingModel:
    """Common machinery: timing, size check, exact solve with fallback."""

    model: ClassVar[str]

    def __init__(self, pairs: _Pairs, weights: FloatArray, rules: _Rules, time_limit: float,
                 max_exact_size: int, notes: Sequence[str] = ()) -> None:
        self._pairs = pairs
        self._weights = weights
        self._rules = rules
        self.time_limit = float(time_limit)
        self.max_exact_size = int(max_exact_size)
        self._notes = tuple(notes)

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
        t0 = time.perf_counter()
        size = self._size()
        capacitated = self._rules.capacity is not None
        notes = list(self._notes)
        if size > self.max_exact_size and not capacitated:
            msg = (f"Das Modell ist für die exakte Lösung zu groß ({size:,} Nichtnullen > "
                   f"{self.max_exact_size:,}); es wird die Heuristik Greedy + Tausch verwendet und die Lücke "
                   "zur LP-Schranke angegeben.").replace(",", ".")
            log.warning(msg)
            notes.append(msg)
            return self._heuristic(t0, notes)
        if size > self.max_exact_size:
            log.warning("Kapazitiertes Modell mit %d Nichtnullen: die Heuristik unterstützt keine Kapazitäten, "
                        "es wird trotzdem exakt gerechnet.", size)
        result = self._exact(t0, notes)
        if result is None:
            msg = ("HiGHS hat im Zeitlimit keine zulässige Lösung gefunden; es wird die Heuristik Greedy + Tausch "
                   "verwendet und die Lücke zur LP-Schranke angegeben.")
            if capacitated:
                raise InfeasibleError("Im Zeitlimit wurde keine zulässige Lösung des Modells mit Kapazitäten "
                                      "gefunden. Bitte das Zeitlimit erhöhen oder das Gebiet verkleinern.")
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


class _CoverageModel(_SitingModel):
    """MCLP and LSCP share the aggregated coverage matrix."""

    def __init__(self, pairs: _Pairs, weights: FloatArray, rules: _Rules, time_limit: float,
                 max_exact_size: int, notes: Sequence[str] = ()) -> None:
        super().__init__(pairs, weights, rules, time_limit, max_exact_size, notes)
        a = pairs.pattern()
        coverable = np.diff(a.indptr) > 0
        fixed_cov = np.zeros(pairs.n, dtype=bool)
        if rules.fixed.size:
            fixed_cov = np.asarray(a[:, rules.fixed].sum(axis=1)).ravel() > 0
        self._a = a
        self._coverable = coverable
        self._fixed_cov = fixed_cov

    def _aggregate(self, rows: BoolArray) -> tuple[sp.csr_array, FloatArray, IntArray, IntArray]:
        """Distinct coverage rows among ``rows``: matrix, summed weights, member rows, their group."""
        idx = np.flatnonzero(rows)
        uniq, inv = _unique_rows(self._a[idx])
        w = np.bincount(inv, weights=self._weights[idx], minlength=uniq.shape[0]).astype(np.float64)
        return uniq, w, idx.astype(np.int64), inv

    def _covered(self, is_open: BoolArray) -> BoolArray:
        return np.asarray(self._a @ is_open.astype(float)).ravel() > 0

    def _finish(self, t0: float, sel_mask: BoolArray, objective: float, bound: float, status: str,
                method: str, notes: list[str], order: IntArray | None = None,
                covered: BoolArray | None = None, assignment: IntArray | None = None) -> SitingResult:
        selected = np.flatnonzero(sel_mask)
        if covered is None:
            covered = self._covered(sel_mask)
        if assignment is None:
            assignment = _coverage_assignment(self._pairs, sel_mask)
        if order is None:
            order = self._order(selected)
        n_unc = int((~self._coverable).sum())
        if n_unc:
            notes.append(f"{n_unc} Nachfragepunkt(e) liegen außerhalb der Reichweite jedes Kandidaten "
                         "(nicht abdeckbar).")
        return SitingResult(self.model, selected, float(objective), float(bound), _gap(objective, bound), status,
                            time.perf_counter() - t0, method, assignment, covered, order, tuple(notes))

    def _order(self, selected: IntArray) -> IntArray:
        """Fixed sites first, then the selected sites by greedy marginal covered weight (ties: index)."""
        fixed = self._rules.fixed
        rest = np.setdiff1d(selected, fixed)
        if rest.size == 0:
            return fixed.copy()
        sub = self._a[:, rest].tocsc()
        weight = self._weights if self.model == "mclp" else np.ones(self._pairs.n)
        is_open = np.zeros(self._pairs.m, dtype=bool)
        is_open[fixed] = True
        uncovered = ~self._covered(is_open)
        picked: list[int] = []
        left = np.ones(rest.size, dtype=bool)
        for _ in range(rest.size):  # one pass per selected site (p is small)
            gain = sub.T @ (weight * uncovered)
            gain[~left] = -np.inf
            k = int(np.argmax(gain))
            picked.append(int(rest[k]))
            left[k] = False
            uncovered &= ~(np.asarray(sub[:, [k]].toarray()).ravel() > 0)
        return np.concatenate([fixed, np.array(picked, dtype=np.int64)])


class MCLP(_CoverageModel):
    """Maximal covering location problem: cover as much demand weight as possible with ``p`` sites.

    Build with :meth:`from_cost_matrix` or :meth:`from_geodataframes`, then call
    :meth:`solve`.

    Examples
    --------
    >>> import numpy as np
    >>> cost = np.array([[0, 9, 9], [1, 9, 9], [9, 0, 9], [9, 9, 0]], dtype=float)
    >>> res = MCLP.from_cost_matrix(cost, [5, 5, 3, 1], service_radius=2, p=2).solve()
    >>> res.selected.tolist(), res.objective, res.status
    ([0, 1], 13.0, 'optimal')
    """

    model = "mclp"

    @classmethod
    def from_cost_matrix(cls, cost: CostLike, weights: ArrayLike, service_radius: float, p: int,
                         fixed: ArrayLike | None = None, *, budget: float | None = None,
                         site_cost: ArrayLike | None = None,
                         min_per_group: tuple[ArrayLike, int | Mapping[Any, int]] | None = None,
                         capacity: ArrayLike | float | None = None, time_limit: float = 60.0,
                         max_exact_size: int = DEFAULT_MAX_EXACT_SIZE) -> MCLP:
        """Create an MCLP from an ``n_demand × n_candidates`` cost matrix.

        Parameters
        ----------
        cost
            Dense array (``inf`` = unreachable) or scipy.sparse matrix (only stored
            entries are reachable, explicit zeros included).
        weights
            Demand weight per row (persons), ``≥ 0``.
        service_radius
            Demand ``i`` is covered by ``j`` if ``cost[i, j] <= service_radius``.
        p
            Number of open sites, fixed sites included (spopt semantics).
        fixed
            Candidate indices (or a boolean mask) forced open; they count toward ``p``.
        budget, site_cost
            ``Σ site_cost[j] · y_j ≤ budget`` over all open sites (fixed included).
        min_per_group
            ``(group label per candidate, minimum)``; ``minimum`` is an int for
            every group present, or a mapping ``{label: minimum}`` that may also
            name groups without any candidate (then infeasible).
        capacity
            Covered weight each site can take (scalar or per candidate); demand
            may be split between sites and the objective is the served weight.
        time_limit
            Seconds for HiGHS.
        max_exact_size
            Above this many nonzeros the greedy+swap fallback is used.

        Returns
        -------
        MCLP

        Raises
        ------
        ValidationError
            For malformed input (shapes, NaN, negative weights or costs, p ≤ 0).
        InfeasibleError
            For requests that cannot be met (p < fixed sites, p > candidates,
            budget, minimum per group).

        Notes
        -----
        ``cost`` and ``service_radius`` share one unit (metres in EPSG:25832 or
        seconds).
        """
        problems: list[Problem] = []
        coo, dense, cost_problems = _validate_cost(cost)
        problems += cost_problems
        n, m = coo.shape if coo is not None else (dense.shape if dense is not None and dense.ndim == 2 else (0, 0))
        w = _validate_weights(weights, n, problems)
        if not np.isfinite(service_radius) or service_radius < 0:
            problems.append(Problem(f"Der Radius {service_radius} ist ungültig.", "Einen Radius ≥ 0 angeben."))
        rules = _rules(m, p, fixed, budget, site_cost, min_per_group, capacity, problems)
        raise_if_problems(problems, "Eingaben des Standortmodells (MCLP) sind ungültig")
        _check_feasible(rules)
        pairs = _pairs_from_cost(coo, dense, float(service_radius))
        return cls(pairs, w, rules, time_limit, max_exact_size)

    @classmethod
    def from_geodataframes(cls, demand_gdf: gpd.GeoDataFrame, candidates_gdf: gpd.GeoDataFrame,
                           weights_col: str, service_radius: float, p: int, *, fixed_col: str | None = None,
                           cost_col: str | None = None, budget: float | None = None, group_col: str | None = None,
                           min_per_group: int | Mapping[Any, int] | None = None,
                           capacity_col: str | None = None, time_limit: float = 60.0,
                           max_exact_size: int = DEFAULT_MAX_EXACT_SIZE) -> MCLP:
        """Create an MCLP from demand and candidate GeoDataFrames (straight-line distance).

        Parameters
        ----------
        demand_gdf, candidates_gdf
            Points (other geometries: their representative point) in EPSG:25832.
        weights_col
            Column of ``demand_gdf`` with the demand weight.
        service_radius
            Radius in metres.
        p
            Number of open sites, fixed ones included.
        fixed_col, cost_col, group_col, capacity_col
            Optional columns of ``candidates_gdf``: boolean "fixed open", cost
            per site, group label (e.g. Gemeinde-AGS) and capacity.
        budget, min_per_group
            As in :meth:`from_cost_matrix`; ``min_per_group`` needs ``group_col``.

        Returns
        -------
        MCLP

        Notes
        -----
        Distances are Euclidean in EPSG:25832 (metres), computed with
        :meth:`scipy.spatial.cKDTree.sparse_distance_matrix` up to the radius;
        geographic CRS are refused.
        """
        w, cand_kwargs = _gdf_inputs(demand_gdf, candidates_gdf, weights_col, fixed_col, cost_col, group_col,
                                     min_per_group, capacity_col, budget)
        cost = _euclidean(demand_gdf, candidates_gdf, float(service_radius))
        return cls.from_cost_matrix(cost, w, service_radius, p, time_limit=time_limit,
                                    max_exact_size=max_exact_size, **cand_kwargs)

    def _size(self) -> int:
        rows = self._coverable & (self._weights > 0)
        if self._rules.capacity is None:
            rows &= ~self._fixed_cov
        return int(self._a[np.flatnonzero(rows)].nnz)

    # ---- exact
    def _exact(self, t0: float, notes: list[str]) -> SitingResult | None:
        rules = self._rules
        m = self._pairs.m
        if rules.capacity is not None:
            return self._exact_capacitated(t0, notes)
        const = float(self._weights[self._fixed_cov].sum())
        rows = self._coverable & ~self._fixed_cov & (self._weights > 0)
        ak, wk, _, _ = self._aggregate(rows)
        k = ak.shape[0]
        nv = m + k
        link = sp.hstack([-ak, sp.eye_array(k, format="csr")], format="csr")
        cons = [LinearConstraint(link, -np.inf, 0.0), *rules.rows(nv)]
        c = np.concatenate([np.zeros(m), -wk])
        lb = np.zeros(nv)
        lb[rules.fixed] = 1.0
        ub = np.ones(nv)
        # 1. LP relaxation by interior point (HiGHS' MIP root uses dual simplex, much slower here),
        # 2. incumbent: best of greedy+swap and LP rounding+swap,
        # 3. reduced-cost fixing: candidates that cannot reach the incumbent are closed.
        inc_open, inc_val = None, -np.inf
        try:
            lp_y = self._lp_values(c, cons, lb, ub, t0)
            for score in (None,) if lp_y is None else (None, lp_y):
                h_open, _, _, _ = self._local_search(t0, self.time_limit / 4, score)
                h_val = float(self._weights[self._covered(h_open)].sum())
                if h_val > inc_val:
                    inc_open, inc_val = h_open, h_val
        except InfeasibleError:
            inc_open = None
        if inc_open is not None and self._lp is not None:
            lp_val, rc_lo, rc_hi = self._lp
            tol = 1e-9 * max(1.0, abs(inc_val))
            # in min form: LP value -lp_val; opening j costs at least rc_lo[j] more
            fix0 = (const + lp_val - rc_lo < inc_val - tol) & (lb[:m] == 0)
            fix1 = (const + lp_val + rc_hi < inc_val - tol)
            ub[:m][fix0] = 0.0
            lb[:m][fix1] = 1.0
            log.info("MCLP: LP-Schranke %.6g, Startlösung %.6g, %d Kandidaten per reduzierter Kosten fixiert",
                     const + lp_val, inc_val, int(fix0.sum() + fix1.sum()))
        integ = np.r_[np.ones(m), np.zeros(k)]
        if inc_open is not None and self._lp is not None and self._lp_y is not None:
            # 4. sub-MIP on the LP support plus the incumbent (a RINS-like improvement heuristic)
            keep = (self._lp_y > 1e-6) | inc_open | (lb[:m] > 0)
            if keep.sum() <= m // 2:
                sub_ub = ub.copy()
                sub_ub[:m][~keep] = 0.0
                sub = _milp(c, cons, integ, lb, sub_ub, min(self._remaining(t0) / 3, 60.0))
                if sub.x is not None:
                    s_open = np.round(sub.x[:m]) > 0.5
                    s_val = float(self._weights[self._covered(s_open)].sum())
                    if s_val > inc_val:
                        inc_open, inc_val = s_open, s_val
            # 5. only strictly better solutions are of interest: an objective cut-off row
            need = inc_val - const + 1e-7 * max(1.0, abs(inc_val))
            cons = [*cons, LinearConstraint(sp.csr_array(-c[None, :]), need, np.inf)]
        res = _milp(c, cons, integ, lb, ub, self._remaining(t0))
        if res.status == 2 and inc_open is None:
            raise _infeasible_from_solver(rules, "die Bedingungen an die Standortauswahl widersprechen sich.")
        if res.x is None and inc_open is None:
            return None
        if res.x is not None:
            y = np.round(res.x[:m]) > 0.5
            objective = float(self._weights[self._covered(y)].sum())
        else:
            y, objective = inc_open, -np.inf
        if inc_open is not None and inc_val > objective:
            y, objective = inc_open, inc_val
        if res.status == 2:  # nothing better than the incumbent exists
            bound, status = objective, "optimal"
        else:
            bound = const - float(res.mip_dual_bound) if res.mip_dual_bound is not None else np.inf
            if self._lp is not None:  # the LP relaxation bounds every solution, too
                bound = min(bound if np.isfinite(bound) else np.inf, const + self._lp[0])
            status = "optimal" if res.status == 0 else "time_limit"
        bound = max(bound, objective)
        return self._finish(t0, y, objective, bound, status, "highs-milp", notes)

    _lp: tuple[float, FloatArray, FloatArray] | None = None
    _lp_y: FloatArray | None = None

    def _lp_values(self, c: FloatArray, cons: list[LinearConstraint], lb: FloatArray, ub: FloatArray,
                   t0: float) -> FloatArray | None:
        """Solve the LP relaxation (HiGHS interior point); keep value and reduced costs, return ``y``."""
        from scipy.optimize import linprog

        m = self._pairs.m
        a_ub, b_ub, a_eq, b_eq = _split_constraints(cons)
        res = linprog(c, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=b_eq, bounds=np.column_stack([lb, ub]),
                      method="highs-ipm", options={"time_limit": self._remaining(t0), "disp": False})
        if res.status != 0:
            self._lp, self._lp_y = None, None
            return None
        self._lp = (-float(res.fun), np.asarray(res.lower.marginals[:m]), np.asarray(res.upper.marginals[:m]))
        self._lp_y = np.asarray(res.x[:m])
        return self._lp_y

    def _exact_capacitated(self, t0: float, notes: list[str]) -> SitingResult | None:
        rules = self._rules
        assert rules.capacity is not None
        m = self._pairs.m
        rows = self._coverable & (self._weights > 0)
        ak, wk, idx, inv = self._aggregate(rows)
        k = ak.shape[0]
        coo = ak.tocoo()
        e = coo.nnz
        kk, jj = coo.row.astype(np.int64), coo.col.astype(np.int64)
        nv = m + e
        ar = np.arange(e)
        one = sp.csr_array((np.ones(e), (kk, m + ar)), shape=(k, nv))
        link = sp.csr_array((np.r_[np.ones(e), -np.ones(e)], (np.r_[ar, ar], np.r_[m + ar, jj])), shape=(e, nv))
        capr = sp.csr_array((np.r_[wk[kk], -rules.capacity], (np.r_[jj, np.arange(m)], np.r_[m + ar, np.arange(m)])),
                            shape=(m, nv))
        cons = [LinearConstraint(one, -np.inf, 1.0), LinearConstraint(link, -np.inf, 0.0),
                LinearConstraint(capr, -np.inf, 0.0), *rules.rows(nv)]
        c = np.concatenate([np.zeros(m), -wk[kk]])
        lb = np.zeros(nv)
        lb[rules.fixed] = 1.0
        res = _milp(c, cons, np.r_[np.ones(m), np.zeros(e)], lb, np.ones(nv), self._remaining(t0))
        if res.status == 2:
            raise _infeasible_from_solver(rules, "die Bedingungen an die Standortauswahl widersprechen sich.")
        if res.x is None:
            return None
        y = np.round(res.x[:m]) > 0.5
        u = res.x[m:]
        frac = np.bincount(kk, weights=u, minlength=k)
        objective = float(-res.fun)
        bound = max(-float(res.mip_dual_bound), objective)
        covered = np.zeros(self._pairs.n, dtype=bool)
        covered[idx] = frac[inv] >= 1 - 1e-6
        share = sp.csr_array((u, (kk, jj)), shape=(k, m)).toarray()
        best = np.where(share.max(axis=1) > 1e-9, share.argmax(axis=1), -1)
        assignment = np.full(self._pairs.n, -1, dtype=np.int64)
        assignment[idx] = best[inv]
        notes.append("Mit Kapazitäten kann die Nachfrage eines Punktes auf mehrere Standorte aufgeteilt werden; "
                      "das Ziel ist das versorgte Gewicht.")
        return self._finish(t0, y, objective, bound, "optimal" if res.status == 0 else "time_limit",
                            "highs-milp", notes, covered=covered, assignment=assignment)

    # ---- heuristic
    def _heuristic(self, t0: float, notes: list[str]) -> SitingResult:
        is_open, order, swapped, cnt = self._local_search(t0, self.time_limit)
        rows = self._coverable & ~self._fixed_cov & (self._weights > 0)
        ak, wk, _, _ = self._aggregate(rows)
        const = float(self._weights[self._fixed_cov].sum())
        objective = float(self._weights[self._covered(is_open)].sum())
        bound = self._upper_bound(ak, wk, const, cnt, objective, t0)
        final_order = None if swapped else np.array(order, dtype=np.int64)
        return self._finish(t0, is_open, objective, bound, "heuristic", "greedy+swap", notes, order=final_order)

    def _local_search(self, t0: float, deadline: float, score: FloatArray | None = None
                      ) -> tuple[BoolArray, list[int], bool, FloatArray]:
        """Greedy construction plus best-improvement swaps; returns the open mask, order, swapped?, counts.

        With ``score`` (LP values of ``y``) the construction opens the admissible
        candidates with the highest score instead (LP rounding).
        """
        rules = self._rules
        rows = self._coverable & ~self._fixed_cov & (self._weights > 0)
        ak, wk, _, _ = self._aggregate(rows)
        akc = ak.tocsc()
        is_open = rules.fixed_mask.copy()
        cnt = np.zeros(ak.shape[0])
        order = list(rules.fixed.tolist())
        assert rules.p is not None
        while int(is_open.sum()) < rules.p:
            gain = akc.T @ (wk * (cnt == 0)) if score is None else score
            allowed = rules.can_add(is_open)
            if not allowed.any():
                raise InfeasibleError("Die Heuristik findet keine zulässige Auswahl unter den Bedingungen "
                                      f"({rules.names()}).")
            gain = np.where(allowed, gain, -np.inf)
            j = int(np.argmax(gain))
            is_open[j] = True
            order.append(j)
            cnt += np.asarray(akc[:, [j]].toarray()).ravel()
        swapped = False
        for _ in range(20 * rules.p):  # best-improvement swaps; each is one sparse product
            if time.perf_counter() - t0 > deadline:
                break
            out = np.flatnonzero(is_open)
            single = wk * (cnt == 1)
            add = akc.T @ (wk * (cnt == 0))
            loss = akc[:, out].T @ single
            cross = (akc[:, out].T @ sp.diags_array(single) @ akc).toarray()
            delta = add[None, :] + cross - loss[:, None]
            delta = np.where(rules.can_swap(is_open, out), delta, -np.inf)
            s, j = (int(v) for v in np.unravel_index(int(np.argmax(delta)), delta.shape))
            if delta[s, j] <= 1e-9 * max(1.0, float(wk.sum())):
                break
            is_open[out[s]] = False
            is_open[j] = True
            cnt += np.asarray(akc[:, [j]].toarray()).ravel() - np.asarray(akc[:, [out[s]]].toarray()).ravel()
            swapped = True
        return is_open, order, swapped, cnt

    def _upper_bound(self, ak: sp.csr_array, wk: FloatArray, const: float, cnt: FloatArray, objective: float,
                     t0: float) -> float:
        """min(LP relaxation, submodularity bound f(S) + Σ top-(p - |fixed|) marginal gains)."""
        rules = self._rules
        assert rules.p is not None
        gains = np.sort(ak.T @ (wk * (cnt == 0)))[::-1]
        sub = objective + float(gains[: rules.p - rules.fixed.size].sum())
        m, k = self._pairs.m, ak.shape[0]
        nv = m + k
        link = sp.hstack([-ak, sp.eye_array(k, format="csr")], format="csr")
        lb = np.zeros(nv)
        lb[rules.fixed] = 1.0
        res = _milp(np.concatenate([np.zeros(m), -wk]), [LinearConstraint(link, -np.inf, 0.0), *rules.rows(nv)],
                    np.zeros(nv), lb, np.ones(nv), max(self._remaining(t0), 5.0))
        lp = const - float(res.fun) if res.status == 0 else np.inf
        return float(max(min(sub, lp), objective))


class LSCP(_CoverageModel):
    """Location set covering problem: the fewest sites that cover all coverable demand.

    Examples
    --------
    >>> import numpy as np
    >>> cost = np.array([[0, 1, 9], [9, 1, 0], [9, 9, 9]], dtype=float)
    >>> res = LSCP.from_cost_matrix(cost, service_radius=1).solve()
    >>> res.selected.tolist(), res.objective, res.covered.tolist()
    ([1], 1.0, [True, True, False])
    """

    model = "lscp"

    @classmethod
    def from_cost_matrix(cls, cost: CostLike, service_radius: float, fixed: ArrayLike | None = None, *,
                         budget: float | None = None, site_cost: ArrayLike | None = None,
                         min_per_group: tuple[ArrayLike, int | Mapping[Any, int]] | None = None,
                         time_limit: float = 60.0, max_exact_size: int = DEFAULT_MAX_EXACT_SIZE) -> LSCP:
        """Create an LSCP from an ``n_demand × n_candidates`` cost matrix.

        Parameters
        ----------
        cost
            Dense (``inf`` = unreachable) or sparse (stored entries reachable).
        service_radius
            Coverage radius in the unit of ``cost``.
        fixed
            Candidate indices forced open (counted in the objective).
        budget, site_cost, min_per_group, time_limit, max_exact_size
            As in :meth:`MCLP.from_cost_matrix`.

        Returns
        -------
        LSCP

        Notes
        -----
        Demand that no candidate reaches within the radius is reported as
        uncoverable (``covered == False`` and a note), not as infeasible.
        """
        problems: list[Problem] = []
        coo, dense, cost_problems = _validate_cost(cost)
        problems += cost_problems
        n, m = coo.shape if coo is not None else (dense.shape if dense is not None and dense.ndim == 2 else (0, 0))
        if not np.isfinite(service_radius) or service_radius < 0:
            problems.append(Problem(f"Der Radius {service_radius} ist ungültig.", "Einen Radius ≥ 0 angeben."))
        rules = _rules(m, None, fixed, budget, site_cost, min_per_group, None, problems)
        raise_if_problems(problems, "Eingaben des Standortmodells (LSCP) sind ungültig")
        _check_feasible(rules)
        pairs = _pairs_from_cost(coo, dense, float(service_radius))
        return cls(pairs, np.ones(n), rules, time_limit, max_exact_size)

    @classmethod
    def from_geodataframes(cls, demand_gdf: gpd.GeoDataFrame, candidates_gdf: gpd.GeoDataFrame,
                           service_radius: float, *, fixed_col: str | None = None, cost_col: str | None = None,
                           budget: float | None = None, group_col: str | None = None,
                           min_per_group: int | Mapping[Any, int] | None = None, time_limit: float = 60.0,
                           max_exact_size: int = DEFAULT_MAX_EXACT_SIZE) -> LSCP:
        """Create an LSCP from GeoDataFrames (straight-line distance, metres).

        Notes
        -----
        Inputs must be in EPSG:25832; distances in metres.
        """
        _, cand_kwargs = _gdf_inputs(demand_gdf, candidates_gdf, None, fixed_col, cost_col, group_col,
                                     min_per_group, None, budget)
        cost = _euclidean(demand_gdf, candidates_gdf, float(service_radius))
        return cls.from_cost_matrix(cost, service_radius, time_limit=time_limit, max_exact_size=max_exact_size,
                                    **cand_kwargs)

    def _size(self) -> int:
        return int(self._a[np.flatnonzero(self._coverable & ~self._fixed_cov)].nnz)

    def _exact(self, t0: float, notes: list[str]) -> SitingResult | None:
        rules = self._rules
        m = self._pairs.m
        ak, _, _, _ = self._aggregate(self._coverable & ~self._fixed_cov)
        cons = [LinearConstraint(ak, 1.0, np.inf), *rules.rows(m)] if ak.shape[0] else rules.rows(m)
        lb = np.zeros(m)
        lb[rules.fixed] = 1.0
        res = _milp(np.ones(m), cons, np.ones(m), lb, np.ones(m), self._remaining(t0))
        if res.status == 2:
            raise _infeasible_from_solver(rules, "die abdeckbare Nachfrage lässt sich unter diesen Bedingungen "
                                                 "nicht vollständig abdecken.")
        if res.x is None:
            return None
        y = np.round(res.x) > 0.5
        objective = float(y.sum())
        bound = float(np.ceil(res.mip_dual_bound - 1e-6)) if res.mip_dual_bound is not None else objective
        return self._finish(t0, y, objective, min(bound, objective), "optimal" if res.status == 0 else "time_limit",
                            "highs-milp", notes)

    def _heuristic(self, t0: float, notes: list[str]) -> SitingResult:
        rules = self._rules
        ak, _, _, _ = self._aggregate(self._coverable & ~self._fixed_cov)
        akc = ak.tocsc()
        is_open = rules.fixed_mask.copy()
        cnt = np.zeros(ak.shape[0])
        order = list(rules.fixed.tolist())
        while (cnt == 0).any() or rules._deficit(is_open).any():
            allowed = rules.can_add(is_open)
            deficit = rules._deficit(is_open)
            if not (cnt == 0).any():  # everything covered: fill the group minimums
                in_def = np.zeros(rules.m, dtype=bool)
                g = rules.group >= 0
                in_def[g] = deficit[rules.group[g]] > 0
                allowed &= in_def
            gain = akc.T @ (cnt == 0).astype(float)
            if rules.budget is not None:
                gain = gain / np.maximum(rules.site_cost, 1e-9)
            gain = np.where(allowed, gain, -np.inf)
            if not np.isfinite(gain).any() or ((cnt == 0).any() and gain.max() <= 0):
                raise InfeasibleError("Die Heuristik findet keine Auswahl, die alle abdeckbare Nachfrage unter den "
                                      f"Bedingungen ({rules.names()}) abdeckt.")
            j = int(np.argmax(gain))
            is_open[j] = True
            order.append(j)
            cnt += np.asarray(akc[:, [j]].toarray()).ravel()
        removed = False
        while True:  # drop redundant sites, the most expensive (then highest index) first
            out = np.setdiff1d(np.flatnonzero(is_open), rules.fixed)
            if out.size == 0:
                break
            needed = np.asarray(akc[:, out].T @ (cnt == 1).astype(float)).ravel() > 0
            gs = rules.group[out]
            count = np.bincount(rules.group[is_open & (rules.group >= 0)], minlength=rules.group_min.size)
            tight = np.zeros(out.size, dtype=bool)
            tight[gs >= 0] = count[gs[gs >= 0]] - 1 < rules.group_min[gs[gs >= 0]]
            free = np.flatnonzero(~needed & ~tight)
            if free.size == 0:
                break
            s = out[free[np.lexsort((out[free], rules.site_cost[out[free]]))[-1]]]
            is_open[s] = False
            cnt -= np.asarray(akc[:, [s]].toarray()).ravel()
            removed = True
        objective = float(is_open.sum())
        m = rules.m
        lb = np.zeros(m)
        lb[rules.fixed] = 1.0
        cons = [LinearConstraint(ak, 1.0, np.inf), *rules.rows(m)] if ak.shape[0] else rules.rows(m)
        res = _milp(np.ones(m), cons, np.zeros(m), lb, np.ones(m), max(self._remaining(t0), 5.0))
        bound = float(np.ceil(res.fun - 1e-6)) if res.status == 0 else float(rules.fixed.size)
        final_order = None if removed else np.array(order, dtype=np.int64)
        return self._finish(t0, is_open, objective, min(bound, objective), "heuristic", "greedy+swap", notes,
                            order=final_order)


# --------------------------------------------------------------------------- p-median


@dataclass
class _Nearest:
    d1: FloatArray
    n1: IntArray
    d2: FloatArray


class PMedian(_SitingModel):
    """p-median: minimise the demand-weighted distance (or time) to the nearest open site.

    Examples
    --------
    >>> import numpy as np
    >>> cost = np.array([[0, 4, 8], [4, 0, 4], [8, 4, 0]], dtype=float)
    >>> res = PMedian.from_cost_matrix(cost, [1, 1, 1], p=1).solve()
    >>> res.selected.tolist(), res.objective, res.assignment.tolist()
    ([1], 8.0, [1, 1, 1])
    """

    model = "pmedian"

    def __init__(self, pairs: _Pairs, weights: FloatArray, rules: _Rules, time_limit: float,
                 max_exact_size: int, notes: Sequence[str] = ()) -> None:
        super().__init__(pairs, weights, rules, time_limit, max_exact_size, notes)
        self._ok = pairs.row_len > 0

    @classmethod
    def from_cost_matrix(cls, cost: CostLike, weights: ArrayLike, p: int, fixed: ArrayLike | None = None, *,
                         capacity: ArrayLike | float | None = None, budget: float | None = None,
                         site_cost: ArrayLike | None = None,
                         min_per_group: tuple[ArrayLike, int | Mapping[Any, int]] | None = None,
                         time_limit: float = 60.0, max_exact_size: int = DEFAULT_MAX_EXACT_SIZE) -> PMedian:
        """Create a p-median model from an ``n_demand × n_candidates`` cost matrix.

        Parameters
        ----------
        cost
            Dense (``inf`` = unreachable) or sparse (stored entries reachable,
            e.g. travel times up to a cut-off).
        weights
            Demand weight per row, ``≥ 0``.
        p
            Number of open sites, fixed ones included.
        fixed
            Candidate indices forced open (counting toward ``p``).
        capacity
            Demand weight each site can serve (scalar or per candidate);
            demand may then be split between sites.
        budget, site_cost, min_per_group, time_limit, max_exact_size
            As in :meth:`MCLP.from_cost_matrix`.

        Returns
        -------
        PMedian

        Notes
        -----
        Demand points without any reachable candidate are left out (assignment
        ``-1``, a note); every other point must be served by an open site it
        can reach, otherwise the request is infeasible.
        """
        problems: list[Problem] = []
        coo, dense, cost_problems = _validate_cost(cost)
        problems += cost_problems
        n, m = coo.shape if coo is not None else (dense.shape if dense is not None and dense.ndim == 2 else (0, 0))
        w = _validate_weights(weights, n, problems)
        rules = _rules(m, p, fixed, budget, site_cost, min_per_group, capacity, problems)
        raise_if_problems(problems, "Eingaben des Standortmodells (p-Median) sind ungültig")
        pairs = _pairs_from_cost(coo, dense, np.inf)
        ok = pairs.row_len > 0
        _check_feasible(rules, float(w[ok].sum()))
        notes = []
        if (~ok).any():
            notes.append(f"{int((~ok).sum())} Nachfragepunkt(e) ohne erreichbaren Kandidaten bleiben "
                         "unberücksichtigt.")
        return cls(pairs, w, rules, time_limit, max_exact_size, notes)

    @classmethod
    def from_geodataframes(cls, demand_gdf: gpd.GeoDataFrame, candidates_gdf: gpd.GeoDataFrame, weights_col: str,
                           p: int, *, max_distance: float | None = None, fixed_col: str | None = None,
                           cost_col: str | None = None, budget: float | None = None, group_col: str | None = None,
                           min_per_group: int | Mapping[Any, int] | None = None, capacity_col: str | None = None,
                           time_limit: float = 60.0, max_exact_size: int = DEFAULT_MAX_EXACT_SIZE) -> PMedian:
        """Create a p-median model from GeoDataFrames (straight-line distance, metres).

        ``max_distance`` (metres) makes the cost matrix sparse: farther pairs
        are unreachable.

        Notes
        -----
        Inputs must be in EPSG:25832; distances in metres.
        """
        w, cand_kwargs = _gdf_inputs(demand_gdf, candidates_gdf, weights_col, fixed_col, cost_col, group_col,
                                     min_per_group, capacity_col, budget)
        cost = _euclidean(demand_gdf, candidates_gdf, max_distance)
        return cls.from_cost_matrix(cost, w, p, time_limit=time_limit, max_exact_size=max_exact_size,
                                    **cand_kwargs)

    def _size(self) -> int:
        return int(self._pairs.indices.size * (3 if self._rules.capacity is not None else 1))

    # ---- evaluation helpers (vectorised over the cost-sorted pairs)
    def _nearest(self, is_open: BoolArray) -> _Nearest:
        pr = self._pairs
        o = is_open[pr.indices]
        rows = pr.rows
        rank = np.cumsum(o)
        start = np.r_[0, rank][pr.indptr[:-1]]
        rank = rank - np.repeat(start, pr.row_len)
        d1 = np.full(pr.n, np.inf)
        d2 = np.full(pr.n, np.inf)
        n1 = np.full(pr.n, -1, dtype=np.int64)
        first = o & (rank == 1)
        second = o & (rank == 2)
        d1[rows[first]] = pr.cost[first]
        n1[rows[first]] = pr.indices[first]
        d2[rows[second]] = pr.cost[second]
        return _Nearest(d1, n1, d2)

    def _value(self, is_open: BoolArray) -> tuple[float, _Nearest]:
        nr = self._nearest(is_open)
        ok = self._ok
        if np.isinf(nr.d1[ok]).any():
            return np.inf, nr
        return float((self._weights[ok] * nr.d1[ok]).sum()), nr

    def _greedy(self, is_open: BoolArray, t0: float) -> tuple[BoolArray, list[int]]:
        rules = self._rules
        pr = self._pairs
        rows = pr.rows
        w = self._weights[rows]
        order = list(rules.fixed.tolist())
        assert rules.p is not None
        while int(is_open.sum()) < rules.p:
            nr = self._nearest(is_open)
            d1 = nr.d1[rows]
            unassigned = np.isinf(d1)
            primary = np.bincount(pr.indices, weights=np.where(unassigned, w, 0.0), minlength=pr.m)
            secondary = np.bincount(pr.indices, weights=np.where(unassigned, 0.0,
                                                                 w * np.maximum(d1 - pr.cost, 0.0)), minlength=pr.m)
            allowed = np.flatnonzero(rules.can_add(is_open))
            if allowed.size == 0:
                raise InfeasibleError("Die Heuristik findet keine zulässige Auswahl unter den Bedingungen "
                                      f"({rules.names()}).")
            j = int(allowed[np.lexsort((-allowed, secondary[allowed], primary[allowed]))[-1]])
            is_open[j] = True
            order.append(j)
        return is_open, order

    def _swap(self, is_open: BoolArray, t0: float, deadline: float) -> tuple[BoolArray, bool]:
        """Best-improvement swap search (Whitaker / Resende–Werneck gain formula, vectorised)."""
        rules = self._rules
        pr = self._pairs
        rows = pr.rows
        wr = self._weights[rows]
        swapped = False
        assert rules.p is not None
        for _ in range(50 * rules.p):
            if time.perf_counter() - t0 > deadline:
                break
            value, nr = self._value(is_open)
            if not np.isfinite(value):
                break
            out = np.flatnonzero(is_open)
            pos = np.full(pr.m, -1, dtype=np.int64)
            pos[out] = np.arange(out.size)
            d1, d2, n1 = nr.d1[rows], nr.d2[rows], nr.n1[rows]
            valid = self._ok[rows]
            a = np.where(valid, wr * np.maximum(d1 - pr.cost, 0.0), 0.0)
            gain_add = np.bincount(pr.indices, weights=a, minlength=pr.m)
            fin2 = np.isfinite(nr.d2)
            w_ok = self._weights * self._ok
            s_of = np.where(self._ok, pos[np.maximum(nr.n1, 0)], -1)
            lost = fin2 & (s_of >= 0)
            loss = np.bincount(s_of[lost], weights=w_ok[lost] * (nr.d1[lost] - nr.d2[lost]), minlength=out.size)
            b = np.where(np.isfinite(d2), wr * np.maximum(d2 - pr.cost, 0.0), wr * (d1 - pr.cost))
            sel = valid & (n1 >= 0)
            q = sp.coo_array(((b - a)[sel], (pos[n1[sel]], pr.indices[sel])), shape=(out.size, pr.m)).toarray()
            delta = gain_add[None, :] + loss[:, None] + q
            # closing s must leave every demand point whose only open site is s a reachable alternative j
            lone = self._ok & ~fin2 & (s_of >= 0)
            if lone.any():
                f_s = np.bincount(s_of[lone], minlength=out.size)
                lone_e = lone[rows]
                h = sp.coo_array((np.ones(int(lone_e.sum())), (pos[n1[lone_e]], pr.indices[lone_e])),
                                 shape=(out.size, pr.m)).toarray()
                delta = np.where(h < f_s[:, None], -np.inf, delta)
            delta = np.where(rules.can_swap(is_open, out), delta, -np.inf)
            s, j = (int(v) for v in np.unravel_index(int(np.argmax(delta)), delta.shape))
            if not delta[s, j] > 1e-9 * max(value, 1.0):
                break
            is_open[out[s]] = False
            is_open[j] = True
            swapped = True
        return is_open, swapped

    def _round(self, score: FloatArray) -> BoolArray:
        """Open the fixed sites, then the admissible candidates with the highest ``score`` (LP values)."""
        rules = self._rules
        is_open = rules.fixed_mask.copy()
        assert rules.p is not None
        while int(is_open.sum()) < rules.p:
            allowed = rules.can_add(is_open)
            if not allowed.any():
                raise InfeasibleError("Die Rundung der LP-Lösung findet keine zulässige Auswahl.")
            is_open[int(np.argmax(np.where(allowed, score, -np.inf)))] = True
        return is_open

    def _local_search(self, t0: float, deadline: float) -> tuple[BoolArray, list[int], bool]:
        is_open, order = self._greedy(self._rules.fixed_mask.copy(), t0)
        is_open, swapped = self._swap(is_open, t0, deadline)
        return is_open, order, swapped

    def _order(self, selected: IntArray) -> IntArray:
        """Fixed sites first, then the others by greedy marginal cost reduction among the selected."""
        fixed = self._rules.fixed
        rest = np.setdiff1d(selected, fixed)
        pr = self._pairs
        is_open = self._rules.fixed_mask.copy()
        picked: list[int] = []
        rows = pr.rows
        w = self._weights[rows]
        in_rest = np.zeros(pr.m, dtype=bool)
        in_rest[rest] = True
        for _ in range(rest.size):
            d1 = self._nearest(is_open).d1[rows]
            unassigned = np.isinf(d1)
            primary = np.bincount(pr.indices, weights=np.where(unassigned, w, 0.0), minlength=pr.m)
            secondary = np.bincount(pr.indices, weights=np.where(unassigned, 0.0, w * np.maximum(d1 - pr.cost, 0)),
                                    minlength=pr.m)
            cand = np.flatnonzero(in_rest & ~is_open)
            j = int(cand[np.lexsort((-cand, secondary[cand], primary[cand]))[-1]])
            is_open[j] = True
            picked.append(j)
        return np.concatenate([fixed, np.array(picked, dtype=np.int64)])

    def _finish(self, t0: float, is_open: BoolArray, objective: float, bound: float, status: str, method: str,
                notes: list[str], order: IntArray | None = None, assignment: IntArray | None = None
                ) -> SitingResult:
        selected = np.flatnonzero(is_open)
        if assignment is None:
            assignment = np.where(self._ok, self._nearest(is_open).n1, -1)
        if order is None:
            order = self._order(selected)
        return SitingResult(self.model, selected, float(objective), float(bound), _gap(objective, bound), status,
                            time.perf_counter() - t0, method, assignment, None, order, tuple(notes))

    # ---- Benders cutting planes
    def _cuts(self, y: FloatArray, theta: FloatArray | None, tol: float = 1e-7) -> tuple[sp.csr_array, FloatArray]:
        """Cuts ``θ_i + Σ_j (D_i - c_ij)⁺ y_j ≥ D_i`` at the critical distance ``D_i`` of each demand point.

        ``D_i`` is the cost of the first pair (in cost order) at which the
        cumulated ``y`` of row ``i`` reaches 1. With ``theta`` given, only
        violated cuts are returned. Columns: ``y`` (m) then ``θ`` (one per
        assignable demand point).
        """
        pr = self._pairs
        ok_rows = np.flatnonzero(self._ok)
        col_of = np.full(pr.n, -1, dtype=np.int64)
        col_of[ok_rows] = np.arange(ok_rows.size)
        ye = y[pr.indices]
        cum = np.cumsum(ye)
        start = np.r_[0.0, cum][pr.indptr[:-1]]
        rowcum = cum - np.repeat(start, pr.row_len)
        reached = rowcum >= 1 - 1e-9
        # position of the first "reached" entry per row (rows that never reach 1: last entry)
        rows = pr.rows
        big = np.where(reached, np.arange(rows.size), np.iinfo(np.int64).max)
        first = np.minimum.reduceat(big, pr.indptr[:-1][self._ok]) if ok_rows.size else np.zeros(0, np.int64)
        last = pr.indptr[1:][self._ok] - 1
        crit = np.where(first == np.iinfo(np.int64).max, last, first)
        dk = np.full(pr.n, np.nan)
        dk[ok_rows] = pr.cost[crit]
        de = dk[rows]
        coef = np.where(de > pr.cost, de - pr.cost, 0.0)
        rhs_val = dk.copy()
        viol_rows = ok_rows
        if theta is not None:
            val = dk - np.bincount(rows, weights=coef * ye, minlength=pr.n)
            th = np.full(pr.n, np.inf)
            th[ok_rows] = theta
            v = th < val - tol * np.maximum(1.0, np.abs(val))
            viol_rows = np.flatnonzero(v & self._ok)
        sel_e = np.zeros(pr.n, dtype=bool)
        sel_e[viol_rows] = True
        e_mask = sel_e[rows] & (coef > 0)
        r_of = np.full(pr.n, -1, dtype=np.int64)
        r_of[viol_rows] = np.arange(viol_rows.size)
        m = pr.m
        data = np.r_[coef[e_mask], np.ones(viol_rows.size)]
        ri = np.r_[r_of[rows[e_mask]], np.arange(viol_rows.size)]
        ci = np.r_[pr.indices[e_mask], m + col_of[viol_rows]]
        a = sp.csr_array((data, (ri, ci)), shape=(viol_rows.size, m + ok_rows.size))
        return a, rhs_val[viol_rows]

    def _master_lp(self, cuts: list[tuple[sp.csr_array, FloatArray]], lb: FloatArray, ub: FloatArray,
                   extra: list[LinearConstraint], c: FloatArray, time_limit: float) -> Any:
        from scipy.optimize import linprog

        a = sp.vstack([x[0] for x in cuts], format="csr")
        rhs = np.concatenate([x[1] for x in cuts])
        a_ub, b_ub, a_eq, b_eq = _split_constraints([LinearConstraint(a, rhs, np.inf), *extra])
        return linprog(c, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=b_eq, bounds=np.column_stack([lb, ub]),
                       method="highs-ipm", options={"time_limit": max(time_limit, 0.01), "disp": False})

    def _benders(self, t0: float, notes: list[str], lp_only: bool = False,
                 incumbent: tuple[BoolArray, float] | None = None) -> SitingResult | float | None:
        rules = self._rules
        pr = self._pairs
        m = pr.m
        ok_rows = np.flatnonzero(self._ok)
        nd = ok_rows.size
        nv = m + nd
        c = np.concatenate([np.zeros(m), self._weights[ok_rows]])
        lb = np.zeros(nv)
        lb[rules.fixed] = 1.0
        lb[m:] = pr.cost[pr.indptr[:-1][self._ok]]
        ub = np.r_[np.ones(m), np.full(nd, np.inf)]
        extra = rules.rows(nv)
        # feasibility: every demand point needs a reachable open site (only rows not reaching all candidates)
        partial = self._ok & (pr.row_len < m)
        if rules.fixed.size:
            partial &= ~np.isfinite(self._nearest(rules.fixed_mask).d1)
        if partial.any():
            reach = pr.pattern()[np.flatnonzero(partial)]
            uniq, _ = _unique_rows(reach)
            extra.append(LinearConstraint(sp.hstack([uniq, sp.csr_array((uniq.shape[0], nd))], format="csr"),
                                          1.0, np.inf))
        if incumbent is None:
            try:
                best_open, _, _ = self._local_search(t0, self.time_limit / 4)
                best_val = self._value(best_open)[0]
            except InfeasibleError:
                best_open, best_val = rules.fixed_mask.copy(), np.inf
        else:
            best_open, best_val = incumbent
        cuts: list[tuple[sp.csr_array, FloatArray]] = []
        y0 = np.full(m, (rules.p or 1) / m)
        cuts.append(self._cuts(y0, None))
        if np.isfinite(best_val):
            cuts.append(self._cuts(best_open.astype(float), None))
        lower = -np.inf
        res = None
        for _ in range(200):  # cutting-plane loop on the LP relaxation
            res = self._master_lp(cuts, lb, ub, extra, c, self._remaining(t0))
            if res.status == 2:
                raise _infeasible_from_solver(rules, "nicht jede Nachfrage kann von einem erreichbaren offenen "
                                                     "Standort bedient werden.")
            if res.status != 0:
                break
            lower = max(lower, float(res.fun))
            y_lp, th = res.x[:m], res.x[m:]
            new = self._cuts(y_lp, th)
            if new[0].shape[0] == 0:
                break
            # keep binding cuts only, add the new ones (and in-out cuts towards the incumbent)
            slack = res.ineqlin.residual[: sum(x[0].shape[0] for x in cuts)]
            stacked = sp.vstack([x[0] for x in cuts], format="csr")
            rhs = np.concatenate([x[1] for x in cuts])
            keep = np.flatnonzero(slack <= 1e-6 * np.maximum(1.0, np.abs(rhs)))
            cuts = [(stacked[keep], rhs[keep]), new]
            if np.isfinite(best_val):
                cuts.append(self._cuts(0.5 * (y_lp + best_open), None))
            if time.perf_counter() - t0 > self.time_limit:
                break
        if lp_only:
            return lower
        if res is None or res.status != 0:
            return None
        # round the (nearly integral) LP solution and improve it by swaps: usually a much better incumbent
        try:
            lp_open = self._round(res.x[:m])
            lp_open, _ = self._swap(lp_open, t0, self.time_limit / 2)
            lp_val = self._value(lp_open)[0]
            if lp_val < best_val:
                best_open, best_val = lp_open, lp_val
        except InfeasibleError:
            pass
        if not np.isfinite(best_val):
            return None
        cuts.append(self._cuts(best_open.astype(float), None))
        # reduced-cost fixing against the incumbent
        rc_lo = res.lower.marginals[:m]
        rc_hi = res.upper.marginals[:m]
        tol = 1e-7 * max(1.0, abs(best_val))
        fix0 = (lower + rc_lo > best_val + tol) & (lb[:m] == 0)
        fix1 = (lower - rc_hi > best_val + tol)
        ub[:m][fix0] = 0.0
        lb[:m][fix1] = 1.0
        log.info("p-Median: LP-Schranke %.6g, Startlösung %.6g, %d Kandidaten per reduzierter Kosten fixiert, "
                 "%d Schnitte", lower, best_val, int(fix0.sum() + fix1.sum()), sum(x[0].shape[0] for x in cuts))
        integ = np.r_[np.ones(m), np.zeros(nd)]
        status = "optimal"
        bound = lower
        stacked = sp.vstack([x[0] for x in cuts], format="csr")
        rhs = np.concatenate([x[1] for x in cuts])
        for _ in range(100):  # re-solve the master MIP with cuts at its integer solutions
            cons = [LinearConstraint(stacked, rhs, np.inf), *extra]
            mres = _milp(c, cons, integ, lb, ub, self._remaining(t0))
            if mres.status == 2:  # everything better than the incumbent was fixed away
                bound = best_val
                break
            if mres.x is None:
                status = "time_limit"
                break
            y = np.round(mres.x[:m]) > 0.5
            val = self._value(y)[0]
            if val < best_val:
                best_open, best_val = y, val
            bound = max(bound, float(mres.mip_dual_bound))
            if mres.status != 0:
                status = "time_limit"
                break
            if best_val <= mres.fun + 1e-9 * max(1.0, abs(best_val)):
                bound = max(bound, float(mres.fun))
                break
            new = self._cuts(y.astype(float), mres.x[m:])
            stacked = sp.vstack([stacked, new[0]], format="csr")
            rhs = np.concatenate([rhs, new[1]])
        bound = min(bound, best_val)
        return self._finish(t0, best_open, best_val, bound, status, "highs-milp", notes)

    def _exact(self, t0: float, notes: list[str]) -> SitingResult | None:
        if self._rules.capacity is not None:
            return self._exact_capacitated(t0, notes)
        out = self._benders(t0, notes)
        assert out is None or isinstance(out, SitingResult)
        return out

    def _exact_capacitated(self, t0: float, notes: list[str]) -> SitingResult | None:
        rules = self._rules
        assert rules.capacity is not None
        pr = self._pairs
        m = pr.m
        ok_rows = np.flatnonzero(self._ok)
        row_code = np.full(pr.n, -1, dtype=np.int64)
        row_code[ok_rows] = np.arange(ok_rows.size)
        rows = pr.rows
        e = pr.indices.size
        nv = m + e
        ar = np.arange(e)
        we = self._weights[rows]
        assign = sp.csr_array((np.ones(e), (row_code[rows], m + ar)), shape=(ok_rows.size, nv))
        link = sp.csr_array((np.r_[np.ones(e), -np.ones(e)], (np.r_[ar, ar], np.r_[m + ar, pr.indices])),
                            shape=(e, nv))
        capr = sp.csr_array((np.r_[we, -rules.capacity],
                             (np.r_[pr.indices, np.arange(m)], np.r_[m + ar, np.arange(m)])), shape=(m, nv))
        cons = [LinearConstraint(assign, 1.0, 1.0), LinearConstraint(link, -np.inf, 0.0),
                LinearConstraint(capr, -np.inf, 0.0), *rules.rows(nv)]
        lb = np.zeros(nv)
        lb[rules.fixed] = 1.0
        res = _milp(np.r_[np.zeros(m), we * pr.cost], cons, np.r_[np.ones(m), np.zeros(e)], lb, np.ones(nv),
                    self._remaining(t0))
        if res.status == 2:
            raise _infeasible_from_solver(rules, "die Kapazitäten der erreichbaren Standorte reichen nicht für die "
                                                 "Nachfrage.")
        if res.x is None:
            return None
        y = np.round(res.x[:m]) > 0.5
        x = res.x[m:]
        share = sp.csr_array((x, (rows, pr.indices)), shape=(pr.n, m))
        assignment = np.where(self._ok, np.asarray(share.argmax(axis=1)).ravel(), -1)
        notes.append("Mit Kapazitäten kann die Nachfrage eines Punktes auf mehrere Standorte aufgeteilt werden.")
        objective = float(res.fun)
        bound = min(float(res.mip_dual_bound), objective)
        return self._finish(t0, y, objective, bound, "optimal" if res.status == 0 else "time_limit", "highs-milp",
                            notes, assignment=assignment)

    def _heuristic(self, t0: float, notes: list[str]) -> SitingResult:
        is_open, order, swapped = self._local_search(t0, self.time_limit)
        value = self._value(is_open)[0]
        if not np.isfinite(value):
            raise InfeasibleError("Die Heuristik findet keine Auswahl, bei der jede Nachfrage einen erreichbaren "
                                  f"Standort hat ({self._rules.names()}). Bitte p oder die Reichweite erhöhen.")
        # the LP bound gets the remaining time, but at least 10 s
        t_lp = time.perf_counter() - (self.time_limit - max(self._remaining(t0), 10.0))
        lower = self._benders(t_lp, notes, lp_only=True, incumbent=(is_open, value))
        bound = float(lower) if isinstance(lower, float) and np.isfinite(lower) else 0.0
        return self._finish(t0, is_open, value, min(bound, value), "heuristic", "greedy+swap", notes,
                            order=None if swapped else np.array(order, dtype=np.int64))


# --------------------------------------------------------------------------- GeoDataFrame inputs


def _points_xy(gdf: gpd.GeoDataFrame, what: str) -> FloatArray:
    ensure_projected(gdf, what)
    geom = gdf.geometry
    problems = []
    empty = geom.isna() | geom.is_empty
    if empty.any():
        rows = (np.flatnonzero(empty.to_numpy()) + 1).tolist()[:10]
        problems.append(Problem(f"{int(empty.sum())} Objekt(e) ohne Geometrie (Zeilen {rows}).",
                                "Objekte ohne Koordinaten vorher entfernen.", file=what))
    raise_if_problems(problems, f"{what} ist ungültig")
    pts = geom.where(geom.geom_type == "Point", geom.representative_point())
    return np.column_stack([pts.x.to_numpy(), pts.y.to_numpy()])


def _euclidean(demand_gdf: gpd.GeoDataFrame, candidates_gdf: gpd.GeoDataFrame,
               max_distance: float | None) -> sp.csr_array | FloatArray:
    """Straight-line distances in metres: sparse up to ``max_distance`` (explicit zeros kept), else dense."""
    a = _points_xy(demand_gdf, "Nachfrage")
    b = _points_xy(candidates_gdf, "Kandidaten")
    if max_distance is None:
        return np.sqrt(((a[:, None, :] - b[None, :, :]) ** 2).sum(axis=-1))
    rec = cKDTree(a).sparse_distance_matrix(cKDTree(b), max_distance, output_type="ndarray")
    return sp.csr_array((rec["v"], (rec["i"], rec["j"])), shape=(len(a), len(b)))


def _gdf_inputs(demand_gdf: gpd.GeoDataFrame, candidates_gdf: gpd.GeoDataFrame, weights_col: str | None,
                fixed_col: str | None, cost_col: str | None, group_col: str | None,
                min_per_group: int | Mapping[Any, int] | None, capacity_col: str | None,
                budget: float | None) -> tuple[FloatArray, dict[str, Any]]:
    """Read weight and candidate columns, collecting every problem (German, naming the column)."""
    problems: list[Problem] = []

    def column(gdf: gpd.GeoDataFrame, col: str, what: str) -> pd.Series | None:
        if col not in gdf.columns:
            problems.append(Problem(f"Spalte fehlt (vorhanden: {', '.join(map(str, gdf.columns[:15]))}).",
                                    "Spaltennamen prüfen.", file=what, column=col))
            return None
        return gdf[col]

    def numeric(s: pd.Series | None, col: str, what: str) -> FloatArray | None:
        if s is None:
            return None
        v = pd.to_numeric(s, errors="coerce").to_numpy(dtype=float)
        bad = ~np.isfinite(v) | (v < 0)
        if bad.any():
            rows = (np.flatnonzero(bad) + 1).tolist()[:10]
            problems.append(Problem(f"{int(bad.sum())} Wert(e) fehlen, sind keine Zahl oder negativ (Zeilen {rows}).",
                                    "Zahlen ≥ 0 eintragen.", file=what, column=col))
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
            problems.append(Problem("Eine Mindestanzahl je Gruppe braucht eine Gruppenspalte (group_col).",
                                    file="Kandidaten"))
        else:
            s = column(candidates_gdf, group_col, "Kandidaten")
            if s is not None:
                kwargs["min_per_group"] = (s.to_numpy(dtype=object), min_per_group)
    if capacity_col is not None:
        kwargs["capacity"] = numeric(column(candidates_gdf, capacity_col, "Kandidaten"), capacity_col, "Kandidaten")
    raise_if_problems(problems, "Eingaben des Standortmodells sind ungültig")
    return w, kwargs


__all__ = [
    "DEFAULT_MAX_EXACT_SIZE",
    "LSCP",
    "MCLP",
    "MODEL_LABELS",
    "STATUS_LABELS",
    "PMedian",
    "SitingResult",
]
