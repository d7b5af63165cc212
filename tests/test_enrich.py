"""Facilities × boundaries: spatial assignment and counts per unit (synthetic and real data)."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import settings as hyp_settings
from hypothesis import strategies as st
from loopback import SYNTHETIC_KREISE
from shapely.geometry import Point, box

from geo.errors import CRSError, IntegrationsatlasError, NotLoadedError
from geo.settings import Settings
from geo.store import DataStore
from geo.units import assign_units, count_in_units, unit_of
from integrationsatlas.areas import count_per_unit

pytest_plugins = ("loopback",)

CRS = "EPSG:25832"


@pytest.fixture
def kreise() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"ags": [k[0] for k in SYNTHETIC_KREISE], "name": [k[1] for k in SYNTHETIC_KREISE]},
        geometry=[box(*k[2]) for k in SYNTHETIC_KREISE],
        crs=CRS,
    )


@pytest.fixture
def gemeinden() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"ags": ["05334001", "05334002", "05358001"], "name": ["A", "B", "C"]},
        geometry=[
            box(290_000, 5_620_000, 300_000, 5_640_000),
            box(300_000, 5_620_000, 310_000, 5_640_000),
            box(310_000, 5_620_000, 330_000, 5_640_000),
        ],
        crs=CRS,
    )


def test_assign_units_by_hand(kreise: gpd.GeoDataFrame, gemeinden: gpd.GeoDataFrame) -> None:
    facilities = gpd.GeoDataFrame(
        {"id": ["a", "b", "c", "d"], "kreis_ags": ["09999", None, None, None]},
        geometry=[
            Point(295_000, 5_630_000),
            Point(310_000, 5_630_000),
            Point(325_000, 5_630_000),
            Point(400_000, 5_630_000),
        ],
        index=[10, 20, 30, 40],
        crs=CRS,
    )
    out = assign_units(facilities, kreise, gemeinden)
    assert list(out.index) == [10, 20, 30, 40]  # the input index is kept
    # a wrong AGS in the input is corrected; the border point goes to the first Kreis; outside is NA
    assert out["kreis_ags"].tolist() == ["05334", "05334", "05358", pd.NA]
    assert out["gemeinde_ags"].tolist() == ["05334001", "05334002", "05358001", pd.NA]
    assert facilities["kreis_ags"].iloc[0] == "09999"  # the input is not modified


def test_assign_units_without_gemeinden_keeps_column(kreise: gpd.GeoDataFrame) -> None:
    facilities = gpd.GeoDataFrame({"id": ["a"]}, geometry=[Point(295_000, 5_630_000)], crs=CRS)
    out = assign_units(facilities, kreise)
    assert out["kreis_ags"].tolist() == ["05334"] and out["gemeinde_ags"].isna().all()


def test_assign_units_refuses_geographic_crs(kreise: gpd.GeoDataFrame, raises_matching) -> None:
    facilities = gpd.GeoDataFrame({"id": ["a"]}, geometry=[Point(6.1, 50.8)], crs="EPSG:4326")
    with raises_matching(CRSError, "EPSG:4326", "EPSG:25832"):
        assign_units(facilities, kreise)


def test_unit_of_polygon_facility_uses_representative_point(kreise: gpd.GeoDataFrame) -> None:
    geoms = gpd.GeoSeries([box(320_000, 5_625_000, 321_000, 5_626_000), None], crs=CRS)
    assert unit_of(geoms, kreise).tolist() == ["05358", pd.NA]


def test_unit_of_nearest_within_max_distance() -> None:
    units = gpd.GeoDataFrame({"ags": ["05112", "05111"]}, geometry=[box(10, 0, 20, 10), box(0, 0, 10, 10)], crs=CRS)
    pts = gpd.GeoSeries([Point(10, 5), Point(-3, 5), Point(25, 5), Point(10, 15), Point(100, 5), None], crs=CRS)
    # border → smallest AGS whatever the order of `units`; 3 m and 5 m outside → nearest;
    # equidistant → smallest AGS; far → NA
    assert unit_of(pts, units).tolist() == ["05111", pd.NA, pd.NA, pd.NA, pd.NA, pd.NA]
    assert unit_of(pts, units, nearest=True, max_distance=6).tolist() == [
        "05111",
        "05111",
        "05112",
        "05111",
        pd.NA,
        pd.NA,
    ]
    assert unit_of(pts, units, nearest=True).iloc[4] == "05112"


def test_count_in_units_by_hand(kreise: gpd.GeoDataFrame) -> None:
    kitas = gpd.GeoDataFrame(
        geometry=[
            Point(295_000, 5_630_000),
            Point(296_000, 5_630_000),
            Point(325_000, 5_630_000),
            Point(600_000, 5_630_000),
        ],
        crs=CRS,
    )
    empty = gpd.GeoDataFrame(geometry=gpd.GeoSeries([], crs=CRS), crs=CRS)
    table = count_in_units(kreise, {"kita": kitas, "ogs": empty}, pd.Series({"05334": 40_000, "05358": 0}))
    assert table["kita"].tolist() == [2, 1]
    assert table["kita_je_10000"].iloc[0] == pytest.approx(0.5)
    assert np.isnan(table["kita_je_10000"].iloc[1])  # population 0: NaN, never 0
    assert table["ogs"].tolist() == [0, 0] and table["ogs_je_10000"].iloc[0] == 0.0
    no_pop = count_in_units(kreise, {"kita": kitas})
    assert no_pop["population"].isna().all() and no_pop["kita_je_10000"].isna().all()


@hyp_settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.floats(280_000, 340_000), st.floats(5_610_000, 5_650_000)), max_size=30))
def test_counts_add_up_to_the_points_inside(points: list[tuple[float, float]]) -> None:
    kreise = gpd.GeoDataFrame(
        {"ags": [k[0] for k in SYNTHETIC_KREISE], "name": ["a", "b"]},
        geometry=[box(*k[2]) for k in SYNTHETIC_KREISE],
        crs=CRS,
    )
    pts = gpd.GeoDataFrame(geometry=[Point(x, y) for x, y in points], crs=CRS)
    table = count_in_units(kreise, {"kita": pts}, pd.Series({"05334": 10_000, "05358": 20_000}))
    inside = int(pts.geometry.intersects(kreise.union_all()).sum())
    assert table["kita"].sum() == inside
    assert (table["kita_je_10000"] >= 0).all()


def _write_kreis_statistics(settings: Settings) -> None:
    """A synthetic Kreis statistics table: 40,000 and 20,000 inhabitants in 2019, 35,000 in 2018."""
    from geo.statistics import COLUMNS, STATISTICS_FILE

    rows = [
        {"ags": "05334", "name": "Städteregion Test", "level": "kreis", "year": 2018, "population": 35_000},
        {"ags": "05334", "name": "Städteregion Test", "level": "kreis", "year": 2019, "population": 40_000},
        {"ags": "05358", "name": "Kreis Test", "level": "kreis", "year": 2019, "population": 20_000},
    ]
    path = settings.data_dir / STATISTICS_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows).reindex(columns=list(COLUMNS)).to_csv(path, index=False)


def test_count_per_unit_from_the_store(synthetic_settings: Settings) -> None:
    _write_kreis_statistics(synthetic_settings)
    kitas = gpd.GeoDataFrame(
        {"id": ["k1", "k2", "k3"], "name": ["A", "B", "C"], "location_precision": "Koordinate"},
        geometry=[Point(295_000, 5_630_000), Point(296_000, 5_630_000), Point(325_000, 5_630_000)],
        crs=CRS,
    )
    DataStore(synthetic_settings.store_path).write_layer(
        "kita", kitas, mode="append", source_file="k.csv", source="import", licence="CC0"
    )
    table = count_per_unit("kreis", synthetic_settings, layers=["kita"])
    assert table["ags"].tolist() == ["05334", "05358"]
    assert table["kita"].tolist() == [2, 1]
    # Kreis population from the Kreis statistics, latest year
    assert table["population"].tolist() == [40_000, 20_000]
    assert table["kita_je_10000"].tolist() == pytest.approx([0.5, 0.5])
    with pytest.raises(NotLoadedError, match="Gemeinden"):
        count_per_unit("gemeinde", synthetic_settings, layers=["kita"])
    with pytest.raises(IntegrationsatlasError, match="Nur Punktebenen"):
        count_per_unit("kreis", synthetic_settings, layers=["kreis"])


def test_cli_summary_json(synthetic_settings: Settings, monkeypatch, capsys) -> None:
    from integrationsatlas.cli import main

    _write_kreis_statistics(synthetic_settings)
    monkeypatch.setattr(Settings, "from_env", classmethod(lambda cls: synthetic_settings))
    assert main(["summary", "--by", "kreis", "--layer", "kita", "--layer", "ogs", "--json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["ags"] for r in rows] == ["05334", "05358"]
    assert set(rows[0]) >= {"ags", "name", "population", "kita", "kita_je_10000", "ogs", "ogs_je_10000"}
    # no Kitas loaded: unknown, not »0 Kitas« (the summary printed »0 (0,00)« for every layer without data)
    assert rows[0]["population"] == 40_000 and rows[0]["kita"] is None and rows[0]["kita_je_10000"] is None
    assert main(["summary", "--by", "kreis", "--layer", "kita"]) == 0
    out = capsys.readouterr().out
    assert "40.000" in out and "Ohne Daten (nicht 0, sondern unbekannt): kita." in out
    assert main(["summary", "--by", "kreis"]) == 0  # by default only the layers with data: here none
    assert capsys.readouterr().out.startswith("Keine Einrichtungsebene hat Daten.")
    assert main(["summary", "--by", "gemeinde"]) == 2
    assert "noch nicht geladen" in capsys.readouterr().err


def test_real_schools_fall_in_their_gemeinde(shared_data: Path) -> None:
    """≥ 99.9 % of the 2,787 MSB Grundschulen lie in the Gemeinde of their Gemeindeschlüssel."""
    from geo.importing import schuldaten

    raw = pd.read_csv(
        shared_data / "facilities/nrw_schuldaten_msb_2021.csv", sep=";", skiprows=1, dtype=str, keep_default_na=False
    )
    schools = schuldaten.parse_schuldaten(raw)
    assert len(schools) == 2787
    gem = gpd.read_file(shared_data / "boundaries/nrw_gemeinden_vg250_simplify200.geojson").to_crs(CRS)
    gem = gem.rename(columns={"AGS": "ags", "GEN": "name"})[["ags", "name", "geometry"]]
    krs = gpd.read_file(shared_data / "boundaries/nrw_kreise_from_gemeinden_simplify200.geojson").to_crs(CRS)
    krs = krs.rename(columns={"AGS": "ags", "GEN": "name"})[["ags", "name", "geometry"]]
    given = schools["gemeinde_ags"].copy()
    out = assign_units(schools, krs, gem)
    assert (out["gemeinde_ags"] == given).mean() >= 0.999
    assert (out["kreis_ags"] == given.str[:5]).mean() >= 0.999
    # counts per Gemeinde with the real Destatis population (31.12.2019)
    pop = pd.read_csv(shared_data / "population/nrw_gemeinden_destatis_gv_2019.csv", dtype={"AGS": str})
    assert pop["AGS"].is_unique and set(pop["AGS"]) == set(gem["ags"])  # joins 1:1 on AGS
    table = count_in_units(gem.sort_values("ags"), {"ogs": schools}, pop.set_index("AGS")["population"])
    assert table["ogs"].sum() >= 2786 and table["population"].notna().all()
    aachen = table.set_index("ags").loc["05334002"]
    assert aachen["ogs_je_10000"] == pytest.approx(aachen["ogs"] / aachen["population"] * 10_000)
