"""Exact siting models (MCLP, LSCP, p-median) on instances whose answers are worked out by hand."""

from __future__ import annotations

import dataclasses
from itertools import combinations, pairwise

import geopandas as gpd
import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely.geometry import Point

from geo.errors import CRSError, InfeasibleError, ValidationError
from planning.siting import LSCP, MCLP, STATUS_LABELS, PMedian, SitingResult

# Four demand points and three candidates. Radius 2: candidate 0 covers demand 0 and 1
# (weights 5 + 5), candidate 1 covers demand 2 (3), candidate 2 covers demand 3 (1).
COST = np.array([[0, 9, 9], [1, 9, 9], [9, 0, 9], [9, 9, 0]], dtype=float)
W = np.array([5, 5, 3, 1], dtype=float)

# Demand on a line at x = 0, 4, 8 with unit weight; candidates at the same places.
LINE = np.abs(np.subtract.outer([0.0, 4.0, 8.0], [0.0, 4.0, 8.0]))


# --------------------------------------------------------------------------- MCLP


def test_mclp_hand_instance() -> None:
    res = MCLP.from_cost_matrix(COST, W, service_radius=2, p=1).solve()
    assert res.selected.tolist() == [0]
    assert res.objective == 10.0
    assert res.covered.tolist() == [True, True, False, False]
    assert res.assignment.tolist() == [0, 0, -1, -1]
    assert (res.status, res.method, res.gap) == ("optimal", "highs-benders", 0.0)
    assert res.bound == pytest.approx(10.0)
    res2 = MCLP.from_cost_matrix(COST, W, service_radius=2, p=2).solve()
    assert res2.selected.tolist() == [0, 1]
    assert res2.objective == 13.0
    assert res2.order.tolist() == [0, 1]  # marginal gains 10, then 3


def test_mclp_fixed_sites_count_toward_p() -> None:
    res = MCLP.from_cost_matrix(COST, W, service_radius=2, p=2, fixed=[2]).solve()
    assert res.selected.tolist() == [0, 2]
    assert res.objective == 11.0
    assert res.order.tolist() == [2, 0]  # fixed first


def test_mclp_budget_excludes_the_expensive_site() -> None:
    res = MCLP.from_cost_matrix(COST, W, 2, p=1, budget=100, site_cost=[500, 50, 10]).solve()
    assert res.selected.tolist() == [1]
    assert res.objective == 3.0


def test_mclp_minimum_per_group() -> None:
    groups = np.array(["05111000", "05111000", "05112000"], dtype=object)
    res = MCLP.from_cost_matrix(COST, W, 2, p=2, min_per_group=(groups, 1)).solve()
    assert res.selected.tolist() == [0, 2]  # Gemeinde 05112000 needs one site
    assert res.objective == 11.0


def test_mclp_capacity_limits_covered_weight_per_site() -> None:
    # candidate 0 could cover 10, but takes only 6; the rest of the budget of p goes to candidate 1
    res = MCLP.from_cost_matrix(COST, W, 2, p=2, capacity=6).solve()
    assert res.objective == pytest.approx(9.0)
    assert res.selected.tolist() == [0, 1]
    assert res.covered.tolist()[2] is True
    assert sum(res.covered.tolist()[:2]) <= 1  # 6 of 10 can be served: at most one point fully
    assert any("aufgeteilt" in n for n in res.notes)


def test_mclp_sparse_equals_dense_and_keeps_explicit_zeros() -> None:
    sparse = sp.csr_array((COST[COST <= 2], np.nonzero(COST <= 2)), shape=COST.shape)
    assert sparse.nnz == 4  # three explicit zeros stored
    a = MCLP.from_cost_matrix(COST, W, 2, p=2).solve()
    b = MCLP.from_cost_matrix(sparse, W, 2, p=2).solve()
    assert a.objective == b.objective == 13.0
    assert a.selected.tolist() == b.selected.tolist()


def test_mclp_aggregates_identical_rows_without_changing_the_answer() -> None:
    cost = np.repeat(COST, 50, axis=0)
    w = np.repeat(W, 50)
    res = MCLP.from_cost_matrix(cost, w, 2, p=2).solve()
    assert res.objective == 50 * 13.0
    assert res.covered.sum() == 150


# --------------------------------------------------------------------------- LSCP


def test_lscp_reports_uncoverable_demand_instead_of_failing() -> None:
    cost = np.array([[0, 1, 9], [9, 1, 0], [9, 9, 9]], dtype=float)
    res = LSCP.from_cost_matrix(cost, service_radius=1).solve()
    assert res.selected.tolist() == [1]
    assert res.objective == 1.0
    assert res.covered.tolist() == [True, True, False]
    assert any("nicht abdeckbar" in n for n in res.notes)


def test_lscp_with_fixed_and_group_minimum() -> None:
    cost = np.array([[0, 1, 9], [9, 1, 0], [9, 9, 9]], dtype=float)
    res = LSCP.from_cost_matrix(cost, 1, fixed=[0]).solve()
    assert res.selected.tolist() in ([0, 1], [0, 2])
    assert res.objective == 2.0
    res = LSCP.from_cost_matrix(cost, 1, min_per_group=(["a", "a", "b"], 1)).solve()
    assert res.selected.tolist() == [1, 2]


def test_lscp_budget_that_cannot_cover_everything_is_infeasible(raises_matching) -> None:
    cost = np.array([[0, 9], [9, 0]], dtype=float)
    with raises_matching(InfeasibleError, "keine zulässige Lösung", "Budget"):
        LSCP.from_cost_matrix(cost, 1, budget=15, site_cost=[10, 10]).solve()


# --------------------------------------------------------------------------- p-median


def test_pmedian_line() -> None:
    res = PMedian.from_cost_matrix(LINE, [1, 1, 1], p=1).solve()
    assert res.selected.tolist() == [1]
    assert res.objective == 8.0
    assert res.assignment.tolist() == [1, 1, 1]
    assert res.covered is None
    res = PMedian.from_cost_matrix(LINE, [1, 1, 1], p=2).solve()
    assert res.objective == 4.0
    res = PMedian.from_cost_matrix(LINE, [1, 1, 10], p=1).solve()
    assert res.selected.tolist() == [2]
    assert res.objective == 12.0


def test_pmedian_fixed_site() -> None:
    res = PMedian.from_cost_matrix(LINE, [1, 1, 1], p=2, fixed=[0]).solve()
    assert res.selected.tolist() in ([0, 1], [0, 2])
    assert res.objective == 4.0
    assert res.order[0] == 0


def test_pmedian_capacity_splits_demand() -> None:
    # demand 4 at x=0 and 2 at x=8; capacity 3 per site, p = 2
    cost = np.abs(np.subtract.outer([0.0, 8.0], [0.0, 8.0]))
    res = PMedian.from_cost_matrix(cost, [4, 2], p=2, capacity=3).solve()
    # 3 of the 4 at x=0 stay, 1 travels 8 to the site at x=8
    assert res.objective == pytest.approx(8.0)
    assert res.selected.tolist() == [0, 1]
    assert res.assignment.tolist() == [0, 1]


def test_pmedian_sparse_cost_leaves_out_unreachable_demand() -> None:
    cost = sp.csr_array(([2.0, 3.0], ([0, 1], [0, 1])), shape=(3, 2))
    res = PMedian.from_cost_matrix(cost, [1, 1, 5], p=2).solve()
    assert res.objective == 5.0
    assert res.assignment.tolist() == [0, 1, -1]
    assert any("ohne erreichbaren Kandidaten" in n for n in res.notes)


def test_pmedian_sparse_cost_that_p_cannot_serve_is_infeasible(raises_matching) -> None:
    cost = sp.csr_array(([2.0, 3.0], ([0, 1], [0, 1])), shape=(2, 2))
    with raises_matching(InfeasibleError, "keine zulässige Lösung", "erreichbaren"):
        PMedian.from_cost_matrix(cost, [1, 1], p=1).solve()


# --------------------------------------------------------------------------- infeasible requests


@pytest.mark.parametrize(
    ("build", "fragments"),
    [
        (
            lambda: MCLP.from_cost_matrix(COST, W, 2, p=1, fixed=[0, 1]),
            ("p = 1 ist kleiner als die Zahl der festen Standorte (2)",),
        ),
        (lambda: MCLP.from_cost_matrix(COST, W, 2, p=4), ("p = 4 ist größer als die Zahl der Kandidaten (3)",)),
        (
            lambda: MCLP.from_cost_matrix(COST, W, 2, p=2, fixed=[0], budget=100, site_cost=[500, 1, 1]),
            ("Budget (100 €) liegt unter den Kosten der festen Standorte (500 €)",),
        ),
        (
            lambda: PMedian.from_cost_matrix(LINE, [1, 1, 1], p=2, budget=100, site_cost=[60, 70, 80]),
            ("reicht nicht für p = 2 Standorte", "130 €"),
        ),
        (
            lambda: MCLP.from_cost_matrix(COST, W, 2, p=1, min_per_group=(["a", "b", "c"], 1)),
            ("Mindestanzahl je Gruppe", "mindestens 3 neue Standorte, geplant sind 1"),
        ),
        (  # in new sites, as the planner enters p: one fixed site in »a«, »b« and »c« need two more
            lambda: MCLP.from_cost_matrix(COST, W, 2, p=2, fixed=[0], min_per_group=(["a", "b", "c"], 1)),
            ("mindestens 2 neue Standorte neben den festen (1), geplant sind 1",),
        ),
        (
            lambda: MCLP.from_cost_matrix(COST, W, 2, p=2, min_per_group=(["a", "a", "b"], {"a": 1, "05999": 1})),
            ("Gruppe(n) ohne jeden Kandidaten", "05999"),
        ),
        (
            lambda: PMedian.from_cost_matrix(LINE, [5, 5, 5], p=2, capacity=[4, 4, 4]),
            ("Kapazität zu klein", "Nachfrage beträgt 15"),
        ),
        (
            lambda: LSCP.from_cost_matrix(COST, 2, fixed=[0], budget=1, site_cost=[5, 0, 0]),
            ("Budget (1 €) liegt unter den Kosten der festen Standorte",),
        ),
    ],
)
def test_infeasible_requests_name_the_constraint(build, fragments, raises_matching) -> None:
    with raises_matching(InfeasibleError, *fragments):
        build().solve()


def test_solver_infeasibility_is_mapped_to_a_german_message(raises_matching) -> None:
    # exactly two sites, the budget only allows the cheap one plus one of the dear ones in the wrong group
    groups = (["a", "b", "b"], {"a": 1, "b": 1})
    with raises_matching(InfeasibleError, "keine zulässige Lösung", "Budget", "Mindestanzahl je Gruppe"):
        MCLP.from_cost_matrix(COST, W, 2, p=2, budget=60, site_cost=[50, 20, 20], min_per_group=groups).solve()


def test_validation_collects_all_problems(raises_matching) -> None:
    cost = COST.copy()
    cost[0, 0] = np.nan
    cost[1, 1] = -1
    with raises_matching(
        ValidationError, "4 Problem(e)", "NaN", "negative Werte", "Gewicht(e) sind negativ", "p = 0 ist ungültig"
    ):
        MCLP.from_cost_matrix(cost, [5, -5, 3, 1], 2, p=0)
    with raises_matching(ValidationError, "3 Gewichte, aber 4 Nachfragepunkte"):
        PMedian.from_cost_matrix(COST, [1, 2, 3], p=1)
    with raises_matching(ValidationError, "außerhalb der Kandidatenindizes"):
        LSCP.from_cost_matrix(COST, 2, fixed=[7])


# --------------------------------------------------------------------------- fallback


def _random_instance(seed: int, n: int = 60, m: int = 15) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    d = rng.uniform(0, 10_000, (n, 2))
    c = rng.uniform(0, 10_000, (m, 2))
    return np.sqrt(((d[:, None] - c[None]) ** 2).sum(-1)), rng.integers(1, 50, n).astype(float)


def test_fallback_is_used_and_reported_when_the_instance_is_too_large(caplog) -> None:
    cost, w = _random_instance(4)
    with caplog.at_level("WARNING", logger="planning.siting"):
        mclp = MCLP.from_cost_matrix(cost, w, 3000, p=3, fixed=[0], max_exact_size=1).solve()
    assert "zu groß" in caplog.text
    exact = MCLP.from_cost_matrix(cost, w, 3000, p=3, fixed=[0]).solve()
    assert (mclp.status, mclp.method) == ("heuristic", "greedy+swap")
    assert "Greedy + Tausch" in mclp.status_label
    assert 0 in mclp.selected and mclp.selected.size == 3
    assert mclp.objective <= exact.objective <= mclp.bound + 1e-6
    assert mclp.gap == pytest.approx(max(mclp.bound - mclp.objective, 0) / mclp.objective, abs=1e-9)

    pm = PMedian.from_cost_matrix(cost, w, p=3, max_exact_size=1).solve()
    pm_exact = PMedian.from_cost_matrix(cost, w, p=3).solve()
    assert pm.method == "greedy+swap"
    assert pm.bound - 1e-6 <= pm_exact.objective <= pm.objective
    assert pm.bound > 0

    ls = LSCP.from_cost_matrix(cost, 3000, max_exact_size=1).solve()
    ls_exact = LSCP.from_cost_matrix(cost, 3000).solve()
    assert ls.method == "greedy+swap"
    assert ls.covered.sum() == ls_exact.covered.sum()
    assert ls.bound <= ls_exact.objective <= ls.objective


def test_fallback_respects_budget_and_groups() -> None:
    cost, w = _random_instance(7)
    groups = np.array(list("aaaaabbbbbccccc"), dtype=object)
    site_cost = np.arange(15) * 10.0
    res = MCLP.from_cost_matrix(
        cost, w, 3000, p=4, budget=250, site_cost=site_cost, min_per_group=(groups, 1), max_exact_size=1
    ).solve()
    assert site_cost[res.selected].sum() <= 250
    assert set(groups[res.selected]) == {"a", "b", "c"}
    res = PMedian.from_cost_matrix(
        cost, w, p=4, budget=250, site_cost=site_cost, min_per_group=(groups, 1), max_exact_size=1
    ).solve()
    assert site_cost[res.selected].sum() <= 250
    assert set(groups[res.selected]) == {"a", "b", "c"}


# --------------------------------------------------------------------------- result object


def test_result_is_frozen_and_its_arrays_read_only() -> None:
    res = MCLP.from_cost_matrix(COST, W, 2, p=1).solve()
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.objective = 0.0  # type: ignore[misc]
    with pytest.raises(ValueError, match="read-only"):
        res.selected[0] = 2
    assert isinstance(res, SitingResult)
    assert res.status_label == STATUS_LABELS["optimal"]
    assert res.as_dict()["selected"] == [0]


# --------------------------------------------------------------------------- GeoDataFrames


def _gdfs(crs: str = "EPSG:25832") -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    x0, y0 = 350_000.0, 5_650_000.0
    demand = gpd.GeoDataFrame(
        {"einwohner": [5, 5, 3, 1]},
        geometry=[Point(x0, y0), Point(x0 + 1000, y0), Point(x0 + 5000, y0), Point(x0 + 9000, y0)],
        crs="EPSG:25832",
    )
    cand = gpd.GeoDataFrame(
        {"bestehend": [False, False, True], "gemeinde": ["a", "a", "b"]},
        geometry=[Point(x0 + 500, y0), Point(x0 + 5000, y0), Point(x0 + 9000, y0)],
        crs="EPSG:25832",
    )
    return demand.to_crs(crs), cand.to_crs(crs)


def test_from_geodataframes_uses_metres_in_25832() -> None:
    demand, cand = _gdfs()
    res = MCLP.from_geodataframes(demand, cand, "einwohner", 600, p=2, fixed_col="bestehend").solve()
    assert res.selected.tolist() == [0, 2]
    assert res.objective == 11.0
    res = LSCP.from_geodataframes(demand, cand, 600).solve()
    assert res.objective == 3.0
    res = PMedian.from_geodataframes(demand, cand, "einwohner", p=1).solve()
    assert res.selected.tolist() == [0]


def test_from_geodataframes_refuses_geographic_crs_and_missing_columns(raises_matching) -> None:
    demand, cand = _gdfs("EPSG:4326")
    with raises_matching(CRSError, "EPSG:4326", "EPSG:25832"):
        MCLP.from_geodataframes(demand, cand, "einwohner", 600, p=1)
    demand, cand = _gdfs()
    with raises_matching(ValidationError, "Spalte »bewohner«", "Spalte fehlt"):
        MCLP.from_geodataframes(demand, cand, "bewohner", 600, p=1)


# --------------------------------------------------------------------------- brute force and properties


def _brute_mclp(cost: np.ndarray, w: np.ndarray, r: float, p: int, fixed: tuple[int, ...]) -> float:
    a = cost <= r
    others = [j for j in range(cost.shape[1]) if j not in fixed]
    return max(float(w[a[:, list(fixed) + list(s)].any(axis=1)].sum()) for s in combinations(others, p - len(fixed)))


def _brute_pmedian(cost: np.ndarray, w: np.ndarray, p: int, fixed: tuple[int, ...]) -> float:
    others = [j for j in range(cost.shape[1]) if j not in fixed]
    return min(
        float((w * cost[:, list(fixed) + list(s)].min(axis=1)).sum()) for s in combinations(others, p - len(fixed))
    )


instances = st.tuples(st.integers(0, 10_000), st.integers(5, 25), st.integers(3, 7))
SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(instances, st.integers(1, 4), st.booleans())
def test_exact_objectives_match_brute_force(inst, p, with_fixed) -> None:
    seed, n, m = inst
    cost, w = _random_instance(seed, n, m)
    p = min(p, m)
    fixed = (seed % m,) if with_fixed else ()
    mclp = MCLP.from_cost_matrix(cost, w, 3500, p, fixed=list(fixed)).solve()
    assert mclp.objective == pytest.approx(_brute_mclp(cost, w, 3500, p, fixed), rel=1e-9)
    pm = PMedian.from_cost_matrix(cost, w, p, fixed=list(fixed)).solve()
    assert pm.objective == pytest.approx(_brute_pmedian(cost, w, p, fixed), rel=1e-9)
    assert set(fixed) <= set(mclp.selected.tolist()) and set(fixed) <= set(pm.selected.tolist())
    assert sorted(mclp.order.tolist()) == mclp.selected.tolist()


@SETTINGS
@given(instances, st.floats(500, 6000))
def test_mclp_objective_never_decreases_as_p_grows(inst, radius) -> None:
    seed, n, m = inst
    cost, w = _random_instance(seed, n, m)
    values = [MCLP.from_cost_matrix(cost, w, radius, p).solve().objective for p in range(1, min(m, 4) + 1)]
    assert all(b >= a - 1e-9 for a, b in pairwise(values))


@SETTINGS
@given(instances, st.floats(500, 6000), st.booleans())
def test_lscp_covers_every_coverable_demand(inst, radius, heuristic) -> None:
    seed, n, m = inst
    cost, _ = _random_instance(seed, n, m)
    res = LSCP.from_cost_matrix(cost, radius, max_exact_size=1 if heuristic else 10**7).solve()
    coverable = (cost <= radius).any(axis=1)
    assert np.array_equal(res.covered, coverable)
    assert res.objective == res.selected.size


@SETTINGS
@given(instances)
def test_pmedian_objective_never_increases_as_p_grows(inst) -> None:
    seed, n, m = inst
    cost, w = _random_instance(seed, n, m)
    values = [PMedian.from_cost_matrix(cost, w, p).solve().objective for p in range(1, min(m, 4) + 1)]
    assert all(b <= a + 1e-6 * a for a, b in pairwise(values))


@SETTINGS
@given(instances, st.data())
def test_fixed_sites_are_always_selected(inst, data) -> None:
    seed, n, m = inst
    cost, w = _random_instance(seed, n, m)
    fixed = data.draw(st.lists(st.integers(0, m - 1), min_size=1, max_size=3, unique=True))
    p = len(fixed) + data.draw(st.integers(0, m - len(fixed)))
    heuristic = data.draw(st.booleans())
    size = 1 if heuristic else 10**7
    for res in (
        MCLP.from_cost_matrix(cost, w, 3000, p, fixed=fixed, max_exact_size=size).solve(),
        PMedian.from_cost_matrix(cost, w, p, fixed=fixed, max_exact_size=size).solve(),
        LSCP.from_cost_matrix(cost, 3000, fixed=fixed, max_exact_size=size).solve(),
    ):
        assert set(fixed) <= set(res.selected.tolist())
        assert res.order[: len(fixed)].tolist() == sorted(fixed)


@SETTINGS
@given(instances, st.integers(1, 4))
def test_pmedian_swap_search_ends_in_a_local_optimum(inst, p) -> None:
    seed, n, m = inst
    cost, w = _random_instance(seed, n, m)
    p = min(p, m - 1)
    res = PMedian.from_cost_matrix(cost, w, p, max_exact_size=1).solve()
    value = res.objective
    sel = res.selected.tolist()
    for s in sel:
        for j in set(range(m)) - set(sel):
            trial = [*(x for x in sel if x != s), j]
            assert float((w * cost[:, trial].min(axis=1)).sum()) >= value - 1e-6 * value
