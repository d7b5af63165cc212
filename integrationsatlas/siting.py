"""Site planning: the composition of the pipeline's steps for a siting request.

:func:`plan_sites` answers an :class:`~integrationsatlas.request.AnalysisRequest`
with a siting part using the shared steps of :mod:`integrationsatlas.pipeline`
(area → demand → extent → costs), the candidate step
(:mod:`integrationsatlas.siting_candidates`), an exact location model from the
registry (:mod:`planning.siting.models`), its explanation and the honesty
checks (resolution and extent, as in the coverage report). The result, a
frozen :class:`SitingPlan`, carries its request, turns into a saveable
:class:`~geo.store.scenarios.Scenario` and re-runs exactly from it.

Nothing here imports Streamlit.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
from numpy.typing import NDArray

from geo.errors import DataError, IntegrationsatlasError
from geo.formatting import de_number, de_share, points_between
from geo.layers.sources import ATTRIBUTIONS
from geo.settings import PROJECTED_CRS, Settings
from geo.store.scenarios import Scenario
from integrationsatlas.coverage import resolution_dict
from integrationsatlas.pipeline.area import StudyArea, study_area
from integrationsatlas.pipeline.costs import Extent, Measure, extent_of, measure_for
from integrationsatlas.pipeline.demand import area_demand, area_population
from integrationsatlas.pipeline.intervals import demand_uncertainty, extent_interval, interval_record
from integrationsatlas.pipeline.places import siting_places
from integrationsatlas.pipeline.variants import across_variants, robust_siting
from integrationsatlas.pipeline.variants import variant_set as variant_set_of
from integrationsatlas.request import AnalysisRequest
from integrationsatlas.siting_candidates import candidates_for, constraints, gemeinde_names
from integrationsatlas.siting_decisions import PlanDecisions, PlanInputs, part_progress, plan_decisions
from integrationsatlas.siting_review import covered_by, drop_useless, plan_equity
from planning.demand import DemandResult
from planning.explain import SolutionExplanation, explain_solution, sensitivity, within_radius
from planning.resolution import ResolutionVerdict, check_resolution
from planning.siting.models import SITING_MODELS, SitingModel, siting_model
from planning.uncertainty import DEFAULT_SEED

logger = logging.getLogger(__name__)

#: Model ids in display order.
MODELS: tuple[str, ...] = tuple(SITING_MODELS)
#: Dense cost matrices above this many entries are refused (p-median).
MAX_DENSE_ENTRIES = 25_000_000

Progress = Callable[[float, str], None]


@dataclass(frozen=True, eq=False)
class SitingPlan:
    """A computed siting plan with everything needed to show, explain and cite it.

    Parameters
    ----------
    request
        The question answered (with its siting part).
    area
        The study area (key, name, polygon in EPSG:25832).
    demand
        Demand points used (EPSG:25832) with ``covered_before`` and
        ``covered_after``.
    candidates
        All candidates (see :func:`planning.candidates.build_candidates`)
        plus ``selected``, ``order`` (1-based selection order of new sites)
        and ``marginal_gain``.
    result
        The solver's ``SitingResult``.
    explanation
        Why each site, coverage before/after per Kreis and Gemeinde.
    sensitivity
        Coverage-vs-p (and threshold) table; see :func:`planning.explain.sensitivity`.
    inputs
        Facts for citation: layers and as-of dates, demand level, target
        group, cost kind, attributions.
    notes
        German remarks (extent of the network, candidates left out, fewer
        sites than asked …).
    equity
        Per Gemeinde and overall: share of the demand beyond the threshold
        and 90th percentile of the cost to the nearest site, before and after
        (see :func:`planning.equity.equity_table`).
    shortfall
        German message when fewer new sites are proposed than asked, else empty.
    resolution
        Whether the demand is fine enough for the threshold (as in the
        coverage report); when not, every figure is only a rough approximation.
    extent
        The part of the area the plan covers (the street network's extract).
    decisions
        Costs, budget frontier, committee margins, intervals, places and
        variants (:mod:`integrationsatlas.siting_decisions`).

    Notes
    -----
    All geometries are in EPSG:25832 (metres).
    """

    request: AnalysisRequest
    area: StudyArea
    demand: gpd.GeoDataFrame
    candidates: gpd.GeoDataFrame
    result: Any
    explanation: SolutionExplanation
    sensitivity: pd.DataFrame
    inputs: Mapping[str, Any]
    notes: tuple[str, ...] = field(default=())
    equity: pd.DataFrame = field(default_factory=pd.DataFrame)
    shortfall: str = ""
    resolution: ResolutionVerdict | None = None
    extent: Extent | None = None
    decisions: PlanDecisions | None = None

    @property
    def area_ags(self) -> str:
        """Key of the planning area."""
        return self.area.ags

    @property
    def area_name(self) -> str:
        """Name of the planning area."""
        return self.area.name

    @property
    def model(self) -> SitingModel:
        """The location model's declaration."""
        return siting_model(self.spec.model)

    @property
    def spec(self) -> Any:
        """The siting part of the request."""
        assert self.request.siting is not None
        return self.request.siting

    @property
    def sites(self) -> gpd.GeoDataFrame:
        """Fixed and selected sites: fixed first, then new ones in selection order."""
        chosen = self.candidates[self.candidates["selected"] | self.candidates["fixed"]]
        return chosen.sort_values(["fixed", "order"], ascending=[False, True], kind="stable")

    @property
    def coverage_by_kreis(self) -> pd.DataFrame:
        """Coverage before/after per Kreis."""
        return self.explanation.by_kreis

    @property
    def coverage_by_gemeinde(self) -> pd.DataFrame:
        """Coverage before/after per Gemeinde, with site counts."""
        return self.explanation.by_gemeinde

    def summary(self) -> dict[str, Any]:
        """Scalars for reports and JSON: objective, gap, status, shares, resolution, extent …"""
        r = self.result
        exp = self.explanation
        return {
            "model": self.spec.model,
            "model_label": self.model.label,
            "status": str(r.status),
            "objective": float(r.objective),
            "bound": as_float(getattr(r, "bound", None)),
            "gap": as_float(getattr(r, "gap", None)),
            "seconds": as_float(getattr(r, "seconds", None)),
            "method": str(getattr(r, "method", "")),
            "n_candidates": len(self.candidates),
            "n_fixed": len(exp.fixed),
            "n_new": len(exp.sites),
            "n_requested": int(self.spec.p),
            "total_weight": exp.total_weight,
            "covered_before": exp.covered_before,
            "covered_after": exp.covered_after,
            "share_before": exp.share_before,
            "share_after": exp.share_after,
            "cost_before": exp.cost_before,
            "cost_after": exp.cost_after,
            "threshold": self.request.threshold_label,
            "shortfall": self.shortfall,
            "resolution": None if self.resolution is None else resolution_dict(self.resolution),
            "extent": self._extent_dict(),
            **self._decision_scalars(),
            "decisions": None if self.decisions is None else self.decisions.as_dict(),
        }

    def _extent_dict(self) -> dict[str, Any] | None:
        if self.extent is None:
            return None
        out = self.extent.as_dict()
        intervals = None if self.decisions is None else self.decisions.intervals
        if intervals is not None and intervals.extent is not None:
            out["share_interval"] = interval_record(intervals.extent, "der Einwohner")
        return out

    def _decision_scalars(self) -> dict[str, Any]:
        """The headline decision figures beside the shares: their intervals and the costs per person."""
        d = self.decisions
        iv = None if d is None else d.intervals
        costs = None if d is None else d.costs
        return {
            "share_before_interval": None if iv is None else interval_record(iv.share_before),
            "share_after_interval": None if iv is None else interval_record(iv.share_after),
            "newly_reached_interval": None
            if iv is None
            else interval_record(iv.newly_reached, "Personen", people=True),
            "intervals_assumed": None if iv is None else iv.uncertainty.assumed,
            "yearly_cost": None if costs is None else costs.yearly_total,
            "one_off_cost": None if costs is None else costs.one_off_total,
            "land_share": None if costs is None else costs.land_yearly,
            "municipal_share": None if costs is None else costs.municipal_yearly,
            "newly_reached": None if costs is None else costs.newly_reached,
            "eur_per_newly_reached": None if costs is None else as_float(costs.eur_per_newly_reached),
            "eur_per_newly_reached_target": None
            if costs is None or costs.eur_per_newly_reached_target is None
            else as_float(costs.eur_per_newly_reached_target),
        }

    def to_scenario(self, name: str) -> Scenario:
        """This plan as a :class:`~geo.store.scenarios.Scenario` named ``name`` (with its request, to re-run)."""
        sites = self.sites
        return Scenario(
            name=name,
            area_ags=self.area_ags,
            area_name=self.area_name,
            model=self.spec.model,
            parameters={**self.request.as_dict(), "request_key": self.request.key},
            sites=gpd.GeoDataFrame(
                sites[
                    ["candidate_id", "source", "name", "gemeinde_ags", "kreis_ags", "fixed", "order", "marginal_gain"]
                ],
                geometry=sites.geometry,
                crs=PROJECTED_CRS,
            ).reset_index(drop=True),
            results={**self.summary(), "notes": list(self.notes)},
            by_gemeinde=self.explanation.by_gemeinde,
            layers=dict(self.inputs.get("layers", {})),
            demand_level=str(self.inputs.get("demand_level", "")),
            target_group=str(self.inputs.get("target_group", self.request.target_group)),
        )


def as_float(value: Any) -> float | None:
    if value is None:
        return None
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return out if np.isfinite(out) else None


def _report(progress: Progress | None, fraction: float, message: str) -> None:
    logger.info("%3.0f %% %s", 100 * fraction, message)
    if progress is not None:
        progress(fraction, message)


def plan_sites(settings: Settings, request: AnalysisRequest, progress: Progress | None = None) -> SitingPlan:
    """Plan new sites for an area: candidates, exact model, explanation, sensitivity, honesty checks.

    Parameters
    ----------
    settings
        Data paths and thresholds (``snap_max_m`` for the network).
    request
        The question, with its siting part (:class:`~integrationsatlas.request.SitingSpec`).
    progress
        Called as ``progress(fraction, message)`` with ``fraction`` in [0, 1].

    Returns
    -------
    SitingPlan

    Raises
    ------
    DataError
        For an invalid request or an area without demand or candidates.
    InfeasibleError
        When the constraints cannot be met (e.g. a budget below the fixed
        sites' cost); the message names the constraint.

    Notes
    -----
    The costs are the request's measure (straight line in EPSG:25832, or
    door-to-door travel time), the same as the coverage report's; with the
    layer's existing sites kept open, the plan's "before" figure is the
    coverage report's covered share.
    """
    spec = request.validate().siting
    if spec is None:
        raise DataError("Die Anfrage enthält keinen Standortteil (Modell, Anzahl neuer Standorte).")
    model = siting_model(spec.model)
    _report(progress, 0.0, "Planungsgebiet und Nachfrage laden")
    area = study_area(settings, request.area)
    demand_result, points, demand_note = area_demand(settings, request, area)
    uncertainty = demand_uncertainty(points, request.resamples, request.interval_level, DEFAULT_SEED)
    measure = measure_for(settings, request)
    extent, inside = extent_of(measure, points, area.name, area_population(settings, area, demand_result, points))
    extent_share = None
    if uncertainty is not None and extent.partial:
        people = points["population"].to_numpy(dtype=np.float64)
        extent_share = extent_interval(uncertainty, people, inside, extent.population_of_area)
    keep = inside & (points["weight"].to_numpy(dtype=float) > 0)
    points = points.assign(demand_row=np.arange(len(points)))[keep].reset_index(drop=True)
    if points.empty:
        raise DataError(f"Im Gebiet {area.label} gibt es keine Nachfrage (oder keine im {measure.extent_name}).")
    notes = [n for n in (demand_note, _extent_note(extent), measure.citation()) if n]
    _report(progress, 0.1, "Kandidaten zusammenstellen")
    candidates, layers, budget = candidates_for(settings, request, area, points, measure, notes)
    fixed = np.flatnonzero(candidates["fixed"].to_numpy(dtype=bool))
    n_open = len(candidates) - len(fixed)
    p_solve = min(spec.p, n_open) if model.needs_p else spec.p
    if p_solve < spec.p:
        notes.append(
            f"Es gibt nur {n_open} Kandidaten für neue Standorte; geplant wird mit höchstens {n_open} "
            f"statt {spec.p}. Mehr Kandidaten: Clusterzentren, ein feineres Raster oder eigene Punkte."
        )
    _report(progress, 0.2, f"Kostenmatrix berechnen ({len(points)} × {len(candidates)})")
    extra = [r * (60.0 if request.uses_time else 1000.0) for r in spec.sensitivity_radii]
    reach = max([request.threshold_base, *extra])
    cost, points, weights = _cost_matrix(measure, model, points, candidates, reach, notes)
    rows = points["demand_row"].to_numpy(dtype=np.int64)
    kwargs = constraints(settings, candidates, spec, budget)
    places = siting_places(settings, request, points, candidates, demand_result.target_group.label)
    if places is not None:  # the model serves the place type's demand up to each site's places
        weights, kwargs["capacity"] = places.weights, places.capacity
        points = points.assign(weight=weights)
        uncertainty = None if uncertainty is None else uncertainty.with_weights(rows, weights)
        notes += list(places.notes)
        plain = ["die Kurve über p", *(["die Budget-Grenze"] if spec.frontier_points else [])]
        plain += ["die Varianten"] if spec.variants is not None else []
        plain += ["der robuste Plan selbst"] if spec.variants is not None and spec.variants.objective else []
        notes.append(
            f"Ohne Platzgrenze (wer in Reichweite ist) gerechnet: {', '.join(plain)}. Kein Ersatzvergleich je "
            "Standort: er zählt Reichweite, nicht Plätze."
        )

    def build(p_new: int, r: float) -> Any:
        return model.build(cost, weights, r, p_new + len(fixed), fixed, spec.time_limit, kwargs)

    def build_plain(p_new: int, r: float) -> Any:  # the curve over p counts reach: no places
        plain = {k: v for k, v in kwargs.items() if k != "capacity"}
        return model.build(cost, weights, r, p_new + len(fixed), fixed, spec.time_limit, plain)

    variant_set = None
    if spec.variants is not None:
        _report(progress, 0.25, "Varianten aufstellen")
        variant_set = variant_set_of(
            settings,
            request,
            spec.variants,
            points,
            candidates,
            cost,
            weights,
            reach,
            uncertainty,
            rows,
            part_progress(progress, 0.25, 0.3),
        )
    objective = None if spec.variants is None else spec.variants.objective
    p_total = p_solve + len(fixed) if model.needs_p else None
    robust = None
    if variant_set is not None and objective is not None:
        _report(progress, 0.3, f"Robustes MCLP über {len(variant_set[1])} Varianten lösen")
        solved, robust = robust_siting(variant_set[0], objective, p_total, fixed, kwargs, spec.time_limit)
    else:
        _report(progress, 0.3, f"{model.label} lösen")
        solved = build(p_solve, request.threshold_base).solve()
    _report(progress, 0.4, "Auswahl erklären")
    names = gemeinde_names(settings)
    result, explanation, shortfall, coverage = _explain(
        request, model, solved, cost, weights, points, candidates, names, with_places=places is not None
    )
    notes = [shortfall, *notes] if shortfall else notes
    candidates = _mark_selection(candidates, result, explanation)
    after = np.union1d(np.asarray(result.selected, dtype=int), fixed).astype(int)
    points = points.assign(covered_before=covered_by(coverage, fixed), covered_after=covered_by(coverage, after))
    _report(progress, 0.45, "Gerechtigkeit je Gemeinde berechnen")
    unit = 60.0 if request.uses_time else 1000.0
    equity = plan_equity(
        points, candidates, weights, fixed, after, measure.nearest, request.threshold_base, unit, names
    )
    _report(progress, 0.5, "Sensitivität über p berechnen")
    known = {} if robust is not None or places is not None else {(p_solve, request.threshold_base): solved}
    curve = _sensitivity(
        request, build_plain, cost, weights, extra, len(fixed), n_open, part_progress(progress, 0.5, 0.65), known
    )
    plan_variants = None
    if variant_set is not None:
        _report(progress, 0.65, "Jede Variante einzeln lösen")
        plan_variants = across_variants(
            *variant_set, after, p_total, fixed, kwargs, spec.time_limit, robust, part_progress(progress, 0.65, 0.8)
        )
    selected = np.asarray(result.selected, dtype=np.int64)
    inputs = PlanInputs(request, points, candidates, cost, weights, coverage, fixed, selected, explanation, budget)
    inputs = replace(
        inputs,
        uncertainty=uncertainty,
        rows=rows,
        target_label=demand_result.target_group.label,
        with_places=places is not None,
    )
    decisions = plan_decisions(
        settings, inputs, variants=plan_variants, extent=extent_share, progress=part_progress(progress, 0.8, 1.0)
    )
    if robust is not None and places is None:  # the curve and the frontier plan for the entered demand alone
        share = explanation.share_after
        with_frontier = decisions.frontier is not None
        notes.append(robustness_note(curve, p_solve, request.threshold_base / unit, share, with_frontier))
    if decisions.intervals is not None:  # each Gemeinde's shares with their intervals, wherever the table goes
        bounds = decisions.intervals.by_gemeinde
        table = explanation.by_gemeinde.merge(bounds, on="gemeinde_ags", how="left")
        explanation = replace(explanation, by_gemeinde=table)
    _report(progress, 1.0, "fertig")
    return SitingPlan(
        request=request,
        area=area,
        demand=points,
        candidates=candidates,
        result=result,
        explanation=explanation,
        sensitivity=curve,
        inputs=_inputs(request, demand_result, layers, measure),
        notes=tuple(notes),
        equity=equity,
        shortfall=shortfall,
        resolution=check_resolution(points, None, request.threshold_m),
        extent=extent,
        decisions=decisions,
    )


def robustness_note(curve: pd.DataFrame, p_new: int, radius: float, share: float, with_frontier: bool) -> str:
    """What the curve over p (and the budget frontier) of a robust plan stand for, and what robustness costs.

    Both are solved for the entered demand alone, without the variants; at the plan's ``p_new`` the curve's
    optimum reaches more of that demand than the robust plan, which gives some of it up for the worst or the
    mean variant. ``radius`` is the curve's threshold (km or minutes), ``share`` the robust plan's coverage;
    ``with_frontier`` says whether the plan has a budget frontier (one was asked for and there was one to draw).

    >>> curve = pd.DataFrame({"radius": [10.0, 10.0], "p_new": [2, 3], "covered_share": [0.645, 0.794]})
    >>> robustness_note(curve, 3, 10.0, 0.711, True)  # doctest: +NORMALIZE_WHITESPACE
    'Die Kurve über p und die Budget-Grenze sind ohne Varianten gerechnet, für die eingegebene Nachfrage allein:
    der dafür beste Plan mit 3 neuen Standorten erreicht 79,4 %, der robuste Plan 71,1 % (8,3 Prozentpunkte
    weniger, der Preis der Robustheit).'
    """
    what = "Die Kurve über p und die Budget-Grenze sind" if with_frontier else "Die Kurve über p ist"
    note = f"{what} ohne Varianten gerechnet, für die eingegebene Nachfrage allein"
    row = curve if curve.empty else curve[(curve["radius"] == radius) & (curve["p_new"] == p_new)]
    if row.empty:
        return note + "."
    best = float(row["covered_share"].iloc[0])
    price = points_between(share, best)
    robust = (
        f"der robuste Plan {de_share(share)} ({de_number(price, 1)} Prozentpunkte weniger, der Preis der Robustheit)"
        if price >= 0.05
        else "der robuste Plan ebenso viel: die Robustheit kostet hier nichts"
    )
    sites = "einem neuen Standort" if p_new == 1 else f"{p_new} neuen Standorten"
    return f"{note}: der dafür beste Plan mit {sites} erreicht {de_share(best)}, {robust}."


def _extent_note(extent: Extent) -> str:
    if not extent.partial:
        return ""
    return f"Geplant wird nur im {extent.caption}."


def _cost_matrix(
    measure: Measure,
    model: SitingModel,
    demand: gpd.GeoDataFrame,
    candidates: gpd.GeoDataFrame,
    reach: float,
    notes: list[str],
) -> tuple[Any, gpd.GeoDataFrame, NDArray[np.float64]]:
    """The demand × candidate costs (metres or seconds), pairs within ``reach`` (dense for the p-median)."""
    weights = demand["weight"].to_numpy(dtype=float)
    if not model.dense_cost:
        return measure.matrix(demand, candidates, reach), demand, weights
    if len(demand) * len(candidates) > MAX_DENSE_ENTRIES:
        raise DataError(
            f"Die Kostenmatrix wäre zu groß ({len(demand)} × {len(candidates)}). "
            "Bitte ein kleineres Gebiet, weniger Kandidaten oder das Modell mclp wählen."
        )
    cost, demand, weights, dropped = _drop_unassignable(
        np.asarray(measure.matrix(demand, candidates, None)), demand, weights
    )
    if dropped:
        notes.append(
            f"{dropped} Nachfragepunkt(e) ohne erreichbaren Kandidaten bleiben beim p-Median unberücksichtigt."
        )
    return cost, demand, weights


def _explain(
    request: AnalysisRequest,
    model: SitingModel,
    solved: Any,
    cost: Any,
    weights: NDArray[np.float64],
    demand: gpd.GeoDataFrame,
    candidates: gpd.GeoDataFrame,
    names: Mapping[str, str],
    with_places: bool = False,
) -> tuple[Any, SolutionExplanation, str, sp.csc_array]:
    """Explain the solution, drop sites without gain; returns the coverage matrix at the threshold too.

    A plan with places keeps every site: a site that reaches nobody new may
    still add the places the people in its reach lack.
    """
    spec = request.siting
    assert spec is not None
    fixed = np.flatnonzero(candidates["fixed"].to_numpy(dtype=bool))
    coverage = within_radius(cost, request.threshold_base)

    def explain(res: Any) -> SolutionExplanation:
        return explain_solution(
            res,
            coverage,
            weights,
            demand,
            candidates,
            fixed=fixed,
            cost=cost if model.dense_cost else None,
            top_k=spec.top_k,
            gemeinde_names=names,
            cost_unit=("min", 60.0) if request.uses_time else ("km", 1000.0),
        )

    if with_places:
        return solved, explain(solved), "", coverage
    result, explanation, shortfall = drop_useless(
        solved,
        explain(solved),
        explain,
        spec.model,
        spec.p,
        request.threshold_label,
        coverage,
        weights,
        fixed,
        keep_forced=spec.min_per_gemeinde > 0,
    )
    return result, explanation, shortfall, coverage


def _inputs(
    request: AnalysisRequest, demand: DemandResult, layers: Mapping[str, str | None], measure: Measure
) -> dict[str, Any]:
    return {
        "area": {"ags": request.area.code},
        "layers": dict(layers),
        "demand_level": demand.level_label,
        "demand_as_of": demand.as_of,
        "demand_source": demand.source,
        "target_group": demand.target_group.label,
        "cost": measure.citation() or "Luftlinie EPSG:25832, Meter",
        "threshold": request.threshold_label,
        "request": request.describe(),
        "attributions": list(ATTRIBUTIONS),
    }


def _drop_unassignable(
    cost: NDArray[np.float64], demand: gpd.GeoDataFrame, weights: NDArray[np.float64]
) -> tuple[NDArray[np.float64], gpd.GeoDataFrame, NDArray[np.float64], int]:
    """Rows with no finite cost cannot be assigned in a p-median; leave them out."""
    ok = np.isfinite(cost).any(axis=1)
    if ok.all():
        return cost, demand, weights, 0
    return cost[ok], demand[ok].reset_index(drop=True), weights[ok], int((~ok).sum())


def _mark_selection(candidates: gpd.GeoDataFrame, result: Any, explanation: SolutionExplanation) -> gpd.GeoDataFrame:
    n = len(candidates)
    selected = np.zeros(n, dtype=bool)
    selected[np.asarray(result.selected, dtype=int)] = True
    order = pd.array([pd.NA] * n, dtype="Int64")
    gain = np.full(n, np.nan)
    for s in explanation.sites:
        order[s.candidate_index] = s.rank
        gain[s.candidate_index] = s.gain
    return candidates.assign(selected=selected, order=order, marginal_gain=gain)


class _Solved:
    """A model whose solution is already known (the main solve, or a saturated curve)."""

    def __init__(self, result: Any) -> None:
        self._result = result

    def solve(self) -> Any:
        return self._result


def _sensitivity(
    request: AnalysisRequest,
    build: Callable[[int, float], Any],
    cost: Any,
    weights: NDArray[np.float64],
    extra: list[float],
    n_fixed: int,
    n_open: int,
    progress: Progress | None,
    known: Mapping[tuple[int, float], Any] | None = None,
) -> pd.DataFrame:
    """Coverage-vs-p curve (and extra radii), re-solving the model on the same cost matrix.

    By default ``p`` runs from 0 new sites (only with fixed sites: the "before"
    state) to ``p + 3``, capped at the number of open candidates. Solutions
    in ``known`` (``(p_new, radius) → result``, e.g. the main solve) are not
    solved again; for MCLP, once every reachable person is covered, larger
    ``p`` keep that solution (their optimum is the same). Each solve reports
    its progress (fraction of the solves done).
    """
    spec = request.siting
    assert spec is not None
    model, radius = siting_model(spec.model), request.threshold_base
    ps = spec.sensitivity_ps
    if ps is None:
        start = 0 if n_fixed else 1
        ps = tuple(range(start, min(spec.p + 3, n_open) + 1)) if model.needs_p else (0,)
    ps = tuple(p for p in ps if 0 <= p <= n_open)
    if not ps:
        return pd.DataFrame(
            columns=["radius", "p", "objective", "gap", "status", "seconds", "n_selected", "covered_share", "marginal"]
        )
    total = float(weights.sum())
    cache: dict[float, sp.csc_array] = {}

    def matrix(r: float) -> sp.csc_array:
        if r not in cache:
            cache[r] = within_radius(cost, r)
        return cache[r]

    def share(selected: NDArray[np.int_], r: float) -> float:
        return float(weights @ covered_by(matrix(r), selected) / total) if total > 0 else float("nan")

    radii = [radius, *[r for r in extra if r != radius]]
    done = dict(known or {})
    last: dict[float, Any] = {}
    n_solves = len(radii) * len(set(ps))
    step = [0]

    class _Recording:
        def __init__(self, p_new: int, r: float) -> None:
            self.p_new, self.r = p_new, r

        def solve(self) -> Any:
            step[0] += 1
            if progress is not None:
                progress(step[0] / n_solves, f"Sensitivität: p = {self.p_new}")
            res = build(self.p_new, self.r).solve()
            last[self.r] = res
            return res

    def factory(p_new: int, r: float) -> Any:
        if (p_new, r) in done:
            last[r] = done[(p_new, r)]
            return _Solved(done[(p_new, r)])
        if model.objective == "coverage" and r in last and total > 0:
            reachable = float(weights @ (np.asarray(matrix(r).sum(axis=1)).ravel() > 0)) / total
            if share(np.asarray(last[r].selected, dtype=int), r) >= reachable - 1e-12:
                return _Solved(last[r])
        return _Recording(p_new, r)

    unit = 60.0 if request.uses_time else 1000.0
    try:
        table = sensitivity(factory, ps, radii, coverage=share)
    except IntegrationsatlasError as exc:
        logger.warning("Sensitivität nicht berechnet: %s", exc)
        return pd.DataFrame()
    table["radius"] = table["radius"] / unit
    table = table.rename(columns={"p": "p_new"})
    if not model.needs_p:  # the model chooses the count itself: plot the new sites it needs
        table["p_new"] = (table["n_selected"] - n_fixed).clip(lower=0)
    if progress is not None:
        progress(1.0, "Sensitivität berechnet")
    return table
