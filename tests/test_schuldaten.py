"""Tests of the MSB NRW Schuldaten format (geo.importing.schuldaten) and its import as ``ogs``."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point

from geo.errors import DataError, SchemaError
from geo.importing import import_file
from geo.importing.schuldaten import SIGNATURE, SOURCE, is_schuldaten, parse_schuldaten
from geo.settings import Settings

_COLUMNS = (
    "Schulnummer;Schulform;Schulbezeichnung_1;Schulbezeichnung_2;Schulbezeichnung_3;Kurzbezeichnung;"
    "PLZ;Ort;Strasse;Rechtsform;Traegernummer;Gemeindeschluessel;Schulbetriebsschluessel;"
    "Schulbetriebsdatum;EPSG;UTMRechtswert;UTMHochwert;"
)


def _line(
    nr: str,
    form: str,
    name1: str,
    name2: str,
    status: str,
    rechtsform: str,
    ags: str,
    east: str,
    north: str,
    epsg: str = "EPSG:25832",
) -> str:
    cells = [
        nr,
        form,
        name1,
        name2,
        "",
        "kurz",
        "50667",
        "Köln",
        "Domkloster 4",
        rechtsform,
        "1",
        ags,
        status,
        "01.08.1970",
        epsg,
        east,
        north,
    ]
    return ";".join(f'"{c}"' for c in cells)


#: A miniature schuldaten.csv: 2 Grundschulen in operation (one private, one with a
#: second name line), a closed Grundschule, a Gymnasium, a Grundschule without coordinates.
MINI = (
    "\n".join(
        [
            "sep=;",
            _COLUMNS,
            _line("100001", "02", "GGS Am Dom", "", "1", "1", "05315000", "356470", "5645560"),
            _line("100002", "02", "Freie Grundschule", "Köln-Süd", "1", "2", "05315000", "356000", "5643000"),
            _line("100003", "02", "GGS Geschlossen", "", "9", "1", "05315000", "356100", "5645000"),
            _line("100004", "20", "Gymnasium Kreuzgasse", "", "1", "1", "05315000", "356200", "5645100"),
            _line("100005", "02", "KGS Ohne Lage", "", "1", "1", "5111000", "null", "null", epsg="null"),
        ]
    )
    + "\n"
)


@pytest.fixture
def mini_csv(tmp_path: Path) -> Path:
    path = tmp_path / "schuldaten.csv"
    path.write_bytes(MINI.encode("utf-8"))
    return path


def test_parse_keeps_grundschulen_in_operation() -> None:
    raw = pd.read_csv(pd.io.common.StringIO(MINI.split("\n", 1)[1]), sep=";", dtype=str)
    assert is_schuldaten(raw)
    out = parse_schuldaten(raw)
    assert out["id"].tolist() == ["MSB-100001", "MSB-100002", "MSB-100005"]
    assert list(out.index) == [0, 1, 4]  # rows of the file are kept for messages
    assert out["name"].tolist() == ["GGS Am Dom", "Freie Grundschule Köln-Süd", "KGS Ohne Lage"]
    assert out["traeger"].tolist() == ["öffentlich", "privat", "öffentlich"]
    assert out["gemeinde_ags"].tolist() == ["05315000", "05315000", "05111000"]
    assert out["kreis_ags"].tolist() == ["05315", "05315", "05111"]
    assert out["ogs"].isna().all()
    assert out["ogs"].dtype == "boolean"
    assert out["location_precision"].iloc[:2].tolist() == ["Adresse", "Adresse"]
    assert pd.isna(out["location_precision"].iloc[2])  # no coordinates: not claimed
    assert set(out["source"]) == {SOURCE}
    assert out.crs == "EPSG:25832"
    assert out.geometry.iloc[0].equals(Point(356470, 5645560))
    assert out.geometry.iloc[2] is None


def test_parse_refuses_incomplete_format() -> None:
    raw = pd.DataFrame(columns=[c for c in SIGNATURE if c != "UTMHochwert"])
    assert not is_schuldaten(raw)
    with pytest.raises(SchemaError, match="UTMHochwert"):
        parse_schuldaten(raw)


def test_import_recognises_the_format(mini_csv: Path, settings: Settings) -> None:
    result = import_file(mini_csv, "ogs", settings)
    assert result.format == "csv+schuldaten"
    assert result.location_kind == "utm32"
    assert result.rows_in == 5
    assert result.data["id"].tolist() == ["MSB-100001", "MSB-100002", "MSB-100005"]
    # the school without coordinates falls back to its PLZ centroid, and says so
    assert result.data["location_precision"].tolist() == ["Adresse", "Adresse", "PLZ"]
    assert any("3 von 5 Schulen sind Grundschulen in Betrieb" in n for n in result.notes)
    assert result.batch is not None
    assert result.batch.source == SOURCE
    assert result.batch.licence == "dl-de/by-2-0"
    assert result.batch.url is not None


def test_schuldaten_only_into_ogs(mini_csv: Path, settings: Settings, raises_matching) -> None:  # type: ignore[no-untyped-def]
    with raises_matching(DataError, "Schuldatei des MSB", "»ogs«", "»kita«"):
        import_file(mini_csv, "kita", settings)


def test_real_schuldaten_gives_2787_grundschulen(shared_data: Path, settings: Settings) -> None:
    path = shared_data / "facilities" / "nrw_schuldaten_msb_2021.csv"
    result = import_file(path, "ogs", settings)
    assert result.problems == ()
    assert result.rows_kept == 2787
    data = result.data
    assert data["id"].is_unique
    assert data["ogs"].isna().all()
    assert data["gemeinde_ags"].str.fullmatch(r"05\d{6}").all()
    assert (data["kreis_ags"] == data["gemeinde_ags"].str[:5]).all()
    assert data["traeger"].isin(["öffentlich", "privat"]).all()
    assert set(data["location_precision"]) == {"Adresse"}
    assert isinstance(data, gpd.GeoDataFrame)
    assert data.crs == "EPSG:25832"
