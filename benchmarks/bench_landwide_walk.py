"""Benchmark: a Land-wide walking result at 100 m on the SYNTHETIC NRW-size network (issue 21), and pandana.

Input, from ``benchmarks/synthetic_nrw.py --side 15`` (written first when missing): the real central-Aachen
extract copied 15 × 15 times across the middle of NRW (742 MB, **synthetic**), its walk network built once
into Kreis tiles (cached under ``benchmarks/data/home``), and a **generated** Zensus-layout population grid
(every 100 m cell within 500 m of the synthetic network). Facilities: the real OGS layer (Grundschulen of the
MSB school data, ``../shared/data``) – on a synthetic street network, so the minutes are synthetic too.

1. **Land-wide, once the tiles are cached**: ``integrationsatlas batch`` on a one-task plan (Land NRW, OGS,
   15 min on foot, Zensus demand, ``by = "kreis"``) with one local worker, in its own process. The task's
   seconds are the pipeline's answer: every tile opened and merged, every populated cell connected to the
   network, one Dijkstra from all OGS, the tables per Kreis, the GeoParquet written. The command's wall time
   adds the imports into the batch's own store and the cluster start.
2. **Cost against cells**: the same request for a Kreis, a Regierungsbezirk and the Land, each answered from
   scratch in its own process (tiles opened from the cache), and a straight line fitted through the three.
3. **Image pyramid** of the result file for the Karte (``integrationsatlas.landwide.result_pyramid``).
4. **pandana on a Kreis cut**: the tile with the most nodes; nearest OGS (snapped to its node) for every node,
   ours (:func:`planning.door_to_door.nearest_time`, one multi-source Dijkstra) vs pandana 0.8
   (``Network`` + ``precompute`` + ``set_pois`` + ``nearest_pois``) on the same arrays, both warmed first.

5. **Other modes**: the same Land-wide question by bike, by car and by walk + public transport (a feed
   GENERATED over the whole synthetic network, ``synthetic_feed.py``), one batch (``--no-modes`` skips it).

Run ``nice python benchmarks/bench_landwide_walk.py`` (after ``bench_network_tiles.py --side 15`` or
``synthetic_nrw.py --side 15`` the tiles are cached; else the first run builds them, about 2.5–4.5 min).
Writes ``benchmarks/results/landwide_walk.md``; the result file and the pyramid stay under
``benchmarks/data/`` (git-ignored, never committed: derived from synthetic and shared data).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from _peers import pandana_network  # noqa: E402
from _report import MSB_SCHOOLS, machine, write_section  # noqa: E402
from _report import load_average as load  # noqa: E402

SCHOOLS = MSB_SCHOOLS
THRESHOLD_MIN = 15
#: Three sizes for the cost-against-cells fit: Dortmund (a kreisfreie Stadt), Regierungsbezirk Arnsberg, the Land.
SIZES = ("05913", "059", "05")
#: Service day of the generated Land-wide feed (a Tuesday) and its size: about 9 Kreise of lines.
DAY = "2026-12-08"
LAND_FEED_LINES = (3_000, 70)
#: pandana's search horizon (s): nearest OGS within 30 minutes, the tile horizon.
HORIZON_S = 1800.0

PLAN = """# SYNTHETIC: the street network, the population and the feed are synthetic (benchmarks/synthetic_*.py)
[plan]
name = "SYNTHETISCH: OGS, ganz NRW (Aachener Netz kopiert, Bevölkerung und Fahrplan erzeugt)"
areas = "land"
layers = ["ogs"]
modes = {modes}
thresholds = [{threshold}]
by = "kreis"
demand = "zensus"
osm = "{pbf}"
{transit}

[[data]]
layer = "ogs"
file = "{schools}"

[[data]]
zensus = "{zensus}"
"""


def run_plan(plan_text: str, home: Path, out: Path) -> tuple[list[dict[str, Any]], float, str]:
    """``integrationsatlas batch`` on a plan with one worker, in a child process: its rows, wall time and load."""
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    plan = out / "plan.toml"
    plan.write_text(plan_text, encoding="utf-8")
    env = os.environ | {"INTEGRATIONSATLAS_HOME": str(home), "INTEGRATIONSATLAS_OFFLINE": "1"}
    before = load()
    t0 = time.perf_counter()
    cmd = [sys.executable, "-m", "integrationsatlas.cli", "batch", str(plan), "-o", str(out), "--workers", "1"]
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t0
    if done.returncode:
        raise SystemExit(f"batch failed ({done.returncode}):\n{done.stderr[-3000:]}")
    table = pd.read_csv(out / "zusammenfassung.csv", dtype={"area": str})
    rows: list[dict[str, Any]] = [{str(k): v for k, v in r.items()} for r in table.to_dict("records")]
    failed = [r for r in rows if r.get("status") != "fertig"]
    if failed:
        raise SystemExit(f"tasks failed: {failed}")
    return rows, wall, f"{before} → {load()}"


def landwide(pbf: Path, zensus: Path, home: Path, out: Path) -> dict[str, Any]:
    """Step 1: the one-task plan (on foot) with one worker; its summary row and timings."""
    text = PLAN.format(modes='["walk"]', threshold=THRESHOLD_MIN, pbf=pbf, transit="", schools=SCHOOLS, zensus=zensus)
    [row], wall, loads = run_plan(text, home, out)
    return {
        "wall_s": wall,
        "task_s": float(row["seconds"]),
        "cells": int(row["n_demand"]),
        "facilities": int(row["n_facilities"]),
        "share": float(row["share_covered"]),
        "peak_gib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 2**20,
        "file": next((out / "ergebnisse").glob("*.parquet")),
        "load": loads,
    }


def other_modes(pbf: Path, zensus: Path, feed: Path, home: Path, out: Path) -> dict[str, Any]:
    """Step 5: the same Land-wide question by bike, by car and by walk + public transport (one batch)."""
    transit = f'gtfs = "{feed}"\nday = "{DAY}"\nwindow = "07:00-09:00"'
    text = PLAN.format(
        modes='["bike", "drive", "oepnv"]', threshold=THRESHOLD_MIN, pbf=pbf, transit=transit, schools=SCHOOLS,
        zensus=zensus,
    )  # fmt: skip
    rows, wall, loads = run_plan(text, home, out)
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 2**20
    return {"rows": {r["mode"]: r for r in rows}, "wall_s": wall, "peak_gib": peak, "load": loads}


def one_size(result: Path, area: str, home: Path, store: Path) -> dict[str, Any]:
    """Step 2 (in a child process): the stored request for ``area``, answered by the pipeline from scratch."""
    from dataclasses import replace

    from geo.settings import Settings
    from integrationsatlas.coverage import coverage_report
    from integrationsatlas.request import AreaRef
    from integrationsatlas.results import stored_request

    settings = replace(Settings().with_home(home), store_path=store / "store.gpkg")
    request = replace(stored_request(result), area=AreaRef(area))
    before = load()
    t0 = time.perf_counter()
    report = coverage_report(settings, request)
    return {
        "area": area,
        "name": report.area.name if report.area is not None else area,
        "s": time.perf_counter() - t0,
        "cells": report.n_demand,
        "share": report.share_covered,
        "peak_gib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20,
        "load": f"{before} → {load()}",
    }


def sizes(result: Path, home: Path, store: Path) -> list[dict[str, Any]]:
    """Step 2: :func:`one_size` for a Kreis, a Regierungsbezirk and the Land, each in its own process."""
    rows = []
    for area in SIZES:
        cmd = [sys.executable, __file__, "--size", area, "--result", str(result), "--store", str(store)]
        done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False)
        if done.returncode:
            raise SystemExit(f"size {area} failed:\n{done.stderr[-3000:]}")
        rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
        print(done.stdout.strip().splitlines()[-1], flush=True)
    return rows


def pyramid(result: Path, cache: Path) -> dict[str, Any]:
    """Step 2: the image pyramid of the result (rendered fresh)."""
    from integrationsatlas.landwide import PYRAMID_FOLDER, result_pyramid

    shutil.rmtree(cache / PYRAMID_FOLDER, ignore_errors=True)
    before = load()
    t0 = time.perf_counter()
    made = result_pyramid(result, cache)
    return {
        "s": time.perf_counter() - t0,
        "tiles": made.tiles,
        "empty": made.empty,
        "zooms": f"{made.zooms[0]}–{made.zooms[-1]}",
        "load": f"{before} → {load()}",
    }


def kreis_cut(pbf: Path, home: Path, store: Path) -> dict[str, Any]:
    """Step 3: nearest OGS (from the store in ``store``) for every node of the largest tile, ours vs pandana."""
    import geopandas as gpd

    from geo.layers.loading import load_layer
    from geo.modes import travel_mode
    from geo.network import Network
    from geo.settings import Settings
    from geo.sources.streets import tile_set
    from planning.door_to_door import nearest_time

    settings = Settings().with_home(home)
    tiles = tile_set("walk", settings, pbf)
    biggest = max(tiles.tiles, key=lambda t: t.nodes)
    net = tiles.load([biggest.code]).for_mode(travel_mode("walk"))
    ogs: gpd.GeoDataFrame = load_layer("ogs", Settings().with_home(store))
    xy = np.column_stack([ogs.geometry.x, ogs.geometry.y])
    inside = (xy[:, 0] >= biggest.bounds[0]) & (xy[:, 0] <= biggest.bounds[2])
    inside &= (xy[:, 1] >= biggest.bounds[1]) & (xy[:, 1] <= biggest.bounds[3])
    _, fac_nodes = net.tree.query(xy[inside])
    fac_nodes = np.unique(fac_nodes)
    nodes_xy = net.xy

    def ours(n: Network, fac: np.ndarray) -> np.ndarray:
        return nearest_time(n, n.xy, n.xy[fac], max_snap_m=1.0, access_ms=1.0)

    def theirs(n: Network, fac: np.ndarray) -> tuple[np.ndarray, float, float, float]:
        pnet, build, pre = pandana_network(n, HORIZON_S)
        t2 = time.perf_counter()
        pnet.set_pois("ogs", HORIZON_S, 1, pd.Series(n.xy[fac, 0]), pd.Series(n.xy[fac, 1]))
        got = pnet.nearest_pois(HORIZON_S, "ogs", num_pois=1).iloc[:, 0].to_numpy(dtype=float)
        return got, build, pre, time.perf_counter() - t2

    small = Network(net.matrix[:2000][:, :2000], net.node_ids[:2000], nodes_xy[:2000], "walk")
    ours(small, np.arange(5))  # warm: scipy and our code paths
    theirs(small, np.arange(5))  # warm: pandana's extension
    before = load()
    t0 = time.perf_counter()
    mine = ours(net, fac_nodes)
    t_ours = time.perf_counter() - t0
    got, p_build, p_pre, p_query = theirs(net, fac_nodes)
    reach = mine <= HORIZON_S
    # pandana stores edge weights as float32 and reports the horizon for unreached nodes
    same = np.abs(np.where(reach, mine, HORIZON_S) - got) <= 0.5
    return {
        "code": biggest.code,
        "name": biggest.name,
        "nodes": net.n_nodes,
        "facilities": int(fac_nodes.size),
        "ours_s": t_ours,
        "pandana_build_s": p_build,
        "pandana_pre_s": p_pre,
        "pandana_query_s": p_query,
        "equal": int(same.sum()),
        "reached": int(reach.sum()),
        "load": f"{before} → {load()}",
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--side", type=int, default=15, help="copies per side of the synthetic extract (15: NRW size)")
    p.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "landwide_walk.md")
    p.add_argument("--no-modes", action="store_true", help="skip step 5 (bike, car, public transport)")
    p.add_argument("--size", help=argparse.SUPPRESS)
    p.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    p.add_argument("--store", type=Path, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.size:
        from synthetic_nrw import DATA

        print(json.dumps(one_size(args.result, args.size, DATA / "home", args.store)))
        return 0
    if not SCHOOLS.is_file():
        print(f"{SCHOOLS} fehlt (../shared/data): kein OGS-Layer.", file=sys.stderr)
        return 2
    from synthetic_nrw import DATA, paths
    from synthetic_nrw import main as make_synthetic

    files = paths(args.side)
    if not (files["pbf"].exists() and files["zensus"].exists()):
        make_synthetic(["--side", str(args.side)])
    home = DATA / "home"
    out = DATA / "landwide"
    print(f"SYNTHETIC extract {files['pbf'].name}: {files['pbf'].stat().st_size / 1e6:.0f} MB, load {load()}")
    run = landwide(files["pbf"], files["zensus"], home, out)
    print(json.dumps(run, default=str), flush=True)
    fit_rows = sizes(run["file"], home, out / "daten")
    cells = np.array([r["cells"] for r in fit_rows], dtype=float)
    secs = np.array([r["s"] for r in fit_rows])
    slope, intercept = np.polyfit(cells, secs, 1)
    worst = float(np.max(np.abs(intercept + slope * cells - secs) / secs))
    pyr = pyramid(run["file"], home / "cache")
    print(json.dumps(pyr), flush=True)
    cut = kreis_cut(files["pbf"], home, out / "daten")
    print(json.dumps(cut), flush=True)
    p_total = cut["pandana_build_s"] + cut["pandana_pre_s"] + cut["pandana_query_s"]
    modes_lines: list[str] = []
    if not args.no_modes:
        feed = DATA / f"SYNTHETIC_gtfs_nrw_{args.side}x{args.side}.zip"
        if not feed.exists():
            from synthetic_feed import write_feed

            from geo.settings import Settings
            from geo.sources.streets import tile_set

            tiles = tile_set("walk", Settings().with_home(home), files["pbf"])
            xy = tiles.load([t.code for t in tiles.tiles]).xy
            counts = write_feed(xy, feed, bus_lines=LAND_FEED_LINES[0], rail_lines=LAND_FEED_LINES[1])
            print(f"{feed.name}: {counts}", flush=True)
        modes = other_modes(files["pbf"], files["zensus"], feed, home, DATA / "landwide-modi")
        print(json.dumps(modes, default=str), flush=True)
        modes_lines = [
            "",
            f"**By bike, by car and by walk + public transport**, the same Land-wide question in one batch "
            f"(`--workers 1`; the car and bike tiles built in it when missing; the feed GENERATED over the whole "
            f"synthetic network by `synthetic_feed.py` with {LAND_FEED_LINES[0]:,} bus and {LAND_FEED_LINES[1]} "
            f"rail lines, Tuesday {DAY}, 07:00–09:00): {modes['wall_s']:.0f} s for the command, peak RSS of the "
            f"largest process {modes['peak_gib']:.2f} GiB, load {modes['load']}.",
            "",
            "| Mode | Task (s, tiles or feed already loaded by the batch's loader task) | Cells | Within "
            f"{THRESHOLD_MIN} min |",
            "|---|---:|---:|---:|",
            *[
                f"| {mode} | {r['seconds']:.1f} | {int(r['n_demand']):,} | {r['share_covered'] * 100:.1f} % |"
                for mode, r in modes["rows"].items()
            ],
        ]
    text = "\n".join(
        [
            "## Land-wide walking result at 100 m on the SYNTHETIC NRW-size network — `bench_landwide_walk.py`",
            "",
            f"Machine: {machine()}. **Synthetic data**: the street network is central Aachen copied "
            f"{args.side} × {args.side} times across NRW, the population grid is generated; the OGS are real "
            "(MSB 2021). The minutes are therefore no statement about NRW.",
            "",
            "| Step | Result | Load |",
            "|---|---|---|",
            f"| Land NRW, OGS, {THRESHOLD_MIN} min on foot, Zensus-layout demand: the batch task "
            f"(tiles cached) | **{run['task_s']:.1f} s** for {run['cells']:,} populated cells and "
            f"{run['facilities']:,} OGS; {run['share'] * 100:.1f} % within {THRESHOLD_MIN} min; "
            f"peak RSS of the largest process {run['peak_gib']:.2f} GiB | {run['load']} |",
            f"| the same, the whole command (imports into the batch's own store, cluster start, task, summary) "
            f"| {run['wall_s']:.1f} s | |",
            *[
                f"| {r['name']} ({r['area']}), the same question answered from scratch in its own process "
                f"(tiles opened from the cache) | {r['s']:.1f} s for {r['cells']:,} cells, peak "
                f"{r['peak_gib']:.2f} GiB | {r['load']} |"
                for r in fit_rows
            ],
            f"| image pyramid for the Karte | {pyr['s']:.1f} s: {pyr['tiles']:,} tiles with data, "
            f"{pyr['empty']:,} empty, zoom {pyr['zooms']} | {pyr['load']} |",
            f"| Kreis cut (tile {cut['code']} {cut['name']}, {cut['nodes']:,} nodes, {cut['facilities']} OGS "
            f"nodes): nearest OGS for every node, ours | {cut['ours_s']:.2f} s | {cut['load']} |",
            f"| the same, pandana 0.8 (build {cut['pandana_build_s']:.1f} s + precompute "
            f"{cut['pandana_pre_s']:.1f} s + query {cut['pandana_query_s']:.2f} s) | {p_total:.1f} s "
            f"({p_total / cut['ours_s']:.0f}× ours); {cut['equal']:,} of {cut['nodes']:,} nodes "
            f"equal within 0.5 s ({cut['reached']:,} reached within 30 min) | |",
            "",
            f"Target (issue 21): Land-wide nearest-facility walking time for one layer on ≈ 1.5 M cells ≤ 2 min "
            f"once the network is cached: {'met' if run['task_s'] <= 120 else 'not met'} "
            f"({run['task_s']:.1f} s on {run['cells']:,} cells).",
            "",
            *modes_lines,
            "",
            f"Cost against cells (three sizes, least squares): **{intercept:.1f} s + {slope * 1e6:.1f} s per "
            f"million cells**, largest deviation of a size from the line {worst * 100:.0f} %. The fixed part is "
            "opening the tiles and the facilities; the rest grows with the cells (connecting them, the search, "
            "the tables and the intervals) and with the network the region opens.",
            "",
            "Reproduce: `nice python benchmarks/bench_landwide_walk.py` (writes the synthetic data first when "
            "missing; the result and its pyramid stay in the git-ignored `benchmarks/data/`).",
            "",
        ]
    )
    write_section(text, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
