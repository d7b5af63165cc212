"""Orchestration between the geo loaders and the planning maths.

The app and the CLI call these functions; they load what is needed through
:mod:`geo` (embedded data, the local store), run the pure functions of
:mod:`planning` and return frozen results that carry their inputs. Nothing
here imports Streamlit.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely
from scipy.spatial import cKDTree
from shapely.geometry.base import BaseGeometry

from geo.errors import DataError, IntegrationsatlasError, NotLoadedError
from geo.layers.loading import load_layer
from geo.layers.registry import REGISTRY
from geo.modes import MODES, travel_mode
from geo.network import Network
from geo.settings import Settings
from geo.sources.destatis import POPULATION_TABLE, gemeinden_with_population
from geo.sources.zensus import (
    ZENSUS_AS_OF,
    ZENSUS_LAYER,
    ZENSUS_LICENCE,
    ZENSUS_SOURCE,
    load_zensus,
    load_zensus_parent,
)
from geo.statistics import kreis_indicators
from geo.units import Level, load_boundaries
from planning.accessibility import two_step_fca
from planning.coverage import coverage_curve, covered_share, nearest_distance_xy, point_xy
from planning.demand import (
    LEVEL_LABELS,
    DemandResult,
    TargetGroup,
    apply_target_group,
    assign_units,
    demand_from_gemeinden,
    demand_from_grid,
    demand_from_places,
)
from planning.gaps import GapInputs, GapTable, gap_table
from planning.resolution import ResolutionVerdict, check_resolution
from planning.target_groups import zensus_target_groups

if TYPE_CHECKING:  # planning.transit pulls in numba: loaded only for public transport
    from planning.transit import TransitSettings

logger = logging.getLogger(__name__)

#: Walking speed (m/s) that turns a time threshold into the distance for the resolution check.
WALK_SPEED_MS = float(MODES["walk"].speed_kmh or 4.5) / 3.6
#: 2SFCA is skipped when the demand × facility pairs within the catchment exceed this.
MAX_2SFCA_PAIRS = 20_000_000
_AREA = re.compile(r"^05\d{0,10}$")


# --- demand -----------------------------------------------------------------


def best_demand(settings: Settings, target_group: str = "total", column: str | None = None) -> DemandResult:
    """Demand points from the best population data available.

    Levels, best first: an imported Zensus 2022 grid (store table
    ``zensus``); Gemeinden with Destatis population (when the ``gemeinde``
    layer is loaded and has ``population`` for every Gemeinde); the embedded
    GeoNames places with the Kreis population shared out over them.

    Parameters
    ----------
    settings
        Paths of the embedded data and of the local store.
    target_group
        ``"total"``, ``"foreign"`` (Kreis foreign share, Regionalatlas) or
        ``"column"``.
    column
        For ``target_group="column"``: the demand column holding the weight.

    Returns
    -------
    DemandResult
        Points in EPSG:25832 with ``weight`` set for the target group, and
        the German ``level_label`` the UI shows.

    Raises
    ------
    IntegrationsatlasError
        If the data of the chosen level is invalid or a target-group input
        is missing.
    """
    group = TargetGroup.of(target_group, column)
    grid = load_zensus(settings)
    result: DemandResult
    if grid is not None:
        resolution = int(grid["resolution_m"].iloc[0])
        size = f"{resolution // 1000} km" if resolution >= 1000 else f"{resolution} m"
        kreise = None if grid["kreis_ags"].notna().all() else load_boundaries("kreis", settings)
        parent = load_zensus_parent(settings, 1000) if resolution < 1000 else None
        groups = zensus_target_groups(grid, parent)
        grid = grid.join(groups)
        if f"zg_{group.id}" in groups.columns:
            group = TargetGroup.of(group.id, group.column, per_cell=True)
        result = DemandResult(
            points=demand_from_grid(grid, "zg_total" if "zg_total" in grid else "population", kreise=kreise),
            level="zensus",
            level_label=f"Zensus-2022-Gitter {size} (Destatis) – Einwohner je Gitterzelle",
            as_of=ZENSUS_AS_OF,
            target_group=group,
            source=f"{ZENSUS_SOURCE} ({ZENSUS_LICENCE})",
        )
    else:
        gemeinden = _gemeinden_or_none(settings)
        if gemeinden is not None and "population" in gemeinden and gemeinden["population"].notna().all():
            result = DemandResult(
                points=demand_from_gemeinden(gemeinden, load_layer("orte", settings)),
                level="gemeinde",
                level_label=LEVEL_LABELS["gemeinde"],
                as_of=_store_date(settings, POPULATION_TABLE),
                target_group=group,
                source="Destatis Gemeindeverzeichnis (dl-de/by-2-0)",
            )
        else:
            indicators = kreis_indicators(settings)
            years = sorted({int(y) for y in indicators["year"].dropna()})
            result = DemandResult(
                points=demand_from_places(
                    load_layer("orte", settings), indicators["population"], load_boundaries("kreis", settings)
                ),
                level="orte",
                level_label=LEVEL_LABELS["orte"],
                as_of="/".join(map(str, years)) or "unbekannt",
                target_group=group,
                source="Destatis 12411-05-01-4 (dl-de/by-2-0); Orte: GeoNames (CC BY 4.0)",
            )
    if group.id == "total":
        return result
    share = (
        kreis_indicators(settings)["foreign_share_pct"]
        if group.id == "foreign" and "zg_foreign" not in result.points.columns
        else None
    )
    points = apply_target_group(result.points, group.id, foreign_share=share, column=group.column)
    return replace(result, points=points)


def _demand_for(
    settings: Settings, target_group: str, column: str | None, osm_file: Path | None
) -> tuple[DemandResult, str]:
    """The best demand, with the 100 m estimate from the OSM extract's buildings when no Zensus grid is loaded.

    Returns the demand and a German note (empty when nothing needs saying).
    """
    if osm_file is None or column is not None or _has_zensus(settings):
        return best_demand(settings, target_group, column), ""
    try:
        from integrationsatlas.osm_demand import osm_demand

        return osm_demand(settings, Path(osm_file), target_group), ""
    except IntegrationsatlasError as exc:
        demand = best_demand(settings, target_group, column)
        first = str(exc).splitlines()[0]
        return demand, f"Keine 100-m-Schätzung aus Gebäuden möglich ({first}); Nachfrage: {demand.level_label}."


def _has_zensus(settings: Settings) -> bool:
    """Whether a Zensus grid is loaded (without reading it)."""
    if not Path(settings.store_path).exists():
        return False
    from geo.store import DataStore

    return DataStore(settings.store_path).layer_meta(ZENSUS_LAYER) is not None


def _gemeinden_or_none(settings: Settings) -> gpd.GeoDataFrame | None:
    try:
        return gemeinden_with_population(settings)
    except NotLoadedError:
        return None


def _store_date(settings: Settings, layer_id: str) -> str:
    from geo.store import open_store, store_exists

    if not store_exists(settings):
        return "unbekannt"
    meta = open_store(settings).layer_meta(layer_id)
    return f"Import {meta.imported_at[:10]}" if meta is not None else "unbekannt"


# --- coverage report --------------------------------------------------------


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
        Demand points and facilities used.
    resolution
        Whether the demand is fine enough for the threshold in the area
        (:func:`planning.resolution.check_resolution`); when it is not, the
        UI, CLI and report print its message instead of a bare share.
    cells
        The demand points with their cost (``cost``, km or minutes) and
        ``covered`` flag, EPSG:25832: the fine result for maps.
    """

    gaps: GapTable
    overall: pd.DataFrame
    curve: pd.DataFrame
    inputs: GapInputs
    demand_level_label: str
    n_demand: int
    n_facilities: int
    resolution: ResolutionVerdict
    cells: gpd.GeoDataFrame

    @property
    def share_covered(self) -> float:
        """Covered share of the target group at the threshold, in [0, 1] (NaN without demand)."""
        return float(self.overall["share_covered"].iloc[0])

    def as_dict(self) -> dict[str, Any]:
        """JSON-serialisable form (units as records, most underserved first by ``rank``)."""
        row = self.overall.iloc[0]
        table = self.gaps.table.reset_index()
        return {
            "inputs": self.inputs.as_dict(),
            "demand_level_label": self.demand_level_label,
            "n_demand": self.n_demand,
            "n_facilities": self.n_facilities,
            "resolution": {
                "ok": self.resolution.ok,
                "message": self.resolution.message,
                "fix": self.resolution.fix,
                "units": self.resolution.units,
            },
            "overall": {
                "share_covered": float(row["share_covered"]),
                "population": float(row["population_total"]),
                "population_beyond": float(row["population_beyond"]),
                "weight": float(row["weight_total"]),
                "weight_beyond": float(row["weight_beyond"]),
            },
            "score_weights": dict(self.gaps.score_weights),
            "units": [{str(k): v for k, v in rec.items()} for rec in table.to_dict(orient="records")],
            "curve": self.curve.to_dict(orient="records"),
        }


def _check_area(area: str | None) -> str | None:
    if area is None or area == "":
        return None
    area = area.strip()
    if not _AREA.match(area):
        raise DataError(
            f"Gebiet »{area}« ist kein NRW-Gebietsschlüssel. Bitte einen AGS-Anfang angeben, "
            "z. B. 05 (NRW), 051 (Regierungsbezirk Düsseldorf), 05111 (Düsseldorf) oder 05334002."
        )
    return area


def _units(level: Level, settings: Settings) -> tuple[pd.DataFrame, gpd.GeoDataFrame | None]:
    """All units of ``level`` (index: AGS, column ``name``) and their polygons."""
    if level == "land":
        return pd.DataFrame({"name": ["Nordrhein-Westfalen"]}, index=pd.Index(["05"], name="ags")), None
    if level not in ("kreis", "gemeinde"):
        raise DataError(f"Unbekannte Gebietsebene »{level}«: erlaubt sind kreis, gemeinde und land.")
    polygons = load_boundaries(level, settings)
    units = pd.DataFrame(
        {"name": polygons["name"].astype("string").to_numpy()}, index=pd.Index(polygons["ags"].astype(str), name="ags")
    )
    return units, polygons


def _facility_as_of(facilities: gpd.GeoDataFrame, settings: Settings, layer: str) -> str:
    """The newest ``as_of`` of the facilities, else the date they were imported into the store."""
    values = facilities["as_of"].dropna().astype(str) if "as_of" in facilities.columns else pd.Series([], dtype=str)
    values = values[values != ""]
    return str(values.max()) if len(values) else _store_date(settings, layer)


def _supply(facilities: gpd.GeoDataFrame, layer: str) -> tuple[np.ndarray, str]:
    """Capacity per facility (declared capacity column) or 1 each, with a German note."""
    column = REGISTRY.get(layer).capacity_column
    if column and column in facilities.columns:
        cap = pd.to_numeric(facilities[column], errors="coerce")
        if cap.notna().all() and (cap >= 0).all():
            return cap.to_numpy(dtype=np.float64), f"Angebot: Spalte »{column}«"
        logger.info("Kapazität »%s« unvollständig: 2SFCA mit 1 je Einrichtung", column)
    return np.ones(len(facilities)), "Angebot: 1 je Einrichtung"


def coverage_report(
    settings: Settings,
    *,
    layer: str,
    by: Level = "kreis",
    threshold_km: float | None = None,
    threshold_min: float | None = None,
    mode: str = "walk",
    osm_file: Path | None = None,
    target_group: str = "total",
    column: str | None = None,
    area: str | None = None,
    gtfs_file: Path | None = None,
    transit: TransitSettings | None = None,
) -> CoverageReport:
    """Coverage of the demand by facility layer ``layer``, per Kreis, Gemeinde or Land.

    Parameters
    ----------
    settings
        Paths of the embedded data, the store and the network cache.
    layer
        Facility layer id, e.g. ``"ki"``.
    by
        Units of the gap table: ``"kreis"``, ``"gemeinde"`` or ``"land"``.
    threshold_km
        Straight-line distance threshold in km (KD-tree, EPSG:25832).
    threshold_min
        Travel-time threshold in minutes on the street network of
        ``osm_file`` for ``mode``. Exactly one of the thresholds is given.
    mode
        A travel mode of :data:`geo.modes.MODES` (travel-time path only):
        ``"walk"``, ``"bike"``, ``"drive"`` or ``"oepnv"`` (walk + public transport).
    osm_file
        OSM extract (``.osm.pbf``, ``.osm``, ``.osm.bz2``): the street network of
        the travel-time path and, when no Zensus grid is loaded, the buildings
        from which the 100 m demand is estimated.
    gtfs_file, transit
        GTFS feed and day/window settings for ``mode="oepnv"`` (median over
        every departure minute of the window).
    target_group, column
        Target group of the demand (see :func:`best_demand`).
    area
        AGS prefix: restricts the demand and the units (e.g. ``"05334"``).
        Facilities are never filtered, as those just outside serve the area too.

    Returns
    -------
    CoverageReport
        Gap table (cost in km or minutes), overall share, curve and inputs.

    Raises
    ------
    IntegrationsatlasError
        Bad arguments, missing data (e.g. Gemeinden not loaded, empty layer)
        or invalid inputs; the message says what to do.

    Notes
    -----
    Distances are Euclidean in EPSG:25832. On the travel-time path only
    demand points and facilities inside the extent of the street network
    are used, demand farther than ``settings.snap_max_m`` from the network
    counts as not reachable, and the units are those with demand in the
    extent. The 2SFCA ratio uses the threshold as catchment and the layer's
    capacity column (or 1 per facility); it is left out when the number of
    pairs in reach exceeds :data:`MAX_2SFCA_PAIRS`.
    """
    if (threshold_km is None) == (threshold_min is None):
        raise DataError("Bitte genau eine Schwelle angeben: --threshold-km (Luftlinie) oder --threshold-min.")
    threshold = float(threshold_km if threshold_km is not None else threshold_min)  # type: ignore[arg-type]
    if not np.isfinite(threshold) or threshold <= 0:
        raise DataError(f"Die Schwelle muss eine Zahl > 0 sein, nicht {threshold:g}.")
    spec = REGISTRY.get(layer)
    if spec.group not in ("facility", "poi"):
        raise DataError(
            f"Ebene »{layer}« ist keine Einrichtungsebene; Versorgung lässt sich nur für "
            f"Einrichtungen berechnen ({', '.join(s.id for s in REGISTRY.facilities())})."
        )
    area = _check_area(area)
    facilities = load_layer(layer, settings)
    if facilities.empty:
        raise NotLoadedError(
            f"Die Ebene »{spec.title}« enthält keine Einrichtungen. Bitte zuerst Daten importieren "
            f"(»integrationsatlas import DATEI --layer {layer}«) oder abrufen."
        )
    demand, demand_note = _demand_for(settings, target_group, column, osm_file)
    points = demand.points
    units, polygons = _units(by, settings)
    unit_col = {"kreis": "kreis_ags", "gemeinde": "gemeinde_ags", "land": "land_ags"}[by]
    if by == "gemeinde" and points["gemeinde_ags"].isna().any():
        assert polygons is not None
        points = points.assign(gemeinde_ags=assign_units(points, polygons, "ags", what="Nachfragepunkte"))
    if by == "land":
        points = points.assign(land_ags=pd.Series("05", index=points.index, dtype="string"))
    if area is not None:
        key = points["gemeinde_ags"] if len(area) > 5 else points["kreis_ags"]
        if len(area) > 5 and key.isna().any():
            gemeinden = load_boundaries("gemeinde", settings)
            key = assign_units(points, gemeinden, "ags", what="Nachfragepunkte")
        points = points[key.fillna("").str.startswith(area).to_numpy()]
        keep = [str(k).startswith(area) or area.startswith(str(k)) for k in units.index]
        units = units[np.asarray(keep, dtype=bool)]
        if points.empty:
            raise DataError(f"Im Gebiet »{area}« gibt es keine Nachfragepunkte. Bitte den AGS prüfen.")

    notes: list[str] = [demand_note] if demand_note else []
    supply, supply_note = _supply(facilities, layer)
    if threshold_km is not None:
        unit, mode_used = "km", "luftlinie"
        dem_xy = point_xy(points, "Nachfragepunkte")
        fac_xy = point_xy(facilities, f"Ebene »{spec.title}«")
        dist_m, _ = nearest_distance_xy(dem_xy, fac_xy)
        cost = pd.Series(dist_m / 1000.0, index=points.index, name="cost_km")
        access = _access_by_distance(
            dem_xy, fac_xy, points["weight"].to_numpy(dtype=np.float64), supply, threshold * 1000.0, notes
        )
    else:
        unit, mode_used = "min", mode
        points, units, facilities, cost, access = _travel_time(
            settings,
            points,
            units,
            facilities,
            supply,
            unit_col,
            threshold,
            mode,
            osm_file,
            notes,
            gtfs_file=gtfs_file,
            transit=transit,
        )
    if access is not None:
        notes.append(f"2SFCA: Einzugsbereich = Schwelle, {supply_note}")
    facilities_as_of = _facility_as_of(facilities, settings, layer)
    inputs = GapInputs(
        layer=layer,
        layer_title=spec.title,
        threshold=threshold,
        unit=unit,  # type: ignore[arg-type]
        mode=mode_used,
        demand_level=demand.level,
        demand_level_label=demand.level_label,
        target_group=demand.target_group.label,
        as_of=(("Bevölkerung", demand.as_of), ("Einrichtungen", facilities_as_of)),
        area=area,
        notes=tuple(notes),
    )
    gaps = gap_table(
        points,
        cost,
        threshold,
        unit_col=unit_col,
        inputs=inputs,
        access_ratio=None if access is None else pd.Series(access, index=points.index),
        units=units,
    )
    overall = covered_share(
        cost.to_numpy(), points["weight"].to_numpy(), [threshold], population=points["population"].to_numpy()
    )
    curve_thresholds = np.unique(
        np.r_[np.arange(0.0, max(30.0, threshold) + 1e-9, 1.0 if unit == "km" else 2.5), threshold]
    )
    curve = coverage_curve(cost.to_numpy(), points["weight"].to_numpy(), curve_thresholds)
    threshold_m = threshold * 1000.0 if unit == "km" else threshold * 60.0 * WALK_SPEED_MS
    resolution = check_resolution(points, None, threshold_m)
    cells = gpd.GeoDataFrame(
        {c: points[c] for c in ("weight", "population", "kreis_ags", "gemeinde_ags", "resolution") if c in points},
        geometry=points.geometry,
        crs=points.crs,
    ).assign(cost=cost.to_numpy(), covered=cost.to_numpy() <= threshold)
    return CoverageReport(
        gaps=gaps,
        overall=overall,
        curve=curve,
        inputs=inputs,
        demand_level_label=demand.level_label,
        n_demand=len(points),
        n_facilities=len(facilities),
        resolution=resolution,
        cells=cells,
    )


def _access_by_distance(
    dem_xy: np.ndarray,
    fac_xy: np.ndarray,
    weight: np.ndarray,
    supply: np.ndarray,
    max_m: float,
    notes: list[str],
) -> np.ndarray | None:
    """2SFCA ratio per demand point with straight-line distance (m) as cost, or ``None`` if too large."""
    if len(fac_xy) == 0 or len(dem_xy) == 0:
        return None
    dem_tree, fac_tree = cKDTree(dem_xy), cKDTree(fac_xy)
    n_pairs = int(dem_tree.count_neighbors(fac_tree, max_m))
    if n_pairs > MAX_2SFCA_PAIRS:
        notes.append(f"2SFCA ausgelassen: {n_pairs:,} Paare im Einzugsbereich (Grenze {MAX_2SFCA_PAIRS:,}).")
        return None
    pairs = dem_tree.sparse_distance_matrix(fac_tree, max_m, output_type="ndarray")
    cost = sp.coo_array((pairs["v"], (pairs["i"], pairs["j"])), shape=(len(dem_xy), len(fac_xy)))
    return _ratio_or_zero(two_step_fca(weight, supply, cost, max_cost=max_m))


def _ratio_or_zero(ratio: np.ndarray) -> np.ndarray:
    """2SFCA ratios with 'no supply in reach' (NaN) as 0, for demand-weighted means."""
    return np.where(np.isnan(ratio), 0.0, ratio)


def _travel_time(
    settings: Settings,
    points: gpd.GeoDataFrame,
    units: pd.DataFrame,
    facilities: gpd.GeoDataFrame,
    supply: np.ndarray,
    unit_col: str,
    threshold_min: float,
    mode: str,
    osm_file: Path | None,
    notes: list[str],
    *,
    gtfs_file: Path | None = None,
    transit: TransitSettings | None = None,
) -> tuple[gpd.GeoDataFrame, pd.DataFrame, gpd.GeoDataFrame, pd.Series, np.ndarray | None]:
    """Cost in minutes on the street network of ``osm_file``, clipped to its extent."""
    travel_mode(mode)  # refuses an unknown mode, listing the known ones
    if osm_file is None:
        raise DataError("Für Fahrzeiten bitte eine OSM-Datei angeben (--osm DATEI.osm.pbf, .osm oder .osm.bz2).")
    if mode == "oepnv" and gtfs_file is None:
        raise DataError("Für Fahrzeiten mit Bus und Bahn bitte einen GTFS-Fahrplan angeben (--gtfs FAHRPLAN.zip).")
    osm_file = Path(osm_file)
    if not osm_file.is_file():
        raise DataError(f"OSM-Datei {osm_file} nicht gefunden.")
    from geo.sources.streets import load_network  # the network stack (osmnx) is only loaded when needed
    from planning import network

    net = load_network(mode, settings, osm_file=osm_file)
    if net.n_nodes == 0:
        raise DataError(f"Das Straßennetz aus {osm_file.name} ist leer (Modus {mode}).")
    hull = gpd.GeoSeries(gpd.points_from_xy(net.xy[:, 0], net.xy[:, 1]), crs=points.crs).union_all().convex_hull
    in_dem = points.geometry.within(hull).to_numpy()
    in_fac = facilities.geometry.within(hull).to_numpy()
    points, facilities, supply = points[in_dem], facilities[in_fac], supply[in_fac]
    if points.empty:
        raise DataError(f"Keine Nachfragepunkte im Ausschnitt des Straßennetzes {osm_file.name}.")
    if facilities.empty:
        raise DataError(f"Keine Einrichtungen der Ebene im Ausschnitt des Straßennetzes {osm_file.name}.")
    units = units[units.index.isin(points[unit_col].dropna().astype(str))]
    notes.append(
        f"Nur Nachfrage und Einrichtungen im Ausschnitt des Straßennetzes {osm_file.name} "
        f"({len(points)} Nachfragepunkte, {len(facilities)} Einrichtungen); Gebiete nur teilweise."
    )
    if mode == "oepnv":
        assert gtfs_file is not None
        from planning.transit import TransitSettings

        return _transit_time(
            points,
            units,
            facilities,
            supply,
            threshold_min,
            net,
            Path(gtfs_file),
            transit or TransitSettings(max_snap_m=settings.snap_max_m),
            hull,
            notes,
        )
    times = network.travel_time_to_nearest(net, points, facilities, settings.snap_max_m)
    minutes = times["minutes"].to_numpy(dtype=np.float64)
    far = np.isnan(minutes)
    if far.any():
        notes.append(
            f"{int(far.sum())} Nachfragepunkt(e) weiter als {settings.snap_max_m:g} m vom Straßennetz: "
            "nicht erreichbar."
        )
    cost = pd.Series(np.where(far, np.inf, minutes), index=points.index, name="cost_min")
    fac_snap = network.snap(net, facilities, settings.snap_max_m)
    access: np.ndarray | None = None
    connected = ~far
    if fac_snap.reachable.any() and connected.any():
        # 2SFCA over the demand connected to the network; the rest has no supply in reach (ratio 0)
        matrix = network.travel_time_matrix(
            net, times["node"].to_numpy()[connected], fac_snap.node[fac_snap.reachable], cutoff_s=threshold_min * 60.0
        )
        ratio = two_step_fca(
            points["weight"].to_numpy(dtype=np.float64)[connected],
            supply[fac_snap.reachable],
            matrix,
            max_cost=threshold_min * 60.0,
        )
        access = np.zeros(len(points))
        access[connected] = _ratio_or_zero(ratio)
    return points, units, facilities, cost, access


def _transit_time(
    points: gpd.GeoDataFrame,
    units: pd.DataFrame,
    facilities: gpd.GeoDataFrame,
    supply: np.ndarray,
    threshold_min: float,
    net: Network,
    gtfs_file: Path,
    transit: TransitSettings,
    area: BaseGeometry,
    notes: list[str],
) -> tuple[gpd.GeoDataFrame, pd.DataFrame, gpd.GeoDataFrame, pd.Series, np.ndarray | None]:
    """Cost in minutes by walking + public transport (median over the departure minutes)."""
    from geo.sources.gtfs import read_gtfs
    from planning.transit import transit_time_matrix, transit_time_to_nearest

    if not gtfs_file.is_file():
        raise DataError(f"GTFS-Datei {gtfs_file} nicht gefunden.")
    timetable = read_gtfs(
        gtfs_file,
        day=transit.day,
        window=(transit.start_s, transit.end_s),
        area=shapely.buffer(area, transit.max_walk_s * transit.walk_speed_ms),
    )
    result = transit_time_to_nearest(timetable, points, facilities, transit, network=net)
    seconds = result.time_s.to_numpy(dtype=np.float64)
    cost = pd.Series(seconds / 60.0, index=points.index, name="cost_min")
    notes.append(result.citation)
    unreachable = int(np.isinf(seconds).sum())
    if unreachable:
        notes.append(f"{unreachable} Nachfragepunkt(e) auch zu Fuß nicht erreichbar (abseits des Netzes).")
    access: np.ndarray | None = None
    if len(points) * len(facilities) <= MAX_2SFCA_PAIRS:
        matrix = transit_time_matrix(timetable, points, facilities, transit, threshold_min * 60.0, network=net)
        ratio = two_step_fca(
            points["weight"].to_numpy(dtype=np.float64), supply, matrix.matrix, max_cost=threshold_min * 60.0
        )
        access = _ratio_or_zero(ratio)
    return points, units, facilities, cost, access


def facility_isochrones(
    settings: Settings,
    layer_id: str,
    facility_ids: tuple[str, ...],
    osm_file: Path | str,
    mode: str,
    minutes: float,
    *,
    gtfs_file: Path | str | None = None,
    transit: TransitSettings | None = None,
) -> gpd.GeoDataFrame:
    """Areas from which each chosen facility of a layer is reached within ``minutes``.

    Parameters
    ----------
    settings
        Application settings (network cache, snap limit).
    layer_id
        Facility layer.
    facility_ids
        Ids of the facilities to draw.
    osm_file
        OSM extract of the street network (loaded once through the network cache).
    mode
        Travel mode; ``"oepnv"`` (walk + public transport) needs ``gtfs_file``.
    minutes
        Time budget.
    gtfs_file, transit
        GTFS feed and day/window settings for ``mode="oepnv"``.

    Returns
    -------
    geopandas.GeoDataFrame
        One polygon per facility with ``facility_id`` and ``minutes``, EPSG:25832;
        facilities off the network are left out.

    Notes
    -----
    Street modes: the area reached on the network (:func:`planning.network.isochrones`).
    Public transport: the union of the 100 m cells (over the network's extent)
    whose median travel time over the departure minutes to the facility is at
    most ``minutes`` – the same measure as the coverage figures.
    """
    from geo.sources.streets import load_network
    from planning.network import isochrones

    facilities = load_layer(layer_id, settings)
    chosen = facilities[facilities["id"].astype(str).isin(facility_ids)]
    net = load_network(mode, settings, osm_file=osm_file)
    if mode != "oepnv":
        polys = isochrones(net, chosen.set_index("id"), minutes=(minutes,), max_snap_m=settings.snap_max_m)
        return polys[~polys.geometry.is_empty]
    if gtfs_file is None:
        raise DataError("Für Isochronen mit Bus und Bahn bitte einen GTFS-Fahrplan angeben.")
    return _transit_isochrones(chosen.set_index("id"), net, Path(gtfs_file), transit, minutes, settings)


#: Cell width (metres) of public-transport isochrones.
ISOCHRONE_CELL_M = 100.0


def _transit_isochrones(
    facilities: gpd.GeoDataFrame,
    net: Network,
    gtfs_file: Path,
    transit: TransitSettings | None,
    minutes: float,
    settings: Settings,
) -> gpd.GeoDataFrame:
    """Union of the 100 m cells that reach each facility within ``minutes`` by walk + public transport."""
    from geo.sources.gtfs import read_gtfs
    from planning.transit import TransitSettings, transit_time_matrix

    transit = transit or TransitSettings(max_snap_m=settings.snap_max_m)
    x0, y0 = net.xy.min(axis=0)
    x1, y1 = net.xy.max(axis=0)
    xs = np.arange(x0 + ISOCHRONE_CELL_M / 2, x1, ISOCHRONE_CELL_M)
    ys = np.arange(y0 + ISOCHRONE_CELL_M / 2, y1, ISOCHRONE_CELL_M)
    gx, gy = np.meshgrid(xs, ys)
    cells = gpd.GeoDataFrame(geometry=gpd.points_from_xy(gx.ravel(), gy.ravel()), crs=facilities.crs)
    hull = shapely.MultiPoint(net.xy).convex_hull
    cells = cells[shapely.contains_xy(hull, cells.geometry.x.to_numpy(), cells.geometry.y.to_numpy())]
    cells = cells.reset_index(drop=True)
    timetable = read_gtfs(
        gtfs_file,
        day=transit.day,
        window=(transit.start_s, transit.end_s),
        area=shapely.buffer(hull, transit.max_walk_s * transit.walk_speed_ms),
    )
    matrix = transit_time_matrix(timetable, cells, facilities, transit, minutes * 60.0, network=net).matrix
    csc = sp.csc_array(matrix)
    half = ISOCHRONE_CELL_M / 2
    rows = []
    for j, fid in enumerate(facilities.index):
        reached = csc.indices[csc.indptr[j] : csc.indptr[j + 1]]
        if len(reached) == 0:
            continue
        pts = cells.geometry.iloc[reached]
        squares = shapely.box(pts.x - half, pts.y - half, pts.x + half, pts.y + half)
        rows.append({"facility_id": fid, "minutes": minutes, "geometry": shapely.union_all(squares)})
    return gpd.GeoDataFrame(
        rows, columns=["facility_id", "minutes", "geometry"], geometry="geometry", crs=facilities.crs
    )
