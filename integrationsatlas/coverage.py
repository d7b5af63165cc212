"""Coverage of the demand by a facility layer: the composition of the pipeline's steps.

:func:`coverage_report` answers an :class:`~integrationsatlas.request.AnalysisRequest`
with the shared steps of :mod:`integrationsatlas.pipeline` (area → demand →
extent → costs → coverage → honesty checks) and returns a frozen
:class:`CoverageReport` that carries the request, its extent and the
resolution verdict. The app, the CLI and the report call it; nothing here
imports Streamlit.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely

from geo.errors import DataError
from geo.layers.loading import load_layer
from geo.layers.registry import REGISTRY
from geo.levels import AnalysisLevel, analysis_level
from geo.settings import Settings
from integrationsatlas.pipeline.area import StudyArea, study_area
from integrationsatlas.pipeline.costs import Extent, Measure, extent_of, measure_for, within
from integrationsatlas.pipeline.demand import (
    area_demand,
    area_population,
    best_demand,
    facility_as_of,
    layer_facilities,
    supply,
)
from integrationsatlas.pipeline.intervals import (
    CoverageIntervals,
    coverage_intervals,
    demand_uncertainty,
    extent_interval,
    interval_record,
)
from integrationsatlas.pipeline.places import PlacesFigures, place_counts, place_demand, places_coverage
from integrationsatlas.request import AnalysisRequest
from planning.accessibility import two_step_fca
from planning.coverage import coverage_curve, covered_share
from planning.demand import DemandResult
from planning.gaps import GapInputs, GapTable, gap_table
from planning.resolution import ResolutionVerdict, check_resolution, unit_resolution
from planning.uncertainty import DEFAULT_LEVEL, DEFAULT_SEED, Interval

__all__ = ["CoverageReport", "best_demand", "coverage_report", "facility_isochrones"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class CoverageReport:
    """Coverage of the demand by one facility layer, overall and per unit.

    Parameters
    ----------
    gaps
        Per-unit gap table with score and rank (and its inputs).
    overall
        :func:`planning.coverage.covered_share` for the whole (filtered)
        demand at the threshold, with population columns.
    curve
        Covered share against threshold (:func:`planning.coverage.coverage_curve`).
    inputs
        What every number depends on (also on ``gaps.inputs``).
    demand_level_label
        German description of the demand level, as the UI states it.
    n_demand, n_facilities
        Demand points and facilities used (facilities beyond the area's border
        count too: they serve it).
    n_facilities_in_area
        Of those, the facilities inside the area.
    resolution
        Whether the demand is fine enough for the threshold in the area
        (:func:`planning.resolution.check_resolution`); when it is not, the
        UI, CLI and report print its message instead of a bare share.
    cells
        The demand points with their cost (``cost``, km or minutes) and
        ``covered`` flag, EPSG:25832: the fine result for maps; with 2SFCA
        also ``opportunities``, the facilities within the threshold.
    request
        The question answered.
    area
        The study area.
    extent
        The part of the area the figures cover (the street network's
        extract), with its share of the area's residents.
    intervals
        Intervals of the covered share overall, per unit and along the curve,
        from the documented noise of the demand (``None`` without resampling).
    places
        Coverage with places, where the layer declares a capacity column and
        its facilities have counts (``None`` otherwise).
    """

    gaps: GapTable
    overall: pd.DataFrame
    curve: pd.DataFrame
    inputs: GapInputs
    demand_level_label: str
    n_demand: int
    n_facilities: int
    n_facilities_in_area: int
    resolution: ResolutionVerdict
    cells: gpd.GeoDataFrame
    request: AnalysisRequest | None = None
    area: StudyArea | None = None
    extent: Extent | None = None
    intervals: CoverageIntervals | None = None
    places: PlacesFigures | None = None

    @property
    def share_covered(self) -> float:
        """Covered share of the target group at the threshold, in [0, 1] (NaN without demand)."""
        return float(self.overall["share_covered"].iloc[0])

    @property
    def covered_weight(self) -> float:
        """Persons of the target group within the threshold."""
        row = self.overall.iloc[0]
        return float(row["weight_total"] - row["weight_beyond"])

    def as_dict(self) -> dict[str, Any]:
        """JSON-serialisable form (units as records, most underserved first by ``rank``)."""
        row = self.overall.iloc[0]
        table = self._unit_table().reset_index()
        curve = self.curve
        extent = None if self.extent is None else self.extent.as_dict()
        if self.intervals is not None:
            bounds = self.intervals.curve
            curve = curve.assign(
                share_covered_low=bounds["low"].to_numpy(), share_covered_high=bounds["high"].to_numpy()
            )
            if extent is not None and self.extent is not None:
                extent["share_interval"] = interval_record(
                    self.intervals.extent or _certain(self.extent.share), "der Einwohner"
                )
        return {
            "request": None if self.request is None else self.request.as_dict(),
            "request_key": None if self.request is None else self.request.key,
            "area": None if self.area is None else {"ags": self.area.ags, "name": self.area.name},
            "extent": extent,
            "inputs": self.inputs.as_dict(),
            "demand_level_label": self.demand_level_label,
            "n_demand": self.n_demand,
            "n_facilities": self.n_facilities,
            "n_facilities_in_area": self.n_facilities_in_area,
            "resolution": resolution_dict(self.resolution),
            "overall": {
                "share_covered": float(row["share_covered"]),
                "population": float(row["population_total"]),
                "population_beyond": float(row["population_beyond"]),
                "weight": float(row["weight_total"]),
                "weight_beyond": float(row["weight_beyond"]),
                "weight_covered": self.covered_weight,
                "share_covered_interval": None if self.intervals is None else interval_record(self.intervals.overall),
            },
            "uncertainty": None if self.intervals is None else self.intervals.as_dict(),
            "places": None if self.places is None else self.places.as_dict(),
            "score_weights": dict(self.gaps.score_weights),
            "units": [{str(k): v for k, v in rec.items()} for rec in table.to_dict(orient="records")],
            "curve": curve.to_dict(orient="records"),
        }

    def _unit_table(self) -> pd.DataFrame:
        """The gap table with the interval of each unit's share and its share with places, where known."""
        table = self.gaps.table.copy()
        keys = table.index.astype(str)
        if self.intervals is not None:
            bounds = self.intervals.units.reindex(keys)
            table["share_covered_low"] = bounds["low"].to_numpy()
            table["share_covered_high"] = bounds["high"].to_numpy()
        if self.places is not None and self.places.by_unit is not None:
            by_unit = self.places.by_unit.reindex(keys)
            for col in ("share_with_places", "share_with_places_low", "share_with_places_high"):
                if col in by_unit.columns:
                    table[col] = by_unit[col].to_numpy()
        if "too_coarse" in table.columns:  # no figure of its own for a unit its demand is too coarse for
            coarse = table["too_coarse"].to_numpy(dtype=bool)
            extra = [c for c in table.columns if c.startswith(("share_covered_", "share_with_places"))]
            table.loc[coarse, extra] = np.nan
        return table


def _certain(value: float) -> Interval:
    """A figure without uncertainty (e.g. the whole area's share of its own residents) as an interval."""
    return Interval(value, value, value, DEFAULT_LEVEL, 0)


def resolution_dict(verdict: ResolutionVerdict) -> dict[str, Any]:
    """A resolution verdict as JSON (``ok``, ``message``, ``fix``, ``units``, ``resolution``)."""
    return {
        "ok": verdict.ok,
        "message": verdict.message,
        "fix": verdict.fix,
        "units": verdict.units,
        "resolution": verdict.resolution,
        "label": verdict.label,
    }


def _units(level: AnalysisLevel, settings: Settings) -> pd.DataFrame:
    """All units of ``level`` (index: their key; columns ``name``, ``width_m`` = √area and, for an area set,
    ``gemeinde_ags``)."""
    if level.id == "land":
        return pd.DataFrame({"name": ["Nordrhein-Westfalen"], "width_m": [np.inf]}, index=pd.Index(["05"], name="ags"))
    polygons = level.units(settings)
    columns = ["name", *(["gemeinde_ags"] if "gemeinde_ags" in polygons and not level.administrative else [])]
    frame = pd.DataFrame({c: polygons[c].astype("string").to_numpy() for c in columns})
    frame["width_m"] = np.sqrt(polygons.geometry.area.to_numpy(dtype=np.float64))
    frame.index = pd.Index(polygons[level.key].astype(str), name=level.key)
    return frame


def coverage_report(settings: Settings, request: AnalysisRequest) -> CoverageReport:
    """Coverage of the demand by the request's facility layer, per Kreis, Gemeinde or Land.

    Parameters
    ----------
    settings
        Paths of the embedded data, the store and the network cache.
    request
        The question (layer, threshold and unit, mode, area, units, target
        group, demand source, OSM extract, timetable).

    Returns
    -------
    CoverageReport
        Gap table (cost in km or minutes), overall share, curve, inputs, the
        extent the figures cover and the resolution verdict.

    Raises
    ------
    IntegrationsatlasError
        Bad request, missing data (e.g. Gemeinden not loaded, empty layer) or
        invalid inputs; the message says what to do.

    Notes
    -----
    Straight-line distances are Euclidean in EPSG:25832; travel times are
    door to door (:mod:`planning.door_to_door`). On the travel-time path only
    demand and facilities inside the extent of the street network are used
    (the :class:`~integrationsatlas.pipeline.costs.Extent` says how much of the
    area that is), and the units are those with demand in the extent. The 2SFCA
    ratio uses the threshold as catchment and the layer's capacity column (or 1
    per facility); it is left out when the pairs in reach exceed
    :data:`~integrationsatlas.pipeline.costs.MAX_2SFCA_PAIRS`.
    """
    request.validate()
    area = study_area(settings, request.area)
    demand, points, demand_note = area_demand(settings, request, area)
    uncertainty = demand_uncertainty(points, request.resamples, request.interval_level, DEFAULT_SEED)
    facilities = layer_facilities(settings, request.layer)
    measure = measure_for(settings, request)
    extent, inside = extent_of(measure, points, area.name, area_population(settings, area, demand, points))
    rows = np.flatnonzero(inside)
    population_all = points["population"]
    points = points[inside]
    facilities = facilities[within(facilities, measure.hull)]
    _check_extent(points, facilities, measure)
    level = analysis_level(request.by, settings)
    units = _units(level, settings)
    unit_col = level.column
    units = units[area.keeps(level, units)]
    if extent.partial:
        units = units[units.index.isin(points[unit_col].dropna().astype(str).unique())]
    cost = pd.Series(measure.nearest(points, facilities), index=points.index, name=f"cost_{measure.unit}")
    notes = [n for n in (demand_note, measure.citation(), _extent_note(extent), _unreached(cost)) if n]
    capacity, supply_note = supply(facilities, request.layer)
    counts, column = place_counts(facilities, request.layer) if request.places else (None, "")
    matrix = _matrix(measure, points, facilities, request.threshold_base, notes)
    reach = _two_step(points, capacity, matrix, request.threshold_base)
    if reach is not None:
        notes.append(f"2SFCA: Einzugsbereich = Schwelle, {supply_note}")
    places = None
    if counts is not None and matrix is not None:
        group = request.target_group
        weights, label, note = place_demand(
            points, request.layer, group, demand.target_group.label, request.place_share
        )
        if weights is None:
            notes.append(note)
        else:
            places = places_coverage(
                matrix, weights, counts, request.threshold_base, column, label,
                uncertainty=uncertainty, rows=rows, notes=(note,), units=points[unit_col],
            )  # fmt: skip
    inputs = _inputs(settings, request, demand, facilities, notes)
    # the one per-unit rule of the indicator tables: no share for a unit its demand is too coarse for
    resolution = unit_resolution(
        points,
        points[unit_col],
        units["width_m"],
        request.threshold_m,
        level=demand.nesting(level.id, level.administrative),
    )
    units = units.drop(columns="width_m")
    report = _assemble(
        request, area, extent, demand, points, facilities, cost, reach, units, unit_col, inputs, resolution
    )
    intervals = None
    if uncertainty is not None:
        steps = report.curve["threshold"].to_numpy()
        times = np.asarray(cost.to_numpy(), dtype=np.float64)
        people = population_all.to_numpy(dtype=np.float64)
        residents = extent.partial and np.array_equal(people, uncertainty.weights)  # one draw serves both
        intervals = coverage_intervals(
            uncertainty, rows, times, request.threshold, points[unit_col], steps,
            residents_of_area=extent.population_of_area if residents else None,
        )  # fmt: skip
        if extent.partial and not residents:
            share = extent_interval(uncertainty, people, inside, extent.population_of_area)
            intervals = replace(intervals, extent=share)
    return replace(report, intervals=intervals, places=places)


def _check_extent(points: gpd.GeoDataFrame, facilities: gpd.GeoDataFrame, measure: Measure) -> None:
    if points.empty:
        raise DataError(f"Keine Nachfragepunkte im {measure.extent_name or 'Gebiet'}.")
    if facilities.empty:
        raise DataError(f"Keine Einrichtungen der Ebene im {measure.extent_name or 'Gebiet'}.")


def _extent_note(extent: Extent) -> str:
    if not extent.partial:
        return ""
    return f"Nur Nachfrage und Einrichtungen im {extent.caption}; Gebiete am Rand nur teilweise."


def _unreached(cost: pd.Series) -> str:
    n = int(np.isinf(cost.to_numpy()).sum())
    return f"{n} Nachfragepunkt(e) ohne erreichbare Einrichtung (abseits des Netzes)." if n else ""


def _matrix(
    measure: Measure, points: gpd.GeoDataFrame, facilities: gpd.GeoDataFrame, cutoff: float, notes: list[str]
) -> Any:
    """Demand × facility costs within the threshold (2SFCA and places), or ``None`` when too large."""
    if len(points) == 0 or len(facilities) == 0:
        return None
    n_pairs = measure.too_many_pairs(points, facilities, cutoff)
    if n_pairs:
        notes.append(f"2SFCA und Plätze ausgelassen: {n_pairs:,} Paare im Einzugsbereich.")
        return None
    return measure.matrix(points, facilities, cutoff)


def _two_step(
    points: gpd.GeoDataFrame, capacity: np.ndarray, matrix: Any, cutoff: float
) -> tuple[np.ndarray, np.ndarray] | None:
    """2SFCA ratio and facilities within the threshold (cumulative opportunities) per demand point, or ``None``."""
    if matrix is None:
        return None
    ratio = two_step_fca(points["weight"].to_numpy(dtype=np.float64), capacity, matrix, max_cost=cutoff)
    within = sp.csr_array(matrix)
    within.data = within.data <= cutoff
    opportunities = np.asarray(within.sum(axis=1)).ravel().astype(np.int64)
    # no supply in reach counts as 0 in demand-weighted means
    return np.where(np.isnan(ratio), 0.0, ratio), opportunities


def _inputs(
    settings: Settings,
    request: AnalysisRequest,
    demand: DemandResult,
    facilities: gpd.GeoDataFrame,
    notes: list[str],
) -> GapInputs:
    return GapInputs(
        layer=request.layer,
        layer_title=REGISTRY.get(request.layer).title,
        threshold=request.threshold,
        unit=request.unit,
        mode=request.mode or "luftlinie",
        demand_level=demand.level,
        demand_level_label=demand.level_label,
        target_group=demand.target_group.label,
        as_of=(("Bevölkerung", demand.as_of), ("Einrichtungen", facility_as_of(facilities, settings, request.layer))),
        area=request.area.code if request.area.code != "05" else None,
        notes=tuple(notes),
        demand_source=demand.source,
        demand_licence=demand.licence,
    )


def _assemble(
    request: AnalysisRequest,
    area: StudyArea,
    extent: Extent,
    demand: DemandResult,
    points: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    cost: pd.Series,
    reach: tuple[np.ndarray, np.ndarray] | None,
    units: pd.DataFrame,
    unit_col: str,
    inputs: GapInputs,
    resolution: pd.DataFrame,
) -> CoverageReport:
    threshold = request.threshold
    weight, values = points["weight"].to_numpy(), cost.to_numpy()
    gaps = gap_table(
        points,
        cost,
        threshold,
        unit_col=unit_col,
        inputs=inputs,
        access_ratio=None if reach is None else pd.Series(reach[0], index=points.index),
        units=units,
        resolution=resolution,
    )
    overall = covered_share(values, weight, [threshold], population=points["population"].to_numpy())
    step = 2.5 if request.uses_time else 1.0
    steps = np.unique(np.r_[np.arange(0.0, max(30.0, threshold) + 1e-9, step), threshold])
    curve = coverage_curve(values, weight, steps)
    columns = ("weight", "population", "kreis_ags", "gemeinde_ags", "resolution")
    cells = gpd.GeoDataFrame(
        {c: points[c] for c in columns if c in points}, geometry=points.geometry, crs=points.crs
    ).assign(cost=values, covered=values <= threshold)
    if reach is not None:
        cells["opportunities"] = reach[1]  # facilities within the threshold (cumulative opportunities)
    return CoverageReport(
        gaps=gaps,
        overall=overall,
        curve=curve,
        inputs=inputs,
        demand_level_label=demand.level_label,
        n_demand=len(points),
        n_facilities=len(facilities),
        n_facilities_in_area=area.count_inside(facilities.geometry),
        resolution=check_resolution(points, None, request.threshold_m),
        cells=cells,
        request=request,
        area=area,
        extent=extent,
    )


def facility_isochrones(
    settings: Settings, request: AnalysisRequest, facility_ids: tuple[str, ...]
) -> gpd.GeoDataFrame:
    """Areas from which each chosen facility of the request's layer is reached within its threshold.

    Parameters
    ----------
    settings
        Application settings (network cache, snap limit).
    request
        A travel-time request (layer, minutes, mode, OSM extract, timetable).
    facility_ids
        Ids of the facilities to draw.

    Returns
    -------
    geopandas.GeoDataFrame
        One polygon per facility with ``facility_id`` and ``minutes``, EPSG:25832;
        facilities nothing reaches are left out.

    Notes
    -----
    The union of the 100 m cells (over the network's extent) whose
    door-to-door time to the facility is at most the threshold – the same
    measure (:class:`~integrationsatlas.pipeline.costs.Measure`) as the
    coverage figures, for every mode.
    """
    if not request.uses_time:
        raise DataError("Isochronen gibt es nur für Fahrzeiten (Schwelle in Minuten).")
    facilities = load_layer(request.layer, settings)
    chosen = facilities[facilities["id"].astype(str).isin(facility_ids)].set_index("id")
    measure = measure_for(settings, request)
    hull = measure.hull
    assert hull is not None
    x0, y0, x1, y1 = hull.bounds
    xs = np.arange(x0 + ISOCHRONE_CELL_M / 2, x1, ISOCHRONE_CELL_M)
    ys = np.arange(y0 + ISOCHRONE_CELL_M / 2, y1, ISOCHRONE_CELL_M)
    gx, gy = np.meshgrid(xs, ys)
    inside = shapely.contains_xy(hull, gx.ravel(), gy.ravel())
    cells = gpd.GeoDataFrame(geometry=gpd.points_from_xy(gx.ravel()[inside], gy.ravel()[inside]), crs=chosen.crs)
    csc = sp.csc_array(measure.matrix(cells, chosen, request.threshold_base))
    half = ISOCHRONE_CELL_M / 2
    rows = []
    for j, fid in enumerate(chosen.index):
        reached = csc.indices[csc.indptr[j] : csc.indptr[j + 1]]
        if len(reached) == 0:
            continue
        pts = cells.geometry.iloc[reached]
        squares = shapely.box(pts.x - half, pts.y - half, pts.x + half, pts.y + half)
        rows.append({"facility_id": fid, "minutes": request.threshold, "geometry": shapely.union_all(squares)})
    return gpd.GeoDataFrame(rows, columns=["facility_id", "minutes", "geometry"], geometry="geometry", crs=chosen.crs)


#: Cell width (metres) of isochrones.
ISOCHRONE_CELL_M = 100.0
