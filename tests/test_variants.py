"""Variants: a plan across windows, demand variants and closures; selection frequency; the robust plan."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest

from geo.errors import ValidationError
from planning.uncertainty import resample_demand
from planning.variants import (
    CLOSURE,
    DEMAND,
    DEPARTURE_WINDOW,
    Variant,
    VariantSet,
    closure_variants,
    demand_variants,
    evaluate_plan,
    robust_plan,
    selection_frequency,
)


def _set(seed: int) -> VariantSet:
    rng = np.random.default_rng(seed)
    base = rng.uniform(0, 10, (12, 6))
    w = rng.integers(1, 20, 12).astype(float)
    return VariantSet(
        base,
        w,
        3.5,
        (
            Variant("Werktag 8–10", DEPARTURE_WINDOW, cost=base * rng.uniform(0.8, 1.3, base.shape)),
            Variant("Sonntag", DEPARTURE_WINDOW, radius=2.5),
            Variant("Nachfrage hoch", DEMAND, weights=w * rng.uniform(0.7, 1.5, 12)),
            Variant("ohne 2", CLOSURE, closed=(2,)),
        ),
    )


def _coverage(vs: VariantSet, plan: tuple[int, ...]) -> np.ndarray:
    costs, weights, radii, closed = vs.resolved()
    out = []
    for c, w, r, shut in zip(costs, weights, radii, closed, strict=True):
        open_ = [j for j in plan if j not in shut]
        out.append(float(w[(np.asarray(c)[:, open_] <= r).any(axis=1)].sum()) if open_ else 0.0)
    return np.array(out)


def test_a_variant_must_set_what_its_kind_changes() -> None:
    with pytest.raises(ValidationError, match="die Nachfrage") as info:
        VariantSet(np.zeros((2, 2)), [1, 1], 1.0, (Variant("x", DEMAND), Variant("x", CLOSURE)))
    assert "doppelt" in str(info.value) and "geschlossenen Standorte" in str(info.value)


@pytest.mark.parametrize("seed", range(3))
def test_evaluate_plan_by_hand(seed: int) -> None:
    vs = _set(seed)
    res = evaluate_plan([1, 2, 4], vs)
    assert res.covered.tolist() == pytest.approx(_coverage(vs, (1, 2, 4)).tolist())
    assert res.worst == pytest.approx(_coverage(vs, (1, 2, 4)).min())
    json.dumps(res.as_dict())
    assert list(res.table()["variant"]) == list(vs.names)


@pytest.mark.parametrize("seed", range(3))
def test_robust_plan_and_selection_frequency_equal_brute_force(seed: int) -> None:
    vs = _set(seed)
    plans = list(itertools.combinations(range(6), 2))
    worst = {plan: _coverage(vs, plan).min() for plan in plans}
    res = robust_plan(vs, p=2)
    assert res.objective == pytest.approx(max(worst.values()))
    assert res.covered.tolist() == pytest.approx(_coverage(vs, tuple(res.selected)).tolist())
    freq = selection_frequency(vs, p=2)
    for s, plan in enumerate(freq.plans):
        best = max(_coverage(vs, q)[s] for q in plans)
        assert _coverage(vs, plan)[s] == pytest.approx(best)
    assert freq.counts.sum() == 2 * len(vs.variants)
    table = freq.of(res.selected)
    assert (table["variants"] == [sum(j in plan for plan in freq.plans) for j in res.selected]).all()
    json.dumps(freq.as_dict())


def test_demand_and_closure_variants() -> None:
    draws = resample_demand([30.0, 20.0, 10.0], ["zensus_cell"] * 3, n_resamples=40)
    dv = demand_variants(draws, 4)
    assert [v.kind for v in dv] == [DEMAND] * 4
    totals = [float(np.sum(v.weights)) for v in dv]  # type: ignore[arg-type]
    assert totals == sorted(totals)
    cv = closure_variants([0, 3], ["Kita A", "Kita D"])
    assert [v.name for v in cv] == ["ohne Kita A", "ohne Kita D"] and cv[1].closed == (3,)
