"""Benchmark: the offline background map from an OSM extract (geo.sources.osm_background).

Each variant runs in a fresh subprocess (time and peak RSS from ``VmHWM``):

* **imports only** – the baseline: Python with geopandas, shapely, pyosmium and
  :mod:`geo.sources.streets` (the cache key, ≈ 1 s for osmnx) loaded, as in the app; timings start after it;
* **read PBF** – :func:`geo.sources.osm_background.background_from_file` on the Aachen ``.osm.pbf``;
* **read XML (bz2)** – the same data as OSM XML, bz2-compressed;
* **cached re-open** – :func:`cached_background` in a new process with the GeoParquet cache
  on disk (includes hashing the file, the cache key);
* **payload** – :func:`ui.map_background.background_payload`: the JSON the browser receives.

Data: ``../shared/data/osm/aachen.osm.pbf`` and ``aachen.osm.bz2`` (central Aachen, 8.6 × 5.4 km,
ODbL). Run ``python benchmarks/bench_osm_background.py``; writes
``benchmarks/results/osm_background.md``.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

from _report import machine, write_section

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "data" / "osm"
OUT = ROOT / "benchmarks" / "results" / "osm_background.md"

WORKER = r"""
import json, sys, time
from pathlib import Path
import geopandas, shapely, osmium  # noqa: F401  (the baseline loads the same libraries)
import geo.sources.streets  # noqa: F401  (content_hash, the cache key; loaded in the app anyway, ≈1 s for osmnx)
from geo.settings import Settings
from geo.sources.osm_background import background_from_file, cached_background
from ui.map_background import background_payload, payload_bytes

def peak_mib():
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")

variant, path, home = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
out = {"variant": variant, "rss0": peak_mib()}
t0 = time.perf_counter()
if variant == "read":
    bg = background_from_file(path)
elif variant in ("warm", "cached"):
    bg = cached_background(path, Settings().with_home(home))
else:
    bg = None
out["seconds"] = time.perf_counter() - t0
if bg is not None:
    out["counts"] = {k: int(v) for k, v in bg["kind"].value_counts().items()}
    t1 = time.perf_counter()
    payload = background_payload(bg)
    out["payload_s"] = time.perf_counter() - t1
    out["payload_bytes"] = payload_bytes(payload)
out["rss"] = peak_mib()
print(json.dumps(out))
"""


def run(variant: str, path: Path, home: Path) -> dict:
    proc = subprocess.run(
        [sys.executable, "-c", WORKER, variant, str(path), str(home)],
        capture_output=True, text=True, check=True, cwd=ROOT,
    )  # fmt: skip
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    pbf, xml = SHARED / "aachen.osm.pbf", SHARED / "aachen.osm.bz2"
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        rows = [
            ("imports only (baseline)", run("none", pbf, home)),
            ("read PBF (3.3 MB)", run("read", pbf, home)),
            ("read XML bz2 (4.9 MB)", run("read", xml, home)),
            ("first cached_background (read + write cache)", run("warm", pbf, home)),
            ("cached re-open, new process", run("cached", pbf, home)),
        ]
    lines = [
        "## Offline background map from an OSM extract",
        "",
        f"Machine: {machine()}",
        "",
        "| variant | seconds | peak RSS MiB (Δ to start) | payload bytes | payload s |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, r in rows:
        payload = f"{r['payload_bytes']:,}" if "payload_bytes" in r else "–"
        pay_s = f"{r['payload_s']:.2f}" if "payload_s" in r else "–"
        lines.append(
            f"| {name} | {r['seconds']:.2f} | {r['rss']:.0f} (+{r['rss'] - r['rss0']:.0f}) | {payload} | {pay_s} |"
        )
    counts = rows[1][1]["counts"]
    lines += [
        "",
        "Features per kind (Aachen PBF, after 5 m simplification, areas ≥ 2,000 m²): "
        + ", ".join(f"{k} {v:,}" for k, v in sorted(counts.items(), key=lambda kv: -kv[1])),
        "",
        "*Δ to start* is the peak RSS growth from the process state after the imports. "
        "Reproduce: `python benchmarks/bench_osm_background.py` (needs `../shared/data`).",
        "",
    ]
    write_section("\n".join(lines), OUT)


if __name__ == "__main__":
    main()
