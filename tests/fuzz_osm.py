"""Generated OSM extracts (synthetic) for fuzzing the readers behind ``--osm`` and ``fetch --osm-file``.

Each valid extract is a small street grid at a random place in NRW with
named streets (accents and scripts of every kind), a Kita, a residential area
and a village node, written as ``.osm`` (XML), ``.osm.bz2`` or ``.osm.pbf``.
The job reads it as the CLI does: the walk network, the map background and,
for XML, the facilities. Hostile extracts carry one known defect each (the
issue's findings among them: a node with a coordinate ``nan``, an id of
2⁶³, a ``.osm.bz2`` bomb).
"""

from __future__ import annotations

import bz2
import gzip
import random
from collections.abc import Callable
from pathlib import Path
from xml.sax.saxutils import quoteattr

import fuzz_common as cm
import osmium
from fuzz_runner import Job

NAMES = ("Hauptstraße", "Käpt´n-Blaubär-Weg", "Rue de l'Église", "Œlweg", "Ñandú-Allee", 'Straße "Am Bach"', "東京通り")

Node = tuple[int, float, float, dict[str, str]]
Way = tuple[int, list[int], dict[str, str]]


def extract(rng: random.Random) -> tuple[list[Node], list[Way]]:
    """A street grid of 3×3 to 5×5 nodes about 100 m apart, a Kita, a residential area and a village."""
    (lon, lat) = cm.lonlat(cm.nrw_points(rng, 1))[0]
    size = rng.randint(3, 5)
    nodes: list[Node] = []
    for i in range(size):
        for j in range(size):
            nodes.append((1 + i * size + j, round(lat + i * 0.0009, 7), round(lon + j * 0.0014, 7), {}))
    ways: list[Way] = []
    wid = 100
    for i in range(size):
        row = [1 + i * size + j for j in range(size)]
        col = [1 + j * size + i for j in range(size)]
        for refs in (row, col):
            ways.append((wid, refs, {"highway": rng.choice(["residential", "living_street", "footway", "primary"]),
                                     "name": rng.choice(NAMES)}))  # fmt: skip
            wid += 1
    base = len(nodes) + 1
    nodes.append((base, lat + 0.0004, lon + 0.0007, {"amenity": "kindergarten", "name": "Kita " + rng.choice(NAMES)}))
    nodes.append((base + 1, lat + 0.0002, lon + 0.0002, {"place": "village", "name": rng.choice(NAMES)}))
    corners = [nodes[0][0], nodes[size - 1][0], nodes[-3][0], nodes[size * (size - 1)][0]]
    ways.append((wid, [*corners, corners[0]], {"landuse": "residential"}))
    return nodes, ways


def to_xml(nodes: list[Node], ways: list[Way]) -> str:
    out = ["<?xml version='1.0' encoding='UTF-8'?>", '<osm version="0.6" generator="fuzz_osm (synthetic)">']
    for nid, lat, lon, tags in nodes:
        if tags:
            out.append(f'  <node id="{nid}" lat="{lat}" lon="{lon}">')
            out += [f"    <tag k={quoteattr(k)} v={quoteattr(v)}/>" for k, v in tags.items()]
            out.append("  </node>")
        else:
            out.append(f'  <node id="{nid}" lat="{lat}" lon="{lon}"/>')
    for wid, refs, tags in ways:
        out.append(f'  <way id="{wid}">')
        out += [f'    <nd ref="{r}"/>' for r in refs]
        out += [f"    <tag k={quoteattr(k)} v={quoteattr(v)}/>" for k, v in tags.items()]
        out.append("  </way>")
    out.append("</osm>")
    return "\n".join(out) + "\n"


def write_pbf(path: Path, nodes: list[Node], ways: list[Way]) -> Path:
    path.unlink(missing_ok=True)
    writer = osmium.SimpleWriter(str(path))
    try:
        for nid, lat, lon, tags in nodes:
            writer.add_node(osmium.osm.mutable.Node(id=nid, location=(lon, lat), tags=tags))
        for wid, refs, tags in ways:
            writer.add_way(osmium.osm.mutable.Way(id=wid, nodes=refs, tags=tags))
    finally:
        writer.close()
    return path


def write(path: Path, nodes: list[Node], ways: list[Way]) -> Path:
    """Write the extract in the format its name says (``.osm``, ``.osm.bz2``, ``.osm.gz``, ``.osm.pbf``)."""
    if path.name.endswith(".pbf"):
        return write_pbf(path, nodes, ways)
    data = to_xml(nodes, ways).encode("utf-8")
    if path.name.endswith(".bz2"):
        data = bz2.compress(data)
    elif path.name.endswith(".gz"):
        data = gzip.compress(data)
    path.write_bytes(data)
    return path


def valid(folder: Path, rng: random.Random, i: int) -> Job:
    nodes, ways = extract(rng)
    suffix = rng.choice([".osm", ".osm.bz2", ".osm.pbf"])
    path = write(folder / f"v{i:05d}{suffix}", nodes, ways)
    return Job(path.name, "osm", (str(path),), "accept", "valid", check={"nodes_min": 2})


# --- defects: ``(folder, rng, name) -> Job`` each, one file with that defect ------------------------


def _job(path: Path, kind: str) -> Job:
    return Job(path.name, "osm", (str(path),), "refuse", kind)


def xml_edit(old: str, new: str, kind: str, suffix: str = ".osm") -> Callable[[Path, random.Random, str], Job]:
    """The XML with its first ``old`` replaced by ``new``."""

    def make(f: Path, r: random.Random, n: str) -> Job:
        text = to_xml(*extract(r)).replace(old, new, 1)
        data = text.encode("utf-8")
        path = f / f"{n}{suffix}"
        path.write_bytes(bz2.compress(data) if suffix.endswith(".bz2") else data)
        return _job(path, kind)

    return make


def node_edit(field: str, value: object, kind: str, suffix: str) -> Callable[[Path, random.Random, str], Job]:
    """The first node's ``id``, ``lat`` or ``lon`` set to ``value`` (in XML as text; a PBF written with it)."""

    def make(f: Path, r: random.Random, n: str) -> Job:
        nodes, ways = extract(r)
        nid, lat, lon, tags = nodes[0]
        new = {"id": nid, "lat": lat, "lon": lon, field: value}
        nodes[0] = (new["id"], new["lat"], new["lon"], tags)  # type: ignore[assignment]
        if field == "id":
            ways = [(w, [value if ref == nid else ref for ref in refs], t) for w, refs, t in ways]  # type: ignore[misc]
        return _job(write(f / f"{n}{suffix}", nodes, ways), kind)

    return make


def truncated(suffix: str) -> Callable[[Path, random.Random, str], Job]:
    def make(f: Path, r: random.Random, n: str) -> Job:
        path = write(f / f"{n}{suffix}", *extract(r))
        raw = path.read_bytes()
        path.write_bytes(raw[: r.randint(len(raw) // 4, len(raw) * 3 // 4)])
        return _job(path, "truncated")

    return make


def billion_laughs(f: Path, r: random.Random, n: str) -> Job:
    entities = ['<!ENTITY a "' + "a" * 50 + '">']
    for k in "bcdefgh":
        prev = chr(ord(k) - 1)
        entities.append(f'<!ENTITY {k} "' + f"&{prev};" * 20 + '">')
    text = (
        to_xml(*extract(r))
        .replace(
            "<?xml version='1.0' encoding='UTF-8'?>",
            "<?xml version='1.0' encoding='UTF-8'?>\n<!DOCTYPE osm [\n" + "\n".join(entities) + "\n]>",
        )
        .replace('v="Kita ', 'v="&h;Kita ', 1)
    )
    path = f / f"{n}.osm"
    path.write_text(text, encoding="utf-8")
    return _job(path, "entity bomb")


def bz2_bomb(f: Path, r: random.Random, n: str, size: int = 300 << 20) -> Job:
    """The issue's ``.osm.bz2`` bomb (3 GB there: ``size=3 << 30``): an extract, then blanks."""
    head = to_xml(*extract(r)).replace("</osm>\n", "").encode()
    return _job(cm.bz2_bomb(f / f"{n}.osm.bz2", head, size), "bomb")


def gz_bomb(f: Path, r: random.Random, n: str) -> Job:
    path = f / f"{n}.osm.gz"
    path.write_bytes(gzip.compress(to_xml(*extract(r)).encode()) + cm.deflate_bomb_bytes(200 << 20))
    return _job(path, "bomb")


def pbf_raw_size(f: Path, r: random.Random, n: str) -> Job:
    """A block declaring 1 GB unpacked (the field ``raw_size`` patched)."""
    path = write_pbf(f / f"{n}.osm.pbf", *extract(r))
    raw = bytearray(path.read_bytes())
    head = int.from_bytes(raw[:4], "big")
    blob = 4 + head
    assert raw[blob] == 0x10, "libosmium writes raw_size (field 2) first"
    end = blob + 1
    while raw[end] & 0x80:
        end += 1
    raw[blob + 1 : end + 1] = bytes([0x80, 0x80, 0x80, 0x80, 0x04])  # 2^30
    path.write_bytes(bytes(raw))
    return _job(path, "bomb")


def pbf_garbage_header(f: Path, r: random.Random, n: str) -> Job:
    path = write_pbf(f / f"{n}.osm.pbf", *extract(r))
    raw = bytearray(path.read_bytes())
    raw[4:20] = bytes(r.randrange(256) for _ in range(16))
    path.write_bytes(bytes(raw))
    return _job(path, "corrupt")


def pbf_huge_header(f: Path, r: random.Random, n: str) -> Job:
    path = write_pbf(f / f"{n}.osm.pbf", *extract(r))
    raw = bytearray(path.read_bytes())
    raw[0:4] = (10**9).to_bytes(4, "big")
    path.write_bytes(bytes(raw))
    return _job(path, "corrupt")


def text_file(suffix: str, data: bytes, kind: str) -> Callable[[Path, random.Random, str], Job]:
    def make(f: Path, r: random.Random, n: str) -> Job:
        path = f / f"{n}{suffix}"
        path.write_bytes(data)
        return _job(path, kind)

    return make


def no_highways(f: Path, r: random.Random, n: str) -> Job:
    nodes, ways = extract(r)
    ways = [(w, refs, {"building": "yes"}) for w, refs, _ in ways]
    return _job(write(f / f"{n}.osm.pbf", nodes, ways), "no network")


DEFECTS: dict[str, Callable[[Path, random.Random, str], Job]] = {
    "nan_lat": node_edit("lat", "nan", "coordinate", ".osm"),
    "lat_95_xml": node_edit("lat", 95.5, "coordinate", ".osm"),
    "lon_366_xml": node_edit("lon", 366.1, "coordinate", ".osm"),
    "lon_200_xml": node_edit("lon", 200.5, "coordinate", ".osm"),
    "lat_95_pbf": node_edit("lat", 95.5, "coordinate", ".osm.pbf"),
    "lon_200_pbf": node_edit("lon", 200.5, "coordinate", ".osm.pbf"),
    "id_past_int64": node_edit("id", "9223372036854775808", "id", ".osm"),
    "id_word": node_edit("id", "abc", "id", ".osm"),
    "unclosed_tag": xml_edit("</node>", "<node>", "xml"),
    "not_osm_root": xml_edit('<osm version="0.6"', '<gpx version="1.1"', "xml"),
    "html_page": text_file(".osm", b"<!DOCTYPE html><html><body>502 Bad Gateway</body></html>", "not osm"),
    "billion_laughs": billion_laughs,
    "truncated_xml": truncated(".osm"),
    "truncated_bz2": truncated(".osm.bz2"),
    "truncated_pbf": truncated(".osm.pbf"),
    "bz2_bomb": bz2_bomb,
    "gz_bomb": gz_bomb,
    "pbf_raw_size_1gb": pbf_raw_size,
    "pbf_garbage_header": pbf_garbage_header,
    "pbf_huge_header": pbf_huge_header,
    "empty_pbf": text_file(".osm.pbf", b"", "empty"),
    "empty_xml": text_file(".osm", b"", "empty"),
    "text_as_pbf": text_file(".osm.pbf", b"Dies ist kein OSM-Auszug.\n" * 50, "not osm"),
    "bz2_of_garbage": text_file(".osm.bz2", bz2.compress(b"\x00\x01garbage" * 500), "not osm"),
    "no_highways": no_highways,
}


def hostile(folder: Path, rng: random.Random, per_defect: int = 1) -> list[Job]:
    """``per_defect`` extracts of every defect (expect a refusal)."""
    return cm.hostile_jobs(DEFECTS, folder, rng, per_defect)


def generate(folder: Path, n: int, rng: random.Random) -> list[Job]:
    """``n`` cases: about a quarter valid extracts, half with one defect, a quarter byte mutants."""
    return cm.generated_jobs(valid, DEFECTS, folder, n, rng, text_members=False)
