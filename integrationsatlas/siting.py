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
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
from numpy.typing import NDArray

from geo.errors import DataError, IntegrationsatlasError
from geo.layers.sources import ATTRIBUTIONS
from geo.settings import PROJECTED_CRS, Settings
from geo.store.scenarios import Scenario
from integrationsatlas.coverage import resolution_dict
from integrationsatlas.pipeline.area import StudyArea, study_area
from integrationsatlas.pipeline.costs import Extent, Measure, extent_of, measure_for
from integrationsatlas.pipeline.demand import area_demand, area_population
from integrationsatlas.request import AnalysisRequest
from integrationsatlas.siting_candidates import candidates_for, constraints, gemeinde_names
from integrationsatlas.siting_review import covered_by, drop_useless, plan_equity
from planning.demand import DemandResult
from planning.explain import SolutionExplanation, explain_solution, sensitivity, within_radius
from planning.resolution import ResolutionVerdict, check_resolution
from planning.siting.models import SITING_MODELS, SitingModel, siting_model

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
            "extent": None if self.extent is None else self.extent.as_dict(),
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
    measure = measure_for(settings, request)
    extent, inside = extent_of(measure, points, area.name, area_population(settings, area, demand_result, points))
    points = points[inside & (points["weight"].to_numpy(dtype=float) > 0)].reset_index(drop=True)
    if points.empty:
        raise DataError(f"Im Gebiet {area.label} gibt es keine Nachfrage (oder keine im {measure.extent_name}).")
    notes = [n for n in (demand_note, _extent_note(extent), measure.citation()) if n]
    _report(progress, 0.2, "Kandidaten zusammenstellen")
    candidates, layers = candidates_for(settings, request, area, points, measure, notes)
    fixed = np.flatnonzero(candidates["fixed"].to_numpy(dtype=bool))
    n_open = len(candidates) - len(fixed)
    p_solve = min(spec.p, n_open) if model.needs_p else spec.p
    if p_solve < spec.p:
        notes.append(
            f"Es gibt nur {n_open} Kandidaten für neue Standorte; geplant wird mit höchstens {n_open} "
            f"statt {spec.p}. Mehr Kandidaten: Clusterzentren, ein feineres Raster oder eigene Punkte."
        )
    _report(progress, 0.3, f"Kostenmatrix berechnen ({len(points)} × {len(candidates)})")
    extra = [r * (60.0 if request.uses_time else 1000.0) for r in spec.sensitivity_radii]
    cost, points, weights = _cost_matrix(
        measure, model, points, candidates, max([request.threshold_base, *extra]), notes
    )
    kwargs = constraints(settings, candidates, spec)

    def build(p_new: int, r: float) -> Any:
        return model.build(cost, weights, r, p_new + len(fixed), fixed, spec.time_limit, kwargs)

    _report(progress, 0.4, f"{model.label} lösen")
    solved = build(p_solve, request.threshold_base).solve()
    _report(progress, 0.6, "Auswahl erklären")
    names = gemeinde_names(settings)
    result, explanation, shortfall, coverage = _explain(
        request, model, solved, cost, weights, points, candidates, names
    )
    notes = [shortfall, *notes] if shortfall else notes
    candidates = _mark_selection(candidates, result, explanation)
    after = np.union1d(np.asarray(result.selected, dtype=int), fixed).astype(int)
    points = points.assign(covered_before=covered_by(coverage, fixed), covered_after=covered_by(coverage, after))
    _report(progress, 0.65, "Gerechtigkeit je Gemeinde berechnen")
    unit = 60.0 if request.uses_time else 1000.0
    equity = plan_equity(
        points, candidates, weights, fixed, after, measure.nearest, request.threshold_base, unit, names
    )
    _report(progress, 0.7, "Sensitivität über p berechnen")
    curve = _sensitivity(
        request, build, cost, weights, extra, len(fixed), n_open, progress, {(p_solve, request.threshold_base): solved}
    )
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
    )


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
) -> tuple[Any, SolutionExplanation, str, sp.csc_array]:
    """Explain the solution, drop sites without gain; returns the coverage matrix at the threshold too."""
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
    progress between 70 % and 95 %.
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
                progress(0.7 + 0.25 * step[0] / n_solves, f"Sensitivität: p = {self.p_new}")
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
        progress(0.95, "Sensitivität berechnet")
    return table
