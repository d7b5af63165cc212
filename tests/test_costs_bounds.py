"""How far a trip can reach, and when 2SFCA is skipped (integrationsatlas.pipeline.costs)."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import scipy.sparse as sp

from geo.network import Network
from geo.settings import Settings
from integrationsatlas.pipeline import costs
from integrationsatlas.pipeline.costs import Measure, StreetTime, TransitTime
from integrationsatlas.request import AnalysisRequest


def _points(xy: np.ndarray) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs="EPSG:25832")


def _street(tmp_path: Path, mode: str, speeds: np.ndarray | None) -> StreetTime:
    """A street measure of ``mode`` on a two-node network whose edges have the tagged ``speeds``."""
    osm = tmp_path / "netz.osm.pbf"
    osm.write_bytes(b"")
    request = AnalysisRequest("kita", 15, unit="min", mode=mode, osm_file=str(osm))
    measure = StreetTime(Settings().with_home(tmp_path / "home"), request)
    m = sp.csr_array((np.array([10.0, 10.0]), (np.array([0, 1]), np.array([1, 0]))), shape=(2, 2))
    xy = np.array([[300_000.0, 5_650_000.0], [300_100.0, 5_650_000.0]])
    measure.__dict__["network"] = Network(m, np.arange(2), xy, mode, speeds_kmh=speeds)  # instead of an OSM file
    return measure


def test_a_car_trip_reaches_as_far_as_the_fastest_tagged_street(tmp_path: Path) -> None:
    car = _street(tmp_path, "drive", np.array([30.0, 100.0]))
    assert car.reach_bound_m(900.0) == pytest.approx(900.0 * 100.0 / 3.6)  # 15 min at 100 km/h: 25 km
    assert _street(tmp_path, "drive", None).reach_bound_m(900.0) is None  # no tagged speeds: no bound
    walk = _street(tmp_path, "walk", None)
    assert walk.reach_bound_m(900.0) == pytest.approx(900.0 * 4.5 / 3.6)


def test_2sfca_is_skipped_when_the_pairs_within_reach_are_too_many(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(costs, "MAX_2SFCA_PAIRS", 10)
    rng = np.random.default_rng(2)
    origins = rng.uniform([300_000, 5_650_000], [340_000, 5_690_000], (300, 2))
    dests = rng.uniform([300_000, 5_650_000], [340_000, 5_690_000], (4, 2))
    o, d = _points(origins), _points(dests)
    car = _street(tmp_path, "drive", np.array([30.0, 50.0]))
    bound = car.reach_bound_m(600.0)
    assert bound is not None
    within = int((np.hypot(*(origins[:, None, :] - dests[None, :, :]).transpose(2, 0, 1)) <= bound).sum())
    assert 10 < within < 300 * 4
    assert car.too_many_pairs(o, d, 600.0) == within  # the pairs a trip of 10 min could span, counted exactly
    straight = Measure(Settings(), AnalysisRequest("kita", 1.0))
    assert straight.too_many_pairs(o, d, 100.0) == 0  # 100 m: fewer than 10 pairs
    gtfs = tmp_path / "feed.zip"
    gtfs.write_bytes(b"")
    transit = TransitTime(
        Settings(), AnalysisRequest("kita", 15, unit="min", mode="oepnv", osm_file=str(gtfs), gtfs_file=str(gtfs))
    )
    assert transit.too_many_pairs(o, d, 600.0) == 300 * 4  # a ride has no bound: every pair counts
