"""The decision figures of a siting plan: costs, budget frontier, committee margins, intervals, places, variants.

A council decides with a budget, defends each site in committee and has to
say how sure a figure is. :func:`plan_decisions` composes the pipeline's
decision steps for a solved plan, on the plan's own candidates, demand rows,
cost matrix and threshold:

* :mod:`~integrationsatlas.pipeline.budget`: total costs, the Land's and the
  municipal share, euros per newly reached person (and per target-group
  person), the budget frontier;
* :func:`planning.substitutes.site_margins`: per new site the best substitute
  and how far its demand (or, under a budget, its cost) may change before the
  decision flips;
* :mod:`~integrationsatlas.pipeline.intervals`: intervals of the shares before
  and after, of each site's gain and of each Gemeinde's shares;
* :mod:`~integrationsatlas.pipeline.places`: before and after with places,
  where the layer has them;
* :mod:`~integrationsatlas.pipeline.variants`: the plan across the variants,
  and in how many variants each site is chosen.

Nothing here imports Streamlit.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
from numpy.typing import NDArray

from geo.formatting import de_int
from geo.settings import Settings
from integrationsatlas.pipeline.budget import SiteBudget, eur_text, plan_costs, plan_frontier
from integrationsatlas.pipeline.intervals import DemandUncertainty, interval_record, share_text
from integrationsatlas.pipeline.places import PlacesFigures, candidate_places, place_demand, places_coverage
from integrationsatlas.pipeline.variants import PlanVariants
from integrationsatlas.request import AnalysisRequest
from planning.costs import CostSummary
from planning.explain import UNKNOWN_UNIT, SolutionExplanation
from planning.frontier import BudgetFrontier, NothingToBuyError
from planning.substitutes import SiteMargin, site_margins
from planning.uncertainty import Interval

logger = logging.getLogger(__name__)

Progress = Callable[[float, str], None]


@dataclass(frozen=True, eq=False)
class PlanIntervals:
    """Intervals of a plan's shares and gains from the resampled demand.

    Parameters
    ----------
    uncertainty
        The resampling (error models, level, resamples, whether assumed).
    share_before, share_after
        Covered share with the existing sites only, and with the plan.
    newly_reached
        People (of the target group) the new sites newly reach.
    gains
        Candidate index → the people that site newly reaches in the
        explanation's order.
    by_gemeinde
        ``gemeinde_ags`` and the bounds ``before_low``, ``before_high``,
        ``after_low``, ``after_high`` of each Gemeinde's shares.
    extent
        The extent's share of the area's residents (``None``: the whole area).
    """

    uncertainty: DemandUncertainty
    share_before: Interval
    share_after: Interval
    newly_reached: Interval
    gains: dict[int, Interval]
    by_gemeinde: pd.DataFrame
    extent: Interval | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON form (each interval with its German text)."""
        return {
            **self.uncertainty.as_dict(),
            "share_before": interval_record(self.share_before),
            "share_after": interval_record(self.share_after),
            "newly_reached": interval_record(self.newly_reached, "Personen", people=True),
            "gains": {int(j): interval_record(iv, "Personen", people=True) for j, iv in self.gains.items()},
            "extent": interval_record(self.extent, "der Einwohner"),
        }


@dataclass(frozen=True, eq=False)
class PlanPlaces:
    """The plan before and after, with places (existing sites: the layer's column; new ones: the request's)."""

    before: PlacesFigures
    after: PlacesFigures
    new_sites: tuple[tuple[str, float, float], ...] = ()  # name, places taken, places of each new site

    def new_sites_text(self) -> str:
        """The places taken at each new site in plain German (empty without new sites)."""
        if not self.new_sites:
            return ""
        parts = [f"{name}: {de_int(load)} von {de_int(cap)}" for name, load, cap in self.new_sites]
        return "Belegte Plätze der neuen Standorte – " + "; ".join(parts) + "."

    @property
    def newly_served(self) -> float:
        """People who have a free place within reach after the plan and not before (of the place type's demand)."""
        return self.after.result.covered - self.before.result.covered

    def as_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "before": self.before.as_dict(),
            "after": self.after.as_dict(),
            "newly_served": self.newly_served,
            "new_sites": [{"name": n, "load": load, "places": cap} for n, load, cap in self.new_sites],
        }


@dataclass(frozen=True, eq=False)
class PlanDecisions:
    """Everything a council needs to fund and defend a plan (each part ``None``/empty when not asked for).

    ``cost_label`` and ``basis_cost`` are what the budget counts and what the
    plan's new sites cost on that basis (the plan's point on the frontier);
    ``site_ids`` the ``candidate_id`` of each new site's candidate index (a
    saved scenario keeps the ids, not the indices).
    """

    costs: CostSummary | None = None
    frontier: BudgetFrontier | None = None
    margins: tuple[SiteMargin, ...] = ()
    intervals: PlanIntervals | None = None
    places: PlanPlaces | None = None
    variants: PlanVariants | None = None
    cost_label: str = ""
    basis_cost: float | None = None
    site_ids: dict[int, str] = field(default_factory=dict)

    def margin_of(self, site: int) -> SiteMargin | None:
        """The committee margin of a new site (``None`` if it has none)."""
        return next((m for m in self.margins if m.site == site), None)

    def as_dict(self) -> dict[str, Any]:
        """JSON form of every part."""
        return {
            "costs": None if self.costs is None else self.costs.as_dict(),
            "frontier": None if self.frontier is None else self.frontier.as_dict(),
            "margins": [m.as_dict() for m in self.margins],
            "intervals": None if self.intervals is None else self.intervals.as_dict(),
            "places": (
                None
                if self.places is None
                else {**self.places.as_dict(), "eur_per_newly_served": self.eur_per_newly_served}
            ),
            "variants": None if self.variants is None else self.variants.as_dict(),
            "cost_label": self.cost_label,
            "basis_cost": self.basis_cost,
            "site_ids": {str(j): cid for j, cid in self.site_ids.items()},
        }

    @property
    def eur_per_newly_served(self) -> float | None:
        """Yearly cost of the new sites per person newly served with a free place (``None`` without both)."""
        if self.costs is None or self.places is None or self.places.newly_served <= 0:
            return None
        return self.costs.yearly_total / self.places.newly_served

    def lines(self, share_before: float, share_after: float) -> list[str]:
        """The decision figures in plain German, one line each (CLI text, page captions)."""
        out = []
        if self.intervals is not None:
            out.append(
                f"Vorher {share_text(self.intervals.share_before, share_before)}, nachher "
                f"{share_text(self.intervals.share_after, share_after)}"
                + (" – Fehlermodell angenommen." if self.intervals.uncertainty.assumed else ".")
            )
        if self.places is not None:
            out.append(f"Vorher: {self.places.before.text()}")
            out.append(f"Nachher: {self.places.after.text()}")
            if self.places.new_sites:
                out.append(self.places.new_sites_text())
            per = self.eur_per_newly_served
            if per is not None:
                out.append(
                    f"Neu mit freiem Platz: {de_int(self.places.newly_served)} ({self.places.after.demand_label}); "
                    f"{eur_text(per)} je neu versorgter Person und Jahr."
                )
        if self.variants is not None:
            out.append(self.variants.text())
        return out


@dataclass(frozen=True, eq=False)
class PlanInputs:
    """What the decision steps read of a solved plan."""

    request: AnalysisRequest
    points: gpd.GeoDataFrame
    candidates: gpd.GeoDataFrame
    cost: Any
    weights: NDArray[np.float64]
    coverage: sp.csc_array
    fixed: NDArray[np.int_]
    selected: NDArray[np.int_]
    explanation: SolutionExplanation
    budget: SiteBudget | None
    uncertainty: DemandUncertainty | None = None
    rows: NDArray[np.int_] = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    target_label: str = "Gesamtbevölkerung"
    with_places: bool = False  # the model planned with places (the committee margins count reach only)


def plan_decisions(
    settings: Settings,
    inputs: PlanInputs,
    *,
    variants: PlanVariants | None = None,
    extent: Interval | None = None,
    progress: Progress | None = None,
) -> PlanDecisions:
    """The decision figures of a solved plan (see the module docstring).

    Parameters
    ----------
    settings
        Data paths (the layer's places are read from the store).
    inputs
        The plan's request, demand rows, candidates, costs and solution.
    variants
        The plan across its variants, when the request has variants.
    extent
        Interval of the extent's share of the area's residents (when partial).
    progress
        Called as ``progress(fraction, message)``.
    """
    spec = inputs.request.siting
    assert spec is not None
    order = inputs.explanation.order
    costs = frontier = None
    if inputs.budget is not None:
        population = inputs.points["population"].to_numpy(dtype=float)
        target = None if inputs.request.target_group == "total" else inputs.weights
        costs = plan_costs(inputs.budget, order, inputs.coverage, population, target, inputs.fixed)
        if spec.frontier_points > 0:
            _say(progress, 0.0, f"Budget-Grenze mit {spec.frontier_points} Budgets und den Kosten des Plans lösen")
            try:
                frontier = plan_frontier(
                    inputs.budget,
                    inputs.cost,
                    inputs.weights,
                    inputs.request.threshold_base,
                    inputs.fixed,
                    spec,
                    part_progress(progress, 0.0, 0.5),
                    plan_cost=float(inputs.budget.site_cost[order].sum()),
                )
            except NothingToBuyError as exc:  # the plan stands; the frontier it asked for is named as missing
                costs = replace(costs, notes=(*costs.notes, str(exc)))
    margins: tuple[SiteMargin, ...] = ()
    if order.size and not inputs.with_places:
        budget_kwargs: dict[str, Any] = {}
        if spec.budget is not None and inputs.budget is not None:
            budget_kwargs = {"site_cost": inputs.budget.site_cost, "budget": float(spec.budget)}
        margins = site_margins(
            order,
            inputs.coverage,
            inputs.weights,
            fixed=inputs.fixed,
            names=inputs.candidates["name"].astype("string").fillna("Standort").to_numpy(dtype=object),
            **budget_kwargs,
        )
    _say(progress, 0.6, "Intervalle aus der Unsicherheit der Nachfrage")
    intervals = _intervals(inputs)
    if intervals is not None and extent is not None:
        intervals = replace(intervals, extent=extent)
    _say(progress, 0.8, "Versorgung mit Plätzen")
    places = _places(settings, inputs)
    return PlanDecisions(
        costs=costs,
        frontier=frontier,
        margins=margins,
        intervals=intervals,
        places=places,
        variants=variants,
        cost_label="" if inputs.budget is None else inputs.budget.basis.label,
        basis_cost=None if inputs.budget is None else float(inputs.budget.site_cost[order].sum()),
        site_ids={int(j): str(inputs.candidates["candidate_id"].iloc[int(j)]) for j in order},
    )


def _intervals(inputs: PlanInputs) -> PlanIntervals | None:
    unc = inputs.uncertainty
    if unc is None:
        return None
    a = inputs.coverage
    n = a.shape[0]
    before = _covered(a, inputs.fixed)
    after = _covered(a, np.union1d(inputs.selected, inputs.fixed).astype(int))
    covered = before.copy()
    newly_cols = []
    for j in inputs.explanation.order:  # the gain of each site in the explanation's order
        hit = (a[:, [int(j)]].toarray().ravel() > 0) & ~covered
        newly_cols.append(hit)
        covered |= hit
    newly = np.column_stack(newly_cols) if newly_cols else np.zeros((n, 0), dtype=bool)
    gemeinde = (
        inputs.points["gemeinde_ags"].astype("string").fillna(UNKNOWN_UNIT)
        if "gemeinde_ags" in inputs.points.columns
        else pd.Series(UNKNOWN_UNIT, index=inputs.points.index, dtype="string")
    )
    codes, labels = pd.factorize(gemeinde)
    member = sp.csc_array((np.ones(n), (np.arange(n), codes)), shape=(n, labels.size))
    sampled = unc.sample(
        inputs.rows,
        {
            "before": before.reshape(-1, 1),
            "after": after.reshape(-1, 1),
            "all": np.ones((n, 1)),
            "newly": newly,
            "newly_total": (after & ~before).reshape(-1, 1),
            "g_before": sp.csc_array(sp.diags_array(before.astype(float)) @ member),
            "g_after": sp.csc_array(sp.diags_array(after.astype(float)) @ member),
            "g_all": member,
        },
    )
    g_before = unc.ratios(sampled["g_before"], sampled["g_all"])
    g_after = unc.ratios(sampled["g_after"], sampled["g_all"])
    table = pd.DataFrame(
        {
            "gemeinde_ags": np.asarray(labels, dtype=object),
            "before_low": [iv.low for iv in g_before],
            "before_high": [iv.high for iv in g_before],
            "after_low": [iv.low for iv in g_after],
            "after_high": [iv.high for iv in g_after],
        }
    )
    gains = unc.sums(sampled["newly"])
    return PlanIntervals(
        uncertainty=unc,
        share_before=unc.ratios(sampled["before"], sampled["all"])[0],
        share_after=unc.ratios(sampled["after"], sampled["all"])[0],
        newly_reached=unc.sums(sampled["newly_total"])[0],
        gains={int(j): iv for j, iv in zip(inputs.explanation.order, gains, strict=True)},
        by_gemeinde=table,
    )


def _places(settings: Settings, inputs: PlanInputs) -> PlanPlaces | None:
    """Before and after with places, when the layer has places and the request respects them."""
    request, spec = inputs.request, inputs.request.siting
    assert spec is not None
    if not request.places:
        return None
    found = candidate_places(settings, request, inputs.candidates)
    if found is None:
        return None
    places, column = found
    demand, demand_label, demand_note = place_demand(
        inputs.points, request.layer, request.target_group, inputs.target_label, request.place_share
    )
    if demand is None:
        return None
    new = ~inputs.candidates["fixed"].to_numpy(dtype=bool)
    places[new] = np.nan if spec.new_site_places is None else float(spec.new_site_places)
    extra = [demand_note]
    if spec.new_site_places is None:
        extra.append(
            "Neue Standorte ohne Angabe ihrer Plätze zählen ohne Platzgrenze (Plätze je neuem Standort angeben)."
        )
    after = np.union1d(inputs.selected, inputs.fixed).astype(np.int64)
    figures = [
        places_coverage(
            inputs.cost,
            demand,
            places,
            request.threshold_base,
            column,
            demand_label,
            open_sites=sites,
            uncertainty=inputs.uncertainty,
            rows=inputs.rows,
            notes=tuple(extra),
        )
        for sites in (inputs.fixed, after)
    ]
    result = figures[1].result
    load = dict(zip(result.sites.tolist(), result.load.tolist(), strict=True))
    names = inputs.candidates["name"].astype("string").fillna("Standort")
    new_sites = tuple(
        (str(names.iloc[int(j)]), float(load.get(int(j), 0.0)), float(places[int(j)]))
        for j in inputs.explanation.order
        if np.isfinite(places[int(j)])
    )
    return PlanPlaces(figures[0], figures[1], new_sites)


def _covered(a: sp.csc_array, sites: NDArray[np.int_]) -> NDArray[np.bool_]:
    if len(sites) == 0:
        return np.zeros(a.shape[0], dtype=bool)
    return np.asarray((a[:, np.asarray(sites, dtype=np.int64)] @ np.ones(len(sites))) > 0)


def _say(progress: Progress | None, fraction: float, message: str) -> None:
    if progress is not None:
        progress(fraction, message)


def part_progress(progress: Progress | None, start: float, end: float) -> Progress | None:
    """A progress callback for a sub-step that maps its ``[0, 1]`` onto ``[start, end]``."""
    if progress is None:
        return None
    return lambda f, m: progress(start + (end - start) * f, m)
