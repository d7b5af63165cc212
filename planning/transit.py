"""Travel time by public transport (walk + bus/train) to the nearest facility.

The question a planner asks: »How long does a family from this 100 m cell
need by bus and train, including the walks, to the nearest Integrationskurs?«
R5 and r5py answer it as the **median over every departure minute** of a
window (e.g. Tuesday 07:00–09:00), never worse than walking the whole way.
This module does the same on a :class:`geo.sources.gtfs.Timetable`:

1. :func:`walk_links` computes the walks: origin → stop (access),
   stop → stop (transfers) and stop → facility (egress), all within the
   maximal walking times, with multi-source Dijkstra searches on the walk
   network (:class:`geo.network.Network`), and the walking-only times;
2. :func:`transit_time_to_nearest` runs **one** profile search backwards
   from the facility set over the whole window (every stop gets the step
   function »ready at this stop at time τ → earliest arrival at a facility«,
   with at most ``max_transfers + 1`` rides), then evaluates every origin and
   departure minute on those profiles;
3. :func:`transit_time_matrix` does this per facility for a sparse
   origin × facility matrix of median times within a cut-off (2SFCA, siting).

:func:`nearest_by_raptor` is the straightforward reference: one RAPTOR run
(Delling, Pajor & Werneck 2012, :func:`planning.raptor.raptor`) per origin
and minute. It gives the same times and is the baseline of the benchmark.

Without a network, walks are straight lines times :data:`DETOUR_FACTOR` at
walking speed (a documented fallback, not the default).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
from numpy.typing import NDArray
from scipy.spatial import cKDTree

from geo.errors import DataError
from geo.modes import MODES, next_tuesday
from geo.network import Network
from geo.sources.gtfs import Timetable
from planning.coverage import point_xy
from planning.raptor import evaluate_profiles, profile_scan, raptor
from planning.shortest_paths import expand_pairs, nearest, reach

__all__ = [
    "DETOUR_FACTOR",
    "Connections",
    "TransitMatrix",
    "TransitResult",
    "TransitSettings",
    "WalkLinks",
    "connections",
    "nearest_by_raptor",
    "transit_time_matrix",
    "transit_time_to_nearest",
    "walk_links",
]

logger = logging.getLogger(__name__)

#: Straight-line detour factor of the no-network fallback: a walk is taken to
#: be 1.3 times the straight line (a common value for urban street grids).
DETOUR_FACTOR = 1.3
#: Walking speed of public-transport journeys, m/s (from :data:`geo.modes.MODES`).
WALK_SPEED_MS = float(MODES["oepnv"].speed_kmh or MODES["walk"].speed_kmh or 4.5) / 3.6


@dataclass(frozen=True)
class TransitSettings:
    """Parameters of a public-transport travel-time analysis.

    Parameters
    ----------
    day
        Service day (default: next Tuesday); must be the timetable's day.
    start_s, end_s
        Departure window in seconds after midnight (default 07:00–09:00);
        every full minute ``start_s, start_s + 60, …, end_s - 60`` is a
        departure time.
    max_walk_s
        Longest access and egress walk (default 15 min).
    max_transfer_walk_s
        Longest walk between two stops when changing (default 10 min).
    max_transfers
        Most changes per journey (default 3, i.e. 4 rides).
    board_slack_s
        Seconds between reaching a stop and boarding (default 60, as R5; at
        least 1).
    walk_speed_ms
        Walking speed in m/s (default from :data:`geo.modes.MODES`, 4.5 km/h).
    detour_factor
        Straight-line factor used only when no walk network is given.
    max_snap_m
        Points farther than this from the walk network cannot walk anywhere.
    """

    day: date = field(default_factory=next_tuesday)
    start_s: int = 7 * 3600
    end_s: int = 9 * 3600
    max_walk_s: float = 15 * 60.0
    max_transfer_walk_s: float = 10 * 60.0
    max_transfers: int = 3
    board_slack_s: float = 60.0
    walk_speed_ms: float = WALK_SPEED_MS
    detour_factor: float = DETOUR_FACTOR
    max_snap_m: float = 500.0

    def __post_init__(self) -> None:
        problems = []
        if not 0 <= self.start_s < self.end_s:
            problems.append(f"Abfahrtsfenster {self.start_s}–{self.end_s} s: Beginn muss vor dem Ende liegen")
        if self.max_transfers < 0:
            problems.append(f"max_transfers = {self.max_transfers} muss ≥ 0 sein")
        if not self.board_slack_s >= 1:
            problems.append(f"board_slack_s = {self.board_slack_s} muss ≥ 1 s sein")
        if not (self.walk_speed_ms > 0 and self.detour_factor >= 1):
            problems.append("Gehgeschwindigkeit muss > 0 und der Umwegfaktor ≥ 1 sein")
        if not (self.max_walk_s >= 0 and self.max_transfer_walk_s >= 0 and self.max_snap_m >= 0):
            problems.append("maximale Gehzeiten und Anbindungsdistanz müssen ≥ 0 sein")
        if problems:
            raise DataError("Ungültige ÖPNV-Einstellungen: " + "; ".join(problems) + ".")

    @property
    def minutes(self) -> NDArray[np.float64]:
        """Departure times (seconds after midnight), one per minute of the window."""
        return np.arange(self.start_s, self.end_s, 60, dtype=np.float64)

    def describe(self) -> str:
        """German description for citations, e.g. ``"Di 08.12.2026, Abfahrt 07:00–09:00"``."""
        wd = ("Mo", "Di", "Mi", "Do", "Fr", "Sa", "So")[self.day.weekday()]
        return f"{wd} {self.day:%d.%m.%Y}, Abfahrt {_hm(self.start_s)}–{_hm(self.end_s)}"


def _hm(seconds: float) -> str:
    return f"{int(seconds) // 3600:02d}:{int(seconds) // 60 % 60:02d}"


@dataclass(frozen=True, eq=False)
class WalkLinks:
    """The walks of a public-transport analysis, in seconds.

    Parameters
    ----------
    access
        ``n_origins × n_stops`` CSR: walk origin → stop (≤ ``max_walk_s``).
    transfers
        ``n_stops × n_stops`` CSR: walk stop → stop (≤ ``max_transfer_walk_s``),
        including every stop to itself at 0 s.
    egress
        ``n_stops × n_facilities`` CSR: walk stop → facility (≤ ``max_walk_s``).
    walk_only
        Walk origin → nearest facility, no limit (``inf`` if impossible).
    walk_matrix
        ``n_origins × n_facilities`` CSR of walks within the matrix cut-off
        (``None`` unless asked for).
    on_network
        ``True`` if walked on the street network, ``False`` for the
        straight-line fallback.

    Notes
    -----
    Stored zeros are real 0 s walks (CSR built without dropping zeros).
    """

    access: sp.csr_array
    transfers: sp.csr_array
    egress: sp.csr_array
    walk_only: NDArray[np.float64]
    walk_matrix: sp.csr_array | None
    on_network: bool

    @property
    def egress_nearest(self) -> NDArray[np.float64]:
        """Walk from each stop to its nearest facility (``inf`` if none within reach)."""
        out = np.full(self.egress.shape[0], np.inf)
        rows = np.repeat(np.arange(self.egress.shape[0]), np.diff(self.egress.indptr))
        np.minimum.at(out, rows, self.egress.data)
        return out


@dataclass(frozen=True, eq=False)
class TransitResult:
    """Travel time by public transport to the nearest facility, per origin.

    Parameters
    ----------
    time_s
        Median over the departure minutes, seconds, indexed like the origins.
    walk_only_s
        Walking the whole way, seconds (same index).
    by_minute
        ``n_origins × n_minutes`` seconds per departure minute (float64).
    feed, day, window
        The timetable and departure window every figure refers to.
    settings
        The parameters used.
    """

    time_s: pd.Series
    walk_only_s: pd.Series
    by_minute: NDArray[np.float64]
    feed: str
    day: date
    window: tuple[int, int]
    settings: TransitSettings

    @property
    def citation(self) -> str:
        """German source line, e.g. for a map legend or a report footnote."""
        return (
            f"ÖPNV-Fahrplan {self.feed}, {self.settings.describe()}, Median über "
            f"{self.by_minute.shape[1]} Abfahrtsminuten, inkl. Fußwege (max. "
            f"{self.settings.max_walk_s / 60:.0f} min) und höchstens {self.settings.max_transfers} Umstiege"
        )


@dataclass(frozen=True, eq=False)
class TransitMatrix:
    """Sparse origin × facility median travel times by public transport within a cut-off.

    Parameters
    ----------
    matrix
        ``n_origins × n_facilities`` CSR, seconds; pairs above ``cutoff_s``
        are absent (stored zeros are real 0 s).
    origin_index, facility_index
        Index labels of the rows and columns.
    cutoff_s
        The cut-off in seconds.
    feed, day, window, settings
        As in :class:`TransitResult`.
    """

    matrix: sp.csr_array
    origin_index: pd.Index
    facility_index: pd.Index
    cutoff_s: float
    feed: str
    day: date
    window: tuple[int, int]
    settings: TransitSettings


@dataclass(frozen=True, eq=False)
class Connections:
    """Rides between consecutive stops of a trip, by descending departure.

    Parameters
    ----------
    dep_stop, arr_stop
        Stop indices.
    dep, arr
        Departure and arrival, seconds after midnight.
    trip
        Trip index in the timetable.
    """

    dep_stop: NDArray[np.int32]
    arr_stop: NDArray[np.int32]
    dep: NDArray[np.float64]
    arr: NDArray[np.float64]
    trip: NDArray[np.int64]


def connections(tt: Timetable) -> Connections:
    """Every ride between two consecutive stops of a trip, sorted for the profile scan.

    Returns
    -------
    Connections
        Sorted by descending departure (ties: descending arrival, later stop
        of the trip first), as :func:`planning.raptor.profile_scan` needs.

    Examples
    --------
    >>> tt = Timetable.from_trips(feed="x", day=date(2026, 1, 6), window=(0, 600),
    ...     stop_ids=np.array(["a", "b", "c"], object), stop_names=np.array(["", "", ""], object),
    ...     stop_xy=np.zeros((3, 2)), trips=[("r", "t", np.array([0, 1, 2]), np.array([0, 60, 120]),
    ...     np.array([0, 70, 120]))])
    >>> connections(tt).dep
    array([70.,  0.])
    """
    lengths = np.diff(tt.pattern_stops_ptr)
    counts = np.diff(tt.pattern_trips_ptr)
    # one row per stop event: its pattern, trip and position
    ev_len = np.repeat(lengths, counts)  # per trip
    trip_of_event = np.repeat(np.arange(tt.n_trips), ev_len)
    first_event = np.concatenate([[0], np.cumsum(ev_len)])[:-1]
    pos = np.arange(tt.n_stop_times) - np.repeat(first_event, ev_len)
    pat_of_trip = np.repeat(np.arange(tt.n_patterns), counts)
    stop = tt.pattern_stops[tt.pattern_stops_ptr[pat_of_trip[trip_of_event]] + pos]
    src = np.flatnonzero(pos[1:] > 0)  # event i -> i+1 within the same trip
    dep_stop, arr_stop = stop[src], stop[src + 1]
    dep = tt.departure[src].astype(np.float64)
    arr = tt.arrival[src + 1].astype(np.float64)
    trip = trip_of_event[src].astype(np.int64)
    order = np.lexsort((pos[src], arr, dep))[::-1]
    return Connections(
        dep_stop[order].astype(np.int32), arr_stop[order].astype(np.int32), dep[order], arr[order], trip[order]
    )


def walk_links(
    tt: Timetable,
    origins_xy: NDArray[np.float64],
    facilities_xy: NDArray[np.float64],
    settings: TransitSettings,
    network: Network | None = None,
    matrix_cutoff_s: float | None = None,
) -> WalkLinks:
    """Access, transfer and egress walks plus walking-only times.

    Parameters
    ----------
    tt
        The timetable (its stop coordinates).
    origins_xy, facilities_xy
        ``n × 2`` points in EPSG:25832.
    settings
        Walking limits and speed.
    network
        Walk network (``Network`` of mode ``walk``); ``None`` uses straight
        lines × ``settings.detour_factor``.
    matrix_cutoff_s
        If given, also the origin × facility walking matrix within it.

    Returns
    -------
    WalkLinks

    Notes
    -----
    Coordinates in EPSG:25832 (metres), times in seconds. On the network,
    each point walks the straight line to its nearest node (at walking speed,
    refused beyond ``max_snap_m``) and then along the network; each table
    comes from bounded Dijkstra searches, one per distinct stop (or
    facility) node (:func:`planning.shortest_paths.reach`, each costing what
    it reaches within the walking limit); one search from a stop serves its
    transfers, its egress and, where the network is the same in both
    directions (walk networks), its access walks too. The walking-only times
    come from one multi-source search from the facility set, each facility
    starting at its snapping walk. Times are bit-identical to
    ``scipy.sparse.csgraph.dijkstra`` searches from the same side.
    """
    v = settings.walk_speed_ms
    stops_xy = tt.stop_xy
    if network is None:
        f = settings.detour_factor / v
        access = _euclid(origins_xy, stops_xy, settings.max_walk_s / f, f)
        transfers = _euclid(stops_xy, stops_xy, settings.max_transfer_walk_s / f, f)
        egress = _euclid(stops_xy, facilities_xy, settings.max_walk_s / f, f)
        if len(facilities_xy):
            dist, _ = cKDTree(facilities_xy).query(origins_xy) if len(origins_xy) else (np.empty(0), None)
            walk_only = np.asarray(dist, dtype=np.float64) * f
        else:
            walk_only = np.full(len(origins_xy), np.inf)
        walk_matrix = (
            _euclid(origins_xy, facilities_xy, matrix_cutoff_s / f, f) if matrix_cutoff_s is not None else None
        )
        return WalkLinks(access, _with_diagonal(transfers), egress, walk_only, walk_matrix, on_network=False)
    o_node, o_off = _snap(network, origins_xy, settings)
    s_node, s_off = _snap(network, stops_xy, settings)
    f_node, f_off = _snap(network, facilities_xy, settings)
    walk, transfer = settings.max_walk_s, settings.max_transfer_walk_s
    n_o, n_s, n_f = len(o_node), len(s_node), len(f_node)
    # the searches from the stops along the network serve transfers and egress at once, and access too
    # where the network is the same both ways (walk networks are): a walk to a stop is a walk from it
    both_ways = _same_both_ways(network)
    tables = [(s_node, s_off, transfer), (f_node, f_off, walk)] + ([(o_node, o_off, walk)] if both_ways else [])
    found = _network_tables(network.matrix, s_node, s_off, tables)
    transfers = _pairs_csr(*_zero_diagonal(*found[0], n_s), (n_s, n_s))
    egress = _pairs_csr(*found[1], (n_s, n_f))
    if both_ways:
        t, stop, origin = found[2]
    else:  # walks *to* the stops: searches on the reversed network
        t, stop, origin = _network_tables(network.reverse, s_node, s_off, [(o_node, o_off, walk)])[0]
    access = _pairs_csr(t, origin, stop, (n_o, n_s))
    walk_only = _nearest_on_network(network, f_node, f_off, o_node, o_off)
    walk_matrix = None
    if matrix_cutoff_s is not None:
        t, fac, origin = _network_tables(network.reverse, f_node, f_off, [(o_node, o_off, matrix_cutoff_s)])[0]
        walk_matrix = _pairs_csr(t, origin, fac, (n_o, n_f))
    return WalkLinks(access, transfers, egress, walk_only, walk_matrix, on_network=True)


def _snap(
    net: Network, xy: NDArray[np.float64], settings: TransitSettings
) -> tuple[NDArray[np.intp], NDArray[np.float64]]:
    """Nearest node and the walking seconds to it (``inf`` beyond ``max_snap_m``)."""
    if len(xy) == 0:
        return np.empty(0, np.intp), np.empty(0)
    dist, node = net.tree.query(xy)
    off = np.where(dist <= settings.max_snap_m, dist / settings.walk_speed_ms, np.inf)
    return node.astype(np.intp), off


def _network_tables(
    matrix: sp.csr_array,
    src_node: NDArray[np.intp],
    src_off: NDArray[np.float64],
    tables: list[tuple[NDArray[np.intp], NDArray[np.float64], float]],
) -> list[tuple[NDArray[np.float64], NDArray[np.int64], NDArray[np.int64]]]:
    """Walking seconds from the points ``src`` to the targets of each table, by one search per source node.

    ``tables`` holds ``(dst_node, dst_off, limit)`` per table; the result per
    table is ``(seconds, src index, dst index)`` of every pair within the
    table's limit, each pair once. A pair's time is
    ``network time + source offset + target offset``, summed in that order.
    One bounded search per distinct source node serves all tables: it stops
    where even the node's shortest snapping walk leaves no time for the
    largest limit (with a relative margin of 1e-9, so that rounding never
    drops a pair); a network time does not depend on how far a search goes.
    """
    ok = np.flatnonzero(np.isfinite(src_off))
    uniq, inv = np.unique(src_node[ok], return_inverse=True)
    least = np.full(uniq.size, np.inf)
    np.minimum.at(least, inv, src_off[ok])
    top = max((limit for _, _, limit in tables), default=0.0)
    wanted = np.zeros(matrix.shape[0], dtype=bool)
    for dst_node, dst_off, _ in tables:
        wanted[dst_node[np.isfinite(dst_off)]] = True
    found = reach(matrix, uniq, (top - least) * (1 + 1e-9) + 1e-9, wanted)
    out = []
    for dst_node, dst_off, limit in tables:
        dst_ok = np.flatnonzero(np.isfinite(dst_off))
        entry, s, d = expand_pairs(found, inv, dst_node[dst_ok], matrix.shape[0])
        rows, cols = ok[s], dst_ok[d]
        t = found.time[entry] + src_off[rows] + dst_off[cols]
        keep = t <= limit
        out.append((t[keep], rows[keep], cols[keep]))
    return out


def _same_both_ways(net: Network) -> bool:
    """Whether the network's matrix equals its transpose (as stored), i.e. every walk is the same both ways."""
    m, r = net.matrix, net.reverse
    return bool(
        m.has_sorted_indices
        and r.has_sorted_indices
        and np.array_equal(m.indptr, r.indptr)
        and np.array_equal(m.indices, r.indices)
        and np.array_equal(m.data, r.data)
    )


def _zero_diagonal(
    t: NDArray[np.float64], rows: NDArray[np.int64], cols: NDArray[np.int64], n: int
) -> tuple[NDArray[np.float64], NDArray[np.int64], NDArray[np.int64]]:
    """Pairs with every ``(i, i)`` set to 0 s (staying at a stop is no walk)."""
    on = rows == cols
    t = np.where(on, 0.0, t)
    missing = np.ones(n, dtype=bool)
    missing[rows[on]] = False
    add = np.flatnonzero(missing)
    return np.r_[t, np.zeros(add.size)], np.r_[rows, add], np.r_[cols, add]


def _pairs_csr(
    vals: NDArray[np.float64], rows: NDArray[np.int64], cols: NDArray[np.int64], shape: tuple[int, int]
) -> sp.csr_array:
    """CSR of pairs that occur once each (explicit zeros kept, column indices sorted)."""
    return sp.csr_array(sp.coo_array((vals.astype(np.float64), (rows, cols)), shape=shape).tocsr())


def _nearest_on_network(
    net: Network,
    f_node: NDArray[np.intp],
    f_off: NDArray[np.float64],
    o_node: NDArray[np.intp],
    o_off: NDArray[np.float64],
) -> NDArray[np.float64]:
    """Walk from each origin to its nearest facility: one search from all facilities, each starting at its offset."""
    ok = np.isfinite(f_off)
    if not ok.any() or len(o_node) == 0:
        return np.full(len(o_node), np.inf)
    dist = nearest(net.reverse, f_node[ok], f_off[ok])
    return np.asarray(dist[o_node] + o_off, dtype=np.float64)


def _euclid(a: NDArray[np.float64], b: NDArray[np.float64], max_dist: float, sec_per_m: float) -> sp.csr_array:
    """Straight-line seconds between point sets within ``max_dist`` metres."""
    if len(a) == 0 or len(b) == 0:
        return sp.csr_array((len(a), len(b)))
    m = cKDTree(a).sparse_distance_matrix(cKDTree(b), max_dist, output_type="ndarray")
    # sparse_distance_matrix omits exact zero distances; add coincident pairs explicitly
    same = cKDTree(a).query_ball_tree(cKDTree(b), 0.0)
    zr = np.repeat(np.arange(len(a)), [len(s) for s in same])
    zc = np.concatenate([np.asarray(s, dtype=np.intp) for s in same]) if zr.size else np.empty(0, np.intp)
    rows = np.concatenate([m["i"], zr])
    cols = np.concatenate([m["j"], zc])
    vals = np.concatenate([m["v"] * sec_per_m, np.zeros(zr.size)])
    return _csr(vals, rows, cols, (len(a), len(b)))


def _csr(
    vals: NDArray[np.float64], rows: NDArray[np.intp], cols: NDArray[np.intp], shape: tuple[int, int]
) -> sp.csr_array:
    """CSR with explicit zeros kept and duplicates resolved by their minimum."""
    order = np.lexsort((vals, cols, rows))
    rows, cols, vals = rows[order], cols[order], vals[order]
    first = np.r_[True, (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])] if rows.size else np.empty(0, bool)
    rows, cols, vals = rows[first], cols[first], vals[first]
    indptr = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=shape[0]))]).astype(np.int64)
    return sp.csr_array((vals.astype(np.float64), cols.astype(np.int64), indptr), shape=shape)


def _with_diagonal(m: sp.csr_array) -> sp.csr_array:
    n = m.shape[0]
    coo = m.tocoo()
    return _csr(
        np.concatenate([coo.data, np.zeros(n)]),
        np.concatenate([coo.row, np.arange(n)]),
        np.concatenate([coo.col, np.arange(n)]),
        (n, n),
    )


def _check(tt: Timetable, settings: TransitSettings) -> None:
    if settings.day != tt.day:
        raise DataError(
            f"Der Fahrplan {tt.feed} gilt für den {tt.day:%d.%m.%Y}, die Einstellungen nennen den "
            f"{settings.day:%d.%m.%Y}. Bitte den Fahrplan für denselben Tag einlesen."
        )
    if settings.start_s < tt.window[0] or settings.end_s > tt.window[1]:
        raise DataError(
            f"Das Abfahrtsfenster {_hm(settings.start_s)}–{_hm(settings.end_s)} liegt nicht im "
            f"eingelesenen Fenster {_hm(tt.window[0])}–{_hm(tt.window[1])} des Fahrplans {tt.feed}. "
            "Bitte read_gtfs() mit passendem Fenster aufrufen."
        )


def _profiles(
    tt: Timetable, conn: Connections, egress: NDArray[np.float64], links: WalkLinks, settings: TransitSettings
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.int64], NDArray[np.int64]]:
    cap = np.bincount(conn.dep_stop.astype(np.intp), minlength=tt.n_stops)
    prof_ptr = np.concatenate([[0], np.cumsum(cap)]).astype(np.int64)
    tr = links.transfers
    D, A, length = profile_scan(
        conn.dep_stop,
        conn.arr_stop,
        conn.dep,
        conn.arr,
        conn.trip,
        tt.n_trips,
        prof_ptr,
        np.ascontiguousarray(egress, dtype=np.float64),
        tr.indptr.astype(np.int64),
        tr.indices.astype(np.int32),
        tr.data.astype(np.float64),
        settings.max_transfers + 1,
        float(settings.board_slack_s),
    )
    return D, A, length, prof_ptr


def _by_minute(
    D: NDArray[np.float64],
    A: NDArray[np.float64],
    length: NDArray[np.int64],
    prof_ptr: NDArray[np.int64],
    access: sp.csr_array,
    walk_only: NDArray[np.float64],
    settings: TransitSettings,
) -> NDArray[np.float64]:
    return evaluate_profiles(
        D,
        A,
        length,
        prof_ptr,
        access.indptr.astype(np.int64),
        access.indices.astype(np.int32),
        access.data.astype(np.float64),
        np.ascontiguousarray(walk_only, dtype=np.float64),
        settings.minutes,
    )


def transit_time_to_nearest(
    tt: Timetable,
    origins: gpd.GeoDataFrame | gpd.GeoSeries,
    facilities: gpd.GeoDataFrame | gpd.GeoSeries,
    settings: TransitSettings,
    network: Network | None = None,
) -> TransitResult:
    """Median travel time (walk + public transport) from every origin to its nearest facility.

    Parameters
    ----------
    tt
        Timetable of ``settings.day`` covering the departure window
        (:func:`geo.sources.gtfs.read_gtfs`).
    origins
        Points in EPSG:25832, e.g. centres of 100 m demand cells.
    facilities
        Points in EPSG:25832.
    settings
        Day, window, walking and transfer limits.
    network
        Walk network; ``None`` uses the straight-line fallback.

    Returns
    -------
    TransitResult
        Seconds per origin (index of ``origins``), never above walking only;
        ``inf`` where even walking is impossible.

    Raises
    ------
    CRSError
        If a point set is not in EPSG:25832.
    DataError
        If the timetable is of another day or does not cover the window.

    Notes
    -----
    CRS EPSG:25832, times in seconds. One profile search from the facility
    set (a backwards connection scan with one label set per number of rides,
    exact for the journey model of :mod:`planning.raptor`) gives every stop's
    arrival as a function of the time one is ready there; each origin and
    departure minute then takes its best access stop. The median is
    ``numpy.median`` over the minutes (mean of the two middle values for an
    even count).
    """
    _check(tt, settings)
    o_xy = point_xy(_frame(origins), "Startpunkte")
    f_xy = point_xy(_frame(facilities), "Einrichtungen")
    links = walk_links(tt, o_xy, f_xy, settings, network)
    conn = connections(tt)
    D, A, length, ptr = _profiles(tt, conn, links.egress_nearest, links, settings)
    by_minute = _by_minute(D, A, length, ptr, links.access, links.walk_only, settings)
    median = np.median(by_minute, axis=1) if by_minute.shape[1] else np.full(len(o_xy), np.inf)
    logger.info(
        "ÖPNV-Reisezeiten: %d Startpunkte, %d Minuten, %d Verbindungen", len(o_xy), settings.minutes.size, conn.dep.size
    )
    return TransitResult(
        time_s=pd.Series(median.astype(np.float64), index=origins.index, name="oepnv_s"),
        walk_only_s=pd.Series(links.walk_only, index=origins.index, name="walk_s"),
        by_minute=by_minute,
        feed=tt.feed,
        day=tt.day,
        window=(settings.start_s, settings.end_s),
        settings=settings,
    )


def transit_time_matrix(
    tt: Timetable,
    origins: gpd.GeoDataFrame | gpd.GeoSeries,
    facilities: gpd.GeoDataFrame | gpd.GeoSeries,
    settings: TransitSettings,
    cutoff_s: float,
    network: Network | None = None,
) -> TransitMatrix:
    """Sparse origin × facility matrix of median public-transport times within ``cutoff_s``.

    Parameters
    ----------
    tt, origins, facilities, settings, network
        As in :func:`transit_time_to_nearest`.
    cutoff_s
        Pairs whose median exceeds this many seconds are left out.

    Returns
    -------
    TransitMatrix

    Notes
    -----
    CRS EPSG:25832, times in seconds. One profile search per facility; each
    pair's time is the median over the departure minutes of
    ``min(walk only, best journey)`` to that facility.
    """
    _check(tt, settings)
    if not cutoff_s >= 0:
        raise DataError(f"Die Zeitgrenze der Matrix muss ≥ 0 s sein, nicht {cutoff_s!r}.")
    o_xy = point_xy(_frame(origins), "Startpunkte")
    f_xy = point_xy(_frame(facilities), "Einrichtungen")
    links = walk_links(tt, o_xy, f_xy, settings, network, matrix_cutoff_s=cutoff_s)
    assert links.walk_matrix is not None
    conn = connections(tt)
    egress = links.egress.tocsc()
    walk_csc = links.walk_matrix.tocsc()
    rows: list[NDArray[np.intp]] = []
    cols: list[NDArray[np.intp]] = []
    vals: list[NDArray[np.float64]] = []
    for j in range(len(f_xy)):  # one profile search per facility (each is a vectorised kernel run)
        e = np.full(tt.n_stops, np.inf)
        sl = slice(egress.indptr[j], egress.indptr[j + 1])
        e[egress.indices[sl]] = egress.data[sl]
        w = np.full(len(o_xy), np.inf)
        wl = slice(walk_csc.indptr[j], walk_csc.indptr[j + 1])
        w[walk_csc.indices[wl]] = walk_csc.data[wl]
        D, A, length, ptr = _profiles(tt, conn, e, links, settings)
        med = np.median(_by_minute(D, A, length, ptr, links.access, w, settings), axis=1)
        hit = np.flatnonzero(med <= cutoff_s)
        rows.append(hit)
        cols.append(np.full(hit.size, j, dtype=np.intp))
        vals.append(med[hit].astype(np.float64))
    matrix = _csr(
        np.concatenate(vals) if vals else np.empty(0),
        np.concatenate(rows) if rows else np.empty(0, np.intp),
        np.concatenate(cols) if cols else np.empty(0, np.intp),
        (len(o_xy), len(f_xy)),
    )
    return TransitMatrix(
        matrix=matrix,
        origin_index=pd.Index(origins.index),
        facility_index=pd.Index(facilities.index),
        cutoff_s=float(cutoff_s),
        feed=tt.feed,
        day=tt.day,
        window=(settings.start_s, settings.end_s),
        settings=settings,
    )


def nearest_by_raptor(tt: Timetable, links: WalkLinks, settings: TransitSettings) -> NDArray[np.float64]:
    """Reference: one plain RAPTOR run per origin and departure minute.

    Parameters
    ----------
    tt
        The timetable.
    links
        Walks from :func:`walk_links` (the same the profile search uses).
    settings
        Day, window and limits.

    Returns
    -------
    numpy.ndarray
        ``n_origins × n_minutes`` seconds to the nearest facility, equal to
        :attr:`TransitResult.by_minute`; far slower (the benchmark baseline).

    Notes
    -----
    Times in seconds; coordinates are not used beyond ``links``.
    """
    minutes = settings.minutes
    egress = links.egress_nearest
    acc = links.access
    tr = links.transfers
    tr_ptr, tr_idx, tr_w = tr.indptr.astype(np.int64), tr.indices.astype(np.int32), tr.data.astype(np.float64)
    out = np.empty((acc.shape[0], minutes.size), dtype=np.float64)
    for o in range(acc.shape[0]):
        sl = slice(acc.indptr[o], acc.indptr[o + 1])
        for m, t in enumerate(minutes):
            board0 = np.full(tt.n_stops, np.inf)
            board0[acc.indices[sl]] = t + acc.data[sl]
            ride = raptor(
                board0,
                tt.pattern_stops_ptr,
                tt.pattern_stops,
                tt.pattern_trips_ptr,
                tt.time_ptr,
                tt.arrival,
                tt.departure,
                tt.stop_patterns_ptr,
                tt.stop_patterns,
                tr_ptr,
                tr_idx,
                tr_w,
                settings.max_transfers + 1,
                float(settings.board_slack_s),
            )
            out[o, m] = min(float(links.walk_only[o]), float(np.min(ride + egress, initial=np.inf)) - t)
    return out


def _frame(points: gpd.GeoDataFrame | gpd.GeoSeries) -> gpd.GeoDataFrame:
    return points if isinstance(points, gpd.GeoDataFrame) else gpd.GeoDataFrame(geometry=points)
