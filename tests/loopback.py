"""A loopback HTTP server (127.0.0.1) for testing online sources offline.

Tests register routes (a path with a fixed body, or a handler that sees the
query) and point a source's base URL at :attr:`LoopbackServer.base_url`.
Every request is recorded so tests can check the query a source sent.

Use it from a test module with::

    pytest_plugins = ("loopback",)

    def test_x(loopback: LoopbackServer) -> None:
        loopback.route("/data.csv", b"a;b\\n1;2\\n", content_type="text/csv")
        url = loopback.url("/data.csv")

(PYTEST_DONT_REWRITE: the module holds no assertions, and test modules import
its helpers before pytest loads it as a plugin.)
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from geo.settings import Settings


@dataclass(frozen=True)
class Request:
    """One request the server received."""

    method: str
    path: str
    query: dict[str, list[str]]
    body: bytes


@dataclass(frozen=True)
class Response:
    """What a route answers."""

    body: bytes
    status: int = 200
    content_type: str = "application/octet-stream"
    headers: dict[str, str] = field(default_factory=dict)


Handler = Callable[[Request], Response]


class LoopbackServer:
    """A threaded HTTP server on 127.0.0.1 with programmable routes."""

    def __init__(self) -> None:
        self.routes: dict[str, Handler] = {}
        self.requests: list[Request] = []
        server = self

        class _Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                query = parse_qs(parts.query, keep_blank_values=True)
                if body and "form-urlencoded" in (self.headers.get("Content-Type") or ""):
                    query |= parse_qs(body.decode("utf-8"), keep_blank_values=True)
                req = Request(self.command, parts.path, query, body)
                server.requests.append(req)
                handler = server.routes.get(parts.path)
                resp = handler(req) if handler else Response(b"not found", 404, "text/plain")
                self.send_response(resp.status)
                self.send_header("Content-Type", resp.content_type)
                self.send_header("Content-Length", str(len(resp.body)))
                for key, value in resp.headers.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(resp.body)

            do_GET = _serve  # noqa: N815 - name required by BaseHTTPRequestHandler
            do_POST = _serve  # noqa: N815

            def log_message(self, format: str, *args: object) -> None:
                return

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>``."""
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def url(self, path: str) -> str:
        """Absolute URL of ``path`` on this server."""
        return self.base_url + path

    def route(
        self,
        path: str,
        body: bytes | str | Path | Handler,
        *,
        status: int = 200,
        content_type: str = "application/octet-stream",
    ) -> str:
        """Serve ``body`` (bytes, text, a file or a handler) at ``path``; return its URL."""
        if callable(body):
            self.routes[path] = body
        else:
            data = (
                body.read_bytes()
                if isinstance(body, Path)
                else (body.encode("utf-8") if isinstance(body, str) else body)
            )
            fixed = Response(data, status, content_type)
            self.routes[path] = lambda _req: fixed
        return self.url(path)

    def requests_to(self, path: str) -> list[Request]:
        """The recorded requests to ``path``."""
        return [r for r in self.requests if r.path == path]

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)


@pytest.fixture
def loopback() -> Iterator[LoopbackServer]:
    """A running :class:`LoopbackServer`, stopped after the test."""
    server = LoopbackServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def closed_port_url() -> str:
    """A 127.0.0.1 URL on which nothing listens (connection refused)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/nothing"


# --- a tiny synthetic NRW for fetch tests -------------------------------------------

#: Two synthetic Kreise sharing the border x = 310 000 m (EPSG:25832), 20 km × 20 km each.
SYNTHETIC_KREISE: tuple[tuple[str, str, tuple[float, float, float, float]], ...] = (
    ("05334", "Städteregion Test", (290_000.0, 5_620_000.0, 310_000.0, 5_640_000.0)),
    ("05358", "Kreis Test", (310_000.0, 5_620_000.0, 330_000.0, 5_640_000.0)),
)


def write_synthetic_boundaries(data_dir: Path) -> Path:
    """Write ``boundaries/nrw_verwaltungsgrenzen.gpkg`` with two box-shaped Kreise.

    Layers ``kreis`` (ags, name, bez, regbez, wsk), ``regbez`` and ``land`` in
    EPSG:25832, as the embedded file has them. Returns the file path.
    """
    import geopandas as gpd
    from shapely.geometry import box

    path = data_dir / "boundaries" / "nrw_verwaltungsgrenzen.gpkg"
    path.parent.mkdir(parents=True, exist_ok=True)
    kreise = gpd.GeoDataFrame(
        {
            "ags": [k[0] for k in SYNTHETIC_KREISE],
            "name": [k[1] for k in SYNTHETIC_KREISE],
            "bez": ["Kreis", "Kreis"],
            "regbez": ["053", "053"],
            "wsk": ["2009-10-21", "1975-01-01"],
        },
        geometry=[box(*k[2]) for k in SYNTHETIC_KREISE],
        crs="EPSG:25832",
    )
    outline = kreise.union_all()
    kreise.to_file(path, layer="kreis", engine="pyogrio")
    gpd.GeoDataFrame({"ags": ["053"], "name": ["Köln"]}, geometry=[outline], crs="EPSG:25832").to_file(
        path, layer="regbez", engine="pyogrio"
    )
    gpd.GeoDataFrame({"ags": ["05"], "name": ["Nordrhein-Westfalen"]}, geometry=[outline], crs="EPSG:25832").to_file(
        path, layer="land", engine="pyogrio"
    )
    return path


@pytest.fixture
def synthetic_settings(tmp_path: Path) -> Settings:
    """Settings whose embedded data is the synthetic two-Kreise NRW and whose store is empty."""
    data_dir = tmp_path / "data"
    write_synthetic_boundaries(data_dir)
    return replace(Settings().with_home(tmp_path / "home"), data_dir=data_dir)
