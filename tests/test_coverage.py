"""Coverage by distance: hand-worked fixtures in EPSG:25832 and hypothesis properties."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from shapely.geometry import Point, Polygon

from geo.errors import CRSError, DataError
from planning.coverage import coverage_curve, covered_share, nearest_distance

X0, Y0 = 400_000.0, 5_700_000.0  # a point in NRW (EPSG:25832, metres)


def points(
    coords: list[tuple[float, float]],
    index: list[object] | None = None,
    crs: str = "EPSG:25832",
    **columns: list[object],
) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(columns, geometry=[Point(X0 + x, Y0 + y) for x, y in coords], index=index, crs=crs)


# --- nearest_distance ---------------------------------------------------------


def test_nearest_distance_hand_worked() -> None:
    # facilities at (0, 0) and (10 km, 0); demand at 3-4-5 triangles from them
    fac = points([(0, 0), (10_000, 0)])
    dem = points([(3_000, 4_000), (10_000, 0), (10_600, 800), (5_000, 0)], index=["a", "b", "c", "d"])
    dist = nearest_distance(dem, fac)
    assert dist.name == "distance_m"
    assert list(dist.index) == ["a", "b", "c", "d"]
    np.testing.assert_allclose(dist.to_numpy(), [5_000.0, 0.0, 1_000.0, 5_000.0])


def test_nearest_distance_without_facilities_is_inf() -> None:
    dem = points([(0, 0), (1, 1)])
    dist = nearest_distance(dem, points([]))
    assert np.isinf(dist).all()
    assert len(nearest_distance(points([]), points([(0, 0)]))) == 0


def test_nearest_distance_refuses_geographic_crs(raises_matching) -> None:
    geo = gpd.GeoDataFrame(geometry=[Point(6.9, 51.2)], crs="EPSG:4326")
    with raises_matching(CRSError, "EPSG:4326", "EPSG:25832"):
        nearest_distance(geo, points([(0, 0)]))
    with raises_matching(CRSError, "Einrichtungen"):
        nearest_distance(points([(0, 0)]), geo)
    with raises_matching(CRSError, "Kein Koordinatenbezugssystem"):
        nearest_distance(gpd.GeoDataFrame(geometry=[Point(X0, Y0)]), points([(0, 0)]))


def test_nearest_distance_refuses_polygons_and_missing_geometry(raises_matching) -> None:
    poly = gpd.GeoDataFrame(geometry=[Polygon([(X0, Y0), (X0 + 1, Y0), (X0, Y0 + 1)])], crs="EPSG:25832")
    with raises_matching(DataError, "keine Punkte", "representative_point"):
        nearest_distance(poly, points([(0, 0)]))
    empty = gpd.GeoDataFrame(geometry=[None, Point(X0, Y0)], index=[7, 8], crs="EPSG:25832")
    with raises_matching(DataError, "Index [7]"):
        nearest_distance(empty, points([(0, 0)]))


# --- covered_share ----------------------------------------------------------


def test_covered_share_per_group_with_no_demand_unit() -> None:
    cost = [500.0, 1_500.0, 2_500.0, 100.0, np.inf]
    weight = [10.0, 20.0, 30.0, 0.0, 5.0]
    pop = [100.0, 200.0, 300.0, 50.0, 50.0]
    groups = pd.Series(["05111", "05111", "05111", "05112", "05113"], name="kreis_ags")
    res = covered_share(
        cost, weight, [1_000, 2_000], groups, population=pop, units=["05111", "05112", "05113", "05114"]
    )
    assert res.index.names == ["kreis_ags", "threshold"]
    r = res.loc[("05111", 1_000.0)]
    assert (r["weight_total"], r["weight_covered"], r["weight_beyond"]) == (60.0, 10.0, 50.0)
    assert r["share_covered"] == pytest.approx(1 / 6)
    assert r["population_beyond"] == 500.0
    assert res.loc[("05111", 2_000.0), "share_covered"] == pytest.approx(0.5)
    # 05112 has a point but zero target-group weight; 05114 has no point at all
    for unit in ("05112", "05114"):
        row = res.loc[(unit, 1_000.0)]
        assert bool(row["no_demand"]) is True
        assert np.isnan(row["share_covered"])
    assert res.loc[("05112", 1_000.0), "population_beyond"] == 0.0  # the 50 people are within 100 m
    # unreachable (inf) demand is never covered
    assert res.loc[("05113", 2_000.0), "share_covered"] == 0.0
    assert not res.loc[("05113", 2_000.0), "no_demand"]


def test_covered_share_overall_and_errors(raises_matching) -> None:
    res = covered_share([0.0, 10.0, np.nan], [1.0, 1.0, 2.0], [0.0, 10.0])
    assert res["share_covered"].tolist() == [0.25, 0.5]  # NaN cost counts as not covered
    assert covered_share([], [], [5.0])["no_demand"].tolist() == [True]
    with raises_matching(DataError, "unterschiedlich lang"):
        covered_share([1.0, 2.0], [1.0], [1.0])
    with raises_matching(DataError, "negativ"):
        covered_share([1.0], [-1.0], [1.0])
    with raises_matching(DataError, "Schwellenwerte"):
        covered_share([1.0], [1.0], [-5.0])


def test_coverage_curve_hand_worked() -> None:
    curve = coverage_curve([2.0, 7.0, 12.0, np.inf], [1.0, 1.0, 1.0, 1.0], [0, 5, 10, 15])
    assert curve["share_covered"].tolist() == [0.0, 0.25, 0.5, 0.75]
    default = coverage_curve([2.0], [1.0], unit="min")
    assert default["threshold"].iloc[-1] == 60.0
    assert coverage_curve([1.0], [0.0], [1.0])["share_covered"].isna().all()


# --- properties ---------------------------------------------------------------

coords = st.tuples(st.floats(0, 50_000), st.floats(0, 50_000))


@settings(max_examples=60, deadline=None)
@given(
    dem=st.lists(coords, min_size=1, max_size=40),
    fac=st.lists(coords, min_size=1, max_size=10),
    extra=coords,
    weights=st.lists(st.floats(0, 1e6), min_size=40, max_size=40),
    thresholds=st.lists(st.floats(0, 80_000), min_size=1, max_size=5),
)
@pytest.mark.slow
def test_coverage_properties(dem, fac, extra, weights, thresholds) -> None:
    demand = points(dem)
    w = np.asarray(weights[: len(dem)])
    dist = nearest_distance(demand, points(fac))
    t = sorted(thresholds)
    share = covered_share(dist, w, t)["share_covered"].to_numpy()
    if w.sum() > 0:
        # within [0, 1] and monotone in the threshold
        assert ((share >= 0) & (share <= 1)).all()
        assert (np.diff(share) >= -1e-12).all()
    else:
        assert np.isnan(share).all()
    # adding a facility never raises a nearest distance nor lowers coverage
    dist2 = nearest_distance(demand, points([*fac, extra]))
    assert (dist2.to_numpy() <= dist.to_numpy() + 1e-9).all()
    share2 = covered_share(dist2, w, t)["share_covered"].to_numpy()
    if w.sum() > 0:
        assert (share2 >= share - 1e-12).all()


@settings(max_examples=40, deadline=None)
@given(
    cost=arrays(np.float64, 30, elements=st.floats(0, 1e4) | st.just(np.inf)),
    weight=arrays(np.float64, 30, elements=st.floats(0, 1e3)),
    groups=arrays(np.int64, 30, elements=st.integers(0, 4)),
)
def test_group_shares_within_bounds_and_consistent(cost, weight, groups) -> None:
    res = covered_share(cost, weight, [10.0, 100.0, 1_000.0], pd.Series(groups, name="g"), units=range(6))
    shares = res["share_covered"]
    assert ((shares.dropna() >= 0) & (shares.dropna() <= 1)).all()
    assert (res["no_demand"] == (res["weight_total"] <= 0)).all()
    assert bool(res.loc[(5, 10.0), "no_demand"])  # unit 5 never occurs
    # the group totals add up to the overall totals
    for t in (10.0, 100.0, 1_000.0):
        part = res.xs(t, level="threshold")
        overall = covered_share(cost, weight, [t]).iloc[0]
        assert part["weight_covered"].sum() == pytest.approx(overall["weight_covered"], rel=1e-9, abs=1e-6)
    # the curve agrees with covered_share
    curve = coverage_curve(cost, weight, [10.0, 100.0, 1_000.0])
    direct = covered_share(cost, weight, [10.0, 100.0, 1_000.0])
    np.testing.assert_allclose(curve["weight_covered"], direct["weight_covered"], rtol=1e-9, atol=1e-6)


@settings(max_examples=25, deadline=None)
@given(lon=st.floats(5.9, 9.5), lat=st.floats(50.3, 52.5))
def test_geographic_input_is_always_refused(lon: float, lat: float) -> None:
    geo = gpd.GeoDataFrame(geometry=[Point(lon, lat)], crs="EPSG:4326")
    with pytest.raises(CRSError, match="EPSG:25832"):
        nearest_distance(geo, geo)
