"""Robust maximal covering over variants, and the MCLP with a budget instead of ``p``.

A plan that is optimal for one departure window, day type or demand variant
may be poor for the next. :class:`RobustMCLP` chooses the sites once for
several *variants* (each its own cost matrix, weights and closed
candidates) and maximises the worst variant's coverage (max-min) or the
expected coverage. With one variant and a budget it is the budget-
constrained MCLP the cost frontier is made of (``p`` may then be omitted:
as many sites as the budget pays for).

The model follows spopt's shape: :meth:`RobustMCLP.from_cost_matrices`
builds it, :meth:`RobustMCLP.solve` returns a frozen :class:`RobustResult`.
It is solved exactly with HiGHS by Benders decomposition
(:mod:`planning.siting.robust_benders`): the result is ``optimal`` only when
the objective of the returned plan reaches the proven bound; at the time
limit the best plan is returned with its proven gap. The plans come from a
greedy construction with swaps, the iterated swap search on the variants the
master LP weighs (:meth:`~planning.siting.robust_benders.VariantSearch.swap_thread`), a
kernel search over the LP's support and the master MIP; the bound from the
master LP and MIP.

Notes
-----
Costs are in the caller's unit (metres in EPSG:25832 or seconds), the
radius in the same unit; a cost equal to the radius counts as covered. In a
sparse cost matrix only stored entries are reachable (explicit zeros
included); in a dense one ``inf`` is unreachable.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike

from geo.errors import InfeasibleError, Problem, raise_if_problems
from planning.siting.base import _gap, _unique_rows, near_optimal
from planning.siting.coverage_search import SwapSearchThread
from planning.siting.inputs import _Pairs, _pairs_from_cost, _validate_cost, _validate_weights
from planning.siting.result import STATUS_LABELS, BoolArray, CostLike, FloatArray, IntArray, _frozen_array
from planning.siting.robust_benders import (
    LPOutcome,
    MasterInfeasibleError,
    ScenarioBenders,
    VariantClients,
    VariantSearch,
)
from planning.siting.rules import _check_feasible, _infeasible_from_solver, _Rules, _rules

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RobustObjective:
    """How the coverage of several variants becomes one objective.

    Parameters
    ----------
    id
        ``"worst"`` or ``"expected"``.
    label, label_en
        German and English name.
    worst
        Whether the objective is the minimum over the variants (else the
        probability-weighted mean).
    """

    id: str
    label: str
    label_en: str
    worst: bool

    def of(self, values: ArrayLike, probabilities: ArrayLike) -> float:
        """The objective of per-variant values.

        >>> WORST_CASE.of([5.0, 3.0], [0.5, 0.5]), EXPECTED.of([5.0, 3.0], [0.5, 0.5])
        (3.0, 4.0)
        """
        v = np.asarray(values, dtype=float)
        return float(v.min()) if self.worst else float(v @ np.asarray(probabilities, dtype=float))


WORST_CASE = RobustObjective("worst", "Schlechtester Fall (max-min)", "Worst case (max-min)", worst=True)
EXPECTED = RobustObjective("expected", "Erwartungswert über die Varianten", "Expected over the variants", worst=False)
#: The robust objectives by id.
ROBUST_OBJECTIVES: dict[str, RobustObjective] = {o.id: o for o in (WORST_CASE, EXPECTED)}


@dataclass(frozen=True)
class RobustResult:
    """The solution of a :class:`RobustMCLP` (immutable; arrays read-only).

    Attributes
    ----------
    objective_kind
        ``"worst"`` or ``"expected"`` (see :data:`ROBUST_OBJECTIVES`).
    selected
        Sorted indices of the open candidates (fixed ones included).
    objective
        Worst-case or expected covered weight of the plan.
    bound, gap, status, seconds, method
        Proven upper bound, relative gap, ``"optimal"``/``"time_limit"``,
        wall-clock time (model build included) and ``"highs-benders"``.
    variant_names
        Name of each variant.
    covered, totals
        Covered and total weight of each variant with this plan.
    cost
        ``Σ site_cost`` of the selection (``None`` without costs).
    budget
        The budget of this solve (``None`` without one).
    notes
        German notes for the user.
    """

    objective_kind: str
    selected: IntArray
    objective: float
    bound: float
    gap: float
    status: str
    seconds: float
    method: str
    variant_names: tuple[str, ...]
    covered: FloatArray
    totals: FloatArray
    cost: float | None = None
    budget: float | None = None
    notes: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        object.__setattr__(self, "selected", _frozen_array(self.selected, np.int64))
        object.__setattr__(self, "covered", _frozen_array(self.covered, np.float64))
        object.__setattr__(self, "totals", _frozen_array(self.totals, np.float64))

    @property
    def shares(self) -> FloatArray:
        """Covered share of each variant (NaN for a variant without demand)."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.asarray(np.where(self.totals > 0, self.covered / self.totals, np.nan))

    @property
    def is_optimal(self) -> bool:
        """Whether the objective is proven optimal."""
        return self.status == "optimal"

    @property
    def status_label(self) -> str:
        """German description of :attr:`status`."""
        return STATUS_LABELS.get(self.status, self.status)

    @property
    def objective_label(self) -> str:
        """German name of the objective."""
        return ROBUST_OBJECTIVES[self.objective_kind].label

    def as_dict(self) -> dict[str, Any]:
        """Scalars, the selection and the per-variant coverage as a JSON-serialisable dict."""
        return {
            "objective_kind": self.objective_kind,
            "objective_label": self.objective_label,
            "selected": self.selected.tolist(),
            "objective": self.objective,
            "bound": self.bound,
            "gap": self.gap,
            "status": self.status,
            "status_label": self.status_label,
            "seconds": self.seconds,
            "method": self.method,
            "cost": self.cost,
            "budget": self.budget,
            "variants": [
                {"name": n, "covered": float(c), "total": float(t), "share": None if not t else float(c / t)}
                for n, c, t in zip(self.variant_names, self.covered, self.totals, strict=True)
            ],
            "notes": list(self.notes),
        }


#: Largest number of ``θ`` (groups summed over the variants) grouped by candidate pairs; above it the clients
#: are grouped by their first candidate only. Measured on the generated Kreis (2 km): one variant, p = 20, is
#: proven in 22 s with pairs (942 groups) and 55 s with single candidates; ten variants, p = 5, in 47 s with
#: pairs (9,420 groups: 39 s of HiGHS time in the master LP) and 8.8 s with single candidates (≈ 3,200).
MAX_GROUPS = 3_000
#: Seed of the fixed candidate priority that groups the clients (see :func:`_group_keys`).
_GROUP_SEED = 20241119


def _group_keys(a: sp.csr_array, m: int, pairs: bool = True) -> IntArray:
    """Group key of each client row: its two highest-priority reachable candidates (or the first only).

    The priority is a fixed random order of the candidates, so a group holds
    the clients that share the first two candidates of that order among
    those they reach: a coarse partition into neighbourhoods (a client
    reaching many candidates almost surely reaches the few high-priority
    ones around it). Measured on the generated Kreis of
    ``benchmarks/bench_decisions.py`` (21,948 distinct rows, 2 km): 942
    groups and a master LP in 0.6 s, against 6,102 groups and 11.5 s when
    grouped by the two *nearest* candidates (finer groups mean many more,
    denser cuts in the first rounds). Any partition gives valid cuts and the
    same LP bound. With ``pairs=False`` only the first candidate counts
    (coarser groups, see :data:`MAX_GROUPS`).
    """
    rank = np.random.default_rng(_GROUP_SEED).permutation(m).astype(np.int64)
    length = np.diff(a.indptr)
    keys = np.sort(np.repeat(np.arange(a.shape[0], dtype=np.int64), length) * m + rank[a.indices])
    start = a.indptr[:-1]
    first = keys[start] % m
    second = keys[start + np.minimum(1, length - 1)] % m
    return first * m + second if pairs else first


def _regroup(a: sp.csr_array, m: int) -> IntArray:
    """Groups by the first candidate of the fixed priority only."""
    return np.unique(_group_keys(a, m, False), return_inverse=True)[1].ravel().astype(np.int64)


def _within(pairs: _Pairs, radius: float) -> _Pairs:
    """The pairs with ``cost <= radius`` (entries stay sorted by cost within each row)."""
    keep = pairs.cost <= radius
    if keep.all():
        return pairs
    rows = pairs.rows[keep]
    indptr = np.zeros(pairs.n + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=pairs.n), out=indptr[1:])
    return _Pairs(pairs.n, pairs.m, indptr, pairs.indices[keep], pairs.cost[keep])


def _clients(pairs: _Pairs, w: FloatArray, fixed: BoolArray, closed: BoolArray) -> tuple[VariantClients, int]:
    """Aggregate one variant: distinct coverable rows not covered by an open fixed site; uncoverable count."""
    keep = ~closed[pairs.indices]
    rows, cols = pairs.rows[keep], pairs.indices[keep]
    n, m = pairs.n, pairs.m
    a = sp.csr_array((np.ones(rows.size), (rows, cols)), shape=(n, m))
    a.sort_indices()
    row_len = np.bincount(rows, minlength=n)
    fixed_cov = (a @ fixed.astype(float)) > 0
    const = float(w[fixed_cov].sum())
    sel = (row_len > 0) & ~fixed_cov & (w > 0)
    idx = np.flatnonzero(sel)
    uniq, inv = _unique_rows(a[idx])
    wk = np.bincount(inv, weights=w[idx], minlength=uniq.shape[0]).astype(float)
    group = np.unique(_group_keys(uniq, m), return_inverse=True)[1].ravel().astype(np.int64)
    uncoverable = int(((row_len == 0) & (w > 0)).sum())
    return VariantClients(uniq, wk, group, const, float(w.sum())), uncoverable


def _check_variants(
    costs: Sequence[CostLike],
    weights: Sequence[ArrayLike],
    service_radius: float | Sequence[float],
    problems: list[Problem],
) -> tuple[FloatArray, list[tuple[Any, Any, FloatArray]], int]:
    """Validate every variant's cost matrix and weights (one check per distinct matrix); radii, inputs, ``m``."""
    n_var = len(costs)
    if n_var == 0:
        problems.append(Problem("Es wurde keine Variante übergeben.", "Mindestens eine Kostenmatrix angeben."))
    if len(weights) != n_var:
        problems.append(Problem(f"{len(weights)} Gewichtsvektoren für {n_var} Varianten.", "Je Variante einen."))
    if np.size(service_radius) not in (1, n_var):
        problems.append(Problem(f"{np.size(service_radius)} Radien für {n_var} Varianten.", "Einen je Variante."))
        service_radius = np.ravel(service_radius)[0] if np.size(service_radius) else 0.0
    radii = np.broadcast_to(np.asarray(service_radius, dtype=float), (n_var,)).copy()
    if (~np.isfinite(radii) | (radii < 0)).any():
        problems.append(Problem("Ein Radius ist ungültig.", "Radien ≥ 0 angeben."))
    validated = []
    widths = set()
    checked: dict[int, tuple[Any, Any, list[Problem]]] = {}
    for s, cost in enumerate(costs):
        if id(cost) not in checked:
            checked[id(cost)] = _validate_cost(cost)
        coo, dense, cost_problems = checked[id(cost)]
        problems += [Problem(f"Variante {s + 1}: {q.message}", q.fix) for q in cost_problems]
        shape = coo.shape if coo is not None else (dense.shape if dense is not None and dense.ndim == 2 else (0, 0))
        widths.add(int(shape[1]))
        weight_problems: list[Problem] = []
        w = _validate_weights(weights[s] if s < len(weights) else [], int(shape[0]), weight_problems)
        problems += [Problem(f"Variante {s + 1}: {q.message}", q.fix) for q in weight_problems]
        validated.append((coo, dense, w))
    if len(widths) > 1:
        problems.append(
            Problem(f"Die Varianten haben verschieden viele Kandidaten ({sorted(widths)}).", "Gleiche Spalten.")
        )
    return radii, validated, min(widths) if widths else 0


def _closed_masks(
    closed: Sequence[ArrayLike | None] | None, n_var: int, m: int, problems: list[Problem]
) -> list[BoolArray]:
    """Per variant the mask of candidates closed in it (indices or a mask; ``None`` = none)."""
    if closed is not None and len(closed) != n_var:
        problems.append(Problem(f"{len(closed)} Angaben geschlossener Standorte für {n_var} Varianten."))
    masks = []
    for s in range(n_var):
        mask = np.zeros(m, dtype=bool)
        spec = None if closed is None or s >= len(closed) else closed[s]
        if spec is not None:
            raw = np.asarray(spec).ravel()
            if raw.dtype == bool and raw.size == m:
                mask = raw.copy()
            elif raw.size and (not np.issubdtype(raw.dtype, np.integer) or (raw < 0).any() or (raw >= m).any()):
                problems.append(Problem(f"Variante {s + 1}: geschlossene Standorte außerhalb 0…{m - 1}."))
            else:
                mask[raw.astype(np.int64)] = True
        masks.append(mask)
    return masks


class _Incumbent:
    """The best feasible plan seen so far and its exact objective."""

    def __init__(self, engine: ScenarioBenders, feasible: Callable[[BoolArray], bool]) -> None:
        self.engine = engine
        self.feasible = feasible
        self.y: BoolArray | None = None
        self.value = -np.inf

    def offer(self, y: BoolArray) -> None:
        """Keep ``y`` if it is feasible and better."""
        if self.feasible(y):
            val = self.engine.value(y.astype(float))
            if val > self.value:
                self.y, self.value = y.copy(), val

    def offer_best_of(self, search: SwapSearchThread | None) -> None:
        """Offer the best plan a running swap search has found so far (nothing without one)."""
        if search is not None:
            self.offer(search.best()[0])


@dataclass
class _Run:
    """One call of :meth:`RobustMCLP.solve`: its clock, rules (and their rows), local search, incumbent and swaps."""

    t0: float
    limit: float
    rules: _Rules
    rows: list[Any]
    search: VariantSearch
    inc: _Incumbent
    swaps: SwapSearchThread | None = None

    @property
    def deadline(self) -> float:
        """When the solve must end."""
        return self.t0 + self.limit


def _fix_by_reduced_cost(
    upper: float, reduced: FloatArray, incumbent: float, lb: FloatArray, ub: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Fix ``y_j`` whose reduced cost proves that flipping it cannot beat the incumbent (min form: ``-max``)."""
    tol = 1e-7 * max(1.0, abs(incumbent))
    fix0 = (upper - np.maximum(reduced, 0.0) < incumbent - tol) & (lb == 0)
    fix1 = (upper - np.maximum(-reduced, 0.0) < incumbent - tol) & (ub > 0)
    log.info(
        "Robustes MCLP: LP-Schranke %.6g, Startlösung %.6g, %d fixiert", upper, incumbent, int(fix0.sum() + fix1.sum())
    )
    return np.where(fix1, 1.0, lb), np.where(fix0, 0.0, ub)


class RobustMCLP:
    """Maximal covering over several variants: the worst case or the expected coverage, ``p`` sites and/or a budget.

    Build with :meth:`from_cost_matrices`, then call :meth:`solve`.

    Examples
    --------
    Two demand variants; site 0 serves the first, site 1 the second, site 2 a
    little of both. With one site the worst case prefers the compromise:

    >>> import numpy as np
    >>> cost = np.array([[0, 9, 1], [9, 0, 1], [9, 9, 9]], dtype=float)
    >>> m = RobustMCLP.from_cost_matrices([cost, cost], [[10, 0, 0], [0, 10, 0]], 1.0, p=1)
    >>> r = m.solve()
    >>> r.selected.tolist(), r.objective, r.status
    ([2], 10.0, 'optimal')
    >>> cheap = RobustMCLP.from_cost_matrices([cost], [[6, 5, 4]], 0.0, budget=2.0, site_cost=[1, 1, 1]).solve()
    >>> cheap.selected.tolist(), cheap.objective
    ([0, 1], 11.0)
    """

    def __init__(
        self,
        parts: list[VariantClients],
        names: tuple[str, ...],
        objective: RobustObjective,
        probabilities: FloatArray,
        rules: _Rules,
        closed_all: BoolArray,
        time_limit: float,
        created: float,
        notes: Sequence[str] = (),
    ) -> None:
        self._parts = parts
        self.names = names
        self.objective = objective
        self.probabilities = probabilities
        self._rules = rules
        self._closed_all = closed_all
        self.time_limit = float(time_limit)
        self._created = created
        self._first = True
        self._notes = tuple(notes)
        self._engine = ScenarioBenders(parts, worst=objective.worst, probabilities=probabilities)
        self._incumbents: list[BoolArray] = []

    @property
    def n_candidates(self) -> int:
        """Number of candidate sites (columns of every cost matrix)."""
        return self._rules.m

    @property
    def n_variants(self) -> int:
        """Number of variants."""
        return len(self._parts)

    @property
    def fixed_covered(self) -> FloatArray:
        """Per variant the weight the fixed sites cover (whatever else is chosen)."""
        return np.array([p.const for p in self._parts])

    @classmethod
    def from_cost_matrices(
        cls,
        costs: Sequence[CostLike],
        weights: Sequence[ArrayLike],
        service_radius: float | Sequence[float],
        *,
        p: int | None = None,
        budget: float | None = None,
        site_cost: ArrayLike | None = None,
        fixed: ArrayLike | None = None,
        closed: Sequence[ArrayLike | None] | None = None,
        names: Sequence[str] | None = None,
        objective: str | RobustObjective = "worst",
        probabilities: ArrayLike | None = None,
        min_per_group: tuple[ArrayLike, int | Mapping[Any, int]] | None = None,
        time_limit: float = 120.0,
    ) -> RobustMCLP:
        """Create the model from one ``n_s × m`` cost matrix and weight vector per variant.

        Parameters
        ----------
        costs
            One cost matrix per variant (dense with ``inf`` = unreachable, or
            sparse with only stored entries reachable); all with ``m`` columns.
            The rows may differ between variants.
        weights
            Demand weight per row, one vector per variant (persons, ``≥ 0``).
        service_radius
            One radius for all variants, or one per variant.
        p
            Number of open sites, fixed ones included; ``None`` with a budget:
            as many as the budget pays for.
        budget, site_cost
            ``Σ site_cost_j y_j ≤ budget`` (euros), fixed sites included.
        fixed
            Candidate indices (or a boolean mask) forced open.
        closed
            Per variant the candidates unavailable in it (indices or mask;
            ``None`` = none): a facility closing, a site not reachable that day.
        names
            Name of each variant (default ``Variante 1 …``).
        objective
            ``"worst"`` (max-min, default), ``"expected"`` or a :class:`RobustObjective`.
        probabilities
            Weight of each variant in the expected coverage (default equal).
        min_per_group
            ``(group label per candidate, minimum)`` as in :meth:`planning.siting.MCLP.from_cost_matrix`.
        time_limit
            Seconds for the first solve, counted from the start of this call
            (the model build is included); each later :meth:`solve` gets it anew.

        Returns
        -------
        RobustMCLP

        Raises
        ------
        ValidationError
            For malformed inputs (all problems at once, German).
        InfeasibleError
            When the rules admit no plan (p, budget, fixed sites, groups).
        """
        created = time.perf_counter()
        problems: list[Problem] = []
        n_var = len(costs)
        radii, validated, m = _check_variants(costs, weights, service_radius, problems)
        names_t = tuple(names) if names is not None else tuple(f"Variante {s + 1}" for s in range(n_var))
        if len(names_t) != n_var:
            problems.append(Problem(f"{len(names_t)} Namen für {n_var} Varianten."))
        obj = objective if isinstance(objective, RobustObjective) else ROBUST_OBJECTIVES.get(str(objective))
        if obj is None:
            problems.append(Problem(f"Unbekanntes Ziel »{objective}«.", "»worst« oder »expected« angeben."))
            obj = WORST_CASE
        pi = np.full(n_var, 1.0 / max(n_var, 1)) if probabilities is None else np.asarray(probabilities, dtype=float)
        if pi.size != n_var or (pi < 0).any() or not np.isclose(pi.sum(), 1.0):
            problems.append(Problem("Die Gewichte der Varianten müssen ≥ 0 sein und sich zu 1 summieren."))
        if p is None and budget is None:
            problems.append(Problem("Weder p noch ein Budget angegeben.", "Die Zahl der Standorte oder ein Budget."))
        closed_masks = _closed_masks(closed, n_var, m, problems)
        rules = _rules(m, p, fixed, budget, site_cost, min_per_group, None, problems)
        raise_if_problems(problems, "Eingaben des robusten Standortmodells sind ungültig")
        _check_feasible(rules)
        parts, notes = [], []
        pairs_of: dict[int, _Pairs] = {}  # pairs once per distinct matrix, at its largest radius
        for s, (coo, dense, w) in enumerate(validated):
            key = id(costs[s])
            if key not in pairs_of:
                r_max = max(float(radii[t]) for t in range(n_var) if id(costs[t]) == key)
                pairs_of[key] = _pairs_from_cost(coo, dense, r_max)
            pairs = _within(pairs_of[key], float(radii[s]))
            part, unc = _clients(pairs, w, rules.fixed_mask, closed_masks[s])
            parts.append(part)
            if unc:
                notes.append(f"{names_t[s]}: {unc} Nachfragepunkt(e) außerhalb der Reichweite jedes Kandidaten.")
        if sum(p.n_groups for p in parts) > MAX_GROUPS:  # many variants: coarser groups (see MAX_GROUPS)
            parts = [
                VariantClients(p.ak, p.wk, _regroup(p.ak, m), p.const, p.total) if p.n_groups else p for p in parts
            ]
        closed_all = np.logical_and.reduce(closed_masks) & ~rules.fixed_mask
        return cls(parts, names_t, obj, pi, rules, closed_all, time_limit, created, notes)

    # ------------------------------------------------------------------ solving
    def _feasible(self, rules: _Rules, y: BoolArray) -> bool:
        if not y[rules.fixed].all() or (y & self._closed_all).any():
            return False
        if rules.p is not None and int(y.sum()) != rules.p:
            return False
        if rules.budget is not None and float(rules.site_cost @ y) > rules.budget + 1e-6:
            return False
        return not (rules._deficit(y) > 0).any()

    def solve(self, *, budget: float | None = None, time_limit: float | None = None) -> RobustResult:
        """Solve exactly with HiGHS (Benders); the best plan and its proven gap at the time limit.

        Parameters
        ----------
        budget
            Solve with this budget instead of the one given at construction
            (the cuts found so far are kept: they do not depend on the budget).
        time_limit
            Seconds for this solve (default: the model's limit).

        Returns
        -------
        RobustResult

        Raises
        ------
        InfeasibleError
            When the rules admit no plan.
        """
        t0 = self._created if self._first and budget is None and time_limit is None else time.perf_counter()
        self._first = False
        limit = self.time_limit if time_limit is None else float(time_limit)
        rules = self._rules if budget is None else replace(self._rules, budget=float(budget))
        _check_feasible(rules)
        m, engine = rules.m, self._engine
        lb = np.zeros(m)
        lb[rules.fixed] = 1.0
        ub = np.where(self._closed_all, 0.0, 1.0)
        rows = rules.rows(m)
        search = VariantSearch(engine, rules, self._closed_all)
        inc = _Incumbent(engine, lambda y: self._feasible(rules, y))
        self._construct(rules, search, inc, t0 + min(limit / 10, 20.0))  # the heuristics' share of the time
        share = rules.p / max(m, 1) if rules.p is not None else (rules.budget or 0.0) / max(rules.site_cost.sum(), 1e-9)
        try:
            lp = engine.solve_lp(rows, lb, ub, np.full(m, min(share, 1.0)), inc.y, t0 + 0.5 * limit)
        except MasterInfeasibleError:
            raise _infeasible_from_solver(rules, "die Bedingungen an die Standortauswahl widersprechen sich.") from None
        run = _Run(t0, limit, rules, rows, search, inc)
        if np.isfinite(lp.upper):  # the swap search on the variants the LP weighs, on the second core (swap_thread)
            run.swaps = search.swap_thread(lp.weights, run.deadline - time.perf_counter())
        try:
            return self._after_lp(run, lp, lb, ub)
        finally:
            if run.swaps is not None:
                run.swaps.finish()

    def _after_lp(self, run: _Run, lp: LPOutcome, lb: FloatArray, ub: FloatArray) -> RobustResult:
        """Kernel search and master MIP from the LP phase's bound and reduced costs, with the swap search's plans."""
        engine, upper, rules, inc = self._engine, lp.upper, run.rules, run.inc
        if np.isfinite(upper):
            rounded = run.search.greedy(start=lp.y)
            inc.offer(run.search.descend(rounded, min(time.perf_counter() + run.limit / 10, run.deadline)))
            inc.offer_best_of(run.swaps)
            if inc.y is not None:
                lb, ub = _fix_by_reduced_cost(upper, lp.reduced, inc.value, lb, ub)
        notes = list(self._notes)
        if inc.y is not None and inc.value >= upper - 1e-9 * max(1.0, abs(upper)):
            return self._finish(run.t0, rules, inc.y, inc.value, "optimal", notes)
        end = run.deadline - min(2.0, 0.02 * run.limit)  # HiGHS may overrun its limit by a second or two

        def improve(y: BoolArray) -> BoolArray:
            return run.search.descend(y, min(time.perf_counter() + 2.0, run.deadline))

        if inc.y is not None:  # the master MIP starts from the incumbent: its cuts make it exact there
            engine.pool_cuts_at(inc.y)
            self._kernel_search(rules, lp.y, lb, ub, inc, end, improve)
            inc.offer_best_of(run.swaps)
            lb, ub = _fix_by_reduced_cost(upper, lp.reduced, inc.value, lb, ub)  # a better plan fixes more
        try:
            mip = engine.solve_mip(
                run.rows,
                lb,
                ub,
                inc.y,
                inc.value,
                end,
                inc.feasible,
                improve,
                proof_mode=inc.y is not None and near_optimal(inc.value, upper),
            )
        except MasterInfeasibleError:
            if inc.y is None:
                raise _infeasible_from_solver(
                    rules, "die Bedingungen an die Standortauswahl widersprechen sich."
                ) from None
            return self._finish(run.t0, rules, inc.y, inc.value, "optimal", notes)  # nothing better survives
        if mip.y is not None:
            inc.offer(mip.y)
        if run.swaps is not None:
            run.swaps.finish()
            inc.offer_best_of(run.swaps)
        if inc.y is None:
            raise InfeasibleError(
                "Im Zeitlimit wurde keine zulässige Auswahl gefunden. Bitte das Zeitlimit erhöhen oder die "
                f"Bedingungen ({rules.names()}) lockern."
            )
        bound = max(min(upper, mip.bound), inc.value)
        if mip.optimal and _gap(inc.value, bound) == 0.0:
            return self._finish(run.t0, rules, inc.y, inc.value, "optimal", notes)
        return self._finish(run.t0, rules, inc.y, bound, "time_limit", notes)

    def _construct(self, rules: _Rules, search: VariantSearch, inc: _Incumbent, deadline: float) -> None:
        """Offer the plans of earlier solves (e.g. the previous budget) and the greedy plans after swaps to ``inc``."""
        for y_old in self._incumbents:
            inc.offer(y_old)
        inc.offer(search.descend(search.greedy(), deadline))
        if rules.budget is not None:
            inc.offer(search.descend(search.greedy(by_ratio=True), deadline))

    def _kernel_search(
        self,
        rules: _Rules,
        y_lp: FloatArray,
        lb: FloatArray,
        ub: FloatArray,
        inc: _Incumbent,
        end: float,
        improve: Callable[[BoolArray], BoolArray],
    ) -> None:
        """Offer the best plan of the master restricted to the LP's support (kernel search) to ``inc``.

        The candidates the master LP opens, even fractionally, plus the
        incumbent's form a kernel of a few dozen to a few hundred sites
        (Angelelli, Mansini and Speranza 2010); the master MIP over the kernel
        alone finds better plans than the swap search where one variant or
        the budget binds (10 variants, p = 20 on a generated Kreis: 93,127
        against 92,311). Half of the time left goes to it. Its bound holds
        for the kernel only and is not used; its cuts are valid for every plan
        and stay in the pool. It runs even when the plan is already within
        0.5 % of the bound, because a better plan fixes more sites by reduced
        cost (the frontier's hardest budget, 57 of 500 sites: the greedy plan,
        0.4 % below the bound, fixes 2, the kernel's 231; the solve takes
        10 s instead of 28 s).
        """
        assert inc.y is not None
        kernel = (y_lp > 1e-6) | inc.y | (lb > 0)
        if not (~kernel & (ub > lb)).any():  # the kernel is the whole problem
            return
        start = time.perf_counter()
        rows = rules.rows(rules.m)
        try:
            mip = self._engine.solve_mip(
                rows,
                lb,
                np.where(kernel, ub, 0.0),
                inc.y,
                inc.value,
                start + 0.5 * (end - start),
                inc.feasible,
                improve,
                proof_mode=False,
            )
        except MasterInfeasibleError:  # sites fixed by reduced cost may leave the kernel without a plan
            return
        before = inc.value
        if mip.y is not None:
            inc.offer(mip.y)
        log.info(
            "Robustes MCLP: Kern von %d Kandidaten, %.6g statt %.6g in %.1f s",
            int((kernel & (ub > lb)).sum()),
            inc.value,
            before,
            time.perf_counter() - start,
        )

    def _finish(
        self,
        t0: float,
        rules: _Rules,
        y: BoolArray,
        bound: float,
        status: str,
        notes: list[str],
    ) -> RobustResult:
        self._incumbents.append(y.copy())
        covered = self._engine.values(y.astype(float))
        objective = self.objective.of(covered, self.probabilities)
        has_cost = rules.budget is not None or bool(rules.site_cost.any())
        return RobustResult(
            self.objective.id,
            np.flatnonzero(y),
            float(objective),
            float(max(bound, objective)),
            _gap(objective, max(bound, objective)),
            status,
            time.perf_counter() - t0,
            "highs-benders",
            self.names,
            covered,
            np.array([p.total for p in self._parts]),
            float(rules.site_cost @ y) if has_cost else None,
            rules.budget,
            tuple(notes),
        )
