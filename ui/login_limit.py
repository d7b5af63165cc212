"""Rate limit of login attempts: an ASGI middleware for the app server (``streamlit run serve.py``).

Every request to Streamlit's login routes (``/auth/login``, ``/oauth2callback``)
counts as an attempt of its client address; more than ``login_attempts`` in
``login_window_s`` seconds (:class:`geo.access.ServerConfig`) get ``429`` with a
German page and ``Retry-After``. Behind a reverse proxy on the same machine
(the peer is a loopback address) the first ``X-Forwarded-For`` address counts.

The limit is per app process; passwords are checked by the identity provider,
whose own brute-force protection stays on (SECURITY.md).
"""

from __future__ import annotations

import html
import ipaddress
import math
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, Final

#: Paths of Streamlit's login flow.
LOGIN_PATHS: Final = ("/auth/login", "/oauth2callback")

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


class SlidingWindow:
    """At most ``limit`` events per key within ``window_s`` seconds.

    >>> w = SlidingWindow(limit=2, window_s=60)
    >>> [w.hit("1.2.3.4", now=t) for t in (0, 1, 2)], w.hit("5.6.7.8", now=2), w.hit("1.2.3.4", now=61)
    ([0.0, 0.0, 58.0], 0.0, 0.0)
    """

    def __init__(self, limit: int, window_s: float) -> None:
        self.limit, self.window_s = int(limit), float(window_s)
        self._events: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str, now: float | None = None) -> float:
        """Count one event of ``key``; 0 when allowed, else the seconds until the next one is."""
        now = time.monotonic() if now is None else now
        with self._lock:
            events = self._events.setdefault(key, deque())
            while events and events[0] <= now - self.window_s:
                events.popleft()
            if len(events) >= self.limit:
                return max(0.0, events[0] + self.window_s - now)
            events.append(now)
            if len(self._events) > 10_000:  # forget idle clients
                for k in [k for k, v in self._events.items() if not v or v[-1] <= now - self.window_s]:
                    del self._events[k]
            return 0.0


def client_address(scope: Scope) -> str:
    """The client of a request: the peer, or the first ``X-Forwarded-For`` address behind a local proxy."""
    peer = (scope.get("client") or ("unbekannt", 0))[0]
    try:
        local = ipaddress.ip_address(peer).is_loopback
    except ValueError:
        local = False
    if local:
        for name, value in scope.get("headers", []):
            if name.lower() == b"x-forwarded-for":
                return value.decode("latin-1").split(",")[0].strip() or peer
    return str(peer)


class LoginRateLimit:
    """ASGI middleware: refuse login attempts over the limit with 429 and a German page."""

    def __init__(self, app: Callable[[Scope, Receive, Send], Awaitable[None]], window: SlidingWindow | None = None):
        self.app = app
        self._window = window

    def _limits(self) -> SlidingWindow:
        if self._window is None:
            from ui.auth import server_config

            config = server_config()
            self._window = SlidingWindow(config.login_attempts, config.login_window_s)
        return self._window

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = str(scope.get("path", ""))
        if scope.get("type") != "http" or not path.endswith(LOGIN_PATHS):
            await self.app(scope, receive, send)
            return
        wait = self._limits().hit(client_address(scope))
        if not wait:
            await self.app(scope, receive, send)
            return
        seconds = math.ceil(wait)
        body = (
            "<!doctype html><html lang='de'><meta charset='utf-8'><title>Zu viele Anmeldeversuche</title>"
            "<h1>Zu viele Anmeldeversuche</h1><p>Von dieser Adresse kamen in kurzer Zeit zu viele "
            f"Anmeldeversuche. Bitte in {seconds} Sekunden erneut versuchen.</p>"
            f"<p><a href='{html.escape('/')}'>Zurück zum Integrationsatlas</a></p></html>"
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 429,
                "headers": [
                    (b"content-type", b"text/html; charset=utf-8"),
                    (b"retry-after", str(seconds).encode()),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
