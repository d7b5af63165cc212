"""Coverage models: maximal covering (MCLP) and location set covering (LSCP)."""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import geopandas as gpd
import numba
import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike
from scipy.optimize import LinearConstraint

from geo.errors import InfeasibleError, Problem, raise_if_problems
from planning.siting.base import (
    _coverage_assignment,
    _gap,
    _milp,
    _SitingModel,
    _unique_rows,
    counts_toward_time_limit,
    near_optimal,
)
from planning.siting.coverage_benders import MasterInfeasibleError, MCLPBenders
from planning.siting.coverage_reduce import _dominated_columns, _drop_dominated_rows
from planning.siting.coverage_search import CoverageLists, SwapSearchThread, iterated_swaps
from planning.siting.inputs import _euclidean, _gdf_inputs, _Pairs, _pairs_from_cost, _validate_cost, _validate_weights
from planning.siting.result import DEFAULT_MAX_EXACT_SIZE, BoolArray, CostLike, FloatArray, IntArray, SitingResult
from planning.siting.rules import _check_feasible, _infeasible_from_solver, _Rules, _rules

log = logging.getLogger(__name__)

#: Batches of perturbations (50 each) in a row without a better plan after which an iterated swap search
#: outside the solver's run stops (a converged search; the background search next to HiGHS uses its time).
SWAP_PATIENCE = 40


class _CoverageModel(_SitingModel):
    """MCLP and LSCP share the aggregated coverage matrix."""

    def __init__(
        self,
        pairs: _Pairs,
        weights: FloatArray,
        rules: _Rules,
        time_limit: float,
        max_exact_size: int,
        notes: Sequence[str] = (),
    ) -> None:
        super().__init__(pairs, weights, rules, time_limit, max_exact_size, notes)
        a = pairs.pattern()
        coverable = np.diff(a.indptr) > 0
        fixed_cov = np.zeros(pairs.n, dtype=bool)
        if rules.fixed.size:
            fixed_cov = np.asarray(a[:, rules.fixed].sum(axis=1)).ravel() > 0
        self._a = a
        self._coverable = coverable
        self._fixed_cov = fixed_cov
        self._aggregated: dict[bytes, tuple[sp.csr_array, FloatArray, IntArray, IntArray]] = {}

    def _aggregate(self, rows: BoolArray) -> tuple[sp.csr_array, FloatArray, IntArray, IntArray]:
        """Distinct coverage rows among ``rows``: matrix, summed weights, member rows, their group.

        Clients with the same set of covering candidates are one row of the
        model with their summed weight (Cordeau, Furini and Ljubić 2019);
        computed once per row selection.
        """
        key = np.packbits(rows).tobytes()
        if key not in self._aggregated:
            idx = np.flatnonzero(rows)
            uniq, inv = _unique_rows(self._a[idx])
            w = np.bincount(inv, weights=self._weights[idx], minlength=uniq.shape[0]).astype(np.float64)
            self._aggregated[key] = (uniq, w, idx.astype(np.int64), inv)
        return self._aggregated[key]

    def _covered(self, is_open: BoolArray) -> BoolArray:
        return np.asarray(self._a @ is_open.astype(float)).ravel() > 0

    def _finish(
        self,
        t0: float,
        sel_mask: BoolArray,
        objective: float,
        bound: float,
        status: str,
        method: str,
        notes: list[str],
        order: IntArray | None = None,
        covered: BoolArray | None = None,
        assignment: IntArray | None = None,
    ) -> SitingResult:
        selected = np.flatnonzero(sel_mask)
        if covered is None:
            covered = self._covered(sel_mask)
        if assignment is None:
            assignment = _coverage_assignment(self._pairs, sel_mask)
        if order is None:
            order = self._order(selected)
        n_unc = int((~self._coverable).sum())
        if n_unc:
            notes.append(
                f"{n_unc} Nachfragepunkt(e) liegen außerhalb der Reichweite jedes Kandidaten (nicht abdeckbar)."
            )
        return SitingResult(
            self.model,
            selected,
            float(objective),
            float(bound),
            _gap(objective, bound),
            status,
            time.perf_counter() - t0,
            method,
            assignment,
            covered,
            order,
            tuple(notes),
        )

    def _order(self, selected: IntArray) -> IntArray:
        """Fixed sites first, then the selected sites by greedy marginal covered weight (ties: index)."""
        fixed = self._rules.fixed
        rest = np.setdiff1d(selected, fixed)
        if rest.size == 0:
            return fixed.copy()
        sub = self._a[:, rest].tocsc()
        sub_t = sp.csr_array(sub.T)
        weight = self._weights if self.model == "mclp" else np.ones(self._pairs.n)
        is_open = np.zeros(self._pairs.m, dtype=bool)
        is_open[fixed] = True
        uncovered = ~self._covered(is_open)
        picked: list[int] = []
        left = np.ones(rest.size, dtype=bool)
        for _ in range(rest.size):  # one pass per selected site (p is small)
            gain = sub_t @ (weight * uncovered)
            gain[~left] = -np.inf
            k = int(np.argmax(gain))
            picked.append(int(rest[k]))
            left[k] = False
            uncovered[sub.indices[sub.indptr[k] : sub.indptr[k + 1]]] = False
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
    _closed: BoolArray | None = None  # candidates never needed (dominated), closed in the search

    @classmethod
    @counts_toward_time_limit
    def from_cost_matrix(
        cls,
        cost: CostLike,
        weights: ArrayLike,
        service_radius: float,
        p: int,
        fixed: ArrayLike | None = None,
        *,
        budget: float | None = None,
        site_cost: ArrayLike | None = None,
        min_per_group: tuple[ArrayLike, int | Mapping[Any, int]] | None = None,
        capacity: ArrayLike | float | None = None,
        time_limit: float = 60.0,
        max_exact_size: int = DEFAULT_MAX_EXACT_SIZE,
    ) -> MCLP:
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
            Seconds for building the model (this call included) and solving it.
        max_exact_size
            Above this many nonzeros of the aggregated model (distinct coverage
            rows) the greedy+swap fallback is used.

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
    @counts_toward_time_limit
    def from_geodataframes(
        cls,
        demand_gdf: gpd.GeoDataFrame,
        candidates_gdf: gpd.GeoDataFrame,
        weights_col: str,
        service_radius: float,
        p: int,
        *,
        fixed_col: str | None = None,
        cost_col: str | None = None,
        budget: float | None = None,
        group_col: str | None = None,
        min_per_group: int | Mapping[Any, int] | None = None,
        capacity_col: str | None = None,
        time_limit: float = 60.0,
        max_exact_size: int = DEFAULT_MAX_EXACT_SIZE,
    ) -> MCLP:
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
        w, cand_kwargs = _gdf_inputs(
            demand_gdf, candidates_gdf, weights_col, fixed_col, cost_col, group_col, min_per_group, capacity_col, budget
        )
        cost = _euclidean(demand_gdf, candidates_gdf, float(service_radius))
        return cls.from_cost_matrix(
            cost, w, service_radius, p, time_limit=time_limit, max_exact_size=max_exact_size, **cand_kwargs
        )

    def _size(self) -> int:
        """Nonzeros of the aggregated model (one row per distinct coverage set)."""
        rows = self._coverable & (self._weights > 0)
        if self._rules.capacity is None:
            rows &= ~self._fixed_cov
        return int(self._aggregate(rows)[0].nnz)

    def _free_rows(self) -> BoolArray:
        """Clients the choice decides: coverable, not covered by a fixed site, with weight."""
        return self._coverable & ~self._fixed_cov & (self._weights > 0)

    def _swap_only(self) -> bool:
        """Whether ``Σ y = p`` (with fixed sites) is the only rule: the numba swap search applies."""
        return self._rules.budget is None and not (self._rules.group_min > 0).any()

    def _swap_args(self, start: BoolArray) -> tuple[CoverageLists, BoolArray, BoolArray, BoolArray]:
        """Coverage lists, start, movable (not fixed) and allowed (not closed) candidates of the swap search."""
        if not hasattr(self, "_lists"):
            ak, wk, _, _ = self._aggregate(self._free_rows())
            self._lists = CoverageLists.from_matrix(ak, wk)
        allowed = np.ones(self._pairs.m, dtype=bool) if self._closed is None else ~self._closed
        return self._lists, start, ~self._rules.fixed_mask, allowed | start

    def _swaps(self, start: BoolArray, seconds: float) -> BoolArray:
        """Iterated swap search (:mod:`planning.siting.coverage_search`) from ``start``, at most ``seconds``.

        It ends earlier once :data:`SWAP_PATIENCE` batches of perturbations in a row found nothing better.
        """
        return iterated_swaps(*self._swap_args(start), seconds, patience=SWAP_PATIENCE)[0]

    def _swap_thread(self, start: BoolArray, seconds: float) -> SwapSearchThread:
        """The iterated swap search from ``start`` in a worker thread, for at most ``seconds``."""
        return SwapSearchThread(*self._swap_args(start), seconds)

    # ---- exact
    def _exact(self, t0: float, notes: list[str]) -> SitingResult | None:
        """Benders decomposition (:mod:`planning.siting.coverage_benders`) with a swap incumbent.

        0. dominated candidates closed (only with ``Σ y = p`` as the sole rule),
        1. incumbent: greedy + swap local search,
        2. LP relaxation of the Benders master by stabilised cutting planes,
        3. LP rounding + swap (a second incumbent),
        4. reduced-cost fixing against the incumbent,
        5. iterated master MIP on the remaining candidates (each master
           solution improved by swaps; HiGHS' heuristics only while the gap
           to the LP bound exceeds 0.5 %).

        ``optimal`` is reported only when the best solution's exact covered
        weight reaches the master's proven bound (or the LP bound).
        """
        rules = self._rules
        m = self._pairs.m
        if rules.capacity is not None:
            return self._exact_capacitated(t0, notes)
        const = float(self._weights[self._fixed_cov].sum())
        rows = self._coverable & ~self._fixed_cov & (self._weights > 0)
        ak, wk, idx, inv = self._aggregate(rows)
        lb = np.zeros(m)
        lb[rules.fixed] = 1.0
        ub = np.ones(m)
        if rules.budget is None and not (rules.group_min > 0).any():
            # a candidate covering a subset of another's clients is never needed (Σ y = p only)
            dominated = _dominated_columns(ak) & (lb == 0)
            assert rules.p is not None
            if int((~dominated).sum()) >= rules.p:
                ub[dominated] = 0.0
                self._closed = dominated
                log.info("MCLP: %d dominierte Kandidaten geschlossen", int(dominated.sum()))
        bend = MCLPBenders(ak, wk, self._groups(idx, inv, ak.shape[0]), rules.rows(m), lb, ub)
        inc_open: BoolArray | None = None
        inc_val = -np.inf

        def offer(y: BoolArray) -> None:
            nonlocal inc_open, inc_val
            val = float(self._weights[self._covered(y)].sum())
            if val > inc_val:
                inc_open, inc_val = y, val

        heur = min(self.time_limit / 10, 30.0)
        background: SwapSearchThread | None = None
        with contextlib.suppress(InfeasibleError):
            start = self._local_search(t0, heur)[0]
            offer(start)
            if self._swap_only() and numba.get_num_threads() > 1:
                # iterated swaps on the second core for the whole run, next to HiGHS on the first
                background = self._swap_thread(start, self.time_limit - self._elapsed(t0) - 0.5)
            elif self._swap_only():  # one core: iterated swaps first, a near-optimal plan in seconds
                offer(self._swaps(start, heur - self._elapsed(t0)))
        try:  # the background search stops however this ends
            assert rules.p is not None
            try:
                lp = bend.solve_lp(rules.p, inc_open, t0 + 0.5 * self.time_limit)
            except MasterInfeasibleError:
                raise _infeasible_from_solver(
                    rules, "die Bedingungen an die Standortauswahl widersprechen sich."
                ) from None
            upper = const + lp.upper
            if np.isfinite(lp.upper):
                with contextlib.suppress(InfeasibleError):
                    rounded = self._local_search(t0, heur + self._elapsed(t0), lp.y)[0]
                    offer(self._swaps(rounded, heur / 4) if self._swap_only() and background is None else rounded)
            if background is not None:
                offer(background.best()[0])
            if inc_open is not None and np.isfinite(lp.upper):
                # min form (objective -Σθ): forcing y_j to 1 (0) costs at least max(±d_j, 0) of the LP bound
                tol = 1e-7 * max(1.0, abs(inc_val))
                fix0 = (upper - np.maximum(lp.reduced, 0.0) < inc_val - tol) & (lb == 0)
                fix1 = (upper - np.maximum(-lp.reduced, 0.0) < inc_val - tol) & (bend.ub_y > 0)
                bend.ub_y[fix0] = 0.0
                bend.lb_y[fix1] = 1.0
                log.info(
                    "MCLP: LP-Schranke %.6g (%d Runden, %d Schnitte), Startlösung %.6g, %d Kandidaten fixiert",
                    upper,
                    lp.rounds,
                    lp.cuts,
                    inc_val,
                    int(fix0.sum() + fix1.sum()),
                )
            if inc_open is not None and inc_val >= upper - 1e-9 * max(1.0, abs(upper)):
                return self._finish(t0, inc_open, inc_val, inc_val, "optimal", "highs-benders", notes)
            try:
                proof = inc_open is not None and near_optimal(inc_val, upper)
                mip = bend.solve_mip(inc_open, inc_val - const, t0 + self.time_limit, self._improver(t0), proof)
            except MasterInfeasibleError:
                if inc_open is None:
                    raise _infeasible_from_solver(
                        rules, "die Bedingungen an die Standortauswahl widersprechen sich."
                    ) from None
                # nothing strictly better than the incumbent survives the fixing
                return self._finish(t0, inc_open, inc_val, inc_val, "optimal", "highs-benders", notes)
            if mip.y is not None:
                offer(mip.y)
            if background is not None:
                offer(background.finish()[0])
            if inc_open is None:
                return None
            bound = max(min(upper, const + mip.bound), inc_val)
            status = "optimal" if mip.optimal and _gap(inc_val, bound) == 0.0 else "time_limit"
            if status == "optimal":
                bound = inc_val
            return self._finish(t0, inc_open, inc_val, bound, status, "highs-benders", notes)
        finally:
            if background is not None:
                background.finish()

    def _improver(self, t0: float) -> Callable[[BoolArray], BoolArray]:
        """Swap descent from a given open mask (for the master MIP's solutions)."""
        if self._swap_only():
            return lambda y: self._swaps(y, 0.0)  # one descent
        rows = self._coverable & ~self._fixed_cov & (self._weights > 0)
        ak, wk, _, _ = self._aggregate(rows)
        akc = ak.tocsc()

        def improve(y: BoolArray) -> BoolArray:
            cnt = np.asarray(akc @ y.astype(float)).ravel()
            return self._descend(akc, wk, y, cnt, t0, self.time_limit + 2.0)[0]  # a short grace: one descent

        return improve

    def _groups(self, idx: IntArray, inv: IntArray, k: int) -> IntArray:
        """Group of each aggregated client: its (nearest, second-nearest) candidate pair."""
        if k == 0:
            return np.zeros(0, dtype=np.int64)
        pr = self._pairs
        _, first = np.unique(inv, return_index=True)
        rows = idx[first]
        start = pr.indptr[rows]
        second = pr.indices[start + np.minimum(1, pr.row_len[rows] - 1)]
        _, group = np.unique(pr.indices[start].astype(np.int64) * pr.m + second, return_inverse=True)
        return group.ravel().astype(np.int64)

    @staticmethod
    def _elapsed(t0: float) -> float:
        return time.perf_counter() - t0

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
        capr = sp.csr_array(
            (np.r_[wk[kk], -rules.capacity], (np.r_[jj, np.arange(m)], np.r_[m + ar, np.arange(m)])), shape=(m, nv)
        )
        cons = [
            LinearConstraint(one, -np.inf, 1.0),
            LinearConstraint(link, -np.inf, 0.0),
            LinearConstraint(capr, -np.inf, 0.0),
            *rules.rows(nv),
        ]
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
        notes.append(
            "Mit Kapazitäten kann die Nachfrage eines Punktes auf mehrere Standorte aufgeteilt werden; "
            "das Ziel ist das versorgte Gewicht."
        )
        return self._finish(
            t0,
            y,
            objective,
            bound,
            "optimal" if res.status == 0 else "time_limit",
            "highs-milp",
            notes,
            covered=covered,
            assignment=assignment,
        )

    # ---- heuristic
    def _heuristic(self, t0: float, notes: list[str]) -> SitingResult:
        is_open, order, swapped, cnt = self._local_search(t0, self.time_limit)
        rows = self._coverable & ~self._fixed_cov & (self._weights > 0)
        ak, wk, _, _ = self._aggregate(rows)
        if self._swap_only():  # half of the time left for iterated swaps, the rest for the LP bound
            better = self._swaps(is_open, 0.5 * (self.time_limit - self._elapsed(t0)))
            if not np.array_equal(better, is_open):
                is_open, swapped = better, True
                cnt = np.asarray(ak @ is_open.astype(float)).ravel()
        const = float(self._weights[self._fixed_cov].sum())
        objective = float(self._weights[self._covered(is_open)].sum())
        bound = self._upper_bound(ak, wk, const, cnt, objective, t0)
        final_order = None if swapped else np.array(order, dtype=np.int64)
        return self._finish(t0, is_open, objective, bound, "heuristic", "greedy+swap", notes, order=final_order)

    def _local_search(
        self, t0: float, deadline: float, score: FloatArray | None = None
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
            if self._closed is not None and (allowed & ~self._closed).any():
                allowed &= ~self._closed
            if not allowed.any():
                raise InfeasibleError(
                    f"Die Heuristik findet keine zulässige Auswahl unter den Bedingungen ({rules.names()})."
                )
            gain = np.where(allowed, gain, -np.inf)
            j = int(np.argmax(gain))
            is_open[j] = True
            order.append(j)
            cnt += np.asarray(akc[:, [j]].toarray()).ravel()
        if self._swap_only():  # one descent with the numba kernels
            found = self._swaps(is_open, 0.0)
            swapped = not np.array_equal(found, is_open)
            return found, order, swapped, np.asarray(akc @ found.astype(float)).ravel()
        is_open, cnt, swapped = self._descend(akc, wk, is_open, cnt, t0, deadline)
        return is_open, order, swapped, cnt

    def _descend(
        self, akc: sp.csc_array, wk: FloatArray, is_open: BoolArray, cnt: FloatArray, t0: float, deadline: float
    ) -> tuple[BoolArray, FloatArray, bool]:
        """Best-improvement swaps until none improves (or ``deadline`` seconds after ``t0``)."""
        rules = self._rules
        assert rules.p is not None
        is_open, cnt = is_open.copy(), cnt.copy()
        swapped = False
        for _ in range(20 * rules.p):  # each swap is one sparse product
            if time.perf_counter() - t0 > deadline:
                break
            out = np.flatnonzero(is_open)
            single = wk * (cnt == 1)
            add = akc.T @ (wk * (cnt == 0))
            loss = akc[:, out].T @ single
            cross = (akc[:, out].T @ sp.diags_array(single) @ akc).toarray()
            delta = add[None, :] + cross - loss[:, None]
            ok = rules.can_swap(is_open, out)
            if self._closed is not None:
                ok[:, self._closed] = False
            delta = np.where(ok, delta, -np.inf)
            s, j = (int(v) for v in np.unravel_index(int(np.argmax(delta)), delta.shape))
            if delta[s, j] <= 1e-9 * max(1.0, float(wk.sum())):
                break
            is_open[out[s]] = False
            is_open[j] = True
            cnt += np.asarray(akc[:, [j]].toarray()).ravel() - np.asarray(akc[:, [out[s]]].toarray()).ravel()
            swapped = True
        return is_open, cnt, swapped

    def _upper_bound(
        self, ak: sp.csr_array, wk: FloatArray, const: float, cnt: FloatArray, objective: float, t0: float
    ) -> float:
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
        res = _milp(
            np.concatenate([np.zeros(m), -wk]),
            [LinearConstraint(link, -np.inf, 0.0), *rules.rows(nv)],
            np.zeros(nv),
            lb,
            np.ones(nv),
            max(self._remaining(t0), 5.0),
        )
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
    @counts_toward_time_limit
    def from_cost_matrix(
        cls,
        cost: CostLike,
        service_radius: float,
        fixed: ArrayLike | None = None,
        *,
        budget: float | None = None,
        site_cost: ArrayLike | None = None,
        min_per_group: tuple[ArrayLike, int | Mapping[Any, int]] | None = None,
        time_limit: float = 60.0,
        max_exact_size: int = DEFAULT_MAX_EXACT_SIZE,
    ) -> LSCP:
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
    @counts_toward_time_limit
    def from_geodataframes(
        cls,
        demand_gdf: gpd.GeoDataFrame,
        candidates_gdf: gpd.GeoDataFrame,
        service_radius: float,
        *,
        fixed_col: str | None = None,
        cost_col: str | None = None,
        budget: float | None = None,
        group_col: str | None = None,
        min_per_group: int | Mapping[Any, int] | None = None,
        time_limit: float = 60.0,
        max_exact_size: int = DEFAULT_MAX_EXACT_SIZE,
    ) -> LSCP:
        """Create an LSCP from GeoDataFrames (straight-line distance, metres).

        Notes
        -----
        Inputs must be in EPSG:25832; distances in metres.
        """
        _, cand_kwargs = _gdf_inputs(
            demand_gdf, candidates_gdf, None, fixed_col, cost_col, group_col, min_per_group, None, budget
        )
        cost = _euclidean(demand_gdf, candidates_gdf, float(service_radius))
        return cls.from_cost_matrix(
            cost, service_radius, time_limit=time_limit, max_exact_size=max_exact_size, **cand_kwargs
        )

    def _size(self) -> int:
        return int(self._a[np.flatnonzero(self._coverable & ~self._fixed_cov)].nnz)

    def _exact(self, t0: float, notes: list[str]) -> SitingResult | None:
        rules = self._rules
        m = self._pairs.m
        rows = self._coverable & ~self._fixed_cov
        if int(self._a[np.flatnonzero(rows)].nnz) < 5_000:  # tiny: HiGHS' presolve is quicker than our passes
            ak = self._a[np.flatnonzero(rows)]
        else:
            ak, _, _, _ = self._aggregate(rows)
        if ak.nnz >= 20_000:
            ak = _drop_dominated_rows(ak)
        cons = [LinearConstraint(ak, 1.0, np.inf), *rules.rows(m)] if ak.shape[0] else rules.rows(m)
        lb = np.zeros(m)
        lb[rules.fixed] = 1.0
        res = _milp(np.ones(m), cons, np.ones(m), lb, np.ones(m), self._remaining(t0))
        if res.status == 2:
            raise _infeasible_from_solver(
                rules, "die abdeckbare Nachfrage lässt sich unter diesen Bedingungen nicht vollständig abdecken."
            )
        y = np.round(res.x) > 0.5 if res.x is not None else None
        if res.status != 0:  # time limit: the greedy cover may be better than HiGHS' incumbent
            try:
                g_open = self._greedy_cover(ak)[0]
            except InfeasibleError:
                g_open = None
            if g_open is not None and (y is None or g_open.sum() < y.sum()):
                y = g_open
        if y is None:
            return None
        objective = float(y.sum())
        bound = float(np.ceil(res.mip_dual_bound - 1e-6)) if res.mip_dual_bound is not None else objective
        return self._finish(
            t0, y, objective, min(bound, objective), "optimal" if res.status == 0 else "time_limit", "highs-milp", notes
        )

    def _greedy_cover(self, ak: sp.csr_array) -> tuple[BoolArray, list[int], bool]:
        """Greedy cover (most uncovered rows per cost), then redundant sites dropped; open mask, order, dropped?"""
        rules = self._rules
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
                raise InfeasibleError(
                    "Die Heuristik findet keine Auswahl, die alle abdeckbare Nachfrage unter den "
                    f"Bedingungen ({rules.names()}) abdeckt."
                )
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
        return is_open, order, removed

    def _heuristic(self, t0: float, notes: list[str]) -> SitingResult:
        rules = self._rules
        ak, _, _, _ = self._aggregate(self._coverable & ~self._fixed_cov)
        is_open, order, removed = self._greedy_cover(ak)
        objective = float(is_open.sum())
        m = rules.m
        lb = np.zeros(m)
        lb[rules.fixed] = 1.0
        cons = [LinearConstraint(ak, 1.0, np.inf), *rules.rows(m)] if ak.shape[0] else rules.rows(m)
        res = _milp(np.ones(m), cons, np.zeros(m), lb, np.ones(m), max(self._remaining(t0), 5.0))
        bound = float(np.ceil(res.fun - 1e-6)) if res.status == 0 else float(rules.fixed.size)
        final_order = None if removed else np.array(order, dtype=np.int64)
        return self._finish(
            t0, is_open, objective, min(bound, objective), "heuristic", "greedy+swap", notes, order=final_order
        )
