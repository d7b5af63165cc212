"""Shortest-path searches that cost what they reach: bounded Dijkstra kernels compiled with numba.

Every travel-time analysis that runs one search per source (a matrix to
candidate sites, isochrones, cumulative opportunities, the walks to and from
public-transport stops) stops each search at a cut-off. A 15-minute walk
reaches about a thousand nodes, however large the network; what made such
searches slow on a Land-sized network is everything done per source for *all*
nodes: ``scipy.sparse.csgraph.dijkstra`` allocates and fills a row of every
node's distance for each source, cut-off or not (about 16 ms per source on a
4 M-node network for a search that settles a few hundred nodes).

The kernels here keep, per worker thread, one distance array, one heap
position array and one binary heap over all nodes, allocated once. A search
writes only the nodes it touches and resets exactly those afterwards (the
list of settled nodes doubles as the reset list: nothing beyond the cut-off is
ever pushed, so the heap is empty when a search ends). A search therefore
costs ``O(r log r)`` for the ``r`` nodes and edges it reaches, the approach of
pandana's bounded range queries and R5's per-origin street searches, without
their precomputation.

Results are exactly scipy's: a node's time is the minimum over its settled
in-neighbours ``u`` of ``t(u) + w(u, v)``, summed in path order as scipy does,
so every float is bit-identical (checked on random graphs and on the Aachen
network in the tests). A stored 0 in the matrix is an edge of length 0, as in
scipy's sparse graphs.

The sources of one call are split into chunks that run on
``numba.get_num_threads()`` threads (the kernels release the GIL; set
``NUMBA_NUM_THREADS`` to limit them, e.g. for several dask workers on one
machine).

All times are in the unit of the matrix (seconds for a :class:`geo.network.Network`).
Nothing here is spatial.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

import numba
import numpy as np
import scipy.sparse as sp
from numba import njit
from numpy.typing import NDArray

__all__ = ["Reach", "distinct_nodes", "expand_pairs", "gather", "nearest", "reach", "spread"]

_T = TypeVar("_T")

#: Sources per chunk are at least this many (thread hand-off costs about as much as a few tiny searches).
_MIN_CHUNK = 64


@dataclass(frozen=True)
class Reach:
    """What each of several bounded searches reached, in CSR layout.

    Parameters
    ----------
    indptr
        ``n_sources + 1`` offsets: the entries of source ``s`` are
        ``indptr[s]:indptr[s + 1]``.
    node
        Node position of each entry, in the order the search settled them
        (ascending time).
    time
        Travel time of each entry (unit of the matrix, ``<=`` the cut-off).
    """

    indptr: NDArray[np.int64]
    node: NDArray[np.int32]
    time: NDArray[np.float64]

    @property
    def source(self) -> NDArray[np.int64]:
        """Source index (into the ``sources`` of the call) of each entry."""
        return np.repeat(np.arange(self.indptr.size - 1, dtype=np.int64), np.diff(self.indptr))


# --------------------------------------------------------------------------- public entry points


def reach(
    graph: sp.csr_array,
    sources: NDArray[np.intp],
    cutoff: float | NDArray[np.float64],
    targets: NDArray[np.bool_] | None = None,
) -> Reach:
    """Nodes within ``cutoff`` of each source, one bounded search per source.

    Parameters
    ----------
    graph
        ``n × n`` CSR matrix of edge lengths ``≥ 0`` (row = from, column = to).
    sources
        Node position per search (duplicates search twice).
    cutoff
        Longest time kept (inclusive), one value or one per source.
    targets
        Optional mask over the nodes: only these are returned (the search
        still passes through every node).

    Returns
    -------
    Reach
        Per source, the reached (target) nodes and their times.

    Examples
    --------
    A path 0 → 1 → 2 with 60 s per edge, searched from 0 and 1 within 60 s:

    >>> import numpy as np, scipy.sparse as sp
    >>> g = sp.csr_array((np.array([60.0, 60.0]), (np.array([0, 1]), np.array([1, 2]))), shape=(3, 3))
    >>> r = reach(g, np.array([0, 1]), 60.0)
    >>> r.indptr.tolist(), r.node.tolist(), r.time.tolist()
    ([0, 2, 4], [0, 1, 1, 2], [0.0, 60.0, 0.0, 60.0])
    """
    indptr, indices, data, n = _csr(graph)
    src = np.asarray(sources, dtype=np.int64)
    cut = np.broadcast_to(np.asarray(cutoff, dtype=np.float64), src.shape).copy()
    mask = np.ones(0, dtype=np.bool_) if targets is None else np.asarray(targets, dtype=np.bool_)

    def run(part: slice) -> tuple[NDArray[np.int64], NDArray[np.int32], NDArray[np.float64]]:
        return _reach_chunk(indptr, indices, data, n, src[part], cut[part], mask)

    parts = _run_chunks(run, src.size)
    counts = np.concatenate([p[0] for p in parts]) if parts else np.zeros(0, np.int64)
    out_ptr = np.zeros(src.size + 1, dtype=np.int64)
    np.cumsum(counts, out=out_ptr[1:])
    node = np.concatenate([p[1] for p in parts]) if parts else np.zeros(0, np.int32)
    time_ = np.concatenate([p[2] for p in parts]) if parts else np.zeros(0)
    return Reach(out_ptr, node, time_)


def spread(
    graph: sp.csr_array, sources: NDArray[np.intp], cutoff: float, weights: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Per node, the summed weight of the sources that reach it within ``cutoff``.

    Parameters
    ----------
    graph
        CSR matrix of edge lengths (searches run along its rows: on the
        reversed network matrix, "reaches" means "is reached from").
    sources
        Node position per source.
    cutoff
        Longest time counted (inclusive).
    weights
        Weight per source.

    Returns
    -------
    numpy.ndarray
        ``n`` sums (float64).

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> g = sp.csr_array((np.array([60.0, 60.0]), (np.array([0, 1]), np.array([1, 2]))), shape=(3, 3))
    >>> spread(g, np.array([0, 1]), 60.0, np.array([1.0, 10.0])).tolist()
    [1.0, 11.0, 10.0]
    """
    indptr, indices, data, n = _csr(graph)
    src = np.asarray(sources, dtype=np.int64)
    w = np.asarray(weights, dtype=np.float64)
    threads = _threads(src.size)
    if threads == 1:
        return _spread_chunk(indptr, indices, data, n, src, float(cutoff), w)
    # strided shares balance the work when neighbouring sources reach similar numbers of nodes
    with ThreadPoolExecutor(threads) as pool:
        parts = list(
            pool.map(
                lambda t: _spread_chunk(indptr, indices, data, n, src[t::threads], float(cutoff), w[t::threads]),
                range(threads),
            )
        )
    total: NDArray[np.float64] = parts[0]
    for part in parts[1:]:
        total += part
    return total


def gather(
    graph: sp.csr_array, sources: NDArray[np.intp], cutoff: float, node_weight: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Per source, the summed ``node_weight`` of the nodes it reaches within ``cutoff``.

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> g = sp.csr_array((np.array([60.0, 60.0]), (np.array([0, 1]), np.array([1, 2]))), shape=(3, 3))
    >>> gather(g, np.array([0, 1, 2]), 60.0, np.array([0.0, 0.0, 2.0])).tolist()
    [0.0, 2.0, 2.0]
    """
    indptr, indices, data, n = _csr(graph)
    src = np.asarray(sources, dtype=np.int64)
    nw = np.asarray(node_weight, dtype=np.float64)

    def run(part: slice) -> NDArray[np.float64]:
        return _gather_chunk(indptr, indices, data, n, src[part], float(cutoff), nw)

    parts = _run_chunks(run, src.size)
    return np.concatenate(parts) if parts else np.zeros(0)


def nearest(
    graph: sp.csr_array, sources: NDArray[np.intp], start: NDArray[np.float64] | None = None
) -> NDArray[np.float64]:
    """One multi-source search over the whole graph: the time from the nearest source to every node.

    Parameters
    ----------
    graph
        CSR matrix of edge lengths.
    sources
        Node positions of the sources (duplicates allowed).
    start
        Optional time at which each source starts (default 0), e.g. the walk
        from a facility to its snapped node; a node holding several sources
        starts at the smallest.

    Returns
    -------
    numpy.ndarray
        ``n`` times, ``inf`` where no source reaches.

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> g = sp.csr_array((np.array([60.0, 60.0]), (np.array([0, 1]), np.array([1, 2]))), shape=(3, 3))
    >>> nearest(g, np.array([1])).tolist()
    [inf, 0.0, 60.0]
    """
    indptr, indices, data, n = _csr(graph)
    src = np.asarray(sources, dtype=np.int64)
    s0 = np.zeros(src.size) if start is None else np.asarray(start, dtype=np.float64)
    return _nearest_all(indptr, indices, data, n, src, s0)


def distinct_nodes(nodes: NDArray[np.intp], n_nodes: int) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """The distinct node positions (ascending) and each entry's index into them.

    Same result as ``np.unique(nodes, return_inverse=True)`` in linear time
    (a presence mask over the nodes instead of a sort), for millions of
    snapped cells.

    Examples
    --------
    >>> distinct_nodes(np.array([4, 1, 4]), 6)
    (array([1, 4]), array([1, 0, 1]))
    """
    arr = np.asarray(nodes, dtype=np.intp).ravel()
    present = np.zeros(n_nodes, dtype=bool)
    present[arr] = True
    distinct = np.flatnonzero(present).astype(np.intp)
    index = np.cumsum(present, dtype=np.intp) - 1
    return distinct, index[arr]


def expand_pairs(
    found: Reach, inverse: NDArray[np.intp], targets: NDArray[np.intp], n_nodes: int
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
    """Entries of searches from distinct nodes, expanded to every source and target copy.

    Parameters
    ----------
    found
        Result of :func:`reach` from the distinct source nodes.
    inverse
        Distinct source (index into the searched sources) of each source copy.
    targets
        Node position of each target copy (several copies may share a node).
    n_nodes
        Number of nodes of the graph.

    Returns
    -------
    entry, source, target
        One row per (source copy, target copy) pair whose target node the
        search of the source's node reached: the entry of ``found`` it comes
        from, the source copy and the target copy.

    Examples
    --------
    Two origins on node 0 and two facilities on node 1 (reached in 60 s):

    >>> import numpy as np
    >>> found = Reach(np.array([0, 2]), np.array([0, 1], np.int32), np.array([0.0, 60.0]))
    >>> e, s, t = expand_pairs(found, np.array([0, 0]), np.array([1, 1, 2]), 3)
    >>> e.tolist(), s.tolist(), t.tolist()
    ([1, 1, 1, 1], [0, 0, 1, 1], [0, 1, 0, 1])
    """
    k = found.source
    v = found.node.astype(np.int64)
    inv = np.asarray(inverse, dtype=np.int64).ravel()
    tg = np.asarray(targets, dtype=np.int64).ravel()
    s_order = np.argsort(inv, kind="stable")
    s_count = np.bincount(inv, minlength=found.indptr.size - 1)
    s_start = np.cumsum(s_count) - s_count
    t_order = np.argsort(tg, kind="stable")
    t_count = np.bincount(tg, minlength=n_nodes)
    t_start = np.cumsum(t_count) - t_count
    tc = t_count[v]
    mult = s_count[k] * tc
    entry = np.repeat(np.arange(k.size, dtype=np.int64), mult)
    within = np.arange(entry.size, dtype=np.int64) - np.repeat(np.cumsum(mult) - mult, mult)
    per = tc[entry]
    source = s_order[s_start[k[entry]] + within // per]
    target = t_order[t_start[v[entry]] + within % per]
    return entry, source.astype(np.int64), target.astype(np.int64)


# --------------------------------------------------------------------------- plumbing


def _csr(graph: sp.csr_array | sp.csr_matrix) -> tuple[NDArray[np.int64], NDArray[np.int32], NDArray[np.float64], int]:
    """The three CSR arrays in the kernels' dtypes (no copy when they already match)."""
    g = graph if sp.isspmatrix_csr(graph) or isinstance(graph, sp.csr_array) else sp.csr_array(graph)
    n = int(g.shape[0])
    return (
        np.asarray(g.indptr, dtype=np.int64),
        np.asarray(g.indices, dtype=np.int32),
        np.asarray(g.data, dtype=np.float64),
        n,
    )


def _threads(n_sources: int) -> int:
    return max(1, min(int(numba.get_num_threads()), n_sources // _MIN_CHUNK))


def _run_chunks(run: Callable[[slice], _T], n_sources: int) -> Sequence[_T]:
    """``run`` over consecutive slices of the sources, on the kernel threads, results in order."""
    if n_sources == 0:
        return []
    threads = _threads(n_sources)
    if threads == 1:
        return [run(slice(0, n_sources))]
    n_chunks = min(4 * threads, max(1, n_sources // _MIN_CHUNK))
    bounds = np.linspace(0, n_sources, n_chunks + 1).astype(np.int64)
    slices = [slice(int(a), int(b)) for a, b in itertools.pairwise(bounds)]
    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(run, slices))


# --------------------------------------------------------------------------- numba kernels


@njit(nogil=True, cache=True, inline="always")
def _sift_up(hn: Any, hk: Any, pos: Any, i: int, v: int, key: float) -> None:  # pragma: no cover - compiled
    """Place node ``v`` with ``key`` at heap slot ``i`` and move it up."""
    while i > 0:
        parent = (i - 1) >> 1
        if hk[parent] <= key:
            break
        u = hn[parent]
        hn[i] = u
        hk[i] = hk[parent]
        pos[u] = i
        i = parent
    hn[i] = v
    hk[i] = key
    pos[v] = i


@njit(nogil=True, cache=True, inline="always")
def _lower(hn: Any, hk: Any, pos: Any, dist: Any, size: int, v: int, t: float) -> int:  # pragma: no cover - compiled
    """Set the time of ``v`` to ``t`` (lower than before): insert it or move it up; return the heap size."""
    dist[v] = t
    i = pos[v]
    if i < 0:
        i = size
        size += 1
    _sift_up(hn, hk, pos, i, v, t)
    return size


@njit(nogil=True, cache=True, inline="always")
def _pop(hn: Any, hk: Any, pos: Any, size: int) -> int:  # pragma: no cover - compiled
    """Remove the heap's top (already read by the caller); return the new size."""
    size -= 1
    if size > 0:
        last = hn[size]
        key = hk[size]
        i = 0
        while True:
            c = 2 * i + 1
            if c >= size:
                break
            if c + 1 < size and hk[c + 1] < hk[c]:
                c += 1
            if hk[c] >= key:
                break
            hn[i] = hn[c]
            hk[i] = hk[c]
            pos[hn[i]] = i
            i = c
        hn[i] = last
        hk[i] = key
        pos[last] = i
    return size


@njit(nogil=True, cache=True)
def _search(
    indptr: Any,
    indices: Any,
    data: Any,
    sources: Any,
    starts: Any,
    cutoff: float,
    dist: Any,
    pos: Any,
    hn: Any,
    hk: Any,
    order: Any,
) -> int:  # pragma: no cover - compiled
    """Dijkstra from ``sources`` (each starting at its time in ``starts``) up to ``cutoff``.

    Fills ``order[:k]`` with the settled nodes in the order they were
    settled and returns ``k``. ``dist`` must be ``inf`` and ``pos`` ``-1``
    everywhere on entry; after the call ``dist`` holds the times of
    ``order[:k]`` and ``pos`` is ``-2`` there (the caller resets both).
    Nothing beyond ``cutoff`` is pushed, so the heap is empty at the end.
    """
    size = 0
    for s in range(sources.size):
        v = sources[s]
        t = starts[s]
        if t <= cutoff and t < dist[v]:
            size = _lower(hn, hk, pos, dist, size, v, t)
    k = 0
    while size > 0:
        v = hn[0]
        d = hk[0]
        size = _pop(hn, hk, pos, size)
        pos[v] = -2
        order[k] = v
        k += 1
        for e in range(indptr[v], indptr[v + 1]):
            u = indices[e]
            if pos[u] == -2:
                continue
            nd = d + data[e]
            if nd <= cutoff and nd < dist[u]:
                size = _lower(hn, hk, pos, dist, size, u, nd)
    return k


@njit(nogil=True, cache=True)
def _workspace(n: int) -> tuple[Any, Any, Any, Any, Any]:  # pragma: no cover - compiled
    dist = np.full(n, np.inf)
    pos = np.full(n, -1, dtype=np.int32)
    hn = np.empty(n, dtype=np.int32)
    hk = np.empty(n, dtype=np.float64)
    order = np.empty(n, dtype=np.int32)
    return dist, pos, hn, hk, order


@njit(nogil=True, cache=True)
def _reach_chunk(
    indptr: Any, indices: Any, data: Any, n: int, sources: Any, cutoffs: Any, mask: Any
) -> tuple[Any, Any, Any]:  # pragma: no cover - compiled
    dist, pos, hn, hk, order = _workspace(n)
    zero = np.zeros(1)
    use_mask = mask.size > 0
    counts = np.zeros(sources.size, dtype=np.int64)
    cap = max(1024, 16 * sources.size)
    out_node = np.empty(cap, dtype=np.int32)
    out_time = np.empty(cap, dtype=np.float64)
    m = 0
    for s in range(sources.size):
        k = _search(indptr, indices, data, sources[s : s + 1], zero, cutoffs[s], dist, pos, hn, hk, order)
        if m + k > cap:
            while m + k > cap:
                cap *= 2
            grown_node = np.empty(cap, dtype=np.int32)
            grown_time = np.empty(cap, dtype=np.float64)
            grown_node[:m] = out_node[:m]
            grown_time[:m] = out_time[:m]
            out_node, out_time = grown_node, grown_time
        c = 0
        for q in range(k):
            v = order[q]
            if not use_mask or mask[v]:
                out_node[m] = v
                out_time[m] = dist[v]
                m += 1
                c += 1
            dist[v] = np.inf
            pos[v] = -1
        counts[s] = c
    return counts, out_node[:m].copy(), out_time[:m].copy()


@njit(nogil=True, cache=True)
def _spread_chunk(
    indptr: Any, indices: Any, data: Any, n: int, sources: Any, cutoff: float, weights: Any
) -> Any:  # pragma: no cover - compiled
    dist, pos, hn, hk, order = _workspace(n)
    zero = np.zeros(1)
    acc = np.zeros(n)
    for s in range(sources.size):
        k = _search(indptr, indices, data, sources[s : s + 1], zero, cutoff, dist, pos, hn, hk, order)
        w = weights[s]
        for q in range(k):
            v = order[q]
            acc[v] += w
            dist[v] = np.inf
            pos[v] = -1
    return acc


@njit(nogil=True, cache=True)
def _gather_chunk(
    indptr: Any, indices: Any, data: Any, n: int, sources: Any, cutoff: float, node_weight: Any
) -> Any:  # pragma: no cover - compiled
    dist, pos, hn, hk, order = _workspace(n)
    zero = np.zeros(1)
    out = np.zeros(sources.size)
    for s in range(sources.size):
        k = _search(indptr, indices, data, sources[s : s + 1], zero, cutoff, dist, pos, hn, hk, order)
        total = 0.0
        for q in range(k):
            v = order[q]
            total += node_weight[v]
            dist[v] = np.inf
            pos[v] = -1
        out[s] = total
    return out


@njit(nogil=True, cache=True)
def _nearest_all(indptr: Any, indices: Any, data: Any, n: int, sources: Any, start: Any) -> Any:  # pragma: no cover
    dist, pos, hn, hk, order = _workspace(n)
    _search(indptr, indices, data, sources, start, np.inf, dist, pos, hn, hk, order)
    return dist
