"""Browser tests of the server with login: mock identity provider, two app replicas, one PostGIS database.

Everything runs on 127.0.0.1: ``oidc-provider-mock`` with users in the roles
``planung``, ``rat`` and ``admin``, two ``streamlit run serve.py`` replicas
sharing a database set up for the roles (:mod:`server_support`), Debian's
headless Chromium. The accommodation points are synthetic (not real
addresses), imported by ``planung`` before the ``rat`` user looks.

Checks: an anonymous visitor sees only the login; ``rat`` sees no import or
delete controls and no exact coordinate of an accommodation point (any
5-decimal rendering of longitude or latitude, or the metres in EPSG:25832)
anywhere in the pages, the map iframes or any download; ``planung`` imports
and plans; ``admin`` restores a deletion; all of it is in the audit log.
Screenshots go to ``test-results/screenshots/server_*.png``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pytest
from browser_support import (
    MAP_IFRAME,
    RequestLog,
    browser_unavailable_reason,
    checked_page,
    chromium_browser,
    map_frame,
    wait_idle,
)
from server_stack import IDP_CDN, USERS, ServerStack, layer_file_input, login, offline_idp, server_stack

from geo.settings import PROJECTED_CRS
from geo.store.audit import Actor, acting_as, audit_frame
from geo.store.postgis import PostgisStore, engine_for

if TYPE_CHECKING:
    from server_support import ServerDb

pytest_plugins = ("store_backends", "server_support")
pytestmark = pytest.mark.browser

#: Git-ignored (tests never rewrite tracked files); chosen ones are copied to docs/screenshots by hand.
SCREENSHOTS = Path(__file__).resolve().parent.parent / "test-results" / "screenshots"
_REASON = browser_unavailable_reason()

#: Synthetic accommodation in Aachen (EPSG:25832): four in one 500 m cell, three spread out.
ACCOMMODATION_XY = [
    (294_061.37, 5_628_113.81),
    (294_242.92, 5_628_331.44),
    (294_417.55, 5_628_084.29),
    (294_333.18, 5_628_456.02),
    (296_133.71, 5_629_472.66),
    (297_914.84, 5_625_753.12),
    (292_180.46, 5_631_205.93),
]


def accommodation() -> gpd.GeoDataFrame:
    x, y = np.array(ACCOMMODATION_XY).T
    n = len(x)
    return gpd.GeoDataFrame(
        {
            "id": [f"unterkunft-{i}" for i in range(n)],
            "name": [f"Unterkunft Testweg {i}" for i in range(n)],
            "strasse": [f"Testweg {i}" for i in range(n)],
            "kapazitaet": [20 + i for i in range(n)],
            "gemeinde_ags": ["05334002"] * n,
            "kreis_ags": ["05334"] * n,
            "location_precision": ["Adresse"] * n,
        },
        geometry=gpd.points_from_xy(x, y),
        crs=PROJECTED_CRS,
    )


def exact_renderings() -> list[str]:
    """Every way an exact position could be printed: lon/lat to 5 decimals (. or ,) and EPSG:25832 metres."""
    points = accommodation()
    lonlat = points.to_crs("EPSG:4326")
    out = []
    for lon, lat in zip(lonlat.geometry.x, lonlat.geometry.y, strict=True):
        for value in (lon, lat):
            text = f"{value:.5f}"
            out += [text, text.replace(".", ",")]
    for x, y in ACCOMMODATION_XY:
        out += [f"{x:.0f}", f"{y:.0f}", f"{x:.1f}", f"{y:.1f}"]
    return out


@pytest.fixture(scope="module")
def stack(
    postgres_cluster: Any, server_roles: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[ServerStack, ServerDb]]:
    if _REASON:
        pytest.skip(_REASON)
    from server_support import server_db_context

    root = tmp_path_factory.mktemp("server")
    with server_db_context(postgres_cluster, server_roles, root) as db:
        with acting_as(Actor(USERS["planung"], "planung", {"test": "vorbereitung"})):
            PostgisStore(db.url("planung")).write_layer(
                "wohnprojekt",
                accommodation(),
                mode="append",
                source_file="unterkuenfte.csv",
                source="import",
                licence="-",
            )
        with server_stack(root / "stack", db.urls, time_limit_s=600) as running:
            yield running, db


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    if _REASON:
        pytest.skip(_REASON)
    with chromium_browser() as chromium:
        yield chromium


def test_anonymous_visitor_sees_only_the_login(stack: tuple[ServerStack, ServerDb], browser: Any) -> None:
    running, _db = stack
    with checked_page(browser, viewport={"width": 1300, "height": 800}) as page:
        page.goto(running.replicas[1].url)
        page.get_by_role("button", name="Anmelden").wait_for()
        wait_idle(page)
        page.screenshot(path=str(SCREENSHOTS / "server_login.png"))
        _only_login(page)
        page.goto(f"{running.replicas[1].url}/daten")  # a page's address shows the login too
        page.get_by_role("button", name="Anmelden").wait_for()
        wait_idle(page)
        _only_login(page)


def _only_login(page: Any) -> None:
    body = page.inner_text("body")
    assert "Bitte melden Sie sich" in body
    for hidden in ("Versorgungslücken", "Standortplanung", "Bericht", "Datei hochladen", "Unterkunft", "Kita"):
        assert hidden not in body, hidden
    assert page.locator('[data-testid="stSidebarNav"]').count() == 0
    assert page.locator(MAP_IFRAME).count() == 0


class WebSocketLog:
    """Every websocket frame a page receives (Streamlit sends pages, tables and map HTML this way)."""

    def __init__(self) -> None:
        self.frames: list[str] = []

    def attach(self, page: Any) -> WebSocketLog:
        def on_socket(ws: Any) -> None:
            ws.on("framereceived", self._add)

        page.on("websocket", on_socket)
        return self

    def _add(self, payload: str | bytes) -> None:
        self.frames.append(payload.decode("utf-8", errors="replace") if isinstance(payload, bytes) else payload)

    def text(self) -> str:
        return "\n".join(self.frames)


def leaks(text: str) -> list[str]:
    """Exact positions in ``text``: a point's longitude and latitude (5 decimals, . or ,) close together,
    or its EPSG:25832 metres close together.

    A lone 5-decimal number could be part of a boundary's coordinate by chance; an exact position
    shows up as a pair (GeoJSON ``[lon, lat]``, CSV columns, a tooltip), which a boundary passing
    more than a metre from the point never produces.
    """
    found = []
    lonlat = accommodation().to_crs("EPSG:4326")
    pairs = [(f"{lon:.5f}", f"{lat:.5f}") for lon, lat in zip(lonlat.geometry.x, lonlat.geometry.y, strict=True)] + [
        (f"{x:.0f}", f"{y:.0f}") for x, y in ACCOMMODATION_XY
    ]
    for a, b in pairs:
        for sep in (".", ","):
            a_s, b_s = a.replace(".", sep), b.replace(".", sep)
            a_at = [m.start() for m in re.finditer(re.escape(a_s), text)]
            b_at = [m.start() for m in re.finditer(re.escape(b_s), text)]
            if any(abs(i - j) < 80 for i in a_at for j in b_at):
                found.append(f"{a_s} / {b_s}")
    return found


def _texts_of_pages(page: Any, base: str, paths: tuple[str, ...], shots: str) -> dict[str, str]:
    """The HTML of each page and of its map iframes."""
    texts = {}
    for path in paths:
        page.goto(f"{base}/{path}")
        page.get_by_text("Datenquellen:").first.wait_for(timeout=180_000)  # the footer: the page is complete
        wait_idle(page, 120_000)
        if page.locator(MAP_IFRAME).count():
            map_frame(page)
            wait_idle(page, 120_000)
        texts[path] = page.content()
        for i, frame in enumerate(f for f in page.frames if f != page.main_frame):
            texts[f"{path} iframe {i}"] = frame.content()
        page.screenshot(path=str(SCREENSHOTS / f"server_{shots}_{path or 'karte'}.png"), full_page=True)
    return texts


def _download(page: Any, button: Any, tmp_path: Path) -> str:
    with page.expect_download(timeout=120_000) as info:
        button.click()
    target = tmp_path / info.value.suggested_filename
    info.value.save_as(target)
    page.wait_for_timeout(500)
    wait_idle(page, 120_000)  # with login the click is recorded (a rerun)
    data = target.read_bytes()
    return data.decode("utf-8-sig", errors="replace") if not data.startswith(b"%PDF") else _pdf_text(target)


def _pdf_text(path: Path) -> str:
    import shutil
    import subprocess

    if not shutil.which("pdftotext"):
        return path.read_bytes().decode("latin-1")
    return subprocess.run(["pdftotext", str(path), "-"], check=True, capture_output=True, text=True).stdout


def _choose(page: Any, label: str, option: str, typed: str | None = None, *, last: bool = False) -> None:
    """Pick ``option`` in the Streamlit selectbox labelled ``label`` (typing ``typed`` filters the list)."""
    boxes = page.get_by_label(re.compile(f"^{re.escape(label)}"))
    box = boxes.last if last else boxes.first
    box.click()
    page.keyboard.type(typed or option)
    page.get_by_role("option", name=re.compile(re.escape(option))).first.click()
    wait_idle(page, 120_000)


def test_rat_sees_no_import_controls_and_no_exact_position(
    stack: tuple[ServerStack, ServerDb], browser: Any, tmp_path: Path
) -> None:
    running, db = stack
    base = running.replicas[0].url
    with checked_page(browser, viewport={"width": 1400, "height": 1000}, accept_downloads=True) as page:
        offline_idp(page.context)
        requests = RequestLog().attach(page)
        received = WebSocketLog().attach(page)  # everything the app server sends to this browser
        login(page, base, "rat")
        texts = _texts_of_pages(page, base, ("", "versorgungsluecken", "daten", "standortplanung"), "rat")
        texts["websocket (Karte …)"] = received.text()
        # no import, fetch, delete or restore controls; no audit log
        page.goto(f"{base}/daten")
        page.get_by_text("Bestand aller Ebenen").first.wait_for()
        wait_idle(page)
        body = page.inner_text("body")
        for control in ("Datei hochladen", "Einwohner", "Abrufen", "Löschen", "Wiederherstellen", "Protokoll"):
            assert control not in body, control
        assert page.locator('[data-testid="stFileUploaderDropzoneInput"]').count() == 0
        assert "Standorte berechnen" not in texts["standortplanung"]
        # the accommodation is on the map, as counts
        assert "Rasterzelle" in texts["websocket (Karte …)"] and "zusammengefasst" in texts["websocket (Karte …)"]
        # every download: the layer as CSV and GeoJSON, the council report on accommodation
        page.goto(f"{base}/bericht")
        page.get_by_role("button", name="Bericht erstellen").wait_for(timeout=60_000)
        wait_idle(page, 120_000)
        _choose(page, "Gebiet", "Städteregion Aachen")
        _choose(page, "Einrichtungsart", "Wohnprojekte")
        page.get_by_text("HTML (eine Datei").click()
        wait_idle(page)
        page.get_by_role("button", name="Bericht erstellen").click()
        report = page.get_by_role("button", name=re.compile(r"^HTML herunterladen"))
        report.wait_for(timeout=300_000)
        wait_idle(page, 120_000)
        texts["bericht.html"] = _download(page, report, tmp_path)
        _choose(page, "Inhalt", "Ebene: Wohnprojekte", "Wohnprojekte")
        for fmt, suffix in (("CSV für Excel", ".csv"), ("GeoJSON", ".geojson")):
            _choose(page, "Format", fmt, last=True)  # the export's format, below the report's
            # the button names its file: wait for this format's (a click before would fetch the previous one)
            button = page.get_by_role("button", name=re.compile(rf"{re.escape(suffix)} herunterladen$")).last
            button.wait_for(timeout=120_000)
            texts[f"export {fmt}"] = _download(page, button, tmp_path)
        page.screenshot(path=str(SCREENSHOTS / "server_rat_bericht.png"), full_page=True)
        texts["bericht"] = page.content()
        texts["websocket"] = received.text()
        outside = [u for u in requests.external() if not u.startswith(IDP_CDN)]  # answered in the browser
        assert not outside, outside
    assert "Rasterzelle" in texts["export CSV für Excel"]
    found = {where: leaks(text) for where, text in texts.items()}
    assert not any(found.values()), {k: v for k, v in found.items() if v}
    log = audit_frame(engine_for(db.owner_url))
    mine = log[log["Person"] == USERS["rat"]]
    assert "geschützte Ebene geöffnet" in set(mine["Aktion"]) and "exportiert" in set(mine["Aktion"])


def test_planung_imports_and_plans_admin_restores_and_all_is_in_the_audit_log(
    stack: tuple[ServerStack, ServerDb], browser: Any, tmp_path: Path
) -> None:
    running, db = stack
    kitas = tmp_path / "kitas.csv"
    kitas.write_text(
        "id;name;lat;lon\nk1;Kita Am Testpark;50.7712;6.0915\nk2;Kita Probeweg;50.7801;6.1042\n", encoding="utf-8"
    )
    with checked_page(browser, viewport={"width": 1400, "height": 1000}) as page:
        offline_idp(page.context)
        received = WebSocketLog().attach(page)
        base = running.replicas[1].url  # planung works on the other replica
        login(page, base, "planung")
        page.get_by_text("Datenquellen:").first.wait_for(timeout=180_000)
        wait_idle(page, 120_000)
        # the exact positions are there for planung: the leak detector finds them (it can fail)
        assert leaks(received.text()), "planung sieht die genauen Unterkünfte nicht – oder der Detektor versagt"
        page.goto(f"{base}/daten")
        page.get_by_text("Datei hochladen").first.wait_for()
        wait_idle(page)
        _choose(page, "Ebene", "Kitas")
        layer_file_input(page).set_input_files(str(kitas))
        wait_idle(page)
        page.get_by_text("Anhängen (zu den vorhandenen Daten)").first.click()  # no default since issue 20
        wait_idle(page)
        page.get_by_role("button", name="Importieren").click()
        page.get_by_text("Zeile(n) in »Kitas« gespeichert").wait_for(timeout=120_000)
        page.screenshot(path=str(SCREENSHOTS / "server_planung_import.png"), full_page=True)
        page.goto(f"{base}/standortplanung")
        page.get_by_role("button", name="Standorte berechnen").click()
        page.get_by_text("Berechnung abgeschlossen").wait_for(timeout=300_000)
        wait_idle(page, 120_000)
        page.get_by_label("Als Szenario speichern unter").fill("Plan für den Rat")
        page.get_by_role("button", name="Speichern").click()
        page.get_by_text("Szenario »Plan für den Rat« gespeichert").wait_for(timeout=60_000)
        page.screenshot(path=str(SCREENSHOTS / "server_planung_plan.png"), full_page=True)
    batch = next(b for b in PostgisStore(db.owner_url).batches("kita") if b.source_file == "kitas.csv")
    with checked_page(browser, viewport={"width": 1400, "height": 1000}) as page:
        offline_idp(page.context)
        base = running.replicas[0].url
        login(page, base, "admin")
        page.goto(f"{base}/daten")
        page.get_by_text("Importe verwalten").first.click()
        wait_idle(page)
        _choose(page, "Stapel", batch.batch_id)
        page.get_by_role("button", name="Löschen (wiederherstellbar)").click()
        page.get_by_role("button", name="Wiederherstellen").wait_for(timeout=60_000)
        wait_idle(page)
        page.get_by_role("button", name="Wiederherstellen").click()
        page.get_by_role("button", name="Löschen (wiederherstellbar)").wait_for(timeout=60_000)
        wait_idle(page)
        page.goto(f"{base}/protokoll")
        page.get_by_role("button", name=re.compile("Protokoll als CSV herunterladen")).wait_for(timeout=60_000)
        wait_idle(page)
        page.wait_for_timeout(1000)  # the table's canvas
        page.screenshot(path=str(SCREENSHOTS / "server_admin_protokoll.png"), full_page=True)
    assert PostgisStore(db.owner_url).layer_meta("kita") == batch
    log = audit_frame(engine_for(db.owner_url))
    done = set(zip(log["Person"], log["Aktion"], strict=True))
    for expected in [
        (USERS["planung"], "Import (hinzufügen)"),
        (USERS["planung"], "Szenario gespeichert"),
        (USERS["admin"], "gelöscht"),
        (USERS["admin"], "wiederhergestellt"),
    ]:
        assert expected in done, (expected, done)
    restore = log[(log["Aktion"] == "wiederhergestellt") & (log["Person"] == USERS["admin"])].iloc[-1]
    assert restore["Stapel"] == batch.batch_id and restore["Rolle"] == "admin"
    assert str(running.replicas[0].port) in restore["Anfrage"]  # which app process served the request


def test_login_attempts_are_rate_limited_per_client(stack: tuple[ServerStack, ServerDb]) -> None:
    import requests

    running, db = stack
    url = f"{running.replicas[1].url}/auth/login"
    limit = db.config.login_attempts

    def attempt(client: str) -> requests.Response:
        # the test talks to the replica from loopback, like a reverse proxy: the forwarded address counts
        return requests.get(url, headers={"X-Forwarded-For": client}, allow_redirects=False, timeout=30)

    codes = [attempt("203.0.113.7").status_code for _ in range(limit)]
    assert 429 not in codes, codes
    refused = attempt("203.0.113.7")
    assert refused.status_code == 429 and "Zu viele Anmeldeversuche" in refused.text
    assert 0 < int(refused.headers["Retry-After"]) <= db.config.login_window_s
    assert attempt("203.0.113.8").status_code != 429  # another client is not affected
