"""Pytest plugin: a database set up for a server with login (roles, grants, row-level security).

Use with ``pytest_plugins = ("store_backends", "server_support")``. Fixtures:

``server_db`` (function)
    A fresh database owned by the non-superuser ``atlas_owner`` in the
    throwaway cluster of :mod:`store_backends`, set up with
    :func:`geo.store.grants.set_up_server` for three database users
    ``atlas_planung``, ``atlas_rat`` and ``atlas_admin`` (trust login on
    127.0.0.1, no passwords): a :class:`ServerDb` with the owner's and every
    role's address.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from geo.access import ROLES, ServerConfig
from geo.settings import Settings

OWNER = "atlas_owner"
USERS = {r.id: f"atlas_{r.id}" for r in ROLES}


@dataclass(frozen=True)
class ServerDb:
    """A set-up database: the owner's address and each role's."""

    name: str
    owner_url: str
    urls: dict[str, str]
    config: ServerConfig

    def url(self, role_id: str) -> str:
        return self.urls[role_id]


@pytest.fixture(scope="session")
def server_roles(postgres_cluster: Any) -> dict[str, str]:
    """The owner and the three role users in the cluster (created once per session)."""
    cluster = postgres_cluster
    for user in (OWNER, *USERS.values()):
        cluster.psql(
            "postgres",
            f"DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{user}') "
            f"THEN CREATE ROLE {user} LOGIN; END IF; END $$",
        )
    return USERS


def server_config(urls: dict[str, str], **kwargs: object) -> ServerConfig:
    """The server settings of a test: the role addresses, otherwise defaults."""
    return ServerConfig.from_mapping({"database": urls, **kwargs})


@contextmanager
def server_db_context(cluster: Any, roles: dict[str, str], tmp_path: Path) -> Iterator[ServerDb]:
    """A fresh database owned by ``atlas_owner``, set up for the three roles (dropped afterwards)."""
    from geo.store.postgis import dispose_engines
    from geo.store.server_setup import set_up_server

    name = f"atlas_srv_{secrets.token_hex(4)}"
    cluster.psql("postgres", f"CREATE DATABASE {name} OWNER {OWNER} TEMPLATE atlas_template")
    base = cluster.url(name)
    owner_url = base.replace("postgres@", f"{OWNER}@")
    urls = {rid: base.replace("postgres@", f"{user}@") for rid, user in roles.items()}
    config = server_config(urls)
    try:
        set_up_server(owner_url, config, Settings().with_home(tmp_path / "owner-home"))
        yield ServerDb(name, owner_url, urls, config)
    finally:
        dispose_engines()
        cluster.psql("postgres", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def server_db(postgres_cluster: Any, server_roles: dict[str, str], tmp_path: Path) -> Iterator[ServerDb]:
    """A fresh database owned by ``atlas_owner``, set up for the three roles."""
    with server_db_context(postgres_cluster, server_roles, tmp_path) as db:
        yield db


def kita_batch(db: ServerDb) -> str:
    """One small synthetic Kita batch written as ``planung``; its batch id."""
    import geopandas as gpd

    from geo.store.postgis import PostgisStore

    frame = gpd.GeoDataFrame(
        {"id": ["k1", "k2"], "name": ["Kita Mitte", "Kita Sonnenschein"]},
        geometry=gpd.points_from_xy([294_000.0, 295_100.0], [5_628_000.0, 5_628_500.0]),
        crs="EPSG:25832",
    )
    info = PostgisStore(db.url("planung")).write_layer(
        "kita", frame, mode="append", source_file="kitas.csv", source="import", licence="CC0"
    )
    return info.batch_id
