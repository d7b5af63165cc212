"""The app survives a working day: a seeded random walk over every page, in two tabs at once (issue 20).

The store holds the shared real data a planner loads (:mod:`app_data`). Each
seed of :data:`SEEDS` makes :data:`STEPS` random but valid interactions
(:mod:`monkey`): sidebar links, language toggle, reloads, selectboxes, radios,
checkboxes, sliders, number inputs, searches, expanders, buttons that delete
nothing, clicks into the maps. It fails on an exception box, on the German
unexpected-error message (:mod:`ui.failures`), on any console error of the
page or a map iframe, and on an unexpected error in the server log.
``INTEGRATIONSATLAS_MONKEY_SEEDS`` and ``INTEGRATIONSATLAS_MONKEY_STEPS`` override
the defaults (e.g. a long walk before a release).

Seeds that found bugs stay in :data:`REGRESSION_SEEDS` with the bug they found;
the two crashes of the issue also have scripted regression tests here.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from app_data import build_planner_home, copy_home
from axe_support import run_axe, serious
from browser_support import (
    MAP_IFRAME,
    SCREENSHOTS,
    ConsoleErrors,
    StreamlitServer,
    browser_unavailable_reason,
    chromium_browser,
    wait_settled,
)
from monkey import PAGES, Monkey

pytestmark = [
    pytest.mark.browser,
    pytest.mark.shared,
    pytest.mark.slow,
    pytest.mark.skipif(browser_unavailable_reason() is not None, reason=str(browser_unavailable_reason())),
]

#: Seeds of the random walk in every CI run.
SEEDS = tuple(int(s) for s in os.environ.get("INTEGRATIONSATLAS_MONKEY_SEEDS", "11,23,47").split(","))
#: Interactions per seed (over both tabs).
STEPS = int(os.environ.get("INTEGRATIONSATLAS_MONKEY_STEPS", "100"))
#: Seeds that found a bug, with the bug (they run in every CI run).
REGRESSION_SEEDS: dict[int, str] = {}
VIEWPORT = {"width": 1366, "height": 768}
#: The screens the first-screen test is tried on: a common office laptop and a full-HD monitor.
SCREENS = ({"width": 1366, "height": 768}, {"width": 1920, "height": 1080})


@pytest.fixture(scope="module")
def planner_home(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> Path:
    """The shared real data, imported once."""
    return build_planner_home(tmp_path_factory.mktemp("monkey-data"), shared_data)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, planner_home: Path) -> Iterator[StreamlitServer]:
    srv = StreamlitServer(copy_home(planner_home, tmp_path_factory.mktemp("monkey-home"))).start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium_browser() as chromium:
        yield chromium


def _unexpected_in_log(server: StreamlitServer, since: int) -> str:
    log = server.log()[since:]
    markers = ("Unerwarteter Fehler", "Traceback (most recent call last)", "CacheReplayClosureError")
    return log if any(m in log for m in markers) else ""


@pytest.mark.parametrize("seed", sorted({*SEEDS, *REGRESSION_SEEDS}))
def test_random_walk_in_two_tabs(server: StreamlitServer, browser: Any, seed: int) -> None:
    start = len(server.log())
    context = browser.new_context(viewport=VIEWPORT)
    errors = ConsoleErrors()
    tabs = []
    try:
        for _ in range(2):
            page = context.new_page()
            page.set_default_timeout(120_000)
            errors.attach(page)
            page.goto(server.url)
            wait_settled(page)
            tabs.append(page)
        monkey = Monkey(tabs, server.url, seed)
        try:
            monkey.walk(STEPS)
        except AssertionError as exc:  # the reference id of an unexpected error leads to its traceback here
            raise AssertionError(f"{exc}\nServer-Protokoll:\n{server.log()[start:][-5000:]}") from None
        finally:
            print("\n".join(str(step) for step in monkey.trail))
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            tabs[0].screenshot(path=str(SCREENSHOTS / f"monkey-seed{seed}.png"))
        assert not errors.errors, monkey.report("Konsolenfehler", "\n".join(errors.errors[:10]))
        # wherever the walk ended, the page is still accessible
        found = serious(run_axe(tabs[0]))
        assert not found, monkey.report("axe-core", str(found)[:1500])
    finally:
        context.close()
    log = _unexpected_in_log(server, start)
    assert not log, f"Seed {seed}: unerwarteter Fehler im Server-Protokoll:\n{log[-3000:]}"


def _axe_everywhere(page: Any) -> list[str]:
    """Serious/critical axe violations of the page and of each map iframe, one line each."""
    found = [f"{v['id']}: {v['help']} {v['nodes'][:2]}" for v in serious(run_axe(page))]
    for frame in page.frames[1:]:
        if frame.url.startswith(("about:", "data:")) or not frame.url:
            continue
        found += [f"[{frame.url[:60]}] {v['id']}: {v['help']} {v['nodes'][:2]}" for v in serious(run_axe(frame))]
    return found


def test_every_page_in_both_languages_has_no_serious_axe_violation(server: StreamlitServer, browser: Any) -> None:
    """BITV 2.0 / WCAG 2.1 AA: axe-core finds nothing serious or critical on any page, German or English."""
    found: dict[str, list[str]] = {}
    with _karte_session(server, browser) as (page, errors):
        for language, column in (("Deutsch", 0), ("English", 1)):
            if language == "English":
                page.locator("section[data-testid='stSidebar']").get_by_text("English", exact=True).click()
                wait_settled(page)
            for names in PAGES:
                page.locator("[data-testid='stSidebarNav'] a").filter(has_text=names[column]).first.click()
                wait_settled(page)
                page.wait_for_timeout(500)  # the map iframes draw after the run
                problems = _axe_everywhere(page)
                if problems:
                    found[f"{names[column]} ({language})"] = problems
        assert not errors.errors, errors.errors
    assert len(found) == 0, "\n".join(f"{where}: {p}" for where, ps in found.items() for p in ps)[:4000]


@contextmanager
def _karte_session(
    server: StreamlitServer, browser: Any, viewport: dict[str, int] = VIEWPORT
) -> Iterator[tuple[Any, ConsoleErrors]]:
    """A fresh browser session (1366×768 unless told) with the Karte open; console errors are collected."""
    context = browser.new_context(viewport=viewport)
    errors = ConsoleErrors()
    try:
        page = context.new_page()
        page.set_default_timeout(120_000)
        errors.attach(page)
        page.goto(server.url)
        wait_settled(page)
        yield page, errors
    finally:
        context.close()


def test_english_keeps_the_chosen_level_and_indicator(server: StreamlitServer, browser: Any) -> None:
    """Regression: after »English« the Karte broke with ``KeyError: 'Kreis'`` (labels were the widgets' values)."""
    with _karte_session(server, browser) as (page, errors):
        page.locator("[data-testid='stRadio'] label").filter(has_text="Gemeinde").first.click()
        wait_settled(page)
        page.locator("[data-testid='stSelectbox']").first.locator("[role='combobox']").click()
        page.get_by_role("option", name="Ausländeranteil (%)").click()
        wait_settled(page)
        page.locator("section[data-testid='stSidebar']").get_by_text("English", exact=True).click()
        wait_settled(page)
        # the choices are kept, now labelled in English
        radio = page.locator("[data-testid='stRadio']").filter(has_text="Municipality")
        assert radio.locator("input:checked").count() == 1
        checked = radio.locator("label").filter(has=page.locator("input:checked")).inner_text()
        assert "Municipality" in checked, checked
        assert "foreign nationals" in _shown(page.locator("[data-testid='stSelectbox']").first)
        # and the next interactions work (the crash came on the next one)
        page.locator("[data-testid='stRadio'] label").filter(has_text="District").first.click()
        wait_settled(page)
        page.locator("section[data-testid='stSidebar']").get_by_text("Deutsch", exact=True).click()
        wait_settled(page)
        assert page.locator("[data-testid='stException']").count() == 0
        assert "Ausländeranteil" in _shown(page.locator("[data-testid='stSelectbox']").first)
        assert not errors.errors, errors.errors


def _shown(locator: Any) -> str:
    """What a widget shows: its text and the values of its inputs (a selectbox shows its choice in an input)."""
    return " ".join([locator.inner_text(), *(i.input_value() for i in locator.locator("input").all())])


def _bottom(locator: Any) -> float:
    box = locator.bounding_box()
    assert box is not None
    return float(box["y"] + box["height"])


@pytest.mark.parametrize("viewport", SCREENS, ids=lambda v: f"{v['width']}x{v['height']}")
def test_map_and_key_figures_fit_the_first_screen(
    server: StreamlitServer, browser: Any, viewport: dict[str, int]
) -> None:
    """Issue 20: the gap map was mostly below the fold, and an ambiguous search pushed the Karte's map down.

    Each page is saved as a screenshot per screen size (``test-results/screenshots/erster-bildschirm-*``).
    """
    height, size = viewport["height"], f"{viewport['width']}x{viewport['height']}"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with _karte_session(server, browser, viewport) as (page, errors):
        karte_map = page.locator(MAP_IFRAME).first
        karte_map.wait_for()
        wait_settled(page)  # on a loaded machine the rows above the map may still be coming in
        top = karte_map.bounding_box()["y"]
        assert _bottom(karte_map) <= height
        page.screenshot(path=str(SCREENSHOTS / f"erster-bildschirm-{size}-karte.png"))
        search = page.locator("[data-testid='stTextInput'] input").first
        search.fill("Bad")  # many hits: Bad Honnef, Bad Oeynhausen, …
        search.press("Enter")
        wait_settled(page)
        assert any("Bad " in _shown(box) for box in page.locator("[data-testid='stSelectbox']").all())
        assert abs(page.locator(MAP_IFRAME).first.bounding_box()["y"] - top) < 2, "the hits pushed the map down"
        page.screenshot(path=str(SCREENSHOTS / f"erster-bildschirm-{size}-karte-suche.png"))
        nav = page.locator("[data-testid='stSidebarNav'] a")
        nav.filter(has_text="Versorgungslücken").first.click()
        wait_settled(page)
        gap_map = page.locator(MAP_IFRAME).first
        gap_map.wait_for()
        assert _bottom(gap_map) <= height, "the gap map runs below the first screen"
        metrics = page.locator("[data-testid='stMetric']").all()
        assert len(metrics) >= 3 and all(_bottom(m) <= height for m in metrics)
        page.screenshot(path=str(SCREENSHOTS / f"erster-bildschirm-{size}-versorgungsluecken.png"))
        for title, slug in (("Standortplanung", "standortplanung"), ("Daten", "daten"), ("Bericht", "bericht")):
            nav.filter(has_text=title).first.click()
            wait_settled(page)
            page.get_by_role("heading", name=title).first.wait_for()
            page.screenshot(path=str(SCREENSHOTS / f"erster-bildschirm-{size}-{slug}.png"))
        assert not errors.errors, errors.errors
