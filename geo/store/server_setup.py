"""Set up the database of a server with login (``integrationsatlas server setup``).

:func:`set_up_server` is run by the owner of the tables once and after every
update: it brings the schema up to date, records which database user has
which app role and permissions (``atlas_role_access``), grants each of them
exactly the privileges of its role's permissions (:mod:`geo.access`),
registers every sensitive layer with the privacy rule (``atlas_privacy``),
loads the Gemeinde label points and sets the audit retention. It is idempotent.
"""

from __future__ import annotations

import logging

import shapely
from sqlalchemy import Connection, text

from geo.access import PERMISSIONS, ROLES, ServerConfig
from geo.errors import DataError
from geo.layers.registry import REGISTRY, LayerRegistry
from geo.settings import Settings
from geo.store.postgis import SRID, engine_for
from geo.units import load_boundaries

logger = logging.getLogger(__name__)


def set_up_server(owner_url: str, config: ServerConfig, settings: Settings, registry: LayerRegistry = REGISTRY) -> None:
    """Prepare the database for the roles of ``config`` (idempotent).

    Parameters
    ----------
    owner_url
        Address of the owner of the tables (the user that created them).
    config
        The server settings: each role's database address (the user names
        are taken from there), privacy rule, audit retention.
    settings
        For the Gemeinde boundaries (embedded, or a newer stored vintage).
    registry
        The layer declarations (sensitive layers).

    Raises
    ------
    DataError
        If a role's database user does not exist (create it first, README),
        or two roles share one database user.
    """
    users = config.database_users()
    if len(set(users.values())) != len(users):
        raise DataError("Jede Rolle braucht einen eigenen Datenbankbenutzer ([integrationsatlas.database]).")
    engine = engine_for(owner_url)  # brings the schema up to date
    gemeinden = load_boundaries("gemeinde", settings)
    labels = shapely.to_wkb(gemeinden.geometry.representative_point().to_numpy())
    with engine.begin() as con:
        existing = set(con.execute(text("SELECT rolname FROM pg_roles")).scalars())
        missing = sorted(u for u in users.values() if u not in existing)
        if missing:
            raise DataError(
                f"Datenbankbenutzer fehlen: {', '.join(missing)}. Als PostgreSQL-Administrator anlegen, z. B. "
                f"»createuser --pwprompt {missing[0]}« (README, Abschnitt Server)."
            )
        con.execute(text("DELETE FROM atlas_role_access"))
        for role in ROLES:
            user = users.get(role.id)
            if user is None:
                continue
            con.execute(
                text("INSERT INTO atlas_role_access (db_role, app_role, permissions) VALUES (:u, :r, :p)"),
                {"u": user, "r": role.id, "p": list(role.permission_ids)},
            )
            quoted = _ident(con, user)
            con.execute(text(f"GRANT CONNECT ON DATABASE {_ident(con, _database(con))} TO {quoted}"))
            con.execute(text(f"GRANT USAGE ON SCHEMA public TO {quoted}"))
            for permission in PERMISSIONS:  # revoke first: a role may have lost a permission
                for grant in permission.grants:
                    con.execute(text(f"REVOKE {_all(grant.privileges)} ON {grant.target} FROM {quoted}"))
            for grant in role.grants:
                con.execute(text(f"GRANT {grant.privileges} ON {grant.target} TO {quoted}"))
        con.execute(text("DELETE FROM atlas_privacy"))
        for spec in registry:
            if spec.sensitive:
                con.execute(
                    text("INSERT INTO atlas_privacy (layer_id, cell_m, k, capacity_column) VALUES (:l, :c, :k, :cap)"),
                    {"l": spec.id, "c": config.privacy.cell_m, "k": config.privacy.k, "cap": spec.capacity_column},
                )
        con.execute(text("DELETE FROM atlas_gemeinden"))
        con.execute(
            text(f"INSERT INTO atlas_gemeinden (ags, name, label) VALUES (:a, :n, ST_GeomFromWKB(:g, {SRID}))"),
            [
                {"a": str(a), "n": str(n), "g": g}
                for a, n, g in zip(gemeinden["ags"], gemeinden["name"], labels, strict=True)
            ],
        )
        con.execute(
            text("UPDATE atlas_settings SET value = :v WHERE key = 'audit_retention_days'"),
            {"v": str(config.audit_retention_days)},
        )
    logger.info("server set up: roles %s, %d sensitive layers", users, sum(s.sensitive for s in registry))


def _ident(con: Connection, name: str) -> str:
    return str(con.execute(text("SELECT quote_ident(:n)"), {"n": name}).scalar_one())


def _database(con: Connection) -> str:
    return str(con.execute(text("SELECT current_database()")).scalar_one())


def _all(privileges: str) -> str:
    """``UPDATE (active)`` is revoked as ``UPDATE`` (a column grant is part of the table privilege)."""
    return privileges.split("(")[0].strip()
