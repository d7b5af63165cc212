"""Timetable search kernels: RAPTOR, a profile scan towards a facility set, profile evaluation.

Pure array code compiled with numba; the user-facing API (walking links,
settings, result objects) is :mod:`planning.transit`. The journey model of
every kernel is the same:

* a journey is ``access walk → ride → (transfer walk → ride)* → egress walk``
  with at most ``max_rides`` rides;
* boarding at a stop needs ``arrival at the stop + board_slack ≤ departure``
  (also for the first ride); staying seated costs nothing;
* a transfer walk goes from the stop where one alights to a stop within the
  transfer table (which includes the stop itself at 0 s);
* the egress walk starts at the stop where one alights.

All times are seconds (float64, ``inf`` = unreachable).
"""

from __future__ import annotations

import numpy as np
from numba import njit
from numpy.typing import NDArray

INF = np.inf


@njit(cache=True)
def raptor(
    board0: NDArray[np.float64],
    pattern_stops_ptr: NDArray[np.int64],
    pattern_stops: NDArray[np.int32],
    pattern_trips_ptr: NDArray[np.int64],
    time_ptr: NDArray[np.int64],
    arrival: NDArray[np.int32],
    departure: NDArray[np.int32],
    stop_patterns_ptr: NDArray[np.int64],
    stop_patterns: NDArray[np.int32],
    tr_ptr: NDArray[np.int64],
    tr_idx: NDArray[np.int32],
    tr_w: NDArray[np.float64],
    max_rides: int,
    slack: float,
) -> NDArray[np.float64]:  # pragma: no cover - compiled
    """Earliest arrival by a ride at every stop (RAPTOR, Delling, Pajor & Werneck 2012).

    ``board0[s]`` is the time one stands at stop ``s`` ready to board (after
    the access walk; ``inf`` elsewhere). Returns the earliest time one
    *alights* at each stop with at most ``max_rides`` rides. Trips of a
    pattern must be sorted by departure and must not overtake (as
    :class:`geo.sources.gtfs.Timetable` guarantees).
    """
    n_stops = board0.size
    n_pat = pattern_stops_ptr.size - 1
    board = board0.copy()
    ride_best = np.full(n_stops, INF)
    marked = board < INF
    for _ in range(max_rides):
        scan = np.zeros(n_pat, dtype=np.bool_)
        any_marked = False
        for s in range(n_stops):
            if marked[s]:
                any_marked = True
                for q in range(stop_patterns_ptr[s], stop_patterns_ptr[s + 1]):
                    scan[stop_patterns[q]] = True
        if not any_marked:
            break
        prev_board = board.copy()
        ride_new = np.full(n_stops, INF)
        for p in range(n_pat):
            if not scan[p]:
                continue
            s0, s1 = pattern_stops_ptr[p], pattern_stops_ptr[p + 1]
            n_st = s1 - s0
            t0, t1 = pattern_trips_ptr[p], pattern_trips_ptr[p + 1]
            base = time_ptr[p]
            trip = -1
            for i in range(n_st):
                s = pattern_stops[s0 + i]
                if trip >= 0:
                    a = arrival[base + trip * n_st + i]
                    if a < ride_new[s]:
                        ride_new[s] = a
                ready = prev_board[s] + slack
                if ready < INF:
                    # earliest trip departing at or after `ready`; FIFO makes it the best one downstream
                    hi = (t1 - t0) if trip < 0 else trip
                    lo = 0
                    while lo < hi:
                        mid = (lo + hi) // 2
                        if departure[base + mid * n_st + i] >= ready:
                            hi = mid
                        else:
                            lo = mid + 1
                    if lo < (t1 - t0) and (trip < 0 or lo < trip) and departure[base + lo * n_st + i] >= ready:
                        trip = lo
        marked[:] = False
        for s in range(n_stops):
            if ride_new[s] < ride_best[s]:
                ride_best[s] = ride_new[s]
                for q in range(tr_ptr[s], tr_ptr[s + 1]):
                    t = ride_new[s] + tr_w[q]
                    s2 = tr_idx[q]
                    if t < board[s2]:
                        board[s2] = t
                        marked[s2] = True
    return ride_best


@njit(cache=True)
def _profile_at(
    D: NDArray[np.float64], A: NDArray[np.float64], start: int, length: int, tau: float
) -> float:  # pragma: no cover - compiled
    """Arrival of a profile (pairs stored by descending departure) when ready at ``tau``."""
    if length == 0 or D[start] < tau:
        return INF
    lo, hi = 0, length - 1  # last index with D >= tau
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if D[start + mid] >= tau:
            lo = mid
        else:
            hi = mid - 1
    return A[start + lo]


@njit(cache=True)
def profile_scan(
    c_dep_stop: NDArray[np.int32],
    c_arr_stop: NDArray[np.int32],
    c_dep: NDArray[np.float64],
    c_arr: NDArray[np.float64],
    c_trip: NDArray[np.int64],
    n_trips: int,
    prof_ptr: NDArray[np.int64],
    egress: NDArray[np.float64],
    tr_ptr: NDArray[np.int64],
    tr_idx: NDArray[np.int32],
    tr_w: NDArray[np.float64],
    max_rides: int,
    slack: float,
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.int64]]:  # pragma: no cover - compiled
    """Profiles of every stop towards a target set (profile connection scan).

    Connections must be sorted by descending departure (ties: descending
    arrival, then later stop of the trip first). ``egress[s]`` is the walk
    from stop ``s`` to the nearest target (``inf`` if too far). ``prof_ptr``
    gives each stop's capacity (its number of departing connections).

    Returns ``D, A, length``: for stop ``s`` the Pareto pairs
    ``(D[prof_ptr[s] + i], A[prof_ptr[s] + i])``, ``i < length[s]``, by
    descending ``D``: standing at ``s`` at time ``≤ D`` (ready to board, with
    at most ``max_rides`` rides) one reaches a target at ``A``.

    Notes
    -----
    The footpath step evaluates the profiles of the stops one can walk to
    when a connection arrives, so no footpath pair is ever inserted out of
    order; this is exact because every later-boarded connection departs
    strictly later (``slack ≥ 1``) and has been scanned already.
    """
    n_stops = egress.size
    K = max_rides
    total = prof_ptr[n_stops]
    D = np.empty((K, total))
    A = np.empty((K, total))
    length = np.zeros((K, n_stops), dtype=np.int64)
    T = np.full((K, n_trips), INF)
    for c in range(c_dep.size):
        sa = c_arr_stop[c]
        sd = c_dep_stop[c]
        trip = c_trip[c]
        ta = c_arr[c]
        direct = ta + egress[sa]
        for k in range(K):
            best = direct
            if T[k, trip] < best:
                best = T[k, trip]
            if k > 0:
                for q in range(tr_ptr[sa], tr_ptr[sa + 1]):
                    s2 = tr_idx[q]
                    v = _profile_at(D[k - 1], A[k - 1], prof_ptr[s2], length[k - 1, s2], ta + tr_w[q])
                    if v < best:
                        best = v
            T[k, trip] = best
            if best < INF:
                d = c_dep[c] - slack
                start = prof_ptr[sd]
                n = length[k, sd]
                if n == 0 or best < A[k, start + n - 1]:
                    if n > 0 and D[k, start + n - 1] == d:
                        A[k, start + n - 1] = best
                    else:
                        D[k, start + n] = d
                        A[k, start + n] = best
                        length[k, sd] = n + 1
    return D[K - 1].copy(), A[K - 1].copy(), length[K - 1].copy()


@njit(cache=True)
def evaluate_profiles(
    D: NDArray[np.float64],
    A: NDArray[np.float64],
    length: NDArray[np.int64],
    prof_ptr: NDArray[np.int64],
    acc_ptr: NDArray[np.int64],
    acc_stop: NDArray[np.int32],
    acc_w: NDArray[np.float64],
    walk_only: NDArray[np.float64],
    minutes: NDArray[np.float64],
) -> NDArray[np.float64]:  # pragma: no cover - compiled
    """Travel time per origin and departure minute: the best access stop's profile, or walking.

    ``acc_*`` is the CSR access table (origin → stop, walking seconds).
    Returns ``n_origins × n_minutes`` seconds (``inf`` if unreachable).
    """
    n_orig = acc_ptr.size - 1
    out = np.empty((n_orig, minutes.size), dtype=np.float64)
    for o in range(n_orig):
        for m in range(minutes.size):
            t = minutes[m]
            best = walk_only[o]
            for q in range(acc_ptr[o], acc_ptr[o + 1]):
                s = acc_stop[q]
                n = length[s]
                if n == 0:
                    continue
                v = _profile_at(D, A, prof_ptr[s], n, t + acc_w[q]) - t
                if v < best:
                    best = v
            out[o, m] = best
    return out
