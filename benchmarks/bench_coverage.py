"""Benchmark: distance coverage, 1,000,000 demand points × 10,000 facilities in NRW.

Compares :func:`planning.coverage.nearest_distance` + :func:`planning.coverage.covered_share`
(from GeoDataFrames in EPSG:25832, three thresholds) with a bare
``scipy.spatial.cKDTree(fac).query(dem, workers=-1)`` on the same coordinate arrays,
in the same run. Target: at most 1.5× the bare query.

Run ``python benchmarks/bench_coverage.py`` (add ``--out FILE`` to write the markdown).
Timing: best of ``--repeat`` runs, alternating the two variants. Memory: each variant
runs once more in a fresh subprocess that measures its peak resident memory above the
input data (Linux ``VmHWM`` after ``malloc_trim`` and a reset through ``/proc/self/clear_refs``) and the
peak of Python/NumPy allocations (``tracemalloc``).
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import platform
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import numpy as np
import scipy
from scipy.spatial import cKDTree

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from geo.projection import NRW_BOUNDS_25832  # noqa: E402
from planning.coverage import covered_share, nearest_distance  # noqa: E402

N_DEMAND = 1_000_000
N_FACILITIES = 10_000
SEED = 20_240_601
THRESHOLDS_M = (5_000.0, 10_000.0, 15_000.0)


def make_data(n_demand: int, n_facilities: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Uniform points in the NRW bounding box (EPSG:25832) and demand weights."""
    rng = np.random.default_rng(seed)
    minx, miny, maxx, maxy = NRW_BOUNDS_25832
    dem = np.column_stack([rng.uniform(minx, maxx, n_demand), rng.uniform(miny, maxy, n_demand)])
    fac = np.column_stack([rng.uniform(minx, maxx, n_facilities), rng.uniform(miny, maxy, n_facilities)])
    weight = rng.integers(1, 500, n_demand).astype(np.float64)
    return dem, fac, weight


def to_frames(dem: np.ndarray, fac: np.ndarray) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    return (
        gpd.GeoDataFrame(geometry=gpd.points_from_xy(dem[:, 0], dem[:, 1]), crs="EPSG:25832"),
        gpd.GeoDataFrame(geometry=gpd.points_from_xy(fac[:, 0], fac[:, 1]), crs="EPSG:25832"),
    )


def variants(dem: np.ndarray, fac: np.ndarray, weight: np.ndarray) -> dict[str, Callable[[], object]]:
    dem_gdf, fac_gdf = to_frames(dem, fac)

    def bare() -> object:
        return cKDTree(fac).query(dem, workers=-1)

    def ours() -> object:
        dist = nearest_distance(dem_gdf, fac_gdf)
        return covered_share(dist, weight, THRESHOLDS_M)

    return {"bare": bare, "ours": ours}


def worker(name: str, n_demand: int, n_facilities: int) -> None:
    """Run one variant once and print its memory figures as JSON (subprocess mode)."""
    dem, fac, weight = make_data(n_demand, n_facilities, SEED)
    fn = variants(dem, fac, weight)[name]
    ctypes.CDLL("libc.so.6").malloc_trim(0)  # hand freed heap pages back, so RSS growth is visible
    base = _status("VmRSS")
    Path("/proc/self/clear_refs").write_text("5")  # reset the high-water mark (Linux)
    tracemalloc.start()
    fn()
    _, traced = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(json.dumps({"rss_peak_mb": (_status("VmHWM") - base) / 1024, "traced_peak_mb": traced / 2**20}))


def _status(key: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])  # kB
    raise RuntimeError(f"{key} not in /proc/self/status")


def memory(name: str, n_demand: int, n_facilities: int) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--worker", name, "--n-demand", str(n_demand), "--n-facilities", str(n_facilities)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n-demand", type=int, default=N_DEMAND)
    p.add_argument("--n-facilities", type=int, default=N_FACILITIES)
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--out", type=Path, help="also write the markdown section to this file")
    p.add_argument("--worker", choices=("bare", "ours"), help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        worker(args.worker, args.n_demand, args.n_facilities)
        return 0

    dem, fac, weight = make_data(args.n_demand, args.n_facilities, SEED)
    runs = variants(dem, fac, weight)
    # identical answers first
    bare_dist = runs["bare"]()[0]  # type: ignore[index]
    ours_share = runs["ours"]()
    check = covered_share(bare_dist, weight, THRESHOLDS_M)
    assert np.allclose(ours_share["share_covered"], check["share_covered"], rtol=0, atol=1e-12)  # type: ignore[index]
    times: dict[str, list[float]] = {"bare": [], "ours": []}
    for _ in range(args.repeat):
        for name, fn in runs.items():
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
    best = {k: min(v) for k, v in times.items()}
    mem = {k: memory(k, args.n_demand, args.n_facilities) for k in runs}
    ratio = best["ours"] / best["bare"]
    verdict = "erreicht" if ratio <= 1.5 else "verfehlt"
    lines = [
        "## Distance coverage (KD-tree)",
        "",
        f"{args.n_demand:,} demand points × {args.n_facilities:,} facilities, uniform in the NRW bounding box "
        f"(EPSG:25832, seed {SEED}); thresholds {', '.join(f'{t / 1000:g}' for t in THRESHOLDS_M)} km. "
        f"Best of {args.repeat} alternating runs; memory in a fresh subprocess per variant.",
        "",
        "| Variant | Time (s) | Peak RSS above inputs (MB) | tracemalloc peak (MB) |",
        "|---|---:|---:|---:|",
        f"| bare `cKDTree(fac).query(dem, workers=-1)` | {best['bare']:.3f} | {mem['bare']['rss_peak_mb']:.0f} | "
        f"{mem['bare']['traced_peak_mb']:.0f} |",
        f"| `nearest_distance` + `covered_share` (GeoDataFrames) | {best['ours']:.3f} | "
        f"{mem['ours']['rss_peak_mb']:.0f} | {mem['ours']['traced_peak_mb']:.0f} |",
        "",
        f"**Ratio: {ratio:.2f}×** the bare query (target ≤ 1.5×: {verdict}). Covered shares are identical to "
        "those computed from the bare query's distances.",
        "",
        f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPU(s), Python "
        f"{platform.python_version()}, NumPy {np.__version__}, SciPy {scipy.__version__}, "
        f"GeoPandas {gpd.__version__}. Reproduce: `python benchmarks/bench_coverage.py`.",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
