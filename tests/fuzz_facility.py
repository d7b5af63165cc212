"""Generated facility files for fuzzing ``integrationsatlas import --layer kita``: random valid rows, defects.

Adds to the fixed corpus of :mod:`fuzz_corpus` (its seeds, hostile cases and
byte mutants) random valid files in every format (synthetic Kitas at random
places in NRW, names with accents of every kind, ``Käpt´n`` among them, UTF-8
Shapefiles without ``.cpg``) and the defects the issue found, each on random
rows: a lone UTF-16 surrogate, a name that is a JSON array, ``"1.000"``
places, a second GeoPackage layer, a second or hidden XLSX sheet, facilities
in the Netherlands, a DBF header lying about its rows, AGS with letters,
control characters in names, longitude 366, ``plaetze: true``.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from pathlib import Path

import fuzz_common as cm
import fuzz_corpus as fc
import pyogrio
from fuzz_runner import Job

NAMES = (
    "Kita am Dom",
    "Käpt´n Blaubär",
    "Kita Ölbergstraße",
    "Crèche Saint-Éloi",
    "Børnehave Ærø",
    "Guardería Niño Jesús",
    "Kita „Sonnenschein“",
    "Familienzentrum Groß & Klein",
    "Przedszkole Łąka",
    "Çocuk Yuvası",
    "Детский сад",
    "幼稚園",
    "Kita <b>fett</b>",
)
HEADER = ["id", "name", "plz", "lon", "lat", "plaetze"]
Rows = tuple[tuple[object, ...], ...]


def random_rows(rng: random.Random, k: int | None = None) -> Rows:
    """``k`` synthetic Kitas at random places in NRW: ``(id, name, plz, lon, lat, plaetze)``."""
    k = k or rng.randint(1, 12)
    places = cm.lonlat(cm.nrw_points(rng, k))
    return tuple(
        (f"K{i}", rng.choice(NAMES), f"{rng.randint(32000, 59999):05d}", lon, lat, rng.randint(5, 180))
        for i, (lon, lat) in enumerate(places)
    )


def _job(path: Path, expect: str, kind: str, rows: Rows | None = None) -> Job:
    options: dict[str, object] = {"layer": "kita"}
    if rows is not None:
        options["rows"] = [list(r) for r in rows]
    return Job(path.name, "facility", (str(path),), expect, kind, options)


def write_rows(
    path: Path, rows: Rows, rng: random.Random | None = None, *, cpg: bool = True, crs: str = "EPSG:25832"
) -> Path:
    """Write ``rows`` in the format of the suffix (``.csv``, ``.xlsx``, ``.geojson``, ``.gpkg``, ``.zip``).

    GeoPackages and Shapefiles are written in ``crs``; a defect in degrees (longitude 366) needs
    EPSG:4326, as reprojecting would wrap it into a valid longitude (366.95° is 6.95°).
    """
    suffix = path.suffix
    if suffix == ".csv":
        sep, dec = rng.choice([(";", ","), (",", ".")]) if rng else (";", ",")
        text = fc._csv_text(rows, sep, dec, header=";".join(HEADER))
        encoding = rng.choice(["utf-8", "utf-8-sig"]) if rng else "utf-8"
        path.write_bytes(text.encode(encoding))
    elif suffix == ".xlsx":
        fc.write_xlsx(path, [HEADER, *map(list, rows)])
    elif suffix == ".geojson":
        fc.write_geojson(path, rows)
    elif suffix == ".gpkg":
        pyogrio.write_dataframe(fc._gdf(rows, crs), path, layer="kita", driver="GPKG")
    else:
        gdf = fc._gdf(rows, crs)
        tamper = None if cpg else (lambda parts: parts.pop("kitas.cpg", None))
        fc.write_shapefile_zip(path, gdf, path.parent, tamper=tamper)
    return path


def valid(folder: Path, rng: random.Random, i: int) -> Job:
    rows = random_rows(rng)
    suffix = rng.choice([".csv", ".csv", ".xlsx", ".geojson", ".gpkg", ".zip"])
    if suffix == ".csv" and any(not str(r[1]).isascii() for r in rows) and rng.random() < 0.3:
        latin = tuple(r for r in rows if str(r[1]).encode("cp1252", "ignore").decode("cp1252") == r[1])
        if latin:  # a Windows-1252 CSV of the names it can hold
            path = folder / f"v{i:05d}_cp1252.csv"
            path.write_bytes(fc._csv_text(latin).encode("cp1252"))
            return _job(path, "accept", "valid cp1252", latin)
    cpg = rng.random() < 0.5
    path = write_rows(folder / f"v{i:05d}{suffix}", rows, rng, cpg=cpg)
    return _job(path, "accept", f"valid{suffix}{'' if cpg or suffix != '.zip' else ' no .cpg'}", rows)


# --- the defects, each on random rows ----------------------------------------------------


def _geojson(f: Path, n: str, rows: Rows, edit: Callable[[dict], None], kind: str, raw: bool = False) -> Job:
    path = fc.write_geojson(f / f"{n}.geojson", rows)
    doc = json.loads(path.read_text(encoding="utf-8"))
    edit(doc)
    text = json.dumps(doc, ensure_ascii=False)
    path.write_text(text, encoding="utf-8")
    return _job(path, "refuse", kind)


def surrogate(f: Path, r: random.Random, n: str) -> Job:
    path = f / f"{n}.geojson"
    fc.write_geojson(path, random_rows(r))
    doc = json.loads(path.read_text(encoding="utf-8"))
    doc["features"][0]["properties"]["name"] = "Kita SURROGATE"
    path.write_text(json.dumps(doc).replace("SURROGATE", r.choice(["\\ud800", "\\udfff", "\\ud83d"])), encoding="utf-8")
    return _job(path, "refuse", "encoding")


def _prop(key: str, value: object, kind: str) -> Callable[[Path, random.Random, str], Job]:
    def make(f: Path, r: random.Random, n: str) -> Job:
        rows = random_rows(r, r.randint(2, 6))

        def edit(doc: dict) -> None:
            doc["features"][r.randrange(len(rows))]["properties"][key] = value

        return _geojson(f, n, rows, edit, kind)

    return make


def _coordinate(lon: float, lat: float, kind: str) -> Callable[[Path, random.Random, str], Job]:
    def make(f: Path, r: random.Random, n: str) -> Job:
        rows = list(random_rows(r, r.randint(1, 5)))
        k = r.randrange(len(rows))
        rows[k] = (*rows[k][:3], lon, lat, rows[k][5])
        path = f / f"{n}{r.choice(['.csv', '.geojson', '.gpkg'])}"
        return _job(write_rows(path, tuple(rows), r, crs="EPSG:4326"), "refuse", kind)

    return make


def thousands(f: Path, r: random.Random, n: str) -> Job:
    rows = list(random_rows(r, r.randint(1, 5)))
    k = r.randrange(len(rows))
    rows[k] = (*rows[k][:5], r.choice(["1.000", "2.500", "12.000"]))
    return _job(write_rows(f / f"{n}{r.choice(['.csv', '.xlsx', '.geojson'])}", tuple(rows), r), "refuse", "ambiguous")


def second_gpkg_layer(f: Path, r: random.Random, n: str) -> Job:
    path = write_rows(f / f"{n}.gpkg", random_rows(r))
    pyogrio.write_dataframe(fc._gdf(random_rows(r), "EPSG:25832"), path, layer="kita_alt", driver="GPKG")
    if r.random() < 0.5:  # neither layer named like the target layer
        path2 = f / f"{n}b.gpkg"
        pyogrio.write_dataframe(fc._gdf(random_rows(r), "EPSG:25832"), path2, layer="einrichtungen", driver="GPKG")
        pyogrio.write_dataframe(fc._gdf(random_rows(r), "EPSG:25832"), path2, layer="weitere", driver="GPKG")
        return _job(path2, "refuse", "ambiguous layers")
    path.unlink()
    pyogrio.write_dataframe(fc._gdf(random_rows(r), "EPSG:25832"), path, layer="a", driver="GPKG")
    pyogrio.write_dataframe(fc._gdf(random_rows(r), "EPSG:25832"), path, layer="b", driver="GPKG")
    return _job(path, "refuse", "ambiguous layers")


def _book(f: Path, n: str, sheets: list[tuple[str, Rows, str]]) -> Path:
    import openpyxl

    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for title, rows, state in sheets:
        ws = wb.create_sheet(title)
        ws.append(HEADER)
        for row in rows:
            ws.append(list(row))
        ws.sheet_state = state
    path = f / f"{n}.xlsx"
    wb.save(path)
    return path


def second_sheet(f: Path, r: random.Random, n: str) -> Job:
    path = _book(f, n, [("Kitas 2024", random_rows(r), "visible"), ("Kitas 2023", random_rows(r), "visible")])
    return _job(path, "refuse", "ambiguous sheets")


def hidden_sheet(f: Path, r: random.Random, n: str) -> Job:
    if r.random() < 0.5:
        sheets = [("Hinweise", (), "visible"), ("Kitas", random_rows(r), "hidden")]
    else:
        sheets = [("Kitas", random_rows(r), "visible"), ("alt", random_rows(r), "hidden")]
    return _job(_book(f, n, sheets), "refuse", "hidden sheet")


def dbf_lies(f: Path, r: random.Random, n: str) -> Job:
    rows = random_rows(r, r.randint(2, 8))

    def tamper(parts: dict[str, bytes]) -> None:
        raw = bytearray(parts["kitas.dbf"])
        count = int.from_bytes(raw[4:8], "little")
        raw[4:8] = (count + r.choice([-1, 1, 5])).to_bytes(4, "little")
        parts["kitas.dbf"] = bytes(raw)

    path = fc.write_shapefile_zip(f / f"{n}.zip", fc._gdf(rows, "EPSG:25832"), f, tamper=tamper)
    return _job(path, "refuse", "dbf")


def ags_letters(f: Path, r: random.Random, n: str) -> Job:
    rows = random_rows(r, r.randint(1, 4))
    path = f / f"{n}.csv"
    lines = ["id;name;lon;lat;gemeinde_ags"]
    for k, (i, name, _, lon, lat, _) in enumerate(rows):
        ags = r.choice(["05A15000", "O5315000", "05315ooo", "0531500X"]) if k == 0 else "05315000"
        lines.append(f"{i};{name};{str(lon).replace('.', ',')};{str(lat).replace('.', ',')};{ags}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return _job(path, "refuse", "key")


def control_name(f: Path, r: random.Random, n: str) -> Job:
    rows = list(random_rows(r, r.randint(1, 4)))
    rows[0] = (rows[0][0], "Kita" + r.choice(["\x07", "\x1b[31m", "\x00", "\x85", "\u200b\x08"]) + "Dom", *rows[0][2:])
    suffix = r.choice([".geojson", ".gpkg"])
    if suffix == ".gpkg" and "\x00" in str(rows[0][1]):
        suffix = ".geojson"
    return _job(write_rows(f / f"{n}{suffix}", tuple(rows), r), "refuse", "control")


DEFECTS: dict[str, Callable[[Path, random.Random, str], Job]] = {
    "lone_surrogate": surrogate,
    "name_json_array": _prop("name", ["Kita A", "Kita B"], "json type"),
    "name_json_object": _prop("name", {"de": "Kita"}, "json type"),
    "plaetze_true": _prop("plaetze", True, "json type"),
    "plaetze_1e20": _prop("plaetze", 1e20, "integer range"),
    "plaetze_negative": _prop("plaetze", -4, "value"),
    "plaetze_thousands": thousands,
    "lon_366": _coordinate(366.95, 50.94, "coordinate"),
    "lat_95": _coordinate(6.95, 95.0, "coordinate"),
    "in_vaals_nl": _coordinate(6.0167, 50.7706, "outside NRW"),
    "in_venlo_nl": _coordinate(6.1700, 51.3700, "outside NRW"),
    "in_kelmis_be": _coordinate(6.0090, 50.7160, "outside NRW"),
    "in_osnabrueck_ni": _coordinate(8.0471, 52.2799, "outside NRW"),
    "second_gpkg_layer": second_gpkg_layer,
    "second_xlsx_sheet": second_sheet,
    "hidden_xlsx_sheet": hidden_sheet,
    "dbf_header_lies": dbf_lies,
    "ags_with_letters": ags_letters,
    "control_in_name": control_name,
}


def hostile(folder: Path, rng: random.Random, per_defect: int = 1) -> list[Job]:
    """``per_defect`` files of every defect of the issue (expect a refusal)."""
    return cm.hostile_jobs(DEFECTS, folder, rng, per_defect)


def fixed(folder: Path) -> list[Job]:
    """The fixed corpus of :mod:`fuzz_corpus`: 12 seeds in every format and its hostile cases (bombs scaled)."""
    seeds = [_job(c.path, "accept", c.kind, c.rows or fc.ROWS) for c in fc.seeds(folder / "seeds")]
    return seeds + [_job(c.path, "refuse", c.kind) for c in fc.hostile(folder / "hostile")]


def generate(folder: Path, n: int, rng: random.Random) -> list[Job]:
    """``n`` cases: the fixed corpus, random valid files (a quarter), the issue's defects on random rows
    (about half), byte mutants of the valid files."""
    folder.mkdir(parents=True, exist_ok=True)
    return cm.generated_jobs(valid, DEFECTS, folder, n, rng, fixed=fixed(folder / "fixed"))
