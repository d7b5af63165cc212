"""Street networks and travel times: walk, bike and drive graphs with osmnx.

A graph is built once per area and mode (offline from an OSM XML file, online
with ``osmnx.graph_from_polygon``), cached as GraphML, and turned into a
:class:`Network`: the graph's sparse travel-time matrix plus the node table in
EPSG:25832. All queries then run on that matrix with
:mod:`scipy.sparse.csgraph`:

* :func:`nearest_facility_time` answers "how long from every node to the
  nearest facility?" with **one** multi-source Dijkstra run, whatever the number
  of facilities (the osmnx isochrone example runs one search per facility);
* :func:`travel_time_matrix` gives the sparse origin × destination travel times
  within a cut-off, for 2SFCA and siting cost matrices;
* :func:`isochrones` draws the 5/10/15/30-minute areas around facilities.

Direction convention: every travel time in this module is the time **from** a
node or demand point **to** a facility, i.e. the trip a family makes. Searches
therefore start at the facilities and run on the *reversed* graph
(:attr:`Network.reverse`). Walk graphs are symmetric (osmnx makes every walkable
way bidirectional), for bike and drive graphs one-way streets matter.
"""

from __future__ import annotations

import bz2
import gzip
import hashlib
import logging
import os
import re
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Callable, Container, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import IO, Literal, cast, get_args
from xml.sax.saxutils import quoteattr

import geopandas as gpd
import networkx as nx
import numpy as np
import osmnx as ox
import pandas as pd
import requests
import scipy.sparse as sp
import shapely
from numpy.typing import ArrayLike, NDArray
from pyproj import CRS, Transformer
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree
from shapely.geometry.base import BaseGeometry

from geo.errors import CRSError, DataError, Problem, SourceUnavailableError, raise_if_problems
from geo.projection import NRW_BOUNDS_25832
from geo.settings import DISPLAY_CRS, PROJECTED_CRS, Settings
from planning.coverage import point_xy

logger = logging.getLogger(__name__)

Mode = Literal["walk", "bike", "drive"]
MODES: tuple[Mode, ...] = get_args(Mode)

#: Constant travel speeds (km/h) of the non-motorised modes. Drive speeds come
#: from osmnx (``maxspeed`` tags, imputed per highway type).
SPEEDS_KMH: dict[str, float] = {"walk": 4.5, "bike": 15.0}
#: Drive speed (km/h) for highway types that carry no ``maxspeed`` anywhere in
#: the graph: the German built-up-area limit (§ 3 StVO).
DRIVE_FALLBACK_KMH = 50.0

#: Highway filters per mode in Overpass syntax, identical to osmnx 2.x
#: ``network_type`` filters (``osmnx._overpass._get_network_filter``, with
#: ``settings.default_access = '["access"!~"private"]'``); the tests check that
#: they stay identical. The offline builder applies them to the full tags of an
#: OSM XML file, so offline and online graphs contain the same ways.
WAY_FILTERS: dict[str, str] = {
    "drive": (
        '["highway"]["area"!~"yes"]["access"!~"private"]'
        '["highway"!~"abandoned|bridleway|bus_guideway|construction|corridor|'
        "cycleway|elevator|escalator|footway|no|path|pedestrian|planned|platform|"
        'proposed|raceway|razed|rest_area|service|services|steps|track"]'
        '["motor_vehicle"!~"no"]["motorcar"!~"no"]'
        '["service"!~"alley|driveway|emergency_access|parking|parking_aisle|private"]'
    ),
    "walk": (
        '["highway"]["area"!~"yes"]["access"!~"private"]'
        '["highway"!~"abandoned|bus_guideway|construction|cycleway|motor|no|planned|'
        'platform|proposed|raceway|razed|rest_area|services"]'
        '["foot"!~"no"]["service"!~"private"]'
        '["sidewalk"!~"separate"]["sidewalk:both"!~"separate"]'
        '["sidewalk:left"!~"separate"]["sidewalk:right"!~"separate"]'
    ),
    "bike": (
        '["highway"]["area"!~"yes"]["access"!~"private"]'
        '["highway"!~"abandoned|bus_guideway|construction|corridor|elevator|'
        "escalator|footway|motor|no|planned|platform|proposed|raceway|razed|"
        'rest_area|services|steps"]'
        '["bicycle"!~"no"]["service"!~"private"]'
    ),
}

_FILTER_TERM = re.compile(r'\["(?P<key>[^"]+)"(?:(?P<op>!?~)"(?P<value>[^"]*)")?\]')
#: Largest block of a dense Dijkstra result (sources × nodes) held at once.
_BLOCK_CELLS = 10_000_000

__all__ = [
    "MODES",
    "SPEEDS_KMH",
    "WAY_FILTERS",
    "Mode",
    "Network",
    "SnapResult",
    "build_graph_from_polygon",
    "build_graph_from_xml",
    "cached_graph",
    "isochrones",
    "nearest_facility_time",
    "snap",
    "travel_time_matrix",
    "travel_time_to_nearest",
]


# --------------------------------------------------------------------------- graphs


def build_graph_from_xml(path: Path, mode: Mode, settings: Settings) -> nx.MultiDiGraph:
    """Build the street network of one mode from an OSM XML file (offline).

    Parameters
    ----------
    path
        OSM XML file (``.osm``, ``.osm.bz2`` or ``.osm.gz``), e.g. an extract
        from a regional download service.
    mode
        ``"walk"``, ``"bike"`` or ``"drive"``.
    settings
        Project settings; ``settings.crs`` is the target CRS.

    Returns
    -------
    networkx.MultiDiGraph
        Simplified osmnx graph in ``settings.crs`` with edge attributes
        ``length`` (m), ``speed_kph`` and ``travel_time`` (s).

    Raises
    ------
    SourceUnavailableError
        If the file does not exist.
    DataError
        If the file is not valid OSM XML or holds no way of this mode.

    Notes
    -----
    ``osmnx.graph_from_xml`` turns *every* way of a file into edges (buildings,
    land use…). So the file is first filtered with the mode's osmnx highway
    filter (:data:`WAY_FILTERS`, evaluated on all tags of each way, as Overpass
    does online) into a temporary file holding only those ways and their nodes;
    no isolated node survives. From it osmnx builds the graph (walk graphs
    bidirectional, as ``graph_from_polygon`` does), keeps the **largest weakly
    connected component** (osmnx' default; for walk graphs it is also strongly
    connected, in bike/drive graphs a few one-way dead ends may be unable to
    reach a facility and then get an infinite travel time) and simplifies it.
    Travel times use :data:`SPEEDS_KMH` for walk/bike and osmnx speeds for
    drive. The graph is projected to EPSG:25832 (metres).
    """
    mode = _check_mode(mode)
    path = Path(path)
    if not path.is_file():
        raise SourceUnavailableError(
            f"OSM-Datei {path} nicht gefunden. Bitte den Pfad prüfen "
            "(erwartet wird eine .osm-, .osm.bz2- oder .osm.gz-Datei)."
        )
    with tempfile.TemporaryDirectory(prefix="integrationsatlas-osm-") as tmp:
        filtered = Path(tmp) / f"{mode}.osm"
        n_ways, n_nodes = _filter_osm_xml(path, filtered, mode)
        if n_ways == 0:
            raise DataError(
                f"Datei {path.name}: keine Wege für den Modus »{mode}« gefunden "
                "(keine passenden highway-Tags). Bitte einen OSM-Auszug mit Straßennetz verwenden."
            )
        logger.info("%s: %d Wege mit %d Knoten für Modus %s", path.name, n_ways, n_nodes, mode)
        graph = ox.graph_from_xml(
            filtered,
            bidirectional=mode in ox.settings.bidirectional_network_types,
            simplify=True,
            retain_all=False,
        )
    return _finish_graph(graph, mode, settings)


def build_graph_from_polygon(polygon_25832: BaseGeometry, mode: Mode, settings: Settings) -> nx.MultiDiGraph:
    """Download the street network of one mode inside a polygon (online).

    Parameters
    ----------
    polygon_25832
        Area (e.g. a Kreis or Gemeinde boundary) as a shapely (Multi)Polygon in
        EPSG:25832.
    mode
        ``"walk"``, ``"bike"`` or ``"drive"``; used as osmnx ``network_type``.
    settings
        Project settings; ``settings.online`` must be true.

    Returns
    -------
    networkx.MultiDiGraph
        As :func:`build_graph_from_xml`.

    Raises
    ------
    SourceUnavailableError
        If online sources are switched off or the Overpass API cannot be
        reached or answers with an error.
    CRSError
        If the polygon does not lie in NRW in EPSG:25832 (e.g. lon/lat).

    Notes
    -----
    osmnx expects lon/lat, so the polygon is converted to EPSG:4326 for the
    query only; the graph is projected back to EPSG:25832. osmnx keeps the
    largest weakly connected component.
    """
    mode = _check_mode(mode)
    if not settings.online:
        raise SourceUnavailableError(
            "Online-Abruf des Straßennetzes ist abgeschaltet (INTEGRATIONSATLAS_OFFLINE). "
            "Bitte eine OSM-Datei angeben (z. B. »--osm datei.osm.bz2«)."
        )
    if not isinstance(polygon_25832, shapely.Polygon | shapely.MultiPolygon) or polygon_25832.is_empty:
        raise DataError("Für den Netzabruf wird eine Fläche (Polygon) benötigt, z. B. eine Gemeindegrenze.")
    minx, miny, maxx, maxy = polygon_25832.bounds
    nx0, ny0, nx1, ny1 = NRW_BOUNDS_25832
    if maxx < nx0 or minx > nx1 or maxy < ny0 or miny > ny1:
        raise CRSError(
            f"Die Fläche (Ausdehnung {minx:.0f}, {miny:.0f} – {maxx:.0f}, {maxy:.0f}) liegt nicht in NRW "
            f"in {PROJECTED_CRS}. Bitte die Grenze vorher mit to_projected() nach {PROJECTED_CRS} umrechnen."
        )
    to_lonlat = Transformer.from_crs(settings.crs, DISPLAY_CRS, always_xy=True)
    polygon_4326 = shapely.transform(polygon_25832, lambda xy: np.column_stack(to_lonlat.transform(*xy.T)))
    try:
        graph = ox.graph_from_polygon(polygon_4326, network_type=mode, simplify=True, retain_all=False)
    except (requests.RequestException, ox._errors.ResponseStatusCodeError) as exc:
        raise SourceUnavailableError(
            f"Straßennetz ({mode}) konnte nicht von der Overpass-API geladen werden: {exc}. "
            "Bitte später erneut versuchen oder eine OSM-Datei verwenden."
        ) from exc
    except ox._errors.InsufficientResponseError as exc:
        raise DataError(
            f"Im gewählten Gebiet wurden keine Wege für den Modus »{mode}« gefunden ({exc})."
        ) from exc
    return _finish_graph(graph, mode, settings)


def cached_graph(
    key: str, mode: Mode, settings: Settings, builder: Callable[[], nx.MultiDiGraph]
) -> nx.MultiDiGraph:
    """Return the graph of ``key`` and ``mode`` from the cache, building it once.

    Parameters
    ----------
    key
        Name of the area, e.g. an AGS (``"05334002"``) or an OSM file name.
    mode
        ``"walk"``, ``"bike"`` or ``"drive"``.
    settings
        The cache lives in ``settings.cache_dir / "networks"``.
    builder
        Called without arguments when the graph is not cached yet, e.g.
        ``lambda: build_graph_from_xml(path, "walk", settings)``.

    Returns
    -------
    networkx.MultiDiGraph
        The cached or freshly built graph.

    Notes
    -----
    Graphs are stored as GraphML (``osmnx.save_graphml``), a plain-text
    format: no pickles. Files are written to a temporary name and renamed, so
    an interrupted run never leaves a half-written cache entry; an unreadable
    entry is rebuilt.
    """
    mode = _check_mode(mode)
    if not key.strip():
        raise DataError("Für den Netz-Cache wird ein Gebietsname benötigt (z. B. die AGS).")
    slug = re.sub(r"[^0-9A-Za-z_.-]+", "_", key.strip()).strip("._") or "gebiet"
    if slug != key:
        slug = f"{slug}-{hashlib.sha1(key.encode('utf-8')).hexdigest()[:8]}"
    path = settings.cache_dir / "networks" / f"{slug}-{mode}.graphml"
    if path.is_file():
        try:
            graph = ox.load_graphml(path)
        except Exception as exc:  # any unreadable cache file is rebuilt, whatever the cause
            logger.warning("Netz-Cache %s unlesbar (%s); wird neu erzeugt", path, exc)
        else:
            logger.info("Netz aus Cache geladen: %s", path)
            return graph
    graph = builder()
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.stem}.{os.getpid()}.partial.graphml")
    ox.save_graphml(graph, partial)
    partial.replace(path)
    logger.info("Netz im Cache gespeichert: %s", path)
    return graph


# --------------------------------------------------------------------------- network


@dataclass(frozen=True, eq=False)
class Network:
    """A street network as a sparse travel-time matrix plus its node table.

    Parameters
    ----------
    matrix
        ``n × n`` CSR matrix; entry ``(u, v)`` is the travel time in seconds
        of the fastest edge from node position ``u`` to ``v`` (the minimum over
        parallel edges). A stored 0 is a zero-length edge.
    node_ids
        OSM node id per node position.
    xy
        ``n × 2`` node coordinates in ``crs`` (metres).
    mode
        The travel mode the times belong to.
    crs
        CRS of ``xy`` (EPSG:25832).

    Notes
    -----
    Node *positions* (0…n-1) index every array of this module; ``node_ids``
    maps them back to OSM ids.
    """

    matrix: sp.csr_array
    node_ids: NDArray[np.int64]
    xy: NDArray[np.float64]
    mode: str
    crs: str = PROJECTED_CRS

    @classmethod
    def from_graph(cls, G: nx.MultiDiGraph, weight: str = "travel_time") -> Network:
        """Build a network from an osmnx graph in EPSG:25832.

        Parameters
        ----------
        G
            Graph from :func:`build_graph_from_xml`, :func:`build_graph_from_polygon`
            or :func:`cached_graph` (or any projected osmnx-style graph with node
            attributes ``x``, ``y`` and the edge attribute ``weight``).
        weight
            Edge attribute holding the travel time in seconds.

        Returns
        -------
        Network

        Raises
        ------
        CRSError
            If the graph is not projected to EPSG:25832.
        ValidationError
            If nodes lack coordinates or edges lack a valid travel time.

        Notes
        -----
        Self-loops are dropped: they never shorten a path.
        """
        crs = G.graph.get("crs")
        if crs is None or CRS.from_user_input(crs) != CRS.from_user_input(PROJECTED_CRS):
            raise CRSError(
                f"Das Straßennetz ist in {crs or 'unbekanntem CRS'}, erwartet wird {PROJECTED_CRS}. "
                "Bitte mit build_graph_from_xml() erzeugen oder mit "
                f"ox.project_graph(G, to_crs='{PROJECTED_CRS}') projizieren."
            )
        if G.number_of_nodes() == 0:
            raise DataError("Das Straßennetz ist leer (keine Knoten). Bitte ein größeres Gebiet wählen.")
        problems: list[Problem] = []
        node_ids = np.fromiter(G.nodes, dtype=np.int64, count=G.number_of_nodes())
        xy = np.array(
            [(data.get("x", np.nan), data.get("y", np.nan)) for _, data in G.nodes(data=True)],
            dtype=np.float64,
        ).reshape(-1, 2)
        for pos in np.flatnonzero(~np.isfinite(xy).all(axis=1))[:20]:
            problems.append(
                Problem(
                    f"Knoten {node_ids[pos]} hat keine Koordinaten (x/y).",
                    "Bitte das Netz neu erzeugen.",
                    column="x/y",
                )
            )
        edges = np.array(
            [(u, v, np.nan if t is None else t) for u, v, t in G.edges(data=weight)], dtype=np.float64
        ).reshape(-1, 3)
        times = edges[:, 2]
        for k in np.flatnonzero(~(np.isfinite(times) & (times >= 0)))[:20]:
            problems.append(
                Problem(
                    f"Kante {int(edges[k, 0])}→{int(edges[k, 1])} hat keine gültige Reisezeit ({times[k]}).",
                    "Bitte das Netz mit build_graph_from_xml() erzeugen (setzt travel_time).",
                    column=weight,
                )
            )
        raise_if_problems(problems, "Das Straßennetz ist unvollständig")
        index = pd.Index(node_ids)
        u = index.get_indexer(pd.Index(edges[:, 0].astype(np.int64)))
        v = index.get_indexer(pd.Index(edges[:, 1].astype(np.int64)))
        keep = u != v
        u, v, times = u[keep], v[keep], times[keep]
        # fastest of parallel edges: sort by (u, v, time), keep the first of each (u, v)
        order = np.lexsort((times, v, u))
        u, v, times = u[order], v[order], times[order]
        first = np.ones(u.size, dtype=bool)
        first[1:] = (u[1:] != u[:-1]) | (v[1:] != v[:-1])
        n = node_ids.size
        matrix = sp.csr_array((times[first], (u[first], v[first])), shape=(n, n))
        mode = str(G.graph.get("mode", "unbekannt"))
        return cls(matrix=matrix, node_ids=node_ids, xy=xy, mode=mode, crs=PROJECTED_CRS)

    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return int(self.node_ids.size)

    @cached_property
    def reverse(self) -> sp.csr_array:
        """The transposed matrix: searches on it give times *to* the sources."""
        return sp.csr_array(self.matrix.T)

    @cached_property
    def tree(self) -> cKDTree:
        """KD-tree on the node coordinates, for snapping."""
        return cKDTree(self.xy)


@dataclass(frozen=True, eq=False)
class SnapResult:
    """Nearest network node of each point.

    Parameters
    ----------
    node
        Node position (into :attr:`Network.node_ids`) per point.
    distance_m
        Straight-line distance from the point to that node in metres.
    reachable
        ``distance_m <= max_snap_m``: only these points are connected to the
        network; the others are unreachable, never silently covered.
    max_snap_m
        The snap limit used.
    """

    node: NDArray[np.intp]
    distance_m: NDArray[np.float64]
    reachable: NDArray[np.bool_]
    max_snap_m: float

    @property
    def n_unreachable(self) -> int:
        """Number of points farther than ``max_snap_m`` from every node."""
        return int((~self.reachable).sum())


def snap(net: Network, points: gpd.GeoDataFrame, max_snap_m: float) -> SnapResult:
    """Snap points to their nearest network node.

    Parameters
    ----------
    net
        The network.
    points
        Point GeoDataFrame in EPSG:25832 (demand points or facilities).
    max_snap_m
        Points farther than this from every node are marked unreachable.

    Returns
    -------
    SnapResult
        Arrays in the row order of ``points``.

    Raises
    ------
    CRSError
        If ``points`` is not in EPSG:25832.
    ValidationError
        If geometries are missing, empty or not points (all rows reported).

    Notes
    -----
    Distances are straight lines in metres (EPSG:25832) to the nearest node,
    found with a KD-tree; the walk from the point to that node is not added to
    travel times, it is reported as ``distance_m`` instead.
    """
    xy = point_xy(points, "Punkte")
    if not (np.isfinite(max_snap_m) and max_snap_m >= 0):
        raise DataError(f"Maximale Anbindungsdistanz muss ≥ 0 Meter sein, nicht {max_snap_m!r}.")
    if xy.shape[0] == 0:
        return SnapResult(np.empty(0, np.intp), np.empty(0), np.empty(0, bool), float(max_snap_m))
    distance, node = net.tree.query(xy)
    reachable = distance <= max_snap_m
    if not reachable.all():
        logger.info(
            "%d von %d Punkten liegen weiter als %.0f m vom Netz entfernt (nicht erreichbar)",
            int((~reachable).sum()),
            reachable.size,
            max_snap_m,
        )
    return SnapResult(node.astype(np.intp), distance.astype(np.float64), reachable, float(max_snap_m))


def nearest_facility_time(net: Network, facility_nodes: ArrayLike) -> NDArray[np.float64]:
    """Travel time from every node to its nearest facility, in one search.

    Parameters
    ----------
    net
        The network.
    facility_nodes
        Node positions of the facilities (duplicates allowed).

    Returns
    -------
    numpy.ndarray
        Seconds per node position; ``inf`` where no facility can be reached
        (and everywhere when there is no facility).

    Notes
    -----
    One multi-source Dijkstra run (``scipy.sparse.csgraph.dijkstra`` with all
    facility nodes as sources and ``min_only=True``) on the *reversed* matrix:
    the distance from the facility set in the reversed graph is the time from
    each node *to* its nearest facility in the real one. Times in seconds.

    Examples
    --------
    A one-way street 0 → 1 → 2 (60 s per edge) with a facility at node 1:

    >>> import numpy as np, scipy.sparse as sp
    >>> m = sp.csr_array((np.array([60.0, 60.0]), (np.array([0, 1]), np.array([1, 2]))), shape=(3, 3))
    >>> net = Network(m, np.arange(3), np.zeros((3, 2)), "drive")
    >>> nearest_facility_time(net, [1])
    array([60.,  0., inf])
    """
    nodes = _node_positions(net, facility_nodes, "Einrichtungen")
    if nodes.size == 0:
        return np.full(net.n_nodes, np.inf)
    return cast(
        NDArray[np.float64],
        dijkstra(net.reverse, directed=True, indices=nodes, min_only=True, return_predecessors=False),
    )


def travel_time_to_nearest(
    net: Network, demand: gpd.GeoDataFrame, facilities: gpd.GeoDataFrame, max_snap_m: float = 500.0
) -> pd.DataFrame:
    """Travel time from every demand point to its nearest facility.

    Parameters
    ----------
    net
        The network.
    demand
        Demand points in EPSG:25832.
    facilities
        Facility points in EPSG:25832.
    max_snap_m
        Demand points and facilities farther than this from the network are
        not connected (see :func:`snap`).

    Returns
    -------
    pandas.DataFrame
        Indexed like ``demand`` with columns ``minutes`` (travel time in
        minutes; ``NaN`` when the point is too far from the network, ``inf``
        when it is connected but no facility can be reached), ``snap_m``
        (distance to the nearest node in metres), ``reachable`` (connected
        *and* some facility reachable) and ``node`` (node position).

    Notes
    -----
    Times are network times between the snapped nodes, from the demand point
    to the facility (one multi-source run, see :func:`nearest_facility_time`);
    facilities beyond ``max_snap_m`` are left out and logged. Coordinates in
    EPSG:25832, distances in metres.
    """
    demand_snap = snap(net, demand, max_snap_m)
    facility_snap = snap(net, facilities, max_snap_m)
    if facility_snap.n_unreachable:
        logger.warning(
            "%d Einrichtung(en) liegen weiter als %.0f m vom Straßennetz entfernt und werden ignoriert",
            facility_snap.n_unreachable,
            max_snap_m,
        )
    node_time = nearest_facility_time(net, facility_snap.node[facility_snap.reachable])
    seconds = np.where(demand_snap.reachable, node_time[demand_snap.node], np.nan)
    return pd.DataFrame(
        {
            "minutes": seconds / 60.0,
            "snap_m": demand_snap.distance_m,
            "reachable": demand_snap.reachable & np.isfinite(seconds),
            "node": demand_snap.node,
        },
        index=demand.index,
    )


def travel_time_matrix(
    net: Network, origins_nodes: ArrayLike, dest_nodes: ArrayLike, cutoff_s: float
) -> sp.csr_array:
    """Sparse origin × destination travel times within a cut-off.

    Parameters
    ----------
    net
        The network.
    origins_nodes
        Node position per origin (e.g. snapped demand points), duplicates allowed.
    dest_nodes
        Node position per destination (e.g. snapped facilities).
    cutoff_s
        Longest travel time kept, in seconds (inclusive).

    Returns
    -------
    scipy.sparse.csr_array
        ``n_origins × n_dest``; a stored entry is the travel time in seconds
        from the origin to the destination, ``<= cutoff_s``. Pairs beyond the
        cut-off are not stored; an origin on a destination's node has an
        explicitly stored 0. Ready for :func:`planning.accessibility.two_step_fca`.

    Notes
    -----
    The searches start from the side with fewer distinct nodes (usually the
    destinations, on the reversed matrix) and stop at ``cutoff_s``
    (``dijkstra(limit=...)``); they run in blocks so that at most about ten
    million distances are held at once. Times in seconds.
    """
    origins = _node_positions(net, origins_nodes, "Startpunkte", unique=False)
    dests = _node_positions(net, dest_nodes, "Ziele", unique=False)
    if not (cutoff_s >= 0):
        raise DataError(f"Zeitgrenze muss ≥ 0 Sekunden sein, nicht {cutoff_s!r}.")
    from_dest = np.unique(dests).size <= np.unique(origins).size
    sources, targets = (dests, origins) if from_dest else (origins, dests)
    graph = net.reverse if from_dest else net.matrix
    distinct, inverse = np.unique(sources, return_inverse=True)
    # positions in ``sources`` grouped by distinct node, to expand duplicates
    order = np.argsort(inverse, kind="stable")
    counts = np.bincount(inverse, minlength=distinct.size)
    offsets = np.concatenate([[0], np.cumsum(counts)])
    rows: list[NDArray[np.intp]] = []
    cols: list[NDArray[np.intp]] = []
    vals: list[NDArray[np.float64]] = []
    width = max(net.n_nodes, targets.size)
    for start, dist in _blocked_dijkstra(graph, distinct, cutoff_s, width):
        sub = dist[:, targets]
        r, c = np.nonzero(sub <= cutoff_s)
        k = start + r
        n_copies = counts[k]
        rep = np.repeat(np.arange(k.size), n_copies)
        within = np.arange(rep.size) - np.repeat(np.cumsum(n_copies) - n_copies, n_copies)
        rows.append(order[offsets[k][rep] + within])
        cols.append(c[rep])
        vals.append(sub[r, c][rep])
    src = np.concatenate(rows) if rows else np.empty(0, np.intp)
    tgt = np.concatenate(cols) if cols else np.empty(0, np.intp)
    data = np.concatenate(vals) if vals else np.empty(0)
    o, d = (tgt, src) if from_dest else (src, tgt)
    return sp.csr_array(sp.coo_array((data, (o, d)), shape=(origins.size, dests.size)))


def isochrones(
    net: Network,
    facilities: gpd.GeoDataFrame,
    minutes: Sequence[float] = (5, 10, 15, 30),
    max_snap_m: float = 500.0,
    *,
    hull_ratio: float = 0.3,
    buffer_m: float = 25.0,
) -> gpd.GeoDataFrame:
    """Isochrone polygons: the area from which a facility is reached in time.

    Parameters
    ----------
    net
        The network.
    facilities
        Facility points in EPSG:25832; their index becomes ``facility_id``.
    minutes
        Travel-time limits in minutes.
    max_snap_m
        Facilities farther than this from the network get empty polygons.
    hull_ratio
        ``ratio`` of :func:`shapely.concave_hull` (0 = tightest, 1 = convex
        hull). 0.3 follows street-shaped areas without cutting holes between
        blocks.
    buffer_m
        The hull is buffered by this many metres (about half a street block
        front), so that nodes on its edge and short spur streets lie inside,
        and single reachable nodes still give a polygon.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per facility and limit, ordered by facility then minutes, with
        columns ``facility_id``, ``minutes`` and a polygon ``geometry`` in
        EPSG:25832 (empty for facilities not connected to the network).

    Notes
    -----
    The reachable nodes of every facility come from Dijkstra runs on the
    reversed matrix (times *to* the facility, as everywhere in this module),
    all facilities in one call per block, limited to the largest time; hulls
    are built for all facilities and limits at once with vectorised shapely.
    Coordinates in EPSG:25832, metres.
    """
    limits = np.asarray(sorted({float(m) for m in minutes}), dtype=np.float64)
    if limits.size == 0 or not (np.isfinite(limits).all() and (limits > 0).all()):
        raise DataError(f"Zeitgrenzen müssen positive Minutenwerte sein, nicht {list(minutes)!r}.")
    snapped = snap(net, facilities, max_snap_m)
    unique_nodes, inverse = np.unique(snapped.node[snapped.reachable], return_inverse=True)
    n_limits = limits.size
    groups: list[NDArray[np.intp]] = []
    members: list[NDArray[np.intp]] = []
    for start, dist in _blocked_dijkstra(net.reverse, unique_nodes, limits[-1] * 60.0, net.n_nodes):
        for k, limit in enumerate(limits):
            r, c = np.nonzero(dist <= limit * 60.0)
            groups.append((start + r) * n_limits + k)
            members.append(c)
    hulls = np.empty(unique_nodes.size * n_limits, dtype=object)
    if groups:
        group = np.concatenate(groups)
        order = np.argsort(group, kind="stable")
        points = shapely.multipoints(net.xy[np.concatenate(members)[order]], indices=group[order])
        hulls = shapely.buffer(shapely.concave_hull(points, ratio=hull_ratio), buffer_m)
    geometry = np.full(len(facilities) * n_limits, shapely.Polygon(), dtype=object)
    rows = np.flatnonzero(snapped.reachable)
    target = (rows[:, None] * n_limits + np.arange(n_limits)).ravel()
    source = (inverse[:, None] * n_limits + np.arange(n_limits)).ravel()
    geometry[target] = hulls[source]
    return gpd.GeoDataFrame(
        {
            "facility_id": np.repeat(facilities.index.to_numpy(), n_limits),
            "minutes": np.tile(limits, len(facilities)),
        },
        geometry=gpd.GeoSeries(geometry, crs=net.crs),
        crs=net.crs,
    )


# --------------------------------------------------------------------------- internals


def _check_mode(mode: str) -> Mode:
    if mode not in MODES:
        raise DataError(
            f"Unbekannter Verkehrsmodus »{mode}«. Erlaubt sind: {', '.join(MODES)} (zu Fuß, Fahrrad, Auto)."
        )
    return cast(Mode, mode)


def _finish_graph(graph: nx.MultiDiGraph, mode: Mode, settings: Settings) -> nx.MultiDiGraph:
    """Add speeds and travel times for ``mode`` and project to ``settings.crs``."""
    if mode == "drive":
        graph = ox.add_edge_speeds(graph, fallback=DRIVE_FALLBACK_KMH)
    else:
        nx.set_edge_attributes(graph, SPEEDS_KMH[mode], "speed_kph")
    graph = ox.add_edge_travel_times(graph)
    graph = ox.project_graph(graph, to_crs=settings.crs)
    graph.graph["mode"] = mode
    logger.info("Netz %s: %d Knoten, %d Kanten", mode, graph.number_of_nodes(), graph.number_of_edges())
    return graph


def _way_predicate(mode: Mode) -> Callable[[dict[str, str]], bool]:
    """Compile the Overpass filter of ``mode`` into a predicate on a way's tags.

    Overpass semantics: ``["k"]`` needs the key, ``["k"~"re"]`` needs a value
    matching ``re`` somewhere, ``["k"!~"re"]`` holds when the key is absent or
    its value does not match.
    """
    terms = [
        (m["key"], m["op"], re.compile(m["value"]) if m["op"] else None)
        for m in _FILTER_TERM.finditer(WAY_FILTERS[mode])
    ]

    def accept(tags: dict[str, str]) -> bool:
        for key, op, rx in terms:
            value = tags.get(key)
            if op is None:
                if value is None:
                    return False
            elif op == "~":
                if value is None or rx is None or not rx.search(value):
                    return False
            elif value is not None and rx is not None and rx.search(value):
                return False
        return True

    return accept


@contextmanager
def _open_binary(path: Path) -> Iterator[IO[bytes]]:
    if path.suffix == ".bz2":
        with bz2.open(path, "rb") as fh:
            yield fh
    elif path.suffix == ".gz":
        with gzip.open(path, "rb") as fh:
            yield cast(IO[bytes], fh)
    else:
        with path.open("rb") as fh:
            yield fh


def _filter_osm_xml(src: Path, dst: Path, mode: Mode) -> tuple[int, int]:
    """Write the ways of ``mode`` (and only their nodes) from ``src`` to ``dst``.

    Returns the number of ways and nodes written. Node references missing from
    the extract (ways clipped at its border) are trimmed from the way's ends;
    a way with a gap inside keeps its longest complete stretch.
    """
    accept = _way_predicate(mode)
    nodes: dict[int, tuple[str, str, list[tuple[str, str]]]] = {}
    ways: list[tuple[str, list[int], list[tuple[str, str]]]] = []
    clipped = 0
    try:
        with _open_binary(src) as fh:
            for _, elem in ET.iterparse(fh, events=("end",)):
                if elem.tag == "node":
                    tags = [(t.get("k", ""), t.get("v", "")) for t in elem.iter("tag")]
                    nodes[int(elem.get("id", "0"))] = (elem.get("lat", ""), elem.get("lon", ""), tags)
                    elem.clear()
                elif elem.tag == "way":
                    tags = [(t.get("k", ""), t.get("v", "")) for t in elem.iter("tag")]
                    if accept(dict(tags)):
                        refs = [int(nd.get("ref", "0")) for nd in elem.iter("nd")]
                        kept = _longest_present_run(refs, nodes)
                        clipped += len(kept) != len(refs)
                        if len(kept) >= 2:
                            ways.append((elem.get("id", "0"), kept, tags))
                    elem.clear()
                elif elem.tag == "relation":
                    elem.clear()
    except ET.ParseError as exc:
        line, column = exc.position
        raise DataError(
            f"Datei {src.name}, Zeile {line}, Spalte {column}: keine gültige OSM-XML-Datei ({exc}). "
            "Bitte einen unveränderten OSM-Auszug (.osm / .osm.bz2) verwenden."
        ) from exc
    except (OSError, EOFError) as exc:
        raise DataError(f"Datei {src.name} kann nicht gelesen werden: {exc}.") from exc
    if clipped:
        logger.info("%s: %d Wege am Rand des Auszugs gekürzt", src.name, clipped)
    used = sorted({ref for _, refs, _ in ways for ref in refs})
    with dst.open("w", encoding="utf-8") as out:
        out.write("<?xml version='1.0' encoding='UTF-8'?>\n")
        out.write(f'<osm version="0.6" generator={quoteattr("Integrationsatlas NRW: " + src.name)}>\n')
        for ref in used:
            lat, lon, tags = nodes[ref]
            out.write(f'  <node id="{ref}" lat={quoteattr(lat)} lon={quoteattr(lon)}')
            if tags:
                out.write(">\n")
                out.writelines(f"    <tag k={quoteattr(k)} v={quoteattr(v)}/>\n" for k, v in tags)
                out.write("  </node>\n")
            else:
                out.write("/>\n")
        for way_id, refs, tags in ways:
            out.write(f"  <way id={quoteattr(way_id)}>\n")
            out.writelines(f'    <nd ref="{ref}"/>\n' for ref in refs)
            out.writelines(f"    <tag k={quoteattr(k)} v={quoteattr(v)}/>\n" for k, v in tags)
            out.write("  </way>\n")
        out.write("</osm>\n")
    return len(ways), len(used)


def _longest_present_run(refs: list[int], nodes: Container[int]) -> list[int]:
    """The longest stretch of consecutive node references present in ``nodes``."""
    best: list[int] = []
    run: list[int] = []
    for ref in refs:
        if ref in nodes:
            run.append(ref)
            if len(run) > len(best):
                best = run
        else:
            run = []
    return best


def _node_positions(net: Network, nodes: ArrayLike, what: str, *, unique: bool = True) -> NDArray[np.intp]:
    arr = np.asarray(nodes)
    if arr.size == 0:
        return np.empty(0, np.intp)
    if arr.ndim != 1 or not np.issubdtype(arr.dtype, np.integer):
        raise DataError(f"{what}: erwartet werden Knotenpositionen (ganze Zahlen), nicht {arr.dtype}.")
    bad = (arr < 0) | (arr >= net.n_nodes)
    if bad.any():
        raise DataError(
            f"{what}: {int(bad.sum())} Knotenposition(en) liegen außerhalb des Netzes (0…{net.n_nodes - 1}). "
            "Bitte die Punkte mit snap() an dieses Netz anbinden."
        )
    arr = arr.astype(np.intp)
    return np.unique(arr) if unique else arr


def _blocked_dijkstra(
    graph: sp.csr_array, distinct: NDArray[np.intp], limit: float, width: int
) -> Iterator[tuple[int, NDArray[np.float64]]]:
    """Dijkstra from the distinct source nodes ``distinct`` in blocks.

    Yields ``(start, dist)`` where row ``r`` of ``dist`` holds the distances
    (up to ``limit``, ``inf`` beyond) from ``distinct[start + r]`` to every
    node. A block has at most about ``_BLOCK_CELLS / width`` rows, ``width``
    being the widest array the caller derives from it.
    """
    step = max(1, _BLOCK_CELLS // max(width, 1))
    for start in range(0, distinct.size, step):
        block = distinct[start : start + step]
        dist = dijkstra(graph, directed=True, indices=block, limit=limit, return_predecessors=False)
        yield start, np.atleast_2d(dist)
