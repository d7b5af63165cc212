"""Hostile names in every importer, through every page of the running app (issue 18).

A hostile data supplier's files, built at test time from the real data in
``../shared/data`` (nothing is committed):

- a **Geofabrik-style OSM extract** of Aachen whose streets, places, Kitas and
  stops carry the payloads of :mod:`hostile` as names (pyosmium rewrites the
  real ``aachen.osm.pbf``);
- the **Gemeinden** (VG250) and the **population** table (Destatis GV) with
  the ten Gemeinden of the Städteregion Aachen renamed to payloads;
- **facility files** as CSV (Kitas), XLSX (Integrationsagenturen) and GeoJSON
  (OGS) with a payload in every text field;
- a **Zensus** grid file with payloads as values, and a **GTFS** feed (hand-made,
  synthetic) with payloads as stop and route names;
- **scenario names** and site names (the planner names sites after the
  hostile Kitas and streets).

Then the CLI plans, reports and exports with them, every page of the app is
rendered (AppTest), and a real Chromium opens the app: the hostile extract is
uploaded, the Karte zoomed into Aachen, the scenarios compared. Nothing may be
evaluated (no ``42``, no canary directory, no request to the canary server, no
``window.atlasPwned``), nothing may break (no exception box, no console
error), and the names must appear as the text they are. Screenshots go to
``docs/screenshots/injection-*.png``.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from hostile import CANARY_ENV, PWNED, html_text, payloads, shown_text, visible
from loopback import LoopbackServer
from streamlit.testing.v1 import AppTest

from geo.errors import IntegrationsatlasError
from geo.settings import PROJECT_ROOT, Settings

pytestmark = [pytest.mark.shared, pytest.mark.slow]

ROOT = PROJECT_ROOT
SCREENSHOTS = ROOT / "docs" / "screenshots"
AACHEN = "05334"
STADT_AACHEN = "05334002"


@dataclass
class HostileWorld:
    """The prepared home, the hostile files and what went in."""

    home: Path
    env: dict[str, str]
    canary: LoopbackServer
    canary_dir: Path
    names: dict[str, str]
    extract: Path
    gemeinde_names: dict[str, str]
    scenarios: tuple[str, str]
    report_html: Path
    report_pdf: Path

    @property
    def settings(self) -> Settings:
        return Settings().with_home(self.home)


def _cli(world_env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """Run the CLI in its own process (as a planner would), with the world's environment."""
    return subprocess.run(
        [sys.executable, "-m", "integrationsatlas.cli", *args],
        cwd=ROOT,
        env={**os.environ, **world_env, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def hostile_extract(source: Path, target: Path, names: list[str]) -> dict[str, int]:
    """Write ``source`` (an ``.osm.pbf``) to ``target`` with the names of streets, places, Kitas and stops replaced.

    Returns how many objects of each kind were renamed (cycling through ``names``).
    """
    import osmium

    counts: dict[str, int] = {}
    with osmium.SimpleWriter(str(target), overwrite=True) as writer:
        for obj in osmium.FileProcessor(str(source)):
            tags = obj.tags
            if "name" in tags:
                kind = (
                    "place"
                    if "place" in tags
                    else "kita"
                    if tags.get("amenity") == "kindergarten"
                    else "stop"
                    if "public_transport" in tags or tags.get("highway") == "bus_stop"
                    else "street"
                    if "highway" in tags
                    else None
                )
                if kind is not None:
                    i = counts.get(kind, 0)
                    counts[kind] = i + 1
                    renamed = {t.k: t.v for t in tags} | {"name": names[i % len(names)]}
                    obj = obj.replace(tags=renamed)
            writer.add(obj)
    return counts


def _quoted(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> Iterator[HostileWorld]:
    """Build the hostile files, import them, plan and report with them (see the module docstring)."""
    import openpyxl

    from geo.importing import import_file

    tmp = tmp_path_factory.mktemp("hostile")
    canary = LoopbackServer()
    canary.start()
    canary_dir = tmp / "rce-canary"
    home = tmp / "home"
    env = {
        "INTEGRATIONSATLAS_HOME": str(home),
        "INTEGRATIONSATLAS_OFFLINE": "1",
        CANARY_ENV: str(canary_dir),
    }
    old_env = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    names = payloads(canary.base_url)
    listed = list(names.values())
    settings = Settings.from_env()
    try:
        # Gemeinden and their population: the ten Gemeinden of the Städteregion Aachen get hostile names
        gemeinden = json.loads((shared_data / "boundaries/nrw_gemeinden_vg250_simplify200.geojson").read_text())
        aachen = sorted(f["properties"]["AGS"] for f in gemeinden["features"] if f["properties"]["AGS"][:5] == AACHEN)
        gemeinde_names = dict(zip(aachen, listed, strict=False))
        for feature in gemeinden["features"]:
            ags = feature["properties"]["AGS"]
            if ags in gemeinde_names:
                feature["properties"]["GEN"] = gemeinde_names[ags]
        (tmp / "gemeinden.geojson").write_text(json.dumps(gemeinden), encoding="utf-8")
        assert import_file(tmp / "gemeinden.geojson", "gemeinde", settings).rows_kept == 396
        population = pd.read_csv(shared_data / "population/nrw_gemeinden_destatis_gv_2019.csv", dtype=str)
        population["name"] = [
            gemeinde_names.get(a, n) for a, n in zip(population["AGS"], population["name"], strict=True)
        ]
        population.to_csv(tmp / "bevoelkerung.csv", index=False)
        done = _cli(env, "population", str(tmp / "bevoelkerung.csv"))
        assert done.returncode == 0, done.stderr
        # facilities: a payload in every text field, as CSV, XLSX and GeoJSON
        rows = [
            ";".join([f"k{i}", *[_quoted(p)] * 4, f"{50.770 + 0.004 * (i % 5):.4f}", f"{6.070 + 0.006 * (i // 5):.4f}"])
            for i, p in enumerate(listed)
        ]
        csv = tmp / "kitas {{ 6*7 }}.csv"
        csv.write_text("id;name;traeger;strasse;ort;lat;lon\n" + "\n".join(rows) + "\n", encoding="utf-8")
        assert import_file(csv, "kita", settings, on_invalid="reject").rows_kept == len(listed)
        book = openpyxl.Workbook()
        sheet = book.active
        sheet.append(["id", "name", "traeger", "schwerpunkt", "ort", "lat", "lon"])
        for i, p in enumerate(listed):
            sheet.append([f"a{i}", p, p, p, p, 50.76 + 0.004 * (i % 5), 6.05 + 0.006 * (i // 5)])
        for row in sheet.iter_rows():
            for cell in row:
                if isinstance(cell.value, str):
                    cell.data_type = "s"  # the supplier's text, not a formula
        book.save(tmp / "agenturen.xlsx")
        assert import_file(tmp / "agenturen.xlsx", "integrationsagentur", settings).rows_kept == len(listed)
        features = [
            {
                "type": "Feature",
                "properties": {"id": f"o{i}", "name": p, "traeger": p, "strasse": p, "ort": p, "schulnummer": p},
                "geometry": {"type": "Point", "coordinates": [6.06 + 0.005 * (i % 5), 50.78 + 0.004 * (i // 5)]},
            }
            for i, p in enumerate(listed)
        ]
        (tmp / "ogs.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": features}))
        assert import_file(tmp / "ogs.geojson", "ogs", settings, on_invalid="reject").rows_kept == len(listed)
        # the Geofabrik-style extract with hostile names
        extract = tmp / "aachen-hostile.osm.pbf"
        counts = hostile_extract(shared_data / "osm/aachen.osm.pbf", extract, listed)
        assert counts["place"] >= 20 and counts["street"] >= 1000, counts
        # the planner names sites after the hostile Kitas and streets; two plans under hostile names
        scenarios = (names["jinja"] + " " + names["md_image"], names["img"] + " " + names["formula"])
        for p, name in zip(("3", "2"), scenarios, strict=True):
            done = _cli(
                env, "sites", "--area", STADT_AACHEN, "-p", p, "--radius-km", "1.5", "--osm", str(extract),
                "--places", "kita,ogs,integrationsagentur", "--fixed-layer", "none", "--no-sensitivity", "--save", name,
            )  # fmt: skip
            assert done.returncode == 0, done.stderr
        report_html, report_pdf = tmp / "bericht.html", tmp / "bericht.pdf"
        for out in (report_html, report_pdf):
            done = _cli(
                env, "report", "--area", AACHEN, "--layer", "kita", "--threshold-km", "3", "--scenario", scenarios[0],
                "--osm", str(extract), "-o", str(out),
            )  # fmt: skip
            assert done.returncode == 0, done.stderr
        yield HostileWorld(
            home, env, canary, canary_dir, names, extract, gemeinde_names, scenarios, report_html, report_pdf
        )
    finally:
        for key, value in old_env.items():
            os.environ.pop(key, None) if value is None else os.environ.__setitem__(key, value)
        canary.stop()


def _nothing_evaluated(world: HostileWorld) -> None:
    assert not world.canary_dir.exists(), "the os.mkdir payload ran"
    assert not world.canary.requests, [r.path for r in world.canary.requests]


# --- CLI and files -----------------------------------------------------------------------------------------


def test_the_plans_are_named_after_hostile_kitas_and_streets(world: HostileWorld) -> None:
    from geo.store.scenarios import load_scenario

    site_names = set()
    for name in world.scenarios:
        scenario = load_scenario(world.settings, name)
        assert scenario.name == name
        site_names |= set(scenario.sites["name"].astype(str))
    assert site_names & set(world.names.values()), site_names  # data names reached the plans
    _nothing_evaluated(world)


def test_report_html_and_pdf_show_the_hostile_names_as_text(world: HostileWorld) -> None:
    from geo.store.scenarios import load_scenario

    text, tags = html_text(world.report_html.read_text(encoding="utf-8"))
    assert "script" not in tags and "a" not in tags
    sites = list(load_scenario(world.settings, world.scenarios[0]).sites["name"].astype(str))
    for name in [world.scenarios[0], *sites]:
        assert name in text, name
    pdf = subprocess.run(["pdftotext", "-raw", str(world.report_pdf), "-"], capture_output=True, text=True, check=True)
    squeezed = re.sub(r"[\s\u200e\u200f\u202a-\u202e\u2066-\u2069]+", "", pdf.stdout)
    for name in [world.scenarios[0], *sites]:
        assert re.sub(r"[\s\u202a-\u202e]+", "", name) in squeezed, name
    _nothing_evaluated(world)


def test_exports_of_the_hostile_plan(world: HostileWorld, tmp_path: Path) -> None:
    import openpyxl

    for fmt in ("csv", "xlsx", "geojson", "gpkg"):
        out = tmp_path / f"plan.{fmt}"
        done = _cli(world.env, "export", "--scenario", world.scenarios[1], "-o", str(out))
        assert done.returncode == 0, done.stderr
    cells = pd.read_csv(tmp_path / "plan.csv", sep=";", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert not any(v.startswith(("=", "+", "-", "@")) for col in cells.columns for v in [col, *cells[col]])
    book = openpyxl.load_workbook(tmp_path / "plan.xlsx")
    assert not [c.coordinate for s in book for row in s.iter_rows() for c in row if c.data_type == "f"]
    doc = json.loads((tmp_path / "plan.geojson").read_text(encoding="utf-8"))
    assert doc["name"].endswith(world.scenarios[1]) or world.scenarios[1] in json.dumps(doc, ensure_ascii=False)


def test_zensus_and_gtfs_with_hostile_text(world: HostileWorld, tmp_path: Path) -> None:
    """Zensus values that are payloads are refused in German (the value as text); GTFS names stay data."""
    from test_transit import write_feed

    from geo.sources.gtfs import read_gtfs

    listed = list(world.names.values())
    zensus = tmp_path / "Zensus2022_Bevoelkerungszahl_100m-Gitter.csv"
    rows = [f"CRS3035RES100mN{3_092_000 + 100 * i}E{4_040_000};{_quoted(p)}" for i, p in enumerate(listed)]
    zensus.write_text("GITTER_ID_100m;Einwohner\n" + "\n".join(rows) + "\n", encoding="utf-8")
    done = _cli(world.env, "zensus", str(zensus))
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    assert "\x1b" not in done.stdout + done.stderr
    stops = "stop_id,stop_name,stop_lat,stop_lon\n" + "\n".join(
        f"S{i},{_quoted(p)},{50.77 + 0.01 * i:.3f},6.08" for i, p in enumerate(listed[:4])
    )
    routes = "route_id,route_short_name,route_long_name,route_type\n" + "\n".join(
        f"R{i},{_quoted(listed[i])},{_quoted(listed[-1 - i])},3" for i in (1, 2)
    )
    times = (
        "trip_id,arrival_time,departure_time,stop_id,stop_sequence\n"
        "r1a,07:02:00,07:02:00,S0,1\nr1a,07:05:00,07:05:00,S1,2\nr1b,07:12:00,07:12:00,S1,1\n"
        "r1b,07:15:00,07:15:00,S2,2\nr2a,07:07:00,07:07:00,S2,1\nr2a,07:15:00,07:15:00,S3,2\n"
    )
    feed = write_feed(tmp_path / "feed {{ 6*7 }}.zip", stops=stops, routes=routes, stop_times=times)  # synthetic
    timetable = read_gtfs(feed, day=date(2026, 3, 10), window=(7 * 3600, 9 * 3600))
    assert list(timetable.stop_names) == listed[:4]
    _nothing_evaluated(world)


# --- every page of the app (AppTest) -----------------------------------------------------------------------

PAGES = ("ui/pages/karte.py", "ui/pages/luecken.py", "ui/pages/standort.py", "ui/pages/daten.py", "ui/pages/bericht.py")


def _markdown_values(at: AppTest) -> list[str]:
    kinds = ("markdown", "caption", "info", "warning", "error", "success", "subheader", "title", "expander")
    out = []
    for kind in kinds:
        for element in at.get(kind):
            value = getattr(element, "value", None) or getattr(element, "label", None)
            if isinstance(value, str):
                out.append(value)
    return out


def _assert_inert(values: list[str], names: list[str]) -> None:
    """No Markdown value holds a hostile construct unescaped (escaped characters, ``\\x``, are dropped first)."""
    risky = [
        r for r in ("![", "](", "{{", "{%", "{#", "<img", "<script", "${", "javascript:") if any(r in n for n in names)
    ]
    for value in values:
        live = re.sub(r"\\.", "", value)
        assert not [r for r in risky if r in live], f"unescaped Markdown/HTML in {value[:200]!r}"


def test_every_page_renders_the_hostile_world(world: HostileWorld, monkeypatch: pytest.MonkeyPatch) -> None:
    from ui import state

    for key, value in world.env.items():
        monkeypatch.setenv(key, value)
    names = list(world.names.values())
    seen: list[str] = []
    for page in PAGES:
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
        at.session_state[state.SELECTED_AREA] = ("gemeinde", STADT_AACHEN)
        at.session_state["karte_level"] = "gemeinde"
        at.run()
        if page != PAGES[0]:
            at.switch_page(page).run()
        if page.endswith("luecken.py"):
            at.selectbox(key="luecken_layer").set_value("kita").run()
            at.selectbox(key="luecken_by").set_value("gemeinde").run()
        if page.endswith("bericht.py"):
            at.selectbox(key="bericht_area").set_value(AACHEN).run()
            at.selectbox(key="bericht_layer").set_value("kita").run()
            at.selectbox(key="bericht_scenario").set_value(world.scenarios[0]).run()
            at.button(key="bericht_build").click().run()
        assert not at.exception, (page, [e.message for e in at.exception])
        assert not at.error, (page, [e.value for e in at.error])
        values = _markdown_values(at)
        _assert_inert(values, names)
        seen += [shown_text(v) for v in values]
        seen += [str(o) for s in at.selectbox for o in s.options]
        seen += [str(v) for df in at.dataframe for v in df.value.astype(str).to_numpy().ravel()]
    everything = visible("\n".join(seen))
    assert world.gemeinde_names[STADT_AACHEN] in everything  # the profile of the renamed Stadt Aachen
    for name in world.scenarios:
        assert name in everything, name  # scenario names as text (selectboxes, captions, report)
    assert "Kommunales Integrationszentrum" in everything or names[0] in everything
    _nothing_evaluated(world)


# --- a real browser ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def app(world: HostileWorld) -> Iterator[Any]:
    from browser_support import StreamlitServer, browser_unavailable_reason

    if browser_unavailable_reason():
        pytest.skip(str(browser_unavailable_reason()))
    server = StreamlitServer(world.home, env=world.env).start()
    try:
        yield server
    finally:
        server.stop()


#: Scroll to the comparison of scenarios (true once its heading is there).
_SCROLL_TO_COMPARISON = """() => {
    const h = [...document.querySelectorAll("h2, h3")].find(e => e.textContent.includes("Szenarien vergleichen"));
    if (h) { h.scrollIntoView(); }
    return Boolean(h);
}"""

#: Every streamlit-folium map of the page has drawn its panes and at least one marker or path.
_ALL_MAPS_DRAWN = """() => {
    const frames = [...document.querySelectorAll('iframe[title="streamlit_folium.st_folium"]')];
    return frames.length >= 3 && frames.every(f => f.contentDocument
        && f.contentDocument.querySelector('.leaflet-map-pane')
        && f.contentDocument.querySelector('.leaflet-marker-icon, path.leaflet-interactive, .atlas-site-number'));
}"""

_MAP_TEXTS = """() => {
    const out = {tips: [], labels: [], legend: [], layers: [], evil: 0};
    const seen = new Set();
    window.map.eachLayer(function (l) {
        const tip = l.getTooltip && l.getTooltip();
        if (tip && !seen.has(tip) && typeof tip._content === "function") {
            seen.add(tip);
            (l.getLayers ? l.getLayers() : [l]).forEach(function (c) {
                const node = tip._content(c);
                if (node && node.textContent !== undefined) {
                    out.tips.push(node.textContent);
                    out.evil += node.querySelectorAll ? node.querySelectorAll("img,script,a").length : 0;
                }
            });
        }
    });
    document.querySelectorAll(".atlas-bg-label").forEach(e => out.labels.push(e.textContent));
    document.querySelectorAll(".atlas-legend").forEach(e => out.legend.push(e.textContent));
    document.querySelectorAll(".leaflet-control-layers label span").forEach(e => out.layers.push(e.textContent));
    out.evil += document.querySelectorAll("img[src='x'], .leaflet-pane script").length;
    out.pwned = window.atlasPwned === undefined ? null : window.atlasPwned;
    return out;
}"""


@pytest.mark.browser
def test_browser_hostile_extract_loads_draws_and_reports_as_text(world: HostileWorld, app: Any) -> None:
    """Upload the hostile extract, then the Karte of Aachen and the comparison of the hostile plans."""
    from browser_support import RequestLog, checked_page, chromium_browser, map_frame, map_window_js, wait_idle

    names = list(world.names.values())
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with chromium_browser() as browser, checked_page(browser, viewport={"width": 1366, "height": 900}) as page:
        requests = RequestLog().attach(page)
        page.goto(f"{app.url}/standortplanung")
        map_frame(page, timeout_ms=90_000)
        wait_idle(page, timeout_ms=120_000)
        page.get_by_text("Fahrzeit statt Entfernung").click()
        wait_idle(page)
        upload = page.locator('.st-key-standort_osm [data-testid="stFileUploaderDropzoneInput"]')
        upload.set_input_files(str(world.extract))
        wait_idle(page, timeout_ms=180_000)
        # the comparison of the two hostile plans: names as text in captions and select boxes
        wait_idle(page, timeout_ms=120_000)
        page.wait_for_function(_ALL_MAPS_DRAWN, timeout=90_000)
        # the maps' first events may rerun the page once more: scroll when the heading stays put
        page.wait_for_function(_SCROLL_TO_COMPARISON, timeout=30_000)
        wait_idle(page, timeout_ms=60_000)
        body = visible(page.inner_text("body"))
        for name in world.scenarios:
            assert name in body, name
        page.wait_for_timeout(800)
        page.screenshot(path=str(SCREENSHOTS / "injection-szenarien.png"))
        # the Karte of the same session: the extract's hostile place names as the background's labels
        page.get_by_role("link", name="Karte").click()
        page.get_by_label("Kreis oder Gemeinde suchen (Name oder AGS)").wait_for(timeout=90_000)
        wait_idle(page, timeout_ms=120_000)
        search = page.get_by_label("Kreis oder Gemeinde suchen (Name oder AGS)")
        search.fill(STADT_AACHEN)
        search.press("Enter")
        wait_idle(page, timeout_ms=120_000)
        map_frame(page, timeout_ms=90_000)
        # polled through the page: a rerun may replace the map's iframe (and its zoom) in the meantime
        page.wait_for_function(
            map_window_js(
                "w.atlasLayers && w.atlasLayers.osm_background && (w.map.getZoom() < 13"
                " ? (w.map.setView([50.776, 6.084], 13), false)"
                " : w.document.querySelectorAll('.atlas-bg-label').length >= 5)"
            ),
            timeout=90_000,
        )
        got = map_frame(page).evaluate(_MAP_TEXTS)
        page.wait_for_timeout(800)
        page.screenshot(path=str(SCREENSHOTS / "injection-karte-aachen.png"))
        profile = visible(page.inner_text("body"))
    assert got["pwned"] is None and got["evil"] == 0
    labels = set(got["labels"])
    assert labels and labels <= set(names) | {""}, labels - set(names)  # every place carries a hostile name, as text
    assert len(labels) >= 5, labels
    tips = "\n".join(got["tips"])
    assert sum(name in tips for name in names) >= 10, got["tips"][:5]  # facility tooltips: the names as text
    assert world.gemeinde_names[STADT_AACHEN] in profile  # the profile's heading (Markdown, escaped)
    assert not requests.external(), requests.external()
    _nothing_evaluated(world)


@pytest.mark.browser
def test_browser_report_html_shows_the_names_as_text(world: HostileWorld) -> None:
    from browser_support import browser_unavailable_reason, checked_page, chromium_browser

    if browser_unavailable_reason():
        pytest.skip(str(browser_unavailable_reason()))
    with chromium_browser() as browser, checked_page(browser) as page:
        page.goto(world.report_html.as_uri())
        text = page.inner_text("body")
        pwned = page.evaluate(f"() => window.{PWNED} === undefined")
        scripts = page.evaluate("() => document.scripts.length")
    assert pwned and scripts == 0
    assert world.scenarios[0] in text
    _nothing_evaluated(world)


def test_a_hostile_extract_is_not_an_error(world: HostileWorld) -> None:
    """The extract itself is valid data: names are only names (the background and networks read it)."""
    from geo.sources.osm_background import cached_background

    try:
        background = cached_background(world.extract, world.settings)
    except IntegrationsatlasError as exc:  # pragma: no cover - would be the bug
        raise AssertionError(f"hostile names made the extract unreadable: {exc}") from exc
    places = set(background.loc[background["kind"] == "place", "name"].dropna())
    assert places <= set(world.names.values()) and len(places) >= 5
