"""Run the real app for browser tests and benchmarks.

``StreamlitServer`` starts ``streamlit run app.py`` on a free loopback port
with an isolated ``INTEGRATIONSATLAS_HOME`` and waits for its health check;
``launch_chromium`` starts Debian's Chromium through Playwright (never
``playwright install``). Used by ``tests/test_browser.py`` and
``benchmarks/bench_app.py``.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

PROJECT_ROOT = Path(__file__).resolve().parent.parent
#: Where tests write screenshots: a git-ignored folder (tests never rewrite a tracked file).
#: ``make screenshots`` copies them into ``docs/screenshots/`` on purpose.
SCREENSHOTS = PROJECT_ROOT / "test-results" / "screenshots"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-dev-shm-usage"]
#: The iframe of the streamlit-folium component.
MAP_IFRAME = 'iframe[title="streamlit_folium.st_folium"]'
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}


def offline_cli(home: Path, *argv: str) -> None:
    """Run ``integrationsatlas ARGV`` offline on the store ``home`` in a child process (preparing a server's data)."""
    env = {**os.environ, "INTEGRATIONSATLAS_HOME": str(home), "INTEGRATIONSATLAS_OFFLINE": "1"}
    env["PYTHONPATH"] = str(PROJECT_ROOT)
    env.pop("INTEGRATIONSATLAS_DATABASE_URL", None)
    subprocess.run([sys.executable, "-m", "integrationsatlas.cli", *argv], cwd=PROJECT_ROOT, env=env, check=True,
                   capture_output=True)  # fmt: skip


def browser_unavailable_reason() -> str | None:
    """Why browser tests cannot run here, or ``None`` when they can."""
    if not CHROMIUM.exists():
        return f"{CHROMIUM} fehlt (Debian-Paket »chromium« installieren)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Python-Paket »playwright« fehlt (pip install playwright; kein »playwright install« nötig)"
    return None


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class StreamlitServer:
    """``streamlit run app.py`` on 127.0.0.1 with its own data store.

    Parameters
    ----------
    home
        ``INTEGRATIONSATLAS_HOME`` of the server (data store and cache).
    env
        Extra environment variables.
    script
        The script to run (relative to the project root, or absolute).
    """

    home: Path
    env: dict[str, str] = field(default_factory=dict)
    script: str = "app.py"
    port: int = 0
    process: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None

    @property
    def url(self) -> str:
        """Base URL of the running app."""
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> StreamlitServer:
        """Start the server and wait until ``/_stcore/health`` answers ``ok``."""
        self.port = self.port or free_port()
        self.home.mkdir(parents=True, exist_ok=True)
        env = {
            **os.environ,
            "INTEGRATIONSATLAS_HOME": str(self.home),
            "INTEGRATIONSATLAS_OFFLINE": "1",
            "PYTHONPATH": os.pathsep.join(filter(None, [str(PROJECT_ROOT), os.environ.get("PYTHONPATH")])),
            **self.env,
        }
        self.log_path = self.home / "streamlit.log"
        log = self.log_path.open("wb")
        cmd = [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            self.script,
            "--server.port",
            str(self.port),
            "--server.address",
            "127.0.0.1",
            "--server.headless",
            "true",
            "--browser.gatherUsageStats",
            "false",
            "--server.fileWatcherType",
            "none",
        ]
        self.process = subprocess.Popen(cmd, cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"streamlit ended early (exit {self.process.returncode}):\n{self.log()}")
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as resp:
                    if resp.read().strip() == b"ok":
                        return self
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"streamlit did not become healthy within {timeout} s:\n{self.log()}")

    def log(self) -> str:
        """The server's output so far."""
        return self.log_path.read_text(errors="replace") if self.log_path and self.log_path.exists() else ""

    def stop(self) -> None:
        """Terminate the server process (only this one)."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


@contextmanager
def running_app(home: Path, **env: str) -> Iterator[StreamlitServer]:
    """Context manager around :class:`StreamlitServer`."""
    server = StreamlitServer(home, env=dict(env)).start()
    try:
        yield server
    finally:
        server.stop()


def launch_chromium(playwright: Any, **kwargs: Any) -> Any:
    """Headless Debian Chromium through Playwright."""
    return playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS, **kwargs)


class RequestLog:
    """Records every request of a page (all frames) and flags non-loopback hosts."""

    def __init__(self) -> None:
        self.urls: list[str] = []

    def attach(self, page: Any) -> RequestLog:
        page.on("request", lambda req: self.urls.append(req.url))
        return self

    def external(self) -> list[str]:
        """Requests to hosts other than the loopback interface (data: and blob: URLs excluded)."""
        out = []
        for url in self.urls:
            parsed = urlparse(url)
            if parsed.scheme in ("data", "blob", "about"):
                continue
            if parsed.hostname not in LOOPBACK_HOSTS:
                out.append(url)
        return out


class ConsoleErrors:
    """Collects console errors and uncaught exceptions of a page and all its frames (the map iframe too).

    Every browser test attaches one to its page and fails when :meth:`check`
    finds anything: a broken map (``L.markerClusterGroup is not a function``,
    ``Map has no maxZoom specified``) shows up here before anything else.
    """

    #: Streamlit itself probes ``/<page>/_stcore/health`` and ``…/host-config`` when a page is opened by
    #: its URL (e.g. ``/versorgungsluecken``) and logs the 404 before it falls back to ``/_stcore/…``.
    STREAMLIT_PROBES = re.compile(r"/[^/]+/_stcore/(?:health|host-config)$")

    def __init__(self) -> None:
        self.errors: list[str] = []

    def attach(self, page: Any) -> ConsoleErrors:
        def on_console(msg: Any) -> None:
            if msg.type == "error":
                where = (msg.location or {}).get("url", "")
                if self.STREAMLIT_PROBES.search(where) and "404" in msg.text:
                    return
                self.errors.append(f"console.error {where}: {msg.text}")

        page.on("console", on_console)
        page.on("pageerror", lambda exc: self.errors.append(f"Fehler im Skript: {exc}"))
        return self

    def check(self) -> None:
        """Raise ``AssertionError`` listing every error seen so far."""
        if self.errors:
            raise AssertionError("Fehler in der Browser-Konsole:\n" + "\n".join(self.errors))


@contextmanager
def chromium_browser() -> Iterator[Any]:
    """Playwright with Debian's Chromium, for a module-scoped ``browser`` fixture."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = launch_chromium(pw)
        yield chromium
        chromium.close()


@contextmanager
def checked_page(browser: Any, **context_options: Any) -> Iterator[Any]:
    """A fresh page in its own context that fails the test on any console error (page or map iframe)."""
    context = browser.new_context(**context_options)
    page = context.new_page()
    page.set_default_timeout(60_000)
    errors = ConsoleErrors().attach(page)
    page.atlas_console = errors
    try:
        yield page
        page.wait_for_timeout(200)
        errors.check()
    finally:
        context.close()


def map_window_js(expression: str) -> str:
    """JS that evaluates ``expression`` with ``w`` bound to the first map iframe's window (or ``null``)."""
    return (
        f"() => {{ const i = document.querySelector('{MAP_IFRAME}');"
        f" const w = i && i.contentWindow; if (!w || !w.map) return null; return ({expression}); }}"
    )


def layers_drawn(frame: Any) -> dict[str, list[int]]:
    """``{layer id: [points, drawn]}`` of the map's canvas point layers (``window.atlasLayers``)."""
    return dict(
        frame.evaluate(
            "() => Object.fromEntries(Object.entries(window.atlasLayers || {})"
            ".map(([k, v]) => [k, [v.count, v.drawn()]]))"
        )
    )


def map_frame(page: Any, index: int = 0, timeout_ms: float = 30_000) -> Any:
    """The Playwright ``Frame`` of the ``index``-th map, once Leaflet has drawn its panes."""
    page.wait_for_selector(MAP_IFRAME, state="attached", timeout=timeout_ms)
    handle = page.query_selector_all(MAP_IFRAME)[index]
    frame = handle.content_frame()
    frame.wait_for_selector(".leaflet-pane.leaflet-map-pane", state="attached", timeout=timeout_ms)
    return frame


def wait_idle(page: Any, timeout_ms: float = 30_000) -> None:
    """Wait until Streamlit has finished running the script (no »Running…« status)."""
    page.wait_for_timeout(150)
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=timeout_ms)


def chromium_path() -> str | None:
    """Path of Chromium if present (for reports)."""
    return shutil.which("chromium") or (str(CHROMIUM) if CHROMIUM.exists() else None)


def wait_settled(page: Any, timeout_ms: float = 120_000) -> None:
    """Wait until a page has a title and Streamlit has stopped running (after ``goto``, a click or a reload).

    Right after a navigation the status widget may not be there yet, so the
    page's ``h1`` is awaited first, then the end of the run, twice with a short
    pause (a run may trigger another one, e.g. the map's first event).
    """
    page.wait_for_selector('[data-testid="stMainBlockContainer"] h1', timeout=timeout_ms)
    for _ in range(2):
        wait_idle(page, timeout_ms)
        page.wait_for_timeout(300)
