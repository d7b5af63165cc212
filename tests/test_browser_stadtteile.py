"""Real-browser test of issue 24 with real data: the Köln Stadtteile, their residents and the change between two years.

The store holds the 86 Stadtteile (``../shared/data/boundaries/koeln_stadtteile.geojson``), the OSM Kitas of 2014
and the city's residents per Stadtteil of 2011 (``data/population/``), with the indicators for 2011 stored. In the
browser a planner uploads the 2012 residents on the Daten page, then reads the change of the residents per
Stadtteil on the Karte. Any console error in the page or the map iframe fails the test.
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

pytestmark = [
    pytest.mark.browser,
    pytest.mark.shared,
    pytest.mark.slow,
    pytest.mark.skipif(browser_unavailable_reason() is not None, reason=str(browser_unavailable_reason())),
]

ROOT = Path(__file__).resolve().parent.parent
RESIDENTS = ROOT / "data/population/koeln_stadtteile_bevoelkerung.csv"
SET = "koeln-stadtteile"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> Iterator[StreamlitServer]:
    """The app with the Stadtteile, the 2014 Kitas, the 2011 residents and their indicators."""
    tmp = tmp_path_factory.mktemp("stadtteile")
    home = tmp / "home"
    raw = json.loads((shared_data / "facilities/koeln_osm2014_amenity_kindergarten.geojson").read_text("utf-8"))
    for f in raw["features"]:
        f["properties"] = {"name": f["properties"].get("tags/name") or f"Kita (OSM-Knoten {f['id']})"}
    kitas = tmp / "kitas.geojson"
    kitas.write_text(json.dumps(raw), encoding="utf-8")
    offline_cli(home, "areas", "import", str(shared_data / "boundaries/koeln_stadtteile.geojson"), "--name", SET,
                "--title", "Stadtteile Köln")  # fmt: skip
    offline_cli(home, "import", "--layer", "kita", "--source", "osm", "--as-of", "2014-01-19", str(kitas))
    offline_cli(home, "areas", "population", str(RESIDENTS), "--set", SET, "--as-of", "2011",
                "--publisher", "Stadt Köln", "--licence", "CC BY 3.0 DE")  # fmt: skip
    offline_cli(home, "indicators", "compute", "--by", SET, "--area", SET, "--layer", "kita", "--reach", "1km",
                "--date", "2011-12-31")  # fmt: skip
    srv = StreamlitServer(home).start()
    yield srv
    srv.stop()


@pytest.fixture
def page(server: StreamlitServer) -> Iterator[Any]:
    with chromium_browser() as chromium, checked_page(chromium, viewport={"width": 1366, "height": 1800}) as pg:
        yield pg


def test_a_planner_uploads_the_2012_residents_and_maps_their_change_per_stadtteil(
    server: StreamlitServer, page: Any
) -> None:
    page.goto(server.url)
    wait_settled(page)
    page.get_by_role("link", name="Daten").click()
    wait_settled(page)
    page.get_by_role("tab", name="Bevölkerung").click()
    wait_idle(page)
    page.locator("input[type='file']").last.set_input_files(str(RESIDENTS))
    wait_idle(page)
    # without a year the file of eight years is refused with the fix, nothing is stored
    page.get_by_role("button", name="Einwohner je Gebiet speichern").click()
    page.get_by_text("die Tabelle enthält 8 Stichtage").wait_for(timeout=120_000)
    page.get_by_label("Herausgeber").last.fill("Stadt Köln")
    page.get_by_label("Lizenz").last.fill("CC BY 3.0 DE")
    page.get_by_label("Stand der Daten").last.fill("2012")
    page.keyboard.press("Enter")
    wait_idle(page)
    page.get_by_role("button", name="Einwohner je Gebiet speichern").click()
    page.get_by_text("86 Gebiete von koeln-stadtteile mit 1.044.555 Einwohnern gespeichert").wait_for(timeout=180_000)
    recomputed = page.get_by_text("Kennzahlen neu berechnet:")
    recomputed.wait_for(timeout=60_000)
    assert "koeln-stadtteile 2012-12-31" in recomputed.inner_text()
    # the Karte: the residents of 2012 per Stadtteil, then their change since 2011
    page.get_by_role("link", name="Karte").click()
    wait_settled(page)
    page.get_by_text("Kennzahlen je Gebiet eines Gebietssatzes").scroll_into_view_if_needed()
    page.get_by_role("combobox", name="Veränderung seit").click()
    page.get_by_role("option").filter(has_text="2011-12-31").first.click()
    wait_idle(page, 60_000)
    legend = ""
    for _ in range(60):  # the map iframe is rebuilt for the new choice: read it until the change is drawn
        frame = map_frame(page, index=1)
        found = frame.locator(".atlas-legend")
        legend = found.first.inner_text() if found.count() else ""
        if "Veränderung" in legend:
            break
        page.wait_for_timeout(500)
    assert "Einwohner: Veränderung 2011-12-31 → 2012-12-31 (Personen)" in legend and "-0" not in legend
    frame.wait_for_selector("path.leaflet-interactive", timeout=30_000)
    assert frame.locator("path.leaflet-interactive").count() == 86
    sources = page.get_by_text("Quellen der Kennzahl:").inner_text().replace("\u2060", "")
    assert "2011-12-31: Einwohner je Gebiet" in sources and sources.count("Stadt Köln (CC BY 3.0 DE)") == 2
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "stadtteile_change.png"), full_page=True)


def test_the_gaps_per_stadtteil_use_the_citys_residents(server: StreamlitServer, page: Any) -> None:
    """Versorgungslücken by Stadtteil: the demand is the city's residents, the table is keyed by Stadtteil number."""
    page.goto(server.url)
    wait_settled(page)
    page.get_by_role("link", name="Versorgungslücken").click()
    wait_settled(page)
    page.get_by_role("combobox", name="Einheiten der Tabelle").click()
    page.get_by_role("option").filter(has_text="Stadtteile Köln").first.click()
    page.get_by_text("Nachfrage: Einwohner je Gebiet").wait_for(timeout=120_000)
    wait_idle(page, 60_000)
    page.wait_for_function(
        """() => { const g = document.querySelector('[data-testid="stDataFrame"]');
                   return g !== null && g.querySelectorAll('th').length > 0; }"""
    )
    grid = page.locator("[data-testid='stDataFrame']").first
    headers = grid.evaluate("e => [...e.querySelectorAll('th')].map(th => th.textContent)")
    assert "Nr." in headers and "AGS" not in headers
    assert map_frame(page).locator("path.leaflet-interactive").count() >= 86
