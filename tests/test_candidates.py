"""Candidate sites: sources, merging, filters (tiny synthetic data in EPSG:25832)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import box

from geo.errors import CRSError, DataError
from planning.candidates import (
    CANDIDATE_COLUMNS,
    build_candidates,
    cluster_centres,
    grid_points,
    merge_close,
    thin_points,
)

X0, Y0 = 300_000.0, 5_650_000.0
AREA = box(X0, Y0, X0 + 10_000, Y0 + 10_000)
CRS = "EPSG:25832"


def points(xy: list[tuple[float, float]], **cols: list[object]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        cols, geometry=gpd.points_from_xy([X0 + x for x, _ in xy], [Y0 + y for _, y in xy]), crs=CRS
    )


@pytest.fixture
def demand() -> gpd.GeoDataFrame:
    # two groups: around (1000, 1000) with weight 10 and around (8000, 8000) with weight 30
    return points(
        [(900, 1000), (1100, 1000), (7900, 8000), (8100, 8000)],
        weight=[5.0, 5.0, 10.0, 20.0],
        gemeinde_ags=["05334002", "05334002", "05334004", "05334004"],
        kreis_ags=["05334"] * 4,
    )


def test_cluster_centres_are_weighted_means(demand: gpd.GeoDataFrame) -> None:
    centres = cluster_centres(demand, 2)
    # heaviest cluster first; its centre is the weighted mean (7900*10 + 8100*20) / 30
    assert centres["weight"].tolist() == [30.0, 10.0]
    assert centres.geometry.x.iloc[0] == pytest.approx(X0 + (7900 * 10 + 8100 * 20) / 30)
    assert centres.geometry.x.iloc[1] == pytest.approx(X0 + 1000)
    assert centres.geometry.y.tolist() == pytest.approx([Y0 + 8000, Y0 + 1000])


def test_cluster_centres_are_seeded_and_capped(demand: gpd.GeoDataFrame) -> None:
    a = cluster_centres(demand, 10, random_state=3)
    b = cluster_centres(demand, 10, random_state=3)
    assert len(a) == 4  # capped at the number of distinct demand points
    assert a.geometry.equals(b.geometry)


def test_cluster_centres_use_minibatch_for_large_inputs(monkeypatch: pytest.MonkeyPatch) -> None:
    import planning.candidates as mod

    monkeypatch.setattr(mod, "MINIBATCH_THRESHOLD", 50)
    rng = np.random.default_rng(0)
    xy = rng.uniform(0, 10_000, size=(200, 2))
    demand = points([tuple(p) for p in xy], weight=list(rng.uniform(1, 5, 200)))
    centres = cluster_centres(demand, 5)
    assert len(centres) == 5
    assert centres["weight"].sum() == pytest.approx(demand["weight"].sum())


def test_grid_points_inside_polygon_only() -> None:
    # an L-shaped area: 2 km x 2 km minus the upper-right 1 km square
    area = shapely.difference(box(0, 0, 2000, 2000), box(1000, 1000, 2000, 2000))
    grid = grid_points(area, 500.0)
    assert len(grid) == 12  # 16 cell centres minus the 4 in the cut-out
    assert shapely.contains_xy(area, grid.x, grid.y).all()


def test_grid_points_refuses_bad_spacing(raises_matching) -> None:  # type: ignore[no-untyped-def]
    with raises_matching(DataError, "Rasterabstand", "positive Zahl"):
        grid_points(AREA, 0.0)
    with raises_matching(DataError, "zu viele Kandidaten"):
        grid_points(box(0, 0, 1e6, 1e6), 10.0)


def test_build_candidates_combines_sources_with_labels(demand: gpd.GeoDataFrame) -> None:
    schools = points([(5000, 5000)], id=["s1"], name=["GGS Am Park"], gemeinde_ags=["05334008"])
    ki = points([(2000, 5000)], id=["05334"], name=["KI Städteregion Aachen"])
    user = points([(6000, 2000)], name=["Bürgerhaus Nord"])
    cand = build_candidates(
        AREA,
        demand,
        places={"ogs": schools, "ki": ki},
        n_clusters=2,
        grid_spacing_m=5000.0,
        user_points=user,
    )
    assert list(cand.columns) == [*CANDIDATE_COLUMNS, "n_merged", "geometry"]
    assert cand.crs == CRS
    assert set(cand["source"]) == {"Schule", "KI", "Eigener Punkt", "Clusterzentrum", "Raster"}
    assert cand["candidate_id"].is_unique
    assert cand.loc[cand["source"] == "Schule", "candidate_id"].tolist() == ["ogs:s1"]
    assert cand.loc[cand["source"] == "Schule", "name"].tolist() == ["GGS Am Park"]
    # a place keeps its own AGS; others get the AGS of the nearest demand point
    assert cand.loc[cand["source"] == "Schule", "gemeinde_ags"].tolist() == ["05334008"]
    assert cand.loc[cand["source"] == "KI", "gemeinde_ags"].tolist() == ["05334002"]
    assert (cand["kreis_ags"] == "05334").all()
    assert not cand["fixed"].any()
    # 4 grid cells of 5 km, 2 clusters, 3 named points
    assert len(cand) == 4 + 2 + 3


def test_close_points_are_merged_keeping_the_most_informative(demand: gpd.GeoDataFrame) -> None:
    school = points([(1010, 1000)], id=["s1"], name=["GGS Süd"])  # 10 m from the cluster centre
    station = points([(1030, 1000)], id=["b1"], name=["Bf Süd"])  # chained: 20 m from the school
    cand = build_candidates(
        AREA, demand, places={"ogs": school, "bahnhof": station}, n_clusters=2, merge_tolerance_m=50.0
    )
    south = cand[cand.geometry.x < X0 + 5000]
    assert south["source"].tolist() == ["Schule"]  # place beats cluster, first place wins ties
    assert south["n_merged"].tolist() == [3]
    assert len(cand) == 2


def test_merge_close_single_linkage() -> None:
    gdf = points([(0, 0), (40, 0), (80, 0), (500, 0)], _priority=[3, 2, 4, 1])
    merged = merge_close(gdf, 50.0)
    assert merged.geometry.x.tolist() == [X0 + 40, X0 + 500]
    assert merged["n_merged"].tolist() == [3, 1]


def test_existing_sites_are_fixed_first_and_repel_new_ones(demand: gpd.GeoDataFrame) -> None:
    existing = points([(1000, 1000), (20_000, 0)], id=["t1", "t2"], name=["Treff Süd", "Treff außerhalb"])
    cand = build_candidates(
        AREA, demand, n_clusters=2, grid_spacing_m=2000.0, existing=existing, min_distance_to_existing_m=1500.0
    )
    assert cand["fixed"].tolist()[:2] == [True, True]  # kept even outside the area
    assert cand.loc[cand["fixed"], "source"].eq("Bestehender Treffpunkt").all()
    new = cand[~cand["fixed"]]
    dist = new.geometry.distance(existing.geometry.iloc[0])
    assert (dist >= 1500.0).all()
    assert len(new) > 0


def test_generated_candidates_are_named(demand: gpd.GeoDataFrame) -> None:
    cand = build_candidates(AREA, demand, n_clusters=2, grid_spacing_m=5000.0)
    assert cand.loc[cand["source"] == "Clusterzentrum", "name"].tolist() == ["Clusterzentrum 1", "Clusterzentrum 2"]
    named = demand.assign(name=["Süd", "Süd", "Nord", "Nord"])
    cand = build_candidates(AREA, named, n_clusters=2, grid_spacing_m=5000.0)
    assert cand.loc[cand["source"] == "Clusterzentrum", "name"].tolist() == ["bei Nord", "bei Süd"]
    assert "bei Süd" in cand.loc[cand["source"] == "Raster", "name"].tolist()
    assert not cand["name"].str.contains("Raster").any()


def test_sites_are_named_after_street_place_and_gemeinde(demand: gpd.GeoDataFrame) -> None:
    places = points([(0, 0), (9000, 9000)], name=["Brand", "Stolberg"])
    names = {"05334002": "Aachen", "05334004": "Eschweiler"}
    cand = build_candidates(AREA, demand, n_clusters=2, place_names=places, gemeinde_names=names)
    # heaviest cluster (near 8000, 8000) first
    assert cand["name"].tolist() == ["bei Stolberg, Eschweiler", "bei Brand, Aachen"]
    # a street within 150 m wins over the place
    xy = cand.geometry.iloc[0]
    streets = gpd.GeoDataFrame({"name": ["Trierer Straße"]}, geometry=gpd.points_from_xy([xy.x + 100], [xy.y]), crs=CRS)
    named = build_candidates(AREA, demand, n_clusters=2, place_names=places, street_names=streets, gemeinde_names=names)
    assert named["name"].tolist() == ["Trierer Straße, Eschweiler", "bei Brand, Aachen"]


def test_settled_filter_moves_centres_and_drops_far_grid_points(demand: gpd.GeoDataFrame) -> None:
    house = np.array([[X0 + 1000.0, Y0 + 1000.0]])
    cand = build_candidates(AREA, demand, n_clusters=2, grid_spacing_m=1000.0, settled=house, settled_max_m=150.0)
    # every grid point farther than 150 m from the house is gone; the centres sit on it (then merge)
    xy = np.column_stack([cand.geometry.x, cand.geometry.y])
    assert (np.hypot(*(xy - house).T) <= 150.0).all()
    assert len(cand) >= 1


def test_thin_points_keeps_one_per_cell() -> None:
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy([1, 2, 3, 700, 1400], [1, 2, 3, 1, 1]), crs="EPSG:25832")
    assert len(thin_points(pts, 500.0)) == 3


def test_outside_points_are_dropped(demand: gpd.GeoDataFrame) -> None:
    places = points([(5000, 5000), (15_000, 5000)], id=["in", "out"], name=["innen", "außen"])
    cand = build_candidates(AREA, demand, places={"gemeinschaftszentrum": places})
    assert cand["candidate_id"].tolist() == ["gemeinschaftszentrum:in"]


def test_reachability_filter_callable_and_array(demand: gpd.GeoDataFrame) -> None:
    places = points([(1000, 5000), (9000, 5000)], id=["w", "e"], name=["West", "Ost"])

    def west_only(pts: gpd.GeoSeries) -> np.ndarray:
        return (pts.x < X0 + 5000).to_numpy()

    cand = build_candidates(AREA, demand, places={"bahnhof": places}, reachable=west_only)
    assert cand["name"].tolist() == ["West"]
    cand = build_candidates(AREA, demand, places={"bahnhof": places}, reachable=np.array([False, True]))
    assert cand["name"].tolist() == ["Ost"]


def test_reachability_mask_of_wrong_length(demand: gpd.GeoDataFrame, raises_matching) -> None:  # type: ignore[no-untyped-def]
    places = points([(1000, 5000)], id=["w"], name=["West"])
    with raises_matching(DataError, "Erreichbarkeitsmaske", "1 Kandidaten"):
        build_candidates(AREA, demand, places={"bahnhof": places}, reachable=np.array([True, True]))


def test_site_cost_copied_from_cost_column(demand: gpd.GeoDataFrame) -> None:
    places = points([(1000, 5000), (9000, 5000)], id=["w", "e"], name=["West", "Ost"], miete=[1200, "?"])
    cand = build_candidates(AREA, demand, places={"gemeinschaftszentrum": places}, n_clusters=1, cost_column="miete")
    costs = dict(zip(cand["name"], cand["site_cost"], strict=True))
    assert costs["West"] == 1200.0
    assert np.isnan(costs["Ost"]) and np.isnan(costs["Clusterzentrum 1"])


def test_geographic_input_is_refused(demand: gpd.GeoDataFrame, raises_matching) -> None:  # type: ignore[no-untyped-def]
    with raises_matching(CRSError, "EPSG:25832"):
        build_candidates(AREA, demand.to_crs("EPSG:4326"), n_clusters=1)
    places = points([(1000, 5000)], id=["w"], name=["West"]).to_crs("EPSG:4326")
    with raises_matching(CRSError, "Ebene bahnhof"):
        build_candidates(AREA, demand, places={"bahnhof": places})


def test_empty_area_is_refused(demand: gpd.GeoDataFrame, raises_matching) -> None:  # type: ignore[no-untyped-def]
    with raises_matching(DataError, "Planungsgebiet ist leer"):
        build_candidates(shapely.Polygon(), demand, n_clusters=1)


def test_no_sources_gives_empty_frame(demand: gpd.GeoDataFrame) -> None:
    cand = build_candidates(AREA, demand)
    assert len(cand) == 0
    assert list(cand.columns) == [*CANDIDATE_COLUMNS, "n_merged", "geometry"]


@settings(max_examples=30, deadline=None)
@given(
    xy=st.lists(st.tuples(st.floats(-2000, 12_000), st.floats(-2000, 12_000)), min_size=1, max_size=40),
    tolerance=st.floats(0.0, 800.0),
    min_dist=st.floats(0.0, 2000.0),
)
@pytest.mark.slow
def test_properties_inside_and_separated(xy: list[tuple[float, float]], tolerance: float, min_dist: float) -> None:
    demand = points([(5000, 5000), (2000, 8000)], weight=[1.0, 2.0])
    places = points(xy, id=[str(i) for i in range(len(xy))], name=[f"P{i}" for i in range(len(xy))])
    existing = points([(5000, 5000)], id=["t"], name=["Treff"])
    cand = build_candidates(
        AREA,
        demand,
        places={"ki": places},
        existing=existing,
        n_clusters=2,
        merge_tolerance_m=tolerance,
        min_distance_to_existing_m=min_dist,
    )
    new = cand[~cand["fixed"]]
    assert shapely.intersects_xy(AREA, new.geometry.x, new.geometry.y).all()
    assert (new.geometry.distance(existing.geometry.iloc[0]) >= max(min_dist, tolerance) - 1e-6).all()
    coords = shapely.get_coordinates(cand.geometry.to_numpy())
    d = np.hypot(*(coords[:, None, :] - coords[None, :, :]).transpose(2, 0, 1))
    np.fill_diagonal(d, np.inf)
    assert (d >= tolerance - 1e-6).all() or tolerance == 0.0
    assert cand["candidate_id"].is_unique
