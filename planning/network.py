"""Graph algorithms on street networks: snapping, nearest-facility times, matrices, isochrones.

The network itself (:class:`geo.network.Network`: the graph's sparse
travel-time matrix plus the node table in EPSG:25832) is built and cached by
the one loader :func:`geo.sources.streets.load_network`. All queries here run
on that matrix, with :mod:`scipy.sparse.csgraph` for the one search over the
whole network and the bounded kernels of :mod:`planning.shortest_paths` for
everything that runs one search per source:

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

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely
from numpy.typing import ArrayLike, NDArray
from scipy.sparse.csgraph import dijkstra

from geo.errors import DataError
from geo.network import Network
from planning.coverage import point_xy
from planning.shortest_paths import distinct_nodes, expand_pairs, reach

__all__ = [
    "Network",
    "SnapResult",
    "isochrones",
    "nearest_facility_time",
    "snap",
    "travel_time_matrix",
    "travel_time_to_nearest",
]

logger = logging.getLogger(__name__)


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


def travel_time_matrix(net: Network, origins_nodes: ArrayLike, dest_nodes: ArrayLike, cutoff_s: float) -> sp.csr_array:
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
    destinations, on the reversed matrix), one bounded search per distinct
    node (:func:`planning.shortest_paths.reach`): each stops at ``cutoff_s``
    and costs what it reaches, not the size of the network. Times in seconds,
    bit-identical to ``scipy.sparse.csgraph.dijkstra(limit=cutoff_s)``.
    """
    origins = _node_positions(net, origins_nodes, "Startpunkte", unique=False)
    dests = _node_positions(net, dest_nodes, "Ziele", unique=False)
    if not (cutoff_s >= 0):
        raise DataError(f"Zeitgrenze muss ≥ 0 Sekunden sein, nicht {cutoff_s!r}.")
    n = net.n_nodes
    d_distinct, d_inverse = distinct_nodes(dests, n)
    o_distinct, o_inverse = distinct_nodes(origins, n)
    from_dest = d_distinct.size <= o_distinct.size
    targets = origins if from_dest else dests
    graph = net.reverse if from_dest else net.matrix
    distinct, inverse = (d_distinct, d_inverse) if from_dest else (o_distinct, o_inverse)
    wanted = np.zeros(n, dtype=bool)
    wanted[targets] = True
    found = reach(graph, distinct, float(cutoff_s), wanted)
    entry, src, tgt = expand_pairs(found, inverse, targets, net.n_nodes)
    o, d = (tgt, src) if from_dest else (src, tgt)
    return sp.csr_array(sp.coo_array((found.time[entry], (o, d)), shape=(origins.size, dests.size)))


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
    The reachable nodes of every facility come from one bounded Dijkstra
    search per facility node on the reversed matrix (times *to* the
    facility, as everywhere in this module), limited to the largest time
    (:func:`planning.shortest_paths.reach`); hulls are built for all
    facilities and limits at once with vectorised shapely.
    Coordinates in EPSG:25832, metres.
    """
    limits = np.asarray(sorted({float(m) for m in minutes}), dtype=np.float64)
    if limits.size == 0 or not (np.isfinite(limits).all() and (limits > 0).all()):
        raise DataError(f"Zeitgrenzen müssen positive Minutenwerte sein, nicht {list(minutes)!r}.")
    snapped = snap(net, facilities, max_snap_m)
    unique_nodes, inverse = np.unique(snapped.node[snapped.reachable], return_inverse=True)
    n_limits = limits.size
    found = reach(net.reverse, unique_nodes, float(limits[-1] * 60.0))
    searched = found.source
    groups: list[NDArray[np.intp]] = []
    members: list[NDArray[np.intp]] = []
    for k, limit in enumerate(limits):
        within = found.time <= limit * 60.0
        groups.append(searched[within] * n_limits + k)
        members.append(found.node[within].astype(np.intp))
    hulls = np.empty(unique_nodes.size * n_limits, dtype=object)
    if groups:
        group = np.concatenate(groups)
        order = np.lexsort((np.concatenate(members), group))  # by area, nodes ascending within
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
