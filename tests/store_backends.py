"""Pytest plugin: the data store on both backends (GeoPackage and a throwaway PostgreSQL/PostGIS).

Use with ``pytest_plugins = ("store_backends",)``. Fixtures:

``postgres_cluster`` (session)
    A PostgreSQL 15 cluster from Debian's binaries in a temporary folder,
    listening on 127.0.0.1 at a free port, with a template database that has
    the PostGIS extension; stopped and removed after the session. Skips with a
    reason when ``postgresql-15``/``postgresql-15-postgis-3`` are not installed.
``database_url``
    A fresh, empty database (from the template) for one test; dropped afterwards.
``pg_home``
    The app's environment variables on a fresh database (``INTEGRATIONSATLAS_DATABASE_URL``, an empty home).
``backend`` / ``backend_settings``
    Parametrised over ``geopackage`` and ``postgis``: settings whose store is
    a GeoPackage in ``tmp_path`` or a fresh database.
"""

from __future__ import annotations

import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from geo.settings import Settings

PG_BIN = Path(os.environ.get("INTEGRATIONSATLAS_PG_BIN", "/usr/lib/postgresql/15/bin"))
POSTGIS_CONTROL = Path("/usr/share/postgresql/15/extension/postgis.control")
TEMPLATE = "atlas_template"
BACKENDS = ("geopackage", "postgis")


@dataclass(frozen=True)
class Cluster:
    """A running throwaway PostgreSQL cluster."""

    port: int
    datadir: Path
    options: str = ""
    prefix: tuple[str, ...] = ()
    log: Path | None = None

    def stop(self) -> None:
        """Stop the server now (``fast``: open connections are cut), as an outage would."""
        subprocess.run(
            [*self.prefix, str(PG_BIN / "pg_ctl"), "-D", str(self.datadir), "-m", "fast", "-w", "stop"],
            check=True,
            capture_output=True,
            timeout=60,
        )

    def running(self) -> bool:
        """Whether the server is running (``pg_ctl status``)."""
        status = [*self.prefix, str(PG_BIN / "pg_ctl"), "-D", str(self.datadir), "status"]
        return subprocess.run(status, capture_output=True, timeout=30, check=False).returncode == 0

    def start(self) -> None:
        """Start the stopped server again (same port and data)."""
        log = ["-l", str(self.log)] if self.log else []
        subprocess.run(
            [*self.prefix, str(PG_BIN / "pg_ctl"), "-D", str(self.datadir), *log, "-o", self.options, "-w", "start"],
            check=True,
            capture_output=True,
            timeout=120,
        )

    def url(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def psql(self, database: str, sql: str) -> None:
        """Run one statement as superuser (outside a transaction: CREATE/DROP DATABASE)."""
        import psycopg

        with psycopg.connect(self.url(database), autocommit=True) as con:
            con.execute(sql)  # type: ignore[arg-type]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _missing() -> str | None:
    if not (PG_BIN / "initdb").exists() or not (PG_BIN / "pg_ctl").exists():
        return f"PostgreSQL 15 fehlt ({PG_BIN}/initdb): 'apt-get install postgresql-15 postgresql-15-postgis-3'"
    if not POSTGIS_CONTROL.exists():
        return "PostGIS fehlt: 'apt-get install postgresql-15-postgis-3'"
    return None


def _as_user() -> tuple[list[str], int | None, int | None]:
    """Command prefix and uid/gid to run the server as (PostgreSQL refuses to run as root)."""
    if os.geteuid() != 0:
        return [], None, None
    user = pwd.getpwnam("postgres")
    return ["runuser", "-u", "postgres", "--"], user.pw_uid, user.pw_gid


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[Cluster]:
    """Start a PostgreSQL/PostGIS cluster for this test session (see module docstring)."""
    reason = _missing()
    if reason:
        pytest.skip(reason)
    prefix, uid, gid = _as_user()
    root = Path(tempfile.mkdtemp(prefix="atlas-pg-"))
    if uid is not None:
        os.chown(root, uid, gid or 0)
    datadir = root / "data"
    log = root / "server.log"
    port = _free_port()
    run = {"check": True, "capture_output": True, "text": True, "timeout": 120}
    try:
        subprocess.run(
            [
                *prefix,
                str(PG_BIN / "initdb"),
                "-D",
                str(datadir),
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
            ],
            **run,
        )  # type: ignore[call-overload]
        options = (
            f"-p {port} -c listen_addresses=127.0.0.1 -k {root} -c fsync=off -c synchronous_commit=off "
            "-c full_page_writes=off -c max_connections=200"
        )
        subprocess.run(
            [
                *prefix,
                str(PG_BIN / "pg_ctl"),
                "-D",
                str(datadir),
                "-l",
                str(log),
                "-o",
                options,
                "-w",
                "-t",
                "60",
                "start",
            ],
            **run,
        )  # type: ignore[call-overload]
    except subprocess.CalledProcessError as exc:
        shutil.rmtree(root, ignore_errors=True)
        raise RuntimeError(f"PostgreSQL-Testcluster startet nicht: {exc.stderr}") from exc
    cluster = Cluster(port=port, datadir=datadir, options=options, prefix=tuple(prefix), log=log)
    try:
        cluster.psql("postgres", f"CREATE DATABASE {TEMPLATE}")
        cluster.psql(TEMPLATE, "CREATE EXTENSION postgis")
        yield cluster
    finally:
        from geo.store.postgis import dispose_engines

        dispose_engines()
        subprocess.run(
            [*prefix, str(PG_BIN / "pg_ctl"), "-D", str(datadir), "-m", "immediate", "-w", "stop"],
            capture_output=True,
            timeout=60,
            check=False,
        )
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def database_url(postgres_cluster: Cluster) -> Iterator[str]:
    """A fresh PostGIS database for one test (dropped afterwards)."""
    name = f"atlas_{secrets.token_hex(4)}"
    postgres_cluster.psql("postgres", f"CREATE DATABASE {name} TEMPLATE {TEMPLATE}")
    try:
        yield postgres_cluster.url(name)
    finally:
        from geo.store.postgis import dispose_engines

        dispose_engines()
        postgres_cluster.psql("postgres", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def pg_home(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The app's environment on a fresh PostGIS database; the local home stays empty (and must stay unused)."""
    monkeypatch.setenv("INTEGRATIONSATLAS_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("INTEGRATIONSATLAS_OFFLINE", "1")
    monkeypatch.setenv("INTEGRATIONSATLAS_DATABASE_URL", database_url)
    settings = Settings.from_env()
    assert settings.database_url == database_url
    return settings


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """The store backend under test."""
    return str(request.param)


@pytest.fixture
def backend_settings(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Settings:
    """Settings whose data store is a fresh GeoPackage or a fresh PostGIS database."""
    settings = Settings().with_home(tmp_path / "home")
    if backend == "postgis":
        settings = replace(settings, database_url=request.getfixturevalue("database_url"))
    return settings
