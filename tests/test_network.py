"""Street networks: graph building per mode, snapping, multi-source travel times, matrices, isochrones."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import osmnx as ox
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from geo.errors import CRSError, DataError, SourceUnavailableError, ValidationError
from geo.modes import MODES
from geo.network import Network
from geo.settings import PROJECTED_CRS, Settings
from geo.sources import streets
from geo.sources.streets import WAY_FILTERS, build_graph_from_polygon, build_graph_from_xml, load_network
from planning.network import (
    isochrones,
    nearest_facility_time,
    snap,
    travel_time_matrix,
    travel_time_to_nearest,
)

pytest_plugins = ("loopback",)

X0, Y0 = 294_000.0, 5_628_000.0  # central Aachen in EPSG:25832
WALK_MPS = MODES["walk"].speed_kmh / 3.6  # type: ignore[operator]  # 1.25 m/s: 75 m take exactly 60 s


def make_graph(
    coords: dict[int, tuple[float, float]],
    edges: Iterable[tuple[int, int, float]],
    *,
    speed_mps: float = WALK_MPS,
    both_ways: bool = True,
    mode: str = "walk",
) -> nx.MultiDiGraph:
    """An osmnx-style graph in EPSG:25832: x/y on nodes, length/highway/travel_time on edges."""
    G = nx.MultiDiGraph(crs=PROJECTED_CRS, mode=mode)
    for node, (x, y) in coords.items():
        G.add_node(node, x=X0 + x, y=Y0 + y)
    for u, v, length in edges:
        pairs = [(u, v), (v, u)] if both_ways else [(u, v)]
        for a, b in pairs:
            G.add_edge(a, b, length=length, highway="residential", travel_time=length / speed_mps)
    return G


def points(xy: Iterable[tuple[float, float]], index: Iterable[object] | None = None) -> gpd.GeoDataFrame:
    geoms = [shapely.Point(X0 + x, Y0 + y) for x, y in xy]
    return gpd.GeoDataFrame(geometry=geoms, index=None if index is None else list(index), crs=PROJECTED_CRS)


def pos(net: Network, ids: Iterable[int]) -> np.ndarray:
    lookup = {int(n): i for i, n in enumerate(net.node_ids)}
    return np.array([lookup[i] for i in ids], dtype=np.intp)


@pytest.fixture
def street() -> Network:
    """A walkable street 1-2-3-4-5 (75 m blocks = 60 s) with a side street 3-6 (150 m = 120 s).

    4-5 also has a parallel 300 m detour that must never be used.
    """
    coords = {1: (0, 0), 2: (75, 0), 3: (150, 0), 4: (225, 0), 5: (300, 0), 6: (150, 150)}
    edges = [(1, 2, 75.0), (2, 3, 75.0), (3, 4, 75.0), (4, 5, 75.0), (4, 5, 300.0), (3, 6, 150.0)]
    return Network.from_graph(make_graph(coords, edges))


@pytest.fixture
def one_way() -> Network:
    """A one-way road 0 → 1 → 2, 75 m per edge at 30 km/h = 9 s."""
    G = make_graph(
        {0: (0, 0), 1: (75, 0), 2: (150, 0)},
        [(0, 1, 75.0), (1, 2, 75.0)],
        speed_mps=30 / 3.6,
        both_ways=False,
        mode="drive",
    )
    return Network.from_graph(G)


# ------------------------------------------------------------------ Network


def test_network_matrix_keeps_fastest_parallel_edge(street: Network) -> None:
    assert street.n_nodes == 6
    assert street.mode == "walk"
    four, five = pos(street, [4, 5])
    assert street.matrix[four, five] == pytest.approx(60.0)
    assert street.matrix.nnz == 10  # 5 streets, both ways, parallel edge merged
    np.testing.assert_allclose(street.xy[pos(street, [6])[0]], [X0 + 150, Y0 + 150])


def test_zero_length_edge_is_kept_as_stored_zero() -> None:
    net = Network.from_graph(make_graph({1: (0, 0), 2: (0, 0), 3: (75, 0)}, [(1, 2, 0.0), (2, 3, 75.0)]))
    assert net.matrix.nnz == 4
    np.testing.assert_allclose(nearest_facility_time(net, pos(net, [3])), [60.0, 60.0, 0.0])


def test_network_refuses_geographic_graph(raises_matching) -> None:
    G = make_graph({1: (0, 0), 2: (75, 0)}, [(1, 2, 75.0)])
    G.graph["crs"] = "EPSG:4326"
    with raises_matching(CRSError, "EPSG:25832", "project_graph"):
        Network.from_graph(G)


def test_network_reports_all_edges_without_travel_time() -> None:
    G = make_graph({1: (0, 0), 2: (75, 0), 3: (150, 0)}, [(1, 2, 75.0), (2, 3, 75.0)])
    del G.edges[1, 2, 0]["travel_time"]
    G.edges[3, 2, 0]["travel_time"] = -5.0
    with pytest.raises(ValidationError, match="2 Problem") as info:
        Network.from_graph(G)
    assert {p.column for p in info.value.problems} == {"travel_time"}


# ------------------------------------------------------------------ nearest facility


def test_nearest_facility_time_hand_worked(street: Network) -> None:
    times = nearest_facility_time(street, pos(street, [1]))
    np.testing.assert_allclose(times[pos(street, [1, 2, 3, 4, 5, 6])], [0, 60, 120, 180, 240, 240])
    both = nearest_facility_time(street, pos(street, [1, 5, 5]))
    np.testing.assert_allclose(both[pos(street, [1, 2, 3, 4, 5, 6])], [0, 60, 120, 60, 0, 240])


def test_nearest_facility_time_is_the_time_to_the_facility(one_way: Network) -> None:
    # Families drive 0 → 1 → 2: from 0 the facility at 2 is 18 s away, the reverse is impossible.
    np.testing.assert_allclose(nearest_facility_time(one_way, pos(one_way, [2])), [18.0, 9.0, 0.0])
    np.testing.assert_array_equal(nearest_facility_time(one_way, pos(one_way, [0])), [0.0, np.inf, np.inf])


def test_no_facility_means_unreachable(street: Network) -> None:
    assert np.isinf(nearest_facility_time(street, np.array([], dtype=int))).all()


def test_bad_facility_node_is_reported(street: Network, raises_matching) -> None:
    with raises_matching(DataError, "außerhalb des Netzes", "snap()"):
        nearest_facility_time(street, [0, 99])


@st.composite
def random_graphs(draw: st.DrawFn) -> nx.MultiDiGraph:
    n = draw(st.integers(2, 9))
    edges = draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1), st.integers(0, 30)), max_size=3 * n))
    coords = {i: (float(10 * i), 0.0) for i in range(n)}
    return make_graph(coords, [(u, v, float(w)) for u, v, w in edges], both_ways=False, speed_mps=1.0)


@settings(max_examples=100, deadline=None)
@given(G=random_graphs(), data=st.data())
def test_nearest_time_matches_networkx_and_never_rises_with_more_facilities(
    G: nx.MultiDiGraph, data: st.DataObject
) -> None:
    net = Network.from_graph(G)
    nodes = list(G.nodes)
    chosen = data.draw(st.lists(st.sampled_from(nodes), min_size=1, max_size=4))
    extra = data.draw(st.sampled_from(nodes))
    times = nearest_facility_time(net, pos(net, chosen))
    reference = nx.multi_source_dijkstra_path_length(G.reverse(copy=False), set(chosen), weight="travel_time")
    np.testing.assert_array_equal(times, [reference.get(int(v), np.inf) for v in net.node_ids])
    more = nearest_facility_time(net, pos(net, [*chosen, extra]))
    assert np.all(more <= times)


# ------------------------------------------------------------------ snapping and demand


def test_snap_marks_far_points_unreachable(street: Network) -> None:
    result = snap(street, points([(0, 10), (0, 2000)]), max_snap_m=500)
    np.testing.assert_array_equal(result.node[:1], pos(street, [1]))
    np.testing.assert_allclose(result.distance_m, [10.0, np.hypot(150, 1850)])
    np.testing.assert_array_equal(result.reachable, [True, False])
    assert result.n_unreachable == 1


def test_travel_time_to_nearest_reports_unreachable_not_covered(street: Network) -> None:
    demand = points([(225, 5), (0, 2000), (150, 140)], index=["Wohnblock A", "Aussiedlerhof", "Seitenstraße"])
    kitas = points([(0, 10), (3000, 3000)])  # the second Kita is 3 km from any street: ignored
    out = travel_time_to_nearest(street, demand, kitas, max_snap_m=500)
    assert list(out.index) == ["Wohnblock A", "Aussiedlerhof", "Seitenstraße"]
    assert list(out.columns) == ["minutes", "snap_m", "reachable", "node"]
    assert out.loc["Wohnblock A", "minutes"] == pytest.approx(3.0)
    assert out.loc["Seitenstraße", "minutes"] == pytest.approx(4.0)
    assert np.isnan(out.loc["Aussiedlerhof", "minutes"])
    assert out["reachable"].tolist() == [True, False, True]
    assert out.loc["Aussiedlerhof", "snap_m"] == pytest.approx(np.hypot(150, 1850))
    covered_10min = (out["minutes"] <= 10).sum()
    assert covered_10min == 2  # the farm is not silently counted as covered


def test_connected_point_without_path_gets_inf(one_way: Network) -> None:
    out = travel_time_to_nearest(one_way, points([(150, 3)]), points([(0, 0)]))
    assert np.isinf(out["minutes"].iloc[0])
    assert not out["reachable"].iloc[0]


def test_snap_refuses_lonlat_and_reports_every_bad_row(street: Network, raises_matching) -> None:
    lonlat = gpd.GeoDataFrame(geometry=[shapely.Point(6.08, 50.77)], crs="EPSG:4326")
    with raises_matching(CRSError, "EPSG:25832"):
        snap(street, lonlat, 500)
    bad = gpd.GeoDataFrame(
        geometry=[shapely.Point(X0, Y0), None, shapely.LineString([(X0, Y0), (X0 + 1, Y0)])], crs=PROJECTED_CRS
    )
    with pytest.raises(ValidationError, match="2 Problem") as info:
        snap(street, bad, 500)
    assert [p.row for p in info.value.problems] == [2, 3]


# ------------------------------------------------------------------ matrices


def test_travel_time_matrix_hand_worked(street: Network) -> None:
    origins = pos(street, [1, 1, 6, 3])
    dests = pos(street, [1, 5])
    m = travel_time_matrix(street, origins, dests, cutoff_s=240.0)
    assert m.shape == (4, 2)
    expected = np.array([[0.0, 240.0], [0.0, 240.0], [240.0, 240.0], [120.0, 120.0]])
    np.testing.assert_allclose(m.toarray(), expected)
    assert m.nnz == 8  # the two zeros are stored: origin on the facility's node
    tight = travel_time_matrix(street, origins, dests, cutoff_s=239.0)
    assert tight.nnz == 4
    np.testing.assert_allclose(tight.toarray(), np.where(expected <= 239, expected, 0))


@pytest.mark.parametrize(("origins", "dests"), [([0], [1, 2]), ([0, 1, 2, 2], [2])])
def test_travel_time_matrix_respects_direction_from_either_side(
    one_way: Network, origins: list[int], dests: list[int]
) -> None:
    m = travel_time_matrix(one_way, pos(one_way, origins), pos(one_way, dests), cutoff_s=100)
    full = np.array([[0, 9, 18], [np.inf, 0, 9], [np.inf, np.inf, 0]])
    expected = full[np.ix_(origins, dests)]
    dense = np.full(m.shape, np.inf)
    coo = m.tocoo()
    dense[coo.row, coo.col] = coo.data
    np.testing.assert_array_equal(dense, expected)


@settings(max_examples=60, deadline=None)
@given(G=random_graphs(), data=st.data())
def test_travel_time_matrix_matches_networkx(G: nx.MultiDiGraph, data: st.DataObject) -> None:
    net = Network.from_graph(G)
    nodes = list(G.nodes)
    origins = data.draw(st.lists(st.sampled_from(nodes), min_size=1, max_size=6))
    dests = data.draw(st.lists(st.sampled_from(nodes), min_size=1, max_size=6))
    cutoff = data.draw(st.sampled_from([0.0, 10.0, 25.0, 1000.0]))
    m = travel_time_matrix(net, pos(net, origins), pos(net, dests), cutoff)
    dense = np.full(m.shape, np.inf)
    coo = m.tocoo()
    dense[coo.row, coo.col] = coo.data
    for i, o in enumerate(origins):
        lengths = nx.single_source_dijkstra_path_length(G, o, weight="travel_time")
        row = [lengths.get(d, np.inf) for d in dests]
        np.testing.assert_array_equal(dense[i], [t if t <= cutoff else np.inf for t in row])


# ------------------------------------------------------------------ isochrones


def test_isochrones_contain_exactly_the_reachable_nodes(street: Network) -> None:
    facilities = points([(0, 10), (4000, 0)], index=["Kita Nord", "Kita weit weg"])
    iso = isochrones(street, facilities, minutes=(4, 1, 2))
    assert iso.crs == PROJECTED_CRS
    assert list(iso.columns) == ["facility_id", "minutes", "geometry"]
    assert iso["facility_id"].tolist() == ["Kita Nord"] * 3 + ["Kita weit weg"] * 3
    assert iso["minutes"].tolist() == [1.0, 2.0, 4.0] * 2
    node_points = shapely.points(street.xy)
    reached = {1.0: [1, 2], 2.0: [1, 2, 3], 4.0: [1, 2, 3, 4, 5, 6]}
    for (_, row), limit in zip(iso.iloc[:3].iterrows(), [1.0, 2.0, 4.0], strict=True):
        inside = set(street.node_ids[shapely.contains(row.geometry, node_points)].tolist())
        assert inside == set(reached[limit]), limit
    assert iso.iloc[3:].geometry.is_empty.all()  # not connected: empty, never a fake area


def test_isochrones_refuse_bad_minutes(street: Network, raises_matching) -> None:
    with raises_matching(DataError, "positive Minutenwerte"):
        isochrones(street, points([(0, 0)]), minutes=(0, 5))


# ------------------------------------------------------------------ building graphs

TINY_OSM = """<?xml version='1.0' encoding='UTF-8'?>
<osm version="0.6" generator="hand-written test">
  <node id="1" lat="50.7700" lon="6.0800"/>
  <node id="2" lat="50.7700" lon="6.0810"/>
  <node id="3" lat="50.7700" lon="6.0820"/>
  <node id="4" lat="50.7710" lon="6.0810"/>
  <node id="5" lat="50.7690" lon="6.0810"/>
  <node id="6" lat="50.7710" lon="6.0820"/>
  <node id="7" lat="50.7705" lon="6.0830"/>
  <node id="8" lat="50.7705" lon="6.0840"/>
  <node id="9" lat="50.7695" lon="6.0840"/>
  <way id="10"><nd ref="1"/><nd ref="2"/><nd ref="3"/>
    <tag k="highway" v="residential"/><tag k="maxspeed" v="30"/></way>
  <way id="11"><nd ref="2"/><nd ref="4"/><tag k="highway" v="footway"/></way>
  <way id="12"><nd ref="2"/><nd ref="5"/><tag k="highway" v="cycleway"/></way>
  <way id="13"><nd ref="3"/><nd ref="6"/><tag k="highway" v="residential"/><tag k="oneway" v="yes"/></way>
  <way id="14"><nd ref="3"/><nd ref="7"/><tag k="highway" v="service"/><tag k="access" v="private"/></way>
  <way id="15"><nd ref="7"/><nd ref="8"/><nd ref="9"/><nd ref="7"/><tag k="building" v="yes"/></way>
  <way id="16"><nd ref="3"/><nd ref="99"/><tag k="highway" v="footway"/></way>
</osm>
"""


@pytest.fixture
def tiny_osm(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.osm"
    path.write_text(TINY_OSM, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("mode", "nodes", "oneway_kept"),
    [
        ("walk", {1, 2, 4, 6}, False),  # footway yes, cycleway no; 3 is simplified away (2-3-6)
        ("bike", {1, 2, 3, 5, 6}, True),  # cycleway yes, footway no
        ("drive", {1, 3, 6}, True),  # only the residential streets; node 2 is simplified away
    ],
)
def test_build_graph_from_xml_per_mode(
    tiny_osm: Path, settings: Settings, mode: str, nodes: set[int], oneway_kept: bool
) -> None:
    G = build_graph_from_xml(tiny_osm, mode, settings)  # type: ignore[arg-type]
    assert set(G.nodes) == nodes  # never the private service road, the building or the clipped way 16
    assert G.graph["crs"] == PROJECTED_CRS
    assert G.graph["mode"] == mode
    # the one-way residential way 13 (3 → 6): one edge in bike/drive graphs, both ways for walking
    on_way_13 = [(u, v) for u, v, osmid in G.edges(data="osmid") if 13 in np.atleast_1d(osmid)]
    assert len(on_way_13) == (1 if oneway_kept else 2)
    xs = [d["x"] for _, d in G.nodes(data=True)]
    assert 290_000 < min(xs) < max(xs) < 300_000  # metres in UTM 32N, not degrees
    for _, _, d in G.edges(data=True):
        speed = 30.0 if mode == "drive" else MODES[mode].speed_kmh  # drive: maxspeed 30, imputed for way 13
        assert d["speed_kph"] == pytest.approx(speed)
        assert d["travel_time"] == pytest.approx(d["length"] / (speed / 3.6), rel=1e-3)
    net = Network.from_graph(G)
    assert net.mode == mode


def test_build_graph_from_xml_errors(tmp_path: Path, settings: Settings, raises_matching) -> None:
    with raises_matching(SourceUnavailableError, "nicht gefunden"):
        build_graph_from_xml(tmp_path / "fehlt.osm", "walk", settings)
    broken = tmp_path / "kaputt.osm"
    broken.write_text("<osm><node id='1'></osm>", encoding="utf-8")
    with raises_matching(DataError, "kaputt.osm", "Zeile 1", "keine gültige OSM-XML-Datei"):
        build_graph_from_xml(broken, "walk", settings)
    no_roads = tmp_path / "gebaeude.osm"
    no_roads.write_text(TINY_OSM.replace('k="highway"', 'k="building"'), encoding="utf-8")
    with raises_matching(DataError, "keine Wege", "walk"):
        build_graph_from_xml(no_roads, "walk", settings)
    with raises_matching(DataError, "Unbekannter Verkehrsmodus »tram«"):
        build_graph_from_xml(no_roads, "tram", settings)  # type: ignore[arg-type]


@pytest.mark.parametrize("mode", ["walk", "bike", "drive"])
def test_way_filters_are_the_osmnx_network_types(mode: str) -> None:
    # Guard: the offline filter must stay the one osmnx sends to Overpass online.
    assert WAY_FILTERS[mode] == ox._overpass._get_network_filter(mode)


def test_load_network_parses_a_file_once_per_mode_and_content(
    tiny_osm: Path, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    real = streets.read_street_network

    def counting(path: Path, mode: str, *, clip: shapely.Geometry | None = None, **kwargs: object) -> Network:
        calls.append(mode)
        return real(path, mode, clip=clip, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(streets, "read_street_network", counting)
    monkeypatch.setattr(streets, "_MEMORY", streets.OrderedDict())
    first = load_network("walk", settings, osm_file=tiny_osm)
    second = load_network("walk", settings, osm_file=tiny_osm)
    assert calls == ["walk"] and second is first  # second call: from memory
    streets._MEMORY.clear()
    from_disk = load_network("oepnv", settings, osm_file=tiny_osm)  # public transport walks: same network
    assert calls == ["walk"]
    np.testing.assert_array_equal(from_disk.node_ids, first.node_ids)
    np.testing.assert_array_equal(from_disk.xy, first.xy)
    assert (from_disk.matrix != first.matrix).nnz == 0
    load_network("bike", settings, osm_file=tiny_osm)
    assert calls == ["walk", "bike"]
    files = sorted((settings.cache_dir / "networks").iterdir())
    assert [f.suffix for f in files] == [".npz", ".npz"]
    # a renamed copy with the same content hits the cache; changed content does not
    copy = tiny_osm.with_name("umbenannt.osm")
    copy.write_bytes(tiny_osm.read_bytes())
    load_network("walk", settings, osm_file=copy)
    assert calls == ["walk", "bike"]
    copy.write_text(TINY_OSM.replace('v="30"', 'v="50"'), encoding="utf-8")
    load_network("walk", settings, osm_file=copy)
    assert calls == ["walk", "bike", "walk"]
    # a broken cache entry is rebuilt
    streets._MEMORY.clear()
    for f in (settings.cache_dir / "networks").iterdir():
        f.write_bytes(b"kein npz")
    load_network("bike", settings, osm_file=tiny_osm)
    assert calls == ["walk", "bike", "walk", "bike"]


def test_load_network_clips_to_the_area_plus_buffer(tiny_osm: Path, settings: Settings) -> None:
    whole = load_network("walk", settings, osm_file=tiny_osm)
    x, y = whole.xy[0]
    near = load_network("walk", settings, osm_file=tiny_osm, area=shapely.Point(x, y).buffer(1.0), buffer_m=0.0)
    assert near.n_nodes < whole.n_nodes
    assert near.n_nodes >= 1
    buffered = load_network("walk", settings, osm_file=tiny_osm, area=shapely.Point(x, y).buffer(1.0), buffer_m=5_000.0)
    assert buffered.n_nodes == whole.n_nodes


def test_load_network_errors(tmp_path: Path, settings: Settings, raises_matching) -> None:
    with raises_matching(SourceUnavailableError, "fehlt.osm", "nicht gefunden"):
        load_network("walk", settings, osm_file=tmp_path / "fehlt.osm")
    with raises_matching(DataError, "Unbekannter Verkehrsmodus »tram«"):
        load_network("tram", settings, osm_file=tmp_path / "fehlt.osm")
    with raises_matching(DataError, "Planungsgebiet"):
        load_network("walk", settings)


def test_graph_from_polygon_offline_and_crs_checks(settings: Settings, raises_matching) -> None:
    area = shapely.box(X0, Y0, X0 + 500, Y0 + 500)
    offline = Settings(online=False).with_home(settings.cache_dir.parent)
    with raises_matching(SourceUnavailableError, "abgeschaltet", "--osm"):
        build_graph_from_polygon(area, "walk", offline)
    with raises_matching(CRSError, "nicht in NRW", "EPSG:25832"):
        build_graph_from_polygon(shapely.box(6.07, 50.76, 6.09, 50.78), "walk", settings)


def overpass_json() -> bytes:
    """An Overpass answer for the tiny street: residential 1-2-3 and a footway 2-4."""
    tiny = {"1": (50.7700, 6.0800), "2": (50.7700, 6.0810), "3": (50.7700, 6.0820), "4": (50.7710, 6.0810)}
    elements: list[dict[str, object]] = [
        {"type": "node", "id": int(i), "lat": lat, "lon": lon} for i, (lat, lon) in tiny.items()
    ]
    elements += [
        {"type": "way", "id": 10, "nodes": [1, 2, 3], "tags": {"highway": "residential"}},
        {"type": "way", "id": 11, "nodes": [2, 4], "tags": {"highway": "footway"}},
    ]
    return json.dumps({"version": 0.6, "elements": elements}).encode("utf-8")


def test_graph_from_polygon_against_loopback_overpass(loopback, settings: Settings, monkeypatch) -> None:
    loopback.route("/api/interpreter", overpass_json(), content_type="application/json")
    monkeypatch.setattr(ox.settings, "overpass_url", loopback.url("/api"))
    monkeypatch.setattr(ox.settings, "overpass_rate_limit", False)
    monkeypatch.setattr(ox.settings, "use_cache", False)
    area = shapely.Point(294_850, 5_627_120).buffer(2000)  # around the tiny street (checked below)
    G = build_graph_from_polygon(area, "walk", settings)
    assert set(G.nodes) == {1, 2, 3, 4}
    assert G.graph["crs"] == PROJECTED_CRS
    assert all(d["speed_kph"] == MODES["walk"].speed_kmh for _, _, d in G.edges(data=True))
    query = loopback.requests_to("/api/interpreter")[0].query["data"][0]
    assert '["foot"!~"no"]' in query  # osmnx sent the walk filter
    assert "poly:" in query


def test_graph_from_polygon_server_error_is_source_unavailable(
    loopback, settings: Settings, monkeypatch, raises_matching
) -> None:
    loopback.route("/api/interpreter", b"kaputt", status=400, content_type="text/plain")
    monkeypatch.setattr(ox.settings, "overpass_url", loopback.url("/api"))
    monkeypatch.setattr(ox.settings, "overpass_rate_limit", False)
    monkeypatch.setattr(ox.settings, "use_cache", False)
    with raises_matching(SourceUnavailableError, "Overpass", "OSM-Datei"):
        build_graph_from_polygon(shapely.Point(294_850, 5_627_120).buffer(2000), "walk", settings)


# ------------------------------------------------------------------ real network (Aachen)


@pytest.fixture(scope="module")
def aachen_walk(aachen_osm_xml: Path, tmp_path_factory: pytest.TempPathFactory) -> nx.MultiDiGraph:
    """The walk graph of the Aachen extract, parsed once per module (cached in tmp)."""
    settings = Settings().with_home(tmp_path_factory.mktemp("aachen"))
    return build_graph_from_xml(aachen_osm_xml, "walk", settings)


@pytest.fixture(scope="module")
def aachen_kitas(shared_data: Path) -> gpd.GeoDataFrame:
    facilities = gpd.read_file(shared_data / "facilities" / "aachen_osm2021_facilities.geojson")
    return facilities[facilities["amenity"] == "kindergarten"].to_crs(PROJECTED_CRS)


@pytest.mark.slow
def test_aachen_walk_graph_is_filtered_and_timed(aachen_walk: nx.MultiDiGraph) -> None:
    assert aachen_walk.graph["crs"] == PROJECTED_CRS
    assert 10_000 < aachen_walk.number_of_nodes() < 25_000
    assert nx.is_strongly_connected(aachen_walk)  # walk graphs are bidirectional
    highways = {h for _, _, h in aachen_walk.edges(data="highway") for h in ([h] if isinstance(h, str) else h)}
    assert "footway" in highways
    assert not highways & {"cycleway", "motorway", "construction", "proposed"}
    for _, _, d in aachen_walk.edges(data=True):
        assert d["travel_time"] == pytest.approx(d["length"] / WALK_MPS, rel=1e-3)


@pytest.mark.slow
def test_aachen_nearest_kita_equals_per_kita_dijkstra(
    aachen_walk: nx.MultiDiGraph, aachen_kitas: gpd.GeoDataFrame
) -> None:
    assert len(aachen_kitas) == 94
    net = Network.from_graph(aachen_walk)
    snapped = snap(net, aachen_kitas, max_snap_m=500)
    assert snapped.reachable.all()
    kita_nodes = net.node_ids[np.unique(snapped.node)]
    times = nearest_facility_time(net, snapped.node)

    sample = np.random.default_rng(2021).choice(net.n_nodes, size=200, replace=False)
    reverse = aachen_walk.reverse(copy=False)  # times *to* the Kita
    per_kita = [nx.single_source_dijkstra_path_length(reverse, int(k), weight="travel_time") for k in kita_nodes]
    expected = [min(lengths.get(int(net.node_ids[v]), np.inf) for lengths in per_kita) for v in sample]
    np.testing.assert_array_equal(times[sample], expected)  # exactly, not approximately
    assert np.isfinite(times).all()
    assert times.max() > 600  # the extract is larger than a 10-minute walk around any Kita
