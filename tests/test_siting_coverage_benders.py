"""Benders MCLP: every ``optimal`` equals an independent optimum, cuts are valid, limits keep the best."""

from __future__ import annotations

import time
from itertools import combinations

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import Bounds, LinearConstraint, linprog, milp

from geo.errors import InfeasibleError
from planning.siting import MCLP
from planning.siting.coverage_benders import MCLPBenders

SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _points(seed: int, n: int, m: int, side: float = 10_000.0) -> tuple[np.ndarray, np.ndarray]:
    """Uniform points in a square (metres, EPSG:25832-like), integer weights."""
    rng = np.random.default_rng(seed)
    d = rng.uniform(0, side, (n, 2))
    c = rng.uniform(0, side, (m, 2))
    cost = np.hypot(*(d[:, None, :] - c[None, :, :]).transpose(2, 0, 1))
    return cost, rng.integers(1, 50, n).astype(float)


def _brute(cover: np.ndarray, w: np.ndarray, p: int, fixed: tuple[int, ...] = (), ok=None) -> float:
    """Best covered weight over all ``p``-subsets that contain ``fixed`` (and pass ``ok``)."""
    m = cover.shape[1]
    best = -np.inf
    for s in combinations(range(m), p):
        if not set(fixed) <= set(s) or (ok is not None and not ok(s)):
            continue
        best = max(best, float(w[cover[:, list(s)].any(axis=1)].sum()))
    return best


def _compact_lp(cover: np.ndarray, w: np.ndarray, p: int) -> float:
    """LP relaxation of the compact model ``z_i ≤ Σ_{j∈N(i)} y_j``, ``Σ y = p`` (independent of Benders)."""
    n, m = cover.shape
    a_ub = sp.hstack([-sp.csr_array(cover.astype(float)), sp.eye_array(n)])
    res = linprog(
        np.r_[np.zeros(m), -w],
        A_ub=a_ub,
        b_ub=np.zeros(n),
        A_eq=np.r_[np.ones(m), np.zeros(n)][None, :],
        b_eq=[p],
        bounds=(0, 1),
        method="highs",
    )
    return -float(res.fun)


instances = st.tuples(st.integers(0, 10_000), st.integers(5, 40), st.integers(2, 8))


@SETTINGS
@given(instances, st.integers(1, 4), st.floats(0.05, 0.6))
def test_benders_mclp_equals_brute_force(inst: tuple[int, int, int], p: int, q: float) -> None:
    seed, n, m = inst
    p = min(p, m)
    cost, w = _points(seed, n, m)
    radius = float(np.quantile(cost, q))
    res = MCLP.from_cost_matrix(cost, w, radius, p).solve()
    ref = _brute(cost <= radius, w, p)
    assert res.status == "optimal"
    assert res.method == "highs-benders"
    assert res.objective == pytest.approx(ref, rel=1e-9)
    assert res.bound == res.objective and res.gap == 0.0
    # the reported objective is the weight of the reported coverage of the reported sites
    assert res.objective == pytest.approx(float(w[(cost[:, res.selected] <= radius).any(axis=1)].sum()))


@SETTINGS
@given(instances, st.integers(2, 4), st.data())
def test_benders_mclp_with_fixed_and_groups(inst: tuple[int, int, int], p: int, data: st.DataObject) -> None:
    seed, n, m = inst
    p = min(p, m)
    cost, w = _points(seed, n, m)
    radius = float(np.quantile(cost, 0.3))
    fixed = data.draw(st.lists(st.integers(0, m - 1), max_size=1, unique=True))
    group = np.arange(m) % 2
    need = 1 if p - len(fixed) >= 1 else 0
    res = MCLP.from_cost_matrix(cost, w, radius, p, fixed=fixed, min_per_group=(group, need)).solve()

    def ok(s: tuple[int, ...]) -> bool:
        return all((group[list(s)] == g).sum() >= need for g in (0, 1))

    ref = _brute(cost <= radius, w, p, tuple(fixed), ok)
    assert res.status == "optimal"
    assert res.objective == pytest.approx(ref, rel=1e-9)
    assert set(fixed) <= set(res.selected.tolist())
    assert ok(tuple(res.selected.tolist()))


@SETTINGS
@given(instances, st.integers(1, 4), st.integers(0, 10_000))
def test_cuts_are_valid_and_exact(inst: tuple[int, int, int], p: int, seed_y: int) -> None:
    """A cut taken at any point bounds every 0/1 ``y``; taken at ``y`` itself it is exact there."""
    seed, n, m = inst
    cost, w = _points(seed, n, m)
    cover = cost <= np.quantile(cost, 0.3)
    keep = cover.any(axis=1)
    ak = sp.csr_array(cover[keep].astype(float))
    group = np.arange(int(keep.sum())) % 3
    b = MCLPBenders(ak, w[keep], group, [], np.zeros(m), np.ones(m))
    rng = np.random.default_rng(seed_y)
    at = rng.uniform(0, 1, m)
    y = (rng.uniform(0, 1, m) < p / m).astype(float)
    per_group = np.bincount(group, weights=w[keep] * np.minimum(ak @ y, 1), minlength=b.g)
    for point, exact in ((at, False), (y, True)):
        a, r = b.cuts_at(point)
        cut_value = r + (-a[:, :m]) @ y  # θ_g ≤ r_g + Σ_j c_gj y_j
        assert np.all(per_group <= cut_value + 1e-9)
        if exact:
            assert np.allclose(per_group, cut_value)


@SETTINGS
@given(instances, st.integers(1, 4))
def test_benders_lp_equals_compact_lp(inst: tuple[int, int, int], p: int) -> None:
    seed, n, m = inst
    p = min(p, m)
    cost, w = _points(seed, n, m)
    cover = cost <= np.quantile(cost, 0.25)
    b = MCLPBenders(
        sp.csr_array(cover.astype(float)),
        w,
        np.arange(n) % 4,
        [LinearConstraint(np.ones((1, m)), p, p)],
        np.zeros(m),
        np.ones(m),
    )
    lp = b.solve_lp(p, None, time.perf_counter() + 30)
    assert lp.converged
    ref = _compact_lp(cover, w, p)
    assert lp.upper == pytest.approx(ref, rel=1e-6, abs=1e-6)
    assert lp.lower <= lp.upper + 1e-6


def test_hand_instance_bound_equals_objective() -> None:
    cost = np.array([[0, 9, 9], [1, 9, 9], [9, 0, 9], [9, 9, 0]], dtype=float)
    res = MCLP.from_cost_matrix(cost, [5, 5, 3, 1], service_radius=2, p=2).solve()
    assert res.selected.tolist() == [0, 1] or res.objective == 13.0
    assert (res.objective, res.bound, res.status, res.method) == (13.0, 13.0, "optimal", "highs-benders")


def test_infeasible_rules_raise() -> None:
    cost, w = _points(1, 30, 6)
    group = np.array([0, 0, 0, 1, 1, 1])
    with pytest.raises(InfeasibleError):
        MCLP.from_cost_matrix(cost, w, 3000.0, 2, min_per_group=(group, {0: 2, 1: 1})).solve()


@pytest.mark.slow
def test_time_limit_keeps_best_and_reports_bound() -> None:
    """A hard instance with a short limit: time-limited, bound ≥ objective, limit kept, never worse than greedy."""
    cost, w = _points(7, 6000, 300, side=20_000.0)  # p = 20 at ~5 % density: ~2 % root gap
    radius = float(np.quantile(cost, 0.05))
    model = MCLP.from_cost_matrix(cost, w, radius, 20, time_limit=3.0)
    res = model.solve()
    greedy = MCLP.from_cost_matrix(cost, w, radius, 20, max_exact_size=0, time_limit=0.01).solve()  # one descent
    assert res.seconds <= 3.0 + 3.0
    assert res.bound >= res.objective
    assert res.objective >= greedy.objective
    assert res.objective == pytest.approx(float(w[(cost[:, res.selected] <= radius).any(axis=1)].sum()))
    if res.status == "optimal":
        assert res.bound == res.objective
    else:
        assert res.status == "time_limit" and res.gap > 0


def test_compact_milp_agrees_on_a_mid_size_instance() -> None:
    """Benders optimum equals HiGHS' compact MILP optimum (both proven) on 400 × 40, p = 5."""
    cost, w = _points(11, 400, 40)
    radius = float(np.quantile(cost, 0.08))
    cover = cost <= radius
    n, m = cover.shape
    link = sp.hstack([-sp.csr_array(cover.astype(float)), sp.eye_array(n)])
    card = sp.csr_array(np.r_[np.ones(m), np.zeros(n)][None, :])
    ref = milp(
        np.r_[np.zeros(m), -w],
        constraints=[LinearConstraint(link, -np.inf, 0), LinearConstraint(card, 5, 5)],
        integrality=np.r_[np.ones(m), np.zeros(n)],
        bounds=Bounds(0, 1),
        options={"mip_rel_gap": 0},
    )
    res = MCLP.from_cost_matrix(cost, w, radius, 5).solve()
    assert ref.status == 0 and res.status == "optimal"
    assert res.objective == pytest.approx(-ref.fun, rel=1e-9)


@SETTINGS
@given(st.integers(0, 10_000), st.integers(2, 40), st.integers(2, 7), st.floats(0.1, 0.7))
def test_dropping_dominated_rows_keeps_the_set_cover_feasible_set(seed: int, k: int, m: int, q: float) -> None:
    from planning.siting.base import _unique_rows
    from planning.siting.coverage_reduce import _drop_dominated_rows

    rng = np.random.default_rng(seed)
    a = (rng.uniform(0, 1, (k, m)) < q).astype(float)
    a = a[a.any(axis=1)]
    if a.shape[0] == 0:
        return
    uniq, _ = _unique_rows(sp.csr_array(a))
    red = _drop_dominated_rows(uniq)
    assert red.shape[0] <= uniq.shape[0]
    ys = np.array([[(v >> j) & 1 for j in range(m)] for v in range(2**m)], dtype=float)
    full_ok = (ys @ uniq.T.toarray() >= 1).all(axis=1)
    red_ok = (ys @ red.T.toarray() >= 1).all(axis=1)
    assert np.array_equal(full_ok, red_ok)
    # no kept row contains another kept row
    r = red.toarray()
    inner = r @ r.T
    np.fill_diagonal(inner, -1)
    assert not (inner == r.sum(axis=1)[:, None]).any()


@SETTINGS
@given(st.integers(0, 10_000), st.integers(1, 30), st.integers(2, 9), st.floats(0.1, 0.7))
def test_every_dominated_column_is_contained_in_a_kept_one(seed: int, k: int, m: int, q: float) -> None:
    from planning.siting.coverage_reduce import _dominated_columns

    rng = np.random.default_rng(seed)
    a = (rng.uniform(0, 1, (k, m)) < q).astype(float)
    dom = _dominated_columns(sp.csr_array(a))
    kept = np.flatnonzero(~dom)
    if a.any():
        assert kept.size >= 1
    for j in np.flatnonzero(dom):
        assert any(np.all(a[:, j] <= a[:, other]) for other in kept)
    if not a.any():  # nothing to cover: all columns kept
        assert kept.size == m
        return
    # kept columns are pairwise not contained in each other
    for i in kept:
        for other in kept:
            if i != other:
                assert not np.all(a[:, i] <= a[:, other])
