"""Coverage with places: exact maximum flow against brute force, never above the uncapacitated figure."""

from __future__ import annotations

import itertools
import json

import networkx as nx
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geo.errors import NotLoadedError, ValidationError
from planning.capacity import PLACE_DEMAND, capacitated_coverage, capacitated_covered_draws
from planning.siting import MCLP


def _brute(reach: np.ndarray, w: list[int], cap: list[int]) -> int:
    """Best integer assignment by enumerating how many of each demand row go to each reachable site."""
    n, m = reach.shape
    options = []
    for i in range(n):
        sites = np.flatnonzero(reach[i])
        splits = [s for s in itertools.product(range(w[i] + 1), repeat=len(sites)) if sum(s) <= w[i]]
        options.append([(sites, s) for s in splits])
    best = 0
    for choice in itertools.product(*options):
        load = np.zeros(m, dtype=int)
        for sites, s in choice:
            load[sites] += np.asarray(s, dtype=int)
        if (load <= cap).all():
            best = max(best, int(load.sum()))
    return best


def test_hand_computed_example() -> None:
    # 10 children reach only Kita A (6 free places), 4 reach A and B (3 free): 6 + 3 = 9 served
    cost = np.array([[100.0, np.inf], [200.0, 300.0]])
    r = capacitated_coverage(cost, [10, 4], [6, 3], 500.0)
    assert (r.covered, r.covered_uncapacitated, r.difference) == (9.0, 14.0, 5.0)
    assert r.load.tolist() == [6.0, 3.0]
    assert r.full.tolist() == [0, 1]
    assert r.served.sum() == 9.0 and (r.served <= [10, 4]).all()
    assert r.share == pytest.approx(9 / 14)
    json.dumps(r.as_dict())


@settings(max_examples=60, deadline=None)
@given(
    reach=st.lists(st.lists(st.booleans(), min_size=2, max_size=2), min_size=1, max_size=3),
    w=st.lists(st.integers(0, 3), min_size=3, max_size=3),
    cap=st.lists(st.integers(0, 4), min_size=2, max_size=2),
)
def test_equals_brute_force_and_never_exceeds_uncapacitated(
    reach: list[list[bool]], w: list[int], cap: list[int]
) -> None:
    r_arr = np.array(reach)
    n = r_arr.shape[0]
    cost = np.where(r_arr, 1.0, np.inf)
    res = capacitated_coverage(cost, w[:n], cap, 1.0)
    assert res.covered == _brute(r_arr, w[:n], cap)
    assert res.covered <= res.covered_uncapacitated
    assert (res.load <= np.array(cap) + 1e-9).all()


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_fractional_demand_uses_the_lp_and_equals_networkx(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n, m = 12, 4
    cost = np.where(rng.random((n, m)) < 0.4, rng.uniform(0, 1, (n, m)), np.inf)
    w = rng.uniform(0, 5, n)
    cap = rng.uniform(0, 8, m)
    res = capacitated_coverage(cost, w, cap, 1.0)
    g = nx.DiGraph()
    for i in range(n):
        g.add_edge("s", ("d", i), capacity=w[i])
        for j in np.flatnonzero(np.isfinite(cost[i])):
            g.add_edge(("d", i), ("f", j), capacity=w[i])
    for j in range(m):
        g.add_edge(("f", j), "t", capacity=cap[j])
    assert res.method == "highs-lp"
    assert res.covered == pytest.approx(nx.maximum_flow_value(g, "s", "t"), abs=1e-7)
    assert res.covered <= res.covered_uncapacitated + 1e-9


def test_ample_places_equal_the_uncapacitated_figure_and_unknown_places_are_unlimited() -> None:
    rng = np.random.default_rng(2)
    cost = rng.uniform(0, 10, (50, 5))
    w = rng.integers(1, 20, 50)
    r = capacitated_coverage(cost, w, [10_000] * 5, 3.0)
    assert r.covered == r.covered_uncapacitated
    r2 = capacitated_coverage(cost, w, [np.nan, 0, 0, 0, 0], 3.0)
    assert r2.covered == pytest.approx(float(w[cost[:, 0] <= 3.0].sum()))
    assert any("ohne Platzzahl" in n for n in r2.notes)
    assert r2.as_dict()["sites"][0]["places"] is None


def test_only_open_sites_serve() -> None:
    cost = np.array([[0.0, 0.0], [0.0, np.inf]])
    r = capacitated_coverage(cost, [5, 5], [100, 100], 1.0, open_sites=[1])
    assert r.covered == 5.0 and r.covered_uncapacitated == 5.0
    assert r.sites.tolist() == [1]


def test_invalid_inputs_are_collected() -> None:
    with pytest.raises(ValidationError, match="Platzzahlen") as info:
        capacitated_coverage(np.ones((2, 2)), [1, -1], [1, -2], 1.0)
    assert "negativ" in str(info.value)


@pytest.mark.parametrize("seed", range(4))
def test_capacitated_siting_is_optimal_under_places(seed: int) -> None:
    """The capacitated MCLP's plan serves exactly its objective, and no other plan serves more."""
    rng = np.random.default_rng(seed)
    cost = rng.uniform(0, 10, (15, 5))
    w = rng.integers(1, 12, 15).astype(float)
    cap = rng.integers(5, 30, 5).astype(float)
    res = MCLP.from_cost_matrix(cost, w, 4.0, 2, capacity=cap).solve()
    assert capacitated_coverage(cost, w, cap, 4.0, open_sites=res.selected).covered == pytest.approx(res.objective)
    best = max(
        capacitated_coverage(cost, w, cap, 4.0, open_sites=list(plan)).covered
        for plan in itertools.combinations(range(5), 2)
    )
    assert res.objective == pytest.approx(best)
    plain = MCLP.from_cost_matrix(cost, w, 4.0, 2).solve()
    assert res.objective <= plain.objective + 1e-9


def test_place_demand_is_the_matching_zensus_age_groups() -> None:
    cells = pd.DataFrame({"zg_u3": [1.0, 2.0], "zg_kita_ue3": [4.0, np.nan], "zg_grundschule": [7.0, 0.0]})
    assert PLACE_DEMAND["kita"].weights(cells).tolist() == [5.0, 2.0]
    assert PLACE_DEMAND["ogs"].weights(cells).tolist() == [7.0, 0.0]
    with pytest.raises(NotLoadedError, match="Alter_in_infrastrukturellen_Altersgruppen"):
        PLACE_DEMAND["ogs"].weights(cells.drop(columns="zg_grundschule"))


def test_served_per_draw_and_group_by_hand() -> None:
    # two groups, each with its own site: the split between groups is forced
    cost = np.array([[0.0, np.inf], [np.inf, 0.0], [0.0, np.inf]])
    draws = np.array([[10.0, 4.0, 1.0], [2.0, 1.0, 3.0]])
    per = capacitated_covered_draws(cost, draws, [6.0, 3.0], 1.0, groups=[0, 1, 0])
    # draw 1: group 0 wants 11 at a site with 6 places, group 1 wants 4 at one with 3; draw 2: 5 → 5, 1 → 1
    np.testing.assert_allclose(per, [[6.0, 3.0], [5.0, 1.0]])
    np.testing.assert_allclose(per.sum(axis=1), capacitated_covered_draws(cost, draws, [6.0, 3.0], 1.0))


def test_served_per_group_sums_to_the_exact_total() -> None:
    rng = np.random.default_rng(7)
    cost = rng.random((40, 6)) * 2.0
    draws = rng.integers(0, 20, (5, 40)).astype(float)
    groups = rng.integers(0, 4, 40)
    places = rng.integers(5, 30, 6).astype(float)
    per = capacitated_covered_draws(cost, draws, places, 0.8, groups=groups)
    assert per.shape == (5, 4)
    np.testing.assert_allclose(per.sum(axis=1), capacitated_covered_draws(cost, draws, places, 0.8))
    for r in range(5):  # no group gets more than its demand within reach
        within = (cost <= 0.8).any(axis=1)
        assert (per[r] <= np.bincount(groups, weights=draws[r] * within, minlength=4) + 1e-9).all()
