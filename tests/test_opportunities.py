"""Cumulative opportunities: hand-computed tiny networks and a brute-force property."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.sparse.csgraph import dijkstra

from geo.errors import DataError
from geo.network import Network
from planning import shortest_paths
from planning.opportunities import cumulative_opportunities


def network(n: int, edges: list[tuple[int, int, float]], mode: str = "drive") -> Network:
    u, v, t = zip(*edges, strict=True) if edges else ((), (), ())
    matrix = sp.csr_array((np.asarray(t, float), (np.asarray(u, int), np.asarray(v, int))), shape=(n, n))
    return Network(matrix, np.arange(n, dtype=np.int64), np.zeros((n, 2)), mode)


# 0 ⇄ 1 ⇄ 2 ⇄ 3 (120 s each, both ways) and a one-way shortcut 3 → 0 of 60 s
LINE = network(
    4, [(0, 1, 120.0), (1, 0, 120.0), (1, 2, 120.0), (2, 1, 120.0), (2, 3, 120.0), (3, 2, 120.0), (3, 0, 60.0)]
)


def test_counts_on_a_line_with_a_one_way_shortcut() -> None:
    # Kitas at nodes 0 and 2. From 3: to 0 by the shortcut in 60 s, to 2 in 120 s.
    got = cumulative_opportunities(LINE, [0, 1, 2, 3], [0, 2], cutoff_s=120.0)
    np.testing.assert_array_equal(got, [1, 2, 1, 2])  # 0: itself (2 is 240 s away); 1: both at 120 s
    # direction matters: from 0 to 3 is 360 s, from 3 to 0 is 60 s
    np.testing.assert_array_equal(cumulative_opportunities(LINE, [3, 0], [0, 3], cutoff_s=60.0), [2, 1])
    # the cut-off is inclusive, just below it is not
    np.testing.assert_array_equal(cumulative_opportunities(LINE, [1], [0, 2], cutoff_s=119.999), [0])


def test_weights_duplicates_and_both_search_directions(monkeypatch: pytest.MonkeyPatch) -> None:
    # two Kitas on node 2 (places 30 and 45), one on node 0 (places 20)
    fac, w = [2, 0, 2], [30.0, 20.0, 45.0]
    expected = [20.0, 95.0, 75.0, 95.0]  # 1 reaches 0 and 2 within 120 s; 3 reaches 0 (60 s) and 2 (120 s)
    origins = [0, 1, 2, 3]
    np.testing.assert_array_equal(cumulative_opportunities(LINE, origins, fac, 120.0, weights=w), expected)
    # more distinct facility nodes than origins: searches start at the origins, same answer
    np.testing.assert_array_equal(cumulative_opportunities(LINE, [1, 1, 3], fac, 120.0, weights=w), [95, 95, 95])
    # one source per chunk: the searches run on several threads, same answer
    monkeypatch.setattr(shortest_paths, "_MIN_CHUNK", 1)
    np.testing.assert_array_equal(cumulative_opportunities(LINE, origins, fac, 120.0, weights=w), expected)
    np.testing.assert_array_equal(cumulative_opportunities(LINE, [1, 1, 3], fac, 120.0, weights=w), [95, 95, 95])


def test_empty_inputs_and_errors(raises_matching) -> None:
    assert cumulative_opportunities(LINE, [], [0], 60.0).shape == (0,)
    np.testing.assert_array_equal(cumulative_opportunities(LINE, [0, 1], [], 60.0), [0, 0])
    with raises_matching(DataError, "Einrichtungen", "außerhalb des Netzes", "snap()"):
        cumulative_opportunities(LINE, [0], [7], 60.0)
    with raises_matching(DataError, "Startpunkte", "ganze Zahlen"):
        cumulative_opportunities(LINE, [0.5], [0], 60.0)
    with raises_matching(DataError, "Zeitgrenze"):
        cumulative_opportunities(LINE, [0], [0], -1.0)
    with raises_matching(DataError, "Gewichte", "2 Werte für 1 Einrichtungen"):
        cumulative_opportunities(LINE, [0], [0], 60.0, weights=[1.0, 2.0])
    with raises_matching(DataError, "Gewichte", "fehlen"):
        cumulative_opportunities(LINE, [0], [0], 60.0, weights=[np.nan])


@st.composite
def random_case(draw: st.DrawFn) -> tuple[Network, list[int], list[int], list[float], float]:
    n = draw(st.integers(1, 12))
    node = st.integers(0, n - 1)
    edges = draw(st.lists(st.tuples(node, node, st.integers(0, 100).map(float)), max_size=40))
    edges = [(u, v, t) for u, v, t in edges if u != v]
    origins = draw(st.lists(node, max_size=10))
    facilities = draw(st.lists(node, max_size=10))
    weights = draw(st.lists(st.integers(0, 9).map(float), min_size=len(facilities), max_size=len(facilities)))
    cutoff = float(draw(st.integers(0, 250)))
    return network(n, edges), origins, facilities, weights, cutoff


@settings(max_examples=150, deadline=None)
@given(case=random_case(), chunk=st.sampled_from([1, 5, 64]))
def test_equals_brute_force_dijkstra(
    case: tuple[Network, list[int], list[int], list[float], float], chunk: int
) -> None:
    net, origins, facilities, weights, cutoff = case
    full = dijkstra(net.matrix, directed=True)  # every origin → facility time
    expected = [sum(w for f, w in zip(facilities, weights, strict=True) if full[o, f] <= cutoff) for o in origins]
    old = shortest_paths._MIN_CHUNK
    shortest_paths._MIN_CHUNK = chunk  # small chunks: the searches are split over threads
    try:
        got = cumulative_opportunities(net, origins, facilities, cutoff, weights=weights)
        counts = cumulative_opportunities(net, origins, facilities, cutoff)
    finally:
        shortest_paths._MIN_CHUNK = old
    np.testing.assert_array_equal(got, expected)
    np.testing.assert_array_equal(counts, [sum(full[o, f] <= cutoff for f in facilities) for o in origins])
