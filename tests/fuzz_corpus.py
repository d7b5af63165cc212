"""A generated corpus for fuzzing the importer: valid seeds in every format, hostile cases, byte mutants.

Used by ``tests/test_importing_fuzz.py`` and ``benchmarks/fuzz_import.py``. Every
seed holds the same two Kitas (Kölner Dom, Düsseldorf Rathaus); a correct
import of a seed gives exactly :data:`ROWS`. Hostile cases are seeds with one
known defect each (a capacity of 1e20, an infinite coordinate, a truncated last
row, a foreign encoding, an unknown CRS, a ZIP bomb ...): each must be refused.
Byte mutants (cut, insert, overwrite, truncate) have no known answer; they must
be refused cleanly or give plausible rows (:func:`implausible_rows`).
"""

from __future__ import annotations

import json
import random
import traceback
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import openpyxl
import pandas as pd
import pyogrio
from pyproj import Transformer
from shapely.geometry import Point

ROWS = (
    ("K1", "Kita am Dom", "50667", 6.9583, 50.9413, 40),
    ("K2", "Kita Rathaus Düsseldorf", "40213", 6.7719, 51.2277, 25),
)
TO_UTM = Transformer.from_crs("EPSG:4326", "EPSG:25832", always_xy=True)
MAX_INT = 2_147_483_647


@dataclass(frozen=True)
class Case:
    """One input file and what must happen to it."""

    name: str
    path: Path
    expect: str  # "accept" (gives ROWS, or ``rows`` when set), "refuse", or "any" (byte mutant)
    kind: str = ""
    rows: tuple[tuple[object, ...], ...] | None = None


def _csv_text(
    rows: tuple[tuple[object, ...], ...],
    sep: str = ";",
    decimal: str = ",",
    header: str = "id;name;plz;lon;lat;plaetze",
) -> str:
    def num(v: object) -> str:
        return str(v).replace(".", decimal) if isinstance(v, float) else str(v)

    lines = [header.replace(";", sep)] + [sep.join(num(v) for v in r) for r in rows]
    return "\n".join(lines) + "\n"


def _gdf(rows: tuple[tuple[object, ...], ...], crs: str = "EPSG:4326") -> gpd.GeoDataFrame:
    gdf = gpd.GeoDataFrame(
        {
            "id": [r[0] for r in rows],
            "name": [r[1] for r in rows],
            "plz": [r[2] for r in rows],
            "plaetze": [r[5] for r in rows],
        },
        geometry=[Point(r[3], r[4]) for r in rows],
        crs="EPSG:4326",
    )
    return gdf.to_crs(crs)


def write_xlsx(path: Path, rows: list[list[object]]) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    for r in rows:
        ws.append(r)
    wb.save(path)
    return path


def write_geojson(path: Path, rows: tuple[tuple[object, ...], ...], **extra: object) -> Path:
    doc = {
        "type": "FeatureCollection",
        **extra,
        "features": [
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [r[3], r[4]]},
                "properties": {"id": r[0], "name": r[1], "plz": r[2], "plaetze": r[5]},
            }
            for r in rows
        ],
    }
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return path


def write_shapefile_zip(
    path: Path, gdf: gpd.GeoDataFrame, folder: Path, tamper: Callable[[dict[str, bytes]], None] | None = None
) -> Path:
    shp_dir = folder / f"_{path.stem}_shp"
    shp_dir.mkdir(exist_ok=True)
    pyogrio.write_dataframe(gdf, shp_dir / "kitas.shp", driver="ESRI Shapefile")
    parts = {f.name: f.read_bytes() for f in sorted(shp_dir.iterdir())}
    if tamper:
        tamper(parts)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in parts.items():
            zf.writestr(name, data)
    return path


def seeds(folder: Path) -> list[Case]:
    """The valid seeds: CSV (``;``/``,``, UTF-8, BOM, cp1252, UTM), TSV, XLSX, GeoJSON, GPKG, Shapefile-ZIP."""
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    text = _csv_text(ROWS)
    for name, data in (
        ("semicolon.csv", text.encode("utf-8")),
        ("bom.csv", text.encode("utf-8-sig")),
        ("cp1252.csv", text.encode("cp1252")),
        ("comma.csv", _csv_text(ROWS, ",", ".").encode()),
        ("tabs.tsv", _csv_text(ROWS, "\t", ".").encode()),
        ("excel_sep.csv", ("sep=;\n" + text).encode("utf-8")),
    ):
        (folder / name).write_bytes(data)
        out.append(Case(name, folder / name, "accept", "seed"))
    utm = tuple((r[0], r[1], r[2], *TO_UTM.transform(r[3], r[4]), r[5]) for r in ROWS)
    (folder / "utm.csv").write_text(_csv_text(utm, header="id;name;plz;rechtswert;hochwert;plaetze"))
    out.append(Case("utm.csv", folder / "utm.csv", "accept", "seed"))
    out.append(
        Case(
            "kitas.xlsx",
            write_xlsx(folder / "kitas.xlsx", [["id", "name", "plz", "lon", "lat", "plaetze"], *map(list, ROWS)]),
            "accept",
            "seed",
        )
    )
    out.append(Case("kitas.geojson", write_geojson(folder / "kitas.geojson", ROWS), "accept", "seed"))
    pyogrio.write_dataframe(_gdf(ROWS, "EPSG:25832"), folder / "kitas.gpkg", layer="kita", driver="GPKG")
    out.append(Case("kitas.gpkg", folder / "kitas.gpkg", "accept", "seed"))
    out.append(
        Case("kitas.zip", write_shapefile_zip(folder / "kitas.zip", _gdf(ROWS, "EPSG:25832"), folder), "accept", "seed")
    )
    out.append(
        Case(
            "xlsx_nan.xlsx",
            write_xlsx(
                folder / "xlsx_nan.xlsx",
                [["id", "name", "plz", "lon", "lat", "plaetze"], ["K1", "NaN", "50667", 6.9583, 50.9413, 40]],
            ),
            "accept",
            "seed",
            rows=(("K1", "NaN", "50667", 6.9583, 50.9413, 40),),
        )
    )
    return out


def _zip_stream(path: Path, members: dict[str, bytes | tuple[bytes, int]]) -> Path:
    """A ZIP whose members may be ``(chunk, repeat)``: written streaming, never held in memory."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        for name, data in members.items():
            with zf.open(name, "w", force_zip64=True) as fh:
                if isinstance(data, tuple):
                    for _ in range(data[1]):
                        fh.write(data[0])
                else:
                    fh.write(data)
    return path


def lying_zip(path: Path, members: dict[str, tuple[bytes, int]]) -> Path:
    """A ZIP whose directory declares ``declared`` bytes for members that really unpack to ``real``."""
    body, central = b"", b""
    le = int.to_bytes
    for name, (real, declared) in members.items():
        comp = zlib.compressobj(9, zlib.DEFLATED, -15)
        data = comp.compress(real) + comp.flush()
        crc, fname = zlib.crc32(real), name.encode()
        fields = (
            le(20, 2, "little")
            + b"\0\0"
            + le(8, 2, "little")
            + b"\0\0\0\0"
            + le(crc, 4, "little")
            + le(len(data), 4, "little")
            + le(declared, 4, "little")
            + le(len(fname), 2, "little")
        )
        central += (
            b"PK\x01\x02"
            + le(20, 2, "little")
            + fields
            + b"\0\0" * 4
            + b"\0\0\0\0"
            + le(len(body), 4, "little")
            + fname
        )
        body += b"PK\x03\x04" + fields + b"\0\0" + fname + data
    end = (
        b"PK\x05\x06"
        + b"\0\0\0\0"
        + le(len(members), 2, "little") * 2
        + le(len(central), 4, "little")
        + le(len(body), 4, "little")
        + b"\0\0"
    )
    path.write_bytes(body + central + end)
    return path


def hostile(folder: Path, *, big: bool = False) -> list[Case]:
    """Seeds with one known defect each; every one must be refused.

    ``big`` adds the full-size bombs of the fuzz report (a Shapefile-ZIP that
    unpacks to 3.2 GB, an XLSX sheet of 2 GB, a 1 GB ``.prj``); without it they
    are scaled down to just above the default limits.
    """
    folder.mkdir(parents=True, exist_ok=True)
    out: list[Case] = []

    def add(name: str, kind: str, data: bytes | Path) -> None:
        path = folder / name
        if isinstance(data, bytes):
            path.write_bytes(data)
        out.append(Case(name, path, "refuse", kind))

    bad_rows = {
        "capacity_1e20": ((*ROWS[0][:5], 1e20), ROWS[1]),
        "capacity_2p63": ((*ROWS[0][:5], 2**63), ROWS[1]),
        "coord_inf": ((*ROWS[0][:3], float("inf"), 50.9413, 40), ROWS[1]),
        "coord_1e308": ((*ROWS[0][:3], 6.9583, 1e308, 40), ROWS[1]),
        "coord_neg1e308": ((*ROWS[0][:3], -1e308, 50.9413, 40), ROWS[1]),
    }
    for label, rows in bad_rows.items():
        kind = "integer range" if label.startswith("capacity") else "coordinate"
        add(f"{label}.csv", kind, _csv_text(rows, decimal=".").encode())
        out.append(
            Case(
                f"{label}.xlsx",
                write_xlsx(
                    folder / f"{label}.xlsx", [["id", "name", "plz", "lon", "lat", "plaetze"], *map(list, rows)]
                ),
                "refuse",
                kind,
            )
        )
        if kind == "integer range":
            path = folder / f"{label}.geojson"
            write_geojson(path, rows)
            out.append(Case(path.name, path, "refuse", kind))
            gdf = _gdf(ROWS, "EPSG:25832")
            gdf["plaetze"] = [float(rows[0][5]), 25.0]
            pyogrio.write_dataframe(gdf, folder / f"{label}.gpkg", layer="kita", driver="GPKG")
            out.append(Case(f"{label}.gpkg", folder / f"{label}.gpkg", "refuse", kind))
            out.append(Case(f"{label}.zip", write_shapefile_zip(folder / f"{label}.zip", gdf, folder), "refuse", kind))
        else:
            text = json.dumps(
                {
                    "type": "FeatureCollection",
                    "features": [
                        {
                            "type": "Feature",
                            "geometry": {"type": "Point", "coordinates": [r[3], r[4]]},
                            "properties": {"id": r[0], "name": r[1], "plz": r[2]},
                        }
                        for r in rows
                    ],
                }
            )
            add(f"{label}.geojson", kind, text.replace("Infinity", "1e999").encode())
    # GeoJSON geometries that are invalid, empty, of the wrong type or nested too deep
    geometries = {
        "geom_one_coordinate": {"type": "Point", "coordinates": [6.9583]},
        "geom_string_coordinates": {"type": "Point", "coordinates": ["a", "b"]},
        "geom_bogus_type": {"type": "Bogus", "coordinates": [6.9, 50.9]},
        "geom_empty_point": {"type": "Point", "coordinates": []},
        "geom_unclosed_polygon": {"type": "Polygon", "coordinates": [[[6.9, 50.9], [7.0, 50.9], [7.0, 51.0]]]},
        "geom_bowtie": {
            "type": "Polygon",
            "coordinates": [[[6.9, 50.9], [7.0, 51.0], [7.0, 50.9], [6.9, 51.0], [6.9, 50.9]]],
        },
        "geom_collection": {
            "type": "GeometryCollection",
            "geometries": [{"type": "Point", "coordinates": [6.9583, 50.9413]}],
        },
        "geom_no_coordinates": {"type": "Point"},
    }
    for label, geom in geometries.items():
        doc = {
            "type": "FeatureCollection",
            "features": [
                {"type": "Feature", "geometry": geom, "properties": {"id": "K1", "name": "Kita", "plz": "50667"}}
            ],
        }
        add(f"{label}.geojson", "geometry", json.dumps(doc).encode())
    for depth in (1_000, 100_000):
        add(
            f"nested_{depth}.geojson",
            "nesting",
            ('{"type": "FeatureCollection", "features": [' + "[" * depth + "]" * depth + "]}").encode(),
        )
    add(
        "crs_99999.geojson",
        "crs",
        write_geojson(
            folder / "crs_99999.geojson",
            ROWS,
            crs={"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::99999"}},
        ).read_bytes(),
    )
    out.append(
        Case(
            "prj_garbage.zip",
            write_shapefile_zip(
                folder / "prj_garbage.zip",
                _gdf(ROWS, "EPSG:25832"),
                folder,
                tamper=lambda p: p.update({"kitas.prj": b'LOCAL_CS["Unknown",UNIT["m",1]]'}),
            ),
            "refuse",
            "crs",
        )
    )
    # truncated CSVs (cut inside the last row) and foreign encodings
    text = _csv_text(ROWS)
    for cut in (3, 12, 20, 28, 40):
        add(f"truncated_{cut}.csv", "truncated", text.encode()[: len(text.encode()) - cut])
    add("truncated_quote.csv", "truncated", (text + 'K3;"Kita mit ; im').encode())
    umlaut_rows = (
        ("K1", "Kita Kölner Straße", "50667", 6.9583, 50.9413, 40),
        ("K2", "Kita Übach-Palenberg", "40213", 6.7719, 51.2277, 25),
    )
    utext = _csv_text(umlaut_rows)
    add("cp850.csv", "encoding", utext.encode("cp850"))
    add("mac_roman.csv", "encoding", utext.encode("mac_roman"))
    add("double_utf8.csv", "encoding", utext.encode("utf-8").decode("cp1252").encode("utf-8"))
    add("mixed.csv", "encoding", utext.encode("utf-8") + "K3;Kita Lünen;44532;7,52;51,61;10\n".encode("cp1252"))
    add("utf16_nobom.csv", "encoding", utext.encode("utf-16-le"))
    add("control.csv", "encoding", utext.replace("Kita am", "Kita\x01am").replace("Kita Kölner", "Kita\x1bK").encode())
    # damaged and hostile ZIPs
    zipped = folder / "kitas_seed.zip"
    write_shapefile_zip(zipped, _gdf(ROWS, "EPSG:25832"), folder)
    raw = bytearray(zipped.read_bytes())
    raw[4:6] = (99).to_bytes(2, "little")  # "version needed" of the first local header
    cd = raw.find(b"PK\x01\x02")
    raw[cd + 6 : cd + 8] = (99).to_bytes(2, "little")
    add("version_needed.zip", "zip", bytes(raw))
    lying = lying_zip(
        folder / "lying_header.zip",
        {"kitas.shp": (b"\0" * 100, 100), "kitas.shx": (b"\0" * 100, 100), "kitas.dbf": (b" " * 5_000_000, 1000)},
    )
    out.append(Case(lying.name, lying, "refuse", "bomb"))
    scale = 1 if big else 0
    dbf_size = 3_160_000_000 if scale else 320 * 1024 * 1024
    out.append(
        Case(
            "shapefile_bomb.zip",
            _zip_stream(
                folder / "shapefile_bomb.zip",
                {
                    "kitas.shp": b"\0" * 100,
                    "kitas.shx": b"\0" * 100,
                    "kitas.prj": b"",
                    "kitas.dbf": (b" " * (1 << 20), dbf_size >> 20),
                },
            ),
            "refuse",
            "bomb",
        )
    )
    prj_size = 1 << 30 if scale else 4 << 20
    out.append(
        Case(
            "prj_bomb.zip",
            _zip_stream(
                folder / "prj_bomb.zip",
                {
                    "kitas.shp": b"\0" * 100,
                    "kitas.shx": b"\0" * 100,
                    "kitas.dbf": b"\0" * 100,
                    "kitas.prj": (b" " * (1 << 20), prj_size >> 20),
                },
            ),
            "refuse",
            "bomb",
        )
    )
    out.append(
        Case(
            "xlsx_dimension.xlsx",
            _xlsx_with_sheet(
                folder / "xlsx_dimension.xlsx",
                (
                    b'<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                    b'<dimension ref="A1:XFD1048576"/><sheetData><row r="1">'
                    b'<c r="A1" t="inlineStr"><is><t>id</t></is></c>'
                    b"</row></sheetData></worksheet>",
                    1,
                ),
            ),
            "refuse",
            "bomb",
        )
    )
    sheet_mb = 2048 if scale else 210
    row = b'<row><c t="inlineStr"><is><t>K</t></is></c></row>' * 20_000
    out.append(
        Case(
            "xlsx_bomb.xlsx",
            _xlsx_with_sheet(
                folder / "xlsx_bomb.xlsx",
                (
                    b'<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                    b"<sheetData>",
                    1,
                ),
                body=(row, sheet_mb * (1 << 20) // len(row)),
                tail=b"</sheetData></worksheet>",
            ),
            "refuse",
            "bomb",
        )
    )
    return out


def _xlsx_with_sheet(
    path: Path, head: tuple[bytes, int], body: tuple[bytes, int] | None = None, tail: bytes = b""
) -> Path:
    """A minimal workbook whose first sheet is ``head`` (+ ``body`` repeated) + ``tail``, written streaming."""
    ns = b'xmlns="http://schemas.openxmlformats.org/package/2006/'
    files = {
        "[Content_Types].xml": b'<?xml version="1.0"?><Types ' + ns + b'content-types"><Default Extension="rels" '
        b'ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" '
        b'ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/'
        b'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/'
        b'sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        b"</Types>",
        "_rels/.rels": b'<?xml version="1.0"?><Relationships ' + ns + b'relationships"><Relationship Id="rId1" '
        b'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
        b'Target="xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml": b'<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/'
        b'spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        b'<sheets><sheet name="Daten" sheetId="1" r:id="rId1"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels": b'<?xml version="1.0"?><Relationships ' + ns + b'relationships">'
        b'<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
        b'worksheet" Target="worksheets/sheet1.xml"/></Relationships>',
    }
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
        with zf.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as fh:
            fh.write(head[0])
            if body:
                for _ in range(body[1]):
                    fh.write(body[0])
            fh.write(tail)
    return path


_TOKENS = [
    b";",
    b",",
    b'"',
    b"\n",
    b"\r\n",
    b"\x00",
    b"\xff\xfe",
    b"sep=;\n",
    b"{",
    b"]",
    b"1e999",
    b"NaN",
    b"-",
    b"\xe4",
    b"<script>",
    b"inf",
    b"1e20",
    b"9223372036854775808",
    b"\xc3\xa4",
    b"[[[[",
    b"PK",
]


def mutate(raw: bytes, rng: random.Random) -> bytes:
    """Cut, insert, overwrite or truncate bytes of a valid file (1–4 operations)."""
    data = bytearray(raw)
    for _ in range(rng.randint(1, 4)):
        op = rng.choice(("cut", "insert", "replace", "flip", "truncate"))
        pos = rng.randrange(max(len(data), 1))
        if op == "cut":
            del data[pos : pos + rng.randint(1, 20)]
        elif op == "truncate":
            del data[pos:]
        elif op == "flip" and data:
            data[pos] ^= 1 << rng.randrange(8)
        else:
            chunk = (
                rng.choice(_TOKENS)
                if rng.random() < 0.6
                else bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
            )
            data[pos:pos] = chunk
            if op == "replace":
                del data[pos + len(chunk) : pos + 2 * len(chunk)]
    return bytes(data)


def mutants(seed_cases: list[Case], folder: Path, n: int, rng: random.Random) -> list[Case]:
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for i in range(n):
        seed = seed_cases[i % len(seed_cases)]
        path = folder / f"m{i:05d}_{seed.name}"
        path.write_bytes(mutate(seed.path.read_bytes(), rng))
        out.append(Case(path.name, path, "any", "mutant"))
    return out


_GARBLE = ("\ufffd", "Ã¶", "Ã¤", "Ã¼", "ÃŸ", "\x00")


def implausible_rows(data: gpd.GeoDataFrame) -> list[str]:
    """Reasons why stored rows cannot be right (empty when every row is plausible)."""
    reasons = []
    xy = shapely_xy(data)
    if not np.isfinite(xy).all():
        reasons.append("non-finite geometry")
    elif (
        len(xy)
        and not ((xy[:, 0] > 270_000) & (xy[:, 0] < 540_000) & (xy[:, 1] > 5_550_000) & (xy[:, 1] < 5_850_000)).all()
    ):
        reasons.append("point outside NRW")
    if "plaetze" in data.columns:
        cap = pd.to_numeric(data["plaetze"], errors="coerce").dropna()
        if ((cap < 0) | (cap > MAX_INT)).any():
            reasons.append("capacity out of range")
    for col in ("id", "name"):
        if col in data.columns:
            values = data[col].dropna().astype(str)
            if values.map(lambda v: any(g in v for g in _GARBLE) or any(ord(c) < 32 for c in v)).any():
                reasons.append(f"garbled {col}")
    return reasons


def shapely_xy(data: gpd.GeoDataFrame) -> np.ndarray:
    import shapely

    return shapely.get_coordinates(data.geometry.to_numpy())


def correct(data: gpd.GeoDataFrame, rows: tuple[tuple[object, ...], ...] = ROWS) -> list[str]:
    """Differences between an accepted seed and the rows it holds (empty when correct)."""
    diffs = []
    if list(data["id"]) != [r[0] for r in rows]:
        return [f"ids {list(data['id'])}"]
    for (_, name, plz, lon, lat, cap), (_, got) in zip(rows, data.iterrows(), strict=True):
        x, y = TO_UTM.transform(lon, lat)
        if got["name"] != name:
            diffs.append(f"name {got['name']!r} != {name!r}")
        if str(got["plz"]) != plz:
            diffs.append(f"plz {got['plz']!r}")
        if got.geometry.distance(Point(x, y)) > 1.0:
            diffs.append(f"location {got.geometry} (precision {got.get('location_precision')})")
        if int(got["plaetze"]) != cap:
            diffs.append(f"plaetze {got['plaetze']}")
    return diffs


@dataclass(frozen=True)
class Outcome:
    """What the importer did with one case. ``verdict`` is ``refused``/``accepted`` (fine) or
    ``crash``, ``silent`` (wrong data accepted), ``false_refusal``, ``store_changed``, ``bad_message``."""

    case: Case
    verdict: str
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.verdict in ("refused", "accepted")


def run_case(case: Case, settings: object, layer: str = "kita") -> Outcome:
    """Import ``case`` in process and judge the outcome against the invariant."""
    from geo.errors import IntegrationsatlasError
    from geo.importing import import_file
    from geo.store import open_store

    store = open_store(settings)  # type: ignore[arg-type]
    before = store.batches()
    try:
        result = import_file(case.path, layer, settings)  # type: ignore[arg-type]
    except IntegrationsatlasError as exc:
        message = str(exc)
        if store.batches() != before:
            return Outcome(case, "store_changed", message[:300])
        if case.name not in message or str(case.path.parent) in message or "/tmp" in message:
            return Outcome(case, "bad_message", message[:300])
        if case.expect == "accept":
            return Outcome(case, "false_refusal", message[:300])
        return Outcome(case, "refused", message.splitlines()[-1][:300])
    except Exception:
        return Outcome(case, "crash", traceback.format_exc()[-1500:])
    assert result.batch is not None
    data = result.data
    store.deactivate(result.batch.batch_id)  # keep the store comparable for the next case
    if case.expect == "refuse":
        return Outcome(case, "silent", f"{len(data)} rows stored")
    if case.expect == "accept":
        diffs = correct(data, case.rows or ROWS)
        return Outcome(case, "silent" if diffs else "accepted", "; ".join(diffs))
    reasons = implausible_rows(data)
    return Outcome(case, "silent" if reasons else "accepted", "; ".join(reasons))
