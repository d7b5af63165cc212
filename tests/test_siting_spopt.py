"""Our exact models reach spopt's optimum (PuLP + CBC) on seeded random instances.

Objectives are compared, not selected sets: ties may be broken differently.
"""

from __future__ import annotations

import numpy as np
import pytest

from planning.siting import LSCP, MCLP, PMedian

spopt_locate = pytest.importorskip("spopt.locate", reason="spopt (dev dependency) is not installed")
pulp = pytest.importorskip("pulp", reason="pulp (installed with spopt) is missing")


def _instance(seed: int, n: int, m: int) -> tuple[np.ndarray, np.ndarray]:
    """Uniform points in a 20 km square (metres), integer weights."""
    rng = np.random.default_rng(seed)
    d = rng.uniform(0, 20_000, (n, 2))
    c = rng.uniform(0, 20_000, (m, 2))
    return np.sqrt(((d[:, None] - c[None]) ** 2).sum(-1)), rng.integers(1, 100, n).astype(float)


def _cbc() -> object:
    return pulp.PULP_CBC_CMD(msg=False)


def _fixed_args(m: int, fixed: list[int]) -> dict[str, np.ndarray]:
    if not fixed:
        return {}
    mask = np.zeros(m, dtype=int)
    mask[fixed] = 1
    return {"predefined_facilities_arr": mask}


CASES = [  # seed, n demand, m candidates, p, fixed
    (1, 40, 10, 3, []),
    (2, 80, 15, 4, [3]),
    (3, 150, 25, 5, []),
    (4, 200, 30, 6, [0, 7]),
    (5, 300, 40, 8, [5]),
]


@pytest.mark.parametrize(("seed", "n", "m", "p", "fixed"), CASES)
def test_mclp_objective_equals_spopt(seed: int, n: int, m: int, p: int, fixed: list[int]) -> None:
    cost, w = _instance(seed, n, m)
    radius = float(np.quantile(cost, 0.1))
    ref = spopt_locate.MCLP.from_cost_matrix(
        cost, w, radius, p_facilities=p, **_fixed_args(m, fixed), name=f"mclp{seed}"
    ).solve(_cbc())
    ours = MCLP.from_cost_matrix(cost, w, radius, p, fixed=fixed).solve()
    assert ours.status == "optimal"
    assert ours.objective == pytest.approx(ref.problem.objective.value(), rel=1e-6)
    assert set(fixed) <= set(ours.selected.tolist())


@pytest.mark.parametrize(("seed", "n", "m", "p", "fixed"), CASES[:4])
def test_pmedian_objective_equals_spopt(seed: int, n: int, m: int, p: int, fixed: list[int]) -> None:
    cost, w = _instance(seed, n, m)
    ref = spopt_locate.PMedian.from_cost_matrix(
        cost, w, p_facilities=p, **_fixed_args(m, fixed), name=f"pmedian{seed}"
    ).solve(_cbc())
    ours = PMedian.from_cost_matrix(cost, w, p, fixed=fixed).solve()
    assert ours.status == "optimal"
    assert ours.objective == pytest.approx(ref.problem.objective.value(), rel=1e-6)
    assert ours.gap == 0.0


@pytest.mark.parametrize(("seed", "n", "m", "fixed"), [(c[0], c[1], c[2], c[4]) for c in CASES])
def test_lscp_objective_equals_spopt(seed: int, n: int, m: int, fixed: list[int]) -> None:
    cost, _ = _instance(seed, n, m)
    # spopt's LSCP needs every demand point coverable: use the largest nearest-candidate distance
    radius = float(cost.min(axis=1).max())
    ref = spopt_locate.LSCP.from_cost_matrix(cost, radius, **_fixed_args(m, fixed), name=f"lscp{seed}").solve(_cbc())
    ours = LSCP.from_cost_matrix(cost, radius, fixed=fixed).solve()
    assert ours.status == "optimal"
    assert ours.objective == pytest.approx(ref.problem.objective.value(), rel=1e-6)
    assert ours.covered.all()
