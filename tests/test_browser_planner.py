"""Real-browser tests: a planner's questions for Aachen with the data of ``../shared/data`` loaded.

The store holds what a planner would load: the 396 Gemeinden (VG250), their
population (Destatis) and the 2,787 Grundschulen of the MSB file as layer
``ogs``; each test uploads the OSM extract of Aachen in its own browser
session (uploads belong to their session). Nothing of it is committed. The
tests ask the questions of the issues and check that the answers are drawn
and plausible:

- the Karte zoomed into Aachen shows the offline background from the OSM
  extract under the schools and the stops;
- Versorgungslücken by walking time draws the 100 m grid of Aachen, with a
  covered share strictly between 0 and 100 %;
- Standortplanung for the Städteregion Aachen by walking time proposes five
  named sites, none of them a bare grid point, each reaching more people.

Screenshots go to ``test-results/screenshots/`` (``make screenshots`` copies them into ``docs/``).
Any console error fails a test.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from app_data import build_planner_home
from browser_support import (
    MAP_IFRAME,
    SCREENSHOTS,
    StreamlitServer,
    browser_unavailable_reason,
    checked_page,
    chromium_browser,
    layers_drawn,
    map_frame,
    map_window_js,
    wait_idle,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.shared,
    pytest.mark.slow,
    pytest.mark.skipif(browser_unavailable_reason() is not None, reason=str(browser_unavailable_reason())),
]

VIEWPORT = {"width": 1366, "height": 768}
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> Iterator[StreamlitServer]:
    """The app with Gemeinden, population, schools and the Aachen extract, as a planner loads them."""
    home = build_planner_home(tmp_path_factory.mktemp("planner-home"), shared_data)
    srv = StreamlitServer(home).start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def browser(server: StreamlitServer) -> Iterator[Any]:
    with chromium_browser() as chromium:
        yield chromium


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    with checked_page(browser, viewport=VIEWPORT, locale="de-DE") as pg:
        yield pg


def _choose(page: Any, label: str, option: str) -> None:
    """Pick ``option`` in the Streamlit select box labelled ``label`` (typing filters the long lists)."""
    page.get_by_role("combobox", name=label).click()
    page.keyboard.type(option)
    page.get_by_role("option").filter(has_text=option).first.click()
    wait_idle(page)


def _upload_extract(page: Any, key: str, shared_data: Path) -> None:
    """Upload the Aachen extract in the uploader ``key`` (this browser session's upload)."""
    uploader = page.locator(f'.st-key-{key} [data-testid="stFileUploaderDropzoneInput"]')
    uploader.set_input_files(str(shared_data / "osm/aachen.osm.pbf"))
    wait_idle(page, timeout_ms=180_000)


def _stops_of_first_mode_class() -> int:
    """The shipped NRW stops of the first class in the Karte's stop filter (Bahn)."""
    import geopandas as gpd

    from geo.layers.catalog import HALTESTELLE, HALTESTELLE_MODI

    stops = gpd.read_file(ROOT / "data" / str(HALTESTELLE.embedded), columns=["modus"])
    return int((stops["modus"] == HALTESTELLE_MODI[0]).sum())


def _metric(page: Any, label: str) -> str:
    """The value shown under the metric ``label``."""
    metric = page.locator('[data-testid="stMetric"]').filter(has_text=label).first
    return str(metric.locator('[data-testid="stMetricValue"]').inner_text())


def test_karte_in_aachen_shows_the_offline_background_the_schools_and_the_stops(
    page: Any, server: StreamlitServer, shared_data: Path
) -> None:
    # the planner uploads the extract on an analysis page; the Karte of the same session draws it
    page.goto(f"{server.url}/standortplanung")
    map_frame(page, timeout_ms=90_000)
    wait_idle(page)
    page.get_by_text("Fahrzeit statt Entfernung").click()
    wait_idle(page)
    _upload_extract(page, "standort_osm", shared_data)
    page.get_by_role("link", name="Karte").click()
    page.get_by_label("Kreis oder Gemeinde suchen (Name oder AGS)").wait_for(timeout=90_000)
    wait_idle(page)
    frame = map_frame(page, timeout_ms=90_000)
    box = page.locator(".st-key-karte_filter_haltestelle")  # the stops on request: the first mode class
    box.locator('[role="combobox"], input').first.click()
    page.get_by_role("option").first.click()
    wait_idle(page)
    page.keyboard.press("Escape")
    search = page.get_by_label("Kreis oder Gemeinde suchen (Name oder AGS)")
    search.fill("05334002")
    search.press("Enter")
    wait_idle(page, timeout_ms=120_000)
    map_frame(page, timeout_ms=90_000)
    # polled through the page: a rerun may replace the map's iframe in the meantime
    page.wait_for_function(
        map_window_js(
            "w.atlasLayers && w.atlasLayers.osm_background && w.atlasLayers.osm_background.drawn() > 500"
            " && w.map.getZoom() >= 10 && w.map.getBounds().contains([50.776, 6.084])"
        ),
        timeout=90_000,
    )
    frame = map_frame(page)
    drawn = layers_drawn(frame)
    assert drawn["ogs"][0] == 2787 and drawn["haltestelle"][0] == _stops_of_first_mode_class(), drawn
    # zoomed into the town, the Kreis colours fade so that streets and built-up areas show through
    frame.wait_for_function(
        """() => { const o = [...document.querySelectorAll('path.atlas-layer-kreis')]
                       .map(p => p.getAttribute('fill-opacity'));
                   return o.length > 0 && o.every(v => v === '0.3'); }""",
        timeout=15_000,
    )
    labels = [e.inner_text() for e in frame.query_selector_all(".atlas-bg-label")]
    assert "Aachen" in labels, labels
    page.wait_for_timeout(500)
    page.screenshot(path=str(SCREENSHOTS / "karte-aachen-hintergrund.png"))
    # the Gemeinde level colours the 396 Gemeinden (their population is loaded)
    page.get_by_text("Gemeinde", exact=True).click()
    wait_idle(page)
    frame = map_frame(page, timeout_ms=90_000)
    frame.wait_for_function("() => document.querySelectorAll('path.atlas-layer-gemeinde').length >= 396")
    fills = frame.evaluate(
        "() => [...document.querySelectorAll('path.atlas-layer-gemeinde')].map(p => p.getAttribute('fill'))"
    )
    assert len(set(fills)) >= 5, set(fills)  # five classes of population


def test_versorgungsluecken_by_walking_time_draws_the_100m_grid_of_aachen(
    page: Any, server: StreamlitServer, shared_data: Path
) -> None:
    page.goto(f"{server.url}/versorgungsluecken")
    map_frame(page, timeout_ms=90_000)
    wait_idle(page)
    _choose(page, "Einrichtungsart", "Offene Ganztagsschulen")
    _choose(page, "Gebiet", "05334")
    page.get_by_text("Fahrzeit (Minuten)").click()
    wait_idle(page)
    _upload_extract(page, "luecken_osm", shared_data)
    page.wait_for_selector("text=Versorgt insgesamt", timeout=180_000)
    wait_idle(page, timeout_ms=180_000)
    frame = map_frame(page, timeout_ms=90_000)
    frame.wait_for_selector("img.leaflet-image-layer", timeout=60_000)  # the 100 m cells, one image
    share = float(_metric(page, "Versorgt insgesamt").replace("%", "").replace(",", ".").strip())
    assert 0.0 < share < 100.0, share
    assert page.locator("text=Auflösung zu grob").count() == 0
    frame.wait_for_function("() => window.atlasLayers && window.atlasLayers.osm_background", timeout=30_000)
    page.locator(MAP_IFRAME).first.scroll_into_view_if_needed()
    page.wait_for_timeout(500)
    page.screenshot(path=str(SCREENSHOTS / "versorgungsluecken-aachen-100m.png"))


def test_standortplanung_by_walking_time_proposes_five_named_sites_with_gains(
    page: Any, server: StreamlitServer, shared_data: Path
) -> None:
    page.goto(f"{server.url}/standortplanung")
    map_frame(page, timeout_ms=90_000)
    wait_idle(page)
    p = page.get_by_label("Neue Standorte (p)")
    p.fill("5")
    p.press("Enter")
    wait_idle(page)
    page.get_by_text("Fahrzeit statt Entfernung").click()
    wait_idle(page)
    _upload_extract(page, "standort_osm", shared_data)
    page.get_by_role("button", name="Standorte berechnen").click()
    page.wait_for_selector("text=Berechnung abgeschlossen", timeout=180_000)
    wait_idle(page, timeout_ms=60_000)
    summaries = [e.inner_text() for e in page.query_selector_all('[data-testid="stExpander"] summary')]
    titles = [m.group(0) for t in summaries if (m := re.search(r"\d\. .+: Alternativen", t))]
    assert len(titles) == 5, titles
    assert not any(re.search(r"Raster \d|Cluster \d", t) for t in titles), titles
    body = page.text_content("body")  # the reasons sit in folded expanders
    gains = [int(g.replace(".", "")) for g in re.findall(r"erreicht zusätzlich ([\d.]+) Personen", body)]
    assert len(gains) >= 5 and all(g > 0 for g in gains[:5]), gains
    assert "15 Minuten zu Fuß" in body
    page.locator('[data-testid="stExpander"]').filter(has_text="1. ").first.scroll_into_view_if_needed()
    page.wait_for_timeout(500)
    page.screenshot(path=str(SCREENSHOTS / "standortplanung-aachen-zu-fuss.png"))
