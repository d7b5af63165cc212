"""Benchmark: 2SFCA with 100,000 demand × 2,000 supply locations against PySAL access.

Demand cells and Kitas are uniform random points in a 100 km × 100 km square of
NRW (EPSG:25832, fixed seed); the cost is the straight-line distance in metres
of every pair within the 5 km catchment (a sparse matrix from
``cKDTree.sparse_distance_matrix``, about 1.6 million pairs). The same pairs go
to :func:`planning.accessibility.two_step_fca` (sparse COO matrix) and to
``access.Access(...).two_stage_fca`` (long cost table), once with the step
catchment and once with a Gaussian decay. Values must be identical to
``rtol=1e-9``; target: ours ≥ 3× faster.

Timing: median of ``--repeat`` runs of the call itself (building the
``Access`` object, which copies and checks the tables, is timed separately).
Memory: peak of Python/NumPy allocations during one call (``tracemalloc``, a
separate run so that tracing does not distort the times).

Run ``python benchmarks/bench_2sfca.py``; writes ``benchmarks/results/2sfca.md``.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import scipy
import scipy.sparse as sp
from _report import write_section
from scipy.spatial import cKDTree

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import access  # noqa: E402

from planning.accessibility import gaussian_weight, two_step_fca  # noqa: E402

N_DEMAND = 100_000
N_SUPPLY = 2_000
MAX_COST_M = 5_000.0
SEED = 20_240_604
OUT = ROOT / "benchmarks" / "results" / "2sfca.md"


def make_data(n_demand: int, n_supply: int) -> tuple[np.ndarray, np.ndarray, sp.coo_array]:
    """Demand, supply and the sparse distance matrix of all pairs within the catchment."""
    rng = np.random.default_rng(SEED)
    x0, y0 = 300_000.0, 5_650_000.0
    dem = rng.uniform(0, 100_000, (n_demand, 2)) + (x0, y0)
    sup = rng.uniform(0, 100_000, (n_supply, 2)) + (x0, y0)
    demand = rng.integers(0, 400, n_demand).astype(np.float64)  # includes empty cells
    supply = rng.integers(20, 120, n_supply).astype(np.float64)  # Kita places
    cost = cKDTree(dem).sparse_distance_matrix(cKDTree(sup), MAX_COST_M, output_type="coo_matrix")
    return demand, supply, sp.coo_array(cost)


def timed(fn: Callable[[], object], repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def peak_mb(fn: Callable[[], object]) -> float:
    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 2**20


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n-demand", type=int, default=N_DEMAND)
    p.add_argument("--n-supply", type=int, default=N_SUPPLY)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--out", type=Path, default=OUT)
    args = p.parse_args(argv)

    demand, supply, cost = make_data(args.n_demand, args.n_supply)
    demand_df = pd.DataFrame({"pop": demand}, index=pd.RangeIndex(demand.size, name="geoid"))
    supply_df = pd.DataFrame({"places": supply}, index=pd.RangeIndex(supply.size, name="geoid"))
    cost_df = pd.DataFrame({"origin": cost.row, "dest": cost.col, "cost": cost.data})

    def make_access() -> access.Access:
        return access.Access(
            demand_df=demand_df,
            demand_index=True,
            demand_value="pop",
            supply_df=supply_df,
            supply_index=True,
            supply_value="places",
            cost_df=cost_df,
            cost_origin="origin",
            cost_dest="dest",
            cost_name="cost",
        )

    t_init, model = timed(make_access, 1)
    rows = []
    for label, ours_fn, theirs_fn in [
        ("step catchment (2SFCA)", None, None),
        ("Gaussian decay, σ = d0", gaussian_weight(MAX_COST_M, normalise=False), access.weights.gaussian(MAX_COST_M)),
    ]:

        def ours(w: Callable[[np.ndarray], np.ndarray] | None = ours_fn) -> np.ndarray:
            return two_step_fca(demand, supply, cost, MAX_COST_M, weight_fn=w)

        def theirs(w: Callable[[float], float] | None = theirs_fn) -> np.ndarray:
            out = model.two_stage_fca(name="r", max_cost=MAX_COST_M, weight_fn=w)  # type: ignore[union-attr]
            return out["r_places"].reindex(demand_df.index).to_numpy(dtype=float)

        t_ours, a = timed(ours, args.repeat)
        t_theirs, b = timed(theirs, args.repeat)
        np.testing.assert_allclose(a, b, rtol=1e-9, equal_nan=True)  # type: ignore[arg-type]
        rows.append((label, t_ours, t_theirs, peak_mb(ours), peak_mb(theirs), int(np.isnan(a).sum())))  # type: ignore[arg-type]

    lines = [
        "## 2SFCA against PySAL access",
        "",
        f"{args.n_demand:,} demand cells × {args.n_supply:,} Kitas, uniform in a 100 km square (EPSG:25832, seed "
        f"{SEED}); cost = distance of every pair within d0 = {MAX_COST_M / 1000:g} km "
        f"(**{cost.nnz:,} pairs**, sparse). Times: median of {args.repeat} calls; `access.Access(...)` "
        f"construction (not included below) took {t_init:.2f} s. Peak memory: tracemalloc during one call.",
        "",
        "| Variant | Ours (s) | access (s) | Ours faster | Peak ours (MB) | Peak access (MB) | Equal (rtol 1e-9) |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for label, t_ours, t_theirs, m_ours, m_theirs, n_nan in rows:
        lines.append(
            f"| {label} | {t_ours:.3f} | {t_theirs:.3f} | **{t_theirs / t_ours:.1f}×** | {m_ours:.0f} | "
            f"{m_theirs:.0f} | yes, incl. {n_nan} NaN (no Kita in reach) |"
        )
    worst = min(t_theirs / t_ours for _, t_ours, t_theirs, *_ in rows)
    lines += [
        "",
        f"Target ≥ 3× faster with identical values: **{'met' if worst >= 3 else 'MISSED'}** (slowest case "
        f"{worst:.1f}×).",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} CPU(s) shared, Python {platform.python_version()}, "
        f"NumPy {np.__version__}, SciPy {scipy.__version__}, pandas {pd.__version__}. "
        "Reproduce: `python benchmarks/bench_2sfca.py`.",
    ]
    text = "\n".join(lines) + "\n"
    write_section(text, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
