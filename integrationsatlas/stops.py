"""Walking access to public transport: distance from every demand point to the nearest stop of each mode class.

The embedded stops (layer ``haltestelle``, about 59,000 in NRW) carry a mode class
(``bahn`` for S-Bahn/regional/long distance, ``tram_ubahn``, ``bus``). For every
demand point (a 100 m cell where the demand is that fine) the distance to the
nearest stop of each class is measured – on the walk network of an OSM extract
when one is given, else in a straight line – and summarised per Kreis or
Gemeinde as the share of the population within a walking distance and the
population-weighted median.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.errors import DataError
from geo.layers.loading import load_layer
from geo.layers.registry import REGISTRY
from geo.modes import travel_mode
from geo.settings import Settings
from geo.units import UnitLevel
from integrationsatlas.pipeline.area import study_area
from integrationsatlas.pipeline.demand import area_demand
from integrationsatlas.request import AnalysisRequest
from planning.coverage import nearest_distance_xy, point_xy
from planning.door_to_door import nearest_time
from planning.gaps import weighted_quantile_by_group
from planning.resolution import ResolutionVerdict, check_resolution

logger = logging.getLogger(__name__)

#: Mode classes summarised, in the order of the layer declaration (``sonstige`` is left out).
MODE_CLASSES: tuple[str, ...] = ("bahn", "tram_ubahn", "bus")
#: Default walking distance for the share, metres (about 5 minutes at 4.5 km/h).
DEFAULT_WITHIN_M = 400.0


@dataclass(frozen=True)
class StopAccess:
    """Distance to the nearest stop per mode class, per demand point and per unit.

    Parameters
    ----------
    cells
        Demand points (EPSG:25832) with ``dist_<class>`` in metres.
    units
        Per unit (index AGS): ``name``, ``population`` and per class
        ``within_<class>`` (population share within ``within_m``) and
        ``median_<class>`` (population-weighted median distance, metres).
    within_m
        The walking distance of the shares.
    network
        ``"Fußwegenetz aus <Datei>, von Tür zu Tür"`` or ``"Luftlinie"``.
    demand_label
        The demand resolution the figures rest on.
    resolution
        Whether that demand is fine enough for ``within_m``.
    """

    cells: gpd.GeoDataFrame
    units: pd.DataFrame
    within_m: float
    network: str
    demand_label: str
    resolution: ResolutionVerdict

    def as_dict(self) -> dict[str, Any]:
        """JSON-serialisable summary (units as records)."""
        return {
            "within_m": self.within_m,
            "network": self.network,
            "demand": self.demand_label,
            "resolution": {"ok": self.resolution.ok, "message": self.resolution.message},
            "units": self.units.reset_index().to_dict(orient="records"),
        }


def stop_access(settings: Settings, request: AnalysisRequest) -> StopAccess:
    """Walking distance from the demand to the nearest stop of each mode class.

    Parameters
    ----------
    settings
        Embedded data, data store and caches.
    request
        The question: area, units (``by``: ``kreis`` or ``gemeinde``), the
        walking distance of the shares (``threshold_m``: km, or walking
        minutes × walking speed), demand source and OSM extract (distances
        door to door on its walk network; without one straight lines).

    Returns
    -------
    StopAccess

    Notes
    -----
    Distances in metres in EPSG:25832; on the walk network the door-to-door
    walking time (:mod:`planning.door_to_door`) times the walking speed. A
    point farther than ``settings.snap_max_m`` from the network, or a stop
    class with no stop on the network, gives ``inf``.
    """
    within_m = request.threshold_m
    if request.by not in ("kreis", "gemeinde"):
        raise DataError(f"Haltestellen je »{request.by}«: erlaubt sind kreis und gemeinde.")
    area = study_area(settings, request.area)
    demand, points, _ = area_demand(settings, request, area)
    stops = load_layer("haltestelle", settings)
    osm_file = Path(request.osm_file) if request.osm_file else None
    dist = _distances(settings, points, stops, osm_file)
    cells = points.assign(**{f"dist_{c}": d for c, d in dist.items()})
    key = f"{request.by}_ags"
    units = _summarise(cells, key, within_m)
    names = _unit_names(settings, request.by)  # type: ignore[arg-type]
    units.insert(0, "name", names.reindex(units.index).to_numpy())
    return StopAccess(
        cells=cells,
        units=units,
        within_m=within_m,
        network=f"Fußwegenetz aus {osm_file.name}, von Tür zu Tür" if osm_file else "Luftlinie",
        demand_label=demand.level_label,
        resolution=check_resolution(points, None, within_m),
    )


def _distances(
    settings: Settings, points: gpd.GeoDataFrame, stops: gpd.GeoDataFrame, osm_file: Path | None
) -> dict[str, np.ndarray]:
    xy = point_xy(points, "Nachfragepunkte")
    out: dict[str, np.ndarray] = {}
    if osm_file is None:
        for cls in MODE_CLASSES:
            chosen = stops[stops["modus"] == cls]
            out[cls], _ = nearest_distance_xy(xy, point_xy(chosen, "Haltestellen"))
        return out
    from geo.sources.streets import load_network

    walk = travel_mode("walk")
    net = load_network(walk.id, settings, osm_file=osm_file)
    for cls in MODE_CLASSES:
        chosen = point_xy(stops[stops["modus"] == cls], "Haltestellen")
        seconds = nearest_time(net, xy, chosen, max_snap_m=settings.snap_max_m, access_ms=walk.access_ms)
        out[cls] = seconds * walk.access_ms  # walking speed everywhere on the walk: seconds → metres
    return out


def _summarise(cells: gpd.GeoDataFrame, key: str, within_m: float) -> pd.DataFrame:
    codes, uniques = pd.factorize(cells[key].astype("string").fillna("unbekannt"), sort=True)
    pop = cells["population"].to_numpy(dtype=np.float64)
    total = np.bincount(codes, weights=pop, minlength=len(uniques))
    table = pd.DataFrame({"population": total}, index=pd.Index(uniques.astype(str), name="ags"))
    for cls in MODE_CLASSES:
        d = cells[f"dist_{cls}"].to_numpy(dtype=np.float64)
        near = np.bincount(codes, weights=pop * (d <= within_m), minlength=len(uniques))
        table[f"within_{cls}"] = np.divide(near, total, out=np.full(len(total), np.nan), where=total > 0)
        table[f"median_{cls}"] = weighted_quantile_by_group(codes.astype(np.intp), d, pop, 0.5, len(uniques))
    return table


def _unit_names(settings: Settings, by: UnitLevel) -> pd.Series:
    from geo.units import load_boundaries

    units = load_boundaries(by, settings)
    return pd.Series(units["name"].astype(str).to_numpy(), index=units["ags"].astype(str))


def mode_class_titles() -> dict[str, str]:
    """German titles of the mode classes, from the layer declaration."""
    column = REGISTRY.get("haltestelle").column("modus")
    return dict(zip(column.choices or (), column.choice_titles or column.choices or (), strict=True))
