"""Exports of layers and results: GeoPackage, GeoJSON, CSV and XLSX in EPSG:25832 / 4326, with sources."""

from __future__ import annotations

import io
import json
import sqlite3
from collections.abc import Callable
from datetime import date
from pathlib import Path

import geopandas as gpd
import numpy as np
import openpyxl
import pandas as pd
import pyogrio
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import Point, box

from geo.errors import CRSError, DataError
from geo.io.export import (
    ATTRIBUTION_COLUMN,
    FORMATS,
    export_filename,
    export_frame,
    export_layer,
    export_to_path,
    layer_attribution,
)
from geo.layers import REGISTRY
from geo.layers.sources import ATTRIBUTIONS
from geo.settings import Settings

TODAY = date(2026, 11, 21)
NASTY = '<script>alert("x")</script> & Co'
FORMULA = '=HYPERLINK("http://evil","klick")'
ATTR = ("© GeoBasis-DE / BKG (dl-de/by-2-0)", "© OpenStreetMap contributors (ODbL)")


def _points() -> gpd.GeoDataFrame:
    """Three facilities in Köln, EPSG:25832, with umlauts, HTML and a formula as names."""
    return gpd.GeoDataFrame(
        {
            "id": ["a", "b", "c"],
            "name": ["Begegnungsstätte Köln-Mülheim", NASTY, FORMULA],
            "plaetze": pd.array([12, None, 3], dtype="Int64"),
        },
        geometry=[Point(356_123.456, 5_645_987.654), Point(357_000.001, 5_646_000.0), Point(350_500.5, 5_650_250.25)],
        crs="EPSG:25832",
    )


def _read_csv(data: bytes) -> pd.DataFrame:
    return pd.read_csv(io.BytesIO(data), sep=";", decimal=",", encoding="utf-8-sig", dtype={"id": str})


def _xy_back_to_25832(x: np.ndarray, y: np.ndarray, crs: str) -> np.ndarray:
    pts = gpd.GeoSeries(gpd.points_from_xy(x, y), crs=crs).to_crs("EPSG:25832")
    return np.column_stack([pts.x, pts.y])


def _expected_xy(gdf: gpd.GeoDataFrame) -> np.ndarray:
    return np.column_stack([gdf.geometry.x, gdf.geometry.y])


@pytest.mark.parametrize("crs", ["EPSG:25832", "EPSG:4326"])
def test_gpkg_round_trip_within_a_millimetre_with_sources(crs: str, tmp_path: Path) -> None:
    gdf = _points()
    path = tmp_path / "out.gpkg"
    path.write_bytes(export_frame(gdf, "gpkg", crs, layer_name="Treffpunkte", attribution=ATTR, today=TODAY))
    layers = {name for name, _ in pyogrio.list_layers(path)}
    assert layers == {"treffpunkte", "quellen"}
    back = gpd.read_file(path, layer="treffpunkte")
    assert back.crs.to_string() == crs
    assert np.abs(_xy_back_to_25832(back.geometry.x, back.geometry.y, crs) - _expected_xy(gdf)).max() < 1e-3
    assert back["name"].tolist() == gdf["name"].tolist()  # umlauts, HTML and '=' exported literally
    sources = pyogrio.read_dataframe(path, layer="quellen")
    assert set(ATTR) <= set(sources["wert"])
    assert TODAY.isoformat() in set(sources["wert"])
    meta = pyogrio.read_info(path, layer="treffpunkte")["layer_metadata"]
    assert ATTR[0] in meta["attribution"]
    with sqlite3.connect(path) as con:
        (description,) = con.execute(
            "SELECT description FROM gpkg_contents WHERE table_name = 'treffpunkte'"
        ).fetchone()
    assert "© OpenStreetMap contributors" in description


def test_geojson_is_rfc7946_with_attribution_member_and_mm_round_trip() -> None:
    gdf = _points()
    doc = json.loads(export_frame(gdf, "geojson", layer_name="Treffpunkte", attribution=ATTR, today=TODAY))
    assert doc["type"] == "FeatureCollection"
    assert doc["attribution"] == list(ATTR)
    assert doc["name"] == "Treffpunkte"
    assert "crs" not in doc  # RFC 7946: always WGS 84 lon/lat, no crs member
    coords = np.array([f["geometry"]["coordinates"] for f in doc["features"]])
    assert (coords[:, 0] > 6).all() and (coords[:, 1] > 50).all()  # lon, lat order
    assert np.abs(_xy_back_to_25832(coords[:, 0], coords[:, 1], "EPSG:4326") - _expected_xy(gdf)).max() < 1e-3
    assert [f["properties"]["name"] for f in doc["features"]] == gdf["name"].tolist()


def test_geojson_refuses_25832_and_says_what_to_do(raises_matching: Callable) -> None:
    with raises_matching(CRSError, "RFC 7946", "GeoPackage"):
        export_frame(_points(), "geojson", "EPSG:25832", layer_name="x", attribution=ATTR)


@pytest.mark.parametrize(("crs", "cols"), [("EPSG:25832", ("x", "y")), ("EPSG:4326", ("lon", "lat"))])
def test_csv_opens_in_german_excel_and_round_trips(crs: str, cols: tuple[str, str]) -> None:
    gdf = _points()
    data = export_frame(gdf, "csv", crs, layer_name="Treffpunkte", attribution=ATTR)
    assert data.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM: Excel shows umlauts correctly
    text = data.decode("utf-8-sig")
    assert text.splitlines()[0] == f"id;name;plaetze;{cols[0]};{cols[1]};{ATTRIBUTION_COLUMN}"
    back = _read_csv(data)
    xy = _xy_back_to_25832(back[cols[0]].to_numpy(), back[cols[1]].to_numpy(), crs)
    assert np.abs(xy - _expected_xy(gdf)).max() < 1e-3
    assert back.loc[0, "name"] == "Begegnungsstätte Köln-Mülheim"
    assert back.loc[1, "name"] == NASTY
    assert back.loc[2, "name"] == "'" + FORMULA  # neutralised for Excel (OWASP), visibly
    assert (back[ATTRIBUTION_COLUMN] == " | ".join(ATTR)).all()
    assert back["plaetze"].isna().tolist() == [False, True, False]


@pytest.mark.parametrize("crs", ["EPSG:25832", "EPSG:4326"])
def test_xlsx_has_data_and_quellen_sheet_and_keeps_formulas_as_text(crs: str) -> None:
    gdf = _points()
    data = export_frame(gdf, "xlsx", crs, layer_name="Treffpunkte", attribution=ATTR, today=TODAY)
    wb = openpyxl.load_workbook(io.BytesIO(data))
    assert wb.sheetnames == ["Daten", "Quellen"]
    ws = wb["Daten"]
    header = [c.value for c in ws[1]]
    xcol, ycol = ("lon", "lat") if crs == "EPSG:4326" else ("x", "y")
    assert header == ["id", "name", "plaetze", xcol, ycol]
    names = [ws.cell(row=r, column=2) for r in (2, 3, 4)]
    assert [c.value for c in names] == gdf["name"].tolist()
    assert names[2].data_type == "s"  # '=HYPERLINK…' is text, not a formula
    assert ws.cell(row=3, column=3).value is None
    x = np.array([ws.cell(row=r, column=4).value for r in (2, 3, 4)], dtype=float)
    y = np.array([ws.cell(row=r, column=5).value for r in (2, 3, 4)], dtype=float)
    assert np.abs(_xy_back_to_25832(x, y, crs) - _expected_xy(gdf)).max() < 1e-3
    quellen = {row[1] for row in wb["Quellen"].iter_rows(min_row=2, values_only=True)}
    assert set(ATTR) <= quellen
    assert TODAY.isoformat() in quellen
    assert any(crs in str(v) for v in quellen)


def test_result_table_without_geometry_keeps_its_ags_index(tmp_path: Path) -> None:
    gaps = pd.DataFrame(
        {"name": ["Städteregion Aachen", "Düren"], "share_covered": [0.5, 0.25]},
        index=pd.Index(["05334", "05358"], name="ags"),
    )
    back = _read_csv(export_frame(gaps, "csv", layer_name="Lücken", attribution=ATTR))
    assert back["ags"].astype(str).str.zfill(5).tolist() == ["05334", "05358"]
    assert back["share_covered"].tolist() == [0.5, 0.25]
    wb = openpyxl.load_workbook(io.BytesIO(export_frame(gaps, "xlsx", layer_name="Lücken", attribution=ATTR)))
    assert [c.value for c in wb["Daten"]["A"]] == ["ags", "05334", "05358"]  # AGS stay text with leading 0
    path = tmp_path / "luecken.gpkg"
    path.write_bytes(export_frame(gaps, "gpkg", layer_name="Lücken", attribution=ATTR))
    assert pyogrio.read_dataframe(path, layer="luecken")["ags"].tolist() == ["05334", "05358"]


def test_polygons_export_full_geometry_to_gpkg_and_an_inner_point_to_csv(tmp_path: Path) -> None:
    kreise = gpd.GeoDataFrame(
        {"ags": ["05111"], "name": ["Düsseldorf"]},
        geometry=[box(340_000, 5_680_000, 350_000, 5_690_000)],
        crs="EPSG:25832",
    )
    path = export_to_path(kreise, tmp_path / "kreise.gpkg", layer_name="Kreise", attribution=ATTR)
    assert gpd.read_file(path, layer="kreise").geometry.iloc[0].equals(kreise.geometry.iloc[0])
    back = _read_csv(export_frame(kreise, "csv", layer_name="Kreise", attribution=ATTR))
    assert kreise.geometry.iloc[0].contains(Point(back.loc[0, "x"], back.loc[0, "y"]))


def test_errors_are_clear(raises_matching: Callable) -> None:
    no_crs = gpd.GeoDataFrame({"name": ["x"]}, geometry=[Point(1, 2)])
    with raises_matching(CRSError, "Kein Koordinatenbezugssystem"):
        export_frame(no_crs, "gpkg", layer_name="x", attribution=ATTR)
    with raises_matching(DataError, "Unbekanntes Exportformat »shp«"):
        export_frame(_points(), "shp", layer_name="x", attribution=ATTR)  # type: ignore[arg-type]
    with raises_matching(CRSError, "EPSG:3857", "EPSG:25832"):
        export_frame(_points(), "csv", "EPSG:3857", layer_name="x", attribution=ATTR)  # type: ignore[arg-type]
    with raises_matching(DataError, "Quellenangaben"):
        export_frame(_points(), "csv", layer_name="x", attribution=())
    with raises_matching(DataError, "keine Geometrie", "CSV"):
        export_frame(pd.DataFrame({"a": [1]}), "geojson", layer_name="x", attribution=ATTR)
    with raises_matching(DataError, ".gpkg"):
        export_to_path(_points(), Path("x.shp"), layer_name="x", attribution=ATTR)


def test_layer_exports_carry_the_layer_and_general_attributions(settings: Settings, raises_matching: Callable) -> None:
    lines = layer_attribution(REGISTRY.get("ki"))
    assert lines[0].startswith("GeoNames (geonames.org)")
    assert set(ATTRIBUTIONS) <= set(lines)
    with raises_matching(DataError, "Kitas", "keine Daten"):
        export_layer("kita", settings, "csv")
    assert export_filename("Lücken <KI>", "gpkg") == "Lücken_KI_25832.gpkg"
    assert set(FORMATS) == {"gpkg", "geojson", "csv", "xlsx"}


@settings(max_examples=25, deadline=None)
@given(
    x=st.floats(min_value=280_000, max_value=520_000),
    y=st.floats(min_value=5_570_000, max_value=5_820_000),
)
def test_property_csv_4326_round_trip_stays_within_a_millimetre(x: float, y: float) -> None:
    gdf = gpd.GeoDataFrame({"name": ["p"]}, geometry=[Point(x, y)], crs="EPSG:25832")
    back = _read_csv(export_frame(gdf, "csv", "EPSG:4326", layer_name="p", attribution=ATTR))
    xy = _xy_back_to_25832(back["lon"].to_numpy(), back["lat"].to_numpy(), "EPSG:4326")
    assert np.hypot(xy[0, 0] - x, xy[0, 1] - y) < 1e-3
