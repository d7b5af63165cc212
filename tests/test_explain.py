"""Explanations, coverage tables, sensitivity and plan comparison on hand-worked instances."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from geo.errors import DataError, InfeasibleError
from planning.explain import (
    compare_plans,
    coverage_table,
    explain_solution,
    sensitivity,
    within_radius,
)

# 5 demand points, 5 candidates; candidate 0 is an existing (fixed) site.
#   c0 covers d0; c1 covers d1, d2; c2 covers d2, d3; c3 covers d3; c4 covers d0, d1
COVER = np.array(
    [
        [1, 0, 0, 0, 1],
        [0, 1, 0, 0, 1],
        [0, 1, 1, 0, 0],
        [0, 0, 1, 1, 0],
        [0, 0, 0, 0, 0],
    ],
    dtype=bool,
)
WEIGHTS = np.array([10.0, 20.0, 30.0, 40.0, 5.0])
DEMAND = pd.DataFrame(
    {
        "gemeinde_ags": ["05334002", "05334002", "05334004", "05334004", "05334008"],
        "kreis_ags": ["05334"] * 5,
    }
)
CANDIDATES = pd.DataFrame(
    {
        "candidate_id": ["bestand:1", "ki:a", "cluster:1", "raster:7", "ogs:s"],
        "name": ["Treff Alt", "KI Nord", "Zentrum Ost", "Rasterpunkt", "GGS West"],
        "source": ["Bestehender Treffpunkt", "KI", "Clusterzentrum", "Raster", "Schule"],
        "gemeinde_ags": ["05334002", "05334012", "05334004", "05334004", "05334002"],
        "fixed": [True, False, False, False, False],
    }
)


@dataclass(frozen=True)
class Result:
    selected: np.ndarray


def test_marginal_gains_in_selection_order() -> None:
    exp = explain_solution(
        Result(np.array([0, 1, 2])),
        sp.csr_array(COVER),
        WEIGHTS,
        DEMAND,
        CANDIDATES,
        gemeinde_names={"05334004": "Eschweiler"},
    )
    assert exp.fixed == (0,)
    # step 1: uncovered d1..d4 -> c2 gains 30+40=70 (c1 would gain 50); step 2: c1 gains 20
    assert exp.order.tolist() == [2, 1]
    first, second = exp.sites
    assert (first.rank, first.candidate_id, first.gain) == (1, "cluster:1", 70.0)
    assert first.gain_share == pytest.approx(70 / 105)
    assert first.share_after == pytest.approx(80 / 105)
    assert first.benefiting.to_dict(orient="list") == {
        "gemeinde_ags": ["05334004"],
        "gemeinde": ["Eschweiler"],
        "weight": [70.0],
    }
    assert first.gemeinde == "Eschweiler" and second.gemeinde == "05334012"  # no name known: the AGS
    # runner-ups: candidates outside the plan (c3, c4) with their gain at that step
    assert first.runner_ups[["candidate_id", "gain"]].values.tolist() == [["raster:7", 40.0], ["ogs:s", 20.0]]
    assert (second.candidate_id, second.gain) == ("ki:a", 20.0)
    assert second.runner_ups[["candidate_id", "gain"]].values.tolist() == [["ogs:s", 20.0], ["raster:7", 0.0]]
    assert "Zentrum Ost" in first.reason and "Eschweiler" in first.reason and "70 Personen" in first.reason
    # the runner-up of a step in the order, not the committee's substitute in the whole plan (»an dieser Stelle«
    # read as »at this place«)
    assert "Beste Alternative als 1. Standort der Reihenfolge: Rasterpunkt mit 40 Personen (30 weniger)" in first.reason
    # totals
    assert exp.total_weight == 105.0
    assert (exp.covered_before, exp.covered_after) == (10.0, 100.0)
    assert sum(s.gain for s in exp.sites) == exp.covered_after - exp.covered_before
    assert exp.cost_before is None and exp.cost_after is None


def test_runner_up_stronger_on_its_own_is_not_called_worse() -> None:
    # plan c3 + c4 (not the greedy choice): at step 1 c2 alone would reach 70 against c3's 40
    exp = explain_solution(Result(np.array([0, 3, 4])), sp.csr_array(COVER), WEIGHTS, DEMAND, CANDIDATES)
    first = exp.sites[0]
    assert (first.candidate_id, first.gain) == ("raster:7", 40.0)
    assert first.runner_ups.iloc[0]["gain"] == 70.0
    assert "Zentrum Ost erreichte als 1. Standort für sich mehr (70 Personen)" in first.reason
    assert "weniger)" not in first.reason


def test_tables_per_gemeinde_and_kreis() -> None:
    exp = explain_solution([0, 1, 2], COVER, WEIGHTS, DEMAND, CANDIDATES)
    g = exp.by_gemeinde.set_index("gemeinde_ags")
    assert g.loc["05334002", ["demand", "covered_before", "covered_after"]].tolist() == [30.0, 10.0, 30.0]
    assert g.loc["05334004", ["share_before", "share_after"]].tolist() == [0.0, 1.0]
    assert g.loc["05334008", ["share_before", "share_after"]].tolist() == [0.0, 0.0]
    # the KI site lies in a Gemeinde without demand points: listed, but with no share at all
    assert bool(g.loc["05334012", "no_demand"]) and np.isnan(g.loc["05334012", "share_after"])
    assert g["sites_fixed"].to_dict() == {"05334002": 1, "05334004": 0, "05334008": 0, "05334012": 0}
    assert g["sites_new"].to_dict() == {"05334002": 0, "05334004": 1, "05334008": 0, "05334012": 1}
    k = exp.by_kreis.set_index("kreis_ags")
    assert k.loc["05334", "share_before"] == pytest.approx(10 / 105)
    assert k.loc["05334", "share_after"] == pytest.approx(100 / 105)
    assert k.loc["05334", "change"] == pytest.approx(90 / 105)


def test_pmedian_order_follows_cost_reduction() -> None:
    x_dem, x_cand = np.array([0.0, 10.0, 20.0]), np.array([0.0, 10.0, 20.0])
    cost = np.abs(x_dem[:, None] - x_cand[None, :])
    cand = pd.DataFrame({"candidate_id": ["a", "b", "c"], "name": ["A", "B", "C"], "source": "Raster", "fixed": False})
    demand = pd.DataFrame({"gemeinde_ags": ["g"] * 3, "kreis_ags": ["k"] * 3})
    exp = explain_solution([0, 2], within_radius(cost, 5.0), np.ones(3), demand, cand, cost=cost)
    first, second = exp.sites
    assert first.candidate_id == "a" and first.cost_reduction is None  # nothing open before
    assert second.candidate_id == "c" and second.cost_reduction == 20.0
    assert second.runner_ups[["candidate_id", "cost_reduction"]].values.tolist() == [["b", 20.0]]
    assert exp.cost_before is None and exp.cost_after == 10.0


def test_explanation_is_independent_of_the_order_in_selected() -> None:
    a = explain_solution([2, 1, 0], COVER, WEIGHTS, DEMAND, CANDIDATES)
    b = explain_solution(np.array([0, 1, 2]), COVER, WEIGHTS, DEMAND, CANDIDATES)
    assert a.order.tolist() == b.order.tolist()


def test_shape_mismatch_is_reported(raises_matching) -> None:  # type: ignore[no-untyped-def]
    with raises_matching(DataError, "5 Matrixzeilen, aber 4 Gewichte", "5 Matrixspalten, aber 4 Kandidaten"):
        explain_solution([0], COVER, WEIGHTS[:4], DEMAND, CANDIDATES.iloc[:4])


def test_within_radius_keeps_explicit_zeros() -> None:
    cost = sp.csr_array((np.array([0.0, 7.0]), (np.array([0, 1]), np.array([1, 0]))), shape=(2, 2))
    assert within_radius(cost, 5.0).toarray().tolist() == [[False, True], [False, False]]
    assert within_radius(cost, 7.0).toarray().tolist() == [[False, True], [True, False]]


def test_coverage_table_without_demand_is_not_zero() -> None:
    t = coverage_table(
        pd.Series(["a", "b", None]), [0.0, 4.0, 1.0], [False, True, False], [False, True, True], name="gemeinde_ags"
    ).set_index("gemeinde_ags")
    assert np.isnan(t.loc["a", "share_before"]) and bool(t.loc["a", "no_demand"])
    assert t.loc["b", "share_after"] == 1.0
    assert t.loc["unbekannt", "share_after"] == 1.0


# --- sensitivity -----------------------------------------------------------------


class BruteForceMCLP:
    """Exhaustive MCLP on tiny instances, in the shape of spopt/planning.siting."""

    def __init__(self, cover: np.ndarray, weights: np.ndarray, p: int) -> None:
        self.cover, self.weights, self.p = cover, weights, p

    def solve(self) -> object:
        if self.p < 1:
            raise InfeasibleError("p muss mindestens 1 sein")
        n = self.cover.shape[1]
        best = max(
            itertools.combinations(range(n), min(self.p, n)),
            key=lambda s: self.weights @ self.cover[:, list(s)].any(axis=1),
        )
        objective = float(self.weights @ self.cover[:, list(best)].any(axis=1))
        return type(
            "R",
            (),
            {"selected": np.array(best), "objective": objective, "gap": 0.0, "status": "optimal", "seconds": 0.0},
        )()


def test_sensitivity_curve_over_p_and_radius() -> None:
    dist = np.array([[0.0, 3.0, 9.0], [4.0, 1.0, 9.0], [9.0, 2.5, 1.0], [9.0, 9.0, 2.0]])
    w = np.array([1.0, 1.0, 1.0, 1.0])

    def factory(p: int, radius: float) -> BruteForceMCLP:
        return BruteForceMCLP(dist <= radius, w, p)

    def share(selected: np.ndarray, radius: float) -> float:
        return float(w @ (dist[:, selected] <= radius).any(axis=1) / w.sum())

    table = sensitivity(factory, [0, 1, 2, 3], [1.0, 3.0], coverage=share)
    r1 = table[table["radius"] == 1.0].set_index("p")
    assert r1.loc[0, "status"] == "unzulässig" and np.isnan(r1.loc[0, "objective"])
    # within 1: each candidate reaches one point (c0-d0, c1-d1, c2-d2); d3 is never reached
    assert r1["objective"].tolist()[1:] == [1.0, 2.0, 3.0]
    assert r1["covered_share"].tolist()[1:] == [0.25, 0.5, 0.75]
    assert r1["marginal"].tolist()[2:] == [0.25, 0.25]
    r3 = table[table["radius"] == 3.0].set_index("p")
    assert r3.loc[1, "objective"] == 3.0 and r3.loc[2, "objective"] == 4.0


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_property_gains_add_up_and_shares_in_unit_interval(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n_d, n_c = int(rng.integers(1, 30)), int(rng.integers(1, 12))
    cover = rng.random((n_d, n_c)) < 0.3
    w = rng.integers(0, 10, n_d).astype(float)
    fixed = rng.random(n_c) < 0.2
    selected = np.flatnonzero(fixed | (rng.random(n_c) < 0.4))
    demand = pd.DataFrame({"gemeinde_ags": rng.choice(["a", "b", "c"], n_d), "kreis_ags": "k"})
    cand = pd.DataFrame({"fixed": fixed, "gemeinde_ags": rng.choice(["a", "b", "d"], n_c)})
    exp = explain_solution(selected, cover, w, demand, cand)
    gains = [s.gain for s in exp.sites]
    assert sum(gains) == pytest.approx(exp.covered_after - exp.covered_before)
    assert gains == sorted(gains, reverse=True)  # greedy order: gains never increase
    assert all(0.0 <= s <= 1.0 for s in exp.by_gemeinde["share_after"].dropna())
    assert (exp.by_gemeinde["covered_after"] >= exp.by_gemeinde["covered_before"]).all()
    assert exp.covered_after == pytest.approx(float(w @ cover[:, selected].any(axis=1)))


# --- comparing two plans -----------------------------------------------------------


def test_compare_plans_per_gemeinde() -> None:
    a = pd.DataFrame(
        {
            "gemeinde_ags": ["05334002", "05334004"],
            "demand": [30.0, 60.0],
            "share_before": [1 / 3, 0.0],
            "share_after": [1.0, 0.5],
            "sites_new": [1, 1],
            "sites_fixed": [1, 0],
        }
    )
    b = pd.DataFrame(
        {
            "gemeinde_ags": ["05334002", "05334004", "05334012"],
            "demand": [30.0, 60.0, 0.0],
            "share_before": [1 / 3, 0.0, np.nan],
            "share_after": [1.0, 1.0, np.nan],
            "sites_new": [1, 3, 1],
            "sites_fixed": [1, 0, 0],
        }
    )
    cmp_ = compare_plans(a, b).set_index("gemeinde_ags")
    assert cmp_.index.tolist() == ["05334004", "05334002", "05334012"]  # largest change first
    assert cmp_.loc["05334004", "difference"] == 0.5
    assert cmp_.loc["05334002", "difference"] == 0.0
    assert cmp_.loc["05334004", ["sites_new_a", "sites_new_b"]].tolist() == [1, 3]
    assert cmp_.loc["05334012", ["sites_new_a", "sites_new_b"]].tolist() == [0, 1]
    assert np.isnan(cmp_.loc["05334012", "difference"])


def test_compare_plans_needs_columns(raises_matching) -> None:  # type: ignore[no-untyped-def]
    with raises_matching(DataError, "share_after"):
        compare_plans(pd.DataFrame({"gemeinde_ags": []}), pd.DataFrame({"gemeinde_ags": []}))
