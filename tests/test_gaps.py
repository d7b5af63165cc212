"""Gap tables: hand-worked metrics, score and ranking (EPSG:25832)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import Point

from geo.errors import CRSError, DataError, SchemaError
from planning.gaps import GapInputs, gap_table, weighted_quantile_by_group

INPUTS = GapInputs(
    layer="ki",
    threshold=10.0,
    unit="km",
    mode="luftlinie",
    demand_level="orte",
    demand_level_label="Orte (GeoNames) mit Kreisbevölkerung – Näherung",
    target_group="Gesamtbevölkerung",
    as_of=(("Bevölkerung", "2019"), ("Einrichtungen", "2026-11")),
    layer_title="Kommunale Integrationszentren",
)


def demand(units: list[str], weight: list[float], population: list[float] | None = None) -> gpd.GeoDataFrame:
    n = len(units)
    return gpd.GeoDataFrame(
        {"weight": weight, "population": population if population is not None else weight, "kreis_ags": units},
        geometry=[Point(400_000 + 100 * i, 5_700_000) for i in range(n)],
        index=[f"p{i}" for i in range(n)],
        crs="EPSG:25832",
    )


@pytest.fixture
def three_kreise() -> tuple[gpd.GeoDataFrame, pd.Series, pd.DataFrame]:
    # A: 100 people at 2 km, 100 at 20 km → half covered, P90 20 km
    # B: 300 people at 5 km, 100 unreachable → 75 % covered, P90 inf
    # C: 50 people at 1 km → fully covered; D: no demand at all
    d = demand(["A", "A", "B", "B", "C"], [100.0, 100.0, 300.0, 100.0, 50.0], [100.0, 120.0, 300.0, 100.0, 50.0])
    cost = pd.Series([2.0, 20.0, 5.0, np.inf, 1.0], index=d.index)
    units = pd.DataFrame(
        {"name": ["Kreis A", "Kreis B", "Kreis C", "Kreis D"]}, index=pd.Index(["A", "B", "C", "D"], name="ags")
    )
    return d, cost, units


def test_gap_metrics_hand_worked(three_kreise) -> None:
    d, cost, units = three_kreise
    gt = gap_table(d, cost, 10.0, unit_col="kreis_ags", units=units, inputs=INPUTS)
    t = gt.table
    assert list(t.index) == ["A", "B", "C", "D"]
    assert t.index.name == "kreis_ags"
    assert t.loc["A", "name"] == "Kreis A"
    assert t.loc["A", ["population", "weight", "population_beyond", "weight_beyond"]].tolist() == [
        220.0,
        200.0,
        120.0,
        100.0,
    ]
    assert t.loc["A", "share_covered"] == 0.5
    assert t.loc["A", "cost_mean"] == pytest.approx(11.0)
    assert t.loc["A", "cost_p90"] == 20.0
    assert t.loc["B", "share_covered"] == 0.75
    assert t.loc["B", "cost_mean"] == 5.0  # mean over the reachable demand
    assert t.loc["B", "weight_unreachable"] == 100.0
    assert np.isinf(t.loc["B", "cost_p90"])
    assert t.loc["C", "share_covered"] == 1.0
    assert bool(t.loc["D", "no_demand"])
    assert np.isnan(t.loc["D", "share_covered"]) and np.isnan(t.loc["D", "gap_score"])
    assert pd.isna(t.loc["D", "rank"])
    assert gt.inputs is INPUTS


def test_gap_score_and_rank_hand_worked(three_kreise) -> None:
    d, cost, units = three_kreise
    t = gap_table(d, cost, 10.0, unit_col="kreis_ags", units=units, inputs=INPUTS).table
    # components over A, B, C:  weight_beyond 100, 100, 0 → 1, 1, 0
    #                           uncovered 0.5, 0.25, 0     → 1, 0.5, 0
    #                           P90 20, inf, 1 (finite min–max 1..20; inf → 1) → 1, 1, 0
    assert t.loc["A", "gap_score"] == pytest.approx(1.0)
    assert t.loc["B", "gap_score"] == pytest.approx(2.5 / 3)
    assert t.loc["C", "gap_score"] == pytest.approx(0.0)
    assert t.loc[["A", "B", "C"], "rank"].tolist() == [1, 2, 3]


def test_access_ratio_component_and_weights(three_kreise) -> None:
    d, cost, units = three_kreise
    ratio = pd.Series([0.01, 0.03, 0.0, 0.0, 0.02], index=d.index)
    gt = gap_table(d, cost, 10.0, unit_col="kreis_ags", units=units, inputs=INPUTS, access_ratio=ratio)
    t = gt.table
    assert t.loc["A", "access_ratio"] == pytest.approx(0.02)
    assert t.loc["B", "access_ratio"] == 0.0
    # inverse access: A 50, B inf → 1, C 50 → finite min–max over {50, 50} is constant → 0
    assert t.loc["B", "gap_score"] == pytest.approx((1 + 0.5 + 1 + 1) / 4)
    assert t.loc["A", "gap_score"] == pytest.approx(3 / 4)
    assert t.loc[["A", "B", "C"], "rank"].tolist() == [2, 1, 3]
    assert dict(gt.score_weights)["inverse_access"] == 1.0
    # only the share component → ranking by uncovered share
    only = gap_table(
        d, cost, 10.0, unit_col="kreis_ags", units=units, inputs=INPUTS, score_weights={"uncovered_share": 1.0}
    )
    assert only.table.loc[["A", "B", "C"], "gap_score"].tolist() == [1.0, 0.5, 0.0]
    with pytest.raises(DataError, match="Gewichte des Lückenwerts"):
        gap_table(d, cost, 10.0, unit_col="kreis_ags", inputs=INPUTS, score_weights={"bogus": 1.0})


def test_ranking_and_ties() -> None:
    d = demand(["A", "B"], [10.0, 10.0])
    t = gap_table(d, pd.Series([1.0, 1.0], index=d.index), 5.0, unit_col="kreis_ags", inputs=INPUTS)
    assert t.table["rank"].tolist() == [1, 1]  # equal scores share the rank
    assert list(t.ranking().index) == ["A", "B"]


def test_a_lone_unit_is_ranked_first_without_a_score(three_kreise) -> None:
    # `coverage --area 05334002 --by gemeinde` printed Aachen, 65 % covered, with »Lückenwert 0,000«: the min–max
    # scaling over one unit gives 0, which reads as »no gap«
    d, cost, units = three_kreise
    lone = gap_table(d[d["kreis_ags"] == "A"], cost[d["kreis_ags"] == "A"], 10.0, unit_col="kreis_ags", inputs=INPUTS)
    assert np.isnan(lone.table.loc["A", "gap_score"]) and lone.table.loc["A", "rank"] == 1
    assert list(lone.ranking().index) == ["A"]
    assert lone.score_note.startswith("Lückenwert: vergleicht die Gebiete untereinander")
    # units without demand do not make a comparison: A is still alone
    with_empty = gap_table(
        d[d["kreis_ags"] == "A"], cost[d["kreis_ags"] == "A"], 10.0, unit_col="kreis_ags", units=units, inputs=INPUTS
    )
    assert np.isnan(with_empty.table.loc["A", "gap_score"]) and with_empty.score_note
    assert gap_table(d, cost, 10.0, unit_col="kreis_ags", units=units, inputs=INPUTS).score_note == ""


def test_gap_table_errors(three_kreise, raises_matching) -> None:
    d, cost, _ = three_kreise
    with raises_matching(SchemaError, "gemeinde_ags"):
        gap_table(d, cost, 10.0, unit_col="gemeinde_ags", inputs=INPUTS)
    with raises_matching(DataError, "fehlt ein Wert"):
        gap_table(d, cost.iloc[:3], 10.0, unit_col="kreis_ags", inputs=INPUTS)
    with raises_matching(CRSError, "EPSG:25832"):
        gap_table(d.to_crs("EPSG:4326"), cost, 10.0, unit_col="kreis_ags", inputs=INPUTS)
    with raises_matching(DataError, "Schwellenwert"):
        gap_table(d, cost, -1.0, unit_col="kreis_ags", inputs=INPUTS)


def test_inputs_citation() -> None:
    text = INPUTS.citation()
    for part in (
        "Kommunale Integrationszentren",
        "10 km (Luftlinie)",
        "Orte (GeoNames)",
        "Bevölkerung 2019",
        "Einrichtungen 2026-11",
    ):
        assert part in text
    assert INPUTS.as_dict()["as_of"] == {"Bevölkerung": "2019", "Einrichtungen": "2026-11"}


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 2), st.floats(0, 100), st.floats(0, 50)), min_size=1, max_size=40),
    st.floats(0.05, 1.0),
)
def test_weighted_quantile_matches_definition(rows, q) -> None:
    g = np.array([r[0] for r in rows], dtype=np.intp)
    c = np.array([r[1] for r in rows])
    w = np.array([r[2] for r in rows])
    got = weighted_quantile_by_group(g, c, w, q, 3)
    for k in range(3):
        sel = (g == k) & (w > 0)
        if not sel.any():
            assert np.isnan(got[k])
            continue
        # smallest candidate cost whose cumulative weight reaches q · total
        cand = np.sort(c[sel])
        reach = np.array([w[sel][c[sel] <= x].sum() for x in cand]) >= q * w[sel].sum() * (1 - 1e-12)
        assert got[k] == cand[np.argmax(reach)]
