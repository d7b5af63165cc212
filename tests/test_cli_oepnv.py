"""Public transport end to end: ``integrationsatlas coverage --mode oepnv --gtfs ... --osm ...`` on real Aachen data.

A small hand-made feed (one bus line across central Aachen, every 10 minutes on
Tuesday 8 December 2026) on the real street network and the real 100 m demand
estimate: every cell's public-transport time is never above its walking time,
and the line makes some cells faster.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

from geo.settings import Settings
from integrationsatlas.cli import main

#: Bus stops along a line from Aachen-Brand (east) to the Westpark (west), lon/lat (WGS84).
STOPS = [("W", 6.0600, 50.7720), ("M", 6.0840, 50.7760), ("E", 6.1300, 50.7720)]


def _feed(path: Path) -> Path:
    stops = "stop_id,stop_name,stop_lat,stop_lon\n" + "".join(f"{s},{s},{lat},{lon}\n" for s, lon, lat in STOPS)
    trips, times = "route_id,service_id,trip_id\n", "trip_id,arrival_time,departure_time,stop_id,stop_sequence\n"
    for k in range(18):  # 06:30 … 09:20, both directions, 4 minutes between stops
        start = 6 * 3600 + 30 * 60 + k * 600
        for direction, order in (("a", STOPS), ("b", STOPS[::-1])):
            trip = f"t{k}{direction}"
            trips += f"r1,di,{trip}\n"
            for seq, (sid, _, _) in enumerate(order):
                t = start + seq * 240
                hhmmss = f"{t // 3600:02d}:{t // 60 % 60:02d}:00"
                times += f"{trip},{hhmmss},{hhmmss},{sid},{seq + 1}\n"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(
            "agency.txt", "agency_id,agency_name,agency_url,agency_timezone\na,Test,https://x.invalid,Europe/Berlin\n"
        )
        zf.writestr("routes.txt", "route_id,agency_id,route_short_name,route_type\nr1,a,1,3\n")
        zf.writestr("trips.txt", trips)
        zf.writestr("stop_times.txt", times)
        zf.writestr("stops.txt", stops)
        zf.writestr(
            "calendar.txt",
            "service_id,monday,tuesday,wednesday,thursday,friday,saturday,sunday,start_date,"
            "end_date\ndi,0,1,0,0,0,0,0,20261201,20261231\n",
        )
    return path


@pytest.mark.slow
@pytest.mark.shared
def test_oepnv_coverage_of_aachen_kitas(
    tmp_path: Path, shared_data: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import geopandas as gpd

    settings = Settings().with_home(tmp_path / "home")
    monkeypatch.setattr(Settings, "from_env", classmethod(lambda cls: settings))
    assert main(["population", str(shared_data / "population" / "nrw_gemeinden_destatis_gv_2019.csv")]) == 0
    fac = gpd.read_file(shared_data / "facilities" / "aachen_osm2021_facilities.geojson")
    kitas = fac[fac["amenity"] == "kindergarten"]
    kitas = kitas.assign(id=kitas["osm_id"].astype(str), name=kitas["name"].fillna("Kita"))[["id", "name", "geometry"]]
    kitas.to_file(tmp_path / "kitas.geojson", driver="GeoJSON")
    assert main(["import", str(tmp_path / "kitas.geojson"), "--layer", "kita"]) == 0
    capsys.readouterr()
    osm = shared_data / "osm" / "aachen.osm.pbf"
    feed = _feed(tmp_path / "bus.zip")
    common = [
        "coverage",
        "--layer",
        "kita",
        "--threshold-min",
        "10",
        "--osm",
        str(osm),
        "--area",
        "05334002",
        "--by",
        "gemeinde",
        "--json",
    ]
    assert main([*common, "--mode", "walk"]) == 0
    walk = json.loads(capsys.readouterr().out)
    assert (
        main([*common, "--mode", "oepnv", "--gtfs", str(feed), "--day", "2026-12-08", "--window", "07:00-09:00"]) == 0
    )
    oepnv = json.loads(capsys.readouterr().out)
    assert walk["n_demand"] == oepnv["n_demand"] >= 2000  # the 100 m cells of the building estimate
    assert any("Median über 120 Abfahrtsminuten" in n for n in oepnv["inputs"]["notes"])
    assert oepnv["inputs"]["mode"] == "oepnv"
    share_walk, share_oepnv = walk["overall"]["share_covered"], oepnv["overall"]["share_covered"]
    # one door-to-door definition for both, and public transport falls back to walking: never below walking
    assert 0.3 < share_walk < 1.0 and 0.3 < share_oepnv < 1.0
    assert share_oepnv >= share_walk
    assert np.isfinite(share_oepnv)
    # siting by public transport on the same inputs: sites with a positive gain, the feed cited
    assert (
        main(
            [
                "sites",
                "--area",
                "05334002",
                "-p",
                "2",
                "--minutes",
                "15",
                "--mode",
                "oepnv",
                "--gtfs",
                str(feed),
                "--day",
                "2026-12-08",
                "--osm",
                str(osm),
                "--no-sensitivity",
                "--json",
            ]
        )
        == 0
    )
    plan = json.loads(capsys.readouterr().out)
    new = [s for s in plan["sites"] if not s.get("fixed")]
    assert 1 <= len(new) <= 2
    assert all(s["marginal_gain"] > 0 for s in new)
    # isochrones by public transport: the area around each chosen Kita from which it is reached in 15 minutes
    from geo.layers.loading import load_layer
    from integrationsatlas.coverage import facility_isochrones
    from integrationsatlas.request import AnalysisRequest

    ids = tuple(load_layer("kita", settings)["id"].astype(str).head(2))
    request = AnalysisRequest(
        "kita", 15.0, unit="min", mode="oepnv", osm_file=osm, gtfs_file=feed, day="2026-12-08", area="05334002"
    )
    polys = facility_isochrones(settings, request, ids)
    assert sorted(polys["facility_id"].astype(str)) == sorted(ids)
    chosen = load_layer("kita", settings).set_index("id").loc[list(ids)]
    for fid, geom in zip(polys["facility_id"], polys.geometry, strict=True):
        assert geom.area > 0.5e6  # at least half a km² around a Kita in central Aachen
        assert geom.buffer(100).contains(chosen.geometry.loc[fid])
