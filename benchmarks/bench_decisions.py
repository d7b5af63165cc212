"""Benchmark: decisions a council can fund and defend (issue 23) — frontier, robust plans, intervals, capacity.

All cases use the **generated** settlement-like Kreis of ``bench_siting.py`` (not real data): 30,000 populated
100 m cells of 40 towns in 40 × 40 km, 2,000 candidate sites (70 % by population, 30 % uniform), straight-line
distances. Generated on top of it (labelled so in the report): yearly site costs (uniform 40,000–120,000 €,
seed 7), 25 "Gemeinden" (8 km blocks), Kita places, demand variants and closures.

Cases (each in a fresh subprocess, peak RSS of that process):

- ``frontier``: budget frontier, 10 budgets from the cheapest useful site to the cost of a greedy cover
  (everyone coverable reached), radius 2 km, 500 candidates (a seeded subset of the 2,000); total limit 60 s.
  Baseline: the compact budget MCLP (one row per distinct cell) in ``scipy.optimize.milp`` per budget, the same
  60 s shared over the budgets. ``frontier-2000``: the same with all 2,000 candidates (stress case).
- ``robust-p5``, ``robust-p10``, ``robust-p20``: robust MCLP (worst case) over 10 variants, radius 2 km — three
  departure windows (costs × 0.9, 1.0, 1.15, i.e. shorter and longer trips), one day type (Sunday: radius
  1.6 km), four demand variants (resampled from the OSM-estimate error model, σ = 0.5, Gemeinde totals kept,
  at the 10/37/63/90 % quantiles of the total), two closure variants (a random 10 % of the candidates
  unavailable); limit 120 s. ``robust-p10-expected``: the expected coverage. Baselines in the same HiGHS: the
  compact robust model (``z_sk ≤ Σ y``, ``t ≤ c_s + Σ w z``, aggregated distinct rows per variant) in
  ``scipy.optimize.milp`` with the same limit; the plain single-variant MCLP (base case) with ours.
- ``intervals``: 200 resamples of the Kreis demand (95 % Zensus cells with the cell-key overlay, 3 % secret cells
  from 1 km parents, 2 % secret and unknown), intervals of the overall share, the 25 Gemeinde shares and the
  gains of 20 sites. Baseline: the same figures in a per-resample Python loop with pandas.
- ``capacity``: coverage with places of 500 generated Kitas (places uniform 8–30, seed 11) for generated
  children under 6 (binomial, 5.5 % of each cell's people), radius 1 km:
  exact maximum flow (ours) vs ``networkx.maximum_flow_value`` on the same graph.

Run ``python benchmarks/bench_decisions.py`` (``--cases frontier robust-p10`` for a subset); it prints a markdown
section and writes ``benchmarks/results/decisions.md``.
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
import scipy.sparse as sp
from _report import machine, write_section
from bench_siting import kreis_points
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.spatial import cKDTree

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

CASES = (
    "frontier",
    "frontier-2000",
    "robust-p5",
    "robust-p10",
    "robust-p20",
    "robust-p10-expected",
    "intervals",
    "capacity",
)
DEFAULT_CASES = CASES


def _peak_rss_mb() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, kids) / 1024.0


def _kreis(m: int | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Cells, weights, candidates (optionally a seeded subset of ``m``) and the 25 block "Gemeinden"."""
    cells, w, cand = kreis_points(0)
    if m is not None and m < len(cand):
        cand = cand[np.sort(np.random.default_rng(3).choice(len(cand), m, replace=False))]
    gemeinde = (cells[:, 0] // 8_000).astype(int) * 5 + (cells[:, 1] // 8_000).astype(int)
    return cells, w, cand, gemeinde


def _distances(cells: np.ndarray, cand: np.ndarray, radius: float) -> sp.coo_array:
    return sp.coo_array(cKDTree(cells).sparse_distance_matrix(cKDTree(cand), radius, output_type="coo_matrix"))


# --------------------------------------------------------------------------- frontier


def _plain_budget(cost: Any, w: np.ndarray, radius: float, site_cost: np.ndarray, budget: float, limit: float) -> dict:
    """Compact budget MCLP (distinct rows) with scipy.milp."""
    from planning.siting.base import _unique_rows

    coo = sp.coo_array(cost)
    keep = coo.data <= radius
    a = sp.csr_array((np.ones(int(keep.sum())), (coo.row[keep], coo.col[keep])), shape=coo.shape)
    a.sort_indices()
    rows = np.flatnonzero(np.diff(a.indptr) > 0)
    ak, inv = _unique_rows(a[rows])
    wk = np.bincount(inv, weights=w[rows])
    k, m = ak.shape
    link = sp.hstack([-ak, sp.eye_array(k, format="csr")], format="csr")
    knap = sp.csr_array(np.r_[site_cost, np.zeros(k)].reshape(1, -1))
    res = milp(
        np.r_[np.zeros(m), -wk],
        constraints=[LinearConstraint(link, -np.inf, 0), LinearConstraint(knap, -np.inf, budget)],
        integrality=np.r_[np.ones(m), np.zeros(k)],
        bounds=Bounds(0, 1),
        options={"time_limit": max(limit, 0.5), "mip_rel_gap": 1e-9},
    )
    obj = -float(res.fun) if res.x is not None else float("nan")
    bound = -float(res.mip_dual_bound) if res.mip_dual_bound is not None else float("nan")
    return {"objective": obj, "bound": bound, "proven": res.status == 0}


def frontier_worker(solver: str, m: int | None) -> dict[str, Any]:
    cells, w, cand, _ = _kreis(m)
    site_cost = np.round(np.random.default_rng(7).uniform(40_000, 120_000, len(cand)), -2)
    t0 = time.perf_counter()
    cost = _distances(cells, cand, 2_000.0)
    from planning.explain import within_radius
    from planning.frontier import budget_frontier, default_budgets

    budgets = default_budgets(
        sp.csr_array(within_radius(cost, 2_000.0), dtype=float), w, site_cost, np.zeros(len(cand)), 10
    )
    out: dict[str, Any] = {"budgets": budgets.tolist(), "n_candidates": len(cand)}
    if solver == "ours":  # the default budgets again, inside the frontier's own 60 s (end to end from here)
        t0 = time.perf_counter()
        cost = _distances(cells, cand, 2_000.0)
        f = budget_frontier(cost, w, 2_000.0, site_cost, n_points=10, time_limit=60.0 - (time.perf_counter() - t0))
        assert [p.budget for p in f.points] == budgets.tolist()
        out.update(
            seconds=time.perf_counter() - t0,
            points=[
                {
                    "budget": p.budget,
                    "covered": p.covered,
                    "sites": len(p.sites),
                    "gap": p.gap,
                    "status": p.status,
                    "seconds": p.seconds,
                }
                for p in f.points
            ],
            proven=sum(p.status == "optimal" for p in f.points),
        )
    else:
        points = []
        for i, b in enumerate(budgets):
            left = 60.0 - (time.perf_counter() - t0)
            r = _plain_budget(cost, w, 2_000.0, site_cost, float(b), left / (len(budgets) - i))
            points.append({"budget": float(b), "covered": r["objective"], "bound": r["bound"], "proven": r["proven"]})
        out.update(seconds=time.perf_counter() - t0, points=points, proven=sum(p["proven"] for p in points))
    return out


# --------------------------------------------------------------------------- robust


def _variants(cells: np.ndarray, w: np.ndarray, cand: np.ndarray, gemeinde: np.ndarray) -> dict[str, Any]:
    from planning.uncertainty import resample_demand

    base = _distances(cells, cand, 2_400.0)
    scaled = [sp.coo_array((base.data * f, (base.row, base.col)), shape=base.shape) for f in (0.9, 1.0, 1.15)]
    draws = resample_demand(w, ["osm_estimate"] * w.size, gemeinde, n_resamples=60, seed=5)
    demand = [draws.variant(q) for q in (0.1, 0.37, 0.63, 0.9)]
    rng = np.random.default_rng(9)
    closed = [rng.choice(len(cand), len(cand) // 10, replace=False) for _ in range(2)]
    costs = [*scaled, base, base, base, base, base, base, base]
    weights = [w, w, w, w, *demand, w, w]
    radii = [2_000.0] * 3 + [1_600.0] + [2_000.0] * 6
    shut = [None] * 8 + closed
    names = [
        "Fenster früh",
        "Fenster Mitte",
        "Fenster spät",
        "Sonntag",
        "Nachfrage 10 %",
        "Nachfrage 37 %",
        "Nachfrage 63 %",
        "Nachfrage 90 %",
        "Schließung A",
        "Schließung B",
    ]
    return {"costs": costs, "weights": weights, "radii": radii, "closed": shut, "names": names}


def _plain_robust(model: Any, p: int, worst: bool, limit: float) -> dict[str, Any]:
    """The compact robust model on the model's aggregated rows, with scipy.milp."""
    parts = model._parts
    m = model.n_candidates
    blocks, obj_z, rows_t = [], [], []
    nz = sum(pt.ak.shape[0] for pt in parts)
    off = m
    for pt in parts:
        k = pt.ak.shape[0]
        blocks.append(
            sp.hstack([-pt.ak, sp.csr_array((k, off - m)), sp.eye_array(k), sp.csr_array((k, nz - (off - m) - k))])
        )
        obj_z.append(pt.wk)
        rows_t.append((off, k, pt.wk, pt.const))
        off += k
    n_var = m + nz + (1 if worst else 0)
    link = sp.vstack(blocks, format="csr")
    link = sp.hstack([link, sp.csr_array((link.shape[0], n_var - link.shape[1]))], format="csr")
    card = sp.csr_array((np.ones(m), (np.zeros(m, dtype=int), np.arange(m))), shape=(1, n_var))
    cons = [LinearConstraint(link, -np.inf, 0), LinearConstraint(card, p, p)]
    c = np.zeros(n_var)
    if worst:
        trow = []
        for o, k, wk, _ in rows_t:
            r = np.zeros(n_var)
            r[o : o + k] = -wk
            r[-1] = 1.0
            trow.append(r)
        cons.append(LinearConstraint(sp.csr_array(np.vstack(trow)), -np.inf, np.array([t[3] for t in rows_t])))
        c[-1] = -1.0
    else:
        for (o, k, wk, _), pi in zip(rows_t, model.probabilities, strict=True):
            c[o : o + k] = -pi * wk
    ub = np.ones(n_var)
    if worst:
        ub[-1] = np.inf
    res = milp(
        c,
        constraints=cons,
        integrality=np.r_[np.ones(m), np.zeros(n_var - m)],
        bounds=Bounds(0, ub),
        options={"time_limit": limit, "mip_rel_gap": 1e-9},
    )
    offset = 0.0 if worst else float(sum(pt.const * pi for pt, pi in zip(parts, model.probabilities, strict=True)))
    obj = -float(res.fun) + offset if res.x is not None else float("nan")
    bound = -float(res.mip_dual_bound) + offset if res.mip_dual_bound is not None else float("nan")
    return {"objective": obj, "bound": bound, "proven": res.status == 0}


def robust_worker(solver: str, p: int, objective: str) -> dict[str, Any]:
    from planning.siting.robust import RobustMCLP

    cells, w, cand, gemeinde = _kreis()
    t0 = time.perf_counter()
    v = _variants(cells, w, cand, gemeinde)
    prep = time.perf_counter() - t0
    t1 = time.perf_counter()
    if solver == "base":  # the plain single-variant MCLP on the base case, same engine
        res = RobustMCLP.from_cost_matrices([v["costs"][1]], [w], 2_000.0, p=p, time_limit=120.0).solve()
        return {
            "seconds": time.perf_counter() - t1,
            "objective": res.objective,
            "bound": res.bound,
            "gap": res.gap,
            "status": res.status,
            "prep_s": prep,
        }
    model = RobustMCLP.from_cost_matrices(
        v["costs"],
        v["weights"],
        v["radii"],
        p=p,
        closed=v["closed"],
        names=v["names"],
        objective=objective,
        time_limit=120.0,
    )
    build = time.perf_counter() - t1
    if solver == "plain":
        out = _plain_robust(model, p, objective == "worst", 120.0)
        out.update(seconds=time.perf_counter() - t1, build_s=build, prep_s=prep)
        out["gap"] = abs(out["bound"] - out["objective"]) / max(abs(out["objective"]), 1e-12)
        return out
    res = model.solve()
    return {
        "seconds": time.perf_counter() - t1,
        "build_s": build,
        "prep_s": prep,
        "objective": res.objective,
        "bound": res.bound,
        "gap": res.gap,
        "status": res.status,
        "shares": [round(float(s), 4) for s in res.shares],
        "groups": int(sum(pt.n_groups for pt in model._parts)),
    }


# --------------------------------------------------------------------------- intervals


def intervals_worker(solver: str) -> dict[str, Any]:
    import pandas as pd

    from planning.uncertainty import resample_demand, share_interval, sum_intervals, unit_share_intervals

    cells, w, cand, gemeinde = _kreis()
    rng = np.random.default_rng(1)
    u = rng.random(w.size)
    kinds = np.where(u < 0.95, "zensus_cell", np.where(u < 0.98, "zensus_remainder", "zensus_secret")).astype(object)
    parent = (cells[:, 0] // 1_000).astype(int) * 100 + (cells[:, 1] // 1_000).astype(int)
    sites = cand[:20]
    dist, nearest = cKDTree(sites).query(cells, distance_upper_bound=2_000.0)
    covered = np.isfinite(dist)
    first = sp.csc_array(
        (np.ones(int(covered.sum())), (np.flatnonzero(covered), nearest[covered])), shape=(w.size, 20)
    )  # each covered cell's gain credited to its nearest site
    t0 = time.perf_counter()
    draws = resample_demand(w, kinds, parent, n_resamples=200)
    t_draw = time.perf_counter() - t0
    if solver == "ours":
        t1 = time.perf_counter()
        overall = share_interval(draws, covered)
        table = unit_share_intervals(draws, covered, gemeinde)
        gains = sum_intervals(draws, first)
        t_int = time.perf_counter() - t1
        return {
            "draw_s": t_draw,
            "intervals_s": t_int,
            "seconds": t_draw + t_int,
            "overall": overall.as_dict(),
            "text": overall.text(),
            "n_units": len(table),
            "n_gains": len(gains),
            "widest_unit_pp": float((table["high"] - table["low"]).max() * 100),
        }
    t1 = time.perf_counter()  # baseline: one pass per resample with pandas
    frame = pd.DataFrame({"g": gemeinde, "c": covered, "site": np.where(covered, nearest, -1)})
    overall_s, unit_s, gain_s = [], [], []
    for r in range(draws.n_resamples):
        frame["w"] = draws.draws[r]
        overall_s.append(frame.loc[frame["c"], "w"].sum() / frame["w"].sum())
        g = frame.groupby("g").apply(lambda d: d.loc[d["c"], "w"].sum() / d["w"].sum(), include_groups=False)
        unit_s.append(g.to_numpy())
        gain_s.append(frame[frame["site"] >= 0].groupby("site")["w"].sum().to_numpy())
    lo, hi = np.quantile(overall_s, [0.05, 0.95])
    t_int = time.perf_counter() - t1
    return {"draw_s": t_draw, "intervals_s": t_int, "seconds": t_draw + t_int, "overall": {"low": lo, "high": hi}}


# --------------------------------------------------------------------------- capacity


def capacity_worker(solver: str) -> dict[str, Any]:
    from planning.capacity import capacitated_coverage

    cells, pop, cand, _ = _kreis(500)
    rng = np.random.default_rng(11)
    w = rng.binomial(pop.astype(np.int64), 0.055).astype(float)  # generated children under 6 (5.5 % of people)
    places = rng.integers(8, 31, len(cand)).astype(float)
    cost = _distances(cells, cand, 1_000.0)
    t0 = time.perf_counter()
    if solver == "ours":
        r = capacitated_coverage(cost, w, places, 1_000.0)
        return {
            "seconds": time.perf_counter() - t0,
            "covered": r.covered,
            "uncapacitated": r.covered_uncapacitated,
            "method": r.method,
            "total": r.total,
        }
    import networkx as nx

    g = nx.DiGraph()
    coo = sp.coo_array(cost)
    for i, wi in enumerate(w):
        g.add_edge("s", ("d", i), capacity=float(wi))
    for i, j in zip(coo.row, coo.col, strict=True):
        g.add_edge(("d", int(i)), ("f", int(j)), capacity=float(w[i]))
    for j, c in enumerate(places):
        g.add_edge(("f", j), "t", capacity=float(c))
    value = nx.maximum_flow_value(g, "s", "t")
    return {"seconds": time.perf_counter() - t0, "covered": float(value)}


# --------------------------------------------------------------------------- driver


def worker(case: str, solver: str) -> dict[str, Any]:
    if case.startswith("frontier"):
        out = frontier_worker(solver, 500 if case == "frontier" else None)
    elif case.startswith("robust"):
        p = int(case.split("-p")[1].split("-")[0])
        out = robust_worker(solver, p, "expected" if case.endswith("expected") else "worst")
    elif case == "intervals":
        out = intervals_worker(solver)
    else:
        out = capacity_worker(solver)
    out.update(case=case, solver=solver, peak_rss_mb=_peak_rss_mb())
    return out


#: A run still going after this many seconds is stopped and reported as "no result" (HiGHS may overrun its time
#: limit in presolve on the compact models).
KILL_AFTER = 400.0


def run(case: str, solver: str) -> dict[str, Any]:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", case, solver]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    load = os.getloadavg()[0]
    t0 = time.perf_counter()
    try:
        done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=True, env=env, timeout=KILL_AFTER)
    except subprocess.TimeoutExpired:
        return {
            "case": case,
            "solver": solver,
            "killed": True,
            "seconds": time.perf_counter() - t0,
            "load": round(load, 1),
            "peak_rss_mb": None,
        }
    out = json.loads(done.stdout.strip().splitlines()[-1])
    out["load"] = round(load, 1)
    return out


SOLVERS = {
    "frontier": ("ours", "plain"),
    "frontier-2000": ("ours",),
    "robust-p5": ("ours", "plain", "base"),
    "robust-p10": ("ours", "plain", "base"),
    "robust-p20": ("ours", "base"),  # the compact model gave no result for p = 5 and 10 already
    "robust-p10-expected": ("ours",),
    "intervals": ("ours", "loop"),
    "capacity": ("ours", "networkx"),
}


def _fmt(x: Any, digits: int = 1) -> str:
    if x is None or (isinstance(x, float) and not np.isfinite(x)):
        return "–"
    return f"{x:,.{digits}f}".replace(",", " ")


def report(figures: dict[str, dict[str, dict[str, Any]]], notes: list[str]) -> str:
    lines = [
        "## Decisions: budget frontier, robust plans, intervals, capacity (issue 23) — `bench_decisions.py`",
        "",
        f"Machine: {machine()}. Load average (1 min) at the start of each run is given per row; the machine was "
        "shared with other agents.",
        "",
        "Reproduce: `python benchmarks/bench_decisions.py` (all cases; `--cases robust-p10` for one). Generated "
        "data, not a real Kreis: the settlement-like Kreis of `bench_siting.py` (30 000 populated 100 m cells, "
        "2 000 candidates, 40 × 40 km) with generated site costs, Gemeinden, places and variants (see the "
        "script's docstring). Each run in a fresh subprocess; times end to end from the distances (model build "
        "included).",
        "",
        "| case | solver | load | seconds | result | proven / gap | peak RSS MB |",
        "|---|---|---:|---:|---|---|---:|",
    ]
    for case in CASES:
        for solver, f in figures.get(case, {}).items():
            if f.get("killed"):
                lines.append(
                    f"| {case} | {solver} | {f.get('load', '–')} | > {_fmt(f['seconds'], 0)} | no result: stopped "
                    f"after {_fmt(f['seconds'], 0)} s (time limit 120 s not kept) | – | – |"
                )
                continue
            if case.startswith("frontier"):
                pts = f["points"]
                cov = ", ".join(_fmt(p["covered"], 0) for p in pts)
                if solver == "ours":
                    worst_gap = max(p["gap"] for p in pts)
                    proof = f"{f['proven']}/{len(pts)} proven (largest gap {worst_gap * 100:.2f} %)"
                else:
                    gaps = [abs(p["bound"] - p["covered"]) / p["covered"] for p in pts if np.isfinite(p["covered"])]
                    proof = f"{f['proven']}/{len(pts)} proven" + (
                        f" (largest gap {max(gaps) * 100:.2f} %)" if gaps else " (no solution)"
                    )
                result = f"{f['n_candidates']} candidates, reached: {cov}"
            elif case.startswith("robust") and not np.isfinite(f["objective"]):
                result = "no solution within the 120 s limit"
                proof = f"returned after {_fmt(f['seconds'], 0)} s"
            elif case.startswith("robust"):
                result = f"objective {_fmt(f['objective'], 0)}, bound {_fmt(f['bound'], 0)}"
                proof = f"{f.get('status', 'proven' if f.get('proven') else 'time_limit')}, gap {f['gap'] * 100:.2f} %"
                if solver == "base":
                    result = "single variant (base case) " + result
            elif case == "intervals":
                if solver == "ours":
                    result = f"{f['text']}; draw {f['draw_s']:.1f} s, intervals {f['intervals_s']:.2f} s"
                else:
                    result = f"per-resample pandas loop; draw {f['draw_s']:.1f} s, figures {f['intervals_s']:.1f} s"
                proof = "–"
            else:
                result = f"served with places {_fmt(f['covered'], 0)}"
                if "uncapacitated" in f:
                    result += f" of {_fmt(f['uncapacitated'], 0)} within reach ({f['method']})"
                proof = "exact"
            lines.append(
                f"| {case} | {solver} | {f.get('load', '–')} | {_fmt(f['seconds'])} | {result} | {proof} | "
                f"{_fmt(f['peak_rss_mb'], 0)} |"
            )
    lines += ["", *notes]
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--worker", nargs=2, metavar=("CASE", "SOLVER"))
    ap.add_argument("--cases", nargs="*", default=list(DEFAULT_CASES), choices=list(CASES))
    ap.add_argument("--out", type=Path, default=HERE / "results" / "decisions.md")
    ap.add_argument("--save", type=Path, default=HERE / "results" / "decisions_figures.jsonl")
    ap.add_argument("--keep", action="store_true", help="report also the figures saved earlier for other cases")
    ap.add_argument("--note", action="append", default=[])
    args = ap.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(*args.worker), default=float))
        return 0
    figures: dict[str, dict[str, dict[str, Any]]] = {}
    if args.keep and args.save.exists():
        for line in args.save.read_text().splitlines():
            if line.strip():
                fig = json.loads(line)
                figures.setdefault(fig["case"], {})[fig["solver"]] = fig
    for case in args.cases:
        figures[case] = {}
        for solver in SOLVERS[case]:
            print(f"{case}: {solver} …", flush=True)
            fig = run(case, solver)
            figures[case][solver] = fig
            print(f"   {json.dumps(fig, default=float)[:400]}", flush=True)
            with args.save.open("a") as fh:
                fh.write(json.dumps(fig, default=float) + "\n")
    write_section(report(figures, args.note), args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
