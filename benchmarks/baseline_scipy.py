"""The scipy-based searches of ``main`` before the bounded kernels (commit a0819bb), kept as the benchmark baseline.

Each function is the code of that commit with the project's validation left
out: one ``scipy.sparse.csgraph.dijkstra(limit=...)`` call per block of
sources, each returning a dense row over **all** nodes per source.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray
from scipy.sparse.csgraph import dijkstra

from planning.transit import _csr  # unchanged since a0819bb

BLOCK_CELLS = 10_000_000  # planning.network / planning.opportunities
TRANSIT_BLOCK_CELLS = 8_000_000  # planning.transit


def travel_time_matrix(net, origins: NDArray[np.intp], dests: NDArray[np.intp], cutoff_s: float) -> sp.csr_array:
    """``planning.network.travel_time_matrix`` of a0819bb."""
    from_dest = np.unique(dests).size <= np.unique(origins).size
    sources, targets = (dests, origins) if from_dest else (origins, dests)
    graph = net.reverse if from_dest else net.matrix
    distinct, inverse = np.unique(sources, return_inverse=True)
    order = np.argsort(inverse, kind="stable")
    counts = np.bincount(inverse, minlength=distinct.size)
    offsets = np.concatenate([[0], np.cumsum(counts)])
    rows, cols, vals = [], [], []
    width = max(net.n_nodes, targets.size)
    step = max(1, BLOCK_CELLS // max(width, 1))
    for start in range(0, distinct.size, step):
        dist = np.atleast_2d(dijkstra(graph, directed=True, indices=distinct[start : start + step], limit=cutoff_s))
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


def cumulative_opportunities(net, origins: NDArray[np.intp], facilities: NDArray[np.intp], cutoff_s: float):
    """``planning.opportunities.cumulative_opportunities`` of a0819bb (unit weights)."""
    w = np.ones(facilities.size)
    fac_nodes, fac_inverse = np.unique(facilities, return_inverse=True)
    fac_weight = np.bincount(fac_inverse, weights=w, minlength=fac_nodes.size)
    org_nodes, org_inverse = np.unique(origins, return_inverse=True)
    n = net.n_nodes
    step = max(1, BLOCK_CELLS // max(n, 1))
    if fac_nodes.size <= org_nodes.size:
        per_node = np.zeros(n)
        for start in range(0, fac_nodes.size, step):
            block = slice(start, start + step)
            dist = np.atleast_2d(dijkstra(net.reverse, directed=True, indices=fac_nodes[block], limit=cutoff_s))
            row, node = np.nonzero(dist <= cutoff_s)
            per_node += np.bincount(node, weights=fac_weight[block][row], minlength=n)
        per_origin = per_node[org_nodes]
    else:
        node_weight = np.zeros(n)
        node_weight[fac_nodes] = fac_weight
        per_origin = np.empty(org_nodes.size)
        for start in range(0, org_nodes.size, step):
            block = slice(start, start + step)
            dist = np.atleast_2d(dijkstra(net.matrix, directed=True, indices=org_nodes[block], limit=cutoff_s))
            row, col = np.nonzero(dist[:, fac_nodes] <= cutoff_s)
            per_origin[block] = np.bincount(row, weights=fac_weight[col], minlength=dist.shape[0])
    return np.asarray(per_origin[org_inverse], dtype=np.float64)


def network_table(matrix, src_node, src_off, dst_node, dst_off, limit) -> sp.csr_array:
    """``planning.transit._network_table`` of a0819bb."""
    n_src, n_dst = len(src_node), len(dst_node)
    rows, cols, vals = [], [], []
    ok = np.flatnonzero(np.isfinite(src_off))
    uniq, inv = np.unique(src_node[ok], return_inverse=True)
    block = max(1, TRANSIT_BLOCK_CELLS // max(1, matrix.shape[0]))
    for b0 in range(0, uniq.size, block):
        part = uniq[b0 : b0 + block]
        dist = np.atleast_2d(dijkstra(matrix, directed=True, indices=part, limit=limit))[:, dst_node]
        sel = (inv >= b0) & (inv < b0 + part.size)
        members = ok[sel]
        t = dist[inv[sel] - b0] + src_off[members, None] + dst_off[None, :]
        r, c = np.nonzero(t <= limit)
        rows.append(members[r])
        cols.append(c)
        vals.append(t[r, c])
    r_all = np.concatenate(rows) if rows else np.empty(0, np.intp)
    c_all = np.concatenate(cols) if cols else np.empty(0, np.intp)
    v_all = np.concatenate(vals) if vals else np.empty(0)
    return _csr(v_all, r_all, c_all, (n_src, n_dst))


def nearest_on_network(net, f_node, f_off, o_node, o_off) -> NDArray[np.float64]:
    """``planning.transit._nearest_on_network`` of a0819bb (one search from a virtual node)."""
    ok = np.isfinite(f_off)
    n = net.n_nodes
    rev = net.reverse.tocoo()
    rows = np.concatenate([rev.row, np.full(int(ok.sum()), n)])
    cols = np.concatenate([rev.col, f_node[ok]])
    data = np.concatenate([rev.data, f_off[ok]])
    aug = _csr(data, rows, cols, (n + 1, n + 1))
    dist = dijkstra(aug, directed=True, indices=n)
    return np.asarray(dist[o_node] + o_off, dtype=np.float64)
