"""A server with login on 127.0.0.1 for tests and the load benchmark.

:class:`ServerStack` starts ``oidc-provider-mock`` as the identity provider
(users in the roles ``planung``, ``rat`` and ``admin``, claim ``groups``) and
``streamlit run serve.py`` replicas on free loopback ports, all sharing one
database that :mod:`server_support` set up for the roles. Each replica has its
own ``secrets.toml`` (the ``redirect_uri`` names its port) with the same
cookie secret, as replicas behind one reverse proxy would.

The mock provider's pages load a stylesheet from a CDN; :func:`offline_idp`
answers that request in the browser with an empty stylesheet, so nothing
leaves the machine and the console stays clean.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from browser_support import PROJECT_ROOT, free_port

#: The stylesheet host of the mock provider's pages, answered in the browser by :func:`offline_idp`.
IDP_CDN = "https://cdn.jsdelivr.net/"
#: Login subject and e-mail of the test user of each role.
USERS: dict[str, str] = {"planung": "planung@kreis.example", "rat": "rat@kreis.example", "admin": "admin@kreis.example"}


def _wait_http(url: str, process: subprocess.Popen[bytes], log: Path, timeout: float, expect: bytes = b"") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url}: process ended (exit {process.returncode}):\n{log.read_text(errors='replace')}")
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if expect in resp.read():
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {timeout} s:\n{log.read_text(errors='replace')}")


def _stop(process: subprocess.Popen[bytes] | None) -> None:
    if process is not None and process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


@dataclass
class Replica:
    """One ``streamlit run serve.py`` process."""

    port: int
    home: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log(self) -> str:
        path = self.home / "streamlit.log"
        return path.read_text(errors="replace") if path.exists() else ""


@dataclass
class ServerStack:
    """Identity provider and app replicas of one test (see module docs)."""

    root: Path
    role_urls: Mapping[str, str]
    replicas_n: int = 2
    settings: Mapping[str, Any] = field(default_factory=dict)
    idp_port: int = 0
    idp: subprocess.Popen[bytes] | None = None
    replicas: list[Replica] = field(default_factory=list)
    cookie_secret: str = field(default_factory=lambda: secrets.token_urlsafe(32))

    @property
    def idp_url(self) -> str:
        return f"http://127.0.0.1:{self.idp_port}"

    def start(self, timeout: float = 120.0) -> ServerStack:
        self.root.mkdir(parents=True, exist_ok=True)
        self.idp_port = free_port()
        claims = [json.dumps({"sub": sub, "email": sub, "name": sub, "groups": [role]}) for role, sub in USERS.items()]
        claims.append(json.dumps({"sub": "gast@kreis.example", "email": "gast@kreis.example", "groups": ["andere"]}))
        idp_log = self.root / "idp.log"
        self.idp = subprocess.Popen(
            [sys.executable, "-m", "oidc_provider_mock", "--host", "127.0.0.1", "--port", str(self.idp_port)]
            + [arg for c in claims for arg in ("--user-claims", c)],
            stdout=idp_log.open("wb"),
            stderr=subprocess.STDOUT,
        )
        _wait_http(f"{self.idp_url}/.well-known/openid-configuration", self.idp, idp_log, 60, b"issuer")
        for i in range(self.replicas_n):
            replica = Replica(free_port(), self.root / f"replica{i}")
            self._launch(replica)
            self.replicas.append(replica)
        for replica in self.replicas:
            assert replica.process is not None
            _wait_http(f"{replica.url}/_stcore/health", replica.process, replica.home / "streamlit.log", timeout, b"ok")
        return self

    def secrets_toml(self, port: int) -> str:
        """The ``secrets.toml`` of the replica on ``port``."""
        extra = "".join(f"{k} = {json.dumps(v)}\n" for k, v in self.settings.items())
        databases = "".join(f'{role} = "{url}"\n' for role, url in self.role_urls.items())
        return (
            "[auth]\n"
            f'redirect_uri = "http://127.0.0.1:{port}/oauth2callback"\n'
            f'cookie_secret = "{self.cookie_secret}"\n'
            'client_id = "integrationsatlas"\n'
            'client_secret = "test-geheimnis"\n'
            f'server_metadata_url = "{self.idp_url}/.well-known/openid-configuration"\n\n'
            f"[integrationsatlas]\n{extra}\n"
            f"[integrationsatlas.database]\n{databases}"
        )

    def _launch(self, replica: Replica) -> None:
        replica.home.mkdir(parents=True, exist_ok=True)
        secrets_file = replica.home / "secrets.toml"
        secrets_file.write_text(self.secrets_toml(replica.port), encoding="utf-8")
        env = {
            **{k: v for k, v in os.environ.items() if k != "INTEGRATIONSATLAS_DATABASE_URL"},
            "INTEGRATIONSATLAS_HOME": str(replica.home / "home"),
            "INTEGRATIONSATLAS_OFFLINE": "1",
            "AUTHLIB_INSECURE_TRANSPORT": "1",  # the mock provider speaks http on loopback
            "PYTHONPATH": os.pathsep.join(filter(None, [str(PROJECT_ROOT), os.environ.get("PYTHONPATH")])),
        }
        cmd = [sys.executable, "-m", "streamlit", "run", "serve.py", "--server.port", str(replica.port)]
        cmd += ["--server.address", "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false"]
        cmd += ["--server.fileWatcherType", "none", "--secrets.files", str(secrets_file)]
        log = (replica.home / "streamlit.log").open("wb")
        replica.process = subprocess.Popen(cmd, cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)

    def stop(self) -> None:
        for replica in self.replicas:
            _stop(replica.process)
        _stop(self.idp)


@contextmanager
def server_stack(root: Path, role_urls: Mapping[str, str], **settings: Any) -> Iterator[ServerStack]:
    """Context manager around :class:`ServerStack` (two replicas)."""
    stack = ServerStack(root, role_urls, settings=settings)
    try:
        yield stack.start()
    finally:
        stack.stop()


def offline_idp(context: Any) -> None:
    """Answer the mock provider's CDN stylesheet with an empty one (nothing leaves the machine)."""
    context.route(f"{IDP_CDN}**", lambda route: route.fulfill(body="", content_type="text/css"))


def login(page: Any, base_url: str, role: str, timeout_ms: float = 60_000) -> None:
    """Log in on ``base_url`` as the test user of ``role`` through the identity provider's form."""
    page.goto(base_url)
    page.get_by_role("button", name="Anmelden").click()
    page.wait_for_url("**/oauth2/authorize**")
    page.get_by_role("button", name=USERS[role], exact=True).click()
    page.wait_for_url(f"{base_url}/**")
    # the name is data: shown as text, with invisible joiners the app puts into it (no e-mail autolink)
    name = "[\u2060\u2068\u2069]*".join(map(re.escape, USERS[role]))
    page.get_by_text(re.compile(f"Angemeldet: {name}")).wait_for(timeout=timeout_ms)


#: The file inputs of Streamlit's uploaders.
DROPZONE = '[data-testid="stFileUploaderDropzoneInput"]'


def layer_file_input(page: Any) -> Any:
    """The Daten page's uploader of a layer file, once the layer is chosen.

    The upload tab also holds the area-set uploader (issue 24), which is there before a layer is chosen: wait for
    both, the layer's comes first.
    """
    page.wait_for_function(f"document.querySelectorAll('{DROPZONE}').length >= 2", timeout=120_000)
    return page.locator(DROPZONE).first
