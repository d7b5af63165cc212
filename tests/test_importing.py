"""Tests of the file importer (geo.importing), the PLZ geocoding and the CLI.

All fixtures are tiny files written inline to tmp_path. Reference points:
Kölner Dom (lon 6.9583, lat 50.9413) and Düsseldorf Rathaus (lon 6.7719, lat 51.2277).
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
from pyproj import Transformer
from shapely.geometry import Point, box

from geo.errors import DataError, IntegrationsatlasError, ValidationError
from geo.importing import detect_format, import_file, map_columns, parse_number, read_table
from geo.importing.geocoding import normalise_plz, plz_points
from geo.layers.catalog import KITA
from geo.layers.registry import LayerRegistry
from geo.layers.spec import Column, Style, facility_layer
from geo.settings import Settings
from geo.store import DataStore
from integrationsatlas.cli import main

TO_UTM = Transformer.from_crs("EPSG:4326", "EPSG:25832", always_xy=True)
DOM_LONLAT = (6.9583, 50.9413)
DOM_UTM = TO_UTM.transform(*DOM_LONLAT)
RATHAUS_LONLAT = (6.7719, 51.2277)
RATHAUS_UTM = TO_UTM.transform(*RATHAUS_LONLAT)

HEADER = "id;name;traeger;plz;ort;lon;lat;plaetze"
GOOD_ROWS = (
    "K1;Kita am Dom;AWO;50667;Köln;6,9583;50,9413;40\nK2;Kita Rathaus;Caritas;40213;Düsseldorf;6.7719;51.2277;25\n"
)


def write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def kitas_gdf(crs: str = "EPSG:4326") -> gpd.GeoDataFrame:
    gdf = gpd.GeoDataFrame(
        {"id": ["K1", "K2"], "Name": ["Kita am Dom", "Kita Rathaus"], "Träger": ["AWO", "Caritas"]},
        geometry=[Point(*DOM_LONLAT), Point(*RATHAUS_LONLAT)],
        crs="EPSG:4326",
    )
    return gdf.to_crs(crs)


def assert_two_kitas(result_data: gpd.GeoDataFrame, tol_m: float = 0.5) -> None:
    assert list(result_data["id"]) == ["K1", "K2"]
    assert result_data.crs == "EPSG:25832"
    d0 = result_data.geometry.iloc[0].distance(Point(*DOM_UTM))
    d1 = result_data.geometry.iloc[1].distance(Point(*RATHAUS_UTM))
    assert d0 < tol_m
    assert d1 < tol_m


def problems_text(exc: ValidationError | list) -> str:  # type: ignore[type-arg]
    items = exc.problems if isinstance(exc, ValidationError) else exc
    return "\n".join(str(p) for p in items)


# --- formats and encodings ----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "encoding"),
    [
        (f"{HEADER}\n{GOOD_ROWS}", "utf-8"),
        (f"{HEADER}\n{GOOD_ROWS}", "utf-8-sig"),
        (f"{HEADER}\n{GOOD_ROWS}", "cp1252"),
        (f"sep=;\n{HEADER}\n{GOOD_ROWS}", "cp1252"),
        (
            "id,name,traeger,plz,ort,lon,lat,plaetze\n"
            'K1,Kita am Dom,AWO,50667,Köln,"6,9583","50,9413",40\n'
            "K2,Kita Rathaus,Caritas,40213,Düsseldorf,6.7719,51.2277,25\n",
            "utf-8",
        ),
    ],
    ids=["utf8", "utf8-bom", "cp1252", "cp1252-sep-line", "comma"],
)
def test_csv_encodings_and_separators(tmp_path: Path, settings: Settings, text: str, encoding: str) -> None:
    path = write(tmp_path, "kitas.csv", text, encoding)
    result = import_file(path, "kita", settings)
    assert result.format == "csv"
    assert result.location_kind == "lonlat"
    assert result.problems == ()
    assert_two_kitas(result.data)
    assert list(result.data["ort"]) == ["Köln", "Düsseldorf"]  # umlauts decoded right
    assert list(result.data["traeger"]) == ["AWO", "Caritas"]
    assert result.data["plaetze"].tolist() == [40, 25]
    assert set(result.data["location_precision"]) == {"Koordinate"}
    assert result.batch is not None
    assert result.batch.rows_kept == 2


def test_xlsx_with_utm_columns(tmp_path: Path, settings: Settings) -> None:
    path = tmp_path / "kitas.xlsx"
    pd.DataFrame(
        {
            "Kennung": ["K1", "K2"],
            "Bezeichnung": ["Kita am Dom", "Kita Rathaus"],
            "Rechtswert": [DOM_UTM[0], RATHAUS_UTM[0]],
            "Hochwert": [DOM_UTM[1], RATHAUS_UTM[1]],
            "Platzzahl": [40, 25],
            "Bemerkung": ["", "Neubau"],
        }
    ).to_excel(path, index=False)
    result = import_file(path, "kita", settings)
    assert result.format == "xlsx"
    assert result.location_kind == "utm32"
    assert_two_kitas(result.data, tol_m=0.01)
    assert result.data["plaetze"].tolist() == [40, 25]
    assert any("Bemerkung" in n for n in result.notes)  # ignored column is reported, not an error


def test_utm_zone_prefix_is_removed(tmp_path: Path, settings: Settings) -> None:
    text = f"id;name;utm_rechtswert;utm_hochwert\nK1;Kita am Dom;32{DOM_UTM[0]:.1f};{DOM_UTM[1]:.1f}\n"
    result = import_file(write(tmp_path, "k.csv", text), "kita", settings, dry_run=True)
    assert result.data.geometry.iloc[0].distance(Point(*DOM_UTM)) < 0.1


@pytest.mark.parametrize("crs", ["EPSG:4326", "EPSG:25832", "EPSG:3857"])
def test_geojson_and_geopackage(tmp_path: Path, settings: Settings, crs: str) -> None:
    gdf = kitas_gdf(crs)
    gj = tmp_path / "kitas.geojson"
    gdf.to_crs("EPSG:4326").to_file(gj, driver="GeoJSON")
    gpkg = tmp_path / "kitas.gpkg"
    gdf.iloc[:0].to_file(gpkg, layer="anderes", driver="GPKG")
    gdf.to_file(gpkg, layer="kita", driver="GPKG")  # layer named like the target wins
    for path, fmt in ((gj, "geojson"), (gpkg, "gpkg")):
        result = import_file(path, "kita", settings, dry_run=True)
        assert result.format == fmt
        assert result.location_kind == "geometry"
        assert_two_kitas(result.data, tol_m=0.05)
        assert list(result.data["name"]) == ["Kita am Dom", "Kita Rathaus"]


def test_zipped_shapefile(tmp_path: Path, settings: Settings) -> None:
    shp_dir = tmp_path / "shp"
    shp_dir.mkdir()
    kitas_gdf("EPSG:25832").to_file(shp_dir / "kitas.shp", encoding="utf-8")
    zpath = tmp_path / "kitas.zip"
    with zipfile.ZipFile(zpath, "w") as zf:
        for f in shp_dir.iterdir():
            zf.write(f, f.name)
    result = import_file(zpath, "kita", settings)
    assert result.format == "shapefile"
    assert_two_kitas(result.data, tol_m=0.01)
    assert list(result.data["traeger"]) == ["AWO", "Caritas"]


def test_zipped_shapefile_without_prj_is_refused(tmp_path: Path, settings: Settings, raises_matching) -> None:  # type: ignore[no-untyped-def]
    shp_dir = tmp_path / "shp"
    shp_dir.mkdir()
    kitas_gdf("EPSG:25832").to_file(shp_dir / "kitas.shp")
    zpath = tmp_path / "kitas.zip"
    with zipfile.ZipFile(zpath, "w") as zf:
        for f in shp_dir.iterdir():
            if f.suffix != ".prj":
                zf.write(f, f.name)
    with raises_matching(IntegrationsatlasError, "kitas.zip", ".prj"):
        import_file(zpath, "kita", settings)


def test_polygon_features_become_points(tmp_path: Path, settings: Settings) -> None:
    x, y = DOM_UTM
    gdf = gpd.GeoDataFrame(
        {"id": ["K1"], "name": ["Kita im Block"]}, geometry=[box(x - 50, y - 50, x + 50, y + 50)], crs="EPSG:25832"
    )
    path = tmp_path / "bloecke.gpkg"
    gdf.to_file(path)
    result = import_file(path, "kita", settings, dry_run=True)
    pt = result.data.geometry.iloc[0]
    assert pt.geom_type == "Point"
    assert pt.within(gdf.geometry.iloc[0])


@pytest.mark.parametrize(
    ("name", "content", "fragments"),
    [
        ("alt.xls", b"\xd0\xcf\x11\xe0", ("alt.xls", ".xlsx")),
        ("kitas.shp", b"\x00\x00\x27\x0a", ("kitas.shp", "ZIP")),
        ("kaputt.xlsx", b"not a zip at all", ("kaputt.xlsx", "keine gültige")),
        ("kaputt.zip", b"PK\x03\x04 broken", ("kaputt.zip", "beschädigt")),
        ("leer.csv", b"", ("leer.csv", "leer")),
        ("kaputt.geojson", b'{"type": "FeatureCollection", "features": [', ("kaputt.geojson", "kein gültiges JSON")),
        ("falsch.geojson", b'{"type": "Topology"}', ("falsch.geojson", "FeatureCollection")),
    ],
)
def test_unreadable_files_give_clear_errors(
    tmp_path: Path,
    settings: Settings,
    raises_matching,
    name: str,
    content: bytes,
    fragments: tuple[str, ...],  # type: ignore[no-untyped-def]
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with raises_matching(DataError, *fragments):
        import_file(path, "kita", settings)
    assert DataStore(settings.store_path).batches() == []


def test_file_too_large(tmp_path: Path, raises_matching) -> None:  # type: ignore[no-untyped-def]
    path = write(tmp_path, "gross.csv", f"{HEADER}\n{GOOD_ROWS * 50}")
    with raises_matching(DataError, "gross.csv", "zu groß", "höchstens"):
        read_table(path, max_bytes=1000)


def test_display_name_is_used_for_uploads(tmp_path: Path, settings: Settings) -> None:
    path = write(tmp_path, "tmpa8f3k2", f"{HEADER}\n{GOOD_ROWS}K3;;;;;;;\n")
    assert detect_format(path, "Kitaliste Köln.csv") == "csv"
    with pytest.raises(ValidationError) as info:
        import_file(path, "kita", settings, display_name="Kitaliste Köln.csv")
    assert info.value.problems[0].file == "Kitaliste Köln.csv"


# --- column mapping and parsing ---------------------------------------------------------


def test_column_aliases_case_and_umlauts() -> None:
    mapping = map_columns(["NAME", "Trägerschaft", "PostLeitZahl", "addr:city", "Kapazität"], KITA)
    assert mapping == {
        "name": "NAME",
        "traeger": "Trägerschaft",
        "plz": "PostLeitZahl",
        "ort": "addr:city",
        "plaetze": "Kapazität",
    }


def test_parse_number_german_and_english() -> None:
    got = parse_number(pd.Series(["1.234,5", "6,95", "50.94", " 12 ", "5.655.000", "", "zwölf"]))
    assert got.iloc[:5].tolist() == [1234.5, 6.95, 50.94, 12.0, 5655000.0]
    assert got.iloc[5:].isna().all()


def test_plz_helpers() -> None:
    assert normalise_plz(50667.0) == "50667"
    assert normalise_plz("4711") == "04711"
    assert normalise_plz("5066") == "05066"
    assert normalise_plz("abcde") is None
    pts = plz_points(pd.Series(["50667", "40213"], index=[10, 11]))
    assert list(pts.index) == [10, 11]
    # both PLZ centroids lie within 3 km of the reference points in their PLZ area
    assert pts.iloc[0].distance(Point(*DOM_UTM)) < 3_000
    assert pts.iloc[1].distance(Point(*RATHAUS_UTM)) < 3_000


def test_tristate_ogs_parsing(tmp_path: Path, settings: Settings) -> None:
    text = "id;name;rechtswert;hochwert;ogs\n" + "".join(
        f"S{i};Schule {i};{DOM_UTM[0] + 10 * i:.0f};{DOM_UTM[1]:.0f};{v}\n"
        for i, v in enumerate(["ja", "Nein", "TRUE", "false", "1", "0", "x", "", "leer", "vielleicht"])
    )
    result = import_file(write(tmp_path, "ogs.csv", text), "ogs", settings, on_invalid="keep_valid", dry_run=True)
    assert result.data["ogs"].dtype == "boolean"
    assert result.data["ogs"].tolist() == [True, False, True, False, True, False, True, pd.NA, pd.NA]
    (problem,) = result.problems
    assert problem.row == 11
    assert problem.column == "ogs"
    assert "vielleicht" in problem.message
    assert "ja/nein" in problem.fix


def test_choices_are_checked_case_insensitively(tmp_path: Path, settings: Settings) -> None:
    text = (
        "name;lon;lat;Status\nTreff A;6,9583;50,9413;Bestehend\nTreff B;6,9590;50,9413;GEPLANT\n"
        "Treff C;6,9600;50,9413;vielleicht\n"
    )
    result = import_file(
        write(tmp_path, "t.csv", text), "ankommenstreffpunkt", settings, on_invalid="keep_valid", dry_run=True
    )
    assert result.data["status"].tolist() == ["bestehend", "geplant"]
    (problem,) = result.problems
    assert (problem.row, problem.column) == (4, "Status")
    assert "bestehend, geplant" in problem.fix


def test_html_is_stored_as_plain_text(tmp_path: Path, settings: Settings) -> None:
    evil = '<img src=x onerror=alert(1)> & <script>alert("x")</script>'
    text = f"id;name;traeger;lon;lat\nK1;{evil};<b>AWO</b>;6,9583;50,9413\n"
    result = import_file(write(tmp_path, "html.csv", text), "kita", settings)
    stored = DataStore(settings.store_path).read_layer("kita")
    assert stored is not None
    assert stored["name"].iloc[0] == evil
    assert stored["traeger"].iloc[0] == "<b>AWO</b>"
    assert result.data["name"].iloc[0] == evil


def test_rows_with_surplus_fields_are_listed_not_shifted(tmp_path: Path, settings: Settings, raises_matching) -> None:  # type: ignore[no-untyped-def]
    # an unquoted »;« (here from »&amp;«) must not shift the columns of the whole file
    text = "id;name;lon;lat\nK1;Kita A &amp; B;6,9583;50,9413\nK2;Kita C;6,96;50,94\nK3;Kita D;6,97;50,95;;x\n"
    with raises_matching(
        ValidationError,
        "Spaltenzahl",
        "Zeile 2: Die Zeile hat 5 statt 4",
        "Zeile 4: Die Zeile hat 6 statt 4",
        "Anführungszeichen",
    ):
        import_file(write(tmp_path, "shift.csv", text), "kita", settings)
    assert DataStore(settings.store_path).batches() == []


def test_trailing_empty_fields_are_tolerated(tmp_path: Path, settings: Settings) -> None:
    text = "id;name;lon;lat\nK1;Kita A;6,9583;50,9413;\nK2;Kita B;6,96;50,94;;\n"
    result = import_file(write(tmp_path, "trailing.csv", text), "kita", settings)
    assert result.rows_kept == 2 and not result.problems
    assert result.data["name"].tolist() == ["Kita A", "Kita B"]


# --- location kinds --------------------------------------------------------------------------


def test_plz_only_is_geocoded_offline(tmp_path: Path, settings: Settings) -> None:
    text = (
        "id;name;strasse;plz;ort\nK1;Kita am Dom;Domkloster 4;50667;Köln\n"
        "K2;Kita Rathaus;Marktplatz 2;40213;Düsseldorf\n"
    )
    result = import_file(write(tmp_path, "plz.csv", text), "kita", settings)
    assert result.location_kind == "plz"
    assert set(result.data["location_precision"]) == {"PLZ"}
    assert_two_kitas(result.data, tol_m=3_000)


def test_plz_fallback_for_rows_without_coordinates(tmp_path: Path, settings: Settings) -> None:
    text = f"{HEADER}\nK1;Kita am Dom;AWO;50667;Köln;6,9583;50,9413;40\nK2;Kita Rathaus;;40213;Düsseldorf;;;\n"
    result = import_file(write(tmp_path, "mix.csv", text), "kita", settings, dry_run=True)
    assert result.location_kind == "lonlat"
    assert result.data["location_precision"].tolist() == ["Koordinate", "PLZ"]


def test_online_geocoder_is_used_only_when_given(tmp_path: Path, settings: Settings) -> None:
    text = "id;name;strasse;plz;ort\nK1;Kita am Dom;Domkloster 4;50667;Köln\nK2;Kita X;Nirgendwo 1;40213;Düsseldorf\n"
    asked: list[str] = []

    def fake_geocoder(address: str) -> tuple[float, float] | None:
        asked.append(address)
        return DOM_LONLAT if address.startswith("Domkloster") else None

    path = write(tmp_path, "addr.csv", text)
    result = import_file(path, "kita", settings, dry_run=True, geocoder=fake_geocoder)
    assert asked == ["Domkloster 4, 50667 Köln", "Nirgendwo 1, 40213 Düsseldorf"]
    assert result.data["location_precision"].tolist() == ["Adresse", "PLZ"]
    assert result.data.geometry.iloc[0].distance(Point(*DOM_UTM)) < 0.5
    default = import_file(path, "kita", settings, dry_run=True)
    assert default.data["location_precision"].tolist() == ["PLZ", "PLZ"]


def test_provided_precision_is_kept(tmp_path: Path, settings: Settings) -> None:
    text = "id;name;lon;lat;Lagegenauigkeit\nK1;Kita;6,9583;50,9413;Adresse\n"
    result = import_file(write(tmp_path, "p.csv", text), "kita", settings, dry_run=True)
    assert result.data["location_precision"].tolist() == ["Adresse"]


def test_kreis_ags_is_filled_by_spatial_join(tmp_path: Path, settings: Settings) -> None:
    result = import_file(write(tmp_path, "k.csv", f"{HEADER}\n{GOOD_ROWS}"), "kita", settings, dry_run=True)
    assert result.data["kreis_ags"].tolist() == ["05315", "05111"]  # Köln, Düsseldorf
    assert result.data["gemeinde_ags"].tolist() == ["05315000", "05111000"]  # from the embedded Gemeinden


def test_generated_ids_are_stable(tmp_path: Path, settings: Settings) -> None:
    text = "name;lon;lat\nKita am Dom;6,9583;50,9413\nKita Rathaus;6,7719;51,2277\n"
    path = write(tmp_path, "ohne_id.csv", text)
    first = import_file(path, "kita", settings)
    assert first.problems == ()
    assert any("IDs wurden aus Name und Lage erzeugt" in n for n in first.notes)
    ids = first.data["id"].tolist()
    assert all(i.startswith("kita-") for i in ids)
    assert len(set(ids)) == 2
    again = import_file(path, "kita", settings, dry_run=True)
    assert again.data.empty  # the same ids are already stored ...
    assert [p.row for p in again.problems] == [2, 3]  # ... and reported as duplicates


# --- validation problems ------------------------------------------------------------------------


def test_all_row_problems_are_collected(tmp_path: Path, settings: Settings) -> None:
    text = (
        "sep=;\n"
        f"{HEADER}\n"
        "K1;Kita am Dom;AWO;50667;Köln;6,9583;50,9413;40\n"  # row 3: ok
        "K2;;AWO;50667;Köln;6,9583;50,9413;40\n"  # row 4: empty name
        "K3;Kita Drei;AWO;50667;Köln;6,9583;50,9413;viele\n"  # row 5: not a number
        "K1;Kita Doppelt;AWO;50667;Köln;6,9583;50,9413;10\n"  # row 6: duplicate id
        "K5;Kita Tausch;AWO;50667;Köln;50,9413;6,9583;10\n"  # row 7: swapped lat/lon
        "K6;Kita Paris;AWO;;Paris;2,3522;48,8566;10\n"  # row 8: outside NRW
        "K7;Kita Unbekannt;AWO;99999;Nirgendwo;;;\n"  # row 9: unknown PLZ
        "K8;Kita München;AWO;80331;München;;;\n"  # row 10: PLZ outside NRW
        "K9;Kita Komma;AWO;50667;Köln;sechs;50,9;\n"  # row 11: bad coordinate
        "K10;Kita Halb;AWO;50667;Köln;6,9583;50,9413;2,5\n"  # row 12: not an integer
    )
    path = write(tmp_path, "fehler.csv", text)
    with pytest.raises(ValidationError) as info:
        import_file(path, "kita", settings)
    problems = info.value.problems
    by_row = {p.row: p for p in problems}
    assert sorted(by_row) == [4, 5, 6, 7, 8, 9, 10, 11, 12]
    assert all(p.file == "fehler.csv" for p in problems)
    assert (by_row[4].column, by_row[4].message) == ("name", "Der Name ist leer.")
    assert by_row[5].column == "plaetze"
    assert "»viele« ist keine Zahl" in by_row[5].message
    assert by_row[6].column == "id"
    assert "kommt mehrfach vor (zuerst in Zeile 3)" in by_row[6].message
    assert "vertauscht" in by_row[7].message
    assert "tauschen" in by_row[7].fix
    assert "außerhalb von NRW" in by_row[8].message
    assert (by_row[9].column, by_row[9].message) == ("plz", "PLZ »99999« ist unbekannt.")
    assert (by_row[10].column, by_row[10].message) == ("plz", "Die PLZ liegt nicht in NRW.")
    assert (by_row[11].column, by_row[11].message) == ("lon", "»sechs« ist keine Zahl.")
    assert "keine ganze Zahl" in by_row[12].message
    assert all(p.fix for p in problems)
    assert "Zeile 4" in str(info.value)  # the message a user sees names the row
    assert DataStore(settings.store_path).batches() == []  # rejected: nothing written

    kept = import_file(path, "kita", settings, on_invalid="keep_valid")
    assert kept.data["id"].tolist() == ["K1"]
    assert len(kept.problems) == 9
    assert kept.batch is not None
    assert (kept.batch.rows_in, kept.batch.rows_kept, kept.batch.rows_rejected) == (10, 1, 9)


def test_missing_required_column_and_no_location(tmp_path: Path, settings: Settings) -> None:
    path = write(tmp_path, "ohne.csv", "Kennung;Bemerkung\nK1;x\n")
    with pytest.raises(ValidationError) as info:
        import_file(path, "kita", settings, on_invalid="keep_valid")
    text = problems_text(info.value)
    assert "Spalte »name«: Pflichtspalte fehlt." in text
    assert "Keine Lageangabe gefunden" in text
    assert "rechtswert/hochwert" in text


def test_header_only_file(tmp_path: Path, settings: Settings, raises_matching) -> None:  # type: ignore[no-untyped-def]
    with raises_matching(ValidationError, "keine Datenzeilen"):
        import_file(write(tmp_path, "leer.csv", f"{HEADER}\n"), "kita", settings)


def test_gauss_krueger_coordinates_are_refused(tmp_path: Path, settings: Settings) -> None:
    text = "id;name;rechtswert;hochwert\nK1;Kita;2567000;5645000\n"
    result = import_file(write(tmp_path, "gk.csv", text), "kita", settings, dry_run=True)
    (problem,) = result.problems
    assert "Gauß-Krüger" in problem.message
    assert "EPSG:25832" in problem.fix


def test_swapped_utm_columns(tmp_path: Path, settings: Settings) -> None:
    text = f"id;name;rechtswert;hochwert\nK1;Kita;{DOM_UTM[1]:.0f};{DOM_UTM[0]:.0f}\n"
    result = import_file(write(tmp_path, "swap.csv", text), "kita", settings, dry_run=True)
    (problem,) = result.problems
    assert "vertauscht" in problem.message
    assert problem.column == "rechtswert"


# --- store interaction --------------------------------------------------------------------------------


def test_append_replace_and_duplicates_against_store(tmp_path: Path, settings: Settings) -> None:
    store = DataStore(settings.store_path)
    first = import_file(write(tmp_path, "a.csv", f"{HEADER}\n{GOOD_ROWS}"), "kita", settings)
    more = write(tmp_path, "b.csv", f"{HEADER}\nK3;Kita Drei;AWO;50667;Köln;6,9600;50,9400;5\n")
    second = import_file(more, "kita", settings, mode="append")
    got = store.read_layer("kita")
    assert got is not None
    assert got["id"].tolist() == ["K1", "K2", "K3"]

    clash = write(tmp_path, "c.csv", f"{HEADER}\nK2;Kita Rathaus neu;AWO;40213;Düsseldorf;6,7719;51,2277;30\n")
    with pytest.raises(ValidationError) as info:
        import_file(clash, "kita", settings, mode="append")
    (problem,) = info.value.problems
    assert (problem.row, problem.column) == (2, "id")
    assert f"bereits im Datenspeicher (Import {first.batch.batch_id})" in problem.message  # type: ignore[union-attr]
    assert "replace" in problem.fix

    replaced = import_file(clash, "kita", settings, mode="replace")
    got = store.read_layer("kita")
    assert got is not None
    assert got["id"].tolist() == ["K2"]
    assert got["plaetze"].tolist() == [30]
    # replace is restorable
    store.deactivate(replaced.batch.batch_id)  # type: ignore[union-attr]
    store.restore(first.batch.batch_id)  # type: ignore[union-attr]
    store.restore(second.batch.batch_id)  # type: ignore[union-attr]
    got = store.read_layer("kita")
    assert got is not None
    assert got["id"].tolist() == ["K1", "K2", "K3"]


def test_failed_import_changes_nothing(tmp_path: Path, settings: Settings) -> None:
    import_file(write(tmp_path, "a.csv", f"{HEADER}\n{GOOD_ROWS}"), "kita", settings)
    store = DataStore(settings.store_path)
    before = store.batches()
    layers_before = {r[0] for r in pyogrio.list_layers(settings.store_path)}
    bad = write(tmp_path, "bad.csv", f"{HEADER}\nK9;;AWO;50667;Köln;6,9;50,9;x\n")
    with pytest.raises(ValidationError):
        import_file(bad, "kita", settings, mode="replace")
    with pytest.raises(ValidationError):
        import_file(bad, "kita", settings, mode="replace", on_invalid="keep_valid")  # no valid row
    assert store.batches() == before
    assert {r[0] for r in pyogrio.list_layers(settings.store_path)} == layers_before
    got = store.read_layer("kita")
    assert got is not None
    assert got["id"].tolist() == ["K1", "K2"]


def test_dry_run_writes_nothing(tmp_path: Path, settings: Settings) -> None:
    result = import_file(write(tmp_path, "a.csv", f"{HEADER}\n{GOOD_ROWS}"), "kita", settings, dry_run=True)
    assert result.batch is None
    assert result.rows_kept == 2
    assert not settings.store_path.exists()


def test_new_layer_declaration_is_importable(tmp_path: Path, settings: Settings) -> None:
    registry = LayerRegistry()
    registry.register(
        facility_layer(
            "sprachkurs",
            "Sprachkurse",
            "Language courses",
            columns=(Column("kursplaetze", "int", "Kursplätze", aliases=("plaetze",)),),
            style=Style("#123456"),
            sources=(),
        )
    )
    text = "id;name;lon;lat;Plätze\nS1;Kurs A;6,9583;50,9413;12\n"
    result = import_file(write(tmp_path, "s.csv", text), "sprachkurs", settings, registry=registry)
    assert result.data["kursplaetze"].tolist() == [12]
    assert DataStore(settings.store_path).layer_ids() == ["sprachkurs"]


def test_unknown_layer(tmp_path: Path, settings: Settings, raises_matching) -> None:  # type: ignore[no-untyped-def]
    with raises_matching(IntegrationsatlasError, "Unbekannte Ebene »bibliothek«", "kita"):
        import_file(write(tmp_path, "a.csv", f"{HEADER}\n{GOOD_ROWS}"), "bibliothek", settings)


# --- CLI --------------------------------------------------------------------------------------------------


@pytest.fixture
def cli_home(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("INTEGRATIONSATLAS_HOME", str(settings.store_path.parent))
    return settings


def test_cli_import_and_store(tmp_path: Path, cli_home: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    good = write(tmp_path, "kitas.csv", f"{HEADER}\n{GOOD_ROWS}")
    assert main(["import", str(good), "--layer", "kita", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["ok"] is True
    assert (out["layer"], out["rows_in"], out["rows_kept"], out["problems"]) == ("kita", 2, 2, [])
    batch_id = out["batch"]["batch_id"]

    bad = write(tmp_path, "bad.csv", f"{HEADER}\nK7;;AWO;50667;Köln;6,9;50,9;x\n")
    assert main(["import", str(bad), "--layer", "kita", "--mode", "replace"]) == 2
    err = capsys.readouterr().err
    assert "Datei bad.csv, Zeile 2, Spalte »name«: Der Name ist leer." in err
    assert "Spalte »plaetze«: »x« ist keine Zahl" in err

    assert main(["import", str(bad), "--layer", "kita", "--json"]) == 2
    out = json.loads(capsys.readouterr().out)
    assert out["ok"] is False
    assert {p["row"] for p in out["problems"]} == {2}

    assert main(["store", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [b["batch_id"] for b in listed] == [batch_id]
    assert main(["store", "delete", batch_id]) == 0
    assert "wiederherstellen mit" in capsys.readouterr().out
    assert DataStore(cli_home.store_path).read_layer("kita") is None
    assert main(["store", "restore", batch_id]) == 0
    assert DataStore(cli_home.store_path).read_layer("kita") is not None
    assert main(["store", "delete", "gibtsnicht"]) == 2
    assert "nicht gefunden" in capsys.readouterr().err


def test_cli_keep_valid_and_dry_run(tmp_path: Path, cli_home: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    mixed = write(tmp_path, "mixed.csv", f"{HEADER}\n{GOOD_ROWS}K3;;AWO;50667;Köln;6,9;50,9;1\n")
    assert main(["import", str(mixed), "--layer", "kita", "--dry-run"]) == 2
    out = capsys.readouterr().out
    assert "Probelauf: nichts gespeichert." in out
    assert "Zeile 4" in out
    assert main(["import", str(mixed), "--layer", "kita", "--keep-valid"]) == 0
    out = capsys.readouterr().out
    assert "3 Zeilen gelesen, 2 übernommen" in out
    stored = DataStore(cli_home.store_path).read_layer("kita")
    assert stored is not None
    assert len(stored) == 2


def test_cli_unreadable_file_exits_2(tmp_path: Path, cli_home: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "alt.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0")
    assert main(["import", str(path), "--layer", "kita"]) == 2
    assert ".xlsx" in capsys.readouterr().err


def test_problem_rows_match_spreadsheet_for_xlsx(tmp_path: Path, settings: Settings) -> None:
    path = tmp_path / "k.xlsx"
    pd.DataFrame(
        {"id": ["K1", "K2"], "name": ["Kita", None], "lon": [6.9583, 6.9583], "lat": [50.9413, 50.9413]}
    ).to_excel(path, index=False)
    result = import_file(path, "kita", settings, dry_run=True)
    (problem,) = result.problems
    assert (problem.row, problem.column) == (3, "name")  # header is row 1 in Excel


def test_geojson_feature_numbers(tmp_path: Path, settings: Settings) -> None:
    gdf = kitas_gdf()
    gdf.loc[1, "Name"] = None
    path = tmp_path / "k.geojson"
    gdf.to_file(path, driver="GeoJSON")
    result = import_file(path, "kita", settings, dry_run=True)
    (problem,) = result.problems
    assert problem.row == 2  # second feature
    assert np.isclose(result.data.geometry.iloc[0].x, DOM_UTM[0], atol=0.01)
