"""Benchmark: public-transport travel time to the nearest facility, 2-hour window, every 100 m cell.

Data: the r5py sample pair ``../shared/data/gtfs/sao_paulo/spo_gtfs.zip`` (SPTrans, with
``frequencies.txt``) and ``spo_osm.pbf`` (OSM, converted to OSM XML with pyosmium and loaded with
:func:`geo.sources.streets.load_network`). The GTFS is cut to the convex hull of the walk network's nodes.
The **cells are generated** (there is no population grid for São Paulo): centres of a 100 m grid in the
local UTM zone (EPSG:31983, so that cells are really 100 m) over the convex hull of the kept stops,
transformed to EPSG:25832 like every input of the project. Facilities: 10 cells chosen with a fixed seed.

Variants, each in a fresh subprocess (peak RSS from ``getrusage``):

* ``ours``: :func:`planning.transit.transit_time_to_nearest` (walk links with blocked multi-source
  Dijkstra, one profile search from the facility set, evaluation of every cell × departure minute);
* ``raptor``: the baseline :func:`planning.transit.nearest_by_raptor`, one plain RAPTOR per cell and
  minute, on a random subset of cells (the full run would take hours); its per-(cell, minute) cost is
  extrapolated to all cells. Both must give identical times on the subset.

The Kreis-sized extrapolation (3,000 stops, 40,000 trips a day, 30,000 cells) uses the measured
per-unit costs (per connection of the profile scan, per access pair and minute of the evaluation, per
stop Dijkstra of the walk links) and states its assumptions in the output.

Run ``.venv/bin/python benchmarks/bench_transit.py``; writes ``benchmarks/results/transit.md``.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np
from _report import machine, write_section

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

FOLDER = ROOT.parent / "shared" / "data" / "gtfs" / "sao_paulo"
DAY = date(2019, 5, 14)  # a Tuesday within the feed's calendar
START, END = 7 * 3600, 9 * 3600
N_FACILITIES = 10
N_BASELINE = 60
REPEAT = 5
SEED = 20_190_514
OUT = ROOT / "benchmarks" / "results" / "transit.md"
CACHE = Path(tempfile.gettempdir()) / "integrationsatlas-bench-transit"


def rss_mb() -> float:
    """Peak resident set size of this process so far, MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def setup() -> dict:
    """Network, timetable, cells and facilities (the network is cached under :data:`CACHE`)."""
    import geopandas as gpd
    import osmium
    import shapely
    from pyproj import Transformer

    from geo.settings import Settings
    from geo.sources.gtfs import read_gtfs
    from geo.sources.streets import load_network

    CACHE.mkdir(parents=True, exist_ok=True)
    xml = CACHE / "spo.osm"
    if not xml.exists():
        with osmium.SimpleWriter(str(xml)) as writer:
            for obj in osmium.FileProcessor(str(FOLDER / "spo_osm.pbf")):
                writer.add(obj)
    t0 = time.perf_counter()
    net = load_network("walk", Settings().with_home(CACHE / "home"), osm_file=xml)
    t_net = time.perf_counter() - t0
    t0 = time.perf_counter()
    tt = read_gtfs(FOLDER / "spo_gtfs.zip", day=DAY, window=(START, END), area=shapely.MultiPoint(net.xy).convex_hull)
    t_gtfs = time.perf_counter() - t0
    to_utm = Transformer.from_crs("EPSG:25832", "EPSG:31983", always_xy=True)
    to_25832 = Transformer.from_crs("EPSG:31983", "EPSG:25832", always_xy=True)
    sx, sy = to_utm.transform(tt.stop_xy[:, 0], tt.stop_xy[:, 1])
    hull = shapely.MultiPoint(np.column_stack([sx, sy])).convex_hull
    x0, y0, x1, y1 = hull.bounds
    gx, gy = np.meshgrid(
        np.arange(np.floor(x0 / 100) * 100 + 50, x1, 100), np.arange(np.floor(y0 / 100) * 100 + 50, y1, 100)
    )
    inside = shapely.contains_xy(hull, gx.ravel(), gy.ravel())
    cx, cy = to_25832.transform(gx.ravel()[inside], gy.ravel()[inside])
    cells = gpd.GeoSeries(gpd.points_from_xy(cx, cy), crs="EPSG:25832")
    rng = np.random.default_rng(SEED)
    facilities = cells.iloc[rng.choice(len(cells), N_FACILITIES, replace=False)].reset_index(drop=True)
    return {
        "net": net,
        "tt": tt,
        "cells": cells,
        "facilities": facilities,
        "t_net": t_net,
        "t_gtfs": t_gtfs,
        "hull_km2": hull.area / 1e6,
    }


def run_variant(name: str) -> dict:
    """Run one variant in this process and return its measurements."""
    from planning.transit import (
        TransitSettings,
        _by_minute,
        _profiles,
        connections,
        nearest_by_raptor,
        transit_time_matrix,
        transit_time_to_nearest,
        walk_links,
    )

    d = setup()
    net, tt, cells, facilities = d["net"], d["tt"], d["cells"], d["facilities"]
    s = TransitSettings(day=DAY, start_s=START, end_s=END)
    o_xy = np.column_stack([cells.x, cells.y])
    f_xy = np.column_stack([facilities.x, facilities.y])
    # warm the numba kernels (compiled once, cached on disk) on a tiny call
    small = transit_time_to_nearest(tt, cells.iloc[:2], facilities, s, network=net)
    assert small.by_minute.shape[0] == 2
    rss_setup = rss_mb()
    out: dict = {
        "variant": name,
        "rss_setup_mb": rss_setup,
        "t_net": d["t_net"],
        "t_gtfs": d["t_gtfs"],
        "n_cells": len(cells),
        "n_stops": tt.n_stops,
        "n_trips": tt.n_trips,
        "n_patterns": tt.n_patterns,
        "n_stop_times": tt.n_stop_times,
        "n_nodes": net.n_nodes,
        "hull_km2": d["hull_km2"],
        "n_minutes": int(s.minutes.size),
    }
    if name == "ours":
        totals = []
        for _ in range(REPEAT):  # median of a few runs: the machine is shared
            t0 = time.perf_counter()
            res = transit_time_to_nearest(tt, cells, facilities, s, network=net)
            totals.append(time.perf_counter() - t0)
        out["t_total"] = float(np.median(totals))
        # the same steps once more, timed one by one, for the per-unit costs
        t0 = time.perf_counter()
        links = walk_links(tt, o_xy, f_xy, s, net)
        out["t_walk"] = time.perf_counter() - t0
        conn = connections(tt)
        t0 = time.perf_counter()
        D, A, length, ptr = _profiles(tt, conn, links.egress_nearest, links, s)
        out["t_profile"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        bm = _by_minute(D, A, length, ptr, links.access, links.walk_only, s)
        out["t_eval"] = time.perf_counter() - t0
        assert np.array_equal(bm, res.by_minute)
        t0 = time.perf_counter()
        mat = transit_time_matrix(tt, cells, facilities, s, cutoff_s=1800, network=net)
        out["t_matrix"] = time.perf_counter() - t0
        out["matrix_nnz"] = int(mat.matrix.nnz)
        out["n_connections"] = int(conn.dep.size)
        out["n_access_pairs"] = int(links.access.nnz)
        out["n_transfer_pairs"] = int(links.transfers.nnz)
        t = res.time_s.to_numpy()
        w = res.walk_only_s.to_numpy()
        ok = np.isfinite(w)
        out["share_reachable"] = float(ok.mean())
        out["share_faster"] = float((t[ok] < w[ok] - 60).mean())
        out["median_min"] = float(np.median(t[ok]) / 60)
        out["median_walk_min"] = float(np.median(w[ok]) / 60)
        rng = np.random.default_rng(SEED + 1)
        subset = rng.choice(len(cells), N_BASELINE, replace=False)
        np.save(CACHE / "ours_subset.npy", res.by_minute[subset])
        np.save(CACHE / "subset.npy", subset)
    else:
        subset = np.load(CACHE / "subset.npy")
        links = walk_links(tt, o_xy[subset], f_xy, s, net)
        nearest_by_raptor(tt, walk_links(tt, o_xy[subset[:1]], f_xy, s, net), s)  # warm: compile the RAPTOR kernel
        t0 = time.perf_counter()
        base = nearest_by_raptor(tt, links, s)
        out["t_raptor_subset"] = time.perf_counter() - t0
        out["n_subset"] = int(subset.size)
        ours = np.load(CACHE / "ours_subset.npy")
        out["max_abs_diff_s"] = float(np.max(np.abs(np.where(np.isinf(ours) & np.isinf(base), 0, ours - base))))
    out["rss_peak_mb"] = rss_mb()
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--variant", choices=["ours", "raptor"], help="(internal) run one variant and print JSON")
    p.add_argument("--out", type=Path, default=OUT)
    args = p.parse_args(argv)
    if not (FOLDER / "spo_gtfs.zip").exists():
        print(f"SKIPPED: {FOLDER} is missing (see ../shared/data/PROVENANCE.md); nothing written.")
        return 0
    if args.variant:
        print("RESULT " + json.dumps(run_variant(args.variant)))
        return 0
    results = {}
    for variant in ("ours", "raptor"):
        proc = subprocess.run(
            [sys.executable, __file__, "--variant", variant], capture_output=True, text=True, check=True
        )
        line = next(x for x in proc.stdout.splitlines() if x.startswith("RESULT "))
        results[variant] = json.loads(line[7:])
    write_section(report(results["ours"], results["raptor"]), args.out)
    return 0


def report(o: dict, b: dict) -> str:
    """The markdown section."""
    n, m = o["n_cells"], o["n_minutes"]
    per_om_raptor = b["t_raptor_subset"] / (b["n_subset"] * m)
    t_raptor_full = o["t_walk"] + per_om_raptor * n * m
    t_ours = o["t_total"]
    # per-unit costs
    per_conn = o["t_profile"] / o["n_connections"]
    per_pair_min = o["t_eval"] / max(1, o["n_access_pairs"] * m)
    pairs_per_cell = o["n_access_pairs"] / n
    stops_per_km2 = o["n_stops"] / o["hull_km2"]
    per_stop_walk = o["t_walk"] / o["n_stops"]
    # Kreis: 3,000 stops, 40,000 trips a day, 30,000 cells
    k_stops, k_trips, k_cells = 3_000, 40_000, 30_000
    hops = 19.0  # connections per trip of a typical German bus line (here, cut to the area: see the text)
    k_share = (2 + 2) / 18  # window + horizon (≈ longest trip, 2 h) of an 18-hour service day
    k_conn = k_trips * k_share * hops
    k_density = k_stops / 1_000  # stops per km² in a 1,000 km² Kreis
    k_pairs_per_cell = pairs_per_cell * k_density / stops_per_km2
    k_profile = per_conn * k_conn
    k_eval = per_pair_min * k_pairs_per_cell * k_cells * m
    k_walk = per_stop_walk * k_stops
    k_total = k_profile + k_eval + k_walk
    k_raptor = per_om_raptor * (k_conn / o["n_connections"]) * k_cells * m + k_walk
    k_mem = (k_cells * m * 8 + 4 * k_conn * 16 + k_cells * k_pairs_per_cell * 12) / 1e6
    rows = [
        (
            "**ours** `transit_time_to_nearest`",
            f"all {n:,} cells × {m} minutes",
            f"**{t_ours:.2f} s**",
            f"{o['rss_peak_mb']:.0f} MB (after setup {o['rss_setup_mb']:.0f} MB)",
        ),
        (
            "– of which walk links (access, transfers, egress, walk only)",
            f"{o['n_access_pairs']:,} access pairs",
            f"{o['t_walk']:.2f} s",
            "",
        ),
        (
            "– profile search from the facility set (backwards connection scan, one label set per ride count)",
            f"{o['n_connections']:,} connections",
            f"{o['t_profile']:.3f} s",
            "",
        ),
        ("– evaluation (cell × minute × access stop)", "", f"{o['t_eval']:.2f} s", ""),
        (
            f"`transit_time_matrix` ({N_FACILITIES} facilities, cut-off 30 min)",
            f"{o['matrix_nnz']:,} pairs kept",
            f"{o['t_matrix']:.2f} s",
            "",
        ),
        (
            "baseline `nearest_by_raptor` (plain RAPTOR per cell and minute)",
            f"{b['n_subset']} cells × {m} minutes",
            f"{b['t_raptor_subset']:.2f} s",
            f"{b['rss_peak_mb']:.0f} MB",
        ),
        (
            "baseline extrapolated to all cells (+ the same walk links)",
            f"{n:,} × {m} RAPTOR runs",
            f"{t_raptor_full:.0f} s",
            "",
        ),
    ]
    table = "\n".join("| " + " | ".join(r) + " |" for r in rows)
    return f"""## Public transport: travel time to the nearest facility (RAPTOR / profile search)

Machine: {machine()}.
Reproduce: `.venv/bin/python benchmarks/bench_transit.py` (needs `../shared/data/gtfs/sao_paulo`).

**Data.** r5py sample pair for São Paulo: GTFS `spo_gtfs.zip` (with `frequencies.txt`, expanded into departures)
cut to the hull of the OSM walk network of `spo_osm.pbf` ({o["n_nodes"]:,} nodes): {o["n_stops"]} stops,
{o["n_patterns"]} patterns, {o["n_trips"]:,} trips ({o["n_stop_times"]:,} stop events, {o["n_connections"]:,}
connections) on Tue {DAY:%d.%m.%Y}, window 07:00–09:00 ({m} departure minutes). **Cells are generated**: centres of
a 100 m grid (EPSG:31983) over the convex hull of the kept stops ({o["hull_km2"]:.1f} km²), **{n:,} cells**, given in
EPSG:25832. {N_FACILITIES} facilities (random cells, fixed seed). Limits: walk ≤ 15 min, transfer walk ≤ 10 min,
≤ 3 transfers, 60 s boarding slack. Network loading {o["t_net"]:.1f} s (npz cache; the first run parses the XML),
GTFS reading {o["t_gtfs"]:.2f} s. Peak RSS is dominated by the imports and the network (osmnx, networkx); the
analysis itself adds little on top of the RSS after setup.

Times: ours is the median of {REPEAT} runs (its parts are from one further run), the baseline one run.

| variant | what | time | peak RSS |
|---|---|---:|---:|
{table}

**Ratio: the baseline needs {t_raptor_full / t_ours:.0f}× as long** as ours for the full window. On the
{b["n_subset"]} baseline cells both give identical times for every minute (max. difference {b["max_abs_diff_s"]:.1e} s).
Results: {o["share_reachable"]:.0%} of the cells reach the network within 500 m; of those, {o["share_faster"]:.0%}
are more than a minute faster by public transport than on foot; median {o["median_min"]:.1f} min (walking only
{o["median_walk_min"]:.1f} min).

**Extrapolation to a Kreis-sized feed** (3,000 stops, 40,000 trips a day, 30,000 cells), from the measured
per-unit costs: profile scan {per_conn * 1e9:.0f} ns per connection, evaluation {per_pair_min * 1e9:.1f} ns per
access pair and minute, walk links {per_stop_walk * 1e3:.1f} ms per stop (on this network; a Kreis network is
larger, so this term is the least certain). Assumptions: {hops:.0f} connections per trip (a typical bus line; here
{o["n_connections"] / o["n_trips"]:.1f}, trips cut to the sample area), trips kept
for window + horizon = 4 h of an 18-hour service day ({k_conn:,.0f} connections), stop density 3 per km² (1,000 km²)
instead of {stops_per_km2:.0f} here, so {k_pairs_per_cell:.1f} access stops per cell instead of {pairs_per_cell:.1f}.

| Kreis estimate | time |
|---|---:|
| profile search | {k_profile:.2f} s |
| evaluation 30,000 cells × {m} minutes | {k_eval:.1f} s |
| walk links | {k_walk:.1f} s |
| **total (ours)** | **{k_total:.0f} s**, about {k_mem:.0f} MB of result and profile arrays |
| baseline RAPTOR per cell and minute (cost scaled with connections) | {k_raptor / 3600:.1f} h |
"""


if __name__ == "__main__":
    sys.exit(main())
