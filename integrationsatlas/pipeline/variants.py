"""Step: the variants of a siting question, the plan across them, and the robust plan.

A plan that is optimal for one departure window, one day type or one demand
variant may be poor for the next. The variants of a request
(:class:`~integrationsatlas.request.VariantSpec`) are built here on the same
candidates and demand rows as the plan:

* the base case (the request itself), always first;
* demand variants: resamples of the demand's documented noise at evenly
  spaced quantiles of its total (:func:`planning.variants.demand_variants`);
* closures: each of the existing sites whose closure loses the most people;
* further departure windows and service days (day types) of a
  public-transport question: the door-to-door times again with that window
  or day.

The plan is evaluated in every variant (:func:`planning.variants.evaluate_plan`),
every variant is solved on its own to count in how many variants each site is
chosen (:func:`planning.variants.selection_frequency`), and with an objective
the plan itself is the robust MCLP over all variants (worst case or expected
coverage, solved exactly).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
from numpy.typing import NDArray

from geo.formatting import de_int, de_share
from geo.settings import Settings
from integrationsatlas.pipeline.costs import measure_for
from integrationsatlas.pipeline.intervals import DemandUncertainty
from integrationsatlas.request import AnalysisRequest, VariantSpec
from planning.explain import within_radius
from planning.siting.result import SitingResult
from planning.siting.robust import ROBUST_OBJECTIVES, RobustResult
from planning.uncertainty import DEMAND_NOISES, DemandDraws
from planning.variants import (
    DAY_TYPE,
    DEMAND,
    DEPARTURE_WINDOW,
    PlanAcrossVariants,
    SelectionFrequency,
    Variant,
    VariantKind,
    VariantSet,
    closure_variants,
    demand_variants,
    evaluate_plan,
    robust_plan,
    selection_frequency,
)

logger = logging.getLogger(__name__)

Progress = Callable[[float, str], None]
#: Name of the base case among the variants.
BASE_NAME = "Grundfall (Anfrage)"


@dataclass(frozen=True, eq=False)
class PlanVariants:
    """A plan across the variants of its question.

    Parameters
    ----------
    kinds
        German kind of each variant (base case first).
    evaluation
        Covered demand of the plan in every variant.
    frequency
        Each variant solved on its own: in how many variants each candidate is chosen.
    own_covered
        Per variant the demand its own optimal plan covers (the best any plan can do there).
    robust
        The robust MCLP's result when the plan was chosen for all variants.
    notes
        Why variants that were asked for are missing (German, one sentence each).
    """

    kinds: tuple[str, ...]
    evaluation: PlanAcrossVariants
    frequency: SelectionFrequency
    own_covered: NDArray[np.float64]
    robust: RobustResult | None = None
    notes: tuple[str, ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        """Variant names, base case first."""
        return self.evaluation.names

    def chosen_in(self, site: int) -> int:
        """In how many variants the candidate ``site`` belongs to that variant's own optimal plan."""
        return int(self.frequency.counts[site])

    def table(self) -> pd.DataFrame:
        """One row per variant: name, kind, covered, total, share of the plan and of the variant's own optimum."""
        ev = self.evaluation
        with np.errstate(divide="ignore", invalid="ignore"):
            own = np.where(ev.totals > 0, self.own_covered / ev.totals, np.nan)
        return ev.table().assign(kind=list(self.kinds), own_share=own)

    def text(self) -> str:
        """German: the plan's worst and mean coverage over the variants, then why any asked for are missing."""
        ev = self.evaluation
        shares = ev.shares
        how = (
            f"robust geplant ({ROBUST_OBJECTIVES[self.robust.objective_kind].label})"
            if self.robust is not None
            else "mit dem gewählten Modell geplant und in jeder Variante nachgerechnet"
        )
        worst = int(np.nanargmin(shares)) if np.isfinite(shares).any() else 0
        sentence = (
            f"Über {len(self.names)} Varianten ({how}): schlechtester Fall {de_share(shares[worst])} "
            f"versorgt (»{self.names[worst]}«), im Mittel {de_share(float(np.nanmean(shares)))}."
        )
        return " ".join([sentence, *self.notes])

    def as_dict(self) -> dict[str, Any]:
        """JSON form: per variant the plan's coverage, each variant's own plan, the robust result."""
        return {
            **self.evaluation.as_dict(),
            "kinds": list(self.kinds),
            "own_covered": [float(c) for c in self.own_covered],
            "frequency": self.frequency.as_dict(),
            "robust": None if self.robust is None else self.robust.as_dict(),
            "notes": list(self.notes),
            "text": self.text(),
        }


def variant_set(
    settings: Settings,
    request: AnalysisRequest,
    spec: VariantSpec,
    points: gpd.GeoDataFrame,
    candidates: gpd.GeoDataFrame,
    cost: Any,
    weights: NDArray[np.float64],
    reach: float,
    uncertainty: DemandUncertainty | None,
    rows: NDArray[np.int_] | None,
    progress: Progress | None = None,
) -> tuple[VariantSet, tuple[str, ...], tuple[str, ...]]:
    """The base case and the request's variants on the plan's demand rows and candidates.

    Returns the set, the German kind of each variant and, in German, why
    variants that were asked for could not be built (a demand without
    documented noise has no demand variants; a plan without existing sites
    has nothing to close).
    """
    radius = request.threshold_base
    variants: list[Variant] = [Variant(BASE_NAME, DEMAND, weights=weights)]
    notes: list[str] = []
    if spec.demand:
        if uncertainty is not None and rows is not None and uncertainty.varied:
            variants += demand_variants(_draws(uncertainty, rows), spec.demand)
        else:
            notes.append(
                f"Keine der {spec.demand} Nachfragevarianten: die Nachfrage beruht auf amtlichen Summen ohne "
                "dokumentiertes Rauschen. Varianten entstehen aus dem Zensus-Gitter (Cell-Key-Verfahren) oder "
                "der Schätzung aus OSM-Gebäuden."
            )
    if spec.closures:
        fixed = np.flatnonzero(candidates["fixed"].to_numpy(dtype=bool))
        critical = _most_critical(cost, weights, radius, fixed, spec.closures)
        names = candidates["name"].astype("string").fillna("Standort").to_numpy(dtype=object)[critical]
        variants += closure_variants(critical.tolist(), [str(n) for n in names])
        if fixed.size == 0:
            notes.append(
                f"Keine der {spec.closures} Schließungsvarianten: der Plan hat keine bestehenden Standorte, die "
                "schließen könnten (»Bestehende Standorte (bleiben offen)« wählen)."
            )
        elif critical.size < spec.closures:
            notes.append(
                f"Nur {critical.size} statt {spec.closures} Schließungsvarianten: so viele bestehende Standorte "
                "hat der Plan."
            )
    changes: list[tuple[VariantKind, dict[str, Any], str]] = [
        (DEPARTURE_WINDOW, {"window": w}, f"Abfahrt {_hm(w[0])}–{_hm(w[1])}") for w in spec.windows
    ]
    changes += [(DAY_TYPE, {"day": d}, f"Verkehrstag {date.fromisoformat(d):%d.%m.%Y}") for d in spec.days]
    for k, (kind, change, name) in enumerate(changes):
        if progress is not None:
            progress(k / len(changes), f"Variante »{name}«: Fahrzeiten berechnen")
        measure = measure_for(settings, request.with_(**change))
        variants.append(Variant(name, kind, cost=sp.csr_array(measure.matrix(points, candidates, reach))))
    kinds = tuple("Grundfall" if v.name == BASE_NAME else v.kind.label for v in variants)
    return VariantSet(cost, weights, radius, tuple(variants)), kinds, tuple(notes)


def robust_siting(
    variants: VariantSet,
    spec_objective: str,
    p_total: int | None,
    fixed: NDArray[np.int_],
    constraints: dict[str, Any],
    time_limit: float,
) -> tuple[SitingResult, RobustResult]:
    """The robust MCLP over the variants, as a siting result the plan's explanation can read."""
    res = robust_plan(variants, objective=spec_objective, **_solve_args(p_total, fixed, constraints, time_limit))
    where = "schlechtesten Fall" if res.objective_kind == "worst" else "Mittel"
    note = (
        f"Robust geplant: {res.objective_label} über {len(variants.variants)} Varianten "
        f"(Zielwert {de_int(res.objective)} Personen im {where})."
    )
    result = SitingResult(
        model="mclp",
        selected=res.selected,
        objective=res.objective,
        bound=res.bound,
        gap=res.gap,
        status=res.status,
        seconds=res.seconds,
        method="highs-benders-robust",
        assignment=None,
        covered=None,
        order=res.selected,
        notes=(*res.notes, note),
    )
    return result, res


def across_variants(
    variants: VariantSet,
    kinds: tuple[str, ...],
    notes: tuple[str, ...],
    selected: NDArray[np.int_],
    p_total: int | None,
    fixed: NDArray[np.int_],
    constraints: dict[str, Any],
    time_limit: float,
    robust: RobustResult | None = None,
    progress: Progress | None = None,
) -> PlanVariants:
    """Evaluate the plan in every variant and solve each variant on its own (selection frequency)."""
    frequency = selection_frequency(variants, progress=progress, **_solve_args(p_total, fixed, constraints, time_limit))
    own = np.array(
        [
            evaluate_plan(plan, VariantSet(variants.cost, variants.weights, variants.radius, (v,))).covered[0]
            for plan, v in zip(frequency.plans, variants.variants, strict=True)
        ]
    )
    return PlanVariants(kinds, evaluate_plan(selected, variants), frequency, own, robust, notes)


def _solve_args(
    p_total: int | None, fixed: NDArray[np.int_], constraints: dict[str, Any], time_limit: float
) -> dict[str, Any]:
    """What every MCLP over the variants is solved with: p, the budget and site costs, fixed sites, time limit."""
    return {
        "p": p_total,
        "budget": constraints.get("budget"),
        "site_cost": constraints.get("site_cost"),
        "fixed": fixed,
        "time_limit": time_limit,
    }


def _draws(uncertainty: DemandUncertainty, rows: NDArray[np.int_]) -> DemandDraws:
    """The resampled demand of ``rows`` as one :class:`planning.uncertainty.DemandDraws`."""
    draws = np.vstack(list(uncertainty.draw_chunks(rows))).astype(np.float32)
    kinds = uncertainty.kinds[rows]
    models = {str(k): DEMAND_NOISES[str(k)].label for k in set(kinds)}
    return DemandDraws(uncertainty.weights[rows], draws, kinds, models, uncertainty.seed, 0.0)


def _most_critical(cost: Any, weights: NDArray[np.float64], radius: float, fixed: NDArray[np.int_], k: int) -> Any:
    """The ``k`` existing sites that alone reach the most people among the existing sites."""
    if fixed.size == 0:
        return np.zeros(0, dtype=np.int64)
    a = sp.csc_array(within_radius(cost, radius), dtype=float)[:, fixed]
    count = a @ np.ones(fixed.size)
    exclusive = a.T @ (weights * (count == 1))
    order = np.argsort(-exclusive, kind="stable")[: min(k, fixed.size)]
    return fixed[order]


def _hm(seconds: int) -> str:
    return f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}"
