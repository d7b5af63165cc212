"""Benchmark: streaming import of Germany-wide Zensus 2022 100 m files, cut to NRW; OSM building estimate.

The Zensus files are **generated** here (the real ones are not in ../shared/data): a Germany-wide 100 m
grid of about 3 million populated cells per theme in the real Destatis layout (``GITTER_ID_100m;x_mp_100m;
y_mp_100m;…``, ``;`` separator, decimal comma, EN DASH for about 1 % secret values per column, a
``werterlaeuternde_Zeichen`` column with ``KLAMMERN``), each CSV inside a ZIP as Destatis publishes it.
Cells are drawn at random (fixed seed) from the INSPIRE 100 m cells of Germany's bounding box, so about
15 % of them fall in the NRW box.

Per theme, in a fresh subprocess each (time and peak RSS of that process):

* ours: :func:`geo.sources.zensus_files.read_theme_file` on the ZIP with the NRW box (pyarrow
  streaming reader, each block cut to the box with Arrow kernels, only kept rows parsed and checked,
  ``int32``/``float32`` columns; target ≤ 90 s and ≤ 2 GB);
* baseline: ``pandas.read_csv`` of the whole file (the same ZIP; ``sep=";"``, ``decimal=","``,
  ``na_values="–"``, numeric columns parsed by the C parser, no row checks), then the same NRW box filter.

Both must keep the same number of cells. For the population theme the full
:func:`geo.sources.zensus.import_zensus` (read, Kreis assignment, store) is timed as well.
Finally the dasymetric estimate for Aachen (buildings from ``../shared/data/osm/aachen.osm.pbf`` +
Destatis 2019 population) is timed.

Run ``python benchmarks/bench_zensus.py`` (first run generates the files, about 2 minutes, into
``--work``); writes ``benchmarks/results/zensus.md``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
from _report import machine, write_section

ROOT = Path(__file__).resolve().parent.parent
HERE = Path(__file__).resolve().parent
SHARED = ROOT.parent / "shared" / "data"
SEED = 20_220_515
N_CELLS = 3_000_000
#: Germany's bounding box in EPSG:3035 (metres).
DE_BOX = (4_030_000, 2_680_000, 4_680_000, 3_550_000)
AGE_COLUMNS = (
    "Unter3",
    "a3bis5",
    "a6bis9",
    "a10bis15",
    "a16bis18",
    "a19bis24",
    "a25bis39",
    "a40bis59",
    "a60bis66",
    "a67bis74",
    "a75undaelter",
)
THEMES = {
    "bevoelkerung": "Zensus2022_Bevoelkerungszahl_100m-Gitter.csv",
    "auslaender": "Zensus2022_Auslaenderanteil_in_Gitterzellen_100m-Gitter.csv",
    "alter_infra": "Zensus2022_Alter_in_infrastrukturellen_Altersgruppen_100m-Gitter.csv",
}


def generate(work: Path) -> dict[str, Path]:
    """Write the three generated Germany-wide 100 m theme ZIPs (skipped when present)."""
    work.mkdir(parents=True, exist_ok=True)
    out = {theme: work / (name[:-4] + ".zip") for theme, name in THEMES.items()}
    if all(p.exists() for p in out.values()):
        return out
    rng = np.random.default_rng(SEED)
    ncol = (DE_BOX[2] - DE_BOX[0]) // 100
    nrow = (DE_BOX[3] - DE_BOX[1]) // 100
    flat = np.sort(rng.choice(ncol * nrow, size=N_CELLS, replace=False))
    e = DE_BOX[0] + (flat % ncol) * 100
    n = DE_BOX[1] + (flat // ncol) * 100
    ids = "CRS3035RES100mN" + pd.Series(n).astype(str) + "E" + pd.Series(e).astype(str)
    base = pd.DataFrame({"GITTER_ID_100m": ids, "x_mp_100m": e + 50, "y_mp_100m": n + 50})
    pop = np.maximum(1, rng.lognormal(3.0, 1.1, N_CELLS).astype(np.int64))
    secret = rng.random(N_CELLS) < 0.02
    flags = np.where(rng.random(N_CELLS) < 0.05, "KLAMMERN", "")

    def text(values: np.ndarray, decimals: int = 0) -> pd.Series:
        s = pd.Series(values).round(decimals).astype(str) if decimals else pd.Series(values).astype(str)
        s = s.str.replace(".", ",", regex=False)
        return s.mask(secret & (rng.random(N_CELLS) < 0.5), "–")

    frames = {
        "bevoelkerung": base.assign(Einwohner=pd.Series(pop).astype(str), werterlaeuternde_Zeichen=flags),
        "auslaender": base.assign(
            AnteilAuslaender=text(rng.beta(1.2, 8.0, N_CELLS) * 100, 1), werterlaeuternde_Zeichen=flags
        ),
        "alter_infra": base.assign(
            Insgesamt_Bevoelkerung=pd.Series(pop).astype(str),
            **{
                col: text(rng.binomial(pop, p))
                for col, p in zip(
                    AGE_COLUMNS, (0.03, 0.03, 0.04, 0.06, 0.03, 0.07, 0.19, 0.28, 0.09, 0.08, 0.10), strict=True
                )
            },
        ),
    }
    for theme, frame in frames.items():
        csv = work / THEMES[theme]
        frame.to_csv(csv, sep=";", index=False, encoding="utf-8")
        with zipfile.ZipFile(out[theme], "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
            archive.write(csv, THEMES[theme])
    return out


CHILD = {
    "ours": """
from geo.sources.zensus_files import read_theme_file, csv_members, NRW_BBOX_3035
t = read_theme_file(PATH, csv_members(PATH)[0], bbox=NRW_BBOX_3035)
cells, rows = len(t.cells), t.rows_in
""",
    "baseline": """
import pandas as pd
from geo.sources.zensus_files import NRW_BBOX_3035 as B
df = pd.read_csv(PATH, sep=";", decimal=",", na_values=["–"], keep_default_na=False)
x, y = df.iloc[:, 1], df.iloc[:, 2]
cells, rows = int(((x >= B[0]) & (x <= B[2]) & (y >= B[1]) & (y <= B[3])).sum()), len(df)
""",
    "import": """
from geo.settings import Settings
from geo.sources.zensus import import_zensus
s = Settings().with_home(WORK / "home")
r = import_zensus(PATH, s)
cells, rows = r.cells_nrw, r.rows_in
""",
    "dasymetric": """
import geopandas as gpd
from geo.settings import Settings
from geo.layers.loading import load_layer
from geo.sources.buildings import buildings_from_file, extract_coverage
from geo.sources.destatis import read_gemeinde_population
from planning.dasymetric import dasymetric_grid
pbf = SHARED / "osm" / "aachen.osm.pbf"
b = buildings_from_file(pbf)
g = gpd.read_file(SHARED / "boundaries" / "nrw_gemeinden_vg250_simplify200.geojson").to_crs("EPSG:25832")
pop = read_gemeinde_population(SHARED / "population" / "nrw_gemeinden_destatis_gv_2019.csv").table
g = g.rename(columns={"AGS": "ags"})[["ags", "geometry"]].merge(pop[["ags", "population"]], on="ags")
r = dasymetric_grid(b, g, coverage=extract_coverage(pbf), places=load_layer("orte", Settings()))
cells, rows = len(r.fine_cells), len(b)
""",
}


def run_child(variant: str, **paths: Path) -> dict[str, float]:
    """Run one variant in a fresh interpreter; wall time of the work and the process's peak RSS.

    Peak RSS is ``VmHWM`` of the child (``ru_maxrss`` would carry over the parent's peak through fork).
    """
    setup = "".join(f"{k} = Path({str(v)!r})\n" for k, v in paths.items())
    code = (
        "import json, sys, time\nfrom pathlib import Path\n"
        f"sys.path.insert(0, {str(ROOT)!r})\n{setup}t0 = time.perf_counter()\n{CHILD[variant]}\n"
        "wall = time.perf_counter() - t0\n"
        "hwm = next(int(l.split()[1]) for l in open('/proc/self/status') if l.startswith('VmHWM:'))\n"
        "print(json.dumps({'wall_s': wall, 'rss_mb': hwm / 1024, 'cells': cells, 'rows': rows}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True, cwd=ROOT)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--work", type=Path, default=Path("/tmp/integrationsatlas-bench-zensus"))
    p.add_argument("--out", type=Path, default=HERE / "results" / "zensus.md")
    args = p.parse_args(argv)
    t0 = time.perf_counter()
    zips = generate(args.work)
    t_gen = time.perf_counter() - t0
    lines = [
        "## Zensus 2022 100 m import (streamed, cut to NRW) and OSM building estimate",
        "",
        f"Machine: {machine()}",
        "",
        f"Input: **generated** Germany-wide 100 m files in the real Destatis layout, {N_CELLS:,} cells per theme "
        f"(random INSPIRE cells of Germany's box, fixed seed {SEED}; about 1 % EN DASH per value column, "
        f"5 % KLAMMERN), one CSV per ZIP; "
        + (f"generated in {t_gen:.0f} s (not timed below). " if t_gen >= 1 else "generated by an earlier run. ")
        + "Each variant in a fresh subprocess; peak RSS of that process.",
        "",
        "| theme | CSV size | variant | time (s) | peak RSS (MB) | rows read | NRW cells |",
        "|---|---:|---|---:|---:|---:|---:|",
    ]
    results: dict[str, dict[str, dict[str, float]]] = {}
    for theme, zpath in zips.items():
        csv = args.work / THEMES[theme]
        size = f"{csv.stat().st_size / 1e6:.0f} MB"
        results[theme] = {
            "ours": run_child("ours", PATH=zpath),
            "baseline": run_child("baseline", PATH=zpath),
        }
        if theme == "bevoelkerung":
            results[theme]["import"] = run_child("import", PATH=zpath, WORK=args.work)
        for variant, label in (
            ("ours", "ours: read_theme_file(ZIP, NRW box), streamed"),
            ("baseline", "baseline: pandas.read_csv(whole ZIP) + filter"),
            ("import", "ours: import_zensus (read + Kreise + store)"),
        ):
            if variant not in results[theme]:
                continue
            r = results[theme][variant]
            lines.append(
                f"| {theme} | {size} | {label} | {r['wall_s']:.1f} | {r['rss_mb']:.0f} | "
                f"{int(r['rows']):,} | {int(r['cells']):,} |"
            )
        same = results[theme]["ours"]["cells"] == results[theme]["baseline"]["cells"]
        if not same:
            lines.append(f"| {theme} | | **cell counts differ** | | | | |")
    lines += [
        "",
        "Targets per theme: ≤ 90 s and ≤ 2 GB peak RSS. "
        + "; ".join(
            f"{t}: {r['ours']['wall_s']:.0f} s / {r['ours']['rss_mb']:.0f} MB vs baseline "
            f"{r['baseline']['wall_s']:.0f} s / {r['baseline']['rss_mb']:.0f} MB "
            f"({r['baseline']['rss_mb'] / r['ours']['rss_mb']:.1f}× the memory)"
            for t, r in results.items()
        )
        + ".",
    ]
    if (SHARED / "osm" / "aachen.osm.pbf").exists():
        d = run_child("dasymetric", SHARED=SHARED)
        lines += [
            "",
            f"OSM building estimate for Aachen (read {int(d['rows']):,} buildings from aachen.osm.pbf, "
            f"dasymetric 100 m cells with the Destatis 2019 population): {d['wall_s']:.1f} s, "
            f"peak RSS {d['rss_mb']:.0f} MB, {int(d['cells']):,} populated 100 m cells.",
        ]
    lines += [
        "",
        "Reproduce: `.venv/bin/python benchmarks/bench_zensus.py` (the generated files are cached in "
        "`--work`, default `/tmp/integrationsatlas-bench-zensus`).",
        "",
    ]
    write_section("\n".join(lines), args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
