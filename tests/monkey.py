"""A seeded random walk through the running app ("monkey"), for ``tests/test_browser_monkey.py``.

:class:`Monkey` drives one or more Playwright pages (tabs of the same app)
with random but valid interactions: follow a sidebar link, toggle the
language, reload, choose an option of a selectbox or radio, tick a checkbox or
toggle, move a slider by keyboard, step a number input, type a search term,
open an expander or a tab, press a button that does not delete anything, click
into a map. The choices come from one ``random.Random(seed)``, so a seed
replays the same walk (timing aside). After every step the page must show no
exception box and no unexpected-error message; console errors of the page and
its map iframes are collected by :class:`browser_support.ConsoleErrors`.
"""

from __future__ import annotations

import random
import re
import time
from dataclasses import dataclass, field
from typing import Any

from browser_support import MAP_IFRAME, wait_settled

#: Pages of the sidebar (German and English link texts).
PAGES = (
    ("Karte", "Map"),
    ("Versorgungslücken", "Coverage gaps"),
    ("Standortplanung", "Site planning"),
    ("Daten", "Data"),
    ("Bericht", "Report"),
    ("Barrierefreiheit", "Accessibility"),
)
#: Keys of buttons a planner's random day must not press: they delete or overwrite the shared store, or fetch.
UNSAFE_KEYS = re.compile(r"delete|restore|remove|clear_store|fetch_run|import|save|overwrite|logout|login")
#: What a planner types into a search box.
SEARCH_TERMS = ("Aachen", "Köln", "05334", "Wesel", "Münster", "Bad", "Atlantis", "05", "Düren")
#: The German and English texts of the unexpected-error message (ui.failures).
FAILURE_MARKERS = ("ein Fehler im Programm", "an error in the program")


@dataclass
class Step:
    """One interaction, for the trail printed when the walk fails."""

    tab: int
    action: str
    detail: str = ""
    seconds: float = 0.0

    def __str__(self) -> str:
        return f"Tab {self.tab}: {self.action} {self.detail} ({self.seconds:.1f} s)"


@dataclass
class Monkey:
    """A seeded random walk over ``pages`` (Playwright pages of one app at ``url``)."""

    pages: list[Any]
    url: str
    seed: int
    trail: list[Step] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)

    # --- the walk ---------------------------------------------------------------------------------

    def walk(self, steps: int) -> None:
        """Make ``steps`` random interactions, checking the page after each one."""
        actions = (
            (self.navigate, 14),
            (self.choose_select, 14),
            (self.choose_radio, 10),
            (self.tick, 6),
            (self.slide, 8),
            (self.step_number, 8),
            (self.search, 6),
            (self.expand, 5),
            (self.press_button, 6),
            (self.click_map, 8),
            (self.toggle_language, 4),
            (self.reload, 3),
        )
        functions = [a for a, _ in actions]
        weights = [w for _, w in actions]
        for _ in range(steps):
            tab = self.rng.randrange(len(self.pages))
            page = self.pages[tab]
            began = time.monotonic()
            for _attempt in range(8):  # an action the page does not offer is drawn again
                action = self.rng.choices(functions, weights)[0]
                detail = action(page)
                if detail is not None:
                    break
            step = Step(tab, action.__name__, detail or "")
            self.trail.append(step)
            wait_settled(page)
            step.seconds = time.monotonic() - began
            self.check(page)

    def check(self, page: Any) -> None:
        """No exception box and no unexpected-error message on ``page``."""
        boxes = page.locator('[data-testid="stException"]')
        if boxes.count():
            raise AssertionError(self.report("Fehlerkasten", boxes.first.inner_text()[:800]))
        for alert in page.locator('[data-testid="stAlert"]').all():
            text = alert.inner_text()
            if any(marker in text for marker in FAILURE_MARKERS):
                raise AssertionError(self.report("unerwarteter Fehler", text[:400]))

    def report(self, what: str, detail: str) -> str:
        """The failure with the seed and the steps that led to it."""
        trail = "\n".join(f"  {i + 1:3d}. {s}" for i, s in enumerate(self.trail[-25:]))
        return (
            f"Monkey (Seed {self.seed}): {what} nach {len(self.trail)} Schritten:\n{detail}\nLetzte Schritte:\n{trail}"
        )

    # --- helpers ------------------------------------------------------------------------------------

    def _visible(self, page: Any, selector: str) -> list[Any]:
        main = page.locator("[data-testid='stMain'], [data-testid='stSidebar']")
        return [el for el in main.locator(selector).all() if el.is_visible() and el.is_enabled()]

    def _pick(self, items: list[Any]) -> Any | None:
        return items[self.rng.randrange(len(items))] if items else None

    @staticmethod
    def _english(page: Any) -> bool:
        return page.locator("[data-testid='stSidebarNav'] a").filter(has_text="Coverage gaps").count() > 0

    # --- actions ------------------------------------------------------------------------------------

    def navigate(self, page: Any) -> str:
        german, english = self._pick(list(PAGES))
        name = english if self._english(page) else german
        link = page.locator("[data-testid='stSidebarNav'] a").filter(has_text=name).first
        link.click()
        return name

    def toggle_language(self, page: Any) -> str:
        target = "Deutsch" if self._english(page) else "English"
        page.locator("section[data-testid='stSidebar']").get_by_text(target, exact=True).click()
        return target

    def reload(self, page: Any) -> str:
        page.reload()
        return page.url

    def choose_select(self, page: Any) -> str | None:
        box = self._pick(self._visible(page, "[data-testid='stSelectbox'], [data-testid='stMultiSelect']"))
        if box is None:
            return None
        box.locator("[role='combobox']").first.click()
        options = [o for o in page.locator("[role='option']").all() if o.is_visible()]
        option = self._pick(options)
        if option is None:
            page.keyboard.press("Escape")
            return "leere Liste"
        label = option.inner_text()[:60]
        option.click()
        page.keyboard.press("Escape")  # a multiselect stays open
        return label

    def choose_radio(self, page: Any) -> str | None:
        label = self._pick(self._visible(page, "[data-testid='stRadio'] label"))
        if label is None:
            return None
        text = label.inner_text()[:60]
        label.click()
        return text

    def tick(self, page: Any) -> str | None:
        box = self._pick(self._visible(page, "[data-testid='stCheckbox'] label, [data-testid='stToggle'] label"))
        if box is None:
            return None
        text = box.inner_text()[:60]
        box.click()
        return text

    def slide(self, page: Any) -> str | None:
        thumb = self._pick(self._visible(page, "[role='slider']"))
        if thumb is None:
            return None
        key = self.rng.choice(["ArrowRight", "ArrowLeft", "ArrowRight", "End", "Home"])
        thumb.focus()
        thumb.press(key)
        page.keyboard.press("Tab")  # Streamlit takes a slider's value when it is released
        return key

    def step_number(self, page: Any) -> str | None:
        button = self._pick(
            self._visible(page, "[data-testid='stNumberInputStepUp'], [data-testid='stNumberInputStepDown']")
        )
        if button is None:
            return None
        button.click()
        return button.get_attribute("data-testid") or ""

    def search(self, page: Any) -> str | None:
        field_ = self._pick(self._visible(page, "[data-testid='stTextInput'] input"))
        if field_ is None:
            return None
        term = self.rng.choice(SEARCH_TERMS) if self.rng.random() < 0.85 else ""
        field_.fill(term)
        field_.press("Enter")
        return term or "(leer)"

    def expand(self, page: Any) -> str | None:
        summary = self._pick(self._visible(page, "[data-testid='stExpander'] summary, [data-baseweb='tab']"))
        if summary is None:
            return None
        text = summary.inner_text()[:60]
        summary.click()
        return text

    def press_button(self, page: Any) -> str | None:
        candidates = []
        for button in self._visible(page, "[data-testid='stButton'] button, [data-testid='stDownloadButton'] button"):
            container = button.locator("xpath=ancestor::div[contains(@class, 'st-key-')][1]")
            classes = container.get_attribute("class") if container.count() else ""
            if classes and UNSAFE_KEYS.search(classes):
                continue
            candidates.append(button)
        button = self._pick(candidates)
        if button is None:
            return None
        text = button.inner_text()[:60]
        button.click()
        return text

    def click_map(self, page: Any) -> str | None:
        maps = [m for m in page.locator(MAP_IFRAME).all() if m.is_visible()]
        frame_el = self._pick(maps)
        if frame_el is None:
            return None
        frame_el.scroll_into_view_if_needed()
        box = frame_el.bounding_box()
        if not box:
            return None
        x = box["x"] + box["width"] * self.rng.uniform(0.3, 0.7)
        y = box["y"] + box["height"] * self.rng.uniform(0.3, 0.7)
        page.mouse.click(x, y)
        page.wait_for_timeout(400)  # the component sends the click after a short debounce
        return f"({x:.0f}, {y:.0f})"
