"""Sites that add nothing are dropped with a plain German reason; equity table; chart fields."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from integrationsatlas.siting_review import drop_useless
from planning.equity import equity_table, weighted_quantile
from planning.explain import explain_solution, within_radius
from planning.siting import MCLP, PMedian
from ui.pages.standort import curve_data

X0, Y0 = 300_000.0, 5_650_000.0


def _frames(n_cand: int) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    demand = gpd.GeoDataFrame(
        {"weight": [10.0, 20.0], "gemeinde_ags": ["05334002", "05334004"]},
        geometry=gpd.points_from_xy([X0, X0 + 5000], [Y0, Y0]),
        crs="EPSG:25832",
    )
    cand = gpd.GeoDataFrame(
        {
            "candidate_id": [f"c:{j}" for j in range(n_cand)],
            "name": [f"Ort {j}" for j in range(n_cand)],
            "source": "Test",
            "gemeinde_ags": "05334002",
            "fixed": False,
        },
        geometry=gpd.points_from_xy(X0 + 1000 * np.arange(n_cand), [Y0] * n_cand),
        crs="EPSG:25832",
    )
    return demand, cand


def test_mclp_with_nothing_left_to_cover_returns_fewer_sites_and_says_why() -> None:
    demand, cand = _frames(4)  # candidates at 0, 1, 2, 3 km; demand at 0 and 5 km
    cost = np.hypot(np.subtract.outer(demand.geometry.x.to_numpy(), cand.geometry.x.to_numpy()), 0.0)
    weights = demand["weight"].to_numpy()
    coverage = within_radius(cost, 1000.0)  # only candidates 0 and 1 reach demand 0; nobody reaches demand 1
    result = MCLP.from_cost_matrix(cost, weights, 1000.0, 3).solve()
    fixed = np.array([], dtype=int)

    def explain(res):  # type: ignore[no-untyped-def]
        return explain_solution(res, coverage, weights, demand, cand, fixed=fixed)

    res2, exp2, message = drop_useless(
        result, explain(result), explain, "mclp", 3, "1 km Luftlinie", coverage, weights, fixed
    )
    assert len(res2.selected) == 1 and len(exp2.sites) == 1
    assert all(s.gain > 0 for s in exp2.sites)
    assert exp2.covered_after == 10.0
    assert message.startswith("Nur 1 neuen Standort statt 3")
    assert "0 Personen zusätzlich" in message and "Abhilfe" in message and "größere Schwelle" in message
    assert "66,7 % der Nachfrage liegt außerhalb der Reichweite" in message


def test_pmedian_drops_sites_without_reduction() -> None:
    demand, cand = _frames(3)
    cand = pd.concat([cand, cand.iloc[[0]].assign(candidate_id="c:dup", name="Doppelt")], ignore_index=True)
    cand = gpd.GeoDataFrame(cand, geometry="geometry", crs="EPSG:25832")
    cost = np.abs(np.subtract.outer(demand.geometry.x.to_numpy(), cand.geometry.x.to_numpy()))
    weights = demand["weight"].to_numpy()
    coverage = within_radius(cost, 1000.0)
    fixed = np.array([], dtype=int)
    # p = 4 with 4 candidates: everything is selected, yet two sites (a duplicate, a middle one) reduce nothing
    result = PMedian.from_cost_matrix(cost, weights, 4).solve()

    def explain(res):  # type: ignore[no-untyped-def]
        return explain_solution(res, coverage, weights, demand, cand, fixed=fixed, cost=cost)

    res2, exp2, message = drop_useless(
        result, explain(result), explain, "pmedian", 4, "1 km Luftlinie", coverage, weights, fixed
    )
    assert len(res2.selected) < 4
    assert all(s.cost_reduction is None or s.cost_reduction > 0 for s in exp2.sites)
    assert "verkürzen für niemanden den Weg" in message


def test_full_useful_plan_keeps_everything() -> None:
    demand, cand = _frames(6)  # candidate 5 at 5 km sits on demand 1
    cost = np.abs(np.subtract.outer(demand.geometry.x.to_numpy(), cand.geometry.x.to_numpy()))
    weights = demand["weight"].to_numpy()
    coverage = within_radius(cost, 500.0)
    fixed = np.array([], dtype=int)
    result = MCLP.from_cost_matrix(cost, weights, 500.0, 2).solve()

    def explain(res):  # type: ignore[no-untyped-def]
        return explain_solution(res, coverage, weights, demand, cand, fixed=fixed)

    res2, exp2, message = drop_useless(result, explain(result), explain, "mclp", 2, "0,5 km", coverage, weights, fixed)
    assert message == "" and len(res2.selected) == 2 and exp2.covered_after == 30.0


def test_equity_table_by_hand() -> None:
    before = [np.inf, 3000.0, 800.0, 500.0]
    after = [900.0, 900.0, 800.0, 500.0]
    table = equity_table(
        before, after, [1.0, 1.0, 2.0, 6.0], ["a", "a", "b", "b"], 1000.0, gemeinde_names={"a": "Alsdorf"}, unit=1000.0
    )
    a = table.set_index("gemeinde_ags").loc["a"]
    assert a["gemeinde"] == "Alsdorf" and a["beyond_before"] == 1.0 and a["beyond_after"] == 0.0
    assert a["p90_before"] == np.inf and a["p90_after"] == pytest.approx(0.9)
    total = table.set_index("gemeinde_ags").loc["Gesamt"]
    assert total["demand"] == 10.0 and total["beyond_before"] == pytest.approx(0.2)
    assert total["p90_after"] == pytest.approx(0.9)


def test_weighted_quantile_is_a_lower_quantile() -> None:
    assert weighted_quantile([5.0, 1.0], [1.0, 9.0], 0.9) == 1.0
    assert weighted_quantile([5.0, 1.0], [2.0, 8.0], 0.9) == 5.0
    assert np.isnan(weighted_quantile([], [], 0.9))


@pytest.mark.parametrize("p_col", ["p_new", "p"])
def test_curve_has_a_quantitative_x_field_for_every_model(p_col: str) -> None:
    sens = pd.DataFrame({"radius": [15.0, 15.0, 15.0], p_col: [0, 1, 2], "covered_share": [0.1, np.nan, 0.5]})
    data = curve_data(sens)
    assert data.columns.tolist() == ["neue_standorte", "versorgt_pct", "schwelle"]
    assert data["neue_standorte"].tolist() == [0, 2] and data["versorgt_pct"].tolist() == [10.0, 50.0]
    assert data.notna().all().all()


def test_sites_forced_by_the_minimum_per_gemeinde_stay_and_are_named() -> None:
    demand, cand = _frames(4)
    cost = np.abs(np.subtract.outer(demand.geometry.x.to_numpy(), cand.geometry.x.to_numpy()))
    weights = demand["weight"].to_numpy()
    coverage = within_radius(cost, 1000.0)
    fixed = np.array([], dtype=int)
    result = MCLP.from_cost_matrix(cost, weights, 1000.0, 3).solve()

    def explain(res):  # type: ignore[no-untyped-def]
        return explain_solution(res, coverage, weights, demand, cand, fixed=fixed)

    res2, _, message = drop_useless(
        result, explain(result), explain, "mclp", 3, "1 km", coverage, weights, fixed, keep_forced=True
    )
    assert len(res2.selected) == 3
    assert message.startswith("2 Standort(e) erreichen niemanden zusätzlich") and "Mindestzahl je Gemeinde" in message
