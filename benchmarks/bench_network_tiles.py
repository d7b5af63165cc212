"""Benchmark: the tiled street-network build on a SYNTHETIC NRW-like extract, and its reopening from the cache.

Input: ``benchmarks/data/SYNTHETIC_nrw_KxK.osm.pbf`` from ``benchmarks/synthetic_nrw.py --side K``: the
real central-Aachen extract copied K × K times across the middle of NRW (**synthetic data**; K = 15 is the
size of Geofabrik's NRW file). Each step runs in its own child process, so its peak memory (``ru_maxrss``)
is its own:

1. build: one streaming pass, spilled per Kreis tile, every tile built and cached (cold cache);
2. reopen: the tile index and every tile of the Land read back from the cache;
3. one Kreis: the tiles of the Kreis with the most nodes read back (what a Kreis question opens).

Run ``nice python benchmarks/bench_network_tiles.py --side 5`` (the synthetic file is written first when it
is missing). Prints seconds, peak MiB, nodes and the load average per step.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def step(kind: str, pbf: Path, cache: Path) -> dict[str, object]:
    """One step in this process (called in a child)."""
    from geo.settings import Settings
    from geo.sources.network_tiles import TileSet
    from geo.sources.streets import tile_set

    settings = replace(Settings().with_home(cache), network_tile_bytes=0)
    load = os.getloadavg()[0]
    t0 = time.perf_counter()
    tiles = tile_set("walk", settings, pbf)
    if kind == "build":
        nodes = sum(t.nodes for t in tiles.tiles)
        out: dict[str, object] = {"tiles": len(tiles.tiles), "tile_nodes": nodes}
    else:
        again = TileSet.read(tiles.folder)
        assert again is not None
        codes = [t.code for t in again.tiles]
        if kind == "kreis":
            codes = [max(again.tiles, key=lambda t: t.nodes).code]
        net = again.load(codes)
        out = {"tiles_opened": len(codes), "nodes": net.n_nodes}
    out |= {
        "step": kind,
        "seconds": round(time.perf_counter() - t0, 2),
        "peak_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "load": round(load, 1),
    }
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--side", type=int, default=5, help="copies per side of the synthetic extract (15: NRW size)")
    p.add_argument("--step", choices=("build", "reopen", "kreis"), help=argparse.SUPPRESS)
    p.add_argument("--pbf", type=Path, help=argparse.SUPPRESS)
    p.add_argument("--cache", type=Path, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.step:
        print(json.dumps(step(args.step, args.pbf, args.cache)))
        return 0
    from synthetic_nrw import main as make_synthetic
    from synthetic_nrw import paths

    pbf = paths(args.side)["pbf"]
    if not pbf.exists():
        make_synthetic(["--side", str(args.side), "--pbf-only"])
    print(f"SYNTHETIC extract {pbf.name}: {pbf.stat().st_size / 1e6:.0f} MB", flush=True)
    cache = Path(tempfile.mkdtemp(prefix="bench-tiles-"))
    try:
        for kind in ("build", "reopen", "kreis"):
            cmd = [sys.executable, __file__, "--step", kind, "--pbf", str(pbf), "--cache", str(cache)]
            out = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=ROOT)
            if out.returncode:
                print(out.stderr, file=sys.stderr)
                return out.returncode
            print(out.stdout.strip().splitlines()[-1], flush=True)
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
