"""Demand model: builders, apportionment and target groups on hand-worked fixtures (EPSG:25832)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import Point, box

from geo.errors import CRSError, DataError, SchemaError, ValidationError
from planning.demand import (
    DEMAND_COLUMNS,
    TargetGroup,
    apply_target_group,
    apportion,
    assign_units,
    demand_from_gemeinden,
    demand_from_grid,
    demand_from_places,
)
from planning.resolution import check_resolution

X0, Y0 = 400_000.0, 5_700_000.0
CRS = "EPSG:25832"


@pytest.fixture
def kreise() -> gpd.GeoDataFrame:
    """Three 10 km squares side by side: Kreise A (05111), B (05112), C (05113)."""
    return gpd.GeoDataFrame(
        {"ags": ["05111", "05112", "05113"], "name": ["A", "B", "C"]},
        geometry=[box(X0 + i * 10_000, Y0, X0 + (i + 1) * 10_000, Y0 + 10_000) for i in range(3)],
        crs=CRS,
    )


@pytest.fixture
def places() -> gpd.GeoDataFrame:
    """Three places in A (population 3000, 1000, 0) and one in B; none in C."""
    return gpd.GeoDataFrame(
        {
            "name": ["a1", "a2", "a3", "b1"],
            "population": [3_000, 1_000, 0, 500],
            "kreis_ags": ["05111", "05111", "05111", "05112"],
        },
        geometry=[
            Point(X0 + 1_000, Y0 + 1_000),
            Point(X0 + 5_000, Y0 + 5_000),
            Point(X0 + 9_000, Y0 + 1_000),
            Point(X0 + 15_000, Y0 + 5_000),
        ],
        index=[10, 11, 12, 13],
        crs=CRS,
    )


def test_demand_from_places_shares_out_exactly(places, kreise) -> None:
    kreis_pop = pd.Series({"05111": 10_001, "05112": 7_000, "05113": 2_500})
    d = demand_from_places(places, kreis_pop, kreise)
    assert list(d.columns[:5]) == list(DEMAND_COLUMNS)
    assert d.crs == CRS
    # A: quotas 7500.75, 2500.25, 0 → floor 7500, 2500, 0 and the 1 left over to the largest remainder
    assert d.loc[[10, 11, 12], "population"].tolist() == [7_501.0, 2_500.0, 0.0]
    assert d.loc[13, "population"] == 7_000.0
    # C has no place: one point at the representative point of its square, labelled on from the index
    assert d.loc[14, "kreis_ags"] == "05113"
    assert d.loc[14, "population"] == 2_500.0
    assert kreise.geometry.iloc[2].contains(d.geometry.loc[14])
    totals = d.groupby("kreis_ags")["population"].sum()
    assert totals.to_dict() == {"05111": 10_001.0, "05112": 7_000.0, "05113": 2_500.0}
    assert (d["weight"] == d["population"]).all()
    assert (d["level"] == "orte").all()
    assert d["gemeinde_ags"].isna().all()


def test_demand_from_places_collects_all_problems(places, kreise) -> None:
    bad_places = places.assign(kreis_ags=["05111", "05111", "05999", "05112"])
    kreis_pop = pd.Series({"05111": 100, "05112": np.nan, "05113": 10, "05114": 5})
    with pytest.raises(ValidationError) as info:
        demand_from_places(bad_places, kreis_pop, kreise)
    text = str(info.value)
    assert "05112: keine gültige Einwohnerzahl" in text
    assert "05999" in text
    assert "05114 hat weder Orte noch eine Fläche" in text
    assert len(info.value.problems) == 3


def test_demand_from_places_refuses_geographic(places, kreise) -> None:
    with pytest.raises(CRSError, match="Orte"):
        demand_from_places(places.to_crs("EPSG:4326"), pd.Series({"05111": 1}), kreise)


@settings(max_examples=60, deadline=None)
@given(
    totals=st.lists(st.integers(0, 10_000_000), min_size=1, max_size=4),
    shares=st.lists(st.tuples(st.integers(0, 3), st.integers(0, 100_000)), min_size=1, max_size=30),
)
def test_apportion_sums_exactly(totals, shares) -> None:
    groups = pd.Series([f"g{min(g, len(totals) - 1)}" for g, _ in shares])
    total = pd.Series({f"g{i}": t for i, t in enumerate(totals)})
    got = apportion(total, pd.Series([s for _, s in shares], dtype=float), groups)
    assert (got >= 0).all()
    sums = got.groupby(groups.to_numpy()).sum()
    for key, value in sums.items():
        assert value == total[key]


def test_demand_from_gemeinden_uses_representative_points() -> None:
    # a U-shaped Gemeinde whose centroid lies outside it
    u = box(X0, Y0, X0 + 3_000, Y0 + 3_000).difference(box(X0 + 1_000, Y0 + 1_000, X0 + 2_000, Y0 + 3_000))
    g = gpd.GeoDataFrame(
        {"ags": ["05111000", "05112000"], "population": [1_000, 2_000]},
        geometry=[u, box(X0 + 5_000, Y0, X0 + 6_000, Y0 + 1_000)],
        index=["u", "q"],
        crs=CRS,
    )
    d = demand_from_gemeinden(g)
    assert list(d.index) == ["u", "q"]
    assert u.contains(d.geometry.loc["u"])
    assert d["kreis_ags"].tolist() == ["05111", "05112"]
    assert d["gemeinde_ags"].tolist() == ["05111000", "05112000"]
    assert (d["level"] == "gemeinde").all()
    with pytest.raises(ValidationError, match="Zeile 2"):
        demand_from_gemeinden(g.assign(population=[1_000, None]))


def test_demand_from_grid_assigns_kreise_and_drops_empty_cells(kreise) -> None:
    grid = gpd.GeoDataFrame(
        {"population": pd.array([12, None, 0, 7], dtype="Int64"), "kinder": [2, 0, 0, 1]},
        geometry=[
            Point(X0 + 500, Y0 + 500),
            Point(X0 + 1_500, Y0 + 500),
            Point(X0 + 2_500, Y0 + 500),
            Point(X0 + 30_200, Y0 + 500),
        ],  # last one 200 m east of Kreis C → nearest Kreis
        crs=CRS,
    )
    d = demand_from_grid(grid, kreise=kreise)
    assert list(d.index) == [0, 3]
    assert d["population"].tolist() == [12.0, 7.0]
    assert d["kreis_ags"].tolist() == ["05111", "05113"]
    assert d["kinder"].tolist() == [2, 1]  # extra columns are carried for target groups
    with pytest.raises(SchemaError, match="kreis_ags"):
        demand_from_grid(grid)
    with pytest.raises(DataError, match="ungültiger Einwohnerzahl"):
        demand_from_grid(grid.assign(population=[1, -1, 0, 0]), kreise=kreise)


def test_assign_units_border_and_outside(kreise) -> None:
    pts = gpd.GeoDataFrame(
        geometry=[Point(X0 + 10_000, Y0 + 5_000), Point(X0 - 50, Y0 + 5_000)], index=["border", "outside"], crs=CRS
    )
    got = assign_units(pts, kreise)
    assert got["border"] in {"05111", "05112"}
    assert got["outside"] == "05111"


# --- target groups ------------------------------------------------------------


@pytest.fixture
def demand(places, kreise) -> gpd.GeoDataFrame:
    return demand_from_places(places, pd.Series({"05111": 4_000, "05112": 1_000, "05113": 200}), kreise)


def test_foreign_target_group_weights(demand) -> None:
    share = pd.Series({"05111": 25.0, "05112": 10.0, "05113": 0.0})
    d = apply_target_group(demand, "foreign", foreign_share=share)
    # A: 3000 and 1000 people at 25 %, B: 1000 at 10 %, C: 200 at 0 %
    assert d["weight"].tolist() == [750.0, 250.0, 0.0, 100.0, 0.0]
    assert d["population"].tolist() == demand["population"].tolist()
    assert d.index.equals(demand.index)
    with pytest.raises(ValidationError, match="Kreis 05113"):
        apply_target_group(demand, "foreign", foreign_share=share.drop("05113"))
    with pytest.raises(DataError, match="Ausländeranteil"):
        apply_target_group(demand, "foreign")


def test_column_and_total_target_groups(demand) -> None:
    with_col = demand.assign(kinder=[30, 10, 0, 5, 2])
    assert apply_target_group(with_col, "column", column="kinder")["weight"].tolist() == [30, 10, 0, 5, 2]
    assert apply_target_group(with_col.assign(weight=0.0), "total")["weight"].tolist() == demand["population"].tolist()
    with pytest.raises(SchemaError, match="»u3«"):
        apply_target_group(with_col, "column", column="u3")
    with pytest.raises(ValidationError, match="Zeile 2"):
        apply_target_group(with_col.assign(kinder=[1, -1, 0, 0, 0]), "column", column="kinder")
    with pytest.raises(DataError, match="Unbekannte Zielgruppe"):
        apply_target_group(demand, "kinder")  # type: ignore[arg-type]


def test_target_group_labels() -> None:
    assert TargetGroup.of("total").label == "Gesamtbevölkerung"
    assert TargetGroup.of("column", "u6") == TargetGroup("column", "Eigene Spalte »u6«", "u6")
    with pytest.raises(DataError, match="Spaltennamen"):
        TargetGroup.of("column")


# --- resolution -----------------------------------------------------------------------------------


def test_gemeinde_demand_on_weighted_places_never_the_centroid() -> None:
    u = box(X0, Y0, X0 + 3_000, Y0 + 3_000).difference(box(X0 + 1_000, Y0 + 1_000, X0 + 2_000, Y0 + 3_000))
    g = gpd.GeoDataFrame(
        {"ags": ["05111000", "05112000"], "population": [1_001, 2_000]},
        geometry=[u, box(X0 + 5_000, Y0, X0 + 6_000, Y0 + 1_000)],
        crs=CRS,
    )
    places = gpd.GeoDataFrame(
        {"population": [300, 100], "name": ["west", "east"]},
        geometry=[Point(X0 + 500, Y0 + 2_500), Point(X0 + 2_500, Y0 + 2_500)],
        index=["p1", "p2"],
        crs=CRS,
    )
    d = demand_from_gemeinden(g, places)
    # 1001 × 3/4 = 750.75 and 250.25 → 751 and 250; the Gemeinde without a place keeps one inner point
    assert d.loc[["p1", "p2"], "population"].tolist() == [751.0, 250.0]
    assert d.loc[1, "population"] == 2_000.0 and g.geometry.iloc[1].contains(d.geometry.loc[1])
    assert d.groupby("gemeinde_ags")["population"].sum().to_dict() == {"05111000": 1_001.0, "05112000": 2_000.0}
    assert d.geometry.distance(g.geometry.centroid.iloc[0]).min() > 500
    assert set(d["resolution"]) == {"gemeinde"}
    # the U is 9 − 2 = 7 km² over 2 places → √3.5 km per unit; the placeless Gemeinde 1 km
    assert d.loc["p1", "unit_size_m"] == pytest.approx(np.sqrt(3.5e6))
    assert d.loc[1, "unit_size_m"] == pytest.approx(1_000.0)


def test_every_builder_records_its_resolution(places, kreise) -> None:
    grid = gpd.GeoDataFrame(
        {"population": [5, 7], "resolution_m": [100, 100], "kreis_ags": ["05111", "05111"]},
        geometry=[Point(X0 + 50, Y0 + 50), Point(X0 + 150, Y0 + 50)],
        crs=CRS,
    )
    assert demand_from_grid(grid)["resolution"].tolist() == ["zensus_100m", "zensus_100m"]
    assert demand_from_grid(grid.assign(resolution_m=1000))["unit_size_m"].tolist() == [1000.0, 1000.0]
    d = demand_from_places(places, pd.Series({"05111": 10, "05112": 10, "05113": 10}), kreise)
    assert set(d["resolution"]) == {"orte"}
    # Kreis A: 100 km² over 3 places
    assert d.loc[10, "unit_size_m"] == pytest.approx(np.sqrt(1e8 / 3))


def _grid_demand(n: int, width: float) -> gpd.GeoDataFrame:
    kind = "zensus_100m" if width == 100 else "zensus_1km"
    return gpd.GeoDataFrame(
        {"population": [10.0] * n, "resolution": [kind] * n, "unit_size_m": [width] * n},
        geometry=[Point(X0 + width * i, Y0) for i in range(n)],
        crs=CRS,
    )


def test_check_resolution_counts_units_and_sizes() -> None:
    ok = check_resolution(_grid_demand(40, 100), None, 500)
    assert ok.ok and ok.units == 40 and ok.resolution == "zensus_100m"
    few = check_resolution(_grid_demand(40, 100), box(X0 - 50, Y0 - 50, X0 + 950, Y0 + 50), 500)
    assert not few.ok and few.units == 10
    assert few.message.startswith("Auflösung zu grob für diese Frage: nur 10 Nachfrageeinheiten")
    assert "größeres Gebiet" in few.fix
    big = check_resolution(_grid_demand(40, 1000), None, 1_000)
    assert not big.ok and "1,0 km breit" in big.message and "100 m importieren" in big.fix
    assert check_resolution(_grid_demand(40, 1000), None, 1_500).ok  # 707 m ≤ 750 m
    empty = check_resolution(_grid_demand(5, 100).assign(population=0.0), None, 500)
    assert not empty.ok and empty.units == 0
    with pytest.raises(SchemaError, match="unit_size_m"):
        check_resolution(_grid_demand(5, 100).drop(columns=["unit_size_m"]), None, 500)


def test_zensus_groups_without_the_theme_are_refused(demand) -> None:
    with pytest.raises(DataError, match="Alter_in_infrastrukturellen_Altersgruppen"):
        apply_target_group(demand, "u3")
    assert TargetGroup.of("grundschule").label == "Kinder 6–9 (Grundschule/OGS)"


def test_demand_result_cites_its_resolutions(places, kreise) -> None:
    from planning.demand import DemandResult

    d = demand_from_places(places, pd.Series({"05111": 4_000, "05112": 1_000, "05113": 200}), kreise)
    result = DemandResult(d, "orte", "Orte", "2019", TargetGroup.of("total"))
    assert result.resolutions == {"orte": 5_200.0}
