"""Generated Gemeinde boundary files for fuzzing ``integrationsatlas import --layer gemeinde``.

The polygons are embedded NRW Gemeinden (``data/boundaries``), simplified by a
random tolerance; population figures are synthetic. Valid files come as
GeoJSON (WGS84), GeoPackage (UTM 32) or Shapefile-ZIP (with or without a
``.cpg``: a UTF-8 DBF without one must be read as UTF-8), with or without
``EWZ`` or OpenDataLab's nested ``destatis`` object; each knows its rows and
names. Hostile files carry one known defect each (the issue's findings among
them: UTM coordinates without a CRS, boundaries shifted out of NRW, a UTF-8
shapefile read with the wrong encoding, a DBF header lying about its rows,
a second GeoPackage layer, AGS with letters, control characters in names).
"""

from __future__ import annotations

import json
import random
import shutil
import zipfile
from collections.abc import Callable
from pathlib import Path

import fuzz_common as cm
import fuzz_corpus as fc
import geopandas as gpd
import pyogrio
import shapely
from fuzz_runner import Job


def frame(rng: random.Random, k: int | None = None) -> gpd.GeoDataFrame:
    """``k`` embedded Gemeinden (EPSG:25832) with AGS, GEN, BEZ and a synthetic EWZ."""
    chosen = rng.sample(cm.gemeinden(), k or rng.randint(1, 6))
    tolerance = rng.choice([0.0, 20.0, 200.0])
    geoms = [shapely.simplify(g, tolerance) if tolerance else g for *_, g in chosen]
    return gpd.GeoDataFrame(
        {
            "AGS": [a for a, *_ in chosen],
            "GEN": [n for _, n, _ in chosen],
            "BEZ": [rng.choice(["Stadt", "Gemeinde"]) for _ in chosen],
            "EWZ": [rng.randint(4_000, 1_100_000) for _ in chosen],
        },
        geometry=geoms,
        crs="EPSG:25832",
    )


def write(path: Path, gdf: gpd.GeoDataFrame, *, cpg: bool = True, tamper: Callable | None = None) -> Path:
    """Write ``gdf`` in the format of ``path``'s suffix (``.geojson`` in WGS84, ``.gpkg``, ``.zip`` Shapefile)."""
    if path.suffix == ".geojson":
        gdf.to_crs("EPSG:4326").to_file(path, driver="GeoJSON")
    elif path.suffix == ".gpkg":
        pyogrio.write_dataframe(gdf, path, layer="gemeinden", driver="GPKG")
    else:
        folder = path.parent / f"_{path.stem}"
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir()
        pyogrio.write_dataframe(gdf, folder / "gemeinden.shp", driver="ESRI Shapefile", encoding="UTF-8")
        parts = {p.name: p.read_bytes() for p in sorted(folder.iterdir())}
        if not cpg:
            parts.pop("gemeinden.cpg", None)
        if tamper is not None:
            tamper(parts)
        cm.write_zip(path, parts)
        shutil.rmtree(folder)
    return path


def valid(folder: Path, rng: random.Random, i: int) -> Job:
    gdf = frame(rng)
    if rng.random() < 0.3:  # population only in OpenDataLab's nested object
        gdf["destatis"] = [json.dumps({"population": int(v)}) for v in gdf["EWZ"]]
        gdf = gdf.drop(columns=["EWZ"])
    suffix = rng.choice([".geojson", ".gpkg", ".zip"])
    cpg = rng.random() < 0.5
    path = write(folder / f"v{i:05d}{suffix}", gdf, cpg=cpg)
    options = {"names": sorted(gdf["GEN"])}
    return Job(path.name, "boundary", (str(path),), "accept", f"valid{'' if cpg else ' no .cpg'}", options,
               {"rows_kept": len(gdf)})  # fmt: skip


# --- defects: ``(folder, rng, name) -> Job`` each, one file with that defect ------------------------


def _job(path: Path, kind: str) -> Job:
    return Job(path.name, "boundary", (str(path),), "refuse", kind)


def column(col: str, value: object, kind: str, suffix: str = ".geojson") -> Callable[[Path, random.Random, str], Job]:
    def make(f: Path, r: random.Random, n: str) -> Job:
        gdf = frame(r)
        gdf[col] = gdf[col].astype(object)
        gdf.loc[gdf.index[r.randrange(len(gdf))], col] = value
        return _job(write(f / f"{n}{suffix}", gdf), kind)

    return make


def utm_without_crs(f: Path, r: random.Random, n: str) -> Job:
    gdf = frame(r)
    doc = json.loads(gdf.to_json())
    doc.pop("crs", None)  # coordinates in metres without a "crs" member: GeoJSON then means WGS84
    path = f / f"{n}.geojson"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return _job(path, "crs")


def shifted(dx: float, dy: float) -> Callable[[Path, random.Random, str], Job]:
    def make(f: Path, r: random.Random, n: str) -> Job:
        gdf = frame(r)
        gdf["geometry"] = gdf.geometry.translate(dx, dy)
        return _job(write(f / f"{n}{r.choice(['.geojson', '.gpkg'])}", gdf), "outside NRW")

    return make


def duplicate(f: Path, r: random.Random, n: str) -> Job:
    gdf = frame(r, 3)
    gdf.loc[gdf.index[1], "AGS"] = gdf["AGS"].iloc[0]
    return _job(write(f / f"{n}.geojson", gdf), "duplicate key")


def drop(col: str) -> Callable[[Path, random.Random, str], Job]:
    def make(f: Path, r: random.Random, n: str) -> Job:
        return _job(write(f / f"{n}.geojson", frame(r).drop(columns=[col])), "schema")

    return make


def infinite(f: Path, r: random.Random, n: str) -> Job:
    gdf = frame(r, 2)
    text = gdf.to_crs("EPSG:4326").to_json()
    doc = json.loads(text)
    ring = doc["features"][0]["geometry"]["coordinates"][0]
    ring = ring[0] if isinstance(ring[0][0], list) else ring
    ring[1] = [ring[1][0], 1e400]
    path = f / f"{n}.geojson"
    path.write_text(json.dumps(doc).replace("Infinity", "1e999"), encoding="utf-8")
    return _job(path, "geometry")


def points(f: Path, r: random.Random, n: str) -> Job:
    gdf = frame(r)
    gdf["geometry"] = gdf.geometry.representative_point()
    return _job(write(f / f"{n}.gpkg", gdf), "geometry")


def no_prj(f: Path, r: random.Random, n: str) -> Job:
    return _job(write(f / f"{n}.zip", frame(r), tamper=lambda p: p.pop("gemeinden.prj")), "crs")


def garbage_prj(f: Path, r: random.Random, n: str) -> Job:
    def tamper(parts: dict[str, bytes]) -> None:
        parts["gemeinden.prj"] = b'LOCAL_CS["Unbekannt",UNIT["m",1]]'

    return _job(write(f / f"{n}.zip", frame(r), tamper=tamper), "crs")


def dbf_lies(f: Path, r: random.Random, n: str) -> Job:
    def tamper(parts: dict[str, bytes]) -> None:
        raw = bytearray(parts["gemeinden.dbf"])
        count = int.from_bytes(raw[4:8], "little")
        raw[4:8] = max(count - 1, 0).to_bytes(4, "little")
        parts["gemeinden.dbf"] = bytes(raw)

    return _job(write(f / f"{n}.zip", frame(r, r.randint(2, 5)), tamper=tamper), "dbf")


def second_layer(f: Path, r: random.Random, n: str) -> Job:
    path = write(f / f"{n}.gpkg", frame(r))
    pyogrio.write_dataframe(frame(r), path, layer="alt", driver="GPKG", append=False)
    return _job(path, "ambiguous layers")


def two_shapefiles(f: Path, r: random.Random, n: str) -> Job:
    path = write(f / f"{n}.zip", frame(r))
    with zipfile.ZipFile(path) as zf:
        parts = {name: zf.read(name) for name in zf.namelist()}
    parts |= {name.replace("gemeinden", "alt"): data for name, data in parts.items()}
    return _job(cm.write_zip(path, parts), "ambiguous layers")


def json_array_name(f: Path, r: random.Random, n: str) -> Job:
    doc = json.loads(frame(r).to_crs("EPSG:4326").to_json())
    doc["features"][0]["properties"]["GEN"] = ["Köln", "Bonn"]
    path = f / f"{n}.geojson"
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return _job(path, "json type")


def surrogate_name(f: Path, r: random.Random, n: str) -> Job:
    doc = json.loads(frame(r).to_crs("EPSG:4326").to_json())
    doc["features"][0]["properties"]["GEN"] = "Köln"
    path = f / f"{n}.geojson"
    path.write_text(json.dumps(doc).replace("K\\u00f6ln", "K\\ud800ln"), encoding="utf-8")
    return _job(path, "encoding")


def nested(f: Path, r: random.Random, n: str) -> Job:
    path = f / f"{n}.geojson"
    path.write_text('{"type": "FeatureCollection", "features": [' + "[" * 5000 + "]" * 5000 + "]}", encoding="utf-8")
    return _job(path, "nesting")


def bomb(f: Path, r: random.Random, n: str) -> Job:
    path = fc._zip_stream(
        f / f"{n}.zip",
        {"g.shp": b"\0" * 100, "g.shx": b"\0" * 100, "g.prj": b"", "g.dbf": cm.ratio_bomb_member(320 << 20)},
    )
    return _job(path, "bomb")


def empty(f: Path, r: random.Random, n: str) -> Job:
    path = f / f"{n}.geojson"
    path.write_text('{"type": "FeatureCollection", "features": []}', encoding="utf-8")
    return _job(path, "empty")


DEFECTS: dict[str, Callable[[Path, random.Random, str], Job]] = {
    "utm_without_crs": utm_without_crs,
    "shifted_east_300km": shifted(300_000, 0),
    "shifted_north_200km": shifted(0, 200_000),
    "ags_not_nrw": column("AGS", "06411000", "outside NRW"),
    "ags_letters": column("AGS", "05A15000", "key"),
    "ags_length": column("AGS", "123", "key"),
    "duplicate_ags": duplicate,
    "missing_ags": drop("AGS"),
    "missing_gen": drop("GEN"),
    "ewz_1e12": column("EWZ", 10**12, "implausible", ".gpkg"),
    "ewz_negative": column("EWZ", -5, "value", ".gpkg"),
    "ewz_2p63": column("EWZ", "9223372036854775808", "integer range"),
    "gen_control": column("GEN", "Köln\x07Porz", "control"),
    "json_array_name": json_array_name,
    "surrogate_name": surrogate_name,
    "infinite_coordinate": infinite,
    "points_not_areas": points,
    "shapefile_without_prj": no_prj,
    "shapefile_unknown_crs": garbage_prj,
    "dbf_header_lies": dbf_lies,
    "second_gpkg_layer": second_layer,
    "two_shapefiles": two_shapefiles,
    "deep_nesting": nested,
    "zip_bomb": bomb,
    "empty": empty,
}


def hostile(folder: Path, rng: random.Random, per_defect: int = 1) -> list[Job]:
    """``per_defect`` files of every defect (expect a refusal)."""
    return cm.hostile_jobs(DEFECTS, folder, rng, per_defect)


def generate(folder: Path, n: int, rng: random.Random) -> list[Job]:
    """``n`` cases: about a quarter valid files, half with one defect, a quarter byte mutants."""
    return cm.generated_jobs(valid, DEFECTS, folder, n, rng)
