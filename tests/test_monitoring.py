"""Indicators per area of any level, stored with their date, compared between dates and recomputed after an import.

The areas are the four quarters of the embedded Köln Gemeinde (see ``tests/test_areasets.py``); the demand is the
embedded GeoNames places with the Kreis population (no import needed), the facilities are written to the store.
"""

from __future__ import annotations

import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import Point
from test_areasets import _quarters, _write

from geo.areasets import import_area_set, load_area_set
from geo.errors import DataError, NotLoadedError
from geo.settings import Settings
from geo.store import open_store
from integrationsatlas.coverage import coverage_report
from integrationsatlas.monitoring import (
    IndicatorSeries,
    Reach,
    compare_snapshots,
    compute_indicators,
    load_snapshot,
    recompute_after_import,
    snapshots,
    store_indicators,
)
from integrationsatlas.monitoring.indicators import iso_date
from integrationsatlas.request import AreaRef

pytest_plugins = ("store_backends",)

SET = "koeln-viertel"
#: One Kita in the middle of the north-west quarter, far from its borders (EPSG:25832).
KITA_NW = (350_000.0, 5_652_000.0)
#: A point inside the north-east quarter (EPSG:25832).
KITA_NE = (362_000.0, 5_650_000.0)


def _kitas(settings: Settings, points: list[tuple[float, float]], as_of: str) -> None:
    frame = gpd.GeoDataFrame(
        {"id": [f"k{i}" for i in range(len(points))], "name": [f"Kita {i}" for i in range(len(points))]},
        geometry=[Point(x, y) for x, y in points],
        crs="EPSG:25832",
    )
    open_store(settings).write_layer(
        "kita", frame, mode="replace", source_file="kitas.csv", source="import", licence="CC0", as_of=as_of
    )


@pytest.fixture
def viertel(backend_settings: Settings, tmp_path: Path) -> Settings:
    import_area_set(_write(_quarters(backend_settings), tmp_path / "v.geojson"), SET, backend_settings, as_of="2014")
    _kitas(backend_settings, [KITA_NW], "2020-06-30")
    return backend_settings


def _series(*reaches: Reach) -> IndicatorSeries:
    return IndicatorSeries(SET, AreaRef("", set=SET), ("kita",), reaches or (Reach("km", 1.0),))


def test_the_indicator_table_of_an_area_set_agrees_with_the_pipeline(viertel: Settings) -> None:
    series = _series(Reach("km", 1.0))
    table = compute_indicators(viertel, series)
    wide = table.wide()
    assert list(wide.index) == ["1", "2", "3", "4"] and table.key_title == "Nr."
    assert table.date == "2020-06-30"  # the newest date of its inputs (the Kitas), not the import day
    report = coverage_report(viertel, series.requests()[0])
    gaps = report.gaps.table
    shown = wide["population"].dropna()  # a quarter narrower than two demand units (3,7 km) gets no population
    assert len(shown) >= 3 and shown.to_dict() == pytest.approx(gaps.loc[shown.index, "population"].to_dict())
    hidden = table.values[(table.values["indicator"] == "population") & table.values["value"].isna()]
    assert hidden["note"].str.contains("zu grob für dieses Gebiet").all()
    assert wide["facilities.kita"].tolist() == [0, 0, 1, 0]
    assert wide.loc["3", "facilities_per_10k.kita"] == pytest.approx(1e4 / gaps.loc["3", "population"])
    covered = (wide["share_covered.kita.km1"] / 100).dropna()
    assert covered.to_dict() == pytest.approx(gaps.loc[covered.index, "share_covered"].to_dict())
    # the surface within 1 km of the only Kita: a circle of π km² inside the north-west quarter (100 m cells)
    quarters = load_area_set(viertel, SET).set_index("unit_id")
    expected = math.pi / (quarters.loc["3"].geometry.area / 1e6) * 100
    assert wide.loc["3", "area_covered.kita.km1"] == pytest.approx(expected, rel=0.03)
    assert wide.loc[["1", "2", "4"], "area_covered.kita.km1"].tolist() == [0.0, 0.0, 0.0]
    # every figure says where it comes from
    meta = table.indicators()
    assert meta.loc["facilities.kita", "as_of"] == "30.06.2020" and "kitas.csv" in meta.loc["facilities.kita", "source"]
    assert "Orte" in meta.loc["population", "resolution"]
    assert meta.loc["area_covered.kita.km1", "resolution"].startswith("Raster 100 m")


def test_coarse_demand_gives_no_figure_but_a_note() -> None:
    """A Gemeinde population shared over a few places is no population of a small area, and says so."""
    import pandas as pd

    from integrationsatlas.monitoring.indicators import _rows, _why
    from planning.resolution import unit_resolution

    demand = pd.DataFrame(
        {"population": [1e5, 2e5], "resolution": ["gemeinde", "gemeinde"], "unit_size_m": [3700.0] * 2}
    )
    units = gpd.GeoDataFrame({"unit_id": ["a", "b"], "name": ["A", "B"]}, geometry=[Point(0, 0)] * 2, crs="EPSG:25832")
    res = unit_resolution(demand, pd.Series(["a", "b"]), pd.Series({"a": 2000.0, "b": 9000.0}))
    rows = _rows(units, _set_level(), "population", None, None, pd.Series({"a": 1e5, "b": 2e5}), res["total_ok"],
                 {"source": "", "as_of": "", "resolution": "", "extent": ""}, res)  # fmt: skip
    assert math.isnan(rows[0]["value"]) and rows[1]["value"] == 2e5
    assert rows[0]["note"] == _why(res, "a", "total") and "zu grob für dieses Gebiet" in rows[0]["note"]


def _set_level():  # type: ignore[no-untyped-def]
    from geo.levels import AnalysisLevel

    return AnalysisLevel(SET, "Viertel", "Gebiet", "unit_id", "unit_id", "Nr.")


@pytest.mark.slow
def test_snapshots_are_stored_with_their_date_and_compared_on_both_backends(viertel: Settings) -> None:
    series = _series()
    store_indicators(viertel, compute_indicators(viertel, series, on="2020-06-30"))
    _kitas(viertel, [KITA_NW, KITA_NE], "2021-06-30")  # a second Kita, in the north-east
    store_indicators(viertel, compute_indicators(viertel, series))
    dates = snapshots(viertel, SET)["date"].tolist()
    assert dates == ["2021-06-30", "2020-06-30"]
    before = load_snapshot(viertel, SET, "2020-06-30")
    assert before.wide()["facilities.kita"].tolist() == [0, 0, 1, 0] and before.series == series
    change = compare_snapshots(viertel, SET, "2020-06-30", "2021-06-30", "facilities.kita").set_index("key")
    assert change["change"].to_dict() == {"1": 0, "2": 0, "3": 0, "4": 1}
    assert np.isnan(change.loc["4", "change_pct"])  # from 0: no relative change
    # the same series and date again replaces the stored snapshot (restorable), it does not add one
    store_indicators(viertel, compute_indicators(viertel, series, on="2021-06-30"))
    assert snapshots(viertel, SET)["date"].tolist() == ["2021-06-30", "2020-06-30"]
    with pytest.raises(NotLoadedError, match="2020-06-30, 2021-06-30"):
        load_snapshot(viertel, SET, "2019-12-31")
    with pytest.raises(DataError, match="gemeinsame Kennzahl"):
        compare_snapshots(viertel, SET, "2020-06-30", "2021-06-30", "gibt.es.nicht")


@pytest.mark.slow
def test_a_new_facility_import_recomputes_the_stored_series_for_its_date(viertel: Settings, tmp_path: Path) -> None:
    from integrationsatlas.cli import main

    store_indicators(viertel, compute_indicators(viertel, _series(), on="2020-06-30"))
    csv = tmp_path / "kitas_2022.csv"
    csv.write_text(f"id;name;x;y\nk9;Kita Ost;{KITA_NE[0]:.0f};{KITA_NE[1]:.0f}\n", encoding="utf-8")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(Settings, "from_env", classmethod(lambda cls: viertel))
        assert main(["import", str(csv), "--layer", "kita", "--as-of", "2022-03-01"]) == 0
    latest = load_snapshot(viertel, SET)
    assert latest.date == "2022-03-01" and latest.wide()["facilities.kita"].tolist() == [0, 0, 1, 1]
    # a layer no stored series uses recomputes nothing
    assert recompute_after_import(viertel, "ogs", "2022-04-01") == ([], [])


def test_reaches_and_dates_are_read_as_written() -> None:
    assert Reach.parse("0,5km") == Reach("km", 0.5) and Reach.parse("10min").mode == "walk"
    assert Reach.parse("10min:bike").label == "10 Minuten mit dem Fahrrad"
    with pytest.raises(DataError, match="10min:bike"):
        Reach.parse("10 Minuten")
    with pytest.raises(DataError, match="Verkehrsmittel"):
        Reach.parse("10min:rakete")
    assert iso_date("Gemeindebevölkerung 31.12.2019; Gebäude laut OSM-Datei") == "2019-12-31"
    series = _series(Reach("km", 0.5), Reach("min", 10.0, "walk"))
    assert IndicatorSeries.from_dict(series.as_dict()) == series
    with pytest.raises(DataError, match="Einrichtungsebene"):
        IndicatorSeries(SET, AreaRef("", set=SET), ()).check()


def test_the_same_question_in_another_order_is_the_same_series() -> None:
    a = IndicatorSeries(SET, AreaRef("", set=SET), ("kita", "ki"), (Reach("km", 1.0), Reach("km", 0.5)))
    b = IndicatorSeries(SET, AreaRef("", set=SET), ("ki", "kita", "ki"), (Reach("km", 0.5), Reach("km", 1.0)))
    assert a == b and a.key == b.key and IndicatorSeries.from_dict(a.as_dict()) == a
    assert a.key != IndicatorSeries(SET, AreaRef("", set=SET), ("ki",), (Reach("km", 0.5),)).key
