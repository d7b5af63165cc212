"""Door-to-door travel time: one definition for every mode, and public transport never slower than walking.

Hand-computed cases on a tiny line, a hypothesis property over random feeds on a random street grid, a
hand-made bus line that must help the cells near its far stops, and a new travel mode that shares a
network and runs at its own speed.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from geo.modes import MODES, TravelMode, register_mode, unregister_mode
from geo.network import Network
from geo.settings import Settings
from geo.sources.gtfs import Timetable
from planning.door_to_door import connect, nearest_time, sparse_minimum, time_matrix, transit_nearest
from planning.transit import TransitSettings, transit_time_to_nearest

DAY = date(2026, 3, 10)  # a Tuesday
WALK_MS = 1.25  # 4.5 km/h


def points(xy: np.ndarray) -> gpd.GeoSeries:
    return gpd.GeoSeries(gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs="EPSG:25832")


def grid_network(n: int, spacing: float, speed_ms: float = WALK_MS) -> Network:
    """An ``n × n`` street grid (EPSG:25832, origin 300 000 / 5 650 000) walked both ways, with lengths."""
    ids = np.arange(n * n).reshape(n, n)
    rows, cols = [], []
    for a, b in ((ids[:, :-1], ids[:, 1:]), (ids[:-1, :], ids[1:, :])):
        rows += [a.ravel(), b.ravel()]
        cols += [b.ravel(), a.ravel()]
    r, c = np.concatenate(rows), np.concatenate(cols)
    lengths = np.full(r.size, spacing)
    matrix = sp.csr_array((lengths / speed_ms, (r, c)), shape=(n * n, n * n))
    length_csr = sp.csr_array((lengths, (r, c)), shape=(n * n, n * n))
    gx, gy = np.meshgrid(np.arange(n) * spacing, np.arange(n) * spacing)
    xy = np.column_stack([300_000 + gx.ravel(), 5_650_000 + gy.ravel()])
    return Network(matrix, ids.ravel().astype(np.int64), xy, "walk", lengths=length_csr.data)


def line_network(n: int, spacing: float) -> Network:
    """A straight street of ``n`` nodes along x (EPSG:25832), walked both ways."""
    r = np.concatenate([np.arange(n - 1), np.arange(1, n)])
    c = np.concatenate([np.arange(1, n), np.arange(n - 1)])
    xy = np.column_stack([300_000 + np.arange(n) * spacing, np.full(n, 5_650_000.0)])
    lengths = np.full(r.size, spacing)
    m = sp.csr_array((lengths / WALK_MS, (r, c)), shape=(n, n))
    return Network(m, np.arange(n, dtype=np.int64), xy, "walk", lengths=sp.csr_array((lengths, (r, c)), (n, n)).data)


# --- one definition -----------------------------------------------------------------------------------------


def test_door_to_door_is_access_plus_network_plus_egress() -> None:
    net = line_network(5, 100.0)  # nodes at x = 0 … 400 m, 80 s per edge
    home = np.array([[300_000.0, 5_650_030.0]])  # 30 m beside node 0: 24 s
    kita = np.array([[300_400.0, 5_649_985.0]])  # 15 m beside node 4: 12 s
    expected = 24.0 + 4 * 80.0 + 12.0
    np.testing.assert_allclose(nearest_time(net, home, kita, max_snap_m=500, access_ms=WALK_MS), [expected])
    matrix = time_matrix(net, home, kita, 1e9, max_snap_m=500, access_ms=WALK_MS)
    np.testing.assert_allclose(matrix.toarray(), [[expected]])
    assert time_matrix(net, home, kita, expected - 1e-6, max_snap_m=500, access_ms=WALK_MS).nnz == 0
    far = np.array([[300_000.0, 5_651_000.0]])  # 1 km from the street: not connected, reaches nothing
    assert np.isinf(nearest_time(net, far, kita, max_snap_m=500, access_ms=WALK_MS)).all()
    assert not connect(net, far, max_snap_m=500, access_ms=WALK_MS).connected.any()


def test_sparse_minimum_treats_missing_entries_as_infinite() -> None:
    a = sp.csr_array(np.array([[0.0, 7.0], [3.0, 0.0]]))
    b = sp.csr_array((np.array([0.0, 2.0]), (np.array([0, 0]), np.array([0, 1]))), shape=(2, 2))
    out = sparse_minimum(a, b)
    assert out[0, 0] == 0.0 and out[0, 1] == 2.0 and out[1, 0] == 3.0 and out.nnz == 3  # the stored 0 is kept


# --- public transport never slower than walking ---------------------------------------------------------------


@st.composite
def random_feed(draw: st.DrawFn) -> tuple[Network, Timetable, np.ndarray, np.ndarray, TransitSettings]:
    n = draw(st.integers(3, 6))
    spacing = draw(st.sampled_from([150.0, 300.0, 600.0]))
    net = grid_network(n, spacing)
    coord = st.floats(-200.0, n * spacing + 200.0)
    n_stops = draw(st.integers(2, 6))
    stop_xy = np.array(draw(st.lists(st.tuples(coord, coord), min_size=n_stops, max_size=n_stops)))
    stop_xy += [300_000.0, 5_650_000.0]
    trips = []
    for j in range(draw(st.integers(1, 8))):
        stops = draw(st.lists(st.integers(0, n_stops - 1), min_size=2, max_size=5))
        t = draw(st.integers(0, 900))
        arr, dep = [], []
        for _ in stops:
            arr.append(t)
            t += draw(st.integers(0, 60))
            dep.append(t)
            t += draw(st.integers(0, 300))
        trips.append(("R", f"t{j}", np.array(stops), np.array(arr), np.array(dep)))
    tt = Timetable.from_trips(
        feed="zufällig",
        day=DAY,
        window=(0, 3600),
        stop_ids=np.array([str(i) for i in range(n_stops)], object),
        stop_names=np.array([""] * n_stops, object),
        stop_xy=stop_xy,
        trips=trips,
    )
    origins = np.array(draw(st.lists(st.tuples(coord, coord), min_size=1, max_size=6))) + [300_000.0, 5_650_000.0]
    facilities = np.array(draw(st.lists(st.tuples(coord, coord), min_size=1, max_size=3))) + [300_000.0, 5_650_000.0]
    settings = TransitSettings(
        day=DAY,
        start_s=0,
        end_s=60 * draw(st.integers(1, 10)),
        walk_speed_ms=WALK_MS,
        max_snap_m=500.0,
        max_walk_s=draw(st.sampled_from([300.0, 900.0])),
        max_transfers=draw(st.integers(0, 2)),
    )
    return net, tt, origins, facilities, settings


@pytest.mark.slow
@hsettings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_feed())
def test_public_transport_is_never_slower_than_walking(case: tuple) -> None:
    net, tt, origins, facilities, s = case
    walk = nearest_time(net, origins, facilities, max_snap_m=s.max_snap_m, access_ms=s.walk_speed_ms)
    # the timetable search falls back to the very same door-to-door walk: its own answer is never slower
    raw = transit_time_to_nearest(tt, points(origins), points(facilities), s, network=net).by_minute
    assert np.all(raw <= walk[:, None] + 1e-6)
    by_minute = transit_nearest(tt, net, origins, facilities, s, walk)
    np.testing.assert_allclose(by_minute, np.minimum(raw, walk[:, None]), rtol=0, atol=1e-6)
    assert by_minute.shape == (len(origins), s.minutes.size)
    assert np.all(by_minute <= walk[:, None])  # per cell and departure minute
    median = np.median(by_minute, axis=1)
    assert np.all(median <= walk)
    # and so coverage by public transport is never below coverage on foot, at any threshold
    for threshold in (300.0, 600.0, 1200.0):
        assert (median <= threshold).sum() >= (walk <= threshold).sum()


def test_a_bus_line_helps_the_cells_near_its_far_stops() -> None:
    net = line_network(41, 100.0)  # a 4 km street, 80 s per 100 m
    kita = np.array([[300_000.0, 5_650_010.0]])  # at the western end
    cells = np.column_stack([300_000 + np.arange(0, 4001, 200.0), np.full(21, 5_650_050.0)])
    # one bus every 5 minutes from the far end (x = 4 km) to the Kita's end in 3 minutes
    trips = [
        ("Bus 1", f"b{k}", np.array([0, 1]), np.array([t, t + 180]), np.array([t, t + 180]))
        for k, t in enumerate(range(0, 3600, 300))
    ]
    tt = Timetable.from_trips(
        feed="Linie 1 (handgemacht)",
        day=DAY,
        window=(0, 3600),
        stop_ids=np.array(["fern", "kita"], object),
        stop_names=np.array(["Ostende", "Kita"], object),
        stop_xy=np.array([[304_000.0, 5_650_000.0], [300_000.0, 5_650_000.0]]),
        trips=trips,
    )
    s = TransitSettings(day=DAY, start_s=0, end_s=1800, walk_speed_ms=WALK_MS, max_snap_m=500.0)
    walk = nearest_time(net, cells, kita, max_snap_m=500, access_ms=WALK_MS)
    oepnv = np.median(transit_nearest(tt, net, cells, kita, s, walk), axis=1)
    near_far_stop = cells[:, 0] >= 303_000
    assert np.all(oepnv[near_far_stop] < walk[near_far_stop] - 600)  # the bus saves more than 10 minutes there
    near_kita = cells[:, 0] <= 300_600
    np.testing.assert_array_equal(oepnv[near_kita], walk[near_kita])  # walking is faster than any bus there
    assert np.all(oepnv <= walk)


# --- a mode that shares a network runs at its own speed ----------------------------------------------------------

TWO_STREETS = """<?xml version='1.0' encoding='UTF-8'?>
<osm version="0.6">
  <node id="1" lat="50.7700" lon="6.0800"/>
  <node id="2" lat="50.7700" lon="6.0850"/>
  <node id="3" lat="50.7700" lon="6.0900"/>
  <node id="4" lat="50.7740" lon="6.0850"/>
  <way id="10"><nd ref="1"/><nd ref="2"/><nd ref="3"/><tag k="highway" v="residential"/></way>
  <way id="11"><nd ref="2"/><nd ref="4"/><tag k="highway" v="cycleway"/></way>
</osm>
"""


def test_a_mode_sharing_a_network_runs_at_its_own_speed(tmp_path: Path, settings: Settings) -> None:
    from geo.sources.streets import load_network

    osm = tmp_path / "zwei.osm"
    osm.write_text(TWO_STREETS, encoding="utf-8")
    scooter = TravelMode("scooter", "E-Roller", "e-scooter", "mit dem E-Roller", "street", "bike", 20.0)
    register_mode(scooter)
    try:
        bike = load_network("bike", settings, osm_file=osm)
        fast = load_network("scooter", settings, osm_file=osm)
    finally:
        unregister_mode("scooter")
    assert bike.lengths is not None and fast.lengths is not None
    np.testing.assert_allclose(bike.matrix.data, bike.lengths / (MODES["bike"].speed_kmh / 3.6))  # type: ignore[operator]
    np.testing.assert_allclose(fast.matrix.data, fast.lengths / (20.0 / 3.6))
    assert (bike.matrix.indices == fast.matrix.indices).all()  # the same network …
    files = list((settings.cache_dir / "networks").iterdir())
    assert len(files) == 1 and "-bike-" in files[0].name  # … cached once, by network, not by mode
