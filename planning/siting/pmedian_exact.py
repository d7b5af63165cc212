"""Exact p-median: a stabilised Benders LP phase and a radius-formulation MIP on the surviving candidates.

LP phase (Duran-Mateluna, Ales and Elloumi 2023)
    The LP relaxation ``min Σ_i w_i θ_i`` over ``Σ y = p`` (and the rules'
    rows) with Benders cuts ``θ_i + Σ_j (D - c_ij)⁺ y_j ≥ D`` is solved by
    cutting planes in one persistent HiGHS model (dual simplex, warm-started
    after every batch of cuts). Separation uses in-out stabilisation
    (Ben-Ameur and Neto 2007): cuts are taken at a point between the master
    solution and a core point, which moves towards the master solution. The
    loop stops by a *convergence criterion*, not a round cap: the exact LP
    value ``F(y)`` at every separation point is an upper bound of the LP
    optimum, the master objective a lower bound; the loop ends when both meet.
    Per demand point the cut at the critical distance and at its two
    neighbouring breakpoints are added (the structure of the radius
    formulation, García, Labbé and Marín 2011).
MIP phase
    Candidates are fixed by reduced costs against the incumbent (an open
    candidate whose forced closing, or a closed one whose forced opening,
    raises the LP bound above the incumbent). On the remaining candidates the
    radius formulation (García, Labbé and Marín 2011) is exact and small:
    per demand point one variable per distinct distance level of the
    surviving candidates, ``z_ik ≥ z_i,k-1 - Σ_{j at level k} y_j``. HiGHS
    solves it with the incumbent as start solution.

All costs are in the caller's unit (metres in EPSG:25832 or seconds).
"""

from __future__ import annotations

import heapq
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import highspy
import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray
from scipy.optimize import LinearConstraint

from planning.siting.highs import INF, add_rows, new_highs
from planning.siting.inputs import _Pairs
from planning.siting.result import BoolArray, FloatArray, IntArray

log = logging.getLogger(__name__)


@dataclass
class LPResult:
    """Outcome of the LP phase."""

    lower: float  # proven lower bound of the LP optimum (= of the p-median)
    upper: float  # best exact LP value found (F at a separation point)
    y: FloatArray  # master solution at the last solve
    reduced: FloatArray  # reduced cost of each y_j at the last solve
    converged: bool
    rounds: int
    cuts: int


class PMedianBenders:
    """Benders LP phase and radius MIP of the uncapacitated p-median on cost-sorted pairs.

    Parameters
    ----------
    pairs
        Reachable demand–candidate pairs (entries cost-sorted per row).
    weights
        Weight per demand row.
    ok
        Rows that have at least one reachable candidate (the others are ignored).
    extra
        Linear constraints on ``y`` (the rules: ``Σ y = p``, budget, groups,
        reachability) as ``LinearConstraint`` over ``m`` columns.
    lb_y, ub_y
        Bounds of ``y`` (fixed sites have ``lb = 1``).
    """

    def __init__(
        self,
        pairs: _Pairs,
        weights: FloatArray,
        ok: BoolArray,
        extra: list[LinearConstraint],
        lb_y: FloatArray,
        ub_y: FloatArray,
    ) -> None:
        self.pr = pairs
        self.ok_rows = np.flatnonzero(ok)
        keep = ok[pairs.rows]
        # compact copies restricted to the ok rows
        self.rows = np.repeat(np.arange(self.ok_rows.size), pairs.row_len[ok])
        self.idx = pairs.indices[keep]
        self.cost = pairs.cost[keep]
        self.indptr = np.r_[0, np.cumsum(pairs.row_len[ok])].astype(np.int64)
        self.nd = self.ok_rows.size
        self.m = pairs.m
        self.w = weights[self.ok_rows]
        self.extra = extra
        self.lb_y = lb_y.astype(float).copy()
        self.ub_y = ub_y.astype(float).copy()
        self.row_len = np.diff(self.indptr)
        self._len = 16
        self._pref: tuple[IntArray, FloatArray] | None = None

    # ---------------------------------------------------------------- separation
    def _prefix(self, length: int) -> tuple[IntArray, FloatArray]:
        """The first ``length`` entries of every row as padded ``nd × length`` arrays (candidate, cost).

        Padding points at a dummy candidate ``m`` (``y = 0``) with cost ``inf``.
        """
        if self._pref is not None and self._pref[0].shape[1] == length:
            return self._pref
        k = np.arange(length)
        valid = k[None, :] < self.row_len[:, None]
        pos = np.where(valid, self.indptr[:-1, None] + k[None, :], 0)
        idx = np.where(valid, self.idx[pos], self.m)
        cost = np.where(valid, self.cost[pos], np.inf)
        self._pref = (idx, cost)
        return self._pref

    def _critical(self, y: FloatArray) -> tuple[IntArray, FloatArray, FloatArray]:
        """Per row: position (within the row) of the critical distance, that distance ``D_i`` and ``f_i(y)``.

        ``D_i`` is the first cost at which the cumulated ``y`` of row ``i``
        (in cost order) reaches 1, and ``f_i(y) = D_i - Σ_j (D_i - c_ij)⁺ y_j``
        the exact LP assignment cost. Only a prefix of each row is scanned;
        it doubles until every row reaches 1 (or is complete).
        """
        yext = np.r_[y, 0.0]
        max_len = int(self.row_len.max()) if self.nd else 0
        length = min(self._len, max_len)
        while True:
            pidx, pcost = self._prefix(length)
            yy = yext[pidx]
            reached = np.cumsum(yy, axis=1) >= 1 - 1e-9
            has = reached.any(axis=1)
            if has.all() or length >= max_len:
                break
            length = min(2 * length, max_len)
        self._len = length
        pos = np.where(has, np.argmax(reached, axis=1), np.minimum(self.row_len, length) - 1)
        dist = pcost[np.arange(self.nd), pos]
        with np.errstate(invalid="ignore"):
            coef = np.where(pcost < dist[:, None], dist[:, None] - pcost, 0.0)
        val = dist - (coef * yy).sum(axis=1)
        return pos, dist, val

    def value(self, y: FloatArray) -> float:
        """Exact LP objective ``Σ_i w_i f_i(y)`` at a fractional ``y`` (an upper bound of the LP optimum)."""
        return float(self.w @ self._critical(y)[2])

    def _cut_rows(self, rows: IntArray, dist: FloatArray) -> sp.csr_array:
        """Cuts ``θ_i + Σ_j (D - c_ij)⁺ y_j ≥ D`` for the given rows and thresholds (columns: y, then θ)."""
        lens = self.row_len[rows]
        cut_id = np.repeat(np.arange(rows.size), lens)
        e = np.repeat(self.indptr[rows], lens) + np.arange(int(lens.sum())) - np.repeat(np.cumsum(lens) - lens, lens)
        coef = dist[cut_id] - self.cost[e]
        keep = coef > 0
        data = np.r_[coef[keep], np.ones(rows.size)]
        ri = np.r_[cut_id[keep], np.arange(rows.size)]
        ci = np.r_[self.idx[e[keep]], self.m + rows]
        return sp.csr_array((data, (ri, ci)), shape=(rows.size, self.m + self.nd))

    def _cut_rows_prefix(self, rows: IntArray, dist: FloatArray) -> sp.csr_array:
        pidx, pcost = self._prefix(self._len)
        with np.errstate(invalid="ignore"):
            coef = dist[:, None] - pcost[rows]
        cid, k = np.nonzero(coef > 0)
        data = np.r_[coef[cid, k], np.ones(rows.size)]
        ri = np.r_[cid, np.arange(rows.size)]
        ci = np.r_[pidx[rows[cid], k], self.m + rows]
        return sp.csr_array((data, (ri, ci)), shape=(rows.size, self.m + self.nd))

    def cuts_at(
        self, y: FloatArray, theta: FloatArray | None = None, neighbours: bool = True, tol: float = 1e-9
    ) -> tuple[sp.csr_array, FloatArray]:
        """Cuts at the critical distance of ``y`` (and at its neighbouring breakpoints).

        With ``theta`` only rows whose critical cut is violated by ``(y, θ)``
        get cuts.
        """
        pos, dcrit, val = self._critical(y)
        rows = np.arange(self.nd)
        if theta is not None:
            rows = np.flatnonzero(theta < val - tol * np.maximum(1.0, np.abs(val)))
        dist = [dcrit[rows]]
        rr = [rows]
        far = pos[rows]
        if neighbours and rows.size:
            c = pos[rows]
            start = self.indptr[rows]
            for q in (np.maximum(c - 1, 0), np.minimum(c + 1, self.row_len[rows] - 1)):
                d = self.cost[start + q]
                diff = d != dcrit[rows]
                rr.append(rows[diff])
                dist.append(d[diff])
                far = np.maximum(far, q)
        allrows = np.concatenate(rr)
        alldist = np.concatenate(dist)
        # entries with cost < D lie before the position of D: the prefix suffices when D is inside it
        if far.size == 0 or int(far.max()) < self._len:
            return self._cut_rows_prefix(allrows, alldist), alldist
        return self._cut_rows(allrows, alldist), alldist

    # ---------------------------------------------------------------- LP phase
    def solve_lp(self, incumbent: BoolArray | None, deadline: float, rel_tol: float = 1e-7) -> LPResult:
        """Solve the LP relaxation by stabilised cutting planes until the bounds meet (or the deadline)."""
        m, nd = self.m, self.nd
        h = new_highs(deadline - time.perf_counter())
        lb = np.r_[self.lb_y, self.cost[self.indptr[:-1]]]
        ub = np.r_[self.ub_y, np.full(nd, INF)]
        h.addCols(
            m + nd,
            np.r_[np.zeros(m), self.w],
            lb,
            ub,
            0,
            np.zeros(m + nd + 1, dtype=np.int32),
            np.zeros(0, dtype=np.int32),
            np.zeros(0),
        )
        for con in self.extra:
            a = sp.csr_array(con.A)
            a = sp.hstack([a, sp.csr_array((a.shape[0], nd))], format="csr")
            lo = np.broadcast_to(np.asarray(con.lb, dtype=float), (a.shape[0],))
            hi = np.broadcast_to(np.asarray(con.ub, dtype=float), (a.shape[0],))
            add_rows(h, a, lo, hi)
        n_extra = h.getNumRow()
        core = np.clip(np.full(m, self._p_hint() / max(m, 1)), self.lb_y, self.ub_y)
        self.pool: list[sp.csr_array] = []
        self.pool_rhs: list[FloatArray] = []

        def add(a: sp.csr_array, r: FloatArray) -> None:
            add_rows(h, a, r, np.full(r.size, np.inf))
            self.pool.append(a)
            self.pool_rhs.append(r)

        if incumbent is not None:
            core = 0.5 * core + 0.5 * incumbent.astype(float)
            add(*self.cuts_at(incumbent.astype(float), neighbours=True))
        add(*self.cuts_at(core, neighbours=True))
        upper = self.value(core) if incumbent is None else min(self.value(core), self.value(incumbent.astype(float)))
        lower = float(self.w @ self.cost[self.indptr[:-1]])  # everyone at the nearest candidate
        alpha = 0.3  # weight of the master solution in the separation point
        rounds = 0
        y = core
        reduced = np.zeros(m)
        x = np.r_[core, np.zeros(nd)]  # the master solution (root point for choosing binding cuts)
        converged = False
        while True:
            rounds += 1
            h.setOptionValue("time_limit", h.getRunTime() + max(deadline - time.perf_counter(), 0.01))
            h.run()
            st = h.getModelStatus()
            if st == highspy.HighsModelStatus.kInfeasible:
                raise _LPInfeasibleError
            if st != highspy.HighsModelStatus.kOptimal:
                break
            sol = h.getSolution()
            x = np.asarray(sol.col_value)
            y, theta = x[:m], x[m:]
            reduced = np.asarray(sol.col_dual)[:m]
            lower = max(lower, float(h.getInfo().objective_function_value))
            upper = min(upper, self.value(y))
            if upper - lower <= rel_tol * max(1.0, abs(upper)):
                converged = True
                break
            if time.perf_counter() > deadline:
                break
            sep = alpha * y + (1 - alpha) * core
            fs = self.value(sep)
            upper = min(upper, fs)
            a, r = self.cuts_at(sep, None, neighbours=True)
            # keep only cuts violated at the master solution
            viol = (a @ x) < r - 1e-9 * np.maximum(1.0, np.abs(r))
            if not viol.any():
                # mis-pricing: separate at the master solution itself
                a, r = self.cuts_at(y, theta, neighbours=True)
                viol = (a @ x) < r - 1e-9 * np.maximum(1.0, np.abs(r))
                if not viol.any():
                    converged = True  # no violated cut: the master solution is LP-optimal
                    upper = min(upper, lower)
                    break
                alpha = min(1.0, alpha + 0.2)
            core = sep
            keep = np.flatnonzero(viol)
            add(a[keep], r[keep])
        self.x_root = x
        return LPResult(lower, upper, y, reduced, converged, rounds, h.getNumRow() - n_extra)

    def restricted(self, active: BoolArray, lo: FloatArray, hi: FloatArray) -> highspy.Highs:
        """A new LP over the ``active`` candidates (the others closed) with the root's binding cuts."""
        m, nd = self.m, self.nd
        act = np.flatnonzero(active)
        colsel = np.r_[act, m + np.arange(nd)]
        h = new_highs(1e9)
        lb = np.r_[lo[act], self.cost[self.indptr[:-1]]]
        ub = np.r_[hi[act], np.full(nd, INF)]
        h.addCols(
            colsel.size,
            np.r_[np.zeros(act.size), self.w],
            lb,
            ub,
            0,
            np.zeros(colsel.size + 1, dtype=np.int32),
            np.zeros(0, dtype=np.int32),
            np.zeros(0),
        )
        for con in self.extra:
            a = sp.csr_array(con.A)[:, act]
            a = sp.hstack([a, sp.csr_array((a.shape[0], nd))], format="csr")
            add_rows(
                h,
                a,
                np.broadcast_to(np.asarray(con.lb, dtype=float), (a.shape[0],)),
                np.broadcast_to(np.asarray(con.ub, dtype=float), (a.shape[0],)),
            )
        if self.pool:
            a = sp.vstack(self.pool, format="csr")
            r = np.concatenate(self.pool_rhs)
            binding = a @ self.x_root <= r + 1e-6 * np.maximum(1.0, np.abs(r))
            add_rows(h, a[np.flatnonzero(binding)][:, colsel], r[binding], np.full(int(binding.sum()), np.inf))
        return h

    def _p_hint(self) -> float:
        for con in self.extra:
            a = sp.csr_array(con.A)
            lo = np.broadcast_to(np.asarray(con.lb, dtype=float), (a.shape[0],))
            hi = np.broadcast_to(np.asarray(con.ub, dtype=float), (a.shape[0],))
            for k in range(a.shape[0]):
                if (
                    lo[k] == hi[k]
                    and a.indices[a.indptr[k] : a.indptr[k + 1]].size == self.m
                    and np.all(a.data[a.indptr[k] : a.indptr[k + 1]] == 1.0)
                ):
                    return float(lo[k])
        return 1.0


class _LPInfeasibleError(Exception):
    """The master LP has no solution (the rules and reachability cannot be met)."""


@dataclass
class BranchResult:
    """Outcome of the branch-and-cut phase."""

    best: BoolArray
    value: float
    bound: float
    proven: bool
    nodes: int


def branch_and_cut(
    b: PMedianBenders,
    lower_root: float,
    best: BoolArray,
    best_val: float,
    fix0: BoolArray,
    fix1: BoolArray,
    deadline: float,
    heuristic: Callable[[FloatArray], tuple[BoolArray, float]],
    integral: bool,
) -> BranchResult:
    """Best-first branch-and-Benders-cut (with plunging) over the candidates not fixed to 0.

    The LP holds the root's binding cuts restricted to the surviving
    candidates (:meth:`PMedianBenders.restricted`). Every node re-optimises
    it warm-started with the node's bounds and adds Benders cuts (globally
    valid) at the node's LP solution until none is violated; a node is
    pruned when its bound cannot beat the incumbent (with integral data:
    cannot beat it by 1). Reduced costs fix further candidates per subtree;
    LP solutions are rounded and improved by ``heuristic``.
    """
    m, nd = b.m, b.nd
    active = ~fix0
    act = np.flatnonzero(active)
    ma = act.size
    colsel = np.r_[act, m + np.arange(nd)]
    base_lo = np.where(fix1, 1.0, b.lb_y)[act]
    base_hi = np.where(fix0, 0.0, b.ub_y)[act]
    h = b.restricted(active, np.where(fix1, 1.0, b.lb_y), np.where(fix0, 0.0, b.ub_y))
    cols = np.arange(ma, dtype=np.int32)

    def prune_level(ub: float) -> float:
        return ub - (1.0 - 1e-6) if integral else ub - 1e-9 * max(1.0, abs(ub))

    Node = tuple[float, int, int, tuple[tuple[int, float], ...]]  # bound, tie-break, depth, fixings
    heap: list[Node] = [(lower_root, 0, 0, ())]
    counter = 1
    nodes = 0
    timed_out = False
    y_full = np.zeros(m)
    dive: Node | None = None  # the child processed next (plunging keeps the warm start close)
    while heap or dive is not None:
        if dive is not None:
            node, dive = dive, None
        else:
            node = heapq.heappop(heap)
        bnd, _, depth, br = node
        if bnd >= prune_level(best_val):
            continue
        if time.perf_counter() > deadline:
            heapq.heappush(heap, node)
            timed_out = True
            break
        nodes += 1
        lo, hi = base_lo.copy(), base_hi.copy()
        for j, v in br:
            lo[j] = hi[j] = v
        h.changeColsBounds(ma, cols, lo, hi)
        node_bound, y = bnd, None
        pruned = False
        while True:
            h.setOptionValue("time_limit", h.getRunTime() + max(deadline - time.perf_counter(), 0.01))
            h.run()
            st = h.getModelStatus()
            if st == highspy.HighsModelStatus.kInfeasible:
                pruned = True
                break
            if st != highspy.HighsModelStatus.kOptimal:
                timed_out = True
                break
            node_bound = max(node_bound, float(h.getInfo().objective_function_value))
            if node_bound >= prune_level(best_val):
                pruned = True
                break
            x = np.asarray(h.getSolution().col_value)
            y = x[:ma]
            y_full[act] = y
            a, r = b.cuts_at(y_full, x[ma:], neighbours=True)
            a = a[:, colsel]
            viol = (a @ x) < r - 1e-9 * np.maximum(1.0, np.abs(r))
            if not viol.any():
                break
            keep = np.flatnonzero(viol)
            add_rows(h, a[keep], r[keep], np.full(keep.size, np.inf))
        if timed_out:
            heapq.heappush(heap, (node_bound, counter, depth, br))
            break
        if pruned or y is None:
            continue
        frac = np.minimum(y, 1.0 - y)
        if frac.max() <= 1e-6:
            cand = y_full > 0.5
            val = b.value(cand.astype(float))
            if val < best_val:
                best, best_val = cand, val
            continue
        if depth <= 2 or nodes % 16 == 0:  # rounding near the root and now and then deeper
            cand, val = heuristic(y_full)
            if val < best_val:
                best, best_val = cand, val
        if node_bound >= prune_level(best_val):
            continue
        # local reduced-cost fixing, inherited by both children
        d = np.asarray(h.getSolution().col_dual)[:ma]
        free = lo < hi
        f0 = free & (node_bound + d > prune_level(best_val)) & (y <= 1e-9)
        f1 = free & (node_bound - d > prune_level(best_val)) & (y >= 1 - 1e-9)
        br = (*br, *((int(j), 0.0) for j in np.flatnonzero(f0)), *((int(j), 1.0) for j in np.flatnonzero(f1)))
        if depth <= 1:  # strong branching near the root only: deeper it costs more than it saves
            j = _strong_branch(h, ma, cols, lo, hi, frac, node_bound, prune_level(best_val))
        else:
            j = int(np.argmax(frac))
        first = 1.0 if y[j] >= 0.5 else 0.0
        for v in (first, 1.0 - first):
            child = (node_bound, counter, depth + 1, (*br, (j, v)))
            counter += 1
            if v == first:
                dive = child
            else:
                heapq.heappush(heap, child)
    if heap and timed_out:
        bound = min(min(x[0] for x in heap), best_val)
        return BranchResult(best, best_val, bound, False, nodes)
    return BranchResult(best, best_val, best_val, True, nodes)


def _strong_branch(
    h: highspy.Highs,
    ma: int,
    cols: NDArray[np.int32],
    lo: FloatArray,
    hi: FloatArray,
    frac: FloatArray,
    node_bound: float,
    cutoff: float,
    k: int = 4,
) -> int:
    """Among the ``k`` most fractional candidates the one whose weaker child LP bound is largest.

    The child LPs are warm-started from the node's basis and use the current
    cuts only (no separation), so their values are valid lower bounds.
    """
    order = np.argsort(-frac)[:k]
    order = order[frac[order] > 1e-6]
    if order.size <= 1:
        return int(order[0]) if order.size else int(np.argmax(frac))
    basis = h.getBasis()
    best_j, best_score = int(order[0]), -np.inf
    for j in order:
        score = np.inf
        for v in (0.0, 1.0):
            l2, h2 = lo.copy(), hi.copy()
            l2[j] = h2[j] = v
            h.changeColsBounds(ma, cols, l2, h2)
            h.run()
            st = h.getModelStatus()
            val = (
                float(h.getInfo().objective_function_value)
                if st == highspy.HighsModelStatus.kOptimal
                else (np.inf if st == highspy.HighsModelStatus.kInfeasible else node_bound)
            )
            score = min(score, val)
            h.setBasis(basis)
        if score > best_score:
            best_j, best_score = int(j), score
        if best_score >= cutoff:
            break
    h.changeColsBounds(ma, cols, lo, hi)
    return best_j
