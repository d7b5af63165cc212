"""Real browser: a stored 100 m result drawn on the Karte as image tiles at zoom 7 and zoom 14.

The result is a grid of 100 m cells over the Städteregion Aachen (embedded
Kreis boundary) with **made-up** costs (straight-line km to one invented
point), stored as a result file in the app's ``ergebnisse/`` folder. The
Karte offers it in the sidebar; once chosen, Leaflet must load the result's
own PNG tiles from the app (never a feature of the grid, never a request to
another host) at zoom 7 and at zoom 14, without a console error. Screenshots
go to ``test-results/screenshots/``.

With ``INTEGRATIONSATLAS_LANDWIDE_HOME`` set to a home whose ``ergebnisse/``
holds a Land-wide result (``benchmarks/landwide_grid.py``, or the batch folder
of ``benchmarks/bench_landwide_walk.py``), the same test draws that one instead
(and takes its time to render the pyramid once), at zoom 14 over its middle.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from browser_support import (
    SCREENSHOTS,
    RequestLog,
    StreamlitServer,
    browser_unavailable_reason,
    checked_page,
    chromium_browser,
    map_frame,
    wait_idle,
)

from integrationsatlas.pyramid import DEFAULT_ZOOMS

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(browser_unavailable_reason() is not None, reason=str(browser_unavailable_reason())),
]

VIEWPORT = {"width": 1366, "height": 768}
REAL_HOME = os.environ.get("INTEGRATIONSATLAS_LANDWIDE_HOME")
#: JS: the result layer's tiles (``/tiles-local/``) in the map: ``[loaded, pending, native zooms]``.
TILES_JS = """() => {
    const imgs = [...document.querySelectorAll('img.leaflet-tile')].filter(i => i.src.includes('/tiles-local/'));
    const loaded = imgs.filter(i => i.classList.contains('leaflet-tile-loaded') && i.naturalWidth === 256);
    const zooms = [...new Set(loaded.map(i => i.src.split('/tiles-local/')[1].split('/')[1]))];
    return [loaded.length, imgs.length - loaded.length, zooms];
}"""


def made_up_result(home: Path) -> str:
    """A result file over the Städteregion Aachen with made-up costs; returns its name."""
    from geo.settings import Settings
    from geo.units import load_boundaries
    from integrationsatlas.landwide import grid_cells, results_folder, save_grid_result
    from integrationsatlas.request import AnalysisRequest, AreaRef

    settings = Settings().with_home(home)
    kreis = load_boundaries("kreis", settings)
    kreis = kreis[kreis["ags"] == "05334"]
    cells = grid_cells(kreis, pd.Series({"05334": 550_000.0}))
    centre = np.array([295_000.0, 5_628_000.0])  # an invented point in Aachen
    xy = np.column_stack([cells.geometry.x, cells.geometry.y])
    km = np.hypot(*(xy - centre).T) / 1000.0
    cells = cells.assign(cost=km, covered=km <= 5.0)
    request = AnalysisRequest("ogs", 5.0, area=AreaRef("05334"), by="gemeinde", demand="gemeinde")
    path = results_folder(settings) / "erfunden_aachen.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    save_grid_result(cells, request, path, "Erfundene Kosten (Test)", "Kosten erfunden (Test).", overwrite=True)
    return path.stem


def a_populated_cell(home: Path, name: str) -> tuple[float, float]:
    """Latitude and longitude of the result's cell nearest to the median of its cells (inside the data)."""
    from geo.io.geoparquet import read_geoparquet

    cells, _ = read_geoparquet(home / "ergebnisse" / f"{name}.parquet")
    xy = np.column_stack([cells.geometry.x, cells.geometry.y])
    middle = cells.iloc[[int(np.argmin(np.hypot(*(xy - np.median(xy, axis=0)).T)))]].to_crs("EPSG:4326")
    return float(middle.geometry.y.iloc[0]), float(middle.geometry.x.iloc[0])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[StreamlitServer, str]]:
    if REAL_HOME:
        home = Path(REAL_HOME)
        name = sorted((home / "ergebnisse").glob("*.parquet"))[0].stem
    else:
        home = tmp_path_factory.mktemp("landwide-home")
        name = made_up_result(home)
    srv = StreamlitServer(home).start()
    yield srv, name
    srv.stop()


@pytest.fixture(scope="module")
def browser(server: tuple[StreamlitServer, str]) -> Iterator[Any]:
    with chromium_browser() as chromium:
        yield chromium


def _view(frame: Any, lat: float, lon: float, zoom: int, timeout_ms: float = 60_000) -> tuple[float, list[int], list]:
    """Set the view; wait until every result tile in view is loaded; return seconds, [loaded, pending], zooms."""
    t0 = time.perf_counter()
    frame.evaluate(f"() => {{ window.map.setView([{lat}, {lon}], {zoom}, {{animate: false}}); }}")
    frame.wait_for_function(f"() => {{ const r = ({TILES_JS})(); return r[0] > 0 && r[1] === 0; }}", timeout=timeout_ms)
    seconds = time.perf_counter() - t0
    loaded, pending, zooms = frame.evaluate(TILES_JS)
    return seconds, [loaded, pending], zooms


def test_a_stored_result_is_drawn_as_image_tiles_at_zoom_7_and_14(
    browser: Any, server: tuple[StreamlitServer, str]
) -> None:
    srv, name = server
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with checked_page(browser, viewport=VIEWPORT, locale="de-DE") as page:
        requests = RequestLog().attach(page)
        page.goto(srv.url)
        map_frame(page, timeout_ms=90_000)
        wait_idle(page, timeout_ms=90_000)
        box = page.locator(".st-key-karte_result")
        try:
            box.locator('[role="combobox"], input').first.click()
            page.get_by_role("option", name=f"({name})").click()  # »Offene Ganztagsschulen …, AGS 05 (<file>)«
        except Exception:
            page.screenshot(path=str(SCREENSHOTS / "karte-ergebnis-auswahl-fehler.png"))
            raise
        wait_idle(page, timeout_ms=900_000)  # the pyramid is rendered once
        frame = map_frame(page, timeout_ms=90_000)
        frame.wait_for_function(f"() => ({TILES_JS})()[0] > 0", timeout=90_000)
        control = frame.text_content(".leaflet-control-layers") or ""
        assert "Ergebnis: " in control and f"({name})" in control, control
        legend = frame.text_content(".atlas-legend") or ""
        assert "nicht erreichbar" in legend, legend
        assert "Legende Ergebnis" in frame.locator(".atlas-legend summary").all_text_contents()  # not two »Legende«
        lat, lon = (51.47, 7.55) if REAL_HOME else (50.72, 6.15)
        seconds7, counts7, zooms7 = _view(frame, lat, lon, 7)
        frame.wait_for_timeout(600)  # Leaflet fades loaded tiles in
        page.screenshot(path=str(SCREENSHOTS / f"karte-ergebnis-{name}-z7.png"))
        lat14, lon14 = a_populated_cell(srv.home, name) if REAL_HOME else (50.776, 6.084)  # Aachen city centre
        seconds14, counts14, zooms14 = _view(frame, lat14, lon14, 14)
        frame.wait_for_timeout(600)
        page.screenshot(path=str(SCREENSHOTS / f"karte-ergebnis-{name}-z14.png"))
        print(f"zoom 7: {counts7[0]} tiles in {seconds7:.2f} s; zoom 14: {counts14[0]} tiles in {seconds14:.2f} s")
        # the pyramid's own level at zoom 7; at zoom 14 its highest (13), scaled up by Leaflet
        assert zooms7 == ["7"] and zooms14 == [str(max(DEFAULT_ZOOMS))]
        # no GeoJSON of the cells went to the browser: the map's own script is small
        size = frame.evaluate("() => document.documentElement.outerHTML.length")
        assert size < 2_000_000, size
        assert requests.external() == []
