"""Import of official boundary files (VG250 style) as the ``gemeinde`` and ``kreis`` layers."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from gv_layout import GV_HEADER
from shapely.geometry import Polygon, box

from geo.errors import DataError, ValidationError
from geo.importing import import_file
from geo.settings import Settings
from geo.sources.destatis import import_gemeinde_population, load_gemeinde_population, read_gemeinde_population
from geo.store import DataStore
from geo.units import load_boundaries

# two adjacent 10 km squares in the Köln area (EPSG:25832), hand-checkable
WEST = box(350_000, 5_640_000, 360_000, 5_650_000)
EAST = box(360_000, 5_640_000, 370_000, 5_650_000)


def _vg250(tmp_path: Path, rows: list[dict[str, object]], geoms: list[object], name: str = "gem.geojson") -> Path:
    gdf = gpd.GeoDataFrame(rows, geometry=geoms, crs="EPSG:25832").to_crs("EPSG:4326")
    path = tmp_path / name
    gdf.to_file(path, driver="GeoJSON")
    return path


def test_synthetic_vg250_gemeinden(tmp_path: Path, settings: Settings) -> None:
    assert len(load_boundaries("gemeinde", settings)) == 396  # embedded; the import below replaces them all
    path = _vg250(
        tmp_path,
        [
            {"AGS": "05315000", "GEN": "Köln", "BEZ": "Stadt", "EWZ": 1_085_664},
            {"AGS": "05362004", "GEN": "Bergheim", "BEZ": "Stadt", "EWZ": 61_601},
        ],
        [WEST, EAST],
    )
    result = import_file(path, "gemeinde", settings, mode="replace")
    assert result.location_kind == "geometry"
    data = result.data
    assert data["ags"].tolist() == ["05315000", "05362004"]
    assert data["kreis_ags"].tolist() == ["05315", "05362"]
    assert data["population"].tolist() == [1_085_664, 61_601]
    assert data.crs == "EPSG:25832"
    assert abs(data.area.iloc[0] - 1e8) < 1e3  # 100 km² survives the 4326 round trip
    gem = load_boundaries("gemeinde", settings)
    assert len(gem) == 2


def test_bowtie_is_repaired_and_bad_rows_reported(tmp_path: Path, settings: Settings) -> None:
    bowtie = Polygon([(350_000, 5_640_000), (360_000, 5_650_000), (360_000, 5_640_000), (350_000, 5_650_000)])
    gdf = gpd.GeoDataFrame(
        {"AGS": ["05315000", "06411000", "123"], "GEN": ["Köln", "Darmstadt", "Kaputt"]},
        geometry=[bowtie, EAST, WEST],
        crs="EPSG:25832",
    )
    path = tmp_path / "gem.gpkg"
    gdf.to_file(path, layer="gemeinde")
    with pytest.raises(ValidationError) as info:
        import_file(path, "gemeinde", settings)
    rows = {p.row: str(p) for p in info.value.problems}
    assert "nicht in NRW" in rows[2]
    assert "nicht 8 Stellen" in rows[3]
    assert DataStore(settings.store_path).batches() == []
    result = import_file(path, "gemeinde", settings, on_invalid="keep_valid")
    assert result.data["ags"].tolist() == ["05315000"]
    assert result.data.geometry.is_valid.all()
    assert abs(result.data.area.iloc[0] - 5e7) < 1  # the bow tie's two triangles, 50 km²


def test_boundary_without_key_column(tmp_path: Path, settings: Settings) -> None:
    path = _vg250(tmp_path, [{"GEN": "Köln"}], [WEST])
    with pytest.raises(ValidationError, match="AGS"):
        import_file(path, "gemeinde", settings)


def test_kreis_import_overrides_embedded(tmp_path: Path, settings: Settings) -> None:
    path = _vg250(tmp_path, [{"AGS": "05315", "GEN": "Köln (neu)", "BEZ": "Kreisfreie Stadt"}], [WEST], "krs.geojson")
    result = import_file(path, "kreis", settings)
    assert result.data["ags"].tolist() == ["05315"]
    kreise = load_boundaries("kreis", settings)
    assert len(kreise) == 53
    assert kreise.loc[kreise["ags"] == "05315", "name"].item() == "Köln (neu)"


@pytest.fixture
def gemeinden_file(shared_data: Path) -> Path:
    return shared_data / "boundaries" / "nrw_gemeinden_vg250_simplify200.geojson"


def test_real_gemeinden_import(gemeinden_file: Path, shared_data: Path, settings: Settings) -> None:
    result = import_file(gemeinden_file, "gemeinde", settings, mode="replace")
    assert result.problems == ()
    gem = load_boundaries("gemeinde", settings)
    assert len(gem) == 396
    assert gem["ags"].is_unique
    assert gem["ags"].str.fullmatch(r"05\d{6}").all()
    assert gem.geometry.is_valid.all()
    assert gem.crs == "EPSG:25832"
    assert int(gem["population"].sum()) == 17_932_651  # from the nested destatis object (31.12.2018)

    # every Gemeinde lies in the embedded Kreis of its AGS[:5]
    kreise = load_boundaries("kreis", settings)
    points = gpd.GeoDataFrame({"ags": gem["ags"]}, geometry=gem.representative_point(), crs=gem.crs)
    joined = gpd.sjoin(
        points, kreise[["ags", "geometry"]].rename(columns={"ags": "kreis"}), predicate="within", how="left"
    )
    assert joined.index.is_unique
    assert (joined["kreis"] == joined["ags"].str[:5]).all()

    # the population CSV joins 1:1 on AGS
    pop = pd.read_csv(shared_data / "population" / "nrw_gemeinden_population_2018.csv", dtype={"AGS": str})
    merged = gem.merge(pop, left_on="ags", right_on="AGS", how="outer", validate="one_to_one", indicator=True)
    assert (merged["_merge"] == "both").all()
    assert len(merged) == 396
    assert (merged["population_x"] == merged["population_y"]).all()


def test_real_schools_lie_in_their_gemeinde(gemeinden_file: Path, shared_data: Path, settings: Settings) -> None:
    import_file(gemeinden_file, "gemeinde", settings, mode="replace")
    schools = import_file(shared_data / "facilities" / "nrw_schuldaten_msb_2021.csv", "ogs", settings).data
    assert len(schools) == 2787
    gem = load_boundaries("gemeinde", settings)
    joined = gpd.sjoin(schools, gem[["ags", "geometry"]], predicate="within", how="left")
    joined = joined[~joined.index.duplicated()]
    share = float((joined["ags"] == joined["gemeinde_ags"]).mean())
    assert share >= 0.999


def test_destatis_object_as_text(tmp_path: Path, settings: Settings) -> None:
    path = tmp_path / "gem.geojson"
    ring = [list(c) for c in gpd.GeoSeries([WEST], crs="EPSG:25832").to_crs("EPSG:4326").iloc[0].exterior.coords]
    doc = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": {"type": "Polygon", "coordinates": [ring]},
                "properties": {"AGS": "05315000", "GEN": "Köln", "destatis": {"population": 1085664, "zip": "50667"}},
            }
        ],
    }
    path.write_text(json.dumps(doc), encoding="utf-8")
    result = import_file(path, "gemeinde", settings, dry_run=True)
    assert result.data["population"].tolist() == [1085664]


# --- Gemeinde population in the real Destatis layouts ------------------------------------------


def _gv_xlsx(path: Path) -> Path:
    """The GV-ISys "Auszug GV" layout: a title with the Stichtag, a two-row header, Satzart rows."""
    rows = [
        ["Gemeindeverzeichnis-Informationssystem GV-ISys"],
        ["Alle politisch selbständigen Gemeinden mit ausgewählten Merkmalen am 31.12.2019 (4. Quartal)"],
        *GV_HEADER,
        [10, None, "05", None, None, None, None, "Nordrhein-Westfalen"],
        [
            60,
            61,
            "05",
            1,
            11,
            "0000",
            "000",
            "Düsseldorf, Stadt",
            217.41,
            621877,
            300507,
            321370,
            2860,
            40213,
            "6,780068",
            "51,22422",
        ],
        [
            60,
            63,
            "05",
            3,
            34,
            "0002",
            "002",
            "Aachen, Stadt",
            160.85,
            248960,
            127303,
            121657,
            1548,
            52062,
            "6,083887",
            "50,776351",
        ],
        [
            60,
            61,
            "01",
            0,
            "01",
            "0000",
            "000",
            "Flensburg, Stadt",
            53.02,
            90164,
            44904,
            45260,
            1701,
            24937,
            "9,43751",
            "54,78252",
        ],
    ]
    width = max(len(r) for r in rows)
    pd.DataFrame([r + [None] * (width - len(r)) for r in rows]).to_excel(
        path, sheet_name="Onlineprodukt_Gemeinden", header=False, index=False
    )
    return path


def test_gv_isys_xlsx_with_stichtag(tmp_path: Path) -> None:
    got = read_gemeinde_population(_gv_xlsx(tmp_path / "AuszugGV4QAktuell.xlsx"))
    assert got.layout == "gv-isys"
    assert (got.stichtag, got.stichtag_source) == ("2019-12-31", "Kopfzeilen der Datei")
    assert got.table["ags"].tolist() == ["05111000", "05334002"]
    assert got.total == 621_877 + 248_960


def test_population_keeps_the_boundaries_publisher_and_stichtag(tmp_path: Path, settings: Settings) -> None:
    # VG250 Gemeinden from the BKG, Stand 2019: after the population import the report's sources showed no
    # publisher and the day of the population import as their Stand
    from geo.layers.sources import IMPORT_PRESETS

    bkg = IMPORT_PRESETS["bkg"]
    rows = [{"AGS": "05111000", "GEN": "Düsseldorf"}, {"AGS": "05334002", "GEN": "Aachen"}]
    path = _vg250(tmp_path, rows, [WEST, EAST])
    import_file(path, "gemeinde", settings, mode="replace", licence=bkg.licence, publisher=bkg.publisher,
                as_of="2019-12-31")  # fmt: skip
    import_gemeinde_population(_gv_xlsx(tmp_path / "AuszugGV4QAktuell.xlsx"), settings)
    meta = DataStore(settings.store_path).layer_meta("gemeinde")
    assert meta is not None
    assert (meta.publisher, meta.licence, meta.as_of) == (bkg.publisher, "dl-de/by-2-0", "2019-12-31")
    assert meta.source.endswith("+ Einwohner: Destatis, Stichtag 2019-12-31")
    assert load_boundaries("gemeinde", settings).set_index("ags")["population"].to_dict() == {
        "05111000": 621_877,
        "05334002": 248_960,
    }
    # »Importe verwalten« names the population table by its title, not by its store id »destatis_gv«
    from ui.views import batches_table

    layers = set(batches_table(DataStore(settings.store_path).batches())["Ebene"])
    assert "Einwohner je Gemeinde (Destatis)" in layers and "destatis_gv" not in layers, layers
    assert "Population per Gemeinde (Destatis)" in set(
        batches_table(DataStore(settings.store_path).batches(), "en")["Layer"]
    )


def test_gv_isys_csv_export_with_space_thousands(tmp_path: Path) -> None:
    text = (
        "Gemeinden am 30.09.2020;;;;;;;;;;;;;;;\n"
        "Satzart;Textkennzeichen;Land;RB;Kreis;VB;Gem;Gemeindename;Fläche;insgesamt;männlich;weiblich;je km2;"
        "PLZ;Längengrad;Breitengrad\n"
        "40;44;05;3;34;;;Städteregion Aachen;;;;;;;;\n"
        "60;63;05;3;34;0002;002;Aachen, Stadt;160,85;248 960;127 303;121 657;1 548;52062;6,083887;50,776351\n"
        "60;63;05;3;34;0016;016;Simmerath;110,88;15 418;7 612;7 806;139;52152;6,300011;50,607283\n"
    )
    path = tmp_path / "AuszugGV3QAktuell.csv"
    path.write_text(text, encoding="cp1252")
    got = read_gemeinde_population(path)
    assert (got.layout, got.stichtag) == ("gv-isys", "2020-09-30")
    assert got.table["population"].tolist() == [248_960, 15_418]
    assert got.table["area_km2"].tolist() == [160.85, 110.88]


def test_plain_table_with_ars_and_german_header(tmp_path: Path, raises_matching) -> None:
    path = tmp_path / "einwohner.csv"
    path.write_text(
        "Regionalschlüssel;Gemeinde;Einwohner\n053340002002;Aachen;248.960\n"
        "051110000000;Düsseldorf;621.877\n091620000000;München;1.484.226\n",
        encoding="utf-8",
    )
    got = read_gemeinde_population(path)
    assert got.layout == "tabelle"
    assert got.stichtag is None and "unbekannt" in got.stichtag_source
    assert got.table[["ags", "population"]].to_dict("records") == [
        {"ags": "05111000", "population": 621_877},
        {"ags": "05334002", "population": 248_960},
    ]
    path.write_text("Regionalschlüssel;Gemeinde;Einwohner\n053340002002;Aachen;viele\n", encoding="utf-8")
    with raises_matching(ValidationError, "»viele« ist keine Einwohnerzahl", "Einwohner", "Zeile 2"):
        read_gemeinde_population(path)
    path.write_text("a;b\n1;2\n", encoding="utf-8")
    with pytest.raises(DataError, match="weder das Layout"):
        read_gemeinde_population(path)


def test_real_destatis_2019_table_imports(shared_data: Path, gemeinden_file: Path, settings: Settings) -> None:
    path = shared_data / "population" / "nrw_gemeinden_destatis_gv_2019.csv"
    got = read_gemeinde_population(path)
    assert got.layout == "tabelle"
    assert got.stichtag == "2019"
    assert len(got.table) == 396 and got.table["ags"].is_unique
    assert got.total == 17_947_221  # NRW on 31.12.2019, as PROVENANCE.md states
    aachen = got.table.set_index("ags").loc["05334002"]
    assert aachen["population"] == 248_960 and aachen["population_m"] + aachen["population_w"] == 248_960
    import_file(gemeinden_file, "gemeinde", settings, mode="replace")
    import_gemeinde_population(path, settings)
    stored = load_gemeinde_population(settings)
    assert stored is not None and int(stored["population"].sum()) == 17_947_221
    gem = load_boundaries("gemeinde", settings)
    assert int(gem["population"].sum()) == 17_947_221  # the 2019 values replaced the 2018 ones
