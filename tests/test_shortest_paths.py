"""Bounded search kernels: bit-identical to scipy's Dijkstra on random graphs and on the real Aachen networks."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.sparse.csgraph import dijkstra

from geo.network import Network
from geo.settings import PROJECTED_CRS
from planning import shortest_paths
from planning.network import isochrones, snap, travel_time_matrix
from planning.opportunities import cumulative_opportunities
from planning.shortest_paths import Reach, expand_pairs, gather, nearest, reach, spread


@st.composite
def graphs(draw: st.DrawFn) -> sp.csr_array:
    """Random directed graphs with parallel edges, zero-length edges and non-integer lengths."""
    n = draw(st.integers(1, 14))
    node = st.integers(0, n - 1)
    length = st.one_of(st.integers(0, 40).map(float), st.floats(0, 40, allow_nan=False).map(lambda x: x / 3.0))
    edges = draw(st.lists(st.tuples(node, node, length), max_size=4 * n))
    u = np.array([e[0] for e in edges], dtype=np.int64)
    v = np.array([e[1] for e in edges], dtype=np.int64)
    t = np.array([e[2] for e in edges], dtype=np.float64)
    return csr_min(u, v, t, n)


def csr_min(u: np.ndarray, v: np.ndarray, t: np.ndarray, n: int) -> sp.csr_array:
    """CSR of the shortest of parallel edges, stored zeros kept (as Network.from_graph builds it)."""
    order = np.lexsort((t, v, u))
    u, v, t = u[order], v[order], t[order]
    first = np.r_[True, (u[1:] != u[:-1]) | (v[1:] != v[:-1])] if u.size else np.zeros(0, bool)
    return sp.csr_array((t[first], (u[first], v[first])), shape=(n, n))


def as_dense(m: sp.csr_array) -> np.ndarray:
    out = np.full(m.shape, np.inf)
    coo = m.tocoo()
    out[coo.row, coo.col] = coo.data
    return out


def dense(found: Reach, n_sources: int, n: int) -> np.ndarray:
    out = np.full((n_sources, n), np.inf)
    out[found.source, found.node] = found.time
    return out


@pytest.fixture(params=[64, 1], ids=["one-thread", "chunks-on-threads"])
def chunking(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> int:
    """Run a test once with one chunk and once with one source per chunk (several threads)."""
    monkeypatch.setattr(shortest_paths, "_MIN_CHUNK", request.param)
    return int(request.param)


@pytest.mark.slow
@settings(max_examples=150, deadline=None)
@given(g=graphs(), data=st.data())
def test_reach_equals_scipy_dijkstra_with_limit(g: sp.csr_array, data: st.DataObject) -> None:
    n = g.shape[0]
    sources = np.array(data.draw(st.lists(st.integers(0, n - 1), max_size=8)), dtype=np.int64)
    cutoffs = np.array(data.draw(st.lists(st.sampled_from([0.0, 1.0, 7.5, 20.0, 1e9]), min_size=sources.size,
                                          max_size=sources.size)))  # fmt: skip
    mask = np.array(data.draw(st.lists(st.booleans(), min_size=n, max_size=n)))
    for chunk in (64, 1):
        shortest_paths._MIN_CHUNK = chunk
        try:
            found = reach(g, sources, cutoffs)
            masked = reach(g, sources, cutoffs, mask)
        finally:
            shortest_paths._MIN_CHUNK = 64
        expected = np.full((sources.size, n), np.inf)
        for i, (s, c) in enumerate(zip(sources, cutoffs, strict=True)):
            expected[i] = dijkstra(g, directed=True, indices=int(s), limit=float(c))
        np.testing.assert_array_equal(dense(found, sources.size, n), expected)  # bit for bit
        np.testing.assert_array_equal(dense(masked, sources.size, n), np.where(mask, expected, np.inf))
        # each search lists its nodes once, in the order it settled them
        for i in range(sources.size):
            times = found.time[found.indptr[i] : found.indptr[i + 1]]
            assert np.all(np.diff(times) >= 0)
            assert np.unique(found.node[found.indptr[i] : found.indptr[i + 1]]).size == times.size


@settings(max_examples=150, deadline=None)
@given(g=graphs(), data=st.data())
def test_nearest_spread_gather_equal_brute_force(g: sp.csr_array, data: st.DataObject) -> None:
    n = g.shape[0]
    sources = np.array(data.draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=6)), dtype=np.int64)
    start = np.array(
        data.draw(st.lists(st.sampled_from([0.0, 0.5, 3.0, np.inf]), min_size=sources.size, max_size=sources.size))
    )
    weights = np.array(data.draw(st.lists(st.integers(0, 9), min_size=sources.size, max_size=sources.size)), float)
    cutoff = data.draw(st.sampled_from([0.0, 5.0, 30.0]))
    full = np.atleast_2d(dijkstra(g, directed=True, indices=sources))
    np.testing.assert_array_equal(nearest(g, sources), dijkstra(g, directed=True, indices=sources, min_only=True))
    # a start offset per source is the search from a virtual node n linked to each source by its offset
    coo = g.tocoo()
    ok = np.isfinite(start)
    aug = csr_min(
        np.r_[coo.row, np.full(int(ok.sum()), n)], np.r_[coo.col, sources[ok]], np.r_[coo.data, start[ok]], n + 1
    )
    virtual = dijkstra(aug, directed=True, indices=n)[:n]
    np.testing.assert_array_equal(nearest(g, sources, start), virtual)
    np.testing.assert_array_equal(spread(g, sources, cutoff, weights), ((full <= cutoff) * weights[:, None]).sum(0))
    node_weight = np.arange(n, dtype=float)
    np.testing.assert_array_equal(gather(g, sources, cutoff, node_weight), (full <= cutoff) @ node_weight)


@settings(max_examples=150, deadline=None)
@given(g=graphs(), data=st.data())
def test_walk_tables_equal_the_scipy_formula(g: sp.csr_array, data: st.DataObject) -> None:
    """``planning.transit`` walk tables: network time + source walk + target walk, within the limit, bit for bit."""
    from planning.transit import _network_tables, _pairs_csr

    n = g.shape[0]
    off = st.one_of(st.floats(0, 30, allow_nan=False), st.just(np.inf))
    src = np.array(data.draw(st.lists(st.integers(0, n - 1), max_size=7)), dtype=np.intp)
    dst = np.array(data.draw(st.lists(st.integers(0, n - 1), max_size=7)), dtype=np.intp)
    src_off = np.array(data.draw(st.lists(off, min_size=src.size, max_size=src.size)), dtype=float)
    dst_off = np.array(data.draw(st.lists(off, min_size=dst.size, max_size=dst.size)), dtype=float)
    limit = data.draw(st.sampled_from([0.0, 10.0, 33.3, 80.0]))
    t, rows, cols = _network_tables(g, src, src_off, [(dst, dst_off, limit), (src, src_off, 2 * limit)])[0]
    got = as_dense(_pairs_csr(t, rows, cols, (src.size, dst.size)))
    expected = np.full((src.size, dst.size), np.inf)
    if src.size and dst.size:
        dist = np.atleast_2d(dijkstra(g, directed=True, indices=src, limit=limit))[:, dst]
        t = dist + src_off[:, None] + dst_off[None, :]
        expected = np.where(t <= limit, t, np.inf)
    np.testing.assert_array_equal(got, expected)


def test_expand_pairs_lists_every_copy_pair_once() -> None:
    # searches from distinct nodes 3 and 5; node 3 carries source copies 0 and 2, node 5 copy 1
    found = Reach(np.array([0, 2, 3]), np.array([3, 7, 7], np.int32), np.array([0.0, 4.0, 9.0]))
    entry, src, tgt = expand_pairs(found, np.array([0, 1, 0]), np.array([7, 1, 7, 3]), 8)
    got = sorted(zip(src.tolist(), tgt.tolist(), found.time[entry].tolist(), strict=True))
    assert got == [(0, 0, 4.0), (0, 2, 4.0), (0, 3, 0.0), (1, 0, 9.0), (1, 2, 9.0), (2, 0, 4.0), (2, 2, 4.0),
                   (2, 3, 0.0)]  # fmt: skip


def test_kernels_handle_empty_inputs() -> None:
    g = sp.csr_array((3, 3))
    none = np.zeros(0, dtype=np.int64)
    assert reach(g, none, 5.0).indptr.tolist() == [0]
    assert gather(g, none, 5.0, np.ones(3)).shape == (0,)
    np.testing.assert_array_equal(spread(g, none, 5.0, np.zeros(0)), np.zeros(3))
    np.testing.assert_array_equal(nearest(g, none), np.full(3, np.inf))
    # a negative cut-off reaches nothing, not even the source itself
    assert reach(g, np.array([1]), -1.0).node.size == 0


# ------------------------------------------------------------------ real networks


@pytest.fixture(scope="module", params=["walk", "bike", "drive"])
def aachen_net(request: pytest.FixtureRequest, aachen_osm_pbf: Path) -> Network:
    from geo.sources.osm_pbf import read_street_network

    return read_street_network(aachen_osm_pbf, request.param)


@pytest.fixture(scope="module")
def aachen_kitas(shared_data: Path) -> gpd.GeoDataFrame:
    facilities = gpd.read_file(shared_data / "facilities" / "aachen_osm2021_facilities.geojson")
    return facilities[facilities["amenity"] == "kindergarten"].to_crs(PROJECTED_CRS)


@pytest.mark.shared
def test_aachen_searches_equal_scipy_bit_for_bit(
    aachen_net: Network, aachen_kitas: gpd.GeoDataFrame, chunking: int
) -> None:
    net = aachen_net
    kitas = np.unique(snap(net, aachen_kitas, 500.0).node)
    rng = np.random.default_rng(21)
    origins = rng.choice(net.n_nodes, size=min(800, net.n_nodes), replace=False)
    cutoff = 600.0
    full = dijkstra(net.reverse, directed=True, indices=kitas, limit=cutoff)  # times *to* each Kita
    # bounded searches from every Kita
    found = reach(net.reverse, kitas, cutoff)
    np.testing.assert_array_equal(dense(found, kitas.size, net.n_nodes), full)
    # the origin × Kita matrix: searched from the Kitas (fewer distinct nodes) on the reversed network ...
    m = travel_time_matrix(net, origins, kitas, cutoff)
    np.testing.assert_array_equal(as_dense(m), full[:, origins].T)
    # ... and from 5 origins (fewer than the Kitas) on the network itself; the scipy call in the same direction
    # (summed from the other end, a path's time may differ in the last bit)
    few = np.r_[origins[:4], kitas[:1]]
    m = travel_time_matrix(net, few, kitas, cutoff)
    np.testing.assert_array_equal(as_dense(m), dijkstra(net.matrix, indices=few, limit=cutoff)[:, kitas])
    assert m[[4], [0]].tolist() == [0.0] and m[[4], :].nnz >= 1  # the origin on a Kita: a stored 0
    # Kitas within 10 minutes of every node (from the Kita side) and of 5 nodes (from the origin side)
    counts = (full <= cutoff).sum(axis=0)
    np.testing.assert_array_equal(cumulative_opportunities(net, np.arange(net.n_nodes), kitas, cutoff), counts)
    np.testing.assert_array_equal(cumulative_opportunities(net, origins[:5], kitas, cutoff), counts[origins[:5]])
    # the one search over the whole network
    np.testing.assert_array_equal(
        nearest(net.reverse, kitas), dijkstra(net.reverse, directed=True, indices=kitas, min_only=True)
    )


@pytest.mark.shared
def test_aachen_isochrones_hold_the_nodes_scipy_reaches(aachen_osm_pbf: Path, aachen_kitas: gpd.GeoDataFrame) -> None:
    import shapely

    from geo.sources.osm_pbf import read_street_network

    net = read_street_network(aachen_osm_pbf, "walk")
    some = aachen_kitas.iloc[:5]
    iso = isochrones(net, some, minutes=(5,), buffer_m=1.0)
    nodes = snap(net, some, 500.0).node
    pts = shapely.points(net.xy)
    for row, node in zip(iso.itertuples(), nodes, strict=True):
        within = np.flatnonzero(dijkstra(net.reverse, directed=True, indices=int(node), limit=300.0) <= 300.0)
        assert shapely.covers(row.geometry, pts[within]).all()


@pytest.mark.shared
def test_aachen_walk_links_equal_scipy_searches(aachen_net: Network, aachen_kitas: gpd.GeoDataFrame) -> None:
    """Access, transfers, egress and walking-only times of the transit analysis, as the scipy searches give them."""
    from datetime import date

    from geo.sources.gtfs import Timetable
    from planning.transit import TransitSettings, _snap, walk_links

    net = aachen_net
    rng = np.random.default_rng(5)
    lo, hi = net.xy.min(axis=0), net.xy.max(axis=0)
    stops_xy = rng.uniform(lo, hi, (150, 2))
    origins_xy = rng.uniform(lo, hi, (1500, 2))
    kitas_xy = np.column_stack([aachen_kitas.geometry.centroid.x, aachen_kitas.geometry.centroid.y])
    tt = Timetable.from_trips(
        feed="x", day=date(2026, 1, 6), window=(0, 600), stop_ids=np.array([f"s{i}" for i in range(150)], object),
        stop_names=np.full(150, "", object), stop_xy=stops_xy,
        trips=[("r", "t", np.array([0, 1]), np.array([0, 60]), np.array([0, 60]))],
    )  # fmt: skip
    s = TransitSettings(day=date(2026, 1, 6), max_walk_s=600.0, max_transfer_walk_s=400.0)
    links = walk_links(tt, origins_xy, kitas_xy, s, net, matrix_cutoff_s=500.0)
    o_node, o_off = _snap(net, origins_xy, s)
    s_node, s_off = _snap(net, stops_xy, s)
    f_node, f_off = _snap(net, kitas_xy, s)

    def table(graph: sp.csr_array, src: np.ndarray, soff: np.ndarray, dst: np.ndarray, doff: np.ndarray, limit: float):
        t = dijkstra(graph, directed=True, indices=src, limit=limit)[:, dst] + soff[:, None] + doff[None, :]
        return np.where(t <= limit, t, np.inf)

    np.testing.assert_array_equal(as_dense(links.access), table(net.reverse, s_node, s_off, o_node, o_off, 600.0).T)
    transfers = table(net.matrix, s_node, s_off, s_node, s_off, 400.0)
    np.fill_diagonal(transfers, 0.0)
    np.testing.assert_array_equal(as_dense(links.transfers), transfers)
    np.testing.assert_array_equal(as_dense(links.egress), table(net.matrix, s_node, s_off, f_node, f_off, 600.0))
    assert links.walk_matrix is not None
    np.testing.assert_array_equal(
        as_dense(links.walk_matrix), table(net.reverse, f_node, f_off, o_node, o_off, 500.0).T
    )
    # walking only: one search from a virtual node linked to every facility node by its snapping walk
    ok = np.isfinite(f_off)
    rev, n = net.reverse.tocoo(), net.n_nodes
    aug = csr_min(
        np.r_[rev.row, np.full(int(ok.sum()), n)], np.r_[rev.col, f_node[ok]], np.r_[rev.data, f_off[ok]], n + 1
    )
    np.testing.assert_array_equal(links.walk_only, dijkstra(aug, directed=True, indices=n)[o_node] + o_off)
