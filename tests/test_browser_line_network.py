"""Real-browser test: a planner uploads the city's street network as lines and reads walking times to Kitas.

The store holds the 94 OSM Kitas of central Aachen (``../shared/data/facilities/aachen_osm2021_facilities.geojson``)
and the Destatis population per Gemeinde. The street network is the walk ways of ``osm/aachen.osm.pbf`` written as
a GeoPackage of lines into the test's temporary folder (a city's »Straßenabschnitte« look the same); nothing derived
is kept. Any console error in the page or the map iframe fails the test.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser_support import (
    SCREENSHOTS,
    StreamlitServer,
    browser_unavailable_reason,
    checked_page,
    chromium_browser,
    map_frame,
    offline_cli,
    wait_idle,
    wait_settled,
)
from test_line_network import write_walk_ways

pytestmark = [
    pytest.mark.browser,
    pytest.mark.shared,
    pytest.mark.slow,
    pytest.mark.skipif(browser_unavailable_reason() is not None, reason=str(browser_unavailable_reason())),
]


@pytest.fixture(scope="module")
def lines(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> Path:
    """The walk ways of the Aachen extract as a GeoPackage of lines."""
    return write_walk_ways(shared_data / "osm/aachen.osm.pbf", tmp_path_factory.mktemp("netz") / "aachen_strassen.gpkg")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> Iterator[StreamlitServer]:
    """The app with Aachen's OSM Kitas and the Gemeinde population."""
    tmp = tmp_path_factory.mktemp("linien")
    home = tmp / "home"
    raw = json.loads((shared_data / "facilities/aachen_osm2021_facilities.geojson").read_text("utf-8"))
    features = [
        {**f, "properties": {"name": f["properties"].get("name") or f"Kita (OSM {f['properties']['osm_id']})"}}
        for f in raw["features"]
        if f["properties"].get("amenity") == "kindergarten"
    ]
    kitas = tmp / "kitas.geojson"
    kitas.write_text(json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8")
    offline_cli(home, "import", "--layer", "kita", "--source", "osm", "--as-of", "2021-08-01", str(kitas))
    offline_cli(home, "population", str(shared_data / "population/nrw_gemeinden_population_2018.csv"))
    srv = StreamlitServer(home).start()
    yield srv
    srv.stop()


@pytest.fixture
def page(server: StreamlitServer) -> Iterator[Any]:
    with chromium_browser() as chromium, checked_page(chromium, viewport={"width": 1366, "height": 1800}) as pg:
        yield pg


def test_walking_times_to_kitas_on_an_uploaded_line_network(server: StreamlitServer, page: Any, lines: Path) -> None:
    page.goto(server.url)
    wait_settled(page)
    page.get_by_role("link", name="Versorgungslücken").click()
    wait_settled(page)
    page.get_by_role("combobox", name="Einrichtungsart").click()
    page.get_by_role("option").filter(has_text="Kitas").first.click()
    wait_idle(page, 120_000)
    page.get_by_text("Fahrzeit (Minuten)").click()
    wait_idle(page, 60_000)
    page.locator("input[type='file']").last.set_input_files(str(lines))
    page.get_by_text("Weg auf dem Straßennetz aus aachen_strassen.gpkg").first.wait_for(timeout=300_000)
    wait_idle(page, 120_000)
    page.get_by_text("ist ein Straßennetz aus Linien und enthält keine Gebäude").first.wait_for(timeout=30_000)
    assert page.get_by_text("Ausschnitt aachen_strassen.gpkg").count() > 0
    frame = map_frame(page)  # Leaflet has drawn its panes
    assert frame.query_selector(".leaflet-overlay-pane") is not None
    assert frame.locator("path.leaflet-interactive").count() > 0
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "line_network_walk.png"), full_page=True)
