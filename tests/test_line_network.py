"""Street networks from line files (:mod:`geo.sources.line_network`).

The real-data test writes the walk ways of the shared Aachen extract
(``osm/aachen.osm.pbf``, ODbL) as a GeoPackage of lines into the test's
temporary folder and checks that the line reader gives the travel times of the
OSM reader on the same ways; nothing derived is kept.
"""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from pyproj import Transformer
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree
from shapely import LineString, MultiLineString, Point

from geo.errors import CRSError, DataError
from geo.settings import DISPLAY_CRS, PROJECTED_CRS, Settings
from geo.sources.line_network import JUNCTION_TOLERANCE_M, is_line_network, read_line_network, street_name_points
from geo.sources.network_tiles import is_land_scale
from geo.sources.osm_pbf import accepted_ways, read_street_network
from geo.sources.streets import load_network
from geo.store import DataStore
from integrationsatlas.cli import main
from planning import door_to_door

X0, Y0 = 294_000.0, 5_628_000.0  # central Aachen in EPSG:25832


def _gpkg(tmp_path: Path, geoms: list[object], crs: object = PROJECTED_CRS, name: str = "netz.gpkg") -> Path:
    path = tmp_path / name
    gpd.GeoDataFrame({"name": [f"Weg {i}" for i in range(len(geoms))]}, geometry=geoms, crs=crs).to_file(path)
    return path


def _time_between(net: object, p: tuple[float, float], q: tuple[float, float]) -> float:
    """Seconds on ``net`` between the nodes at ``p`` and ``q``."""
    tree = cKDTree(net.xy)  # type: ignore[attr-defined]
    i, j = (int(tree.query(pt)[1]) for pt in (p, q))
    return float(dijkstra(net.matrix, indices=i)[j])  # type: ignore[attr-defined]


def test_lines_meet_at_shared_vertices_but_not_where_they_merely_cross(tmp_path: Path) -> None:
    # a street west-east with a vertex at its middle; a side street ending at that vertex (T-junction);
    # a bridge crossing the street at x=+300 without a common vertex
    street = LineString([(X0, Y0), (X0 + 200, Y0), (X0 + 400, Y0)])
    side = LineString([(X0 + 200.004, Y0), (X0 + 200, Y0 + 150)])  # ends 4 mm from the vertex: one junction
    gap = LineString([(X0 + 400.5, Y0), (X0 + 400.5, Y0 + 100)])  # ends 0.5 m from the street: not joined
    bridge = LineString([(X0 + 300, Y0 - 100), (X0 + 300, Y0 + 100)])
    link = LineString([(X0 + 300, Y0 + 100), (X0 + 200, Y0 + 150)])  # joins the bridge to the side street
    net = read_line_network(_gpkg(tmp_path, [street, side, bridge, link, gap]), "walk")
    assert np.isclose(net.xy, [X0 + 400.5, Y0 + 100]).all(axis=1).sum() == 0  # the gap's line is a component apart
    walk_ms = 4.5 / 3.6
    # west end → top of the side street: 200 m along the street, 150 m up
    assert _time_between(net, (X0, Y0), (X0 + 200, Y0 + 150)) == pytest.approx(350 / walk_ms, rel=1e-3)
    # west end → south end of the bridge: no shortcut where the bridge crosses the street
    via_link = 200 + 150 + np.hypot(100, 50) + 200
    assert _time_between(net, (X0, Y0), (X0 + 300, Y0 - 100)) == pytest.approx(via_link / walk_ms, rel=1e-3)
    assert JUNCTION_TOLERANCE_M == 0.01


def test_multilines_reprojected_lengths_and_the_largest_component(tmp_path: Path) -> None:
    to_lonlat = Transformer.from_crs(PROJECTED_CRS, DISPLAY_CRS, always_xy=True)

    def lonlat(*pts: tuple[float, float]) -> list[tuple[float, float]]:
        return [to_lonlat.transform(x, y) for x, y in pts]

    main = MultiLineString(
        [lonlat((X0, Y0), (X0 + 500, Y0)), lonlat((X0 + 500, Y0), (X0 + 500, Y0 + 500))]
    )  # two parts, one path of 1 km
    stray = LineString(lonlat((X0 + 5000, Y0), (X0 + 5010, Y0)))  # 10 m far away: dropped
    net = read_line_network(_gpkg(tmp_path, [main, stray], crs=DISPLAY_CRS, name="netz.geojson"), "bike")
    assert net.n_nodes == 3
    assert net.lengths is not None and net.lengths.sum() / 2 == pytest.approx(1000, rel=1e-4)
    assert net.matrix.data.max() == pytest.approx(500 / (15 / 3.6), rel=1e-4)  # bike speed


def test_refusals_name_the_file_and_the_fix(tmp_path: Path) -> None:
    line = LineString([(X0, Y0), (X0 + 100, Y0)])
    with pytest.raises(DataError, match=r"netz\.gpkg.*keine Geschwindigkeiten.*zu Fuß"):
        read_line_network(_gpkg(tmp_path, [line]), "drive")
    with pytest.raises(DataError, match=r"punkte\.gpkg: keine Linien gefunden \(POINT\)"):
        read_line_network(_gpkg(tmp_path, [Point(X0, Y0)], name="punkte.gpkg"), "walk")
    with pytest.raises(DataError, match=r"im Planungsgebiet .* keine Linie"):
        read_line_network(_gpkg(tmp_path, [line]), "walk", clip=Point(X0 + 9000, Y0).buffer(100))
    loose = tmp_path / "Strassen.shp"
    gpd.GeoDataFrame(geometry=[line], crs=PROJECTED_CRS).to_file(loose)
    with pytest.raises(DataError, match=r"Strassen\.shp: Ein Shapefile besteht aus mehreren Dateien.*ZIP"):
        read_line_network(loose, "walk")
    no_crs = tmp_path / "ohne_crs.geojson"
    no_crs.write_text(
        '{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},'
        '"geometry":{"type":"LineString","coordinates":[[294000,5628000],[294100,5628000]]}}]}',
        encoding="utf-8",
    )
    with pytest.raises(
        (CRSError, DataError),
        match=r"ohne_crs\.geojson: 1 Linien ergeben keine gültigen Koordinaten.*GeoJSON ist immer",
    ):
        read_line_network(no_crs, "walk")


def test_street_names_come_from_the_name_column_as_text(tmp_path: Path) -> None:
    lines = [LineString([(X0, Y0), (X0 + 50, Y0), (X0 + 100, Y0)]), LineString([(X0, Y0), (X0, Y0 + 80)])]
    path = tmp_path / "abschnitte.gpkg"
    names = ["Am Rosengarten", "<b>Dachsweg</b>"]
    gpd.GeoDataFrame({"NUMMER": ["1", "2"], "STRASSE": names}, geometry=lines, crs=PROJECTED_CRS).to_file(path)
    points = street_name_points(path)
    assert points is not None and points["name"].tolist() == [names[0]] * 3 + [names[1]] * 2  # every vertex, as given
    second = shapely.get_coordinates(points.geometry.to_numpy())[1]
    assert points.crs == PROJECTED_CRS and second.tolist() == [X0 + 50, Y0]
    plain = street_name_points(_gpkg(tmp_path, lines, name="wege.gpkg"))  # a column »name« serves too
    assert plain is not None and plain["name"].iloc[0] == "Weg 0"
    unnamed = tmp_path / "nur_nummern.gpkg"
    gpd.GeoDataFrame({"NUMMER": ["1", "2"]}, geometry=lines, crs=PROJECTED_CRS).to_file(unnamed)
    assert street_name_points(unnamed) is None


def test_the_one_loader_reads_line_files_never_in_tiles(tmp_path: Path) -> None:
    path = _gpkg(tmp_path, [LineString([(X0, Y0), (X0 + 90, Y0)]), LineString([(X0 + 90, Y0), (X0 + 90, Y0 + 90)])])
    settings = Settings(data_dir=tmp_path / "store", cache_dir=tmp_path / "cache", network_tile_bytes=1)
    assert is_line_network(path) and not is_land_scale(path, settings)
    walk = load_network("walk", settings, osm_file=path)
    assert walk.matrix.data.max() == pytest.approx(90 / (4.5 / 3.6))
    assert [p.name.split("-")[0] for p in (tmp_path / "cache" / "networks").glob("*.npz")] == ["lines"]
    with pytest.raises(DataError, match="keine Geschwindigkeiten"):
        load_network("drive", settings, osm_file=path)


def write_walk_ways(pbf: Path, target: Path) -> Path:
    """The walk ways of an OSM extract as a GeoPackage of lines at ``target`` (how a city's street segments look)."""
    to_xy = Transformer.from_crs(DISPLAY_CRS, PROJECTED_CRS, always_xy=True)
    lines = []
    for way in accepted_ways(pbf, "walk"):
        x, y = to_xy.transform(np.asarray(way.xs) / 1e7, np.asarray(way.ys) / 1e7)
        lines.append(LineString(np.column_stack([x, y])))
    return _gpkg(target.parent, lines, name=target.name)


@pytest.fixture
def aachen_lines(aachen_osm_pbf: Path, tmp_path: Path) -> Path:
    """The walk ways of the Aachen extract as a GeoPackage of lines (temporary)."""
    return write_walk_ways(aachen_osm_pbf, tmp_path / "aachen_wege.gpkg")


def test_the_walk_ways_of_aachen_as_lines_give_the_osm_readers_times(aachen_osm_pbf: Path, aachen_lines: Path) -> None:
    """The same ways, once as OSM and once as a GeoPackage of lines: node-to-node walking times agree to 0.4 %."""
    path = aachen_lines
    osm = read_street_network(aachen_osm_pbf, "walk")
    ours = read_line_network(path, "walk")
    # every junction of the OSM network is a node of ours (ours keeps the shape vertices too)
    dist, match = cKDTree(ours.xy).query(osm.xy)
    assert dist.max() < JUNCTION_TOLERANCE_M
    rng = np.random.default_rng(7)
    sources = rng.choice(osm.n_nodes, 12, replace=False)
    t_osm = dijkstra(osm.matrix, indices=sources)
    t_ours = dijkstra(ours.matrix, indices=match[sources])[:, match]
    assert (np.isfinite(t_osm) == np.isfinite(t_ours)).all()  # the same largest component
    far = np.isfinite(t_osm) & (t_osm > 60)
    assert far.sum() > 12 * osm.n_nodes * 0.95
    # ours measures in EPSG:25832, osmnx on a sphere of mean radius: about 0.2 % shorter at Aachen
    ratio = t_ours[far] / t_osm[far]
    assert ratio.min() >= 1.0 and ratio.max() < 1.004, f"Verhältnis {ratio.min():.4f}–{ratio.max():.4f}"
    assert 1.001 < float(np.median(ratio)) < 1.003


def test_door_to_door_from_aachen_schools_to_kitas_on_either_network(
    shared_data: Path, aachen_osm_pbf: Path, aachen_lines: Path
) -> None:
    """The door-to-door walk from each of Aachen's schools to its nearest Kita, on the lines and on the OSM file.

    The line network keeps every shape vertex as a node, the OSM reader only junctions, so a door joins the
    network at a different point; that moves single trips by up to 4 minutes either way (of a median of
    4.6), but without bias: the median difference is under 5 s, 75 % of trips agree within 50 s, 90 % within 2 minutes.
    """
    pois = gpd.read_file(shared_data / "facilities" / "aachen_osm2021_facilities.geojson").to_crs(PROJECTED_CRS)
    kitas = shapely.get_coordinates(pois.loc[pois["amenity"] == "kindergarten"].geometry.centroid)
    schools = shapely.get_coordinates(pois.loc[pois["amenity"] == "school"].geometry.centroid)
    door = {"max_snap_m": 500.0, "access_ms": 4.5 / 3.6}
    t_osm = door_to_door.nearest_time(read_street_network(aachen_osm_pbf, "walk"), schools, kitas, **door)
    t_lines = door_to_door.nearest_time(read_line_network(aachen_lines, "walk"), schools, kitas, **door)
    both = np.isfinite(t_osm) & np.isfinite(t_lines)
    assert len(schools) == 62 and both.sum() >= 60
    diff = t_lines[both] - t_osm[both]
    assert abs(np.median(diff)) < 5 and abs(diff.mean()) < 15, f"Abweichung Median {np.median(diff):.0f} s"
    assert np.quantile(np.abs(diff), 0.75) < 50 and np.quantile(np.abs(diff), 0.9) < 120 and np.abs(diff).max() < 240


@pytest.mark.slow
def test_coverage_on_a_line_network_names_it_and_falls_back_from_buildings(
    aachen_lines: Path, shared_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    monkeypatch.setenv("INTEGRATIONSATLAS_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("INTEGRATIONSATLAS_OFFLINE", "1")
    pois = gpd.read_file(shared_data / "facilities" / "aachen_osm2021_facilities.geojson")
    kitas = pois[pois["amenity"] == "kindergarten"]
    frame = gpd.GeoDataFrame(
        {"id": kitas["osm_id"].astype(str), "name": kitas["name"].fillna("Kita")}, geometry=kitas.geometry
    ).to_crs(PROJECTED_CRS)
    DataStore(Settings.from_env().store_path).write_layer(
        "kita", frame, mode="replace", source_file="osm", source="osm", licence="ODbL 1.0"
    )
    assert main(["population", str(shared_data / "population" / "nrw_gemeinden_population_2018.csv")]) == 0
    argv = ["coverage", "--layer", "kita", "--threshold-min", "10", "--mode", "walk", "--area", "05334002"]
    capsys.readouterr()
    assert main([*argv, "--osm", str(aachen_lines), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    notes = " ".join(out["inputs"]["notes"])
    assert "Straßennetz aus aachen_wege.gpkg" in notes
    assert "aachen_wege.gpkg ist ein Straßennetz aus Linien und enthält keine Gebäude" in notes
    # without buildings the demand falls back to a coarser source: too coarse for 10 minutes, and said so
    assert out["resolution"]["ok"] is False, out["demand_level_label"]
    assert main([*argv, "--osm", str(aachen_lines), "--mode", "drive"]) == 2
    assert "keine Geschwindigkeiten" in capsys.readouterr().err
