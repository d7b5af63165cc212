"""Browser test: on the Bericht page a council report downloads and is a valid PDF.

Runs the real app (``streamlit run app.py``) on 127.0.0.1 with an isolated
store and Debian's headless Chromium through Playwright; saves
``test-results/screenshots/bericht.png`` (``make screenshots`` copies it into ``docs/screenshots/``).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser_support import (
    SCREENSHOTS,
    RequestLog,
    browser_unavailable_reason,
    checked_page,
    launch_chromium,
    running_app,
    wait_idle,
)

from geo.layers.loading import load_layer
from geo.settings import Settings

pytestmark = pytest.mark.browser

SCREENSHOT = SCREENSHOTS / "bericht.png"
_REASON = browser_unavailable_reason()


@pytest.fixture(scope="module")
def app_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if _REASON:
        pytest.skip(_REASON)
    for layer in ("land", "kreis", "ki", "orte"):  # shipped data that does not load is a bug: fail loudly
        assert len(load_layer(layer, Settings())) > 0, layer
    with running_app(tmp_path_factory.mktemp("bericht_home")) as server:
        yield server.url


def test_report_downloads_as_valid_pdf(app_url: str, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = launch_chromium(pw)
        try:
            with checked_page(browser, viewport={"width": 1400, "height": 1000}, accept_downloads=True) as page:
                requests = RequestLog().attach(page)
                page.goto(f"{app_url}/bericht", wait_until="domcontentloaded")
                build = page.get_by_role("button", name="Bericht erstellen")
                build.wait_for(timeout=60_000)
                wait_idle(page)
                _choose(page, "Gebiet", "Städteregion Aachen")
                build.click()
                download_button = page.get_by_role("button", name=re.compile(r"^PDF herunterladen"))
                download_button.wait_for(timeout=120_000)
                wait_idle(page)
                with page.expect_download(timeout=60_000) as info:
                    download_button.click()
                path = tmp_path / "bericht.pdf"
                info.value.save_as(path)
                assert info.value.suggested_filename.startswith("Bericht_05334_")
                page.get_by_text("ist fertig").first.scroll_into_view_if_needed()
                page.screenshot(path=str(SCREENSHOT), full_page=True)
                assert not requests.external(), requests.external()
        finally:
            browser.close()
    data = path.read_bytes()
    assert data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF")
    if shutil.which("pdfinfo"):
        info_text = subprocess.run(["pdfinfo", str(path)], check=True, capture_output=True, text=True).stdout
        assert int(re.search(r"^Pages:\s+(\d+)$", info_text, re.M).group(1)) >= 2  # type: ignore[union-attr]
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", str(path), "-"], check=True, capture_output=True, text=True).stdout
        assert "Städteregion Aachen" in text and "© OpenStreetMap contributors (ODbL)" in text


def _choose(page: Any, label: str, option: str) -> None:
    """Pick ``option`` in the Streamlit selectbox labelled ``label`` (typing filters the list)."""
    box = page.get_by_label(re.compile(f"^{re.escape(label)}"))
    box.click()
    page.keyboard.type(option)
    page.get_by_role("option", name=re.compile(re.escape(option))).first.click()
    wait_idle(page)
