"""SYNTHETIC test data of NRW size: the real Aachen OSM extract copied k × k times across NRW.

No real extract of NRW can be downloaded here, so the land-scale benchmarks
(``bench_network_tiles.py``, ``bench_landwide_walk.py``) run on a **synthetic** file of the same size: the real
``../shared/data/osm/aachen.osm.pbf`` (central Aachen, 8.6 × 5.4 km, 293,587
nodes) written ``k × k`` times side by side as one contiguous block in the
middle of NRW (Ruhr to Sauerland), each copy shifted by whole copy widths and
with its node, way and relation ids offset by :data:`ID_OFFSET`; neighbouring
copies are joined by footways, so the block is one street network. With the
default ``k = 15`` the file has 225 copies, about 66 million nodes and
740 MB – the size of Geofabrik's ``nordrhein-westfalen-latest.osm.pbf``
(about 750 MB).

It is **not real data**: every street of it is a street of central Aachen,
repeated. The file name starts with ``SYNTHETIC_``, the PBF header's
generator says so, a ``SYNTHETIC_README.txt`` is written beside it, and every
benchmark figure made from it is labelled synthetic. It is written under the
git-ignored ``benchmarks/data/`` and never committed.

Also written: ``SYNTHETIC_zensus_nrw_100m.zip``, a Zensus-2022 population grid
in the real Destatis layout whose **populated cells are generated**: every
100 m cell (INSPIRE grid, EPSG:3035) whose centre lies within 500 m of a node
of the synthetic walk network, with a generated population (fixed seed).

Run ``python benchmarks/synthetic_nrw.py [--side 15]`` (about 10–20 minutes
on two cores; skipped when the files exist).
"""

from __future__ import annotations

import argparse
import sys
import time
import zipfile
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SOURCE = ROOT.parent / "shared" / "data" / "osm" / "aachen.osm.pbf"
DATA = ROOT / "benchmarks" / "data"
#: Id offset per copy (beyond every OSM id of the 2021 extract).
ID_OFFSET = 10_000_000_000
#: The Aachen extract's box (degrees) and the shift between neighbouring copies.
BOX = (6.026, 50.745, 6.148, 50.794)
STEP = (0.125, 0.05)
#: Centre of the block (degrees): between the Ruhr and the Sauerland.
CENTRE = (7.45, 51.45)
#: Footways joining two neighbouring copies.
LINKS = 4
SEED = 20_260_101
LABEL = "SYNTHETIC test data (NOT REAL): OSM extract of central Aachen copied {n} x {n} times across NRW"


def paths(side: int) -> dict[str, Path]:
    """The files of a synthetic NRW of ``side × side`` copies."""
    return {
        "pbf": DATA / f"SYNTHETIC_nrw_{side}x{side}.osm.pbf",
        "zensus": DATA / f"SYNTHETIC_zensus_nrw_{side}x{side}_100m.zip",
        "readme": DATA / "SYNTHETIC_README.txt",
    }


def shift(side: int, i: int, j: int) -> tuple[float, float]:
    """Degrees added to the Aachen coordinates for copy ``(i, j)`` (column, row)."""
    lon0 = CENTRE[0] - side * STEP[0] / 2
    lat0 = CENTRE[1] - side * STEP[1] / 2
    return lon0 + i * STEP[0] - BOX[0], lat0 + j * STEP[1] - BOX[1]


def edge_links() -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """Pairs of walk-network node ids (east edge → west edge, north edge → south edge) joining neighbours."""
    import osmium

    from geo.sources.osm_pbf import read_street_network

    walk = set(read_street_network(SOURCE, "walk").node_ids.tolist())
    ids, lon, lat = [], [], []
    for obj in osmium.FileProcessor(str(SOURCE), osmium.osm.NODE):
        if isinstance(obj, osmium.osm.Node) and obj.id in walk:
            ids.append(obj.id)
            lon.append(obj.location.lon)
            lat.append(obj.location.lat)
    ids_a, lon_a, lat_a = np.array(ids), np.array(lon), np.array(lat)

    def pairs(axis: str) -> list[tuple[int, int]]:
        along, across = (lat_a, lon_a) if axis == "x" else (lon_a, lat_a)
        hi = np.argsort(-across)[:400]  # nodes nearest the far edge
        lo = np.argsort(across)[:400]  # and the near edge of the neighbour
        out = []
        for q in np.linspace(0.1, 0.9, LINKS):
            target = np.quantile(along, q)
            a = hi[np.argmin(np.abs(along[hi] - target))]
            b = lo[np.argmin(np.abs(along[lo] - target))]
            out.append((int(ids_a[a]), int(ids_a[b])))
        return out

    return pairs("x"), pairs("y")


def write_pbf(side: int, out: Path) -> dict[str, Any]:
    """Write the synthetic extract by re-encoding the Aachen PBF's blocks; returns counts.

    Each copy is the source's blocks with three changes, made on the
    protobuf bytes (no per-object Python): the block's ``lat_offset`` /
    ``lon_offset`` shift every coordinate, and the first value of each
    delta-coded id list (node ids, way node references, relation members) and
    every way and relation id get ``copy × ID_OFFSET``. Blocks are compressed
    with zlib in two threads. Nodes of all copies come first, then ways
    (and the footways joining neighbours), then relations (Geofabrik's
    ``Sort.Type_then_ID``).
    """
    from concurrent.futures import ThreadPoolExecutor

    source = _read_blocks(SOURCE)
    east, north = edge_links()
    copies = [(i, j) for j in range(side) for i in range(side)]
    counts = {"nodes": 0, "ways": 0, "relations": 0}
    lon_lo, lat_lo = shift(side, 0, 0)
    lon_hi, lat_hi = shift(side, side - 1, side - 1)
    box = (BOX[0] + lon_lo, BOX[1] + lat_lo, BOX[2] + lon_hi, BOX[3] + lat_hi)
    partial = out.with_suffix(".partial.pbf")
    with partial.open("wb") as fh, ThreadPoolExecutor(2) as pool:
        fh.write(_blob(b"OSMHeader", _header_block(source.header, box, LABEL.format(n=side))))
        for kind in ("dense", "ways", "relations"):
            jobs = []
            for t, (i, j) in enumerate(copies):
                dlon, dlat = shift(side, i, j)
                for block in source.blocks[kind]:
                    jobs.append(pool.submit(_copy_block, block, t * ID_OFFSET, dlon, dlat))
            for job in jobs:
                data, n = job.result()
                fh.write(data)
                counts["nodes" if kind == "dense" else kind] += n
            if kind == "ways":
                links = []
                for t, (i, j) in enumerate(copies):
                    for neighbour, pairs in (((i + 1, j), east), ((i, j + 1), north)):
                        if neighbour[0] < side and neighbour[1] < side:
                            other = copies.index(neighbour) * ID_OFFSET
                            links += [(a + t * ID_OFFSET, b + other) for a, b in pairs]
                fh.write(_blob(b"OSMData", _link_block(links, len(copies) * ID_OFFSET)))
                counts["ways"] += len(links)
    partial.replace(out)
    return counts


# --------------------------------------------------------------------------- minimal PBF (protobuf) re-encoding


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _read_varint(buf: bytes, i: int) -> tuple[int, int]:
    shift_ = result = 0
    while True:
        byte = buf[i]
        i += 1
        result |= (byte & 0x7F) << shift_
        shift_ += 7
        if byte < 0x80:
            return result, i


def _fields(buf: bytes) -> list[tuple[int, int, Any]]:
    """``(field, wire type, value)`` of a protobuf message (varints as ints, length-delimited as bytes)."""
    out: list[tuple[int, int, Any]] = []
    i = 0
    while i < len(buf):
        key, i = _read_varint(buf, i)
        number, wire = key >> 3, key & 7
        value: Any
        if wire == 0:
            value, i = _read_varint(buf, i)
        elif wire == 2:
            n, i = _read_varint(buf, i)
            value, i = buf[i : i + n], i + n
        elif wire == 1:
            value, i = buf[i : i + 8], i + 8
        elif wire == 5:
            value, i = buf[i : i + 4], i + 4
        else:
            raise ValueError(f"protobuf wire type {wire}")
        out.append((number, wire, value))
    return out


def _field(number: int, wire: int, value: Any) -> bytes:
    key = _varint(number << 3 | wire)
    if wire == 0:
        return key + _varint(value)
    if wire == 2:
        return key + _varint(len(value)) + value
    return key + value


def _zigzag(n: int) -> int:
    return (n << 1) ^ (n >> 63)


def _unzigzag(n: int) -> int:
    return (n >> 1) ^ -(n & 1)


def _shift_first(packed: bytes, offset: int) -> bytes:
    """A packed, delta-coded sint64 list with ``offset`` added to its first (absolute) value."""
    if not packed:
        return packed
    first, i = _read_varint(packed, 0)
    return _varint(_zigzag(_unzigzag(first) + offset)) + packed[i:]


class _Source:
    def __init__(self) -> None:
        self.header: bytes = b""
        self.blocks: dict[str, list[bytes]] = {"dense": [], "ways": [], "relations": []}


def _read_blocks(path: Path) -> _Source:
    """The source's header block and its data blocks (uncompressed), by what they hold."""
    import struct

    data, pos, src = path.read_bytes(), 0, _Source()
    while pos < len(data):
        (size,) = struct.unpack(">I", data[pos : pos + 4])
        header = {f: v for f, _, v in _fields(data[pos + 4 : pos + 4 + size])}
        pos += 4 + size
        blob = {f: v for f, _, v in _fields(data[pos : pos + header[3]])}
        pos += header[3]
        raw = zlib.decompress(blob[3]) if 3 in blob else blob[1]
        if header[1] == b"OSMHeader":
            src.header = raw
            continue
        groups = [v for f, _, v in _fields(raw) if f == 2]
        kinds = {f for g in groups for f, _, _ in _fields(g)}
        if kinds - {2, 3, 4} or len(kinds) != 1:
            raise ValueError(f"unerwarteter PBF-Block in {path.name}: Gruppen {sorted(kinds)}")
        src.blocks[{2: "dense", 3: "ways", 4: "relations"}[kinds.pop()]].append(raw)
    return src


def _copy_block(raw: bytes, offset: int, dlon: float, dlat: float) -> tuple[bytes, int]:
    """One data block of a copy: ids offset, coordinates shifted; returns the blob and its object count."""
    parts, count = [], 0
    lat_offset = lon_offset = 0
    for number, wire, value in _fields(raw):
        if number == 19:
            lat_offset = value
        elif number == 20:
            lon_offset = value
        elif number == 2:
            group, n = _copy_group(value, offset)
            parts.append(_field(2, 2, group))
            count += n
        else:
            parts.append(_field(number, wire, value))
    parts.append(_field(19, 0, lat_offset + round(dlat * 1e9)))
    parts.append(_field(20, 0, lon_offset + round(dlon * 1e9)))
    return _blob(b"OSMData", b"".join(parts)), count


def _copy_group(group: bytes, offset: int) -> tuple[bytes, int]:
    out, count = [], 0
    for number, _wire, value in _fields(group):
        if number == 2:  # DenseNodes: ids are delta-coded
            fields = _fields(value)
            dense = b"".join(_field(f, w, _shift_first(v, offset) if f == 1 else v) for f, w, v in fields)
            count += sum(1 for _ in _iter_varints(next(v for f, _, v in fields if f == 1)))
            out.append(_field(2, 2, dense))
        elif number in (3, 4):  # Way (refs field 8) or Relation (memids field 9): id absolute, lists delta-coded
            refs = 8 if number == 3 else 9
            body = b"".join(
                _field(f, w, v + offset if f == 1 else _shift_first(v, offset) if f == refs else v)
                for f, w, v in _fields(value)
            )
            out.append(_field(number, 2, body))
            count += 1
        else:
            raise ValueError(f"unerwartetes Feld {number} in einer PBF-Gruppe")
    return b"".join(out), count


def _iter_varints(packed: bytes) -> Any:
    i = 0
    while i < len(packed):
        _, i = _read_varint(packed, i)
        yield i


def _blob(kind: bytes, raw: bytes) -> bytes:
    import struct

    blob = _field(2, 0, len(raw)) + _field(3, 2, zlib.compress(raw, 6))
    header = _field(1, 2, kind) + _field(3, 0, len(blob))
    return struct.pack(">I", len(header)) + header + blob


def _header_block(source: bytes, box: tuple[float, float, float, float], label: str) -> bytes:
    """The source's header with the synthetic block's bbox and the SYNTHETIC label as writing program."""
    bbox = b"".join(_field(k, 0, _zigzag(round(v * 1e9))) for k, v in zip((1, 3, 2, 4), box, strict=True))
    kept = b"".join(_field(f, w, v) for f, w, v in _fields(source) if f in (4, 5))
    return _field(1, 2, bbox) + kept + _field(16, 2, label.encode()) + _field(17, 2, b"benchmarks/synthetic_nrw.py")


def _link_block(links: list[tuple[int, int]], first_id: int) -> bytes:
    """A data block of footways, one per ``(node, node)`` pair, with ids from ``first_id + 1``."""
    strings = _field(1, 2, _field(1, 2, b"") + _field(1, 2, b"highway") + _field(1, 2, b"footway"))
    ways = b""
    for k, (a, b) in enumerate(links, start=1):
        refs = _varint(_zigzag(a)) + _varint(_zigzag(b - a))
        way = _field(1, 0, first_id + k) + _field(2, 2, _varint(1)) + _field(3, 2, _varint(2)) + _field(8, 2, refs)
        ways += _field(3, 2, way)
    return strings + _field(2, 2, ways)


def write_zensus(pbf: Path, out: Path, walk_xy: np.ndarray) -> int:
    """A SYNTHETIC Zensus population grid (real Destatis layout) over the synthetic walk network; returns cells."""
    from pyproj import Transformer
    from scipy.spatial import cKDTree

    to_3035 = Transformer.from_crs("EPSG:25832", "EPSG:3035", always_xy=True)
    x, y = to_3035.transform(walk_xy[:, 0], walk_xy[:, 1])
    x0, y0 = np.floor(np.min(x) / 100) * 100 - 500, np.floor(np.min(y) / 100) * 100 - 500
    nx, ny = int((np.max(x) - x0) // 100) + 7, int((np.max(y) - y0) // 100) + 7
    tree = cKDTree(np.column_stack([x, y]))
    east, north = [], []
    for row in range(ny):  # row by row: bounded memory
        cx = x0 + 50 + 100 * np.arange(nx)
        cy = np.full(nx, y0 + 50 + 100 * row)
        d, _ = tree.query(np.column_stack([cx, cy]), distance_upper_bound=500.0)
        keep = np.isfinite(d)
        east.append(cx[keep] - 50)
        north.append(cy[keep] - 50)
    e, n = np.concatenate(east).astype(np.int64), np.concatenate(north).astype(np.int64)
    rng = np.random.default_rng(SEED)
    pop = np.maximum(1, rng.lognormal(2.6, 1.0, e.size).astype(np.int64))
    ids = "CRS3035RES100mN" + pd.Series(n).astype(str) + "E" + pd.Series(e).astype(str)
    frame = pd.DataFrame(
        {"GITTER_ID_100m": ids, "x_mp_100m": e + 50, "y_mp_100m": n + 50, "Einwohner": pop.astype(str)}
    ).assign(werterlaeuternde_Zeichen="")
    name = "Zensus2022_Bevoelkerungszahl_100m-Gitter.csv"
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.writestr(name, frame.to_csv(sep=";", index=False))
    return int(e.size)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--side", type=int, default=15, help="copies per side (default 15: 225 copies, NRW size)")
    p.add_argument("--pbf-only", action="store_true", help="write only the extract, not the population grid")
    args = p.parse_args(argv)
    if not SOURCE.is_file():
        print(f"{SOURCE} fehlt (../shared/data): keine synthetischen Daten.", file=sys.stderr)
        return 2
    files = paths(args.side)
    DATA.mkdir(parents=True, exist_ok=True)
    files["readme"].write_text(
        "Everything in this folder whose name starts with SYNTHETIC_ is SYNTHETIC TEST DATA, NOT REAL DATA.\n"
        "SYNTHETIC_nrw_KxK.osm.pbf: the real OSM extract of central Aachen (2021, ODbL, ../shared/data/osm)\n"
        "copied K x K times across NRW with offset ids (benchmarks/synthetic_nrw.py).\n"
        "SYNTHETIC_zensus_*.zip: generated population in the Zensus-2022 layout (random, fixed seed).\n"
        "Never commit these files and never present figures made from them as real.\n",
        encoding="utf-8",
    )
    if not files["pbf"].exists():
        t0 = time.perf_counter()
        counts = write_pbf(args.side, files["pbf"])
        size = files["pbf"].stat().st_size
        print(f"{files['pbf'].name}: {counts}, {size / 1e6:.0f} MB in {time.perf_counter() - t0:.0f} s")
    if not files["zensus"].exists() and not args.pbf_only:
        from geo.settings import Settings
        from geo.sources.streets import tile_set

        t0 = time.perf_counter()
        # the Kreis tiles of the walk network (built once, bounded memory; the land-scale benchmarks reuse them)
        tiles = tile_set("walk", Settings().with_home(DATA / "home"), files["pbf"])
        net = tiles.load([t.code for t in tiles.tiles])
        cells = write_zensus(files["pbf"], files["zensus"], net.xy)
        print(f"{files['zensus'].name}: {cells:,} populated cells (generated) in {time.perf_counter() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
