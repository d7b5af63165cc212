"""Exports of stored indicators: KomMonitor's request bodies (validated against its schema) and CSV/XLSX for the
Integrationsmonitoring (TIntG NRW § 19) with definition, source, date and unit."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

import jsonschema
import pandas as pd
import pytest
from kommonitor_schema import FEATURE_COLLECTION, official_validator, schema
from openpyxl import load_workbook
from test_areasets import _quarters, _write
from test_monitoring import KITA_NE, KITA_NW, SET, _kitas

from geo.areasets import import_area_set
from geo.levels import analysis_level
from geo.settings import Settings
from integrationsatlas.monitoring import IndicatorSeries, Reach, compute_indicators, history, store_indicators
from integrationsatlas.monitoring.export import monitoring_export
from integrationsatlas.monitoring.kommonitor import indicator_documents, kommonitor_package, spatial_unit_document
from integrationsatlas.request import AreaRef


@pytest.fixture(scope="module")
def monitored(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Four Köln quarters (one named like a formula) with indicators on two dates."""
    home = tmp_path_factory.mktemp("monitoring")
    settings = Settings().with_home(home / "home")
    quarters = _quarters(settings)
    quarters.loc[3, "Bezeichnung"] = "=HYPERLINK(1)"
    import_area_set(_write(quarters, home / "v.geojson"), SET, settings, title="Viertel", licence="CC BY", as_of="2014")
    series = IndicatorSeries(SET, AreaRef("", set=SET), ("kita",), (Reach("km", 1.0),))
    _kitas(settings, [KITA_NW], "2020-06-30")
    store_indicators(settings, compute_indicators(settings, series))
    _kitas(settings, [KITA_NW, KITA_NE], "2021-06-30")
    store_indicators(settings, compute_indicators(settings, series))
    return settings


def _valid(doc: dict[str, Any], name: str) -> None:
    jsonschema.validate(doc, schema(name))


def test_kommonitor_documents_validate_against_the_rebuilt_schema(monitored: Settings) -> None:
    level = analysis_level(SET, monitored)
    unit = spatial_unit_document(monitored, level, owner_id="org-1")
    _valid(unit, "SpatialUnitPOSTInputType")
    features = json.loads(unit["geoJsonString"])
    jsonschema.validate(features, FEATURE_COLLECTION)
    assert [f["properties"]["ID"] for f in features["features"]] == ["1", "2", "3", "4"]
    assert features["features"][3]["properties"]["NAME"] == "=HYPERLINK(1)"  # JSON keeps text as it is
    assert unit["periodOfValidity"] == {"startDate": "2014-12-31"} and unit["spatialUnitLevel"] == "Viertel"
    lon, lat = features["features"][0]["geometry"]["coordinates"][0][0][:2]
    assert 6.7 < lon < 7.2 and 50.8 < lat < 51.1  # EPSG:4326 as KomMonitor expects
    rows = history(monitored, SET)
    post, put = indicator_documents(rows, "facilities.kita", level, owner_id="org-1", topic="t-1")
    _valid(post, "IndicatorPOSTInputType")
    _valid(put, "IndicatorPUTInputType")
    values = {v["spatialReferenceKey"]: v["valueMapping"] for v in put["indicatorValues"]}
    assert values["4"] == [
        {"indicatorValue": 0.0, "timestamp": "2020-06-30"},
        {"indicatorValue": 1.0, "timestamp": "2021-06-30"},
    ]
    assert post["unit"] == "Anzahl" and post["indicatorType"] == "STATUS_ABSOLUTE" and post["precision"] == 0
    # an area without a value (coarse demand) is left out, and the metadata says why
    shares_post, shares = indicator_documents(rows, "population", level)
    mine = rows[rows["indicator"] == "population"]
    never = set(mine["key"]) - set(mine.loc[mine["value"].notna(), "key"])
    assert never and never.isdisjoint({v["spatialReferenceKey"] for v in shares["indicatorValues"]})
    assert "zu grob" in shares_post["metadata"]["note"]
    # a broken document is refused (the schema test can fail)
    with pytest.raises(jsonschema.ValidationError):
        _valid({**post, "creationType": "GERATEN"}, "IndicatorPOSTInputType")
    with pytest.raises(jsonschema.ValidationError):
        _valid({k: v for k, v in put.items() if k != "ownerId"}, "IndicatorPUTInputType")


def test_kommonitor_documents_validate_against_kommonitors_own_openapi_document(monitored: Settings) -> None:
    check = official_validator()
    if check is None:
        pytest.skip("KomMonitor's OpenAPI document is not at hand (KOMMONITOR_DATA_ACCESS_API or a local mirror)")
    level = analysis_level(SET, monitored)
    check(spatial_unit_document(monitored, level), "SpatialUnitPOSTInputType")
    rows = history(monitored, SET)
    for indicator in dict.fromkeys(rows["indicator"]):
        post, put = indicator_documents(rows, indicator, level)
        check(post, "IndicatorPOSTInputType")
        check(put, "IndicatorPUTInputType")
    with pytest.raises(jsonschema.ValidationError):
        check({**post, "isPublic": "ja"}, "IndicatorPOSTInputType")


def test_the_kommonitor_package_holds_bodies_tables_and_the_citation(monitored: Settings) -> None:
    data = kommonitor_package(monitored, SET)
    z = zipfile.ZipFile(io.BytesIO(data))
    names = z.namelist()
    assert "spatial_unit.json" in names and "indicators/facilities.kita.put.json" in names
    readme = z.read("LIESMICH.txt").decode("utf-8")
    assert "3bb8ee7575e80d1b189c7b6d7c977677d3a463e6" in readme and "ownerId" in readme
    table = pd.read_csv(io.BytesIO(z.read("importer/facilities.kita.csv")), sep=";", dtype={"ID": str})
    assert list(table.columns) == ["ID", "NAME", "2020-06-30", "2021-06-30"]
    assert table.set_index("ID").loc["4", "2021-06-30"] == 1
    assert table["NAME"].iloc[3] == "'=HYPERLINK(1)"  # never a formula in a spreadsheet
    mapping = json.loads(z.read("importer/facilities.kita.mapping.json"))
    assert mapping["spatialReferenceKeyProperty"] == "ID"
    assert [m["timestamp"] for m in mapping["timeseriesMappings"]] == ["2020-06-30", "2021-06-30"]


def test_the_integrationsmonitoring_tables_carry_definition_source_date_and_unit(
    monitored: Settings, tmp_path: Path
) -> None:
    csv = monitoring_export(monitored, SET, "csv").decode("utf-8-sig")
    table = pd.read_csv(io.StringIO(csv), sep=";", decimal=",", dtype={"Schlüssel (Nr.)": str})
    for column in ("Kennzahl", "Wert", "Einheit", "Stichtag", "Definition", "Quelle", "Auflösung", "quellenangabe"):
        assert column in table.columns
    row = table[(table["Kennzahl-ID"] == "facilities.kita") & (table["Stichtag"] == "2021-06-30")]
    assert row.set_index("Schlüssel (Nr.)")["Wert"].to_dict() == {"1": 0, "2": 0, "3": 1, "4": 1}
    assert (row["Einheit"] == "Anzahl").all() and row["Definition"].str.contains("Punkt-in-Gebiet-Regel").all()
    assert "'=HYPERLINK(1)" in set(table["Gebiet"])
    assert "Viertel: v.geojson, Lizenz CC BY, Stand 2014" in table["quellenangabe"].iloc[0]  # the areas' own source
    book = load_workbook(io.BytesIO(monitoring_export(monitored, SET, "xlsx")))
    assert book.sheetnames == ["Kennzahlen", "Metadaten", "Quellen"]
    meta = pd.DataFrame(book["Metadaten"].values)
    header = list(meta.iloc[0])
    assert {"Kennzahl-ID", "Definition", "Einheit", "Quelle", "Stichtage", "Lesart"} <= set(header)
    dates = meta.iloc[1:, header.index("Stichtage")]
    assert set(dates) == {"2020-06-30, 2021-06-30"}
    cells = [c for row in book["Kennzahlen"].iter_rows() for c in row if c.value == "=HYPERLINK(1)"]
    assert cells and all(c.data_type == "s" for c in cells)


def test_the_change_map_shows_where_an_indicator_changed(monitored: Settings) -> None:
    """The second Kita (north-east quarter, 2021) is the only change; the map colours that quarter alone."""
    from integrationsatlas.classes import PUOR5
    from integrationsatlas.monitoring import change_map, compare_snapshots
    from ui.views import indicator_map

    change = compare_snapshots(monitored, SET, "2020-06-30", "2021-06-30")
    polygons = change_map(monitored, SET, change, "facilities.kita").set_index("key")
    assert polygons["change"].to_dict() == {"1": 0, "2": 0, "3": 0, "4": 1}
    data, cls, sources = indicator_map(monitored, SET, "area_covered.kita.km1", "2021-06-30", "2020-06-30")
    fills = {f["properties"]["_id"]: f["properties"]["_fill"] for f in data["features"]}
    assert fills["4"] == PUOR5[4] and {fills[k] for k in ("1", "2", "3")} == {PUOR5[2]}
    assert "Veränderung 2020-06-30 → 2021-06-30" in cls.title
    # both snapshots name their sources and dates under the map; a count has no decimals in the legend
    assert sources.startswith("2020-06-30: ") and " · 2021-06-30: " in sources and "Stand " in sources
    _, counted, _ = indicator_map(monitored, SET, "facilities.kita", "2021-06-30")
    assert all("," not in label for label in counted.labels)
