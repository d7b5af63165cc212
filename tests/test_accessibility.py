"""2SFCA / E2SFCA: hand-worked cases, properties and value-by-value agreement with PySAL access."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geo.errors import DataError, ValidationError
from planning.accessibility import gaussian_weight, step_weights, two_step_fca

access = pytest.importorskip("access", reason="PySAL access (dev dependency) is needed for the comparison")


def access_2sfca(
    demand: np.ndarray,
    supply: np.ndarray,
    rows: np.ndarray,
    cols: np.ndarray,
    costs: np.ndarray,
    max_cost: float,
    weight_fn: Callable[[float], float] | None = None,
) -> np.ndarray:
    """``access.Access(...).two_stage_fca`` on the same pairs, as an array per demand row."""
    demand_df = pd.DataFrame({"pop": demand}, index=pd.RangeIndex(demand.size, name="geoid"))
    supply_df = pd.DataFrame({"cap": supply}, index=pd.RangeIndex(supply.size, name="geoid"))
    cost_df = pd.DataFrame({"origin": rows, "dest": cols, "cost": costs})
    model = access.Access(
        demand_df=demand_df,
        demand_index=True,
        demand_value="pop",
        supply_df=supply_df,
        supply_index=True,
        supply_value="cap",
        cost_df=cost_df,
        cost_origin="origin",
        cost_dest="dest",
        cost_name="cost",
    )
    out = model.two_stage_fca(name="r", max_cost=max_cost, weight_fn=weight_fn)
    return out["r_cap"].reindex(demand_df.index).to_numpy(dtype=float)


@st.composite
def instances(draw: st.DrawFn, positive_demand: bool = False) -> dict[str, np.ndarray]:
    """Small random 2SFCA instances with integer costs (ties at the cut-off), zero demand and zero supply."""
    n_demand = draw(st.integers(1, 12))
    n_supply = draw(st.integers(1, 6))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    low = 1 if positive_demand else 0
    demand = rng.integers(low, 40, n_demand).astype(float)
    supply = rng.integers(0, 8, n_supply).astype(float)
    listed = rng.random((n_demand, n_supply)) < draw(st.floats(0.1, 1.0))
    listed[0, 0] = True  # at least one pair, so that access builds its tables
    rows, cols = np.nonzero(listed)
    costs = rng.integers(0, 21, rows.size).astype(float)  # explicit 0 costs included
    return {"demand": demand, "supply": supply, "rows": rows, "cols": cols, "costs": costs}


def sparse_cost(inst: dict[str, np.ndarray]) -> sp.coo_array:
    shape = (inst["demand"].size, inst["supply"].size)
    return sp.coo_array((inst["costs"], (inst["rows"], inst["cols"])), shape=shape)


# ------------------------------------------------------------------ hand-worked


def test_hand_worked_step_catchment() -> None:
    # Kita A (10 places) serves cells 0 and 1 (10 + 20 children): R_A = 1/3.
    # Kita B (20 places) serves cells 1 and 2 (20 + 30 children): R_B = 0.4.
    # Cell 3 has no Kita within 1000 m -> NaN, never 0.
    cost = np.array([[200.0, 1500.0], [800.0, 1000.0], [3000.0, 400.0], [5000.0, 5000.0]])
    result = two_step_fca([10, 20, 30, 5], [10, 20], cost, max_cost=1000.0)
    np.testing.assert_allclose(result[:3], [1 / 3, 1 / 3 + 0.4, 0.4], rtol=1e-12)
    assert np.isnan(result[3])


def test_hand_worked_e2sfca_steps() -> None:
    # One Kita with 6 places; cell 0 at 5 min (w=1), cell 1 at 15 min (w=0.5).
    # W = 4*1 + 4*0.5 = 6 -> R = 1; A_0 = 1*1 = 1, A_1 = 1*0.5 = 0.5.
    weight = step_weights([(10, 1.0), (20, 0.5)])
    result = two_step_fca([4, 4], [6], np.array([[5.0], [15.0]]), max_cost=20, weight_fn=weight)
    np.testing.assert_allclose(result, [1.0, 0.5], rtol=1e-12)


def test_sparse_missing_pair_is_out_of_reach_but_stored_zero_is_in_reach() -> None:
    cost = sp.csr_array((np.array([0.0]), (np.array([0]), np.array([0]))), shape=(2, 1))
    assert cost.nnz == 1
    result = two_step_fca([5, 5], [10], cost, max_cost=100)
    assert result[0] == pytest.approx(2.0)
    assert np.isnan(result[1])


def test_dense_nan_means_no_connection() -> None:
    result = two_step_fca([5, 5], [10], np.array([[50.0], [np.nan]]), max_cost=100)
    assert result[0] == pytest.approx(2.0)
    assert np.isnan(result[1])


def test_zero_demand_catchment_gives_inf_as_access_does() -> None:
    # A Kita whose catchment holds no children: R = 10/0 = inf, exactly like access.
    demand, supply = np.array([0.0, 3.0]), np.array([10.0, 3.0])
    rows, cols, costs = np.array([0, 1]), np.array([0, 1]), np.array([1.0, 1.0])
    ours = two_step_fca(demand, supply, sp.coo_array((costs, (rows, cols)), shape=(2, 2)), max_cost=5)
    np.testing.assert_array_equal(ours, [np.inf, 1.0])
    np.testing.assert_array_equal(ours, access_2sfca(demand, supply, rows, cols, costs, 5))


def test_empty_supply_with_zero_demand_contributes_nothing() -> None:
    # Supply 0 has 0 places and 0 children in reach: R = 0/0 is skipped (access' NaN-skipping sum),
    # so cell 0 still gets the ratio of supply 1: W_1 = 0 + 3, R_1 = 1.
    demand, supply = np.array([0.0, 3.0]), np.array([0.0, 3.0])
    rows, cols, costs = np.array([0, 0, 1]), np.array([0, 1, 1]), np.array([1.0, 2.0, 1.0])
    ours = two_step_fca(demand, supply, sp.coo_array((costs, (rows, cols)), shape=(2, 2)), max_cost=5)
    np.testing.assert_array_equal(ours, [1.0, 1.0])
    np.testing.assert_array_equal(ours, access_2sfca(demand, supply, rows, cols, costs, 5))


# ------------------------------------------------------------------ against access


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(inst=instances(), max_cost=st.sampled_from([0.0, 5.0, 10.0, 20.0]))
def test_step_catchment_equals_access(inst: dict[str, np.ndarray], max_cost: float) -> None:
    expected = access_2sfca(inst["demand"], inst["supply"], inst["rows"], inst["cols"], inst["costs"], max_cost)
    ours_sparse = two_step_fca(inst["demand"], inst["supply"], sparse_cost(inst), max_cost)
    dense = np.full((inst["demand"].size, inst["supply"].size), np.nan)
    dense[inst["rows"], inst["cols"]] = inst["costs"]
    ours_dense = two_step_fca(inst["demand"], inst["supply"], dense, max_cost)
    np.testing.assert_allclose(ours_sparse, expected, rtol=1e-9, equal_nan=True)
    np.testing.assert_allclose(ours_dense, expected, rtol=1e-9, equal_nan=True)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(inst=instances(), max_cost=st.sampled_from([5.0, 10.0, 20.0]), kind=st.sampled_from(["gauss", "step"]))
def test_weighted_catchment_equals_access(inst: dict[str, np.ndarray], max_cost: float, kind: str) -> None:
    if kind == "gauss":
        ours_fn, theirs_fn = gaussian_weight(max_cost, normalise=False), access.weights.gaussian(max_cost)
    else:
        steps = [(max_cost / 3, 1.0), (2 * max_cost / 3, 0.68), (max_cost, 0.22)]
        ours_fn, theirs_fn = step_weights(steps), access.weights.step_fn(dict(steps))
    expected = access_2sfca(
        inst["demand"], inst["supply"], inst["rows"], inst["cols"], inst["costs"], max_cost, theirs_fn
    )
    ours = two_step_fca(inst["demand"], inst["supply"], sparse_cost(inst), max_cost, weight_fn=ours_fn)
    np.testing.assert_allclose(ours, expected, rtol=1e-9, equal_nan=True)


def test_weight_functions_match_access_pointwise() -> None:
    x = np.linspace(0, 40, 81)
    np.testing.assert_allclose(
        gaussian_weight(15.0, normalise=False)(x), [access.weights.gaussian(15.0)(v) for v in x], rtol=1e-12
    )
    steps = [(10, 1.0), (20, 0.68), (30, 0.22)]
    np.testing.assert_array_equal(step_weights(steps)(x), [access.weights.step_fn(dict(steps))(v) for v in x])


def test_dai_gaussian_is_one_at_zero_and_zero_at_catchment_edge() -> None:
    w = gaussian_weight(900.0)
    assert w(np.array([0.0]))[0] == pytest.approx(1.0)
    assert w(np.array([900.0]))[0] == pytest.approx(0.0, abs=1e-15)
    assert np.all(np.diff(w(np.linspace(0, 900, 50))) < 0)


# ------------------------------------------------------------------ properties


@settings(max_examples=80, deadline=None)
@given(inst=instances(positive_demand=True), max_cost=st.sampled_from([0.0, 7.0, 10.0, 20.0]))
def test_step_catchment_shares_out_exactly_the_reachable_supply(inst: dict[str, np.ndarray], max_cost: float) -> None:
    ratio = two_step_fca(inst["demand"], inst["supply"], sparse_cost(inst), max_cost)
    in_reach = inst["costs"] <= max_cost
    served = np.zeros(inst["supply"].size, dtype=bool)
    served[inst["cols"][in_reach]] = True
    shared = np.nansum(ratio * inst["demand"])
    assert shared == pytest.approx(inst["supply"][served].sum(), rel=1e-9, abs=1e-9)
    assert np.all(np.isnan(ratio) | (ratio >= 0))


# ------------------------------------------------------------------ errors


def test_shape_mismatch_is_reported(raises_matching) -> None:
    with raises_matching(DataError, "Form (2, 2)", "erwartet wird (3, 2)"):
        two_step_fca([1, 2, 3], [1, 1], np.zeros((2, 2)), max_cost=1)


def test_negative_demand_is_reported(raises_matching) -> None:
    with raises_matching(DataError, "Nachfrage", "Positionen 1"):
        two_step_fca([1, -2], [1], np.zeros((2, 1)), max_cost=1)


def test_bad_steps_collect_all_problems() -> None:
    with pytest.raises(ValidationError, match="3 Problem") as info:
        step_weights([(10, 1.0), (5, -0.5), (20, 0.2), (20, 0.1)])
    texts = " ".join(str(p) for p in info.value.problems)
    assert "aufsteigend" in texts
    assert "Gewicht -0.5" in texts


def test_gaussian_needs_positive_catchment(raises_matching) -> None:
    with raises_matching(DataError, "positive Zahl"):
        gaussian_weight(0.0)
