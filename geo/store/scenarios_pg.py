"""Saved scenarios in PostgreSQL/PostGIS: the database side of :mod:`geo.store.scenarios`.

The public functions (``save_scenario``, ``load_scenario`` ...) stay in
:mod:`geo.store.scenarios` and call these when ``Settings.database_url`` is
set. Tables ``atlas_scenarios`` and ``atlas_scenario_sites`` are created by
the migrations in :mod:`geo.store.postgis`; the sites' points are PostGIS
geometries in EPSG:25832.

Every save is one transaction. A new name is inserted and the primary key
refuses a second writer of the same name; an overwrite locks the row
(``SELECT … FOR UPDATE``), checks its ``version`` and increments it.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import Connection, text
from sqlalchemy import exc as sa_exc

from geo.errors import DataError
from geo.store.conflicts import concurrent_change, exists_error
from geo.store.postgis import SRID, engine_for, retry_reads

logger = logging.getLogger(__name__)

_SITE_KEYS = (
    "scenario",
    "seq",
    "candidate_id",
    "source",
    "name",
    "gemeinde_ags",
    "kreis_ags",
    "fixed",
    "sel_order",
    "marginal_gain",
    "wkb",
)


def _insert_sites(con: Connection, rows: list[tuple[Any, ...]]) -> None:
    """Insert the site rows (a separate step so tests can interrupt a save here)."""
    if not rows:
        return
    params = [dict(zip(_SITE_KEYS, r, strict=True)) for r in rows]
    for p in params:
        p["fixed"] = bool(p["fixed"])
    con.execute(
        text(
            "INSERT INTO atlas_scenario_sites (scenario, seq, candidate_id, source, name, gemeinde_ags, kreis_ags, "
            "fixed, sel_order, marginal_gain, geom) VALUES (:scenario, :seq, :candidate_id, :source, :name, "
            f":gemeinde_ags, :kreis_ags, :fixed, :sel_order, :marginal_gain, ST_GeomFromWKB(:wkb, {SRID}))"
        ),
        params,
    )


def save(url: str, header: dict[str, Any], rows: list[tuple[Any, ...]], *, loaded_version: int, overwrite: bool) -> int:
    """Store a validated scenario; return the new version.

    Parameters
    ----------
    url
        The database.
    header
        Columns of the scenario row: ``name`` (stripped), ``created_at``, ``area_ags``, ``model``,
        ``n_sites``, ``schema_version``, ``payload``.
    rows
        Site rows as built by :mod:`geo.store.scenarios`.
    loaded_version
        ``Scenario.version`` (0: not loaded; no version check).
    overwrite
        Whether an existing scenario of that name may be replaced.

    Raises
    ------
    DataError
        Existing name without ``overwrite``; a concurrent change of a loaded scenario.

    Notes
    -----
    Site points are stored in EPSG:25832 (metres).
    """
    name = header["name"]
    try:
        with engine_for(url).begin() as con:
            stored = (
                con.execute(text("SELECT version FROM atlas_scenarios WHERE name = :n FOR UPDATE"), {"n": name}).first()
                if overwrite
                else None
            )
            if stored is not None:
                if loaded_version and stored[0] != loaded_version:
                    raise concurrent_change(name, loaded_version, int(stored[0]))
                version = int(stored[0]) + 1
                con.execute(text("DELETE FROM atlas_scenario_sites WHERE scenario = :n"), {"n": name})
                con.execute(
                    text(
                        "UPDATE atlas_scenarios SET created_at = :created_at, area_ags = :area_ags, model = :model, "
                        "n_sites = :n_sites, schema_version = :schema_version, payload = :payload, version = :version "
                        "WHERE name = :name"
                    ),
                    {**header, "version": version},
                )
            else:
                version = 1
                con.execute(
                    text(
                        "INSERT INTO atlas_scenarios (name, created_at, area_ags, model, n_sites, schema_version, "
                        "payload, version) VALUES (:name, :created_at, :area_ags, :model, :n_sites, :schema_version, "
                        ":payload, 1)"
                    ),
                    header,
                )
            _insert_sites(con, rows)
    except sa_exc.IntegrityError as exc:
        if not overwrite:
            raise exists_error(name) from exc
        raise DataError(
            f"Szenario »{name}« wurde gerade gleichzeitig von jemand anderem angelegt. Bitte neu laden und "
            "erneut speichern."
        ) from exc
    logger.info("Szenario %s gespeichert (%d Standorte, Version %d, PostGIS)", name, len(rows), version)
    return version


@retry_reads
def load_rows(url: str, name: str) -> tuple[tuple[Any, ...] | None, list[tuple[Any, ...]]]:
    """Header row and site rows of scenario ``name`` from one snapshot (``None``, [] if absent)."""
    engine = engine_for(url)
    with engine.connect().execution_options(isolation_level="REPEATABLE READ") as con, con.begin():
        row = con.execute(
            text(
                "SELECT name, created_at, area_ags, model, n_sites, payload, version FROM atlas_scenarios "
                "WHERE name = :n"
            ),
            {"n": name},
        ).first()
        if row is None:
            return None, []
        sites = con.execute(
            text(
                "SELECT candidate_id, source, name, gemeinde_ags, kreis_ags, fixed, sel_order, marginal_gain, "
                "ST_AsBinary(geom) FROM atlas_scenario_sites WHERE scenario = :n ORDER BY seq"
            ),
            {"n": name},
        ).all()
    return tuple(row), [tuple(r) for r in sites]


@retry_reads
def list_rows(url: str) -> list[tuple[Any, ...]]:
    """``(name, created_at, area_ags, model, n_sites, payload, n_fixed)`` of every scenario, newest first."""
    with engine_for(url).connect() as con:
        rows = con.execute(
            text(
                "SELECT s.name, s.created_at, s.area_ags, s.model, s.n_sites, s.payload, "
                "(SELECT count(*) FROM atlas_scenario_sites t WHERE t.scenario = s.name AND t.fixed) "
                "FROM atlas_scenarios s ORDER BY s.created_at DESC, s.name"
            )
        ).all()
    return [tuple(r) for r in rows]


def delete(url: str, name: str) -> bool:
    """Delete scenario ``name`` and its sites (cascade) in one transaction; whether it existed."""
    with engine_for(url).begin() as con:
        return bool(con.execute(text("DELETE FROM atlas_scenarios WHERE name = :n"), {"n": name}).rowcount)
