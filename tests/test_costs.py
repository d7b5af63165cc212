"""Costs, funding programmes, euros per newly reached person and the budget frontier (hand-computed, brute force)."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geo.errors import ValidationError
from planning.costs import (
    KIM_COORDINATION,
    KOMM_AN_INTEGRATIONSAGENTUR,
    KOMM_AN_TREFFPUNKT,
    ONE_OFF,
    PROGRAMMES,
    YEARLY,
    CostDefault,
    SiteCosts,
    annualised,
    cost_summary,
    site_costs,
)
from planning.frontier import budget_frontier


def _costs(yearly: list[float], one_off: list[float] | None = None, posts: list[float] | None = None) -> SiteCosts:
    n = len(yearly)
    return SiteCosts(np.array(one_off or [0.0] * n), np.array(yearly), np.array(posts or [1.0] * n), ("",) * n)


# ---------------------------------------------------------------- euros per newly reached person


def test_eur_per_newly_reached_is_yearly_cost_over_newly_reached_by_hand() -> None:
    # rows: 120 people near the existing site 0, 80 near candidate 1, 50 near 1 and 2, 30 near 2, 40 nowhere
    cov = np.array([[1, 0, 0], [0, 1, 0], [0, 1, 1], [0, 0, 1], [0, 0, 0]], dtype=bool)
    w = np.array([120.0, 80.0, 50.0, 30.0, 40.0])
    kids = np.array([12.0, 10.0, 5.0, 6.0, 1.0])
    costs = _costs([9_999.0, 26_000.0, 13_000.0], one_off=[0.0, 50_000.0, 10_000.0])
    s = cost_summary([0, 1, 2], costs, cov, w, fixed=[0], target_weights=kids)
    # by hand: new sites 1 and 2 cost 26,000 + 13,000 = 39,000 a year; they newly reach 80 + 50 + 30 = 160
    assert s.yearly_total == 39_000.0
    assert s.one_off_total == 60_000.0
    assert s.newly_reached == 160.0
    assert s.eur_per_newly_reached == 39_000.0 / 160.0 == 243.75
    assert s.newly_reached_target == 21.0
    assert s.eur_per_newly_reached_target == pytest.approx(39_000.0 / 21.0)
    # per site in the given order: site 1 adds 130 people, site 2 then 30
    assert s.per_site["gain"].tolist() == [130.0, 30.0]
    assert s.per_site["eur_per_gain"].tolist() == [200.0, pytest.approx(13_000.0 / 30.0)]
    assert s.sites == (1, 2)
    json.dumps(s.as_dict())


def test_cost_summary_with_a_programme_splits_land_and_municipal_share() -> None:
    cov = np.eye(2, dtype=bool)
    s = cost_summary([0, 1], _costs([70_000.0, 50_000.0]), cov, [100.0, 100.0], programme=KIM_COORDINATION)
    assert s.land_yearly == 57_000.0 + 50_000.0
    assert s.municipal_yearly == 13_000.0
    assert s.municipal_eur_per_newly_reached == 13_000.0 / 200.0


def test_nobody_newly_reached_gives_no_ratio_but_a_note() -> None:
    s = cost_summary([0], _costs([1_000.0]), np.zeros((2, 1), dtype=bool), [1.0, 1.0])
    assert np.isnan(s.eur_per_newly_reached)
    assert any("niemanden neu" in n for n in s.notes)
    assert s.as_dict()["eur_per_newly_reached"] is None


# ---------------------------------------------------------------- programmes


def test_programme_figures_are_the_cited_ones() -> None:
    assert KOMM_AN_TREFFPUNKT.allocation_per_year == 70_289.82
    assert KOMM_AN_INTEGRATIONSAGENTUR.land_rate == 0.9
    assert KOMM_AN_INTEGRATIONSAGENTUR.running_per_post == 8_800.0
    assert KOMM_AN_INTEGRATIONSAGENTUR.min_per_measure == 5_000.0
    assert KOMM_AN_INTEGRATIONSAGENTUR.staff_cap == "TV-L EG 11, Stufe 5"
    assert KIM_COORDINATION.cap_per_post == 57_000.0
    for prog in PROGRAMMES.values():
        assert prog.sources, prog.id
        assert any(c.url for c in prog.sources)
        assert any("seeds" in c.publisher for c in prog.sources)  # the project's seed documents are cited
        json.dumps(prog.as_dict())


def test_komm_an_iii_pays_ninety_percent_above_the_minimum() -> None:
    s = KOMM_AN_INTEGRATIONSAGENTUR.split([60_000.0, 5_000.0, 5_600.0])
    # 90 % of 5,000 = 4,500 < 5,000: no Land share; 90 % of 5,600 = 5,040 ≥ 5,000
    assert s.land.tolist() == [54_000.0, 0.0, 5_040.0]
    assert s.municipal.tolist() == [6_000.0, 5_000.0, 560.0]
    assert any("Mindestförderung" in n and "5.000 €" in n for n in s.notes)


def test_komm_an_iii_staff_cap_plus_flat_running_costs_per_post() -> None:
    prog = replace(KOMM_AN_INTEGRATIONSAGENTUR, staff_cap_per_post=60_000.0)
    # 2 posts, 150,000 € a year: running flat 2 × 8,800 = 17,600; staff 132,400 capped at 120,000
    s = prog.split([150_000.0], posts=[2.0])
    assert s.land.tolist() == [pytest.approx(0.9 * (120_000.0 + 17_600.0))]


def test_kim_caps_per_post() -> None:
    s = KIM_COORDINATION.split([130_000.0, 30_000.0], posts=[2.0, 1.0])
    assert s.land.tolist() == [114_000.0, 30_000.0]
    assert s.municipal.tolist() == [16_000.0, 0.0]


def test_treffpunkt_allocation_is_shared_pro_rata_when_exceeded() -> None:
    s = KOMM_AN_TREFFPUNKT.split([60_000.0, 40_000.0])
    assert s.land_total == pytest.approx(70_289.82)
    assert s.land[0] / s.land[1] == pytest.approx(1.5)
    assert s.municipal_total == pytest.approx(100_000.0 - 70_289.82)
    assert any("70.289,82" in n for n in s.notes)
    under = KOMM_AN_TREFFPUNKT.split([30_000.0])
    assert under.land.tolist() == [30_000.0]
    other = replace(KOMM_AN_TREFFPUNKT, allocation_per_year=20_000.0, allocation_unit="Kreis X")
    assert other.split([30_000.0]).land_total == 20_000.0


# ---------------------------------------------------------------- costs per site


def test_site_costs_from_columns_and_defaults() -> None:
    frame = pd.DataFrame(
        {
            "source": ["Schule", "Gemeinschaftszentrum", "Schule"],
            "kosten_jahr": [None, 12_000, 18_000],
            "kosten_einmalig": [None, None, 2_500],
        }
    )
    c = site_costs(frame, defaults={"Schule": CostDefault(one_off=40_000, yearly=15_000, posts=0.5)})
    assert c.yearly.tolist() == [15_000.0, 12_000.0, 18_000.0]
    assert c.one_off.tolist() == [40_000.0, 0.0, 2_500.0]
    assert c.posts.tolist() == [0.5, 1.0, 0.5]
    assert c.origin[0] == "Vorgabe für Schule"
    with pytest.raises(ValueError, match="read-only"):
        c.yearly[0] = 1.0


def test_site_costs_collect_every_problem(raises_matching: Callable[..., object]) -> None:
    frame = pd.DataFrame({"source": ["Bahnhof", "Kita", "Kita"], "kosten_jahr": [None, "viel", -5]})
    with raises_matching(ValidationError, "Zeilen [2, 3]", "ohne jährliche Kosten", "Bahnhof"):  # type: ignore[operator]
        site_costs(frame)


def test_cost_bases() -> None:
    c = _costs([3_000.0, 1_000.0], one_off=[10_000.0, 0.0])
    assert YEARLY.of(c).tolist() == [3_000.0, 1_000.0]
    assert ONE_OFF.of(c).tolist() == [10_000.0, 0.0]
    assert annualised(4).of(c).tolist() == [5_500.0, 1_000.0]
    with pytest.raises(ValueError, match="Laufzeit"):
        annualised(0)


# ---------------------------------------------------------------- frontier


def _brute_budget(cover: np.ndarray, w: np.ndarray, cost: np.ndarray, budget: float, fixed: list[int]) -> float:
    m = cover.shape[1]
    free = [j for j in range(m) if j not in fixed]
    best = 0.0
    for k in range(len(free) + 1):
        for plan in itertools.combinations(free, k):
            if cost[list(plan)].sum() <= budget + 1e-9:
                best = max(best, float(w[cover[:, list(plan) + fixed].any(axis=1)].sum()))
    return best


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 100_000))
def test_frontier_points_equal_brute_force_and_grow(seed: int) -> None:
    rng = np.random.default_rng(seed)
    d = rng.uniform(0, 10, (10, 6))
    w = rng.integers(0, 30, 10).astype(float)
    cost = rng.integers(1, 8, 6).astype(float)
    budgets = [0.0, 3.0, 6.0, 9.0, 40.0]
    f = budget_frontier(d, w, 3.5, cost, budgets=budgets, fixed=[0])
    covered = [p.covered for p in f.points]
    assert covered == sorted(covered)
    for p, b in zip(f.points, budgets, strict=True):
        assert p.status == "optimal"
        assert p.covered == pytest.approx(_brute_budget(d <= 3.5, w, cost, b, [0]))
        assert p.cost <= b + 1e-9
        assert 0 not in p.sites
        assert p.newly_reached == pytest.approx(p.covered - f.baseline)


def test_a_budget_cut_off_without_bound_gets_the_bound_of_a_larger_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    # a plan within a budget is within every larger one, so the larger budget's proven optimum bounds the smaller
    from planning.siting.robust import RobustMCLP

    solve = RobustMCLP.solve

    def cut_off(self: RobustMCLP, *, budget: float | None = None, time_limit: float | None = None) -> object:
        res = solve(self, budget=budget, time_limit=time_limit)
        if budget == 3.0:  # as if the time ran out before the LP bound
            return replace(res, bound=float("inf"), gap=float("inf"), status="time_limit")
        return res

    monkeypatch.setattr(RobustMCLP, "solve", cut_off)
    d = np.array([[0.0, 9.0, 9.0], [9.0, 0.0, 9.0], [9.0, 9.0, 0.0]])
    f = budget_frontier(d, [5.0, 3.0, 2.0], 1.0, [2.0, 1.0, 1.0], budgets=[2.0, 3.0, 4.0], time_limit=5.0)
    small, cut, large = f.points
    assert (small.covered, cut.covered, large.covered) == (5.0, 8.0, 10.0)
    assert cut.bound == 10.0  # the optimum of budget 4, not inf
    assert cut.gap == pytest.approx(0.25) and cut.status == "time_limit"
    assert small.bound == 5.0 and small.status == "optimal"


def test_default_budgets_reach_everyone_coverable() -> None:
    rng = np.random.default_rng(4)
    d = rng.uniform(0, 10, (40, 12))
    w = rng.integers(1, 9, 40).astype(float)
    cost = rng.integers(2, 9, 12).astype(float)
    f = budget_frontier(d, w, 2.5, cost, n_points=5)
    coverable = float(w[(d <= 2.5).any(axis=1)].sum())
    assert len(f.points) == 5
    assert f.points[-1].covered == pytest.approx(coverable)
    assert f.points[0].budget == float(cost[(d <= 2.5).any(axis=0)].min())
    table = f.table()
    assert list(table["n_sites"]) == [len(p.sites) for p in f.points]
    assert table["eur_per_newly_reached"].iloc[-1] == pytest.approx(f.points[-1].cost / f.points[-1].newly_reached)
    json.dumps(f.as_dict())
