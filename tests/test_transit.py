"""Public-transport travel times: GTFS reading, RAPTOR and the profile search against hand-computed answers,
a brute-force time-expanded Dijkstra oracle, and the real São Paulo feed/extract pair."""

from __future__ import annotations

import heapq
import re
import zipfile
from datetime import date
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from pyproj import Geod, Transformer

from geo.errors import DataError, ValidationError
from geo.sources.gtfs import Timetable, read_gtfs
from planning.transit import (
    TransitSettings,
    WalkLinks,
    nearest_by_raptor,
    transit_time_matrix,
    transit_time_to_nearest,
    walk_links,
)

DAY = date(2026, 3, 10)  # a Tuesday
H7 = 7 * 3600

# Four stops about 5 km apart (no walk between them within 15 min): A–B–C on line R1, B–D on line R2.
STOPS = """stop_id,stop_name,stop_lat,stop_lon
A,Altstadt,51.00,7.00
B,Bahnhof,51.00,7.07
C,Campus,51.00,7.14
D,Dorf,51.05,7.07
"""
ROUTES = "route_id,route_short_name,route_type\nR1,1,3\nR2,2,3\n"
TRIPS = "route_id,service_id,trip_id\nR1,WK,r1a\nR1,WK,r1b\nR2,WK,r2a\n"
STOP_TIMES = """trip_id,arrival_time,departure_time,stop_id,stop_sequence
r1a,07:02:00,07:02:00,A,1
r1a,07:05:00,07:05:00,B,2
r1a,07:10:00,07:10:00,C,3
r1b,07:12:00,07:12:00,A,1
r1b,07:15:00,07:15:00,B,2
r1b,07:20:00,07:20:00,C,3
r2a,07:07:00,07:07:00,B,1
r2a,07:15:00,07:15:00,D,2
"""
CALENDAR = """service_id,monday,tuesday,wednesday,thursday,friday,saturday,sunday,start_date,end_date
WK,1,1,1,1,1,0,0,20260101,20261231
"""


def write_feed(path: Path, **files: str | None) -> Path:
    """A GTFS zip of the hand-made feed; keyword ``stop_times="..."`` replaces a file, ``None`` drops it."""
    content = {
        "stops.txt": STOPS,
        "routes.txt": ROUTES,
        "trips.txt": TRIPS,
        "stop_times.txt": STOP_TIMES,
        "calendar.txt": CALENDAR,
    }
    for key, text in files.items():
        content[f"{key}.txt"] = text  # type: ignore[assignment]
    with zipfile.ZipFile(path, "w") as zf:
        for name, text in content.items():
            if text is not None:
                zf.writestr(name, text)
    return path


def points(xy: np.ndarray) -> gpd.GeoSeries:
    return gpd.GeoSeries(gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs="EPSG:25832")


@pytest.fixture
def feed(tmp_path: Path) -> Path:
    return write_feed(tmp_path / "feed.zip")


def at_stops(tt: Timetable, *ids: str) -> gpd.GeoSeries:
    pos = [int(np.flatnonzero(tt.stop_ids == s)[0]) for s in ids]
    return points(tt.stop_xy[pos])


# ---------------------------------------------------------------- hand-computed answers


def test_hand_made_feed_direct_ride(feed: Path) -> None:
    tt = read_gtfs(feed, day=DAY, window=(H7, H7 + 3600))
    assert tt.n_stops == 4 and tt.n_trips == 3 and tt.n_patterns == 2
    s = TransitSettings(day=DAY, start_s=H7, end_s=H7 + 300, board_slack_s=60)
    res = transit_time_to_nearest(tt, at_stops(tt, "A"), at_stops(tt, "C"), s)
    # ready at A at 07:00…07:04, boarding needs 60 s: 07:02 trip for 07:00/07:01 (arr 07:10), else 07:12 (arr 07:20)
    np.testing.assert_allclose(res.by_minute[0], [600, 540, 1080, 1020, 960])
    assert res.time_s.iloc[0] == 960.0
    assert res.walk_only_s.iloc[0] > 5000  # ~9.8 km × 1.3 at 1.25 m/s
    assert res.day == DAY and res.window == (H7, H7 + 300)
    assert "Di 10.03.2026, Abfahrt 07:00–07:05" in res.citation


def test_hand_made_feed_transfer_and_transfer_limit(feed: Path) -> None:
    tt = read_gtfs(feed, day=DAY, window=(H7, H7 + 3600))
    origin, target = at_stops(tt, "A"), at_stops(tt, "D")
    s = TransitSettings(day=DAY, start_s=H7, end_s=H7 + 120, board_slack_s=60)
    # 07:00: r1a 07:02 → B 07:05, change (60 s) to r2a 07:07 → D 07:15 = 900 s; 07:01: 840 s
    res = transit_time_to_nearest(tt, origin, target, s)
    np.testing.assert_allclose(res.by_minute[0], [900, 840])
    no_change = TransitSettings(day=DAY, start_s=H7, end_s=H7 + 120, board_slack_s=60, max_transfers=0)
    walk = transit_time_to_nearest(tt, origin, target, no_change)
    np.testing.assert_allclose(walk.by_minute[0], walk.walk_only_s.iloc[0])  # only walking is left


def test_nearest_of_two_facilities_and_matrix(feed: Path) -> None:
    tt = read_gtfs(feed, day=DAY, window=(H7, H7 + 3600))
    s = TransitSettings(day=DAY, start_s=H7, end_s=H7 + 120, board_slack_s=60)
    facilities = at_stops(tt, "C", "D")
    res = transit_time_to_nearest(tt, at_stops(tt, "A"), facilities, s)
    np.testing.assert_allclose(res.by_minute[0], [600, 540])  # C is reached first
    m = transit_time_matrix(tt, at_stops(tt, "A", "B"), facilities, s, cutoff_s=880)
    dense = m.matrix.toarray()
    # A→C: median(600, 540) = 570; A→D: median(900, 840) = 870 (change at B);
    # B→C: r1a 07:05 → 07:10 (600, 540) = 570; B→D: r2a 07:07 → 07:15 (900, 840) = 870
    np.testing.assert_allclose(dense, [[570, 870], [570, 870]])
    tight = transit_time_matrix(tt, at_stops(tt, "A"), facilities, s, cutoff_s=600)
    assert tight.matrix.nnz == 1 and tight.matrix[0, 0] == 570


def test_origin_at_facility_is_zero_and_index_kept(feed: Path) -> None:
    tt = read_gtfs(feed, day=DAY, window=(H7, H7 + 3600))
    s = TransitSettings(day=DAY, start_s=H7, end_s=H7 + 120)
    origins = at_stops(tt, "C", "A")
    origins.index = [17, 4]
    res = transit_time_to_nearest(tt, origins, at_stops(tt, "C"), s)
    assert list(res.time_s.index) == [17, 4]
    assert res.time_s.loc[17] == 0.0


def test_settings_must_match_timetable(feed: Path) -> None:
    tt = read_gtfs(feed, day=DAY, window=(H7, H7 + 3600))
    with pytest.raises(DataError, match=re.escape("gilt für den 10.03.2026")):
        transit_time_to_nearest(tt, at_stops(tt, "A"), at_stops(tt, "C"), TransitSettings(day=date(2026, 3, 11)))
    with pytest.raises(DataError, match="nicht im eingelesenen Fenster"):
        transit_time_to_nearest(
            tt, at_stops(tt, "A"), at_stops(tt, "C"), TransitSettings(day=DAY, start_s=H7, end_s=H7 + 7200)
        )
    with pytest.raises(DataError, match="board_slack_s"):
        TransitSettings(day=DAY, board_slack_s=0)


# ---------------------------------------------------------------- GTFS reading and validation


def test_frequencies_are_expanded(tmp_path: Path) -> None:
    freq = "trip_id,start_time,end_time,headway_secs,exact_times\nr2a,06:30:00,08:00:00,600,1\n"
    path = write_feed(tmp_path / "f.zip", frequencies=freq)
    tt = read_gtfs(path, day=DAY, window=(H7, H7 + 1800), horizon_s=600)
    r2 = [i for i, t in enumerate(tt.trip_ids) if str(t).startswith("r2a@")]
    # departures 06:30 … 07:50 every 10 min; kept: running at some time in [07:00, 07:40] → 06:55? no: 06:50 arrives
    # 06:58 (< 07:00, dropped), 07:00 … 07:40 kept (5 trips)
    assert sorted(str(tt.trip_ids[i]) for i in r2) == [f"r2a@07:{m:02d}:00" for m in (0, 10, 20, 30, 40)]
    p = next(p for p in range(tt.n_patterns) if tt.route_ids[p] == "R2")
    n = tt.pattern_trips_ptr[p + 1] - tt.pattern_trips_ptr[p]
    times = tt.departure[tt.time_ptr[p] : tt.time_ptr[p + 1]].reshape(n, 2)
    np.testing.assert_array_equal(times[:, 0], H7 + 600 * np.arange(5))
    arr = tt.arrival[tt.time_ptr[p] : tt.time_ptr[p + 1]].reshape(n, 2)
    np.testing.assert_array_equal(arr[:, 1] - times[:, 0], 480)  # template offset 07:07 → 07:15


def test_times_after_midnight_are_valid(tmp_path: Path) -> None:
    late = STOP_TIMES + "r2b,24:30:00,24:30:00,B,1\nr2b,25:10:00,25:10:00,D,2\n"
    path = write_feed(tmp_path / "late.zip", stop_times=late, trips=TRIPS + "R2,WK,r2b\n")
    tt = read_gtfs(path, day=DAY, window=(24 * 3600, 25 * 3600))
    assert tt.n_trips == 1 and tt.departure.min() == 24 * 3600 + 1800


def test_missing_intermediate_times_are_interpolated(tmp_path: Path) -> None:
    gaps = STOP_TIMES.replace("r1a,07:05:00,07:05:00,B", "r1a,,,B")
    tt = read_gtfs(write_feed(tmp_path / "gaps.zip", stop_times=gaps), day=DAY, window=(H7, H7 + 3600))
    p = next(p for p in range(tt.n_patterns) if tt.route_ids[p] == "R1")
    arr = tt.arrival[tt.time_ptr[p] : tt.time_ptr[p + 1]].reshape(2, 3)
    np.testing.assert_array_equal(arr[0], [H7 + 120, H7 + 360, H7 + 600])  # B midway between 07:02 and 07:10


def test_validation_collects_all_problems(tmp_path: Path) -> None:
    broken = STOP_TIMES.replace("07:05:00,07:05:00,B", "7:5,07:05:00,B").replace(
        "r2a,07:15:00,07:15:00,D", "r2a,07:15:00,07:15:00,Z"
    )
    path = write_feed(tmp_path / "broken.zip", stop_times=broken)
    with pytest.raises(ValidationError) as info:
        read_gtfs(path, day=DAY, window=(H7, H7 + 3600))
    text = str(info.value)
    assert "Datei stop_times.txt, Zeile 3, Spalte »arrival_time«: »7:5« ist keine gültige Uhrzeit" in text
    assert "Datei stop_times.txt, Zeile 9, Spalte »stop_id«: »Z« ist in stops.txt nicht definiert" in text
    assert len(info.value.problems) == 2


def test_missing_file_and_column(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match=re.escape("Pflichtdatei stop_times.txt fehlt")):
        read_gtfs(write_feed(tmp_path / "a.zip", stop_times=None), day=DAY, window=(H7, H7 + 60))
    with pytest.raises(ValidationError, match=re.escape("calendar.txt noch calendar_dates.txt")):
        read_gtfs(write_feed(tmp_path / "b.zip", calendar=None), day=DAY, window=(H7, H7 + 60))
    no_lat = STOPS.replace("stop_lat", "lat")
    with pytest.raises(ValidationError, match=re.escape("Datei stops.txt, Zeile 1, Spalte »stop_lat«: Pflichtspalte")):
        read_gtfs(write_feed(tmp_path / "c.zip", stops=no_lat), day=DAY, window=(H7, H7 + 60))


def test_times_running_backwards(tmp_path: Path) -> None:
    back = STOP_TIMES.replace("r1a,07:10:00,07:10:00,C", "r1a,07:01:00,07:01:00,C")
    with pytest.raises(ValidationError, match="Zeile 4, Spalte »arrival_time«: Die Zeiten der Fahrt »r1a«"):
        read_gtfs(write_feed(tmp_path / "b.zip", stop_times=back), day=DAY, window=(H7, H7 + 3600))


def test_no_service_on_day(tmp_path: Path, feed: Path) -> None:
    with pytest.raises(DataError, match=r"am 14.03.2026 verkehrt .* keine Fahrt \(Feed gültig 20260101–20261231\)"):
        read_gtfs(feed, day=date(2026, 3, 14), window=(H7, H7 + 3600))
    removed = "service_id,date,exception_type\nWK,20260310,2\n"
    with pytest.raises(DataError, match="keine Fahrt"):
        read_gtfs(write_feed(tmp_path / "x.zip", calendar_dates=removed), day=DAY, window=(H7, H7 + 3600))


def test_area_cuts_stops(feed: Path) -> None:
    full = read_gtfs(feed, day=DAY, window=(H7, H7 + 3600))
    a, b = full.stop_xy[full.stop_ids == "A"][0], full.stop_xy[full.stop_ids == "B"][0]
    import shapely

    area = shapely.box(min(a[0], b[0]) - 100, min(a[1], b[1]) - 100, max(a[0], b[0]) + 100, max(a[1], b[1]) + 100)
    cut = read_gtfs(feed, day=DAY, window=(H7, H7 + 3600), area=area)
    assert sorted(cut.stop_ids) == ["A", "B"] and cut.n_trips == 2


# ---------------------------------------------------------------- brute-force oracle


def oracle(
    trips: list[tuple[np.ndarray, np.ndarray, np.ndarray]], links: WalkLinks, s: TransitSettings, origin: int, t: float
) -> float:
    """Earliest arrival at a facility minus ``t``: Dijkstra on the time-expanded event graph.

    States are »ready to board at stop s with r rides used« (earliest time dominates: one can wait) and
    »on trip j at stop position i with r rides« (fixed event times). No FIFO or pattern assumption.
    """
    K = s.max_transfers + 1
    egress = links.egress_nearest
    best = float(links.walk_only[origin]) + t
    acc, tr = links.access, links.transfers
    heap: list[tuple[float, int, int, int, int]] = []  # (time, kind 0=ready 1=on board, r, a, b)
    for q in range(acc.indptr[origin], acc.indptr[origin + 1]):
        heapq.heappush(heap, (t + float(acc.data[q]), 0, 0, int(acc.indices[q]), 0))
    done: set[tuple[int, int, int, int]] = set()
    while heap:
        time, kind, r, a, b = heapq.heappop(heap)
        if time >= best or (kind, r, a, b) in done:
            continue
        done.add((kind, r, a, b))
        if kind == 0:  # ready at stop a
            if r == K:
                continue
            for j, (stops, _, dep) in enumerate(trips):
                for k in np.flatnonzero(stops[:-1] == a):
                    if dep[k] >= time + s.board_slack_s:
                        heapq.heappush(heap, (float(dep[k]), 1, r + 1, j, int(k) * 2 + 1))
        else:  # on trip a; b = 2*i + 1 just boarded at position i, b = 2*i arrived at position i
            stops, arr, _ = trips[a]
            i, boarded = divmod(b, 2)
            if not boarded:
                stop = int(stops[i])
                best = min(best, time + float(egress[stop]))
                for q in range(tr.indptr[stop], tr.indptr[stop + 1]):
                    heapq.heappush(heap, (time + float(tr.data[q]), 0, r, int(tr.indices[q]), 0))
            if i + 1 < len(stops):
                heapq.heappush(heap, (float(arr[i + 1]), 1, r, a, 2 * (i + 1)))
    return best - t


@st.composite
def random_case(draw: st.DrawFn) -> tuple:
    n_stops = draw(st.integers(2, 6))
    trips = []
    for _ in range(draw(st.integers(1, 10))):
        stops = draw(st.lists(st.integers(0, n_stops - 1), min_size=2, max_size=5))
        t = draw(st.integers(0, 1500))
        arr, dep = [], []
        for _k in stops:
            arr.append(t)
            t += draw(st.integers(0, 90))
            dep.append(t)
            t += draw(st.integers(0, 400))
        trips.append((np.array(stops), np.array(arr), np.array(dep)))
    coords = st.tuples(st.floats(0, 2500), st.floats(0, 2500))
    stop_xy = np.array(draw(st.lists(coords, min_size=n_stops, max_size=n_stops)))
    origin_xy = np.array(draw(st.lists(coords, min_size=1, max_size=4)))
    fac_xy = np.array(draw(st.lists(coords, min_size=1, max_size=3)))
    settings = TransitSettings(
        day=DAY,
        start_s=0,
        end_s=60 * draw(st.integers(1, 12)),
        max_walk_s=draw(st.sampled_from([300.0, 900.0])),
        max_transfer_walk_s=draw(st.sampled_from([0.0, 300.0, 900.0])),
        max_transfers=draw(st.integers(0, 3)),
        board_slack_s=draw(st.sampled_from([1, 30, 60])),
    )
    return trips, stop_xy, origin_xy, fac_xy, settings


@hsettings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_case())
def test_profile_search_and_raptor_equal_brute_force(case: tuple) -> None:
    trips, stop_xy, origin_xy, fac_xy, s = case
    n = len(stop_xy)
    tt = Timetable.from_trips(
        feed="random",
        day=DAY,
        window=(0, 3600),
        stop_ids=np.array([str(i) for i in range(n)], object),
        stop_names=np.array([""] * n, object),
        stop_xy=stop_xy,
        trips=[("R", f"t{j}", *trip) for j, trip in enumerate(trips)],
    )
    links = walk_links(tt, origin_xy, fac_xy, s)
    res = transit_time_to_nearest(tt, points(origin_xy), points(fac_xy), s)
    expected = np.array([[oracle(trips, links, s, o, t) for t in s.minutes] for o in range(len(origin_xy))])
    np.testing.assert_allclose(res.by_minute, expected, rtol=0, atol=1e-6)
    np.testing.assert_allclose(nearest_by_raptor(tt, links, s), expected, rtol=0, atol=1e-6)
    assert np.all(res.time_s.to_numpy() <= res.walk_only_s.to_numpy())
    m = transit_time_matrix(tt, points(origin_xy), points(fac_xy), s, cutoff_s=np.inf)
    if len(fac_xy) == 1:
        np.testing.assert_allclose(m.matrix.toarray()[:, 0], res.time_s.to_numpy())
    else:  # the median to the nearest is never above the median to any one facility
        assert np.all(res.time_s.to_numpy()[:, None] <= m.matrix.toarray() + 1e-9)


def test_walk_fallback_is_straight_line_times_detour() -> None:
    tt = Timetable.from_trips(
        feed="x",
        day=DAY,
        window=(0, 600),
        stop_ids=np.array(["a", "b"], object),
        stop_names=np.array(["", ""], object),
        stop_xy=np.array([[0.0, 0.0], [500.0, 0.0]]),
        trips=[("R", "t", np.array([0, 1]), np.array([0, 60]), np.array([0, 60]))],
    )
    s = TransitSettings(day=DAY, start_s=0, end_s=60, walk_speed_ms=1.3, max_walk_s=600)
    links = walk_links(tt, np.array([[0.0, 300.0]]), np.array([[500.0, 0.0]]), s)
    # 300 m × 1.3 / 1.3 m/s = 300 s to a; b is 583 m away → 583 s; walk only = 583.1 s
    np.testing.assert_allclose(links.access.toarray(), [[300.0, np.hypot(500, 300)]])
    np.testing.assert_allclose(links.walk_only, [np.hypot(500, 300)])
    np.testing.assert_allclose(links.transfers.toarray(), [[0, 500], [500, 0]])


def test_walk_links_on_a_network_add_snap_walks() -> None:
    import scipy.sparse as sp

    from geo.network import Network

    # nodes 0 —100 s— 1 —100 s— 2 on a line (x = 0, 100, 200 m), both directions
    rows, cols = np.array([0, 1, 1, 2]), np.array([1, 0, 2, 1])
    net = Network(
        sp.csr_array((np.full(4, 100.0), (rows, cols)), shape=(3, 3)),
        np.arange(3),
        np.array([[0.0, 0], [100, 0], [200, 0]]),
        "walk",
    )
    tt = Timetable.from_trips(
        feed="x",
        day=DAY,
        window=(0, 600),
        stop_ids=np.array(["a", "b"], object),
        stop_names=np.array(["", ""], object),
        stop_xy=np.array([[0.0, 10.0], [200.0, 0.0]]),
        trips=[("R", "t", np.array([0, 1]), np.array([0, 60]), np.array([0, 60]))],
    )
    s = TransitSettings(day=DAY, start_s=0, end_s=60, walk_speed_ms=1.0, max_walk_s=240, max_transfer_walk_s=300)
    links = walk_links(tt, np.array([[100.0, 5.0]]), np.array([[200.0, 20.0]]), s, network=net)
    # snap walks: origin 5 s, stop a 10 s, stop b 0 s, facility 20 s
    np.testing.assert_allclose(links.access.toarray(), [[115.0, 105.0]])
    np.testing.assert_allclose(links.transfers.toarray(), [[0.0, 210.0], [210.0, 0.0]])
    np.testing.assert_allclose(links.egress.toarray(), [[230.0], [20.0]])
    np.testing.assert_allclose(links.walk_only, [125.0])
    tight = walk_links(
        tt,
        np.array([[100.0, 5.0]]),
        np.array([[200.0, 20.0]]),
        TransitSettings(day=DAY, start_s=0, end_s=60, walk_speed_ms=1.0, max_walk_s=110),
        network=net,
    )
    np.testing.assert_allclose(tight.access.toarray(), [[0.0, 105.0]])  # 115 s > 110 s: left out
    assert tight.access.nnz == 1 and tight.egress.nnz == 1


def test_empty_origins_and_facilities(feed: Path) -> None:
    tt = read_gtfs(feed, day=DAY, window=(H7, H7 + 3600))
    s = TransitSettings(day=DAY, start_s=H7, end_s=H7 + 120)
    none = at_stops(tt, "A").iloc[:0]
    assert transit_time_to_nearest(tt, none, at_stops(tt, "C"), s).time_s.empty
    res = transit_time_to_nearest(tt, at_stops(tt, "A"), none, s)
    assert np.isinf(res.time_s.iloc[0])


# ---------------------------------------------------------------- real feed: São Paulo (r5py sample data)


@pytest.fixture(scope="module")
def sao_paulo(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple:
    osmium = pytest.importorskip("osmium")
    from geo.settings import Settings
    from geo.sources.streets import load_network

    folder = shared_data / "gtfs" / "sao_paulo"
    tmp = tmp_path_factory.mktemp("spo")
    xml = tmp / "spo.osm"
    with osmium.SimpleWriter(str(xml)) as writer:  # PBF → OSM XML until load_network reads PBF itself
        for obj in osmium.FileProcessor(str(folder / "spo_osm.pbf")):
            writer.add(obj)
    net = load_network("walk", Settings().with_home(tmp / "home"), osm_file=xml)
    import shapely

    area = shapely.MultiPoint(net.xy).convex_hull
    day = date(2019, 5, 14)  # a Tuesday within the feed's calendar (2008–2020-05-01)
    tt = read_gtfs(folder / "spo_gtfs.zip", day=day, window=(H7, H7 + 2 * 3600), area=area)
    return tt, net


@pytest.mark.slow
@pytest.mark.shared
def test_sao_paulo_plausible(sao_paulo: tuple) -> None:
    tt, net = sao_paulo
    assert tt.n_stops > 100 and tt.n_trips > 500
    rng = np.random.default_rng(7)
    lo, hi = tt.stop_xy.min(axis=0), tt.stop_xy.max(axis=0)
    origins = points(lo + (hi - lo) * rng.random((300, 2)))
    facilities = points(tt.stop_xy[rng.choice(tt.n_stops, 3, replace=False)] + 40.0)
    s = TransitSettings(day=tt.day, start_s=H7, end_s=H7 + 2 * 3600)
    res = transit_time_to_nearest(tt, origins, facilities, s, network=net)
    time, walk = res.time_s.to_numpy(), res.walk_only_s.to_numpy()
    reach = np.isfinite(walk)
    assert reach.mean() > 0.5
    assert np.all(time[reach] <= walk[reach])
    # lower bound: geodesic straight line to the nearest facility at 100 km/h (faster than any train here)
    to_ll = Transformer.from_crs("EPSG:25832", "EPSG:4326", always_xy=True)
    olon, olat = to_ll.transform(origins.x.to_numpy(), origins.y.to_numpy())
    flon, flat = to_ll.transform(facilities.x.to_numpy(), facilities.y.to_numpy())
    geod = Geod(ellps="GRS80")
    dist = np.array(
        [[geod.inv(a, b, c, d)[2] for c, d in zip(flon, flat, strict=True)] for a, b in zip(olon, olat, strict=True)]
    ).min(axis=1)
    assert np.all(time >= dist / (100 / 3.6))
    better = time[reach] < walk[reach] - 60
    assert better.mean() > 0.3, "public transport should beat walking for many origins in central São Paulo"
    # the profile search equals per-minute RAPTOR on the real feed too (sample of origins)
    links = walk_links(
        tt, np.column_stack([origins.x, origins.y])[:15], np.column_stack([facilities.x, facilities.y]), s, network=net
    )
    np.testing.assert_allclose(nearest_by_raptor(tt, links, s), res.by_minute[:15], rtol=0, atol=1e-6)
    m = transit_time_matrix(tt, origins.iloc[:40], facilities, s, cutoff_s=3600, network=net).matrix.tocsr()
    for i in range(40):  # the median to the nearest is never above the median to one facility
        row = m.data[m.indptr[i] : m.indptr[i + 1]]
        assert row.size == 0 or time[i] <= row.min() + 1e-9
