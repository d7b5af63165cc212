"""Site planning for new Ankommens-Treffpunkte: the orchestration the app and the CLI call.

:func:`plan_sites` loads the planning area, the demand and the existing
Treffpunkte, builds the candidate sites, computes the cost matrix (straight
line in EPSG:25832, or travel time on an OSM street network), solves the
chosen location model exactly (:mod:`planning.siting`), explains the
solution (:mod:`planning.explain`) and re-solves across ``p`` for the
coverage-vs-p curve. The result, a frozen :class:`SitingPlan`, carries its
inputs for citation and turns into a saveable
:class:`~geo.store.scenarios.Scenario`.

Nothing here imports Streamlit.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, cast

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely
from numpy.typing import NDArray
from scipy.spatial import cKDTree
from shapely.geometry.base import BaseGeometry

from geo.errors import DataError, IntegrationsatlasError, NotLoadedError
from geo.layers.loading import load_layer
from geo.layers.registry import REGISTRY
from geo.layers.sources import ATTRIBUTIONS
from geo.modes import MODES
from geo.privacy import refuse_as_sites
from geo.settings import PROJECTED_CRS, Settings
from geo.store.scenarios import Scenario
from geo.units import level_of, load_boundaries
from integrationsatlas import siting_sources
from integrationsatlas.siting_review import covered_by, drop_useless, plan_equity
from integrationsatlas.siting_sources import layer_as_of
from planning.candidates import build_candidates
from planning.explain import SolutionExplanation, explain_solution, sensitivity, within_radius

logger = logging.getLogger(__name__)

Model = Literal["mclp", "lscp", "pmedian"]
MODELS: tuple[Model, ...] = ("mclp", "lscp", "pmedian")
MODEL_LABELS: dict[str, str] = {
    "mclp": "Maximale Abdeckung (MCLP)",
    "lscp": "Minimale Standortzahl für volle Abdeckung (LSCP)",
    "pmedian": "Minimale mittlere Entfernung (p-Median)",
}
#: Candidate layers used by default (public places that could host a Treffpunkt).
DEFAULT_PLACE_LAYERS: tuple[str, ...] = (
    "ki",
    "integrationsagentur",
    "gemeinschaftszentrum",
    "bahnhof",
    "ogs",
    "haltestelle",
)
#: Dense cost matrices above this many entries are refused for p-median.
MAX_DENSE_ENTRIES = 25_000_000
#: p-median travel times are searched up to this many seconds.
PMEDIAN_TIME_CUTOFF_S = 4 * 3600.0
_AGS = re.compile(r"^05\d{3}(\d{3})?$")

Progress = Callable[[float, str], None]


@dataclass(frozen=True)
class SitingParams:
    """What to plan: area, model, cost and candidate options.

    Parameters
    ----------
    area
        AGS of a Kreis (5 digits) or Gemeinde (8 digits), e.g. ``"05334"``.
    model
        ``mclp`` (most demand within reach of ``p`` new sites), ``lscp``
        (fewest sites that reach all reachable demand) or ``pmedian`` (least
        demand-weighted distance or time with ``p`` new sites).
    p
        Number of **new** sites; existing (fixed) sites come on top.
    radius_km
        Straight-line service radius in km (cost = distance in EPSG:25832).
    minutes, mode, osm_file
        Service time in minutes on the street network of an OSM extract
        (a mode of :data:`geo.modes.MODES`); used instead of ``radius_km``.
    gtfs_file, transit_day, transit_window
        For ``mode="oepnv"``: the GTFS feed, the service day (ISO date,
        default next Tuesday) and the departure window in seconds after
        midnight; the cost is the median over every departure minute.
    fixed_layer
        Layer of existing sites that stay open (those with status other than
        ``geplant``); ``None``: no fixed sites.
    budget, cost_column, default_site_cost
        Budget in EUR and the candidate column holding a site's cost;
        candidates without a cost get ``default_site_cost`` or are left out.
    place_layers, n_clusters, grid_spacing_m, user_points
        Candidate sources: layers of public places (stops are thinned),
        number of demand-weighted cluster centres, grid spacing in metres
        (``None``: automatic, see
        :func:`integrationsatlas.siting_sources.auto_grid_spacing`; ``0``: no
        grid) and own points as ``(x, y, name)`` in EPSG:25832. New
        candidates are kept only on settled land (near residential
        buildings of the OSM extract, else near places and populated demand).
    min_distance_to_existing_m, merge_tolerance_m
        Candidate filters (metres).
    target_group, target_column
        Demand weights: ``total``, ``foreign`` or ``column`` (with the column).
    min_per_gemeinde
        At least this many sites (fixed or new) in every Gemeinde that has
        candidates.
    sensitivity_ps
        New-site counts for the coverage-vs-p curve (``None``: 0 … p+3;
        empty: no curve).
    sensitivity_radii
        Further radii (km) or times (min) for the sensitivity table.
    time_limit
        Solver time limit per solve, in seconds.
    top_k
        Runner-ups reported per selected site.
    random_state
        Seed of the cluster centres.
    """

    area: str
    model: Model = "mclp"
    p: int = 5
    radius_km: float | None = None
    minutes: float | None = None
    mode: str = "walk"
    osm_file: Path | None = None
    gtfs_file: Path | None = None
    transit_day: str | None = None
    transit_window: tuple[int, int] = (7 * 3600, 9 * 3600)
    fixed_layer: str | None = "ankommenstreffpunkt"
    budget: float | None = None
    cost_column: str | None = None
    default_site_cost: float | None = None
    place_layers: tuple[str, ...] = DEFAULT_PLACE_LAYERS
    n_clusters: int = 20
    grid_spacing_m: float | None = None
    user_points: tuple[tuple[float, float, str], ...] = ()
    min_distance_to_existing_m: float = 0.0
    merge_tolerance_m: float = 50.0
    target_group: str = "total"
    target_column: str | None = None
    min_per_gemeinde: int = 0
    sensitivity_ps: tuple[int, ...] | None = None
    sensitivity_radii: tuple[float, ...] = ()
    time_limit: float = 60.0
    top_k: int = 3
    random_state: int = 0

    @property
    def uses_time(self) -> bool:
        """Whether the cost is network travel time (else straight-line distance)."""
        return self.minutes is not None

    @property
    def threshold_label(self) -> str:
        """The service threshold in German, e.g. ``"15 Minuten zu Fuß"``."""
        if self.minutes is not None:
            how = MODES[self.mode].phrase if self.mode in MODES else self.mode
            return f"{self.minutes:g} Minuten {how}"
        return f"{self.radius_km:g} km Luftlinie"

    def validate(self) -> None:
        """Check the parameters; all problems are reported together.

        Raises
        ------
        DataError
            With every problem found, in German.
        """
        problems: list[str] = []
        if not _AGS.match(self.area or ""):
            problems.append(
                f"Gebiet »{self.area}« ist keine AGS eines Kreises (5 Ziffern, z. B. 05334) "
                "oder einer Gemeinde (8 Ziffern) in NRW"
            )
        if self.model not in MODELS:
            problems.append(f"Modell »{self.model}« unbekannt: erlaubt sind mclp, lscp, pmedian")
        if self.model != "lscp" and self.p < 0:
            problems.append("p (Anzahl neuer Standorte) muss ≥ 0 sein")
        if (self.radius_km is None) == (self.minutes is None):
            problems.append("bitte genau eines angeben: Radius in km (--radius-km) oder Minuten (--minutes)")
        if self.radius_km is not None and not self.radius_km > 0:
            problems.append("der Radius muss größer als 0 km sein")
        if self.minutes is not None:
            if not self.minutes > 0:
                problems.append("die Minuten müssen größer als 0 sein")
            if self.mode not in MODES:
                problems.append(f"Modus »{self.mode}« unbekannt: erlaubt sind {', '.join(MODES)}")
            if self.mode == "oepnv" and (self.gtfs_file is None or not Path(self.gtfs_file).is_file()):
                problems.append("für Bus und Bahn bitte einen vorhandenen GTFS-Fahrplan angeben (--gtfs FAHRPLAN.zip)")
            if self.osm_file is None:
                problems.append("für Fahrzeiten bitte eine OSM-Datei angeben (--osm DATEI.osm.bz2)")
            elif not Path(self.osm_file).is_file():
                problems.append(f"OSM-Datei {self.osm_file} nicht gefunden")
        if self.budget is not None and self.cost_column is None and self.default_site_cost is None:
            problems.append(
                "für ein Budget bitte die Kostenspalte (--cost-column) oder einheitliche Kosten "
                "je Standort (--site-cost) angeben"
            )
        if self.budget is not None and self.model == "lscp":
            problems.append("ein Budget ist beim Modell lscp nicht möglich (es minimiert die Standortzahl)")
        if self.min_per_gemeinde < 0:
            problems.append("die Mindestzahl je Gemeinde muss ≥ 0 sein")
        if problems:
            raise DataError("Ungültige Planungsparameter:\n- " + "\n- ".join(problems))


@dataclass(frozen=True, eq=False)
class SitingPlan:
    """A computed siting plan with everything needed to show, explain and cite it.

    Parameters
    ----------
    params
        The request.
    area_ags, area_name, area
        The planning area and its polygon (EPSG:25832).
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
        Coverage-vs-p (and radius) table; see :func:`planning.explain.sensitivity`.
    inputs
        Facts for citation: layers and as-of dates, demand level, target
        group, cost kind, attributions.
    notes
        German remarks (clipping to the network, candidates left out, fewer
        sites than asked …).
    equity
        Per Gemeinde and overall: share of the demand beyond the threshold
        and 90th percentile of the distance (km) or time (min) to the
        nearest site, before and after (see :func:`planning.equity.equity_table`).
    shortfall
        German message when fewer new sites are proposed than asked (sites
        without any gain left out), with what would help; else empty.

    Notes
    -----
    All geometries are in EPSG:25832 (metres).
    """

    params: SitingParams
    area_ags: str
    area_name: str
    area: BaseGeometry
    demand: gpd.GeoDataFrame
    candidates: gpd.GeoDataFrame
    result: Any
    explanation: SolutionExplanation
    sensitivity: pd.DataFrame
    inputs: Mapping[str, Any]
    notes: tuple[str, ...] = field(default=())
    equity: pd.DataFrame = field(default_factory=pd.DataFrame)
    shortfall: str = ""

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
        """Scalars for reports and JSON: objective, gap, status, shares …"""
        r = self.result
        exp = self.explanation
        return {
            "model": self.params.model,
            "model_label": MODEL_LABELS[self.params.model],
            "status": str(r.status),
            "objective": float(r.objective),
            "bound": as_float(getattr(r, "bound", None)),
            "gap": as_float(getattr(r, "gap", None)),
            "seconds": as_float(getattr(r, "seconds", None)),
            "method": str(getattr(r, "method", "")),
            "n_candidates": len(self.candidates),
            "n_fixed": len(exp.fixed),
            "n_new": len(exp.sites),
            "n_requested": int(self.params.p),
            "total_weight": exp.total_weight,
            "covered_before": exp.covered_before,
            "covered_after": exp.covered_after,
            "share_before": exp.share_before,
            "share_after": exp.share_after,
            "cost_before": exp.cost_before,
            "cost_after": exp.cost_after,
            "threshold": self.params.threshold_label,
            "shortfall": self.shortfall,
        }

    def to_scenario(self, name: str) -> Scenario:
        """This plan as a :class:`~geo.store.scenarios.Scenario` named ``name``."""
        sites = self.sites
        params = {k: (str(v) if isinstance(v, Path) else v) for k, v in self.params.__dict__.items()}
        params["user_points"] = [list(p) for p in self.params.user_points]
        return Scenario(
            name=name,
            area_ags=self.area_ags,
            area_name=self.area_name,
            model=self.params.model,
            parameters=params,
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
            target_group=str(self.inputs.get("target_group", self.params.target_group)),
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


def planning_area(settings: Settings, ags: str) -> tuple[BaseGeometry, str]:
    """Polygon (EPSG:25832) and name of a Kreis (5-digit) or Gemeinde (8-digit AGS).

    Raises
    ------
    DataError
        If there is no such unit.
    NotLoadedError
        For a Gemeinde when no Gemeinde boundaries are loaded.
    """
    level = level_of(ags)
    units = load_boundaries(level, settings)
    row = units[units["ags"].astype(str) == ags]
    if row.empty:
        what = "Kreis" if level == "kreis" else "Gemeinde"
        raise DataError(f"{what} mit AGS {ags} nicht gefunden. Die Kreise listet »integrationsatlas layers«.")
    geom = shapely.make_valid(row.geometry.iloc[0])
    return geom, str(row["name"].iloc[0])


def _in_area(frame: gpd.GeoDataFrame, area: BaseGeometry) -> gpd.GeoDataFrame:
    if frame.empty:
        return frame
    xy = shapely.get_coordinates(frame.geometry.centroid.to_numpy())
    return frame[shapely.intersects_xy(area, xy[:, 0], xy[:, 1])]


def demand_in_area(points: gpd.GeoDataFrame, ags: str, area: BaseGeometry) -> gpd.GeoDataFrame:
    """Demand of the area: by AGS where known, else by location."""
    column = f"{level_of(ags)}_ags"
    codes = points[column].astype("string") if column in points.columns else None
    if codes is not None and codes.notna().all():
        return points[(codes == ags).to_numpy()]
    return _in_area(points, area)


def _existing_sites(
    settings: Settings, layer_id: str | None, area: BaseGeometry
) -> tuple[gpd.GeoDataFrame | None, str | None]:
    """Existing sites of ``layer_id`` in the area (status not ``geplant``) and their as-of date."""
    if layer_id is None:
        return None, None
    refuse_as_sites(REGISTRY.get(layer_id))  # a site would publish a sensitive layer's exact position
    frame = load_layer(layer_id, settings)
    if "status" in frame.columns:
        frame = frame[frame["status"].astype("string").fillna("bestehend") != "geplant"]
    frame = _in_area(frame, area)
    return frame, (layer_as_of(layer_id, frame) if len(frame) else None)


def _xy(frame: gpd.GeoDataFrame) -> NDArray[np.float64]:
    return shapely.get_coordinates(frame.geometry.to_numpy())


def distance_cost(
    demand_xy: NDArray[np.float64], cand_xy: NDArray[np.float64], max_distance_m: float | None
) -> sp.csr_array | NDArray[np.float64]:
    """Straight-line cost matrix in metres, ``n_demand × n_candidates``.

    With ``max_distance_m`` a sparse matrix holding only pairs within that
    distance (explicit zeros kept); without it a dense matrix.

    Notes
    -----
    Coordinates in EPSG:25832; distances in metres.

    Examples
    --------
    >>> import numpy as np
    >>> distance_cost(np.array([[0.0, 0.0]]), np.array([[3.0, 4.0], [0.0, 0.0]]), None)
    array([[5., 0.]])
    >>> distance_cost(np.array([[0.0, 0.0]]), np.array([[3.0, 4.0], [0.0, 0.0]]), 4.0).nnz
    1
    """
    if max_distance_m is None:
        if demand_xy.shape[0] * cand_xy.shape[0] > MAX_DENSE_ENTRIES:
            raise DataError(
                f"Die Entfernungsmatrix wäre zu groß ({demand_xy.shape[0]} × {cand_xy.shape[0]}). "
                "Bitte ein kleineres Gebiet, weniger Kandidaten oder das Modell mclp wählen."
            )
        diff = demand_xy[:, None, :] - cand_xy[None, :, :]
        return np.hypot(diff[..., 0], diff[..., 1])
    pairs = cKDTree(demand_xy).sparse_distance_matrix(cKDTree(cand_xy), max_distance_m, output_type="ndarray")
    # csr_array keeps explicit zeros: a demand point on top of a candidate stays "within reach"
    return sp.csr_array((pairs["v"], (pairs["i"], pairs["j"])), shape=(demand_xy.shape[0], cand_xy.shape[0]))


def _network_cost(
    settings: Settings,
    params: SitingParams,
    demand: gpd.GeoDataFrame,
    candidates: gpd.GeoDataFrame,
    net: Any,
    cutoff_s: float,
    dense: bool,
) -> sp.csr_array | NDArray[np.float64]:
    """Travel-time cost in seconds; unreachable demand/candidates get no entries (inf when dense)."""
    from planning import network

    if params.mode == "oepnv":
        part = _transit_cost(settings, params, demand, candidates, net, cutoff_s)
        if not dense:
            return part
        full = np.full(part.shape, np.inf)
        coo = sp.coo_array(part)
        full[coo.row, coo.col] = coo.data
        return full
    d_snap = network.snap(net, demand, settings.snap_max_m)
    c_snap = network.snap(net, candidates, settings.snap_max_m)
    rows = np.flatnonzero(d_snap.reachable)
    cols = np.flatnonzero(c_snap.reachable)
    shape = (len(demand), len(candidates))
    if len(rows) == 0 or len(cols) == 0:
        part = sp.csr_array(shape)
    else:
        sub = sp.coo_array(network.travel_time_matrix(net, d_snap.node[rows], c_snap.node[cols], cutoff_s))
        part = sp.csr_array((sub.data, (rows[sub.row], cols[sub.col])), shape=shape)
    if not dense:
        return part
    full = np.full(shape, np.inf)
    coo = sp.coo_array(part)
    full[coo.row, coo.col] = coo.data
    return full


def _transit_cost(
    settings: Settings,
    params: SitingParams,
    demand: gpd.GeoDataFrame,
    candidates: gpd.GeoDataFrame,
    net: Any,
    cutoff_s: float,
) -> sp.csr_array:
    """Walk + public-transport cost (median over the departure minutes), seconds, within ``cutoff_s``."""
    from datetime import date

    from geo.modes import next_tuesday
    from geo.sources.gtfs import read_gtfs
    from planning.transit import TransitSettings, transit_time_matrix

    day = date.fromisoformat(params.transit_day) if params.transit_day else next_tuesday()
    transit = TransitSettings(
        day=day, start_s=params.transit_window[0], end_s=params.transit_window[1], max_snap_m=settings.snap_max_m
    )
    hull = shapely.MultiPoint(np.r_[_xy(demand), _xy(candidates)]).convex_hull
    timetable = read_gtfs(
        Path(cast(Path, params.gtfs_file)),
        day=day,
        window=params.transit_window,
        area=shapely.buffer(hull, transit.max_walk_s * transit.walk_speed_ms),
    )
    matrix = transit_time_matrix(timetable, demand, candidates, transit, min(cutoff_s, 3 * 3600.0), network=net)
    return sp.csr_array(matrix.matrix)


def plan_sites(settings: Settings, params: SitingParams, progress: Progress | None = None) -> SitingPlan:
    """Plan new sites for an area: candidates, exact model, explanation, sensitivity.

    Parameters
    ----------
    settings
        Data paths and thresholds (``snap_max_m`` for the network).
    params
        The request (see :class:`SitingParams`).
    progress
        Called as ``progress(fraction, message)`` with ``fraction`` in [0, 1].

    Returns
    -------
    SitingPlan

    Raises
    ------
    DataError
        For invalid parameters or an area without demand or candidates.
    InfeasibleError
        When the constraints cannot be met (e.g. a budget below the fixed
        sites' cost); the message names the constraint.

    Notes
    -----
    Distances are computed in EPSG:25832 (metres), travel times in seconds
    on the street network; the radius/time in ``params`` is in km/minutes.
    """
    from planning import siting

    params.validate()
    _report(progress, 0.0, "Planungsgebiet laden")
    area, area_name = planning_area(settings, params.area)
    notes: list[str] = []

    _report(progress, 0.05, "Nachfrage laden")
    from integrationsatlas.coverage import _demand_for

    demand_result, demand_note = _demand_for(settings, params.target_group, params.target_column, params.osm_file)
    if demand_note:
        notes.append(demand_note)
    demand = demand_in_area(demand_result.points, params.area, area)
    demand = demand[demand["weight"].to_numpy(dtype=float) > 0]

    net = None
    cand_area = area
    if params.uses_time:
        _report(progress, 0.1, f"Straßennetz aus {Path(params.osm_file).name} aufbauen")  # type: ignore[arg-type]
        from geo.sources.streets import load_network

        net = load_network(params.mode, settings, osm_file=params.osm_file, area=area)
        hull = shapely.MultiPoint(net.xy).convex_hull
        inside = _in_area(demand, hull)
        if len(inside) < len(demand):
            notes.append(
                f"Nur Nachfrage im Ausschnitt des Straßennetzes {Path(params.osm_file).name}: "  # type: ignore[arg-type]
                f"{len(inside)} von {len(demand)} Nachfragepunkten."
            )
        demand = inside
        cand_area = shapely.intersection(area, hull)
    if demand.empty:
        raise DataError(
            f"Im Gebiet {area_name} ({params.area}) gibt es keine Nachfrage "
            "(oder keine im Ausschnitt des Straßennetzes)."
        )
    demand = demand.reset_index(drop=True)

    _report(progress, 0.2, "Kandidaten zusammenstellen")
    existing, existing_as_of = _existing_sites(settings, params.fixed_layer, area)
    places, dates = siting_sources.public_places(settings, params.place_layers, cand_area)
    user = None
    if params.user_points:
        user = gpd.GeoDataFrame(
            {"name": [p[2] for p in params.user_points], "id": [str(i + 1) for i in range(len(params.user_points))]},
            geometry=gpd.points_from_xy([p[0] for p in params.user_points], [p[1] for p in params.user_points]),
            crs=PROJECTED_CRS,
        )
    reach_fn: Callable[[gpd.GeoSeries], NDArray[np.bool_]] | None = None
    if net is not None:
        from planning import network

        def on_network(points: gpd.GeoSeries) -> NDArray[np.bool_]:
            frame = gpd.GeoDataFrame(geometry=points, crs=PROJECTED_CRS)
            return network.snap(net, frame, settings.snap_max_m).reachable

        reach_fn = on_network

    radius = params.minutes * 60.0 if params.uses_time else params.radius_km * 1000.0  # type: ignore[operator]
    grid_m = params.grid_spacing_m
    if grid_m is None:
        speed = MODES[params.mode].speed_kmh if params.uses_time and params.mode in MODES else None
        reach_m = radius * (speed or 30.0) / 3.6 if params.uses_time else radius
        grid_m = siting_sources.auto_grid_spacing(cand_area, reach_m)
    orte = siting_sources.place_names(settings, area)
    settled, settled_max_m, settled_note = siting_sources.settled_points(settings, params.osm_file, demand, orte)
    if settled_note:
        notes.append(settled_note)
    streets = siting_sources.street_points(settings, params.osm_file) if params.osm_file is not None else None
    gemeinde_names = _gemeinde_names(settings)
    candidates = build_candidates(
        cand_area,
        demand,
        places=places,
        n_clusters=params.n_clusters,
        grid_spacing_m=grid_m or None,
        user_points=user,
        existing=existing,
        min_distance_to_existing_m=params.min_distance_to_existing_m,
        reachable=reach_fn,
        merge_tolerance_m=params.merge_tolerance_m,
        cost_column=params.cost_column,
        random_state=params.random_state,
        settled=settled,
        settled_max_m=settled_max_m,
        place_names=orte,
        gemeinde_names=gemeinde_names,
        street_names=streets,
    )
    candidates, cost_notes = _apply_site_costs(candidates, params)
    notes += cost_notes
    if (~candidates["fixed"]).sum() == 0:
        raise DataError(
            f"Im Gebiet {area_name} gibt es keine Kandidaten für neue Standorte. Bitte "
            "Clusterzentren (n_clusters), ein Raster oder eigene Punkte hinzunehmen."
        )
    fixed = np.flatnonzero(candidates["fixed"].to_numpy(dtype=bool))
    n_open = len(candidates) - len(fixed)
    p_solve = params.p
    if params.model != "lscp" and params.p > n_open:
        notes.append(
            f"Es gibt nur {n_open} Kandidaten für neue Standorte; geplant wird mit höchstens {n_open} "
            f"statt {params.p}. Mehr Kandidaten: Clusterzentren, ein feineres Raster oder eigene Punkte."
        )
        p_solve = n_open

    _report(progress, 0.3, f"Kostenmatrix berechnen ({len(demand)} × {len(candidates)})")
    dense = params.model == "pmedian"
    extra = [r * (60.0 if params.uses_time else 1000.0) for r in params.sensitivity_radii]
    reach = max([radius, *extra])
    if net is not None:
        cost = _network_cost(
            settings, params, demand, candidates, net, PMEDIAN_TIME_CUTOFF_S if dense else reach, dense
        )
    else:
        cost = distance_cost(_xy(demand), _xy(candidates), None if dense else reach)
    weights = demand["weight"].to_numpy(dtype=float)
    if dense:
        cost, demand, weights, dropped = _drop_unassignable(np.asarray(cost), demand, weights)
        if dropped:
            notes.append(
                f"{dropped} Nachfragepunkt(e) ohne erreichbaren Kandidaten bleiben beim p-Median unberücksichtigt."
            )

    constraints = _constraints(candidates, params)

    def build(p_new: int, r: float) -> Any:
        if params.model == "mclp":
            return siting.MCLP.from_cost_matrix(
                cost, weights, r, p_new + len(fixed), fixed=fixed, time_limit=params.time_limit, **constraints
            )
        if params.model == "lscp":
            return siting.LSCP.from_cost_matrix(cost, r, fixed=fixed, time_limit=params.time_limit, **constraints)
        return siting.PMedian.from_cost_matrix(
            cost, weights, p_new + len(fixed), fixed=fixed, time_limit=params.time_limit, **constraints
        )

    _report(progress, 0.4, f"{MODEL_LABELS[params.model]} lösen")
    result = solved = build(p_solve, radius).solve()

    _report(progress, 0.6, "Auswahl erklären")
    coverage = within_radius(cost, radius)

    def explain(res: Any) -> SolutionExplanation:
        return explain_solution(
            res,
            coverage,
            weights,
            demand,
            candidates,
            fixed=fixed,
            cost=cost if dense else None,
            top_k=params.top_k,
            gemeinde_names=gemeinde_names,
            cost_unit=("min", 60.0) if params.uses_time else ("km", 1000.0),
        )

    explanation = explain(result)
    result, explanation, shortfall = drop_useless(
        result,
        explanation,
        explain,
        params.model,
        params.p,
        params.threshold_label,
        coverage,
        weights,
        fixed,
        keep_forced=params.min_per_gemeinde > 0,
    )
    if shortfall:
        notes.insert(0, shortfall)
    candidates = _mark_selection(candidates, result, explanation)
    after = np.union1d(np.asarray(result.selected, dtype=int), fixed).astype(int)
    demand = demand.assign(
        covered_before=covered_by(coverage, fixed),
        covered_after=covered_by(coverage, after),
    )
    _report(progress, 0.65, "Gerechtigkeit je Gemeinde berechnen")
    equity = plan_equity(settings, demand, candidates, weights, fixed, after, net, radius, gemeinde_names)

    _report(progress, 0.7, "Sensitivität über p berechnen")
    curve = _sensitivity(
        params, build, cost, weights, radius, extra, len(fixed), n_open, progress, known={(p_solve, radius): solved}
    )
    _report(progress, 0.98, "Ergebnis zusammenstellen")

    inputs = {
        "area": {"ags": params.area, "name": area_name},
        "layers": {**({params.fixed_layer: existing_as_of} if params.fixed_layer else {}), **dates},
        "demand_level": demand_result.level_label,
        "demand_as_of": demand_result.as_of,
        "demand_source": demand_result.source,
        "target_group": demand_result.target_group.label,
        "cost": (
            f"Fahrzeit {params.mode} (OSM {Path(params.osm_file).name}), Sekunden"  # type: ignore[arg-type]
            if params.uses_time
            else "Luftlinie EPSG:25832, Meter"
        ),
        "threshold": params.threshold_label,
        "attributions": list(ATTRIBUTIONS),
    }
    _report(progress, 1.0, "fertig")
    return SitingPlan(
        params=params,
        area_ags=params.area,
        area_name=area_name,
        area=area,
        demand=demand,
        candidates=candidates,
        result=result,
        explanation=explanation,
        sensitivity=curve,
        inputs=inputs,
        notes=tuple(notes),
        equity=equity,
        shortfall=shortfall,
    )


def _apply_site_costs(candidates: gpd.GeoDataFrame, params: SitingParams) -> tuple[gpd.GeoDataFrame, list[str]]:
    """Fill site costs for a budget; drop new candidates without a known cost."""
    if params.budget is None:
        return candidates, []
    cost = candidates["site_cost"].to_numpy(dtype=float).copy()
    fixed = candidates["fixed"].to_numpy(dtype=bool)
    if params.default_site_cost is not None:
        cost[np.isnan(cost) & ~fixed] = params.default_site_cost
    cost[np.isnan(cost) & fixed] = 0.0  # existing sites: no new cost unless stated
    unknown = np.isnan(cost)
    notes = []
    if unknown.any():
        notes.append(
            f"{int(unknown.sum())} Kandidat(en) ohne Kosten in Spalte »{params.cost_column}« "
            "bleiben beim Budget unberücksichtigt."
        )
    out = candidates.assign(site_cost=cost)[~unknown].reset_index(drop=True)
    return out, notes


def _constraints(candidates: gpd.GeoDataFrame, params: SitingParams) -> dict[str, Any]:
    """Budget and minimum-per-Gemeinde keyword arguments for the models."""
    kwargs: dict[str, Any] = {}
    if params.budget is not None:
        kwargs["budget"] = float(params.budget)
        kwargs["site_cost"] = candidates["site_cost"].to_numpy(dtype=float)
    if params.min_per_gemeinde > 0:
        # candidates of unknown Gemeinde belong to no group (None)
        groups = np.array([None if pd.isna(v) else str(v) for v in candidates["gemeinde_ags"]], dtype=object)
        kwargs["min_per_group"] = (groups, int(params.min_per_gemeinde))
    return kwargs


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
    params: SitingParams,
    build: Callable[[int, float], Any],
    cost: Any,
    weights: NDArray[np.float64],
    radius: float,
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
    ps = params.sensitivity_ps
    if ps is None:
        start = 0 if n_fixed else 1
        ps = tuple(range(start, min(params.p + 3, n_open) + 1)) if params.model != "lscp" else (0,)
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
        if params.model == "mclp" and r in last and total > 0:
            reachable = float(weights @ (np.asarray(matrix(r).sum(axis=1)).ravel() > 0)) / total
            if share(np.asarray(last[r].selected, dtype=int), r) >= reachable - 1e-12:
                return _Solved(last[r])
        return _Recording(p_new, r)

    unit = 60.0 if params.uses_time else 1000.0
    try:
        table = sensitivity(factory, ps, radii, coverage=share)
    except IntegrationsatlasError as exc:
        logger.warning("Sensitivität nicht berechnet: %s", exc)
        return pd.DataFrame()
    table["radius"] = table["radius"] / unit
    table = table.rename(columns={"p": "p_new"})
    if params.model == "lscp":  # LSCP chooses the count itself: plot the new sites it needs
        table["p_new"] = (table["n_selected"] - n_fixed).clip(lower=0)
    if progress is not None:
        progress(0.95, "Sensitivität berechnet")
    return table


def _gemeinde_names(settings: Settings) -> dict[str, str]:
    """AGS → name of the Gemeinden, when loaded (else empty)."""
    try:
        gem = load_boundaries("gemeinde", settings)
    except NotLoadedError:
        return {}
    return dict(zip(gem["ags"].astype(str), gem["name"].astype(str), strict=True))
