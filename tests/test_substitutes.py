"""Best substitute and flip margins of each site, checked against brute force on tiny plans."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geo.errors import ValidationError
from planning.substitutes import margins_table, site_margins


def _value(a: np.ndarray, w: np.ndarray, plan: list[int]) -> float:
    return float(w[a[:, plan].any(axis=1)].sum()) if plan else 0.0


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 100_000), p=st.integers(1, 3))
def test_substitute_and_demand_flip_equal_brute_force(seed: int, p: int) -> None:
    rng = np.random.default_rng(seed)
    a = rng.random((10, 6)) < 0.35
    w = rng.integers(1, 20, 10).astype(float)
    plan = list(max(itertools.combinations(range(6), p), key=lambda s: (_value(a, w, list(s)), s)))
    base = _value(a, w, plan)
    for mg in site_margins(plan, a, w):
        j = mg.site
        rest = [s for s in plan if s != j]
        swaps = {k: _value(a, w, [*rest, k]) for k in range(6) if k not in plan}
        assert mg.exclusive == pytest.approx(base - _value(a, w, rest))
        if swaps:
            assert mg.substitute_reaches == pytest.approx(max(swaps.values()) - _value(a, w, rest))
            assert mg.loss == pytest.approx(base - max(swaps.values()))
        if not np.isfinite(mg.flip_share):
            continue
        only_j = a[:, j] & (a[:, plan].sum(axis=1) == 1)
        for eps, still_best in ((-1e-6, True), (1e-6, False)):
            w2 = w.copy()
            w2[only_j] *= 1 - (mg.flip_share + eps)
            v = _value(a, w2, plan)
            alts = {k: _value(a, w2, [*rest, k]) for k in swaps}
            if still_best:  # just before the flip no single swap is better
                assert max(alts.values()) <= v + 1e-9
            elif mg.flip_share + eps <= 1:  # just after, the named candidate is strictly better
                assert alts[mg.flip_to] > v - 1e-9


def test_budget_limits_the_substitutes_and_reports_the_slack_and_a_costly_better_one() -> None:
    # site 0 reaches rows 0-1 (10 people); candidate 1 would reach 12 but costs 40; candidate 2 reaches 4 for 5 €
    a = np.array([[1, 1, 0], [1, 0, 1], [0, 1, 0]], dtype=bool)
    w = np.array([6.0, 4.0, 6.0])
    (mg,) = site_margins([0], a, w, site_cost=[10.0, 40.0, 5.0], budget=25.0, names=["A", "B", "C"])
    assert mg.substitute == 2 and mg.substitute_reaches == 4.0 and mg.loss == 6.0
    assert mg.cost_slack == 15.0
    assert (mg.costly_better, mg.costly_gain, mg.costly_over) == (1, 2.0, 15.0)
    assert "15 € günstiger" in mg.reason and "bis zu 15 €" in mg.reason
    json.dumps(mg.as_dict())
    assert list(margins_table((mg,))["site"]) == [0]


def test_fixed_sites_are_neither_analysed_nor_substitutes() -> None:
    a = np.eye(3, dtype=bool)
    margins = site_margins([0, 1], a, [5.0, 5.0, 5.0], fixed=[0])
    assert [mg.site for mg in margins] == [1]
    assert margins[0].substitute == 2


def test_inputs_are_checked() -> None:
    with pytest.raises(ValidationError, match="Budget und Kosten"):
        site_margins([0], np.eye(2, dtype=bool), [1, 1], budget=5.0)


def test_a_plan_that_a_single_swap_improves_says_so_and_names_no_flip() -> None:
    # site 0 reaches 3 people, candidate 1 reaches 7: a robust or cut-off plan may still hold site 0
    mg = site_margins([0], np.eye(2, dtype=bool), [3.0, 7.0], names=["Alt", "Neu"])[0]
    assert mg.substitute == 1 and mg.loss == -4.0
    assert mg.reason == (
        "Alt erreicht 3 Personen, die kein anderer Standort des Plans erreicht; Neu würde in dieser Nachfrage 4 "
        "Personen mehr erreichen; der Plan ist nicht für sie allein optimiert (robust über Varianten geplant oder "
        "im Zeitlimit gelöst)."
    )


def test_a_substitute_reaching_the_same_people_is_a_tie_and_names_no_flip() -> None:
    # Gemeinde-level demand: two schools in one Gemeinde reach the same demand point, a third reaches another one;
    # before, the tie was skipped and the sentence named a flip to the third at 56 %
    a = np.array([[1, 1, 0], [0, 0, 1]], dtype=bool)
    mg = site_margins([0], a, [9.0, 4.0], names=["Falk-Schule", "Petrischule", "Iburg"])[0]
    assert (mg.substitute, mg.loss, mg.flip_share, mg.flip_to) == (1, 0.0, 0.0, 1)
    assert mg.is_tie and mg.as_dict()["tie"] is True
    assert mg.reason == (
        "Falk-Schule erreicht 9 Personen, die kein anderer Standort des Plans erreicht; der beste Ersatz, "
        "Petrischule, erreicht gleich viele Personen (auf eine Person genau): für die Versorgung sind beide "
        "gleichwertig, die Wahl zwischen ihnen entscheiden andere Gründe."
    )
    (strict,) = site_margins([0], np.array([[1, 0, 0], [0, 0, 1]], dtype=bool), [9.0, 4.0])
    assert not strict.is_tie and strict.substitute == 2 and strict.loss == 5.0  # a real margin stays one
