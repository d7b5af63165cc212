"""Real-browser tests: the map at any point count (Chromium through Playwright).

A temporary store holds the 2,787 Grundschulen of the MSB school file as layer
``ogs`` (from ``../shared/data``, never committed) and 10,000 random Kitas;
the ≈ 59,000 embedded NRW stops are drawn on request through the sidebar
filter. Every layer must be drawn completely (``window.atlasLayers`` counts
the canvas markers), the layer control must be there, clicks and the search
must work and neither the page nor the map iframe may log a console error.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from browser_support import (
    MAP_IFRAME,
    SCREENSHOTS,
    StreamlitServer,
    browser_unavailable_reason,
    checked_page,
    chromium_browser,
    layers_drawn,
    map_frame,
    wait_idle,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.shared,
    pytest.mark.slow,
    pytest.mark.skipif(browser_unavailable_reason() is not None, reason=str(browser_unavailable_reason())),
]

SCHOOLS = "facilities/nrw_grundschulen_msb_2021.geojson"
N_RANDOM = 10_000
VIEWPORT = {"width": 1366, "height": 768}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> Iterator[StreamlitServer]:
    """The app with 2,787 schools (``ogs``) and 10,000 random Kitas in its store."""
    from geo.importing import import_file
    from geo.settings import Settings

    home = tmp_path_factory.mktemp("scale-home")
    cfg = Settings().with_home(home)
    schools = import_file(shared_data / SCHOOLS, "ogs", cfg, on_invalid="keep_valid")
    assert schools.batch is not None and schools.batch.rows_kept == 2787
    rng = np.random.default_rng(7)
    # a box well inside NRW (Ruhr, Münsterland, Sauerland): every point is valid
    lat = rng.uniform(51.05, 51.85, N_RANDOM)
    lon = rng.uniform(6.95, 8.15, N_RANDOM)
    csv = home / "zufall.csv"
    rows = [f"z{i};Kita Nr. {i};Träger {i % 7};{a:.6f};{o:.6f}" for i, (a, o) in enumerate(zip(lat, lon, strict=True))]
    csv.write_text("id;name;traeger;lat;lon\n" + "\n".join(rows) + "\n", encoding="utf-8")
    kitas = import_file(csv, "kita", cfg, on_invalid="reject")
    assert kitas.batch is not None and kitas.batch.rows_kept == N_RANDOM
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


def _wait_drawn(frame: Any, expected: dict[str, int], timeout_ms: float = 60_000) -> dict[str, list[int]]:
    """Wait until every layer in ``expected`` has all its points on the map."""
    frame.wait_for_function(
        """(exp) => { const L = window.atlasLayers || {};
                      return Object.entries(exp).every(
                          ([k, n]) => L[k] && L[k].count === n && L[k].drawn() === n); }""",
        arg=expected,
        timeout=timeout_ms,
    )
    return layers_drawn(frame)


def _layer_control_names(frame: Any) -> list[str]:
    return [e.text_content().strip() for e in frame.query_selector_all(".leaflet-control-layers-overlays label")]


def _hover_first_marker(frame: Any, layer: str) -> str:
    """Zoom to the first marker of ``layer``, move the mouse onto it and return the tooltip text."""
    x, y = frame.evaluate(
        """(id) => { const g = window.atlasLayers[id].layer; const m = g.getLayers()[0];
                     window.map.setView(m.getLatLng(), 15, {animate: false});
                     const c = window.map.getContainer().getBoundingClientRect();
                     const p = window.map.latLngToContainerPoint(m.getLatLng());
                     return [c.left + p.x, c.top + p.y]; }""",
        layer,
    )
    frame.wait_for_timeout(300)
    page = frame.page
    box = page.locator(MAP_IFRAME).bounding_box()
    page.mouse.move(box["x"] + x + 8, box["y"] + y + 8)
    page.mouse.move(box["x"] + x, box["y"] + y)
    frame.wait_for_selector(".leaflet-tooltip", timeout=10_000)
    return str(frame.inner_text(".leaflet-tooltip"))


def test_karte_draws_thousands_of_points_and_stays_usable(page: Any, server: StreamlitServer) -> None:
    page.goto(server.url)
    frame = map_frame(page, timeout_ms=90_000)
    wait_idle(page)
    drawn = _wait_drawn(frame, {"ogs": 2787, "kita": N_RANDOM})
    assert drawn["ogs"] == [2787, 2787] and drawn["kita"] == [N_RANDOM, N_RANDOM]
    assert frame.query_selector(".leaflet-control-layers") is not None
    names = _layer_control_names(frame)
    assert any("Offene Ganztagsschulen" in n for n in names) and any("Kitas" in n for n in names), names
    assert frame.query_selector(".marker-cluster") is not None  # clustered at NRW zoom
    # the stops on request: all four mode classes
    box = page.locator(".st-key-karte_filter_haltestelle")
    for _ in range(4):
        box.locator('[role="combobox"], input').first.click()
        page.get_by_role("option").first.click()
        wait_idle(page)
    page.keyboard.press("Escape")
    frame = map_frame(page, timeout_ms=90_000)
    drawn = _wait_drawn(frame, {"ogs": 2787, "kita": N_RANDOM}, timeout_ms=90_000)
    frame.wait_for_function(
        "() => window.atlasLayers.haltestelle && window.atlasLayers.haltestelle.drawn() > 50000", timeout=90_000
    )
    stops = layers_drawn(frame)["haltestelle"]
    assert stops[0] == stops[1] > 50_000
    assert any("Haltestellen" in n for n in _layer_control_names(frame))
    page.screenshot(path=str(SCREENSHOTS / "karte-viele-punkte.png"))
    # search still works with everything drawn
    search = page.get_by_label("Kreis oder Gemeinde suchen (Name oder AGS)")
    search.fill("Wesel")
    search.press("Enter")
    wait_idle(page)
    page.locator('[data-testid="stMarkdownContainer"] strong').filter(has_text="Wesel").first.wait_for()
    frame = map_frame(page, timeout_ms=90_000)
    frame.wait_for_function("() => window.map.getZoom() >= 9 && window.map.getBounds().contains([51.66, 6.62])")
    # a school's tooltip appears on hover (canvas marker, unclustered at zoom 15)
    assert "Offene Ganztagsschulen" in _hover_first_marker(frame, "ogs")


def test_click_on_the_map_opens_a_profile_with_many_points(page: Any, server: StreamlitServer) -> None:
    page.goto(server.url)
    frame = map_frame(page, timeout_ms=90_000)
    wait_idle(page)
    _wait_drawn(frame, {"ogs": 2787, "kita": N_RANDOM})
    # Kreis Viersen at zoom 11: the element under a point inside it must be the Kreis polygon, not the
    # canvas of the point layers (which ignores the mouse); a click there opens the Kreis profile.
    # A cluster icon may sit on any one spot (a click there zooms in, as it should): take the first of a
    # few spots inside Viersen that no marker icon covers.
    hit = frame.evaluate("""() => { window.map.setView([51.25, 6.35], 11, {animate: false});
        const c = window.map.getContainer().getBoundingClientRect();
        for (const [lat, lon] of [[51.25, 6.35], [51.27, 6.30], [51.22, 6.40], [51.30, 6.40], [51.20, 6.30]]) {
            const p = window.map.latLngToContainerPoint([lat, lon]);
            const x = c.left + p.x, y = c.top + p.y, el = document.elementFromPoint(x, y);
            if (el.closest('.leaflet-marker-icon')) continue;
            el.dispatchEvent(new MouseEvent('click', {bubbles: true, clientX: x, clientY: y}));
            return el.getAttribute('class');
        }
        return 'every spot covered by a marker icon'; }""")
    assert "atlas-layer-kreis" in hit, hit
    page.locator("text=Einrichtungen im Gebiet").wait_for()
    wait_idle(page)


def test_versorgungsluecken_draws_the_schools(page: Any, server: StreamlitServer) -> None:
    page.goto(f"{server.url}/versorgungsluecken")
    map_frame(page, timeout_ms=90_000)
    wait_idle(page)
    page.get_by_role("combobox", name="Einrichtungsart").click()
    page.get_by_role("option").filter(has_text="Offene Ganztagsschulen").first.click()
    wait_idle(page)
    frame = map_frame(page, timeout_ms=90_000)
    frame.wait_for_selector("path.atlas-layer-kreis")
    drawn = _wait_drawn(frame, {"ogs": 2787})
    assert drawn["ogs"] == [2787, 2787]
    assert frame.query_selector(".leaflet-control-layers") is not None
