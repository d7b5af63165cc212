"""The embedded Gemeinden and public-transport stops (from npm packages), their build steps and layers."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from pyproj import CRS
from shapely.geometry import box, mapping
from shapely.geometry.base import BaseGeometry

from geo.errors import ValidationError
from geo.importing import import_file
from geo.layers.catalog import GEMEINDE, HALTESTELLE, HALTESTELLE_MODI
from geo.layers.loading import load_layer
from geo.settings import Settings
from geo.units import load_boundaries
from scripts.databuild.config import (
    BOUNDARIES_GPKG,
    GEMEINDEN_GPKG,
    N_GEMEINDEN,
    OVERLAP_MAX_KM2,
    STOPS_GPKG,
    STOPS_RANGE,
    TILING_MAX_SHARE,
    TILING_MAX_TOTAL_SHARE,
)
from scripts.databuild.gemeinden import check_gemeinden, read_gemeinden
from scripts.databuild.transit import MODE_CLASSES, MODE_FLAGS, check_stops, mode_class, read_stops, stops_in

DATA = Settings().data_dir
EPSG_25832 = CRS.from_epsg(25832)
#: Smallest IoU of an embedded Gemeinde with the VG250 Gemeinde of ../shared/data (simplified to 200 m there);
#: measured 0.938 (Schmallenberg-area Gemeinden of Kreis 05158 lose most to the simplification).
MIN_IOU = 0.90
MIN_MEDIAN_IOU = 0.96


@pytest.fixture(scope="module")
def gemeinden() -> gpd.GeoDataFrame:
    return gpd.read_file(DATA / GEMEINDEN_GPKG, layer="gemeinde", engine="pyogrio")


@pytest.fixture(scope="module")
def kreise() -> gpd.GeoDataFrame:
    return gpd.read_file(DATA / BOUNDARIES_GPKG, layer="kreis", engine="pyogrio")


@pytest.fixture(scope="module")
def stops() -> gpd.GeoDataFrame:
    return gpd.read_file(DATA / STOPS_GPKG, layer="haltestelle", engine="pyogrio")


# --- committed Gemeinden ----------------------------------------------------


def test_396_gemeinden_with_unique_ags(gemeinden: gpd.GeoDataFrame) -> None:
    assert len(gemeinden) == N_GEMEINDEN == 396
    assert gemeinden["ags"].is_unique and gemeinden["ags"].is_monotonic_increasing
    assert gemeinden["ags"].str.fullmatch(r"05\d{6}").all()
    assert (gemeinden["kreis_ags"] == gemeinden["ags"].str[:5]).all()
    assert set(gemeinden["bez"]) == {"Stadt", "Gemeinde"}
    assert list(gemeinden.columns) == ["ags", "name", "bez", "kreis_ags", "geometry"]
    assert CRS.from_user_input(gemeinden.crs) == EPSG_25832
    assert gemeinden.is_valid.all() and not gemeinden.is_empty.any()
    assert gemeinden.set_index("ags").at["05315000", "name"] == "Köln"


def test_every_gemeinde_lies_in_its_kreis(gemeinden: gpd.GeoDataFrame, kreise: gpd.GeoDataFrame) -> None:
    points = gpd.GeoDataFrame({"ags": gemeinden["ags"]}, geometry=gemeinden.representative_point(), crs=gemeinden.crs)
    joined = gpd.sjoin(
        points, kreise[["ags", "geometry"]].rename(columns={"ags": "kreis"}), predicate="within", how="left"
    )
    assert joined.index.is_unique  # no point on two Kreise
    assert (joined["kreis"] == joined["ags"].str[:5]).all()
    assert gemeinden["kreis_ags"].nunique() == 53


def test_gemeinden_tile_the_kreise(gemeinden: gpd.GeoDataFrame, kreise: gpd.GeoDataFrame) -> None:
    """Bounds as in the build and the README: overlap ≤ 0.01 km², symmetric difference ≤ 20 % per Kreis, ≤ 5 % total."""
    overlap_km2 = (gemeinden.area.sum() - gemeinden.union_all().area) / 1e6
    assert overlap_km2 <= OVERLAP_MAX_KM2
    union = gemeinden.dissolve(by="kreis_ags").geometry.sort_index()
    kreis = kreise.set_index("ags").geometry.sort_index()
    assert list(union.index) == list(kreis.index)
    diff = shapely.area(shapely.symmetric_difference(kreis.to_numpy(), union.to_numpy()))
    share = diff / shapely.area(kreis.to_numpy())
    assert share.max() <= TILING_MAX_SHARE == 0.20
    assert diff.sum() / kreis.area.sum() <= TILING_MAX_TOTAL_SHARE == 0.05
    # total areas agree to 0.1 % (NRW 34 110 km² officially; the generalised Kreise lose a little)
    assert abs(gemeinden.area.sum() / kreis.area.sum() - 1) < 1e-3
    assert 34_000 < gemeinden.area.sum() / 1e6 < 34_200


@pytest.mark.shared
def test_gemeinden_match_shared_vg250(gemeinden: gpd.GeoDataFrame, shared_data: Path) -> None:
    ref = gpd.read_file(shared_data / "boundaries" / "nrw_gemeinden_vg250_simplify200.geojson", engine="pyogrio")
    ref = ref.to_crs(EPSG_25832).set_index("AGS")
    own = gemeinden.set_index("ags")
    assert set(ref.index) == set(own.index) and len(ref) == 396
    a = own.geometry.loc[ref.index].to_numpy()
    b = shapely.make_valid(ref.geometry.to_numpy())
    iou = shapely.area(shapely.intersection(a, b)) / shapely.area(shapely.union(a, b))
    assert iou.min() > MIN_IOU, ref.index[np.argmin(iou)]
    assert np.median(iou) > MIN_MEDIAN_IOU
    assert (own["name"].loc[ref.index] == ref["GEN"]).all()


# --- committed stops ---------------------------------------------------------


def test_stops_count_columns_and_classes(stops: gpd.GeoDataFrame) -> None:
    assert STOPS_RANGE[0] <= len(stops) <= STOPS_RANGE[1]
    assert stops["id"].is_unique and (stops["name"].str.strip() != "").all()
    assert CRS.from_user_input(stops.crs) == EPSG_25832
    assert set(stops.geom_type) == {"Point"}
    counts = stops["modus"].value_counts()
    assert set(counts.index) <= set(HALTESTELLE_MODI)
    assert all(counts.get(c, 0) > 0 for c in MODE_CLASSES)
    assert counts["bus"] > counts["tram_ubahn"] > counts["bahn"] > 500
    # the class is the one derived from the stored flags
    assert (mode_class(stops[list(MODE_FLAGS)]) == stops["modus"].to_numpy()).all()
    for station in ("Köln Hbf", "Düsseldorf Hbf", "Dortmund Hbf"):
        assert stops.loc[stops["name"] == station, "modus"].tolist() == ["bahn"], station


def test_all_stops_inside_nrw(stops: gpd.GeoDataFrame) -> None:
    land = gpd.read_file(DATA / BOUNDARIES_GPKG, layer="land", engine="pyogrio").geometry.iloc[0]
    xy = stops.get_coordinates().to_numpy()
    inside = shapely.contains_xy(land, xy[:, 0], xy[:, 1]) | shapely.intersects_xy(land.boundary, xy[:, 0], xy[:, 1])
    assert inside.all()


# --- layers: declarations and loading ---------------------------------------


def test_layers_are_embedded_and_declared(settings: Settings) -> None:
    assert GEMEINDE.embedded == str(GEMEINDEN_GPKG) and GEMEINDE.sources[0].kind == "embedded"
    assert "BKG" in GEMEINDE.sources[0].attribution
    gem = load_boundaries("gemeinde", settings)
    assert len(gem) == 396 and gem["population"].isna().all()  # population comes from the Destatis import
    stops = load_layer("haltestelle", settings)
    assert HALTESTELLE.group == "poi" and HALTESTELLE.embedded == str(STOPS_GPKG)
    assert set(HALTESTELLE.tooltip) <= set(stops.columns)
    assert set(stops["modus"]) == set(HALTESTELLE.column("modus").choices or ())
    assert HALTESTELLE.extra["filter_column"] == "modus"


def test_imported_vg250_replaces_embedded_gemeinden(tmp_path: Path, settings: Settings) -> None:
    """A newer VG250 replaces the whole embedded set: Köln kept by AGS, a new AGS, no 2016 leftovers."""
    assert len(load_boundaries("gemeinde", settings)) == 396
    newer = gpd.GeoDataFrame(
        {
            "AGS": ["05315000", "05399001"],
            "GEN": ["Köln (neu)", "Neugemeinde"],
            "BEZ": ["Stadt", "Gemeinde"],
            "EWZ": [1_084_831, 1_000],
        },
        geometry=[box(350_000, 5_640_000, 360_000, 5_650_000), box(360_000, 5_640_000, 370_000, 5_650_000)],
        crs="EPSG:25832",
    ).to_crs("EPSG:4326")
    path = tmp_path / "vg250_gem.geojson"
    newer.to_file(path, driver="GeoJSON")
    import_file(path, "gemeinde", settings, mode="replace")
    gem = load_boundaries("gemeinde", settings)
    assert gem["ags"].tolist() == ["05315000", "05399001"]
    assert gem["name"].tolist() == ["Köln (neu)", "Neugemeinde"]
    assert gem["population"].tolist() == [1_084_831, 1_000]
    # the Kreise keep the override-by-id behaviour
    assert len(load_boundaries("kreis", settings)) == 53


# --- build steps on tiny inline data -----------------------------------------


def _feature(ags: str, gen: str, geom: BaseGeometry, gf: int = 4) -> dict[str, object]:
    return {
        "type": "Feature",
        "properties": {"AGS": ags, "GEN": gen, "BEZ": "Stadt", "GF": gf, "WSK": "2009/01/01"},
        "geometry": mapping(geom),
    }


def _to_wgs84(geom: BaseGeometry) -> BaseGeometry:
    return gpd.GeoSeries([geom], crs="EPSG:25832").to_crs("EPSG:4326").iloc[0]


def test_read_gemeinden_flattens_and_filters(tmp_path: Path) -> None:
    west, east = box(350_000, 5_640_000, 360_000, 5_650_000), box(360_000, 5_640_000, 370_000, 5_650_000)
    items = [
        _feature("05315000", "Köln", _to_wgs84(west)),
        {
            "type": "FeatureCollection",
            "features": [
                _feature("05362004", "Bergheim", _to_wgs84(east)),
                _feature("05362004", "Bergheim", _to_wgs84(box(360_000, 5_650_000, 361_000, 5_651_000)), gf=2),
            ],
        },
        _feature("06411000", "Darmstadt", _to_wgs84(box(470_000, 5_520_000, 480_000, 5_530_000))),
    ]
    path = tmp_path / "gemeinden.geo.json"
    path.write_text(json.dumps(items), encoding="utf-8")
    gem = read_gemeinden(path)
    assert gem["ags"].tolist() == ["05315000", "05362004"]
    assert gem["kreis_ags"].tolist() == ["05315", "05362"]
    assert gem["wsk"].tolist() == ["2009-01-01", "2009-01-01"]
    assert gem.area.round(-3).tolist() == [1e8, 1e8]  # the GF 2 water part is dropped; 100 km² each


def test_check_gemeinden_names_every_problem() -> None:
    kreise = gpd.GeoDataFrame(
        {"ags": ["05315", "05362"]},
        geometry=[box(0, 0, 10_000, 10_000), box(10_000, 0, 20_000, 10_000)],
        crs=EPSG_25832,
    )
    gem = gpd.GeoDataFrame(
        {"ags": ["05315000", "05362004"], "name": ["A", "B"], "kreis_ags": ["05315", "05362"]},
        geometry=[box(10_000, 0, 20_000, 10_000), box(0, 0, 10_000, 10_000)],
        crs=EPSG_25832,
    )
    with pytest.raises(ValidationError) as info:
        check_gemeinden(gem, kreise, "gemeinden.geo.json")
    text = str(info.value)
    assert "erwartet 396 Gemeinden, gefunden 2" in text
    assert "Gemeinde 05315000 (A) liegt in 05362, nicht in Kreis 05315" in text
    assert "Kreis 05315: Gemeinden weichen um 200.00% der Kreisfläche ab" in text


def test_stops_in_keeps_points_in_polygon_and_derives_classes(tmp_path: Path) -> None:
    land = gpd.GeoDataFrame({"ags": ["05"]}, geometry=[box(300_000, 5_600_000, 400_000, 5_700_000)], crs=EPSG_25832)
    inside, outside = (_to_wgs84(shapely.Point(x, 5_650_000)) for x in (350_000, 450_000))
    assert isinstance(inside, shapely.Point) and isinstance(outside, shapely.Point)
    products = [{"bus": True, "regionalExpress": True}, {"subway": True, "bus": True}, {"taxi": True}, {"bus": True}]
    lines = [
        json.dumps(
            {
                "id": str(i),
                "name": f"H{i}",
                "type": "station",
                "location": {"latitude": p.y, "longitude": p.x},
                "products": prod,
            }
        )
        for i, (p, prod) in enumerate(zip([inside, inside, inside, outside], products, strict=True))
    ]
    path = tmp_path / "full.ndjson"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    raw = read_stops(path)
    assert len(raw) == 4 and raw["regional"].tolist() == [True, False, False, False]
    kept = stops_in(raw, land)
    assert kept["id"].tolist() == ["0", "1", "2"]
    assert kept["modus"].tolist() == ["bahn", "tram_ubahn", "sonstige"]
    assert kept["verkehrsmittel"].tolist() == ["Bus, Regionalverkehr", "Bus, U-Bahn", ""]
    with pytest.raises(ValidationError, match="3 Haltestellen in NRW, erwartet 50000–70000"):
        check_stops(kept, "full.ndjson")


def test_read_stops_reports_broken_lines(tmp_path: Path) -> None:
    path = tmp_path / "full.ndjson"
    path.write_text(
        '{"id": "1", "name": "A", "location": {"latitude": 51, "longitude": 7}}\n{"id": "2", "name": "B"}\nkein json\n',
        encoding="utf-8",
    )
    with pytest.raises(ValidationError) as info:
        read_stops(path)
    assert [p.row for p in info.value.problems] == [2, 3]
