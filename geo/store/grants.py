"""What a database user may do on a server with login: protected layers, permission checks, refusals.

The grants themselves are written by :func:`geo.store.server_setup.set_up_server`.

:func:`protected_layer` is what :meth:`geo.store.postgis.PostgisStore.read_layer`
asks first: for a sensitive layer and a database user without exact access it
returns the aggregate computed in the database, else ``None``.
"""

from __future__ import annotations

import logging
from typing import Final

import geopandas as gpd
from sqlalchemy import Connection, Engine, text
from sqlalchemy import exc as sa_exc

from geo.access import AccessDeniedError, Permission
from geo.errors import DataError
from geo.layers.registry import REGISTRY, LayerRegistry
from geo.privacy import AGGREGATE_COLUMNS, aggregate_frame
from geo.store import audit

logger = logging.getLogger(__name__)

#: SQLSTATE of "insufficient privilege" (grants or row-level security).
_DENIED: Final = "42501"


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
