"""Benders decomposition of the maximal covering problem (Cordeau, Furini and Ljubić 2019).

The client variables ``z_i`` of the compact model are projected out. With
``θ_g`` the covered weight of a group ``g`` of clients, the master is

    max Σ_g θ_g   s.t.   θ_g ≤ Σ_{i∈g} w_i · min(1, Σ_{j∈N(i)} y_j),   the rules' rows on ``y``.

The right-hand side is concave in ``y``; its supergradient at a point ``ŷ``
gives the Benders cut in closed form (no LP subproblem):

    θ_g ≤ Σ_{i∈g, a_i·ŷ ≥ 1} w_i + Σ_{i∈g, a_i·ŷ < 1} w_i Σ_{j∈N(i)} y_j.

Both terms bound ``w_i · min(1, a_i·y)`` for *every* ``y``, so each cut is
valid whatever point it was taken at. Clients are grouped by their nearest
candidate (a partially aggregated master: few rows, geographically coherent
cuts).

LP phase
    The master LP is solved by cutting planes in one persistent HiGHS model
    (dual simplex, warm-started after every batch of cuts) with in-out
    stabilisation (Ben-Ameur and Neto 2007): cuts are taken at a point between
    the master solution and a core point. The master objective is an upper
    bound of the LP optimum (it relaxes the cuts not yet added) and the exact
    value ``F(ŷ) = Σ_i w_i min(1, a_i·ŷ)`` at every separation point a lower
    bound; the loop ends when both meet.
MIP phase
    HiGHS has no lazy-constraint callback (the enum
    ``kCallbackMipDefineLazyConstraints`` exists in highspy 1.16 but is not
    called by the MIP solver, ERGO-Code/HiGHS#3078), so branch-and-Benders-cut
    is done as an iterated master MIP: the master with the LP phase's cuts is
    solved by HiGHS, the cuts at its integer solution are added, and this
    repeats until the master objective equals the exact value of its
    solution. Every master MIP relaxes the MCLP, so its dual bound is an
    upper bound at every step.

All weights are in the caller's unit (persons); nothing here is spatial.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import highspy
import numpy as np
import scipy.sparse as sp
from scipy.optimize import LinearConstraint

from planning.siting.highs import add_rows, new_highs
from planning.siting.result import BoolArray, FloatArray, IntArray

log = logging.getLogger(__name__)


_MASTER_OFF = (
    "mip_detect_symmetry",
    "mip_allow_restart",
    "mip_heuristic_run_rins",
    "mip_heuristic_run_rens",
    "mip_heuristic_run_root_reduced_cost",
    "mip_heuristic_run_feasibility_jump",
)


class MasterInfeasibleError(Exception):
    """The rules' rows admit no ``y`` (raised by the LP phase)."""


@dataclass
class BendersLP:
    """Outcome of the LP phase (maximisation: ``upper`` is the proven LP bound)."""

    upper: float  # master LP objective: an upper bound of the LP optimum and of the MCLP
    lower: float  # best exact value F(ŷ) at a fractional point (≤ LP optimum)
    y: FloatArray  # master solution at the last solve
    reduced: FloatArray  # reduced cost of each y_j (min form: objective -Σθ) at the last solve
    converged: bool
    rounds: int
    cuts: int


@dataclass
class BendersMIP:
    """Outcome of the MIP phase."""

    y: BoolArray | None  # best integer solution found by the master (None: none)
    value: float  # its exact covered weight (-inf without a solution)
    bound: float  # proven upper bound of the MCLP on the candidates of this master
    optimal: bool
    iterations: int


class MCLPBenders:
    """Benders master of the uncapacitated MCLP over aggregated clients.

    Parameters
    ----------
    ak
        ``k × m`` 0/1 coverage matrix of the (distinct) clients.
    wk
        Weight of each client row.
    group
        Group of each client row (``0 … G-1``); one ``θ`` per group.
    extra
        Linear constraints on ``y`` (``Σ y = p``, budget, groups) over ``m`` columns.
    lb_y, ub_y
        Bounds of ``y`` (fixed sites: ``lb = 1``; closed ones: ``ub = 0``).

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> from scipy.optimize import LinearConstraint
    >>> ak = sp.csr_array(np.array([[1, 0], [1, 1], [0, 1]], dtype=float))
    >>> b = MCLPBenders(ak, np.array([5.0, 1.0, 3.0]), np.array([0, 0, 1]),
    ...                 [LinearConstraint(np.ones((1, 2)), 1, 1)], np.zeros(2), np.ones(2))
    >>> b.value(np.array([1.0, 0.0])), b.value(np.array([0.5, 0.5]))  # 5·0.5 + 1·1 + 3·0.5
    (6.0, 5.0)
    """

    def __init__(
        self,
        ak: sp.csr_array,
        wk: FloatArray,
        group: IntArray,
        extra: list[LinearConstraint],
        lb_y: FloatArray,
        ub_y: FloatArray,
    ) -> None:
        self.ak = sp.csr_array(ak)
        self.k, self.m = self.ak.shape
        self.wk = np.asarray(wk, dtype=float)
        self.group = np.asarray(group, dtype=np.int64)
        self.g = int(self.group.max()) + 1 if self.group.size else 0
        self.gw = np.bincount(self.group, weights=self.wk, minlength=self.g)
        self.extra = extra
        self.lb_y = np.asarray(lb_y, dtype=float).copy()
        self.ub_y = np.asarray(ub_y, dtype=float).copy()
        self.pool_a: list[sp.csr_array] = []
        self.pool_r: list[FloatArray] = []
        self.x_lp: FloatArray | None = None

    # ---------------------------------------------------------------- separation
    def value(self, y: FloatArray) -> float:
        """Exact covered weight ``Σ_i w_i min(1, a_i·y)`` (for 0/1 ``y``: the MCLP objective)."""
        return float(self.wk @ np.minimum(self.ak @ y, 1.0))

    def cuts_at(self, y: FloatArray, x: FloatArray | None = None) -> tuple[sp.csr_array, FloatArray]:
        """Cuts at ``y``: rows ``θ_g - Σ_j c_gj y_j ≤ r_g`` over columns ``(y, θ)``.

        With a master point ``x = (y', θ')`` only the groups whose cut ``x``
        violates are returned (one sparse product over their clients only).
        """
        cov = self.ak @ y
        lin = cov < 1.0
        r = np.bincount(self.group, weights=self.wk * ~lin, minlength=self.g)
        groups: IntArray = np.arange(self.g)
        if x is not None:
            cov_x = self.ak @ x[: self.m]
            at_x = r + np.bincount(self.group, weights=self.wk * np.where(lin, cov_x, 0.0), minlength=self.g)
            theta = x[self.m :]
            groups = np.flatnonzero(theta > at_x + 1e-9 * np.maximum(1.0, np.abs(at_x)))
        pos = np.full(self.g, -1, dtype=np.int64)
        pos[groups] = np.arange(groups.size)
        cl = np.flatnonzero(lin & (pos[self.group] >= 0))
        s = sp.csr_array((self.wk[cl], (pos[self.group[cl]], cl)), shape=(groups.size, self.k))
        c = sp.csr_array(s @ self.ak)
        one = sp.csr_array((np.ones(groups.size), (np.arange(groups.size), groups)), shape=(groups.size, self.g))
        a = sp.hstack([-c, one], format="csr")
        return a, np.asarray(r[groups], dtype=np.float64)

    def _master(self, deadline: float) -> highspy.Highs:
        m, g = self.m, self.g
        h = new_highs(deadline - time.perf_counter())
        h.addCols(
            m + g,
            np.r_[np.zeros(m), -np.ones(g)],
            np.r_[self.lb_y, np.zeros(g)],
            np.r_[self.ub_y, self.gw],
            0,
            np.zeros(m + g + 1, dtype=np.int32),
            np.zeros(0, dtype=np.int32),
            np.zeros(0),
        )
        for con in self.extra:
            a = sp.csr_array(con.A)
            a = sp.hstack([a, sp.csr_array((a.shape[0], g))], format="csr")
            lo = np.broadcast_to(np.asarray(con.lb, dtype=float), (a.shape[0],))
            hi = np.broadcast_to(np.asarray(con.ub, dtype=float), (a.shape[0],))
            add_rows(h, a, lo, hi)
        for a, r in zip(self.pool_a, self.pool_r, strict=True):
            add_rows(h, a, np.full(r.size, -np.inf), r)
        return h

    def _add(self, h: highspy.Highs, a: sp.csr_array, r: FloatArray) -> None:
        add_rows(h, a, np.full(r.size, -np.inf), r)
        self.pool_a.append(a)
        self.pool_r.append(r)

    def prune(self, x: FloatArray, rel_tol: float = 1e-6) -> int:
        """Keep only the pooled cuts that are tight at the master point ``x``; return how many remain."""
        if not self.pool_a:
            return 0
        a = sp.vstack(self.pool_a, format="csr")
        r = np.concatenate(self.pool_r)
        tight = np.flatnonzero(a @ x >= r - rel_tol * np.maximum(1.0, np.abs(r)))
        self.pool_a, self.pool_r = [a[tight]], [r[tight]]
        return int(tight.size)

    # ---------------------------------------------------------------- LP phase
    def solve_lp(self, p: float, incumbent: BoolArray | None, deadline: float, rel_tol: float = 1e-7) -> BendersLP:
        """Solve the master LP by stabilised cutting planes until the bounds meet (or the deadline)."""
        m = self.m
        h = self._master(deadline)
        n_rows0 = h.getNumRow()
        core = np.clip(np.full(m, p / max(m, 1)), self.lb_y, self.ub_y)
        lower = -np.inf
        if incumbent is not None:
            inc = incumbent.astype(float)
            self._add(h, *self.cuts_at(inc))
            lower = self.value(inc)
            core = 0.5 * core + 0.5 * inc
        self._add(h, *self.cuts_at(core))
        lower = max(lower, self.value(core))
        upper = np.inf
        alpha = 0.3
        rounds = 0
        y, reduced = core, np.zeros(m)
        converged = False
        while True:
            rounds += 1
            h.setOptionValue("time_limit", h.getRunTime() + max(deadline - time.perf_counter(), 0.01))
            h.run()
            st = h.getModelStatus()
            if st == highspy.HighsModelStatus.kInfeasible:
                raise MasterInfeasibleError
            if st != highspy.HighsModelStatus.kOptimal:
                break
            sol = h.getSolution()
            x = np.asarray(sol.col_value)
            y = x[:m]
            self.x_lp = x
            reduced = np.asarray(sol.col_dual)[:m]
            upper = min(upper, -float(h.getInfo().objective_function_value))
            lower = max(lower, self.value(y))
            if upper - lower <= rel_tol * max(1.0, abs(upper)):
                converged = True
                break
            if time.perf_counter() > deadline:
                break
            sep = alpha * y + (1 - alpha) * core
            lower = max(lower, self.value(sep))
            a, r = self.cuts_at(sep, x)
            if r.size == 0:  # mis-pricing: separate at the master solution itself
                a, r = self.cuts_at(y, x)
                if r.size == 0:
                    converged, lower = True, upper
                    break
                alpha = min(1.0, alpha + 0.2)
            core = sep
            self._add(h, a, r)
        log.info(
            "MCLP-Benders LP: %d Runden, %d Schnitte, HiGHS %.2f s, Schranke %.6g, Wert %.6g",
            rounds,
            h.getNumRow() - n_rows0,
            h.getRunTime(),
            upper,
            lower,
        )
        return BendersLP(upper, lower, y, reduced, converged, rounds, h.getNumRow() - n_rows0)

    # ---------------------------------------------------------------- MIP phase
    def _start(self, h: highspy.Highs, y: BoolArray) -> None:
        """Give HiGHS ``y`` with its exact group values as start solution."""
        start = highspy.HighsSolution()
        yf = y.astype(float)
        cov = np.minimum(self.ak @ yf, 1.0)
        start.col_value = list(np.r_[yf, np.bincount(self.group, weights=self.wk * cov, minlength=self.g)])
        h.setSolution(start)

    def _best_of(self, points: list[FloatArray] | list[BoolArray]) -> tuple[float, BoolArray]:
        """The rounded point with the highest exact value."""
        best, best_y = -np.inf, np.zeros(self.m, dtype=bool)
        for pt in points:
            y = np.round(pt) > 0.5
            val = self.value(y.astype(float))
            if val > best:
                best, best_y = val, y
        return best, best_y

    def solve_mip(
        self,
        incumbent: BoolArray | None,
        incumbent_value: float,
        deadline: float,
        improve: Callable[[BoolArray], BoolArray] | None = None,
        proof_mode: bool = True,
        max_iter: int = 1000,
    ) -> BendersMIP:
        """Iterated master MIP: solve, add the cuts at its solution, repeat until it is exact.

        ``improve`` (a local search) is applied to every master solution; the
        better point becomes the incumbent and gets its cuts too. Every
        improving master solution HiGHS reports on the way (callback) is
        evaluated exactly, so a time-limited master loses none of them.
        ``proof_mode`` switches HiGHS' primal heuristics off (for a
        near-optimal incumbent, where only the bound is left).

        The master's MIP gap tolerance is zero; the objective cut-off of HiGHS is
        not used, so the dual bound of every master is a valid MCLP bound.
        """
        m = self.m
        h = self._master(deadline)
        h.changeColsIntegrality(m, np.arange(m, dtype=np.int32), np.full(m, highspy.HighsVarType.kInteger))
        h.setOptionValue("mip_rel_gap", 0.0)
        h.setOptionValue("mip_abs_gap", 1e-6)
        if proof_mode:
            # near-optimal incumbent: HiGHS' own heuristics, symmetry detection and restarts
            # cost more than they bring on this small, dense master (measured)
            for name in _MASTER_OFF:
                h.setOptionValue(name, False)
            h.setOptionValue("mip_heuristic_effort", 0.0)
        found: list[FloatArray] = []  # every improving master solution (its true value may be better)
        h.cbMipImprovingSolution.subscribe(lambda e: found.append(np.array(e.data_out.mip_solution[:m])))
        best_y = incumbent.copy() if incumbent is not None else None
        best = incumbent_value if incumbent is not None else -np.inf
        bound = np.inf
        it = 0
        optimal = False
        while it < max_iter:
            it += 1
            if best_y is not None:
                self._start(h, best_y)
            h.setOptionValue("time_limit", h.getRunTime() + max(deadline - time.perf_counter(), 0.01))
            h.run()
            st = h.getModelStatus()
            info = h.getInfo()
            if st == highspy.HighsModelStatus.kInfeasible:
                raise MasterInfeasibleError
            dual = -float(info.mip_dual_bound)
            if np.isfinite(dual):
                bound = min(bound, dual)
            if info.primal_solution_status != 2:  # no feasible master solution
                break
            x = np.asarray(h.getSolution().col_value)
            y = np.round(x[:m]) > 0.5
            val, yb = self._best_of([x[:m], *found])
            found.clear()
            if improve is not None:  # swap descent from the best true point of this master
                val, yb = self._best_of([x[:m], yb, improve(yb)])
            if val > best:
                best, best_y = val, yb
                self._add(h, *self.cuts_at(yb.astype(float), x))
            if best >= bound - 1e-9 * max(1.0, abs(bound)):
                optimal, bound = True, max(best, bound)
                break
            if st != highspy.HighsModelStatus.kOptimal or time.perf_counter() > deadline:
                break
            a, r = self.cuts_at(y.astype(float), x)
            if r.size == 0:  # the master solution is exact and master-optimal
                optimal, bound = True, max(best, bound)
                break
            self._add(h, a, r)
            log.info("MCLP-Benders: Master-MIP %d, Wert %.6g, Schranke %.6g, %d neue Schnitte", it, val, bound, r.size)
        log.info("MCLP-Benders: %d Master-MIP(s), Wert %.6g, Schranke %.6g", it, best, bound)
        return BendersMIP(best_y, best, bound, optimal, it)
