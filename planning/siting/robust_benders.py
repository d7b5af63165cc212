"""Benders decomposition of the maximal covering problem over several variants (worst case or expected).

A *variant* ``s`` (a departure window, a day type, a demand variant, a
facility closing …) has its own clients ``i`` (rows of a 0/1 coverage matrix
``A_s``, weights ``w_i``) and a constant ``c_s`` (demand that fixed sites
cover whatever is chosen). With one ``θ_sg`` per group ``g`` of clients of a
variant, the master problem is

    max  t                                  (worst case, max-min)
    or   Σ_s π_s (c_s + Σ_g θ_sg)            (expected coverage)
    s.t. t ≤ c_s + Σ_g θ_sg                  for every variant s (worst case only)
         θ_sg ≤ Σ_{i∈g} w_i min(1, a_i·y)    (Benders cuts, see below)
         the rules on y (Σ y = p, budget, minimum per group), y ∈ {0, 1}.

The right-hand side is concave in ``y``; its supergradient at any point ``ŷ``
gives a cut valid for *every* ``y`` (Cordeau, Furini and Ljubić 2019, EJOR
275(3), for the single-variant MCLP):

    θ_sg ≤ Σ_{i∈g, a_i·ŷ ≥ 1} w_i + Σ_{i∈g, a_i·ŷ < 1} w_i Σ_{j∈N(i)} y_j.

Because no cut depends on the rules, the pool of cuts of one solve is valid
for the next one with another budget or ``p`` (the budget frontier re-uses
it). Nothing here is spatial; weights are persons.

LP phase: cutting planes in one warm-started HiGHS model with in-out
stabilisation (Ben-Ameur and Neto 2007): the master objective is an upper
bound of the LP optimum, the exact value of the aggregate at each separation
point a lower bound; the loop ends when both meet. MIP phase: HiGHS 1.16 has
no lazy-constraint callback, so the master MIP is re-solved with the cuts at
its integer solutions until its objective equals the exact value of its
solution; every master MIP relaxes the problem, so its dual bound is a valid
upper bound at every step.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import highspy
import numpy as np
import scipy.sparse as sp
from scipy.optimize import LinearConstraint

from planning.siting.base import near_optimal
from planning.siting.coverage_search import CoverageLists, SwapSearchThread
from planning.siting.highs import add_rows, new_highs
from planning.siting.result import BoolArray, FloatArray, IntArray
from planning.siting.rules import _Rules

log = logging.getLogger(__name__)

#: HiGHS options switched off in the proof phase (near-optimal incumbent: only the bound is left).
_PROOF_OFF = (
    "mip_detect_symmetry",
    "mip_allow_restart",
    "mip_heuristic_run_rins",
    "mip_heuristic_run_rens",
    "mip_heuristic_run_root_reduced_cost",
    "mip_heuristic_run_feasibility_jump",
)


#: Absolute MIP gap of the master (persons): below it a master solution counts as proven optimal.
_ABS_GAP = 1e-6


def _prove_only(h: highspy.Highs) -> None:
    """Switch HiGHS' primal heuristics, symmetry detection and restarts off: only the bound is left to close."""
    for name in _PROOF_OFF:
        h.setOptionValue(name, False)
    h.setOptionValue("mip_heuristic_effort", 0.0)


class MasterInfeasibleError(Exception):
    """The rules admit no ``y`` (the master LP is infeasible)."""


@dataclass(frozen=True)
class VariantClients:
    """The clients of one variant after aggregation: distinct coverage rows, weights, groups.

    Parameters
    ----------
    ak
        ``k × m`` 0/1 coverage matrix of the distinct coverable rows that no
        fixed site covers.
    wk
        Weight of each row (persons).
    group
        Group of each row (``0 … G-1``): one ``θ`` per group.
    const
        Weight covered by the fixed sites (counted whatever is chosen).
    total
        Total demand weight of the variant (for shares).
    """

    ak: sp.csr_array
    wk: FloatArray
    group: IntArray
    const: float
    total: float
    akc: sp.csc_array = field(init=False, repr=False)
    n_groups: int = field(init=False)
    gw: FloatArray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        ak = sp.csr_array(self.ak)
        object.__setattr__(self, "ak", ak)
        object.__setattr__(self, "akc", ak.tocsc())
        g = int(self.group.max()) + 1 if self.group.size else 0
        object.__setattr__(self, "n_groups", g)
        object.__setattr__(self, "gw", np.bincount(self.group, weights=self.wk, minlength=g).astype(float))

    def value(self, y: FloatArray) -> float:
        """Covered weight ``c + Σ_i w_i min(1, a_i·y)`` (for 0/1 ``y`` the coverage of the plan)."""
        return self.const + float(self.wk @ np.minimum(self.ak @ y, 1.0))


@dataclass
class LPOutcome:
    """Outcome of the LP phase (maximisation: ``upper`` is the proven LP bound)."""

    upper: float
    lower: float
    y: FloatArray
    reduced: FloatArray  # reduced cost of each y_j in the min form (objective -max)
    converged: bool
    rounds: int
    cuts: int
    weights: FloatArray  # weight of each variant at the LP optimum (see ScenarioBenders.solve_lp)


@dataclass
class MIPOutcome:
    """Outcome of the MIP phase."""

    y: BoolArray | None
    value: float
    bound: float
    optimal: bool
    iterations: int


class ScenarioBenders:
    """Benders master of the MCLP over variants, with a persistent pool of cuts.

    Parameters
    ----------
    parts
        One :class:`VariantClients` per variant (same number of candidates).
    worst
        ``True``: maximise the worst variant's coverage; ``False``: the
        expected coverage with ``probabilities``.
    probabilities
        Weight of each variant in the expected coverage (ignored for the worst case).

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> a = sp.csr_array(np.array([[1, 0], [0, 1]], dtype=float))
    >>> parts = [VariantClients(a, np.array([5.0, 1.0]), np.array([0, 1]), 0.0, 6.0),
    ...          VariantClients(a, np.array([1.0, 4.0]), np.array([0, 1]), 0.0, 5.0)]
    >>> b = ScenarioBenders(parts, worst=True, probabilities=np.array([0.5, 0.5]))
    >>> b.values(np.array([1.0, 0.0])).tolist(), b.aggregate(b.values(np.array([1.0, 0.0])))
    ([5.0, 1.0], 1.0)
    """

    def __init__(self, parts: Sequence[VariantClients], *, worst: bool, probabilities: FloatArray) -> None:
        self.parts = list(parts)
        self.m = int(self.parts[0].ak.shape[1])
        self.worst = bool(worst)
        self.pi = np.asarray(probabilities, dtype=float)
        sizes = np.array([p.n_groups for p in self.parts], dtype=np.int64)
        self.offsets = self.m + np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
        self.n_theta = int(sizes.sum())
        self.t_col = self.m + self.n_theta  # the worst-case variable (only when worst)
        self.n_cols = self.m + self.n_theta + (1 if self.worst else 0)
        self.pool_a: list[sp.csr_array] = []
        self.pool_r: list[FloatArray] = []
        self._t_row0 = 0  # first worst-case row of the last master built (its duals weigh the variants)

    # ------------------------------------------------------------------ evaluation
    def values(self, y: FloatArray) -> FloatArray:
        """Covered weight of every variant at ``y``."""
        yf = np.asarray(y, dtype=float)
        return np.array([p.value(yf) for p in self.parts])

    def aggregate(self, values: FloatArray) -> float:
        """The objective of per-variant values: their minimum or their weighted mean."""
        v = np.asarray(values, dtype=float)
        return float(v.min(axis=-1)) if self.worst else float(v @ self.pi)

    def value(self, y: FloatArray) -> float:
        """Exact objective at ``y`` (for fractional ``y`` the compact LP's value at ``y``)."""
        return self.aggregate(self.values(y))

    # ------------------------------------------------------------------ cuts
    def cuts_at(self, y: FloatArray, x: FloatArray | None = None) -> tuple[sp.csr_array, FloatArray]:
        """Cuts at ``y`` over the master's columns; with a master point ``x`` only those ``x`` violates."""
        blocks_a: list[sp.csr_array] = []
        blocks_r: list[FloatArray] = []
        yf = np.asarray(y, dtype=float)
        for part, off in zip(self.parts, self.offsets, strict=True):
            if part.n_groups == 0:
                continue
            cov = part.ak @ yf
            lin = cov < 1.0 - 1e-9
            r = np.bincount(part.group, weights=part.wk * ~lin, minlength=part.n_groups)
            groups: IntArray = np.arange(part.n_groups)
            if x is not None:
                cov_x = part.ak @ x[: self.m]
                at_x = r + np.bincount(part.group, weights=part.wk * np.where(lin, cov_x, 0.0), minlength=part.n_groups)
                theta = x[off : off + part.n_groups]
                groups = np.flatnonzero(theta > at_x + 1e-9 * np.maximum(1.0, np.abs(at_x)))
                if groups.size == 0:
                    continue
            pos = np.full(part.n_groups, -1, dtype=np.int64)
            pos[groups] = np.arange(groups.size)
            cl = np.flatnonzero(lin & (pos[part.group] >= 0))
            s = sp.csr_array((part.wk[cl], (pos[part.group[cl]], cl)), shape=(groups.size, part.ak.shape[0]))
            c = sp.coo_array(s @ part.ak)
            rows = np.concatenate([c.row, np.arange(groups.size)])
            cols = np.concatenate([c.col, off + groups])
            data = np.concatenate([-c.data, np.ones(groups.size)])
            blocks_a.append(sp.csr_array((data, (rows, cols)), shape=(groups.size, self.n_cols)))
            blocks_r.append(np.asarray(r[groups], dtype=float))
        if not blocks_a:
            return sp.csr_array((0, self.n_cols)), np.zeros(0)
        return sp.vstack(blocks_a, format="csr"), np.concatenate(blocks_r)

    def pool_cuts_at(self, y: BoolArray) -> None:
        """Add the cuts at a plan to the pool (every later master starts with them)."""
        a, r = self.cuts_at(y.astype(float))
        self.pool_a.append(a)
        self.pool_r.append(r)

    def _add(self, h: highspy.Highs, a: sp.csr_array, r: FloatArray) -> None:
        if r.size == 0:
            return
        add_rows(h, a, np.full(r.size, -np.inf), r)
        self.pool_a.append(a)
        self.pool_r.append(r)

    @property
    def n_cuts(self) -> int:
        """Number of cuts in the pool."""
        return int(sum(r.size for r in self.pool_r))

    # ------------------------------------------------------------------ master
    def _offset(self) -> float:
        return 0.0 if self.worst else float(sum(p.const * q for p, q in zip(self.parts, self.pi, strict=True)))

    def _master(
        self, rules: list[LinearConstraint], lb_y: FloatArray, ub_y: FloatArray, deadline: float
    ) -> highspy.Highs:
        m = self.m
        h = new_highs(deadline - time.perf_counter())
        theta_cost = np.concatenate(
            [np.full(p.n_groups, 0.0 if self.worst else -q) for p, q in zip(self.parts, self.pi, strict=True)]
        )
        theta_ub = np.concatenate([p.gw for p in self.parts]) if self.parts else np.zeros(0)
        cost = np.r_[np.zeros(m), theta_cost]
        lower = np.r_[lb_y, np.zeros(self.n_theta)]
        upper = np.r_[ub_y, theta_ub]
        if self.worst:
            cost = np.r_[cost, -1.0]
            lower = np.r_[lower, 0.0]
            upper = np.r_[upper, min(p.total for p in self.parts)]
        h.addCols(
            self.n_cols,
            cost,
            lower,
            upper,
            0,
            np.zeros(self.n_cols + 1, dtype=np.int32),
            np.zeros(0, dtype=np.int32),
            np.zeros(0),
        )
        for con in rules:
            a = sp.csr_array(con.A)
            a = sp.hstack([a, sp.csr_array((a.shape[0], self.n_cols - a.shape[1]))], format="csr")
            lo = np.broadcast_to(np.asarray(con.lb, dtype=float), (a.shape[0],))
            hi = np.broadcast_to(np.asarray(con.ub, dtype=float), (a.shape[0],))
            add_rows(h, a, lo, hi)
        self._t_row0 = h.getNumRow()
        if self.worst:  # t - Σ_g θ_sg ≤ c_s
            rows, cols = [], []
            for s, (part, off) in enumerate(zip(self.parts, self.offsets, strict=True)):
                rows.append(np.full(part.n_groups, s))
                cols.append(off + np.arange(part.n_groups))
            n_s = len(self.parts)
            r = np.concatenate([*rows, np.arange(n_s)])
            c = np.concatenate([*cols, np.full(n_s, self.t_col)])
            d = np.concatenate([-np.ones(self.n_theta), np.ones(n_s)])
            a = sp.csr_array((d, (r, c)), shape=(n_s, self.n_cols))
            add_rows(h, a, np.full(n_s, -np.inf), np.array([p.const for p in self.parts]))
        for a, r in zip(self.pool_a, self.pool_r, strict=True):
            add_rows(h, a, np.full(r.size, -np.inf), r)
        return h

    def _upper(self, h: highspy.Highs) -> float:
        return -float(h.getInfo().objective_function_value) + self._offset()

    # ------------------------------------------------------------------ LP phase
    def solve_lp(
        self,
        rules: list[LinearConstraint],
        lb_y: FloatArray,
        ub_y: FloatArray,
        core: FloatArray,
        incumbent: BoolArray | None,
        deadline: float,
        rel_tol: float = 1e-7,
    ) -> LPOutcome:
        """Solve the master LP by stabilised cutting planes until the bounds meet (or the deadline).

        The outcome's ``weights`` say how much each variant counts at the LP
        optimum: for the expected coverage the probabilities; for the worst
        case the duals of the rows ``t ≤ value of variant s`` (they sum to 1;
        the max-min LP equals the expected-coverage LP with these weights), so
        the binding variants carry all the weight.
        """
        m = self.m
        h = self._master(rules, lb_y, ub_y, deadline)
        n0 = h.getNumRow()
        core = np.clip(np.asarray(core, dtype=float), lb_y, ub_y)
        lower = -np.inf
        if incumbent is not None:
            inc = incumbent.astype(float)
            self._add(h, *self.cuts_at(inc))
            lower = self.value(inc)
            core = 0.5 * core + 0.5 * inc
        self._add(h, *self.cuts_at(core))
        lower = max(lower, self.value(core))
        upper, alpha, rounds, converged = np.inf, 0.3, 0, False
        y, reduced = core, np.zeros(m)
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
            reduced = np.asarray(sol.col_dual)[:m]
            upper = min(upper, self._upper(h))
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
            "Varianten-Benders LP: %d Runden, %d Schnitte, HiGHS %.2f s, Schranke %.6g, Wert %.6g",
            rounds,
            h.getNumRow() - n0,
            h.getRunTime(),
            upper,
            lower,
        )
        return LPOutcome(upper, lower, y, reduced, converged, rounds, h.getNumRow() - n0, self._lp_weights(h, y))

    def _lp_weights(self, h: highspy.Highs, y: FloatArray) -> FloatArray:
        """The variants' weights at the master LP's solution (see :meth:`solve_lp`)."""
        if not self.worst:
            return self.pi.copy()
        n_s = len(self.parts)
        dual = np.abs(np.asarray(h.getSolution().row_dual)[self._t_row0 : self._t_row0 + n_s])
        if dual.size == n_s and dual.sum() > 1e-9:
            return dual / dual.sum()
        vals = self.values(y)  # no dual (cut off): the variants at the minimum
        low = vals <= vals.min() + 1e-9 * max(1.0, abs(vals.min()))
        return low / low.sum()

    # ------------------------------------------------------------------ MIP phase
    def _start(self, h: highspy.Highs, y: BoolArray) -> None:
        """Give HiGHS ``y`` with its exact group values (and t) as a start solution."""
        yf = y.astype(float)
        theta = []
        for part in self.parts:
            cov = np.minimum(part.ak @ yf, 1.0)
            theta.append(np.bincount(part.group, weights=part.wk * cov, minlength=part.n_groups))
        col = np.concatenate([yf, *theta])
        if self.worst:
            col = np.r_[col, self.aggregate(self.values(yf))]
        start = highspy.HighsSolution()
        start.col_value = list(col)
        h.setSolution(start)

    def _best_of(self, points: Sequence[FloatArray]) -> tuple[float, BoolArray]:
        best, best_y = -np.inf, np.zeros(self.m, dtype=bool)
        for pt in points:
            yb = np.round(pt) > 0.5
            val = self.value(yb.astype(float))
            if val > best:
                best, best_y = val, yb
        return best, best_y

    def _harvest(
        self,
        points: list[FloatArray],
        feasible: Callable[[BoolArray], bool],
        improve: Callable[[BoolArray], BoolArray] | None,
    ) -> tuple[float, BoolArray]:
        """The best feasible rounded point of a master solve (and its local-search improvement)."""
        cands = [pt for pt in points if feasible(np.round(pt) > 0.5)]
        if not cands:
            return -np.inf, np.round(points[0]) > 0.5
        val, yb = self._best_of(cands)
        if improve is not None:
            val, yb = self._best_of([yb.astype(float), improve(yb).astype(float)])
        return val, yb

    def solve_mip(
        self,
        rules: list[LinearConstraint],
        lb_y: FloatArray,
        ub_y: FloatArray,
        incumbent: BoolArray | None,
        incumbent_value: float,
        deadline: float,
        feasible: Callable[[BoolArray], bool],
        improve: Callable[[BoolArray], BoolArray] | None = None,
        proof_mode: bool = True,
        max_iter: int = 1000,
    ) -> MIPOutcome:
        """Iterated master MIP: solve, add the cuts at its solution, repeat until it is exact.

        ``feasible`` checks a rounded point against the rules (HiGHS' solutions
        are feasible up to its tolerances); ``improve`` (a local search) is
        applied to every master solution.
        """
        m = self.m
        h = self._master(rules, lb_y, ub_y, deadline)
        h.changeColsIntegrality(m, np.arange(m, dtype=np.int32), np.full(m, highspy.HighsVarType.kInteger))
        h.setOptionValue("mip_rel_gap", 0.0)
        h.setOptionValue("mip_abs_gap", _ABS_GAP)
        if proof_mode:
            _prove_only(h)
        found: list[FloatArray] = []
        h.cbMipImprovingSolution.subscribe(lambda e: found.append(np.array(e.data_out.mip_solution[:m])))
        best_y = incumbent.copy() if incumbent is not None else None
        best = incumbent_value if incumbent is not None else -np.inf
        bound, it, optimal = np.inf, 0, False
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
            dual = -float(info.mip_dual_bound) + self._offset()
            if np.isfinite(dual):
                bound = min(bound, dual)
            if info.primal_solution_status != 2:
                break
            x = np.asarray(h.getSolution().col_value)
            y = np.round(x[:m]) > 0.5
            val, yb = self._harvest([x[:m], *found], feasible, improve)
            found.clear()
            if val > best:
                best, best_y = val, yb
                self._add(h, *self.cuts_at(yb.astype(float), x))
            if best >= bound - max(_ABS_GAP, 1e-9 * abs(bound)):  # HiGHS proves within its absolute gap
                optimal, bound = True, best
                break
            if st != highspy.HighsModelStatus.kOptimal or time.perf_counter() > deadline:
                break
            if not proof_mode and near_optimal(best, bound):
                proof_mode = True
                _prove_only(h)
            a, r = self.cuts_at(y.astype(float), x)
            if r.size == 0:  # the master solution is exact and master-optimal (within the absolute gap)
                optimal, bound = True, best
                break
            self._add(h, a, r)
            log.info("Varianten-Benders: Master-MIP %d, Wert %.6g, Schranke %.6g, %d Schnitte", it, val, bound, r.size)
        log.info("Varianten-Benders: %d Master-MIP(s), Wert %.6g, Schranke %.6g", it, best, bound)
        return MIPOutcome(best_y, best, bound, optimal, it)


# --------------------------------------------------------------------------- local search


class VariantSearch:
    """Greedy construction and best-improvement swaps on the aggregate objective over variants.

    Parameters
    ----------
    engine
        The master (for the parts and the aggregate).
    rules
        The rules on ``y`` (``p`` and/or budget, fixed sites, groups).
    closed
        Candidates never to open (e.g. closed in every variant).
    """

    def __init__(self, engine: ScenarioBenders, rules: _Rules, closed: BoolArray) -> None:
        self.engine = engine
        self.rules = rules
        self.closed = closed

    def _counts(self, is_open: BoolArray) -> list[FloatArray]:
        y = is_open.astype(float)
        return [np.asarray(p.ak @ y) for p in self.engine.parts]

    def _vals(self, cnt: list[FloatArray]) -> FloatArray:
        return np.array([p.const + float(p.wk[c > 0].sum()) for p, c in zip(self.engine.parts, cnt, strict=True)])

    def _gains(self, cnt: list[FloatArray]) -> FloatArray:
        """``S × m``: covered weight each candidate adds in each variant."""
        return np.vstack([p.akc.T @ (p.wk * (c == 0)) for p, c in zip(self.engine.parts, cnt, strict=True)])

    def _score(self, vals: FloatArray, gains: FloatArray, weights: FloatArray | None = None) -> FloatArray:
        """Aggregate (or the ``weights``' sum) after adding each candidate; ties broken by the mean gain."""
        new = vals[:, None] + gains
        by = self.engine.pi if weights is None else weights
        agg = new.min(axis=0) if weights is None and self.engine.worst else by @ new
        return agg + 1e-9 * gains.mean(axis=0)

    def greedy(
        self, by_ratio: bool = False, start: FloatArray | None = None, weights: FloatArray | None = None
    ) -> BoolArray:
        """Greedy construction under the rules: by gain, gain per cost, the score ``start``, or the ``weights``' sum."""
        rules = self.rules
        is_open = rules.fixed_mask.copy()
        cnt = self._counts(is_open)
        while rules.p is None or int(is_open.sum()) < rules.p:
            allowed = rules.can_add(is_open) & ~self.closed
            if not allowed.any():
                break
            vals = self._vals(cnt)
            cur = self.engine.aggregate(vals) if weights is None else float(weights @ vals)
            if start is not None:
                score = np.where(allowed, start, -np.inf)
            else:
                gain = self._score(vals, self._gains(cnt), weights) - cur
                if rules.p is None and not (np.where(allowed, gain, -np.inf) > 1e-12).any():
                    break  # budget only: nothing adds coverage any more
                if by_ratio and rules.budget is not None:
                    gain = gain / np.maximum(rules.site_cost, 1e-9)
                score = np.where(allowed, gain, -np.inf)
            j = int(np.argmax(score))
            if not np.isfinite(score[j]):
                break
            is_open[j] = True
            for c, p in zip(cnt, self.engine.parts, strict=True):
                c += p.akc[:, [j]].toarray().ravel()
        return is_open

    def swap_thread(self, weights: FloatArray, seconds: float) -> SwapSearchThread | None:
        """The iterated swap search on the ``weights``' sum of the variants, in a thread; ``None`` if it does not apply.

        The numba search of the single-variant MCLP
        (:mod:`planning.siting.coverage_search`) handles ``Σ y = p`` with fixed
        and closed sites only; it runs on the clients of the weighted variants
        stacked, from the greedy plan of the same sum. With the LP's weights
        of a worst case (:meth:`ScenarioBenders.solve_lp`) the sum is the
        binding variant(s): 10 variants, p = 20 on the generated Kreis of
        ``benchmarks/bench_decisions.py``, where one variant binds, 25 s of it
        reach 93,201–93,306 (three seeds), the swap descent on the worst case
        92,311. Its plans are candidates; the caller judges them by the true
        objective. HiGHS runs on one core, so on two cores this costs the
        solver nothing.
        """
        rules, parts = self.rules, self.engine.parts
        if rules.p is None or rules.budget is not None or (rules.group_min > 0).any():
            return None
        use = [s for s in range(len(parts)) if weights[s] > 0 and parts[s].n_groups]
        if not use:
            return None
        lists = CoverageLists.from_matrix(
            sp.vstack([parts[s].ak for s in use], format="csr"),
            np.concatenate([weights[s] * parts[s].wk for s in use]),
        )
        start = self.greedy(weights=weights)
        return SwapSearchThread(lists, start, ~rules.fixed_mask, ~self.closed | start, seconds)

    def descend(self, is_open: BoolArray, deadline: float) -> BoolArray:
        """Best-improvement swaps (and, without ``p``, additions) until none improves or the deadline."""
        rules, engine = self.rules, self.engine
        is_open = is_open.copy()
        cnt = self._counts(is_open)
        tol = 1e-9 * max(1.0, max(p.total for p in engine.parts))
        for _ in range(20 * max(int(is_open.sum()), 1) + 20):
            if time.perf_counter() > deadline:
                break
            vals = self._vals(cnt)
            cur = engine.aggregate(vals)
            gains = self._gains(cnt)
            best_delta, move = tol, None
            if rules.p is None:  # budget only: try to add a site
                allowed = rules.can_add(is_open) & ~self.closed
                add = np.where(allowed, self._score(vals, gains) - cur, -np.inf)
                j = int(np.argmax(add))
                if add[j] > best_delta:
                    best_delta, move = float(add[j]), (-1, j)
            out = np.flatnonzero(is_open & ~rules.fixed_mask)
            if out.size:
                new = np.repeat(vals[:, None, None], out.size, axis=1) + gains[:, None, :]
                for s, (part, c) in enumerate(zip(engine.parts, cnt, strict=True)):
                    rows1 = np.flatnonzero(c == 1)
                    if rows1.size == 0:
                        continue
                    sub = part.ak[rows1]
                    w1 = part.wk[rows1]
                    loss = sp.csr_array(sub[:, out]).T @ w1
                    cross = (sp.csr_array(sub[:, out]).T @ sp.diags_array(w1) @ sub).toarray()
                    new[s] += cross - loss[:, None]
                agg = new.min(axis=0) if engine.worst else np.tensordot(engine.pi, new, axes=1)
                ok = rules.can_swap(is_open, out) & ~self.closed[None, :]
                delta = np.where(ok, agg - cur, -np.inf)
                o, j = (int(v) for v in np.unravel_index(int(np.argmax(delta)), delta.shape))
                if delta[o, j] > best_delta:
                    best_delta, move = float(delta[o, j]), (int(out[o]), j)
            if move is None:
                break
            o_idx, j = move
            is_open[j] = True
            for c, p in zip(cnt, engine.parts, strict=True):
                c += p.akc[:, [j]].toarray().ravel()
            if o_idx >= 0:
                is_open[o_idx] = False
                for c, p in zip(cnt, engine.parts, strict=True):
                    c -= p.akc[:, [o_idx]].toarray().ravel()
        return is_open
