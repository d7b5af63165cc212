"""Set up the database of a server with login, and read the protected layers for a role.

:func:`set_up_server` is run once (and after every update) by the owner of the
tables (``integrationsatlas server setup``): it brings the schema up to date,
records which database user has which app role and permissions
(``atlas_role_access``), grants each of them exactly the privileges of its
role's permissions (:mod:`geo.access`), registers every sensitive layer with the
privacy rule (``atlas_privacy``), loads the Gemeinde label points and sets the
audit retention. It is idempotent.

:func:`protected_layer` is what :meth:`geo.store.postgis.PostgisStore.read_layer`
asks first: for a sensitive layer and a database user without exact access it
returns the aggregate computed in the database, else ``None``.
"""

from __future__ import annotations

import logging
from typing import Final

import geopandas as gpd
import shapely
from sqlalchemy import Connection, Engine, text
from sqlalchemy import exc as sa_exc

from geo.access import PERMISSIONS, ROLES, AccessDeniedError, Permission, ServerConfig
from geo.errors import DataError
from geo.layers.registry import REGISTRY, LayerRegistry
from geo.privacy import AGGREGATE_COLUMNS, aggregate_frame
from geo.settings import Settings
from geo.store import audit

logger = logging.getLogger(__name__)

#: SQLSTATE of "insufficient privilege" (grants or row-level security).
_DENIED: Final = "42501"


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
    from geo.store.postgis import engine_for  # the schema is migrated on connect
    from geo.units import load_boundaries

    users = config.database_users()
    if len(set(users.values())) != len(users):
        raise DataError("Jede Rolle braucht einen eigenen Datenbankbenutzer ([integrationsatlas.database]).")
    engine = engine_for(owner_url)
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
            text(f"INSERT INTO atlas_gemeinden (ags, name, label) VALUES (:a, :n, ST_GeomFromWKB(:g, {25832}))"),
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


def protected_layer(engine: Engine, layer_id: str, registry: LayerRegistry = REGISTRY) -> gpd.GeoDataFrame | None:
    """The aggregate of sensitive layer ``layer_id`` for a database user without exact access, else ``None``.

    ``None`` means: read the exact rows (the layer is not sensitive, or this
    user may see it exactly). Outside the app (CLI, scripts) the read of a
    sensitive layer is recorded in the audit log.

    Raises
    ------
    DataError
        If the layer is declared sensitive but the database does not know it
        yet (``integrationsatlas server setup`` not run): nothing is read.
    """
    spec = registry.get(layer_id) if layer_id in registry else None
    if spec is None or not spec.sensitive:
        return None
    with engine.connect() as con:
        exact, known, bypass = con.execute(
            text(
                "SELECT atlas_exact_visible(:l), EXISTS (SELECT 1 FROM atlas_privacy WHERE layer_id = :l), "
                "atlas_bypasses_rls()"
            ),
            {"l": layer_id},
        ).one()
        if not known and not bypass:
            raise DataError(
                f"Die geschützte Ebene »{spec.title}« ist in der Datenbank nicht eingetragen. Der Administrator muss "
                "»integrationsatlas server setup« ausführen (README, Abschnitt Server)."
            )
        rows = [] if exact else con.execute(text("SELECT * FROM atlas_sensitive_aggregate(:l)"), {"l": layer_id}).all()
    if not audit.in_app_session():
        audit.record(engine, "open", layer_id=layer_id, detail={"exakt": bool(exact)})
    if exact:
        return None
    frame = aggregate_frame(
        [tuple(r)[: len(AGGREGATE_COLUMNS)] for r in rows], spec.column_names, spec.capacity_column, spec.title
    )
    frame["batch_id"] = "zusammengefasst"
    return frame


def require(engine_or_con: Engine | Connection, permission: Permission, action: str) -> None:
    """Refuse ``action`` (German) unless this database user has ``permission`` or bypasses row-level security.

    The database enforces the permission anyway; this gives the clear message first.
    """
    sql = text("SELECT atlas_may(:p) OR atlas_bypasses_rls()")
    if isinstance(engine_or_con, Engine):
        with engine_or_con.connect() as con:
            allowed = con.execute(sql, {"p": permission.id}).scalar_one()
    else:
        allowed = engine_or_con.execute(sql, {"p": permission.id}).scalar_one()
    if not allowed:
        raise AccessDeniedError(f"Ihre Rolle darf das nicht: {action}. Berechtigung »{permission.title}« fehlt.")


def denied(exc: BaseException) -> AccessDeniedError | None:
    """The German error for a database refusal (missing grant, row-level security), else ``None``.

    >>> denied(ValueError("x")) is None
    True
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        orig = current.orig if isinstance(current, sa_exc.DBAPIError) else current
        if getattr(orig, "sqlstate", None) == _DENIED:
            return AccessDeniedError(
                "Die Datenbank hat das abgelehnt: Ihre Rolle hat dafür keine Berechtigung "
                f"({str(orig).splitlines()[0]}). Bei Bedarf die Verwaltung um eine andere Rolle bitten."
            )
        current = current.__cause__ or current.__context__
    return None
