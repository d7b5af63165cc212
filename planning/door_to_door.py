"""Door-to-door travel time: one definition for every mode.

A trip from a demand point (a 100 m cell, a place) to a facility has three
legs, whatever the mode:

1. **access**: the straight line from the door to the nearest network node,
   at the mode's connector speed (:attr:`geo.modes.TravelMode.access_kmh`);
2. the **network** leg between the two nodes (:mod:`planning.network`, on the
   network with the mode's own speed);
3. **egress**: from the facility's nearest node to the facility's door, as
   in 1.

A door farther than ``max_snap_m`` from every node is not connected: it
reaches nothing (``inf``). Public transport uses the same legs for its walks
and is the minimum of walking alone and walk + ride + walk, per origin and
departure minute (:func:`transit_nearest`, :func:`transit_matrix`), so it is
never slower than walking.

Everything is in EPSG:25832 (metres) and seconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray
from scipy.sparse.csgraph import dijkstra

from geo.errors import DataError
from geo.network import Network
from planning import network as graph

if TYPE_CHECKING:
    from geo.sources.gtfs import Timetable
    from planning.transit import TransitSettings

__all__ = [
    "Doors",
    "connect",
    "nearest_time",
    "sparse_minimum",
    "time_matrix",
    "transit_matrix",
    "transit_nearest",
]


@dataclass(frozen=True, eq=False)
class Doors:
    """Where points join the network and how long their connector takes.

    Parameters
    ----------
    node
        Nearest node position per point.
    seconds
        Connector time (straight line at the connector speed); ``inf`` for a
        point farther than the snap limit (not connected).
    """

    node: NDArray[np.intp]
    seconds: NDArray[np.float64]

    @property
    def connected(self) -> NDArray[np.bool_]:
        """Points within the snap limit of the network."""
        return np.isfinite(self.seconds)


def connect(net: Network, xy: NDArray[np.float64], *, max_snap_m: float, access_ms: float) -> Doors:
    """Connect points to their nearest node.

    Parameters
    ----------
    net
        The network (EPSG:25832).
    xy
        ``n × 2`` coordinates in EPSG:25832.
    max_snap_m
        Farther points are not connected.
    access_ms
        Connector speed in m/s.

    Returns
    -------
    Doors

    Examples
    --------
    >>> m = sp.csr_array((2, 2))
    >>> net = Network(m, np.arange(2), np.array([[0.0, 0.0], [100.0, 0.0]]), "walk")
    >>> d = connect(net, np.array([[0.0, 30.0], [100.0, 900.0]]), max_snap_m=500, access_ms=1.5)
    >>> d.node.tolist(), d.seconds.tolist()
    ([0, 1], [20.0, inf])
    """
    if not (np.isfinite(max_snap_m) and max_snap_m >= 0 and access_ms > 0):
        raise DataError(f"Anbindung: Grenze {max_snap_m!r} m muss ≥ 0 und die Geschwindigkeit > 0 sein.")
    xy = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
    if len(xy) == 0 or net.n_nodes == 0:
        return Doors(np.zeros(len(xy), np.intp), np.full(len(xy), np.inf))
    dist, node = net.tree.query(xy)
    seconds = np.where(dist <= max_snap_m, dist / access_ms, np.inf)
    return Doors(np.asarray(node, dtype=np.intp), seconds.astype(np.float64))


def nearest_time(
    net: Network,
    origins_xy: NDArray[np.float64],
    dest_xy: NDArray[np.float64],
    *,
    max_snap_m: float,
    access_ms: float,
) -> NDArray[np.float64]:
    """Door-to-door seconds from every origin to its nearest destination, in one search.

    Parameters
    ----------
    net
        Network with the mode's travel times (seconds).
    origins_xy, dest_xy
        Points in EPSG:25832.
    max_snap_m, access_ms
        As in :func:`connect`.

    Returns
    -------
    numpy.ndarray
        Seconds per origin: access + network + egress of the best
        destination; ``inf`` when none is reachable.

    Notes
    -----
    One Dijkstra run on the reversed network from a virtual node linked to
    every connected destination's node with its egress time: its distance to
    a node is the best ``network + egress`` from that node.

    Examples
    --------
    A street 0 – 1 of 100 s; a facility 15 m beside node 1, a home 30 m beside node 0 (1.5 m/s):

    >>> m = sp.csr_array((np.array([100.0, 100.0]), (np.array([0, 1]), np.array([1, 0]))), shape=(2, 2))
    >>> net = Network(m, np.arange(2), np.array([[0.0, 0.0], [150.0, 0.0]]), "walk")
    >>> nearest_time(net, np.array([[0.0, 30.0]]), np.array([[150.0, 15.0]]), max_snap_m=500, access_ms=1.5)
    array([130.])
    """
    origins = connect(net, origins_xy, max_snap_m=max_snap_m, access_ms=access_ms)
    dests = connect(net, dest_xy, max_snap_m=max_snap_m, access_ms=access_ms)
    ok = dests.connected
    if not ok.any() or len(origins.node) == 0:
        return np.full(len(origins.node), np.inf)
    n = net.n_nodes
    rev = net.reverse.tocoo()
    rows = np.concatenate([rev.row, np.full(int(ok.sum()), n)])
    cols = np.concatenate([rev.col, dests.node[ok]])
    data = np.concatenate([rev.data, dests.seconds[ok]])
    aug = _csr_min(data, rows, cols, (n + 1, n + 1))
    dist = dijkstra(aug, directed=True, indices=n, return_predecessors=False)
    return np.asarray(dist[origins.node] + origins.seconds, dtype=np.float64)


def time_matrix(
    net: Network,
    origins_xy: NDArray[np.float64],
    dest_xy: NDArray[np.float64],
    cutoff_s: float,
    *,
    max_snap_m: float,
    access_ms: float,
) -> sp.csr_array:
    """Sparse origin × destination door-to-door seconds within ``cutoff_s``.

    Returns
    -------
    scipy.sparse.csr_array
        ``n_origins × n_dest``; only pairs with access + network + egress
        ``<= cutoff_s`` are stored (explicit zeros kept).

    Notes
    -----
    The network leg comes from :func:`planning.network.travel_time_matrix`
    with the cut-off; the connector times are added per pair.

    Examples
    --------
    >>> m = sp.csr_array((np.array([100.0, 100.0]), (np.array([0, 1]), np.array([1, 0]))), shape=(2, 2))
    >>> net = Network(m, np.arange(2), np.array([[0.0, 0.0], [150.0, 0.0]]), "walk")
    >>> time_matrix(net, np.array([[0.0, 30.0]]), np.array([[150.0, 15.0]]), 200, max_snap_m=500,
    ...             access_ms=1.5).toarray()
    array([[130.]])
    """
    if not cutoff_s >= 0:
        raise DataError(f"Die Zeitgrenze muss ≥ 0 s sein, nicht {cutoff_s!r}.")
    origins = connect(net, origins_xy, max_snap_m=max_snap_m, access_ms=access_ms)
    dests = connect(net, dest_xy, max_snap_m=max_snap_m, access_ms=access_ms)
    shape = (len(origins.node), len(dests.node))
    rows_ok = np.flatnonzero(origins.connected & (origins.seconds <= cutoff_s))
    cols_ok = np.flatnonzero(dests.connected & (dests.seconds <= cutoff_s))
    if rows_ok.size == 0 or cols_ok.size == 0:
        return sp.csr_array(shape)
    leg = sp.coo_array(graph.travel_time_matrix(net, origins.node[rows_ok], dests.node[cols_ok], cutoff_s))
    r, c = rows_ok[leg.row], cols_ok[leg.col]
    total = leg.data + origins.seconds[r] + dests.seconds[c]
    keep = total <= cutoff_s
    return _csr_min(total[keep], r[keep], c[keep], shape)


def sparse_minimum(a: sp.sparray, b: sp.sparray) -> sp.csr_array:
    """Element-wise minimum of two sparse time matrices in which a missing entry means ``inf``.

    (``scipy``'s ``minimum`` treats missing entries as 0.)

    >>> a = sp.csr_array(np.array([[5.0, 0.0], [0.0, 2.0]]))
    >>> b = sp.csr_array(np.array([[3.0, 4.0], [0.0, 0.0]]))
    >>> sparse_minimum(a, b).toarray()
    array([[3., 4.],
           [0., 2.]])
    """
    if a.shape != b.shape:
        raise DataError(f"Matrizen verschiedener Größe: {a.shape} und {b.shape}.")
    ca, cb = sp.coo_array(a), sp.coo_array(b)
    return _csr_min(
        np.concatenate([ca.data, cb.data]),
        np.concatenate([ca.row, cb.row]),
        np.concatenate([ca.col, cb.col]),
        a.shape,
    )


def transit_nearest(
    tt: Timetable,
    net: Network,
    origins_xy: NDArray[np.float64],
    dest_xy: NDArray[np.float64],
    settings: TransitSettings,
    walk_s: NDArray[np.float64],
) -> NDArray[np.float64]:
    """Seconds per origin and departure minute to the nearest destination by walk + public transport.

    Parameters
    ----------
    tt
        Timetable of the day and window of ``settings``.
    net
        The walk network.
    origins_xy, dest_xy
        Points in EPSG:25832.
    settings
        Day, window and limits; its walking speed and snap limit must be the
        walking mode's connector speed and the project's snap limit, so that
        its walks are the door-to-door walks of :func:`nearest_time`.
    walk_s
        Door-to-door walking seconds per origin (:func:`nearest_time`).

    Returns
    -------
    numpy.ndarray
        ``n_origins × n_minutes``: per departure minute the minimum of
        walking alone and the best walk + ride + walk journey; never above
        ``walk_s``.
    """
    from planning.transit import transit_time_to_nearest

    result = transit_time_to_nearest(tt, _points(origins_xy, net.crs), _points(dest_xy, net.crs), settings, network=net)
    return np.minimum(result.by_minute, np.asarray(walk_s, dtype=np.float64)[:, None])


def transit_matrix(
    tt: Timetable,
    net: Network,
    origins_xy: NDArray[np.float64],
    dest_xy: NDArray[np.float64],
    settings: TransitSettings,
    cutoff_s: float,
    walk: sp.csr_array,
) -> sp.csr_array:
    """Sparse origin × destination median seconds by walk + public transport within ``cutoff_s``.

    ``walk`` is the door-to-door walking matrix within the same cut-off
    (:func:`time_matrix`); every pair is at most its walking time.
    """
    from planning.transit import transit_time_matrix

    origins, dests = _points(origins_xy, net.crs), _points(dest_xy, net.crs)
    ride = transit_time_matrix(tt, origins, dests, settings, cutoff_s, network=net).matrix
    return sparse_minimum(ride, walk)


def _points(xy: NDArray[np.float64], crs: str) -> gpd.GeoSeries:
    return gpd.GeoSeries(gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs=crs)


def _csr_min(
    vals: NDArray[np.float64], rows: NDArray[np.intp], cols: NDArray[np.intp], shape: tuple[int, int]
) -> sp.csr_array:
    """CSR with explicit zeros kept and duplicate entries resolved by their minimum."""
    rows = np.asarray(rows, dtype=np.int64)
    cols = np.asarray(cols, dtype=np.int64)
    vals = np.asarray(vals, dtype=np.float64)
    order = np.lexsort((vals, cols, rows))
    rows, cols, vals = rows[order], cols[order], vals[order]
    first = np.ones(rows.size, dtype=bool)
    first[1:] = (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])
    rows, cols, vals = rows[first], cols[first], vals[first]
    indptr = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=shape[0]))]).astype(np.int64)
    return sp.csr_array((vals, cols, indptr), shape=shape)
