"""The budget frontier: people reached against budget, each point an exact budget-constrained MCLP.

For each budget ``B`` the frontier gives the most people any set of new
sites costing at most ``B`` reaches (:class:`planning.siting.robust.RobustMCLP`
with one variant, no ``p``, solved exactly with HiGHS). All points share one
model and one pool of Benders cuts (the cuts do not depend on the budget),
and the plan of each budget starts the search of the next.

The existing (fixed) sites are open at every point and their cost is not
counted: the budget is what the new sites cost on the chosen basis (yearly,
one-off or annualised; :class:`planning.costs.CostBasis`). The result is data
for a chart (:meth:`BudgetFrontier.table`), not a picture.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from numpy.typing import ArrayLike

from geo.errors import DataError
from planning.siting.base import _gap
from planning.siting.result import CostLike, FloatArray
from planning.siting.robust import RobustMCLP, RobustResult

logger = logging.getLogger(__name__)

#: Default number of budget points.
DEFAULT_POINTS = 10


class NothingToBuyError(DataError):
    """No new site reaches anyone the existing sites do not: there is no budget to draw a frontier over."""


@dataclass(frozen=True)
class FrontierPoint:
    """One budget of the frontier and its optimal plan.

    Attributes
    ----------
    budget
        The budget (euros on the frontier's cost basis).
    cost
        What the plan's new sites cost (``≤ budget``).
    covered
        People reached (fixed sites included).
    newly_reached
        People reached that the fixed sites do not reach.
    sites
        Candidate indices of the new sites.
    bound, gap, status, seconds
        Proven bound of ``covered``, relative gap, ``"optimal"`` or
        ``"time_limit"``, solve time.
    """

    budget: float
    cost: float
    covered: float
    newly_reached: float
    sites: tuple[int, ...]
    bound: float
    gap: float
    status: str
    seconds: float

    @property
    def eur_per_newly_reached(self) -> float:
        """``cost / newly_reached`` (NaN when nobody is newly reached)."""
        return self.cost / self.newly_reached if self.newly_reached > 0 else float("nan")


@dataclass(frozen=True)
class BudgetFrontier:
    """People reached against budget (immutable).

    Attributes
    ----------
    points
        One :class:`FrontierPoint` per budget, by increasing budget.
    total
        Total demand weight.
    baseline
        Weight the fixed sites reach (budget 0).
    cost_label
        What the budget counts (German, e.g. »Jährliche Kosten«).
    seconds
        Wall-clock time of all points (model build included).
    """

    points: tuple[FrontierPoint, ...]
    total: float
    baseline: float
    cost_label: str
    seconds: float

    @property
    def all_optimal(self) -> bool:
        """Whether every point is proven optimal."""
        return all(p.status == "optimal" for p in self.points)

    def table(self) -> pd.DataFrame:
        """One row per budget, ready for a chart: budget, cost, reached, shares, € per newly reached, status."""
        rows = [
            {
                "budget": p.budget,
                "cost": p.cost,
                "covered": p.covered,
                "newly_reached": p.newly_reached,
                "share": p.covered / self.total if self.total > 0 else np.nan,
                "n_sites": len(p.sites),
                "eur_per_newly_reached": p.eur_per_newly_reached,
                "bound": p.bound,
                "gap": p.gap,
                "status": p.status,
                "seconds": p.seconds,
            }
            for p in self.points
        ]
        return pd.DataFrame(rows)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready dict (NaN as ``None``)."""
        table = self.table().astype(object).where(self.table().notna(), None)
        points = table.to_dict(orient="records")
        for rec, p in zip(points, self.points, strict=True):
            rec["sites"] = list(p.sites)
        return {
            "total": self.total,
            "baseline": self.baseline,
            "cost_label": self.cost_label,
            "seconds": self.seconds,
            "all_optimal": self.all_optimal,
            "points": points,
        }


def default_budgets(
    coverage: sp.csr_array,
    weights: FloatArray,
    site_cost: FloatArray,
    fixed: FloatArray,
    n_points: int = DEFAULT_POINTS,
) -> FloatArray:
    """Budgets from the cheapest useful new site to what reaches everyone coverable, evenly on a log scale.

    The upper end is the cost of a greedy cover (best gain per euro until no
    candidate adds anyone): every budget above it reaches all that can be
    reached. The steps grow by a constant factor, so the steep start of the
    frontier gets as many points as its flat end. Budgets are rounded to
    whole euros.
    """
    a = sp.csc_array(coverage)
    covered = (a @ fixed) > 0
    is_new = fixed == 0
    spent = 0.0
    useful = np.flatnonzero(is_new & (a.T @ (weights * ~covered) > 0))
    if useful.size == 0:
        return np.zeros(0)
    cheapest = float(site_cost[useful].min())
    while True:  # one step per site of the greedy cover
        gain = a.T @ (weights * ~covered)
        ratio = np.where(is_new & (gain > 0), gain / np.maximum(site_cost, 1e-9), -np.inf)
        j = int(np.argmax(ratio))
        if not np.isfinite(ratio[j]):
            break
        spent += float(site_cost[j])
        is_new[j] = False
        covered |= a[:, [j]].toarray().ravel() > 0
    top = max(spent, cheapest)
    return np.unique(np.round(np.geomspace(cheapest, top, max(int(n_points), 1))))


def budget_frontier(
    cost: CostLike,
    weights: ArrayLike,
    service_radius: float,
    site_cost: ArrayLike,
    *,
    budgets: ArrayLike | None = None,
    n_points: int = DEFAULT_POINTS,
    fixed: ArrayLike | None = None,
    cost_label: str = "Jährliche Kosten",
    time_limit: float = 60.0,
    progress: Callable[[float, str], None] | None = None,
    also: ArrayLike | None = None,
) -> BudgetFrontier:
    """The budget frontier: for each budget the most people new sites within it reach, proven optimal.

    Parameters
    ----------
    cost
        ``n_demand × n_candidates`` costs (dense with ``inf`` = unreachable,
        or sparse); metres in EPSG:25832 or seconds.
    weights
        Demand weight (persons) per row.
    service_radius
        Coverage radius in the unit of ``cost``.
    site_cost
        Cost of each candidate on the chosen basis (e.g. ``YEARLY.of(costs)``).
    budgets
        The budgets (euros); default: ``n_points`` from :func:`default_budgets`.
    n_points
        Number of budgets when ``budgets`` is not given.
    fixed
        Indices of existing sites: open at every point, their cost not counted.
    cost_label
        What ``site_cost`` is (German, for the chart and report).
    time_limit
        Seconds for the whole frontier (model build included), shared out
        over the points; a point that runs out returns its best plan and gap.
    progress
        Called as ``progress(fraction, message)`` after each budget of the
        first pass (a long run shows how far it is).
    also
        Further budgets solved besides ``budgets`` (or the default ones), e.g.
        what a plan costs, so that the frontier passes through its budget.

    Returns
    -------
    BudgetFrontier

    Raises
    ------
    ValidationError
        For malformed inputs (German).
    NothingToBuyError
        When no budget is left to draw: no new site reaches anyone more.

    Examples
    --------
    >>> import numpy as np
    >>> cost = np.array([[0, 9, 9], [9, 0, 9], [9, 9, 0]], dtype=float)
    >>> f = budget_frontier(cost, [5, 3, 2], 1.0, [2, 1, 1], budgets=[1, 2, 3, 4])
    >>> [p.covered for p in f.points], [p.sites for p in f.points]
    ([3.0, 5.0, 8.0, 10.0], [(1,), (0,), (0, 1), (0, 1, 2)])
    """
    t0 = time.perf_counter()
    w = np.asarray(weights, dtype=float).ravel()
    c = np.asarray(site_cost, dtype=float).ravel().copy()
    fixed_idx = np.unique(np.asarray([] if fixed is None else fixed, dtype=np.int64))
    if fixed_idx.size and (fixed_idx.min() < 0 or fixed_idx.max() >= c.size):
        raise DataError(f"Feste Standorte außerhalb der Kandidaten 0…{c.size - 1}.")
    c[fixed_idx] = 0.0  # existing sites: open everywhere, not paid from the budget
    if budgets is None:
        from planning.explain import within_radius

        fixed_mask = np.zeros(c.size)
        fixed_mask[fixed_idx] = 1.0
        cov = sp.csr_array(within_radius(cost, service_radius), dtype=float)
        if cov.shape[0] != w.size or cov.shape[1] != c.size:
            raise DataError(f"Kostenmatrix {cov.shape} passt nicht zu {w.size} Gewichten und {c.size} Kosten.")
        values = default_budgets(cov, w, np.nan_to_num(c, nan=np.inf), fixed_mask, n_points)
    else:
        values = np.sort(np.asarray(budgets, dtype=float).ravel())
    if also is not None and values.size:
        values = np.unique(np.concatenate([values, np.asarray(also, dtype=float).ravel()]))
    if values.size == 0:
        raise NothingToBuyError(
            "Keine Budget-Grenze: kein neuer Standort erreicht jemanden, den die bestehenden Standorte nicht schon "
            "erreichen – mehr Geld erreicht hier niemanden zusätzlich."
        )
    model = RobustMCLP.from_cost_matrices(
        [cost], [w], service_radius, budget=float(values[0]), site_cost=c, fixed=fixed_idx, time_limit=time_limit
    )
    baseline = float(model.fixed_covered[0])
    total = float(w.sum())
    results: list[RobustResult | None] = [None] * values.size
    for k, b in enumerate(values):  # first pass: each budget may use all but a reserve for the ones after it
        left = time_limit - (time.perf_counter() - t0)
        results[k] = model.solve(budget=float(b), time_limit=max(_first_pass_share(left, values.size - k), 0.5))
        if progress is not None:
            progress((k + 1) / values.size, f"Budget-Grenze: Budget {k + 1} von {values.size} gelöst")
    # second pass: the time the easy budgets left over goes to the unproven ones (cuts and plans are kept)
    while (open_k := [k for k, r in enumerate(results) if r is not None and not r.is_optimal]) and (
        left := time_limit - (time.perf_counter() - t0)
    ) > 1.0:
        for k in open_k:
            left = time_limit - (time.perf_counter() - t0)
            if left <= 1.0:
                break
            again = model.solve(budget=float(values[k]), time_limit=left / len(open_k))
            old = results[k]
            assert old is not None
            results[k] = _better(old, again)
    # a plan within a budget is within every larger one: the bound of a budget bounds all smaller ones
    ceiling = total
    for k in range(values.size - 1, -1, -1):
        res = results[k]
        assert res is not None
        ceiling = min(ceiling, res.bound)
        results[k] = _with_bound(res, ceiling, res.seconds)
    points = []
    for b, res in zip(values, results, strict=True):
        assert res is not None
        new = tuple(int(j) for j in res.selected if j not in set(fixed_idx.tolist()))
        points.append(
            FrontierPoint(
                budget=float(b),
                cost=float(c[list(new)].sum()),
                covered=res.objective,
                newly_reached=res.objective - baseline,
                sites=new,
                bound=res.bound,
                gap=res.gap,
                status=res.status,
                seconds=res.seconds,
            )
        )
        logger.info("Budget %.0f: %.0f erreicht, %d Standorte, %s", b, res.objective, len(new), res.status)
    return BudgetFrontier(tuple(points), total, baseline, cost_label, time.perf_counter() - t0)


def _first_pass_share(left: float, n_left: int) -> float:
    """Seconds the next of ``n_left`` budgets may take in the first pass: all but half a share per later one.

    A solve that is cut off and resumed restarts HiGHS' search tree, so a hard
    budget proves fastest in one piece; an easy one stops as soon as it is
    proven and leaves its time to the next. Every later budget keeps half of
    an equal share, which the easy ones need many times over.

    >>> _first_pass_share(60.0, 10), _first_pass_share(60.0, 1)
    (33.0, 60.0)
    """
    return left - (n_left - 1) * left / (2 * n_left)


def _better(a: RobustResult, b: RobustResult) -> RobustResult:
    """The better plan of two solves of one budget, with the tighter proven bound and the time of both."""
    return _with_bound(a if a.objective >= b.objective else b, min(a.bound, b.bound), a.seconds + b.seconds)


def _with_bound(res: RobustResult, bound: float, seconds: float) -> RobustResult:
    """``res`` with the proven bound ``min(res.bound, bound)``, its gap and status recomputed."""
    bound = max(min(res.bound, bound), res.objective)
    optimal = _gap(res.objective, bound) == 0.0
    return replace(
        res, bound=bound, gap=_gap(res.objective, bound), status="optimal" if optimal else "time_limit", seconds=seconds
    )
