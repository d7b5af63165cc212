"""Variants of a planning question, and how a plan fares across them.

A plan that is optimal for one departure window or one demand variant may be
poor for the next. A :class:`Variant` changes what one of the
:data:`VARIANT_KINDS` says it changes (the travel-cost matrix, the demand,
the candidates that are available) and leaves the rest as in the base case.
With a :class:`VariantSet` a plan is evaluated in every variant
(:func:`evaluate_plan`), each variant is solved on its own to see in how many
variants each site is chosen (:func:`selection_frequency`), and one plan is
chosen for all of them (:func:`robust_plan`, the robust MCLP of
:mod:`planning.siting.robust`: worst case or expected coverage, exact).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from numpy.typing import ArrayLike

from geo.errors import Problem, raise_if_problems
from planning.explain import within_radius
from planning.siting.result import CostLike, FloatArray, IntArray
from planning.siting.robust import RobustMCLP, RobustResult
from planning.uncertainty import DemandDraws

logger = logging.getLogger(__name__)


#: German names of the parts a variant can change.
_PART_LABELS = {"cost": "die Kosten (Fahrzeiten)", "weights": "die Nachfrage", "closed": "die geschlossenen Standorte"}


@dataclass(frozen=True)
class VariantKind:
    """What kind of variant, and which part of the question it changes.

    Parameters
    ----------
    id, label, label_en
        Identifier and names.
    changes
        The parts a variant of this kind sets: ``"cost"`` (its own cost
        matrix, e.g. travel times in another window), ``"weights"`` (another
        demand) or ``"closed"`` (candidates unavailable).
    """

    id: str
    label: str
    label_en: str
    changes: frozenset[str]

    def check(self, variant: Variant) -> list[Problem]:
        """Problems of a variant of this kind (a part it should set but does not)."""
        given = {
            "cost": variant.cost is not None or variant.radius is not None,
            "weights": variant.weights is not None,
            "closed": bool(variant.closed),
        }
        return [
            Problem(
                f"Variante »{variant.name}« ({self.label}) legt {_PART_LABELS[part]} nicht fest.",
                {
                    "cost": "Eine Kostenmatrix oder einen Radius angeben.",
                    "weights": "Gewichte angeben.",
                    "closed": "Die geschlossenen Standorte angeben.",
                }[part],
            )
            for part in sorted(self.changes)
            if not given[part]
        ]


DEPARTURE_WINDOW = VariantKind("window", "Abfahrtszeitfenster", "Departure window", frozenset({"cost"}))
DAY_TYPE = VariantKind("day_type", "Tagestyp (Werktag, Samstag, Sonntag)", "Day type", frozenset({"cost"}))
DEMAND = VariantKind("demand", "Nachfragevariante", "Demand variant", frozenset({"weights"}))
CLOSURE = VariantKind("closure", "Schließung von Standorten", "Facilities closing", frozenset({"closed"}))
#: The variant kinds by id.
VARIANT_KINDS: dict[str, VariantKind] = {k.id: k for k in (DEPARTURE_WINDOW, DAY_TYPE, DEMAND, CLOSURE)}


@dataclass(frozen=True)
class Variant:
    """One variant: what differs from the base case (``None``/empty: as in the base case).

    Parameters
    ----------
    name
        Name for tables and reports (e.g. »Samstag 10–12 Uhr«).
    kind
        The :class:`VariantKind`.
    cost
        Its own ``n × m`` cost matrix (rows may differ from the base).
    weights
        Its own demand per row.
    closed
        Candidate indices unavailable in this variant.
    radius
        Its own threshold (e.g. a shorter one on Sundays).
    """

    name: str
    kind: VariantKind
    cost: CostLike | None = None
    weights: ArrayLike | None = None
    closed: tuple[int, ...] = ()
    radius: float | None = None


@dataclass(frozen=True)
class VariantSet:
    """The base case and its variants.

    Parameters
    ----------
    cost, weights, radius
        The base case (cost in metres in EPSG:25832 or seconds).
    variants
        The variants (the base case itself is not one unless listed).
    """

    cost: CostLike
    weights: ArrayLike
    radius: float
    variants: tuple[Variant, ...]

    def __post_init__(self) -> None:
        problems: list[Problem] = []
        if not self.variants:
            problems.append(Problem("Keine Varianten angegeben.", "Mindestens eine Variante."))
        names = [v.name for v in self.variants]
        if len(set(names)) != len(names):
            problems.append(Problem("Variantennamen sind doppelt.", "Jeder Variante einen eigenen Namen geben."))
        for v in self.variants:
            problems += v.kind.check(v)
        raise_if_problems(problems, "Die Varianten sind unvollständig")

    @property
    def names(self) -> tuple[str, ...]:
        """Names of the variants."""
        return tuple(v.name for v in self.variants)

    def resolved(self) -> tuple[list[CostLike], list[FloatArray], list[float], list[tuple[int, ...]]]:
        """Per variant its cost matrix, weights, radius and closed candidates (the base where unset)."""
        costs = [self.cost if v.cost is None else v.cost for v in self.variants]
        base_w = np.asarray(self.weights, dtype=float)
        weights = [base_w if v.weights is None else np.asarray(v.weights, dtype=float) for v in self.variants]
        radii = [self.radius if v.radius is None else float(v.radius) for v in self.variants]
        return costs, weights, radii, [tuple(v.closed) for v in self.variants]


def demand_variants(draws: DemandDraws, n: int = 5, *, prefix: str = "Nachfrage") -> tuple[Variant, ...]:
    """``n`` demand variants from resampled demand: the resamples at evenly spaced quantiles of the total.

    >>> from planning.uncertainty import resample_demand
    >>> d = resample_demand([40.0, 25.0, 9.0], ["zensus_cell"] * 3, n_resamples=50)
    >>> [v.name for v in demand_variants(d, 3)]
    ['Nachfrage 10 %', 'Nachfrage 50 %', 'Nachfrage 90 %']
    """
    qs = np.linspace(0.1, 0.9, n) if n > 1 else np.array([0.5])
    return tuple(Variant(f"{prefix} {round(q * 100):d} %", DEMAND, weights=draws.variant(float(q))) for q in qs)


def closure_variants(sites: Sequence[int], names: Sequence[str] | None = None) -> tuple[Variant, ...]:
    """One variant per site that may close (e.g. each existing facility): that site unavailable."""
    labels = list(names) if names is not None else [f"Standort {j}" for j in sites]
    return tuple(Variant(f"ohne {label}", CLOSURE, closed=(int(j),)) for j, label in zip(sites, labels, strict=True))


# --------------------------------------------------------------------------- evaluation


@dataclass(frozen=True)
class PlanAcrossVariants:
    """How one plan fares in every variant.

    Attributes
    ----------
    sites
        The plan's candidate indices.
    names
        Variant names.
    covered, totals
        Covered and total demand per variant.
    """

    sites: tuple[int, ...]
    names: tuple[str, ...]
    covered: FloatArray
    totals: FloatArray

    @property
    def shares(self) -> FloatArray:
        """Covered share per variant (NaN without demand)."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.asarray(np.where(self.totals > 0, self.covered / self.totals, np.nan))

    @property
    def worst(self) -> float:
        """The smallest covered demand over the variants."""
        return float(self.covered.min())

    @property
    def mean(self) -> float:
        """The mean covered demand over the variants."""
        return float(self.covered.mean())

    def table(self) -> pd.DataFrame:
        """One row per variant: name, covered, total, share."""
        return pd.DataFrame(
            {"variant": self.names, "covered": self.covered, "total": self.totals, "share": self.shares}
        )

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "sites": list(self.sites),
            "worst": self.worst,
            "mean": self.mean,
            "variants": [
                {"name": n, "covered": float(c), "total": float(t), "share": None if not t else float(c / t)}
                for n, c, t in zip(self.names, self.covered, self.totals, strict=True)
            ],
        }


def evaluate_plan(sites: ArrayLike, variants: VariantSet) -> PlanAcrossVariants:
    """Covered demand of a fixed plan in every variant (closed sites do not serve in their variant).

    Examples
    --------
    >>> import numpy as np
    >>> cost = np.array([[0.0, 9.0], [9.0, 0.0]])
    >>> vs = VariantSet(cost, [3.0, 5.0], 1.0, (Variant("Basis", DEMAND, weights=[3.0, 5.0]),
    ...                                         Variant("ohne 1", CLOSURE, closed=(1,))))
    >>> evaluate_plan([0, 1], vs).covered.tolist()
    [8.0, 3.0]
    """
    plan = np.unique(np.asarray(sites, dtype=np.int64))
    costs, weights, radii, closed = variants.resolved()
    covered, totals = [], []
    for cost, w, r, shut in zip(costs, weights, radii, closed, strict=True):
        open_ = np.setdiff1d(plan, np.asarray(shut, dtype=np.int64))
        a = sp.csc_array(within_radius(cost, r), dtype=float)
        hit = (a[:, open_] @ np.ones(open_.size)) > 0 if open_.size else np.zeros(a.shape[0], dtype=bool)
        covered.append(float(w[hit].sum()))
        totals.append(float(w.sum()))
    return PlanAcrossVariants(tuple(int(j) for j in plan), variants.names, np.array(covered), np.array(totals))


@dataclass(frozen=True)
class SelectionFrequency:
    """In how many variants each candidate belongs to that variant's own optimal plan.

    Attributes
    ----------
    counts
        Per candidate, the number of variants whose optimal plan contains it.
    plans
        Per variant its optimal plan (candidate indices).
    statuses, gaps
        Per variant the solver status and proven gap.
    names
        Variant names.
    seconds
        Time for all variants.
    """

    counts: IntArray
    plans: tuple[tuple[int, ...], ...]
    statuses: tuple[str, ...]
    gaps: tuple[float, ...]
    names: tuple[str, ...]
    seconds: float = field(default=0.0)

    def of(self, sites: ArrayLike) -> pd.DataFrame:
        """For the given sites (e.g. the robust plan): in how many variants each is chosen, and the share."""
        idx = np.asarray(sites, dtype=np.int64)
        n = len(self.plans)
        return pd.DataFrame({"candidate_index": idx, "variants": self.counts[idx], "share": self.counts[idx] / n})

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready dict (only candidates chosen at least once)."""
        chosen = np.flatnonzero(self.counts)
        return {
            "variants": [
                {"name": n, "plan": list(p), "status": s, "gap": g}
                for n, p, s, g in zip(self.names, self.plans, self.statuses, self.gaps, strict=True)
            ],
            "counts": {int(j): int(self.counts[j]) for j in chosen},
            "seconds": self.seconds,
        }


def selection_frequency(
    variants: VariantSet,
    *,
    p: int | None = None,
    budget: float | None = None,
    site_cost: ArrayLike | None = None,
    fixed: ArrayLike | None = None,
    time_limit: float = 60.0,
    progress: Callable[[float, str], None] | None = None,
) -> SelectionFrequency:
    """Solve every variant on its own (exact MCLP, ``p`` sites and/or a budget) and count each site's variants.

    ``time_limit`` is per variant; ``progress(fraction, message)`` is called after each variant.
    """
    t0 = time.perf_counter()
    costs, weights, radii, closed = variants.resolved()
    plans, statuses, gaps = [], [], []
    m = 0
    for cost, w, r, shut in zip(costs, weights, radii, closed, strict=True):
        res = RobustMCLP.from_cost_matrices(
            [cost],
            [w],
            r,
            p=p,
            budget=budget,
            site_cost=site_cost,
            fixed=fixed,
            closed=[list(shut)],
            time_limit=time_limit,
        ).solve()
        m = int(np.shape(cost)[1])
        plans.append(tuple(int(j) for j in res.selected))
        statuses.append(res.status)
        gaps.append(res.gap)
        if progress is not None:
            progress(len(plans) / len(costs), f"Variante {len(plans)} von {len(costs)} einzeln gelöst")
    counts = np.zeros(m, dtype=np.int64)
    for plan in plans:
        counts[list(plan)] += 1
    return SelectionFrequency(
        counts, tuple(plans), tuple(statuses), tuple(gaps), variants.names, time.perf_counter() - t0
    )


def robust_plan(
    variants: VariantSet,
    *,
    p: int | None = None,
    budget: float | None = None,
    site_cost: ArrayLike | None = None,
    fixed: ArrayLike | None = None,
    objective: str = "worst",
    probabilities: ArrayLike | None = None,
    time_limit: float = 120.0,
) -> RobustResult:
    """One plan for all variants: the robust MCLP (worst case or expected coverage), solved exactly with HiGHS."""
    costs, weights, radii, closed = variants.resolved()
    return RobustMCLP.from_cost_matrices(
        costs,
        weights,
        radii,
        p=p,
        budget=budget,
        site_cost=site_cost,
        fixed=fixed,
        closed=[list(c) for c in closed],
        names=variants.names,
        objective=objective,
        probabilities=probabilities,
        time_limit=time_limit,
    ).solve()
