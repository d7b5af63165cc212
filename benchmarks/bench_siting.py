"""Benchmark: exact siting models (planning.siting, HiGHS) against spopt (PuLP + CBC), same run.

Cases (seeded, uniform points in a 30 km (MCLP) / 20 km (p-median) square in metres,
integer weights 1…99; the cost matrix is built once and is not timed):

- ``mclp``: 10,000 demand × 500 candidates, p = 20, radius giving ~5 % coverage density.
  Both solvers get the same time limit (``--mclp-limit``); the report gives the best
  objective and proven bound of each.
- ``mclp-p5``: the same instance with p = 5, which both solvers prove optimal.
- ``pmedian``: 2,000 × 200, p = 10, both to proven optimality.
- ``kreis-…``: a **generated**, settlement-like Kreis (not real data): 40 towns with
  Gaussian spread and Pareto-skewed sizes in a 40 × 40 km square, 30,000 populated
  100 m cells (weights skewed), 2,000 candidates (70 % drawn by population, 30 %
  uniform); radius 2 km or 5 km, p = 5 or 20 (MCLP) and the LSCP on the same cells.
  Compared with the plain compact HiGHS model (``scipy.optimize.milp``: one
  ``z_i ≤ Σ_{j∈N(i)} y_j`` row per cell, ``Σ y = p``; LSCP: ``Σ_{j∈N(i)} y_j ≥ 1``)
  and, where it finishes in reasonable time, spopt.

Timing is end to end from the cost matrix: model build plus solve (spopt:
``from_cost_matrix`` + ``solve(PULP_CBC_CMD)``; ours: ``from_cost_matrix`` + ``solve()``).
Each (case, solver) runs in a fresh subprocess; its peak RSS is the larger of the
process's own ``ru_maxrss`` and that of its children (CBC runs as a child of PuLP).

Run ``python benchmarks/bench_siting.py`` (``--cases mclp-p5 pmedian`` for a subset);
it prints a markdown table and writes ``benchmarks/results/siting.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from _report import machine, write_section

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

CASES: dict[str, dict[str, Any]] = {
    "mclp": {"model": "mclp", "n": 10_000, "m": 500, "p": 20, "side": 30_000.0, "density": 0.05, "seed": 0},
    "mclp-p5": {"model": "mclp", "n": 10_000, "m": 500, "p": 5, "side": 30_000.0, "density": 0.05, "seed": 0},
    # the hard case with two more seeds (bench_mclp_scale.py: ours vs CBC over three seeds)
    "mclp-seed1": {"model": "mclp", "n": 10_000, "m": 500, "p": 20, "side": 30_000.0, "density": 0.05, "seed": 1},
    "mclp-seed2": {"model": "mclp", "n": 10_000, "m": 500, "p": 20, "side": 30_000.0, "density": 0.05, "seed": 2},
    "pmedian": {"model": "pmedian", "n": 2_000, "m": 200, "p": 10, "side": 20_000.0, "seed": 0},
    "kreis-2km-p5": {"model": "mclp", "kind": "kreis", "radius": 2_000.0, "p": 5, "seed": 0, "spopt": True},
    "kreis-2km-p20": {"model": "mclp", "kind": "kreis", "radius": 2_000.0, "p": 20, "seed": 0},
    "kreis-5km-p5": {"model": "mclp", "kind": "kreis", "radius": 5_000.0, "p": 5, "seed": 0},
    "kreis-5km-p20": {"model": "mclp", "kind": "kreis", "radius": 5_000.0, "p": 20, "seed": 0},
    # generated Regierungsbezirk (300,000 cells, 2,000 candidates; bench_mclp_scale.py)
    "regbez-2km-p50": {"model": "mclp", "kind": "kreis", "area": "regbez", "radius": 2_000.0, "p": 50, "seed": 0},
    "regbez-5km-p20": {"model": "mclp", "kind": "kreis", "area": "regbez", "radius": 5_000.0, "p": 20, "seed": 0},
    "lscp-kreis-2km": {"model": "lscp", "kind": "kreis", "radius": 2_000.0, "p": 0, "seed": 0},
    "lscp-kreis-5km": {"model": "lscp", "kind": "kreis", "radius": 5_000.0, "p": 0, "seed": 0},
    # uniform random LSCP that plain HiGHS also proves (the like-for-like LSCP speed check)
    "lscp-rand": {
        "model": "lscp",
        "n": 5_000,
        "m": 300,
        "p": 0,
        "side": 20_000.0,
        "density": 0.03,
        "seed": 7,
        "plain": True,
    },
    # a seconds-long run of the whole script, not part of the report
    "smoke": {"model": "pmedian", "n": 200, "m": 20, "p": 3, "side": 20_000.0, "seed": 1},
}
DEFAULT_CASES = ("mclp", "mclp-p5", "pmedian")
KREIS_CASES = tuple(c for c in CASES if CASES[c].get("kind") == "kreis" and "area" not in CASES[c])


def settlement_points(
    seed: int, side: float = 40_000.0, n_towns: int = 40, n_cells: int = 30_000, m: int = 2_000
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Generated settlement-like area: populated 100 m cells, weights, candidates (metres).

    ``n_towns`` towns, centres uniform in a ``side`` × ``side`` square, sizes
    Pareto(1.2)-skewed, Gaussian spread of 0.4–1.9 km (larger towns wider);
    persons are drawn town by town and counted per 100 m cell, each cell's
    count is scaled by a lognormal factor. 70 % of the ``m`` candidates are
    drawn from the cells by population (±50 m jitter), 30 % uniformly in the
    square. The defaults are the generated Kreis (30,000 cells, 2,000 candidates).
    """
    rng = np.random.default_rng(seed)
    centres = rng.uniform(0.05 * side, 0.95 * side, (n_towns, 2))
    size = rng.pareto(1.2, n_towns) + 1.0
    size = size / size.sum()
    sigma = 400.0 + 1500.0 * np.sqrt(size / size.max())
    pts = []
    while True:
        k = rng.choice(n_towns, 200_000, p=size)
        xy = centres[k] + rng.normal(0, 1, (k.size, 2)) * sigma[k, None]
        xy = xy[((xy >= 0) & (xy < side)).all(axis=1)]
        pts.append(np.floor(xy / 100.0).astype(np.int64))
        allp = np.concatenate(pts)
        keys, counts = np.unique(allp[:, 0] * 1_000_000 + allp[:, 1], return_counts=True)
        if keys.size >= n_cells:
            break
    pick = rng.permutation(keys.size)[:n_cells]
    keys, counts = keys[pick], counts[pick]
    cells = np.column_stack([keys // 1_000_000, keys % 1_000_000]) * 100.0 + 50.0
    w = np.ceil(counts * rng.lognormal(0, 0.5, counts.size))
    n_dw = int(0.7 * m)
    by_pop = rng.choice(n_cells, n_dw, replace=False, p=w / w.sum())
    cand = np.vstack([cells[by_pop] + rng.uniform(-50, 50, (n_dw, 2)), rng.uniform(0, side, (m - n_dw, 2))])
    return cells, w, cand


def kreis_points(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Generated settlement-like Kreis: 30,000 populated 100 m cells in 40 × 40 km, 2,000 candidates."""
    return settlement_points(seed)


#: Generated Regierungsbezirk (Münster's area, 6,900 km²): 300,000 populated 100 m cells of 250 towns, 2,000 candidates.
REGBEZ = {"side": 83_000.0, "n_towns": 250, "n_cells": 300_000, "m": 2_000}


def kreis_instance(case: dict[str, Any]) -> tuple[Any, np.ndarray, float]:
    """Sparse cost (metres, pairs within the radius) of a Kreis case, weights and radius."""
    from scipy.spatial import cKDTree

    regbez = case.get("area") == "regbez"
    cells, w, cand = settlement_points(case["seed"], **REGBEZ) if regbez else kreis_points(case["seed"])
    cost = cKDTree(cells).sparse_distance_matrix(cKDTree(cand), case["radius"], output_type="coo_matrix")
    return cost, w, case["radius"]


def plain_highs(cost: Any, w: np.ndarray, radius: float, p: int, time_limit: float) -> dict[str, Any]:
    """The plain compact model with ``scipy.optimize.milp`` (HiGHS), no aggregation or decomposition."""
    import scipy.sparse as sp
    from scipy.optimize import Bounds, LinearConstraint, milp

    coo = sp.coo_array(cost)
    keep = coo.data <= radius
    full = sp.csr_array((np.ones(int(keep.sum())), (coo.row[keep], coo.col[keep])), shape=coo.shape)
    rows = np.flatnonzero(np.diff(full.indptr) > 0)
    a = full[rows]
    n, m = a.shape
    opts = {"time_limit": time_limit, "mip_rel_gap": 1e-9}
    if p == 0:  # LSCP
        res = milp(
            np.ones(m),
            constraints=[LinearConstraint(a, 1, np.inf)],
            integrality=np.ones(m),
            bounds=Bounds(0, 1),
            options=opts,
        )
        obj = float(res.fun) if res.x is not None else float("nan")
        bound = float(np.ceil(res.mip_dual_bound - 1e-6)) if res.mip_dual_bound is not None else float("nan")
    else:
        link = sp.hstack([-a, sp.eye_array(n, format="csr")], format="csr")
        card = sp.csr_array((np.ones(m), (np.zeros(m, dtype=np.int64), np.arange(m))), shape=(1, m + n))
        res = milp(
            np.r_[np.zeros(m), -w[rows]],
            constraints=[LinearConstraint(link, -np.inf, 0), LinearConstraint(card, p, p)],
            integrality=np.r_[np.ones(m), np.zeros(n)],
            bounds=Bounds(0, 1),
            options=opts,
        )
        obj = -float(res.fun) if res.x is not None else float("nan")
        bound = -float(res.mip_dual_bound) if res.mip_dual_bound is not None else float("nan")
    gap = abs(bound - obj) / max(abs(obj), 1e-12) if res.x is not None else float("inf")
    return {
        "objective": obj,
        "bound": bound,
        "gap": gap,
        "status": "optimal" if res.status == 0 else ("time_limit" if res.x is not None else "no solution"),
        "method": "scipy.milp",
        "proven": res.status == 0,
    }


def instance(case: dict[str, Any]) -> tuple[np.ndarray, np.ndarray, float | None]:
    """Cost matrix (metres), weights and, for MCLP, the radius (from the nominal density)."""
    rng = np.random.default_rng(case["seed"])
    d = rng.uniform(0, case["side"], (case["n"], 2))
    c = rng.uniform(0, case["side"], (case["m"], 2))
    w = rng.integers(1, 100, case["n"]).astype(float)
    cost = np.sqrt(((d[:, None, :] - c[None, :, :]) ** 2).sum(axis=-1))
    radius = case["side"] * np.sqrt(case["density"] / np.pi) if case["model"] in ("mclp", "lscp") else None
    return cost, w, radius


def _peak_rss_mb() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, kids) / 1024.0


def worker(name: str, solver: str, time_limit: float) -> dict[str, Any]:
    """Build and solve one case with one solver; return the figures."""
    case = CASES[name]
    cost, w, radius = kreis_instance(case) if case.get("kind") == "kreis" else instance(case)
    p = case["p"]
    out: dict[str, Any] = {"case": name, "solver": solver, "limit": time_limit}
    if solver == "highs":
        t0 = time.perf_counter()
        assert radius is not None
        out.update(plain_highs(cost, w, radius, p, time_limit))
        out["seconds"] = time.perf_counter() - t0
        out["build_s"] = float("nan")
    elif solver == "spopt":
        if case.get("kind") == "kreis":
            import scipy.sparse as sp

            coo = sp.coo_array(cost)
            dense = np.full(coo.shape, np.inf, dtype=np.float32)
            dense[coo.row, coo.col] = coo.data
            cost = dense
        import pulp
        import spopt.locate as spopt_locate

        t0 = time.perf_counter()
        if case["model"] == "lscp":
            model = spopt_locate.LSCP.from_cost_matrix(cost, radius, name=name)
        elif case["model"] == "mclp":
            model = spopt_locate.MCLP.from_cost_matrix(cost, w, radius, p_facilities=p, name=name)
        else:
            model = spopt_locate.PMedian.from_cost_matrix(cost, w, p_facilities=p, name=name)
        out["build_s"] = time.perf_counter() - t0
        limit = {"timeLimit": time_limit} if time_limit < 3600.0 else {}
        model = model.solve(pulp.PULP_CBC_CMD(msg=False, **limit))
        out["seconds"] = time.perf_counter() - t0
        out["objective"] = float(model.problem.objective.value())
        out["status"] = pulp.LpSolution[model.problem.sol_status]  # "Optimal Solution Found" if proven
        out["bound"] = None  # PuLP does not report CBC's bound
        out["proven"] = model.problem.sol_status == pulp.LpSolutionOptimal
    else:
        from planning.siting import LSCP, MCLP, PMedian

        t0 = time.perf_counter()
        if case["model"] == "lscp":
            assert radius is not None
            ours: Any = LSCP.from_cost_matrix(cost, radius, time_limit=time_limit)
        elif case["model"] == "mclp":
            assert radius is not None
            ours = MCLP.from_cost_matrix(cost, w, radius, p, time_limit=time_limit)
        else:
            ours = PMedian.from_cost_matrix(cost, w, p, time_limit=time_limit)
        out["build_s"] = time.perf_counter() - t0
        out["size"] = int(ours._size())  # nonzeros the exact-or-heuristic check sees
        if hasattr(ours, "_a"):
            out["nnz"] = int(ours._a.nnz)
        res = ours.solve()
        out["seconds"] = time.perf_counter() - t0
        out.update(
            objective=res.objective,
            bound=res.bound,
            gap=res.gap,
            status=res.status,
            method=res.method,
            proven=res.status == "optimal",
            selected=[int(j) for j in res.selected],
        )
    out["peak_rss_mb"] = _peak_rss_mb()
    return out


def run(name: str, solver: str, time_limit: float, root: Path = ROOT) -> dict[str, Any]:
    """Run :func:`worker` in a fresh interpreter (``root``: the checkout whose ``planning`` is measured)."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", name, solver, "--limit", str(time_limit)]
    env = {**os.environ, "PYTHONPATH": str(root)}
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=True, env=env)
    return json.loads(done.stdout.strip().splitlines()[-1])


def _machine() -> str:
    import pulp
    import scipy
    import spopt

    load = os.getloadavg()[0]
    return (
        f"{machine()}, "
        f"load average {load:.1f} at the start (the machine is shared); scipy {scipy.__version__} "
        f"(HiGHS), spopt {spopt.__version__}, PuLP {pulp.__version__} (CBC)"
    )


def _fmt(x: float | None, digits: int = 1) -> str:
    return "–" if x is None else f"{x:,.{digits}f}".replace(",", " ")


def _solvers(name: str) -> tuple[str, ...]:
    case = CASES[name]
    if case.get("kind") == "kreis" or case.get("plain"):
        return ("ours", "highs", "spopt") if case.get("spopt") else ("ours", "highs")
    return ("spopt", "ours")


def _hard_rows(rows: list[tuple[str, dict[str, dict[str, Any]]]]) -> list[str]:
    lines = [
        "| case | instance | spopt s (build) | ours s (build) | ratio | spopt objective | ours objective "
        "| ours bound / gap | status | spopt RSS MB | ours RSS MB |",
        "|---|---|---:|---:|---:|---:|---:|---:|---|---:|---:|",
    ]
    for name, fig in rows:
        if "spopt" not in fig or "ours" not in fig or CASES[name].get("kind") == "kreis" or CASES[name].get("plain"):
            continue
        sp_, us = fig["spopt"], fig["ours"]
        case = CASES[name]
        inst = f"{case['n']:,} × {case['m']}, p={case['p']}".replace(",", " ")
        if case["model"] == "mclp":
            inst += f", ~{case['density']:.0%} density"
        if us["limit"] < 3600.0:
            inst += f", time limit {us['limit']:.0f} s each"
        ratio = sp_["seconds"] / us["seconds"]
        lines.append(
            f"| {name} | {inst} | {_fmt(sp_['seconds'])} ({_fmt(sp_['build_s'])}) | {_fmt(us['seconds'])} "
            f"({_fmt(us['build_s'], 2)}) | {ratio:.1f}× | {_fmt(sp_['objective'], 2)} | {_fmt(us['objective'], 2)} "
            f"| {_fmt(us['bound'], 2)} / {us['gap']:.2%} | {us['status']} ({us['method']}); spopt: "
            f"{'proven optimal' if sp_['proven'] else sp_['status']} "
            f"| {_fmt(sp_['peak_rss_mb'], 0)} | {_fmt(us['peak_rss_mb'], 0)} |"
        )
        short = fig.get("ours-short")
        if short is not None:
            ref = fig.get("spopt-cap", sp_)  # spopt's longest run: time to its (final) objective
            below = ref["objective"] < short["objective"]
            lines.append(
                f"| {name} (ours shorter) | ours with a {short['limit']:.0f} s limit vs spopt's longest run "
                f"| {_fmt(ref['seconds'])} | {_fmt(short['seconds'])} ({_fmt(short['build_s'], 2)}) "
                f"| {'≥ ' if below else ''}{ref['seconds'] / short['seconds']:.1f}× "
                f"| {_fmt(ref['objective'], 2)} | {_fmt(short['objective'], 2)} "
                f"| {_fmt(short['bound'], 2)} / {short['gap']:.2%} | {short['status']} ({short['method']}) "
                f"| | {_fmt(short['peak_rss_mb'], 0)} |"
            )
        cap = fig.get("spopt-cap")
        if cap is not None:
            reached = cap["objective"] >= us["objective"] - 1e-9
            lines.append(
                f"| {name} (spopt longer) | spopt with a {cap['limit']:.0f} s limit | {_fmt(cap['seconds'])} "
                f"({_fmt(cap['build_s'])}) | {_fmt(us['seconds'])} | "
                f"{'' if reached else '≥ '}{cap['seconds'] / us['seconds']:.1f}× | {_fmt(cap['objective'], 2)} "
                f"| {_fmt(us['objective'], 2)} | | spopt {'reached' if reached else 'did not reach'} ours' "
                f"objective | {_fmt(cap['peak_rss_mb'], 0)} | |"
            )
    return lines


def _kreis_rows(rows: list[tuple[str, dict[str, dict[str, Any]]]]) -> list[str]:
    lines = [
        "| case | model | ours s (build) | ours status | ours objective | ours bound / gap "
        "| plain HiGHS s | plain status | plain objective | plain bound | plain s / ours s | spopt s | spopt objective "
        "| ours RSS MB | plain RSS MB |",
        "|---|---|---:|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, fig in rows:
        if "ours" not in fig or "highs" not in fig:
            continue
        case, us, hi = CASES[name], fig["ours"], fig["highs"]
        sp_ = fig.get("spopt")
        if case.get("kind") == "kreis":
            model = (
                f"MCLP r={case['radius'] / 1000:.0f} km, p={case['p']}"
                if case["model"] == "mclp"
                else f"LSCP r={case['radius'] / 1000:.0f} km"
            )
        else:
            model = f"{case['model'].upper()} uniform {case['n']:,} × {case['m']}, ~{case['density']:.0%} density"
            model = model.replace(",", " ")
        lines.append(
            f"| {name} | {model}, limit {us['limit']:.0f} s | {_fmt(us['seconds'])} ({_fmt(us['build_s'], 1)}) "
            f"| {us['status']} | {_fmt(us['objective'], 0)} | {_fmt(us['bound'], 0)} / {us['gap']:.2%} "
            f"| {_fmt(hi['seconds'])} | {hi['status']} | {_fmt(hi['objective'], 0)} | {_fmt(hi['bound'], 0)} "
            f"| {hi['seconds'] / us['seconds']:.1f}× "
            f"| {_fmt(sp_['seconds']) if sp_ else '–'} | {_fmt(sp_['objective'], 0) if sp_ else '–'} "
            f"| {_fmt(us['peak_rss_mb'], 0)} | {_fmt(hi['peak_rss_mb'], 0)} |"
        )
    return lines


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--worker", nargs=2, metavar=("CASE", "SOLVER"))
    ap.add_argument("--limit", type=float, default=None, help="time limit in seconds (worker)")
    ap.add_argument("--mclp-limit", type=float, default=120.0, help="time limit of the hard MCLP case")
    ap.add_argument("--kreis-limit", type=float, default=60.0, help="time limit of the Kreis cases (all solvers)")
    ap.add_argument(
        "--spopt-cap",
        type=float,
        default=0.0,
        help="also run spopt on the hard case with this longer limit (0: off)",
    )
    ap.add_argument(
        "--ours-short",
        type=float,
        default=0.0,
        help="also run ours on the hard case with this shorter limit (time to spopt's objective; 0: off)",
    )
    ap.add_argument(
        "--pmedian-limit",
        type=float,
        default=3600.0,
        help="time limit of the p-median case (CBC may need far longer than HiGHS)",
    )
    ap.add_argument("--cases", nargs="*", default=list(DEFAULT_CASES), choices=list(CASES))
    ap.add_argument("--out", type=Path, default=HERE / "results" / "siting.md")
    ap.add_argument("--save", type=Path, default=None, help="append every figure as a JSON line to this file")
    ap.add_argument(
        "--keep",
        type=Path,
        default=None,
        help="JSON lines of figures measured earlier (from --save) for cases not re-run",
    )
    ap.add_argument("--note", action="append", default=[], help="an extra note line for the report")
    ap.add_argument(
        "--skip",
        nargs="*",
        default=[],
        metavar="CASE:SOLVER",
        help="runs not repeated (their figures come from --keep), e.g. kreis-2km-p5:spopt",
    )
    args = ap.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args.worker[0], args.worker[1], args.limit or 3600.0)))
        return 0
    machine = _machine()
    figures: dict[str, dict[str, dict[str, Any]]] = {}
    kept: set[str] = set()
    if args.keep is not None:
        for line in args.keep.read_text().splitlines():
            if line.strip():
                fig = json.loads(line)
                figures.setdefault(fig["case"], {})[fig["solver"]] = fig
                kept.add(fig["case"])
    for name in args.cases:
        limit = {"mclp": args.mclp_limit, "pmedian": args.pmedian_limit}.get(name, 3600.0)
        if CASES[name].get("kind") == "kreis":
            limit = args.kreis_limit
        runs = [(solver, solver, limit) for solver in _solvers(name)]
        if name == "mclp" and args.spopt_cap > 0:
            runs.append(("spopt-cap", "spopt", args.spopt_cap))
        if name == "mclp" and args.ours_short > 0:
            runs.append(("ours-short", "ours", args.ours_short))
        for label, solver, lim in runs:
            if f"{name}:{label}" in args.skip:
                continue
            print(f"{name}: {label} …", flush=True)
            fig = run(name, solver, lim)
            fig["solver"] = label
            figures.setdefault(name, {})[label] = fig
            kept.discard(name)
            print(f"   {json.dumps(fig)}", flush=True)
            if args.save is not None:
                with args.save.open("a") as fh:
                    fh.write(json.dumps(fig) + "\n")
    order = [*DEFAULT_CASES, *KREIS_CASES, "lscp-rand"]
    rows = sorted(((n, f) for n, f in figures.items() if n in order), key=lambda r: order.index(r[0]))
    lines = [
        "## Siting: exact MCLP / LSCP / p-median (planning.siting, HiGHS) vs spopt (PuLP + CBC) and plain HiGHS",
        "",
        f"Machine: {machine}.",
        "",
        "Reproduce: `python benchmarks/bench_siting.py --cases mclp mclp-p5 "
        + " ".join(KREIS_CASES)
        + " lscp-rand --spopt-cap 480 --ours-short 40` (add `pmedian` for the p-median row). "
        "Times are end to end from the cost matrix "
        "(model build + solve), each run in a fresh subprocess; peak RSS of that subprocess and its "
        "children (CBC).",
        "",
        "### Random instances vs spopt",
        "",
        *_hard_rows(rows),
        "",
        "### Generated Kreis (settlement-like, 100 m cells) and a uniform LSCP vs the plain compact HiGHS model",
        "",
        "Generated data, not a real Kreis: 30 000 populated 100 m cells of 40 towns (Gaussian spread, "
        "Pareto-skewed sizes, lognormal cell weights) in 40 × 40 km, 2 000 candidates (70 % by population, "
        "30 % uniform), straight-line radius. *Plain HiGHS* is `scipy.optimize.milp` on the compact model "
        "(one row per cell) with the same time limit; `plain s / ours s` is its time over ours (a lower "
        "bound of the speed-up where plain HiGHS hits the limit).",
        "",
        *_kreis_rows(rows),
        "",
        "Notes:",
        "- MCLP (uncapacitated) is solved by Benders decomposition (Cordeau, Furini & Ljubić 2019): the "
        "client variables are projected out, clients are grouped by their two nearest candidates (one "
        "θ per group), the cuts θ_g ≤ Σ_i w_i·min(1, Σ_{j∈N(i)} y_j) are separated in closed form; the "
        "master LP is solved by in-out-stabilised cutting planes, candidates are fixed by reduced costs "
        "against a greedy + swap / LP-rounding incumbent, and the master MIP is re-solved with the cuts "
        "at its integer solutions until it is exact (HiGHS 1.16 has no lazy-constraint callback).",
        *(f"- {note}" for note in args.note),
        *(
            [f"- Rows {', '.join(sorted(kept))}: figures read from earlier runs of this script (`--keep`)."]
            if kept
            else []
        ),
        "- The machine is shared with other jobs, so absolute times vary between runs; solvers of a case "
        "ran in the same run, one after the other.",
    ]
    text = "\n".join(lines) + "\n"
    write_section(text, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
