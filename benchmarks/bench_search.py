"""Benchmark: searches that cost what they reach (planning.shortest_paths) vs the scipy code of main and pandana.

Everything runs in one process, every baseline warmed first (numba kernels
compiled, scipy and pandana called once on a small input), ours and the
baseline one after the other:

(a) **Synthetic Land-sized walk network** (``synthetic_land.tiled(17)``: the real
    Aachen walk network tiled 17 × 17, 4.14 M nodes, labelled synthetic), its
    27,166 Kitas and 1.48 M populated-area 100 m cells (copies of the Aachen
    ones):
    1. nearest Kita for every cell (snap + one multi-source search),
    2. Kitas within 10 minutes for every node (cumulative opportunities),
    3. the cell × site matrix to 500 sites within 15 minutes,
    4. the walks of the public-transport analysis for 60,000 stops (access
       from every cell within 15 min, transfers within 10 min, egress to the
       Kitas, walking-only times).
    Baseline: the scipy-based functions of main before this change
    (``benchmarks/baseline_scipy.py``; for 4. on the first 1,000 stops and
    scaled per stop, it would take most of an hour).
(b) **Kreis-sized cut** (4 × 4 tiles, 229 k nodes): Kitas within 10 minutes for
    every node, ours vs pandana 0.8 (``Network`` + ``precompute`` + ``aggregate``),
    same numbers.

Run ``python benchmarks/bench_search.py`` (needs ``../shared/data``; about 10 minutes,
peak ≈ 5 GiB); writes ``benchmarks/results/search.md``. ``--tiles`` and ``--kreis-tiles``
change the sizes, ``--quick`` skips the slow baselines.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

from _peers import pandana_network  # noqa: E402
from _report import machine, write_section  # noqa: E402

OUT = HERE / "results" / "search.md"
CUTOFF_S = 600.0
MATRIX_CUTOFF_S = 900.0


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"{one:.1f} (5 min: {five:.1f})"


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def peak_rss_gib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024**2
    return float("nan")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--tiles", type=int, default=17)
    ap.add_argument("--kreis-tiles", type=int, default=4)
    ap.add_argument("--sites", type=int, default=500)
    ap.add_argument("--stops", type=int, default=60_000)
    ap.add_argument("--baseline-stops", type=int, default=1_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="skip the slow baselines (opportunities, walk links)")
    args = ap.parse_args()

    import baseline_scipy as base
    import numba
    import pandas as pd
    import scipy.sparse as sp
    from scipy.sparse.csgraph import dijkstra
    from synthetic_land import tiled

    from geo.network import Network
    from planning import shortest_paths
    from planning.network import nearest_facility_time, travel_time_matrix
    from planning.opportunities import cumulative_opportunities
    from planning.transit import TransitSettings, walk_links

    threads = numba.get_num_threads()
    lines = [
        "## Searches that cost what they reach (bounded Dijkstra kernels) — `bench_search.py`",
        "",
        f"Machine: {machine()}; numba {numba.__version__} with {threads} kernel threads, "
        f"scipy {__import__('scipy').__version__}. Load average at the start: {load()} "
        "(the machine is shared with other agents).",
        "",
        "Reproduce: `python benchmarks/bench_search.py` (about 10 minutes, needs `../shared/data`). Every baseline "
        "is warmed first (numba kernels compiled, scipy and pandana called once on a small input); ours and the "
        "baseline run one after the other in the same process. Ours: median of "
        f"{args.repeat} runs; baselines: one run.",
        "",
    ]

    # ------------------------------------------------------------------ warm-up
    small = tiled(1)
    sn: Network = small.net  # type: ignore[assignment]
    _, kn_small = sn.tree.query(small.kita_xy)
    for graph in (sn.reverse, sn.matrix):
        shortest_paths.reach(graph, kn_small, CUTOFF_S)
        shortest_paths.reach(graph, kn_small, CUTOFF_S, np.ones(sn.n_nodes, bool))
        shortest_paths.spread(graph, kn_small, CUTOFF_S, np.ones(kn_small.size))
        shortest_paths.gather(graph, kn_small, CUTOFF_S, np.ones(sn.n_nodes))
        shortest_paths.nearest(graph, kn_small, np.zeros(kn_small.size))
    dijkstra(sn.reverse, indices=kn_small[:3], limit=CUTOFF_S)

    # ------------------------------------------------------------------ (a) Land-sized
    t0 = time.perf_counter()
    land = tiled(args.tiles)
    net: Network = land.net  # type: ignore[assignment]
    _ = net.reverse, net.tree
    t_build = time.perf_counter() - t0
    rng = np.random.default_rng(20260521)
    _, kita_nodes = net.tree.query(land.kita_xy)
    kita_nodes = kita_nodes.astype(np.intp)
    lines += [
        f"### (a) Synthetic Land-sized walk network ({args.tiles} × {args.tiles} tiles of the Aachen walk network)",
        "",
        f"**Synthetic**: the real Aachen walk network ({sn.n_nodes:,} nodes) tiled {args.tiles} × {args.tiles} "
        f"(`benchmarks/synthetic_land.py`): **{net.n_nodes:,} nodes, {net.matrix.nnz:,} directed edges**, "
        f"{land.kita_xy.shape[0]:,} Kitas, {land.cell_xy.shape[0]:,} 100 m cells within 500 m of the network, "
        f"{land.stop_xy.shape[0]:,} stops; built in memory in {t_build:.1f} s (not timed below).",
        "",
        "| question | ours | baseline (scipy code of main) | ratio | same result |",
        "|---|---:|---:|---:|---|",
    ]
    rows: list[str] = []

    # 1. nearest Kita for every cell
    def nearest_cells() -> np.ndarray:
        d, node = net.tree.query(land.cell_xy)
        times = nearest_facility_time(net, kita_nodes)
        return np.where(d <= 500.0, times[node], np.nan)

    def nearest_cells_numba() -> np.ndarray:
        d, node = net.tree.query(land.cell_xy)
        times = shortest_paths.nearest(net.reverse, kita_nodes)
        return np.where(d <= 500.0, times[node], np.nan)

    t_near, near = timed(nearest_cells, args.repeat)
    t_near_nb, near_nb = timed(nearest_cells_numba, args.repeat)
    rows.append(
        f"| nearest Kita for every cell ({land.cell_xy.shape[0]:,} cells, snap + one multi-source search) | "
        f"{t_near:.2f} s (`nearest_facility_time`, scipy) | {t_near_nb:.2f} s (the numba kernel `nearest`, "
        f"for comparison) | – | {'yes' if np.array_equal(near, near_nb, equal_nan=True) else 'NO'} |"
    )
    print(rows[-1], f"load {load()}", flush=True)

    # 2. Kitas within 10 minutes for every node
    all_nodes = np.arange(net.n_nodes)
    t_opp, opp = timed(lambda: cumulative_opportunities(net, all_nodes, kita_nodes, CUTOFF_S), args.repeat)
    numba.set_num_threads(1)
    t_opp1, _ = timed(lambda: cumulative_opportunities(net, all_nodes, kita_nodes, CUTOFF_S), 1)
    numba.set_num_threads(threads)
    if args.quick:
        base_opp, t_base_opp = None, float("nan")
    else:
        t_base_opp, base_opp = timed(lambda: base.cumulative_opportunities(net, all_nodes, kita_nodes, CUTOFF_S), 1)
    same = "–" if base_opp is None else ("yes" if np.array_equal(opp, base_opp) else "NO")
    rows.append(
        f"| Kitas within 10 min for every node ({net.n_nodes:,}) | **{t_opp:.2f} s** ({t_opp1:.2f} s on one thread) "
        f"| {t_base_opp:.1f} s | {t_base_opp / t_opp:.0f}× | {same} (mean {opp.mean():.2f} Kitas) |"
    )
    print(rows[-1], f"load {load()}", flush=True)

    # 3. matrix to 500 sites
    d_cells, cell_nodes = net.tree.query(land.cell_xy)
    cell_nodes = cell_nodes[d_cells <= 500.0].astype(np.intp)
    sites = rng.choice(cell_nodes, args.sites, replace=False)
    t_mat, mat = timed(lambda: travel_time_matrix(net, cell_nodes, sites, MATRIX_CUTOFF_S), args.repeat)
    t_base_mat, base_mat = timed(lambda: base.travel_time_matrix(net, cell_nodes, sites, MATRIX_CUTOFF_S), 1)
    equal = (mat != base_mat).nnz == 0 and mat.nnz == base_mat.nnz
    rows.append(
        f"| cell × site matrix, {cell_nodes.size:,} cells × {args.sites} sites within 15 min ({mat.nnz:,} pairs) | "
        f"**{t_mat:.2f} s** | {t_base_mat:.2f} s | {t_base_mat / t_mat:.0f}× | {'yes' if equal else 'NO'} |"
    )
    print(rows[-1], f"load {load()}", flush=True)

    # 4. walk links for 60k stops
    from datetime import date

    from geo.sources.gtfs import Timetable
    from planning import transit

    stop_pick = rng.choice(land.stop_xy.shape[0], min(args.stops, land.stop_xy.shape[0]), replace=False)
    stop_xy = land.stop_xy[np.sort(stop_pick)]
    cell_xy = land.cell_xy

    def timetable(xy: np.ndarray) -> Timetable:
        ns = xy.shape[0]
        return Timetable.from_trips(
            feed="synthetisch", day=date(2026, 1, 6), window=(7 * 3600, 9 * 3600),
            stop_ids=np.array([f"s{i}" for i in range(ns)], object), stop_names=np.full(ns, "", object),
            stop_xy=xy, trips=[("r", "t", np.array([0, 1], np.int32), np.array([25200, 25260], np.int32),
                                np.array([25200, 25260], np.int32))],
        )  # fmt: skip

    settings = TransitSettings(day=date(2026, 1, 6))
    tt = timetable(stop_xy)
    t_links, links = timed(lambda: walk_links(tt, cell_xy, land.kita_xy, settings, net), 1)
    n_pairs = links.access.nnz + links.transfers.nnz + links.egress.nnz
    if args.quick:
        t_base_links, same_links = float("nan"), "–"
    else:
        few = stop_xy[: args.baseline_stops]
        o_node, o_off = transit._snap(net, cell_xy, settings)
        s_node, s_off = transit._snap(net, few, settings)
        f_node, f_off = transit._snap(net, land.kita_xy, settings)
        t1 = time.perf_counter()
        acc = base.network_table(net.reverse, s_node, s_off, o_node, o_off, settings.max_walk_s).T.tocsr()
        trn = base.network_table(net.matrix, s_node, s_off, s_node, s_off, settings.max_transfer_walk_s)
        egr = base.network_table(net.matrix, s_node, s_off, f_node, f_off, settings.max_walk_s)
        t_tables_few = time.perf_counter() - t1
        t1 = time.perf_counter()
        wo = base.nearest_on_network(net, f_node, f_off, o_node, o_off)
        t_walk_only = time.perf_counter() - t1
        # per-stop cost of the three tables (transfers grow with the square of the stops, counted linearly here)
        t_base_links = t_tables_few * stop_xy.shape[0] / few.shape[0] + t_walk_only
        ours_few = walk_links(timetable(few), cell_xy, land.kita_xy, settings, net)
        same_links = (
            "yes"
            if (ours_few.access != acc).nnz == 0
            and (ours_few.egress != egr).nnz == 0
            and (transit._with_diagonal(trn) != ours_few.transfers).nnz == 0
            and np.array_equal(ours_few.walk_only, wo)
            and np.array_equal(links.walk_only, wo)
            else "NO"
        )
    rows.append(
        f"| walk links of the transit analysis, {stop_xy.shape[0]:,} stops × {cell_xy.shape[0]:,} cells "
        f"({n_pairs:,} walks) | **{t_links:.1f} s** | {t_base_links:.0f} s (scaled from "
        f"{args.baseline_stops:,} stops) | {t_base_links / t_links:.0f}× | {same_links} (on the "
        f"{args.baseline_stops:,} stops) |"
    )
    print(rows[-1], f"load {load()}", flush=True)
    lines += rows

    def met(ok: bool) -> str:
        return "met" if ok else "**missed**"

    lines += [
        "",
        f"Targets (issue 21): Kitas within 10 min for every node ≤ 10 s: {met(t_opp <= 10.0)} ({t_opp:.1f} s); the "
        f"matrix to {args.sites} sites well under the 7.4–8.7 s measured before: {met(t_mat <= 3.0)} ({t_mat:.2f} s); "
        f"walk links for {stop_xy.shape[0]:,} stops ≤ 2 min: {met(t_links <= 120.0)} ({t_links:.0f} s); nearest "
        f"facility for all cells ≈ 3 s or better: {met(t_near <= 3.5)} ({t_near:.1f} s, the same scipy search as "
        "before; on a busy machine every figure here grows with the load).",
        "",
        f"Load average after (a): {load()}; peak RSS so far {peak_rss_gib():.1f} GiB.",
        "",
    ]

    # ------------------------------------------------------------------ (b) Kreis cut vs pandana

    kreis = tiled(args.kreis_tiles)
    knet: Network = kreis.net  # type: ignore[assignment]
    _, kk = knet.tree.query(kreis.kita_xy)
    k_nodes = np.arange(knet.n_nodes)

    def pandana_all(n: Network, fac: np.ndarray) -> tuple[np.ndarray, float, float, float]:
        pnet, build, pre = pandana_network(n, CUTOFF_S)
        t2 = time.perf_counter()
        pnet.set(pd.Series(fac), variable=pd.Series(np.ones(fac.size)), name="kitas")
        counts = pnet.aggregate(CUTOFF_S, type="sum", decay="flat", name="kitas").to_numpy()
        return counts, build, pre, time.perf_counter() - t2

    pandana_all(sn, kn_small)  # warm
    t_k, ours_k = timed(lambda: cumulative_opportunities(knet, k_nodes, kk, CUTOFF_S), args.repeat)
    p_counts, p_build, p_pre, p_query = pandana_all(knet, kk)
    p_total = p_build + p_pre + p_query
    truncated = sp.csr_array(knet.matrix, copy=True)
    truncated.data = np.floor(truncated.data * 1000) / 1000
    ours_ms = cumulative_opportunities(Network(truncated, knet.node_ids, knet.xy, "walk"), k_nodes, kk, CUTOFF_S)
    lines += [
        f"### (b) Kreis-sized cut ({args.kreis_tiles} × {args.kreis_tiles} tiles, synthetic): "
        "Kitas within 10 minutes for every node vs pandana",
        "",
        "| | ours `cumulative_opportunities` | pandana 0.8 |",
        "|---|---:|---:|",
        f"| every node ({knet.n_nodes:,}), {kk.size:,} Kitas | **{t_k:.3f} s** | {p_total:.2f} s (`Network` "
        f"{p_build:.2f} + `precompute(600)` {p_pre:.2f} + `set`/`aggregate` {p_query:.2f}) |",
        "",
        f"Ours is {p_total / t_k:.0f}× faster than pandana including its set-up and {p_query / t_k:.1f}× its "
        f"query alone. Same numbers: {int((ours_k == p_counts).sum()):,} of {knet.n_nodes:,} nodes equal; with the "
        f"edge times truncated to whole milliseconds as pandana stores them, {int((ours_ms == p_counts).sum()):,} "
        f"equal. Load average after (b): {load()}.",
    ]
    write_section("\n".join(lines) + "\n", OUT)
    return 0


if __name__ == "__main__":
    sys.exit(main())
