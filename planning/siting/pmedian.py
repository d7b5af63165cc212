"""The p-median model: Benders decomposition for the uncapacitated case, assignment model with capacities."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike
from scipy.optimize import LinearConstraint

from geo.errors import InfeasibleError, Problem, raise_if_problems
from planning.siting.base import _gap, _milp, _SitingModel, _unique_rows, counts_toward_time_limit
from planning.siting.inputs import _euclidean, _gdf_inputs, _Pairs, _pairs_from_cost, _validate_cost, _validate_weights
from planning.siting.pmedian_exact import PMedianBenders, _LPInfeasibleError, branch_and_cut
from planning.siting.result import DEFAULT_MAX_EXACT_SIZE, BoolArray, CostLike, FloatArray, IntArray, SitingResult
from planning.siting.rules import _check_feasible, _infeasible_from_solver, _Rules, _rules

log = logging.getLogger(__name__)


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
        self._ok = pairs.row_len > 0

    @classmethod
    @counts_toward_time_limit
    def from_cost_matrix(
        cls,
        cost: CostLike,
        weights: ArrayLike,
        p: int,
        fixed: ArrayLike | None = None,
        *,
        capacity: ArrayLike | float | None = None,
        budget: float | None = None,
        site_cost: ArrayLike | None = None,
        min_per_group: tuple[ArrayLike, int | Mapping[Any, int]] | None = None,
        time_limit: float = 60.0,
        max_exact_size: int = DEFAULT_MAX_EXACT_SIZE,
    ) -> PMedian:
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
            notes.append(f"{int((~ok).sum())} Nachfragepunkt(e) ohne erreichbaren Kandidaten bleiben unberücksichtigt.")
        return cls(pairs, w, rules, time_limit, max_exact_size, notes)

    @classmethod
    @counts_toward_time_limit
    def from_geodataframes(
        cls,
        demand_gdf: gpd.GeoDataFrame,
        candidates_gdf: gpd.GeoDataFrame,
        weights_col: str,
        p: int,
        *,
        max_distance: float | None = None,
        fixed_col: str | None = None,
        cost_col: str | None = None,
        budget: float | None = None,
        group_col: str | None = None,
        min_per_group: int | Mapping[Any, int] | None = None,
        capacity_col: str | None = None,
        time_limit: float = 60.0,
        max_exact_size: int = DEFAULT_MAX_EXACT_SIZE,
    ) -> PMedian:
        """Create a p-median model from GeoDataFrames (straight-line distance, metres).

        ``max_distance`` (metres) makes the cost matrix sparse: farther pairs
        are unreachable.

        Notes
        -----
        Inputs must be in EPSG:25832; distances in metres.
        """
        w, cand_kwargs = _gdf_inputs(
            demand_gdf, candidates_gdf, weights_col, fixed_col, cost_col, group_col, min_per_group, capacity_col, budget
        )
        cost = _euclidean(demand_gdf, candidates_gdf, max_distance)
        return cls.from_cost_matrix(cost, w, p, time_limit=time_limit, max_exact_size=max_exact_size, **cand_kwargs)

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
            secondary = np.bincount(
                pr.indices, weights=np.where(unassigned, 0.0, w * np.maximum(d1 - pr.cost, 0.0)), minlength=pr.m
            )
            allowed = np.flatnonzero(rules.can_add(is_open))
            if allowed.size == 0:
                raise InfeasibleError(
                    f"Die Heuristik findet keine zulässige Auswahl unter den Bedingungen ({rules.names()})."
                )
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
                h = sp.coo_array(
                    (np.ones(int(lone_e.sum())), (pos[n1[lone_e]], pr.indices[lone_e])), shape=(out.size, pr.m)
                ).toarray()
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
        """Fixed sites first, then the others by greedy marginal cost reduction among the selected.

        Works on the pairs of the selected candidates only, with the nearest
        open distance per demand point updated incrementally.
        """
        fixed = self._rules.fixed
        rest = np.setdiff1d(selected, fixed)
        pr = self._pairs
        d1 = self._nearest(self._rules.fixed_mask).d1
        in_rest = np.zeros(pr.m, dtype=bool)
        in_rest[rest] = True
        e = in_rest[pr.indices]
        rows, cand_e, cost = pr.rows[e], pr.indices[e], pr.cost[e]
        w = self._weights[rows]
        local = np.searchsorted(rest, cand_e)
        picked: list[int] = []
        remaining = np.ones(rest.size, dtype=bool)
        for _ in range(rest.size):
            de = d1[rows]
            unassigned = np.isinf(de)
            primary = np.bincount(local, weights=np.where(unassigned, w, 0.0), minlength=rest.size)
            secondary = np.bincount(
                local, weights=np.where(unassigned, 0.0, w * np.maximum(de - cost, 0)), minlength=rest.size
            )
            cand = np.flatnonzero(remaining)
            k = int(cand[np.lexsort((-cand, secondary[cand], primary[cand]))[-1]])
            remaining[k] = False
            picked.append(int(rest[k]))
            mine = local == k
            np.minimum.at(d1, rows[mine], cost[mine])
            useful = cost < d1[rows]  # entries that can no longer improve anything are dropped
            rows, local, cost, w = rows[useful], local[useful], cost[useful], w[useful]
        return np.concatenate([fixed, np.array(picked, dtype=np.int64)])

    def _finish(
        self,
        t0: float,
        is_open: BoolArray,
        objective: float,
        bound: float,
        status: str,
        method: str,
        notes: list[str],
        order: IntArray | None = None,
        assignment: IntArray | None = None,
    ) -> SitingResult:
        selected = np.flatnonzero(is_open)
        if assignment is None:
            assignment = np.where(self._ok, self._nearest(is_open).n1, -1)
        if order is None:
            order = self._order(selected)
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
            None,
            order,
            tuple(notes),
        )

    # ---- exact solve: stabilised Benders LP, rounding + swap, branch-and-Benders-cut
    def _benders_model(self) -> PMedianBenders:
        rules = self._rules
        pr = self._pairs
        m = pr.m
        extra = [LinearConstraint(sp.csr_array(c.A)[:, :m], c.lb, c.ub) for c in rules.rows(m)]
        # feasibility: every demand point needs a reachable open site (only rows not reaching all candidates)
        partial = self._ok & (pr.row_len < m)
        if rules.fixed.size:
            partial &= ~np.isfinite(self._nearest(rules.fixed_mask).d1)
        if partial.any():
            uniq, _ = _unique_rows(pr.pattern()[np.flatnonzero(partial)])
            extra.append(LinearConstraint(uniq, 1.0, np.inf))
        return PMedianBenders(pr, self._weights, self._ok, extra, rules.fixed_mask.astype(float), np.ones(m))

    def _integral(self) -> bool:
        """Whether every objective value is an integer (integral weights and costs), so bounds may be rounded up."""
        w = self._weights[self._pairs.rows]
        c = self._pairs.cost
        return bool(np.all(w == np.round(w)) and np.all(c == np.round(c)) and float(np.abs(w * c).sum()) < 2.0**50)

    def _lp_round(self, y: FloatArray, t0: float, swap_until: float) -> tuple[BoolArray, float]:
        """Round an LP solution (largest values first) and improve it by swaps; ``inf`` when no admissible rounding."""
        try:
            is_open = self._round(y)
        except InfeasibleError:
            return self._rules.fixed_mask.copy(), np.inf
        if swap_until > 0:
            is_open, _ = self._swap(is_open, t0, swap_until)
        return is_open, self._value(is_open)[0]

    def _exact_uncapacitated(self, t0: float, notes: list[str]) -> SitingResult | None:
        deadline = t0 + self.time_limit
        b = self._benders_model()
        try:
            lp = b.solve_lp(None, t0 + 0.6 * self.time_limit)
        except _LPInfeasibleError:
            raise _infeasible_from_solver(
                self._rules, "nicht jede Nachfrage kann von einem erreichbaren offenen Standort bedient werden."
            ) from None
        best, best_val = self._lp_round(lp.y, t0, 0.8 * self.time_limit)
        if not np.isfinite(best_val):
            try:
                best, _, _ = self._local_search(t0, 0.9 * self.time_limit)
                best_val = self._value(best)[0]
            except InfeasibleError:
                best_val = np.inf
        if not np.isfinite(best_val):
            return None
        lower = lp.lower
        integral = self._integral()
        if lp.converged and time.perf_counter() < deadline:
            slack = 1.0 - 1e-6 if integral else 1e-9 * max(1.0, abs(best_val))
            fix0 = (lp.lower + lp.reduced > best_val - slack) & (b.lb_y == 0)
            fix1 = lp.lower - lp.reduced > best_val - slack

            def heuristic(y: FloatArray) -> tuple[BoolArray, float]:
                return self._lp_round(y, t0, 0.0)

            bc = branch_and_cut(b, lp.lower, best, best_val, fix0, fix1, deadline, heuristic, integral)
            log.info(
                "p-Median: LP-Schranke %.6g nach %d Runden (%d Schnitte), %d Kandidaten fixiert, %d Knoten",
                lp.lower,
                lp.rounds,
                lp.cuts,
                int(fix0.sum() + fix1.sum()),
                bc.nodes,
            )
            best, best_val, lower = bc.best, bc.value, max(lower, bc.bound)
            if bc.proven:
                return self._finish(t0, best, best_val, best_val, "optimal", "highs-benders", notes)
        if integral:
            lower = float(np.ceil(lower - 1e-6))
        if lower >= best_val - 1e-9 * max(1.0, abs(best_val)):
            return self._finish(t0, best, best_val, best_val, "optimal", "highs-benders", notes)
        msg = (
            f"Zeitlimit von {self.time_limit:g} s erreicht: die Lösung ist höchstens "
            f"{100 * _gap(best_val, lower):.2f} % schlechter als das Optimum (Schranke {lower:.6g})."
        )
        log.warning(msg)
        notes.append(msg)
        return self._finish(t0, best, best_val, min(lower, best_val), "time_limit", "highs-benders", notes)

    def _exact(self, t0: float, notes: list[str]) -> SitingResult | None:
        if self._rules.capacity is not None:
            return self._exact_capacitated(t0, notes)
        return self._exact_uncapacitated(t0, notes)

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
        link = sp.csr_array((np.r_[np.ones(e), -np.ones(e)], (np.r_[ar, ar], np.r_[m + ar, pr.indices])), shape=(e, nv))
        capr = sp.csr_array(
            (np.r_[we, -rules.capacity], (np.r_[pr.indices, np.arange(m)], np.r_[m + ar, np.arange(m)])), shape=(m, nv)
        )
        cons = [
            LinearConstraint(assign, 1.0, 1.0),
            LinearConstraint(link, -np.inf, 0.0),
            LinearConstraint(capr, -np.inf, 0.0),
            *rules.rows(nv),
        ]
        lb = np.zeros(nv)
        lb[rules.fixed] = 1.0
        res = _milp(
            np.r_[np.zeros(m), we * pr.cost], cons, np.r_[np.ones(m), np.zeros(e)], lb, np.ones(nv), self._remaining(t0)
        )
        if res.status == 2:
            raise _infeasible_from_solver(
                rules, "die Kapazitäten der erreichbaren Standorte reichen nicht für die Nachfrage."
            )
        if res.x is None:
            return None
        y = np.round(res.x[:m]) > 0.5
        x = res.x[m:]
        share = sp.csr_array((x, (rows, pr.indices)), shape=(pr.n, m))
        assignment = np.where(self._ok, np.asarray(share.argmax(axis=1)).ravel(), -1)
        notes.append("Mit Kapazitäten kann die Nachfrage eines Punktes auf mehrere Standorte aufgeteilt werden.")
        objective = float(res.fun)
        bound = min(float(res.mip_dual_bound), objective)
        return self._finish(
            t0,
            y,
            objective,
            bound,
            "optimal" if res.status == 0 else "time_limit",
            "highs-milp",
            notes,
            assignment=assignment,
        )

    def _heuristic(self, t0: float, notes: list[str]) -> SitingResult:
        is_open, order, swapped = self._local_search(t0, 0.8 * self.time_limit)
        value = self._value(is_open)[0]
        if not np.isfinite(value):
            raise InfeasibleError(
                "Die Heuristik findet keine Auswahl, bei der jede Nachfrage einen erreichbaren "
                f"Standort hat ({self._rules.names()}). Bitte p oder die Reichweite erhöhen."
            )
        # the LP bound gets the remaining time (at least 1 s)
        bound = 0.0
        try:
            lp = self._benders_model().solve_lp(None, time.perf_counter() + max(self._remaining(t0), 1.0))
            bound = lp.lower if np.isfinite(lp.lower) else 0.0
            if self._integral():
                bound = float(np.ceil(bound - 1e-6))
            lp_open, lp_val = self._lp_round(lp.y, t0, self.time_limit)
            if lp_val < value:
                is_open, value, swapped = lp_open, lp_val, True
        except _LPInfeasibleError:
            pass
        return self._finish(
            t0,
            is_open,
            value,
            min(bound, value),
            "heuristic",
            "greedy+swap",
            notes,
            order=None if swapped else np.array(order, dtype=np.int64),
        )
