"""The embedded base data under data/ and the pure parts of its build script."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from pyproj import CRS
from shapely import Point, box

from geo.errors import DataError, SchemaError, ValidationError
from geo.layers.catalog import KI
from geo.settings import Settings
from geo.statistics import kreis_indicators, load_kreis_statistics
from scripts.databuild.config import (
    BOUNDARIES_GPKG,
    KI_GPKG,
    NRW_POPULATION_2019,
    PLACES_GPKG,
    REGBEZ_NAMES,
    STATISTICS_COLUMNS,
)
from scripts.databuild.ki import match_seats
from scripts.databuild.places import assign_kreis
from scripts.databuild.statistics import build_statistics, kreis_sum_tolerance, parse_genesis_csv

DATA = Settings().data_dir
EPSG_25832 = CRS.from_epsg(25832)


def read(path: Path, layer: str) -> gpd.GeoDataFrame:
    return gpd.read_file(DATA / path, layer=layer, engine="pyogrio")


@pytest.fixture(scope="module")
def kreise() -> gpd.GeoDataFrame:
    return read(BOUNDARIES_GPKG, "kreis")


@pytest.fixture(scope="module")
def stats() -> pd.DataFrame:
    return load_kreis_statistics(Settings())


# --- boundaries -----------------------------------------------------------


def test_kreise_53_with_22_kreisfreie_staedte_and_31_kreise(kreise: gpd.GeoDataFrame) -> None:
    assert len(kreise) == 53
    assert kreise["bez"].value_counts().to_dict() == {"Kreis": 31, "Kreisfreie Stadt": 22}
    assert kreise.loc[kreise["ags"] == "05334", "bez"].item() == "Kreis"  # Städteregion Aachen
    assert kreise["ags"].is_unique
    assert kreise["ags"].str.fullmatch(r"05\d{3}").all()
    assert (kreise["regbez"] == kreise["ags"].str[:3]).all()
    assert kreise["wsk"].str.fullmatch(r"\d{4}-\d{2}-\d{2}").all()
    assert list(kreise.columns) == ["ags", "name", "bez", "regbez", "wsk", "geometry"]
    assert kreise["ags"].is_monotonic_increasing


def test_umlauts_are_read_as_utf8(kreise: gpd.GeoDataFrame) -> None:
    names = set(kreise["name"])
    assert {"Köln", "Düsseldorf", "Mönchengladbach", "Märkischer Kreis"} <= names


@pytest.mark.parametrize(("layer", "n"), [("kreis", 53), ("regbez", 5), ("land", 1)])
def test_boundary_layers_are_valid_in_25832(layer: str, n: int) -> None:
    gdf = read(BOUNDARIES_GPKG, layer)
    assert len(gdf) == n
    assert CRS.from_user_input(gdf.crs) == EPSG_25832
    assert gdf.is_valid.all()
    assert gdf.geom_type.isin(["Polygon", "MultiPolygon"]).all()
    assert gdf["ags"].str.startswith("05").all()
    assert gdf["ags"].is_unique


def test_regbez_and_land(kreise: gpd.GeoDataFrame) -> None:
    regbez = read(BOUNDARIES_GPKG, "regbez")
    assert dict(zip(regbez["ags"], regbez["name"], strict=True)) == REGBEZ_NAMES
    land = read(BOUNDARIES_GPKG, "land")
    assert land[["ags", "name"]].to_numpy().tolist() == [["05", "Nordrhein-Westfalen"]]
    # dissolving keeps the area: NRW is about 34,100 km²
    area = kreise.area.sum()
    assert regbez.area.sum() == pytest.approx(area, rel=1e-3)
    assert land.area.sum() == pytest.approx(area, rel=1e-3)
    assert 33_500e6 < land.area.sum() < 34_500e6


# --- statistics -----------------------------------------------------------


def test_statistics_columns_and_levels(stats: pd.DataFrame) -> None:
    assert tuple(stats.columns) == STATISTICS_COLUMNS
    per_year = stats[stats["year"] == 2019]["level"].value_counts().to_dict()
    assert per_year == {"land": 1, "regbez": 5, "kreis": 53}
    assert not stats.duplicated(["ags", "year"]).any()
    assert "05334002" not in set(stats["ags"])  # Stadt Aachen is below Kreis level
    assert "05354" not in set(stats["ags"])  # the former Kreis Aachen (until 2009)


def test_population_2019_total_and_kreise_sum(stats: pd.DataFrame) -> None:
    y2019 = stats[stats["year"] == 2019]
    assert y2019.loc[y2019["level"] == "land", "population"].item() == 17_939_936 == NRW_POPULATION_2019
    kreise = y2019[y2019["level"] == "kreis"]
    assert kreise["population"].notna().all()
    # Destatis rounds every annual mean on its own: the 53 Kreise sum to 17,939,950 (+14).
    assert abs(int(kreise["population"].sum()) - NRW_POPULATION_2019) <= kreis_sum_tolerance(53)
    regbez = y2019[y2019["level"] == "regbez"]
    assert abs(int(regbez["population"].sum()) - NRW_POPULATION_2019) <= kreis_sum_tolerance(5)
    # männlich + weiblich: both rounded on their own as well
    assert (kreise["population"] - kreise["population_m"] - kreise["population_w"]).abs().max() <= 1


def test_statistics_match_the_kreis_layer(stats: pd.DataFrame, kreise: gpd.GeoDataFrame) -> None:
    assert set(stats.loc[stats["level"] == "kreis", "ags"]) == set(kreise["ags"])


def test_kreis_indicators_latest(stats: pd.DataFrame) -> None:
    ind = kreis_indicators(Settings())
    assert ind.index.name == "ags"
    assert len(ind) == 53
    assert ind.index.str.fullmatch(r"05\d{3}").all()
    assert (ind["year"] == 2019).all()
    assert ind["population"].sum() == 17_939_950
    assert ind["foreign_share_pct"].between(0, 100).all()
    assert ind.loc["05315", "population"] == 1_086_764


def test_kreis_indicators_for_a_year_without_regionalatlas() -> None:
    ind = kreis_indicators(Settings(), year=2000)
    assert len(ind) == 53
    assert ind["foreign_share_pct"].isna().all()
    assert ind.loc["05334", "population"] is pd.NA  # the Städteregion exists since 2009
    assert (ind["year"] == 2000).all()


def test_kreis_indicators_unknown_year(raises_matching) -> None:  # type: ignore[no-untyped-def]
    with raises_matching(DataError, "kein Berichtsjahr 1900", "1995–2019"):
        kreis_indicators(Settings(), year=1900)


def test_load_statistics_missing_column(tmp_path: Path, raises_matching) -> None:  # type: ignore[no-untyped-def]
    target = tmp_path / "statistics" / "kreis_statistik.csv"
    target.parent.mkdir()
    pd.read_csv(DATA / "statistics" / "kreis_statistik.csv", dtype=str).drop(columns=["year", "level"]).to_csv(
        target, index=False
    )
    with raises_matching(SchemaError, "kreis_statistik.csv", "level, year", "python -m scripts.databuild"):
        load_kreis_statistics(Settings(data_dir=tmp_path))


def test_load_statistics_collects_row_problems(tmp_path: Path, raises_matching) -> None:  # type: ignore[no-untyped-def]
    target = tmp_path / "statistics" / "kreis_statistik.csv"
    target.parent.mkdir()
    frame = pd.read_csv(DATA / "statistics" / "kreis_statistik.csv", dtype=str, keep_default_na=False)
    frame.loc[0, "ags"] = "06"
    frame.loc[1, "population"] = "viele"
    frame.loc[3] = frame.loc[2]
    frame.to_csv(target, index=False)
    with raises_matching(
        ValidationError,
        "3 Problem",
        "Zeile 2, Spalte »ags«",
        "Zeile 3, Spalte »population«",
        "Zeile 5",
        "doppelt",
    ):
        load_kreis_statistics(Settings(data_dir=tmp_path))


def test_load_statistics_missing_file(tmp_path: Path, raises_matching) -> None:  # type: ignore[no-untyped-def]
    with raises_matching(DataError, "kreis_statistik.csv", "fehlt"):
        load_kreis_statistics(Settings(data_dir=tmp_path))


# --- places ---------------------------------------------------------------


def test_orte(kreise: gpd.GeoDataFrame) -> None:
    orte = read(PLACES_GPKG, "orte")
    assert len(orte) == 569
    assert CRS.from_user_input(orte.crs) == EPSG_25832
    assert list(orte.columns) == ["id", "name", "population", "kreis_ags", "geometry"]
    assert orte["id"].is_unique
    assert set(orte["kreis_ags"]) <= set(kreise["ags"])
    assert (orte.geom_type == "Point").all()
    assert orte.loc[orte["name"] == "Köln", "kreis_ags"].item() == "05315"
    assert (orte["population"] >= 0).all()  # GeoNames has a few places with population 0
    assert orte["population"].sum() > 10_000_000


# --- KI -------------------------------------------------------------------


def test_ki_54_each_inside_its_kreis(kreise: gpd.GeoDataFrame) -> None:
    ki = read(KI_GPKG, "ki")
    assert len(ki) == 54
    assert CRS.from_user_input(ki.crs) == EPSG_25832
    assert list(ki.columns) == [*KI.column_names, "geometry"]
    assert ki["id"].is_unique
    assert {"KI-05170", "KI-05334", "KI-05334002"} <= set(ki["id"])
    assert (ki["location_precision"] == "Ort").all()
    assert ki["source"].str.contains("Koordinaten: GeoNames").all()
    assert ki["strasse"].isna().all()  # never invented
    assert ki["kreis_ags"].value_counts().max() == 2  # only the StädteRegion Aachen holds two
    polygons = kreise.set_index("ags").geometry.loc[ki["kreis_ags"]].to_numpy()
    assert np.all(gpd.GeoSeries(polygons, crs=kreise.crs).covers(ki.geometry.reset_index(drop=True)))
    seats = dict(zip(ki["id"], ki["sitz"], strict=True))
    assert seats["KI-05170"] == "Wesel"
    assert seats["KI-05362"] == "Bergheim"
    assert seats["KI-05766"] == "Detmold"
    assert seats["KI-05334002"] == "Aachen"
    assert (ki["ort"] == ki["sitz"]).all()


# --- pure build functions on tiny inline data -----------------------------

GENESIS_SAMPLE = (
    "GENESIS-Tabelle: 12411-05-01-4\n"
    "Durchschnittliche Jahresbevölkerung;;;;;\n"
    ";;;Insgesamt;männlich;weiblich\n"
    "2019;05;  Nordrhein-Westfalen;100;40;60\n"
    "2019;05334;      Städteregion Aachen (einschl. Stadt Aachen);70;30;40\n"
    "2019;05334002;      Aachen, krfr. Stadt;20;.;x\n"
    "2019;05354;      Aachen, Kreis;-;-;-\n"
    "2019;053;    Köln, Regierungsbezirk;100;40;60\n"
    "2019;05315;      Köln, kreisfreie Stadt;30;10;20\n"
    "2019;06;  Hessen;9;4;5\n"
    "__________\n"
    '"© Statistische Ämter des Bundes und der Länder, Deutschland, 2021."\n'
    "Stand: 20.08.2021 / 09:42:26\n"
).encode("latin-1")

ATLAS_SAMPLE = (
    ";;;Bevölkerungsdichte (EW je qkm);Anteil\n"
    "2019;05;  Nordrhein-Westfalen;526,1;13,4\n"
    "2019;05315;      Köln, kreisfreie Stadt;2.;-1,5\n"
)


def test_parse_genesis_csv_latin1_sample() -> None:
    frame = parse_genesis_csv(GENESIS_SAMPLE.decode("latin-1"), ["population", "population_m", "population_w"])
    assert frame["ags"].tolist() == ["05", "05334", "05334002", "05354", "053", "05315", "06"]
    assert frame.loc[1, "name"] == "Städteregion Aachen (einschl. Stadt Aachen)"
    assert frame["year"].tolist() == [2019] * 7
    values = frame[["population", "population_m", "population_w"]].to_numpy()
    np.testing.assert_array_equal(
        values[:4], [[100.0, 40.0, 60.0], [70.0, 30.0, 40.0], [20.0, np.nan, np.nan], [np.nan] * 3]
    )
    atlas = parse_genesis_csv(ATLAS_SAMPLE, ["density", "share"])
    assert atlas["density"].tolist()[0] == 526.1
    assert np.isnan(atlas["density"].tolist()[1])  # "2." is not a GENESIS number
    assert atlas["share"].tolist() == [13.4, -1.5]


def test_parse_genesis_csv_reports_bad_lines(raises_matching) -> None:  # type: ignore[no-untyped-def]
    with raises_matching(ValidationError, "Datei t.csv, Zeile 2", "4 statt 3 Felder"):
        parse_genesis_csv("x\n2019;05;NRW;1\n", [], source="t.csv")


def test_build_statistics_levels_and_dropped_rows() -> None:
    pop = parse_genesis_csv(GENESIS_SAMPLE.decode("latin-1"), ["population", "population_m", "population_w"])
    atlas = parse_genesis_csv(
        "2019;05;  NRW;526,1;1;13,4;1;1;1;1\n2018;05315;  Köln;2456,9;1;16,5;1;1;1;1\n",
        [
            "density_per_km2",
            "population_change_per_10000",
            "foreign_share_pct",
            "births_per_10000",
            "deaths_per_10000",
            "natural_balance_per_10000",
            "migration_balance_per_10000",
        ],
    )
    stats = build_statistics(pop, atlas, kreis_ags=["05334", "05315"])
    assert tuple(stats.columns) == STATISTICS_COLUMNS
    assert stats[["ags", "year", "level"]].to_numpy().tolist() == [
        ["05", 2019, "land"],
        ["053", 2019, "regbez"],
        ["05315", 2018, "kreis"],
        ["05315", 2019, "kreis"],
        ["05334", 2019, "kreis"],
    ]
    assert stats["population"].dtype == "Int64"
    assert stats.loc[stats["level"] == "kreis", "population"].sum() == 100
    koeln_2018 = stats[(stats["ags"] == "05315") & (stats["year"] == 2018)].iloc[0]
    assert koeln_2018["population"] is pd.NA
    assert koeln_2018["foreign_share_pct"] == 16.5
    assert koeln_2018["name"] == "Köln, kreisfreie Stadt"  # population table's name wins


@pytest.fixture
def toy_kreise() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"ags": ["05958", "05966"]}, geometry=[box(0, 0, 10, 10), box(10, 0, 20, 10)], crs="EPSG:25832"
    )


def test_match_seats_prefers_place_inside_kreis_then_population(toy_kreise: gpd.GeoDataFrame) -> None:
    places = gpd.GeoDataFrame(
        {
            "id": ["1", "2", "3", "4", "5"],
            "name": ["Olpe", "Olpe", "Meschede", "Mülheim", "Olpe"],
            "population": [900_000, 25_000, 30_000, 170_000, 400],
            "alternatenames": [(), (), (), ("Mülheim an der Ruhr",), ()],
        },
        # "1" is the biggest Olpe but lies in the other Kreis; "5" is inside but smaller
        geometry=[Point(2, 2), Point(15, 5), Point(5, 5), Point(18, 8), Point(11, 1)],
        crs="EPSG:25832",
    )
    register = pd.DataFrame(
        {"kreis_ags": ["05966", "05958", "05966"], "sitz": ["Olpe", "Meschede", "Mülheim an der Ruhr"]},
        index=[10, 11, 12],
    )
    located = match_seats(register, places, toy_kreise)
    assert located.index.tolist() == [10, 11, 12]
    assert located["geonames_id"].tolist() == ["2", "3", "4"]
    assert located.geometry.tolist() == [Point(15, 5), Point(5, 5), Point(18, 8)]


def test_match_seats_reports_every_missing_seat(toy_kreise: gpd.GeoDataFrame, raises_matching) -> None:  # type: ignore[no-untyped-def]
    places = gpd.GeoDataFrame(
        {"id": ["1"], "name": ["Olpe"], "population": [25_000]}, geometry=[Point(2, 2)], crs="EPSG:25832"
    )
    register = pd.DataFrame({"kreis_ags": ["05966", "05958"], "sitz": ["Olpe", "Atlantis"]})
    with raises_matching(ValidationError, "2 Problem", "»Olpe« nicht", "Kreis 05966", "»Atlantis«"):
        match_seats(register, places, toy_kreise)


def test_assign_kreis_nearest_fallback_and_drop(toy_kreise: gpd.GeoDataFrame) -> None:
    places = gpd.GeoDataFrame(geometry=[Point(5, 5), Point(10, 5), Point(21, 5), Point(100, 100)], crs="EPSG:25832")
    result = assign_kreis(places, toy_kreise, max_distance_m=2)
    # on the shared border → smaller AGS; 1 m outside → nearest; 90+ m away → dropped
    assert result["kreis_ags"].to_dict() == {0: "05958", 1: "05958", 2: "05966"}


# --- real-data check against ../shared/data -------------------------------


@pytest.mark.shared
def test_kreise_match_shared_vg250(shared_data: Path, kreise: gpd.GeoDataFrame) -> None:
    path = shared_data / "boundaries" / "nrw_kreise_vg250.geojson"
    if not path.exists():
        pytest.skip(f"{path} fehlt: Vergleich mit VG250 übersprungen")
    reference = gpd.read_file(path, engine="pyogrio").to_crs(25832)
    assert set(reference["AGS"]) == set(kreise["ags"])
    ref = reference.set_index("AGS").geometry.make_valid()
    ours = kreise.set_index("ags").geometry.reindex(ref.index)
    iou = ours.intersection(ref).area / ours.union(ref).area
    assert (iou >= 0.85).all(), iou[iou < 0.85].to_dict()
    assert iou.median() > 0.9
