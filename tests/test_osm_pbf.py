"""The pyosmium street-network reader: same networks as the osmnx path, from PBF, XML and bz2."""

from __future__ import annotations

import bz2
import gzip
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import osmium
import pandas as pd
import pytest
import scipy.sparse as sp
import shapely
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from geo.errors import DataError, SourceUnavailableError
from geo.modes import DRIVE_FALLBACK_KMH, MODES
from geo.network import Network
from geo.settings import PROJECTED_CRS, Settings
from geo.sources import osm_pbf
from geo.sources.osm_pbf import clean_maxspeed, read_street_network
from geo.sources.streets import build_graph_from_xml, load_network
from planning.network import nearest_facility_time, snap

WALK_MPS = MODES["walk"].speed_kmh / 3.6  # type: ignore[operator]


def osm_xml(nodes: dict[int, tuple[float, float]], ways: list[tuple[int, list[int], dict[str, str]]]) -> str:
    """A hand-written OSM XML document (nodes as id → (lat, lon))."""
    lines = ["<?xml version='1.0' encoding='UTF-8'?>", '<osm version="0.6" generator="test">']
    lines += [f'  <node id="{i}" lat="{lat:.7f}" lon="{lon:.7f}"/>' for i, (lat, lon) in sorted(nodes.items())]
    for way_id, refs, tags in ways:
        lines.append(f'  <way id="{way_id}">')
        lines += [f'    <nd ref="{r}"/>' for r in refs]
        lines += [f'    <tag k="{k}" v="{v}"/>' for k, v in tags.items()]
        lines.append("  </way>")
    lines.append("</osm>")
    return "\n".join(lines) + "\n"


def write_pbf(xml: Path, pbf: Path) -> Path:
    """Copy every object of an OSM XML file into a PBF file with pyosmium's SimpleWriter."""
    writer = osmium.SimpleWriter(str(pbf))
    try:
        for obj in osmium.FileProcessor(str(xml)):
            writer.add(obj)
    finally:
        writer.close()
    return pbf


def same_network(a: Network, b: Network) -> None:
    """Same node ids, coordinates and travel times (up to float summation order), any node order."""
    assert a.mode == b.mode
    assert sorted(a.node_ids) == sorted(b.node_ids)
    perm = pd.Index(a.node_ids).get_indexer(pd.Index(b.node_ids))
    np.testing.assert_array_equal(a.xy[perm], b.xy)
    bm = b.matrix.tocoo()
    moved = sp.csr_array((bm.data, (perm[bm.row], perm[bm.col])), shape=a.matrix.shape)
    assert ((a.matrix != 0) != (moved != 0)).nnz == 0  # same edges
    diff = abs(a.matrix - moved)
    assert (diff.max() if diff.nnz else 0.0) < 1e-9


def osmnx_network(path: Path, mode: str, tmp_path: Path) -> Network:
    return Network.from_graph(build_graph_from_xml(path, mode, Settings().with_home(tmp_path)))  # type: ignore[arg-type]


#: A street 1-2-3 (residential, 30 km/h), footway 2-4, cycleway 2-5, one-way 3→6, a private
#: service road, a building and a footway to node 99 that is missing from the extract.
TINY_NODES = {
    1: (50.7700, 6.0800), 2: (50.7700, 6.0810), 3: (50.7700, 6.0820), 4: (50.7710, 6.0810),
    5: (50.7690, 6.0810), 6: (50.7710, 6.0820), 7: (50.7705, 6.0830), 8: (50.7705, 6.0840),
    9: (50.7695, 6.0840),
}  # fmt: skip
TINY_WAYS = [
    (10, [1, 2, 3], {"highway": "residential", "maxspeed": "30"}),
    (11, [2, 4], {"highway": "footway"}),
    (12, [2, 5], {"highway": "cycleway"}),
    (13, [3, 6], {"highway": "residential", "oneway": "yes"}),
    (14, [3, 7], {"highway": "service", "access": "private"}),
    (15, [7, 8, 9, 7], {"building": "yes"}),
    (16, [3, 99], {"highway": "footway"}),
]


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.osm"
    path.write_text(osm_xml(TINY_NODES, TINY_WAYS), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("mode", "nodes"),
    [("walk", {1, 2, 4, 6}), ("bike", {1, 2, 3, 5, 6}), ("drive", {1, 3, 6})],
)
def test_tiny_extract_per_mode_equals_osmnx(tiny: Path, tmp_path: Path, mode: str, nodes: set[int]) -> None:
    net = read_street_network(tiny, mode)  # type: ignore[arg-type]
    assert set(net.node_ids.tolist()) == nodes
    same_network(net, osmnx_network(tiny, mode, tmp_path))
    pbf = read_street_network(write_pbf(tiny, tmp_path / "tiny.osm.pbf"), mode)  # type: ignore[arg-type]
    same_network(pbf, net)
    packed = tmp_path / "tiny.osm.bz2"
    packed.write_bytes(bz2.compress(tiny.read_bytes()))
    same_network(read_street_network(packed, mode), net)  # type: ignore[arg-type]
    gzipped = tmp_path / "tiny.osm.gz"
    gzipped.write_bytes(gzip.compress(tiny.read_bytes()))
    same_network(read_street_network(gzipped, mode), net)  # type: ignore[arg-type]


def test_tiny_walk_times_by_hand(tiny: Path) -> None:
    net = read_street_network(tiny, "walk")
    pos = {int(n): i for i, n in enumerate(net.node_ids)}
    # 1 → 2 along 0.001° of longitude at 50.77° N: haversine, radius 6,371,009 m, at 4.5 km/h
    lat = np.deg2rad(50.77)
    metres = 2 * 6_371_009 * np.arcsin(np.cos(lat) * np.sin(np.deg2rad(0.001) / 2))
    assert net.matrix[pos[1], pos[2]] == pytest.approx(metres / WALK_MPS, rel=1e-9)
    assert net.matrix[pos[2], pos[1]] == pytest.approx(metres / WALK_MPS, rel=1e-9)
    # 2 → 6 is the simplified edge 2-3-6 (3 is interstitial for walking): two segments summed
    north = 2 * 6_371_009 * np.arcsin(np.sin(np.deg2rad(0.001) / 2))
    assert net.matrix[pos[2], pos[6]] == pytest.approx((metres + north) / WALK_MPS, rel=1e-9)
    assert 290_000 < net.xy[:, 0].min() < net.xy[:, 0].max() < 300_000  # EPSG:25832 metres


def test_oneway_rules_for_bike_and_drive(tmp_path: Path) -> None:
    # a grid of four two-way residential streets around the block 1-2-4-3 plus tagged one-ways
    nodes = {i: (50.77 + 0.001 * (i // 10), 6.08 + 0.001 * (i % 10)) for i in (1, 2, 3, 11, 12, 13, 21, 22, 23)}
    two = {"highway": "residential"}
    ways = [
        (1, [1, 2, 3], two), (2, [21, 22, 23], two), (3, [1, 11, 21], two), (4, [3, 13, 23], two),
        (5, [11, 12], {"highway": "residential", "oneway": "yes"}),  # 11 → 12
        (6, [12, 13], {"highway": "residential", "oneway": "-1"}),  # 13 → 12
        (7, [2, 12], {"highway": "residential", "junction": "roundabout"}),  # 2 → 12
        (8, [12, 22], {"highway": "residential", "oneway": "no"}),  # both ways
    ]  # fmt: skip
    path = tmp_path / "oneway.osm"
    path.write_text(osm_xml(nodes, ways), encoding="utf-8")
    for mode in ("bike", "drive"):
        net = read_street_network(path, mode)  # type: ignore[arg-type]
        pos = {int(n): i for i, n in enumerate(net.node_ids)}
        m = net.matrix
        assert m[pos[11], pos[12]] > 0 and m[pos[12], pos[11]] == 0
        assert m[pos[13], pos[12]] > 0 and m[pos[12], pos[13]] == 0
        assert m[pos[2], pos[12]] > 0 and m[pos[12], pos[2]] == 0
        assert m[pos[12], pos[22]] > 0 and m[pos[22], pos[12]] > 0
        same_network(net, osmnx_network(path, mode, tmp_path))
    walk = read_street_network(path, "walk")
    assert (walk.matrix != walk.matrix.T).nnz == 0  # walking ignores one-way tags


def test_drive_speeds_from_maxspeed_with_imputation(tmp_path: Path) -> None:
    # a street 0-1-…-7 with a living-street spur at every inner node, so that no node is simplified away
    nodes = {i: (50.77, 6.08 + 0.001 * i) for i in range(8)} | {10 + i: (50.771, 6.08 + 0.001 * i) for i in range(8)}
    spurs = [(20 + i, [i, 10 + i], {"highway": "living_street", "maxspeed": "20"}) for i in range(1, 7)]
    ways = spurs + [
        (1, [0, 1], {"highway": "primary", "maxspeed": "70"}),
        (2, [1, 2], {"highway": "primary", "maxspeed": "DE:urban"}),  # implicit 50
        (3, [2, 3], {"highway": "primary"}),  # imputed: mean of primary edges (70, 50) = 60
        (4, [3, 4], {"highway": "residential", "maxspeed": "30 mph"}),  # 48.28 km/h
        (5, [4, 5], {"highway": "tertiary", "maxspeed": "none"}),  # unreadable: tertiary fallback
        (6, [5, 6], {"highway": "tertiary", "maxspeed": "50|30"}),  # lanes averaged: 40
        (7, [6, 7], {"highway": "unclassified"}),  # no value anywhere: fallback 50
        (8, [3, 13], {"highway": "track"}),  # not driveable
    ]
    path = tmp_path / "speeds.osm"
    path.write_text(osm_xml(nodes, ways), encoding="utf-8")
    net = read_street_network(path, "drive")
    pos = {int(n): i for i, n in enumerate(net.node_ids)}
    seg = 2 * 6_371_009 * np.arcsin(np.cos(np.deg2rad(50.77)) * np.sin(np.deg2rad(0.001) / 2))
    expected = {(0, 1): 70, (1, 2): 50, (2, 3): 60, (3, 4): 30 * 1.60934, (4, 5): 40, (5, 6): 40, (6, 7): 50}
    for (a, b), kmh in expected.items():
        assert net.matrix[pos[a], pos[b]] == pytest.approx(seg / (kmh / 3.6), rel=1e-9), (a, b)
    assert DRIVE_FALLBACK_KMH == 50.0
    same_network(net, osmnx_network(path, "drive", tmp_path))


def test_implicit_maxspeeds_are_osmnx_values() -> None:
    from osmnx.routing import _IMPLICIT_MAXSPEEDS

    assert {k: _IMPLICIT_MAXSPEEDS[k] for k in osm_pbf.IMPLICIT_MAXSPEEDS} == osm_pbf.IMPLICIT_MAXSPEEDS
    assert clean_maxspeed("50,5") == 50.5
    assert np.isnan(clean_maxspeed("walk"))


def test_clip_keeps_whole_ways_with_a_node_inside(tiny: Path) -> None:
    whole = read_street_network(tiny, "walk")
    pos = {int(n): i for i, n in enumerate(whole.node_ids)}
    around_1 = shapely.Point(*whole.xy[pos[1]]).buffer(1.0)
    near = read_street_network(tiny, "walk", clip=around_1)
    # way 10 (1-2-3) touches the clip and is kept whole (2 and 3 lie outside); 2-4 and 3-6 are dropped
    assert set(near.node_ids.tolist()) == {1, 3}
    around_4 = shapely.Point(*whole.xy[pos[4]]).buffer(1.0)
    assert set(read_street_network(tiny, "walk", clip=around_4).node_ids.tolist()) == {2, 4}


def test_errors_are_german_and_name_the_file(tiny: Path, tmp_path: Path, raises_matching) -> None:
    with raises_matching(SourceUnavailableError, "fehlt.osm.pbf", "nicht gefunden", ".osm.pbf"):
        read_street_network(tmp_path / "fehlt.osm.pbf", "walk")
    text = tmp_path / "notizen.osm"
    text.write_text("das ist kein OSM", encoding="utf-8")
    with raises_matching(DataError, "notizen.osm", "keine lesbare OSM-Datei", ".osm.pbf"):
        read_street_network(text, "walk")
    fake_pbf = tmp_path / "kaputt.osm.pbf"
    fake_pbf.write_bytes(b"\x00\x00\x00\x0dnot a pbf at all")
    with raises_matching(DataError, "kaputt.osm.pbf", "keine lesbare OSM-Datei"):
        read_street_network(fake_pbf, "walk")
    buildings = tmp_path / "gebaeude.osm"
    buildings.write_text(osm_xml(TINY_NODES, [(15, [7, 8, 9, 7], {"building": "yes"})]), encoding="utf-8")
    with raises_matching(DataError, "gebaeude.osm", "keine Wege", "»drive«"):
        read_street_network(buildings, "drive")
    with raises_matching(DataError, "tiny.osm", "Planungsgebiet", "kein Weg"):
        read_street_network(tiny, "walk", clip=shapely.box(0, 0, 10, 10))
    ring = tmp_path / "ring.osm"
    ring.write_text(osm_xml(TINY_NODES, [(20, [1, 2, 4, 1], {"highway": "footway"})]), encoding="utf-8")
    with raises_matching(DataError, "ring.osm", "kein Straßennetz"):
        read_street_network(ring, "walk")
    point = tmp_path / "punkt.osm"
    point.write_text(osm_xml(TINY_NODES, [(21, [1, 1], {"highway": "footway"})]), encoding="utf-8")
    with raises_matching(DataError, "punkt.osm", "kein Straßennetz"):
        read_street_network(point, "walk")
    with raises_matching(DataError, "Unbekannter Verkehrsmodus »tram«"):
        read_street_network(tiny, "tram")  # type: ignore[arg-type]


def test_load_network_reads_pbf_and_clips(tiny: Path, tmp_path: Path, settings: Settings) -> None:
    pbf = write_pbf(tiny, tmp_path / "tiny.osm.pbf")
    net = load_network("walk", settings, osm_file=pbf)
    same_network(net, read_street_network(tiny, "walk"))
    x, y = net.xy[np.flatnonzero(net.node_ids == 1)[0]]
    clipped = load_network("walk", settings, osm_file=pbf, area=shapely.Point(x, y).buffer(1.0), buffer_m=0.0)
    assert set(clipped.node_ids.tolist()) == {1, 3}


# ------------------------------------------------------------------ random extracts against osmnx

HIGHWAYS = {
    "walk": ["residential", "footway", "cycleway", "steps"],
    "bike": ["residential", "footway", "cycleway", "steps"],
    "drive": ["residential", "footway"],  # one driveable type: osmnx picks a merged edge's type by set order
}
ONEWAY = [None, "yes", "-1", "reverse", "no", "true", "1", "T", "F"]
MAXSPEED = [None, "30", "50", "DE:urban", "none", "30 mph", "50|30"]


@st.composite
def random_extract(draw: st.DrawFn, mode: str) -> str:
    n = draw(st.integers(3, 10))
    cells = draw(st.lists(st.tuples(st.integers(0, 6), st.integers(0, 6)), min_size=n, max_size=n, unique=True))
    nodes = {i + 1: (50.77 + 0.0003 * a, 6.08 + 0.0004 * b) for i, (a, b) in enumerate(cells)}
    node = st.integers(1, n + 1)  # n + 1 is missing from the extract
    ways = []
    for k in range(draw(st.integers(1, 7))):
        refs = draw(st.lists(node, min_size=2, max_size=6))
        tags = {"highway": draw(st.sampled_from(HIGHWAYS[mode]))}
        for key, values in (("oneway", ONEWAY), ("maxspeed", MAXSPEED)):
            value = draw(st.sampled_from(values))
            if value is not None:
                tags[key] = value
        if draw(st.booleans()) and draw(st.booleans()):
            tags["junction"] = "roundabout"
        ways.append((100 + k, refs, tags))
    return osm_xml(nodes, ways)


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["walk", "bike", "drive"])
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_random_extracts_equal_osmnx(tmp_path: Path, mode: str, data: st.DataObject) -> None:
    path = tmp_path / "random.osm"
    path.write_text(data.draw(random_extract(mode)), encoding="utf-8")
    try:
        expected = osmnx_network(path, mode, tmp_path)
    except DataError:
        with pytest.raises(DataError):
            read_street_network(path, mode)  # type: ignore[arg-type]
        return
    except ValueError:  # osmnx cannot add speeds to a graph without edges
        assume(False)
        return
    if expected.matrix.nnz == 0:  # osmnx keeps one node with self-loops (a ring collapsed onto it): nothing to route
        with pytest.raises(DataError, match="kein Straßennetz"):
            read_street_network(path, mode)  # type: ignore[arg-type]
        return
    same_network(read_street_network(path, mode), expected)  # type: ignore[arg-type]


def test_a_triangle_osmnx_collapses_onto_one_node_is_refused_as_no_network(tmp_path: Path) -> None:
    """Found by the property test: two-way 1-2 and 1-3, one-way 1→2 and 1→3→2 leave osmnx one node, self-loops only."""
    nodes = {1: (50.77, 6.08), 2: (50.77, 6.0804), 3: (50.77, 6.0808)}
    oneway = {"highway": "residential", "oneway": "yes"}
    ways = [(100, [1, 2], {"highway": "residential"}), (101, [1, 3], {"highway": "residential"}),
            (102, [1, 2], oneway), (103, [1, 3, 2], oneway)]  # fmt: skip
    path = tmp_path / "triangle.osm"
    path.write_text(osm_xml(nodes, ways), encoding="utf-8")
    reference = osmnx_network(path, "drive", tmp_path)
    assert reference.n_nodes == 1 and reference.matrix.nnz == 0
    with pytest.raises(DataError, match="kein Straßennetz"):
        read_street_network(path, "drive")


# ------------------------------------------------------------------ Aachen (../shared/data)


@pytest.mark.slow
@pytest.mark.shared
def test_aachen_pbf_and_bz2_equal_the_osmnx_walk_graph(shared_data: Path, tmp_path: Path) -> None:
    pbf_path = shared_data / "osm" / "aachen.osm.pbf"
    start = time.perf_counter()
    net = read_street_network(pbf_path, "walk")
    seconds = time.perf_counter() - start
    assert net.n_nodes == 14_317
    assert seconds < 10  # about 0.6 s on the reference machine; generous for a loaded CI box
    same_network(read_street_network(shared_data / "osm" / "aachen.osm.bz2", "walk"), net)
    reference = osmnx_network(shared_data / "osm" / "aachen.osm.bz2", "walk", tmp_path)
    same_network(net, reference)
    facilities = gpd.read_file(shared_data / "facilities" / "aachen_osm2021_facilities.geojson")
    kitas = facilities[facilities["amenity"] == "kindergarten"].to_crs(PROJECTED_CRS)
    assert len(kitas) == 94
    ours = nearest_facility_time(net, snap(net, kitas, 500.0).node)
    theirs = nearest_facility_time(reference, snap(reference, kitas, 500.0).node)
    order = pd.Index(reference.node_ids).get_indexer(pd.Index(net.node_ids))
    np.testing.assert_allclose(ours, theirs[order], rtol=0, atol=1e-9)
    assert np.isfinite(ours).all()
