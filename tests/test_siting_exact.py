"""Proofs of the exact p-median: every ``optimal`` is checked against an independent bound, the best is never lost."""

from __future__ import annotations

import sys
from itertools import combinations
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import Bounds, LinearConstraint, linprog, milp

from planning.siting import PMedian

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import orlib

SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _points(seed: int, n: int, m: int, integral: bool = False) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    d = rng.uniform(0, 10_000, (n, 2))
    c = rng.uniform(0, 10_000, (m, 2))
    cost = np.hypot(*(d[:, None, :] - c[None, :, :]).transpose(2, 0, 1))
    w = rng.integers(1, 50, n).astype(float)
    if integral:
        cost = np.round(cost)
    return cost, w


def _brute(cost: np.ndarray, w: np.ndarray, p: int) -> float:
    return min(float((w * cost[:, list(s)].min(axis=1)).sum()) for s in combinations(range(cost.shape[1]), p))


def _plain(cost: np.ndarray, w: np.ndarray, p: int, relax: bool) -> float:
    """The classic assignment formulation (``x_ij ≤ y_j``), as MIP or as LP relaxation, with HiGHS."""
    n, m = cost.shape
    nx = n * m
    i, j = np.divmod(np.arange(nx), m)
    assign = sp.csr_array((np.ones(nx), (i, m + np.arange(nx))), shape=(n, m + nx))
    e = np.arange(nx)
    link = sp.csr_array((np.r_[np.ones(nx), -np.ones(nx)], (np.r_[e, e], np.r_[m + e, j])), shape=(nx, m + nx))
    card = sp.csr_array((np.ones(m), (np.zeros(m, dtype=np.int64), np.arange(m))), shape=(1, m + nx))
    c = np.r_[np.zeros(m), (w[:, None] * cost).ravel()]
    if relax:
        res = linprog(
            c,
            A_ub=link,
            b_ub=np.zeros(nx),
            A_eq=sp.vstack([assign, card]),
            b_eq=np.r_[np.ones(n), p],
            bounds=(0, 1),
            method="highs",
        )
        return float(res.fun)
    res = milp(
        c,
        constraints=[LinearConstraint(assign, 1, 1), LinearConstraint(link, -np.inf, 0), LinearConstraint(card, p, p)],
        integrality=np.r_[np.ones(m), np.zeros(nx)],
        bounds=Bounds(0, 1),
    )
    return float(res.fun)


@SETTINGS
@given(st.integers(0, 10_000), st.integers(4, 30), st.integers(3, 9), st.integers(1, 4), st.booleans())
def test_every_optimal_equals_brute_force_and_lies_above_the_lp_bound(seed, n, m, p, integral) -> None:
    cost, w = _points(seed, n, m, integral)
    p = min(p, m)
    res = PMedian.from_cost_matrix(cost, w, p).solve()
    assert res.status == "optimal"
    assert res.gap == 0.0 and res.bound == res.objective
    assert res.objective == pytest.approx(_brute(cost, w, p), rel=1e-9)
    assert _plain(cost, w, p, relax=True) <= res.objective * (1 + 1e-9)


@pytest.mark.parametrize(("seed", "p"), [(1, 3), (2, 6), (3, 10)])
def test_optimal_equals_the_plain_assignment_model(seed, p) -> None:
    cost, w = _points(seed, 80, 40)
    res = PMedian.from_cost_matrix(cost, w, p).solve()
    assert res.status == "optimal" and res.gap == 0.0
    assert res.objective == pytest.approx(_plain(cost, w, p, relax=False), rel=1e-7)


def test_orlib_parser_keeps_the_last_duplicate_edge_and_uses_shortest_paths() -> None:
    inst = orlib.parse("4 4 2\n1 2 7\n2 3 1\n3 4 2\n1 2 3\n")
    assert inst.cost[0].tolist() == [0.0, 3.0, 4.0, 6.0]
    res = PMedian.from_cost_matrix(inst.cost, np.ones(4), inst.p).solve()
    assert res.objective == pytest.approx(_brute(inst.cost, np.ones(4), 2))


def _hard_instance() -> tuple[np.ndarray, np.ndarray]:
    # clustered demand with unit weights: many near-ties, a real branch-and-bound is needed for p = 8
    rng = np.random.default_rng(7)
    centres = rng.uniform(0, 10_000, (12, 2))
    pts = centres[rng.integers(0, 12, 700)] + rng.normal(0, 900, (700, 2))
    cost = np.round(np.hypot(*(pts[:, None, :] - pts[None, :350, :]).transpose(2, 0, 1)))
    return cost, np.ones(700)


def test_a_longer_time_limit_never_returns_a_worse_solution() -> None:
    cost, w = _hard_instance()
    results = [PMedian.from_cost_matrix(cost, w, 8, time_limit=t).solve() for t in (0.05, 0.5, 60.0)]
    objectives = [r.objective for r in results]
    assert objectives == sorted(objectives, reverse=True)
    assert results[-1].status == "optimal"
    for r in results:
        assert r.bound <= results[-1].objective + 1e-6 <= r.objective + 1e-6
        assert r.status in {"optimal", "time_limit"}
        if r.status == "time_limit":
            assert r.gap > 0 and np.isfinite(r.gap)
            assert any("höchstens" in note for note in r.notes)


def test_the_time_limit_is_kept() -> None:
    cost, w = _hard_instance()
    res = PMedian.from_cost_matrix(cost, w, 8, time_limit=0.3).solve()
    assert res.seconds < 0.3 + 2.0
    assert res.bound <= res.objective


def test_the_heuristic_fallback_is_never_better_than_the_exact_answer() -> None:
    cost, w = _points(11, 150, 60)
    exact = PMedian.from_cost_matrix(cost, w, 5).solve()
    fallback = PMedian.from_cost_matrix(cost, w, 5, max_exact_size=10).solve()
    assert fallback.status == "heuristic"
    assert exact.objective <= fallback.objective
    assert fallback.bound <= exact.objective + 1e-6
