"""A Land-wide 100 m result for the Karte: every 100 m cell of NRW, straight line to the nearest facility.

Run after the example batch (its data store has the OGS layer from the MSB
school data and the Destatis Gemeinde population)::

    python -m integrationsatlas.cli batch examples/batch_kreise.toml -o /tmp/kreise
    python benchmarks/landwide_grid.py --home /tmp/kreise/daten --layer ogs --threshold 2 \
        -o /tmp/kreise/daten/ergebnisse/ogs_luftlinie_100m.parquet

Cells: every 100 m grid cell whose centre lies inside a Gemeinde (embedded
boundaries), about 3.4 million. People: the Gemeinde's population spread
evenly over its cells – **not** the Zensus grid (none is available here), so
the weights of the coarse zoom levels are only as fine as a Gemeinde. Cost:
straight-line km (no NRW street network is available here either; a walking
result needs one). The description stored in the file says all this. The
file is derived from ``../shared/data``: never commit it.

Prints the seconds for the grid, the distances, the file and the pyramid
(``--pyramid``), with the load average.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

NOTE = (
    "Zellen: alle 100-m-Zellen der Gemeinden; Einwohner: die der Gemeinde gleichmäßig auf ihre Zellen verteilt "
    "(kein Zensus-Raster); Entfernung: Luftlinie."
)


def main(argv: list[str] | None = None) -> int:
    from geo.layers.loading import load_layer
    from geo.settings import Settings
    from geo.sources.destatis import load_gemeinde_population
    from geo.units import load_boundaries
    from integrationsatlas.landwide import grid_cells, result_pyramid, save_grid_result, straight_line_grid
    from integrationsatlas.request import AnalysisRequest, AreaRef

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--home", type=Path, required=True, help="home with the store (layer and Gemeinde population)")
    p.add_argument("--layer", default="ogs")
    p.add_argument("--threshold", type=float, default=2.0, help="km straight line")
    p.add_argument("-o", "--out", type=Path, required=True)
    p.add_argument("--pyramid", action="store_true", help="render the image pyramid into the home's cache too")
    args = p.parse_args(argv)
    settings = Settings().with_home(args.home)
    print(f"load {os.getloadavg()[0]:.1f}", flush=True)
    t0 = time.perf_counter()
    gemeinden = load_boundaries("gemeinde", settings)
    table = load_gemeinde_population(settings)
    population = (
        table["population"].astype("float64") if table is not None else gemeinden.set_index("ags")["population"]
    )
    cells = grid_cells(gemeinden, population)
    t1 = time.perf_counter()
    print(f"{len(cells):,} cells in {t1 - t0:.1f} s", flush=True)
    facilities = load_layer(args.layer, settings)
    request = AnalysisRequest(args.layer, args.threshold, area=AreaRef("05"), by="gemeinde", demand="gemeinde")
    result = straight_line_grid(cells, facilities, args.threshold)
    t2 = time.perf_counter()
    print(f"{len(facilities):,} facilities, distances in {t2 - t1:.1f} s", flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    title = f"{args.layer}: km Luftlinie (100 m, NRW)"
    save_grid_result(result, request, args.out, title, NOTE, overwrite=True)
    t3 = time.perf_counter()
    print(f"{args.out} ({args.out.stat().st_size / 1e6:.0f} MB) in {t3 - t2:.1f} s", flush=True)
    if args.pyramid:
        pyramid = result_pyramid(args.out, settings.cache_dir)
        t4 = time.perf_counter()
        print(
            f"pyramid {pyramid.folder}: {pyramid.tiles:,} tiles with data, {pyramid.empty:,} empty, "
            f"zooms {pyramid.zooms[0]}–{pyramid.zooms[-1]}, {t4 - t3:.0f} s, load {os.getloadavg()[0]:.1f}",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
