"""The assignment of a solved coverage model is the nearest open site (brute force on small cost matrices).

Guards the reach pattern: it must not reorder the cost-sorted pairs that the assignment reads.
"""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planning.siting import LSCP, MCLP
from planning.siting.inputs import _pairs_from_cost, _validate_cost

SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _nearest_open(cost: np.ndarray, selected: np.ndarray, radius: float) -> np.ndarray:
    """Brute force: the cheapest selected site within the radius per row (ties: lowest index), else -1."""
    c = np.where(np.isin(np.arange(cost.shape[1]), selected)[None, :] & (cost <= radius), cost, np.inf)
    best = c.argmin(axis=1)
    return np.where(np.isfinite(c.min(axis=1)), best, -1)


def test_mclp_assigns_the_nearest_open_site_hand_case() -> None:
    # one demand point, three candidates: the nearest (cost 1) is the last column
    cost = np.array([[3.0, 2.0, 1.0], [1.0, 5.0, 2.0]])
    res = MCLP.from_cost_matrix(cost, np.array([1.0, 1.0]), service_radius=4.0, p=3).solve()
    assert sorted(res.selected.tolist()) == [0, 1, 2]
    assert res.assignment.tolist() == [2, 0]


def test_pattern_leaves_the_cost_sorted_pairs_alone() -> None:
    cost = np.array([[3.0, 2.0, 1.0]])
    pairs = _pairs_from_cost(None, cost, 4.0)
    before = pairs.indices.copy()
    pairs.pattern()
    np.testing.assert_array_equal(pairs.indices, before)
    np.testing.assert_array_equal(pairs.indices, [2, 1, 0])


@SETTINGS
@given(st.integers(0, 10_000), st.integers(2, 7), st.integers(1, 20), st.booleans())
def test_assignment_is_the_nearest_open_site(seed: int, m: int, n: int, sparse: bool) -> None:
    rng = np.random.default_rng(seed)
    cost = rng.integers(1, 50, (n, m)).astype(float) + rng.random((n, m))  # no ties
    radius = 30.0
    w = rng.integers(1, 9, n).astype(float)
    p = int(rng.integers(1, m + 1))
    matrix = cost
    if sparse:
        import scipy.sparse as sp

        coo, _, problems = _validate_cost(sp.coo_array(cost))
        assert not problems
        matrix = coo
    res = MCLP.from_cost_matrix(matrix, w, service_radius=radius, p=p).solve()
    np.testing.assert_array_equal(res.assignment, _nearest_open(cost, res.selected, radius))
    if (cost <= radius).any(axis=1).all():
        lscp = LSCP.from_cost_matrix(matrix, service_radius=radius).solve()
        np.testing.assert_array_equal(lscp.assignment, _nearest_open(cost, lscp.selected, radius))
