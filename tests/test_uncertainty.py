"""Uncertainty: the cell-key p-table, the estimate error, resampling and intervals that contain the figure."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from geo.errors import DataError
from geo.formatting import de_share_interval
from planning.noise import (
    ASSUMED_OSM_ERROR,
    CENSUS_2022_CKM,
    CellKeyNoise,
    EstimateError,
    RemainderSplit,
    measure_estimate_error,
)
from planning.uncertainty import (
    Interval,
    noise_kinds,
    ratio_intervals,
    resample_demand,
    share_interval,
    sum_intervals,
    unit_share_intervals,
)


@pytest.mark.parametrize("ckm", [CENSUS_2022_CKM, CellKeyNoise(max_deviation=6, variance=2.5, small_block=2)])
def test_p_table_is_mean_zero_with_the_variance_and_respects_zero_and_small_counts(ckm: CellKeyNoise) -> None:
    t = ckm.table()
    v = ckm.noise_values
    assert np.allclose(t.sum(axis=1), 1.0)
    assert np.allclose(t @ v, 0.0, atol=1e-9)
    assert np.allclose((t @ v**2)[1:], ckm.variance, atol=1e-6)  # every non-zero row reaches V here
    assert t[0].tolist() == (v == 0).astype(float).tolist()  # zero stays zero (Destatis)
    for i in range(1, t.shape[0]):
        published = i + v
        assert t[i][published < 0].sum() == 0
        assert t[i][(published >= 1) & (published <= ckm.small_block)].sum() == 0


def test_drawn_overlay_has_mean_zero_variance_v_and_never_a_blocked_value() -> None:
    rng = np.random.default_rng(0)
    x = np.array([0.0, 1.0, 2.0, 40.0])
    d = CENSUS_2022_CKM.draw(x, None, rng, 20_000)
    assert (d[:, 0] == 0).all()
    assert not np.isin(d[:, 1:], [1.0]).any() or (d[:, 1] == 1).sum() == 0
    assert abs(d[:, 3].mean() - 40.0) < 0.05
    assert abs(d[:, 3].var() - 1.8) < 0.1
    assert (np.abs(d - x) <= 4).all()


def test_estimate_error_keeps_every_unit_total_and_is_measurable() -> None:
    rng = np.random.default_rng(1)
    x = rng.integers(1, 60, 500).astype(float)
    units = rng.integers(0, 7, 500)
    d = EstimateError(0.4, measured=False).draw(x, units, rng, 50)
    for u in range(7):
        assert np.allclose(d[:, units == u].sum(axis=1), x[units == u].sum())
    # measuring recovers the sigma of a known log-normal error (synthetic reference cells)
    ref = x * np.exp(0.4 * rng.standard_normal(x.size))
    fit = measure_estimate_error(x, ref)
    assert fit.measured and fit.n_pairs == 500
    assert fit.sigma == pytest.approx(0.4, abs=0.05)
    assert not ASSUMED_OSM_ERROR.measured and "angenommen" in ASSUMED_OSM_ERROR.label
    with pytest.raises(DataError, match="zu wenige"):
        measure_estimate_error(x[:5], ref[:5])


def test_remainder_split_keeps_means_and_never_fills_a_cell_without_share() -> None:
    rng = np.random.default_rng(2)
    x = np.array([2.0, 1.0, 0.0, 5.0, 5.0])
    d = RemainderSplit().draw(x, np.array([0, 0, 0, 1, 1]), rng, 4_000)
    assert (d[:, 2] == 0).all()
    assert np.allclose(d.mean(axis=0), x, atol=0.1)
    assert (d == np.round(d)).all()


def test_noise_kinds_and_exact_rows_are_not_varied() -> None:
    demand = pd.DataFrame(
        {
            "level": ["zensus", "zensus", "osm", "osm", "gemeinde"],
            "weight_quelle": [
                "Zensus 2022, Wert der Zelle",
                "geheim gehalten – nicht schätzbar (als 0 gezählt)",
                None,
                None,
                None,
            ],
            "quelle": [None, None, "geschätzt aus Gebäuden (OSM)", None, None],
            "resolution": ["zensus_100m", "zensus_100m", "osm_100m", "osm_grob", "gemeinde"],
        }
    )
    kinds = noise_kinds(demand)
    assert kinds.tolist() == ["zensus_cell", "zensus_secret", "osm_estimate", "exact", "exact"]
    d = resample_demand([10.0, 0.0, 30.0, 50.0, 70.0], kinds, ["a", "a", "g", "g", "g"], n_resamples=30)
    assert (d.draws[:, [1, 3, 4]] == [0.0, 50.0, 70.0]).all()
    assert any("geheime" in n for n in d.notes)
    assert set(d.models) == {"zensus_cell", "zensus_secret", "osm_estimate", "exact"}
    with pytest.raises(DataError, match="Unbekannte Rauschart"):
        resample_demand([1.0], ["falsch"])


def test_exact_demand_collapses_every_interval_to_the_figure() -> None:
    d = resample_demand([30.0, 10.0, 60.0], ["exact"] * 3, n_resamples=20)
    iv = share_interval(d, [True, False, True])
    assert (iv.point, iv.low, iv.high, iv.extended) == (0.9, 0.9, 0.9, False)
    gains = sum_intervals(d, np.array([[1, 0], [1, 1], [0, 1]]))
    assert [(g.point, g.low, g.high) for g in gains] == [(40.0, 40.0, 40.0), (70.0, 70.0, 70.0)]


def test_ratio_by_hand_and_unit_table() -> None:
    d = resample_demand([30.0, 10.0, 60.0, 0.0], ["exact"] * 4, n_resamples=5)
    ivs = ratio_intervals(d, sp.csc_array(np.array([[1.0], [0.0], [1.0], [0.0]])), np.ones((4, 1)))
    assert ivs[0].point == pytest.approx(0.9)
    tab = unit_share_intervals(d, [True, False, True, False], ["b", "a", "a", "c"])
    assert tab["unit"].tolist() == ["a", "b", "c"]
    assert tab["share"].tolist()[:2] == [pytest.approx(60 / 70), 1.0]
    assert np.isnan(tab["share"].iloc[2])  # no demand: no share, neither 0 % nor 100 %


def test_interval_text_and_formatting() -> None:
    assert Interval(0.9712, 0.951, 0.9801, 0.9, 200).text() == "97 % versorgt (90 %-Intervall 95–98 %)"
    assert de_share_interval(0.5, 0.45, 0.55, 0.8, decimals=1) == "50,0 % (80 %-Intervall 45,0–55,0 %)"
    json.dumps(Interval(float("nan"), float("nan"), float("nan"), 0.9, 0).as_dict())


@settings(max_examples=60, deadline=None)
@given(
    weights=st.lists(st.integers(0, 12), min_size=1, max_size=8),
    mask=st.lists(st.booleans(), min_size=8, max_size=8),
    seed=st.integers(0, 1000),
)
def test_every_interval_contains_its_figure(weights: list[int], mask: list[bool], seed: int) -> None:
    n = len(weights)
    d = resample_demand(np.array(weights, float), ["zensus_cell"] * n, n_resamples=40, seed=seed)
    iv = share_interval(d, mask[:n])
    if np.isfinite(iv.point):
        assert iv.low <= iv.point <= iv.high
        assert iv.low >= 0.0 and iv.high <= 1.0
    for g in sum_intervals(d, np.array(mask[:n], dtype=float).reshape(-1, 1)):
        assert g.low <= g.point <= g.high


def test_a_kreis_sized_demand_needs_no_widening_and_has_a_real_spread() -> None:
    """Generated, settlement-like demand (not real data): 5,000 cells, Zensus-like counts."""
    rng = np.random.default_rng(3)
    w = np.ceil(rng.lognormal(1.5, 1.0, 5_000))
    kinds = np.where(rng.random(5_000) < 0.95, "zensus_cell", "zensus_remainder").astype(object)
    d = resample_demand(w, kinds, rng.integers(0, 300, 5_000), n_resamples=200)
    covered = rng.random(5_000) < 0.6
    iv = share_interval(d, covered)
    assert not iv.extended
    assert iv.high > iv.low
    tab = unit_share_intervals(d, covered, rng.integers(0, 12, 5_000))
    assert ((tab["low"] <= tab["share"]) & (tab["share"] <= tab["high"])).all()
    assert not tab["extended"].any()
