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
from planning.siting.base import _gap, _milp, _SitingModel, _split_constraints, _unique_rows
from planning.siting.inputs import _euclidean, _gdf_inputs, _Pairs, _pairs_from_cost, _validate_cost, _validate_weights
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

