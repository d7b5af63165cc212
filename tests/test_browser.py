"""Real-browser tests: ``streamlit run app.py`` in headless Debian Chromium (Playwright).

One server per module, started on a free loopback port with its own
``INTEGRATIONSATLAS_HOME`` (offline). Before it starts, a small Kita CSV with
a hostile name is imported into that store, so that the escaping of
user-supplied strings is checked in the real map. Screenshots of every page
are written to the git-ignored ``test-results/screenshots/`` (``make screenshots`` copies them into
``docs/screenshots/``, and ``app.png`` into ``docs/`` for the README).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser_support import (
    MAP_IFRAME,
    SCREENSHOTS,
    RequestLog,
    StreamlitServer,
    browser_unavailable_reason,
    checked_page,
    chromium_browser,
    map_frame,
    wait_idle,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(browser_unavailable_reason() is not None, reason=str(browser_unavailable_reason())),
]

XSS_NAME = "<img src=x onerror=alert(1)>"
VIEWPORT = {"width": 1440, "height": 1100}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StreamlitServer]:
    """The running app, with two imported Kitas (one with a hostile name)."""
    from geo.importing import import_file
    from geo.settings import Settings

    home = tmp_path_factory.mktemp("browser-home")
    csv = home / "kitas.csv"
    csv.write_text(
        "id;name;traeger;lat;lon\n"
        f"k1;{XSS_NAME};Stadt Aachen;50.7600;6.1500\n"
        "k2;Kita Sonnenschein;AWO;51.9600;7.6300\n",
        encoding="utf-8",
    )
    import_file(csv, "kita", Settings().with_home(home), on_invalid="reject")
    srv = StreamlitServer(home).start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def browser(server: StreamlitServer) -> Iterator[Any]:
    with chromium_browser() as chromium:
        yield chromium


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A page that fails the test on any console error in the page or the map iframe."""
    with checked_page(browser, viewport=VIEWPORT, locale="de-DE") as pg:
        yield pg


def _open(page: Any, server: StreamlitServer, path: str = "") -> Any:
    """Open a page of the app and return the frame of its first map."""
    page.goto(f"{server.url}/{path}")
    frame = map_frame(page)
    wait_idle(page)
    return frame


def _screenshot(page: Any, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.wait_for_timeout(400)  # let Leaflet finish drawing
    page.screenshot(path=str(path))
    return path


def _choose(page: Any, label: str, option: str) -> None:
    """Pick ``option`` in the Streamlit select box labelled ``label``."""
    page.get_by_role("combobox", name=label).click()
    page.get_by_role("option").filter(has_text=option).first.click()
    wait_idle(page)


def _unfold_legend(frame: Any) -> str:
    """Open the map legend by a click on its title when it is folded; its text."""
    if frame.query_selector(".atlas-legend details[open]") is None:
        frame.click(".atlas-legend summary")
    assert frame.query_selector(".atlas-legend details[open]") is not None
    return str(frame.inner_text(".atlas-legend"))


def _fills(frame: Any, css: str) -> list[str]:
    return [p.get_attribute("fill") for p in frame.query_selector_all(css)]


def test_nrw_map_renders_offline_with_kreise_and_ki(page: Any, server: StreamlitServer) -> None:
    requests = RequestLog().attach(page)
    frame = _open(page, server)
    frame.wait_for_selector("path.atlas-layer-kreis")
    for pane in ("map", "tile", "overlay", "marker", "tooltip"):
        assert frame.query_selector(f".leaflet-{pane}-pane") is not None, pane
    assert len(frame.query_selector_all("path.atlas-layer-kreis")) >= 53
    assert len(frame.query_selector_all("path.atlas-layer-ki")) == 54
    assert len(frame.query_selector_all("path.atlas-layer-regbez")) == 5
    assert frame.query_selector(".leaflet-control-layers") is not None
    # folded controls leave the map free: the layer list opens on hover, the legend on a click
    assert frame.query_selector(".leaflet-control-layers-expanded") is None
    legend = _unfold_legend(frame)
    assert "Einwohner" in legend and "Standort auf Ortsebene" in legend
    assert "GeoBasis-DE / BKG" in frame.inner_text(".leaflet-control-attribution")
    assert any("/app/static/leaflet/leaflet.js" in u for u in requests.urls)
    assert requests.external() == []
    _screenshot(page, "karte")
    page.screenshot(path=str(SCREENSHOTS / "app.png"))


def test_hostile_name_is_shown_literally_and_never_runs(page: Any, server: StreamlitServer) -> None:
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    frame = _open(page, server)
    frame.wait_for_selector("path.atlas-layer-kita")
    markers = frame.query_selector_all("path.atlas-layer-kita")
    assert len(markers) == 2
    texts = []
    for marker in markers:
        marker.dispatch_event("mouseover")
        texts.append(frame.inner_text(".leaflet-tooltip"))
        marker.dispatch_event("mouseout")
    assert any(XSS_NAME in text for text in texts), texts
    assert frame.query_selector("img[src='x']") is None
    assert page.query_selector("img[src='x']") is None
    page.wait_for_timeout(500)
    assert dialogs == []


def test_switching_the_indicator_changes_the_choropleth(page: Any, server: StreamlitServer) -> None:
    frame = _open(page, server)
    frame.wait_for_selector("path.atlas-layer-kreis")
    before = _fills(frame, "path.atlas-layer-kreis")
    _choose(page, "Kennzahl für die Einfärbung", "Ausländeranteil")
    frame = map_frame(page)
    page.wait_for_function(
        """(before) => {
            const f = document.querySelector('iframe[title="streamlit_folium.st_folium"]').contentDocument;
            const fills = [...f.querySelectorAll('path.atlas-layer-kreis')].map(p => p.getAttribute('fill'));
            return fills.length >= 53 && fills.join() !== before.join();
        }""",
        arg=before,
    )
    after = _fills(frame, "path.atlas-layer-kreis")
    assert len(after) >= 53 and after != before
    assert "Ausländeranteil" in _unfold_legend(frame)
    # the base map stayed mounted: still exactly one map iframe, KI still drawn
    assert len(page.query_selector_all(MAP_IFRAME)) == 1
    assert len(frame.query_selector_all("path.atlas-layer-ki")) == 54


def test_search_zooms_to_a_kreis_and_opens_its_profile(page: Any, server: StreamlitServer) -> None:
    _open(page, server)
    box = page.get_by_label("Kreis oder Gemeinde suchen (Name oder AGS)")
    box.fill("Wesel")
    box.press("Enter")
    wait_idle(page)
    heading = page.locator('[data-testid="stMarkdownContainer"] strong').filter(has_text=re.compile(r"^Wesel$"))
    heading.wait_for()
    frame = map_frame(page)
    frame.wait_for_function("() => document.querySelector('.leaflet-control-zoom-in') !== null")
    # the map now shows Wesel (51.66 N, 6.62 E) close up instead of all of NRW
    frame.wait_for_function(
        "() => Object.keys(window).some(k => k.startsWith('map_') && window[k].getZoom && window[k].getZoom() >= 9)"
    )
    zoom, contains = frame.evaluate(
        "() => { const m = Object.keys(window).filter(k => k.startsWith('map_') && window[k].getZoom)"
        ".map(k => window[k])[0];"
        " return [m.getZoom(), m.getBounds().contains([51.66, 6.62])]; }"
    )
    assert zoom >= 9 and contains
    assert len(frame.query_selector_all("path.atlas-selected")) == 1  # Wesel is outlined on the map
    assert frame.query_selector("path.atlas-selected-05170") is not None


#: JS: the AGS shown in the area profile beside the map (``null`` before one is shown).
PROFILE_AGS = (
    "() => { const d = [...document.querySelectorAll('.atlas-kv dt')].find(d => d.textContent === 'AGS');"
    " return d ? d.nextElementSibling.textContent : null; }"
)


def test_clicking_a_kreis_opens_its_profile_and_outlines_it(page: Any, server: StreamlitServer) -> None:
    frame = _open(page, server)
    frame.wait_for_selector("path.atlas-layer-kreis")
    assert page.locator("text=Klicken Sie auf ein Gebiet").count() == 1
    assert frame.query_selector("path.atlas-selected") is None
    container = frame.locator(".leaflet-container")
    box = container.bounding_box()
    seen = []
    # the middle of the map lies inside some Kreis of NRW, and so does a point to its north-west
    for x, y in ((0.5, 0.55), (0.42, 0.42)):
        container.click(position={"x": box["width"] * x, "y": box["height"] * y})
        page.wait_for_function(f"(seen) => {{ const a = ({PROFILE_AGS})(); return a && !seen.includes(a); }}", arg=seen)
        wait_idle(page)
        ags = str(page.evaluate(PROFILE_AGS))
        # the map marks the area the profile shows, with the same click (no rerun behind)
        frame = map_frame(page)
        frame.wait_for_selector(f"path.atlas-selected-{ags}")
        assert len(frame.query_selector_all("path.atlas-selected")) == 1
        seen.append(ags)
    assert page.locator("text=Klicken Sie auf ein Gebiet").count() == 0
    assert len(set(seen)) == 2 and all(re.fullmatch(r"05\d{3}", a) for a in seen), seen


def _gap_overall(page: Any) -> str:
    metric = page.locator('[data-testid="stMetric"]').filter(has_text=re.compile(r"^Versorgt"))
    return metric.locator('[data-testid="stMetricValue"]').inner_text()


def _table_text(page: Any) -> str:
    """Text of the ranking table (the grid's accessible DOM copy of the cells)."""
    page.wait_for_function(
        """() => { const g = document.querySelector('[data-testid="stDataFrame"]');
                   return g !== null && g.querySelectorAll('td').length > 0; }"""
    )
    grid = page.locator('[data-testid="stDataFrame"]').first
    return str(grid.evaluate("e => [...e.querySelectorAll('td')].map(td => td.textContent).join('|')"))


def test_threshold_change_updates_the_gap_table(page: Any, server: StreamlitServer) -> None:
    frame = _open(page, server, "versorgungsluecken")
    frame.wait_for_selector("path.atlas-layer-kreis")
    share_10 = _gap_overall(page)
    table_10 = _table_text(page)
    assert "Steinfurt" in table_10  # the worst-served Kreis at 10 km is listed
    _screenshot(page, "versorgungsluecken")
    slider = page.locator('input[type="range"][aria-label="Schwelle (km)"]')
    slider.focus()
    for _ in range(10):
        slider.press("ArrowRight")
    wait_idle(page)
    page.wait_for_function(
        """(old) => [...document.querySelectorAll('[data-testid="stMetricValue"]')]
                      .every(e => e.innerText !== old)""",
        arg=share_10,
    )
    share_20 = _gap_overall(page)
    assert float(share_20.split()[0].replace(",", ".")) > float(share_10.split()[0].replace(",", "."))
    # The metric and the grid re-render separately: wait (bounded) for the grid to change too.
    page.wait_for_function(
        """(old) => { const g = document.querySelector('[data-testid="stDataFrame"]');
                      if (g === null) return false;
                      const now = [...g.querySelectorAll('td')].map(td => td.textContent).join('|');
                      return now.length > 0 && now !== old; }""",
        arg=table_10,
        timeout=15_000,
    )
    assert _table_text(page) != table_10


def test_siting_run_shows_numbered_sites(page: Any, server: StreamlitServer) -> None:
    _open(page, server, "standortplanung")
    page.get_by_role("button", name="Standorte berechnen").click()
    page.wait_for_selector("text=Berechnung abgeschlossen", timeout=120_000)
    wait_idle(page)
    page.wait_for_function(  # the result map draws its numbered markers after the page is idle
        """(sel) => [...document.querySelectorAll(sel)].some(f => f.contentDocument
               && f.contentDocument.querySelector('.atlas-site-number:not(.atlas-site-fixed)'))""",
        arg=MAP_IFRAME,
        timeout=60_000,
    )
    frames = [h.content_frame() for h in page.query_selector_all(MAP_IFRAME)]
    numbers = []
    for frame in frames:
        numbers += [e.inner_text() for e in frame.query_selector_all(".atlas-site-number:not(.atlas-site-fixed)")]
    assert "1" in numbers and "2" in numbers
    _screenshot(page, "standortplanung")


def test_broken_upload_shows_the_validation_report(page: Any, server: StreamlitServer, tmp_path: Path) -> None:
    page.goto(f"{server.url}/daten")
    page.wait_for_selector("text=Datei hochladen")
    wait_idle(page)
    # no layer and no mode are preselected (issue 20): the user chooses both
    page.get_by_role("combobox", name="Ebene").click()
    page.get_by_role("option").filter(has_text="Kitas").first.click()
    wait_idle(page)
    page.get_by_text("Anhängen (zu den vorhandenen Daten)").click()
    wait_idle(page)
    _screenshot(page, "daten")
    # Streamlit's English uploader chrome ("Upload", "300MB per file") is replaced in German
    shown = page.evaluate(
        """() => [...document.querySelectorAll('[data-testid="stFileUploaderDropzone"]')].map(z => [
               getComputedStyle(z.querySelector('button p'), '::after').content,
               getComputedStyle(z.querySelector('button p')).fontSize,
               getComputedStyle(z.querySelector('[data-testid="stFileUploaderDropzoneInstructions"] span'),
                                '::after').content])"""
    )
    assert shown and all(s == ['"Datei wählen"', "0px", '"oder hierher ziehen"'] for s in shown), shown
    broken = tmp_path / "kaputt.csv"
    broken.write_text("id;name;lat;lon\nk9;Kita Ohne Lage;abc;\nk9;;51.0;7.0\n", encoding="utf-8")
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').first.set_input_files(str(broken))  # the import tab
    page.wait_for_selector("text=Prüfbericht", timeout=60_000)
    wait_idle(page)
    body = page.inner_text("body")
    assert re.search(r"Prüfbericht: \d+ Problem", body)
    assert "kaputt.csv" in body
    _screenshot(page, "daten-pruefbericht")


def test_two_sessions_do_not_share_clicked_candidates(browser: Any, server: StreamlitServer) -> None:
    with checked_page(browser, viewport=VIEWPORT) as a, checked_page(browser, viewport=VIEWPORT) as b:
        for pg in (a, b):
            _open(pg, server, "standortplanung")
        frame_a = map_frame(a)
        frame_a.locator(".leaflet-container").click(position={"x": 200, "y": 150})
        a.wait_for_selector("text=Eigene Kandidaten löschen")
        b.reload()
        map_frame(b)
        wait_idle(b)
        assert b.locator("text=Eigene Kandidaten löschen").count() == 0
        assert a.locator("text=Eigene Kandidaten löschen").count() == 1
        _screenshot(a, "standortplanung-kandidaten")
