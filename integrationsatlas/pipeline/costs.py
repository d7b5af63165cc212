"""Step 3: the measure of a request and the extent it covers.

A :class:`Measure` answers the two questions every analysis asks, with one
definition for coverage, siting, equity and the report:

* :meth:`Measure.nearest` – the cost from every demand point to its nearest
  facility (km, or door-to-door minutes);
* :meth:`Measure.matrix` – the sparse demand × site costs within a cut-off
  (metres or seconds), for 2SFCA and the siting models.

:func:`measure_for` picks the measure from the request: straight line for
``km``; for ``min`` door-to-door travel time by the request's mode
(:mod:`planning.door_to_door`), on foot plus timetable when the mode asks for
one (:attr:`geo.modes.TravelMode.needs_timetable`).

A travel-time measure covers only the part of the area its street network
reaches: :class:`Extent` says which part and how many of the area's people
live there, and every result carries it.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import scipy.sparse as sp
import shapely
from numpy.typing import NDArray
from scipy.spatial import cKDTree
from shapely.geometry.base import BaseGeometry

from geo.errors import DataError
from geo.formatting import de_int, de_share
from geo.modes import TravelMode
from geo.network import Network
from geo.settings import Settings
from integrationsatlas.request import AnalysisRequest
from planning import door_to_door
from planning.coverage import point_xy

if TYPE_CHECKING:
    from geo.sources.gtfs import Timetable
    from planning.transit import TransitSettings

logger = logging.getLogger(__name__)

#: 2SFCA is skipped when the demand × facility pairs within the catchment exceed this.
MAX_2SFCA_PAIRS = 20_000_000


@dataclass(frozen=True)
class Extent:
    """The part of the area a result covers, and how many of the area's people live there.

    Parameters
    ----------
    name
        The covered part, e.g. ``"Ausschnitt aachen.osm.pbf"``, or the area's
        name when all of it is covered.
    area_name
        The area asked about.
    population_in_extent, population_of_area
        Residents (demand population) inside the covered part, and in the whole area.

    Examples
    --------
    >>> e = Extent("Ausschnitt aachen.osm.pbf", "Städteregion Aachen", 139_167, 556_246)
    >>> round(e.share, 2), e.partial
    (0.25, True)
    >>> e.caption
    'Ausschnitt aachen.osm.pbf: 25,0 % der Einwohner im Gebiet Städteregion Aachen (139.167 von 556.246)'
    """

    name: str
    area_name: str
    population_in_extent: float
    population_of_area: float

    @property
    def share(self) -> float:
        """Share of the area's residents inside the extent (1 when the area has none)."""
        if self.population_of_area <= 0:
            return 1.0
        return float(self.population_in_extent / self.population_of_area)

    @property
    def partial(self) -> bool:
        """Whether the result covers only part of the area."""
        return self.share < 1.0 - 1e-9

    @property
    def caption(self) -> str:
        """German caption naming the covered part (every partial figure is shown with it)."""
        if not self.partial:
            return f"{self.area_name}: ganzes Gebiet"
        return (
            f"{self.name}: {de_share(self.share)} der Einwohner im Gebiet {self.area_name} "
            f"({de_int(self.population_in_extent)} von {de_int(self.population_of_area)})"
        )

    @property
    def label(self) -> str:
        """What a partial figure is about: the extent's name, else the area's."""
        return f"{self.name} ({self.area_name})" if self.partial else self.area_name

    def as_dict(self) -> dict[str, Any]:
        """JSON form: ``name``, ``population_in_extent``, ``population_of_area``, ``share`` …"""
        return {
            "name": self.name,
            "area_name": self.area_name,
            "population_in_extent": float(self.population_in_extent),
            "population_of_area": float(self.population_of_area),
            "share": self.share,
            "partial": self.partial,
            "caption": self.caption,
        }


class Measure:
    """Straight-line distance in EPSG:25832: cost in km, matrices in metres."""

    unit = "km"
    base = 1000.0  # metres per unit

    def __init__(self, settings: Settings, request: AnalysisRequest) -> None:
        self.settings = settings
        self.request = request

    @property
    def hull(self) -> BaseGeometry | None:
        """The region the measure covers (``None``: everywhere)."""
        return None

    @property
    def extent_name(self) -> str:
        """Name of the covered region."""
        return ""

    def citation(self) -> str:
        """German source line of the measure (empty for straight lines)."""
        return ""

    def nearest(self, origins: gpd.GeoDataFrame, dests: gpd.GeoDataFrame) -> NDArray[np.float64]:
        """Cost (in :attr:`unit`) from every origin to its nearest destination (``inf`` if none)."""
        o, d = point_xy(origins, "Nachfragepunkte"), point_xy(dests, "Einrichtungen")
        if len(d) == 0:
            return np.full(len(o), np.inf)
        dist, _ = cKDTree(d).query(o) if len(o) else (np.empty(0), None)
        return np.asarray(dist, dtype=np.float64) / self.base

    def matrix(self, origins: gpd.GeoDataFrame, dests: gpd.GeoDataFrame, cutoff: float | None) -> Any:
        """Costs in metres (seconds for travel time) of the pairs within ``cutoff``; dense without one."""
        o, d = point_xy(origins, "Nachfragepunkte"), point_xy(dests, "Standorte")
        if cutoff is None:
            diff = o[:, None, :] - d[None, :, :]
            return np.hypot(diff[..., 0], diff[..., 1])
        if len(o) == 0 or len(d) == 0:
            return sp.csr_array((len(o), len(d)))
        pairs = cKDTree(o).sparse_distance_matrix(cKDTree(d), cutoff, output_type="ndarray")
        # csr_array keeps explicit zeros: a point on top of a site stays "within reach"
        return sp.csr_array((pairs["v"], (pairs["i"], pairs["j"])), shape=(len(o), len(d)))

    def too_many_pairs(self, origins: gpd.GeoDataFrame, dests: gpd.GeoDataFrame, cutoff: float) -> int:
        """The pairs that may lie within ``cutoff`` when they exceed :data:`MAX_2SFCA_PAIRS`, else 0.

        Counted within the straight-line reach of the cut-off
        (:meth:`reach_bound_m`: exact for straight lines, an upper bound for
        travel times); every pair counts when a trip has no such bound.
        """
        o, d = point_xy(origins, "Nachfragepunkte"), point_xy(dests, "Einrichtungen")
        if len(o) == 0 or len(d) == 0:
            return 0
        bound = self.reach_bound_m(cutoff)
        n = len(o) * len(d) if bound is None else int(cKDTree(o).count_neighbors(cKDTree(d), bound))
        return n if n > MAX_2SFCA_PAIRS else 0

    def connected(self, points: gpd.GeoSeries) -> NDArray[np.bool_]:
        """Which points the measure can reach at all (all, for straight lines)."""
        return np.ones(len(points), dtype=bool)

    def reach_bound_m(self, cutoff: float) -> float | None:
        """The farthest straight-line distance (m) a trip within ``cutoff`` can span; ``None``: no bound."""
        return cutoff


class StreetTime(Measure):
    """Door-to-door travel time on the street network of the request's mode: minutes, matrices in seconds."""

    unit = "min"
    base = 60.0

    def __init__(self, settings: Settings, request: AnalysisRequest) -> None:
        super().__init__(settings, request)
        if request.osm_file is None or not Path(request.osm_file).is_file():
            raise DataError(f"OSM-Datei {request.osm_file} nicht gefunden. Bitte --osm DATEI.osm.pbf angeben.")
        self.mode: TravelMode = request.travel_mode
        self.osm = Path(request.osm_file)

    @cached_property
    def network(self) -> Network:
        """The network of the mode (cached by content; the mode's own speed): the whole file, or the area's tiles."""
        from geo.sources.streets import load_network  # the network stack is loaded only when needed

        given = _provided(self.settings, self.request).get("network")
        if given is not None:
            return given
        area = self.request.area
        region = area.code if area.is_administrative else None  # a land-scale extract opens only these tiles
        net = load_network(self.mode.id, self.settings, osm_file=self.osm, region=region)
        if net.n_nodes == 0:
            raise DataError(f"Das Straßennetz aus {self.osm.name} ist leer (Modus {self.mode.title}).")
        return net

    @cached_property
    def hull(self) -> BaseGeometry:
        """Convex hull of the network's nodes."""
        return self.network.hull

    @property
    def extent_name(self) -> str:
        """»Ausschnitt <file>«."""
        return f"Ausschnitt {self.osm.name}"

    def citation(self) -> str:
        """German source line of the measure."""
        kmh = f"{self.mode.access_kmh:g}".replace(".", ",")  # German decimal comma: 4,5 km/h
        return (
            f"Fahrzeit {self.mode.phrase} von Tür zu Tür: Zu- und Abgang zum nächsten Netzknoten (Luftlinie, "
            f"{kmh} km/h, höchstens {self.settings.snap_max_m:g} m), Weg auf dem Straßennetz aus {self.osm.name}"
        )

    def _door(self) -> dict[str, float]:
        return {"max_snap_m": self.settings.snap_max_m, "access_ms": self.mode.access_ms}

    def nearest(self, origins: gpd.GeoDataFrame, dests: gpd.GeoDataFrame) -> NDArray[np.float64]:
        """Door-to-door minutes to the nearest destination (``inf`` when none is reachable)."""
        o, d = point_xy(origins, "Nachfragepunkte"), point_xy(dests, "Einrichtungen")
        return door_to_door.nearest_time(self.network, o, d, **self._door()) / 60.0

    def matrix(self, origins: gpd.GeoDataFrame, dests: gpd.GeoDataFrame, cutoff: float | None) -> Any:
        """Door-to-door seconds within ``cutoff`` (dense with ``inf`` beyond 4 h without one)."""
        o, d = point_xy(origins, "Nachfragepunkte"), point_xy(dests, "Standorte")
        part = door_to_door.time_matrix(self.network, o, d, 4 * 3600.0 if cutoff is None else cutoff, **self._door())
        return part if cutoff is not None else _dense(part)

    def connected(self, points: gpd.GeoSeries) -> NDArray[np.bool_]:
        """Points within the snap limit of the network."""
        xy = shapely.get_coordinates(points.to_numpy())
        return door_to_door.connect(self.network, xy, **self._door()).connected

    def reach_bound_m(self, cutoff: float) -> float | None:
        """``cutoff`` seconds at the fastest speed of the trip: the mode's (for cars the fastest tagged edge's) or
        the connector's; ``None`` when a car network has no tagged speeds."""
        speed = self.mode.speed_kmh
        if speed is None:
            tagged = self.network.speeds_kmh
            if tagged is None or tagged.size == 0:
                return None
            speed = float(np.max(tagged))
        return cutoff * max(speed, self.mode.access_kmh) / 3.6


class TransitTime(StreetTime):
    """Walk + public transport, door to door: the minimum of walking alone and walk + ride + walk.

    Per origin and departure minute; the cost is the median over the minutes
    of the window, so it is never above walking alone.
    """

    def __init__(self, settings: Settings, request: AnalysisRequest) -> None:
        super().__init__(settings, request)
        if request.gtfs_file is None or not Path(request.gtfs_file).is_file():
            raise DataError(f"GTFS-Datei {request.gtfs_file} nicht gefunden. Bitte --gtfs FAHRPLAN.zip angeben.")
        self.gtfs = Path(request.gtfs_file)

    @cached_property
    def transit_settings(self) -> TransitSettings:
        """Day, window and walking limits (walking speed and snap limit of the door-to-door walks)."""
        from planning.transit import TransitSettings

        day = date.fromisoformat(str(self.request.day))
        start, end = self.request.window
        return TransitSettings(
            day=day, start_s=start, end_s=end, walk_speed_ms=self.mode.access_ms, max_snap_m=self.settings.snap_max_m
        )

    @cached_property
    def timetable(self) -> Timetable:
        """The feed's trips of the day and window near the network."""
        from geo.sources.gtfs import read_gtfs

        given = _provided(self.settings, self.request).get("timetable")
        if given is not None:
            return given
        ts = self.transit_settings
        return read_gtfs(
            self.gtfs,
            day=ts.day,
            window=(ts.start_s, ts.end_s),
            area=shapely.buffer(self.hull, ts.max_walk_s * ts.walk_speed_ms),
        )

    def citation(self) -> str:
        """German source line, with feed, day and window."""
        ts = self.transit_settings
        return (
            f"ÖPNV-Fahrplan {self.gtfs.name}, {ts.describe()}, Median über {ts.minutes.size} Abfahrtsminuten; "
            f"je Minute das Schnellere aus Fußweg allein und Fußweg + Fahrt + Fußweg (Fußwege von Tür zu Tür, "
            f"Zugang höchstens {ts.max_walk_s / 60:.0f} min, höchstens {ts.max_transfers} Umstiege)"
        )

    def nearest(self, origins: gpd.GeoDataFrame, dests: gpd.GeoDataFrame) -> NDArray[np.float64]:
        """Median door-to-door minutes over the departure minutes; never above walking alone."""
        walk = super().nearest(origins, dests) * 60.0
        if len(origins) == 0 or len(dests) == 0:
            return walk / 60.0
        o, d = point_xy(origins, "Nachfragepunkte"), point_xy(dests, "Einrichtungen")
        by_minute = door_to_door.transit_nearest(self.timetable, self.network, o, d, self.transit_settings, walk)
        return np.minimum(np.median(by_minute, axis=1), walk) / 60.0

    def matrix(self, origins: gpd.GeoDataFrame, dests: gpd.GeoDataFrame, cutoff: float | None) -> Any:
        """Median seconds within ``cutoff`` (at most 3 h); every pair at most its walking time."""
        limit = min(3 * 3600.0 if cutoff is None else cutoff, 3 * 3600.0)
        walk = super().matrix(origins, dests, limit)
        o, d = point_xy(origins, "Nachfragepunkte"), point_xy(dests, "Standorte")
        part = door_to_door.transit_matrix(self.timetable, self.network, o, d, self.transit_settings, limit, walk)
        return part if cutoff is not None else _dense(part)

    def reach_bound_m(self, cutoff: float) -> float | None:
        """A ride may go anywhere within the cut-off: no bound (so every pair counts in :meth:`too_many_pairs`)."""
        return None


def measure_for(settings: Settings, request: AnalysisRequest) -> Measure:
    """The measure of ``request``: straight line, street travel time, or walk + public transport.

    The mode's declaration decides (:attr:`geo.modes.TravelMode.needs_timetable`).
    """
    if not request.uses_time:
        return Measure(settings, request)
    if request.travel_mode.needs_timetable:
        return TransitTime(settings, request)
    return StreetTime(settings, request)


#: Networks and timetables handed to this process (a batch worker) by :func:`provide_inputs`, most recent last.
_PROVIDED: OrderedDict[tuple[Any, ...], dict[str, Any]] = OrderedDict()
_PROVIDED_SIZE = 8


def inputs_key(settings: Settings, request: AnalysisRequest) -> tuple[Any, ...] | None:
    """What a request's network and timetable depend on; requests with the same key share them.

    Mode, OSM extract (for a land-scale extract also the Kreis whose tiles it
    opens), and for public transport the feed, day and window; ``None`` for
    straight lines, which need neither.
    """
    if not request.uses_time or request.osm_file is None:
        return None
    from geo.sources.network_tiles import is_land_scale

    osm = Path(request.osm_file)
    code = request.area.code
    tiled = request.area.is_administrative and osm.is_file() and is_land_scale(osm, settings)
    region = (code[:5] if len(code) >= 5 else code) if tiled else None
    transit = (request.gtfs_file, request.day, request.window) if request.travel_mode.needs_timetable else None
    return (request.mode, request.osm_file, region, transit)


def measure_inputs(settings: Settings, request: AnalysisRequest) -> dict[str, Any]:
    """Load the network (and timetable) of a request's measure: what :func:`provide_inputs` hands on."""
    measure = measure_for(settings, request)
    if not isinstance(measure, StreetTime):
        return {}
    out: dict[str, Any] = {"network": measure.network}
    if isinstance(measure, TransitTime):
        out["timetable"] = measure.timetable
    return out


def provide_inputs(settings: Settings, request: AnalysisRequest, inputs: dict[str, Any]) -> None:
    """Let this process's measures use ``inputs`` (from :func:`measure_inputs`) for every request of the same key.

    Batch workers receive each network and timetable once and answer all
    requests of that :func:`inputs_key` with it, without reading files.
    """
    key = inputs_key(settings, request)
    if key is None or not inputs:
        return
    _PROVIDED[key] = inputs
    _PROVIDED.move_to_end(key)
    while len(_PROVIDED) > _PROVIDED_SIZE:
        _PROVIDED.popitem(last=False)


def _provided(settings: Settings, request: AnalysisRequest) -> dict[str, Any]:
    key = inputs_key(settings, request)
    return {} if key is None else _PROVIDED.get(key, {})


def within(frame: gpd.GeoDataFrame, region: BaseGeometry | None) -> NDArray[np.bool_]:
    """Rows of ``frame`` whose point lies in ``region`` (boundary included); all when ``region`` is ``None``."""
    if region is None or frame.empty:
        return np.ones(len(frame), dtype=bool)
    xy = shapely.get_coordinates(frame.geometry.centroid.to_numpy())
    return np.asarray(shapely.intersects_xy(region, xy[:, 0], xy[:, 1]), dtype=bool)


def extent_of(
    measure: Measure, points: gpd.GeoDataFrame, area_name: str, area_population: float | None = None
) -> tuple[Extent, NDArray[np.bool_]]:
    """The extent of ``measure`` over the area's demand ``points`` and the mask of the points inside it.

    ``area_population`` is the area's residents when the demand does not
    hold all of them (default: the points' population).
    """
    inside = within(points, measure.hull)
    population = points["population"].to_numpy(dtype=np.float64)
    if measure.hull is None:  # a straight line reaches the whole area
        return Extent(area_name, area_name, float(population.sum()), float(population.sum())), inside
    total = float(population.sum()) if area_population is None else max(float(area_population), 0.0)
    return Extent(measure.extent_name, area_name, float(population[inside].sum()), total), inside


def _dense(part: sp.sparray) -> NDArray[np.float64]:
    full = np.full(part.shape, np.inf)
    coo = sp.coo_array(part)
    full[coo.row, coo.col] = coo.data
    return full
