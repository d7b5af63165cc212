"""Issue 23, done when: ``sites --json`` and ``coverage --json`` on the shared Aachen data, checked by brute force.

Demand: the 100 m estimate from the OSM buildings of ``../shared/data/osm/aachen.osm.pbf`` with the 2019 Destatis
Gemeinde population (real). Facilities: the 94 OSM kindergartens of ``aachen_osm2021_facilities.geojson`` (real
points). Their places are **generated** (20–80 per Kita, seed 23): no offline source has Kita places. The share of
children under 6 (5.5 %) and the site costs (30,000 € a year, 10,000 € once) are test assumptions, not a council's
figures. Nothing of the data is committed; the store lives in a temporary home.

Each figure of the CLI is recomputed here without the pipeline: reach by a k-d tree, the places by a networkx
maximum flow, the euros per person by hand from the yearly costs and the people newly within reach.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pytest
from json_shares import assert_every_share_has_its_interval
from scipy.spatial import cKDTree

from geo.settings import Settings

pytestmark = [pytest.mark.shared, pytest.mark.slow]

AREA = "05334002"  # Aachen (the extract covers its centre)
RADIUS_M = 500.0
CHILD_SHARE = 0.055  # test assumption: children under 6 per resident
YEARLY, ONE_OFF = 30_000.0, 10_000.0  # test assumption: costs per new site
NEW_PLACES = 40  # test assumption: places per new Kita
ROOT = Path(__file__).resolve().parents[1]


def _cli(home: Path, *argv: str) -> str:
    """Run ``integrationsatlas`` in a child process (HiGHS writes to file descriptor 1); its standard output."""
    env = {**os.environ, "INTEGRATIONSATLAS_HOME": str(home), "PYTHONPATH": str(ROOT)}
    code = "import sys; from integrationsatlas.cli import main; sys.exit(main(sys.argv[1:]))"
    done = subprocess.run(
        [sys.executable, "-c", code, *argv], env=env, capture_output=True, text=True, timeout=900, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


@pytest.fixture(scope="module")
def aachen(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> dict[str, Any]:
    pbf = shared_data / "osm" / "aachen.osm.pbf"
    population = shared_data / "population" / "nrw_gemeinden_destatis_gv_2019.csv"
    facilities = shared_data / "facilities" / "aachen_osm2021_facilities.geojson"
    for path in (pbf, population, facilities):
        if not path.exists():
            pytest.skip(f"{path} fehlt")
    tmp = tmp_path_factory.mktemp("decisions")
    home = tmp / "home"
    kitas = gpd.read_file(facilities)
    kitas = kitas[kitas["amenity"] == "kindergarten"][["name", "geometry"]].copy()
    kitas["name"] = kitas["name"].fillna("Kita")
    kitas["plaetze"] = np.random.default_rng(23).integers(20, 81, len(kitas))  # generated places (see above)
    kita_file = tmp / "kitas_generated_places.geojson"
    kitas.to_file(kita_file, driver="GeoJSON")
    _cli(home, "population", str(population))
    _cli(home, "import", "--layer", "kita", "--source", "osm", "--as-of", "2021", str(kita_file))
    from integrationsatlas.osm_demand import osm_demand

    points = osm_demand(Settings().with_home(home), pbf).points
    points = points[points["gemeinde_ags"].astype(str) == AREA]
    common = ["--area", AREA, "--layer", "kita", "--threshold-km", str(RADIUS_M / 1000), "--osm", str(pbf)]
    common += ["--demand", "osm"]
    shares = ["--by", "gemeinde", "--place-share", str(CHILD_SHARE), "--json"]
    coverage = json.loads(_cli(home, "coverage", *common, *shares))
    sites = json.loads(
        _cli(
            home, "sites", *common, "-p", "3", "--place-share", str(CHILD_SHARE), "--places-per-site", str(NEW_PLACES),
            "--site-cost", str(YEARLY), "--one-off-cost", str(ONE_OFF), "--frontier", "4",
            "--save", "Kita <b>drei</b> *neu*", "--json",
        )
    )  # fmt: skip
    report = tmp / "bericht.html"
    _cli(home, "report", "--area", AREA, "--layer", "kita", "--scenario", "Kita <b>drei</b> *neu*", "-o", str(report))
    return {
        "points": points,
        "kitas": kitas.to_crs(25832),
        "coverage": coverage,
        "sites": sites,
        "report": report.read_text(encoding="utf-8"),
    }


def _xy(frame: gpd.GeoDataFrame) -> np.ndarray:
    return np.column_stack([frame.geometry.x, frame.geometry.y])


def _within(points: np.ndarray, sites: np.ndarray) -> np.ndarray:
    """Brute force: is each point within the radius of any site?"""
    if len(sites) == 0:
        return np.zeros(len(points), dtype=bool)
    d = np.sqrt(((points[:, None, :] - sites[None, :, :]) ** 2).sum(axis=2))
    return (d <= RADIUS_M).any(axis=1)


def test_euros_per_newly_reached_person_equal_yearly_cost_over_newly_reached_people(aachen: dict) -> None:
    plan = aachen["sites"]
    costs = plan["costs"]
    new = [s for s in plan["sites"] if s["selected"] and not s["fixed"]]
    old = [s for s in plan["sites"] if s["fixed"]]
    assert len(new) == 3 and len(old) == 94
    # hand: three new sites at 30,000 € a year and 10,000 € once
    assert costs["yearly_total"] == pytest.approx(3 * YEARLY)
    assert costs["one_off_total"] == pytest.approx(3 * ONE_OFF)
    # brute force: the residents within 500 m of a new site and of no existing Kita
    pts = aachen["points"]
    xy = _xy(pts)
    before = _within(xy, np.array([[s["x"], s["y"]] for s in old]))
    after = before | _within(xy, np.array([[s["x"], s["y"]] for s in new]))
    people = pts["population"].to_numpy(dtype=float)
    newly = float(people[after & ~before].sum())
    assert newly > 0
    assert costs["newly_reached"] == pytest.approx(newly)
    assert costs["eur_per_newly_reached"] == pytest.approx(3 * YEARLY / newly)
    # per site: its yearly cost over the people it newly reaches, in the explanation's order
    for row in costs["per_site"]:  # a site that only adds places reaches nobody new: no euros per person
        assert row["eur_per_gain"] == (pytest.approx(row["yearly"] / row["gain"]) if row["gain"] > 0 else None)
    assert sum(r["gain"] for r in costs["per_site"]) == pytest.approx(newly)
    # the frontier runs through this plan's own budget, and no point beats its budget's optimum
    frontier = plan["frontier"]["points"]
    own = [p for p in frontier if p["cost"] == pytest.approx(3 * YEARLY)]
    assert own and own[0]["covered"] >= plan["summary"]["covered_after"] - 1e-6
    covered = [p["covered"] for p in frontier]  # the frontier counts reach (no places), like covered_after
    assert covered == sorted(covered)  # more money never reaches fewer people
    for p in frontier:
        assert p["eur_per_newly_reached"] == pytest.approx(p["cost"] / p["newly_reached"])
    print(
        f"Aachen, 3 neue Kitas, 500 m: {newly:.0f} Menschen neu erreicht, "
        f"{costs['eur_per_newly_reached']:.2f} € je Person und Jahr"
    )


def test_kita_coverage_with_places_is_at_most_without_and_equals_a_brute_force_max_flow(aachen: dict) -> None:
    import networkx as nx

    places = aachen["coverage"]["places"]
    assert places["column"] == "plaetze"
    assert places["covered"] <= places["covered_uncapacitated"]
    assert places["share"] <= places["share_uncapacitated"]
    assert places["covered"] < places["covered_uncapacitated"]  # the generated places bind in the centre
    pts, kitas = aachen["points"], aachen["kitas"]
    children = pts["weight"].to_numpy(dtype=float) * CHILD_SHARE
    xy, kxy = _xy(pts), _xy(kitas)
    graph = nx.DiGraph()
    for i, js in enumerate(cKDTree(xy).query_ball_tree(cKDTree(kxy), RADIUS_M)):
        if js and children[i] > 0:
            graph.add_edge("s", ("d", i), capacity=children[i])
            for j in js:
                graph.add_edge(("d", i), ("k", j))  # no capacity: unlimited
    for j, n in enumerate(kitas["plaetze"].to_numpy(dtype=float)):
        graph.add_edge(("k", j), "t", capacity=n)
    flow, _ = nx.maximum_flow(graph, "s", "t")
    assert places["covered"] == pytest.approx(flow, abs=0.01 * len(pts))  # hundredths of a person per row
    reach = _within(xy, kxy)
    assert places["covered_uncapacitated"] == pytest.approx(children[reach].sum())
    for unit in aachen["coverage"]["units"]:  # a unit too coarse for its own figures has none (also with places)
        if unit["share_covered"] is None:
            assert unit["too_coarse"] and unit.get("share_with_places") is None
        else:
            assert unit["share_with_places"] <= unit["share_covered"] + 1e-12
    print(f"Aachen, Kitas 500 m: {places['text']}")


def test_every_share_in_coverage_json_has_an_interval_that_contains_it(aachen: dict) -> None:
    assert_every_share_has_its_interval(aachen["coverage"], at_least=8)
    assert_every_share_has_its_interval(aachen["sites"]["places"], at_least=4)
    overall = aachen["coverage"]["overall"]["share_covered_interval"]
    assert overall["n_resamples"] == 200 and overall["low"] < overall["high"]  # the OSM estimate's error shows
    assert "90 %-Intervall" in overall["text"]


def test_report_shows_the_frontier_and_the_intervals_in_plain_german_and_keeps_names_as_text(aachen: dict) -> None:
    html = aachen["report"]
    assert "90 %-Intervall" in html
    assert "Budget-Grenze" in html
    assert "Euro je neu erreichter Person" in html
    assert "<b>drei</b>" not in html and "&lt;b&gt;drei&lt;/b&gt;" in html  # the scenario's name stays text
    assert 'alt="Szenario »Kita &lt;b&gt;drei&lt;/b&gt; *neu*«: Budget-Grenze"' in html  # the frontier chart
    assert "Kinder unter 6 Jahren" in html and "mit Platz (90 %-Intervall" in html  # Kita places with intervals
    # the scenario's before/after table names its Gemeinde and its map is shaded by it (the report read »ags« and
    # »name«, which the scenario's table does not have: empty cells and a map »ohne Einfärbung«)
    assert re.search(r"<tr><td>05334002</td><td>Aachen</td><td class=\"n\">[\d,]+ %</td>", html)
    assert "Einfärbung: Versorgungsanteil nach Umsetzung des Szenarios" in html
    assert "<td>Aachen (05334002)</td>" in html  # each new site's Gemeinde by name and AGS


def test_plan_with_places_serves_at_most_the_new_places_and_prices_each_newly_served_child(aachen: dict) -> None:
    plan = aachen["sites"]
    places = plan["places"]
    before, after = places["before"], places["after"]
    assert after["covered"] <= after["covered_uncapacitated"]
    assert before["covered"] <= before["covered_uncapacitated"]
    newly = after["covered"] - before["covered"]
    assert places["newly_served"] == pytest.approx(newly)
    assert 0 < newly <= 3 * NEW_PLACES + 1e-6  # hand: three new Kitas with 40 places each
    assert places["eur_per_newly_served"] == pytest.approx(3 * YEARLY / newly)
    assert plan["summary"]["objective"] == pytest.approx(after["covered"], abs=0.01)  # the model counted places
    assert len(places["new_sites"]) == 3
    assert all(0 <= s["load"] <= s["places"] == NEW_PLACES for s in places["new_sites"])
    assert plan["margins"] == []  # no substitute by reach for a plan that counts places
    html = aachen["report"]
    assert "Euro je neu versorgter Person und Jahr" in html and "neu mit freiem Platz" in html
    print(f"Aachen, 3 neue Kitas mit je {NEW_PLACES} Plätzen: {newly:.2f} neu versorgt, "
          f"{places['eur_per_newly_served']:.2f} € je Person und Jahr")  # fmt: skip
