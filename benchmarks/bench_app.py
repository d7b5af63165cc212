"""Measure the app in a real browser and write ``benchmarks/results/app.md``.

Targets:

* page opened (server warm) → NRW map drawn ≤ 3 s; cold start (fresh server) ≤ 5 s,
* indicator switch on the Karte, redrawn, ≤ 1 s,
* a threshold change on Versorgungslücken, redrawn, ≤ 1 s warm,
* HTML sent for the NRW map with all Kreise and 54 KI ≤ 2 MB,
* with ``../shared/data``: page opened → 2,787 schools (MSB) all drawn, and the
  ≈ 59,000 stops drawn after choosing them (reported, no target in the issue).

Run once (it starts its own Streamlit servers on loopback ports)::

    python benchmarks/bench_app.py [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

from _report import machine, write_section  # noqa: E402
from browser_support import (  # noqa: E402
    RequestLog,
    StreamlitServer,
    launch_chromium,
    map_frame,
    wait_idle,
    wait_settled,
)

KREIS = "path.atlas-layer-kreis"
KI = "path.atlas-layer-ki"
DRAWN = f"() => document.querySelectorAll('{KREIS}').length >= 53 && document.querySelectorAll('{KI}').length >= 54"
POPULATION = ROOT.parent / "shared" / "data" / "population" / "nrw_gemeinden_destatis_gv_2019.csv"
SCHOOLS = ROOT.parent / "shared" / "data" / "facilities" / "nrw_grundschulen_msb_2021.geojson"


def timed_opens(pw: Any, server: StreamlitServer, runs: int, drawn: str | None = DRAWN) -> list[float]:
    """Seconds from opening the app in a new browser session until the map is drawn, ``runs`` times.

    ``drawn`` is a JS condition in the map's frame (``None``: Leaflet's panes are there). A first
    session before the measured ones warms the server's caches.
    """
    out = []
    browser = launch_chromium(pw)
    for i in range(runs + 1):
        page = browser.new_page(viewport={"width": 1366, "height": 768})
        t0 = time.perf_counter()
        page.goto(server.url)
        frame = map_frame(page, timeout_ms=120_000)
        if drawn is not None:
            frame.wait_for_function(drawn, timeout=120_000)
        if i:
            out.append(time.perf_counter() - t0)
        wait_settled(page)
        page.close()
    browser.close()
    return out


def warm_open(pw: Any, runs: int) -> list[float]:
    """Seconds from opening the Karte (server already warm) to 53 Kreise + 54 KI drawn."""
    server = StreamlitServer(Path(tempfile.mkdtemp(prefix="bench-app-"))).start()
    try:
        return timed_opens(pw, server, runs)
    finally:
        server.stop()


def indicator_switches(pw: Any, steps: int) -> list[float]:
    """Seconds from choosing another indicator on the Karte to the recoloured Kreise."""
    home = Path(tempfile.mkdtemp(prefix="bench-app-"))
    server = StreamlitServer(home).start()
    out = []
    try:
        browser = launch_chromium(pw)
        page = browser.new_page(viewport={"width": 1366, "height": 768})
        page.goto(server.url)
        map_frame(page, timeout_ms=120_000).wait_for_function(DRAWN, timeout=120_000)
        wait_idle(page)
        names = ["Ausländeranteil (%)", "Einwohner je km²", "Einwohner"]
        for i in range(steps):
            before = _fills(page)
            page.get_by_role("combobox", name="Kennzahl für die Einfärbung").click()
            option = page.get_by_role("option").filter(has_text=names[i % len(names)]).first
            t0 = time.perf_counter()
            option.click()
            page.wait_for_function(
                """(before) => {
                    const d = document.querySelector('iframe[title="streamlit_folium.st_folium"]').contentDocument;
                    const f = [...d.querySelectorAll('path.atlas-layer-kreis')].map(p => p.getAttribute('fill'));
                    return f.length >= 53 && f.join() !== before.fills;
                }""",
                arg=before,
                timeout=60_000,
            )
            out.append(time.perf_counter() - t0)
            wait_idle(page)
        browser.close()
    finally:
        server.stop()
    return out


def many_points(pw: Any, runs: int) -> tuple[list[float], list[float]] | None:
    """With the MSB schools: page opened → all 2,787 drawn; stops chosen → all ≈ 59,000 drawn (seconds)."""
    if not SCHOOLS.exists():
        return None
    from geo.importing import import_file
    from geo.settings import Settings

    home = Path(tempfile.mkdtemp(prefix="bench-app-"))
    import_file(SCHOOLS, "ogs", Settings().with_home(home), on_invalid="keep_valid")
    server = StreamlitServer(home).start()
    schools_drawn = "() => window.atlasLayers && window.atlasLayers.ogs && window.atlasLayers.ogs.drawn() === 2787"
    stops: list[float] = []
    try:
        opened = timed_opens(pw, server, runs, drawn=schools_drawn)
        browser = launch_chromium(pw)
        page = browser.new_page(viewport={"width": 1366, "height": 768})
        page.goto(server.url)
        map_frame(page, timeout_ms=120_000).wait_for_function(schools_drawn, timeout=120_000)
        wait_idle(page)
        box = page.locator(".st-key-karte_filter_haltestelle")
        t0 = time.perf_counter()
        for _ in range(4):
            box.locator('[role="combobox"], input').first.click()
            page.get_by_role("option").first.click()
            wait_idle(page)
        page.keyboard.press("Escape")
        map_frame(page).wait_for_function(
            "() => window.atlasLayers.haltestelle && window.atlasLayers.haltestelle.drawn() > 50000",
            timeout=180_000,
        )
        stops.append(time.perf_counter() - t0)
        browser.close()
    finally:
        server.stop()
    return opened, stops


def cold_start(pw: Any, runs: int) -> tuple[list[float], list[float]]:
    """Seconds from ``streamlit run`` and from opening the page to 53 Kreise + 54 KI drawn."""
    from_launch, from_open = [], []
    for _ in range(runs):
        home = Path(tempfile.mkdtemp(prefix="bench-app-"))
        t_launch = time.perf_counter()
        server = StreamlitServer(home).start()
        try:
            browser = launch_chromium(pw)
            page = browser.new_page(viewport={"width": 1440, "height": 1000})
            t_open = time.perf_counter()
            page.goto(server.url)
            frame = map_frame(page, timeout_ms=120_000)
            frame.wait_for_function(
                f"() => document.querySelectorAll('{KREIS}').length >= 53 && "
                f"document.querySelectorAll('{KI}').length >= 54",
                timeout=120_000,
            )
            done = time.perf_counter()
            from_launch.append(done - t_launch)
            from_open.append(done - t_open)
            browser.close()
        finally:
            server.stop()
    return from_launch, from_open


def threshold_changes(pw: Any, steps: int) -> tuple[list[float], list[float]]:
    """Seconds from a slider step to the redrawn gap map and updated figures (new / cached value)."""
    home = Path(tempfile.mkdtemp(prefix="bench-app-"))
    server = StreamlitServer(home).start()
    fresh: list[float] = []
    cached: list[float] = []
    try:
        browser = launch_chromium(pw)
        page = browser.new_page(viewport={"width": 1440, "height": 1000})
        page.goto(f"{server.url}/versorgungsluecken")
        map_frame(page, timeout_ms=120_000).wait_for_selector(KREIS)
        wait_idle(page)
        slider = page.locator('input[type="range"][aria-label="Schwelle (km)"]')
        for direction, bucket in (("ArrowRight", fresh), ("ArrowLeft", cached)):
            for _ in range(steps):
                before = _fills(page)
                slider.focus()
                t0 = time.perf_counter()
                slider.press(direction)
                page.wait_for_function(
                    """(before) => {
                        const d = document.querySelector('iframe[title="streamlit_folium.st_folium"]').contentDocument;
                        const f = [...d.querySelectorAll('path.atlas-layer-kreis')].map(p => p.getAttribute('fill'));
                        const tip = [...d.querySelectorAll('.atlas-legend-title')].map(e => e.textContent).join();
                        return f.length >= 53 && (f.join() !== before.fills || tip !== before.legend);
                    }""",
                    arg=before,
                    timeout=60_000,
                )
                bucket.append(time.perf_counter() - t0)
                wait_idle(page)
        browser.close()
    finally:
        server.stop()
    return fresh, cached


SHARED = ROOT.parent / "shared" / "data"
#: JS: count and joined fills of the elements matching the CSS selector ``layer`` in the first map.
_LAYER_STATE = """(layer) => {
    const i = document.querySelector('iframe[title="streamlit_folium.st_folium"]');
    const d = i && i.contentDocument;
    if (!d) return {n: 0, fills: ''};
    const p = [...d.querySelectorAll(layer)];
    return {n: p.length, fills: p.map(e => e.getAttribute('fill')).join()};
}"""


def _timed_until(page: Any, action: Any, layer: str, condition: str) -> float:
    """Seconds from ``action()`` until ``condition`` (JS over ``{n, fills}`` of ``layer`` now and before) holds."""
    before = page.evaluate(_LAYER_STATE, layer)
    t0 = time.perf_counter()
    action()
    page.wait_for_function(
        f"([layer, before]) => {{ const now = ({_LAYER_STATE})(layer); return {condition}; }}",
        arg=[layer, before],
        timeout=120_000,
    )
    seconds = time.perf_counter() - t0
    wait_settled(page)  # the map's own first event may start another run; the next click must not race it
    return seconds


def _day_steps(page: Any) -> dict[str, float]:
    """The interactions of one session of :func:`planner_day` (the Karte is open and drawn)."""
    out: dict[str, float] = {}
    out["level"] = _timed_until(
        page,
        lambda: page.get_by_text("Gemeinde", exact=True).click(),
        "path.atlas-area.atlas-layer-gemeinde",
        "now.n >= 396",
    )

    def indicator() -> None:
        page.get_by_role("combobox", name="Kennzahl für die Einfärbung").click()
        page.get_by_role("option").filter(has_text="Einwohner je km²").first.click()

    out["indicator"] = _timed_until(
        page, indicator, "path.atlas-area.atlas-layer-gemeinde", "now.n >= 396 && now.fills !== before.fills"
    )
    sidebar = page.locator("section[data-testid='stSidebar']")
    t0 = time.perf_counter()
    sidebar.get_by_text("English", exact=True).click()
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-testid=stSidebarNav] a')]"
        ".some(a => a.textContent.includes('Coverage gaps'))",
        timeout=120_000,
    )
    map_frame(page, timeout_ms=120_000).wait_for_selector("path.atlas-area.atlas-layer-gemeinde")
    out["language"] = time.perf_counter() - t0
    wait_settled(page)
    nav = page.locator("[data-testid='stSidebarNav'] a")
    out["gaps"] = _timed_until(
        page, lambda: nav.filter(has_text="Coverage gaps").first.click(), "path.atlas-layer-kreis", "now.n >= 53"
    )
    out["back"] = _timed_until(
        page,
        lambda: nav.filter(has_text="Map").first.click(),
        "path.atlas-area",
        "now.n >= 53 && now.fills !== before.fills",
    )
    return out


def planner_day(pw: Any, runs: int) -> dict[str, list[float]] | None:
    """A planner's first minutes on the shared real data (issue 20): open, level, indicator, language, gaps page.

    The store holds what :mod:`app_data` imports from ``../shared/data`` (396 Gemeinden with population, 2,787
    Grundschulen); each run is a new browser session on a warm server at 1366×768.
    """
    if not SHARED.is_dir():
        return None
    from app_data import build_planner_home

    home = build_planner_home(Path(tempfile.mkdtemp(prefix="bench-app-day-")), SHARED)
    server = StreamlitServer(home).start()
    keys = ("open", "reopen", "level", "indicator", "language", "gaps", "back")
    out: dict[str, list[float]] = {k: [] for k in keys}

    def open_karte(context: Any) -> tuple[Any, float]:
        page = context.new_page()
        t0 = time.perf_counter()
        page.goto(server.url)
        map_frame(page, timeout_ms=120_000).wait_for_function(DRAWN, timeout=120_000)
        opened = time.perf_counter() - t0
        wait_settled(page)
        return page, opened

    try:
        browser = launch_chromium(pw)
        for i in range(runs + 1):
            context = browser.new_context(viewport={"width": 1366, "height": 768})  # a first visit: empty cache
            page, opened = open_karte(context)
            if not i:  # the first session warms the server's caches
                context.close()
                continue
            out["open"].append(opened)
            for key, seconds in _day_steps(page).items():
                out[key].append(seconds)
            page.close()
            page, opened = open_karte(context)  # the same browser next morning: Streamlit's scripts are cached
            out["reopen"].append(opened)
            context.close()
        browser.close()
    finally:
        server.stop()
    return out


#: Streamlit's floor for the »open« row: a page with a title and the atlas's empty base map, nothing else.
FLOOR_APP = """import streamlit as st
from streamlit_folium import st_folium

from ui import maps

st.set_page_config(layout="wide")
st.title("Integrationsatlas NRW")
st_folium(maps.base_map([]), key="floor", height=540, use_container_width=True, returned_objects=[])
"""


def streamlit_floor(pw: Any, runs: int) -> list[float]:
    """Seconds from opening :data:`FLOOR_APP` until Leaflet has drawn its panes (new browser session, warm server).

    What Streamlit, streamlit-folium and Leaflet cost before the atlas draws anything: the baseline of the
    »open« row. The script runs from a temporary folder whose ``static`` links to the project's Leaflet copy.
    """
    folder = Path(tempfile.mkdtemp(prefix="bench-app-floor-"))
    (folder / "floor_app.py").write_text(FLOOR_APP, encoding="utf-8")
    (folder / "static").symlink_to(ROOT / "static", target_is_directory=True)
    server = StreamlitServer(folder / "home", script=str(folder / "floor_app.py")).start()
    try:
        return timed_opens(pw, server, runs, drawn=None)
    finally:
        server.stop()


def _fills(page: Any) -> dict[str, str]:
    return page.evaluate(
        """() => {
            const d = document.querySelector('iframe[title="streamlit_folium.st_folium"]').contentDocument;
            return {fills: [...d.querySelectorAll('path.atlas-layer-kreis')].map(p => p.getAttribute('fill')).join(),
                    legend: [...d.querySelectorAll('.atlas-legend-title')].map(e => e.textContent).join()};
        }"""
    )


def map_payload(pw: Any) -> tuple[int, int, list[str]]:
    """Bytes of the NRW map: standalone folium HTML, and what the browser received for it."""
    import warnings

    from geo.layers.registry import REGISTRY
    from geo.settings import Settings
    from ui import cached, maps

    warnings.filterwarnings("ignore")
    cfg = Settings()
    version = cached.store_version(cfg)
    data, cls = cached.unit_choropleth(cfg, version, "population", None, ("ki",))
    outlines = [(REGISTRY.get(lvl), cached.outline_geojson(cfg, version, lvl)) for lvl in cached.OUTLINE_LEVELS]
    m = maps.base_map(outlines)
    maps.feature_group(
        "Kreise", maps.choropleth_layer(REGISTRY.get("kreis"), data, "Kreise"), maps.Legend(maps.legend_rows(cls))
    ).add_to(m)
    maps.feature_group("KI", maps.points_layer(REGISTRY.get("ki"), cached.points_geojson(cfg, version, "ki"))).add_to(m)
    standalone = maps.html_size(m)

    home = Path(tempfile.mkdtemp(prefix="bench-app-"))
    server = StreamlitServer(home).start()
    try:
        browser = launch_chromium(pw)
        page = browser.new_page()
        frames: list[int] = []
        page.on("websocket", lambda ws: ws.on("framereceived", lambda payload: frames.append(len(payload))))
        log = RequestLog().attach(page)
        page.goto(server.url)
        map_frame(page, timeout_ms=120_000).wait_for_selector(KREIS)
        wait_idle(page)
        browser.close()
    finally:
        server.stop()
    return standalone, sum(frames), log.external()


#: The siting runs compared between app and CLI. ``default``: the Standortplanung page's defaults
#: (Städteregion Aachen, MCLP, 3 new sites, 5 km straight line, default candidates); ``walk``: the
#: question of issue 12 (5 new sites, 15 minutes on foot, 100 m demand from the Aachen OSM extract).
SITING_CASES: dict[str, tuple[str, ...]] = {
    "default": ("sites", "--area", "05334", "-p", "3", "--radius-km", "5"),
    "walk": ("sites", "--area", "05334", "-p", "5", "--minutes", "15", "--mode", "walk", "--osm", "{osm}"),
}
OSM_AACHEN = ROOT.parent / "shared" / "data" / "osm" / "aachen.osm.pbf"


def _app_walk_settings(page: Any) -> None:
    """On the Standortplanung page: 5 new sites, travel time (on foot, 15 min, the uploaded extract)."""
    p = page.get_by_label("Neue Standorte (p)")
    p.fill("5")
    p.press("Enter")
    wait_idle(page)
    page.get_by_text("Fahrzeit statt Entfernung").click()
    wait_idle(page)
    # uploads belong to their browser session: this session uploads the extract (its network cache is warm)
    page.locator('.st-key-standort_osm [data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(OSM_AACHEN))
    wait_idle(page, timeout_ms=120_000)


def siting_app_vs_cli(pw: Any, runs: int, case: str = "default") -> tuple[list[float], list[float], str, str]:
    """Seconds of one siting run: in the app (click → result map drawn) and in the CLI.

    Each app run uses a fresh server (the plan is cached per server) whose
    Standortplanung page was opened once, so imports and the page are warm as
    a planner would find them; the CLI run is a new process, start-up included.
    The street network cache is warm for both (the extract was used once before).
    Returns both timings and the first new site's name of each, to show they agree.
    """
    import re
    import subprocess

    app_s, cli_s = [], []
    app_first = cli_first = ""
    n_sites = 5 if case == "walk" else 3
    for _ in range(runs):
        home = Path(tempfile.mkdtemp(prefix="bench-siting-"))
        env = {**os.environ, "INTEGRATIONSATLAS_HOME": str(home), "INTEGRATIONSATLAS_OFFLINE": "1"}
        cli = [sys.executable, "-m", "integrationsatlas.cli"]
        if POPULATION.exists():  # demand from the population per Gemeinde, as a planner would load it
            subprocess.run([*cli, "population", str(POPULATION)], cwd=ROOT, env=env, capture_output=True, check=True)
        args = list(SITING_CASES[case])
        if case == "walk":
            args = [a.replace("{osm}", str(OSM_AACHEN)) for a in args]
            # build the network and 100 m demand caches once, as the planner's first look at the extract would
            subprocess.run([*cli, *args, "--no-sensitivity"], cwd=ROOT, env=env, capture_output=True, check=True)
        server = StreamlitServer(home).start()
        try:
            browser = launch_chromium(pw)
            page = browser.new_page(viewport={"width": 1366, "height": 768})
            page.goto(f"{server.url}/standortplanung")
            map_frame(page, timeout_ms=120_000)
            wait_idle(page)
            if case == "walk":
                _app_walk_settings(page)
            t0 = time.perf_counter()
            page.get_by_role("button", name="Standorte berechnen").click()
            page.wait_for_selector("text=Berechnung abgeschlossen", timeout=300_000)
            page.wait_for_function(  # the result map draws its numbered markers after the run
                """(n) => [...document.querySelectorAll('iframe')].some(f => f.contentDocument
                       && f.contentDocument.querySelectorAll(
                              '.atlas-site-number:not(.atlas-site-fixed)').length >= n)""",
                arg=n_sites,
                timeout=120_000,
            )
            app_s.append(time.perf_counter() - t0)
            found = re.search(r"1\. ([^:\n]+):", page.inner_text("body"))
            app_first = found.group(1).strip() if found else "?"
            browser.close()
        finally:
            server.stop()
        t0 = time.perf_counter()
        done = subprocess.run([*cli, *args], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
        cli_s.append(time.perf_counter() - t0)
        found = re.search(r"^\s*1\. ([^:]+):", done.stdout, re.MULTILINE)
        cli_first = found.group(1).strip() if found else "?"
    return app_s, cli_s, app_first, cli_first


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="cold starts to measure")
    parser.add_argument("--steps", type=int, default=5, help="threshold changes to measure")
    parser.add_argument(
        "--day-only", action="store_true", help="only the planner's day on ../shared/data (issue 20), in its own file"
    )
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    if args.day_only:
        with sync_playwright() as pw:
            day = planner_day(pw, args.runs)
            if day is not None:
                day["floor"] = streamlit_floor(pw, args.runs)
        write_section(planner_day_section(day, args.runs), ROOT / "benchmarks" / "results" / "app_day.md")
        return 0

    with sync_playwright() as pw:
        warm = warm_open(pw, args.runs)
        launch, opened = cold_start(pw, args.runs)
        switches = indicator_switches(pw, args.steps)
        fresh, again = threshold_changes(pw, args.steps)
        standalone, received, external = map_payload(pw)
        points = many_points(pw, args.runs)
        app_s, cli_s, app_first, cli_first = siting_app_vs_cli(pw, 2)
        walk = siting_app_vs_cli(pw, 2, "walk") if OSM_AACHEN.exists() else None

    def med(values: list[float]) -> str:
        return f"{statistics.median(values):.2f} s (min {min(values):.2f}, max {max(values):.2f}, n={len(values)})"

    load = os.getloadavg()
    lines = [
        "## App performance (real browser)",
        "",
        f"Measured by `python benchmarks/bench_app.py` with headless Chromium (Playwright); {machine()}; "
        f"CPU cores shared with other jobs (load average {load[0]:.1f}). Offline (`INTEGRATIONSATLAS_OFFLINE=1`), "
        "embedded data, empty data store (plus the MSB schools for the point rows and the population per Gemeinde "
        "of `../shared/data` for the siting rows).",
        "",
        "| Measure | Result | Target |",
        "|---|---|---|",
        f"| Page opened (server warm) → 53 Kreise and 54 KI drawn, 1366×768 | {med(warm)} | ≤ 3 s |",
        f"| Cold start: page opened → 53 Kreise and 54 KI drawn (fresh server) | {med(opened)} | ≤ 5 s |",
        f"| Indicator switch on the Karte → Kreise recoloured | {med(switches)} | ≤ 1 s |",
        f"| Cold start: `streamlit run` launched → map drawn | {med(launch)} | – |",
        f"| Threshold change on Versorgungslücken, new value (computed) → map redrawn | {med(fresh)} | ≤ 1 s |",
        f"| Threshold change, value seen before (cached) → map redrawn | {med(again)} | ≤ 1 s |",
        f"| NRW map as standalone HTML (53 Kreise, 5 Regierungsbezirke, Land, 54 KI) | "
        f"{standalone / 1e6:.2f} MB | ≤ 2 MB |",
        f"| Everything the browser received over the websocket for the first screen | {received / 1e6:.2f} MB | – |",
        f"| Requests to non-loopback hosts | {len(external)} | 0 |",
        *(
            [
                f"| Page opened (server warm) → all 2,787 MSB Grundschulen drawn (canvas, clustered) | "
                f"{med(points[0])} | – |",
                "| ≈ 59,000 stops: four mode classes chosen one after another in the sidebar → all drawn (canvas) | "
                f"{med(points[1])} | – |",
            ]
            if points
            else ["| Many points (MSB schools) | skipped: ../shared/data missing | – |"]
        ),
        f"| Siting run in the app (`standortplanung` defaults: 05334, MCLP, p = 3, 5 km; click → result map) | "
        f"{med(app_s)} | ≤ 1.3 × CLI |",
        f"| Same run in the CLI (`integrationsatlas {' '.join(SITING_CASES['default'])}`, new process) | "
        f"{med(cli_s)} | – |",
        f"| Ratio app / CLI (medians); first new site: app »{app_first}«, CLI »{cli_first}« | "
        f"{statistics.median(app_s) / statistics.median(cli_s):.2f} | ≤ 1.3 |",
        *(
            [
                "| Siting for 05334 on foot (p = 5, 15 min, 100 m demand from the Aachen OSM extract, warm "
                f"network cache) in the app, click → result map | {med(walk[0])} | < 20 s |",
                f"| Same run in the CLI (new process) | {med(walk[1])} | – |",
                f"| Ratio app / CLI (medians); first new site: app »{walk[2]}«, CLI »{walk[3]}« | "
                f"{statistics.median(walk[0]) / statistics.median(walk[1]):.2f} | ≤ 1.3 |",
            ]
            if walk
            else ["| Siting on foot for 05334 | skipped: ../shared/data missing | – |"]
        ),
        "",
        "Polygons are simplified in EPSG:25832 (Kreise 100 m, Regierungsbezirke 150 m, Land 200 m) before "
        "reprojection, coordinates are rounded to 6 decimals, and Leaflet is served from `/app/static`.",
    ]
    write_section("\n".join(lines) + "\n", ROOT / "benchmarks" / "results" / "app.md")
    return 0


def planner_day_section(day: dict[str, list[float]] | None, runs: int) -> str:
    """The Markdown section of :func:`planner_day` (with the load at the time)."""

    def med(values: list[float]) -> str:
        return f"{statistics.median(values):.2f} s (min {min(values):.2f}, max {max(values):.2f}, n={len(values)})"

    load = os.getloadavg()
    head = [
        "## App on the shared data: a planner's first minutes (issue 20)",
        "",
        f"Measured by `python benchmarks/bench_app.py --day-only --runs {runs}` with headless Chromium at 1366×768; "
        f"{machine()}; load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} (1 / 5 / 15 min) at the end, "
        "CPU shared with other jobs. Store as `tests/app_data.py` builds it from `../shared/data` (396 Gemeinden "
        "with population, 2,787 Grundschulen as OGS); server warm, every run a new browser session.",
        "",
        "| Interaction (click → drawn) | Result | Target (quiet machine) |",
        "|---|---|---|",
    ]
    if day is None:
        return "\n".join([*head, "| all | skipped: ../shared/data missing | – |"]) + "\n"
    rows = [
        ("Page opened (first visit, empty browser cache) → 53 Kreise and 54 KI drawn", "open", "≤ 2 s"),
        ("Page opened again in the same browser (new session, scripts in HTTP cache)", "reopen", "≤ 2 s"),
        ("Baseline, same run: a Streamlit page with only a title and the empty base map → Leaflet drawn", "floor", "–"),
        ("Level Kreise → Gemeinden: 396 Gemeinden drawn", "level", "≤ 1 s"),
        ("Indicator »Einwohner je km²« → 396 Gemeinden recoloured", "indicator", "≤ 1 s"),
        ("Language → English: sidebar relabelled (the map redraw is not awaited)", "language", "≤ 1 s"),
        ("Sidebar → Coverage gaps: gap map with 53 Kreise drawn", "gaps", "≤ 1 s"),
        ("Sidebar → Map: choropleth drawn again", "back", "≤ 1 s"),
    ]
    return "\n".join([*head, *(f"| {what} | {med(day[key])} | {target} |" for what, key, target in rows)]) + "\n"


if __name__ == "__main__":
    raise SystemExit(main())
