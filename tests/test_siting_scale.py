"""MCLP at scale: the swap search against brute force, aggregation before the size check, the limit covers building."""

from __future__ import annotations

import time
from itertools import combinations

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planning.siting import MCLP
from planning.siting.coverage_search import CoverageLists, SwapSearchThread, iterated_swaps
from planning.siting.inputs import _pairs_from_cost, _validate_cost

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def coverage(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, int, np.ndarray]:
    k, m = draw(st.integers(1, 25)), draw(st.integers(2, 8))
    seed = draw(st.integers(0, 10_000))
    rng = np.random.default_rng(seed)
    a = rng.random((k, m)) < draw(st.floats(0.1, 0.6))
    w = rng.integers(1, 30, k).astype(float)
    p = draw(st.integers(1, m - 1))
    fixed = np.zeros(m, dtype=bool)
    fixed[rng.choice(m, draw(st.integers(0, min(p, 2))), replace=False)] = True
    return a, w, p, fixed


def brute_best(a: np.ndarray, w: np.ndarray, p: int, fixed: np.ndarray) -> float:
    m = a.shape[1]
    return max(
        float(w[a[:, list(s)].any(axis=1)].sum())
        for s in combinations(range(m), p)
        if set(np.flatnonzero(fixed)) <= set(s)
    )


@pytest.mark.slow
@SETTINGS
@given(coverage())
def test_swaps_keep_p_and_fixed_and_report_the_true_value(case: tuple) -> None:
    a, w, p, fixed = case
    m = a.shape[1]
    lists = CoverageLists.from_matrix(sp.csr_array(a.astype(float)), w)
    start = fixed.copy()
    start[np.flatnonzero(~fixed)[: p - int(fixed.sum())]] = True
    y, value = iterated_swaps(lists, start, ~fixed, np.ones(m, bool), 0.05, seed=3)
    assert y.sum() == p and y[fixed].all()  # swaps keep the size and never close a fixed site
    assert value == float(w[a[:, y].any(axis=1)].sum())
    assert value >= float(w[a[:, start].any(axis=1)].sum())
    assert value <= brute_best(a, w, p, fixed)
    # a closed candidate is never opened
    closed = ~start & (np.arange(m) % 2 == 0)
    y2, _ = iterated_swaps(lists, start, ~fixed, ~closed, 0.02, seed=4)
    assert not (y2 & closed).any()


def test_swaps_find_the_optimum_of_small_instances() -> None:
    rng = np.random.default_rng(11)
    hits = 0
    for _ in range(20):
        a = rng.random((40, 10)) < 0.25
        w = rng.integers(1, 30, 40).astype(float)
        lists = CoverageLists.from_matrix(sp.csr_array(a.astype(float)), w)
        start = np.zeros(10, bool)
        start[:3] = True
        _, value = iterated_swaps(lists, start, np.ones(10, bool), np.ones(10, bool), 0.05)
        hits += value == brute_best(a, w, 3, np.zeros(10, bool))
    assert hits == 20


def _swap_instance(
    seed: int, n: int, m: int, density: float, p: int
) -> tuple[np.ndarray, np.ndarray, CoverageLists, np.ndarray]:
    """A random coverage instance (``n`` clients × ``m`` sites) and a start with the first ``p`` sites open."""
    rng = np.random.default_rng(seed)
    a = rng.random((n, m)) < density
    w = rng.integers(1, 30, n).astype(float)
    start = np.zeros(m, bool)
    start[:p] = True
    return a, w, CoverageLists.from_matrix(sp.csr_array(a.astype(float)), w), start


@pytest.mark.timeout(60)
def test_a_converged_swap_search_stops_before_its_budget() -> None:
    """With ``patience`` the search ends once nothing better turns up (a small instance: not a day's budget)."""
    a, w, lists, start = _swap_instance(5, 30, 8, 0.3, 3)
    _, value = iterated_swaps(lists, start, np.ones(8, bool), np.ones(8, bool), 86_400.0, patience=5)
    assert value == brute_best(a, w, 3, np.zeros(8, bool))


def test_swap_thread_keeps_the_best_it_reports() -> None:
    a, w, lists, start = _swap_instance(2, 300, 40, 0.1, 5)
    search = SwapSearchThread(lists, start, np.ones(40, bool), np.ones(40, bool), 5.0)
    t0 = time.perf_counter()
    y, value = search.finish()  # stops after its current batch, long before 5 s
    assert time.perf_counter() - t0 < 4.0
    assert value == float(w[a[:, y].any(axis=1)].sum()) >= float(w[a[:, start].any(axis=1)].sum())


def test_clients_with_one_coverage_set_are_one_row_before_the_size_check() -> None:
    # 4,000 cells in 4 tight clusters around 4 candidates: 4,000 × 1 raw pairs, 4 distinct coverage sets
    rng = np.random.default_rng(1)
    centres = np.array([[0, 0], [5000, 0], [0, 5000], [5000, 5000]], float)
    cells = centres[np.repeat(np.arange(4), 1000)] + rng.normal(0, 50, (4000, 2))
    cost = np.hypot(*(cells[:, None, :] - centres[None, :, :]).transpose(2, 0, 1))
    w = rng.integers(1, 9, 4000).astype(float)
    res = MCLP.from_cost_matrix(cost, w, 1000.0, 2, max_exact_size=100).solve()
    assert res.status == "optimal" and res.method == "highs-benders"  # 4 aggregated nonzeros ≤ 100: exact
    best = sorted(np.bincount(np.repeat(np.arange(4), 1000), weights=w))[-2:]
    assert res.objective == sum(best)
    # above the limit even after aggregation: the heuristic, with a note
    small = MCLP.from_cost_matrix(cost, w, 1000.0, 2, max_exact_size=3).solve()
    assert small.status == "heuristic" and "zu groß (4 Nichtnullen" in small.notes[0]


@pytest.mark.slow
def test_time_limit_covers_building_the_model() -> None:
    rng = np.random.default_rng(5)
    d, c = rng.uniform(0, 20_000, (6000, 2)), rng.uniform(0, 20_000, (300, 2))
    cost = np.hypot(*(d[:, None, :] - c[None, :, :]).transpose(2, 0, 1))
    w = rng.integers(1, 50, 6000).astype(float)
    model = MCLP.from_cost_matrix(cost, w, float(np.quantile(cost, 0.05)), 20, time_limit=4.0)
    time.sleep(0.5)  # between building and solving: not counted
    t0 = time.perf_counter()
    res = model.solve()
    solve_wall = time.perf_counter() - t0
    assert model._build_s > 0
    assert res.seconds >= solve_wall + model._build_s - 1e-3  # the reported time includes the build
    assert res.seconds <= 4.0 + 2.5  # the limit, plus finishing the result (HiGHS stops at its own limit)


def test_pairs_are_sorted_by_cost_within_each_row_and_duplicates_refused() -> None:
    rng = np.random.default_rng(3)
    dense = rng.integers(1, 6, (50, 12)).astype(float)  # many ties (no 0: a sparse matrix would drop it)
    coo, _, problems = _validate_cost(sp.coo_array(dense))
    assert not problems
    pairs = _pairs_from_cost(coo, None, 3.0)
    for i in range(50):
        cols = pairs.indices[pairs.indptr[i] : pairs.indptr[i + 1]]
        costs = pairs.cost[pairs.indptr[i] : pairs.indptr[i + 1]]
        order = np.lexsort((np.flatnonzero(dense[i] <= 3.0), dense[i][dense[i] <= 3.0]))
        np.testing.assert_array_equal(cols, np.flatnonzero(dense[i] <= 3.0)[order])
        np.testing.assert_array_equal(costs, np.sort(dense[i][dense[i] <= 3.0]))
    dense_pairs = _pairs_from_cost(None, dense, 3.0)
    np.testing.assert_array_equal(dense_pairs.indices, pairs.indices)
    dup = sp.coo_array((np.array([1.0, 2.0]), (np.array([0, 0]), np.array([1, 1]))), shape=(2, 2))
    assert any("doppelte" in str(p) for p in _validate_cost(dup)[2])
