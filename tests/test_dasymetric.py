"""OSM buildings → 100 m cells: classification, exact Gemeinde totals, partial extracts, real Aachen."""

from __future__ import annotations

import bz2
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import Transformer
from shapely.geometry import Point, box

from geo.errors import CRSError, DataError
from geo.sources.buildings import buildings_from_file, extract_coverage
from planning.dasymetric import COARSE_LABEL, SOURCE_LABEL, dasymetric_grid, estimate_target_groups
from planning.demand import demand_from_grid
from planning.resolution import check_resolution

pytest_plugins = ("loopback",)

CRS = "EPSG:25832"
X0, Y0 = 294_000.0, 5_628_000.0  # central Aachen, UTM 32N


def _osm_xml() -> str:
    """Four buildings and one residential landuse around (6.08 E, 50.77 N), drawn as closed ways."""
    to_ll = Transformer.from_crs(CRS, "EPSG:4326", always_xy=True)
    nodes, ways, nid = [], [], 1

    def ring(x0: float, y0: float, x1: float, y1: float) -> list[int]:
        nonlocal nid
        ids = []
        for x, y in ((x0, y0), (x1, y0), (x1, y1), (x0, y1)):
            lon, lat = to_ll.transform(x, y)
            nodes.append(f'<node id="{nid}" version="1" lat="{lat:.7f}" lon="{lon:.7f}"/>')
            ids.append(nid)
            nid += 1
        return [*ids, ids[0]]

    def way(wid: int, refs: list[int], tags: dict[str, str]) -> None:
        nd = "".join(f'<nd ref="{r}"/>' for r in refs)
        tg = "".join(f'<tag k="{k}" v="{v}"/>' for k, v in tags.items())
        ways.append(f'<way id="{wid}" version="1">{nd}{tg}</way>')

    way(100, ring(X0, Y0, X0 + 20, Y0 + 10), {"building": "apartments", "building:levels": "5"})  # 200 m² × 5
    way(101, ring(X0 + 300, Y0, X0 + 310, Y0 + 10), {"building": "yes"})  # in landuse → residential, 2 levels
    way(102, ring(X0 + 600, Y0, X0 + 630, Y0 + 30), {"building": "school"})
    way(103, ring(X0 + 320, Y0, X0 + 324, Y0 + 4), {"building": "yes"})  # 16 m²: a shed
    way(104, ring(X0 + 200, Y0 - 100, X0 + 500, Y0 + 100), {"landuse": "residential"})
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<osm version="0.6" generator="test">\n'
        + "\n".join(nodes + ways)
        + "\n</osm>\n"
    )


@pytest.fixture
def osm_file(tmp_path: Path) -> Path:
    path = tmp_path / "mini.osm.bz2"
    path.write_bytes(bz2.compress(_osm_xml().encode()))
    return path


def test_buildings_are_read_and_classified(osm_file: Path) -> None:
    b = buildings_from_file(osm_file).set_index("osm_id")
    assert b.crs == CRS
    assert b.loc[200, "residential"] and b.loc[202, "residential"]  # way ids × 2 (pyosmium area ids)
    assert not b.loc[204, "residential"] and not b.loc[206, "residential"]
    assert b.loc[200, "footprint_m2"] == pytest.approx(200, rel=1e-3)
    assert b.loc[200, "levels"] == 5 and np.isnan(b.loc[202, "levels"])
    assert b.loc[202, "reason"] == "building=yes in landuse=residential"
    assert extract_coverage(osm_file, b.reset_index()) is not None


def test_dasymetric_hand_computed(osm_file: Path) -> None:
    b = buildings_from_file(osm_file)
    gem = gpd.GeoDataFrame(
        {"ags": ["05334002"], "population": [1_200]},
        geometry=[box(X0 - 1_000, Y0 - 1_000, X0 + 1_000, Y0 + 1_000)],
        crs=CRS,
    )
    r = dasymetric_grid(b, gem)
    cells = r.fine_cells.sort_values("population", ascending=False)
    # floor areas 200 × 5 = 1000 m² and 100 × 2 = 200 m² → 1000 and 200 people, in two different 100 m cells
    assert cells["population"].tolist() == [1_000, 200]
    assert cells["gitter_id"].str.fullmatch(r"CRS3035RES100mN\d+E\d+").all()
    assert (cells["quelle"] == SOURCE_LABEL).all()
    assert int(r.cells["population"].sum()) == 1_200
    demand = demand_from_grid(r.cells, level="osm")
    assert set(demand["resolution"]) == {"osm_100m"} and (demand["level"] == "osm").all()
    with pytest.raises(CRSError):
        dasymetric_grid(b.to_crs("EPSG:4326"), gem)


def test_partial_extract_puts_the_rest_in_a_labelled_coarse_point(osm_file: Path) -> None:
    b = buildings_from_file(osm_file)
    gem = gpd.GeoDataFrame(
        {"ags": ["05334002"], "population": [100_000]},
        geometry=[box(X0 - 1_000, Y0 - 9_000, X0 + 9_000, Y0 + 1_000)],
        crs=CRS,
    )
    coverage = box(X0 - 1_000, Y0 - 1_000, X0 + 1_000, Y0 + 1_000)  # 4 % of the Gemeinde
    places = gpd.GeoDataFrame({"population": [5_000]}, geometry=[Point(X0 + 5_000, Y0 - 5_000)], crs=CRS)
    r = dasymetric_grid(b, gem, coverage=coverage, places=places, floor_area_per_person_m2=60.0)
    # 1200 m² floor area at 60 m² per person: 20 people in cells, the other 99 980 at the place outside
    assert int(r.covered_population.iloc[0]) == 20
    coarse = r.cells[r.cells["resolution"] == "osm_grob"]
    assert coarse["population"].tolist() == [99_980] and (coarse["quelle"] == COARSE_LABEL).all()
    assert coarse.geometry.iloc[0].equals(places.geometry.iloc[0])
    assert int(r.cells["population"].sum()) == 100_000
    demand = demand_from_grid(r.cells, level="osm")
    verdict = check_resolution(demand, None, 1_000)
    assert not verdict.ok and verdict.message.startswith("Auflösung zu grob für diese Frage")


def _synthetic_buildings(sizes: list[tuple[int, int, int]]) -> gpd.GeoDataFrame:
    geoms, rows = [], []
    for i, (cx, cy, fp) in enumerate(sizes):
        side = float(np.sqrt(fp))
        geoms.append(box(X0 + cx * 37.0, Y0 + cy * 41.0, X0 + cx * 37.0 + side, Y0 + cy * 41.0 + side))
        rows.append(
            {
                "osm_id": i,
                "building": "house",
                "levels": np.nan,
                "footprint_m2": float(fp),
                "residential": True,
                "reason": "test",
            }
        )
    return gpd.GeoDataFrame(rows, geometry=geoms, crs=CRS)


@settings(max_examples=40, deadline=None)
@given(
    sizes=st.lists(st.tuples(st.integers(0, 120), st.integers(0, 120), st.integers(30, 900)), min_size=1, max_size=60),
    pops=st.tuples(st.integers(0, 2_000_000), st.integers(0, 2_000_000)),
)
@pytest.mark.slow
def test_gemeinde_totals_are_preserved_exactly(sizes, pops) -> None:
    b = _synthetic_buildings(sizes)
    # two Gemeinden split at x = X0 + 2200 m
    gem = gpd.GeoDataFrame(
        {"ags": ["05334002", "05334004"], "population": list(pops)},
        geometry=[box(X0 - 100, Y0 - 100, X0 + 2_200, Y0 + 5_100), box(X0 + 2_200, Y0 - 100, X0 + 5_100, Y0 + 5_100)],
        crs=CRS,
    )
    r = dasymetric_grid(b, gem)
    sums = r.cells.groupby("gemeinde_ags")["population"].sum()
    for ags, pop in zip(gem["ags"], pops, strict=True):
        has = ags in set(r.covered_population.index)
        assert int(sums.get(ags, 0)) == (pop if has else 0)
    assert (r.cells["population"] >= 0).all()
    assert r.fine_cells["gitter_id"].notna().all()


def test_no_residential_building_is_an_error(osm_file: Path) -> None:
    b = buildings_from_file(osm_file).assign(residential=False)
    gem = gpd.GeoDataFrame({"ags": ["05334002"], "population": [1]}, geometry=[box(X0, Y0, X0 + 1, Y0 + 1)], crs=CRS)
    with pytest.raises(DataError, match="Keine Wohngebäude"):
        dasymetric_grid(b, gem)


def test_target_groups_on_estimated_cells_are_labelled() -> None:
    cells = pd.DataFrame({"population": [200, 100], "gemeinde_ags": ["05334002", "05111000"]})
    shares = pd.DataFrame({"u3": [0.025], "foreign": [0.2]}, index=pd.Index(["05334002"], name="gemeinde_ags"))
    got = estimate_target_groups(cells, shares, "Anteil der Gemeinde")
    assert got["zg_u3"].tolist() == [5.0, 0.0] and got["zg_foreign"].tolist() == [40.0, 0.0]
    assert got["zg_u3_quelle"].tolist() == [f"{SOURCE_LABEL}; Zielgruppe: Anteil der Gemeinde", "kein Anteil bekannt"]


@pytest.mark.slow
@pytest.mark.shared
def test_real_aachen_from_osm_and_destatis_2019(shared_data: Path) -> None:
    from geo.layers.loading import load_layer
    from geo.settings import Settings
    from geo.sources.destatis import read_gemeinde_population

    pbf = shared_data / "osm" / "aachen.osm.pbf"
    buildings = buildings_from_file(pbf)
    coverage = extract_coverage(pbf)
    assert coverage is not None
    gem = gpd.read_file(shared_data / "boundaries" / "nrw_gemeinden_vg250_simplify200.geojson").to_crs(CRS)
    pop = read_gemeinde_population(shared_data / "population" / "nrw_gemeinden_destatis_gv_2019.csv").table
    gem = gem.rename(columns={"AGS": "ags"})[["ags", "geometry"]].merge(pop[["ags", "population"]], on="ags")
    r = dasymetric_grid(buildings, gem, coverage=coverage, places=load_layer("orte", Settings()))
    aachen = r.cells[r.cells["gemeinde_ags"] == "05334002"]
    fine = aachen[aachen["resolution"] == "osm_100m"]
    assert len(fine) >= 2_000
    assert fine["gitter_id"].is_unique
    # the extract covers 29 % of the city's area: the cells hold the floor-area bound of the covered part,
    # the remainder sits in a coarse point outside it; together exactly the official 248 960
    assert 0.25 < r.covered_share_area["05334002"] < 0.32
    assert int(aachen["population"].sum()) == 248_960
    assert int(fine["population"].sum()) == int(r.covered_population["05334002"])
    assert 100_000 < int(fine["population"].sum()) < 248_960
    assert not coverage.intersects(aachen[aachen["resolution"] == "osm_grob"].geometry.iloc[0])


def test_osm_demand_workflow_from_the_store(osm_file: Path, tmp_path: Path) -> None:
    from geo.importing import import_file
    from geo.settings import Settings
    from integrationsatlas.osm_demand import osm_demand

    settings = Settings().with_home(tmp_path / "home")
    path = tmp_path / "gem.geojson"
    gpd.GeoDataFrame(
        {"AGS": ["05334002"], "GEN": ["Aachen"], "EWZ": [1_200]},
        geometry=[box(X0 - 1_000, Y0 - 1_000, X0 + 1_000, Y0 + 1_000)],
        crs=CRS,
    ).to_crs("EPSG:4326").to_file(path, driver="GeoJSON")
    import_file(path, "gemeinde", settings, mode="replace")
    demand = osm_demand(settings, osm_file)
    assert demand.level == "osm" and demand.total_population == 1_200
    # the .osm.bz2 has no bounding box in its header: the extract counts as covering the buildings' hull only,
    # so most of the 4 km² Gemeinde is an uncovered remainder at a coarse point
    assert set(demand.points["resolution"]) == {"osm_100m", "osm_grob"}
    assert demand.points.loc[demand.points["resolution"] == "osm_100m", "population"].sum() == 19  # 1200 m² / 62.7
    foreign = osm_demand(settings, osm_file, "foreign")
    assert "Kreis" in foreign.target_group.label
    assert foreign.points["weight_quelle"].str.contains("Regionalatlas").all()
    with pytest.raises(DataError, match="Alter_in_infrastrukturellen"):
        osm_demand(settings, osm_file, "u3")


def _overpass_buildings() -> bytes:
    """An Overpass answer: a house (closed way 1-2-3-4), a school and a residential landuse."""
    import json

    to_ll = Transformer.from_crs(CRS, "EPSG:4326", always_xy=True)
    corners = {
        1: (X0, Y0),
        2: (X0 + 20, Y0),
        3: (X0 + 20, Y0 + 10),
        4: (X0, Y0 + 10),
        5: (X0 + 100, Y0),
        6: (X0 + 130, Y0),
        7: (X0 + 130, Y0 + 30),
        8: (X0 + 100, Y0 + 30),
    }
    nodes = []
    for i, (x, y) in corners.items():
        lon, lat = to_ll.transform(x, y)
        nodes.append({"type": "node", "id": i, "lat": lat, "lon": lon})
    ways = [
        {"type": "way", "id": 10, "nodes": [1, 2, 3, 4, 1], "tags": {"building": "house"}},
        {"type": "way", "id": 11, "nodes": [5, 6, 7, 8, 5], "tags": {"building": "school", "amenity": "school"}},
    ]
    return json.dumps({"version": 0.6, "elements": nodes + ways}).encode("utf-8")


def test_buildings_from_overpass_via_osmnx(loopback, monkeypatch, raises_matching) -> None:
    import osmnx as ox

    from geo.errors import SourceUnavailableError
    from geo.sources.buildings import buildings_from_polygon

    monkeypatch.setattr(ox.settings, "overpass_url", loopback.url("/api"))
    monkeypatch.setattr(ox.settings, "overpass_rate_limit", False)
    monkeypatch.setattr(ox.settings, "use_cache", False)
    area = gpd.GeoSeries([box(X0 - 500, Y0 - 500, X0 + 500, Y0 + 500)], crs=CRS).to_crs("EPSG:4326").iloc[0]
    loopback.route("/api/interpreter", _overpass_buildings(), content_type="application/json")
    b = buildings_from_polygon(area).set_index("osm_id")
    assert b.crs == CRS
    assert b.loc[10, "residential"] and not b.loc[11, "residential"]
    assert b.loc[10, "footprint_m2"] == pytest.approx(200, rel=1e-3)
    loopback.route("/api/interpreter", b"kaputt", status=400, content_type="text/plain")
    with raises_matching(SourceUnavailableError, "Overpass", "osm.pbf"):
        buildings_from_polygon(area)


def test_osm_demand_takes_target_groups_from_a_loaded_zensus_grid(osm_file: Path, tmp_path: Path) -> None:
    from geo.importing import import_file
    from geo.settings import Settings
    from geo.sources.zensus import import_zensus
    from integrationsatlas.osm_demand import osm_demand

    settings = Settings().with_home(tmp_path / "home")
    path = tmp_path / "gem.geojson"
    gpd.GeoDataFrame(
        {"AGS": ["05334002"], "GEN": ["Aachen"], "EWZ": [1_200]},
        geometry=[box(X0 - 1_000, Y0 - 1_000, X0 + 1_000, Y0 + 1_000)],
        crs=CRS,
    ).to_crs("EPSG:4326").to_file(path, driver="GeoJSON")
    import_file(path, "gemeinde", settings, mode="replace")
    # 3 × 3 Zensus 1 km cells around the buildings: 1000 people, 30 under 3 (3 %) each
    x, y = Transformer.from_crs(CRS, "EPSG:3035", always_xy=True).transform(X0, Y0)
    e0, n0 = int(x // 1000) * 1000, int(y // 1000) * 1000
    ids = [(n0 + dn * 1000, e0 + de * 1000) for dn in (-1, 0, 1) for de in (-1, 0, 1)]
    pop = "GITTER_ID_1km;x_mp_1km;y_mp_1km;Einwohner\n" + "".join(
        f"CRS3035RES1000mN{n}E{e};{e + 500};{n + 500};1000\n" for n, e in ids
    )
    age = "GITTER_ID_1km;x_mp_1km;y_mp_1km;Insgesamt_Bevoelkerung;Unter3;a3bis5;a6bis9\n" + "".join(
        f"CRS3035RES1000mN{n}E{e};{e + 500};{n + 500};1000;30;30;40\n" for n, e in ids
    )
    (tmp_path / "pop.csv").write_text(pop, encoding="utf-8")
    (tmp_path / "age.csv").write_text(age, encoding="utf-8")
    import_zensus([tmp_path / "pop.csv", tmp_path / "age.csv"], settings)
    demand = osm_demand(settings, osm_file, "u3")
    fine = demand.points[demand.points["resolution"] == "osm_100m"]
    assert fine["weight"].sum() == pytest.approx(0.03 * fine["population"].sum())
    assert fine["weight_quelle"].str.contains("Anteil der Zensus-2022-Zelle \\(1 km\\)").all()
    assert "Zensus-Zelle" in demand.target_group.label
